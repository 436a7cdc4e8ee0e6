// The KVM-style hypervisor API. A Vm owns guest memory (slots of one
// WebAssembly.Memory), the shared translation cache and its vCPUs; a Vcpu's
// run() executes guest code until something needs the VMM: an MMIO access
// to an address no in-kernel device claims, a PSCI system event, a halt
// (WFI with nothing pending) or the end of its time slice. Like KVM, the
// interrupt controller, timers and PSCI are "in kernel" (irqchip/, timer/,
// psci.ts); UART, RTC and virtio live in the VMM above this API.

import { Cpu } from '../cpu/cpu';
import { CodeCache, makeHelpers } from '../cpu/jit/engine';
import { a64Decoder } from '../cpu/a64';
import { installCpuFeatures } from '../cpu/features';
import { MMIO_EXIT, type PhysicalBus } from '../cpu/bus';
import { GUEST_RAM_WASM_BASE, MAX_VCPUS, PAGE_SIZE } from '../cpu/state';
import type { AccessSize, MmioRegion } from '../io/mmio';
import type { TimeSource } from '../io/clock';
import { SlotMemory, type GuestMemory } from '../io/guest-memory';
import { handlePsci, type PsciHost, type PsciVcpu } from './psci';
import { GicV3, GIC_VIRT_LAYOUT, type GicLayout } from './irqchip/gicv3';
import type { IrqChip } from './irqchip/irqchip';
import { GenericTimers } from './timer/generic-timer';
import { connectGicCpuInterface, installGicSysregs } from './irqchip/gic-sysregs';
import { connectCpuTimers, installTimerSysregs } from './timer/timer-sysregs';

const WASM_PAGE = 65536;
/** Largest wasm32 memory V8 accepts (4 GiB). */
const MAX_WASM_PAGES = 65536;

export interface MemorySlot { gpa: number; size: number; wasm: number }

export type VcpuExit =
  | { reason: 'mmio'; pa: number; size: number; isWrite: boolean; data: bigint }
  | { reason: 'system_event'; type: 'shutdown' | 'reset' | 'crash' }
  | { reason: 'hlt' } // halted in WFI/WFE; resume after an interrupt is injected or a timer is due
  | { reason: 'intr' } // time slice over; the VMM may poll its event sources
  | { reason: 'debug' } // BRK hit while guest debugging is enabled; PC points at the BRK
  | { reason: 'off' } // powered off (PSCI CPU_OFF, or a secondary not yet started)
  | { reason: 'internal_error'; message: string };

export interface VmOptions {
  /** Total bytes of guest RAM that will be mapped (reserved in wasm memory up front). */
  ramBytes: number;
  /** EL2 implemented: vCPUs reset into EL2 (virtualization=on). */
  el2?: boolean;
  /**
   * The in-kernel GICv3 and generic timers (KVM_CREATE_DEVICE vgic-v3 + arch timer):
   * at QEMU virt's addresses by default, elsewhere with a layout, none with `false`.
   */
  irqchip?: boolean | GicLayout;
}

export class Vm implements PhysicalBus, PsciHost {
  readonly memory: WebAssembly.Memory;
  readonly slots: MemorySlot[] = [];
  readonly vcpus: Vcpu[] = [];
  /** The vCPUs' CPUs (shared with each as cpu.peers). */
  private readonly cpus: Cpu[] = [];
  /** In-kernel MMIO devices (answered without a VMM exit); 8-byte accesses reach them whole. */
  readonly devices: MmioRegion[] = [];
  readonly cache: CodeCache;
  readonly el2: boolean;
  private nextWasm = GUEST_RAM_WASM_BASE;
  private readonly limit: number;
  /** Called when a vCPU changes power state or an interrupt is injected (the VMM may wake a waiting loop). */
  onWake?: () => void;
  /** The in-kernel interrupt controller; filled by the GICv3 model (absent: device interrupts are dropped). */
  irqchip?: IrqChip;
  /** In-kernel timers (the generic timer model registers here). */
  readonly timeSources: TimeSource[] = [];
  /** The in-kernel GICv3 (absent with `irqchip: false`). */
  readonly gic?: GicV3;
  /** The generic timers of every vCPU (present with the GIC: their outputs are PPIs). */
  readonly timers?: GenericTimers;

