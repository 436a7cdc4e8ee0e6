// Exception support for the bare-metal tests (vectors.S + the per-EL registers).
#pragma once
#include "lib.h"

struct exc_frame { uint64_t x[31]; uint64_t elr; };
void install_vectors(void);
/* Implemented by each test that installs the vectors. */
void exc_dispatch(uint64_t kind, struct exc_frame *f);

static inline int at_el2(void) { return current_el() == 2; }
static inline uint64_t esr_read(void) { return at_el2() ? read_sysreg(esr_el2) : read_sysreg(esr_el1); }
static inline uint64_t far_read(void) { return at_el2() ? read_sysreg(far_el2) : read_sysreg(far_el1); }
static inline uint64_t spsr_read(void) { return at_el2() ? read_sysreg(spsr_el2) : read_sysreg(spsr_el1); }
static inline uint64_t sctlr_read(void) { return at_el2() ? read_sysreg(sctlr_el2) : read_sysreg(sctlr_el1); }
static inline void sctlr_write(uint64_t v) {
  if (at_el2()) write_sysreg(sctlr_el2, v); else write_sysreg(sctlr_el1, v);
  __asm__ volatile("isb" ::: "memory");
}
