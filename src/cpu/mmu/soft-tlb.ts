// The vCPU's software TLBs and jump cache, kept in TypeScript beside the
// entries that translated code reads from wasm memory (state.ts: S.TLB and
// JC_OFFSET): which physical page each data entry maps (to write-protect
// pages that become code), which entries survive an EL1&0 address-space
// switch, the instruction-fetch translations, and which jump-cache slots to
// clear on a switch. TLBI, TTBR/ASID writes and code invalidation come here.

import {
  S, POW2, PAGES_PER_4G, TLB_BYTES, TLB_ENTRIES, TLB_ENTRY_SIZE, TLB_MMU_IDX_COUNT, TLBE, PAGE_BITS, PAGE_SIZE,
  JC_OFFSET, JC_ENTRIES, JC_ENTRY_SIZE, MmuIdx, jumpCacheIndex, jumpCachePageKey, softTlbIndex,
} from '../state';
import { Prot } from './translation';

/** What the soft-TLB needs of its vCPU (the Cpu satisfies it). */
export interface SoftTlbHost {
  readonly base: number;
  readonly u32: Uint32Array;
  readonly bus: { ramOffset(pa: number): number; ramExtent(pa: number): number };
  readonly code: { isCodePage(ppn: number): boolean };
}

export class SoftTlb {
  constructor(private readonly cpu: SoftTlbHost) {}

  /** Physical page of each soft-TLB entry, for invalidation when a page becomes code. */
  private readonly physPage = new Float64Array(TLB_MMU_IDX_COUNT * TLB_ENTRIES).fill(-1);
  /** Per soft-TLB entry: a global TTBR1 mapping, which an address-space switch leaves valid. */
  private readonly survivesSwitch = new Uint8Array(TLB_MMU_IDX_COUNT * TLB_ENTRIES);
  /**
   * Instruction-fetch translations, a soft-TLB of their own (per MMU index,
   * VA page number -> physical page), dropped with the data soft-TLB. Every
   * jump-cache miss translates its PC, and a table walk each time cost a
   * Linux boot ~0.4 s.
   */
  readonly fetchVpn = new Float64Array(TLB_MMU_IDX_COUNT * TLB_ENTRIES).fill(-1);
  readonly fetchPpn = new Float64Array(TLB_MMU_IDX_COUNT * TLB_ENTRIES);
  readonly fetchGlobal = new Uint8Array(TLB_MMU_IDX_COUNT * TLB_ENTRIES);

  /** Per jump-cache entry: lastFetchSurvivesSwitch when it was filled. */
  private readonly jumpCacheSurvivesSwitch = new Uint8Array(JC_ENTRIES);
  /**
   * Jump-cache indexes filled with an entry that does not survive an
   * address-space switch, since the last switch (switchAddressSpace clears
   * just these instead of scanning all 65,536; a full scan when it overflowed).
   */
  private readonly jumpCacheToClear = new Int32Array(8192);
  private jumpCacheToClearCount = 0;

  /** Records how the jump-cache entry at `index` (just filled) fares on an address-space switch. */
  noteJumpCacheEntry(index: number, survivesSwitch: boolean): void {
    this.jumpCacheSurvivesSwitch[index] = survivesSwitch ? 1 : 0;
    if (!survivesSwitch && this.jumpCacheToClearCount <= this.jumpCacheToClear.length) {
      if (this.jumpCacheToClearCount < this.jumpCacheToClear.length) this.jumpCacheToClear[this.jumpCacheToClearCount] = index;
      this.jumpCacheToClearCount++; // one past the end means: overflowed
    }
  }


  /** Drops every data and fetch translation and the jump cache. */
  flush(): void {
    const start = (this.cpu.base + S.TLB) >> 2;
    this.cpu.u32.fill(0xffffffff, start, start + (TLB_MMU_IDX_COUNT * TLB_BYTES) / 4);
    this.physPage.fill(-1);
    this.fetchVpn.fill(-1);
    this.flushJumpCache();
  }

  /**
   * EL1&0 switched address space (TTBR0_EL1 or the ASID changed, Linux's
   * context switch): translations that depend on TTBR0 or on the ASID go,
   * those of EL2, of global TTBR1 mappings and with stage 1 off stay. Before,
   * each of the ~200 switches of a boot dropped the whole jump cache and the
   * kernel refilled it through ~1,000 dispatcher misses.
   */
  switchAddressSpace(): void {
    for (const m of [MmuIdx.EL0, MmuIdx.EL1, MmuIdx.EL0_EL2]) {
      for (let i = m * TLB_ENTRIES; i < (m + 1) * TLB_ENTRIES; i++) {
        if (this.survivesSwitch[i]) continue;
        const e = (this.cpu.base + S.TLB + i * TLB_ENTRY_SIZE) >> 2;
        this.cpu.u32[e] = this.cpu.u32[e + 1] = this.cpu.u32[e + 2] = this.cpu.u32[e + 3] = 0xffffffff;
        this.physPage[i] = -1;
      }
      this.fetchVpn.fill(-1, m * TLB_ENTRIES, (m + 1) * TLB_ENTRIES);
    }
    const jc = (this.cpu.base + JC_OFFSET) >> 2;
    const clear = (i: number) => {
      if (this.jumpCacheSurvivesSwitch[i]) return;
      const e = jc + i * (JC_ENTRY_SIZE >> 2);
      this.cpu.u32[e] = 0xffffffff; this.cpu.u32[e + 1] = 0xffffffff;
    };
    if (this.jumpCacheToClearCount <= this.jumpCacheToClear.length) {
      for (let k = 0; k < this.jumpCacheToClearCount; k++) clear(this.jumpCacheToClear[k]);
    } else {
      for (let i = 0; i < JC_ENTRIES; i++) clear(i);
    }
    this.jumpCacheToClearCount = 0;
  }

