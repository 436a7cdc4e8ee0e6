// Differential test oracle: runs A64 snippets under QEMU user mode
// (`qemu-aarch64 -cpu cortex-a57`, the reference) and under armvirt, and
// compares the architectural state afterwards: X0-X30, SP, NZCV, V0-V31,
// FPCR, FPSR and a 4 KiB scratch memory area.
//
// Both sides run the *same* linked image at the *same* addresses, so
// PC-relative results (ADR, BL's link register) and pointers into the scratch
// area agree. On QEMU every case is wrapped in a prologue that loads the
// initial state from a data table and an epilogue that writes the final state
// to stdout; many cases share one ELF and one QEMU process. On armvirt the
// prologue/epilogue are never executed (they use instructions armvirt may not
// implement yet): the state is set from TypeScript, the `b epilogue` after each
// snippet is patched into a BRK (guest debugging makes BRK exit), and the state
// is read back from the vCPU.
//
// Snippets must use numeric local labels (`1:`, `b.ne 1f`) because all cases of
// a batch are assembled into one file.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Vm } from '../../src/hv/vm';
import { S } from '../../src/cpu/state';

/** Guest-physical layout shared by the QEMU image and the armvirt machine. */
export const ORACLE_RAM_BASE = 0x4000_0000;
/** armvirt only: exception vectors made of BRKs, so a fault stops the run and is reported. */
export const ORACLE_VECTORS = 0x4000_0000;
/** The scratch area every snippet may load from and store to (compared after each case). */
export const SCRATCH_BASE = 0x4001_0000;
export const SCRATCH_SIZE = 4096;
/** Default initial SP: the middle of the scratch area, so pushes and positive offsets both stay inside it. */
export const SCRATCH_SP = SCRATCH_BASE + SCRATCH_SIZE / 2;
/** Register that points at the scratch area unless the case says otherwise. */
export const SCRATCH_REG = 28;
const TEXT_BASE = 0x4008_0000;

export interface OracleInit {
  /** X0..X30 (holes / undefined = 0, except X28 = SCRATCH_BASE). */
  x?: (bigint | undefined)[];
  sp?: bigint;
  /** NZCV in bits 31:28. */
  nzcv?: number;
  /** V0..V31 as 128-bit values. */
  v?: (bigint | undefined)[];
  fpcr?: number;
  fpsr?: number;
  /** Initial contents of the scratch area (shorter arrays are zero-padded). */
  memory?: Uint8Array;
}

export interface OracleCase { asm: string; init?: OracleInit; name?: string }

export interface ArchState {
  x: bigint[]; // 31 entries
  sp: bigint;
  nzcv: number;
  v: bigint[]; // 32 entries, 128-bit
  fpcr: number;
  fpsr: number;
  scratch: Uint8Array;
  /** Set when the snippet did not reach its end: a signal under QEMU, an exception/exit under armvirt. */
  fault?: string;
}

// ---- initial state -------------------------------------------------------------------

const MASK64 = (1n << 64n) - 1n;
const MASK128 = (1n << 128n) - 1n;

function initialX(init: OracleInit | undefined, n: number): bigint {
  const v = init?.x?.[n];
  if (v !== undefined) return v & MASK64;
  return n === SCRATCH_REG ? BigInt(SCRATCH_BASE) : 0n;
}

function initialMemory(init: OracleInit | undefined): Uint8Array {
  const m = new Uint8Array(SCRATCH_SIZE);
  if (init?.memory) m.set(init.memory.subarray(0, SCRATCH_SIZE));
  return m;
}

