// Inline WebAssembly SIMD128 fast paths of the hot vector FP instructions
// (FADD, FSUB, FMUL, FDIV, FMLA, FMLS, also by element; FSQRT, FABS, FNEG;
// SCVTF/UCVTF, FCVTZS/FCVTZU with or without fraction bits; FCVTL, FCVTN).
//
// wasm f32x4/f64x2 arithmetic is IEEE round-to-nearest-even with subnormals
// and without flags. Its results are the architecture's when:
//   - FPCR selects round to nearest and FZ = 0 (DN only changes NaN
//     results, which never take the fast path);
//   - no lane produces a NaN, an infinity from finite operands or a result
//     that may be tiny (Arm detects underflow before rounding): each lane's
//     result is checked in wasm and any doubt branches to the exact helper for
//     the whole instruction, before anything has been written;
//   - the only flag left, Inexact, is already set in FPSR: the fast path runs
//     only when FPSR.IXC = 1, so it never has to prove exactness (setting a
//     cumulative flag that is already set changes nothing). A program sets IXC
//     with its first inexact operation; until then the helper (which finds
//     exactness itself) does the work.
// FABS/FNEG are sign-bit operations without flags and FCVTL is exact, so they
// skip the Inexact gate.
//
// Fused multiply-add: single precision is exact through double (the product
// of two singles is exact in double; the one double rounding of the sum is
// innocuous unless it was inexact and landed on a single-precision midpoint,
// which bails).
// Double precision uses Boldo & Melquiond's emulation as fp-fast.ts does:
// TwoProduct (Dekker), TwoSum, an addition rounded to odd, and a final
// rounding to nearest, exact when the operands and product are zero or within
// [2^-960, 2^995].

import type { Translator } from '../jit/translator';
import { Op, OpFC, OpSIMD, ValType } from '../jit/wasm-emitter';
import { FPCR_FZ, FPSR_IXC } from '../fp/softfloat';
import { pushFpcr, pushFpsr } from './vreg';
import { pushV, writeV } from './simd-common';

const V128 = ValType.V128;
const RMODE = 3 << 22;
const F32_MIN_NORMAL = 2 ** -126;
const F64_MIN_NORMAL = 2 ** -1022;
/** Reals at or above this round to infinity in single precision (round to nearest). */
const F32_OVERFLOW = 2 ** 128 - 2 ** 103;
const SAFE_LO = 2 ** -960;
const SAFE_HI = 2 ** 995;
const SPLITTER = 134217729; // 2^27 + 1

/** Operations with an inline fast path. */
export type InlineVecOp =
  | 'FADD' | 'FSUB' | 'FMUL' | 'FDIV' | 'FMLA' | 'FMLS' | 'FSQRT' | 'FABS' | 'FNEG'
  | 'SCVTF' | 'UCVTF' | 'FCVTZS' | 'FCVTZU' | 'FCVTL' | 'FCVTN';

const INLINE_OPS = new Set<string>(['FADD', 'FSUB', 'FMUL', 'FDIV', 'FMLA', 'FMLS', 'FSQRT', 'FABS', 'FNEG', 'SCVTF', 'UCVTF', 'FCVTZS', 'FCVTZU', 'FCVTL', 'FCVTN']);

export function hasInlineVectorFp(name: string): name is InlineVecOp {
  return INLINE_OPS.has(name);
}

export interface VecFpShape {
  d: number;
  n: number;
  /** Second source (three-same, by element). */
  m?: number;
  /** Lanes are doubles (sz = 1); for FCVTL/FCVTN: the wide side is double. */
  double: boolean;
  /** 128-bit form (Q = 1); for FCVTL2/FCVTN2: the upper half. */
  q: boolean;
  /** By element: the index of the Vm lane used for every lane. */
  index?: number;
  /** Fixed-point conversions: fraction bits. */
  fbits?: number;
}

