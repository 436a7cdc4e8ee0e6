// SYS instructions (op0 = 1): TLB maintenance (TLBI), address translation
// (AT -> PAR_EL1), data cache zero (DC ZVA) and the cache maintenance
// operations, registered in cpu.sysOps. Traps of these instructions to
// EL1/EL2 (SCTLR_EL1.UCI/DZE, HCR_EL2.TTLB/TPC/TPU/TSW/TDZ) are checked
// earlier by the sysreg filter (system-registers.ts).
//
// The soft-TLB holds no ASID/VMID tags, so every TLBI that is not by VA
// flushes it whole. Caches are not modelled: cache maintenance is a no-op
// (the code cache already drops translations when their page is written,
// which is what IC IVAU/IALLU would otherwise be needed for), as on QEMU.

import type { Cpu } from '../cpu';
import { Access, Prot, Translation, TranslationFault } from '../mmu/translation';
import { Exception, FaultStatus } from './exceptions';
import { S, DC_ZVA_BITS, PAGE_BITS, POW2, softTlbIndex, TLB_BYTES, TLB_ENTRIES, TLB_ENTRY_SIZE, TLB_MMU_IDX_COUNT, TLBE } from '../state';
import { sysregKey, slotOf } from './sysregs';
import { TableWalker, installMmu } from '../mmu/table-walk';
import { HCR_EL2 } from './system-registers';

const PAR_EL1 = slotOf('PAR_EL1');
const HPFAR_EL2 = slotOf('HPFAR_EL2');
const TWO32 = 0x1_0000_0000;

type SysOp = (cpu: Cpu, rt: number) => number;

// ---- TLB maintenance ------------------------------------------------------------------

function walkerOf(cpu: Cpu): TableWalker { return installMmu(cpu); }

/** Drops every soft-TLB entry and the jump cache of one CPU. */
function flushAll(cpu: Cpu): void {
  cpu.tlb.flush();
  walkerOf(cpu).blocks.clear();
}

/** Drops the soft-TLB entries of one 4 KiB VA page in every MMU index, whatever their top byte (TBI). */
function flushPageAnyTag(cpu: Cpu, pageLo: number, vaHi24: number): void {
  const index = softTlbIndex(pageLo, vaHi24);
  for (let m = 0; m < TLB_MMU_IDX_COUNT; m++) {
    const e = (cpu.base + S.TLB + m * TLB_BYTES + index * TLB_ENTRY_SIZE) >> 2;
    for (const f of [TLBE.READ, TLBE.WRITE]) {
      const w = e + (f >> 2);
      if (cpu.u32[w] === pageLo && (cpu.u32[w + 1] & 0xffffff) === vaHi24) { cpu.u32[w] = 0xffffffff; cpu.u32[w + 1] = 0xffffffff; }
    }
  }
  cpu.tlb.flushJumpCachePage(pageLo, vaHi24);
  cpu.tlb.flushFetchPage(pageLo, vaHi24);
}

/**
 * TLBI by VA on one CPU. Xt[43:0] is VA[55:12] (the ASID in Xt[63:48] is
 * ignored: dropping entries of other ASIDs too is always safe). A VA inside
 * a cached block mapping drops the whole block.
 */
function flushVa(cpu: Cpu, xtLo: number, xtHi: number): void {
  const pageLo = (xtLo << PAGE_BITS) >>> 0;
  const vaHi24 = ((xtLo >>> (32 - PAGE_BITS)) | ((xtHi & 0xfff) << PAGE_BITS)) & 0xffffff;
  const blockBits = walkerOf(cpu).blockContaining(pageLo, vaHi24);
  if (blockBits === 0) {
    flushPageAnyTag(cpu, pageLo, vaHi24);
  } else if (blockBits - PAGE_BITS > Math.log2(TLB_ENTRIES)) {
    flushAll(cpu);
    return;
  } else {
    const base = vaHi24 * TWO32 + pageLo;
    const start = base - (base % POW2[blockBits]);
    for (let p = 0; p < POW2[blockBits - PAGE_BITS]; p++) {
      const va = start + p * 4096;
      flushPageAnyTag(cpu, va % TWO32, Math.floor(va / TWO32));
    }
  }
}

