// The virtio-mmio transport (Virtio 1.2 §4.2): the register block a driver
// finds through the device tree ("virtio,mmio"), carrying any VirtioDevice.
// Version 2 is the modern interface (VIRTIO_F_VERSION_1 required, rings at
// three 64-bit addresses, QueueReady); version 1 is the legacy one (a single
// ring area at QueuePFN × GuestPageSize), chosen per transport as QEMU's
// force-legacy does, for old guests.
//
// Registers are 32-bit (§4.2.2: the driver only uses aligned 32-bit accesses
// below 0x100); any other access there reads 0 and writes nothing, as does an
// unknown register, so nothing a guest does here throws.

import type { AccessSize, MmioDevice } from '../../io/mmio';
import type { IrqLine } from '../../io/irq';
import type { GuestMemory } from '../../io/guest-memory';
import {
  VIRTIO_F_RING_EVENT_IDX, VIRTIO_F_RING_INDIRECT_DESC, VIRTIO_F_VERSION_1,
  Virtqueue, addressFromHalves, legacyRingAddresses, type SplitRingAddresses,
} from './queue';
import { VirtioStats, featureBit, hasFeature, type VirtioDevice, type VirtioDeviceHost } from './virtio-device';

/** Register offsets (§4.2.2; the legacy ones from §4.2.4). */
export const VirtioMmioRegister = {
  MagicValue: 0x000,
  Version: 0x004,
  DeviceId: 0x008,
  VendorId: 0x00c,
  DeviceFeatures: 0x010,
  DeviceFeaturesSel: 0x014,
  DriverFeatures: 0x020,
  DriverFeaturesSel: 0x024,
  LegacyGuestPageSize: 0x028,
  QueueSel: 0x030,
  QueueNumMax: 0x034,
  QueueNum: 0x038,
  LegacyQueueAlign: 0x03c,
  LegacyQueuePfn: 0x040,
  QueueReady: 0x044,
  QueueNotify: 0x050,
  InterruptStatus: 0x060,
  InterruptAck: 0x064,
  Status: 0x070,
  QueueDescLow: 0x080,
  QueueDescHigh: 0x084,
  QueueDriverLow: 0x090,
  QueueDriverHigh: 0x094,
  QueueDeviceLow: 0x0a0,
  QueueDeviceHigh: 0x0a4,
  ShmSel: 0x0ac,
  ShmLenLow: 0x0b0,
  ShmLenHigh: 0x0b4,
  ShmBaseLow: 0x0b8,
  ShmBaseHigh: 0x0bc,
  ConfigGeneration: 0x0fc,
  Config: 0x100,
} as const;

/** "virt" in little-endian ASCII. */
export const VIRTIO_MMIO_MAGIC = 0x74726976;
/** The register window's size, for the device tree and the bus. */
export const VIRTIO_MMIO_WINDOW_BYTES = 0x200;

/** Device status bits (§2.1). */
export const VirtioStatus = {
  Acknowledge: 1,
  Driver: 2,
  DriverOk: 4,
  FeaturesOk: 8,
  DeviceNeedsReset: 64,
  Failed: 128,
} as const;

/** InterruptStatus bits (§4.2.2). */
export const VIRTIO_MMIO_INT_VRING = 1;
export const VIRTIO_MMIO_INT_CONFIG = 2;

export interface VirtioMmioOptions {
  /** Offer the legacy (version 1) interface instead of version 2. */
  readonly legacy?: boolean;
  /** VendorID register; QEMU's "QEMU" by default, which guests do not check. */
  readonly vendorId?: number;
}

/** What the driver wrote for one queue, until DRIVER_OK turns it into a Virtqueue. */
interface QueueSettings {
  size: number;
  ready: boolean;
  descLow: number; descHigh: number;
  driverLow: number; driverHigh: number;
  deviceLow: number; deviceHigh: number;
  legacyPfn: number;
  legacyAlign: number;
}

function freshQueueSettings(maxSize: number): QueueSettings {
  return {
    size: maxSize, ready: false,
    descLow: 0, descHigh: 0, driverLow: 0, driverHigh: 0, deviceLow: 0, deviceHigh: 0,
    legacyPfn: 0, legacyAlign: 4096,
  };
}

/** Words of DriverFeatures the transport keeps: more than any device has, so a driver asking for more is caught. */
const FEATURE_WORDS = 4;

export class VirtioMmioTransport implements MmioDevice {
  readonly stats = new VirtioStats();
  readonly legacy: boolean;
  /** Everything the device and the ring layer offer. */
  readonly offeredFeatures: bigint;

