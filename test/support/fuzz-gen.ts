// Random but valid A64 instruction sequences for differential fuzzing against
// QEMU (see oracle.ts). Deterministic from a seed. Every instruction belongs
// to a named class so a test run can pick only the classes armvirt implements.
//
// Invariants that keep every program valid and terminating:
// - X28 always points at the scratch area and is never written; X27 is a
//   temporary pointer that is set (from X28) right before every load/store that
//   uses it; X26 is a temporary index for register-offset addressing. So every
//   memory access stays inside the scratch area.
// - SP is never written except by pre/post-indexed accesses that are undone
//   in the same group; SP stays 16-byte aligned.
// - Branches only go forward, to numeric labels defined later (or to the end).

import { compareBatch, SCRATCH_SIZE, type ArchState, type OracleCase, type OracleInit } from './oracle';

/** Small, fast, seedable PRNG (mulberry32); deterministic across platforms. */
export class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0; }
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Integer in [0, n). */
  int(n: number): number { return Math.floor((this.u32() / 0x1_0000_0000) * n); }
  range(lo: number, hi: number): number { return lo + this.int(hi - lo + 1); }
  pick<T>(a: readonly T[]): T { return a[this.int(a.length)]; }
  bool(): boolean { return (this.u32() & 1) === 1; }
  u64(): bigint { return (BigInt(this.u32()) << 32n) | BigInt(this.u32()); }
  /** A 64-bit value biased towards edge cases (0, ±1, sign boundaries, small numbers). */
  interesting64(): bigint {
    switch (this.int(8)) {
      case 0: return this.pick([0n, 1n, 0xffff_ffff_ffff_ffffn, 0x8000_0000_0000_0000n, 0x7fff_ffff_ffff_ffffn]);
      case 1: return this.pick([0xffff_ffffn, 0x8000_0000n, 0x7fff_ffffn, 0x1_0000_0000n, 0xffff_ffff_8000_0000n]);
      case 2: return BigInt(this.int(256));
      case 3: return BigInt.asUintN(64, -BigInt(this.int(256)));
      case 4: return BigInt(this.u32());
      default: return this.u64();
    }
  }
}

const CONDS = ['eq', 'ne', 'cs', 'cc', 'mi', 'pl', 'vs', 'vc', 'hi', 'ls', 'ge', 'lt', 'gt', 'le', 'al'] as const;

/** Registers a generated instruction may write (not X26-X28, which the invariants reserve). */
const DEST_REGS = [...Array.from({ length: 26 }, (_, i) => i), 29, 30];
/** Registers a generated instruction may read (X26-X28 too: their values are deterministic). */
const SRC_REGS = Array.from({ length: 31 }, (_, i) => i);

type Emit = (g: Gen) => string;

export class Gen {
  constructor(readonly rng: Rng) {}
  /** Destination: a writable register, occasionally the zero register (discarding the result). */
  rd(w: boolean, zrOk = true): string {
    if (zrOk && this.rng.int(16) === 0) return w ? 'wzr' : 'xzr';
    return `${w ? 'w' : 'x'}${this.rng.pick(DEST_REGS)}`;
  }
  /** Source: any register, occasionally the zero register. */
  rn(w: boolean, zrOk = true): string {
    if (zrOk && this.rng.int(16) === 0) return w ? 'wzr' : 'xzr';
    return `${w ? 'w' : 'x'}${this.rng.pick(SRC_REGS)}`;
  }
  /** Destination that may be SP/WSP (for ADD/SUB immediate and extended forms). */
  rdNoSp(w: boolean): string { return `${w ? 'w' : 'x'}${this.rng.pick(DEST_REGS)}`; }
  sf(): boolean { return this.rng.bool(); } // true = 32-bit (W) form
  cond(): string { return this.rng.pick(CONDS); }
}

/** A valid logical (bitmask) immediate of the given width. */
export function bitmaskImmediate(rng: Rng, width: 32 | 64): bigint {
  const sizes = width === 64 ? [2, 4, 8, 16, 32, 64] : [2, 4, 8, 16, 32];
  const e = rng.pick(sizes);
  const ones = rng.range(1, e - 1);
  const rot = rng.int(e);
  const eMask = (1n << BigInt(e)) - 1n;
  let elem = (1n << BigInt(ones)) - 1n;
  elem = ((elem >> BigInt(rot)) | (elem << BigInt(e - rot))) & eMask;
  let v = 0n;
  for (let i = 0; i < width; i += e) v |= elem << BigInt(i);
  return v;
}

const hex = (v: bigint | number) => `0x${v.toString(16)}`;

/** Sets X27 to a random aligned address in the scratch area (room for `span` bytes and a pre/post index). */
function pointer(g: Gen, align: number, span: number): string {
  const slack = 512 + span;
  const off = Math.floor(g.rng.range(256, SCRATCH_SIZE - slack) / align) * align;
  return `add x27, x28, #${off}`;
}

/** Any FP/SIMD register number. */
function vreg(g: Gen): number { return g.rng.int(32); }

/** Registers X0..X25/X29/X30 for loads (never the base X27). */
function ldstReg(g: Gen, w: boolean): string { return `${w ? 'w' : 'x'}${g.rng.pick(DEST_REGS)}`; }

/** Store data register for a writeback form: never the base X27 (that is CONSTRAINED UNPREDICTABLE). */
function storeSrc(g: Gen, w: boolean): string {
  for (;;) { const r = g.rn(w); if (r.slice(1) !== '27') return r; }
}

