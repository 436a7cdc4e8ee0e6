// The TypeScript functions translated code may call. Each has a fixed wasm
// signature (i32 arguments only: no BigInt crosses the boundary); wider
// values travel through the vCPU's SCRATCH area. `cpu` is always the vCPU
// base address, so one translation serves every vCPU.
//
// Status-returning helpers answer 0 to continue with the next wasm
// instruction, non-zero when the block must return at once because the
// helper changed PC (an exception was taken, or the access exits to the VMM
// and the instruction will be replayed).

import { ValType, type FuncType } from './wasm-emitter';

const I = ValType.I32;
const L = ValType.I64;
const V = ValType.V128;

export const HELPER_TYPES = {
  /** load(cpu, vaLo, vaHi, info) -> status; value in SCRATCH (16 bytes for 128-bit accesses). */
  load: { params: [I, I, I, I], results: [I] },
  /** store(cpu, vaLo, vaHi, info) -> status; value taken from SCRATCH. */
  store: { params: [I, I, I, I], results: [I] },
  /** Synchronous exception with the given ESR.EC and ISS, taken from the instruction at PC. */
  exception: { params: [I, I, I], results: [] },
  /** Undefined instruction at PC (insn passed for diagnostics). */
  undefined: { params: [I, I], results: [] },
  /** MRS: system register encoded as op0:op1:CRn:CRm:op2 (16 bits) into Xt. */
  mrs: { params: [I, I, I], results: [I] },
  /** MSR (register): Xt into the system register. */
  msr: { params: [I, I, I], results: [I] },
  /** MSR (immediate) to a PSTATE field: op1:op2 selector and the 4-bit immediate. */
  msrImm: { params: [I, I, I], results: [I] },
  /** SYS / SYSL (cache, TLB and address translation operations). */
  sys: { params: [I, I, I], results: [I] },
  /** ERET: restores PSTATE from SPSR and PC from ELR of the current level. */
  eret: { params: [I], results: [I] },
  /** WFI / WFE / SEV / SEVL / YIELD: hint number. */
  hint: { params: [I, I], results: [I] },
  /** Barriers (DSB/DMB/ISB/CLREX): op2 and CRm fields. */
  barrier: { params: [I, I, I], results: [I] },
  /** Load-exclusive / store-exclusive / monitor bookkeeping are emitted inline or via load/store with info flags. */
  storeExclusive: { params: [I, I, I, I], results: [I] },
  /** A 128-bit FP/SIMD operation done in TypeScript: opcode id and the V register numbers packed in one i32. */
  fpOp: { params: [I, I, I], results: [I] },
  /** Diagnostics: traces a block entry when tracing is on. */
  trace: { params: [I, I, I], results: [] },
} satisfies Record<string, FuncType>;

export type HelperName = keyof typeof HELPER_TYPES;

/**
 * The slow paths of translated loads and stores: wasm functions in the
 * helper table (engine.ts) that split the address into i32 halves, call the
 * `load`/`store` helper and pass the value through SCRATCH. When the helper
 * took an exception or needs a VMM exit they throw, and the dispatcher's
 * catch goes on from the new PC, so a call site needs no status test: that
 * keeps every access in translated code about 40 bytes smaller. `info`
 * carries, above MemInfo's bits, the instruction's word index in its page
 * (PC_WORD_SHIFT): the helper rebuilds PC from the page of PC in memory,
 * which is always the page of the running block.
 */
export const SLOW_PATH_TYPES = {
  /** loadSlow(cpu, va, info) -> the loaded value, extended per info. */
  loadSlow: { params: [I, L, I], results: [L] },
  loadSlowVector: { params: [I, L, I], results: [V] },
  /** storeSlow(cpu, va, value, info). */
  storeSlow: { params: [I, L, L, I], results: [] },
  storeSlowVector: { params: [I, L, V, I], results: [] },
} satisfies Record<string, FuncType>;

export type SlowPathName = keyof typeof SLOW_PATH_TYPES;

/** Where the word index of the accessing instruction sits in a slow path's `info`. */
export const PC_WORD_SHIFT = 17;

export type HelperImpls = { [K in HelperName]: (...args: number[]) => number | void };

/** Bits of the `info` word given to the load/store helpers (mirrors the data-abort syndrome). */
export const MemInfo = {
  SIZE_MASK: 0x7, // log2 of the access size in bytes: 0..4
  SIGN: 1 << 3, // sign-extend the loaded value (SSE)
  SF: 1 << 4, // destination is a 64-bit register
  RT_SHIFT: 5, // bits 9:5 transfer register
  ACQ_REL: 1 << 10,
  ISV: 1 << 11, // the syndrome describes the instruction fully (single register, no writeback)
  UNPRIV: 1 << 12, // LDTR/STTR: checked as EL0 access
  EXCLUSIVE: 1 << 13,
  FPREG: 1 << 14, // the transfer register is a V register
  NO_FAULT_ALIGN: 1 << 15,
  ALIGN_REQUIRED: 1 << 16, // unaligned access faults (exclusives, acquire/release)
} as const;
