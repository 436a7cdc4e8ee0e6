import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  VirtioMmioTransport, VirtioMmioRegister as R, VirtioStatus as S, VIRTIO_MMIO_INT_CONFIG, VIRTIO_MMIO_INT_VRING,
} from '../src/devices/virtio/mmio-transport';
import { ConfigSpace, type VirtioDevice, type VirtioDeviceHost } from '../src/devices/virtio/virtio-device';
import type { Virtqueue } from '../src/devices/virtio/queue';
import { GuestRam, DriverQueue, initModern, read32, write32, RAM_BASE } from './support/virtio-driver';

/** A device that records what the transport tells it; its queue 0 echoes every chain back as used. */
class RecordingDevice implements VirtioDevice {
  readonly name = 'recording';
  readonly deviceId = 42;
  readonly features = (1n << 3n) | (1n << 40n);
  readonly queueMaxSizes = [16, 8];
  readonly config = new ConfigSpace(8);
  host!: VirtioDeviceHost;
  activations: { features: bigint; queues: readonly (Virtqueue | undefined)[] }[] = [];
  resets = 0;
  notified: number[] = [];
  configWrites: [number, number, number][] = [];
  throwOnNotify = false;
  queues: readonly (Virtqueue | undefined)[] = [];

  constructor() {
    this.config.setU32(0, 0x12345678);
    this.config.setU32(4, 0x9abcdef0);
  }
  attach(host: VirtioDeviceHost): void { this.host = host; }
  readConfig(offset: number, size: 1 | 2 | 4): number { return this.config.read(offset, size); }
  writeConfig(offset: number, size: 1 | 2 | 4, value: number): void { this.configWrites.push([offset, size, value]); }
  activate(features: bigint, queues: readonly (Virtqueue | undefined)[]): void {
    this.activations.push({ features, queues });
    this.queues = queues;
  }
  notify(index: number): void {
    this.notified.push(index);
    if (this.throwOnNotify) throw new Error('device bug');
    const q = this.queues[index]!;
    for (let c = q.pop(); c; c = q.pop()) q.pushUsed(c.head, c.writableLength);
    q.signalUsed();
  }
  reset(): void { this.resets++; this.queues = []; }
}

function setup(legacy = false) {
  const ram = new GuestRam(1 << 20);
  const device = new RecordingDevice();
  const levels: boolean[] = [];
  const t = new VirtioMmioTransport(device, ram.memory, level => levels.push(level), { legacy });
  return { ram, device, levels, t };
}

const ALL = 0xffff_ffff_ffff_ffffn;

test('identification registers', () => {
  const { t } = setup();
  assert.equal(read32(t, R.MagicValue), 0x74726976);
  assert.equal(read32(t, R.Version), 2);
  assert.equal(read32(t, R.DeviceId), 42);
  assert.equal(read32(t, R.VendorId), 0x554d4551);
  assert.equal(read32(t, R.ConfigGeneration), 0);
});

test('device features by select: device bits plus INDIRECT_DESC, EVENT_IDX and VERSION_1', () => {
  const { t } = setup();
  write32(t, R.DeviceFeaturesSel, 0);
  assert.equal(read32(t, R.DeviceFeatures), (1 << 3) | (1 << 28) | (1 << 29));
  write32(t, R.DeviceFeaturesSel, 1);
  assert.equal(read32(t, R.DeviceFeatures), (1 << 0) | (1 << 8), 'VERSION_1 (32) and device bit 40');
  write32(t, R.DeviceFeaturesSel, 2);
  assert.equal(read32(t, R.DeviceFeatures), 0);
  write32(t, R.DeviceFeaturesSel, 0xffff_ffff);
  assert.equal(read32(t, R.DeviceFeatures), 0);
});

test("Linux's init sequence activates the device with the negotiated features and its queues", () => {
  const { t, ram, device } = setup();
  const wanted = (1n << 3n) | (1n << 29n) | (1n << 32n); // not INDIRECT, not bit 40
  const queues = initModern(t, ram, wanted);
  assert.equal(queues.length, 2);
  assert.equal(read32(t, R.Status), S.Acknowledge | S.Driver | S.FeaturesOk | S.DriverOk);
  assert.equal(device.activations.length, 1);
  assert.equal(device.activations[0].features, wanted);
  assert.equal(t.negotiatedFeatures, wanted);
  const [q0, q1] = device.activations[0].queues;
  assert.equal(q0?.size, 16);
  assert.equal(q1?.size, 8);
  write32(t, R.QueueSel, 1);
  assert.equal(read32(t, R.QueueReady), 1);
  assert.equal(read32(t, R.QueueNumMax), 8);
  assert.equal(read32(t, R.QueueDescLow), queues[1].desc);
  assert.equal(read32(t, R.QueueDriverLow), queues[1].avail);
  assert.equal(read32(t, R.QueueDeviceLow), queues[1].used);
  write32(t, R.QueueSel, 2);
  assert.equal(read32(t, R.QueueNumMax), 0, 'no third queue');
  assert.equal(read32(t, R.QueueReady), 0);
});

