"""Preferred leader election on a cluster of 3 kcontrollers and 3 kbrokers on loopback.

A topic on replicas [11, 12, 13] is led by 11; 11 stops (controlled shutdown: 12 leads) and
comes back into the ISR as a follower. Then leadership goes back to 11, the preferred replica,
either through ElectLeaders (KIP-460: Kafka's own LeaderElectionCommand, forwarded by a broker
to the active controller; the next election answers ELECTION_NOT_NEEDED), or by itself, the
active controller moving it every leader.imbalance.check.interval.seconds
(auto.leader.rebalance.enable, as Kafka's QuorumController does). Either way the leader epoch
goes up and the new leader serves every write made before and after.
"""
import pytest

from conftest import SLOW, wait_for
from test_controller_quorum import wait_leader
from test_kraft_cluster import (BROKER_IDS, KraftCluster, brokers_seen, check_stopped, kpwire,
                                metadata, topic_view)
from test_replication import create, produce_acks_all, read_all

pytest.importorskip("confluent_kafka")

UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_REQUEST = 42
ELECTION_NOT_NEEDED = 84
TOPIC = "preferred"


def start(tmp_path, kp, *controller_extra):
    c = KraftCluster(tmp_path, controller_extra)
    wait_leader(c.controllers)
    assert wait_for(lambda: brokers_seen(kp, c.brokers[13]) == list(BROKER_IDS), 15 * SLOW, 0.2)
    return c


def state(kp, c):
    """(leader, isr, leader epoch) of TOPIC-0 as broker 13 (never restarted) has it."""
    md = metadata(kp, c.brokers[13], [TOPIC])
    view, _ = topic_view(md, TOPIC)
    if not view:
        return None
    epoch = next(t for t in md["Topics"] if t["Name"] == TOPIC)["Partitions"][0]["LeaderEpoch"]
    return view[0][0], sorted(view[0][2]), epoch


def wait_state(kp, c, what, ok, timeout=30):
    got = wait_for(lambda: (lambda s: s if s and ok(s) else None)(state(kp, c)),
                   timeout * SLOW, 0.2)
    assert got, f"{TOPIC}-0 never got {what}: {state(kp, c)}"
    return got


def leadership_moved_away(kp, c):
    """TOPIC on [11, 12, 13] with 10 writes; 11 stops, 12 leads, 11 is back in the ISR.
    Returns the leader epoch 12 leads in."""
    create(c, TOPIC, assignment=[[11, 12, 13]])
    wait_state(kp, c, "leader 11, full ISR", lambda s: s[:2] == (11, list(BROKER_IDS)))
    acked, errors = produce_acks_all(c.brokers[12].bootstrap, TOPIC, [f"a{i}" for i in range(10)])
    assert len(acked) == 10, errors
    c.brokers[11].stop()
    _, _, epoch = wait_state(kp, c, "leader 12", lambda s: s[0] == 12)
    c.brokers[11].start()
    wait_state(kp, c, "11 back in the ISR", lambda s: s[1] == list(BROKER_IDS))
    return epoch


def serves_everything(kp, c):
    """11 leads and has every write: the 10 before, 10 more through it."""
    acked, errors = produce_acks_all(c.brokers[11].bootstrap, TOPIC, [f"b{i}" for i in range(10)])
    assert len(acked) == 10, errors
    got = read_all(c.brokers[11].bootstrap, TOPIC, expect=20)
    assert got == [f"a{i}" for i in range(10)] + [f"b{i}" for i in range(10)]


def elect(kp, broker, version, request):
    return kpwire(kp, broker.bootstrap, [{"api": "ElectLeaders", "version": version,
                                          "request": request}])[0]


def results(resp):
    """{(topic, partition): (error code, error message)} of an ElectLeaders answer."""
    return {(t["Topic"], p["PartitionId"]): (p["ErrorCode"], p["ErrorMessage"])
            for t in resp["ReplicaElectionResults"] for p in t["PartitionResult"]}


