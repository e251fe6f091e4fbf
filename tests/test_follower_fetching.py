"""Fetching from the closest replica (KIP-392) on a cluster of 3 kcontrollers and 3 kbrokers
in racks r11, r12 and r13.

With replica.selector.class=org.apache.kafka.common.replica.RackAwareReplicaSelector the
leader answers a consumer's Fetch v11+ from another rack with PreferredReadReplica, the ISR
follower in the consumer's rack, and no records (ReplicaManager.findPreferredReadReplica);
a follower serves a consumer's Fetch v11+ up to its own high watermark, with or without the
selector (FetchParams.fetchOnlyLeader), but not older versions, and ListOffsets stays with
the leader. Any other selector class is refused at start.
"""
import json
import time

import pytest

from conftest import SLOW, wait_for
from test_kraft_cluster import BROKER_IDS, check_stopped, kpwire
from test_replication import create, produce_acks_all, segments, start, wait_isr

confluent_kafka = pytest.importorskip("confluent_kafka")

SELECTOR = "org.apache.kafka.common.replica.RackAwareReplicaSelector"
RACKS = {nid: [f"broker.rack=r{nid}"] for nid in BROKER_IDS}
NOT_LEADER_OR_FOLLOWER = 6
OFFSET_OUT_OF_RANGE = 1


def fetch(kp, broker, topic, offset=0, rack="", version=11, replica=-1):
    """One partition's answer to a consumer's Fetch of `topic`-0 at `offset`."""
    req = {"ReplicaId": replica, "MaxWaitMs": 0, "MinBytes": 0, "MaxBytes": 1048576,
           "SessionEpoch": -1, "RackId": rack,
           "Topics": [{"Topic": topic, "Partitions": [
               {"Partition": 0, "FetchOffset": offset, "PartitionMaxBytes": 1048576}]}]}
    resp = kpwire(kp, broker.bootstrap, [{"api": "Fetch", "version": version,
                                          "request": req}])[0]
    return resp["Responses"][0]["Partitions"][0]


def values(part):
    """The record values of a decoded Fetch answer, in order."""
    recs = part.get("Records") or []
    if isinstance(recs, dict):
        recs = [recs]
    return [r["Value"] for batch in recs for r in batch["Records"]]


def produced(kp, c, topic, n):
    """`topic` (RF 3, led by 11) with n records written with acks=all, every replica in sync
    and holding them all (each follower's high watermark included)."""
    create(c, topic, assignment=[[11, 12, 13]])
    wait_isr(kp, c, topic, list(BROKER_IDS))
    vals = [f"v{i:04d}" for i in range(n)]
    acked, errors = produce_acks_all(c.brokers[11].bootstrap, topic, vals)
    assert not errors and sorted(acked) == vals, errors[:5]
    wait_isr(kp, c, topic, list(BROKER_IDS))
    for nid in (12, 13):
        assert wait_for(lambda: fetch(kp, c.brokers[nid], topic)["HighWatermark"] == n,
                        30 * SLOW, 0.2), fetch(kp, c.brokers[nid], topic)
    return vals


def consume(bootstrap, topic, rack, n, timeout=30):
    """Read `topic`-0 from offset 0 with client.rack=`rack` until n records came; returns
    (values, the last librdkafka statistics)."""
    stats = {}
    c = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": "unused",
                                  "enable.auto.commit": False, "client.rack": rack,
                                  "statistics.interval.ms": 100,
                                  "stats_cb": lambda s: stats.update(last=json.loads(s))})
    c.assign([confluent_kafka.TopicPartition(topic, 0, 0)])
    got = []
    deadline = time.monotonic() + timeout * SLOW
    while len(got) < n and time.monotonic() < deadline:
        m = c.poll(0.2)
        if m is not None and not m.error():
            got.append(m.value().decode())
    end = time.monotonic() + 1.0 * SLOW  # a few more statistics after the last record
    while time.monotonic() < end:
        c.poll(0.1)
    c.close()
    return got, stats.get("last", {})


