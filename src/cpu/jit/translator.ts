// Translation of one A64 basic block into one WebAssembly function
// `(param $cpu i32)`. Instruction rows (cpu/a64/*.ts) call the methods here
// to read and write architectural state; this class owns the state layout,
// the inline soft-TLB lookup and the conventions for ending a block.

import { ByteWriter, FunctionBuilder, Op, OpFC, OpSIMD, ValType, type FuncType } from './wasm-emitter';
import { HELPER_TYPES, type HelperName, MemInfo, PC_WORD_SHIFT, SLOW_PATH_TYPES, type SlowPathName } from './helpers';
import { S, DC_ZVA_BITS, TLB_BYTES, TLB_ENTRIES, TLB_ENTRY_SIZE, TLBE, PAGE_BITS, PAGE_SIZE } from '../state';
import { Exception } from '../system/exceptions';
import { AccessIndex, ACCESS_FUNCTIONS, INDEX_SHIFT, type AccessForm, loadOpcode, MMU_INDEX_SHIFT, storeOpcode } from './access-functions';

export interface TranslationContext {
  el: number;
  mmuIdx: number;
  tbFlags: number;
}

const I32 = ValType.I32;
const I64 = ValType.I64;

/** Condition codes, in encoding order. */
export const enum Cond { EQ, NE, CS, CC, MI, PL, VS, VC, HI, LS, GE, LT, GT, LE, AL, NV }

export class Translator {
  readonly fb: FunctionBuilder;
  /** Local holding the vCPU base address (the function's parameter). */
  readonly cpu = 0;
  /** Virtual address of the page being translated: a block never leaves its page. */
  pageVa = 0n;
  /** Offset in that page of the instruction being translated. */
  pcOffset = 0;
  private pcValue: bigint | undefined;
  insn = 0;
  /** Instructions translated so far in this block. */
  count = 0;
  private readonly helperIndex = new Map<HelperName, number>();
  private budgetPatch = -1;

  /** `typeIndex` gives the module's type index for a signature (declared on first use). */
  constructor(readonly ctx: TranslationContext, private readonly typeIndex: (type: FuncType) => number, code?: ByteWriter) {
    this.fb = new FunctionBuilder(1, code);
  }

  /** Moves to the instruction at `offset` in the page. */
  at(offset: number): void {
    this.pcOffset = offset;
    this.pcValue = undefined;
  }

  /**
   * Address of the instruction being translated. Made on demand: translation
   * tracks PC as a page offset, because BigInt arithmetic on every
   * translated instruction was a tenth of translation time.
   */
  get pc(): bigint {
    return (this.pcValue ??= this.pageVa + BigInt(this.pcOffset));
  }

  /** The address `delta` bytes from the instruction being translated (wrapping at 2^64). */
  relative(delta: number): bigint {
    return BigInt.asUintN(64, this.pc + BigInt(delta));
  }

  // ---- block framing --------------------------------------------------------

  /**
   * Region translation: the blocks of one page that reach each other by
   * static branches share one wasm function. `region.indexOf(offset)` gives
   * the in-function index of the block at that offset of the page (or -1
   * when it cannot join), and `next` is the local holding the index of the
   * block to run next (-1: leave).
   */
  region: { indexOf(offset: number): number } | undefined;
  next = -1;
  /**
   * Addresses execution is likely to reach from this translation that it
   * does not cover: static branch targets it cannot chain to, and the return
   * addresses of calls. The engine translates some of them along with it.
   */
  readonly likelyEntries: bigint[] = [];
  /** A helper that may change the translation context ran in this block: its exits must not chain. */
  private contextMayChange = false;

