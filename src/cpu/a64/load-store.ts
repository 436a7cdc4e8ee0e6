// Loads and stores: Arm ARM C4.1.88 ("Loads and Stores", op0 = x1x0), the
// ARMv8.0 subset: exclusives and load-acquire/store-release, literal loads,
// register pairs (offset, pre-/post-index, no-allocate), single registers
// with unsigned offset, unscaled, pre-/post-index, unprivileged and register
// offset addressing, for general and FP/SIMD (B/H/S/D/Q) registers, and PRFM.
// Later extensions (LSE atomics and CAS, LDAPR, LOR, MTE, PAC loads, LSE2
// relaxed alignment) have no rows, so their encodings are UNDEFINED.
//
// Every access goes through Translator.load/store (inline soft-TLB, helper
// slow path). Conventions that mirror QEMU where the Arm ARM says CONSTRAINED
// UNPREDICTABLE (checked against qemu-aarch64 7.2):
//   - loads with writeback and rn == rt: the writeback wins (registers are
//     written first, the base last); stores with writeback and rn == rt store
//     the register's original value;
//   - LDP rt == rt2: rt gets its value (rt is written last);
//     LDXP rt == rt2: rt2 gets its value (rt2 is written last);
//   - STXR rs == rt / rs == rn: address and data are read before the status is written;
//   - SBO fields (Rs, Rt2 of LDXR/LDAR/STLR...) are ignored.

import type { Encoding } from '../jit/decode';
import type { Translator } from '../jit/translator';
import { Op, OpSIMD, ValType } from '../jit/wasm-emitter';
import { MemInfo } from '../jit/helpers';
import { S } from '../state';
import { checkFpAccess } from './fp-access';
import { AccessIndex as Index, MMU_INDEX_SHIFT } from '../jit/access-functions';

/** What one register transfer moves: access size, direction, extension and register file. */
interface Transfer {
  /** log2 of the access size in bytes: 0..3, 4 for Q registers. */
  sizeLog2: number;
  load: boolean;
  /** Sign-extending load (LDRSB/LDRSH/LDRSW, LDPSW). */
  signed: boolean;
  /** The general register is Xt (64 bits) rather than Wt. */
  sf: boolean;
  /** The transfer register is a V register. */
  fp: boolean;
}

/** General-register transfer for the size:opc fields of the single-register forms; undefined when unallocated. */
function gprTransfer(size: number, opc: number): Transfer | undefined {
  switch (opc) {
    case 0: return { sizeLog2: size, load: false, signed: false, sf: size === 3, fp: false }; // STRB/STRH/STR
    case 1: return { sizeLog2: size, load: true, signed: false, sf: size === 3, fp: false }; // LDRB/LDRH/LDR
    case 2: // LDRSB/LDRSH/LDRSW to Xt (size 3 is the PRFM slot, handled by its own rows)
      return size === 3 ? undefined : { sizeLog2: size, load: true, signed: true, sf: true, fp: false };
    default: // LDRSB/LDRSH to Wt
      return size < 2 ? { sizeLog2: size, load: true, signed: true, sf: false, fp: false } : undefined;
  }
}

/** FP/SIMD transfer: opc<1> selects the 128-bit size (with size 00), opc<0> is L. */
function fpTransfer(size: number, opc: number): Transfer | undefined {
  const sizeLog2 = ((opc & 2) << 1) | size;
  if (sizeLog2 > 4) return undefined;
  return { sizeLog2, load: (opc & 1) === 1, signed: false, sf: false, fp: true };
}

function transferFor(v: number, size: number, opc: number): Transfer | undefined {
  return v ? fpTransfer(size, opc) : gprTransfer(size, opc);
}

/**
 * The `info` word of an access. ISV (the data-abort syndrome describes the
 * instruction) only for a single general register without writeback.
 */
