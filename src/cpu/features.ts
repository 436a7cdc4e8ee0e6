// What this CPU implements, as the ID registers report it. Every Cpu gets
// `installCpuFeatures` (called from hv/vm.ts createVcpu), which registers
// the read hooks of feature ID registers and the TypeScript operations of
// the optional extensions. Engineers adding an extension add its fields
// here, so the ID registers only ever advertise what the translator does.

import type { Cpu } from './cpu';
import { installSimdHelpers } from './a64/simd-common';
import { installSystemRegs } from './system/system-registers';
import { installSystemOps } from './system/system-operations';
import { installFpSupport } from './fp/scalar-ops';

/**
 * ID_AA64ISAR0_EL1 fields, by bit position -> value. AES=2 means AESE/AESD/
 * AESMC/AESIMC plus PMULL/PMULL2 on 64-bit elements; SHA1, SHA2 and CRC32
 * are the ARMv8.0 optional crypto/CRC instructions (cpu/a64/crypto.ts).
 */
export const ISAR0_FIELDS: Array<{ name: string; shift: number; value: number }> = [
  { name: 'AES', shift: 4, value: 2 },
  { name: 'SHA1', shift: 8, value: 1 },
  { name: 'SHA2', shift: 12, value: 1 },
  { name: 'CRC32', shift: 16, value: 1 },
];

function composeFields(fields: Array<{ shift: number; value: number }>): bigint {
  let v = 0n;
  for (const f of fields) v |= BigInt(f.value) << BigInt(f.shift);
  return v;
}

/**
 * ID_AA64PFR0_EL1 as this CPU implements it: EL0, EL1 (and EL2 when present)
 * AArch64 only (value 1), no EL3 (firmware is emulated), FP=0 and AdvSIMD=0
 * meaning "implemented" (0xf would mean absent).
 */
export function pfr0Value(cpu: Cpu): bigint {
  return composeFields([
    { shift: 0, value: 1 }, // EL0
    { shift: 4, value: 1 }, // EL1
    { shift: 8, value: cpu.hasEl2 ? 1 : 0 }, // EL2
    { shift: 16, value: 0 }, // FP
    { shift: 20, value: 0 }, // AdvSIMD
    { shift: 24, value: cpu.gicCpuInterface ? 1 : 0 }, // GIC: system-register CPU interface (GICv3) once a GIC is attached
  ]);
}

/** Registers the feature ID hooks and extension helpers on one Cpu (idempotent). */
export function installCpuFeatures(cpu: Cpu): void {
  installFpSupport(cpu); // the shared FP operation table, FPCR/FPSR hooks
  installSimdHelpers(cpu);
  installSystemRegs(cpu); // PSTATE views, translation control, traps, the MMU table walker
  installSystemOps(cpu); // TLBI, AT, DC, IC
  const isar0 = composeFields(ISAR0_FIELDS);
  cpu.sysregHooks.set('idAa64isar0', { read: () => isar0 });
  // Another module (e.g. the GIC work adding the system-register interface field) may own PFR0.
  if (!cpu.sysregHooks.has('idAa64pfr0')) cpu.sysregHooks.set('idAa64pfr0', { read: c => pfr0Value(c) });
}
