// A device's interrupt output, as a level. The VMM wires it to a GIC SPI
// through the hypervisor API (KVM_IRQ_LINE); the device never sees the GIC.

export type IrqLine = (level: boolean) => void;

/** A line that goes nowhere (devices built for tests, or before wiring). */
export const UNCONNECTED_IRQ: IrqLine = () => {};
