import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePattern, Decoder, type Encoding } from '../src/cpu/jit/decode';
import { a64Decoder } from '../src/cpu/a64';

const nop = () => {};

test('patterns compile to mask/value and fields, with signed fields sign-extended', () => {
  const c = compilePattern({ name: 'B', pattern: '000101 imm26:s26', translate: nop });
  assert.equal(c.mask, 0xfc000000);
  assert.equal(c.value, 0x14000000);
  assert.deepEqual(c.extract(0x17ffffff), { imm26: -1 });
  assert.deepEqual(c.extract(0x14000010), { imm26: 16 });
});

test('malformed patterns are rejected at start-up', () => {
  assert.throws(() => compilePattern({ name: 'short', pattern: '0101 x:4', translate: nop }), /covers 8 bits/);
  assert.throws(() => compilePattern({ name: 'bad', pattern: '01z1 x:28', translate: nop }), /bad pattern token/);
  const dup: Encoding = { name: 'A', pattern: 'x:32', translate: nop };
  assert.throws(() => new Decoder([[dup, dup]]), /duplicate encoding name/);
});

test('first matching row wins and guards move on to later rows', () => {
  const d = new Decoder([[
    { name: 'guarded', pattern: '1111 x:28', when: f => f.x === 0, translate: nop },
    { name: 'general', pattern: '1111 x:28', translate: nop },
  ]]);
  assert.equal(d.decode(0xf0000000)!.enc.name, 'guarded');
  assert.equal(d.decode(0xf0000001)!.enc.name, 'general');
  assert.equal(d.decode(0x00000000), undefined);
});

test('the A64 tables decode known encodings to their rows', () => {
  const d = a64Decoder();
  assert.equal(d.decode(0x14000000)!.enc.name, 'B'); // b .
  assert.equal(d.decode(0xd65f03c0)!.enc.name, 'BR_BLR_RET'); // ret
  assert.equal(d.decode(0xd503201f)!.enc.name, 'HINT'); // nop
  assert.equal(d.decode(0xd4000001)!.enc.name, 'SVC'); // svc #0
  assert.equal(d.decode(0x00000000), undefined); // udf #0: unallocated
});
