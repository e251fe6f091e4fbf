"""franz-go (kgo and kadm; versions pinned by tests/peers/franz/go.mod and go.sum) against
kbroker, and against Apache Kafka to show the tests themselves hold.

tests/peers/franz/main.go (kpfranz) is built by tests/peers/clients.py into the cache, with
the Go module and build caches there too: create and list topics with kadm, produce with kgo
(its default idempotent producer: InitProducerId, then sequenced batches), and consume
assigned partitions from their start offsets to their end offsets (kadm ListStartOffsets /
ListEndOffsets).
"""
import pytest

import clients
from conftest import SLOW

N = 2000


@pytest.fixture(scope="session")
def franz():
    """franz(bootstrap, *args, input=b"") -> CompletedProcess (.out, .err) of kpfranz."""
    try:
        exe = clients.franz_binary()
    except clients.PeerError as e:
        pytest.fail(f"cannot build tests/peers/franz: {e}")

    def run(bootstrap, *args, input=b""):
        return clients.run([exe, "-b", bootstrap, "-timeout", f"{60 * SLOW}s", *args],
                           f"kpfranz {args[0]}", input=input, timeout=90 * SLOW)
    return run


def test_franz_admin_produce_consume(target, franz, topic):
    """kadm creates a 3-partition topic (a second create fails: TOPIC_ALREADY_EXISTS) and lists
    it; kgo writes 2,000 records with keys and headers, half uncompressed and half zstd, and
    reads exactly those back at the delivered offsets, 0..n-1 per partition."""
    b = target()
    p = clients.ok(franz(b.bootstrap, "create", topic, 3), "kpfranz create")
    assert clients.parse_lines(p.stdout) == [{"topic": topic, "partitions": 3, "error": None}]
    p = clients.ok(franz(b.bootstrap, "create", topic, 3), "kpfranz create")
    assert "TOPIC_ALREADY_EXISTS" in clients.parse_lines(p.stdout)[0]["error"], p.out
    p = clients.ok(franz(b.bootstrap, "list"), "kpfranz list")
    assert {"name": topic, "partitions": 3} in clients.parse_lines(p.stdout)[0]["topics"], p.out

    records = clients.sample_records(N, "franz")
    delivered = []
    for codec, part in (("none", records[:N // 2]), ("zstd", records[N // 2:])):
        p = franz(b.bootstrap, "-codec", codec, "produce", topic,
                  input=clients.records_input(part))
        delivered += clients.parse_lines(clients.ok(p, f"kpfranz produce ({codec})").stdout)
    meta, got = clients.parse_records(clients.ok(franz(b.bootstrap, "consume", topic),
                                                 "kpfranz consume").stdout)
    clients.check_round_trip(records, delivered, meta, got, 3)


def test_franz_and_java_interoperate(target, franz, topic):
    """What kgo writes the Java consumer reads exactly, and what the Java producer writes
    (gzip and lz4) kgo reads exactly; both agree on the partition of every key."""
    try:
        clients.java_classes()
    except clients.PeerError as e:
        pytest.fail(f"cannot build tests/peers/java: {e}")
    b = target()

    def java(main, *args, input=b""):
        return clients.ok(clients.run(clients.java_cmd(main, *args), main, input=input,
                                      timeout=60 * SLOW), main)

    for t in (topic, topic + "-j"):
        clients.ok(franz(b.bootstrap, "create", t, 3), "kpfranz create")
    records = clients.sample_records(500, "franz")
    delivered = clients.parse_lines(clients.ok(
        franz(b.bootstrap, "produce", topic, input=clients.records_input(records)),
        "kpfranz produce").stdout)
    meta, got = clients.parse_records(java("KpConsume", b.bootstrap, topic).stdout)
    clients.check_round_trip(records, delivered, meta, got, 3)

    jrecords = clients.sample_records(500, "java")
    jdelivered = clients.parse_lines(java("KpProduce", b.bootstrap, topic + "-j", "--codecs",
                                          "gzip,lz4", input=clients.records_input(jrecords)).stdout)
    meta, got = clients.parse_records(clients.ok(franz(b.bootstrap, "consume", topic + "-j"),
                                                 "kpfranz consume").stdout)
    clients.check_round_trip(jrecords, jdelivered, meta, got, 3)
    # The same keys (murmur2 partitioning in both clients) land in the same partitions.
    fp = {r[0]: d["p"] for r, d in zip(records, delivered) if r[0] is not None}
    jp = {r[0]: d["p"] for r, d in zip(jrecords, jdelivered) if r[0] is not None}
    assert fp == jp
