// Vector floating point of Advanced SIMD (three same, two-register misc,
// by element, across lanes, pairwise): filled in with the shared FP library.

import type { Encoding } from '../decode';

export const SIMD_FP: Encoding[] = [];
