// Data processing (immediate): Arm ARM C4.1.86. PC-relative addressing,
// add/subtract, logical, move wide, bitfield and extract.

import type { Encoding } from '../decode';
import { Op } from '../wasm/emitter';

export const DP_IMMEDIATE: Encoding[] = [
  {
    name: 'MOVZ', pattern: 'sf:1 10 100101 hw:2 imm16:16 rd:5',
    when: f => f.sf === 1 || f.hw < 2,
    translate: (t, f) => t.setX(f.rd, () => t.fb.i64(BigInt(f.imm16) << BigInt(16 * f.hw))),
  },
  {
    name: 'MOVK', pattern: 'sf:1 11 100101 hw:2 imm16:16 rd:5',
    when: f => f.sf === 1 || f.hw < 2,
    translate: (t, f) => t.setReg(f.sf, f.rd, () => {
      const shift = BigInt(16 * f.hw);
      t.getX(f.rd);
      t.fb.i64(~(0xffffn << shift)).op(Op.i64_and).i64(BigInt(f.imm16) << shift).op(Op.i64_or);
    }),
  },
  {
    name: 'ADD_imm', pattern: 'sf:1 0 0 100010 sh:1 imm12:12 rn:5 rd:5',
    translate: (t, f) => t.setReg(f.sf, f.rd, () => {
      t.getXsp(f.rn);
      t.fb.i64(BigInt(f.imm12) << (f.sh ? 12n : 0n)).op(Op.i64_add);
    }, true),
  },
];
