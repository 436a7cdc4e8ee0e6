// Advanced SIMD integer, logic, copy, immediate and permute instructions,
// differential against QEMU (test/support/oracle.ts) with random operands
// and saturation edge lanes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAsm } from './support/machine';
import { expectSameAsQemu, randomCases, randomInit, Rng } from './simd-util';
import { SIMD } from '../src/cpu/a64/simd';
import { CRYPTO } from '../src/cpu/a64/crypto';
import { compilePattern } from '../src/cpu/jit/decode';

const ARR = ['8b', '16b', '4h', '8h', '2s', '4s', '2d'];
const BHS = ['8b', '16b', '4h', '8h', '2s', '4s'];
const HS = ['4h', '8h', '2s', '4s'];
const ESZ: Record<string, number> = { '8b': 0, '16b': 0, '4h': 1, '8h': 1, '2s': 2, '4s': 2, '2d': 3, '1d': 3 };

function three(mnemonic: string, arrangements: string[], regs = 'v0, v1, v2'): string[] {
  const [d, n, m] = regs.split(', ');
  return arrangements.map(a => `${mnemonic} ${d}.${a}, ${n}.${a}, ${m}.${a}`);
}

/** Each form with `count` random cases whose edge lanes match its element size. */
function run(list: string[], count = 4, seed = 1): void {
  const cases = list.flatMap((asm, i) => {
    const arr = /\.(\d+[bhsd])/.exec(asm)?.[1];
    return randomCases(asm, count, seed * 1000 + i, arr ? ESZ[arr] : undefined);
  });
  expectSameAsQemu(cases);
}

test('ADD/SUB/compares (vector) match QEMU', () => {
  run([
    ...three('add', ARR), ...three('sub', ARR), ...three('cmeq', ARR), ...three('cmgt', ARR), ...three('cmge', ARR),
    ...three('cmhi', ARR), ...three('cmhs', ARR), ...three('cmtst', ARR),
    ...three('add', ['16b', '4s'], 'v3, v3, v3'), ...three('sub', ['8h'], 'v1, v2, v1'),
  ]);
});

test('saturating add/sub set FPSR.QC like QEMU', () => {
  run([...three('sqadd', ARR), ...three('uqadd', ARR), ...three('sqsub', ARR), ...three('uqsub', ARR)], 6);
  run(['sqadd b0, b1, b2', 'uqadd h0, h1, h2', 'sqsub s0, s1, s2', 'uqsub d0, d1, d2', 'sqadd d3, d4, d5', 'uqadd b3, b4, b5'], 8, 2);
});

test('halving, min/max, absolute difference, multiply, pairwise match QEMU', () => {
  run([
    ...three('shadd', BHS), ...three('uhadd', BHS), ...three('srhadd', BHS), ...three('urhadd', BHS),
    ...three('shsub', BHS), ...three('uhsub', BHS),
    ...three('smax', BHS), ...three('umax', BHS), ...three('smin', BHS), ...three('umin', BHS),
    ...three('sabd', BHS), ...three('uabd', BHS), ...three('saba', BHS), ...three('uaba', BHS),
    ...three('mul', BHS), ...three('mla', BHS), ...three('mls', BHS), ...three('pmul', ['8b', '16b']),
    ...three('smaxp', BHS), ...three('umaxp', BHS), ...three('sminp', BHS), ...three('uminp', BHS), ...three('addp', ARR),
    ...three('sqdmulh', HS), ...three('sqrdmulh', HS),
    'addp d0, v1.2d', 'sqdmulh h0, h1, h2', 'sqrdmulh s0, s1, s2',
  ], 3, 3);
});

test('shifts by register (plain, rounding, saturating) match QEMU', () => {
  const shifts = ['sshl', 'ushl', 'srshl', 'urshl', 'sqshl', 'uqshl', 'sqrshl', 'uqrshl'];
  // small shift amounts in the low byte of each lane make the interesting cases likely
  run(shifts.flatMap(s => three(s, ARR)), 3, 4);
  run(shifts.map(s => `${s} d0, d1, d2`), 6, 5);
  run(['sqshl b0, b1, b2', 'uqrshl h0, h1, h2', 'sqrshl s0, s1, s2'], 6, 6);
  run(['cmgt d0, d1, d2', 'cmhs d3, d4, d5', 'add d0, d1, d2', 'sub d0, d1, d2', 'cmtst d0, d1, d2', 'cmeq d0, d1, d2'], 3, 7);
});

