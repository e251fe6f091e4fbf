"""The group coordinator's writes wait for the ISR of __consumer_offsets (Kafka's coordinator
appends with acks=-1), on a cluster of 3 kcontrollers and 3 kbrokers with
offsets.topic.replication.factor=3 and one __consumer_offsets partition, whose leader is every
group's coordinator.

An OffsetCommit is answered once the partition's high watermark passes its records: commits a
client saw acknowledged survive the coordinator's kill -9, a commit waits while the followers
are paused, and one that the followers do not get within offsets.commit.timeout.ms is answered
COORDINATOR_NOT_AVAILABLE (and not taken). A classic group's SyncGroup is answered likewise once
the group metadata the leader's assignment wrote is replicated.
"""
import os
import signal
import threading
import time

import pytest

from conftest import SLOW, wait_for
from test_kraft_cluster import BROKER_IDS, check_stopped, kpwire
from test_replication import create, partition_state, start, wait_isr

confluent_kafka = pytest.importorskip("confluent_kafka")

OFFSETS = "__consumer_offsets"
COORDINATOR_NOT_AVAILABLE = 15
GROUP_BROKER = ("offsets.topic.replication.factor=3", "offsets.topic.num.partitions=1",
                "group.initial.rebalance.delay.ms=0")
RETRIABLE = [14, 15, 16]  # COORDINATOR_LOAD_IN_PROGRESS, _NOT_AVAILABLE, NOT_COORDINATOR


def start_groups(tmp_path, kp, *extra):
    """The cluster with __consumer_offsets created, its ISR all three brokers, and topic
    "data" (3 partitions, RF 3); returns (cluster, coordinator's node id)."""
    c = start(tmp_path, kp, *GROUP_BROKER, *extra)
    create(c, "data", partitions=3)
    kpwire(kp, c.brokers[BROKER_IDS[0]].bootstrap, [{
        "api": "FindCoordinator", "version": 4, "retry_while": {"ErrorCode": RETRIABLE},
        "request": {"KeyType": 0, "CoordinatorKeys": ["probe"]}}])
    wait_isr(kp, c, OFFSETS, list(BROKER_IDS))
    return c, partition_state(kp, c, OFFSETS)[0]


def commit_step(group, offset, retry=True):
    step = {"api": "OffsetCommit", "version": 8, "request": {
        "GroupId": group, "GenerationIdOrMemberEpoch": -1, "MemberId": "",
        "Topics": [{"Name": "data", "Partitions": [
            {"PartitionIndex": 0, "CommittedOffset": offset}]}]}}
    if retry:
        step["retry_while"] = {"ErrorCode": RETRIABLE}
    return step


def commit_error(resp):
    return resp["Topics"][0]["Partitions"][0]["ErrorCode"]


def fetched(kp, broker, group):
    resp = kpwire(kp, broker.bootstrap, [{"api": "OffsetFetch", "version": 8, "request": {
        "Groups": [{"GroupId": group, "Topics": [{"Name": "data", "PartitionIndexes": [0]}]}]}}])
    return resp[0]["Groups"][0]["Topics"][0]["Partitions"][0]["CommittedOffset"]


def test_acknowledged_commits_survive_the_coordinator_kill(tmp_path, kp):
    """A group member commits with commit(asynchronous=False) over and over; the coordinator
    (the leader of __consumer_offsets-0) is killed -9 right after the last acknowledgement:
    the new coordinator answers OffsetFetch (Consumer.committed) with the last offsets."""
    c, coord = start_groups(tmp_path, kp)
    boot = ",".join(c.brokers[n].bootstrap for n in BROKER_IDS)
    TP = confluent_kafka.TopicPartition
    member = confluent_kafka.Consumer({"bootstrap.servers": boot, "group.id": "durable",
                                       "enable.auto.commit": False,
                                       "session.timeout.ms": 6000})
    try:
        assigned = threading.Event()
        member.subscribe(["data"], on_assign=lambda cons, parts: assigned.set())
        assert wait_for(lambda: member.poll(0.2) is None and assigned.is_set(), 30 * SLOW, 0)
        last = None
        for i in range(1, 41):
            last = [TP("data", p, 100 * i + p) for p in range(3)]
            got = member.commit(offsets=last, asynchronous=False)
            assert all(tp.error is None for tp in got), got
        c.brokers[coord].kill9()
        assert wait_for(lambda: (partition_state(kp, c, OFFSETS) or (-1,))[0]
                        not in (coord, -1), 30 * SLOW, 0.2)
        others = ",".join(c.brokers[n].bootstrap for n in BROKER_IDS if n != coord)
        probe = confluent_kafka.Consumer({"bootstrap.servers": others, "group.id": "durable",
                                          "enable.auto.commit": False})
        try:
            tps = probe.committed([TP("data", p) for p in range(3)], timeout=30 * SLOW)
        finally:
            probe.close()
        assert {tp.partition: tp.offset for tp in tps} == {p: 4000 + p for p in range(3)}
    finally:
        member.close()
        check_stopped(c)