export const CLASSES = {
  movw: g => {
    const w = g.sf();
    const op = g.rng.pick(['movz', 'movn', 'movk']);
    const hw = g.rng.int(w ? 2 : 4);
    return `${op} ${g.rd(w)}, #${hex(g.rng.int(0x10000))}, lsl #${hw * 16}`;
  },
  addsub_imm: g => {
    const w = g.sf();
    const op = g.rng.pick(['add', 'adds', 'sub', 'subs']);
    const setsFlags = op.endsWith('s');
    const rn = g.rng.int(8) === 0 ? (w ? 'wsp' : 'sp') : g.rn(w, false);
    const rd = setsFlags ? g.rd(w) : g.rdNoSp(w);
    return `${op} ${rd}, ${rn}, #${g.rng.int(4096)}${g.rng.bool() ? ', lsl #12' : ''}`;
  },
  logic_imm: g => {
    const w = g.sf();
    const op = g.rng.pick(['and', 'orr', 'eor', 'ands']);
    const rd = op === 'ands' ? g.rd(w) : g.rdNoSp(w);
    return `${op} ${rd}, ${g.rn(w)}, #${hex(bitmaskImmediate(g.rng, w ? 32 : 64))}`;
  },
  addsub_shift: g => {
    const w = g.sf();
    const op = g.rng.pick(['add', 'adds', 'sub', 'subs', 'neg', 'negs', 'cmp', 'cmn']);
    const sh = `${g.rng.pick(['lsl', 'lsr', 'asr'])} #${g.rng.int(w ? 32 : 64)}`;
    if (op === 'neg' || op === 'negs') return `${op} ${g.rd(w)}, ${g.rn(w)}, ${sh}`;
    if (op === 'cmp' || op === 'cmn') return `${op} ${g.rn(w)}, ${g.rn(w)}, ${sh}`;
    return `${op} ${g.rd(w)}, ${g.rn(w)}, ${g.rn(w)}, ${sh}`;
  },
  addsub_ext: g => {
    const w = g.sf();
    const op = g.rng.pick(['add', 'adds', 'sub', 'subs']);
    const ext = g.rng.pick(w ? ['uxtb', 'uxth', 'uxtw', 'sxtb', 'sxth', 'sxtw'] : ['uxtb', 'uxth', 'uxtw', 'uxtx', 'sxtb', 'sxth', 'sxtw', 'sxtx']);
    const rm = ext.endsWith('x') ? `x${g.rng.pick(SRC_REGS)}` : `w${g.rng.pick(SRC_REGS)}`;
    const rn = g.rng.int(6) === 0 ? (w ? 'wsp' : 'sp') : g.rn(w, false);
    const rd = op.endsWith('s') ? g.rd(w) : g.rdNoSp(w);
    return `${op} ${rd}, ${rn}, ${rm}, ${ext} #${g.rng.int(5)}`;
  },
  logic_shift: g => {
    const w = g.sf();
    const op = g.rng.pick(['and', 'bic', 'orr', 'orn', 'eor', 'eon', 'ands', 'bics', 'mvn', 'tst']);
    const sh = `${g.rng.pick(['lsl', 'lsr', 'asr', 'ror'])} #${g.rng.int(w ? 32 : 64)}`;
    if (op === 'mvn') return `mvn ${g.rd(w)}, ${g.rn(w)}, ${sh}`;
    if (op === 'tst') return `tst ${g.rn(w)}, ${g.rn(w)}, ${sh}`;
    return `${op} ${g.rd(w)}, ${g.rn(w)}, ${g.rn(w)}, ${sh}`;
  },
  adc: g => {
    const w = g.sf();
    const op = g.rng.pick(['adc', 'adcs', 'sbc', 'sbcs', 'ngc', 'ngcs']);
    if (op.startsWith('ngc')) return `${op} ${g.rd(w)}, ${g.rn(w)}`;
    return `${op} ${g.rd(w)}, ${g.rn(w)}, ${g.rn(w)}`;
  },
  condsel: g => {
    const w = g.sf();
    const op = g.rng.pick(['csel', 'csinc', 'csinv', 'csneg', 'cset', 'csetm', 'cinc', 'cneg']);
    const cond = g.rng.pick(CONDS.slice(0, 14)); // cset & co. reject AL/NV
    if (op === 'cset' || op === 'csetm') return `${op} ${g.rd(w)}, ${cond}`;
    if (op === 'cinc' || op === 'cneg') return `${op} ${g.rd(w)}, ${g.rn(w)}, ${cond}`;
    return `${op} ${g.rd(w)}, ${g.rn(w)}, ${g.rn(w)}, ${g.cond()}`;
  },
  condcmp: g => {
    const w = g.sf();
    const op = g.rng.pick(['ccmp', 'ccmn']);
    const b = g.rng.bool() ? `#${g.rng.int(32)}` : g.rn(w);
    return `${op} ${g.rn(w)}, ${b}, #${g.rng.int(16)}, ${g.cond()}`;
  },
  bitfield: g => {
    const w = g.sf();
    const width = w ? 32 : 64;
    const op = g.rng.pick(['ubfm', 'sbfm', 'bfm', 'extr', 'ror', 'lsl', 'lsr', 'asr', 'sxtb', 'sxth', 'sxtw', 'uxtb', 'uxth']);
    switch (op) {
      case 'extr': return `extr ${g.rd(w)}, ${g.rn(w)}, ${g.rn(w)}, #${g.rng.int(width)}`;
      case 'ror': case 'lsr': case 'asr': return `${op} ${g.rd(w)}, ${g.rn(w)}, #${g.rng.int(width)}`;
      case 'lsl': return `lsl ${g.rd(w)}, ${g.rn(w)}, #${g.rng.int(width)}`;
      case 'sxtb': case 'sxth': return `${op} ${g.rd(w)}, ${g.rn(true)}`;
      case 'sxtw': return `sxtw ${g.rd(false)}, ${g.rn(true)}`;
      case 'uxtb': case 'uxth': return `${op} ${g.rd(true)}, ${g.rn(true)}`;
      default: return `${op} ${g.rd(w)}, ${g.rn(w)}, #${g.rng.int(width)}, #${g.rng.int(width)}`;
    }
  },
  dp1: g => {
    const w = g.sf();
    const op = g.rng.pick(w ? ['rbit', 'rev', 'rev16', 'clz', 'cls'] : ['rbit', 'rev', 'rev16', 'rev32', 'clz', 'cls']);
    return `${op} ${g.rd(w)}, ${g.rn(w)}`;
  },
  dp2: g => {
    const w = g.sf();
    const op = g.rng.pick(['udiv', 'sdiv', 'lslv', 'lsrv', 'asrv', 'rorv']);
    return `${op} ${g.rd(w)}, ${g.rn(w)}, ${g.rn(w)}`;
  },
  mul: g => {
    const op = g.rng.pick(['madd', 'msub', 'mul', 'mneg', 'smaddl', 'umaddl', 'smsubl', 'umsubl', 'smulh', 'umulh', 'smull', 'umull']);
    if (op === 'madd' || op === 'msub') { const w = g.sf(); return `${op} ${g.rd(w)}, ${g.rn(w)}, ${g.rn(w)}, ${g.rn(w)}`; }
    if (op === 'mul' || op === 'mneg') { const w = g.sf(); return `${op} ${g.rd(w)}, ${g.rn(w)}, ${g.rn(w)}`; }
    if (op === 'smulh' || op === 'umulh') return `${op} ${g.rd(false)}, ${g.rn(false)}, ${g.rn(false)}`;
    if (op === 'smull' || op === 'umull') return `${op} ${g.rd(false)}, ${g.rn(true)}, ${g.rn(true)}`;
    return `${op} ${g.rd(false)}, ${g.rn(true)}, ${g.rn(true)}, ${g.rn(false)}`;
  },
  crc: g => {
    const sz = g.rng.pick(['b', 'h', 'w', 'x']);
    const c = g.rng.bool() ? 'c' : '';
    return `crc32${c}${sz} ${g.rd(true)}, ${g.rn(true)}, ${g.rn(sz === 'x' ? false : true)}`;
  },
  ldst_uimm: g => {
    const [op, size, w] = g.rng.pick([
      ['ldrb', 1, true], ['ldrh', 2, true], ['ldr', 4, true], ['ldr', 8, false], ['ldrsb', 1, true], ['ldrsb', 1, false],
      ['ldrsh', 2, true], ['ldrsh', 2, false], ['ldrsw', 4, false], ['strb', 1, true], ['strh', 2, true], ['str', 4, true], ['str', 8, false],
    ] as const);
    const off = g.rng.int(SCRATCH_SIZE / size) * size;
    const rt = op.startsWith('st') ? g.rn(w) : ldstReg(g, w);
    return `${op} ${rt}, [x28, #${off}]`;
  },
  ldst_unscaled: g => {
    const [op, w] = g.rng.pick([['ldurb', true], ['ldurh', true], ['ldur', true], ['ldur', false], ['ldursb', false], ['ldursh', true], ['ldursw', false], ['sturb', true], ['sturh', true], ['stur', true], ['stur', false]] as const);
    const rt = op.startsWith('st') ? g.rn(w) : ldstReg(g, w);
    // Aligned offsets here; ldst_unaligned covers misaligned ones.
    const size = op.endsWith('b') ? 1 : op.endsWith('h') ? 2 : op === 'ldursw' || w ? 4 : 8;
    return `${pointer(g, 8, 0)}\n${op} ${rt}, [x27, #${Math.floor(g.rng.range(-256, 255) / size) * size}]`;
  },
  ldst_prepost: g => {
    const [op, size, w] = g.rng.pick([['ldrb', 1, true], ['ldrh', 2, true], ['ldr', 4, true], ['ldr', 8, false], ['ldrsw', 4, false], ['ldrsb', 1, false], ['strb', 1, true], ['strh', 2, true], ['str', 4, true], ['str', 8, false]] as const);
    const rt = op.startsWith('st') ? storeSrc(g, w) : ldstReg(g, w);
    const imm = Math.floor(g.rng.range(-256, 255) / size) * size;
    return `${pointer(g, 8, 0)}\n${op} ${rt}, [x27${g.rng.bool() ? `, #${imm}]!` : `], #${imm}`}`;
  },
  ldst_reg: g => {
    const [op, size, w] = g.rng.pick([['ldrb', 1, true], ['ldrh', 2, true], ['ldr', 4, true], ['ldr', 8, false], ['ldrsh', 2, false], ['ldrsw', 4, false], ['strb', 1, true], ['strh', 2, true], ['str', 4, true], ['str', 8, false]] as const);
    const rt = op.startsWith('st') ? g.rn(w) : ldstReg(g, w);
    const shift = Math.log2(size);
    const scaled = g.rng.bool();
    const idx = g.rng.int(SCRATCH_SIZE / size / 2);
    const byteOff = scaled ? idx : idx * size;
    const ext = g.rng.pick(['lsl', 'uxtw', 'sxtw', 'sxtx']);
    const index = ext === 'uxtw' || ext === 'sxtw' ? 'w26' : 'x26';
    const amount = scaled && shift > 0 ? ` #${shift}` : ext === 'lsl' ? '' : '';
    const mod = ext === 'lsl' ? (scaled && shift > 0 ? `, lsl #${shift}` : '') : `, ${ext}${amount}`;
    return `movz x26, #${byteOff}\n${op} ${rt}, [x28, ${index}${mod}]`;
  },
  ldst_pair: g => {
    const [op, size, w] = g.rng.pick([['ldp', 4, true], ['ldp', 8, false], ['ldpsw', 4, false], ['stp', 4, true], ['stp', 8, false], ['ldnp', 8, false], ['stnp', 8, false]] as const);
    const imm = g.rng.range(-32, 31) * size;
    const load = op.startsWith('ld');
    const rt1 = load ? ldstReg(g, w) : storeSrc(g, w);
    let rt2 = load ? ldstReg(g, w) : storeSrc(g, w);
    while (load && rt2 === rt1) rt2 = ldstReg(g, w); // LDP with Rt == Rt2 is CONSTRAINED UNPREDICTABLE
    const mode = op.endsWith('np') ? 0 : g.rng.int(3);
    const addr = mode === 0 ? `[x27, #${imm}]` : mode === 1 ? `[x27, #${imm}]!` : `[x27], #${imm}`;
    return `${pointer(g, 8, 0)}\n${op} ${rt1}, ${rt2}, ${addr}`;
  },
  ldst_sp: g => {
    // SP-based accesses, including a push/pop pair that leaves SP where it was.
    const r1 = ldstReg(g, false), r2 = ldstReg(g, false);
    switch (g.rng.int(3)) {
      case 0: return `str ${g.rn(false)}, [sp, #${g.rng.int(64) * 8}]`;
      case 1: return `ldr ${r1}, [sp, #${g.rng.int(64) * 8}]`;
      default: return `stp ${g.rn(false)}, ${g.rn(false)}, [sp, #-16]!\nldp ${r1}, ${r2 === r1 ? (r1 === 'x0' ? 'x1' : 'x0') : r2}, [sp], #16`;
    }
  },
  ldst_excl: g => {
    const [ld, st, size, w] = g.rng.pick([['ldxr', 'stxr', 8, false], ['ldxr', 'stxr', 4, true], ['ldaxr', 'stlxr', 8, false], ['ldxrb', 'stxrb', 1, true], ['ldaxrh', 'stlxrh', 2, true]] as const);
    const rt = ldstReg(g, w);
    let rs = ldstReg(g, true);
    while (rs.slice(1) === rt.slice(1)) rs = ldstReg(g, true);
    const v = g.rn(w);
    return `${pointer(g, 8, 0)}\n${ld} ${rt}, [x27]\n${g.rng.bool() ? `${st} ${rs}, ${v.slice(1) === rs.slice(1) ? rt : v}, [x27]` : `${st} ${rs}, ${rt}, [x27]`}`;
  },
  ldst_acqrel: g => {
    const [op, w] = g.rng.pick([['ldar', false], ['ldar', true], ['ldarb', true], ['ldarh', true], ['stlr', false], ['stlr', true], ['stlrb', true], ['stlrh', true]] as const);
    const rt = op.startsWith('st') ? g.rn(w) : ldstReg(g, w);
    return `${pointer(g, 8, 0)}\n${op} ${rt}, [x27]`;
  },
  branch: g => {
    // A forward conditional branch over the next instructions (label placed by the generator).
    const label = g.rng.range(1, 9);
    switch (g.rng.int(5)) {
      case 0: return `b.${g.cond()} ${label}f`;
      case 1: return `cbz ${g.rn(g.sf())}, ${label}f`;
      case 2: return `cbnz ${g.rn(g.sf())}, ${label}f`;
      case 3: return `tbz ${g.rn(false)}, #${g.rng.int(64)}, ${label}f`;
      default: return `tbnz ${g.rn(false)}, #${g.rng.int(64)}, ${label}f`;
    }
  },
  adr: g => g.rng.bool() ? `adr ${g.rd(false, false)}, .+${g.rng.range(-64, 64) * 4}` : `adrp ${g.rd(false, false)}, .+${g.rng.range(-8, 8) * 4096}`,
  bl: g => `bl ${g.rng.range(1, 9)}f`,
  fmov_gp: g => {
    // Moves between general and FP/SIMD registers (a first, exact FP class).
    switch (g.rng.int(4)) {
      case 0: return `fmov d${g.rng.int(32)}, ${g.rn(false)}`;
      case 1: return `fmov s${g.rng.int(32)}, ${g.rn(true)}`;
      case 2: return `fmov ${g.rd(false)}, d${g.rng.int(32)}`;
      default: return `fmov v${g.rng.int(32)}.d[1], ${g.rn(false)}`;
    }
  },
  ldst_unaligned: g => {
    // Misaligned (but in-bounds) accesses: allowed on Normal memory, as for Linux user space.
    const [op, w] = g.rng.pick([['ldur', false], ['ldur', true], ['ldurh', true], ['ldursh', false], ['ldursw', false], ['stur', false], ['stur', true], ['sturh', true]] as const);
    const rt = op.startsWith('st') ? g.rn(w) : ldstReg(g, w);
    if (g.rng.int(3) === 0) {
      const a = ldstReg(g, false); let b = ldstReg(g, false); while (b === a) b = ldstReg(g, false);
      return `${pointer(g, 1, 32)}\n${g.rng.bool() ? `ldp ${a}, ${b}` : `stp ${g.rn(false)}, ${g.rn(false)}`}, [x27, #${g.rng.range(-8, 8) * 8}]`;
    }
    return `${pointer(g, 1, 16)}\n${op} ${rt}, [x27, #${g.rng.range(-255, 255)}]`;
  },
  ldst_excl_pair: g => {
    const w = g.sf();
    const a = ldstReg(g, w); let b = ldstReg(g, w); while (b.slice(1) === a.slice(1)) b = ldstReg(g, w);
    let rs = ldstReg(g, true); while (rs.slice(1) === a.slice(1) || rs.slice(1) === b.slice(1)) rs = ldstReg(g, true);
    const [ld, st] = g.rng.pick([['ldxp', 'stxp'], ['ldaxp', 'stlxp']]);
    return `${pointer(g, 16, 0)}\n${ld} ${a}, ${b}, [x27]\n${st} ${rs}, ${b}, ${a}, [x27]`;
  },
  sys: g => {
    // System instructions Linux user space may use.
    switch (g.rng.int(7)) {
      case 0: return `mrs ${g.rd(false, false)}, nzcv`;
      case 1: return `msr nzcv, ${g.rn(false)}`;
      case 2: return `mrs ${g.rd(false, false)}, ${g.rng.pick(['fpcr', 'fpsr', 'ctr_el0', 'dczid_el0'])}`;
      case 3: return `msr fpsr, ${g.rn(false)}`;
      case 4: return `msr tpidr_el0, ${g.rn(false)}\nmrs ${g.rd(false, false)}, tpidr_el0`;
      case 5: return `${pointer(g, 64, 64)}\ndc zva, x27`;
      default: return g.rng.pick(['nop', 'yield', 'dmb ish', 'dsb sy', 'isb', 'clrex', 'dmb ishld', 'csdb', 'sevl']);
    }
  },
  fp_arith: g => {
    const t = g.rng.pick(['s', 'd']);
    const op = g.rng.pick(['fadd', 'fsub', 'fmul', 'fdiv', 'fmax', 'fmin', 'fmaxnm', 'fminnm', 'fnmul', 'fabd']);
    return `${op} ${t}${vreg(g)}, ${t}${vreg(g)}, ${t}${vreg(g)}`;
  },
  fp_fma: g => {
    const t = g.rng.pick(['s', 'd']);
    return `${g.rng.pick(['fmadd', 'fmsub', 'fnmadd', 'fnmsub'])} ${t}${vreg(g)}, ${t}${vreg(g)}, ${t}${vreg(g)}, ${t}${vreg(g)}`;
  },
  fp_unary: g => {
    const t = g.rng.pick(['s', 'd']);
    const op = g.rng.pick(['fabs', 'fneg', 'fsqrt', 'frintn', 'frintp', 'frintm', 'frintz', 'frinta', 'frintx', 'frinti', 'fmov', 'fcvt']);
    if (op === 'fcvt') { const to = g.rng.pick(t === 's' ? ['d', 'h'] : ['s', 'h']); return `fcvt ${to}${vreg(g)}, ${t}${vreg(g)}`; }
    return `${op} ${t}${vreg(g)}, ${t}${vreg(g)}`;
  },
  fp_cmp: g => {
    const t = g.rng.pick(['s', 'd']);
    switch (g.rng.int(4)) {
      case 0: return `${g.rng.pick(['fcmp', 'fcmpe'])} ${t}${vreg(g)}, ${g.rng.bool() ? `${t}${vreg(g)}` : '#0.0'}`;
      case 1: return `${g.rng.pick(['fccmp', 'fccmpe'])} ${t}${vreg(g)}, ${t}${vreg(g)}, #${g.rng.int(16)}, ${g.cond()}`;
      default: return `fcsel ${t}${vreg(g)}, ${t}${vreg(g)}, ${t}${vreg(g)}, ${g.cond()}`;
    }
  },
  fp_cvt_int: g => {
    const t = g.rng.pick(['s', 'd']);
    const w = g.sf();
    if (g.rng.bool()) {
      const op = g.rng.pick(['fcvtzs', 'fcvtzu', 'fcvtns', 'fcvtnu', 'fcvtps', 'fcvtpu', 'fcvtms', 'fcvtmu', 'fcvtas', 'fcvtau']);
      return `${op} ${g.rd(w)}, ${t}${vreg(g)}`;
    }
    if (g.rng.int(4) === 0) return `${g.rng.pick(['scvtf', 'ucvtf', 'fcvtzs', 'fcvtzu'].slice(0, 2))} ${t}${vreg(g)}, ${g.rn(w)}, #${g.rng.range(1, w ? 32 : 64)}`;
    return `${g.rng.pick(['scvtf', 'ucvtf'])} ${t}${vreg(g)}, ${g.rn(w)}`;
  },
  fp_imm: g => `fmov ${g.rng.pick(['s', 'd'])}${vreg(g)}, #${g.rng.pick(['1.0', '-2.0', '0.5', '31.0', '0.125', '-1.9375', '3.0', '10.0'])}`,
  fp_ldst: g => {
    const [t, size] = g.rng.pick([['b', 1], ['h', 2], ['s', 4], ['d', 8], ['q', 16]] as const);
    switch (g.rng.int(4)) {
      case 0: return `${g.rng.pick(['ldr', 'str'])} ${t}${vreg(g)}, [x28, #${g.rng.int(SCRATCH_SIZE / size) * size}]`;
      case 1: return `${pointer(g, 16, 0)}\n${g.rng.pick(['ldr', 'str'])} ${t}${vreg(g)}, [x27, #${Math.floor(g.rng.range(-256, 255) / size) * size}]!`;
      case 2: return `${pointer(g, 16, 0)}\n${g.rng.pick(['ldur', 'stur'])} ${t}${vreg(g)}, [x27, #${Math.floor(g.rng.range(-256, 255) / size) * size}]`;
      default: {
        if (size === 1 || size === 2) return `ldr ${t}${vreg(g)}, [x28, #${g.rng.int(64) * size}]`;
        const a = vreg(g); let b = vreg(g); while (b === a) b = vreg(g);
        return `${pointer(g, 16, 0)}\n${g.rng.pick(['ldp', 'stp'])} ${t}${a}, ${t}${b}, [x27, #${g.rng.range(-16, 15) * size}]`;
      }
    }
  },
  simd_int: g => {
    const arr = g.rng.pick(['16b', '8h', '4s', '8b', '4h', '2s', '2d']);
    const op = g.rng.pick(['add', 'sub', 'mul', 'and', 'orr', 'eor', 'bic', 'orn', 'cmeq', 'cmgt', 'cmge', 'cmhi', 'cmhs', 'cmtst',
      'smax', 'smin', 'umax', 'umin', 'sqadd', 'uqadd', 'sqsub', 'uqsub', 'addp', 'sabd', 'uabd', 'bsl', 'bit', 'bif', 'mla', 'mls', 'urhadd', 'shadd']);
    const lanes = ['and', 'orr', 'eor', 'bic', 'orn', 'bsl', 'bit', 'bif'].includes(op) ? (arr.startsWith('16') || arr === '8h' || arr === '4s' || arr === '2d' ? '16b' : '8b') : arr;
    const noD = ['mul', 'smax', 'smin', 'umax', 'umin', 'sabd', 'uabd', 'mla', 'mls', 'urhadd', 'shadd'];
    const a = lanes === '2d' && noD.includes(op) ? '4s' : lanes;
    return `${op} v${vreg(g)}.${a}, v${vreg(g)}.${a}, v${vreg(g)}.${a}`;
  },
  simd_unary: g => {
    const arr = g.rng.pick(['16b', '8h', '4s', '8b', '4h', '2s']);
    const op = g.rng.pick(['abs', 'neg', 'not', 'cnt', 'rev64', 'rev32', 'rev16', 'cls', 'clz', 'addv', 'uaddlv', 'umaxv', 'sminv', 'xtn', 'uaddlp', 'saddlp', 'sqabs', 'cmeq0', 'cmlt0']);
    if (op === 'not' || op === 'cnt' || op === 'rev16') { const b = arr.startsWith('16') || arr === '8h' || arr === '4s' ? '16b' : '8b'; return `${op} v${vreg(g)}.${b}, v${vreg(g)}.${b}`; }
    if (op === 'rev32') { const b = g.rng.pick(['16b', '8h', '8b', '4h']); return `rev32 v${vreg(g)}.${b}, v${vreg(g)}.${b}`; }
    if (op === 'rev64' || op === 'cls' || op === 'clz' || op === 'abs' || op === 'neg' || op === 'sqabs') return `${op} v${vreg(g)}.${arr}, v${vreg(g)}.${arr}`;
    if (op === 'cmeq0' || op === 'cmlt0') return `${op.slice(0, 4)} v${vreg(g)}.${arr}, v${vreg(g)}.${arr}, #0`;
    if (op === 'xtn') { const [d, n] = g.rng.pick([['8b', '8h'], ['4h', '4s'], ['2s', '2d']]); return `xtn v${vreg(g)}.${d}, v${vreg(g)}.${n}`; }
    if (op === 'uaddlp' || op === 'saddlp') { const [d, n] = g.rng.pick([['8h', '16b'], ['4s', '8h'], ['2d', '4s']]); return `${op} v${vreg(g)}.${d}, v${vreg(g)}.${n}`; }
    // Reductions to a scalar (no 2S form).
    const [r, n] = g.rng.pick([['b', '16b'], ['h', '8h'], ['s', '4s'], ['b', '8b'], ['h', '4h']]);
    const wide = op === 'uaddlv' ? ({ b: 'h', h: 's', s: 'd' } as Record<string, string>)[r] : r;
    return `${op} ${wide}${vreg(g)}, v${vreg(g)}.${n}`;
  },
  simd_shift: g => {
    const [arr, bits] = g.rng.pick([['16b', 8], ['8h', 16], ['4s', 32], ['2d', 64], ['8b', 8], ['4h', 16], ['2s', 32]] as const);
    const op = g.rng.pick(['shl', 'ushr', 'sshr', 'ssra', 'usra', 'sli', 'sri', 'srshr', 'urshr', 'sqshl', 'ushll', 'sshll', 'shrn', 'sshl', 'ushl']);
    if (op === 'ushll' || op === 'sshll') {
      const [d, n, b] = g.rng.pick([['8h', '8b', 8], ['4s', '4h', 16], ['2d', '2s', 32]] as const);
      return `${op} v${vreg(g)}.${d}, v${vreg(g)}.${n}, #${g.rng.int(b)}`;
    }
    if (op === 'shrn') {
      const [d, n, b] = g.rng.pick([['8b', '8h', 8], ['4h', '4s', 16], ['2s', '2d', 32]] as const);
      return `shrn v${vreg(g)}.${d}, v${vreg(g)}.${n}, #${g.rng.range(1, b)}`;
    }
    if (op === 'sshl' || op === 'ushl') return `${op} v${vreg(g)}.${arr}, v${vreg(g)}.${arr}, v${vreg(g)}.${arr}`;
    const left = op === 'shl' || op === 'sli' || op === 'sqshl';
    return `${op} v${vreg(g)}.${arr}, v${vreg(g)}.${arr}, #${left ? g.rng.int(bits) : g.rng.range(1, bits)}`;
  },
  simd_perm: g => {
    const arr = g.rng.pick(['16b', '8h', '4s', '2d', '8b', '4h', '2s']);
    const op = g.rng.pick(['zip1', 'zip2', 'uzp1', 'uzp2', 'trn1', 'trn2', 'ext', 'tbl', 'dup', 'dupg', 'ins', 'insg', 'umov', 'smov', 'movi', 'mvni']);
    const a = op.startsWith('trn') || op.startsWith('zip') || op.startsWith('uzp') ? (arr === '2d' || arr === '2s' || true ? arr : arr) : arr;
    switch (op) {
      case 'ext': { const q = g.rng.bool(); return `ext v${vreg(g)}.${q ? '16b' : '8b'}, v${vreg(g)}.${q ? '16b' : '8b'}, v${vreg(g)}.${q ? '16b' : '8b'}, #${g.rng.int(q ? 16 : 8)}`; }
      case 'tbl': { const n = g.rng.range(1, 4); const first = g.rng.int(32); const list = Array.from({ length: n }, (_, i) => `v${(first + i) % 32}.16b`).join(', '); const q = g.rng.bool() ? '16b' : '8b'; return `${g.rng.pick(['tbl', 'tbx'])} v${vreg(g)}.${q}, {${list}}, v${vreg(g)}.${q}`; }
      case 'dup': { const [t, n] = g.rng.pick([['b', 16], ['h', 8], ['s', 4], ['d', 2]] as const); const dst = { b: '16b', h: '8h', s: '4s', d: '2d' }[t]; return `dup v${vreg(g)}.${dst}, v${vreg(g)}.${t}[${g.rng.int(n)}]`; }
      case 'dupg': { const [dst, w] = g.rng.pick([['16b', true], ['8h', true], ['4s', true], ['2d', false], ['8b', true]] as const); return `dup v${vreg(g)}.${dst}, ${g.rn(w)}`; }
      case 'ins': { const [t, n] = g.rng.pick([['b', 16], ['h', 8], ['s', 4], ['d', 2]] as const); return `mov v${vreg(g)}.${t}[${g.rng.int(n)}], v${vreg(g)}.${t}[${g.rng.int(n)}]`; }
      case 'insg': { const [t, n] = g.rng.pick([['b', 16], ['h', 8], ['s', 4], ['d', 2]] as const); return `mov v${vreg(g)}.${t}[${g.rng.int(n)}], ${g.rn(t !== 'd')}`; }
      case 'umov': { const [t, n] = g.rng.pick([['b', 16], ['h', 8], ['s', 4], ['d', 2]] as const); return `umov ${g.rd(t !== 'd')}, v${vreg(g)}.${t}[${g.rng.int(n)}]`; }
      case 'smov': { const [t, n, w] = g.rng.pick([['b', 16, true], ['h', 8, false], ['s', 4, false]] as const); return `smov ${g.rd(w)}, v${vreg(g)}.${t}[${g.rng.int(n)}]`; }
      case 'movi': return g.rng.bool() ? `movi v${vreg(g)}.16b, #${g.rng.int(256)}` : `movi v${vreg(g)}.2d, #0xff00ff0000ffff00`;
      case 'mvni': return `mvni v${vreg(g)}.4s, #${g.rng.int(256)}, lsl #${g.rng.pick([0, 8, 16, 24])}`;
      default: return `${op} v${vreg(g)}.${a === '2d' && op.startsWith('x') ? '4s' : a}, v${vreg(g)}.${a}, v${vreg(g)}.${a}`;
    }
  },
  simd_widen: g => {
    // Long, wide and narrowing forms (the "three different" and narrowing groups).
    const [d, n, wd] = g.rng.pick([['8h', '8b', '8h'], ['4s', '4h', '4s'], ['2d', '2s', '2d']] as const);
    const n2 = ({ '8b': '16b', '4h': '8h', '2s': '4s' } as Record<string, string>)[n];
    const hi = g.rng.bool();
    const src = hi ? n2 : n;
    const sfx = hi ? '2' : '';
    const op = g.rng.pick(['uaddl', 'saddl', 'usubl', 'ssubl', 'umull', 'smull', 'umlal', 'smlsl', 'sabdl', 'uabal', 'uaddw', 'ssubw', 'sqdmull', 'addhn', 'raddhn', 'sqxtn', 'uqxtn', 'sqxtun', 'xtn', 'sqrshrn', 'uqshrn', 'rshrn', 'fcvtl', 'fcvtn']);
    if (op === 'sqdmull' && d === '8h') return `sqdmull${sfx} v${vreg(g)}.4s, v${vreg(g)}.${hi ? '8h' : '4h'}, v${vreg(g)}.${hi ? '8h' : '4h'}`;
    if (op === 'uaddw' || op === 'ssubw') return `${op}${sfx} v${vreg(g)}.${wd}, v${vreg(g)}.${wd}, v${vreg(g)}.${src}`;
    if (op === 'addhn' || op === 'raddhn') return `${op}${sfx} v${vreg(g)}.${src}, v${vreg(g)}.${d}, v${vreg(g)}.${d}`;
    if (op === 'sqxtn' || op === 'uqxtn' || op === 'sqxtun' || op === 'xtn') return `${op}${sfx} v${vreg(g)}.${src}, v${vreg(g)}.${d}`;
    if (op === 'sqrshrn' || op === 'uqshrn' || op === 'rshrn') {
      const bits = n === '8b' ? 8 : n === '4h' ? 16 : 32;
      return `${op}${sfx} v${vreg(g)}.${src}, v${vreg(g)}.${d}, #${g.rng.range(1, bits)}`;
    }
    if (op === 'fcvtl') return g.rng.bool() ? `fcvtl${sfx} v${vreg(g)}.2d, v${vreg(g)}.${hi ? '4s' : '2s'}` : `fcvtl${sfx} v${vreg(g)}.4s, v${vreg(g)}.${hi ? '8h' : '4h'}`;
    if (op === 'fcvtn') return g.rng.bool() ? `fcvtn${sfx} v${vreg(g)}.${hi ? '4s' : '2s'}, v${vreg(g)}.2d` : `fcvtn${sfx} v${vreg(g)}.${hi ? '8h' : '4h'}, v${vreg(g)}.4s`;
    return `${op}${sfx} v${vreg(g)}.${d}, v${vreg(g)}.${src}, v${vreg(g)}.${src}`;
  },
  simd_scalar: g => {
    // Scalar forms of SIMD integer and FP operations.
    const t = g.rng.pick(['b', 'h', 's', 'd']);
    switch (g.rng.int(7)) {
      case 0: return `${g.rng.pick(['add', 'sub', 'cmeq', 'cmgt', 'cmhi', 'cmtst', 'sshl', 'ushl'])} d${vreg(g)}, d${vreg(g)}, d${vreg(g)}`;
      case 1: return `${g.rng.pick(['sqadd', 'uqadd', 'sqsub', 'uqsub', 'sqshl', 'uqrshl'])} ${t}${vreg(g)}, ${t}${vreg(g)}, ${t}${vreg(g)}`;
      case 2: return `${g.rng.pick(['shl', 'sli'])} d${vreg(g)}, d${vreg(g)}, #${g.rng.int(64)}`;
      case 3: return `${g.rng.pick(['ushr', 'sshr', 'srshr', 'usra', 'sri'])} d${vreg(g)}, d${vreg(g)}, #${g.rng.range(1, 64)}`;
      case 4: return `${g.rng.pick(['abs', 'neg', 'cmge', 'cmle'])} d${vreg(g)}, d${vreg(g)}${g.rng.bool() ? '' : ''}`.replace(/(cmge|cmle) (d\d+), (d\d+)$/, '$1 $2, $3, #0');
      case 5: { const f = g.rng.pick(['s', 'd']); return `${g.rng.pick(['fabd', 'fmulx', 'frecps', 'frsqrts', 'fcmeq', 'fcmge', 'facgt'])} ${f}${vreg(g)}, ${f}${vreg(g)}, ${f}${vreg(g)}`; }
      default: { const f = g.rng.pick(['s', 'd']); return `${g.rng.pick(['frecpe', 'frsqrte', 'frecpx', 'fcvtzs', 'scvtf', 'fcvtns', 'fcvtau'])} ${f}${vreg(g)}, ${f}${vreg(g)}`; }
    }
  },
  simd_fp: g => {
    const arr = g.rng.pick(['4s', '2s', '2d']);
    if (g.rng.int(4) === 0) { // by element, FCVTL/FCVTN, fixed-point conversions
      const d = arr === '2d';
      switch (g.rng.int(3)) {
        case 0: return `${g.rng.pick(['fmla', 'fmls', 'fmul'])} v${vreg(g)}.${arr}, v${vreg(g)}.${arr}, v${vreg(g)}.${d ? 'd' : 's'}[${g.rng.int(d ? 2 : 4)}]`;
        case 1: return g.rng.pick([`fcvtl v${vreg(g)}.2d, v${vreg(g)}.2s`, `fcvtl2 v${vreg(g)}.2d, v${vreg(g)}.4s`, `fcvtn v${vreg(g)}.2s, v${vreg(g)}.2d`, `fcvtn2 v${vreg(g)}.4s, v${vreg(g)}.2d`]);
        default: return `${g.rng.pick(['scvtf', 'ucvtf', 'fcvtzs', 'fcvtzu'])} v${vreg(g)}.${arr}, v${vreg(g)}.${arr}, #${g.rng.range(1, d ? 64 : 32)}`;
      }
    }
    const op = g.rng.pick(['fadd', 'fsub', 'fmul', 'fdiv', 'fmax', 'fmin', 'fmla', 'fmls', 'fcmeq', 'fcmgt', 'fcmge', 'faddp', 'fabs', 'fneg', 'fsqrt', 'scvtf', 'ucvtf', 'fcvtzs', 'fcvtzu', 'frintn', 'fmulx', 'frecpe', 'frsqrte', 'frecps', 'frsqrts']);
    if (['fabs', 'fneg', 'fsqrt', 'scvtf', 'ucvtf', 'fcvtzs', 'fcvtzu', 'frintn', 'frecpe', 'frsqrte'].includes(op)) return `${op} v${vreg(g)}.${arr}, v${vreg(g)}.${arr}`;
    return `${op} v${vreg(g)}.${arr}, v${vreg(g)}.${arr}, v${vreg(g)}.${arr}`;
  },
  simd_ldst: g => {
    const n = g.rng.range(1, 4);
    const arr = g.rng.pick(['16b', '8h', '4s', '2d', '8b', '4h', '2s']);
    const first = g.rng.int(32);
    const list = Array.from({ length: n }, (_, i) => `v${(first + i) % 32}.${arr}`).join(', ');
    const op = g.rng.pick(['ld1', 'st1', `ld${n}`, `st${n}`]);
    const op2 = (op === 'ld1' || op === 'st1' || !arr.startsWith('1') || true) ? op : op;
    const bytes = n * (arr === '16b' || arr === '8h' || arr === '4s' || arr === '2d' ? 16 : 8);
    const post = g.rng.int(3);
    const addr = post === 0 ? '[x27]' : post === 1 ? `[x27], #${bytes}` : '[x27], x26';
    const setup = post === 2 ? `\nmovz x26, #${g.rng.int(64) * 8}` : '';
    if (g.rng.int(5) === 0) { // single lane / replicate
      const [t, lanes] = g.rng.pick([['b', 16], ['h', 8], ['s', 4], ['d', 2]] as const);
      if (g.rng.bool()) return `${pointer(g, 16, 64)}\n${g.rng.pick(['ld1', 'st1'])} {v${vreg(g)}.${t}}[${g.rng.int(lanes)}], [x27]`;
      return `${pointer(g, 16, 64)}\nld1r {v${vreg(g)}.${({ b: '16b', h: '8h', s: '4s', d: '2d' } as const)[t]}}, [x27]`;
    }
    return `${pointer(g, 16, 64)}${setup}\n${arr === '2d' && op2.match(/^(ld|st)[234]$/) && false ? 'ld1' : op2} {${list}}, ${addr}`;
  },
  crypto: g => {
    const op = g.rng.pick(['aese', 'aesd', 'aesmc', 'aesimc', 'sha1h', 'sha1su1', 'sha256su0', 'sha1c', 'sha1p', 'sha1m', 'sha1su0', 'sha256h', 'sha256h2', 'sha256su1', 'pmull', 'pmull2']);
    switch (op) {
      case 'aese': case 'aesd': case 'aesmc': case 'aesimc': return `${op} v${vreg(g)}.16b, v${vreg(g)}.16b`;
      case 'sha1h': return `sha1h s${vreg(g)}, s${vreg(g)}`;
      case 'sha1su1': case 'sha256su0': return `${op} v${vreg(g)}.4s, v${vreg(g)}.4s`;
      case 'sha1c': case 'sha1p': case 'sha1m': return `${op} q${vreg(g)}, s${vreg(g)}, v${vreg(g)}.4s`;
      case 'sha256h': case 'sha256h2': return `${op} q${vreg(g)}, q${vreg(g)}, v${vreg(g)}.4s`;
      case 'pmull': return g.rng.bool() ? `pmull v${vreg(g)}.8h, v${vreg(g)}.8b, v${vreg(g)}.8b` : `pmull v${vreg(g)}.1q, v${vreg(g)}.1d, v${vreg(g)}.1d`;
      case 'pmull2': return `pmull2 v${vreg(g)}.8h, v${vreg(g)}.16b, v${vreg(g)}.16b`;
      default: return `${op} v${vreg(g)}.4s, v${vreg(g)}.4s, v${vreg(g)}.4s`;
    }
  },
} satisfies Record<string, Emit>;

