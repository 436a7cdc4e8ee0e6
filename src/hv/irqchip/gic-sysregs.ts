// The GICv3 CPU interface system registers (ICC_*_EL1/EL2), registered on
// every vCPU by the VM (hv/vm.ts createVcpu): like KVM's vgic, the CPU
// interface belongs to the in-kernel irqchip. They reach the GIC (gicv3.ts)
// through the port the hypervisor layer connects when it attaches the vCPU
// to its GIC; a CPU without one has no system-register GIC interface
// (ID_AA64PFR0_EL1.GIC = 0, ICC_* accesses are UNDEFINED).
//
// Virtualization hook: at EL1 with HCR_EL2.IMO (group 1, common registers)
// or HCR_EL2.FMO (group 0) set, the same encodings address the virtual CPU
// interface (ICV_*). The virtualization work plugs its implementation in
// with setVirtualCpuInterface; until then the physical interface answers.

import type { Cpu, SysregHook } from '../../cpu/cpu';
import type { SysregEntry } from '../../cpu/system/sysregs';
import { Exception } from '../../cpu/system/exceptions';
import type { GicV3, Redistributor } from './gicv3';
import {
  GROUP0, GROUP1, ICC_CTLR_FIXED, ICC_CTLR, FULL_PRIORITY_MASK, MIN_BPR0, MIN_BPR1, runningPriority,
} from './gicv3-cpuif';

/** The GIC a CPU's interface talks to. */
export interface GicPort { gic: GicV3; redist: Redistributor }

/** A replacement for the ICC_* semantics (the ICV_* registers of the virtual CPU interface). */
export interface IccBackend {
  read(cpu: Cpu, e: SysregEntry): bigint;
  write(cpu: Cpu, e: SysregEntry, v: bigint): void;
}

const ports = new WeakMap<Cpu, GicPort>();
const virtualInterfaces = new WeakMap<Cpu, IccBackend>();

export function connectGicCpuInterface(cpu: Cpu, gic: GicV3, redist: Redistributor): void {
  ports.set(cpu, { gic, redist });
  cpu.gicCpuInterface = true;
}

export function gicPortOf(cpu: Cpu): GicPort | undefined { return ports.get(cpu); }

/** ID_AA64PFR0_EL1.GIC: 1 when the system-register interface is present. */
export function hasGicSysregInterface(cpu: Cpu): boolean { return cpu.gicCpuInterface; }

export function setVirtualCpuInterface(cpu: Cpu, backend: IccBackend | undefined): void {
  if (backend) virtualInterfaces.set(cpu, backend); else virtualInterfaces.delete(cpu);
}

/** ICC_SRE_EL1: SRE, DFB, DIB are RAO/WI (no legacy memory-mapped CPU interface). */
const SRE_EL1 = 0x7n;
/** ICC_SRE_EL2: SRE, DFB, DIB and Enable (EL1 may use ICC_SRE_EL1) RAO/WI. */
const SRE_EL2 = 0xfn;

const HCR_FMO = 1 << 3;
const HCR_IMO = 1 << 4;

/** Registers that exist only for writes (a read is UNDEFINED). */
const WRITE_ONLY = new Set(['ICC_EOIR0_EL1', 'ICC_EOIR1_EL1', 'ICC_DIR_EL1', 'ICC_SGI0R_EL1', 'ICC_SGI1R_EL1', 'ICC_ASGI1R_EL1']);

/**
 * HCR_EL2 bits that send each register to the virtual interface at EL1
 * (IHI 0069 12.1: group 0 registers follow FMO, group 1 registers IMO,
 * the common ones either). SGI generation and ICC_SRE_EL1 are not virtualized
 * this way (they trap to EL2 instead, which the virtualization work adds).
 */
const VIRTUAL_ROUTING: Record<string, number> = {
  ICC_IAR0_EL1: HCR_FMO, ICC_EOIR0_EL1: HCR_FMO, ICC_HPPIR0_EL1: HCR_FMO, ICC_BPR0_EL1: HCR_FMO, ICC_AP0R0_EL1: HCR_FMO, ICC_IGRPEN0_EL1: HCR_FMO,
  ICC_IAR1_EL1: HCR_IMO, ICC_EOIR1_EL1: HCR_IMO, ICC_HPPIR1_EL1: HCR_IMO, ICC_BPR1_EL1: HCR_IMO, ICC_AP1R0_EL1: HCR_IMO, ICC_IGRPEN1_EL1: HCR_IMO,
  ICC_CTLR_EL1: HCR_FMO | HCR_IMO, ICC_DIR_EL1: HCR_FMO | HCR_IMO, ICC_PMR_EL1: HCR_FMO | HCR_IMO, ICC_RPR_EL1: HCR_FMO | HCR_IMO,
};

function virtualBackend(cpu: Cpu, e: SysregEntry): IccBackend | undefined {
  if (cpu.el !== 1) return undefined;
  const backend = virtualInterfaces.get(cpu);
  if (!backend) return undefined;
  return (cpu.hcrLo() & (VIRTUAL_ROUTING[e.name] ?? 0)) !== 0 ? backend : undefined;
}

