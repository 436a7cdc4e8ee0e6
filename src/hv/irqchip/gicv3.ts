// GICv3 interrupt controller (Arm IHI 0069) as an in-kernel device of the
// hypervisor layer, like KVM's vgic-v3: a distributor (SPIs), one
// redistributor per vCPU (SGIs and PPIs) and the system-register CPU
// interface (ICC_*, registered by gic-sysregs.ts).
//
// It presents what QEMU's `virt` machine with secure=off presents to Linux:
// a GIC without security extensions (GICD_CTLR.DS = 1, one security state,
// group 0 signalled as FIQ and group 1 as IRQ), affinity routing always on
// (ARE RAO/WI, so the legacy GICD_ITARGETSR/GICD_SGIR are RAZ/WI and the
// distributor's INTID 0-31 registers are RAZ/WI), 256 INTIDs (224 SPIs),
// no LPIs/ITS, no 1-of-N SPI routing, GIC-500 r0p0 identification.
//
// Interrupt state is kept as 32-bit bitmaps (word 0 = INTIDs 0-31 per
// redistributor, words 1-7 = SPIs in the distributor) so that finding the
// highest-priority pending interrupt is a scan of a few words.

import type { Cpu } from '../../cpu/cpu';
import type { MmioRegion } from '../../io/mmio';
import type { IrqChip } from './irqchip';
import {
  CpuInterfaceState, INTID_SPURIOUS, GROUP0, GROUP1, canPreempt, activatePriority, dropPriority,
  highestActiveGroup, type PendingInterrupt,
} from './gicv3-cpuif';

export { INTID_SPURIOUS } from './gicv3-cpuif';

/**
 * SPIs implemented (INTIDs 32..255): QEMU 7.2's virt board reports GICD_TYPER.ITLinesNumber = 7
 * (checked with a bare-metal read on qemu-system-aarch64 -M virt,gic-version=3), i.e. 256 INTIDs.
 */
export const GIC_SPI_COUNT = 224;
/** INTIDs below this are private to a CPU (SGIs 0-15, PPIs 16-31). */
export const GIC_INTERNAL = 32;
export const GIC_INTID_COUNT = GIC_INTERNAL + GIC_SPI_COUNT;
const WORDS = GIC_INTID_COUNT / 32;

/** Frame sizes: the distributor is 64 KiB, each redistributor RD_base + SGI_base = 128 KiB. */
export const GICD_SIZE = 0x1_0000;
export const GICR_STRIDE = 0x2_0000;
const GICR_SGI_BASE = 0x1_0000;

/** GICD_CTLR bits in the single-security-state (DS=1) layout. */
export const GICD_CTLR = { ENABLE_GRP0: 1 << 0, ENABLE_GRP1: 1 << 1, ARE: 1 << 4, DS: 1 << 6, E1NWF: 1 << 7, RWP: 1 << 31 } as const;
/** GICR_WAKER bits. */
export const GICR_WAKER = { PROCESSOR_SLEEP: 1 << 1, CHILDREN_ASLEEP: 1 << 2 } as const;

/** GICD/GICR_IIDR: Arm (JEP106 0x43B), ProductID 0, r0p0, as QEMU reports. */
const IIDR = 0x43b;
/**
 * GICD_TYPER: No1N (bit 25), A3V (bit 24), IDbits = 15 (16-bit INTIDs),
 * SecurityExtn = 0, no LPIs/MBIS, ITLinesNumber = INTIDs / 32 - 1.
 */
const GICD_TYPER_VALUE = (1 << 25) | (1 << 24) | (0xf << 19) | (WORDS - 1);
/** CoreSight ID registers at 0xFFD0..0xFFFC (PIDR4-7, PIDR0-3, CIDR0-3); PIDR2.ArchRev = 3 (GICv3). */
const ID_REGS = [0x44, 0x00, 0x00, 0x00, 0x92, 0xb4, 0x3b, 0x00, 0x0d, 0xf0, 0x05, 0xb1];
const PIDR0_REDIST = 0x93;

