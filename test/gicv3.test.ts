// GICv3 model: distributor/redistributor registers through the VM's
// physical bus (as guest MMIO reaches them), the ICC_* CPU interface through
// the MRS/MSR helpers, and SGIs between vCPUs running real code.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Vm, type Vcpu } from '../src/hv/vm';
import { SYSREG_BY_NAME } from '../src/cpu/system/sysregs';
import { GIC_VIRT_LAYOUT } from '../src/hv/irqchip/gicv3';
import { assemble } from './support/asm';
import { mrs, msr } from './support/sysreg';

const GICD = GIC_VIRT_LAYOUT.distBase;
const GICR = GIC_VIRT_LAYOUT.redistBase;
const SGI_BASE = 0x1_0000;
const RAM = 0x4000_0000;

function machine(cpus = 2, el2 = false) {
  const vm = new Vm({ ramBytes: 4 << 20, el2 });
  vm.mapMemory(RAM, 4 << 20);
  const vcpus = Array.from({ length: cpus }, () => vm.createVcpu());
  return { vm, vcpus };
}

const out = new Uint32Array(2);
function read32(vm: Vm, pa: number, cpu = 0): number {
  assert.equal(vm.mmioRead(cpu, pa, 4, out), 0, `no in-kernel device at ${pa.toString(16)}`);
  return out[0];
}
function read64(vm: Vm, pa: number): bigint {
  assert.equal(vm.mmioRead(0, pa, 8, out), 0);
  return (BigInt(out[1]) << 32n) | BigInt(out[0]);
}
function write32(vm: Vm, pa: number, v: number, cpu = 0): void {
  assert.equal(vm.mmioWrite(cpu, pa, 4, v >>> 0, 0), 0);
}
function write64(vm: Vm, pa: number, v: bigint): void {
  assert.equal(vm.mmioWrite(0, pa, 8, Number(v & 0xffffffffn), Number(v >> 32n)), 0);
}


/** What Linux's gic_dist_init + gic_cpu_init do, reduced: groups 1, affinity routing, interfaces on. */
function linuxLikeInit(vm: Vm, vcpus: Vcpu[]): void {
  write32(vm, GICD + 0x0, 0x13); // ARE_NS | EnableGrp1A | EnableGrp1
  for (let w = 1; w < 8; w++) write32(vm, GICD + 0x80 + 4 * w, 0xffffffff); // SPIs group 1
  for (const v of vcpus) {
    const rd = GICR + 0x20000 * v.index;
    write32(vm, rd + 0x14, read32(vm, rd + 0x14) & ~2); // WAKER.ProcessorSleep = 0
    write32(vm, rd + SGI_BASE + 0x80, 0xffffffff); // SGIs/PPIs group 1
    msr(v.cpu, 'ICC_PMR_EL1', 0xf0);
    msr(v.cpu, 'ICC_IGRPEN1_EL1', 1);
  }
}

