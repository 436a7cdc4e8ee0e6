// Stage-1 and stage-2 translation: page tables built in guest RAM by the
// test, the MMU enabled by the guest (MSR SCTLR_EL1), translated accesses
// checked through physical memory, and exact fault syndromes (ESR/FAR).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAsm, RAM_BASE, CODE_BASE, ERET_TO_EL1, type RunResult } from './support/machine';
import { PageTables, D, MAIR, NORMAL, DEVICE, tcrEl1, writeU64, readU64, readBytes, brkVectors } from './support/pagetables';
import type { Vcpu } from '../src/hv/vm';
import { assemble } from './support/asm';

const VECTORS = 0x4001_0000; // inside the identity-mapped RAM, so the vectors are reachable with the MMU on
const DATA_PA = 0x4030_0000;
const OTHER_PA = 0x4034_0000;
const POOL = 0x4040_0000;

const EC_DATA_ABORT_SAME = 0x25;
const EC_DATA_ABORT_LOWER = 0x24;
const EC_INSN_ABORT_SAME = 0x21;

/** Prologue: MAIR/TCR/TTBR0 from x20/x21/x22, then SCTLR_EL1.M on. */
const ENABLE_MMU = `
  msr mair_el1, x20
  msr tcr_el1, x21
  msr ttbr0_el1, x22
  isb
  mrs x0, sctlr_el1
  orr x0, x0, #1
  msr sctlr_el1, x0
  isb
`;

interface MmuSetup { granule: number; t0sz: number; tcrExtra?: bigint; map: (pt: PageTables, vcpu: Vcpu) => void; regs?: Record<number, bigint> }

/** Identity-maps RAM (block at level 2: 2 MiB / 32 MiB / 512 MiB) so code, stack and vectors stay reachable. */
function identity(pt: PageTables): void {
  const sh = pt.shift(2);
  for (let a = RAM_BASE; a < RAM_BASE + (16 << 20); a += 2 ** sh) pt.map(BigInt(a), a - (a % 2 ** sh), 2, NORMAL);
}

function runMmu(source: string, s: MmuSetup): RunResult {
  return runAsm(`${ENABLE_MMU}\n${source}\nbrk #0`, {
    setup: vcpu => {
      const inputSize = 64 - s.t0sz;
      const pt = new PageTables(vcpu, s.granule, inputSize, POOL);
      identity(pt);
      s.map(pt, vcpu);
      brkVectors(vcpu, VECTORS);
      vcpu.cpu.setReg('VBAR_EL1', BigInt(VECTORS));
      vcpu.cpu.setReg('CPACR_EL1', 3n << 20n);
      vcpu.setReg(20, MAIR);
      vcpu.setReg(21, tcrEl1(s.granule, s.t0sz, s.tcrExtra));
      vcpu.setReg(22, BigInt(pt.root));
      for (const [r, v] of Object.entries(s.regs ?? {})) vcpu.setReg(Number(r), v);
    },
  });
}

function mov64(reg: string, v: bigint): string {
  const parts = [0, 1, 2, 3].map(i => (v >> BigInt(16 * i)) & 0xffffn);
  return [`movz ${reg}, #0x${parts[0].toString(16)}`, ...[1, 2, 3].filter(i => parts[i] !== 0n).map(i => `movk ${reg}, #0x${parts[i].toString(16)}, lsl #${16 * i}`)].join('\n');
}

function expectBrk(r: RunResult): void {
  assert.equal(r.exit.reason, 'debug', JSON.stringify(r.exit));
}

/** Expects a synchronous exception to EL1 at the current-EL SP_ELx vector; returns ESR and FAR. */
function expectSyncEl1(r: RunResult, vector = 0x200): { ec: number; iss: number; far: bigint; elr: bigint } {
  expectBrk(r);
  assert.equal(r.vcpu.pc, BigInt(VECTORS + vector), `exception vector (ESR_EL1=0x${r.vcpu.cpu.reg('ESR_EL1').toString(16)})`);
  const esr = r.vcpu.cpu.reg('ESR_EL1');
  return { ec: Number(esr >> 26n), iss: Number(esr & 0x1ffffffn), far: r.vcpu.cpu.reg('FAR_EL1'), elr: r.vcpu.cpu.reg('ELR_EL1') };
}