test('logic, BSL/BIT/BIF, NOT match QEMU', () => {
  run(['and', 'bic', 'orr', 'orn', 'eor', 'bsl', 'bit', 'bif'].flatMap(m => three(m, ['8b', '16b'])), 2, 8);
  run(['mov v0.16b, v1.16b', 'mov v0.8b, v1.8b'], 2, 9);
});

test('DUP, INS, UMOV, SMOV, scalar MOV match QEMU', () => {
  run([
    'dup v0.16b, v1.b[13]', 'dup v0.8b, v1.b[3]', 'dup v0.8h, v1.h[7]', 'dup v0.4h, v1.h[1]', 'dup v0.4s, v1.s[2]', 'dup v0.2s, v1.s[3]', 'dup v0.2d, v1.d[1]',
    'dup v0.16b, w1', 'dup v0.4h, w1', 'dup v0.4s, w1', 'dup v0.2d, x1', 'dup v0.2s, w1',
    'mov v0.b[5], w1', 'mov v0.h[6], w1', 'mov v0.s[1], w1', 'mov v0.d[1], x1',
    'mov v0.b[15], v1.b[0]', 'mov v0.h[2], v1.h[7]', 'mov v0.s[0], v1.s[3]', 'mov v0.d[0], v1.d[1]',
    'umov w0, v1.b[9]', 'umov w0, v1.h[5]', 'umov w0, v1.s[3]', 'umov x0, v1.d[1]',
    'smov w0, v1.b[9]', 'smov x0, v1.b[2]', 'smov w0, v1.h[5]', 'smov x0, v1.h[1]', 'smov x0, v1.s[3]',
    'mov b0, v1.b[7]', 'mov h0, v1.h[3]', 'mov s0, v1.s[2]', 'mov d0, v1.d[1]',
  ], 2, 10);
});

test('MOVI/MVNI/ORR/BIC/FMOV immediates match QEMU', () => {
  run([
    'movi v0.16b, #0xa5', 'movi v0.8b, #0x7f', 'movi v0.4h, #0x12, lsl #8', 'movi v0.8h, #0x34', 'movi v0.2s, #0x56, lsl #24',
    'movi v0.4s, #0x78, msl #8', 'movi v0.4s, #0x78, msl #16', 'movi d0, #0xff00ff0000ff00ff', 'movi v0.2d, #0xffffffff00000000',
    'mvni v0.4h, #0x12, lsl #8', 'mvni v0.4s, #0x9a, lsl #16', 'mvni v0.2s, #0x9a, msl #8',
    'orr v0.4s, #0x12, lsl #8', 'orr v0.4h, #0x80', 'bic v0.8h, #0xff, lsl #8', 'bic v0.2s, #0x3, lsl #24',
    'fmov v0.4s, #1.5', 'fmov v0.2s, #-0.125', 'fmov v0.2d, #31.0',
  ], 2, 11);
});

test('ZIP/UZP/TRN, EXT, TBL/TBX match QEMU', () => {
  run(['zip1', 'zip2', 'uzp1', 'uzp2', 'trn1', 'trn2'].flatMap(m => three(m, ARR)), 2, 12);
  run(['ext v0.16b, v1.16b, v2.16b, #3', 'ext v0.8b, v1.8b, v2.8b, #7', 'ext v0.16b, v1.16b, v2.16b, #15', 'ext v0.16b, v1.16b, v1.16b, #8'], 2, 13);
  // table indices: mostly in range (low values), some out of range
  const idx = (n: number) => `movi v31.16b, #${n}\n`;
  run([
    'tbl v0.16b, {v1.16b}, v2.16b', 'tbl v0.8b, {v1.16b}, v2.8b',
    'tbl v0.16b, {v1.16b, v2.16b}, v3.16b', 'tbl v0.16b, {v30.16b, v31.16b, v0.16b}, v3.16b', 'tbl v0.16b, {v1.16b, v2.16b, v3.16b, v4.16b}, v5.16b',
    'tbx v0.16b, {v1.16b}, v2.16b', 'tbx v0.8b, {v1.16b, v2.16b}, v3.8b', 'tbx v0.16b, {v1.16b, v2.16b, v3.16b, v4.16b}, v5.16b',
  ], 2, 14);
  run([
    `${idx(0x1f)}and v5.16b, v5.16b, v31.16b\ntbl v0.16b, {v1.16b, v2.16b}, v5.16b`,
    `${idx(0x3f)}and v5.16b, v5.16b, v31.16b\ntbl v0.16b, {v1.16b, v2.16b, v3.16b, v4.16b}, v5.16b`,
    `${idx(0x3f)}and v5.16b, v5.16b, v31.16b\ntbx v0.16b, {v1.16b, v2.16b, v3.16b}, v5.16b`,
  ], 4, 15);
});

