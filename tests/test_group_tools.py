"""Apache Kafka's kafka-consumer-groups (ConsumerGroupCommand, from the Apache Kafka peer's
cached jars) on a group with committed offsets, against kbroker and against Apache Kafka:
--describe shows the offsets and the lag (DescribeGroups, OffsetFetch, ListOffsets),
--reset-offsets --execute commits new ones as the admin client does (OffsetCommit with
generation -1), --delete-offsets removes a topic's (OffsetDelete) and --delete the group
(DeleteGroups)."""
import json
import re
import uuid

import pytest

import clients
from conftest import BUILD, SLOW

KPWIRE = BUILD / "tests" / "tools" / "kpwire"
GROUPS = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"


@pytest.fixture(scope="module")
def tool():
    try:
        clients.kafka_peer.fetch()
    except clients.PeerError as e:
        pytest.fail(f"Apache Kafka jars: {e}")

    def run(*args):
        p = clients.run(clients.tool_cmd(GROUPS, *args), "kafka-consumer-groups", timeout=90 * SLOW)
        return clients.ok(p, f"kafka-consumer-groups {' '.join(args)}")
    return run


def wire(kp, b, steps):
    p = kp.run(KPWIRE, b.bootstrap, "-", input=json.dumps(steps).encode(), timeout=60)
    lines = [json.loads(x) for x in p.stdout.decode().splitlines()]
    assert p.returncode == 0 and len(lines) == len(steps), (p.returncode, lines, p.err)
    return [line["response"] for line in lines]


def rows(out, topic):
    """{partition: (current offset, log end offset, lag)} of --describe's table."""
    got = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 6 and f[1] == topic:
            got[int(f[2])] = tuple(f[3:6])
    return got


def test_consumer_group_command_on_committed_offsets(target, tool, kp):
    b = target()
    suffix = uuid.uuid4().hex[:8]  # the Kafka node is shared by the session
    topic, group = f"tools-t-{suffix}", f"tools-g-{suffix}"
    records = [{"key": str(i), "value": "v"} for i in range(5)]
    commit = {"GroupId": group, "GenerationIdOrMemberEpoch": -1, "MemberId": "",
              "Topics": [{"Name": topic, "Partitions": [{"PartitionIndex": 0, "CommittedOffset": 3}]}]}
    resps = wire(kp, b, [
        {"api": "Metadata", "version": 12, "retry_while": {"ErrorCode": [3, 5], "LeaderId": [-1]},
         "request": {"Topics": [{"Name": topic}], "AllowAutoTopicCreation": True}},
        {"api": "Produce", "version": 9, "request": {"Acks": -1, "TimeoutMs": 10000, "TopicData": [
            {"Name": topic, "PartitionData": [{"Index": 0, "Records": {"records": records}}]}]}},
        {"api": "FindCoordinator", "version": 4, "retry_while": {"ErrorCode": [15]},
         "request": {"KeyType": 0, "CoordinatorKeys": [group]}},
        # loading, or not its coordinator yet (a busy Kafka node answers NOT_COORDINATOR)
        {"api": "OffsetCommit", "version": 9, "request": commit,
         "retry_while": {"ErrorCode": [14, 15, 16]}},
    ])
    assert resps[3]["Topics"][0]["Partitions"][0]["ErrorCode"] == 0, resps[3]

    out = tool("--bootstrap-server", b.bootstrap, "--describe", "--group", group).out
    assert rows(out, topic) == {0: ("3", "5", "2")}, out
    out = tool("--bootstrap-server", b.bootstrap, "--reset-offsets", "--group", group,
               "--topic", topic, "--to-earliest", "--execute").out
    assert re.search(rf"{group}\s+{topic}\s+0\s+0", out), out
    out = tool("--bootstrap-server", b.bootstrap, "--describe", "--group", group).out
    assert rows(out, topic) == {0: ("0", "5", "5")}, out
    out = tool("--bootstrap-server", b.bootstrap, "--delete-offsets", "--group", group,
               "--topic", topic).out
    assert re.search(rf"{topic}\s+0\s+Successful", out), out
    out = tool("--bootstrap-server", b.bootstrap, "--delete", "--group", group).out
    assert f"'{group}'" in out and "successful" in out.lower(), out
    out = tool("--bootstrap-server", b.bootstrap, "--list").out
    assert group not in out.split(), out
