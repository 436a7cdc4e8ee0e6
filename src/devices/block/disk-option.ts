// The --disk option: FILE[,ro][,snapshot][,serial=ID].
//
//   ro        the guest sees a read-only disk (VIRTIO_BLK_F_RO); the file is
//             opened O_RDONLY and not locked, so any number of VMs may share it
//   snapshot  the guest may write, but writes stay in memory and are dropped
//             when the VM exits (QEMU's -snapshot); the file is opened
//             read-only and not locked. With ro as well, the disk is read-only.
//   serial=ID what the guest reads as the disk's serial (up to 20 printable
//             ASCII characters; /dev/disk/by-id/virtio-ID); by default derived
//             from the file name (see defaultSerial)
//
// As in QEMU, a comma in the file name (or serial) is written doubled: a,,b is
// the file "a,b".
//
// Read-only and snapshot opens fail while a live armvirt has the image open
// for writing (they would see a disk changing under them), but take no lock
// themselves: a writer may still open an image that readers use. QEMU's
// readers do block writers; here that would need shared locks (one file per
// reader) and was left out.

import { BlockBackend } from './block-backend';
import { ImageOpenError } from './image-open-error';
import { RawImage } from './raw-image';
import { SnapshotOverlay } from './snapshot-overlay';
import { defaultSerial, isValidSerial, SERIAL_MAX_LENGTH } from './serial';

export class DiskOptionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DiskOptionError';
  }
}

export interface DiskSpec {
  readonly path: string;
  readonly readOnly: boolean;
  readonly snapshot: boolean;
  /** Given with serial=; openDisk uses defaultSerial(path) when undefined. */
  readonly serial: string | undefined;
}

/** Parses the value of --disk. Throws DiskOptionError. */
export function parseDiskOption(value: string): DiskSpec {
  const [path, ...options] = splitOption(value);
  if (path === undefined || path === '') {
    throw new DiskOptionError(`--disk ${JSON.stringify(value)}: the image file name is empty (expected FILE[,ro][,snapshot][,serial=ID])`);
  }
  let readOnly = false, snapshot = false;
  let serial: string | undefined;
  const seen = new Set<string>();
  for (const option of options) {
    if (option === '') throw new DiskOptionError(`--disk ${JSON.stringify(value)}: empty option (a stray comma?)`);
    const equals = option.indexOf('=');
    const name = equals < 0 ? option : option.slice(0, equals);
    if (seen.has(name)) throw new DiskOptionError(`--disk ${JSON.stringify(value)}: option '${name}' is given twice`);
    seen.add(name);
    if (option === 'ro') {
      readOnly = true;
    } else if (option === 'snapshot') {
      snapshot = true;
    } else if (name === 'serial' && equals >= 0) {
      serial = option.slice(equals + 1);
      if (serial === '' || !isValidSerial(serial)) {
        throw new DiskOptionError(`--disk ${JSON.stringify(value)}: serial ${JSON.stringify(serial)} must be 1 to ` +
          `${SERIAL_MAX_LENGTH} printable ASCII characters`);
      }
    } else if (option === 'serial') {
      throw new DiskOptionError(`--disk ${JSON.stringify(value)}: serial needs a value (serial=ID)`);
    } else {
      throw new DiskOptionError(`--disk ${JSON.stringify(value)}: unknown option '${option}' ` +
        '(expected ro, snapshot or serial=ID)');
    }
  }
  return { path, readOnly, snapshot, serial };
}

/**
 * Opens the disk `spec` describes: a RawImage, read-write (locked) or
 * read-only, or a SnapshotOverlay over a read-only RawImage. Every failure to
 * open (missing file, directory, permissions, size, lock) is a DiskOptionError
 * whose message names the image.
 */
export function openDisk(spec: DiskSpec): BlockBackend {
  const serial = spec.serial ?? defaultSerial(spec.path);
  try {
    if (spec.snapshot && !spec.readOnly) {
      return new SnapshotOverlay(RawImage.open(spec.path, { readOnly: true, serial }));
    }
    return RawImage.open(spec.path, { readOnly: spec.readOnly, serial });
  } catch (err) {
    if (err instanceof ImageOpenError) throw new DiskOptionError(err.message, { cause: err });
    throw err;
  }
}

/** Splits at single commas; a doubled comma is a literal comma. */
function splitOption(value: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    if (value[i] !== ',') {
      current += value[i];
    } else if (value[i + 1] === ',') {
      current += ',';
      i++;
    } else {
      parts.push(current);
      current = '';
    }
  }
  parts.push(current);
  return parts;
}
