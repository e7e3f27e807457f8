"""Shared helpers for the Python compatibility clients."""
import os
import sys
import time
import traceback
import uuid

BOOTSTRAP = os.environ.get("RUNNEL_BOOTSTRAP", "127.0.0.1:9092")
RUN_ID = uuid.uuid4().hex[:8]
LARGE_RECORD_BYTES = 900 * 1024


def name(kind):
    return f"compat-{kind}-{RUN_ID}"


def scenario(fn):
    """Runs fn, printing RESULT <fn name> PASS|FAIL|SKIP. fn may return ("SKIP", why)."""
    start = time.monotonic()
    try:
        out = fn()
        took = f"{time.monotonic() - start:.1f}s"
        if isinstance(out, tuple) and out[0] == "SKIP":
            print(f"RESULT {fn.__name__} SKIP {out[1]}", flush=True)
        else:
            print(f"RESULT {fn.__name__} PASS {out or ''} ({took})".rstrip(), flush=True)
    except Exception as e:  # noqa: BLE001 - report every failure as a scenario result
        traceback.print_exc(file=sys.stderr)
        msg = f"{type(e).__name__}: {e}".replace("\n", " ")[:300]
        print(f"RESULT {fn.__name__} FAIL {msg}", flush=True)
    return fn


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def wait_until(pred, timeout, what, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what}")


def sample_records(n, partitions=3):
    """Keyed records with headers; key i goes to partition i % partitions."""
    now = int(time.time() * 1000)
    return [
        {"partition": i % partitions, "key": f"key-{i}".encode(), "value": f"value-{i}".encode(),
         "headers": [("h1", f"hv-{i}".encode()), ("h2", b"")], "timestamp": now - 1000 + i}
        for i in range(n)
    ]


def check_records(expected, got):
    """got: list of dicts with partition, offset, key, value, headers, timestamp."""
    expect(len(got) == len(expected), f"got {len(got)} records, expected {len(expected)}")
    by_partition = {}
    for r in got:
        by_partition.setdefault(r["partition"], []).append(r)
    for p, recs in by_partition.items():
        offsets = [r["offset"] for r in recs]
        expect(offsets == sorted(offsets), f"partition {p} out of order: {offsets}")
        want = [e for e in expected if e["partition"] == p]
        expect(len(want) == len(recs), f"partition {p}: {len(recs)} records, expected {len(want)}")
        for w, r in zip(want, sorted(recs, key=lambda r: r["offset"])):
            expect(r["key"] == w["key"], f"key {r['key']!r} != {w['key']!r}")
            expect(r["value"] == w["value"], f"value {r['value']!r} != {w['value']!r}")
            expect(list(r["headers"]) == list(w["headers"]), f"headers {r['headers']!r} != {w['headers']!r}")
            expect(r["timestamp"] == w["timestamp"], f"timestamp {r['timestamp']} != {w['timestamp']}")
