#!/usr/bin/env bash
# Smoke run of runnel-bench: a few thousand records through the mock cluster
# and through a real Runnel broker, produce, consume and e2e. Checks only
# that records flow and the output is well-formed; never an absolute time.
set -euo pipefail
bench=$1
runnel=$2
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

check() {  # json-line workload min-records
  python3 - "$@" <<'PY'
import json, sys
line, workload, minimum = sys.argv[1], sys.argv[2], int(sys.argv[3])
r = json.loads(line)
assert r["workload"] == workload, r
assert r["records"] >= minimum, r
assert r["failed"] == 0, r
print("ok", workload, r["records"], "records")
PY
}

# The mock cluster.
"$bench" mock --topic smoke:4 --topic e2e:1 >"$work/mock.out" &
pids+=($!)
for _ in $(seq 100); do [[ -s $work/mock.out ]] && break; sleep 0.1; done
mock=$(head -1 "$work/mock.out")
check "$("$bench" produce --json -b "$mock" --no-create -t smoke -p 4 -n 5000 -s 100)" produce 5000
check "$("$bench" consume --json -b "$mock" --no-create -t smoke -p 4 -n 5000 --fetch-wait-ms 10)" consume 5000
check "$("$bench" e2e --json -b "$mock" --no-create -t e2e -n 500 --rate 1000 --warmup 0.2 --fetch-wait-ms 10)" e2e 500

# A real broker.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# No metrics listener: the default port 9644 would collide with brokers of
# tests running in parallel.
"$runnel" serve --set listeners=PLAINTEXT://127.0.0.1:$port --set log.dirs="$work/data" --set http.listeners= \
  --set group.initial.rebalance.delay.ms=0 --log-level warn >"$work/runnel.log" 2>&1 &
runnel_pid=$!
pids+=($runnel_pid)
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
b=127.0.0.1:$port
check "$("$bench" produce --json -b $b -t smoke -p 4 -n 5000 -s 100 --broker-pid $runnel_pid)" produce 5000
check "$("$bench" consume --json -b $b -t smoke -p 4 -n 5000 --broker-pid $runnel_pid)" consume 5000
check "$("$bench" e2e --json -b $b -t e2e -n 500 --rate 1000 --warmup 0.2 --fetch-wait-ms 10)" e2e 500
out=$("$bench" idle --json -b $b -t many -p 50 --connections 20 --seconds 0.5 --broker-pid $runnel_pid)
python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert r["broker_rss_mb"] > 0, r; print("ok idle")' "$out"
echo "bench smoke: ok"