  private readonly vendorId: number;
  private status = 0;
  private interruptStatus = 0;
  private irqLevel = false;
  private configGeneration = 0;
  private deviceFeaturesSel = 0;
  private driverFeaturesSel = 0;
  private driverFeatures = 0n;
  private queueSel = 0;
  private legacyGuestPageSize = 4096;
  private queueSettings: QueueSettings[];
  private queues: (Virtqueue | undefined)[] = [];
  private activated = false;
  /** Why the device needs a reset, for logs. */
  lastError: string | undefined;

  constructor(
    readonly device: VirtioDevice,
    private readonly memory: GuestMemory,
    private readonly irq: IrqLine,
    options: VirtioMmioOptions = {},
  ) {
    this.legacy = options.legacy ?? false;
    this.vendorId = options.vendorId ?? 0x554d4551;
    let offered = device.features | featureBit(VIRTIO_F_RING_INDIRECT_DESC) | featureBit(VIRTIO_F_RING_EVENT_IDX);
    offered = this.legacy ? offered & ~featureBit(VIRTIO_F_VERSION_1) : offered | featureBit(VIRTIO_F_VERSION_1);
    this.offeredFeatures = offered;
    this.queueSettings = device.queueMaxSizes.map(freshQueueSettings);
    const host: VirtioDeviceHost = { stats: this.stats, configChanged: () => this.configChanged() };
    device.attach(host);
  }

  /** The features both sides agreed on (valid once the device is activated). */
  get negotiatedFeatures(): bigint {
    return this.driverFeatures & this.offeredFeatures;
  }

  get isActivated(): boolean {
    return this.activated;
  }

  read(offset: number, size: AccessSize, _cpuIndex = 0): number | bigint {
    if (offset >= VirtioMmioRegister.Config) return this.readConfig(offset - VirtioMmioRegister.Config, size);
    const value = size === 4 && offset % 4 === 0 ? this.readRegister(offset) : 0;
    return size === 8 ? 0n : value;
  }

  write(offset: number, size: AccessSize, value: number | bigint, _cpuIndex = 0): void {
    if (offset >= VirtioMmioRegister.Config) {
      this.writeConfig(offset - VirtioMmioRegister.Config, size, value);
      return;
    }
    if (size === 4 && offset % 4 === 0) this.writeRegister(offset, Number(value) >>> 0);
  }

  private readConfig(offset: number, size: AccessSize): number | bigint {
    this.stats.configAccesses++;
    if (size === 8) {
      return BigInt(this.device.readConfig(offset, 4)) | (BigInt(this.device.readConfig(offset + 4, 4)) << 32n);
    }
    return this.device.readConfig(offset, size);
  }

  private writeConfig(offset: number, size: AccessSize, value: number | bigint): void {
    this.stats.configAccesses++;
    if (size === 8) {
      const v = BigInt(value);
      this.device.writeConfig(offset, 4, Number(v & 0xffff_ffffn));
      this.device.writeConfig(offset + 4, 4, Number((v >> 32n) & 0xffff_ffffn));
      return;
    }
    this.device.writeConfig(offset, size, Number(value));
  }

  private selectedQueue(): QueueSettings | undefined {
    return this.queueSettings[this.queueSel];
  }

  private readRegister(offset: number): number {
    const R = VirtioMmioRegister;
    const q = this.selectedQueue();
    switch (offset) {
      case R.MagicValue: return VIRTIO_MMIO_MAGIC;
      case R.Version: return this.legacy ? 1 : 2;
      case R.DeviceId: return this.device.deviceId;
      case R.VendorId: return this.vendorId;
      case R.DeviceFeatures:
        return this.deviceFeaturesSel < FEATURE_WORDS
          ? Number((this.offeredFeatures >> BigInt(32 * this.deviceFeaturesSel)) & 0xffff_ffffn) : 0;
      case R.QueueNumMax: return q ? this.device.queueMaxSizes[this.queueSel] : 0;
      case R.QueueNum: return q ? q.size : 0;
      case R.InterruptStatus: return this.interruptStatus;
      case R.Status: return this.status;
      case R.ConfigGeneration: return this.legacy ? 0 : this.configGeneration;
    }
    if (this.legacy) {
      switch (offset) {
        case R.LegacyQueuePfn: return q ? q.legacyPfn : 0;
        // QueueAlign and GuestPageSize are write-only.
      }
      return 0;
    }
    switch (offset) {
      case R.QueueReady: return q?.ready ? 1 : 0;
      case R.QueueDescLow: return q ? q.descLow : 0;
      case R.QueueDescHigh: return q ? q.descHigh : 0;
      case R.QueueDriverLow: return q ? q.driverLow : 0;
      case R.QueueDriverHigh: return q ? q.driverHigh : 0;
      case R.QueueDeviceLow: return q ? q.deviceLow : 0;
      case R.QueueDeviceHigh: return q ? q.deviceHigh : 0;
      // No shared memory regions: a length of all ones means "no such region" (§4.2.2).
      case R.ShmLenLow: case R.ShmLenHigh: case R.ShmBaseLow: case R.ShmBaseHigh: return 0xffff_ffff;
    }
    return 0;
  }

