// Data processing (register): Arm ARM C4.1.87.

import type { Encoding } from '../decode';

export const DP_REGISTER: Encoding[] = [];
