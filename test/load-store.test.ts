// Loads and stores (src/cpu/a64/load-store.ts): every addressing mode,
// sizes, sign extension, writeback, FP/SIMD registers, pairs, exclusives,
// alignment faults, page-crossing accesses and self-modifying code.
// Expected values are derived by hand from the Arm ARM; the CONSTRAINED
// UNPREDICTABLE choices are the ones qemu-aarch64 7.2 makes (observed with
// small static programs, noted next to each test).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAsm, runCode, type RunResult, CODE_BASE } from './support/machine';
import { assemble } from './support/asm';
import type { Vcpu } from '../src/hv/vm';
import { S } from '../src/cpu/state';
import { compareBatch, formatDivergences, type OracleCase } from './support/oracle';

const BUF = 0x4010_0000;
/** Exception vectors: every entry is `brk #0x99`, so an exception exits to the test at the vector. */
const VECTORS = 0x4009_0000;
const BRK_VECTOR = 0xd4200000 | (0x99 << 5);

function ramView(vcpu: Vcpu, pa: number, length: number): Uint8Array {
  const off = vcpu.vm.ramOffset(pa);
  return vcpu.cpu.u8.subarray(off, off + length);
}

function fill(vcpu: Vcpu, pa: number, bytes: ArrayLike<number>): void {
  ramView(vcpu, pa, bytes.length).set(bytes);
}

function read64(r: RunResult, pa: number): bigint {
  return new DataView(r.vcpu.cpu.u8.buffer, r.vm.ramOffset(pa), 8).getBigUint64(0, true);
}

/** V register n as [low 64 bits, high 64 bits]. */
function vreg(r: RunResult, n: number): [bigint, bigint] {
  const dv = new DataView(r.vcpu.cpu.u8.buffer, r.vcpu.cpu.base + S.V + 16 * n, 16);
  return [dv.getBigUint64(0, true), dv.getBigUint64(8, true)];
}

function setV(vcpu: Vcpu, n: number, lo: bigint, hi: bigint): void {
  const dv = new DataView(vcpu.cpu.u8.buffer, vcpu.cpu.base + S.V + 16 * n, 16);
  dv.setBigUint64(0, lo, true);
  dv.setBigUint64(8, hi, true);
}

/** The bytes 0x00, 0x01, ... 0xff repeated: every byte of the buffer names its offset. */
function pattern(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => i & 0xff);
}

interface Options { setup?: (vcpu: Vcpu) => void }

/**
 * Runs a snippet with the buffer address in x2 and the pattern in the buffer,
 * at EL1 with FP/SIMD enabled (CPACR_EL1.FPEN = 3, as Linux sets it).
 * Returns when the snippet's closing BRK or an exception vector is reached.
 */
function runRaw(source: string, options: Options = {}): RunResult {
  const r = runAsm(`movz x2, #0x4010, lsl #16\n${source}\nbrk #0`, {
    setup: vcpu => {
      fill(vcpu, BUF, pattern(0x10000));
      fill(vcpu, VECTORS, new Uint8Array(new Uint32Array(512).fill(BRK_VECTOR).buffer));
      vcpu.cpu.setReg('VBAR_EL1', BigInt(VECTORS));
      vcpu.cpu.setReg('CPACR_EL1', 3n << 20n);
      vcpu.cpu.updateTbFlags();
      options.setup?.(vcpu);
    },
  });
  assert.equal(r.exit.reason, 'debug', JSON.stringify(r.exit));
  return r;
}

/** Runs a snippet that must complete without taking an exception. */
function run(source: string, options: Options = {}): RunResult {
  const r = runRaw(source, options);
  const pc = Number(r.vcpu.pc);
  if (pc >= VECTORS && pc < VECTORS + 0x800) {
    assert.fail(`exception: ESR_EL1=0x${r.vcpu.cpu.reg('ESR_EL1').toString(16)} ELR_EL1=0x${r.vcpu.cpu.reg('ELR_EL1').toString(16)}`);
  }
  return r;
}

/** Runs a snippet expected to take a synchronous exception to EL1; returns ESR_EL1 and FAR_EL1. */
function runFault(source: string): { r: RunResult; esr: bigint; far: bigint; elr: bigint } {
  const r = runRaw(source);
  assert.equal(r.vcpu.pc, BigInt(VECTORS + 0x200), 'took a synchronous exception from the current EL with SP_ELx');
  return { r, esr: r.vcpu.cpu.reg('ESR_EL1'), far: r.vcpu.cpu.reg('FAR_EL1'), elr: r.vcpu.cpu.reg('ELR_EL1') };
}

const ec = (esr: bigint) => Number(esr >> 26n);
const x = (r: RunResult, n: number) => r.vcpu.getReg(n);

// ---- single registers -------------------------------------------------------------

test('LDR/STR unsigned offset: all sizes, zero and sign extension', () => {
  const r = run(`
    ldrb w3, [x2, #0x81]      // 0x81
    ldrh w4, [x2, #0x80]      // 0x8180
    ldr w5, [x2, #0x80]       // 0x83828180
    ldr x6, [x2, #0x80]
    ldrsb w7, [x2, #0x81]     // sign-extended to 32 bits only
    ldrsb x8, [x2, #0x81]
    ldrsh w9, [x2, #0x80]
    ldrsh x10, [x2, #0x80]
    ldrsw x11, [x2, #0x80]
    ldrsb x12, [x2, #0x7f]    // positive: 0x7f
    movn x13, #0              // all ones
    add x17, x2, #0x1000
    str x13, [x17]
    strb wzr, [x17]
    strh wzr, [x17, #2]
    str wzr, [x17, #4]
    ldr x14, [x17]
    str w13, [x17, #8]
    ldr x15, [x17, #8]
    ldr x16, [x2, #32760]     // largest scaled X offset: 0x7ff8
  `);
  assert.equal(x(r, 3), 0x81n);
  assert.equal(x(r, 4), 0x8180n);
  assert.equal(x(r, 5), 0x83828180n);
  assert.equal(x(r, 6), 0x8786858483828180n);
  assert.equal(x(r, 7), 0xffffff81n);
  assert.equal(x(r, 8), 0xffffffffffffff81n);
  assert.equal(x(r, 9), 0xffff8180n);
  assert.equal(x(r, 10), 0xffffffffffff8180n);
  assert.equal(x(r, 11), 0xffffffff83828180n);
  assert.equal(x(r, 12), 0x7fn);
  assert.equal(x(r, 14), 0x00000000_0000ff00n);
  assert.equal(x(r, 15) & 0xffffffffn, 0xffffffffn);
  assert.equal(x(r, 15) >> 32n, 0x0f0e0d0cn, 'STR W writes only 4 bytes');
  assert.equal(x(r, 16), 0xfffefdfcfbfaf9f8n);
});