/** FPCR bits that must be zero, and whether FPSR.IXC must already be set. */
function gateOf(op: InlineVecOp): { mode: number; ixc: boolean } {
  switch (op) {
    case 'FABS': case 'FNEG': return { mode: 0, ixc: false };
    case 'FCVTL': return { mode: FPCR_FZ, ixc: false };
    case 'FCVTZS': case 'FCVTZU': return { mode: FPCR_FZ, ixc: true }; // round toward zero whatever RMode says
    case 'SCVTF': case 'UCVTF': return { mode: RMODE, ixc: true }; // results are never tiny: FZ has no effect
    default: return { mode: FPCR_FZ | RMODE, ixc: true };
  }
}

// ---- v128 emission helpers -------------------------------------------------------------

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
function constF64(t: Translator, x: number): void { t.fb.v128(bytesOf(new Float64Array([x, x]))); }
function constF32(t: Translator, x: number): void { t.fb.v128(bytesOf(new Float32Array([x, x, x, x]))); }
function constI64(t: Translator, x: bigint): void { t.fb.v128(bytesOf(new BigInt64Array([x, x]))); }
function constI32(t: Translator, x: readonly number[]): void { t.fb.v128(bytesOf(new Int32Array(x))); }

function tmp(t: Translator, value: () => void): number {
  const l = t.fb.local(V128);
  value();
  t.fb.set(l);
  return l;
}

/**
 * Lane checks of one instruction: `ok` starts all-ones and is ANDed with each
 * check's lane mask (all-ones: the lane is fine); `bailUnlessAll` branches
 * to the slow path (depth 0) unless every lane still is.
 */
class LaneChecks {
  readonly ok: number;
  constructor(private readonly t: Translator) {
    this.ok = tmp(t, () => constI32(t, [-1, -1, -1, -1]));
  }
  /** ok &= the mask `mask` pushes. */
  and(mask: () => void): void {
    const f = this.t.fb;
    f.get(this.ok);
    mask();
    f.simd(OpSIMD.v128_and).set(this.ok);
  }
  /** `ignoreHigh`: only lanes 0-1 of a 32-bit-lane vector were computed (64-bit forms). */
  bailUnlessAll(ignoreHigh = false): void {
    const f = this.t.fb;
    f.get(this.ok);
    if (ignoreHigh) { constI32(this.t, [0, 0, -1, -1]); f.simd(OpSIMD.v128_or); }
    f.simd(OpSIMD.i32x4_all_true).op(Op.i32_eqz).brIf(0);
    f.release(this.ok);
  }
}

interface Kind {
  abs: number; lt: number; gt: number; ge: number; le: number; eq: number; ne: number;
  add: number; sub: number; mul: number; div: number; neg: number; sqrt: number;
  minNormal: number; konst: (t: Translator, x: number) => void;
}
const F64X2: Kind = {
  abs: OpSIMD.f64x2_abs, lt: OpSIMD.f64x2_lt, gt: OpSIMD.f64x2_gt, ge: OpSIMD.f64x2_ge, le: OpSIMD.f64x2_le,
  eq: OpSIMD.f64x2_eq, ne: OpSIMD.f64x2_ne, add: OpSIMD.f64x2_add, sub: OpSIMD.f64x2_sub, mul: OpSIMD.f64x2_mul,
  div: OpSIMD.f64x2_div, neg: OpSIMD.f64x2_neg, sqrt: OpSIMD.f64x2_sqrt, minNormal: F64_MIN_NORMAL, konst: constF64,
};
const F32X4: Kind = {
  abs: OpSIMD.f32x4_abs, lt: OpSIMD.f32x4_lt, gt: OpSIMD.f32x4_gt, ge: OpSIMD.f32x4_ge, le: OpSIMD.f32x4_le,
  eq: OpSIMD.f32x4_eq, ne: OpSIMD.f32x4_ne, add: OpSIMD.f32x4_add, sub: OpSIMD.f32x4_sub, mul: OpSIMD.f32x4_mul,
  div: OpSIMD.f32x4_div, neg: OpSIMD.f32x4_neg, sqrt: OpSIMD.f32x4_sqrt, minNormal: F32_MIN_NORMAL, konst: constF32,
};

