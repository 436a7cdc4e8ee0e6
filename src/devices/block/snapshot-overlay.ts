// --disk FILE,snapshot (QEMU's -snapshot): the guest may write, but its
// writes go to memory over a read-only base and are dropped on close; the
// image file is never written.
//
// The overlay is kept in 4 KiB blocks (a guest's page and file-system block
// size, so aligned guest writes never read the base and take no more memory
// than they write), grouped in 1 MiB regions so that zeroing or discarding a
// large range (mkfs discards the whole disk) costs one marker per region,
// not one entry per block.

import { BlockBackend, BlockIoError } from './block-backend';
import { isValidSerial } from './serial';

const BLOCK_BYTES = 4096;
const BLOCKS_PER_REGION = 256;
const REGION_BYTES = BLOCK_BYTES * BLOCKS_PER_REGION;

/** A block's state: its bytes, ZERO (reads as zeroes) or undefined (reads from the base). */
type Block = Uint8Array | typeof ZERO | undefined;
const ZERO = 0;
/** A region: its blocks, or ZERO when all of it reads as zeroes. */
type Region = Block[] | typeof ZERO;

export interface SnapshotOverlayOptions {
  /** Serial the guest sees; the base's when omitted. */
  readonly serial?: string;
  /**
   * Most bytes of guest data the overlay may hold; a write that needs more
   * fails with BlockIoError (the guest sees an I/O error instead of the VMM
   * running out of memory). Unlimited when omitted.
   */
  readonly maxBytes?: number;
}

export class SnapshotOverlay implements BlockBackend {
  readonly readOnly = false;
  readonly byteLength: number;
  readonly serial: string;
  private readonly regions = new Map<number, Region>();
  private readonly maxBytes: number;
  private heldBytes = 0;
  private closed = false;

  /** Takes ownership of `base` (closed with the overlay), which is only ever read. */
  constructor(private readonly base: BlockBackend, options: SnapshotOverlayOptions = {}) {
    this.byteLength = base.byteLength;
    this.serial = options.serial ?? base.serial;
    if (!isValidSerial(this.serial)) throw new RangeError(`invalid disk serial ${JSON.stringify(this.serial)}`);
    this.maxBytes = options.maxBytes ?? Infinity;
  }

  /** Bytes of guest data held in memory (for tests and statistics). */
  get overlayBytes(): number {
    return this.heldBytes;
  }

  read(offset: number, into: Uint8Array): void {
    this.checkRequest('read', offset, into.length);
    const end = offset + into.length;
    // Consecutive blocks that come from the base are read with one base read.
    let baseRunStart = -1;
    const flushBaseRun = (upTo: number) => {
      if (baseRunStart < 0) return;
      this.base.read(baseRunStart, into.subarray(baseRunStart - offset, upTo - offset));
      baseRunStart = -1;
    };
    for (let at = offset; at < end;) {
      const blockStart = at - (at % BLOCK_BYTES);
      const pieceEnd = Math.min(end, blockStart + BLOCK_BYTES);
      const block = this.blockAt(blockStart);
      if (block === undefined) {
        if (baseRunStart < 0) baseRunStart = at;
      } else {
        flushBaseRun(at);
        if (block === ZERO) into.fill(0, at - offset, pieceEnd - offset);
        else into.set(block.subarray(at - blockStart, pieceEnd - blockStart), at - offset);
      }
      at = pieceEnd;
    }
    flushBaseRun(end);
  }

  write(offset: number, from: Uint8Array): void {
    this.checkRequest('write', offset, from.length);
    const end = offset + from.length;
    for (let at = offset; at < end;) {
      const blockStart = at - (at % BLOCK_BYTES);
      const pieceEnd = Math.min(end, blockStart + BLOCK_BYTES);
      const wholeBlock = at === blockStart && pieceEnd === this.blockEnd(blockStart);
      const bytes = this.materialize(blockStart, !wholeBlock);
      bytes.set(from.subarray(at - offset, pieceEnd - offset), at - blockStart);
      at = pieceEnd;
    }
  }

