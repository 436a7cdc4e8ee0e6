// Entry point of the FP/SIMD benchmark (linked with -e fp_start, ahead of
// tests/baremetal/crt0.S's _start): enables FP/SIMD for the current exception
// level before any FP instruction runs, since the compiler may use SIMD
// registers anywhere (vectorised loops, printf's va_start, struct copies).
//   EL2: CPTR_EL2 (E2H=0 layout) = RES1 bits 13:12 and 9:0, TFP (bit 10) = 0,
//        TTA/TCPAC = 0: nothing traps to EL2.
//   EL1 (and for EL2's sake too, harmless): CPACR_EL1.FPEN (bits 21:20) = 0b11, no trap at EL1/EL0.
    .section .text.boot, "ax"
    .globl fp_start
fp_start:
    mrs x0, CurrentEL
    cmp x0, #(2 << 2)
    b.ne 1f
    mov x1, #0x33ff
    msr cptr_el2, x1
1:  mov x1, #(3 << 20)
    msr cpacr_el1, x1
    isb
    b _start