function infoFor(x: Transfer, rt: number, isv: boolean, extra = 0): number {
  return x.sizeLog2 | (rt << MemInfo.RT_SHIFT) | (x.signed ? MemInfo.SIGN : 0) | (x.sf ? MemInfo.SF : 0) |
    (x.fp ? MemInfo.FPREG : 0) | (isv && !x.fp ? MemInfo.ISV : 0) | extra;
}

/** LDTR/STTR are checked as EL0 accesses only when executed at EL1 (at EL0 that is the same; at EL2 without VHE they are ordinary). */
function unprivilegedFlag(t: Translator): number {
  return t.ctx.el === 1 ? MemInfo.UNPRIV : 0;
}

// ---- register file access ------------------------------------------------------------

const vOffset = (n: number) => S.V + 16 * n;

function isVector(x: Transfer): boolean {
  return x.fp && x.sizeLog2 === 4;
}

/** A local holding the value to store from `rt`: v128 for Q, otherwise an i64 (the store truncates it). */
function storeValue(t: Translator, x: Transfer, rt: number): number {
  const f = t.fb;
  const v = f.local(isVector(x) ? ValType.V128 : ValType.I64);
  if (!x.fp) t.getX(rt);
  else if (isVector(x)) f.get(t.cpu).simdMem(OpSIMD.v128_load, vOffset(rt), 4);
  else f.get(t.cpu).mem(Op.i64_load, vOffset(rt), 3);
  f.set(v);
  return v;
}

/**
 * Writes a loaded value (pushed by `value`: v128 for Q, else an i64 already
 * zero- or sign-extended to 64 bits) to rt. Writing a B/H/S/D register clears
 * the rest of the 128-bit V register.
 */
function writeLoaded(t: Translator, x: Transfer, rt: number, value: () => void): void {
  const f = t.fb;
  if (isVector(x)) {
    f.get(t.cpu); value(); f.simdMem(OpSIMD.v128_store, vOffset(rt), 4);
  } else if (x.fp) {
    f.get(t.cpu); value(); f.mem(Op.i64_store, vOffset(rt), 3);
    f.get(t.cpu).i64(0n).mem(Op.i64_store, vOffset(rt) + 8, 3);
  } else if (x.signed && !x.sf) {
    t.setReg(0, rt, value); // LDRSB/LDRSH Wt: sign-extended to 32 bits, upper half zero
  } else {
    t.setX(rt, value);
  }
}

/** One register load or store at the address in local `addr`. */
function transfer(t: Translator, x: Transfer, rt: number, addr: number, info: number): void {
  if (x.load) {
    writeLoaded(t, x, rt, () => t.load(addr, info));
  } else {
    const v = storeValue(t, x, rt);
    t.store(addr, v, info);
    t.release(v);
  }
}

/**
 * Two consecutive registers (LDP/STP/LDNP/STNP/LDPSW): one TLB check when both share a page,
 * otherwise element accesses, so MMIO and faults see each element (Translator.loadPair).
 */
function transferPair(t: Translator, x: Transfer, rt: number, rt2: number, addr: number): void {
  const f = t.fb;
  const info1 = infoFor(x, rt, false), info2 = infoFor(x, rt2, false);
  if (x.load) {
    // both loads complete before any register is written, so a fault on the second leaves state intact
    const type = isVector(x) ? ValType.V128 : ValType.I64;
    const v1 = f.local(type), v2 = f.local(type);
    t.loadPair(addr, info1, info2, v1, v2);
    writeLoaded(t, x, rt2, () => f.get(v2));
    writeLoaded(t, x, rt, () => f.get(v1)); // rt written last: it wins when rt == rt2 (as QEMU)
    t.release(v1, v2);
  } else {
    const v1 = storeValue(t, x, rt), v2 = storeValue(t, x, rt2);
    t.storePair(addr, v1, v2, info1, info2);
    t.release(v1, v2);
  }
}

// ---- addressing ---------------------------------------------------------------------

