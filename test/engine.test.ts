import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAsm, runCode, CODE_BASE } from './support/machine';
import { assemble } from './support/asm';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

test('region chaining: forward and backward branches inside one page', () => {
  // nested loops with forward skips: 64 outer x 8 inner iterations
  const { vcpu, exit } = runAsm(`
    movz x0, #0
    movz x1, #0
  outer:
    movz x2, #0
  inner:
    add x0, x0, #1
    cbz x2, skip      // first inner iteration skips one increment
    add x0, x0, #100
  skip:
    add x2, x2, #1
    tbz x2, #3, inner
    add x1, x1, #1
    tbz x1, #6, outer
    brk #0
  `);
  assert.equal(exit.reason, 'debug');
  assert.equal(vcpu.getReg(1), 64n);
  assert.equal(vcpu.getReg(0), 64n * (8n + 7n * 100n));
});

test('branches leaving the page continue through the dispatcher', () => {
  const { vcpu, exit } = runAsm(`
    movz x0, #0
    bl far
    add x0, x0, #1
    brk #0
    .balign 4096
  far:
    add x0, x0, #10
    ret
  `);
  assert.equal(exit.reason, 'debug');
  assert.equal(vcpu.getReg(0), 11n);
});

test('a store over already-translated code takes effect (self-modifying code)', () => {
  // the patch site first runs "add x0, x0, #1", then is overwritten with "add x0, x0, #16"
  const newInsn = new DataView(assemble('add x0, x0, #16').buffer).getUint32(0, true);
  const { vcpu, exit } = runAsm(`
    movz x0, #0
    movz x3, #0
    adr_site:
    bl site
    movz w4, #${newInsn & 0xffff}
    movk w4, #${newInsn >>> 16}, lsl #16
    movz x5, #${(CODE_BASE + 0x1000) & 0xffff}
    movk x5, #${(CODE_BASE + 0x1000) >>> 16}, lsl #16
    str w4, [x5]
    bl site
    brk #0
    .balign 4096
  site:
    add x0, x0, #1
    ret
  `);
  assert.equal(exit.reason, 'debug');
  assert.equal(vcpu.getReg(0), 17n);
});

test('an unallocated encoding raises Undefined Instruction at the current EL', () => {
  // UDF #0 at EL1: taken to VBAR_EL1 + 0x200 (current EL, SP_ELx), ESR EC=0, ELR = the UDF
  const code = assemble(`
    movz x1, #0x4009, lsl #16   // VBAR_EL1 = 0x40090000
    msr vbar_el1, x1
    udf #0
    .balign 0x10000
    .skip 0x200
    brk #1
  `);
  const { vcpu, exit } = runCode(code);
  assert.equal(exit.reason, 'debug');
  assert.equal(vcpu.pc, 0x40090200n);
  assert.equal(vcpu.cpu.reg('ESR_EL1') >> 26n, 0n);
  assert.equal(vcpu.cpu.reg('ELR_EL1'), BigInt(CODE_BASE + 8));
});

test('the time slice ends an endless loop with an intr exit', () => {
  const { vcpu, exit } = runAsm('1: b 1b', { maxInstructions: 1_000_000 });
  assert.equal(exit.reason, 'intr');
  assert.ok(vcpu.instructions >= 1_000_000);
});

test('a block ending in ERET leaves the region instead of running again', () => {
  // ERET back to the instruction after it (ELR = label), SPSR = EL1h with interrupts masked;
  // the add before ERET must run once
  const { vcpu, exit } = runAsm(`
    movz x0, #0
    adr x1, after
    msr elr_el1, x1
    movz x2, #0x3c5
    msr spsr_el1, x2
    b region
  region:
    add x0, x0, #1
    eret
  after:
    brk #0
  `);
  assert.equal(exit.reason, 'debug');
  assert.equal(vcpu.getReg(0), 1n);
});

