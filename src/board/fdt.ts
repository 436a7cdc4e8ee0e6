// A flattened device tree (DTB) writer, format version 17 as specified by
// the Devicetree Specification v0.4 chapter 5: a 40-byte header, the memory
// reservation block, the structure block (FDT_BEGIN_NODE / FDT_PROP /
// FDT_END_NODE tokens, big-endian, 4-byte aligned) and the strings block
// holding each property name once.

const FDT_MAGIC = 0xd00dfeed;
const FDT_BEGIN_NODE = 1;
const FDT_END_NODE = 2;
const FDT_PROP = 3;
const FDT_END = 9;
const FDT_VERSION = 17;
/** Oldest version this blob stays compatible with (v16 readers understand v17). */
const FDT_LAST_COMP_VERSION = 16;
const HEADER_BYTES = 40;

/** A property value: u32 cells, a string, a string list, or raw bytes. */
export type FdtValue = number[] | string | string[] | Uint8Array | null;

/** Splits a 64-bit address or size into two u32 cells (for #address-cells = 2). */
export function cells64(v: number): number[] {
  return [Math.floor(v / 0x1_0000_0000) >>> 0, v >>> 0];
}

class ByteSink {
  private buf = new Uint8Array(4096);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.buf.subarray(0, this.length));
    this.buf = bigger;
  }

  u32(v: number): void {
    this.reserve(4);
    new DataView(this.buf.buffer).setUint32(this.length, v >>> 0);
    this.length += 4;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  align4(): void {
    while (this.length & 3) this.bytes(new Uint8Array(1));
  }

  result(): Uint8Array { return this.buf.slice(0, this.length); }
}

const utf8 = new TextEncoder();

function encodeValue(value: FdtValue): Uint8Array {
  if (value === null) return new Uint8Array(0);
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return utf8.encode(value + '\0');
  if (value.length > 0 && typeof value[0] === 'string') return utf8.encode((value as string[]).map(s => s + '\0').join(''));
  const cells = value as number[];
  const out = new Uint8Array(cells.length * 4);
  const dv = new DataView(out.buffer);
  cells.forEach((c, i) => {
    if (!Number.isInteger(c) || c < -0x8000_0000 || c > 0xffff_ffff) throw new Error(`FDT cell out of range: ${c}`);
    dv.setUint32(i * 4, c >>> 0);
  });
  return out;
}

/**
 * Builds a DTB node by node: `beginNode(name)`, `property(name, value)`,
 * `endNode()`, then `finish()`. Nodes must be closed in order; property
 * names are deduplicated in the strings block.
 */
export class FdtWriter {
  private readonly struct = new ByteSink();
  private readonly strings = new ByteSink();
  private readonly stringOffsets = new Map<string, number>();
  private readonly reservations: Array<{ address: number; size: number }> = [];
  private depth = 0;
  private nextPhandle = 1;
  /** Boot CPU's physical ID (header field, informational for v17). */
  bootCpuId = 0;

  /** Adds an entry to the memory reservation block (memory the OS must not use). */
  reserveMemory(address: number, size: number): void {
    this.reservations.push({ address, size });
  }

  /** Allocates a phandle value for a node to reference. */
  allocPhandle(): number { return this.nextPhandle++; }

  beginNode(name: string): void {
    if (this.depth === 0 && name !== '') throw new Error('the root node must be named ""');
    this.struct.u32(FDT_BEGIN_NODE);
    this.struct.bytes(utf8.encode(name + '\0'));
    this.struct.align4();
    this.depth++;
  }

  endNode(): void {
    if (this.depth === 0) throw new Error('endNode without a matching beginNode');
    this.struct.u32(FDT_END_NODE);
    this.depth--;
  }

  property(name: string, value: FdtValue): void {
    if (this.depth === 0) throw new Error(`property ${name} outside a node`);
    const data = encodeValue(value);
    this.struct.u32(FDT_PROP);
    this.struct.u32(data.length);
    this.struct.u32(this.stringOffset(name));
    this.struct.bytes(data);
    this.struct.align4();
  }

  /** Convenience: a node with properties and no children. */
  node(name: string, props: Record<string, FdtValue>): void {
    this.beginNode(name);
    for (const [k, v] of Object.entries(props)) this.property(k, v);
    this.endNode();
  }

