// The physical memory map and interrupt assignments of the `virt` board,
// identical to QEMU's hw/arm/virt.c (base_memmap[] and a15irqmap[]) so that
// kernels, device trees and bare-metal programs written for QEMU's virt
// machine run unchanged.

import { GUEST_RAM_WASM_BASE } from '../cpu/state';

export const VIRT = {
  /** GICv3 distributor (64 KiB). */
  GIC_DIST: { base: 0x0800_0000, size: 0x1_0000 },
  /** GICv3 redistributor region: 2 x 64 KiB frames (RD_base + SGI_base) per CPU, room for 123 CPUs. */
  GIC_REDIST: { base: 0x080a_0000, size: 0x00f6_0000 },
  /** Bytes of redistributor frames per CPU. */
  GIC_REDIST_STRIDE: 0x2_0000,
  UART: { base: 0x0900_0000, size: 0x1000 },
  RTC: { base: 0x0901_0000, size: 0x1000 },
  /** virtio-mmio transports: 32 slots of 0x200 bytes. */
  VIRTIO_MMIO: { base: 0x0a00_0000, size: 0x200 },
  VIRTIO_MMIO_COUNT: 32,
  RAM_BASE: 0x4000_0000,
} as const;

/** SPI numbers (GIC INTID = 32 + spi), as in QEMU's a15irqmap. */
export const VIRT_SPI = {
  UART: 1,
  RTC: 2,
  /** virtio-mmio transport i uses SPI VIRTIO_MMIO + i. */
  VIRTIO_MMIO: 16,
} as const;

/** PPI numbers (GIC INTID = 16 + ppi) of the per-CPU interrupts, as QEMU's virt board wires them. */
export const VIRT_PPI = {
  /** GIC virtual CPU interface maintenance interrupt (only with EL2). */
  GIC_MAINTENANCE: 9,
  /** Generic timers: EL2 physical (hyp), EL1 virtual, EL1 secure physical, EL1 non-secure physical. */
  TIMER_HYP: 10,
  TIMER_VIRT: 11,
  TIMER_SECURE: 13,
  TIMER_PHYS: 14,
} as const;

/** The PL011's and PL031's APB clock, a fixed 24 MHz clock ("clk24mhz") as on QEMU. */
export const APB_PCLK_HZ = 24_000_000;

/** Largest RAM this board supports: one wasm32 memory (4 GiB) holds the vCPU state areas and RAM. */
export const MAX_RAM_MIB = (0x1_0000_0000 - GUEST_RAM_WASM_BASE) / (1 << 20);

/** Guest-physical base of virtio-mmio transport `i`. */
export function virtioMmioBase(i: number): number {
  return VIRT.VIRTIO_MMIO.base + i * VIRT.VIRTIO_MMIO.size;
}
