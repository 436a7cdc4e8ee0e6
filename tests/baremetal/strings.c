// String and memory operations over buffers with every alignment.
#include "lib.h"

static char src[512], dst[512];

static int my_strcmp(const char *a, const char *b) {
  while (*a && *a == *b) { a++; b++; }
  return (unsigned char)*a - (unsigned char)*b;
}
static char *my_strcpy(char *d, const char *s) { char *r = d; while ((*d++ = *s++)) {} return r; }
static char *my_strchr(const char *s, int c) { for (; *s; s++) if (*s == c) return (char *)s; return c ? 0 : (char *)s; }
static uint32_t checksum(const void *p, size_t n) {
  const uint8_t *b = p; uint32_t a = 1, s = 0;
  for (size_t i = 0; i < n; i++) { a = (a + b[i]) % 65521; s = (s + a) % 65521; }
  return s << 16 | a;
}
static void reverse(char *s) { size_t n = strlen(s); for (size_t i = 0; i < n / 2; i++) { char t = s[i]; s[i] = s[n - 1 - i]; s[n - 1 - i] = t; } }
static int atoi_(const char *s) { int sign = 1, v = 0; if (*s == '-') { sign = -1; s++; } while (*s >= '0' && *s <= '9') v = v * 10 + (*s++ - '0'); return sign * v; }

int main(void) {
  printf("strings test at EL%lu\n", current_el());
  uint64_t seed = 42;
  for (int i = 0; i < 512; i++) src[i] = (char)(rng_next(&seed) & 0xff);
  for (int so = 0; so < 8; so++) {
    for (int d = 0; d < 8; d++) {
      memset(dst, 0x5a, sizeof dst);
      memcpy(dst + d, src + so, 200 + so * 3);
      printf("memcpy s+%d d+%d: %08x\n", so, d, checksum(dst, sizeof dst));
    }
  }
  memcpy(dst, src, 512);
  memmove(dst + 3, dst, 300);
  printf("memmove fwd: %08x\n", checksum(dst, sizeof dst));
  memmove(dst, dst + 7, 300);
  printf("memmove back: %08x\n", checksum(dst, sizeof dst));
  printf("memcmp: %d %d %d\n", memcmp(src, src, 100) == 0, memcmp(src, dst, 100) != 0, memcmp("abc", "abd", 3) < 0);

  const char *words[] = { "armvirt", "aarch64", "qemu", "kvm", "translate", "wasm", "", "a", "zebra", "Zebra" };
  for (unsigned i = 0; i < 10; i++) {
    for (unsigned j = 0; j < 10; j++) {
      int c = my_strcmp(words[i], words[j]);
      putchar_uart(c < 0 ? '<' : c > 0 ? '>' : '=');
    }
    printf("  %s (%lu)\n", words[i], strlen(words[i]));
  }
  char buf[64];
  my_strcpy(buf, "Hello, bare-metal world!");
  reverse(buf);
  printf("reversed: %s\n", buf);
  char *comma = my_strchr(buf, ',');
  printf("strchr: %ld\n", comma ? (long)(comma - buf) : -1L);
  printf("atoi: %d %d %d\n", atoi_("12345"), atoi_("-987"), atoi_("0"));
  printf("fmt: [%5d] [%-6s] [%06x] [%lu] [%c] [%x]\n", 42, "ab", 0xbeef, 18446744073709551615UL, 'Z', -1);
  return 0;
}
