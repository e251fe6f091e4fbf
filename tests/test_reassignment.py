"""Partition reassignment (KIP-455) on a cluster of 3 kcontrollers and 3 kbrokers on loopback.

AlterPartitionReassignments and ListPartitionReassignments go to any broker, which forwards
them to the active controller (KIP-590). A partition on [11, 12] moved to [12, 13] while
broker 13 is down stays in progress (replicas [12, 13, 11], adding [13], removing [11]) and
is listed; once 13 is back it copies the leader's log, joins the ISR, and that completes the
move: replicas and ISR [12, 13], a leader among them, 11's copy deleted, 13's segment files
byte-identical to 12's, every acknowledged record readable, nothing listed any more.

The requests are sent with kpwire: the installed confluent-kafka (1.7) has no
alter_partition_reassignments, and Kafka 4.4's ReassignPartitionsCommand --execute first
asks DescribeLogDirs, which kbroker does not serve.
"""
from pathlib import Path

from conftest import SLOW, wait_for
from test_kraft_cluster import check_stopped, kpwire
from test_replication import (create, partition_state, produce_acks_all, read_all, start,
                              wait_identical, wait_isr)

UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_REPLICA_ASSIGNMENT = 39
NO_REASSIGNMENT_IN_PROGRESS = 85


def alter(kp, broker, topic, replicas, partition=0):
    """AlterPartitionReassignments v0 of one partition (replicas None: cancel); its result."""
    resp = kpwire(kp, broker.bootstrap, [{"api": "AlterPartitionReassignments", "version": 0,
                                          "request": {"TimeoutMs": 30000, "Topics": [
                                              {"Name": topic, "Partitions": [
                                                  {"PartitionIndex": partition,
                                                   "Replicas": replicas}]}]}}])[0]
    assert resp["ErrorCode"] == 0, resp
    return resp["Responses"][0]["Partitions"][0]


def listed(kp, broker, topics=None):
    """ListPartitionReassignments: {(topic, partition): (replicas, adding, removing)}."""
    req = {"TimeoutMs": 30000,
           "Topics": None if topics is None else [{"Name": t, "PartitionIndexes": [0]}
                                                  for t in topics]}
    resp = kpwire(kp, broker.bootstrap, [{"api": "ListPartitionReassignments", "version": 0,
                                          "request": req}])[0]
    assert resp["ErrorCode"] == 0, resp
    return {(t["Name"], p["PartitionIndex"]): (p["Replicas"], p["AddingReplicas"],
                                               p["RemovingReplicas"])
            for t in resp["Topics"] for p in t["Partitions"]}


def test_move_a_partition_to_another_broker(tmp_path, kp):
    c = start(tmp_path, kp)
    try:
        b11, b12, b13 = (c.brokers[n] for n in (11, 12, 13))
        create(c, "moved", assignment=[[11, 12]])
        wait_isr(kp, c, "moved", [11, 12])
        values = [f"m{i}" for i in range(2000)]
        acked, errors = produce_acks_all(b11.bootstrap, "moved", values)
        assert not errors and sorted(acked) == sorted(values), errors[:5]
        wait_identical(c, "moved", [11, 12])
        assert listed(kp, b11) == {}

        b13.stop()  # the move cannot finish while 13 is away
        assert alter(kp, b11, "moved", [12, 13])["ErrorCode"] == 0
        assert wait_for(lambda: partition_state(kp, c, "moved")[1] == [12, 13, 11],
                        15 * SLOW, 0.2), partition_state(kp, c, "moved")
        ongoing = {("moved", 0): ([12, 13, 11], [13], [11])}
        assert listed(kp, b12) == ongoing
        assert listed(kp, b11, ["moved", "nope"]) == ongoing

        b13.start()

        def moved():
            st = partition_state(kp, c, "moved")
            return st and st[1] == [12, 13] and sorted(st[2]) == [12, 13] and st[0] in (12, 13)
        assert wait_for(moved, 60 * SLOW, 0.2), partition_state(kp, c, "moved")
        wait_isr(kp, c, "moved", [12, 13])
        assert wait_for(lambda: not (Path(b11.logdir) / "moved-0").exists(), 30 * SLOW, 0.2), \
            sorted(p.name for p in Path(b11.logdir).iterdir())
        wait_identical(c, "moved", [12, 13])
        got = read_all(b12.bootstrap, "moved", expect=len(values))
        assert sorted(got) == sorted(values), (len(got), len(values))
        assert listed(kp, b13) == {}
        assert "no longer a replica of moved-0" in b11.stderr
        assert "completed the reassignment" in "".join(x.stderr for x in c.controllers)

        # errors, per partition
        assert alter(kp, b12, "moved", None)["ErrorCode"] == NO_REASSIGNMENT_IN_PROGRESS
        assert alter(kp, b12, "nope", [12])["ErrorCode"] == UNKNOWN_TOPIC_OR_PARTITION
        assert alter(kp, b12, "moved", [12], partition=3)["ErrorCode"] == \
            UNKNOWN_TOPIC_OR_PARTITION
        for bad in ([12, 12], [12, 99], []):
            assert alter(kp, b12, "moved", bad)["ErrorCode"] == INVALID_REPLICA_ASSIGNMENT, bad
        assert partition_state(kp, c, "moved")[1] == [12, 13]
    finally:
        check_stopped(c)


def test_cancel_a_move(tmp_path, kp):
    """Cancelling (null replicas) puts the replicas back; the added broker drops its copy."""
    c = start(tmp_path, kp)
    try:
        b11, b13 = c.brokers[11], c.brokers[13]
        create(c, "back", assignment=[[11, 12]])
        wait_isr(kp, c, "back", [11, 12])
        acked, errors = produce_acks_all(b11.bootstrap, "back", [f"b{i}" for i in range(200)])
        assert not errors and len(acked) == 200
        c.brokers[12].stop()
        assert alter(kp, b11, "back", [13, 12])["ErrorCode"] == 0
        assert wait_for(lambda: partition_state(kp, c, "back")[1] == [13, 12, 11],
                        15 * SLOW, 0.2), partition_state(kp, c, "back")
        assert alter(kp, b13, "back", None)["ErrorCode"] == 0
        assert wait_for(lambda: partition_state(kp, c, "back")[1] == [12, 11],
                        15 * SLOW, 0.2), partition_state(kp, c, "back")
        assert listed(kp, b11) == {}
        assert wait_for(lambda: not (Path(b13.logdir) / "back-0").exists(), 30 * SLOW, 0.2)
        c.brokers[12].start()
        wait_isr(kp, c, "back", [11, 12])
    finally:
        check_stopped(c)

