// The VMSAv8-64 translation table walker (Arm ARM D5): stage 1 for the
// EL1&0 regime (TTBR0/TTBR1_EL1, TCR_EL1) and the EL2 regime (TTBR0_EL2,
// TCR_EL2), and stage 2 (VTTBR_EL2, VTCR_EL2) for EL1&0 when HCR_EL2.VM is
// set. Every stage-1 table access and the stage-1 output address go through
// stage 2, so the two compose as the architecture describes.
//
// The walker runs only on soft-TLB misses (and for AT). It is BigInt-free:
// virtual addresses arrive as two u32 halves, physical/intermediate
// addresses are JS numbers (< 2^48, exact in a double), and descriptors are
// read as two u32 halves from wasm memory.
//
// ARMv8.0 only: no hardware Access flag / dirty state update (AF=0 is an
// Access flag fault), no PAN, no 52-bit addresses, no VHE. The contiguous bit
// is a TLB hint and is ignored.

import type { Cpu, Mmu } from '../cpu';
import { Access, PA_BITS, Prot, type Translation, type TranslationFault } from './translation';
import { FaultStatus } from '../system/exceptions';
import { slotOf } from '../system/sysregs';
import { POW2 } from '../state';

const TWO32 = 0x1_0000_0000;

const SCTLR_EL1 = slotOf('SCTLR_EL1');
const SCTLR_EL2 = slotOf('SCTLR_EL2');
const TCR_EL1 = slotOf('TCR_EL1');
const TCR_EL2 = slotOf('TCR_EL2');
const TTBR0_EL1 = slotOf('TTBR0_EL1');
const TTBR1_EL1 = slotOf('TTBR1_EL1');
const TTBR0_EL2 = slotOf('TTBR0_EL2');
const MAIR_EL1 = slotOf('MAIR_EL1');
const MAIR_EL2 = slotOf('MAIR_EL2');
const VTCR_EL2 = slotOf('VTCR_EL2');
const VTTBR_EL2 = slotOf('VTTBR_EL2');

/** HCR_EL2 bits the translation regime depends on. */
export const HCR = { VM: 1 << 0, DC: 1 << 12, TGE: 1 << 27 } as const;
const SCTLR_M = 1 << 0;
const SCTLR_A = 1 << 1;
const SCTLR_WXN = 1 << 19;

/** Synchronous external abort on a translation table walk (DFSC 0b0101LL). */
const SYNC_EXTERNAL_WALK = 0x14;

/** Output address size in bits for TCR.IPS / TCR_EL2.PS / VTCR_EL2.PS, capped by the implemented PA size. */
function outputBits(ps: number): number {
  const bits = [32, 36, 40, 42, 44, 48, 52, 52][ps & 7];
  return Math.min(bits, PA_BITS);
}

/** Mask of bits f..t (inclusive, 0 <= f <= t <= 31) as an unsigned number. */
function maskBits(f: number, t: number): number {
  const width = t - f + 1;
  return (width >= 32 ? 0xffffffff : ((1 << width) - 1) << f) >>> 0;
}

/** True when bits from..to (inclusive) of the 64-bit value lo:hi are all `ones`. */
function bitsAll(lo: number, hi: number, from: number, to: number, ones: boolean): boolean {
  if (from > to) return true;
  if (from < 32) {
    const m = maskBits(from, Math.min(to, 31));
    if (((lo & m) >>> 0) !== (ones ? m : 0)) return false;
  }
  if (to >= 32) {
    const m = maskBits(Math.max(from, 32) - 32, to - 32);
    if (((hi & m) >>> 0) !== (ones ? m : 0)) return false;
  }
  return true;
}

/** `n` (<= 20) bits of the 64-bit value lo:hi starting at bit `shift`. */
function field(lo: number, hi: number, shift: number, n: number): number {
  let v: number;
  if (shift >= 32) v = hi >>> (shift - 32);
  else if (shift === 0) v = lo;
  else v = (lo >>> shift) | (hi << (32 - shift));
  return (v & ((1 << n) - 1)) >>> 0;
}

