// Data processing (register): Arm ARM C4.1.87. Logical and add/subtract
// with shifted or extended register, add/subtract with carry, conditional
// compare and select, 1-, 2- and 3-source operations. CRC32* (2-source
// opcodes 010xxx) live in crypto.ts. Encodings without a row here (shift
// ROR for add/subtract, W forms with shift >= 32, extend shift > 4,
// S=0 conditional compare, PAC forms ...) raise Undefined Instruction.

import type { Encoding, Fields } from '../jit/decode';
import type { Translator } from '../jit/translator';
import { Op } from '../jit/wasm-emitter';
import {
  emitAddSub, emitAddWithCarry, emitLogical, pushExtended, pushShifted, setNZCVConst, width, X64, type ShiftType, type Width,
} from './dp-common';

// ---- logical (shifted register) ------------------------------------------------------------

/**
 * AND/BIC/ORR/ORN/EOR/EON/ANDS/BICS: Rn op (N ? NOT : id)(shift(Rm, imm6)).
 * All four shift types are allowed, including ROR. MOV (register) is ORR with XZR,
 * MVN is ORN with XZR, TST is ANDS to XZR.
 */
function logicalShifted(name: string, opc: number, invert: boolean, op: (w: Width) => number): Encoding {
  return {
    name, pattern: `sf:1 ${opc >> 1}${opc & 1} 01010 shift:2 ${invert ? 1 : 0} rm:5 imm6:6 rn:5 rd:5`,
    when: f => f.sf === 1 || f.imm6 < 32,
    translate: (t, f) => {
      const w = width(f.sf);
      w.set(t, f.rd, () => emitLogical(t, w, () => {
        w.get(t, f.rn);
        pushShifted(t, w, f.rm, f.shift as ShiftType, f.imm6);
        if (invert) { w.konst(t, -1n); t.fb.op(w.xor); }
        t.fb.op(op(w));
      }, opc === 3));
    },
  };
}

// ---- add/subtract ----------------------------------------------------------------------------

/** Pushes operand2 of SBC/SBCS as NOT(operand2): they are AddWithCarry(a, NOT(b), C). */
function pushMaybeInverted(t: Translator, w: Width, sub: boolean, push: () => void): void {
  push();
  if (sub) { w.konst(t, -1n); t.fb.op(w.xor); }
}

/** ADD/ADDS/SUB/SUBS (shifted register): Rn and Rd are XZR-based; shift ROR is unallocated. */
function addSubShifted(name: string, sub: boolean, setFlags: boolean): Encoding {
  return {
    name, pattern: `sf:1 ${sub ? 1 : 0} ${setFlags ? 1 : 0} 01011 shift:2 0 rm:5 imm6:6 rn:5 rd:5`,
    when: f => f.shift !== 3 && (f.sf === 1 || f.imm6 < 32),
    translate: (t, f) => {
      const w = width(f.sf);
      w.set(t, f.rd, () => emitAddSub(t, w,
        () => w.get(t, f.rn),
        () => pushShifted(t, w, f.rm, f.shift as ShiftType, f.imm6),
        sub, setFlags));
    },
  };
}

/**
 * ADD/ADDS/SUB/SUBS (extended register): Rm extended (UXTB..SXTX) and shifted
 * left by 0..4. Rn is SP-capable; Rd is SP for ADD/SUB and XZR when setting flags.
 */
function addSubExtended(name: string, sub: boolean, setFlags: boolean): Encoding {
  return {
    name, pattern: `sf:1 ${sub ? 1 : 0} ${setFlags ? 1 : 0} 01011 00 1 rm:5 option:3 imm3:3 rn:5 rd:5`,
    when: f => f.imm3 <= 4,
    translate: (t, f) => {
      const w = width(f.sf);
      const value = (): void => emitAddSub(t, w,
        () => w.getSp(t, f.rn),
        () => pushExtended(t, w, f.rm, f.option, f.imm3),
        sub, setFlags);
      if (setFlags) w.set(t, f.rd, value);
      else w.setSp(t, f.rd, value);
    },
  };
}

/** ADC/ADCS/SBC/SBCS: Rn + (NOT) Rm + C. NGC/NGCS are SBC/SBCS with Rn = XZR. */
function addSubCarry(name: string, sub: boolean, setFlags: boolean): Encoding {
  return {
    name, pattern: `sf:1 ${sub ? 1 : 0} ${setFlags ? 1 : 0} 11010000 rm:5 000000 rn:5 rd:5`,
    translate: (t, f) => {
      const w = width(f.sf);
      w.set(t, f.rd, () => emitAddWithCarry(t, w,
        () => w.get(t, f.rn),
        () => pushMaybeInverted(t, w, sub, () => w.get(t, f.rm)),
        setFlags));
    },
  };
}

