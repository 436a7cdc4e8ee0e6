// Shared wasm functions for guest loads and stores: the soft-TLB lookup,
// the host access and the slow path, one function per access size and kind,
// living in the helper table (engine.ts). Translated code calls them with
// call_indirect: about 14 bytes per access instead of about 60 for the same
// lookup inlined. Most code of a Linux boot runs a handful of times, and V8's
// compile time grows with the bytes of each module, so compact accesses boot
// faster; an inlined lookup is faster only for code that runs many times.
//
// Calling convention: (cpu, va: i64, [value,] info) where info is MemInfo's
// bits, the instruction's word index in its page (PC_WORD_SHIFT) and the
// soft-TLB to use (MMU_INDEX_SHIFT). A failed access (exception taken, VMM
// exit) throws to the dispatcher, like the slow paths.
//
// Three forms. 'value' functions take the address and take or return the
// value. 'register' functions serve the immediate-offset forms of LDR/STR
// of general registers: (cpu, info, baseAndOffset) with baseAndOffset =
// offset << 5 | Rn; they compute the address, move the value to or from
// the register named by info's RT field, and do the pre-/post-index
// writeback (info's INDEX field). 'pair' functions do the same for LDP/STP
// and LDPSW, with the second register as a fourth parameter, and one
// soft-TLB check for both elements. The register forms take most of the
// work out of the translated code: LDR [Xn, #imm] is 35 -> 17 bytes of
// wasm, LDP 69 -> 19.

import { FunctionBuilder, ModuleBuilder, Op, OpSIMD, ValType, type FuncType } from './wasm-emitter';
import { PAGE_BITS, S, TLB_BYTES, TLB_ENTRIES, TLB_ENTRY_SIZE, TLBE } from '../state';
import { MemInfo } from './helpers';

const I32 = ValType.I32, I64 = ValType.I64, V128 = ValType.V128;

/** Where an access function finds the soft-TLB index (MmuIdx) in `info`. */
export const MMU_INDEX_SHIFT = 27;
/** Where a register or pair access function finds its addressing mode (AccessIndex) in `info`. */
export const INDEX_SHIFT = 29;

/** Addressing of the register and pair forms: base + offset, or with writeback of the base after the access. */
export const enum AccessIndex { Offset = 0, Post = 1, Pre = 2 }

export type AccessForm = 'value' | 'register' | 'pair';

export interface AccessFunction {
  name: string;
  type: FuncType;
  isLoad: boolean;
  sizeLog2: number;
  signed: boolean;
  form: AccessForm;
  /** Register form of LDRSB/LDRSH Wt: sign-extended to 32 bits, the upper half of Xt zero. */
  toW: boolean;
}

function describe(isLoad: boolean, sizeLog2: number, signed: boolean, form: AccessForm = 'value', toW = false): AccessFunction {
  const value = sizeLog2 === 4 ? V128 : I64;
  const type: FuncType = form === 'register' ? { params: [I32, I32, I32], results: [] }
    : form === 'pair' ? { params: [I32, I32, I32, I32], results: [] }
    : isLoad ? { params: [I32, I64, I32], results: [value] } : { params: [I32, I64, value, I32], results: [] };
  return { name: accessFunctionName(isLoad, sizeLog2, signed, form, toW), isLoad, sizeLog2, signed, form, toW, type };
}

export function accessFunctionName(isLoad: boolean, sizeLog2: number, signed: boolean, form: AccessForm = 'value', toW = false): string {
  const base = isLoad ? `load${8 << sizeLog2}${signed && sizeLog2 < 3 ? 's' : ''}` : `store${8 << sizeLog2}`;
  return form === 'value' ? base : `${base}${toW ? 'w' : ''}_${form}`;
}

/**
 * Every access function. Value form: loads of 1..16 bytes (zero- or
 * sign-extended to 64 bits), stores of 1..16 bytes. Register form: general
 * register loads (zero-extended, sign-extended to 64 or to 32 bits) and
 * stores of 1..8 bytes. Pair form: LDP/STP of W and X registers, LDPSW.
 */