/** Per-CPU part of the GIC: the redistributor's SGI/PPI state and the CPU interface. */
export class Redistributor {
  group = 0;
  enabled = 0;
  /** Pending latch: set by edges, GICR_ISPENDR0 and SGIs; cleared by ICPENDR and acknowledge. */
  latch = 0;
  /** Input line levels of the PPIs (level-sensitive pending state follows them). */
  level = 0;
  active = 0;
  /** 1 = edge-triggered (GICR_ICFGR0/1 Int_config[1]); SGIs are always edge-triggered. */
  edge = 0x0000ffff;
  readonly priority = new Uint8Array(GIC_INTERNAL);
  waker = GICR_WAKER.PROCESSOR_SLEEP | GICR_WAKER.CHILDREN_ASLEEP;
  readonly cpuif = new CpuInterfaceState();
  /** Highest-priority pending interrupt (INTID_SPURIOUS when none), recomputed on every change. */
  hppi: PendingInterrupt = { intid: INTID_SPURIOUS, priority: 0xff, group: GROUP1 };

  /** `affinity` is Aff3.Aff2.Aff1.Aff0 packed in 32 bits (the GICR_TYPER / GICD_IROUTER layout). */
  constructor(readonly index: number, readonly cpu: Cpu, readonly affinity: number) {}

  /** CPU reset (also PSCI CPU_ON): the CPU interface and the SGI/PPI configuration return to reset values. */
  reset(): void {
    this.group = 0; this.enabled = 0; this.latch = 0; this.active = 0; this.edge = 0x0000ffff;
    this.priority.fill(0);
    this.waker = GICR_WAKER.PROCESSOR_SLEEP | GICR_WAKER.CHILDREN_ASLEEP;
    this.cpuif.reset();
  }

  pending(): number { return (this.latch | (this.level & ~this.edge)) >>> 0; }
}

/** Packs MPIDR_EL1's affinity fields as Aff3.Aff2.Aff1.Aff0. */
export function packAffinity(mpidr: bigint): number {
  const lo = Number(mpidr & 0xffffffn);
  const aff3 = Number((mpidr >> 32n) & 0xffn);
  return ((aff3 << 24) | lo) >>> 0;
}

export interface GicOptions extends GicLayout {
  /** Called when an interrupt makes a halted vCPU runnable (the VMM may be sleeping). */
  onWake?: () => void;
}

export class GicV3 implements IrqChip {
  readonly redists: Redistributor[] = [];
  ctlr = 0;
  // Distributor state for SPIs; word 0 is unused (INTIDs 0-31 live in the redistributors).
  readonly group = new Uint32Array(WORDS);
  readonly enabled = new Uint32Array(WORDS);
  readonly latch = new Uint32Array(WORDS);
  readonly level = new Uint32Array(WORDS);
  readonly active = new Uint32Array(WORDS);
  readonly edge = new Uint32Array(WORDS);
  readonly priority = new Uint8Array(GIC_INTID_COUNT);
  /** GICD_IROUTER<n> affinity (Aff3.Aff2.Aff1.Aff0) and the redistributor it resolves to (-1: none). */
  readonly route = new Uint32Array(GIC_INTID_COUNT);
  readonly target = new Int32Array(GIC_INTID_COUNT);

  readonly distributor: MmioRegion;
  readonly redistributorRegion: MmioRegion;
  private readonly onWake: () => void;

  constructor(options: GicOptions) {
    this.onWake = options.onWake ?? (() => {});
    this.target.fill(-1);
    this.distributor = {
      name: 'gicv3-distributor', base: options.distBase, size: GICD_SIZE,
      device: { read: (offset, size) => this.distRead(offset, size), write: (offset, size, value) => this.distWrite(offset, size, value) },
    };
    this.redistributorRegion = {
      name: 'gicv3-redistributors', base: options.redistBase, size: options.redistSize,
      device: { read: (offset, size) => this.redistRead(offset, size), write: (offset, size, value) => this.redistWrite(offset, size, value) },
    };
  }

  /** Connects a vCPU: it gets the next redistributor frame. */
  attachCpu(cpu: Cpu): Redistributor {
    if (cpu.index !== this.redists.length) throw new Error('vCPUs must attach to the GIC in index order');
    const r = new Redistributor(cpu.index, cpu, packAffinity(cpu.mpidr));
    this.redists.push(r);
    this.resolveRoutes();
    return r;
  }

  reset(): void {
    this.ctlr = 0;
    for (const a of [this.group, this.enabled, this.latch, this.active, this.edge]) a.fill(0);
    this.priority.fill(0);
    this.route.fill(0);
    this.resolveRoutes();
    for (const r of this.redists) r.reset();
    this.updateAll();
  }

  // ---- input lines -------------------------------------------------------------------

