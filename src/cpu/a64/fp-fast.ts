// Inline WebAssembly fast paths of scalar FP arithmetic.
//
// WebAssembly f32/f64 arithmetic is IEEE round-to-nearest-even without
// exception flags and with its own NaN bits. The fast path is taken only
// when FPCR is in the default mode (RMode = RN, FZ = 0, DN = 0; checked at
// run time with one load, so FPCR writes from anywhere take effect without
// retranslation) and when the result is finite and comfortably inside the
// normal range, where the architecture's result is the IEEE one and the
// only flag that can arise is Inexact. Inexactness is detected exactly with
// error-free transformations:
//   - double add/sub: TwoSum (Knuth), exact for every finite sum;
//   - double mul/div/sqrt/fma: Dekker's TwoProduct (no hardware FMA in wasm),
//     exact when both factors are within [2^-960, 2^995] and the product is
//     at least 2^-960 in magnitude, which the guards ensure;
//   - single: f64 holds a product of two singles exactly, and rounding to
//     double then to single is innocuous for + - * / sqrt (53 >= 2*24+2), so
//     the single result is demote(double op) and exactness is a comparison.
//   - fused multiply-add: single computes the exact product in f64, adds
//     the addend with TwoSum and rounds that sum to odd before demoting;
//     double uses Boldo & Melquiond's emulation (TwoProduct, TwoSum, an
//     addition rounded to odd, a final rounding to nearest).
// Everything else (NaNs, infinities, division by zero, tiny or huge values,
// other FPCR modes) branches to the slow path: the exact library through
// the `fpOp` helper, which also computes all flags.
//
// Tiny results are never handled here: Arm detects underflow before
// rounding, which IEEE hardware semantics cannot tell us.

import type { Translator } from '../jit/translator';
import { Op, ValType } from '../jit/wasm-emitter';
import { FPCR_DN, FPCR_FZ, FPSR_IXC } from '../fp/softfloat';
import { orFpsr, pushF32, pushF64, pushFpcr, writeScalar } from './vreg';

const F64 = ValType.F64;
/** FPCR bits that must be zero for the fast path (DN, FZ, RMode). */
const FAST_MODE_MASK = FPCR_DN | FPCR_FZ | (3 << 22);
const SAFE_LO = 2 ** -960;
const SAFE_HI = 2 ** 995;
const SPLITTER = 134217729; // 2^27 + 1

/** Ops with a fast path (FP_2SRC names). */
export const FAST_BINARY: Record<string, boolean> = { FADD: true, FSUB: true, FMUL: true, FDIV: true };

/**
 * block $done { block $slow { fast mode? ; body (br_if 0 = slow) ; br 1 } slow() }
 * The body must be straight-line (no nested blocks) so depth 0 is $slow.
 */
function frame(t: Translator, body: () => void, slow: () => void): void {
  const f = t.fb;
  f.block();
  f.block();
  pushFpcr(t);
  f.i32(FAST_MODE_MASK).op(Op.i32_and).brIf(0);
  body();
  f.br(1);
  f.end();
  slow();
  f.end();
}

/** Branches to the slow path unless SAFE_LO <= |x| <= SAFE_HI (NaN fails). */
function requireSafe(t: Translator, x: number): void {
  const f = t.fb;
  f.get(x).op(Op.f64_abs).f64(SAFE_LO).op(Op.f64_ge);
  f.get(x).op(Op.f64_abs).f64(SAFE_HI).op(Op.f64_le);
  f.op(Op.i32_and).op(Op.i32_eqz).brIf(0);
}

/** Branches to the slow path unless x is finite (not NaN, not infinite). */
function requireFinite(t: Translator, x: number): void {
  t.fb.get(x).op(Op.f64_abs).f64(Infinity).op(Op.f64_lt).op(Op.i32_eqz).brIf(0);
}

function local(t: Translator, value: () => void): number {
  const l = t.fb.local(F64);
  value();
  t.fb.set(l);
  return l;
}

/** err of s = RN(a + b): (a - (s - bb)) + (b - bb), bb = s - a. */
function twoSumErr(t: Translator, s: number, a: number, b: number): number {
  const f = t.fb;
  const bb = local(t, () => f.get(s).get(a).op(Op.f64_sub));
  const err = local(t, () => {
    f.get(a).get(s).get(bb).op(Op.f64_sub).op(Op.f64_sub);
    f.get(b).get(bb).op(Op.f64_sub).op(Op.f64_add);
  });
  t.release(bb);
  return err;
}