// Input record (per case): V0..V31 (512 bytes), X0..X30 (248), SP, NZCV, FPCR, FPSR.
const IN_V = 0, IN_X = 512, IN_SP = IN_X + 248, IN_NZCV = IN_SP + 8, IN_FPCR = IN_NZCV + 8, IN_FPSR = IN_FPCR + 8;
const IN_SIZE = IN_FPSR + 8;
// Output record: V0..V31, X0..X30, SP, NZCV, FPCR, FPSR, case index, then the scratch area.
const OUT_V = 0, OUT_X = 512, OUT_SP = OUT_X + 248, OUT_NZCV = OUT_SP + 8, OUT_FPCR = OUT_NZCV + 8, OUT_FPSR = OUT_FPCR + 8;
const OUT_INDEX = OUT_FPSR + 8;
const OUT_SCRATCH = OUT_INDEX + 8; // 800, a multiple of 16
const OUT_SIZE = OUT_SCRATCH + SCRATCH_SIZE;

function inputRecord(init: OracleInit | undefined): Buffer {
  const b = Buffer.alloc(IN_SIZE);
  for (let n = 0; n < 32; n++) {
    const v = (init?.v?.[n] ?? 0n) & MASK128;
    b.writeBigUInt64LE(v & MASK64, IN_V + 16 * n);
    b.writeBigUInt64LE(v >> 64n, IN_V + 16 * n + 8);
  }
  for (let n = 0; n < 31; n++) b.writeBigUInt64LE(initialX(init, n), IN_X + 8 * n);
  b.writeBigUInt64LE((init?.sp ?? BigInt(SCRATCH_SP)) & MASK64, IN_SP);
  b.writeBigUInt64LE(BigInt((init?.nzcv ?? 0) >>> 0) & 0xf0000000n, IN_NZCV);
  b.writeBigUInt64LE(BigInt((init?.fpcr ?? 0) >>> 0), IN_FPCR);
  b.writeBigUInt64LE(BigInt((init?.fpsr ?? 0) >>> 0), IN_FPSR);
  return b;
}

// ---- the image ----------------------------------------------------------------------

const LINKER_SCRIPT = `
ENTRY(_start)
SECTIONS {
  . = 0x${SCRATCH_BASE.toString(16)};
  .scratch (NOLOAD) : { *(.scratch) }
  . = 0x${TEXT_BASE.toString(16)};
  .text : { *(.text) }
  . = ALIGN(4096);
  .data : { *(.data) }
  .bss : { *(.bss) }
}
`;

function movAbs(reg: string, value: number): string {
  return `movz ${reg}, #0x${(value >>> 16).toString(16)}, lsl #16\n  movk ${reg}, #0x${(value & 0xffff).toString(16)}`;
}

