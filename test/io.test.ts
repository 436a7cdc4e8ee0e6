import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SlotMemory } from '../src/io/guest-memory';

test('SlotMemory gives live views only of ranges wholly inside one slot', () => {
  const low = new Uint8Array(4096), high = new Uint8Array(4096);
  const mem = new SlotMemory([{ gpa: 0x4000_0000, bytes: low }, { gpa: 0x8000_0000, bytes: high }]);
  const v = mem.view(0x4000_0010, 16)!;
  v[0] = 0xab;
  assert.equal(low[0x10], 0xab, 'the view aliases guest memory');
  assert.equal(mem.view(0x4000_0ff0, 16)?.length, 16, 'a range ending at the slot end is inside');
  assert.equal(mem.view(0x4000_0ff1, 16), undefined, 'a range crossing the slot end has no view');
  assert.equal(mem.view(0x3fff_fff0, 32), undefined, 'a range starting below RAM has no view');
  assert.equal(mem.view(0x8000_0000, 4096)?.length, 4096);
  assert.equal(mem.view(0x4000_1000, 1), undefined, 'the gap between slots is not RAM');
  assert.equal(mem.view(-1, 1), undefined);
  assert.equal(mem.view(0x4000_0000, -1), undefined);
  assert.equal(mem.view(2 ** 53, 1), undefined);
  assert.equal(mem.view(1073741824.5, 1), undefined);
});
