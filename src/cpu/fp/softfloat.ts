// Arm floating-point semantics, transcribed from the Arm ARM pseudocode
// (shared/functions/float: FPUnpack, FPRound, FPProcessNaN(s), FPAdd, FPMul,
// FPMulAdd, FPDiv, FPSqrt, FPMin/Max(Num), FPCompare, FPConvert, FPToFixed,
// FixedToFP, FPRoundInt, FPRecipEstimate, FPRSqrtEstimate, FPRecipStepFused,
// FPRSqrtStepFused, FPRecpX, FPMulX).
//
// This is the *reference* and *slow path* of armvirt's FP: every scalar and
// vector FP operation can be computed here bit-exactly, with the FPSR
// cumulative flags the pseudocode raises. Values travel as bit patterns
// (bigint, N = 16/32/64 bits). Real numbers of the pseudocode are held
// exactly as `mant * 2^exp` with a bigint mantissa, which makes the fused
// multiply-add, all rounding modes, flush-to-zero and the underflow rule
// (tininess *before* rounding, flagged only when inexact) straightforward.
//
// BigInt is deliberate here and only here: translated code computes the
// common cases inline in WebAssembly (see a64/fp.ts: default FPCR, finite
// non-tiny results) and calls into this module only for NaNs, infinities,
// tiny/huge results, non-default FPCR modes and rare instructions.

/** FPSR cumulative exception bits (also the FPProcessException flag values). */
export const FPSR_IOC = 1 << 0;
export const FPSR_DZC = 1 << 1;
export const FPSR_OFC = 1 << 2;
export const FPSR_UFC = 1 << 3;
export const FPSR_IXC = 1 << 4;
export const FPSR_IDC = 1 << 7;
export const FPSR_QC = 1 << 27;
/** FPSR bits that exist on this CPU (N,Z,C,V,QC for AArch32 context, IDC, IXC..IOC). */
export const FPSR_MASK = 0xf800009f;

/** FPCR fields (ARMv8.0). Trap enables (IOE..IDE) are RAZ/WI as on Cortex-A57 (no trapping). */
export const FPCR_AHP = 1 << 26;
export const FPCR_DN = 1 << 25;
export const FPCR_FZ = 1 << 24;
export const FPCR_RMODE_SHIFT = 22;
/**
 * Writable FPCR bits: AHP, DN, FZ, RMode, plus Stride (21:20) and Len (18:16),
 * which do nothing in AArch64 but are kept for the AArch32 FPSCR context
 * (Cortex-A57 implements AArch32). QEMU -cpu cortex-a57 reads back 0x07f70000
 * after writing all ones; so do we.
 */
export const FPCR_MASK = 0x07f70000;

/** Rounding modes as FPCR.RMode encodes them, plus TIEAWAY (FCVTA*, FRINTA) and ODD (FCVTXN). */
export const enum Rounding { TieEven = 0, PosInf = 1, NegInf = 2, Zero = 3, TieAway = 4, Odd = 5 }

/** The FP environment of one operation: FPCR in, FPSR cumulative flags out. */
export class FpEnv {
  constructor(public fpcr = 0, public flags = 0) {}
  get rounding(): Rounding { return (this.fpcr >>> FPCR_RMODE_SHIFT) & 3; }
}

export const enum FPType { Zero, Nonzero, Infinity, QNaN, SNaN }

export type Width = 16 | 32 | 64;

interface Format { N: Width; E: number; F: number; minExp: number; bias: number }
const FORMATS: Record<Width, Format> = {
  16: { N: 16, E: 5, F: 10, minExp: -14, bias: 15 },
  32: { N: 32, E: 8, F: 23, minExp: -126, bias: 127 },
  64: { N: 64, E: 11, F: 52, minExp: -1022, bias: 1023 },
};

/** An unpacked operand: the real value is (-1)^sign * mant * 2^exp (mant = 0 for zero/inf/NaN). */
export interface Unpacked { type: FPType; sign: number; mant: bigint; exp: number }

const B1 = 1n;

function mask(bits: number): bigint { return (B1 << BigInt(bits)) - B1; }

function bitLength(x: bigint): number {
  // x > 0; toString(2) is adequate for the slow path and exact
  return x.toString(2).length;
}

// ---- constants (FPZero, FPInfinity, FPDefaultNaN, FPMaxNormal, FPTwo ...) ----

