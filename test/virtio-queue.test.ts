import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Virtqueue, legacyRingAddresses, needsEvent, addressFromHalves, gatherBytes, scatterBytes, sliceBuffers,
  type VirtqueueOptions,
} from '../src/devices/virtio/queue';
import { GuestRam, DriverQueue, RAM_BASE, DESC_F_INDIRECT, DESC_F_NEXT, DESC_F_WRITE } from './support/virtio-driver';

interface Harness { ram: GuestRam; dq: DriverQueue; q: Virtqueue; interrupts: number; errors: string[] }

function harness(size = 8, opts: Partial<VirtqueueOptions> = {}, layout?: { desc: number; avail: number; used: number }, ram = new GuestRam(1 << 16)): Harness {
  const dq = new DriverQueue(ram, size, layout);
  const h = { ram, dq, interrupts: 0, errors: [] as string[] } as Harness;
  const q = Virtqueue.create({
    memory: ram.memory, size, addresses: { descTable: dq.desc, availRing: dq.avail, usedRing: dq.used },
    indirectDescriptors: true, eventIdx: false,
    notifyDriver: () => { h.interrupts++; }, onError: r => { h.errors.push(r); },
    ...opts,
  });
  assert.ok(q instanceof Virtqueue, String(q));
  h.q = q;
  return h;
}

test('rings sit at the addresses given, with the spec offsets: a chain pops as live views and goes back through the used ring', () => {
  const h = harness(8);
  const hdr = h.ram.alloc(16), data = h.ram.alloc(100), status = h.ram.alloc(1);
  h.ram.put(hdr, [1, 2, 3, 4]);
  // descriptors laid out by hand: 3 → 5 → 1
  h.dq.writeDescriptor(3, hdr, 16, DESC_F_NEXT, 5);
  h.dq.writeDescriptor(5, data, 100, DESC_F_NEXT | DESC_F_WRITE, 1);
  h.dq.writeDescriptor(1, status, 1, DESC_F_WRITE, 0);
  assert.equal(h.q.hasAvailable(), false);
  h.dq.publish(3);
  assert.equal(h.q.hasAvailable(), true);
  const chain = h.q.pop()!;
  assert.equal(chain.head, 3);
  assert.equal(chain.readable.length, 1);
  assert.deepEqual([...chain.readable[0].subarray(0, 4)], [1, 2, 3, 4]);
  assert.deepEqual(chain.writable.map(b => b.length), [100, 1]);
  assert.equal(chain.readableLength, 16);
  assert.equal(chain.writableLength, 101);
  chain.writable[0][99] = 0x77;
  assert.equal(h.ram.at(data, 100)[99], 0x77, 'buffers alias guest RAM');
  assert.equal(h.q.pop(), undefined, 'nothing more available');

  h.q.pushUsed(chain.head, 101);
  assert.equal(h.ram.u16(h.dq.used + 2), 1, 'used idx');
  assert.equal(h.ram.u32(h.dq.used + 4), 3, 'used ring[0].id');
  assert.equal(h.ram.u32(h.dq.used + 8), 101, 'used ring[0].len');
  h.q.signalUsed();
  assert.equal(h.interrupts, 1);
  h.q.signalUsed();
  assert.equal(h.interrupts, 1, 'nothing new used: no second interrupt');
  assert.deepEqual(h.errors, []);
});

test('the used and available rings wrap their 16-bit indices', () => {
  const h = harness(4);
  const buf = h.ram.alloc(8);
  for (let i = 0; i < 70_000; i++) {
    const head = h.dq.add([{ gpa: buf, length: 8, writable: true }]);
    const chain = h.q.pop()!;
    assert.equal(chain.head, head);
    h.q.pushUsed(chain.head, i & 0xff);
    const [entry] = h.dq.takeUsed();
    assert.deepEqual(entry, { id: head, len: i & 0xff });
  }
  assert.equal(h.dq.usedIdx, 70_000 & 0xffff);
  assert.deepEqual(h.errors, []);
});