/** Pushes the lane mask |x| < c (false for NaN). */
function absBelow(t: Translator, k: Kind, x: number, c: number): void {
  t.fb.get(x).simd(k.abs); k.konst(t, c); t.fb.simd(k.lt);
}
/** Pushes the lane mask: x is finite and |x| > the smallest normal (a rounded result that cannot be tiny). */
function normalFinite(t: Translator, k: Kind, x: number): void {
  const f = t.fb;
  f.get(x).simd(k.abs); k.konst(t, k.minNormal); f.simd(k.gt);
  absBelow(t, k, x, Infinity);
  f.simd(OpSIMD.v128_and);
}
/** Pushes the lane mask x == 0 (either sign). */
function isZero(t: Translator, k: Kind, x: number): void {
  t.fb.get(x); k.konst(t, 0); t.fb.simd(k.eq);
}
/** Pushes the lane mask SAFE_LO <= |x| <= SAFE_HI (doubles; where Dekker's TwoProduct is exact). */
function safe(t: Translator, x: number): void {
  const f = t.fb;
  f.get(x).simd(OpSIMD.f64x2_abs); constF64(t, SAFE_LO); f.simd(OpSIMD.f64x2_ge);
  f.get(x).simd(OpSIMD.f64x2_abs); constF64(t, SAFE_HI); f.simd(OpSIMD.f64x2_le);
  f.simd(OpSIMD.v128_and);
}

/** Pushes Vm's lane `index` in every lane. */
function splatElement(t: Translator, m: number, index: number, double: boolean): void {
  pushV(t, m);
  if (double) t.fb.simdLane(OpSIMD.f64x2_extract_lane, index).simd(OpSIMD.f64x2_splat);
  else t.fb.simdLane(OpSIMD.f32x4_extract_lane, index).simd(OpSIMD.f32x4_splat);
}

/** Moves the upper 64 bits of v128 local x to the lower half (for the high pair of 32-bit lanes). */
function highHalf(t: Translator, x: number): void {
  t.fb.get(x).get(x).shuffle([8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]);
}

// ---- the emitter -----------------------------------------------------------------------

/**
 * Emits the fast path of `op` with `slow` (the exact helper call) as the
 * fallback: block $done { block $slow { gate; body (br_if 0 = slow); br 1 } slow() }.
 */
export function emitInlineVectorFp(t: Translator, op: InlineVecOp, s: VecFpShape, slow: () => void): void {
  const f = t.fb;
  const gate = gateOf(op);
  f.block();
  f.block();
  if (gate.mode || gate.ixc) {
    pushFpcr(t);
    f.i32(gate.mode).op(Op.i32_and);
    if (gate.ixc) { pushFpsr(t); f.i32(FPSR_IXC).op(Op.i32_and).i32(FPSR_IXC).op(Op.i32_xor).op(Op.i32_or); }
    f.brIf(0);
  }
  body(t, op, s);
  f.br(1);
  f.end();
  slow();
  f.end();
}

function body(t: Translator, op: InlineVecOp, s: VecFpShape): void {
  switch (op) {
    case 'FABS': case 'FNEG': return signOp(t, op, s);
    case 'FADD': case 'FSUB': case 'FMUL': case 'FDIV': return arith(t, op, s);
    case 'FSQRT': return sqrt(t, s);
    case 'FMLA': case 'FMLS':
      return s.double ? fmaDouble(t, op === 'FMLS', s) : fmaSingle(t, op === 'FMLS', s);
    case 'SCVTF': case 'UCVTF': return intToFloat(t, op === 'UCVTF', s);
    case 'FCVTZS': case 'FCVTZU': return floatToInt(t, op === 'FCVTZU', s);
    case 'FCVTL': return widen(t, s);
    case 'FCVTN': return narrow(t, s);
  }
}