export function fpZero(N: Width, sign: number): bigint { return BigInt(sign) << BigInt(N - 1); }
export function fpInfinity(N: Width, sign: number): bigint {
  const f = FORMATS[N];
  return fpZero(N, sign) | (mask(f.E) << BigInt(f.F));
}
export function fpDefaultNaN(N: Width): bigint {
  const f = FORMATS[N];
  return (mask(f.E) << BigInt(f.F)) | (B1 << BigInt(f.F - 1));
}
export function fpMaxNormal(N: Width, sign: number): bigint {
  const f = FORMATS[N];
  return fpZero(N, sign) | ((mask(f.E) - B1) << BigInt(f.F)) | mask(f.F);
}
/** sign : exponent field : fraction field. */
function pack(N: Width, sign: number, biasedExp: number, frac: bigint): bigint {
  const f = FORMATS[N];
  return fpZero(N, sign) | (BigInt(biasedExp) << BigInt(f.F)) | frac;
}
/** A small positive constant 1.xxx * 2^e with `frac` as the top fraction bits (FPTwo, FPOnePointFive...). */
function fpConst(N: Width, sign: number, unbiasedExp: number, fracTopBits = 0n, fracTopWidth = 0): bigint {
  const f = FORMATS[N];
  return pack(N, sign, unbiasedExp + f.bias, fracTopBits << BigInt(f.F - fracTopWidth));
}
export function fpNeg(N: Width, op: bigint): bigint { return op ^ (B1 << BigInt(N - 1)); }
export function fpAbs(N: Width, op: bigint): bigint { return op & mask(N - 1); }

// ---- FPUnpack -----------------------------------------------------------------

/**
 * FPUnpack / FPUnpackCV. Denormal single/double inputs are flushed to zero
 * under FPCR.FZ (raising IDC); half precision is never flushed in ARMv8.0
 * (there is no FZ16) and with FPCR.AHP the all-ones exponent is a normal
 * number (alternative half precision), which only conversions use.
 */
export function fpUnpack(N: Width, op: bigint, env: FpEnv, ahpAware = false): Unpacked {
  const f = FORMATS[N];
  const sign = Number((op >> BigInt(N - 1)) & B1);
  const expField = Number((op >> BigInt(f.F)) & mask(f.E));
  const frac = op & mask(f.F);
  if (expField === 0) {
    if (frac === 0n) return { type: FPType.Zero, sign, mant: 0n, exp: 0 };
    if (N !== 16 && (env.fpcr & FPCR_FZ)) {
      env.flags |= FPSR_IDC;
      return { type: FPType.Zero, sign, mant: 0n, exp: 0 };
    }
    return { type: FPType.Nonzero, sign, mant: frac, exp: f.minExp - f.F };
  }
  const ahp = N === 16 && ahpAware && (env.fpcr & FPCR_AHP) !== 0;
  if (expField === Number(mask(f.E)) && !ahp) {
    if (frac === 0n) return { type: FPType.Infinity, sign, mant: 0n, exp: 0 };
    const quiet = (frac >> BigInt(f.F - 1)) & B1;
    return { type: quiet ? FPType.QNaN : FPType.SNaN, sign, mant: 0n, exp: 0 };
  }
  return { type: FPType.Nonzero, sign, mant: frac | (B1 << BigInt(f.F)), exp: expField - f.bias - f.F };
}

function isNaNType(t: FPType): boolean { return t === FPType.QNaN || t === FPType.SNaN; }

// ---- FPRound ------------------------------------------------------------------

/**
 * FPRound of the non-zero real (-1)^sign * mant * 2^exp. `mant` may carry a
 * sticky low bit standing for discarded non-zero bits (division, square
 * root) as long as it has at least F+3 significant bits.
 * `fz` false gives FPRoundCV behaviour for half precision (never flushed).
 */
export function fpRound(N: Width, sign: number, mant: bigint, exp: number, env: FpEnv, rounding: Rounding = env.rounding, fzAllowed = true): bigint {
  const f = FORMATS[N];
  const len = bitLength(mant);
  const exponent = exp + len - 1; // value = 1.xxx * 2^exponent
  if (fzAllowed && N !== 16 && (env.fpcr & FPCR_FZ) && exponent < f.minExp) {
    env.flags |= FPSR_UFC; // flush-to-zero: underflow, but not inexact
    return fpZero(N, sign);
  }
  let biasedExp = Math.max(exponent - f.minExp + 1, 0);
  // the weight of int_mant's unit bit
  const unit = (biasedExp === 0 ? f.minExp : exponent) - f.F;
  let intMant: bigint;
  // error relative to one unit: 0 = exact, 1 = below half, 2 = half, 3 = above half
  let errorClass = 0;
  if (exp >= unit) {
    intMant = mant << BigInt(exp - unit);
  } else {
    const s = BigInt(unit - exp);
    intMant = mant >> s;
    const rem = mant & ((B1 << s) - B1);
    const half = B1 << (s - B1);
    errorClass = rem === 0n ? 0 : rem < half ? 1 : rem === half ? 2 : 3;
  }
  if (biasedExp === 0 && errorClass !== 0) env.flags |= FPSR_UFC;
  let roundUp: boolean;
  let overflowToInf: boolean;
  switch (rounding) {
    case Rounding.TieEven:
      roundUp = errorClass === 3 || (errorClass === 2 && (intMant & B1) === B1);
      overflowToInf = true;
      break;
    case Rounding.PosInf:
      roundUp = errorClass !== 0 && sign === 0;
      overflowToInf = sign === 0;
      break;
    case Rounding.NegInf:
      roundUp = errorClass !== 0 && sign === 1;
      overflowToInf = sign === 1;
      break;
    case Rounding.TieAway: // FPRound is not called with TIEAWAY by the architecture except via FCVTA* paths that use ToFixed
      roundUp = errorClass >= 2;
      overflowToInf = true;
      break;
    default: // Zero, Odd
      roundUp = false;
      overflowToInf = false;
  }
  if (roundUp) {
    intMant++;
    if (intMant === B1 << BigInt(f.F)) biasedExp = 1; // denormal rounded up to normal
    if (intMant === B1 << BigInt(f.F + 1)) { biasedExp++; intMant >>= B1; }
  }
  if (errorClass !== 0 && rounding === Rounding.Odd) intMant |= B1;
  let inexact = errorClass !== 0;
  let result: bigint;
  if (N !== 16 || !(env.fpcr & FPCR_AHP)) {
    if (biasedExp >= (1 << f.E) - 1) {
      result = overflowToInf ? fpInfinity(N, sign) : fpMaxNormal(N, sign);
      env.flags |= FPSR_OFC;
      inexact = true;
    } else {
      result = pack(N, sign, biasedExp, intMant & mask(f.F));
    }
  } else {
    // alternative half precision: no infinities; overflow saturates and is Invalid Operation
    if (biasedExp >= 1 << f.E) {
      result = fpZero(N, sign) | mask(N - 1);
      env.flags |= FPSR_IOC;
      inexact = false;
    } else {
      result = pack(N, sign, biasedExp, intMant & mask(f.F));
    }
  }
  if (inexact) env.flags |= FPSR_IXC;
  return result;
}

