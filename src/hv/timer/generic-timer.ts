// The Arm generic timer (Arm ARM D11): a system counter running at CNTFRQ
// and, per CPU, comparators whose output is a level-sensitive PPI into the
// CPU's GIC redistributor. In-kernel like KVM's arch timer.
//
// The counter derives from the host monotonic clock (performance.now()),
// counting at 62.5 MHz as on QEMU's virt board, from 0 at VM creation.
// Timer registers (CTL, CVAL) live in the CPU's system-register slots, so a
// CPU reset or a KVM-style register write is seen; this module keeps, per
// timer, the host time at which its condition becomes true (`deadline`) so
// that the hypervisor can fire it with one comparison per run() slice and
// the VMM can sleep until the earliest one while every vCPU is halted.

import type { Cpu } from '../../cpu/cpu';
import type { TimeSource } from '../../io/clock';
import { slotOf } from '../../cpu/system/sysregs';

export const CNTFRQ_HZ = 62_500_000;
export const TICKS_PER_MS = CNTFRQ_HZ / 1000;

const MASK64 = 0xffffffffffffffffn;

/** CNT*_CTL_EL0 bits. */
export const CNT_CTL = { ENABLE: 1, IMASK: 2, ISTATUS: 4 } as const;

/** The system counter of one VM. */
export class SystemCounter {
  readonly epochMs: number;
  constructor(now = performance.now()) { this.epochMs = now; }
  /** Physical count now (an integer below 2^53: 4.5 years of counting). */
  count(now = performance.now()): number { return Math.floor((now - this.epochMs) * TICKS_PER_MS); }
  /** Host time (performance.now() ms) at which the physical count reaches `ticks`. */
  timeOf(ticks: number): number { return this.epochMs + ticks / TICKS_PER_MS; }
}

/**
 * One comparator. `offset` says whether it compares with the virtual count
 * (physical count - CNTVOFF_EL2). The EL2 virtual timer (CNTHV_*, FEAT_VHE)
 * would be one more row with its own PPI (28 on QEMU virt).
 */
export interface TimerDef {
  name: 'phys' | 'virt' | 'hyp-phys';
  ctl: string;
  cval: string;
  /** GIC INTID of its output, as QEMU's virt board wires it (ARCH_TIMER_*_PPI + 16). */
  intid: number;
  virtual: boolean;
}

export const TIMERS: readonly TimerDef[] = [
  { name: 'phys', ctl: 'CNTP_CTL_EL0', cval: 'CNTP_CVAL_EL0', intid: 30, virtual: false },
  { name: 'virt', ctl: 'CNTV_CTL_EL0', cval: 'CNTV_CVAL_EL0', intid: 27, virtual: true },
  { name: 'hyp-phys', ctl: 'CNTHP_CTL_EL2', cval: 'CNTHP_CVAL_EL2', intid: 26, virtual: false },
];
export const TIMER_INDEX = { phys: 0, virt: 1, 'hyp-phys': 2 } as const;

/** Drives a PPI of the CPU's redistributor. */
export type TimerLine = (intid: number, level: boolean) => void;

/** The timers of one CPU. */
export class CpuTimers {
  /** Host time at which each timer's output goes high (Infinity: disabled, masked, or already high). */
  readonly deadline = new Float64Array(TIMERS.length).fill(Infinity);
  readonly output: boolean[] = TIMERS.map(() => false);
  private readonly ctlSlot = TIMERS.map(t => slotOf(t.ctl));
  private readonly cvalSlot = TIMERS.map(t => slotOf(t.cval));
  private static readonly CNTVOFF = slotOf('CNTVOFF_EL2');

  constructor(readonly cpu: Cpu, readonly counter: SystemCounter, private readonly line: TimerLine,
    private readonly deadlineChanged: (ms: number) => void = () => {}) {}

  /** CNTVOFF_EL2, which only exists with EL2 (the virtual count equals the physical count otherwise). */
  virtualOffset(): bigint { return this.cpu.hasEl2 ? this.cpu.sysreg(CpuTimers.CNTVOFF) : 0n; }

