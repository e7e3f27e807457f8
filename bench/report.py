#!/usr/bin/env python3
"""Turns bench/compare.sh's raw results (JSON lines) into docs/performance.md:
the machine, the exact commands, and per workload a table of medians over the
runs with each peer's ratio to Runnel (peer / Runnel)."""
import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess

CASES = [
    ("a1", "(a) produce 100 B records, 1 partition, acks=all, linger 5 ms"),
    ("a16", "(a) produce 100 B records, 16 partitions, acks=all, linger 5 ms"),
    ("b", "(b) produce 1 KiB records, 1 partition, acks=all, linger 5 ms"),
    ("c", "(c) consume everything from the start (32 partitions), one consumer in a group"),
    ("d", "(d) end-to-end latency at 10,000 records/s, 1 partition, acks=all, linger 1 ms, fetch.wait.max.ms 10"),
    ("m100-cold", "(m) produce 100 B records round-robin over 128 partitions, topic just created (cold), acks=all, linger 5 ms"),
    ("m100-warm", "(m) produce 100 B records round-robin over 128 partitions, same topic again (warm)"),
    ("m1k-cold", "(m) produce 1 KiB records round-robin over 128 partitions, topic just created (cold), acks=all, linger 5 ms"),
    ("m1k-warm", "(m) produce 1 KiB records round-robin over 128 partitions, same topic again (warm)"),
    ("disk", "Disk limit of this run: fio, sequential 1 MiB appends, fdatasync after each"),
    ("e1000", "(e) 1,000 partitions and 1,000 idle connections"),
    ("e5000", "(e) 5,000 partitions and 1,000 idle connections"),
    ("e10000", "(e) 10,000 partitions and 1,000 idle connections (first run only)"),
    ("e-conn", "(e) 1,000 idle connections (no partitions: Redis and NATS have none)"),
]
PRODUCE = [("records_per_s", "records/s", "{:,.0f}"), ("mb_per_s", "MB/s", "{:.1f}"),
           ("ack_p50_ms", "ack p50 ms", "{:.2f}"), ("ack_p99_ms", "ack p99 ms", "{:.2f}"),
           ("ack_p999_ms", "ack p99.9 ms", "{:.2f}"), ("ack_max_ms", "ack max ms", "{:.2f}"),
           ("broker_cpu_s", "broker CPU s", "{:.2f}"), ("broker_user_s", "of which user s", "{:.2f}"),
           ("broker_sys_s", "of which system s", "{:.2f}"), ("cpu_per_m", "broker CPU s per 1 M records", "{:.2f}"),
           ("broker_peak_rss_mb", "broker peak RSS MiB", "{:.0f}")]
METRICS = {
    "a1": PRODUCE, "a16": PRODUCE, "b": PRODUCE,
    "m100-cold": PRODUCE, "m100-warm": PRODUCE, "m1k-cold": PRODUCE, "m1k-warm": PRODUCE,
    "disk": [("mb_per_s", "MB/s", "{:.1f}"), ("seconds", "seconds", "{:.2f}")],
    "c": [("records_per_s", "records/s", "{:,.0f}"), ("mb_per_s", "MB/s", "{:.1f}"),
          ("records", "records read", "{:,.0f}"), ("broker_cpu_s", "broker CPU s", "{:.2f}"),
          ("broker_peak_rss_mb", "broker peak RSS MiB", "{:.0f}")],
    "d": [("e2e_p50_ms", "e2e p50 ms", "{:.2f}"), ("e2e_p99_ms", "e2e p99 ms", "{:.2f}"),
          ("e2e_p999_ms", "e2e p99.9 ms", "{:.2f}"), ("e2e_max_ms", "e2e max ms", "{:.2f}"),
          ("ack_p99_ms", "ack p99 ms", "{:.2f}"), ("records", "records measured", "{:,.0f}"),
          ("broker_cpu_s", "broker CPU s", "{:.2f}"), ("broker_peak_rss_mb", "broker peak RSS MiB", "{:.0f}")],
}
IDLE = [("create_seconds", "topic creation s", "{:.2f}"), ("idle_cpu_pct", "idle CPU % of a core", "{:.2f}"),
        ("broker_rss_mb", "broker RSS MiB", "{:.0f}"), ("broker_peak_rss_mb", "broker peak RSS MiB", "{:.0f}")]
