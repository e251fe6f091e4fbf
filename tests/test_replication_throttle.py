"""Replication throttles (KIP-73) on a cluster of 3 kcontrollers and 3 kbrokers on loopback.

A reassignment "with throttles", as kafka-reassign-partitions --throttle sets it up: the brokers'
leader.replication.throttled.rate and follower.replication.throttled.rate are dynamic broker
configs (IncrementalAlterConfigs on BROKER resources, forwarded to the controller, applied by
each broker from its metadata image), and the topics name the throttled replicas in
leader.replication.throttled.replicas and follower.replication.throttled.replicas.

Three topics on brokers 11 and 12 get a third replica on broker 13, which must copy their logs:
`lead` is throttled by its leader (150 KiB/s on 11 and 12), `follow` by the new follower (100
KiB/s on 13), `free` not at all. While the throttles are in force, the copies of `lead` and
`follow` on 13 never hold more than the rate times the time since the move began, plus a
window's worth and one fetch (the quota lets a fetch through whenever the rate sampled over the
last windows is within the bound, and counts it afterwards); `free` copies its whole log and
joins the ISR meanwhile. Once the throttles are removed, 13 catches up on `lead` and `follow`,
joins their ISRs and the moves complete with byte-identical segments. Every check is an upper
bound or an eventual outcome: a slow machine cannot break them.
"""
import time
from pathlib import Path

import pytest

from conftest import SLOW, wait_for
from test_kraft_cluster import check_stopped, kpwire
from test_replication import (create, partition_state, produce_acks_all, start, wait_identical,
                              wait_isr)

INVALID_CONFIG = 40
BROKER, TOPIC = 4, 2
SET, DELETE = 0, 1
LEADER_RATE, FOLLOWER_RATE = 150 * 1024, 100 * 1024
STATIC_FOLLOWER_RATE = 1 << 20  # broker 13's own setting, under the dynamic one
FETCH_MAX = 128 * 1024          # replica.fetch.max.bytes: one fetch of a partition
BATCH_MAX = 16 * 1024           # the producer's batch.size: a fetch may end in a whole batch
QUOTA_WINDOWS = 11              # replication.quota.window.num, windows of 1 s


