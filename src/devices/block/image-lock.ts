// Image locking: two VMs writing one image corrupt it, so (like QEMU, which
// refuses an image another QEMU has open for writing) a writable open takes an
// exclusive lock and every open fails while a live writer holds one.
//
// QEMU uses OFD fcntl locks, which the kernel drops when the holder dies.
// Node has neither flock nor fcntl locks, so the lock is a file whose
// existence is the lock and whose content names the holder; a holder that
// died (even by SIGKILL, which runs no cleanup) leaves a file naming a dead
// process, and the next opener recognises it as stale and takes it over.
//
// - The file lives in a per-user directory under os.tmpdir(), not next to
//   the image: no junk beside the user's files, and it works for images in
//   read-only directories. Per-user also means no other user can plant or
//   remove our locks (the directory is 0700 and checked to be ours).
// - It is named by the image's device and inode numbers, taken from the open
//   descriptor, so hard links, symlinks and different spellings of the path
//   all meet on one lock, and a file renamed over the image is another image.
// - It records pid and the process start time (Linux /proc): a pid reused by
//   an unrelated process after the holder died does not keep the lock alive,
//   and neither does a zombie (a killed holder its parent has not reaped).
// - It is created complete: written to a private temporary file, then
//   hard-linked to its name, which fails if the name exists (atomic, like
//   O_EXCL). A reader never sees a half-written lock, and a holder killed
//   while creating it leaves either no lock or a complete one.
//
// Limits (the price of not having kernel locks): locks are per host and per
// user and per os.tmpdir() (TMPDIR), so an image on NFS shared between hosts,
// or opened by two users, or by processes with different TMPDIR, is not
// protected; a pid namespace boundary (containers sharing /tmp) makes pids
// meaningless. Readers take no lock, so a writer may open an image a reader
// already has open (QEMU's readers would block it); see disk-option.ts.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ImageInUseError, ImageOpenError, quotePath } from './image-open-error';

/** What names an image for locking: the file, not the path to it. */
export interface ImageIdentity {
  readonly dev: bigint;
  readonly ino: bigint;
}

export function imageIdentity(fd: number): ImageIdentity {
  const st = fs.fstatSync(fd, { bigint: true });
  return { dev: st.dev, ino: st.ino };
}

/** The per-user directory that holds the lock files. */
export function imageLockDirectory(): string {
  const user = typeof process.getuid === 'function' ? String(process.getuid()) : os.userInfo().username;
  return path.join(os.tmpdir(), `armvirt-locks-${user}`);
}

export function imageLockFile(id: ImageIdentity): string {
  return path.join(imageLockDirectory(), `${id.dev}-${id.ino}.lock`);
}

/** The content of a lock file. */
interface LockRecord {
  readonly armvirtLock: 1;
  readonly pid: number;
  /** Start time of `pid` in clock ticks since boot (/proc/PID/stat field 22), null off Linux. */
  readonly startTime: string | null;
  /** Distinguishes this lock from any other this process ever held. */
  readonly token: string;
  /** For a human looking at the directory; not used for matching. */
  readonly image: string;
}

/** Held write locks, released on a normal exit of the process (signals run no handlers). */
const heldLocks = new Set<ImageWriteLock>();
let exitHandlerInstalled = false;

export class ImageWriteLock {
  private released = false;

  private constructor(readonly file: string, private readonly content: string) {}

  /**
   * Takes the write lock of the image open as `id`, or throws ImageInUseError
   * naming the live holder. A stale lock (its holder died) is taken over.
   */
  static acquire(imagePath: string, id: ImageIdentity): ImageWriteLock {
    const directory = ensureLockDirectory();
    const file = imageLockFile(id);
    const record: LockRecord = {
      armvirtLock: 1,
      pid: process.pid,
      startTime: processInfo(process.pid)?.startTime ?? null,
      token: randomBytes(8).toString('hex'),
      image: path.resolve(imagePath),
    };
    const content = JSON.stringify(record) + '\n';
    const temporary = path.join(directory, `${path.basename(file)}.${record.token}.tmp`);
    try {
      fs.writeFileSync(temporary, content, { flag: 'wx', mode: 0o600 });
    } catch (err) {
      throw lockDirectoryError(directory, err);
    }
    try {
      // Each round either takes the lock, finds a live holder, or removes a
      // stale lock; more than a few rounds means other openers keep racing us.
      for (let round = 0; round < 8; round++) {
        try {
          fs.linkSync(temporary, file);
          const lock = new ImageWriteLock(file, content);
          holdUntilExit(lock);
          return lock;
        } catch (err) {
          if (errorCode(err) !== 'EEXIST') throw lockDirectoryError(directory, err);
        }
        const holder = readLockFile(file);
        if (holder === undefined) continue;     // released meanwhile: try again
        if (holder.record !== undefined && holderIsAlive(holder.record)) {
          throw new ImageInUseError(imagePath, holder.record.pid);
        }
        removeStaleLock(file, holder.content);
      }
      throw new ImageOpenError(`image ${quotePath(imagePath)}: could not take its lock ${quotePath(file)}; ` +
        'other armvirt processes keep taking and releasing it');
    } finally {
      fs.rmSync(temporary, { force: true });
    }
  }

