"""Several log dirs (log.dirs, Kafka's JBOD): a new partition goes to the log dir with the
fewest partitions, stays there across restarts, and DescribeLogDirs names each partition in
its own dir; a log dir whose disk fails (here a small tmpfs that fills: ENOSPC on a write,
which Kafka also treats as a failed dir) goes offline with its partitions, which answer
KAFKA_STORAGE_ERROR, while the partitions in the other dirs keep serving; when the last
log dir fails the broker stops with an error, as Kafka halts.

The failing dir is a tmpfs mounted in a private mount namespace of the broker only
(unshare -m), so nothing outside the test sees it; the test is skipped where mounting is not
allowed."""
import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import BIN, SLOW, Broker, create_topic, wait_for
from test_kraft_cluster import kpwire

confluent_kafka = pytest.importorskip("confluent_kafka")

STORAGE_ERROR = 56


def can_mount():
    r = subprocess.run(["unshare", "-m", "sh", "-c",
                        "d=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs $d && umount $d; "
                        "r=$?; rmdir $d; exit $r"], capture_output=True)
    return r.returncode == 0


class TmpfsBroker(Broker):
    """A kbroker whose log dir `small` is a tmpfs of `size` in its own mount namespace."""

    def __init__(self, overrides, logdir, small, size):
        self.small, self.size = str(small), size
        super().__init__(overrides, logdir)

    @property
    def args(self):
        mount = f'mount -t tmpfs -o size={self.size} tmpfs "{self.small}" && exec "$@"'
        return ["unshare", "-m", "sh", "-c", mount, "sh"] + super().args


def dirs_of(root, names, topic):
    """{log dir name: sorted partitions of `topic` in it}."""
    out = {}
    for n in names:
        parts = [int(p.name.rsplit("-", 1)[1]) for p in (root / n).iterdir()
                 if p.is_dir() and p.name.rsplit("-", 1)[0] == topic]
        out[n] = sorted(parts)
    return out


def describe_log_dirs(kp, broker):
    r = kpwire(kp, broker.bootstrap, [{"api": "DescribeLogDirs", "version": 4,
                                      "request": {"Topics": None}}])[0]
    assert r["ErrorCode"] == 0, r
    return {Path(x["LogDir"]).name: (x["ErrorCode"],
                                     {t["Name"]: sorted(p["PartitionIndex"] for p in t["Partitions"])
                                      for t in x["Topics"]})
            for x in r["Results"]}


def produce(bootstrap, topic, partition, values, timeout=15):
    """Produce `values` one at a time to one partition (acks=all, no retries) until one fails;
    the delivery results, in order (0: delivered, else the error code)."""
    p = confluent_kafka.Producer({"bootstrap.servers": bootstrap, "acks": "all", "retries": 0,
                                  "message.timeout.ms": int(timeout * 1000 * SLOW),
                                  "enable.idempotence": False, "linger.ms": 0})
    errors = []
    for v in values:
        p.produce(topic, v, partition=partition,
                  on_delivery=lambda err, msg: errors.append(err.code() if err else 0))
        p.flush(timeout * SLOW)
        if not errors or errors[-1] != 0:
            break
    return errors


def consume(kp, bootstrap, topic, partition):
    out = kp.consume(bootstrap, topic, "-p", str(partition), "-o", "beginning", "-e").stdout
    return out.decode().splitlines()


def test_new_partitions_go_to_the_least_loaded_dir(kp, tmp_path):
    root = tmp_path / "logs"
    root.mkdir()
    names = ["d0", "d1", "d2"]
    dirs = ",".join(str(root / n) for n in names)
    b = Broker([f"log.dirs={dirs}"], root)
    try:
        create_topic(b.bootstrap, "spread", 6)
        placed = dirs_of(root, names, "spread")
        assert [len(v) for v in placed.values()] == [2, 2, 2], placed
        assert sorted(sum(placed.values(), [])) == list(range(6))
        for part in range(6):
            kp.produce(b.bootstrap, "spread", "-p", str(part), input=f"v{part}\n".encode())
        create_topic(b.bootstrap, "more", 3)
        assert [len(v) for v in dirs_of(root, names, "more").values()] == [1, 1, 1]
        seen = describe_log_dirs(kp, b)
        assert set(seen) == set(names)
        for n in names:
            assert seen[n][0] == 0
            assert seen[n][1].get("spread") == placed[n], (n, seen)

        b.stop()
        b.start()
        assert dirs_of(root, names, "spread") == placed  # found where they were, none remade
        for part in range(6):
            assert consume(kp, b.bootstrap, "spread", part) == [f"v{part}"]
        assert describe_log_dirs(kp, b)["d1"][1]["spread"] == placed["d1"]
    finally:
        if b.running:
            b.stop()
        b.check_sanitizer()


