#!/usr/bin/env bash
# The demo: builds armvirt (scripts/setup.sh installs what is missing) and the
# bare-metal hello-world in examples/hello, then runs it on the virt board.
# The program prints through the PL011 UART, reads the device tree the boot
# loader passed and the PL031 RTC, and powers off with PSCI SYSTEM_OFF.
# Extra arguments go to `armvirt run` (e.g. --no-el2, --stats).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
chmod +x "$root/dist/src/cli.js"
make -s -C "$root/examples/hello"
exec node "$root/dist/src/cli.js" run --kernel "$root/examples/hello/hello.elf" "$@"
