// What the CPU needs from the physical address space. The hypervisor layer
// (hv/) implements it: RAM slots map to wasm memory, anything else is an
// MMIO access that an in-kernel device answers or that exits to the VMM.

/** Result of an MMIO access the CPU must not complete yet: the vCPU exits. */
export const MMIO_EXIT = -1;

export interface PhysicalBus {
  /** Wasm address of physical address `pa`, or -1 when it is not RAM. */
  ramOffset(pa: number): number;
  /** Number of RAM bytes contiguous from `pa` (0 when not RAM). */
  ramExtent(pa: number): number;
  /**
   * MMIO read of `size` bytes. Returns 0 and puts the value in
   * `out[0]` (low 32 bits) / `out[1]` (high 32 bits), or MMIO_EXIT.
   */
  mmioRead(cpuIndex: number, pa: number, size: number, out: Uint32Array): number;
  /** MMIO write; returns 0 when done, MMIO_EXIT when the vCPU must exit first. */
  mmioWrite(cpuIndex: number, pa: number, size: number, lo: number, hi: number): number;
}