/** The second operand: Vm, or Vm's element `index` in every lane. */
function secondOperand(t: Translator, s: VecFpShape): number {
  return tmp(t, () => (s.index !== undefined ? splatElement(t, s.m!, s.index, s.double) : pushV(t, s.m!)));
}

function signOp(t: Translator, op: 'FABS' | 'FNEG', s: VecFpShape): void {
  const f = t.fb;
  const sign = s.double ? [0, -0x80000000, 0, -0x80000000] : [-0x80000000, -0x80000000, -0x80000000, -0x80000000];
  writeV(t, s.d, () => {
    pushV(t, s.n);
    if (op === 'FNEG') { constI32(t, sign); f.simd(OpSIMD.v128_xor); } else { constI32(t, sign); f.simd(OpSIMD.v128_andnot); }
  }, s.q);
}

function arith(t: Translator, op: 'FADD' | 'FSUB' | 'FMUL' | 'FDIV', s: VecFpShape): void {
  const f = t.fb;
  const k = s.double ? F64X2 : F32X4;
  const a = tmp(t, () => pushV(t, s.n));
  const b = secondOperand(t, s);
  const r = tmp(t, () => f.get(a).get(b).simd(op === 'FADD' ? k.add : op === 'FSUB' ? k.sub : op === 'FMUL' ? k.mul : k.div));
  const checks = new LaneChecks(t);
  if (op === 'FADD' || op === 'FSUB') {
    // a sum that comes out finite is exact if tiny (never tiny and inexact): only overflow and NaN bail
    checks.and(() => absBelow(t, k, r, Infinity));
  } else {
    // normal results, or a zero from a zero operand (0 * finite, 0 / nonzero), which is exact
    checks.and(() => {
      normalFinite(t, k, r);
      isZero(t, k, r);
      isZero(t, k, a);
      if (op === 'FMUL') { isZero(t, k, b); f.simd(OpSIMD.v128_or); }
      f.simd(OpSIMD.v128_and).simd(OpSIMD.v128_or);
    });
  }
  checks.bailUnlessAll(!s.double && !s.q);
  writeV(t, s.d, () => f.get(r), s.q);
  t.release(a, b, r);
}

function sqrt(t: Translator, s: VecFpShape): void {
  const f = t.fb;
  const k = s.double ? F64X2 : F32X4;
  // negative operands give NaN and fail the check; square roots of positive subnormals are normal
  const r = tmp(t, () => pushV(t, s.n));
  f.get(r).simd(k.sqrt).set(r);
  const checks = new LaneChecks(t);
  checks.and(() => absBelow(t, k, r, Infinity));
  checks.bailUnlessAll(!s.double && !s.q);
  writeV(t, s.d, () => f.get(r), s.q);
  t.release(r);
}

/**
 * Single-precision FMLA/FMLS on lanes 0-1 (`high`: 2-3) in double: the
 * product is exact, the sum rounds once to double, and demoting that is the
 * fused result unless the double sum sits exactly on a single-precision
 * midpoint (then the helper decides). Pushes [r0, r1, 0, 0].
 */
function fmaSingleHalf(t: Translator, checks: LaneChecks, a: number, b: number, c: number, high: boolean): void {
  const f = t.fb;
  const promote = (x: number) => { if (high) highHalf(t, x); else f.get(x); f.simd(OpSIMD.f64x2_promote_low_f32x4); };
  const product = tmp(t, () => { promote(a); promote(b); f.simd(OpSIMD.f64x2_mul); });
  const addend = tmp(t, () => promote(c));
  const sum = tmp(t, () => f.get(product).get(addend).simd(OpSIMD.f64x2_add));
  const err = twoSumErr(t, sum, product, addend);
  checks.and(() => {
    // exact zero (the sum of doubles is zero only when exact), or not tiny and not rounding to infinity
    isZero(t, F64X2, sum);
    f.get(sum).simd(OpSIMD.f64x2_abs); constF64(t, F32_MIN_NORMAL); f.simd(OpSIMD.f64x2_gt);
    absBelow(t, F64X2, sum, F32_OVERFLOW);
    f.simd(OpSIMD.v128_and).simd(OpSIMD.v128_or);
    // exact, or not on a single-precision midpoint (low 29 of the 52 fraction bits 1000...0), where the
    // rounding of the inexact double sum could have created the tie. Exact midpoints are common (the sum of
    // two singles of nearby exponents) and need no care: rounding them once is right.
    f.get(sum); constI64(t, 0x1fffffffn); f.simd(OpSIMD.v128_and); constI64(t, 0x10000000n); f.simd(OpSIMD.i64x2_ne);
    f.get(err); constF64(t, 0); f.simd(OpSIMD.f64x2_eq);
    f.simd(OpSIMD.v128_or);
    f.simd(OpSIMD.v128_and);
  });
  f.get(sum).simd(OpSIMD.f32x4_demote_f64x2_zero);
  t.release(product, addend, sum, err);
}

