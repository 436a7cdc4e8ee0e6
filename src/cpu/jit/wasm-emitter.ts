// A small WebAssembly bytecode writer: enough to emit translated A64 blocks
// and the dispatcher as binary modules at run time, without text parsing.

export const enum ValType { I32 = 0x7f, I64 = 0x7e, F32 = 0x7d, F64 = 0x7c, V128 = 0x7b }
export const BLOCK_VOID = 0x40;

/** Growable byte buffer with LEB128 helpers. */
export class ByteWriter {
  bytes: Uint8Array;
  length = 0;

  constructor(initialSize = 256) {
    this.bytes = new Uint8Array(initialSize);
  }

  private ensure(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    this.grow(extra);
  }

  private grow(extra: number): void {
    let size = this.bytes.length * 2;
    while (size < this.length + extra) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  byte(b: number): void {
    if (this.length === this.bytes.length) this.grow(1);
    this.bytes[this.length++] = b & 0xff;
  }

  raw(data: ArrayLike<number>): void {
    this.ensure(data.length);
    if (data instanceof Uint8Array) {
      this.bytes.set(data, this.length);
      this.length += data.length;
      return;
    }
    for (let i = 0; i < data.length; i++) this.bytes[this.length++] = data[i] & 0xff;
  }

  // The encoders below check the room once and write into the array directly: translation emits
  // ~30 MB of wasm per Linux boot, and a call with a bounds check per byte showed in its profile.

  u32(value: number): void {
    if (this.length + 5 > this.bytes.length) this.grow(5);
    const bytes = this.bytes;
    let n = this.length;
    let v = value >>> 0;
    while (v >= 0x80) { bytes[n++] = (v & 0x7f) | 0x80; v >>>= 7; }
    bytes[n++] = v;
    this.length = n;
  }

  /** An opcode (or any byte) followed by the unsigned LEB128 of `value`. */
  byteU32(b: number, value: number): void {
    if (this.length + 6 > this.bytes.length) this.grow(6);
    const bytes = this.bytes;
    let n = this.length;
    bytes[n++] = b;
    let v = value >>> 0;
    while (v >= 0x80) { bytes[n++] = (v & 0x7f) | 0x80; v >>>= 7; }
    bytes[n++] = v;
    this.length = n;
  }

  s32(value: number): void {
    if (this.length + 5 > this.bytes.length) this.grow(5);
    const bytes = this.bytes;
    let n = this.length;
    let v = value | 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
        bytes[n++] = b;
        break;
      }
      bytes[n++] = b | 0x80;
    }
    this.length = n;
  }

  /** Signed LEB128 of a 64-bit value given as (lo, hi) 32-bit halves. */
  s64pair(lo: number, hi: number): void {
    if (this.length + 10 > this.bytes.length) this.grow(10);
    const bytes = this.bytes;
    let n = this.length;
    let l = lo >>> 0;
    let h = hi | 0;
    for (;;) {
      const b = l & 0x7f;
      // arithmetic shift of the 64-bit pair right by 7
      l = ((l >>> 7) | (h << 25)) >>> 0;
      h >>= 7;
      const done = (h === 0 && l === 0 && (b & 0x40) === 0) || (h === -1 && l === 0xffffffff && (b & 0x40) !== 0);
      if (done) {
        bytes[n++] = b;
        break;
      }
      bytes[n++] = b | 0x80;
    }
    this.length = n;
  }

  s64(value: bigint): void {
    // most constants are small: one compare pair instead of four BigInt operations
    if (value >= -0x80000000n && value <= 0x7fffffffn) { this.s32(Number(value)); return; }
    const v = BigInt.asUintN(64, value);
    this.s64pair(Number(v & 0xffffffffn), Number(v >> 32n) | 0);
  }

  /** A u32 LEB128 that always takes five bytes, so it can be patched once the value is known. */
  u32Padded(value: number): number {
    const at = this.length;
    this.ensure(5);
    this.patchU32Padded(at, value);
    this.length += 5;
    return at;
  }

  patchU32Padded(at: number, value: number): void {
    let v = value >>> 0;
    for (let i = 0; i < 4; i++) { this.bytes[at + i] = (v & 0x7f) | 0x80; v >>>= 7; }
    this.bytes[at + 4] = v & 0x7f;
  }

  string(s: string): void {
    if (/^[\x00-\x7f]*$/.test(s)) { // ASCII (every name the emitters use): no Buffer per string
      this.u32(s.length);
      this.ensure(s.length);
      for (let i = 0; i < s.length; i++) this.bytes[this.length++] = s.charCodeAt(i);
      return;
    }
    const data = Buffer.from(s, 'utf8');
    this.u32(data.length);
    this.raw(data);
  }

  section(id: number, body: ByteWriter): void {
    this.byte(id);
    this.u32(body.length);
    this.raw(body.bytes.subarray(0, body.length));
  }

  toBytes(): Uint8Array<ArrayBuffer> {
    return this.bytes.slice(0, this.length);
  }
}

