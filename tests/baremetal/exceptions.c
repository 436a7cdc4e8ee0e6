// Synchronous exceptions taken to the current EL: SVC, BRK, UDF, an
// undefined system register, an alignment fault (SCTLR.A) and a data abort
// on an address with nothing behind it. Prints the syndrome of each.
#include "exc.h"

static volatile int taken;
static volatile uint64_t last_esr, last_far, last_elr;
static uint64_t skip_to; /* when non-zero, resume there instead of after the faulting instruction */

void exc_dispatch(uint64_t kind, struct exc_frame *f) {
  uint64_t esr = esr_read();
  unsigned ec = (unsigned)(esr >> 26) & 0x3f;
  taken++;
  last_esr = esr;
  last_elr = f->elr;
  last_far = (ec == 0x24 || ec == 0x25 || ec == 0x20 || ec == 0x21) ? far_read() : 0;
  printf("  exception kind=%lu EC=0x%02x IL=%lu ISS=0x%07lx ELR=%lx SPSR=%08lx", kind, ec, (esr >> 25) & 1, esr & 0x1ffffff, f->elr, spsr_read());
  if (last_far) printf(" FAR=%lx", last_far);
  printf("\n");
  if (kind != 4) { printf("unexpected exception kind\n"); exit(1); }
  if (skip_to) { f->elr = skip_to; skip_to = 0; return; }
  /* SVC/HVC/SMC return to the next instruction already; faults are skipped. */
  if (ec != 0x15 && ec != 0x16 && ec != 0x17) f->elr += 4;
}

extern char svc_site[], brk_site[], udf_site[], align_site[], abort_site[];

int main(void) {
  printf("exceptions test at EL%lu\n", current_el());
  install_vectors();

  printf("svc #0x42\n");
  register uint64_t x0 __asm__("x0") = 7;
  __asm__ volatile(".globl svc_site\nsvc_site: svc #0x42" : "+r"(x0) :: "memory");
  printf("  returned, x0=%lu, ELR-site=%ld\n", x0, (long)(last_elr - (uint64_t)svc_site));

  printf("brk #0x77\n");
  __asm__ volatile(".globl brk_site\nbrk_site: brk #0x77" ::: "memory");
  printf("  returned, ELR-site=%ld\n", (long)(last_elr - (uint64_t)brk_site));

  printf("udf #0x1234\n");
  __asm__ volatile(".globl udf_site\nudf_site: udf #0x1234" ::: "memory");
  printf("  returned, ELR-site=%ld\n", (long)(last_elr - (uint64_t)udf_site));

  printf("undefined system register\n");
  if (at_el2()) __asm__ volatile("mrs x1, s3_6_c15_c0_0" ::: "x1"); /* IMPLEMENTATION DEFINED, not implemented */
  else __asm__ volatile("mrs x1, vbar_el2" ::: "x1");                 /* EL2 register at EL1 without EL2 */

  printf("alignment fault (SCTLR.A=1)\n");
  static uint64_t words[4] = { 0x1122334455667788ULL, 0x99aabbccddeeff00ULL };
  uint64_t sctlr = sctlr_read();
  sctlr_write(sctlr | 2);
  volatile uint64_t *odd = (volatile uint64_t *)((char *)words + 4);
  uint64_t v;
  __asm__ volatile(".globl align_site\nalign_site: ldr %0, [%1]" : "=r"(v) : "r"(odd) : "memory");
  sctlr_write(sctlr);
  printf("  returned, FAR-target=%ld ELR-site=%ld\n", (long)(last_far - (uint64_t)odd), (long)(last_elr - (uint64_t)align_site));
  printf("  unaligned load with A=0: %016lx\n", *odd);

  printf("exclusive monitor cleared by an exception\n");
  uint64_t status, tmp;
  __asm__ volatile("ldxr %1, [%2]\n svc #1\n stxr %w0, %1, [%2]" : "=&r"(status), "=&r"(tmp) : "r"(&words[2]) : "memory");
  printf("  stxr status after svc: %lu\n", status);

  printf("taken %d exceptions\n", taken);
  return 0;
}