/** Rounds an exact signed real given as a bigint mantissa (may be negative) times 2^exp; zero gives +0 or -0 per mode. */
function roundSigned(N: Width, m: bigint, exp: number, env: FpEnv, rounding = env.rounding): bigint {
  if (m === 0n) return fpZero(N, rounding === Rounding.NegInf ? 1 : 0);
  return m < 0n ? fpRound(N, 1, -m, exp, env, rounding) : fpRound(N, 0, m, exp, env, rounding);
}

// ---- NaN handling -------------------------------------------------------------

export function fpProcessNaN(N: Width, type: FPType, op: bigint, env: FpEnv): bigint {
  const f = FORMATS[N];
  let result = op;
  if (type === FPType.SNaN) {
    result |= B1 << BigInt(f.F - 1);
    env.flags |= FPSR_IOC;
  }
  if (env.fpcr & FPCR_DN) result = fpDefaultNaN(N);
  return result;
}

/** FPProcessNaNs / FPProcessNaNs3: first signalling NaN (quietened), else first quiet NaN. */
function processNaNs(N: Width, types: FPType[], ops: bigint[], env: FpEnv): bigint | undefined {
  for (let i = 0; i < types.length; i++) if (types[i] === FPType.SNaN) return fpProcessNaN(N, types[i], ops[i], env);
  for (let i = 0; i < types.length; i++) if (types[i] === FPType.QNaN) return fpProcessNaN(N, types[i], ops[i], env);
  return undefined;
}

function invalid(N: Width, env: FpEnv): bigint {
  env.flags |= FPSR_IOC;
  return fpDefaultNaN(N);
}

// ---- exact real helpers -------------------------------------------------------

/** Signed exact value of a finite unpacked operand as [mantissa, exp]. */
function signed(u: Unpacked): [bigint, number] {
  return [u.sign ? -u.mant : u.mant, u.exp];
}

function addExact(a: [bigint, number], b: [bigint, number]): [bigint, number] {
  if (a[0] === 0n) return b;
  if (b[0] === 0n) return a;
  const e = Math.min(a[1], b[1]);
  return [(a[0] << BigInt(a[1] - e)) + (b[0] << BigInt(b[1] - e)), e];
}

// ---- arithmetic ---------------------------------------------------------------

export function fpAdd(N: Width, op1: bigint, op2: bigint, env: FpEnv): bigint {
  const u1 = fpUnpack(N, op1, env), u2 = fpUnpack(N, op2, env);
  const nan = processNaNs(N, [u1.type, u2.type], [op1, op2], env);
  if (nan !== undefined) return nan;
  const inf1 = u1.type === FPType.Infinity, inf2 = u2.type === FPType.Infinity;
  const zero1 = u1.type === FPType.Zero, zero2 = u2.type === FPType.Zero;
  if (inf1 && inf2 && u1.sign !== u2.sign) return invalid(N, env);
  if ((inf1 && u1.sign === 0) || (inf2 && u2.sign === 0)) return fpInfinity(N, 0);
  if ((inf1 && u1.sign === 1) || (inf2 && u2.sign === 1)) return fpInfinity(N, 1);
  if (zero1 && zero2 && u1.sign === u2.sign) return fpZero(N, u1.sign);
  const [m, e] = addExact(signed(u1), signed(u2));
  return roundSigned(N, m, e, env);
}

