import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtioMmioTransport, VirtioMmioRegister as R, VirtioStatus as S } from '../src/devices/virtio/mmio-transport';
import {
  VirtioBlk, BlkConfig, VIRTIO_BLK_F_BLK_SIZE, VIRTIO_BLK_F_DISCARD, VIRTIO_BLK_F_FLUSH, VIRTIO_BLK_F_RO,
  VIRTIO_BLK_F_SEG_MAX, VIRTIO_BLK_F_WRITE_ZEROES, VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_OK, VIRTIO_BLK_S_UNSUPP,
  VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_GET_ID, VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_WRITE_ZEROES,
} from '../src/devices/virtio/blk';
import { MemoryBlockBackend } from './support/memory-block-backend';
import { GuestRam, DriverQueue, initModern, read32, write32, kick, DESC_F_INDIRECT, DESC_F_NEXT, DESC_F_WRITE, type Buffer } from './support/virtio-driver';

const SECTORS = 64;
const DISK_GUARD = 4096;

function setup(options: { readOnly?: boolean; features?: bigint; serial?: string } = {}) {
  const diskStorage = new Uint8Array(SECTORS * 512 + 2 * DISK_GUARD).fill(0x5a);
  const disk = diskStorage.subarray(DISK_GUARD, DISK_GUARD + SECTORS * 512);
  for (let i = 0; i < disk.length; i++) disk[i] = (i * 7 + (i >> 9)) & 0xff;
  const backend = new MemoryBlockBackend(disk, options.readOnly ?? false, options.serial ?? 'armvirt-test-disk');
  const ram = new GuestRam(1 << 20);
  const blk = new VirtioBlk(backend);
  const levels: boolean[] = [];
  const t = new VirtioMmioTransport(blk, ram.memory, l => levels.push(l));
  const [q] = initModern(t, ram, options.features ?? 0xffff_ffff_ffff_ffffn);
  const diskGuardsIntact = () => diskStorage.subarray(0, DISK_GUARD).every(b => b === 0x5a)
    && diskStorage.subarray(DISK_GUARD + disk.length).every(b => b === 0x5a);
  return { backend, disk, ram, blk, t, q, levels, diskGuardsIntact };
}

type Setup = ReturnType<typeof setup>;

function header(ram: GuestRam, type: number, sector: bigint): number {
  const gpa = ram.alloc(16);
  ram.setU32(gpa, type);
  ram.setU32(gpa + 4, 0);
  ram.setU64(gpa + 8, sector);
  return gpa;
}

/** Queues one request as Linux's virtio_blk does (header, data, status) and returns where its parts are. */
function post(s: Setup, type: number, sector: bigint, data: { out?: Uint8Array[]; inLengths?: number[] } = {}) {
  const hdr = header(s.ram, type, sector);
  const buffers: Buffer[] = [{ gpa: hdr, length: 16 }];
  for (const chunk of data.out ?? []) {
    const gpa = s.ram.alloc(chunk.length);
    s.ram.put(gpa, chunk);
    buffers.push({ gpa, length: chunk.length });
  }
  const inBuffers = (data.inLengths ?? []).map(length => ({ gpa: s.ram.alloc(length), length, writable: true }));
  buffers.push(...inBuffers);
  const status = s.ram.alloc(1);
  s.ram.put(status, [0xff]);
  buffers.push({ gpa: status, length: 1, writable: true });
  const head = s.q.add(buffers);
  return { head, status, inBuffers };
}

function request(s: Setup, type: number, sector: bigint, data: { out?: Uint8Array[]; inLengths?: number[] } = {}) {
  const p = post(s, type, sector, data);
  kick(s.t, 0);
  const used = s.q.takeUsed();
  assert.equal(used.length, 1);
  assert.equal(used[0].id, p.head);
  const read = new Uint8Array(p.inBuffers.reduce((n, b) => n + b.length, 0));
  let o = 0;
  for (const b of p.inBuffers) { read.set(s.ram.at(b.gpa, b.length), o); o += b.length; }
  return { status: s.ram.at(p.status, 1)[0], len: used[0].len, read };
}

function segments(...list: [bigint, number, number][]): Uint8Array {
  const bytes = new Uint8Array(16 * list.length);
  const dv = new DataView(bytes.buffer);
  list.forEach(([sector, count, flags], i) => {
    dv.setBigUint64(16 * i, sector, true);
    dv.setUint32(16 * i + 8, count, true);
    dv.setUint32(16 * i + 12, flags, true);
  });
  return bytes;
}

