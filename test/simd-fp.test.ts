// Advanced SIMD floating point, differential against QEMU: random lanes
// mixed with NaNs (quiet and signalling), infinities, zeros, denormals and
// values near integer/overflow boundaries, under several FPCR settings
// (rounding modes, default NaN, flush to zero).

import { test } from 'node:test';
import { expectSameAsQemu, Rng } from './simd-util';
import type { OracleCase } from './support/oracle';

const SPECIAL32 = [0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffa00005, 0x00000001, 0x807fffff, 0x3f800000, 0xbf000000,
  0x4f000000, 0xcf000000, 0x7f7fffff, 0x3fc00000, 0x40200000, 0x00800000, 0x4b7fffff];
const SPECIAL64 = [0n, 0x8000000000000000n, 0x7ff0000000000000n, 0xfff0000000000000n, 0x7ff8000000000000n, 0x7ff0000000000001n,
  0x0000000000000001n, 0x3ff0000000000000n, 0xbfe0000000000000n, 0x43e0000000000000n, 0x7fefffffffffffffn, 0x3ff8000000000000n,
  0x4004000000000000n, 0x0010000000000000n, 0x41dfffffffc00000n];

/** A random FP lane: special value, small "nice" number, or random bits. */
function lane32(rng: Rng): bigint {
  const k = rng.int(4);
  if (k === 0) return BigInt(SPECIAL32[rng.int(SPECIAL32.length)] >>> 0);
  if (k === 1) return BigInt(new Uint32Array(new Float32Array([(rng.int(2001) - 1000) / 8]).buffer)[0]);
  return rng.next64() & 0xffffffffn;
}
function lane64(rng: Rng): bigint {
  const k = rng.int(4);
  if (k === 0) return SPECIAL64[rng.int(SPECIAL64.length)];
  if (k === 1) return new BigUint64Array(new Float64Array([(rng.int(2001) - 1000) / 8]).buffer)[0];
  return rng.next64();
}
function vec(rng: Rng, double: boolean): bigint {
  if (double) return lane64(rng) | (lane64(rng) << 64n);
  let v = 0n;
  for (let i = 0; i < 4; i++) v |= lane32(rng) << BigInt(32 * i);
  return v;
}

/** FPCR values: default, each rounding mode, DN, FZ, DN+FZ. */
const FPCRS = [0, 1 << 22, 2 << 22, 3 << 22, 1 << 25, 1 << 24, (1 << 25) | (1 << 24)];

