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

import { FunctionBuilder, ModuleBuilder, Op, OpSIMD, ValType, type FuncType } from './wasm/emitter';
import { PAGE_BITS, S, TLB_BYTES, TLB_ENTRIES, TLB_ENTRY_SIZE, TLBE } from './state';

const I32 = ValType.I32, I64 = ValType.I64, V128 = ValType.V128;

/** Where an access function finds the soft-TLB index (MmuIdx) in `info`. */
export const MMU_INDEX_SHIFT = 27;

export interface AccessFunction {
  name: string;
  type: FuncType;
  isLoad: boolean;
  sizeLog2: number;
  signed: boolean;
}

function describe(isLoad: boolean, sizeLog2: number, signed: boolean): AccessFunction {
  const value = sizeLog2 === 4 ? V128 : I64;
  return {
    name: accessFunctionName(isLoad, sizeLog2, signed), isLoad, sizeLog2, signed,
    type: isLoad ? { params: [I32, I64, I32], results: [value] } : { params: [I32, I64, value, I32], results: [] },
  };
}

export function accessFunctionName(isLoad: boolean, sizeLog2: number, signed: boolean): string {
  return isLoad ? `load${8 << sizeLog2}${signed && sizeLog2 < 3 ? 's' : ''}` : `store${8 << sizeLog2}`;
}

/** Every access function: loads of 1..16 bytes (zero- or sign-extended to 64 bits), stores of 1..16 bytes. */
export const ACCESS_FUNCTIONS: AccessFunction[] = [
  ...[0, 1, 2].flatMap(s => [describe(true, s, false), describe(true, s, true)]),
  describe(true, 3, false), describe(true, 4, false),
  ...[0, 1, 2, 3, 4].map(s => describe(false, s, false)),
];

/**
 * Adds `fn` to `mb`. `helper` is the function index of the imported `load`
 * or `store` TypeScript helper (cpu, vaLo, vaHi, info) -> status, `failed`
 * the tag thrown when it reports a non-zero status.
 */
export function addAccessFunction(mb: ModuleBuilder, fn: AccessFunction, helper: number, failed: number): number {
  const f = new FunctionBuilder(fn.type.params.length);
  const cpu = 0, va = 1, value = 2, info = fn.isLoad ? 2 : 3;
  const entry = f.local(I32), va32 = f.local(I32);
  const size = 1 << fn.sizeLog2;
  const vector = fn.sizeLog2 === 4;
  // tag: (va + size - 1) & PAGE_MASK, so an access crossing into the next page misses
  f.get(va);
  if (size > 1) f.i64(BigInt(size - 1)).op(Op.i64_add);
  f.i64(-BigInt(1 << PAGE_BITS)).op(Op.i64_and);
  // entry = cpu + mmuIdx * TLB_BYTES + ((va >> PAGE_BITS) & (TLB_ENTRIES - 1)) * TLB_ENTRY_SIZE
  const entryShift = Math.log2(TLB_ENTRY_SIZE);
  f.get(va).op(Op.i32_wrap_i64).tee(va32).i32(PAGE_BITS - entryShift).op(Op.i32_shr_u)
    .i32((TLB_ENTRIES - 1) << entryShift).op(Op.i32_and).get(cpu).op(Op.i32_add)
    .get(info).i32(MMU_INDEX_SHIFT).op(Op.i32_shr_u).i32(Math.log2(TLB_BYTES)).op(Op.i32_shl).op(Op.i32_add).tee(entry);
  f.mem(Op.i64_load, S.TLB + (fn.isLoad ? TLBE.READ : TLBE.WRITE), 3).op(Op.i64_eq);
  if (fn.isLoad) {
    f.if(vector ? V128 : I64);
    f.get(va32).get(entry).mem(Op.i32_load, S.TLB + TLBE.ADDEND, 2).op(Op.i32_add);
    if (vector) f.simdMem(OpSIMD.v128_load, 0, 0); else f.mem(loadOpcode(fn.sizeLog2, fn.signed), 0, 0);
    f.else();
    emitSlowPath(f, true, vector, info, helper, failed);
    f.end();
  } else {
    f.if();
    f.get(va32).get(entry).mem(Op.i32_load, S.TLB + TLBE.ADDEND, 2).op(Op.i32_add).get(value);
    if (vector) f.simdMem(OpSIMD.v128_store, 0, 0); else f.mem(storeOpcode(fn.sizeLog2), 0, 0);
    f.else();
    emitSlowPath(f, false, vector, info, helper, failed);
    f.end();
  }
  return mb.addFunction(fn.type, f);
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
