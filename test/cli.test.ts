import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const HELLO = join(ROOT, 'examples', 'hello');
const work = mkdtempSync(join(tmpdir(), 'armvirt-cli-'));

function armvirt(args: string[], input = ''): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', timeout: 60_000 });
}

function qemu(args: string[]): SpawnSyncReturns<string> {
  return spawnSync('qemu-system-aarch64', ['-M', 'virt,gic-version=3', '-cpu', 'cortex-a57', '-m', '512', '-nographic', ...args],
    { encoding: 'utf8', timeout: 60_000, input: '' });
}

const haveQemu = spawnSync('qemu-system-aarch64', ['--version']).status === 0;

/** Builds a bare-metal ELF linked at RAM + 0x80000 from A64 assembly. */
function program(name: string, source: string): string {
  const src = join(work, `${name}.S`);
  const elf = join(work, `${name}.elf`);
  writeFileSync(src, source);
  execFileSync('aarch64-linux-gnu-gcc', ['-nostdlib', '-static', '-no-pie', '-Wl,--build-id=none', '-Wl,-Ttext=0x40080000', '-o', elf, src], { stdio: 'pipe' });
  return elf;
}

/** Prints the string at label `name` (x0 and x1 clobbered): used by the test programs. */
const PUTS = `
puts:	mov	x2, #0x09000000
1:	ldrb	w1, [x0], #1
	cbz	w1, 2f
	strb	w1, [x2]
	b	1b
2:	ret
// x0 = value to print as 8 hex digits (x0-x4 clobbered)
puthex32:
	mov	x2, #0x09000000
	mov	x3, #28
1:	lsr	x4, x0, x3
	and	x4, x4, #0xf
	cmp	x4, #10
	add	x1, x4, #'0'
	add	x4, x4, #('a' - 10)
	csel	x1, x1, x4, lo
	strb	w1, [x2]
	subs	x3, x3, #4
	b.pl	1b
	ret
poweroff:
	movz	w0, #0x8400, lsl #16
	movk	w0, #0x0008
	smc	#0
`;

before(() => {
  execFileSync('make', ['-s', '-C', HELLO], { stdio: 'pipe' });
});

