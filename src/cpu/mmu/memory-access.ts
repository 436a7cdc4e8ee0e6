// The slow paths of the vCPU's memory accesses, which translated code calls
// when its inline soft-TLB lookup misses: the stage 1/2 walk and the fault it
// raises, page-crossing and unaligned accesses, MMIO (an exit to the VMM and
// the replay of the instruction with the VMM's result), exclusive stores,
// writes to pages holding translated code, and instruction fetches.

import { S, PAGES_PER_4G, TLB_ENTRIES, PAGE_BITS, PAGE_SIZE, MmuIdx } from '../state';
import { Exception, FaultStatus } from '../system/exceptions';
import { MemInfo } from '../jit/helpers';
import { Access, Prot, Translation, TranslationFault } from './translation';
import { MMIO_EXIT, type PhysicalBus } from '../bus';
import type { SoftTlb } from './soft-tlb';

/** The virtual address and MemInfo of an access that exited as MMIO (to fault it if no device answers). */
export interface MmioAccessInfo { vaLo: number; vaHi: number; info: number }

/** An MMIO access the VMM must perform before the instruction can complete. */
export interface MmioExit { kind: 'mmio'; pa: number; size: number; isWrite: boolean; lo: number; hi: number; access?: MmioAccessInfo }

/** What the access paths need of their vCPU (the Cpu satisfies it). */
export interface MemoryAccessHost {
  readonly index: number;
  readonly base: number;
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
  readonly bus: PhysicalBus;
  readonly el: number;
  readonly mmuIdx: number;
  readonly il: number;
  readonly budget: number;
  /** Calls of run() so far (tells a replayed instruction from a later execution of it). */
  readonly runs: number;
  readonly stats: { tlbMisses: number; mmioExits: number };
  pendingExit: MmioExit | { kind: 'firmware' | 'debug' | 'internal' } | null;
  readonly tlb: SoftTlb;
  readonly code: { isCodePage(ppn: number): boolean; invalidateRange(pa: number, size: number): void };
  translateVa(vaLo: number, vaHi: number, access: Access, el: number, out: Translation, fault: TranslationFault): boolean;
  requestExit(): void;
  clearExclusive(): void;
  syncTargetEl(): number;
  syncException(ec: number, iss: number, returnNext?: boolean, far?: bigint, targetEl?: number): void;
  setReg(name: string, v: bigint): void;
}

export class MemoryAccess {
  constructor(private readonly cpu: MemoryAccessHost) {}

  /** Forgets recorded MMIO results (vCPU reset). */
  forgetReplay(): void { this.mmioReplay.length = 0; }

  /**
   * MMIO results the VMM supplied for the accesses of one instruction (at
   * replayPcLo/Hi), in order, replayed when the instruction runs again. An
   * instruction with two MMIO elements (LDP, STP) exits once per element and
   * runs three times: the list grows, and each run consumes it from the
   * start (replayCursor). A run is told apart from a later execution of the
   * same instruction by (runs, BUDGET) at its first access: BUDGET only
   * decreases within a run, at each block entry.
   */
  private readonly mmioReplay: Array<{ pa: number; size: number; isWrite: boolean; lo: number; hi: number }> = [];
  private replayCursor = 0;
  private replayPcLo = 0;
  private replayPcHi = 0;
  /** Run and BUDGET at the first access of the current replay (run -1: not yet). */
  private replayStampRun = -1;
  private replayStampBudget = 0;

  private readonly xlat = new Translation();
  private readonly fault = new TranslationFault();
  private readonly mmioOut = new Uint32Array(2);

  /**
   * Set by translateFetch: the translation of that PC stays valid when EL1&0
   * switches address space (EL2 code, stage 1 off, or a global mapping of
   * the TTBR1 half), so its jump-cache entry may stay (switchAddressSpace).
   */
  lastFetchSurvivesSwitch = false;

  // ---- translation and access slow paths ---------------------------------------------

