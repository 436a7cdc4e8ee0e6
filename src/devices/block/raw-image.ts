// A BlockBackend over a raw image file: disk byte N is file byte N.
//
// Every call is a synchronous fs call on one descriptor (the VMM answers a
// request within its MMIO exit). There is no buffering in this process: a
// write() that returned is in the kernel's page cache, so a SIGKILL of the VMM
// loses nothing that was written; flush() (fdatasync) is what makes writes
// survive a host crash or power loss.

import * as fs from 'node:fs';
import { BlockBackend, BlockIoError } from './block-backend';
import { ImageOpenError, quotePath } from './image-open-error';
import { assertNoLiveWriter, imageIdentity, ImageWriteLock } from './image-lock';
import { isValidSerial } from './serial';

export const SECTOR_SIZE = 512;

export interface RawImageOptions {
  /** Open O_RDONLY; writes, discards and write-zeroes throw BlockIoError. */
  readonly readOnly: boolean;
  readonly serial: string;
}

/** Zeroes written by writeZeroes/discard, and the unit they are written in. */
const ZERO_CHUNK_BYTES = 1 << 20;
/** writeZeroes leaves alone aligned blocks of this size that are already zero (file-system block size). */
const ZERO_SKIP_BLOCK = 4096;
let zeroChunk: Buffer | undefined;
let scratchChunk: Buffer | undefined;

export class RawImage implements BlockBackend {
  private fd: number | undefined;
  /** Set by a failed fdatasync; see flush(). */
  private flushFailure: Error | undefined;

  private constructor(
    readonly path: string,
    fd: number,
    readonly byteLength: number,
    readonly readOnly: boolean,
    readonly serial: string,
    private readonly lock: ImageWriteLock | undefined,
  ) {
    this.fd = fd;
  }

