"""Broker robustness: a partition whose log cannot be opened, CreateTopics configs,
Metadata by topic id, and message.max.bytes for legacy (v0-v2) produce requests.

Raw-socket helpers come from test_failures and test_broker_review."""
import os
import shutil
import struct
from pathlib import Path

import pytest

from kafka.protocol.metadata import MetadataRequest

from test_broker_review import (KAFKA_STORAGE_ERROR, connect, create_topic, cstr, fetch_v4, fetched,
                                kcall, list_offsets, uvarint)
from test_failures import call, error_lines, produce_v3, record_batch
from test_oldclients import DebugBroker

# ---------------------------------------------------------------- offline partitions


def break_partition(pdir):
    """Make kp_log_open refuse pdir: a second segment whose base offset (1) overlaps the first."""
    seg0 = pdir / ("0" * 20 + ".log")
    shutil.copy(seg0, pdir / ("0" * 19 + "1.log"))


def test_unopenable_partition_is_offline_and_the_rest_is_served(broker, kp, topic):
    b = broker()
    good = topic + "-good"
    create_topic(b, topic, 2)
    create_topic(b, good, 1)
    with connect(b) as s:
        for p in (0, 1):
            assert produce_v3(s, 1, topic, record_batch([b"a", b"b", b"c"]), partition=p)[0] == 0
        assert produce_v3(s, 2, good, record_batch([b"x"]))[0] == 0
    b.stop()
    break_partition(Path(b.logdir) / f"{topic}-1")
    b.start()

    errs = [ln for ln in error_lines(b.stderr) if f"{topic}-1" in ln]
    assert errs and "base offset" in errs[0], b.stderr[-2000:]
    with connect(b) as s:
        assert produce_v3(s, 1, topic, record_batch([b"d"]), partition=1)[0] == KAFKA_STORAGE_ERROR
        assert produce_v3(s, 2, topic, record_batch([b"d"]), partition=0) == (0, 3)
        assert produce_v3(s, 3, good, record_batch([b"y"])) == (0, 1)
        got = fetched(kcall(s, fetch_v4(topic, [(0, 0), (1, 0)]), corr=4))
        assert got[1][0] == KAFKA_STORAGE_ERROR and got[0][0] == 0 and got[0][1] == 4
        for version in (4, 7):
            res = list_offsets(s, version, topic, [(0, -1), (1, -1), (1, -2)], corr=5)
            assert [r[1] for r in res] == [0, KAFKA_STORAGE_ERROR, KAFKA_STORAGE_ERROR], res
            assert res[0][3] == 4
        md = kcall(s, MetadataRequest[1]([topic, good]), corr=6)
    parts = {t[1]: {p[1]: p for p in t[3]} for t in md.topics}
    err, _idx, leader, _replicas, isr = parts[topic][1]
    assert (err, leader, isr) == (KAFKA_STORAGE_ERROR, -1, [])
    assert parts[topic][0][0] == 0 and parts[good][0][0] == 0

    p = kp.run("kcat", "-L", "-b", b.bootstrap, timeout=60, check_sanitizer=False)
    assert p.returncode == 0, p.err
    assert topic in p.stdout.decode() and good in p.stdout.decode()
    assert kp.consume_all(b.bootstrap, good) == b"x\ny\n"
    b.stop()


# ---------------------------------------------------------------- CreateTopics configs

INVALID_CONFIG = 40


