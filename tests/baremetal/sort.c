// Sorting: quicksort, merge sort, heap sort and insertion sort on
// pseudo-random data, checked against each other.
#include "lib.h"

#define N 2000
static int64_t a[N], b[N], c[N], tmp[N];

static void quicksort(int64_t *v, long lo, long hi) {
  while (lo < hi) {
    int64_t p = v[(lo + hi) / 2];
    long i = lo, j = hi;
    while (i <= j) {
      while (v[i] < p) i++;
      while (v[j] > p) j--;
      if (i <= j) { int64_t t = v[i]; v[i] = v[j]; v[j] = t; i++; j--; }
    }
    if (j - lo < hi - i) { quicksort(v, lo, j); lo = i; } else { quicksort(v, i, hi); hi = j; }
  }
}
static void mergesort_(int64_t *v, long n) {
  if (n < 2) return;
  long h = n / 2;
  mergesort_(v, h); mergesort_(v + h, n - h);
  long i = 0, j = h, k = 0;
  while (i < h && j < n) tmp[k++] = v[i] <= v[j] ? v[i++] : v[j++];
  while (i < h) tmp[k++] = v[i++];
  while (j < n) tmp[k++] = v[j++];
  for (k = 0; k < n; k++) v[k] = tmp[k];
}
static void sift(int64_t *v, long i, long n) {
  for (;;) {
    long m = i, l = 2 * i + 1, r = l + 1;
    if (l < n && v[l] > v[m]) m = l;
    if (r < n && v[r] > v[m]) m = r;
    if (m == i) return;
    int64_t t = v[i]; v[i] = v[m]; v[m] = t; i = m;
  }
}
static void heapsort_(int64_t *v, long n) {
  for (long i = n / 2 - 1; i >= 0; i--) sift(v, i, n);
  for (long i = n - 1; i > 0; i--) { int64_t t = v[0]; v[0] = v[i]; v[i] = t; sift(v, 0, i); }
}
static void insertion(uint16_t *v, int n) {
  for (int i = 1; i < n; i++) { uint16_t x = v[i]; int j = i - 1; while (j >= 0 && v[j] > x) { v[j + 1] = v[j]; j--; } v[j + 1] = x; }
}

int main(void) {
  printf("sort test at EL%lu\n", current_el());
  uint64_t seed = 0x1234567;
  for (int round = 0; round < 4; round++) {
    for (int i = 0; i < N; i++) {
      int64_t v = (int64_t)rng_next(&seed);
      if (round == 1) v %= 50; /* many duplicates */
      if (round == 2) v = i * 3 - 1000; /* already sorted */
      if (round == 3) v = N - i; /* reversed */
      a[i] = b[i] = c[i] = v;
    }
    quicksort(a, 0, N - 1);
    mergesort_(b, N);
    heapsort_(c, N);
    int sorted = 1, same = 1;
    uint64_t h = 0;
    for (int i = 0; i < N; i++) {
      if (i && a[i - 1] > a[i]) sorted = 0;
      if (a[i] != b[i] || a[i] != c[i]) same = 0;
      h = h * 31 + (uint64_t)a[i];
    }
    printf("round %d: sorted=%d agree=%d min=%ld max=%ld median=%ld hash=%016lx\n", round, sorted, same, a[0], a[N - 1], a[N / 2], h);
  }
  uint16_t small[300];
  for (int i = 0; i < 300; i++) small[i] = (uint16_t)rng_next(&seed);
  insertion(small, 300);
  uint32_t h16 = 0;
  for (int i = 0; i < 300; i++) h16 = h16 * 33 + small[i];
  printf("insertion: first=%u last=%u hash=%08x\n", small[0], small[299], h16);
  return 0;
}
