"""compression.type (topic config and broker default) decides the codec of the batches a log
holds, on kbroker and on Apache Kafka alike (the target fixture): a batch produced with another
codec is re-compressed by the leader (Kafka's LogValidator), with "producer" (the default)
batches stay as produced. Checked by reading the batches' attributes in the segment files
(kpjson.batches) and by reading the records back with confluent-kafka and kcat: keys, values,
headers and timestamps are those produced. Also: idempotent and (on Kafka, kbroker has no
transactions yet) transactional batches are re-compressed too (producer id, sequence,
transactional flag kept; the commit marker stays uncompressed), LogAppendTime on a re-compressed batch, max.message.bytes applied after
re-compression, the KIP-390 levels (their ranges, and a higher level storing fewer bytes),
changes by IncrementalAlterConfigs applying to later produces without a restart, and the
broker's static and dynamic default."""
import json
import random
import subprocess
from pathlib import Path

import pytest

from conftest import BIN, BUILD, SLOW, wait_for
from kpjson import batches
from test_topic_configs import create

ck = pytest.importorskip("confluent_kafka")
import confluent_kafka.admin as cka  # noqa: E402

KPWIRE = BUILD / "tests" / "tools" / "kpwire"
CODEC = {"uncompressed": 0, "none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
TS = 1_700_000_000_000
TOPIC_TYPES = ["zstd", "gzip", "lz4", "snappy", "uncompressed"]


def record(i):
    """Record i: (key, value, headers, timestamp); some keys and values null."""
    key = None if i % 7 == 3 else b"key-%d" % i
    value = None if i % 11 == 5 else (b"value %d " % i) * (1 + i % 13)
    headers = [("trace", b"t%d" % i), ("empty", b"")] if i % 2 else []
    return key, value, headers, TS + i * 10 + (i * 37) % 7


def produce(bootstrap, topic, codec, first, n, **conf):
    """Records first..first+n-1 with the producer's compression.type `codec`, in a few batches."""
    p = ck.Producer({"bootstrap.servers": bootstrap, "compression.type": codec,
                     "linger.ms": 50, "retries": 0, **conf})
    errors = []
    for i in range(first, first + n):
        key, value, headers, ts = record(i)
        p.produce(topic, value, key=key, headers=headers, timestamp=ts,
                  on_delivery=lambda err, msg: err and errors.append(err.name()))
    assert p.flush(30 * SLOW) == 0
    assert errors == [], errors


def produce_one(bootstrap, topic, value, codec="none"):
    """The error name (or None) of one record produced with `codec`."""
    got = []
    p = ck.Producer({"bootstrap.servers": bootstrap, "compression.type": codec,
                     "linger.ms": 0, "retries": 0, "message.max.bytes": 10_000_000})
    p.produce(topic, value, key=b"k", on_delivery=lambda err, msg: got.append(err))
    assert p.flush(30 * SLOW) == 0
    return got[0].name() if got[0] else None


def consume(bootstrap, topic, n, **conf):
    """The first n messages of partition 0 (librdkafka checks every CRC)."""
    c = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": "unused", "check.crcs": True,
                     "enable.auto.commit": False, **conf})
    c.assign([ck.TopicPartition(topic, 0, ck.OFFSET_BEGINNING)])
    got = []

    def more():
        m = c.poll(0.5)
        if m is not None:
            assert not m.error(), m.error()
            got.append(m)
        return len(got) >= n
    assert wait_for(more, 30 * SLOW, 0), f"{len(got)} of {n} records of {topic}"
    c.close()
    return got


def check_records(bootstrap, topic, ids):
    """confluent-kafka reads exactly records `ids` (in order) from topic, as produced."""
    got = consume(bootstrap, topic, len(ids))
    assert len(got) == len(ids)
    for m, i in zip(got, ids):
        key, value, headers, ts = record(i)
        assert (m.key(), m.value(), m.headers() or [], m.timestamp()) == \
            (key, value, headers, (ck.TIMESTAMP_CREATE_TIME, ts)), (topic, i)


def kcat_lines(kp, bootstrap, topic):
    p = kp.run("kcat", "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-q", "-Z",
               "-f", "%k|%s|%T|%h\n", timeout=60, check_sanitizer=False)
    assert p.returncode == 0, p.err
    return p.stdout.decode().splitlines()


