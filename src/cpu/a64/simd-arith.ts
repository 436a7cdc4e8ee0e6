// Advanced SIMD integer groups beyond "three same": two-register
// miscellaneous, across lanes, shift by immediate, three different
// (long/wide/narrow) and by element, in vector and scalar forms.

import type { Encoding, Fields } from '../jit/decode';
import type { Translator } from '../jit/translator';
import { Op, OpSIMD, ValType } from '../jit/wasm-emitter';
import { lane, pushV, readV, Saturation, saturateTo, signedMax, writeLanes, writeV } from './simd-common';
import { boolToMask, doublingMulHigh, laneOps, satAdd, satSub, shiftByRegister, type LaneCtx, type LaneFn } from './simd-int';

const S = OpSIMD;
const I64 = ValType.I64;
const lanesOf = (q: number, esz: number) => (q ? 16 : 8) >> esz;

/** A unary lane function: pushes the result from i64 local a (d: old destination lane). */
type Unary = (c: LaneCtx, a: number, esz: number, d: number) => void;

/** Generic unary lane loop: dst lanes of esz from source lanes of srcEsz (same index unless `src` maps it). */
function unaryLanes(t: Translator, o: {
  rd: number; rn: number; esz: number; srcEsz?: number; count: number; signed: boolean; fn: Unary;
  /** The accumulator's signedness when it differs from the operand's (SUQADD/USQADD). */
  accSigned?: boolean;
  acc?: boolean; first?: number; keepBase?: boolean; src?: (i: number) => number;
}): void {
  const f = t.fb;
  const sat = new Saturation(t);
  const c: LaneCtx = { t, sat };
  const n = readV(t, o.rn);
  const dOld = o.acc || o.keepBase ? readV(t, o.rd) : -1;
  const a = f.local(I64), d = f.local(I64);
  writeLanes(t, o.rd, { esz: o.esz, count: o.count, first: o.first, base: o.keepBase ? dOld : undefined }, i => {
    lane(t, n, o.srcEsz ?? o.esz, o.src ? o.src(i) : i, o.signed); f.set(a);
    if (o.acc) { lane(t, dOld, o.esz, i, o.accSigned ?? o.signed); f.set(d); }
    o.fn(c, a, o.esz, d);
  });
  sat.commit();
  f.release(a); f.release(d); f.release(n); if (dOld >= 0) f.release(dOld);
}

/** r = value; clamp to esz (signed/unsigned) with QC; push. */
function clampTo(c: LaneCtx, esz: number, signed: boolean, value: () => void, valueUnsigned = false): void {
  const f = c.t.fb;
  const r = f.local(I64);
  value();
  f.set(r);
  saturateTo(c.t, c.sat, r, esz, signed, valueUnsigned);
  f.release(r);
}

const abs: Unary = (c, a) => {
  c.t.fb.i64(0n).get(a).op(Op.i64_sub).get(a).get(a).i64(0n).op(Op.i64_lt_s).op(Op.select);
};

/** SQABS/SQNEG: exact for narrow lanes; for 64-bit only MIN overflows. */
function satAbsNeg(neg: boolean): Unary {
  return (c, a, esz, d) => {
    const f = c.t.fb;
    if (esz < 3) {
      clampTo(c, esz, true, () => { if (neg) f.i64(0n).get(a).op(Op.i64_sub); else abs(c, a, esz, d); });
      return;
    }
    const r = f.local(I64);
    if (neg) f.i64(0n).get(a).op(Op.i64_sub); else abs(c, a, esz, d);
    f.set(r);
    f.get(a).i64(-(1n << 63n)).op(Op.i64_eq).if();
    c.sat.set(); f.i64(signedMax(3)).set(r);
    f.end();
    f.get(r);
    f.release(r);
  };
}

