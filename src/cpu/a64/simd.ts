// Advanced SIMD: Arm ARM C4.1.95 "Data Processing -- Scalar Floating-Point
// and Advanced SIMD" (vector and scalar-SIMD integer groups, permutes,
// copies, immediates) plus the structure loads/stores (simd-ldst.ts) and the
// vector floating-point rows (simd-fp.ts). Every row first runs the FP/SIMD
// access check. Vector forms with an exact WebAssembly SIMD128 equivalent
// use it; the rest are computed lane by lane as i64 (simd-int.ts).

import type { Encoding, Fields } from '../jit/decode';
import type { Translator } from '../jit/translator';
import { Op, OpSIMD, ValType } from '../jit/wasm-emitter';
import {
  withFpCheck, lane, pushV, readV, replaceLane, Saturation, tempV, writeLanes, writeV,
} from './simd-common';
import { doublingMulHigh, laneOps, polyMul8, satAdd, satSub, shiftByRegister, type LaneCtx, type LaneFn } from './simd-int';
import { SIMD_LDST } from './simd-ldst';
import { SIMD_ARITH } from './simd-arith';
import { SIMD_FP } from './simd-fp';

/** Lanes in a 64-bit (q=0) or 128-bit (q=1) vector of 8<<esz-bit elements. */
const lanesOf = (q: number, esz: number) => (q ? 16 : 8) >> esz;

// ---- three registers, same type ---------------------------------------------------------

interface ThreeSameOp {
  /** Allowed element sizes in vector form (bit per esz). */
  sizes: number;
  /** Allowed element sizes in scalar form (0: no scalar form). */
  scalarSizes?: number;
  signed?: boolean;
  fn: LaneFn;
  /** Reads the destination's old lanes (accumulating ops). */
  acc?: boolean;
  pairwise?: boolean;
  /** WebAssembly SIMD opcode per esz for the vector form (exact equivalents only). */
  simd?: Array<number | undefined>;
  /** Saturating SIMD op plus its wrapping twin: QC is set where they differ. */
  simdSat?: { sat: Array<number | undefined>; wrap: Array<number | undefined> };
  /** Extra SIMD op applied with the old Vd (MLA: add, MLS: sub). */
  simdAcc?: Array<number | undefined>;
}

const S = OpSIMD;
const ALL = 0b1111, BHS = 0b0111, HS = 0b0110, B = 0b0001, D = 0b1000;