  /** KVM_IRQ_LINE for SPI `spi` (INTID 32 + spi). */
  setSpiLevel(spi: number, level: boolean): void {
    if (spi < 0 || spi >= GIC_SPI_COUNT) return;
    const intid = GIC_INTERNAL + spi;
    const w = intid >> 5, bit = 1 << (intid & 31);
    const old = (this.level[w] & bit) !== 0;
    if (old === level) return;
    if (level) {
      this.level[w] |= bit;
      if (this.edge[w] & bit) this.latch[w] |= bit; // rising edge latches pending
    } else {
      this.level[w] &= ~bit;
    }
    this.updateSpi(intid);
  }

  /** Level of private peripheral interrupt `intid` (16..31) of CPU `cpuIndex` (timers, PMU, maintenance). */
  setPrivateLevel(cpuIndex: number, intid: number, level: boolean): void {
    const r = this.redists[cpuIndex];
    if (!r || intid < 16 || intid >= GIC_INTERNAL) return;
    const bit = 1 << intid;
    const old = (r.level & bit) !== 0;
    if (old === level) return;
    if (level) {
      r.level = (r.level | bit) >>> 0;
      if (r.edge & bit) r.latch = (r.latch | bit) >>> 0;
    } else {
      r.level = (r.level & ~bit) >>> 0;
    }
    this.update(r);
  }

  /**
   * Generates SGI `intid` in `group` for the CPUs selected by an ICC_SGI*R
   * value (TargetList/RS/Aff1-3, or IRM = every CPU but the sender).
   */
  sendSgi(sender: Redistributor, value: bigint, group: number): void {
    const intid = Number((value >> 24n) & 0xfn);
    const irm = ((value >> 40n) & 1n) !== 0n;
    const targetList = Number(value & 0xffffn);
    const rs = Number((value >> 44n) & 0xfn);
    const aff123 = ((Number((value >> 48n) & 0xffn) << 24) | (Number((value >> 32n) & 0xffn) << 16) | (Number((value >> 16n) & 0xffn) << 8)) >>> 0;
    const bit = 1 << intid;
    for (const r of this.redists) {
      if (irm) { if (r === sender) continue; }
      else {
        if (((r.affinity & 0xffffff00) >>> 0) !== aff123) continue;
        const aff0 = r.affinity & 0xff;
        if ((aff0 >> 4) !== rs || !(targetList & (1 << (aff0 & 15)))) continue;
      }
      // With one security state, an SGI is set pending only when the target configured it in the same group.
      const targetGroup = (r.group & bit) !== 0 ? GROUP1 : GROUP0;
      if (targetGroup !== group) continue;
      r.latch = (r.latch | bit) >>> 0;
      this.update(r);
    }
  }

  // ---- highest priority pending interrupt and signalling ----------------------------

  /**
   * The highest-priority pending interrupt that is enabled, not active, in a
   * group enabled both in the distributor and in the CPU interface, and
   * targeted at `r` (ties go to the lowest INTID). Priority 0xff is never reported.
   */
  highestPriorityPending(r: Redistributor): PendingInterrupt {
    const s = r.cpuif;
    const g0 = (this.ctlr & GICD_CTLR.ENABLE_GRP0) !== 0 && s.igrpen0;
    const g1 = (this.ctlr & GICD_CTLR.ENABLE_GRP1) !== 0 && s.igrpen1;
    let bestPriority = 0xff, bestIntid = INTID_SPURIOUS, bestGroup = GROUP1;
    if (g0 || g1) {
      let bits = (r.pending() & r.enabled & ~r.active & ((g1 ? r.group : 0) | (g0 ? ~r.group : 0))) >>> 0;
      while (bits) {
        const b = 31 - Math.clz32(bits & -bits);
        bits = (bits & (bits - 1)) >>> 0;
        const p = r.priority[b];
        if (p < bestPriority) { bestPriority = p; bestIntid = b; bestGroup = (r.group >>> b) & 1; }
      }
      for (let w = 1; w < WORDS; w++) {
        const grp = this.group[w];
        let spis = ((this.latch[w] | (this.level[w] & ~this.edge[w])) & this.enabled[w] & ~this.active[w] & ((g1 ? grp : 0) | (g0 ? ~grp : 0))) >>> 0;
        while (spis) {
          const b = 31 - Math.clz32(spis & -spis);
          spis = (spis & (spis - 1)) >>> 0;
          const intid = (w << 5) | b;
          if (this.target[intid] !== r.index) continue;
          const p = this.priority[intid];
          if (p < bestPriority) { bestPriority = p; bestIntid = intid; bestGroup = (grp >>> b) & 1; }
        }
      }
    }
    const h = r.hppi;
    h.intid = bestIntid; h.priority = bestPriority; h.group = bestGroup;
    return h;
  }

