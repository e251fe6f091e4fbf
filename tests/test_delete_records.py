"""DeleteRecords (KIP-107) on a replicated partition: the leader moves its log start offset,
its followers follow it from their fetches, and the answer comes once all of them have
(the low watermark); every replica keeps the new start across a restart, and consumers,
ListOffsets and a new leader all agree on it. The single-node answers are compared with
Apache Kafka's in tests/differential/delete_records.json."""
import re
import socket
import struct
import time
from pathlib import Path

import pytest

from conftest import SLOW, create_topic, wait_for
from test_kraft_cluster import BROKER_IDS, check_stopped, kpwire
from test_replication import create, partition_state, produce_acks_all, start, wait_isr

pytest.importorskip("confluent_kafka")
TOPIC = "trimmed"


def delete_records(kp, broker, offset, timeout_ms=30000):
    r = kpwire(kp, broker.bootstrap, [{"api": "DeleteRecords", "version": 2, "request": {
        "Topics": [{"Name": TOPIC, "Partitions": [{"PartitionIndex": 0, "Offset": offset}]}],
        "TimeoutMs": timeout_ms}}])[0]
    p = r["Topics"][0]["Partitions"][0]
    return p["ErrorCode"], p["LowWatermark"]


def earliest(kp, broker):
    r = kpwire(kp, broker.bootstrap, [{"api": "ListOffsets", "version": 7, "request": {
        "ReplicaId": -1, "Topics": [{"Name": TOPIC, "Partitions": [
            {"PartitionIndex": 0, "Timestamp": -2, "MaxNumOffsets": 1}]}]}}])[0]
    return r["Topics"][0]["Partitions"][0]["Offset"]


def values_from(kp, broker):
    """What kconsume reads from the beginning of TOPIC-0 at `broker`."""
    out = kp.consume(broker.bootstrap, TOPIC, "-p", 0, "-o", "beginning", "-e").stdout
    return out.decode().splitlines()


def stored_start(broker):
    """The log start offset a broker keeps for TOPIC-0 (its log-start-offset file), or None."""
    path = Path(broker.logdir, f"{TOPIC}-0", "log-start-offset")
    return int(path.read_text()) if path.exists() else None


def test_followers_follow_the_leaders_new_log_start(tmp_path, kp):
    c = start(tmp_path, kp)
    try:
        create(c, TOPIC, assignment=[[11, 12, 13]], config={"min.insync.replicas": "2"})
        wait_isr(kp, c, TOPIC, list(BROKER_IDS))
        values = [f"v{i}" for i in range(10)]
        acked, errors = produce_acks_all(c.brokers[11].bootstrap, TOPIC, values)
        assert len(acked) == 10, errors
        assert delete_records(kp, c.brokers[11], 4) == (0, 4)  # every replica is at 4 now
        assert all(stored_start(b) == 4 for b in c.brokers.values()), \
            {i: stored_start(b) for i, b in c.brokers.items()}
        assert earliest(kp, c.brokers[11]) == 4
        assert values_from(kp, c.brokers[11]) == values[4:]
        assert delete_records(kp, c.brokers[12], 6)[0] == 6  # NOT_LEADER_OR_FOLLOWER
        c.brokers[11].kill9()
        leader = wait_for(lambda: (lambda s: s[0] if s and s[0] in (12, 13) else None)(
            partition_state(kp, c, TOPIC)), 30 * SLOW, 0.2)
        assert leader, partition_state(kp, c, TOPIC)
        assert earliest(kp, c.brokers[leader]) == 4
        assert values_from(kp, c.brokers[leader]) == values[4:]
        c.brokers[11].start()
        wait_isr(kp, c, TOPIC, list(BROKER_IDS))
        assert stored_start(c.brokers[11]) == 4
        assert delete_records(kp, c.brokers[leader], -1) == (0, 10)  # the high watermark
        assert earliest(kp, c.brokers[leader]) == 10
    finally:
        check_stopped(c)


def test_answer_waits_for_a_follower_that_is_down(tmp_path, kp):
    """A follower that is fenced does not hold the answer back (only live brokers count); one
    that is alive but not fetching does, until timeout_ms (REQUEST_TIMED_OUT)."""
    import os
    import signal
    c = start(tmp_path, kp)
    try:
        create(c, TOPIC, assignment=[[11, 12, 13]])
        wait_isr(kp, c, TOPIC, list(BROKER_IDS))
        acked, errors = produce_acks_all(c.brokers[11].bootstrap, TOPIC, ["a", "b", "c"])
        assert len(acked) == 3, errors
        os.kill(c.brokers[13].proc.pid, signal.SIGSTOP)
        try:
            assert delete_records(kp, c.brokers[11], 1, timeout_ms=500) == (7, 0)
        finally:
            os.kill(c.brokers[13].proc.pid, signal.SIGCONT)
        assert wait_for(lambda: delete_records(kp, c.brokers[11], 1, timeout_ms=500) == (0, 1),
                        30 * SLOW, 0.5)
        c.brokers[13].kill9()
        wait_isr(kp, c, TOPIC, [11, 12])
        assert delete_records(kp, c.brokers[11], 2) == (0, 2)
        c.brokers[13].start()
        wait_isr(kp, c, TOPIC, list(BROKER_IDS))
        assert wait_for(lambda: stored_start(c.brokers[13]) == 2, 30 * SLOW, 0.2)
    finally:
        check_stopped(c)


