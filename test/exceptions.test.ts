// Exception entry and return (EL0-EL2): syndrome, return address and saved
// PSTATE, vector offsets, illegal exception returns, interrupt masking and
// routing (HCR_EL2.IMO/TGE), and traps to EL2 (TWI, TVM, TID3).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAsm, CODE_BASE, ERET_TO_EL1, type RunResult, type RunOptions } from './support/machine';
import { brkVectors } from './support/pagetables';

const VEC1 = 0x4001_0000;
const VEC2 = 0x4002_0000;

/** Runs with BRK-filled vector tables at VBAR_EL1/VBAR_EL2: an exception exits with PC at its vector. */
function run(source: string, options: RunOptions = {}): RunResult {
  return runAsm(`${source}\nbrk #0`, {
    ...options,
    setup: vcpu => {
      brkVectors(vcpu, VEC1);
      vcpu.cpu.setReg('VBAR_EL1', BigInt(VEC1));
      if (options.el2) { brkVectors(vcpu, VEC2); vcpu.cpu.setReg('VBAR_EL2', BigInt(VEC2)); }
      options.setup?.(vcpu);
    },
  });
}

/** Sets HCR_EL2 to `bits` plus RW (EL1 is AArch64) and drops from EL2 to EL1h at the label `el1:`. */
function el1UnderHcr(bits: string): string {
  return `
    mov x0, #(${bits})
    orr x0, x0, #(1 << 31)
    msr hcr_el2, x0
    ${ERET_TO_EL1}`;
}

function state(r: RunResult, el: 1 | 2) {
  assert.equal(r.exit.reason, 'debug', JSON.stringify(r.exit));
  const c = r.vcpu.cpu;
  const esr = c.reg(`ESR_EL${el}`);
  return {
    vector: Number(r.vcpu.pc - BigInt(el === 1 ? VEC1 : VEC2)), el: c.el,
    ec: Number(esr >> 26n), il: Number((esr >> 25n) & 1n), iss: Number(esr & 0x1ffffffn),
    elr: c.reg(`ELR_EL${el}`), spsr: c.reg(`SPSR_EL${el}`),
  };
}

/** Drops from EL1 to EL0 at label `el0` (SPSR = EL0t, interrupts unmasked). */
const TO_EL0 = `
  adr x0, el0
  msr elr_el1, x0
  msr spsr_el1, xzr
  eret
el0:`;

test('SVC from EL0: lower-EL vector, ESR EC 0x15 with the immediate, ELR after the SVC, SPSR = EL0t; SP banked', () => {
  const r = run(`
    movz x1, #0x4050, lsl #16
    msr sp_el0, x1
    ${TO_EL0}
    mov x7, sp
    svc #0x1234`);
  const s = state(r, 1);
  assert.deepEqual([s.vector, s.el, s.ec, s.il, s.iss, s.spsr], [0x400, 1, 0x15, 1, 0x1234, 0n]);
  assert.equal(s.elr, BigInt(CODE_BASE + 4 * 8), 'ELR = the instruction after SVC (the eighth)');
  assert.equal(r.vcpu.getReg(7), 0x4050_0000n, 'EL0 runs on SP_EL0');
  assert.equal(r.vcpu.cpu.reg('SP_EL0'), 0x4050_0000n);
});

test('an illegal exception return sets PSTATE.IL and the next instruction takes an Illegal State exception (EC 0x0e)', () => {
  // ERET to EL2 from EL1 on a CPU without EL2, and to EL0 with SP_EL1 selected (M = 0b0001): both illegal
  for (const spsr of [0x3c9, 0x3c1]) {
    const r = run(`
      adr x0, target
      msr elr_el1, x0
      mov x0, #${spsr}
      msr spsr_el1, x0
      eret
    target:
      nop`);
    const s = state(r, 1);
    assert.deepEqual([s.vector, s.el, s.ec, s.iss], [0x200, 1, 0x0e, 0], `SPSR 0x${spsr.toString(16)}`);
    assert.equal(s.elr, BigInt(CODE_BASE + 4 * 5), 'ELR = the instruction at the ERET target');
    assert.equal(s.spsr, BigInt(0x3c5 | (1 << 20)), 'saved PSTATE: still EL1h, IL set, DAIF from the SPSR');
  }
});

test('IRQ: masked by PSTATE.I at EL1, taken at the next instruction once unmasked', () => {
  const r = run(`
    mov x1, #1
    msr daifclr, #2
    mov x2, #2`, { setup: vcpu => { vcpu.cpu.irqLine = true; } });
  const s = state(r, 1);
  assert.deepEqual([s.vector, s.el], [0x280, 1], 'current EL with SP_ELx, IRQ');
  assert.equal(s.elr, BigInt(CODE_BASE + 8), 'ELR = the instruction after MSR DAIFClr');
  assert.equal(s.spsr, 0x345n, 'SPSR: EL1h with D, A, F still masked and I clear');
  assert.equal(r.vcpu.getReg(2), 0n);
});