/** SUQADD (signed acc + unsigned operand) / USQADD (unsigned acc + signed operand); a = Vn lane, d = Vd lane. */
function accumulateMixed(unsignedAcc: boolean): Unary {
  return (c, a, esz, d) => {
    const f = c.t.fb;
    if (esz < 3) {
      // a arrives extended for the operand's signedness; the accumulator for its own
      clampTo(c, esz, !unsignedAcc, () => f.get(d).get(a).op(Op.i64_add));
      return;
    }
    const r = f.local(I64);
    f.get(d).get(a).op(Op.i64_add).set(r);
    if (!unsignedAcc) {
      // n >= 2^63 (negative as signed): saturates unless d < 0 and the sum stays below 2^63
      f.get(a).i64(0n).op(Op.i64_lt_s).if(ValType.I32);
      f.get(d).i64(0n).op(Op.i64_ge_s).get(r).i64(0n).op(Op.i64_lt_s).op(Op.i32_or);
      f.else();
      f.get(r).get(d).op(Op.i64_lt_s);
      f.end();
      f.if(); c.sat.set(); f.i64(signedMax(3)).set(r); f.end();
    } else {
      f.get(a).i64(0n).op(Op.i64_ge_s).if();
      f.get(r).get(d).op(Op.i64_lt_u).if(); c.sat.set(); f.i64(-1n).set(r); f.end();
      f.else();
      f.get(r).get(d).op(Op.i64_gt_u).if(); c.sat.set(); f.i64(0n).set(r); f.end();
      f.end();
    }
    f.get(r);
    f.release(r);
  };
}

const cmpZero = (op: number): Unary => (c, a) => { c.t.fb.get(a).i64(0n).op(op); boolToMask(c.t); };

const countLeading = (sign: boolean): Unary => (c, a, esz) => {
  const f = c.t.fb;
  f.get(a);
  // CLS(x) = CLZ(x EOR sign copies) - 1 (the sign bit itself is not counted)
  if (sign) f.get(a).i64(63n).op(Op.i64_shr_s).op(Op.i64_xor);
  f.op(Op.i64_clz).i64(BigInt(64 - (8 << esz) + (sign ? 1 : 0))).op(Op.i64_sub);
};

/** Byte shuffle reversing elements of 1<<esz bytes within containers of `container` bytes. */
function reverseShuffle(esz: number, container: number): number[] {
  const size = 1 << esz;
  const out: number[] = [];
  for (let i = 0; i < 16; i++) {
    const base = i - (i % container);
    const within = i % container;
    const elem = Math.floor(within / size);
    out.push(base + (container / size - 1 - elem) * size + (within % size));
  }
  return out;
}

/** RBIT of a byte, by table lookup (swizzle) of the two nibbles. */
const NIBBLE_REVERSE = [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15];

// Narrowing lane functions: a is the wide source lane, result esz is the narrow one
const xtn: Unary = (c, a) => { c.t.fb.get(a); };
const satNarrow = (signedOut: boolean, srcUnsigned = false): Unary => (c, a, esz) => clampTo(c, esz, signedOut, () => c.t.fb.get(a), srcUnsigned);