export const ACCESS_FUNCTIONS: AccessFunction[] = [
  ...[0, 1, 2].flatMap(s => [describe(true, s, false), describe(true, s, true)]),
  describe(true, 3, false), describe(true, 4, false),
  ...[0, 1, 2, 3, 4].map(s => describe(false, s, false)),
  ...[0, 1, 2].flatMap(s => [describe(true, s, false, 'register'), describe(true, s, true, 'register')]),
  describe(true, 0, true, 'register', true), describe(true, 1, true, 'register', true), describe(true, 3, false, 'register'),
  ...[0, 1, 2, 3].map(s => describe(false, s, false, 'register')),
  describe(true, 2, false, 'pair'), describe(true, 2, true, 'pair'), describe(true, 3, false, 'pair'),
  describe(false, 2, false, 'pair'), describe(false, 3, false, 'pair'),
];

/**
 * Adds `fn` to `mb`. `helper` is the function index of the imported `load`
 * or `store` TypeScript helper (cpu, vaLo, vaHi, info) -> status, `failed`
 * the tag thrown when it reports a non-zero status.
 */
export function addAccessFunction(mb: ModuleBuilder, fn: AccessFunction, helper: number, failed: number): number {
  if (fn.form !== 'value') return addRegisterAccessFunction(mb, fn, helper, failed);
  const f = new FunctionBuilder(fn.type.params.length);
  const cpu = 0, va = 1, value = 2, info = fn.isLoad ? 2 : 3;
  const entry = f.local(I32), va32 = f.local(I32);
  const vector = fn.sizeLog2 === 4;
  emitTlbHit(f, { cpu, va, info, va32, entry }, 1 << fn.sizeLog2, fn.isLoad ? TLBE.READ : TLBE.WRITE);
  if (fn.isLoad) {
    f.if(vector ? V128 : I64);
    emitHostAddress(f, va32, entry);
    if (vector) f.simdMem(OpSIMD.v128_load, 0, 0); else f.mem(loadOpcode(fn.sizeLog2, fn.signed), 0, 0);
    f.else();
    emitSlowPath(f, true, vector, info, helper, failed);
    f.end();
  } else {
    f.if();
    emitHostAddress(f, va32, entry);
    f.get(value);
    if (vector) f.simdMem(OpSIMD.v128_store, 0, 0); else f.mem(storeOpcode(fn.sizeLog2), 0, 0);
    f.else();
    emitSlowPath(f, false, vector, info, helper, failed);
    f.end();
  }
  return mb.addFunction(fn.type, f);
}

/**
 * Pushes an i32, 1 when the soft-TLB entry for an access of `span` bytes at
 * the i64 in local `va` hits in `field` (TLBE.READ or WRITE): the tag
 * compared is (va + span - 1) & PAGE_MASK, so an access crossing into the
 * next page misses. The TLB is the one info's MMU_INDEX field names. Leaves
 * the low word of va in `va32` and the entry's address in `entry` for
 * emitHostAddress.
 */
function emitTlbHit(f: FunctionBuilder, l: { cpu: number; va: number; info: number; va32: number; entry: number }, span: number, field: number): void {
  f.get(l.va);
  if (span > 1) f.i64(BigInt(span - 1)).op(Op.i64_add);
  f.i64(-BigInt(1 << PAGE_BITS)).op(Op.i64_and);
  // entry = cpu + mmuIdx * TLB_BYTES + ((va >> PAGE_BITS) & (TLB_ENTRIES - 1)) * TLB_ENTRY_SIZE
  const entryShift = Math.log2(TLB_ENTRY_SIZE);
  f.get(l.va).op(Op.i32_wrap_i64).tee(l.va32).i32(PAGE_BITS - entryShift).op(Op.i32_shr_u)
    .i32((TLB_ENTRIES - 1) << entryShift).op(Op.i32_and).get(l.cpu).op(Op.i32_add)
    .get(l.info).i32(MMU_INDEX_SHIFT).op(Op.i32_shr_u).i32(3).op(Op.i32_and) // above it: INDEX
    .i32(Math.log2(TLB_BYTES)).op(Op.i32_shl).op(Op.i32_add).tee(l.entry);
  f.mem(Op.i64_load, S.TLB + field, 3).op(Op.i64_eq);
}

