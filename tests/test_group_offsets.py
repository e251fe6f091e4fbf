"""The group coordinator's offsets in __consumer_offsets, against a real kbroker through
tests/tools/kpwire: clients may not produce to __consumer_offsets (Kafka's answer,
INVALID_TOPIC_EXCEPTION); offsets.retention.minutes expires the offsets of a group with no
members, checked every offsets.retention.check.interval.ms, and what expired stays gone
after a restart (tombstones); a torn batch at the end of a __consumer_offsets partition
after kill -9 is cut by the log's recovery and the offsets before it are replayed."""
import glob
import json
import os
import time

from conftest import BUILD, SLOW, wait_for

KPWIRE = BUILD / "tests" / "tools" / "kpwire"


def wire(kp, b, steps):
    """kpwire's responses to `steps` (one connection), asserting every step was answered."""
    p = kp.run(KPWIRE, b.bootstrap, "-", input=json.dumps(steps).encode(), timeout=60)
    lines = [json.loads(x) for x in p.stdout.decode().splitlines()]
    assert p.returncode == 0 and len(lines) == len(steps), (p.returncode, lines, p.err)
    return [line["response"] for line in lines]


def make_topic(kp, b, topic):
    wire(kp, b, [{"api": "Metadata", "version": 12, "retry_while": {"ErrorCode": [3, 5], "LeaderId": [-1]},
                  "request": {"Topics": [{"Name": topic}], "AllowAutoTopicCreation": True}}])


def commit(group, topic, offset, version=9, **extra):
    """An OffsetCommit step of a simple consumer (generation -1) for topic/0."""
    part = {"PartitionIndex": 0, "CommittedOffset": offset}
    req = {"GroupId": group, "GenerationIdOrMemberEpoch": -1, "MemberId": "",
           "Topics": [{"Name": topic, "Partitions": [dict(part, **extra.get("partition", {}))]}]}
    req.update(extra.get("request", {}))
    return {"api": "OffsetCommit", "version": version, "request": req}


def committed(kp, b, groups, topic):
    """{group: committed offset of topic/0 (-1: none)}."""
    resp = wire(kp, b, [{"api": "OffsetFetch", "version": 9, "request": {"Groups": [
        {"GroupId": g, "Topics": [{"Name": topic, "PartitionIndexes": [0]}]} for g in groups]}}])[0]
    return {g["GroupId"]: g["Topics"][0]["Partitions"][0]["CommittedOffset"] for g in resp["Groups"]}


def commit_errors(resp):
    return [p["ErrorCode"] for t in resp["Topics"] for p in t["Partitions"]]


def log_end(kp, b, topic, partition):
    resp = wire(kp, b, [{"api": "ListOffsets", "version": 7, "request": {"ReplicaId": -1, "Topics": [
        {"Name": topic, "Partitions": [{"PartitionIndex": partition, "Timestamp": -1}]}]}}])[0]
    return resp["Topics"][0]["Partitions"][0]["Offset"]


def test_produce_to_consumer_offsets_is_refused(broker, kp):
    """A client's Produce to __consumer_offsets gets INVALID_TOPIC_EXCEPTION (17), as Kafka
    answers (tests/differential/groups.json compares the two), and nothing is appended; the
    coordinator's own writes go on."""
    b = broker("offsets.topic.num.partitions=1")
    make_topic(kp, b, "t")
    assert commit_errors(wire(kp, b, [commit("g", "t", 5)])[0]) == [0]
    end = log_end(kp, b, "__consumer_offsets", 0)
    produce = {"api": "Produce", "version": 9, "request": {"Acks": -1, "TimeoutMs": 10000, "TopicData": [
        {"Name": "__consumer_offsets", "PartitionData": [{"Index": 0, "Records": {"records": [
            {"key": "k", "value": "garbage"}]}}]}]}}
    part = wire(kp, b, [produce])[0]["Responses"][0]["PartitionResponses"][0]
    assert (part["ErrorCode"], part["BaseOffset"]) == (17, -1), part
    assert log_end(kp, b, "__consumer_offsets", 0) == end
    assert commit_errors(wire(kp, b, [commit("g", "t", 6)])[0]) == [0]
    assert log_end(kp, b, "__consumer_offsets", 0) == end + 1
    b.stop()
    b.start()
    assert committed(kp, b, ["g"], "t") == {"g": 6}
    b.check_sanitizer()