test('LDUR/STUR unscaled (negative, unaligned), pre- and post-index writeback', () => {
  const r = run(`
    add x3, x2, #0x100
    ldur x4, [x3, #-3]        // bytes 0xfd..0x04
    ldursh x5, [x3, #-1]      // 0x00ff -> positive
    ldursw x6, [x3, #-4]      // 0xfffefdfc
    stur w6, [x3, #1]
    ldur x7, [x3]
    mov x8, x2
    ldr x9, [x8, #16]!        // pre: x8 = BUF+16
    ldrb w10, [x8], #-1       // post: loads BUF+16, x8 = BUF+15
    mov x11, x2
    str x9, [x11, #-8]!       // x11 = BUF-8... stored below the buffer
    mov x12, x2
    strh w9, [x12], #255      // post-index store
    ldr x13, [x2]
    sub x14, x2, #8
    ldr x14, [x14]
  `);
  assert.equal(x(r, 4), 0x04030201_00fffefdn);
  assert.equal(x(r, 5), 0xffn, 'bytes ff 00 form the positive halfword 0x00ff');
  assert.equal(x(r, 6), 0xfffffffffffefdfcn);
  assert.equal(x(r, 7), 0x070605ff_fefdfc00n);
  assert.equal(x(r, 8), BigInt(BUF + 15));
  assert.equal(x(r, 9), 0x17161514_13121110n);
  assert.equal(x(r, 10), 0x10n);
  assert.equal(x(r, 11), BigInt(BUF - 8));
  assert.equal(x(r, 12), BigInt(BUF + 255));
  assert.equal(x(r, 13), 0x07060504_03021110n, 'STRH stored the low half of x9');
  assert.equal(x(r, 14), 0x17161514_13121110n);
});

test('register offset: LSL with and without scaling, UXTW, SXTW (negative), SXTX', () => {
  const r = run(`
    add x3, x2, #0x200
    mov x4, #3
    ldr x5, [x3, x4, lsl #3]      // BUF+0x218
    ldrb w6, [x3, x4]             // BUF+0x203
    movn w7, #0                   // w7 = 0xffffffff, x7 upper half zero
    ldrh w8, [x3, w7, sxtw #1]    // -1 * 2: BUF+0x1fe
    mov w9, #0x10
    ldr w10, [x3, w9, uxtw #2]    // BUF+0x240
    movn x11, #7                  // -8
    ldr x12, [x3, x11, sxtx]      // BUF+0x1f8
    ldrsw x13, [x3, x11, sxtx #2] // BUF+0x1e0
    mov w14, #0xffffff00
    strb w14, [x3, w4, uxtw]      // BUF+0x203 <- 0x00
    ldr w15, [x3]
    ldr x16, [x3, xzr]            // rm = 31 reads as zero
  `);
  assert.equal(x(r, 5), 0x1f1e1d1c_1b1a1918n);
  assert.equal(x(r, 6), 0x03n);
  assert.equal(x(r, 8), 0xfffen);
  assert.equal(x(r, 10), 0x43424140n);
  assert.equal(x(r, 12), 0xfffefdfc_fbfaf9f8n);
  assert.equal(x(r, 13), 0xffffffffe3e2e1e0n);
  assert.equal(x(r, 15), 0x00020100n);
  assert.equal(x(r, 16), 0x07060504_00020100n);
});

test('literal loads: LDR W/X, LDRSW, LDR S/D/Q, PRFM literal decodes as a no-op', () => {
  const r = run(`
    ldr w3, lit
    ldr x4, lit
    ldrsw x5, lit + 4
    ldr s6, lit
    ldr d7, lit
    ldr q8, lit
    prfm pldl1keep, lit
    b 1f
    .balign 16
  lit:
    .quad 0x8877665544332211, 0xfedcba9876543210
  1:
  `, { setup: v => { setV(v, 6, -1n & 0xffffffffffffffffn, 0x1234n); setV(v, 7, 1n, 2n); } });
  assert.equal(x(r, 3), 0x44332211n);
  assert.equal(x(r, 4), 0x8877665544332211n);
  assert.equal(x(r, 5), 0xffffffff88776655n);
  assert.deepEqual(vreg(r, 6), [0x44332211n, 0n], 'S write zeroes the rest of V6');
  assert.deepEqual(vreg(r, 7), [0x8877665544332211n, 0n]);
  assert.deepEqual(vreg(r, 8), [0x8877665544332211n, 0xfedcba9876543210n]);
});

test('LDTR/STTR at EL1 (flat mapping: same data), LDTRSB/LDTRSH/LDTRSW', () => {
  const r = run(`
    ldtr x3, [x2, #-0]
    ldtrsb x4, [x2, #0x80]
    ldtrsh w5, [x2, #0x80]
    ldtrsw x6, [x2, #0x80]
    add x9, x2, #0x300
    sttrb w4, [x9, #1]
    sttrh w4, [x9, #2]
    sttr w4, [x9, #4]
    ldr x7, [x9]
    sttr x3, [x9, #255]
    ldur x8, [x9, #255]
  `);
  assert.equal(x(r, 3), 0x0706050403020100n);
  assert.equal(x(r, 4), 0xffffffffffffff80n);
  assert.equal(x(r, 5), 0xffff8180n);
  assert.equal(x(r, 6), 0xffffffff83828180n);
  assert.equal(x(r, 7), 0xffffff80_ff808000n, 'bytes 00 80 | 80 ff | 80 ff ff ff');
  assert.equal(x(r, 8), 0x0706050403020100n);
});

// ---- pairs ------------------------------------------------------------------------------