function twoRegMisc(t: Translator, f: Fields, scalar: boolean): boolean | void {
  const fb = t.fb;
  const key = (f.u << 5) | f.opcode;
  const esz = f.size;
  const q = scalar ? 0 : f.q;
  const count = scalar ? 1 : lanesOf(q, esz);
  const simple = (fn: Unary, signed: boolean, acc = false, accSigned?: boolean) =>
    unaryLanes(t, { rd: f.rd, rn: f.rn, esz, count, signed, fn, acc, accSigned });
  switch (key) {
    case 0x00: writeV(t, f.rd, () => { pushV(t, f.rn); pushV(t, f.rn); fb.shuffle(reverseShuffle(esz, 8)); }, q === 1); return; // REV64
    case 0x01: writeV(t, f.rd, () => { pushV(t, f.rn); pushV(t, f.rn); fb.shuffle(reverseShuffle(esz, 2)); }, q === 1); return; // REV16
    case 0x20: writeV(t, f.rd, () => { pushV(t, f.rn); pushV(t, f.rn); fb.shuffle(reverseShuffle(esz, 4)); }, q === 1); return; // REV32
    case 0x02: case 0x22: case 0x06: case 0x26: { // SADDLP UADDLP SADALP UADALP
      const signed = f.u === 0;
      const accumulate = (f.opcode & 4) !== 0;
      const n = readV(t, f.rn);
      const dOld = accumulate ? readV(t, f.rd) : -1;
      const dstCount = lanesOf(q, esz + 1);
      writeLanes(t, f.rd, { esz: esz + 1, count: dstCount }, i => {
        lane(t, n, esz, 2 * i, signed); lane(t, n, esz, 2 * i + 1, signed); fb.op(Op.i64_add);
        if (accumulate) { lane(t, dOld, esz + 1, i); fb.op(Op.i64_add); }
      });
      t.release(n); if (dOld >= 0) t.release(dOld);
      return;
    }
    case 0x03: return simple(accumulateMixed(false), false, true, true); // SUQADD: operand unsigned, acc signed
    case 0x23: return simple(accumulateMixed(true), true, true, false); // USQADD: operand signed, acc unsigned
    case 0x04: return simple(countLeading(true), true);
    case 0x24: return simple(countLeading(false), false);
    case 0x05: writeV(t, f.rd, () => { pushV(t, f.rn); fb.simd(S.i8x16_popcnt); }, q === 1); return; // CNT
    case 0x25:
      if (esz === 0) { writeV(t, f.rd, () => { pushV(t, f.rn); fb.simd(S.v128_not); }, q === 1); return; } // NOT
      // RBIT: reverse each nibble by table and swap the nibbles
      writeV(t, f.rd, () => {
        fb.v128(NIBBLE_REVERSE); pushV(t, f.rn); fb.i32(4).simd(S.i8x16_shr_u).simd(S.i8x16_swizzle);
        fb.v128(NIBBLE_REVERSE); pushV(t, f.rn); fb.v128(new Array(16).fill(15)).simd(S.v128_and).simd(S.i8x16_swizzle);
        fb.i32(4).simd(S.i8x16_shl).simd(S.v128_or);
      }, q === 1);
      return;
    case 0x07: return simple(satAbsNeg(false), true);
    case 0x27: return simple(satAbsNeg(true), true);
    case 0x08: return simple(cmpZero(Op.i64_gt_s), true);
    case 0x28: return simple(cmpZero(Op.i64_ge_s), true);
    case 0x09: return simple(cmpZero(Op.i64_eq), true);
    case 0x29: return simple(cmpZero(Op.i64_le_s), true);
    case 0x0a: return simple(cmpZero(Op.i64_lt_s), true);
    case 0x0b:
      if (!scalar && esz < 3) { writeV(t, f.rd, () => { pushV(t, f.rn); fb.simd([S.i8x16_abs, S.i16x8_abs, S.i32x4_abs][esz]); }, q === 1); return; }
      return simple(abs, true);
    case 0x2b:
      if (!scalar) { writeV(t, f.rd, () => { pushV(t, f.rn); fb.simd([S.i8x16_neg, S.i16x8_neg, S.i32x4_neg, S.i64x2_neg][esz]); }, q === 1); return; }
      return simple((c, a) => { c.t.fb.i64(0n).get(a).op(Op.i64_sub); }, true);
    case 0x12: case 0x32: case 0x14: case 0x34: { // XTN SQXTUN SQXTN UQXTN
      const fn = key === 0x12 ? xtn : key === 0x32 ? satNarrow(false) : key === 0x14 ? satNarrow(true) : satNarrow(false, true);
      const srcSigned = key !== 0x34;
      const n = scalar ? 1 : 8 >> esz;
      unaryLanes(t, { rd: f.rd, rn: f.rn, esz, srcEsz: esz + 1, count: n, signed: srcSigned, fn, first: q ? n : 0, keepBase: q === 1 });
      return;
    }
    case 0x33: { // SHLL/SHLL2: widen and shift left by the source element size
      const n = 8 >> esz;
      unaryLanes(t, {
        rd: f.rd, rn: f.rn, esz: esz + 1, srcEsz: esz, count: n, signed: false, src: i => i + (q ? n : 0),
        fn: (c, a) => { c.t.fb.get(a).i64(BigInt(8 << esz)).op(Op.i64_shl); },
      });
      return;
    }
  }
  return t.undefinedInstruction();
}

/** Which (u, opcode, size, q) combinations of two-register misc exist (vector form). */
function twoRegMiscAllowed(f: Fields): boolean {
  const key = (f.u << 5) | f.opcode;
  const s = f.size, q = f.q;
  const all = s !== 3 || q === 1;
  switch (key) {
    case 0x00: return s < 3;
    case 0x01: return s === 0;
    case 0x20: return s < 2;
    case 0x02: case 0x22: case 0x06: case 0x26: return s < 3;
    case 0x03: case 0x23: case 0x07: case 0x27: return all;
    case 0x04: case 0x24: return s < 3;
    case 0x05: return s === 0;
    case 0x25: return s < 2;
    case 0x08: case 0x28: case 0x09: case 0x29: case 0x0a: case 0x0b: case 0x2b: return all;
    case 0x12: case 0x32: case 0x14: case 0x34: case 0x33: return s < 3;
  }
  return false;
}

function scalarTwoRegMiscAllowed(f: Fields): boolean {
  const key = (f.u << 5) | f.opcode;
  switch (key) {
    case 0x03: case 0x23: case 0x07: case 0x27: return true;
    case 0x08: case 0x28: case 0x09: case 0x29: case 0x0a: case 0x0b: case 0x2b: return f.size === 3;
    case 0x32: case 0x14: case 0x34: return f.size < 3;
  }
  return false;
}

