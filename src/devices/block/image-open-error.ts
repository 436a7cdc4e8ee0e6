// Why a disk image could not be opened. These are the user's mistakes or the
// host's state (missing file, permissions, another VM using the image), found
// before the guest runs, so each message is one line that names the image and,
// where there is one, the way out. disk-option.ts turns them into
// DiskOptionError for the CLI; I/O failures after opening are BlockIoError.

export class ImageOpenError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ImageOpenError';
  }
}

/** A live armvirt has the image open for writing. */
export class ImageInUseError extends ImageOpenError {
  constructor(readonly path: string, readonly holderPid: number) {
    // no ",ro" advice: a reader would see the writer's half-written state, so readers are refused too
    super(`image ${quotePath(path)} is in use by another armvirt (pid ${holderPid}), which has it open for writing`);
    this.name = 'ImageInUseError';
  }
}

/**
 * The path in single quotes for a message. Control characters (a newline in a
 * file name) are escaped so that every message stays on one line.
 */
export function quotePath(path: string): string {
  return `'${path.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}'`;
}
