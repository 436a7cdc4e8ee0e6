// The A64 decode table: every group's rows, in priority order.

import { Decoder } from '../decode';
import { BRANCH } from './branch';
import { SYSTEM } from './system';
import { DP_IMMEDIATE } from './dp-immediate';
import { LOAD_STORE } from './load-store';

export const A64_TABLES = [SYSTEM, BRANCH, DP_IMMEDIATE, LOAD_STORE];

let decoder: Decoder | undefined;

/** The shared decoder (built once; tables are static). */
export function a64Decoder(): Decoder {
  return (decoder ??= new Decoder(A64_TABLES));
}