// ---- across lanes -------------------------------------------------------------------------

function acrossLanes(t: Translator, f: Fields): void {
  const fb = t.fb;
  const esz = f.size;
  const count = lanesOf(f.q, esz);
  const signed = f.u === 0;
  const n = readV(t, f.rn);
  const acc = fb.local(I64), x = fb.local(I64);
  lane(t, n, esz, 0, signed); fb.set(acc);
  for (let i = 1; i < count; i++) {
    lane(t, n, esz, i, signed); fb.set(x);
    switch (f.opcode) {
      case 0b00011: case 0b11011: fb.get(acc).get(x).op(Op.i64_add); break; // [SU]ADDLV, ADDV
      case 0b01010: fb.get(acc).get(x).get(acc).get(x).op(signed ? Op.i64_gt_s : Op.i64_gt_u).op(Op.select); break; // MAXV
      default: fb.get(acc).get(x).get(acc).get(x).op(signed ? Op.i64_lt_s : Op.i64_lt_u).op(Op.select); break; // MINV
    }
    fb.set(acc);
  }
  const outEsz = f.opcode === 0b00011 ? esz + 1 : esz;
  writeLanes(t, f.rd, { esz: outEsz, count: 1 }, () => fb.get(acc));
  fb.release(acc); fb.release(x); fb.release(n);
}

// ---- shift by immediate ------------------------------------------------------------------

const highestBit = (immh: number) => 31 - Math.clz32(immh);

/** Lane fn with the second operand fixed to a constant shift (positive left, negative right). */
function withConstShift(fn: LaneFn, shift: number): LaneFn {
  return (c, a, _b, esz, signed, d) => {
    const b = c.t.fb.local(I64);
    c.t.fb.i64(BigInt(shift)).set(b);
    fn(c, a, b, esz, signed, d);
    c.t.fb.release(b);
  };
}

