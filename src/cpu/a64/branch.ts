// Branches, exception generation excluded (see system.ts): C4.1.65 "Branches,
// Exception Generating and System instructions" of the Arm ARM.

import type { Encoding } from '../jit/decode';
import { Op } from '../jit/wasm-emitter';

export const BRANCH: Encoding[] = [
  {
    name: 'B', pattern: '000101 imm26:s26',
    translate: (t, f) => t.jumpRelative(f.imm26 * 4),
  },
  {
    name: 'BL', pattern: '100101 imm26:s26',
    translate: (t, f) => {
      t.setX(30, () => t.fb.i64(t.relative(4)));
      t.likelyEntry(t.relative(4)); // where the call returns
      return t.jumpRelative(f.imm26 * 4);
    },
  },
  {
    name: 'B_cond', pattern: '0101010 0 imm19:s19 0 cond:4',
    translate: (t, f) => {
      if (f.cond >= 14) return t.jumpRelative(f.imm19 * 4);
      return t.branchIfRelative(() => t.condition(f.cond), f.imm19 * 4);
    },
  },
  {
    name: 'CBZ', pattern: 'sf:1 011010 op:1 imm19:s19 rt:5',
    translate: (t, f) => t.branchIfRelative(() => {
      t.getReg(f.sf, f.rt);
      t.fb.op(Op.i64_eqz);
      if (f.op) t.fb.op(Op.i32_eqz);
    }, f.imm19 * 4),
  },
  {
    name: 'TBZ', pattern: 'b5:1 011011 op:1 b40:5 imm14:s14 rt:5',
    translate: (t, f) => t.branchIfRelative(() => {
      const bit = (f.b5 << 5) | f.b40;
      t.getX(f.rt);
      t.fb.i64(BigInt(bit)).op(Op.i64_shr_u).op(Op.i32_wrap_i64).i32(1).op(Op.i32_and);
      if (!f.op) t.fb.op(Op.i32_eqz);
    }, f.imm14 * 4),
  },
  {
    // BR, BLR, RET (op 0, 1, 2); BLR writes X30 after reading Xn (BLR X30 branches to the old value)
    name: 'BR_BLR_RET', pattern: '1101011 0 0 op:2 11111 000000 rn:5 00000',
    when: f => f.op !== 3,
    translate: (t, f) => {
      const target = t.tempI64(() => t.getX(f.rn));
      if (f.op === 1) {
        t.setX(30, () => t.fb.i64(t.relative(4)));
        t.likelyEntry(t.relative(4));
      }
      return t.jumpDynamic(() => t.fb.get(target));
    },
  },
];