/** Assembly for one case: prologue (QEMU only), snippet, patch site, epilogue (QEMU only). */
function caseSource(k: number, asm: string, memFile: string): string {
  const qLoads: string[] = [];
  const qStores: string[] = [];
  for (let n = 0; n < 32; n += 2) {
    qLoads.push(`ldp q${n}, q${n + 1}, [x30, #${IN_V + 16 * n}]`);
    qStores.push(`stp q${n}, q${n + 1}, [x30, #${OUT_V + 16 * n}]`);
  }
  const xLoads: string[] = [];
  const xStores: string[] = [];
  for (let n = 0; n < 30; n += 2) {
    xLoads.push(`ldp x${n}, x${n + 1}, [x30, #${8 * n}]`);
    xStores.push(`stp x${n}, x${n + 1}, [x30, #${8 * n}]`);
  }
  return `
  // ---- case ${k}
  .data
  .balign 16
in_${k}:
  .incbin "in_${k}.bin"
mem_${k}:
  .incbin "${memFile}"
  .text
  .balign 4
case_${k}:
  // scratch area <- the case's initial memory image
  adrp x0, mem_${k}
  add x0, x0, :lo12:mem_${k}
  ${movAbs('x1', SCRATCH_BASE)}
  mov x2, #${SCRATCH_SIZE}
0:ldp x3, x4, [x0], #16
  stp x3, x4, [x1], #16
  subs x2, x2, #16
  b.ne 0b
  adrp x30, in_${k}
  add x30, x30, :lo12:in_${k}
  ${qLoads.join('\n  ')}
  add x30, x30, #${IN_X}
  ldr x0, [x30, #${IN_NZCV - IN_X}]
  msr nzcv, x0
  ldr x0, [x30, #${IN_FPCR - IN_X}]
  msr fpcr, x0
  ldr x0, [x30, #${IN_FPSR - IN_X}]
  msr fpsr, x0
  ldr x0, [x30, #${IN_SP - IN_X}]
  mov sp, x0
  ${xLoads.join('\n  ')}
  ldr x30, [x30, #240]
  .balign 4
snippet_${k}:
${asm}
  .balign 4
end_${k}:
  b epilogue_${k}
epilogue_${k}:
  msr tpidr_el0, x30
  adrp x30, outbuf
  add x30, x30, :lo12:outbuf
  ${qStores.join('\n  ')}
  add x30, x30, #${OUT_X}
  ${xStores.join('\n  ')}
  mrs x0, tpidr_el0
  str x0, [x30, #240]
  mov x0, sp
  str x0, [x30, #${OUT_SP - OUT_X}]
  mrs x0, nzcv
  str x0, [x30, #${OUT_NZCV - OUT_X}]
  mrs x0, fpcr
  str x0, [x30, #${OUT_FPCR - OUT_X}]
  mrs x0, fpsr
  str x0, [x30, #${OUT_FPSR - OUT_X}]
  mov x0, #${k & 0xffff}
  movk x0, #${k >>> 16}, lsl #16
  str x0, [x30, #${OUT_INDEX - OUT_X}]
  add x0, x30, #${OUT_SCRATCH - OUT_X}
  ${movAbs('x1', SCRATCH_BASE)}
  mov x2, #${SCRATCH_SIZE}
0:ldp x3, x4, [x1], #16
  stp x3, x4, [x0], #16
  subs x2, x2, #16
  b.ne 0b
  // write(1, outbuf, OUT_SIZE)
  mov x0, #1
  adrp x1, outbuf
  add x1, x1, :lo12:outbuf
  mov x2, #${OUT_SIZE}
  mov x8, #64
  svc #0
`;
}

interface BuiltImage {
  text: Uint8Array;
  elf: string;
  snippet: number[];
  end: number[];
  dir: string;
}

/** Builds one ELF holding `cases` (indices `first`..), in a fresh temp directory. */
function buildImage(cases: OracleCase[]): BuiltImage {
  const dir = mkdtempSync(join(tmpdir(), 'armvirt-oracle-'));
  const zero = 'mem_zero.bin';
  writeFileSync(join(dir, zero), new Uint8Array(SCRATCH_SIZE));
  let src = `  .text\n  .globl _start\n_start:\n`;
  cases.forEach((c, k) => {
    writeFileSync(join(dir, `in_${k}.bin`), inputRecord(c.init));
    let memFile = zero;
    if (c.init?.memory) { memFile = `mem_${k}.bin`; writeFileSync(join(dir, memFile), initialMemory(c.init)); }
    src += caseSource(k, c.asm, memFile);
  });
  src += `
  // exit(0)
  mov x0, #0
  mov x8, #93
  svc #0
  .section .scratch, "aw", @nobits
  .space ${SCRATCH_SIZE}
  .bss
  .balign 16
outbuf:
  .space ${OUT_SIZE}
`;
  writeFileSync(join(dir, 'o.s'), src);
  writeFileSync(join(dir, 'o.ld'), LINKER_SCRIPT);
  try {
    execFileSync('aarch64-linux-gnu-as', ['-march=armv8-a+crc+crypto', '-I', dir, '-o', join(dir, 'o.o'), join(dir, 'o.s')], { stdio: 'pipe', cwd: dir });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? String(e);
    throw new Error(`oracle: assembling the snippets failed:\n${stderr}`);
  }
  execFileSync('aarch64-linux-gnu-ld', ['-T', join(dir, 'o.ld'), '-o', join(dir, 'o.elf'), join(dir, 'o.o')], { stdio: 'pipe' });
  execFileSync('aarch64-linux-gnu-objcopy', ['-O', 'binary', '-j', '.text', join(dir, 'o.elf'), join(dir, 'o.bin')], { stdio: 'pipe' });
  const snippet: number[] = [];
  const end: number[] = [];
  const nm = execFileSync('aarch64-linux-gnu-nm', [join(dir, 'o.elf')], { encoding: 'utf8', maxBuffer: 64 << 20 });
  for (const line of nm.split('\n')) {
    const m = /^([0-9a-f]+) \w (snippet|end)_(\d+)$/.exec(line);
    if (!m) continue;
    (m[2] === 'snippet' ? snippet : end)[Number(m[3])] = parseInt(m[1], 16);
  }
  return { text: new Uint8Array(readFileSync(join(dir, 'o.bin'))), elf: join(dir, 'o.elf'), snippet, end, dir };
}