test('FEATURES_OK is refused (stays clear) for features not offered, and on v2 without VERSION_1; DRIVER_OK then activates nothing', () => {
  for (const asked of [(1n << 32n) | (1n << 5n), 1n << 3n, (1n << 32n) | (1n << 100n)]) {
    const { t, device } = setup();
    write32(t, R.Status, S.Acknowledge | S.Driver);
    for (let sel = 0; sel < 4; sel++) {
      write32(t, R.DriverFeaturesSel, sel);
      write32(t, R.DriverFeatures, Number((asked >> BigInt(32 * sel)) & 0xffff_ffffn));
    }
    write32(t, R.Status, S.Acknowledge | S.Driver | S.FeaturesOk);
    assert.equal(read32(t, R.Status), S.Acknowledge | S.Driver, `asked 0x${asked.toString(16)}`);
    write32(t, R.Status, S.Acknowledge | S.Driver | S.DriverOk);
    assert.equal(device.activations.length, 0);
  }
  // a driver asking in a select word beyond any feature
  const { t } = setup();
  write32(t, R.DriverFeaturesSel, 1);
  write32(t, R.DriverFeatures, 1);
  write32(t, R.DriverFeaturesSel, 7);
  write32(t, R.DriverFeatures, 1);
  write32(t, R.Status, S.FeaturesOk);
  assert.equal(read32(t, R.Status) & S.FeaturesOk, 0);
});

test('driver features are frozen once FEATURES_OK is set', () => {
  const { t, ram, device } = setup();
  initModern(t, ram, 1n << 32n);
  write32(t, R.DriverFeaturesSel, 0);
  write32(t, R.DriverFeatures, 1 << 3);
  assert.equal(t.negotiatedFeatures, 1n << 32n);
  assert.equal(device.activations[0].features, 1n << 32n);
});

test('used-buffer interrupt: InterruptStatus bit 0, the IRQ line high until the driver acknowledges', () => {
  const { t, ram, levels, device } = setup();
  const [q0] = initModern(t, ram, ALL);
  const buf = ram.alloc(64);
  const head = q0.add([{ gpa: buf, length: 64, writable: true }]);
  assert.equal(read32(t, R.InterruptStatus), 0);
  write32(t, R.QueueNotify, 0);
  assert.deepEqual(device.notified, [0]);
  assert.deepEqual(q0.takeUsed(), [{ id: head, len: 64 }]);
  assert.equal(read32(t, R.InterruptStatus), VIRTIO_MMIO_INT_VRING);
  assert.deepEqual(levels, [true]);
  write32(t, R.InterruptAck, VIRTIO_MMIO_INT_CONFIG);
  assert.deepEqual(levels, [true], 'acknowledging another bit leaves the line high');
  write32(t, R.InterruptAck, VIRTIO_MMIO_INT_VRING);
  assert.equal(read32(t, R.InterruptStatus), 0);
  assert.deepEqual(levels, [true, false]);
  assert.equal(t.stats.notifications, 1);
  assert.equal(t.stats.interrupts, 1);
});

test('config space at 0x100: little-endian at any width, 0 past its end; writes reach the device; accesses counted', () => {
  const { t, device } = setup();
  assert.equal(t.read(0x100, 4, 0), 0x12345678);
  assert.equal(t.read(0x101, 2, 0), 0x3456);
  assert.equal(t.read(0x107, 1, 0), 0x9a);
  assert.equal(t.read(0x100, 8, 0), 0x9abcdef0_12345678n);
  assert.equal(t.read(0x106, 4, 0), 0, 'straddles the end');
  assert.equal(t.read(0x1f0, 4, 0), 0);
  t.write(0x104, 2, 0xbeef, 0);
  assert.deepEqual(device.configWrites, [[4, 2, 0xbeef]]);
  assert.equal(t.stats.configAccesses, 7);
});

test('config generation: bumped by a config change, which interrupts (bit 1) only once DRIVER_OK is set', () => {
  const { t, ram, device, levels } = setup();
  device.host.configChanged();
  assert.equal(read32(t, R.ConfigGeneration), 1);
  assert.equal(read32(t, R.InterruptStatus), 0, 'no interrupt before the driver is running');
  initModern(t, ram, ALL);
  device.host.configChanged();
  assert.equal(read32(t, R.ConfigGeneration), 2);
  assert.equal(read32(t, R.InterruptStatus), VIRTIO_MMIO_INT_CONFIG);
  assert.deepEqual(levels, [true]);
  write32(t, R.InterruptAck, VIRTIO_MMIO_INT_CONFIG);
  assert.deepEqual(levels, [true, false]);
});