  /** Drops every jump-cache entry (the VA->translation mapping may have changed). */
  flushJumpCache(): void {
    const start = (this.cpu.base + JC_OFFSET) >> 2;
    this.cpu.u32.fill(0xffffffff, start, start + (JC_ENTRIES * JC_ENTRY_SIZE) / 4);
    this.jumpCachePages.clear();
  }

  /**
   * Virtual pages (VA[55:12], top byte ignored) that may have jump-cache
   * entries: a TLBI by VA of a page without any (most are data pages) skips
   * the scan of its 1,024 possible slots.
   */
  readonly jumpCachePages = new Set<number>();


  /**
   * Drops the jump-cache entries for PCs in one virtual page (VA[55:32] given
   * as vaHi24, so top-byte aliases go too): the page's mapping changed.
   */
  flushJumpCachePage(vaLo: number, vaHi24: number): void {
    if (!this.jumpCachePages.delete(jumpCachePageKey(vaLo, vaHi24))) return;
    const pageLo = (vaLo & ~(PAGE_SIZE - 1)) >>> 0;
    const first = jumpCacheIndex(pageLo);
    const jc = (this.cpu.base + JC_OFFSET) >> 2;
    for (let w = 0; w < PAGE_SIZE / 4; w++) {
      const e = jc + ((first ^ w) & (JC_ENTRIES - 1)) * (JC_ENTRY_SIZE >> 2);
      if (((this.cpu.u32[e] & ~(PAGE_SIZE - 1)) >>> 0) === pageLo && (this.cpu.u32[e + 1] & 0xffffff) === vaHi24) {
        this.cpu.u32[e] = 0xffffffff; this.cpu.u32[e + 1] = 0xffffffff;
      }
    }
  }

  /** Drops the cached fetch translations of one VA page, whatever its top byte (see flushJumpCachePage). */
  flushFetchPage(pageLo: number, vaHi24: number): void {
    const index = softTlbIndex(pageLo, vaHi24);
    const vpnLow = Math.floor(vaHi24 * PAGES_PER_4G) + (pageLo >>> PAGE_BITS);
    for (let m = 0; m < TLB_MMU_IDX_COUNT; m++) {
      const vpn = this.fetchVpn[m * TLB_ENTRIES + index];
      if (vpn >= 0 && vpn % POW2[56 - PAGE_BITS] === vpnLow) this.fetchVpn[m * TLB_ENTRIES + index] = -1;
    }
  }

  /** Removes write permission from fast-TLB entries that map physical page `ppn` (it now holds code). */
  protectCodePage(ppn: number): void {
    for (let i = 0; i < this.physPage.length; i++) {
      if (this.physPage[i] !== ppn) continue;
      const e = (this.cpu.base + S.TLB + i * TLB_ENTRY_SIZE + TLBE.WRITE) >> 2;
      this.cpu.u32[e] = 0xffffffff; this.cpu.u32[e + 1] = 0xffffffff;
    }
  }

  /** Enters the translation of one page (from the walk just made; `global`: a non-nG mapping). */
  fill(mmuIdx: number, vaLo: number, vaHi: number, pa: number, prot: number, global: boolean): void {
    if (prot & Prot.DEVICE) return;
    const ppn = Math.floor(pa / PAGE_SIZE);
    const wasm = this.cpu.bus.ramOffset(ppn * PAGE_SIZE);
    if (wasm < 0 || this.cpu.bus.ramExtent(ppn * PAGE_SIZE) < PAGE_SIZE) return;
    const index = softTlbIndex(vaLo, vaHi);
    const e = (this.cpu.base + S.TLB + mmuIdx * TLB_BYTES + index * TLB_ENTRY_SIZE) >> 2;
    const tagLo = (vaLo & ~(PAGE_SIZE - 1)) >>> 0;
    const canWrite = (prot & Prot.WRITE) !== 0 && !this.cpu.code.isCodePage(ppn);
    this.cpu.u32[e] = (prot & Prot.READ) ? tagLo : 0xffffffff;
    this.cpu.u32[e + 1] = (prot & Prot.READ) ? vaHi : 0xffffffff;
    this.cpu.u32[e + 2] = canWrite ? tagLo : 0xffffffff;
    this.cpu.u32[e + 3] = canWrite ? vaHi : 0xffffffff;
    // addend: only the low 32 bits matter (generated code wraps va+addend to i32)
    this.cpu.u32[e + 4] = (wasm - tagLo) >>> 0;
    this.cpu.u32[e + 5] = 0;
    this.physPage[mmuIdx * TLB_ENTRIES + index] = ppn;
    this.survivesSwitch[mmuIdx * TLB_ENTRIES + index] = global && ((vaHi >>> 23) & 1) === 1 ? 1 : 0;
  }

  /**
   * The physical address of a write at va when the soft-TLB holds a write
   * entry for its page (RAM, writable at this privilege, not code), else -1:
   * helpers that write memory themselves (STXR, DC ZVA) skip the table walk
   * as translated stores do.
   */
  writePa(mmuIdx: number, vaLo: number, vaHi: number): number {
    const index = softTlbIndex(vaLo, vaHi);
    const e = (this.cpu.base + S.TLB + mmuIdx * TLB_BYTES + index * TLB_ENTRY_SIZE + TLBE.WRITE) >> 2;
    if (this.cpu.u32[e] !== ((vaLo & ~(PAGE_SIZE - 1)) >>> 0) || this.cpu.u32[e + 1] !== vaHi) return -1;
    return this.physPage[mmuIdx * TLB_ENTRIES + index] * PAGE_SIZE + (vaLo & (PAGE_SIZE - 1));
  }
}
