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
import { EmptyVirtioTransport } from '../devices/virtio/empty-transport';
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
}

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
      setIrq: level => this.vm.setIrqLine(VIRT_SPI.UART, level),
      rxSpaceAvailable: () => this.console?.deliverPending(),
    });
    this.rtc = new Pl031({ setIrq: level => this.vm.setIrqLine(VIRT_SPI.RTC, level) });
    this.bus.add('pl011', VIRT.UART.base, VIRT.UART.size, this.uart);
    this.bus.add('pl031', VIRT.RTC.base, VIRT.RTC.size, this.rtc);
    this.timeSources.push(this.rtc);
    for (let i = 0; i < VIRT.VIRTIO_MMIO_COUNT; i++) {
      this.bus.add(`virtio-mmio.${i}`, virtioMmioBase(i), VIRT.VIRTIO_MMIO.size, new EmptyVirtioTransport());
    }

    const kernel = loadKernel(config.kernel, ram);
    // The DTB's size does not depend on where the initrd lands (fixed-width cells), so a
    // first build sizes it and the final one names the initrd's real address.
    const dtbConfig = { ramBytes, cpus: config.cpus, el2: config.el2, bootargs: config.append ?? '' };
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

  /** Exit statistics (--stats, Ctrl-A s). */
  statistics(): string {
    const seconds = Math.max(1e-9, (performance.now() - this.startedAt) / 1000);
    const exits: Record<string, number> = {};
    let instructions = 0;
    for (const v of this.vcpus) {
      instructions += v.instructions;
      for (const [k, n] of Object.entries(v.exitCounts)) exits[k] = (exits[k] ?? 0) + n;
    }
    const lines = [
      `armvirt statistics after ${seconds.toFixed(2)} s:`,
      `  instructions: ${instructions} (${(instructions / seconds / 1e6).toFixed(1)} MIPS)`,
      `  regions translated: ${this.vm.cache.stats.translated} in ${this.vm.cache.stats.modules} wasm modules (${this.vm.cache.stats.translateMs.toFixed(0)} ms translating, ${this.vm.cache.stats.invalidated} invalidated)`,
      `  exits: ${Object.entries(exits).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`,
      `  MMIO by device: ${this.bus.regions.filter(r => r.accesses > 0).map(r => `${r.name} ${r.accesses}`).join(', ') || 'none'}`,
    ];
    if (this.unassigned.size) lines.push(`  unassigned addresses: ${[...this.unassigned].map(([a, n]) => `0x${a.toString(16)} x${n}`).join(', ')}`);
    return lines.join('\n') + '\n';
  }
}