/**
 * An access of Rt (and Rt2 for pairs) at Rn + offset with `index`
 * addressing: general registers go through the register and pair access
 * functions, which do the address and the writeback themselves; the rest
 * (V registers, XZR, the inline soft-TLB form) through withImmediateAddress.
 */
function immediateAccess(t: Translator, x: Transfer, rn: number, index: Index, offset: number, info: number, rt: number, rt2?: number): void {
  if (rt2 === undefined ? t.transfersRegisters(info, rt) : t.transfersRegisters(info, rt, rt2)) {
    t.accessRegisters(x.load, info, rn, index, offset, x.signed && !x.sf, rt2);
    return;
  }
  withImmediateAddress(t, rn, index, offset, addr => rt2 === undefined ? transfer(t, x, rt, addr, info) : transferPair(t, x, rt, rt2, addr));
}

/**
 * Base register (SP for 31) plus `offset`, the access, then the writeback of
 * pre-/post-indexed forms. The writeback comes after the access: a faulting
 * access leaves the base untouched, and it overrides a loaded rt == rn.
 */
function withImmediateAddress(t: Translator, rn: number, index: Index, offset: number, access: (addr: number) => void): void {
  const f = t.fb;
  const base = t.tempI64(() => t.getXsp(rn));
  const addr = index === Index.Post || offset === 0 ? base : t.tempI64(() => { f.get(base).i64(BigInt(offset)).op(Op.i64_add); });
  access(addr);
  if (index === Index.Pre) t.setXsp(rn, () => f.get(addr));
  else if (index === Index.Post && offset !== 0) t.setXsp(rn, () => { f.get(base).i64(BigInt(offset)).op(Op.i64_add); });
  if (addr !== base) t.release(addr);
  t.release(base);
}

/** Pushes the register offset Rm extended per `option` (UXTW, LSL/UXTX, SXTW, SXTX) and shifted left by `shift`. */
function pushRegisterOffset(t: Translator, rm: number, option: number, shift: number): void {
  const f = t.fb;
  if (option & 1) t.getX(rm); // 011 LSL (UXTX), 111 SXTX: the whole register
  else { t.getW(rm); f.op(option & 4 ? Op.i64_extend_i32_s : Op.i64_extend_i32_u); } // 110 SXTW, 010 UXTW
  if (shift) f.i64(BigInt(shift)).op(Op.i64_shl);
}

/** FP/SIMD forms call the access-check hook first; true means it ended the block. */
function fpCheck(t: Translator, v: number): boolean {
  return v === 1 && checkFpAccess(t);
}

// ---- exclusives and ordered accesses ------------------------------------------------------

/**
 * LDXR/LDAXR/LDXP/LDAXP: one naturally aligned access of the whole (pair)
 * size, then the monitor records address, size and the loaded bytes, which
 * STXR compares with memory (see DEVELOPERS.md, "Exclusive monitor").
 */
function loadExclusive(t: Translator, f_: { rn: number; rt: number; rt2?: number; sizeLog2: number; acquire: boolean; sf: boolean }): void {
  const f = t.fb;
  const { rn, rt, rt2, sizeLog2 } = f_;
  const addr = t.tempI64(() => t.getXsp(rn));
  const info = sizeLog2 | (rt << MemInfo.RT_SHIFT) | MemInfo.ALIGN_REQUIRED | MemInfo.EXCLUSIVE |
    (f_.acquire ? MemInfo.ACQ_REL : 0) | (f_.sf ? MemInfo.SF : 0);
  const vector = sizeLog2 === 4;
  const v = f.local(vector ? ValType.V128 : ValType.I64);
  t.load(addr, info);
  f.set(v);
  f.get(t.cpu).get(v);
  if (vector) f.simdMem(OpSIMD.v128_store, S.EXCL_VAL, 3); else f.mem(Op.i64_store, S.EXCL_VAL, 3);
  f.get(t.cpu).get(addr).mem(Op.i64_store, S.EXCL_ADDR, 3);
  f.get(t.cpu).i32(1 << sizeLog2).mem(Op.i32_store, S.EXCL_SIZE, 2);
  f.get(t.cpu).i32(1).mem(Op.i32_store, S.EXCL_VALID, 2);
  if (rt2 === undefined) {
    t.setX(rt, () => f.get(v));
  } else if (vector) { // LDXP Xt, Xt2: rt2 written last, it wins when rt == rt2 (as QEMU)
    t.setX(rt, () => f.get(v).simdLane(OpSIMD.i64x2_extract_lane, 0));
    t.setX(rt2, () => f.get(v).simdLane(OpSIMD.i64x2_extract_lane, 1));
  } else { // LDXP Wt, Wt2
    t.setX(rt, () => f.get(v).i64(0xffffffffn).op(Op.i64_and));
    t.setX(rt2, () => f.get(v).i64(32n).op(Op.i64_shr_u));
  }
  t.release(v, addr);
}

