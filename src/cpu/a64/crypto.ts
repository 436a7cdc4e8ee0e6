// Optional extensions: AES, SHA1, SHA256, PMULL (64-bit) and CRC32/CRC32C.

import type { Encoding } from '../decode';

export const CRYPTO: Encoding[] = [];
