import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pl031, PL031 } from '../src/devices/rtc/pl031';

function rtc(wallMs = 1_700_000_000_500) {
  const clock = { wall: wallMs, mono: 1000 };
  const irq: boolean[] = [];
  const dev = new Pl031({ setIrq: l => irq.push(l), wallMs: () => clock.wall, monoMs: () => clock.mono });
  const advance = (ms: number) => { clock.wall += ms; clock.mono += ms; };
  return { dev, irq, clock, advance };
}

test('DR counts host wall-clock seconds; the real clock is used by default', () => {
  const { dev, advance } = rtc();
  assert.equal(dev.read(PL031.DR, 4), 1_700_000_000);
  advance(2500);
  assert.equal(dev.read(PL031.DR, 4), 1_700_000_003);
  const real = new Pl031({ setIrq: () => {} });
  assert.ok(Math.abs(real.read(PL031.DR, 4) - Date.now() / 1000) < 2);
});

test('LR sets the count (and reads back); CR always reads 1; IDs are the PL031\'s', () => {
  const { dev, advance } = rtc();
  dev.write(PL031.LR, 4, 1000);
  assert.equal(dev.read(PL031.DR, 4), 1000);
  assert.equal(dev.read(PL031.LR, 4), 1000);
  advance(1000);
  assert.equal(dev.read(PL031.DR, 4), 1001);
  dev.write(PL031.CR, 4, 0);
  assert.equal(dev.read(PL031.CR, 4), 1);
  assert.deepEqual([0xfe0, 0xfe4, 0xfe8, 0xfec, 0xff0, 0xff4, 0xff8, 0xffc].map(o => dev.read(o, 4)), [0x31, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1]);
});

test('match register: the alarm fires when the count reaches MR; IMSC masks, ICR clears', () => {
  const { dev, irq, clock, advance } = rtc();
  dev.write(PL031.LR, 4, 100);
  dev.write(PL031.IMSC, 4, 1);
  dev.write(PL031.MR, 4, 103);
  assert.equal(dev.read(PL031.MR, 4), 103);
  assert.equal(dev.nextDeadline(clock.mono), clock.mono + 3000);
  advance(2999);
  assert.equal(dev.nextDeadline(clock.mono), clock.mono + 1);
  assert.equal(dev.read(PL031.RIS, 4), 0);
  advance(1);
  assert.equal(dev.nextDeadline(clock.mono), Infinity);
  assert.equal(dev.read(PL031.RIS, 4), 1);
  assert.equal(dev.read(PL031.MIS, 4), 1);
  assert.deepEqual(irq, [true]);
  dev.write(PL031.ICR, 4, 1);
  assert.equal(dev.read(PL031.RIS, 4), 0);
  assert.deepEqual(irq, [true, false]);
  // MR equal to the current count matches at once; masked, it is only visible in RIS
  dev.write(PL031.IMSC, 4, 0);
  dev.write(PL031.MR, 4, dev.read(PL031.DR, 4));
  assert.equal(dev.read(PL031.RIS, 4), 1);
  assert.equal(dev.read(PL031.MIS, 4), 0);
  assert.deepEqual(irq, [true, false]);
});