  /**
   * Translates a data access; on a fault takes the exception and returns -1.
   * `el` is the privilege the access is checked at (0 for LDTR/STTR).
   */
  translateData(vaLo: number, vaHi: number, access: Access, el: number, info: number): number {
    const x = this.xlat;
    if (!this.cpu.translateVa(vaLo, vaHi, access, el, x, this.fault)) {
      this.dataAbort(vaLo, vaHi, access === Access.Write, info);
      return -1;
    }
    return x.pa;
  }

  /** Physical addresses of the two pages of the last page-crossing access (translateSplit). */
  private readonly splitPa = new Float64Array(2);

  /**
   * A page-crossing access: translates both pages before touching memory, so
   * a fault on either is precise. Returns the bytes in the first page (the
   * physical addresses go to splitPa), or -1 after taking the fault.
   */
  private translateSplit(vaLo: number, vaHi: number, access: Access, el: number, info: number): number {
    const first = PAGE_SIZE - (vaLo & (PAGE_SIZE - 1));
    const pa0 = this.translateData(vaLo, vaHi, access, el, info);
    if (pa0 < 0) return -1;
    const nextLo = (vaLo + first) >>> 0;
    const nextHi = nextLo < vaLo ? (vaHi + 1) >>> 0 : vaHi;
    const pa1 = this.translateData(nextLo, nextHi, access, el, info);
    if (pa1 < 0) return -1;
    this.splitPa[0] = pa0;
    this.splitPa[1] = pa1;
    return first;
  }

  /** Raises the data abort described by `this.fault` for the access at va. */
  dataAbort(vaLo: number, vaHi: number, isWrite: boolean, info: number): void {
    const f = this.fault;
    const far = (BigInt(vaHi >>> 0) << 32n) | BigInt(vaLo >>> 0);
    let iss = f.status | (isWrite ? 1 << 6 : 0);
    const target = f.stage2 ? 2 : this.cpu.syncTargetEl();
    // The instruction syndrome is reported only for aborts taken to EL2 that are not on a stage-1
    // table walk (IMPLEMENTATION DEFINED for ESR_EL1): QEMU's rule, checked by the bare-metal goldens.
    if ((info & MemInfo.ISV) && target === 2 && !f.s1ptw) {
      iss |= (1 << 24) | ((info & 3) << 22) | ((info & MemInfo.SIGN) ? 1 << 21 : 0) |
        (((info >>> MemInfo.RT_SHIFT) & 31) << 16) | ((info & MemInfo.SF) ? 1 << 15 : 0) | ((info & MemInfo.ACQ_REL) ? 1 << 14 : 0);
    }
    if (f.s1ptw) iss |= 1 << 7;
    const ec = target === this.cpu.el ? Exception.DATA_ABORT_SAME : Exception.DATA_ABORT_LOWER;
    if (f.stage2) this.cpu.setReg('HPFAR_EL2', BigInt(Math.floor(f.ipa / PAGE_SIZE)) << 4n);
    this.cpu.syncException(ec, iss, false, far, target);
  }

  private alignmentFault(vaLo: number, vaHi: number, isWrite: boolean, info: number): number {
    this.fault.status = FaultStatus.ALIGNMENT;
    this.fault.stage2 = false;
    this.fault.s1ptw = false;
    this.dataAbort(vaLo, vaHi, isWrite, info);
    return 1;
  }

  /** PC = the instruction at word `word` of the page PC is in (a load/store slow path's PC; see helpers.ts). */
  setPcWordInPage(word: number): void {
    const i = (this.cpu.base + S.PC) >> 2;
    this.cpu.u32[i] = ((this.cpu.u32[i] & ~(PAGE_SIZE - 1)) | (word << 2)) >>> 0;
  }

