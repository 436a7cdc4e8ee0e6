// Guest RAM as a device doing DMA sees it (virtio rings and buffers): by
// guest-physical address, bounds-checked. A range that is not wholly inside
// one RAM slot has no view, so a device can never touch host memory outside
// the guest, whatever address a (malicious) guest hands it.

export interface GuestMemory {
  /**
   * A live view of `length` bytes of guest RAM at guest-physical `gpa`, or
   * undefined when any part of the range is not RAM (or the numbers are not
   * non-negative integers, or overflow). Views alias guest memory: writes are
   * seen by the guest at once.
   */
  view(gpa: number, length: number): Uint8Array | undefined;
}

/** Guest RAM from plain byte arrays at guest-physical bases (the hv layer's slots, or tests). */
export class SlotMemory implements GuestMemory {
  constructor(private readonly slots: readonly { gpa: number; bytes: Uint8Array }[]) {}

  view(gpa: number, length: number): Uint8Array | undefined {
    if (!Number.isSafeInteger(gpa) || !Number.isSafeInteger(length) || gpa < 0 || length < 0) return undefined;
    for (const s of this.slots) {
      if (gpa >= s.gpa && gpa + length <= s.gpa + s.bytes.length) {
        const start = gpa - s.gpa;
        return s.bytes.subarray(start, start + length);
      }
    }
    return undefined;
  }
}
