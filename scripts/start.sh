#!/usr/bin/env bash
# Quick start: install what is missing, build, and run a single-node broker on
# localhost:9092 with its data in ./runnel-data. Stop it with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# Only the broker binary: the tests and benchmarks are scripts/test.sh's business.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target runnel
exec build/src/cli/runnel serve --set listeners=PLAINTEXT://127.0.0.1:9092 --set log.dirs=./runnel-data "$@"