  /** Emits a block's prologue: budget -= <count>, patched in `finish`. */
  begin(): void {
    const f = this.fb;
    this.count = 0;
    this.contextMayChange = false;
    this.storedInBlock = false;
    f.get(this.cpu).get(this.cpu).mem(Op.i32_load, S.BUDGET, 2);
    f.code.byte(Op.i32_const);
    this.budgetPatch = f.code.u32Padded(0);
    f.op(Op.i32_sub).mem(Op.i32_store, S.BUDGET, 2);
    // a block that ends without a chaining jump (ERET, exceptions, helpers that set PC) must leave the region
    this.setNext(-1);
  }

  finish(): void {
    // i32.const takes a signed LEB; the padded unsigned form is identical for small positive counts
    this.fb.code.patchU32Padded(this.budgetPatch, this.count);
  }

  /** In-region index of the static branch target `delta` bytes away, or -1 when the jump must leave the function. */
  private chainIndex(delta: number): number {
    if (!this.region || this.contextMayChange) return -1;
    const offset = this.pcOffset + delta;
    const index = offset >= 0 && offset < PAGE_SIZE ? this.region.indexOf(offset) : -1;
    if (index < 0) this.likelyEntry(this.relative(delta));
    return index;
  }

  /** Notes an address execution will probably reach after leaving this translation (see likelyEntries). */
  likelyEntry(target: bigint): void {
    this.likelyEntries.push(BigInt.asUintN(64, target));
  }

  /** A store was emitted in the current block (see setNext). */
  private storedInBlock = false;

  /**
   * Sets the block to run next. After a block with a store, chaining also
   * tests for an exit request: the store may have replaced code of this
   * region (self-modifying code), and then the region must stop at once, also
   * before a later block of the same pass (those are entered without the
   * loop's exit check). Blocks without stores need no test: the loop's back
   * edge bounds the delay for interrupts.
   */
  private setNext(index: number): void {
    if (!this.region) return;
    this.fb.i32(index).set(this.next);
    if (index >= 0 && this.storedInBlock) this.stopChainingOnExitRequest();
  }

  private stopChainingOnExitRequest(): void {
    this.fb.i32(-1).get(this.next).get(this.cpu).mem(Op.i32_load, S.EXIT_REQUEST, 2).op(Op.select).set(this.next);
  }

  // ---- helpers --------------------------------------------------------------

  /** The module's type index for a helper's signature (declared on first use). */
  helper(name: HelperName): number {
    let idx = this.helperIndex.get(name);
    if (idx === undefined) {
      idx = this.typeIndex(HELPER_TYPES[name]);
      this.helperIndex.set(name, idx);
    }
    return idx;
  }

  /**
   * Calls a helper; arguments are emitted by `args` (cpu first is added here).
   * Helpers are called through a small constant table of wasm trampolines
   * (engine.ts): importing them as functions would cost every block module
   * ~50 us of V8 import-wrapper compilation per distinct signature.
   */
  callHelper(name: HelperName, args: () => void, mayChangeContext = !DATA_HELPERS.has(name)): void {
    if (mayChangeContext) this.contextMayChange = true;
    if (name === 'storeExclusive') this.storedInBlock = true;
    this.fb.get(this.cpu);
    args();
    this.fb.i32(HELPER_SLOT[name]).callIndirect(this.helper(name));
  }

  /** After a status-returning helper: return from the block when the status is non-zero. */
  returnIfNonZero(): void {
    this.fb.if().ret().end();
  }

  /** Stores the current instruction's address into PC (before anything that may fault). */
  syncPc(): void {
    this.storePc(0);
  }

  /** Pushes the two i32 halves of an i64 local (for helper arguments). */
  pushHalves(local: number): void {
    this.fb.get(local).op(Op.i32_wrap_i64);
    this.fb.get(local).i64(32n).op(Op.i64_shr_u).op(Op.i32_wrap_i64);
  }

  // ---- general-purpose registers --------------------------------------------

  /** Pushes Xn (i64); register 31 reads as zero. */
  getX(r: number): void {
    if (r === 31) this.fb.i64(0n);
    else this.fb.get(this.cpu).mem(Op.i64_load, S.X + r * 8, 3);
  }

