"""Real clients forced onto old protocol versions: kafka-python with api_version pinned, and
kcat (librdkafka) with api.version.request=false and an old broker.version.fallback.

Produce v0-2 carry legacy message sets (magic 0 for v0-1, magic 1 with timestamps for v2),
Fetch v0-1 return magic 0 and v2-3 magic 1; kbroker stores v2 batches and converts both ways.
Every case checks the records exactly and, from the broker's debug log, which API versions
the client really used (so a client silently negotiating up cannot make a case pass).

Left out, because the client libraries cannot do them:
  * kcat with broker.version.fallback=0.10.0 (or any >= 0.10): librdkafka 2.0.2 then turns
    api.version.request back on (rd_kafka_new: "Enable api.version.request=true if
    fallback.broker.version indicates a supporting broker") and negotiates Produce v7 /
    Fetch v11, the same as test_kcat.py. Its legacy version tables stop at 0.9.0, so magic 1
    (Produce v2 / Fetch v2-3) cannot be forced on librdkafka; kafka-python covers it below.
  * kafka-python with snappy/lz4/zstd: the python3-snappy/lz4/zstandard modules are not
    installed (kafka-python only has gzip here); kcat covers legacy snappy and lz4.
  * kafka-python at 0.8.0/0.8.1: same requests as 0.8.2 (Produce/Fetch/ListOffsets/Metadata
    v0) for a producer and an assign()ed consumer without a group.
"""
import re
import time
from collections import defaultdict

import kafka
import pytest

import conftest
from conftest import SLOW, Broker

N = 300
TS0 = 1_600_000_000_000


class DebugBroker(Broker):
    """A kbroker logging every request ("api KEY vVERSION") to its stderr."""

    @property
    def args(self):
        return super().args + ["-l", "debug"]


@pytest.fixture
def dbroker(broker, monkeypatch):
    """The broker factory, starting brokers with -l debug."""
    monkeypatch.setattr(conftest, "Broker", DebugBroker)
    return broker


def api_versions_used(b):
    """{api key: set of versions} of every request the broker decoded so far."""
    used = defaultdict(set)
    for key, ver in re.findall(r": api (\d+) v(\d+) correlation id", b.stderr):
        used[int(key)].add(int(ver))
    return used


PRODUCE, FETCH, LIST_OFFSETS, METADATA, API_VERSIONS = 0, 1, 2, 3, 18


# ---------------------------------------------------------------- kafka-python

def kp_record(i, magic):
    """Record i as (key, value, headers, timestamp_ms); a few null keys, null and empty values."""
    key = None if i % 50 == 0 else b"key-%d" % (i % 37)
    if i == 7:
        value = b""
    elif i == 13:
        value = None
    else:
        value = b"value-%d-" % i + bytes(range(i % 256)) + b"x" * (i % 50)
    headers = [("seq", b"%d" % i), ("empty", b"")] if magic == 2 else []
    return key, value, headers, TS0 + i * 1000


# What each pinned api_version makes kafka-python 2.0.2 send (producer/sender.py,
# consumer/fetcher.py, client_async.py) and the message format of its produce requests.
KP_VERSIONS = {
    (0, 8, 2): dict(produce=0, fetch=0, list_offsets=0, metadata={0}, magic=0),
    (0, 9): dict(produce=1, fetch=1, list_offsets=0, metadata={0}, magic=0),
    (0, 10, 0): dict(produce=2, fetch=2, list_offsets=0, metadata={1}, magic=1),
    (0, 10, 1): dict(produce=2, fetch=3, list_offsets=1, metadata={1}, magic=1),
    # (0, 11, 0), not (0, 11): the fetcher tests api_version >= (0, 11, 0), which the shorter
    # tuple (0, 11) is not, so (0, 11) produces v2 batches but fetches magic 1 with Fetch v3.
    (0, 11, 0): dict(produce=3, fetch=4, list_offsets=1, metadata={1}, magic=2),
    # negotiated: ApiVersions v0, and a Metadata v0 probe before the real v1 requests
    None: dict(produce=7, fetch=4, list_offsets=1, metadata={0, 1}, magic=2),
}


def fetch_magic(fetch_version):
    return 0 if fetch_version <= 1 else 1 if fetch_version <= 3 else 2


