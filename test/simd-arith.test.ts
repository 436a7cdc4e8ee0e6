// Advanced SIMD two-register misc, across-lanes, shift-by-immediate, long/
// wide/narrow and by-element integer instructions, differential against QEMU.

import { test } from 'node:test';
import { expectSameAsQemu, randomCases } from './simd-util';

const ARR = ['8b', '16b', '4h', '8h', '2s', '4s', '2d'];
const BHS = ['8b', '16b', '4h', '8h', '2s', '4s'];
const ESZ: Record<string, number> = { '8b': 0, '16b': 0, '4h': 1, '8h': 1, '2s': 2, '4s': 2, '2d': 3 };

function run(list: string[], count = 3, seed = 1): void {
  const cases = list.flatMap((asm, i) => {
    const arr = /\.(\d+[bhsd])/.exec(asm)?.[1];
    return randomCases(asm, count, seed * 1000 + i, arr ? ESZ[arr] : undefined);
  });
  expectSameAsQemu(cases);
}

const un = (m: string, arrs: string[], suffix = '') => arrs.map(a => `${m} v0.${a}, v1.${a}${suffix}`);

test('two-register misc (integer) matches QEMU', () => {
  run([
    ...un('rev64', BHS), ...un('rev16', ['8b', '16b']), ...un('rev32', ['8b', '16b', '4h', '8h']),
    ...un('cls', BHS), ...un('clz', BHS), ...un('cnt', ['8b', '16b']), ...un('not', ['8b', '16b']), ...un('rbit', ['8b', '16b']),
    ...un('abs', ARR), ...un('neg', ARR), ...un('sqabs', ARR), ...un('sqneg', ARR), ...un('suqadd', ARR), ...un('usqadd', ARR),
    ...un('cmgt', ARR, ', #0'), ...un('cmge', ARR, ', #0'), ...un('cmeq', ARR, ', #0'), ...un('cmle', ARR, ', #0'), ...un('cmlt', ARR, ', #0'),
    'saddlp v0.8h, v1.16b', 'uaddlp v0.2s, v1.4h', 'saddlp v0.2d, v1.4s', 'uadalp v0.4s, v1.8h', 'sadalp v0.1d, v1.2s',
    'xtn v0.8b, v1.8h', 'xtn2 v0.16b, v1.8h', 'xtn v0.2s, v1.2d', 'sqxtn v0.4h, v1.4s', 'sqxtn2 v0.4s, v1.2d', 'uqxtn v0.8b, v1.8h',
    'uqxtn2 v0.8h, v1.4s', 'sqxtun v0.2s, v1.2d', 'sqxtun2 v0.16b, v1.8h',
    'shll v0.8h, v1.8b, #8', 'shll2 v0.4s, v1.8h, #16', 'shll v0.2d, v1.2s, #32',
    'sqabs d0, d1', 'sqneg b0, b1', 'suqadd h0, h1', 'usqadd d0, d1', 'abs d0, d1', 'neg d0, d1', 'cmeq d0, d1, #0', 'cmlt d0, d1, #0',
    'sqxtn b0, h1', 'uqxtn s0, d1', 'sqxtun h0, s1',
  ], 3, 21);
});

test('across lanes matches QEMU', () => {
  run([
    'addv b0, v1.16b', 'addv b0, v1.8b', 'addv h0, v1.8h', 'addv s0, v1.4s', 'umaxv b0, v1.16b', 'uminv b0, v1.16b', 'uminv h0, v1.4h',
    'smaxv h0, v1.8h', 'sminv s0, v1.4s', 'umaxv s0, v1.4s', 'saddlv h0, v1.16b', 'uaddlv s0, v1.8h', 'saddlv d0, v1.4s', 'uaddlv h0, v1.8b',
  ], 4, 22);
});

test('shift by immediate matches QEMU', () => {
  const right = (m: string) => ['8b #3', '16b #8', '4h #1', '8h #16', '2s #31', '4s #5', '2d #64', '2d #13']
    .map(s => { const [a, n] = s.split(' '); return `${m} v0.${a}, v1.${a}, ${n}`; });
  const left = (m: string) => ['8b #0', '16b #7', '4h #15', '8h #3', '2s #31', '4s #1', '2d #63', '2d #0']
    .map(s => { const [a, n] = s.split(' '); return `${m} v0.${a}, v1.${a}, ${n}`; });
  run([
    ...['sshr', 'ushr', 'srshr', 'urshr', 'ssra', 'usra', 'srsra', 'ursra', 'sri'].flatMap(right),
    ...['shl', 'sli', 'sqshl', 'uqshl', 'sqshlu'].flatMap(left),
    'shrn v0.8b, v1.8h, #3', 'shrn2 v0.16b, v1.8h, #8', 'rshrn v0.4h, v1.4s, #16', 'rshrn2 v0.4s, v1.2d, #1',
    'sqshrn v0.8b, v1.8h, #2', 'sqrshrn2 v0.8h, v1.4s, #5', 'uqshrn v0.2s, v1.2d, #31', 'uqrshrn v0.8b, v1.8h, #1',
    'sqshrun v0.4h, v1.4s, #4', 'sqrshrun2 v0.4s, v1.2d, #32',
    'sshll v0.8h, v1.8b, #0', 'sshll2 v0.4s, v1.8h, #5', 'ushll v0.2d, v1.2s, #31', 'ushll2 v0.8h, v1.16b, #7', 'sxtl v0.4s, v1.4h', 'uxtl2 v0.2d, v1.4s',
    'sshr d0, d1, #64', 'ushr d0, d1, #1', 'srshr d0, d1, #63', 'ursra d0, d1, #64', 'shl d0, d1, #17', 'sli d0, d1, #63', 'sri d0, d1, #64',
    'sqshl b0, b1, #3', 'uqshl h0, h1, #15', 'sqshlu s0, s1, #7', 'sqshl d0, d1, #40', 'sqshrn b0, h1, #4', 'uqrshrn s0, d1, #12', 'sqrshrun h0, s1, #9',
  ], 3, 23);
});

