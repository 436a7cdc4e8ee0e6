// Exception generation, system register access, hints and barriers
// (Arm ARM C4.1.65). The semantics live in cpu.ts helpers; rows here decode
// and pass the fields on.

import type { Encoding } from '../decode';
import { Exception } from '../exceptions';
import { Op } from '../wasm/emitter';
import { S } from '../state';

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
        return t.jumpTo(t.pc + 4n);
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
  { name: 'ISB', pattern: '11010101 00000011 0011 crm:4 110 11111', translate: t => t.jumpTo(t.pc + 4n) },
  {
    name: 'MSR_imm', pattern: '11010101 00000 op1:3 0100 crm:4 op2:3 11111',
    translate: (t, f) => {
      t.syncPc();
      t.callHelper('msrImm', () => t.fb.i32((f.op1 << 3) | f.op2).i32(f.crm));
      t.returnIfNonZero();
      return t.jumpTo(t.pc + 4n);
    },
  },
  {
    name: 'SYS', pattern: '11010101 00 001 op1:3 crn:4 crm:4 op2:3 rt:5',
    translate: (t, f) => {
      t.syncPc();
      t.callHelper('sys', () => t.fb.i32((1 << 14) | (f.op1 << 11) | (f.crn << 7) | (f.crm << 3) | f.op2).i32(f.rt));
      t.returnIfNonZero();
      return t.jumpTo(t.pc + 4n); // TLB and cache maintenance may change what the next instruction sees
    },
  },
  {
    name: 'MSR_reg', pattern: '11010101 00 01 o0:1 op1:3 crn:4 crm:4 op2:3 rt:5',
    translate: (t, f) => {
      t.syncPc();
      t.callHelper('msr', () => t.fb.i32(((2 + f.o0) << 14) | (f.op1 << 11) | (f.crn << 7) | (f.crm << 3) | f.op2).i32(f.rt));
      t.returnIfNonZero();
      // system register writes can change translation context or unmask interrupts
      return t.jumpTo(t.pc + 4n);
    },
  },
  {
    name: 'MRS', pattern: '11010101 00 11 o0:1 op1:3 crn:4 crm:4 op2:3 rt:5',
    translate: (t, f) => {
      t.syncPc();
      t.callHelper('mrs', () => t.fb.i32(((2 + f.o0) << 14) | (f.op1 << 11) | (f.crn << 7) | (f.crm << 3) | f.op2).i32(f.rt));
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