/** Keyed by u<<5 | opcode. */
const THREE_SAME: Record<number, ThreeSameOp> = {
  0x00: { sizes: BHS, signed: true, fn: laneOps.halvingAdd },
  0x20: { sizes: BHS, fn: laneOps.halvingAdd },
  0x01: { sizes: ALL, scalarSizes: ALL, signed: true, fn: satAdd, simdSat: { sat: [S.i8x16_add_sat_s, S.i16x8_add_sat_s], wrap: [S.i8x16_add, S.i16x8_add] } },
  0x21: { sizes: ALL, scalarSizes: ALL, fn: satAdd, simdSat: { sat: [S.i8x16_add_sat_u, S.i16x8_add_sat_u], wrap: [S.i8x16_add, S.i16x8_add] } },
  0x02: { sizes: BHS, signed: true, fn: laneOps.roundingHalvingAdd },
  0x22: { sizes: BHS, fn: laneOps.roundingHalvingAdd, simd: [S.i8x16_avgr_u, S.i16x8_avgr_u] },
  0x04: { sizes: BHS, signed: true, fn: laneOps.halvingSub },
  0x24: { sizes: BHS, fn: laneOps.halvingSub },
  0x05: { sizes: ALL, scalarSizes: ALL, signed: true, fn: satSub, simdSat: { sat: [S.i8x16_sub_sat_s, S.i16x8_sub_sat_s], wrap: [S.i8x16_sub, S.i16x8_sub] } },
  0x25: { sizes: ALL, scalarSizes: ALL, fn: satSub, simdSat: { sat: [S.i8x16_sub_sat_u, S.i16x8_sub_sat_u], wrap: [S.i8x16_sub, S.i16x8_sub] } },
  0x06: { sizes: ALL, scalarSizes: D, signed: true, fn: laneOps.cmgt, simd: [S.i8x16_gt_s, S.i16x8_gt_s, S.i32x4_gt_s, S.i64x2_gt_s] },
  0x26: { sizes: ALL, scalarSizes: D, fn: laneOps.cmgt, simd: [S.i8x16_gt_u, S.i16x8_gt_u, S.i32x4_gt_u] },
  0x07: { sizes: ALL, scalarSizes: D, signed: true, fn: laneOps.cmge, simd: [S.i8x16_ge_s, S.i16x8_ge_s, S.i32x4_ge_s, S.i64x2_ge_s] },
  0x27: { sizes: ALL, scalarSizes: D, fn: laneOps.cmge, simd: [S.i8x16_ge_u, S.i16x8_ge_u, S.i32x4_ge_u] },
  0x08: { sizes: ALL, scalarSizes: D, signed: true, fn: shiftByRegister(false, false) },
  0x28: { sizes: ALL, scalarSizes: D, fn: shiftByRegister(false, false) },
  0x09: { sizes: ALL, scalarSizes: ALL, signed: true, fn: shiftByRegister(false, true) },
  0x29: { sizes: ALL, scalarSizes: ALL, fn: shiftByRegister(false, true) },
  0x0a: { sizes: ALL, scalarSizes: D, signed: true, fn: shiftByRegister(true, false) },
  0x2a: { sizes: ALL, scalarSizes: D, fn: shiftByRegister(true, false) },
  0x0b: { sizes: ALL, scalarSizes: ALL, signed: true, fn: shiftByRegister(true, true) },
  0x2b: { sizes: ALL, scalarSizes: ALL, fn: shiftByRegister(true, true) },
  0x0c: { sizes: BHS, signed: true, fn: laneOps.max, simd: [S.i8x16_max_s, S.i16x8_max_s, S.i32x4_max_s] },
  0x2c: { sizes: BHS, fn: laneOps.max, simd: [S.i8x16_max_u, S.i16x8_max_u, S.i32x4_max_u] },
  0x0d: { sizes: BHS, signed: true, fn: laneOps.min, simd: [S.i8x16_min_s, S.i16x8_min_s, S.i32x4_min_s] },
  0x2d: { sizes: BHS, fn: laneOps.min, simd: [S.i8x16_min_u, S.i16x8_min_u, S.i32x4_min_u] },
  0x0e: { sizes: BHS, signed: true, fn: laneOps.absDiff },
  0x2e: { sizes: BHS, fn: laneOps.absDiff },
  0x0f: { sizes: BHS, signed: true, fn: laneOps.absDiffAcc, acc: true },
  0x2f: { sizes: BHS, fn: laneOps.absDiffAcc, acc: true },
  0x10: { sizes: ALL, scalarSizes: D, fn: laneOps.add, simd: [S.i8x16_add, S.i16x8_add, S.i32x4_add, S.i64x2_add] },
  0x30: { sizes: ALL, scalarSizes: D, fn: laneOps.sub, simd: [S.i8x16_sub, S.i16x8_sub, S.i32x4_sub, S.i64x2_sub] },
  0x11: { sizes: ALL, scalarSizes: D, fn: laneOps.cmtst },
  0x31: { sizes: ALL, scalarSizes: D, fn: laneOps.cmeq, simd: [S.i8x16_eq, S.i16x8_eq, S.i32x4_eq, S.i64x2_eq] },
  0x12: { sizes: BHS, fn: laneOps.mla, acc: true, simd: [undefined, S.i16x8_mul, S.i32x4_mul], simdAcc: [undefined, S.i16x8_add, S.i32x4_add] },
  0x32: { sizes: BHS, fn: laneOps.mls, acc: true, simd: [undefined, S.i16x8_mul, S.i32x4_mul], simdAcc: [undefined, S.i16x8_sub, S.i32x4_sub] },
  0x13: { sizes: BHS, fn: laneOps.mul, simd: [undefined, S.i16x8_mul, S.i32x4_mul] },
  0x33: { sizes: B, fn: polyMul8 },
  0x14: { sizes: BHS, signed: true, fn: laneOps.max, pairwise: true },
  0x34: { sizes: BHS, fn: laneOps.max, pairwise: true },
  0x15: { sizes: BHS, signed: true, fn: laneOps.min, pairwise: true },
  0x35: { sizes: BHS, fn: laneOps.min, pairwise: true },
  0x16: { sizes: HS, scalarSizes: HS, signed: true, fn: doublingMulHigh(false) },
  0x36: { sizes: HS, scalarSizes: HS, signed: true, fn: doublingMulHigh(true) },
  0x17: { sizes: ALL, fn: laneOps.add, pairwise: true },
};

/**
 * Emits a lane-wise operation of two sources (and optionally the old Vd)
 * into Vd. `bLane` picks the second operand's lane (by-element forms pass a
 * fixed index). Pairwise forms take adjacent lanes of Vn:Vm.
 */
