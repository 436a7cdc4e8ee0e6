// A64 integer data processing (dp-immediate.ts, dp-register.ts): every family
// run on armvirt with expected values from the Arm ARM semantics, plus
// differential runs against qemu-aarch64 when the oracle is available, and
// the unallocated encodings of these groups raising Undefined Instruction.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAsm, CODE_BASE } from './support/machine';
import { compareBatch, formatDivergences, runArmvirtBatch, runOracleBatch, type OracleCase } from './support/oracle';

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

test('add/subtract shifted register and flags', () => {
  const r = run(`
    add x0, x1, x2, lsl #4
    sub w3, w1, w2, lsr #1
    add x4, x1, x2, asr #63
    neg x5, x2
    adds x6, x1, x1
    mov x7, #0
    cmp w1, w2, lsl #31
  `, { 1: 0x8000_0000_0000_0001n, 2: -2n });
  assert.equal(r.x[0], u64(0x8000_0000_0000_0001n - 32n));
  assert.equal(r.x[3], u64(1n - 0x7fff_ffffn) & 0xffff_ffffn);
  assert.equal(r.x[4], 0x8000_0000_0000_0000n);
  assert.equal(r.x[5], 2n);
  assert.equal(r.x[6], 2n);
  // w1 = 1, w2 LSL 31 = 0: 1 - 0, no borrow
  assert.equal(r.nzcv, C);
  const s = run('adds x6, x1, x1', { 1: 0x8000_0000_0000_0001n });
  assert.equal(s.nzcv, C | V, 'two negative operands, positive result: carry and overflow');
});

test('add/subtract extended register, with SP', () => {
  const r = run(`
    add x0, x1, w2, uxtb
    add x3, x1, w2, sxtb #2
    sub x4, x1, w2, sxth
    add x5, x1, w2, uxtw #4
    add x6, x1, x2, sxtx #1
    add w7, w1, w2, sxth #3
    mov x20, sp
    add sp, sp, w8, uxtw
    mov x9, sp
    mov sp, x20
    sub x10, sp, x8, uxtx
    cmp w1, w2, uxtb
  `, { 1: 0x100n, 2: 0xffff_8180n, 8: 0x40n });
  assert.equal(r.x[0], 0x100n + 0x80n);
  assert.equal(r.x[3], u64(0x100n + (-0x80n << 2n)));
  assert.equal(r.x[4], u64(0x100n - 0x8180n + 0x10000n) , 'SXTH of 0x8180 is -0x7e80');
  assert.equal(r.x[5], 0x100n + (0xffff_8180n << 4n));
  assert.equal(r.x[6], u64(0x100n + (0xffff_8180n << 1n)));
  assert.equal(r.x[7], u64(0x100n + (-0x7e80n << 3n)) & 0xffff_ffffn);
  assert.equal(r.x[9], r.x[20] + 0x40n);
  assert.equal(r.x[10], r.x[20] - 0x40n);
  assert.equal(r.nzcv, C, '0x100 - 0x80');
});

test('ADC/ADCS/SBC/SBCS/NGC consume and produce the carry', () => {
  // 128-bit add and subtract from 64-bit halves
  const r = run(`
    adds x0, x1, x3
    adcs x2, x2, x4
    cset x10, cs
    subs x5, x1, x3
    sbcs x6, x2, x4
    cmp x8, #6           // C = 0 (borrow)
    ngc x7, x8
    cmp x8, #0           // C = 1
    ngc w11, w8
    adc w12, w1, w3
  `, { 1: -1n, 2: 1n, 3: 1n, 4: 2n, 8: 5n });
  assert.equal(r.x[0], 0n);
  assert.equal(r.x[2], 4n, '1 + 2 + carry');
  assert.equal(r.x[10], 0n);
  assert.equal(r.x[5], u64(-2n));
  assert.equal(r.x[6], 2n, 'x2 (now 4) - x4 (2) - NOT(C = 1 from subs)');
  assert.equal(r.x[7], u64(-6n), 'NGC with C = 0 is NOT(x)');
  assert.equal(r.x[11], u64(-5n) & 0xffff_ffffn);
  assert.equal(r.x[12], 1n, 'adc w: 0xffffffff + 1 + C(1)');
});

