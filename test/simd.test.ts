import { test } from 'node:test';
import { expectSameAsQemu, randomCases } from './simd-util';

const ARR = ['8b', '16b', '4h', '8h', '2s', '4s', '2d'];
const ESZ: Record<string, number> = { '8b': 0, '16b': 0, '4h': 1, '8h': 1, '2s': 2, '4s': 2, '2d': 3 };

function forms(mnemonic: string, arrangements: string[]): string[] {
  return arrangements.map(a => `${mnemonic} v0.${a}, v1.${a}, v2.${a}`);
}

test('three-same integer ops match QEMU', () => {
  const list = [
    ...forms('add', ARR), ...forms('sub', ARR), ...forms('cmeq', ARR), ...forms('cmgt', ARR), ...forms('cmge', ARR),
    ...forms('cmhi', ARR), ...forms('cmhs', ARR), ...forms('cmtst', ARR),
    ...forms('sqadd', ARR), ...forms('uqadd', ARR), ...forms('sqsub', ARR), ...forms('uqsub', ARR),
  ];
  const cases = list.flatMap((asm, i) => randomCases(asm, 4, 100 + i, ESZ[asm.split('.')[1].split(',')[0]]));
  expectSameAsQemu(cases);
});