test('zero-length descriptors are skipped, wherever they point', () => {
  const h = harness(8);
  const a = h.ram.alloc(4);
  h.dq.writeDescriptor(0, a, 4, DESC_F_NEXT, 1);
  h.dq.writeDescriptor(1, 0xdead_0000, 0, DESC_F_NEXT | DESC_F_WRITE, 2);
  h.dq.writeDescriptor(2, a, 4, DESC_F_WRITE, 0);
  h.dq.publish(0);
  const c = h.q.pop()!;
  assert.deepEqual([c.readable.length, c.writable.length, c.readableLength, c.writableLength], [1, 1, 4, 4]);
  assert.deepEqual(h.errors, []);
});

test('indirect tables: as the head, and as the last descriptor of a direct chain; the WRITE flag of the table descriptor is ignored', () => {
  const h = harness(8);
  const hdr = h.ram.alloc(16), data = h.ram.alloc(512), status = h.ram.alloc(1);
  const table = h.ram.alloc(3 * 16);
  const put = (base: number, i: number, gpa: number, len: number, flags: number, next: number) => {
    h.ram.setU64(base + 16 * i, BigInt(gpa)); h.ram.setU32(base + 16 * i + 8, len);
    h.ram.setU16(base + 16 * i + 12, flags); h.ram.setU16(base + 16 * i + 14, next);
  };
  put(table, 0, hdr, 16, DESC_F_NEXT, 2);
  put(table, 2, data, 512, DESC_F_NEXT | DESC_F_WRITE, 1);
  put(table, 1, status, 1, DESC_F_WRITE, 0);
  h.dq.writeDescriptor(6, table, 48, DESC_F_INDIRECT | DESC_F_WRITE, 0);
  h.dq.publish(6);
  const c = h.q.pop()!;
  assert.equal(c.head, 6);
  assert.equal(c.readableLength, 16);
  assert.deepEqual(c.writable.map(b => b.length), [512, 1]);

  // direct readable descriptor, then an indirect table holding the writable part
  const table2 = h.ram.alloc(16);
  put(table2, 0, status, 1, DESC_F_WRITE, 0);
  h.dq.writeDescriptor(0, hdr, 16, DESC_F_NEXT, 1);
  h.dq.writeDescriptor(1, table2, 16, DESC_F_INDIRECT, 0);
  h.dq.publish(0);
  const d = h.q.pop()!;
  assert.deepEqual([d.readableLength, d.writableLength], [16, 1]);
  assert.deepEqual(h.errors, []);
});

test('legacy layout: used ring at the QueueAlign boundary after desc + avail (§2.7 legacy)', () => {
  assert.deepEqual(legacyRingAddresses(0x40010, 4096, 4096, 8),
    { descTable: 0x4001_0000, availRing: 0x4001_0080, usedRing: 0x4001_1000 });
  // 256 entries: desc 4096 bytes, avail 2·(3+256) = 518 → used at the next 4 KiB
  assert.deepEqual(legacyRingAddresses(1, 4096, 4096, 256), { descTable: 4096, availRing: 8192, usedRing: 12288 });
  assert.deepEqual(legacyRingAddresses(1, 4096, 64, 4), { descTable: 4096, availRing: 4096 + 64, usedRing: 4096 + 128 });
  assert.equal(legacyRingAddresses(1, 3000, 4096, 8), undefined, 'page size not a power of 2');
  assert.equal(legacyRingAddresses(1, 4096, 0, 8), undefined, 'align 0');
  assert.equal(legacyRingAddresses(0xffff_ffff, 0x8000_0000, 4096, 8), undefined, 'past 2^53');

  const ram = new GuestRam(1 << 16);
  const a = legacyRingAddresses((RAM_BASE >>> 12) + 4, 4096, 4096, 8)!;
  const h = harness(8, {}, { desc: a.descTable, avail: a.availRing, used: a.usedRing }, ram);
  const dq = h.dq;
  const buf = ram.alloc(32);
  const head = dq.add([{ gpa: buf, length: 32, writable: true }]);
  const c = h.q.pop()!;
  assert.equal(c.head, head);
  h.q.pushUsed(head, 32);
  assert.equal(ram.u16(RAM_BASE + 0x5000 + 2), 1, 'used idx at the page after the descriptor table and avail ring');
  assert.deepEqual(dq.takeUsed(), [{ id: head, len: 32 }]);
});