test('logical shifted register: all eight ops, ROR shift, ANDS/BICS flags', () => {
  const a = 0xf0f0_1234_5678_9abcn, b = 0xff00_ff00_00ff_00ffn;
  const r = run(`
    and x0, x1, x2
    bic x3, x1, x2
    orr x4, x1, x2, lsl #4
    orn x5, x1, x2, lsr #8
    eor x6, x1, x2, asr #4
    eon x7, x1, x2, ror #12
    mvn w8, w2
    mov x9, x1
    orr w10, w1, w2, ror #4
    ands x11, x1, x2
    bics x12, x1, x1
  `, { 1: a, 2: b });
  const ror = (v: bigint, n: bigint) => u64((v >> n) | (v << (64n - n)));
  assert.equal(r.x[0], a & b);
  assert.equal(r.x[3], a & ~b & M64);
  assert.equal(r.x[4], a | u64(b << 4n));
  assert.equal(r.x[5], a | u64(~(b >> 8n)));
  assert.equal(r.x[6], a ^ u64(BigInt.asIntN(64, b) >> 4n));
  assert.equal(r.x[7], u64(~(a ^ ror(b, 12n))));
  assert.equal(r.x[8], 0xff00_ff00n);
  assert.equal(r.x[9], a);
  assert.equal(r.x[10], (0x5678_9abcn | 0xf00f_f00fn));
  assert.equal(r.x[11], a & b);
  assert.equal(r.x[12], 0n);
  assert.equal(r.nzcv, Z, 'bics x, x, x: zero, C and V cleared');
  const s = run('adds x0, x1, x1\n ands x0, x1, x1', { 1: 0x8000_0000_0000_0000n });
  assert.equal(s.nzcv, N, 'ANDS clears the C and V set by ADDS');
});

test('conditional compare and select', () => {
  const flags = (src: string, init: Record<number, bigint>) => run(src, init).nzcv;
  const regs = { 1: 1n, 2: 2n, 5: 0xffff_ffffn };
  assert.equal(flags('cmp x1, x2\n ccmp x1, #3, #0, ne', regs), N, 'taken (1 != 2): flags of 1 - 3');
  assert.equal(flags('cmp x1, x1\n ccmp x1, x2, #0b0110, ne', regs), Z | C, 'not taken: NZCV = #0b0110');
  assert.equal(flags('cmp x1, #1\n ccmn w1, w5, #0, eq', regs), Z | C, 'taken: 1 + 0xffffffff in 32 bits');
  assert.equal(flags('cmp x1, #1\n ccmn x1, x5, #0b1001, eq', regs), 0, 'taken: 64-bit 1 + 0xffffffff');
  assert.equal(flags('cmp x1, #0\n ccmp x1, #1, #0b1001, eq', regs), N | V, 'not taken');
  assert.equal(flags('ccmp x1, #1, #0b1001, al', regs), Z | C, 'AL always compares');
  const r = run(`
    cmp x1, #1
    csel x7, x1, x2, eq
    csinc x8, x1, x2, ne
    csinv x9, x1, x2, ne
    csneg x10, x1, x2, ne
    cneg w11, w2, eq
    csetm x12, eq
    csinc x13, x2, x1, al    // AL selects Rn
    cset w14, ne
  `, regs);
  assert.equal(r.x[7], 1n);
  assert.equal(r.x[8], 3n);
  assert.equal(r.x[9], u64(~2n));
  assert.equal(r.x[10], u64(-2n));
  assert.equal(r.x[11], 0xffff_fffen);
  assert.equal(r.x[12], M64);
  assert.equal(r.x[13], 2n);
  assert.equal(r.x[14], 0n);
});

test('data processing 1-source: RBIT, REV16, REV32, REV, CLZ, CLS', () => {
  const v = 0x0123_4567_89ab_cdefn;
  const r = run(`
    rbit x0, x1
    rbit w2, w1
    rev16 x3, x1
    rev16 w4, w1
    rev32 x5, x1
    rev x6, x1
    rev w7, w1
    clz x8, x1
    clz w9, w1
    clz x10, xzr
    cls x11, x1
    cls w12, w1
    cls x13, xzr
    cls x14, x15
    cls w16, w17
  `, { 1: v, 15: -1n, 17: 0x0000_ffffn });
  const rbit = (x: bigint, bits: number) => { let o = 0n; for (let i = 0; i < bits; i++) if ((x >> BigInt(i)) & 1n) o |= 1n << BigInt(bits - 1 - i); return o; };
  assert.equal(r.x[0], rbit(v, 64));
  assert.equal(r.x[2], rbit(v & 0xffff_ffffn, 32));
  assert.equal(r.x[3], 0x2301_6745_ab89_efcdn);
  assert.equal(r.x[4], 0xab89_efcdn);
  assert.equal(r.x[5], 0x6745_2301_efcd_ab89n);
  assert.equal(r.x[6], 0xefcd_ab89_6745_2301n);
  assert.equal(r.x[7], 0xefcd_ab89n);
  assert.equal(r.x[8], 7n);
  assert.equal(r.x[9], 0n);
  assert.equal(r.x[10], 64n);
  assert.equal(r.x[11], 6n);
  assert.equal(r.x[12], 0n);
  assert.equal(r.x[13], 63n);
  assert.equal(r.x[14], 63n);
  assert.equal(r.x[16], 15n);
});

