#!/usr/bin/env bash
# Regenerates the golden UART outputs of the bare-metal test programs with QEMU,
# the reference: each ELF runs on `virt` at EL2 (virtualization=on) and at EL1
# (virtualization=off), and what it prints is stored in tests/baremetal/golden/.
set -euo pipefail
cd "$(dirname "$0")/../tests/baremetal"
make -s
mkdir -p golden
for elf in build/*.elf; do
  name=$(basename "$elf" .elf)
  for el in 2 1; do
    virt=$([ "$el" = 2 ] && echo on || echo off)
    out="golden/$name.el$el.txt"
    # The programs power off through PSCI; the timeout only catches a hang.
    if ! timeout 60 qemu-system-aarch64 -M "virt,virtualization=$virt,gic-version=3" -cpu cortex-a57 -m 128M \
        -nographic -monitor none -serial stdio -kernel "$elf" </dev/null | tr -d '\r' >"$out.tmp"; then
      echo "warning: $name at EL$el did not power off cleanly" >&2
    fi
    mv "$out.tmp" "$out"
    echo "$out: $(wc -l <"$out") lines"
  done
done
