// What virtio-blk (and any later block device) needs from a disk image,
// independent of where the bytes live: a raw image file, a copy-on-write
// overlay in memory (--disk FILE,snapshot), or plain memory in tests.
// Every call is synchronous: the VMM answers a request within the MMIO exit
// that notified it, with no thread hand-off (the main cost QEMU pays).
// Offsets and lengths are bytes; callers check them against `byteLength`
// first, and a backend throws BlockIoError for anything it cannot do, which
// the device reports to the guest as VIRTIO_BLK_S_IOERR.

export class BlockIoError extends Error {}

export interface BlockBackend {
  /** Size of the disk in bytes (a multiple of 512). */
  readonly byteLength: number;
  /** Writes, discards and write-zeroes are refused (the device offers VIRTIO_BLK_F_RO). */
  readonly readOnly: boolean;
  /** Up to 20 bytes of ASCII for VIRTIO_BLK_T_GET_ID. */
  readonly serial: string;
  /** Fills `into` with the bytes at `offset`. */
  read(offset: number, into: Uint8Array): void;
  /** Writes `from` at `offset`. */
  write(offset: number, from: Uint8Array): void;
  /** Returns only when every completed write is on stable storage (fdatasync for files). */
  flush(): void;
  /** The range's contents become unspecified (holes or zeroes). */
  discard(offset: number, length: number): void;
  /** The range reads back as zeroes. */
  writeZeroes(offset: number, length: number): void;
  /** Releases the image (and its lock). Idempotent. */
  close(): void;
}