  constructor(options: VmOptions) {
    if (!(options.ramBytes > 0)) throw new Error('guest RAM size must be positive');
    const bytes = GUEST_RAM_WASM_BASE + Math.ceil(options.ramBytes / WASM_PAGE) * WASM_PAGE;
    const pages = bytes / WASM_PAGE;
    if (pages > MAX_WASM_PAGES) throw new Error(`guest RAM of ${options.ramBytes >> 20} MiB exceeds the ${(MAX_WASM_PAGES * WASM_PAGE - GUEST_RAM_WASM_BASE) >> 20} MiB a wasm32 memory can hold`);
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    this.limit = bytes;
    this.el2 = options.el2 ?? true;
    this.cache = new CodeCache(this.memory, a64Decoder(), makeHelpers(() => this.cache));
    if (options.irqchip !== false) {
      const layout = options.irqchip === undefined || options.irqchip === true ? GIC_VIRT_LAYOUT : options.irqchip;
      const gic = new GicV3({ ...layout, onWake: () => this.wake() });
      this.gic = gic;
      this.irqchip = gic;
      this.addDevice(gic.distributor);
      this.addDevice(gic.redistributorRegion);
      this.timers = new GenericTimers();
      this.timeSources.push(this.timers);
    }
  }

  /** KVM_SET_USER_MEMORY_REGION: maps `size` bytes of RAM at guest-physical `gpa`; returns a view of it. */
  mapMemory(gpa: number, size: number): Uint8Array {
    if (gpa % PAGE_SIZE || size % PAGE_SIZE || size <= 0) throw new Error('memory slots must be page aligned and non-empty');
    if (this.slots.some(s => gpa < s.gpa + s.size && s.gpa < gpa + size)) throw new Error('memory slot overlaps an existing one');
    if (this.nextWasm + size > this.limit) throw new Error('memory slot exceeds the RAM reserved for this VM');
    const slot = { gpa, size, wasm: this.nextWasm };
    this.nextWasm += size;
    this.slots.push(slot);
    return new Uint8Array(this.memory.buffer, slot.wasm, size);
  }

  /**
   * Guest RAM by guest-physical address, as the VMM's devices see it for DMA
   * (virtio rings and buffers): views of the slots mapped so far, bounds-checked.
   */
  guestMemory(): GuestMemory {
    return new SlotMemory(this.slots.map(s => ({ gpa: s.gpa, bytes: new Uint8Array(this.memory.buffer, s.wasm, s.size) })));
  }

  /** KVM_CREATE_VCPU. */
  createVcpu(): Vcpu {
    const index = this.vcpus.length;
    if (index >= MAX_VCPUS) throw new Error(`at most ${MAX_VCPUS} vCPUs are supported`);
    const cpu = new Cpu({ index, memory: this.memory, bus: this, hasEl2: this.el2, mpidr: BigInt(index) });
    installCpuFeatures(cpu);
    // the in-kernel GIC CPU interface and timer registers (UNDEFINED / inert without an irqchip)
    installGicSysregs(cpu);
    installTimerSysregs(cpu);
    this.cpus.push(cpu);
    cpu.peers = this.cpus; // broadcast TLB maintenance (TLBI *IS) reaches every vCPU
    this.cache.attach(cpu);
    const gic = this.gic;
    if (gic && this.timers) {
      const redist = gic.attachCpu(cpu);
      connectGicCpuInterface(cpu, gic, redist);
      connectCpuTimers(cpu, this.timers.attachCpu(cpu, (intid, level) => gic.setPrivateLevel(cpu.index, intid, level)));
      // CPU reset (PSCI CPU_ON) resets the CPU interface, as QEMU's ICC reset does; the redistributor keeps its state
      cpu.resetHooks.push(() => { redist.cpuif.reset(); gic.update(redist); });
    }
    cpu.onSev = () => { for (const v of this.vcpus) { v.cpu.eventRegister = true; } };
    const vcpu = new Vcpu(this, cpu);
    this.vcpus.push(vcpu);
    return vcpu;
  }

  /** Registers an in-kernel MMIO device (answered without a VMM exit). */
  addDevice(dev: MmioRegion): void { this.devices.push(dev); }

  /** KVM_IRQ_LINE for an SPI: VMM devices drive their interrupt lines through this. */
  setIrqLine(spi: number, level: boolean): void {
    this.irqchip?.setSpiLevel(spi, level);
  }

  /** Fires the in-kernel timers that are due: called before every vCPU run slice (one clock read). */
  pollTimers(): void { this.timers?.poll(); }

  /**
   * Raises the in-kernel timer interrupts due now and returns when the next
   * one is due (performance.now() ms; Infinity when no timer is armed).
   */
  nextDeadline(now = performance.now()): number {
    let next = Infinity;
    for (const t of this.timeSources) next = Math.min(next, t.nextDeadline(now));
    return next;
  }

  // ---- PhysicalBus --------------------------------------------------------------------

  private lastSlot: MemorySlot | undefined;

  private slotFor(pa: number): MemorySlot | undefined {
    const l = this.lastSlot;
    if (l && pa >= l.gpa && pa < l.gpa + l.size) return l;
    for (const s of this.slots) if (pa >= s.gpa && pa < s.gpa + s.size) return (this.lastSlot = s);
    return undefined;
  }

