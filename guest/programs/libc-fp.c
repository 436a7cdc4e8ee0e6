// A statically linked glibc program for the guest-program tests
// (test/guest-programs.test.ts): glibc's AArch64 string functions (which use
// Advanced SIMD and unaligned tricks: LD1/CMEQ/UMAXP/ADDP, LDP Q, DC ZVA in
// memset), printf of doubles (glibc's exact binary-to-decimal code, %a, edge
// values) and -O3 vectorised loops. Its output is compared byte for byte with
// the same binary under qemu-aarch64 (user mode), so every line is computed,
// never an address or a time.
//   aarch64-linux-gnu-gcc -O3 -static -o libc-fp libc-fp.c -lm
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t seed = 0x9E3779B97F4A7C15ULL;
static uint64_t next_random(void) {
  seed ^= seed >> 12; seed ^= seed << 25; seed ^= seed >> 27;
  return seed * 0x2545F4914F6CDD1DULL;
}
static uint64_t hash = 1469598103934665603ULL; /* FNV-1a over every result */
static void fold(uint64_t v) { for (int i = 0; i < 8; i++) { hash ^= (v >> (8 * i)) & 0xff; hash *= 1099511628211ULL; } }
static void fold_bytes(const unsigned char *p, size_t n) { for (size_t i = 0; i < n; i++) { hash ^= p[i]; hash *= 1099511628211ULL; } }

/* Buffers with slack so tests can start at every alignment and look past the end. */
#define BUF 4096
static unsigned char src[BUF + 64] __attribute__((aligned(64)));
static unsigned char dst[BUF + 64] __attribute__((aligned(64)));
static unsigned char ref[BUF + 64] __attribute__((aligned(64)));

/* Sizes around the thresholds glibc's implementations switch strategy at (16, 32, 64, 128, 256 and large). */
static const size_t sizes[] = { 0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 96, 127, 128, 129,
                                255, 256, 257, 511, 1000, 1024, 2047, 3000, 4000 };
#define NSIZES (sizeof sizes / sizeof sizes[0])

static int failures;
static void check(int ok, const char *what, size_t size, int align) {
  if (!ok && failures++ < 20) printf("MISMATCH %s size %zu align %d\n", what, size, align);
}

static void string_tests(void) {
  for (size_t i = 0; i < sizeof src; i++) src[i] = (unsigned char)next_random();
  /* memcpy and memset at every source/destination alignment mod 16, against byte loops */
  for (size_t s = 0; s < NSIZES; s++)
    for (int a = 0; a < 16; a++) {
      size_t n = sizes[s]; int b = (a * 7) & 15;
      memset(dst, 0xAA, sizeof dst); memset(ref, 0xAA, sizeof ref);
      memcpy(dst + a, src + b, n);
      for (size_t i = 0; i < n; i++) ((volatile unsigned char *)ref)[a + i] = src[b + i];
      check(memcmp(dst, ref, sizeof dst) == 0, "memcpy", n, a);
      memset(dst + b, a * 17, n);
      for (size_t i = 0; i < n; i++) ((volatile unsigned char *)ref)[b + i] = (unsigned char)(a * 17);
      for (size_t i = 0; i < n; i++) ((volatile unsigned char *)ref)[a + i] = ((volatile unsigned char *)dst)[a + i];
      check(memcmp(dst, ref, sizeof dst) == 0, "memset", n, a);
      fold_bytes(dst, sizeof dst);
    }
  /* memmove with overlap in both directions */
  for (size_t s = 0; s < NSIZES; s++)
    for (int shift = -9; shift <= 9; shift += 3) {
      size_t n = sizes[s];
      if (n + 32 > BUF) continue;
      memcpy(dst, src, BUF); memcpy(ref, src, BUF);
      memmove(dst + 16 + shift, dst + 16, n);
      for (size_t i = n; i-- > 0;) if (shift > 0) ((volatile unsigned char *)ref)[16 + shift + i] = src[16 + i];
      for (size_t i = 0; i < n; i++) if (shift <= 0) ((volatile unsigned char *)ref)[16 + shift + i] = src[16 + i];
      check(memcmp(dst, ref, BUF) == 0, "memmove", n, shift);
      fold_bytes(dst, 64 + n);
    }
  /* strlen / strchr / strrchr / memchr / strcmp / strncmp on strings at every alignment, the terminator
     and the searched byte near the 16-byte and page-crossing boundaries the SIMD loops care about */
  for (size_t s = 0; s < NSIZES; s++)
    for (int a = 0; a < 16; a++) {
      size_t n = sizes[s];
      char *str = (char *)dst + a;
      for (size_t i = 0; i < n; i++) str[i] = (char)('a' + (i * 7 + a) % 26);
      str[n] = 0;
      char *copy = (char *)ref + ((a + 5) & 15);
      strcpy(copy, str);
      size_t len = strlen(str);
      char *c = strchr(str, 'z'), *r = strrchr(str, 'q'), *m = memchr(str, 'k', n);
      int eq = strcmp(str, copy), nul = strchr(str, 0) == str + n;
      int lt = 0, gt = 0;
      if (n) { copy[n - 1]++; lt = strcmp(str, copy) < 0; gt = strncmp(copy, str, n) > 0; copy[n - 1]--; }
      check(len == n && eq == 0 && nul && (n == 0 || (lt && gt)), "strlen/strcmp", n, a);
      printf("%s%zu:%td:%td:%td", a ? "," : "str ", len, c ? c - str : -1, r ? r - str : -1, m ? m - str : -1);
      if (a == 15) printf("\n");
      fold(len);
    }
  printf("string tests: %d mismatches, hash %016llx\n", failures, (unsigned long long)hash);
}

