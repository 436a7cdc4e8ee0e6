// The translation cache and dispatcher. Blocks are translated to wasm
// functions on first execution and entered in a shared funcref table; a
// small hand-assembled wasm dispatcher loops over a per-vCPU jump cache
// (virtual PC + context -> table slot) and calls blocks with
// call_indirect, so control stays inside WebAssembly until a miss, an exit
// request or the end of the time slice.

import { ByteWriter, FunctionBuilder, ModuleBuffers, ModuleBuilder, Op, ValType, type FuncType } from './wasm-emitter';
import { HELPER_TYPES, PC_WORD_SHIFT, SLOW_PATH_TYPES, type HelperImpls, type HelperName } from './helpers';
import { jumpCacheIndex, jumpCachePageKey, JC_ENTRIES, JC_ENTRY_SIZE, JC_OFFSET, PAGE_SIZE, S, TbFlags, VCPU_AREA_BASE, VCPU_STRIDE, DispatchResult } from '../state';
import { HELPER_SLOT, Translator } from './translator';
import { ACCESS_FUNCTIONS, addAccessFunction, addSlowPathFunction, addStoreExclusiveFunction } from './access-functions';
import type { Decoder } from './decode';
import type { Cpu, CodeCacheHooks } from '../cpu';

const BLOCK_TYPE: FuncType = { params: [ValType.I32], results: [] };
const MAX_BLOCK_INSNS = 128;
/** Blocks one region function may hold: more chains more, but compiles more cold code (16 was best on the Linux boot, 8 and 32 close). */
const MAX_REGION_BLOCKS = 16;
/** Regions one wasm module may hold: the one needed now plus likely next ones (see CodeCache.translate). */
const MAX_MODULE_REGIONS = 16;
/** Block instances per helper table (see buildHelperTable). */
const HELPER_TABLE_USERS = 1024;

interface Block {
  pc: bigint;
  pa: number;
  flags: number;
  slot: number;
  ppn: number;
  /** Instruction words of the page this translation was made from, as (first word, count) pairs. */
  ranges: number[];
}

/** Translations made from one physical page, with a count per instruction word they cover. */
interface CodePage {
  blocks: Block[];
  words: Uint16Array;
}

const jcIndex = jumpCacheIndex;

export class CodeCache implements CodeCacheHooks {
  readonly table: WebAssembly.Table;
  readonly dispatch: (base: number) => number;
  private readonly cpus: Cpu[] = [];
  private readonly byPc = new Map<bigint, Block[]>();
  private readonly byPage = new Map<number, CodePage>();
  private readonly freeSlots: number[] = [];
  /** Reused for each translation module (see ModuleBuffers). */
  private readonly moduleBuffers = new ModuleBuffers();
  /** Reused for the code of each region function (copied out when the function is added). */
  private readonly codeBuffer = new ByteWriter(1 << 16);
  /** Wasm trampolines to the TypeScript helpers, at HELPER_SLOT indexes; never changes after start-up. */
  private helperTable: WebAssembly.Table;
  /** The trampoline functions, by helper slot (to fill fresh helper tables). */
  private trampolines: WebAssembly.ExportValue[] = [];
  /** Block instances that imported the current helper table. */
  private helperTableUsers = 0;
  readonly stats = { translated: 0, modules: 0, invalidated: 0, wasmBytes: 0, translateMs: 0 };
  /**
   * When set before code is translated, every instruction first calls it
   * with its vCPU and address (instruction tracing for debugging; slow).
   */
  traceInstructions?: (cpu: Cpu, pcLo: number, pcHi: number) => void;

  constructor(private readonly memory: WebAssembly.Memory, private readonly decoder: Decoder, helpers: HelperImpls) {
    this.table = new WebAssembly.Table({ element: 'anyfunc', initial: 1024 });
    for (let i = 1023; i >= 1; i--) this.freeSlots.push(i); // slot 0 stays empty
    this.helperTable = this.buildHelperTable(helpers as unknown as Record<string, (...a: number[]) => number | void>);
    this.dispatch = this.buildDispatcher();
  }

  attach(cpu: Cpu): void {
    this.cpus[cpu.index] = cpu;
    cpu.code = this;
    cpu.tlb.flushJumpCache();
  }