  /** Slow path of a translated load: TLB refill, page-crossing, MMIO and faults. Value -> SCRATCH. */
  load(vaLo: number, vaHi: number, info: number): number {
    vaLo >>>= 0; vaHi >>>= 0;
    this.cpu.stats.tlbMisses++;
    const sizeLog2 = info & MemInfo.SIZE_MASK;
    const size = 1 << sizeLog2;
    if ((info & MemInfo.ALIGN_REQUIRED) && (vaLo & (size - 1))) return this.alignmentFault(vaLo, vaHi, false, info);
    const scratch = this.cpu.base + S.SCRATCH;
    const el = info & MemInfo.UNPRIV ? 0 : this.cpu.el;
    if ((vaLo & (PAGE_SIZE - 1)) + size > PAGE_SIZE) {
      const first = this.translateSplit(vaLo, vaHi, Access.Read, el, info);
      if (first < 0) return 1;
      const r0 = this.cpu.bus.ramOffset(this.splitPa[0]), r1 = this.cpu.bus.ramOffset(this.splitPa[1]);
      if (r0 < 0 || r1 < 0) return this.externalAbort(vaLo, vaHi, false, info);
      this.cpu.u8.copyWithin(scratch, r0, r0 + first);
      this.cpu.u8.copyWithin(scratch + first, r1, r1 + size - first);
    } else {
      const pa = this.translateData(vaLo, vaHi, Access.Read, el, info);
      if (pa < 0) return 1;
      const prot = this.xlat.prot;
      if ((prot & Prot.DEVICE) && (vaLo & (size - 1))) return this.alignmentFault(vaLo, vaHi, false, info);
      const ram = this.cpu.bus.ramOffset(pa);
      if (ram >= 0) {
        this.cpu.tlb.fill(info & MemInfo.UNPRIV ? MmuIdx.EL0 : this.cpu.mmuIdx, vaLo, vaHi, pa, prot, this.xlat.global);
        this.cpu.u8.copyWithin(scratch, ram, ram + size);
      } else {
        if (size > 8) return this.externalAbort(vaLo, vaHi, false, info);
        const r = this.mmioLoad(pa, size, scratch, vaLo, vaHi, info);
        if (r !== 0) return r;
      }
    }
    if (size <= 8) this.extendScratch(sizeLog2, (info & MemInfo.SIGN) !== 0);
    return 0;
  }

  private extendScratch(sizeLog2: number, signed: boolean): void {
    const i = (this.cpu.base + S.SCRATCH) >> 2;
    if (sizeLog2 === 3) return;
    let lo = this.cpu.u32[i];
    if (sizeLog2 === 0) lo = signed ? (lo << 24) >> 24 : lo & 0xff;
    else if (sizeLog2 === 1) lo = signed ? (lo << 16) >> 16 : lo & 0xffff;
    else lo = signed ? lo | 0 : lo;
    this.cpu.u32[i] = lo >>> 0;
    this.cpu.u32[i + 1] = signed && lo < 0 ? 0xffffffff : 0;
  }

  private mmioLoad(pa: number, size: number, scratch: number, vaLo: number, vaHi: number, info: number): number {
    const replay = this.takeReplay(pa, size, false);
    if (replay) {
      this.cpu.u32[scratch >> 2] = replay.lo; this.cpu.u32[(scratch >> 2) + 1] = replay.hi;
      return 0;
    }
    const r = this.cpu.bus.mmioRead(this.cpu.index, pa, size, this.mmioOut);
    if (r === MMIO_EXIT) {
      this.cpu.stats.mmioExits++;
      this.cpu.pendingExit = { kind: 'mmio', pa, size, isWrite: false, lo: 0, hi: 0, access: { vaLo, vaHi, info } };
      this.cpu.requestExit();
      return 1;
    }
    this.cpu.u32[scratch >> 2] = this.mmioOut[0]; this.cpu.u32[(scratch >> 2) + 1] = this.mmioOut[1];
    return 0;
  }