// ---- QEMU side ------------------------------------------------------------------------

function parseRecord(buf: Buffer, off: number): { index: number; state: ArchState } {
  const x: bigint[] = [];
  for (let n = 0; n < 31; n++) x.push(buf.readBigUInt64LE(off + OUT_X + 8 * n));
  const v: bigint[] = [];
  for (let n = 0; n < 32; n++) v.push(buf.readBigUInt64LE(off + OUT_V + 16 * n) | (buf.readBigUInt64LE(off + OUT_V + 16 * n + 8) << 64n));
  return {
    index: Number(buf.readBigUInt64LE(off + OUT_INDEX)),
    state: {
      x, v,
      sp: buf.readBigUInt64LE(off + OUT_SP),
      nzcv: Number(buf.readBigUInt64LE(off + OUT_NZCV) & 0xffffffffn),
      fpcr: Number(buf.readBigUInt64LE(off + OUT_FPCR) & 0xffffffffn),
      fpsr: Number(buf.readBigUInt64LE(off + OUT_FPSR) & 0xffffffffn),
      scratch: new Uint8Array(buf.subarray(off + OUT_SCRATCH, off + OUT_SIZE)),
    },
  };
}

function faultState(init: OracleInit | undefined, fault: string): ArchState {
  return {
    x: Array.from({ length: 31 }, (_, n) => initialX(init, n)), sp: 0n, nzcv: 0, v: new Array<bigint>(32).fill(0n),
    fpcr: 0, fpsr: 0, scratch: initialMemory(init), fault,
  };
}

/** Runs every case under qemu-aarch64; a case that kills QEMU gets a fault state and the rest run in a new process. */
export function runOracleBatch(cases: OracleCase[]): ArchState[] {
  const results: ArchState[] = [];
  while (results.length < cases.length) {
    const first = results.length;
    const rest = cases.slice(first);
    const img = buildImage(rest);
    try {
      const r = spawnSync('qemu-aarch64', ['-cpu', 'cortex-a57', img.elf], { maxBuffer: (rest.length + 1) * OUT_SIZE + (1 << 20), timeout: 60_000 });
      const out = r.stdout ?? Buffer.alloc(0);
      const complete = Math.floor(out.length / OUT_SIZE);
      for (let k = 0; k < complete; k++) results.push(parseRecord(out, k * OUT_SIZE).state);
      if (complete < rest.length) {
        const why = r.error ? String(r.error) : r.signal ? `qemu killed by ${r.signal}` : `qemu exited with ${r.status}`;
        const stderr = (r.stderr ?? Buffer.alloc(0)).toString().trim().split('\n').slice(-1)[0] ?? '';
        results.push(faultState(rest[complete].init, `${why}${stderr ? ` (${stderr})` : ''}`));
      }
    } finally {
      rmSync(img.dir, { recursive: true, force: true });
    }
  }
  return results;
}

export function runOracle(asm: string, init?: OracleInit): ArchState {
  return runOracleBatch([{ asm, init }])[0];
}

