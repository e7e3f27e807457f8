#!/usr/bin/python3
"""Compatibility scenarios for confluent-kafka-python (librdkafka underneath)."""
import sys
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
from compat_common import (BOOTSTRAP, LARGE_RECORD_BYTES, check_records, expect, name,  # noqa: E402
                           sample_records, scenario, wait_until)

import confluent_kafka  # noqa: E402
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic  # noqa: E402

BASE = {"bootstrap.servers": BOOTSTRAP}
CONSUMER = dict(BASE, **{"auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "session.timeout.ms": 6000, "heartbeat.interval.ms": 500})
admin = AdminClient(BASE)


def create_topic(topic, partitions=3, config=None):
    fut = admin.create_topics([NewTopic(topic, partitions, 1, config=config or {})])[topic]
    fut.result(10)
    wait_until(lambda: topic in admin.list_topics(timeout=5).topics, 10, f"topic {topic}")


def produce(records, topic, **conf):
    p = Producer({**BASE, "acks": "all", "linger.ms": 5, **conf})
    errors = []
    for r in records:
        p.produce(topic, value=r["value"], key=r["key"], partition=r["partition"], headers=r.get("headers"),
                  timestamp=r.get("timestamp", 0), on_delivery=lambda err, msg: err and errors.append(err))
    expect(p.flush(30) == 0, "flush left records undelivered")
    expect(not errors, f"delivery errors: {errors}")


def to_dict(m):
    return {"partition": m.partition(), "offset": m.offset(), "key": m.key(), "value": m.value(),
            "headers": m.headers() or [], "timestamp": m.timestamp()[1]}


def consume(consumer, n, timeout=20):
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        m = consumer.poll(0.2)
        if m is None:
            continue
        if m.error():
            raise RuntimeError(f"consume error: {m.error()}")
        got.append(to_dict(m))
    return got


def group_consumer(group, topic, **conf):
    c = Consumer(dict(CONSUMER, **{"group.id": group}, **conf))
    c.subscribe([topic])
    return c


@scenario
def bootstrap():
    md = admin.list_topics(timeout=10)
    expect(len(md.brokers) == 1, f"brokers: {md.brokers}")
    return f"librdkafka {confluent_kafka.libversion()[0]}"


@scenario
def topic_admin():
    topic = name("admin")
    create_topic(topic, 2, {"retention.ms": "3600000", "cleanup.policy": "compact"})
    md = admin.list_topics(topic, timeout=10).topics[topic]
    expect(len(md.partitions) == 2, f"partitions: {len(md.partitions)}")
    res = ConfigResource(ConfigResource.Type.TOPIC, topic)
    configs = admin.describe_configs([res])[res].result(10)
    expect(configs["retention.ms"].value == "3600000", f"retention.ms {configs['retention.ms'].value}")
    expect(configs["cleanup.policy"].value == "compact", f"cleanup.policy {configs['cleanup.policy'].value}")
    admin.delete_topics([topic])[topic].result(10)
    wait_until(lambda: topic not in admin.list_topics(timeout=5).topics, 10, "topic deletion")


@scenario
def produce_consume():
    topic = name("pc")
    create_topic(topic)
    records = sample_records(30)
    produce(records, topic)
    c = Consumer(dict(CONSUMER, **{"group.id": name("pc-g")}))
    c.assign([TopicPartition(topic, p, 0) for p in range(3)])
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
        c = group_consumer(name(f"2g-{g}"), topic)
        got = consume(c, len(records))
        c.commit(asynchronous=False)
        c.close()
        check_records(records, got)


@scenario
def commit_resume():
    topic = name("cr")
    create_topic(topic, 1)
    records = sample_records(10, partitions=1)
    produce(records, topic)
    group = name("cr-g")
    c = group_consumer(group, topic)
    first = consume(c, 4)
    expect(len(first) == 4, f"first read {len(first)}")
    c.commit(asynchronous=False)
    c.close()
    c = group_consumer(group, topic)
    rest = consume(c, 6)
    c.close()
    expect([r["offset"] for r in rest] == list(range(4, 10)), f"resumed at {[r['offset'] for r in rest]}")


@scenario
def rebalance():
    topic = name("rb")
    create_topic(topic, 4)
    group = name("rb-g")
    a = group_consumer(group, topic)
    wait_until(lambda: a.poll(0.1) is None and len(a.assignment()) == 4, 20, "first member owns 4")
    b = group_consumer(group, topic)

    def split():
        a.poll(0.05)
        b.poll(0.05)
        return len(a.assignment()) == 2 and len(b.assignment()) == 2
    wait_until(split, 30, "2/2 split after join", step=0)
    b.close()
    wait_until(lambda: a.poll(0.1) is None and len(a.assignment()) == 4, 30, "4 again after leave")
    a.close()


@scenario
def replay():
    topic = name("rp")
    create_topic(topic, 1)
    records = sample_records(10, partitions=1)
    produce(records, topic)
    c = Consumer(dict(CONSUMER, **{"group.id": name("rp-g")}))
    ts = records[6]["timestamp"]
    offs = c.offsets_for_times([TopicPartition(topic, 0, ts)], 10)
    expect(offs[0].offset == 6, f"offset for timestamp: {offs[0].offset}")
    c.assign(offs)
    got = consume(c, 4)
    expect([r["offset"] for r in got] == [6, 7, 8, 9], f"by time: {[r['offset'] for r in got]}")
    c.seek(TopicPartition(topic, 0, 2))
    got = consume(c, 8)
    expect([r["offset"] for r in got] == list(range(2, 10)), f"after seek: {[r['offset'] for r in got]}")
    lo, hi = c.get_watermark_offsets(TopicPartition(topic, 0), 10)
    expect((lo, hi) == (0, 10), f"watermarks {lo},{hi}")
    c.close()


@scenario
def compression():
    done = []
    for codec in ("gzip", "snappy", "lz4", "zstd"):
        topic = name(f"z-{codec}")
        create_topic(topic, 1)
        records = sample_records(20, partitions=1)
        produce(records, topic, **{"compression.codec": codec, "linger.ms": 50})
        c = Consumer(dict(CONSUMER, **{"group.id": name("z-g")}))
        c.assign([TopicPartition(topic, 0, 0)])
        got = consume(c, len(records))
        c.close()
        check_records(records, got)
        done.append(codec)
    return ",".join(done)


@scenario
def idempotent():
    topic = name("idem")
    create_topic(topic)
    records = sample_records(30)
    produce(records, topic, **{"enable.idempotence": True, "max.in.flight.requests.per.connection": 5})
    c = Consumer(dict(CONSUMER, **{"group.id": name("idem-g")}))
    c.assign([TopicPartition(topic, p, 0) for p in range(3)])
    got = consume(c, len(records))
    c.close()
    check_records(records, got)


@scenario
def large_record():
    topic = name("big")
    create_topic(topic, 1)
    value = bytes(range(256)) * (LARGE_RECORD_BYTES // 256)
    produce([{"partition": 0, "key": b"big", "value": value}], topic, **{"message.max.bytes": 1000000})
    c = Consumer(dict(CONSUMER, **{"group.id": name("big-g")}))
    c.assign([TopicPartition(topic, 0, 0)])
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
        c = Consumer(dict(CONSUMER, **{"group.id": name("nul-g")}))
        c.assign([TopicPartition(topic, 0, 0)])
        got = consume(c, len(records))
        c.close()
        expect([(r["key"], r["value"]) for r in got] == [(r["key"], r["value"]) for r in records],
               f"got {[(r['key'], r['value']) for r in got]}")
