// Shared emitters for the A64 integer data-processing groups (dp-immediate.ts,
// dp-register.ts): operand width abstraction, AddWithCarry with NZCV,
// logical flags, shifted/extended register operands and the translate-time
// DecodeBitMasks. Everything is emitted inline as wasm i32/i64 arithmetic;
// 32-bit (sf=0) operations run in i32 and are zero-extended into Xd.

import type { Translator } from '../jit/translator';
import { Op, ValType } from '../jit/wasm-emitter';
import { S } from '../state';

/** Emits code that pushes one value of the current width. */
export type Push = () => void;

/**
 * The wasm opcodes and register accessors of one operand width, so each
 * instruction is written once for W (i32) and X (i64) forms.
 */
export class Width {
  readonly bits: 32 | 64;
  readonly type: ValType;
  readonly add: number; readonly sub: number; readonly mul: number;
  readonly and: number; readonly or: number; readonly xor: number;
  readonly shl: number; readonly shrU: number; readonly shrS: number; readonly rotr: number; readonly rotl: number;
  readonly clz: number; readonly eqz: number; readonly eq: number; readonly ne: number;
  readonly ltU: number; readonly leU: number; readonly ltS: number;
  readonly divU: number; readonly divS: number;

  constructor(readonly sf: 0 | 1) {
    const x = sf === 1;
    this.bits = x ? 64 : 32;
    this.type = x ? ValType.I64 : ValType.I32;
    this.add = x ? Op.i64_add : Op.i32_add;
    this.sub = x ? Op.i64_sub : Op.i32_sub;
    this.mul = x ? Op.i64_mul : Op.i32_mul;
    this.and = x ? Op.i64_and : Op.i32_and;
    this.or = x ? Op.i64_or : Op.i32_or;
    this.xor = x ? Op.i64_xor : Op.i32_xor;
    this.shl = x ? Op.i64_shl : Op.i32_shl;
    this.shrU = x ? Op.i64_shr_u : Op.i32_shr_u;
    this.shrS = x ? Op.i64_shr_s : Op.i32_shr_s;
    this.rotr = x ? Op.i64_rotr : Op.i32_rotr;
    this.rotl = x ? Op.i64_rotl : Op.i32_rotl;
    this.clz = x ? Op.i64_clz : Op.i32_clz;
    this.eqz = x ? Op.i64_eqz : Op.i32_eqz;
    this.eq = x ? Op.i64_eq : Op.i32_eq;
    this.ne = x ? Op.i64_ne : Op.i32_ne;
    this.ltU = x ? Op.i64_lt_u : Op.i32_lt_u;
    this.leU = x ? Op.i64_le_u : Op.i32_le_u;
    this.ltS = x ? Op.i64_lt_s : Op.i32_lt_s;
    this.divU = x ? Op.i64_div_u : Op.i32_div_u;
    this.divS = x ? Op.i64_div_s : Op.i32_div_s;
  }

  /** All-ones mask of the width, as an unsigned bigint (translate time only). */
  get mask(): bigint { return this.sf ? 0xffff_ffff_ffff_ffffn : 0xffff_ffffn; }

  /** Pushes a constant of this width (taken modulo 2^bits). */
  konst(t: Translator, v: bigint): void {
    if (this.sf) t.fb.i64(BigInt.asIntN(64, v));
    else t.fb.i32(Number(BigInt.asIntN(32, v)));
  }

  /** Pushes Rn of this width; register 31 is the zero register. */
  get(t: Translator, r: number): void {
    if (this.sf) t.getX(r); else t.getW(r);
  }

  /** Pushes Rn of this width; register 31 is the stack pointer. */
  getSp(t: Translator, r: number): void {
    t.fb.get(t.cpu).mem(this.sf ? Op.i64_load : Op.i32_load, S.X + r * 8, this.sf ? 3 : 2);
  }

  /** Rd = value (zero-extended for W); register 31 discards it (XZR). */
  set(t: Translator, r: number, value: Push): void {
    if (this.sf) t.setX(r, value); else t.setW(r, value);
  }

  /** Rd = value (zero-extended for W); register 31 is the stack pointer. */
  setSp(t: Translator, r: number, value: Push): void {
    if (r !== 31) { this.set(t, r, value); return; }
    t.fb.get(t.cpu);
    value();
    if (!this.sf) t.fb.op(Op.i64_extend_i32_u);
    t.fb.mem(Op.i64_store, S.X + 31 * 8, 3);
  }

