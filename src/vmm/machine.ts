// The VMM: builds a `virt` machine above the hv API (RAM slot, vCPUs, the
// VMM-side devices, kernel/initrd/DTB), then runs the vCPUs from an async
// loop that also serves the Node event loop (console input, timers):
//  - each powered vCPU runs in turn for a slice (round robin);
//  - 'mmio' exits go to the device bus; addresses with no device take a
//    synchronous external abort, as under QEMU's virt with TCG;
//  - when every powered vCPU waits in WFI, the loop sleeps until the next
//    timer deadline (in-kernel timers via Vm.nextDeadline, the RTC alarm) or
//    until input arrives;
//  - otherwise it yields to the event loop every few milliseconds so stdin is read.
// PSCI SYSTEM_OFF ends the run with status 0; SYSTEM_RESET also ends it
// (like QEMU -no-reboot and kvmtool), reporting that the guest asked to reboot.

import { writeFileSync } from 'node:fs';
import { Vm, type Vcpu, type VcpuExit, SLICE_INSTRUCTIONS } from '../hv';
import type { TimeSource } from '../io/clock';
import { VIRT, VIRT_SPI, virtioMmioBase } from '../board/memmap';
import { buildVirtDtb } from '../board/virt-dt';
import { loadKernel, placeInitrdAndDtb, writeDtb, type BootPlan, type RamImage } from '../board/loader';
import { Pl011 } from '../devices/serial/pl011';
import { Pl031 } from '../devices/rtc/pl031';
import { DeviceBus } from './device-bus';
import { VirtioMmioTransport } from '../devices/virtio/mmio-transport';
import { VirtioBlk } from '../devices/virtio/blk';
import type { VirtioDevice } from '../devices/virtio/virtio-device';
import type { BlockBackend } from '../devices/block/block-backend';
import type { IrqLine } from '../io/irq';
import { Console, type ConsoleStreams } from './console';

export interface MachineConfig {
  kernel: Uint8Array;
  initrd?: Uint8Array;
  append?: string;
  memMiB: number;
  cpus: number;
  el2: boolean;
  /** Also write the generated DTB to this file. */
  dtbOut?: string;
  verbose?: boolean;
  /** virtio-blk disks in order (vda, vdb, ...), opened by the caller; the machine closes them when its run ends. */
  disks?: readonly BlockBackend[];
  /** The interactive console: the PL011 (the guest's ttyAMA0, default) or virtio-console (hvc0). */
  console?: 'serial' | 'virtio';
  /** A virtio-rng device, so the guest's CRNG is seeded at once (default true). */
  rng?: boolean;
  /** virtio-mmio transports offer the legacy (version 1) interface, like QEMU's force-legacy. */
  virtioLegacy?: boolean;
}

/** One virtio device on its transport, for the statistics. */
export interface VirtioSlot { slot: number; name: string; transport: VirtioMmioTransport }

/** Run the loop at most this long before yielding to the Node event loop (ms). */
const YIELD_INTERVAL_MS = 4;
/** MMIO exits one vCPU may take per turn before the next vCPU runs (guests polling a register). */
const MAX_EXITS_PER_TURN = 2048;

export class VirtMachine {
  readonly vm: Vm;
  readonly vcpus: Vcpu[];
  readonly bus = new DeviceBus();
  readonly uart: Pl011;
  readonly rtc: Pl031;
  /** The virtio devices, by transport slot. */
  readonly virtio: VirtioSlot[] = [];

  readonly plan: BootPlan;
  readonly dtb: Uint8Array;
  /** Guest accesses to addresses with no device (faulted), by address. */
  readonly unassigned = new Map<number, number>();
  private readonly timeSources: TimeSource[] = [];
  private console: Console | undefined;
  private exitCode: number | undefined;
  private wakeUp: (() => void) | undefined;
  /** A wake-up (interrupt, input, power change) arrived while nobody waited: the next wait returns at once. */
  private wakePending = false;
  private startedAt = 0;

