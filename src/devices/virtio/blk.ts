// virtio-blk (Virtio 1.2 §5.2, device ID 2) on a BlockBackend: one request
// queue, each request a 16-byte header, data, and a status byte last.
// Requests run synchronously inside the QueueNotify exit (the backend is
// synchronous too), so a completed request is on the used ring before the
// vCPU that notified runs again.

import { BlockIoError, type BlockBackend } from '../block/block-backend';
import { DescriptorChain, gatherBytes, sliceBuffers, type Virtqueue } from './queue';
import {
  ConfigSpace, VIRTIO_ID_BLOCK, VirtioStats, featureBit, hasFeature,
  type VirtioDevice, type VirtioDeviceHost,
} from './virtio-device';

/** Feature bits (§5.2.3). */
export const VIRTIO_BLK_F_SIZE_MAX = 1;
export const VIRTIO_BLK_F_SEG_MAX = 2;
export const VIRTIO_BLK_F_RO = 5;
export const VIRTIO_BLK_F_BLK_SIZE = 6;
export const VIRTIO_BLK_F_FLUSH = 9;
export const VIRTIO_BLK_F_DISCARD = 13;
export const VIRTIO_BLK_F_WRITE_ZEROES = 14;

/** Request types (§5.2.6). */
export const VIRTIO_BLK_T_IN = 0;
export const VIRTIO_BLK_T_OUT = 1;
export const VIRTIO_BLK_T_FLUSH = 4;
export const VIRTIO_BLK_T_GET_ID = 8;
export const VIRTIO_BLK_T_DISCARD = 11;
export const VIRTIO_BLK_T_WRITE_ZEROES = 13;

/** Request status byte values. */
export const VIRTIO_BLK_S_OK = 0;
export const VIRTIO_BLK_S_IOERR = 1;
export const VIRTIO_BLK_S_UNSUPP = 2;

/** Flag of a discard / write-zeroes segment (§5.2.6). */
export const VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP = 1;

export const SECTOR_BYTES = 512;
export const VIRTIO_BLK_ID_BYTES = 20;
const HEADER_BYTES = 16;
const SEGMENT_BYTES = 16;

/** Offsets in struct virtio_blk_config (§5.2.4). */
export const BlkConfig = {
  capacity: 0,
  sizeMax: 8,
  segMax: 12,
  geometry: 16,
  blkSize: 20,
  topology: 24,
  writeback: 32,
  numQueues: 34,
  maxDiscardSectors: 36,
  maxDiscardSeg: 40,
  discardSectorAlignment: 44,
  maxWriteZeroesSectors: 48,
  maxWriteZeroesSeg: 52,
  writeZeroesMayUnmap: 56,
  /** Bytes up to and including the write-zeroes fields (and their padding). */
  size: 60,
} as const;

export interface VirtioBlkOptions {
  /** The request queue's largest size (QueueNumMax); 256 by default. */
  readonly queueSize?: number;
  /** Largest discard / write-zeroes request, in sectors; 2 GiB by default. */
  readonly maxDiscardSectors?: number;
  /** Segments one discard / write-zeroes request may carry. */
  readonly maxDiscardSegments?: number;
}

export class VirtioBlk implements VirtioDevice {
  readonly name = 'virtio-blk';
  readonly deviceId = VIRTIO_ID_BLOCK;
  readonly features: bigint;
  readonly queueMaxSizes: readonly number[];
  readonly config: ConfigSpace;

  private stats = new VirtioStats();
  private queue: Virtqueue | undefined;
  private negotiated = 0n;
  private readonly idBytes: Uint8Array;
  private readonly maxDiscardSectors: number;
  private readonly maxDiscardSegments: number;
  /** Scratch for headers and segments: the hot path allocates nothing for them. */
  private readonly header = new Uint8Array(HEADER_BYTES);
  private readonly headerView = new DataView(this.header.buffer);

