// The split virtqueue (Virtio 1.2 §2.7), the one implementation every virtio
// device uses: descriptor table, available ring and used ring in guest RAM,
// little-endian, reached only through GuestMemory views so that no address a
// guest writes can make the device touch memory outside the guest.
//
// A chain the driver built wrongly is never an exception: the queue marks
// itself broken, reports the reason once (the transport then sets
// DEVICE_NEEDS_RESET, as QEMU's virtio_error does) and hands out nothing more
// until the driver resets the device. The checks are rust-vmm vm-virtio's:
// index bounds, loops, nested or chained indirect tables, table sizes, buffer
// ranges, readable-after-writable order, and an avail index running ahead.

import type { GuestMemory } from '../../io/guest-memory';

/** Feature bits of the ring layer (§6), offered by every transport. */
export const VIRTIO_F_RING_INDIRECT_DESC = 28;
export const VIRTIO_F_RING_EVENT_IDX = 29;
export const VIRTIO_F_VERSION_1 = 32;

const DESC_F_NEXT = 1;
const DESC_F_WRITE = 2;
const DESC_F_INDIRECT = 4;
const AVAIL_F_NO_INTERRUPT = 1;

const DESC_BYTES = 16;
/** The largest split queue (§2.7: Queue Size is a power of 2, at most 32768). */
export const MAX_QUEUE_SIZE = 32768;
/** rust-vmm's bound on an indirect table: its entries must be numbered by a u16. */
const MAX_INDIRECT_ENTRIES = 0xffff;

/**
 * A guest-physical address from the two u32 halves a register pair or
 * descriptor holds. Anything at or above 2^53 cannot be RAM (and would not be
 * exact as a number), so it becomes -1, which every GuestMemory refuses.
 */
export function addressFromHalves(low: number, high: number): number {
  return high < 0x20_0000 ? high * 0x1_0000_0000 + (low >>> 0) : -1;
}

/** Byte offsets of one split queue's three parts in the guest (§2.7). */
export interface SplitRingAddresses {
  readonly descTable: number;
  readonly availRing: number;
  readonly usedRing: number;
}

/**
 * The legacy (virtio-mmio version 1) layout (§2.7.2 legacy interface, §4.2.4):
 * one contiguous area at QueuePFN × GuestPageSize, the available ring right
 * after the descriptor table and the used ring at the next QueueAlign
 * boundary. Undefined when the numbers give no representable layout.
 */
export function legacyRingAddresses(pfn: number, guestPageSize: number, align: number, size: number): SplitRingAddresses | undefined {
  if (!isPowerOfTwo(guestPageSize) || !isPowerOfTwo(align)) return undefined;
  const descTable = pfn * guestPageSize;
  const availRing = descTable + DESC_BYTES * size;
  // flags, idx, ring[size], used_event: 2 × (3 + size) bytes
  const availEnd = availRing + 2 * (3 + size);
  const usedRing = Math.ceil(availEnd / align) * align;
  if (!Number.isSafeInteger(usedRing + 6 + 8 * size)) return undefined;
  return { descTable, availRing, usedRing };
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && n <= 0x8000_0000 && (n & (n - 1)) === 0;
}

function u16(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}

function u32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) + b[o + 3] * 0x100_0000;
}

function putU16(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
}

function putU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
  b[o + 2] = v >>> 16;
  b[o + 3] = v >>> 24;
}

/**
 * One request the driver made available: its buffers as live views of guest
 * RAM (zero copy), device-readable ones first, in chain order. Zero-length
 * descriptors are left out.
 */
export class DescriptorChain {
  constructor(
    /** Descriptor index of the chain's head: what pushUsed gives back. */
    readonly head: number,
    readonly readable: readonly Uint8Array[],
    readonly writable: readonly Uint8Array[],
    readonly readableLength: number,
    readonly writableLength: number,
  ) {}
}

export interface VirtqueueOptions {
  readonly memory: GuestMemory;
  /** Queue Size as negotiated: a power of 2, 1 to 32768. */
  readonly size: number;
  readonly addresses: SplitRingAddresses;
  /** VIRTIO_F_RING_INDIRECT_DESC was negotiated. */
  readonly indirectDescriptors: boolean;
  /** VIRTIO_F_RING_EVENT_IDX was negotiated. */
  readonly eventIdx: boolean;
  /** Raises the used-buffer notification (the transport's interrupt). */
  readonly notifyDriver: () => void;
  /** Told once when the driver broke the protocol on this queue. */
  readonly onError: (reason: string) => void;
}

export class Virtqueue {
  readonly size: number;
  /** Set when the driver broke the protocol; nothing is processed until reset. */
  broken = false;
  errorReason: string | undefined;

  private readonly memory: GuestMemory;
  private readonly addresses: SplitRingAddresses;
  private readonly indirectDescriptors: boolean;
  private readonly eventIdx: boolean;
  private readonly notifyDriverCallback: () => void;
  private readonly onError: (reason: string) => void;
  private descTable: Uint8Array;
  private availRing: Uint8Array;
  private usedRing: Uint8Array;
  /** The device's copy of where it is in the available ring (wraps at 2^16). */
  private nextAvail = 0;
  /** The used ring's idx as the device last wrote it. */
  private usedIdx = 0;
  /** usedIdx when signalUsed last ran (event idx's "old"); undefined before the first. */
  private signalledUsedIdx: number | undefined;