// ---- conditional compare and select --------------------------------------------------------

/**
 * CCMN/CCMP (register or 5-bit immediate): if cond holds, NZCV = flags of
 * Rn + op2 (CCMN) or Rn - op2 (CCMP); otherwise NZCV = the nzcv field.
 */
function condCompare(name: string, sub: boolean, immediate: boolean): Encoding {
  return {
    name, pattern: `sf:1 ${sub ? 1 : 0} 1 11010010 ${immediate ? 'imm5' : 'rm'}:5 cond:4 ${immediate ? 1 : 0} 0 rn:5 0 nzcv:4`,
    translate: (t, f) => {
      const w = width(f.sf);
      const compare = (): void => {
        emitAddSub(t, w,
          () => w.get(t, f.rn),
          () => (immediate ? w.konst(t, BigInt(f.imm5)) : w.get(t, f.rm)),
          sub, true);
        t.fb.op(Op.drop);
      };
      if (f.cond >= 14) { compare(); return; } // AL/NV: always
      t.condition(f.cond);
      t.fb.if();
      compare();
      t.fb.else();
      setNZCVConst(t, f.nzcv);
      t.fb.end();
    },
  };
}

/** CSEL/CSINC/CSINV/CSNEG: Rd = cond ? Rn : f(Rm). CSET/CSETM/CINC/CINV/CNEG are aliases. */
function condSelect(name: string, op: number, o2: number, alternative: (t: Translator, w: Width) => void): Encoding {
  return {
    name, pattern: `sf:1 ${op} 0 11010100 rm:5 cond:4 0 ${o2} rn:5 rd:5`,
    translate: (t, f) => {
      const w = width(f.sf);
      w.set(t, f.rd, () => {
        w.get(t, f.rn);
        w.get(t, f.rm);
        alternative(t, w);
        t.condition(f.cond);
        t.fb.op(Op.select);
      });
    },
  };
}

// ---- data processing (1 source) ---------------------------------------------------------------

/** Repeats a byte/halfword pattern across the width (translate time). */
function replicated(w: Width, pattern: bigint, esize: number): bigint {
  let v = 0n;
  for (let i = 0; i < w.bits; i += esize) v |= pattern << BigInt(i);
  return v;
}

/** local = ((local >> s) & m) | ((local & m) << s): swaps adjacent s-bit groups selected by m. */
function swapGroups(t: Translator, w: Width, local: number, s: number, m: bigint): void {
  const f = t.fb;
  f.get(local); w.konst(t, BigInt(s)); f.op(w.shrU); w.konst(t, m); f.op(w.and);
  f.get(local); w.konst(t, m); f.op(w.and); w.konst(t, BigInt(s)); f.op(w.shl);
  f.op(w.or).set(local);
}

/**
 * Reverses the order of `unit`-bit groups (1, 8, 16 bits) inside each
 * `container`-bit lane of Rn: the classic log-step swap network.
 * RBIT = (1, width), REV16 = (8, 16), REV32 = (8, 32), REV = (8, width).
 */
function emitReverse(t: Translator, w: Width, rn: number, unit: number, container: number): void {
  const x = w.temp(t, () => w.get(t, rn));
  for (let s = unit; s < container; s *= 2) {
    // m selects the low s bits of each 2s-bit group
    const m = replicated(w, (1n << BigInt(s)) - 1n, 2 * s);
    if (2 * s === w.bits) {
      t.fb.get(x); w.konst(t, BigInt(s)); t.fb.op(w.rotl).set(x); // swapping the two halves is a rotate
    } else {
      swapGroups(t, w, x, s, m);
    }
  }
  t.fb.get(x);
  t.release(x);
}

function oneSource(name: string, sf: number | 'sf', opcode: number, emit: (t: Translator, w: Width, f: Fields) => void): Encoding {
  return {
    name, pattern: `${sf === 'sf' ? 'sf:1' : sf} 1 0 11010110 00000 ${opcode.toString(2).padStart(6, '0')} rn:5 rd:5`,
    translate: (t, f) => {
      const w = width(sf === 'sf' ? f.sf : sf);
      w.set(t, f.rd, () => emit(t, w, f));
    },
  };
}

// ---- data processing (2 source) -----------------------------------------------------------------

/**
 * UDIV/SDIV without wasm traps: x / 0 is 0, and INT_MIN / -1 is INT_MIN
 * (computed as 0 - x, which wraps), as the Arm ARM specifies.
 */