test('event idx: avail_event follows the device, used_event decides interrupts (vring_need_event)', () => {
  assert.equal(needsEvent(0, 1, 0), true);
  assert.equal(needsEvent(5, 6, 0), true);
  assert.equal(needsEvent(6, 6, 0), false, 'event not yet reached');
  assert.equal(needsEvent(2, 6, 3), false, 'event already passed before old');
  assert.equal(needsEvent(0xffff, 0, 0xfffe), true, 'across the wrap');

  const h = harness(8, { eventIdx: true });
  const buf = h.ram.alloc(8);
  assert.equal(h.q.pop(), undefined);
  assert.equal(h.dq.availEvent, 0);
  h.dq.add([{ gpa: buf, length: 8 }]);
  h.dq.add([{ gpa: buf, length: 8 }]);
  h.q.pop();
  assert.equal(h.dq.availEvent, 1, 'avail_event = next avail index after a pop');
  h.q.pop();
  assert.equal(h.dq.availEvent, 2);

  h.q.pushUsed(0, 0);
  h.q.signalUsed();
  assert.equal(h.interrupts, 1, 'the first signal always interrupts');
  h.dq.usedEvent = 5; // driver: interrupt me when used idx passes 5
  h.q.pushUsed(1, 0); // used idx 2
  h.q.signalUsed();
  assert.equal(h.interrupts, 1, 'used idx 2 has not passed used_event 5');
  for (let i = 0; i < 3; i++) h.q.pushUsed(0, 0); // used idx 5
  h.q.signalUsed();
  assert.equal(h.interrupts, 1, 'used idx 5: entry 5 not yet used');
  h.q.pushUsed(0, 0); // used idx 6: entry 5 used
  h.q.signalUsed();
  assert.equal(h.interrupts, 2);
  h.dq.usedEvent = 6;
  h.q.pushUsed(0, 0); h.q.pushUsed(0, 0); // 6 → 8 crosses 6
  h.q.signalUsed();
  assert.equal(h.interrupts, 3);
});

test('without event idx, VRING_AVAIL_F_NO_INTERRUPT suppresses the interrupt', () => {
  const h = harness(8);
  h.dq.availFlags = 1;
  h.q.pushUsed(0, 0);
  h.q.signalUsed();
  assert.equal(h.interrupts, 0);
  h.dq.availFlags = 0;
  h.q.pushUsed(0, 0);
  h.q.signalUsed();
  assert.equal(h.interrupts, 1);
});

test('Virtqueue.create refuses sizes that are not powers of 2, misaligned rings, rings outside RAM', () => {
  const ram = new GuestRam(1 << 16);
  const base = { memory: ram.memory, indirectDescriptors: false, eventIdx: false, notifyDriver: () => {}, onError: () => {} };
  const ok = { descTable: RAM_BASE, availRing: RAM_BASE + 0x1000, usedRing: RAM_BASE + 0x2000 };
  assert.ok(Virtqueue.create({ ...base, size: 256, addresses: ok }) instanceof Virtqueue);
  for (const size of [0, 3, 100, 65536]) assert.equal(typeof Virtqueue.create({ ...base, size, addresses: ok }), 'string', `size ${size}`);
  assert.equal(typeof Virtqueue.create({ ...base, size: 8, addresses: { ...ok, descTable: RAM_BASE + 8 } }), 'string');
  assert.equal(typeof Virtqueue.create({ ...base, size: 8, addresses: { ...ok, availRing: RAM_BASE + 0x1001 } }), 'string');
  assert.equal(typeof Virtqueue.create({ ...base, size: 8, addresses: { ...ok, usedRing: RAM_BASE + 0x2002 } }), 'string');
  assert.equal(typeof Virtqueue.create({ ...base, size: 8, addresses: { ...ok, usedRing: RAM_BASE + 0x10000 - 8 } }), 'string', 'used ring runs off RAM');
  assert.equal(typeof Virtqueue.create({ ...base, size: 8, addresses: { ...ok, descTable: addressFromHalves(0, 0x1000_0000) } }), 'string');
});