// ---- armvirt side ---------------------------------------------------------------------

export interface ArmvirtOptions {
  /** Exception level the snippet runs at on armvirt (0 matches QEMU user mode; default 0). */
  el?: 0 | 1;
  /** Instruction budget per case (guards against runaway snippets). */
  maxInstructions?: number;
}

const BRK_INSN = 0xd4200000; // brk #0
const VECTOR_BRK = 0xd43ffe00; // brk #0xfff marks "an exception was taken"

function runArmvirtImage(img: BuiltImage, k: number, init: OracleInit | undefined, options: ArmvirtOptions): ArchState {
  const textEnd = TEXT_BASE + img.text.length;
  const ramBytes = Math.ceil((textEnd - ORACLE_RAM_BASE + 0x10000) / 0x10000) * 0x10000;
  const vm = new Vm({ ramBytes, el2: false });
  const ram = vm.mapMemory(ORACLE_RAM_BASE, ramBytes);
  const ramView = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
  ram.set(img.text, TEXT_BASE - ORACLE_RAM_BASE);
  // Stop right after the snippet instead of running the QEMU epilogue.
  ramView.setUint32(img.end[k] - ORACLE_RAM_BASE, BRK_INSN, true);
  for (let off = 0; off < 0x800; off += 4) ramView.setUint32(ORACLE_VECTORS - ORACLE_RAM_BASE + off, VECTOR_BRK, true);
  ram.set(initialMemory(init), SCRATCH_BASE - ORACLE_RAM_BASE);

  const vcpu = vm.createVcpu();
  const cpu = vcpu.cpu;
  vcpu.setGuestDebug(true);
  cpu.setReg('VBAR_EL1', BigInt(ORACLE_VECTORS));
  cpu.setReg('CPACR_EL1', 3n << 20n); // FPEN: FP/SIMD usable at EL0 and EL1, as under Linux
  // Linux's EL0 view: DC ZVA (DZE), CTR_EL0 (UCT) and cache maintenance (UCI) allowed at EL0.
  cpu.setReg('SCTLR_EL1', cpu.reg('SCTLR_EL1') | (1n << 14n) | (1n << 15n) | (1n << 26n));
  const el = options.el ?? 0;
  cpu.setElSp(el, el === 0 ? 0 : 1);
  for (let n = 0; n < 31; n++) cpu.setX(n, initialX(init, n));
  cpu.sp = (init?.sp ?? BigInt(SCRATCH_SP)) & MASK64;
  cpu.nzcv = (init?.nzcv ?? 0) & 0xf0000000;
  for (let n = 0; n < 32; n++) {
    const v = (init?.v?.[n] ?? 0n) & MASK128;
    cpu.dv.setBigUint64(cpu.base + S.V + 16 * n, v & MASK64, true);
    cpu.dv.setBigUint64(cpu.base + S.V + 16 * n + 8, v >> 64n, true);
  }
  cpu.u32[(cpu.base + S.FPCR) >> 2] = (init?.fpcr ?? 0) >>> 0;
  cpu.u32[(cpu.base + S.FPSR) >> 2] = (init?.fpsr ?? 0) >>> 0;
  vcpu.pc = BigInt(img.snippet[k]);

  const max = options.maxInstructions ?? 1_000_000;
  let fault: string | undefined;
  for (;;) {
    const exit = vcpu.run(Math.min(200_000, max));
    if (exit.reason === 'intr') {
      if (vcpu.instructions < max) continue;
      fault = `armvirt: instruction budget of ${max} exhausted at pc 0x${vcpu.pc.toString(16)}`;
      break;
    }
    if (exit.reason === 'debug') {
      const pc = Number(vcpu.pc);
      if (pc === img.end[k]) break;
      if (pc >= ORACLE_VECTORS && pc < ORACLE_VECTORS + 0x800) {
        const esr = cpu.reg('ESR_EL1');
        const elr = cpu.reg('ELR_EL1');
        const ec = Number(esr >> 26n) & 0x3f;
        fault = `armvirt: exception EC=0x${ec.toString(16)} ESR=0x${esr.toString(16)} at snippet+0x${(Number(elr) - img.snippet[k]).toString(16)} (pc 0x${elr.toString(16)}), FAR=0x${cpu.reg('FAR_EL1').toString(16)}`;
        const insnOff = Number(elr) - TEXT_BASE;
        if (insnOff >= 0 && insnOff + 4 <= img.text.length) {
          fault += `, insn 0x${new DataView(img.text.buffer, img.text.byteOffset).getUint32(insnOff, true).toString(16).padStart(8, '0')}`;
        }
        break;
      }
      fault = `armvirt: BRK at unexpected pc 0x${pc.toString(16)}`;
      break;
    }
    if (exit.reason === 'mmio') { fault = `armvirt: MMIO ${exit.isWrite ? 'write' : 'read'} at 0x${exit.pa.toString(16)}`; break; }
    fault = `armvirt: exit ${JSON.stringify(exit)}`;
    break;
  }

  const x: bigint[] = [];
  for (let n = 0; n < 31; n++) x.push(cpu.x(n));
  const v: bigint[] = [];
  for (let n = 0; n < 32; n++) {
    v.push(cpu.dv.getBigUint64(cpu.base + S.V + 16 * n, true) | (cpu.dv.getBigUint64(cpu.base + S.V + 16 * n + 8, true) << 64n));
  }
  return {
    x, v, sp: cpu.sp, nzcv: cpu.nzcv,
    fpcr: cpu.u32[(cpu.base + S.FPCR) >> 2], fpsr: cpu.u32[(cpu.base + S.FPSR) >> 2],
    scratch: new Uint8Array(ram.subarray(SCRATCH_BASE - ORACLE_RAM_BASE, SCRATCH_BASE - ORACLE_RAM_BASE + SCRATCH_SIZE)),
    fault,
  };
}