  /** Slow path of a translated store; value in SCRATCH. */
  store(vaLo: number, vaHi: number, info: number): number {
    vaLo >>>= 0; vaHi >>>= 0;
    this.cpu.stats.tlbMisses++;
    const sizeLog2 = info & MemInfo.SIZE_MASK;
    const size = 1 << sizeLog2;
    if ((info & MemInfo.ALIGN_REQUIRED) && (vaLo & (size - 1))) return this.alignmentFault(vaLo, vaHi, true, info);
    const scratch = this.cpu.base + S.SCRATCH;
    const el = info & MemInfo.UNPRIV ? 0 : this.cpu.el;
    if ((vaLo & (PAGE_SIZE - 1)) + size > PAGE_SIZE) {
      const first = this.translateSplit(vaLo, vaHi, Access.Write, el, info);
      if (first < 0) return 1;
      const r0 = this.cpu.bus.ramOffset(this.splitPa[0]), r1 = this.cpu.bus.ramOffset(this.splitPa[1]);
      if (r0 < 0 || r1 < 0) return this.externalAbort(vaLo, vaHi, true, info);
      this.writeRam(this.splitPa[0], r0, scratch, first);
      this.writeRam(this.splitPa[1], r1, scratch + first, size - first);
      return 0;
    }
    const pa = this.translateData(vaLo, vaHi, Access.Write, el, info);
    if (pa < 0) return 1;
    const prot = this.xlat.prot;
    if ((prot & Prot.DEVICE) && (vaLo & (size - 1))) return this.alignmentFault(vaLo, vaHi, true, info);
    const ram = this.cpu.bus.ramOffset(pa);
    if (ram >= 0) {
      this.writeRam(pa, ram, scratch, size);
      this.cpu.tlb.fill(info & MemInfo.UNPRIV ? MmuIdx.EL0 : this.cpu.mmuIdx, vaLo, vaHi, pa, prot, this.xlat.global);
      return 0;
    }
    if (size > 8) return this.externalAbort(vaLo, vaHi, true, info);
    const lo = this.cpu.u32[scratch >> 2], hi = this.cpu.u32[(scratch >> 2) + 1];
    const replay = this.takeReplay(pa, size, true);
    if (replay) return 0;
    const r = this.cpu.bus.mmioWrite(this.cpu.index, pa, size, size === 8 ? lo : size === 4 ? lo : lo & ((1 << (size * 8)) - 1), size === 8 ? hi : 0);
    if (r === MMIO_EXIT) {
      this.cpu.stats.mmioExits++;
      this.cpu.pendingExit = { kind: 'mmio', pa, size, isWrite: true, lo: size === 4 || size === 8 ? lo : lo & ((1 << (size * 8)) - 1), hi: size === 8 ? hi : 0, access: { vaLo, vaHi, info } };
      this.cpu.requestExit();
      return 1;
    }
    return 0;
  }

  /**
   * STXR/STLXR/STXP slow path: the store happens only while the monitor is
   * armed for this address and size and memory still holds the value the
   * load-exclusive saw (the monitor is the vCPU's; stores by other vCPUs
   * show up as a changed value). Writes the status (0 = stored) to SCRATCH+16.
   * Value(s) to store in SCRATCH (8 bytes, or 16 for pairs).
   */
  storeExclusive(vaLo: number, vaHi: number, info: number): number {
    vaLo >>>= 0; vaHi >>>= 0;
    const i = this.cpu.base >> 2;
    const sizeLog2 = info & MemInfo.SIZE_MASK;
    const size = 1 << sizeLog2;
    if (vaLo & (size - 1)) return this.alignmentFault(vaLo, vaHi, true, info);
    const statusWord = (this.cpu.base + S.SCRATCH + 16) >> 2;
    const armed = this.cpu.i32[i + (S.EXCL_VALID >> 2)] !== 0 &&
      this.cpu.u32[i + (S.EXCL_ADDR >> 2)] === vaLo && this.cpu.u32[i + (S.EXCL_ADDR >> 2) + 1] === vaHi &&
      this.cpu.u32[i + (S.EXCL_SIZE >> 2)] === size;
    // translate even when the monitor is not armed: a faulting STXR must fault (D1.12)
    let pa = this.cpu.tlb.writePa(this.cpu.mmuIdx, vaLo, vaHi);
    if (pa < 0) {
      pa = this.translateData(vaLo, vaHi, Access.Write, this.cpu.el, info);
      if (pa < 0) return 1;
      this.cpu.tlb.fill(this.cpu.mmuIdx, vaLo, vaHi, pa, this.xlat.prot, this.xlat.global);
    }
    this.cpu.clearExclusive();
    const ram = this.cpu.bus.ramOffset(pa);
    if (!armed || ram < 0) { this.cpu.u32[statusWord] = 1; return 0; }
    const cur = ram;
    const saved = this.cpu.base + S.EXCL_VAL;
    for (let k = 0; k < size; k++) {
      if (this.cpu.u8[cur + k] !== this.cpu.u8[saved + k]) { this.cpu.u32[statusWord] = 1; return 0; }
    }
    this.writeRam(pa, ram, this.cpu.base + S.SCRATCH, size);
    this.cpu.u32[statusWord] = 0;
    return 0;
  }


