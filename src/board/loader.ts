// Kernel, initrd and DTB placement for `armvirt run`, following QEMU's
// hw/arm/boot.c so that guests find things where they do on QEMU's virt:
//  - ELF64 AArch64: PT_LOAD segments at their physical addresses (p_paddr),
//    entry e_entry. QEMU treats ELFs as bare-metal programs: the DTB goes to
//    the start of RAM when the program does not occupy it.
//  - arm64 Linux Image (Documentation/arch/arm64/booting.rst), also gzip- or
//    EFI-zboot-compressed: loaded at a 2 MiB aligned base + text_offset. Like
//    QEMU, a text_offset below 4 KiB is moved up by 2 MiB (QEMU keeps its boot
//    stub at the bottom of RAM; matching it keeps guest addresses identical).
//  - anything else is a raw image at RAM + 0x80000 (QEMU's KERNEL64_LOAD_ADDR).
//  - Linux (Image/raw): initrd at max(RAM + min(RAM/2, 128 MiB), kernel end),
//    page aligned; DTB after the initrd, 2 MiB aligned (early arm64 kernels
//    map the FDT's whole 2 MiB block).
// Every problem is reported as a LoadError with a one-line message.

import { gunzipSync } from 'node:zlib';

export class LoadError extends Error {}

const EM_AARCH64 = 183;
const PT_LOAD = 1;
const ARM64_MAGIC_OFFSET = 0x38;
const ARM64_MAGIC = 0x644d5241; // "ARM\x64" little-endian
/** QEMU's KERNEL64_LOAD_ADDR: where a raw (headerless) AArch64 image goes. */
export const RAW_LOAD_OFFSET = 0x80000;
/** QEMU's BOOTLOADER_MAX_SIZE: Image text_offsets below this are moved up 2 MiB. */
const BOOTLOADER_MAX_SIZE = 4096;
/** QEMU's LOAD_IMAGE_MAX_GUNZIP_BYTES. */
const MAX_GUNZIP_BYTES = 256 << 20;
const MiB = 1 << 20;
const PAGE = 4096;

export type KernelFormat = 'elf' | 'image' | 'raw';

export interface LoadedKernel {
  format: KernelFormat;
  /** Compression that was undone ('gzip' or 'efi-zboot+gzip'), if any. */
  compression?: string;
  entry: number;
  /** Lowest and highest (exclusive) guest-physical address the kernel occupies (incl. bss/image_size). */
  low: number;
  high: number;
  /** Linux boot protocol (Image or raw): the DTB goes after the initrd. ELF programs are bare metal. */
  isLinux: boolean;
}

/** Guest RAM as the loaders see it. */
export interface RamImage { base: number; bytes: Uint8Array }

const hex = (v: number) => '0x' + v.toString(16);