export function fpSub(N: Width, op1: bigint, op2: bigint, env: FpEnv): bigint {
  // FPSub is FPAdd with op2's sign inverted, except that a NaN op2 propagates unchanged
  const u2 = fpUnpack(N, op2, env);
  if (isNaNType(u2.type)) {
    const u1 = fpUnpack(N, op1, env);
    return processNaNs(N, [u1.type, u2.type], [op1, op2], env)!;
  }
  const u1 = fpUnpack(N, op1, env);
  if (isNaNType(u1.type)) return processNaNs(N, [u1.type], [op1], env)!;
  return fpAdd(N, op1, fpNeg(N, op2), env);
}

function mulCore(N: Width, op1: bigint, op2: bigint, env: FpEnv, mulx: boolean): bigint {
  const u1 = fpUnpack(N, op1, env), u2 = fpUnpack(N, op2, env);
  const nan = processNaNs(N, [u1.type, u2.type], [op1, op2], env);
  if (nan !== undefined) return nan;
  const inf1 = u1.type === FPType.Infinity, inf2 = u2.type === FPType.Infinity;
  const zero1 = u1.type === FPType.Zero, zero2 = u2.type === FPType.Zero;
  const sign = u1.sign ^ u2.sign;
  if ((inf1 && zero2) || (zero1 && inf2)) return mulx ? fpConst(N, sign, 1) : invalid(N, env);
  if (inf1 || inf2) return fpInfinity(N, sign);
  if (zero1 || zero2) return fpZero(N, sign);
  return fpRound(N, sign, u1.mant * u2.mant, u1.exp + u2.exp, env);
}

export function fpMul(N: Width, op1: bigint, op2: bigint, env: FpEnv): bigint { return mulCore(N, op1, op2, env, false); }
/** FMULX: like FMUL but 0 * inf = 2 with the product's sign. */
export function fpMulX(N: Width, op1: bigint, op2: bigint, env: FpEnv): bigint { return mulCore(N, op1, op2, env, true); }

export function fpDiv(N: Width, op1: bigint, op2: bigint, env: FpEnv): bigint {
  const u1 = fpUnpack(N, op1, env), u2 = fpUnpack(N, op2, env);
  const nan = processNaNs(N, [u1.type, u2.type], [op1, op2], env);
  if (nan !== undefined) return nan;
  const inf1 = u1.type === FPType.Infinity, inf2 = u2.type === FPType.Infinity;
  const zero1 = u1.type === FPType.Zero, zero2 = u2.type === FPType.Zero;
  const sign = u1.sign ^ u2.sign;
  if ((inf1 && inf2) || (zero1 && zero2)) return invalid(N, env);
  if (inf1 || zero2) {
    if (!inf1) env.flags |= FPSR_DZC;
    return fpInfinity(N, sign);
  }
  if (zero1 || inf2) return fpZero(N, sign);
  // quotient with >= F+3 significant bits and a sticky bit for the remainder
  const f = FORMATS[N];
  const shift = f.F + 3 + bitLength(u2.mant) - bitLength(u1.mant) + 1;
  const s = Math.max(shift, 0);
  const num = u1.mant << BigInt(s);
  let q = num / u2.mant;
  const r = num % u2.mant;
  q = (q << B1) | (r !== 0n ? B1 : 0n);
  return fpRound(N, sign, q, u1.exp - u2.exp - s - 1, env);
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = B1 << BigInt(Math.ceil(bitLength(n) / 2));
  for (;;) {
    const y = (x + n / x) >> B1;
    if (y >= x) return x;
    x = y;
  }
}

export function fpSqrt(N: Width, op: bigint, env: FpEnv): bigint {
  const u = fpUnpack(N, op, env);
  if (isNaNType(u.type)) return fpProcessNaN(N, u.type, op, env);
  if (u.type === FPType.Zero) return fpZero(N, u.sign);
  if (u.type === FPType.Infinity && u.sign === 0) return fpInfinity(N, 0);
  if (u.sign === 1) return invalid(N, env);
  const f = FORMATS[N];
  // scale so the exponent is even and the root has >= F+3 bits
  let s = 2 * (f.F + 4) - bitLength(u.mant) + 2;
  if (s < 0) s = 0;
  if ((u.exp - s) & 1) s++;
  const n = u.mant << BigInt(s);
  let root = isqrt(n);
  const exact = root * root === n;
  root = (root << B1) | (exact ? 0n : B1);
  return fpRound(N, 0, root, (u.exp - s) / 2 - 1, env);
}

/**
 * FPMulAdd(addend, op1, op2): addend + op1*op2 with a single rounding.
 * NaN priority: addend first (FPProcessNaNs3), and a quiet-NaN addend with
 * an Invalid 0*inf product gives the default NaN and IOC.
 */