def test_a_follower_behind_the_leaders_start_starts_over_there(tmp_path, kp):
    """A follower away while the leader deleted records it never got: its fetch is out of
    range, so it asks the leader for its log start (ListOffsets), starts its own log there,
    catches up and rejoins the ISR; led by it, the partition serves what the leader kept."""
    c = start(tmp_path, kp)
    try:
        create(c, TOPIC, assignment=[[11, 12, 13]])
        wait_isr(kp, c, TOPIC, list(BROKER_IDS))
        values = [f"v{i}" for i in range(12)]
        acked, errors = produce_acks_all(c.brokers[11].bootstrap, TOPIC, values[:3])
        assert len(acked) == 3, errors
        c.brokers[13].kill9()
        wait_isr(kp, c, TOPIC, [11, 12])
        acked, errors = produce_acks_all(c.brokers[11].bootstrap, TOPIC, values[3:])
        assert len(acked) == 9, errors
        assert delete_records(kp, c.brokers[11], 8) == (0, 8)
        c.brokers[13].start()
        wait_isr(kp, c, TOPIC, list(BROKER_IDS))
        assert stored_start(c.brokers[13]) == 8
        assert c.brokers[13].wait_stderr("starting our log there", 5)
        c.brokers[11].stop()
        c.brokers[12].stop()
        assert wait_for(lambda: (partition_state(kp, c, TOPIC) or (-1,))[0] == 13, 30 * SLOW, 0.2)
        assert values_from(kp, c.brokers[13]) == values[8:]
    finally:
        check_stopped(c)


def fetch_v4(topic, offset, max_bytes, corr=7):
    """A Fetch v4 request frame for partition 0 of `topic` from `offset` (no flexible fields)."""
    name = topic.encode()
    body = struct.pack(">iiiib", -1, 100, 1, max_bytes, 0)             # replica, wait, min, max, isolation
    body += struct.pack(">ih", 1, len(name)) + name                     # one topic
    body += struct.pack(">iiqi", 1, 0, offset, max_bytes)               # one partition
    head = struct.pack(">hhih", 1, 4, corr, 4) + b"test"                # api, version, corr, client id
    return struct.pack(">i", len(head) + len(body)) + head + body


def test_a_queued_fetch_answer_outlives_the_segments_it_reads(broker, kp):
    """A client asks for 8 MB and reads nothing, so what the socket buffers cannot hold (about
    4 MB) waits in the broker; the records are deleted meanwhile (DeleteRecords to the high
    watermark deletes every segment but the active one). The answer still arrives whole,
    every record intact: it reads through its own descriptors of the deleted files."""
    b = broker("log.segment.bytes=1048576")
    create_topic(b.bootstrap, TOPIC, 1)
    for first in range(0, 8000, 1000):  # 8 batches, at least 8 segments
        lines = b"".join(b"v%05d-" % i + b"x" * 1000 + b"\n" for i in range(first, first + 1000))
        assert kp.produce(b.bootstrap, TOPIC, input=lines).returncode == 0
    logs = lambda: len(list(Path(b.logdir, f"{TOPIC}-0").glob("*.log")))  # noqa: E731
    assert logs() >= 8
    s = socket.create_connection(("127.0.0.1", b.port))
    s.sendall(fetch_v4(TOPIC, 0, 64 << 20))
    time.sleep(1)  # the answer is queued; the socket buffers hold part of it
    assert delete_records(kp, b, -1) == (0, 8000)
    assert logs() == 1
    size = struct.unpack(">i", s.recv(4, socket.MSG_WAITALL))[0]
    got = bytearray()
    while len(got) < size:
        chunk = s.recv(1 << 20)
        assert chunk, f"connection closed after {len(got)} of {size} bytes"
        got += chunk
    s.close()
    assert size > 8_000_000
    found = [int(x) for x in re.findall(rb"v(\d{5})-x", bytes(got))]
    assert found == list(range(8000)), (len(found), found[:3], found[-3:])
