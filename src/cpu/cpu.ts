// One ARMv8-A processing element: PSTATE, system registers, exception
// entry/return, the slow paths of translated memory accesses, and the
// helpers translated code calls. Register files and the soft-TLB live in the
// shared WebAssembly.Memory (see state.ts); what is only touched off the hot
// path (PSTATE fields other than NZCV, pending interrupts) lives here.

import {
  S, vcpuBase, POW2, PAGES_PER_4G, TLB_BYTES, TLB_ENTRIES, TLB_ENTRY_SIZE, TLB_MMU_IDX_COUNT, TLBE, PAGE_BITS, PAGE_SIZE,
  JC_OFFSET, JC_ENTRIES, JC_ENTRY_SIZE, TbFlags, MmuIdx, jumpCacheIndex, jumpCachePageKey, softTlbIndex,
} from './state';
import { ESR_IL, Exception, ExceptionKind, FaultStatus, vectorOffset } from './system/exceptions';
import { MemInfo } from './jit/helpers';
import { Access, PA_BITS, Prot, Translation, TranslationFault } from './mmu/translation';
import { MMIO_EXIT, type PhysicalBus } from './bus';
import { SYSREG_BY_KEY, slotOf, sysregKeyName, type SysregEntry, SYSREGS } from './system/sysregs';
import { installFpSupport } from './fp/scalar-ops';

const MASK64 = 0xffffffffffffffffn;

/** Why `Cpu.run` returned. */
export type CpuStop =
  | { reason: 'budget' }
  | { reason: 'exit' } // cpu.pendingExit says why (MMIO, system event, ...)
  | { reason: 'halted' } // WFI/WFE with nothing pending
  | { reason: 'off' }; // powered off (PSCI CPU_OFF or never started)

/** An event that needs the world outside the CPU (the hypervisor layer turns it into a vCPU exit). */
export type PendingExit =
  | { kind: 'mmio'; pa: number; size: number; isWrite: boolean; lo: number; hi: number; access?: MmioAccessInfo }
  | { kind: 'firmware'; conduit: 'smc' | 'hvc'; imm: number }
  | { kind: 'debug' } // BRK with software breakpoints routed to the VMM (KVM_GUESTDBG_USE_SW_BP)
  | { kind: 'internal'; message: string };

/** The virtual address and MemInfo of an access that exited as MMIO (to fault it if no device answers). */
export interface MmioAccessInfo { vaLo: number; vaHi: number; info: number }

/** Services the CPU asks of the code translator/cache (implemented in engine.ts). */
export interface CodeCacheHooks {
  /** Finds or translates the block at the CPU's PC and enters it in the jump cache. */
  fillJumpCache(cpu: Cpu): void;
  /** Runs translated code until it returns to TypeScript; returns a DispatchResult. */
  dispatch(base: number): number;
  /** Physical page `ppn` was written: drop translations from it. */
  invalidatePhysPage(ppn: number): void;
  /** `size` bytes at physical `pa` (one page) were written: drop translations of those instruction words. */
  invalidateRange(pa: number, size: number): void;
  /** True when some translation was made from physical page `ppn`. */
  isCodePage(ppn: number): boolean;
}

/** Translation regime hooks (implemented by mmu-walk.ts); default: MMU off. */
export interface Mmu {
  translate(cpu: Cpu, vaLo: number, vaHi: number, access: Access, el: number, out: Translation, fault: TranslationFault): boolean;
}

const flatMmu: Mmu = {
  translate(_cpu, vaLo, vaHi, _access, _el, out, fault) {
    if (vaHi >>> (PA_BITS - 32) !== 0) { fault.status = FaultStatus.ADDR_SIZE; return false; }
    out.pa = vaHi * 0x100000000 + vaLo;
    out.prot = Prot.READ | Prot.WRITE | Prot.EXEC;
    out.global = true;
    return true;
  },
};

export interface CpuConfig {
  index: number;
  memory: WebAssembly.Memory;
  bus: PhysicalBus;
  /** EL2 implemented (the CPU resets into EL2); false resets into EL1. */
  hasEl2: boolean;
  /** MPIDR affinity value (Aff0 = index in the default board). */
  mpidr: bigint;
}

/** Results of Cpu.sysregFilter. */
export const SYSREG_CONTINUE = 0, SYSREG_TRAPPED = 1, SYSREG_DONE = 2;

export class Cpu {
  readonly index: number;
  readonly base: number;
  readonly memory: WebAssembly.Memory;
  readonly bus: PhysicalBus;
  readonly hasEl2: boolean;
  readonly mpidr: bigint;
  u8!: Uint8Array;
  u16!: Uint16Array;
  u32!: Uint32Array;
  i32!: Int32Array;
  dv!: DataView;

  // PSTATE (NZCV lives in wasm memory for translated code)
  el = 1;
  spSel = 1;
  /** D, A, I, F as bits 3..0 (PSTATE bits 9..6), kept in wasm memory (S.DAIF) for translated code. */
  get daif(): number { return this.u32[(this.base + S.DAIF) >> 2]; }
  set daif(value: number) { this.u32[(this.base + S.DAIF) >> 2] = value & 0xf; }
  pan = 0;
  ss = 0;
  il = 0;

  /** Powered on (PSCI CPU_ON / reset) and not halted by WFI. */
  powered = true;
  halted = false;
  /** Event register for WFE/SEV. */
  eventRegister = false;
  /** Interrupt lines driven by the interrupt controller. */
  irqLine = false;
  fiqLine = false;
  /** Virtual interrupt lines (from the virtual GIC CPU interface). */
  virqLine = false;
  vfiqLine = false;
  /** SError pending (physical, or virtual via HCR_EL2.VSE). */
  serrorPending = false;

  pendingExit: PendingExit | null = null;
  /** BRK exits to the VMM instead of raising a guest exception (guest debugging). */
  trapBreakpoints = false;
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
  /** Calls of run() so far (see mmioReplay). */
  private runs = 0;

  mmu: Mmu = flatMmu;
  code!: CodeCacheHooks;
  /** Side effects of system-register accesses, by hook name (filled by cpu/system-*.ts modules). */
  readonly sysregHooks = new Map<string, SysregHook>();
  /** Optional per-instruction hooks for SYS (TLBI, DC, IC, AT), keyed by sysreg-style key. */
  sysOps = new Map<number, (cpu: Cpu, rt: number) => number>();
  /**
   * Runs before the system-register table on every MRS/MSR/SYS (installed by
   * system-regs.ts): traps to EL1/EL2 (HCR_EL2.TVM/TID*, MDCR_EL2, CPTR_EL2,
   * SCTLR_EL1.UCT ...) and registers without a table row (the RAZ ID space).
   * Returns SYSREG_CONTINUE, SYSREG_DONE (access completed) or SYSREG_TRAPPED.
   */
  sysregFilter?: (cpu: Cpu, key: number, isRead: boolean, rt: number) => number;
  /** Every vCPU of the VM, this one included (broadcast TLB maintenance); set by hv/vm.ts. */
  peers: Cpu[] = [this];
  /** Run at the end of reset() (registers whose reset value depends on the CPU, e.g. VMPIDR_EL2). */
  readonly resetHooks: Array<(cpu: Cpu) => void> = [];

  /** Statistics. */
  readonly stats = { tlbMisses: 0, exceptions: 0, mmioExits: 0, blocksTranslated: 0 };