/** The CPUs an operation reaches: all of the VM's for the Inner Shareable (*IS) forms, or under HCR_EL2.FB at EL1. */
function targets(cpu: Cpu, broadcast: boolean): Cpu[] {
  if (broadcast || (cpu.el === 1 && (cpu.hcrLo() & HCR_EL2.FB))) return cpu.peers;
  return [cpu];
}

function tlbiAll(broadcast: boolean): SysOp {
  return cpu => { for (const c of targets(cpu, broadcast)) flushAll(c); return 0; };
}

/**
 * TLBI ASIDE1(IS): only non-global entries of one ASID go, so global kernel
 * mappings keep their soft-TLB-independent state (Cpu.switchAddressSpace
 * drops every EL1&0 soft-TLB entry and every jump-cache entry that is not a
 * global TTBR1 or EL2 translation: more than the ASID's, which is allowed).
 * Linux issues one per process exit or exec.
 */
function tlbiAsid(broadcast: boolean): SysOp {
  return cpu => { for (const c of targets(cpu, broadcast)) c.tlb.switchAddressSpace(); return 0; };
}

function tlbiVa(broadcast: boolean): SysOp {
  return (cpu, rt) => {
    const lo = cpu.xLo(rt), hi = cpu.xHi(rt);
    for (const c of targets(cpu, broadcast)) flushVa(c, lo, hi);
    return 0;
  };
}

// ---- address translation ---------------------------------------------------------------

const atOut = new Translation();
const atFault = new TranslationFault();

/**
 * AT: translates Xt in the regime of `el` (checked at that EL's privilege)
 * and writes PAR_EL1 in the 64-bit format. Faults are reported in PAR,
 * except that a stage-2 fault on the stage-1 walk of an AT executed at EL1
 * is taken to EL2 as a data abort (D5.10.3).
 */
function at(el: number, access: Access, bothStages: boolean): SysOp {
  return (cpu, rt) => {
    const walker = walkerOf(cpu);
    const lo = cpu.xLo(rt), hi = cpu.xHi(rt);
    const ok = walker.translateStages(cpu, lo, hi, access, el, atOut, atFault, bothStages);
    if (!ok) {
      const f = atFault;
      if (f.stage2 && cpu.el === 1) {
        cpu.setSysregSlot(HPFAR_EL2, BigInt(Math.floor(f.ipa / 4096)) << 4n);
        const iss = f.status | (f.s1ptw ? 1 << 7 : 0) | (1 << 8) /* CM */ | (access === Access.Write ? 1 << 6 : 0);
        cpu.syncException(Exception.DATA_ABORT_LOWER, iss, false, (BigInt(hi) << 32n) | BigInt(lo), 2);
        return 1;
      }
      const par = 1 | ((f.status & 0x3f) << 1) | (f.s1ptw ? 1 << 8 : 0) | (f.stage2 ? 1 << 9 : 0) | (1 << 11);
      cpu.setSysregSlot(PAR_EL1, BigInt(par));
      return 0;
    }
    const pa = atOut.pa - (atOut.pa % 4096);
    const paLo = pa % TWO32, paHi = Math.floor(pa / TWO32);
    // PA[47:12], SH[8:7], NS (bit 9: Non-secure), bit 11 RES1, ATTR[63:56]
    const low = (paLo | (walker.lastSh << 7) | (1 << 9) | (1 << 11)) >>> 0;
    const high = (paHi | (walker.lastAttr << 24)) >>> 0;
    cpu.setSysregSlot(PAR_EL1, (BigInt(high) << 32n) | BigInt(low));
    return 0;
  };
}

// ---- DC ZVA ------------------------------------------------------------------------------

const ZVA_BITS = DC_ZVA_BITS;
const zvaOut = new Translation();
const zvaFault = new TranslationFault();

/**
 * DC ZVA: zeroes the 64-byte block holding Xt, with the permission checks
 * and faults of a store (FAR = the block address, as QEMU reports). A hit
 * in the soft-TLB write entry zeroes directly; otherwise the stores go
 * through the store slow path (faults, code invalidation, TLB fill).
 * Device memory takes an alignment fault; a block outside RAM a
 * synchronous external abort.
 */
