// Exception vector table shared by the tests that take exceptions. Every
// entry saves the general registers in a frame and calls
// exc_dispatch(kind, frame); the handler may change frame->elr (stored back
// to ELR_ELx before ERET) to skip a faulting instruction.
    .text
    .macro ventry kind
    .balign 0x80
    sub sp, sp, #272
    stp x0, x1, [sp, #0]
    mov x0, #\kind
    b exc_common
    .endm

    .balign 0x800
    .globl exc_vectors
exc_vectors:
    ventry 0   // current EL, SP_EL0: sync
    ventry 1   // irq
    ventry 2   // fiq
    ventry 3   // serror
    ventry 4   // current EL, SP_ELx: sync
    ventry 5
    ventry 6
    ventry 7
    ventry 8   // lower EL, AArch64: sync
    ventry 9
    ventry 10
    ventry 11
    ventry 12  // lower EL, AArch32
    ventry 13
    ventry 14
    ventry 15

exc_common:
    stp x2, x3, [sp, #16]
    stp x4, x5, [sp, #32]
    stp x6, x7, [sp, #48]
    stp x8, x9, [sp, #64]
    stp x10, x11, [sp, #80]
    stp x12, x13, [sp, #96]
    stp x14, x15, [sp, #112]
    stp x16, x17, [sp, #128]
    stp x18, x19, [sp, #144]
    stp x20, x21, [sp, #160]
    stp x22, x23, [sp, #176]
    stp x24, x25, [sp, #192]
    stp x26, x27, [sp, #208]
    stp x28, x29, [sp, #224]
    mrs x2, CurrentEL
    cmp x2, #(2 << 2)
    b.eq 1f
    mrs x2, elr_el1
    b 2f
1:  mrs x2, elr_el2
2:  stp x30, x2, [sp, #240]
    mov x1, sp
    bl exc_dispatch
    ldr x2, [sp, #248]
    mrs x3, CurrentEL
    cmp x3, #(2 << 2)
    b.eq 1f
    msr elr_el1, x2
    b 2f
1:  msr elr_el2, x2
2:  ldp x2, x3, [sp, #16]
    ldp x4, x5, [sp, #32]
    ldp x6, x7, [sp, #48]
    ldp x8, x9, [sp, #64]
    ldp x10, x11, [sp, #80]
    ldp x12, x13, [sp, #96]
    ldp x14, x15, [sp, #112]
    ldp x16, x17, [sp, #128]
    ldp x18, x19, [sp, #144]
    ldp x20, x21, [sp, #160]
    ldp x22, x23, [sp, #176]
    ldp x24, x25, [sp, #192]
    ldp x26, x27, [sp, #208]
    ldp x28, x29, [sp, #224]
    ldr x30, [sp, #240]
    ldp x0, x1, [sp, #0]
    add sp, sp, #272
    eret

    .globl install_vectors
install_vectors:
    adr x0, exc_vectors
    mrs x1, CurrentEL
    cmp x1, #(2 << 2)
    b.eq 1f
    msr vbar_el1, x0
    isb
    ret
1:  msr vbar_el2, x0
    isb
    ret