  private stringOffset(name: string): number {
    let off = this.stringOffsets.get(name);
    if (off === undefined) {
      off = this.strings.length;
      this.strings.bytes(utf8.encode(name + '\0'));
      this.stringOffsets.set(name, off);
    }
    return off;
  }

  /** Serialises the blob; `padTo` grows totalsize (free space for later edits, as dtc -p does). */
  finish(padTo = 0): Uint8Array {
    if (this.depth !== 0) throw new Error(`${this.depth} device tree node(s) left open`);
    const rsvmap = new ByteSink();
    for (const r of this.reservations) { for (const c of [...cells64(r.address), ...cells64(r.size)]) rsvmap.u32(c); }
    rsvmap.u32(0); rsvmap.u32(0); rsvmap.u32(0); rsvmap.u32(0); // terminating entry
    const structBytes = new ByteSink();
    structBytes.bytes(this.struct.result());
    structBytes.u32(FDT_END);
    const offRsvmap = HEADER_BYTES; // 8-byte aligned as required
    const offStruct = offRsvmap + rsvmap.length;
    const offStrings = offStruct + structBytes.length;
    const used = offStrings + this.strings.length;
    const total = Math.max(used, padTo);
    const out = new Uint8Array(total);
    const dv = new DataView(out.buffer);
    const header = [FDT_MAGIC, total, offStruct, offStrings, offRsvmap, FDT_VERSION, FDT_LAST_COMP_VERSION,
      this.bootCpuId, this.strings.length, structBytes.length];
    header.forEach((v, i) => dv.setUint32(i * 4, v >>> 0));
    out.set(rsvmap.result(), offRsvmap);
    out.set(structBytes.result(), offStruct);
    out.set(this.strings.result(), offStrings);
    return out;
  }
}

/** A parsed node, for tests and for tools that inspect a DTB (`armvirt` never needs to parse at run time). */
export interface FdtNode { name: string; props: Map<string, Uint8Array>; children: FdtNode[] }

/** Parses a DTB (any version >= 16) into a tree; throws on a malformed blob. */
export function parseFdt(blob: Uint8Array): { root: FdtNode; reservations: Array<{ address: number; size: number }> } {
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  if (blob.length < HEADER_BYTES || dv.getUint32(0) !== FDT_MAGIC) throw new Error('not a flattened device tree');
  const total = dv.getUint32(4), offStruct = dv.getUint32(8), offStrings = dv.getUint32(12), offRsv = dv.getUint32(16);
  if (total > blob.length) throw new Error('device tree is truncated');
  const reservations: Array<{ address: number; size: number }> = [];
  for (let p = offRsv; ; p += 16) {
    const address = dv.getUint32(p) * 0x1_0000_0000 + dv.getUint32(p + 4);
    const size = dv.getUint32(p + 8) * 0x1_0000_0000 + dv.getUint32(p + 12);
    if (address === 0 && size === 0) break;
    reservations.push({ address, size });
  }
  const dec = new TextDecoder();
  const cstr = (p: number) => { let e = p; while (blob[e] !== 0) e++; return dec.decode(blob.subarray(p, e)); };
  let p = offStruct;
  const stack: FdtNode[] = [];
  let root: FdtNode | undefined;
  for (;;) {
    const tok = dv.getUint32(p); p += 4;
    if (tok === FDT_BEGIN_NODE) {
      const name = cstr(p); p += (utf8.encode(name).length + 1 + 3) & ~3;
      const n: FdtNode = { name, props: new Map(), children: [] };
      if (stack.length) stack[stack.length - 1].children.push(n); else root = n;
      stack.push(n);
    } else if (tok === FDT_PROP) {
      const len = dv.getUint32(p), nameOff = dv.getUint32(p + 4); p += 8;
      stack[stack.length - 1].props.set(cstr(offStrings + nameOff), blob.slice(p, p + len));
      p += (len + 3) & ~3;
    } else if (tok === FDT_END_NODE) {
      stack.pop();
    } else if (tok === 4 /* FDT_NOP */) {
      continue;
    } else if (tok === FDT_END) {
      break;
    } else {
      throw new Error(`bad device tree token ${tok}`);
    }
  }
  if (!root) throw new Error('device tree has no root node');
  return { root, reservations };
}