/** Pushes the wasm address of a soft-TLB hit: low word of va + the entry's addend (see emitTlbHit). */
function emitHostAddress(f: FunctionBuilder, va32: number, entry: number): void {
  f.get(va32).get(entry).mem(Op.i32_load, S.TLB + TLBE.ADDEND, 2).op(Op.i32_add);
}

/**
 * A register or pair form (see the file comment): parameters (cpu, info,
 * baseAndOffset[, rt2]). Loads complete, both elements of a pair, before
 * any register is written; rt is written last, so it wins when rt == rt2
 * (as QEMU), and the base writeback comes after the registers, so it wins
 * over a loaded Rt == Rn; a store reads its registers before the
 * writeback. A fault leaves registers and base untouched. The translator
 * never passes Rt = 31 (XZR for these instructions, but the slot of SP in
 * the register file); Rn = 31 is SP.
 */
function addRegisterAccessFunction(mb: ModuleBuilder, fn: AccessFunction, helper: number, failed: number): number {
  const f = new FunctionBuilder(fn.type.params.length);
  const cpu = 0, info = 1, baseAndOffset = 2, rt2 = 3;
  const pair = fn.form === 'pair';
  const size = 1 << fn.sizeLog2;
  const entry = f.local(I32), va32 = f.local(I32), host = f.local(I32);
  const v1 = f.local(I64), v2 = f.local(I64), va = f.local(I64), next = f.local(I64), rnSlot = f.local(I32);
  // next = X[Rn] + offset; va = next, or X[Rn] for post-index
  f.get(baseAndOffset).i32(31).op(Op.i32_and).i32(3).op(Op.i32_shl).get(cpu).op(Op.i32_add).tee(rnSlot)
    .mem(Op.i64_load, S.X, 3).tee(va)
    .get(baseAndOffset).i32(5).op(Op.i32_shr_s).op(Op.i64_extend_i32_s).op(Op.i64_add).set(next);
  f.get(info).i32(INDEX_SHIFT).op(Op.i32_shr_u).i32(3).op(Op.i32_and).i32(AccessIndex.Post).op(Op.i32_ne)
    .if().get(next).set(va).end();
  /** Pushes the wasm address of X[rt] (minus S.X), rt from info's RT field. */
  const rtSlot = () => f.get(info).i32(MemInfo.RT_SHIFT - 3).op(Op.i32_shr_u).i32(31 << 3).op(Op.i32_and).get(cpu).op(Op.i32_add);
  const rt2Slot = () => f.get(rt2).i32(3).op(Op.i32_shl).get(cpu).op(Op.i32_add);
  /** Pushes the second element's info: RT replaced by rt2 (the syndrome names the register of the faulting element). */
  const info2 = () => f.get(info).i32(~(31 << MemInfo.RT_SHIFT)).op(Op.i32_and).get(rt2).i32(MemInfo.RT_SHIFT).op(Op.i32_shl).op(Op.i32_or);
  /** Calls the TypeScript helper for one element at va + offset; throws when the access did not complete. */
  const slowElement = (offset: number, elementInfo: () => void) => {
    f.get(cpu).get(va);
    if (offset) f.i64(BigInt(offset)).op(Op.i64_add);
    f.op(Op.i32_wrap_i64).get(va);
    if (offset) f.i64(BigInt(offset)).op(Op.i64_add);
    f.i64(32n).op(Op.i64_shr_u).op(Op.i32_wrap_i64);
    elementInfo();
    f.call(helper).if().throw(failed).end();
  };
  // one check on the bytes of both elements: a pair crossing pages misses
  emitTlbHit(f, { cpu, va, info, va32, entry }, pair ? 2 * size : size, fn.isLoad ? TLBE.READ : TLBE.WRITE);
  f.if();
  emitHostAddress(f, va32, entry);
  f.set(host);
  if (fn.isLoad) {
    f.get(host).mem(loadOpcode(fn.sizeLog2, fn.signed), 0, 0).set(v1);
    if (pair) f.get(host).mem(loadOpcode(fn.sizeLog2, fn.signed), size, 0).set(v2);
  } else {
    f.get(host); rtSlot(); f.mem(Op.i64_load, S.X, 3).mem(storeOpcode(fn.sizeLog2), 0, 0);
    if (pair) { f.get(host); rt2Slot(); f.mem(Op.i64_load, S.X, 3).mem(storeOpcode(fn.sizeLog2), size, 0); }
  }
  f.else();
  if (fn.isLoad) {
    slowElement(0, () => f.get(info));
    f.get(cpu).mem(Op.i64_load, S.SCRATCH, 3).set(v1);
    if (pair) {
      slowElement(size, info2);
      f.get(cpu).mem(Op.i64_load, S.SCRATCH, 3).set(v2);
    }
  } else {
    f.get(cpu); rtSlot(); f.mem(Op.i64_load, S.X, 3).mem(Op.i64_store, S.SCRATCH, 3);
    slowElement(0, () => f.get(info));
    if (pair) {
      f.get(cpu); rt2Slot(); f.mem(Op.i64_load, S.X, 3).mem(Op.i64_store, S.SCRATCH, 3);
      slowElement(size, info2);
    }
  }
  f.end();
  if (fn.isLoad) {
    if (pair) { rt2Slot(); f.get(v2).mem(Op.i64_store, S.X, 3); }
    rtSlot(); f.get(v1);
    if (fn.toW) f.i64(0xffffffffn).op(Op.i64_and);
    f.mem(Op.i64_store, S.X, 3);
  }
  // writeback (pre- and post-index): base = base + offset
  f.get(info).i32(3 << INDEX_SHIFT).op(Op.i32_and).if().get(rnSlot).get(next).mem(Op.i64_store, S.X, 3).end();
  return mb.addFunction(fn.type, f);
}