test('structure loads and stores match QEMU', () => {
  const mem = new Uint8Array(4096).map((_, i) => (i * 37 + 11) & 0xff);
  const forms = [
    'ld1 {v0.16b}, [x28]', 'ld1 {v0.8b}, [x28]', 'ld1 {v0.4s, v1.4s}, [x28]', 'ld1 {v0.2d, v1.2d, v2.2d}, [x28], #48',
    'ld1 {v0.8h, v1.8h, v2.8h, v3.8h}, [x28], #64', 'ld1 {v30.16b, v31.16b, v0.16b}, [x28]',
    'ld2 {v0.16b, v1.16b}, [x28]', 'ld2 {v0.4h, v1.4h}, [x28], #16', 'ld3 {v0.4s, v1.4s, v2.4s}, [x28]', 'ld3 {v0.8b, v1.8b, v2.8b}, [x28]',
    'ld4 {v0.8h, v1.8h, v2.8h, v3.8h}, [x28], #64', 'ld4 {v0.2s, v1.2s, v2.2s, v3.2s}, [x28]', 'ld2 {v0.2d, v1.2d}, [x28]',
    'mov x1, #40\nld1 {v0.16b}, [x28], x1', 'add x2, x28, #7\nld1 {v0.16b, v1.16b}, [x2]',
    'ld1 {v0.b}[9], [x28]', 'ld1 {v0.h}[3], [x28], #2', 'ld1 {v0.s}[3], [x28]', 'ld1 {v0.d}[1], [x28], #8',
    'ld2 {v0.b, v1.b}[15], [x28]', 'ld3 {v0.h, v1.h, v2.h}[5], [x28]', 'ld4 {v0.s, v1.s, v2.s, v3.s}[2], [x28], #16',
    'ld1r {v0.16b}, [x28]', 'ld1r {v0.4h}, [x28], #2', 'ld1r {v0.2d}, [x28]', 'ld2r {v0.4s, v1.4s}, [x28]',
    'ld3r {v0.8b, v1.8b, v2.8b}, [x28], #3', 'ld4r {v0.2d, v1.2d, v2.2d, v3.2d}, [x28]',
    'st1 {v1.16b}, [x28]', 'st1 {v1.8b}, [x28], #8', 'st1 {v1.4s, v2.4s}, [x28]', 'st1 {v1.2d, v2.2d, v3.2d, v4.2d}, [x28], #64',
    'st2 {v1.16b, v2.16b}, [x28]', 'st2 {v1.4h, v2.4h}, [x28]', 'st3 {v1.4s, v2.4s, v3.4s}, [x28], #48', 'st4 {v1.8b, v2.8b, v3.8b, v4.8b}, [x28]',
    'st4 {v1.2d, v2.2d, v3.2d, v4.2d}, [x28]', 'mov x3, #5\nst1 {v1.16b}, [x28], x3',
    'st1 {v1.b}[7], [x28]', 'st1 {v1.d}[1], [x28], #8', 'st2 {v1.h, v2.h}[6], [x28]', 'st3 {v1.s, v2.s, v3.s}[1], [x28], #12', 'st4 {v1.b, v2.b, v3.b, v4.b}[0], [x28]',
    'add x4, x28, #2041\nst1 {v1.16b, v2.16b}, [x4]',
  ];
  const cases = forms.flatMap((asm, i) => randomCases(asm, 2, 16000 + i).map(c => ({ ...c, init: { ...c.init, memory: mem } })));
  expectSameAsQemu(cases);
});

