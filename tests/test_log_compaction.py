"""Log compaction (cleanup.policy=compact) on a real kbroker through real clients: a topic
created compacted, with small segments and a broker that looks for dirty logs often, keeps
only the last value of each key once the cleaner has run (its segments shrink), at the
offsets the producer was given; kcat (librdkafka) and the Java consumer both read exactly
that. A topic that is not compacted is left alone. The cleaner's rules (tombstones, offset
map size, producer state, crash safety of the swap) are unit-tested in
tests/unit/test_log_cleaner.c."""
import time
from pathlib import Path

import pytest

import clients
from conftest import SLOW, wait_for

ck = pytest.importorskip("confluent_kafka")
import confluent_kafka.admin as cka  # noqa: E402

CLEANER = "log.cleaner.backoff.ms=200"
KEYS = [f"key-{i:03d}" for i in range(50)]
ROUNDS = 40


def create(bootstrap, topic, configs):
    admin = cka.AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([cka.NewTopic(topic, 1, 1, config=configs)])[topic].result(30 * SLOW)


def produce(bootstrap, topic, records):
    """Produce [(key, value)] one record a batch; returns {(key, value): offset}."""
    offsets = {}

    def done(err, msg):
        assert err is None, err
        offsets[(msg.key().decode(), msg.value().decode())] = msg.offset()

    p = ck.Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "batch.num.messages": 1,
                     "compression.type": "none"})
    for k, v in records:
        p.produce(topic, v.encode(), k.encode(), on_delivery=done)
        p.poll(0)
    assert p.flush(30 * SLOW) == 0
    assert len(offsets) == len(records)
    return offsets


def segments(broker, topic):
    """[(base offset, bytes)] of the partition's segment files, oldest first."""
    d = Path(broker.logdir, f"{topic}-0")
    return sorted((int(p.stem), p.stat().st_size) for p in d.glob("*.log"))


def kcat_read(kp, bootstrap, topic):
    """[(offset, key, value)] kcat reads from the beginning."""
    p = kp.run("kcat", "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-q",
               "-f", "%o\t%k\t%s\n", check_sanitizer=False)
    assert p.returncode == 0, p.err[-3000:]
    rows = [ln.split("\t") for ln in p.stdout.decode().splitlines() if ln]
    return [(int(o), k, v) for o, k, v in rows]


def workload():
    """ROUNDS values of each key, then filler that closes the segments holding them."""
    recs = [(k, f"{k}-v{r}-" + "x" * 60) for r in range(ROUNDS) for k in KEYS]
    recs += [("filler", f"filler-{i}-" + "y" * 3000) for i in range(6)]
    return recs


def expected(offsets):
    """{key: (offset, value)} of each key's last record."""
    last = {}
    for (k, v), o in offsets.items():
        if k not in last or o > last[k][0]:
            last[k] = (o, v)
    return last


def check(rows, offsets):
    """Each key of KEYS exactly once, its last value at its offset; filler records are ones
    produced, at their offsets, the last one among them."""
    want = expected(offsets)
    by_key = {}
    for o, k, v in rows:
        assert offsets.get((k, v)) == o, (o, k, v)  # offsets never change
        by_key.setdefault(k, []).append((o, v))
    for k in KEYS:
        assert by_key.get(k) == [want[k]], (k, by_key.get(k), want[k])
    assert by_key["filler"][-1] == want["filler"]
    assert [o for o, _, _ in rows] == sorted(o for o, _, _ in rows)


def test_compacted_topic_keeps_the_last_value_per_key(broker, kp, java):
    b = broker(CLEANER)
    create(b.bootstrap, "compacted", {"cleanup.policy": "compact", "segment.bytes": "8192",
                                      "min.cleanable.dirty.ratio": "0.01"})
    offsets = produce(b.bootstrap, "compacted", workload())
    total = len(offsets)

    def compacted():
        rows = kcat_read(kp, b.bootstrap, "compacted")
        return rows if len([r for r in rows if r[1] != "filler"]) == len(KEYS) else None

    rows = wait_for(compacted, 60 * SLOW, 0.5)
    assert rows, f"not compacted: {len(kcat_read(kp, b.bootstrap, 'compacted'))} of {total}"
    check(rows, offsets)
    size = sum(s for _, s in segments(b, "compacted"))
    assert size < 40000, segments(b, "compacted")  # from ~2000 records of ~130 bytes
    assert Path(b.logdir, "compacted-0", "cleaner-offset-checkpoint").exists()

    p = java("KpConsume", b.bootstrap, "compacted")
    _, got = clients.parse_records(clients.ok(p, "KpConsume").stdout)
    jrows = [(o, k.decode(), v.decode()) for _, o, k, v, _ in got]
    assert jrows == rows, "the Java consumer reads what kcat reads"

    # the cleaned log survives a restart as it is, and more writes get cleaned too
    b.restart()
    assert kcat_read(kp, b.bootstrap, "compacted") == rows
    more = produce(b.bootstrap, "compacted", [(k, f"{k}-again") for k in KEYS[:10]] +
                   [("filler", f"filler-end-{i}-" + "z" * 3000) for i in range(6)])
    offsets.update(more)
    assert wait_for(lambda: all(
        (o, k, v) in kcat_read(kp, b.bootstrap, "compacted")
        for k, (o, v) in expected(offsets).items()) and len(
        [r for r in kcat_read(kp, b.bootstrap, "compacted") if r[1] != "filler"]) == len(KEYS),
        60 * SLOW, 0.5)
    check(kcat_read(kp, b.bootstrap, "compacted"), offsets)


def test_a_topic_not_compacted_is_left_alone(broker, kp):
    b = broker(CLEANER)
    create(b.bootstrap, "plain", {"segment.bytes": "8192"})
    offsets = produce(b.bootstrap, "plain", workload()[:400])
    time.sleep(1.5 * SLOW)  # several cleaner passes
    rows = kcat_read(kp, b.bootstrap, "plain")
    assert len(rows) == len(offsets)
    assert not Path(b.logdir, "plain-0", "cleaner-offset-checkpoint").exists()


