#include "lib.h"

static volatile uint32_t *const uart = (volatile uint32_t *)UART_BASE;

void putchar_uart(int c) {
  while (uart[0x18 / 4] & (1 << 5)) {} /* FR.TXFF: transmit FIFO full */
  uart[0] = (uint32_t)c;
}

void puts_uart(const char *s) { while (*s) putchar_uart(*s++); }

static void put_unsigned(uint64_t v, unsigned base, int width, char pad, int upper) {
  char buf[24];
  int n = 0;
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  do { buf[n++] = digits[v % base]; v /= base; } while (v);
  while (n < width) buf[n++] = pad;
  while (n) putchar_uart(buf[--n]);
}

/* printf subset: %d %i %u %x %X %c %s %p %%, flags '0' and '-', width, length l/ll/z. */
int printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  for (; *fmt; fmt++) {
    if (*fmt != '%') { putchar_uart(*fmt); continue; }
    fmt++;
    char pad = ' ';
    int left = 0, width = 0, lng = 0;
    for (;; fmt++) {
      if (*fmt == '0') pad = '0';
      else if (*fmt == '-') left = 1;
      else break;
    }
    while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
    while (*fmt == 'l' || *fmt == 'z') { lng = 1; fmt++; }
    switch (*fmt) {
      case 'd': case 'i': {
        int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
        if (v < 0) { putchar_uart('-'); v = -v; if (width) width--; }
        put_unsigned((uint64_t)v, 10, width, pad, 0);
        break;
      }
      case 'u': put_unsigned(lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, width, pad, 0); break;
      case 'x': case 'X': put_unsigned(lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, width, pad, *fmt == 'X'); break;
      case 'p': puts_uart("0x"); put_unsigned((uint64_t)va_arg(ap, void *), 16, 16, '0', 0); break;
      case 'c': putchar_uart(va_arg(ap, int)); break;
      case 's': {
        const char *s = va_arg(ap, const char *);
        int len = (int)strlen(s);
        if (!left) for (int i = len; i < width; i++) putchar_uart(' ');
        puts_uart(s);
        if (left) for (int i = len; i < width; i++) putchar_uart(' ');
        break;
      }
      case '%': putchar_uart('%'); break;
      default: putchar_uart('?'); break;
    }
  }
  va_end(ap);
  return 0;
}

void exit(int code) {
  printf("[exit %d]\n", code);
  psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);
  for (;;) __asm__ volatile("wfi");
}

/* The compiler may emit calls to these even with -ffreestanding. */
void *memcpy(void *d, const void *s, size_t n) {
  unsigned char *dp = d; const unsigned char *sp = s;
  while (n--) *dp++ = *sp++;
  return d;
}
void *memmove(void *d, const void *s, size_t n) {
  unsigned char *dp = d; const unsigned char *sp = s;
  if (dp < sp) while (n--) *dp++ = *sp++;
  else while (n--) dp[n] = sp[n];
  return d;
}
void *memset(void *d, int c, size_t n) {
  unsigned char *dp = d;
  while (n--) *dp++ = (unsigned char)c;
  return d;
}
int memcmp(const void *a, const void *b, size_t n) {
  const unsigned char *x = a, *y = b;
  for (; n; n--, x++, y++) if (*x != *y) return *x - *y;
  return 0;
}
size_t strlen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }

/* Tests that expect exceptions provide their own; anything else taking one is a failure. */
__attribute__((weak)) void exc_dispatch(uint64_t kind, void *frame) {
  (void)frame;
  printf("unexpected exception kind=%lu\n", kind);
  exit(1);
}
