// Generic timer system registers (CNT*), registered on every vCPU by the VM
// (hv/vm.ts createVcpu), as KVM emulates the arch timer in kernel. Counter reads are computed from the host clock in
// the hook; timer registers go to the CPU's CpuTimers (generic-timer.ts), which
// the hypervisor layer connects to the GIC when it creates the vCPU.
//
// Access control (Arm ARM D11.2.2 / the CNT* pseudocode, ARMv8.0, no VHE):
// at EL0, CNTKCTL_EL1 enables the counters (EL0PCTEN, EL0VCTEN; CNTFRQ when
// either is set) and the timers (EL0PTEN, EL0VTEN), else the access traps to
// EL1 (EL2 under HCR_EL2.TGE) with EC 0x18; at EL0 and EL1, CNTHCTL_EL2
// enables the physical counter (EL1PCTEN) and physical timer (EL1PCEN),
// else the access traps to EL2.

import type { Cpu, SysregHook } from '../../cpu/cpu';
import type { SysregEntry } from '../../cpu/system/sysregs';
import { slotOf } from '../../cpu/system/sysregs';
import { Exception } from '../../cpu/system/exceptions';
import { CpuTimers, SystemCounter, TIMER_INDEX } from './generic-timer';

const timers = new WeakMap<Cpu, CpuTimers>();

/** Connects a CPU's timer registers to its timers (hv/vm.ts does this for every vCPU). */
export function connectCpuTimers(cpu: Cpu, t: CpuTimers): void { timers.set(cpu, t); }

/** The CPU's timers; a CPU outside a VM gets a private counter whose timers drive no interrupt. */
export function timersOf(cpu: Cpu): CpuTimers {
  let t = timers.get(cpu);
  if (!t) { t = new CpuTimers(cpu, new SystemCounter(), () => {}); timers.set(cpu, t); }
  return t;
}

const CNTKCTL = slotOf('CNTKCTL_EL1');
const CNTHCTL = slotOf('CNTHCTL_EL2');

const KCTL = { EL0PCTEN: 1 << 0, EL0VCTEN: 1 << 1, EL0VTEN: 1 << 8, EL0PTEN: 1 << 9 } as const;
const HCTL = { EL1PCTEN: 1 << 0, EL1PCEN: 1 << 1 } as const;

/** Takes the EC 0x18 trap of an MRS/MSR (ISS: Op0, Op2, Op1, CRn, Rt, CRm, Direction). */
export function trapSysregAccess(cpu: Cpu, e: SysregEntry, isRead: boolean, rt: number, targetEl: number): void {
  const [op0, op1, crn, crm, op2] = e.enc;
  const iss = (op0 << 20) | (op2 << 17) | (op1 << 14) | (crn << 10) | (rt << 5) | (crm << 1) | (isRead ? 1 : 0);
  cpu.syncException(Exception.SYSREG, iss, false, undefined, targetEl);
}

/** What an access touches, for the trap checks. */
const enum Kind { Frequency, PhysCount, VirtCount, PhysTimer, VirtTimer }

function kindOf(name: string): Kind {
  if (name === 'CNTFRQ_EL0') return Kind.Frequency;
  if (name === 'CNTPCT_EL0') return Kind.PhysCount;
  if (name === 'CNTVCT_EL0') return Kind.VirtCount;
  if (name.startsWith('CNTP_')) return Kind.PhysTimer;
  return Kind.VirtTimer;
}

/** Returns true when the access trapped (or is UNDEFINED) and the exception was taken. */
function accessCnt(cpu: Cpu, e: SysregEntry, isRead: boolean, rt: number): boolean {
  if (cpu.el >= 2) return false;
  const kind = kindOf(e.name);
  if (cpu.el === 0) {
    if (kind === Kind.Frequency && !isRead) { cpu.syncException(Exception.UNKNOWN, 0); return true; } // writable from EL1 up only
    const k = cpu.sysregLo(CNTKCTL);
    const enabled =
      kind === Kind.Frequency ? (k & (KCTL.EL0PCTEN | KCTL.EL0VCTEN)) !== 0 :
      kind === Kind.PhysCount ? (k & KCTL.EL0PCTEN) !== 0 :
      kind === Kind.VirtCount ? (k & KCTL.EL0VCTEN) !== 0 :
      kind === Kind.PhysTimer ? (k & KCTL.EL0PTEN) !== 0 : (k & KCTL.EL0VTEN) !== 0;
    if (!enabled) { trapSysregAccess(cpu, e, isRead, rt, cpu.syncTargetEl()); return true; }
  }
  if (cpu.hasEl2 && (kind === Kind.PhysCount || kind === Kind.PhysTimer)) {
    const h = cpu.sysregLo(CNTHCTL);
    if (!(h & (kind === Kind.PhysCount ? HCTL.EL1PCTEN : HCTL.EL1PCEN))) { trapSysregAccess(cpu, e, isRead, rt, 2); return true; }
  }
  return false;
}

/** CNT{P,V,HP}_{CTL,CVAL,TVAL}: which timer, which view. */
function timerOf(name: string): number {
  if (name.startsWith('CNTP_')) return TIMER_INDEX.phys;
  if (name.startsWith('CNTV_')) return TIMER_INDEX.virt;
  return TIMER_INDEX['hyp-phys'];
}

const COUNTER_HOOK: SysregHook = {
  access: accessCnt,
  // The one hot timer path (Linux's sched_clock): one clock read and one BigInt conversion
  read: (cpu, e) => {
    const t = timersOf(cpu);
    return e.name === 'CNTVCT_EL0' ? t.virtualCount() : t.physicalCount();
  },
};

const FREQUENCY_HOOK: SysregHook = { access: accessCnt };

const TIMER_HOOK: SysregHook = {
  access: (cpu, e, isRead, rt) => (e.minEl === 0 ? accessCnt(cpu, e, isRead, rt) : false),
  read: (cpu, e) => {
    const t = timersOf(cpu);
    const i = timerOf(e.name);
    if (e.name.endsWith('CTL_EL0') || e.name.endsWith('CTL_EL2')) {
      const cond = t.condition(i);
      t.refresh(i); // keeps the output line in step with what the guest just observed
      return BigInt(t.ctl(i) | (cond ? 4 : 0));
    }
    if (e.name.includes('CVAL')) return t.cval(i);
    return t.tval(i);
  },
  write: (cpu, e, v) => {
    const t = timersOf(cpu);
    const i = timerOf(e.name);
    if (e.name.endsWith('CTL_EL0') || e.name.endsWith('CTL_EL2')) t.setCtl(i, Number(v & 3n));
    else if (e.name.includes('CVAL')) t.setCval(i, v);
    else t.setTval(i, v);
  },
};

/** CNTVOFF_EL2 moves the virtual count: the virtual timer's deadline changes. */
const CNTVOFF_HOOK: SysregHook = { after: cpu => timersOf(cpu).refresh(TIMER_INDEX.virt) };

/** Registers the CNT* hooks on one CPU (called from Vm.createVcpu). */
export function installTimerSysregs(cpu: Cpu): void {
  cpu.sysregHooks.set('cntCounter', COUNTER_HOOK);
  cpu.sysregHooks.set('cntFrequency', FREQUENCY_HOOK);
  cpu.sysregHooks.set('cntTimer', TIMER_HOOK);
  cpu.sysregHooks.set('cntvoff', CNTVOFF_HOOK);
  // A CPU reset (PSCI CPU_ON) clears CTL/CVAL in the register slots: drop the outputs and deadlines too
  cpu.resetHooks.push(c => { const t = timers.get(c); if (t) t.refreshAll(); });
}
