import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Vm } from '../src/hv/vm';
import { assemble } from './support/asm';

const RAM = 0x40000000;

function vmWith(source: string, options: { el2?: boolean; cpus?: number } = {}) {
  const vm = new Vm({ ramBytes: 4 << 20, el2: options.el2 ?? false });
  const ram = vm.mapMemory(RAM, 4 << 20);
  ram.set(assemble(source), 0x80000);
  const vcpus = Array.from({ length: options.cpus ?? 1 }, () => vm.createVcpu());
  vcpus[0].pc = BigInt(RAM + 0x80000);
  for (const v of vcpus.slice(1)) v.cpu.powered = false;
  return { vm, vcpus };
}

test('memory slots are validated', () => {
  const vm = new Vm({ ramBytes: 1 << 20 });
  assert.throws(() => vm.mapMemory(0x1001, 4096), /page aligned/);
  vm.mapMemory(RAM, 512 << 10);
  assert.throws(() => vm.mapMemory(RAM + 4096, 4096), /overlaps/);
  assert.throws(() => vm.mapMemory(0x80000000, 1 << 20), /exceeds/);
  assert.throws(() => new Vm({ ramBytes: 0 }), /positive/);
});

test('MMIO reads and writes exit to the VMM and the access is replayed with its data', () => {
  const { vcpus } = vmWith(`
    movz x1, #0x0900, lsl #16
    movz x2, #0x41
    strb w2, [x1]
    ldr w3, [x1, #0x18]
    add x3, x3, #1
    brk #0
  `);
  const v = vcpus[0];
  v.setGuestDebug(true);
  let exit = v.run();
  assert.deepEqual(exit, { reason: 'mmio', pa: 0x09000000, size: 1, isWrite: true, data: 0x41n });
  v.completeMmio();
  exit = v.run();
  assert.deepEqual(exit, { reason: 'mmio', pa: 0x09000018, size: 4, isWrite: false, data: 0n });
  v.completeMmio(0x90);
  exit = v.run();
  assert.equal(exit.reason, 'debug');
  assert.equal(v.getReg(3), 0x91n);
  assert.equal(v.exitCounts.mmio, 2);
});

test('LDP and STP whose two elements are both MMIO: one exit per element, each replayed once, also in a loop', () => {
  const { vcpus } = vmWith(`
    movz x1, #0x0a00, lsl #16
    mov x5, #2
  again:                      // twice through the same instructions
    ldp w3, w4, [x1]
    stp w4, w3, [x1, #8]
    subs x5, x5, #1
    b.ne again
    brk #0
  `);
  const v = vcpus[0];
  v.setGuestDebug(true);
  const seen: string[] = [];
  let exit = v.run();
  for (let n = 0; exit.reason === 'mmio' && n < 20; n++, exit = v.run()) {
    seen.push(`${exit.isWrite ? 'w' : 'r'} ${exit.pa.toString(16)}${exit.isWrite ? ' ' + exit.data : ''}`);
    v.completeMmio(exit.isWrite ? 0 : exit.pa & 0xff); // a read returns the low byte of its address
  }
  assert.equal(exit.reason, 'debug');
  const once = ['r a000000', 'r a000004', 'w a000008 4', 'w a00000c 0'];
  assert.deepEqual(seen, [...once, ...once]);
  assert.deepEqual([v.getReg(3), v.getReg(4)], [0n, 4n]);
});

test('PSCI over HVC without EL2: VERSION, then SYSTEM_OFF is a shutdown event', () => {
  const { vcpus } = vmWith(`
    movz w0, #0x8400, lsl #16      // PSCI_VERSION
    hvc #0
    add x5, x0, #0
    movz w0, #0x8400, lsl #16
    movk w0, #0x0008               // SYSTEM_OFF
    hvc #0
    brk #0
  `);
  const exit = vcpus[0].run();
  assert.deepEqual(exit, { reason: 'system_event', type: 'shutdown' });
  assert.equal(vcpus[0].getReg(5), 0x10001n);
});

test('PSCI over SMC from EL2 with CPU_ON starting a second vCPU with its context id', () => {
  const { vcpus } = vmWith(`
    movz w0, #0xc400, lsl #16
    movk w0, #0x0003               // CPU_ON (64-bit)
    movz x1, #1                    // target MPIDR
    adr x2, secondary
    movz x3, #0x77                 // context id
    smc #0
    add x6, x0, #0
    brk #0
  secondary:
    add x7, x0, #1
    brk #0
  `, { el2: true, cpus: 2 });
  for (const v of vcpus) v.setGuestDebug(true);
  assert.equal(vcpus[1].run().reason, 'off');
  assert.equal(vcpus[0].cpu.el, 2);
  assert.equal(vcpus[0].run().reason, 'debug');
  assert.equal(vcpus[0].getReg(6), 0n);
  assert.equal(vcpus[1].run().reason, 'debug');
  assert.equal(vcpus[1].getReg(7), 0x78n);
  assert.equal(vcpus[1].cpu.el, 2);
});