test('unallocated Advanced SIMD / crypto encodings are UNDEFINED, as on QEMU', () => {
  const words = [
    0x0ee08420, // ADD .1d (size=3, Q=0)
    0x4ee00420, // SHADD with 64-bit lanes
    0x4e000420, // DUP (element) with imm5 = 0
    0x0e083c20, // UMOV Wd from a D element
    0x4c401380, // LD1 (multiple) with opcode 0001
    0x0c408f80, // LD2 .1d
    0x0d408b80, // LD1 (single) S with size<1> set
    0x2e004020, // EXT Q=0 with imm4 >= 8
    0x0e20b420, // SQDMULH with byte lanes
    0x2e609c20, // PMUL with 16-bit lanes
    0x0e60d420, // FADD .1d
    0x0f405420, // SHL .1d (immh=1xxx, Q=0)
    0x4e684820, // AESE with size != 0
    0x1ac24c20, // CRC32X with sf=0
    0x5e027020, // SHA three-register opcode 7
  ];
  expectSameAsQemu(words.map(w => ({ asm: `.inst 0x${w.toString(16)}`, name: `0x${w.toString(16)}` })));
});

test('random encodings in the FP/SIMD space behave as on QEMU (UNDEF or same result)', () => {
  const rng = new Rng(77);
  const cases = [];
  for (let i = 0; i < 60; i++) {
    const w = ((Number(rng.next64() & 0xffffffffn) & ~0x0e000000) | 0x0e000000) >>> 0; // op0 = x111
    cases.push({ asm: `.inst 0x${w.toString(16)}`, name: `0x${w.toString(16)}`, init: randomInit(rng) });
  }
  expectSameAsQemu(cases);
});

test('random words matching each SIMD/crypto decode row behave as on QEMU (structured fuzz)', () => {
  const rng = new Rng(2024);
  const rows = [...SIMD, ...CRYPTO].map(compilePattern);
  const memory = new Uint8Array(4096).map((_, i) => (i * 29 + 3) & 255);
  const cases = [];
  for (const row of rows) {
    for (let i = 0; i < 2; i++) {
      const w = ((Number(rng.next64() & 0xffffffffn) & ~row.mask) | row.value) >>> 0;
      const init = randomInit(rng);
      // structure loads/stores: every base register points into the scratch area
      if (row.name.includes('ldst')) Object.assign(init, { x: new Array(31).fill(0x4001_0400n), memory });
      cases.push({ asm: `.inst 0x${w.toString(16)}`, name: row.name, init });
    }
  }
  expectSameAsQemu(cases);
});

test('SIMD and crypto instructions trap (EC 0x07) while CPACR_EL1.FPEN disables FP/SIMD', () => {
  for (const insn of ['add v0.16b, v1.16b, v2.16b', 'ld1 {v0.16b}, [sp]', 'aese v0.16b, v1.16b', 'fadd v0.4s, v1.4s, v2.4s', 'umov w0, v1.s[1]']) {
    const { vcpu, exit } = runAsm(`
      b 1f
      .balign 2048
    vectors:
      .rept 512
      brk #1
      .endr
    1:
      adr x0, vectors
      msr vbar_el1, x0
      isb
      ${insn}
      brk #0`);
    assert.equal(exit.reason, 'debug');
    const esr = vcpu.cpu.reg('ESR_EL1');
    assert.equal(Number(esr >> 26n), 0x07, `${insn}: ESR_EL1=0x${esr.toString(16)}`);
    assert.notEqual(vcpu.pc, vcpu.cpu.reg('ELR_EL1') + 4n, 'the trapped instruction did not complete');
  }
  // CRC32 is a general-register instruction: not subject to the FP/SIMD trap
  const crc = runAsm('crc32x w0, w1, x2\nbrk #0');
  assert.equal(Number(crc.vcpu.cpu.reg('ESR_EL1') >> 26n), 0);
});