  /** Builds the machine; throws LoadError (bad images) or Error (bad configuration). */
  constructor(readonly config: MachineConfig) {
    const ramBytes = config.memMiB * (1 << 20);
    this.vm = new Vm({ ramBytes, el2: config.el2 });
    const ram: RamImage = { base: VIRT.RAM_BASE, bytes: this.vm.mapMemory(VIRT.RAM_BASE, ramBytes) };
    this.vcpus = Array.from({ length: config.cpus }, () => this.vm.createVcpu());

    this.uart = new Pl011({
      transmit: b => this.console?.write(b),
      setIrq: this.irqLine('pl011', VIRT_SPI.UART),
      rxSpaceAvailable: () => this.console?.deliverPending(),
    });
    this.rtc = new Pl031({ setIrq: this.irqLine('pl031', VIRT_SPI.RTC) });
    this.bus.add('pl011', VIRT.UART.base, VIRT.UART.size, this.uart);
    this.bus.add('pl031', VIRT.RTC.base, VIRT.RTC.size, this.rtc);
    this.timeSources.push(this.rtc);
    const disks = config.disks ?? [];
    disks.forEach((disk, i) => this.addVirtio(`virtio-blk.${i} (vd${String.fromCharCode(0x61 + i)})`, new VirtioBlk(disk)));

    const kernel = loadKernel(config.kernel, ram);
    // The DTB's size does not depend on where the initrd lands (fixed-width cells), so a
    // first build sizes it and the final one names the initrd's real address.
    const dtbConfig = { ramBytes, cpus: config.cpus, el2: config.el2, bootargs: config.append ?? '', virtioSlots: this.virtio.map(v => v.slot) };
    const probe = buildVirtDtb({ ...dtbConfig, initrd: config.initrd ? { start: 0, end: 0 } : undefined });
    this.plan = placeInitrdAndDtb(kernel, ram, config.initrd, probe.length);
    this.dtb = buildVirtDtb({ ...dtbConfig, initrd: this.plan.initrd });
    writeDtb(this.plan, ram, this.dtb);
    if (config.dtbOut) writeFileSync(config.dtbOut, this.dtb);

    // Boot CPU state per booting.rst: x0 = DTB, x1-x3 = 0, MMU off, DAIF masked
    // (the vCPU's reset state), at EL2 when implemented. Secondaries wait for PSCI CPU_ON.
    const boot = this.vcpus[0];
    boot.pc = BigInt(kernel.entry);
    boot.setReg(0, BigInt(this.plan.dtbAddress));
    for (let r = 1; r <= 3; r++) boot.setReg(r, 0n);
    for (const v of this.vcpus.slice(1)) v.cpu.powered = false;
    this.vm.onWake = () => this.wake();
  }

  /** A device's interrupt line: SPI `spi` of the in-kernel GIC (KVM_IRQ_LINE), its rising edges counted. */
  private irqLine(device: string, spi: number): IrqLine {
    let high = false;
    return level => {
      if (level && !high) this.irqRises.set(device, (this.irqRises.get(device) ?? 0) + 1);
      high = level;
      this.vm.setIrqLine(spi, level);
    };
  }
  private readonly irqRises = new Map<string, number>();

  /** Puts a virtio device on the next free virtio-mmio transport, its interrupt on that slot's SPI. */
  private addVirtio(name: string, device: VirtioDevice): void {
    const slot = this.virtio.length;
    if (slot >= VIRT.VIRTIO_MMIO_COUNT) throw new Error(`at most ${VIRT.VIRTIO_MMIO_COUNT} virtio devices fit on the virt board`);
    if (!this.guestRam) this.guestRam = this.vm.guestMemory();
    const transport = new VirtioMmioTransport(device, this.guestRam, this.irqLine(name, VIRT_SPI.VIRTIO_MMIO + slot),
      { legacy: this.config.virtioLegacy });
    this.bus.add(name, virtioMmioBase(slot), VIRT.VIRTIO_MMIO.size, transport);
    this.virtio.push({ slot, name, transport });
  }
  private guestRam: ReturnType<Vm['guestMemory']> | undefined;

