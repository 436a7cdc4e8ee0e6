// Data processing (immediate): Arm ARM C4.1.86. PC-relative addressing,
// add/subtract, logical, move wide, bitfield and extract. Encodings without
// a row here (e.g. MOVN/MOVZ/MOVK opc=01, bitfield opc=11, ADDG/SUBG,
// N != sf) fall through to Undefined Instruction.

import type { Encoding, Fields } from '../jit/decode';
import type { Translator } from '../jit/translator';
import { decodeBitMasks, emitAddSub, emitLogical, width, type Width } from './dp-common';

// ---- PC-relative addressing ------------------------------------------------------------

function pcRelative(name: string, op: number, pageScale: boolean): Encoding {
  return {
    name, pattern: `${op} immlo:2 10000 immhi:s19 rd:5`,
    translate: (t, f) => {
      const offset = BigInt((f.immhi * 4) + f.immlo);
      // ADRP: the 4KB page of the PC plus imm * 4096; ADR: PC plus imm
      const value = pageScale ? (t.pc & ~0xfffn) + (offset << 12n) : t.pc + offset;
      t.setX(f.rd, () => t.fb.i64(BigInt.asIntN(64, value)));
    },
  };
}

// ---- add/subtract (immediate) ------------------------------------------------------------

/**
 * ADD/ADDS/SUB/SUBS (immediate), imm12 optionally LSL #12. Rn is always
 * SP-capable; Rd is SP for ADD/SUB and XZR for the flag-setting forms
 * (so CMP/CMN are SUBS/ADDS with Rd = XZR and MOV to/from SP is ADD #0).
 */
function addSubImm(name: string, sub: boolean, setFlags: boolean): Encoding {
  return {
    name, pattern: `sf:1 ${sub ? 1 : 0} ${setFlags ? 1 : 0} 100010 sh:1 imm12:12 rn:5 rd:5`,
    translate: (t, f) => {
      const w = width(f.sf);
      const imm = BigInt(f.imm12) << (f.sh ? 12n : 0n);
      const value = (): void => emitAddSub(t, w, () => w.getSp(t, f.rn), () => w.konst(t, imm), sub, setFlags);
      if (setFlags) w.set(t, f.rd, value);
      else w.setSp(t, f.rd, value);
    },
  };
}

// ---- logical (immediate) ------------------------------------------------------------------

function bitMask(f: Fields): bigint | undefined {
  return decodeBitMasks(f.N, f.imms, f.immr, true, f.sf ? 64 : 32)?.wmask;
}

/**
 * AND/ORR/EOR/ANDS (immediate); N=1 with sf=0 and the reserved bitmask
 * patterns are unallocated. Rd is SP except for ANDS (TST is ANDS to XZR).
 */
function logicalImm(name: string, opc: number, op: (w: Width) => number): Encoding {
  const setFlags = opc === 3;
  return {
    name, pattern: `sf:1 ${opc >> 1}${opc & 1} 100100 N:1 immr:6 imms:6 rn:5 rd:5`,
    when: f => (f.sf === 1 || f.N === 0) && bitMask(f) !== undefined,
    translate: (t, f) => {
      const w = width(f.sf);
      const imm = bitMask(f)!;
      const value = (): void => emitLogical(t, w, () => {
        w.get(t, f.rn);
        w.konst(t, imm);
        t.fb.op(op(w));
      }, setFlags);
      if (setFlags) w.set(t, f.rd, value);
      else w.setSp(t, f.rd, value);
    },
  };
}

// ---- move wide -------------------------------------------------------------------------------

/** MOVN/MOVZ/MOVK; hw selects a 16-bit slot, and W forms only have slots 0 and 1. */
function moveWide(name: string, opc: number, translate: (t: Translator, f: Fields, imm: bigint, shift: bigint) => void): Encoding {
  return {
    name, pattern: `sf:1 ${opc >> 1}${opc & 1} 100101 hw:2 imm16:16 rd:5`,
    when: f => f.sf === 1 || f.hw < 2,
    translate: (t, f) => {
      const shift = BigInt(16 * f.hw);
      translate(t, f, BigInt(f.imm16) << shift, shift);
    },
  };
}

// ---- bitfield and extract ------------------------------------------------------------------

/** Bitfield forms need N == sf, and W forms need immr and imms below 32. */
function bitfieldAllocated(f: Fields): boolean {
  return f.N === f.sf && (f.sf === 1 || (f.immr < 32 && f.imms < 32));
}

function bitfieldMasks(f: Fields): { wmask: bigint; tmask: bigint } {
  return decodeBitMasks(f.N, f.imms, f.immr, false, f.sf ? 64 : 32)!;
}

/** Pushes ROR(Rn, R) & mask (the moved field of every bitfield form). */
function pushRotatedField(t: Translator, f: Fields, mask: bigint): void {
  const w = width(f.sf);
  w.get(t, f.rn);
  if (f.immr !== 0) { w.konst(t, BigInt(f.immr)); t.fb.op(w.rotr); }
  if (mask !== w.mask) { w.konst(t, mask); t.fb.op(w.and); }
}

