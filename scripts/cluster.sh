#!/usr/bin/env bash
# A local cluster in one command: a single-member etcd and N brokers on loopback,
# data under one folder ($RUNNEL_CLUSTER_DIR, default ./runnel-cluster).
#
#   scripts/cluster.sh start [N]   etcd on 127.0.0.1:2379, brokers on 9092, 9093, ... (default N=3)
#   scripts/cluster.sh status      what runs, and `runnel cluster info`
#   scripts/cluster.sh stop        stops exactly what `start` started (by PID), brokers first
#
# Ports: etcd client 2379 and peer 2380; broker i (1..N) listens on 9091+i and
# serves /metrics on 9643+i. Logs are in the folder (etcd.log, broker-<i>.log).
# The broker is built into build/ ($RUNNEL_BUILD_DIR) unless RUNNEL_NO_BUILD=1.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dir=${RUNNEL_CLUSTER_DIR:-$root/runnel-cluster}
build_dir=${RUNNEL_BUILD_DIR:-build}
runnel=$root/$build_dir/src/cli/runnel

usage() {
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_for_port() {
  local port=$1 what=$2
  for _ in $(seq 1 150); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  echo "cluster.sh: $what did not open port $port within 30 s (see $dir)" >&2
  return 1
}

start() {
  local n=${1:-3}
  [[ $n =~ ^[0-9]+$ && $n -ge 1 && $n -le 9 ]] || { echo "cluster.sh: N must be 1..9" >&2; exit 2; }
  if alive "$dir/etcd.pid"; then echo "cluster.sh: already running (scripts/cluster.sh stop first)" >&2; exit 1; fi
  if [[ ${RUNNEL_NO_BUILD:-0} != 1 ]]; then
    scripts/install-deps.sh
    cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$build_dir" --target runnel
  fi
  mkdir -p "$dir"
  etcd --name runnel-etcd --data-dir "$dir/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster runnel-etcd=http://127.0.0.1:2380 >"$dir/etcd.log" 2>&1 &
  echo $! >"$dir/etcd.pid"
  wait_for_port 2379 etcd
  for i in $(seq 1 "$n"); do
    local port=$((9091 + i)) metrics=$((9643 + i))
    "$runnel" serve \
      --set node.id="$i" \
      --set listeners=PLAINTEXT://127.0.0.1:$port \
      --set http.listeners=http://127.0.0.1:$metrics \
      --set log.dirs="$dir/broker-$i" \
      --set metadata.store=etcd://127.0.0.1:2379 \
      --set default.replication.factor="$((n < 3 ? n : 3))" \
      --set min.insync.replicas="$((n < 3 ? 1 : 2))" \
      >"$dir/broker-$i.log" 2>&1 &
    echo $! >"$dir/broker-$i.pid"
  done
  for i in $(seq 1 "$n"); do wait_for_port $((9091 + i)) "broker $i"; done
  local brokers
  brokers=$(seq -s, 9092 $((9091 + n)) | sed 's/\([0-9]*\)/127.0.0.1:\1/g')
  echo "cluster of $n brokers running: bootstrap $brokers (data and logs in $dir)"
  echo "try: RUNNEL_BROKERS=$brokers $runnel cluster info"
}

status() {
  alive "$dir/etcd.pid" && echo "etcd: running (pid $(cat "$dir/etcd.pid"))" || echo "etcd: not running"
  local brokers=""
  for pid_file in "$dir"/broker-*.pid; do
    [[ -e $pid_file ]] || continue
    local i=${pid_file##*/broker-}; i=${i%.pid}
    if alive "$pid_file"; then
      echo "broker $i: running (pid $(cat "$pid_file"), 127.0.0.1:$((9091 + i)))"
      brokers+="${brokers:+,}127.0.0.1:$((9091 + i))"
    else
      echo "broker $i: not running"
    fi
  done
  [[ -n $brokers ]] && "$runnel" cluster info -b "$brokers" || true
}

stop_pid_file() {
  local pid_file=$1
  [[ -f $pid_file ]] || return 0
  local pid
  pid=$(cat "$pid_file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    # A broker's controlled shutdown takes up to controlled.shutdown.timeout.ms
    # (30 s) plus 10 s of connection drain: wait for that before SIGKILL.
    for _ in $(seq 1 250); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pid_file"
}

stop() {
  # Brokers together (each hands its leaderships to the others), then etcd.
  for pid_file in "$dir"/broker-*.pid; do [[ -e $pid_file ]] && stop_pid_file "$pid_file" & done
  wait
  stop_pid_file "$dir/etcd.pid"
  echo "stopped (data kept in $dir)"
}

case ${1:-} in
  start) start "${2:-3}" ;;
  status) status ;;
  stop) stop ;;
  *) usage ;;
esac