/** Opcode values from the WebAssembly core and SIMD specifications. */
export const Op = {
  unreachable: 0x00, nop: 0x01, block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b,
  // exception handling (the proposal's first version, shipped in V8 since 9.5)
  try: 0x06, catch: 0x07, throw: 0x08, catch_all: 0x19,
  br: 0x0c, br_if: 0x0d, br_table: 0x0e, return: 0x0f, call: 0x10, call_indirect: 0x11,
  return_call: 0x12, return_call_indirect: 0x13,
  drop: 0x1a, select: 0x1b,
  local_get: 0x20, local_set: 0x21, local_tee: 0x22, global_get: 0x23, global_set: 0x24,
  i32_load: 0x28, i64_load: 0x29, f32_load: 0x2a, f64_load: 0x2b,
  i32_load8_s: 0x2c, i32_load8_u: 0x2d, i32_load16_s: 0x2e, i32_load16_u: 0x2f,
  i64_load8_s: 0x30, i64_load8_u: 0x31, i64_load16_s: 0x32, i64_load16_u: 0x33,
  i64_load32_s: 0x34, i64_load32_u: 0x35,
  i32_store: 0x36, i64_store: 0x37, f32_store: 0x38, f64_store: 0x39,
  i32_store8: 0x3a, i32_store16: 0x3b, i64_store8: 0x3c, i64_store16: 0x3d, i64_store32: 0x3e,
  i32_const: 0x41, i64_const: 0x42, f32_const: 0x43, f64_const: 0x44,
  i32_eqz: 0x45, i32_eq: 0x46, i32_ne: 0x47, i32_lt_s: 0x48, i32_lt_u: 0x49, i32_gt_s: 0x4a,
  i32_gt_u: 0x4b, i32_le_s: 0x4c, i32_le_u: 0x4d, i32_ge_s: 0x4e, i32_ge_u: 0x4f,
  i64_eqz: 0x50, i64_eq: 0x51, i64_ne: 0x52, i64_lt_s: 0x53, i64_lt_u: 0x54, i64_gt_s: 0x55,
  i64_gt_u: 0x56, i64_le_s: 0x57, i64_le_u: 0x58, i64_ge_s: 0x59, i64_ge_u: 0x5a,
  f32_eq: 0x5b, f32_ne: 0x5c, f32_lt: 0x5d, f32_gt: 0x5e, f32_le: 0x5f, f32_ge: 0x60,
  f64_eq: 0x61, f64_ne: 0x62, f64_lt: 0x63, f64_gt: 0x64, f64_le: 0x65, f64_ge: 0x66,
  i32_clz: 0x67, i32_ctz: 0x68, i32_popcnt: 0x69, i32_add: 0x6a, i32_sub: 0x6b, i32_mul: 0x6c,
  i32_div_s: 0x6d, i32_div_u: 0x6e, i32_rem_s: 0x6f, i32_rem_u: 0x70, i32_and: 0x71, i32_or: 0x72,
  i32_xor: 0x73, i32_shl: 0x74, i32_shr_s: 0x75, i32_shr_u: 0x76, i32_rotl: 0x77, i32_rotr: 0x78,
  i64_clz: 0x79, i64_ctz: 0x7a, i64_popcnt: 0x7b, i64_add: 0x7c, i64_sub: 0x7d, i64_mul: 0x7e,
  i64_div_s: 0x7f, i64_div_u: 0x80, i64_rem_s: 0x81, i64_rem_u: 0x82, i64_and: 0x83, i64_or: 0x84,
  i64_xor: 0x85, i64_shl: 0x86, i64_shr_s: 0x87, i64_shr_u: 0x88, i64_rotl: 0x89, i64_rotr: 0x8a,
  f32_abs: 0x8b, f32_neg: 0x8c, f32_ceil: 0x8d, f32_floor: 0x8e, f32_trunc: 0x8f, f32_nearest: 0x90,
  f32_sqrt: 0x91, f32_add: 0x92, f32_sub: 0x93, f32_mul: 0x94, f32_div: 0x95, f32_min: 0x96,
  f32_max: 0x97, f32_copysign: 0x98,
  f64_abs: 0x99, f64_neg: 0x9a, f64_ceil: 0x9b, f64_floor: 0x9c, f64_trunc: 0x9d, f64_nearest: 0x9e,
  f64_sqrt: 0x9f, f64_add: 0xa0, f64_sub: 0xa1, f64_mul: 0xa2, f64_div: 0xa3, f64_min: 0xa4,
  f64_max: 0xa5, f64_copysign: 0xa6,
  i32_wrap_i64: 0xa7, i32_trunc_f32_s: 0xa8, i32_trunc_f32_u: 0xa9, i32_trunc_f64_s: 0xaa,
  i32_trunc_f64_u: 0xab, i64_extend_i32_s: 0xac, i64_extend_i32_u: 0xad, i64_trunc_f32_s: 0xae,
  i64_trunc_f32_u: 0xaf, i64_trunc_f64_s: 0xb0, i64_trunc_f64_u: 0xb1, f32_convert_i32_s: 0xb2,
  f32_convert_i32_u: 0xb3, f32_convert_i64_s: 0xb4, f32_convert_i64_u: 0xb5, f32_demote_f64: 0xb6,
  f64_convert_i32_s: 0xb7, f64_convert_i32_u: 0xb8, f64_convert_i64_s: 0xb9, f64_convert_i64_u: 0xba,
  f64_promote_f32: 0xbb, i32_reinterpret_f32: 0xbc, i64_reinterpret_f64: 0xbd,
  f32_reinterpret_i32: 0xbe, f64_reinterpret_i64: 0xbf,
  i32_extend8_s: 0xc0, i32_extend16_s: 0xc1, i64_extend8_s: 0xc2, i64_extend16_s: 0xc3,
  i64_extend32_s: 0xc4,
} as const;