test('--help and --version', () => {
  const help = armvirt(['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Usage: armvirt run --kernel FILE/);
  const version = armvirt(['--version']);
  assert.equal(version.status, 0);
  assert.equal(version.stdout, `armvirt ${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}\n`);
});

function assertOneLineError(r: SpawnSyncReturns<string>, pattern: RegExp, status?: number): void {
  assert.notEqual(r.status, 0);
  if (status !== undefined) assert.equal(r.status, status);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^armvirt: [^\n]+\n$/, `one line: ${JSON.stringify(r.stderr)}`);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

test('usage errors: unknown option, --mem 0, bad numbers, missing --kernel, stray arguments', () => {
  assertOneLineError(armvirt(['run', '--kernel', 'x', '--bogus']), /unknown option '--bogus'/, 2);
  assertOneLineError(armvirt(['run', '--kernel', 'x', '--mem', '0']), /--mem must be between 1 and \d+ MiB/, 2);
  assertOneLineError(armvirt(['run', '--kernel', 'x', '--mem', '12abc']), /--mem expects a whole number/, 2);
  assertOneLineError(armvirt(['run', '--kernel', 'x', '--cpus', '99']), /--cpus must be between 1 and/, 2);
  assertOneLineError(armvirt(['run']), /--kernel FILE is required/, 2);
  assertOneLineError(armvirt(['run', '--kernel', 'x', 'extra']), /unexpected argument 'extra'/, 2);
  assertOneLineError(armvirt(['frobnicate']), /unknown command 'frobnicate'/, 2);
});

test('image errors: missing file, empty file, truncated ELF, ELF for another machine', () => {
  assertOneLineError(armvirt(['run', '--kernel', join(work, 'nope')]), /cannot read kernel '.*nope': no such file/, 1);
  writeFileSync(join(work, 'empty'), '');
  assertOneLineError(armvirt(['run', '--kernel', join(work, 'empty')]), /kernel file is empty/, 1);
  const hello = readFileSync(join(HELLO, 'hello.elf'));
  writeFileSync(join(work, 'truncated.elf'), hello.subarray(0, 100));
  assertOneLineError(armvirt(['run', '--kernel', join(work, 'truncated.elf')]), /truncated/, 1);
  const x86 = Buffer.from(hello);
  x86.writeUInt16LE(62, 18);
  writeFileSync(join(work, 'x86.elf'), x86);
  assertOneLineError(armvirt(['run', '--kernel', join(work, 'x86.elf')]), /machine 62 \(x86-64\), not AArch64/, 1);
  assertOneLineError(armvirt(['run', '--kernel', join(HELLO, 'hello.elf'), '--initrd', join(work, 'nope')]), /cannot read initrd/, 1);
});

test('--disk errors: missing file, directory, unknown option, bad serial, misaligned size, image in use', async () => {
  const hello = join(HELLO, 'hello.elf');
  assertOneLineError(armvirt(['run', '--kernel', hello, '--disk', join(work, 'no-disk.img')]), /no-disk\.img.*(no such file|does not exist)/, 1);
  assertOneLineError(armvirt(['run', '--kernel', hello, '--disk', work]), /directory/, 1);
  const disk = join(work, 'disk.img');
  writeFileSync(disk, Buffer.alloc(1 << 20));
  assertOneLineError(armvirt(['run', '--kernel', hello, '--disk', `${disk},bogus`]), /--disk: .*bogus/, 2);
  assertOneLineError(armvirt(['run', '--kernel', hello, '--disk', `${disk},serial=${'x'.repeat(21)}`]), /--disk: .*serial/, 2);
  writeFileSync(join(work, 'odd.img'), Buffer.alloc(1000));
  assertOneLineError(armvirt(['run', '--kernel', hello, '--disk', join(work, 'odd.img')]), /512/, 1);
  // a running armvirt holds the image for writing: a second one is refused, and so are readers
  // (they would see its half-written state)
  const spin = program('spin-disk', `
	.global _start
_start:	b	_start
${PUTS}`);
  const holder = spawn(process.execPath, [CLI, 'run', '--kernel', spin, '--disk', disk], { stdio: ['pipe', 'pipe', 'pipe'] });
  try {
    await new Promise(resolve => setTimeout(resolve, 1500));
    assertOneLineError(armvirt(['run', '--kernel', hello, '--disk', disk]), new RegExp(`in use by another armvirt \\(pid ${holder.pid}\\)`), 1);
    for (const reader of ['ro', 'snapshot']) {
      assertOneLineError(armvirt(['run', '--kernel', hello, '--disk', `${disk},${reader}`]), /in use by another armvirt/, 1);
    }
  } finally {
    holder.kill('SIGKILL');
    await new Promise(resolve => holder.on('exit', resolve));
  }
  // the killed holder's lock is stale: the image opens again; readers share it
  assert.equal(armvirt(['run', '--kernel', hello, '--disk', disk]).status, 0);
  const reader = spawn(process.execPath, [CLI, 'run', '--kernel', spin, '--disk', `${disk},ro`], { stdio: ['pipe', 'pipe', 'pipe'] });
  try {
    await new Promise(resolve => setTimeout(resolve, 1500));
    assert.equal(armvirt(['run', '--kernel', hello, '--disk', `${disk},snapshot`]).status, 0);
  } finally {
    reader.kill('SIGKILL');
    await new Promise(resolve => reader.on('exit', resolve));
  }
});

test('bare-metal hello world prints through the PL011 and powers off with PSCI (exit 0)', () => {
  const r = armvirt(['run', '--kernel', join(HELLO, 'hello.elf')]);
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^Hello from armvirt!\r\nrunning at EL2, device tree at 0x0000000040000000 \(valid, 0x[0-9a-f]+ bytes\)\r\n/);
  assert.match(r.stdout, /powering off\r\n$/);
  const el1 = armvirt(['run', '--no-el2', '--kernel', join(HELLO, 'hello.elf')]);
  assert.equal(el1.status, 0);
  assert.match(el1.stdout, /running at EL1/);
});

test('raw image with an initrd: same output as QEMU (DTB placed after the initrd, 2 MiB aligned)', (t) => {
  if (!haveQemu) { t.skip('qemu-system-aarch64 not available'); return; }
  const initrd = join(work, 'initrd.img');
  writeFileSync(initrd, Buffer.alloc(3 * 1024 * 1024 + 17, 0x5a));
  const args = ['--kernel', join(HELLO, 'hello.bin'), '--initrd', initrd];
  const ours = armvirt(['run', ...args, '--no-el2']);
  const theirs = qemu(args);
  assert.equal(ours.status, 0, ours.stderr);
  assert.equal(theirs.status, 0, theirs.stderr);
  const stable = (s: string) => s.replace(/RTC says 0x[0-9a-f]+/, 'RTC says <time>').replace(/\(valid, 0x[0-9a-f]+ bytes\)/, '(valid)');
  assert.match(ours.stdout, /device tree at 0x0000000048400000/);
  assert.equal(stable(ours.stdout), stable(theirs.stdout));
});

test('--dtb-out writes the device tree the guest sees (bootargs, initrd range)', () => {
  const dtb = join(work, 'out.dtb');
  const initrd = join(work, 'small-initrd');
  writeFileSync(initrd, Buffer.alloc(1000));
  const r = armvirt(['run', '--kernel', join(HELLO, 'hello.bin'), '--initrd', initrd, '--append', 'console=ttyAMA0 x=1', '--cpus', '2', '--mem', '256', '--dtb-out', dtb]);
  assert.equal(r.status, 0, r.stderr);
  const dts = execFileSync('dtc', ['-I', 'dtb', '-O', 'dts', dtb], { encoding: 'utf8', stdio: 'pipe' });
  assert.match(dts, /bootargs = "console=ttyAMA0 x=1";/);
  assert.match(dts, /linux,initrd-start = <0x00 0x48000000>;/);
  assert.match(dts, /linux,initrd-end = <0x00 0x480003e8>;/);
  assert.match(dts, /reg = <0x00 0x40000000 0x00 0x10000000>;/);
  assert.match(dts, /cpu@1 \{/);
});

test('UART input: piped stdin reaches the receive FIFO (echo program)', () => {
  const elf = program('echo', `
	.global _start
_start:	mov	x5, #0x09000000
1:	ldr	w1, [x5, #0x18]		// FR
	tbnz	w1, #4, 1b		// RXFE: wait for input
	ldr	w1, [x5]		// DR
	cmp	w1, #'.'
	b.eq	poweroff
	cmp	w1, #'a'
	b.lo	2f
	cmp	w1, #'z'
	b.hi	2f
	sub	w1, w1, #32		// upper case
2:	str	w1, [x5]
	b	1b
${PUTS}`);
  const r = armvirt(['run', '--kernel', elf], 'hello, armvirt.ignored');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'HELLO, ARMVIRT');
});

test('console escapes: Ctrl-A h prints help, Ctrl-A x quits a guest that never stops', () => {
  const elf = program('spin', `
	.global _start
_start:	b	_start
${PUTS}`);
  const r = armvirt(['run', '--kernel', elf, '--stats'], '\x01h\x01x');
  assert.equal(r.status, 0);
  assert.match(r.stderr, /C-a x +exit emulator/);
  assert.match(r.stderr, /armvirt: terminated \(Ctrl-A x\)/);
  assert.match(r.stderr, /instructions: \d+ \([\d.]+ MIPS\)/);
  assert.match(r.stderr, /regions translated: \d+ in \d+ wasm modules/);
});

test('SIGTERM stops the run cleanly: status 143, a message and the statistics', async () => {
  const elf = program('spin2', `
	.global _start
_start:	b	_start
${PUTS}`);
  const child = spawn(process.execPath, [CLI, 'run', '--kernel', elf, '--stats'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  await new Promise(resolve => setTimeout(resolve, 1500));
  child.kill('SIGTERM');
  const status = await new Promise<number | null>(resolve => child.on('exit', code => resolve(code)));
  assert.equal(status, 143);
  assert.match(stderr, /armvirt: terminated by SIGTERM\n/);
  assert.match(stderr, /armvirt statistics after [\d.]+ s:\n\s+instructions: \d+/); // however far a loaded host got
});

test('an access to an unassigned address takes a synchronous external abort, as on QEMU', (t) => {
  // reads 0x0b000000 (a hole in the virt map), then prints ESR_EL2 and FAR_EL2 from the handler
  const elf = program('abort', `
	.global _start
_start:	ldr	x0, =vectors
	msr	vbar_el2, x0
	isb
	mov	x9, #0x0b000000
	ldr	w10, [x9, #4]
	b	poweroff
	.balign	2048
vectors:
	.skip	0x200			// current EL with SP_ELx, synchronous
	mrs	x0, esr_el2
	bl	puthex32
	mov	x0, #' '
	mov	x2, #0x09000000
	strb	w0, [x2]
	mrs	x0, far_el2
	bl	puthex32
	b	poweroff
${PUTS}`);
  const r = armvirt(['run', '--kernel', elf]);
  assert.equal(r.status, 0, r.stderr);
  const [esr, far] = r.stdout.split(' ').map(s => parseInt(s, 16));
  assert.equal(esr >>> 26, 0x25, 'data abort taken without a change in EL');
  assert.equal(esr & 0x3f, 0x10, 'DFSC: synchronous external abort');
  assert.equal(far, 0x0b000004);
  if (!haveQemu) { t.diagnostic('qemu-system-aarch64 not available: no comparison'); return; }
  const q = spawnSync('qemu-system-aarch64', ['-M', 'virt,gic-version=3,virtualization=on', '-cpu', 'cortex-a57', '-nographic', '-kernel', elf],
    { encoding: 'utf8', timeout: 60_000, input: '' });
  const [qesr, qfar] = q.stdout.split(' ').map(s => parseInt(s, 16));
  // EC, IL, WnR and DFSC must agree with QEMU; ISS[24:14] (instruction syndrome) is the CPU model's business
  assert.equal((esr & ~0x01ffc000) >>> 0, (qesr & ~0x01ffc000) >>> 0, `armvirt ESR ${esr.toString(16)} vs QEMU ${qesr.toString(16)}`);
  assert.equal(far, qfar);
});

test('two vCPUs: the secondary starts only on PSCI CPU_ON and runs alongside the boot CPU', () => {
  const elf = program('smp', `
	.global _start
_start:	adr	x0, msg0
	bl	puts
	movz	w0, #0xc400, lsl #16
	movk	w0, #0x0003		// CPU_ON (64-bit)
	mov	x1, #1			// target MPIDR
	adr	x2, secondary
	mov	x3, #0
	smc	#0
	adr	x6, flag
1:	ldr	w7, [x6]		// wait for the secondary's flag
	cbz	w7, 1b
	adr	x0, msg2
	bl	puts
	b	poweroff
secondary:
	mrs	x8, mpidr_el1
	and	x8, x8, #0xff
	adr	x0, msg1
	bl	puts
	add	w8, w8, #1
	adr	x6, flag
	str	w8, [x6]
2:	wfi
	b	2b
msg0:	.asciz	"boot cpu\\n"
msg1:	.asciz	"secondary up\\n"
msg2:	.asciz	"done\\n"
	.balign	4
flag:	.word	0
${PUTS}`);
  const r = armvirt(['run', '--kernel', elf, '--cpus', '2']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'boot cpu\nsecondary up\ndone\n');
});

/**
 * Interrupt-driven program for EL1 (--no-el2): GICv3 set up for the UART (INTID 33) and
 * RTC (INTID 34) SPIs, then WFI. UART interrupts echo input in upper case ('.' powers off);
 * with \`alarm\` the RTC match register is set one second ahead and its interrupt powers off.
 */
function irqProgram(name: string, alarm: boolean): string {
  return program(name, `
	.global _start
_start:	ldr	x0, =vectors
	msr	vbar_el1, x0
	mov	x5, #0x09000000			// PL011
	mov	x6, #0x08000000			// GICD
	mov	w1, #0x13			// ARE | EnableGrp1 | EnableGrp0 (single security state)
	str	w1, [x6]
	movz	x7, #0x080a, lsl #16		// GICR of CPU 0: wake it up
	ldr	w1, [x7, #0x14]
	bic	w1, w1, #2
	str	w1, [x7, #0x14]
1:	ldr	w1, [x7, #0x14]
	tbnz	w1, #2, 1b
	mov	w1, #(3 << 1)			// INTIDs 33, 34: group 1, enabled
	str	w1, [x6, #0x84]
	str	w1, [x6, #0x104]
	mrs	x1, icc_sre_el1
	orr	x1, x1, #1
	msr	icc_sre_el1, x1
	isb
	mov	x1, #0xff
	msr	icc_pmr_el1, x1
	mov	x1, #1
	msr	icc_igrpen1_el1, x1
	isb
	mov	w1, #(1 << 4) | (1 << 6)		// UART RX and RX-timeout interrupts
	str	w1, [x5, #0x38]
	${alarm ? `movz	x8, #0x0901, lsl #16		// PL031: match in one second, interrupt enabled
	ldr	w1, [x8]
	add	w1, w1, #1
	str	w1, [x8, #4]
	mov	w1, #1
	str	w1, [x8, #0x10]` : ''}
	msr	daifclr, #2
2:	wfi
	b	2b

irq:	mrs	x9, icc_iar1_el1
	cmp	x9, #34
	b.ne	3f
	adr	x0, alarmmsg
	bl	puts
	b	off
3:	ldr	w1, [x5, #0x18]
	tbnz	w1, #4, 5f			// RX FIFO empty: done
	ldr	w1, [x5]
	cmp	w1, #'.'
	b.eq	off
	cmp	w1, #'a'
	b.lo	4f
	sub	w1, w1, #32
4:	str	w1, [x5]
	b	3b
5:	msr	icc_eoir1_el1, x9
	eret
off:	movz	w0, #0x8400, lsl #16
	movk	w0, #0x0008
	hvc	#0
alarmmsg: .asciz "rtc alarm\n"
	.balign	2048
vectors:
	.skip	0x280				// current EL with SP_ELx, IRQ
	b	irq
${PUTS}`);
}

test('interrupts: UART receive interrupts through the GIC wake a WFI loop (same output as QEMU)', (t) => {
  const elf = irqProgram('uart-irq', false);
  const r = armvirt(['run', '--no-el2', '--kernel', elf], 'abc.');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'ABC');
  if (!haveQemu) return t.diagnostic('no QEMU comparison');
  const q = spawnSync('qemu-system-aarch64', ['-M', 'virt,gic-version=3', '-cpu', 'cortex-a57', '-nographic', '-kernel', elf], { encoding: 'utf8', timeout: 60_000, input: 'abc.' });
  assert.equal(r.stdout, q.stdout);
});

test('interrupts: the PL031 match interrupt wakes a vCPU sleeping in WFI about a second later', () => {
  const started = Date.now();
  const r = armvirt(['run', '--no-el2', '--kernel', irqProgram('rtc-irq', true), '--stats']);
  const elapsed = Date.now() - started;
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'rtc alarm\n');
  assert.ok(elapsed >= 900 && elapsed < 10_000, `took ${elapsed} ms`);
  assert.match(r.stderr, /hlt \d+/, 'the vCPU waited in WFI');
});

test('the demo script exists and the hello example builds to an ELF and a raw image', () => {
  assert.ok(existsSync(join(ROOT, 'scripts', 'demo.sh')));
  assert.ok(existsSync(join(HELLO, 'hello.elf')));
  assert.ok(existsSync(join(HELLO, 'hello.bin')));
});
