"""KIP-848's online migration between the classic and the consumer group protocols, as
Kafka does it by default (group.consumer.migration.policy=bidirectional), against Apache
Kafka and kbroker: a classic kconsume -g member is alone in its group; a member using the
consumer protocol joins and the group becomes a consumer group that keeps the classic
member (the server-side assignor splits the partitions between them); every line is read
exactly once; when the consumer-protocol member leaves, the group becomes a classic group
again and the classic member takes every partition back. The group's type is read with
ListGroups v5 (kpwire) at each step."""
import json
import time

import pytest

from conftest import BUILD, SLOW, create_topic, wait_for
from test_kconsume_group import FAST, PARTITIONS, Member, produce_lines

KPWIRE = BUILD / "tests" / "tools" / "kpwire"


@pytest.fixture(params=["kafka", "kbroker"])
def node(request, bin_dir):
    """A broker with 6 partitions per topic; consumer-protocol heartbeats every 500 ms and
    no initial rebalance delay, so that each step settles within a few seconds."""
    fast = ("group.consumer.heartbeat.interval.ms=500", "group.initial.rebalance.delay.ms=0")
    if request.param == "kafka":
        return request.getfixturevalue("kafka")(
            *fast, "group.consumer.min.heartbeat.interval.ms=500", partitions=PARTITIONS)
    return request.getfixturevalue("kbroker_factory")(*fast, partitions=PARTITIONS)


def group_type(kp, b, group):
    """The group's GroupType ("classic"/"consumer") as ListGroups v5 reports it, or None."""
    steps = [{"api": "ListGroups", "version": 5, "request": {}}]
    p = kp.run(KPWIRE, b.bootstrap, "-", input=json.dumps(steps).encode(), timeout=30)
    groups = json.loads(p.stdout.decode().splitlines()[0])["response"]["Groups"]
    return next((g["GroupType"] for g in groups if g["GroupId"] == group), None)


def lines_of(members):
    return sorted(line for m in members for line in bytes(m.out).splitlines())


def test_classic_group_upgrades_and_downgrades_online(node, kp, topic):
    group = "migrating"
    create_topic(node.bootstrap, topic, PARTITIONS)
    classic = Member(node, topic, group, "-o", "beginning", *FAST)
    consumer = None
    try:
        assert wait_for(lambda: group_type(kp, node, group) == "classic", 30 * SLOW)
        first = [b"one %d" % i for i in range(300)]
        produce_lines(kp, node, topic, first)
        assert wait_for(lambda: classic.out.count(b"\n") >= 300, 30 * SLOW)

        # a consumer-protocol member joins: the group becomes a consumer group
        consumer = Member(node, topic, group, "-o", "beginning", "-X", "group.protocol=consumer")
        assert wait_for(lambda: group_type(kp, node, group) == "consumer", 30 * SLOW), \
            group_type(kp, node, group)
        time.sleep(6 * SLOW)  # the rebalance: the classic member gives up half its partitions
        second = [b"two %d" % i for i in range(3000)]
        produce_lines(kp, node, topic, second)
        assert wait_for(lambda: classic.out.count(b"\n") + consumer.out.count(b"\n") >= 3300,
                        60 * SLOW)
        time.sleep(0.5)
        assert lines_of([classic, consumer]) == sorted(first + second)
        assert consumer.out.count(b"\n") > 0 and classic.out.count(b"\n") > 300, \
            "the partitions were not split between the two members"

        # the consumer-protocol member leaves: a classic group again, one member reads all
        rc, err = consumer.stop()
        assert rc == 0, err
        assert wait_for(lambda: group_type(kp, node, group) == "classic", 30 * SLOW), \
            group_type(kp, node, group)
        before = classic.out.count(b"\n")
        third = [b"three %d" % i for i in range(600)]
        produce_lines(kp, node, topic, third)
        got = lambda: classic.out.count(b"\n") - before
        assert wait_for(lambda: got() >= 600, 60 * SLOW), f"{got()} of 600"
        time.sleep(0.5)
        assert lines_of([classic, consumer]) == sorted(first + second + third)
    finally:
        rc, err = classic.stop()
        if consumer:
            consumer.stop()
    assert rc == 0, err