  /** Pushes Xn or SP for register 31. */
  getXsp(r: number): void {
    this.fb.get(this.cpu).mem(Op.i64_load, S.X + r * 8, 3);
  }

  /** Pushes Wn (i32). */
  getW(r: number): void {
    if (r === 31) this.fb.i32(0);
    else this.fb.get(this.cpu).mem(Op.i32_load, S.X + r * 8, 2);
  }

  /** Pushes Xn (sf=1) or Wn zero-extended to i64 (sf=0). */
  getReg(sf: number, r: number): void {
    if (sf) this.getX(r);
    else if (r === 31) this.fb.i64(0n);
    else this.fb.get(this.cpu).mem(Op.i64_load32_u, S.X + r * 8, 2);
  }

  /** Xd = value; register 31 discards the value (XZR). `value` pushes an i64. */
  setX(r: number, value: () => void): void {
    if (r === 31) { value(); this.fb.op(Op.drop); return; }
    this.fb.get(this.cpu);
    value();
    this.fb.mem(Op.i64_store, S.X + r * 8, 3);
  }

  /** Xd|SP = value. */
  setXsp(r: number, value: () => void): void {
    this.fb.get(this.cpu);
    value();
    this.fb.mem(Op.i64_store, S.X + r * 8, 3);
  }

  /** Wd = value (i32), zero-extending into Xd. */
  setW(r: number, value: () => void): void {
    if (r === 31) { value(); this.fb.op(Op.drop); return; }
    this.fb.get(this.cpu);
    value();
    this.fb.op(Op.i64_extend_i32_u).mem(Op.i64_store, S.X + r * 8, 3);
  }

  /** Writes an i64 value as Xd (sf=1) or its low 32 bits zero-extended as Wd (sf=0). */
  setReg(sf: number, r: number, value: () => void, sp = false): void {
    const store = sp ? this.setXsp.bind(this) : this.setX.bind(this);
    if (sf) store(r, value);
    else store(r, () => { value(); this.fb.i64(0xffffffffn).op(Op.i64_and); });
  }

  // ---- flags ----------------------------------------------------------------

  /** Sets N and Z from an i64 local holding a result of `sf ? 64 : 32` bits (already masked for 32). */
  setNZ(sf: number, result: number): void {
    const f = this.fb;
    f.get(this.cpu).get(result);
    if (sf) f.i64(63n).op(Op.i64_shr_u).op(Op.i32_wrap_i64);
    else f.i64(31n).op(Op.i64_shr_u).op(Op.i32_wrap_i64).i32(1).op(Op.i32_and);
    f.mem(Op.i32_store, S.NF, 2);
    f.get(this.cpu).get(result).op(Op.i64_eqz).mem(Op.i32_store, S.ZF, 2);
  }

  setFlag(offset: number, value: () => void): void {
    this.fb.get(this.cpu);
    value();
    this.fb.mem(Op.i32_store, offset, 2);
  }

  /** Pushes flag value (0/1) as i32. */
  getFlag(offset: number): void {
    this.fb.get(this.cpu).mem(Op.i32_load, offset, 2);
  }

  /** Pushes an i32 that is 1 when condition `cond` holds. */
  condition(cond: number): void {
    const f = this.fb;
    const base = cond >> 1;
    switch (base) {
      case 0: this.getFlag(S.ZF); break; // EQ
      case 1: this.getFlag(S.CF); break; // CS
      case 2: this.getFlag(S.NF); break; // MI
      case 3: this.getFlag(S.VF); break; // VS
      case 4: // HI: C && !Z
        this.getFlag(S.CF); this.getFlag(S.ZF); f.op(Op.i32_eqz).op(Op.i32_and); break;
      case 5: // GE: N == V
        this.getFlag(S.NF); this.getFlag(S.VF); f.op(Op.i32_eq); break;
      case 6: // GT: !Z && N == V
        this.getFlag(S.ZF); f.op(Op.i32_eqz);
        this.getFlag(S.NF); this.getFlag(S.VF); f.op(Op.i32_eq).op(Op.i32_and); break;
      case 7: f.i32(1); return; // AL and NV both mean always
    }
    if (cond & 1) f.op(Op.i32_eqz);
  }

