"""Round trips with the Python clients: confluent-kafka (librdkafka) and kafka-python."""
import time
from collections import defaultdict

import pytest

from conftest import SLOW

N_CONFLUENT = 10_000
N_KAFKA_PYTHON = 1_000


def test_confluent_round_trip_keys_headers_order(broker, topic):
    """10,000 records with keys and headers come back exactly, in order per partition,
    at the offsets the delivery reports gave."""
    ck = pytest.importorskip("confluent_kafka")
    b = broker(partitions=3)

    prod = ck.Producer({"bootstrap.servers": b.bootstrap, "linger.ms": 5,
                        "message.timeout.ms": 30000 * SLOW})
    sent = {}
    errors = []

    def report(err, msg):
        if err is not None:
            errors.append(err)
        else:
            i = int(msg.value().split(b"-")[1])
            sent[i] = (msg.partition(), msg.offset())

    records = []
    for i in range(N_CONFLUENT):
        key = b"key-%d" % (i % 101)
        value = b"value-%d-" % i + b"x" * (i % 200)
        headers = [("seq", str(i).encode()), ("kind", b"test"), ("empty", b"")]
        records.append((key, value, headers))
        while True:
            try:
                prod.produce(topic, value=value, key=key, headers=headers, on_delivery=report)
                break
            except BufferError:
                prod.poll(0.1)
        prod.poll(0)
    left = prod.flush(60 * SLOW)
    assert left == 0, f"{left} records not delivered"
    assert not errors, errors[:5]
    assert len(sent) == N_CONFLUENT

    meta_cons = ck.Consumer({"bootstrap.servers": b.bootstrap, "group.id": "kt-confluent",
                             "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        md = meta_cons.list_topics(topic, timeout=10 * SLOW)
        parts = sorted(md.topics[topic].partitions)
        assert parts == [0, 1, 2]
        meta_cons.assign([ck.TopicPartition(topic, p, 0) for p in parts])
        got = []
        deadline = time.monotonic() + 120 * SLOW
        while len(got) < N_CONFLUENT and time.monotonic() < deadline:
            for m in meta_cons.consume(1000, timeout=1.0):
                if m.error():
                    assert not m.error().fatal(), m.error()
                    continue
                got.append((m.partition(), m.offset(), m.key(), m.value(), m.headers()))
    finally:
        meta_cons.close()
    assert len(got) == N_CONFLUENT

    per_part = defaultdict(list)
    for p, off, key, value, headers in got:
        i = int(value.split(b"-")[1])
        k, v, h = records[i]
        assert (key, value) == (k, v)
        assert [(hk, hv if hv is not None else b"") for hk, hv in headers] == h
        assert sent[i] == (p, off), f"record {i}: delivered at {sent[i]}, read at {(p, off)}"
        per_part[p].append((off, i))
    for p, rows in per_part.items():
        offs = [o for o, _ in rows]
        assert offs == list(range(len(rows))), f"partition {p} offsets not 0..n-1 in order"
        seqs = [i for _, i in rows]
        assert seqs == sorted(seqs), f"partition {p} out of produce order"
    assert len(per_part) == 3


def test_kafka_python_round_trip(broker, topic):
    """kafka-python (Metadata v1, broker auto-create) produces 1,000 records and reads them back."""
    kafka = pytest.importorskip("kafka")
    b = broker()
    prod = kafka.KafkaProducer(bootstrap_servers=b.bootstrap, max_block_ms=20000 * SLOW,
                               request_timeout_ms=20000 * SLOW, linger_ms=5)
    try:
        futs = [prod.send(topic, key=b"k%d" % (i % 7), value=b"v%d" % i)
                for i in range(N_KAFKA_PYTHON)]
        prod.flush(timeout=60 * SLOW)
        metas = [f.get(timeout=10) for f in futs]
    finally:
        prod.close(timeout=10)
    assert all(m.topic == topic for m in metas)

    cons = kafka.KafkaConsumer(bootstrap_servers=b.bootstrap, enable_auto_commit=False,
                               group_id=None, request_timeout_ms=30000 * SLOW)
    try:
        parts = cons.partitions_for_topic(topic)
        assert parts, "topic not in metadata"
        tps = [kafka.TopicPartition(topic, p) for p in sorted(parts)]
        cons.assign(tps)
        cons.seek_to_beginning()
        got = []
        deadline = time.monotonic() + 60 * SLOW
        while len(got) < N_KAFKA_PYTHON and time.monotonic() < deadline:
            for _, msgs in cons.poll(timeout_ms=1000).items():
                got.extend(msgs)
    finally:
        cons.close()
    assert len(got) == N_KAFKA_PYTHON
    assert sorted((m.key, m.value) for m in got) == \
        sorted((b"k%d" % (i % 7), b"v%d" % i) for i in range(N_KAFKA_PYTHON))
    by_meta = {(m.partition, m.offset) for m in metas}
    assert {(m.partition, m.offset) for m in got} == by_meta
    for p in parts:
        vals = [int(m.value[1:]) for m in got if m.partition == p]
        assert vals == sorted(vals), f"partition {p} out of order"