function emitDivide(t: Translator, w: Width, f: Fields, signed: boolean): void {
  const fb = t.fb;
  const divisor = w.temp(t, () => w.get(t, f.rm));
  fb.get(divisor).op(w.eqz);
  fb.if(w.type);
  w.konst(t, 0n);
  fb.else();
  if (signed) {
    fb.get(divisor); w.konst(t, -1n); fb.op(w.eq);
    fb.if(w.type);
    w.konst(t, 0n); w.get(t, f.rn); fb.op(w.sub);
    fb.else();
    w.get(t, f.rn); fb.get(divisor).op(w.divS);
    fb.end();
  } else {
    w.get(t, f.rn); fb.get(divisor).op(w.divU);
  }
  fb.end();
  t.release(divisor);
}

function twoSource(name: string, opcode: number, emit: (t: Translator, w: Width, f: Fields) => void): Encoding {
  return {
    name, pattern: `sf:1 0 0 11010110 rm:5 ${opcode.toString(2).padStart(6, '0')} rn:5 rd:5`,
    translate: (t, f) => {
      const w = width(f.sf);
      w.set(t, f.rd, () => emit(t, w, f));
    },
  };
}

/** LSLV/LSRV/ASRV/RORV: the shift amount is Rm modulo the width, which is what wasm shifts do. */
function variableShift(name: string, opcode: number, op: (w: Width) => number): Encoding {
  return twoSource(name, opcode, (t, w, f) => { w.get(t, f.rn); w.get(t, f.rm); t.fb.op(op(w)); });
}

// ---- data processing (3 source) -----------------------------------------------------------------

/**
 * Pushes the high 64 bits of the 128-bit product of Xn and Xm, from four
 * 32x32->64 partial products (no 128-bit arithmetic in wasm). The signed
 * high half is the unsigned one minus (Xn < 0 ? Xm : 0) and (Xm < 0 ? Xn : 0).
 */
function emitMulHigh(t: Translator, rn: number, rm: number, signed: boolean): void {
  const f = t.fb;
  const a = t.tempI64(() => t.getX(rn));
  const b = t.tempI64(() => t.getX(rm));
  const lo = (l: number): void => { f.get(l).i64(0xffffffffn).op(Op.i64_and); };
  const hi = (l: number): void => { f.get(l).i64(32n).op(Op.i64_shr_u); };
  const loHi = t.tempI64(() => { lo(a); hi(b); f.op(Op.i64_mul); });
  const hiLo = t.tempI64(() => { hi(a); lo(b); f.op(Op.i64_mul); });
  // carries into bit 64 from the middle column: (lo*lo >> 32) + low halves of the cross products (< 3 * 2^32)
  lo(a); lo(b); f.op(Op.i64_mul).i64(32n).op(Op.i64_shr_u);
  lo(loHi); f.op(Op.i64_add);
  lo(hiLo); f.op(Op.i64_add);
  f.i64(32n).op(Op.i64_shr_u);
  hi(a); hi(b); f.op(Op.i64_mul).op(Op.i64_add);
  hi(loHi); f.op(Op.i64_add);
  hi(hiLo); f.op(Op.i64_add);
  if (signed) {
    f.get(a).i64(63n).op(Op.i64_shr_s).get(b).op(Op.i64_and).op(Op.i64_sub);
    f.get(b).i64(63n).op(Op.i64_shr_s).get(a).op(Op.i64_and).op(Op.i64_sub);
  }
  t.release(a, b, loHi, hiLo);
}

/** MADD/MSUB: Rd = Ra +/- Rn * Rm at the operand width (MUL/MNEG have Ra = XZR). */
function multiplyAdd(name: string, sub: boolean): Encoding {
  return {
    name, pattern: `sf:1 00 11011 000 rm:5 ${sub ? 1 : 0} ra:5 rn:5 rd:5`,
    translate: (t, f) => {
      const w = width(f.sf);
      w.set(t, f.rd, () => {
        w.get(t, f.ra);
        w.get(t, f.rn); w.get(t, f.rm); t.fb.op(w.mul);
        t.fb.op(sub ? w.sub : w.add);
      });
    },
  };
}

/** SMADDL/SMSUBL/UMADDL/UMSUBL: Xd = Xa +/- ext(Wn) * ext(Wm) (SMULL/UMULL have Xa = XZR). */
function multiplyAddLong(name: string, unsigned: boolean, sub: boolean): Encoding {
  const extend = unsigned ? 2 : 6; // UXTW / SXTW
  return {
    name, pattern: `1 00 11011 ${unsigned ? 1 : 0}01 rm:5 ${sub ? 1 : 0} ra:5 rn:5 rd:5`,
    translate: (t, f) => {
      t.setX(f.rd, () => {
        t.getX(f.ra);
        pushExtended(t, X64, f.rn, extend, 0);
        pushExtended(t, X64, f.rm, extend, 0);
        t.fb.op(Op.i64_mul).op(sub ? Op.i64_sub : Op.i64_add);
      });
    },
  };
}

