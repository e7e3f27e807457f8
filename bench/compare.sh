#!/usr/bin/env bash
# Runs the same workloads against Runnel and its peers, side by side in one
# run on loopback, each system started fresh (new data dir) for every case,
# and writes docs/performance.md with medians of the runs and ratios to
# Runnel. See bench/README.md.
#
#   bench/compare.sh [--scale S] [--runs N] [--systems "runnel mock ..."]
#                    [--cases "a1 a16 b c d e m100 m1k disk"] [--build-dir DIR] [--no-build]
#                    [--out docs/performance.md] [--profile] [--runnel-bin PATH]
#
# --scale 1 (the default) is the full workload set of issue 7: (a) 1,000,000
# x 100 B records, 1 and 16 partitions; (b) 200,000 x 1 KiB; (c) read back
# 1,000,000 x 100 B from the start with one consumer in a group; (d)
# end-to-end latency at 10,000 records/s for 10 s (at least 3 s at any scale); (e) 1,000 and 10,000
# partitions with 1,000 idle connections, idle CPU measured over 5 s. Issue 18's
# many-partition cases (Kafka systems only): (m100) 1,000,000 x 100 B and (m1k)
# 200,000 x 1 KiB round-robin over 128 partitions, each first on a topic just
# created on a fresh broker (cold), then again on the same topic (warm); (disk)
# the disk's own limit in the same run, fio appending 1 GiB in 1 MiB writes
# with fdatasync after each. Produce cases keep at most --max-in-flight
# records unacknowledged (default 20,000; a quarter of it for 1 KiB records),
# as an application bounding its queue would. A smaller scale shrinks the record counts of (a)-(d) and (m)
# (not the rate of (d), nor (e)).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scale=1
runs=3
systems="runnel mock redis-everysec redis-always nats"
cases="a1 a16 b c d e m100 m1k disk"
max_in_flight=20000
build_dir=build-bench
runnel_override=
build=1
out=docs/performance.md
profile=0
idle_seconds=5
while (($#)); do
  case $1 in
    --scale) scale=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --systems) systems=$2; shift 2 ;;
    --cases) cases=$2; shift 2 ;;
    --max-in-flight) max_in_flight=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --runnel-bin) runnel_override=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --profile) profile=1; shift ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
invocation="bench/compare.sh --scale $scale --runs $runs --systems \"$systems\" --cases \"$cases\" --max-in-flight $max_in_flight"

# The peers are needed only here, so they are installed here, only if missing.
need=()
for package in redis-server nats-server libhiredis-dev linux-perf fio; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || need+=("$package")
done
if ((${#need[@]})); then
  sudo_cmd=(); [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

if ((build)); then
  launcher=(); command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # RelWithDebInfo (-O2 -g), the project's default build type: symbols for
  # the profile, and GCC 12 at -O3 (Release) stops on a -Wrestrict false
  # positive in std::string code.
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null
  nice cmake --build "$build_dir" --target runnel runnel-bench
fi
build_path=$(realpath -m "$build_dir")
runnel_bin=${runnel_override:-$build_path/src/cli/runnel}
bench_bin=$build_path/bench/runnel-bench
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true  # Runnel keeps a file open per segment

work=$(mktemp -d /tmp/runnel-compare.XXXXXX)
results=$work/results.jsonl
: >"$results"
broker_pid=
broker_addr=
broker_dir=
# Stops the running system, deletes its data and waits for the disk to be
# clean: a system that leaves unsynced data (NATS, Redis everysec) must not
# make the next one's fsyncs wait for that write-back.
cleanup_broker() {
  if [[ -n $broker_pid ]]; then
    kill "$broker_pid" 2>/dev/null || true
    wait "$broker_pid" 2>/dev/null || true
  fi
  broker_pid=
  if [[ -n $broker_dir ]]; then rm -rf "$broker_dir"; fi
  broker_dir=
  sync
}
trap 'cleanup_broker; echo "work dir (logs, raw results): $work" >&2' EXIT

count() { python3 -c "import sys; print(max(1, int(float(sys.argv[1]) * float(sys.argv[2]))))" "$1" "$scale"; }
wait_port() {
  for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "nothing listening on port $1" >&2; return 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start SYSTEM MOCK_TOPICS...: starts one system fresh; sets broker_pid, broker_addr.
start() {
  local system=$1; shift
  local dir=$work/data-$system-$RANDOM
  mkdir -p "$dir"
  broker_dir=$dir
  local port; port=$(free_port)
  case $system in
    runnel)
      "$runnel_bin" serve --set listeners=PLAINTEXT://127.0.0.1:$port --set log.dirs="$dir" \
        --set group.initial.rebalance.delay.ms=0 --log-level warn >>"$work/runnel.log" 2>&1 &
      broker_pid=$!; broker_addr=127.0.0.1:$port; wait_port "$port" ;;
    mock)
      local args=()
      for t in "$@"; do args+=(--topic "$t"); done
      "$bench_bin" mock "${args[@]}" >"$dir/bootstrap" 2>>"$work/mock.log" &
      broker_pid=$!
      for _ in $(seq 300); do [[ -s $dir/bootstrap ]] && break; sleep 0.1; done
      broker_addr=$(head -1 "$dir/bootstrap") ;;
    redis-everysec|redis-always)
      redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --appendonly yes \
        --appendfsync "${system#redis-}" --save "" --daemonize no --logfile "$work/redis.log" &
      broker_pid=$!; broker_addr=127.0.0.1:$port; wait_port "$port" ;;
    nats)
      nats-server -js -sd "$dir" -a 127.0.0.1 -p "$port" -l "$work/nats.log" &
      broker_pid=$!; broker_addr=127.0.0.1:$port; wait_port "$port" ;;
  esac
}

driver_args() {  # the per-system driver options
  case $1 in
    runnel) echo "--system kafka" ;;
    mock) echo "--system kafka --no-create" ;;
    redis-*) echo "--system redis --window 1000" ;;
    nats) echo "--system nats --window 1000" ;;
  esac
}