test('data processing 2-source: divides (incl. by zero and INT_MIN / -1) and variable shifts', () => {
  const r = run(`
    udiv x0, x1, x2
    sdiv x3, x1, x2
    udiv x4, x1, xzr
    sdiv x5, x6, x7
    sdiv w8, w9, w7
    udiv w10, w1, w2
    lslv x11, x2, x12
    lsrv w13, w1, w12
    asrv x14, x1, x12
    rorv w15, w2, w12
    sdiv x16, x1, x17
  `, { 1: -100n, 2: 7n, 6: 0x8000_0000_0000_0000n, 7: -1n, 9: 0x8000_0000n, 12: 65n, 17: 0n });
  assert.equal(r.x[0], u64(-100n) / 7n);
  assert.equal(r.x[3], u64(-14n), 'SDIV rounds towards zero');
  assert.equal(r.x[4], 0n, 'divide by zero gives zero');
  assert.equal(r.x[5], 0x8000_0000_0000_0000n, 'INT64_MIN / -1 overflows to INT64_MIN');
  assert.equal(r.x[8], 0x8000_0000n, 'INT32_MIN / -1');
  assert.equal(r.x[10], 0xffff_ff9cn / 7n);
  assert.equal(r.x[11], 14n, 'shift amount taken modulo 64');
  assert.equal(r.x[13], 0xffff_ff9cn >> 1n, 'modulo 32');
  assert.equal(r.x[14], u64(-50n));
  assert.equal(r.x[15], 0x8000_0003n);
  assert.equal(r.x[16], 0n);
});

test('data processing 3-source: MADD/MSUB, long multiplies, SMULH/UMULH', () => {
  const a = 0xfedc_ba98_7654_3210n, b = 0x8765_4321_0fed_cba9n;
  const r = run(`
    madd x0, x1, x2, x3
    msub w4, w1, w2, w3
    mul x5, x1, x2
    smaddl x6, w1, w2, x3
    smsubl x7, w1, w2, x3
    umaddl x8, w1, w2, x3
    umsubl x9, w1, w2, x3
    smulh x10, x1, x2
    umulh x11, x1, x2
    smulh x12, x1, x1
    umulh x13, x13, x13
    smull x14, w15, w15
  `, { 1: a, 2: b, 3: 5n, 13: -1n, 15: 0x8000_0000n });
  const s64 = (v: bigint) => BigInt.asIntN(64, v), s32 = (v: bigint) => BigInt.asIntN(32, v & 0xffff_ffffn);
  const lo = (v: bigint) => v & 0xffff_ffffn;
  assert.equal(r.x[0], u64(5n + a * b));
  assert.equal(r.x[4], BigInt.asUintN(32, 5n - lo(a) * lo(b)));
  assert.equal(r.x[5], u64(a * b));
  assert.equal(r.x[6], u64(5n + s32(a) * s32(b)));
  assert.equal(r.x[7], u64(5n - s32(a) * s32(b)));
  assert.equal(r.x[8], u64(5n + lo(a) * lo(b)));
  assert.equal(r.x[9], u64(5n - lo(a) * lo(b)));
  assert.equal(r.x[10], u64((s64(a) * s64(b)) >> 64n));
  assert.equal(r.x[11], (a * b) >> 64n);
  assert.equal(r.x[12], u64((s64(a) * s64(a)) >> 64n));
  assert.equal(r.x[13], M64 - 1n);
  assert.equal(r.x[14], 1n << 62n);
});

