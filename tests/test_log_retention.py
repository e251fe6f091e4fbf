"""Retention (cleanup.policy=delete) on a real kbroker through real clients: retention.bytes
and retention.ms delete whole old segments and nothing else, the log start offset
ListOffsets reports is the first segment kept, consumers read exactly what is left, a
topic's configs (set at creation or altered later, no restart) decide over the broker's
log.retention.* defaults, and a compacted topic is never trimmed by retention. The rules
themselves (high watermark, active segment) are unit-tested in tests/unit/test_log_retention.c."""
import time
from pathlib import Path

import pytest

from conftest import SLOW, wait_for

ck = pytest.importorskip("confluent_kafka")
import confluent_kafka.admin as cka  # noqa: E402

CHECK = "log.retention.check.interval.ms=200"


def create(bootstrap, topic, configs):
    admin = cka.AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([cka.NewTopic(topic, 1, 1, config=configs)])[topic].result(30 * SLOW)
    return admin


def produce(bootstrap, topic, values, timestamps=None):
    p = ck.Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "batch.num.messages": 1})
    for i, v in enumerate(values):
        p.produce(topic, v.encode(), timestamp=timestamps[i] if timestamps else 0)
        p.poll(0)
    assert p.flush(30 * SLOW) == 0


def earliest(bootstrap, topic):
    c = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": "unused"})
    lo, _ = c.get_watermark_offsets(ck.TopicPartition(topic, 0), timeout=10 * SLOW)
    c.close()
    return lo


def read_all(bootstrap, topic, start):
    """[(offset, value)] from the beginning to the end, read with confluent-kafka."""
    c = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": "unused",
                     "enable.partition.eof": True, "auto.offset.reset": "earliest"})
    c.assign([ck.TopicPartition(topic, 0, ck.OFFSET_BEGINNING)])
    got, deadline = [], time.monotonic() + 30 * SLOW
    while time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == ck.KafkaError._PARTITION_EOF:
                break
            raise AssertionError(m.error())
        got.append((m.offset(), m.value().decode()))
    c.close()
    assert got and got[0][0] == start, (got[:1], start)
    return got


def segments(broker, topic):
    """[(base offset, bytes)] of the partition's segment files, oldest first."""
    d = Path(broker.logdir, f"{topic}-0")
    return sorted((int(p.stem), p.stat().st_size) for p in d.glob("*.log"))


def test_retention_bytes_trims_to_whole_segments_and_moves_the_log_start(broker):
    b = broker(CHECK)
    create(b.bootstrap, "sized", {"segment.bytes": "20000", "retention.bytes": "60000"})
    values = [f"v{i:04d}-" + "x" * 1000 for i in range(300)]
    produce(b.bootstrap, "sized", values)
    assert wait_for(lambda: earliest(b.bootstrap, "sized") > 0, 10 * SLOW, 0.2)
    time.sleep(0.5)  # a few more passes: nothing more may go
    segs = segments(b, "sized")
    start = earliest(b.bootstrap, "sized")
    assert start == segs[0][0], (start, segs)
    total = sum(size for _, size in segs)
    assert total >= 60000 and total - segs[0][1] < 60000, segs  # no more than needed went
    got = read_all(b.bootstrap, "sized", start)
    assert got == [(o, values[o]) for o in range(start, 300)]
    assert b.wait_stderr("for breaching retention.bytes", 1)


def test_retention_ms_deletes_only_segments_wholly_older(broker):
    """200 records two hours old, then 100 from now; retention.ms is one hour: the segments
    holding only old records go, the one holding the first new record stays."""
    b = broker(CHECK)
    create(b.bootstrap, "timed", {"segment.bytes": "20000", "retention.ms": "3600000"})
    now = int(time.time() * 1000)
    values = [f"v{i:04d}-" + "x" * 1000 for i in range(300)]
    produce(b.bootstrap, "timed", values, [now - 7200_000 + i for i in range(200)] +
            [now + i for i in range(100)])
    assert wait_for(lambda: earliest(b.bootstrap, "timed") > 0, 10 * SLOW, 0.2)
    time.sleep(0.5)
    start = earliest(b.bootstrap, "timed")
    segs = segments(b, "timed")
    assert start == segs[0][0] and start <= 200 < (segs[1][0] if len(segs) > 1 else 301), \
        (start, segs)
    assert start > 200 - 20, start  # at most one segment's worth of old records is left
    assert read_all(b.bootstrap, "timed", start) == [(o, values[o]) for o in range(start, 300)]
    assert b.wait_stderr("for breaching retention.ms", 1)


def test_topic_configs_decide_over_the_broker_default_and_apply_without_a_restart(broker, kp):
    """The broker's log.retention.bytes trims a topic without its own; retention.bytes=-1 on a
    topic keeps everything until `ktopics alter` (IncrementalAlterConfigs) sets a limit,
    applied at once;
    cleanup.policy=compact is never trimmed by retention."""
    b = broker(CHECK, "log.retention.bytes=30000", "log.segment.bytes=20000")
    create(b.bootstrap, "defaulted", {})
    create(b.bootstrap, "kept", {"retention.bytes": "-1"})
    create(b.bootstrap, "compacted", {"cleanup.policy": "compact"})
    values = [f"v{i:04d}-" + "x" * 1000 for i in range(150)]
    for t in ("defaulted", "kept", "compacted"):
        produce(b.bootstrap, t, values)
    assert wait_for(lambda: earliest(b.bootstrap, "defaulted") > 0, 10 * SLOW, 0.2)
    time.sleep(0.5)
    assert earliest(b.bootstrap, "kept") == 0
    assert earliest(b.bootstrap, "compacted") == 0
    assert kp.run("ktopics", "alter", "-b", b.bootstrap, "-c", "retention.bytes=30000",
                  "kept").returncode == 0
    assert wait_for(lambda: earliest(b.bootstrap, "kept") > 0, 10 * SLOW, 0.2)
    start = earliest(b.bootstrap, "kept")
    assert start == segments(b, "kept")[0][0]
    assert read_all(b.bootstrap, "kept", start) == [(o, values[o]) for o in range(start, 150)]
    assert earliest(b.bootstrap, "compacted") == 0


def test_a_dynamic_broker_default_trims_topics_without_their_own(broker, kp):
    """IncrementalAlterConfigs on the cluster-wide broker resource ("": ConfigCommand
    --entity-type brokers --entity-default) sets log.retention.bytes for every topic without
    its own retention.bytes, at once."""
    from test_kraft_cluster import kpwire
    b = broker(CHECK, "log.segment.bytes=20000")
    create(b.bootstrap, "dynamic", {})
    values = [f"v{i:04d}-" + "x" * 1000 for i in range(150)]
    produce(b.bootstrap, "dynamic", values)
    time.sleep(0.5)
    assert earliest(b.bootstrap, "dynamic") == 0
    r = kpwire(kp, b.bootstrap, [{"api": "IncrementalAlterConfigs", "version": 1, "request": {
        "Resources": [{"ResourceType": 4, "ResourceName": "", "Configs": [
            {"Name": "log.retention.bytes", "ConfigOperation": 0, "Value": "30000"}]}]}}])[0]
    assert r["Responses"][0]["ErrorCode"] == 0, r
    assert wait_for(lambda: earliest(b.bootstrap, "dynamic") > 0, 10 * SLOW, 0.2)
    start = earliest(b.bootstrap, "dynamic")
    assert start == segments(b, "dynamic")[0][0]
    assert read_all(b.bootstrap, "dynamic", start) == [(o, values[o]) for o in range(start, 150)]