export function fpMulAdd(N: Width, addend: bigint, op1: bigint, op2: bigint, env: FpEnv): bigint {
  const ua = fpUnpack(N, addend, env), u1 = fpUnpack(N, op1, env), u2 = fpUnpack(N, op2, env);
  const inf1 = u1.type === FPType.Infinity, inf2 = u2.type === FPType.Infinity;
  const zero1 = u1.type === FPType.Zero, zero2 = u2.type === FPType.Zero;
  let result = processNaNs(N, [ua.type, u1.type, u2.type], [addend, op1, op2], env);
  if (ua.type === FPType.QNaN && ((inf1 && zero2) || (zero1 && inf2))) result = invalid(N, env);
  if (result !== undefined) return result;
  const infA = ua.type === FPType.Infinity, zeroA = ua.type === FPType.Zero;
  const signP = u1.sign ^ u2.sign;
  const infP = inf1 || inf2, zeroP = zero1 || zero2;
  if ((inf1 && zero2) || (zero1 && inf2) || (infA && infP && ua.sign !== signP)) return invalid(N, env);
  if ((infA && ua.sign === 0) || (infP && signP === 0)) return fpInfinity(N, 0);
  if ((infA && ua.sign === 1) || (infP && signP === 1)) return fpInfinity(N, 1);
  if (zeroA && zeroP && ua.sign === signP) return fpZero(N, ua.sign);
  const product: [bigint, number] = [signP ? -(u1.mant * u2.mant) : u1.mant * u2.mant, u1.exp + u2.exp];
  const [m, e] = addExact(signed(ua), product);
  return roundSigned(N, m, e, env);
}

/** FRECPS: 2 - op1*op2, fused (0*inf gives 2). */
export function fpRecipStepFused(N: Width, op1: bigint, op2: bigint, env: FpEnv): bigint {
  return stepFused(N, op1, op2, env, false);
}
/** FRSQRTS: (3 - op1*op2) / 2, fused (0*inf gives 1.5). */
export function fpRSqrtStepFused(N: Width, op1: bigint, op2: bigint, env: FpEnv): bigint {
  return stepFused(N, op1, op2, env, true);
}

function stepFused(N: Width, op1In: bigint, op2: bigint, env: FpEnv, rsqrt: boolean): bigint {
  const op1 = fpNeg(N, op1In);
  const u1 = fpUnpack(N, op1, env), u2 = fpUnpack(N, op2, env);
  const nan = processNaNs(N, [u1.type, u2.type], [op1, op2], env);
  if (nan !== undefined) return nan;
  const inf1 = u1.type === FPType.Infinity, inf2 = u2.type === FPType.Infinity;
  const zero1 = u1.type === FPType.Zero, zero2 = u2.type === FPType.Zero;
  if ((inf1 && zero2) || (zero1 && inf2)) return rsqrt ? fpConst(N, 0, 0, 1n, 1) : fpConst(N, 0, 1);
  if (inf1 || inf2) return fpInfinity(N, u1.sign ^ u2.sign);
  const sign = u1.sign ^ u2.sign;
  const prod: [bigint, number] = [sign ? -(u1.mant * u2.mant) : u1.mant * u2.mant, u1.exp + u2.exp];
  const [m, e] = addExact([rsqrt ? 3n : 2n, 0], prod);
  return roundSigned(N, m, rsqrt ? e - 1 : e, env);
}

// ---- min / max ----------------------------------------------------------------

function compareValues(a: Unpacked, b: Unpacked): number {
  // finite or infinite, non-NaN: returns sign of a - b
  const va = a.type === FPType.Infinity ? (a.sign ? -Infinity : Infinity) : 0;
  const vb = b.type === FPType.Infinity ? (b.sign ? -Infinity : Infinity) : 0;
  if (a.type === FPType.Infinity || b.type === FPType.Infinity) return va === vb ? 0 : va < vb ? -1 : 1;
  const [m, _e] = addExact(signed(a), [-(b.sign ? -b.mant : b.mant), b.exp]);
  return m === 0n ? 0 : m < 0n ? -1 : 1;
}

function minMax(N: Width, op1: bigint, op2: bigint, env: FpEnv, isMax: boolean): bigint {
  const u1 = fpUnpack(N, op1, env), u2 = fpUnpack(N, op2, env);
  const nan = processNaNs(N, [u1.type, u2.type], [op1, op2], env);
  if (nan !== undefined) return nan;
  const c = compareValues(u1, u2);
  const pick = (isMax ? c > 0 : c < 0) ? u1 : u2;
  if (pick.type === FPType.Infinity) return fpInfinity(N, pick.sign);
  if (pick.type === FPType.Zero) return fpZero(N, isMax ? u1.sign & u2.sign : u1.sign | u2.sign);
  return fpRound(N, pick.sign, pick.mant, pick.exp, env);
}

export function fpMax(N: Width, op1: bigint, op2: bigint, env: FpEnv): bigint { return minMax(N, op1, op2, env, true); }
export function fpMin(N: Width, op1: bigint, op2: bigint, env: FpEnv): bigint { return minMax(N, op1, op2, env, false); }

