// Generic timer: counters from the host clock, CTL/CVAL/TVAL semantics,
// the PPI into the GIC, deadlines for the VMM, and the EL0/EL2 access traps.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAsm, ERET_TO_EL1 } from './support/machine';
import { Vm } from '../src/hv/vm';
import { CNTFRQ_HZ } from '../src/hv/timer/generic-timer';
import { assemble } from './support/asm';
import { mrs, msr } from './support/sysreg';


function sleep(ms: number): void { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); }

/** GIC setup for PPI 27 (EL1 virtual timer) and an IRQ vector that acknowledges into x0 and stops. */
const GIC_AND_VECTORS = `
    adr x0, vectors
    msr vbar_el1, x0
    movz x2, #0x0800, lsl #16
    mov w0, #0x13
    str w0, [x2]                  // GICD_CTLR: ARE, group 1 on
    movz x3, #0x080a, lsl #16     // RD_base of CPU 0
    str wzr, [x3, #0x14]          // GICR_WAKER: awake
    add x4, x3, #0x10000
    mov w0, #-1
    str w0, [x4, #0x80]           // IGROUPR0: group 1
    mov w0, #(1 << 27) | (1 << 30)
    str w0, [x4, #0x100]          // ISENABLER0: virtual + physical timer PPIs
    mov x0, #0xf0
    msr icc_pmr_el1, x0
    mov x0, #1
    msr icc_igrpen1_el1, x0
    isb
`;
const VECTORS = `
    .balign 0x800
  vectors:
    .skip 0x280
    mrs x0, icc_iar1_el1           // IRQ, current EL with SP_ELx
    brk #1
`;

test('CNTV_TVAL with a small value raises PPI 27: the IRQ is taken and ICC_IAR1_EL1 returns 27', () => {
  const { vcpu, exit } = runAsm(`
    ${GIC_AND_VECTORS}
    movz x0, #0xc4b4              // 312500 ticks = 5 ms: the loop surely runs first
    movk x0, #0x4, lsl #16
    msr cntv_tval_el0, x0
    mov x0, #1                    // ENABLE, not masked
    msr cntv_ctl_el0, x0
    msr daifclr, #2
    mov x5, #0
  1: add x5, x5, #1
    b 1b
    ${VECTORS}
  `, { maxInstructions: 500_000_000 });
  assert.equal(exit.reason, 'debug', JSON.stringify(exit));
  assert.equal(vcpu.getReg(0), 27n);
  assert.ok(vcpu.getReg(5) > 0n, 'the loop ran before the interrupt');
  const cpu = vcpu.cpu;
  assert.equal(mrs(cpu, 'CNTV_CTL_EL0'), 5n, 'ENABLE with ISTATUS');
  assert.equal(mrs(cpu, 'ICC_RPR_EL1'), 0n, 'priority 0 active');
  // Masking the timer drops its line; EOI then leaves nothing pending
  msr(cpu, 'CNTV_CTL_EL0', 3);
  msr(cpu, 'ICC_EOIR1_EL1', 27);
  assert.equal(cpu.irqLine, false);
  assert.equal(mrs(cpu, 'ICC_HPPIR1_EL1'), 1023n);
});

test('the physical timer reaches PPI 30 through CNTP_CVAL', () => {
  const { vcpu, exit } = runAsm(`
    ${GIC_AND_VECTORS}
    mrs x0, cntpct_el0
    add x0, x0, #3125             // 50 us ahead
    msr cntp_cval_el0, x0
    mov x0, #1
    msr cntp_ctl_el0, x0
    msr daifclr, #2
  1: b 1b
    ${VECTORS}
  `, { maxInstructions: 500_000_000 });
  assert.equal(exit.reason, 'debug', JSON.stringify(exit));
  assert.equal(vcpu.getReg(0), 30n);
});