test('addressFromHalves: exact below 2^53, unrepresentable (-1) from there', () => {
  assert.equal(addressFromHalves(0x8000_0000, 1), 0x1_8000_0000);
  assert.equal(addressFromHalves(0xffff_ffff, 0x1f_ffff), 2 ** 53 - 1);
  assert.equal(addressFromHalves(0, 0x20_0000), -1);
  assert.equal(addressFromHalves(0, 0xffff_ffff), -1);
});

// Each malformed case: the queue goes broken, says why once, touches nothing, and stays broken.
const malformed: { name: string; setup: (h: Harness) => void; size?: number; indirect?: boolean }[] = [
  { name: 'head index ≥ queue size', setup: h => h.dq.publish(8) },
  { name: 'next index ≥ queue size', setup: h => { h.dq.writeDescriptor(0, h.ram.alloc(4), 4, DESC_F_NEXT, 9); h.dq.publish(0); } },
  { name: 'a loop', setup: h => { const b = h.ram.alloc(4); h.dq.writeDescriptor(0, b, 4, DESC_F_NEXT, 1); h.dq.writeDescriptor(1, b, 4, DESC_F_NEXT, 0); h.dq.publish(0); } },
  { name: 'a self loop of zero-length descriptors', setup: h => { h.dq.writeDescriptor(2, 0, 0, DESC_F_NEXT, 2); h.dq.publish(2); } },
  { name: 'a loop inside an indirect table (chain longer than the table)', setup: h => {
    const t = h.ram.alloc(32), b = h.ram.alloc(4);
    h.ram.setU64(t, BigInt(b)); h.ram.setU32(t + 8, 4); h.ram.setU16(t + 12, DESC_F_NEXT); h.ram.setU16(t + 14, 1);
    h.ram.setU64(t + 16, BigInt(b)); h.ram.setU32(t + 24, 4); h.ram.setU16(t + 28, DESC_F_NEXT); h.ram.setU16(t + 30, 0);
    h.dq.writeDescriptor(0, t, 32, DESC_F_INDIRECT, 0); h.dq.publish(0);
  } },
  { name: 'next index ≥ indirect table size', setup: h => {
    const t = h.ram.alloc(16), b = h.ram.alloc(4);
    h.ram.setU64(t, BigInt(b)); h.ram.setU32(t + 8, 4); h.ram.setU16(t + 12, DESC_F_NEXT); h.ram.setU16(t + 14, 1);
    h.dq.writeDescriptor(0, t, 16, DESC_F_INDIRECT, 0); h.dq.publish(0);
  } },
  { name: 'indirect inside indirect', setup: h => {
    const t = h.ram.alloc(16), inner = h.ram.alloc(16);
    h.ram.setU64(t, BigInt(inner)); h.ram.setU32(t + 8, 16); h.ram.setU16(t + 12, DESC_F_INDIRECT);
    h.dq.writeDescriptor(0, t, 16, DESC_F_INDIRECT, 0); h.dq.publish(0);
  } },
  { name: 'indirect with NEXT', setup: h => { const t = h.ram.alloc(16); h.dq.writeDescriptor(0, t, 16, DESC_F_INDIRECT | DESC_F_NEXT, 1); h.dq.publish(0); } },
  { name: 'indirect table length not a multiple of 16', setup: h => { const t = h.ram.alloc(32); h.dq.writeDescriptor(0, t, 24, DESC_F_INDIRECT, 0); h.dq.publish(0); } },
  { name: 'empty indirect table', setup: h => { const t = h.ram.alloc(16); h.dq.writeDescriptor(0, t, 0, DESC_F_INDIRECT, 0); h.dq.publish(0); } },
  { name: 'indirect table outside RAM', setup: h => { h.dq.writeDescriptor(0, RAM_BASE + (1 << 16) - 16, 32, DESC_F_INDIRECT, 0); h.dq.publish(0); } },
  { name: 'indirect without the feature', indirect: false, setup: h => { const t = h.ram.alloc(16); h.dq.writeDescriptor(0, t, 16, DESC_F_INDIRECT, 0); h.dq.publish(0); } },
  { name: 'buffer below RAM', setup: h => { h.dq.writeDescriptor(0, RAM_BASE - 4, 8, 0, 0); h.dq.publish(0); } },
  { name: 'buffer running past the end of RAM', setup: h => { h.dq.writeDescriptor(0, RAM_BASE + (1 << 16) - 4, 8, DESC_F_WRITE, 0); h.dq.publish(0); } },
  { name: 'buffer at 2^53 and above', setup: h => { h.dq.writeDescriptor(0, 2 ** 53, 8, DESC_F_WRITE, 0); h.dq.publish(0); } },
  { name: 'buffer whose address + length overflows 2^64', setup: h => {
    h.dq.writeDescriptor(0, 0, 0x2000, DESC_F_WRITE, 0);
    h.ram.setU64(h.dq.desc, 0xffff_ffff_ffff_f000n); h.dq.publish(0);
  } },
  { name: 'readable descriptor after a writable one', setup: h => {
    const b = h.ram.alloc(8); h.dq.writeDescriptor(0, b, 4, DESC_F_WRITE | DESC_F_NEXT, 1); h.dq.writeDescriptor(1, b, 4, 0, 0); h.dq.publish(0);
  } },
  { name: 'avail idx more than the queue size ahead', setup: h => { h.dq.add([{ gpa: h.ram.alloc(4), length: 4 }]); h.dq.setAvailIdx(9); } },
  { name: 'avail idx moved backwards (65535 ahead)', setup: h => h.dq.setAvailIdx(0xffff) },
];