/** 0xFC-prefixed opcodes (saturating truncation, bulk memory). */
export const OpFC = {
  i32_trunc_sat_f32_s: 0, i32_trunc_sat_f32_u: 1, i32_trunc_sat_f64_s: 2, i32_trunc_sat_f64_u: 3,
  i64_trunc_sat_f32_s: 4, i64_trunc_sat_f32_u: 5, i64_trunc_sat_f64_s: 6, i64_trunc_sat_f64_u: 7,
  memory_copy: 10, memory_fill: 11,
} as const;

/** 0xFD-prefixed SIMD128 opcodes (the subset names are added as they are used). */
export const OpSIMD = {
  v128_load: 0x00, v128_store: 0x0b, v128_const: 0x0c, i8x16_shuffle: 0x0d, i8x16_swizzle: 0x0e,
  i8x16_splat: 0x0f, i16x8_splat: 0x10, i32x4_splat: 0x11, i64x2_splat: 0x12, f32x4_splat: 0x13,
  f64x2_splat: 0x14,
  i8x16_extract_lane_s: 0x15, i8x16_extract_lane_u: 0x16, i8x16_replace_lane: 0x17,
  i16x8_extract_lane_s: 0x18, i16x8_extract_lane_u: 0x19, i16x8_replace_lane: 0x1a,
  i32x4_extract_lane: 0x1b, i32x4_replace_lane: 0x1c, i64x2_extract_lane: 0x1d, i64x2_replace_lane: 0x1e,
  f32x4_extract_lane: 0x1f, f32x4_replace_lane: 0x20, f64x2_extract_lane: 0x21, f64x2_replace_lane: 0x22,
  i8x16_eq: 0x23, i8x16_ne: 0x24, i8x16_lt_s: 0x25, i8x16_lt_u: 0x26, i8x16_gt_s: 0x27, i8x16_gt_u: 0x28,
  i8x16_le_s: 0x29, i8x16_le_u: 0x2a, i8x16_ge_s: 0x2b, i8x16_ge_u: 0x2c,
  i16x8_eq: 0x2d, i16x8_ne: 0x2e, i16x8_lt_s: 0x2f, i16x8_lt_u: 0x30, i16x8_gt_s: 0x31, i16x8_gt_u: 0x32,
  i16x8_le_s: 0x33, i16x8_le_u: 0x34, i16x8_ge_s: 0x35, i16x8_ge_u: 0x36,
  i32x4_eq: 0x37, i32x4_ne: 0x38, i32x4_lt_s: 0x39, i32x4_lt_u: 0x3a, i32x4_gt_s: 0x3b, i32x4_gt_u: 0x3c,
  i32x4_le_s: 0x3d, i32x4_le_u: 0x3e, i32x4_ge_s: 0x3f, i32x4_ge_u: 0x40,
  f32x4_eq: 0x41, f32x4_ne: 0x42, f32x4_lt: 0x43, f32x4_gt: 0x44, f32x4_le: 0x45, f32x4_ge: 0x46,
  f64x2_eq: 0x47, f64x2_ne: 0x48, f64x2_lt: 0x49, f64x2_gt: 0x4a, f64x2_le: 0x4b, f64x2_ge: 0x4c,
  v128_not: 0x4d, v128_and: 0x4e, v128_andnot: 0x4f, v128_or: 0x50, v128_xor: 0x51, v128_bitselect: 0x52,
  v128_any_true: 0x53,
  i8x16_abs: 0x60, i8x16_neg: 0x61, i8x16_popcnt: 0x62, i8x16_all_true: 0x63, i8x16_bitmask: 0x64,
  i8x16_narrow_i16x8_s: 0x65, i8x16_narrow_i16x8_u: 0x66,
  i8x16_shl: 0x6b, i8x16_shr_s: 0x6c, i8x16_shr_u: 0x6d, i8x16_add: 0x6e, i8x16_add_sat_s: 0x6f,
  i8x16_add_sat_u: 0x70, i8x16_sub: 0x71, i8x16_sub_sat_s: 0x72, i8x16_sub_sat_u: 0x73,
  i8x16_min_s: 0x76, i8x16_min_u: 0x77, i8x16_max_s: 0x78, i8x16_max_u: 0x79, i8x16_avgr_u: 0x7b,
  i16x8_abs: 0x80, i16x8_neg: 0x81, i16x8_all_true: 0x83, i16x8_bitmask: 0x84,
  i16x8_narrow_i32x4_s: 0x85, i16x8_narrow_i32x4_u: 0x86,
  i16x8_extend_low_i8x16_s: 0x87, i16x8_extend_high_i8x16_s: 0x88,
  i16x8_extend_low_i8x16_u: 0x89, i16x8_extend_high_i8x16_u: 0x8a,
  i16x8_shl: 0x8b, i16x8_shr_s: 0x8c, i16x8_shr_u: 0x8d, i16x8_add: 0x8e, i16x8_add_sat_s: 0x8f,
  i16x8_add_sat_u: 0x90, i16x8_sub: 0x91, i16x8_sub_sat_s: 0x92, i16x8_sub_sat_u: 0x93,
  i16x8_mul: 0x95, i16x8_min_s: 0x96, i16x8_min_u: 0x97, i16x8_max_s: 0x98, i16x8_max_u: 0x99,
  i16x8_avgr_u: 0x9b,
  i32x4_abs: 0xa0, i32x4_neg: 0xa1, i32x4_all_true: 0xa3, i32x4_bitmask: 0xa4,
  i32x4_extend_low_i16x8_s: 0xa7, i32x4_extend_high_i16x8_s: 0xa8,
  i32x4_extend_low_i16x8_u: 0xa9, i32x4_extend_high_i16x8_u: 0xaa,
  i32x4_shl: 0xab, i32x4_shr_s: 0xac, i32x4_shr_u: 0xad, i32x4_add: 0xae, i32x4_sub: 0xb1,
  i32x4_mul: 0xb5, i32x4_min_s: 0xb6, i32x4_min_u: 0xb7, i32x4_max_s: 0xb8, i32x4_max_u: 0xb9,
  i64x2_abs: 0xc0, i64x2_neg: 0xc1, i64x2_all_true: 0xc3, i64x2_bitmask: 0xc4,
  i64x2_extend_low_i32x4_s: 0xc7, i64x2_extend_high_i32x4_s: 0xc8,
  i64x2_extend_low_i32x4_u: 0xc9, i64x2_extend_high_i32x4_u: 0xca,
  i64x2_shl: 0xcb, i64x2_shr_s: 0xcc, i64x2_shr_u: 0xcd, i64x2_add: 0xce, i64x2_sub: 0xd1,
  i64x2_mul: 0xd5, i64x2_eq: 0xd6, i64x2_ne: 0xd7, i64x2_lt_s: 0xd8, i64x2_gt_s: 0xd9,
  i64x2_le_s: 0xda, i64x2_ge_s: 0xdb,
  f32x4_abs: 0xe0, f32x4_neg: 0xe1, f32x4_sqrt: 0xe3, f32x4_add: 0xe4, f32x4_sub: 0xe5,
  f32x4_mul: 0xe6, f32x4_div: 0xe7, f32x4_min: 0xe8, f32x4_max: 0xe9,
  f64x2_abs: 0xec, f64x2_neg: 0xed, f64x2_sqrt: 0xef, f64x2_add: 0xf0, f64x2_sub: 0xf1,
  f64x2_mul: 0xf2, f64x2_div: 0xf3, f64x2_min: 0xf4, f64x2_max: 0xf5,
  f32x4_demote_f64x2_zero: 0x5e, f64x2_promote_low_f32x4: 0x5f,
  f32x4_ceil: 0x67, f32x4_floor: 0x68, f32x4_trunc: 0x69, f32x4_nearest: 0x6a,
  f64x2_ceil: 0x74, f64x2_floor: 0x75, f64x2_trunc: 0x7a, f64x2_nearest: 0x94,
  i32x4_trunc_sat_f32x4_s: 0xf8, i32x4_trunc_sat_f32x4_u: 0xf9, f32x4_convert_i32x4_s: 0xfa, f32x4_convert_i32x4_u: 0xfb,
  i32x4_trunc_sat_f64x2_s_zero: 0xfc, i32x4_trunc_sat_f64x2_u_zero: 0xfd, f64x2_convert_low_i32x4_s: 0xfe, f64x2_convert_low_i32x4_u: 0xff,
} as const;