  /** Resolves the vCPU from the base address helpers receive. */
  cpuAt(base: number): Cpu {
    return this.cpus[(base - VCPU_AREA_BASE) / VCPU_STRIDE];
  }

  /**
   * A table of wasm functions that forward to the TypeScript helpers. Block
   * modules import this table and call helpers with call_indirect at fixed
   * slots. Why not plain function imports: V8 (Node 20) compiles an import
   * wrapper per module and signature (~50 us each), which tripled the cost
   * of a translation. Why not the block table: each table.set updates every
   * instance importing that table. This table is small and never changes,
   * but V8 also copies a table's list of importing instances on every
   * instantiation, which made instantiation cost grow with the number of
   * translations (200 us each after 30,000): so a fresh table with the same
   * trampolines replaces it every HELPER_TABLE_USERS instances (newHelperTable).
   */
  private buildHelperTable(helpers: Record<string, (...a: number[]) => number | void>): WebAssembly.Table {
    const mb = new ModuleBuilder();
    const names = Object.keys(HELPER_TYPES) as HelperName[];
    names.forEach(name => mb.importFunction('h', name, HELPER_TYPES[name]));
    names.forEach((name, i) => {
      const type = HELPER_TYPES[name];
      const f = new FunctionBuilder(type.params.length);
      type.params.forEach((_, p) => f.get(p));
      f.call(i);
      mb.addFunction(type, f);
    });
    // The load/store slow paths (helpers.ts SLOW_PATH_TYPES): the status check lives here, once,
    // as a throw that the dispatcher catches, instead of at every access in translated code.
    const accessFailed = mb.addTag({ params: [], results: [] });
    const slowPath = (name: keyof typeof SLOW_PATH_TYPES, isLoad: boolean) =>
      addSlowPathFunction(mb, SLOW_PATH_TYPES[name], isLoad, names.indexOf(isLoad ? 'load' : 'store'), accessFailed) - names.length;
    const slowPaths = {
      loadSlow: slowPath('loadSlow', true),
      loadSlowVector: slowPath('loadSlowVector', true),
      storeSlow: slowPath('storeSlow', false),
      storeSlowVector: slowPath('storeSlowVector', false),
    };
    const storeExclusive = addStoreExclusiveFunction(mb, names.indexOf('storeExclusive')) - names.length;
    const accessFunctions = ACCESS_FUNCTIONS.map(fn =>
      addAccessFunction(mb, fn, names.indexOf(fn.isLoad ? 'load' : 'store'), accessFailed) - names.length);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(mb.encode()), { env: { memory: this.memory }, h: helpers });
    names.forEach((name, i) => { this.trampolines[HELPER_SLOT[name]] = inst.exports['f' + i]; });
    ACCESS_FUNCTIONS.forEach((fn, i) => { this.trampolines[HELPER_SLOT[fn.name]] = inst.exports['f' + accessFunctions[i]]; });
    for (const [name, i] of Object.entries(slowPaths)) this.trampolines[HELPER_SLOT[name as keyof typeof slowPaths]] = inst.exports['f' + i];
    this.trampolines[HELPER_SLOT.storeExclusive] = inst.exports['f' + storeExclusive]; // wasm fast path before the helper
    this.accessFailedTag = inst.exports['t' + accessFailed];
    return this.newHelperTable();
  }

  private newHelperTable(): WebAssembly.Table {
    const table = new WebAssembly.Table({ element: 'anyfunc', initial: this.trampolines.length });
    this.trampolines.forEach((fn, slot) => table.set(slot, fn as Function));
    this.helperTableUsers = 0;
    return table;
  }

  /** The tag the load/store slow paths throw (caught by the dispatcher only: other exceptions propagate). */
  private accessFailedTag: WebAssembly.ExportValue | undefined;

  private buildDispatcher(): (base: number) => number {
    const mb = new ModuleBuilder({ importTable: true, importTag: { params: [], results: [] } });
    const f = new FunctionBuilder(1);
    const cpu = 0;
    const pc = f.local(ValType.I64);
    const entry = f.local(ValType.I32);
    const blockType = mb.typeIndex(BLOCK_TYPE);
    f.loop();
    // exit requested?
    f.get(cpu).mem(Op.i32_load, S.EXIT_REQUEST, 2).if().i32(DispatchResult.ExitRequested).ret().end();
    // out of budget?
    f.get(cpu).mem(Op.i32_load, S.BUDGET, 2).i32(0).op(Op.i32_le_s).if().i32(DispatchResult.BudgetExhausted).ret().end();
    // jump cache lookup
    f.get(cpu).mem(Op.i64_load, S.PC, 3).set(pc);
    f.get(pc).op(Op.i32_wrap_i64).i32(2).op(Op.i32_shr_u)
      .get(pc).op(Op.i32_wrap_i64).i32(18).op(Op.i32_shr_u).op(Op.i32_xor)
      .i32(JC_ENTRIES - 1).op(Op.i32_and).i32(Math.log2(JC_ENTRY_SIZE)).op(Op.i32_shl)
      .get(cpu).op(Op.i32_add).set(entry);
    f.get(entry).mem(Op.i64_load, JC_OFFSET, 3).get(pc).op(Op.i64_ne)
      .get(entry).mem(Op.i32_load, JC_OFFSET + 12, 2).get(cpu).mem(Op.i32_load, S.TB_FLAGS, 2).op(Op.i32_ne)
      .op(Op.i32_or).if().i32(DispatchResult.JumpCacheMiss).ret().end();
    // a load/store slow path that took an exception or needs a VMM exit throws: go on from the new PC
    f.try().get(cpu).get(entry).mem(Op.i32_load, JC_OFFSET + 8, 2).callIndirect(blockType).catch(0).end();
    f.br(0);
    f.end();
    f.op(Op.unreachable);
    mb.addFunction({ params: [ValType.I32], results: [ValType.I32] }, f);
    const mod = new WebAssembly.Module(mb.encode());
    const inst = new WebAssembly.Instance(mod, { env: { memory: this.memory, table: this.table, tag: this.accessFailedTag! } });
    return inst.exports.f0 as (base: number) => number;
  }

  isCodePage(ppn: number): boolean {
    return this.byPage.has(ppn);
  }

  fillJumpCache(cpu: Cpu): void {
    const pcLo = cpu.u32[(cpu.base + S.PC) >> 2];
    const pcHi = cpu.u32[(cpu.base + S.PC + 4) >> 2];
    const pa = cpu.access.translateFetch(pcLo, pcHi);
    if (pa < 0) { cpu.budget -= 1; return; } // prefetch abort taken (counted, so a fault loop still ends the slice)
    const pc = cpu.pc;
    const flags = cpu.tbFlags;
    let block = this.byPc.get(pc)?.find(b => b.flags === flags && b.pa === pa);
    if (!block) block = this.translate(cpu, pc, pa, flags);
    if (!block) return;
    const e = (cpu.base + JC_OFFSET + jcIndex(pcLo) * JC_ENTRY_SIZE) >> 2;
    cpu.tlb.jumpCachePages.add(jumpCachePageKey(pcLo, pcHi));
    cpu.tlb.noteJumpCacheEntry(jcIndex(pcLo), cpu.access.lastFetchSurvivesSwitch);
    cpu.u32[e] = pcLo;
    cpu.u32[e + 1] = pcHi;
    cpu.u32[e + 2] = block.slot;
    cpu.u32[e + 3] = flags;
  }

  /**
   * Translates the region entered at `pc` and, in the same wasm module, up
   * to MAX_MODULE_REGIONS - 1 regions execution will probably enter soon:
   * the static branch targets the region cannot chain to and the return
   * addresses of its calls (Translator.likelyEntries), breadth first, when
   * their pages translate for execution without a fault. V8 spends ~50 us
   * creating and instantiating each module whatever its size, and compiles a
   * function only when it first runs, so a region translated too early costs
   * only its share of the module. Returns the region entered at `pc`.
   */
  private translate(cpu: Cpu, pc: bigint, pa: number, flags: number): Block | undefined {
    const started = performance.now();
    const mb = new ModuleBuilder({ importTable: true }, this.moduleBuffers);
    const regions: Array<{ pc: bigint; pa: number; ranges: number[] }> = [];
    const queued = new Set<bigint>([pc]);
    const queue: Array<{ pc: bigint; pa: number }> = [{ pc, pa }];
    while (queue.length > 0 && regions.length < MAX_MODULE_REGIONS) {
      const entry = queue.shift()!;
      const first = regions.length === 0;
      if (!first && this.byPc.get(entry.pc)?.some(b => b.flags === flags && b.pa === entry.pa)) continue;
      const region = this.translateRegion(cpu, mb, entry.pc, entry.pa, flags);
      if (typeof region === 'string') {
        if (!first) continue; // a likely entry that does not translate is simply left for later
        cpu.pendingExit = { kind: 'internal', message: region };
        cpu.requestExit();
        return undefined;
      }
      regions.push({ pc: entry.pc, pa: entry.pa, ranges: region.ranges });
      for (const next of region.likelyEntries) {
        if (queued.has(next)) continue;
        queued.add(next);
        const nextPa = cpu.access.probeFetch(next);
        if (nextPa >= 0) queue.push({ pc: next, pa: nextPa });
      }
    }
    const bytes = mb.encode();
    let exports: WebAssembly.Exports;
    try {
      const mod = new WebAssembly.Module(bytes);
      if (++this.helperTableUsers > HELPER_TABLE_USERS) this.helperTable = this.newHelperTable();
      exports = new WebAssembly.Instance(mod, { env: { memory: this.memory, table: this.helperTable } }).exports;
    } catch (err) {
      cpu.pendingExit = { kind: 'internal', message: `block at 0x${pc.toString(16)} did not compile: ${(err as Error).message}` };
      cpu.requestExit();
      return undefined;
    }
    const blocks = regions.map((r, i) => this.addBlock(r.pc, r.pa, flags, r.ranges, exports['f' + i]));
    this.stats.translated += regions.length;
    this.stats.modules++;
    this.stats.wasmBytes += bytes.length;
    this.stats.translateMs += performance.now() - started;
    cpu.stats.blocksTranslated += regions.length;
    return blocks[0];
  }

  /**
   * Emits the region entered at `pc` into `mb`: its first block plus the
   * blocks of the same page that static branches reach (breadth first, up to
   * MAX_REGION_BLOCKS). All share one wasm function:
   *
   *   next = 0
   *   loop
   *     if next == 0 { block 0 ... sets PC and next }
   *     if next == 1 { block 1 ... }
   *     ...
   *     if next < 0 or budget <= 0 or exit requested: return
   *     br loop
   *
   * Forward jumps run in the same pass; backward jumps go round the loop,
   * where the budget and exit requests are checked. PC in memory is always
   * up to date at block boundaries, so leaving is just `return`.
   * Returns an error message when an instruction could not be translated.
   */
  private translateRegion(cpu: Cpu, mb: ModuleBuilder, pc: bigint, pa: number, flags: number): { ranges: number[]; likelyEntries: bigint[] } | string {
    const el = (flags >> TbFlags.EL_SHIFT) & 3;
    const mmuIdx = (flags >> TbFlags.MMU_IDX_SHIFT) & 3;
    const t = new Translator({ el, mmuIdx, tbFlags: flags }, type => mb.typeIndex(type), this.codeBuffer);
    t.setPage(pc & ~BigInt(PAGE_SIZE - 1));
    const pagePa = pa - (pa % PAGE_SIZE);
    const ramPage = cpu.bus.ramOffset(pagePa);
    // the region's blocks by page offset; blockAtWord maps word index -> block index (-1 none) and is reset at the end
    const order: number[] = [Number(pc & BigInt(PAGE_SIZE - 1))];
    const blockAtWord = this.blockAtWord;
    blockAtWord[order[0] >> 2] = 0;
    t.region = {
      indexOf(offset: number): number {
        if (offset & 3) return -1;
        const known = blockAtWord[offset >> 2];
        if (known >= 0) return known;
        if (order.length >= MAX_REGION_BLOCKS) return -1;
        order.push(offset);
        blockAtWord[offset >> 2] = order.length - 1;
        return order.length - 1;
      },
    };
    try {
      return this.emitRegion(cpu, mb, t, order, ramPage);
    } finally {
      for (const offset of order) blockAtWord[offset >> 2] = -1;
    }
  }

  /** Block index by instruction word of the page, during translateRegion (-1: none). */
  private readonly blockAtWord = new Int16Array(PAGE_SIZE / 4).fill(-1);

  private emitRegion(cpu: Cpu, mb: ModuleBuilder, t: Translator, order: number[], ramPage: number): { ranges: number[]; likelyEntries: bigint[] } | string {
    const f = t.fb;
    t.next = f.local(ValType.I32);
    f.i32(0).set(t.next);
    f.loop();
    const ranges: number[] = [];
    try {
      for (let index = 0; index < order.length; index++) {
        const offset = order[index];
        f.get(t.next).i32(index).op(Op.i32_eq).if();
        t.begin();
        const maxInsns = Math.min(MAX_BLOCK_INSNS, (PAGE_SIZE - offset) / 4);
        let ended = false;
        for (let n = 0; n < maxInsns && !ended; n++) {
          const insn = cpu.u32[(ramPage + offset + n * 4) >> 2];
          t.at(offset + n * 4);
          t.insn = insn;
          t.count++;
          if (this.traceInstructions) t.callHelper('trace', () => { t.fb.i32(Number(t.pc & 0xffffffffn) | 0).i32(Number(t.pc >> 32n) | 0); });
          const d = this.decoder.decode(insn);
          ended = d ? d.enc.translate(t, d.fields) === true : t.undefinedInstruction();
        }
        if (!ended) t.jumpRelative(4);
        t.finish();
        ranges.push(offset >> 2, t.count);
        f.end();
      }
    } catch (err) {
      return `translating ${t.insn.toString(16).padStart(8, '0')} at 0x${t.pc.toString(16)}: ${(err as Error).message}`;
    }
    // leave unless the last block chained to a block of this region and the slice goes on
    f.get(t.next).i32(0).op(Op.i32_lt_s)
      .get(t.cpu).mem(Op.i32_load, S.BUDGET, 2).i32(0).op(Op.i32_le_s).op(Op.i32_or)
      .get(t.cpu).mem(Op.i32_load, S.EXIT_REQUEST, 2).op(Op.i32_or)
      .if().ret().end();
    f.br(0);
    f.end();
    mb.addFunction(BLOCK_TYPE, t.fb);
    return { ranges, likelyEntries: t.likelyEntries };
  }

  /** Enters a translated region in the table and the lookup structures. */
  private addBlock(pc: bigint, pa: number, flags: number, ranges: number[], fn: WebAssembly.ExportValue): Block {
    const slot = this.allocSlot();
    this.table.set(slot, fn as Function);
    const ppn = Math.floor(pa / PAGE_SIZE);
    const block: Block = { pc, pa, flags, slot, ppn, ranges };
    let list = this.byPc.get(pc);
    if (!list) this.byPc.set(pc, (list = []));
    list.push(block);
    let page = this.byPage.get(ppn);
    if (!page) {
      this.byPage.set(ppn, (page = { blocks: [], words: new Uint16Array(PAGE_SIZE / 4) }));
      for (const c of this.cpus) c?.tlb.protectCodePage(ppn);
    }
    page.blocks.push(block);
    for (let i = 0; i < ranges.length; i += 2) {
      for (let w = ranges[i]; w < ranges[i] + ranges[i + 1]; w++) page.words[w]++;
    }
    return block;
  }

  private allocSlot(): number {
    if (this.freeSlots.length === 0) {
      const old = this.table.length;
      this.table.grow(old);
      for (let i = old * 2 - 1; i >= old; i--) this.freeSlots.push(i);
    }
    return this.freeSlots.pop()!;
  }

  /**
   * A store wrote `size` bytes at physical address `pa` (within one page):
   * drops the translations that cover any written instruction word. Stores
   * to data that shares a page with code cost a slow-path call but no
   * retranslation (the page keeps no fast write entries while it holds code).
   */
  invalidateRange(pa: number, size: number): void {
    const ppn = Math.floor(pa / PAGE_SIZE);
    const page = this.byPage.get(ppn);
    if (!page) return;
    const first = (pa % PAGE_SIZE) >> 2;
    const last = Math.min(PAGE_SIZE / 4 - 1, ((pa % PAGE_SIZE) + size - 1) >> 2);
    let hit = false;
    for (let w = first; w <= last && !hit; w++) hit = page.words[w] !== 0;
    if (!hit) return;
    this.dropBlocks(ppn, page, b => {
      for (let i = 0; i < b.ranges.length; i += 2) {
        if (b.ranges[i] <= last && b.ranges[i] + b.ranges[i + 1] > first) return true;
      }
      return false;
    });
  }

  /** Drops every translation made from physical page `ppn`. */
  invalidatePhysPage(ppn: number): void {
    const page = this.byPage.get(ppn);
    if (page) this.dropBlocks(ppn, page, () => true);
  }

  private dropBlocks(ppn: number, page: CodePage, which: (b: Block) => boolean): void {
    // a region function may be running code from this page: make it leave at its next block boundary
    for (const c of this.cpus) c?.requestExit();
    const keep: Block[] = [];
    for (const b of page.blocks) {
      if (!which(b)) { keep.push(b); continue; }
      for (let i = 0; i < b.ranges.length; i += 2) {
        for (let w = b.ranges[i]; w < b.ranges[i] + b.ranges[i + 1]; w++) page.words[w]--;
      }
      const list = this.byPc.get(b.pc);
      if (list) {
        const i = list.indexOf(b);
        if (i >= 0) list.splice(i, 1);
        if (list.length === 0) this.byPc.delete(b.pc);
      }
      const pcLo = Number(b.pc & 0xffffffffn);
      for (const c of this.cpus) {
        if (!c) continue;
        const e = (c.base + JC_OFFSET + jcIndex(pcLo) * JC_ENTRY_SIZE) >> 2;
        if (c.u32[e + 2] === b.slot) { c.u32[e] = 0xffffffff; c.u32[e + 1] = 0xffffffff; }
      }
      this.table.set(b.slot, null);
      this.freeSlots.push(b.slot);
      this.stats.invalidated++;
    }
    page.blocks = keep;
    if (keep.length === 0) this.byPage.delete(ppn);
  }

  /** Drops every translation (e.g. on reset). */
  invalidateAll(): void {
    for (const ppn of [...this.byPage.keys()]) this.invalidatePhysPage(ppn);
  }
}