  // ---- memory ---------------------------------------------------------------

  private tlbOffset(mmuIdx: number): number {
    return S.TLB + mmuIdx * TLB_BYTES;
  }

  /**
   * Pushes an i32 that is 1 when the soft-TLB entry for the access hits
   * (`field`: the entry's read or write tag). The tag compared is
   * (addr + size - 1) & PAGE_MASK, so an access that crosses into the next
   * page misses and takes the slow path. Returns the TLB offset and locals
   * holding the entry address and the address's low word (for
   * hostAddress), which the caller releases.
   */
  private tlbHit(addr: number, info: number, field: number, size = 1 << (info & MemInfo.SIZE_MASK)): { tlb: number; entry: number; addr32: number } {
    const f = this.fb;
    const tlb = this.tlbOffset(info & MemInfo.UNPRIV ? 0 : this.ctx.mmuIdx);
    const entry = f.local(I32), addr32 = f.local(I32);
    f.get(addr);
    if (info & MemInfo.ALIGN_REQUIRED) {
      // Keep the low address bits in the tag (QEMU's trick): an unaligned address never equals a
      // page tag, so it misses and the slow path raises the Alignment fault. An aligned access
      // cannot cross a page, so no size adjustment is needed.
      f.i64(-BigInt(1 << PAGE_BITS) | BigInt(size - 1)).op(Op.i64_and);
    } else {
      if (size > 1) f.i64(BigInt(size - 1)).op(Op.i64_add);
      f.i64(-BigInt(1 << PAGE_BITS)).op(Op.i64_and);
    }
    // entry = cpu + ((addr >> PAGE_BITS) & (TLB_ENTRIES - 1)) * TLB_ENTRY_SIZE, in i32 arithmetic
    const entryShift = Math.log2(TLB_ENTRY_SIZE);
    f.get(addr).op(Op.i32_wrap_i64).tee(addr32).i32(PAGE_BITS - entryShift).op(Op.i32_shr_u)
      .i32((TLB_ENTRIES - 1) << entryShift).op(Op.i32_and).get(this.cpu).op(Op.i32_add).tee(entry);
    f.mem(Op.i64_load, tlb + field, 3).op(Op.i64_eq);
    return { tlb, entry, addr32 };
  }

  /** Pushes the wasm address of a TLB hit: low word of va + addend (only the low 32 bits matter). */
  private hostAddress(hit: { tlb: number; entry: number; addr32: number }): void {
    this.fb.get(hit.addr32).get(hit.entry).mem(Op.i32_load, hit.tlb + TLBE.ADDEND, 2).op(Op.i32_add);
  }

  private releaseHit(hit: { entry: number; addr32: number }): void {
    this.fb.release(hit.entry);
    this.fb.release(hit.addr32);
  }

  /**
   * Loads from the virtual address in i64 local `addr`. Pushes the value:
   * an i64 (zero- or sign-extended per info) or, for 16-byte accesses, a v128.
   */
  load(addr: number, info: number): void {
    const f = this.fb;
    const sizeLog2 = info & MemInfo.SIZE_MASK;
    const vector = sizeLog2 === 4;
    if (this.callsAccessFunction(info)) {
      this.callAccessFunction(true, info, () => f.get(addr));
      return;
    }
    const hit = this.tlbHit(addr, info, TLBE.READ);
    f.if(vector ? ValType.V128 : I64);
    this.hostAddress(hit);
    if (vector) f.simdMem(OpSIMD.v128_load, 0, 0);
    else f.mem(loadOpcode(sizeLog2, (info & MemInfo.SIGN) !== 0), 0, 0);
    f.else();
    this.callSlowPath(vector ? 'loadSlowVector' : 'loadSlow', () => { f.get(addr).i32(this.slowPathInfo(info)); });
    f.end();
    this.releaseHit(hit);
  }

