// AES, SHA-1, SHA-256, PMULL (64-bit) and CRC32/CRC32C: whole algorithms
// computed with the instructions and checked against Node's own crypto and
// zlib (independent implementations), plus single instructions against QEMU.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { runAsm } from './support/machine';
import { S } from '../src/cpu/state';
import type { Vcpu } from '../src/hv/vm';
import { expectSameAsQemu, randomCases } from './simd-util';

/** runAsm with FP/SIMD enabled (CPACR_EL1.FPEN = 0b11), as an OS would set it. */
function runSimd(asm: string, setup?: (v: Vcpu) => void) {
  return runAsm(asm, { setup: v => { v.cpu.setReg('CPACR_EL1', 3n << 20n); v.cpu.updateTbFlags(); setup?.(v); } });
}

const MASK64 = (1n << 64n) - 1n;

function setV(vcpu: Vcpu, n: number, v: bigint): void {
  const c = vcpu.cpu;
  c.dv.setBigUint64(c.base + S.V + 16 * n, v & MASK64, true);
  c.dv.setBigUint64(c.base + S.V + 16 * n + 8, (v >> 64n) & MASK64, true);
}

function getV(vcpu: Vcpu, n: number): bigint {
  const c = vcpu.cpu;
  return c.dv.getBigUint64(c.base + S.V + 16 * n, true) | (c.dv.getBigUint64(c.base + S.V + 16 * n + 8, true) << 64n);
}

/** 16 bytes (memory order) as the 128-bit little-endian register value. */
const fromBytes = (b: Uint8Array) => b.reduceRight((acc, x) => (acc << 8n) | BigInt(x), 0n);
const toBytes = (v: bigint) => Uint8Array.from({ length: 16 }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
/** Four 32-bit words (word 0 lowest) as a 128-bit value. */
const fromWords = (w: number[]) => w.reduceRight((acc, x) => (acc << 32n) | BigInt(x >>> 0), 0n);
const toWords = (v: bigint) => [0, 1, 2, 3].map(i => Number((v >> BigInt(32 * i)) & 0xffffffffn));

/** AES-128 key expansion (FIPS-197 5.2), in software: the round keys fed to AESE. */
function expandKey(key: Uint8Array): Uint8Array[] {
  const sbox = (() => {
    // derive the S-box from Node's AES: encrypting is not needed, compute it directly
    const gmul = (a: number, b: number) => { let p = 0; for (let i = 0; i < 8; i++) { if (b & 1) p ^= a; const h = a & 0x80; a = (a << 1) & 0xff; if (h) a ^= 0x1b; b >>= 1; } return p; };
    const s = new Uint8Array(256);
    for (let x = 0; x < 256; x++) {
      let inv = 0;
      for (let y = 1; y < 256 && x; y++) if (gmul(x, y) === 1) { inv = y; break; }
      let r = inv;
      for (let k = 1; k <= 4; k++) r ^= ((inv << k) | (inv >> (8 - k))) & 0xff;
      s[x] = r ^ 0x63;
    }
    return s;
  })();
  const w: number[][] = [];
  for (let i = 0; i < 4; i++) w.push([...key.subarray(4 * i, 4 * i + 4)]);
  let rcon = 1;
  for (let i = 4; i < 44; i++) {
    let tmp = [...w[i - 1]];
    if (i % 4 === 0) {
      tmp = [sbox[tmp[1]] ^ rcon, sbox[tmp[2]], sbox[tmp[3]], sbox[tmp[0]]];
      rcon = ((rcon << 1) ^ (rcon & 0x80 ? 0x1b : 0)) & 0xff;
    }
    w.push(w[i - 4].map((b, k) => b ^ tmp[k]));
  }
  const keys: Uint8Array[] = [];
  for (let r = 0; r < 11; r++) keys.push(Uint8Array.from([...w[4 * r], ...w[4 * r + 1], ...w[4 * r + 2], ...w[4 * r + 3]]));
  return keys;
}

test('AES-128 encryption and decryption with AESE/AESMC/AESD/AESIMC match Node crypto', () => {
  const key = Uint8Array.from({ length: 16 }, (_, i) => i); // FIPS-197 C.1 key
  const plain = Uint8Array.from({ length: 16 }, (_, i) => i * 0x11); // 00112233...ff
  const keys = expandKey(key);
  let enc = '';
  for (let r = 0; r < 9; r++) enc += `aese v0.16b, v${r + 1}.16b\naesmc v0.16b, v0.16b\n`;
  enc += 'aese v0.16b, v10.16b\neor v0.16b, v0.16b, v11.16b\n';
  const { vcpu, exit } = runSimd(`${enc}brk #0`, v => { setV(v, 0, fromBytes(plain)); keys.forEach((k, i) => setV(v, i + 1, fromBytes(k))); });
  assert.equal(exit.reason, 'debug');
  const expected = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false).update(plain);
  assert.deepEqual(Buffer.from(toBytes(getV(vcpu, 0))), expected);
  assert.equal(Buffer.from(expected).toString('hex'), '69c4e0d86a7b0430d8cdb78070b4c55a'); // FIPS-197 C.1

  // Decryption (equivalent inverse cipher): round keys 9..1 go through AESIMC first
  let dec = '';
  for (let r = 10; r >= 2; r--) dec += `aesd v0.16b, v${r + 1}.16b\naesimc v0.16b, v0.16b\n`;
  dec += 'aesd v0.16b, v2.16b\neor v0.16b, v0.16b, v1.16b\n';
  let imc = '';
  for (let r = 1; r <= 9; r++) imc += `aesimc v${r + 1}.16b, v${r + 1}.16b\n`;
  const run2 = runSimd(`${imc}${dec}brk #0`, v => { setV(v, 0, fromBytes(new Uint8Array(expected))); keys.forEach((k, i) => setV(v, i + 1, fromBytes(k))); });
  assert.deepEqual(toBytes(getV(run2.vcpu, 0)), plain);
});