  /** Writes RAM, dropping translations made from the written page first (self-modifying code). */
  private writeRam(pa: number, wasm: number, src: number, size: number): void {
    if (this.cpu.code.isCodePage(Math.floor(pa / PAGE_SIZE))) this.cpu.code.invalidateRange(pa, size);
    this.cpu.u8.copyWithin(wasm, src, src + size);
  }

  private externalAbort(vaLo: number, vaHi: number, isWrite: boolean, info: number): number {
    this.fault.status = FaultStatus.SYNC_EXTERNAL;
    this.fault.stage2 = false;
    this.fault.s1ptw = false;
    this.dataAbort(vaLo, vaHi, isWrite, info);
    return 1;
  }

  /** The VMM completed the MMIO access of the last exit: it will be replayed by the instruction. */
  completeMmio(lo: number, hi: number): void {
    const e = this.cpu.pendingExit;
    if (!e || e.kind !== 'mmio') return;
    const pcLo = this.cpu.u32[(this.cpu.base + S.PC) >> 2], pcHi = this.cpu.u32[(this.cpu.base + S.PC + 4) >> 2];
    if (pcLo !== this.replayPcLo || pcHi !== this.replayPcHi) this.mmioReplay.length = 0; // another instruction's
    this.replayPcLo = pcLo; this.replayPcHi = pcHi;
    this.mmioReplay.push({ pa: e.pa, size: e.size, isWrite: e.isWrite, lo: lo >>> 0, hi: hi >>> 0 });
    this.replayCursor = 0;
    this.replayStampRun = -1;
    this.cpu.pendingExit = null;
  }

  /**
   * The VMM found no device at the address of the last MMIO exit: the access
   * takes a synchronous external abort, as on QEMU's virt board where an
   * unassigned physical address answers with a decode error
   * (KVM_SET_VCPU_EVENTS with ext_dabt_pending is the KVM equivalent).
   * PC still points at the faulting instruction (precise exceptions).
   */
  failMmio(): void {
    const e = this.cpu.pendingExit;
    if (!e || e.kind !== 'mmio') return;
    this.cpu.pendingExit = null;
    const a = e.access ?? { vaLo: e.pa >>> 0, vaHi: Math.floor(e.pa / 0x100000000), info: 0 };
    this.externalAbort(a.vaLo, a.vaHi, e.isWrite, a.info);
  }

  private takeReplay(pa: number, size: number, isWrite: boolean) {
    if (this.mmioReplay.length === 0) return undefined;
    const forget = () => { this.mmioReplay.length = 0; return undefined; };
    // another instruction, or a later execution of this one: the results are stale
    if (this.cpu.u32[(this.cpu.base + S.PC) >> 2] !== this.replayPcLo || this.cpu.u32[(this.cpu.base + S.PC + 4) >> 2] !== this.replayPcHi) return forget();
    if (this.replayStampRun < 0) {
      this.replayStampRun = this.cpu.runs;
      this.replayStampBudget = this.cpu.budget;
    } else if (this.replayStampRun !== this.cpu.runs || this.replayStampBudget !== this.cpu.budget) {
      return forget();
    }
    if (this.replayCursor >= this.mmioReplay.length) return undefined; // a further access of this run: performed, and recorded on completion
    const r = this.mmioReplay[this.replayCursor];
    if (r.pa !== pa || r.size !== size || r.isWrite !== isWrite) return forget(); // the guest did something else (e.g. took an interrupt)
    this.replayCursor++;
    return r;
  }

