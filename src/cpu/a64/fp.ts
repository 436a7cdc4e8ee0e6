// Scalar floating point: Arm ARM C4.1.95 "Data Processing -- Scalar
// Floating-Point" groups (data-processing 1/2/3 source, compare, conditional
// compare/select, immediate, conversions to/from integer and fixed point).
//
// Semantics come from the bit-exact library (fp/softfloat.ts). Rows either
// emit pure bit manipulation inline (FMOV, FABS, FNEG, FCSEL: these never
// raise FP exceptions), or an inline WebAssembly fast path with an exact
// fallback (fp-fast.ts), or call the `fpOp` helper, which runs the library
// on the vCPU's registers (fp/scalar-ops.ts). Half precision exists in
// ARMv8.0 only for FCVT; other type=11 encodings are unallocated (UNDEF).

import type { Encoding, Fields } from '../jit/decode';
import type { Translator } from '../jit/translator';
import type { Cpu } from '../cpu';
import { Op } from '../jit/wasm-emitter';
import { S } from '../state';
import * as sf from '../fp/softfloat';
import { FpEnv, Rounding, type Width } from '../fp/softfloat';
import {
  commitFlags, fieldA, fieldD, fieldExtra, fieldM, fieldN, fpEnvOf, fpOpId, packRegs, readVBits, writeVBits, type FpOpFn,
} from '../fp/scalar-ops';
import { checkFpAccess, pushVLane64, pushVLow32, pushVLow64, writeScalar, writeVLane64 } from './vreg';
import { emitFastBinary, emitFastMulAdd, emitFastSqrt, FAST_BINARY } from './fp-fast';

/** type field -> width (00 single, 01 double, 11 half); 10 is unallocated. */
function widthOf(type: number): Width | undefined {
  return type === 0 ? 32 : type === 1 ? 64 : type === 3 ? 16 : undefined;
}
/** ARMv8.0 arithmetic exists for single and double only. */
const SD = (f: Fields) => f.type === 0 || f.type === 1;

/** Calls the fpOp helper with an operation id and packed registers (operations never fault). */
export function callFpOp(t: Translator, id: number, regs: number): void {
  t.callHelper('fpOp', () => t.fb.i32(id).i32(regs | 0));
  t.fb.op(Op.drop);
}

/** Wraps a row so the FP access check runs first. */
function fpRow(row: Encoding): Encoding {
  return { ...row, translate: (t, f) => (checkFpAccess(t) ? true : row.translate(t, f)) };
}

// ---- slow-path operation factories ----------------------------------------------

type Bin = (N: Width, a: bigint, b: bigint, env: FpEnv) => bigint;

/** Vd = fn(Vn, Vm), optionally negated (FNMUL negates the result, NaNs included). */
export function binaryOp(name: string, N: Width, fn: Bin, negate = false): number {
  return fpOpId(`bin:${name}:${N}`, () => (cpu, regs) => {
    const env = fpEnvOf(cpu);
    let r = fn(N, readVBits(cpu, fieldN(regs), N), readVBits(cpu, fieldM(regs), N), env);
    if (negate) r = sf.fpNeg(N, r);
    writeVBits(cpu, fieldD(regs), N, r);
    commitFlags(cpu, env);
    return 0;
  });
}

/** FMADD family: o1:o0 = 00 FMADD, 01 FMSUB, 10 FNMADD, 11 FNMSUB; operands negated first as the pseudocode does. */
export function mulAddOp(N: Width, negAddend: boolean, negProduct: boolean): number {
  return fpOpId(`fma:${N}:${+negAddend}${+negProduct}`, () => (cpu, regs) => {
    const env = fpEnvOf(cpu);
    let a = readVBits(cpu, fieldA(regs), N), n = readVBits(cpu, fieldN(regs), N);
    if (negAddend) a = sf.fpNeg(N, a);
    if (negProduct) n = sf.fpNeg(N, n);
    writeVBits(cpu, fieldD(regs), N, sf.fpMulAdd(N, a, n, readVBits(cpu, fieldM(regs), N), env));
    commitFlags(cpu, env);
    return 0;
  });
}

/** Vd(outN) = fn(Vn(N)). */
export function unaryOp(name: string, N: Width, outN: Width, fn: (a: bigint, env: FpEnv) => bigint): number {
  return fpOpId(`un:${name}:${N}:${outN}`, () => (cpu, regs) => {
    const env = fpEnvOf(cpu);
    writeVBits(cpu, fieldD(regs), outN, fn(readVBits(cpu, fieldN(regs), N), env));
    commitFlags(cpu, env);
    return 0;
  });
}

