// Advanced SIMD: Arm ARM C4.1.89/C4.1.90 (vector, scalar-SIMD, permutes, structure loads/stores).

import type { Encoding } from '../decode';

export const SIMD: Encoding[] = [];
