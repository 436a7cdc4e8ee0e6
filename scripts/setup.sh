#!/usr/bin/env bash
# Installs what armvirt's build and tests need on a fresh Debian machine:
# Node packages, the aarch64 cross toolchain (test programs) and QEMU (the
# reference oracle in tests and benchmarks). Idempotent and quiet when done.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu)
command -v qemu-system-aarch64 >/dev/null || need+=(qemu-system-arm)
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
command -v dtc >/dev/null || need+=(device-tree-compiler)
command -v cpio >/dev/null || need+=(cpio)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >&2
fi
if [ ! -x node_modules/.bin/tsc ]; then
  echo "setup: npm install" >&2
  npm install --no-audit --no-fund --loglevel=error >&2
fi
npx --no-install tsc -p . >&2
