// The device tree of the `virt` board, modelled node by node on the one QEMU
// generates for `-M virt,gic-version=3 -cpu cortex-a57` (hw/arm/virt.c;
// dump it with `-machine dumpdtb=virt.dtb` and read it with dtc). Nodes for
// devices armvirt does not model (flash, fw-cfg, PCIe, PL061, ITS, PMU) are
// left out, so the guest never probes hardware that is not there.

import { randomBytes } from 'node:crypto';
import { cells64, FdtWriter } from './fdt';
import { APB_PCLK_HZ, VIRT, VIRT_PPI, VIRT_SPI, virtioMmioBase } from './memmap';
import { PSCI } from '../hv';

/** GIC interrupt specifier cells: type (0 = SPI, 1 = PPI), number, flags. */
const GIC_SPI = 0, GIC_PPI = 1;
const IRQ_EDGE_RISING = 1, IRQ_LEVEL_HIGH = 4;

export interface VirtDtConfig {
  ramBytes: number;
  cpus: number;
  /** EL2 implemented: PSCI via SMC (HVC would trap to the guest hypervisor) and the GIC maintenance interrupt. */
  el2: boolean;
  bootargs?: string;
  initrd?: { start: number; end: number };
  /**
   * The virtio-mmio transport slots that hold a device (index i is at
   * virtioMmioBase(i), SPI VIRTIO_MMIO + i). QEMU lists all 32 slots, empty or
   * not; armvirt describes only the devices that exist, so the guest probes
   * nothing else (none when absent).
   */
  virtioSlots?: readonly number[];
  /** Seed bytes for /chosen/rng-seed (random when absent; tests pass fixed bytes). */
  rngSeed?: Uint8Array;
}

export const UART_NODE = `/pl011@${VIRT.UART.base.toString(16)}`;

