// The TypeScript side of scalar FP: operations translated code reaches
// through the `fpOp` helper (slow paths and rare instructions), the
// FP/SIMD access trap, and the FPCR/FPSR system-register hooks.
//
// Helper calling convention: fpOp(cpu, op, regs) with `regs` packing the
// register numbers d | n<<5 | m<<10 | a<<15 and 12 bits of extra operand
// (condition, nzcv, fraction bits ...) at bit 20. Operations read their
// inputs from the vCPU area (V registers, X registers, FPCR), write results
// there and OR the exceptions raised into FPSR; they return 0 (continue)
// or 1 when they took an exception (the block returns).
//
// Ids are handed out at translate time (`fpOpId`, memoised by key) from one
// table shared by every vCPU (Cpu.fpOps points at it); ids 0x400 and up
// belong to the Advanced SIMD helpers (a64/simd-common.ts).

import type { Cpu } from '../cpu';
import { S } from '../state';
import { Exception } from '../system/exceptions';
import { FpEnv, FPCR_MASK, FPSR_MASK, type Width } from './softfloat';

export type FpOpFn = (cpu: Cpu, regs: number) => number;

/** First id of the Advanced SIMD engineer's helpers; scalar ids stay below. */
const SCALAR_OP_LIMIT = 0x400;

/** The shared operation table (sparse: SIMD helpers are installed at 0x400 and up). */
export const FP_OP_TABLE: FpOpFn[] = [];
const idByKey = new Map<string, number>();
let nextId = 0;

/** Registers (once per key) an operation and returns its id for the `fpOp` helper. */
export function fpOpId(key: string, make: () => FpOpFn): number {
  let id = idByKey.get(key);
  if (id === undefined) {
    if (nextId >= SCALAR_OP_LIMIT) throw new Error('scalar FP operation table is full');
    id = nextId++;
    FP_OP_TABLE[id] = make();
    idByKey.set(key, id);
  }
  return id;
}

// ---- register file access (TypeScript view) ---------------------------------------

export function fieldD(regs: number): number { return regs & 31; }
export function fieldN(regs: number): number { return (regs >>> 5) & 31; }
export function fieldM(regs: number): number { return (regs >>> 10) & 31; }
export function fieldA(regs: number): number { return (regs >>> 15) & 31; }
export function fieldExtra(regs: number): number { return regs >>> 20; }
export function packRegs(d: number, n = 0, m = 0, a = 0, extra = 0): number {
  return (d | (n << 5) | (m << 10) | (a << 15) | (extra << 20)) >>> 0;
}

/** Low N bits of Vn. */
export function readVBits(cpu: Cpu, n: number, N: Width): bigint {
  const i = (cpu.base + S.V + 16 * n) >> 2;
  if (N === 64) return (BigInt(cpu.u32[i + 1]) << 32n) | BigInt(cpu.u32[i]);
  if (N === 32) return BigInt(cpu.u32[i]);
  return BigInt(cpu.u32[i] & 0xffff);
}

/** Vd = ZeroExtend(value) (scalar FP writes clear the whole 128-bit register). */
export function writeVBits(cpu: Cpu, d: number, N: Width, value: bigint): void {
  const i = (cpu.base + S.V + 16 * d) >> 2;
  cpu.u32[i] = Number(value & 0xffffffffn);
  cpu.u32[i + 1] = N === 64 ? Number((value >> 32n) & 0xffffffffn) : 0;
  cpu.u32[i + 2] = 0;
  cpu.u32[i + 3] = 0;
}

/** An FpEnv holding the vCPU's FPCR. */
export function fpEnvOf(cpu: Cpu): FpEnv {
  return new FpEnv(cpu.u32[(cpu.base + S.FPCR) >> 2]);
}

/** FPSR |= the flags the operation raised. */
export function commitFlags(cpu: Cpu, env: FpEnv): void {
  if (env.flags) cpu.u32[(cpu.base + S.FPSR) >> 2] |= env.flags;
}

// ---- access trap, FPCR/FPSR -------------------------------------------------------

/** ISS of EC 0x07 from AArch64: CV = 1, COND = 0b1110. */
const FP_ACCESS_ISS = (1 << 24) | (0xe << 20);

/**
 * Id 0: the FP/SIMD access trap (AArch64.AdvSIMDFPAccessTrap), `regs` = target EL.
 * A trap to EL1 taken from EL0 while HCR_EL2.TGE is set goes to EL2 as an
 * uncategorized exception, as the pseudocode routes it.
 */
function accessTrap(cpu: Cpu, targetEl: number): number {
  if (targetEl === 1 && cpu.el === 0 && cpu.hasEl2 && (cpu.hcrLo() & (1 << 27))) {
    cpu.syncException(Exception.UNKNOWN, 0, false, undefined, 2);
  } else {
    cpu.syncException(Exception.FP_ACCESS, FP_ACCESS_ISS, false, undefined, targetEl);
  }
  return 1;
}
if (fpOpId('accessTrap', () => accessTrap) !== 0) throw new Error('the access trap must be FP operation 0');

/** Makes a vCPU use the shared operation table and registers the FPCR/FPSR hooks. */
export function installFpSupport(cpu: Cpu): void {
  cpu.fpOps = FP_OP_TABLE;
  const fpcr = (cpu.base + S.FPCR) >> 2;
  const fpsr = (cpu.base + S.FPSR) >> 2;
  cpu.sysregHooks.set('fpcr', {
    read: c => BigInt(c.u32[fpcr]),
    write: (c, _e, v) => { c.u32[fpcr] = Number(v & 0xffffffffn) & FPCR_MASK; },
  });
  cpu.sysregHooks.set('fpsr', {
    read: c => BigInt(c.u32[fpsr]),
    write: (c, _e, v) => { c.u32[fpsr] = (Number(v & 0xffffffffn) & FPSR_MASK) >>> 0; },
  });
}

/** Sets FPCR from TypeScript (VMM register access, tests), keeping RES0 bits zero. */
export function setFpcr(cpu: Cpu, value: number): void {
  cpu.u32[(cpu.base + S.FPCR) >> 2] = value & FPCR_MASK;
}