static void printf_tests(void) {
  static const double values[] = { 0.1, 0.5, 1.0 / 3, 2.0 / 3, 1e300, -1e-300, 123456789.125, 1e22, 1e23, 9007199254740993.0,
                                   DBL_MAX, DBL_MIN, DBL_TRUE_MIN, 4.9406564584124654e-324 * 3, 2.2250738585072009e-308,
                                   -0.0, 0.0, INFINITY, -INFINITY, NAN, -NAN, M_PI, M_E, 0.05, 2.5, 3.5, -2.5, 1e-5, 123.456e-10 };
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
    double v = values[i];
    printf("%.17g | %f | %e | %g | %a | %.3f | %12.4e | %-10.2g| %+.0f | %.20e\n", v, v, v, v, v, v, v, v, v, v);
  }
  printf("%.1000f\n", DBL_TRUE_MIN); /* every digit of the smallest denormal's exact value */
  printf("%Lf %Le %La\n", 1.0L / 3, 1e4000L, 0.1L); /* 128-bit long double: glibc's soft-fp in libc */
  float f = 16777217.0f;
  printf("%f %a %g\n", (double)f, (double)1.1f, (double)FLT_MIN);
  /* round trip through strtod for random bit patterns (normal, denormal, huge) */
  unsigned ok = 0, total = 0;
  char buf[64];
  for (int i = 0; i < 2000; i++) {
    uint64_t bits = next_random();
    double d; memcpy(&d, &bits, 8);
    if (isnan(d)) continue;
    total++;
    snprintf(buf, sizeof buf, "%.17g", d);
    double back = strtod(buf, NULL);
    ok += memcmp(&back, &d, 8) == 0;
    fold_bytes((const unsigned char *)buf, strlen(buf));
  }
  printf("strtod round trip: %u of %u, hash %016llx\n", ok, total, (unsigned long long)hash);
}

/* -O3 vectorised loops; results printed with %a (exact) and as hashes */
#define N 1024
static float fa[N], fb[N], fc[N];
static double da[N], db[N];
static int32_t ia[N], ib[N];
static uint8_t ua[N], ub[N];

__attribute__((noinline)) static void saxpy(float a, float *restrict y, const float *restrict x) {
  for (int i = 0; i < N; i++) y[i] = a * x[i] + y[i];
}
__attribute__((noinline)) static double dot(const double *restrict x, const double *restrict y) {
  double s0 = 0, s1 = 0; /* two chains: vectorisable without reassociating a single sum */
  for (int i = 0; i < N; i += 2) { s0 += x[i] * y[i]; s1 += x[i + 1] * y[i + 1]; }
  return s0 + s1;
}
__attribute__((noinline)) static void int_ops(void) {
  for (int i = 0; i < N; i++) ia[i] = (ia[i] * 3 + (ib[i] >> 2)) ^ (ib[i] < 0 ? -ia[i] : ia[i] / 4);
  for (int i = 0; i < N; i++) ua[i] = (uint8_t)((ua[i] + ub[i] + 1) >> 1) > 100 ? ua[i] - ub[i] : ua[i] | ub[i];
}
__attribute__((noinline)) static void float_math(void) {
  for (int i = 0; i < N; i++) fc[i] = sqrtf(fabsf(fa[i])) + fminf(fa[i], fb[i]) * fmaxf(fa[i], -fb[i]) / (1.0f + fb[i] * fb[i]);
  for (int i = 0; i < N; i++) db[i] = (double)fc[i] * da[i] + floor(da[i] * 8) - rint(db[i]);
  for (int i = 0; i < N; i++) ib[i] = (int32_t)(fc[i] * 1000.0f) + lrint(da[i] * 100);
}

static void loop_tests(void) {
  for (int i = 0; i < N; i++) {
    fa[i] = (float)((int64_t)next_random() >> 40) / 1e6f;
    fb[i] = (float)((int64_t)next_random() >> 44) / 1e5f;
    da[i] = (double)(int64_t)next_random() / 1e18;
    db[i] = (double)(int64_t)next_random() / 1e17;
    ia[i] = (int32_t)next_random(); ib[i] = (int32_t)next_random();
    ua[i] = (uint8_t)next_random(); ub[i] = (uint8_t)next_random();
  }
  for (int r = 0; r < 20; r++) {
    saxpy(0.5f + r * 0.01f, fc, fa);
    float_math();
    int_ops();
  }
  printf("dot %a sum-check %a\n", dot(da, db), dot(db, db));
  fold_bytes((const unsigned char *)fc, sizeof fc); printf("float %016llx", (unsigned long long)hash);
  fold_bytes((const unsigned char *)db, sizeof db); printf(" double %016llx", (unsigned long long)hash);
  fold_bytes((const unsigned char *)ib, sizeof ib); fold_bytes((const unsigned char *)ia, sizeof ia);
  fold_bytes(ua, sizeof ua); printf(" int %016llx\n", (unsigned long long)hash);
  printf("libm: %a %a %a %a %a %a\n", exp(1.5), log(10.0), sin(1e6), cos(0.5), pow(2.5, 13.25), atan2(-1.0, -3.0));
}

int main(void) {
  printf("libc-fp start\n");
  string_tests();
  printf_tests();
  loop_tests();
  printf("libc-fp done: %s\n", failures ? "FAILURES" : "ok");
  return failures != 0;
}