function emitLanewise(t: Translator, o: {
  rd: number; rn: number; rm: number; esz: number; count: number; signed: boolean; fn: LaneFn;
  acc?: boolean; pairwise?: boolean; bLane?: (i: number) => number; bEsz?: number;
}): void {
  const f = t.fb;
  const sat = new Saturation(t);
  const c: LaneCtx = { t, sat };
  const n = readV(t, o.rn);
  const m = o.rm === o.rn ? n : readV(t, o.rm);
  const dOld = o.acc ? readV(t, o.rd) : -1;
  const a = f.local(ValType.I64), b = f.local(ValType.I64), d = f.local(ValType.I64);
  const half = o.count >> 1;
  writeLanes(t, o.rd, { esz: o.esz, count: o.count }, i => {
    if (o.pairwise) {
      const src = i < half ? n : m;
      const j = 2 * (i % half);
      lane(t, src, o.esz, j, o.signed); f.set(a);
      lane(t, src, o.esz, j + 1, o.signed); f.set(b);
    } else {
      lane(t, n, o.esz, i, o.signed); f.set(a);
      lane(t, m, o.bEsz ?? o.esz, o.bLane ? o.bLane(i) : i, o.signed); f.set(b);
    }
    if (dOld >= 0) { lane(t, dOld, o.esz, i, o.signed); f.set(d); }
    o.fn(c, a, b, o.esz, o.signed, d);
  });
  sat.commit();
  f.release(a); f.release(b); f.release(d);
  for (const l of new Set([n, m, dOld])) if (l >= 0) f.release(l);
}

function threeSame(t: Translator, f: Fields, scalar: boolean): boolean | void {
  const op = THREE_SAME[(f.u << 5) | f.opcode];
  const esz = f.size;
  const q = scalar ? 0 : f.q;
  const simdOp = !scalar ? op.simd?.[esz] : undefined;
  if (simdOp !== undefined && (op.acc ? op.simdAcc?.[esz] !== undefined : true)) {
    writeV(t, f.rd, () => {
      if (op.acc) pushV(t, f.rd);
      pushV(t, f.rn); pushV(t, f.rm); t.fb.simd(simdOp);
      if (op.acc) t.fb.simd(op.simdAcc![esz]!);
    }, q === 1);
    return;
  }
  const satOp = !scalar ? op.simdSat?.sat[esz] : undefined;
  if (satOp !== undefined) {
    const n = readV(t, f.rn), m = readV(t, f.rm);
    const r = tempV(t, () => t.fb.get(n).get(m).simd(satOp));
    const sat = new Saturation(t);
    // the saturating and the wrapping result differ exactly in the lanes that saturated
    t.fb.get(r).get(n).get(m).simd(op.simdSat!.wrap[esz]!).simd(S.v128_xor);
    if (!q) t.fb.v128([255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0]).simd(S.v128_and);
    t.fb.simd(S.v128_any_true).if(); sat.set(); t.fb.end();
    writeV(t, f.rd, () => t.fb.get(r), q === 1);
    sat.commit();
    t.release(n, m, r);
    return;
  }
  emitLanewise(t, {
    rd: f.rd, rn: f.rn, rm: f.rm, esz, count: scalar ? 1 : lanesOf(q, esz),
    signed: op.signed ?? false, fn: op.fn, acc: op.acc, pairwise: op.pairwise,
  });
}

/** AND/BIC/ORR/ORN (u=0) and EOR/BSL/BIT/BIF (u=1), selected by the size field. */
function logic(t: Translator, f: Fields): void {
  const fb = t.fb;
  writeV(t, f.rd, () => {
    const sel = (f.u << 2) | f.size;
    switch (sel) {
      case 0: pushV(t, f.rn); pushV(t, f.rm); fb.simd(S.v128_and); break;
      case 1: pushV(t, f.rn); pushV(t, f.rm); fb.simd(S.v128_andnot); break;
      case 2: pushV(t, f.rn); pushV(t, f.rm); fb.simd(S.v128_or); break;
      case 3: pushV(t, f.rn); pushV(t, f.rm); fb.simd(S.v128_not).simd(S.v128_or); break;
      case 4: pushV(t, f.rn); pushV(t, f.rm); fb.simd(S.v128_xor); break;
      case 5: pushV(t, f.rn); pushV(t, f.rm); pushV(t, f.rd); fb.simd(S.v128_bitselect); break; // BSL
      case 6: pushV(t, f.rn); pushV(t, f.rd); pushV(t, f.rm); fb.simd(S.v128_bitselect); break; // BIT
      default: pushV(t, f.rd); pushV(t, f.rn); pushV(t, f.rm); fb.simd(S.v128_bitselect); break; // BIF
    }
  }, f.q === 1);
}