  /**
   * Opens `path` (read-write unless options.readOnly). A writable open takes
   * the image's write lock; a read-only one only checks that no live armvirt
   * holds it. Throws ImageOpenError (ImageInUseError when locked).
   */
  static open(path: string, options: RawImageOptions): RawImage {
    if (!isValidSerial(options.serial)) throw new RangeError(`invalid disk serial ${JSON.stringify(options.serial)}`);
    const writable = !options.readOnly;
    let fd: number;
    try {
      fd = fs.openSync(path, writable ? 'r+' : 'r');
    } catch (err) {
      throw openError(path, err, writable);
    }
    try {
      const byteLength = checkedSize(path, fd);
      const id = imageIdentity(fd);
      let lock: ImageWriteLock | undefined;
      if (writable) lock = ImageWriteLock.acquire(path, id);
      else assertNoLiveWriter(path, id);
      return new RawImage(path, fd, byteLength, options.readOnly, options.serial, lock);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }

  read(offset: number, into: Uint8Array): void {
    const fd = this.checkRequest('read', offset, into.length);
    let done = 0;
    while (done < into.length) {
      let n: number;
      try {
        n = fs.readSync(fd, into, done, into.length - done, offset + done);
      } catch (err) {
        throw this.ioError('reading', offset + done, err);
      }
      if (n === 0) {
        // The file is shorter than the disk (it was truncated after we opened
        // it): what is not there reads as zeroes, as in a sparse file.
        into.fill(0, done);
        return;
      }
      done += n;
    }
  }

  write(offset: number, from: Uint8Array): void {
    const fd = this.checkWrite('write', offset, from.length);
    writeAll(fd, from, offset, (at, err) => this.ioError('writing', at, err));
  }

  /**
   * fdatasync: returns when every completed write is on stable storage. A
   * failed fdatasync is sticky: Linux reports a writeback error once and may
   * then mark the lost pages clean, so a later fdatasync could succeed
   * although data never reached the disk. Every later flush fails as well.
   */
  flush(): void {
    const fd = this.checkOpen('flush');
    if (this.readOnly) return;
    if (this.flushFailure !== undefined) {
      throw new BlockIoError(`image ${quotePath(this.path)}: an earlier flush failed (${this.flushFailure.message}); ` +
        'written data may be lost', { cause: this.flushFailure });
    }
    try {
      fs.fdatasyncSync(fd);
    } catch (err) {
      this.flushFailure = err instanceof Error ? err : new Error(String(err));
      throw new BlockIoError(`image ${quotePath(this.path)}: flush failed: ${this.flushFailure.message}`, { cause: err });
    }
  }

  /**
   * Writes zeroes. Node has no fallocate(PUNCH_HOLE), so the range cannot be
   * deallocated; zeroes are what the contract allows and what a guest reading
   * it back should see rather than stale data.
   */
  discard(offset: number, length: number): void {
    this.checkWrite('discard', offset, length);
    this.zeroRange(offset, length);
  }

  /**
   * Writes zeroes, in 1 MiB chunks, but leaves alone 4 KiB blocks that
   * already read as zero. Node has no fallocate(ZERO_RANGE/PUNCH_HOLE); the
   * check keeps a sparse image sparse when a guest zeroes or discards all of
   * it (mkfs discards the whole disk) instead of allocating every block:
   * reading a hole costs no disk I/O, writing it allocates. On allocated data
   * it costs a read before the write.
   */
  writeZeroes(offset: number, length: number): void {
    this.checkWrite('write-zeroes', offset, length);
    this.zeroRange(offset, length);
  }

  /**
   * fdatasync (as QEMU flushes on close, so a clean shutdown leaves the image
   * on stable storage), closes the file and releases the lock. Idempotent.
   * The descriptor and lock are released even when the flush fails, which is
   * then reported as BlockIoError.
   */
  close(): void {
    const fd = this.fd;
    if (fd === undefined) return;
    let flushError: unknown;
    try {
      if (!this.readOnly) this.flush();
    } catch (err) {
      flushError = err;
    }
    this.fd = undefined;
    try {
      fs.closeSync(fd);
    } finally {
      this.lock?.release();
    }
    if (flushError !== undefined) throw flushError;
  }

  private zeroRange(offset: number, length: number): void {
    const fd = this.fd!;
    const zeroes = (zeroChunk ??= Buffer.alloc(ZERO_CHUNK_BYTES));
    const scratch = (scratchChunk ??= Buffer.alloc(ZERO_CHUNK_BYTES));
    const end = offset + length;
    for (let chunkStart = offset; chunkStart < end; chunkStart += ZERO_CHUNK_BYTES) {
      const chunkEnd = Math.min(end, chunkStart + ZERO_CHUNK_BYTES);
      const current = scratch.subarray(0, chunkEnd - chunkStart);
      this.read(chunkStart, current);
      if (current.equals(zeroes.subarray(0, current.length))) continue;  // the common case: a hole
      // Runs of blocks (aligned to the file, so they match the file system's
      // blocks) that are not zero yet, each written with one call.
      let runStart = -1;
      for (let blockStart = chunkStart; blockStart <= chunkEnd;) {
        const blockEnd = Math.min(chunkEnd, (Math.floor(blockStart / ZERO_SKIP_BLOCK) + 1) * ZERO_SKIP_BLOCK);
        const isZero = blockStart === chunkEnd ||
          zeroes.compare(current, blockStart - chunkStart, blockEnd - chunkStart, 0, blockEnd - blockStart) === 0;
        if (!isZero && runStart < 0) runStart = blockStart;
        if (isZero && runStart >= 0) {
          writeAll(fd, zeroes.subarray(0, blockStart - runStart), runStart, (at, err) => this.ioError('zeroing', at, err));
          runStart = -1;
        }
        if (blockStart === chunkEnd) break;
        blockStart = blockEnd;
      }
    }
  }

  private checkOpen(what: string): number {
    if (this.fd === undefined) throw new BlockIoError(`${what} on image ${quotePath(this.path)} after it was closed`);
    return this.fd;
  }

  private checkRequest(what: string, offset: number, length: number): number {
    const fd = this.checkOpen(what);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 ||
        offset + length > this.byteLength) {
      throw new BlockIoError(`${what} of ${length} bytes at ${offset} is outside image ${quotePath(this.path)} ` +
        `(${this.byteLength} bytes)`);
    }
    return fd;
  }

