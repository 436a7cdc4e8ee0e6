// Deep and branchy recursion: calls, returns, stack frames.
#include "lib.h"

__attribute__((noinline)) static uint64_t fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
__attribute__((noinline)) static uint64_t ack(uint64_t m, uint64_t n) {
  if (m == 0) return n + 1;
  if (n == 0) return ack(m - 1, 1);
  return ack(m - 1, ack(m, n - 1));
}
static unsigned moves;
static void hanoi(int n, int from, int to, int via) { if (!n) return; hanoi(n - 1, from, via, to); moves++; hanoi(n - 1, via, to, from); }
static int queens(int n, int row, uint32_t cols, uint32_t d1, uint32_t d2) {
  if (row == n) return 1;
  int count = 0;
  for (uint32_t avail = ~(cols | d1 | d2) & ((1u << n) - 1); avail; avail &= avail - 1) {
    uint32_t bit = avail & -avail;
    count += queens(n, row + 1, cols | bit, (d1 | bit) << 1, (d2 | bit) >> 1);
  }
  return count;
}
__attribute__((noinline)) static uint64_t depth(uint64_t n) { volatile uint64_t pad[4] = { n, n, n, n }; return n ? depth(n - 1) + pad[2] : 0; }
static int64_t gcd(int64_t a, int64_t b) { return b ? gcd(b, a % b) : a; }

int main(void) {
  printf("recursion test at EL%lu\n", current_el());
  for (unsigned n = 0; n <= 25; n += 5) printf("fib(%u) = %lu\n", n, fib(n));
  printf("ack(2,3) = %lu, ack(3,4) = %lu\n", ack(2, 3), ack(3, 4));
  hanoi(16, 1, 3, 2);
  printf("hanoi(16) moves = %u\n", moves);
  for (int n = 4; n <= 9; n++) printf("queens(%d) = %d\n", n, queens(n, 0, 0, 0, 0));
  printf("depth(5000) = %lu\n", depth(5000));
  printf("gcd = %ld %ld %ld\n", gcd(1071, 462), gcd(-48, 18), gcd(1LL << 40, 6LL << 20));
  return 0;
}
