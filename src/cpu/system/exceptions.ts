// Exception classes (ESR_ELx.EC) and vector offsets from the Arm ARM
// (D17.2.37 ESR_EL1 and D1.10.2 "Exception vectors").

export const Exception = {
  UNKNOWN: 0x00,
  WFX: 0x01,
  FP_ACCESS: 0x07,
  ILLEGAL_STATE: 0x0e,
  SVC64: 0x15,
  HVC64: 0x16,
  SMC64: 0x17,
  SYSREG: 0x18,
  INSN_ABORT_LOWER: 0x20,
  INSN_ABORT_SAME: 0x21,
  PC_ALIGN: 0x22,
  DATA_ABORT_LOWER: 0x24,
  DATA_ABORT_SAME: 0x25,
  SP_ALIGN: 0x26,
  FP_EXC64: 0x2c,
  SERROR: 0x2f,
  BREAKPOINT_LOWER: 0x30,
  BREAKPOINT_SAME: 0x31,
  SOFTSTEP_LOWER: 0x32,
  SOFTSTEP_SAME: 0x33,
  WATCHPOINT_LOWER: 0x34,
  WATCHPOINT_SAME: 0x35,
  BRK64: 0x3c,
} as const;

/** Kinds of exception, in vector-table order within a group. */
export const enum ExceptionKind { Sync = 0, Irq = 1, Fiq = 2, SError = 3 }

/**
 * Offset into the vector table: groups of 0x200 for current EL with SP_EL0,
 * current EL with SP_ELx, lower EL using AArch64, lower EL using AArch32.
 */
export function vectorOffset(kind: ExceptionKind, fromEl: number, targetEl: number, spSel: number): number {
  let group: number;
  if (fromEl === targetEl) group = spSel ? 1 : 0;
  else group = 2; // lower EL, AArch64 (AArch32 is not implemented)
  return group * 0x200 + kind * 0x80;
}

/** ESR_ELx.IL: 32-bit instruction length, always 1 for A64. */
export const ESR_IL = 1 << 25;

/** Data/instruction fault status codes (DFSC/IFSC) for the long-descriptor format. */
export const FaultStatus = {
  ADDR_SIZE: 0x00, // + level
  TRANSLATION: 0x04, // + level
  ACCESS_FLAG: 0x08, // + level
  PERMISSION: 0x0c, // + level
  SYNC_EXTERNAL: 0x10,
  ALIGNMENT: 0x21,
  TLB_CONFLICT: 0x30,
} as const;
