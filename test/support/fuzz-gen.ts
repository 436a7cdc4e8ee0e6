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
    // Unscaled offsets may be misaligned: keep them aligned here (ldst_unaligned covers the rest).
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
} satisfies Record<string, Emit>;

export type InsnClass = keyof typeof CLASSES;
export const ALL_CLASSES = Object.keys(CLASSES) as InsnClass[];

/** One generated instruction (or tight group) with the class that produced it. */
export interface FuzzItem { cls: InsnClass | 'label'; asm: string }

export interface FuzzProgram { items: FuzzItem[]; init: OracleInit }

/** Labels every program ends with, so a branch (or a truncated prefix of a program) always has a target. */
export const TRAILING_LABELS = Array.from({ length: 9 }, (_, i) => `${i + 1}:`).join('\n');

export function programAsm(items: FuzzItem[]): string {
  return `${items.map(i => i.asm).join('\n')}\n${TRAILING_LABELS}`;
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
  for (let n = 0; n < 32; n++) v.push((rng.interesting64() << 64n) | rng.interesting64());
  return { x, nzcv: (rng.u32() & 0xf0000000) >>> 0, v, memory };
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