/** Runs every case on armvirt, one fresh VM per case (cases cannot disturb each other). */
export function runArmvirtBatch(cases: OracleCase[], options: ArmvirtOptions = {}): ArchState[] {
  const img = buildImage(cases);
  try {
    return cases.map((c, k) => runArmvirtImage(img, k, c.init, options));
  } finally {
    rmSync(img.dir, { recursive: true, force: true });
  }
}

export function runArmvirt(asm: string, init?: OracleInit, options: ArmvirtOptions = {}): ArchState {
  return runArmvirtBatch([{ asm, init }], options)[0];
}

// ---- comparison ----------------------------------------------------------------------

export interface CompareOptions extends ArmvirtOptions {
  /** Skip the V registers / FPCR / FPSR (integer-only tests that don't care). */
  ignoreFp?: boolean;
}

const hex = (v: bigint, digits: number) => `0x${v.toString(16).padStart(digits, '0')}`;
const flags = (nzcv: number) => ['N', 'Z', 'C', 'V'].map((f, i) => (nzcv >>> (31 - i)) & 1 ? f : f.toLowerCase()).join('');

/** Exception classes (ESR_EL1.EC) Linux turns into each signal, for faults taken from EL0. */
const SIGNAL_ECS: Record<string, number[]> = {
  SIGILL: [0x00, 0x0e], // unknown/unallocated, illegal execution state
  SIGSEGV: [0x20, 0x24], // instruction / data abort from a lower EL (translation, permission)
  SIGBUS: [0x22, 0x24, 0x26], // PC / data / SP alignment
  SIGTRAP: [0x3c], // BRK
};

function faultsCorrespond(qemuFault: string, armvirtFault: string): boolean {
  const sig = /SIG[A-Z]+/.exec(qemuFault)?.[0];
  const ec = /EC=0x([0-9a-f]+)/.exec(armvirtFault);
  if (!sig || !ec) return false;
  return (SIGNAL_ECS[sig] ?? []).includes(parseInt(ec[1], 16));
}

