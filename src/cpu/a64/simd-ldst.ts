// Advanced SIMD structure loads and stores (Arm ARM C4.1.88: "Advanced SIMD
// load/store multiple structures" and "... single structure", with and
// without post-index). Loads read every element into locals before any
// register is written, so a fault leaves the registers unchanged; the base
// register is written back only after all accesses succeeded.

import type { Encoding, Fields } from '../jit/decode';
import type { Translator } from '../jit/translator';
import { Op, OpSIMD } from '../jit/wasm-emitter';
import { MemInfo } from '../jit/helpers';
import { lane, pushV, pushZero, readV, replaceLane, writeV, V128 } from './simd-common';

/** Multiple-structure opcodes: registers in the list and elements per structure. */
const MULTI: Record<number, { rpt: number; selem: number }> = {
  0b0000: { rpt: 1, selem: 4 }, // LD4/ST4
  0b0010: { rpt: 4, selem: 1 }, // LD1/ST1, 4 registers
  0b0100: { rpt: 1, selem: 3 }, // LD3/ST3
  0b0110: { rpt: 3, selem: 1 }, // LD1/ST1, 3 registers
  0b0111: { rpt: 1, selem: 1 }, // LD1/ST1, 1 register
  0b1000: { rpt: 1, selem: 2 }, // LD2/ST2
  0b1010: { rpt: 2, selem: 1 }, // LD1/ST1, 2 registers
};

const SPLAT = [OpSIMD.i8x16_splat, OpSIMD.i16x8_splat, OpSIMD.i32x4_splat, OpSIMD.i64x2_splat];

function memInfo(sizeLog2: number, rt: number): number {
  return sizeLog2 | MemInfo.FPREG | (rt << MemInfo.RT_SHIFT);
}

/** addr local = Xn|SP + offset. */
function addressAt(t: Translator, base: number, offset: number): number {
  return t.tempI64(() => {
    t.fb.get(base);
    if (offset) t.fb.i64(BigInt(offset)).op(Op.i64_add);
  });
}

/** Post-index writeback: Xn += (Rm == 31 ? immediate total : Xm). */
function writeback(t: Translator, f: Fields, base: number, total: number): void {
  if (f.post === 0) return;
  t.setXsp(f.rn, () => {
    t.fb.get(base);
    if (f.rm === 31) t.fb.i64(BigInt(total)); else t.getX(f.rm);
    t.fb.op(Op.i64_add);
  });
}

/** Loads `bytes` (8 or 16) at base+offset into a fresh v128 local (8-byte loads fill the low half). */
function loadChunk(t: Translator, base: number, offset: number, bytes: number, rt: number): number {
  const fb = t.fb;
  const addr = addressAt(t, base, offset);
  const v = fb.local(V128);
  if (bytes === 16) {
    t.load(addr, memInfo(4, rt));
  } else {
    const x = t.tempI64(() => t.load(addr, memInfo(3, rt)));
    pushZero(t); fb.get(x).simdLane(OpSIMD.i64x2_replace_lane, 0);
    t.release(x);
  }
  fb.set(v);
  t.release(addr);
  return v;
}

function storeChunk(t: Translator, base: number, offset: number, bytes: number, v: number, rt: number): void {
  const addr = addressAt(t, base, offset);
  if (bytes === 16) {
    t.store(addr, v, memInfo(4, rt));
  } else {
    const x = t.tempI64(() => t.fb.get(v).simdLane(OpSIMD.i64x2_extract_lane, 0));
    t.store(addr, x, memInfo(3, rt));
    t.release(x);
  }
  t.release(addr);
}

/**
 * A fresh v128 local whose lane w (of `lanes` lanes of size 2^esz bytes) is
 * lane `source(w)[1]` of the v128 local `source(w)[0]`; other lanes zero.
 */
function gatherLanes(t: Translator, esz: number, lanes: number, source: (w: number) => [number, number]): number {
  const fb = t.fb;
  const res = fb.local(V128);
  pushZero(t); fb.set(res);
  for (let w = 0; w < lanes; w++) {
    const [from, at] = source(w);
    fb.get(res);
    lane(t, from, esz, at);
    replaceLane(t, esz, w);
    fb.set(res);
  }
  return res;
}

