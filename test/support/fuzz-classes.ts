// Which fuzzer instruction classes armvirt currently matches QEMU on. The
// fixed-seed fuzz test (test/fuzz.test.ts) fails on divergences in these and
// reports the others as TODO; move a class here once it passes
// (`node dist/scripts/fuzz.js --classes all --per-class` shows the state).

import type { InsnClass } from './fuzz-gen';

export const PASSING_CLASSES: readonly InsnClass[] = [
  'movw', 'addsub_imm', 'logic_imm', 'addsub_shift', 'addsub_ext', 'logic_shift', 'adc', 'condsel', 'condcmp',
  'bitfield', 'dp1', 'dp2', 'mul', 'crc',
  'ldst_uimm', 'ldst_unscaled', 'ldst_prepost', 'ldst_reg', 'ldst_pair', 'ldst_sp', 'ldst_excl', 'ldst_acqrel',
  'ldst_unaligned', 'ldst_excl_pair', 'sys',
  'branch', 'adr', 'bl',
  'fmov_gp', 'fp_arith', 'fp_fma', 'fp_unary', 'fp_cmp', 'fp_cvt_int', 'fp_imm', 'fp_ldst',
  'simd_int', 'simd_unary', 'simd_shift', 'simd_perm', 'simd_fp', 'simd_ldst', 'simd_widen', 'simd_scalar', 'crypto',
];
