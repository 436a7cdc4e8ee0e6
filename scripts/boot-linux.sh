#!/usr/bin/env bash
# armvirt's main job: on a fresh Debian machine, install what is needed,
# fetch Debian's arm64 kernel and busybox, build the initramfs and boot
# Linux to an interactive shell. Extra arguments go to `armvirt run`
# (e.g. --cpus 2, --mem 1024, --stats). Ctrl-A x quits; `poweroff` exits.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
eval "$(bash "$root/scripts/images.sh" "${ARMVIRT_KERNEL_FLAVOUR:-cloud}")"
exec node "$root/dist/src/cli.js" run --kernel "$KERNEL" --initrd "$INITRD" --append "${ARMVIRT_APPEND:-console=ttyAMA0}" "$@"