/** err of p = RN(a * b) by Dekker's splitting (exact under the SAFE guards). */
function twoProdErr(t: Translator, p: number, a: number, b: number): number {
  const f = t.fb;
  const split = (x: number): [number, number] => {
    const c = local(t, () => f.get(x).f64(SPLITTER).op(Op.f64_mul));
    const hi = local(t, () => f.get(c).get(c).get(x).op(Op.f64_sub).op(Op.f64_sub));
    const lo = local(t, () => f.get(x).get(hi).op(Op.f64_sub));
    t.release(c);
    return [hi, lo];
  };
  const [ah, al] = split(a);
  const [bh, bl] = split(b);
  const err = local(t, () => {
    f.get(ah).get(bh).op(Op.f64_mul).get(p).op(Op.f64_sub);
    f.get(ah).get(bl).op(Op.f64_mul).op(Op.f64_add);
    f.get(al).get(bh).op(Op.f64_mul).op(Op.f64_add);
    f.get(al).get(bl).op(Op.f64_mul).op(Op.f64_add);
  });
  t.release(ah, al, bh, bl);
  return err;
}

/** FPSR.IXC |= (cond pushed as i32 0/1). */
function setInexactIf(t: Translator, cond: () => void): void {
  orFpsr(t, () => { cond(); t.fb.i32(Math.log2(FPSR_IXC)).op(Op.i32_shl); });
}

function loadOperand(t: Translator, N: 32 | 64, n: number): number {
  return local(t, () => { if (N === 64) pushF64(t, n); else { pushF32(t, n); t.fb.op(Op.f64_promote_f32); } });
}

/** Stores the f64 local r as Vd (demoted to single for N = 32). */
function storeResult(t: Translator, N: 32 | 64, d: number, r: number): void {
  writeScalar(t, d, N, 'float', () => { t.fb.get(r); if (N === 32) t.fb.op(Op.f32_demote_f64); });
}

/** The single-precision result of the exact-or-double value x, and whether it differs (inexact). */
function demoteChecked(t: Translator, x: number): { r: number } {
  const r = local(t, () => t.fb.get(x).op(Op.f32_demote_f64).op(Op.f64_promote_f32));
  return { r };
}

export function emitFastBinary(t: Translator, name: string, N: 32 | 64, d: number, n: number, m: number, slow: () => void): void {
  const f = t.fb;
  frame(t, () => {
    const a = loadOperand(t, N, n), b = loadOperand(t, N, m);
    if (name === 'FSUB') f.get(b).op(Op.f64_neg).set(b); // a - b == a + (-b) exactly for non-NaN operands
    const op = name === 'FMUL' ? Op.f64_mul : name === 'FDIV' ? Op.f64_div : Op.f64_add;
    const x = local(t, () => f.get(a).get(b).op(op));
    if (N === 64) {
      if (name === 'FADD' || name === 'FSUB') {
        // sums of doubles that come out finite are never tiny-and-inexact: only IXC can arise
        requireFinite(t, x);
        const err = twoSumErr(t, x, a, b);
        setInexactIf(t, () => f.get(err).f64(0).op(Op.f64_ne));
        t.release(err);
      } else if (name === 'FMUL') {
        requireSafe(t, a); requireSafe(t, b); requireSafe(t, x);
        const err = twoProdErr(t, x, a, b);
        setInexactIf(t, () => f.get(err).f64(0).op(Op.f64_ne));
        t.release(err);
      } else { // FDIV: exact iff a == q*b, i.e. (a - p) == err where p + err = q*b
        requireSafe(t, a); requireSafe(t, b); requireSafe(t, x);
        const p = local(t, () => f.get(x).get(b).op(Op.f64_mul));
        const err = twoProdErr(t, p, x, b);
        setInexactIf(t, () => f.get(a).get(p).op(Op.f64_sub).get(err).op(Op.f64_ne));
        t.release(err, p);
      }
      storeResult(t, 64, d, x);
    } else {
      const { r } = demoteChecked(t, x);
      requireFinite(t, r);
      if (name === 'FADD' || name === 'FSUB') {
        const err = twoSumErr(t, x, a, b);
        setInexactIf(t, () => { f.get(err).f64(0).op(Op.f64_ne); f.get(r).get(x).op(Op.f64_ne).op(Op.i32_or); });
        t.release(err);
      } else {
        // products and quotients: tininess (before rounding) goes to the slow path
        f.get(x).op(Op.f64_abs).f64(2 ** -125).op(Op.f64_lt).get(a).f64(0).op(Op.f64_ne).op(Op.i32_and).brIf(0);
        if (name === 'FMUL') setInexactIf(t, () => f.get(r).get(x).op(Op.f64_ne)); // x is the exact product
        else {
          requireFinite(t, b); // x / inf = 0 exactly, but the check below would see 0 * inf = NaN
          setInexactIf(t, () => f.get(r).get(b).op(Op.f64_mul).get(a).op(Op.f64_ne)); // r*b is exact in f64
        }
      }
      storeResult(t, 32, d, r);
      t.release(r);
    }
    t.release(a, b, x);
  }, slow);
}

