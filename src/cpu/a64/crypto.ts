// Optional ARMv8.0 extensions: AES, SHA1, SHA256, PMULL/PMULL2 on 64-bit
// elements, and CRC32/CRC32C. They are advertised in ID_AA64ISAR0_EL1 by
// cpu/features.ts. The operations run in TypeScript (through the `fpOp`
// helper) on the 32-bit words of the V registers in wasm memory: they are
// long bit-twiddling sequences where a call costs little compared with the
// work, and the Arm ARM pseudocode maps onto them line by line.

import type { Encoding } from '../jit/decode';
import type { Cpu } from '../cpu';
import { callSimdHelper, registerSimdHelper, vAddr, withFpCheck } from './simd-common';

/** Packs register numbers for a helper call. */
const regs = (d: number, n: number, m = 0) => d | (n << 5) | (m << 10);

/** Reads the four 32-bit words of Vn. */
function readWords(cpu: Cpu, n: number): number[] {
  const i = vAddr(cpu, n) >> 2;
  return [cpu.u32[i], cpu.u32[i + 1], cpu.u32[i + 2], cpu.u32[i + 3]];
}

function writeWords(cpu: Cpu, d: number, w: number[]): void {
  const i = vAddr(cpu, d) >> 2;
  for (let k = 0; k < 4; k++) cpu.u32[i + k] = (w[k] ?? 0) >>> 0;
}

// ---- AES ------------------------------------------------------------------------

/** GF(2^8) multiplication modulo x^8 + x^4 + x^3 + x + 1. */
function gmul(a: number, b: number): number {
  let p = 0;
  for (let i = 0; i < 8; i++) {
    if (b & 1) p ^= a;
    const hi = a & 0x80;
    a = (a << 1) & 0xff;
    if (hi) a ^= 0x1b;
    b >>= 1;
  }
  return p;
}

/** The AES S-box (FIPS-197 5.1.1): multiplicative inverse followed by the affine transform. */
const SBOX = new Uint8Array(256);
const INV_SBOX = new Uint8Array(256);
{
  for (let x = 0; x < 256; x++) {
    let inv = 0;
    if (x) for (let y = 1; y < 256; y++) if (gmul(x, y) === 1) { inv = y; break; }
    let s = inv;
    for (let k = 1; k <= 4; k++) s ^= ((inv << k) | (inv >> (8 - k))) & 0xff;
    s ^= 0x63;
    SBOX[x] = s;
    INV_SBOX[s] = x;
  }
}

/** GF(2^8) products by the MixColumns coefficients, tabulated once (the helpers run per instruction). */
const MUL: Record<number, Uint8Array> = {};
for (const k of [1, 2, 3, 9, 11, 13, 14]) MUL[k] = Uint8Array.from({ length: 256 }, (_, x) => gmul(x, k));

const state = new Uint8Array(16);
const shifted = new Uint8Array(16);

/**
 * State byte i is row i%4, column i/4 (the Arm ARM's column-major view of
 * the 128-bit value). ShiftRows moves row r left by r columns.
 */
function shiftRowsInto(s: Uint8Array, out: Uint8Array, inverse: boolean): void {
  for (let c = 0; c < 4; c++) {
    for (let r = 0; r < 4; r++) {
      const from = inverse ? (c - r + 4) % 4 : (c + r) % 4;
      out[r + 4 * c] = s[r + 4 * from];
    }
  }
}

const FORWARD_MIX = [2, 3, 1, 1];
const INVERSE_MIX = [14, 11, 13, 9];

/** MixColumns / InvMixColumns: each column times the circulant matrix of the coefficients. */
function mixColumnsInto(s: Uint8Array, out: Uint8Array, inverse: boolean): void {
  const k = inverse ? INVERSE_MIX : FORWARD_MIX;
  for (let c = 0; c < 4; c++) {
    for (let r = 0; r < 4; r++) {
      let v = 0;
      for (let j = 0; j < 4; j++) v ^= MUL[k[(j - r + 4) % 4]][s[j + 4 * c]];
      out[r + 4 * c] = v;
    }
  }
}