/**
 * STXR/STLXR of 1..8 bytes in wasm, with the `storeExclusive` helper's
 * signature (cpu, vaLo, vaHi, info) -> status (helpers.ts); the value to
 * store is in SCRATCH, the result (0 stored, 1 failed) goes to SCRATCH+16.
 * When the address is aligned and its page has a soft-TLB write entry, the
 * monitor check, the compare with the value LDXR saw, the store and
 * clearing the monitor happen here; anything else (alignment faults, misses,
 * STXP) calls the TypeScript helper (function index `helper`). Linux makes
 * 600,000 exclusive stores per boot (every atomic on ARMv8.0).
 */
export function addStoreExclusiveFunction(mb: ModuleBuilder, helper: number): number {
  const f = new FunctionBuilder(4);
  const cpu = 0, vaLo = 1, vaHi = 2, info = 3;
  const va = f.local(I64), va32 = f.local(I32), entry = f.local(I32), host = f.local(I32), size = f.local(I32);
  const slow = () => f.get(cpu).get(vaLo).get(vaHi).get(info).call(helper).ret();
  f.i32(1).get(info).i32(MemInfo.SIZE_MASK).op(Op.i32_and).op(Op.i32_shl).set(size);
  // pairs (16 bytes) and unaligned addresses: the helper
  f.get(size).i32(8).op(Op.i32_gt_u).get(vaLo).get(size).i32(1).op(Op.i32_sub).op(Op.i32_and).op(Op.i32_or).if();
  slow();
  f.end();
  f.get(vaLo).op(Op.i64_extend_i32_u).get(vaHi).op(Op.i64_extend_i32_u).i64(32n).op(Op.i64_shl).op(Op.i64_or).set(va);
  emitTlbHit(f, { cpu, va, info, va32, entry }, 1, TLBE.WRITE); // aligned: never crosses a page
  f.op(Op.i32_eqz).if();
  slow();
  f.end();
  emitHostAddress(f, va32, entry);
  f.set(host);
  // status = !(armed for this address and size, and memory still holds what LDXR loaded)
  const sized = (op: (sizeLog2: number) => void) => {
    // a br_table over the four sizes would be shorter; four ifs keep the emitter simple
    for (let sizeLog2 = 0; sizeLog2 < 4; sizeLog2++) {
      f.get(info).i32(MemInfo.SIZE_MASK).op(Op.i32_and).i32(sizeLog2).op(Op.i32_eq).if();
      op(sizeLog2);
      f.end();
    }
  };
  f.get(cpu).i32(1).mem(Op.i32_store, S.SCRATCH + 16, 2);
  f.get(cpu).mem(Op.i32_load, S.EXCL_VALID, 2)
    .get(cpu).mem(Op.i64_load, S.EXCL_ADDR, 3).get(va).op(Op.i64_eq).op(Op.i32_and)
    .get(cpu).mem(Op.i32_load, S.EXCL_SIZE, 2).get(size).op(Op.i32_eq).op(Op.i32_and).if();
  sized(sizeLog2 => {
    f.get(host).mem(loadOpcode(sizeLog2, false), 0, 0).get(cpu).mem(Op.i64_load, S.EXCL_VAL, 3).op(Op.i64_eq).if();
    f.get(host).get(cpu).mem(Op.i64_load, S.SCRATCH, 3).mem(storeOpcode(sizeLog2), 0, 0);
    f.get(cpu).i32(0).mem(Op.i32_store, S.SCRATCH + 16, 2);
    f.end();
  });
  f.end();
  f.get(cpu).i32(0).mem(Op.i32_store, S.EXCL_VALID, 2);
  f.i32(0);
  return mb.addFunction({ params: [I32, I32, I32, I32], results: [I32] }, f);
}