export function emitFastSqrt(t: Translator, N: 32 | 64, d: number, n: number, slow: () => void): void {
  const f = t.fb;
  frame(t, () => {
    const a = loadOperand(t, N, n);
    if (N === 64) requireSafe(t, a);
    // negative operands (NaN result), NaNs, infinities and zeros go to the slow path
    f.get(a).f64(0).op(Op.f64_gt).get(a).f64(Infinity).op(Op.f64_lt).op(Op.i32_and).op(Op.i32_eqz).brIf(0);
    const x = local(t, () => f.get(a).op(Op.f64_sqrt));
    if (N === 64) {
      const sq = local(t, () => f.get(x).get(x).op(Op.f64_mul));
      const err = twoProdErr(t, sq, x, x);
      // exact iff x*x == a: RN(x*x) == a and no residual
      setInexactIf(t, () => {
        f.get(sq).get(a).op(Op.f64_ne);
        f.get(err).f64(0).op(Op.f64_ne).op(Op.i32_or);
      });
      t.release(err, sq);
      storeResult(t, 64, d, x);
    } else {
      const { r } = demoteChecked(t, x);
      setInexactIf(t, () => f.get(r).get(r).op(Op.f64_mul).get(a).op(Op.f64_ne));
      storeResult(t, 32, d, r);
      t.release(r);
    }
    t.release(a, x);
  }, slow);
}

/** s rounded to odd given the exact error err of s (s != 0 when err != 0): the neighbour with an odd last bit. */
function roundToOdd(t: Translator, s: number, err: number): number {
  const f = t.fb;
  const bits = f.local(ValType.I64);
  f.get(s).op(Op.i64_reinterpret_f64).set(bits);
  // adjust = err != 0 && last bit even ? (sign(err) == sign(s) ? +1 : -1) : 0
  const ro = local(t, () => {
    f.get(bits);
    f.get(err).op(Op.f64_abs).f64(0).op(Op.f64_gt);
    f.get(bits).op(Op.i32_wrap_i64).i32(1).op(Op.i32_and).op(Op.i32_eqz).op(Op.i32_and);
    f.if(ValType.I64);
    f.i64(1n).i64(-1n);
    // same sign? (compared directly: err * s underflows to 0 when err is tiny, e.g. a denormal addend)
    f.get(err).f64(0).op(Op.f64_gt).get(s).f64(0).op(Op.f64_gt).op(Op.i32_eq);
    f.op(Op.select);
    f.else();
    f.i64(0n);
    f.end();
    f.op(Op.i64_add).op(Op.f64_reinterpret_i64);
  });
  t.release(bits);
  return ro;
}

export function emitFastMulAdd(t: Translator, N: 32 | 64, negAddend: boolean, negProduct: boolean,
  d: number, n: number, m: number, ra: number, slow: () => void): void {
  const f = t.fb;
  frame(t, () => {
    const a = loadOperand(t, N, n), b = loadOperand(t, N, m), c = loadOperand(t, N, ra);
    if (negProduct) f.get(a).op(Op.f64_neg).set(a);
    if (negAddend) f.get(c).op(Op.f64_neg).set(c);
    if (N === 32) {
      const p = local(t, () => f.get(a).get(b).op(Op.f64_mul)); // exact
      const s = local(t, () => f.get(p).get(c).op(Op.f64_add));
      requireFinite(t, s);
      // tiny results (Arm's underflow is detected before rounding) take the slow path
      f.get(s).op(Op.f64_abs).f64(2 ** -125).op(Op.f64_lt).get(s).f64(0).op(Op.f64_ne).op(Op.i32_and).brIf(0);
      const err = twoSumErr(t, s, p, c);
      const ro = roundToOdd(t, s, err);
      const { r } = demoteChecked(t, ro);
      requireFinite(t, r);
      setInexactIf(t, () => { f.get(err).f64(0).op(Op.f64_ne); f.get(r).get(ro).op(Op.f64_ne).op(Op.i32_or); });
      storeResult(t, 32, d, r);
      t.release(p, s, err, ro, r);
    } else {
      // Boldo & Melquiond: (uh, ul) = TwoProduct(a, b); (th, tl) = TwoSum(c, uh); v = RO(tl + ul); r = RN(th + v)
      requireSafe(t, a); requireSafe(t, b);
      const uh = local(t, () => f.get(a).get(b).op(Op.f64_mul));
      requireSafe(t, uh);
      f.get(c).op(Op.f64_abs).f64(SAFE_HI).op(Op.f64_le).op(Op.i32_eqz).brIf(0); // also rejects NaN
      const ul = twoProdErr(t, uh, a, b);
      const th = local(t, () => f.get(c).get(uh).op(Op.f64_add));
      const tl = twoSumErr(t, th, c, uh);
      const s = local(t, () => f.get(tl).get(ul).op(Op.f64_add));
      const serr = twoSumErr(t, s, tl, ul);
      const v = roundToOdd(t, s, serr);
      const r = local(t, () => f.get(th).get(v).op(Op.f64_add));
      requireSafe(t, r);
      const rerr = twoSumErr(t, r, th, v);
      setInexactIf(t, () => { f.get(serr).f64(0).op(Op.f64_ne); f.get(rerr).f64(0).op(Op.f64_ne).op(Op.i32_or); });
      storeResult(t, 64, d, r);
      t.release(uh, ul, th, tl, s, serr, v, r, rerr);
    }
    t.release(a, b, c);
  }, slow);
}