/** FMAXNM/FMINNM: a single quiet NaN loses against a number (treated as -inf / +inf). */
function minMaxNum(N: Width, op1: bigint, op2: bigint, env: FpEnv, isMax: boolean): bigint {
  const t1 = fpUnpack(N, op1, env).type, t2 = fpUnpack(N, op2, env).type;
  const replacement = fpInfinity(N, isMax ? 1 : 0);
  if (t1 === FPType.QNaN && t2 !== FPType.QNaN) op1 = replacement;
  else if (t1 !== FPType.QNaN && t2 === FPType.QNaN) op2 = replacement;
  return minMax(N, op1, op2, env, isMax);
}
export function fpMaxNum(N: Width, op1: bigint, op2: bigint, env: FpEnv): bigint { return minMaxNum(N, op1, op2, env, true); }
export function fpMinNum(N: Width, op1: bigint, op2: bigint, env: FpEnv): bigint { return minMaxNum(N, op1, op2, env, false); }

// ---- compare ------------------------------------------------------------------

/** FPCompare: NZCV as a 4-bit value (8 = less, 6 = equal, 2 = greater, 3 = unordered). */
export function fpCompare(N: Width, op1: bigint, op2: bigint, signalNaNs: boolean, env: FpEnv): number {
  const u1 = fpUnpack(N, op1, env), u2 = fpUnpack(N, op2, env);
  if (isNaNType(u1.type) || isNaNType(u2.type)) {
    if (u1.type === FPType.SNaN || u2.type === FPType.SNaN || signalNaNs) env.flags |= FPSR_IOC;
    return 0b0011;
  }
  const c = compareValues(u1, u2);
  return c === 0 ? 0b0110 : c < 0 ? 0b1000 : 0b0010;
}

/** FPCompareEQ/GE/GT for the vector compares: true/false, IOC for signalling NaNs (EQ) or any NaN (GE/GT). */
export function fpCompareOrdered(N: Width, op1: bigint, op2: bigint, kind: 'eq' | 'ge' | 'gt', env: FpEnv): boolean {
  const u1 = fpUnpack(N, op1, env), u2 = fpUnpack(N, op2, env);
  if (isNaNType(u1.type) || isNaNType(u2.type)) {
    if (kind !== 'eq' || u1.type === FPType.SNaN || u2.type === FPType.SNaN) env.flags |= FPSR_IOC;
    return false;
  }
  const c = compareValues(u1, u2);
  return kind === 'eq' ? c === 0 : kind === 'ge' ? c >= 0 : c > 0;
}

// ---- conversions --------------------------------------------------------------

/** FPConvert between half, single and double (FCVT); AHP applies to half on either side. */
export function fpConvert(fromN: Width, toN: Width, op: bigint, env: FpEnv, rounding: Rounding = env.rounding): bigint {
  const u = fpUnpack(fromN, op, env, true);
  const altHp = toN === 16 && (env.fpcr & FPCR_AHP) !== 0;
  if (isNaNType(u.type)) {
    let result: bigint;
    if (altHp) result = fpZero(toN, u.sign);
    else if (env.fpcr & FPCR_DN) result = fpDefaultNaN(toN);
    else result = fpConvertNaN(fromN, toN, op);
    if (u.type === FPType.SNaN || altHp) env.flags |= FPSR_IOC;
    return result;
  }
  if (u.type === FPType.Infinity) {
    if (altHp) { env.flags |= FPSR_IOC; return fpZero(toN, u.sign) | mask(toN - 1); }
    return fpInfinity(toN, u.sign);
  }
  if (u.type === FPType.Zero) return fpZero(toN, u.sign);
  return fpRound(toN, u.sign, u.mant, u.exp, env, rounding);
}

/** FPConvertNaN: quietened, payload kept from the top of the fraction. */
export function fpConvertNaN(fromN: Width, toN: Width, op: bigint): bigint {
  const ff = FORMATS[fromN], ft = FORMATS[toN];
  const sign = Number((op >> BigInt(fromN - 1)) & B1);
  const frac = op & mask(ff.F - 1); // below the quiet bit
  const payload = ff.F > ft.F ? frac >> BigInt(ff.F - ft.F) : frac << BigInt(ft.F - ff.F);
  return fpZero(toN, sign) | (mask(ft.E) << BigInt(ft.F)) | (B1 << BigInt(ft.F - 1)) | payload;
}

/**
 * FPToFixed: float -> M-bit (un)signed integer with `fbits` fraction bits,
 * saturating; NaN gives 0. Returns the M-bit two's-complement pattern.
 */
