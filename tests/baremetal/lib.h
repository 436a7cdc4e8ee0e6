// A tiny freestanding runtime for the bare-metal tests: PL011 output, printf, PSCI exit.
#pragma once
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define UART_BASE 0x09000000UL
#define PSCI_SYSTEM_OFF 0x84000008UL

long psci_call(unsigned long fn, unsigned long a1, unsigned long a2, unsigned long a3);
unsigned long current_el(void);
void putchar_uart(int c);
void puts_uart(const char *s);
int printf(const char *fmt, ...);
void exit(int code) __attribute__((noreturn));

void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* Deterministic PRNG shared by the tests (xorshift64*). */
static inline uint64_t rng_next(uint64_t *s) {
  uint64_t x = *s;
  x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
  *s = x;
  return x * 0x2545F4914F6CDD1DULL;
}

#define read_sysreg(r) ({ uint64_t __v; __asm__ volatile("mrs %0, " #r : "=r"(__v)); __v; })
#define write_sysreg(r, v) __asm__ volatile("msr " #r ", %0" :: "r"((uint64_t)(v)) : "memory")