function fmaSingle(t: Translator, negate: boolean, s: VecFpShape): void {
  const f = t.fb;
  const a = tmp(t, () => pushV(t, s.n));
  if (negate) f.get(a).simd(OpSIMD.f32x4_neg).set(a);
  const b = secondOperand(t, s);
  const c = tmp(t, () => pushV(t, s.d));
  const checks = new LaneChecks(t);
  const lo = tmp(t, () => fmaSingleHalf(t, checks, a, b, c, false));
  if (s.q) {
    const hi = tmp(t, () => fmaSingleHalf(t, checks, a, b, c, true));
    f.get(lo).get(hi).shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]).set(lo);
    t.release(hi);
  }
  checks.bailUnlessAll();
  writeV(t, s.d, () => f.get(lo), s.q);
  t.release(a, b, c, lo);
}

/** err of s = RN(x + y) (TwoSum; exact for every finite sum). */
function twoSumErr(t: Translator, s: number, x: number, y: number): number {
  const f = t.fb;
  const bb = tmp(t, () => f.get(s).get(x).simd(OpSIMD.f64x2_sub));
  const err = tmp(t, () => {
    f.get(x).get(s).get(bb).simd(OpSIMD.f64x2_sub).simd(OpSIMD.f64x2_sub);
    f.get(y).get(bb).simd(OpSIMD.f64x2_sub).simd(OpSIMD.f64x2_add);
  });
  t.release(bb);
  return err;
}

/** Dekker's split of x into a high and a low half of 26 bits each. */
function split(t: Translator, x: number): [number, number] {
  const f = t.fb;
  const c = tmp(t, () => { f.get(x); constF64(t, SPLITTER); f.simd(OpSIMD.f64x2_mul); });
  const hi = tmp(t, () => f.get(c).get(c).get(x).simd(OpSIMD.f64x2_sub).simd(OpSIMD.f64x2_sub));
  const lo = tmp(t, () => f.get(x).get(hi).simd(OpSIMD.f64x2_sub));
  t.release(c);
  return [hi, lo];
}

/** s rounded to odd given its exact error err: the neighbour with an odd last bit when inexact. */
function roundToOdd(t: Translator, s: number, err: number): number {
  const f = t.fb;
  return tmp(t, () => {
    f.get(s);
    // adjust where err != 0 and the last bit is even: +1 (away from zero) if err has s's sign, else -1
    f.get(err); constF64(t, 0); f.simd(OpSIMD.f64x2_ne);
    f.get(s); constI64(t, 1n); f.simd(OpSIMD.v128_and); constI64(t, 0n); f.simd(OpSIMD.i64x2_eq);
    f.simd(OpSIMD.v128_and);
    // signs compared directly: err * s underflows when err is tiny
    f.get(err); constF64(t, 0); f.simd(OpSIMD.f64x2_gt);
    f.get(s); constF64(t, 0); f.simd(OpSIMD.f64x2_gt);
    f.simd(OpSIMD.v128_xor); constI64(t, 1n); f.simd(OpSIMD.v128_or); // -1 where the signs differ, else +1
    f.simd(OpSIMD.v128_and);
    f.simd(OpSIMD.i64x2_add);
  });
}