test('features and configuration space (§5.2.4)', () => {
  const s = setup();
  const offered = s.t.offeredFeatures;
  for (const bit of [VIRTIO_BLK_F_SEG_MAX, VIRTIO_BLK_F_BLK_SIZE, VIRTIO_BLK_F_FLUSH, VIRTIO_BLK_F_DISCARD, VIRTIO_BLK_F_WRITE_ZEROES]) {
    assert.ok(offered & (1n << BigInt(bit)), `bit ${bit} offered`);
  }
  assert.equal(offered & (1n << BigInt(VIRTIO_BLK_F_RO)), 0n);
  assert.equal(read32(s.t, R.DeviceId), 2);
  const cfg = (off: number, size: 1 | 2 | 4 = 4) => s.t.read(0x100 + off, size, 0) as number;
  assert.equal(cfg(BlkConfig.capacity), SECTORS);
  assert.equal(cfg(BlkConfig.capacity + 4), 0);
  assert.equal(cfg(BlkConfig.sizeMax), 0);
  assert.equal(cfg(BlkConfig.segMax), 254);
  assert.equal(cfg(BlkConfig.geometry), 0);
  assert.equal(cfg(BlkConfig.blkSize), 512);
  assert.equal(cfg(BlkConfig.topology), 0);
  assert.equal(cfg(BlkConfig.writeback, 1), 1);
  assert.equal(cfg(BlkConfig.maxDiscardSectors), 0x40_0000);
  assert.equal(cfg(BlkConfig.maxDiscardSeg), 32);
  assert.equal(cfg(BlkConfig.discardSectorAlignment), 1);
  assert.equal(cfg(BlkConfig.maxWriteZeroesSectors), 0x40_0000);
  assert.equal(cfg(BlkConfig.maxWriteZeroesSeg), 32);
  assert.equal(cfg(BlkConfig.writeZeroesMayUnmap, 1), 1);
  s.t.write(0x100 + BlkConfig.writeback, 1, 0, 0);
  assert.equal(cfg(BlkConfig.writeback, 1), 1, 'writeback is read-only without CONFIG_WCE');
  assert.ok(setup({ readOnly: true }).t.offeredFeatures & (1n << BigInt(VIRTIO_BLK_F_RO)));
});

test('write then read back, data split over several descriptors', () => {
  const s = setup();
  const data = Uint8Array.from({ length: 1536 }, (_, i) => (i * 13 + 1) & 0xff);
  const w = request(s, VIRTIO_BLK_T_OUT, 3n, { out: [data.subarray(0, 100), data.subarray(100, 1000), data.subarray(1000)] });
  assert.deepEqual([w.status, w.len], [VIRTIO_BLK_S_OK, 1]);
  assert.deepEqual(s.disk.subarray(3 * 512, 6 * 512), data);
  assert.deepEqual(s.backend.calls, [
    { op: 'write', offset: 1536, length: 100 }, { op: 'write', offset: 1636, length: 900 }, { op: 'write', offset: 2536, length: 536 },
  ], 'each guest data buffer went to the backend as is (zero copy), the header not at all');
  const r = request(s, VIRTIO_BLK_T_IN, 3n, { inLengths: [512, 7, 1017] });
  assert.deepEqual([r.status, r.len], [VIRTIO_BLK_S_OK, 1537]);
  assert.deepEqual(r.read, data);
  const last = request(s, VIRTIO_BLK_T_IN, BigInt(SECTORS - 1), { inLengths: [512] });
  assert.equal(last.status, VIRTIO_BLK_S_OK, 'the last sector is in range');
  assert.deepEqual(last.read, s.disk.subarray((SECTORS - 1) * 512));
  assert.equal(s.t.stats.requests, 3);
  assert.equal(s.t.stats.bytesWritten, 1536);
  assert.equal(s.t.stats.bytesRead, 2048);
  assert.ok(s.diskGuardsIntact() && s.ram.guardsIntact());
});

