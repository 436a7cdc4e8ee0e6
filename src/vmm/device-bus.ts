// The VMM's MMIO bus: guest-physical ranges -> device models above the hv
// API (KVM_EXIT_MMIO is answered here). Devices implement io/mmio's
// MmioDevice and see accesses of 1, 2 or 4 bytes with their size: 8-byte
// accesses are split into two 4-byte ones, low word first (as QEMU does for
// devices whose implementation maximum is 4 bytes). Read values are masked
// to the access width, so a device may return a whole register.

import type { AccessSize, MmioDevice } from '../io/mmio';

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

  /** Reads `size` bytes at `pa` for vCPU `cpuIndex`; undefined when no device is there. */
  read(pa: number, size: number, cpuIndex = 0): bigint | undefined {
    const r = this.find(pa);
    if (!r) return undefined;
    r.accesses++;
    const off = pa - r.base;
    if (size === 8) return BigInt(this.read32(r, off, 4, cpuIndex)) | (BigInt(this.read32(r, off + 4, 4, cpuIndex)) << 32n);
    return BigInt(this.read32(r, off, size as AccessSize, cpuIndex));
  }

  private read32(r: BusRegion, off: number, size: AccessSize, cpuIndex: number): number {
    const v = Number(r.device.read(off, size, cpuIndex)) >>> 0;
    return size === 4 ? v : v & ((1 << (size * 8)) - 1);
  }

  /** Writes `size` bytes at `pa` for vCPU `cpuIndex`; false when no device is there. */
  write(pa: number, size: number, data: bigint, cpuIndex = 0): boolean {
    const r = this.find(pa);
    if (!r) return false;
    r.accesses++;
    const off = pa - r.base;
    const lo = Number(data & 0xffffffffn);
    if (size === 8) {
      r.device.write(off, 4, lo, cpuIndex);
      r.device.write(off + 4, 4, Number((data >> 32n) & 0xffffffffn), cpuIndex);
      return true;
    }
    r.device.write(off, size as AccessSize, size === 4 ? lo : lo & ((1 << (size * 8)) - 1), cpuIndex);
    return true;
  }
}