test('LDP/STP 32 and 64 bits in offset, pre- and post-index forms; LDPSW; LDNP/STNP', () => {
  const r = run(`
    ldp w3, w4, [x2, #8]
    ldp x5, x6, [x2, #-16 + 32]
    mov x7, x2
    ldp x8, x9, [x7, #32]!        // x7 = BUF+32
    mov x10, x2
    ldpsw x11, x12, [x10], #-8    // x10 = BUF-8
    add x13, x2, #0x400
    stp x8, x9, [x13, #-16]!      // x13 = BUF+0x3f0
    add x14, x2, #0x500
    stp w3, w4, [x14], #8         // x14 = BUF+0x508
    ldr x15, [x2, #0x3f0]
    ldr x16, [x2, #0x3f8]
    ldr x17, [x2, #0x500]
    ldnp x18, x19, [x2, #0x80]
    add x26, x2, #0x600
    stnp w3, w4, [x26, #-8]
    ldnp w20, w21, [x26, #-8]
    ldp x22, x23, [x2, #504]     // largest 64-bit pair offset
    ldp w24, w25, [x2, #-256]    // smallest 32-bit pair offset: bytes below BUF (zero RAM)
  `, { setup: v => fill(v, BUF - 256, new Uint8Array(8).fill(0xee)) });
  assert.equal(x(r, 3), 0x0b0a0908n);
  assert.equal(x(r, 4), 0x0f0e0d0cn);
  assert.equal(x(r, 5), 0x17161514_13121110n);
  assert.equal(x(r, 6), 0x1f1e1d1c_1b1a1918n);
  assert.equal(x(r, 7), BigInt(BUF + 32));
  assert.equal(x(r, 8), 0x27262524_23222120n);
  assert.equal(x(r, 9), 0x2f2e2d2c_2b2a2928n);
  assert.equal(x(r, 10), BigInt(BUF - 8));
  assert.equal(x(r, 11), 0x03020100n, 'LDPSW: positive word');
  assert.equal(x(r, 12), 0x07060504n);
  assert.equal(x(r, 13), BigInt(BUF + 0x3f0));
  assert.equal(x(r, 14), BigInt(BUF + 0x508));
  assert.equal(x(r, 15), x(r, 8));
  assert.equal(x(r, 16), x(r, 9));
  assert.equal(x(r, 17), 0x0f0e0d0c_0b0a0908n);
  assert.equal(x(r, 18), 0x87868584_83828180n);
  assert.equal(x(r, 19), 0x8f8e8d8c_8b8a8988n);
  assert.equal(x(r, 20), 0x0b0a0908n);
  assert.equal(x(r, 21), 0x0f0e0d0cn);
  assert.equal(x(r, 22), 0xfffefdfc_fbfaf9f8n);
  assert.equal(x(r, 23), 0x07060504_03020100n);
  assert.equal(x(r, 24), 0xeeeeeeeen);
  assert.equal(x(r, 25), 0xeeeeeeeen);
});

test('LDPSW sign-extends both words', () => {
  const r = run('ldpsw x3, x4, [x2, #0x80]');
  assert.equal(x(r, 3), 0xffffffff83828180n);
  assert.equal(x(r, 4), 0xffffffff87868584n);
});

test('CONSTRAINED UNPREDICTABLE writeback and register overlap behave as QEMU', () => {
  // qemu-aarch64 7.2: writeback wins over a loaded rn == rt; stores store the original base;
  // LDP rt == rt2 keeps rt's value; LDXP rt == rt2 keeps rt2's; STXR rs == rt stores the original rt.
  const r = run(`
    mov x0, x2
    .inst 0xf8408400              // ldr x0, [x0], #8
    mov x1, x2
    .inst 0xf8408c21              // ldr x1, [x1, #8]!
    add x3, x2, #0x700
    .inst 0xf8008463              // str x3, [x3], #8
    add x4, x2, #0x800
    .inst 0xa8c11084              // ldp x4, x4, [x4], #16
    .inst 0xa9401445              // ldp x5, x5, [x2]
    add x6, x2, #0x10
    .inst 0xc87f1cc7              // ldxp x7, x7, [x6]
    ldxr x9, [x6]
    mov x8, #0x1234
    .inst 0xc8087cc8              // stxr w8, x8, [x6]
    add x10, x2, #0x20
    ldxr x9, [x10]
    mov x11, #0x5678
    .inst 0xc80a7d4b              // stxr w10, x11, [x10]
  `);
  assert.equal(x(r, 0), BigInt(BUF + 8));
  assert.equal(x(r, 1), BigInt(BUF + 8));
  assert.equal(x(r, 3), BigInt(BUF + 0x708));
  assert.equal(read64(r, BUF + 0x700), BigInt(BUF + 0x700), 'stored the original base');
  assert.equal(x(r, 4), BigInt(BUF + 0x810), 'writeback wins');
  assert.equal(x(r, 5), 0x0706050403020100n, 'LDP x5, x5: the first register value');
  assert.equal(x(r, 7), 0x1f1e1d1c_1b1a1918n, 'LDXP x7, x7: the second register value');
  assert.equal(x(r, 8), 0n, 'STXR w8, x8: succeeded');
  assert.equal(read64(r, BUF + 0x10), 0x1234n, '... and stored the original x8');
  assert.equal(x(r, 10), 0n, 'STXR w10, x11, [x10]: succeeded');
  assert.equal(read64(r, BUF + 0x20), 0x5678n);
});

// ---- FP/SIMD registers --------------------------------------------------------------------

const ONES: [bigint, bigint] = [0xffffffffffffffffn, 0xffffffffffffffffn];

