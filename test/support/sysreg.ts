// MRS/MSR from TypeScript through the same helpers translated code calls.

import assert from 'node:assert/strict';
import type { Cpu } from '../../src/cpu/cpu';
import { SYSREG_BY_NAME } from '../../src/cpu/system/sysregs';

/** Reads a system register; fails the test if the access raised an exception. */
export function mrs(cpu: Cpu, name: string): bigint {
  const e = SYSREG_BY_NAME.get(name)!;
  assert.equal(cpu.helperMrs(e.key, 9), 0, `mrs ${name} raised an exception`);
  return cpu.x(9);
}

/** Writes a system register; fails the test if the access raised an exception. */
export function msr(cpu: Cpu, name: string, v: bigint | number): void {
  const e = SYSREG_BY_NAME.get(name)!;
  cpu.setX(9, BigInt(v));
  assert.equal(cpu.helperMsr(e.key, 9), 0, `msr ${name} raised an exception`);
}
