// A minimal virtio driver for the device tests: guest RAM inside a larger
// buffer (guard bytes either side, to prove no device writes outside it),
// split rings laid out by hand at the spec's offsets, and the Linux
// virtio_mmio init sequence done register by register.

import assert from 'node:assert/strict';
import { SlotMemory } from '../../src/io/guest-memory';
import { VirtioMmioRegister as R, VirtioMmioTransport, VirtioStatus as S } from '../../src/devices/virtio/mmio-transport';

export const RAM_BASE = 0x4000_0000;
export const GUARD_BYTES = 4096;
export const GUARD_FILL = 0xa5;

export class GuestRam {
  /** RAM plus a guard region either side. */
  readonly storage: Uint8Array;
  readonly bytes: Uint8Array;
  readonly memory: SlotMemory;
  private next = 0;

  constructor(readonly size = 1 << 20) {
    this.storage = new Uint8Array(size + 2 * GUARD_BYTES).fill(GUARD_FILL);
    this.bytes = this.storage.subarray(GUARD_BYTES, GUARD_BYTES + size);
    this.bytes.fill(0);
    this.memory = new SlotMemory([{ gpa: RAM_BASE, bytes: this.bytes }]);
  }

  guardsIntact(): boolean {
    const low = this.storage.subarray(0, GUARD_BYTES), high = this.storage.subarray(GUARD_BYTES + this.size);
    return low.every(b => b === GUARD_FILL) && high.every(b => b === GUARD_FILL);
  }

  /** A guest-physical address of `bytes` free bytes, `align`-aligned. */
  alloc(bytes: number, align = 16): number {
    this.next = Math.ceil(this.next / align) * align;
    const gpa = RAM_BASE + this.next;
    this.next += bytes;
    assert.ok(this.next <= this.size, 'test guest RAM exhausted');
    return gpa;
  }

  at(gpa: number, length: number): Uint8Array {
    return this.bytes.subarray(gpa - RAM_BASE, gpa - RAM_BASE + length);
  }

  put(gpa: number, data: ArrayLike<number>): void {
    this.bytes.set(data, gpa - RAM_BASE);
  }

  u16(gpa: number): number { return this.dv().getUint16(gpa - RAM_BASE, true); }
  u32(gpa: number): number { return this.dv().getUint32(gpa - RAM_BASE, true); }
  setU16(gpa: number, v: number): void { this.dv().setUint16(gpa - RAM_BASE, v, true); }
  setU32(gpa: number, v: number): void { this.dv().setUint32(gpa - RAM_BASE, v, true); }
  setU64(gpa: number, v: bigint): void { this.dv().setBigUint64(gpa - RAM_BASE, v, true); }

  private dv(): DataView {
    return new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }
}

export interface Buffer { readonly gpa: number; readonly length: number; readonly writable?: boolean }

export const DESC_F_NEXT = 1, DESC_F_WRITE = 2, DESC_F_INDIRECT = 4;

/** One split queue from the driver's side, at spec offsets (§2.7). */
export class DriverQueue {
  readonly desc: number;
  readonly avail: number;
  readonly used: number;
  private nextDesc = 0;
  private availIdx = 0;
  private usedSeen = 0;

  constructor(readonly ram: GuestRam, readonly size: number, layout?: { desc: number; avail: number; used: number }) {
    this.desc = layout?.desc ?? ram.alloc(16 * size, 16);
    this.avail = layout?.avail ?? ram.alloc(6 + 2 * size, 2);
    this.used = layout?.used ?? ram.alloc(6 + 8 * size, 4);
  }

  writeDescriptor(index: number, gpa: number, length: number, flags: number, next: number): void {
    const o = this.desc + 16 * index;
    this.ram.setU64(o, BigInt(gpa));
    this.ram.setU32(o + 8, length);
    this.ram.setU16(o + 12, flags);
    this.ram.setU16(o + 14, next);
  }

  /** Puts a chain of buffers in free descriptors and makes it available; returns its head. */
  add(buffers: readonly Buffer[]): number {
    assert.ok(buffers.length > 0 && buffers.length <= this.size);
    const indices = buffers.map(() => { const i = this.nextDesc; this.nextDesc = (this.nextDesc + 1) % this.size; return i; });
    buffers.forEach((b, k) => {
      const last = k === buffers.length - 1;
      this.writeDescriptor(indices[k], b.gpa, b.length, (b.writable ? DESC_F_WRITE : 0) | (last ? 0 : DESC_F_NEXT), last ? 0 : indices[k + 1]);
    });
    this.publish(indices[0]);
    return indices[0];
  }

