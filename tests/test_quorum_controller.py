"""The quorum controller in kcontroller (Kafka's QuorumController / ControllerApis):
broker registration and heartbeats, CreateTopics, DeleteTopics, CreatePartitions,
IncrementalAlterConfigs, session expiry with leader moves, controlled shutdown, and
failover of the active controller with the metadata intact.

Requests are sent with tests/tools/kpwire (one JSON line per answer), as a broker
(or an admin client bootstrapped with bootstrap.controllers) would send them.
"""
import json
import subprocess
import time

import pytest

from conftest import BUILD, SLOW, wait_for
from test_controller_quorum import (CLUSTER_ID, start_quorum, stop_quorum,
                                    wait_caught_up, wait_leader)

KPWIRE = BUILD / "tests" / "tools" / "kpwire"
NOT_CONTROLLER = 41


@pytest.fixture
def controllers(tmp_path):
    started = []
    yield lambda n, extra=(): start_quorum(tmp_path, n, extra, started)
    stop_quorum(started)


def wire(port, *steps):
    """Send the kpwire steps to 127.0.0.1:port; the responses, in order."""
    out = subprocess.run([str(KPWIRE), f"127.0.0.1:{port}", "-"], input=json.dumps(list(steps)),
                         capture_output=True, text=True, timeout=60 * SLOW)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    for line in lines:
        assert "response" in line, line
    return [line["response"] for line in lines]


def register(broker_id, incarnation="AAAAAAAAAAAAAAAAAAAAAQ", rack=None):
    return {"api": "BrokerRegistration", "version": 4, "request": {
        "BrokerId": broker_id, "ClusterId": CLUSTER_ID, "IncarnationId": incarnation,
        "Listeners": [{"Name": "PLAINTEXT", "Host": "127.0.0.1", "Port": 9000 + broker_id,
                       "SecurityProtocol": 0}],
        "Features": [{"Name": "metadata.version", "MinSupportedVersion": 7,
                      "MaxSupportedVersion": 33}],
        "Rack": rack}}


def heartbeat(broker_id, epoch, offset=1 << 40, shut_down=False):
    return {"api": "BrokerHeartbeat", "version": 1, "request": {
        "BrokerId": broker_id, "BrokerEpoch": epoch, "CurrentMetadataOffset": offset,
        "WantFence": False, "WantShutDown": shut_down}}


def create(name, partitions=1, rf=1, assignments=(), configs=(), validate_only=False):
    return {"api": "CreateTopics", "version": 7, "request": {
        "Topics": [{"Name": name, "NumPartitions": partitions, "ReplicationFactor": rf,
                    "Assignments": [{"PartitionIndex": i, "BrokerIds": list(a)}
                                    for i, a in enumerate(assignments)],
                    "Configs": [{"Name": k, "Value": v} for k, v in configs]}],
        "validateOnly": validate_only}}


def topic_error(resp):
    return resp["Topics"][0]["ErrorCode"]


def start_brokers(port, ids):
    """Register and unfence brokers `ids`: {id: broker epoch}."""
    epochs = {}
    for i in ids:
        r, = wire(port, register(i))
        assert r["ErrorCode"] == 0, r
        epochs[i] = r["BrokerEpoch"]
        hb, = wire(port, heartbeat(i, epochs[i]))
        assert hb["ErrorCode"] == 0 and not hb["IsFenced"] and hb["IsCaughtUp"], hb
    return epochs


def test_admin_apis_on_the_active_controller(controllers):
    c, = controllers(1)
    wait_leader([c])
    epochs = start_brokers(c.port, [1, 2, 3])
    assert sorted(epochs.values()) == sorted(set(epochs.values()))  # record offsets: distinct
    ok, again, too_many, bad, dry = wire(
        c.port, create("t1", 6, 3, configs=[("retention.ms", "1000")]), create("t1", 1, 1),
        create("t2", 1, 4), create("bad/name"), create("t3", 2, 2, validate_only=True))
    t = ok["Topics"][0]
    assert (t["ErrorCode"], t["NumPartitions"], t["ReplicationFactor"]) == (0, 6, 3), ok
    assert t["TopicId"] != "AAAAAAAAAAAAAAAAAAAAAA"
    assert topic_error(again) == 36                 # TOPIC_ALREADY_EXISTS
    assert topic_error(too_many) == 38              # INVALID_REPLICATION_FACTOR
    assert topic_error(bad) == 17                   # INVALID_TOPIC_EXCEPTION
    assert topic_error(dry) == 0
    real, manual, defaults = wire(c.port, create("t3", 2, 2), create("m", -1, -1, [[3, 1], [2, 3]]),
                                  create("d", -1, -1))
    assert topic_error(real) == 0, real             # validate_only created nothing
    assert topic_error(manual) == 0 and manual["Topics"][0]["NumPartitions"] == 2, manual
    assert defaults["Topics"][0]["NumPartitions"] == 1, defaults  # num.partitions
    alter, alter_unknown, grow, shrink = wire(
        c.port,
        {"api": "IncrementalAlterConfigs", "version": 1, "request": {"Resources": [
            {"ResourceType": 2, "ResourceName": "t1", "Configs": [
                {"Name": "cleanup.policy", "ConfigOperation": 0, "Value": "compact"}]}]}},
        {"api": "IncrementalAlterConfigs", "version": 1, "request": {"Resources": [
            {"ResourceType": 2, "ResourceName": "nope", "Configs": []}]}},
        {"api": "CreatePartitions", "version": 3, "request": {
            "Topics": [{"Name": "t1", "Count": 8, "Assignments": None}]}},
        {"api": "CreatePartitions", "version": 3, "request": {
            "Topics": [{"Name": "t1", "Count": 7, "Assignments": None}]}})
    assert alter["Responses"][0]["ErrorCode"] == 0, alter
    assert alter_unknown["Responses"][0]["ErrorCode"] == 3, alter_unknown
    assert grow["Results"][0]["ErrorCode"] == 0, grow
    assert shrink["Results"][0]["ErrorCode"] == 37, shrink   # INVALID_PARTITIONS
    gone, unknown, recreate = wire(
        c.port,
        {"api": "DeleteTopics", "version": 6, "request": {"Topics": [
            {"Name": "t1", "TopicId": "AAAAAAAAAAAAAAAAAAAAAA"}]}},
        {"api": "DeleteTopics", "version": 6, "request": {"Topics": [
            {"Name": "t1", "TopicId": "AAAAAAAAAAAAAAAAAAAAAA"}]}},
        create("t1", 1, 1))
    assert gone["Responses"][0]["ErrorCode"] == 0, gone
    assert gone["Responses"][0]["TopicId"] == t["TopicId"]
    assert unknown["Responses"][0]["ErrorCode"] == 3, unknown
    assert topic_error(recreate) == 0 and recreate["Topics"][0]["TopicId"] != t["TopicId"]
    # a second incarnation of a live broker is refused; the same one amends its registration
    dup, same = wire(c.port, register(2, "AAAAAAAAAAAAAAAAAAAAAg"), register(2))
    assert dup["ErrorCode"] == 101, dup             # DUPLICATE_BROKER_REGISTRATION
    assert same["ErrorCode"] == 0 and same["BrokerEpoch"] == epochs[2], same
    stale, = wire(c.port, heartbeat(2, epochs[2] + 1000))
    assert stale["ErrorCode"] == 77, stale          # STALE_BROKER_EPOCH


