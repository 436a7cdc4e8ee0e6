import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pl011, PL011, PL011_FR, PL011_INT } from '../src/devices/serial/pl011';

function uart() {
  const out: number[] = [];
  const irq: boolean[] = [];
  let space = 0;
  const dev = new Pl011({ transmit: b => out.push(b), setIrq: l => irq.push(l), rxSpaceAvailable: () => { space++; } });
  return { dev, out, irq, space: () => space };
}

test('PrimeCell identification registers read as QEMU\'s PL011 (r1p5, ARM)', () => {
  const { dev } = uart();
  const ids = [0xfe0, 0xfe4, 0xfe8, 0xfec, 0xff0, 0xff4, 0xff8, 0xffc].map(o => dev.read(o, 4));
  assert.deepEqual(ids, [0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1]);
});

test('reset values: FR = TXFE|RXFE, CR = TXE|RXE, IFLS = 0x12; LCR/IBRD/FBRD/ILPR are stored', () => {
  const { dev } = uart();
  assert.equal(dev.read(PL011.FR, 4), 0x90);
  assert.equal(dev.read(PL011.CR, 4), 0x300);
  assert.equal(dev.read(PL011.IFLS, 4), 0x12);
  dev.write(PL011.IBRD, 4, 13); dev.write(PL011.FBRD, 4, 0x41); dev.write(PL011.LCR_H, 4, 0x70); dev.write(PL011.CR, 4, 0x301); dev.write(PL011.ILPR, 4, 0x1ff);
  assert.deepEqual([dev.read(PL011.IBRD, 4), dev.read(PL011.FBRD, 4), dev.read(PL011.LCR_H, 4), dev.read(PL011.CR, 4), dev.read(PL011.ILPR, 4)], [13, 0x01, 0x70, 0x301, 0xff]);
  dev.write(PL011.FR, 4, 0); // read-only
  assert.equal(dev.read(PL011.FR, 4), 0x90);
});

test('DR writes transmit; the TX interrupt is raised, masked by IMSC and cleared by ICR', () => {
  const { dev, out, irq } = uart();
  dev.write(PL011.DR, 4, 0x141); // only the low 8 bits are data
  assert.deepEqual(out, [0x41]);
  assert.equal(dev.read(PL011.RIS, 4), PL011_INT.TX);
  assert.equal(dev.read(PL011.MIS, 4), 0);
  assert.deepEqual(irq, []);
  dev.write(PL011.IMSC, 4, PL011_INT.TX);
  assert.equal(dev.read(PL011.MIS, 4), PL011_INT.TX);
  assert.deepEqual(irq, [true]);
  dev.write(PL011.ICR, 4, PL011_INT.TX);
  assert.equal(dev.read(PL011.RIS, 4), 0);
  assert.deepEqual(irq, [true, false]);
  dev.write(PL011.DR, 4, 0x42);
  assert.deepEqual(irq, [true, false, true]);
});

test('receive without FIFO: one character, RXFF, RX interrupt until drained', () => {
  const { dev, irq, space } = uart();
  dev.write(PL011.IMSC, 4, PL011_INT.RX | PL011_INT.RT);
  assert.equal(dev.receive(0x61), true);
  assert.equal(dev.receive(0x62), false, 'a 1-entry holding register is full');
  assert.equal(dev.read(PL011.FR, 4) & (PL011_FR.RXFE | PL011_FR.RXFF), PL011_FR.RXFF);
  assert.equal(dev.read(PL011.MIS, 4), PL011_INT.RX);
  assert.deepEqual(irq, [true]);
  assert.equal(dev.read(PL011.DR, 4), 0x61);
  assert.equal(space(), 1);
  assert.equal(dev.read(PL011.FR, 4) & PL011_FR.RXFE, PL011_FR.RXFE);
  assert.equal(dev.read(PL011.RIS, 4), 0);
  assert.deepEqual(irq, [true, false]);
  assert.equal(dev.read(PL011.DR, 4), 0, 'empty FIFO reads 0');
});

test('receive with FIFO enabled: 16 entries in order; toggling FEN flushes', () => {
  const { dev } = uart();
  dev.write(PL011.LCR_H, 4, 0x70); // 8 bits, FEN
  for (let i = 0; i < 16; i++) assert.equal(dev.receive(0x30 + i), true);
  assert.equal(dev.receive(0x99), false);
  assert.equal(dev.rxSpace(), 0);
  assert.equal(dev.read(PL011.FR, 4) & PL011_FR.RXFF, PL011_FR.RXFF);
  assert.equal(dev.read(PL011.DR, 4), 0x30);
  assert.equal(dev.read(PL011.DR, 4), 0x31);
  assert.equal(dev.rxSpace(), 2);
  assert.equal(dev.read(PL011.RIS, 4) & PL011_INT.RX, PL011_INT.RX);
  dev.write(PL011.ICR, 4, PL011_INT.RX); // cleared by ICR even with data left, as on QEMU
  assert.equal(dev.read(PL011.RIS, 4) & PL011_INT.RX, 0);
  dev.write(PL011.LCR_H, 4, 0x60); // FEN off
  assert.equal(dev.read(PL011.FR, 4) & PL011_FR.RXFE, PL011_FR.RXFE);
});

test('loopback (CR.LBE) feeds transmitted characters to the receiver instead of the host', () => {
  const { dev, out } = uart();
  dev.write(PL011.CR, 4, 0x381);
  dev.write(PL011.DR, 4, 0x5a);
  assert.deepEqual(out, []);
  assert.equal(dev.read(PL011.DR, 4), 0x5a);
});