  /**
   * Loads two consecutive elements (LDP and friends) from the address in
   * local `addr` into locals `v1` and `v2`: one TLB check for both when they
   * share a page, otherwise (and on any miss) each element takes its own
   * slow path, so faults and MMIO see element accesses. Both loads complete
   * before the caller writes any register.
   */
  loadPair(addr: number, info1: number, info2: number, v1: number, v2: number): void {
    const f = this.fb;
    if (this.callsAccessFunction(info1)) {
      this.callAccessFunction(true, info1, () => f.get(addr));
      f.set(v1);
      this.callAccessFunction(true, info2, () => f.get(addr).i64(BigInt(1 << (info1 & MemInfo.SIZE_MASK))).op(Op.i64_add));
      f.set(v2);
      return;
    }
    const sizeLog2 = info1 & MemInfo.SIZE_MASK;
    const vector = sizeLog2 === 4;
    const hit = this.tlbHit(addr, info1, TLBE.READ, 2 << sizeLog2);
    f.if();
    const host = f.local(I32);
    this.hostAddress(hit);
    f.tee(host);
    if (vector) f.simdMem(OpSIMD.v128_load, 0, 0); else f.mem(loadOpcode(sizeLog2, (info1 & MemInfo.SIGN) !== 0), 0, 0);
    f.set(v1).get(host);
    if (vector) f.simdMem(OpSIMD.v128_load, 1 << sizeLog2, 0); else f.mem(loadOpcode(sizeLog2, (info1 & MemInfo.SIGN) !== 0), 1 << sizeLog2, 0);
    f.set(v2);
    f.release(host);
    f.else();
    const slow = vector ? 'loadSlowVector' : 'loadSlow';
    this.callSlowPath(slow, () => { f.get(addr).i32(this.slowPathInfo(info1)); });
    f.set(v1);
    const addr2 = this.tempI64(() => f.get(addr).i64(BigInt(1 << sizeLog2)).op(Op.i64_add));
    this.callSlowPath(slow, () => { f.get(addr2).i32(this.slowPathInfo(info2)); });
    f.set(v2);
    f.release(addr2);
    f.end();
    this.releaseHit(hit);
  }

  /** Stores locals `v1` and `v2` to consecutive elements at `addr` (STP and friends); see loadPair. */
  storePair(addr: number, v1: number, v2: number, info1: number, info2: number): void {
    const f = this.fb;
    this.storedInBlock = true;
    if (this.callsAccessFunction(info1)) {
      this.callAccessFunction(false, info1, () => f.get(addr).get(v1));
      this.callAccessFunction(false, info2, () => f.get(addr).i64(BigInt(1 << (info1 & MemInfo.SIZE_MASK))).op(Op.i64_add).get(v2));
      return;
    }
    const sizeLog2 = info1 & MemInfo.SIZE_MASK;
    const vector = sizeLog2 === 4;
    const hit = this.tlbHit(addr, info1, TLBE.WRITE, 2 << sizeLog2);
    f.if();
    const host = f.local(I32);
    this.hostAddress(hit);
    f.tee(host).get(v1);
    if (vector) f.simdMem(OpSIMD.v128_store, 0, 0); else f.mem(storeOpcode(sizeLog2), 0, 0);
    f.get(host).get(v2);
    if (vector) f.simdMem(OpSIMD.v128_store, 1 << sizeLog2, 0); else f.mem(storeOpcode(sizeLog2), 1 << sizeLog2, 0);
    f.release(host);
    f.else();
    const slow = vector ? 'storeSlowVector' : 'storeSlow';
    this.callSlowPath(slow, () => { f.get(addr).get(v1).i32(this.slowPathInfo(info1)); });
    const addr2 = this.tempI64(() => f.get(addr).i64(BigInt(1 << sizeLog2)).op(Op.i64_add));
    this.callSlowPath(slow, () => { f.get(addr2).get(v2).i32(this.slowPathInfo(info2)); });
    f.release(addr2);
    f.end();
    this.releaseHit(hit);
  }