test('unallocated encodings of the data-processing groups raise Undefined Instruction', () => {
  const unallocated: Array<[number, string]> = [
    [0x12400020, 'logical immediate: N=1 with sf=0'],
    [0x9240fc20, 'logical immediate: all-ones element (N=1, imms=111111)'],
    [0x9200fc20, 'logical immediate: no element size (N=0, imms=111111)'],
    [0x32800000, 'move wide opc=01'],
    [0x52c00000, 'MOVZ W with hw=2'],
    [0xf3400000, 'bitfield opc=11'],
    [0x93000000, 'SBFM X with N=0'],
    [0x13200000, 'SBFM W with immr=32'],
    [0x93800000, 'EXTR X with N=0'],
    [0x13808000, 'EXTR W with imms=32'],
    [0x91800000, 'ADDG (MTE, not implemented)'],
    [0x8bc00000, 'add shifted register with shift=ROR'],
    [0x0b008000, 'ADD W shifted by 32'],
    [0x0a008000, 'AND W shifted by 32'],
    [0x8b201400, 'add extended register with shift 5'],
    [0x8b600000, 'add extended register with opt=01'],
    [0xda400000, 'conditional compare with S=0'],
    [0xfa400400, 'conditional compare with o2=1'],
    [0xfa400010, 'conditional compare with o3=1'],
    [0x9a800800, 'conditional select op2=10'],
    [0xba800000, 'conditional select with S=1'],
    [0x5ac00c00, 'REV (64-bit opcode) with sf=0'],
    [0xdac01800, '1-source opcode 000110 (CSSC CTZ, not implemented)'],
    [0x9ac00000, '2-source opcode 000000 (MTE SUBP, not implemented)'],
    [0x9ac01000, '2-source opcode 000100 (MTE IRG, not implemented)'],
    [0xbac00800, '2-source with S=1'],
    [0xbb000000, '3-source op54=01'],
    [0x1b200000, 'SMADDL with sf=0'],
    [0x9b408000, 'SMULH with o0=1'],
    [0x9b600000, '3-source op31=011'],
    [0x9b800000, '3-source op31=100'],
    [0x9bc08000, 'UMULH with o0=1'],
    [0x9be00000, '3-source op31=111'],
  ];
  const vbar = BigInt(CODE_BASE + 0x1000);
  for (const [insn, what] of unallocated) {
    // the vector for a synchronous exception from the current EL on SP_ELx is VBAR + 0x200
    const { vcpu, exit } = runAsm(`
      .inst ${insn}
      brk #0
      .balign 0x1000
      .skip 0x200
      brk #1
    `, { setup: v => v.cpu.setReg('VBAR_EL1', vbar) });
    assert.equal(exit.reason, 'debug', what);
    assert.equal(vcpu.pc, vbar + 0x200n, `${what}: took the synchronous exception vector`);
    assert.equal(vcpu.cpu.reg('ESR_EL1') >> 26n, 0n, `${what}: EC 0 (unknown reason)`);
    assert.equal(vcpu.cpu.reg('ELR_EL1'), BigInt(CODE_BASE), what);
  }
});

// ---- differential tests against qemu-aarch64 ------------------------------------------------

/** Deterministic PRNG (mulberry32), so a failing case can be reproduced. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Boundary values of both widths: 0, 1, -1, INT_MIN/INT_MAX of 32 and 64 bits and their neighbours. */
const EDGE_VALUES: bigint[] = [
  0n, 1n, M64, 2n, 0x7fff_ffffn, 0x8000_0000n, 0xffff_ffffn, 0x1_0000_0000n,
  0x7fff_ffff_ffff_ffffn, 0x8000_0000_0000_0000n, 0x8000_0000_0000_0001n, 0xffff_ffff_8000_0000n,
];

/** The edge values that matter most for carries and overflow, for the larger case lists. */
const CORE_EDGE_VALUES: bigint[] = [
  0n, 1n, M64, 0x7fff_ffffn, 0x8000_0000n, 0xffff_ffffn, 0x7fff_ffff_ffff_ffffn, 0x8000_0000_0000_0000n,
];

/** Operand pairs: every pair of edge values, plus random 64-bit pairs and random small values. */
function operandPairs(seed: number, randomCount: number, edges = EDGE_VALUES): Array<[bigint, bigint]> {
  const rnd = prng(seed);
  const r64 = (): bigint => {
    const v = (BigInt(rnd()) << 32n) | BigInt(rnd());
    // a third of the values are small or sign-extended small, where carries and sign changes cluster
    switch (rnd() % 3) {
      case 0: return v & 0xffn;
      case 1: return u64(BigInt.asIntN(16, v));
      default: return v;
    }
  };
  const pairs: Array<[bigint, bigint]> = [];
  for (const a of edges) for (const b of edges) pairs.push([a, b]);
  for (let i = 0; i < randomCount; i++) pairs.push([r64(), r64()]);
  return pairs;
}

