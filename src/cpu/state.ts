// Layout of the WebAssembly.Memory shared by translated code, TypeScript
// helpers and device models. Everything the generated code touches on the
// hot path (registers, flags, FP/SIMD registers, the soft-TLB and the jump
// cache) lives at fixed offsets from a per-vCPU base address, so one
// translation serves every vCPU: the base is the block function's argument.

/** Page size of the soft-TLB (the smallest translation granule). */
export const PAGE_BITS = 12;
export const PAGE_SIZE = 1 << PAGE_BITS;

export const MAX_VCPUS = 8;
/** Where the per-vCPU areas start in wasm memory (page 0 stays unused to catch stray accesses). */
export const VCPU_AREA_BASE = 0x10000;
export const VCPU_STRIDE = 0x180000;
/** Wasm address of guest RAM's first byte; everything below is emulator state. */
export const GUEST_RAM_WASM_BASE = 0x0100_0000;

export function vcpuBase(index: number): number {
  return VCPU_AREA_BASE + index * VCPU_STRIDE;
}

/** Offsets inside one vCPU area. */
export const S = {
  /** X0..X30 at 8*n; slot 31 holds the current stack pointer (SP_ELx selected by EL and SPSel). */
  X: 0x000,
  SP: 0x0f8,
  PC: 0x100,
  /** Condition flags, each an i32 holding 0 or 1. */
  NF: 0x108,
  ZF: 0x10c,
  CF: 0x110,
  VF: 0x114,
  /** Instructions left in the current time slice; blocks subtract their length. */
  BUDGET: 0x118,
  /** Non-zero asks the dispatcher to return to TypeScript after the current block. */
  EXIT_REQUEST: 0x11c,
  /** Translation context of the running code (see TbFlags); part of the jump-cache key. */
  TB_FLAGS: 0x120,
  /** Exclusive monitor: armed flag, address, access size in bytes, and the loaded data. */
  EXCL_VALID: 0x124,
  EXCL_ADDR: 0x128,
  EXCL_SIZE: 0x130,
  EXCL_VAL: 0x138,
  EXCL_VAL2: 0x140,
  /** PSTATE.D, A, I, F as bits 3..0 (translated MRS DAIF / MSR DAIFSet use it directly). */
  DAIF: 0x148,
  /** Scratch for values passed between generated code and helpers without BigInt. */
  SCRATCH: 0x180, // 64 bytes
  /** V0..V31, 16 bytes each, little-endian lanes. */
  V: 0x200,
  FPCR: 0x400,
  FPSR: 0x404,
  /** System registers, 8 bytes per slot (slot numbers in cpu/sysregs.ts). */
  SYSREGS: 0x800, // 256 slots
  /** Soft-TLB: TLB_MMU_IDX_COUNT arrays of TLB_ENTRIES entries. */
  TLB: 0x1000,
} as const;

export const TLB_ENTRIES = 1024;
export const TLB_ENTRY_SIZE = 32;
/** Entry fields: the page tag for reads, the page tag for writes, and the addend from VA to wasm address. */
export const TLBE = { READ: 0, WRITE: 8, ADDEND: 16 } as const;
/** One soft-TLB per translation regime/privilege the code may run in. */
export const enum MmuIdx { EL0 = 0, EL1 = 1, EL2 = 2, EL0_EL2 = 3 }
export const TLB_MMU_IDX_COUNT = 4;
export const TLB_BYTES = TLB_ENTRIES * TLB_ENTRY_SIZE;

/** Jump cache: virtual PC + context -> function table index. */
export const JC_OFFSET = S.TLB + TLB_MMU_IDX_COUNT * TLB_BYTES;
/**
 * Cross-page jumps go through the jump cache, and the kernel's working set of
 * translation entry points is large: 4,096 entries missed 440,000 times per
 * Linux boot on slots taken by other PCs, 65,536 entries almost never do.
 */
export const JC_ENTRIES = 65536;
export const JC_ENTRY_SIZE = 16; // pc:i64, table index:i32, tb flags:i32
export const VCPU_AREA_END = JC_OFFSET + JC_ENTRIES * JC_ENTRY_SIZE;

/**
 * Jump-cache slot of a PC (low 32 bits). The dispatcher (engine.ts) computes
 * the same hash in wasm. The 1,024 instruction addresses of one 4 KiB page
 * land in 1,024 distinct slots, which lets a page be dropped exactly.
 */
export function jumpCacheIndex(pcLo: number): number {
  return ((pcLo >>> 2) ^ (pcLo >>> 18)) & (JC_ENTRIES - 1);
}

/**
 * POW2[n] = 2^n for n = 0..64. Why a table: `2 ** n` with a variable n (or
 * with an imported constant, which V8 does not fold) calls Math.pow, ~20 ns.
 */
export const POW2 = Float64Array.from({ length: 65 }, (_, n) => 2 ** n);
/** Log2 of the DC ZVA block: DCZID_EL0.BS = 4 words, 64 bytes (as QEMU's Cortex-A57). */
export const DC_ZVA_BITS = 6;

/** Pages in 4 GiB: the weight of VA[63:32] in a page number. */
export const PAGES_PER_4G = POW2[32 - PAGE_BITS];

/** Soft-TLB slot of a VA (the generated lookups index by the low word's page bits alike). */
export function softTlbIndex(vaLo: number, vaHi: number): number {
  return ((vaLo >>> PAGE_BITS) | (vaHi << (32 - PAGE_BITS))) & (TLB_ENTRIES - 1);
}

/** A virtual page as a number, VA[55:12] (the top byte is ignored, as TLBI by VA does). */
export function jumpCachePageKey(vaLo: number, vaHi: number): number {
  return (vaHi & 0xffffff) * PAGES_PER_4G + (vaLo >>> PAGE_BITS);
}

if (VCPU_AREA_END > VCPU_STRIDE) throw new Error('vCPU area overflows its stride');
if (VCPU_AREA_BASE + MAX_VCPUS * VCPU_STRIDE > GUEST_RAM_WASM_BASE) throw new Error('vCPU areas overlap guest RAM');

/**
 * Translation context bits. A block is translated for one context and the
 * jump cache only hands it out when the running context matches.
 */
export const TbFlags = {
  EL_SHIFT: 0, // bits 1:0 current exception level
  MMU_IDX_SHIFT: 2, // bits 3:2 soft-TLB used by loads/stores
  SP_SEL: 1 << 4, // PSTATE.SP
  /**
   * bits 6:5 FP/SIMD access trap (a64/vreg.ts checkFpAccess): 0 = FP enabled,
   * 1 = traps to EL1 (CPACR_EL1.FPEN), 2 = traps to EL2 (CPTR_EL2.TFP).
   */
  FP_TRAP_SHIFT: 5,
} as const;

/** Why the dispatcher returned to TypeScript. */
export const enum DispatchResult { ExitRequested = 1, BudgetExhausted = 2, JumpCacheMiss = 3 }