function aesRound(decrypt: boolean): (cpu: Cpu, args: number) => number {
  const box = decrypt ? INV_SBOX : SBOX;
  return (cpu, args) => {
    const d = vAddr(cpu, args & 31), n = vAddr(cpu, (args >> 5) & 31);
    const m = cpu.u8;
    for (let i = 0; i < 16; i++) state[i] = m[d + i] ^ m[n + i];
    shiftRowsInto(state, shifted, decrypt);
    for (let i = 0; i < 16; i++) m[d + i] = box[shifted[i]];
    return 0;
  };
}

function aesMix(inverse: boolean): (cpu: Cpu, args: number) => number {
  return (cpu, args) => {
    const d = vAddr(cpu, args & 31), n = vAddr(cpu, (args >> 5) & 31);
    state.set(cpu.u8.subarray(n, n + 16));
    mixColumnsInto(state, shifted, inverse);
    cpu.u8.set(shifted, d);
    return 0;
  };
}

const AESE = registerSimdHelper(aesRound(false));
const AESD = registerSimdHelper(aesRound(true));
const AESMC = registerSimdHelper(aesMix(false));
const AESIMC = registerSimdHelper(aesMix(true));

// ---- SHA1 / SHA256 ----------------------------------------------------------------

const rol = (x: number, n: number) => ((x << n) | (x >>> (32 - n))) >>> 0;
const ror = (x: number, n: number) => ((x >>> n) | (x << (32 - n))) >>> 0;
const choose = (x: number, y: number, z: number) => (((y ^ z) & x) ^ z) >>> 0;
const parity = (x: number, y: number, z: number) => (x ^ y ^ z) >>> 0;
const majority = (x: number, y: number, z: number) => ((x & y) | ((x | y) & z)) >>> 0;

/** SHA1C/SHA1P/SHA1M: four rounds on hash abcd (Vd), e (Sn) and schedule words (Vm). */
function sha1Rounds(f: (x: number, y: number, z: number) => number): (cpu: Cpu, args: number) => number {
  return (cpu, args) => {
    const d = args & 31, n = (args >> 5) & 31, m = (args >> 10) & 31;
    const x = readWords(cpu, d);
    let y = readWords(cpu, n)[0];
    const w = readWords(cpu, m);
    for (let e = 0; e < 4; e++) {
      const t = f(x[1], x[2], x[3]);
      y = (y + rol(x[0], 5) + t + w[e]) >>> 0;
      x[1] = rol(x[1], 30);
      // <Y, X> = ROL(Y:X, 32)
      const top = x[3];
      x[3] = x[2]; x[2] = x[1]; x[1] = x[0]; x[0] = y;
      y = top;
    }
    writeWords(cpu, d, x);
    return 0;
  };
}

const SHA1C = registerSimdHelper(sha1Rounds(choose));
const SHA1P = registerSimdHelper(sha1Rounds(parity));
const SHA1M = registerSimdHelper(sha1Rounds(majority));

const SHA1SU0 = registerSimdHelper((cpu, args) => {
  const d = args & 31, n = (args >> 5) & 31, m = (args >> 10) & 31;
  const op1 = readWords(cpu, d), op2 = readWords(cpu, n), op3 = readWords(cpu, m);
  const r = [op1[2], op1[3], op2[0], op2[1]];
  writeWords(cpu, d, r.map((v, i) => v ^ op1[i] ^ op3[i]));
  return 0;
});

const SHA1SU1 = registerSimdHelper((cpu, args) => {
  const d = args & 31, n = (args >> 5) & 31;
  const op1 = readWords(cpu, d), op2 = readWords(cpu, n);
  const t = [op1[0] ^ op2[1], op1[1] ^ op2[2], op1[2] ^ op2[3], op1[3]];
  writeWords(cpu, d, [rol(t[0], 1), rol(t[1], 1), rol(t[2], 1), (rol(t[3], 1) ^ rol(t[0], 2)) >>> 0]);
  return 0;
});

const SHA1H = registerSimdHelper((cpu, args) => {
  const d = args & 31, n = (args >> 5) & 31;
  writeWords(cpu, d, [rol(readWords(cpu, n)[0], 30), 0, 0, 0]);
  return 0;
});

const sigmaBig0 = (x: number) => (ror(x, 2) ^ ror(x, 13) ^ ror(x, 22)) >>> 0;
const sigmaBig1 = (x: number) => (ror(x, 6) ^ ror(x, 11) ^ ror(x, 25)) >>> 0;