export type InsnClass = keyof typeof CLASSES;
export const ALL_CLASSES = Object.keys(CLASSES) as InsnClass[];

/** Classes that touch FP/SIMD state (their runs also compare V0-V31, FPCR and FPSR). */
export function usesFp(cls: InsnClass): boolean { return /^(fmov|fp_|simd_|crypto)/.test(cls); }

/** One generated instruction (or tight group) with the class that produced it. */
export interface FuzzItem { cls: InsnClass | 'label'; asm: string }

export interface FuzzProgram { items: FuzzItem[]; init: OracleInit }

/** Labels every program ends with, so a branch (or a truncated prefix of a program) always has a target. */
export const TRAILING_LABELS = Array.from({ length: 9 }, (_, i) => `${i + 1}:`).join('\n');

export function programAsm(items: FuzzItem[]): string {
  return `${items.map(i => i.asm).join('\n')}\n${TRAILING_LABELS}`;
}

const F64_SPECIAL = [0n, 0x8000_0000_0000_0000n, 0x3ff0_0000_0000_0000n, 0xbff0_0000_0000_0000n, 0x7ff0_0000_0000_0000n, 0xfff0_0000_0000_0000n,
  0x7ff8_0000_0000_0000n, 0x7ff4_0000_0000_0001n, 0x0000_0000_0000_0001n, 0x000f_ffff_ffff_ffffn, 0x7fef_ffff_ffff_ffffn, 0x4330_0000_0000_0000n,
  0x43e0_0000_0000_0000n, 0xc3e0_0000_0000_0000n, 0x41e0_0000_0000_0000n, 0x3fe0_0000_0000_0000n, 0x4009_21fb_5444_2d18n];
