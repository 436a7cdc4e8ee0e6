// A minimal machine for CPU tests: RAM at 0x40000000, code loaded at
// 0x40080000, run until BRK (guest debugging makes BRK exit to the test).

import { Vm, type Vcpu, type VcpuExit } from '../../src/hv/vm';
import { assemble } from './asm';

export const RAM_BASE = 0x4000_0000;
export const CODE_BASE = 0x4008_0000;

export interface RunResult { vm: Vm; vcpu: Vcpu; exit: VcpuExit }

export interface RunOptions {
  el2?: boolean;
  ramBytes?: number;
  /** Set registers etc. before running. */
  setup?: (vcpu: Vcpu) => void;
  /** Instruction budget before giving up (guards against runaway tests). */
  maxInstructions?: number;
}

/**
 * Assembly that drops from EL2 to EL1h with DAIF masked (SPSR_EL2 0x3c5),
 * continuing at the label `el1:` it ends with. EL1 runs AArch64 only with
 * HCR_EL2.RW set, which the caller does.
 */
export const ERET_TO_EL1 = `
    adr x0, el1
    msr elr_el2, x0
    mov x0, #0x3c5
    msr spsr_el2, x0
    eret
  el1:`;

/** Runs raw A64 code until BRK, an exit the test harness does not handle, or the budget. */
export function runCode(code: Uint8Array, options: RunOptions = {}): RunResult {
  const ramBytes = options.ramBytes ?? 16 << 20;
  const vm = new Vm({ ramBytes, el2: options.el2 ?? false });
  const ram = vm.mapMemory(RAM_BASE, ramBytes);
  ram.set(code, CODE_BASE - RAM_BASE);
  const vcpu = vm.createVcpu();
  vcpu.setGuestDebug(true);
  vcpu.pc = BigInt(CODE_BASE);
  vcpu.cpu.sp = BigInt(RAM_BASE + ramBytes - 16);
  options.setup?.(vcpu);
  const max = options.maxInstructions ?? 10_000_000;
  for (;;) {
    const exit = vcpu.run();
    if (exit.reason === 'intr' && vcpu.instructions < max) continue;
    return { vm, vcpu, exit };
  }
}

/** Assembles and runs; the source should end with `brk #0`. */
export function runAsm(source: string, options: RunOptions = {}): RunResult {
  return runCode(assemble(source), options);
}
