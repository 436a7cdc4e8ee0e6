// ARM PrimeCell real-time clock (PL031, TRM DDI 0224), modelled after QEMU's
// hw/rtc/pl031.c: the data register counts host wall-clock seconds (plus an
// offset the guest sets through LR), the match register raises the
// interrupt when the count reaches it, and the RTC is permanently enabled.

import type { AccessSize, MmioDevice } from '../../io/mmio';

export const PL031 = { DR: 0x00, MR: 0x04, LR: 0x08, CR: 0x0c, IMSC: 0x10, RIS: 0x14, MIS: 0x18, ICR: 0x1c } as const;

/** PeriphID0-3 (part 0x031, designer ARM) and PrimeCell ID0-3, the values QEMU's PL031 reports. */
const ID_BYTES = [0x31, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1];

export interface Pl031Host {
  setIrq(level: boolean): void;
  /** Wall-clock milliseconds since the epoch (Date.now by default). */
  wallMs?(): number;
  /** Monotonic milliseconds (performance.now by default): the time base of alarms. */
  monoMs?(): number;
}

export class Pl031 implements MmioDevice {
  /** Seconds added to the host clock (set by writes to LR). */
  private tickOffset = 0;
  private mr = 0;
  private lr = 0;
  private imsc = 0;
  private ris = 0;
  private irqOut = false;
  /** Monotonic time at which the count reaches MR (Infinity: no alarm pending). */
  private alarmAt = Infinity;

  constructor(private readonly host: Pl031Host) {}

  private wallSeconds(): number { return Math.floor((this.host.wallMs ?? Date.now)() / 1000); }
  private mono(): number { return (this.host.monoMs ?? (() => performance.now()))(); }

  /** The current count (DR). */
  count(): number { return (this.wallSeconds() + this.tickOffset) >>> 0; }

  read(offset: number, _size: AccessSize): number {
    if (offset >= 0xfe0 && offset < 0x1000) return ID_BYTES[(offset - 0xfe0) >> 2];
    switch (offset) {
      case PL031.DR: return this.count();
      case PL031.MR: return this.mr;
      case PL031.LR: return this.lr;
      case PL031.CR: return 1; // permanently enabled
      case PL031.IMSC: return this.imsc;
      case PL031.RIS: return this.ris;
      case PL031.MIS: return this.ris & this.imsc;
      default: return 0;
    }
  }

  write(offset: number, _size: AccessSize, value: number): void {
    value >>>= 0;
    switch (offset) {
      case PL031.LR:
        this.tickOffset += value - this.count();
        this.lr = value;
        this.setAlarm();
        return;
      case PL031.MR:
        this.mr = value;
        this.setAlarm();
        return;
      case PL031.IMSC: this.imsc = value & 1; this.update(); return;
      // the PL031 TRM clears on bit 0, the ARM926 docs on any write; QEMU (and we) clear on any write
      case PL031.ICR: this.ris = 0; this.update(); return;
      default: return; // CR writes are ignored (always enabled); DR, RIS, MIS are read-only
    }
  }

  /** Arms the match alarm (QEMU pl031_set_alarm): due MR - DR seconds from now, or at once when equal. */
  private setAlarm(): void {
    const ticks = (this.mr - this.count()) >>> 0;
    if (ticks === 0) { this.alarmAt = Infinity; this.ris |= 1; this.update(); }
    else this.alarmAt = this.mono() + ticks * 1000;
  }

  /** Raises the match interrupt when due; returns the monotonic time of the pending alarm (TimeSource). */
  nextDeadline(now: number): number {
    if (now >= this.alarmAt) { this.alarmAt = Infinity; this.ris |= 1; this.update(); }
    return this.alarmAt;
  }

  private update(): void {
    const level = (this.ris & this.imsc) !== 0;
    if (level !== this.irqOut) { this.irqOut = level; this.host.setIrq(level); }
  }
}