  physicalCount(): bigint { return BigInt(this.counter.count()); }
  virtualCount(): bigint { return (BigInt(this.counter.count()) - this.virtualOffset()) & MASK64; }
  countFor(i: number): bigint { return TIMERS[i].virtual ? this.virtualCount() : this.physicalCount(); }

  ctl(i: number): number { return this.cpu.sysregLo(this.ctlSlot[i]) & (CNT_CTL.ENABLE | CNT_CTL.IMASK); }
  cval(i: number): bigint { return this.cpu.sysreg(this.cvalSlot[i]); }

  /** ISTATUS: enabled and the count has reached CVAL (unsigned 64-bit compare). */
  condition(i: number): boolean {
    return (this.ctl(i) & CNT_CTL.ENABLE) !== 0 && this.countFor(i) >= this.cval(i);
  }

  setCtl(i: number, v: number): void {
    this.cpu.setSysregSlot(this.ctlSlot[i], BigInt(v & (CNT_CTL.ENABLE | CNT_CTL.IMASK)));
    this.refresh(i);
  }

  setCval(i: number, v: bigint): void {
    this.cpu.setSysregSlot(this.cvalSlot[i], v & MASK64);
    this.refresh(i);
  }

  /** TVAL view: CVAL - count as a signed 32-bit value. */
  tval(i: number): bigint { return (this.cval(i) - this.countFor(i)) & 0xffffffffn; }
  setTval(i: number, v: bigint): void { this.setCval(i, this.countFor(i) + BigInt.asIntN(32, v)); }

  /**
   * Recomputes timer `i`'s output from its registers and the count, and when
   * the output is low but will rise, the host time at which it does.
   */
  refresh(i: number): void {
    const ctl = this.ctl(i);
    let out = false;
    let deadline = Infinity;
    if (ctl & CNT_CTL.ENABLE) {
      const now = this.counter.count();
      const count = TIMERS[i].virtual ? (BigInt(now) - this.virtualOffset()) & MASK64 : BigInt(now);
      const cval = this.cval(i);
      if (count >= cval) out = (ctl & CNT_CTL.IMASK) === 0;
      else if (!(ctl & CNT_CTL.IMASK)) deadline = this.counter.timeOf(now + Number(cval - count));
    }
    this.deadline[i] = deadline;
    if (deadline !== Infinity) this.deadlineChanged(deadline);
    if (out !== this.output[i]) {
      this.output[i] = out;
      this.line(TIMERS[i].intid, out);
    }
  }

  refreshAll(): void { for (let i = 0; i < TIMERS.length; i++) this.refresh(i); }

  /** Fires the timers due at `now`; returns this CPU's next deadline. */
  poll(now: number): number {
    let next = Infinity;
    for (let i = 0; i < TIMERS.length; i++) {
      if (this.deadline[i] <= now) this.refresh(i);
      if (this.deadline[i] < next) next = this.deadline[i];
    }
    return next;
  }
}

/** The generic timers of a VM: one counter, the timers of every vCPU. */
export class GenericTimers implements TimeSource {
  readonly counter = new SystemCounter();
  readonly cpus: CpuTimers[] = [];
  /** Lower bound of every armed deadline (may be stale-early, never late). */
  private earliest = Infinity;

  attachCpu(cpu: Cpu, line: TimerLine): CpuTimers {
    const t = new CpuTimers(cpu, this.counter, line, ms => { if (ms < this.earliest) this.earliest = ms; });
    this.cpus[cpu.index] = t;
    return t;
  }

  /** TimeSource: fires every timer due at `now`, returns the next deadline (Infinity: none armed). */
  nextDeadline(now: number): number {
    let next = Infinity;
    for (const t of this.cpus) if (t) next = Math.min(next, t.poll(now));
    this.earliest = next;
    return next;
  }

  /** The cheap per-slice check: one clock read and one comparison unless something is due. */
  poll(): void {
    if (this.earliest === Infinity) return;
    const now = performance.now();
    if (now >= this.earliest) this.nextDeadline(now);
  }
}