// Expected values were read on qemu-system-aarch64 7.2 (-M virt,gic-version=3 -cpu cortex-a57) by a
// bare-metal program: ICC_CTLR_EL1 0x8c00 (0x8c01 after writing 0x1111), ICC_SRE_EL1 7, ICC_BPR1_EL1 3,
// ICC_PMR_EL1 0xf8 after writing 0xff, GICD_CTLR 0x50, GICD_IIDR 0x43b, GICR_WAKER 6.
test('identification registers match what QEMU virt (secure=off) presents', () => {
  const { vm, vcpus } = machine(2);
  assert.equal(read32(vm, GICD + 0x0), 0x50, 'GICD_CTLR: ARE and DS read as one');
  // QEMU 7.2 reads 0x037a0007: the same but LPIS (bit 17) for its ITS, which armvirt does not model
  assert.equal(read32(vm, GICD + 0x4), 0x0378_0007, 'GICD_TYPER: No1N, A3V, 16-bit IDs, 256 INTIDs');
  assert.equal(read32(vm, GICD + 0x8), 0x43b);
  assert.equal(read32(vm, GICD + 0xffe8) & 0xf0, 0x30, 'GICD_PIDR2.ArchRev = GICv3');
  assert.equal(read32(vm, GICR + 0xffe8) & 0xf0, 0x30, 'GICR_PIDR2.ArchRev = GICv3');
  // GICR_TYPER: affinity in [63:32], Processor_Number, Last only on the final vCPU's frame
  assert.equal(read64(vm, GICR + 0x8), 0x0000_0000_0000_0000n);
  assert.equal(read64(vm, GICR + 0x20000 + 0x8), 0x0000_0001_0000_0110n);
  assert.equal(read32(vm, GICR + 0x40000 + 0x8), 0, 'frames past the last vCPU read as zero');
  // The ProcessorSleep/ChildrenAsleep handshake
  assert.equal(read32(vm, GICR + 0x14), 6);
  write32(vm, GICR + 0x14, 0);
  assert.equal(read32(vm, GICR + 0x14), 0);
  // CPU interface: SRE fixed, PRIbits = 4 / IDbits = 24 bits / A3V, the 5-bit priority mask
  const cpu = vcpus[0].cpu;
  assert.equal(mrs(cpu, 'ICC_SRE_EL1'), 7n);
  assert.equal(mrs(cpu, 'ICC_CTLR_EL1'), 0x8c00n);
  msr(cpu, 'ICC_PMR_EL1', 0xff);
  assert.equal(mrs(cpu, 'ICC_PMR_EL1'), 0xf8n);
  assert.equal(mrs(cpu, 'ICC_BPR1_EL1'), 3n, 'minimum Non-secure BPR1 for 5 preemption bits');
  msr(cpu, 'ICC_CTLR_EL1', 0x1111);
  assert.equal(mrs(cpu, 'ICC_CTLR_EL1'), 0x8c01n, 'only CBPR and EOImode are writable');
  msr(cpu, 'ICC_CTLR_EL1', 0);
  msr(cpu, 'ICC_BPR1_EL1', 0);
  assert.equal(mrs(cpu, 'ICC_BPR1_EL1'), 3n, 'BPR writes below the minimum are raised to it');
  assert.equal((mrs(cpu, 'ID_AA64PFR0_EL1') >> 24n) & 0xfn, 1n, 'ID_AA64PFR0_EL1.GIC');
  // IROUTER is a 64-bit register with Aff3 in [39:32]; IRM is RAZ/WI (No1N)
  write64(vm, GICD + 0x6000 + 8 * 40, 0x0000_0012_8034_5601n);
  assert.equal(read64(vm, GICD + 0x6000 + 8 * 40), 0x0000_0012_0034_5601n);
});

test('a level-sensitive SPI follows its line; acknowledge, EOI and re-pending', () => {
  const { vm, vcpus } = machine(2);
  linuxLikeInit(vm, vcpus);
  const [c0, c1] = vcpus.map(v => v.cpu);
  const intid = 33; // SPI 1 (the PL011 on virt)
  write32(vm, GICD + 0x400 + 32, 0xa0a0a0a0); // priorities of 32..35
  write64(vm, GICD + 0x6000 + 8 * intid, 1n); // route to Aff0 = 1
  write32(vm, GICD + 0x104, 1 << 1); // ISENABLER1: INTID 33
  vm.setIrqLine(1, true);
  assert.equal(c1.irqLine, true);
  assert.equal(c0.irqLine, false, 'routed to vCPU 1 only');
  assert.equal(read32(vm, GICD + 0x204) & 2, 2, 'pending while the line is high');
  assert.equal(mrs(c1, 'ICC_HPPIR1_EL1'), 33n);
  assert.equal(mrs(c1, 'ICC_IAR1_EL1'), 33n);
  assert.equal(read32(vm, GICD + 0x304) & 2, 2, 'active');
  assert.equal(c1.irqLine, false, 'an active interrupt is not signalled again');
  assert.equal(mrs(c1, 'ICC_RPR_EL1'), 0xa0n);
  assert.equal(mrs(c1, 'ICC_AP1R0_EL1'), 1n << 20n, 'active priority 0xa0 >> 3');
  // EOI with the line still high: priority drop + deactivate, then it is pending again
  msr(c1, 'ICC_EOIR1_EL1', 33);
  assert.equal(mrs(c1, 'ICC_RPR_EL1'), 0xffn);
  assert.equal(c1.irqLine, true);
  assert.equal(mrs(c1, 'ICC_IAR1_EL1'), 33n);
  vm.setIrqLine(1, false);
  msr(c1, 'ICC_EOIR1_EL1', 33);
  assert.equal(c1.irqLine, false);
  assert.equal(read32(vm, GICD + 0x204) & 2, 0, 'no longer pending once the line dropped');
  assert.equal(mrs(c1, 'ICC_IAR1_EL1'), 1023n);
  // ICPENDR cannot clear a level interrupt whose line is high
  vm.setIrqLine(1, true);
  write32(vm, GICD + 0x284, 2);
  assert.equal(read32(vm, GICD + 0x204) & 2, 2);
  // Rerouting moves the signal
  write64(vm, GICD + 0x6000 + 8 * intid, 0n);
  assert.equal(c1.irqLine, false);
  assert.equal(c0.irqLine, true);
});

