// The differential oracle itself: QEMU and armvirt agree on what is implemented,
// and the oracle notices when they do not.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareBatch, compareWithOracle, diffStates, formatDivergences, runOracle, runOracleBatch, SCRATCH_BASE, runArmvirt } from './support/oracle';

test('QEMU side: initial state is loaded and final state read back', () => {
  const s = runOracle(`
    add x0, x0, #1
    str x0, [x28, #8]
  `, { x: [41n], nzcv: 0x60000000, v: [undefined, 0x0123456789abcdef_fedcba9876543210n], fpcr: 0x03000000 });
  assert.equal(s.fault, undefined);
  assert.equal(s.x[0], 42n);
  assert.equal(s.x[28], BigInt(SCRATCH_BASE));
  assert.equal(s.nzcv, 0x60000000);
  assert.equal(s.v[1], 0x0123456789abcdef_fedcba9876543210n);
  assert.equal(s.fpcr, 0x03000000);
  assert.equal(new DataView(s.scratch.buffer).getBigUint64(8, true), 42n);
});

test('QEMU side: a case that raises a signal is reported and later cases still run', () => {
  const r = runOracleBatch([{ asm: 'movz x1, #5' }, { asm: 'udf #0' }, { asm: 'movz x2, #7' }]);
  assert.equal(r[0].x[1], 5n);
  assert.match(r[1].fault ?? '', /qemu/);
  assert.equal(r[2].x[2], 7n);
});

test('armvirt side: state set from TypeScript, read back after the snippet', () => {
  const s = runArmvirt('add x3, x3, #2\nstr x3, [x28]', { x: [, , , 40n] });
  assert.equal(s.fault, undefined, s.fault);
  assert.equal(s.x[3], 42n);
  assert.equal(s.scratch[0], 42);
});

test('armvirt side: an exception taken by the snippet is reported as a fault', () => {
  const s = runArmvirt('udf #0');
  assert.match(s.fault ?? '', /EC=0x0 /);
});

test('the implemented base instructions agree with QEMU', () => {
  const mem = new Uint8Array(4096);
  for (let i = 0; i < mem.length; i++) mem[i] = (i * 37 + 11) & 0xff;
  const results = compareBatch([
    { name: 'movz/movk', asm: 'movz x0, #0x1234, lsl #48\nmovk x0, #0xbeef\nmovz w1, #0xffff, lsl #16\nmovk w1, #7, lsl #16' },
    { name: 'add imm', asm: 'add x2, x1, #0xfff\nadd w3, w1, #1, lsl #12\nadd sp, sp, #16\nadd x4, sp, #8', init: { x: [0n, 0xffffffff_fffff000n] } },
    { name: 'ldr/str uimm', asm: 'ldr x0, [x28, #16]\nldr w1, [x28, #4]\nldrb w2, [x28, #4095]\nldrh w3, [x28, #2]\nstr x0, [x28, #512]\nstrb w0, [x28, #4000]\nstrh w0, [x28, #6]\nstr w0, [x28, #1000]', init: { memory: mem } },
    { name: 'branches', asm: 'movz x0, #3\n1: add x1, x1, #5\ncbz x2, 2f\nadd x3, x3, #1\n2: tbnz x0, #1, 3f\nb 4f\n3: movz x0, #0\nb 1b\n4: bl 5f\n5: add x5, x5, #1' },
    { name: 'b.cond', asm: 'b.eq 1f\nmovz x0, #1\n1: b.ne 2f\nmovz x1, #1\n2: b.hs 3f\nmovz x2, #1\n3:', init: { nzcv: 0x40000000 } },
  ]);
  assert.equal(formatDivergences(results), '');
});

test('the oracle reports a divergence readably', () => {
  const qemu = runOracle('add x0, x0, #1\nstr x0, [x28, #24]', { x: [1n] });
  const tampered = { ...qemu, x: [...qemu.x], scratch: qemu.scratch.slice(), nzcv: 0x80000000 };
  tampered.x[0] = 3n;
  tampered.scratch[24] = 9;
  const diff = diffStates(qemu, tampered);
  assert.match(diff, /^x0: qemu=0x0000000000000002 armvirt=0x0000000000000003$/m);
  assert.match(diff, /^nzcv: qemu=nzcv armvirt=Nzcv$/m);
  assert.match(diff, /^mem\[scratch\+0x18\]: qemu=0x0000000000000002 armvirt=0x0000000000000009$/m);
  assert.equal(compareWithOracle('add x0, x0, #1', { x: [1n] }), '');
});

test('an encoding both sides reject counts as agreement, a one-sided fault does not', () => {
  assert.equal(compareBatch([{ asm: 'udf #1' }])[0].diff, '');
  const qemu = runOracle('movz x0, #1');
  assert.match(diffStates(qemu, { ...qemu, fault: 'armvirt: exception' }), /^fault: qemu=none armvirt=armvirt: exception/);
  // Different kinds of fault are a divergence: SIGSEGV under QEMU is not an UNDEF on armvirt.
  const segv = { ...qemu, fault: 'qemu killed by SIGSEGV' };
  assert.equal(diffStates(segv, { ...qemu, fault: 'armvirt: exception EC=0x24 ESR=0x92000046' }), '');
  assert.match(diffStates(segv, { ...qemu, fault: 'armvirt: exception EC=0x0 ESR=0x2000000' }), /^fault: /);
});