def expected_read(rec, prod_magic, cons_magic):
    """(key, value, headers, timestamp) as kafka-python's consumer should report record rec."""
    key, value, headers, ts = rec
    if cons_magic == 0:
        ts = None               # magic 0 messages have no timestamp
    elif prod_magic == 0:
        ts = -1                 # stored without one (NO_TIMESTAMP)
    return key, value, headers if cons_magic == 2 else [], ts


def kp_produce(bootstrap, topic, api_version, compression):
    magic = KP_VERSIONS[api_version]["magic"]
    prod = kafka.KafkaProducer(bootstrap_servers=bootstrap, api_version=api_version,
                               compression_type=compression, linger_ms=20,
                               batch_size=4096, max_block_ms=20000 * SLOW,
                               request_timeout_ms=20000 * SLOW, retries=0)
    records = [kp_record(i, magic) for i in range(N)]
    try:
        futs = [prod.send(topic, key=k, value=v, headers=h or None,
                          timestamp_ms=ts if magic >= 1 else None)
                for k, v, h, ts in records]
        prod.flush(timeout=60 * SLOW)
        metas = [f.get(timeout=10 * SLOW) for f in futs]
    finally:
        prod.close(timeout=10)
    return records, [(m.partition, m.offset) for m in metas]


def kp_poll(cons, until_done):
    got = []
    deadline = time.monotonic() + 30 * SLOW
    while not until_done(got) and time.monotonic() < deadline:
        for msgs in cons.poll(timeout_ms=200).values():
            got.extend(msgs)
    return got


def as_read(m):
    return m.key, m.value, [(k, v) for k, v in (m.headers or [])], m.timestamp


def vname(v):
    return "auto" if v is None else ".".join(map(str, v))


# (producer api_version, compression, consumer api_version); None = negotiated
KP_CASES = [
    ((0, 8, 2), None, (0, 8, 2)),
    ((0, 9), None, (0, 9)),
    ((0, 9), "gzip", (0, 9)),             # magic 0 gzip wrapper (absolute inner offsets)
    ((0, 10, 0), None, (0, 10, 0)),
    ((0, 10, 0), "gzip", (0, 10, 0)),     # magic 1 gzip wrapper (relative inner offsets)
    ((0, 10, 1), None, (0, 10, 1)),
    ((0, 11, 0), None, (0, 11, 0)),       # v2 batches with headers
    ((0, 11, 0), None, (0, 10, 1)),       # v2 batches with headers, read back as magic 1
    (None, None, None),                   # whatever kafka-python negotiates
    ((0, 11, 0), "gzip", (0, 8, 2)),      # compressed v2 batches down-converted to magic 0
    ((0, 8, 2), "gzip", None),            # magic 0 converted on produce, read as v2
]


@pytest.mark.parametrize("prod_version,compression,cons_version", KP_CASES,
                         ids=[f"{vname(p)}-{c or 'none'}-{vname(r)}" for p, c, r in KP_CASES])