function shiftImmediate(t: Translator, f: Fields, scalar: boolean): boolean | void {
  const fb = t.fb;
  const key = (f.u << 5) | f.opcode;
  const immhb = (f.immh << 3) | f.immb;
  const hsb = highestBit(f.immh);
  const q = scalar ? 0 : f.q;
  const isNarrow = (f.opcode & 0b11100) === 0b10000;
  const isLong = f.opcode === 0b10100;
  if (isNarrow || isLong) {
    if (hsb === 3) return t.undefinedInstruction();
    const esz = hsb; // narrow: destination element; long: source element
    const esize = 8 << esz;
    if (isLong) {
      const shift = immhb - esize;
      const n = 8 >> esz;
      const signed = f.u === 0;
      const src = readV(t, f.rn);
      writeLanes(t, f.rd, { esz: esz + 1, count: n }, i => {
        lane(t, src, esz, i + (q ? n : 0), signed);
        if (shift) fb.i64(BigInt(shift)).op(Op.i64_shl);
      });
      t.release(src);
      return;
    }
    const shift = 2 * esize - immhb;
    const round = (f.opcode & 1) === 1;
    // SHRN/RSHRN (u0 100x0/1), SQSHRUN/SQRSHRUN (u1 1000x), SQSHRN/SQRSHRN (u0 1001x), UQSHRN/UQRSHRN (u1 1001x)
    const kind = (f.opcode >> 1) & 1;
    const srcSigned = !(f.u === 1 && kind === 1);
    const plain = f.u === 0 && kind === 0;
    if (plain && scalar) return t.undefinedInstruction();
    const outSigned = f.u === 0;
    const shr = shiftByRegister(round, false);
    const count = scalar ? 1 : 8 >> esz;
    unaryLanes(t, {
      rd: f.rd, rn: f.rn, esz, srcEsz: esz + 1, count, signed: srcSigned, first: q ? count : 0, keepBase: q === 1,
      fn: (c, a) => {
        const r = fb.local(I64);
        withConstShift(shr, -shift)(c, a, 0, esz + 1, srcSigned, 0);
        fb.set(r);
        if (plain) fb.get(r); else saturateTo(t, c.sat, r, esz, outSigned, !srcSigned);
        fb.release(r);
      },
    });
    return;
  }
  const esz = hsb;
  const esize = 8 << esz;
  if (!scalar && esz === 3 && !q) return t.undefinedInstruction();
  const count = scalar ? 1 : lanesOf(q, esz);
  const right = 2 * esize - immhb; // 1..esize
  const left = immhb - esize; // 0..esize-1
  let fn: LaneFn;
  let signed = f.u === 0;
  let acc = false;
  switch (key) {
    case 0x00: case 0x20: fn = withConstShift(shiftByRegister(false, false), -right); break; // SSHR USHR
    case 0x02: case 0x22: fn = addOld(withConstShift(shiftByRegister(false, false), -right)); acc = true; break; // SSRA USRA
    case 0x04: case 0x24: fn = withConstShift(shiftByRegister(true, false), -right); break; // SRSHR URSHR
    case 0x06: case 0x26: fn = addOld(withConstShift(shiftByRegister(true, false), -right)); acc = true; break; // SRSRA URSRA
    case 0x0a: // SHL
      if (!scalar) {
        writeV(t, f.rd, () => { pushV(t, f.rn); fb.i32(left).simd([S.i8x16_shl, S.i16x8_shl, S.i32x4_shl, S.i64x2_shl][esz]); }, q === 1);
        return;
      }
      fn = withConstShift(shiftByRegister(false, false), left); break;
    case 0x0e: case 0x2e: fn = withConstShift(shiftByRegister(false, true), left); break; // SQSHL UQSHL (imm)
    case 0x2c: // SQSHLU: signed input, unsigned saturation
      signed = true;
      fn = (c, a) => {
        fb.get(a).i64(0n).op(Op.i64_lt_s).if(I64);
        c.sat.set(); fb.i64(0n);
        fb.else();
        withConstShift(shiftByRegister(false, true), left)(c, a, 0, esz, false, 0);
        fb.end();
      };
      break;
    case 0x28: case 0x2a: { // SRI / SLI: insert, keeping the destination bits the shift vacates
      acc = true;
      const mask = (1n << BigInt(esize)) - 1n;
      const isLeft = key === 0x2a;
      signed = false;
      fn = (c, a, _b, _e, _s, d) => {
        if (!isLeft && right === esize) { fb.get(d); return; }
        const keep = isLeft ? BigInt.asUintN(64, ~(mask << BigInt(left)) & mask) : BigInt.asUintN(64, ~(mask >> BigInt(right)) & mask);
        fb.get(d).i64(BigInt.asIntN(64, keep)).op(Op.i64_and);
        fb.get(a).i64(BigInt(isLeft ? left : right)).op(isLeft ? Op.i64_shl : Op.i64_shr_u).op(Op.i64_or);
      };
      break;
    }
    default: return t.undefinedInstruction();
  }
  if (scalar && esz !== 3 && !(key === 0x0e || key === 0x2e || key === 0x2c)) return t.undefinedInstruction();
  emitPairLanes(t, f.rd, f.rn, esz, count, signed, fn, acc);
}

function addOld(fn: LaneFn): LaneFn {
  return (c, a, b, esz, signed, d) => { fn(c, a, b, esz, signed, d); c.t.fb.get(d).op(Op.i64_add); };
}

/** Lane loop with one source (b unused) and optionally the old destination lane. */
function emitPairLanes(t: Translator, rd: number, rn: number, esz: number, count: number, signed: boolean, fn: LaneFn, acc: boolean): void {
  const f = t.fb;
  const sat = new Saturation(t);
  const c: LaneCtx = { t, sat };
  const n = readV(t, rn);
  const dOld = acc ? readV(t, rd) : -1;
  const a = f.local(I64), d = f.local(I64);
  writeLanes(t, rd, { esz, count }, i => {
    lane(t, n, esz, i, signed); f.set(a);
    if (acc) { lane(t, dOld, esz, i, signed); f.set(d); }
    fn(c, a, 0, esz, signed, d);
  });
  sat.commit();
  f.release(a); f.release(d); f.release(n); if (dOld >= 0) f.release(dOld);
}

// ---- three different, by element ------------------------------------------------------------

/** 2*a*b with saturation (only MIN*MIN overflows for 32-bit sources); pushes the 2*esize product. */
function doublingProduct(c: LaneCtx, a: number, b: number, srcEsz: number): void {
  const f = c.t.fb;
  const r = f.local(I64);
  f.get(a).get(b).op(Op.i64_mul).set(r);
  // only MIN * MIN doubled overflows the double-width result (16-bit sources too: 2 * 2^30 = 2^31)
  const overflowing = 1n << BigInt(2 * (8 << srcEsz) - 2);
  f.get(r).i64(overflowing).op(Op.i64_eq).if();
  c.sat.set(); f.i64(signedMax(srcEsz + 1)).set(r);
  f.else();
  f.get(r).i64(1n).op(Op.i64_shl).set(r);
  f.end();
  f.get(r);
  f.release(r);
}