def kcat_expected(ids):
    out = []
    for i in ids:
        key, value, headers, ts = record(i)
        hdrs = ",".join(f"{k}={v.decode()}" for k, v in headers) if headers else ""
        out.append(f"{'NULL' if key is None else key.decode()}|"
                   f"{'NULL' if value is None else value.decode()}|{ts}|{hdrs}")
    return out


def codecs(b, topic, first=0):
    """The codec of every data batch in topic's partition 0 from offset `first`, in log order."""
    return [attrs & 7 for base, *_, attrs in batches(b.logdir, topic, 0)
            if not attrs & 0x20 and base >= first]


def test_every_topic_codec_is_the_logs(target, kp):
    """Batches produced uncompressed, with another codec and with the topic's own end up in
    the topic's codec; both clients read back what was produced."""
    b = target()
    for t in TOPIC_TYPES:
        create(b.bootstrap, f"ct-{t}", {"compression.type": t})
    for t in TOPIC_TYPES:
        other = "gzip" if t == "lz4" else "lz4"
        mine = "none" if t == "uncompressed" else t
        for k, codec in enumerate(["none", other, mine, "snappy" if t != "snappy" else "zstd"]):
            produce(b.bootstrap, f"ct-{t}", codec, k * 40, 40)
        got = codecs(b, f"ct-{t}")
        assert len(got) >= 4 and set(got) == {CODEC[t]}, (t, got)
        check_records(b.bootstrap, f"ct-{t}", range(160))
        assert kcat_lines(kp, b.bootstrap, f"ct-{t}") == kcat_expected(range(160)), t


