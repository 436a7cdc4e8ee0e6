// Integer lane operations of Advanced SIMD, as i64 wasm code. Lane values
// arrive sign- or zero-extended to i64 (see simd-common `lane`), so results
// of 8/16/32-bit lanes are exact and saturation is a clamp; 64-bit lanes
// use explicit overflow tests. Each function pushes the lane result (only
// its low 8<<esz bits are kept when it is inserted).

import type { Translator } from '../jit/translator';
import { Op } from '../jit/wasm-emitter';
import { Saturation, saturateTo, signedMax, unsignedMax } from './simd-common';
import { ValType } from '../jit/wasm-emitter';

export interface LaneCtx { t: Translator; sat: Saturation }

/** A lane operation: operands are i64 locals (d: the destination's old lane, for accumulating ops). */
export type LaneFn = (c: LaneCtx, a: number, b: number, esz: number, signed: boolean, d: number) => void;

/** Stack i32 0/1 -> i64 all-zeros/all-ones. */
export function boolToMask(t: Translator): void {
  t.fb.op(Op.i64_extend_i32_u).i64(-1n).op(Op.i64_mul);
}

/** r = value; clamp to the element range (QC on clamp); push. esz < 3 only. */
function clamp(c: LaneCtx, esz: number, signed: boolean, value: () => void): void {
  const f = c.t.fb;
  const r = f.local(ValType.I64);
  value();
  f.set(r);
  saturateTo(c.t, c.sat, r, esz, signed);
  f.release(r);
}

/** Saturating add/sub of 64-bit lanes with the overflow tests of two's complement arithmetic. */
function sat64(c: LaneCtx, a: number, b: number, signed: boolean, sub: boolean): void {
  const f = c.t.fb;
  const r = f.local(ValType.I64);
  f.get(a).get(b).op(sub ? Op.i64_sub : Op.i64_add).set(r);
  if (signed) {
    // overflow when the operands' signs make it possible and the result's sign differs from a's
    if (sub) f.get(a).get(b).op(Op.i64_xor).get(a).get(r).op(Op.i64_xor).op(Op.i64_and);
    else f.get(a).get(r).op(Op.i64_xor).get(b).get(r).op(Op.i64_xor).op(Op.i64_and);
    f.i64(0n).op(Op.i64_lt_s).if();
    c.sat.set();
    f.get(a).i64(63n).op(Op.i64_shr_s).i64(signedMax(3)).op(Op.i64_xor).set(r);
    f.end();
  } else {
    if (sub) f.get(a).get(b).op(Op.i64_lt_u);
    else f.get(r).get(a).op(Op.i64_lt_u);
    f.if();
    c.sat.set();
    f.i64(sub ? 0n : -1n).set(r);
    f.end();
  }
  f.get(r);
  f.release(r);
}

export const satAdd: LaneFn = (c, a, b, esz, signed) => {
  if (esz === 3) return sat64(c, a, b, signed, false);
  clamp(c, esz, signed, () => c.t.fb.get(a).get(b).op(Op.i64_add));
};

export const satSub: LaneFn = (c, a, b, esz, signed) => {
  if (esz === 3) return sat64(c, a, b, signed, true);
  clamp(c, esz, signed, () => c.t.fb.get(a).get(b).op(Op.i64_sub));
};

/**
 * Pushes a >> n (arithmetic when signed) for an i32 local n in 0..255,
 * where shifting by 64 or more gives the sign (signed) or zero: wasm would
 * take the count modulo 64.
 */
function shrBy(t: Translator, a: number, n: number, signed: boolean): void {
  const f = t.fb;
  if (signed) f.get(a).i64(63n).op(Op.i64_shr_s); else f.i64(0n);
  f.get(a).get(n).op(Op.i64_extend_i32_u).op(signed ? Op.i64_shr_s : Op.i64_shr_u);
  f.get(n).i32(64).op(Op.i32_ge_u).op(Op.select);
}

/**
 * SSHL/USHL/SRSHL/URSHL/SQSHL/UQSHL/SQRSHL/UQRSHL: shift a by the signed
 * low byte of b (negative shifts right), optionally rounding and saturating.
 */