/** Runs the cases under QEMU and armvirt and fails with the readable divergences. */
function assertMatchesQemu(cases: OracleCase[]): void {
  // batches of a few hundred cases keep each assembled image (and QEMU's output) small
  const results = [];
  for (let i = 0; i < cases.length; i += 400) results.push(...compareBatch(cases.slice(i, i + 400), { ignoreFp: true }));
  const bad = results.filter(r => r.diff);
  assert.equal(formatDivergences(bad.slice(0, 10)), '', `${bad.length} of ${cases.length} cases diverge from QEMU`);
}

/**
 * Every flag-setting form, one per case (its NZCV is compared), over all
 * operand pairs; the initial NZCV cycles through all 16 values so the
 * carry-consuming and conditional forms see every input flag state.
 */
const FLAG_SETTING = [
  'adds x3, x1, x2', 'adds w3, w1, w2', 'subs x3, x1, x2', 'subs w3, w1, w2',
  'adds x3, x1, x2, asr #7', 'subs w3, w1, w2, lsl #3', 'cmp x1, x2, lsr #63', 'cmn w1, w2, lsr #31',
  'adds x3, x1, #0xfff', 'subs w3, w1, #1, lsl #12', 'cmp x1, #1', 'cmn w1, #1',
  'subs x3, x1, w2, sxtb #2', 'adds w3, w1, w2, uxth #4', 'cmp x1, x2, uxtx #1', 'cmn w1, w2, sxtw',
  'adcs x3, x1, x2', 'adcs w3, w1, w2', 'sbcs x3, x1, x2', 'sbcs w3, w1, w2', 'ngcs w3, w2',
  'ands x3, x1, x2, ror #13', 'bics w3, w1, w2, asr #3', 'ands w3, w1, #0xff00ff', 'tst x1, #0x8000000000000001',
  'ccmp x1, x2, #5, ge', 'ccmn w1, w2, #10, lo', 'ccmp w1, #17, #3, vs', 'ccmn x1, #31, #0xf, ne', 'ccmp x1, x2, #0, hi',
];

test('differential: flag-setting arithmetic, logical and conditional compare match QEMU', () => {
  const pairs = operandPairs(1, 8, CORE_EDGE_VALUES);
  const cases: OracleCase[] = [];
  for (const insn of FLAG_SETTING) {
    pairs.forEach(([a, b], i) => cases.push({ name: insn, asm: insn, init: { x: [0n, a, b], nzcv: ((i * 7) & 15) << 28 } }));
  }
  assertMatchesQemu(cases);
});

/** Non-flag-setting instructions, all run in one case per operand pair (each writes its own register). */
const NON_FLAG = [
  'add x3, x1, x2, lsl #17', 'sub w4, w1, w2, asr #31', 'add x5, x1, w2, sxth #3', 'sub w6, w1, w2, uxtb',
  'adc x7, x1, x2', 'sbc w8, w1, w2', 'orn x9, x1, x2, ror #41', 'eon w10, w1, w2, lsr #5',
  'bic x11, x1, x2, asr #2', 'madd w12, w1, w2, w1', 'msub x13, x1, x2, x1', 'smulh x14, x1, x2',
  'umulh x15, x1, x2', 'smaddl x16, w1, w2, x1', 'umsubl x17, w1, w2, x2', 'sdiv x18, x1, x2',
  'udiv w19, w1, w2', 'sdiv w20, w1, w2', 'udiv x21, x1, x2', 'lslv w22, w1, w2', 'asrv x23, x1, x2',
  'rorv w24, w1, w2', 'lsrv x25, x1, x2', 'csneg w26, w1, w2, mi', 'csinv x27, x1, x2, le',
  'csinc w29, w1, w2, cc', 'extr x30, x1, x2, #23',
];

const ONE_SOURCE = [
  'rbit x3, x1', 'rbit w4, w1', 'rev16 x5, x1', 'rev16 w6, w1', 'rev32 x7, x1', 'rev x8, x1', 'rev w9, w1',
  'clz x10, x1', 'clz w11, w1', 'cls x12, x1', 'cls w13, w1', 'extr w14, w1, w2, #31', 'ror x15, x1, #1',
  'smull x16, w1, w1', 'umull x17, w2, w2', 'smulh x18, x2, x2', 'umulh x19, x1, x1', 'mneg w20, w1, w2',
  'ngc x21, x2', 'mvn w22, w1', 'cset x23, gt', 'csetm w24, ls', 'movk x25, #0xabcd, lsl #32', 'movk w26, #0x1234, lsl #16',
];

