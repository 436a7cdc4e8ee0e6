// The hypervisor layer's public API, the one module the VMM, the board and
// the CLI import (as user space sees KVM only through its ioctls): a VM with
// memory slots and vCPUs, their exits, the in-kernel irqchip line and PSCI's
// function IDs. Everything else in hv/ is the "kernel" side.

export { Vm, Vcpu, SLICE_INSTRUCTIONS, type VcpuExit, type VmOptions, type MemorySlot } from './vm';
export type { IrqChip } from './irqchip/irqchip';
export { GIC_VIRT_LAYOUT, type GicLayout } from './irqchip/gicv3';
export { PSCI, PSCI_RET } from './psci';
export { CNTFRQ_HZ } from './timer/generic-timer';
