// System-register side effects of the ARMv8.0 system architecture (PSTATE
// views, translation control, virtualization identity, interrupt status) and
// the trap rules of MRS/MSR/SYS (Arm ARM D13 / the HCR_EL2, MDCR_EL2,
// CPTR_EL2 and SCTLR_EL1 trap controls). Registered on every CPU by
// installCpuFeatures (cpu/features.ts).

import { Cpu, SYSREG_CONTINUE, SYSREG_DONE, SYSREG_TRAPPED, type SysregHook } from '../cpu';
import { Exception } from './exceptions';
import { SYSREG_BY_KEY, SYSREG_BY_NAME, slotOf, sysregKey, type SysregEntry } from './sysregs';
import { installMmu } from '../mmu/table-walk';

const MASK64 = 0xffffffffffffffffn;

const SCTLR_EL1 = slotOf('SCTLR_EL1');
const TTBR0_EL1 = slotOf('TTBR0_EL1');
const TTBR1_EL1 = slotOf('TTBR1_EL1');
const VPIDR_EL2 = slotOf('VPIDR_EL2');
const VMPIDR_EL2 = slotOf('VMPIDR_EL2');
const CPTR_EL2 = slotOf('CPTR_EL2');
const MDCR_EL2 = slotOf('MDCR_EL2');

/** HCR_EL2 trap and routing bits (ARMv8.0). */
export const HCR_EL2 = {
  VM: 1 << 0, FMO: 1 << 3, IMO: 1 << 4, AMO: 1 << 5, VF: 1 << 6, VI: 1 << 7, VSE: 1 << 8, FB: 1 << 9,
  DC: 1 << 12, TWI: 1 << 13, TWE: 1 << 14, TID0: 1 << 15, TID1: 1 << 16, TID2: 1 << 17, TID3: 1 << 18,
  TSC: 1 << 19, TIDCP: 1 << 20, TACR: 1 << 21, TSW: 1 << 22, TPC: 1 << 23, TPU: 1 << 24, TTLB: 1 << 25,
  TVM: 1 << 26, TGE: 1 << 27, TDZ: 1 << 28, HCD: 1 << 29, TRVM: 1 << 30, RW: 1 << 31,
} as const;

/** SCTLR_EL1 bits that control EL0 access. */
const SCTLR = { UMA: 1 << 9, DZE: 1 << 14, UCT: 1 << 15, UCI: 1 << 26 } as const;

/** MPIDR_EL1 as QEMU's virt board reports it: bit 31 RES1, U=0 (multiprocessor), affinity = CPU index. */
export function mpidrValue(cpu: Cpu): bigint {
  return (1n << 31n) | cpu.mpidr;
}

const key = (op0: number, op1: number, crn: number, crm: number, op2: number) => sysregKey(op0, op1, crn, crm, op2);

/** The "virtual memory control" registers HCR_EL2.TVM (writes) and TRVM (reads) trap from EL1. */
const VM_CONTROL = new Set(['SCTLR_EL1', 'TTBR0_EL1', 'TTBR1_EL1', 'TCR_EL1', 'ESR_EL1', 'FAR_EL1', 'AFSR0_EL1',
  'AFSR1_EL1', 'MAIR_EL1', 'AMAIR_EL1', 'CONTEXTIDR_EL1'].map(n => keyOfName(n)));
/** HCR_EL2.TID2: cache identification. */
const ID_GROUP2 = new Set(['CTR_EL0', 'CCSIDR_EL1', 'CLIDR_EL1', 'CSSELR_EL1'].map(n => keyOfName(n)));
/** HCR_EL2.TID1: REVIDR_EL1, AIDR_EL1. */
const ID_GROUP1 = new Set(['REVIDR_EL1', 'AIDR_EL1'].map(n => keyOfName(n)));
/** MDCR_EL2.TDOSA: OS lock and power-down debug registers. */
const DEBUG_OS = new Set(['OSLAR_EL1', 'OSLSR_EL1', 'OSDLR_EL1', 'DBGPRCR_EL1'].map(n => keyOfName(n)));
const MDRAR_EL1 = keyOfName('MDRAR_EL1');
const ACTLR_EL1 = keyOfName('ACTLR_EL1');
const CPACR_EL1 = keyOfName('CPACR_EL1');
const CTR_EL0 = keyOfName('CTR_EL0');
const DAIF = keyOfName('DAIF');
const SP_EL0 = keyOfName('SP_EL0');
const TPIDRRO_EL0 = keyOfName('TPIDRRO_EL0');