test('LDR/STR B/H/S/D/Q in every addressing mode; loads clear the upper bits of the V register', () => {
  const r = run(`
    ldr b0, [x2, #0x81]
    ldr h1, [x2, #0x82]
    ldr s2, [x2, #0x84]
    ldr d3, [x2, #0x88]
    ldr q4, [x2, #0x90]
    ldur q5, [x2, #-0]
    add x9, x2, #0x100
    ldr d6, [x9, #-8]!             // x9 = BUF+0xf8
    ldr s7, [x9], #4               // x9 = BUF+0xfc
    mov x10, #2
    ldr q8, [x2, x10, lsl #4]      // BUF+0x20
    ldr h9, [x2, w10, uxtw]        // BUF+2
    add x11, x2, #0x400
    str q4, [x11]
    str d3, [x11, #16]
    str s2, [x11, #-4]!            // x11 = BUF+0x3fc
    str h1, [x11], #-2             // x11 = BUF+0x3fa
    str b0, [x11, x10]             // BUF+0x3fc
    add x12, x2, #0x500
    stur q8, [x12, #1]             // unaligned Q
    ldr q10, [x2, #0x500]
    ldr q11, [x2, #0x3f0]
    ldr q12, [x2, #0x400]
    ldr q13, [x2, #0x410]
  `, { setup: v => { for (let n = 0; n < 14; n++) setV(v, n, ...ONES); } });
  assert.deepEqual(vreg(r, 0), [0x81n, 0n]);
  assert.deepEqual(vreg(r, 1), [0x8382n, 0n]);
  assert.deepEqual(vreg(r, 2), [0x87868584n, 0n]);
  assert.deepEqual(vreg(r, 3), [0x8f8e8d8c8b8a8988n, 0n]);
  assert.deepEqual(vreg(r, 4), [0x9796959493929190n, 0x9f9e9d9c9b9a9998n]);
  assert.deepEqual(vreg(r, 5), [0x0706050403020100n, 0x0f0e0d0c0b0a0908n]);
  assert.deepEqual(vreg(r, 6), [0xfffefdfcfbfaf9f8n, 0n]);
  assert.deepEqual(vreg(r, 7), [0xfbfaf9f8n, 0n]);
  assert.equal(x(r, 9), BigInt(BUF + 0xfc));
  assert.deepEqual(vreg(r, 8), [0x2726252423222120n, 0x2f2e2d2c2b2a2928n]);
  assert.deepEqual(vreg(r, 9), [0x0302n, 0n]);
  assert.equal(x(r, 11), BigInt(BUF + 0x3fa));
  // BUF+0x3fc..0x3ff: S2 wrote 84 85 86 87, then H1 82 83 over the first two, then B0 81 over the first
  assert.deepEqual(vreg(r, 11), [0xf7f6f5f4f3f2f1f0n, 0x87868381_fbfaf9f8n]);
  assert.deepEqual(vreg(r, 12), vreg(r, 4));
  assert.deepEqual(vreg(r, 13), [0x8f8e8d8c8b8a8988n, 0x1f1e1d1c1b1a1918n]);
  assert.deepEqual(vreg(r, 10), [0x2625242322212000n, 0x2e2d2c2b2a292827n]);
});

// ---- differential tests against qemu-aarch64 (test/support/oracle.ts) ------------------------

/** Scratch memory with mixed high/low bytes, so zero/sign extension differences show. */
function oracleMemory(): Uint8Array {
  return Uint8Array.from({ length: 4096 }, (_, i) => (i * 0x9d + 0x35) & 0xff);
}

/** x28 = scratch base; x1..x4: register offsets (small positive, negative, 32-bit negative, big). */
const ORACLE_REGS: bigint[] = [];
ORACLE_REGS[1] = 0x18n; ORACLE_REGS[2] = -0x28n & ((1n << 64n) - 1n); ORACLE_REGS[3] = 0xfffffff0n; ORACLE_REGS[4] = 0x1234_0000_0000_0040n;
ORACLE_REGS[20] = 0x0123456789abcdefn; ORACLE_REGS[21] = 0xfedcba9876543210n;

function oracleCases(asms: string[]): OracleCase[] {
  const init = { x: ORACLE_REGS, memory: oracleMemory(), v: Array.from({ length: 32 }, (_, n) => (0x1111_2222_3333_4444_5555_6666_7777_8888n * BigInt(n + 1)) & ((1n << 128n) - 1n)) };
  return asms.map(asm => ({ name: asm.replace(/\n/g, '; '), asm, init }));
}

/** Compares with QEMU and checks that the cases really ran (a fault on both sides would count as agreement). */
function assertAgreesWithQemu(asms: string[], mayFault: (asm: string) => boolean = () => false): void {
  const results = compareBatch(oracleCases(asms));
  assert.equal(formatDivergences(results), '');
  const faulted = results.filter(r => r.qemu.fault && !mayFault(r.asm)).map(r => `${r.asm}: ${r.qemu.fault}`);
  assert.deepEqual(faulted, []);
}

/** Every addressing mode for one single-register transfer `op reg` of `size` bytes. */
function singleForms(op: string, reg: string, size: number, unprivileged?: string): string[] {
  const scaled = size === 1 ? '' : `, lsl #${Math.log2(size)}`;
  const forms = [
    `${op} ${reg}, [x28, #${size * 37}]`,
    `${op} ${reg}, [x28]`,
    `add x5, x28, #0x800\n${op.replace('ldr', 'ldur').replace('str', 'stur')} ${reg}, [x5, #-255]`,
    `add x5, x28, #0x100\n${op} ${reg}, [x5, #-17]!`,
    `add x5, x28, #0x100\n${op} ${reg}, [x5], #255`,
    `add x5, x28, #0x800\n${op} ${reg}, [x5, x1${scaled}]`,
    `add x5, x28, #0x800\n${op} ${reg}, [x5, x2]`,
    `add x5, x28, #0x800\n${op} ${reg}, [x5, w3, sxtw${size === 1 ? '' : ` #${Math.log2(size)}`}]`,
    `add x5, x28, #0x800\n${op} ${reg}, [x5, w1, uxtw]`,
    `add x5, x28, #0x800\n${op} ${reg}, [x5, x2, sxtx${size === 1 ? ' #0' : ''}]`,
    `mov x5, sp\n${op} ${reg}, [sp, #-${size * 4}]!\nmov x6, sp\nsub x5, x5, x6`,
    `${op} ${reg}, [x28, #${4096 - 3 * size}]\nadd x28, x28, #1\n${op.replace('ldr', 'ldur').replace('str', 'stur')} ${reg}, [x28, #7]`,
  ];
  if (unprivileged) forms.push(`${unprivileged} ${reg}, [x28, #-0]`, `add x5, x28, #0x200\n${unprivileged} ${reg}, [x5, #-255]`);
  return forms;
}

