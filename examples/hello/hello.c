/*
 * Bare-metal hello world for the `virt` board (armvirt or QEMU):
 * prints through the PL011 UART at 0x09000000, checks the device tree the
 * boot loader passed in x0 and reads the PL031 RTC, then returns the PSCI
 * SYSTEM_OFF function ID for start.S to call.
 *   armvirt run --kernel hello.elf
 *   qemu-system-aarch64 -M virt -cpu cortex-a57 -nographic -kernel hello.elf
 */
#include <stdint.h>

#define UART_BASE 0x09000000UL
#define UART_DR   0x000
#define UART_FR   0x018
#define UART_FR_TXFF (1u << 5)
#define RTC_DR    0x09010000UL
#define PSCI_SYSTEM_OFF 0x84000008u
#define FDT_MAGIC 0xd00dfeedu

static inline uint32_t mmio_read(uintptr_t addr) { return *(volatile uint32_t *)addr; }
static inline void mmio_write(uintptr_t addr, uint32_t v) { *(volatile uint32_t *)addr = v; }

static void putc_uart(char c) {
	while (mmio_read(UART_BASE + UART_FR) & UART_FR_TXFF) {}
	mmio_write(UART_BASE + UART_DR, (uint32_t)c);
}

static void puts_uart(const char *s) {
	for (; *s; s++) {
		if (*s == '\n') putc_uart('\r');
		putc_uart(*s);
	}
}

static void puthex(uint64_t v) {
	puts_uart("0x");
	for (int shift = 60; shift >= 0; shift -= 4) putc_uart("0123456789abcdef"[(v >> shift) & 0xf]);
}

static uint32_t be32(const void *p) {
	const uint8_t *b = p;
	return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

uint32_t main(uint64_t dtb) {
	uint64_t el;
	__asm__ volatile("mrs %0, CurrentEL" : "=r"(el));
	puts_uart("Hello from armvirt!\n");
	puts_uart("running at EL");
	putc_uart((char)('0' + ((el >> 2) & 3)));
	puts_uart(", device tree at ");
	puthex(dtb);
	if (dtb && be32((const void *)dtb) == FDT_MAGIC) {
		puts_uart(" (valid, ");
		puthex(be32((const uint8_t *)dtb + 4));
		puts_uart(" bytes)\n");
	} else {
		puts_uart(" (no device tree)\n");
	}
	puts_uart("RTC says ");
	puthex(mmio_read(RTC_DR));
	puts_uart(" seconds since 1970\n");
	puts_uart("powering off\n");
	return PSCI_SYSTEM_OFF;
}