  private readonly xlat = new Translation();
  private readonly fault = new TranslationFault();
  private readonly mmioOut = new Uint32Array(2);
  /** Physical page of each soft-TLB entry, for invalidation when a page becomes code. */
  private readonly tlbPhysPage = new Float64Array(TLB_MMU_IDX_COUNT * TLB_ENTRIES).fill(-1);
  /** Per soft-TLB entry: a global TTBR1 mapping, which an address-space switch leaves valid. */
  private readonly tlbSurvivesSwitch = new Uint8Array(TLB_MMU_IDX_COUNT * TLB_ENTRIES);
  /**
   * Instruction-fetch translations, a soft-TLB of their own (per MMU index,
   * VA page number -> physical page), dropped with the data soft-TLB. Every
   * jump-cache miss translates its PC, and a table walk each time cost a
   * Linux boot ~0.4 s.
   */
  private readonly fetchVpn = new Float64Array(TLB_MMU_IDX_COUNT * TLB_ENTRIES).fill(-1);
  private readonly fetchPpn = new Float64Array(TLB_MMU_IDX_COUNT * TLB_ENTRIES);
  private readonly fetchGlobal = new Uint8Array(TLB_MMU_IDX_COUNT * TLB_ENTRIES);
  /**
   * Set by translateFetch: the translation of that PC stays valid when EL1&0
   * switches address space (EL2 code, stage 1 off, or a global mapping of
   * the TTBR1 half), so its jump-cache entry may stay (switchAddressSpace).
   */
  lastFetchSurvivesSwitch = false;
  /** Per jump-cache entry: lastFetchSurvivesSwitch when it was filled. */
  private readonly jumpCacheSurvivesSwitch = new Uint8Array(JC_ENTRIES);
  /**
   * Jump-cache indexes filled with an entry that does not survive an
   * address-space switch, since the last switch (switchAddressSpace clears
   * just these instead of scanning all 65,536; a full scan when it overflowed).
   */
  private readonly jumpCacheToClear = new Int32Array(8192);
  private jumpCacheToClearCount = 0;

  /** Records how the jump-cache entry at `index` (just filled) fares on an address-space switch. */
  noteJumpCacheEntry(index: number, survivesSwitch: boolean): void {
    this.jumpCacheSurvivesSwitch[index] = survivesSwitch ? 1 : 0;
    if (!survivesSwitch && this.jumpCacheToClearCount <= this.jumpCacheToClear.length) {
      if (this.jumpCacheToClearCount < this.jumpCacheToClear.length) this.jumpCacheToClear[this.jumpCacheToClearCount] = index;
      this.jumpCacheToClearCount++; // one past the end means: overflowed
    }
  }

  constructor(config: CpuConfig) {
    this.index = config.index;
    this.base = vcpuBase(config.index);
    this.memory = config.memory;
    this.bus = config.bus;
    this.hasEl2 = config.hasEl2;
    this.mpidr = config.mpidr;
    this.refreshViews();
    this.reset();
    installFpSupport(this); // shared FP operation table, FPCR/FPSR hooks
  }

  refreshViews(): void {
    const buf = this.memory.buffer;
    this.u8 = new Uint8Array(buf);
    this.u16 = new Uint16Array(buf);
    this.u32 = new Uint32Array(buf);
    this.i32 = new Int32Array(buf);
    this.dv = new DataView(buf);
  }

  /** Architectural reset: registers cleared, system registers at reset values, highest EL. */
  reset(): void {
    this.u8.fill(0, this.base, this.base + S.TLB);
    SYSREGS.forEach((def, slot) => this.setSysregSlot(slot, def.reset ?? 0n)); // slots are table indexes
    this.el = this.hasEl2 ? 2 : 1;
    this.spSel = 1;
    this.daif = 0xf;
    this.pan = 0; this.ss = 0; this.il = 0;
    this.halted = false;
    this.pendingExit = null;
    this.mmioReplay.length = 0;
    this.flushTlb();
    for (const hook of this.resetHooks) hook(this);
    this.updateTbFlags();
  }

  // ---- registers (TypeScript view) -------------------------------------------------

  get pc(): bigint { return this.dv.getBigUint64(this.base + S.PC, true); }
  set pc(v: bigint) { this.dv.setBigUint64(this.base + S.PC, BigInt.asUintN(64, v), true); }

  x(n: number): bigint { return n === 31 ? 0n : this.dv.getBigUint64(this.base + S.X + n * 8, true); }
  setX(n: number, v: bigint): void { if (n !== 31) this.dv.setBigUint64(this.base + S.X + n * 8, BigInt.asUintN(64, v), true); }
  get sp(): bigint { return this.dv.getBigUint64(this.base + S.SP, true); }
  set sp(v: bigint) { this.dv.setBigUint64(this.base + S.SP, BigInt.asUintN(64, v), true); }

  /** Low 32 bits of Xn as an unsigned number (no BigInt). */
  xLo(n: number): number { return n === 31 ? 0 : this.u32[(this.base + S.X + n * 8) >> 2]; }
  xHi(n: number): number { return n === 31 ? 0 : this.u32[(this.base + S.X + n * 8 + 4) >> 2]; }
  setXPair(n: number, lo: number, hi: number): void {
    if (n === 31) return;
    const i = (this.base + S.X + n * 8) >> 2;
    this.u32[i] = lo; this.u32[i + 1] = hi;
  }

  get nzcv(): number {
    const i = this.base >> 2;
    return (this.i32[i + (S.NF >> 2)] << 31 | this.i32[i + (S.ZF >> 2)] << 30 | this.i32[i + (S.CF >> 2)] << 29 | this.i32[i + (S.VF >> 2)] << 28) >>> 0;
  }
  set nzcv(v: number) {
    const i = this.base >> 2;
    this.i32[i + (S.NF >> 2)] = (v >>> 31) & 1;
    this.i32[i + (S.ZF >> 2)] = (v >>> 30) & 1;
    this.i32[i + (S.CF >> 2)] = (v >>> 29) & 1;
    this.i32[i + (S.VF >> 2)] = (v >>> 28) & 1;
  }

  get budget(): number { return this.i32[(this.base + S.BUDGET) >> 2]; }
  set budget(v: number) { this.i32[(this.base + S.BUDGET) >> 2] = v; }

  requestExit(): void { this.i32[(this.base + S.EXIT_REQUEST) >> 2] = 1; }
  private clearExitRequest(): void { this.i32[(this.base + S.EXIT_REQUEST) >> 2] = 0; }

  sysreg(slot: number): bigint { return this.dv.getBigUint64(this.base + S.SYSREGS + slot * 8, true); }
  setSysregSlot(slot: number, v: bigint): void { this.dv.setBigUint64(this.base + S.SYSREGS + slot * 8, BigInt.asUintN(64, v), true); }
  /** Low / high 32 bits of a system register without BigInt (for hot checks such as SCTLR.M). */
  sysregLo(slot: number): number { return this.u32[(this.base + S.SYSREGS + slot * 8) >> 2]; }
  sysregHi(slot: number): number { return this.u32[(this.base + S.SYSREGS + slot * 8 + 4) >> 2]; }
  reg(name: string): bigint { return this.sysreg(slotOf(name)); }
  setReg(name: string, v: bigint): void { this.setSysregSlot(slotOf(name), v); }

  // ---- PSTATE -----------------------------------------------------------------------

  /** PSTATE in SPSR format (AArch64). */
  packPstate(): number {
    return (this.nzcv | (this.pan << 22) | (this.ss << 21) | (this.il << 20) | (this.daif << 6) | (this.el << 2) | this.spSel) >>> 0;
  }

  private static readonly SP_SLOTS = [slotOf('SP_EL0'), slotOf('SP_EL1'), slotOf('SP_EL2')];

  private spSlotFor(el: number, spSel: number): number {
    return Cpu.SP_SLOTS[spSel ? el : 0];
  }