test('an edge-triggered SPI latches its rising edge until acknowledged', () => {
  const { vm, vcpus } = machine(1);
  linuxLikeInit(vm, vcpus);
  const c0 = vcpus[0].cpu;
  const intid = 48; // SPI 16
  write32(vm, GICD + 0xc00 + 4 * (intid >> 4), 2 << (2 * (intid & 15))); // ICFGR: edge
  assert.equal(read32(vm, GICD + 0xc00 + 4 * (intid >> 4)), 2 << (2 * (intid & 15)));
  write32(vm, GICD + 0x100 + 4 * (intid >> 5), 1 << (intid & 31));
  vm.setIrqLine(16, true);
  vm.setIrqLine(16, false);
  assert.equal(c0.irqLine, true, 'the pulse stays latched');
  assert.equal(mrs(c0, 'ICC_IAR1_EL1'), 48n);
  msr(c0, 'ICC_EOIR1_EL1', 48);
  assert.equal(c0.irqLine, false);
  assert.equal(mrs(c0, 'ICC_IAR1_EL1'), 1023n, 'acknowledge consumed the edge');
  // Software can pend it through ISPENDR; a disabled interrupt is not signalled
  write32(vm, GICD + 0x180 + 4 * (intid >> 5), 1 << (intid & 31));
  write32(vm, GICD + 0x200 + 4 * (intid >> 5), 1 << (intid & 31));
  assert.equal(c0.irqLine, false);
  write32(vm, GICD + 0x100 + 4 * (intid >> 5), 1 << (intid & 31));
  assert.equal(c0.irqLine, true);
});

test('priority mask, preemption by group priority, EOImode split with ICC_DIR_EL1', () => {
  const { vm, vcpus } = machine(1);
  linuxLikeInit(vm, vcpus);
  const c0 = vcpus[0].cpu;
  write32(vm, GICD + 0x400 + 32, 0x00_80_20_c0); // INTID 32: 0xc0, 33: 0x20, 34: 0x80
  write32(vm, GICD + 0x104, 0x7); // enable 32..34
  write32(vm, GICD + 0x204, 0x1); // pend 32 (priority 0xc0)
  msr(c0, 'ICC_PMR_EL1', 0xc0);
  assert.equal(c0.irqLine, false, 'priority 0xc0 is not above a mask of 0xc0');
  assert.equal(mrs(c0, 'ICC_HPPIR1_EL1'), 32n, 'HPPIR ignores the mask');
  assert.equal(mrs(c0, 'ICC_IAR1_EL1'), 1023n);
  msr(c0, 'ICC_PMR_EL1', 0xf0);
  assert.equal(c0.irqLine, true);
  assert.equal(mrs(c0, 'ICC_IAR1_EL1'), 32n);
  // 0x80 preempts a running 0xc0; a second 0xc0-class interrupt would not
  write32(vm, GICD + 0x204, 0x4);
  assert.equal(c0.irqLine, true);
  assert.equal(mrs(c0, 'ICC_IAR1_EL1'), 34n);
  assert.equal(mrs(c0, 'ICC_RPR_EL1'), 0x80n);
  write32(vm, GICD + 0x204, 0x2); // 0x20 preempts 0x80
  assert.equal(mrs(c0, 'ICC_IAR1_EL1'), 33n);
  // EOImode = 1: EOIR only drops the priority, the interrupt stays active until DIR
  msr(c0, 'ICC_CTLR_EL1', 2);
  msr(c0, 'ICC_EOIR1_EL1', 33);
  assert.equal(mrs(c0, 'ICC_RPR_EL1'), 0x80n);
  assert.equal(read32(vm, GICD + 0x304) & 0x7, 0x7, 'all three still active');
  msr(c0, 'ICC_DIR_EL1', 33);
  assert.equal(read32(vm, GICD + 0x304) & 0x7, 0x5);
  msr(c0, 'ICC_EOIR1_EL1', 34); msr(c0, 'ICC_DIR_EL1', 34);
  msr(c0, 'ICC_EOIR1_EL1', 32); msr(c0, 'ICC_DIR_EL1', 32);
  assert.equal(read32(vm, GICD + 0x304) & 0x7, 0);
  assert.equal(mrs(c0, 'ICC_RPR_EL1'), 0xffn);
  // Disabling group 1 at the CPU interface hides everything
  write32(vm, GICD + 0x204, 0x1);
  msr(c0, 'ICC_IGRPEN1_EL1', 0);
  assert.equal(c0.irqLine, false);
  assert.equal(mrs(c0, 'ICC_IAR1_EL1'), 1023n);
});