  /** Runs until the guest powers off, the user quits or an error; resolves to the exit status. */
  async run(streams: ConsoleStreams): Promise<number> {
    const term = (this.console = new Console(streams));
    term.attach({
      deliver: bytes => { let n = 0; while (n < bytes.length && this.uart.receive(bytes[n])) n++; return n; },
      quit: () => { this.finish(0, 'armvirt: terminated (Ctrl-A x)\n'); },
      printStats: () => term.message(this.statistics()),
      wake: () => this.wake(),
    });
    this.startedAt = performance.now();
    try {
      let lastYield = performance.now();
      while (this.exitCode === undefined) {
        this.pollTimers(performance.now());
        this.wakePending = false; // the vCPUs are about to run and will see whatever woke us
        let running = 0, halted = 0;
        for (const vcpu of this.vcpus) {
          const state = this.runVcpu(vcpu);
          if (state === 'running') running++;
          else if (state === 'halted') halted++;
          if (this.exitCode !== undefined) break;
        }
        if (this.exitCode !== undefined) break;
        const now = performance.now();
        const deadline = this.pollTimers(now);
        if (running > 0) {
          if (now - lastYield >= YIELD_INTERVAL_MS) {
            term.flush();
            await new Promise<void>(resolve => setImmediate(resolve));
            lastYield = performance.now();
          }
          continue;
        }
        if (halted === 0) {
          this.finish(0, 'armvirt: all vCPUs are powered off\n');
          break;
        }
        term.flush();
        // timers polled after the vCPUs ran may have raised an interrupt: that wakes too (wakePending)
        await this.waitForEvent(deadline - now);
        lastYield = performance.now();
      }
    } finally {
      term.detach();
      this.closeDisks(term);
    }
    return this.exitCode ?? 0;
  }

  /** Runs one vCPU for a turn and handles its exits. */
  private runVcpu(vcpu: Vcpu): 'running' | 'halted' | 'off' {
    const start = vcpu.instructions;
    for (let exits = 0; ; exits++) {
      const exit = vcpu.run(SLICE_INSTRUCTIONS);
      switch (exit.reason) {
        case 'mmio':
          this.handleMmio(vcpu, exit);
          if (exits >= MAX_EXITS_PER_TURN || vcpu.instructions - start >= SLICE_INSTRUCTIONS) return 'running';
          continue;
        case 'intr': return 'running';
        case 'hlt': return 'halted';
        case 'off': return 'off';
        case 'system_event':
          if (exit.type === 'shutdown') this.finish(0);
          else if (exit.type === 'reset') this.finish(0, 'armvirt: the guest requested a reset; exiting\n');
          else this.finish(1, `armvirt: vCPU ${vcpu.index} reported a crash (PSCI SYSTEM_CRASH)\n`);
          return 'off';
        case 'internal_error':
          this.finish(1, `armvirt: internal error on vCPU ${vcpu.index}: ${exit.message}\n`);
          return 'off';
        case 'debug':
          this.finish(1, `armvirt: unexpected debug exit on vCPU ${vcpu.index} at pc 0x${vcpu.pc.toString(16)}\n`);
          return 'off';
      }
    }
  }

  private handleMmio(vcpu: Vcpu, exit: Extract<VcpuExit, { reason: 'mmio' }>): void {
    if (exit.isWrite) {
      if (this.bus.write(exit.pa, exit.size, exit.data, vcpu.index)) { vcpu.completeMmio(); return; }
    } else {
      const value = this.bus.read(exit.pa, exit.size, vcpu.index);
      if (value !== undefined) { vcpu.completeMmio(value); return; }
    }
    // No device: QEMU's virt answers unassigned addresses with a decode error,
    // which TCG turns into a synchronous external abort in the guest.
    const seen = this.unassigned.get(exit.pa) ?? 0;
    this.unassigned.set(exit.pa, seen + 1);
    if (seen === 0 && this.config.verbose) {
      this.console?.message(`armvirt: vCPU ${vcpu.index} ${exit.isWrite ? 'wrote' : 'read'} ${exit.size} byte(s) at unassigned address 0x${exit.pa.toString(16)} (pc 0x${vcpu.pc.toString(16)}): external abort\n`);
    }
    vcpu.injectDataAbort();
  }

  /** Fires due timers (in-kernel and VMM devices); returns the next deadline. */
  private pollTimers(now: number): number {
    let next = this.vm.nextDeadline(now);
    for (const t of this.timeSources) next = Math.min(next, t.nextDeadline(now));
    return next;
  }

