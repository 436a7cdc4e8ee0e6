// Emit helpers for the FP/SIMD register file as translated code sees it:
// V0..V31 are 16 bytes each at S.V + 16*n (little-endian lanes), FPCR and
// FPSR are i32s at S.FPCR / S.FPSR. Also the FP/SIMD access trap check
// (CPACR_EL1.FPEN, CPTR_EL2.TFP) every FP/SIMD row runs first.

import type { Translator } from '../jit/translator';
import { Op, OpSIMD } from '../jit/wasm-emitter';
import { S, TbFlags } from '../state';

/** Byte offset of Vn in the vCPU area. */
export function vOff(n: number): number { return S.V + 16 * n; }

/** Pushes the low 64 bits of Vn as i64. */
export function pushVLow64(t: Translator, n: number): void { t.fb.get(t.cpu).mem(Op.i64_load, vOff(n), 3); }
/** Pushes the 64-bit lane `lane` (0/1) of Vn as i64. */
export function pushVLane64(t: Translator, n: number, lane: number): void { t.fb.get(t.cpu).mem(Op.i64_load, vOff(n) + 8 * lane, 3); }
/** Pushes the low 32 bits of Vn as i32. */
export function pushVLow32(t: Translator, n: number): void { t.fb.get(t.cpu).mem(Op.i32_load, vOff(n), 2); }
/** Pushes the low 16 bits of Vn as i32 (zero-extended). */
export function pushVLow16(t: Translator, n: number): void { t.fb.get(t.cpu).mem(Op.i32_load16_u, vOff(n), 1); }
export function pushF64(t: Translator, n: number): void { t.fb.get(t.cpu).mem(Op.f64_load, vOff(n), 3); }
export function pushF32(t: Translator, n: number): void { t.fb.get(t.cpu).mem(Op.f32_load, vOff(n), 2); }

/**
 * Writes a scalar to Vd and clears the rest of the 128-bit register, as
 * every scalar FP write does (V[d] = ZeroExtend(result)). `value` pushes an
 * i64 (size 64), i32 (size 32 or 16), f64 or f32 as `kind` says.
 */
export function writeScalar(t: Translator, d: number, size: 16 | 32 | 64, kind: 'int' | 'float', value: () => void): void {
  const f = t.fb;
  const off = vOff(d);
  f.get(t.cpu);
  value();
  if (size === 64) {
    f.mem(kind === 'float' ? Op.f64_store : Op.i64_store, off, 3);
    f.get(t.cpu).i64(0n).mem(Op.i64_store, off + 8, 3);
  } else {
    if (size === 32) f.mem(kind === 'float' ? Op.f32_store : Op.i32_store, off, 2);
    else f.mem(Op.i32_store, off, 2); // 16-bit value already zero-extended to i32
    f.get(t.cpu).i32(0).mem(Op.i32_store, off + 4, 2);
    f.get(t.cpu).i64(0n).mem(Op.i64_store, off + 8, 3);
  }
}

/** Writes a whole 128-bit value (v128 pushed by `value`) to Vd. */
export function writeV128(t: Translator, d: number, value: () => void): void {
  t.fb.get(t.cpu);
  value();
  t.fb.simdMem(OpSIMD.v128_store, vOff(d), 0);
}

/** Writes the i64 `value` into the 64-bit lane `lane` of Vd, leaving the other lane alone (INS-style). */
export function writeVLane64(t: Translator, d: number, lane: number, value: () => void): void {
  t.fb.get(t.cpu);
  value();
  t.fb.mem(Op.i64_store, vOff(d) + 8 * lane, 3);
}

export function pushFpcr(t: Translator): void { t.fb.get(t.cpu).mem(Op.i32_load, S.FPCR, 2); }
export function pushFpsr(t: Translator): void { t.fb.get(t.cpu).mem(Op.i32_load, S.FPSR, 2); }

/** FPSR |= the i32 that `flags` pushes (cumulative exception bits). */
export function orFpsr(t: Translator, flags: () => void): void {
  const f = t.fb;
  f.get(t.cpu);
  pushFpsr(t);
  flags();
  f.op(Op.i32_or).mem(Op.i32_store, S.FPSR, 2);
}

/** Where an FP/SIMD access traps in the translation context `tbFlags` (0: no trap, 1: EL1, 2: EL2). */
export function fpTrapTarget(tbFlags: number): number {
  return (tbFlags >> TbFlags.FP_TRAP_SHIFT) & 3;
}

/** Operation id of the access trap in the fpOp helper table (see fp/scalar-ops.ts). */
export const FP_ACCESS_TRAP_OP = 0;

/**
 * The FP/SIMD access check: call it at translate time before an
 * instruction that touches the FP/SIMD registers, FPCR or FPSR emits
 * anything. The trap state (CPACR_EL1.FPEN, CPTR_EL2.TFP against the current
 * EL) is part of the TB flags (Cpu.updateTbFlags), so enabled FP costs
 * nothing at run time. When FP is disabled it emits the exception (EC 0x07,
 * ISS CV=1 COND=0xE; from EL0 with HCR_EL2.TGE routed to EL2 as EC 0) and
 * returns true: the caller must emit nothing more and return true from its
 * row (the block ends). Used by load-store.ts, simd*.ts and fp.ts.
 */
export function checkFpAccess(t: Translator): boolean {
  const target = fpTrapTarget(t.ctx.tbFlags);
  if (target === 0) return false;
  t.syncPc();
  t.callHelper('fpOp', () => t.fb.i32(FP_ACCESS_TRAP_OP).i32(target));
  t.fb.op(Op.drop).ret();
  return true;
}
