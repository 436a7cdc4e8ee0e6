// A BlockBackend over a byte array, for the virtio-blk tests and fuzzer: it
// records every call, and can be told to fail, so tests see exactly what
// reached the disk.

import { BlockIoError, type BlockBackend } from '../../src/devices/block/block-backend';

export type BackendCall =
  | { op: 'read' | 'write'; offset: number; length: number }
  | { op: 'discard' | 'writeZeroes'; offset: number; length: number }
  | { op: 'flush' };

export class MemoryBlockBackend implements BlockBackend {
  readonly calls: BackendCall[] = [];
  /** When set, every read, write, flush, discard and write-zeroes throws BlockIoError. */
  failing = false;
  closed = false;

  /** `bytes` is the disk (a subarray of a larger buffer lets a test check nothing outside it changes). */
  constructor(readonly bytes: Uint8Array, readonly readOnly = false, readonly serial = 'armvirt-test-disk') {
    if (bytes.length % 512 !== 0) throw new Error('a disk is a whole number of sectors');
  }

  get byteLength(): number {
    return this.bytes.length;
  }

  private check(offset: number, length: number): void {
    if (this.failing) throw new BlockIoError('injected failure');
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + length > this.bytes.length) {
      // The device must have checked this first: a test failure, not an I/O error.
      throw new RangeError(`access at ${offset}+${length} outside the ${this.bytes.length}-byte disk`);
    }
  }

  read(offset: number, into: Uint8Array): void {
    this.check(offset, into.length);
    this.calls.push({ op: 'read', offset, length: into.length });
    into.set(this.bytes.subarray(offset, offset + into.length));
  }

  write(offset: number, from: Uint8Array): void {
    this.check(offset, from.length);
    if (this.readOnly) throw new RangeError('write to a read-only disk reached the backend');
    this.calls.push({ op: 'write', offset, length: from.length });
    this.bytes.set(from, offset);
  }

  flush(): void {
    if (this.failing) throw new BlockIoError('injected failure');
    this.calls.push({ op: 'flush' });
  }

  discard(offset: number, length: number): void {
    this.check(offset, length);
    if (this.readOnly) throw new RangeError('discard on a read-only disk reached the backend');
    this.calls.push({ op: 'discard', offset, length });
    // Discarded ranges read back as a recognisable pattern, so tests see the call took effect.
    this.bytes.fill(0xdd, offset, offset + length);
  }

  writeZeroes(offset: number, length: number): void {
    this.check(offset, length);
    if (this.readOnly) throw new RangeError('write-zeroes on a read-only disk reached the backend');
    this.calls.push({ op: 'writeZeroes', offset, length });
    this.bytes.fill(0, offset, offset + length);
  }

  close(): void {
    this.closed = true;
  }
}