test('counters count at CNTFRQ from the host clock; TVAL counts down and goes negative', () => {
  const vm = new Vm({ ramBytes: 1 << 20, el2: true });
  const cpu = vm.createVcpu().cpu;
  assert.equal(mrs(cpu, 'CNTFRQ_EL0'), BigInt(CNTFRQ_HZ));
  const t0 = performance.now();
  const c0 = mrs(cpu, 'CNTPCT_EL0');
  sleep(20);
  const c1 = mrs(cpu, 'CNTPCT_EL0');
  const elapsed = performance.now() - t0;
  const ticks = Number(c1 - c0);
  assert.ok(ticks > 0.9 * 20 * 62_500 && ticks <= (elapsed + 1) * 62_500, `${ticks} ticks in ${elapsed} ms`);
  // CNTVOFF_EL2 shifts the virtual count
  msr(cpu, 'CNTVOFF_EL2', 1_000_000);
  const p = mrs(cpu, 'CNTPCT_EL0');
  const v = mrs(cpu, 'CNTVCT_EL0');
  const p2 = mrs(cpu, 'CNTPCT_EL0');
  assert.ok(v >= p - 1_000_000n && v <= p2 - 1_000_000n, `virtual ${v} vs physical ${p}..${p2}`);
  // TVAL = CVAL - count (signed 32-bit)
  msr(cpu, 'CNTV_TVAL_EL0', 1_000_000);
  const cval = mrs(cpu, 'CNTV_CVAL_EL0');
  assert.ok(cval > v + 1_000_000n - 1n && cval < v + 1_000_000n + 62_500n * 50n);
  const tv = Number(BigInt.asIntN(32, mrs(cpu, 'CNTV_TVAL_EL0')));
  assert.ok(tv <= 1_000_000 && tv > 0);
  msr(cpu, 'CNTV_CVAL_EL0', 0);
  assert.ok(Number(BigInt.asIntN(32, mrs(cpu, 'CNTV_TVAL_EL0'))) < 0, 'expired: negative TVAL');
});

test('ISTATUS and IMASK: the output is ENABLE && !IMASK && ISTATUS, level-sensitive into the redistributor', () => {
  const vm = new Vm({ ramBytes: 1 << 20 });
  const cpu = vm.createVcpu().cpu;
  const redist = vm.gic!.redists[0];
  msr(cpu, 'CNTP_CVAL_EL0', 0); // already reached
  assert.equal(mrs(cpu, 'CNTP_CTL_EL0'), 0n, 'disabled: ISTATUS reads 0');
  msr(cpu, 'CNTP_CTL_EL0', 3); // enabled, masked
  assert.equal(mrs(cpu, 'CNTP_CTL_EL0'), 7n);
  assert.equal(redist.level & (1 << 30), 0, 'masked: line low');
  msr(cpu, 'CNTP_CTL_EL0', 1);
  assert.equal(redist.level & (1 << 30), 1 << 30, 'unmasked: line high');
  msr(cpu, 'CNTP_CTL_EL0', 0xff); // only ENABLE/IMASK are writable
  assert.equal(mrs(cpu, 'CNTP_CTL_EL0'), 7n);
  msr(cpu, 'CNTP_TVAL_EL0', 0x7fffffff); // far in the future: condition false again
  assert.equal(mrs(cpu, 'CNTP_CTL_EL0'), 3n);
  msr(cpu, 'CNTP_CTL_EL0', 1);
  assert.equal(redist.level & (1 << 30), 0);
  // PSCI CPU_ON-style reset clears the timer and its line
  msr(cpu, 'CNTP_CVAL_EL0', 0);
  assert.equal(redist.level & (1 << 30), 1 << 30);
  cpu.reset();
  assert.equal(redist.level & (1 << 30), 0);
});

