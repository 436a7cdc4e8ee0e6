// FP cases the fuzzer once found diverging, kept as differential regressions.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareBatch, formatDivergences } from './support/oracle';

test('fused multiply-add whose tiny addend breaks a rounding tie (round-to-odd sign test must not underflow)', () => {
  // fuzz seed 2657: d12 = 10.0, d26 ~ 2^-918, d30 = the smallest denormal; the exact sum sits just
  // past a midpoint, so only the denormal addend decides the last bit
  const v: bigint[] = [];
  v[12] = 0x4024000000000000n;
  v[26] = 0x0698b5c343f0777an;
  v[30] = 0x0000000000000001n;
  const cases = ['fnmadd d23, d12, d26, d30', 'fmadd d23, d12, d26, d30', 'fmsub d23, d12, d26, d30', 'fnmsub d23, d12, d26, d30']
    .flatMap(asm => [0x0000000000000001n, 0x8000000000000001n, 0x000fffffffffffffn].map(addend => {
      const regs = [...v];
      regs[30] = addend;
      return { asm, init: { v: regs } };
    }));
  const results = compareBatch(cases);
  assert.equal(formatDivergences(results), '');
});