function readIcc(cpu: Cpu, e: SysregEntry): bigint {
  const v = virtualBackend(cpu, e);
  if (v) return v.read(cpu, e);
  const { gic, redist: r } = ports.get(cpu)!;
  const s = r.cpuif;
  switch (e.name) {
    case 'ICC_SRE_EL1': return SRE_EL1;
    case 'ICC_SRE_EL2': return SRE_EL2;
    case 'ICC_CTLR_EL1': return BigInt(ICC_CTLR_FIXED | s.ctlr);
    case 'ICC_PMR_EL1': return BigInt(s.pmr);
    case 'ICC_BPR0_EL1': return BigInt(s.bpr0);
    // With CBPR the group 1 binary point is BPR0's, and BPR1 reads as BPR0 + 1 (saturated)
    case 'ICC_BPR1_EL1': return BigInt(s.ctlr & ICC_CTLR.CBPR ? Math.min(s.bpr0 + 1, 7) : s.bpr1);
    case 'ICC_IGRPEN0_EL1': return s.igrpen0 ? 1n : 0n;
    case 'ICC_IGRPEN1_EL1': return s.igrpen1 ? 1n : 0n;
    case 'ICC_AP0R0_EL1': return BigInt(s.ap0 >>> 0);
    case 'ICC_AP1R0_EL1': return BigInt(s.ap1 >>> 0);
    case 'ICC_RPR_EL1': return BigInt(runningPriority(s));
    case 'ICC_IAR0_EL1': return BigInt(gic.acknowledge(r, GROUP0));
    case 'ICC_IAR1_EL1': return BigInt(gic.acknowledge(r, GROUP1));
    case 'ICC_HPPIR0_EL1': return BigInt(gic.highestPending(r, GROUP0));
    case 'ICC_HPPIR1_EL1': return BigInt(gic.highestPending(r, GROUP1));
    default: return 0n;
  }
}

function writeIcc(cpu: Cpu, e: SysregEntry, value: bigint): void {
  const v = virtualBackend(cpu, e);
  if (v) { v.write(cpu, e, value); return; }
  const { gic, redist: r } = ports.get(cpu)!;
  const s = r.cpuif;
  const lo = Number(value & 0xffffffffn) >>> 0;
  switch (e.name) {
    case 'ICC_SRE_EL1': case 'ICC_SRE_EL2': return; // RAO/WI
    case 'ICC_CTLR_EL1': s.ctlr = lo & (ICC_CTLR.CBPR | ICC_CTLR.EOIMODE); break;
    case 'ICC_PMR_EL1': s.pmr = lo & FULL_PRIORITY_MASK; break;
    case 'ICC_BPR0_EL1': s.bpr0 = Math.max(lo & 7, MIN_BPR0); break;
    case 'ICC_BPR1_EL1': if (!(s.ctlr & ICC_CTLR.CBPR)) s.bpr1 = Math.max(lo & 7, MIN_BPR1); break;
    case 'ICC_IGRPEN0_EL1': s.igrpen0 = (lo & 1) !== 0; break;
    case 'ICC_IGRPEN1_EL1': s.igrpen1 = (lo & 1) !== 0; break;
    case 'ICC_AP0R0_EL1': s.ap0 = lo; break;
    case 'ICC_AP1R0_EL1': s.ap1 = lo; break;
    case 'ICC_EOIR0_EL1': gic.endOfInterrupt(r, GROUP0, lo & 0xffffff); return;
    case 'ICC_EOIR1_EL1': gic.endOfInterrupt(r, GROUP1, lo & 0xffffff); return;
    case 'ICC_DIR_EL1': gic.deactivateInterrupt(r, lo & 0xffffff); return;
    case 'ICC_SGI0R_EL1': gic.sendSgi(r, value, GROUP0); return;
    case 'ICC_SGI1R_EL1': gic.sendSgi(r, value, GROUP1); return;
    // ASGI1R targets Group 1 of the other Security state; with a single security state there is none
    case 'ICC_ASGI1R_EL1': return;
    default: return;
  }
  gic.update(r); // mask, enables, binary point or active priorities changed: re-evaluate the IRQ/FIQ lines
}

/** UNDEFINED without a connected GIC, and for reads of write-only registers. */
function accessIcc(cpu: Cpu, e: SysregEntry, isRead: boolean): boolean {
  if (ports.has(cpu) && !(isRead && WRITE_ONLY.has(e.name))) return false;
  cpu.syncException(Exception.UNKNOWN, 0);
  return true;
}

const ICC_HOOK: SysregHook = { access: accessIcc, read: readIcc, write: writeIcc };

/** Registers the ICC_* hooks on one CPU (called from Vm.createVcpu). */
export function installGicSysregs(cpu: Cpu): void {
  cpu.sysregHooks.set('icc', ICC_HOOK);
}
