// System registers as one declarative table: encoding, the lowest EL that
// may access it, its reset value and storage slot. Values live in the vCPU
// area of wasm memory (S.SYSREGS + 8*slot) so TypeScript reads them as two
// 32-bit halves and translated code can read plain ones directly.
//
// Registers whose reads or writes have side effects (PSTATE views, timers,
// GIC CPU interface, TLB-affecting control registers) name a `read`/`write`
// hook in the CPU that owns them instead of (or besides) a slot.

/** op0:op1:CRn:CRm:op2 packed as in the MRS/MSR encoding bits 20:5. */
export function sysregKey(op0: number, op1: number, crn: number, crm: number, op2: number): number {
  return (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;
}

export function sysregKeyName(key: number): string {
  return `S${key >> 14}_${(key >> 11) & 7}_C${(key >> 7) & 15}_C${(key >> 3) & 15}_${key & 7}`;
}

export interface SysregDef {
  name: string;
  enc: [number, number, number, number, number];
  /** Lowest exception level allowed to access it (0 for EL0-accessible ones). */
  minEl: number;
  /** Reset value as a bigint (ignored for registers without storage). */
  reset?: bigint;
  readonly?: boolean;
  /** Bits software may change; others keep their reset value (RES0/RES1). */
  writeMask?: bigint;
  /** Name of a hook implemented by the CPU for reads / writes with side effects. */
  hook?: string;
}

export const SYSREGS: SysregDef[] = [
  // Identification. MIDR: Cortex-A57 r1p3 (the CPU QEMU models for `-cpu cortex-a57`).
  // MIDR/MPIDR read at EL1 return VPIDR_EL2/VMPIDR_EL2 when EL2 is implemented (system-registers.ts hooks).
  { name: 'MIDR_EL1', enc: [3, 0, 0, 0, 0], minEl: 1, reset: 0x411fd073n, readonly: true, hook: 'midr' },
  { name: 'MPIDR_EL1', enc: [3, 0, 0, 0, 5], minEl: 1, readonly: true, hook: 'mpidr' },
  { name: 'REVIDR_EL1', enc: [3, 0, 0, 0, 6], minEl: 1, reset: 0n, readonly: true },
  { name: 'ID_AA64PFR0_EL1', enc: [3, 0, 0, 4, 0], minEl: 1, readonly: true, hook: 'idAa64pfr0' },
  { name: 'ID_AA64PFR1_EL1', enc: [3, 0, 0, 4, 1], minEl: 1, reset: 0n, readonly: true },
  // DebugVer=6 (v8.0), 2 breakpoints (BRPs=1), 2 watchpoints (WRPs=1), 1 context-aware breakpoint,
  // PMUVer=0: no PMU, so PMCR_EL0 & co. are UNDEFINED and Linux/KVM leave them alone.
  { name: 'ID_AA64DFR0_EL1', enc: [3, 0, 0, 5, 0], minEl: 1, reset: 0x00101006n, readonly: true },
  { name: 'ID_AA64DFR1_EL1', enc: [3, 0, 0, 5, 1], minEl: 1, reset: 0n, readonly: true },
  { name: 'ID_AA64AFR0_EL1', enc: [3, 0, 0, 5, 4], minEl: 1, reset: 0n, readonly: true },
  { name: 'ID_AA64AFR1_EL1', enc: [3, 0, 0, 5, 5], minEl: 1, reset: 0n, readonly: true },
  // ISAR0 advertises only what the translator implements; FP/SIMD work extends it (AES/SHA/CRC32).
  { name: 'ID_AA64ISAR0_EL1', enc: [3, 0, 0, 6, 0], minEl: 1, reset: 0n, readonly: true, hook: 'idAa64isar0' },
  { name: 'ID_AA64ISAR1_EL1', enc: [3, 0, 0, 6, 1], minEl: 1, reset: 0n, readonly: true },
  // 44-bit PA (PARange=4), 16-bit ASIDs, 4K/16K/64K granules, no mixed endian.
  { name: 'ID_AA64MMFR0_EL1', enc: [3, 0, 0, 7, 0], minEl: 1, reset: 0x0000000000101024n, readonly: true, hook: 'idAa64mmfr0' },
  { name: 'ID_AA64MMFR1_EL1', enc: [3, 0, 0, 7, 1], minEl: 1, reset: 0n, readonly: true },
  { name: 'ID_AA64MMFR2_EL1', enc: [3, 0, 0, 7, 2], minEl: 1, reset: 0n, readonly: true },
  { name: 'CTR_EL0', enc: [3, 3, 0, 0, 1], minEl: 0, reset: 0x8444c004n, readonly: true },
  // DC ZVA zeroes 64 bytes (BS=4); DZP is computed by the 'dczid' hook (SCTLR_EL1.DZE, HCR_EL2.TDZ)
  { name: 'DCZID_EL0', enc: [3, 3, 0, 0, 7], minEl: 0, reset: 0x4n, readonly: true, hook: 'dczid' },
  { name: 'AIDR_EL1', enc: [3, 1, 0, 0, 7], minEl: 1, reset: 0n, readonly: true },
  { name: 'CLIDR_EL1', enc: [3, 1, 0, 0, 1], minEl: 1, reset: 0x0a200023n, readonly: true },
  { name: 'CCSIDR_EL1', enc: [3, 1, 0, 0, 0], minEl: 1, reset: 0x700fe01an, readonly: true },
  { name: 'CSSELR_EL1', enc: [3, 2, 0, 0, 0], minEl: 1, reset: 0n, writeMask: 0xfn },
  { name: 'VPIDR_EL2', enc: [3, 4, 0, 0, 0], minEl: 2, reset: 0x411fd073n },
  { name: 'VMPIDR_EL2', enc: [3, 4, 0, 0, 5], minEl: 2, hook: 'vmpidr' },

  // Control
  // SCTLR writeMasks: the ARMv8.0 fields (EE/E0E stay 0: no big-endian support); RES1 bits keep their reset value.
  // EL1: M A C SA SA0 CP15BEN ITD SED UMA I DZE UCT nTWI nTWE WXN UCI
  { name: 'SCTLR_EL1', enc: [3, 0, 1, 0, 0], minEl: 1, reset: 0x30d00800n, hook: 'sctlr', writeMask: 0x040df3bfn },
  { name: 'ACTLR_EL1', enc: [3, 0, 1, 0, 1], minEl: 1, reset: 0n },
  { name: 'CPACR_EL1', enc: [3, 0, 1, 0, 2], minEl: 1, reset: 0n, writeMask: 0x30300000n },
  // EL2 (no VHE): M A C SA I WXN
  { name: 'SCTLR_EL2', enc: [3, 4, 1, 0, 0], minEl: 2, reset: 0x30c50838n, hook: 'sctlr', writeMask: 0x0008100fn },
  { name: 'ACTLR_EL2', enc: [3, 4, 1, 0, 1], minEl: 2, reset: 0n },
  // HCR_EL2: bits 33:0 (ARMv8.0); RW (31) is RAO/WI because EL1 is AArch64-only.
  { name: 'HCR_EL2', enc: [3, 4, 1, 1, 0], minEl: 2, reset: 0x80000000n, hook: 'hcr', writeMask: 0x3ffffffffn },
  // MDCR_EL2: HPMN TPMCR TPM HPME TDE TDA TDOSA TDRA (HPMN resets to PMCR_EL0.N = 0: no PMU)
  { name: 'MDCR_EL2', enc: [3, 4, 1, 1, 1], minEl: 2, reset: 0n, writeMask: 0xfffn },
  // CPTR_EL2 (no VHE): TCPAC TTA TFP writable, bits 13:12 and 9:0 RES1
  { name: 'CPTR_EL2', enc: [3, 4, 1, 1, 2], minEl: 2, reset: 0x33ffn, writeMask: 0x80100400n },
  { name: 'HSTR_EL2', enc: [3, 4, 1, 1, 3], minEl: 2, reset: 0n },
  { name: 'HACR_EL2', enc: [3, 4, 1, 1, 7], minEl: 2, reset: 0n },

  // Translation
  // TTBRs: ASID/VMID 63:48, BADDR 47:1 (bit 0 CnP is ARMv8.2: RES0). TCR_EL1: the ARMv8.0 fields (RES0 6, 35).
  { name: 'TTBR0_EL1', enc: [3, 0, 2, 0, 0], minEl: 1, reset: 0n, hook: 'ttbr', writeMask: 0xfffffffffffffffen },
  { name: 'TTBR1_EL1', enc: [3, 0, 2, 0, 1], minEl: 1, reset: 0n, hook: 'ttbr', writeMask: 0xfffffffffffffffen },
  { name: 'TCR_EL1', enc: [3, 0, 2, 0, 2], minEl: 1, reset: 0n, hook: 'ttbr', writeMask: 0x77fffffffbfn },
  { name: 'TTBR0_EL2', enc: [3, 4, 2, 0, 0], minEl: 2, reset: 0n, hook: 'ttbr', writeMask: 0x0000fffffffffffen },
  // TCR_EL2 (no VHE): T0SZ IRGN0 ORGN0 SH0 TG0 PS TBI; bits 31 and 23 RES1
  { name: 'TCR_EL2', enc: [3, 4, 2, 0, 2], minEl: 2, reset: 0x80800000n, hook: 'ttbr', writeMask: 0x17ff3fn },
  { name: 'VTTBR_EL2', enc: [3, 4, 2, 1, 0], minEl: 2, reset: 0n, hook: 'ttbr', writeMask: 0x00fffffffffffffen },
  // VTCR_EL2: T0SZ SL0 IRGN0 ORGN0 SH0 TG0 PS; bit 31 RES1
  { name: 'VTCR_EL2', enc: [3, 4, 2, 1, 2], minEl: 2, reset: 0x80000000n, hook: 'ttbr', writeMask: 0x7ffffn },
  { name: 'MAIR_EL1', enc: [3, 0, 10, 2, 0], minEl: 1, reset: 0n, hook: 'ttbr' },
  { name: 'AMAIR_EL1', enc: [3, 0, 10, 3, 0], minEl: 1, reset: 0n },
  { name: 'MAIR_EL2', enc: [3, 4, 10, 2, 0], minEl: 2, reset: 0n, hook: 'ttbr' },
  { name: 'AMAIR_EL2', enc: [3, 4, 10, 3, 0], minEl: 2, reset: 0n },
  { name: 'PAR_EL1', enc: [3, 0, 7, 4, 0], minEl: 1, reset: 0n },
  { name: 'CONTEXTIDR_EL1', enc: [3, 0, 13, 0, 1], minEl: 1, reset: 0n, writeMask: 0xffffffffn },

  // Exception handling
  { name: 'SPSR_EL1', enc: [3, 0, 4, 0, 0], minEl: 1, reset: 0n },
  { name: 'ELR_EL1', enc: [3, 0, 4, 0, 1], minEl: 1, reset: 0n },
  { name: 'SP_EL0', enc: [3, 0, 4, 1, 0], minEl: 1, reset: 0n, hook: 'spEl0' },
  { name: 'SPSR_EL2', enc: [3, 4, 4, 0, 0], minEl: 2, reset: 0n },
  { name: 'ELR_EL2', enc: [3, 4, 4, 0, 1], minEl: 2, reset: 0n },
  { name: 'SP_EL1', enc: [3, 4, 4, 1, 0], minEl: 2, reset: 0n, hook: 'spEl1' },
  { name: 'SP_EL2', enc: [3, 6, 4, 1, 0], minEl: 3, reset: 0n },
  { name: 'SPSR_IRQ', enc: [3, 4, 4, 3, 0], minEl: 2, reset: 0n },
  { name: 'SPSR_ABT', enc: [3, 4, 4, 3, 1], minEl: 2, reset: 0n },
  { name: 'SPSR_UND', enc: [3, 4, 4, 3, 2], minEl: 2, reset: 0n },
  { name: 'SPSR_FIQ', enc: [3, 4, 4, 3, 3], minEl: 2, reset: 0n },
  { name: 'ESR_EL1', enc: [3, 0, 5, 2, 0], minEl: 1, reset: 0n },
  { name: 'ESR_EL2', enc: [3, 4, 5, 2, 0], minEl: 2, reset: 0n },
  { name: 'AFSR0_EL1', enc: [3, 0, 5, 1, 0], minEl: 1, reset: 0n },
  { name: 'AFSR1_EL1', enc: [3, 0, 5, 1, 1], minEl: 1, reset: 0n },
  { name: 'AFSR0_EL2', enc: [3, 4, 5, 1, 0], minEl: 2, reset: 0n },
  { name: 'AFSR1_EL2', enc: [3, 4, 5, 1, 1], minEl: 2, reset: 0n },
  { name: 'FAR_EL1', enc: [3, 0, 6, 0, 0], minEl: 1, reset: 0n },
  { name: 'FAR_EL2', enc: [3, 4, 6, 0, 0], minEl: 2, reset: 0n },
  { name: 'HPFAR_EL2', enc: [3, 4, 6, 0, 4], minEl: 2, reset: 0n },
  { name: 'VBAR_EL1', enc: [3, 0, 12, 0, 0], minEl: 1, reset: 0n, writeMask: ~0x7ffn & 0xffffffffffffffffn },
  { name: 'VBAR_EL2', enc: [3, 4, 12, 0, 0], minEl: 2, reset: 0n, writeMask: ~0x7ffn & 0xffffffffffffffffn },
  { name: 'ISR_EL1', enc: [3, 0, 12, 1, 0], minEl: 1, readonly: true, hook: 'isr' },

  // Thread IDs
  { name: 'TPIDR_EL0', enc: [3, 3, 13, 0, 2], minEl: 0, reset: 0n },
  { name: 'TPIDRRO_EL0', enc: [3, 3, 13, 0, 3], minEl: 0, reset: 0n, hook: 'tpidrro' },
  { name: 'TPIDR_EL1', enc: [3, 0, 13, 0, 4], minEl: 1, reset: 0n },
  { name: 'TPIDR_EL2', enc: [3, 4, 13, 0, 2], minEl: 2, reset: 0n },

  // PSTATE views
  { name: 'NZCV', enc: [3, 3, 4, 2, 0], minEl: 0, hook: 'nzcv' },
  { name: 'DAIF', enc: [3, 3, 4, 2, 1], minEl: 0, hook: 'daif' },
  { name: 'CurrentEL', enc: [3, 0, 4, 2, 2], minEl: 1, readonly: true, hook: 'currentEl' },
  { name: 'SPSel', enc: [3, 0, 4, 2, 0], minEl: 1, hook: 'spSel' },
  { name: 'FPCR', enc: [3, 3, 4, 4, 0], minEl: 0, hook: 'fpcr' },
  { name: 'FPSR', enc: [3, 3, 4, 4, 1], minEl: 0, hook: 'fpsr' },

  // Debug (accepted and stored; no debug events are generated)
  { name: 'MDSCR_EL1', enc: [2, 0, 0, 2, 2], minEl: 1, reset: 0n },
  { name: 'OSLAR_EL1', enc: [2, 0, 1, 0, 4], minEl: 1, reset: 0n },
  { name: 'OSLSR_EL1', enc: [2, 0, 1, 1, 4], minEl: 1, reset: 0xan, readonly: true },
  { name: 'OSDLR_EL1', enc: [2, 0, 1, 3, 4], minEl: 1, reset: 0n },
  { name: 'MDCCINT_EL1', enc: [2, 0, 0, 2, 0], minEl: 1, reset: 0n },
  { name: 'DBGCLAIMCLR_EL1', enc: [2, 0, 7, 9, 6], minEl: 1, reset: 0n },
  { name: 'DBGCLAIMSET_EL1', enc: [2, 0, 7, 8, 6], minEl: 1, reset: 0n },
  { name: 'MDRAR_EL1', enc: [2, 0, 1, 0, 0], minEl: 1, reset: 0n, readonly: true },
  { name: 'DBGPRCR_EL1', enc: [2, 0, 1, 4, 4], minEl: 1, reset: 0n, writeMask: 1n },
  { name: 'MDCCSR_EL0', enc: [2, 3, 0, 1, 0], minEl: 0, reset: 0n, readonly: true },
  { name: 'DBGAUTHSTATUS_EL1', enc: [2, 0, 7, 14, 6], minEl: 1, reset: 0n, readonly: true },
  // the two breakpoints and two watchpoints ID_AA64DFR0_EL1 advertises (Linux resets them at boot)
  { name: 'DBGBVR0_EL1', enc: [2, 0, 0, 0, 4], minEl: 1, reset: 0n },
  { name: 'DBGBCR0_EL1', enc: [2, 0, 0, 0, 5], minEl: 1, reset: 0n },
  { name: 'DBGWVR0_EL1', enc: [2, 0, 0, 0, 6], minEl: 1, reset: 0n },
  { name: 'DBGWCR0_EL1', enc: [2, 0, 0, 0, 7], minEl: 1, reset: 0n },
  { name: 'DBGBVR1_EL1', enc: [2, 0, 0, 1, 4], minEl: 1, reset: 0n },
  { name: 'DBGBCR1_EL1', enc: [2, 0, 0, 1, 5], minEl: 1, reset: 0n },
  { name: 'DBGWVR1_EL1', enc: [2, 0, 0, 1, 6], minEl: 1, reset: 0n },
  { name: 'DBGWCR1_EL1', enc: [2, 0, 0, 1, 7], minEl: 1, reset: 0n },

  // GICv3 CPU interface (hv/irqchip/gic-sysregs.ts, state in hv/irqchip/gicv3.ts). 5 priority bits, so one
  // active-priorities register per group; AP0R1-3/AP1R1-3 do not exist (UNDEFINED, as on QEMU).
  { name: 'ICC_PMR_EL1', enc: [3, 0, 4, 6, 0], minEl: 1, hook: 'icc' },
  { name: 'ICC_IAR0_EL1', enc: [3, 0, 12, 8, 0], minEl: 1, readonly: true, hook: 'icc' },
  { name: 'ICC_EOIR0_EL1', enc: [3, 0, 12, 8, 1], minEl: 1, hook: 'icc' },
  { name: 'ICC_HPPIR0_EL1', enc: [3, 0, 12, 8, 2], minEl: 1, readonly: true, hook: 'icc' },
  { name: 'ICC_BPR0_EL1', enc: [3, 0, 12, 8, 3], minEl: 1, hook: 'icc' },
  { name: 'ICC_AP0R0_EL1', enc: [3, 0, 12, 8, 4], minEl: 1, hook: 'icc' },
  { name: 'ICC_AP1R0_EL1', enc: [3, 0, 12, 9, 0], minEl: 1, hook: 'icc' },
  { name: 'ICC_DIR_EL1', enc: [3, 0, 12, 11, 1], minEl: 1, hook: 'icc' },
  { name: 'ICC_RPR_EL1', enc: [3, 0, 12, 11, 3], minEl: 1, readonly: true, hook: 'icc' },
  { name: 'ICC_SGI1R_EL1', enc: [3, 0, 12, 11, 5], minEl: 1, hook: 'icc' },
  { name: 'ICC_ASGI1R_EL1', enc: [3, 0, 12, 11, 6], minEl: 1, hook: 'icc' },
  { name: 'ICC_SGI0R_EL1', enc: [3, 0, 12, 11, 7], minEl: 1, hook: 'icc' },
  { name: 'ICC_IAR1_EL1', enc: [3, 0, 12, 12, 0], minEl: 1, readonly: true, hook: 'icc' },
  { name: 'ICC_EOIR1_EL1', enc: [3, 0, 12, 12, 1], minEl: 1, hook: 'icc' },
  { name: 'ICC_HPPIR1_EL1', enc: [3, 0, 12, 12, 2], minEl: 1, readonly: true, hook: 'icc' },
  { name: 'ICC_BPR1_EL1', enc: [3, 0, 12, 12, 3], minEl: 1, hook: 'icc' },
  { name: 'ICC_CTLR_EL1', enc: [3, 0, 12, 12, 4], minEl: 1, hook: 'icc' },
  { name: 'ICC_SRE_EL1', enc: [3, 0, 12, 12, 5], minEl: 1, hook: 'icc' },
  { name: 'ICC_IGRPEN0_EL1', enc: [3, 0, 12, 12, 6], minEl: 1, hook: 'icc' },
  { name: 'ICC_IGRPEN1_EL1', enc: [3, 0, 12, 12, 7], minEl: 1, hook: 'icc' },
  { name: 'ICC_SRE_EL2', enc: [3, 4, 12, 9, 5], minEl: 2, hook: 'icc' },
  // GICv3 virtual CPU interface control (ICH_*_EL2), as Linux's EL2 set-up and KVM's probe
  // use them. The registers hold their values; list-register injection into a guest is not
  // modelled yet (nested virtualization work). ICH_VTR_EL2 describes QEMU's interface:
  // 4 list registers, 5 priority and preemption bits, 16-bit IDs, TDS and A3V.
  { name: 'ICH_AP0R0_EL2', enc: [3, 4, 12, 8, 0], minEl: 2, reset: 0n, writeMask: 0xffffffffn },
  { name: 'ICH_AP1R0_EL2', enc: [3, 4, 12, 9, 0], minEl: 2, reset: 0n, writeMask: 0xffffffffn },
  { name: 'ICH_HCR_EL2', enc: [3, 4, 12, 11, 0], minEl: 2, reset: 0n, writeMask: 0xf80076ffn },
  { name: 'ICH_VTR_EL2', enc: [3, 4, 12, 11, 1], minEl: 2, readonly: true, reset: (3n) | (1n << 19n) | (1n << 21n) | (4n << 26n) | (4n << 29n) },
  { name: 'ICH_MISR_EL2', enc: [3, 4, 12, 11, 2], minEl: 2, readonly: true, reset: 0n },
  { name: 'ICH_EISR_EL2', enc: [3, 4, 12, 11, 3], minEl: 2, readonly: true, reset: 0n },
  { name: 'ICH_ELRSR_EL2', enc: [3, 4, 12, 11, 5], minEl: 2, readonly: true, reset: 0xfn },
  { name: 'ICH_VMCR_EL2', enc: [3, 4, 12, 11, 7], minEl: 2, reset: 0n, writeMask: 0xff7c021fn },
  { name: 'ICH_LR0_EL2', enc: [3, 4, 12, 12, 0], minEl: 2, reset: 0n, writeMask: 0xf1ff03ffffffffffn },
  { name: 'ICH_LR1_EL2', enc: [3, 4, 12, 12, 1], minEl: 2, reset: 0n, writeMask: 0xf1ff03ffffffffffn },
  { name: 'ICH_LR2_EL2', enc: [3, 4, 12, 12, 2], minEl: 2, reset: 0n, writeMask: 0xf1ff03ffffffffffn },
  { name: 'ICH_LR3_EL2', enc: [3, 4, 12, 12, 3], minEl: 2, reset: 0n, writeMask: 0xf1ff03ffffffffffn },

  // Generic timer (hv/timer/timer-sysregs.ts, hv/timer/generic-timer.ts). CNTFRQ as on QEMU virt; CTL/CVAL are stored
  // here (reset clears them), the hooks compute counts, TVAL, ISTATUS and the EL0/EL2 access traps.
  { name: 'CNTFRQ_EL0', enc: [3, 3, 14, 0, 0], minEl: 0, reset: 62_500_000n, writeMask: 0xffffffffn, hook: 'cntFrequency' },
  { name: 'CNTPCT_EL0', enc: [3, 3, 14, 0, 1], minEl: 0, readonly: true, hook: 'cntCounter' },
  { name: 'CNTVCT_EL0', enc: [3, 3, 14, 0, 2], minEl: 0, readonly: true, hook: 'cntCounter' },
  { name: 'CNTKCTL_EL1', enc: [3, 0, 14, 1, 0], minEl: 1, reset: 0n, writeMask: 0x3ffn },
  { name: 'CNTP_TVAL_EL0', enc: [3, 3, 14, 2, 0], minEl: 0, hook: 'cntTimer' },
  { name: 'CNTP_CTL_EL0', enc: [3, 3, 14, 2, 1], minEl: 0, reset: 0n, hook: 'cntTimer' },
  { name: 'CNTP_CVAL_EL0', enc: [3, 3, 14, 2, 2], minEl: 0, reset: 0n, hook: 'cntTimer' },
  { name: 'CNTV_TVAL_EL0', enc: [3, 3, 14, 3, 0], minEl: 0, hook: 'cntTimer' },
  { name: 'CNTV_CTL_EL0', enc: [3, 3, 14, 3, 1], minEl: 0, reset: 0n, hook: 'cntTimer' },
  { name: 'CNTV_CVAL_EL0', enc: [3, 3, 14, 3, 2], minEl: 0, reset: 0n, hook: 'cntTimer' },
  // EL1PCTEN/EL1PCEN reset to 1 as QEMU does (IMPLEMENTATION DEFINED in ARMv8)
  { name: 'CNTHCTL_EL2', enc: [3, 4, 14, 1, 0], minEl: 2, reset: 3n, writeMask: 0xffn },
  { name: 'CNTVOFF_EL2', enc: [3, 4, 14, 0, 3], minEl: 2, reset: 0n, hook: 'cntvoff' },
  { name: 'CNTHP_TVAL_EL2', enc: [3, 4, 14, 2, 0], minEl: 2, hook: 'cntTimer' },
  { name: 'CNTHP_CTL_EL2', enc: [3, 4, 14, 2, 1], minEl: 2, reset: 0n, hook: 'cntTimer' },
  { name: 'CNTHP_CVAL_EL2', enc: [3, 4, 14, 2, 2], minEl: 2, reset: 0n, hook: 'cntTimer' },
];

/** Decoded table: key -> definition and storage slot. */
export interface SysregEntry extends SysregDef { key: number; slot: number }

export const SYSREG_BY_KEY = new Map<number, SysregEntry>();
export const SYSREG_BY_NAME = new Map<string, SysregEntry>();

SYSREGS.forEach((def, slot) => {
  const key = sysregKey(...def.enc);
  if (SYSREG_BY_KEY.has(key)) throw new Error(`duplicate system register encoding ${def.name}`);
  const entry = { ...def, key, slot };
  SYSREG_BY_KEY.set(key, entry);
  SYSREG_BY_NAME.set(def.name, entry);
});
if (SYSREGS.length > 256) throw new Error('system register slots overflow');

/** Storage slot of a named register (throws for a typo at start-up, not at run time). */
export function slotOf(name: string): number {
  const e = SYSREG_BY_NAME.get(name);
  if (!e) throw new Error(`unknown system register ${name}`);
  return e.slot;
}