def admin_create(b, name, config):
    """Create `name` (1 partition) with `config` via confluent-kafka's AdminClient;
    returns the KafkaError, or None on success."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    fut = admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1,
                                        config=config)], request_timeout=20)[name]
    try:
        fut.result(timeout=30)
        return None
    except KafkaException as e:
        return e.args[0]


def test_create_topics_validates_topic_configs(broker, kp, topic):
    b = broker()
    ok = {"cleanup.policy": "compact,delete", "compression.type": "zstd",
          "retention.ms": "-1", "retention.bytes": "-1", "segment.bytes": "1048576",
          "min.cleanable.dirty.ratio": "0.5", "preallocate": "TRUE",
          "message.timestamp.type": "LogAppendTime", "local.retention.ms": "-2",
          "max.message.bytes": " 2000 ", "remote.storage.enable": "false"}
    assert admin_create(b, topic, ok) is None
    bad = [({"no.such.config": "1"}, "no.such.config"),
           ({"retention.ms": "abc"}, "retention.ms"),
           ({"segment.ms": "0"}, "segment.ms"),
           ({"segment.bytes": "3000000000"}, "segment.bytes"),
           ({"min.cleanable.dirty.ratio": "1.5"}, "min.cleanable.dirty.ratio"),
           ({"preallocate": "yes"}, "preallocate"),
           ({"cleanup.policy": "compact,"}, "cleanup.policy"),
           ({"compression.type": "brotli"}, "compression.type"),
           ({"retention.ms": "1000", "flush.messages": "0"}, "flush.messages")]
    for i, (config, name) in enumerate(bad):
        t = f"{topic}-bad{i}"
        e = admin_create(b, t, config)
        assert e is not None and e.code() == INVALID_CONFIG, (config, e)
        assert name in e.str(), (config, e.str())
        assert not list(Path(b.logdir).glob(f"{t}-*")), config
    with connect(b) as s:
        md = kcall(s, MetadataRequest[4]([f"{topic}-bad0"], False))
    assert md.topics[0][0] == 3  # UNKNOWN_TOPIC_OR_PARTITION: nothing was created
    b.stop()


# ---------------------------------------------------------------- Metadata by topic id

UNKNOWN_TOPIC_ID = 100


def metadata_by_id(sock, version, entries, corr=1):
    """Metadata v10-v12 (flexible) for [(topic_id bytes, name or None)]; returns
    [(error, name, topic_id bytes)] of the response topics."""
    topics = b"".join(tid + (cstr(n) if n is not None else b"\0") + b"\0" for tid, n in entries)
    ops = b"\0\0" if version <= 10 else b"\0"  # [include cluster ops,] include topic ops
    body = uvarint(len(entries) + 1) + topics + b"\0" + ops + b"\0"
    r = call(sock, 3, version, corr, body, flexible=True)
    assert r.take(">b") == 0  # response header tagged fields
    r.take(">i")  # throttle
    for _ in range(r.take(">B") - 1):  # brokers
        r.take(">i")
        n = r.take(">B")  # host
        r.pos += n - 1
        r.take(">i")
        n = r.take(">B")  # rack
        r.pos += max(n - 1, 0)
        assert r.take(">b") == 0
    n = r.take(">B")  # cluster id
    r.pos += max(n - 1, 0)
    r.take(">i")  # controller
    out = []
    for _ in range(r.take(">B") - 1):
        err = r.take(">h")
        n = r.take(">B")
        name = r.data[r.pos:r.pos + n - 1].decode() if n else None
        r.pos += max(n - 1, 0)
        tid = r.data[r.pos:r.pos + 16]
        r.pos += 16
        r.take(">?")
        for _ in range(r.take(">B") - 1):  # partitions
            r.take(">hiii")  # error, index, leader, leader epoch
            for _ in range(3):  # replicas, isr, offline replicas
                n = r.take(">B")
                r.pos += 4 * (n - 1)
            assert r.take(">b") == 0
        r.take(">i")  # topic authorized operations
        assert r.take(">b") == 0
        out.append((err, name, tid))
    return out


def test_metadata_null_name_and_zero_topic_id(broker, topic):
    b = broker()
    create_topic(b, topic, 1)
    zero, unknown = bytes(16), bytes(range(1, 17))
    with connect(b) as s:
        for version in (10, 11, 12):
            got = metadata_by_id(s, version, [(zero, None), (zero, topic), (unknown, None)],
                                 corr=version)
            assert [g[0] for g in got] == [UNKNOWN_TOPIC_ID, 0, UNKNOWN_TOPIC_ID], (version, got)
            assert got[0][2] == zero and got[2][2] == unknown and got[1][2] != zero
            assert got[1][1] == topic
            if version >= 12:
                assert got[0][1] is None and got[2][1] is None
            tid = got[1][2]
        # by id: the topic's name comes back
        assert metadata_by_id(s, 12, [(tid, None)], corr=20) == [(0, topic, tid)]
    assert b.running
    b.stop()


def test_metadata_zero_topic_id_names_no_topic(broker, topic):
    """Even a topic whose partition.metadata holds the zero id is not found by it."""
    b = broker()
    create_topic(b, topic, 1)
    b.stop()
    (Path(b.logdir) / f"{topic}-0" / "partition.metadata").write_text(
        "version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAA\n")
    b.start()
    with connect(b) as s:
        got = metadata_by_id(s, 12, [(bytes(16), None)])
    assert got == [(UNKNOWN_TOPIC_ID, None, bytes(16))]
    b.stop()


# ---------------------------------------------------------------- legacy message.max.bytes


def test_legacy_produce_checks_message_max_bytes_per_message(broker, kp, topic):
    import kafka
    from kafka.errors import MessageSizeTooLargeError

    b = broker("message.max.bytes=2000")
    create_topic(b, topic, 1)
    for compression in (None, "gzip"):
        prod = kafka.KafkaProducer(bootstrap_servers=b.bootstrap, api_version=(0, 10, 0),
                                   compression_type=compression, linger_ms=1000,
                                   batch_size=1 << 20, retries=0, request_timeout_ms=20000)
        try:
            # 50 messages of ~130 bytes in one Produce v2 request: 6.5 kB in all
            futs = [prod.send(topic, b"%03d" % i + bytes(100)) for i in range(50)]
            prod.flush(30)
            offsets = [f.get(timeout=30).offset for f in futs]
            assert offsets == sorted(offsets) and len(set(offsets)) == 50
            big = prod.send(topic, os.urandom(2500))  # not compressible
            prod.flush(30)
            with pytest.raises(MessageSizeTooLargeError):
                big.get(timeout=30)
        finally:
            prod.close(5)
    assert kp.consume_all(b.bootstrap, topic).count(b"\n") == 100
    b.stop()



def test_session_names_listener_principal_and_client_software(kp, tmp_path, bin_dir):
    """Each connection has a session: when kcat's connection closes, the broker (at debug
    level) names its listener, the anonymous principal and the client software that
    ApiVersions v3 reported (librdkafka and its version)."""
    d = tmp_path / "logs"
    d.mkdir()
    b = DebugBroker([], d)
    try:
        p = kp.run("kcat", "-L", "-b", b.bootstrap, check_sanitizer=False)
        assert p.returncode == 0, p.err
        assert b.wait_stderr("principal User:ANONYMOUS, client librdkafka", timeout=10), \
            b.stderr[-3000:]
        assert "listener PLAINTEXT" in b.stderr
    finally:
        b.stop()
    b.check_sanitizer()