  /** Recomputes what CPU `r` should see and drives its IRQ/FIQ lines. */
  update(r: Redistributor): void {
    const h = this.highestPriorityPending(r);
    const signal = h.intid !== INTID_SPURIOUS && canPreempt(r.cpuif, h.priority, h.group);
    const cpu = r.cpu;
    cpu.irqLine = signal && h.group === GROUP1;
    cpu.fiqLine = signal && h.group === GROUP0;
    if (signal) {
      const wasHalted = cpu.halted;
      cpu.interruptStateChanged(); // leave translated code / end WFI
      if (wasHalted && !cpu.halted) this.onWake();
    }
  }

  updateAll(): void { for (const r of this.redists) this.update(r); }

  private updateSpi(intid: number): void {
    const t = this.target[intid];
    if (t >= 0) this.update(this.redists[t]);
  }

  // ---- CPU interface operations (used by the ICC_* system registers) ------------------

  /** ICC_IAR0/1_EL1: acknowledges the highest-priority pending interrupt of `group`, or returns 1023. */
  acknowledge(r: Redistributor, group: number): number {
    const h = this.highestPriorityPending(r);
    if (h.intid === INTID_SPURIOUS || h.group !== group || !canPreempt(r.cpuif, h.priority, h.group)) return INTID_SPURIOUS;
    const intid = h.intid;
    activatePriority(r.cpuif, h.priority, group);
    this.setActive(r, intid, true);
    // Activation consumes the pending latch; a level-sensitive interrupt stays pending while its line is high.
    if (intid < GIC_INTERNAL) r.latch = (r.latch & ~(1 << intid)) >>> 0;
    else this.latch[intid >> 5] &= ~(1 << (intid & 31));
    this.update(r);
    return intid;
  }

  /** ICC_HPPIR0/1_EL1: the highest-priority pending interrupt of `group` (no priority-mask check), or 1023. */
  highestPending(r: Redistributor, group: number): number {
    const h = this.highestPriorityPending(r);
    return h.intid !== INTID_SPURIOUS && h.group === group ? h.intid : INTID_SPURIOUS;
  }

  /** ICC_EOIR0/1_EL1: priority drop, plus deactivation unless EOImode = 1. */
  endOfInterrupt(r: Redistributor, group: number, intid: number): void {
    // Special or out-of-range INTIDs and EOIs that do not match the highest active group are ignored (as QEMU does)
    if (intid >= GIC_INTID_COUNT) return;
    if (highestActiveGroup(r.cpuif) !== group) return;
    dropPriority(r.cpuif, group);
    if (!r.cpuif.eoiSplit) this.deactivate(r, intid);
    else this.update(r);
  }

  /** ICC_DIR_EL1 (meaningful with EOImode = 1). */
  deactivateInterrupt(r: Redistributor, intid: number): void {
    if (intid >= GIC_INTID_COUNT || !r.cpuif.eoiSplit) return;
    this.deactivate(r, intid);
  }

  private deactivate(r: Redistributor, intid: number): void {
    this.setActive(r, intid, false);
    if (intid < GIC_INTERNAL) this.update(r);
    else { this.update(r); const t = this.target[intid]; if (t >= 0 && t !== r.index) this.update(this.redists[t]); }
  }

  private setActive(r: Redistributor, intid: number, on: boolean): void {
    if (intid < GIC_INTERNAL) {
      r.active = on ? (r.active | (1 << intid)) >>> 0 : (r.active & ~(1 << intid)) >>> 0;
    } else {
      const w = intid >> 5, bit = 1 << (intid & 31);
      if (on) this.active[w] |= bit; else this.active[w] &= ~bit;
    }
  }

  // ---- distributor MMIO ---------------------------------------------------------------

