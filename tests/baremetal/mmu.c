// Stage-1 translation at the current EL (EL2 or EL1, 4 KiB granule, 32-bit
// VA space starting at level 1): identity-mapped device and RAM blocks, a
// read-only alias, a page mapped through level-2/3 tables, remapping with
// TLBI, and translation/permission faults on unmapped and read-only VAs.
#include "exc.h"

static uint64_t l1[512] __attribute__((aligned(4096)));
static uint64_t l2[512] __attribute__((aligned(4096)));
static uint64_t l3[512] __attribute__((aligned(4096)));
static uint8_t pages[2][4096] __attribute__((aligned(4096)));

#define DESC_BLOCK 0x1ULL
#define DESC_TABLE 0x3ULL
#define DESC_PAGE 0x3ULL
#define AF (1ULL << 10)
#define SH_INNER (3ULL << 8)
#define AP_RO (1ULL << 7) /* AP[2]: read-only */
#define AP_EL0 (1ULL << 6) /* AP[1] (RES1 at EL2) */
#define ATTR(i) ((uint64_t)(i) << 2)

static volatile int faults;
void exc_dispatch(uint64_t kind, struct exc_frame *f) {
  uint64_t esr = esr_read();
  faults++;
  printf("  fault kind=%lu EC=0x%02lx WnR=%lu DFSC=0x%02lx FAR=%lx\n", kind, esr >> 26, (esr >> 6) & 1, esr & 0x3f, far_read());
  f->elr += 4;
}

static void tlbi_all(void) {
  if (at_el2()) __asm__ volatile("dsb ishst\n tlbi alle2\n dsb ish\n isb" ::: "memory");
  else __asm__ volatile("dsb ishst\n tlbi vmalle1\n dsb ish\n isb" ::: "memory");
}

static uint64_t probe(uint64_t va) {
  uint64_t v = 0xdead;
  __asm__ volatile("ldr %0, [%1]" : "+r"(v) : "r"(va) : "memory");
  return v;
}
static void poke(uint64_t va, uint64_t v) { __asm__ volatile("str %0, [%1]" :: "r"(v), "r"(va) : "memory"); }

int main(void) {
  printf("mmu test at EL%lu\n", current_el());
  install_vectors();
  uint64_t ap_el0 = at_el2() ? 0 : 0; /* EL0 access is not needed here */
  l1[0] = 0x00000000ULL | DESC_BLOCK | AF | ATTR(0);                    /* devices, 0-1 GiB */
  l1[1] = 0x40000000ULL | DESC_BLOCK | AF | SH_INNER | ATTR(1) | ap_el0; /* RAM, identity */
  l1[2] = (uint64_t)l2 | DESC_TABLE;                                      /* 2-3 GiB: tables */
  l1[3] = 0x40000000ULL | DESC_BLOCK | AF | SH_INNER | ATTR(1) | AP_RO;  /* read-only alias of RAM */
  l2[1] = (uint64_t)l3 | DESC_TABLE;                                      /* VA 0x80200000.. */
  l3[5] = (uint64_t)pages[0] | DESC_PAGE | AF | SH_INNER | ATTR(1);       /* VA 0x80205000 */

  const uint64_t mair = 0xff00; /* attr0 Device-nGnRnE, attr1 Normal WB */
  const uint64_t tcr_common = 32 | (1 << 8) | (1 << 10) | (3 << 12); /* T0SZ=32, WB WA caches, inner shareable, 4K */
  if (at_el2()) {
    write_sysreg(mair_el2, mair);
    write_sysreg(tcr_el2, tcr_common | (1ULL << 31) | (1ULL << 23) | (2ULL << 16)); /* RES1 bits, PS=40 bits */
    write_sysreg(ttbr0_el2, (uint64_t)l1);
  } else {
    write_sysreg(mair_el1, mair);
    write_sysreg(tcr_el1, tcr_common | (1ULL << 23) | (2ULL << 32)); /* EPD1: no TTBR1 walks, IPS=40 bits */
    write_sysreg(ttbr0_el1, (uint64_t)l1);
  }
  __asm__ volatile("dsb sy\n isb" ::: "memory");
  tlbi_all();
  sctlr_write(sctlr_read() | 1 | (1 << 2) | (1 << 12)); /* M, C, I */
  printf("MMU on, SCTLR bit0=%lu\n", sctlr_read() & 1);

  static uint64_t cell = 0x1111;
  uint64_t alias = (uint64_t)&cell + 0x80000000ULL;
  printf("identity read: %lx\n", probe((uint64_t)&cell));
  poke((uint64_t)&cell, 0x2222);
  printf("alias read after write: %lx\n", probe(alias));
  printf("write to read-only alias:\n");
  poke(alias, 0x3333);
  printf("  cell=%lx\n", cell);

  ((volatile uint64_t *)pages[0])[3] = 0xaaaa;
  ((volatile uint64_t *)pages[1])[3] = 0xbbbb;
  printf("level-3 page: %lx\n", probe(0x80205000ULL + 24));
  l3[5] = (uint64_t)pages[1] | DESC_PAGE | AF | SH_INNER | ATTR(1);
  tlbi_all();
  printf("after remap + TLBI: %lx\n", probe(0x80205000ULL + 24));
  printf("unmapped level-3 entry:\n");
  probe(0x80206000ULL);
  printf("unmapped level-2 entry:\n");
  probe(0x80600000ULL);
  l3[6] = (uint64_t)pages[0] | DESC_PAGE | ATTR(1); /* AF clear: access flag fault (no hardware AF on v8.0) */
  tlbi_all();
  printf("access flag clear:\n");
  probe(0x80206000ULL);
  printf("UART through the device block still works\n");
  sctlr_write(sctlr_read() & ~1ULL);
  printf("MMU off again, faults=%d\n", faults);
  return 0;
}