function setNzcv(cpu: Cpu, nzcv4: number): void { cpu.nzcv = (nzcv4 & 0xf) << 28; }

/** FCMP/FCMPE (extra bit 0: compare with zero). */
function compareOp(N: Width, signal: boolean): number {
  return fpOpId(`cmp:${N}:${+signal}`, () => (cpu, regs) => {
    const env = fpEnvOf(cpu);
    const b = fieldExtra(regs) & 1 ? 0n : readVBits(cpu, fieldM(regs), N);
    setNzcv(cpu, sf.fpCompare(N, readVBits(cpu, fieldN(regs), N), b, signal, env));
    commitFlags(cpu, env);
    return 0;
  });
}

/** Float -> integer/fixed point into Xd/Wd (extra = fbits). */
function toIntOp(N: Width, rounding: Rounding | 'fpcr', unsigned: boolean, M: 32 | 64): number {
  return fpOpId(`toint:${N}:${rounding}:${+unsigned}:${M}`, () => (cpu, regs) => {
    const env = fpEnvOf(cpu);
    const r = sf.fpToFixed(N, readVBits(cpu, fieldN(regs), N), fieldExtra(regs), unsigned, M, env, rounding === 'fpcr' ? env.rounding : rounding);
    cpu.setXPair(fieldD(regs), Number(r & 0xffffffffn), Number(r >> 32n));
    commitFlags(cpu, env);
    return 0;
  });
}

/** Integer/fixed point in Xn/Wn -> float in Vd (extra = fbits); rounding per FPCR. */
function fromIntOp(N: Width, unsigned: boolean, M: 32 | 64): number {
  return fpOpId(`fromint:${N}:${+unsigned}:${M}`, () => (cpu, regs) => {
    const env = fpEnvOf(cpu);
    const n = fieldN(regs);
    const v = M === 64 ? (BigInt(cpu.xHi(n)) << 32n) | BigInt(cpu.xLo(n)) : BigInt(cpu.xLo(n));
    writeVBits(cpu, fieldD(regs), N, sf.fixedToFp(N, v, M, fieldExtra(regs), unsigned, env));
    commitFlags(cpu, env);
    return 0;
  });
}

// ---- rows ---------------------------------------------------------------------------

const BINARY_OPS: Array<[string, Bin, boolean]> = [
  ['FMUL', sf.fpMul, false], ['FDIV', sf.fpDiv, false], ['FADD', sf.fpAdd, false], ['FSUB', sf.fpSub, false],
  ['FMAX', sf.fpMax, false], ['FMIN', sf.fpMin, false], ['FMAXNM', sf.fpMaxNum, false], ['FMINNM', sf.fpMinNum, false],
  ['FNMUL', sf.fpMul, true],
];

const ROUND_INT: Array<[string, Rounding | 'fpcr', boolean]> = [
  ['FRINTN', Rounding.TieEven, false], ['FRINTP', Rounding.PosInf, false], ['FRINTM', Rounding.NegInf, false],
  ['FRINTZ', Rounding.Zero, false], ['FRINTA', Rounding.TieAway, false], ['', 0, false],
  ['FRINTX', 'fpcr', true], ['FRINTI', 'fpcr', false],
];

const SIGN64 = -0x8000000000000000n;

/** FABS/FNEG/FMOV on the low N bits: pure bit manipulation, no FP exceptions, NaNs untouched but for the sign. */
function emitSignOp(t: Translator, N: Width, d: number, n: number, kind: 'mov' | 'abs' | 'neg'): void {
  const f = t.fb;
  if (N === 64) {
    writeScalar(t, d, 64, 'int', () => {
      pushVLow64(t, n);
      if (kind === 'abs') f.i64(~SIGN64).op(Op.i64_and);
      else if (kind === 'neg') f.i64(SIGN64).op(Op.i64_xor);
    });
  } else {
    writeScalar(t, d, N, 'int', () => {
      pushVLow32(t, n);
      f.i32(N === 32 ? 0xffffffff : 0xffff).op(Op.i32_and);
      if (kind === 'abs') f.i32(N === 32 ? 0x7fffffff : 0x7fff).op(Op.i32_and);
      else if (kind === 'neg') f.i32(N === 32 ? 0x80000000 | 0 : 0x8000).op(Op.i32_xor);
    });
  }
}

/** VFPExpandImm: the 8-bit FMOV immediate as an N-bit pattern. */
export function vfpExpandImm(N: Width, imm8: number): bigint {
  const E = N === 16 ? 5 : N === 32 ? 8 : 11;
  const F = N - E - 1;
  const b6 = (imm8 >> 6) & 1;
  const exp = ((b6 ^ 1) << (E - 1)) | ((b6 ? (1 << (E - 3)) - 1 : 0) << 2) | ((imm8 >> 4) & 3);
  return (BigInt(imm8 >> 7) << BigInt(N - 1)) | (BigInt(exp) << BigInt(F)) | (BigInt(imm8 & 15) << BigInt(F - 4));
}