const GRANULE_CASES: Array<{ granule: number; t0sz: number; va: bigint }> = [
  { granule: 12, t0sz: 16, va: 0x0000_7f12_3456_7000n }, // 4K, 48-bit VA, 4 levels from level 0
  { granule: 12, t0sz: 25, va: 0x0000_0012_3456_7000n }, // 4K, 39-bit VA, 3 levels from level 1
  { granule: 14, t0sz: 16, va: 0x0000_8a12_3456_c000n }, // 16K, 48-bit VA, level 0 with 2 entries
  { granule: 14, t0sz: 17, va: 0x0000_4a12_3456_8000n }, // 16K, 47-bit VA, 3 levels from level 1
  { granule: 16, t0sz: 22, va: 0x0000_0312_3456_0000n }, // 64K, 42-bit VA, 2 levels from level 2
  { granule: 16, t0sz: 16, va: 0x0000_f312_3456_0000n }, // 64K, 48-bit VA, 3 levels from level 1
];

for (const c of GRANULE_CASES) {
  test(`translated load/store: ${1 << (c.granule - 10)}K granule, ${64 - c.t0sz}-bit VA`, () => {
    const r = runMmu(`
      ${mov64('x1', c.va + 0x18n)}
      ${mov64('x2', 0x1122334455667788n)}
      str x2, [x1]
      ldr x3, [x1, #-8]
      ldrb w4, [x1, #1]
    `, {
      granule: c.granule, t0sz: c.t0sz,
      map: (pt, vcpu) => { pt.map(c.va, DATA_PA, 3, NORMAL); writeU64(vcpu, DATA_PA + 0x10, 0xabcdn); },
    });
    expectBrk(r);
    assert.equal(readU64(r.vcpu, DATA_PA + 0x18), 0x1122334455667788n, 'the store reached the mapped physical page');
    assert.equal(r.vcpu.getReg(3), 0xabcdn);
    assert.equal(r.vcpu.getReg(4), 0x77n);
  });
}

test('translation faults report the level of the invalid descriptor, FAR and WnR', () => {
  // 4K, 48-bit: nothing mapped under L0 entry 255 -> level 0 fault
  let f = expectSyncEl1(runMmu(`${mov64('x1', 0x0000_7f80_0000_0010n)}\nldr x2, [x1]`, { granule: 12, t0sz: 16, map: () => {} }));
  assert.deepEqual([f.ec, f.iss & 0x3f, (f.iss >> 6) & 1, f.far], [EC_DATA_ABORT_SAME, 0x04, 0, 0x0000_7f80_0000_0010n]);
  // the neighbour page of a mapped one: tables exist down to level 3, the level-3 entry is invalid
  f = expectSyncEl1(runMmu(`${mov64('x1', 0x0000_0012_3457_0008n)}\nstr x2, [x1]`, {
    granule: 12, t0sz: 16, map: pt => { pt.map(0x0000_0012_3456_f000n, DATA_PA, 3, NORMAL); },
  }));
  assert.deepEqual([f.ec, f.iss & 0x3f, (f.iss >> 6) & 1, f.far], [EC_DATA_ABORT_SAME, 0x07, 1, 0x0000_0012_3457_0008n]);
  // beyond the 39-bit input range of TTBR0: level 0 translation fault
  f = expectSyncEl1(runMmu(`${mov64('x1', 0x0000_0080_0000_0000n)}\nldr x2, [x1]`, { granule: 12, t0sz: 25, map: () => {} }));
  assert.deepEqual([f.ec, f.iss & 0x3f], [EC_DATA_ABORT_SAME, 0x04]);
});

