#!/usr/bin/python3
"""Compatibility scenarios for kcat (librdkafka's command-line client)."""
import json
import os
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from compat_common import BOOTSTRAP, LARGE_RECORD_BYTES, expect, name, scenario, wait_until  # noqa: E402

FIELDS = "%p\t%o\t%K\t%k\t%S\t%s\t%T\t%h\n"


def kcat(*args, stdin=None, timeout=30):
    out = subprocess.run(["kcat", "-b", BOOTSTRAP, "-X", "socket.timeout.ms=10000", *args], input=stdin,
                         capture_output=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"kcat {' '.join(args)} exited {out.returncode}: {out.stderr.decode()[-500:]}")
    return out.stdout.decode(errors="replace")


def produce(topic, lines, *args):
    kcat("-P", "-t", topic, "-K", ":", "-X", "acks=all", *args, stdin="".join(l + "\n" for l in lines).encode())


def consume(topic, *args):
    """Records as dicts (partition, offset, key/value lengths and text, timestamp, headers)."""
    out = kcat("-C", "-t", topic, "-e", "-Z", "-f", FIELDS, *args)
    recs = []
    for line in out.splitlines():
        p, o, klen, k, vlen, v, ts, h = line.split("\t")
        recs.append({"partition": int(p), "offset": int(o), "klen": int(klen), "key": k, "vlen": int(vlen),
                     "value": v, "timestamp": int(ts), "headers": h})
    return recs


def group_consume(group, topic, count):
    return kcat("-G", group, "-X", "auto.offset.reset=earliest", "-X", "session.timeout.ms=6000", "-q",
                "-c", str(count), "-f", "%p\t%o\t%k\t%s\n", topic, timeout=40).splitlines()


def produce_sample(topic, partitions, per_partition):
    """Keyed records with headers, per partition; returns (records, time before, time after)."""
    before = int(time.time() * 1000)
    expected = []
    for p in range(partitions):
        lines = [f"key-{p}-{i}:value-{p}-{i}" for i in range(per_partition)]
        produce(topic, lines, "-p", str(p), "-H", f"h1=hv-{p}", "-H", "h2=")
        expected += [{"partition": p, "key": f"key-{p}-{i}", "value": f"value-{p}-{i}"} for i in range(per_partition)]
    return expected, before, int(time.time() * 1000)


def check(expected, got, before=None, after=None):
    expect(len(got) == len(expected), f"got {len(got)} records, expected {len(expected)}")
    for p in {e["partition"] for e in expected}:
        want = [e for e in expected if e["partition"] == p]
        have = [r for r in got if r["partition"] == p]
        expect([r["offset"] for r in have] == list(range(len(want))), f"partition {p} offsets {[r['offset'] for r in have]}")
        for w, r in zip(want, have):
            expect((r["key"], r["value"]) == (w["key"], w["value"]), f"record {r} != {w}")
            expect(r["headers"] == f"h1=hv-{p},h2=", f"headers {r['headers']!r}")
            if before is not None:
                expect(before - 1000 <= r["timestamp"] <= after + 1000, f"timestamp {r['timestamp']} not in [{before}, {after}]")


@scenario
def bootstrap():
    md = json.loads(kcat("-L", "-J"))
    expect(len(md["brokers"]) == 1, f"brokers {md['brokers']}")
    version = re.search(r"[Vv]ersion (\S+)", subprocess.run(["kcat", "-V"], capture_output=True, text=True).stdout)
    return f"kcat {version.group(1) if version else '?'}"


@scenario
def topic_admin():
    return ("SKIP", "kcat has no admin API (it cannot create, describe or delete topics)")


@scenario
def produce_consume():
    topic = name("pc")  # auto-created with num.partitions=3
    expected, before, after = produce_sample(topic, 3, 10)
    check(expected, consume(topic), before, after)


@scenario
def two_groups():
    topic = name("2g")
    produce_sample(topic, 3, 4)
    for g in ("a", "b"):
        lines = group_consume(name(f"2g-{g}"), topic, 12)
        expect(len(lines) == 12, f"group {g} read {len(lines)}")


@scenario
def commit_resume():
    topic = name("cr")
    produce(topic, [f"k{i}:v{i}" for i in range(10)], "-p", "0")
    group = name("cr-g")
    first = group_consume(group, topic, 4)
    expect([l.split("\t")[1] for l in first] == ["0", "1", "2", "3"], f"first {first}")
    rest = group_consume(group, topic, 6)
    expect([l.split("\t")[1] for l in rest] == [str(i) for i in range(4, 10)], f"resumed {rest}")


