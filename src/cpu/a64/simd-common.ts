// Shared machinery of the Advanced SIMD and crypto translators: V-register
// access as v128 values, per-lane extraction/insertion as i64, the
// cumulative saturation flag FPSR.QC, and TypeScript-implemented operations
// reached through the `fpOp` helper.
//
// Lane-wise emission pattern: every source register is first copied into a
// v128 local (so a destination that aliases a source reads the old value),
// each result lane is computed as an i64 and inserted into a result v128
// that starts as zero (so 64-bit forms clear bits 127:64, as the
// architecture requires), and the result is stored once at the end.

import type { Translator } from '../jit/translator';
import type { Cpu } from '../cpu';
import { Op, OpSIMD, ValType } from '../jit/wasm-emitter';
import { S } from '../state';
import type { Encoding, Fields } from '../jit/decode';
import { checkFpAccess } from './fp-access';

export const V128 = ValType.V128;
const I32 = ValType.I32;
const I64 = ValType.I64;

/** Byte offset of Vn in the vCPU area. */
export function vOffset(n: number): number {
  return S.V + 16 * n;
}

/** FPSR.QC: cumulative saturation. */
export const FPSR_QC = 1 << 27;

const ZERO16 = new Uint8Array(16);
const LOW64 = new Uint8Array([255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0]);

/** Pushes Vn as a v128. */
export function pushV(t: Translator, n: number): void {
  t.fb.get(t.cpu).simdMem(OpSIMD.v128_load, vOffset(n), 0);
}

/** Pushes a zero v128. */
export function pushZero(t: Translator): void {
  t.fb.v128(ZERO16);
}

/** Copies Vn into a fresh v128 local. */
export function readV(t: Translator, n: number): number {
  const l = t.fb.local(V128);
  pushV(t, n);
  t.fb.set(l);
  return l;
}

/** A fresh v128 local set from what `value` pushes. */
export function tempV(t: Translator, value: () => void): number {
  const l = t.fb.local(V128);
  value();
  t.fb.set(l);
  return l;
}

/** Vd = value (a v128). With `q` false only bits 63:0 are kept and 127:64 become zero. */
export function writeV(t: Translator, d: number, value: () => void, q = true): void {
  t.fb.get(t.cpu);
  value();
  if (!q) t.fb.v128(LOW64).simd(OpSIMD.v128_and);
  t.fb.simdMem(OpSIMD.v128_store, vOffset(d), 0);
}

/** Pushes lane `i` of v128 local `v` with element size 8<<esz bits, extended to i64. */
export function lane(t: Translator, v: number, esz: number, i: number, signed = false): void {
  const f = t.fb;
  f.get(v);
  switch (esz) {
    case 0:
      f.simdLane(signed ? OpSIMD.i8x16_extract_lane_s : OpSIMD.i8x16_extract_lane_u, i);
      f.op(signed ? Op.i64_extend_i32_s : Op.i64_extend_i32_u);
      break;
    case 1:
      f.simdLane(signed ? OpSIMD.i16x8_extract_lane_s : OpSIMD.i16x8_extract_lane_u, i);
      f.op(signed ? Op.i64_extend_i32_s : Op.i64_extend_i32_u);
      break;
    case 2:
      f.simdLane(OpSIMD.i32x4_extract_lane, i);
      f.op(signed ? Op.i64_extend_i32_s : Op.i64_extend_i32_u);
      break;
    default:
      f.simdLane(OpSIMD.i64x2_extract_lane, i);
  }
}

/** Stack [v128, i64] -> v128 with lane `i` (element size 8<<esz) replaced by the i64's low bits. */
export function replaceLane(t: Translator, esz: number, i: number): void {
  const f = t.fb;
  if (esz === 3) { f.simdLane(OpSIMD.i64x2_replace_lane, i); return; }
  f.op(Op.i32_wrap_i64);
  f.simdLane(esz === 0 ? OpSIMD.i8x16_replace_lane : esz === 1 ? OpSIMD.i16x8_replace_lane : OpSIMD.i32x4_replace_lane, i);
}

export interface LaneWrite {
  /** Element size of the destination lanes (log2 bytes). */
  esz: number;
  /** Number of lanes computed. */
  count: number;
  /** First destination lane written (the upper half for the "2" narrowing forms). */
  first?: number;
  /** v128 local whose other lanes are kept (default: zero, which clears unwritten lanes). */
  base?: number;
}

/**
 * Computes `count` lanes (each pushed as an i64 by `laneValue(i)`) into a
 * result v128 and stores it to Vd. Sources must already be in locals.
 */