function u64(dv: DataView, off: number): number {
  const v = dv.getBigUint64(off, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER; // absurd values fail the RAM bounds checks
  return Number(v);
}

function copyIntoRam(ram: RamImage, gpa: number, data: Uint8Array, memSize: number, what: string): void {
  const end = gpa + memSize;
  if (gpa < ram.base || end > ram.base + ram.bytes.length) {
    throw new LoadError(`${what} at ${hex(gpa)}-${hex(end)} does not fit in RAM (${hex(ram.base)}-${hex(ram.base + ram.bytes.length)})`);
  }
  const off = gpa - ram.base;
  ram.bytes.set(data, off);
  ram.bytes.fill(0, off + data.length, off + memSize);
}

export function isElf(data: Uint8Array): boolean {
  return data.length >= 4 && data[0] === 0x7f && data[1] === 0x45 && data[2] === 0x4c && data[3] === 0x46;
}

function isGzip(data: Uint8Array): boolean {
  return data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b;
}

function gunzip(data: Uint8Array, what: string): Uint8Array {
  try {
    return new Uint8Array(gunzipSync(data, { maxOutputLength: MAX_GUNZIP_BYTES }));
  } catch (e) {
    throw new LoadError(`${what}: cannot decompress gzip data (${(e as Error).message.split('\n')[0]})`);
  }
}

const MACHINES: Record<number, string> = { 3: 'x86', 40: 'ARM (32-bit)', 62: 'x86-64', 243: 'RISC-V', 8: 'MIPS', 21: 'PowerPC64' };

/** Loads an ELF64 AArch64 executable's PT_LOAD segments at their physical addresses. */
export function loadElf(data: Uint8Array, ram: RamImage): LoadedKernel {
  if (data.length < 64) throw new LoadError(`ELF file is truncated (${data.length} bytes, the ELF64 header alone is 64)`);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data[4] !== 2) throw new LoadError(`ELF file is ${data[4] === 1 ? '32-bit' : 'of unknown class'}; only ELF64 AArch64 kernels can run`);
  if (data[5] !== 1) throw new LoadError('ELF file is big-endian; only little-endian AArch64 is supported');
  const type = dv.getUint16(16, true);
  const machine = dv.getUint16(18, true);
  if (machine !== EM_AARCH64) throw new LoadError(`ELF file is for machine ${machine}${MACHINES[machine] ? ` (${MACHINES[machine]})` : ''}, not AArch64`);
  if (type !== 2 && type !== 3) throw new LoadError(`ELF file is not an executable (e_type ${type})`);
  const entry = u64(dv, 24);
  const phoff = u64(dv, 32);
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  if (phnum === 0) throw new LoadError('ELF file has no program headers');
  if (phentsize < 56) throw new LoadError(`ELF program header size ${phentsize} is too small`);
  if (phoff + phnum * phentsize > data.length) throw new LoadError('ELF file is truncated (program headers extend past the end)');
  let low = Infinity, high = -Infinity;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (dv.getUint32(ph, true) !== PT_LOAD) continue;
    const offset = u64(dv, ph + 8), paddr = u64(dv, ph + 24), filesz = u64(dv, ph + 32), memsz = u64(dv, ph + 40);
    if (memsz === 0) continue;
    if (filesz > memsz) throw new LoadError(`ELF segment ${i} has p_filesz > p_memsz`);
    if (offset + filesz > data.length) throw new LoadError(`ELF file is truncated (segment ${i} extends past the end of the file)`);
    copyIntoRam(ram, paddr, data.subarray(offset, offset + filesz), memsz, `ELF segment ${i}`);
    low = Math.min(low, paddr);
    high = Math.max(high, paddr + memsz);
  }
  if (low === Infinity) throw new LoadError('ELF file has no loadable segments');
  return { format: 'elf', entry, low, high, isLinux: false };
}

/** Undoes an EFI zboot wrapper (CONFIG_EFI_ZBOOT: "MZ" + "zimg", payload offset/size, compression name). */
function unpackEfiZboot(data: Uint8Array): Uint8Array | undefined {
  if (data.length < 0x40 || data[0] !== 0x4d || data[1] !== 0x5a) return undefined;
  if (String.fromCharCode(...data.subarray(4, 8)) !== 'zimg') return undefined;
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const offset = dv.getUint32(8, true), size = dv.getUint32(12, true);
  const comp = String.fromCharCode(...data.subarray(0x18, 0x20)).replace(/\0.*$/, '');
  if (offset + size > data.length) throw new LoadError('EFI zboot image is truncated');
  if (comp !== 'gzip') throw new LoadError(`EFI zboot image is compressed with ${comp}; only gzip is supported`);
  return gunzip(data.subarray(offset, offset + size), 'EFI zboot image');
}

