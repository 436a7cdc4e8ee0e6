// A load from a physical address with nothing behind it (MMU off): QEMU's
// virt board answers with a synchronous external abort.
#include "exc.h"

void exc_dispatch(uint64_t kind, struct exc_frame *f) {
  uint64_t esr = esr_read();
  printf("  exception kind=%lu EC=0x%02lx ISS=0x%07lx FAR=%lx\n", kind, esr >> 26, esr & 0x1ffffff, far_read());
  f->elr += 4;
}

int main(void) {
  printf("external abort test at EL%lu\n", current_el());
  install_vectors();
  volatile uint32_t *hole = (volatile uint32_t *)0x0b000000UL; /* unused in QEMU's virt memory map */
  uint32_t v = 0x1234;
  __asm__ volatile("ldr %w0, [%1]" : "+r"(v) : "r"(hole) : "memory");
  printf("  after abort v=%x\n", v);
  return 0;
}
