import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAsm } from './support/machine';

test('a straight-line block runs and stops at BRK', () => {
  const { vcpu, exit } = runAsm(`
    movz x0, #0x1234
    movk x0, #0xabcd, lsl #16
    add x1, x0, #1
    brk #0
  `);
  assert.equal(exit.reason, 'debug');
  assert.equal(vcpu.getReg(0), 0xabcd1234n);
  assert.equal(vcpu.getReg(1), 0xabcd1235n);
});

test('loads and stores go through the soft-TLB, loops through the jump cache', () => {
  const { vcpu, exit } = runAsm(`
    movz x2, #0x4010, lsl #16   // buffer at 0x40100000
    movz x0, #0
    movz x3, #0
  1:
    add x0, x0, #3
    str x0, [x2]
    ldr x1, [x2]
    add x3, x3, #1
    tbz x3, #7, 1b
    brk #0
  `);
  assert.equal(exit.reason, 'debug', JSON.stringify(exit));
  assert.equal(vcpu.getReg(0), 384n);
  assert.equal(vcpu.getReg(1), 384n);
});