test('MSR DAIF: masking and unmasking by register at EL1; the IRQ is taken after the write that unmasks it', () => {
  const r = run(`
    mrs x5, daif              // 0x3c0: all masked at reset
    mov x1, #0x3c0
    msr daif, x1              // masks as before
    mov x1, #0x80
    msr daif, x1              // unmasks D, A and F: the IRQ still waits behind I
    mrs x6, daif
    // twice through the same code, so that the second time the code after the MSR is already
    // translated and in the jump cache: the IRQ must not wait for the next jump-cache miss
    mov x3, #2
  again:
    msr daifset, #0xf
    mov x1, #0x3c0
    sub x3, x3, #1
    cbnz x3, 1f
    mov x1, #0x340            // second time: clears I
  1:
    msr daif, x1              // the IRQ is taken after this instruction the second time
    mov x2, x3
    cbnz x3, again
    mov x2, #2`, { setup: vcpu => { vcpu.cpu.irqLine = true; } });
  const s = state(r, 1);
  assert.equal(r.vcpu.getReg(5), 0x3c0n);
  assert.equal(r.vcpu.getReg(6), 0x80n);
  assert.deepEqual([s.vector, s.el], [0x280, 1]);
  assert.equal(s.elr, BigInt(CODE_BASE + 52), 'ELR = the instruction after the unmasking MSR DAIF');
  assert.equal(s.spsr, 0x345n, 'SPSR: EL1h with D, A, F masked and I clear');
  assert.equal(r.vcpu.getReg(2), 1n, 'x2 from the first time through');
});

test('IRQ routed to EL2 by HCR_EL2.IMO is taken from EL1 although PSTATE.I is set; pending at EL2 it waits', () => {
  const r = run(`
    mov x0, #(1 << 4)
    orr x0, x0, #(1 << 31)
    msr hcr_el2, x0           // IMO: physical IRQs go to EL2
    adr x0, el1
    msr elr_el2, x0
    mov x0, #0x3c5            // EL1h with DAIF all masked
    msr spsr_el2, x0
    msr daifclr, #0           // at EL2 with I masked the IRQ routed here waits
    mov x5, #5
    eret
  el1:
    mov x6, #6`, { el2: true, setup: vcpu => { vcpu.cpu.irqLine = true; } });
  const s = state(r, 2);
  assert.deepEqual([s.vector, s.el], [0x480, 2], 'lower EL (AArch64) IRQ vector of EL2');
  assert.equal(r.vcpu.getReg(5), 5n);
  assert.equal(s.elr, BigInt(CODE_BASE + 4 * 10), 'taken before the first EL1 instruction');
  assert.equal(s.spsr, 0x3c5n);
});

test('virtual IRQ (HCR_EL2.VI with IMO) is taken at EL1 once PSTATE.I is clear', () => {
  const r = run(`${el1UnderHcr('(1 << 4) | (1 << 7)')}
    mrs x4, isr_el1
    msr daifclr, #2
    mov x6, #6`, { el2: true });
  const s = state(r, 1);
  assert.deepEqual([s.vector, s.el], [0x280, 1]);
  assert.equal(r.vcpu.getReg(4), 0x80n, 'ISR_EL1.I shows the virtual IRQ');
  assert.equal(r.vcpu.getReg(6), 0n);
});

test('HCR_EL2.TGE routes EL0 synchronous exceptions to EL2', () => {
  const r = run(`
    mov x0, #(1 << 27)
    orr x0, x0, #(1 << 31)
    msr hcr_el2, x0
    adr x0, el0
    msr elr_el2, x0
    msr spsr_el2, xzr
    eret
  el0:
    svc #7`, { el2: true });
  const s = state(r, 2);
  assert.deepEqual([s.vector, s.el, s.ec, s.iss, s.spsr], [0x400, 2, 0x15, 7, 0n]);
});

test('WFI/WFE traps: HCR_EL2.TWI from EL1 (EC 0x01, CV=1 COND=0xe TI=0), SCTLR_EL1.nTWE=0 from EL0 (TI=1)', () => {
  const r = run(`${el1UnderHcr('1 << 13')}
    wfi`, { el2: true });
  const s = state(r, 2);
  assert.deepEqual([s.vector, s.ec, s.iss], [0x400, 0x01, 0x1e00000]);
  assert.equal(s.elr, BigInt(CODE_BASE + 4 * 8), 'ELR = the WFI');
  const r0 = run(`${TO_EL0}\nwfe`);
  const s0 = state(r0, 1);
  assert.deepEqual([s0.vector, s0.ec, s0.iss], [0x400, 0x01, 0x1e00001]);
});

