#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite twice: a normal
# build, then an AddressSanitizer + UndefinedBehaviorSanitizer build.
# Set RUNNEL_SKIP_SANITIZE=1 to run only the normal build. Tests run four at a
# time: most of them wait on brokers and clients rather than use a core. Then each
# libFuzzer target runs briefly (about a minute in all; RUNNEL_FUZZ_SECONDS, 0 to
# skip); scripts/fuzz.sh SECONDS is the longer run.
# Measured on a 2-core machine (2026-12-07, nothing else running): normal build
# 783 s, its tests 324 s; sanitizer build 859 s, its tests 343-418 s; fuzz build
# and run about 4 minutes: 43-44 minutes in all, plus the installs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

# The crash-loop test defaults to 40 kills (about two minutes); the suite runs it
# twice (plain and sanitizer builds) on a 2-core CI machine, so 10 here (about
# 35 s each). Set RUNNEL_CRASH_LOOP_KILLS=40 (or more) for the long variant.
export RUNNEL_CRASH_LOOP_KILLS=${RUNNEL_CRASH_LOOP_KILLS:-10}

status=0
run_suite() {
  local build_dir=$1
  shift
  echo "== building $build_dir ($(date -u +%T))"
  scripts/build.sh "$build_dir" "$@"
  echo "== testing $build_dir ($(date -u +%T))"
  (cd "$build_dir" && ctest --output-on-failure --timeout 900 -j4) || status=1
}

# Line tables only (-g1) for the suite's normal build: backtraces and perf keep
# file:line, and the build is about a quarter faster than with -g (measured on
# src/server/connection.cpp: 15.8 s -> 12.0 s), which is most of CI's time.
run_suite build "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG"
if [[ "${RUNNEL_SKIP_SANITIZE:-0}" != 1 ]]; then
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  run_suite build-asan -DRUNNEL_SANITIZE=ON
fi
fuzz_seconds=${RUNNEL_FUZZ_SECONDS:-60}
if ((fuzz_seconds > 0)); then
  if command -v clang++-14 >/dev/null; then
    echo "== fuzzing for ${fuzz_seconds}s ($(date -u +%T))"
    RUNNEL_FUZZ_SEED=${RUNNEL_FUZZ_SEED:-1} scripts/fuzz.sh "$fuzz_seconds" || status=1
  else
    echo "== clang++-14 missing: fuzzing skipped"
  fi
fi
exit $status