/** Double FMLA/FMLS: Boldo & Melquiond's emulated fused multiply-add on both lanes. */
function fmaDouble(t: Translator, negate: boolean, s: VecFpShape): void {
  const f = t.fb;
  const a = tmp(t, () => pushV(t, s.n));
  if (negate) f.get(a).simd(OpSIMD.f64x2_neg).set(a);
  const b = secondOperand(t, s);
  const c = tmp(t, () => pushV(t, s.d));
  const checks = new LaneChecks(t);
  const uh = tmp(t, () => f.get(a).get(b).simd(OpSIMD.f64x2_mul));
  // Dekker is exact when each factor is zero or safe and a nonzero product is safe
  checks.and(() => {
    safe(t, a); isZero(t, F64X2, a); f.simd(OpSIMD.v128_or);
    safe(t, b); isZero(t, F64X2, b); f.simd(OpSIMD.v128_or);
    f.simd(OpSIMD.v128_and);
    safe(t, uh); isZero(t, F64X2, a); f.simd(OpSIMD.v128_or); isZero(t, F64X2, b); f.simd(OpSIMD.v128_or);
    f.simd(OpSIMD.v128_and);
    absBelow(t, F64X2, c, SAFE_HI);
    f.simd(OpSIMD.v128_and);
  });
  const [ah, al] = split(t, a);
  const [bh, bl] = split(t, b);
  const ul = tmp(t, () => {
    f.get(ah).get(bh).simd(OpSIMD.f64x2_mul).get(uh).simd(OpSIMD.f64x2_sub);
    f.get(ah).get(bl).simd(OpSIMD.f64x2_mul).simd(OpSIMD.f64x2_add);
    f.get(al).get(bh).simd(OpSIMD.f64x2_mul).simd(OpSIMD.f64x2_add);
    f.get(al).get(bl).simd(OpSIMD.f64x2_mul).simd(OpSIMD.f64x2_add);
  });
  t.release(ah, al, bh, bl);
  const th = tmp(t, () => f.get(c).get(uh).simd(OpSIMD.f64x2_add));
  const tl = twoSumErr(t, th, c, uh);
  const sum = tmp(t, () => f.get(tl).get(ul).simd(OpSIMD.f64x2_add));
  const serr = twoSumErr(t, sum, tl, ul);
  const v = roundToOdd(t, sum, serr);
  const r = tmp(t, () => f.get(th).get(v).simd(OpSIMD.f64x2_add));
  // A zero result means an exact zero, whose sign is that of c + a*b (exact then): th. The sum th + v
  // would lose a -0 (-0 + +0 = +0 when both the product and the accumulator are -0).
  f.get(th).get(r); isZero(t, F64X2, r); f.simd(OpSIMD.v128_bitselect).set(r);
  // otherwise the result must be safe (neither tiny nor overflowing)
  checks.and(() => { safe(t, r); isZero(t, F64X2, r); f.simd(OpSIMD.v128_or); });
  checks.bailUnlessAll();
  writeV(t, s.d, () => f.get(r));
  t.release(a, b, c, uh, ul, th, tl, sum, serr, v, r);
}

function intToFloat(t: Translator, unsigned: boolean, s: VecFpShape): void {
  const f = t.fb;
  const fbits = s.fbits ?? 0;
  // one rounding of the integer; scaling by 2^-fbits is then exact (|result| >= 2^-64 or zero)
  const r = tmp(t, () => {
    if (!s.double) {
      pushV(t, s.n);
      f.simd(unsigned ? OpSIMD.f32x4_convert_i32x4_u : OpSIMD.f32x4_convert_i32x4_s);
      if (fbits) { constF32(t, 2 ** -fbits); f.simd(OpSIMD.f32x4_mul); }
    } else {
      const x = tmp(t, () => pushV(t, s.n));
      f.get(x);
      for (let i = 0; i < 2; i++) {
        f.get(x).simdLane(OpSIMD.i64x2_extract_lane, i).op(unsigned ? Op.f64_convert_i64_u : Op.f64_convert_i64_s);
        f.simdLane(OpSIMD.f64x2_replace_lane, i);
      }
      if (fbits) { constF64(t, 2 ** -fbits); f.simd(OpSIMD.f64x2_mul); }
      t.release(x);
    }
  });
  writeV(t, s.d, () => f.get(r), s.q);
  t.release(r);
}