test('permission, access flag and address size faults', () => {
  const va = 0x0000_0012_3456_7000n;
  const run = (attrs: bigint, insn: string, pa = DATA_PA) => expectSyncEl1(runMmu(`${mov64('x1', va + 8n)}\n${insn}`, {
    granule: 12, t0sz: 16, map: pt => { pt.map(va, pa, 3, attrs); },
  }));
  let f = run(NORMAL | D.AP_RO, 'str x2, [x1]');
  assert.deepEqual([f.ec, f.iss & 0x3f, (f.iss >> 6) & 1, f.far], [EC_DATA_ABORT_SAME, 0x0f, 1, va + 8n], 'write to read-only: permission fault level 3');
  f = run(NORMAL & ~D.AF, 'ldr x2, [x1]');
  assert.deepEqual([f.iss & 0x3f, (f.iss >> 6) & 1], [0x0b, 0], 'AF=0: access flag fault level 3 (no hardware AF update in ARMv8.0)');
  f = run(NORMAL, 'ldr x2, [x1]', 2 ** 44 + DATA_PA);
  assert.deepEqual([f.iss & 0x3f], [0x03], 'output address above the 44-bit PA size: address size fault level 3');
});

test('execute-never: PXN and SCTLR_EL1.WXN stop instruction fetch at EL1 with an instruction abort', () => {
  const va = 0x0000_0012_3456_0000n;
  for (const attrs of [NORMAL | D.PXN, NORMAL | D.AP_EL0 /* writable at EL0: never executable at EL1 */]) {
    const r = runMmu(`${mov64('x1', va)}\nblr x1`, {
      granule: 12, t0sz: 16, map: (pt, vcpu) => { pt.map(va, DATA_PA, 3, attrs); new DataView(vcpu.vm.memory.buffer).setUint32(vcpu.vm.ramOffset(DATA_PA), 0xd503201f, true); },
    });
    const f = expectSyncEl1(r);
    assert.deepEqual([f.ec, f.iss & 0x3f, f.far, f.elr], [EC_INSN_ABORT_SAME, 0x0f, va, va]);
  }
  // UXN alone does not stop EL1; WXN makes a writable page execute-never
  const ok = runMmu(`${mov64('x1', va)}\nblr x1`, {
    granule: 12, t0sz: 16, map: (pt, vcpu) => { pt.map(va, DATA_PA, 3, NORMAL | D.UXN | D.AP_RO); new DataView(vcpu.vm.memory.buffer).setUint32(vcpu.vm.ramOffset(DATA_PA), 0xd4200000, true); },
  });
  expectBrk(ok);
  assert.equal(ok.vcpu.pc, va, 'executed the BRK in the mapped page');
});

test('top-byte-ignore (TCR_EL1.TBI0) and TTBR1 for the upper VA range', () => {
  const va = 0x0000_0012_3456_7000n;
  let r = runMmu(`${mov64('x1', va | 0x5a00_0000_0000_0000n)}\nldr x3, [x1]`, {
    granule: 12, t0sz: 16, tcrExtra: 1n << 37n, map: (pt, vcpu) => { pt.map(va, DATA_PA, 3, NORMAL); writeU64(vcpu, DATA_PA, 0x77n); },
  });
  expectBrk(r);
  assert.equal(r.vcpu.getReg(3), 0x77n);
  // without TBI0 the tagged address is outside both ranges: level 0 translation fault
  const f = expectSyncEl1(runMmu(`${mov64('x1', va | 0x5a00_0000_0000_0000n)}\nldr x3, [x1]`, {
    granule: 12, t0sz: 16, map: pt => { pt.map(va, DATA_PA, 3, NORMAL); },
  }));
  assert.equal(f.iss & 0x3f, 0x04);
  // TTBR1: T1SZ = 25 (39-bit), 4K (TG1 = 0b10); kernel-style address 0xffffff80_00001000
  const kva = 0xffff_ff80_0000_1000n;
  r = runAsm(`
    msr mair_el1, x20
    msr tcr_el1, x21
    msr ttbr0_el1, x22
    msr ttbr1_el1, x23
    isb
    mrs x0, sctlr_el1
    orr x0, x0, #1
    msr sctlr_el1, x0
    isb
    ${mov64('x1', kva)}
    ldr x3, [x1]
    brk #0`, {
    setup: vcpu => {
      const pt0 = new PageTables(vcpu, 12, 48, POOL);
      identity(pt0);
      const pt1 = new PageTables(vcpu, 12, 39, POOL + 0x10_0000);
      pt1.map(kva, DATA_PA, 3, NORMAL);
      writeU64(vcpu, DATA_PA, 0x99n);
      vcpu.setReg(20, MAIR);
      vcpu.setReg(21, 16n | (25n << 16n) | (2n << 30n) | (4n << 32n));
      vcpu.setReg(22, BigInt(pt0.root));
      vcpu.setReg(23, BigInt(pt1.root));
    },
  });
  expectBrk(r);
  assert.equal(r.vcpu.getReg(3), 0x99n);
});