  constructor(readonly backend: BlockBackend, options: VirtioBlkOptions = {}) {
    const queueSize = options.queueSize ?? 256;
    this.queueMaxSizes = [queueSize];
    this.maxDiscardSectors = options.maxDiscardSectors ?? 0x40_0000;
    this.maxDiscardSegments = options.maxDiscardSegments ?? 32;
    let features = featureBit(VIRTIO_BLK_F_SEG_MAX) | featureBit(VIRTIO_BLK_F_BLK_SIZE) | featureBit(VIRTIO_BLK_F_FLUSH)
      | featureBit(VIRTIO_BLK_F_DISCARD) | featureBit(VIRTIO_BLK_F_WRITE_ZEROES);
    if (backend.readOnly) features |= featureBit(VIRTIO_BLK_F_RO);
    this.features = features;

    this.idBytes = new Uint8Array(VIRTIO_BLK_ID_BYTES);
    const serial = backend.serial.slice(0, VIRTIO_BLK_ID_BYTES);
    for (let i = 0; i < serial.length; i++) {
      const c = serial.charCodeAt(i);
      this.idBytes[i] = c < 0x80 ? c : 0x3f; // '?' for what is not ASCII
    }

    const c = new ConfigSpace(BlkConfig.size);
    c.setU64(BlkConfig.capacity, Math.floor(backend.byteLength / SECTOR_BYTES));
    // size_max stays 0: VIRTIO_BLK_F_SIZE_MAX is not offered, segments may be any size.
    // Linux adds the header and status descriptors to seg_max, which must fit the queue.
    c.setU32(BlkConfig.segMax, Math.max(1, queueSize - 2));
    c.setU32(BlkConfig.blkSize, SECTOR_BYTES);
    // geometry and topology stay 0 (their features are not offered)
    c.setU8(BlkConfig.writeback, 1); // FLUSH is offered: the guest sees a write-back cache
    c.setU16(BlkConfig.numQueues, 1);
    c.setU32(BlkConfig.maxDiscardSectors, this.maxDiscardSectors);
    c.setU32(BlkConfig.maxDiscardSeg, this.maxDiscardSegments);
    c.setU32(BlkConfig.discardSectorAlignment, 1);
    c.setU32(BlkConfig.maxWriteZeroesSectors, this.maxDiscardSectors);
    c.setU32(BlkConfig.maxWriteZeroesSeg, this.maxDiscardSegments);
    // writeZeroes always leaves zeroes, whatever the backend does underneath, so unmapping is allowed
    c.setU8(BlkConfig.writeZeroesMayUnmap, 1);
    this.config = c;
  }

  attach(host: VirtioDeviceHost): void {
    this.stats = host.stats;
  }

  readConfig(offset: number, size: 1 | 2 | 4): number {
    return this.config.read(offset, size);
  }

  writeConfig(): void {
    // Only writeback is writable, and only with VIRTIO_BLK_F_CONFIG_WCE, which is not offered.
  }

  activate(features: bigint, queues: readonly (Virtqueue | undefined)[]): void {
    this.negotiated = features;
    this.queue = queues[0];
  }

  reset(): void {
    this.queue = undefined;
    this.negotiated = 0n;
  }

  notify(index: number): void {
    const queue = this.queue;
    if (index !== 0 || !queue) return;
    // At most one queue's worth per notification: a request whose data lands
    // on the avail ring could otherwise keep making new entries "available".
    for (let n = 0; n < queue.size; n++) {
      const chain = queue.pop();
      if (!chain) break;
      queue.pushUsed(chain.head, this.handleRequest(chain));
      this.stats.requests++;
    }
    queue.signalUsed();
  }

  /** Carries out one request; returns how many bytes it wrote into the chain. */
  private handleRequest(chain: DescriptorChain): number {
    const statusBuffer = chain.writable[chain.writable.length - 1];
    if (chain.readableLength < HEADER_BYTES || statusBuffer === undefined) {
      // Nowhere to put a status: give the chain back untouched.
      this.stats.malformedChains++;
      return 0;
    }
    gatherBytes(chain.readable, 0, this.header);
    const type = this.headerView.getUint32(0, true);
    const sectorLow = this.headerView.getUint32(8, true);
    const sectorHigh = this.headerView.getUint32(12, true);
    const dataLength = chain.writableLength - 1;

    let status: number;
    let written = 1;
    try {
      switch (type) {
        case VIRTIO_BLK_T_IN:
          status = this.read(chain, sectorLow, sectorHigh, dataLength);
          if (status === VIRTIO_BLK_S_OK) written += dataLength;
          break;
        case VIRTIO_BLK_T_OUT:
          status = this.write(chain, sectorLow, sectorHigh);
          break;
        case VIRTIO_BLK_T_FLUSH:
          this.backend.flush();
          status = VIRTIO_BLK_S_OK;
          break;
        case VIRTIO_BLK_T_GET_ID: {
          const n = Math.min(VIRTIO_BLK_ID_BYTES, dataLength);
          let copied = 0;
          for (const b of sliceBuffers(chain.writable, 0, n)) {
            b.set(this.idBytes.subarray(copied, copied + b.length));
            copied += b.length;
          }
          written += n;
          status = VIRTIO_BLK_S_OK;
          break;
        }
        case VIRTIO_BLK_T_DISCARD:
        case VIRTIO_BLK_T_WRITE_ZEROES:
          status = this.discardOrWriteZeroes(chain, type === VIRTIO_BLK_T_DISCARD);
          break;
        default:
          status = VIRTIO_BLK_S_UNSUPP;
      }
    } catch (e) {
      if (!(e instanceof BlockIoError)) throw e;
      status = VIRTIO_BLK_S_IOERR;
      written = 1;
    }
    statusBuffer[statusBuffer.length - 1] = status;
    return written;
  }

