import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteWriter, FunctionBuilder, ModuleBuffers, ModuleBuilder, Op, ValType } from '../src/cpu/jit/wasm-emitter';

function bytesOf(fn: (w: ByteWriter) => void): number[] {
  const w = new ByteWriter();
  fn(w);
  return [...w.toBytes()];
}

test('LEB128 encodings match the WebAssembly spec examples', () => {
  assert.deepEqual(bytesOf(w => w.u32(624485)), [0xe5, 0x8e, 0x26]);
  assert.deepEqual(bytesOf(w => w.s32(-123456)), [0xc0, 0xbb, 0x78]);
  assert.deepEqual(bytesOf(w => w.s32(63)), [0x3f]);
  assert.deepEqual(bytesOf(w => w.s32(64)), [0xc0, 0x00]);
  assert.deepEqual(bytesOf(w => w.s64(-1n)), [0x7f]);
  assert.deepEqual(bytesOf(w => w.s64(0x8000000000000000n)), [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f]);
  assert.deepEqual(bytesOf(w => w.s64(0xffffffffn)), [0xff, 0xff, 0xff, 0xff, 0x0f]);
});

test('a padded u32 can be patched in place and still decodes', () => {
  const w = new ByteWriter();
  const at = w.u32Padded(0);
  w.patchU32Padded(at, 300);
  assert.deepEqual([...w.toBytes()], [0xac, 0x82, 0x80, 0x80, 0x00]);
});

test('i64 constants round-trip through a compiled module', () => {
  const values = [0n, 1n, -1n, 0x7fffffffffffffffn, -0x8000000000000000n, 0x123456789abcdef0n, -64n, 63n, 64n];
  for (const v of values) {
    const mb = new ModuleBuilder();
    const f = new FunctionBuilder(0);
    f.i64(v);
    mb.addFunction({ params: [], results: [ValType.I64] }, f);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(mb.encode()), { env: { memory: new WebAssembly.Memory({ initial: 1 }) } });
    assert.equal((inst.exports.f0 as () => bigint)(), v);
  }
});

test('locals are reused after release, by type', () => {
  const f = new FunctionBuilder(1);
  const a = f.local(ValType.I64);
  const b = f.local(ValType.I32);
  f.release(a);
  assert.equal(f.local(ValType.I64), a);
  assert.notEqual(f.local(ValType.I32), b);
});

test('imported functions and memory are wired by index', () => {
  const mb = new ModuleBuilder();
  const add = mb.importFunction('h', 'add', { params: [ValType.I32, ValType.I32], results: [ValType.I32] });
  const f = new FunctionBuilder(1);
  f.get(0).i32(5).call(add).i32(2).op(Op.i32_mul);
  mb.addFunction({ params: [ValType.I32], results: [ValType.I32] }, f);
  const memory = new WebAssembly.Memory({ initial: 1 });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(mb.encode()), { env: { memory }, h: { add: (x: number, y: number) => x + y } });
  assert.equal((inst.exports.f0 as (x: number) => number)(10), 30);
});

test('modules built one after another in the same ModuleBuffers are independent', () => {
  const buffers = new ModuleBuffers();
  const code = new ByteWriter();
  const memory = new WebAssembly.Memory({ initial: 1 });
  const results: number[][] = [];
  for (const [count, base] of [[3, 100], [1, 7], [5, 40]]) {
    const mb = new ModuleBuilder({}, buffers);
    for (let i = 0; i < count; i++) {
      const f = new FunctionBuilder(1, code); // the code buffer is reused too, as by the translator
      const t = f.local(ValType.I32);
      f.get(0).i32(base + i).op(Op.i32_add).set(t).get(t);
      mb.addFunction({ params: [ValType.I32], results: [ValType.I32] }, f);
    }
    const bytes = mb.encode();
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    results.push(Array.from({ length: count }, (_, i) => (inst.exports['f' + i] as (x: number) => number)(1000)));
  }
  assert.deepEqual(results, [[1100, 1101, 1102], [1007], [1040, 1041, 1042, 1043, 1044]]);
});

test('ASCII and non-ASCII names encode as UTF-8 with their byte length', () => {
  assert.deepEqual(bytesOf(w => w.string('f12')), [3, 0x66, 0x31, 0x32]);
  assert.deepEqual(bytesOf(w => w.string('é')), [2, 0xc3, 0xa9]);
});
