// Runs a bare-metal ELF (tests/baremetal, bench/) on a minimal armvirt `virt`
// machine: RAM at 0x40000000, the PL011 UART at 0x09000000 served from MMIO
// exits (transmit only), every other unassigned address answered with a
// synchronous external abort (as QEMU's virt does), PSCI through the
// in-kernel implementation. Independent of the VMM so the CPU can be tested
// on its own.

import { readFileSync } from 'node:fs';
import { Vm } from '../../src/hv/vm';

export const BM_RAM_BASE = 0x4000_0000;
const UART_BASE = 0x0900_0000;
const UART_SIZE = 0x1000;
const PT_LOAD = 1;

export interface BareMetalOptions {
  /** Start at EL2 (QEMU virt,virtualization=on) rather than EL1. Default true. */
  el2?: boolean;
  ramMiB?: number;
  /** Give up after this many instructions. */
  maxInstructions?: number;
}

export interface BareMetalResult {
  /** Everything written to the UART. */
  output: string;
  /** Why the run ended: 'shutdown' (PSCI SYSTEM_OFF) is the normal end. */
  end: string;
  instructions: number;
  seconds: number;
  /** Addresses of accesses that hit nothing (answered with an external abort). */
  unassigned: number[];
}

/** Copies an ELF64's PT_LOAD segments into RAM (by physical address); returns the entry point. */
export function loadElfSegments(elf: Uint8Array, ram: Uint8Array, ramBase: number): number {
  const dv = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  if (dv.getUint32(0, false) !== 0x7f454c46 || elf[4] !== 2) throw new Error('not an ELF64 file');
  const phoff = Number(dv.getBigUint64(32, true));
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (dv.getUint32(ph, true) !== PT_LOAD) continue;
    const offset = Number(dv.getBigUint64(ph + 8, true));
    const paddr = Number(dv.getBigUint64(ph + 24, true));
    const filesz = Number(dv.getBigUint64(ph + 32, true));
    const memsz = Number(dv.getBigUint64(ph + 40, true));
    if (paddr < ramBase || paddr + memsz > ramBase + ram.length) throw new Error(`segment ${i} at 0x${paddr.toString(16)} is outside RAM`);
    ram.set(elf.subarray(offset, offset + filesz), paddr - ramBase);
    ram.fill(0, paddr - ramBase + filesz, paddr - ramBase + memsz);
  }
  return Number(dv.getBigUint64(24, true));
}

export function runBareMetal(elfPath: string, options: BareMetalOptions = {}): BareMetalResult {
  const ramBytes = (options.ramMiB ?? 128) << 20;
  const vm = new Vm({ ramBytes, el2: options.el2 ?? true });
  const ram = vm.mapMemory(BM_RAM_BASE, ramBytes);
  const entry = loadElfSegments(new Uint8Array(readFileSync(elfPath)), ram, BM_RAM_BASE);
  const vcpu = vm.createVcpu();
  vcpu.pc = BigInt(entry);
  const max = options.maxInstructions ?? 5e9;
  const chars: number[] = [];
  const unassigned: number[] = [];
  let end = '';
  const t0 = process.hrtime.bigint();
  while (!end) {
    const exit = vcpu.run();
    switch (exit.reason) {
      case 'intr':
        if (vcpu.instructions >= max) end = `instruction budget of ${max} exhausted at pc 0x${vcpu.pc.toString(16)}`;
        break;
      case 'mmio':
        if (exit.pa >= UART_BASE && exit.pa < UART_BASE + UART_SIZE) {
          // DR (offset 0) transmits; FR (0x18) reads 0: transmit FIFO never full, receive FIFO... not empty
          // does not matter, these programs never read input. Other registers read as 0.
          if (exit.isWrite && exit.pa === UART_BASE) chars.push(Number(exit.data & 0xffn));
          vcpu.completeMmio(0);
        } else {
          unassigned.push(exit.pa);
          vcpu.injectDataAbort();
        }
        break;
      case 'system_event': end = exit.type; break;
      case 'hlt': end = 'halted in WFI with nothing to wake it'; break;
      case 'internal_error': end = `internal error: ${exit.message}`; break;
      default: end = exit.reason;
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { output: Buffer.from(chars).toString('latin1'), end, instructions: vcpu.instructions, seconds, unassigned };
}