test('group 0 interrupts are FIQs and acknowledged through IAR0', () => {
  const { vm, vcpus } = machine(1);
  linuxLikeInit(vm, vcpus);
  const c0 = vcpus[0].cpu;
  write32(vm, GICD + 0x0, 0x13 | 1); // EnableGrp0 too
  write32(vm, GICD + 0x84, ~1); // INTID 32 in group 0
  write32(vm, GICD + 0x104, 1);
  write32(vm, GICD + 0x204, 1);
  assert.equal(c0.fiqLine, false, 'ICC_IGRPEN0_EL1 is off');
  msr(c0, 'ICC_IGRPEN0_EL1', 1);
  assert.equal(c0.fiqLine, true);
  assert.equal(c0.irqLine, false);
  assert.equal(mrs(c0, 'ICC_IAR1_EL1'), 1023n, 'not a group 1 interrupt');
  assert.equal(mrs(c0, 'ICC_IAR0_EL1'), 32n);
  assert.equal(mrs(c0, 'ICC_AP0R0_EL1'), 1n);
  msr(c0, 'ICC_EOIR0_EL1', 32);
  assert.equal(mrs(c0, 'ICC_AP0R0_EL1'), 0n);
});

test('SGIs: target lists, IRM = all but self, group check; a halted target is woken', () => {
  const { vm, vcpus } = machine(3);
  linuxLikeInit(vm, vcpus);
  const [c0, c1, c2] = vcpus.map(v => v.cpu);
  for (const v of vcpus) write32(vm, GICR + 0x20000 * v.index + SGI_BASE + 0x100, 0xffff); // enable SGIs
  let wakes = 0;
  vm.onWake = () => { wakes++; };
  c2.halted = true;
  // SGI 5 to Aff0 = 2 (TargetList bit 2, Aff1..3 = 0)
  msr(c0, 'ICC_SGI1R_EL1', (5n << 24n) | 0b100n);
  assert.equal(c2.irqLine, true);
  assert.equal(c1.irqLine, false);
  assert.equal(c2.halted, false, 'the SGI ended WFI');
  assert.equal(wakes, 1, 'the VMM was told');
  assert.equal(mrs(c2, 'ICC_IAR1_EL1'), 5n);
  msr(c2, 'ICC_EOIR1_EL1', 5);
  // IRM: everyone but the sender
  msr(c1, 'ICC_SGI1R_EL1', (1n << 40n) | (3n << 24n));
  assert.deepEqual([c0.irqLine, c1.irqLine, c2.irqLine], [true, false, true]);
  assert.equal(mrs(c0, 'ICC_IAR1_EL1'), 3n);
  assert.equal(mrs(c2, 'ICC_IAR1_EL1'), 3n);
  // A group 1 SGI does not pend an SGI the target configured as group 0
  write32(vm, GICR + 0x20000 + SGI_BASE + 0x80, 0xffff_fffe);
  msr(c0, 'ICC_SGI1R_EL1', 0b10n);
  assert.equal(read32(vm, GICR + 0x20000 + SGI_BASE + 0x200) & 1, 0);
  msr(c0, 'ICC_SGI0R_EL1', 0b10n);
  assert.equal(read32(vm, GICR + 0x20000 + SGI_BASE + 0x200) & 1, 1);
  // SGIs are edge-triggered: GICR_ICFGR0 is read-only 0xaaaaaaaa
  write32(vm, GICR + SGI_BASE + 0xc00, 0);
  assert.equal(read32(vm, GICR + SGI_BASE + 0xc00), 0xaaaaaaaa);
});

