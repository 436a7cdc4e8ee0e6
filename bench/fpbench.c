// Floating-point and Advanced SIMD benchmark for armvirt vs QEMU, built with
// -O3 so GCC vectorises the loops: saxpy and a float dot product (FMLA,
// reductions), a 64x64 double matrix multiply (FMLA .2d), an n-body step
// (FSQRT/FDIV, vector and scalar), a uint8 sum of absolute differences
// (UABD/UADALP), an int16 FIR filter (SMLAL) and int<->float conversions
// (SCVTF/FCVTZS/FCVTN). Each kernel prints a checksum of the bit patterns of
// its results in hex, so armvirt and QEMU can be checked to agree bit for bit
// without printing doubles bare-metal.
// SCALE (compile time) sets the amount of work; see bench/Makefile.
#include "../tests/baremetal/lib.h"

#ifndef SCALE
#define SCALE 40
#endif

#define ALIGNED __attribute__((aligned(64)))

/* Folds a 64-bit word into a running hash (order-sensitive). */
static inline uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v * 0x9E3779B97F4A7C15ULL;
  h = (h << 29) | (h >> 35);
  return h * 0xBF58476D1CE4E5B9ULL;
}
static uint64_t bits_f(float f) { union { float f; uint32_t u; } x = { f }; return x.u; }
static uint64_t bits_d(double d) { union { double d; uint64_t u; } x = { d }; return x.u; }
static uint64_t hash_floats(const float *v, int n) {
  uint64_t h = 0;
  for (int i = 0; i < n; i++) h = mix(h, bits_f(v[i]));
  return h;
}
static uint64_t hash_doubles(const double *v, int n) {
  uint64_t h = 0;
  for (int i = 0; i < n; i++) h = mix(h, bits_d(v[i]));
  return h;
}
/* A uniform double in [lo, hi) from the shared PRNG (exact: 53 random bits). */
static double uniform(uint64_t *seed, double lo, double hi) {
  return lo + (hi - lo) * (double)(rng_next(seed) >> 11) * 0x1p-53;
}

/* ---- saxpy and dot product over float arrays ---- */
#define VEC_N 4096
static float vx[VEC_N] ALIGNED, vy[VEC_N] ALIGNED;

static void __attribute__((noinline)) saxpby(float a, float b, const float *restrict x, float *restrict y, int n) {
  for (int i = 0; i < n; i++) y[i] = a * x[i] + b * y[i];
}
static float __attribute__((noinline)) sdot(const float *restrict x, const float *restrict y, int n) {
  float s = 0;
  for (int i = 0; i < n; i++) s += x[i] * y[i];
  return s;
}

/* ---- 64x64 double matrix multiply, i-k-j order so the inner loop is a vector FMA ---- */
#define MAT_N 64
static double ma[MAT_N][MAT_N] ALIGNED, mb[MAT_N][MAT_N] ALIGNED, mc[MAT_N][MAT_N] ALIGNED;

static void __attribute__((noinline)) dgemm(double (*restrict c)[MAT_N], const double (*restrict a)[MAT_N],
                                           const double (*restrict b)[MAT_N]) {
  for (int i = 0; i < MAT_N; i++) {
    for (int j = 0; j < MAT_N; j++) c[i][j] = 0;
    for (int k = 0; k < MAT_N; k++) {
      double aik = a[i][k];
      for (int j = 0; j < MAT_N; j++) c[i][j] += aik * b[k][j];
    }
  }
}

/* ---- n-body: struct-of-arrays, softened gravity, leapfrog step ---- */
#define BODIES 64
#define SOFTENING 0.05 /* keeps close encounters from blowing up the energy */
static double px[BODIES] ALIGNED, py[BODIES] ALIGNED, pz[BODIES] ALIGNED;
static double qx[BODIES] ALIGNED, qy[BODIES] ALIGNED, qz[BODIES] ALIGNED; /* velocities */
static double mass[BODIES] ALIGNED;

static void __attribute__((noinline)) nbody_step(double dt) {
  for (int i = 0; i < BODIES; i++) {
    double ax = 0, ay = 0, az = 0;
    for (int j = 0; j < BODIES; j++) {
      double dx = px[j] - px[i], dy = py[j] - py[i], dz = pz[j] - pz[i];
      double r2 = dx * dx + dy * dy + dz * dz + SOFTENING; /* i == j contributes 0 */
      double inv = 1.0 / (r2 * __builtin_sqrt(r2));
      double f = mass[j] * inv;
      ax += f * dx; ay += f * dy; az += f * dz;
    }
    qx[i] += dt * ax; qy[i] += dt * ay; qz[i] += dt * az;
  }
  for (int i = 0; i < BODIES; i++) { px[i] += dt * qx[i]; py[i] += dt * qy[i]; pz[i] += dt * qz[i]; }
}
static double energy(void) {
  double e = 0;
  for (int i = 0; i < BODIES; i++) {
    e += 0.5 * mass[i] * (qx[i] * qx[i] + qy[i] * qy[i] + qz[i] * qz[i]);
    for (int j = i + 1; j < BODIES; j++) {
      double dx = px[j] - px[i], dy = py[j] - py[i], dz = pz[j] - pz[i];
      e -= mass[i] * mass[j] / __builtin_sqrt(dx * dx + dy * dy + dz * dz + SOFTENING);
    }
  }
  return e;
}

