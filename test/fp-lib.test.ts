// The Arm FP semantics library (src/cpu/fp/softfloat.ts) against QEMU
// (-cpu cortex-a57), which implements the same pseudocode: every operation
// over a grid of special and ordinary operands, in every rounding mode and
// with FZ / DN, comparing result bits and FPSR. Plus a few hand-checked values.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runOracleBatch, type OracleCase } from './support/oracle';
import * as sf from '../src/cpu/fp/softfloat';
import { FpEnv, type Width } from '../src/cpu/fp/softfloat';

import { specials, FPCRS } from './fp-cases';

const reg = (N: Width) => (N === 32 ? 's' : 'd');

interface LibCase { asm: string; N: Width; fpcr: number; ops: bigint[]; lib: () => { bits: bigint; flags: number } }

function run(cases: LibCase[]): string[] {
  const oracle: OracleCase[] = cases.map(c => ({ asm: c.asm, init: { fpcr: c.fpcr, v: [0n, ...c.ops] } }));
  const results = runOracleBatch(oracle);
  const failures: string[] = [];
  cases.forEach((c, i) => {
    const q = results[i];
    assert.equal(q.fault, undefined, `${c.asm}: ${q.fault}`);
    const mask = (1n << BigInt(c.N)) - 1n;
    const expected = q.v[0] & mask;
    const { bits, flags } = c.lib();
    if (bits !== expected || flags !== (q.fpsr & 0x9f)) {
      failures.push(`${c.asm.trim()} fpcr=${c.fpcr.toString(16)} ops=${c.ops.map(o => o.toString(16)).join(',')}: qemu=${expected.toString(16)}/${q.fpsr.toString(16)} lib=${bits.toString(16)}/${flags.toString(16)}`);
    }
  });
  return failures;
}

function lib(fpcr: number, fn: (env: FpEnv) => bigint): () => { bits: bigint; flags: number } {
  return () => { const env = new FpEnv(fpcr); const bits = fn(env); return { bits, flags: env.flags }; };
}

const BINARY: Array<[string, (N: Width, a: bigint, b: bigint, e: FpEnv) => bigint]> = [
  ['fadd', sf.fpAdd], ['fsub', sf.fpSub], ['fmul', sf.fpMul], ['fdiv', sf.fpDiv],
  ['fmax', sf.fpMax], ['fmin', sf.fpMin], ['fmaxnm', sf.fpMaxNum], ['fminnm', sf.fpMinNum],
  ['fmulx', sf.fpMulX], ['frecps', sf.fpRecipStepFused], ['frsqrts', sf.fpRSqrtStepFused],
];

for (const N of [32, 64] as Width[]) {
  test(`binary operations (${N}-bit) match QEMU over specials x rounding modes x FZ/DN`, () => {
    const ops = specials(N);
    const r = reg(N);
    const cases: LibCase[] = [];
    for (const [name, fn] of BINARY) {
      for (const fpcr of FPCRS) {
        for (let i = 0; i < ops.length; i++) {
          for (let j = 0; j < ops.length; j += (fpcr === 0 ? 1 : 3)) {
            const a = ops[i], b = ops[(j + i) % ops.length];
            cases.push({ asm: `${name} ${r}0, ${r}1, ${r}2`, N, fpcr, ops: [a, b], lib: lib(fpcr, e => fn(N, a, b, e)) });
          }
        }
      }
    }
    assert.deepEqual(run(cases).slice(0, 20), []);
  });

  test(`fused multiply-add family (${N}-bit) matches QEMU`, () => {
    const ops = specials(N);
    const r = reg(N);
    const cases: LibCase[] = [];
    const forms: Array<[string, (a: bigint, n: bigint, m: bigint, e: FpEnv) => bigint]> = [
      ['fmadd', (a, n, m, e) => sf.fpMulAdd(N, a, n, m, e)],
      ['fmsub', (a, n, m, e) => sf.fpMulAdd(N, a, sf.fpNeg(N, n), m, e)],
      ['fnmadd', (a, n, m, e) => sf.fpMulAdd(N, sf.fpNeg(N, a), sf.fpNeg(N, n), m, e)],
      ['fnmsub', (a, n, m, e) => sf.fpMulAdd(N, sf.fpNeg(N, a), n, m, e)],
    ];
    let k = 0;
    for (const [name, fn] of forms) {
      for (const fpcr of FPCRS) {
        for (let i = 0; i < 300; i++) {
          k = (k * 1103515245 + 12345) >>> 0;
          const n = ops[k % ops.length], m = ops[(k >>> 8) % ops.length], a = ops[(k >>> 16) % ops.length];
          cases.push({ asm: `${name} ${r}0, ${r}1, ${r}2, ${r}3`, N, fpcr, ops: [n, m, a], lib: lib(fpcr, e => fn(a, n, m, e)) });
        }
      }
    }
    assert.deepEqual(run(cases).slice(0, 20), []);
  });

  test(`unary operations (${N}-bit) match QEMU`, () => {
    const ops = specials(N);
    const r = reg(N);
    const cases: LibCase[] = [];
    const unary: Array<[string, (a: bigint, e: FpEnv) => bigint]> = [
      ['fsqrt', (a, e) => sf.fpSqrt(N, a, e)],
      ['frintn', (a, e) => sf.fpRoundInt(N, a, e, sf.Rounding.TieEven, false)],
      ['frintp', (a, e) => sf.fpRoundInt(N, a, e, sf.Rounding.PosInf, false)],
      ['frintm', (a, e) => sf.fpRoundInt(N, a, e, sf.Rounding.NegInf, false)],
      ['frintz', (a, e) => sf.fpRoundInt(N, a, e, sf.Rounding.Zero, false)],
      ['frinta', (a, e) => sf.fpRoundInt(N, a, e, sf.Rounding.TieAway, false)],
      ['frintx', (a, e) => sf.fpRoundInt(N, a, e, e.rounding, true)],
      ['frinti', (a, e) => sf.fpRoundInt(N, a, e, e.rounding, false)],
      ['frecpe', (a, e) => sf.fpRecipEstimate(N, a, e)],
      ['frsqrte', (a, e) => sf.fpRSqrtEstimate(N, a, e)],
      ['frecpx', (a, e) => sf.fpRecpX(N, a, e)],
      ['fcvt h0,', (a, e) => sf.fpConvert(N, 16, a, e)],
      [N === 32 ? 'fcvt d0,' : 'fcvt s0,', (a, e) => sf.fpConvert(N, N === 32 ? 64 : 32, a, e)],
    ];
    for (const [name, fn] of unary) {
      for (const fpcr of [...FPCRS, sf.FPCR_AHP]) {
        for (const a of ops) {
          const asm = name.endsWith(',') ? `${name} ${r}1` : `${name} ${r}0, ${r}1`;
          const outN: Width = name === 'fcvt h0,' ? 16 : name.startsWith('fcvt') ? (N === 32 ? 64 : 32) : N;
          cases.push({ asm, N: outN, fpcr, ops: [a], lib: lib(fpcr, e => fn(a, e)) });
        }
      }
    }
    assert.deepEqual(run(cases).slice(0, 20), []);
  });
}