function cases(forms: string[], count: number, seed: number): OracleCase[] {
  const rng = new Rng(seed);
  const out: OracleCase[] = [];
  for (const asm of forms) {
    const double = /\.2d|\bd\d|\.d\[/.test(asm);
    for (let i = 0; i < count; i++) {
      const v: bigint[] = [];
      for (let n = 0; n < 32; n++) v.push(vec(rng, double));
      const x: bigint[] = [];
      for (let n = 0; n < 31; n++) x.push(rng.next64());
      out.push({ asm, name: asm, init: { v, x, fpcr: FPCRS[rng.int(FPCRS.length)] } });
    }
  }
  return out;
}

const three = (m: string, arrs = ['2s', '4s', '2d']) => arrs.map(a => `${m} v0.${a}, v1.${a}, v2.${a}`);
const two = (m: string, arrs = ['2s', '4s', '2d'], suffix = '') => arrs.map(a => `${m} v0.${a}, v1.${a}${suffix}`);

test('vector FP arithmetic, min/max, compares and pairwise ops match QEMU', () => {
  expectSameAsQemu(cases([
    ...['fadd', 'fsub', 'fmul', 'fdiv', 'fmla', 'fmls', 'fmulx', 'fabd', 'fmax', 'fmin', 'fmaxnm', 'fminnm', 'frecps', 'frsqrts'].flatMap(m => three(m)),
    ...['fcmeq', 'fcmge', 'fcmgt', 'facge', 'facgt'].flatMap(m => three(m)),
    ...['faddp', 'fmaxp', 'fminp', 'fmaxnmp', 'fminnmp'].flatMap(m => three(m)),
    'fmulx s0, s1, s2', 'fabd d0, d1, d2', 'fcmeq s0, s1, s2', 'facgt d0, d1, d2', 'frecps s0, s1, s2', 'frsqrts d0, d1, d2',
    'faddp s0, v1.2s', 'faddp d0, v1.2d', 'fmaxp s0, v1.2s', 'fminnmp d0, v1.2d',
    'fmaxv s0, v1.4s', 'fminv s0, v1.4s', 'fmaxnmv s0, v1.4s', 'fminnmv s0, v1.4s',
  ], 4, 31));
});

test('vector FP unary ops, rounding and conversions match QEMU', () => {
  expectSameAsQemu(cases([
    ...['fabs', 'fneg', 'fsqrt', 'frecpe', 'frsqrte', 'frintn', 'frintm', 'frintp', 'frintz', 'frinta', 'frintx', 'frinti'].flatMap(m => two(m)),
    ...['fcvtns', 'fcvtnu', 'fcvtms', 'fcvtmu', 'fcvtps', 'fcvtpu', 'fcvtzs', 'fcvtzu', 'fcvtas', 'fcvtau', 'scvtf', 'ucvtf'].flatMap(m => two(m)),
    ...['fcmgt', 'fcmge', 'fcmeq', 'fcmle', 'fcmlt'].flatMap(m => two(m, ['2s', '4s', '2d'], ', #0.0')),
    'urecpe v0.4s, v1.4s', 'ursqrte v0.2s, v1.2s',
    'fcvtl v0.2d, v1.2s', 'fcvtl2 v0.2d, v1.4s', 'fcvtl v0.4s, v1.4h', 'fcvtl2 v0.4s, v1.8h',
    'fcvtn v0.2s, v1.2d', 'fcvtn2 v0.4s, v1.2d', 'fcvtn v0.4h, v1.4s', 'fcvtn2 v0.8h, v1.4s', 'fcvtxn v0.2s, v1.2d', 'fcvtxn2 v0.4s, v1.2d', 'fcvtxn s0, d1',
    'fcvtzs v0.4s, v1.4s, #3', 'fcvtzu v0.2d, v1.2d, #60', 'scvtf v0.2s, v1.2s, #32', 'ucvtf v0.2d, v1.2d, #1',
    'fcvtzs s0, s1, #7', 'ucvtf d0, d1, #64', 'fcvtns s0, s1', 'fcvtau d0, d1', 'scvtf s0, s1', 'ucvtf d0, d1', 'frecpe d0, d1', 'frsqrte s0, s1', 'frecpx s0, s1', 'frecpx d0, d1',
    'fcmlt d0, d1, #0.0', 'fcmge s0, s1, #0.0',
  ], 4, 32));
});

test('FP by-element forms match QEMU', () => {
  expectSameAsQemu(cases([
    'fmul v0.4s, v1.4s, v2.s[3]', 'fmul v0.2s, v1.2s, v17.s[1]', 'fmul v0.2d, v1.2d, v2.d[1]', 'fmla v0.4s, v1.4s, v2.s[2]', 'fmls v0.2d, v1.2d, v31.d[0]',
    'fmulx v0.4s, v1.4s, v2.s[0]', 'fmul s0, s1, v2.s[3]', 'fmla d0, d1, v2.d[1]', 'fmls s0, s1, v2.s[1]', 'fmulx d0, d1, v2.d[0]',
  ], 4, 33));
});

test('FADD/FSUB/FMUL/FDIV fast path (default FPCR) matches QEMU, including inexact, tiny and huge results', () => {
  const rng = new Rng(34);
  const out: OracleCase[] = [];
  const forms = [...['fadd', 'fsub', 'fmul', 'fdiv'].flatMap(m => three(m)), 'fmul v0.4s, v1.4s, v2.s[1]', 'fmul v0.2d, v1.2d, v2.d[1]'];
  // magnitudes from tiny to huge, so results cross the normal range's edges
  const scaled = (double: boolean) => {
    const e = rng.int(double ? 2000 : 250) - (double ? 1000 : 125);
    return (rng.int(2) ? -1 : 1) * (1 + rng.int(1 << 20) / (1 << 20)) * 2 ** e;
  };
  for (const asm of forms) {
    const double = asm.includes('2d');
    for (let i = 0; i < 12; i++) {
      const v: bigint[] = [];
      for (let n = 0; n < 32; n++) {
        const lanes = double ? [scaled(true), scaled(true)] : [scaled(false), scaled(false), scaled(false), scaled(false)];
        const bytes = double ? new Uint8Array(new Float64Array(lanes).buffer) : new Uint8Array(new Float32Array(lanes).buffer);
        v.push(bytes.reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n));
      }
      out.push({ asm, name: asm, init: { v, fpcr: 0 } });
    }
  }
  expectSameAsQemu(out);
});

