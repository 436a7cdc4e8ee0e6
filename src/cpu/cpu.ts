// One ARMv8-A processing element: PSTATE, system registers, exception
// entry/return, interrupts, and the system-instruction helpers translated
// code calls. Its soft-TLB (mmu/soft-tlb.ts) and the slow paths of its
// memory accesses (mmu/memory-access.ts) are objects of their own. Register files and the soft-TLB live in the
// shared WebAssembly.Memory (see state.ts); what is only touched off the hot
// path (PSTATE fields other than NZCV, pending interrupts) lives here.

import { S, vcpuBase, TbFlags, MmuIdx } from './state';
import { ESR_IL, Exception, ExceptionKind, FaultStatus, vectorOffset } from './system/exceptions';
import { Access, PA_BITS, Prot, Translation, TranslationFault } from './mmu/translation';
import { SoftTlb } from './mmu/soft-tlb';
import { MemoryAccess, type MmioExit } from './mmu/memory-access';
import type { PhysicalBus } from './bus';
import { SYSREG_BY_KEY, slotOf, sysregKeyName, type SysregEntry, SYSREGS } from './system/sysregs';

const MASK64 = 0xffffffffffffffffn;

/** Why `Cpu.run` returned. */
export type CpuStop =
  | { reason: 'budget' }
  | { reason: 'exit' } // cpu.pendingExit says why (MMIO, system event, ...)
  | { reason: 'halted' } // WFI/WFE with nothing pending
  | { reason: 'off' }; // powered off (PSCI CPU_OFF or never started)

/** An event that needs the world outside the CPU (the hypervisor layer turns it into a vCPU exit). */
export type PendingExit =
  | MmioExit
  | { kind: 'firmware'; conduit: 'smc' | 'hvc'; imm: number }
  | { kind: 'debug' } // BRK with software breakpoints routed to the VMM (KVM_GUESTDBG_USE_SW_BP)
  | { kind: 'internal'; message: string };

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

/** Translation regime hooks (implemented by mmu/table-walk.ts); default: MMU off. */
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
  /**
   * A GICv3 system-register CPU interface is connected (ID_AA64PFR0_EL1.GIC;
   * set by the hypervisor layer's irqchip when it attaches this vCPU).
   */
  gicCpuInterface = false;

  pendingExit: PendingExit | null = null;
  /** BRK exits to the VMM instead of raising a guest exception (guest debugging). */
  trapBreakpoints = false;
  /** Calls of run() so far (the MMIO replay tells runs apart by it). */
  runs = 0;
  /** The soft-TLB, fetch translations and jump-cache bookkeeping. */
  readonly tlb: SoftTlb;
  /** The slow paths of loads, stores and fetches (walks, faults, MMIO exits and replay). */
  readonly access: MemoryAccess;

  mmu: Mmu = flatMmu;
  code!: CodeCacheHooks;
  /** Side effects of system-register accesses, by hook name (filled by cpu/system-*.ts modules). */
  readonly sysregHooks = new Map<string, SysregHook>();
  /** Optional per-instruction hooks for SYS (TLBI, DC, IC, AT), keyed by sysreg-style key. */
  sysOps = new Map<number, (cpu: Cpu, rt: number) => number>();
  /**
   * Runs before the system-register table on every MRS/MSR/SYS (installed by
   * system/system-registers.ts): traps to EL1/EL2 (HCR_EL2.TVM/TID*, MDCR_EL2, CPTR_EL2,
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


  constructor(config: CpuConfig) {
    this.index = config.index;
    this.base = vcpuBase(config.index);
    this.memory = config.memory;
    this.bus = config.bus;
    this.hasEl2 = config.hasEl2;
    this.mpidr = config.mpidr;
    this.refreshViews();
    this.tlb = new SoftTlb(this);
    this.access = new MemoryAccess(this);
    this.reset();
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
    this.access.forgetReplay();
    this.tlb.flush();
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
    if (this.il) this.tlb.flushJumpCache();
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

  /** Stage 1 (and 2) translation of a virtual address by the current regime, without side effects on failure. */
  translateVa(vaLo: number, vaHi: number, access: Access, el: number, out: Translation, fault: TranslationFault): boolean {
    return this.mmu.translate(this, vaLo, vaHi, access, el, out, fault);
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
