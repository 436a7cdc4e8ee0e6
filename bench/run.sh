#!/usr/bin/env bash
# Builds armvirt and times bench/bench.c (or, with --fp, bench/fpbench.c) under armvirt and QEMU. Arguments go to
# bench/run.ts: --fp, --quick (small SCALE), --runs N, --el1, --elf PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p . >/dev/null || true   # tsc still emits when some other file has a type error
exec node dist/bench/run.js "$@"