/** Builds the DTB for the virt board. */
export function buildVirtDtb(config: VirtDtConfig): Uint8Array {
  const fdt = new FdtWriter();
  const gicPhandle = fdt.allocPhandle();
  const clockPhandle = fdt.allocPhandle();
  const cpuPhandles = Array.from({ length: config.cpus }, () => fdt.allocPhandle());
  const reg = (base: number, size: number) => [...cells64(base), ...cells64(size)];

  fdt.beginNode('');
  fdt.property('interrupt-parent', [gicPhandle]);
  fdt.property('model', 'linux,dummy-virt');
  fdt.property('#size-cells', [2]);
  fdt.property('#address-cells', [2]);
  fdt.property('compatible', 'linux,dummy-virt');

  // PSCI 1.1 answered by the hypervisor layer; the 0.1-style function IDs are
  // listed too, as QEMU does, for kernels that only know "arm,psci".
  fdt.node('psci', {
    migrate: [0xc4000005],
    cpu_on: [PSCI.CPU_ON_64],
    cpu_off: [PSCI.CPU_OFF],
    cpu_suspend: [PSCI.CPU_SUSPEND_64],
    method: config.el2 ? 'smc' : 'hvc',
    compatible: ['arm,psci-1.0', 'arm,psci-0.2', 'arm,psci'],
  });

  fdt.node(`memory@${VIRT.RAM_BASE.toString(16)}`, {
    reg: reg(VIRT.RAM_BASE, config.ramBytes),
    device_type: 'memory',
  });

  // in increasing address order, as in QEMU's DTB: Linux probes (and names vda, vdb ...) in that order
  for (const i of [...(config.virtioSlots ?? [])].sort((a, b) => a - b)) {
    if (!Number.isInteger(i) || i < 0 || i >= VIRT.VIRTIO_MMIO_COUNT) throw new Error(`virtio-mmio slot ${i} does not exist (0-${VIRT.VIRTIO_MMIO_COUNT - 1})`);
    fdt.node(`virtio_mmio@${virtioMmioBase(i).toString(16)}`, {
      'dma-coherent': null,
      interrupts: [GIC_SPI, VIRT_SPI.VIRTIO_MMIO + i, IRQ_EDGE_RISING],
      reg: reg(virtioMmioBase(i), VIRT.VIRTIO_MMIO.size),
      compatible: 'virtio,mmio',
    });
  }

  fdt.node(`pl031@${VIRT.RTC.base.toString(16)}`, {
    'clock-names': 'apb_pclk',
    clocks: [clockPhandle],
    interrupts: [GIC_SPI, VIRT_SPI.RTC, IRQ_LEVEL_HIGH],
    reg: reg(VIRT.RTC.base, VIRT.RTC.size),
    compatible: ['arm,pl031', 'arm,primecell'],
  });

  fdt.node(UART_NODE.slice(1), {
    'clock-names': ['uartclk', 'apb_pclk'],
    clocks: [clockPhandle, clockPhandle],
    interrupts: [GIC_SPI, VIRT_SPI.UART, IRQ_LEVEL_HIGH],
    reg: reg(VIRT.UART.base, VIRT.UART.size),
    compatible: ['arm,pl011', 'arm,primecell'],
  });

  fdt.beginNode(`intc@${VIRT.GIC_DIST.base.toString(16)}`);
  fdt.property('phandle', [gicPhandle]);
  // the virtual CPU interface's maintenance interrupt exists only with EL2 (virtualization=on)
  if (config.el2) fdt.property('interrupts', [GIC_PPI, VIRT_PPI.GIC_MAINTENANCE, IRQ_LEVEL_HIGH]);
  fdt.property('reg', [...reg(VIRT.GIC_DIST.base, VIRT.GIC_DIST.size), ...reg(VIRT.GIC_REDIST.base, VIRT.GIC_REDIST.size)]);
  fdt.property('#redistributor-regions', [1]);
  fdt.property('compatible', 'arm,gic-v3');
  fdt.property('ranges', null);
  fdt.property('#size-cells', [2]);
  fdt.property('#address-cells', [2]);
  fdt.property('interrupt-controller', null);
  fdt.property('#interrupt-cells', [3]);
  fdt.endNode();

  fdt.beginNode('cpus');
  fdt.property('#size-cells', [0]);
  fdt.property('#address-cells', [1]);
  fdt.beginNode('cpu-map');
  fdt.beginNode('socket0');
  fdt.beginNode('cluster0');
  for (let i = 0; i < config.cpus; i++) fdt.node(`core${i}`, { cpu: [cpuPhandles[i]] });
  fdt.endNode();
  fdt.endNode();
  fdt.endNode();
  for (let i = 0; i < config.cpus; i++) {
    // reg is the MPIDR affinity: vCPU i has Aff0 = i (hv/vm.ts createVcpu)
    fdt.node(`cpu@${i.toString(16)}`, {
      phandle: [cpuPhandles[i]],
      reg: [i],
      'enable-method': 'psci',
      compatible: 'arm,cortex-a57',
      device_type: 'cpu',
    });
  }
  fdt.endNode();

  fdt.node('timer', {
    interrupts: [
      GIC_PPI, VIRT_PPI.TIMER_SECURE, IRQ_LEVEL_HIGH,
      GIC_PPI, VIRT_PPI.TIMER_PHYS, IRQ_LEVEL_HIGH,
      GIC_PPI, VIRT_PPI.TIMER_VIRT, IRQ_LEVEL_HIGH,
      GIC_PPI, VIRT_PPI.TIMER_HYP, IRQ_LEVEL_HIGH,
    ],
    'always-on': null,
    compatible: ['arm,armv8-timer', 'arm,armv7-timer'],
  });

  fdt.node('apb-pclk', {
    phandle: [clockPhandle],
    'clock-output-names': 'clk24mhz',
    'clock-frequency': [APB_PCLK_HZ],
    '#clock-cells': [0],
    compatible: 'fixed-clock',
  });

  fdt.beginNode('chosen');
  fdt.property('stdout-path', UART_NODE);
  if (config.bootargs !== undefined) fdt.property('bootargs', config.bootargs);
  if (config.initrd) {
    fdt.property('linux,initrd-start', cells64(config.initrd.start));
    fdt.property('linux,initrd-end', cells64(config.initrd.end));
  }
  // Entropy for the guest's CRNG at boot, as QEMU provides (no kaslr-seed:
  // a fixed kernel layout keeps guest addresses reproducible between runs).
  fdt.property('rng-seed', config.rngSeed ?? new Uint8Array(randomBytes(32)));
  fdt.endNode();

  fdt.endNode();
  return fdt.finish();
}
