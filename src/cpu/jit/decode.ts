// Declarative A64 decoding, in the spirit of QEMU's decodetree: every
// instruction is one table row whose pattern names its fixed bits and its
// fields, next to the function that translates it.
//
// Pattern syntax, most significant bit first, tokens separated by spaces:
//   0 1      fixed bits (any run, e.g. "100010")
//   . x      a bit that may take any value and is not a field
//   name:N   an N-bit unsigned field
//   name:sN  an N-bit field, sign-extended
// The widths add up to 32. Rows are tried in table order within the
// group of bits 28:25 they can match; the first whose pattern (and
// optional `when` guard) matches wins, so specific rows precede general ones.

import type { Translator } from './translator';

export type Fields = Record<string, number>;

export interface Encoding {
  /** Mnemonic-style name, unique across the tables (used in tests, statistics and errors). */
  name: string;
  pattern: string;
  /** Extra constraint on the fields (e.g. unallocated combinations); a false guard moves on to later rows. */
  when?: (f: Fields) => boolean;
  /** Emits the instruction. Return true when it ends the block (it wrote PC). */
  translate: (t: Translator, f: Fields) => boolean | void;
}

interface FieldSpec { name: string; shift: number; width: number; signed: boolean }

export interface CompiledEncoding extends Encoding {
  mask: number;
  value: number;
  fields: FieldSpec[];
  /** The row's fields of an instruction word (see fieldExtractor). */
  extract: (insn: number) => Fields;
}

export function compilePattern(enc: Encoding): CompiledEncoding {
  let bit = 32;
  let mask = 0;
  let value = 0;
  const fields: FieldSpec[] = [];
  for (const token of enc.pattern.trim().split(/\s+/)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*):(s?)(\d+)$/.exec(token);
    if (m) {
      const width = Number(m[3]);
      bit -= width;
      fields.push({ name: m[1], shift: bit, width, signed: m[2] === 's' });
      continue;
    }
    if (!/^[01.x]+$/.test(token)) throw new Error(`${enc.name}: bad pattern token '${token}'`);
    for (const ch of token) {
      bit--;
      if (ch === '0' || ch === '1') {
        mask |= 1 << bit;
        if (ch === '1') value |= 1 << bit;
      }
    }
  }
  if (bit !== 0) throw new Error(`${enc.name}: pattern covers ${32 - bit} bits, not 32`);
  // every row gets the same properties in the same order (one hidden class for V8: the decoder and
  // the translator read them for every instruction, and spreading rows with and without `when` made
  // those reads megamorphic)
  return {
    name: enc.name, pattern: enc.pattern, when: enc.when, translate: enc.translate,
    mask: mask >>> 0, value: value >>> 0, fields, extract: fieldExtractor(fields),
  };
}

/**
 * A function returning a row's fields as an object literal with a fixed
 * shape, generated once per row: the translator decodes a million
 * instructions per Linux boot, and filling a fresh object key by key made
 * V8 use slow dictionary objects and megamorphic property accesses
 * (field extraction was 20% of translation time).
 */
function fieldExtractor(fields: FieldSpec[]): (insn: number) => Fields {
  const props = fields.map(spec => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(spec.name)) throw new Error(`bad field name ${spec.name}`);
    const bits = spec.width === 32 ? 'insn | 0' : `(insn >>> ${spec.shift}) & ${(2 ** spec.width - 1) >>> 0}`;
    const value = spec.signed && spec.width < 32 ? `((${bits}) << ${32 - spec.width}) >> ${32 - spec.width}` : bits;
    return `${spec.name}: ${value}`;
  });
  return new Function('insn', `return { ${props.join(', ')} };`) as (insn: number) => Fields;
}

/** Groups rows by instruction bits 28:25 (the A64 top-level op0) so lookup scans a short list. */
export class Decoder {
  private readonly groups: CompiledEncoding[][] = Array.from({ length: 16 }, () => []);
  readonly all: CompiledEncoding[] = [];

  constructor(tables: Encoding[][]) {
    const names = new Set<string>();
    for (const table of tables) {
      for (const row of table) {
        if (names.has(row.name)) throw new Error(`duplicate encoding name ${row.name}`);
        names.add(row.name);
        const c = compilePattern(row);
        this.all.push(c);
        const fixed = (c.mask >>> 25) & 0xf;
        const want = (c.value >>> 25) & 0xf;
        for (let op0 = 0; op0 < 16; op0++) {
          if ((op0 & fixed) === want) this.groups[op0].push(c);
        }
      }
    }
  }

  decode(insn: number): { enc: CompiledEncoding; fields: Fields } | undefined {
    const group = this.groups[(insn >>> 25) & 0xf];
    for (const enc of group) {
      if (((insn & enc.mask) >>> 0) !== enc.value) continue;
      const fields = enc.extract(insn);
      if (enc.when && !enc.when(fields)) continue;
      return { enc, fields };
    }
    return undefined;
  }
}
