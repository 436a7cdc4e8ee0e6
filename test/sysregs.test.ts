// System registers: PSTATE views, identification (virtualized at EL1 by
// VPIDR/VMPIDR), the RAZ ID space, RES0/RES1 masks, PMU absence, EL0
// access rules.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAsm, ERET_TO_EL1, type RunResult, type RunOptions } from './support/machine';
import { brkVectors } from './support/pagetables';

const VEC1 = 0x4001_0000;

function run(source: string, el2 = false, setup?: RunOptions['setup']): RunResult {
  const r = runAsm(`${source}\nbrk #0`, {
    el2,
    setup: vcpu => { brkVectors(vcpu, VEC1); vcpu.cpu.setReg('VBAR_EL1', BigInt(VEC1)); setup?.(vcpu); },
  });
  assert.equal(r.exit.reason, 'debug', JSON.stringify(r.exit));
  return r;
}
const x = (r: RunResult, n: number) => r.vcpu.getReg(n);

test('PSTATE views: CurrentEL, NZCV, DAIF, SPSel', () => {
  const r = run(`
    mrs x1, currentel
    mov x9, #0
    cmp x9, #1                // N=1 C=0
    mrs x2, nzcv
    mov x0, #(0x6 << 28)
    msr nzcv, x0
    cset x3, eq               // Z from the MSR
    msr daifclr, #0xf
    msr daifset, #0x5
    mrs x4, daif
    msr spsel, #0
    mrs x5, spsel`);
  assert.equal(x(r, 1), 4n, 'EL1');
  assert.equal(x(r, 2), 0x8000_0000n);
  assert.equal(x(r, 3), 1n);
  assert.equal(x(r, 4), 0x140n, 'D and I');
  assert.equal(x(r, 5), 0n);
});

test('identification: MPIDR_EL1 as on QEMU virt; with EL2, EL1 reads VPIDR_EL2/VMPIDR_EL2', () => {
  let r = run('mrs x1, mpidr_el1\nmrs x2, midr_el1');
  assert.equal(x(r, 1), 0x8000_0000n);
  assert.equal(x(r, 2), 0x411f_d073n);
  r = run(`
    mrs x1, vmpidr_el2
    mrs x2, vpidr_el2
    movz x0, #0x8000, lsl #16
    movk x0, #0x0102
    msr vmpidr_el2, x0
    movz x0, #0x4142, lsl #16
    msr vpidr_el2, x0
    mrs x5, mpidr_el1          // at EL2: the real one
    ${ERET_TO_EL1}
    mrs x3, mpidr_el1
    mrs x4, midr_el1`, true);
  assert.deepEqual([x(r, 1), x(r, 2)], [0x8000_0000n, 0x411f_d073n], 'reset values mirror MPIDR/MIDR');
  assert.deepEqual([x(r, 3), x(r, 4), x(r, 5)], [0x8000_0102n, 0x4142_0000n, 0x8000_0000n]);
});

test('ID space: unallocated ID registers read as zero; no PMU (PMUVer=0, PMCR_EL0 UNDEFINED); EL3 not implemented', () => {
  let r = run(`
    mrs x1, S3_0_C0_C6_2      // ID_AA64ISAR2_EL1 (ARMv8.7): RAZ here
    mrs x2, S3_0_C0_C7_3      // ID_AA64MMFR3_EL1
    mrs x3, id_aa64dfr0_el1
    mrs x4, id_aa64pfr0_el1`, true);
  assert.deepEqual([x(r, 1), x(r, 2)], [0n, 0n]);
  assert.equal((x(r, 3) >> 8n) & 0xfn, 0n, 'PMUVer');
  assert.equal(x(r, 4) & 0xffffn, 0x0111n, 'EL0/EL1/EL2 AArch64 only, EL3 absent');
  r = run('mrs x5, S3_3_C9_C12_0 // PMCR_EL0');
  assert.equal(r.vcpu.pc, BigInt(VEC1 + 0x200), 'PMCR_EL0 is UNDEFINED');
  assert.equal(r.vcpu.cpu.reg('ESR_EL1') >> 26n, 0n);
});

test('RES0/RES1: SCTLR_EL1 keeps its RES1 bits, HCR_EL2.RW reads as one, TCR_EL2 RES1', () => {
  const r = run(`
    msr sctlr_el2, xzr
    mrs x1, sctlr_el2
    msr hcr_el2, xzr
    mrs x2, hcr_el2
    mov x0, #-1
    msr sctlr_el1, xzr
    mrs x3, sctlr_el1
    msr tcr_el2, xzr
    mrs x4, tcr_el2
    msr cptr_el2, xzr
    mrs x5, cptr_el2`, true);
  assert.equal(x(r, 1), 0x30c5_0830n);
  assert.equal(x(r, 2), 0x8000_0000n);
  assert.equal(x(r, 3), 0x30d0_0800n);
  assert.equal(x(r, 4), 0x8080_0000n);
  assert.equal(x(r, 5), 0x33ffn);
});

test('EL0: TPIDRRO_EL0 is read-only, SCTLR_EL1 is UNDEFINED; SP_EL0 is UNDEFINED while it is the stack pointer', () => {
  const toEl0 = 'adr x0, el0\nmsr elr_el1, x0\nmsr spsr_el1, xzr\neret\nel0:';
  let r = run(`${toEl0}\nmrs x1, tpidrro_el0\nmsr tpidrro_el0, x1`, false, vcpu => vcpu.cpu.setReg('TPIDRRO_EL0', 0x77n));
  assert.equal(x(r, 1), 0x77n);
  assert.equal(r.vcpu.pc, BigInt(VEC1 + 0x400));
  assert.equal(r.vcpu.cpu.reg('ESR_EL1') >> 26n, 0n);
  r = run(`${toEl0}\nmrs x1, sctlr_el1`);
  assert.equal(r.vcpu.pc, BigInt(VEC1 + 0x400));
  r = run('msr spsel, #0\nmrs x1, sp_el0');
  assert.equal(r.vcpu.pc, BigInt(VEC1 + 0x000), 'current EL with SP_EL0 vector');
  assert.equal(r.vcpu.cpu.reg('ESR_EL1') >> 26n, 0n);
});

test('ISR_EL1 shows the physical IRQ line at EL1 without routing', () => {
  const r = run('mrs x1, isr_el1', false, vcpu => { vcpu.cpu.irqLine = true; });
  assert.equal(x(r, 1), 0x80n);
});

test('SP_EL0, TPIDR_EL1 and TPIDR_EL0 (translated as plain loads and stores) keep what MSR wrote, seen by MRS and by the VMM', () => {
  const r = run(`
    movz x1, #0x1234
    movz x2, #0x5678
    movz x3, #0x9abc
    msr sp_el0, x1
    msr tpidr_el1, x2
    msr tpidr_el0, x3
    mrs x4, sp_el0
    mrs x5, tpidr_el1
    mrs x6, tpidr_el0
    mrs x7, tpidrro_el0
    brk #0
  `, false, vcpu => vcpu.cpu.setReg('TPIDRRO_EL0', 0x42n));
  assert.deepEqual([4, 5, 6, 7].map(n => r.vcpu.getReg(n)), [0x1234n, 0x5678n, 0x9abcn, 0x42n]);
  assert.equal(r.vcpu.cpu.reg('SP_EL0'), 0x1234n);
  assert.equal(r.vcpu.cpu.reg('TPIDR_EL1'), 0x5678n);
});