  /** Switches exception level / stack selection, banking the stack pointer. */
  setElSp(el: number, spSel: number): void {
    if (el === this.el && spSel === this.spSel) return;
    const spOff = this.base + S.SP;
    const oldSlot = this.spSlotFor(this.el, this.spSel);
    const newSlot = this.spSlotFor(el, spSel);
    if (oldSlot !== newSlot) {
      this.u32.copyWithin((this.base + S.SYSREGS + oldSlot * 8) >> 2, spOff >> 2, (spOff >> 2) + 2);
      this.u32.copyWithin(spOff >> 2, (this.base + S.SYSREGS + newSlot * 8) >> 2, ((this.base + S.SYSREGS + newSlot * 8) >> 2) + 2);
    }
    this.el = el;
    this.spSel = spSel;
    this.updateTbFlags();
  }

  /** Restores PSTATE from an SPSR value (ERET), with the illegal-return checks of the Arm ARM. */
  restorePstate(spsr: number): void {
    const spSel = spsr & 1;
    const el = (spsr >>> 2) & 3;
    // Illegal returns (D1.11.5): AArch32 (M[4], not implemented), a higher or unimplemented EL,
    // the reserved M[1] and EL0 with SP_ELx encodings, and EL1 while HCR_EL2.TGE is set.
    const illegal = (spsr & 0x12) !== 0 || el > this.el || (el === 2 && !this.hasEl2) || el === 3 ||
      (el === 0 && spSel === 1) || (el === 1 && (this.hcrLo() & (1 << 27)) !== 0);
    this.nzcv = spsr & 0xf0000000;
    this.daif = (spsr >>> 6) & 0xf;
    this.pan = 0; // PAN is not implemented (SPSR bit 22 is RES0)
    this.ss = (spsr >>> 21) & 1;
    // A legal return restores PSTATE.IL from SPSR.IL; an illegal one sets it and keeps EL and SP.
    this.il = illegal ? 1 : (spsr >>> 20) & 1;
    if (!illegal) this.setElSp(el, spSel);
    // The next instruction takes the Illegal State exception: make sure it goes through translateFetch.
    if (this.il) this.flushJumpCache();
  }

  /** Context bits the translated code was specialised for. */
  updateTbFlags(): void {
    let mmuIdx: number;
    if (this.el === 2) mmuIdx = MmuIdx.EL2;
    else if (this.el === 1) mmuIdx = MmuIdx.EL1;
    else mmuIdx = this.inHostEl0() ? MmuIdx.EL0_EL2 : MmuIdx.EL0;
    const flags = (this.el << TbFlags.EL_SHIFT) | (mmuIdx << TbFlags.MMU_IDX_SHIFT) | (this.spSel ? TbFlags.SP_SEL : 0) |
      (this.fpTrapTarget() << TbFlags.FP_TRAP_SHIFT);
    this.i32[(this.base + S.TB_FLAGS) >> 2] = flags;
  }

  private static readonly CPACR = slotOf('CPACR_EL1');
  private static readonly CPTR = slotOf('CPTR_EL2');

  /**
   * Where an FP/SIMD instruction traps at the current EL (AArch64.CheckFPAdvSIMDEnabled):
   * 0 none, 1 EL1 (CPACR_EL1.FPEN 0b00/0b10, or 0b01 at EL0), 2 EL2 (CPTR_EL2.TFP).
   */
  fpTrapTarget(): number {
    if (this.el <= 1) {
      const fpen = (this.sysregLo(Cpu.CPACR) >>> 20) & 3;
      if (fpen !== 3 && !(fpen === 1 && this.el === 1)) return 1;
    }
    if (this.hasEl2 && this.el <= 2 && (this.sysregLo(Cpu.CPTR) & (1 << 10))) return 2;
    return 0;
  }

  get tbFlags(): number { return this.i32[(this.base + S.TB_FLAGS) >> 2]; }
  get mmuIdx(): number { return (this.tbFlags >> TbFlags.MMU_IDX_SHIFT) & 3; }

  /** EL0 under a VHE host (HCR_EL2.{E2H,TGE} = 1,1): not implemented on this v8.0 CPU, always false. */
  inHostEl0(): boolean { return false; }

  // ---- exceptions -------------------------------------------------------------------

  private static readonly ESR = [-1, slotOf('ESR_EL1'), slotOf('ESR_EL2')];
  private static readonly FAR = [-1, slotOf('FAR_EL1'), slotOf('FAR_EL2')];
  private static readonly ELR = [-1, slotOf('ELR_EL1'), slotOf('ELR_EL2')];
  private static readonly SPSR = [-1, slotOf('SPSR_EL1'), slotOf('SPSR_EL2')];
  private static readonly VBAR = [-1, slotOf('VBAR_EL1'), slotOf('VBAR_EL2')];
  static readonly HCR = slotOf('HCR_EL2');

  /** HCR_EL2 low word (TGE, IMO, FMO, AMO, VI, VF, VSE, TSC ... are all in bits 31:0). */
  hcrLo(): number { return this.hasEl2 ? this.sysregLo(Cpu.HCR) : 0; }

  /** Target EL of a synchronous exception from the current EL (routing per HCR_EL2.TGE). */
  syncTargetEl(): number {
    if (this.el === 0 && (this.hcrLo() & (1 << 27))) return 2; // TGE
    return this.el === 0 ? 1 : this.el;
  }

  /**
   * Takes an exception: saves PSTATE and the return address, sets ESR/FAR,
   * switches to the target EL on SP_ELx with interrupts masked, and jumps
   * to the vector. `returnAddress` is ELR's value (the faulting instruction
   * for faults, the next one for SVC/HVC/SMC).
   */
  takeException(targetEl: number, kind: ExceptionKind, returnAddress: bigint, esr = 0, far?: bigint): void {
    this.stats.exceptions++;
    const fromEl = this.el;
    const fromSpSel = this.spSel;
    this.setSysregSlot(Cpu.SPSR[targetEl], BigInt(this.packPstate()));
    this.setSysregSlot(Cpu.ELR[targetEl], returnAddress);
    if (kind === ExceptionKind.Sync) {
      this.setSysregSlot(Cpu.ESR[targetEl], BigInt(esr >>> 0));
      if (far !== undefined) this.setSysregSlot(Cpu.FAR[targetEl], far);
    }
    this.clearExclusive();
    this.setElSp(targetEl, 1);
    this.daif = 0xf;
    this.il = 0;
    this.ss = 0;
    const vbar = this.sysreg(Cpu.VBAR[targetEl]);
    this.pc = vbar + BigInt(vectorOffset(kind, fromEl, targetEl, fromSpSel));
  }

  /** Synchronous exception from the instruction at PC, routed per the current EL. */
  syncException(ec: number, iss: number, returnNext = false, far?: bigint, targetEl = this.syncTargetEl()): void {
    const pc = this.pc;
    this.takeException(targetEl, ExceptionKind.Sync, returnNext ? pc + 4n : pc, ((ec << 26) | ESR_IL | (iss & 0x1ffffff)) >>> 0, far);
  }

  /**
   * The `exception` helper: SVC/HVC/SMC/BRK and other instruction-raised
   * exceptions, with the routing rules for the calls: HVC is UNDEFINED at
   * EL0 or when HCR_EL2.HCD is set; without EL2 an HVC is a firmware call
   * (PSCI conduit "hvc"); SMC is UNDEFINED at EL0, traps to EL2 from EL1
   * under HCR_EL2.TSC, and otherwise goes to the EL3 firmware (PSCI).
   */
  helperException(ec: number, iss: number): void {
    if (ec === Exception.HVC64) {
      if (this.el === 0) { this.syncException(Exception.UNKNOWN, 0); return; }
      if (!this.hasEl2) { this.firmwareCall('hvc', iss); return; }
      if (this.hcrLo() & (1 << 29)) { this.syncException(Exception.UNKNOWN, 0); return; } // HCD
      this.syncException(Exception.HVC64, iss, true, undefined, 2);
      return;
    }
    if (ec === Exception.SMC64) {
      if (this.el === 0) { this.syncException(Exception.UNKNOWN, 0); return; }
      if (this.el === 1 && (this.hcrLo() & (1 << 19))) { this.syncException(Exception.SMC64, iss, false, undefined, 2); return; } // TSC
      this.firmwareCall('smc', iss);
      return;
    }
    if (ec === Exception.BRK64 && this.trapBreakpoints) {
      this.pendingExit = { kind: 'debug' };
      this.requestExit();
      return;
    }
    const returnNext = ec === Exception.SVC64;
    this.syncException(ec, iss, returnNext);
  }

