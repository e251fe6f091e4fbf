"""A consumer (KIP-848) group survives kbroker restarts: __consumer_offsets holds the group
in Kafka's ConsumerGroup* records, and the broker replays them when it starts. After a clean
stop and after kill -9, ConsumerGroupDescribe shows the same group epoch, assignment epoch,
members, member epochs and assignments as before; a kconsume -g member that kept running
goes on with its member id and epoch (its heartbeats are accepted, it is not reassigned)
and reads what is produced next without reading again what it had committed."""
import json
import time

import pytest

from conftest import BUILD, SLOW, create_topic, wait_for
from test_kconsume_group import PARTITIONS, Member, produce_lines

KPWIRE = BUILD / "tests" / "tools" / "kpwire"


def describe(kp, b, group):
    """The group's ConsumerGroupDescribe entry, members sorted, with what identifies state."""
    steps = [{"api": "ConsumerGroupDescribe", "version": 0, "request": {"GroupIds": [group]}}]
    p = kp.run(KPWIRE, b.bootstrap, "-", input=json.dumps(steps).encode(), timeout=30)
    g = json.loads(p.stdout.decode().splitlines()[0])["response"]["Groups"][0]
    members = sorted((m["MemberId"], m["MemberEpoch"],
                      sorted(p for tp in m["Assignment"]["TopicPartitions"]
                             for p in tp["Partitions"]))
                     for m in g.get("Members", []))
    return g["ErrorCode"], g.get("GroupState"), g.get("GroupEpoch"), g.get("AssignmentEpoch"), \
        members


@pytest.mark.parametrize("how", ["clean", "kill9"])
def test_consumer_group_survives_restart(broker, kp, topic, how):
    b = broker("group.consumer.heartbeat.interval.ms=300", "group.initial.rebalance.delay.ms=0",
               partitions=PARTITIONS)
    group = "kept"
    create_topic(b.bootstrap, topic, PARTITIONS)
    members = [Member(b, topic, group, "-o", "beginning", "-X", "group.protocol=consumer")
               for _ in range(2)]
    try:
        first = [b"before %d" % i for i in range(500)]
        produce_lines(kp, b, topic, first)
        total = lambda: sum(m.out.count(b"\n") for m in members)
        assert wait_for(lambda: total() >= 500, 60 * SLOW), total()
        stable = lambda: describe(kp, b, group)[1] == "Stable"
        assert wait_for(stable, 30 * SLOW), describe(kp, b, group)
        time.sleep(1.5)  # commits of what was written (kconsume commits as it writes)
        before = describe(kp, b, group)
        assert before[0] == 0 and len(before[4]) == 2, before
        assert sorted(p for m in before[4] for p in m[2]) == list(range(PARTITIONS)), before

        if how == "clean":
            b.stop()
            b.start()
        else:
            b.restart()
        after = describe(kp, b, group)
        assert after == before, f"before {before}\nafter {after}"

        second = [b"after %d" % i for i in range(500)]
        produce_lines(kp, b, topic, second)
        assert wait_for(lambda: total() >= 1000, 60 * SLOW), total()
        time.sleep(1)
        got = sorted(line for m in members for line in bytes(m.out).splitlines())
        assert got == sorted(first + second), "a line was lost or read twice across the restart"
        assert describe(kp, b, group)[2] == before[2], "the group rebalanced after the restart"
    finally:
        for m in members:
            m.stop()
    b.check_sanitizer()