  private distRead(offset: number, size: number): number | bigint {
    if (size === 8) {
      if (offset >= 0x6000 && offset < 0x8000 && !(offset & 7)) return this.readIrouter((offset - 0x6000) >> 3);
      return BigInt(this.distRead32(offset)) | (BigInt(this.distRead32(offset + 4)) << 32n);
    }
    if (size === 1) {
      if (offset >= 0x400 && offset < 0x400 + GIC_INTID_COUNT) return offset - 0x400 < GIC_INTERNAL ? 0 : this.priority[offset - 0x400];
      return (this.distRead32(offset & ~3) >>> ((offset & 3) * 8)) & 0xff;
    }
    if (size === 2) return (this.distRead32(offset & ~3) >>> ((offset & 2) * 8)) & 0xffff;
    return this.distRead32(offset);
  }

  private distRead32(offset: number): number {
    if (offset >= 0xffd0) return offset & 3 ? 0 : ID_REGS[(offset - 0xffd0) >> 2];
    if (offset >= 0x6000 && offset < 0x8000) {
      const n = (offset - 0x6000) >> 3;
      if (n < GIC_INTERNAL || n >= GIC_INTID_COUNT) return 0;
      return offset & 4 ? this.route[n] >>> 24 : this.route[n] & 0xffffff;
    }
    switch (offset) {
      case 0x0000: return (this.ctlr | GICD_CTLR.ARE | GICD_CTLR.DS) >>> 0;
      case 0x0004: return GICD_TYPER_VALUE;
      case 0x0008: return IIDR;
      default: break;
    }
    const word = (offset & 0x7f) >> 2; // index within a 0x80-byte bitmap bank
    const spiWord = word > 0 && word < WORDS;
    if (offset >= 0x0080 && offset < 0x0100) return spiWord ? this.group[word] : 0;
    if (offset >= 0x0100 && offset < 0x0200) return spiWord ? this.enabled[word] : 0; // ISENABLER / ICENABLER
    if (offset >= 0x0200 && offset < 0x0300) return spiWord ? (this.latch[word] | (this.level[word] & ~this.edge[word])) >>> 0 : 0;
    if (offset >= 0x0300 && offset < 0x0400) return spiWord ? this.active[word] : 0;
    if (offset >= 0x0400 && offset < 0x0400 + GIC_INTID_COUNT) {
      const n = offset - 0x400;
      if (n < GIC_INTERNAL) return 0;
      const p = this.priority;
      return (p[n] | (p[n + 1] << 8) | (p[n + 2] << 16) | (p[n + 3] << 24)) >>> 0;
    }
    if (offset >= 0x0c00 && offset < 0x0c00 + GIC_INTID_COUNT / 4) {
      const first = (offset - 0xc00) * 4; // 16 INTIDs per register
      if (first < GIC_INTERNAL) return 0;
      return configBits(this.edge[first >> 5] >>> (first & 16));
    }
    return 0; // ITARGETSR, IGRPMODR, NSACR, SGIR, (C|S)PENDSGIR: RAZ with ARE=1 and DS=1; reserved: RAZ
  }

  private distWrite(offset: number, size: number, value: number | bigint): void {
    if (size === 8) {
      const v = BigInt(value);
      if (offset >= 0x6000 && offset < 0x8000 && !(offset & 7)) { this.writeIrouter((offset - 0x6000) >> 3, v); return; }
      this.distWrite32(offset, Number(v & 0xffffffffn));
      this.distWrite32(offset + 4, Number(v >> 32n));
      return;
    }
    const v = Number(value) >>> 0;
    if (size === 1) {
      if (offset >= 0x400 && offset < 0x400 + GIC_INTID_COUNT) {
        const n = offset - 0x400;
        if (n >= GIC_INTERNAL) { this.priority[n] = v; this.updateSpi(n); }
      }
      return; // byte writes elsewhere are not supported by the architecture: ignored
    }
    if (size === 4) this.distWrite32(offset, v);
  }