// ---- JS-double fast paths of the other vector ops ---------------------------------------------

/** 128-bit value from float lanes (single: 4, double: 2). */
function packLanes(lanes: number[], double: boolean): bigint {
  const bytes = double ? new Uint8Array(new Float64Array(lanes).buffer) : new Uint8Array(new Float32Array(lanes).buffer);
  return bytes.reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n);
}

/**
 * Operands the fast paths accept and reject: magnitudes over the whole range
 * (results cross the normal range's edges), halves and near-integers
 * (rounding ties, conversion bounds), near-cancelling FMA accumulators
 * (exact and round-to-odd cases), plus NaNs, infinities, zeros and
 * denormals mixed in; mostly the default FPCR with every other mode too.
 */
function fastCases(forms: string[], count: number, seed: number): OracleCase[] {
  const rng = new Rng(seed);
  const out: OracleCase[] = [];
  for (const asm of forms) {
    const double = /\.2d|\bd\d|\.d\[/.test(asm);
    const laneCount = double ? 2 : 4;
    const scaled = () => {
      const e = rng.int(double ? 2000 : 250) - (double ? 1000 : 125);
      return (rng.int(2) ? -1 : 1) * (1 + rng.int(1 << 20) / (1 << 20)) * 2 ** e;
    };
    const value = (): number => {
      switch (rng.int(8)) {
        case 0: return (rng.int(2) ? -1 : 1) * rng.int(64) / 2; // ties
        case 1: return (rng.int(2) ? -1 : 1) * 2 ** (rng.int(double ? 66 : 34)) * (1 - rng.int(3) * 2 ** -24); // conversion bounds
        case 2: return (rng.int(2001) - 1000) / 8;
        default: return scaled();
      }
    };
    for (let i = 0; i < count; i++) {
      const v: bigint[] = [];
      for (let n = 0; n < 32; n++) {
        if (rng.int(8) === 0) { v.push(vec(rng, double)); continue; } // specials and random bits
        v.push(packLanes(Array.from({ length: laneCount }, value), double));
      }
      // v0 nearly cancels v1*v2 (FMLA/FMLS accumulator): exact zeros, tiny and round-to-odd results
      if (rng.int(3) === 0) {
        const x = new Float64Array(laneCount), y = new Float64Array(laneCount);
        const get = (b: bigint, k: number) => double ? new Float64Array(new BigUint64Array([(b >> BigInt(64 * k)) & ((1n << 64n) - 1n)]).buffer)[0]
          : new Float32Array(new Uint32Array([Number((b >> BigInt(32 * k)) & 0xffffffffn)]).buffer)[0];
        for (let k = 0; k < laneCount; k++) { x[k] = get(v[1], k); y[k] = get(v[2], k); }
        const sign = asm.startsWith('fmls') ? 1 : -1;
        v[0] = packLanes(Array.from(x, (xi, k) => sign * xi * y[k] * (1 + (rng.int(5) - 2) * 2 ** (double ? -52 : -23))), double);
      }
      const fpcr = rng.int(3) === 0 ? FPCRS[rng.int(FPCRS.length)] : 0;
      out.push({ asm, name: asm, init: { v, fpcr } });
    }
  }
  return out;
}

test('FMLA/FMLS, FABD, FMULX, min/max, compares and pairwise fast paths match QEMU', () => {
  expectSameAsQemu(fastCases([
    ...['fmla', 'fmls', 'fabd', 'fmulx', 'fmax', 'fmin', 'fmaxnm', 'fminnm', 'fcmeq', 'fcmge', 'fcmgt', 'facge', 'facgt', 'faddp', 'fmaxp', 'fminnmp'].flatMap(m => three(m)),
    'fmla v0.4s, v1.4s, v2.s[1]', 'fmls v0.4s, v1.4s, v2.s[3]', 'fmla v0.2s, v1.2s, v2.s[0]', 'fmla v0.2d, v1.2d, v2.d[1]', 'fmls v0.2d, v1.2d, v2.d[0]',
    'fmla s0, s1, v2.s[2]', 'fmls d0, d1, v2.d[1]', 'fmla v2.4s, v1.4s, v2.s[0]', 'fmla v1.2d, v1.2d, v1.d[1]',
    'faddp s0, v1.2s', 'faddp d0, v1.2d', 'fmulx v0.2d, v1.2d, v2.d[1]',
  ], 10, 35));
});

test('FSQRT, FRINT*, FCVT* to integer, SCVTF/UCVTF and FCVTL/FCVTN fast paths match QEMU', () => {
  expectSameAsQemu(fastCases([
    ...['fsqrt', 'frintn', 'frintm', 'frintp', 'frintz', 'frinta', 'frintx', 'frinti', 'fabs', 'fneg'].flatMap(m => two(m)),
    ...['fcvtns', 'fcvtnu', 'fcvtms', 'fcvtmu', 'fcvtps', 'fcvtpu', 'fcvtzs', 'fcvtzu', 'fcvtas', 'fcvtau', 'scvtf', 'ucvtf'].flatMap(m => two(m)),
    ...['fcmgt', 'fcmge', 'fcmeq', 'fcmle', 'fcmlt'].flatMap(m => two(m, ['4s', '2d'], ', #0.0')),
    'fcvtzs v0.4s, v1.4s, #3', 'fcvtzu v0.2d, v1.2d, #60', 'fcvtzs v0.2d, v1.2d, #1', 'scvtf v0.4s, v1.4s, #32', 'ucvtf v0.2d, v1.2d, #64', 'scvtf v0.2d, v1.2d, #7',
    'fcvtl v0.2d, v1.2s', 'fcvtl2 v0.2d, v1.4s', 'fcvtn v0.2s, v1.2d', 'fcvtn2 v0.4s, v1.2d', 'fcvtn2 v1.4s, v1.2d',
  ], 10, 36));
});

test('single FMUL/FDIV/FMLA whose result rounds up to the smallest normal set UFC (tininess before rounding)', () => {
  // (1 - 2^-24) * 2^-126 lies between the largest denormal and 2^-126 and rounds to 2^-126
  const below = packLanes([1 - 2 ** -24, -(1 - 2 ** -24), 1 - 2 ** -24, 1.5], false);
  const minNormal = packLanes([2 ** -126, 2 ** -126, -(2 ** -126), 2 ** -126], false);
  const v = Array.from({ length: 32 }, () => 0n);
  v[1] = below; v[2] = minNormal; v[3] = packLanes([1 / (1 - 2 ** -24), 1, 1, 1], false);
  expectSameAsQemu(['fmul v0.4s, v1.4s, v2.4s', 'fdiv v0.4s, v2.4s, v3.4s', 'fmla v0.4s, v1.4s, v2.4s', 'fmul v0.2d, v1.2d, v2.2d']
    .map(asm => ({ asm, name: asm, init: { v, fpcr: 0 } })));
});