const F32_SPECIAL = [0, 0x8000_0000, 0x3f80_0000, 0xbf80_0000, 0x7f80_0000, 0xff80_0000, 0x7fc0_0000, 0x7fa0_0001, 0x0000_0001, 0x007f_ffff,
  0x7f7f_ffff, 0x4f00_0000, 0xcf00_0000, 0x5f00_0000, 0x3f00_0000, 0x4b00_0000, 0x3fc0_0000, 0x4049_0fdb];

/** 64 bits that are interesting as a double, as two floats, or as integer lanes. */
function interestingFp64(rng: Rng): bigint {
  const f32 = () => BigInt(rng.int(3) === 0 ? rng.pick(F32_SPECIAL) : ((rng.u32() & 0x807fffff) | ((rng.range(100, 154) << 23) >>> 0)) >>> 0);
  switch (rng.int(5)) {
    case 0: return rng.pick(F64_SPECIAL);
    case 1: return (f32() << 32n) | f32();
    case 2: { // a double of moderate exponent (values that round, convert and compare non-trivially)
      const exp = BigInt(rng.range(0x3f0, 0x440));
      return (BigInt(rng.u32() & 0x80000000) << 32n) | (exp << 52n) | (rng.u64() & 0xf_ffff_ffff_ffffn);
    }
    default: return rng.interesting64();
  }
}

