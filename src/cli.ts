#!/usr/bin/env node
// The `armvirt` command: `armvirt run --kernel FILE ...` builds a `virt`
// machine and runs it on this terminal (see `armvirt --help`). Every user
// error (bad option, unreadable or malformed image) is one line on stderr
// and exit status 2 (usage) or 1 (anything else); never a stack trace
// (set ARMVIRT_DEBUG=1 to see one for internal errors).

import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { LoadError } from './board/loader';
import { MAX_RAM_MIB } from './board/memmap';
import { MAX_VCPUS } from './cpu/state';
import { DiskOptionError, openDisk, parseDiskOption, type DiskSpec } from './devices/block/disk-option';
import type { BlockBackend } from './devices/block/block-backend';
import type { VirtMachine } from './vmm/machine';

// V8 validates a wasm function when it first runs instead of when its module is
// created: most translated code of a boot runs once or never (regions
// translated ahead), and this took 0.4-0.6 s off the Linux boot. A function
// that fails validation then throws when called; the vCPU reports that as an
// internal error, as for a module that does not compile.
setFlagsFromString('--wasm-lazy-validation');
// V8 recompiles a wasm function with its optimising compiler once it has run
// "enough" (the tiering budget, ~1.8 M by default). Most region functions of a
// boot are warm rather than hot; with a budget 16 times larger fewer of them
// are recompiled, and the Linux boot took about 4% less time (5.5 -> 5.25 s,
// median of 6), while the CPU-bound benchmark did not change.
setFlagsFromString('--wasm-tiering-budget=30000000');

const USAGE = `Usage: armvirt run --kernel FILE [options]
       armvirt --help | --version

Runs an AArch64 guest on an emulated QEMU-compatible "virt" board
(GICv3, PL011 UART on this terminal, PL031 RTC, PSCI, virtio-mmio devices).

Options for run:
  --kernel FILE    ELF64 AArch64 program, arm64 Linux Image (optionally gzip
                   or EFI-zboot compressed) or raw binary (loaded at RAM+0x80000)
  --initrd FILE    initial ramdisk, loaded after the kernel
  --append STR     kernel command line (/chosen/bootargs)
  --mem MiB        guest RAM in MiB at 0x40000000 (default 512, at most ${MAX_RAM_MIB})
  --cpus N         number of vCPUs (default 1, at most ${MAX_VCPUS})
  --no-el2         no EL2 (virtualization off): the guest starts at EL1, PSCI via HVC
  --disk FILE[,ro][,snapshot][,serial=ID]
                   a raw disk image as virtio-blk (repeatable: vda, vdb, ...);
                   ro: read-only; snapshot: writes stay in memory and are
                   dropped at exit; serial: the ID the guest sees (20 chars)
  --virtio-legacy  virtio-mmio transports offer the legacy (version 1) interface
  --dtb-out FILE   also write the generated device tree blob to FILE
  --stats          print exit statistics when the guest stops
  --stats-json FILE
                   write the statistics as JSON to FILE when the guest stops
  --verbose        report guest accesses to unassigned addresses
  -h, --help       show this help

Console: Ctrl-A x quits, Ctrl-A h lists the other escapes.
`;

class UsageError extends Error {}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function readImage(path: string, what: string): Uint8Array {
  try {
    if (statSync(path).isDirectory()) throw new LoadError(`${what} '${path}' is a directory`);
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    if (e instanceof LoadError) throw e;
    const err = e as NodeJS.ErrnoException;
    const reason = err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : err.message;
    throw new LoadError(`cannot read ${what} '${path}': ${reason}`);
  }
}

/** Opens every --disk (all or none: the ones opened are closed again when a later one fails). */
function openDisks(specs: DiskSpec[]): BlockBackend[] {
  const open: BlockBackend[] = [];
  try {
    for (const spec of specs) open.push(openDisk(spec));
    return open;
  } catch (e) {
    for (const d of open) { try { d.close(); } catch { /* report the open error */ } }
    if (e instanceof DiskOptionError) throw new LoadError(e.message);
    throw e;
  }
}

function integerOption(name: string, text: string | undefined, fallback: number, min: number, max: number, unit = ''): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`--${name} expects a whole number, not '${text}'`);
  const v = Number(text);
  if (v < min || v > max) throw new UsageError(`--${name} must be between ${min} and ${max}${unit} (got ${v})`);
  return v;
}

