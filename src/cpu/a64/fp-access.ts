// The hook every instruction that touches the FP/SIMD register file calls
// before emitting its access, so that the CPACR_EL1.FPEN / CPTR_EL2 traps
// (EC 0x07, "Access to SIMD or floating-point functionality") live in one place.
//
// Contract for whoever implements the traps:
//   - called at translate time, before the instruction emits anything else;
//   - may emit a run-time check that raises the exception and returns from
//     the block (then it returns false: the caller carries on emitting), or,
//     if the trap state is part of the TB flags (t.ctx.tbFlags), emit an
//     unconditional t.raise(...) and return true: the caller must then emit
//     nothing more and report "block ended" (return true from its row).
// Callers: src/cpu/a64/load-store.ts (LDR/STR/LDP/STP of B/H/S/D/Q).

// Implemented in vreg.ts (trap state in the TB flags; see checkFpAccess there).
export { checkFpAccess } from './vreg';