/** Loads an arm64 Linux Image (or a raw binary when there is no Image header). */
export function loadImageOrRaw(file: Uint8Array, ram: RamImage): LoadedKernel {
  let data = file;
  let compression: string | undefined;
  if (isGzip(data)) { data = gunzip(data, 'kernel'); compression = 'gzip'; }
  else {
    const unpacked = unpackEfiZboot(data);
    if (unpacked) { data = unpacked; compression = 'efi-zboot+gzip'; }
  }
  if (data.length === 0) throw new LoadError('kernel file is empty');
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let loadOffset = RAW_LOAD_OFFSET;
  let size = 0;
  let format: KernelFormat = 'raw';
  if (data.length > ARM64_MAGIC_OFFSET + 4 && dv.getUint32(ARM64_MAGIC_OFFSET, true) === ARM64_MAGIC) {
    format = 'image';
    const textOffset = u64(dv, 8), imageSize = u64(dv, 16), flags = u64(dv, 24);
    if (imageSize !== 0) {
      // text_offset is only meaningful when image_size is set (kernels >= 3.17)
      if (flags & 1) throw new LoadError('kernel Image is big-endian (flags bit 0); only little-endian is supported');
      loadOffset = textOffset < BOOTLOADER_MAX_SIZE ? textOffset + 2 * MiB : textOffset;
      size = imageSize;
    }
  }
  // before 3.17 image_size was 0, and raw images have no header: the file size is the best guess
  if (size === 0) size = data.length;
  const entry = ram.base + loadOffset;
  copyIntoRam(ram, entry, data, Math.max(size, data.length), format === 'image' ? 'kernel Image' : 'raw kernel image');
  return { format, compression, entry, low: entry, high: entry + Math.max(size, data.length), isLinux: true };
}

/** Loads a kernel of any supported format. */
export function loadKernel(data: Uint8Array, ram: RamImage): LoadedKernel {
  if (data.length === 0) throw new LoadError('kernel file is empty');
  if (isElf(data)) return loadElf(data, ram);
  return loadImageOrRaw(data, ram);
}

export interface BootPlan {
  kernel: LoadedKernel;
  initrd?: { start: number; end: number };
  dtbAddress: number;
}

/**
 * Places the initrd (copied into RAM here) and decides where the DTB goes
 * (`dtbSize` bytes; the caller writes it once the DTB, which names the
 * initrd, is built).
 */
export function placeInitrdAndDtb(kernel: LoadedKernel, ram: RamImage, initrd: Uint8Array | undefined, dtbSize: number): BootPlan {
  const ramEnd = ram.base + ram.bytes.length;
  const alignUp = (v: number, a: number) => Math.ceil(v / a) * a;
  let initrdStart = ram.base + Math.min(Math.floor(ram.bytes.length / 2), 128 * MiB);
  initrdStart = Math.max(initrdStart, kernel.high); // never over the kernel (incl. its bss)
  initrdStart = alignUp(initrdStart, PAGE);
  let placed: BootPlan['initrd'];
  if (initrd) {
    if (initrdStart >= ramEnd) throw new LoadError('not enough space after the kernel to load the initrd');
    if (initrdStart + initrd.length > ramEnd) {
      throw new LoadError(`initrd (${initrd.length} bytes) is too big to fit into RAM after the kernel (${ramEnd - initrdStart} bytes free)`);
    }
    copyIntoRam(ram, initrdStart, initrd, initrd.length, 'initrd');
    placed = { start: initrdStart, end: initrdStart + initrd.length };
  }
  let dtbAddress: number;
  if (!kernel.isLinux && (kernel.low >= ram.base + dtbSize || kernel.high <= ram.base)) {
    // bare-metal ELF that leaves the bottom of RAM free: the DTB goes there, as on QEMU
    dtbAddress = ram.base;
  } else if (!kernel.isLinux && kernel.low > ram.base) {
    throw new LoadError(`the device tree (${dtbSize} bytes) does not fit below the ELF program at ${hex(kernel.low)}`);
  } else {
    // Linux: after the initrd, 2 MiB aligned. (A bare-metal ELF that
    // occupies the bottom of RAM, where QEMU would not load a DTB at all, gets the same.)
    dtbAddress = alignUp(placed ? placed.end : initrdStart, 2 * MiB);
  }
  if (dtbAddress + dtbSize > ramEnd) throw new LoadError('not enough space for the device tree after the kernel and initrd');
  return { kernel, initrd: placed, dtbAddress };
}

/** Copies the DTB to its planned address. */
export function writeDtb(plan: BootPlan, ram: RamImage, dtb: Uint8Array): void {
  copyIntoRam(ram, plan.dtbAddress, dtb, dtb.length, 'device tree');
}