test('EL0 accesses are checked against AP[1]: EL1-only pages fault from EL0 (and from LDTR)', () => {
  const va = 0x0000_0012_3456_7000n;
  const userVa = 0x0000_0012_3456_8000n;
  // the identity map is EL1-only: give EL0 its code page with AP[1] set (and read-only, so EL1 may still execute it)
  const setup: MmuSetup = {
    granule: 12, t0sz: 16,
    map: (pt, vcpu) => {
      pt.map(va, DATA_PA, 3, NORMAL);
      pt.map(userVa, OTHER_PA, 3, NORMAL | D.AP_EL0);
      writeU64(vcpu, OTHER_PA, 0x42n);
      // EL0 code: ldr x3,[x2] ; ldr x4,[x1] ; brk
      const words = [0xf9400043, 0xf9400024, 0xd4200000];
      words.forEach((w, i) => new DataView(vcpu.vm.memory.buffer).setUint32(vcpu.vm.ramOffset(OTHER_PA + 0x100 + 4 * i), w, true));
    },
  };
  // EL0 code page must be executable at EL0 and not writable at EL0 (else EL1 would treat it PXN, irrelevant here)
  const r = runMmu(`
    ${mov64('x1', va)}
    ${mov64('x2', userVa)}
    ${mov64('x5', userVa + 0x100n)}
    msr elr_el1, x5
    msr spsr_el1, xzr
    eret`, setup);
  // the EL0 read of its own page worked, the read of the EL1-only page faulted to EL1 (lower EL vector)
  const f = expectSyncEl1(r, 0x400);
  assert.equal(r.vcpu.getReg(3), 0x42n);
  assert.deepEqual([f.ec, f.iss & 0x3f, f.far], [EC_DATA_ABORT_LOWER, 0x0f, va]);
  const l = expectSyncEl1(runMmu(`${mov64('x1', va)}\nldtr x3, [x1]`, setup));
  assert.deepEqual([l.ec, l.iss & 0x3f], [EC_DATA_ABORT_SAME, 0x0f], 'LDTR at EL1 is checked as EL0');
});

test('AT S1E1R/S1E0W write PAR_EL1 in the 64-bit format', () => {
  const va = 0x0000_0012_3456_7000n;
  const r = runMmu(`
    ${mov64('x1', va + 0x123n)}
    at s1e1r, x1
    mrs x3, par_el1
    at s1e0w, x1
    mrs x4, par_el1
    ${mov64('x1', 0x0000_0012_3457_7000n)}
    at s1e1w, x1
    mrs x5, par_el1
    at s1e1w, x7
    mrs x6, par_el1
  `, {
    granule: 12, t0sz: 16, regs: { 7: BigInt(CODE_BASE) },
    map: pt => { pt.map(va, DATA_PA, 3, NORMAL | D.AP_RO); },
  });
  expectBrk(r);
  // PA[47:12] | SH=3 (bits 8:7) | NS (bit 9) | bit 11 RES1 | ATTR (MAIR index 1 = 0xff) in bits 63:56
  assert.equal(r.vcpu.getReg(3), 0xff00_0000_0000_0000n | BigInt(DATA_PA) | (3n << 7n) | (1n << 9n) | (1n << 11n));
  // EL0 has no access: permission fault level 3 -> F=1, FST=0x0f
  assert.equal(r.vcpu.getReg(4), 1n | (0x0fn << 1n) | (1n << 11n));
  // unmapped neighbour: translation fault level 3
  assert.equal(r.vcpu.getReg(5), 1n | (0x07n << 1n) | (1n << 11n));
  // the identity-mapped code page (2 MiB block) translates to itself
  assert.equal(r.vcpu.getReg(6) & 0x0000_ffff_ffff_f000n, BigInt(CODE_BASE));
});

