// What a virtio device type (block, console, entropy) implements, apart from
// the transport that carries it (virtio-mmio here, PCI some day): its ID,
// features, queues and configuration space (Virtio 1.2 §2, §5). The transport
// owns negotiation, status and interrupts; the device only sees the result.

import type { Virtqueue } from './queue';

/** Device IDs (§5). */
export const VIRTIO_ID_BLOCK = 2;
export const VIRTIO_ID_CONSOLE = 3;
export const VIRTIO_ID_ENTROPY = 4;

/** Per-device counters, for the VMM's statistics output. */
export class VirtioStats {
  /** QueueNotify writes by the driver. */
  notifications = 0;
  /** Reads and writes of the device configuration space. */
  configAccesses = 0;
  /** Interrupts raised (used-buffer and configuration-change notifications). */
  interrupts = 0;
  /** Requests (chains) the device completed. */
  requests = 0;
  /** Bytes the guest got from the device: disk reads, entropy, console input. */
  bytesRead = 0;
  /** Bytes the guest gave the device: disk writes, console output. */
  bytesWritten = 0;
  /** Chains the driver built wrongly (queue protocol errors and unusable requests). */
  malformedChains = 0;
  /** Exceptions a device let escape (a bug in the device or its backend, never the guest's doing). */
  internalErrors = 0;
}

/** What the transport gives a device to talk back with. */
export interface VirtioDeviceHost {
  readonly stats: VirtioStats;
  /** The device changed its configuration space: bump the generation, notify the driver. */
  configChanged(): void;
}

export interface VirtioDevice {
  /** For logs and statistics: "virtio-blk". */
  readonly name: string;
  readonly deviceId: number;
  /** Device-type feature bits offered; the transport adds the ring and version bits. */
  readonly features: bigint;
  /** The largest size of each queue; its length is the number of queues. */
  readonly queueMaxSizes: readonly number[];
  /** Called once by the transport that carries the device. */
  attach(host: VirtioDeviceHost): void;
  /** Little-endian read of the configuration space at `offset` (0 past its end). */
  readConfig(offset: number, size: 1 | 2 | 4): number;
  writeConfig(offset: number, size: 1 | 2 | 4, value: number): void;
  /**
   * The driver set DRIVER_OK: `features` are the negotiated bits, `queues`
   * one per queue index (undefined for one the driver did not set up).
   */
  activate(features: bigint, queues: readonly (Virtqueue | undefined)[]): void;
  /** The driver made buffers available on queue `index` (only while activated). */
  notify(index: number): void;
  /** Back to the state before activate: the driver wrote 0 to Status. */
  reset(): void;
}

export function hasFeature(features: bigint, bit: number): boolean {
  return ((features >> BigInt(bit)) & 1n) === 1n;
}

export function featureBit(bit: number): bigint {
  return 1n << BigInt(bit);
}

/** A device configuration space as little-endian bytes (§2.5), with typed setters for the device. */
export class ConfigSpace {
  readonly bytes: Uint8Array;

  constructor(byteLength: number) {
    this.bytes = new Uint8Array(byteLength);
  }

  read(offset: number, size: 1 | 2 | 4): number {
    if (offset < 0 || offset + size > this.bytes.length) return 0;
    let value = 0;
    for (let i = size - 1; i >= 0; i--) value = value * 256 + this.bytes[offset + i];
    return value;
  }

  setU8(offset: number, value: number): void {
    this.bytes[offset] = value;
  }

  setU16(offset: number, value: number): void {
    this.bytes[offset] = value;
    this.bytes[offset + 1] = value >>> 8;
  }

  setU32(offset: number, value: number): void {
    for (let i = 0; i < 4; i++) this.bytes[offset + i] = value >>> (8 * i);
  }

  /** `value` below 2^53. */
  setU64(offset: number, value: number): void {
    this.setU32(offset, value % 0x1_0000_0000);
    this.setU32(offset + 4, Math.floor(value / 0x1_0000_0000));
  }
}