class Member:
    """A `kcat -G` process; follows its assignment from the rebalance lines on stderr."""

    def __init__(self, group, topic):
        self.proc = subprocess.Popen(["kcat", "-b", BOOTSTRAP, "-G", group, "-X", "session.timeout.ms=6000",
                                      "-o", "end", "-f", "", topic],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.owned = 0
        threading.Thread(target=self._follow, daemon=True).start()

    def _follow(self):
        for line in self.proc.stderr:
            line = line.decode(errors="replace")
            if "rebalanced" in line:
                self.owned = len(re.findall(r"\[\d+\]", line)) if "assigned:" in line else 0

    def leave(self):
        self.proc.terminate()  # kcat closes the consumer, which leaves the group
        self.proc.wait(20)


@scenario
def rebalance():
    topic = name("rb")
    produce(topic, ["k:v"])  # auto-create (3 partitions)
    group = name("rb-g")
    a = Member(group, topic)
    try:
        wait_until(lambda: a.owned == 3, 20, "first member owns 3")
        b = Member(group, topic)
        try:
            wait_until(lambda: {a.owned, b.owned} == {1, 2}, 30, "1/2 split after join")
        finally:
            b.leave()
        wait_until(lambda: a.owned == 3, 30, "3 again after leave")
    finally:
        a.leave()


@scenario
def replay():
    topic = name("rp")
    produce(topic, [f"k{i}:v{i}" for i in range(5)], "-p", "0")
    time.sleep(0.05)
    middle = int(time.time() * 1000)
    time.sleep(0.05)
    produce(topic, [f"k{i}:v{i}" for i in range(5, 10)], "-p", "0")
    got = consume(topic, "-p", "0", "-o", f"s@{middle}")
    expect([r["offset"] for r in got] == [5, 6, 7, 8, 9], f"by time {[r['offset'] for r in got]}")
    got = consume(topic, "-p", "0", "-o", "2")
    expect([r["offset"] for r in got] == list(range(2, 10)), f"from offset 2 {[r['offset'] for r in got]}")
    got = consume(topic, "-p", "0", "-o", "-3")
    expect([r["offset"] for r in got] == [7, 8, 9], f"last 3 {[r['offset'] for r in got]}")


@scenario
def compression():
    for codec in ("gzip", "snappy", "lz4", "zstd"):
        topic = name(f"z-{codec}")
        lines = [f"key-{i}:value-{i}" for i in range(20)]
        produce(topic, lines, "-p", "0", "-z", codec, "-H", "h1=hv-0", "-H", "h2=")
        got = consume(topic, "-p", "0")
        check([{"partition": 0, "key": f"key-{i}", "value": f"value-{i}"} for i in range(20)], got)
    return "gzip,snappy,lz4,zstd"


@scenario
def idempotent():
    topic = name("idem")
    produce(topic, [f"key-{i}:value-{i}" for i in range(30)], "-p", "1", "-X", "enable.idempotence=true")
    got = consume(topic, "-p", "1")
    expect([(r["offset"], r["key"]) for r in got] == [(i, f"key-{i}") for i in range(30)], "idempotent records")


@scenario
def large_record():
    topic = name("big")
    value = "x" * LARGE_RECORD_BYTES
    produce(topic, ["big:" + value], "-p", "0")
    got = consume(topic, "-p", "0")
    expect(len(got) == 1 and got[0]["vlen"] == LARGE_RECORD_BYTES and got[0]["value"] == value, "large record")


@scenario
def null_empty_tombstone():
    topic = name("nul")
    # -Z: an empty value is sent as NULL (a tombstone); a line without the key delimiter has a NULL key.
    produce(topic, ["no-key", "k-tomb:"], "-p", "0", "-Z")
    produce(topic, ["k-empty:"], "-p", "0")
    # Lengths tell NULL (-1) from empty (0); with -Z kcat prints both as the text NULL.
    got = [(r["klen"], r["vlen"], r["value"] if r["vlen"] > 0 else "") for r in consume(topic, "-p", "0")]
    expect(got == [(-1, 6, "no-key"), (6, -1, ""), (7, 0, "")], f"got {got}")
