// Scalar FP instructions on armvirt against QEMU (-cpu cortex-a57): the
// translated rows (inline fast paths and the library slow path) over
// special operands (NaNs with payloads, infinities, denormals, zeros,
// limits) in every rounding mode and with FZ/DN, conversions at their
// saturation limits, compares, selects, moves, and the FP access trap.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareBatch, formatDivergences, runArmvirt, type OracleCase } from './support/oracle';
import { specials, FPCRS } from './fp-cases';
import { runAsm } from './support/machine';

const F64 = (x: number) => new BigUint64Array(new Float64Array([x]).buffer)[0];

function pairs(N: 32 | 64, fpcrs: number[], asm: (r: string) => string, stride = 1): OracleCase[] {
  const ops = specials(N);
  const r = N === 32 ? 's' : 'd';
  const cases: OracleCase[] = [];
  for (const fpcr of fpcrs) {
    for (let i = 0; i < ops.length; i++) {
      for (let j = (i % stride); j < ops.length; j += stride) {
        cases.push({ asm: asm(r), init: { fpcr, fpsr: 0, v: [0n, ops[i], ops[j], ops[(i + j) % ops.length]] } });
      }
    }
  }
  return cases;
}

for (const N of [32, 64] as const) {
  test(`FADD/FSUB/FMUL/FDIV/FNMUL/FMAX/FMIN/FMAXNM/FMINNM (${N}-bit) match QEMU, fast and slow paths`, () => {
    const cases = pairs(N, [0], r => `fadd ${r}0, ${r}1, ${r}2\nfsub ${r}4, ${r}1, ${r}2\nfmul ${r}5, ${r}1, ${r}2\nfdiv ${r}6, ${r}1, ${r}2\nfnmul ${r}7, ${r}1, ${r}2`)
      .concat(pairs(N, FPCRS.slice(1), r => `fadd ${r}0, ${r}1, ${r}2\nfmul ${r}5, ${r}1, ${r}2\nfdiv ${r}6, ${r}1, ${r}2`, 4))
      .concat(pairs(N, [0, FPCRS[4]], r => `fmax ${r}0, ${r}1, ${r}2\nfmin ${r}4, ${r}1, ${r}2\nfmaxnm ${r}5, ${r}1, ${r}2\nfminnm ${r}6, ${r}1, ${r}2`, 2));
    assert.equal(formatDivergences(compareBatch(cases)), '');
  });

  test(`FMADD/FMSUB/FNMADD/FNMSUB and FSQRT (${N}-bit) match QEMU`, () => {
    const cases = pairs(N, [0, 2 << 22, FPCRS[6]], r => `fmadd ${r}0, ${r}1, ${r}2, ${r}3\nfmsub ${r}4, ${r}1, ${r}2, ${r}3\nfnmadd ${r}5, ${r}1, ${r}2, ${r}3\nfnmsub ${r}6, ${r}1, ${r}2, ${r}3\nfsqrt ${r}7, ${r}1`, 2);
    assert.equal(formatDivergences(compareBatch(cases)), '');
  });

  test(`FCMP/FCMPE/FCCMP/FCSEL/FRINT*/FCVT (${N}-bit) match QEMU`, () => {
    const o = N === 32 ? 'd' : 's';
    const cases = pairs(N, [0], r => `fcmp ${r}1, ${r}2\nmrs x0, nzcv\nfcmpe ${r}1, #0.0\nmrs x1, nzcv\nfccmpe ${r}1, ${r}2, #5, ne\nfcsel ${r}4, ${r}1, ${r}2, gt`, 2)
      .concat(pairs(N, [0, 1 << 22, 3 << 22, FPCRS[4], 1 << 26, FPCRS[5]], r => `frintn ${r}0, ${r}1\nfrintp ${r}4, ${r}1\nfrintm ${r}5, ${r}1\nfrintz ${r}6, ${r}1\nfrinta ${r}7, ${r}1\nfrintx ${r}8, ${r}1\nfrinti ${r}9, ${r}1\nfcvt ${o}10, ${r}1\nfcvt h11, ${r}1\nfcvt ${r}12, h11`, 99));
    assert.equal(formatDivergences(compareBatch(cases)), '');
  });

  test(`conversions to and from integers and fixed point (${N}-bit) match QEMU, including saturation`, () => {
    const r = N === 32 ? 's' : 'd';
    const extra = [F64(2 ** 31), F64(-(2 ** 31) - 1), F64(2 ** 63), F64(2 ** 64), F64(-0.5), F64(4294967295.5), F64(-2.5), F64(2.5)];
    const ops = N === 64 ? [...specials(64), ...extra] : specials(32);
    const cases: OracleCase[] = [];
    for (const fpcr of [0, 2 << 22, FPCRS[4]]) {
      for (const v of ops) {
        cases.push({
          asm: `fcvtns w0, ${r}1\nfcvtnu x1, ${r}1\nfcvtps x2, ${r}1\nfcvtpu w3, ${r}1\nfcvtms x4, ${r}1\nfcvtmu w5, ${r}1\nfcvtzs w6, ${r}1\nfcvtzu x7, ${r}1\nfcvtas x8, ${r}1\nfcvtau w9, ${r}1\nfcvtzs x10, ${r}1, #10\nfcvtzu w11, ${r}1, #32\nfcvtzs w12, ${r}1, #1`,
          init: { fpcr, v: [0n, v] },
        });
      }
      for (const x of [0n, 1n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x8000000000000001n, 0xffffffffffffffffn, 0x123456789abcdef1n, 0x1fffffffffffffn, 0x20000000000001n]) {
        cases.push({ asm: `scvtf ${r}0, x1\nucvtf ${r}2, x1\nscvtf ${r}3, w1\nucvtf ${r}4, w1\nscvtf ${r}5, x1, #64\nucvtf ${r}6, w1, #7`, init: { fpcr, x: [0n, x] } });
      }
    }
    assert.equal(formatDivergences(compareBatch(cases)), '');
  });
}