/**
 * Builds one function body. Locals are allocated by type on demand; the
 * caller names parameters up front. Instruction helpers return `this` so
 * short sequences read like the wasm text format.
 */
export class FunctionBuilder {
  /**
   * The function's code. Pass a writer to reuse its buffer (it is reset):
   * translation builds one function at a time, and a fresh 4 KiB buffer per
   * region showed in the Linux boot profile.
   */
  readonly code: ByteWriter;
  private readonly localTypes: ValType[] = [];
  /** Released locals by type (indexed by ValType - ValType.V128: five small stacks, no Map per function). */
  private readonly freeLocals: number[][] = [[], [], [], [], []];

  constructor(readonly paramCount: number, code?: ByteWriter) {
    if (code) code.length = 0;
    this.code = code ?? new ByteWriter();
  }

  /** Allocates a fresh local (or reuses a released one) of the given type. */
  local(type: ValType): number {
    const free = this.freeLocals[type - ValType.V128];
    if (free.length > 0) return free.pop()!;
    this.localTypes.push(type);
    return this.paramCount + this.localTypes.length - 1;
  }

  release(index: number): void {
    const type = this.localTypes[index - this.paramCount];
    if (type === undefined) return;
    this.freeLocals[type - ValType.V128].push(index);
  }

  op(opcode: number): this { this.code.byte(opcode); return this; }
  get(index: number): this { this.code.byteU32(Op.local_get, index); return this; }
  set(index: number): this { this.code.byteU32(Op.local_set, index); return this; }
  tee(index: number): this { this.code.byteU32(Op.local_tee, index); return this; }
  i32(value: number): this { this.code.byte(Op.i32_const); this.code.s32(value); return this; }
  i64(value: bigint): this { this.code.byte(Op.i64_const); this.code.s64(value); return this; }
  i64pair(lo: number, hi: number): this { this.code.byte(Op.i64_const); this.code.s64pair(lo, hi); return this; }
  f64(value: number): this {
    this.code.byte(Op.f64_const);
    const b = new Uint8Array(new Float64Array([value]).buffer);
    this.code.raw(b);
    return this;
  }
  f32(value: number): this {
    this.code.byte(Op.f32_const);
    const b = new Uint8Array(new Float32Array([value]).buffer);
    this.code.raw(b);
    return this;
  }