/**
 * The long multiply family (three different and by element): d(2*esize) op= a*b.
 * kind: 'mul' (SMULL/UMULL), 'mla', 'mls', 'sqdmull', 'sqdmlal', 'sqdmlsl'.
 */
function longMulFn(kind: string, srcEsz: number): LaneFn {
  return (c, a, b, _esz, _signed, d) => {
    const f = c.t.fb;
    switch (kind) {
      case 'mul': f.get(a).get(b).op(Op.i64_mul); return;
      case 'mla': f.get(d).get(a).get(b).op(Op.i64_mul).op(Op.i64_add); return;
      case 'mls': f.get(d).get(a).get(b).op(Op.i64_mul).op(Op.i64_sub); return;
      case 'sqdmull': doublingProduct(c, a, b, srcEsz); return;
      default: {
        const p = f.local(I64);
        doublingProduct(c, a, b, srcEsz); f.set(p);
        (kind === 'sqdmlal' ? satAdd : satSub)(c, d, p, srcEsz + 1, true, 0);
        f.release(p);
      }
    }
  };
}

/**
 * Generic widening lane loop: destination lanes of esz+1 (or esz for the
 * narrowing-high forms), operands from Vn (wide or half) and Vm (half or a
 * fixed element).
 */
function widening(t: Translator, o: {
  rd: number; rn: number; rm: number; srcEsz: number; part: number; signed: boolean; fn: LaneFn;
  acc?: boolean; wideN?: boolean; count: number; bIndex?: number; scalar?: boolean;
}): void {
  const f = t.fb;
  const sat = new Saturation(t);
  const c: LaneCtx = { t, sat };
  const n = readV(t, o.rn), m = readV(t, o.rm);
  const dOld = o.acc ? readV(t, o.rd) : -1;
  const a = f.local(I64), b = f.local(I64), d = f.local(I64);
  const off = o.part ? o.count : 0;
  writeLanes(t, o.rd, { esz: o.srcEsz + 1, count: o.count }, i => {
    if (o.wideN) lane(t, n, o.srcEsz + 1, i, o.signed); else lane(t, n, o.srcEsz, i + off, o.signed);
    f.set(a);
    lane(t, m, o.srcEsz, o.bIndex !== undefined ? o.bIndex : i + off, o.signed); f.set(b);
    if (o.acc) { lane(t, dOld, o.srcEsz + 1, i, o.signed); f.set(d); }
    o.fn(c, a, b, o.srcEsz + 1, o.signed, d);
  });
  sat.commit();
  f.release(a); f.release(b); f.release(d); f.release(n); f.release(m); if (dOld >= 0) f.release(dOld);
}

