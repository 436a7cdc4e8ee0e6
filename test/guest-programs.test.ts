// Runs real userland programs in a Linux guest on armvirt and compares their
// output byte for byte with the same binary under qemu-aarch64 (user mode,
// the oracle). The programs (guest/programs/*.c) are built here with
// Debian's cross compiler as static glibc executables and reach the guest in
// a second newc cpio archive appended to armvirt's initramfs: Linux unpacks
// concatenated archives in order, so the main initramfs stays untouched.
// guest/init runs the armvirt.run= command line and powers off.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const BOOT_TIMEOUT_MS = 15 * 60_000;

function run(cmd: string, args: string[], options: { cwd?: string; input?: string | Buffer } = {}): Buffer {
  const r = spawnSync(cmd, args, { ...options, maxBuffer: 1 << 28, timeout: 10 * 60_000 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** Cloud kernel and initramfs from scripts/images.sh (cached after the first fetch). */
function images(): { kernel: string; initrd: string } {
  const out = run('bash', [join(ROOT, 'scripts', 'images.sh'), 'cloud']).toString();
  return { kernel: /KERNEL=(.*)/.exec(out)![1], initrd: /INITRD=(.*)/.exec(out)![1] };
}

/**
 * Writes `base` followed by a newc archive holding `files` (path inside the
 * guest -> host file, mode 755, owned by root) to `out`. The base (gzip'd) is
 * padded with zeros to a 4-byte boundary: the kernel's unpacker skips zero
 * bytes between archives but expects each uncompressed cpio header 4-aligned.
 */
function appendCpio(base: string, files: Record<string, string>, work: string, out: string): void {
  const tree = join(work, 'tree');
  const entries = new Set<string>();
  for (const [guestPath, hostPath] of Object.entries(files)) {
    const parts = guestPath.split('/').filter(Boolean);
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      mkdirSync(join(tree, dir), { recursive: true, mode: 0o755 });
      entries.add(dir);
    }
    const rel = parts.join('/');
    writeFileSync(join(tree, rel), readFileSync(hostPath));
    chmodSync(join(tree, rel), 0o755);
    entries.add(rel);
  }
  const list = [...entries].sort().join('\n') + '\n';
  const archive = run('cpio', ['-o', '-H', 'newc', '--owner', '0:0', '--quiet'], { cwd: tree, input: list });
  const head = readFileSync(base);
  const pad = Buffer.alloc((4 - (head.length % 4)) % 4);
  writeFileSync(out, Buffer.concat([head, pad, archive]));
}

/** Boots the guest with armvirt.run=<command>; resolves with everything the console printed. */
function bootAndRun(kernel: string, initrd: string, command: string): Promise<{ output: string; code: number | null }> {
  // loglevel=1: only emergency kernel messages reach the console, so nothing interleaves with the program's output
  const append = `console=ttyAMA0 loglevel=1 armvirt.run=${command.replace(/ /g, '%20')}`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'run', '--kernel', kernel, '--initrd', initrd, '--append', append],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the guest did not finish in ${BOOT_TIMEOUT_MS / 60_000} minutes; output so far:\n${output.slice(-3000)}`));
    }, BOOT_TIMEOUT_MS);
    child.stdout.on('data', (d: Buffer) => { output += d.toString('latin1'); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString('latin1'); });
    child.on('exit', code => { clearTimeout(timer); resolve({ output, code }); });
  });
}

/** The first line that differs, with context, for a readable failure. */
function firstDifference(expected: string, actual: string): string {
  const e = expected.split('\n'), a = actual.split('\n');
  for (let i = 0; i < Math.max(e.length, a.length); i++) {
    if (e[i] !== a[i]) return `line ${i + 1}:\n  qemu-aarch64: ${JSON.stringify(e[i])}\n  armvirt:      ${JSON.stringify(a[i])}`;
  }
  return 'no line differs';
}

test('static glibc program (string functions, printf of doubles, -O3 SIMD loops) matches qemu-aarch64 in a Linux guest',
  { timeout: BOOT_TIMEOUT_MS + 5 * 60_000 }, async () => {
    const work = mkdtempSync(join(tmpdir(), 'armvirt-guest-programs-'));
    try {
      const binary = join(work, 'libc-fp');
      run('aarch64-linux-gnu-gcc', ['-O3', '-static', '-Wall', '-o', binary, join(ROOT, 'guest', 'programs', 'libc-fp.c'), '-lm']);
      // The oracle: QEMU's user mode with the CPU armvirt models (glibc picks its string-function variants from HWCAP).
      const expected = run('qemu-aarch64', ['-cpu', 'cortex-a57', binary]).toString('latin1');
      assert.match(expected, /^libc-fp start\n[\s\S]*\nlibc-fp done: ok\n$/, 'the program must pass under QEMU');

      const { kernel, initrd } = images();
      const combined = join(work, 'initramfs-with-programs.cpio');
      appendCpio(initrd, { 'usr/bin/libc-fp': binary }, work, combined);
      const { output, code } = await bootAndRun(kernel, combined, '/usr/bin/libc-fp; echo libc-fp-exit=$?');
      const console_ = output.replace(/\r\n/g, '\n');
      const tail = console_.slice(-3000);
      const start = console_.indexOf('libc-fp start\n');
      const end = console_.indexOf('libc-fp-exit=', start);
      assert.ok(start >= 0 && end > start, `the program's output is missing; console tail:\n${tail}`);
      const actual = console_.slice(start, end);
      if (actual !== expected) assert.fail(`output differs from qemu-aarch64 at ${firstDifference(expected, actual)}\nconsole tail:\n${tail}`);
      assert.match(console_.slice(end), /^libc-fp-exit=0\n/, tail);
      assert.equal(code, 0, tail);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