  /** A memory access opcode with its alignment hint and constant offset. */
  mem(opcode: number, offset: number, alignLog2 = 0): this {
    this.code.byteU32(opcode, alignLog2);
    this.code.u32(offset);
    return this;
  }

  fc(sub: number): this { this.code.byte(0xfc); this.code.u32(sub); return this; }
  simd(sub: number): this { this.code.byte(0xfd); this.code.u32(sub); return this; }
  simdMem(sub: number, offset: number, alignLog2 = 0): this {
    this.simd(sub); this.code.u32(alignLog2); this.code.u32(offset); return this;
  }
  simdLane(sub: number, lane: number): this { this.simd(sub); this.code.byte(lane); return this; }
  v128(bytes: ArrayLike<number>): this { this.simd(OpSIMD.v128_const); this.code.raw(bytes); return this; }
  shuffle(lanes: ArrayLike<number>): this { this.simd(OpSIMD.i8x16_shuffle); this.code.raw(lanes); return this; }

  block(type: number = BLOCK_VOID): this { this.code.byte(Op.block); this.code.byte(type); return this; }
  loop(type: number = BLOCK_VOID): this { this.code.byte(Op.loop); this.code.byte(type); return this; }
  if(type: number = BLOCK_VOID): this { this.code.byte(Op.if); this.code.byte(type); return this; }
  else(): this { this.code.byte(Op.else); return this; }
  try(type: number = BLOCK_VOID): this { this.code.byte(Op.try); this.code.byte(type); return this; }
  catchAll(): this { this.code.byte(Op.catch_all); return this; }
  catch(tag: number): this { this.code.byte(Op.catch); this.code.u32(tag); return this; }
  throw(tag: number): this { this.code.byte(Op.throw); this.code.u32(tag); return this; }
  end(): this { this.code.byte(Op.end); return this; }
  br(depth: number): this { this.code.byte(Op.br); this.code.u32(depth); return this; }
  brIf(depth: number): this { this.code.byte(Op.br_if); this.code.u32(depth); return this; }
  call(funcIndex: number): this { this.code.byte(Op.call); this.code.u32(funcIndex); return this; }
  callIndirect(typeIndex: number, tableIndex = 0): this {
    this.code.byte(Op.call_indirect); this.code.u32(typeIndex); this.code.u32(tableIndex); return this;
  }
  ret(): this { this.code.byte(Op.return); return this; }

