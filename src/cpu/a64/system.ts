// Exception generation, system register access, hints and barriers
// (Arm ARM C4.1.65). The semantics live in cpu.ts helpers; rows here decode
// and pass the fields on.

import type { Encoding } from '../jit/decode';
import { Exception } from '../system/exceptions';
import { Op } from '../jit/wasm-emitter';
import { S, TbFlags } from '../state';
import { SYSREG_BY_KEY, SYSREG_BY_NAME } from '../system/sysregs';
import type { Translator } from '../jit/translator';

/** op0:op1:CRn:CRm:op2 of an MRS/MSR, the key of the system register table. */
function sysregKeyOf(f: Record<string, number>): number {
  return ((2 + f.o0) << 14) | (f.op1 << 11) | (f.crn << 7) | (f.crm << 3) | f.op2;
}

/**
 * Registers that are plain storage with no trap in ARMv8.0 at the ELs
 * listed: their MRS/MSR become a wasm load/store. Linux reads SP_EL0 (its
 * `current`) about 1.6 million times and TPIDR_EL1 (per-CPU offset) 450,000
 * times per boot; through the helper each read cost ~0.3 us and ended chaining.
 */
const INLINE_SYSREGS = new Map<number, (t: Translator, isRead: boolean) => boolean>([
  // SP_EL0 is UNDEFINED while it is the stack pointer in use (SPSel = 0)
  ['SP_EL0', (t: Translator) => t.ctx.el >= 1 && (t.ctx.tbFlags & TbFlags.SP_SEL) !== 0],
  ['TPIDR_EL1', (t: Translator) => t.ctx.el >= 1],
  ['TPIDR_EL0', () => true],
  ['TPIDRRO_EL0', (t: Translator, isRead: boolean) => isRead || t.ctx.el >= 1], // read-only at EL0
].map(([name, when]) => [SYSREG_BY_NAME.get(name as string)!.key, when as (t: Translator, isRead: boolean) => boolean]));

/** The state offset of the register when this MRS/MSR can be a plain load/store, else undefined. */
function inlineSysregOffset(t: Translator, key: number, isRead: boolean): number | undefined {
  if (!INLINE_SYSREGS.get(key)?.(t, isRead)) return undefined;
  return S.SYSREGS + SYSREG_BY_KEY.get(key)!.slot * 8;
}

/** DC ZVA's key for the `sys` helper (op1 3, CRn 7, CRm 4, op2 1). */
const DC_ZVA_KEY = (1 << 14) | (3 << 11) | (7 << 7) | (4 << 3) | 1;
const HCR_OFFSET = S.SYSREGS + SYSREG_BY_NAME.get('HCR_EL2')!.slot * 8;

