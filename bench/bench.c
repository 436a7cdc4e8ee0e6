// CPU-bound benchmark for armvirt vs QEMU: integer hashing, CRC32 (table and
// the CRC32 instructions), sorting, and a data-dependent random walk over a
// 16 MiB array (soft-TLB and cache-unfriendly loads). Prints checksums so both
// emulators can be checked to compute the same thing.
// SCALE (compile time) sets the amount of work: about 6.6 million
// instructions per unit plus 24 million of set-up; 150 (the Makefile's full
// build) is about 1e9.
#include "../tests/baremetal/lib.h"
#include <arm_acle.h>

#ifndef SCALE
#define SCALE 150
#endif

static uint32_t crc_table[256];
static uint8_t buffer[64 * 1024];
#define WALK_WORDS (2 * 1024 * 1024) /* 16 MiB of uint64_t */
static uint64_t walk[WALK_WORDS];
#define SORT_N 4096
static uint32_t sort_a[SORT_N];

static void crc_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
}
static uint32_t crc_soft(uint32_t crc, const uint8_t *p, size_t n) {
  crc = ~crc;
  while (n--) crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return ~crc;
}
static uint32_t crc_hw(uint32_t crc, const uint8_t *p, size_t n) {
  crc = ~crc;
  const uint64_t *q = (const uint64_t *)p;
  for (size_t i = 0; i < n / 8; i++) crc = __crc32d(crc, q[i]);
  return ~crc;
}
/* A murmur/xxhash-style 64-bit mixing hash. */
static uint64_t hash64(const uint8_t *p, size_t n, uint64_t seed) {
  uint64_t h = seed ^ (n * 0x9E3779B97F4A7C15ULL);
  const uint64_t *q = (const uint64_t *)p;
  for (size_t i = 0; i < n / 8; i++) {
    uint64_t k = q[i] * 0x87C37B91114253D5ULL;
    k = (k << 31) | (k >> 33);
    h ^= k * 0x4CF5AD432745937FULL;
    h = ((h << 27) | (h >> 37)) * 5 + 0x52DCE729;
  }
  h ^= h >> 33; h *= 0xff51afd7ed558ccdULL; h ^= h >> 33;
  return h;
}
static void shell_sort(uint32_t *v, int n) {
  static const int gaps[] = { 701, 301, 132, 57, 23, 10, 4, 1 };
  for (int g = 0; g < 8; g++) {
    int gap = gaps[g];
    for (int i = gap; i < n; i++) {
      uint32_t x = v[i]; int j = i;
      while (j >= gap && v[j - gap] > x) { v[j] = v[j - gap]; j -= gap; }
      v[j] = x;
    }
  }
}

int main(void) {
  uint64_t seed = 0x0123456789abcdefULL;
  for (size_t i = 0; i < sizeof buffer; i++) buffer[i] = (uint8_t)rng_next(&seed);
  crc_init();
  printf("bench SCALE=%d at EL%lu\n", SCALE, current_el());

  uint32_t crc = 0, crc2 = 0;
  uint64_t h = 0;
  for (int r = 0; r < SCALE * 8; r++) {
    crc = crc_soft(crc, buffer, 16 * 1024);        /* ~7 insns/byte */
    crc2 = crc_hw(crc2, buffer, sizeof buffer);     /* CRC32X */
    h ^= hash64(buffer, sizeof buffer, (uint64_t)r);
  }
  printf("crc32 table %08x, crc32 insn %08x, hash %016lx\n", crc, crc2, h);

  uint64_t sorted_sum = 0;
  for (int r = 0; r < SCALE; r++) {
    for (int i = 0; i < SORT_N; i++) sort_a[i] = (uint32_t)rng_next(&seed);
    shell_sort(sort_a, SORT_N);
    sorted_sum += sort_a[SORT_N / 2] ^ sort_a[r % SORT_N];
  }
  printf("sort checksum %016lx\n", sorted_sum);

  /* Random walk: each step's address depends on the value loaded before. */
  for (size_t i = 0; i < WALK_WORDS; i++) walk[i] = rng_next(&seed);
  uint64_t idx = 0, acc = 0;
  for (long step = 0; step < (long)SCALE * 400000; step++) {
    uint64_t v = walk[idx];
    acc += v ^ (uint64_t)step;
    walk[idx] = v + acc;
    idx = (v ^ (acc >> 7)) & (WALK_WORDS - 1);
  }
  printf("walk checksum %016lx\n", acc);
  return 0;
}