test('long, wide and narrowing-high three-different forms match QEMU', () => {
  const l = (m: string) => [`${m} v0.8h, v1.8b, v2.8b`, `${m}2 v0.4s, v1.8h, v2.8h`, `${m} v0.2d, v1.2s, v2.2s`];
  const w = (m: string) => [`${m} v0.8h, v1.8h, v2.8b`, `${m}2 v0.4s, v1.4s, v2.8h`, `${m} v0.2d, v1.2d, v2.2s`];
  const hn = (m: string) => [`${m} v0.8b, v1.8h, v2.8h`, `${m}2 v0.8h, v1.4s, v2.4s`, `${m} v0.2s, v1.2d, v2.2d`];
  run([
    ...['saddl', 'uaddl', 'ssubl', 'usubl', 'sabal', 'uabal', 'sabdl', 'uabdl', 'smlal', 'umlal', 'smlsl', 'umlsl', 'smull', 'umull'].flatMap(l),
    ...['saddw', 'uaddw', 'ssubw', 'usubw'].flatMap(w), ...['addhn', 'raddhn', 'subhn', 'rsubhn'].flatMap(hn),
    'sqdmull v0.4s, v1.4h, v2.4h', 'sqdmull2 v0.2d, v1.4s, v2.4s', 'sqdmlal v0.4s, v1.4h, v2.4h', 'sqdmlsl2 v0.2d, v1.4s, v2.4s',
    'sqdmull s0, h1, h2', 'sqdmlal d0, s1, s2', 'sqdmlsl s0, h1, h2',
    'pmull v0.8h, v1.8b, v2.8b', 'pmull2 v0.8h, v1.16b, v2.16b',
  ], 3, 24);
  // saturating doubling products at their edge: MIN * MIN
  expectSameAsQemu([
    { asm: 'sqdmull v0.2d, v1.2s, v2.2s', init: { v: [0n, 0x80000000_80000000n, 0x80000000_7fffffffn] } },
    { asm: 'sqdmlal v0.2d, v1.2s, v2.2s', init: { v: [0x7fffffffffffffff_0000000000000001n, 0x80000000_00000001n, 0x80000000_7fffffffn] } },
    // 16-bit sources: 2 * (-32768)^2 = 2^31 saturates the 32-bit lane too (fuzzer divergence)
    { asm: 'sqdmull v0.4s, v1.4h, v2.4h', init: { v: [0n, 0x8000_8000_0001_8000n, 0x8000_7fff_8000_8000n] } },
    { asm: 'sqdmull2 v0.4s, v1.8h, v2.8h', init: { v: [0n, 0x8000_8000_0000_0000_0000_0000n | (0x8000n << 112n), 0x8000_8000_0000_0000_0000_0000n | (0x8000n << 112n)] } },
    { asm: 'sqdmlal v0.4s, v1.4h, v2.4h', init: { v: [0x00000001_00000000_ffffffff_80000000n, 0x8000_8000_8000_8000n, 0x8000_8000_8000_8000n] } },
    { asm: 'sqdmull s0, h1, h2', init: { v: [0n, 0x8000n, 0x8000n] } },
  ]);
});

test('by-element integer forms match QEMU', () => {
  run([
    'mul v0.8h, v1.8h, v2.h[7]', 'mul v0.2s, v1.2s, v17.s[3]', 'mla v0.4h, v1.4h, v15.h[2]', 'mls v0.4s, v1.4s, v2.s[1]',
    'sqdmulh v0.8h, v1.8h, v2.h[5]', 'sqrdmulh v0.4s, v1.4s, v20.s[2]', 'sqdmulh h0, h1, v2.h[3]', 'sqrdmulh s0, s1, v2.s[3]',
    'smull v0.4s, v1.4h, v2.h[1]', 'umull2 v0.2d, v1.4s, v2.s[3]', 'smlal v0.2d, v1.2s, v2.s[0]', 'umlsl2 v0.4s, v1.8h, v9.h[6]',
    'sqdmull v0.4s, v1.4h, v2.h[4]', 'sqdmlal2 v0.2d, v1.4s, v2.s[1]', 'sqdmlsl s0, h1, v2.h[7]', 'sqdmull d0, s1, v2.s[2]',
  ], 3, 25);
});
