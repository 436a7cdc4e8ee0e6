// Vector (and scalar-SIMD) floating point of Advanced SIMD: three same,
// pairwise, two-register misc (rounding, conversions, estimates, compares
// against zero), across lanes, by element and fixed-point conversions.
//
// Every operation runs lane by lane in TypeScript on the shared Arm FP
// library (cpu/fp/softfloat.ts), so NaN propagation, default NaN, flush to
// zero, rounding modes and the cumulative FPSR flags are the scalar
// instructions' exactly. Results are gathered before Vd is written (Vd may
// alias a source) and 64-bit forms clear bits 127:64.

import type { Encoding, Fields } from '../jit/decode';
import type { Translator } from '../jit/translator';
import type { Cpu } from '../cpu';
import {
  FpEnv, Rounding, type Width, fpAbs, fpAdd, fpCompareOrdered, fpConvert, fpDiv, fpMax, fpMaxNum, fpMin, fpMinNum, fpMul, fpMulAdd,
  fpMulX, fpNeg, fpRecipEstimate, fpRecipStepFused, fpRecpX, fpRoundInt, fpRSqrtEstimate, fpRSqrtStepFused, fpSqrt, fpSub, fpToFixed,
  fixedToFp, recipEstimate, recipSqrtEstimate, fpZero,
} from '../fp/softfloat';
import { callSimdHelper, registerSimdHelper, vAddr } from './simd-common';
import { S } from '../state';
import { emitInlineVectorFp, hasInlineVectorFp } from './simd-fp-inline';


// ---- lane access (TypeScript) ---------------------------------------------------------

function readLane(cpu: Cpu, n: number, N: number, i: number): bigint {
  const a = vAddr(cpu, n);
  if (N === 64) return cpu.dv.getBigUint64(a + 8 * i, true);
  if (N === 32) return BigInt(cpu.dv.getUint32(a + 4 * i, true));
  return BigInt(cpu.dv.getUint16(a + 2 * i, true));
}

/** Writes `lanes` (N bits each) to Vd from lane `first`; clears the rest unless `keep`. */
function writeLanes(cpu: Cpu, d: number, N: number, lanes: bigint[], first = 0, keep = false): void {
  const a = vAddr(cpu, d);
  if (!keep) cpu.u8.fill(0, a, a + 16);
  lanes.forEach((v, k) => {
    const i = first + k;
    if (N === 64) cpu.dv.setBigUint64(a + 8 * i, BigInt.asUintN(64, v), true);
    else if (N === 32) cpu.dv.setUint32(a + 4 * i, Number(BigInt.asUintN(32, v)), true);
    else cpu.dv.setUint16(a + 2 * i, Number(BigInt.asUintN(16, v)), true);
  });
}

function envOf(cpu: Cpu): FpEnv {
  return new FpEnv(cpu.u32[(cpu.base + S.FPCR) >> 2]);
}

function commit(cpu: Cpu, env: FpEnv): void {
  if (env.flags) cpu.u32[(cpu.base + S.FPSR) >> 2] |= env.flags;
}

/**
 * Helper argument layout: d | n<<5 | m<<10 | sz<<15 (0: 32-bit, 1: 64-bit)
 * | lanes-1 <<16 (2 bits) | element index <<18 (2 bits) | byElement <<20 |
 * extra <<21 (fraction bits / 64-bit-form flag, 7 bits).
 */
const pack = (d: number, n: number, m: number, sz: number, lanes: number, index = 0, byElement = 0, extra = 0) =>
  d | (n << 5) | (m << 10) | (sz << 15) | ((lanes - 1) << 16) | (index << 18) | (byElement << 20) | (extra << 21);

interface Args { d: number; n: number; m: number; N: Width; lanes: number; index: number; byElement: boolean; extra: number }
/** Decoded helper arguments. One shared object (helpers never nest), so the per-instruction path allocates nothing. */
const args: Args = { d: 0, n: 0, m: 0, N: 32, lanes: 1, index: 0, byElement: false, extra: 0 };
function unpack(a: number): Args {
  args.d = a & 31; args.n = (a >> 5) & 31; args.m = (a >> 10) & 31; args.N = (a >> 15) & 1 ? 64 : 32; args.lanes = ((a >> 16) & 3) + 1;
  args.index = (a >> 18) & 3; args.byElement = ((a >> 20) & 1) === 1; args.extra = (a >>> 21) & 0x7f;
  return args;
}

type Binary = (N: Width, a: bigint, b: bigint, env: FpEnv, d: bigint) => bigint;

const ones = (N: number) => (1n << BigInt(N)) - 1n;
const mask = (N: number, c: boolean) => (c ? ones(N) : 0n);

const BINARY: Record<string, Binary> = {
  FADD: fpAdd, FSUB: fpSub, FMUL: fpMul, FDIV: fpDiv, FMULX: fpMulX,
  FMAX: fpMax, FMIN: fpMin, FMAXNM: fpMaxNum, FMINNM: fpMinNum,
  FABD: (N, a, b, env) => fpAbs(N, fpSub(N, a, b, env)),
  FMLA: (N, a, b, env, d) => fpMulAdd(N, d, a, b, env),
  FMLS: (N, a, b, env, d) => fpMulAdd(N, d, fpNeg(N, a), b, env),
  FRECPS: fpRecipStepFused, FRSQRTS: fpRSqrtStepFused,
  FCMEQ: (N, a, b, env) => mask(N, fpCompareOrdered(N, a, b, 'eq', env)),
  FCMGE: (N, a, b, env) => mask(N, fpCompareOrdered(N, a, b, 'ge', env)),
  FCMGT: (N, a, b, env) => mask(N, fpCompareOrdered(N, a, b, 'gt', env)),
  FACGE: (N, a, b, env) => mask(N, fpCompareOrdered(N, fpAbs(N, a), fpAbs(N, b), 'ge', env)),
  FACGT: (N, a, b, env) => mask(N, fpCompareOrdered(N, fpAbs(N, a), fpAbs(N, b), 'gt', env)),
};