export function writeLanes(t: Translator, d: number, w: LaneWrite, laneValue: (i: number) => void): void {
  const f = t.fb;
  const res = f.local(V128);
  if (w.base !== undefined) f.get(w.base); else pushZero(t);
  f.set(res);
  const first = w.first ?? 0;
  for (let i = 0; i < w.count; i++) {
    f.get(res);
    laneValue(i);
    replaceLane(t, w.esz, first + i);
    f.set(res);
  }
  writeV(t, d, () => f.get(res));
  f.release(res);
}

/**
 * Tracks saturation within one instruction: `flag()` returns an i32 local
 * that lane code sets to 1 on saturation; `commit()` ORs it into FPSR.QC.
 */
export class Saturation {
  private readonly local: number;
  private used = false;

  constructor(private readonly t: Translator) {
    // zeroed up front: the first set() may sit in conditional code, and locals are reused
    this.local = t.fb.local(I32);
    t.fb.i32(0).set(this.local);
  }

  flag(): number {
    this.used = true;
    return this.local;
  }

  /** Emits `flag = 1` (the current instruction saturated). */
  set(): void {
    this.t.fb.i32(1).set(this.flag());
  }

  commit(): void {
    const f = this.t.fb;
    if (this.used) {
      f.get(this.local).if();
      f.get(this.t.cpu).get(this.t.cpu).mem(Op.i32_load, S.FPSR, 2).i32(FPSR_QC).op(Op.i32_or).mem(Op.i32_store, S.FPSR, 2);
      f.end();
    }
    f.release(this.local);
  }
}

/** Signed range of an element of 8<<esz bits, as bigint constants for i64.const. */
export function signedMin(esz: number): bigint { return -(1n << BigInt((8 << esz) - 1)); }
export function signedMax(esz: number): bigint { return (1n << BigInt((8 << esz) - 1)) - 1n; }
export function unsignedMax(esz: number): bigint { return esz === 3 ? -1n : (1n << BigInt(8 << esz)) - 1n; }

/**
 * Clamps the i64 in local `r` (an exact, wider-than-element result) to the
 * signed or unsigned range of the element size, setting QC when clamped;
 * pushes the result. Only valid for esz < 3 (the value is exact in i64);
 * `valueUnsigned` says r holds an unsigned value (up to 2^64-1).
 */
export function saturateTo(t: Translator, sat: Saturation, r: number, esz: number, signed: boolean, valueUnsigned = false): void {
  const f = t.fb;
  const max = signed ? signedMax(esz) : unsignedMax(esz);
  const min = signed ? signedMin(esz) : 0n;
  // an unsigned 64-bit value (e.g. UQXTN's source) must be compared as unsigned, and is never below 0
  f.get(r).i64(max).op(valueUnsigned ? Op.i64_gt_u : Op.i64_gt_s).if();
  sat.set(); f.i64(max).set(r);
  f.end();
  if (!valueUnsigned) {
    f.get(r).i64(min).op(Op.i64_lt_s).if();
    sat.set(); f.i64(min).set(r);
    f.end();
  }
  f.get(r);
}

/** Temporary i64 local from what `value` pushes. */
export function tempI64(t: Translator, value: () => void): number {
  const l = t.fb.local(I64);
  value();
  t.fb.set(l);
  return l;
}

// ---- operations implemented in TypeScript ------------------------------------------

export type SimdHelper = (cpu: Cpu, args: number) => number;

/** Operation ids of the `fpOp` helper used by SIMD/crypto start here (the scalar FP work uses low ids). */
export const SIMD_OP_BASE = 0x400;
const simdHelpers: SimdHelper[] = [];

/** Registers a TypeScript operation at module load; returns its `fpOp` id. */
export function registerSimdHelper(fn: SimdHelper): number {
  simdHelpers.push(fn);
  return SIMD_OP_BASE + simdHelpers.length - 1;
}

/** Installs every registered SIMD/crypto helper into a Cpu's fpOps table. */
export function installSimdHelpers(cpu: Cpu): void {
  simdHelpers.forEach((fn, i) => { cpu.fpOps[SIMD_OP_BASE + i] = fn; });
}

/** Emits a call of helper `id` with `args` (an i32 packing register numbers etc.); returns when it reports an exception. */
export function callSimdHelper(t: Translator, id: number, args: number): void {
  t.callHelper('fpOp', () => t.fb.i32(id).i32(args));
  t.returnIfNonZero();
}

/** Byte view helpers for TypeScript operations: address of Vn's byte 0 in wasm memory. */
export function vAddr(cpu: Cpu, n: number): number {
  return cpu.base + vOffset(n);
}

/** Adds the FP/SIMD access check (CPACR_EL1.FPEN, CPTR_EL2.TFP) in front of every row. */
export function withFpCheck(rows: Encoding[]): Encoding[] {
  return rows.map(r => ({
    ...r,
    translate: (t: Translator, f: Fields) => (checkFpAccess(t) ? true : r.translate(t, f)),
  }));
}
