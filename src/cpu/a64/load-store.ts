// Loads and stores: Arm ARM C4.1.88.

import type { Encoding } from '../decode';
import { Op } from '../wasm/emitter';
import { MemInfo } from '../helpers';

export const LOAD_STORE: Encoding[] = [
  {
    // LDR/STR (immediate, unsigned offset), general registers; opc 00 store, 01 load zero-extended
    name: 'LDR_STR_uimm', pattern: 'size:2 111 0 01 opc:2 imm12:12 rn:5 rt:5',
    when: f => f.opc < 2,
    translate: (t, f) => {
      const addr = t.tempI64(() => { t.getXsp(f.rn); t.fb.i64(BigInt(f.imm12 << f.size)).op(Op.i64_add); });
      const info = f.size | (f.rt << MemInfo.RT_SHIFT) | MemInfo.ISV | (f.size === 3 ? MemInfo.SF : 0);
      if (f.opc === 0) {
        const v = t.tempI64(() => t.getX(f.rt));
        t.store(addr, v, info);
        t.release(v);
      } else {
        t.setX(f.rt, () => t.load(addr, info));
      }
      t.release(addr);
    },
  },
];
