#!/usr/bin/env bash
# Runs the ride-hailing walkthrough against a running broker: localhost:9092,
# or $RUNNEL_BROKERS, or -b HOST:PORT. Builds the example first when needed.
# Options (see --help): --duration SECONDS (default 40), --rate, --drivers, ...
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${RUNNEL_BUILD_DIR:-$root/build}"
if [[ ! -f "$build/build.ninja" ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" --target ride_hailing >/dev/null
exec "$build/examples/ride-hailing/ride_hailing" "$@"
