// Shared pieces of the Advanced SIMD differential tests: deterministic
// random operands (with saturation edge values mixed in) and a batch runner
// that fails with QEMU's and armvirt's states side by side.

import assert from 'node:assert/strict';
import { compareBatch, formatDivergences, type OracleCase, type OracleInit } from './support/oracle';

/** xorshift64*: reproducible operands without Math.random. */
export class Rng {
  private s: bigint;
  constructor(seed: number) { this.s = BigInt(seed) * 0x9e3779b97f4a7c15n | 1n; }
  next64(): bigint {
    let x = this.s;
    x ^= x >> 12n; x ^= (x << 25n) & 0xffffffffffffffffn; x ^= x >> 27n;
    this.s = x;
    return (x * 0x2545f4914f6cdd1dn) & 0xffffffffffffffffn;
  }
  int(n: number): number { return Number(this.next64() % BigInt(n)); }
}

/** Lane values that exercise saturation and sign boundaries. */
const EDGE_LANES = [0n, 1n, -1n, 0x7fn, 0x80n, 0x7fffn, 0x8000n, 0x7fffffffn, 0x80000000n, 0x7fffffffffffffffn, 0x8000000000000000n];

/** A 128-bit operand: random, or built from edge lanes of element size 8<<esz. */
export function operand(rng: Rng, esz = rng.int(4)): bigint {
  if (rng.int(3) > 0) return rng.next64() | (rng.next64() << 64n);
  const bits = 8 << esz;
  const mask = (1n << BigInt(bits)) - 1n;
  let v = 0n;
  for (let i = 0; i < 128 / bits; i++) {
    const e = rng.int(4) === 0 ? rng.next64() : EDGE_LANES[rng.int(EDGE_LANES.length)];
    v |= (e & mask) << BigInt(i * bits);
  }
  return v;
}

/** Random V registers 0..31 (some with edge lanes), X registers random. */
export function randomInit(rng: Rng, esz?: number, extra: Partial<OracleInit> = {}): OracleInit {
  const v: bigint[] = [];
  for (let n = 0; n < 32; n++) v.push(operand(rng, esz));
  const x: bigint[] = [];
  for (let n = 0; n < 31; n++) x.push(n === 28 ? 0x4001_0000n : rng.next64());
  return { v, x, ...extra };
}

/** Runs the cases under QEMU and armvirt; fails listing every divergence. */
export function expectSameAsQemu(cases: OracleCase[]): void {
  const results = compareBatch(cases);
  const msg = formatDivergences(results);
  assert.equal(msg, '', msg.slice(0, 6000));
}

/** `count` cases of `asm` with random operands. */
export function randomCases(asm: string | ((rng: Rng) => string), count: number, seed: number, esz?: number): OracleCase[] {
  const rng = new Rng(seed);
  const cases: OracleCase[] = [];
  for (let i = 0; i < count; i++) {
    const text = typeof asm === 'string' ? asm : asm(rng);
    cases.push({ asm: text, init: randomInit(rng, esz), name: text.trim().split('\n')[0] });
  }
  return cases;
}
