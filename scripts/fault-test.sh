#!/usr/bin/env bash
# The long fault runs of docs/replication.md: every fault kind of
# tests/fault (runnel_fault_tests) with ROUNDS rounds each (default 30), one
# after the other, each in its own private network namespace with its own
# etcd and three brokers. Every run is bounded in time (ROUNDS x 60 s + 5 min);
# the figures lines of each run and a final pass/fail summary are printed and
# kept in the log (default: fault-test-<UTC time>.log here).
#
#   scripts/fault-test.sh [ROUNDS] [BUILD_DIR]      # needs root (unshare -n, nft)
#
# The suite (scripts/test.sh) runs the same tests with a few rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-30}
build_dir=${2:-build}
log=${RUNNEL_FAULT_LOG:-fault-test-$(date -u +%Y%m%dT%H%M%SZ).log}
scripts/install-deps.sh
scripts/build.sh "$build_dir" >/dev/null
binary=$build_dir/tests/fault/runnel_fault_tests
cmake --build "$build_dir" --target runnel_fault_tests runnel runnel_bind_source >/dev/null

# Loops whose round count RUNNEL_FAULT_ROUNDS sets; single-shot tests repeat.
looped=(
  FaultTest.KillNineTheLeaderOfAPartitionAndRestartIt
  FaultTest.TheLeaderCutOffFromFollowersAndEtcdStopsAcknowledgingAndRejoins
  FaultTest.AFollowerCutOffLeavesTheIsrWhileWritesGoOnAndRejoins
  FaultTest.APausedLeaderIsReplacedAndCatchesUpWhenItResumes
  ReplicationOperations.ARollingRestartUnderLoadSurfacesOnlyRetriableErrors
)
repeated=(
  FaultTest.WithTwoOfThreeBrokersDownAcksAllFailsAndResumesWhenOneReturns
  ReplicationOperations.APartitionMovesToANewBrokerWhileClientsRunWithoutLoss
)
repeats=$(((rounds + 9) / 10))
limit=$((rounds * 60 + 300))

passed=0
failed=0
run() {
  local name=$1
  shift
  echo "== $name ($(date -u +%T))" | tee -a "$log"
  local started=$SECONDS
  if RUNNEL_FAULT_ROUNDS=$rounds timeout --signal=TERM --kill-after=30 "$limit" "$binary" --gtest_filter="$name" "$@" \
      >"$log.current" 2>&1; then
    passed=$((passed + 1))
    echo "   passed in $((SECONDS - started)) s" | tee -a "$log"
  else
    failed=$((failed + 1))
    echo "   FAILED after $((SECONDS - started)) s" | tee -a "$log"
    grep -E 'Failure|error:|Expected|Which is|actual' "$log.current" | head -20 | tee -a "$log" || true
  fi
  grep '\[figures\]' "$log.current" | tee -a "$log" || true
  cat "$log.current" >>"$log.full"
  rm -f "$log.current"
}

for name in "${looped[@]}"; do run "$name"; done
for name in "${repeated[@]}"; do run "$name" --gtest_repeat="$repeats"; done
echo "$passed passed, $failed failed (rounds=$rounds; log: $log, full output: $log.full)" | tee -a "$log"
((failed == 0))