function threeDifferent(t: Translator, f: Fields, scalar: boolean): boolean | void {
  const fb = t.fb;
  const esz = f.size; // source (narrow) element size
  const q = scalar ? 0 : f.q;
  const count = scalar ? 1 : 8 >> esz;
  const signed = f.u === 0;
  const add = (c: LaneCtx, a: number, b: number) => { c.t.fb.get(a).get(b).op(Op.i64_add); };
  const sub = (c: LaneCtx, a: number, b: number) => { c.t.fb.get(a).get(b).op(Op.i64_sub); };
  const base = { rd: f.rd, rn: f.rn, rm: f.rm, srcEsz: esz, part: q, signed, count, scalar };
  switch (f.opcode) {
    case 0b0000: return widening(t, { ...base, fn: add }); // [SU]ADDL
    case 0b0001: return widening(t, { ...base, fn: add, wideN: true }); // [SU]ADDW
    case 0b0010: return widening(t, { ...base, fn: sub }); // [SU]SUBL
    case 0b0011: return widening(t, { ...base, fn: sub, wideN: true }); // [SU]SUBW
    case 0b0101: return widening(t, { ...base, fn: laneOps.absDiffAcc, acc: true }); // [SU]ABAL
    case 0b0111: return widening(t, { ...base, fn: laneOps.absDiff }); // [SU]ABDL
    case 0b1000: return widening(t, { ...base, fn: longMulFn('mla', esz), acc: true });
    case 0b1010: return widening(t, { ...base, fn: longMulFn('mls', esz), acc: true });
    case 0b1100: return widening(t, { ...base, fn: longMulFn('mul', esz) });
    case 0b1001: return widening(t, { ...base, fn: longMulFn('sqdmlal', esz), acc: true });
    case 0b1011: return widening(t, { ...base, fn: longMulFn('sqdmlsl', esz), acc: true });
    case 0b1101: return widening(t, { ...base, fn: longMulFn('sqdmull', esz) });
    case 0b1110: { // PMULL/PMULL2 8-bit -> 16-bit
      const n = readV(t, f.rn), m = readV(t, f.rm);
      const a = fb.local(I64), b = fb.local(I64);
      writeLanes(t, f.rd, { esz: 1, count: 8 }, i => {
        lane(t, n, 0, i + (q ? 8 : 0)); fb.set(a);
        lane(t, m, 0, i + (q ? 8 : 0)); fb.set(b);
        fb.i64(0n);
        for (let k = 0; k < 8; k++) {
          fb.get(a).i64(BigInt(k)).op(Op.i64_shl);
          fb.i64(0n).get(b).i64(BigInt(k)).op(Op.i64_shr_u).i64(1n).op(Op.i64_and).op(Op.i64_sub).op(Op.i64_and);
          fb.op(Op.i64_xor);
        }
      });
      t.release(n, m, a, b);
      return;
    }
    case 0b0100: case 0b0110: { // ADDHN/RADDHN/SUBHN/RSUBHN: high half of the wide sum/difference
      const isSub = f.opcode === 0b0110;
      const round = f.u === 1;
      const n = readV(t, f.rn), m = readV(t, f.rm);
      const base2 = q ? readV(t, f.rd) : undefined;
      const esize = 8 << esz;
      writeLanes(t, f.rd, { esz, count, first: q ? count : 0, base: base2 }, i => {
        lane(t, n, esz + 1, i); lane(t, m, esz + 1, i); fb.op(isSub ? Op.i64_sub : Op.i64_add);
        if (round) fb.i64(1n << BigInt(esize - 1)).op(Op.i64_add);
        fb.i64(BigInt(esize)).op(Op.i64_shr_u);
      });
      t.release(n, m); if (base2 !== undefined) t.release(base2);
      return;
    }
  }
  return t.undefinedInstruction();
}

function threeDifferentAllowed(f: Fields): boolean {
  if (f.size === 3) return false;
  if (f.opcode === 0b1111) return false;
  if (f.opcode === 0b1110) return f.u === 0 && f.size === 0; // PMULL 8-bit (64-bit is crypto.ts)
  if (f.opcode === 0b1001 || f.opcode === 0b1011 || f.opcode === 0b1101) return f.u === 0 && f.size !== 0;
  return true;
}

/** Element index and Vm of the by-element forms (16-bit elements use H:L:M and V0-V15). */
function elementOf(f: Fields): { index: number; rm: number } {
  if (f.size === 1) return { index: (f.h << 2) | (f.l << 1) | f.m, rm: f.rm };
  return { index: (f.h << 1) | f.l, rm: (f.m << 4) | f.rm };
}

function byElement(t: Translator, f: Fields, scalar: boolean): boolean | void {
  const esz = f.size;
  const { index, rm } = elementOf(f);
  const q = scalar ? 0 : f.q;
  const key = (f.u << 4) | f.opcode;
  const sameCount = scalar ? 1 : lanesOf(q, esz);
  const longCount = scalar ? 1 : 8 >> esz;
  const same = (fn: LaneFn, acc: boolean, signed = true) => {
    const fb = t.fb;
    const sat = new Saturation(t);
    const c: LaneCtx = { t, sat };
    const n = readV(t, f.rn), m = readV(t, rm);
    const dOld = acc ? readV(t, f.rd) : -1;
    const a = fb.local(I64), b = fb.local(I64), d = fb.local(I64);
    lane(t, m, esz, index, signed); fb.set(b);
    writeLanes(t, f.rd, { esz, count: sameCount }, i => {
      lane(t, n, esz, i, signed); fb.set(a);
      if (acc) { lane(t, dOld, esz, i, signed); fb.set(d); }
      fn(c, a, b, esz, signed, d);
    });
    sat.commit();
    t.release(n, m, a, b, d); if (dOld >= 0) t.release(dOld);
  };
  const long = (kind: string, signed: boolean, acc: boolean) =>
    widening(t, { rd: f.rd, rn: f.rn, rm, srcEsz: esz, part: q, signed, count: longCount, fn: longMulFn(kind, esz), acc, bIndex: index, scalar });
  switch (key) {
    case 0x08: return same(laneOps.mul, false);
    case 0x10: return same(laneOps.mla, true);
    case 0x14: return same(laneOps.mls, true);
    case 0x0c: return same(doublingMulHigh(false), false);
    case 0x0d: return same(doublingMulHigh(true), false);
    case 0x02: return long('mla', true, true);
    case 0x12: return long('mla', false, true);
    case 0x06: return long('mls', true, true);
    case 0x16: return long('mls', false, true);
    case 0x0a: return long('mul', true, false);
    case 0x1a: return long('mul', false, false);
    case 0x03: return long('sqdmlal', true, true);
    case 0x07: return long('sqdmlsl', true, true);
    case 0x0b: return long('sqdmull', true, false);
  }
  return t.undefinedInstruction();
}

