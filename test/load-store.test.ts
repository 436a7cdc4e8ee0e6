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
import { a64Decoder } from '../src/cpu/a64';

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

/** Runs a snippet with the buffer address in x2 and the pattern in the buffer; expects it to end at its BRK. */
function run(source: string, options: Options = {}): RunResult {
  const r = runAsm(`movz x2, #0x4010, lsl #16\n${source}\nbrk #0`, {
    setup: vcpu => {
      fill(vcpu, BUF, pattern(0x10000));
      fill(vcpu, VECTORS, new Uint8Array(new Uint32Array(512).fill(BRK_VECTOR).buffer));
      vcpu.cpu.setReg('VBAR_EL1', BigInt(VECTORS));
      options.setup?.(vcpu);
    },
  });
  assert.equal(r.exit.reason, 'debug', JSON.stringify(r.exit));
  return r;
}

/** Runs a snippet expected to take a synchronous exception to EL1; returns ESR_EL1 and FAR_EL1. */
function runFault(source: string): { r: RunResult; esr: bigint; far: bigint; elr: bigint } {
  const r = run(source);
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