  /** A call to firmware (EL3 or, without EL2, the hypervisor): handled outside the CPU, returns to the next instruction. */
  private firmwareCall(conduit: 'smc' | 'hvc', imm: number): void {
    this.pc = this.pc + 4n;
    this.pendingExit = { kind: 'firmware', conduit, imm };
    this.requestExit();
  }

  clearExclusive(): void { this.i32[(this.base + S.EXCL_VALID) >> 2] = 0; }

  /**
   * Takes the highest-priority pending interrupt that is not masked; true when one was.
   * Routing and masking per D1.15 (ARMv8.0, no EL3): a physical interrupt goes to
   * EL2 when HCR_EL2.IMO/FMO/AMO (or TGE) is set, else to EL1. An interrupt routed
   * to a higher EL than the current one is taken whatever PSTATE.{A,I,F} say; one
   * routed to the current EL obeys the mask; one routed to a lower EL waits.
   * Virtual interrupts (HCR_EL2.VI/VF/VSE or the virtual GIC lines) reach EL1/EL0
   * only while routing is on and TGE is clear, and obey PSTATE at EL1/EL0.
   */
  checkInterrupts(): boolean {
    const hcr = this.hcrLo();
    const tge = (hcr & (1 << 27)) !== 0;
    const imo = tge || (hcr & (1 << 4)) !== 0;
    const fmo = tge || (hcr & (1 << 3)) !== 0;
    const amo = tge || (hcr & (1 << 5)) !== 0;
    if (this.serrorPending && this.physicalTakeable(amo, 4)) {
      this.serrorPending = false;
      this.takeSError(amo && this.hasEl2 ? 2 : 1);
      return true;
    }
    if (this.irqLine && this.physicalTakeable(imo, 2)) { this.takeInterrupt(imo && this.hasEl2 ? 2 : 1, ExceptionKind.Irq); return true; }
    if (this.fiqLine && this.physicalTakeable(fmo, 1)) { this.takeInterrupt(fmo && this.hasEl2 ? 2 : 1, ExceptionKind.Fiq); return true; }
    if (this.el < 2 && !tge) {
      if ((hcr & (1 << 8)) && amo && !(this.daif & 4)) { // HCR_EL2.VSE: taking it clears the request
        this.setSysregSlot(Cpu.HCR, this.sysreg(Cpu.HCR) & ~(1n << 8n));
        this.takeSError(1);
        return true;
      }
      const virq = this.virqLine || (hcr & (1 << 7)) !== 0;
      const vfiq = this.vfiqLine || (hcr & (1 << 6)) !== 0;
      if (virq && imo && !(this.daif & 2)) { this.takeInterrupt(1, ExceptionKind.Irq); return true; }
      if (vfiq && fmo && !(this.daif & 1)) { this.takeInterrupt(1, ExceptionKind.Fiq); return true; }
    }
    return false;
  }

  /** Whether a physical interrupt with routing bit `routed` (to EL2) and PSTATE mask bit `maskBit` can be taken now. */
  private physicalTakeable(routed: boolean, maskBit: number): boolean {
    const target = routed && this.hasEl2 ? 2 : 1;
    if (target < this.el) return false;
    if (target > this.el) return true;
    return (this.daif & maskBit) === 0;
  }

  /** SError interrupt: ESR.EC 0x2f with ISS 0 (no RAS extension, so no VSESR_EL2). */
  private takeSError(targetEl: number): void {
    this.halted = false;
    this.takeException(targetEl, ExceptionKind.SError, this.pc);
    this.setSysregSlot(Cpu.ESR[targetEl], BigInt(((Exception.SERROR << 26) | ESR_IL) >>> 0));
  }

  /** True when an interrupt would be taken if the CPU were running (wakes WFI even when masked). */
  interruptPending(): boolean {
    const hcr = this.hcrLo();
    return this.irqLine || this.fiqLine || this.serrorPending || (this.el < 2 && (this.virqLine || this.vfiqLine || (hcr & 0x1c0) !== 0));
  }

  private takeInterrupt(targetEl: number, kind: ExceptionKind): void {
    this.halted = false;
    this.takeException(targetEl, kind, this.pc);
  }

  /** Something changed that may make an interrupt deliverable: leave translated code at the next block boundary. */
  interruptStateChanged(): void {
    if (this.interruptPending()) { this.halted = false; this.requestExit(); }
  }

  // ---- soft-TLB ---------------------------------------------------------------------

  flushTlb(): void {
    const start = (this.base + S.TLB) >> 2;
    this.u32.fill(0xffffffff, start, start + (TLB_MMU_IDX_COUNT * TLB_BYTES) / 4);
    this.tlbPhysPage.fill(-1);
    this.fetchVpn.fill(-1);
    this.flushJumpCache();
  }

  /**
   * EL1&0 switched address space (TTBR0_EL1 or the ASID changed, Linux's
   * context switch): translations that depend on TTBR0 or on the ASID go,
   * those of EL2, of global TTBR1 mappings and with stage 1 off stay. Before,
   * each of the ~200 switches of a boot dropped the whole jump cache and the
   * kernel refilled it through ~1,000 dispatcher misses.
   */
  switchAddressSpace(): void {
    for (const m of [MmuIdx.EL0, MmuIdx.EL1, MmuIdx.EL0_EL2]) {
      for (let i = m * TLB_ENTRIES; i < (m + 1) * TLB_ENTRIES; i++) {
        if (this.tlbSurvivesSwitch[i]) continue;
        const e = (this.base + S.TLB + i * TLB_ENTRY_SIZE) >> 2;
        this.u32[e] = this.u32[e + 1] = this.u32[e + 2] = this.u32[e + 3] = 0xffffffff;
        this.tlbPhysPage[i] = -1;
      }
      this.fetchVpn.fill(-1, m * TLB_ENTRIES, (m + 1) * TLB_ENTRIES);
    }
    const jc = (this.base + JC_OFFSET) >> 2;
    const clear = (i: number) => {
      if (this.jumpCacheSurvivesSwitch[i]) return;
      const e = jc + i * (JC_ENTRY_SIZE >> 2);
      this.u32[e] = 0xffffffff; this.u32[e + 1] = 0xffffffff;
    };
    if (this.jumpCacheToClearCount <= this.jumpCacheToClear.length) {
      for (let k = 0; k < this.jumpCacheToClearCount; k++) clear(this.jumpCacheToClear[k]);
    } else {
      for (let i = 0; i < JC_ENTRIES; i++) clear(i);
    }
    this.jumpCacheToClearCount = 0;
  }

  /** Drops every jump-cache entry (the VA->translation mapping may have changed). */
  flushJumpCache(): void {
    const start = (this.base + JC_OFFSET) >> 2;
    this.u32.fill(0xffffffff, start, start + (JC_ENTRIES * JC_ENTRY_SIZE) / 4);
    this.jumpCachePages.clear();
  }