test('TLBI VAE1 makes a changed mapping visible; the soft-TLB keeps the old one until then', () => {
  const va = 0x0000_0012_3456_7000n;
  let descAddr = 0;
  const r = runMmu(`
    ${mov64('x1', va)}
    ldr x3, [x1]              // fills the soft-TLB with va -> DATA_PA
    str x8, [x9]              // repoint the descriptor (x9 = its address, x8 = new descriptor)
    dsb ishst
    ldr x4, [x1]              // stale entry: still DATA_PA (a TLB may hold it until invalidated)
    lsr x10, x1, #12
    tlbi vae1is, x10
    dsb ish
    isb
    ldr x5, [x1]
  `, {
    granule: 12, t0sz: 16,
    map: (pt, vcpu) => {
      descAddr = pt.map(va, DATA_PA, 3, NORMAL);
      writeU64(vcpu, DATA_PA, 0x1111n);
      writeU64(vcpu, OTHER_PA, 0x2222n);
      vcpu.setReg(8, BigInt(OTHER_PA) | NORMAL | 3n);
      vcpu.setReg(9, BigInt(descAddr));
    },
  });
  expectBrk(r);
  assert.deepEqual([r.vcpu.getReg(3), r.vcpu.getReg(4), r.vcpu.getReg(5)], [0x1111n, 0x1111n, 0x2222n]);
});

test('TLBI by VA inside a block mapping drops the whole block', () => {
  const va = 0x0000_0012_3440_0000n; // 2 MiB block
  const r = runMmu(`
    ${mov64('x1', va + 0x5000n)}
    ldr x3, [x1]
    str x8, [x9]
    dsb ishst
    ${mov64('x10', va >> 12n)}
    tlbi vae1, x10             // invalidate by the block's first page: the page at +0x5000 must go too
    dsb ish
    isb
    ldr x5, [x1]
  `, {
    granule: 12, t0sz: 16,
    map: (pt, vcpu) => {
      const addr = pt.map(va, 0x4040_0000 + 0x20_0000, 2, NORMAL);
      writeU64(vcpu, 0x4060_5000, 0x1111n);
      writeU64(vcpu, 0x4080_5000, 0x2222n);
      vcpu.setReg(8, BigInt(0x4080_0000) | NORMAL | 1n);
      vcpu.setReg(9, BigInt(addr));
    },
  });
  expectBrk(r);
  assert.deepEqual([r.vcpu.getReg(3), r.vcpu.getReg(5)], [0x1111n, 0x2222n]);
});

test('DC ZVA zeroes the 64-byte block of the address, and faults like a store', () => {
  const va = 0x0000_0012_3456_7000n;
  const r = runMmu(`
    ${mov64('x1', va + 0x4an)}
    dc zva, x1
    ldr x3, [x1]              // now through the soft-TLB fast path as well
    ${mov64('x1', va + 0x88n)}
    dc zva, x1
    mrs x4, dczid_el0
  `, {
    granule: 12, t0sz: 16,
    map: (pt, vcpu) => { pt.map(va, DATA_PA, 3, NORMAL); for (let i = 0; i < 0x100; i += 8) writeU64(vcpu, DATA_PA + i, 0xffff_ffff_ffff_ffffn); },
  });
  expectBrk(r);
  const bytes = readBytes(r.vcpu, DATA_PA, 0x100);
  assert.deepEqual(bytes.slice(0, 0x40), new Array(0x40).fill(0xff), 'block before untouched');
  assert.deepEqual(bytes.slice(0x40, 0xc0), new Array(0x80).fill(0), 'two 64-byte blocks zeroed');
  assert.deepEqual(bytes.slice(0xc0), new Array(0x40).fill(0xff), 'block after untouched');
  assert.equal(r.vcpu.getReg(4), 4n, 'DCZID_EL0: 64-byte blocks, DZP=0 at EL1');
  const f = expectSyncEl1(runMmu(`${mov64('x1', va + 0x48n)}\ndc zva, x1`, {
    granule: 12, t0sz: 16, map: pt => { pt.map(va, DATA_PA, 3, NORMAL | D.AP_RO); },
  }));
  assert.deepEqual([f.ec, f.iss & 0x3f, (f.iss >> 6) & 1, f.far], [EC_DATA_ABORT_SAME, 0x0f, 1, va + 0x40n]);
});

