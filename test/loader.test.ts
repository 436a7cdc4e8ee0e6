import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LoadError, loadKernel, placeInitrdAndDtb, type RamImage } from '../src/board/loader';

const RAM_BASE = 0x40000000;
const MiB = 1 << 20;

function ram(bytes = 64 * MiB): RamImage { return { base: RAM_BASE, bytes: new Uint8Array(bytes) }; }

interface Segment { paddr: number; data: number[]; memsz?: number; type?: number }

/** A minimal ELF64 little-endian executable: header, program headers, then the segments' bytes. */
function makeElf(opts: { machine?: number; elfClass?: number; entry?: number; segments: Segment[] }): Uint8Array {
  const phoff = 64, phentsize = 56;
  let dataOff = phoff + phentsize * opts.segments.length;
  const total = dataOff + opts.segments.reduce((n, s) => n + s.data.length, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, opts.elfClass ?? 2, 1, 1]);
  dv.setUint16(16, 2, true); // ET_EXEC
  dv.setUint16(18, opts.machine ?? 183, true);
  dv.setUint32(20, 1, true);
  dv.setBigUint64(24, BigInt(opts.entry ?? opts.segments[0]?.paddr ?? 0), true);
  dv.setBigUint64(32, BigInt(phoff), true);
  dv.setUint16(52, 64, true);
  dv.setUint16(54, phentsize, true);
  dv.setUint16(56, opts.segments.length, true);
  opts.segments.forEach((s, i) => {
    const ph = phoff + i * phentsize;
    dv.setUint32(ph, s.type ?? 1, true);
    dv.setUint32(ph + 4, 5, true);
    dv.setBigUint64(ph + 8, BigInt(dataOff), true);
    dv.setBigUint64(ph + 16, BigInt(s.paddr + 0x1000_0000), true); // p_vaddr differs: p_paddr must be used
    dv.setBigUint64(ph + 24, BigInt(s.paddr), true);
    dv.setBigUint64(ph + 32, BigInt(s.data.length), true);
    dv.setBigUint64(ph + 40, BigInt(s.memsz ?? s.data.length), true);
    out.set(s.data, dataOff);
    dataOff += s.data.length;
  });
  return out;
}

/** An arm64 Image: header (code0, code1, text_offset, image_size, flags, ..., magic at 0x38) + payload. */
function makeImage(textOffset: number, imageSize: number, flags = 0, payload = 0x1000): Uint8Array {
  const out = new Uint8Array(payload);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0x91005a4d, true); // "MZ" + add x13, x18, #0x16 (the EFI-stub kernels' first word)
  dv.setBigUint64(8, BigInt(textOffset), true);
  dv.setBigUint64(16, BigInt(imageSize), true);
  dv.setBigUint64(24, BigInt(flags), true);
  out.set([0x41, 0x52, 0x4d, 0x64], 0x38);
  out[payload - 1] = 0xab;
  return out;
}