/* ---- integer SIMD: uint8 sum of absolute differences, int16 FIR filter ---- */
#define PIX_N 16384
static uint8_t pa[PIX_N] ALIGNED, pb[PIX_N] ALIGNED;
#define FIR_N 4096
#define TAPS 16
static int16_t fir_in[FIR_N + TAPS] ALIGNED, fir_taps[TAPS] ALIGNED;
static int32_t fir_out[FIR_N] ALIGNED;

static uint32_t __attribute__((noinline)) sad(const uint8_t *restrict a, const uint8_t *restrict b, int n) {
  uint32_t s = 0;
  for (int i = 0; i < n; i++) s += (uint32_t)__builtin_abs(a[i] - b[i]);
  return s;
}
static void __attribute__((noinline)) fir(int32_t *restrict out, const int16_t *restrict in, const int16_t *restrict taps) {
  for (int i = 0; i < FIR_N; i++) out[i] = 0;
  for (int k = 0; k < TAPS; k++)
    for (int i = 0; i < FIR_N; i++) out[i] += (int32_t)in[i + k] * taps[k];
}

/* ---- conversions: int32 -> float, scale, float -> int32 and double -> float narrowing ---- */
static int32_t conv_i[VEC_N] ALIGNED;
static float conv_f[VEC_N] ALIGNED;
static void __attribute__((noinline)) convert(float scale) {
  for (int i = 0; i < VEC_N; i++) conv_i[i] = (int32_t)((float)conv_i[i] * scale) ^ (i & 7);
  for (int i = 0; i < VEC_N; i++) conv_f[i] = (float)((double)vx[i] * 1.0000001 + (double)conv_i[i]);
}

int main(void) {
  uint64_t seed = 0x243F6A8885A308D3ULL;
  for (int i = 0; i < VEC_N; i++) {
    vx[i] = (float)uniform(&seed, -1, 1);
    vy[i] = (float)uniform(&seed, -1, 1);
    conv_i[i] = (int32_t)(rng_next(&seed) >> 40) - (1 << 23);
  }
  for (int i = 0; i < MAT_N; i++)
    for (int j = 0; j < MAT_N; j++) { ma[i][j] = uniform(&seed, -1, 1); mb[i][j] = uniform(&seed, -1, 1); }
  for (int i = 0; i < BODIES; i++) {
    px[i] = uniform(&seed, -10, 10); py[i] = uniform(&seed, -10, 10); pz[i] = uniform(&seed, -10, 10);
    qx[i] = uniform(&seed, -0.1, 0.1); qy[i] = uniform(&seed, -0.1, 0.1); qz[i] = uniform(&seed, -0.1, 0.1);
    mass[i] = uniform(&seed, 0.5, 2);
  }
  for (int i = 0; i < PIX_N; i++) { pa[i] = (uint8_t)rng_next(&seed); pb[i] = (uint8_t)rng_next(&seed); }
  for (int i = 0; i < FIR_N + TAPS; i++) fir_in[i] = (int16_t)rng_next(&seed);
  for (int k = 0; k < TAPS; k++) fir_taps[k] = (int16_t)((int)(rng_next(&seed) >> 52) - 2048);
  printf("fpbench SCALE=%d at EL%lu\n", SCALE, current_el());

  /* saxpby keeps y bounded: y is a convex combination of x and the previous y. */
  uint64_t hdot = 0;
  for (int r = 0; r < SCALE * 40; r++) {
    float a = 0.25f + (float)(r & 15) * 0.03125f;
    saxpby(a, 1.0f - a, vx, vy, VEC_N);
    hdot = mix(hdot, bits_f(sdot(vx, vy, VEC_N)));
  }
  printf("saxpy %016lx  dot %016lx\n", hash_floats(vy, VEC_N), hdot);

  uint64_t hmat = 0;
  for (int r = 0; r < SCALE; r++) {
    dgemm(mc, ma, mb);
    hmat = mix(hmat, hash_doubles(&mc[0][0], MAT_N * MAT_N));
    /* feed back a scaled product so each round computes something new */
    for (int i = 0; i < MAT_N; i++)
      for (int j = 0; j < MAT_N; j++) ma[i][j] = mc[i][j] * 0.125 + ma[j][i] * 0.5;
  }
  printf("dgemm %016lx\n", hmat);

  double e0 = energy();
  for (int r = 0; r < SCALE * 4; r++) nbody_step(0.002);
  double e1 = energy();
  uint64_t hbody = mix(mix(hash_doubles(px, BODIES), hash_doubles(qy, BODIES)), hash_doubles(pz, BODIES));
  /* energy drift in millionths, as an integer, so the output says the simulation is sane */
  printf("nbody %016lx  energy %016lx -> %016lx  drift %d ppm\n", hbody, bits_d(e0), bits_d(e1),
         (int)((e1 - e0) / __builtin_fabs(e0) * 1e6));

  uint32_t hsad = 0;
  uint64_t hfir = 0;
  for (int r = 0; r < SCALE * 4; r++) {
    hsad = hsad * 31 + sad(pa, pb, PIX_N);
    pa[r % PIX_N] ^= (uint8_t)r;
    fir(fir_out, fir_in, fir_taps);
    for (int i = 0; i < FIR_N; i += 64) hfir = mix(hfir, (uint32_t)fir_out[i]);
    fir_taps[r % TAPS] += 3;
  }
  printf("sad %08x  fir %016lx\n", hsad, hfir);

  for (int r = 0; r < SCALE * 4; r++) convert(r & 1 ? 0.75f : 1.25f);
  printf("convert %016lx %016lx\n", hash_floats(conv_f, VEC_N), hash_floats((const float *)conv_i, VEC_N));
  return 0;
}