test('Device memory (MAIR attribute 0x00): unaligned accesses take an alignment fault', () => {
  const va = 0x0000_0012_3456_7000n;
  const r = runMmu(`${mov64('x1', va)}\nldr x3, [x1]\nldr w4, [x1, #2]`, {
    granule: 12, t0sz: 16, map: (pt, vcpu) => { pt.map(va, DATA_PA, 3, DEVICE); writeU64(vcpu, DATA_PA, 0x5566n); },
  });
  const f = expectSyncEl1(r);
  assert.equal(r.vcpu.getReg(3), 0x5566n, 'aligned Device access works');
  assert.deepEqual([f.ec, f.iss & 0x3f, f.far], [EC_DATA_ABORT_SAME, 0x21, va + 2n]);
});

test('stage 2: EL1 accesses go through VTTBR_EL2; a stage-2 fault goes to EL2 with HPFAR_EL2 and the syndrome', () => {
  const VEC2 = 0x4002_0000;
  const ipa = 0x8000_0000; // IPA of the data page, not RAM in the physical map
  const r = runAsm(`
    msr vtcr_el2, x20
    msr vttbr_el2, x21
    mov x0, #1                // HCR_EL2.VM
    orr x0, x0, #(1 << 31)    // RW: EL1 is AArch64
    msr hcr_el2, x0
    ${ERET_TO_EL1}
    ldr x3, [x22]             // IPA 0x80000000 -> PA DATA_PA
    str w23, [x24]            // IPA with no stage-2 mapping: stage-2 translation fault
    brk #0`, {
    el2: true,
    setup: vcpu => {
      // VTCR: T0SZ=24 (40-bit IPA), SL0=1 (start at level 1), 4K, PS=4 (44 bits)
      const s2 = new PageTables(vcpu, 12, 40, POOL, 1);
      s2.map(BigInt(RAM_BASE), RAM_BASE, 1, D.S2_RW | D.S2_NORMAL | D.AF); // 1 GiB identity block: code, stack, vectors
      s2.map(BigInt(ipa), DATA_PA, 3, D.S2_RW | D.S2_NORMAL | D.AF);
      writeU64(vcpu, DATA_PA, 0xfeedn);
      brkVectors(vcpu, VEC2);
      vcpu.cpu.setReg('VBAR_EL2', BigInt(VEC2));
      vcpu.setReg(20, 24n | (1n << 6n) | (4n << 16n));
      vcpu.setReg(21, BigInt(s2.root) | (5n << 48n));
      vcpu.setReg(22, BigInt(ipa));
      vcpu.setReg(23, 7n);
      vcpu.setReg(24, 0x9000_0010n);
    },
  });
  expectBrk(r);
  assert.equal(r.vcpu.getReg(3), 0xfeedn);
  assert.equal(r.vcpu.pc, BigInt(VEC2 + 0x400), 'lower-EL synchronous vector of EL2');
  const esr = r.vcpu.cpu.reg('ESR_EL2');
  assert.equal(esr >> 26n, BigInt(EC_DATA_ABORT_LOWER));
  // ISV=1 SAS=2 (word) SRT=23 WnR=1 DFSC=translation level 2 (0x90000000 shares its level-1 table with 0x80000000)
  assert.equal(esr & 0x1ffffffn, (1n << 24n) | (2n << 22n) | (23n << 16n) | (1n << 6n) | 0x06n);
  assert.equal(r.vcpu.cpu.reg('FAR_EL2'), 0x9000_0010n);
  assert.equal(r.vcpu.cpu.reg('HPFAR_EL2'), (0x9000_0010n >> 12n) << 4n);
});