/** SHA256hash() of the Arm ARM: four rounds; part1 returns the new abcd, else efgh. */
function sha256Hash(x: number[], y: number[], w: number[], part1: boolean): number[] {
  for (let e = 0; e < 4; e++) {
    const chs = choose(y[0], y[1], y[2]);
    const maj = majority(x[0], x[1], x[2]);
    const t1 = (y[3] + sigmaBig1(y[0]) + chs + w[e]) >>> 0;
    x[3] = (t1 + x[3]) >>> 0;
    y[3] = (t1 + sigmaBig0(x[0]) + maj) >>> 0;
    // <Y, X> = ROL(Y:X, 32)
    const xTop = x[3], yTop = y[3];
    x[3] = x[2]; x[2] = x[1]; x[1] = x[0]; x[0] = yTop;
    y[3] = y[2]; y[2] = y[1]; y[1] = y[0]; y[0] = xTop;
  }
  return part1 ? x : y;
}

const SHA256H = registerSimdHelper((cpu, args) => {
  const d = args & 31, n = (args >> 5) & 31, m = (args >> 10) & 31;
  writeWords(cpu, d, sha256Hash(readWords(cpu, d), readWords(cpu, n), readWords(cpu, m), true));
  return 0;
});

const SHA256H2 = registerSimdHelper((cpu, args) => {
  const d = args & 31, n = (args >> 5) & 31, m = (args >> 10) & 31;
  writeWords(cpu, d, sha256Hash(readWords(cpu, n), readWords(cpu, d), readWords(cpu, m), false));
  return 0;
});

const sigmaSmall0 = (x: number) => (ror(x, 7) ^ ror(x, 18) ^ (x >>> 3)) >>> 0;
const sigmaSmall1 = (x: number) => (ror(x, 17) ^ ror(x, 19) ^ (x >>> 10)) >>> 0;

const SHA256SU0 = registerSimdHelper((cpu, args) => {
  const d = args & 31, n = (args >> 5) & 31;
  const op1 = readWords(cpu, d), op2 = readWords(cpu, n);
  const t = [op1[1], op1[2], op1[3], op2[0]];
  writeWords(cpu, d, t.map((v, e) => (sigmaSmall0(v) + op1[e]) >>> 0));
  return 0;
});

const SHA256SU1 = registerSimdHelper((cpu, args) => {
  const d = args & 31, n = (args >> 5) & 31, m = (args >> 10) & 31;
  const op1 = readWords(cpu, d), op2 = readWords(cpu, n), op3 = readWords(cpu, m);
  const t0 = [op2[1], op2[2], op2[3], op3[0]];
  const r = [0, 0, 0, 0];
  r[0] = (sigmaSmall1(op3[2]) + op1[0] + t0[0]) >>> 0;
  r[1] = (sigmaSmall1(op3[3]) + op1[1] + t0[1]) >>> 0;
  r[2] = (sigmaSmall1(r[0]) + op1[2] + t0[2]) >>> 0;
  r[3] = (sigmaSmall1(r[1]) + op1[3] + t0[3]) >>> 0;
  writeWords(cpu, d, r);
  return 0;
});

// ---- PMULL (64 x 64 -> 128 carry-less) ------------------------------------------------

/** Carry-less product of two 64-bit values given as 32-bit halves; returns four 32-bit words. */
export function clmul64(aLo: number, aHi: number, bLo: number, bHi: number): number[] {
  const r = [0, 0, 0, 0];
  for (let i = 0; i < 64; i++) {
    const bit = i < 32 ? (bLo >>> i) & 1 : (bHi >>> (i - 32)) & 1;
    if (!bit) continue;
    // r ^= a << i, with a spread over words
    const w = i >> 5, s = i & 31;
    r[w] ^= aLo << s;
    r[w + 1] ^= s ? (aLo >>> (32 - s)) | (aHi << s) : aHi;
    if (s) r[w + 2] ^= aHi >>> (32 - s);
  }
  return r.map(v => v >>> 0);
}

const PMULL64 = registerSimdHelper((cpu, args) => {
  const d = args & 31, n = (args >> 5) & 31, m = (args >> 10) & 31, upper = (args >> 15) & 1;
  const a = readWords(cpu, n), b = readWords(cpu, m);
  const k = upper * 2;
  writeWords(cpu, d, clmul64(a[k], a[k + 1], b[k], b[k + 1]));
  return 0;
});