record() {  # system case run json
  printf '{"system":"%s","case":"%s","run":%s,"result":%s}\n' "$1" "$2" "$3" "$4" >>"$results"
  echo "  $1 $2 run $3: $4" >&2
}

bench() {  # system case run args... : runs the driver, records its JSON line
  local system=$1 case_name=$2 run=$3; shift 3
  local cmd=("$bench_bin" "$@" $(driver_args "$system") -b "$broker_addr" --broker-pid "$broker_pid" --json --label "$system")
  if [[ $run == 1 ]]; then echo "$system $case_name: runnel-bench ${*}" >>"$work/commands.txt"; fi
  local line
  if line=$("${cmd[@]}" 2>>"$work/driver.log"); then
    record "$system" "$case_name" "$run" "$line"
  else
    echo "  $system $case_name run $run: FAILED (see $work/driver.log)" >&2
    record "$system" "$case_name" "$run" "{\"failed_run\":true${line:+,\"partial\":$line}}"
  fi
}

# disk_limit RUN: sequential 1 MiB appends to a new 1 GiB file, fdatasync after
# each: what the disk gives an fsyncing log at best.
disk_limit() {
  local run=$1 line
  line=$(fio --name=disk --directory="$work" --rw=write --bs=1M --size=1g --fdatasync=1 --ioengine=psync \
    --output-format=json 2>>"$work/fio.log" | python3 -c '
import json, sys
job = json.load(sys.stdin)["jobs"][0]["write"]
print(json.dumps({"mb_per_s": round(job["bw_bytes"] / 1e6, 1), "seconds": job["runtime"] / 1000}))') || line='{"failed_run":true}'
  rm -f "$work"/disk.*
  if [[ $run == 1 ]]; then echo "disk: fio --name=disk --rw=write --bs=1M --size=1g --fdatasync=1 --ioengine=psync" >>"$work/commands.txt"; fi
  record fio disk "$run" "$line"
  sync
}

n_a=$(count 1000000)
n_b=$(count 200000)
n_c=$(count 1000000)
n_d=$(count 100000)
n_m100=$(count 1000000)
n_m1k=$(count 200000)
((n_d < 30000)) && n_d=30000  # at least 3 s of (d) at any scale
# In flight: N records of 100 B (2 MB at 20,000), N/4 of 1 KiB (5 MB).
window=(--max-in-flight "$max_in_flight")
window_1k=(--max-in-flight "$((max_in_flight / 4))")
uptime >"$work/load-before.txt"
echo "scale $scale: (a) $n_a x 100 B, (b) $n_b x 1 KiB, (c) $n_c x 100 B, (d) $n_d at 10,000/s, (m) $n_m100 x 100 B and $n_m1k x 1 KiB over 128 partitions; $runs runs; work dir $work" >&2

for run in $(seq "$runs"); do
  for case_name in $cases; do
    for system in $systems; do
      case $case_name in
        a1)
          start "$system" a1:1
          bench "$system" a1 "$run" produce -t a1 -p 1 -n "$n_a" -s 100 --acks -1 --linger-ms 5 "${window[@]}" ;;
        a16)
          start "$system" a16:16
          bench "$system" a16 "$run" produce -t a16 -p 16 -n "$n_a" -s 100 --acks -1 --linger-ms 5 "${window[@]}" ;;
        b)
          start "$system" b:1
          bench "$system" b "$run" produce -t b -p 1 -n "$n_b" -s 1024 --acks -1 --linger-ms 5 "${window_1k[@]}" ;;
        c)
          # Fill 32 partitions (the mock keeps only ~5 MiB per partition),
          # then measure reading everything back.
          start "$system" c:32
          "$bench_bin" produce -t c -p 32 -n "$n_c" -s 100 --acks -1 --linger-ms 5 $(driver_args "$system") \
            -b "$broker_addr" --json >>"$work/fill.log" 2>>"$work/driver.log" || true
          bench "$system" c "$run" consume -t c -p 32 -n "$n_c" --group "bench-$run" ;;
        d)
          start "$system" d:1
          bench "$system" d "$run" e2e -t d -p 1 -n "$n_d" -s 100 --rate 10000 --warmup 1 --acks -1 --linger-ms 1 --fetch-wait-ms 10 ;;
        m100|m1k)
          # Cold: a fresh broker and a topic created just now; warm: the same topic again.
          [[ $system == runnel || $system == mock ]] || continue
          size=100; n=$n_m100; bound=("${window[@]}")
          [[ $case_name == m1k ]] && { size=1024; n=$n_m1k; bound=("${window_1k[@]}"); }
          start "$system" "$case_name:128"
          for phase in cold warm; do
            bench "$system" "$case_name-$phase" "$run" produce -t "$case_name" -p 128 -n "$n" -s "$size" --acks -1 --linger-ms 5 "${bound[@]}"
          done ;;
        disk)
          # Once per run, not per system: the disk's fdatasync bandwidth in the work dir.
          [[ $system == "${systems%% *}" ]] || continue
          disk_limit "$run" ;;
        e)
          case $system in
            runnel|mock)
              # 10,000 partitions only in the first run: creating them takes minutes here.
              parts_list="1000 5000"; [[ $run == 1 ]] && parts_list="1000 5000 10000"
              for parts in $parts_list; do
                start "$system" "e$parts:$parts"
                bench "$system" "e$parts" "$run" idle -t "e$parts" -p "$parts" --connections 1000 --seconds "$idle_seconds" --protocol kafka
                cleanup_broker
              done ;;
            redis-*)
              start "$system"
              bench "$system" e-conn "$run" idle -p 0 --connections 1000 --seconds "$idle_seconds" --protocol tcp ;;
            nats)
              start "$system"
              bench "$system" e-conn "$run" idle -p 0 --connections 1000 --seconds "$idle_seconds" --protocol nats ;;
          esac ;;
      esac
      cleanup_broker
    done
  done
done
uptime >"$work/load-after.txt"

profile_file=
if ((profile)) && command -v perf >/dev/null; then
  # Profile Runnel on workload (a), 1 partition.
  start runnel
  perf record -F 4999 -g -o "$work/perf.data" -p "$broker_pid" 2>>"$work/perf.log" &
  perf_pid=$!
  sleep 0.5
  "$bench_bin" produce -t a1 -p 1 -n "$n_a" -s 100 --acks -1 --linger-ms 5 --system kafka -b "$broker_addr" >>"$work/perf.log" 2>&1 || true
  kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null || true
  cleanup_broker
  perf report -i "$work/perf.data" --no-children --sort symbol --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -25 >"$work/perf-top.txt" || true
  profile_file=$work/perf-top.txt
fi

python3 bench/report.py --results "$results" --commands "$work/commands.txt" --invocation "$invocation" \
  --scale "$scale" --runs "$runs" --load-before "$work/load-before.txt" --load-after "$work/load-after.txt" \
  ${profile_file:+--profile "$profile_file"} --out "$out"
echo "wrote $out (raw results in $results)" >&2
