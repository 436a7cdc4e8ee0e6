// The inline wasm fast paths of vector FP (src/cpu/a64/simd-fp-inline.ts),
// differential against QEMU. The fast paths only run with FPSR.IXC already
// set, so most cases start with IXC = 1 (alone or with other flags); the
// rest start at 0 and check the helper path the gate sends them to. Operands
// are mostly values the fast path accepts, with one "special" lane (NaN,
// infinity, zero, denormal, tiny or huge) mixed into otherwise ordinary
// vectors, so a single bad lane must send the whole instruction to the helper.

import { test } from 'node:test';
import { expectSameAsQemu, Rng } from './simd-util';
import type { OracleCase } from './support/oracle';

const IXC = 1 << 4;
/** FPSR start values: mostly IXC set (the fast path's precondition), also all flags and none. */
const FPSRS = [IXC, IXC, IXC, IXC | 1 | 2 | 4 | 8 | 0x80 | (1 << 27), 0];
/** FPCR: default mostly; each rounding mode, DN, FZ, DN+FZ. */
const FPCRS = [0, 0, 0, 0, 1 << 22, 2 << 22, 3 << 22, 1 << 25, 1 << 24, (1 << 25) | (1 << 24)];

const SPECIAL32 = [0, -0, Infinity, -Infinity, 2 ** -149, -(2 ** -140), 2 ** -126, 2 ** -127 * 1.5, 3.4028234663852886e38, 2 ** 127, 2 ** 31, -(2 ** 31), 2 ** 32];
const SPECIAL64 = [0, -0, Infinity, -Infinity, 2 ** -1074, -(2 ** -1030), 2 ** -1022, 2 ** -961, 2 ** 996, 1.7976931348623157e308, 2 ** 63, -(2 ** 63), 2 ** 64];
const QNAN32 = 0x7fc00001, SNAN32 = 0x7f800005, NQNAN32 = 0xffc12345;
const QNAN64 = 0x7ff8000000000001n, SNAN64 = 0x7ff0000000000007n, NQNAN64 = 0xfff8000000abcdefn;

function laneBits(x: number, double: boolean): bigint {
  return double ? new BigUint64Array(new Float64Array([x]).buffer)[0] : BigInt(new Uint32Array(new Float32Array([x]).buffer)[0]);
}
const laneOf = (b: bigint, k: number, double: boolean): number => double
  ? new Float64Array(new BigUint64Array([(b >> BigInt(64 * k)) & ((1n << 64n) - 1n)]).buffer)[0]
  : new Float32Array(new Uint32Array([Number((b >> BigInt(32 * k)) & 0xffffffffn)]).buffer)[0];
function pack(lanes: bigint[], double: boolean): bigint {
  return lanes.reduce((acc, l, k) => acc | (l << BigInt(k * (double ? 64 : 32))), 0n);
}

/** An ordinary lane: moderate magnitude, sometimes a small integer or a half (ties, exact results). */
function ordinary(rng: Rng, double: boolean, wide: boolean): number {
  switch (rng.int(6)) {
    case 0: return (rng.int(2) ? -1 : 1) * rng.int(64) / 2;
    case 1: return (rng.int(2001) - 1000) / 8;
    default: {
      const range = wide ? (double ? 2000 : 250) : 40;
      const e = rng.int(range) - range / 2;
      return (rng.int(2) ? -1 : 1) * (1 + rng.int(1 << 22) / (1 << 22)) * 2 ** e;
    }
  }
}

function special(rng: Rng, double: boolean): bigint {
  const k = rng.int(5);
  if (k === 0) return double ? [QNAN64, SNAN64, NQNAN64][rng.int(3)] : BigInt([QNAN32, SNAN32, NQNAN32][rng.int(3)]);
  const list = double ? SPECIAL64 : SPECIAL32;
  return laneBits(list[rng.int(list.length)] * (rng.int(2) ? -1 : 1), double);
}

/** A vector of ordinary lanes; in a third of them one lane is special. Integer lanes for int->float sources. */
function vector(rng: Rng, double: boolean, wide: boolean, ints: boolean): bigint {
  const count = double ? 2 : 4;
  const lanes: bigint[] = [];
  for (let k = 0; k < count; k++) {
    if (ints) lanes.push(BigInt.asUintN(double ? 64 : 32, rng.int(2) ? rng.next64() : BigInt(rng.int(1 << 30) - (1 << 29)) << BigInt(rng.int(double ? 34 : 3))));
    else lanes.push(laneBits(ordinary(rng, double, wide), double));
  }
  if (rng.int(3) === 0) lanes[rng.int(count)] = special(rng, double);
  return pack(lanes, double);
}

