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