def test_leader_election_command_moves_leadership_back(tmp_path, kp):
    """With auto.leader.rebalance.enable=false 12 keeps the leadership until Kafka's
    LeaderElectionCommand (--election-type PREFERRED --all-topic-partitions, through broker
    13, forwarded to the active controller) elects 11 again, in a new leader epoch; the same
    election again is 'Valid replica already elected' (ELECTION_NOT_NEEDED). ElectLeaders on
    the wire: ELECTION_NOT_NEEDED with Kafka's message, UNKNOWN_TOPIC_OR_PARTITION for an
    unknown topic or partition, INVALID_REQUEST for election type 5, v0 (no election type:
    preferred), and UNCLEAN for a partition that has a leader: ELECTION_NOT_NEEDED."""
    import clients
    try:
        clients.java_classes()
    except clients.PeerError as e:
        pytest.fail(f"Java peers: {e}")
    c = start(tmp_path, kp, "auto.leader.rebalance.enable=false")
    try:
        epoch = leadership_moved_away(kp, c)
        assert state(kp, c)[0] == 12  # no rebalance by itself
        command = "org.apache.kafka.tools.LeaderElectionCommand"
        p = clients.run(clients.tool_cmd(command, "--bootstrap-server", c.brokers[13].bootstrap,
                                         "--election-type", "PREFERRED",
                                         "--all-topic-partitions"),
                        "LeaderElectionCommand", timeout=90 * SLOW)
        out = clients.ok(p, "kafka-leader-election --all-topic-partitions").out
        assert "Successfully completed leader election (PREFERRED) for partitions" in out, out
        assert f"{TOPIC}-0" in out, out
        _, _, new_epoch = wait_state(kp, c, "leader 11", lambda s: s[0] == 11)
        assert new_epoch > epoch
        p = clients.run(clients.tool_cmd(command, "--bootstrap-server", c.brokers[12].bootstrap,
                                         "--election-type", "PREFERRED", "--topic", TOPIC,
                                         "--partition", 0),
                        "LeaderElectionCommand", timeout=90 * SLOW)
        out = clients.ok(p, "kafka-leader-election --topic").out
        assert f"Valid replica already elected for partitions {TOPIC}-0" in out, out

        b = c.brokers[12]
        resp = elect(kp, b, 2, {"ElectionType": 0, "TopicPartitions": [
            {"Topic": TOPIC, "Partitions": [0, 9]}, {"Topic": "nowhere", "Partitions": [0]}]})
        assert resp["ErrorCode"] == 0
        assert results(resp) == {
            (TOPIC, 0): (ELECTION_NOT_NEEDED, "Leader election not needed for topic partition."),
            (TOPIC, 9): (UNKNOWN_TOPIC_OR_PARTITION, f"No such partition as {TOPIC}-9"),
            ("nowhere", 0): (UNKNOWN_TOPIC_OR_PARTITION, "No such topic as nowhere")}
        resp = elect(kp, b, 1, {"ElectionType": 5, "TopicPartitions": [
            {"Topic": TOPIC, "Partitions": [0]}]})
        assert resp["ErrorCode"] == INVALID_REQUEST
        assert results(resp) == {(TOPIC, 0): (INVALID_REQUEST, "Unknown election type 5")}
        resp = elect(kp, b, 0, {"TopicPartitions": [{"Topic": TOPIC, "Partitions": [0]}]})
        assert results(resp)[(TOPIC, 0)][0] == ELECTION_NOT_NEEDED
        resp = elect(kp, b, 2, {"ElectionType": 1, "TopicPartitions": [
            {"Topic": TOPIC, "Partitions": [0]}]})
        assert results(resp)[(TOPIC, 0)][0] == ELECTION_NOT_NEEDED
        # every partition: the ones whose leader is already preferred are left out
        resp = elect(kp, b, 2, {"ElectionType": 0, "TopicPartitions": None})
        assert resp["ErrorCode"] == 0 and results(resp) == {}, resp
        assert state(kp, c)[2] == new_epoch
        active = "".join(ctl.stderr for ctl in c.controllers)
        assert f"controller: {TOPIC}-0: leader 12 -> 11 (preferred leader election)" in active
        serves_everything(kp, c)
    finally:
        check_stopped(c)


def test_controller_rebalances_leadership_by_itself(tmp_path, kp):
    """auto.leader.rebalance.enable (the default) with leader.imbalance.check.interval.seconds
    =1: once 11 is back in the ISR the active controller makes it the leader again."""
    c = start(tmp_path, kp, "leader.imbalance.check.interval.seconds=1")
    try:
        epoch = leadership_moved_away(kp, c)
        _, _, new_epoch = wait_state(kp, c, "leader 11", lambda s: s[0] == 11)
        assert new_epoch > epoch
        active = "".join(ctl.stderr for ctl in c.controllers)
        assert (f"controller: {TOPIC}-0: leader 12 -> 11 (leader rebalance to the preferred "
                "replica)") in active
        serves_everything(kp, c)
    finally:
        check_stopped(c)
