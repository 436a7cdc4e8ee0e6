// Entry point: QEMU's -kernel (and armvirt's loader) jump here at EL2
// (virtualization=on) or EL1. Sets up a stack, clears .bss, calls main() and
// powers off through PSCI with main's return value already printed.
    .section .text.boot, "ax"
    .globl _start
_start:
    ldr x0, =__stack_top
    mov sp, x0
    ldr x0, =__bss_start
    ldr x1, =__bss_end
1:  cmp x0, x1
    b.hs 2f
    str xzr, [x0], #8
    b 1b
2:  bl main
    bl exit
3:  b 3b

// psci_call(fn, a1, a2, a3): SMC from EL2 (QEMU's conduit with virtualization=on), HVC from EL1.
    .text
    .globl psci_call
psci_call:
    mrs x9, CurrentEL
    cmp x9, #(2 << 2)
    b.eq 1f
    hvc #0
    ret
1:  smc #0
    ret

    .globl current_el
current_el:
    mrs x0, CurrentEL
    lsr x0, x0, #2
    ret