test('stores to data on a page with code do not retranslate the code; stores over code do', () => {
  // a loop whose counter lives on its own code page
  const { vm, vcpu, exit } = runAsm(`
    adr x5, counter
    movz x0, #0
  1:
    ldr x1, [x5]
    add x1, x1, #1
    str x1, [x5]
    add x0, x0, #1
    tbz x0, #10, 1b
    brk #0
    .balign 8
  counter:
    .quad 0
  `);
  assert.equal(exit.reason, 'debug');
  assert.equal(vcpu.getReg(1), 1024n);
  assert.equal(vm.cache.stats.invalidated, 0);
});

test('an error inside a load/store helper reaches the caller (the dispatcher catches only failed guest accesses)', () => {
  const failing = () => runAsm(`
    movz x3, #0x4010, lsl #16
    ldr x4, [x3]
    brk #0
  `, {
    setup: vcpu => {
      vcpu.cpu.access.load = () => { throw new Error('helper bug'); };
    },
  });
  assert.throws(failing, /helper bug/);
});

test('the inline soft-TLB form of loads and stores (ARMVIRT_INLINE_TLB=1) passes the load/store tests', () => {
  const r = spawnSync(process.execPath, ['--test', join(__dirname, 'load-store.test.js')], {
    env: { ...process.env, ARMVIRT_INLINE_TLB: '1', NODE_TEST_CONTEXT: undefined }, encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stdout.slice(-3000));
  assert.match(r.stdout, /# fail 0/);
});

test('repeated loads and stores of general registers hit the soft-TLB (register and pair access functions)', () => {
  // 1,000 rounds of LDR/STR/LDP/STP with offset, pre- and post-index addressing on one page of data
  const { vcpu, exit } = runAsm(`
    movz x9, #0
    movz x1, #0x4010, lsl #16    // data page
    movz x2, #1000
  loop:
    add x9, x9, #1
    stp x9, x2, [x1, #-16]!
    ldp x3, x4, [x1], #16
    str w9, [x1, #8]
    ldrsb w5, [x1, #8]
    ldr x6, [x1, #8]
    subs x2, x2, #1
    b.ne loop
    brk #0
  `);
  assert.equal(exit.reason, 'debug');
  assert.equal(vcpu.getReg(3), 1000n);
  assert.equal(vcpu.getReg(4), 1n);
  assert.equal(vcpu.getReg(5), BigInt(1000 & 0xff) | (1000n & 0x80n ? 0xffffff00n : 0n));
  assert.equal(vcpu.getReg(6), 1000n);
  assert.equal(vcpu.getReg(1), 0x4010_0000n);
  // one miss per page and access kind, not one per access
  assert.ok(vcpu.cpu.stats.tlbMisses < 10, `${vcpu.cpu.stats.tlbMisses} soft-TLB misses`);
});

test('exclusive stores to a page in the soft-TLB (the wasm fast path): success, and failure after a change, CLREX or at another address', () => {
  const { vcpu, exit } = runAsm(`
    movz x1, #0x4010, lsl #16
    str xzr, [x1]             // the page gets a soft-TLB write entry
    str xzr, [x1, #8]
    mov x2, #100
  inc:                        // 100 atomic increments
    ldxr x3, [x1]
    add x3, x3, #1
    stxr w4, x3, [x1]
    cbnz w4, inc
    subs x2, x2, #1
    b.ne inc
    ldr x5, [x1]
    ldxr w6, [x1]             // the value changes between LDXR and STXR: fails
    mov w7, #7
    str w7, [x1]
    stxr w8, w6, [x1]
    ldxr x6, [x1]             // CLREX: fails
    clrex
    stxr w9, x6, [x1]
    ldxr x6, [x1]             // another address: fails
    add x13, x1, #8
    stxr w10, x6, [x13]
    ldxrb w6, [x1]            // byte-sized, unchanged: succeeds
    add w6, w6, #1
    stxrb w11, w6, [x1]
    ldr x12, [x1]
    brk #0
  `);
  assert.equal(exit.reason, 'debug');
  assert.equal(vcpu.getReg(5), 100n);
  assert.deepEqual([8, 9, 10, 11].map(r => vcpu.getReg(r)), [1n, 1n, 1n, 0n]);
  assert.equal(vcpu.getReg(12), 8n, 'the failed STXRs stored nothing; the byte STXR stored 7 + 1');
});