def test_producer_keeps_every_batchs_codec(target, kp):
    """compression.type=producer (and no config at all): each batch stays as produced
    (librdkafka sends a batch that would not shrink uncompressed, hence "or none")."""
    b = target()
    create(b.bootstrap, "as-produced", {"compression.type": "producer"})
    create(b.bootstrap, "no-config", {})
    sent = ["none", "gzip", "snappy", "lz4", "zstd"]
    for topic in ("as-produced", "no-config"):
        for k, codec in enumerate(sent):
            produce(b.bootstrap, topic, codec, k * 20, 20)
        got = [(base // 20, attrs & 7) for base, *_, attrs in batches(b.logdir, topic, 0)]
        assert all(c in (0, CODEC[sent[k]]) for k, c in got), got
        assert {c for _, c in got} == {0, 1, 2, 3, 4}, got
        check_records(b.bootstrap, topic, range(100))


def test_idempotent_batches_are_recompressed(target):
    """Kafka 4 re-compresses an idempotent producer's batches too: producer id, epoch and
    sequences are kept, so the producer state goes on as without re-compression."""
    b = target()
    create(b.bootstrap, "idem", {"compression.type": "zstd"})
    idem = {"enable.idempotence": True, "retries": 5}
    produce(b.bootstrap, "idem", "none", 0, 30, **idem)
    produce(b.bootstrap, "idem", "lz4", 30, 30, **idem)
    got = batches(b.logdir, "idem", 0)
    assert {attrs & 7 for *_, attrs in got} == {4}, got
    assert all(pid >= 0 and epoch >= 0 for _, pid, epoch, *_ in got), got
    for pid in {pid for _, pid, *_ in got}:  # each producer's sequences: 0, then contiguous
        seqs = [(seq, count) for _, p, _, seq, count, _ in got if p == pid]
        assert seqs[0][0] == 0 and all(s + c == n for (s, c), (n, _) in zip(seqs, seqs[1:])), got
    check_records(b.bootstrap, "idem", range(60))


def test_transactional_batches_are_recompressed(kafka):
    """Against Apache Kafka (kbroker has no transactions yet; the unit test checks that the
    transactional flag is kept): a transaction's batches are re-compressed with the flag
    kept, the commit marker stays uncompressed, read_committed reads the records."""
    b = kafka()
    create(b.bootstrap, "txn-gzip", {"compression.type": "gzip"})
    p = ck.Producer({"bootstrap.servers": b.bootstrap, "transactional.id": "recompress-tx",
                     "compression.type": "none", "linger.ms": 50})
    p.init_transactions(30 * SLOW)
    p.begin_transaction()
    for i in range(25):
        key, value, headers, ts = record(i)
        p.produce("txn-gzip", value, key=key, headers=headers, timestamp=ts)
    p.commit_transaction(30 * SLOW)
    # EndTxn is answered once the commit is decided; the marker is written after it
    got = wait_for(lambda: (lambda g: g if any(a & 0x20 for *_, a in g) else None)(
        batches(b.logdir, "txn-gzip", 0)), 30 * SLOW, 0.1) or batches(b.logdir, "txn-gzip", 0)
    data = [attrs for *_, attrs in got if not attrs & 0x20]
    markers = [attrs for *_, attrs in got if attrs & 0x20]
    assert data and all(a & 7 == 1 and a & 0x10 for a in data), got
    assert markers and all(a & 7 == 0 for a in markers), got
    msgs = consume(b.bootstrap, "txn-gzip", 25, **{"isolation.level": "read_committed"})
    assert [(m.key(), m.value()) for m in msgs] == [record(i)[:2] for i in range(25)]


def test_log_append_time_on_a_recompressed_batch(target):
    """The rebuilt batch gets the broker's clock and the LogAppendTime attribute."""
    b = target()
    create(b.bootstrap, "stamped-z", {"compression.type": "zstd",
                                      "message.timestamp.type": "LogAppendTime"})
    produce(b.bootstrap, "stamped-z", "none", 0, 10)
    got = batches(b.logdir, "stamped-z", 0)
    assert got and all(attrs & 7 == 4 and attrs & 0x08 for *_, attrs in got), got
    msgs = consume(b.bootstrap, "stamped-z", 10)
    assert all(m.timestamp()[0] == ck.TIMESTAMP_LOG_APPEND_TIME and m.timestamp()[1] > TS + 10**9
               for m in msgs), [m.timestamp() for m in msgs]
    assert [(m.key(), m.value(), m.headers() or []) for m in msgs] == \
        [record(i)[:3] for i in range(10)]


def test_max_message_bytes_applies_after_recompression(target):
    """A small gzip batch that is too large once uncompressed is refused (Kafka re-checks the
    size after re-compression); the same batch to a topic keeping it compressed is taken."""
    b = target()
    create(b.bootstrap, "tight-plain", {"compression.type": "uncompressed",
                                        "max.message.bytes": "2000"})
    create(b.bootstrap, "tight-gzip", {"compression.type": "gzip", "max.message.bytes": "2000"})
    big = b"x" * 20000
    assert produce_one(b.bootstrap, "tight-plain", big, "gzip") == "MSG_SIZE_TOO_LARGE"
    assert produce_one(b.bootstrap, "tight-gzip", big, "gzip") is None
    assert produce_one(b.bootstrap, "tight-plain", b"x" * 500, "gzip") is None
    assert codecs(b, "tight-plain") == [0] and codecs(b, "tight-gzip") == [1]


def create_error(bootstrap, topic, configs):
    admin = cka.AdminClient({"bootstrap.servers": bootstrap})
    try:
        admin.create_topics([cka.NewTopic(topic, 1, 1, config=configs)])[topic].result(30 * SLOW)
        return None
    except ck.KafkaException as e:
        return e.args[0].name()


def test_level_configs_are_checked_and_applied(target):
    """KIP-390: levels out of range are INVALID_CONFIG; a higher level stores fewer bytes."""
    b = target()
    for i, bad in enumerate([{"compression.gzip.level": "0"}, {"compression.gzip.level": "10"},
                             {"compression.lz4.level": "18"}, {"compression.lz4.level": "0"},
                             {"compression.zstd.level": "23"},
                             {"compression.type": "none"}]):
        assert create_error(b.bootstrap, f"bad-level-{i}", bad) == "INVALID_CONFIG", bad
    rnd = random.Random(7)
    words = [bytes(rnd.choice(b"abcdefghij") for _ in range(rnd.randint(2, 9))) for _ in range(400)]
    value = b" ".join(rnd.choice(words) for _ in range(40000))
    sizes = {}
    for codec, low, high in (("gzip", "1", "9"), ("lz4", "1", "17"), ("zstd", "-5", "19")):
        for level in (low, high):
            t = f"lv-{codec}-{level}"
            create(b.bootstrap, t, {"compression.type": codec, f"compression.{codec}.level": level})
            assert produce_one(b.bootstrap, t, value) is None
            (_, _, _, _, _, attrs), = batches(b.logdir, t, 0)
            assert attrs & 7 == CODEC[codec]
            sizes[t] = sum(p.stat().st_size for p in Path(b.logdir, f"{t}-0").glob("*.log"))
            assert consume(b.bootstrap, t, 1)[0].value() == value
        assert sizes[f"lv-{codec}-{high}"] < sizes[f"lv-{codec}-{low}"], sizes


def newest_codec(b, topic):
    got = codecs(b, topic)
    return got[-1] if got else None


def wait_codec(b, topic, codec, first):
    """Produce one uncompressed record at a time (ids from first) until the newest batch has
    `codec` (the config change has reached the leader); returns the next id."""
    i = first

    def probe():
        nonlocal i
        produce(b.bootstrap, topic, "none", i, 1)
        i += 1
        return newest_codec(b, topic) == codec
    assert wait_for(probe, 30 * SLOW, 0.2), (topic, codecs(b, topic))
    return i


def test_altered_compression_applies_without_restart(target, kp):
    """IncrementalAlterConfigs (ktopics alter) on compression.type: later produces take it."""
    b = target()
    create(b.bootstrap, "dyn", {})
    produce(b.bootstrap, "dyn", "none", 0, 20)
    assert set(codecs(b, "dyn")) == {0}
    assert kp.run("ktopics", "alter", "-b", b.bootstrap, "-c", "compression.type=zstd",
                  "-c", "compression.zstd.level=10", "dyn").returncode == 0
    i = wait_codec(b, "dyn", 4, 20)
    produce(b.bootstrap, "dyn", "gzip", i, 20)
    assert set(codecs(b, "dyn", i)) == {4}
    assert kp.run("ktopics", "alter", "-b", b.bootstrap, "-d", "compression.type",
                  "dyn").returncode == 0
    i = wait_codec(b, "dyn", 0, i + 20)
    produce(b.bootstrap, "dyn", "snappy", i, 20)
    assert 2 in codecs(b, "dyn", i) and set(codecs(b, "dyn", i)) <= {0, 2}, codecs(b, "dyn", i)
    check_records(b.bootstrap, "dyn", range(i + 20))


def alter_broker_default(kp, bootstrap, value):
    """IncrementalAlterConfigs of the cluster-wide dynamic compression.type (None: delete)."""
    op = {"Name": "compression.type", "ConfigOperation": 1 if value is None else 0,
          "Value": value}
    steps = [{"api": "IncrementalAlterConfigs", "version": 1, "request": {
        "Resources": [{"ResourceType": 4, "ResourceName": "", "Configs": [op]}],
        "ValidateOnly": False}}]
    p = kp.run(KPWIRE, bootstrap, "-", input=json.dumps(steps).encode(), timeout=60)
    resp = json.loads(p.stdout.decode().splitlines()[0])["response"]
    assert [r["ErrorCode"] for r in resp["Responses"]] == [0], resp


def test_broker_default_static_and_dynamic(target, kp):
    """The broker's compression.type stands for topics without their own: static
    (server.properties), then the dynamic cluster default over it; the topic's own wins."""
    b = target("compression.type=lz4")
    create(b.bootstrap, "follows", {})
    create(b.bootstrap, "own", {"compression.type": "producer"})
    produce(b.bootstrap, "follows", "none", 0, 10)
    produce(b.bootstrap, "own", "none", 0, 10)
    assert set(codecs(b, "follows")) == {3} and set(codecs(b, "own")) == {0}
    alter_broker_default(kp, b.bootstrap, "gzip")
    try:
        i = wait_codec(b, "follows", 1, 10)
        produce(b.bootstrap, "own", "none", 10, 10)
        assert set(codecs(b, "own")) == {0}
    finally:
        alter_broker_default(kp, b.bootstrap, None)
    i = wait_codec(b, "follows", 3, i)
    check_records(b.bootstrap, "follows", range(i))


def test_invalid_static_default_is_refused(bin_dir, tmp_path):
    """kbroker, like Kafka, does not start with a compression.type or level it cannot use."""
    for bad in ("compression.type=brotli", "compression.zstd.level=99"):
        p = subprocess.run([str(BIN / "kbroker"), "-o", "listeners=PLAINTEXT://127.0.0.1:0",
                            "-o", f"log.dirs={tmp_path / 'bad'}", "-o", bad],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30 * SLOW)
        assert p.returncode != 0 and bad.split("=")[0] in p.stderr.decode(), (bad, p.stderr)