def fetches_by_node(stats):
    """{broker id: Fetch requests the consumer sent it} from librdkafka statistics (summed
    over the broker's entries: a logical one, GroupCoordinator, may carry its id too)."""
    out = {}
    for b in stats.get("brokers", {}).values():
        if b.get("nodeid", -1) >= 0:
            out[b["nodeid"]] = out.get(b["nodeid"], 0) + b.get("req", {}).get("Fetch", 0)
    return out


def test_consumer_reads_from_the_follower_in_its_rack(tmp_path, kp):
    c = start(tmp_path, kp, f"replica.selector.class={SELECTOR}", only=RACKS)
    try:
        vals = produced(kp, c, "near", 200)
        leader, b13 = c.brokers[11], c.brokers[13]

        # the leader sends a consumer in r13 to broker 13: no records, its offsets
        p = fetch(kp, leader, "near", rack="r13")
        assert (p["ErrorCode"], p["PreferredReadReplica"], values(p)) == (0, 13, []), p
        assert (p["HighWatermark"], p["LogStartOffset"]) == (200, 0), p
        # later versions too (v12+ flexible, v13+ topic ids are kpwire's business)
        p = fetch(kp, leader, "near", rack="r12", version=12)
        assert (p["ErrorCode"], p["PreferredReadReplica"]) == (0, 12), p
        # the leader's own rack, no rack, or a rack without a replica: the leader serves
        for rack in ("r11", "", "r99"):
            p = fetch(kp, leader, "near", rack=rack)
            assert (p["ErrorCode"], p["PreferredReadReplica"]) == (0, -1), (rack, p)
            assert values(p) == vals, rack
        # v10 has no rack: the leader serves
        p = fetch(kp, leader, "near", version=10)
        assert values(p) == vals and "PreferredReadReplica" not in p, p
        # past the follower's log end offset: no follower has it, the leader answers
        p = fetch(kp, leader, "near", offset=201, rack="r13")
        assert (p["ErrorCode"], p["PreferredReadReplica"]) == (OFFSET_OUT_OF_RANGE, -1), p

        # the follower serves the consumer up to its high watermark
        p = fetch(kp, b13, "near", rack="r13")
        assert (p["ErrorCode"], p["HighWatermark"], p["PreferredReadReplica"]) == (0, 200, -1)
        assert values(p) == vals
        p = fetch(kp, b13, "near", offset=150, rack="r13")  # whole batches: from the one
        assert values(p)[-50:] == vals[150:], p            # holding offset 150 on
        p = fetch(kp, b13, "near", offset=200, rack="r13")  # at its high watermark: nothing
        assert (p["ErrorCode"], values(p)) == (0, []), p
        p = fetch(kp, b13, "near", offset=201, rack="r13")  # past its log end offset
        assert p["ErrorCode"] == OFFSET_OUT_OF_RANGE, p
        # but not a consumer's Fetch before v11, nor ListOffsets
        assert fetch(kp, b13, "near", version=10)["ErrorCode"] == NOT_LEADER_OR_FOLLOWER
        lo = kpwire(kp, b13.bootstrap, [{"api": "ListOffsets", "version": 7, "request": {
            "ReplicaId": -1, "Topics": [{"Name": "near", "Partitions": [
                {"PartitionIndex": 0, "Timestamp": -1}]}]}}])[0]
        assert lo["Topics"][0]["Partitions"][0]["ErrorCode"] == NOT_LEADER_OR_FOLLOWER, lo

        # a confluent-kafka consumer in r13 reads everything, fetching from broker 13
        got, stats = consume(leader.bootstrap, "near", "r13", len(vals))
        assert got == vals
        part = stats["topics"]["near"]["partitions"]["0"]
        assert (part["leader"], part["broker"]) == (11, 13), part
        by_node = fetches_by_node(stats)
        assert by_node.get(13, 0) >= 1, by_node
        # ... and one in r11 from the leader
        got, stats = consume(leader.bootstrap, "near", "r11", len(vals))
        assert got == vals
        part = stats["topics"]["near"]["partitions"]["0"]
        assert (part["leader"], part["broker"]) == (11, 11), part
        assert fetches_by_node(stats).get(13, 0) == 0, fetches_by_node(stats)
    finally:
        check_stopped(c)


