// Boot-time benchmark: the Debian cloud kernel + armvirt's initramfs from
// start to the shell marker and on to power-off, under armvirt and under
// qemu-system-aarch64 (TCG, -M virt,virtualization=on,gic-version=3 -cpu
// cortex-a57) in the same run. Prints both times and the ratio.
//   node dist/bench/boot.js [--cpus N] [--runs N]

import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = join(__dirname, '..', '..');
const MARKER = 'ARMVIRT-SHELL-READY';

function images(): { kernel: string; initrd: string } {
  const r = spawnSync('bash', [join(ROOT, 'scripts', 'images.sh'), 'cloud'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error('scripts/images.sh failed');
  return { kernel: /KERNEL=(.*)/.exec(r.stdout)![1], initrd: /INITRD=(.*)/.exec(r.stdout)![1] };
}

/** Seconds from spawn to the shell marker; then types poweroff and waits for the exit. */
function timeToShell(cmd: string, args: string[]): Promise<{ shell: number; total: number; output: string }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let shell = 0;
    const onData = (d: Buffer) => {
      output += d.toString('latin1');
      if (!shell && output.includes(MARKER)) {
        shell = (performance.now() - start) / 1000;
        child.stdin.write('poweroff -f\n');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', () => {
      if (!shell) reject(new Error(`${cmd} never reached the shell:\n${output.slice(-2000)}`));
      else resolve({ shell, total: (performance.now() - start) / 1000, output });
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { cpus: { type: 'string', default: '1' }, runs: { type: 'string', default: '1' } } });
  const { kernel, initrd } = images();
  const append = 'console=ttyAMA0';
  const cpus = values.cpus!;
  const rows: Array<[string, number, number]> = [];
  for (let run = 0; run < Number(values.runs); run++) {
    const q = await timeToShell('qemu-system-aarch64', ['-M', 'virt,virtualization=on,gic-version=3', '-cpu', 'cortex-a57', '-m', '512',
      '-smp', cpus, '-nographic', '-no-reboot', '-kernel', kernel, '-initrd', initrd, '-append', append]);
    const a = await timeToShell(process.execPath, [join(ROOT, 'dist', 'src', 'cli.js'), 'run', '--kernel', kernel, '--initrd', initrd,
      '--cpus', cpus, '--append', append, '--stats']);
    rows.push(['qemu', q.shell, q.total], ['armvirt', a.shell, a.total]);
    const stats = /instructions: [^\n]*/.exec(a.output)?.[0] ?? "";
    console.log(`run ${run + 1}: QEMU ${q.shell.toFixed(2)} s to shell, armvirt ${a.shell.toFixed(2)} s to shell (${stats.trim()})`);
  }
  const best = (who: string) => Math.min(...rows.filter(r => r[0] === who).map(r => r[1]));
  const q = best('qemu'), a = best('armvirt');
  console.log(`boot to shell, ${cpus} vCPU(s): QEMU ${q.toFixed(2)} s, armvirt ${a.toFixed(2)} s, armvirt/QEMU time ratio ${(a / q).toFixed(2)}x`);
}

main().catch(err => { console.error(`bench/boot: ${(err as Error).message}`); process.exit(1); });