export function fpToFixed(N: Width, op: bigint, fbits: number, unsigned: boolean, M: 32 | 64 | 16, env: FpEnv, rounding: Rounding): bigint {
  const u = fpUnpack(N, op, env);
  if (isNaNType(u.type)) env.flags |= FPSR_IOC;
  let intResult: bigint;
  let errorClass = 0; // as in fpRound
  if (u.type === FPType.Infinity) {
    intResult = u.sign ? -(B1 << 2000n) : B1 << 2000n;
  } else if (u.type !== FPType.Nonzero) {
    intResult = 0n;
  } else {
    const e = u.exp + fbits;
    const m = u.sign ? -u.mant : u.mant;
    if (e >= 0) intResult = m << BigInt(e);
    else {
      const s = BigInt(-e);
      intResult = m >> s; // floor (RoundDown) for negatives too
      const rem = m - (intResult << s);
      const half = B1 << (s - B1);
      errorClass = rem === 0n ? 0 : rem < half ? 1 : rem === half ? 2 : 3;
    }
  }
  let roundUp: boolean;
  switch (rounding) {
    case Rounding.TieEven: roundUp = errorClass === 3 || (errorClass === 2 && (intResult & B1) === B1); break;
    case Rounding.PosInf: roundUp = errorClass !== 0; break;
    case Rounding.NegInf: roundUp = false; break;
    case Rounding.Zero: roundUp = errorClass !== 0 && intResult < 0n; break;
    default: roundUp = errorClass === 3 || (errorClass === 2 && intResult >= 0n); break; // TieAway
  }
  if (roundUp) intResult++;
  const lo = unsigned ? 0n : -(B1 << BigInt(M - 1));
  const hi = unsigned ? mask(M) : mask(M - 1);
  if (intResult < lo || intResult > hi) {
    env.flags |= FPSR_IOC;
    intResult = intResult < lo ? lo : hi;
  } else if (errorClass !== 0) {
    env.flags |= FPSR_IXC;
  }
  return BigInt.asUintN(M, intResult);
}

/** FixedToFP: (un)signed M-bit integer pattern with fbits fraction bits -> float. */
export function fixedToFp(N: Width, value: bigint, M: 32 | 64 | 16, fbits: number, unsigned: boolean, env: FpEnv, rounding: Rounding = env.rounding): bigint {
  const v = unsigned ? BigInt.asUintN(M, value) : BigInt.asIntN(M, value);
  if (v === 0n) return fpZero(N, 0);
  return v < 0n ? fpRound(N, 1, -v, -fbits, env, rounding) : fpRound(N, 0, v, -fbits, env, rounding);
}

/** FPRoundInt (FRINT*): `exact` raises Inexact (FRINTX). */
export function fpRoundInt(N: Width, op: bigint, env: FpEnv, rounding: Rounding, exact: boolean): bigint {
  const u = fpUnpack(N, op, env);
  if (isNaNType(u.type)) return fpProcessNaN(N, u.type, op, env);
  if (u.type === FPType.Infinity) return fpInfinity(N, u.sign);
  if (u.type === FPType.Zero) return fpZero(N, u.sign);
  if (u.exp >= 0) return fpRound(N, u.sign, u.mant, u.exp, env, Rounding.Zero); // already integral
  const m = u.sign ? -u.mant : u.mant;
  const s = BigInt(-u.exp);
  let intResult = m >> s;
  const rem = m - (intResult << s);
  const half = B1 << (s - B1);
  const errorClass = rem === 0n ? 0 : rem < half ? 1 : rem === half ? 2 : 3;
  let roundUp: boolean;
  switch (rounding) {
    case Rounding.TieEven: roundUp = errorClass === 3 || (errorClass === 2 && (intResult & B1) === B1); break;
    case Rounding.PosInf: roundUp = errorClass !== 0; break;
    case Rounding.NegInf: roundUp = false; break;
    case Rounding.Zero: roundUp = errorClass !== 0 && intResult < 0n; break;
    default: roundUp = errorClass === 3 || (errorClass === 2 && intResult >= 0n); break;
  }
  if (roundUp) intResult++;
  let result: bigint;
  if (intResult === 0n) result = fpZero(N, u.sign);
  else result = intResult < 0n ? fpRound(N, 1, -intResult, 0, env, Rounding.Zero) : fpRound(N, 0, intResult, 0, env, Rounding.Zero);
  if (errorClass !== 0 && exact) env.flags |= FPSR_IXC;
  return result;
}

// ---- estimates ----------------------------------------------------------------

/** RecipEstimate: 9-bit input 256..511 (0.5 <= a < 1.0 in 1/512 steps) -> 256..511. Also used by URECPE. */
export function recipEstimate(a: number): number {
  a = a * 2 + 1;
  const b = Math.floor((1 << 19) / a);
  return (b + 1) >> 1;
}

/** RecipSqrtEstimate: 128..511 -> 256..511. Also used by URSQRTE. */
export function recipSqrtEstimate(a: number): number {
  if (a < 256) a = a * 2 + 1;
  else { a = (a >> 1) << 1; a = (a + 1) * 2; }
  let b = 512;
  while (a * (b + 1) * (b + 1) < 2 ** 28) b++;
  return (b + 1) >> 1;
}

