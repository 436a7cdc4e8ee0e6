// ARM PrimeCell UART (PL011), as described by the PL011 Technical Reference
// Manual (DDI 0183) and modelled after QEMU's hw/char/pl011.c: transmission
// is instantaneous (TXFE always set, the TX interrupt asserts after every
// write), the receive FIFO is 16 entries with FEN and 1 without, and the RX
// interrupt asserts when the FIFO reaches its trigger level, which is 1
// character as on QEMU (the receive-timeout interrupt is then never needed).

import type { AccessSize, MmioDevice } from '../../io/mmio';

/** Register offsets. */
export const PL011 = {
  DR: 0x000, RSR: 0x004, FR: 0x018, ILPR: 0x020, IBRD: 0x024, FBRD: 0x028, LCR_H: 0x02c,
  CR: 0x030, IFLS: 0x034, IMSC: 0x038, RIS: 0x03c, MIS: 0x040, ICR: 0x044, DMACR: 0x048,
} as const;

/** FR bits. */
export const PL011_FR = { BUSY: 1 << 3, RXFE: 1 << 4, TXFF: 1 << 5, RXFF: 1 << 6, TXFE: 1 << 7 } as const;

/** Interrupt bits (IMSC/RIS/MIS/ICR). */
export const PL011_INT = { RX: 1 << 4, TX: 1 << 5, RT: 1 << 6, FE: 1 << 7, PE: 1 << 8, BE: 1 << 9, OE: 1 << 10 } as const;

const LCR_FEN = 1 << 4;
const CR_LBE = 1 << 7;
const FIFO_DEPTH = 16;
/** PeriphID0-3 (part 0x011, designer ARM, revision r1p5) and PrimeCell ID0-3, read by Linux's AMBA bus. */
const ID_BYTES = [0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1];

export interface Pl011Host {
  /** A character the guest transmitted. */
  transmit(byte: number): void;
  /** The level of the UART's interrupt line changed. */
  setIrq(level: boolean): void;
  /** The guest drained receive FIFO entries: more input may be delivered. */
  rxSpaceAvailable?(): void;
}

export class Pl011 implements MmioDevice {
  private readonly rxFifo: number[] = [];
  private intLevel = 0;
  private imsc = 0;
  private lcr = 0;
  private cr = 0x300; // TXE | RXE at reset
  private ifls = 0x12;
  private ibrd = 0;
  private fbrd = 0;
  private ilpr = 0;
  private dmacr = 0;
  private irqOut = false;
  /** Characters transmitted (statistics). */
  transmitted = 0;

  constructor(private readonly host: Pl011Host) {}

  private get fifoDepth(): number { return this.lcr & LCR_FEN ? FIFO_DEPTH : 1; }

  /** Free receive FIFO entries. */
  rxSpace(): number { return Math.max(0, this.fifoDepth - this.rxFifo.length); }

  /** Delivers a received character; false (character not taken) when the FIFO is full. */
  receive(byte: number): boolean {
    if (this.rxFifo.length >= this.fifoDepth) return false;
    this.rxFifo.push(byte & 0xff);
    if (this.rxFifo.length === 1) { this.intLevel |= PL011_INT.RX; this.update(); } // trigger level 1, as QEMU
    return true;
  }

  get flags(): number {
    let fr = PL011_FR.TXFE;
    if (this.rxFifo.length === 0) fr |= PL011_FR.RXFE;
    if (this.rxFifo.length >= this.fifoDepth) fr |= PL011_FR.RXFF;
    return fr;
  }

  read(offset: number, _size: AccessSize): number {
    if (offset >= 0xfe0 && offset < 0x1000) return ID_BYTES[(offset - 0xfe0) >> 2];
    switch (offset) {
      case PL011.DR: {
        const c = this.rxFifo.shift();
        if (this.rxFifo.length === 0) { this.intLevel &= ~PL011_INT.RX; this.update(); }
        if (c !== undefined) this.host.rxSpaceAvailable?.();
        return c ?? 0;
      }
      case PL011.RSR: return 0; // no framing/parity/break/overrun errors are ever modelled
      case PL011.FR: return this.flags;
      case PL011.ILPR: return this.ilpr;
      case PL011.IBRD: return this.ibrd;
      case PL011.FBRD: return this.fbrd;
      case PL011.LCR_H: return this.lcr;
      case PL011.CR: return this.cr;
      case PL011.IFLS: return this.ifls;
      case PL011.IMSC: return this.imsc;
      case PL011.RIS: return this.intLevel;
      case PL011.MIS: return this.intLevel & this.imsc;
      case PL011.DMACR: return this.dmacr;
      default: return 0; // ICR is write-only; reserved offsets read as zero
    }
  }

  write(offset: number, _size: AccessSize, value: number): void {
    switch (offset) {
      case PL011.DR: {
        const c = value & 0xff;
        this.transmitted++;
        if (this.cr & CR_LBE) this.receive(c); // loopback: the line is wired back to the receiver
        else this.host.transmit(c);
        this.intLevel |= PL011_INT.TX;
        this.update();
        return;
      }
      case PL011.RSR: return; // writing clears the (never set) error flags
      case PL011.ILPR: this.ilpr = value & 0xff; return;
      case PL011.IBRD: this.ibrd = value & 0xffff; return;
      case PL011.FBRD: this.fbrd = value & 0x3f; return;
      case PL011.LCR_H:
        // toggling FEN flushes the receive FIFO (QEMU does the same)
        if ((this.lcr ^ value) & LCR_FEN) { this.rxFifo.length = 0; this.intLevel &= ~PL011_INT.RX; }
        this.lcr = value & 0xff;
        this.update();
        this.host.rxSpaceAvailable?.();
        return;
      case PL011.CR: this.cr = value & 0xffff; return;
      case PL011.IFLS: this.ifls = value & 0x3f; return;
      case PL011.IMSC: this.imsc = value & 0x7ff; this.update(); return;
      case PL011.ICR: this.intLevel &= ~value; this.update(); return;
      case PL011.DMACR: this.dmacr = value & 7; return;
      default: return; // FR, RIS, MIS, IDs are read-only
    }
  }

  private update(): void {
    const level = (this.intLevel & this.imsc) !== 0;
    if (level !== this.irqOut) { this.irqOut = level; this.host.setIrq(level); }
  }
}
