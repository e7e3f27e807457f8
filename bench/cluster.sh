#!/usr/bin/env bash
# The cluster against the single node, side by side in one run on this machine
# (issues 16 and 17): each setup started fresh for every case and run, runs
# alternating between setups, medians of RUNS.
#
#   bench/cluster.sh [--scale S] [--runs N] [--build-dir DIR] [--no-build] [--out FILE]
#
# Setups: `single` (one broker, metadata.store=local), `rf1` (a single-member
# etcd and three brokers, topic replication factor 1), `rf3` (the same cluster,
# replication factor 3, min.insync.replicas 2). Cases:
#   p12  produce 1,000,000 x 100 B round-robin over 12 partitions, acks=all, linger 5 ms
#   d    end-to-end latency at 10,000 records/s, 1 partition, acks=all, linger 1 ms
# Writes the results section to bench/performance-cluster.md (bench/report.py
# appends it to docs/performance.md) and replaces that section in
# docs/performance.md. Every process it starts is stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=1
runs=3
build_dir=build-bench
build=1
out=bench/performance-cluster.md
while (($#)); do
  case $1 in
    --scale) scale=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
scripts/install-deps.sh
if ((build)); then
  launcher=(); command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null
  nice cmake --build "$build_dir" --target runnel runnel-bench
fi
runnel_bin=$(realpath "$build_dir/src/cli/runnel")
bench_bin=$(realpath "$build_dir/bench/runnel-bench")
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

work=$(mktemp -d /tmp/runnel-cluster-bench.XXXXXX)
results=$work/results.jsonl
: >"$results"
pids=()
stop_all() {
  local pid
  # Brokers first (SIGTERM: controlled shutdown), etcd last.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  pids=()
  rm -rf "$work/data"
  sync
}
trap 'stop_all; echo "work dir (logs, raw results): $work" >&2' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "nothing listening on port $1" >&2; return 1
}
count() { python3 -c "import sys; print(max(1, int(float(sys.argv[1]) * float(sys.argv[2]))))" "$1" "$scale"; }

bootstrap=
start_single() {
  mkdir -p "$work/data/single"
  local port; port=$(free_port)
  "$runnel_bin" serve --set listeners=PLAINTEXT://127.0.0.1:$port --set log.dirs="$work/data/single" \
    --set http.listeners= --set group.initial.rebalance.delay.ms=0 --log-level warn >>"$work/single.log" 2>&1 &
  pids+=($!)
  bootstrap=127.0.0.1:$port
  wait_port "$port"
}
start_cluster() {  # replication factor
  local rf=$1
  mkdir -p "$work/data/etcd"
  local client peer; client=$(free_port); peer=$(free_port)
  etcd --name bench --data-dir "$work/data/etcd" --listen-client-urls "http://127.0.0.1:$client" \
    --advertise-client-urls "http://127.0.0.1:$client" --listen-peer-urls "http://127.0.0.1:$peer" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer" --initial-cluster "bench=http://127.0.0.1:$peer" \
    >>"$work/etcd.log" 2>&1 &
  pids+=($!)
  wait_port "$client"
  local prefix=/bench-$RANDOM addresses=()
  for id in 1 2 3; do
    local port; port=$(free_port)
    mkdir -p "$work/data/broker-$id"
    "$runnel_bin" serve --set node.id=$id --set listeners=PLAINTEXT://127.0.0.1:$port \
      --set log.dirs="$work/data/broker-$id" --set http.listeners= --set metadata.store=etcd://127.0.0.1:$client \
      --set metadata.store.prefix=$prefix --set default.replication.factor="$rf" --set min.insync.replicas=$((rf > 1 ? 2 : 1)) \
      --set group.initial.rebalance.delay.ms=0 --log-level warn >>"$work/broker-$id.log" 2>&1 &
    pids+=($!)
    addresses+=("127.0.0.1:$port")
  done
  bootstrap=$(IFS=,; echo "${addresses[*]}")
  for address in "${addresses[@]}"; do wait_port "${address##*:}"; done
  for _ in $(seq 300); do
    "$runnel_bin" cluster info -b "$bootstrap" --format json 2>/dev/null |
      python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if sum(b["alive"] for b in d["brokers"]) == 3 else 1)' &&
      return 0
    sleep 0.2
  done
  echo "the cluster did not come up (see $work)" >&2; return 1
}

bench() {  # setup case run rf args...
  local setup=$1 case_name=$2 run=$3 rf=$4; shift 4
  local cmd=("$bench_bin" "$@" --system kafka --replication-factor "$rf" -b "$bootstrap" --json --label "$setup")
  [[ $run == 1 ]] && echo "$setup $case_name: runnel-bench $* --replication-factor $rf" >>"$work/commands.txt"
  local line
  if line=$("${cmd[@]}" 2>>"$work/driver.log"); then
    printf '{"setup":"%s","case":"%s","run":%s,"result":%s}\n' "$setup" "$case_name" "$run" "$line" >>"$results"
    echo "  $setup $case_name run $run: $line" >&2
  else
    echo "  $setup $case_name run $run: FAILED (see $work/driver.log)" >&2
  fi
}