  /**
   * The queue, or why the driver's settings give none (size not a power of
   * two, rings misaligned or not in RAM): the transport reports that as a
   * device error.
   */
  static create(options: VirtqueueOptions): Virtqueue | string {
    const { size, addresses: a } = options;
    if (!isPowerOfTwo(size) || size > MAX_QUEUE_SIZE) return `queue size ${size} is not a power of 2 up to ${MAX_QUEUE_SIZE}`;
    // §2.7: descriptor table 16-byte, available ring 2-byte, used ring 4-byte aligned
    if (a.descTable % 16 !== 0 || a.availRing % 2 !== 0 || a.usedRing % 4 !== 0) return 'queue rings are misaligned';
    const queue = new Virtqueue(options);
    return queue.mapRings() ? queue : 'queue rings are not in guest RAM';
  }

  private constructor(options: VirtqueueOptions) {
    this.memory = options.memory;
    this.size = options.size;
    this.addresses = options.addresses;
    this.indirectDescriptors = options.indirectDescriptors;
    this.eventIdx = options.eventIdx;
    this.notifyDriverCallback = options.notifyDriver;
    this.onError = options.onError;
    this.descTable = this.availRing = this.usedRing = new Uint8Array(0);
  }

  /**
   * (Re)takes the views of the three rings. Views are cached for speed; one
   * of length 0 means its buffer was detached (a WebAssembly memory grew),
   * and the rings are looked up again.
   */
  private mapRings(): boolean {
    const { descTable, availRing, usedRing } = this.addresses;
    const desc = this.memory.view(descTable, DESC_BYTES * this.size);
    const avail = this.memory.view(availRing, 6 + 2 * this.size);
    const used = this.memory.view(usedRing, 6 + 8 * this.size);
    if (!desc || !avail || !used) return false;
    this.descTable = desc;
    this.availRing = avail;
    this.usedRing = used;
    return true;
  }

  private ringsUsable(): boolean {
    if (this.broken) return false;
    if (this.availRing.length !== 0 && this.usedRing.length !== 0 && this.descTable.length !== 0) return true;
    if (this.mapRings()) return true;
    this.fail('queue rings are no longer in guest RAM');
    return false;
  }

  private fail(reason: string): undefined {
    if (!this.broken) {
      this.broken = true;
      this.errorReason = reason;
      this.onError(reason);
    }
    return undefined;
  }

  /** Whether the driver has made a chain available that pop would return (or find malformed). */
  hasAvailable(): boolean {
    if (!this.ringsUsable()) return false;
    return u16(this.availRing, 2) !== this.nextAvail;
  }

  /**
   * The next available chain, or undefined when there is none or the queue
   * is (now) broken. With event idx it also sets avail_event to ask for a
   * notification as soon as the driver adds past what has been taken.
   */
  pop(): DescriptorChain | undefined {
    if (!this.ringsUsable()) return undefined;
    const avail = this.availRing;
    const availIdx = u16(avail, 2);
    const pending = (availIdx - this.nextAvail) & 0xffff;
    if (pending > this.size) return this.fail(`available index ${availIdx} is ${pending} entries ahead of ${this.nextAvail}, more than the queue size ${this.size}`);
    if (pending === 0) {
      if (this.eventIdx) putU16(this.usedRing, 4 + 8 * this.size, this.nextAvail);
      return undefined;
    }
    const head = u16(avail, 4 + 2 * (this.nextAvail & (this.size - 1)));
    this.nextAvail = (this.nextAvail + 1) & 0xffff;
    if (this.eventIdx) putU16(this.usedRing, 4 + 8 * this.size, this.nextAvail);
    return this.walkChain(head);
  }

