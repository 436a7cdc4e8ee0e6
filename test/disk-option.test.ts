import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { DiskOptionError, DiskSpec, openDisk, parseDiskOption } from '../src/devices/block/disk-option';
import { RawImage } from '../src/devices/block/raw-image';
import { SnapshotOverlay } from '../src/devices/block/snapshot-overlay';
import { defaultSerial } from '../src/devices/block/serial';

const DISK_OPTION_JS = path.join(__dirname, '..', 'src', 'devices', 'block', 'disk-option.js');

function spec(value: string): DiskSpec {
  return parseDiskOption(value);
}

/** Asserts that `run` throws a DiskOptionError with exactly `message`, on one line. */
function assertDiskOptionError(run: () => unknown, message: string): void {
  assert.throws(run, (err: unknown) => {
    assert.ok(err instanceof DiskOptionError, `a DiskOptionError, not ${String(err)}`);
    assert.equal(err.message, message);
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  });
}

function withDirectory(body: (dir: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armvirt-disk-option-test-'));
  try {
    body(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('parseDiskOption: a file, its options in any order, doubled commas', () => {
  assert.deepEqual(spec('disk.raw'), { path: 'disk.raw', readOnly: false, snapshot: false, serial: undefined });
  assert.deepEqual(spec('/img/a.raw,ro'), { path: '/img/a.raw', readOnly: true, snapshot: false, serial: undefined });
  assert.deepEqual(spec('a.raw,snapshot'), { path: 'a.raw', readOnly: false, snapshot: true, serial: undefined });
  assert.deepEqual(spec('a.raw,serial=ROOT-1,snapshot,ro'), { path: 'a.raw', readOnly: true, snapshot: true, serial: 'ROOT-1' });
  assert.deepEqual(spec('a,,b.raw,ro'), { path: 'a,b.raw', readOnly: true, snapshot: false, serial: undefined });
  assert.deepEqual(spec('a,,,serial=x,,y'), { path: 'a,', readOnly: false, snapshot: false, serial: 'x,y' });
  assert.equal(spec('a,serial=' + 'S'.repeat(20)).serial, 'S'.repeat(20), '20 characters are allowed');
  assert.equal(spec('a,serial=with space ~').serial, 'with space ~');
  assert.equal(spec('a,serial=a=b').serial, 'a=b');
});

test('parseDiskOption: every malformed value is a one-line DiskOptionError', () => {
  const usage = '(expected FILE[,ro][,snapshot][,serial=ID])';
  assertDiskOptionError(() => spec(''), `--disk "": the image file name is empty ${usage}`);
  assertDiskOptionError(() => spec(',ro'), `--disk ",ro": the image file name is empty ${usage}`);
  assertDiskOptionError(() => spec('a.raw,'), '--disk "a.raw,": empty option (a stray comma?)');
  assertDiskOptionError(() => spec('a.raw,ro,,'), '--disk "a.raw,ro,,": unknown option \'ro,\' (expected ro, snapshot or serial=ID)');
  assertDiskOptionError(() => spec('a.raw,,ro,'), '--disk "a.raw,,ro,": empty option (a stray comma?)');
  assertDiskOptionError(() => spec('a.raw,ro,ro'), '--disk "a.raw,ro,ro": option \'ro\' is given twice');
  assertDiskOptionError(() => spec('a.raw,snapshot,ro,snapshot'), '--disk "a.raw,snapshot,ro,snapshot": option \'snapshot\' is given twice');
  assertDiskOptionError(() => spec('a.raw,serial=x,serial=y'), '--disk "a.raw,serial=x,serial=y": option \'serial\' is given twice');
  assertDiskOptionError(() => spec('a.raw,rw'), '--disk "a.raw,rw": unknown option \'rw\' (expected ro, snapshot or serial=ID)');
  assertDiskOptionError(() => spec('a.raw,ro=on'), '--disk "a.raw,ro=on": unknown option \'ro=on\' (expected ro, snapshot or serial=ID)');
  assertDiskOptionError(() => spec('a.raw,serial'), '--disk "a.raw,serial": serial needs a value (serial=ID)');
  assertDiskOptionError(() => spec('a.raw,serial='), '--disk "a.raw,serial=": serial "" must be 1 to 20 printable ASCII characters');
  assertDiskOptionError(() => spec('a.raw,serial=' + 'S'.repeat(21)),
    `--disk "a.raw,serial=${'S'.repeat(21)}": serial "${'S'.repeat(21)}" must be 1 to 20 printable ASCII characters`);
  assertDiskOptionError(() => spec('a.raw,serial=d\u00e9j\u00e0'),
    '--disk "a.raw,serial=d\u00e9j\u00e0": serial "d\u00e9j\u00e0" must be 1 to 20 printable ASCII characters');
  assertDiskOptionError(() => spec('a.raw,serial=a\nb'),
    '--disk "a.raw,serial=a\\nb": serial "a\\nb" must be 1 to 20 printable ASCII characters');
});

test('defaultSerial: the file name without its extension, as udev would show it in /dev/disk/by-id', () => {
  assert.equal(defaultSerial('/var/lib/images/debian-12.raw'), 'debian-12');
  assert.equal(defaultSerial('disk'), 'disk');
  assert.equal(defaultSerial('.hidden'), '.hidden');
  assert.equal(defaultSerial('backup.tar.img'), 'backup.tar');
  assert.equal(defaultSerial('my disk (1).img'), 'my_disk__1_');
  assert.equal(defaultSerial('debian-12-nocloud-arm64-20240101.raw'), 'debian-12-nocloud-ar');
  assert.equal(defaultSerial('d\u00e9j\u00e0.raw'), 'd_j_');
  assert.equal(defaultSerial('images/'), 'images');
});

test('openDisk: writable, read-only, snapshot and read-only snapshot disks', () => {
  withDirectory((dir) => {
    const file = path.join(dir, 'root-fs.raw');
    fs.writeFileSync(file, Buffer.alloc(8192, 0x5a));

    const writable = openDisk(spec(file));
    assert.ok(writable instanceof RawImage);
    assert.equal(writable.readOnly, false);
    assert.equal(writable.serial, 'root-fs', 'the default serial');
    assert.equal(writable.byteLength, 8192);
    writable.write(0, new Uint8Array([1, 2, 3]));
    writable.close();
    assert.deepEqual([...fs.readFileSync(file).subarray(0, 4)], [1, 2, 3, 0x5a]);

    const readOnly = openDisk(spec(`${file},ro,serial=SYSTEM`));
    assert.equal(readOnly.readOnly, true);
    assert.equal(readOnly.serial, 'SYSTEM');

    const snapshot = openDisk(spec(`${file},snapshot`));
    assert.ok(snapshot instanceof SnapshotOverlay);
    assert.equal(snapshot.readOnly, false);
    assert.equal(snapshot.serial, 'root-fs');
    snapshot.write(0, new Uint8Array([9]));
    const back = new Uint8Array(1);
    snapshot.read(0, back);
    assert.equal(back[0], 9);

    const readOnlySnapshot = openDisk(spec(`${file},snapshot,ro`));
    assert.equal(readOnlySnapshot.readOnly, true, 'ro wins: the guest sees a read-only disk');
    for (const disk of [readOnly, snapshot, readOnlySnapshot]) disk.close();
    assert.equal(fs.readFileSync(file)[0], 1, 'the snapshot never reached the file');
  });
});

test('openDisk: every image that cannot be used is a one-line DiskOptionError naming it', () => {
  withDirectory((dir) => {
    const missing = path.join(dir, 'missing.raw');
    assertDiskOptionError(() => openDisk(spec(missing)), `image '${missing}' does not exist`);
    assertDiskOptionError(() => openDisk(spec(`${missing},snapshot`)), `image '${missing}' does not exist`);
    const underFile = path.join(dir, 'empty.raw', 'x.raw');
    const empty = path.join(dir, 'empty.raw');
    fs.writeFileSync(empty, '');
    assertDiskOptionError(() => openDisk(spec(underFile)),
      `image '${underFile}' does not exist (a component of the path is not a directory)`);
    assertDiskOptionError(() => openDisk(spec(dir)), `image '${dir}' is a directory, not a disk image file`);
    assertDiskOptionError(() => openDisk(spec(`${dir},ro`)), `image '${dir}' is a directory, not a disk image file`);
    assertDiskOptionError(() => openDisk(spec(empty)), `image '${empty}' is empty (0 bytes); a disk needs at least 512 bytes`);
    const odd = path.join(dir, 'odd.raw');
    fs.writeFileSync(odd, Buffer.alloc(1000));
    assertDiskOptionError(() => openDisk(spec(`${odd},ro`)),
      `image '${odd}' is 1000 bytes, not a multiple of 512; pad it with: truncate -s 1024 '${odd}'`);
    assertDiskOptionError(() => openDisk(spec('/dev/null,ro')),
      "image '/dev/null' is not a regular file (block devices, pipes and character devices are not supported)");
    const newline = path.join(dir, 'two\nlines.raw');
    assertDiskOptionError(() => openDisk(spec(newline)), `image '${dir}/two\\x0alines.raw' does not exist`);

    const file = path.join(dir, 'disk.raw');
    fs.writeFileSync(file, Buffer.alloc(4096));
    const holder = openDisk(spec(file));
    const inUse = `image '${file}' is in use by another armvirt (pid ${process.pid}), which has it open for writing`;
    assertDiskOptionError(() => openDisk(spec(file)), inUse);
    assertDiskOptionError(() => openDisk(spec(`${file},ro`)), inUse);
    assertDiskOptionError(() => openDisk(spec(`${file},snapshot`)), inUse);
    holder.close();
    openDisk(spec(file)).close();
  });
});

test('openDisk: permission denied, for writing and for reading', () => {
  withDirectory((dir) => {
    const file = path.join(dir, 'private.raw');
    fs.writeFileSync(file, Buffer.alloc(4096));
    fs.chmodSync(file, 0o600);
    const forWriting = `image '${file}': permission denied opening it for writing; use ,ro or ,snapshot to open it read-only`;
    const forReading = `image '${file}': permission denied opening it for reading`;
    if (process.getuid?.() === 0) {
      // root ignores file modes: ask as nobody, in a child process.
      fs.chmodSync(dir, 0o755);
      const child = spawnSync(process.execPath, ['-e', `
        const { openDisk, parseDiskOption } = require(${JSON.stringify(DISK_OPTION_JS)});
        for (const value of process.argv.slice(1)) {
          try { openDisk(parseDiskOption(value)).close(); console.log('opened'); }
          catch (err) { console.log(err.name + ': ' + err.message); }
        }`, file, `${file},ro`, `${file},snapshot`], { encoding: 'utf8', uid: 65534, gid: 65534 });
      assert.equal(child.stderr, '');
      assert.deepEqual(child.stdout.trim().split('\n'),
        [`DiskOptionError: ${forWriting}`, `DiskOptionError: ${forReading}`, `DiskOptionError: ${forReading}`]);
    } else {
      fs.chmodSync(file, 0o400);
      assertDiskOptionError(() => openDisk(spec(file)), forWriting);
      openDisk(spec(`${file},ro`)).close();
      fs.chmodSync(file, 0o000);
      assertDiskOptionError(() => openDisk(spec(`${file},snapshot`)), forReading);
    }
  });
});