/** Bits 47:shift of a descriptor (or TTBR) as a number, the lower bits cleared. */
function addressBits(lo: number, hi: number, shift: number): number {
  const h = hi & 0xffff;
  if (shift >= 32) return ((h >>> (shift - 32)) << (shift - 32)) * TWO32;
  return h * TWO32 + ((lo >>> shift) << shift >>> 0);
}

/** VA bits shift-1..0: the offset inside a mapping of 2^shift bytes. */
function offsetIn(lo: number, hi: number, shift: number): number {
  if (shift >= 32) return (hi & maskBits(0, shift - 33)) * TWO32 + lo;
  return (lo & maskBits(0, shift - 1)) >>> 0;
}

/** Translation granule size (log2) for TCR.TG0 and VTCR_EL2.TG0: 0 = 4K, 1 = 64K, 2 = 16K (3 reserved: 4K). */
function granuleTg0(tg: number): number { return tg === 1 ? 16 : tg === 2 ? 14 : 12; }
/** TCR.TG1: 1 = 16K, 2 = 4K, 3 = 64K (0 reserved: 4K). */
function granuleTg1(tg: number): number { return tg === 1 ? 14 : tg === 3 ? 16 : 12; }

/** Block descriptors allowed at `level` for a granule (ARMv8.0, 48-bit OA): 4K at levels 1-2, 16K/64K at level 2. */
function blockAllowed(granule: number, level: number): boolean {
  return granule === 12 ? level === 1 || level === 2 : level === 2;
}

/** TxSZ outside the architected range is CONSTRAINED UNPREDICTABLE; like QEMU, clamp it. */
function clampTsz(tsz: number): number { return tsz < 16 ? 16 : tsz > 39 ? 39 : tsz; }

/** Result of one stage (kept in preallocated objects: no allocation per walk). */
class StageResult {
  /** Output address (of the byte requested). */
  addr = 0;
  /** Prot bits at the privilege of the access. */
  prot = 0;
  /** Log2 of the size of the mapping (block or page). */
  sizeBits = 12;
  /** MAIR attribute byte (stage 1) or 0xff / 0x00 for Normal / Device at stage 2. */
  attr = 0xff;
  /** Shareability field. */
  sh = 0;
  /** nG = 0 in the final descriptor (stage 1). */
  global = true;
}

/**
 * One walker per vCPU (it keeps that CPU's block bookkeeping). Installed by
 * `installMmu` as `cpu.mmu`.
 */
export class TableWalker implements Mmu {
  private readonly s1 = new StageResult();
  private readonly s2 = new StageResult();
  /** MAIR attribute and shareability of the last successful translation (for AT -> PAR_EL1). */
  lastAttr = 0;
  lastSh = 0;
  /**
   * Block mappings larger than a soft-TLB page handed out since the last full
   * flush: log2 size -> set of VA block numbers (top byte ignored). A TLBI by
   * VA inside one of them must drop every soft-TLB page of the block.
   */
  readonly blocks = new Map<number, Set<number>>();

  translate(cpu: Cpu, vaLo: number, vaHi: number, access: Access, el: number, out: Translation, fault: TranslationFault): boolean {
    return this.translateStages(cpu, vaLo, vaHi, access, el, out, fault, true);
  }