/** Encoding key of a named register (throws at start-up for a typo). */
function keyOfName(name: string): number {
  const e = SYSREG_BY_NAME.get(name);
  if (!e) throw new Error(`unknown system register ${name}`);
  return e.key;
}

// SYS instruction encodings (op0 = 1) the trap controls name
const DC_ZVA = key(1, 3, 7, 4, 1);
const DC_SET_WAY = new Set([key(1, 0, 7, 6, 2), key(1, 0, 7, 10, 2), key(1, 0, 7, 14, 2)]); // ISW CSW CISW
const DC_POC = new Set([key(1, 0, 7, 6, 1), key(1, 3, 7, 10, 1), key(1, 3, 7, 14, 1)]); // IVAC CVAC CIVAC
const POU = new Set([key(1, 3, 7, 5, 1), key(1, 0, 7, 5, 0), key(1, 0, 7, 1, 0), key(1, 3, 7, 11, 1)]); // IC IVAU IALLU IALLUIS, DC CVAU
const EL0_CACHE_OPS = new Set([key(1, 3, 7, 5, 1), key(1, 3, 7, 10, 1), key(1, 3, 7, 11, 1), key(1, 3, 7, 14, 1)]); // SCTLR_EL1.UCI

const SYS_MIN_EL = [1, 1, 1, 0, 2, 2, 3, 3];

/** ESR ISS of a trapped MSR/MRS/SYS (EC 0x18): Op0 Op2 Op1 CRn Rt CRm Direction. */
export function sysregTrapIss(k: number, rt: number, isRead: boolean): number {
  const op0 = k >> 14, op1 = (k >> 11) & 7, crn = (k >> 7) & 15, crm = (k >> 3) & 15, op2 = k & 7;
  return (op0 << 20) | (op2 << 17) | (op1 << 14) | (crn << 10) | (rt << 5) | (crm << 1) | (isRead ? 1 : 0);
}

function trap(cpu: Cpu, k: number, rt: number, isRead: boolean, targetEl: number): number {
  cpu.syncException(Exception.SYSREG, sysregTrapIss(k, rt, isRead), false, undefined, targetEl);
  return SYSREG_TRAPPED;
}

function undefinedAccess(cpu: Cpu, k: number, rt: number, isRead: boolean): number {
  cpu.undefinedSysreg(k, rt, isRead);
  return SYSREG_TRAPPED;
}

/** The ID register space op0=3, op1=0, CRn=0, CRm=1..7 (HCR_EL2.TID3; unallocated encodings there are RAZ). */
function isIdGroup3(k: number): boolean {
  return (k >> 14) === 3 && ((k >> 11) & 7) === 0 && ((k >> 7) & 15) === 0 && ((k >> 3) & 15) >= 1;
}

/**
 * Checks of an MRS (isRead) / MSR / SYS before the table: EL0 traps to EL1
 * by SCTLR_EL1, then traps to EL2 by HCR_EL2/MDCR_EL2/CPTR_EL2 (EL1 traps
 * have priority, D1.13.2), then accesses without a table row.
 */
