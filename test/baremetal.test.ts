// Bare-metal programs (tests/baremetal) on armvirt must print exactly what they
// print on QEMU's virt board (the goldens, from scripts/regen-goldens.sh), at
// EL2 (virtualization=on) and at EL1 (virtualization=off).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runBareMetal } from './support/baremetal';

const DIR = resolve(__dirname, '../../tests/baremetal');
const BUILD = join(DIR, 'build');

/** Known divergences (name.elN -> reason); these run but are reported as TODO. */
const TODO: Record<string, string> = {
};

execFileSync('make', ['-s', '-C', DIR], { stdio: 'inherit' });

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
    if (r.output !== expected) {
      // Show the first differing line with some context rather than two huge strings.
      const a = r.output.split('\n'), b = expected.split('\n');
      let i = 0;
      while (i < a.length && i < b.length && a[i] === b[i]) i++;
      assert.fail(`output differs at line ${i + 1}:\n  armvirt: ${JSON.stringify(a[i])}\n  qemu:    ${JSON.stringify(b[i])}\n--- context (armvirt):\n${a.slice(Math.max(0, i - 3), i + 3).join('\n')}`);
    }
  });
}
