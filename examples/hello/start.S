// Entry point of the bare-metal hello-world: set up a stack below the
// program, keep x0 (the DTB address the boot loader passes, as for Linux),
// run main, then power off through PSCI SYSTEM_OFF. The PSCI conduit is SMC
// when running at EL2 (virtualization on; HVC would trap to ourselves) and
// HVC at EL1, which is what the device tree's /psci/method says as well.
	.section .text.boot, "ax"
	.global _start
_start:
	ldr	x1, =stack_top
	mov	sp, x1
	bl	main			// main(dtb) returns the PSCI function to call
	mrs	x1, CurrentEL
	lsr	x1, x1, #2
	cmp	x1, #2
	b.eq	1f
	hvc	#0
	b	2f
1:	smc	#0
2:	wfi				// SYSTEM_OFF does not return; if it does, wait
	b	2b