  /**
   * Stores to the virtual address in i64 local `addr` the value in local
   * `value` (i64, or v128 for 16-byte accesses).
   */
  store(addr: number, value: number, info: number): void {
    const f = this.fb;
    this.storedInBlock = true;
    const sizeLog2 = info & MemInfo.SIZE_MASK;
    if (this.callsAccessFunction(info)) {
      this.callAccessFunction(false, info, () => f.get(addr).get(value));
      return;
    }
    const hit = this.tlbHit(addr, info, TLBE.WRITE);
    f.if();
    this.hostAddress(hit);
    f.get(value);
    if (sizeLog2 === 4) f.simdMem(OpSIMD.v128_store, 0, 0);
    else f.mem(storeOpcode(sizeLog2), 0, 0);
    f.else();
    this.callSlowPath(sizeLog2 === 4 ? 'storeSlowVector' : 'storeSlow', () => { f.get(addr).get(value).i32(this.slowPathInfo(info)); });
    f.end();
    this.releaseHit(hit);
  }

  /**
   * True when an access of general registers `regs` with this `info` can use
   * the register or pair access functions (access-functions.ts), which move
   * the value to or from the register file themselves. Not register 31:
   * there it means XZR, but its slot holds SP.
   */
  transfersRegisters(info: number, ...regs: number[]): boolean {
    return this.callsAccessFunction(info) && (info & MemInfo.FPREG) === 0 && (info & MemInfo.SIZE_MASK) < 4 && !regs.includes(31);
  }

  /**
   * LDR/STR/LDP/STP/LDPSW of general registers with an immediate offset,
   * through the register and pair access functions (access-functions.ts),
   * which compute the address from Rn and `offset`, move Xt (info's RT
   * field) and Xt2 (pairs) and do the writeback of `index`. `toW`: LDRSB/LDRSH
   * Wt (sign-extended to 32 bits, the upper half zero). Requires transfersRegisters.
   */
  accessRegisters(isLoad: boolean, info: number, rn: number, index: AccessIndex, offset: number, toW: boolean, rt2?: number): void {
    if (!isLoad) this.storedInBlock = true;
    const fn = accessFunction(rt2 === undefined ? 'register' : 'pair', isLoad, info & MemInfo.SIZE_MASK, (info & MemInfo.SIGN) !== 0, toW);
    const mmuIdx = info & MemInfo.UNPRIV ? 0 : this.ctx.mmuIdx;
    const f = this.fb;
    f.get(this.cpu).i32(this.slowPathInfo(info) | (mmuIdx << MMU_INDEX_SHIFT) | (index << INDEX_SHIFT)).i32((offset << 5) | rn);
    if (rt2 !== undefined) f.i32(rt2);
    f.i32(fn.slot).callIndirect(this.typeIndex(fn.type));
  }

  /**
   * DC ZVA with the block in a soft-TLB write entry: zeroes the block inline
   * (memory.fill) and pushes status 0. Everything else (a miss, MMIO,
   * faults) goes to `slowPath`, which must leave the status of the `sys`
   * helper on the stack; traps are the caller's. Linux clears pages with DC
   * ZVA: 900,000 helper calls per boot before this.
   */
  zeroBlock(rt: number, slowPath: () => void): void {
    const f = this.fb;
    this.storedInBlock = true;
    const addr = this.tempI64(() => { this.getX(rt); f.i64(-BigInt(1 << DC_ZVA_BITS)).op(Op.i64_and); });
    const hit = this.tlbHit(addr, 3, TLBE.WRITE, 1);
    f.if(I32);
    this.hostAddress(hit);
    f.i32(0).i32(1 << DC_ZVA_BITS).fc(OpFC.memory_fill);
    f.code.byte(0); // memory index
    f.i32(0);
    f.else();
    slowPath();
    f.end();
    this.releaseHit(hit);
    f.release(addr);
  }