  /**
   * Virtual pages (VA[55:12], top byte ignored) that may have jump-cache
   * entries: a TLBI by VA of a page without any (most are data pages) skips
   * the scan of its 1,024 possible slots.
   */
  readonly jumpCachePages = new Set<number>();


  /**
   * Drops the jump-cache entries for PCs in one virtual page (VA[55:32] given
   * as vaHi24, so top-byte aliases go too): the page's mapping changed.
   */
  flushJumpCachePage(vaLo: number, vaHi24: number): void {
    if (!this.jumpCachePages.delete(jumpCachePageKey(vaLo, vaHi24))) return;
    const pageLo = (vaLo & ~(PAGE_SIZE - 1)) >>> 0;
    const first = jumpCacheIndex(pageLo);
    const jc = (this.base + JC_OFFSET) >> 2;
    for (let w = 0; w < PAGE_SIZE / 4; w++) {
      const e = jc + ((first ^ w) & (JC_ENTRIES - 1)) * (JC_ENTRY_SIZE >> 2);
      if (((this.u32[e] & ~(PAGE_SIZE - 1)) >>> 0) === pageLo && (this.u32[e + 1] & 0xffffff) === vaHi24) {
        this.u32[e] = 0xffffffff; this.u32[e + 1] = 0xffffffff;
      }
    }
  }

  /** Drops the cached fetch translations of one VA page, whatever its top byte (see flushJumpCachePage). */
  flushFetchPage(pageLo: number, vaHi24: number): void {
    const index = softTlbIndex(pageLo, vaHi24);
    const vpnLow = Math.floor(vaHi24 * PAGES_PER_4G) + (pageLo >>> PAGE_BITS);
    for (let m = 0; m < TLB_MMU_IDX_COUNT; m++) {
      const vpn = this.fetchVpn[m * TLB_ENTRIES + index];
      if (vpn >= 0 && vpn % POW2[56 - PAGE_BITS] === vpnLow) this.fetchVpn[m * TLB_ENTRIES + index] = -1;
    }
  }

  /** Removes write permission from fast-TLB entries that map physical page `ppn` (it now holds code). */
  protectCodePage(ppn: number): void {
    for (let i = 0; i < this.tlbPhysPage.length; i++) {
      if (this.tlbPhysPage[i] !== ppn) continue;
      const e = (this.base + S.TLB + i * TLB_ENTRY_SIZE + TLBE.WRITE) >> 2;
      this.u32[e] = 0xffffffff; this.u32[e + 1] = 0xffffffff;
    }
  }

  private fillTlb(mmuIdx: number, vaLo: number, vaHi: number, pa: number, prot: number): void {
    if (prot & Prot.DEVICE) return;
    const ppn = Math.floor(pa / PAGE_SIZE);
    const wasm = this.bus.ramOffset(ppn * PAGE_SIZE);
    if (wasm < 0 || this.bus.ramExtent(ppn * PAGE_SIZE) < PAGE_SIZE) return;
    const index = softTlbIndex(vaLo, vaHi);
    const e = (this.base + S.TLB + mmuIdx * TLB_BYTES + index * TLB_ENTRY_SIZE) >> 2;
    const tagLo = (vaLo & ~(PAGE_SIZE - 1)) >>> 0;
    const canWrite = (prot & Prot.WRITE) !== 0 && !this.code.isCodePage(ppn);
    this.u32[e] = (prot & Prot.READ) ? tagLo : 0xffffffff;
    this.u32[e + 1] = (prot & Prot.READ) ? vaHi : 0xffffffff;
    this.u32[e + 2] = canWrite ? tagLo : 0xffffffff;
    this.u32[e + 3] = canWrite ? vaHi : 0xffffffff;
    // addend: only the low 32 bits matter (generated code wraps va+addend to i32)
    this.u32[e + 4] = (wasm - tagLo) >>> 0;
    this.u32[e + 5] = 0;
    this.tlbPhysPage[mmuIdx * TLB_ENTRIES + index] = ppn;
    this.tlbSurvivesSwitch[mmuIdx * TLB_ENTRIES + index] = this.xlat.global && ((vaHi >>> 23) & 1) === 1 ? 1 : 0;
  }

  /**
   * The physical address of a write at va when the soft-TLB holds a write
   * entry for its page (RAM, writable at this privilege, not code), else -1:
   * helpers that write memory themselves (STXR, DC ZVA) skip the table walk
   * as translated stores do.
   */
  softTlbWritePa(mmuIdx: number, vaLo: number, vaHi: number): number {
    const index = softTlbIndex(vaLo, vaHi);
    const e = (this.base + S.TLB + mmuIdx * TLB_BYTES + index * TLB_ENTRY_SIZE + TLBE.WRITE) >> 2;
    if (this.u32[e] !== ((vaLo & ~(PAGE_SIZE - 1)) >>> 0) || this.u32[e + 1] !== vaHi) return -1;
    return this.tlbPhysPage[mmuIdx * TLB_ENTRIES + index] * PAGE_SIZE + (vaLo & (PAGE_SIZE - 1));
  }

  // ---- translation and access slow paths ---------------------------------------------