function floatToInt(t: Translator, unsigned: boolean, s: VecFpShape): void {
  const f = t.fb;
  const k = s.double ? F64X2 : F32X4;
  const fbits = s.fbits ?? 0;
  const y = tmp(t, () => pushV(t, s.n));
  if (fbits) { f.get(y); k.konst(t, 2 ** fbits); f.simd(k.mul).set(y); } // exact, or infinite (out of range)
  // in range after truncation toward zero: (-2^(N-1) - 1, 2^(N-1)) signed, (-1, 2^N) unsigned; NaN fails
  const N = s.double ? 64 : 32;
  const checks = new LaneChecks(t);
  checks.and(() => {
    f.get(y); k.konst(t, unsigned ? -1 : -(2 ** (N - 1))); f.simd(unsigned ? k.gt : k.ge);
    f.get(y); k.konst(t, unsigned ? 2 ** N : 2 ** (N - 1)); f.simd(k.lt);
    f.simd(OpSIMD.v128_and);
  });
  checks.bailUnlessAll(!s.double && !s.q);
  const r = tmp(t, () => {
    if (!s.double) f.get(y).simd(unsigned ? OpSIMD.i32x4_trunc_sat_f32x4_u : OpSIMD.i32x4_trunc_sat_f32x4_s);
    else {
      f.get(y);
      for (let i = 0; i < 2; i++) {
        f.get(y).simdLane(OpSIMD.f64x2_extract_lane, i).fc(unsigned ? OpFC.i64_trunc_sat_f64_u : OpFC.i64_trunc_sat_f64_s);
        f.simdLane(OpSIMD.i64x2_replace_lane, i);
      }
    }
  });
  writeV(t, s.d, () => f.get(r), s.q);
  t.release(y, r);
}

/** FCVTL(2) single -> double: exact; NaNs (quieting, IOC) and FZ take the helper. */
function widen(t: Translator, s: VecFpShape): void {
  const f = t.fb;
  const x = tmp(t, () => pushV(t, s.n));
  const r = tmp(t, () => { if (s.q) highHalf(t, x); else f.get(x); f.simd(OpSIMD.f64x2_promote_low_f32x4); });
  const checks = new LaneChecks(t);
  checks.and(() => f.get(r).get(r).simd(OpSIMD.f64x2_eq));
  checks.bailUnlessAll();
  writeV(t, s.d, () => f.get(r));
  t.release(x, r);
}

/** FCVTN(2) double -> single into the lower half (upper half kept for FCVTN2). */
function narrow(t: Translator, s: VecFpShape): void {
  const f = t.fb;
  const x = tmp(t, () => pushV(t, s.n));
  const checks = new LaneChecks(t);
  // zero, or neither tiny (before rounding) nor rounding to infinity; NaN fails
  checks.and(() => {
    isZero(t, F64X2, x);
    f.get(x).simd(OpSIMD.f64x2_abs); constF64(t, F32_MIN_NORMAL); f.simd(OpSIMD.f64x2_ge);
    absBelow(t, F64X2, x, F32_OVERFLOW);
    f.simd(OpSIMD.v128_and).simd(OpSIMD.v128_or);
  });
  checks.bailUnlessAll();
  writeV(t, s.d, () => {
    if (s.q) pushV(t, s.d);
    f.get(x).simd(OpSIMD.f32x4_demote_f64x2_zero);
    if (s.q) f.shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]);
  }, s.q);
  t.release(x);
}