def test_offsets_of_empty_groups_expire_and_stay_expired(broker, kp):
    """offsets.retention.minutes=1 with a 200 ms check: a simple group's offset committed
    (OffsetCommit v1's commit timestamp) two minutes ago expires at the next check, one with
    an explicit retention (v2's RetentionTimeMs) once that passes, a fresh one stays; after a
    restart the expired ones are still gone (their tombstones are replayed)."""
    b = broker("offsets.retention.minutes=1", "offsets.retention.check.interval.ms=200")
    make_topic(kp, b, "t")
    old = int(time.time() * 1000) - 120000
    resps = wire(kp, b, [
        commit("fresh", "t", 3, version=1, partition={"CommitTimestamp": -1}),
        commit("short", "t", 4, version=2, request={"RetentionTimeMs": 500}),
        commit("old", "t", 5, version=1, partition={"CommitTimestamp": old}),
    ])
    assert [commit_errors(r) for r in resps] == [[0], [0], [0]]
    groups = ["fresh", "short", "old"]
    assert wait_for(lambda: committed(kp, b, groups, "t") == {"fresh": 3, "short": -1, "old": -1},
                    10 * SLOW), committed(kp, b, groups, "t")
    listed = wire(kp, b, [{"api": "ListGroups", "version": 5, "request": {}}])[0]
    assert sorted(g["GroupId"] for g in listed["Groups"]) == ["fresh"]
    b.restart()  # kill -9: what is gone was written before, not at shutdown
    assert committed(kp, b, groups, "t") == {"fresh": 3, "short": -1, "old": -1}
    b.check_sanitizer()


def _java_hash(s):
    h = 0
    for c in s.encode("utf-16-be").decode("utf-16-be"):
        for unit in ([ord(c)] if ord(c) < 0x10000 else
                     [0xd800 + ((ord(c) - 0x10000) >> 10), 0xdc00 + ((ord(c) - 0x10000) & 0x3ff)]):
            h = (h * 31 + unit) & 0xffffffff
    return h


def test_torn_last_batch_is_recovered(broker, kp):
    """kill -9, then half of a batch appended to the group's __consumer_offsets partition
    (a write torn by the crash): the log's recovery cuts it, the offsets committed before
    are replayed, and commits go on and survive the next restart."""
    b = broker("offsets.topic.num.partitions=3")
    make_topic(kp, b, "t")
    for off in (1, 2):
        assert commit_errors(wire(kp, b, [commit("torn", "t", off)])[0]) == [0]
    b.kill9()
    part = (_java_hash("torn") & 0x7fffffff) % 3
    seg = sorted(glob.glob(os.path.join(b.logdir, f"__consumer_offsets-{part}", "*.log")))[-1]
    with open(seg, "rb") as f:
        data = f.read()
    assert data, seg
    pos, last = 0, None
    while pos + 12 <= len(data):  # the batches: base offset (8 bytes), batch length (4), ...
        last = data[pos:pos + 12 + int.from_bytes(data[pos + 8:pos + 12], "big")]
        pos += len(last)
    torn = bytearray(last[:len(last) // 2])
    torn[0:8] = (2).to_bytes(8, "big")  # the next batch's base offset, cut mid-way
    with open(seg, "ab") as f:
        f.write(torn)
    b.start()
    assert committed(kp, b, ["torn"], "t") == {"torn": 2}
    assert commit_errors(wire(kp, b, [commit("torn", "t", 3)])[0]) == [0]
    b.restart()
    assert committed(kp, b, ["torn"], "t") == {"torn": 3}
    b.check_sanitizer()
