// Boots Debian's arm64 kernels (fetched by scripts/images.sh) with the
// armvirt CLI to a busybox shell, with one and two vCPUs, types into the
// console, and compares the kernel's warnings and errors with QEMU's boot
// of the same kernel and initramfs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'cli.js');

/** Paths of the images, fetching them on first use (the test command runs images.sh first). */
function images(flavour: 'cloud' | 'generic'): { kernel: string; initrd: string } {
  const r = spawnSync('bash', [join(ROOT, 'scripts', 'images.sh'), flavour], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`images.sh failed: ${r.stderr}`);
  const kernel = /KERNEL=(.*)/.exec(r.stdout)![1];
  const initrd = /INITRD=(.*)/.exec(r.stdout)![1];
  assert.ok(existsSync(kernel) && existsSync(initrd));
  return { kernel, initrd };
}

interface Boot { output: string; code: number | null }

/**
 * Runs armvirt with the given arguments; `script` answers console output:
 * each step waits for its marker, then types its input.
 */
function boot(args: string[], script: Array<{ waitFor: string; type: string }> = [], timeoutMs = 15 * 60_000): Promise<Boot> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'run', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let step = 0;
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`boot timed out; output so far:\n${output.slice(-3000)}`)); }, timeoutMs);
    const onData = (d: Buffer) => {
      output += d.toString('latin1');
      while (step < script.length && output.includes(script[step].waitFor)) {
        child.stdin.write(script[step].type);
        step++;
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', code => { clearTimeout(timer); resolve({ output, code }); });
  });
}

const cmdline = (run?: string) => `console=ttyAMA0${run ? ' armvirt.run=' + run.replace(/ /g, '%20') : ''}`;

/** Kernel log lines that report problems, without timestamps and run-specific numbers. */
function problems(log: string): Set<string> {
  const lines = log.split(/\r?\n/).map(l => l.replace(/^\[\s*\d+\.\d+\]\s*/, ''));
  return new Set(lines
    .filter(l => /\b(warn(ing)?|error|fail(ed|ure)?|bug|oops|call trace|taint)/i.test(l))
    .map(l => l.replace(/0x[0-9a-f]+|\b\d+\b/gi, 'N').trim()));
}

test('the Debian cloud kernel boots to the shell with 1 vCPU, runs a typed command and powers off', async () => {
  const { kernel, initrd } = images('cloud');
  // plain `poweroff`, as a user types it: busybox signals PID 1, armvirt's /init powers off
  const r = await boot(['--kernel', kernel, '--initrd', initrd, '--append', cmdline()], [
    { waitFor: 'ARMVIRT-SHELL-READY', type: 'echo typed-$((6*7)) $(uname -m)\n' },
    { waitFor: 'typed-42 aarch64', type: 'poweroff\n' },
  ]);
  assert.match(r.output, /reboot: Power down/);
  assert.match(r.output, /Run \/init as init process/);
  // the shell's output, not the terminal's echo of the command (which reads "typed-$((6*7))")
  assert.match(r.output, /typed-42 aarch64/);
  assert.equal(r.code, 0, r.output.slice(-2000));
});

test('two vCPUs come up (PSCI CPU_ON, SGIs) and the guest sees both', async () => {
  const { kernel, initrd } = images('cloud');
  const r = await boot(['--kernel', kernel, '--initrd', initrd, '--cpus', '2', '--append', cmdline('echo cpus=$(nproc)')]);
  assert.match(r.output, /smp: Brought up 1 node, 2 CPUs/);
  assert.match(r.output, /cpus=2/);
  assert.equal(r.code, 0, r.output.slice(-2000));
});

test('the generic Debian arm64 kernel boots too', async () => {
  const { kernel, initrd } = images('generic');
  const r = await boot(['--kernel', kernel, '--initrd', initrd, '--append', cmdline('echo generic-ok')]);
  assert.match(r.output, /generic-ok/);
  assert.equal(r.code, 0, r.output.slice(-2000));
});

test('the kernel log shows no warnings or errors that QEMU does not show', async () => {
  const { kernel, initrd } = images('cloud');
  const append = cmdline('echo done');
  const ours = await boot(['--kernel', kernel, '--initrd', initrd, '--append', append]);
  const qemu = spawnSync('qemu-system-aarch64', ['-M', 'virt,virtualization=on,gic-version=3', '-cpu', 'cortex-a57', '-m', '512',
    '-nographic', '-no-reboot', '-kernel', kernel, '-initrd', initrd, '-append', append], { encoding: 'latin1', timeout: 120_000, input: '' });
  assert.match(qemu.stdout, /done/, 'the QEMU reference boot must work');
  assert.match(ours.output, /done/);
  const reference = problems(qemu.stdout);
  const extra = [...problems(ours.output)].filter(l => !reference.has(l));
  assert.deepEqual(extra, [], 'lines only armvirt printed');
});
