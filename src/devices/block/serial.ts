// The disk serial number the guest reads with VIRTIO_BLK_T_GET_ID. Linux
// shows it in /sys/block/vdX/serial, and udev makes
// /dev/disk/by-id/virtio-SERIAL from it, which guests use in fstab to name a
// disk independently of probe order. Without a serial there is no by-id link.

/** VIRTIO_BLK_ID_BYTES: the device answers GET_ID with at most 20 bytes. */
export const SERIAL_MAX_LENGTH = 20;

/** Up to 20 printable ASCII characters (empty: the disk has no serial). */
export function isValidSerial(serial: string): boolean {
  return serial.length <= SERIAL_MAX_LENGTH && /^[\x20-\x7e]*$/.test(serial);
}

/**
 * The serial of a disk given without serial=: its file name without the
 * extension, with characters udev would rewrite in a by-id name replaced by
 * '_', cut to 20 characters ("debian-12.raw" -> /dev/disk/by-id/virtio-debian-12).
 *
 * Why the file name: the user recognises it in the guest, and it stays the
 * same across VM restarts, host reboots, copies of the image and restores
 * from backup, which is what an fstab entry needs. Device/inode numbers would
 * mean nothing to the user and change whenever the image is copied or
 * rewritten by a tool that renames a new file over it. QEMU's default (no
 * serial) gives no by-id link at all. Two disks of one VM with the same file
 * name get the same serial (udev then keeps one link); give one serial=.
 */
export function defaultSerial(imagePath: string): string {
  const base = imagePath.replace(/[/\\]+$/, '').split(/[/\\]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  const stem = dot > 0 ? base.slice(0, dot) : base;
  return stem.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, SERIAL_MAX_LENGTH);
}