  /** Appends the function body (locals + code, without the size prefix) to `w`; returns its length. */
  writeBody(w: ByteWriter): number {
    const start = w.length;
    // run-length encode consecutive locals of one type
    const types = this.localTypes;
    let groups = 0;
    for (let i = 0; i < types.length; i++) if (i === 0 || types[i] !== types[i - 1]) groups++;
    w.u32(groups);
    for (let i = 0; i < types.length;) {
      let j = i + 1;
      while (j < types.length && types[j] === types[i]) j++;
      w.u32(j - i); w.byte(types[i]);
      i = j;
    }
    w.raw(this.code.bytes.subarray(0, this.code.length));
    w.byte(Op.end);
    return w.length - start;
  }
}

export interface FuncType { params: ValType[]; results: ValType[] }

const signatureKeys = new WeakMap<FuncType, string>();

/** A string naming a signature (equal signatures, equal keys), computed once per signature object. */
function signatureKey(type: FuncType): string {
  let k = signatureKeys.get(type);
  if (k === undefined) signatureKeys.set(type, (k = type.params.join(',') + '>' + type.results.join(',')));
  return k;
}

/** Bytes of the unsigned LEB128 encoding of `value`. */
function leb128Size(value: number): number {
  let n = 1;
  for (let v = value >>> 7; v !== 0; v >>>= 7) n++;
  return n;
}