/** One padded SHA block for a short message, as 16 big-endian words. */
function shaBlock(msg: string): number[] {
  const b = new Uint8Array(64);
  const m = Buffer.from(msg);
  b.set(m);
  b[m.length] = 0x80;
  new DataView(b.buffer).setUint32(60, m.length * 8);
  return Array.from({ length: 16 }, (_, i) => new DataView(b.buffer).getUint32(4 * i));
}

const SHA256_K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

test('SHA-256 of "abc" computed with SHA256H/H2/SU0/SU1 matches Node crypto', () => {
  // v0 = abcd, v1 = efgh, v16..v19 = message schedule, K[4i..4i+3] in v(kRegs[i]); no memory needed
  const kRegs = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 20, 21];
  let asm = 'mov v24.16b, v0.16b\nmov v25.16b, v1.16b\n';
  for (let i = 0; i < 16; i++) {
    const w = 16 + (i % 4);
    asm += `add v30.4s, v${w}.4s, v${kRegs[i]}.4s\n`;
    if (i < 12) asm += `sha256su0 v${w}.4s, v${16 + ((i + 1) % 4)}.4s\nsha256su1 v${w}.4s, v${16 + ((i + 2) % 4)}.4s, v${16 + ((i + 3) % 4)}.4s\n`;
    asm += 'mov v31.16b, v0.16b\nsha256h q0, q1, v30.4s\nsha256h2 q1, q31, v30.4s\n';
  }
  asm += 'add v0.4s, v0.4s, v24.4s\nadd v1.4s, v1.4s, v25.4s\nbrk #0';
  const block = shaBlock('abc');
  const { vcpu } = runSimd(asm, v => {
      setV(v, 0, fromWords([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a]));
      setV(v, 1, fromWords([0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]));
      for (let i = 0; i < 4; i++) setV(v, 16 + i, fromWords(block.slice(4 * i, 4 * i + 4)));
      kRegs.forEach((r, i) => setV(v, r, fromWords(SHA256_K.slice(4 * i, 4 * i + 4))));
  });
  const words = [...toWords(getV(vcpu, 0)), ...toWords(getV(vcpu, 1))];
  const digest = Buffer.alloc(32);
  words.forEach((w, i) => digest.writeUInt32BE(w, 4 * i));
  assert.equal(digest.toString('hex'), createHash('sha256').update('abc').digest('hex'));
});

test('SHA-1 of "abc" computed with SHA1C/P/M/H/SU0/SU1 matches Node crypto', () => {
  const K = [0x5a827999, 0x6ed9eba1, 0x8f1bbcdc, 0xca62c1d6];
  // v0 = abcd, s1 (v1) = e, v16..v19 schedule, v2..v5 = K splats; 20 groups of 4 rounds
  let asm = 'mov v24.16b, v0.16b\nmov v25.16b, v1.16b\n';
  for (let i = 0; i < 20; i++) {
    const w = 16 + (i % 4);
    const op = i < 5 ? 'sha1c' : i < 10 ? 'sha1p' : i < 15 ? 'sha1m' : 'sha1p';
    asm += `add v30.4s, v${w}.4s, v${2 + Math.floor(i / 5)}.4s\n`;
    asm += 'sha1h s26, s0\n';
    asm += `${op} q0, s1, v30.4s\n`;
    asm += 'mov v1.16b, v26.16b\n';
    if (i < 16) asm += `sha1su0 v${w}.4s, v${16 + ((i + 1) % 4)}.4s, v${16 + ((i + 2) % 4)}.4s\nsha1su1 v${w}.4s, v${16 + ((i + 3) % 4)}.4s\n`;
  }
  asm += 'add v0.4s, v0.4s, v24.4s\nadd v1.4s, v1.4s, v25.4s\nbrk #0';
  const block = shaBlock('abc');
  const { vcpu } = runSimd(asm, v => {
      setV(v, 0, fromWords([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476]));
      setV(v, 1, fromWords([0xc3d2e1f0, 0, 0, 0]));
      for (let i = 0; i < 4; i++) setV(v, 16 + i, fromWords(block.slice(4 * i, 4 * i + 4)));
      K.forEach((k, i) => setV(v, 2 + i, fromWords([k, k, k, k])));
  });
  const words = [...toWords(getV(vcpu, 0)), toWords(getV(vcpu, 1))[0]];
  const digest = Buffer.alloc(20);
  words.forEach((w, i) => digest.writeUInt32BE(w, 4 * i));
  assert.equal(digest.toString('hex'), createHash('sha1').update('abc').digest('hex'));
});