const BITFIELD: Encoding[] = [
  {
    // SBFM (Arm ARM: the field ROR(Rn, R) & wmask & tmask, with Rn<S> copied into
    // the bits above it) is a sign extension of the field Rn<S:0> or Rn<S:R>,
    // emitted as two shifts: move bit S to the top, then shift arithmetically
    // back down; a field that starts below bit R (S < R, SBFIZ) then moves up
    // to bit width-R. Aliases: ASR (immediate), SBFIZ, SBFX, SXTB, SXTH, SXTW.
    name: 'SBFM', pattern: 'sf:1 00 100110 N:1 immr:6 imms:6 rn:5 rd:5',
    when: bitfieldAllocated,
    translate: (t, f) => {
      const w = width(f.sf);
      const top = w.bits - 1 - f.imms;
      w.set(t, f.rd, () => {
        w.get(t, f.rn);
        if (top) { w.konst(t, BigInt(top)); t.fb.op(w.shl); }
        if (f.imms >= f.immr) {
          const down = top + f.immr;
          if (down) { w.konst(t, BigInt(down)); t.fb.op(w.shrS); }
        } else {
          if (top) { w.konst(t, BigInt(top)); t.fb.op(w.shrS); }
          w.konst(t, BigInt(w.bits - f.immr)); t.fb.op(w.shl);
        }
      });
    },
  },
  {
    // BFM: copies the field into Rd, keeping Rd's other bits. Aliases: BFI, BFXIL (BFC needs v8.2).
    name: 'BFM', pattern: 'sf:1 01 100110 N:1 immr:6 imms:6 rn:5 rd:5',
    when: bitfieldAllocated,
    translate: (t, f) => {
      const w = width(f.sf);
      const { wmask, tmask } = bitfieldMasks(f);
      const field = wmask & tmask;
      w.set(t, f.rd, () => {
        w.get(t, f.rd);
        w.konst(t, ~field & w.mask); t.fb.op(w.and);
        pushRotatedField(t, f, field);
        t.fb.op(w.or);
      });
    },
  },
  {
    // UBFM: the field, zero elsewhere. Aliases: LSL/LSR (immediate), UBFIZ, UBFX, UXTB, UXTH.
    name: 'UBFM', pattern: 'sf:1 10 100110 N:1 immr:6 imms:6 rn:5 rd:5',
    when: bitfieldAllocated,
    translate: (t, f) => {
      const w = width(f.sf);
      const { wmask, tmask } = bitfieldMasks(f);
      w.set(t, f.rd, () => pushRotatedField(t, f, wmask & tmask));
    },
  },
  {
    // EXTR: bits lsb+width-1..lsb of Rn:Rm. ROR (immediate) is EXTR with Rn == Rm.
    name: 'EXTR', pattern: 'sf:1 00 100111 N:1 0 rm:5 imms:6 rn:5 rd:5',
    when: f => f.N === f.sf && (f.sf === 1 || f.imms < 32),
    translate: (t, f) => {
      const w = width(f.sf);
      const lsb = f.imms;
      w.set(t, f.rd, () => {
        if (f.rn === f.rm) {
          w.get(t, f.rm);
          if (lsb) { w.konst(t, BigInt(lsb)); t.fb.op(w.rotr); }
          return;
        }
        w.get(t, f.rm);
        if (lsb === 0) return;
        w.konst(t, BigInt(lsb)); t.fb.op(w.shrU);
        w.get(t, f.rn);
        w.konst(t, BigInt(w.bits - lsb)); t.fb.op(w.shl);
        t.fb.op(w.or);
      });
    },
  },
];

export const DP_IMMEDIATE: Encoding[] = [
  pcRelative('ADR', 0, false),
  pcRelative('ADRP', 1, true),

  addSubImm('ADD_imm', false, false),
  addSubImm('ADDS_imm', false, true),
  addSubImm('SUB_imm', true, false),
  addSubImm('SUBS_imm', true, true),

  logicalImm('AND_imm', 0, w => w.and),
  logicalImm('ORR_imm', 1, w => w.or),
  logicalImm('EOR_imm', 2, w => w.xor),
  logicalImm('ANDS_imm', 3, w => w.and),

  moveWide('MOVN', 0, (t, f, imm) => width(f.sf).set(t, f.rd, () => width(f.sf).konst(t, ~imm))),
  moveWide('MOVZ', 2, (t, f, imm) => width(f.sf).set(t, f.rd, () => width(f.sf).konst(t, imm))),
  moveWide('MOVK', 3, (t, f, imm, shift) => {
    const w = width(f.sf);
    w.set(t, f.rd, () => {
      w.get(t, f.rd);
      w.konst(t, ~(0xffffn << shift)); t.fb.op(w.and);
      w.konst(t, imm); t.fb.op(w.or);
    });
  }),

  ...BITFIELD,
];