  /** Accesses that need no alignment check call the shared access functions (access-functions.ts). */
  private callsAccessFunction(info: number): boolean {
    return !INLINE_TLB && (info & MemInfo.ALIGN_REQUIRED) === 0;
  }

  /** Calls the access function for `info`; `args` pushes the address (and for stores the value). */
  private callAccessFunction(isLoad: boolean, info: number, args: () => void): void {
    const fn = accessFunction('value', isLoad, info & MemInfo.SIZE_MASK, (info & MemInfo.SIGN) !== 0);
    const mmuIdx = info & MemInfo.UNPRIV ? 0 : this.ctx.mmuIdx;
    this.fb.get(this.cpu);
    args();
    this.fb.i32(this.slowPathInfo(info) | (mmuIdx << MMU_INDEX_SHIFT)).i32(fn.slot).callIndirect(this.typeIndex(fn.type));
  }

  /** A load/store slow path's `info`: the access's bits plus this instruction's word index in its page. */
  private slowPathInfo(info: number): number {
    return info | ((this.pcOffset >> 2) << PC_WORD_SHIFT);
  }

  /** Calls a memory slow path (helpers.ts SLOW_PATH_TYPES): it throws to the dispatcher when the access did not complete. */
  private callSlowPath(name: SlowPathName, args: () => void): void {
    this.fb.get(this.cpu);
    args();
    this.fb.i32(HELPER_SLOT[name]).callIndirect(this.typeIndex(SLOW_PATH_TYPES[name]));
  }

  // ---- control flow ---------------------------------------------------------

  /** Ends the block continuing at the instruction `delta` bytes away. */
  jumpRelative(delta: number): boolean {
    this.storePc(delta);
    this.setNext(this.chainIndex(delta));
    return true;
  }

  /** True when the instruction `delta` bytes away is in the page being translated. */
  private inThisPage(delta: number): boolean {
    const offset = this.pcOffset + delta;
    return offset >= 0 && offset < PAGE_SIZE;
  }

  /**
   * PC = the instruction `delta` bytes away. PC in memory always holds an
   * address of the running block's page (a block never crosses a page), so
   * a target in the same page needs only its low 16 bits stored: 4 bytes of
   * wasm less than the whole i64.
   */
  private storePc(delta: number): void {
    if (this.inThisPage(delta)) this.fb.get(this.cpu).i32(this.pageLow16(delta)).mem(Op.i32_store16, S.PC, 1);
    else this.fb.get(this.cpu).i64(this.relative(delta)).mem(Op.i64_store, S.PC, 3);
  }

  /** Bits 15:0 of the in-page address `delta` bytes away. */
  private pageLow16(delta: number): number {
    return (this.pageLow16Base + this.pcOffset + delta) & 0xffff;
  }

  /** Bits 15:0 of pageVa (set with the page). */
  private pageLow16Base = 0;

  /** Sets the page being translated (see pageVa). */
  setPage(pageVa: bigint): void {
    this.pageVa = pageVa;
    this.pageLow16Base = Number(pageVa & 0xffffn);
    this.pcValue = undefined;
  }

  /** Ends the block continuing at the i64 the callback pushes. */
  jumpDynamic(target: () => void): boolean {
    this.fb.get(this.cpu);
    target();
    this.fb.mem(Op.i64_store, S.PC, 3);
    this.setNext(-1);
    return true;
  }