  /**
   * The byte offset of a request of `length` bytes at the sector given as two
   * u32 halves, or -1 when any of it is past the disk's end (or past 2^53,
   * which no disk reaches, so sector × 512 + length never overflows here).
   */
  private diskOffset(sectorLow: number, sectorHigh: number, length: number): number {
    if (sectorHigh >= 0x20_0000 / SECTOR_BYTES) return -1;
    const offset = (sectorHigh * 0x1_0000_0000 + sectorLow) * SECTOR_BYTES;
    return offset + length <= this.backend.byteLength ? offset : -1;
  }

  private read(chain: DescriptorChain, sectorLow: number, sectorHigh: number, length: number): number {
    if (length % SECTOR_BYTES !== 0) return VIRTIO_BLK_S_IOERR;
    let offset = this.diskOffset(sectorLow, sectorHigh, length);
    if (offset < 0) return VIRTIO_BLK_S_IOERR;
    for (const b of sliceBuffers(chain.writable, 0, length)) {
      this.backend.read(offset, b);
      offset += b.length;
    }
    this.stats.bytesRead += length;
    return VIRTIO_BLK_S_OK;
  }

  private write(chain: DescriptorChain, sectorLow: number, sectorHigh: number): number {
    if (this.backend.readOnly) return VIRTIO_BLK_S_IOERR;
    const length = chain.readableLength - HEADER_BYTES;
    if (length % SECTOR_BYTES !== 0) return VIRTIO_BLK_S_IOERR;
    let offset = this.diskOffset(sectorLow, sectorHigh, length);
    if (offset < 0) return VIRTIO_BLK_S_IOERR;
    for (const b of sliceBuffers(chain.readable, HEADER_BYTES, length)) {
      this.backend.write(offset, b);
      offset += b.length;
    }
    this.stats.bytesWritten += length;
    return VIRTIO_BLK_S_OK;
  }

  /**
   * DISCARD and WRITE_ZEROES carry segments of {le64 sector, le32 sectors,
   * le32 flags} (§5.2.6). Every segment is checked before any is carried out,
   * so a bad request changes nothing.
   */
  private discardOrWriteZeroes(chain: DescriptorChain, discard: boolean): number {
    if (!hasFeature(this.negotiated, discard ? VIRTIO_BLK_F_DISCARD : VIRTIO_BLK_F_WRITE_ZEROES)) return VIRTIO_BLK_S_UNSUPP;
    if (this.backend.readOnly) return VIRTIO_BLK_S_IOERR;
    const payload = chain.readableLength - HEADER_BYTES;
    if (payload === 0 || payload % SEGMENT_BYTES !== 0) return VIRTIO_BLK_S_IOERR;
    const count = payload / SEGMENT_BYTES;
    if (count > this.maxDiscardSegments) return VIRTIO_BLK_S_UNSUPP;
    const segment = new Uint8Array(SEGMENT_BYTES);
    const view = new DataView(segment.buffer);
    const ranges: number[] = [];
    for (let i = 0; i < count; i++) {
      gatherBytes(chain.readable, HEADER_BYTES + i * SEGMENT_BYTES, segment);
      const sectors = view.getUint32(8, true);
      const flags = view.getUint32(12, true);
      // Discard knows no flags (§5.2.6.2: UNSUPP if unmap is set); write-zeroes only unmap.
      if (flags & ~(discard ? 0 : VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)) return VIRTIO_BLK_S_UNSUPP;
      if (sectors > this.maxDiscardSectors) return VIRTIO_BLK_S_IOERR;
      const length = sectors * SECTOR_BYTES;
      const offset = this.diskOffset(view.getUint32(0, true), view.getUint32(4, true), length);
      if (offset < 0) return VIRTIO_BLK_S_IOERR;
      ranges.push(offset, length);
    }
    for (let i = 0; i < ranges.length; i += 2) {
      if (discard) this.backend.discard(ranges[i], ranges[i + 1]);
      else this.backend.writeZeroes(ranges[i], ranges[i + 1]);
    }
    return VIRTIO_BLK_S_OK;
  }
}