test('differential: single general-register loads and stores in every addressing mode agree with QEMU', () => {
  const asms = [
    ...singleForms('strb', 'w20', 1, 'sttrb'), ...singleForms('strh', 'w20', 2, 'sttrh'),
    ...singleForms('str', 'w20', 4, 'sttr'), ...singleForms('str', 'x21', 8, 'sttr'),
    ...singleForms('ldrb', 'w6', 1, 'ldtrb'), ...singleForms('ldrh', 'w6', 2, 'ldtrh'),
    ...singleForms('ldr', 'w6', 4, 'ldtr'), ...singleForms('ldr', 'x6', 8, 'ldtr'),
    ...singleForms('ldrsb', 'w6', 1, 'ldtrsb'), ...singleForms('ldrsb', 'x6', 1, 'ldtrsb'),
    ...singleForms('ldrsh', 'w6', 2, 'ldtrsh'), ...singleForms('ldrsh', 'x6', 2, 'ldtrsh'),
    ...singleForms('ldrsw', 'x6', 4, 'ldtrsw'),
    ...singleForms('prfm', 'pldl1keep', 8), // PRFM/PRFUM: no effect, except the writeback forms, which do not exist
  ].filter(a => !/prfm pldl1keep, \[x5, #-17\]!|prfm pldl1keep, \[x5\], #255|prfm pldl1keep, \[sp, #-32\]!/.test(a));
  assertAgreesWithQemu(asms);
});

test('differential: FP/SIMD register loads and stores (B/H/S/D/Q) agree with QEMU', () => {
  const asms: string[] = [];
  for (const [reg, size] of [['b', 1], ['h', 2], ['s', 4], ['d', 8], ['q', 16]] as const) {
    asms.push(...singleForms('ldr', `${reg}7`, size), ...singleForms('str', `${reg}9`, size));
  }
  asms.push('ldr s3, 1f\nb 2f\n1: .word 0x89abcdef\n2:', 'ldr d3, 1f\nb 2f\n.balign 8\n1: .quad 0x0123456789abcdef\n2:', 'ldr q3, 1f\nb 2f\n.balign 16\n1: .quad 1, 2\n2:');
  assertAgreesWithQemu(asms);
});

test('differential: pairs (LDP/STP/LDPSW/LDNP/STNP, W/X/S/D/Q) in offset, pre- and post-index forms agree with QEMU', () => {
  const asms: string[] = [];
  for (const [a, b, size] of [['w20', 'w21', 4], ['x20', 'x21', 8], ['s9', 's10', 4], ['d9', 'd10', 8], ['q9', 'q10', 16]] as const) {
    const la = a.replace('20', '6').replace('9', '7'), lb = b.replace('21', '7').replace('10', '8');
    asms.push(
      `stp ${a}, ${b}, [x28, #${size * 3}]`, `add x5, x28, #0x400\nstp ${a}, ${b}, [x5, #-${size * 64}]!`, `stp ${a}, ${b}, [x28], #${size * 63}`,
      `ldp ${la}, ${lb}, [x28, #${size * 5}]`, `add x5, x28, #0x400\nldp ${la}, ${lb}, [x5, #-${size * 8}]!`, `ldp ${la}, ${lb}, [x28], #${size * 2}`,
      `stnp ${a}, ${b}, [x28, #${size * 7}]`, `add x5, x28, #0x803\nldnp ${la}, ${lb}, [x5, #-${size * 2}]`,
      `stp ${a}, ${b}, [sp, #-${size * 2}]!\nldp ${la}, ${lb}, [sp], #${size * 2}`,
      `add x5, x28, #0x803\nldp ${la}, ${lb}, [x5]\nstp ${a}, ${b}, [x5, #${size}]`, // unaligned
    );
  }
  asms.push('ldpsw x6, x7, [x28, #8]', 'add x5, x28, #0x100\nldpsw x6, x7, [x5, #-8]!', 'ldpsw x6, x7, [x28], #252', 'ldpsw x6, x7, [x28, #12]');
  assertAgreesWithQemu(asms);
});

test('differential: exclusives and acquire/release agree with QEMU', () => {
  const asms: string[] = [];
  for (const [sfx, r, size] of [['b', 'w', 1], ['h', 'w', 2], ['', 'w', 4], ['', 'x', 8]] as const) {
    const off = size * 9;
    asms.push(
      `add x5, x28, #${off}\nldxr${sfx} ${r}6, [x5]\nstxr${sfx} w7, ${r}20, [x5]`,
      `add x5, x28, #${off}\nldaxr${sfx} ${r}6, [x5]\nstlxr${sfx} w7, ${r}21, [x5]`,
      `add x5, x28, #${off}\nstxr${sfx} w7, ${r}20, [x5]`, // no monitor: fails
      `add x5, x28, #${off}\nldxr${sfx} ${r}6, [x5]\nclrex\nstxr${sfx} w7, ${r}20, [x5]`,
      `add x5, x28, #${off}\nldxr${sfx} ${r}6, [x5]\nstxr${sfx} w7, ${r}20, [x5]\nstxr${sfx} w8, ${r}21, [x5]`, // a second STXR fails
      `add x5, x28, #${off}\nldar${sfx} ${r}6, [x5]\nstlr${sfx} ${r}20, [x5, #0]\nldar${sfx} ${r}8, [x5]`,
    );
  }
  asms.push(
    'ldxp x6, x7, [x28, #0]\nstxp w8, x20, x21, [x28]', 'add x5, x28, #48\nldaxp x6, x7, [x5]\nstlxp w8, x21, x20, [x5]',
    'add x5, x28, #40\nldxp w6, w7, [x5]\nstxp w8, w20, w21, [x5]', 'add x5, x28, #40\nldaxp w6, w7, [x5]\nclrex\nstlxp w8, w20, w21, [x5]',
    'stxp w8, x20, x21, [x28]',
    // exclusive loop, as Linux's atomics without LSE
    'add x5, x28, #64\n1: ldxr x6, [x5]\nadd x6, x6, #3\nstxr w7, x6, [x5]\ncbnz w7, 1b',
    // the monitor is per address: a different address fails
    'add x5, x28, #64\nldxr x6, [x5]\nstxr w7, x20, [x28]',
  );
  assertAgreesWithQemu(asms);
});

test('differential: CONSTRAINED UNPREDICTABLE overlaps behave as QEMU', () => {
  assertAgreesWithQemu([
    'mov x0, x28\n.inst 0xf8408400', // ldr x0, [x0], #8
    'mov x0, x28\n.inst 0xf8408c00', // ldr x0, [x0, #8]!
    'mov x0, x28\n.inst 0xf8008400', // str x0, [x0], #8
    'mov x0, x28\n.inst 0xa8c10400', // ldp x0, x1, [x0], #16
    'mov x0, x28\n.inst 0xa9400401', // ldp x1, x1, [x0]
    'mov x0, x28\n.inst 0xa9c10401', // ldp x1, x1, [x0, #16]!
    'mov x0, x28\n.inst 0xa9810400', // stp x0, x1, [x0, #16]!
    'mov x0, x28\n.inst 0xc87f0401', // ldxp x1, x1, [x0]
    'mov x0, x28\n.inst 0x887f0401', // ldxp w1, w1, [x0]
    'mov x0, x28\nldxr x2, [x0]\n.inst 0xc8007c02', // stxr w0, x2, [x0]
    'mov x0, x28\nldxr x2, [x0]\n.inst 0xc8027c02', // stxr w2, x2, [x0]
    'mov x0, x28\n.inst 0xc8c0fc01', // ldar with rs != 31 (SBO field ignored)
    'mov x0, x28\n.inst 0xc85f6001', // ldxr with rt2 != 31
    'mov x0, x28\n.inst 0x3cc10c01', // ldr q1, [x0, #16]! (size 00 opc 11 is the Q form)
  ]);
});

test('differential: encodings unallocated in ARMv8.0 are UNDEFINED on both sides', () => {
  const asms = [
    '.inst 0xf8600b81', // ldr register offset, option 000
    '.inst 0xf8a00b80', // prfm register offset, option 000
    '.inst 0xf8800b81', // the PRFM slot of LDTR
    '.inst 0xf8c00781', // the PRFM slot of post-index
    '.inst 0xe9400781', // ldp opc=11
    '.inst 0x69000781', // stgp (MTE)
    '.inst 0x68400781', // ldnp opc=01 (no LDNPSW)
    '.inst 0xb8c00381', // ldursw opc=11
    '.inst 0xf8c00381', // ldur size 11 opc 11
    '.inst 0xc8df7f81', // ldlar (LOR)
    '.inst 0xc8a07f81', // cas (LSE)
    '.inst 0x08207f80', // casp (LSE)
    '.inst 0xf8200381', // ldadd (LSE)
    '.inst 0x7cc00381', // ldur with size 01 opc 11 (FP): unallocated
    '.inst 0x3c800b81', // FP unprivileged: unallocated
    '.inst 0xdc000001', // ldr literal FP opc=11: unallocated
    '.inst 0xed400781', // ldp FP opc=11
  ];
  const results = compareBatch(oracleCases(asms));
  assert.equal(formatDivergences(results), '');
  assert.deepEqual(results.filter(r => !r.armvirt.fault?.includes('EC=0x0 ')).map(r => `${r.asm}: ${r.armvirt.fault}`), []);
});

// ---- page crossing, exclusives, faults ------------------------------------------------------------

test('unaligned accesses crossing a 4 KiB page boundary (slow path) load and store every byte', () => {
  const r = run(`
    add x3, x2, #0x1000
    ldur x4, [x3, #-3]            // bytes 0xffd..0x1004
    ldur q5, [x3, #-7]            // bytes 0xff9..0x1008
    sub x18, x3, #12
    ldp x6, x7, [x18]             // first element in the lower page, the second crosses
    ldursh x8, [x3, #-1]
    add x17, x2, #0x2000
    ldur x9, [x17, #-2]
    sub x10, x3, #5
    str x9, [x10]                 // crosses into the next page
    ldur x11, [x3, #-5]
    add x12, x2, #0x3000
    stp x4, x9, [x12, #-8]        // second element in the next page
    ldur q13, [x12, #-8]
    stur q5, [x12, #-9]           // 16-byte store across the boundary
    ldur x15, [x12, #-9]
    ldur x16, [x12, #-1]
  `);
  assert.equal(x(r, 4), 0x04030201_00fffefdn);
  assert.deepEqual(vreg(r, 5), [0x00fffefd_fcfbfaf9n, 0x08070605_04030201n]);
  assert.equal(x(r, 6), 0xfbfaf9f8_f7f6f5f4n);
  assert.equal(x(r, 7), 0x03020100_fffefdfcn);
  assert.equal(x(r, 8), 0xffn, 'bytes ff 00: the positive halfword 0x00ff');
  assert.equal(x(r, 9), 0x05040302_0100fffen);
  assert.equal(x(r, 11), x(r, 9));
  assert.deepEqual(vreg(r, 13), [x(r, 4), x(r, 9)]);
  assert.equal(x(r, 15), vreg(r, 5)[0]);
  assert.equal(x(r, 16), vreg(r, 5)[1]);
});

test('exclusive monitor: LDXR/STXR succeed, STXR without LDXR fails, CLREX and a different address fail, STXR clears the monitor', () => {
  const r = run(`
    add x3, x2, #0x40
    mov x9, #0x1111
    ldxr x4, [x3]
    stxr w5, x9, [x3]             // 0: stored
    stxr w6, x9, [x3, #0]         // 1: the first STXR cleared the monitor
    stxr w7, xzr, [x2]            // 1: never armed for x2
    ldxr w8, [x3]
    clrex
    stxr w10, wzr, [x3]           // 1: cleared
    ldxrb w11, [x3]
    add x12, x3, #8
    stxrb w13, w9, [x12]          // 1: different address
    ldaxrh w14, [x3, #0]
    stlxrh w15, w11, [x3]         // 0
    ldxr w16, [x2]
    str w9, [x2]                  // this CPU changes the monitored data: the STXR sees a different value
    stxr w17, w9, [x2]            // 1
    ldxr x18, [x2]
    stlxr w19, x18, [x2]          // 0: same value
  `);
  assert.equal(x(r, 4), 0x47464544_43424140n);
  assert.equal(x(r, 5), 0n);
  assert.equal(x(r, 6), 1n);
  assert.equal(x(r, 7), 1n);
  assert.equal(x(r, 8), 0x1111n);
  assert.equal(x(r, 10), 1n);
  assert.equal(x(r, 13), 1n);
  assert.equal(x(r, 14), 0x1111n);
  assert.equal(x(r, 15), 0n);
  assert.equal(read64(r, BUF + 0x40), 0x11n, 'STLXRH stored the byte LDXRB loaded (0x11), zero-extended to a halfword');
  assert.equal(x(r, 17), 1n);
  assert.equal(x(r, 19), 0n);
  assert.equal(read64(r, BUF), 0x07060504_00001111n);
});

test('exclusive pairs: LDXP/STXP 64 and 32 bits', () => {
  const r = run(`
    add x3, x2, #0x80
    ldxp x4, x5, [x3]
    mov x6, #1
    mov x7, #2
    stxp w8, x6, x7, [x3]         // 0
    ldaxp w9, w10, [x3, #0]
    stlxp w11, w10, w9, [x3]      // 0: swaps the words
    stxp w12, w10, w9, [x3]       // 1
  `);
  assert.equal(x(r, 4), 0x87868584_83828180n);
  assert.equal(x(r, 5), 0x8f8e8d8c_8b8a8988n);
  assert.equal(x(r, 8), 0n);
  assert.equal(x(r, 9), 1n);
  assert.equal(x(r, 10), 0n);
  assert.equal(x(r, 11), 0n);
  assert.equal(x(r, 12), 1n);
  assert.equal(read64(r, BUF + 0x80), 0x00000001_00000000n);
  assert.equal(read64(r, BUF + 0x88), 2n);
});

const DATA_ABORT_SAME = 0x25;
const ALIGNMENT_FAULT = 0x21;

test('unaligned exclusives and acquire/release raise an Alignment fault (DFSC 0x21), even when the page is in the soft-TLB', () => {
  const cases: Array<[string, boolean]> = [
    ['ldxr x4, [x3]', false], ['ldaxrh w4, [x3]', false], ['ldar w4, [x3]', false], ['stlr x4, [x3]', true],
    ['stxr w5, x4, [x3]', true], ['ldxp x4, x5, [x9]', false], ['stxp w6, w4, w5, [x3]', true],
  ];
  for (const [insn, isWrite] of cases) {
    const { r, esr, far, elr } = runFault(`
      add x3, x2, #0x101
      add x9, x2, #0x108          // 8-aligned but not 16: unaligned for a 64-bit pair
      ldr x4, [x2]                // fills the soft-TLB for the page
      str x4, [x2]
    1:
      ${insn}
    `);
    assert.equal(ec(esr), DATA_ABORT_SAME, insn);
    assert.equal(Number(esr & 0x3fn), ALIGNMENT_FAULT, insn);
    assert.equal((esr >> 6n) & 1n, isWrite ? 1n : 0n, `${insn}: WnR`);
    assert.equal(far, BigInt(insn.includes('x9') ? BUF + 0x108 : BUF + 0x101), insn);
    assert.equal(elr, BigInt(CODE_BASE + 20), `${insn}: ELR is the faulting instruction`);
  }
  // aligned: no fault, also when repeated through the fast path
  const r = run('add x3, x2, #0x100\nmov x6, #3\n1: ldaxr x4, [x3]\nstlxr w5, x4, [x3]\nsubs x6, x6, #1\nb.ne 1b');
  assert.equal(x(r, 5), 0n);
});

test('data-abort syndrome at EL2: ISV with SAS/SSE/SRT/SF/AR for single registers; no ISV for writeback, pairs, FP, exclusives', () => {
  // cpu.ts reports the instruction syndrome only for aborts taken to EL2 (QEMU's rule; it is
  // IMPLEMENTATION DEFINED in ESR_EL1), so these run at EL2 with vectors at VBAR_EL2.
  const far = 1n << 60n; // beyond the physical address size: Address size fault
  const syndrome = (insn: string) => {
    const r = runAsm(`movz x3, #0x1000, lsl #48\n${insn}\nbrk #0`, {
      el2: true,
      setup: vcpu => {
        fill(vcpu, VECTORS, new Uint8Array(new Uint32Array(512).fill(BRK_VECTOR).buffer));
        vcpu.cpu.setReg('VBAR_EL2', BigInt(VECTORS));
      },
    });
    assert.equal(r.vcpu.pc, BigInt(VECTORS + 0x200), `${insn}: exception taken to EL2`);
    const esr = r.vcpu.cpu.reg('ESR_EL2');
    assert.equal(ec(esr), DATA_ABORT_SAME, insn);
    assert.equal(r.vcpu.cpu.reg('FAR_EL2'), far, insn);
    assert.equal(x(r, 3), far, `${insn}: no writeback when the access faults`);
    const v = Number(esr & 0x1ffffffn);
    return (v & (1 << 24)) === 0 ? { isv: false, wnr: (v >> 6) & 1 }
      : { isv: true, sas: (v >> 22) & 3, sse: (v >> 21) & 1, srt: (v >> 16) & 31, sf: (v >> 15) & 1, ar: (v >> 14) & 1, wnr: (v >> 6) & 1 };
  };
  assert.deepEqual(syndrome('ldrsh w7, [x3]'), { isv: true, sas: 1, sse: 1, srt: 7, sf: 0, ar: 0, wnr: 0 });
  assert.deepEqual(syndrome('ldrsw x12, [x3]'), { isv: true, sas: 2, sse: 1, srt: 12, sf: 1, ar: 0, wnr: 0 });
  assert.deepEqual(syndrome('ldr w15, [x3]'), { isv: true, sas: 2, sse: 0, srt: 15, sf: 0, ar: 0, wnr: 0 });
  assert.deepEqual(syndrome('str x9, [x3, xzr, lsl #3]'), { isv: true, sas: 3, sse: 0, srt: 9, sf: 1, ar: 0, wnr: 1 });
  assert.deepEqual(syndrome('ldarb w13, [x3]'), { isv: true, sas: 0, sse: 0, srt: 13, sf: 0, ar: 1, wnr: 0 });
  assert.deepEqual(syndrome('stlr x13, [x3]'), { isv: true, sas: 3, sse: 0, srt: 13, sf: 1, ar: 1, wnr: 1 });
  assert.deepEqual(syndrome('ldtrh w14, [x3]'), { isv: true, sas: 1, sse: 0, srt: 14, sf: 0, ar: 0, wnr: 0 });
  assert.deepEqual(syndrome('ldr x4, [x3], #8'), { isv: false, wnr: 0 });
  assert.deepEqual(syndrome('str x4, [x3, #0]!'), { isv: false, wnr: 1 });
  assert.deepEqual(syndrome('ldp x4, x5, [x3]'), { isv: false, wnr: 0 });
  assert.deepEqual(syndrome('ldr d4, [x3]'), { isv: false, wnr: 0 });
  assert.deepEqual(syndrome('ldxr x4, [x3]'), { isv: false, wnr: 0 });
  assert.deepEqual(syndrome('stxr w5, x4, [x3]'), { isv: false, wnr: 1 });
});

test('data abort at EL1: fault address, WnR, no writeback', () => {
  const { r, esr, far } = runFault('movz x3, #0x1000, lsl #48\nstr x4, [x3], #16');
  assert.equal(ec(esr), DATA_ABORT_SAME);
  assert.equal((esr >> 6n) & 1n, 1n);
  assert.equal(far, 1n << 60n);
  assert.equal(x(r, 3), 1n << 60n);
});

test('a fault on the second element of LDP leaves both destinations and the base unchanged', () => {
  // the pair straddles the top of RAM (16 MiB at 0x40000000): the second element is outside RAM -> MMIO exit
  const top = 0x4000_0000 + (16 << 20);
  const r = runAsm(`movz x3, #0x${(top >>> 16).toString(16)}, lsl #16\nsub x3, x3, #8\nmov x4, #7\nmov x5, #9\nldp x4, x5, [x3], #16\nbrk #0`);
  assert.equal(r.exit.reason, "mmio", r.exit.reason);
  assert.equal(x(r, 4), 7n);
  assert.equal(x(r, 5), 9n);
  assert.equal(x(r, 3), BigInt(top - 8));
});

test('FP/SIMD loads and stores trap with EC 0x07 when CPACR_EL1.FPEN disables FP (the checkFpAccess hook)', () => {
  for (const insn of ['ldr q0, [x2]', 'str d1, [x2, #8]!', 'ldp s0, s1, [x2]', 'ldr d0, 1f\n1:', 'stur b3, [x2, #-1]', 'ldr h0, [x2, x2]']) {
    const r = runAsm(`movz x2, #0x4010, lsl #16\n${insn}\nbrk #0`, {
      setup: vcpu => {
        fill(vcpu, VECTORS, new Uint8Array(new Uint32Array(512).fill(BRK_VECTOR).buffer));
        vcpu.cpu.setReg('VBAR_EL1', BigInt(VECTORS)); // CPACR_EL1 resets to FPEN = 0: FP traps at EL1
      },
    });
    assert.equal(r.exit.reason, 'debug');
    assert.equal(r.vcpu.pc, BigInt(VECTORS + 0x200), insn);
    assert.equal(ec(r.vcpu.cpu.reg('ESR_EL1')), 0x07, insn);
    assert.equal(r.vcpu.cpu.reg('ELR_EL1'), BigInt(CODE_BASE + 4), insn);
    assert.equal(x(r, 2), BigInt(BUF), `${insn}: no writeback`);
  }
});

// ---- self-modifying code ---------------------------------------------------------------------------

test('self-modifying code: a store over an instruction that already ran takes effect when it runs again', () => {
  // The loop body runs twice; after the first pass the code overwrites `add x5, x5, #1` with
  // `add x5, x5, #16` (the store reaches the slow path, which drops the translations of the page).
  const addSixteen = new DataView(assemble('add x5, x5, #16').buffer).getUint32(0, true);
  const r = run(`
    adr x3, 2f
    mov x5, #0
    mov x6, #0
  1:
  2:
    add x5, x5, #1
    add x6, x6, #1
    cmp x6, #2
    b.eq 3f
    ldr w4, 4f
    str w4, [x3]
    isb
    b 1b
  4:
    .word ${addSixteen}
  3:
  `);
  assert.equal(x(r, 6), 2n);
  assert.equal(x(r, 5), 17n);
});

test('self-modifying code: an instruction later in the same block is replaced before it runs', () => {
  const movz = (imm: number) => new DataView(assemble(`movz x7, #${imm}`).buffer).getUint32(0, true);
  // Straight-line: the store targets an instruction two slots ahead in the block being executed.
  // Architecturally the new instruction needs IC IVAU + ISB to be guaranteed; with the ISB the
  // old translation must not be used.
  const r = run(`
    adr x3, 1f
    ldr w4, 2f
    str w4, [x3]
    isb
  1:
    movz x7, #1
    b 3f
  2:
    .word ${movz(42)}
  3:
  `);
  assert.equal(x(r, 7), 42n);
});

test('self-modifying code: a code page written through every store form (pairs, FP, exclusives) is invalidated', () => {
  const insn = (src: string) => new DataView(assemble(src).buffer).getUint32(0, true);
  // Stores of up to 16 bytes land on `1:`; every word they write holds the new instruction
  // (w4 replicated), and the words after the patch site are NOPs (32 bytes in all).
  const stores = [
    'stp w4, w4, [x3]', 'str q0, [x3]', 'stur x4, [x3]', 'sttr w4, [x3]', 'str w4, [x3, xzr]', 'stnp s0, s0, [x3]',
    '9: ldxr w8, [x3]\nstxr w9, w4, [x3]\ncbnz w9, 9b', '9: ldxp x8, x9, [x3]\nstxp w9, x4, x4, [x3]\ncbnz w9, 9b',
    'stlr w4, [x3]', 'str s0, [x3]', 'stp q0, q0, [x3]',
  ];
  for (const store of stores) {
    const r = run(`
      adr x3, 1f
      ldr w4, 2f
      orr x4, x4, x4, lsl #32
      dup v0.4s, w4
      mov x10, #0
      .balign 16
    0:
    1:
      movz x7, #1
      b 5f
      nop; nop; nop; nop; nop; nop
    5:
      cbnz x10, 3f
      mov x10, #1
      ${store}
      isb
      b 0b
    2:
      .word ${insn('movz x7, #42')}
    3:
    `);
    assert.equal(x(r, 7), 42n, store);
  }
});

test('self-modifying code: a conditional branch after the store does not chain into the stale translation', () => {
  const insn = new DataView(assemble('movz x7, #42').buffer).getUint32(0, true);
  const r = run(`
    adr x3, 1f
    ldr w4, 2f
    mov x10, #0
  0:
  1:
    movz x7, #1
    cbnz x10, 3f
    mov x10, #1
    str w4, [x3]
    cbnz x10, 1b                  // taken: a block of the same region that starts mid-block
    b 3f
  2:
    .word ${insn}
  3:
  `);
  assert.equal(x(r, 7), 42n);
});

test('MMIO: loads exit to the VMM and are replayed with the extension of the instruction; stores carry their data', () => {
  const { vcpu, exit } = runAsm(`
    movz x3, #0x0900, lsl #16
    ldrsh x4, [x3, #2]
    ldrb w5, [x3], #1
    movz x6, #0xbeef
    movk x6, #0xdead, lsl #16
    strh w6, [x3, #-1]!
    brk #0
  `);
  assert.deepEqual(exit, { reason: 'mmio', pa: 0x0900_0002, size: 2, isWrite: false, data: 0n });
  vcpu.completeMmio(0x8001);
  const e2 = vcpu.run();
  assert.deepEqual(e2, { reason: 'mmio', pa: 0x0900_0000, size: 1, isWrite: false, data: 0n });
  assert.equal(vcpu.getReg(4), 0xffffffffffff8001n);
  vcpu.completeMmio(0x1ff); // only the low byte is the device's answer
  const e3 = vcpu.run();
  assert.equal(vcpu.getReg(5), 0xffn);
  assert.equal(vcpu.getReg(3), 0x0900_0001n, 'post-index writeback after the replayed load');
  assert.deepEqual(e3, { reason: 'mmio', pa: 0x0900_0000, size: 2, isWrite: true, data: 0xbeefn });
  vcpu.completeMmio();
  assert.equal(vcpu.run().reason, 'debug');
  assert.equal(vcpu.getReg(3), 0x0900_0000n);
});