@pytest.mark.skipif(not can_mount(), reason="cannot mount a tmpfs in a private mount namespace")
def test_failed_log_dir_goes_offline_alone(kp, tmp_path):
    root = tmp_path / "logs"
    (root / "good").mkdir(parents=True)
    (root / "small").mkdir()
    dirs = f"{root / 'good'},{root / 'small'}"
    b = TmpfsBroker([f"log.dirs={dirs}"], root, root / "small", "512k")
    try:
        create_topic(b.bootstrap, "jbod", 2)
        # p0 goes to good (the first of two empty dirs), p1 to small: checked through DescribeLogDirs,
        # since the tmpfs is only visible inside the broker's mount namespace
        assert describe_log_dirs(kp, b) == {"good": (0, {"jbod": [0]}), "small": (0, {"jbod": [1]})}
        assert produce(b.bootstrap, "jbod", 0, [b"before"]) == [0]

        errors = produce(b.bootstrap, "jbod", 1, [os.urandom(100_000) for _ in range(8)])
        assert STORAGE_ERROR in errors, errors  # the 512 KiB tmpfs fills
        assert b.wait_stderr("is offline"), b.stderr[-3000:]
        assert "log dir " + str(root / "small") + " failed" in b.stderr

        seen = describe_log_dirs(kp, b)
        assert seen["small"] == (STORAGE_ERROR, {})
        assert seen["good"] == (0, {"jbod": [0]})
        r = kpwire(kp, b.bootstrap, [{"api": "Produce", "version": 9, "request": {
            "Acks": 1, "TimeoutMs": 5000, "TopicData": [{"Name": "jbod", "PartitionData": [
                {"Index": 1, "Records": {"records": [{"key": "k", "value": "refused"}]}}]}]}}])[0]
        assert r["Responses"][0]["PartitionResponses"][0]["ErrorCode"] == STORAGE_ERROR, r
        md = kpwire(kp, b.bootstrap, [{"api": "Metadata", "version": 12, "request": {
            "Topics": [{"Name": "jbod"}], "AllowAutoTopicCreation": False}}])[0]
        parts = {p["PartitionIndex"]: p for p in md["Topics"][0]["Partitions"]}
        assert parts[1]["ErrorCode"] == STORAGE_ERROR and parts[1]["LeaderId"] == -1, parts
        assert parts[0]["ErrorCode"] == 0 and parts[0]["LeaderId"] >= 0, parts

        assert produce(b.bootstrap, "jbod", 0, [b"after"]) == [0]  # the good dir keeps serving
        assert consume(kp, b.bootstrap, "jbod", 0) == ["before", "after"]
        assert b.running
    finally:
        if b.running:
            b.stop()
        b.check_sanitizer()


@pytest.mark.skipif(not can_mount(), reason="cannot mount a tmpfs in a private mount namespace")
def test_broker_stops_when_every_log_dir_failed(kp, tmp_path):
    root = tmp_path / "logs"
    (root / "small").mkdir(parents=True)
    b = TmpfsBroker([f"log.dirs={root / 'small'}"], root, root / "small", "512k")
    try:
        create_topic(b.bootstrap, "full", 1)
        errors = produce(b.bootstrap, "full", 0, [os.urandom(100_000) for _ in range(8)])
        assert STORAGE_ERROR in errors, errors
        assert wait_for(lambda: not b.running, 20 * SLOW), "kbroker still runs without a log dir"
        assert b.proc.returncode == 1
        assert "every log dir has failed" in b.stderr
    finally:
        if b.running:
            b.kill9()
        b.check_sanitizer()