export interface ImportedFunc { module: string; name: string; type: FuncType }

/**
 * Assembles a module that imports one memory ("env"."memory"), optionally
 * one funcref table ("env"."table"), a list of functions, and defines the
 * given functions, exporting each as "f<i>".
 */
export class ModuleBuilder {
  private readonly types: FuncType[] = [];
  private readonly imports: ImportedFunc[] = [];
  /** Defined functions: type and where the body lies in `bodies`. */
  private readonly funcs: Array<{ typeIndex: number; start: number; length: number }> = [];
  /** The bodies of all defined functions, back to back (one buffer per module, not one per function). */
  private readonly bodies: ByteWriter;
  /** Where encode() assembles the module, and a scratch buffer for its sections. */
  private readonly out: ByteWriter;
  private readonly sectionScratch: ByteWriter;
  private readonly tags: number[] = [];

  /**
   * `importTag`: the module imports an exception tag ("env"."tag") of that
   * type, as tag index 0; tags it defines (addTag) follow and are exported as "t<i>".
   */
  constructor(private readonly options: { sharedMemory?: boolean; importTable?: boolean; importTag?: FuncType; memoryPages?: number; maxMemoryPages?: number } = {},
    buffers?: ModuleBuffers) {
    if (options.importTag) this.typeIndex(options.importTag); // before the type section is written
    this.bodies = buffers?.bodies ?? new ByteWriter(4096);
    this.out = buffers?.out ?? new ByteWriter(4096);
    this.sectionScratch = buffers?.section ?? new ByteWriter();
    this.bodies.length = 0;
  }

  typeIndex(type: FuncType): number {
    // by identity first: translations ask for the same few signature objects thousands of times
    const known = this.typeIndexByObject.get(type);
    if (known !== undefined) return known;
    const k = signatureKey(type);
    let i = this.typeIndexByKey.get(k);
    if (i === undefined) { this.types.push(type); i = this.types.length - 1; this.typeIndexByKey.set(k, i); }
    this.typeIndexByObject.set(type, i);
    return i;
  }

  private readonly typeIndexByObject = new Map<FuncType, number>();
  private readonly typeIndexByKey = new Map<string, number>();

  /** Declares an imported function; returns its function index. Must precede addFunction. */
  importFunction(module: string, name: string, type: FuncType): number {
    if (this.funcs.length > 0) throw new Error('imports must be declared before functions');
    this.typeIndex(type);
    this.imports.push({ module, name, type });
    return this.imports.length - 1;
  }

  get importCount(): number { return this.imports.length; }

  /** Defines an exception tag whose payload is `type`'s parameters; returns its tag index. */
  addTag(type: FuncType): number {
    this.tags.push(this.typeIndex(type));
    return this.tags.length - 1 + (this.options.importTag ? 1 : 0);
  }