test('HCR_EL2.TVM/TID3 trap MSR SCTLR_EL1 and MRS ID registers to EL2 with the EC 0x18 syndrome', () => {
  let s = state(run(`${el1UnderHcr('1 << 26')}\nmsr sctlr_el1, x2`, { el2: true }), 2);
  // Op0=3 Op2=0 Op1=0 CRn=1 Rt=2 CRm=0 Direction=0 (write)
  assert.deepEqual([s.vector, s.ec, s.iss], [0x400, 0x18, (3 << 20) | (1 << 10) | (2 << 5)]);
  s = state(run(`${el1UnderHcr('1 << 18')}\nmrs x9, id_aa64mmfr0_el1`, { el2: true }), 2);
  // Op0=3 Op2=0 Op1=0 CRn=0 Rt=9 CRm=7 Direction=1 (read)
  assert.deepEqual([s.ec, s.iss], [0x18, (3 << 20) | (9 << 5) | (7 << 1) | 1]);
  // without the trap bits the same accesses complete at EL1
  const r = run(`${el1UnderHcr('0')}\nmrs x9, id_aa64mmfr0_el1`, { el2: true });
  assert.equal(r.exit.reason, 'debug');
  assert.equal(r.vcpu.cpu.el, 1);
  assert.equal(r.vcpu.getReg(9), r.vcpu.cpu.reg('ID_AA64MMFR0_EL1'));
});

test('DC ZVA at EL1 traps to EL2 with HCR_EL2.TDZ, and zeroes its block without it', () => {
  const setup = (bits: string) => `${el1UnderHcr(bits)}
    movz x3, #0x4010, lsl #16
    mov x5, #-1
    str x5, [x3, #0x28]       // the block's page is now in the soft-TLB for writes
    dc zva, x3
    ldr x4, [x3, #0x28]`;
  const s = state(run(setup('1 << 28'), { el2: true }), 2);
  // Op0=1 Op2=1 Op1=3 CRn=7 Rt=3 CRm=4 Direction=0
  assert.deepEqual([s.ec, s.iss], [0x18, (1 << 20) | (1 << 17) | (3 << 14) | (7 << 10) | (3 << 5) | (4 << 1)]);
  const r = run(setup('0'), { el2: true });
  assert.equal(r.exit.reason, 'debug');
  assert.equal(r.vcpu.cpu.el, 1);
  assert.equal(r.vcpu.getReg(4), 0n);
});

test('HCR_EL2.TID2/TPU/TPC trap CTR_EL0 reads and cache maintenance by VA from EL1; without them they complete', () => {
  const setup = (bits: string) => `${el1UnderHcr(bits)}
    movz x3, #0x4010, lsl #16`;
  const cases = [
    ['1 << 17', 'mrs x4, ctr_el0', (3 << 20) | (1 << 17) | (3 << 14) | (4 << 5) | 1],
    ['1 << 24', 'ic ivau, x3', (1 << 20) | (1 << 17) | (3 << 14) | (7 << 10) | (3 << 5) | (5 << 1)],
    ['1 << 24', 'dc cvau, x3', (1 << 20) | (1 << 17) | (3 << 14) | (7 << 10) | (3 << 5) | (11 << 1)],
    ['1 << 23', 'dc civac, x3', (1 << 20) | (1 << 17) | (3 << 14) | (7 << 10) | (3 << 5) | (14 << 1)],
  ] as const;
  for (const [bits, insn, iss] of cases) {
    const s = state(run(`${setup(bits)}
${insn}`, { el2: true }), 2);
    assert.deepEqual([s.ec, s.iss], [0x18, iss], insn);
    const r = run(`${setup('0')}
${insn}`, { el2: true });
    assert.equal(r.exit.reason, 'debug', insn);
    assert.equal(r.vcpu.cpu.el, 1, insn);
  }
  const r = run(`${setup('0')}
mrs x4, ctr_el0
mrs x5, dczid_el0`, { el2: true });
  assert.equal(r.vcpu.getReg(4), r.vcpu.cpu.reg('CTR_EL0'));
  assert.equal(r.vcpu.getReg(5), 4n, 'DCZID_EL0: 64-byte blocks, DC ZVA permitted');
  assert.equal(run(`${setup('1 << 28')}
mrs x5, dczid_el0`, { el2: true }).vcpu.getReg(5), 0x14n, 'DZP while HCR_EL2.TDZ');
});

test('EL0 traps to EL1: DAIF without SCTLR_EL1.UMA, CTR_EL0 without UCT, DC ZVA without DZE', () => {
  for (const [insn, iss] of [
    ['mrs x3, daif', (3 << 20) | (1 << 17) | (3 << 14) | (4 << 10) | (3 << 5) | (2 << 1) | 1],
    ['mrs x3, ctr_el0', (3 << 20) | (1 << 17) | (3 << 14) | (3 << 5) | 1],
    ['dc zva, x3', (1 << 20) | (1 << 17) | (3 << 14) | (7 << 10) | (3 << 5) | (4 << 1)],
  ] as const) {
    const s = state(run(`${TO_EL0}\n${insn}`), 1);
    assert.deepEqual([s.vector, s.ec, s.iss], [0x400, 0x18, iss], insn);
  }
});
