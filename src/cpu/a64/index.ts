// The A64 decode table: every group's rows, in priority order.

import { Decoder } from '../jit/decode';
import { BRANCH } from './branch';
import { SYSTEM } from './system';
import { DP_IMMEDIATE } from './dp-immediate';
import { DP_REGISTER } from './dp-register';
import { LOAD_STORE } from './load-store';
import { FP } from './fp';
import { SIMD } from './simd';
import { CRYPTO } from './crypto';

export const A64_TABLES = [SYSTEM, BRANCH, DP_IMMEDIATE, DP_REGISTER, LOAD_STORE, FP, SIMD, CRYPTO];

let decoder: Decoder | undefined;

/** The shared decoder (built once; tables are static). */
export function a64Decoder(): Decoder {
  return (decoder ??= new Decoder(A64_TABLES));
}