test('reads and writes outside the disk, or not whole sectors: IOERR, backend untouched', () => {
  const s = setup();
  const before = s.disk.slice();
  const cases: [number, bigint, { out?: Uint8Array[]; inLengths?: number[] }][] = [
    [VIRTIO_BLK_T_IN, BigInt(SECTORS), { inLengths: [512] }],
    [VIRTIO_BLK_T_IN, BigInt(SECTORS - 1), { inLengths: [1024] }],
    [VIRTIO_BLK_T_OUT, BigInt(SECTORS - 1), { out: [new Uint8Array(1024)] }],
    [VIRTIO_BLK_T_IN, 0xffff_ffff_ffff_ffffn, { inLengths: [512] }],
    [VIRTIO_BLK_T_OUT, 1n << 55n, { out: [new Uint8Array(512)] }], // sector × 512 = 2^64: wraps to 0 in u64
    [VIRTIO_BLK_T_OUT, (1n << 55n) - 1n, { out: [new Uint8Array(1024)] }], // sector × 512 + length wraps
    [VIRTIO_BLK_T_IN, 1n << 32n, { inLengths: [512] }],
    [VIRTIO_BLK_T_IN, 0n, { inLengths: [100] }],
    [VIRTIO_BLK_T_OUT, 0n, { out: [new Uint8Array(513)] }],
  ];
  for (const [type, sector, data] of cases) {
    const r = request(s, type, sector, data);
    assert.equal(r.status, VIRTIO_BLK_S_IOERR, `type ${type} sector ${sector}`);
    assert.equal(r.len, 1);
  }
  assert.deepEqual(s.backend.calls, []);
  assert.deepEqual(s.disk, before);
  assert.ok(s.diskGuardsIntact());
});

test('FLUSH reaches backend.flush() before the request completes', () => {
  const s = setup();
  let flushedBeforeUsed = false;
  const original = s.backend.flush.bind(s.backend);
  s.backend.flush = () => { flushedBeforeUsed = s.q.usedIdx === 0; original(); };
  const r = request(s, VIRTIO_BLK_T_FLUSH, 0n);
  assert.deepEqual([r.status, r.len], [VIRTIO_BLK_S_OK, 1]);
  assert.deepEqual(s.backend.calls, [{ op: 'flush' }]);
  assert.ok(flushedBeforeUsed);
});

test('GET_ID answers the serial, 20 bytes NUL-padded (and cut to 20)', () => {
  const s = setup({ serial: 'disk-7' });
  const r = request(s, VIRTIO_BLK_T_GET_ID, 0n, { inLengths: [20] });
  assert.deepEqual([r.status, r.len], [VIRTIO_BLK_S_OK, 21]);
  assert.deepEqual([...r.read], [...Buffer.from('disk-7'), ...new Array(14).fill(0)]);
  const long = setup({ serial: 'abcdefghijklmnopqrstuvwxyz' });
  const l = request(long, VIRTIO_BLK_T_GET_ID, 0n, { inLengths: [8, 12] });
  assert.equal(Buffer.from(l.read).toString(), 'abcdefghijklmnopqrst');
});