/**
 * STXR/STLXR/STXP/STLXP: the data goes to SCRATCH, the `storeExclusive`
 * helper checks alignment, translates (faults win over failure), compares
 * the monitor and writes the status (0 stored, 1 failed) to SCRATCH+16.
 * Address and data are read before Ws is written (rs == rt or rs == rn as QEMU).
 */
function storeExclusive(t: Translator, f_: { rs: number; rn: number; rt: number; rt2?: number; sizeLog2: number; release: boolean }): void {
  const f = t.fb;
  const { rs, rn, rt, rt2, sizeLog2 } = f_;
  const addr = t.tempI64(() => t.getXsp(rn));
  if (rt2 === undefined) {
    f.get(t.cpu); t.getX(rt); f.mem(Op.i64_store, S.SCRATCH, 3);
  } else if (sizeLog2 === 4) {
    f.get(t.cpu); t.getX(rt); f.mem(Op.i64_store, S.SCRATCH, 3);
    f.get(t.cpu); t.getX(rt2); f.mem(Op.i64_store, S.SCRATCH + 8, 3);
  } else {
    f.get(t.cpu); t.getW(rt); f.mem(Op.i32_store, S.SCRATCH, 2);
    f.get(t.cpu); t.getW(rt2); f.mem(Op.i32_store, S.SCRATCH + 4, 2);
  }
  const info = sizeLog2 | (rt << MemInfo.RT_SHIFT) | MemInfo.ALIGN_REQUIRED | MemInfo.EXCLUSIVE |
    (f_.release ? MemInfo.ACQ_REL : 0) | (sizeLog2 === 3 && rt2 === undefined ? MemInfo.SF : 0);
  t.syncPc();
  // the soft-TLB index is for the wasm fast path (access-functions.ts addStoreExclusiveFunction)
  t.callHelper('storeExclusive', () => { t.pushHalves(addr); f.i32(info | (t.ctx.mmuIdx << MMU_INDEX_SHIFT)); });
  t.returnIfNonZero();
  t.setW(rs, () => f.get(t.cpu).mem(Op.i32_load, S.SCRATCH + 16, 2));
  t.release(addr);
}

// ---- the table ------------------------------------------------------------------------