def test_kafka_python_old_versions(dbroker, topic, prod_version, compression, cons_version):
    """kafka-python pinned to an old api_version auto-creates a topic (Metadata v0/v1),
    produces 300 records and reads them back from the beginning and from a seek, exactly."""
    b = dbroker(partitions=2)
    pv, cv = KP_VERSIONS[prod_version], KP_VERSIONS[cons_version]
    records, placed = kp_produce(b.bootstrap, topic, prod_version, compression)
    used = api_versions_used(b)
    assert used[PRODUCE] == {pv["produce"]}, dict(used)
    assert used[METADATA] == pv["metadata"], dict(used)
    assert f"created topic {topic} with 2 partition(s)" in b.stderr
    assert (API_VERSIONS in used) == (prod_version is None), dict(used)
    assert sorted({p for p, _ in placed}) == [0, 1]
    per_part = defaultdict(list)
    for i, (p, off) in enumerate(placed):
        per_part[p].append(off)
    for p, offs in per_part.items():
        assert offs == list(range(len(offs))), f"partition {p}: offsets {offs[:20]}..."

    cmagic = fetch_magic(cv["fetch"])
    want = {pl: expected_read(rec, pv["magic"], cmagic) for pl, rec in zip(placed, records)}
    cons = kafka.KafkaConsumer(bootstrap_servers=b.bootstrap, api_version=cons_version,
                               group_id=None, enable_auto_commit=False,
                               request_timeout_ms=30000 * SLOW, fetch_max_wait_ms=100,
                               max_partition_fetch_bytes=8192)
    try:
        tps = [kafka.TopicPartition(topic, p) for p in (0, 1)]
        cons.assign(tps)
        cons.seek_to_beginning()
        got = kp_poll(cons, lambda g: len(g) >= N)
        assert len(got) == N
        assert {(m.partition, m.offset): as_read(m) for m in got} == want
        for p in (0, 1):
            offs = [m.offset for m in got if m.partition == p]
            assert offs == sorted(offs) == list(range(len(per_part[p])))

        # seek into the middle of partition 0 (inside a stored batch) and read to its end
        start = len(per_part[0]) // 2 + 1
        cons.assign([tps[0]])
        cons.seek(tps[0], start)
        end = len(per_part[0])
        got = kp_poll(cons, lambda g: len(g) >= end - start)
        assert [m.offset for m in got] == list(range(start, end))
        assert [as_read(m) for m in got] == [want[(0, o)] for o in range(start, end)]
    finally:
        cons.close()
    used = api_versions_used(b)
    assert used[FETCH] == {cv["fetch"]}, dict(used)
    assert used[LIST_OFFSETS] == {cv["list_offsets"]}, dict(used)
    assert used[METADATA] == pv["metadata"] | cv["metadata"], dict(used)


# ---------------------------------------------------------------- kcat

def kcat(kp, *args, input=b""):
    p = kp.run("kcat", *args, input=input, timeout=60, check_sanitizer=False)
    assert p.returncode == 0, f"kcat {' '.join(args)} exited {p.returncode}: {p.err[-3000:]}"
    return p.stdout


# librdkafka 2.0.2's legacy tables (rdkafka_feature.c): 0.8.2 sends Produce v0 / Fetch v0,
# 0.9.0 Produce v1 / Fetch v1, both writing magic 0 message sets.
KCAT_VERSIONS = {"0.8.2": 0, "0.9.0": 1}


@pytest.mark.parametrize("fallback,codec", [
    ("0.8.2", "none"),
    ("0.8.2", "lz4"),      # magic 0 lz4: pre-KIP-57 frame header checksum
    ("0.9.0", "none"),
    ("0.9.0", "gzip"),
    ("0.9.0", "snappy"),   # snappy in a magic 0 wrapper
])
def test_kcat_legacy_versions(dbroker, kp, topic, fallback, codec):
    """kcat without ApiVersions, as a 0.8.2 / 0.9.0 client: keyed records produced (optionally
    compressed) and consumed back exactly with their offsets, also by kconsume."""
    b = dbroker(partitions=1)
    old = ["-X", "api.version.request=false", "-X", f"broker.version.fallback={fallback}"]
    lines = [b"key%d:value-%d-%s" % (i % 41, i, b"abc" * (i % 30)) for i in range(2000)]
    lines[5] = b"key5:"                      # empty value
    data = b"\n".join(lines) + b"\n"
    kcat(kp, "-P", "-b", b.bootstrap, "-t", topic, "-K:", "-z", codec, *old, input=data)
    out = kcat(kp, "-C", "-b", b.bootstrap, "-t", topic, "-o", "beginning", "-e", "-q",
               "-f", "%o %k:%s\n", *old)
    assert out == b"".join(b"%d %s\n" % (i, ln) for i, ln in enumerate(lines))
    # read at an offset inside the stored batch
    out = kcat(kp, "-C", "-b", b.bootstrap, "-t", topic, "-o", "1234", "-e", "-q",
               "-f", "%o %k:%s\n", *old)
    assert out == b"".join(b"%d %s\n" % (i, lines[i]) for i in range(1234, 2000))
    used = api_versions_used(b)
    v = KCAT_VERSIONS[fallback]
    assert used[PRODUCE] == {v} and used[FETCH] == {v}, dict(used)
    assert used[METADATA] == {0} and used[LIST_OFFSETS] == {0}, dict(used)
    assert API_VERSIONS not in used, dict(used)
    assert kp.consume_all(b.bootstrap, topic, "-k", ":") == data
