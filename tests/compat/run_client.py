#!/usr/bin/python3
"""Runs one compatibility client against a fresh Runnel broker.

Starts `runnel serve` on a free loopback port with its own temp data dir, runs
the client command with RUNNEL_BOOTSTRAP set, and collects the lines it prints of
the form

    RESULT <scenario> PASS|FAIL|SKIP [detail]

into <results-dir>/<client>.json (read by gen_matrix.py). Exits non-zero when a
scenario failed, when an expected scenario gave no result, or on timeout.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_accepting(port, proc, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runnel", required=True)
    ap.add_argument("--client", required=True)
    ap.add_argument("--version", default="", help="client version shown in the matrix")
    ap.add_argument("--results-dir", required=True)
    ap.add_argument("--timeout", type=float, default=150)
    ap.add_argument("--set", action="append", default=[], help="extra broker setting key=value")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command

    tmp = tempfile.mkdtemp(prefix=f"runnel-compat-{args.client}-")
    port = free_port()
    settings = [
        f"listeners=PLAINTEXT://127.0.0.1:{port}",
        f"log.dirs={tmp}/logs",
        "num.partitions=3",
        "group.initial.rebalance.delay.ms=0",
        # No metrics listener: the default port 9644 would collide with other
        # brokers of tests running in parallel.
        "http.listeners=",
    ] + args.set
    broker_cmd = [args.runnel, "serve"]
    for kv in settings:
        broker_cmd += ["--set", kv]
    broker_log = open(os.path.join(tmp, "broker.log"), "wb")
    broker = subprocess.Popen(broker_cmd, stdin=subprocess.DEVNULL, stdout=broker_log, stderr=subprocess.STDOUT)
    results = {}
    ok = False
    try:
        if not wait_accepting(port, broker, 20):
            print("broker did not come up", file=sys.stderr)
            return 1
        env = dict(os.environ, RUNNEL_BOOTSTRAP=f"127.0.0.1:{port}", RUNNEL_COMPAT_TMP=tmp)
        start = time.monotonic()
        try:
            out = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=None, timeout=args.timeout)
            rc = out.returncode
            stdout = out.stdout.decode(errors="replace")
        except subprocess.TimeoutExpired as e:
            rc = "timeout"
            stdout = (e.stdout or b"").decode(errors="replace")
        elapsed = time.monotonic() - start
        sys.stdout.write(stdout)
        for line in stdout.splitlines():
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[0] == "RESULT":
                results[parts[1]] = {"status": parts[2], "detail": parts[3] if len(parts) > 3 else ""}
        failed = [k for k, v in results.items() if v["status"] == "FAIL"]
        passed = [k for k, v in results.items() if v["status"] == "PASS"]
        if rc != 0:
            print(f"client exited with {rc}", file=sys.stderr)
        ok = rc == 0 and not failed and passed
        record = {"client": args.client, "version": args.version, "seconds": round(elapsed, 1),
                  "exit": rc, "results": results}
        os.makedirs(args.results_dir, exist_ok=True)
        with open(os.path.join(args.results_dir, f"{args.client}.json"), "w") as f:
            json.dump(record, f, indent=1, sort_keys=True)
        skipped = len(results) - len(passed) - len(failed)
        print(f"{args.client}: {len(passed)} passed, {len(failed)} failed, {skipped} skipped ({elapsed:.1f} s)")
        return 0 if ok else 1
    finally:
        broker.send_signal(signal.SIGTERM)
        try:
            broker.wait(20)
        except subprocess.TimeoutExpired:
            broker.kill()
            broker.wait()
        broker_log.close()
        if ok and not os.environ.get("RUNNEL_COMPAT_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept broker data and log in {tmp}", file=sys.stderr)
            with open(os.path.join(tmp, "broker.log"), "rb") as f:
                tail = f.read()[-4000:].decode(errors="replace")
            print("--- broker log tail ---\n" + tail, file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