test('DISCARD and WRITE_ZEROES reach the backend, every segment; flags and limits checked first', () => {
  const s = setup();
  const d = request(s, VIRTIO_BLK_T_DISCARD, 0n, { out: [segments([2n, 2, 0], [10n, 1, 0])] });
  assert.equal(d.status, VIRTIO_BLK_S_OK);
  assert.deepEqual(s.backend.calls, [{ op: 'discard', offset: 1024, length: 1024 }, { op: 'discard', offset: 5120, length: 512 }]);
  assert.ok(s.disk.subarray(1024, 2048).every(b => b === 0xdd));
  s.backend.calls.length = 0;
  const z = request(s, VIRTIO_BLK_T_WRITE_ZEROES, 0n, { out: [segments([20n, 3, 1])] });
  assert.equal(z.status, VIRTIO_BLK_S_OK, 'unmap is allowed for write-zeroes');
  assert.deepEqual(s.backend.calls, [{ op: 'writeZeroes', offset: 20 * 512, length: 3 * 512 }]);
  assert.ok(s.disk.subarray(20 * 512, 23 * 512).every(b => b === 0));
  s.backend.calls.length = 0;

  const bad: [number, Uint8Array, number][] = [
    [VIRTIO_BLK_T_DISCARD, segments([0n, 1, 1]), VIRTIO_BLK_S_UNSUPP], // unmap on discard
    [VIRTIO_BLK_T_WRITE_ZEROES, segments([0n, 1, 2]), VIRTIO_BLK_S_UNSUPP], // unknown flag
    [VIRTIO_BLK_T_DISCARD, segments([0n, 1, 0], [BigInt(SECTORS), 1, 0]), VIRTIO_BLK_S_IOERR], // second out of range
    [VIRTIO_BLK_T_DISCARD, segments([BigInt(SECTORS - 1), 2, 0]), VIRTIO_BLK_S_IOERR],
    [VIRTIO_BLK_T_WRITE_ZEROES, segments([1n << 60n, 1, 0]), VIRTIO_BLK_S_IOERR],
    [VIRTIO_BLK_T_DISCARD, segments([0n, 0x40_0001, 0]), VIRTIO_BLK_S_IOERR], // above max_discard_sectors
    [VIRTIO_BLK_T_DISCARD, new Uint8Array(24), VIRTIO_BLK_S_IOERR], // not whole segments
    [VIRTIO_BLK_T_DISCARD, segments(...Array.from({ length: 33 }, () => [0n, 1, 0] as [bigint, number, number])), VIRTIO_BLK_S_UNSUPP],
  ];
  for (const [type, payload, expected] of bad) {
    assert.equal(request(s, type, 0n, { out: [payload] }).status, expected);
  }
  assert.equal(request(s, VIRTIO_BLK_T_DISCARD, 0n).status, VIRTIO_BLK_S_IOERR, 'no segment at all');
  assert.deepEqual(s.backend.calls, [], 'a bad request changes nothing, not even its good segments');
  assert.ok(s.diskGuardsIntact());
});

test('DISCARD / WRITE_ZEROES when the driver did not negotiate them: UNSUPP', () => {
  const s = setup({ features: (1n << 32n) | (1n << BigInt(VIRTIO_BLK_F_FLUSH)) });
  assert.equal(request(s, VIRTIO_BLK_T_DISCARD, 0n, { out: [segments([0n, 1, 0])] }).status, VIRTIO_BLK_S_UNSUPP);
  assert.equal(request(s, VIRTIO_BLK_T_WRITE_ZEROES, 0n, { out: [segments([0n, 1, 0])] }).status, VIRTIO_BLK_S_UNSUPP);
  assert.deepEqual(s.backend.calls, []);
});

test('a read-only disk: reads work, writes, discards and write-zeroes are IOERR', () => {
  const s = setup({ readOnly: true });
  const before = s.disk.slice();
  assert.equal(request(s, VIRTIO_BLK_T_IN, 0n, { inLengths: [512] }).status, VIRTIO_BLK_S_OK);
  assert.equal(request(s, VIRTIO_BLK_T_OUT, 0n, { out: [new Uint8Array(512)] }).status, VIRTIO_BLK_S_IOERR);
  assert.equal(request(s, VIRTIO_BLK_T_DISCARD, 0n, { out: [segments([0n, 1, 0])] }).status, VIRTIO_BLK_S_IOERR);
  assert.equal(request(s, VIRTIO_BLK_T_WRITE_ZEROES, 0n, { out: [segments([0n, 1, 0])] }).status, VIRTIO_BLK_S_IOERR);
  assert.deepEqual(s.disk, before);
});

test('unknown request types: UNSUPP', () => {
  const s = setup();
  for (const type of [2, 10, 14, 99, 0xffff_ffff]) {
    const r = request(s, type, 0n, { inLengths: [16] });
    assert.deepEqual([r.status, r.len], [VIRTIO_BLK_S_UNSUPP, 1], `type ${type}`);
  }
});

test('a backend BlockIoError is IOERR', () => {
  const s = setup();
  s.backend.failing = true;
  assert.equal(request(s, VIRTIO_BLK_T_IN, 0n, { inLengths: [512] }).status, VIRTIO_BLK_S_IOERR);
  assert.equal(request(s, VIRTIO_BLK_T_OUT, 0n, { out: [new Uint8Array(512)] }).status, VIRTIO_BLK_S_IOERR);
  assert.equal(request(s, VIRTIO_BLK_T_FLUSH, 0n).status, VIRTIO_BLK_S_IOERR);
  assert.equal(request(s, VIRTIO_BLK_T_WRITE_ZEROES, 0n, { out: [segments([0n, 1, 0])] }).status, VIRTIO_BLK_S_IOERR);
  assert.equal(s.t.stats.internalErrors, 0);
  assert.equal(read32(s.t, R.Status) & S.DeviceNeedsReset, 0, 'an I/O error is no protocol error');
});