const BY_ELEMENT_INT = new Set([0x08, 0x10, 0x14, 0x0c, 0x0d, 0x02, 0x12, 0x06, 0x16, 0x0a, 0x1a, 0x03, 0x07, 0x0b]);
const BY_ELEMENT_SCALAR = new Set([0x0c, 0x0d, 0x03, 0x07, 0x0b]);

export const SIMD_ARITH: Encoding[] = [
  {
    name: 'SIMD_2misc', pattern: '0 q:1 u:1 01110 size:2 10000 opcode:5 10 rn:5 rd:5',
    when: twoRegMiscAllowed,
    translate: (t, f) => twoRegMisc(t, f, false),
  },
  {
    name: 'SIMD_scalar_2misc', pattern: '01 u:1 11110 size:2 10000 opcode:5 10 rn:5 rd:5',
    when: scalarTwoRegMiscAllowed,
    translate: (t, f) => twoRegMisc(t, f, true),
  },
  {
    // ADDV, [SU]MAXV, [SU]MINV, [SU]ADDLV
    name: 'SIMD_across', pattern: '0 q:1 u:1 01110 size:2 11000 opcode:5 10 rn:5 rd:5',
    when: f => [0b00011, 0b01010, 0b11010].includes(f.opcode) || (f.opcode === 0b11011 && f.u === 0)
      ? f.size < 3 && !(f.size === 2 && f.q === 0) : false,
    translate: (t, f) => acrossLanes(t, f),
  },
  {
    name: 'SIMD_shift_imm', pattern: '0 q:1 u:1 011110 immh:4 immb:3 opcode:5 1 rn:5 rd:5',
    when: f => f.immh !== 0 && [0, 2, 4, 6, 8, 10, 12, 14, 16, 17, 18, 19, 20].includes(f.opcode),
    translate: (t, f) => shiftImmediate(t, f, false),
  },
  {
    name: 'SIMD_scalar_shift_imm', pattern: '01 u:1 111110 immh:4 immb:3 opcode:5 1 rn:5 rd:5',
    when: f => f.immh !== 0 && [0, 2, 4, 6, 8, 10, 12, 14, 16, 17, 18, 19].includes(f.opcode),
    translate: (t, f) => shiftImmediate(t, f, true),
  },
  {
    name: 'SIMD_3diff', pattern: '0 q:1 u:1 01110 size:2 1 rm:5 opcode:4 00 rn:5 rd:5',
    when: threeDifferentAllowed,
    translate: (t, f) => threeDifferent(t, f, false),
  },
  {
    // SQDMLAL, SQDMLSL, SQDMULL (scalar)
    name: 'SIMD_scalar_3diff', pattern: '01 0 11110 size:2 1 rm:5 opcode:4 00 rn:5 rd:5',
    when: f => (f.size === 1 || f.size === 2) && (f.opcode === 0b1001 || f.opcode === 0b1011 || f.opcode === 0b1101),
    translate: (t, f) => threeDifferent(t, { ...f, u: 0 }, true),
  },
  {
    name: 'SIMD_by_element', pattern: '0 q:1 u:1 01111 size:2 l:1 m:1 rm:4 opcode:4 h:1 0 rn:5 rd:5',
    when: f => (f.size === 1 || f.size === 2) && BY_ELEMENT_INT.has((f.u << 4) | f.opcode),
    translate: (t, f) => byElement(t, f, false),
  },
  {
    name: 'SIMD_scalar_by_element', pattern: '01 u:1 11111 size:2 l:1 m:1 rm:4 opcode:4 h:1 0 rn:5 rd:5',
    when: f => (f.size === 1 || f.size === 2) && BY_ELEMENT_SCALAR.has((f.u << 4) | f.opcode),
    translate: (t, f) => byElement(t, f, true),
  },
];