test('write-only ICC registers are UNDEFINED to read; no GIC means no ICC registers', () => {
  const { vcpus } = machine(1);
  const cpu = vcpus[0].cpu;
  cpu.setReg('VBAR_EL1', 0x4000_0000n);
  assert.equal(cpu.helperMrs(SYSREG_BY_NAME.get('ICC_EOIR1_EL1')!.key, 0), 1);
  assert.equal(Number(cpu.reg('ESR_EL1') >> 26n), 0, 'EC 0: unknown reason');
  const bare = new Vm({ ramBytes: 1 << 20, irqchip: false }).createVcpu().cpu;
  bare.setReg('VBAR_EL1', 0x4000_0000n);
  assert.equal(bare.helperMrs(SYSREG_BY_NAME.get('ICC_PMR_EL1')!.key, 0), 1);
  assert.equal((bare.readSysreg(SYSREG_BY_NAME.get('ID_AA64PFR0_EL1')!.key)! >> 24n) & 0xfn, 0n);
});

test('two vCPUs on one thread: CPU 0 sends an SGI, CPU 1 waiting in WFI takes the IRQ', () => {
  const { vm, vcpus } = machine(2);
  const ram = new Uint8Array(vm.memory.buffer, vm.slots[0].wasm, 4 << 20);
  // CPU 1: enables its interface, unmasks IRQs, waits; its IRQ vector acknowledges and stops
  const secondary = assemble(`
    adr x0, vectors
    msr vbar_el1, x0
    mov x0, #0xf0
    msr icc_pmr_el1, x0
    mov x0, #1
    msr icc_igrpen1_el1, x0
    isb
    msr daifclr, #2
  1: wfi
    b 1b
    .balign 0x800
  vectors:
    .skip 0x280
    mrs x1, icc_iar1_el1
    msr icc_eoir1_el1, x1
    brk #1
  `);
  // CPU 0: sets up the distributor and CPU 1's redistributor, then sends SGI 7 to CPU 1
  const primary = assemble(`
    movz x2, #0x0800, lsl #16
    mov w0, #0x13
    str w0, [x2]                 // GICD_CTLR
    movz x3, #0x080c, lsl #16    // CPU 1's RD_base
    str wzr, [x3, #0x14]         // GICR_WAKER: awake
    add x4, x3, #0x10000         // SGI_base
    mov w0, #-1
    str w0, [x4, #0x80]          // IGROUPR0: group 1
    mov w0, #0xffff
    str w0, [x4, #0x100]         // ISENABLER0: SGIs
  2: ldr w0, [x9]                // wait until CPU 1 says it is ready
    cbz w0, 2b
    movz x0, #0x0700, lsl #16    // SGI 7
    movk x0, #2                  // TargetList = Aff0 1
    msr icc_sgi1r_el1, x0
    isb
    brk #0
  `);
  ram.set(primary, 0x10000);
  ram.set(secondary, 0x20000);
  const [v0, v1] = vcpus;
  for (const v of vcpus) v.setGuestDebug(true);
  v0.pc = BigInt(RAM + 0x10000);
  v0.setReg(9, BigInt(RAM + 0x30000));
  v1.pc = BigInt(RAM + 0x20000);
  // Round-robin on one thread like the VMM: CPU 1 runs until it halts, then says it is ready
  let e1 = v1.run();
  assert.equal(e1.reason, 'hlt');
  ram[0x30000] = 1;
  const e0 = v0.run();
  assert.equal(e0.reason, 'debug', `CPU 0 stopped at ${v0.pc.toString(16)}: ${JSON.stringify(e0)}`);
  assert.equal(v1.cpu.halted, false, 'the SGI woke CPU 1');
  e1 = v1.run();
  assert.equal(e1.reason, 'debug');
  assert.equal(v1.getReg(1), 7n, 'ICC_IAR1_EL1 on CPU 1 returned SGI 7');
  assert.equal(v1.cpu.reg('ESR_EL1') >> 26n, 0n);
  assert.equal(v1.cpu.irqLine, false, 'EOI deactivated it');
});