test('writing 0 to Status resets the device, queues, features and interrupts', () => {
  const { t, ram, device, levels } = setup();
  const [q0] = initModern(t, ram, ALL);
  q0.add([{ gpa: ram.alloc(8), length: 8, writable: true }]);
  write32(t, R.QueueNotify, 0);
  assert.deepEqual(levels, [true]);
  write32(t, R.Status, 0);
  assert.equal(device.resets >= 1, true);
  assert.equal(read32(t, R.Status), 0);
  assert.equal(read32(t, R.InterruptStatus), 0);
  assert.deepEqual(levels, [true, false]);
  assert.equal(t.isActivated, false);
  for (const sel of [0, 1]) {
    write32(t, R.QueueSel, sel);
    assert.equal(read32(t, R.QueueReady), 0);
    assert.equal(read32(t, R.QueueDescLow), 0);
    assert.equal(read32(t, R.QueueDriverLow), 0);
    assert.equal(read32(t, R.QueueDeviceLow), 0);
  }
  assert.equal(t.negotiatedFeatures, 0n);
  write32(t, R.QueueNotify, 0);
  assert.deepEqual(device.notified, [0], 'a notify after reset reaches no device');
  // and the device comes up again
  const [again] = initModern(t, ram, ALL);
  const head = again.add([{ gpa: ram.alloc(8), length: 8, writable: true }]);
  write32(t, R.QueueNotify, 0);
  assert.deepEqual(again.takeUsed(), [{ id: head, len: 8 }]);
  assert.equal(device.activations.length, 2);
});

test('notifications before DRIVER_OK or for a queue that does not exist reach no device', () => {
  const { t, ram, device } = setup();
  write32(t, R.QueueNotify, 0);
  initModern(t, ram, ALL);
  write32(t, R.QueueNotify, 5);
  write32(t, R.QueueNotify, 0xffff_ffff);
  assert.deepEqual(device.notified, []);
  assert.equal(t.stats.notifications, 3);
});

test('queue registers are ignored while the queue is ready', () => {
  const { t, ram } = setup();
  const [q0] = initModern(t, ram, ALL);
  write32(t, R.QueueSel, 0);
  write32(t, R.QueueNum, 4);
  write32(t, R.QueueDescLow, 0x1000);
  assert.equal(read32(t, R.QueueNum), 16);
  assert.equal(read32(t, R.QueueDescLow), q0.desc);
});

test('unknown, unaligned and narrow register accesses read 0 and write nothing; no shared memory regions', () => {
  const { t } = setup();
  for (const off of [0x018, 0x04c, 0x0c0, 0x0f8, 0x0fe]) assert.equal(read32(t, off), 0, `0x${off.toString(16)}`);
  assert.equal(t.read(R.MagicValue, 1, 0), 0);
  assert.equal(t.read(R.MagicValue, 2, 0), 0);
  assert.equal(t.read(R.MagicValue + 1, 4, 0), 0);
  assert.equal(t.read(R.MagicValue, 8, 0), 0n);
  t.write(R.Status, 1, 1, 0);
  t.write(R.Status + 2, 4, 1, 0);
  assert.equal(read32(t, R.Status), 0);
  write32(t, R.ShmSel, 0);
  assert.equal(read32(t, R.ShmLenLow), 0xffff_ffff);
  assert.equal(read32(t, R.ShmLenHigh), 0xffff_ffff);
  write32(t, 0x0f0, 123); // nothing there
  assert.equal(read32(t, 0x0f0), 0);
});

test('a malformed chain: DEVICE_NEEDS_RESET, a config interrupt, counted; the queue stops until reset', () => {
  const { t, ram, device, levels } = setup();
  const [q0] = initModern(t, ram, ALL);
  q0.publish(200); // head index past the queue
  write32(t, R.QueueNotify, 0);
  assert.equal(read32(t, R.Status) & S.DeviceNeedsReset, S.DeviceNeedsReset);
  assert.equal(read32(t, R.InterruptStatus), VIRTIO_MMIO_INT_CONFIG);
  assert.deepEqual(levels, [true]);
  assert.equal(t.stats.malformedChains, 1);
  assert.match(t.lastError!, /head 200/);
  write32(t, R.Status, S.Acknowledge | S.Driver | S.FeaturesOk | S.DriverOk);
  assert.ok(read32(t, R.Status) & S.DeviceNeedsReset, 'the driver cannot clear NEEDS_RESET');
  write32(t, R.QueueNotify, 0);
  assert.deepEqual(device.notified, [0], 'a broken queue is not handed to the device again');
  write32(t, R.Status, 0);
  assert.equal(read32(t, R.Status), 0);
});