/**
 * The slow path of an access inside a function with parameters (cpu, va,
 * [value,] info): a store's value goes to SCRATCH, the `load`/`store`
 * helper (function index `helper`) runs and the function throws `failed`
 * when it returns non-zero; a load then pushes the value from SCRATCH.
 */
function emitSlowPath(f: FunctionBuilder, isLoad: boolean, vector: boolean, info: number, helper: number, failed: number): void {
  const cpu = 0, va = 1, value = 2;
  if (!isLoad) {
    f.get(cpu).get(value);
    if (vector) f.simdMem(OpSIMD.v128_store, S.SCRATCH, 0); else f.mem(Op.i64_store, S.SCRATCH, 3);
  }
  f.get(cpu).get(va).op(Op.i32_wrap_i64).get(va).i64(32n).op(Op.i64_shr_u).op(Op.i32_wrap_i64).get(info)
    .call(helper).if().throw(failed).end();
  if (isLoad) {
    f.get(cpu);
    if (vector) f.simdMem(OpSIMD.v128_load, S.SCRATCH, 0); else f.mem(Op.i64_load, S.SCRATCH, 3);
  }
}

/** Adds a slow path alone (helpers.ts SLOW_PATH_TYPES, for the inline soft-TLB form); returns its function index. */
export function addSlowPathFunction(mb: ModuleBuilder, type: FuncType, isLoad: boolean, helper: number, failed: number): number {
  const f = new FunctionBuilder(type.params.length);
  const vector = (isLoad ? type.results[0] : type.params[2]) === V128;
  emitSlowPath(f, isLoad, vector, type.params.length - 1, helper, failed);
  return mb.addFunction(type, f);
}

export function loadOpcode(sizeLog2: number, signed: boolean): number {
  switch (sizeLog2) {
    case 0: return signed ? Op.i64_load8_s : Op.i64_load8_u;
    case 1: return signed ? Op.i64_load16_s : Op.i64_load16_u;
    case 2: return signed ? Op.i64_load32_s : Op.i64_load32_u;
    default: return Op.i64_load;
  }
}

export function storeOpcode(sizeLog2: number): number {
  switch (sizeLog2) {
    case 0: return Op.i64_store8;
    case 1: return Op.i64_store16;
    case 2: return Op.i64_store32;
    default: return Op.i64_store;
  }
}