def test_session_timeout_fences_and_leaders_move(controllers):
    c, = controllers(1, ["broker.session.timeout.ms=1500"])
    wait_leader([c])
    epochs = start_brokers(c.port, [1, 2, 3])
    r, = wire(c.port, create("t", -1, -1, [[1, 2, 3], [2, 3, 1], [3, 1, 2]]))
    assert topic_error(r) == 0, r
    t0 = time.monotonic()
    while time.monotonic() - t0 < 4 * SLOW:         # 2 and 3 stay alive, 1 goes silent
        for b in (2, 3):
            hb, = wire(c.port, heartbeat(b, epochs[b]))
            assert hb["ErrorCode"] == 0 and not hb["IsFenced"], hb
        time.sleep(0.3)
    assert "fencing broker 1 because its session has timed out" in c.stderr, c.stderr[-3000:]
    assert "t-0: leader 1 -> 2, ISR of 3 -> 2" in c.stderr, c.stderr[-3000:]
    assert "fencing broker 2" not in c.stderr and "fencing broker 3" not in c.stderr
    hb, = wire(c.port, heartbeat(1, epochs[1], offset=0))
    assert hb["IsFenced"] and not hb["IsCaughtUp"], hb   # not caught up: stays fenced
    hb, = wire(c.port, heartbeat(1, epochs[1]))
    assert not hb["IsFenced"], hb                         # caught up: unfenced
    # controlled shutdown of broker 2: leadership moves away first, then it may stop
    first, = wire(c.port, heartbeat(2, epochs[2], shut_down=True))
    assert first["ErrorCode"] == 0 and not first["ShouldShutDown"], first
    second, = wire(c.port, heartbeat(2, epochs[2], shut_down=True))
    assert second["ShouldShutDown"] and second["IsFenced"], second
    assert "t-1: leader 2 -> 3" in c.stderr, c.stderr[-3000:]


def test_followers_refuse_and_a_new_leader_serves_after_kill9(controllers):
    cs = controllers(3)
    leader, epoch, _ = wait_leader(cs)
    wait_caught_up(cs)
    active = cs[leader - 1]
    for f in cs:
        if f is not active:
            r, = wire(f.port, create("x"))
            assert topic_error(r) == NOT_CONTROLLER, r
    epochs = start_brokers(active.port, [1, 2])
    r, = wire(active.port, create("before", 4, 2, configs=[("retention.ms", "5000")]))
    assert topic_error(r) == 0, r
    before_id = r["Topics"][0]["TopicId"]
    active.kill9()
    rest = [c for c in cs if c is not active]
    leader2, epoch2, _ = wait_leader(rest, exclude=leader)
    new = cs[leader2 - 1]

    def served():
        r, = wire(new.port, create("before", 1, 1))
        return r if topic_error(r) != NOT_CONTROLLER else None
    r = wait_for(served, 10 * SLOW, interval=0.1)
    assert r and topic_error(r) == 36, r           # the topic is in the new leader's image
    hb, = wire(new.port, heartbeat(1, epochs[1]))
    assert hb["ErrorCode"] == 0 and not hb["IsFenced"], hb   # registration survived
    r, = wire(new.port, create("after", 2, 2))
    assert topic_error(r) == 0, r
    gone, = wire(new.port, {"api": "DeleteTopics", "version": 6, "request": {"Topics": [
        {"Name": None, "TopicId": before_id}]}})
    assert gone["Responses"][0]["ErrorCode"] == 0 and gone["Responses"][0]["Name"] == "before"
    active.start()                                 # rejoins and catches up
    wait_caught_up(cs)