/** A readable list of differences ('' when the states agree). `expected` is QEMU's state. */
export function diffStates(expected: ArchState, actual: ArchState, options: CompareOptions = {}): string {
  if (expected.fault || actual.fault) {
    // Both refused the snippet the same way (e.g. an unallocated encoding: SIGILL vs EC 0) is agreement.
    if (expected.fault && actual.fault && faultsCorrespond(expected.fault, actual.fault)) return '';
    return `fault: qemu=${expected.fault ?? 'none'} armvirt=${actual.fault ?? 'none'}`;
  }
  const lines: string[] = [];
  for (let n = 0; n < 31; n++) {
    if (expected.x[n] !== actual.x[n]) lines.push(`x${n}: qemu=${hex(expected.x[n], 16)} armvirt=${hex(actual.x[n], 16)}`);
  }
  if (expected.sp !== actual.sp) lines.push(`sp: qemu=${hex(expected.sp, 16)} armvirt=${hex(actual.sp, 16)}`);
  if ((expected.nzcv & 0xf0000000) !== (actual.nzcv & 0xf0000000)) lines.push(`nzcv: qemu=${flags(expected.nzcv)} armvirt=${flags(actual.nzcv)}`);
  if (!options.ignoreFp) {
    for (let n = 0; n < 32; n++) {
      if (expected.v[n] !== actual.v[n]) lines.push(`v${n}: qemu=${hex(expected.v[n], 32)} armvirt=${hex(actual.v[n], 32)}`);
    }
    if (expected.fpcr !== actual.fpcr) lines.push(`fpcr: qemu=0x${expected.fpcr.toString(16)} armvirt=0x${actual.fpcr.toString(16)}`);
    if (expected.fpsr !== actual.fpsr) lines.push(`fpsr: qemu=0x${expected.fpsr.toString(16)} armvirt=0x${actual.fpsr.toString(16)}`);
  }
  let memDiffs = 0;
  for (let i = 0; i < SCRATCH_SIZE; i += 8) {
    let same = true;
    for (let j = 0; j < 8; j++) if (expected.scratch[i + j] !== actual.scratch[i + j]) same = false;
    if (same) continue;
    if (++memDiffs > 8) continue;
    const word = (m: Uint8Array) => hex(new DataView(m.buffer, m.byteOffset).getBigUint64(i, true), 16);
    lines.push(`mem[scratch+0x${i.toString(16)}]: qemu=${word(expected.scratch)} armvirt=${word(actual.scratch)}`);
  }
  if (memDiffs > 8) lines.push(`... and ${memDiffs - 8} more differing scratch words`);
  return lines.join('\n');
}

export interface CaseDiff { index: number; name?: string; asm: string; diff: string; qemu: ArchState; armvirt: ArchState }

/** Runs all cases on both sides; returns one entry per case (diff '' when they agree). */
export function compareBatch(cases: OracleCase[], options: CompareOptions = {}): CaseDiff[] {
  const qemu = runOracleBatch(cases);
  const armvirt = runArmvirtBatch(cases, options);
  return cases.map((c, index) => ({ index, name: c.name, asm: c.asm, diff: diffStates(qemu[index], armvirt[index], options), qemu: qemu[index], armvirt: armvirt[index] }));
}

/** Runs one snippet on both sides; returns a readable diff ('' when armvirt matches QEMU). */
export function compareWithOracle(asm: string, init?: OracleInit, options: CompareOptions = {}): string {
  return compareBatch([{ asm, init }], options)[0].diff;
}

/** A test-failure message for the cases of a batch that diverged ('' when none did). */
export function formatDivergences(results: CaseDiff[]): string {
  return results.filter(r => r.diff).map(r => `--- case ${r.index}${r.name ? ` (${r.name})` : ''}:\n${r.asm.trim()}\n${r.diff}`).join('\n');
}
