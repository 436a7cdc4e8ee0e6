// The one interface every memory-mapped device implements, on both sides of
// the hypervisor API: the in-kernel devices of hv/ (GIC distributor and
// redistributors), answered without leaving the vCPU, and the VMM's devices
// of devices/ (UART, RTC, virtio), reached after an MMIO exit. It lives in
// the bottom layer so that neither side imports the other.

/** Bytes in one guest access. */
export type AccessSize = 1 | 2 | 4 | 8;

export interface MmioDevice {
  /**
   * Reads `size` bytes at `offset` from the device's base, for vCPU `cpuIndex`
   * (banked registers such as a GIC redistributor's need it). A bigint only for
   * size 8, and only from a device on a bus that passes 8-byte accesses whole.
   */
  read(offset: number, size: AccessSize, cpuIndex: number): number | bigint;
  /** Writes `size` bytes; `value` is a bigint only for size 8 (see read). */
  write(offset: number, size: AccessSize, value: number | bigint, cpuIndex: number): void;
}

/** A device at a guest-physical address range. */
export interface MmioRegion {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  readonly device: MmioDevice;
}
