#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite twice: a normal
# build, then an AddressSanitizer + UndefinedBehaviorSanitizer build.
# Set RUNNEL_SKIP_SANITIZE=1 to run only the normal build. Tests run four at a
# time: most of them wait on brokers and clients rather than use a core.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

status=0
run_suite() {
  local build_dir=$1
  shift
  echo "== building $build_dir"
  scripts/build.sh "$build_dir" "$@"
  echo "== testing $build_dir"
  (cd "$build_dir" && ctest --output-on-failure --timeout 900 -j4) || status=1
}

run_suite build
if [[ "${RUNNEL_SKIP_SANITIZE:-0}" != 1 ]]; then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  run_suite build-asan -DRUNNEL_SANITIZE=ON
fi
exit $status