export const LOAD_STORE: Encoding[] = [
  // -- exclusives, acquire/release (size: 00 B, 01 H, 10 W, 11 X; o0 = acquire/release semantics)
  {
    name: 'LDXR_STXR', pattern: 'size:2 001000 0 L:1 0 rs:5 o0:1 rt2:5 rn:5 rt:5',
    translate: (t, f) => {
      if (f.L) loadExclusive(t, { rn: f.rn, rt: f.rt, sizeLog2: f.size, acquire: f.o0 === 1, sf: f.size === 3 });
      else storeExclusive(t, { rs: f.rs, rn: f.rn, rt: f.rt, sizeLog2: f.size, release: f.o0 === 1 });
    },
  },
  {
    // LDXP/LDAXP/STXP/STLXP; size 0x with o1 = 1 is CASP (LSE), not in v8.0
    name: 'LDXP_STXP', pattern: '1 sz:1 001000 0 L:1 1 rs:5 o0:1 rt2:5 rn:5 rt:5',
    translate: (t, f) => {
      const sizeLog2 = f.sz ? 4 : 3; // the pair is one access of twice the register size, aligned to it
      if (f.L) loadExclusive(t, { rn: f.rn, rt: f.rt, rt2: f.rt2, sizeLog2, acquire: f.o0 === 1, sf: f.sz === 1 });
      else storeExclusive(t, { rs: f.rs, rn: f.rn, rt: f.rt, rt2: f.rt2, sizeLog2, release: f.o0 === 1 });
    },
  },
  {
    // LDAR/STLR (o0 = 0 would be LDLAR/STLLR, FEAT_LOR); naturally aligned, single-copy atomic
    name: 'LDAR_STLR', pattern: 'size:2 001000 1 L:1 0 rs:5 1 rt2:5 rn:5 rt:5',
    translate: (t, f) => {
      const x: Transfer = { sizeLog2: f.size, load: f.L === 1, signed: false, sf: f.size === 3, fp: false };
      const addr = t.tempI64(() => t.getXsp(f.rn));
      transfer(t, x, f.rt, addr, infoFor(x, f.rt, true, MemInfo.ACQ_REL | MemInfo.ALIGN_REQUIRED));
      t.release(addr);
    },
  },

  // -- literal (PC-relative) loads
  {
    name: 'PRFM_lit', pattern: '11 011 0 00 imm19:s19 rt:5',
    translate: () => {}, // prefetch hints have no architectural effect (and never fault)
  },
  {
    // opc: 00 LDR Wt, 01 LDR Xt, 10 LDRSW Xt; V=1: 00 S, 01 D, 10 Q
    name: 'LDR_lit', pattern: 'opc:2 011 v:1 00 imm19:s19 rt:5',
    when: f => f.opc < 3,
    translate: (t, f) => {
      if (fpCheck(t, f.v)) return true;
      const x: Transfer = f.v
        ? { sizeLog2: f.opc + 2, load: true, signed: false, sf: false, fp: true }
        : { sizeLog2: f.opc === 0 ? 2 : f.opc === 1 ? 3 : 2, load: true, signed: f.opc === 2, sf: f.opc !== 0, fp: false };
      const addr = t.tempI64(() => t.fb.i64(BigInt.asIntN(64, t.pc + BigInt(f.imm19 * 4))));
      transfer(t, x, f.rt, addr, infoFor(x, f.rt, true));
      t.release(addr);
    },
  },

  // -- register pairs. idx: 00 no-allocate offset (LDNP/STNP), 01 post-index, 10 offset, 11 pre-index.
  {
    // opc: 00 32-bit, 01 LDPSW (load only, not no-allocate), 10 64-bit; 11 unallocated
    name: 'LDP_STP', pattern: 'opc:2 101 0 0 idx:2 L:1 imm7:s7 rt2:5 rn:5 rt:5',
    when: f => f.opc === 0 || f.opc === 2 || (f.opc === 1 && f.L === 1 && f.idx !== 0),
    translate: (t, f) => {
      const sizeLog2 = f.opc === 2 ? 3 : 2;
      const x: Transfer = { sizeLog2, load: f.L === 1, signed: f.opc === 1, sf: f.opc !== 0, fp: false };
      const index = f.idx === 1 ? Index.Post : f.idx === 3 ? Index.Pre : Index.Offset;
      immediateAccess(t, x, f.rn, index, f.imm7 << sizeLog2, infoFor(x, f.rt, false), f.rt, f.rt2);
    },
  },
  {
    // opc: 00 S, 01 D, 10 Q; 11 unallocated
    name: 'LDP_STP_fp', pattern: 'opc:2 101 1 0 idx:2 L:1 imm7:s7 rt2:5 rn:5 rt:5',
    when: f => f.opc < 3,
    translate: (t, f) => {
      if (fpCheck(t, 1)) return true;
      const sizeLog2 = f.opc + 2;
      const x: Transfer = { sizeLog2, load: f.L === 1, signed: false, sf: false, fp: true };
      const index = f.idx === 1 ? Index.Post : f.idx === 3 ? Index.Pre : Index.Offset;
      immediateAccess(t, x, f.rn, index, f.imm7 * (1 << sizeLog2), infoFor(x, f.rt, false), f.rt, f.rt2);
    },
  },

  // -- single register, 9-bit signed immediate. idx: 00 unscaled (LDUR...), 01 post-index, 10 unprivileged (LDTR...), 11 pre-index
  {
    name: 'PRFUM', pattern: '11 111 0 00 10 0 imm9:s9 00 rn:5 rt:5',
    translate: () => {},
  },
  {
    name: 'LDST_imm9', pattern: 'size:2 111 v:1 00 opc:2 0 imm9:s9 idx:2 rn:5 rt:5',
    // no unprivileged FP/SIMD forms
    when: f => transferFor(f.v, f.size, f.opc) !== undefined && !(f.v && f.idx === 2),
    translate: (t, f) => {
      if (fpCheck(t, f.v)) return true;
      const x = transferFor(f.v, f.size, f.opc)!;
      if (f.idx === 0 || f.idx === 2) {
        const extra = f.idx === 2 ? unprivilegedFlag(t) : 0;
        immediateAccess(t, x, f.rn, Index.Offset, f.imm9, infoFor(x, f.rt, true, extra), f.rt);
      } else {
        immediateAccess(t, x, f.rn, f.idx === 1 ? Index.Post : Index.Pre, f.imm9, infoFor(x, f.rt, false), f.rt);
      }
    },
  },

  // -- single register, register offset: option 010 UXTW, 011 LSL, 110 SXTW, 111 SXTX (option<1> = 0 unallocated); S scales by the size
  {
    name: 'PRFM_reg', pattern: '11 111 0 00 10 1 rm:5 option:3 s:1 10 rn:5 rt:5',
    when: f => (f.option & 2) !== 0,
    translate: () => {},
  },
  {
    name: 'LDST_reg', pattern: 'size:2 111 v:1 00 opc:2 1 rm:5 option:3 s:1 10 rn:5 rt:5',
    when: f => (f.option & 2) !== 0 && transferFor(f.v, f.size, f.opc) !== undefined,
    translate: (t, f) => {
      if (fpCheck(t, f.v)) return true;
      const x = transferFor(f.v, f.size, f.opc)!;
      const addr = t.tempI64(() => {
        t.getXsp(f.rn);
        pushRegisterOffset(t, f.rm, f.option, f.s ? x.sizeLog2 : 0);
        t.fb.op(Op.i64_add);
      });
      transfer(t, x, f.rt, addr, infoFor(x, f.rt, true));
      t.release(addr);
    },
  },

  // -- single register, 12-bit unsigned offset scaled by the size
  {
    name: 'PRFM_uimm', pattern: '11 111 0 01 10 imm12:12 rn:5 rt:5',
    translate: () => {},
  },
  {
    name: 'LDST_uimm', pattern: 'size:2 111 v:1 01 opc:2 imm12:12 rn:5 rt:5',
    when: f => transferFor(f.v, f.size, f.opc) !== undefined,
    translate: (t, f) => {
      if (fpCheck(t, f.v)) return true;
      const x = transferFor(f.v, f.size, f.opc)!;
      immediateAccess(t, x, f.rn, Index.Offset, f.imm12 * (1 << x.sizeLog2), infoFor(x, f.rt, true), f.rt);
    },
  },
];
