#!/usr/bin/env bash
# The test command: sets up, builds, builds the bare-metal test programs, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -f tests/baremetal/Makefile ]; then make -s -C tests/baremetal >&2; fi
# the Linux system tests boot Debian's kernels: fetch them (cached) before the timed run
bash scripts/images.sh cloud >/dev/null
bash scripts/images.sh generic >/dev/null
exec node --test --test-concurrency=2 dist/test/*.test.js