const PC_INFO_MASK = (1 << PC_WORD_SHIFT) - 1;
const PC_WORD_MASK = PAGE_SIZE / 4 - 1;

/** Builds the helper import object that routes each call to the right vCPU. */
export function makeHelpers(cache: () => CodeCache): HelperImpls {
  const at = (base: number) => cache().cpuAt(base);
  const impls: Partial<HelperImpls> = {
    // only the slow paths call these: info carries the instruction's word index in the page of PC
    load: (base, lo, hi, info) => { const c = at(base); c.access.setPcWordInPage((info >>> PC_WORD_SHIFT) & PC_WORD_MASK); return c.access.load(lo, hi, info & PC_INFO_MASK); },
    store: (base, lo, hi, info) => { const c = at(base); c.access.setPcWordInPage((info >>> PC_WORD_SHIFT) & PC_WORD_MASK); return c.access.store(lo, hi, info & PC_INFO_MASK); },
    exception: (base, ec, iss) => at(base).helperException(ec, iss),
    undefined: (base, insn) => { const c = at(base); c.lastUndefinedInsn = insn >>> 0; c.syncException(0, 0); },
    mrs: (base, key, rt) => at(base).helperMrs(key, rt),
    msr: (base, key, rt) => at(base).helperMsr(key, rt),
    msrImm: (base, sel, imm) => at(base).helperMsrImm(sel, imm),
    sys: (base, key, rt) => at(base).helperSys(key, rt),
    eret: base => at(base).helperEret(),
    hint: (base, hint) => at(base).helperHint(hint),
    barrier: () => 0,
    storeExclusive: (base, lo, hi, info) => at(base).access.storeExclusive(lo, hi, info & PC_INFO_MASK), // above: the soft-TLB index
    fpOp: (base, op, regs) => at(base).helperFpOp(op, regs),
    trace: (base, lo, hi) => { const c = cache(); c.traceInstructions?.(c.cpuAt(base), lo >>> 0, hi >>> 0); },
  };
  return impls as HelperImpls;
}