// ---- CRC32 / CRC32C -----------------------------------------------------------------

function crcTable(reflectedPoly: number): Uint32Array {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ reflectedPoly : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
}

/** Bit-reflected tables of the CRC-32 (0x04C11DB7) and CRC-32C (0x1EDC6F41) polynomials. */
const CRC32_TABLE = crcTable(0xedb88320);
const CRC32C_TABLE = crcTable(0x82f63b78);

/** Wd = CRC of Wn (the accumulator, no inversion) over the low 1<<sz bytes of Rm, least significant first. */
function crcOp(table: Uint32Array): (cpu: Cpu, args: number) => number {
  return (cpu, args) => {
    const d = args & 31, n = (args >> 5) & 31, m = (args >> 10) & 31, sz = (args >> 15) & 3;
    let crc = cpu.xLo(n);
    const lo = cpu.xLo(m), hi = cpu.xHi(m);
    const bytes = 1 << sz;
    for (let i = 0; i < bytes; i++) {
      const b = i < 4 ? (lo >>> (8 * i)) & 0xff : (hi >>> (8 * (i - 4))) & 0xff;
      crc = table[(crc ^ b) & 0xff] ^ (crc >>> 8);
    }
    cpu.setXPair(d, crc >>> 0, 0);
    return 0;
  };
}

const CRC32 = registerSimdHelper(crcOp(CRC32_TABLE));
const CRC32C = registerSimdHelper(crcOp(CRC32C_TABLE));

// ---- decode table ---------------------------------------------------------------------

const AES_OPS = [AESE, AESD, AESMC, AESIMC];
const SHA3_OPS = [SHA1C, SHA1P, SHA1M, SHA1SU0, SHA256H, SHA256H2, SHA256SU1];
const SHA2_OPS = [SHA1H, SHA1SU1, SHA256SU0];

// AES/SHA/PMULL use the V registers and are subject to the FP/SIMD access trap; CRC32 is not.
export const CRYPTO: Encoding[] = [
  ...withFpCheck([
    {
      // AESE/AESD (opcode 00100/00101), AESMC/AESIMC (00110/00111)
      name: 'AES', pattern: '01001110 00 10100 001 op:2 10 rn:5 rd:5',
      translate: (t, f) => callSimdHelper(t, AES_OPS[f.op], regs(f.rd, f.rn)),
    },
    {
      // SHA1C SHA1P SHA1M SHA1SU0 SHA256H SHA256H2 SHA256SU1 (opcode 0..6; 7 is unallocated)
      name: 'SHA_3reg', pattern: '01011110 00 0 rm:5 0 op:3 00 rn:5 rd:5',
      when: f => f.op !== 7,
      translate: (t, f) => callSimdHelper(t, SHA3_OPS[f.op], regs(f.rd, f.rn, f.rm)),
    },
    {
      // SHA1H, SHA1SU1, SHA256SU0
      name: 'SHA_2reg', pattern: '01011110 00 10100 000 op:2 10 rn:5 rd:5',
      when: f => f.op !== 3,
      translate: (t, f) => callSimdHelper(t, SHA2_OPS[f.op], regs(f.rd, f.rn)),
    },
    {
      // PMULL/PMULL2 Vd.1Q, Vn.1D/2D, Vm.1D/2D (the 8-bit form lives with the other three-different ops)
      name: 'PMULL_1Q', pattern: '0 q:1 0 01110 11 1 rm:5 1110 00 rn:5 rd:5',
      translate: (t, f) => callSimdHelper(t, PMULL64, regs(f.rd, f.rn, f.rm) | (f.q << 15)),
    },
  ]),
  {
    // CRC32{B,H,W,X} (c=0) and CRC32C{B,H,W,X} (c=1); the X forms need sf=1, the others sf=0
    name: 'CRC32', pattern: 'sf:1 0 0 11010110 rm:5 010 c:1 sz:2 rn:5 rd:5',
    when: f => (f.sz === 3) === (f.sf === 1),
    translate: (t, f) => callSimdHelper(t, f.c ? CRC32C : CRC32, regs(f.rd, f.rn, f.rm) | (f.sz << 15)),
  },
];