test('stage 2 under stage 1: a stage-1 table in unmapped IPA space faults with S1PTW', () => {
  const VEC2 = 0x4002_0000;
  const r = runAsm(`
    msr vtcr_el2, x20
    msr vttbr_el2, x21
    mov x0, #1
    orr x0, x0, #(1 << 31)
    msr hcr_el2, x0
    msr mair_el1, x25
    msr tcr_el1, x26
    msr ttbr0_el1, x27
    ${ERET_TO_EL1}
    mrs x0, sctlr_el1
    orr x0, x0, #1
    msr sctlr_el1, x0
    isb
    ldr x3, [x22]
    brk #0`, {
    el2: true,
    setup: vcpu => {
      const s2 = new PageTables(vcpu, 12, 40, POOL, 1);
      s2.map(BigInt(RAM_BASE), RAM_BASE, 1, D.S2_RW | D.S2_NORMAL | D.AF);
      // stage 1: identity map of RAM, plus a VA whose level-3 table sits at IPA 0x80000000 (not mapped at stage 2)
      const s1 = new PageTables(vcpu, 12, 48, POOL + 0x10_0000);
      identity(s1);
      const va = 0x0000_0012_3456_7000n;
      const l2 = s1.entry(va, 2);
      writeU64(vcpu, l2, 0x8000_0000n | 3n);
      brkVectors(vcpu, VEC2);
      vcpu.cpu.setReg('VBAR_EL2', BigInt(VEC2));
      vcpu.setReg(20, 24n | (1n << 6n) | (4n << 16n));
      vcpu.setReg(21, BigInt(s2.root));
      vcpu.setReg(22, va);
      vcpu.setReg(25, MAIR);
      vcpu.setReg(26, tcrEl1(12, 16));
      vcpu.setReg(27, BigInt(s1.root));
    },
  });
  expectBrk(r);
  assert.equal(r.vcpu.pc, BigInt(VEC2 + 0x400));
  const esr = r.vcpu.cpu.reg('ESR_EL2');
  assert.equal(esr >> 26n, BigInt(EC_DATA_ABORT_LOWER));
  // no instruction syndrome on a stage-1 walk; S1PTW=1; translation fault level 1 at stage 2
  assert.equal(esr & 0x1ffffffn, (1n << 7n) | 0x05n);
  assert.equal(r.vcpu.cpu.reg('FAR_EL2'), 0x0000_0012_3456_7000n);
  assert.equal(r.vcpu.cpu.reg('HPFAR_EL2'), (0x8000_0000n >> 12n) << 4n);
});

test('an address-space switch (TTBR0_EL1 with another ASID) runs the code the new tables map at the same VA', () => {
  const CODE_VA = 0x1000_0000n, CODE_A = 0x4036_0000, CODE_B = 0x4037_0000;
  const r = runMmu(`
    ${mov64('x9', CODE_VA)}
    blr x9
    mov x10, x0
    msr ttbr0_el1, x23        // tables B, ASID 2
    isb
    blr x9
    mov x11, x0
    msr ttbr0_el1, x22        // tables A again, ASID 0
    isb
    blr x9
    mov x12, x0`, {
    granule: 12, t0sz: 25,
    map: (pt, vcpu) => {
      const other = new PageTables(vcpu, 12, 39, POOL + 0x10_0000);
      identity(other);
      // process-private (nG) code at one VA: "mov x0, #n; ret" in two physical pages
      pt.map(CODE_VA, CODE_A, 3, NORMAL | D.NG);
      other.map(CODE_VA, CODE_B, 3, NORMAL | D.NG);
      new Uint8Array(vcpu.vm.memory.buffer).set(assemble('mov x0, #1\nret'), vcpu.vm.ramOffset(CODE_A));
      new Uint8Array(vcpu.vm.memory.buffer).set(assemble('mov x0, #2\nret'), vcpu.vm.ramOffset(CODE_B));
      vcpu.setReg(23, BigInt(other.root) | (2n << 48n)); // (x22, tables A with ASID 0, is set by runMmu)
    },
  });
  expectBrk(r);
  assert.deepEqual([r.vcpu.getReg(10), r.vcpu.getReg(11), r.vcpu.getReg(12)], [1n, 2n, 1n]);
});