function sizeAllowed(mask: number | undefined, esz: number): boolean {
  return mask !== undefined && ((mask >> esz) & 1) === 1;
}

// ---- copy: DUP, INS, UMOV, SMOV --------------------------------------------------------

/** Element size and index encoded in imm5 (lowest set bit gives the size). */
function imm5Element(imm5: number): { esz: number; index: number } | undefined {
  for (let esz = 0; esz < 4; esz++) if (imm5 & (1 << esz)) return { esz, index: imm5 >> (esz + 1) };
  return undefined;
}

const SPLAT = [S.i8x16_splat, S.i16x8_splat, S.i32x4_splat, S.i64x2_splat];

/** Pushes an i64 as the value to splat for element size esz (splat takes an i32 below 64 bits). */
function splatI64(t: Translator, esz: number): void {
  if (esz < 3) t.fb.op(Op.i32_wrap_i64);
  t.fb.simd(SPLAT[esz]);
}

// ---- modified immediate ------------------------------------------------------------------

/** AdvSIMDExpandImm: the 64-bit pattern (translate time, so bigint is fine). */
export function expandImm(op: number, cmode: number, imm8: number): bigint {
  const i = BigInt(imm8);
  const rep = (v: bigint, bits: number) => { let r = 0n; for (let k = 0; k < 64; k += bits) r |= v << BigInt(k); return r; };
  switch (cmode >> 1) {
    case 0: return rep(i, 32);
    case 1: return rep(i << 8n, 32);
    case 2: return rep(i << 16n, 32);
    case 3: return rep(i << 24n, 32);
    case 4: return rep(i, 16);
    case 5: return rep(i << 8n, 16);
    case 6: return rep(cmode & 1 ? (i << 16n) | 0xffffn : (i << 8n) | 0xffn, 32);
    default:
      if (!(cmode & 1)) {
        if (!op) return rep(i, 8);
        let r = 0n;
        for (let k = 0; k < 8; k++) if (imm8 & (1 << k)) r |= 0xffn << BigInt(8 * k);
        return r;
      }
      {
        const a = BigInt(imm8 >> 7), b = (imm8 >> 6) & 1, cd = BigInt((imm8 >> 4) & 3), efgh = BigInt(imm8 & 15);
        if (!op) {
          const s = (a << 31n) | (BigInt(b ^ 1) << 30n) | (b ? 0x1fn << 25n : 0n) | (cd << 23n) | (efgh << 19n);
          return rep(s, 32);
        }
        return (a << 63n) | (BigInt(b ^ 1) << 62n) | (b ? 0xffn << 54n : 0n) | (cd << 52n) | (efgh << 48n);
      }
  }
}

function v128Bytes(lo: bigint, hi: bigint): number[] {
  const out: number[] = [];
  for (let k = 0; k < 8; k++) out.push(Number((lo >> BigInt(8 * k)) & 0xffn));
  for (let k = 0; k < 8; k++) out.push(Number((hi >> BigInt(8 * k)) & 0xffn));
  return out;
}

// ---- permutes ------------------------------------------------------------------------------

/** Byte shuffle indices (0-15 Vn, 16-31 Vm) from an element map over Vn's then Vm's elements. */
function elementShuffle(esz: number, count: number, src: (i: number) => number): number[] {
  const size = 1 << esz;
  const bytes: number[] = new Array(16).fill(0);
  for (let i = 0; i < count; i++) {
    const e = src(i);
    const base = e < count ? e * size : 16 + (e - count) * size;
    for (let k = 0; k < size; k++) bytes[i * size + k] = base + k;
  }
  return bytes;
}

const PERMUTES: Record<number, (i: number, count: number) => number> = {
  1: (i, n) => 2 * i, // UZP1
  2: (i, n) => ((i & 1) ? n : 0) + (i & ~1), // TRN1: n[2k], m[2k]
  3: (i, n) => ((i & 1) ? n : 0) + (i >> 1), // ZIP1
  5: (i, n) => 2 * i + 1, // UZP2
  6: (i, n) => ((i & 1) ? n : 0) + (i & ~1) + 1, // TRN2
  7: (i, n) => ((i & 1) ? n : 0) + (i >> 1) + n / 2, // ZIP2
};