function cases(forms: string[], count: number, seed: number): OracleCase[] {
  const rng = new Rng(seed);
  const out: OracleCase[] = [];
  for (const asm of forms) {
    const double = /\.2d|\.d\[/.test(asm.split(',').slice(1).join(',')) || /^fcvtn/.test(asm);
    const ints = /^[su]cvtf/.test(asm);
    for (let i = 0; i < count; i++) {
      const wide = rng.int(3) === 0;
      const v: bigint[] = [];
      for (let n = 0; n < 32; n++) v.push(vector(rng, double, wide, ints));
      // v0 nearly cancels v1*v2 (FMLA/FMLS accumulator): exact zeros, tiny and round-to-odd results
      if (/^fml[as] v0\.\d[sd], v1\.\d[sd], v2\.\d[sd]$/.test(asm) && rng.int(3) === 0) {
        const count2 = double ? 2 : 4;
        const sign = asm.startsWith('fmls') ? 1 : -1;
        v[0] = pack(Array.from({ length: count2 }, (_, k) =>
          laneBits(sign * laneOf(v[1], k, double) * laneOf(v[2], k, double) * (1 + (rng.int(5) - 2) * 2 ** (double ? -52 : -23)), double)), double);
      }
      out.push({ asm, name: asm, init: { v, fpcr: FPCRS[rng.int(FPCRS.length)], fpsr: FPSRS[rng.int(FPSRS.length)] } });
    }
  }
  return out;
}

const three = (m: string, arrs = ['2s', '4s', '2d']) => arrs.map(a => `${m} v0.${a}, v1.${a}, v2.${a}`);
const two = (m: string, arrs = ['2s', '4s', '2d'], suffix = '') => arrs.map(a => `${m} v0.${a}, v1.${a}${suffix}`);

test('inline FADD/FSUB/FMUL/FDIV/FMLA/FMLS (vector and by element) match QEMU, with FPSR.IXC set and clear', () => {
  expectSameAsQemu(cases([
    ...['fadd', 'fsub', 'fmul', 'fdiv', 'fmla', 'fmls'].flatMap(m => three(m)),
    'fmul v0.4s, v1.4s, v2.s[3]', 'fmul v0.2s, v1.2s, v17.s[1]', 'fmul v0.2d, v1.2d, v2.d[1]',
    'fmla v0.4s, v1.4s, v2.s[2]', 'fmla v0.2s, v1.2s, v2.s[0]', 'fmls v0.4s, v1.4s, v2.s[3]', 'fmla v0.2d, v1.2d, v2.d[1]', 'fmls v0.2d, v1.2d, v31.d[0]',
    // destination aliasing a source
    'fmla v2.4s, v1.4s, v2.s[0]', 'fmla v1.2d, v1.2d, v1.d[1]', 'fmul v1.4s, v1.4s, v1.4s', 'fdiv v2.2d, v1.2d, v2.2d',
  ], 24, 101));
});

test('inline FSQRT, FABS, FNEG, conversions (also fixed-point) and FCVTL/FCVTN match QEMU, with FPSR.IXC set and clear', () => {
  expectSameAsQemu(cases([
    ...['fsqrt', 'fabs', 'fneg', 'fcvtzs', 'fcvtzu', 'scvtf', 'ucvtf'].flatMap(m => two(m)),
    'fcvtzs v0.4s, v1.4s, #3', 'fcvtzu v0.2s, v1.2s, #31', 'fcvtzu v0.2d, v1.2d, #60', 'fcvtzs v0.2d, v1.2d, #1',
    'scvtf v0.4s, v1.4s, #32', 'ucvtf v0.2s, v1.2s, #5', 'ucvtf v0.2d, v1.2d, #64', 'scvtf v0.2d, v1.2d, #7',
    'fcvtl v0.2d, v1.2s', 'fcvtl2 v0.2d, v1.4s', 'fcvtn v0.2s, v1.2d', 'fcvtn2 v0.4s, v1.2d', 'fcvtn2 v1.4s, v1.2d', 'fcvtl2 v1.2d, v1.4s',
  ], 24, 102));
});

/** Cases of one instruction over all FPSR and FPCR start values, with explicit register lanes. */
function explicit(asm: string, regs: Record<number, bigint>): OracleCase[] {
  const out: OracleCase[] = [];
  for (const fpsr of [0, IXC, 0x9f]) {
    for (const fpcr of [0, 1 << 22, 2 << 22, 3 << 22, 1 << 24, 1 << 25]) {
      const v = Array.from({ length: 32 }, (_, n) => regs[n] ?? 0n);
      out.push({ asm, name: `${asm} fpcr=${fpcr.toString(16)} fpsr=${fpsr.toString(16)}`, init: { v, fpcr, fpsr } });
    }
  }
  return out;
}
const s4 = (...x: number[]) => pack(x.map(v => laneBits(v, false)), false);
const d2 = (...x: number[]) => pack(x.map(v => laneBits(v, true)), true);

test('single FMLA whose double sum lands on a single-precision midpoint (double rounding) matches QEMU', () => {
  // (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24: a midpoint of single precision. Adding 0 keeps it a tie (to even);
  // adding +-2^-60 makes the exact sum just above or below, which double rounding would lose.
  const a = 1 + 2 ** -12;
  expectSameAsQemu([
    ...explicit('fmla v0.4s, v1.4s, v2.4s', { 0: s4(0, 2 ** -60, -(2 ** -60), -0), 1: s4(a, a, a, -a), 2: s4(a, a, a, a) }),
    ...explicit('fmls v0.4s, v1.4s, v2.s[1]', { 0: s4(0, 2 ** -60, -(2 ** -60), 1), 1: s4(-a, -a, -a, 3), 2: s4(1, a, 0, 0) }),
  ]);
});

test('double FMLA: fused results that differ from multiply-then-add, zero products and cancellation match QEMU', () => {
  const e = 1 + 2 ** -30;
  expectSameAsQemu([
    // e*e = 1 + 2^-29 + 2^-60: with -1 the fused result keeps the 2^-60 that an unfused product loses
    ...explicit('fmla v0.2d, v1.2d, v2.2d', { 0: d2(-1, 1), 1: d2(e, e), 2: d2(e, -e) }),
    // zero factors (nbody's i == j lane), exact cancellation to +0 / -0, zero accumulators
    ...explicit('fmla v0.2d, v1.2d, v2.2d', { 0: d2(3.5, -0), 1: d2(0, -0), 2: d2(7, 5) }),
    ...explicit('fmla v0.2d, v1.2d, v2.2d', { 0: d2(-6, 0), 1: d2(2, 1.5), 2: d2(3, -0) }),
    ...explicit('fmls v0.2d, v1.2d, v2.d[0]', { 0: d2(6, 2 ** -1070), 1: d2(2, 0), 2: d2(3, 9) }),
    // a*b + c within 2^-109 of a midpoint (a*b = k*2^-52 + 2^-53 +- 2^-109, found by solving a*b mod 2^57 in
    // integers): the low parts must be added rounded to odd, or the final addition sees an exact tie
    ...explicit('fmla v0.2d, v1.2d, v2.2d', { 0: d2(1, 1.5), 1: d2(0.05606413837484168, 0.05596000513862839), 2: d2(1.4846350316669945, 1.535423164104597) }),
    ...explicit('fmls v0.2d, v1.2d, v2.2d', { 0: d2(-1.5, -1), 1: d2(0.05606413837484168, 0.05596000513862839), 2: d2(1.4846350316669945, 1.535423164104597) }),
    // rounding ties of the final addition and round-to-odd of the low part
    ...explicit('fmla v0.2d, v1.2d, v2.2d', { 0: d2(1, -1), 1: d2(2 ** -53, 1 + 2 ** -52), 2: d2(1 + 2 ** -52, 2 ** -53) }),
  ]);
});

test('a single special lane sends the whole vector to the helper: NaNs, infinities, denormals, tiny and overflowing results', () => {
  const qnan = pack([BigInt(QNAN32), laneBits(1, false), laneBits(2, false), laneBits(3, false)], false);
  const snan = pack([laneBits(1, false), BigInt(SNAN32), laneBits(2, false), laneBits(3, false)], false);
  const ones = s4(1.5, 2.5, -3.5, 4.25);
  const dn = pack([laneBits(1.25, true), SNAN64], true);
  const dq = pack([QNAN64, laneBits(-2, true)], true);
  expectSameAsQemu([
    ...explicit('fadd v0.4s, v1.4s, v2.4s', { 1: qnan, 2: snan }),
    ...explicit('fmul v0.4s, v1.4s, v2.4s', { 1: ones, 2: s4(Infinity, 1, 0, 2) }),
    ...explicit('fmul v0.4s, v1.4s, v2.4s', { 1: ones, 2: s4(1, 2 ** -149, 1, 1) }), // denormal operand (FZ: IDC)
    ...explicit('fmul v0.4s, v1.4s, v2.4s', { 1: s4(2 ** -70, 1, 1, 1), 2: s4(2 ** -70, 1, 1, 1) }), // underflow
    ...explicit('fmul v0.2s, v1.2s, v2.2s', { 1: s4(1, 1, 2 ** -70, NaN), 2: s4(1, 1, 2 ** -70, 1) }), // bad upper lanes ignored
    ...explicit('fadd v0.4s, v1.4s, v2.4s', { 1: s4(2 ** -149, 2 ** -130, 1, 1), 2: s4(2 ** -148, -(2 ** -131), 1, 1) }), // denormal sums (exact)
    ...explicit('fdiv v0.2d, v1.2d, v2.2d', { 1: d2(1, 0), 2: d2(0, 0) }), // DZC, IOC
    ...explicit('fdiv v0.2d, v1.2d, v2.2d', { 1: d2(2 ** 1000, 1), 2: d2(2 ** -100, 3) }), // overflow
    ...explicit('fsqrt v0.2d, v1.2d', { 1: d2(-1, 4) }),
    ...explicit('fsqrt v0.4s, v1.4s', { 1: s4(2 ** -149, -0, 2, 9) }),
    ...explicit('fmla v0.2d, v1.2d, v2.2d', { 0: dq, 1: dn, 2: d2(1, 1) }),
    ...explicit('fmla v0.2d, v1.2d, v2.2d', { 0: d2(1, 1), 1: d2(Infinity, 1), 2: d2(0, 1) }), // inf * 0: IOC
    ...explicit('fmla v0.4s, v1.4s, v2.4s', { 0: s4(1, 1, 1, 1), 1: s4(2 ** -63, 1, 1, 1), 2: s4(2 ** -63, 1, 1, 1) }), // sum stays normal
    ...explicit('fmla v0.4s, v1.4s, v2.4s', { 0: s4(0, 1, 1, 1), 1: s4(2 ** -63, 1, 1, 1), 2: s4(2 ** -64, 1, 1, 1) }), // tiny
    ...explicit('fcvtzs v0.4s, v1.4s', { 1: s4(2 ** 31, -(2 ** 31), 1.5, -1.5) }),
    ...explicit('fcvtzu v0.2d, v1.2d', { 1: d2(-0.75, 2 ** 64) }),
    ...explicit('fcvtzs v0.2d, v1.2d', { 1: d2(-(2 ** 63), 2 ** 63 - 1024) }),
    ...explicit('fcvtl v0.2d, v1.2s', { 1: s4(2 ** -149, 1, 0, 0) }),
    ...explicit('fcvtl2 v0.2d, v1.4s', { 1: pack([0n, 0n, BigInt(SNAN32), laneBits(1, false)], false) }),
    ...explicit('fcvtn v0.2s, v1.2d', { 1: d2(2 ** -127, 1 + 2 ** -30) }),
    ...explicit('fcvtn2 v0.4s, v1.2d', { 0: s4(7, 8, 9, 10), 1: d2(3.4028235677973366e38, 1) }), // rounds to infinity
    ...explicit('fneg v0.4s, v1.4s', { 1: qnan }),
    ...explicit('fabs v0.2d, v1.2d', { 1: dn }),
    ...explicit('scvtf v0.2d, v1.2d', { 1: (1n << 64n) - 1n | (((1n << 53n) + 1n) << 64n) }),
    ...explicit('ucvtf v0.4s, v1.4s', { 1: pack([0xffffffffn, 0x80000001n, 1n, 0n], false) }),
  ]);
});
