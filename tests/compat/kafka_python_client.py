#!/usr/bin/python3
"""Compatibility scenarios for kafka-python (a pure-Python protocol implementation)."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from compat_common import (BOOTSTRAP, LARGE_RECORD_BYTES, check_records, expect, name,  # noqa: E402
                           sample_records, scenario, wait_until)

import kafka  # noqa: E402
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic  # noqa: E402

admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP, request_timeout_ms=10000)


def create_topic(topic, partitions=3, config=None):
    admin.create_topics([NewTopic(topic, partitions, 1, topic_configs=config or {})], timeout_ms=10000)


def produce(records, topic, **conf):
    p = KafkaProducer(**{"bootstrap_servers": BOOTSTRAP, "acks": "all", "linger_ms": 5, **conf})
    futures = [p.send(topic, value=r["value"], key=r["key"], partition=r["partition"],
                      headers=r.get("headers"), timestamp_ms=r.get("timestamp")) for r in records]
    for f in futures:
        f.get(timeout=30)
    p.close(10)


def to_dict(m):
    return {"partition": m.partition, "offset": m.offset, "key": m.key, "value": m.value,
            "headers": m.headers or [], "timestamp": m.timestamp}


def consume(consumer, n, timeout=20):
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        for recs in consumer.poll(timeout_ms=200).values():
            got.extend(to_dict(m) for m in recs)
    return got


def consumer(group=None, topic=None, **conf):
    c = KafkaConsumer(bootstrap_servers=BOOTSTRAP, group_id=group, auto_offset_reset="earliest",
                      enable_auto_commit=False, session_timeout_ms=6000, heartbeat_interval_ms=500,
                      max_partition_fetch_bytes=2 * 1024 * 1024, fetch_max_bytes=4 * 1024 * 1024, **conf)
    if topic:
        c.subscribe([topic])
    return c


def assigned(topic, c, partitions=1):
    c.assign([TopicPartition(topic, p) for p in range(partitions)])
    c.seek_to_beginning()
    return c


@scenario
def bootstrap():
    c = consumer()
    expect(c.bootstrap_connected(), "not connected")
    topics = c.topics()
    c.close()
    return f"kafka-python {kafka.__version__}, {len(topics)} topics"


@scenario
def topic_admin():
    topic = name("admin")
    create_topic(topic, 2, {"retention.ms": "3600000", "cleanup.policy": "compact"})
    c = consumer()
    wait_until(lambda: c.partitions_for_topic(topic) == {0, 1}, 10, "2 partitions in metadata")
    c.close()
    res = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    entries = {e[0]: e[1] for e in res[0].resources[0][4]}
    expect(entries.get("retention.ms") == "3600000", f"retention.ms {entries.get('retention.ms')}")
    expect(entries.get("cleanup.policy") == "compact", f"cleanup.policy {entries.get('cleanup.policy')}")
    admin.delete_topics([topic], timeout_ms=10000)
    wait_until(lambda: topic not in admin.list_topics(), 10, "topic deletion")


@scenario
def produce_consume():
    topic = name("pc")
    create_topic(topic)
    records = sample_records(30)
    produce(records, topic)
    c = assigned(topic, consumer(), 3)
    got = consume(c, len(records))
    c.close()
    check_records(records, got)


@scenario
def two_groups():
    topic = name("2g")
    create_topic(topic)
    records = sample_records(12)
    produce(records, topic)
    for g in ("a", "b"):
        c = consumer(name(f"2g-{g}"), topic)
        got = consume(c, len(records))
        c.commit()
        c.close()
        check_records(records, got)


@scenario
def commit_resume():
    topic = name("cr")
    create_topic(topic, 1)
    produce(sample_records(10, partitions=1), topic)
    group = name("cr-g")
    c = consumer(group, topic, max_poll_records=4)
    first = consume(c, 4)
    expect(len(first) == 4, f"first read {len(first)}")
    c.commit()
    c.close()
    c = consumer(group, topic)
    rest = consume(c, 6)
    c.close()
    expect([r["offset"] for r in rest] == list(range(4, 10)), f"resumed at {[r['offset'] for r in rest]}")


class Member(threading.Thread):
    """A group member polling in its own thread: kafka-python blocks in poll()
    during a rebalance, so two members cannot share one thread."""

    def __init__(self, group, topic):
        super().__init__(daemon=True)
        self.consumer = consumer(group, topic)
        self.owned = 0
        self.stop = threading.Event()
        self.start()

    def run(self):
        while not self.stop.is_set():
            self.consumer.poll(timeout_ms=100)
            self.owned = len(self.consumer.assignment())
        self.consumer.close()

    def leave(self):
        self.stop.set()
        self.join(20)


@scenario
def rebalance():
    topic = name("rb")
    create_topic(topic, 4)
    group = name("rb-g")
    a = Member(group, topic)
    try:
        wait_until(lambda: a.owned == 4, 20, "first member owns 4")
        b = Member(group, topic)
        try:
            wait_until(lambda: a.owned == 2 and b.owned == 2, 30, "2/2 split after join")
        finally:
            b.leave()
        wait_until(lambda: a.owned == 4, 30, "4 again after leave")
    finally:
        a.leave()


@scenario
def replay():
    topic = name("rp")
    create_topic(topic, 1)
    records = sample_records(10, partitions=1)
    produce(records, topic)
    c = consumer()
    tp = TopicPartition(topic, 0)
    c.assign([tp])
    found = c.offsets_for_times({tp: records[6]["timestamp"]})[tp]
    expect(found is not None and found.offset == 6, f"offset for timestamp: {found}")
    c.seek(tp, found.offset)
    got = consume(c, 4)
    expect([r["offset"] for r in got] == [6, 7, 8, 9], f"by time: {[r['offset'] for r in got]}")
    c.seek(tp, 2)
    got = consume(c, 8)
    expect([r["offset"] for r in got] == list(range(2, 10)), f"after seek: {[r['offset'] for r in got]}")
    expect(c.beginning_offsets([tp])[tp] == 0 and c.end_offsets([tp])[tp] == 10, "watermarks")
    c.close()


@scenario
def compression():
    done = []
    for codec in ("gzip", "snappy", "lz4", "zstd"):
        topic = name(f"z-{codec}")
        create_topic(topic, 1)
        records = sample_records(20, partitions=1)
        produce(records, topic, compression_type=codec, linger_ms=50)
        c = assigned(topic, consumer())
        got = consume(c, len(records))
        c.close()
        check_records(records, got)
        done.append(codec)
    return ",".join(done)


@scenario
def idempotent():
    return ("SKIP", "kafka-python 2.0.2 has no idempotent producer")


@scenario
def large_record():
    topic = name("big")
    create_topic(topic, 1)
    value = bytes(range(256)) * (LARGE_RECORD_BYTES // 256)
    produce([{"partition": 0, "key": b"big", "value": value}], topic, max_request_size=1000000)
    c = assigned(topic, consumer())
    got = consume(c, 1)
    c.close()
    expect(len(got) == 1 and got[0]["value"] == value, "large record differs")


@scenario
def null_empty_tombstone():
    # A null key goes to a plain topic: compacted topics reject it (INVALID_RECORD), as Kafka does.
    plain, compacted = name("nul"), name("tomb")
    create_topic(plain, 1)
    create_topic(compacted, 1, {"cleanup.policy": "compact"})
    cases = {plain: [{"partition": 0, "key": None, "value": b"no-key"},
                     {"partition": 0, "key": None, "value": b""}],
             compacted: [{"partition": 0, "key": b"k-empty", "value": b""},
                         {"partition": 0, "key": b"k-tomb", "value": b"v"},
                         {"partition": 0, "key": b"k-tomb", "value": None}]}
    for topic, records in cases.items():
        produce(records, topic)
        c = assigned(topic, consumer())
        got = consume(c, len(records))
        c.close()
        expect([(r["key"], r["value"]) for r in got] == [(r["key"], r["value"]) for r in records],
               f"got {[(r['key'], r['value']) for r in got]}")