// ---- fast paths: lanes in JavaScript doubles ------------------------------------------------
//
// Most lanes need no BigInt. Each fast kernel below computes one lane with
// JS doubles and either produces the architecture's exact result (with
// Inexact detected exactly by error-free transformations) or sets
// `laneBail`, after which the whole instruction is redone by the softfloat
// path (nothing has been written yet, so the redo sees the original
// registers and computes every flag). A kernel may only run when FPCR makes
// the IEEE result the Arm one:
//   - rounding arithmetic (add/sub/mul/div/FMA/sqrt/narrowing): round to
//     nearest, FZ = 0, DN = 0 (NaNs bail anyway, so DN matters only there);
//   - exact operations (compares, min/max, FRINT, FCVTL, float->int): FZ = 0
//     (FZ would flush denormal inputs and raise IDC); their own rounding, if
//     any, is done here in every mode;
//   - int->float: round to nearest (the result is never denormal or NaN).
// Any NaN operand bails (NaN propagation, IOC and DN are the library's), and
// so does any result that may be tiny: Arm detects underflow before rounding,
// which the rounded JS result cannot show, so tiny-ish results (below 2^-125
// for single, outside [2^-960, 2^995] where Dekker's TwoProduct is exact for
// double) go to the library.

/** The rounding of FRINT<r> / FCVT<r>{S,U}; 'fpcr' is FPCR.RMode. */
const ROUNDING_OF: Record<string, Rounding | 'fpcr'> = { N: Rounding.TieEven, P: Rounding.PosInf, M: Rounding.NegInf, Z: Rounding.Zero, A: Rounding.TieAway, X: 'fpcr', I: 'fpcr' };

const FAST_MODE_MASK = (1 << 25) | (1 << 24) | (3 << 22); // DN, FZ, RMode
const MODE_FZ = 1 << 24;
const MODE_RMODE = 3 << 22;
const SPLIT = 134217729; // 2^27 + 1 (Dekker)
const SINGLE_TINY = 2 ** -125; // a margin above 2^-126: the unrounded value may be just below the rounded one
const SAFE_LO = 2 ** -960, SAFE_HI = 2 ** 995;
const fastOut = new Float64Array(4);

/** Set by a lane kernel: this instruction must go to the softfloat path. */
let laneBail = false;
/** Set by a lane kernel: the lane's result was inexact (FPSR.IXC). */
let laneInexact = false;