const dcZva: SysOp = (cpu, rt) => {
  const lo = (cpu.xLo(rt) & ~((1 << ZVA_BITS) - 1)) >>> 0, hi = cpu.xHi(rt);
  const hitPa = cpu.tlb.writePa(cpu.mmuIdx, lo, hi);
  if (hitPa >= 0) {
    const wasm = cpu.bus.ramOffset(hitPa);
    cpu.u8.fill(0, wasm, wasm + (1 << ZVA_BITS));
    return 0;
  }
  const scratch = (cpu.base + S.SCRATCH) >> 2;
  const info = 3; // MemInfo: 8-byte stores, no instruction syndrome
  if (cpu.mmu.translate(cpu, lo, hi, Access.Write, cpu.el, zvaOut, zvaFault)) {
    const far = (BigInt(hi) << 32n) | BigInt(lo);
    const target = cpu.syncTargetEl();
    const ec = target === cpu.el ? Exception.DATA_ABORT_SAME : Exception.DATA_ABORT_LOWER;
    if ((walkerOf(cpu).lastAttr & 0xf0) === 0 && (zvaOut.prot & Prot.DEVICE)) { cpu.syncException(ec, FaultStatus.ALIGNMENT | (1 << 6), false, far, target); return 1; }
    if (cpu.bus.ramOffset(zvaOut.pa) < 0) { cpu.syncException(ec, FaultStatus.SYNC_EXTERNAL | (1 << 6), false, far, target); return 1; }
  }
  // a translation fault is raised by the first store exactly as for STR
  for (let off = 0; off < 1 << ZVA_BITS; off += 8) {
    cpu.u32[scratch] = 0; cpu.u32[scratch + 1] = 0;
    if (cpu.access.store(lo + off, hi, info) !== 0) return 1;
  }
  return 0;
};

const nop: SysOp = () => 0;