  ramOffset(pa: number): number {
    const s = this.slotFor(pa);
    return s ? s.wasm + (pa - s.gpa) : -1;
  }

  ramExtent(pa: number): number {
    const s = this.slotFor(pa);
    return s ? s.gpa + s.size - pa : 0;
  }

  private deviceAt(pa: number): MmioRegion | undefined {
    for (const d of this.devices) if (pa >= d.base && pa < d.base + d.size) return d;
    return undefined;
  }

  mmioRead(cpuIndex: number, pa: number, size: number, out: Uint32Array): number {
    const d = this.deviceAt(pa);
    if (!d) return MMIO_EXIT;
    const v = d.device.read(pa - d.base, size as AccessSize, cpuIndex);
    if (typeof v === 'bigint') { out[0] = Number(v & 0xffffffffn); out[1] = Number((v >> 32n) & 0xffffffffn); }
    else { out[0] = v >>> 0; out[1] = 0; }
    return 0;
  }

  mmioWrite(cpuIndex: number, pa: number, size: number, lo: number, hi: number): number {
    const d = this.deviceAt(pa);
    if (!d) return MMIO_EXIT;
    d.device.write(pa - d.base, size as AccessSize, size === 8 ? (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0) : lo >>> 0, cpuIndex);
    return 0;
  }

  // ---- PsciHost ------------------------------------------------------------------------

  vcpuByMpidr(mpidr: bigint): Vcpu | undefined {
    return this.vcpus.find(v => v.cpu.mpidr === (mpidr & 0xff00ffffffn));
  }

  wake(): void { this.onWake?.(); }
}

/** Instructions per run() slice: short enough to poll timers and input every ~0.5 ms. */
export const SLICE_INSTRUCTIONS = 200_000;

export class Vcpu implements PsciVcpu {
  /** Instructions executed by this vCPU (block granularity). */
  instructions = 0;
  readonly exitCounts: Record<string, number> = {};
  /** Set by PSCI SYSTEM_OFF/RESET: the next run() reports it. */
  systemEvent: 'shutdown' | 'reset' | 'crash' | null = null;

  constructor(readonly vm: Vm, readonly cpu: Cpu) {}

  get index(): number { return this.cpu.index; }

  /** KVM_RUN: runs until an exit the VMM must see. */
  run(slice = SLICE_INSTRUCTIONS): VcpuExit {
    const exit = this.runInner(slice);
    this.exitCounts[exit.reason] = (this.exitCounts[exit.reason] ?? 0) + 1;
    return exit;
  }

  private runInner(slice: number): VcpuExit {
    const cpu = this.cpu;
    for (;;) {
      if (this.systemEvent) { const type = this.systemEvent; this.systemEvent = null; return { reason: 'system_event', type }; }
      this.vm.pollTimers();
      const stop = cpu.run(slice);
      this.instructions += cpu.executed(slice);
      if (stop.reason === 'budget') return { reason: 'intr' };
      if (stop.reason === 'halted') return { reason: 'hlt' };
      if (stop.reason === 'off') return { reason: 'off' };
      const pe = cpu.pendingExit!;
      switch (pe.kind) {
        case 'mmio': {
          const data = pe.isWrite ? (BigInt(pe.hi >>> 0) << 32n) | BigInt(pe.lo >>> 0) : 0n;
          return { reason: 'mmio', pa: pe.pa, size: pe.size, isWrite: pe.isWrite, data };
        }
        case 'firmware':
          cpu.pendingExit = null;
          handlePsci(this.vm, this);
          continue;
        case 'debug':
          cpu.pendingExit = null;
          return { reason: 'debug' };
        case 'internal':
          cpu.pendingExit = null;
          return { reason: 'internal_error', message: pe.message };
      }
    }
  }

  /** Completes the MMIO exit just returned (for reads, with the data the device produced). */
  completeMmio(data: bigint | number = 0): void {
    const v = BigInt.asUintN(64, BigInt(data));
    this.cpu.access.completeMmio(Number(v & 0xffffffffn), Number(v >> 32n));
  }

  /**
   * Answers the MMIO exit just returned with a synchronous external abort
   * (no device at that address; KVM_SET_VCPU_EVENTS ext_dabt_pending).
   */
  injectDataAbort(): void { this.cpu.access.failMmio(); }

  /** KVM_SET_GUEST_DEBUG with software breakpoints: BRK exits with reason 'debug'. */
  setGuestDebug(enabled: boolean): void { this.cpu.trapBreakpoints = enabled; }

  getReg(n: number): bigint { return this.cpu.x(n); }
  setReg(n: number, v: bigint): void { this.cpu.setX(n, v); }
  get pc(): bigint { return this.cpu.pc; }
  set pc(v: bigint) { this.cpu.pc = v; }
}