/** A random initial state: interesting register values, flags, FP registers and memory contents. */
export function randomInit(rng: Rng): OracleInit {
  const x: (bigint | undefined)[] = [];
  for (let n = 0; n < 31; n++) x.push(rng.interesting64());
  x[26] = 0n; x[27] = 0n;
  x[28] = undefined; // the oracle's default: the scratch pointer
  const memory = new Uint8Array(SCRATCH_SIZE);
  for (let i = 0; i < memory.length; i += 4) new DataView(memory.buffer).setUint32(i, rng.u32(), true);
  const v: bigint[] = [];
  for (let n = 0; n < 32; n++) v.push((interestingFp64(rng) << 64n) | interestingFp64(rng));
  // Mostly the default FPCR; sometimes another rounding mode, flush-to-zero or default-NaN.
  const fpcr = rng.pick([0, 0, 0, 1 << 22, 2 << 22, 3 << 22, 1 << 24, 1 << 25, (1 << 24) | (1 << 25)]);
  return { x, nzcv: (rng.u32() & 0xf0000000) >>> 0, v, memory, fpcr };
}

/** Generates `length` instructions from the chosen classes, deterministic from `seed`. */
export function generateProgram(seed: number, length: number, classes: readonly InsnClass[]): FuzzProgram {
  if (classes.length === 0) throw new Error('no instruction classes selected');
  const rng = new Rng(seed);
  const g = new Gen(rng);
  const init = randomInit(rng);
  const items: FuzzItem[] = [];
  for (let i = 0; i < length; i++) {
    const cls = rng.pick(classes);
    items.push({ cls, asm: CLASSES[cls](g) });
    // Define a label now and then, so some branches land inside the program, not only at its end.
    if (rng.int(6) === 0) items.push({ cls: 'label', asm: `${rng.range(1, 9)}:` });
  }
  return { items, init };
}