  /**
   * The translation regime of `el` (2: EL2, else EL1&0 checked at that EL's
   * privilege). With `outputStage2` false the result is the stage-1 output
   * (an IPA when stage 2 is on: AT S1E1*), though the stage-1 table walk
   * itself still goes through stage 2.
   */
  translateStages(cpu: Cpu, vaLo: number, vaHi: number, access: Access, el: number, out: Translation, fault: TranslationFault, outputStage2: boolean): boolean {
    fault.stage2 = false; fault.s1ptw = false; fault.ipa = 0;
    const hcr = cpu.hcrLo();
    const stage2 = el < 2 && (hcr & HCR.VM) !== 0 && (hcr & HCR.TGE) === 0;
    const s1 = this.s1;
    if (el === 2 ? (cpu.sysregLo(SCTLR_EL2) & SCTLR_M) !== 0 : (cpu.sysregLo(SCTLR_EL1) & SCTLR_M) !== 0 && (hcr & (HCR.TGE | HCR.DC)) === 0) {
      if (!this.stage1(cpu, vaLo, vaHi, access, el, stage2, fault)) return false;
    } else {
      // Stage 1 disabled: flat, faulting above the implemented PA size (D5.2.9).
      if (vaHi >>> (PA_BITS - 32) !== 0) { fault.status = FaultStatus.ADDR_SIZE; return false; }
      s1.addr = vaHi * TWO32 + vaLo;
      s1.prot = Prot.READ | Prot.WRITE | Prot.EXEC;
      s1.sizeBits = 12;
      // Data accesses are Device-nGnRnE with the MMU off (HCR_EL2.DC: Normal). We keep them Normal in
      // the soft-TLB (no alignment faults) so MMU-off code runs at full speed; AT still reports Device.
      s1.attr = el < 2 && (hcr & HCR.DC) ? 0xff : access === Access.Exec ? 0xff : 0x00;
      s1.sh = 2;
      s1.global = true;
    }
    let pa = s1.addr, prot = s1.prot, sizeBits = s1.sizeBits;
    if (stage2 && outputStage2) {
      if (!this.stage2(cpu, s1.addr, access, false, fault)) return false;
      const s2 = this.s2;
      pa = s2.addr;
      prot &= s2.prot | Prot.DEVICE;
      if (s2.prot & Prot.DEVICE) prot |= Prot.DEVICE;
      if (s2.sizeBits < sizeBits) sizeBits = s2.sizeBits;
    }
    // SCTLR_ELx.A: every unaligned data access faults, as for Device memory (Prot.DEVICE keeps the
    // accesses on the slow path, where alignment is checked)
    if (cpu.sysregLo(el === 2 ? SCTLR_EL2 : SCTLR_EL1) & SCTLR_A) prot |= Prot.DEVICE;
    out.pa = pa;
    out.prot = prot;
    out.global = s1.global;
    this.lastAttr = s1.attr;
    this.lastSh = s1.sh;
    if (sizeBits > 12) this.noteBlock(vaLo, vaHi, sizeBits);
    return true;
  }

  /** Records a block mapping handed to the soft-TLB (see `blocks`). */
  private noteBlock(vaLo: number, vaHi: number, bits: number): void {
    let set = this.blocks.get(bits);
    if (!set) this.blocks.set(bits, (set = new Set()));
    set.add(blockKey(vaLo, vaHi, bits));
  }

  /** Size (log2) of the cached block mapping containing the VA, or 0 when the VA is not in one. */
  blockContaining(vaLo: number, vaHi: number): number {
    let best = 0;
    for (const [bits, set] of this.blocks) if (bits > best && set.has(blockKey(vaLo, vaHi, bits))) best = bits;
    return best;
  }