test('ELF: PT_LOAD segments land at p_paddr, bss is zeroed, entry is e_entry', () => {
  const r = ram();
  r.bytes.fill(0xee, 0x90000, 0x90010);
  const elf = makeElf({ entry: 0x40080004, segments: [
    { paddr: 0x40080000, data: [1, 2, 3, 4, 5, 6, 7, 8] },
    { paddr: 0x40090000, data: [9, 9], memsz: 16 },
    { paddr: 0x40100000, data: [7], type: 4 /* PT_NOTE: not loaded */ },
  ] });
  const k = loadKernel(elf, r);
  assert.deepEqual(k, { format: 'elf', entry: 0x40080004, low: 0x40080000, high: 0x40090010, isLinux: false });
  assert.deepEqual([...r.bytes.subarray(0x80000, 0x80008)], [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual([...r.bytes.subarray(0x90000, 0x90010)], [9, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(r.bytes[0x100000], 0);
});

test('ELF: truncated, wrong machine/class and out-of-RAM files are rejected with one-line errors', () => {
  const good = makeElf({ segments: [{ paddr: 0x40080000, data: new Array(64).fill(1) }] });
  const cases: Array<[Uint8Array, RegExp]> = [
    [good.subarray(0, 40), /truncated \(40 bytes/],
    [good.subarray(0, 80), /truncated \(program headers/],
    [good.subarray(0, good.length - 10), /truncated \(segment 0/],
    [makeElf({ machine: 62, segments: [{ paddr: 0x40080000, data: [1] }] }), /machine 62 \(x86-64\), not AArch64/],
    [makeElf({ elfClass: 1, segments: [{ paddr: 0x40080000, data: [1] }] }), /32-bit/],
    [makeElf({ segments: [{ paddr: 0x1000, data: [1] }] }), /does not fit in RAM/],
    [makeElf({ segments: [{ paddr: 0x40080000, data: [1], memsz: 128 * MiB }] }), /does not fit in RAM/],
    [makeElf({ segments: [] }), /no program headers/],
    [makeElf({ segments: [{ paddr: 0x40080000, data: [1], type: 4 }] }), /no loadable segments/],
  ];
  for (const [file, message] of cases) {
    assert.throws(() => loadKernel(file, ram()), (e: Error) => e instanceof LoadError && message.test(e.message) && !e.message.includes('\n'), String(message));
  }
});

test('arm64 Image: loaded at RAM + 2 MiB + text_offset (QEMU moves offsets below 4 KiB up 2 MiB)', () => {
  const r = ram();
  const k = loadKernel(makeImage(0, 0x300000), r);
  assert.deepEqual(k, { format: 'image', compression: undefined, entry: RAM_BASE + 2 * MiB, low: RAM_BASE + 2 * MiB, high: RAM_BASE + 5 * MiB, isLinux: true });
  assert.equal(r.bytes[2 * MiB + 0x38], 0x41);
  assert.equal(r.bytes[2 * MiB + 0xfff], 0xab);
  // pre-4.x kernels with text_offset 0x80000 load exactly there
  assert.equal(loadKernel(makeImage(0x80000, 0x300000), ram()).entry, RAM_BASE + 0x80000);
  // before 3.17 image_size was 0: text_offset is not trusted, the image goes to 0x80000 like a raw one
  const old = loadKernel(makeImage(0x12345, 0), ram());
  assert.equal(old.entry, RAM_BASE + 0x80000);
  assert.equal(old.high, RAM_BASE + 0x80000 + 0x1000);
  assert.throws(() => loadKernel(makeImage(0, 0x300000, 1), ram()), /big-endian/);
  assert.throws(() => loadKernel(makeImage(0, 63 * MiB), ram()), /does not fit in RAM/);
});

test('gzip-compressed Image (Debian vmlinuz style) is decompressed first', () => {
  const r = ram();
  const k = loadKernel(new Uint8Array(gzipSync(makeImage(0, 0x200000))), r);
  assert.equal(k.format, 'image');
  assert.equal(k.compression, 'gzip');
  assert.equal(k.entry, RAM_BASE + 2 * MiB);
  assert.equal(r.bytes[2 * MiB + 0xfff], 0xab);
  const corrupt = new Uint8Array(gzipSync(makeImage(0, 0x200000)));
  corrupt.fill(0x55, 20, 60);
  assert.throws(() => loadKernel(corrupt, ram()), /cannot decompress gzip/);
});

test('EFI zboot image with a gzip payload is unpacked', () => {
  const payload = new Uint8Array(gzipSync(makeImage(0, 0x200000)));
  const zboot = new Uint8Array(0x100 + payload.length);
  const dv = new DataView(zboot.buffer);
  zboot.set([0x4d, 0x5a, 0, 0, 0x7a, 0x69, 0x6d, 0x67]); // "MZ" .. "zimg"
  dv.setUint32(8, 0x100, true);
  dv.setUint32(12, payload.length, true);
  zboot.set(new TextEncoder().encode('gzip'), 0x18);
  zboot.set(payload, 0x100);
  const k = loadKernel(zboot, ram());
  assert.equal(k.compression, 'efi-zboot+gzip');
  assert.equal(k.entry, RAM_BASE + 2 * MiB);
  zboot.set(new TextEncoder().encode('zstd'), 0x18);
  assert.throws(() => loadKernel(zboot, ram()), /compressed with zstd/);
});

test('raw binaries load at RAM + 0x80000; empty and larger-than-RAM files are rejected', () => {
  const r = ram();
  const k = loadKernel(new Uint8Array([0x1f, 0x20, 0x03, 0xd5]), r); // nop
  assert.deepEqual(k, { format: 'raw', compression: undefined, entry: RAM_BASE + 0x80000, low: RAM_BASE + 0x80000, high: RAM_BASE + 0x80004, isLinux: true });
  assert.equal(r.bytes[0x80000], 0x1f);
  assert.throws(() => loadKernel(new Uint8Array(0), ram()), /empty/);
  assert.throws(() => loadKernel(new Uint8Array(64 * MiB), ram()), /does not fit in RAM/);
});

test('Linux placement: initrd at RAM + min(RAM/2, 128 MiB) or after the kernel, DTB after it 2 MiB aligned', () => {
  const big = { base: RAM_BASE, bytes: new Uint8Array(512 * MiB) };
  const k = loadKernel(makeImage(0, 0x300000), big);
  const initrd = new Uint8Array(3 * MiB + 5).fill(7);
  const plan = placeInitrdAndDtb(k, big, initrd, 0x2000);
  assert.deepEqual(plan.initrd, { start: RAM_BASE + 128 * MiB, end: RAM_BASE + 128 * MiB + initrd.length });
  assert.equal(big.bytes[128 * MiB + initrd.length - 1], 7);
  assert.equal(plan.dtbAddress, RAM_BASE + 128 * MiB + 4 * MiB);
  // no initrd: the DTB goes where the initrd would have been (QEMU: 0x48000000 with 512 MiB)
  assert.equal(placeInitrdAndDtb(k, big, undefined, 0x2000).dtbAddress, 0x48000000);
  // small RAM: halfway; a kernel reaching beyond that pushes the initrd after it (page aligned)
  const small = ram(32 * MiB);
  const k2 = loadKernel(makeImage(0, 20 * MiB + 123), small);
  const p2 = placeInitrdAndDtb(k2, small, new Uint8Array(100), 0x1000);
  assert.equal(p2.initrd!.start, RAM_BASE + 22 * MiB + 4096);
  assert.equal(p2.dtbAddress, RAM_BASE + 24 * MiB);
  assert.throws(() => placeInitrdAndDtb(k2, small, new Uint8Array(10 * MiB), 0x1000), /initrd .* too big/);
});

test('bare-metal ELF placement: DTB at the start of RAM unless the program is there', () => {
  const r = ram();
  const low = loadKernel(makeElf({ segments: [{ paddr: 0x40080000, data: [1] }] }), r);
  assert.equal(placeInitrdAndDtb(low, r, undefined, 0x2000).dtbAddress, RAM_BASE);
  assert.throws(() => placeInitrdAndDtb(low, r, undefined, 0x90000), /does not fit below the ELF/);
  const atBase = loadKernel(makeElf({ segments: [{ paddr: RAM_BASE, data: [1], memsz: 3 * MiB }] }), r);
  assert.equal(placeInitrdAndDtb(atBase, r, undefined, 0x2000).dtbAddress, RAM_BASE + 32 * MiB);
});

test("Debian's arm64 kernel (when fetched by scripts/images.sh) is recognised as an Image", (t) => {
  const path = join(process.env.ARMVIRT_CACHE ?? join(homedir(), '.cache', 'armvirt'), 'vmlinuz-cloud');
  if (!existsSync(path)) { t.skip('no cached Debian kernel'); return; }
  const r = ram(256 * MiB);
  const k = loadKernel(new Uint8Array(readFileSync(path)), r);
  assert.equal(k.format, 'image');
  assert.equal(k.entry, RAM_BASE + 2 * MiB);
  assert.ok(k.high - k.low >= readFileSync(path).length);
});
