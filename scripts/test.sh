#!/usr/bin/env bash
# The test command: sets up, builds, builds the bare-metal test programs, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -f tests/baremetal/Makefile ]; then make -s -C tests/baremetal >&2; fi
exec node --test --test-concurrency=2 dist/test/*.test.js