  /**
   * Translates a data access; on a fault takes the exception and returns -1.
   * `el` is the privilege the access is checked at (0 for LDTR/STTR).
   */
  translateData(vaLo: number, vaHi: number, access: Access, el: number, info: number): number {
    const x = this.xlat;
    if (!this.mmu.translate(this, vaLo, vaHi, access, el, x, this.fault)) {
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
    const target = f.stage2 ? 2 : this.syncTargetEl();
    // The instruction syndrome is reported only for aborts taken to EL2 that are not on a stage-1
    // table walk (IMPLEMENTATION DEFINED for ESR_EL1): QEMU's rule, checked by the bare-metal goldens.
    if ((info & MemInfo.ISV) && target === 2 && !f.s1ptw) {
      iss |= (1 << 24) | ((info & 3) << 22) | ((info & MemInfo.SIGN) ? 1 << 21 : 0) |
        (((info >>> MemInfo.RT_SHIFT) & 31) << 16) | ((info & MemInfo.SF) ? 1 << 15 : 0) | ((info & MemInfo.ACQ_REL) ? 1 << 14 : 0);
    }
    if (f.s1ptw) iss |= 1 << 7;
    const ec = target === this.el ? Exception.DATA_ABORT_SAME : Exception.DATA_ABORT_LOWER;
    if (f.stage2) this.setReg('HPFAR_EL2', BigInt(Math.floor(f.ipa / PAGE_SIZE)) << 4n);
    this.syncException(ec, iss, false, far, target);
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
    const i = (this.base + S.PC) >> 2;
    this.u32[i] = ((this.u32[i] & ~(PAGE_SIZE - 1)) | (word << 2)) >>> 0;
  }

  /** Slow path of a translated load: TLB refill, page-crossing, MMIO and faults. Value -> SCRATCH. */
  helperLoad(vaLo: number, vaHi: number, info: number): number {
    vaLo >>>= 0; vaHi >>>= 0;
    this.stats.tlbMisses++;
    const sizeLog2 = info & MemInfo.SIZE_MASK;
    const size = 1 << sizeLog2;
    if ((info & MemInfo.ALIGN_REQUIRED) && (vaLo & (size - 1))) return this.alignmentFault(vaLo, vaHi, false, info);
    const scratch = this.base + S.SCRATCH;
    const el = info & MemInfo.UNPRIV ? 0 : this.el;
    if ((vaLo & (PAGE_SIZE - 1)) + size > PAGE_SIZE) {
      const first = this.translateSplit(vaLo, vaHi, Access.Read, el, info);
      if (first < 0) return 1;
      const r0 = this.bus.ramOffset(this.splitPa[0]), r1 = this.bus.ramOffset(this.splitPa[1]);
      if (r0 < 0 || r1 < 0) return this.externalAbort(vaLo, vaHi, false, info);
      this.u8.copyWithin(scratch, r0, r0 + first);
      this.u8.copyWithin(scratch + first, r1, r1 + size - first);
    } else {
      const pa = this.translateData(vaLo, vaHi, Access.Read, el, info);
      if (pa < 0) return 1;
      const prot = this.xlat.prot;
      if ((prot & Prot.DEVICE) && (vaLo & (size - 1))) return this.alignmentFault(vaLo, vaHi, false, info);
      const ram = this.bus.ramOffset(pa);
      if (ram >= 0) {
        this.fillTlb(info & MemInfo.UNPRIV ? MmuIdx.EL0 : this.mmuIdx, vaLo, vaHi, pa, prot);
        this.u8.copyWithin(scratch, ram, ram + size);
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
    const i = (this.base + S.SCRATCH) >> 2;
    if (sizeLog2 === 3) return;
    let lo = this.u32[i];
    if (sizeLog2 === 0) lo = signed ? (lo << 24) >> 24 : lo & 0xff;
    else if (sizeLog2 === 1) lo = signed ? (lo << 16) >> 16 : lo & 0xffff;
    else lo = signed ? lo | 0 : lo;
    this.u32[i] = lo >>> 0;
    this.u32[i + 1] = signed && lo < 0 ? 0xffffffff : 0;
  }

  private mmioLoad(pa: number, size: number, scratch: number, vaLo: number, vaHi: number, info: number): number {
    const replay = this.takeReplay(pa, size, false);
    if (replay) {
      this.u32[scratch >> 2] = replay.lo; this.u32[(scratch >> 2) + 1] = replay.hi;
      return 0;
    }
    const r = this.bus.mmioRead(this.index, pa, size, this.mmioOut);
    if (r === MMIO_EXIT) {
      this.stats.mmioExits++;
      this.pendingExit = { kind: 'mmio', pa, size, isWrite: false, lo: 0, hi: 0, access: { vaLo, vaHi, info } };
      this.requestExit();
      return 1;
    }
    this.u32[scratch >> 2] = this.mmioOut[0]; this.u32[(scratch >> 2) + 1] = this.mmioOut[1];
    return 0;
  }

  /** Slow path of a translated store; value in SCRATCH. */
  helperStore(vaLo: number, vaHi: number, info: number): number {
    vaLo >>>= 0; vaHi >>>= 0;
    this.stats.tlbMisses++;
    const sizeLog2 = info & MemInfo.SIZE_MASK;
    const size = 1 << sizeLog2;
    if ((info & MemInfo.ALIGN_REQUIRED) && (vaLo & (size - 1))) return this.alignmentFault(vaLo, vaHi, true, info);
    const scratch = this.base + S.SCRATCH;
    const el = info & MemInfo.UNPRIV ? 0 : this.el;
    if ((vaLo & (PAGE_SIZE - 1)) + size > PAGE_SIZE) {
      const first = this.translateSplit(vaLo, vaHi, Access.Write, el, info);
      if (first < 0) return 1;
      const r0 = this.bus.ramOffset(this.splitPa[0]), r1 = this.bus.ramOffset(this.splitPa[1]);
      if (r0 < 0 || r1 < 0) return this.externalAbort(vaLo, vaHi, true, info);
      this.writeRam(this.splitPa[0], r0, scratch, first);
      this.writeRam(this.splitPa[1], r1, scratch + first, size - first);
      return 0;
    }
    const pa = this.translateData(vaLo, vaHi, Access.Write, el, info);
    if (pa < 0) return 1;
    const prot = this.xlat.prot;
    if ((prot & Prot.DEVICE) && (vaLo & (size - 1))) return this.alignmentFault(vaLo, vaHi, true, info);
    const ram = this.bus.ramOffset(pa);
    if (ram >= 0) {
      this.writeRam(pa, ram, scratch, size);
      this.fillTlb(info & MemInfo.UNPRIV ? MmuIdx.EL0 : this.mmuIdx, vaLo, vaHi, pa, prot);
      return 0;
    }
    if (size > 8) return this.externalAbort(vaLo, vaHi, true, info);
    const lo = this.u32[scratch >> 2], hi = this.u32[(scratch >> 2) + 1];
    const replay = this.takeReplay(pa, size, true);
    if (replay) return 0;
    const r = this.bus.mmioWrite(this.index, pa, size, size === 8 ? lo : size === 4 ? lo : lo & ((1 << (size * 8)) - 1), size === 8 ? hi : 0);
    if (r === MMIO_EXIT) {
      this.stats.mmioExits++;
      this.pendingExit = { kind: 'mmio', pa, size, isWrite: true, lo: size === 4 || size === 8 ? lo : lo & ((1 << (size * 8)) - 1), hi: size === 8 ? hi : 0, access: { vaLo, vaHi, info } };
      this.requestExit();
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
  helperStoreExclusive(vaLo: number, vaHi: number, info: number): number {
    vaLo >>>= 0; vaHi >>>= 0;
    const i = this.base >> 2;
    const sizeLog2 = info & MemInfo.SIZE_MASK;
    const size = 1 << sizeLog2;
    if (vaLo & (size - 1)) return this.alignmentFault(vaLo, vaHi, true, info);
    const statusWord = (this.base + S.SCRATCH + 16) >> 2;
    const armed = this.i32[i + (S.EXCL_VALID >> 2)] !== 0 &&
      this.u32[i + (S.EXCL_ADDR >> 2)] === vaLo && this.u32[i + (S.EXCL_ADDR >> 2) + 1] === vaHi &&
      this.u32[i + (S.EXCL_SIZE >> 2)] === size;
    // translate even when the monitor is not armed: a faulting STXR must fault (D1.12)
    let pa = this.softTlbWritePa(this.mmuIdx, vaLo, vaHi);
    if (pa < 0) {
      pa = this.translateData(vaLo, vaHi, Access.Write, this.el, info);
      if (pa < 0) return 1;
      this.fillTlb(this.mmuIdx, vaLo, vaHi, pa, this.xlat.prot);
    }
    this.clearExclusive();
    const ram = this.bus.ramOffset(pa);
    if (!armed || ram < 0) { this.u32[statusWord] = 1; return 0; }
    const cur = ram;
    const saved = this.base + S.EXCL_VAL;
    for (let k = 0; k < size; k++) {
      if (this.u8[cur + k] !== this.u8[saved + k]) { this.u32[statusWord] = 1; return 0; }
    }
    this.writeRam(pa, ram, this.base + S.SCRATCH, size);
    this.u32[statusWord] = 0;
    return 0;
  }

  /** SYS/SYSL operations (TLBI, DC, IC, AT) registered by the system modules; others are UNDEFINED. */
  helperSys(key: number, rt: number): number {
    const filtered = this.sysregFilter?.(this, key, false, rt) ?? SYSREG_CONTINUE;
    if (filtered !== SYSREG_CONTINUE) return filtered === SYSREG_TRAPPED ? 1 : 0;
    const op = this.sysOps.get(key);
    if (!op) return this.undefinedSysreg(key, rt, false);
    return op(this, rt);
  }

  /** FP/SIMD operations done in TypeScript, registered by the FP modules. */
  fpOps: Array<(cpu: Cpu, regs: number) => number> = [];
  helperFpOp(op: number, regs: number): number {
    const fn = this.fpOps[op];
    if (!fn) { this.pendingExit = { kind: 'internal', message: `unregistered FP operation ${op}` }; this.requestExit(); return 1; }
    return fn(this, regs);
  }

  /** Last undefined instruction word (diagnostics). */
  lastUndefinedInsn = 0;

  /** Writes RAM, dropping translations made from the written page first (self-modifying code). */
  private writeRam(pa: number, wasm: number, src: number, size: number): void {
    if (this.code.isCodePage(Math.floor(pa / PAGE_SIZE))) this.code.invalidateRange(pa, size);
    this.u8.copyWithin(wasm, src, src + size);
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
    const e = this.pendingExit;
    if (!e || e.kind !== 'mmio') return;
    const pcLo = this.u32[(this.base + S.PC) >> 2], pcHi = this.u32[(this.base + S.PC + 4) >> 2];
    if (pcLo !== this.replayPcLo || pcHi !== this.replayPcHi) this.mmioReplay.length = 0; // another instruction's
    this.replayPcLo = pcLo; this.replayPcHi = pcHi;
    this.mmioReplay.push({ pa: e.pa, size: e.size, isWrite: e.isWrite, lo: lo >>> 0, hi: hi >>> 0 });
    this.replayCursor = 0;
    this.replayStampRun = -1;
    this.pendingExit = null;
  }

  /**
   * The VMM found no device at the address of the last MMIO exit: the access
   * takes a synchronous external abort, as on QEMU's virt board where an
   * unassigned physical address answers with a decode error
   * (KVM_SET_VCPU_EVENTS with ext_dabt_pending is the KVM equivalent).
   * PC still points at the faulting instruction (precise exceptions).
   */
  failMmio(): void {
    const e = this.pendingExit;
    if (!e || e.kind !== 'mmio') return;
    this.pendingExit = null;
    const a = e.access ?? { vaLo: e.pa >>> 0, vaHi: Math.floor(e.pa / 0x100000000), info: 0 };
    this.externalAbort(a.vaLo, a.vaHi, e.isWrite, a.info);
  }

  private takeReplay(pa: number, size: number, isWrite: boolean) {
    if (this.mmioReplay.length === 0) return undefined;
    const forget = () => { this.mmioReplay.length = 0; return undefined; };
    // another instruction, or a later execution of this one: the results are stale
    if (this.u32[(this.base + S.PC) >> 2] !== this.replayPcLo || this.u32[(this.base + S.PC + 4) >> 2] !== this.replayPcHi) return forget();
    if (this.replayStampRun < 0) {
      this.replayStampRun = this.runs;
      this.replayStampBudget = this.budget;
    } else if (this.replayStampRun !== this.runs || this.replayStampBudget !== this.budget) {
      return forget();
    }
    if (this.replayCursor >= this.mmioReplay.length) return undefined; // a further access of this run: performed, and recorded on completion
    const r = this.mmioReplay[this.replayCursor];
    if (r.pa !== pa || r.size !== size || r.isWrite !== isWrite) return forget(); // the guest did something else (e.g. took an interrupt)
    this.replayCursor++;
    return r;
  }

  /** Translates an instruction fetch at PC; on a fault takes the prefetch abort and returns -1. */
  /**
   * The physical address an instruction fetch from `pc` would use now, or -1
   * when it would fault or is not RAM; takes no exception (for translating
   * code ahead of its execution).
   */
  probeFetch(pc: bigint): number {
    const pcLo = Number(pc & 0xffffffffn), pcHi = Number(pc >> 32n);
    if (pcLo & 3) return -1;
    const vpn = pcHi * PAGES_PER_4G + (pcLo >>> PAGE_BITS);
    const cached = this.mmuIdx * TLB_ENTRIES + (vpn % TLB_ENTRIES);
    let pa: number;
    if (this.fetchVpn[cached] === vpn) pa = this.fetchPpn[cached] * PAGE_SIZE + (pcLo & (PAGE_SIZE - 1));
    else if (this.mmu.translate(this, pcLo, pcHi, Access.Exec, this.el, this.probeXlat, this.probeFault)) pa = this.probeXlat.pa;
    else return -1;
    return this.bus.ramOffset(pa) >= 0 ? pa : -1;
  }

  private readonly probeXlat = new Translation();
  private readonly probeFault = new TranslationFault();

  translateFetch(pcLo: number, pcHi: number): number {
    if (pcLo & 3) {
      const far = (BigInt(pcHi) << 32n) | BigInt(pcLo);
      this.syncException(Exception.PC_ALIGN, 0, false, far);
      return -1;
    }
    const vpn = pcHi * PAGES_PER_4G + (pcLo >>> PAGE_BITS);
    const cached = this.mmuIdx * TLB_ENTRIES + (vpn % TLB_ENTRIES);
    if (this.fetchVpn[cached] === vpn) {
      this.xlat.pa = this.fetchPpn[cached] * PAGE_SIZE + (pcLo & (PAGE_SIZE - 1));
      this.xlat.global = this.fetchGlobal[cached] === 1;
    } else if (!this.mmu.translate(this, pcLo, pcHi, Access.Exec, this.el, this.xlat, this.fault)) {
      const f = this.fault;
      const target = f.stage2 ? 2 : this.syncTargetEl();
      const ec = target === this.el ? Exception.INSN_ABORT_SAME : Exception.INSN_ABORT_LOWER;
      if (f.stage2) this.setReg('HPFAR_EL2', BigInt(Math.floor(f.ipa / PAGE_SIZE)) << 4n);
      this.syncException(ec, f.status | (f.s1ptw ? 1 << 7 : 0), false, (BigInt(pcHi) << 32n) | BigInt(pcLo), target);
      return -1;
    } else {
      this.fetchVpn[cached] = vpn;
      this.fetchPpn[cached] = Math.floor(this.xlat.pa / PAGE_SIZE);
      this.fetchGlobal[cached] = this.xlat.global ? 1 : 0;
    }
    this.lastFetchSurvivesSwitch = this.el === 2 || (this.xlat.global && ((pcHi >>> 23) & 1) === 1);
    const pa = this.xlat.pa;
    if (this.bus.ramOffset(pa) < 0) {
      const target = this.syncTargetEl();
      const ec = target === this.el ? Exception.INSN_ABORT_SAME : Exception.INSN_ABORT_LOWER;
      this.syncException(ec, FaultStatus.SYNC_EXTERNAL, false, (BigInt(pcHi) << 32n) | BigInt(pcLo), target);
      return -1;
    }
    // PSTATE.IL after an illegal exception return: lower priority than PC alignment and instruction aborts
    if (this.il) { this.syncException(Exception.ILLEGAL_STATE, 0); return -1; }
    return pa;
  }

  // ---- system instructions ----------------------------------------------------------

  /** Looks up a system register for MRS/MSR and checks the EL; raises UNDEFINED when not accessible. */
  private sysregFor(key: number): SysregEntry | undefined {
    const e = SYSREG_BY_KEY.get(key);
    if (!e || this.el < e.minEl || (e.minEl === 2 && !this.hasEl2)) return undefined;
    return e;
  }

  /** A register hook's own access check (e.g. CNTKCTL_EL1/CNTHCTL_EL2 timer traps) took an exception. */
  private hookAccessTrapped(key: number, isRead: boolean, rt: number): boolean {
    const e = this.sysregFor(key);
    const access = e?.hook ? this.sysregHooks.get(e.hook)?.access : undefined;
    return access !== undefined && access(this, e!, isRead, rt);
  }

  readSysreg(key: number): bigint | undefined {
    const e = this.sysregFor(key);
    if (!e) return undefined;
    if (e.hook) {
      const hook = this.sysregHooks.get(e.hook);
      if (hook?.read) return hook.read(this, e);
    }
    return this.sysreg(e.slot);
  }

  helperMrs(key: number, rt: number): number {
    const filtered = this.sysregFilter?.(this, key, true, rt) ?? SYSREG_CONTINUE;
    if (filtered !== SYSREG_CONTINUE) return filtered === SYSREG_TRAPPED ? 1 : 0;
    if (this.hookAccessTrapped(key, true, rt)) return 1;
    const v = this.readSysreg(key);
    if (v === undefined) return this.undefinedSysreg(key, rt, true);
    this.setX(rt, v);
    return 0;
  }

  helperMsr(key: number, rt: number): number {
    const filtered = this.sysregFilter?.(this, key, false, rt) ?? SYSREG_CONTINUE;
    if (filtered !== SYSREG_CONTINUE) return filtered === SYSREG_TRAPPED ? 1 : 0;
    const e = this.sysregFor(key);
    if (!e || e.readonly) return this.undefinedSysreg(key, rt, false);
    if (this.hookAccessTrapped(key, false, rt)) return 1;
    const v = this.x(rt);
    const hook = e.hook ? this.sysregHooks.get(e.hook) : undefined;
    // MSR ends the block; recomputing the TB flags lets context they hold (e.g. CPACR_EL1.FPEN) take effect at once
    if (hook?.write) { hook.write(this, e, v); this.updateTbFlags(); return 0; }
    const mask = e.writeMask ?? MASK64;
    this.setSysregSlot(e.slot, (v & mask) | (this.sysreg(e.slot) & ~mask & MASK64));
    if (hook?.after) hook.after(this, e, v);
    this.updateTbFlags();
    return 0;
  }

  /** An MRS/MSR/SYS the CPU does not implement or forbids at this EL: Undefined Instruction. */
  undefinedSysreg(key: number, rt: number, isRead: boolean): number {
    this.lastUndefinedSysreg = `${isRead ? 'mrs' : 'msr'} ${SYSREG_BY_KEY.get(key)?.name ?? sysregKeyName(key)} x${rt}`;
    this.syncException(Exception.UNKNOWN, 0);
    return 1;
  }
  lastUndefinedSysreg = '';

  /** MSR <pstatefield>, #imm: SPSel, DAIFSet, DAIFClr (PAN/UAO are not advertised). */
  helperMsrImm(op1op2: number, imm: number): number {
    const op1 = op1op2 >> 3, op2 = op1op2 & 7;
    if (op1 === 0 && op2 === 5) { // SPSel
      if (this.el === 0) return this.undefinedSysreg(0, 31, false);
      this.setElSp(this.el, imm & 1);
      return 0;
    }
    if (op1 === 3 && (op2 === 6 || op2 === 7)) { // DAIFSet / DAIFClr
      if (this.el === 0 && !(this.sysregLo(slotOf('SCTLR_EL1')) & (1 << 9))) { // SCTLR_EL1.UMA
        this.syncException(Exception.SYSREG, 0);
        return 1;
      }
      if (op2 === 6) this.daif |= imm; else this.daif &= ~imm;
      this.interruptStateChanged();
      return 0;
    }
    return this.undefinedSysreg(0, 31, false);
  }

  helperEret(): number {
    if (this.el === 0) { this.syncException(Exception.UNKNOWN, 0); return 1; }
    const el = this.el;
    const spsr = Number(this.sysreg(Cpu.SPSR[el]) & 0xffffffffn);
    const elr = this.sysreg(Cpu.ELR[el]);
    this.clearExclusive();
    this.restorePstate(spsr);
    this.pc = elr;
    this.interruptStateChanged();
    return 1;
  }

  /** WFI/WFE/SEV/SEVL/YIELD/NOP hints (CRm:op2 value). Returns non-zero when the block must end. */
  helperHint(hint: number): number {
    switch (hint) {
      case 2: // WFE
        if (this.eventRegister) { this.eventRegister = false; return 0; }
        return this.waitForInterrupt(true);
      case 3: // WFI
        return this.waitForInterrupt(false);
      case 4: // SEV: wake every PE (the VM propagates it)
        this.onSev?.();
        return 0;
      case 5: // SEVL
        this.eventRegister = true;
        return 0;
      default:
        return 0;
    }
  }
  onSev?: () => void;

  private waitForInterrupt(isWfe: boolean): number {
    if (this.interruptPending()) return 0;
    // A WFI/WFE that would wait may trap (AArch64.CheckForWFxTrap): EL0 to EL1 unless SCTLR_EL1.nTWI/nTWE,
    // EL0/EL1 to EL2 under HCR_EL2.TWI/TWE. ISS: CV=1, COND=0b1110, TI=1 for WFE.
    let trapEl = 0;
    if (this.el === 0 && !(this.sysregLo(slotOf('SCTLR_EL1')) & (isWfe ? 1 << 18 : 1 << 16))) trapEl = this.syncTargetEl();
    else if (this.el < 2 && (this.hcrLo() & (isWfe ? 1 << 14 : 1 << 13))) trapEl = 2;
    if (trapEl) {
      this.syncException(Exception.WFX, (1 << 24) | (0xe << 20) | (isWfe ? 1 : 0), false, undefined, trapEl);
      return 1;
    }
    this.pc = this.pc + 4n;
    if (isWfe) {
      // WFE also wakes on events we do not track: another PE's store clearing the global exclusive
      // monitor (Linux's spinlocks and smp_cond_load wait that way) and the timer event stream.
      // So, as QEMU's TCG does, WFE yields the host thread to the other vCPUs instead of sleeping.
      this.yieldRequested = true;
    } else {
      this.halted = true;
    }
    this.requestExit();
    return 1;
  }

  /** WFE ended this vCPU's turn: run() returns so other vCPUs can run. */
  private yieldRequested = false;

  // ---- running ------------------------------------------------------------------------

  /**
   * Runs up to `budget` instructions (block granularity). Returns why it
   * stopped; the caller (the hypervisor layer) handles exits and resumes.
   */
  run(budget: number): CpuStop {
    if (!this.powered) return { reason: 'off' };
    this.runs++;
    this.budget = budget;
    this.updateTbFlags(); // pick up state the VMM or a test changed from TypeScript (CPACR_EL1, CPTR_EL2 ...)
    for (;;) {
      if (this.pendingExit) return { reason: 'exit' };
      if (this.halted) {
        if (!this.interruptPending()) return { reason: 'halted' };
        this.halted = false;
      }
      this.clearExitRequest();
      this.checkInterrupts();
      let r: number;
      try {
        r = this.code.dispatch(this.base);
      } catch (err) {
        // a translation that V8 rejects when it first runs (lazy validation, see cli.ts)
        if (!(err instanceof WebAssembly.CompileError)) throw err;
        this.pendingExit = { kind: 'internal', message: `translated code at 0x${this.pc.toString(16)} did not compile: ${err.message}` };
        continue;
      }
      if (r === 3 /* jump cache miss */) {
        this.code.fillJumpCache(this);
        continue;
      }
      if (r === 2 /* budget */) return { reason: 'budget' };
      if (this.yieldRequested) { this.yieldRequested = false; return { reason: 'budget' }; }
      // exit requested: loop to look at why
      if (this.budget <= 0) return { reason: 'budget' };
    }
  }

  /** Instructions executed in the last `run` (approximate at block granularity). */
  executed(budget: number): number { return budget - this.budget; }
}

/** Side effects of a system register access. */
export interface SysregHook {
  /**
   * Checked before a read or write: returns true when the access traps or is
   * UNDEFINED, after taking that exception (the hook raises it: it knows the syndrome).
   */
  access?: (cpu: Cpu, e: SysregEntry, isRead: boolean, rt: number) => boolean;
  read?: (cpu: Cpu, e: SysregEntry) => bigint;
  /** Replaces the plain store. */
  write?: (cpu: Cpu, e: SysregEntry, v: bigint) => void;
  /** Runs after the plain (masked) store. */
  after?: (cpu: Cpu, e: SysregEntry, v: bigint) => void;
}
