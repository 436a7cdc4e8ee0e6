// PSCI 1.1 and SMCCC 1.1, answered by the hypervisor layer as KVM does for
// its guests (and as EL3 firmware does on hardware). Function IDs and return
// codes from Arm DEN0022 (PSCI) and DEN0028 (SMCCC).

import type { Cpu } from '../cpu/cpu';

export const PSCI = {
  VERSION: 0x84000000,
  CPU_SUSPEND_32: 0x84000001,
  CPU_SUSPEND_64: 0xc4000001,
  CPU_OFF: 0x84000002,
  CPU_ON_32: 0x84000003,
  CPU_ON_64: 0xc4000003,
  AFFINITY_INFO_32: 0x84000004,
  AFFINITY_INFO_64: 0xc4000004,
  MIGRATE_INFO_TYPE: 0x84000006,
  SYSTEM_OFF: 0x84000008,
  SYSTEM_RESET: 0x84000009,
  FEATURES: 0x8400000a,
  SMCCC_VERSION: 0x80000000,
  SMCCC_ARCH_FEATURES: 0x80000001,
} as const;

export const PSCI_RET = {
  SUCCESS: 0, NOT_SUPPORTED: -1, INVALID_PARAMETERS: -2, DENIED: -3, ALREADY_ON: -4,
  ON_PENDING: -5, INTERNAL_FAILURE: -6, NOT_PRESENT: -7, DISABLED: -8, INVALID_ADDRESS: -9,
} as const;

/** What a PSCI call needs of the vCPU that made it (hv/vm.ts's Vcpu). */
export interface PsciVcpu {
  readonly cpu: Cpu;
  /** Set by SYSTEM_OFF/RESET: the vCPU's next exit reports it. */
  systemEvent: 'shutdown' | 'reset' | 'crash' | null;
}

/** What a PSCI call needs of the VM (hv/vm.ts's Vm). */
export interface PsciHost {
  vcpuByMpidr(mpidr: bigint): PsciVcpu | undefined;
  wake(): void;
}

const SUPPORTED = new Set<number>([
  PSCI.VERSION, PSCI.CPU_SUSPEND_32, PSCI.CPU_SUSPEND_64, PSCI.CPU_OFF, PSCI.CPU_ON_32, PSCI.CPU_ON_64,
  PSCI.AFFINITY_INFO_32, PSCI.AFFINITY_INFO_64, PSCI.MIGRATE_INFO_TYPE, PSCI.SYSTEM_OFF, PSCI.SYSTEM_RESET,
  PSCI.FEATURES, PSCI.SMCCC_VERSION,
]);

/** Handles the firmware call the vCPU just made (function ID in W0, arguments in X1..X3). */
export function handlePsci(vm: PsciHost, vcpu: PsciVcpu): void {
  const cpu = vcpu.cpu;
  const fn = cpu.xLo(0);
  const ret = (v: number | bigint) => cpu.setX(0, BigInt(v));
  switch (fn) {
    case PSCI.VERSION: return ret(0x10001); // 1.1
    case PSCI.SMCCC_VERSION: return ret(0x10001); // 1.1
    case PSCI.SMCCC_ARCH_FEATURES: return ret(PSCI_RET.NOT_SUPPORTED);
    case PSCI.MIGRATE_INFO_TYPE: return ret(2); // trusted OS not present / no migration needed
    case PSCI.FEATURES: return ret(SUPPORTED.has(cpu.xLo(1)) ? 0 : PSCI_RET.NOT_SUPPORTED);
    case PSCI.CPU_SUSPEND_32:
    case PSCI.CPU_SUSPEND_64:
      // a standby power state: behave as WFI (the return is a wake-up)
      ret(0);
      cpu.halted = !cpu.interruptPending();
      if (cpu.halted) cpu.requestExit();
      return;
    case PSCI.CPU_OFF:
      cpu.powered = false;
      cpu.requestExit();
      vm.wake();
      return;
    case PSCI.CPU_ON_32:
    case PSCI.CPU_ON_64: {
      const target = vm.vcpuByMpidr(cpu.x(1));
      if (!target) return ret(PSCI_RET.INVALID_PARAMETERS);
      if (target.cpu.powered) return ret(PSCI_RET.ALREADY_ON);
      const entry = fn === PSCI.CPU_ON_32 ? cpu.x(2) & 0xffffffffn : cpu.x(2);
      const context = fn === PSCI.CPU_ON_32 ? cpu.x(3) & 0xffffffffn : cpu.x(3);
      const t = target.cpu;
      t.reset();
      t.pc = entry;
      t.setX(0, context);
      t.powered = true;
      ret(0);
      vm.wake();
      return;
    }
    case PSCI.AFFINITY_INFO_32:
    case PSCI.AFFINITY_INFO_64: {
      if (cpu.xLo(2) !== 0) return ret(PSCI_RET.INVALID_PARAMETERS); // only level 0 is supported
      const target = vm.vcpuByMpidr(cpu.x(1));
      if (!target) return ret(PSCI_RET.INVALID_PARAMETERS);
      return ret(target.cpu.powered ? 0 : 1); // ON : OFF
    }
    case PSCI.SYSTEM_OFF:
      vcpu.systemEvent = 'shutdown';
      cpu.requestExit();
      return;
    case PSCI.SYSTEM_RESET:
      vcpu.systemEvent = 'reset';
      cpu.requestExit();
      return;
    default:
      return ret(PSCI_RET.NOT_SUPPORTED);
  }
}