  /** Stage 1 of the EL1&0 (el 0/1) or EL2 regime; result in this.s1. */
  private stage1(cpu: Cpu, vaLo: number, vaHi: number, access: Access, el: number, stage2: boolean, fault: TranslationFault): boolean {
    const el2 = el === 2;
    let tsz: number, granule: number, tbi: boolean, ttbrSlot: number, ps: number, upper = false;
    if (el2) {
      const tcr = cpu.sysregLo(TCR_EL2);
      tsz = tcr & 63; granule = granuleTg0((tcr >>> 14) & 3); ps = (tcr >>> 16) & 7; tbi = (tcr & (1 << 20)) !== 0;
      ttbrSlot = TTBR0_EL2;
    } else {
      const tcr = cpu.sysregLo(TCR_EL1), tcrHi = cpu.sysregHi(TCR_EL1);
      ps = tcrHi & 7;
      upper = ((vaHi >>> 23) & 1) !== 0; // VA bit 55 selects TTBR1 (even with TBI)
      if (!upper) {
        // EPD0: a walk using TTBR0 faults at level 0
        if (tcr & (1 << 7)) return this.translationFault(fault, 0);
        tsz = tcr & 63; granule = granuleTg0((tcr >>> 14) & 3); tbi = (tcrHi & (1 << 5)) !== 0; ttbrSlot = TTBR0_EL1;
      } else {
        if (tcr & (1 << 23)) return this.translationFault(fault, 0);
        tsz = (tcr >>> 16) & 63; granule = granuleTg1((tcr >>> 30) & 3); tbi = (tcrHi & (1 << 6)) !== 0; ttbrSlot = TTBR1_EL1;
      }
    }
    const inputSize = 64 - clampTsz(tsz);
    // The bits above the input range (up to 55 with top-byte-ignore) must be all 0 (TTBR0) or all 1 (TTBR1).
    if (!bitsAll(vaLo, vaHi, inputSize, tbi ? 55 : 63, upper)) return this.translationFault(fault, 0);
    const oaBits = outputBits(ps);
    const stride = granule - 3;
    const startLevel = 4 - Math.ceil((inputSize - granule) / stride);
    const startShift = granule + stride * (3 - startLevel);
    const baseLow = 3 + inputSize - startShift; // the start table is 2^(inputSize-startShift) entries
    const ttbrLo = cpu.sysregLo(ttbrSlot), ttbrHi = cpu.sysregHi(ttbrSlot);
    if ((ttbrHi & 0xffff) >>> (oaBits - 32) !== 0) return this.fault(fault, FaultStatus.ADDR_SIZE, 0);
    let table = addressBits(ttbrLo, ttbrHi, baseLow);

    let apTable = 0, xnTable = 0, pxnTable = 0;
    let level = startLevel;
    let lo: number, hi: number, shift: number;
    for (;;) {
      shift = granule + stride * (3 - level);
      const index = field(vaLo, vaHi, shift, level === startLevel ? inputSize - shift : stride);
      let descAddr = table + index * 8;
      if (stage2) {
        // the stage-1 walk's own accesses are translated (and may fault) at stage 2
        if (!this.stage2(cpu, descAddr, Access.Read, true, fault)) return false;
        descAddr = this.s2.addr;
      }
      const ram = cpu.bus.ramOffset(descAddr);
      if (ram < 0) return this.fault(fault, SYNC_EXTERNAL_WALK, level);
      lo = cpu.u32[ram >> 2]; hi = cpu.u32[(ram >> 2) + 1];
      if ((lo & 1) === 0) return this.translationFault(fault, level);
      if (level === 3) {
        if ((lo & 2) === 0) return this.translationFault(fault, level); // reserved encoding at level 3
        break;
      }
      if ((lo & 2) === 0) {
        if (!blockAllowed(granule, level)) return this.translationFault(fault, level);
        break;
      }
      const next = addressBits(lo, hi, granule);
      if (next >= POW2[oaBits]) return this.fault(fault, FaultStatus.ADDR_SIZE, level);
      // hierarchical attributes: APTable 62:61, XNTable (UXNTable) 60, PXNTable 59
      apTable |= (hi >>> 29) & 3; xnTable |= (hi >>> 28) & 1; pxnTable |= (hi >>> 27) & 1;
      table = next;
      level++;
    }
    const oa = addressBits(lo, hi, shift);
    if (oa >= POW2[oaBits]) return this.fault(fault, FaultStatus.ADDR_SIZE, level);
    if ((lo & (1 << 10)) === 0) return this.fault(fault, FaultStatus.ACCESS_FLAG, level);

    // Permissions (D5.4): AP[2] read-only, AP[1] EL0 access; the table bits can only restrict.
    const ap = (lo >>> 6) & 3;
    const wxn = (cpu.sysregLo(el2 ? SCTLR_EL2 : SCTLR_EL1) & SCTLR_WXN) !== 0;
    const xn = ((hi >>> 22) & 1) | xnTable; // UXN / XN, bit 54
    let prot: number;
    if (el2) {
      // single privilege: AP[1] and APTable[0] are ignored, PXN is RES0
      const w = !(ap & 2) && !(apTable & 2);
      prot = Prot.READ | (w ? Prot.WRITE : 0) | (!xn && !(wxn && w) ? Prot.EXEC : 0);
    } else {
      const privW = !(ap & 2) && !(apTable & 2);
      const userR = (ap & 1) !== 0 && !(apTable & 1);
      const userW = userR && privW;
      if (el === 0) {
        prot = (userR ? Prot.READ : 0) | (userW ? Prot.WRITE : 0) | (!xn && !(wxn && userW) ? Prot.EXEC : 0);
      } else {
        // EL1 never executes memory that EL0 can write
        const pxn = ((hi >>> 21) & 1) | pxnTable;
        prot = Prot.READ | (privW ? Prot.WRITE : 0) | (!pxn && !userW && !(wxn && privW) ? Prot.EXEC : 0);
      }
    }
    const attrIndex = (lo >>> 2) & 7;
    const mairSlot = el2 ? MAIR_EL2 : MAIR_EL1;
    const mair = attrIndex < 4 ? cpu.sysregLo(mairSlot) : cpu.sysregHi(mairSlot);
    const attr = (mair >>> ((attrIndex & 3) * 8)) & 0xff;
    if ((attr & 0xf0) === 0) prot |= Prot.DEVICE;
    if (!this.permits(prot, access)) return this.fault(fault, FaultStatus.PERMISSION, level);

    const s1 = this.s1;
    s1.addr = oa + offsetIn(vaLo, vaHi, shift);
    s1.prot = prot;
    s1.sizeBits = shift;
    s1.attr = attr;
    s1.sh = (attr & 0xf0) === 0 ? 2 : (lo >>> 8) & 3; // Device memory is reported Outer Shareable
    s1.global = el2 || (lo & (1 << 11)) === 0; // the EL2 regime has no ASIDs
    return true;
  }

