// Bare-metal programs (tests/baremetal) on armvirt must print exactly what they
// print on QEMU's virt board (the goldens, from scripts/regen-goldens.sh), at
// EL2 (virtualization=on) and at EL1 (virtualization=off).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runBareMetal } from './support/baremetal';

const DIR = resolve(__dirname, '../../tests/baremetal');
const BUILD = join(DIR, 'build');

/** Known divergences (name.elN -> reason); these run but are reported as TODO. */
const TODO: Record<string, string> = {
};

execFileSync('make', ['-s', '-C', DIR], { stdio: 'inherit' });

/** The first differing line of two outputs, with context ('' when equal). */
function firstDifference(actual: string, expected: string): string {
  if (actual === expected) return '';
  const a = actual.split('\n'), b = expected.split('\n');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return `output differs at line ${i + 1}:\n  armvirt: ${JSON.stringify(a[i])}\n  qemu:    ${JSON.stringify(b[i])}\n--- context (armvirt):\n${a.slice(Math.max(0, i - 3), i + 3).join('\n')}`;
}

const CLI = resolve(__dirname, '../src/cli.js');

const goldens = readdirSync(join(DIR, 'golden')).filter(f => f.endsWith('.txt')).sort();
for (const golden of goldens) {
  const [name, el] = golden.replace(/\.txt$/, '').split('.');
  const elf = join(BUILD, `${name}.elf`);
  const key = `${name}.${el}`;
  test(`bare-metal ${name} at ${el.toUpperCase()} matches QEMU`, TODO[key] ? { todo: TODO[key] } : {}, () => {
    assert.ok(existsSync(elf), `${elf} was not built`);
    const r = runBareMetal(elf, { el2: el === 'el2', maxInstructions: 2e9 });
    const expected = readFileSync(join(DIR, 'golden', golden), 'latin1');
    assert.equal(r.end, 'shutdown', `did not power off: ${r.end}\n--- output so far:\n${r.output.slice(-2000)}`);
    const diff = firstDifference(r.output, expected);
    if (diff) assert.fail(diff);
  });

  // The same program through the real VMM and CLI (`armvirt run --kernel`), as a user runs it.
  test(`armvirt run --kernel ${name}.elf${el === 'el1' ? ' --no-el2' : ''} prints the golden`, TODO[key] ? { todo: TODO[key] } : {}, () => {
    const args = [CLI, 'run', '--kernel', elf, '--mem', '128', ...(el === 'el1' ? ['--no-el2'] : [])];
    const r = spawnSync(process.execPath, args, { encoding: 'latin1', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(r.status, 0, `armvirt exited with ${r.status ?? r.signal}: ${r.stderr}`);
    const diff = firstDifference(r.stdout.replace(/\r/g, ''), readFileSync(join(DIR, 'golden', golden), 'latin1'));
    if (diff) assert.fail(diff);
  });
}