  private distWrite32(offset: number, v: number): void {
    if (offset >= 0x6000 && offset < 0x8000) {
      const n = (offset - 0x6000) >> 3;
      if (n < GIC_INTERNAL || n >= GIC_INTID_COUNT) return;
      // IRM (bit 31) is RAZ/WI: GICD_TYPER.No1N = 1
      this.route[n] = offset & 4 ? ((this.route[n] & 0xffffff) | ((v & 0xff) << 24)) >>> 0 : ((this.route[n] & 0xff000000) | (v & 0xffffff)) >>> 0;
      this.resolveRoute(n);
      return;
    }
    if (offset === 0x0000) {
      this.ctlr = v & (GICD_CTLR.ENABLE_GRP0 | GICD_CTLR.ENABLE_GRP1);
      this.updateAll();
      return;
    }
    const word = (offset & 0x7f) >> 2;
    if (offset >= 0x0080 && offset < 0x0400) {
      if (word === 0 || word >= WORDS) return; // INTIDs 0-31 live in the redistributors (ARE=1)
      switch (offset >> 7) {
        case 1: this.group[word] = v; break; // IGROUPR
        case 2: this.enabled[word] |= v; break; // ISENABLER
        case 3: this.enabled[word] &= ~v; break; // ICENABLER
        case 4: this.latch[word] |= v; break; // ISPENDR
        case 5: this.latch[word] &= ~v; break; // ICPENDR (a high level keeps a level-sensitive SPI pending)
        case 6: this.active[word] |= v; break; // ISACTIVER
        case 7: this.active[word] &= ~v; break; // ICACTIVER
      }
      this.updateAll();
      return;
    }
    if (offset >= 0x0400 && offset < 0x0400 + GIC_INTID_COUNT) {
      const n = offset - 0x400;
      if (n < GIC_INTERNAL) return;
      for (let k = 0; k < 4; k++) this.priority[n + k] = (v >>> (8 * k)) & 0xff;
      this.updateAll();
      return;
    }
    if (offset >= 0x0c00 && offset < 0x0c00 + GIC_INTID_COUNT / 4) {
      const first = (offset - 0xc00) * 4;
      if (first < GIC_INTERNAL) return;
      const shift = first & 16;
      this.edge[first >> 5] = ((this.edge[first >> 5] & ~(0xffff << shift)) | (edgeBits(v) << shift)) >>> 0;
      return;
    }
    // everything else is RAZ/WI in this configuration
  }

  private readIrouter(n: number): bigint {
    if (n < GIC_INTERNAL || n >= GIC_INTID_COUNT) return 0n;
    const r = this.route[n];
    return (BigInt(r >>> 24) << 32n) | BigInt(r & 0xffffff);
  }

  private writeIrouter(n: number, v: bigint): void {
    if (n < GIC_INTERNAL || n >= GIC_INTID_COUNT) return;
    this.route[n] = ((Number((v >> 32n) & 0xffn) << 24) | Number(v & 0xffffffn)) >>> 0;
    this.resolveRoute(n);
  }

  private resolveRoute(n: number): void {
    const old = this.target[n];
    const r = this.redists.find(x => x.affinity === this.route[n]);
    this.target[n] = r ? r.index : -1;
    if (old >= 0 && old !== this.target[n]) this.update(this.redists[old]);
    this.updateSpi(n);
  }

  private resolveRoutes(): void {
    for (let n = GIC_INTERNAL; n < GIC_INTID_COUNT; n++) {
      const r = this.redists.find(x => x.affinity === this.route[n]);
      this.target[n] = r ? r.index : -1;
    }
  }

  // ---- redistributor MMIO -------------------------------------------------------------

  private redistRead(offset: number, size: number): number | bigint {
    const r = this.redists[Math.floor(offset / GICR_STRIDE)];
    if (!r) return size === 8 ? 0n : 0; // no redistributor in this frame
    const off = offset % GICR_STRIDE;
    if (size === 8) return BigInt(this.redistRead32(r, off)) | (BigInt(this.redistRead32(r, off + 4)) << 32n);
    if (size === 1) {
      if (off >= GICR_SGI_BASE + 0x400 && off < GICR_SGI_BASE + 0x420) return r.priority[off - GICR_SGI_BASE - 0x400];
      return (this.redistRead32(r, off & ~3) >>> ((off & 3) * 8)) & 0xff;
    }
    if (size === 2) return (this.redistRead32(r, off & ~3) >>> ((off & 2) * 8)) & 0xffff;
    return this.redistRead32(r, off);
  }