  /**
   * Stage 2 of an intermediate physical address; result in this.s2. `s1ptw`
   * marks a translation done for a stage-1 table walk (ESR.S1PTW).
   */
  private stage2(cpu: Cpu, ipa: number, access: Access, s1ptw: boolean, fault: TranslationFault): boolean {
    const vtcr = cpu.sysregLo(VTCR_EL2);
    const inputSize = 64 - clampTsz(vtcr & 63);
    const sl0 = (vtcr >>> 6) & 3;
    const granule = granuleTg0((vtcr >>> 14) & 3);
    const oaBits = outputBits((vtcr >>> 16) & 7);
    const stride = granule - 3;
    fault.ipa = ipa; fault.s1ptw = s1ptw;
    if (ipa >= POW2[inputSize]) return this.s2Fault(fault, FaultStatus.TRANSLATION, 0);
    let startLevel: number;
    if (granule === 12) startLevel = sl0 === 0 ? 2 : sl0 === 1 ? 1 : sl0 === 2 ? 0 : -1;
    else startLevel = sl0 === 0 ? 3 : sl0 === 1 ? 2 : sl0 === 2 ? 1 : -1;
    const startShift = granule + stride * (3 - startLevel);
    const startBits = inputSize - startShift;
    // at most 16 concatenated tables at the start level; otherwise a misconfiguration (level 0 fault)
    if (startLevel < 0 || startBits < 1 || startBits > stride + 4) return this.s2Fault(fault, FaultStatus.TRANSLATION, 0);
    const vttbrLo = cpu.sysregLo(VTTBR_EL2), vttbrHi = cpu.sysregHi(VTTBR_EL2);
    if ((vttbrHi & 0xffff) >>> (oaBits - 32) !== 0) return this.s2Fault(fault, FaultStatus.ADDR_SIZE, 0);
    let table = addressBits(vttbrLo, vttbrHi, 3 + startBits);
    const ipaLo = ipa >>> 0, ipaHi = Math.floor(ipa / TWO32);
    let level = startLevel;
    let lo: number, hi: number, shift: number;
    for (;;) {
      shift = granule + stride * (3 - level);
      const index = field(ipaLo, ipaHi, shift, level === startLevel ? startBits : stride);
      const ram = cpu.bus.ramOffset(table + index * 8);
      if (ram < 0) return this.s2Fault(fault, SYNC_EXTERNAL_WALK, level);
      lo = cpu.u32[ram >> 2]; hi = cpu.u32[(ram >> 2) + 1];
      if ((lo & 1) === 0) return this.s2Fault(fault, FaultStatus.TRANSLATION, level);
      if (level === 3) {
        if ((lo & 2) === 0) return this.s2Fault(fault, FaultStatus.TRANSLATION, level);
        break;
      }
      if ((lo & 2) === 0) {
        if (!blockAllowed(granule, level)) return this.s2Fault(fault, FaultStatus.TRANSLATION, level);
        break;
      }
      const next = addressBits(lo, hi, granule);
      if (next >= POW2[oaBits]) return this.s2Fault(fault, FaultStatus.ADDR_SIZE, level);
      table = next; // stage-2 table descriptors carry no hierarchical attributes
      level++;
    }
    const oa = addressBits(lo, hi, shift);
    if (oa >= POW2[oaBits]) return this.s2Fault(fault, FaultStatus.ADDR_SIZE, level);
    if ((lo & (1 << 10)) === 0) return this.s2Fault(fault, FaultStatus.ACCESS_FLAG, level);
    const s2ap = (lo >>> 6) & 3; // bit 6 read, bit 7 write
    const memAttr = (lo >>> 2) & 15;
    let prot = (s2ap & 1 ? Prot.READ : 0) | (s2ap & 2 ? Prot.WRITE : 0) | ((hi >>> 22) & 1 ? 0 : Prot.EXEC);
    if ((memAttr & 0xc) === 0) prot |= Prot.DEVICE;
    if (!this.permits(prot, access)) return this.s2Fault(fault, FaultStatus.PERMISSION, level);
    const s2 = this.s2;
    s2.addr = oa + (ipa % POW2[shift]);
    s2.prot = prot;
    s2.sizeBits = shift;
    s2.attr = (memAttr & 0xc) === 0 ? 0 : 0xff;
    s2.sh = (lo >>> 8) & 3;
    return true;
  }