test('a chain too short for the header, or without a writable status byte: completed with length 0, counted, the device goes on', () => {
  const s = setup();
  const short = s.ram.alloc(8);
  const out = s.ram.alloc(1);
  const h1 = s.q.add([{ gpa: short, length: 8 }, { gpa: out, length: 1, writable: true }]);
  const h2 = s.q.add([{ gpa: header(s.ram, VIRTIO_BLK_T_IN, 0n), length: 16 }]);
  const h3 = s.q.add([{ gpa: header(s.ram, VIRTIO_BLK_T_IN, 0n), length: 16 }, { gpa: s.ram.alloc(512), length: 512 }]);
  kick(s.t, 0);
  assert.deepEqual(s.q.takeUsed(), [{ id: h1, len: 0 }, { id: h2, len: 0 }, { id: h3, len: 0 }]);
  assert.equal(s.ram.at(out, 1)[0], 0, 'nothing was written into the short chain');
  assert.equal(s.t.stats.malformedChains, 3);
  assert.equal(read32(s.t, R.Status) & S.DeviceNeedsReset, 0);
  assert.equal(request(s, VIRTIO_BLK_T_IN, 0n, { inLengths: [512] }).status, VIRTIO_BLK_S_OK);
});

test('several requests per notification, one interrupt for the batch', () => {
  const s = setup();
  const ps = [0, 1, 2].map(i => post(s, VIRTIO_BLK_T_IN, BigInt(i), { inLengths: [512] }));
  write32(s.t, R.QueueNotify, 0);
  assert.deepEqual(s.q.takeUsed(), ps.map(p => ({ id: p.head, len: 513 })));
  assert.equal(s.t.stats.interrupts, 1);
  assert.deepEqual(s.levels, [true]);
  ps.forEach((p, i) => assert.deepEqual(s.ram.at(p.inBuffers[0].gpa, 512), s.disk.subarray(i * 512, (i + 1) * 512)));
});

test('a request in an indirect table', () => {
  const s = setup();
  const hdr = header(s.ram, VIRTIO_BLK_T_IN, 5n), data = s.ram.alloc(512), status = s.ram.alloc(1);
  const table = s.ram.alloc(48);
  const put = (i: number, gpa: number, len: number, flags: number, next: number) => {
    s.ram.setU64(table + 16 * i, BigInt(gpa)); s.ram.setU32(table + 16 * i + 8, len);
    s.ram.setU16(table + 16 * i + 12, flags); s.ram.setU16(table + 16 * i + 14, next);
  };
  put(0, hdr, 16, DESC_F_NEXT, 1);
  put(1, data, 512, DESC_F_NEXT | DESC_F_WRITE, 2);
  put(2, status, 1, DESC_F_WRITE, 0);
  s.q.writeDescriptor(0, table, 48, DESC_F_INDIRECT, 0);
  s.q.publish(0);
  kick(s.t, 0);
  assert.deepEqual(s.q.takeUsed(), [{ id: 0, len: 513 }]);
  assert.equal(s.ram.at(status, 1)[0], VIRTIO_BLK_S_OK);
  assert.deepEqual(s.ram.at(data, 512), s.disk.subarray(5 * 512, 6 * 512));
});

test('a malformed chain breaks the queue: NEEDS_RESET; after a reset the device works again', () => {
  const s = setup();
  s.q.writeDescriptor(0, 0x10, 512, DESC_F_WRITE, 0); // not RAM
  s.q.publish(0);
  kick(s.t, 0);
  assert.ok(read32(s.t, R.Status) & S.DeviceNeedsReset);
  assert.equal(s.t.stats.malformedChains, 1);
  assert.equal(s.q.usedIdx, 0);
  const [q] = initModern(s.t, s.ram, 0xffff_ffff_ffff_ffffn);
  const again = { ...s, q };
  assert.equal(request(again, VIRTIO_BLK_T_IN, 1n, { inLengths: [512] }).status, VIRTIO_BLK_S_OK);
  assert.ok(q instanceof DriverQueue);
});
