// Operand grids shared by the FP tests (fp-lib.test.ts, fp.test.ts).

import * as sf from '../src/cpu/fp/softfloat';
import type { Width } from '../src/cpu/fp/softfloat';

const F32 = (x: number) => BigInt(new Uint32Array(new Float32Array([x]).buffer)[0]);
const F64 = (x: number) => new BigUint64Array(new Float64Array([x]).buffer)[0];

/** Interesting operands per width: zeros, denormals, normals near limits, infinities, NaNs with payloads. */
export function specials(N: Width): bigint[] {
  if (N === 32) {
    return [0n, 0x80000000n, 1n, 0x807fffffn, 0x00800000n, 0x7f7fffffn, 0xff7fffffn, 0x7f800000n, 0xff800000n,
      0x7fc00001n, 0xffc12345n, 0x7f800001n, 0xff8abcden, F32(1), F32(-1), F32(1.5), F32(-2.5), F32(3), F32(0.1), F32(-1e-40),
      F32(1e30), F32(-7.25), F32(2 ** 126), F32(2 ** -126 * 1.5), F32(16777217 / 3), F32(0.5), F32(2 ** -140)];
  }
  return [0n, 0x8000000000000000n, 1n, 0x800fffffffffffffn, 0x0010000000000000n, 0x7fefffffffffffffn, 0xffefffffffffffffn,
    0x7ff0000000000000n, 0xfff0000000000000n, 0x7ff8000000000001n, 0xfff8000000abcdefn, 0x7ff0000000000001n, 0xfff4000000001234n,
    F64(1), F64(-1), F64(1.5), F64(-2.5), F64(3), F64(0.1), F64(-1e-310), F64(1e300), F64(-7.25), F64(2 ** 1022), F64(2 ** -1022 * 1.5),
    F64(1 / 3), F64(0.5), F64(2 ** -1060), F64(4503599627370497.5)];
}

/** FPCR values covering the rounding modes, FZ and DN. */
export const FPCRS = [0, 1 << 22, 2 << 22, 3 << 22, sf.FPCR_FZ, sf.FPCR_DN, sf.FPCR_FZ | sf.FPCR_DN | (1 << 22)];