const RECIP_TABLE = Array.from({ length: 256 }, (_, i) => recipEstimate(256 + i));
const RSQRT_TABLE = Array.from({ length: 384 }, (_, i) => recipSqrtEstimate(128 + i));

export function fpRecipEstimate(N: Width, op: bigint, env: FpEnv): bigint {
  const f = FORMATS[N];
  const u = fpUnpack(N, op, env);
  if (isNaNType(u.type)) return fpProcessNaN(N, u.type, op, env);
  if (u.type === FPType.Infinity) return fpZero(N, u.sign);
  if (u.type === FPType.Zero) { env.flags |= FPSR_DZC; return fpInfinity(N, u.sign); }
  const sign = u.sign;
  const exponentOf = bitLength(u.mant) - 1 + u.exp; // value in [2^e, 2^(e+1))
  const tinyLimit = N === 16 ? -16 : N === 32 ? -128 : -1024;
  if (exponentOf < tinyLimit) {
    // |value| < 2^tinyLimit: the reciprocal overflows
    let overflowToInf: boolean;
    switch (env.rounding) {
      case Rounding.TieEven: overflowToInf = true; break;
      case Rounding.PosInf: overflowToInf = sign === 0; break;
      case Rounding.NegInf: overflowToInf = sign === 1; break;
      default: overflowToInf = false;
    }
    env.flags |= FPSR_OFC | FPSR_IXC;
    return overflowToInf ? fpInfinity(N, sign) : fpMaxNormal(N, sign);
  }
  const hugeLimit = N === 16 ? 14 : N === 32 ? 126 : 1022;
  if (N !== 16 && (env.fpcr & FPCR_FZ) && exponentOf >= hugeLimit) {
    env.flags |= FPSR_UFC;
    return fpZero(N, sign);
  }
  // fraction as a 52-bit field, exponent field value
  let fraction = (op & mask(f.F)) << BigInt(52 - f.F);
  let exp = Number((op >> BigInt(f.F)) & mask(f.E));
  if (exp === 0) {
    if (((fraction >> 51n) & B1) === 0n) { exp = -1; fraction = (fraction & mask(50)) << 2n; }
    else fraction = (fraction & mask(51)) << B1;
  }
  const scaled = 256 + Number((fraction >> 44n) & 0xffn);
  let resultExp = (N === 16 ? 29 : N === 32 ? 253 : 2045) - exp;
  const estimate = RECIP_TABLE[scaled - 256];
  let frac52 = BigInt(estimate & 0xff) << 44n;
  if (resultExp === 0) frac52 = (B1 << 51n) | (frac52 >> B1);
  else if (resultExp === -1) { frac52 = (B1 << 50n) | (frac52 >> 2n); resultExp = 0; }
  return pack(N, sign, resultExp, frac52 >> BigInt(52 - f.F));
}

export function fpRSqrtEstimate(N: Width, op: bigint, env: FpEnv): bigint {
  const f = FORMATS[N];
  const u = fpUnpack(N, op, env);
  if (isNaNType(u.type)) return fpProcessNaN(N, u.type, op, env);
  if (u.type === FPType.Zero) { env.flags |= FPSR_DZC; return fpInfinity(N, u.sign); }
  if (u.sign === 1) return invalid(N, env);
  if (u.type === FPType.Infinity) return fpZero(N, 0);
  let fraction = (op & mask(f.F)) << BigInt(52 - f.F);
  let exp = Number((op >> BigInt(f.F)) & mask(f.E));
  if (exp === 0) {
    while (((fraction >> 51n) & B1) === 0n) { fraction = (fraction & mask(51)) << B1; exp--; }
    fraction = (fraction & mask(51)) << B1;
  }
  // scaled into [0.25, 1.0) keeping the exponent's parity: an even biased
  // exponent gives 0.5..1.0 ('1':fraction<51:44> = 256..511), an odd one
  // 0.25..0.5 ('01':fraction<51:45> = 128..255)
  const scaled = (exp & 1) === 0 ? 256 | Number((fraction >> 44n) & 0xffn) : 128 | Number((fraction >> 45n) & 0x7fn);
  const resultExp = Math.floor(((N === 16 ? 44 : N === 32 ? 380 : 3068) - exp) / 2);
  const estimate = RSQRT_TABLE[scaled - 128];
  return pack(N, 0, resultExp, BigInt(estimate & 0xff) << BigInt(f.F - 8));
}

/** FRECPX: reciprocal exponent (denormals and zero give the largest finite exponent). */
export function fpRecpX(N: Width, op: bigint, env: FpEnv): bigint {
  const f = FORMATS[N];
  const u = fpUnpack(N, op, env);
  if (isNaNType(u.type)) return fpProcessNaN(N, u.type, op, env);
  const exp = Number((op >> BigInt(f.F)) & mask(f.E));
  const maxExp = (1 << f.E) - 2;
  const sign = u.sign;
  if (exp === 0) return pack(N, sign, maxExp, 0n);
  return pack(N, sign, ~exp & ((1 << f.E) - 1), 0n);
}