/** Error of a*b = p (Dekker's TwoProduct); exact when a, b, p are within [2^-960, 2^995]. */
function prodErr(a: number, b: number, p: number): number {
  let t = SPLIT * a; const ah = t - (t - a), al = a - ah;
  t = SPLIT * b; const bh = t - (t - b), bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

/** Error of s = RN(a + b) (Knuth's TwoSum; exact for every finite sum). */
function sumErr(a: number, b: number, s: number): number {
  const bb = s - a;
  return (a - (s - bb)) + (b - bb);
}

/** Nonzero and inside the range where Dekker's TwoProduct is exact. */
const safe = (x: number) => { const m = Math.abs(x); return m >= SAFE_LO && m <= SAFE_HI; };

const oddF64 = new Float64Array(1);
const oddU32 = new Uint32Array(oddF64.buffer);
/** s rounded to odd, given the exact error err of s (s != 0 when err != 0): the neighbour with an odd last bit. */
function roundToOdd(s: number, err: number): number {
  if (err === 0) return s;
  oddF64[0] = s;
  const lo = oddU32[0];
  if ((lo & 1) !== 0) return s;
  if ((err > 0) === (s > 0)) oddU32[0] = lo + 1; // away from zero; lo is even, so no carry
  else { if (lo === 0) oddU32[1] -= 1; oddU32[0] = (lo - 1) >>> 0; } // toward zero
  return oddF64[0];
}

/** Accepts a rounded result r (exact or not) unless it is infinite or possibly tiny. */
function finish(r: number, exact: boolean, single: boolean, unrounded = r): number {
  if (!Number.isFinite(r) || (r === 0 ? !exact : Math.abs(unrounded) < (single ? SINGLE_TINY : SAFE_LO))) laneBail = true;
  else if (!exact) laneInexact = true;
  return r;
}

function addLane(x: number, y: number, single: boolean): number {
  const r = x + y;
  const exact = sumErr(x, y, r) === 0;
  if (!single) return finish(r, exact, false, r === 0 ? 0 : SAFE_LO); // finite sums of doubles are never tiny-and-inexact
  const rs = Math.fround(r); // rounding twice is innocuous for + - * / sqrt (53 >= 2*24+2)
  return finish(rs, exact && rs === r, true, r);
}

function mulLane(x: number, y: number, single: boolean): number {
  const r = x * y;
  if (single) { const rs = Math.fround(r); return finish(rs, rs === r, true, r); } // a product of singles is exact in double
  if (!safe(x) || !safe(y) || !safe(r)) { laneBail = true; return 0; }
  return finish(r, prodErr(x, y, r) === 0, false);
}

function divLane(x: number, y: number, single: boolean): number {
  if (y === 0) { laneBail = true; return 0; } // DZC or invalid: the library
  const r = x / y;
  if (single) { const rs = Math.fround(r); return finish(rs, rs * y === x, true, r); } // rs*y is exact in double
  if (!safe(x) || !safe(y) || !safe(r)) { laneBail = true; return 0; }
  const p = r * y;
  return finish(r, x - p === prodErr(r, y, p), false);
}

/** acc + x*y with a single rounding (FMLA; FMLS passes -x). */
function fmaLane(x: number, y: number, acc: number, single: boolean): number {
  if (single) {
    const p = x * y; // exact
    const s = p + acc;
    const err = sumErr(p, acc, s);
    const ro = roundToOdd(s, err); // then rounding to single is the single rounding of the exact sum
    const r = Math.fround(ro);
    return finish(r, err === 0 && r === ro, true, s);
  }
  // Boldo & Melquiond: (uh, ul) = TwoProduct(x, y); (th, tl) = TwoSum(acc, uh); v = RO(tl + ul); r = RN(th + v)
  if (!safe(x) || !safe(y) || !(Math.abs(acc) <= SAFE_HI)) { laneBail = true; return 0; }
  const uh = x * y;
  if (!safe(uh)) { laneBail = true; return 0; }
  const ul = prodErr(x, y, uh);
  const th = acc + uh;
  const tl = sumErr(acc, uh, th);
  const s = tl + ul;
  const serr = sumErr(tl, ul, s);
  const v = roundToOdd(s, serr);
  const r = th + v;
  if (!safe(r)) { laneBail = true; return 0; }
  return finish(r, serr === 0 && sumErr(th, v, r) === 0, false);
}

function sqrtLane(x: number, single: boolean): number {
  if (!(x > 0) || x === Infinity || (!single && !safe(x))) { laneBail = true; return 0; } // negative, zero, NaN, inf
  const r = Math.sqrt(x);
  if (single) { const rs = Math.fround(r); return finish(rs, rs * rs === x, true); } // rs*rs is exact in double
  const sq = r * r;
  return finish(r, sq === x && prodErr(r, r, sq) === 0, false);
}

/** x rounded to an integral value in Arm rounding mode `mode` (x finite). */
function roundIntegral(x: number, mode: Rounding): number {
  switch (mode) {
    case Rounding.PosInf: return Math.ceil(x);
    case Rounding.NegInf: return Math.floor(x);
    case Rounding.Zero: return Math.trunc(x);
    case Rounding.TieAway: { const m = Math.floor(Math.abs(x)); const r = Math.abs(x) - m >= 0.5 ? m + 1 : m; return x < 0 ? -r : r; }
    default: { // ties to even; x - floor(x) is exact
      const f = Math.floor(x), d = x - f;
      return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
    }
  }
}

/** A binary lane kernel: x (Vn lane), y (Vm lane or element), acc (Vd lane, FMLA/FMLS only). */
interface BinaryKernel {
  /** FPCR bits that must be zero. */
  mode: number;
  /** Also bail on infinite operands (arithmetic; compares and min/max take infinities exactly). */
  finite: boolean;
  /** The result is a lane mask (compares): fastOut holds 1 or 0. */
  mask?: boolean;
  lane: (x: number, y: number, acc: number, single: boolean) => number;
}

const FAST_BINARY: Record<string, BinaryKernel> = {
  FADD: { mode: FAST_MODE_MASK, finite: true, lane: (x, y, _a, s) => addLane(x, y, s) },
  FSUB: { mode: FAST_MODE_MASK, finite: true, lane: (x, y, _a, s) => addLane(x, -y, s) },
  FABD: { mode: FAST_MODE_MASK, finite: true, lane: (x, y, _a, s) => Math.abs(addLane(x, -y, s)) },
  FMUL: { mode: FAST_MODE_MASK, finite: true, lane: (x, y, _a, s) => mulLane(x, y, s) },
  FMULX: { mode: FAST_MODE_MASK, finite: true, lane: (x, y, _a, s) => mulLane(x, y, s) }, // differs from FMUL only for 0 * inf
  FDIV: { mode: FAST_MODE_MASK, finite: true, lane: (x, y, _a, s) => divLane(x, y, s) },
  FMLA: { mode: FAST_MODE_MASK, finite: true, lane: (x, y, a, s) => fmaLane(x, y, a, s) },
  FMLS: { mode: FAST_MODE_MASK, finite: true, lane: (x, y, a, s) => fmaLane(-x, y, a, s) },
  // without NaNs: max(-0, +0) = +0 and min(-0, +0) = -0 as in JS; the NM forms differ only for NaNs
  FMAX: { mode: MODE_FZ, finite: false, lane: (x, y) => Math.max(x, y) },
  FMIN: { mode: MODE_FZ, finite: false, lane: (x, y) => Math.min(x, y) },
  FMAXNM: { mode: MODE_FZ, finite: false, lane: (x, y) => Math.max(x, y) },
  FMINNM: { mode: MODE_FZ, finite: false, lane: (x, y) => Math.min(x, y) },
  FCMEQ: { mode: MODE_FZ, finite: false, mask: true, lane: (x, y) => (x === y ? 1 : 0) },
  FCMGE: { mode: MODE_FZ, finite: false, mask: true, lane: (x, y) => (x >= y ? 1 : 0) },
  FCMGT: { mode: MODE_FZ, finite: false, mask: true, lane: (x, y) => (x > y ? 1 : 0) },
  FACGE: { mode: MODE_FZ, finite: false, mask: true, lane: (x, y) => (Math.abs(x) >= Math.abs(y) ? 1 : 0) },
  FACGT: { mode: MODE_FZ, finite: false, mask: true, lane: (x, y) => (Math.abs(x) > Math.abs(y) ? 1 : 0) },
};

const fpcrOf = (cpu: Cpu) => cpu.u32[(cpu.base + S.FPCR) >> 2];

// Float views of the wasm memory (fixed-size buffer; V registers are 16-byte aligned; Node hosts are
// little-endian), made again only when another memory shows up (keyed by the Cpu's byte view)
let viewOwner: Uint8Array | null = null;
let memF32: Float32Array<ArrayBufferLike> = new Float32Array(0);
let memF64: Float64Array<ArrayBufferLike> = new Float64Array(0);

function ensureViews(cpu: Cpu): void {
  if (cpu.u8 === viewOwner) return;
  viewOwner = cpu.u8;
  memF32 = new Float32Array(cpu.u8.buffer);
  memF64 = new Float64Array(cpu.u8.buffer);
}

/** Lane i of the register at byte address addr (ensureViews first). */
function readFloat(addr: number, single: boolean, i: number): number {
  return single ? memF32[(addr >> 2) + i] : memF64[(addr >> 3) + i];
}

/** Writes fastOut[0..count) to Vd (floats, or all-ones/zero masks), clearing the rest, and IXC if any lane was inexact. */
function writeFast(cpu: Cpu, d: number, single: boolean, count: number, asMask: boolean): void {
  const dA = vAddr(cpu, d);
  ensureViews(cpu);
  const dv = cpu.dv;
  cpu.u8.fill(0, dA, dA + 16);
  for (let i = 0; i < count; i++) {
    if (asMask) {
      const m = fastOut[i] ? 0xffffffff : 0;
      if (single) dv.setUint32(dA + 4 * i, m, true); else { dv.setUint32(dA + 8 * i, m, true); dv.setUint32(dA + 8 * i + 4, m, true); }
    } else if (single) memF32[(dA >> 2) + i] = fastOut[i];
    else memF64[(dA >> 3) + i] = fastOut[i];
  }
  if (laneInexact) cpu.u32[(cpu.base + S.FPSR) >> 2] |= 1 << 4; // IXC
}

/**
 * Computes every lane of a three-same / by-element (pairwise: pairs of Vn:Vm)
 * operation on the fast path, or returns false with nothing written.
 */
function fastBinary(cpu: Cpu, a: Args, k: BinaryKernel, pairwise: boolean): boolean {
  if (fpcrOf(cpu) & k.mode) return false;
  const single = a.N === 32;
  const nA = vAddr(cpu, a.n), mA = vAddr(cpu, a.m), dA = vAddr(cpu, a.d);
  ensureViews(cpu);
  laneBail = false; laneInexact = false;
  const count = pairwise && a.extra ? 1 : a.lanes;
  for (let i = 0; i < count; i++) {
    let x: number, y: number;
    if (pairwise) { // element j of the concatenation Vm:Vn (Vn the low half)
      const j0 = 2 * i, j1 = 2 * i + 1;
      x = j0 < a.lanes ? readFloat(nA, single, j0) : readFloat(mA, single, j0 - a.lanes);
      y = j1 < a.lanes ? readFloat(nA, single, j1) : readFloat(mA, single, j1 - a.lanes);
    } else {
      x = readFloat(nA, single, i);
      y = readFloat(mA, single, a.byElement ? a.index : i);
    }
    const acc = readFloat(dA, single, i);
    if (k.finite ? !(Math.abs(x) < Infinity && Math.abs(y) < Infinity && Math.abs(acc) < Infinity) : x !== x || y !== y) return false;
    fastOut[i] = k.lane(x, y, acc, single);
    if (laneBail) return false;
  }
  writeFast(cpu, a.d, single, count, k.mask === true);
  return true;
}

/** A unary lane kernel on a float lane (extra: fraction bits of fixed-point conversions). */
interface UnaryKernel {
  mode: number;
  /** Bail on infinite operands too. */
  finite: boolean;
  /** 'float': same-size float; 'mask': compare; 'int'/'uint': integer (float->int conversions). */
  out: 'float' | 'mask' | 'int' | 'uint';
  lane: (x: number, single: boolean, extra: number, fpcr: number) => number;
}

const TWO_32 = 4294967296;

/** Float -> integer: round in `mode`, bail when out of range (saturation raises IOC: the library). */
function toIntLane(x: number, single: boolean, fbits: number, mode: Rounding, unsigned: boolean): number {
  const y = x * 2 ** fbits; // exact (or infinite, which fails the range check)
  const r = roundIntegral(y, mode);
  const lo = unsigned ? 0 : single ? -(2 ** 31) : -(2 ** 63);
  const hi = unsigned ? (single ? TWO_32 : 2 ** 64) : single ? 2 ** 31 : 2 ** 63; // exclusive
  if (!(r >= lo && r < hi)) { laneBail = true; return 0; }
  if (r !== y) laneInexact = true;
  return r;
}

const FAST_UNARY: Record<string, UnaryKernel> = {
  FSQRT: { mode: FAST_MODE_MASK, finite: true, out: 'float', lane: (x, s) => sqrtLane(x, s) },
  FABS: { mode: 0, finite: false, out: 'float', lane: x => Math.abs(x) },
  FNEG: { mode: 0, finite: false, out: 'float', lane: x => -x },
  FCMGT0: { mode: MODE_FZ, finite: false, out: 'mask', lane: x => (x > 0 ? 1 : 0) },
  FCMGE0: { mode: MODE_FZ, finite: false, out: 'mask', lane: x => (x >= 0 ? 1 : 0) },
  FCMEQ0: { mode: MODE_FZ, finite: false, out: 'mask', lane: x => (x === 0 ? 1 : 0) },
  FCMLE0: { mode: MODE_FZ, finite: false, out: 'mask', lane: x => (x <= 0 ? 1 : 0) },
  FCMLT0: { mode: MODE_FZ, finite: false, out: 'mask', lane: x => (x < 0 ? 1 : 0) },
};
for (const r of ['N', 'P', 'M', 'Z', 'A', 'X', 'I']) {
  const fixed = ROUNDING_OF[r];
  FAST_UNARY[`FRINT${r}`] = {
    mode: MODE_FZ, finite: false, out: 'float',
    lane: (x, _s, _e, fpcr) => {
      if (!Number.isFinite(x)) return x; // infinities are returned unchanged, without flags
      const res = roundIntegral(x, fixed === 'fpcr' ? (fpcr >>> 22) & 3 : fixed);
      if (r === 'X' && res !== x) laneInexact = true;
      return res === 0 ? (x < 0 || Object.is(x, -0) ? -0 : 0) : res; // a zero result keeps the operand's sign
    },
  };
}
for (const r of ['N', 'P', 'M', 'Z', 'A']) {
  const mode = ROUNDING_OF[r] as Rounding;
  FAST_UNARY[`FCVT${r}S`] = { mode: MODE_FZ, finite: true, out: 'int', lane: (x, s, fbits) => toIntLane(x, s, fbits, mode, false) };
  FAST_UNARY[`FCVT${r}U`] = { mode: MODE_FZ, finite: true, out: 'uint', lane: (x, s, fbits) => toIntLane(x, s, fbits, mode, true) };
}

/** Writes integer-valued fastOut lanes (two's complement; -2^63 <= v < 2^64). */
function writeFastInts(cpu: Cpu, d: number, single: boolean, count: number): void {
  const dA = vAddr(cpu, d);
  const dv = cpu.dv;
  cpu.u8.fill(0, dA, dA + 16);
  for (let i = 0; i < count; i++) {
    const v = fastOut[i];
    if (single) dv.setUint32(dA + 4 * i, v >>> 0, true); // ToUint32 wraps negative values
    else {
      const hi = Math.floor(v / TWO_32);
      dv.setUint32(dA + 8 * i, v - hi * TWO_32, true);
      dv.setUint32(dA + 8 * i + 4, hi >>> 0, true);
    }
  }
  if (laneInexact) cpu.u32[(cpu.base + S.FPSR) >> 2] |= 1 << 4; // IXC
}

function fastUnary(cpu: Cpu, a: Args, k: UnaryKernel): boolean {
  const fpcr = fpcrOf(cpu);
  if (fpcr & k.mode) return false;
  const single = a.N === 32;
  const nA = vAddr(cpu, a.n);
  ensureViews(cpu);
  laneBail = false; laneInexact = false;
  for (let i = 0; i < a.lanes; i++) {
    const x = readFloat(nA, single, i);
    if (k.finite ? !(Math.abs(x) < Infinity) : x !== x) return false;
    fastOut[i] = k.lane(x, single, a.extra, fpcr);
    if (laneBail) return false;
  }
  if (k.out === 'int' || k.out === 'uint') writeFastInts(cpu, a.d, single, a.lanes);
  else writeFast(cpu, a.d, single, a.lanes, k.out === 'mask');
  return true;
}

/** SCVTF/UCVTF (also fixed-point): integers to floats, round to nearest only. */
function fastIntToFloat(cpu: Cpu, a: Args, unsigned: boolean): boolean {
  if (fpcrOf(cpu) & MODE_RMODE) return false;
  const single = a.N === 32;
  const nA = vAddr(cpu, a.n);
  const dv = cpu.dv;
  const scale = 2 ** -a.extra; // exact: no result can become tiny (|v| >= 1, fbits <= 64)
  laneInexact = false;
  for (let i = 0; i < a.lanes; i++) {
    let r: number;
    if (single) {
      const v = unsigned ? dv.getUint32(nA + 4 * i, true) : dv.getInt32(nA + 4 * i, true);
      r = Math.fround(v);
      if (r !== v) laneInexact = true;
    } else {
      const hi = (unsigned ? dv.getUint32(nA + 8 * i + 4, true) : dv.getInt32(nA + 8 * i + 4, true)) * TWO_32; // exact
      const lo = dv.getUint32(nA + 8 * i, true);
      r = hi + lo; // one rounding of the exact value
      if (sumErr(hi, lo, r) !== 0) laneInexact = true;
    }
    fastOut[i] = r * scale;
  }
  writeFast(cpu, a.d, single, a.lanes, false);
  return true;
}

const binaryIds = new Map<string, number>();
const pairwiseIds = new Map<string, number>();
for (const [name, fn] of Object.entries(BINARY)) {
  const fast = FAST_BINARY[name];
  binaryIds.set(name, registerSimdHelper((cpu, raw) => {
    const a = unpack(raw);
    if (fast !== undefined && fastBinary(cpu, a, fast, false)) return 0;
    const env = envOf(cpu);
    const out: bigint[] = [];
    const bElem = a.byElement ? readLane(cpu, a.m, a.N, a.index) : 0n;
    for (let i = 0; i < a.lanes; i++) {
      const x = readLane(cpu, a.n, a.N, i);
      const y = a.byElement ? bElem : readLane(cpu, a.m, a.N, i);
      out.push(fn(a.N, x, y, env, readLane(cpu, a.d, a.N, i)));
    }
    writeLanes(cpu, a.d, a.N, out);
    commit(cpu, env);
    return 0;
  }));
  // pairwise: lanes of Vn:Vm taken two at a time (extra=1: scalar form, a pair of Vn only)
  pairwiseIds.set(name, registerSimdHelper((cpu, raw) => {
    const a = unpack(raw);
    if (fast !== undefined && fastBinary(cpu, a, fast, true)) return 0;
    const env = envOf(cpu);
    const src: bigint[] = [];
    for (let i = 0; i < a.lanes; i++) src.push(readLane(cpu, a.n, a.N, i));
    for (let i = 0; i < a.lanes; i++) src.push(readLane(cpu, a.m, a.N, i));
    const out: bigint[] = [];
    for (let i = 0; i < a.lanes; i++) out.push(fn(a.N, src[2 * i], src[2 * i + 1], env, 0n));
    writeLanes(cpu, a.d, a.N, a.extra ? [out[0]] : out);
    commit(cpu, env);
    return 0;
  }));
}

/** Three-same FP opcodes: key u<<4 | a<<3 | opcode<2:0>. */
const THREE_SAME_FP: Record<number, string> = {
  0x00: 'FMAXNM', 0x01: 'FMLA', 0x02: 'FADD', 0x03: 'FMULX', 0x04: 'FCMEQ', 0x06: 'FMAX', 0x07: 'FRECPS',
  0x08: 'FMINNM', 0x09: 'FMLS', 0x0a: 'FSUB', 0x0e: 'FMIN', 0x0f: 'FRSQRTS',
  0x10: 'FMAXNMP', 0x12: 'FADDP', 0x13: 'FMUL', 0x14: 'FCMGE', 0x15: 'FACGE', 0x16: 'FMAXP', 0x17: 'FDIV',
  0x18: 'FMINNMP', 0x1a: 'FABD', 0x1c: 'FCMGT', 0x1d: 'FACGT', 0x1e: 'FMINP',
};
const SCALAR_THREE_SAME_FP = new Set(['FMULX', 'FCMEQ', 'FRECPS', 'FRSQRTS', 'FCMGE', 'FACGE', 'FABD', 'FCMGT', 'FACGT']);

function binaryCall(t: Translator, name: string, args: number): void {
  // FADDP, FMAXP, FMINP, FMAXNMP, FMINNMP: the pairwise form of the operation without the P
  if (name.endsWith('P')) {
    callSimdHelper(t, pairwiseIds.get(name.slice(0, -1))!, args);
  } else {
    callSimdHelper(t, binaryIds.get(name)!, args);
  }
}

// ---- unary operations -----------------------------------------------------------------

type Unary = (N: Width, a: bigint, env: FpEnv, extra: number) => bigint;

const rm = (r: Rounding | 'fpcr', env: FpEnv) => (r === 'fpcr' ? env.rounding : r);

/** URECPE / URSQRTE on 32-bit unsigned fixed-point lanes. */
function unsignedRecipEstimate(a: bigint): bigint {
  const v = Number(a);
  if (v < 0x80000000) return 0xffffffffn;
  return BigInt(recipEstimate(v >>> 23)) << 23n;
}
function unsignedRSqrtEstimate(a: bigint): bigint {
  const v = Number(a);
  if (v < 0x40000000) return 0xffffffffn;
  return BigInt(recipSqrtEstimate(v >>> 23)) << 23n;
}

const UNARY: Record<string, Unary> = {
  FABS: (N, a) => fpAbs(N, a),
  FNEG: (N, a) => fpNeg(N, a),
  FSQRT: (N, a, env) => fpSqrt(N, a, env),
  FRECPE: (N, a, env) => fpRecipEstimate(N, a, env),
  FRSQRTE: (N, a, env) => fpRSqrtEstimate(N, a, env),
  FRECPX: (N, a, env) => fpRecpX(N, a, env),
  URECPE: (_N, a) => unsignedRecipEstimate(a),
  URSQRTE: (_N, a) => unsignedRSqrtEstimate(a),
  FCMGT0: (N, a, env) => mask(N, fpCompareOrdered(N, a, fpZero(N, 0), 'gt', env)),
  FCMGE0: (N, a, env) => mask(N, fpCompareOrdered(N, a, fpZero(N, 0), 'ge', env)),
  FCMEQ0: (N, a, env) => mask(N, fpCompareOrdered(N, a, fpZero(N, 0), 'eq', env)),
  FCMLE0: (N, a, env) => mask(N, fpCompareOrdered(N, fpZero(N, 0), a, 'ge', env)),
  FCMLT0: (N, a, env) => mask(N, fpCompareOrdered(N, fpZero(N, 0), a, 'gt', env)),
  SCVTF: (N, a, env, fbits) => fixedToFp(N, a, N as 32 | 64, fbits, false, env),
  UCVTF: (N, a, env, fbits) => fixedToFp(N, a, N as 32 | 64, fbits, true, env),
};
for (const r of ['N', 'P', 'M', 'Z', 'A', 'X', 'I']) {
  UNARY[`FRINT${r}`] = (N, a, env) => fpRoundInt(N, a, env, rm(ROUNDING_OF[r], env), r === 'X');
}
for (const r of ['N', 'P', 'M', 'Z', 'A']) {
  UNARY[`FCVT${r}S`] = (N, a, env, fbits) => fpToFixed(N, a, fbits, false, N as 32 | 64, env, rm(ROUNDING_OF[r], env));
  UNARY[`FCVT${r}U`] = (N, a, env, fbits) => fpToFixed(N, a, fbits, true, N as 32 | 64, env, rm(ROUNDING_OF[r], env));
}

const unaryIds = new Map<string, number>();
for (const [name, fn] of Object.entries(UNARY)) {
  const fast = FAST_UNARY[name];
  const intToFloat = name === 'SCVTF' || name === 'UCVTF';
  unaryIds.set(name, registerSimdHelper((cpu, raw) => {
    const a = unpack(raw);
    if (fast !== undefined && fastUnary(cpu, a, fast)) return 0;
    if (intToFloat && fastIntToFloat(cpu, a, name === 'UCVTF')) return 0;
    const env = envOf(cpu);
    const out: bigint[] = [];
    for (let i = 0; i < a.lanes; i++) out.push(fn(a.N, readLane(cpu, a.n, a.N, i), env, a.extra));
    writeLanes(cpu, a.d, a.N, out);
    commit(cpu, env);
    return 0;
  }));
}

/** Two-register misc FP: key u<<6 | a<<5 | opcode. */
const TWO_MISC_FP: Record<number, string> = {
  0x18: 'FRINTN', 0x19: 'FRINTM', 0x1a: 'FCVTNS', 0x1b: 'FCVTMS', 0x1c: 'FCVTAS', 0x1d: 'SCVTF',
  0x2c: 'FCMGT0', 0x2d: 'FCMEQ0', 0x2e: 'FCMLT0', 0x2f: 'FABS', 0x38: 'FRINTP', 0x39: 'FRINTZ', 0x3a: 'FCVTPS', 0x3b: 'FCVTZS',
  0x3c: 'URECPE', 0x3d: 'FRECPE', 0x3f: 'FRECPX',
  0x58: 'FRINTA', 0x59: 'FRINTX', 0x5a: 'FCVTNU', 0x5b: 'FCVTMU', 0x5c: 'FCVTAU', 0x5d: 'UCVTF',
  0x6c: 'FCMGE0', 0x6d: 'FCMLE0', 0x6f: 'FNEG', 0x79: 'FRINTI', 0x7a: 'FCVTPU', 0x7b: 'FCVTZU', 0x7c: 'URSQRTE', 0x7d: 'FRSQRTE', 0x7f: 'FSQRT',
};
const VECTOR_ONLY = new Set(['FRINTN', 'FRINTM', 'FRINTP', 'FRINTZ', 'FRINTA', 'FRINTX', 'FRINTI', 'FABS', 'FNEG', 'FSQRT', 'URECPE', 'URSQRTE']);

// ---- widening / narrowing conversions ------------------------------------------------------

/** FCVTL(2) single->double: exact for every non-NaN lane (FZ would flush denormal inputs). */
function fastWiden(cpu: Cpu, a: Args): boolean {
  if (fpcrOf(cpu) & MODE_FZ) return false;
  const nA = vAddr(cpu, a.n) + 8 * (a.extra & 1);
  for (let i = 0; i < 2; i++) {
    const x = cpu.dv.getFloat32(nA + 4 * i, true);
    if (x !== x) return false;
    fastOut[i] = x;
  }
  laneInexact = false;
  writeFast(cpu, a.d, false, 2, false);
  return true;
}

/** FCVTN(2) double->single, round to nearest: bails on NaN, overflow and possibly tiny results. */
function fastNarrow(cpu: Cpu, a: Args): boolean {
  if (fpcrOf(cpu) & FAST_MODE_MASK) return false;
  const part = a.extra & 1;
  const scalar = (a.extra & 2) !== 0;
  const count = scalar ? 1 : 2;
  const nA = vAddr(cpu, a.n);
  laneInexact = false;
  for (let i = 0; i < count; i++) {
    const x = cpu.dv.getFloat64(nA + 8 * i, true);
    const r = Math.fround(x);
    if (x !== x || (r !== x && (!Number.isFinite(r) || Math.abs(x) < SINGLE_TINY))) return false;
    if (r !== x) laneInexact = true;
    fastOut[i] = r;
  }
  // all lanes computed: now write (Vd may be Vn); the upper-half form keeps the low half
  const dA = vAddr(cpu, a.d);
  if (part === 0) cpu.u8.fill(0, dA, dA + 16);
  for (let i = 0; i < count; i++) cpu.dv.setFloat32(dA + 4 * (part * count + i), fastOut[i], true);
  if (laneInexact) cpu.u32[(cpu.base + S.FPSR) >> 2] |= 1 << 4; // IXC
  return true;
}

/** FCVTL(2): half->single (sz=0) or single->double (sz=1) from the lower/upper half. */
const FCVTL = registerSimdHelper((cpu, raw) => {
  const a = unpack(raw);
  if (a.N === 64 && fastWiden(cpu, a)) return 0;
  const env = envOf(cpu);
  const from: Width = a.N === 64 ? 32 : 16;
  const count = 128 / a.N;
  const part = a.extra & 1;
  const out: bigint[] = [];
  for (let i = 0; i < count; i++) out.push(fpConvert(from, a.N, readLane(cpu, a.n, from, i + part * count), env));
  writeLanes(cpu, a.d, a.N, out);
  commit(cpu, env);
  return 0;
});

/** FCVTN(2) / FCVTXN(2) (round to odd): single->half or double->single into the lower/upper half. */
function narrowConvert(odd: boolean) {
  return registerSimdHelper((cpu, raw) => {
    const a = unpack(raw);
    if (!odd && a.N === 64 && fastNarrow(cpu, a)) return 0;
    const env = envOf(cpu);
    const to: Width = a.N === 64 ? 32 : 16;
    const part = a.extra & 1;
    const scalar = (a.extra & 2) !== 0;
    const count = scalar ? 1 : 128 / a.N;
    const out: bigint[] = [];
    for (let i = 0; i < count; i++) out.push(fpConvert(a.N, to, readLane(cpu, a.n, a.N, i), env, odd ? Rounding.Odd : env.rounding));
    writeLanes(cpu, a.d, to, out, part * count, part === 1);
    commit(cpu, env);
    return 0;
  });
}
const FCVTN = narrowConvert(false);
const FCVTXN = narrowConvert(true);

// ---- across lanes -------------------------------------------------------------------------

const ACROSS: Record<string, Binary> = { FMAXNMV: fpMaxNum, FMINNMV: fpMinNum, FMAXV: fpMax, FMINV: fpMin };
const acrossIds = new Map<string, number>();
for (const [name, fn] of Object.entries(ACROSS)) {
  // Reduce(): pairwise tree over the four lanes, as the pseudocode does
  acrossIds.set(name, registerSimdHelper((cpu, raw) => {
    const a = unpack(raw);
    const env = envOf(cpu);
    const l = [0, 1, 2, 3].map(i => readLane(cpu, a.n, 32, i));
    const r = fn(32, fn(32, l[0], l[1], env, 0n), fn(32, l[2], l[3], env, 0n), env, 0n);
    writeLanes(cpu, a.d, 32, [r]);
    commit(cpu, env);
    return 0;
  }));
}

// ---- decode ---------------------------------------------------------------------------------

const fpLanes = (q: number, sz: number) => (q ? 4 : 2) >> sz;

function threeSameFp(t: Translator, f: Fields, scalar: boolean): void {
  const name = THREE_SAME_FP[(f.u << 4) | (f.a << 3) | (f.opcode & 7)];
  const lanes = scalar ? 1 : fpLanes(f.q, f.sz);
  const slow = () => binaryCall(t, name, pack(f.rd, f.rn, f.rm, f.sz, lanes));
  if (!scalar && hasInlineVectorFp(name)) emitInlineVectorFp(t, name, { d: f.rd, n: f.rn, m: f.rm, double: f.sz === 1, q: f.q === 1 }, slow);
  else slow();
}

function twoMiscFp(t: Translator, f: Fields, scalar: boolean): boolean | void {
  const key = (f.u << 6) | (f.a << 5) | f.opcode;
  const name = TWO_MISC_FP[key];
  const lanes = scalar ? 1 : fpLanes(f.q, f.sz);
  const slow = () => callSimdHelper(t, unaryIds.get(name)!, pack(f.rd, f.rn, 0, f.sz, lanes));
  if (!scalar && hasInlineVectorFp(name)) emitInlineVectorFp(t, name, { d: f.rd, n: f.rn, double: f.sz === 1, q: f.q === 1 }, slow);
  else slow();
}

function twoMiscFpAllowed(f: Fields, scalar: boolean): boolean {
  const key = (f.u << 6) | (f.a << 5) | f.opcode;
  const name = TWO_MISC_FP[key];
  if (!name) return false;
  if (name === 'URECPE' || name === 'URSQRTE') return !scalar && f.sz === 0;
  if (name === 'FRECPX') return scalar;
  if (scalar && VECTOR_ONLY.has(name)) return false;
  return scalar || f.sz === 0 || f.q === 1;
}

export const SIMD_FP: Encoding[] = [
  {
    name: 'SIMD_fp_3same', pattern: '0 q:1 u:1 01110 a:1 sz:1 1 rm:5 11 opcode:3 1 rn:5 rd:5',
    when: f => THREE_SAME_FP[(f.u << 4) | (f.a << 3) | f.opcode] !== undefined && (f.sz === 0 || f.q === 1),
    translate: (t, f) => threeSameFp(t, f, false),
  },
  {
    name: 'SIMD_fp_scalar_3same', pattern: '01 u:1 11110 a:1 sz:1 1 rm:5 11 opcode:3 1 rn:5 rd:5',
    when: f => SCALAR_THREE_SAME_FP.has(THREE_SAME_FP[(f.u << 4) | (f.a << 3) | f.opcode] ?? ''),
    translate: (t, f) => threeSameFp(t, f, true),
  },
  {
    // FADDP, FMAXP, FMINP, FMAXNMP, FMINNMP (scalar): the two lanes of Vn
    name: 'SIMD_fp_scalar_pairwise', pattern: '01 1 11110 a:1 sz:1 11000 opcode:5 10 rn:5 rd:5',
    when: f => (f.opcode === 0b01101 && f.a === 0) || f.opcode === 0b01100 || f.opcode === 0b01111,
    translate: (t, f) => {
      const base = f.opcode === 0b01101 ? 'FADD' : f.opcode === 0b01100 ? (f.a ? 'FMINNM' : 'FMAXNM') : (f.a ? 'FMIN' : 'FMAX');
      callSimdHelper(t, pairwiseIds.get(base)!, pack(f.rd, f.rn, f.rn, f.sz, 2, 0, 0, 1));
    },
  },
  {
    name: 'SIMD_fp_2misc', pattern: '0 q:1 u:1 01110 a:1 sz:1 10000 opcode:5 10 rn:5 rd:5',
    when: f => twoMiscFpAllowed(f, false),
    translate: (t, f) => twoMiscFp(t, f, false),
  },
  {
    name: 'SIMD_fp_scalar_2misc', pattern: '01 u:1 11110 a:1 sz:1 10000 opcode:5 10 rn:5 rd:5',
    when: f => twoMiscFpAllowed(f, true),
    translate: (t, f) => twoMiscFp(t, f, true),
  },
  {
    // FCVTL/FCVTL2 (u0 a0 10111), FCVTN/FCVTN2 (u0 a0 10110), FCVTXN/FCVTXN2 (u1 a0 10110, sz=1)
    name: 'SIMD_fp_cvt_long_narrow', pattern: '0 q:1 u:1 01110 0 sz:1 10000 1011 l:1 10 rn:5 rd:5',
    when: f => (f.u === 0) || (f.l === 0 && f.sz === 1),
    translate: (t, f) => {
      const sz = f.sz;
      const shape = { d: f.rd, n: f.rn, double: true, q: f.q === 1 };
      if (f.l) {
        const slow = () => callSimdHelper(t, FCVTL, pack(f.rd, f.rn, 0, sz, 1, 0, 0, f.q));
        return sz ? emitInlineVectorFp(t, 'FCVTL', shape, slow) : slow(); // half -> single: helper only
      }
      const slow = () => callSimdHelper(t, f.u ? FCVTXN : FCVTN, pack(f.rd, f.rn, 0, sz, 1, 0, 0, f.q));
      if (sz && !f.u) emitInlineVectorFp(t, 'FCVTN', shape, slow); else slow();
    },
  },
  {
    name: 'SIMD_fp_scalar_FCVTXN', pattern: '01 1 11110 0 1 10000 10110 10 rn:5 rd:5',
    translate: (t, f) => callSimdHelper(t, FCVTXN, pack(f.rd, f.rn, 0, 1, 1, 0, 0, 2)),
  },
  {
    name: 'SIMD_fp_across', pattern: '0 1 1 01110 a:1 0 11000 opcode:5 10 rn:5 rd:5',
    when: f => f.opcode === 0b01100 || f.opcode === 0b01111,
    translate: (t, f) => {
      const name = f.opcode === 0b01100 ? (f.a ? 'FMINNMV' : 'FMAXNMV') : (f.a ? 'FMINV' : 'FMAXV');
      callSimdHelper(t, acrossIds.get(name)!, pack(f.rd, f.rn, 0, 0, 4));
    },
  },
  {
    // FMLA (u0 0001), FMLS (u0 0101), FMUL (u0 1001), FMULX (u1 1001) by element; index H:L (single) or H (double)
    name: 'SIMD_fp_by_element', pattern: '0 q:1 u:1 01111 1 sz:1 l:1 m:1 rm:4 opcode:4 h:1 0 rn:5 rd:5',
    when: f => (f.u === 0 ? [1, 5, 9].includes(f.opcode) : f.opcode === 9) && !(f.sz === 1 && (f.l === 1 || f.q === 0)),
    translate: (t, f) => {
      const name = f.u ? 'FMULX' : f.opcode === 1 ? 'FMLA' : f.opcode === 5 ? 'FMLS' : 'FMUL';
      const index = f.sz ? f.h : (f.h << 1) | f.l;
      const m = (f.m << 4) | f.rm;
      const slow = () => callSimdHelper(t, binaryIds.get(name)!, pack(f.rd, f.rn, m, f.sz, fpLanes(f.q, f.sz), index, 1));
      if (hasInlineVectorFp(name)) emitInlineVectorFp(t, name, { d: f.rd, n: f.rn, m, double: f.sz === 1, q: f.q === 1, index }, slow);
      else slow();
    },
  },
  {
    name: 'SIMD_fp_scalar_by_element', pattern: '01 u:1 11111 1 sz:1 l:1 m:1 rm:4 opcode:4 h:1 0 rn:5 rd:5',
    when: f => (f.u === 0 ? [1, 5, 9].includes(f.opcode) : f.opcode === 9) && !(f.sz === 1 && f.l === 1),
    translate: (t, f) => {
      const name = f.u ? 'FMULX' : f.opcode === 1 ? 'FMLA' : f.opcode === 5 ? 'FMLS' : 'FMUL';
      const index = f.sz ? f.h : (f.h << 1) | f.l;
      callSimdHelper(t, binaryIds.get(name)!, pack(f.rd, f.rn, (f.m << 4) | f.rm, f.sz, 1, index, 1));
    },
  },
  {
    // SCVTF/UCVTF (opcode 11100) and FCVTZS/FCVTZU (11111) with fraction bits, vector; immh 01xx single, 1xxx double
    name: 'SIMD_fp_fixed', pattern: '0 q:1 u:1 011110 immh:4 immb:3 111 op:1 op2:1 1 rn:5 rd:5',
    when: f => f.op === f.op2 && f.immh >= 4 && !(f.immh >= 8 && f.q === 0),
    translate: (t, f) => {
      const sz = f.immh >= 8 ? 1 : 0;
      const esize = sz ? 64 : 32;
      const fbits = 2 * esize - ((f.immh << 3) | f.immb);
      const name = f.op ? (f.u ? 'FCVTZU' : 'FCVTZS') : (f.u ? 'UCVTF' : 'SCVTF');
      const slow = () => callSimdHelper(t, unaryIds.get(name)!, pack(f.rd, f.rn, 0, sz, fpLanes(f.q, sz), 0, 0, fbits));
      emitInlineVectorFp(t, name, { d: f.rd, n: f.rn, double: sz === 1, q: f.q === 1, fbits }, slow);
    },
  },
  {
    name: 'SIMD_fp_scalar_fixed', pattern: '01 u:1 111110 immh:4 immb:3 111 op:1 op2:1 1 rn:5 rd:5',
    when: f => f.op === f.op2 && f.immh >= 4,
    translate: (t, f) => {
      const sz = f.immh >= 8 ? 1 : 0;
      const esize = sz ? 64 : 32;
      const fbits = 2 * esize - ((f.immh << 3) | f.immb);
      const name = f.op ? (f.u ? 'FCVTZU' : 'FCVTZS') : (f.u ? 'UCVTF' : 'SCVTF');
      callSimdHelper(t, unaryIds.get(name)!, pack(f.rd, f.rn, 0, sz, 1, 0, 0, fbits));
    },
  },
];