  private waitForEvent(ms: number): Promise<void> {
    if (this.wakePending) { this.wakePending = false; return Promise.resolve(); }
    return new Promise(resolve => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => { if (timer) clearTimeout(timer); this.wakeUp = undefined; resolve(); };
      this.wakeUp = done;
      // an infinite wait still needs a live handle: stdin is one, unless it ended
      if (Number.isFinite(ms)) timer = setTimeout(done, Math.max(0, ms));
      else timer = setTimeout(done, 1 << 30);
    });
  }

  private wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.wakePending = true;
  }

  /** Stops the run loop from outside (signals): run() resolves with `code`. */
  stop(code: number, message?: string): void { this.finish(code, message); }

  private finish(code: number, message?: string): void {
    if (this.exitCode !== undefined) return;
    this.exitCode = code;
    if (message) this.console?.message(message);
    this.wake();
  }

  /**
   * Closes the disks: each close waits for its data to reach stable storage
   * (fdatasync), so a clean exit loses nothing; a failure is reported.
   */
  private closeDisks(term: Console): void {
    for (const disk of this.config.disks ?? []) {
      try { disk.close(); } catch (e) {
        term.message(`armvirt: closing a disk failed, its last writes may be lost: ${(e as Error).message}\n`);
        if (this.exitCode === 0) this.exitCode = 1;
      }
    }
  }

  /** The statistics as data (--stats-json): the run, the vCPUs' exits and every device. */
  statisticsReport(): MachineStatistics {
    const seconds = Math.max(1e-9, (performance.now() - this.startedAt) / 1000);
    const exits: Record<string, number> = {};
    let instructions = 0;
    for (const v of this.vcpus) {
      instructions += v.instructions;
      for (const [k, n] of Object.entries(v.exitCounts)) exits[k] = (exits[k] ?? 0) + n;
    }
    const cache = this.vm.cache.stats;
    const virtioByName = new Map(this.virtio.map(v => [v.name, v.transport.stats]));
    const devices: DeviceStatistics[] = this.bus.regions.map(r => {
      const d: DeviceStatistics = { name: r.name, base: r.base, mmioExits: r.accesses, interrupts: this.irqRises.get(r.name) ?? 0 };
      const v = virtioByName.get(r.name);
      if (v) {
        d.notifications = v.notifications; d.configAccesses = v.configAccesses; d.requests = v.requests;
        d.bytesRead = v.bytesRead; d.bytesWritten = v.bytesWritten; d.malformedChains = v.malformedChains; d.internalErrors = v.internalErrors;
      }
      return d;
    });
    return {
      seconds, instructions, exits, devices,
      translation: { regions: cache.translated, modules: cache.modules, translateMs: cache.translateMs, invalidated: cache.invalidated },
      unassignedAccesses: Object.fromEntries([...this.unassigned].map(([a, n]) => [`0x${a.toString(16)}`, n])),
    };
  }

  /** Exit statistics (--stats, Ctrl-A s). */
  statistics(): string {
    const r = this.statisticsReport();
    const lines = [
      `armvirt statistics after ${r.seconds.toFixed(2)} s:`,
      `  instructions: ${r.instructions} (${(r.instructions / r.seconds / 1e6).toFixed(1)} MIPS)`,
      `  regions translated: ${r.translation.regions} in ${r.translation.modules} wasm modules (${r.translation.translateMs.toFixed(0)} ms translating, ${r.translation.invalidated} invalidated)`,
      `  exits: ${Object.entries(r.exits).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`,
      '  devices (MMIO exits, interrupts; virtio: notifies, config accesses, requests, bytes to/from the guest):',
    ];
    for (const d of r.devices) {
      if (d.mmioExits === 0 && d.interrupts === 0) continue;
      let line = `    ${d.name}: ${d.mmioExits} MMIO exits, ${d.interrupts} interrupts`;
      if (d.requests !== undefined) {
        line += `, ${d.notifications} notifies, ${d.configAccesses} config accesses, ${d.requests} requests, ${d.bytesRead} B read, ${d.bytesWritten} B written`;
        if (d.malformedChains) line += `, ${d.malformedChains} malformed`;
        if (d.internalErrors) line += `, ${d.internalErrors} INTERNAL ERRORS`;
      }
      lines.push(line);
    }
    const unassigned = Object.entries(r.unassignedAccesses);
    if (unassigned.length) lines.push(`  unassigned addresses: ${unassigned.map(([a, n]) => `${a} x${n}`).join(', ')}`);
    return lines.join('\n') + '\n';
  }
}

/** One device's counters (--stats-json). */
export interface DeviceStatistics {
  name: string;
  base: number;
  /** Guest accesses to its registers: each is a VM exit to the VMM. */
  mmioExits: number;
  /** Rising edges of its interrupt line (interrupts injected into the GIC). */
  interrupts: number;
  notifications?: number;
  configAccesses?: number;
  requests?: number;
  bytesRead?: number;
  bytesWritten?: number;
  malformedChains?: number;
  internalErrors?: number;
}

export interface MachineStatistics {
  seconds: number;
  instructions: number;
  exits: Record<string, number>;
  devices: DeviceStatistics[];
  translation: { regions: number; modules: number; translateMs: number; invalidated: number };
  unassignedAccesses: Record<string, number>;
}
