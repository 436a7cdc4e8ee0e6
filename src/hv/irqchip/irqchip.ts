// The in-kernel interrupt controller as the VMM sees it (KVM_IRQ_LINE): the
// GICv3 model implements it and the VM forwards the VMM devices' lines to
// it (PL011, PL031, virtio drive only their SPI lines).

export interface IrqChip {
  /** Sets the level of shared peripheral interrupt `spi` (GIC INTID 32 + spi). */
  setSpiLevel(spi: number, level: boolean): void;
}