function sysregFilter(cpu: Cpu, k: number, isRead: boolean, rt: number): number {
  const el = cpu.el;
  const entry = SYSREG_BY_KEY.get(k);
  // an access the EL may not make at all is UNDEFINED, which has priority over any trap
  // (SYS operations: op1 = 0 EL1, 3 EL0, 4 EL2, 6 EL3)
  const minEl = entry ? entry.minEl : (k >> 14) === 1 ? SYS_MIN_EL[(k >> 11) & 7] : 0;
  if (el < minEl) return SYSREG_CONTINUE;
  if (el === 0) {
    const sctlr = cpu.sysregLo(SCTLR_EL1);
    if (k === DAIF && !(sctlr & SCTLR.UMA)) return trap(cpu, k, rt, isRead, cpu.syncTargetEl());
    if (k === CTR_EL0 && !(sctlr & SCTLR.UCT)) return trap(cpu, k, rt, isRead, cpu.syncTargetEl());
    if (k === DC_ZVA && !(sctlr & SCTLR.DZE)) return trap(cpu, k, rt, isRead, cpu.syncTargetEl());
    if (EL0_CACHE_OPS.has(k) && !(sctlr & SCTLR.UCI)) return trap(cpu, k, rt, isRead, cpu.syncTargetEl());
    if (k === TPIDRRO_EL0 && !isRead) return undefinedAccess(cpu, k, rt, isRead);
  }
  // SP_EL0 is not accessible while it is the current stack pointer
  if (k === SP_EL0 && cpu.spSel === 0) return undefinedAccess(cpu, k, rt, isRead);
  if (cpu.hasEl2 && el < 2) {
    const hcr = cpu.hcrLo();
    const tge = (hcr & HCR_EL2.TGE) !== 0;
    if (el === 1 && VM_CONTROL.has(k) && (hcr & (isRead ? HCR_EL2.TRVM : HCR_EL2.TVM))) return trap(cpu, k, rt, isRead, 2);
    if (isRead && isIdGroup3(k) && (hcr & HCR_EL2.TID3)) return trap(cpu, k, rt, isRead, 2);
    if (ID_GROUP2.has(k) && (hcr & HCR_EL2.TID2)) return trap(cpu, k, rt, isRead, 2);
    if (isRead && ID_GROUP1.has(k) && (hcr & HCR_EL2.TID1)) return trap(cpu, k, rt, isRead, 2);
    if (k === ACTLR_EL1 && (hcr & HCR_EL2.TACR)) return trap(cpu, k, rt, isRead, 2);
    if (DC_SET_WAY.has(k) && (hcr & HCR_EL2.TSW)) return trap(cpu, k, rt, isRead, 2);
    if (DC_POC.has(k) && (hcr & HCR_EL2.TPC)) return trap(cpu, k, rt, isRead, 2);
    if (POU.has(k) && (hcr & HCR_EL2.TPU)) return trap(cpu, k, rt, isRead, 2);
    if (k === DC_ZVA && (hcr & HCR_EL2.TDZ)) return trap(cpu, k, rt, isRead, 2);
    // TLB maintenance at EL1 (TLBI op1=0, CRn=8)
    if ((k >> 14) === 1 && ((k >> 11) & 7) === 0 && ((k >> 7) & 15) === 8 && (hcr & HCR_EL2.TTLB)) return trap(cpu, k, rt, isRead, 2);
    if (k === CPACR_EL1 && (cpu.sysregLo(CPTR_EL2) & (1 << 31)) !== 0) return trap(cpu, k, rt, isRead, 2); // CPTR_EL2.TCPAC
    if ((k >> 14) === 2 && entry) {
      // debug registers: MDCR_EL2.TDE (or HCR_EL2.TGE) implies TDA, TDOSA and TDRA
      const mdcr = cpu.sysregLo(MDCR_EL2);
      const tde = (mdcr & (1 << 8)) !== 0 || tge;
      const trapped = DEBUG_OS.has(k) ? tde || (mdcr & (1 << 10)) !== 0
        : k === MDRAR_EL1 ? tde || (mdcr & (1 << 11)) !== 0
          : tde || (mdcr & (1 << 9)) !== 0;
      if (trapped) return trap(cpu, k, rt, isRead, 2);
    }
  }
  // Unallocated encodings of the ID space read as zero at EL1 and above (Linux probes e.g. ID_AA64ISAR2_EL1)
  if (!entry && isRead && el >= 1 && isIdGroup3(k)) { cpu.setX(rt, 0n); return SYSREG_DONE; }
  return SYSREG_CONTINUE;
}

/** Stores the masked value; true when it changed. */
function storeMasked(cpu: Cpu, e: SysregEntry, v: bigint): boolean {
  const mask = e.writeMask ?? MASK64;
  const old = cpu.sysreg(e.slot);
  const next = (v & mask) | (old & ~mask & MASK64);
  cpu.setSysregSlot(e.slot, next);
  return next !== old;
}

