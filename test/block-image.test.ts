import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
// The module object itself (not an import-star copy), so that mock.method
// replaces the functions RawImage calls.
import fs = require('node:fs');
import { BlockBackend, BlockIoError } from '../src/devices/block/block-backend';
import { RawImage } from '../src/devices/block/raw-image';
import { SnapshotOverlay } from '../src/devices/block/snapshot-overlay';
import { ImageInUseError } from '../src/devices/block/image-open-error';
import { imageIdentity, imageLockFile } from '../src/devices/block/image-lock';

const MiB = 1 << 20;
const RAW_IMAGE_JS = path.join(__dirname, '..', 'src', 'devices', 'block', 'raw-image.js');

function temporaryDirectory(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'armvirt-block-test-'));
}

/** Deterministic bytes that differ at every offset (a shifted copy never matches). */
function pattern(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

function makeImage(dir: string, name: string, contents: Uint8Array): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, contents);
  return file;
}

function readAll(disk: BlockBackend): Uint8Array {
  const bytes = new Uint8Array(disk.byteLength);
  disk.read(0, bytes);
  return bytes;
}

function withImage(size: number, body: (file: string, original: Uint8Array, dir: string) => void): void {
  const dir = temporaryDirectory();
  try {
    const original = pattern(size, size);
    body(makeImage(dir, 'disk.raw', original), original, dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The lock file of the image at `file`. */
function lockFileOf(file: string): string {
  const fd = fs.openSync(file, 'r');
  try {
    return imageLockFile(imageIdentity(fd));
  } finally {
    fs.closeSync(fd);
  }
}

const inUseMessage = (file: string, pid: number) =>
  `image '${file}' is in use by another armvirt (pid ${pid}), which has it open for writing`;

// Writes at offsets and lengths that are not sector or block multiples, some
// crossing 4 KiB and 1 MiB boundaries, one ending at the last byte.
function oddWrites(size: number): Array<[number, number]> {
  return [[1, 1], [511, 2], [4095, 513], [4097, 4096 + 5], [MiB - 3, 10_000], [size - 7, 7], [0, 3]];
}

test('RawImage: writes at odd offsets and lengths read back, and are in the file', () => {
  const size = 2 * MiB + 3 * 512;
  withImage(size, (file, original) => {
    const disk = RawImage.open(file, { readOnly: false, serial: 'odd' });
    assert.equal(disk.byteLength, size);
    assert.equal(disk.readOnly, false);
    assert.equal(disk.serial, 'odd');
    const model = original.slice();
    for (const [i, [offset, length]] of oddWrites(size).entries()) {
      const data = pattern(length, 100 + i);
      disk.write(offset, data);
      model.set(data, offset);
      assert.deepEqual(readAll(disk), model, `after writing ${length} bytes at ${offset}`);
    }
    assert.ok(Buffer.from(model).equals(fs.readFileSync(file)), 'the file holds exactly what was written');
    disk.close();
  });
});

test('RawImage: reads and writes are completed across short reads and writes', () => {
  const size = 64 * 1024;
  withImage(size, (file, original) => {
    const disk = RawImage.open(file, { readOnly: false, serial: '' });
    // At most 3 bytes per system call: the loops must go on from where each call stopped.
    const realRead = fs.readSync, realWrite = fs.writeSync;
    const reads = mock.method(fs, 'readSync', (fd: number, buffer: Uint8Array, offset: number, length: number, position: number) =>
      realRead(fd, buffer, offset, Math.min(length, 3), position));
    const writes = mock.method(fs, 'writeSync', (fd: number, buffer: Uint8Array, offset: number, length: number, position: number) =>
      realWrite(fd, buffer, offset, Math.min(length, 3), position));
    try {
      const data = pattern(1000, 7);
      disk.write(4093, data);
      const back = new Uint8Array(1002);
      disk.read(4092, back);
      assert.deepEqual(back.subarray(1, 1001), data);
      assert.equal(back[0], original[4092]);
      assert.equal(back[1001], original[5093]);
      assert.ok(writes.mock.callCount() >= 334 && reads.mock.callCount() >= 334, 'each call moved at most 3 bytes');
    } finally {
      reads.mock.restore();
      writes.mock.restore();
    }
    const model = original.slice();
    model.set(pattern(1000, 7), 4093);
    assert.ok(Buffer.from(model).equals(fs.readFileSync(file)));
    disk.close();
  });
});

test('RawImage: what a truncated file no longer has reads as zeroes', () => {
  withImage(8192, (file, original) => {
    const disk = RawImage.open(file, { readOnly: true, serial: '' });
    fs.truncateSync(file, 1000);
    const back = new Uint8Array(8192).fill(0x55);
    disk.read(0, back);
    assert.deepEqual(back.subarray(0, 1000), original.subarray(0, 1000));
    assert.ok(back.subarray(1000).every((b) => b === 0), 'past the end of the file: zeroes');
    const tail = new Uint8Array(512).fill(0x55);
    disk.read(4096, tail);
    assert.ok(tail.every((b) => b === 0));
    assert.equal(disk.byteLength, 8192, 'the disk keeps its size');
    disk.close();
  });
});

test('RawImage: a read-only image refuses writes, discards and write-zeroes, and the file is unchanged', () => {
  withImage(8192, (file, original) => {
    const disk = RawImage.open(file, { readOnly: true, serial: 'ro' });
    assert.equal(disk.readOnly, true);
    assert.throws(() => disk.write(0, new Uint8Array(512)), BlockIoError);
    assert.throws(() => disk.discard(0, 512), BlockIoError);
    assert.throws(() => disk.writeZeroes(512, 1024), BlockIoError);
    assert.throws(() => disk.write(0, new Uint8Array(512)), { message: `write refused: image '${file}' is open read-only` });
    disk.flush();
    assert.deepEqual(readAll(disk), original);
    disk.close();
    assert.ok(Buffer.from(original).equals(fs.readFileSync(file)));
  });
});

test('RawImage: requests outside the disk and after close are BlockIoErrors; close is idempotent', () => {
  withImage(4096, (file) => {
    const disk = RawImage.open(file, { readOnly: false, serial: '' });
    assert.throws(() => disk.read(4095, new Uint8Array(2)), BlockIoError);
    assert.throws(() => disk.write(-1, new Uint8Array(1)), BlockIoError);
    assert.throws(() => disk.writeZeroes(0, 4097), BlockIoError);
    assert.throws(() => disk.discard(0.5, 1), BlockIoError);
    disk.read(4095, new Uint8Array(1));
    disk.close();
    disk.close();
    assert.throws(() => disk.read(0, new Uint8Array(1)), BlockIoError);
    assert.throws(() => disk.flush(), BlockIoError);
    assert.equal(fs.statSync(file).size, 4096, 'nothing was written outside the disk');
  });
});

test('RawImage: writeZeroes and discard zero exactly their range, in the file', () => {
  const size = 3 * MiB;
  withImage(size, (file, original) => {
    const disk = RawImage.open(file, { readOnly: false, serial: '' });
    const model = original.slice();
    for (const [offset, length, op] of [[1000, MiB + 5000, 'writeZeroes'], [2 * MiB + 7, 4096, 'discard'],
      [size - 513, 513, 'writeZeroes'], [3, 1, 'discard']] as const) {
      disk[op](offset, length);
      model.fill(0, offset, offset + length);
      assert.deepEqual(readAll(disk), model, `${op} of ${length} bytes at ${offset}`);
    }
    assert.ok(Buffer.from(model).equals(fs.readFileSync(file)));
    disk.close();
  });
});

test('RawImage: zeroing a sparse image leaves its holes unallocated', (t) => {
  const dir = temporaryDirectory();
  try {
    const file = path.join(dir, 'sparse.raw');
    fs.writeFileSync(file, '');
    fs.truncateSync(file, 64 * MiB);
    if (fs.statSync(file).blocks * 512 > MiB) {
      t.skip('this file system does not keep sparse files sparse');
      return;
    }
    const disk = RawImage.open(file, { readOnly: false, serial: '' });
    disk.write(10 * MiB + 100, pattern(5000, 3));
    disk.writeZeroes(0, 64 * MiB);
    disk.discard(0, 64 * MiB);
    const back = new Uint8Array(8192);
    disk.read(10 * MiB, back);
    assert.ok(back.every((b) => b === 0), 'the data block was zeroed');
    disk.close();
    assert.ok(fs.statSync(file).blocks * 512 <= 64 * 1024,
      `only the blocks that held data are allocated (${fs.statSync(file).blocks * 512} bytes)`);
    assert.ok(fs.readFileSync(file).every((b) => b === 0));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('RawImage: flush is fdatasync of the image, and the flushed data is in the file', () => {
  withImage(8192, (file) => {
    const disk = RawImage.open(file, { readOnly: false, serial: '' });
    const syncs = mock.method(fs, 'fdatasyncSync');
    try {
      disk.write(100, pattern(300, 1));
      disk.flush();
      assert.equal(syncs.mock.callCount(), 1);
      const fd = syncs.mock.calls[0]!.arguments[0] as number;
      assert.equal(fs.fstatSync(fd).ino, fs.statSync(file).ino, 'fdatasync of the image descriptor');
      assert.deepEqual(fs.readFileSync(file).subarray(100, 400), Buffer.from(pattern(300, 1)),
        'another descriptor sees the data');
      disk.close();
      assert.equal(syncs.mock.callCount(), 2, 'close flushes a writable image');
    } finally {
      syncs.mock.restore();
    }
  });
});

test('RawImage: a failed flush is reported, and every later flush fails too', () => {
  withImage(8192, (file) => {
    const disk = RawImage.open(file, { readOnly: false, serial: '' });
    const failing = mock.method(fs, 'fdatasyncSync', () => {
      throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    });
    try {
      assert.throws(() => disk.flush(), (err: unknown) => err instanceof BlockIoError && /flush failed: EIO/.test(err.message));
    } finally {
      failing.mock.restore();
    }
    // fdatasync would succeed now, but the data of the failed writeback may be gone.
    assert.throws(() => disk.flush(), (err: unknown) => err instanceof BlockIoError && /an earlier flush failed/.test(err.message));
    assert.throws(() => disk.close(), BlockIoError, 'close reports it too');
    assert.equal(fs.existsSync(lockFileOf(file)), false,
      'close released the lock all the same');
    RawImage.open(file, { readOnly: false, serial: '' }).close();
  });
});

test('SnapshotOverlay: reads merge the writes over the base; the file stays byte-identical; close drops them', () => {
  // Not a multiple of 4 KiB, so the last overlay block is partial.
  const size = 3 * MiB + 1536;
  withImage(size, (file, original) => {
    const mtime = fs.statSync(file).mtimeMs;
    const disk = new SnapshotOverlay(RawImage.open(file, { readOnly: true, serial: 'base' }));
    assert.equal(disk.readOnly, false);
    assert.equal(disk.serial, 'base');
    assert.equal(disk.byteLength, size);
    const model = original.slice();
    for (const [i, [offset, length]] of oddWrites(size).entries()) {
      const data = pattern(length, 200 + i);
      disk.write(offset, data);
      model.set(data, offset);
    }
    assert.deepEqual(readAll(disk), model);
    for (const [offset, length, op] of [[1000, MiB + 5000, 'writeZeroes'], [MiB, MiB, 'discard'],
      [size - 2000, 2000, 'writeZeroes'], [5, 3, 'discard']] as const) {
      disk[op](offset, length);
      model.fill(0, offset, offset + length);
      assert.deepEqual(readAll(disk), model, `${op} of ${length} bytes at ${offset}`);
    }
    disk.write(MiB + 10, pattern(20, 9));        // into a region that was zeroed whole
    model.set(pattern(20, 9), MiB + 10);
    assert.deepEqual(readAll(disk), model);
    disk.flush();
    assert.ok(Buffer.from(original).equals(fs.readFileSync(file)), 'nothing reached the file');
    assert.equal(fs.statSync(file).mtimeMs, mtime);
    disk.close();
    assert.throws(() => disk.read(0, new Uint8Array(1)), BlockIoError);
    const again = new SnapshotOverlay(RawImage.open(file, { readOnly: true, serial: '' }));
    assert.deepEqual(readAll(again), original, 'a new snapshot starts from the file again');
    again.close();
  });
});

test('SnapshotOverlay: random operations agree with a model of the disk', () => {
  const size = 2 * MiB + 2560;
  withImage(size, (file, original) => {
    const disk = new SnapshotOverlay(RawImage.open(file, { readOnly: true, serial: '' }));
    const model = original.slice();
    let seed = 12345;
    const random = (n: number) => { seed = (seed * 1103515245 + 12345) >>> 0; return Math.floor((seed / 2 ** 32) * n); };
    for (let step = 0; step < 400; step++) {
      const lengthLimit = [16, 5000, 70_000, 1_500_000][random(4)]!;
      const offset = random(size);
      const length = Math.min(size - offset, 1 + random(lengthLimit));
      const op = random(4);
      if (op === 0) {
        const data = pattern(length, step);
        disk.write(offset, data);
        model.set(data, offset);
      } else if (op === 1) {
        disk.writeZeroes(offset, length);
        model.fill(0, offset, offset + length);
      } else if (op === 2) {
        disk.discard(offset, length);
        model.fill(0, offset, offset + length);
      } else {
        const back = new Uint8Array(length);
        disk.read(offset, back);
        assert.deepEqual(back, model.subarray(offset, offset + length), `step ${step}: read ${length} at ${offset}`);
      }
    }
    assert.deepEqual(readAll(disk), model);
    assert.ok(disk.overlayBytes <= Math.ceil(size / 4096) * 4096);
    disk.close();
    assert.ok(Buffer.from(original).equals(fs.readFileSync(file)));
  });
});

test('SnapshotOverlay: zeroing the whole disk holds no data; a full overlay refuses writes', () => {
  withImage(4 * MiB, (file) => {
    const disk = new SnapshotOverlay(RawImage.open(file, { readOnly: true, serial: '' }), { maxBytes: 8192, serial: 'snap' });
    assert.equal(disk.serial, 'snap');
    disk.write(0, pattern(8192, 1));
    assert.equal(disk.overlayBytes, 8192);
    assert.throws(() => disk.write(3 * MiB, new Uint8Array(1)), { message: /snapshot overlay is full/ });
    disk.writeZeroes(0, 4 * MiB);
    assert.equal(disk.overlayBytes, 0, 'zeroed regions are markers, not zero-filled blocks');
    disk.write(3 * MiB, new Uint8Array([1]));    // room again
    assert.equal(disk.overlayBytes, 4096);
    disk.close();
  });
});

test('locking: a second writable open in the same process is refused until the first closes', () => {
  withImage(4096, (file, _original, dir) => {
    const first = RawImage.open(file, { readOnly: false, serial: '' });
    assert.throws(() => RawImage.open(file, { readOnly: false, serial: '' }),
      (err: unknown) => err instanceof ImageInUseError && err.message === inUseMessage(file, process.pid));
    // The lock belongs to the file, not the path: a hard link and a symlink collide with it.
    const hardLink = path.join(dir, 'hard.raw'), symlink = path.join(dir, 'sym.raw');
    fs.linkSync(file, hardLink);
    fs.symlinkSync(file, symlink);
    assert.throws(() => RawImage.open(hardLink, { readOnly: false, serial: '' }), { message: inUseMessage(hardLink, process.pid) });
    assert.throws(() => RawImage.open(symlink, { readOnly: true, serial: '' }), { message: inUseMessage(symlink, process.pid) });
    first.close();
    assert.equal(fs.existsSync(lockFileOf(file)), false, 'close removed the lock file');
    RawImage.open(hardLink, { readOnly: false, serial: '' }).close();
  });
});

test('locking: a writable open from a child process is refused while this process holds the lock', () => {
  withImage(4096, (file) => {
    const disk = RawImage.open(file, { readOnly: false, serial: '' });
    try {
      const child = spawnSync(process.execPath, ['-e', `
        const { RawImage } = require(${JSON.stringify(RAW_IMAGE_JS)});
        try { RawImage.open(process.argv[1], { readOnly: false, serial: '' }); console.log('opened'); }
        catch (err) { console.log(err.name + ': ' + err.message); }`, file], { encoding: 'utf8' });
      assert.equal(child.stderr, '');
      assert.equal(child.stdout.trim(), `ImageInUseError: ${inUseMessage(file, process.pid)}`);
    } finally {
      disk.close();
    }
  });
});

test('locking: a holder killed with SIGKILL leaves a stale lock that the next writable open takes over', async () => {
  const dir = temporaryDirectory();
  try {
    const file = makeImage(dir, 'disk.raw', pattern(4096, 1));
    const holder = spawn(process.execPath, ['-e', `
      const { RawImage } = require(${JSON.stringify(RAW_IMAGE_JS)});
      RawImage.open(process.argv[1], { readOnly: false, serial: '' });
      console.log('locked');
      setInterval(() => {}, 1000);`, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => holder.on('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      holder.stdout.on('data', (chunk: Buffer) => { if (chunk.toString().includes('locked')) resolve(); });
      holder.on('exit', () => reject(new Error('the lock holder exited early')));
    });
    const holderPid = holder.pid!;
    assert.throws(() => RawImage.open(file, { readOnly: false, serial: '' }), { message: inUseMessage(file, holderPid) });
    assert.throws(() => RawImage.open(file, { readOnly: true, serial: '' }), { message: inUseMessage(file, holderPid) });
    holder.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');

    const lockFile = lockFileOf(file);
    assert.equal(JSON.parse(fs.readFileSync(lockFile, 'utf8')).pid, holderPid, 'SIGKILL left the lock file behind');
    RawImage.open(file, { readOnly: true, serial: '' }).close();   // readers ignore a stale lock...
    assert.ok(fs.existsSync(lockFile), '...and leave it alone');
    const disk = RawImage.open(file, { readOnly: false, serial: '' });
    assert.equal(JSON.parse(fs.readFileSync(lockFile, 'utf8')).pid, process.pid, 'the lock is ours now');
    disk.write(0, new Uint8Array([42]));
    disk.close();
    assert.equal(fs.readFileSync(file)[0], 42);
    assert.equal(fs.existsSync(lockFile), false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('locking: a lock naming a reused pid (other start time) or holding junk is stale', () => {
  withImage(4096, (file) => {
    const lockFile = lockFileOf(file);
    // Our own pid, but the process that wrote it started at another time.
    fs.mkdirSync(path.dirname(lockFile), { recursive: true, mode: 0o700 });
    fs.writeFileSync(lockFile, JSON.stringify({ armvirtLock: 1, pid: process.pid, startTime: '1', token: 'x', image: file }));
    RawImage.open(file, { readOnly: false, serial: '' }).close();
    fs.writeFileSync(lockFile, 'not a lock');
    RawImage.open(file, { readOnly: false, serial: '' }).close();
    assert.equal(fs.existsSync(lockFile), false);
    // A live process (this one, with its real start time) is a live holder.
    const ours = RawImage.open(file, { readOnly: false, serial: '' });
    const record = fs.readFileSync(lockFile, 'utf8');
    ours.close();
    fs.writeFileSync(lockFile, record);
    assert.throws(() => RawImage.open(file, { readOnly: false, serial: '' }), { message: inUseMessage(file, process.pid) });
    fs.rmSync(lockFile);
  });
});

test('locking: read-only and snapshot opens coexist with each other, and fail while a writer holds the image', () => {
  withImage(4096, (file) => {
    const readers: BlockBackend[] = [
      RawImage.open(file, { readOnly: true, serial: '' }),
      RawImage.open(file, { readOnly: true, serial: '' }),
      new SnapshotOverlay(RawImage.open(file, { readOnly: true, serial: '' })),
      new SnapshotOverlay(RawImage.open(file, { readOnly: true, serial: '' })),
    ];
    readers[2]!.write(0, new Uint8Array([1]));
    readers[3]!.write(0, new Uint8Array([2]));
    const first = new Uint8Array(1);
    readers[2]!.read(0, first);
    assert.equal(first[0], 1, 'each snapshot has its own overlay');
    // Readers take no lock (see disk-option.ts): a writer may still open the image.
    const writer = RawImage.open(file, { readOnly: false, serial: '' });
    for (const reader of readers) reader.close();
    assert.throws(() => RawImage.open(file, { readOnly: true, serial: '' }), { message: inUseMessage(file, process.pid) });
    writer.close();
    RawImage.open(file, { readOnly: true, serial: '' }).close();
  });
});

test('locking: a process that exits without closing releases its lock', () => {
  withImage(4096, (file) => {
    const child = spawnSync(process.execPath, ['-e', `
      const { RawImage } = require(${JSON.stringify(RAW_IMAGE_JS)});
      RawImage.open(process.argv[1], { readOnly: false, serial: '' });`, file], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    assert.equal(fs.existsSync(lockFileOf(file)), false);
  });
});

test('locking: of several processes racing to take over one stale lock, exactly one gets it', () => {
  withImage(4096, (file) => {
    // A stale lock: the pid of a process that has exited.
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout.trim());
    const lockFile = lockFileOf(file);
    fs.mkdirSync(path.dirname(lockFile), { recursive: true, mode: 0o700 });
    fs.writeFileSync(lockFile, JSON.stringify({ armvirtLock: 1, pid: deadPid, startTime: null, token: 'x', image: file }));
    // Each racer waits for the same moment, tries once, and holds what it got
    // until all have tried.
    const start = Date.now() + 1500;
    const racer = `
      const { RawImage } = require(${JSON.stringify(RAW_IMAGE_JS)});
      while (Date.now() < ${start});
      let result;
      try { RawImage.open(process.argv[1], { readOnly: false, serial: '' }); result = 'opened'; }
      catch (err) { result = err.name; }
      setTimeout(() => { console.log(result); }, 1500);`;
    const script = `
      const { spawn } = require('node:child_process');
      const results = [];
      for (let i = 0; i < 4; i++) {
        const child = spawn(process.execPath, ['-e', ${JSON.stringify(racer)}, process.argv[1]], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (d) => { out += d; });
        child.on('exit', () => { results.push(out.trim()); if (results.length === 4) console.log(results.sort().join(' ')); });
      }`;
    const run = spawnSync(process.execPath, ['-e', script, file], { encoding: 'utf8' });
    assert.equal(run.stderr, '');
    assert.equal(run.stdout.trim(), 'ImageInUseError ImageInUseError ImageInUseError opened');
    assert.equal(fs.existsSync(lockFile), false, 'the winner released it on exit');
  });
});

test('locking: an opener that found a lock stale does not remove a lock another opener took meanwhile', () => {
  withImage(4096, (file) => {
    const lockFile = lockFileOf(file);
    const live = RawImage.open(file, { readOnly: false, serial: '' });
    const liveRecord = fs.readFileSync(lockFile, 'utf8');    // names this live process
    live.close();
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    fs.writeFileSync(lockFile, JSON.stringify({ armvirtLock: 1, pid: Number(dead.stdout.trim()), startTime: null,
      token: 'x', image: file }));
    // The interleaving of two openers: this one read the stale lock; just before
    // it removes it, the other opener has removed it and created its own lock.
    const realRename = fs.renameSync, realRm = fs.rmSync, realUnlink = fs.unlinkSync;
    let interleaved = false;
    const otherOpenerTakesOver = (target: unknown) => {
      if (target !== lockFile || interleaved) return;
      interleaved = true;
      fs.writeFileSync(lockFile, liveRecord);
    };
    const renames = mock.method(fs, 'renameSync', (from: string, to: string) => { otherOpenerTakesOver(from); realRename(from, to); });
    const rms = mock.method(fs, 'rmSync', (target: string, options?: fs.RmOptions) => { otherOpenerTakesOver(target); realRm(target, options); });
    const unlinks = mock.method(fs, 'unlinkSync', (target: string) => { otherOpenerTakesOver(target); realUnlink(target); });
    try {
      assert.throws(() => RawImage.open(file, { readOnly: false, serial: '' }), { message: inUseMessage(file, process.pid) });
    } finally {
      renames.mock.restore();
      rms.mock.restore();
      unlinks.mock.restore();
    }
    assert.ok(interleaved, 'the stale lock was removed through renameSync, rmSync or unlinkSync');
    assert.equal(fs.readFileSync(lockFile, 'utf8'), liveRecord, "the other opener's lock is intact");
    fs.rmSync(lockFile);
  });
});