  /**
   * The physical address an instruction fetch from `pc` would use now, or -1
   * when it would fault or is not RAM; takes no exception (for translating
   * code ahead of its execution).
   */
  probeFetch(pc: bigint): number {
    const pcLo = Number(pc & 0xffffffffn), pcHi = Number(pc >> 32n);
    if (pcLo & 3) return -1;
    const vpn = pcHi * PAGES_PER_4G + (pcLo >>> PAGE_BITS);
    const cached = this.cpu.mmuIdx * TLB_ENTRIES + (vpn % TLB_ENTRIES);
    let pa: number;
    if (this.cpu.tlb.fetchVpn[cached] === vpn) pa = this.cpu.tlb.fetchPpn[cached] * PAGE_SIZE + (pcLo & (PAGE_SIZE - 1));
    else if (this.cpu.translateVa(pcLo, pcHi, Access.Exec, this.cpu.el, this.probeXlat, this.probeFault)) pa = this.probeXlat.pa;
    else return -1;
    return this.cpu.bus.ramOffset(pa) >= 0 ? pa : -1;
  }

  private readonly probeXlat = new Translation();
  private readonly probeFault = new TranslationFault();

  /** Translates an instruction fetch at PC; on a fault takes the prefetch abort and returns -1. */
  translateFetch(pcLo: number, pcHi: number): number {
    if (pcLo & 3) {
      const far = (BigInt(pcHi) << 32n) | BigInt(pcLo);
      this.cpu.syncException(Exception.PC_ALIGN, 0, false, far);
      return -1;
    }
    const vpn = pcHi * PAGES_PER_4G + (pcLo >>> PAGE_BITS);
    const cached = this.cpu.mmuIdx * TLB_ENTRIES + (vpn % TLB_ENTRIES);
    if (this.cpu.tlb.fetchVpn[cached] === vpn) {
      this.xlat.pa = this.cpu.tlb.fetchPpn[cached] * PAGE_SIZE + (pcLo & (PAGE_SIZE - 1));
      this.xlat.global = this.cpu.tlb.fetchGlobal[cached] === 1;
    } else if (!this.cpu.translateVa(pcLo, pcHi, Access.Exec, this.cpu.el, this.xlat, this.fault)) {
      const f = this.fault;
      const target = f.stage2 ? 2 : this.cpu.syncTargetEl();
      const ec = target === this.cpu.el ? Exception.INSN_ABORT_SAME : Exception.INSN_ABORT_LOWER;
      if (f.stage2) this.cpu.setReg('HPFAR_EL2', BigInt(Math.floor(f.ipa / PAGE_SIZE)) << 4n);
      this.cpu.syncException(ec, f.status | (f.s1ptw ? 1 << 7 : 0), false, (BigInt(pcHi) << 32n) | BigInt(pcLo), target);
      return -1;
    } else {
      this.cpu.tlb.fetchVpn[cached] = vpn;
      this.cpu.tlb.fetchPpn[cached] = Math.floor(this.xlat.pa / PAGE_SIZE);
      this.cpu.tlb.fetchGlobal[cached] = this.xlat.global ? 1 : 0;
    }
    this.lastFetchSurvivesSwitch = this.cpu.el === 2 || (this.xlat.global && ((pcHi >>> 23) & 1) === 1);
    const pa = this.xlat.pa;
    if (this.cpu.bus.ramOffset(pa) < 0) {
      const target = this.cpu.syncTargetEl();
      const ec = target === this.cpu.el ? Exception.INSN_ABORT_SAME : Exception.INSN_ABORT_LOWER;
      this.cpu.syncException(ec, FaultStatus.SYNC_EXTERNAL, false, (BigInt(pcHi) << 32n) | BigInt(pcLo), target);
      return -1;
    }
    // PSTATE.IL after an illegal exception return: lower priority than PC alignment and instruction aborts
    if (this.cpu.il) { this.cpu.syncException(Exception.ILLEGAL_STATE, 0); return -1; }
    return pa;
  }
}