export function shiftByRegister(round: boolean, saturate: boolean): LaneFn {
  return (c, a, b, esz, signed) => {
    const t = c.t, f = t.fb;
    const esize = 8 << esz;
    const sh = f.local(ValType.I32);
    const n = f.local(ValType.I32);
    const r = f.local(ValType.I64);
    f.get(b).op(Op.i32_wrap_i64).op(Op.i32_extend8_s).set(sh);
    f.get(sh).i32(0).op(Op.i32_ge_s).if(ValType.I64);
    // left shift
    if (!saturate) {
      f.i64(0n).get(a).get(sh).op(Op.i64_extend_i32_u).op(Op.i64_shl).get(sh).i32(esize).op(Op.i32_ge_s).op(Op.select);
    } else {
      f.get(a).op(Op.i64_eqz).if(ValType.I64).i64(0n).else();
      f.get(sh).i32(esize).op(Op.i32_ge_s).if(ValType.I64);
      c.sat.set();
      if (signed) f.get(a).i64(63n).op(Op.i64_shr_s).i64(signedMax(esz)).op(Op.i64_xor);
      else f.i64(unsignedMax(esz));
      f.else();
      f.get(a).get(sh).op(Op.i64_extend_i32_u).op(Op.i64_shl).set(r);
      if (esz < 3) {
        saturateTo(t, c.sat, r, esz, signed);
      } else {
        // bits shifted out (or a sign change) show as a mismatch when shifting back
        f.get(r).get(sh).op(Op.i64_extend_i32_u).op(signed ? Op.i64_shr_s : Op.i64_shr_u).get(a).op(Op.i64_ne).if();
        c.sat.set();
        if (signed) f.get(a).i64(63n).op(Op.i64_shr_s).i64(signedMax(3)).op(Op.i64_xor).set(r);
        else f.i64(-1n).set(r);
        f.end();
        f.get(r);
      }
      f.end();
      f.end();
    }
    f.else();
    // right shift by n = -sh (1..128); rounding adds the last bit shifted out
    f.i32(0).get(sh).op(Op.i32_sub).set(n);
    shrBy(t, a, n, signed);
    if (round) {
      f.get(n).i32(1).op(Op.i32_sub).set(n);
      shrBy(t, a, n, signed);
      f.i64(1n).op(Op.i64_and).op(Op.i64_add);
    }
    f.end();
    f.release(sh); f.release(n); f.release(r);
  };
}

/** SQDMULH / SQRDMULH: high half of 2*a*b (rounded), saturating (only MIN*MIN overflows). */
export function doublingMulHigh(round: boolean): LaneFn {
  return (c, a, b, esz) => {
    const esize = 8 << esz;
    clamp(c, esz, true, () => {
      const f = c.t.fb;
      f.get(a).get(b).op(Op.i64_mul);
      if (round) f.i64(1n << BigInt(esize - 2)).op(Op.i64_add);
      f.i64(BigInt(esize - 1)).op(Op.i64_shr_s);
    });
  };
}

/** Carry-less multiply of two bytes (PMUL), low 8 bits of the product kept by the caller. */
export const polyMul8: LaneFn = (c, a, b) => {
  const f = c.t.fb;
  f.i64(0n);
  for (let i = 0; i < 8; i++) {
    // r ^= (b >> i & 1) ? a << i : 0
    f.get(a).i64(BigInt(i)).op(Op.i64_shl);
    f.i64(0n).get(b).i64(BigInt(i)).op(Op.i64_shr_u).i64(1n).op(Op.i64_and).op(Op.i64_sub).op(Op.i64_and);
    f.op(Op.i64_xor);
  }
};

const bin = (op: number): LaneFn => (c, a, b) => { c.t.fb.get(a).get(b).op(op); };
const cmp = (sOp: number, uOp: number): LaneFn => (c, a, b, _e, signed) => {
  c.t.fb.get(a).get(b).op(signed ? sOp : uOp);
  boolToMask(c.t);
};
const pick = (sOp: number, uOp: number): LaneFn => (c, a, b, _e, signed) => {
  c.t.fb.get(a).get(b).get(a).get(b).op(signed ? sOp : uOp).op(Op.select);
};
const absDiff: LaneFn = (c, a, b) => {
  const f = c.t.fb;
  f.get(a).get(b).op(Op.i64_sub).get(b).get(a).op(Op.i64_sub).get(a).get(b).op(Op.i64_ge_s).op(Op.select);
};

export const laneOps = {
  add: bin(Op.i64_add),
  sub: bin(Op.i64_sub),
  mul: bin(Op.i64_mul),
  and: bin(Op.i64_and),
  halvingAdd: ((c, a, b) => { c.t.fb.get(a).get(b).op(Op.i64_add).i64(1n).op(Op.i64_shr_s); }) as LaneFn,
  roundingHalvingAdd: ((c, a, b) => { c.t.fb.get(a).get(b).op(Op.i64_add).i64(1n).op(Op.i64_add).i64(1n).op(Op.i64_shr_s); }) as LaneFn,
  halvingSub: ((c, a, b) => { c.t.fb.get(a).get(b).op(Op.i64_sub).i64(1n).op(Op.i64_shr_s); }) as LaneFn,
  cmgt: cmp(Op.i64_gt_s, Op.i64_gt_u),
  cmge: cmp(Op.i64_ge_s, Op.i64_ge_u),
  cmeq: ((c, a, b) => { c.t.fb.get(a).get(b).op(Op.i64_eq); boolToMask(c.t); }) as LaneFn,
  cmtst: ((c, a, b) => { c.t.fb.get(a).get(b).op(Op.i64_and).i64(0n).op(Op.i64_ne); boolToMask(c.t); }) as LaneFn,
  max: pick(Op.i64_gt_s, Op.i64_gt_u),
  min: pick(Op.i64_lt_s, Op.i64_lt_u),
  absDiff,
  absDiffAcc: ((c, a, b, e, s, d) => { absDiff(c, a, b, e, s, d); c.t.fb.get(d).op(Op.i64_add); }) as LaneFn,
  mla: ((c, a, b, _e, _s, d) => { c.t.fb.get(d).get(a).get(b).op(Op.i64_mul).op(Op.i64_add); }) as LaneFn,
  mls: ((c, a, b, _e, _s, d) => { c.t.fb.get(d).get(a).get(b).op(Op.i64_mul).op(Op.i64_sub); }) as LaneFn,
};