test('an invalid queue size or rings outside RAM at DRIVER_OK: NEEDS_RESET instead of activation', () => {
  for (const bad of ['size', 'rings'] as const) {
    const { t, ram, device } = setup();
    write32(t, R.Status, S.Acknowledge | S.Driver);
    write32(t, R.DriverFeaturesSel, 1);
    write32(t, R.DriverFeatures, 1);
    write32(t, R.Status, S.Acknowledge | S.Driver | S.FeaturesOk);
    const q = new DriverQueue(ram, 16);
    write32(t, R.QueueSel, 0);
    write32(t, R.QueueNum, bad === 'size' ? 12 : 16);
    write32(t, R.QueueDescLow, bad === 'rings' ? 0x1000 : q.desc);
    write32(t, R.QueueDriverLow, q.avail);
    write32(t, R.QueueDeviceLow, q.used);
    write32(t, R.QueueReady, 1);
    write32(t, R.Status, S.Acknowledge | S.Driver | S.FeaturesOk | S.DriverOk);
    assert.equal(device.activations.length, 0, bad);
    assert.ok(read32(t, R.Status) & S.DeviceNeedsReset, bad);
  }
});

test('a device that throws is contained: counted as an internal error, NEEDS_RESET, nothing escapes', () => {
  const { t, ram, device } = setup();
  initModern(t, ram, ALL);
  device.throwOnNotify = true;
  write32(t, R.QueueNotify, 0);
  assert.equal(t.stats.internalErrors, 1);
  assert.ok(read32(t, R.Status) & S.DeviceNeedsReset);
  assert.match(t.lastError!, /device bug/);
});

test('legacy (version 1): no VERSION_1, GuestPageSize + QueuePFN layout, activation at DRIVER_OK', () => {
  const { t, ram, device } = setup(true);
  assert.equal(read32(t, R.Version), 1);
  write32(t, R.DeviceFeaturesSel, 1);
  assert.equal(read32(t, R.DeviceFeatures), 1 << 8, 'bit 40 only: no VERSION_1');
  assert.equal(read32(t, R.ConfigGeneration), 0);
  // Linux's legacy sequence (virtio_mmio.c, version 1)
  write32(t, R.Status, 0);
  write32(t, R.Status, S.Acknowledge);
  write32(t, R.Status, S.Acknowledge | S.Driver);
  write32(t, R.DriverFeaturesSel, 0);
  write32(t, R.DriverFeatures, (1 << 3) | (1 << 28) | (1 << 5)); // bit 5 not offered: masked away
  write32(t, R.DriverFeaturesSel, 1);
  write32(t, R.DriverFeatures, 0);
  write32(t, R.LegacyGuestPageSize, 4096);
  write32(t, R.QueueSel, 0);
  assert.equal(read32(t, R.LegacyQueuePfn), 0);
  assert.equal(read32(t, R.QueueNumMax), 16);
  const area = ram.alloc(3 * 4096, 4096);
  write32(t, R.QueueNum, 8);
  write32(t, R.LegacyQueueAlign, 4096);
  write32(t, R.LegacyQueuePfn, area / 4096);
  assert.equal(read32(t, R.LegacyQueuePfn), area / 4096);
  assert.equal(read32(t, R.QueueReady), 0, 'no QueueReady register in version 1');
  write32(t, R.Status, S.Acknowledge | S.Driver | S.DriverOk);
  assert.equal(device.activations.length, 1);
  assert.equal(device.activations[0].features, (1n << 3n) | (1n << 28n));
  assert.equal(device.activations[0].queues[0]?.size, 8);
  assert.equal(device.activations[0].queues[1], undefined, 'queue 1 was not set up');
  // the rings where the legacy layout puts them: avail after 8 descriptors, used on the next page
  const dq = new DriverQueue(ram, 8, { desc: area, avail: area + 128, used: area + 4096 });
  const buf = ram.alloc(32);
  const head = dq.add([{ gpa: buf, length: 32, writable: true }]);
  write32(t, R.QueueNotify, 0);
  assert.deepEqual(dq.takeUsed(), [{ id: head, len: 32 }]);
  assert.equal(read32(t, R.InterruptStatus), VIRTIO_MMIO_INT_VRING);
  assert.ok(area >= RAM_BASE);
});