def send_later(kp, broker, step, out):
    """Send `step` in a thread: out gets (seconds to the answer, the answer)."""
    def run():
        t0 = time.monotonic()
        resp = kpwire(kp, broker.bootstrap, [step])[0]
        out.append((time.monotonic() - t0, resp))
    th = threading.Thread(target=run)
    th.start()
    return th


def test_a_commit_waits_for_the_followers_of_consumer_offsets(tmp_path, kp):
    """With both followers of __consumer_offsets-0 paused, an OffsetCommit is not answered;
    resumed well within offsets.commit.timeout.ms (1000 ms here), they fetch the commit and
    it is answered NONE. Paused past it (but not past broker.session.timeout.ms, 2000 ms,
    after which the controller fences them), it is answered COORDINATOR_NOT_AVAILABLE, and
    the group's committed offset stays the one before."""
    c, coord = start_groups(tmp_path, kp, "offsets.commit.timeout.ms=1000")
    try:
        leader = c.brokers[coord]
        assert commit_error(kpwire(kp, leader.bootstrap, [commit_step("waits", 1)])[0]) == 0
        followers = [c.brokers[n] for n in BROKER_IDS if n != coord]

        out = []
        for f in followers:
            os.kill(f.proc.pid, signal.SIGSTOP)
        try:
            th = send_later(kp, leader, commit_step("waits", 2, retry=False), out)
            time.sleep(0.6)
            assert not out, out  # parked: the ISR does not have it
        finally:
            for f in followers:
                os.kill(f.proc.pid, signal.SIGCONT)
        th.join(30 * SLOW)
        (took, resp), = out
        assert commit_error(resp) == 0 and took >= 0.55, (took, resp)
        assert fetched(kp, leader, "waits") == 2

        wait_isr(kp, c, OFFSETS, list(BROKER_IDS))
        out = []
        for f in followers:
            os.kill(f.proc.pid, signal.SIGSTOP)
        try:
            th = send_later(kp, leader, commit_step("waits", 3, retry=False), out)
            assert wait_for(lambda: out, 1.5, 0.02), "no answer at offsets.commit.timeout.ms"
        finally:
            for f in followers:
                os.kill(f.proc.pid, signal.SIGCONT)
        th.join(30 * SLOW)
        (took, resp), = out
        assert commit_error(resp) == COORDINATOR_NOT_AVAILABLE and took >= 0.9, (took, resp)
        assert fetched(kp, leader, "waits") == 2
        # the followers are back: commits are answered at once again
        assert commit_error(kpwire(kp, leader.bootstrap, [commit_step("waits", 4)])[0]) == 0
        assert fetched(kp, leader, "waits") == 4
    finally:
        check_stopped(c)


ASSIGNMENT = "AAEC"  # three bytes, base64


def join_alone(kp, broker, group):
    """A single member joins `group` (JoinGroup v5: MEMBER_ID_REQUIRED, then again with the id);
    returns (member id, generation id), the member its leader."""
    proto = [{"Name": "range", "Metadata": "AAAAAA=="}]
    join = {"GroupId": group, "SessionTimeoutMs": 30000, "RebalanceTimeoutMs": 30000,
            "ProtocolType": "consumer", "Protocols": proto}
    first, second = kpwire(kp, broker.bootstrap, [
        {"api": "JoinGroup", "version": 5, "request": dict(join, MemberId="")},
        {"api": "JoinGroup", "version": 5, "request": dict(join, MemberId="@member-1")}])
    assert first["ErrorCode"] == 79, first  # MEMBER_ID_REQUIRED
    assert second["ErrorCode"] == 0 and second["Leader"] == second["MemberId"], second
    return second["MemberId"], second["GenerationId"]


