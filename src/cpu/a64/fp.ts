// Scalar floating point: Arm ARM C4.1.90 (FP data processing, compares, conversions).

import type { Encoding } from '../decode';

export const FP: Encoding[] = [];
