// Load/store exclusive and atomics (LL/SC: this is ARMv8.0, no LSE).
#include "lib.h"

static uint8_t b8; static uint16_t h16; static uint32_t w32; static uint64_t x64;
static __attribute__((aligned(16))) uint64_t pair[2];

static inline unsigned stxr_without_ldxr(uint64_t *p, uint64_t v) {
  unsigned s;
  __asm__ volatile("clrex\n stxr %w0, %2, [%1]" : "=&r"(s) : "r"(p), "r"(v) : "memory");
  return s;
}

int main(void) {
  printf("exclusives test at EL%lu\n", current_el());
  /* Plain LDXR/STXR succeed when nothing intervenes. */
  uint64_t old, status;
  __asm__ volatile("ldxr %0, [%2]\n add %0, %0, #5\n stxr %w1, %0, [%2]" : "=&r"(old), "=&r"(status) : "r"(&x64) : "memory");
  printf("ldxr/stxr: status=%lu value=%lu\n", status, x64);
  printf("stxr without monitor: status=%u value=%lu\n", stxr_without_ldxr(&x64, 99), x64);
  __asm__ volatile("ldxr %0, [%2]\n clrex\n stxr %w1, %0, [%2]" : "=&r"(old), "=&r"(status) : "r"(&x64) : "memory");
  printf("clrex then stxr: status=%lu\n", status);
  /* Pair exclusives. */
  uint64_t lo, hi;
  pair[0] = 1; pair[1] = 2;
  __asm__ volatile("1: ldaxp %0, %1, [%3]\n add %0, %0, #10\n add %1, %1, #20\n stlxp %w2, %0, %1, [%3]\n cbnz %w2, 1b"
                   : "=&r"(lo), "=&r"(hi), "=&r"(status) : "r"(pair) : "memory");
  printf("ldaxp/stlxp: %lu %lu\n", pair[0], pair[1]);

  /* Compiler atomics of every size. */
  for (int i = 0; i < 1000; i++) {
    __atomic_fetch_add(&b8, 3, __ATOMIC_SEQ_CST);
    __atomic_fetch_sub(&h16, 7, __ATOMIC_ACQ_REL);
    __atomic_fetch_xor(&w32, (uint32_t)i * 2654435761u, __ATOMIC_RELAXED);
    __atomic_fetch_or(&x64, 1ULL << (i & 63), __ATOMIC_RELEASE);
  }
  printf("atomics: b8=%u h16=%u w32=%08x x64=%016lx\n", b8, h16, w32, x64);
  uint32_t expected = 5;
  int ok1 = __atomic_compare_exchange_n(&w32, &expected, 77, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  printf("cas mismatch: ok=%d expected=%08x\n", ok1, expected);
  int ok2 = __atomic_compare_exchange_n(&w32, &expected, 77, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  printf("cas match: ok=%d w32=%u\n", ok2, w32);
  printf("xchg: old=%016lx new=%lu\n", __atomic_exchange_n(&x64, 12345, __ATOMIC_SEQ_CST), x64);
  /* A spinlock. */
  static uint32_t lock;
  unsigned acquired = 0;
  for (int i = 0; i < 100; i++) {
    while (__atomic_exchange_n(&lock, 1, __ATOMIC_ACQUIRE)) {}
    acquired++;
    __atomic_store_n(&lock, 0, __ATOMIC_RELEASE);
  }
  printf("spinlock acquired %u times, lock=%u\n", acquired, lock);
  /* Load-acquire / store-release. */
  uint64_t v = 0;
  __asm__ volatile("stlr %1, [%2]\n ldar %0, [%2]" : "=&r"(v) : "r"(0xabcdef0123456789ULL), "r"(&x64) : "memory");
  printf("stlr/ldar: %016lx\n", v);
  return 0;
}