def sync_step(group, member, generation):
    return {"api": "SyncGroup", "version": 5, "request": {
        "GroupId": group, "GenerationId": generation, "MemberId": member,
        "ProtocolType": "consumer", "ProtocolName": "range",
        "Assignments": [{"MemberId": member, "Assignment": ASSIGNMENT}]}}


def paused(kp, c, coord, step, seconds):
    """`step` sent to the coordinator while both followers of __consumer_offsets-0 are paused
    for `seconds`: (seconds to the answer, the answer, whether it was still unanswered when
    they resumed)."""
    followers = [c.brokers[n] for n in BROKER_IDS if n != coord]
    wait_isr(kp, c, OFFSETS, list(BROKER_IDS))
    out = []
    for f in followers:
        os.kill(f.proc.pid, signal.SIGSTOP)
    try:
        th = send_later(kp, c.brokers[coord], step, out)
        time.sleep(seconds)
        parked = not out
    finally:
        for f in followers:
            os.kill(f.proc.pid, signal.SIGCONT)
    th.join(30 * SLOW)
    (took, resp), = out
    return took, resp, parked


def paused_sync(kp, c, coord, group, seconds):
    """The leader's SyncGroup of a fresh single-member group, while the followers are paused
    (paused()); also returns (member id, generation id)."""
    member, generation = join_alone(kp, c.brokers[coord], group)
    return (*paused(kp, c, coord, sync_step(group, member, generation), seconds),
            (member, generation))


def test_a_sync_group_waits_for_the_followers_of_consumer_offsets(tmp_path, kp):
    """With both followers of __consumer_offsets-0 paused, the leader's SyncGroup of a classic
    group (which writes the group metadata with its assignment) is not answered; resumed
    within offsets.commit.timeout.ms (1000 ms here) it is answered NONE with the assignment.
    Paused past it (below broker.session.timeout.ms, 2000 ms), it is answered
    COORDINATOR_NOT_AVAILABLE and the group goes back to rebalancing, as Kafka's coordinator
    resets it when storing the assignment fails: the followers back, a SyncGroup of that
    generation is answered REBALANCE_IN_PROGRESS at once (the member must rejoin)."""
    c, coord = start_groups(tmp_path, kp, "offsets.commit.timeout.ms=1000")
    try:
        took, resp, parked, _ = paused_sync(kp, c, coord, "syncs", 0.6)
        assert parked, (took, resp)  # not answered while the ISR lacks the assignment
        assert resp["ErrorCode"] == 0 and resp["Assignment"] == ASSIGNMENT, resp
        assert took >= 0.55, (took, resp)

        took, resp, _, (member, generation) = paused_sync(kp, c, coord, "times-out", 1.5)
        assert resp["ErrorCode"] == COORDINATOR_NOT_AVAILABLE and took >= 0.9, (took, resp)
        wait_isr(kp, c, OFFSETS, list(BROKER_IDS))
        t0 = time.monotonic()
        again = kpwire(kp, c.brokers[coord].bootstrap, [sync_step("times-out", member,
                                                                  generation)])[0]
        assert again["ErrorCode"] == 27, again  # REBALANCE_IN_PROGRESS
        assert time.monotonic() - t0 < 0.5 * SLOW
    finally:
        check_stopped(c)


def test_a_consumer_group_heartbeat_waits_for_its_records(tmp_path, kp):
    """KIP-848: a member joining a consumer group (ConsumerGroupHeartbeat, epoch 0) writes the
    group's records; with both followers of __consumer_offsets-0 paused the heartbeat is not
    answered, and once they resume it is answered NONE with the member's epoch."""
    c, coord = start_groups(tmp_path, kp, "offsets.commit.timeout.ms=3000")
    try:
        step = {"api": "ConsumerGroupHeartbeat", "version": 0, "request": {
            "GroupId": "kip848", "MemberId": "", "MemberEpoch": 0,
            "RebalanceTimeoutMs": 30000, "SubscribedTopicNames": ["data"],
            "TopicPartitions": []}}
        took, resp, parked = paused(kp, c, coord, step, 0.6)
        assert parked, (took, resp)
        assert resp["ErrorCode"] == 0 and resp["MemberEpoch"] > 0 and resp["MemberId"], resp
        assert took >= 0.55, (took, resp)
    finally:
        check_stopped(c)