  /** Makes descriptor `head` available. */
  publish(head: number): void {
    this.ram.setU16(this.avail + 4 + 2 * (this.availIdx % this.size), head);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    this.ram.setU16(this.avail + 2, this.availIdx);
  }

  /** Sets avail idx directly (validation tests). */
  setAvailIdx(idx: number): void {
    this.availIdx = idx & 0xffff;
    this.ram.setU16(this.avail + 2, this.availIdx);
  }

  get usedIdx(): number { return this.ram.u16(this.used + 2); }

  /** Used entries added since the last call, as { id, len }. */
  takeUsed(): { id: number; len: number }[] {
    const out: { id: number; len: number }[] = [];
    while (this.usedSeen !== this.usedIdx) {
      const o = this.used + 4 + 8 * (this.usedSeen % this.size);
      out.push({ id: this.ram.u32(o), len: this.ram.u32(o + 4) });
      this.usedSeen = (this.usedSeen + 1) & 0xffff;
    }
    return out;
  }

  set availFlags(flags: number) { this.ram.setU16(this.avail, flags); }
  set usedEvent(idx: number) { this.ram.setU16(this.avail + 4 + 2 * this.size, idx); }
  get availEvent(): number { return this.ram.u16(this.used + 4 + 8 * this.size); }
}

export function read32(t: VirtioMmioTransport, offset: number): number {
  return t.read(offset, 4, 0) as number;
}

export function write32(t: VirtioMmioTransport, offset: number, value: number): void {
  t.write(offset, 4, value, 0);
}

/**
 * Linux's virtio_mmio probe and virtio core init (§3.1.1), v2 interface:
 * reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK (checked), queues,
 * DRIVER_OK. Accepts `wanted` ∩ offered; returns the queues.
 */
export function initModern(t: VirtioMmioTransport, ram: GuestRam, wanted: bigint, queueSizes?: number[]): DriverQueue[] {
  assert.equal(read32(t, R.MagicValue), 0x74726976);
  assert.equal(read32(t, R.Version), 2);
  write32(t, R.Status, 0);
  write32(t, R.Status, S.Acknowledge);
  write32(t, R.Status, S.Acknowledge | S.Driver);
  write32(t, R.DeviceFeaturesSel, 1);
  let offered = BigInt(read32(t, R.DeviceFeatures)) << 32n;
  write32(t, R.DeviceFeaturesSel, 0);
  offered |= BigInt(read32(t, R.DeviceFeatures));
  const accepted = offered & wanted;
  write32(t, R.DriverFeaturesSel, 1);
  write32(t, R.DriverFeatures, Number(accepted >> 32n));
  write32(t, R.DriverFeaturesSel, 0);
  write32(t, R.DriverFeatures, Number(accepted & 0xffff_ffffn));
  write32(t, R.Status, S.Acknowledge | S.Driver | S.FeaturesOk);
  assert.ok(read32(t, R.Status) & S.FeaturesOk, 'device accepted the features');
  const queues: DriverQueue[] = [];
  for (let i = 0; ; i++) {
    write32(t, R.QueueSel, i);
    const max = read32(t, R.QueueNumMax);
    if (max === 0) break;
    assert.equal(read32(t, R.QueueReady), 0);
    const size = Math.min(max, queueSizes?.[i] ?? max);
    const q = new DriverQueue(ram, size);
    write32(t, R.QueueNum, size);
    write32(t, R.QueueDescLow, q.desc); write32(t, R.QueueDescHigh, 0);
    write32(t, R.QueueDriverLow, q.avail); write32(t, R.QueueDriverHigh, 0);
    write32(t, R.QueueDeviceLow, q.used); write32(t, R.QueueDeviceHigh, 0);
    write32(t, R.QueueReady, 1);
    queues.push(q);
  }
  write32(t, R.Status, S.Acknowledge | S.Driver | S.FeaturesOk | S.DriverOk);
  return queues;
}

/** Notifies queue `index` and acknowledges whatever interrupt that raised, as the driver's handler does. */
export function kick(t: VirtioMmioTransport, index: number): void {
  write32(t, R.QueueNotify, index);
  write32(t, R.InterruptAck, read32(t, R.InterruptStatus));
}