  /** Ends the block with PC = cond ? (the instruction `delta` bytes away) : next. `cond` pushes an i32. */
  branchIfRelative(cond: () => void, delta: number): boolean {
    const f = this.fb;
    const taken = this.chainIndex(delta);
    const fall = this.chainIndex(4);
    const c = f.local(I32);
    cond();
    f.set(c);
    if (this.inThisPage(delta) && this.inThisPage(4)) { // see storePc
      f.get(this.cpu).i32(this.pageLow16(delta)).i32(this.pageLow16(4)).get(c);
      f.op(Op.select).mem(Op.i32_store16, S.PC, 1);
    } else {
      f.get(this.cpu).i64(this.relative(delta)).i64(this.relative(4)).get(c);
      f.op(Op.select).mem(Op.i64_store, S.PC, 3);
    }
    if (this.region) {
      if (taken === fall) this.setNext(taken);
      else {
        f.i32(taken).i32(fall).get(c).op(Op.select).set(this.next);
        if ((taken >= 0 || fall >= 0) && this.storedInBlock) this.stopChainingOnExitRequest();
      }
    }
    f.release(c);
    return true;
  }

  /** Raises a synchronous exception from this instruction and ends the block. */
  raise(ec: number, iss: number): boolean {
    this.syncPc();
    this.callHelper('exception', () => { this.fb.i32(ec).i32(iss); });
    this.fb.ret();
    return true;
  }

  /** The instruction is unallocated (or not implemented): Undefined Instruction exception. */
  undefinedInstruction(): boolean {
    this.syncPc();
    this.callHelper('undefined', () => { this.fb.i32(this.insn); });
    this.fb.ret();
    return true;
  }

  /** Convenience: a fresh i64 local set from what `value` pushes. */
  tempI64(value: () => void): number {
    const l = this.fb.local(I64);
    value();
    this.fb.set(l);
    return l;
  }

  tempI32(value: () => void): number {
    const l = this.fb.local(I32);
    value();
    this.fb.set(l);
    return l;
  }

  release(...locals: number[]): void {
    for (const l of locals) this.fb.release(l);
  }
}

/** Slot of each helper's trampoline in the helper table. */
export const HELPER_SLOT = Object.fromEntries([...Object.keys(HELPER_TYPES), ...Object.keys(SLOW_PATH_TYPES), ...ACCESS_FUNCTIONS.map(a => a.name)]
  .map((name, i) => [name, i])) as Record<HelperName | SlowPathName, number> & Record<string, number>;

const INLINE_TLB = process.env.ARMVIRT_INLINE_TLB === '1';

const FORM_CODE: Record<AccessForm, number> = { value: 0, register: 1, pair: 2 };

/** A number naming an access function (signed only counts for loads narrower than 64 bits, as in its name). */
function accessKey(form: AccessForm, isLoad: boolean, sizeLog2: number, signed: boolean, toW: boolean): number {
  return FORM_CODE[form] | (isLoad ? 4 : 0) | (sizeLog2 << 3) | (isLoad && signed && sizeLog2 < 3 ? 64 : 0) | (toW ? 128 : 0);
}

/** Every access function by accessKey, with its helper-table slot: no name to build per translated access. */
const ACCESS_BY_KEY = new Map(ACCESS_FUNCTIONS.map(a =>
  [accessKey(a.form, a.isLoad, a.sizeLog2, a.signed, a.toW), { type: a.type, slot: HELPER_SLOT[a.name] }]));

function accessFunction(form: AccessForm, isLoad: boolean, sizeLog2: number, signed: boolean, toW = false): { type: FuncType; slot: number } {
  const fn = ACCESS_BY_KEY.get(accessKey(form, isLoad, sizeLog2, signed, toW));
  if (!fn) throw new Error(`no ${form} access function for a ${isLoad ? 'load' : 'store'} of 2^${sizeLog2} bytes`);
  return fn;
}

/** Helpers that only move data: calling them cannot change the translation context. */
const DATA_HELPERS = new Set<HelperName>(['load', 'store', 'storeExclusive', 'fpOp', 'trace']);

export { Exception, HELPER_TYPES };