  private redistRead32(r: Redistributor, off: number): number {
    if (off < GICR_SGI_BASE) {
      if (off >= 0xffd0) return off & 3 ? 0 : off === 0xffe0 ? PIDR0_REDIST : ID_REGS[(off - 0xffd0) >> 2];
      switch (off) {
        case 0x0000: return 0; // GICR_CTLR: no LPIs, writes complete at once (RWP = 0)
        case 0x0004: return IIDR;
        // GICR_TYPER: Processor_Number, Last (the final frame of the region's used part), no LPIs
        case 0x0008: return ((r.index << 8) | (r.index === this.redists.length - 1 ? 1 << 4 : 0)) >>> 0;
        case 0x000c: return r.affinity;
        case 0x0014: return r.waker;
        default: return 0;
      }
    }
    const o = off - GICR_SGI_BASE;
    switch (o) {
      case 0x0080: return r.group;
      case 0x0100: case 0x0180: return r.enabled;
      case 0x0200: case 0x0280: return r.pending();
      case 0x0300: case 0x0380: return r.active;
      case 0x0c00: return configBits(r.edge & 0xffff);
      case 0x0c04: return configBits(r.edge >>> 16);
      default: break;
    }
    if (o >= 0x400 && o < 0x420) {
      const p = r.priority, n = o - 0x400;
      return (p[n] | (p[n + 1] << 8) | (p[n + 2] << 16) | (p[n + 3] << 24)) >>> 0;
    }
    return 0; // IGRPMODR0 / NSACR: RAZ/WI with DS=1
  }

  private redistWrite(offset: number, size: number, value: number | bigint): void {
    const r = this.redists[Math.floor(offset / GICR_STRIDE)];
    if (!r) return;
    const off = offset % GICR_STRIDE;
    if (size === 8) {
      const v = BigInt(value);
      this.redistWrite32(r, off, Number(v & 0xffffffffn));
      this.redistWrite32(r, off + 4, Number(v >> 32n));
      return;
    }
    const v = Number(value) >>> 0;
    if (size === 1) {
      if (off >= GICR_SGI_BASE + 0x400 && off < GICR_SGI_BASE + 0x420) { r.priority[off - GICR_SGI_BASE - 0x400] = v; this.update(r); }
      return;
    }
    if (size === 4) this.redistWrite32(r, off, v);
  }

  private redistWrite32(r: Redistributor, off: number, v: number): void {
    if (off < GICR_SGI_BASE) {
      if (off === 0x0014) {
        // Linux clears ProcessorSleep and waits for ChildrenAsleep to follow
        r.waker = v & GICR_WAKER.PROCESSOR_SLEEP ? GICR_WAKER.PROCESSOR_SLEEP | GICR_WAKER.CHILDREN_ASLEEP : 0;
      }
      return;
    }
    const o = off - GICR_SGI_BASE;
    switch (o) {
      case 0x0080: r.group = v; break;
      case 0x0100: r.enabled = (r.enabled | v) >>> 0; break;
      case 0x0180: r.enabled = (r.enabled & ~v) >>> 0; break;
      case 0x0200: r.latch = (r.latch | v) >>> 0; break;
      case 0x0280: r.latch = (r.latch & ~v) >>> 0; break;
      case 0x0300: r.active = (r.active | v) >>> 0; break;
      case 0x0380: r.active = (r.active & ~v) >>> 0; break;
      case 0x0c00: return; // SGIs are always edge-triggered (ICFGR0 is read-only)
      case 0x0c04: r.edge = ((r.edge & 0xffff) | (edgeBits(v) << 16)) >>> 0; return;
      default:
        if (o >= 0x400 && o < 0x420) {
          for (let k = 0; k < 4; k++) r.priority[o - 0x400 + k] = (v >>> (8 * k)) & 0xff;
          break;
        }
        return;
    }
    this.update(r);
  }
}

/** 16 edge flags -> a GICx_ICFGR value (Int_config[1] of each 2-bit field). */
function configBits(edge16: number): number {
  let v = 0;
  for (let i = 0; i < 16; i++) if (edge16 & (1 << i)) v |= 2 << (2 * i);
  return v >>> 0;
}

/** A GICx_ICFGR value -> 16 edge flags. */
function edgeBits(cfg: number): number {
  let e = 0;
  for (let i = 0; i < 16; i++) if (cfg & (2 << (2 * i))) e |= 1 << i;
  return e;
}

/** Where the GIC's frames are in guest-physical space. */
export interface GicLayout { distBase: number; redistBase: number; redistSize: number }

/** QEMU virt's layout (hw/arm/virt.c VIRT_GIC_DIST, VIRT_GIC_REDIST: room for 123 redistributors). */
export const GIC_VIRT_LAYOUT: GicLayout = { distBase: 0x0800_0000, redistBase: 0x080a_0000, redistSize: 0x00f6_0000 };