test('Vm.nextDeadline reports the earliest armed timer and fires it when due; a timer wakes WFI', () => {
  const { vcpu, vm } = runAsm(`
    ${GIC_AND_VECTORS}
    mov x0, #0x1000000            // 16,777,216 ticks: 268 ms, long enough not to be due when checked
    msr cntv_tval_el0, x0
    mov x0, #1
    msr cntv_ctl_el0, x0
    msr daifclr, #2
  1: wfi
    b 1b
    ${VECTORS}
  `, { maxInstructions: 1_000 });
  // runAsm returned at the WFI halt
  assert.equal(vcpu.cpu.halted, true);
  const now = performance.now();
  const deadline = vm.nextDeadline(now);
  assert.ok(deadline > now && deadline <= now + 269, `deadline ${deadline - now} ms ahead`);
  assert.equal(vcpu.cpu.halted, true, 'not due yet');
  let woken = 0;
  vm.onWake = () => { woken++; };
  sleep(Math.ceil(deadline - performance.now()) + 1);
  assert.equal(vm.nextDeadline(), Infinity, 'fired, nothing else armed');
  assert.equal(woken, 1);
  assert.equal(vcpu.cpu.halted, false);
  const exit = vcpu.run();
  assert.equal(exit.reason, 'debug');
  assert.equal(vcpu.getReg(0), 27n);
});

test('EL0 access needs CNTKCTL_EL1 enables, else traps to EL1 with EC 0x18', () => {
  const { vcpu, exit } = runAsm(`
    adr x0, vectors
    msr vbar_el1, x0
    mov x0, #2                    // EL0VCTEN only
    msr cntkctl_el1, x0
    adr x0, el0
    msr elr_el1, x0
    msr spsr_el1, xzr             // EL0t
    eret
  el0:
    mrs x1, cntvct_el0            // allowed
    mrs x2, cntpct_el0            // traps
    brk #0
    .balign 0x800
  vectors:
    .skip 0x400                   // lower EL, AArch64, synchronous
    mrs x3, esr_el1
    brk #1
  `);
  assert.equal(exit.reason, 'debug');
  assert.ok(vcpu.getReg(1) > 0n);
  const esr = vcpu.getReg(3);
  assert.equal(esr >> 26n, 0x18n);
  // ISS: Op0=3 Op2=1 Op1=3 CRn=14 Rt=2 CRm=0 read
  assert.equal(esr & 0x1ffffffn, (3n << 20n) | (1n << 17n) | (3n << 14n) | (14n << 10n) | (2n << 5n) | 1n);
});

test('CNTHCTL_EL2.EL1PCTEN/EL1PCEN = 0 trap EL1 physical counter/timer accesses to EL2', () => {
  const code = assemble(`
    adr x0, vectors
    msr vbar_el2, x0
    msr cnthctl_el2, xzr
    mov x0, #(1 << 31)            // HCR_EL2.RW: EL1 is AArch64
    msr hcr_el2, x0
    ${ERET_TO_EL1}
    mrs x1, cntvct_el0            // the virtual counter is not trapped
    msr cntp_ctl_el0, xzr         // traps
    brk #0
    .balign 0x800
  vectors:
    .skip 0x400
    mrs x3, esr_el2
    brk #1
  `);
  const vm = new Vm({ ramBytes: 1 << 20, el2: true });
  const ram = vm.mapMemory(0x4000_0000, 1 << 20);
  ram.set(code, 0);
  const vcpu = vm.createVcpu();
  vcpu.setGuestDebug(true);
  vcpu.pc = 0x4000_0000n;
  const exit = vcpu.run();
  assert.equal(exit.reason, 'debug');
  const esr = vcpu.getReg(3);
  assert.equal(esr >> 26n, 0x18n, `ESR_EL2 ${esr.toString(16)}`);
  // ISS: Op0=3 Op2=1 Op1=3 CRn=14 Rt=31 CRm=2 write
  assert.equal(esr & 0x1ffffffn, (3n << 20n) | (1n << 17n) | (3n << 14n) | (14n << 10n) | (31n << 5n) | (2n << 1n));
});