test('FMOV register, general, vector element and immediate forms match QEMU', () => {
  const v1 = 0x0123456789abcdef_fedcba9876543210n;
  const cases: OracleCase[] = [{
    asm: 'fmov s0, s1\nfmov d2, d1\nfmov w3, s1\nfmov x4, d1\nfmov x5, v1.d[1]\nfmov v6.d[1], x9\nfmov s7, w9\nfmov d8, x9\nfmov d9, #-1.25\nfmov s10, #31.0\nfmov d11, #0.125\nfabs d12, d1\nfneg s13, s1',
    init: { v: [0n, v1, 0n, 0n, 0n, 0n, v1], x: [, , , , , , , , , 0xdeadbeefcafef00dn] },
  }];
  assert.equal(formatDivergences(compareBatch(cases)), '');
});

test('FPCR/FPSR: MSR keeps only implemented bits, flags accumulate', () => {
  const cases: OracleCase[] = [
    { asm: 'mov x0, #-1\nmsr fpcr, x0\nmsr fpsr, x0\nmrs x1, fpcr\nmrs x2, fpsr' },
    { asm: 'fdiv d0, d1, d2\nfadd d3, d1, d1\nmrs x3, fpsr', init: { fpsr: 0x8, v: [0n, F64(1), 0n] } },
  ];
  assert.equal(formatDivergences(compareBatch(cases)), '');
});

test('FP/SIMD access with CPACR_EL1.FPEN = 0 traps to EL1 with EC 0x07 (CV=1, COND=0xE)', () => {
  const { vcpu } = runAsm(`
    adr x0, vectors
    msr vbar_el1, x0
    msr cpacr_el1, xzr
    isb
    fadd d0, d1, d2
    brk #1
    .balign 0x800
  vectors:
    .rept 16
    mrs x1, esr_el1
    mrs x2, elr_el1
    brk #2
    .balign 0x80
    .endr
  `);
  assert.equal(Number(vcpu.getReg(1) >> 26n), 0x07);
  assert.equal(Number(vcpu.getReg(1) & 0x1ffffffn), 0x1e00000);
  assert.equal(vcpu.getReg(2), 0x4008_0010n); // the FADD
  const ok = runArmvirt('fmov d0, #1.0\nfadd d0, d0, d0', {}, { el: 1 });
  assert.equal(ok.fault, undefined);
  assert.equal(ok.v[0], F64(2));
});

/** Deterministic pseudo-random operands: random mantissas, moderate exponents, some small integers (exact results). */
function randomOperands(N: 32 | 64, count: number, seed: number): bigint[] {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  const out: bigint[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 4 === 0) {
      const v = ((next() % 64) - 32) / (1 << (next() % 4));
      out.push(N === 64 ? F64(v) : BigInt(new Uint32Array(new Float32Array([v]).buffer)[0]));
      continue;
    }
    const sign = BigInt(next() & 1);
    if (N === 64) {
      const exp = BigInt(1023 + (next() % 80) - 40);
      const mant = (BigInt(next()) << 20n) ^ BigInt(next());
      out.push((sign << 63n) | (exp << 52n) | (mant & ((1n << 52n) - 1n)));
    } else {
      const exp = BigInt(127 + (next() % 40) - 20);
      out.push((sign << 31n) | (exp << 23n) | BigInt(next() & 0x7fffff));
    }
  }
  return out;
}

for (const N of [32, 64] as const) {
  test(`random ordinary operands (${N}-bit): fast-path results and IXC match QEMU`, () => {
    const r = N === 32 ? 's' : 'd';
    const ops = randomOperands(N, 600, N);
    const cases: OracleCase[] = [];
    for (let i = 0; i + 2 < ops.length; i += 3) {
      // one instruction per case so each IXC is checked on its own
      for (const asm of [`fadd ${r}0, ${r}1, ${r}2`, `fmul ${r}0, ${r}1, ${r}2`, `fdiv ${r}0, ${r}1, ${r}2`, `fmadd ${r}0, ${r}1, ${r}2, ${r}3`, `fnmsub ${r}0, ${r}1, ${r}2, ${r}3`, `fsqrt ${r}0, ${r}2`]) {
        cases.push({ asm, init: { v: [0n, ops[i], ops[i + 1], ops[i + 2]] } });
      }
    }
    assert.equal(formatDivergences(compareBatch(cases)).slice(0, 3000), '');
  });
}