const DAIF_KEY = SYSREG_BY_NAME.get('DAIF')!.key;
const CTR_KEY = SYSREG_BY_NAME.get('CTR_EL0')!.key;
const CTR_OFFSET = S.SYSREGS + SYSREG_BY_NAME.get('CTR_EL0')!.slot * 8;
const DCZID_KEY = SYSREG_BY_NAME.get('DCZID_EL0')!.key;
/** HCR_EL2 trap bits: TID2 (cache identification), TPC (to PoC), TPU (to PoU), TDZ (DC ZVA). */
const HCR_TID2 = 1 << 17, HCR_TPC = 1 << 23, HCR_TPU = 1 << 24, HCR_TDZ = 1 << 28;
const sysKey = (op1: number, crn: number, crm: number, op2: number) => (1 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;
/**
 * Cache maintenance by VA that EL0 and EL1 may issue (Linux: 60,000 each of
 * IC IVAU and DC CVAU per boot), with the HCR_EL2 bit that traps it from EL1.
 */
const MAINTENANCE_NOPS = new Map([
  [sysKey(3, 7, 5, 1), HCR_TPU], // IC IVAU
  [sysKey(3, 7, 11, 1), HCR_TPU], // DC CVAU
  [sysKey(3, 7, 10, 1), HCR_TPC], // DC CVAC
  [sysKey(3, 7, 14, 1), HCR_TPC], // DC CIVAC
]);

/**
 * At EL2, emits `inline`. At EL1, tests HCR_EL2 at run time: `viaHelper`
 * (which raises the trap) when any of `trapBits` is set, else `inline`.
 */
function unlessHcrTraps(t: Translator, trapBits: number, inline: () => void, viaHelper: () => void): void {
  if (t.ctx.el >= 2) { inline(); return; }
  t.fb.get(t.cpu).mem(Op.i32_load, HCR_OFFSET, 2).i32(trapBits).op(Op.i32_and).if();
  viaHelper();
  t.fb.else();
  inline();
  t.fb.end();
}

/**
 * MSR DAIF, Xt at EL1/EL2 (local_irq_save/restore, 90,000 per Linux boot):
 * a write that masks no less than before is a plain store; one that
 * unmasks goes to the helper, which looks for a pending interrupt. The
 * block ends either way, as after other MSRs.
 */
function msrDaif(t: Translator, rt: number): boolean {
  const f = t.fb;
  const next = t.tempI32(() => { t.getX(rt); f.i64(6n).op(Op.i64_shr_u).op(Op.i32_wrap_i64).i32(0xf).op(Op.i32_and); });
  f.get(t.cpu).mem(Op.i32_load, S.DAIF, 2).get(next).i32(-1).op(Op.i32_xor).op(Op.i32_and);
  f.if();
  t.syncPc();
  t.callHelper('msr', () => f.i32(DAIF_KEY).i32(rt));
  t.returnIfNonZero();
  f.else();
  f.get(t.cpu).get(next).mem(Op.i32_store, S.DAIF, 2);
  f.end();
  f.release(next);
  return t.jumpRelative(4);
}

export const SYSTEM: Encoding[] = [
  { name: 'SVC', pattern: '11010100 000 imm16:16 000 01', translate: (t, f) => t.raise(Exception.SVC64, f.imm16) },
  {
    // HVC and SMC go through the `exception` helper, which knows about EL2
    // presence, HCR_EL2.HCD/TSC traps and the firmware (PSCI) conduit.
    name: 'HVC', pattern: '11010100 000 imm16:16 000 10', translate: (t, f) => t.raise(Exception.HVC64, f.imm16),
  },
  { name: 'SMC', pattern: '11010100 000 imm16:16 000 11', translate: (t, f) => t.raise(Exception.SMC64, f.imm16) },
  { name: 'BRK', pattern: '11010100 001 imm16:16 000 00', translate: (t, f) => t.raise(Exception.BRK64, f.imm16) },
  // HLT: halting debug is not enabled, so it is UNDEFINED (as on hardware without an external debugger).
  { name: 'HLT', pattern: '11010100 010 imm16:16 000 00', translate: t => t.undefinedInstruction() },
  {
    name: 'HINT', pattern: '11010101 00000011 0010 crm:4 op2:3 11111',
    translate: (t, f) => {
      const hint = (f.crm << 3) | f.op2;
      if (hint === 2 || hint === 3 || hint === 4 || hint === 5) {
        // WFE, WFI, SEV, SEVL: may stop the CPU, so the block ends after them
        t.syncPc();
        t.callHelper('hint', () => t.fb.i32(hint));
        t.returnIfNonZero();
        return t.jumpRelative(4);
      }
      return false; // NOP, YIELD and unallocated hints execute as NOP
    },
  },
  {
    name: 'CLREX', pattern: '11010101 00000011 0011 crm:4 010 11111',
    translate: t => { t.fb.get(t.cpu).i32(0).mem(Op.i32_store, S.EXCL_VALID, 2); },
  },
  // DSB, DMB: ordering is trivially satisfied by the single-threaded translated code
  { name: 'DSB', pattern: '11010101 00000011 0011 crm:4 100 11111', translate: () => {} },
  { name: 'DMB', pattern: '11010101 00000011 0011 crm:4 101 11111', translate: () => {} },
  // ISB ends the block so that context changes made by earlier MSRs are seen by the next instruction
  { name: 'ISB', pattern: '11010101 00000011 0011 crm:4 110 11111', translate: t => t.jumpRelative(4) },
  {
    name: 'MSR_imm', pattern: '11010101 00000 op1:3 0100 crm:4 op2:3 11111',
    translate: (t, f) => {
      if (f.op1 === 3 && f.op2 === 6 && t.ctx.el >= 1) {
        // DAIFSet at EL1/EL2 (local_irq_disable): masking needs no interrupt check and changes no context
        t.fb.get(t.cpu).get(t.cpu).mem(Op.i32_load, S.DAIF, 2).i32(f.crm).op(Op.i32_or).mem(Op.i32_store, S.DAIF, 2);
        return;
      }
      t.syncPc();
      t.callHelper('msrImm', () => t.fb.i32((f.op1 << 3) | f.op2).i32(f.crm));
      t.returnIfNonZero();
      return t.jumpRelative(4);
    },
  },
  {
    name: 'SYS', pattern: '11010101 00 001 op1:3 crn:4 crm:4 op2:3 rt:5',
    translate: (t, f) => {
      const key = (1 << 14) | (f.op1 << 11) | (f.crn << 7) | (f.crm << 3) | f.op2;
      const callSys = (mayChangeContext: boolean) => { t.syncPc(); t.callHelper('sys', () => t.fb.i32(key).i32(f.rt), mayChangeContext); };
      // the operations below cannot change the translation context: through the helper they only trap or fault
      const viaHelper = () => { callSys(false); t.returnIfNonZero(); };
      const trapBit = MAINTENANCE_NOPS.get(key);
      if (trapBit !== undefined && t.ctx.el >= 1) {
        // cache maintenance by VA is a no-op here (translations follow stores): only a trap to EL2 remains
        unlessHcrTraps(t, trapBit, () => {}, viaHelper);
        return;
      }
      if (key === DC_ZVA_KEY && t.ctx.el >= 1) {
        unlessHcrTraps(t, HCR_TDZ, () => { t.zeroBlock(f.rt, () => callSys(false)); t.returnIfNonZero(); }, viaHelper);
        return;
      }
      callSys(true);
      t.returnIfNonZero();
      return t.jumpRelative(4); // TLB and cache maintenance may change what the next instruction sees
    },
  },
  {
    name: 'MSR_reg', pattern: '11010101 00 01 o0:1 op1:3 crn:4 crm:4 op2:3 rt:5',
    translate: (t, f) => {
      const inline = inlineSysregOffset(t, sysregKeyOf(f), false);
      if (inline !== undefined) {
        t.fb.get(t.cpu); t.getX(f.rt); t.fb.mem(Op.i64_store, inline, 3);
        return;
      }
      if (sysregKeyOf(f) === DAIF_KEY && t.ctx.el >= 1) return msrDaif(t, f.rt);
      t.syncPc();
      t.callHelper('msr', () => t.fb.i32(sysregKeyOf(f)).i32(f.rt));
      t.returnIfNonZero();
      // system register writes can change translation context or unmask interrupts
      return t.jumpRelative(4);
    },
  },
  {
    name: 'MRS', pattern: '11010101 00 11 o0:1 op1:3 crn:4 crm:4 op2:3 rt:5',
    translate: (t, f) => {
      const inline = inlineSysregOffset(t, sysregKeyOf(f), true);
      if (inline !== undefined) {
        t.setX(f.rt, () => t.fb.get(t.cpu).mem(Op.i64_load, inline, 3));
        return;
      }
      if (sysregKeyOf(f) === DAIF_KEY && t.ctx.el >= 1) { // EL0 may trap (SCTLR_EL1.UMA): the helper checks
        t.setX(f.rt, () => t.fb.get(t.cpu).mem(Op.i64_load32_u, S.DAIF, 2).i64(6n).op(Op.i64_shl));
        return;
      }
      if (sysregKeyOf(f) === CTR_KEY && t.ctx.el >= 1) { // read-only constant; HCR_EL2.TID2 traps EL1
        const viaHelper = () => { t.syncPc(); t.callHelper('mrs', () => t.fb.i32(CTR_KEY).i32(f.rt), false); t.returnIfNonZero(); };
        unlessHcrTraps(t, HCR_TID2, () => t.setX(f.rt, () => t.fb.get(t.cpu).mem(Op.i64_load, CTR_OFFSET, 3)), viaHelper);
        return;
      }
      if (sysregKeyOf(f) === DCZID_KEY && t.ctx.el >= 1) { // BS = 4; DZP set at EL1 while HCR_EL2.TDZ traps DC ZVA
        t.setX(f.rt, () => {
          t.fb.i64(4n);
          if (t.ctx.el === 1) {
            t.fb.get(t.cpu).mem(Op.i64_load32_u, HCR_OFFSET, 2).i64(BigInt(HCR_TDZ)).op(Op.i64_and).i64(24n).op(Op.i64_shr_u).op(Op.i64_or); // TDZ (bit 28) -> DZP (bit 4)
          }
        });
        return;
      }
      t.syncPc();
      t.callHelper('mrs', () => t.fb.i32(sysregKeyOf(f)).i32(f.rt));
      t.returnIfNonZero();
    },
  },
  {
    name: 'ERET', pattern: '1101011 0100 11111 000000 11111 00000',
    translate: t => {
      t.syncPc();
      t.callHelper('eret', () => {});
      t.fb.op(Op.drop);
      // The helper set PC (and maybe EL): continue through the jump cache, never chain to a block of this region
      return t.jumpDynamic(() => t.fb.get(t.cpu).mem(Op.i64_load, S.PC, 3));
    },
  },
  // UDF (permanently undefined) falls through to the Undefined Instruction default.
];