// ---- running and minimising -----------------------------------------------------------

export interface FuzzDivergence {
  seed: number;
  /** The whole program that diverged. */
  program: string;
  /** The first instruction (group) whose execution makes the states differ. */
  culprit: string;
  culpritClass: InsnClass | 'label' | '?';
  /** A one-instruction reproducer: run `culprit` from this state (QEMU's state just before it). */
  reproInit: OracleInit;
  diff: string;
}

export interface FuzzOptions {
  classes: readonly InsnClass[];
  /** Instructions per program. */
  length: number;
  /** Programs per QEMU process / batch. */
  batch?: number;
  ignoreFp?: boolean;
  /** Called after each batch (progress reporting). */
  onBatch?: (done: number, divergences: number) => void;
  /** Stop after this many divergences (default: no limit). */
  maxDivergences?: number;
}

function stateAsInit(s: ArchState): OracleInit {
  return { x: [...s.x], sp: s.sp, nzcv: s.nzcv, v: [...s.v], fpcr: s.fpcr, fpsr: s.fpsr, memory: s.scratch };
}

/** Finds the first item of a diverging program that makes armvirt and QEMU disagree. */
export function minimise(seed: number, prog: FuzzProgram, ignoreFp = false): FuzzDivergence {
  const prefixes: OracleCase[] = [];
  const ends: number[] = [];
  for (let k = 1; k <= prog.items.length; k++) {
    if (prog.items[k - 1].cls === 'label') continue;
    prefixes.push({ asm: programAsm(prog.items.slice(0, k)), init: prog.init });
    ends.push(k);
  }
  const results = compareBatch(prefixes, { ignoreFp });
  const first = results.findIndex(r => r.diff !== '');
  const full = programAsm(prog.items);
  if (first < 0) {
    return { seed, program: full, culprit: '(no prefix diverges: the divergence needs the whole program)', culpritClass: '?', reproInit: prog.init, diff: compareBatch([{ asm: full, init: prog.init }], { ignoreFp })[0].diff };
  }
  const item = prog.items[ends[first] - 1];
  const reproInit = first === 0 ? prog.init : stateAsInit(results[first - 1].qemu);
  const repro = compareBatch([{ asm: `${item.asm}\n${TRAILING_LABELS}`, init: reproInit }], { ignoreFp })[0];
  return { seed, program: full, culprit: item.asm, culpritClass: item.cls, reproInit, diff: repro.diff || results[first].diff };
}