  /** Adds a defined function; returns its function index. */
  addFunction(type: FuncType, fb: FunctionBuilder): number {
    const start = this.bodies.length;
    this.funcs.push({ typeIndex: this.typeIndex(type), start, length: fb.writeBody(this.bodies) });
    return this.imports.length + this.funcs.length - 1;
  }

  encode(): Uint8Array<ArrayBuffer> {
    const out = this.out;
    out.length = 0;
    /** The scratch writer, emptied, for the next section. */
    const section = () => { this.sectionScratch.length = 0; return this.sectionScratch; };
    out.raw([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

    const typeSec = section();
    typeSec.u32(this.types.length);
    for (const t of this.types) {
      typeSec.byte(0x60);
      typeSec.u32(t.params.length); for (const p of t.params) typeSec.byte(p);
      typeSec.u32(t.results.length); for (const r of t.results) typeSec.byte(r);
    }
    out.section(1, typeSec);

    const importSec = section();
    const importTagType = this.options.importTag ? this.typeIndex(this.options.importTag) : -1;
    const extra = 1 + (this.options.importTable ? 1 : 0) + (importTagType >= 0 ? 1 : 0);
    importSec.u32(this.imports.length + extra);
    importSec.string('env'); importSec.string('memory'); importSec.byte(0x02);
    const initial = this.options.memoryPages ?? 1;
    const max = this.options.maxMemoryPages ?? 65536;
    if (this.options.sharedMemory) { importSec.byte(0x03); importSec.u32(initial); importSec.u32(max); }
    else { importSec.byte(0x00); importSec.u32(initial); }
    if (this.options.importTable) {
      importSec.string('env'); importSec.string('table'); importSec.byte(0x01);
      importSec.byte(0x70); importSec.byte(0x00); importSec.u32(1);
    }
    if (importTagType >= 0) {
      importSec.string('env'); importSec.string('tag'); importSec.byte(0x04);
      importSec.byte(0x00); importSec.u32(importTagType);
    }
    for (const imp of this.imports) {
      importSec.string(imp.module); importSec.string(imp.name); importSec.byte(0x00);
      importSec.u32(this.typeIndex(imp.type));
    }
    out.section(2, importSec);

    const funcSec = section();
    funcSec.u32(this.funcs.length);
    for (const f of this.funcs) funcSec.u32(f.typeIndex);
    out.section(3, funcSec);

    if (this.tags.length) {
      const tagSec = section();
      tagSec.u32(this.tags.length);
      for (const t of this.tags) { tagSec.byte(0x00); tagSec.u32(t); } // attribute 0: exception
      out.section(13, tagSec);
    }

    const exportSec = section();
    exportSec.u32(this.funcs.length + this.tags.length);
    this.funcs.forEach((_, i) => {
      exportSec.string('f' + i); exportSec.byte(0x00); exportSec.u32(this.imports.length + i);
    });
    this.tags.forEach((_, i) => {
      exportSec.string('t' + i); exportSec.byte(0x04); exportSec.u32((importTagType >= 0 ? 1 : 0) + i);
    });
    out.section(7, exportSec);

    // the code section is written straight into `out` (its size is known), not copied twice
    let codeSize = leb128Size(this.funcs.length);
    for (const f of this.funcs) codeSize += leb128Size(f.length) + f.length;
    out.byte(10);
    out.u32(codeSize);
    out.u32(this.funcs.length);
    for (const f of this.funcs) { out.u32(f.length); out.raw(this.bodies.bytes.subarray(f.start, f.start + f.length)); }
    return out.toBytes();
  }
}

/**
 * Writers a ModuleBuilder may reuse instead of allocating its own: the
 * translator builds one module at a time, thousands per boot, and typed
 * array allocation showed in the profile. A builder given these owns them
 * until its module is encoded.
 */
export class ModuleBuffers {
  readonly bodies = new ByteWriter(1 << 16);
  readonly out = new ByteWriter(1 << 16);
  readonly section = new ByteWriter(1024);
}