  private walkChain(head: number): DescriptorChain | undefined {
    if (head >= this.size) return this.fail(`chain head ${head} is not below the queue size ${this.size}`);
    const readable: Uint8Array[] = [];
    const writable: Uint8Array[] = [];
    let readableLength = 0;
    let writableLength = 0;
    let table = this.descTable;
    let entries = this.size;
    let inIndirect = false;
    let index = head;
    let visited = 0;
    let sawWritable = false;
    for (;;) {
      if (index >= entries) return this.fail(`descriptor index ${index} is not below ${inIndirect ? 'the indirect table size' : 'the queue size'} ${entries}`);
      // More descriptors than the table holds can only be a loop (§2.7.5.3.1).
      if (++visited > entries) return this.fail(`descriptor chain from head ${head} is longer than its table (${entries}): a loop`);
      const o = index * DESC_BYTES;
      const address = addressFromHalves(u32(table, o), u32(table, o + 4));
      const length = u32(table, o + 8);
      const flags = u16(table, o + 12);
      const next = u16(table, o + 14);
      if (flags & DESC_F_INDIRECT) {
        if (!this.indirectDescriptors) return this.fail('indirect descriptor without VIRTIO_F_RING_INDIRECT_DESC');
        if (inIndirect) return this.fail('indirect descriptor inside an indirect table');
        if (flags & DESC_F_NEXT) return this.fail('indirect descriptor with NEXT set');
        if (length === 0 || length % DESC_BYTES !== 0) return this.fail(`indirect table length ${length} is not a non-zero multiple of 16`);
        if (length / DESC_BYTES > MAX_INDIRECT_ENTRIES) return this.fail(`indirect table of ${length / DESC_BYTES} entries`);
        const indirect = this.memory.view(address, length);
        if (!indirect) return this.fail(`indirect table at 0x${address.toString(16)}+${length} is not in guest RAM`);
        // §2.7.5.3.2: the WRITE flag of the descriptor naming a table is ignored.
        table = indirect;
        entries = length / DESC_BYTES;
        inIndirect = true;
        index = 0;
        visited = 0;
        continue;
      }
      const isWritable = (flags & DESC_F_WRITE) !== 0;
      if (isWritable) sawWritable = true;
      else if (sawWritable) return this.fail(`device-readable descriptor ${index} after a device-writable one`);
      if (length > 0) {
        const buffer = this.memory.view(address, length);
        if (!buffer) return this.fail(`buffer at 0x${address < 0 ? '≥2^53' : address.toString(16)}+${length} is not in guest RAM`);
        if (isWritable) {
          writable.push(buffer);
          writableLength += length;
        } else {
          readable.push(buffer);
          readableLength += length;
        }
      }
      if (!(flags & DESC_F_NEXT)) break;
      index = next;
    }
    return new DescriptorChain(head, readable, writable, readableLength, writableLength);
  }

  /** Returns a chain to the driver through the used ring, with how many bytes the device wrote into it. */
  pushUsed(head: number, writtenLength: number): void {
    if (!this.ringsUsable()) return;
    const used = this.usedRing;
    const o = 4 + 8 * (this.usedIdx & (this.size - 1));
    putU32(used, o, head);
    putU32(used, o + 4, writtenLength);
    // the entry first, then the index that publishes it (§2.7.8.2)
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    putU16(used, 2, this.usedIdx);
  }

  /**
   * Sends the used-buffer notification if the driver wants one for what was
   * pushed since the last call: with event idx when used idx passes
   * used_event (vring_need_event), otherwise unless avail flags say
   * NO_INTERRUPT. Devices call it once after a batch of pushUsed.
   */
  signalUsed(): void {
    if (!this.ringsUsable()) return;
    const now = this.usedIdx;
    const old = this.signalledUsedIdx;
    if (old === now) return;
    this.signalledUsedIdx = now;
    let wanted: boolean;
    if (this.eventIdx) {
      const usedEvent = u16(this.availRing, 4 + 2 * this.size);
      wanted = old === undefined || needsEvent(usedEvent, now, old);
    } else {
      wanted = (u16(this.availRing, 0) & AVAIL_F_NO_INTERRUPT) === 0;
    }
    if (wanted) this.notifyDriverCallback();
  }
}

/**
 * vring_need_event (§2.7.10): whether moving an index from `old` to `now`
 * crossed `event`, i.e. event is in [old, now) modulo 2^16.
 */
export function needsEvent(event: number, now: number, old: number): boolean {
  return ((now - event - 1) & 0xffff) < ((now - old) & 0xffff);
}

// Helpers for devices reading and writing a chain's scattered buffers.

/** Copies bytes from `buffers`, starting `offset` bytes into them, into `into`; returns how many. */
export function gatherBytes(buffers: readonly Uint8Array[], offset: number, into: Uint8Array): number {
  let copied = 0;
  for (const b of buffers) {
    if (copied === into.length) break;
    if (offset >= b.length) {
      offset -= b.length;
      continue;
    }
    const n = Math.min(b.length - offset, into.length - copied);
    into.set(b.subarray(offset, offset + n), copied);
    copied += n;
    offset = 0;
  }
  return copied;
}

/** Copies `from` into `buffers`, starting `offset` bytes into them; returns how many bytes fitted. */
export function scatterBytes(buffers: readonly Uint8Array[], offset: number, from: Uint8Array): number {
  let copied = 0;
  for (const b of buffers) {
    if (copied === from.length) break;
    if (offset >= b.length) {
      offset -= b.length;
      continue;
    }
    const n = Math.min(b.length - offset, from.length - copied);
    b.set(from.subarray(copied, copied + n), offset);
    copied += n;
    offset = 0;
  }
  return copied;
}

/** Views of the `length` bytes starting `offset` bytes into `buffers` (fewer when they run out). */
export function sliceBuffers(buffers: readonly Uint8Array[], offset: number, length: number): Uint8Array[] {
  const slices: Uint8Array[] = [];
  for (const b of buffers) {
    if (length === 0) break;
    if (offset >= b.length) {
      offset -= b.length;
      continue;
    }
    const n = Math.min(b.length - offset, length);
    slices.push(b.subarray(offset, offset + n));
    length -= n;
    offset = 0;
  }
  return slices;
}