/** Runs `count` programs (seeds seed, seed+1, ...) on both sides; returns the divergences, minimised. */
export function runFuzz(seed: number, count: number, options: FuzzOptions): FuzzDivergence[] {
  const batch = options.batch ?? 50;
  const out: FuzzDivergence[] = [];
  for (let start = 0; start < count; start += batch) {
    const programs: FuzzProgram[] = [];
    for (let i = start; i < Math.min(count, start + batch); i++) programs.push(generateProgram(seed + i, options.length, options.classes));
    const results = compareBatch(programs.map(p => ({ asm: programAsm(p.items), init: p.init })), { ignoreFp: options.ignoreFp });
    results.forEach((r, i) => {
      if (!r.diff) return;
      if (options.maxDivergences !== undefined && out.length >= options.maxDivergences) return;
      out.push(minimise(seed + start + i, programs[i], options.ignoreFp));
    });
    options.onBatch?.(Math.min(count, start + batch), out.length);
    if (options.maxDivergences !== undefined && out.length >= options.maxDivergences) break;
  }
  return out;
}

export function formatDivergence(d: FuzzDivergence): string {
  return `seed ${d.seed}: class ${d.culpritClass}: ${d.culprit.replace(/\n/g, '; ')}\n  ${d.diff.replace(/\n/g, '\n  ')}`;
}