const HOOKS: Record<string, SysregHook> = {
  nzcv: {
    read: c => BigInt(c.nzcv),
    write: (c, _e, v) => { c.nzcv = Number(v & 0xf0000000n); },
  },
  daif: {
    read: c => BigInt(c.daif << 6),
    write: (c, _e, v) => { c.daif = Number((v >> 6n) & 0xfn); c.interruptStateChanged(); },
  },
  currentEl: { read: c => BigInt(c.el << 2) },
  spSel: {
    read: c => BigInt(c.spSel),
    write: (c, _e, v) => { c.setElSp(c.el, Number(v & 1n)); },
  },
  // The identification EL1 sees is the hypervisor's choice when EL2 is implemented.
  midr: { read: (c, e) => (c.el === 1 && c.hasEl2 ? c.sysreg(VPIDR_EL2) : c.sysreg(e.slot)) },
  mpidr: { read: c => (c.el === 1 && c.hasEl2 ? c.sysreg(VMPIDR_EL2) : mpidrValue(c)) },
  // DZP: DC ZVA prohibited at this EL (EL0 without SCTLR_EL1.DZE, or HCR_EL2.TDZ below EL2)
  dczid: {
    read: (c, e) => {
      const prohibited = (c.el === 0 && !(c.sysregLo(SCTLR_EL1) & SCTLR.DZE)) || (c.el < 2 && (c.hcrLo() & HCR_EL2.TDZ) !== 0);
      return c.sysreg(e.slot) | (prohibited ? 0x10n : 0n);
    },
  },
  // Translation control: any change drops the soft-TLB and the jump cache (simplest correct choice: the
  // soft-TLB is not tagged with ASID/VMID, so a TTBR or ASID switch flushes everything).
  sctlr: { write: (c, e, v) => { if (storeMasked(c, e, v)) c.tlb.flush(); } },
  ttbr: {
    write: (c, e, v) => {
      const before = c.sysreg(e.slot);
      if (!storeMasked(c, e, v)) return;
      // A change of TTBR0_EL1, or of TTBR1_EL1's ASID field alone, is an address-space switch
      // (Cpu.switchAddressSpace); anything else (TTBR1 table, TCR, MAIR, EL2 regime) drops everything.
      const after = c.sysreg(e.slot);
      if (e.slot === TTBR0_EL1 || (e.slot === TTBR1_EL1 && ((before ^ after) & 0x0000_ffff_ffff_ffffn) === 0n)) c.tlb.switchAddressSpace();
      else c.tlb.flush();
    },
  },
  hcr: {
    write: (c, e, v) => {
      const before = c.hcrLo();
      storeMasked(c, e, v | 0x8000_0000n); // RW is RAO/WI
      const after = c.hcrLo();
      if ((before ^ after) & (HCR_EL2.VM | HCR_EL2.DC | HCR_EL2.TGE)) c.tlb.flush();
      c.interruptStateChanged(); // VI/VF/VSE or the routing bits may make an interrupt deliverable
    },
  },
  // ISR_EL1: at EL1/EL0 with routing to EL2 the bits show the virtual interrupts
  isr: {
    read: c => {
      const hcr = c.hcrLo();
      const virt = c.el < 2 && !(hcr & HCR_EL2.TGE);
      const irq = virt && (hcr & HCR_EL2.IMO) ? c.virqLine || (hcr & HCR_EL2.VI) !== 0 : c.irqLine;
      const fiq = virt && (hcr & HCR_EL2.FMO) ? c.vfiqLine || (hcr & HCR_EL2.VF) !== 0 : c.fiqLine;
      const serror = virt && (hcr & HCR_EL2.AMO) ? (hcr & HCR_EL2.VSE) !== 0 : c.serrorPending;
      return BigInt((serror ? 1 << 8 : 0) | (irq ? 1 << 7 : 0) | (fiq ? 1 << 6 : 0));
    },
  },
};

function resetValues(cpu: Cpu): void {
  cpu.setSysregSlot(VMPIDR_EL2, mpidrValue(cpu));
}

/** Registers the system-register hooks, trap filter and MMU on one CPU (idempotent). */
export function installSystemRegs(cpu: Cpu): void {
  for (const [name, hook] of Object.entries(HOOKS)) if (!cpu.sysregHooks.has(name)) cpu.sysregHooks.set(name, hook);
  cpu.sysregFilter = sysregFilter;
  if (!cpu.resetHooks.includes(resetValues)) cpu.resetHooks.push(resetValues);
  resetValues(cpu);
  installMmu(cpu);
}