function parseRun(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      kernel: { type: 'string' },
      initrd: { type: 'string' },
      append: { type: 'string' },
      mem: { type: 'string' },
      cpus: { type: 'string' },
      'no-el2': { type: 'boolean' },
      'dtb-out': { type: 'string' },
      disk: { type: 'string', multiple: true },
      'virtio-legacy': { type: 'boolean' },
      stats: { type: 'boolean' },
      'stats-json': { type: 'string' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  return values;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-V' || command === 'version') {
    process.stdout.write(`armvirt ${version()}\n`);
    return 0;
  }
  if (command !== 'run') throw new UsageError(command.startsWith('-') ? `unknown option '${command}'` : `unknown command '${command}'`);
  const opts = parseRun(rest);
  if (opts.help) { process.stdout.write(USAGE); return 0; }
  if (!opts.kernel) throw new UsageError('--kernel FILE is required');
  const memMiB = integerOption('mem', opts.mem, 512, 1, MAX_RAM_MIB, ' MiB');
  const cpus = integerOption('cpus', opts.cpus, 1, 1, MAX_VCPUS);
  const diskSpecs = (opts.disk ?? []).map(v => {
    try { return parseDiskOption(v); } catch (e) { if (e instanceof DiskOptionError) throw new UsageError(`--disk: ${e.message}`); throw e; }
  });
  const kernel = readImage(opts.kernel, 'kernel');
  const initrd = opts.initrd !== undefined ? readImage(opts.initrd, 'initrd') : undefined;
  const disks = openDisks(diskSpecs);
  // loaded only now: the CPU and translator modules take a while to initialise, --help and usage errors need none of it
  const { VirtMachine: Machine } = await import('./vmm/machine');
  let machine: VirtMachine;
  try {
    machine = new Machine({
      kernel, initrd, append: opts.append, memMiB, cpus, el2: !opts['no-el2'], dtbOut: opts['dtb-out'], verbose: opts.verbose,
      disks, virtioLegacy: opts['virtio-legacy'],
    });
  } catch (e) {
    for (const d of disks) { try { d.close(); } catch { /* the first error is the one to report */ } }
    if (e instanceof LoadError) throw new LoadError(`${opts.kernel}: ${e.message}`);
    // WebAssembly.Memory reports a failed allocation as a RangeError
    if (e instanceof RangeError) throw new LoadError(`cannot allocate ${memMiB} MiB of guest RAM (${e.message})`);
    throw e;
  }
  // SIGINT (Ctrl-C when the terminal is not in raw mode) and SIGTERM end the run cleanly:
  // the terminal is restored, pending guest output flushed and --stats still printed.
  const onSignal = (signal: NodeJS.Signals) => machine.stop(128 + (signal === 'SIGINT' ? 2 : 15), `armvirt: terminated by ${signal}\n`);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const status = await machine.run({ input: process.stdin, outputFd: 1 });
  if (opts.stats) process.stderr.write(machine.statistics());
  if (opts['stats-json']) {
    try { writeFileSync(opts['stats-json'], JSON.stringify(machine.statisticsReport(), null, 2) + '\n'); }
    catch (e) { throw new LoadError(`cannot write --stats-json file '${opts['stats-json']}': ${(e as Error).message}`); }
  }
  return status;
}

main(process.argv.slice(2)).then(
  code => process.exit(code),
  (e: unknown) => {
    const err = e as Error & { code?: string };
    let message: string;
    if (e instanceof UsageError) message = `${err.message} (see armvirt --help)`;
    else if (typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS')) {
      // node's parseArgs messages run on with advice about '--'; keep the first sentence
      message = `${err.message.split('. ')[0].replace(/^Unknown option/, 'unknown option').replace(/\.$/, '')} (see armvirt --help)`;
    } else if (e instanceof LoadError) message = err.message;
    else message = `internal error: ${err.message ?? String(e)}`;
    process.stderr.write(`armvirt: ${message.split('\n')[0]}\n`);
    if (process.env.ARMVIRT_DEBUG && err.stack) process.stderr.write(err.stack + '\n');
    process.exit(e instanceof UsageError || (typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS')) ? 2 : 1);
  },
);
