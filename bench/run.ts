// Times a bare-metal benchmark under armvirt and under
// qemu-system-aarch64 (TCG) in the same run and prints instructions, seconds,
// MIPS and the armvirt/QEMU speed ratio. The instruction count is armvirt's
// (vcpu.instructions); QEMU runs the same deterministic program, so its MIPS
// use the same count. QEMU's start-up time is measured with the SCALE=0 build
// and subtracted; the checksums both print must agree.
//
// The program is bench/bench.c (integer, CRC, memory) or, with --fp,
// bench/fpbench.c (FP and Advanced SIMD: vectorised -O3 loops).
//
//   node dist/bench/run.js [--fp] [--quick] [--elf path] [--runs N] [--el1]

import { execFileSync, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runBareMetal } from '../test/support/baremetal';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    elf: { type: 'string' },
    runs: { type: 'string', default: '1' },
    el1: { type: 'boolean', default: false },
    fp: { type: 'boolean', default: false },
  },
});

const dir = resolve(__dirname, '../../bench');
execFileSync('make', ['-s', '-C', dir], { stdio: 'inherit' });
const program = values.fp ? 'fpbench' : 'bench';
const elf = values.elf ?? resolve(dir, 'build', values.quick ? `${program}-quick.elf` : `${program}.elf`);
const empty = resolve(dir, 'build', `${program}-empty.elf`);
const runs = Math.max(1, Number(values.runs));
const el2 = !values.el1;

function qemu(path: string): { seconds: number; output: string } {
  const args = ['-M', `virt,virtualization=${el2 ? 'on' : 'off'},gic-version=3`, '-cpu', 'cortex-a57', '-m', '128M',
    '-nographic', '-monitor', 'none', '-serial', 'stdio', '-kernel', path];
  const t0 = process.hrtime.bigint();
  const r = spawnSync('qemu-system-aarch64', args, { encoding: 'latin1', timeout: 600_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`qemu failed: ${r.error ?? r.stderr}`);
  return { seconds, output: r.stdout.replace(/\r/g, '') };
}

const best = <T extends { seconds: number }>(xs: T[]) => xs.reduce((a, b) => (b.seconds < a.seconds ? b : a));

console.log(`benchmark: ${elf} (${runs} run${runs > 1 ? 's' : ''} each, best time kept, EL${el2 ? 2 : 1})`);
const av = best(Array.from({ length: runs }, () => runBareMetal(elf, { el2, maxInstructions: 1e11 })));
if (av.end !== 'shutdown') throw new Error(`armvirt did not finish: ${av.end}`);
const avEmpty = runBareMetal(empty, { el2 });

const qStart = best(Array.from({ length: 3 }, () => qemu(empty)));
const q = best(Array.from({ length: runs }, () => qemu(elf)));
if (q.output !== av.output) {
  console.log(`WARNING: outputs differ!\n--- armvirt\n${av.output}--- qemu\n${q.output}`);
  process.exitCode = 1;
}

// Both sides: time of the program proper, minus the start-up-only run (program prologue included there).
const insns = av.instructions - avEmpty.instructions;
const avSecs = av.seconds - avEmpty.seconds;
const qSecs = Math.max(1e-3, q.seconds - qStart.seconds);
const mips = (n: number, s: number) => (n / s / 1e6).toFixed(1);
console.log(av.output.trim().split('\n').map(l => `  | ${l}`).join('\n'));
console.log(`instructions (armvirt count, start-up run subtracted): ${insns.toLocaleString('en-US')}`);
console.log(`armvirt: ${avSecs.toFixed(3)} s  ${mips(insns, avSecs)} MIPS   (whole run ${av.seconds.toFixed(3)} s, ${av.instructions.toLocaleString('en-US')} instructions)`);
console.log(`qemu:    ${qSecs.toFixed(3)} s  ${mips(insns, qSecs)} MIPS   (wall ${q.seconds.toFixed(3)} s incl. ${qStart.seconds.toFixed(3)} s start-up)`);
console.log(`ratio armvirt/qemu speed: ${(qSecs / avSecs).toFixed(3)}`);