  /** Removes the lock file if it is still this lock. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    heldLocks.delete(this);
    // Only ever remove our own lock: if the file was removed by hand and
    // another armvirt took the image since, the lock is theirs. A lock that
    // cannot be checked (its directory became unreadable) is left behind:
    // it names this process, so it goes stale when this process exits.
    let current: LockFileContent | undefined;
    try {
      current = readLockFile(this.file);
    } catch {
      return;
    }
    if (current?.content === this.content) fs.rmSync(this.file, { force: true });
  }
}

/**
 * The pid of a live armvirt holding the write lock of the image open as `id`,
 * or undefined (no lock, or a stale one). Read-only openers use this; they
 * leave stale locks for the next writer to take over.
 */
export function liveWriterPid(id: ImageIdentity): number | undefined {
  const holder = readLockFile(imageLockFile(id));
  if (holder?.record === undefined || !holderIsAlive(holder.record)) return undefined;
  return holder.record.pid;
}

export function assertNoLiveWriter(imagePath: string, id: ImageIdentity): void {
  const pid = liveWriterPid(id);
  if (pid !== undefined) throw new ImageInUseError(imagePath, pid);
}

function holdUntilExit(lock: ImageWriteLock): void {
  heldLocks.add(lock);
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.on('exit', () => {
    for (const held of [...heldLocks]) held.release();
  });
}

function ensureLockDirectory(): string {
  const directory = imageLockDirectory();
  try {
    fs.mkdirSync(directory, { mode: 0o700 });
  } catch (err) {
    if (errorCode(err) !== 'EEXIST') throw lockDirectoryError(directory, err);
  }
  // Refuse a directory someone else prepared for us (a symlink, another
  // owner, writable by others): they could remove our locks or plant theirs.
  const st = fs.lstatSync(directory);
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o022) !== 0) {
    throw new ImageOpenError(`lock directory ${quotePath(directory)} is not a directory private to this user; ` +
      'remove it and try again');
  }
  return directory;
}

function lockDirectoryError(directory: string, err: unknown): ImageOpenError {
  return new ImageOpenError(`cannot create an image lock in ${quotePath(directory)}: ${errorMessage(err)}`,
    { cause: err });
}

interface LockFileContent {
  readonly content: string;
  /** undefined when the content is not an armvirt lock record (treated as stale). */
  readonly record: LockRecord | undefined;
}

/** The lock file's content, or undefined when there is no lock file. */
function readLockFile(file: string): LockFileContent | undefined {
  let content: string;
  try {
    content = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw new ImageOpenError(`cannot read image lock ${quotePath(file)}: ${errorMessage(err)}`, { cause: err });
  }
  return { content, record: parseLockRecord(content) };
}

function parseLockRecord(content: string): LockRecord | undefined {
  try {
    const value: unknown = JSON.parse(content);
    if (typeof value !== 'object' || value === null) return undefined;
    const r = value as Record<string, unknown>;
    if (r.armvirtLock !== 1 || !Number.isSafeInteger(r.pid) || (r.pid as number) <= 0) return undefined;
    if (r.startTime !== null && typeof r.startTime !== 'string') return undefined;
    return value as LockRecord;
  } catch {
    return undefined;
  }
}

/**
 * Removes the lock file if it still holds `staleContent`. Two openers may
 * both find the same stale lock; if one removed it and created its own lock
 * before the other acts, a plain unlink by the other would delete a live
 * lock. So the file is first renamed to a private name (atomic: only one
 * opener gets any given file), then checked: if it was not the stale lock it
 * is linked back. (A third opener creating a lock in the instant between the
 * rename and the link back would go unnoticed; that needs three processes
 * racing over a stale lock within microseconds.)
 */
function removeStaleLock(file: string, staleContent: string): void {
  const moved = `${file}.${randomBytes(8).toString('hex')}.stale`;
  try {
    fs.renameSync(file, moved);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return;  // another opener removed it first
    throw new ImageOpenError(`cannot remove stale image lock ${quotePath(file)}: ${errorMessage(err)}`,
      { cause: err });
  }
  try {
    if (fs.readFileSync(moved, 'utf8') !== staleContent) {
      try {
        fs.linkSync(moved, file);
      } catch {
        // EEXIST: see the function comment.
      }
    }
  } finally {
    fs.rmSync(moved, { force: true });
  }
}

function holderIsAlive(record: LockRecord): boolean {
  try {
    process.kill(record.pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to someone else (it is alive).
    if (errorCode(err) === 'ESRCH') return false;
  }
  const info = processInfo(record.pid);
  if (info === undefined) return true;           // no /proc: the pid is all we can check
  if (info === null) return false;               // exited since kill()
  if (info.state === 'Z' || info.state === 'X') return false;
  return record.startTime === null || info.startTime === record.startTime;
}

/**
 * State and start time of a process from /proc/PID/stat: null when there is
 * no such process, undefined where there is no /proc (not Linux).
 */
function processInfo(pid: number): { state: string; startTime: string } | null | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return fs.existsSync('/proc/self/stat') ? null : undefined;
  }
  // "pid (comm) state ppid ..."; comm may contain spaces and parentheses, so
  // the fields start after the last ')'. state is field 3, starttime field 22.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0], startTime = fields[19];
  if (state === undefined || startTime === undefined) return undefined;
  return { state, startTime };
}

function errorCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