function multiplyHigh(name: string, unsigned: boolean): Encoding {
  return {
    // Ra is should-be-one; like QEMU, other values are accepted and ignored
    name, pattern: `1 00 11011 ${unsigned ? 1 : 0}10 rm:5 0 ra:5 rn:5 rd:5`,
    translate: (t, f) => t.setX(f.rd, () => emitMulHigh(t, f.rn, f.rm, !unsigned)),
  };
}

// ---- the table ---------------------------------------------------------------------------------

const ONE_SOURCE: Encoding[] = [
  oneSource('RBIT', 'sf', 0b000000, (t, w, f) => emitReverse(t, w, f.rn, 1, w.bits)),
  oneSource('REV16', 'sf', 0b000001, (t, w, f) => emitReverse(t, w, f.rn, 8, 16)),
  oneSource('REV32', 1, 0b000010, (t, w, f) => emitReverse(t, w, f.rn, 8, 32)),
  oneSource('REV_w', 0, 0b000010, (t, w, f) => emitReverse(t, w, f.rn, 8, 32)),
  oneSource('REV_x', 1, 0b000011, (t, w, f) => emitReverse(t, w, f.rn, 8, 64)),
  oneSource('CLZ', 'sf', 0b000100, (t, w, f) => { w.get(t, f.rn); t.fb.op(w.clz); }),
  // CLS = CLZ(Rn EOR (Rn >> 1 arithmetic)) - 1: the top bit of the EOR is always 0
  oneSource('CLS', 'sf', 0b000101, (t, w, f) => {
    const x = w.temp(t, () => w.get(t, f.rn));
    t.fb.get(x).get(x); w.konst(t, 1n); t.fb.op(w.shrS).op(w.xor).op(w.clz);
    w.konst(t, 1n); t.fb.op(w.sub);
    t.release(x);
  }),
];

const TWO_SOURCE: Encoding[] = [
  twoSource('UDIV', 0b000010, (t, w, f) => emitDivide(t, w, f, false)),
  twoSource('SDIV', 0b000011, (t, w, f) => emitDivide(t, w, f, true)),
  variableShift('LSLV', 0b001000, w => w.shl),
  variableShift('LSRV', 0b001001, w => w.shrU),
  variableShift('ASRV', 0b001010, w => w.shrS),
  variableShift('RORV', 0b001011, w => w.rotr),
];

export const DP_REGISTER: Encoding[] = [
  logicalShifted('AND_shift', 0, false, w => w.and),
  logicalShifted('BIC_shift', 0, true, w => w.and),
  logicalShifted('ORR_shift', 1, false, w => w.or),
  logicalShifted('ORN_shift', 1, true, w => w.or),
  logicalShifted('EOR_shift', 2, false, w => w.xor),
  logicalShifted('EON_shift', 2, true, w => w.xor),
  logicalShifted('ANDS_shift', 3, false, w => w.and),
  logicalShifted('BICS_shift', 3, true, w => w.and),

  addSubShifted('ADD_shift', false, false),
  addSubShifted('ADDS_shift', false, true),
  addSubShifted('SUB_shift', true, false),
  addSubShifted('SUBS_shift', true, true),

  addSubExtended('ADD_ext', false, false),
  addSubExtended('ADDS_ext', false, true),
  addSubExtended('SUB_ext', true, false),
  addSubExtended('SUBS_ext', true, true),

  addSubCarry('ADC', false, false),
  addSubCarry('ADCS', false, true),
  addSubCarry('SBC', true, false),
  addSubCarry('SBCS', true, true),

  condCompare('CCMN_reg', false, false),
  condCompare('CCMN_imm', false, true),
  condCompare('CCMP_reg', true, false),
  condCompare('CCMP_imm', true, true),

  condSelect('CSEL', 0, 0, () => {}),
  condSelect('CSINC', 0, 1, (t, w) => { w.konst(t, 1n); t.fb.op(w.add); }),
  condSelect('CSINV', 1, 0, (t, w) => { w.konst(t, -1n); t.fb.op(w.xor); }),
  condSelect('CSNEG', 1, 1, (t, w) => { w.konst(t, -1n); t.fb.op(w.xor); w.konst(t, 1n); t.fb.op(w.add); }), // -Rm = NOT(Rm) + 1

  ...ONE_SOURCE,
  ...TWO_SOURCE,

  multiplyAdd('MADD', false),
  multiplyAdd('MSUB', true),
  multiplyAddLong('SMADDL', false, false),
  multiplyAddLong('SMSUBL', false, true),
  multiplyAddLong('UMADDL', true, false),
  multiplyAddLong('UMSUBL', true, true),
  multiplyHigh('SMULH', false),
  multiplyHigh('UMULH', true),
];