  /** Pushes an i32 0/1: the sign bit of the value in `local`. */
  signBit(t: Translator, local: number): void {
    t.fb.get(local);
    this.konst(t, 0n);
    t.fb.op(this.ltS);
  }

  /** Pushes a value of this width from an i32 0/1 on the stack. */
  fromI32(t: Translator): void {
    if (this.sf) t.fb.op(Op.i64_extend_i32_u);
  }

  temp(t: Translator, value: Push): number {
    const l = t.fb.local(this.type);
    value();
    t.fb.set(l);
    return l;
  }
}

export const W32 = new Width(0);
export const X64 = new Width(1);
export function width(sf: number): Width { return sf ? X64 : W32; }

// ---- flags -------------------------------------------------------------------------

/** Sets N and Z from the result in `result` (a local of width `w`). */
export function setNZ(t: Translator, w: Width, result: number): void {
  t.setFlag(S.NF, () => w.signBit(t, result));
  t.setFlag(S.ZF, () => { t.fb.get(result).op(w.eqz); });
}

/** Sets NZCV to a constant 4-bit value (as encoded in CCMP's nzcv field). */
export function setNZCVConst(t: Translator, nzcv: number): void {
  t.setFlag(S.NF, () => t.fb.i32((nzcv >> 3) & 1));
  t.setFlag(S.ZF, () => t.fb.i32((nzcv >> 2) & 1));
  t.setFlag(S.CF, () => t.fb.i32((nzcv >> 1) & 1));
  t.setFlag(S.VF, () => t.fb.i32(nzcv & 1));
}

/**
 * ADC/ADCS/SBC/SBCS: Arm ARM AddWithCarry(a, b, PSTATE.C). Pushes a + b + C
 * of width `w` and, with `setFlags`, writes NZCV. SBC is a + NOT(b) + C, so
 * callers pass `b` already inverted.
 *   C = unsigned carry out: result <u a, or result <=u a when the carry-in is 1
 *   V = signed overflow: a and b have one sign and the result the other
 */
export function emitAddWithCarry(t: Translator, w: Width, a: Push, b: Push, setFlags: boolean): void {
  const f = t.fb;
  const pushCarry = (): void => { t.getFlag(S.CF); w.fromI32(t); };
  if (!setFlags) { a(); b(); f.op(w.add); pushCarry(); f.op(w.add); return; }
  const la = w.temp(t, a);
  const lb = w.temp(t, b);
  const carry = t.tempI32(() => t.getFlag(S.CF));
  const r = w.temp(t, () => { f.get(la).get(lb).op(w.add).get(carry); w.fromI32(t); f.op(w.add); });
  setNZ(t, w, r);
  t.setFlag(S.CF, () => { f.get(r).get(la).op(w.leU).get(r).get(la).op(w.ltU).get(carry).op(Op.select); });
  t.setFlag(S.VF, () => {
    f.get(la).get(r).op(w.xor).get(lb).get(r).op(w.xor).op(w.and);
    w.konst(t, 0n);
    f.op(w.ltS);
  });
  f.get(r);
  t.release(la, lb, r, carry);
}

/**
 * ADD/SUB and their flag-setting forms: pushes a + b or a - b. For SUB this
 * is AddWithCarry(a, NOT(b), 1) of the Arm ARM, emitted as a plain wasm
 * subtract; its carry is "no borrow" (a >=u b) and V is set when a and b
 * have different signs and the result's sign differs from a's.
 */
export function emitAddSub(t: Translator, w: Width, a: Push, b: Push, sub: boolean, setFlags: boolean): void {
  const f = t.fb;
  if (!setFlags) { a(); b(); f.op(sub ? w.sub : w.add); return; }
  const la = w.temp(t, a);
  const lb = w.temp(t, b);
  const r = w.temp(t, () => { f.get(la).get(lb).op(sub ? w.sub : w.add); });
  setNZ(t, w, r);
  t.setFlag(S.CF, () => {
    if (sub) f.get(la).get(lb).op(w.ltU).op(Op.i32_eqz);
    else f.get(r).get(la).op(w.ltU);
  });
  t.setFlag(S.VF, () => {
    // add: (a ^ r) & (b ^ r); sub: (a ^ r) & (a ^ b)
    f.get(la).get(r).op(w.xor);
    if (sub) f.get(la).get(lb).op(w.xor);
    else f.get(lb).get(r).op(w.xor);
    f.op(w.and);
    w.konst(t, 0n);
    f.op(w.ltS);
  });
  f.get(r);
  t.release(la, lb, r);
}