test('differential: shifted/extended/carry/multiply/divide/select and 1-source ops match QEMU', () => {
  const cases: OracleCase[] = [];
  operandPairs(2, 32).forEach(([a, b], i) => {
    const init = { x: [0n, a, b, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, a, b], nzcv: (i & 15) << 28 };
    cases.push({ name: 'register ops', asm: NON_FLAG.join('\n'), init });
    cases.push({ name: '1-source and aliases', asm: ONE_SOURCE.join('\n'), init });
  });
  assertMatchesQemu(cases);
});

test('differential: bitfield, extract and logical immediates with random fields match QEMU', () => {
  const rnd = prng(3);
  const cases: OracleCase[] = [];
  for (const [a, b] of operandPairs(4, 24)) {
    const lines: string[] = [];
    for (let rd = 3; rd <= 27; rd++) {
      const sf = rnd() & 1;
      const bits = sf ? 64 : 32;
      const r = (n: number) => `${sf ? 'x' : 'w'}${n}`;
      const immr = rnd() % bits, imms = rnd() % bits;
      switch (rnd() % 5) {
        case 0: lines.push(`sbfm ${r(rd)}, ${r(1)}, #${immr}, #${imms}`); break;
        case 1: lines.push(`ubfm ${r(rd)}, ${r(1)}, #${immr}, #${imms}`); break;
        case 2: lines.push(`mov ${r(rd)}, ${r(2)}\n bfm ${r(rd)}, ${r(1)}, #${immr}, #${imms}`); break;
        case 3: lines.push(`extr ${r(rd)}, ${r(1)}, ${r(2)}, #${imms}`); break;
        default: {
          // a valid bitmask immediate: a rotated run of ones, replicated over a power-of-two element
          const esize = [2, 4, 8, 16, 32, 64].filter(e => e <= bits)[rnd() % (sf ? 6 : 5)];
          const ones = 1 + (rnd() % (esize - 1));
          const rot = rnd() % esize;
          let elem = (1n << BigInt(ones)) - 1n;
          elem = ((elem >> BigInt(rot)) | (elem << BigInt(esize - rot))) & ((1n << BigInt(esize)) - 1n);
          let imm = 0n;
          for (let i = 0; i < bits; i += esize) imm |= elem << BigInt(i);
          const op = ['and', 'orr', 'eor', 'ands'][rnd() % 4];
          lines.push(`${op} ${r(rd)}, ${r(1)}, #0x${imm.toString(16)}`);
        }
      }
    }
    cases.push({ name: 'bitfield/extract/logical immediate', asm: lines.join('\n'), init: { x: [0n, a, b] } });
  }
  assertMatchesQemu(cases);
});

test('differential: random encodings of the data-processing groups decode like QEMU (incl. unallocated)', () => {
  const rnd = prng(5);
  const values = operandPairs(6, 0).flat();
  const init = { x: Array.from({ length: 31 }, (_, n) => (n === 28 ? undefined : values[(n * 5) % values.length])), nzcv: 0x9000_0000 };
  const cases: OracleCase[] = [];
  while (cases.length < 800) {
    let insn = rnd();
    if (cases.length % 2 === 0) insn = (insn & ~(7 << 26)) | (4 << 26); // data processing (immediate): bits 28:26 = 100
    else insn = (insn & ~(7 << 25)) | (5 << 25); // data processing (register): bits 27:25 = 101
    insn >>>= 0;
    // CRC32* (2-source opcodes 010xxx) belong to crypto.ts, not these tables
    if ((insn & 0x7fe0_e000) === 0x1ac0_4000) continue;
    cases.push({ name: `.inst 0x${insn.toString(16)}`, asm: `.inst 0x${insn.toString(16)}`, init });
  }
  // A fault ends QEMU's process (SIGILL), so the encodings armvirt rejects are
  // confirmed one QEMU run each (a sample of them); the accepted ones run as one batch.
  const armvirt = runArmvirtBatch(cases);
  const accepted = cases.filter((_, i) => !armvirt[i].fault);
  const rejected = cases.filter((_, i) => armvirt[i].fault);
  assert.ok(accepted.length > 300 && rejected.length > 30, `${accepted.length} accepted, ${rejected.length} rejected`);
  assertMatchesQemu(accepted);
  for (const c of rejected.slice(0, 20)) {
    const qemu = runOracleBatch([c])[0];
    assert.ok(qemu.fault, `${c.name}: armvirt raised an exception but QEMU executed it`);
  }
});