  private writeRegister(offset: number, value: number): void {
    const R = VirtioMmioRegister;
    switch (offset) {
      case R.DeviceFeaturesSel: this.deviceFeaturesSel = value; return;
      case R.DriverFeaturesSel: this.driverFeaturesSel = value; return;
      case R.DriverFeatures: this.writeDriverFeatures(value); return;
      case R.QueueSel: this.queueSel = value; return;
      case R.QueueNotify: this.queueNotify(value); return;
      case R.InterruptAck: this.acknowledgeInterrupt(value); return;
      case R.Status: this.writeStatus(value); return;
    }
    // The driver must not change a queue that is live (§4.2.3.2); such writes are dropped.
    const q = this.selectedQueue();
    const configurable = q !== undefined && !q.ready && !this.activated;
    if (this.legacy) {
      switch (offset) {
        case R.LegacyGuestPageSize: this.legacyGuestPageSize = value; return;
        case R.QueueNum: if (configurable) q.size = value; return;
        case R.LegacyQueueAlign: if (configurable) q.legacyAlign = value; return;
        case R.LegacyQueuePfn: if (configurable) q.legacyPfn = value; return;
      }
      return;
    }
    switch (offset) {
      // ShmSel needs no state: every region reads back as absent.
      case R.QueueReady: if (q && !this.activated) q.ready = (value & 1) === 1; return;
    }
    if (!configurable) return;
    switch (offset) {
      case R.QueueNum: q.size = value; return;
      case R.QueueDescLow: q.descLow = value; return;
      case R.QueueDescHigh: q.descHigh = value; return;
      case R.QueueDriverLow: q.driverLow = value; return;
      case R.QueueDriverHigh: q.driverHigh = value; return;
      case R.QueueDeviceLow: q.deviceLow = value; return;
      case R.QueueDeviceHigh: q.deviceHigh = value; return;
    }
  }

  private writeDriverFeatures(value: number): void {
    // §2.2.1: features are fixed once FEATURES_OK is set.
    if (this.status & VirtioStatus.FeaturesOk) return;
    const sel = this.driverFeaturesSel;
    if (sel >= FEATURE_WORDS) {
      // Bits beyond any device's: remember that something was asked for so FEATURES_OK fails.
      if (value !== 0) this.driverFeatures |= featureBit(32 * FEATURE_WORDS);
      return;
    }
    const shift = BigInt(32 * sel);
    this.driverFeatures = (this.driverFeatures & ~(0xffff_ffffn << shift)) | (BigInt(value) << shift);
  }

  private writeStatus(value: number): void {
    if (value === 0) {
      this.reset();
      return;
    }
    const S = VirtioStatus;
    const old = this.status;
    // DEVICE_NEEDS_RESET is the device's to set; only a reset clears it.
    let status = (value & 0xff & ~S.DeviceNeedsReset) | (old & S.DeviceNeedsReset);
    if (!this.legacy && (status & S.FeaturesOk) && !(old & S.FeaturesOk) && !this.featuresAcceptable()) {
      // §2.2.2 / §3.1.1: refusing the subset leaves FEATURES_OK clear for the driver to read back.
      status &= ~S.FeaturesOk;
    }
    this.status = status;
    if ((status & S.DriverOk) && !(old & S.DriverOk) && !(status & S.Failed)) this.activate();
  }

  private featuresAcceptable(): boolean {
    const f = this.driverFeatures;
    return (f & ~this.offeredFeatures) === 0n && hasFeature(f, VIRTIO_F_VERSION_1);
  }