const RMODE_ROUNDING = [Rounding.TieEven, Rounding.PosInf, Rounding.NegInf, Rounding.Zero];

const ROWS: Encoding[] = [
  // ---- conversions between FP and integer / general registers
  {
    name: 'FMOV_general', pattern: 'sf:1 0 0 11110 type:2 1 rmode:2 11 op:1 000000 rn:5 rd:5',
    // FMOV Wd,Sn / Sd,Wn (sf=0,type=00), Xd,Dn / Dd,Xn (sf=1,type=01), Xd,Vn.D[1] / Vd.D[1],Xn (sf=1,type=10,rmode=01)
    when: f => (f.rmode === 0 && ((f.sf === 0 && f.type === 0) || (f.sf === 1 && f.type === 1))) || (f.sf === 1 && f.type === 2 && f.rmode === 1),
    translate: (t, f) => {
      const top = f.type === 2 ? 1 : 0;
      if (f.op === 0) { // to general register
        if (f.sf) t.setX(f.rd, () => pushVLane64(t, f.rn, top));
        else t.setW(f.rd, () => pushVLow32(t, f.rn));
      } else if (top) {
        writeVLane64(t, f.rd, 1, () => t.getX(f.rn)); // the other half is kept
      } else if (f.sf) {
        writeScalar(t, f.rd, 64, 'int', () => t.getX(f.rn));
      } else {
        writeScalar(t, f.rd, 32, 'int', () => t.getW(f.rn));
      }
    },
  },
  {
    name: 'FCVT_to_int', pattern: 'sf:1 0 0 11110 type:2 1 rmode:2 00 u:1 000000 rn:5 rd:5',
    when: SD,
    translate: (t, f) => {
      const N = widthOf(f.type)!;
      callFpOp(t, toIntOp(N, RMODE_ROUNDING[f.rmode], f.u === 1, f.sf ? 64 : 32), packRegs(f.rd, f.rn));
    },
  },
  {
    name: 'FCVTA_to_int', pattern: 'sf:1 0 0 11110 type:2 1 00 10 u:1 000000 rn:5 rd:5',
    when: SD,
    translate: (t, f) => callFpOp(t, toIntOp(widthOf(f.type)!, Rounding.TieAway, f.u === 1, f.sf ? 64 : 32), packRegs(f.rd, f.rn)),
  },
  {
    name: 'SCVTF_UCVTF_int', pattern: 'sf:1 0 0 11110 type:2 1 00 01 u:1 000000 rn:5 rd:5',
    when: SD,
    translate: (t, f) => callFpOp(t, fromIntOp(widthOf(f.type)!, f.u === 1, f.sf ? 64 : 32), packRegs(f.rd, f.rn)),
  },
  {
    name: 'FCVTZ_fixed', pattern: 'sf:1 0 0 11110 type:2 0 11 00 u:1 scale:6 rn:5 rd:5',
    when: f => SD(f) && (f.sf === 1 || f.scale >= 32),
    translate: (t, f) => callFpOp(t, toIntOp(widthOf(f.type)!, Rounding.Zero, f.u === 1, f.sf ? 64 : 32), packRegs(f.rd, f.rn, 0, 0, 64 - f.scale)),
  },
  {
    name: 'SCVTF_UCVTF_fixed', pattern: 'sf:1 0 0 11110 type:2 0 00 01 u:1 scale:6 rn:5 rd:5',
    when: f => SD(f) && (f.sf === 1 || f.scale >= 32),
    translate: (t, f) => callFpOp(t, fromIntOp(widthOf(f.type)!, f.u === 1, f.sf ? 64 : 32), packRegs(f.rd, f.rn, 0, 0, 64 - f.scale)),
  },

  // ---- data processing, 1 source
  {
    name: 'FMOV_FABS_FNEG', pattern: '000 11110 type:2 1 0000 op:2 10000 rn:5 rd:5',
    when: f => SD(f) && f.op !== 3,
    translate: (t, f) => emitSignOp(t, widthOf(f.type)!, f.rd, f.rn, (['mov', 'abs', 'neg'] as const)[f.op]),
  },
  {
    name: 'FSQRT', pattern: '000 11110 type:2 1 000011 10000 rn:5 rd:5',
    when: SD,
    translate: (t, f) => {
      const N = widthOf(f.type)!;
      emitFastSqrt(t, N as 32 | 64, f.rd, f.rn, () => callFpOp(t, unaryOp('sqrt', N, N, (a, e) => sf.fpSqrt(N, a, e)), packRegs(f.rd, f.rn)));
    },
  },
  {
    name: 'FCVT_precision', pattern: '000 11110 type:2 1 0001 opc:2 10000 rn:5 rd:5',
    when: f => f.type !== 2 && f.opc !== 2 && f.type !== f.opc,
    translate: (t, f) => {
      const from = widthOf(f.type)!, to = widthOf(f.opc)!;
      callFpOp(t, unaryOp('cvt', from, to, (a, e) => sf.fpConvert(from, to, a, e)), packRegs(f.rd, f.rn));
    },
  },
  {
    name: 'FRINT', pattern: '000 11110 type:2 1 001 rm:3 10000 rn:5 rd:5',
    when: f => SD(f) && f.rm !== 5,
    translate: (t, f) => {
      const N = widthOf(f.type)!;
      const [name, rounding, exact] = ROUND_INT[f.rm];
      callFpOp(t, unaryOp(name, N, N, (a, e) => sf.fpRoundInt(N, a, e, rounding === 'fpcr' ? e.rounding : rounding, exact)), packRegs(f.rd, f.rn));
    },
  },

  // ---- compare
  {
    name: 'FCMP', pattern: '000 11110 type:2 1 rm:5 00 1000 rn:5 e:1 z:1 000',
    when: SD,
    translate: (t, f) => callFpOp(t, compareOp(widthOf(f.type)!, f.e === 1), packRegs(0, f.rn, f.rm, 0, f.z)),
  },
  {
    name: 'FCCMP', pattern: '000 11110 type:2 1 rm:5 cond:4 01 rn:5 e:1 nzcv:4',
    when: SD,
    translate: (t, f) => {
      t.condition(f.cond);
      t.fb.if();
      callFpOp(t, compareOp(widthOf(f.type)!, f.e === 1), packRegs(0, f.rn, f.rm));
      t.fb.else();
      for (const [i, off] of [S.NF, S.ZF, S.CF, S.VF].entries()) t.setFlag(off, () => t.fb.i32((f.nzcv >> (3 - i)) & 1));
      t.fb.end();
    },
  },

  // ---- data processing, 2 source
  {
    name: 'FP_2SRC', pattern: '000 11110 type:2 1 rm:5 opcode:4 10 rn:5 rd:5',
    when: f => SD(f) && f.opcode <= 8,
    translate: (t, f) => {
      const N = widthOf(f.type)!;
      const [name, fn, negate] = BINARY_OPS[f.opcode];
      const slow = () => callFpOp(t, binaryOp(name, N, fn, negate), packRegs(f.rd, f.rn, f.rm));
      if (FAST_BINARY[name]) emitFastBinary(t, name, N as 32 | 64, f.rd, f.rn, f.rm, slow);
      else slow();
    },
  },

  // ---- conditional select
  {
    name: 'FCSEL', pattern: '000 11110 type:2 1 rm:5 cond:4 11 rn:5 rd:5',
    when: SD,
    translate: (t, f) => {
      const N = widthOf(f.type)!;
      writeScalar(t, f.rd, N === 64 ? 64 : 32, 'int', () => {
        const push = N === 64 ? pushVLow64 : pushVLow32;
        push(t, f.rn);
        push(t, f.rm);
        t.condition(f.cond);
        t.fb.op(Op.select);
      });
    },
  },

  // ---- immediate
  {
    name: 'FMOV_imm', pattern: '000 11110 type:2 1 imm8:8 100 00000 rd:5',
    when: SD,
    translate: (t, f) => {
      const N = widthOf(f.type)!;
      const bits = vfpExpandImm(N, f.imm8);
      writeScalar(t, f.rd, N, 'int', () => (N === 64 ? t.fb.i64(bits) : t.fb.i32(Number(bits) | 0)));
    },
  },

  // ---- data processing, 3 source
  {
    name: 'FMADD_family', pattern: '000 11111 type:2 o1:1 rm:5 o0:1 ra:5 rn:5 rd:5',
    when: SD,
    translate: (t, f) => {
      const N = widthOf(f.type)!;
      const negAddend = f.o1 === 1, negProduct = f.o0 !== f.o1;
      const slow = () => callFpOp(t, mulAddOp(N, negAddend, negProduct), packRegs(f.rd, f.rn, f.rm, f.ra));
      emitFastMulAdd(t, N as 32 | 64, negAddend, negProduct, f.rd, f.rn, f.rm, f.ra, slow);
    },
  },
];

export const FP: Encoding[] = ROWS.map(fpRow);

export type { FpOpFn };