/** Pushes the result of a logical op; with `setFlags` (ANDS/BICS/TST) sets N, Z and clears C, V. */
export function emitLogical(t: Translator, w: Width, value: Push, setFlags: boolean): void {
  if (!setFlags) { value(); return; }
  const r = w.temp(t, value);
  setNZ(t, w, r);
  t.setFlag(S.CF, () => t.fb.i32(0));
  t.setFlag(S.VF, () => t.fb.i32(0));
  t.fb.get(r);
  t.release(r);
}

// ---- register operands -------------------------------------------------------------

/** Shift types of the shifted-register forms, in encoding order. */
export const enum ShiftType { LSL, LSR, ASR, ROR }

/** Pushes Rm (XZR for 31) shifted by a constant amount (amount < width, checked by the decoder). */
export function pushShifted(t: Translator, w: Width, rm: number, shift: ShiftType, amount: number): void {
  w.get(t, rm);
  if (amount === 0) return;
  w.konst(t, BigInt(amount));
  t.fb.op([w.shl, w.shrU, w.shrS, w.rotr][shift]);
}

/**
 * Pushes ExtendReg(Rm, option, shift) for the extended-register forms:
 * UXTB/UXTH/UXTW/UXTX/SXTB/SXTH/SXTW/SXTX are byte/halfword/word loads of
 * the register slot with zero or sign extension, then LSL #0..4.
 */
export function pushExtended(t: Translator, w: Width, rm: number, option: number, shift: number): void {
  const f = t.fb;
  const size = option & 3; // 0 byte, 1 halfword, 2 word, 3 doubleword
  const signed = (option & 4) !== 0;
  if (rm === 31) {
    w.konst(t, 0n);
  } else {
    const at = S.X + rm * 8;
    f.get(t.cpu);
    if (w.sf) {
      const op = [signed ? Op.i64_load8_s : Op.i64_load8_u, signed ? Op.i64_load16_s : Op.i64_load16_u,
        signed ? Op.i64_load32_s : Op.i64_load32_u, Op.i64_load][size];
      f.mem(op, at, size);
    } else {
      const op = [signed ? Op.i32_load8_s : Op.i32_load8_u, signed ? Op.i32_load16_s : Op.i32_load16_u, Op.i32_load, Op.i32_load][size];
      f.mem(op, at, Math.min(size, 2));
    }
  }
  if (shift) { w.konst(t, BigInt(shift)); f.op(w.shl); }
}

// ---- immediates --------------------------------------------------------------------

function ones(n: number): bigint { return (1n << BigInt(n)) - 1n; }

function replicate(elem: bigint, esize: number, bits: number): bigint {
  let v = 0n;
  for (let i = 0; i < bits; i += esize) v |= elem << BigInt(i);
  return v;
}

function ror(v: bigint, r: number, esize: number): bigint {
  if (r === 0) return v;
  return ((v >> BigInt(r)) | (v << BigInt(esize - r))) & ones(esize);
}

/**
 * Arm ARM DecodeBitMasks(N, imms, immr, immediate) at translate time:
 * returns {wmask, tmask} of `bits` bits, or undefined for the reserved
 * encodings (no element size; for logical immediates, an all-ones element).
 */
export function decodeBitMasks(n: number, imms: number, immr: number, immediate: boolean, bits: number):
  { wmask: bigint; tmask: bigint } | undefined {
  // memoised: the BigInt arithmetic below cost 10% of translating logical immediates and bitfield moves
  const key = (n << 14) | (imms << 8) | (immr << 2) | (immediate ? 2 : 0) | (bits === 64 ? 1 : 0);
  if (bitMaskCache.has(key)) return bitMaskCache.get(key);
  const masks = computeBitMasks(n, imms, immr, immediate, bits);
  bitMaskCache.set(key, masks);
  return masks;
}

const bitMaskCache = new Map<number, { wmask: bigint; tmask: bigint } | undefined>();

function computeBitMasks(n: number, imms: number, immr: number, immediate: boolean, bits: number):
  { wmask: bigint; tmask: bigint } | undefined {
  const combined = (n << 6) | (~imms & 0x3f);
  const len = combined === 0 ? -1 : 31 - Math.clz32(combined);
  if (len < 1) return undefined;
  const esize = 1 << len;
  if (esize > bits) return undefined;
  const levels = esize - 1;
  if (immediate && (imms & levels) === levels) return undefined;
  const s = imms & levels;
  const r = immr & levels;
  const d = (s - r) & levels;
  const welem = ror(ones(s + 1), r, esize);
  const telem = ones(d + 1);
  return { wmask: replicate(welem, esize, bits), tmask: replicate(telem, esize, bits) };
}
