"""Topic-level configs take effect on the partitions' logs and on produce, on kbroker and on
Apache Kafka alike (the target fixture): max.message.bytes per topic, a compacted topic
refusing records without keys, message.timestamp.type=LogAppendTime. On kbroker also:
segment.bytes at creation and altered later (no restart) decides when segments roll."""
import time
from pathlib import Path

import pytest

from conftest import SLOW, wait_for

ck = pytest.importorskip("confluent_kafka")
import confluent_kafka.admin as cka  # noqa: E402


def create(bootstrap, topic, configs):
    admin = cka.AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([cka.NewTopic(topic, 1, 1, config=configs)])[topic].result(30 * SLOW)

    def ready():
        t = admin.list_topics(topic, timeout=10 * SLOW).topics.get(topic)
        return t is not None and t.error is None and t.partitions[0].leader >= 0
    assert wait_for(ready, 30 * SLOW, 0.2)


def produce_one(bootstrap, topic, value, key=None, timestamp=0):
    """(error name or None, delivered message) of one record."""
    got = []
    p = ck.Producer({"bootstrap.servers": bootstrap, "linger.ms": 0,
                     "message.max.bytes": 10_000_000, "retries": 0})
    p.produce(topic, value, key=key, timestamp=timestamp,
              on_delivery=lambda err, msg: got.append((err.name() if err else None, msg)))
    assert p.flush(30 * SLOW) == 0
    return got[0]


def test_max_message_bytes_is_per_topic(target):
    b = target()
    create(b.bootstrap, "small", {"max.message.bytes": "2000"})
    create(b.bootstrap, "roomy", {})
    assert produce_one(b.bootstrap, "small", b"x" * 5000)[0] == "MSG_SIZE_TOO_LARGE"
    assert produce_one(b.bootstrap, "small", b"x" * 500)[0] is None
    assert produce_one(b.bootstrap, "roomy", b"x" * 5000)[0] is None


def test_a_compacted_topic_refuses_records_without_a_key(target):
    b = target()
    create(b.bootstrap, "keyed", {"cleanup.policy": "compact"})
    assert produce_one(b.bootstrap, "keyed", b"v")[0] == "INVALID_RECORD"
    assert produce_one(b.bootstrap, "keyed", b"v", key=b"k")[0] is None
    create(b.bootstrap, "both", {"cleanup.policy": "compact,delete"})
    assert produce_one(b.bootstrap, "both", b"v")[0] == "INVALID_RECORD"


def test_log_append_time_replaces_the_producers_timestamp(target):
    b = target()
    create(b.bootstrap, "stamped", {"message.timestamp.type": "LogAppendTime"})
    before = int(time.time() * 1000)
    err, msg = produce_one(b.bootstrap, "stamped", b"v", timestamp=1000)
    after = int(time.time() * 1000)
    assert err is None
    kind, ts = msg.timestamp()
    assert kind == ck.TIMESTAMP_LOG_APPEND_TIME and before - 1000 <= ts <= after + 1000, (kind, ts)
    c = ck.Consumer({"bootstrap.servers": b.bootstrap, "group.id": "unused"})
    c.assign([ck.TopicPartition("stamped", 0, ck.OFFSET_BEGINNING)])
    m = wait_for(lambda: (lambda m: m if m is not None and not m.error() else None)(c.poll(0.5)),
                 30 * SLOW, 0)
    c.close()
    assert m.timestamp() == (ck.TIMESTAMP_LOG_APPEND_TIME, ts)


def segment_count(broker, topic):
    return len(list(Path(broker.logdir, f"{topic}-0").glob("*.log")))


def test_segment_bytes_decides_the_roll_and_can_be_altered(broker, kp):
    b = broker()
    create(b.bootstrap, "rolled", {"segment.bytes": "20000"})
    create(b.bootstrap, "plain", {})
    lines = b"".join(b"v%04d-" % i + b"x" * 1000 + b"\n" for i in range(100))
    for t in ("rolled", "plain"):  # batches of at most 10 KB
        assert kp.produce(b.bootstrap, t, "--batch-size=10240", input=lines).returncode == 0
    assert segment_count(b, "rolled") >= 5
    assert segment_count(b, "plain") == 1
    assert kp.run("ktopics", "alter", "-b", b.bootstrap, "-c", "segment.bytes=20000",
                  "plain").returncode == 0
    time.sleep(0.5)  # the image reaches the broker
    assert kp.produce(b.bootstrap, "plain", "--batch-size=10240",
                      input=lines).returncode == 0
    assert segment_count(b, "plain") >= 5
