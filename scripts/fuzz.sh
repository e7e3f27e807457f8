#!/usr/bin/env bash
# Builds the libFuzzer targets (clang 14, ASan + UBSan) into build-fuzz/ and runs
# each of them; SECONDS (default 600) is the total time, split evenly.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# RUNNEL_FUZZ_SEED fixes libFuzzer's random seed (CI sets it, so a run explores
# the same inputs each time). Targets: fuzz_request (request header + every request body decoder),
# fuzz_record_batch (RecordBatch validation and record decoding, all codecs),
# fuzz_segment_recovery (log recovery fed a corrupted segment file),
# fuzz_message_set (old magic 0/1 message sets: up- and down-conversion).
# New interesting inputs collect in build-fuzz/corpus/<target> (kept between
# runs). A crash stops the run; its input is in build-fuzz/crashes/<target>/:
# fix the bug, then add the input to fuzz/regressions/<target>/ so ctest
# replays it from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
total=${1:-600}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(fuzz_request fuzz_record_batch fuzz_segment_recovery fuzz_message_set)

CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRUNNEL_FUZZ=ON \
  -DRUNNEL_BUILD_TESTS=OFF ${CMAKE_CXX_COMPILER_LAUNCHER:+-DCMAKE_CXX_COMPILER_LAUNCHER=$CMAKE_CXX_COMPILER_LAUNCHER} >/dev/null
cmake --build build-fuzz --target fuzz_make_seeds "${targets[@]}"
build-fuzz/fuzz/fuzz_make_seeds build-fuzz/seeds >/dev/null

per=$((total / ${#targets[@]}))
((per > 0)) || per=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for target in "${targets[@]}"; do
  corpus=build-fuzz/corpus/$target
  crashes=build-fuzz/crashes/$target
  mkdir -p "$corpus" "$crashes" "fuzz/regressions/$target"
  max_len=4096
  [[ $target == fuzz_segment_recovery ]] && max_len=16384
  echo "== fuzzing $target for ${per}s"
  # Inputs from all dirs are loaded; new ones are written to the first.
  if ! build-fuzz/fuzz/"$target" ${RUNNEL_FUZZ_SEED:+-seed=$RUNNEL_FUZZ_SEED} -max_total_time="$per" -max_len="$max_len" -rss_limit_mb=2048 -timeout=30 \
      -print_final_stats=1 -artifact_prefix="$crashes/" \
      "$corpus" "build-fuzz/seeds/$target" "fuzz/corpus/$target" "fuzz/regressions/$target" 2>"build-fuzz/$target.log"; then
    tail -n 60 "build-fuzz/$target.log"
    echo "== $target FAILED; the input is in $crashes/ (keep it in fuzz/regressions/$target/ once fixed)"
    status=1
    continue
  fi
  grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb)|cov: " "build-fuzz/$target.log" | tail -n 3
done
exit $status
