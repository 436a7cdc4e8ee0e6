// Long differential fuzzing run against QEMU user mode.
//
//   node dist/scripts/fuzz.js [--seed N] [--instructions N] [--length N] [--classes a,b|all|passing]
//                             [--per-class] [--max-divergences N]
//
// --per-class fuzzes every class on its own and prints a table (which classes
// diverge); otherwise the chosen classes are mixed in every program. Each
// divergence is reported with the first instruction that makes the states
// differ and a one-instruction reproducer state.

import { parseArgs } from 'node:util';
import { ALL_CLASSES, formatDivergence, runFuzz, usesFp, type InsnClass } from '../test/support/fuzz-gen';
import { PASSING_CLASSES } from '../test/support/fuzz-classes';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    instructions: { type: 'string', default: '100000' },
    length: { type: 'string', default: '40' },
    classes: { type: 'string', default: 'passing' },
    'per-class': { type: 'boolean', default: false },
    'max-divergences': { type: 'string', default: '20' },
    'include-fp': { type: 'boolean', default: false },
  },
});

const seed = Number(values.seed);
const total = Number(values.instructions);
const length = Number(values.length);
const maxDivergences = Number(values['max-divergences']);
const classes: InsnClass[] = values.classes === 'all' ? ALL_CLASSES
  : values.classes === 'passing' ? [...PASSING_CLASSES]
  : values.classes!.split(',').map(c => {
    if (!(ALL_CLASSES as string[]).includes(c)) throw new Error(`unknown class ${c}; known: ${ALL_CLASSES.join(', ')}`);
    return c as InsnClass;
  });
const ignoreFp = !values['include-fp'] && !classes.some(usesFp);

function fuzz(cls: InsnClass[], instructions: number): number {
  const programs = Math.max(1, Math.ceil(instructions / length));
  const t0 = Date.now();
  const divs = runFuzz(seed, programs, {
    classes: cls, length, ignoreFp, maxDivergences,
    onBatch: (done, n) => { if (!values['per-class']) process.stderr.write(`\r${done}/${programs} programs, ${n} divergences`); },
  });
  if (!values['per-class']) process.stderr.write('\n');
  for (const d of divs) console.log(formatDivergence(d));
  const secs = (Date.now() - t0) / 1000;
  if (values['per-class']) console.log(`${cls[0].padEnd(16)} ${divs.length === 0 ? 'OK' : `DIVERGES (${divs.length}${divs.length >= maxDivergences ? '+' : ''} programs)`}  [${programs * length} instructions, ${secs.toFixed(1)} s]`);
  else console.log(`${programs * length} instructions in ${programs} programs, ${divs.length} divergences, ${secs.toFixed(1)} s`);
  return divs.length;
}

let failures = 0;
if (values['per-class']) {
  for (const c of classes) failures += fuzz([c], Math.ceil(total / classes.length));
} else {
  failures = fuzz(classes, total);
}
process.exitCode = failures ? 1 : 0;