function multiple(t: Translator, f: Fields): void {
  const fb = t.fb;
  const { rpt, selem } = MULTI[f.opcode];
  const regBytes = f.q ? 16 : 8;
  const esz = f.size;
  const lanes = regBytes >> esz;
  const chunks = rpt * selem;
  const total = chunks * regBytes;
  const base = t.tempI64(() => t.getXsp(f.rn));
  const reg = (k: number) => (f.rt + k) % 32;

  if (f.l) {
    const mem: number[] = [];
    for (let k = 0; k < chunks; k++) mem.push(loadChunk(t, base, k * regBytes, regBytes, f.rt));
    if (selem === 1) {
      for (let k = 0; k < chunks; k++) writeV(t, reg(k), () => fb.get(mem[k]));
    } else {
      // de-interleave: element e of register s is memory element e*selem + s
      for (let s = 0; s < selem; s++) {
        const res = gatherLanes(t, esz, lanes, e => {
          const m = e * selem + s;
          return [mem[Math.floor(m / lanes)], m % lanes];
        });
        writeV(t, reg(s), () => fb.get(res));
        fb.release(res);
      }
    }
    for (const m of mem) fb.release(m);
  } else {
    const regs: number[] = [];
    for (let k = 0; k < chunks; k++) regs.push(readV(t, reg(k)));
    let out = regs;
    if (selem > 1) {
      out = [];
      // interleave: memory element m is element m/selem of register m%selem
      for (let c = 0; c < chunks; c++) {
        out.push(gatherLanes(t, esz, lanes, w => {
          const m = c * lanes + w;
          return [regs[m % selem], Math.floor(m / selem)];
        }));
      }
    }
    for (let k = 0; k < chunks; k++) storeChunk(t, base, k * regBytes, regBytes, out[k], f.rt);
    for (const l of new Set([...regs, ...out])) fb.release(l);
  }
  writeback(t, f, base, total);
  t.release(base);
}

/** Decodes the single-structure element size and lane index (undefined: unallocated). */
function singleLayout(f: Fields): { esz: number; index: number; replicate: boolean } | undefined {
  const scale = f.opcode >> 1;
  switch (scale) {
    case 3:
      if (!f.l || f.s) return undefined;
      return { esz: f.size, index: 0, replicate: true };
    case 0:
      return { esz: 0, index: (f.q << 3) | (f.s << 2) | f.size, replicate: false };
    case 1:
      if (f.size & 1) return undefined;
      return { esz: 1, index: (f.q << 2) | (f.s << 1) | (f.size >> 1), replicate: false };
    default:
      if (f.size & 2) return undefined;
      if ((f.size & 1) === 0) return { esz: 2, index: (f.q << 1) | f.s, replicate: false };
      if (f.s) return undefined;
      return { esz: 3, index: f.q, replicate: false };
  }
}

function single(t: Translator, f: Fields): void {
  const fb = t.fb;
  const layout = singleLayout(f)!;
  const selem = ((f.opcode & 1) << 1 | f.r) + 1;
  const esize = 1 << layout.esz;
  const base = t.tempI64(() => t.getXsp(f.rn));
  const reg = (k: number) => (f.rt + k) % 32;
  if (f.l) {
    const vals: number[] = [];
    for (let k = 0; k < selem; k++) {
      const addr = addressAt(t, base, k * esize);
      vals.push(t.tempI64(() => t.load(addr, memInfo(layout.esz, f.rt))));
      t.release(addr);
    }
    for (let k = 0; k < selem; k++) {
      if (layout.replicate) {
        writeV(t, reg(k), () => {
          fb.get(vals[k]);
          if (layout.esz < 3) fb.op(Op.i32_wrap_i64);
          fb.simd(SPLAT[layout.esz]);
        }, f.q === 1);
      } else {
        writeV(t, reg(k), () => { pushV(t, reg(k)); fb.get(vals[k]); replaceLane(t, layout.esz, layout.index); });
      }
    }
    t.release(...vals);
  } else {
    const vals: number[] = [];
    for (let k = 0; k < selem; k++) {
      const v = readV(t, reg(k));
      vals.push(t.tempI64(() => lane(t, v, layout.esz, layout.index)));
      fb.release(v);
    }
    for (let k = 0; k < selem; k++) {
      const addr = addressAt(t, base, k * esize);
      t.store(addr, vals[k], memInfo(layout.esz, f.rt));
      t.release(addr);
    }
    t.release(...vals);
  }
  writeback(t, f, base, selem * esize);
  t.release(base);
}

export const SIMD_LDST: Encoding[] = [
  {
    name: 'SIMD_ldst_multiple', pattern: '0 q:1 0011000 l:1 000000 opcode:4 size:2 rn:5 rt:5',
    when: f => MULTI[f.opcode] !== undefined && !(f.size === 3 && f.q === 0 && MULTI[f.opcode].selem > 1),
    translate: (t, f) => multiple(t, { ...f, post: 0, rm: 0 }),
  },
  {
    name: 'SIMD_ldst_multiple_post', pattern: '0 q:1 0011001 l:1 0 rm:5 opcode:4 size:2 rn:5 rt:5',
    when: f => MULTI[f.opcode] !== undefined && !(f.size === 3 && f.q === 0 && MULTI[f.opcode].selem > 1),
    translate: (t, f) => multiple(t, { ...f, post: 1 }),
  },
  {
    name: 'SIMD_ldst_single', pattern: '0 q:1 0011010 l:1 r:1 00000 opcode:3 s:1 size:2 rn:5 rt:5',
    when: f => singleLayout(f) !== undefined,
    translate: (t, f) => single(t, { ...f, post: 0, rm: 0 }),
  },
  {
    name: 'SIMD_ldst_single_post', pattern: '0 q:1 0011011 l:1 r:1 rm:5 opcode:3 s:1 size:2 rn:5 rt:5',
    when: f => singleLayout(f) !== undefined,
    translate: (t, f) => single(t, { ...f, post: 1 }),
  },
];