export const SIMD_CORE: Encoding[] = [
  // ---- three same (integer) ----
  {
    name: 'SIMD_logic', pattern: '0 q:1 u:1 01110 size:2 1 rm:5 00011 1 rn:5 rd:5',
    translate: (t, f) => logic(t, f),
  },
  {
    name: 'SIMD_3same', pattern: '0 q:1 u:1 01110 size:2 1 rm:5 opcode:5 1 rn:5 rd:5',
    when: f => {
      const op = THREE_SAME[(f.u << 5) | f.opcode];
      return op !== undefined && sizeAllowed(op.sizes, f.size) && (f.size !== 3 || f.q === 1);
    },
    translate: (t, f) => threeSame(t, f, false),
  },
  {
    name: 'SIMD_scalar_3same', pattern: '01 u:1 11110 size:2 1 rm:5 opcode:5 1 rn:5 rd:5',
    when: f => sizeAllowed(THREE_SAME[(f.u << 5) | f.opcode]?.scalarSizes, f.size),
    translate: (t, f) => threeSame(t, f, true),
  },
  {
    // scalar ADDP Dd, Vn.2D
    name: 'SIMD_scalar_ADDP', pattern: '01 0 11110 11 11000 11011 10 rn:5 rd:5',
    translate: (t, f) => emitLanewise(t, { rd: f.rd, rn: f.rn, rm: f.rn, esz: 3, count: 1, signed: false, fn: laneOps.add, pairwise: false, bLane: () => 1 }),
  },

  // ---- copy ----
  {
    name: 'DUP_element', pattern: '0 q:1 0 01110000 imm5:5 0 0000 1 rn:5 rd:5',
    when: f => { const e = imm5Element(f.imm5); return e !== undefined && (e.esz < 3 || f.q === 1); },
    translate: (t, f) => {
      const e = imm5Element(f.imm5)!;
      const n = readV(t, f.rn);
      writeV(t, f.rd, () => { lane(t, n, e.esz, e.index); splatI64(t, e.esz); }, f.q === 1);
      t.release(n);
    },
  },
  {
    // DUP (element), scalar: MOV Bd/Hd/Sd/Dd, Vn.T[i]
    name: 'DUP_scalar', pattern: '01 0 11110000 imm5:5 0 0000 1 rn:5 rd:5',
    when: f => imm5Element(f.imm5) !== undefined,
    translate: (t, f) => {
      const e = imm5Element(f.imm5)!;
      const n = readV(t, f.rn);
      writeLanes(t, f.rd, { esz: e.esz, count: 1 }, () => lane(t, n, e.esz, e.index));
      t.release(n);
    },
  },
  {
    name: 'DUP_general', pattern: '0 q:1 0 01110000 imm5:5 0 0001 1 rn:5 rd:5',
    when: f => { const e = imm5Element(f.imm5); return e !== undefined && (e.esz < 3 || f.q === 1); },
    translate: (t, f) => {
      const e = imm5Element(f.imm5)!;
      writeV(t, f.rd, () => { t.getX(f.rn); splatI64(t, e.esz); }, f.q === 1);
    },
  },
  {
    name: 'INS_general', pattern: '0 1 0 01110000 imm5:5 0 0011 1 rn:5 rd:5',
    when: f => imm5Element(f.imm5) !== undefined,
    translate: (t, f) => {
      const e = imm5Element(f.imm5)!;
      writeV(t, f.rd, () => { pushV(t, f.rd); t.getX(f.rn); replaceLane(t, e.esz, e.index); });
    },
  },
  {
    // SMOV Wd/Xd (q selects X), UMOV Wd (B/H/S) / Xd (D, q=1)
    name: 'SMOV_UMOV', pattern: '0 q:1 0 01110000 imm5:5 0 01 u:1 1 1 rn:5 rd:5',
    when: f => {
      const e = imm5Element(f.imm5);
      if (!e) return false;
      if (f.u) return f.q ? e.esz === 3 : e.esz < 3;
      return f.q ? e.esz < 3 : e.esz < 2;
    },
    translate: (t, f) => {
      const e = imm5Element(f.imm5)!;
      const n = readV(t, f.rn);
      t.setReg(f.q, f.rd, () => lane(t, n, e.esz, e.index, f.u === 0));
      t.release(n);
    },
  },
  {
    name: 'INS_element', pattern: '0 1 1 01110000 imm5:5 0 imm4:4 1 rn:5 rd:5',
    when: f => imm5Element(f.imm5) !== undefined,
    translate: (t, f) => {
      const e = imm5Element(f.imm5)!;
      const n = readV(t, f.rn);
      writeV(t, f.rd, () => { pushV(t, f.rd); lane(t, n, e.esz, f.imm4 >> e.esz); replaceLane(t, e.esz, e.index); });
      t.release(n);
    },
  },

  // ---- modified immediate: MOVI, MVNI, ORR, BIC, FMOV (vector, immediate) ----
  {
    name: 'SIMD_mod_imm', pattern: '0 q:1 op:1 0111100000 abc:3 cmode:4 o2:1 1 defgh:5 rd:5',
    when: f => f.o2 === 0 && !(f.op === 1 && f.cmode === 15 && f.q === 0),
    translate: (t, f) => {
      const imm8 = (f.abc << 5) | f.defgh;
      let imm = expandImm(f.op, f.cmode, imm8);
      // ORR/BIC (immediate) are the odd cmodes of the shifted 32- and 16-bit forms
      const isOrrBic = f.cmode < 12 && (f.cmode & 1) === 1;
      // op=1 inverts for MVNI and BIC (BIC = AND with the inverted immediate); not for cmode 14/15
      if (f.op === 1 && f.cmode < 14) imm = BigInt.asUintN(64, ~imm);
      const bytes = v128Bytes(imm, f.q ? imm : 0n);
      if (!isOrrBic) { writeV(t, f.rd, () => t.fb.v128(bytes)); return; }
      writeV(t, f.rd, () => {
        pushV(t, f.rd); t.fb.v128(bytes);
        t.fb.simd(f.op ? S.v128_and : S.v128_or); // BIC: and with the inverted immediate
      }, f.q === 1);
    },
  },

  // ---- permutes, EXT, TBL/TBX ----
  {
    name: 'SIMD_permute', pattern: '0 q:1 001110 size:2 0 rm:5 0 opcode:3 10 rn:5 rd:5',
    when: f => PERMUTES[f.opcode] !== undefined && (f.size !== 3 || f.q === 1),
    translate: (t, f) => {
      const count = lanesOf(f.q, f.size);
      const perm = PERMUTES[f.opcode];
      writeV(t, f.rd, () => {
        pushV(t, f.rn); pushV(t, f.rm);
        t.fb.shuffle(elementShuffle(f.size, count, i => perm(i, count)));
      }, f.q === 1);
    },
  },
  {
    name: 'EXT', pattern: '0 q:1 101110 00 0 rm:5 0 imm4:4 0 rn:5 rd:5',
    when: f => f.q === 1 || f.imm4 < 8,
    translate: (t, f) => {
      const len = f.q ? 16 : 8;
      const idx: number[] = [];
      for (let i = 0; i < 16; i++) {
        const k = f.imm4 + i;
        idx.push(i >= len ? 0 : k < len ? k : 16 + (k - len));
      }
      writeV(t, f.rd, () => { pushV(t, f.rn); pushV(t, f.rm); t.fb.shuffle(idx); }, f.q === 1);
    },
  },
  {
    // TBL (op=0) / TBX (op=1) with len+1 table registers Vn..Vn+len (mod 32)
    name: 'TBL_TBX', pattern: '0 q:1 001110 00 0 rm:5 0 len:2 op:1 00 rn:5 rd:5',
    translate: (t, f) => {
      const fb = t.fb;
      const idx = readV(t, f.rm);
      const res = tempV(t, () => {
        for (let j = 0; j <= f.len; j++) {
          // swizzle yields 0 for indices >= 16, so each table register answers only its own range
          pushV(t, (f.rn + j) % 32);
          fb.get(idx);
          if (j) fb.i32(16 * j).simd(S.i8x16_splat).simd(S.i8x16_sub);
          fb.simd(S.i8x16_swizzle);
          if (j) fb.simd(S.v128_or);
        }
      });
      writeV(t, f.rd, () => {
        fb.get(res);
        if (f.op) {
          // TBX keeps Vd's byte where the index is out of range
          pushV(t, f.rd);
          fb.get(idx).i32(16 * (f.len + 1)).simd(S.i8x16_splat).simd(S.i8x16_lt_u);
          fb.simd(S.v128_bitselect);
        }
      }, f.q === 1);
      t.release(idx, res);
    },
  },
];


export const SIMD: Encoding[] = withFpCheck([...SIMD_CORE, ...SIMD_ARITH, ...SIMD_LDST, ...SIMD_FP]);
