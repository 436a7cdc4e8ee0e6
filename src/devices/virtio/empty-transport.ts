// An empty virtio-mmio transport: what QEMU's virt board shows in a slot with
// no device plugged in (magic "virt", DeviceID 0), so that the guest's
// virtio-mmio driver probes all 32 transports of the device tree and skips
// them quietly. The virtio device models replace these slot by slot.

import type { MmioDevice } from '../../io/mmio';

const MAGIC = 0x74726976; // "virt"
const VENDOR_QEMU = 0x554d4551; // "QEMU", the vendor ID QEMU's transports report

export class EmptyVirtioTransport implements MmioDevice {
  read(offset: number): number {
    switch (offset) {
      case 0x000: return MAGIC;
      case 0x004: return 2; // virtio 1.x (non-legacy) register layout
      case 0x008: return 0; // DeviceID 0: no device
      case 0x00c: return VENDOR_QEMU;
      default: return 0;
    }
  }

  write(): void { /* nothing to configure without a device */ }
}