  private activate(): void {
    if (!this.legacy && !(this.status & VirtioStatus.FeaturesOk)) return;
    if (this.status & VirtioStatus.DeviceNeedsReset) return;
    const features = this.negotiatedFeatures;
    const queues: (Virtqueue | undefined)[] = [];
    for (let i = 0; i < this.queueSettings.length; i++) {
      const s = this.queueSettings[i];
      const addresses = this.queueAddresses(s);
      if (addresses === undefined) {
        queues.push(undefined);
        continue;
      }
      if (typeof addresses === 'string') {
        this.deviceError(`queue ${i}: ${addresses}`);
        return;
      }
      const max = this.device.queueMaxSizes[i];
      const queue = s.size > max ? `queue ${i} size ${s.size} is above its maximum ${max}` : Virtqueue.create({
        memory: this.memory,
        size: s.size,
        addresses,
        indirectDescriptors: hasFeature(features, VIRTIO_F_RING_INDIRECT_DESC),
        eventIdx: hasFeature(features, VIRTIO_F_RING_EVENT_IDX),
        notifyDriver: () => this.raiseInterrupt(VIRTIO_MMIO_INT_VRING),
        onError: reason => this.queueError(i, reason),
      });
      if (typeof queue === 'string') {
        this.deviceError(`queue ${i}: ${queue}`);
        return;
      }
      queues.push(queue);
    }
    this.queues = queues;
    this.activated = true;
    this.guarded(() => this.device.activate(features, queues));
  }

  /** Where the driver put queue `s`: undefined when it did not set it up, a string when the numbers give no layout. */
  private queueAddresses(s: QueueSettings): SplitRingAddresses | string | undefined {
    if (this.legacy) {
      if (s.legacyPfn === 0) return undefined;
      return legacyRingAddresses(s.legacyPfn, this.legacyGuestPageSize, s.legacyAlign, s.size)
        ?? `no legacy ring layout for PFN ${s.legacyPfn}, page size ${this.legacyGuestPageSize}, align ${s.legacyAlign}`;
    }
    if (!s.ready) return undefined;
    return {
      descTable: addressFromHalves(s.descLow, s.descHigh),
      availRing: addressFromHalves(s.driverLow, s.driverHigh),
      usedRing: addressFromHalves(s.deviceLow, s.deviceHigh),
    };
  }

  private queueNotify(index: number): void {
    this.stats.notifications++;
    if (!this.activated || !this.queues[index] || this.queues[index]!.broken) return;
    this.guarded(() => this.device.notify(index));
  }

  /**
   * Runs device code so that nothing escapes into the vCPU loop: an exception
   * there is a device or backend bug, counted and turned into NEEDS_RESET.
   */
  private guarded(action: () => void): void {
    try {
      action();
    } catch (e) {
      this.stats.internalErrors++;
      this.deviceError(`${this.device.name} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private queueError(index: number, reason: string): void {
    this.stats.malformedChains++;
    this.deviceError(`queue ${index}: ${reason}`);
  }

  /**
   * The device cannot go on until reset (§2.1.2): DEVICE_NEEDS_RESET and,
   * once the driver is running, a configuration-change notification so it
   * looks at the status (QEMU's virtio_error).
   */
  private deviceError(reason: string): void {
    this.lastError = reason;
    if (this.status & VirtioStatus.DeviceNeedsReset) return;
    this.status |= VirtioStatus.DeviceNeedsReset;
    if (this.status & VirtioStatus.DriverOk) this.raiseInterrupt(VIRTIO_MMIO_INT_CONFIG);
  }

  private configChanged(): void {
    this.configGeneration = (this.configGeneration + 1) >>> 0;
    if (this.status & VirtioStatus.DriverOk) this.raiseInterrupt(VIRTIO_MMIO_INT_CONFIG);
  }

  private raiseInterrupt(bit: number): void {
    this.stats.interrupts++;
    this.interruptStatus |= bit;
    this.updateIrq();
  }

  private acknowledgeInterrupt(bits: number): void {
    this.interruptStatus &= ~bits;
    this.updateIrq();
  }

  private updateIrq(): void {
    const level = this.interruptStatus !== 0;
    if (level === this.irqLevel) return;
    this.irqLevel = level;
    this.irq(level);
  }

  /** Writing 0 to Status (§2.4): the device and every queue back to their initial state. */
  private reset(): void {
    this.guarded(() => this.device.reset());
    this.activated = false;
    this.queues = [];
    this.queueSettings = this.device.queueMaxSizes.map(freshQueueSettings);
    this.status = 0;
    this.driverFeatures = 0n;
    this.deviceFeaturesSel = 0;
    this.driverFeaturesSel = 0;
    this.queueSel = 0;
    this.lastError = undefined;
    this.interruptStatus = 0;
    this.updateIrq();
  }
}