/** Bitwise CRC-32C (Castagnoli), reflected, no final inversion handled by the caller. */
function crc32cSoftware(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

test('CRC32B/H/W/X and CRC32CB/H/W/X over a buffer match zlib and a software CRC-32C', () => {
  const data = Uint8Array.from({ length: 15 }, (_, i) => (i * 73 + 5) & 0xff);
  // x1 = bytes 0..7, x2 = bytes 8..11 (W), x3 = bytes 12..13 (H), x4 = byte 14 (B)
  const dv = new DataView(data.buffer);
  const setup = (v: Vcpu) => {
    v.setReg(1, dv.getBigUint64(0, true)); v.setReg(2, BigInt(dv.getUint32(8, true)));
    v.setReg(3, BigInt(dv.getUint16(12, true)) | 0xabcd0000n); v.setReg(4, BigInt(data[14]) | 0xff00n);
  };
  for (const [c, expected] of [['', crc32(data)], ['c', crc32cSoftware(data)]] as const) {
    const { vcpu } = runAsm(`
      movz w0, #0xffff
      movk w0, #0xffff, lsl #16
      crc32${c}x w0, w0, x1
      crc32${c}w w0, w0, w2
      crc32${c}h w0, w0, w3
      crc32${c}b w0, w0, w4
      brk #0`, { setup });
    assert.equal(Number(vcpu.getReg(0) ^ 0xffffffffn), expected, `crc32${c}`);
  }
});

test('crypto and CRC instructions match QEMU on random operands', () => {
  const forms = [
    'aese v0.16b, v1.16b', 'aesd v0.16b, v1.16b', 'aesmc v0.16b, v1.16b', 'aesimc v0.16b, v0.16b',
    'sha1c q0, s1, v2.4s', 'sha1p q0, s1, v2.4s', 'sha1m q0, s1, v2.4s', 'sha1h s0, s1', 'sha1su0 v0.4s, v1.4s, v2.4s', 'sha1su1 v0.4s, v1.4s',
    'sha256h q0, q1, v2.4s', 'sha256h2 q0, q1, v2.4s', 'sha256su0 v0.4s, v1.4s', 'sha256su1 v0.4s, v1.4s, v2.4s',
    'pmull v0.1q, v1.1d, v2.1d', 'pmull2 v0.1q, v1.2d, v2.2d', 'pmull v3.1q, v3.1d, v3.1d',
    'crc32b w0, w1, w2', 'crc32h w0, w1, w2', 'crc32w w0, w1, w2', 'crc32x w0, w1, x2',
    'crc32cb w0, w1, w2', 'crc32ch w0, w1, w2', 'crc32cw w0, w1, w2', 'crc32cx w0, w1, x2',
  ];
  expectSameAsQemu(forms.flatMap((asm, i) => randomCases(asm, 3, 500 + i)));
});

test('ID_AA64ISAR0_EL1 advertises AES+PMULL, SHA1, SHA2 and CRC32; PFR0 says FP and AdvSIMD are implemented', () => {
  const { vcpu } = runAsm('mrs x0, id_aa64isar0_el1\nmrs x1, id_aa64pfr0_el1\nbrk #0');
  const isar0 = vcpu.getReg(0);
  assert.equal((isar0 >> 4n) & 0xfn, 2n);
  assert.equal((isar0 >> 8n) & 0xfn, 1n);
  assert.equal((isar0 >> 12n) & 0xfn, 1n);
  assert.equal((isar0 >> 16n) & 0xfn, 1n);
  const pfr0 = vcpu.getReg(1);
  assert.equal((pfr0 >> 16n) & 0xfn, 0n);
  assert.equal((pfr0 >> 20n) & 0xfn, 0n);
  assert.equal(pfr0 & 0xfn, 1n);
});