for (const m of malformed) {
  test(`malformed: ${m.name} → queue broken, nothing touched`, () => {
    const h = harness(m.size ?? 8, { indirectDescriptors: m.indirect ?? true });
    m.setup(h);
    const before = h.ram.storage.slice();
    assert.equal(h.q.pop(), undefined);
    assert.equal(h.q.broken, true);
    assert.equal(h.errors.length, 1, h.errors.join('; '));
    assert.deepEqual(h.ram.storage, before, 'no byte of RAM or the guards changed');
    // still broken with a good chain behind it, and no second report
    h.dq.setAvailIdx(0);
    h.dq.add([{ gpa: h.ram.alloc(4), length: 4 }]);
    assert.equal(h.q.pop(), undefined);
    assert.equal(h.q.hasAvailable(), false);
    h.q.pushUsed(0, 1);
    assert.equal(h.dq.usedIdx, 0, 'a broken queue writes no used entries');
    assert.equal(h.errors.length, 1);
  });
}

test('exactly a queue size of pending entries is fine', () => {
  const h = harness(4);
  const b = h.ram.alloc(4);
  for (let i = 0; i < 4; i++) h.dq.add([{ gpa: b, length: 4 }]);
  for (let i = 0; i < 4; i++) assert.ok(h.q.pop());
  assert.equal(h.q.pop(), undefined);
  assert.deepEqual(h.errors, []);
});

test('a chain as long as the queue is fine', () => {
  const h = harness(4);
  const b = h.ram.alloc(4);
  const c = h.dq.add([{ gpa: b, length: 1 }, { gpa: b, length: 1 }, { gpa: b, length: 1, writable: true }, { gpa: b, length: 1, writable: true }]);
  const chain = h.q.pop()!;
  assert.equal(chain.head, c);
  assert.deepEqual([chain.readableLength, chain.writableLength], [2, 2]);
});

test('gather, scatter and slice walk buffer lists across their boundaries', () => {
  const a = new Uint8Array([1, 2, 3]), b = new Uint8Array([4, 5]), c = new Uint8Array([6, 7, 8, 9]);
  const into = new Uint8Array(4);
  assert.equal(gatherBytes([a, b, c], 2, into), 4);
  assert.deepEqual([...into], [3, 4, 5, 6]);
  assert.equal(gatherBytes([a, b], 4, into), 1);
  assert.equal(scatterBytes([a, b, c], 1, new Uint8Array([0xa, 0xb, 0xc, 0xd])), 4);
  assert.deepEqual([...a, ...b, ...c], [1, 0xa, 0xb, 0xc, 0xd, 6, 7, 8, 9]);
  assert.equal(scatterBytes([a], 2, new Uint8Array(5)), 1);
  assert.deepEqual(sliceBuffers([a, b, c], 2, 4).map(s => [...s]), [[0], [0xc, 0xd], [6]]);
});
