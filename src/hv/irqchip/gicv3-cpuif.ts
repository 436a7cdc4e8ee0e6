// The priority logic of a GICv3 CPU interface (Arm IHI 0069, chapter 4.8
// "Interrupt prioritization" and the ICC_* pseudocode), kept apart from the
// distributor/redistributor state so that the virtual CPU interface
// (ICV_* registers fed by ICH_LR<n>_EL2 list registers) can reuse it: both
// interfaces ask the same questions ("what is the running priority?", "can
// this pending interrupt preempt?") of different state.
//
// Like QEMU's Cortex-A57 model, the physical interface implements 5 bits of
// priority and 5 preemption bits (ICC_CTLR_EL1.PRIbits = 4): priorities are
// compared on bits [7:3], and one 32-bit active-priorities register per group
// (ICC_AP0R0_EL1 / ICC_AP1R0_EL1) has one bit per group priority.

/** INTID returned by an acknowledge with nothing to acknowledge. */
export const INTID_SPURIOUS = 1023;
/** Priority bits implemented by the CPU interface (ICC_CTLR_EL1.PRIbits + 1). */
export const PRI_BITS = 5;
/** Preemption bits (ICH_VTR_EL2.PREbits + 1 in the virtual interface); equal to PRI_BITS here. */
export const PRE_BITS = 5;
/** Mask of the implemented priority bits (unimplemented low bits read as zero in ICC_PMR_EL1). */
export const FULL_PRIORITY_MASK = (0xff << (8 - PRI_BITS)) & 0xff;
/** Smallest ICC_BPR0_EL1 value (BPR writes below it are raised to it). */
export const MIN_BPR0 = 7 - PRE_BITS;
/** Smallest ICC_BPR1_EL1 value: Non-secure group 1 binary points are one larger. */
export const MIN_BPR1 = MIN_BPR0 + 1;
/** Idle priority: nothing is active. */
export const IDLE_PRIORITY = 0xff;

/** ICC_CTLR_EL1 bits. */
export const ICC_CTLR = {
  CBPR: 1 << 0,
  EOIMODE: 1 << 1,
  PMHE: 1 << 6,
  PRIBITS_SHIFT: 8,
  IDBITS_SHIFT: 11,
  SEIS: 1 << 14,
  A3V: 1 << 15,
} as const;

/**
 * ICC_CTLR_EL1 read-only fields as QEMU presents them for a Cortex-A57:
 * A3V=1 (affinity level 3 in SGIs), IDbits=1 (24-bit INTIDs), PRIbits=4.
 */
export const ICC_CTLR_FIXED = ICC_CTLR.A3V | (1 << ICC_CTLR.IDBITS_SHIFT) | ((PRI_BITS - 1) << ICC_CTLR.PRIBITS_SHIFT);

/** Interrupt groups. With a single security state (GICD_CTLR.DS=1) group 0 signals FIQ and group 1 IRQ. */
export const GROUP0 = 0;
export const GROUP1 = 1;

/**
 * The software-visible state of one CPU interface (physical ICC_*, or later
 * a virtual one whose fields map to ICH_VMCR_EL2 / ICH_AP<n>R<m>_EL2).
 */
export class CpuInterfaceState {
  pmr = 0;
  bpr0 = MIN_BPR0;
  bpr1 = MIN_BPR1;
  /** Writable ICC_CTLR_EL1 bits (CBPR, EOImode). */
  ctlr = 0;
  igrpen0 = false;
  igrpen1 = false;
  /** Active priorities, one bit per group priority (bit n = priority n << (8 - PRE_BITS)). */
  ap0 = 0;
  ap1 = 0;

  reset(): void {
    this.pmr = 0; this.bpr0 = MIN_BPR0; this.bpr1 = MIN_BPR1; this.ctlr = 0;
    this.igrpen0 = false; this.igrpen1 = false; this.ap0 = 0; this.ap1 = 0;
  }

  /** EOImode = 1: EOIR only drops the priority, ICC_DIR_EL1 deactivates. */
  get eoiSplit(): boolean { return (this.ctlr & ICC_CTLR.EOIMODE) !== 0; }
}

function lowestSetBit(v: number): number { return 31 - Math.clz32(v & -v); }

/** The running priority (ICC_RPR_EL1): the highest (numerically lowest) active group priority, or idle. */
export function runningPriority(s: CpuInterfaceState): number {
  const apr = (s.ap0 | s.ap1) >>> 0;
  if (apr === 0) return IDLE_PRIORITY;
  return lowestSetBit(apr) << (8 - PRE_BITS);
}

/** Group of the highest active priority (the one an EOI must drop), or -1 when nothing is active. */
export function highestActiveGroup(s: CpuInterfaceState): number {
  const apr = (s.ap0 | s.ap1) >>> 0;
  if (apr === 0) return -1;
  const bit = apr & -apr;
  return (s.ap0 & bit) !== 0 ? GROUP0 : GROUP1;
}

/**
 * Mask that keeps the group-priority bits of a priority (GroupBits()): with
 * ICC_CTLR_EL1.CBPR the group 1 binary point is BPR0's; a Non-secure group 1
 * binary point N means bits [7:N] (one less than the same value in BPR0).
 */
export function groupPriorityMask(s: CpuInterfaceState, group: number): number {
  let bpr: number;
  if (group === GROUP1 && !(s.ctlr & ICC_CTLR.CBPR)) bpr = (s.bpr1 & 7) - 1;
  else bpr = s.bpr0 & 7;
  return (0xff << (bpr + 1)) & 0xff;
}

/**
 * Whether a pending interrupt of `priority` in `group` can be signalled to
 * the PE now (CanSignalInterrupt): it must be above the priority mask and
 * its group priority must be higher than the running priority's.
 */
export function canPreempt(s: CpuInterfaceState, priority: number, group: number): boolean {
  if (priority >= s.pmr) return false;
  const rpr = runningPriority(s);
  if (rpr === IDLE_PRIORITY) return true;
  const mask = groupPriorityMask(s, group);
  return (priority & mask) < (rpr & mask);
}

/** Marks the group priority of an acknowledged interrupt active (the priority drop undoes it). */
export function activatePriority(s: CpuInterfaceState, priority: number, group: number): void {
  const bit = 1 << ((priority & groupPriorityMask(s, group)) >> (8 - PRE_BITS));
  if (group === GROUP0) s.ap0 = (s.ap0 | bit) >>> 0; else s.ap1 = (s.ap1 | bit) >>> 0;
}

/** Priority drop: clears the highest active priority of `group`. */
export function dropPriority(s: CpuInterfaceState, group: number): void {
  if (group === GROUP0) s.ap0 = (s.ap0 & (s.ap0 - 1)) >>> 0;
  else s.ap1 = (s.ap1 & (s.ap1 - 1)) >>> 0;
}

/** A pending interrupt as the highest-priority search reports it. */
export interface PendingInterrupt { intid: number; priority: number; group: number }