for c in ("e1000", "e5000", "e10000", "e-conn"):
    METRICS[c] = IDLE
SYSTEMS = ["runnel", "mock", "redis-everysec", "redis-always", "nats", "fio"]
NAMES = {"runnel": "Runnel", "mock": "librdkafka mock", "redis-everysec": "Redis AOF everysec",
         "redis-always": "Redis AOF always", "nats": "NATS JetStream", "fio": "fio"}


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception:  # noqa: BLE001
        return ""


def counted(values, case, system):
    """The runs of a case that produced figures (records, idle CPU or disk MB/s)."""
    return (values.get((case, system, "records")) or values.get((case, system, "idle_cpu_pct"))
            or values.get((case, system, "mb_per_s")) or [])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--commands", required=True)
    ap.add_argument("--invocation", required=True)
    ap.add_argument("--scale", required=True)
    ap.add_argument("--runs", required=True)
    ap.add_argument("--load-before", required=True)
    ap.add_argument("--load-after", required=True)
    ap.add_argument("--profile")
    ap.add_argument("--build", default="RelWithDebInfo build, -O2 -g")
    ap.add_argument("--out", required=True)
    ap.add_argument("--notes", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "performance-notes.md"),
                    help="hand-written analysis appended to the page, if the file exists")
    args = ap.parse_args()

    values = {}  # (case, system, metric) -> [values]
    failures = {}
    for line in open(args.results):
        row = json.loads(line)
        r = row["result"]
        key = (row["case"], row["system"])
        if r.get("failed_run"):
            failures[key] = failures.get(key, 0) + 1
            continue
        if r.get("records") and r.get("broker_cpu_s") is not None and r["broker_cpu_s"] >= 0:
            r["cpu_per_m"] = r["broker_cpu_s"] / r["records"] * 1e6
        for metric, v in r.items():
            if isinstance(v, (int, float)):
                values.setdefault((row["case"], row["system"], metric), []).append(v)

    out = []
    w = out.append
    w("# Performance\n")
    w("Generated by `bench/compare.sh` (driver: `runnel-bench`, see `bench/README.md`). "
      "Every system ran side by side in the same run on the same machine, each started fresh "
      "(new data dir) for every workload, on loopback. Figures are medians of "
      f"{args.runs} runs; the ratio in brackets is the peer's median divided by Runnel's.\n")
    # The 1-minute load average before the run tells whether the machine was quiet.
    load = re.search(r"load average: ([0-9.]+)", open(args.load_before).read())
    if load and float(load.group(1)) > 1.0:
        w(f"**The machine was busy** (1-minute load average {load.group(1)} before the run, on 2 cores: "
          "other work was running), so absolute figures are noisy and low; the ratios between systems "
          "measured in the same run are the meaningful part.\n")
    else:
        w("The machine was otherwise idle (see the load averages below): the benchmark driver, the "
          "system under test and the kernel shared its 2 cores, nothing else.\n")
    w(f"**Scale: {args.scale}** (1 = the full workloads of issue 7; record counts of (a)-(c) and the "
      "duration of (d), at least 3 s, are multiplied by it; (e) is never scaled).\n")
    w("## Machine\n")
    cpu = sh("lscpu | sed -n 's/^Model name: *//p' | head -1")
    mem = sh("free -g | awk '/Mem:/{print $2}'")
    fds = sh("ulimit -n")
    w(f"- CPU: {cpu}, {os.cpu_count()} cores; memory: {mem} GiB; open-file limit (hard, the most the script can set): {fds}")
    w(f"- Kernel: {platform.release()}; OS: {sh('. /etc/os-release; echo $PRETTY_NAME')}")
    w(f"- Date: {datetime.datetime.utcnow().strftime('%Y-%m-%d %H:%M UTC')}")
    w(f"- Load average before: `{open(args.load_before).read().strip()}`")
    w(f"- Load average after: `{open(args.load_after).read().strip()}`")
    rdk = sh("pkg-config --modversion rdkafka")
    redis = sh("redis-server --version | cut -d' ' -f1-3")
    nats = sh("nats-server --version")
    rev = sh("git rev-parse --short HEAD")
    w(f"- librdkafka {rdk}, {redis}, {nats}, Runnel {rev} ({args.build})\n")
    w("## Commands\n")
    w("```")
    w(args.invocation)
    w("```\n")
    w("Each case, as run by the script (`-b`, `--broker-pid`, `--json` and the per-system "
      "`--system` options are added by the script):\n")
    w("```")
    if os.path.exists(args.commands):
        seen = set()
        for line in open(args.commands):
            if line not in seen:
                seen.add(line)
                w(line.rstrip())
    w("```\n")
    w("Systems: Runnel (`runnel serve`, every `acks=all` write fsynced before the ack, group commit); "
      "librdkafka's mock cluster (`rd_kafka_mock_cluster_new`, in memory, no durability: the ceiling of "
      "the client); Redis Streams (`redis-server --appendonly yes --appendfsync everysec|always`, "
      "pipelined XADD, 1,000 in flight, one stream key per partition, read back with XREADGROUP NOACK); "
      "NATS JetStream (`nats-server -js`, file storage, one stream with one subject per partition, "
      "publishes with JetStream acks, 1,000 in flight, read back with an ephemeral push consumer; note "
      "JetStream acknowledges before fsync: it syncs its files every 2 minutes by default).\n")
    w("## Results\n")
    for case, title in CASES:
        if not any(k[0] == case for k in values):
            continue
        systems = [s for s in SYSTEMS
                   if any(k[0] == case and k[1] == s for k in values) or (case, s) in failures]
        w(f"### {title}\n")
        w("| metric | " + " | ".join(NAMES[s] for s in systems) + " |")
        w("|---|" + "---|" * len(systems))
        for metric, label, fmt in METRICS[case]:
            cells = []
            base = values.get((case, "runnel", metric))
            base_m = statistics.median(base) if base else None
            for s in systems:
                v = values.get((case, s, metric))
                if not v:
                    cells.append("–")
                    continue
                m = statistics.median(v)
                cell = fmt.format(m)
                if s != "runnel" and base_m:
                    cell += f" ({m / base_m:.2f}×)"
                cells.append(cell)
            w(f"| {label} | " + " | ".join(cells) + " |")
        failed = [f"{NAMES[s]} {failures[(case, s)]}" for s in systems if (case, s) in failures]
        runs = [f"{NAMES[s]} {len(counted(values, case, s))}"
                for s in systems]
        w(f"\nRuns counted: {', '.join(runs)}." + (f" Failed runs: {', '.join(failed)}." if failed else "") + "\n")
    if args.profile and os.path.exists(args.profile):
        w("## Profile of Runnel on workload (a), 1 partition (perf, self time by symbol)\n")
        w("```")
        w(open(args.profile).read().rstrip())
        w("```\n")
    if args.notes and os.path.exists(args.notes):
        w(open(args.notes).read().rstrip() + "\n")
    # The cluster figures of bench/cluster.sh's last run (a separate run, kept as it is).
    cluster = os.path.join(os.path.dirname(os.path.abspath(__file__)), "performance-cluster.md")
    if os.path.exists(cluster):
        w(open(cluster).read().rstrip() + "\n")
    with open(args.out, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
