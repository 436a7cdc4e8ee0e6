// Builds VMSAv8-64 translation tables in guest RAM for MMU tests (stage 1
// and stage 2), and small helpers to write/read guest memory and vectors.

import type { Vcpu } from '../../src/hv/vm';

/** Descriptor bits (stage 1). */
export const D = {
  AF: 1n << 10n,
  SH_INNER: 3n << 8n,
  AP_EL0: 1n << 6n, // AP[1]: EL0 access
  AP_RO: 1n << 7n, // AP[2]: read-only
  NG: 1n << 11n,
  PXN: 1n << 53n,
  UXN: 1n << 54n,
  attr: (index: number) => BigInt(index) << 2n,
  /** Stage-2 S2AP read/write and MemAttr Normal write-back. */
  S2_RW: 3n << 6n,
  S2_RO: 1n << 6n,
  S2_NORMAL: 0xfn << 2n,
} as const;

export function writeU64(vcpu: Vcpu, pa: number, v: bigint): void {
  const off = vcpu.vm.ramOffset(pa);
  if (off < 0) throw new Error(`0x${pa.toString(16)} is not RAM`);
  new DataView(vcpu.vm.memory.buffer).setBigUint64(off, v, true);
}

export function readU64(vcpu: Vcpu, pa: number): bigint {
  return new DataView(vcpu.vm.memory.buffer).getBigUint64(vcpu.vm.ramOffset(pa), true);
}

export function readBytes(vcpu: Vcpu, pa: number, n: number): number[] {
  const off = vcpu.vm.ramOffset(pa);
  return [...new Uint8Array(vcpu.vm.memory.buffer, off, n)];
}

/** Fills a 2 KiB vector table with BRK #0 so that any exception exits the run with PC at the vector. */
export function brkVectors(vcpu: Vcpu, pa: number): void {
  for (let i = 0; i < 0x800; i += 4) new DataView(vcpu.vm.memory.buffer).setUint32(vcpu.vm.ramOffset(pa + i), 0xd4200000, true);
}

/**
 * A translation table tree for one granule (12, 14 or 16 = 4K/16K/64K) and
 * input size, allocating tables from `pool` upwards. `stage2` uses the
 * stage-2 start level given by `startLevel` (VTCR_EL2.SL0) and may
 * concatenate tables at that level.
 */
export class PageTables {
  readonly stride: number;
  readonly startLevel: number;
  readonly root: number;
  private next: number;

  constructor(private readonly vcpu: Vcpu, readonly granule: number, readonly inputSize: number, pool: number, startLevel?: number) {
    this.stride = granule - 3;
    this.startLevel = startLevel ?? 4 - Math.ceil((inputSize - granule) / this.stride);
    this.next = pool;
    const startBits = inputSize - this.shift(this.startLevel);
    this.root = this.alloc(Math.max(1 << granule, 8 << startBits));
  }

  shift(level: number): number { return this.granule + this.stride * (3 - level); }

  private alloc(bytes = 1 << this.granule): number {
    const align = Math.max(bytes, 1 << this.granule);
    const a = Math.ceil(this.next / align) * align;
    this.next = a + bytes;
    for (let i = 0; i < bytes; i += 8) writeU64(this.vcpu, a + i, 0n);
    return a;
  }

  /** Physical address of the descriptor for `va` at `level`, creating tables on the way. */
  entry(va: bigint, level: number): number {
    let table = this.root;
    for (let l = this.startLevel; ; l++) {
      const sh = this.shift(l);
      const bits = l === this.startLevel ? this.inputSize - sh : this.stride;
      const index = Number((va >> BigInt(sh)) & ((1n << BigInt(bits)) - 1n));
      const addr = table + index * 8;
      if (l === level) return addr;
      let desc = readU64(this.vcpu, addr);
      if ((desc & 3n) !== 3n) {
        const t = this.alloc();
        desc = BigInt(t) | 3n;
        writeU64(this.vcpu, addr, desc);
      }
      table = Number(desc & 0x0000_ffff_ffff_ffffn & ~((1n << BigInt(this.granule)) - 1n));
    }
  }

  /** Maps `va` to `pa` with a leaf at `level` (3 = page, else block) and the given attribute bits. */
  map(va: bigint, pa: number, level: number, attrs: bigint): number {
    const addr = this.entry(va, level);
    writeU64(this.vcpu, addr, BigInt(pa) | attrs | (level === 3 ? 3n : 1n));
    return addr;
  }
}

/** MAIR_EL1 used by the tests: index 0 Device-nGnRnE, index 1 Normal write-back. */
export const MAIR = 0xff00n;
export const NORMAL = D.attr(1) | D.AF | D.SH_INNER;
export const DEVICE = D.attr(0) | D.AF;

/** TCR_EL1 value: TTBR0 with the given granule and T0SZ, TTBR1 disabled (EPD1), 44-bit IPS. */
export function tcrEl1(granule: number, t0sz: number, extra = 0n): bigint {
  const tg0 = granule === 12 ? 0n : granule === 16 ? 1n : 2n;
  return BigInt(t0sz) | (tg0 << 14n) | (1n << 23n) | (4n << 32n) | extra;
}