  /** Nothing reaches stable storage in a snapshot, so there is nothing to wait for. */
  flush(): void {
    this.checkOpen('flush');
  }

  /** Reads back as zeroes, like RawImage's discard; held in memory, not in the file. */
  discard(offset: number, length: number): void {
    this.checkRequest('discard', offset, length);
    this.zeroRange(offset, length);
  }

  writeZeroes(offset: number, length: number): void {
    this.checkRequest('write-zeroes', offset, length);
    this.zeroRange(offset, length);
  }

  /** Drops every write and closes the base. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.regions.clear();
    this.heldBytes = 0;
    this.base.close();
  }

  private zeroRange(offset: number, length: number): void {
    const end = offset + length;
    for (let at = offset; at < end;) {
      const regionStart = at - (at % REGION_BYTES);
      const regionEnd = Math.min(regionStart + REGION_BYTES, this.byteLength);
      if (at === regionStart && end >= regionEnd) {
        this.dropRegion(regionStart);
        this.regions.set(regionStart / REGION_BYTES, ZERO);
        at = regionEnd;
        continue;
      }
      const blockStart = at - (at % BLOCK_BYTES);
      const pieceEnd = Math.min(end, blockStart + BLOCK_BYTES);
      if (at === blockStart && pieceEnd === this.blockEnd(blockStart)) {
        this.setBlock(blockStart, ZERO);
      } else if (this.blockAt(blockStart) !== ZERO) {
        this.materialize(blockStart, true).fill(0, at - blockStart, pieceEnd - blockStart);
      }
      at = pieceEnd;
    }
  }

  private blockAt(blockStart: number): Block {
    const region = this.regions.get(Math.floor(blockStart / REGION_BYTES));
    if (region === undefined || region === ZERO) return region;
    return region[(blockStart % REGION_BYTES) / BLOCK_BYTES];
  }

  private blockEnd(blockStart: number): number {
    return Math.min(blockStart + BLOCK_BYTES, this.byteLength);
  }

  /** The block's bytes in the overlay, made from its current contents when `keepContents`. */
  private materialize(blockStart: number, keepContents: boolean): Uint8Array {
    const current = this.blockAt(blockStart);
    if (current instanceof Uint8Array) return current;
    const length = this.blockEnd(blockStart) - blockStart;
    if (this.heldBytes + length > this.maxBytes) {
      throw new BlockIoError(`snapshot overlay is full (${this.heldBytes} of at most ${this.maxBytes} bytes held)`);
    }
    const bytes = new Uint8Array(length);
    if (keepContents && current === undefined) this.base.read(blockStart, bytes);
    this.setBlock(blockStart, bytes);
    this.heldBytes += length;
    return bytes;
  }

  private setBlock(blockStart: number, block: Uint8Array | typeof ZERO): void {
    const regionIndex = Math.floor(blockStart / REGION_BYTES);
    let region = this.regions.get(regionIndex);
    if (region === undefined || region === ZERO) {
      // A ZERO region splits into blocks that all read as zeroes.
      region = new Array<Block>(BLOCKS_PER_REGION).fill(region === ZERO ? ZERO : undefined);
      this.regions.set(regionIndex, region);
    }
    const index = (blockStart % REGION_BYTES) / BLOCK_BYTES;
    const previous = region[index];
    if (previous instanceof Uint8Array && previous !== block) this.heldBytes -= previous.length;
    region[index] = block;
  }

  private dropRegion(regionStart: number): void {
    const region = this.regions.get(regionStart / REGION_BYTES);
    if (region === undefined || region === ZERO) return;
    for (const block of region) if (block instanceof Uint8Array) this.heldBytes -= block.length;
  }

  private checkOpen(what: string): void {
    if (this.closed) throw new BlockIoError(`${what} on a snapshot overlay after it was closed`);
  }

  private checkRequest(what: string, offset: number, length: number): void {
    this.checkOpen(what);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 ||
        offset + length > this.byteLength) {
      throw new BlockIoError(`${what} of ${length} bytes at ${offset} is outside the disk (${this.byteLength} bytes)`);
    }
  }
}
