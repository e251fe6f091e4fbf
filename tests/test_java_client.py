"""The Java client (kafka-clients 4.4.0, from the Apache Kafka peer's cached jars) against
kbroker, and against Apache Kafka to show the tests themselves hold.

Our programs in tests/peers/java, compiled by tests/peers/clients.py into the cache:
KpAdmin (Admin: createTopics, listTopics, describeTopics, describeCluster), KpProduce
(KafkaProducer) and KpConsume (KafkaConsumer with assign() and no group), all speaking the
JSON-lines record format of tests/peers/java/Rec.java.

KpProduce sets enable.idempotence=false unless told otherwise;
test_java_producer_default_idempotence runs the Java producer's default (idempotent:
InitProducerId, then batches with producer id and sequence numbers).
"""
import sys

import pytest

import clients
from conftest import SLOW

N = 2000


def confluent(bootstrap, *args, input=b""):
    """tests/peers/pypi/kpconfluent.py under this python (Debian's confluent-kafka)."""
    p = clients.run(clients.confluent_cmd(sys.executable, bootstrap, *args), "kpconfluent.py",
                    input=input, timeout=60 * SLOW)
    return clients.ok(p, f"kpconfluent.py {' '.join(map(str, args))}")


def test_java_admin_produce_consume(target, java, topic):
    """Admin creates a 3-partition topic (a second create fails with TopicExistsException),
    lists and describes it (leader and replicas the one node describeCluster reports), and an
    unknown topic fails with UnknownTopicOrPartitionException. The producer writes 2,000
    records with keys and headers (null keys and values, empty values, binary bytes, null header
    values, non-ASCII header keys), in five runs: uncompressed, gzip, snappy, lz4, zstd; the
    consumer reads back exactly those records at the delivered offsets, 0..n-1 per partition."""
    b = target()
    p = java("KpAdmin", b.bootstrap, "create", topic, 3, "create", topic, 3, "list",
             "describe", topic, "cluster", "describe", topic + "-missing")
    ops = clients.parse_lines(clients.ok(p, "KpAdmin").stdout)
    create, again, listed, desc, cluster, missing = ops
    assert "error" not in create, create
    assert "TopicExistsException" in again.get("error", ""), again
    assert topic in listed["topics"], listed
    assert cluster["nodes"] == [{"id": cluster["nodes"][0]["id"], "host": "127.0.0.1",
                                 "port": b.port}], cluster
    node = cluster["nodes"][0]["id"]
    assert cluster["controller"] in (node, -1), cluster
    assert desc["name"] == topic and desc["internal"] is False and desc["id"], desc
    assert desc["partitions"] == [{"p": i, "leader": node, "replicas": [node], "isr": [node]}
                                  for i in range(3)], desc
    assert "UnknownTopicOrPartitionException" in missing.get("error", ""), missing

    records = clients.sample_records(N, "java")
    p = java("KpProduce", b.bootstrap, topic, "--codecs", "none,gzip,snappy,lz4,zstd",
             input=clients.records_input(records))
    delivered = clients.parse_lines(clients.ok(p, "KpProduce").stdout)
    p = java("KpConsume", b.bootstrap, topic)
    meta, got = clients.parse_records(clients.ok(p, "KpConsume").stdout)
    clients.check_round_trip(records, delivered, meta, got, 3)


def test_java_and_kpipe_tools_interoperate(target, java, kp, topic, dpkg_log):
    """kproduce writes keyed lines that the Java consumer reads back exactly, partition by
    partition; the Java producer writes keyed records with headers that kconsume (keys and
    values) and kcat (offsets and headers) read back exactly."""
    b = target()
    lines = dpkg_log.splitlines()[:3000]
    keyed = [(ln.split(b" ")[3] if len(ln.split(b" ")) > 3 else b"none") + b"\t" + ln
             for ln in lines]
    for t in (topic, topic + "-j"):
        assert clients.parse_lines(confluent(b.bootstrap, "create", t, 3).stdout) == \
            [{"topic": t, "error": None}]
    kp.produce(b.bootstrap, topic, "-k", "\t", input=b"\n".join(keyed) + b"\n")
    want = {p: kp.consume(b.bootstrap, topic, "-p", p, "-o", "beginning", "-e", "-k", "\t").stdout
            for p in range(3)}
    assert sum(len(v.splitlines()) for v in want.values()) == len(keyed)
    meta, got = clients.parse_records(clients.ok(java("KpConsume", b.bootstrap, topic),
                                                 "KpConsume").stdout)
    for p in range(3):
        mine = sorted((o, k, v, h) for q, o, k, v, h in got if q == p)
        assert [o for o, *_ in mine] == list(range(len(mine)))
        assert all(h == [] for *_, h in mine)
        assert b"".join(k + b"\t" + v + b"\n" for _, k, v, _ in mine) == want[p], \
            f"partition {p}: the Java consumer differs from kconsume"

    records = [(b"k%d" % (i % 19), b"value %d from java" % i,
                [("seq", b"%d" % i), ("src", b"java")]) for i in range(1000)]
    p = java("KpProduce", b.bootstrap, topic + "-j", input=clients.records_input(records))
    delivered = clients.parse_lines(clients.ok(p, "KpProduce").stdout)
    for p in range(3):
        mine = sorted((d["o"], i) for i, d in enumerate(delivered) if d["p"] == p)
        assert [o for o, _ in mine] == list(range(len(mine)))
        got = kp.consume(b.bootstrap, topic + "-j", "-p", p, "-o", "beginning", "-e",
                         "-k", "\t").stdout
        assert got == b"".join(records[i][0] + b"\t" + records[i][1] + b"\n" for _, i in mine)
        out = kp.run("kcat", "-C", "-b", b.bootstrap, "-t", topic + "-j", "-p", p, "-o",
                     "beginning", "-e", "-q", "-f", "%o|%h\n", check_sanitizer=False)
        assert out.returncode == 0, out.err
        assert out.stdout == b"".join(b"%d|seq=%d,src=java\n" % (o, i) for o, i in mine)


def test_java_producer_default_idempotence(target, java, topic):
    """The Java producer with its default idempotence (and so acks=all) writes 100 records."""
    b = target()
    records = [(b"k%d" % i, b"v%d" % i, [("i", b"%d" % i)]) for i in range(100)]
    p = java("KpProduce", b.bootstrap, topic, "-X", "enable.idempotence=true",
             "-X", "max.block.ms=10000", "-X", "delivery.timeout.ms=15000",
             "-X", "request.timeout.ms=10000", input=clients.records_input(records))
    delivered = clients.parse_lines(clients.ok(p, "KpProduce", "INIT_PRODUCER_ID").stdout)
    assert sorted(d["o"] for d in delivered) == list(range(100))
