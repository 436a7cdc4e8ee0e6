// The VMM's MMIO bus: guest-physical ranges -> device models above the hv
// API (KVM_EXIT_MMIO is answered here). Devices see 32-bit registers:
// 8-byte accesses are split into two 4-byte ones (as QEMU does for devices
// whose implementation maximum is 4 bytes), narrower ones reach the device
// with their own offset and the value masked to their width.

export interface MmioDevice {
  read(offset: number): number;
  write(offset: number, value: number): void;
}

export interface BusRegion { name: string; base: number; size: number; device: MmioDevice; accesses: number }

export class DeviceBus {
  readonly regions: BusRegion[] = [];
  private last: BusRegion | undefined;

  add(name: string, base: number, size: number, device: MmioDevice): void {
    if (this.regions.some(r => base < r.base + r.size && r.base < base + size)) throw new Error(`device ${name} overlaps another device`);
    this.regions.push({ name, base, size, device, accesses: 0 });
  }

  find(pa: number): BusRegion | undefined {
    const l = this.last;
    if (l && pa >= l.base && pa < l.base + l.size) return l;
    for (const r of this.regions) if (pa >= r.base && pa < r.base + r.size) return (this.last = r);
    return undefined;
  }

  /** Reads `size` bytes at `pa`; undefined when no device is there. */
  read(pa: number, size: number): bigint | undefined {
    const r = this.find(pa);
    if (!r) return undefined;
    r.accesses++;
    const off = pa - r.base;
    if (size === 8) return BigInt(r.device.read(off) >>> 0) | (BigInt(r.device.read(off + 4) >>> 0) << 32n);
    const v = r.device.read(off) >>> 0;
    return BigInt(size === 4 ? v : v & ((1 << (size * 8)) - 1));
  }

  /** Writes `size` bytes at `pa`; false when no device is there. */
  write(pa: number, size: number, data: bigint): boolean {
    const r = this.find(pa);
    if (!r) return false;
    r.accesses++;
    const off = pa - r.base;
    const lo = Number(data & 0xffffffffn);
    if (size === 8) { r.device.write(off, lo); r.device.write(off + 4, Number((data >> 32n) & 0xffffffffn)); return true; }
    r.device.write(off, size === 4 ? lo : lo & ((1 << (size * 8)) - 1));
    return true;
  }
}