def test_without_a_selector_the_leader_serves_every_rack(tmp_path, kp):
    c = start(tmp_path, kp, only=RACKS)
    try:
        vals = produced(kp, c, "plain", 50)
        for rack in ("r12", "r13", ""):
            p = fetch(kp, c.brokers[11], "plain", rack=rack)
            assert (p["ErrorCode"], p["PreferredReadReplica"]) == (0, -1), (rack, p)
            assert values(p) == vals
        # a consumer that asks a follower directly is still served (Kafka's fetchOnlyLeader
        # does not depend on the selector)
        p = fetch(kp, c.brokers[13], "plain", rack="r13")
        assert (p["ErrorCode"], values(p)) == (0, vals), p
        got, stats = consume(c.brokers[11].bootstrap, "plain", "r13", len(vals))
        assert got == vals
        part = stats["topics"]["plain"]["partitions"]["0"]
        assert part["broker"] == 11, part
        assert fetches_by_node(stats).get(13, 0) == 0, fetches_by_node(stats)
    finally:
        check_stopped(c)


def test_follower_past_its_high_watermark_answers_nothing(tmp_path, kp):
    """Broker 12 cannot fetch (an inter-broker listener nobody has) but stays in the ISR for
    replica.lag.time.max.ms, so the high watermark stays at 0 while broker 13 copies what
    the leader takes with acks=1. A consumer's fetch from 13 between its high watermark and
    its log end offset gets no records and no error (Kafka's LocalLog.read above the
    isolation's max offset); past its log end offset, OFFSET_OUT_OF_RANGE."""
    only = {nid: list(v) for nid, v in RACKS.items()}
    only[11].append("replica.lag.time.max.ms=120000")
    only[12].append("inter.broker.listener.name=NOWHERE")
    c = start(tmp_path, kp, f"replica.selector.class={SELECTOR}", only=only)
    try:
        create(c, "ahead", assignment=[[11, 12, 13]])
        vals = [f"a{i}" for i in range(5)]
        acked, errors = produce_acks_all(c.brokers[11].bootstrap, "ahead", vals, acks=1)
        assert len(acked) == 5, errors
        b13 = c.brokers[13]
        assert wait_for(lambda: b"a4" in b"".join(segments(b13, "ahead").values()),
                        30 * SLOW, 0.1)
        for off in (0, 3, 5):
            p = fetch(kp, b13, "ahead", offset=off, rack="r13")
            assert (p["ErrorCode"], p["HighWatermark"], values(p)) == (0, 0, []), (off, p)
        assert fetch(kp, b13, "ahead", offset=6, rack="r13")["ErrorCode"] == \
            OFFSET_OUT_OF_RANGE
        # the leader still sends an r13 consumer there: 13 is in the ISR and holds offset 0
        p = fetch(kp, c.brokers[11], "ahead", rack="r13")
        assert (p["ErrorCode"], p["PreferredReadReplica"], p["HighWatermark"]) == (0, 13, 0)
    finally:
        check_stopped(c)


def test_an_unknown_selector_class_is_refused(tmp_path, kp):
    p = kp.run("kbroker", "-o", f"log.dirs={tmp_path}", "-o",
               "listeners=PLAINTEXT://127.0.0.1:0",
               "-o", "replica.selector.class=com.example.NearestReplicaSelector", timeout=30)
    assert p.returncode != 0
    assert "replica.selector.class: 'com.example.NearestReplicaSelector' cannot be loaded" \
        in p.err, p.err