def most_copied(rate, elapsed):
    """The most a throttle at `rate` lets through in `elapsed` seconds from its first look:
    rate * elapsed, plus one window's worth and one fetch, again for each time the windows of
    the sampled rate have all been replaced."""
    return rate * elapsed + (rate + FETCH_MAX + BATCH_MAX) * (1 + int(elapsed // QUOTA_WINDOWS))


def log_bytes(broker, topic, partition=0):
    d = Path(broker.logdir) / f"{topic}-{partition}"
    return sum(p.stat().st_size for p in d.glob("*.log")) if d.exists() else 0


def alter_configs(kp, broker, resources):
    """IncrementalAlterConfigs v1: resources [(type, name, [(config, op, value)])]; the
    {(type, name): (error code, message)} of the answer."""
    req = {"ValidateOnly": False, "Resources": [
        {"ResourceType": t, "ResourceName": n,
         "Configs": [{"Name": k, "ConfigOperation": op, "Value": v} for k, op, v in cfgs]}
        for t, n, cfgs in resources]}
    resp = kpwire(kp, broker.bootstrap, [{"api": "IncrementalAlterConfigs", "version": 1,
                                          "request": req}])[0]
    return {(r["ResourceType"], r["ResourceName"]): (r["ErrorCode"], r["ErrorMessage"])
            for r in resp["Responses"]}


def described(kp, broker, rtype, name):
    """{config: value} DescribeConfigs v4 answers for one resource."""
    resp = kpwire(kp, broker.bootstrap, [{"api": "DescribeConfigs", "version": 4, "request": {
        "Resources": [{"ResourceType": rtype, "ResourceName": name, "ConfigurationKeys": None}],
        "IncludeSynonyms": False, "IncludeDocumentation": False}}])[0]
    r = resp["Results"][0]
    assert r["ErrorCode"] == 0, r
    return {c["Name"]: c["Value"] for c in r["Configs"]}


def reassign(kp, broker, moves):
    """AlterPartitionReassignments v0 of partition 0 of each topic in `moves` {topic: replicas}."""
    resp = kpwire(kp, broker.bootstrap, [{"api": "AlterPartitionReassignments", "version": 0,
                                          "request": {"TimeoutMs": 30000, "Topics": [
                                              {"Name": t, "Partitions": [
                                                  {"PartitionIndex": 0, "Replicas": r}]}
                                              for t, r in moves.items()]}}])[0]
    assert resp["ErrorCode"] == 0, resp
    for t in resp["Responses"]:
        assert t["Partitions"][0]["ErrorCode"] == 0, resp


def create_topics_error(kp, broker, name, configs):
    resp = kpwire(kp, broker.bootstrap, [{"api": "CreateTopics", "version": 7, "request": {
        "Topics": [{"Name": name, "NumPartitions": 1, "ReplicationFactor": 1, "Assignments": [],
                    "Configs": [{"Name": k, "Value": v} for k, v in configs.items()]}],
        "timeoutMs": 30000, "validateOnly": False}}])[0]
    return resp["Topics"][0]["ErrorCode"], resp["Topics"][0]["ErrorMessage"]


def wait_logged(broker, line, timeout=30):
    assert wait_for(lambda: line in broker.stderr, timeout * SLOW, 0.1), \
        f"broker {broker.bootstrap} never logged {line!r}"


def test_throttled_reassignment(tmp_path, kp):
    c = start(tmp_path, kp, f"replica.fetch.max.bytes={FETCH_MAX}",
              only={13: [f"follower.replication.throttled.rate={STATIC_FOLLOWER_RATE}"]})
    try:
        b11, b12, b13 = (c.brokers[n] for n in (11, 12, 13))
        wait_logged(b13, f"follower.replication.throttled.rate: {STATIC_FOLLOWER_RATE} bytes/s "
                         "(static broker config)")

        # the throttled-replicas configs: accepted by CreateTopics, Kafka's syntax checked
        create(c, "configured", assignment=[[12]],
               config={"leader.replication.throttled.replicas": " 0:11 , 0:12 ",
                       "follower.replication.throttled.replicas": "*"})
        assert wait_for(lambda: described(kp, b13, TOPIC, "configured").get(
            "follower.replication.throttled.replicas") == "*", 15 * SLOW, 0.2)
        err, msg = create_topics_error(kp, b11, "badly",
                                       {"leader.replication.throttled.replicas": "0-11"})
        assert err == INVALID_CONFIG and "must be the literal '*'" in msg, (err, msg)
        bad = alter_configs(kp, b12, [
            (TOPIC, "configured", [("follower.replication.throttled.replicas", SET, "0:13,*")]),
            (BROKER, "13", [("follower.replication.throttled.rate", SET, "-1")]),
            (BROKER, "11", [("leader.replication.throttled.rate", SET, "fast")])])
        assert [e for e, _ in bad.values()] == [INVALID_CONFIG] * 3, bad
        assert "Value must be at least 0" in bad[(BROKER, "13")][1], bad

        for name, replicas in (("lead", [11, 12]), ("follow", [12, 11]), ("free", [11, 12])):
            create(c, name, assignment=[replicas])
            wait_isr(kp, c, name, replicas)
        for name, n in (("lead", 1500), ("follow", 1500), ("free", 500)):
            values = [f"{name}-{i:06d}-" + "x" * 990 for i in range(n)]
            acked, errors = produce_acks_all(b11.bootstrap, name, values, **{
                "batch.size": BATCH_MAX})
            assert not errors and len(acked) == n, errors[:5]
            wait_identical(c, name, [11, 12])
        full = {name: log_bytes(b11, name) for name in ("lead", "follow", "free")}
        # enough data that the throttle has something to hold back for a while
        assert min(full["lead"], full["follow"]) > most_copied(LEADER_RATE, 6), full

        # throttle as kafka-reassign-partitions --throttle does, then move
        ok = alter_configs(kp, b13, [
            (BROKER, "11", [("leader.replication.throttled.rate", SET, str(LEADER_RATE))]),
            (BROKER, "12", [("leader.replication.throttled.rate", SET, str(LEADER_RATE))]),
            (BROKER, "13", [("follower.replication.throttled.rate", SET, str(FOLLOWER_RATE))]),
            (TOPIC, "lead", [("leader.replication.throttled.replicas", SET, "0:11,0:12")]),
            (TOPIC, "follow", [("follower.replication.throttled.replicas", SET, "0:13")])])
        assert all(e == 0 for e, _ in ok.values()), ok
        for b in (b11, b12):
            wait_logged(b, f"leader.replication.throttled.rate: {LEADER_RATE} bytes/s "
                           "(dynamic broker config)")
            wait_logged(b, "replication throttle of lead: 1 partitions as leader, 0 as follower")
        wait_logged(b13, f"follower.replication.throttled.rate: {FOLLOWER_RATE} bytes/s "
                         "(dynamic broker config)")
        wait_logged(b13, "replication throttle of follow: 0 partitions as leader, 1 as follower")
        assert described(kp, b13, BROKER, "13").get(  # a broker describes itself
            "follower.replication.throttled.rate") == str(FOLLOWER_RATE)

        began = time.monotonic()
        reassign(kp, b12, {"lead": [11, 12, 13], "follow": [12, 11, 13], "free": [11, 12, 13]})
        seen = []

        def within_bounds():
            copied = {name: log_bytes(b13, name) for name in ("lead", "follow")}
            elapsed = time.monotonic() - began  # taken after the sizes: never too small
            seen.append((round(elapsed, 2), copied))
            assert copied["lead"] <= most_copied(LEADER_RATE, elapsed), seen
            assert copied["follow"] <= most_copied(FOLLOWER_RATE, elapsed), seen
        while time.monotonic() - began < 8:
            within_bounds()
            time.sleep(0.25)

        # the unthrottled partition on the same brokers copies everything meanwhile
        wait_isr(kp, c, "free", [11, 12, 13], timeout=60)
        wait_identical(c, "free", [11, 12, 13], timeout=60)
        within_bounds()
        assert partition_state(kp, c, "free")[1] == [11, 12, 13]

        # throttles removed (as --verify does once the moves are done): 13 catches up
        within_bounds()
        ok = alter_configs(kp, b11, [
            (BROKER, "11", [("leader.replication.throttled.rate", DELETE, None)]),
            (BROKER, "12", [("leader.replication.throttled.rate", DELETE, None)]),
            (BROKER, "13", [("follower.replication.throttled.rate", DELETE, None)]),
            (TOPIC, "lead", [("leader.replication.throttled.replicas", DELETE, None)]),
            (TOPIC, "follow", [("follower.replication.throttled.replicas", DELETE, None)])])
        assert all(e == 0 for e, _ in ok.values()), ok
        wait_logged(b11, "leader.replication.throttled.rate: none")
        wait_logged(b13, "replication throttle of follow: 0 partitions as leader, 0 as follower")
        assert b13.stderr.count(f"follower.replication.throttled.rate: {STATIC_FOLLOWER_RATE} "
                                "bytes/s (static broker config)") == 2, "no fall back"
        for name in ("lead", "follow"):
            wait_isr(kp, c, name, [11, 12, 13], timeout=90)
            wait_identical(c, name, [11, 12, 13], timeout=60)
            assert sorted(partition_state(kp, c, name)[1]) == [11, 12, 13]
            assert log_bytes(b13, name) == full[name]
    finally:
        check_stopped(c)


def test_kafka_tools_set_and_clear_the_throttles(tmp_path, kp):
    """Kafka's own tools, talking to one broker: kafka-configs (ConfigCommand) sets, describes
    and deletes a broker's rate and sets a topic's throttled replicas in its [P:B,...] syntax;
    kafka-reassign-partitions (ReassignPartitionsCommand) --execute --throttle throttles the
    brokers and the topic of a move, which completes, and --verify then clears the throttles.
    Every broker applies what concerns it from its image."""
    import clients
    try:
        clients.kafka_peer.fetch()
    except clients.PeerError as e:
        pytest.fail(f"Kafka's tools: {e}")
    c = start(tmp_path, kp)
    try:
        b11, b12, b13 = (c.brokers[n] for n in (11, 12, 13))

        def tool(main_class, *args):
            p = clients.run(clients.tool_cmd(main_class, "--bootstrap-server", b12.bootstrap,
                                             *args), main_class, timeout=60 * SLOW)
            return clients.ok(p, f"{main_class} {' '.join(map(str, args))}").out

        def configs(*args):
            return tool("org.apache.kafka.tools.ConfigCommand", *args)

        configs("--alter", "--entity-type", "brokers", "--entity-name", "13", "--add-config",
                f"follower.replication.throttled.rate={FOLLOWER_RATE}")
        wait_logged(b13, f"follower.replication.throttled.rate: {FOLLOWER_RATE} bytes/s "
                         "(dynamic broker config)")
        out = configs("--describe", "--entity-type", "brokers", "--entity-name", "13")
        assert f"follower.replication.throttled.rate={FOLLOWER_RATE}" in out, out
        assert "replication.throttled.rate:" not in b11.stderr + b12.stderr  # 13's alone
        create(c, "listed", assignment=[[11, 12]])
        configs("--alter", "--entity-type", "topics", "--entity-name", "listed", "--add-config",
                "leader.replication.throttled.replicas=[0:11,0:12]")
        for b in (b11, b12):
            wait_logged(b, "replication throttle of listed: 1 partitions as leader, 0 as follower")
        configs("--alter", "--entity-type", "brokers", "--entity-name", "13", "--delete-config",
                "follower.replication.throttled.rate")
        wait_logged(b13, "follower.replication.throttled.rate: none")

        create(c, "moving", assignment=[[11, 12]])
        wait_isr(kp, c, "moving", [11, 12])
        acked, errors = produce_acks_all(b11.bootstrap, "moving", [f"m{i}" for i in range(300)])
        assert not errors and len(acked) == 300, errors[:5]
        plan = tmp_path / "move.json"
        plan.write_text('{"version": 1, "partitions": '
                        '[{"topic": "moving", "partition": 0, "replicas": [11, 12, 13]}]}')
        reassign = "org.apache.kafka.tools.reassign.ReassignPartitionsCommand"
        out = tool(reassign, "--reassignment-json-file", plan, "--execute", "--throttle", 1 << 20)
        assert f"The inter-broker throttle limit was set to {1 << 20} B/s" in out, out
        for b in (b11, b12, b13):
            for key in ("leader", "follower"):
                wait_logged(b, f"{key}.replication.throttled.rate: {1 << 20} bytes/s "
                               "(dynamic broker config)")
        for b in (b11, b12):
            wait_logged(b, "replication throttle of moving: 1 partitions as leader, 0 as follower")
        wait_logged(b13, "replication throttle of moving: 0 partitions as leader, 1 as follower")
        wait_isr(kp, c, "moving", [11, 12, 13])
        assert wait_for(lambda: partition_state(kp, c, "moving")[1] == [11, 12, 13],
                        30 * SLOW, 0.2), partition_state(kp, c, "moving")
        wait_identical(c, "moving", [11, 12, 13])
        out = tool(reassign, "--reassignment-json-file", plan, "--verify")
        assert "Clearing broker-level throttles on brokers 11,12,13" in out, out
        assert "Clearing topic-level throttles on topic moving" in out, out
        for b in (b11, b12, b13):
            wait_logged(b, "leader.replication.throttled.rate: none")
            wait_logged(b, "replication throttle of moving: 0 partitions as leader, 0 as follower")
    finally:
        check_stopped(c)