n_p=$(count 1000000)
n_d=$(count 100000)
((n_d < 30000)) && n_d=30000
uptime >"$work/load-before.txt"
for run in $(seq "$runs"); do
  for case_name in p12 d; do
    for setup in single rf1 rf3; do
      rf=1
      case $setup in
        single) start_single ;;
        rf1) start_cluster 1 ;;
        rf3) rf=3; start_cluster 3 ;;
      esac
      case $case_name in
        p12) bench "$setup" p12 "$run" "$rf" produce -t p12 -p 12 -n "$n_p" -s 100 --acks -1 --linger-ms 5 ;;
        d) bench "$setup" d "$run" "$rf" e2e -t d -p 1 -n "$n_d" -s 100 --rate 10000 --warmup 1 --acks -1 \
             --linger-ms 1 --fetch-wait-ms 10 ;;
      esac
      stop_all
    done
  done
done
uptime >"$work/load-after.txt"

python3 - "$results" "$out" "$work" "$scale" "$runs" "$n_p" "$n_d" <<'PY'
import json, statistics, sys, subprocess, platform, os
results, out, work, scale, runs, n_p, n_d = sys.argv[1:8]
rows = [json.loads(l) for l in open(results)]
def med(setup, case, field):
    vals = [r["result"].get(field) for r in rows if r["setup"] == setup and r["case"] == case and not r["result"].get("failed")]
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None
def runs_of(setup, case, field, fmt):
    vals = [r["result"].get(field) for r in rows if r["setup"] == setup and r["case"] == case]
    return ", ".join(fmt.format(v) for v in vals if v is not None)
cpu = subprocess.run(["sh", "-c", "lscpu | sed -n 's/^Model name: *//p'"], capture_output=True, text=True).stdout.strip()
lines = []
w = lines.append
w("## Cluster against the single node (`bench/cluster.sh`)")
w("")
w(f"Generated by `bench/cluster.sh --scale {scale} --runs {runs}` on {os.popen('date -u +%Y-%m-%d').read().strip()}: "
  f"{cpu}, {os.cpu_count()} cores, `{open(work + '/load-before.txt').read().strip()}` before, "
  f"`{open(work + '/load-after.txt').read().strip()}` after. Every broker, etcd and the client share these cores, so "
  "the three-broker figures carry three brokers' work on the machine that runs one in the single-node figures. "
  "`single` = one broker, `metadata.store=local`; `rf1` / `rf3` = a single-member etcd and three brokers on loopback, "
  "topic replication factor 1 / 3 (`min.insync.replicas=2`). Medians of the runs; each run on freshly started "
  "processes with empty data dirs, setups alternating.")
w("")
w(f"### Produce {int(n_p):,} x 100 B over 12 partitions, acks=all, linger 5 ms")
w("")
w("| setup | records/s (median) | runs | ratio to single | ack p50 ms | ack p99 ms |")
w("|---|---|---|---|---|---|")
base = med("single", "p12", "records_per_s")
for s in ["single", "rf1", "rf3"]:
    r = med(s, "p12", "records_per_s")
    w(f"| {s} | {r:,.0f} | {runs_of(s, 'p12', 'records_per_s', '{:,.0f}')} | {r / base:.2f}x | "
      f"{med(s, 'p12', 'ack_p50_ms'):.1f} | {med(s, 'p12', 'ack_p99_ms'):.1f} |" if r and base else f"| {s} | failed | | | | |")
w("")
w(f"### End-to-end latency at 10,000 records/s, {int(n_d):,} records, 1 partition, acks=all, linger 1 ms")
w("")
w("| setup | e2e p50 ms | e2e p99 ms | e2e p99.9 ms | e2e max ms | p99 of each run |")
w("|---|---|---|---|---|---|")
for s in ["single", "rf1", "rf3"]:
    p99 = med(s, "d", "e2e_p99_ms")
    if p99 is None:
        w(f"| {s} | failed | | | | |"); continue
    w(f"| {s} | {med(s, 'd', 'e2e_p50_ms'):.2f} | {p99:.2f} | {med(s, 'd', 'e2e_p999_ms'):.2f} | "
      f"{med(s, 'd', 'e2e_max_ms'):.2f} | {runs_of(s, 'd', 'e2e_p99_ms', '{:.2f}')} |")
w("")
w("Commands (run 1):")
w("")
w("```")
for l in open(work + "/commands.txt"):
    w(l.rstrip())
w("```")
text = "\n".join(lines) + "\n"
open(out, "w").write(text)
# Replace (or append) the same section in docs/performance.md.
doc = "docs/performance.md"
s = open(doc).read()
start = s.find("## Cluster against the single node")
if start >= 0:
    end = s.find("\n## ", start + 1)
    s = s[:start] + text + ("" if end < 0 else s[end + 1:])
else:
    s = s.rstrip() + "\n\n" + text
open(doc, "w").write(s)
print(text)
PY
