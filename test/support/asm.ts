// Assembles A64 source with Debian's aarch64-linux-gnu binutils (a test-only tool).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Assembles `source` (GNU as syntax) and returns the raw bytes of its .text. */
export function assemble(source: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'armvirt-asm-'));
  try {
    writeFileSync(join(dir, 'a.s'), `.text\n${source}\n`);
    execFileSync('aarch64-linux-gnu-as', ['-march=armv8-a+crc+crypto', '-o', join(dir, 'a.o'), join(dir, 'a.s')], { stdio: 'pipe' });
    execFileSync('aarch64-linux-gnu-objcopy', ['-O', 'binary', '-j', '.text', join(dir, 'a.o'), join(dir, 'a.bin')], { stdio: 'pipe' });
    return new Uint8Array(readFileSync(join(dir, 'a.bin')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
