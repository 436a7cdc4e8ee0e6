// Address translation for the CPU: VA -> PA for a given access, with the
// permission and memory-type facts the soft-TLB needs. With the MMU off the
// mapping is flat (VA = PA) and accesses above the implemented PA range
// fault with an address-size fault, as the Arm ARM requires.

export const enum Access { Read = 0, Write = 1, Exec = 2 }

/** Protection bits returned with a translation (for the soft-TLB fill). */
export const Prot = {
  READ: 1,
  WRITE: 2,
  EXEC: 4,
  /** Device memory: unaligned accesses fault and nothing is cached in the fast TLB. */
  DEVICE: 8,
} as const;

/** Reusable, allocation-free translation result. */
export class Translation {
  /** Physical address of the byte requested (a JS number; PAs are < 2^48). */
  pa = 0;
  /** Prot bits valid for the whole page at the privilege of the access. */
  prot = 0;
  /** The mapping is global (stage 1 off, or nG = 0): an ASID or TTBR0 switch leaves it valid. */
  global = true;
}

/** Fault description filled when translation fails; the CPU turns it into an exception. */
export class TranslationFault {
  /** Fault status code (DFSC/IFSC), level included. */
  status = 0;
  /** True for a stage-2 fault (taken to EL2 with HPFAR_EL2 set). */
  stage2 = false;
  /** Intermediate physical address for stage-2 faults. */
  ipa = 0;
  /** Stage-2 fault during a stage-1 table walk (ESR.S1PTW). */
  s1ptw = false;
}

/** Implemented physical address size (bits), matching ID_AA64MMFR0_EL1.PARange = 44 bits. */
export const PA_BITS = 44;