/** The SYS operations of ARMv8.0 with their lowest EL (others, e.g. EL3 ones, are UNDEFINED). */
const OPS: Array<{ name: string; enc: [number, number, number, number]; minEl: number; op: SysOp }> = [
  // TLBI, EL1&0 regime (op1 = 0): CRm 3 = Inner Shareable, 7 = local
  { name: 'TLBI VMALLE1IS', enc: [0, 8, 3, 0], minEl: 1, op: tlbiAll(true) },
  { name: 'TLBI VAE1IS', enc: [0, 8, 3, 1], minEl: 1, op: tlbiVa(true) },
  { name: 'TLBI ASIDE1IS', enc: [0, 8, 3, 2], minEl: 1, op: tlbiAsid(true) },
  { name: 'TLBI VAAE1IS', enc: [0, 8, 3, 3], minEl: 1, op: tlbiVa(true) },
  { name: 'TLBI VALE1IS', enc: [0, 8, 3, 5], minEl: 1, op: tlbiVa(true) },
  { name: 'TLBI VAALE1IS', enc: [0, 8, 3, 7], minEl: 1, op: tlbiVa(true) },
  { name: 'TLBI VMALLE1', enc: [0, 8, 7, 0], minEl: 1, op: tlbiAll(false) },
  { name: 'TLBI VAE1', enc: [0, 8, 7, 1], minEl: 1, op: tlbiVa(false) },
  { name: 'TLBI ASIDE1', enc: [0, 8, 7, 2], minEl: 1, op: tlbiAsid(false) },
  { name: 'TLBI VAAE1', enc: [0, 8, 7, 3], minEl: 1, op: tlbiVa(false) },
  { name: 'TLBI VALE1', enc: [0, 8, 7, 5], minEl: 1, op: tlbiVa(false) },
  { name: 'TLBI VAALE1', enc: [0, 8, 7, 7], minEl: 1, op: tlbiVa(false) },
  // TLBI from EL2 (op1 = 4). Stage-2 (IPA) invalidation drops everything: combined entries are not tagged by IPA.
  { name: 'TLBI IPAS2E1IS', enc: [4, 8, 0, 1], minEl: 2, op: tlbiAll(true) },
  { name: 'TLBI IPAS2LE1IS', enc: [4, 8, 0, 5], minEl: 2, op: tlbiAll(true) },
  { name: 'TLBI ALLE2IS', enc: [4, 8, 3, 0], minEl: 2, op: tlbiAll(true) },
  { name: 'TLBI VAE2IS', enc: [4, 8, 3, 1], minEl: 2, op: tlbiVa(true) },
  { name: 'TLBI ALLE1IS', enc: [4, 8, 3, 4], minEl: 2, op: tlbiAll(true) },
  { name: 'TLBI VALE2IS', enc: [4, 8, 3, 5], minEl: 2, op: tlbiVa(true) },
  { name: 'TLBI VMALLS12E1IS', enc: [4, 8, 3, 6], minEl: 2, op: tlbiAll(true) },
  { name: 'TLBI IPAS2E1', enc: [4, 8, 4, 1], minEl: 2, op: tlbiAll(false) },
  { name: 'TLBI IPAS2LE1', enc: [4, 8, 4, 5], minEl: 2, op: tlbiAll(false) },
  { name: 'TLBI ALLE2', enc: [4, 8, 7, 0], minEl: 2, op: tlbiAll(false) },
  { name: 'TLBI VAE2', enc: [4, 8, 7, 1], minEl: 2, op: tlbiVa(false) },
  { name: 'TLBI ALLE1', enc: [4, 8, 7, 4], minEl: 2, op: tlbiAll(false) },
  { name: 'TLBI VALE2', enc: [4, 8, 7, 5], minEl: 2, op: tlbiVa(false) },
  { name: 'TLBI VMALLS12E1', enc: [4, 8, 7, 6], minEl: 2, op: tlbiAll(false) },
  // AT (CRn 7, CRm 8)
  { name: 'AT S1E1R', enc: [0, 7, 8, 0], minEl: 1, op: at(1, Access.Read, false) },
  { name: 'AT S1E1W', enc: [0, 7, 8, 1], minEl: 1, op: at(1, Access.Write, false) },
  { name: 'AT S1E0R', enc: [0, 7, 8, 2], minEl: 1, op: at(0, Access.Read, false) },
  { name: 'AT S1E0W', enc: [0, 7, 8, 3], minEl: 1, op: at(0, Access.Write, false) },
  { name: 'AT S1E2R', enc: [4, 7, 8, 0], minEl: 2, op: at(2, Access.Read, false) },
  { name: 'AT S1E2W', enc: [4, 7, 8, 1], minEl: 2, op: at(2, Access.Write, false) },
  { name: 'AT S12E1R', enc: [4, 7, 8, 4], minEl: 2, op: at(1, Access.Read, true) },
  { name: 'AT S12E1W', enc: [4, 7, 8, 5], minEl: 2, op: at(1, Access.Write, true) },
  { name: 'AT S12E0R', enc: [4, 7, 8, 6], minEl: 2, op: at(0, Access.Read, true) },
  { name: 'AT S12E0W', enc: [4, 7, 8, 7], minEl: 2, op: at(0, Access.Write, true) },
  // Data cache and instruction cache maintenance
  { name: 'DC ZVA', enc: [3, 7, 4, 1], minEl: 0, op: dcZva },
  { name: 'DC IVAC', enc: [0, 7, 6, 1], minEl: 1, op: nop },
  { name: 'DC ISW', enc: [0, 7, 6, 2], minEl: 1, op: nop },
  { name: 'DC CSW', enc: [0, 7, 10, 2], minEl: 1, op: nop },
  { name: 'DC CISW', enc: [0, 7, 14, 2], minEl: 1, op: nop },
  { name: 'DC CVAC', enc: [3, 7, 10, 1], minEl: 0, op: nop },
  { name: 'DC CVAU', enc: [3, 7, 11, 1], minEl: 0, op: nop },
  { name: 'DC CIVAC', enc: [3, 7, 14, 1], minEl: 0, op: nop },
  { name: 'IC IALLUIS', enc: [0, 7, 1, 0], minEl: 1, op: nop },
  { name: 'IC IALLU', enc: [0, 7, 5, 0], minEl: 1, op: nop },
  { name: 'IC IVAU', enc: [3, 7, 5, 1], minEl: 0, op: nop },
];

/** Registers the SYS operations on one CPU. EL checks come first: an op above the current EL is UNDEFINED. */
export function installSystemOps(cpu: Cpu): void {
  for (const { enc: [op1, crn, crm, op2], minEl, op } of OPS) {
    const key = sysregKey(1, op1, crn, crm, op2);
    cpu.sysOps.set(key, (c, rt) => {
      if (c.el < minEl || (minEl === 2 && !c.hasEl2)) return c.undefinedSysreg(key, rt, false);
      return op(c, rt);
    });
  }
}
