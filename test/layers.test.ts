// The layer rules of .dependency-cruiser.cjs hold for src/, and they do
// catch an upward import (checked on a throw-away tree, so the rules cannot
// silently match nothing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const depcruise = join(root, 'node_modules', '.bin', 'depcruise');
const config = join(root, '.dependency-cruiser.cjs');

function cruise(cwd: string): { status: number | null; output: string } {
  const r = spawnSync(depcruise, ['--config', config, '--output-type', 'err', 'src'], { cwd, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

test('src/ keeps the layer order and has no import cycles', () => {
  const r = cruise(root);
  assert.equal(r.status, 0, `dependency rules violated:\n${r.output}`);
});

test('the rules name what is wrong: an upward import, a cycle, a Node built-in in the CPU', () => {
  const dir = mkdtempSync(join(tmpdir(), 'armvirt-layers-'));
  try {
    copyFileSync(join(root, 'tsconfig.json'), join(dir, 'tsconfig.json'));
    for (const d of ['src/io', 'src/cpu', 'src/hv', 'src/devices']) mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, 'src/io/port.ts'), 'export interface Port { n: number }\n');
    writeFileSync(join(dir, 'src/hv/vm.ts'), "import type { Port } from '../io/port';\nexport const vmPort: Port = { n: 1 };\n");
    writeFileSync(join(dir, 'src/cpu/cpu.ts'), "import { vmPort } from '../hv/vm';\nimport { readFileSync } from 'node:fs';\nexport const up = [vmPort, readFileSync];\n");
    writeFileSync(join(dir, 'src/devices/a.ts'), "import { b } from './b';\nexport const a = () => b;\n");
    writeFileSync(join(dir, 'src/devices/b.ts'), "import { a } from './a';\nexport const b = () => a;\n");
    const r = cruise(dir);
    assert.notEqual(r.status, 0);
    assert.match(r.output, /cpu-imports-only-io: src\/cpu\/cpu\.ts → src\/hv\/vm\.ts/);
    assert.match(r.output, /no-node-builtins-below-the-vmm: src\/cpu\/cpu\.ts → fs/);
    assert.match(r.output, /no-circular: src\/devices\/a\.ts/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('depcruise is the project-local one', () => {
  assert.match(execFileSync(depcruise, ['--version'], { encoding: 'utf8' }), /^\d+\.\d+\.\d+/);
});
