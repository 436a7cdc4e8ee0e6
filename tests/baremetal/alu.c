// Integer arithmetic and logic as the compiler emits it: add/sub with carry,
// multiply (low/high), divide, shifts, bit tricks, conditional select.
#include "lib.h"

static uint64_t hash = 0xcbf29ce484222325ULL;
static void mix(const char *what, uint64_t v) {
  hash = (hash ^ v) * 0x100000001b3ULL;
  printf("%-10s %016lx\n", what, v);
}

static const uint64_t values[] = {
  0, 1, 2, 3, 7, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ULL,
  0x7fffffffffffffffULL, 0x8000000000000000ULL, 0xffffffffffffffffULL, 0x123456789abcdef0ULL, 0xfedcba9876543210ULL,
  (uint64_t)-2, (uint64_t)-3, (uint64_t)-1000, 1000, 65537, 0x5555555555555555ULL, 0xaaaaaaaaaaaaaaaaULL,
};
#define N (sizeof(values) / sizeof(values[0]))

/* Not __builtin_popcountll: libgcc's version uses the SIMD CNT instruction. */
static uint64_t popcount64(uint64_t v) {
  v = v - ((v >> 1) & 0x5555555555555555ULL);
  v = (v & 0x3333333333333333ULL) + ((v >> 2) & 0x3333333333333333ULL);
  v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
  return (v * 0x0101010101010101ULL) >> 56;
}

__attribute__((noinline)) static uint64_t opaque(uint64_t v) { __asm__ volatile("" : "+r"(v)); return v; }

int main(void) {
  printf("alu test at EL%lu\n", current_el());
  for (unsigned i = 0; i < N; i++) {
    for (unsigned j = 0; j < N; j += 3) {
      uint64_t a = opaque(values[i]), b = opaque(values[(i + j) % N]);
      int64_t sa = (int64_t)a, sb = (int64_t)b;
      uint32_t a32 = (uint32_t)a, b32 = (uint32_t)b;
      int32_t sa32 = (int32_t)a32, sb32 = (int32_t)b32;
      printf("a=%lx b=%lx\n", a, b);
      mix("add", a + b);
      mix("sub", a - b);
      mix("mul", a * b);
      mix("umulh", (uint64_t)(((unsigned __int128)a * b) >> 64));
      mix("smulh", (uint64_t)(((__int128)sa * sb) >> 64));
      mix("mul32", (uint64_t)(a32 * b32));
      mix("smull", (uint64_t)((int64_t)sa32 * sb32));
      mix("udiv", b ? a / b : 0);
      mix("urem", b ? a % b : 0);
      mix("sdiv", (sb && !(sa == INT64_MIN && sb == -1)) ? (uint64_t)(sa / sb) : 0);
      mix("srem", (sb && !(sa == INT64_MIN && sb == -1)) ? (uint64_t)(sa % sb) : 0);
      mix("udiv32", b32 ? a32 / b32 : 0);
      mix("sdiv32", (sb32 && !(sa32 == INT32_MIN && sb32 == -1)) ? (uint64_t)(int64_t)(sa32 / sb32) : 0);
      mix("shl", a << (b & 63));
      mix("lsr", a >> (b & 63));
      mix("asr", (uint64_t)(sa >> (b & 63)));
      mix("ror", (a >> (b & 63)) | (a << ((64 - (b & 63)) & 63)));
      mix("lsl32", (uint64_t)(a32 << (b & 31)));
      mix("asr32", (uint64_t)(int64_t)(sa32 >> (b & 31)));
      mix("and/orr", (a & b) ^ (a | ~b));
      mix("cmp", ((sa < sb) << 3) | ((a < b) << 2) | ((sa32 > sb32) << 1) | (a32 >= b32));
      mix("csel", sa > sb ? a - 7 : b + 9);
      mix("clz", a ? (uint64_t)__builtin_clzll(a) : 64);
      mix("ctz", a ? (uint64_t)__builtin_ctzll(a) : 64);
      mix("clz32", a32 ? (uint64_t)__builtin_clz(a32) : 32);
      mix("rev", __builtin_bswap64(a));
      mix("rev32", __builtin_bswap32(a32));
      mix("popcnt", popcount64(a ^ b));
      mix("bitfld", ((a >> 13) & 0x1fff) | ((b & 0xff) << 40));
      mix("sext", (uint64_t)(int64_t)(int8_t)a + (uint64_t)(int64_t)(int16_t)b);
      uint64_t sum;
      mix("addovf", (uint64_t)__builtin_add_overflow(sa, sb, (int64_t *)&sum) + sum);
      mix("subovf", (uint64_t)__builtin_sub_overflow(a, b, &sum) + sum);
      mix("mulovf", (uint64_t)__builtin_mul_overflow(sa32, sb32, (int32_t *)&sum) + (sum & 0xffffffff));
      unsigned __int128 wide = ((unsigned __int128)a << 64 | b) + ((unsigned __int128)b << 64 | a);
      mix("add128", (uint64_t)(wide >> 64) ^ (uint64_t)wide);
    }
  }
  printf("hash %016lx\n", hash);
  return 0;
}
