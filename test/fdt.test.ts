import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FdtWriter, parseFdt, type FdtNode } from '../src/board/fdt';
import { buildVirtDtb } from '../src/board/virt-dt';

/** Decompiles a DTB with dtc; returns the source and dtc's warnings. */
function dtc(blob: Uint8Array): { dts: string; warnings: string } {
  const dir = mkdtempSync(join(tmpdir(), 'armvirt-fdt-'));
  try {
    writeFileSync(join(dir, 'a.dtb'), blob);
    const r = spawnSync('dtc', ['-I', 'dtb', '-O', 'dts', join(dir, 'a.dtb')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return { dts: r.stdout, warnings: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('FdtWriter output decompiles with dtc to the same tree (all value kinds, reservations)', () => {
  const fdt = new FdtWriter();
  fdt.reserveMemory(0x48000000, 0x10000);
  fdt.beginNode('');
  fdt.property('#address-cells', [2]);
  fdt.property('#size-cells', [1]);
  fdt.property('compatible', ['vendor,board', 'generic']);
  fdt.property('model', 'test board');
  fdt.property('empty', null);
  fdt.property('bytes', new Uint8Array([1, 2, 3]));
  fdt.node('child@1000', { reg: [0, 0x1000, 0x100], status: 'okay', big: [0xffffffff] });
  fdt.endNode();
  const blob = fdt.finish();
  const { dts, warnings } = dtc(blob);
  assert.equal(warnings, '');
  assert.match(dts, /\/memreserve\/\s+0x0*48000000 0x0*10000;/);
  assert.match(dts, /#address-cells = <0x02>;/);
  assert.match(dts, /compatible = "vendor,board\\0generic";/);
  assert.match(dts, /model = "test board";/);
  assert.match(dts, /\tempty;/);
  assert.match(dts, /bytes = \[01 02 03\];/);
  assert.match(dts, /child@1000 \{\s+reg = <0x00 0x1000 0x100>;\s+status = "okay";\s+big = <0xffffffff>;/);
  // and dtc's own re-encoding of that source parses to the same tree as ours
  const dir = mkdtempSync(join(tmpdir(), 'armvirt-fdt-'));
  try {
    writeFileSync(join(dir, 'a.dts'), dts);
    execFileSync('dtc', ['-I', 'dts', '-O', 'dtb', '-o', join(dir, 'b.dtb'), join(dir, 'a.dts')], { stdio: 'pipe' });
    const theirs = parseFdt(new Uint8Array(readFileSync(join(dir, 'b.dtb'))));
    assert.deepEqual(theirs, parseFdt(blob));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('FdtWriter header fields: magic, version 17, last compatible 16, block offsets and sizes', () => {
  const fdt = new FdtWriter();
  fdt.beginNode('');
  fdt.property('a', 'x');
  fdt.property('a2', 'y');
  fdt.property('a', 'z'); // repeated names share one strings-block entry
  fdt.endNode();
  const blob = fdt.finish();
  const dv = new DataView(blob.buffer);
  assert.equal(dv.getUint32(0), 0xd00dfeed);
  assert.equal(dv.getUint32(4), blob.length);
  assert.equal(dv.getUint32(20), 17);
  assert.equal(dv.getUint32(24), 16);
  assert.equal(dv.getUint32(16), 40); // reservation map right after the header
  assert.equal(dv.getUint32(32), 5); // strings: "a\0a2\0"
  assert.equal(dv.getUint32(8) % 4, 0);
  assert.equal(dv.getUint32(8) + dv.getUint32(36), dv.getUint32(12));
  assert.throws(() => { const f = new FdtWriter(); f.beginNode(''); f.finish(); }, /left open/);
  assert.throws(() => new FdtWriter().property('x', null), /outside a node/);
});

function qemuDtb(el2: boolean, cpus: number): Uint8Array | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'armvirt-qemu-'));
  try {
    const r = spawnSync('qemu-system-aarch64', ['-M', `virt,virtualization=${el2 ? 'on' : 'off'},gic-version=3`, '-cpu', 'cortex-a57',
      '-smp', String(cpus), '-m', '512', '-display', 'none', '-machine', `dumpdtb=${join(dir, 'q.dtb')}`], { encoding: 'utf8' });
    if (r.status !== 0) return undefined;
    return new Uint8Array(readFileSync(join(dir, 'q.dtb')));
  } catch { return undefined; } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function byPath(root: FdtNode): Map<string, FdtNode> {
  const out = new Map<string, FdtNode>();
  const walk = (n: FdtNode, path: string) => { out.set(path || '/', n); for (const c of n.children) walk(c, `${path}/${c.name}`); };
  walk(root, '');
  return out;
}

/** Properties whose values are phandles or random, so differ legitimately from QEMU's. */
const PHANDLE_OR_RANDOM = new Set(['phandle', 'interrupt-parent', 'clocks', 'cpu', 'rng-seed', 'kaslr-seed']);

for (const el2 of [true, false]) {
  test(`virt device tree matches QEMU's for every node it has (virtualization=${el2 ? 'on' : 'off'}, 2 CPUs)`, (t) => {
    const reference = qemuDtb(el2, 2);
    if (!reference) { t.skip('qemu-system-aarch64 not available'); return; }
    const ours = buildVirtDtb({ ramBytes: 512 << 20, cpus: 2, el2, rngSeed: new Uint8Array(32), virtioSlots: [0, 31] });
    assert.equal(dtc(ours).warnings, '', 'dtc accepts our blob without warnings');
    const q = byPath(parseFdt(reference).root);
    const o = byPath(parseFdt(ours).root);
    for (const [path, node] of o) {
      const qn = q.get(path);
      assert.ok(qn, `QEMU has ${path}`);
      for (const [name, value] of node.props) {
        if (PHANDLE_OR_RANDOM.has(name)) { assert.ok(qn.props.has(name), `${path} ${name}`); continue; }
        assert.deepEqual(value, qn.props.get(name), `${path} property ${name}`);
      }
      for (const name of qn.props.keys()) {
        if (name === 'kaslr-seed') continue; // deliberately left out (reproducible guest layout)
        assert.ok(node.props.has(name), `${path} lacks QEMU's property ${name}`);
      }
    }
    // the devices armvirt models are all there
    for (const path of ['/psci', '/memory@40000000', '/cpus/cpu@0', '/cpus/cpu@1', '/timer', '/intc@8000000',
      '/pl011@9000000', '/pl031@9010000', '/chosen', '/apb-pclk', '/virtio_mmio@a000000', '/virtio_mmio@a003e00']) {
      assert.ok(o.has(path), path);
    }
    // only the virtio slots that hold a device are described
    assert.deepEqual([...o.keys()].filter(p => p.startsWith('/virtio_mmio')), ['/virtio_mmio@a000000', '/virtio_mmio@a003e00']);
  });
}

test('/chosen carries bootargs, the initrd range and stdout-path; RAM size follows the config', () => {
  const blob = buildVirtDtb({ ramBytes: 3 * 2 ** 30, cpus: 1, el2: true, bootargs: 'console=ttyAMA0 quiet',
    initrd: { start: 0x48000000, end: 0x48123456 }, rngSeed: new Uint8Array(32) });
  const { dts } = dtc(blob);
  assert.match(dts, /bootargs = "console=ttyAMA0 quiet";/);
  assert.match(dts, /linux,initrd-start = <0x00 0x48000000>;/);
  assert.match(dts, /linux,initrd-end = <0x00 0x48123456>;/);
  assert.match(dts, /stdout-path = "\/pl011@9000000";/);
  assert.match(dts, /memory@40000000 \{\s+reg = <0x00 0x40000000 0x00 0xc0000000>;/);
  assert.match(dts, /method = "smc";/);
});