  private permits(prot: number, access: Access): boolean {
    const need = access === Access.Read ? Prot.READ : access === Access.Write ? Prot.WRITE : Prot.EXEC;
    return (prot & need) !== 0;
  }

  private fault(fault: TranslationFault, status: number, level: number): false {
    fault.status = status | level;
    fault.stage2 = false; fault.s1ptw = false;
    return false;
  }

  private translationFault(fault: TranslationFault, level: number): false {
    return this.fault(fault, FaultStatus.TRANSLATION, level);
  }

  private s2Fault(fault: TranslationFault, status: number, level: number): false {
    fault.status = status | level;
    fault.stage2 = true; // ipa and s1ptw were set on entry
    return false;
  }
}

/** Block number of a VA for a block of 2^bits bytes, ignoring the top byte (TBI) and bits above 55. */
export function blockKey(vaLo: number, vaHi: number, bits: number): number {
  const h = vaHi & 0xffffff;
  if (bits >= 32) return h >>> (bits - 32);
  return h * POW2[32 - bits] + (vaLo >>> bits);
}

/** Gives the CPU its table walker (idempotent). */
export function installMmu(cpu: Cpu): TableWalker {
  if (cpu.mmu instanceof TableWalker) return cpu.mmu;
  const walker = new TableWalker();
  cpu.mmu = walker;
  return walker;
}