  private checkWrite(what: string, offset: number, length: number): number {
    const fd = this.checkRequest(what, offset, length);
    if (this.readOnly) throw new BlockIoError(`${what} refused: image ${quotePath(this.path)} is open read-only`);
    return fd;
  }

  private ioError(doing: string, at: number, err: unknown): BlockIoError {
    const message = err instanceof Error ? err.message : String(err);
    return new BlockIoError(`${doing} image ${quotePath(this.path)} at byte ${at}: ${message}`, { cause: err });
  }
}

/** writeSync until all of `from` is written (a write may be short, e.g. on a signal or near a quota). */
function writeAll(fd: number, from: Uint8Array, offset: number, error: (at: number, err: unknown) => Error): void {
  let done = 0;
  while (done < from.length) {
    let n: number;
    try {
      n = fs.writeSync(fd, from, done, from.length - done, offset + done);
    } catch (err) {
      throw error(offset + done, err);
    }
    if (n <= 0) throw error(offset + done, new Error('the write made no progress'));
    done += n;
  }
}

/**
 * The image's size, which must be a non-zero multiple of 512.
 *
 * QEMU accepts any size for a raw file and rounds the disk up to whole
 * sectors: the last partial sector reads as zero-padded and a guest write to
 * it silently grows the file. armvirt refuses instead: a size that is not
 * whole sectors almost always means a truncated download or a file that is
 * not a disk image, which is better said before boot than found as a
 * corrupt file system later; and the image is never resized behind the
 * user's back. The message says how to pad it.
 */
function checkedSize(path: string, fd: number): number {
  const st = fs.fstatSync(fd);
  if (st.isDirectory()) throw new ImageOpenError(`image ${quotePath(path)} is a directory, not a disk image file`);
  if (!st.isFile()) {
    throw new ImageOpenError(`image ${quotePath(path)} is not a regular file (block devices, pipes and ` +
      'character devices are not supported)');
  }
  if (st.size === 0) throw new ImageOpenError(`image ${quotePath(path)} is empty (0 bytes); a disk needs at least 512 bytes`);
  if (st.size % SECTOR_SIZE !== 0) {
    const padded = Math.ceil(st.size / SECTOR_SIZE) * SECTOR_SIZE;
    throw new ImageOpenError(`image ${quotePath(path)} is ${st.size} bytes, not a multiple of ${SECTOR_SIZE}; ` +
      `pad it with: truncate -s ${padded} ${quotePath(path)}`);
  }
  return st.size;
}

function openError(path: string, err: unknown, writable: boolean): ImageOpenError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const image = `image ${quotePath(path)}`;
  switch (code) {
    case 'ENOENT':
      return new ImageOpenError(`${image} does not exist`, { cause: err });
    case 'ENOTDIR':
      return new ImageOpenError(`${image} does not exist (a component of the path is not a directory)`, { cause: err });
    case 'EISDIR':
      return new ImageOpenError(`${image} is a directory, not a disk image file`, { cause: err });
    case 'EACCES':
    case 'EPERM':
      return new ImageOpenError(writable
        ? `${image}: permission denied opening it for writing; use ,ro or ,snapshot to open it read-only`
        : `${image}: permission denied opening it for reading`, { cause: err });
    case 'EROFS':
      return new ImageOpenError(`${image} is on a read-only file system; use ,ro or ,snapshot to open it read-only`,
        { cause: err });
    default: {
      const message = err instanceof Error ? err.message : String(err);
      return new ImageOpenError(`${image} cannot be opened: ${message}`, { cause: err });
    }
  }
}
