"""Consumer groups against kbroker's group coordinator with real clients: confluent-kafka
(librdkafka) consumers and kcat -G in one group share a topic's partitions, every record
reaches exactly one member, committed offsets reach the log end, a member killed with
kill -9 has its partitions taken over after its session timeout without re-delivering
what was committed, and a restarted static member (KIP-345) gets its partitions back
without a rebalance."""
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import SLOW, committed_offsets, log_end_offsets, wait_for

SESSION_MS = 3000
GROUP_BROKER = ("group.initial.rebalance.delay.ms=0", "group.min.session.timeout.ms=1000")

# One group member in its own process: prints "A p,p,..." on each assignment and
# "M partition offset" for each record, and commits automatically every 100 ms.
MEMBER = r"""
import sys, confluent_kafka as ck
boot, group, topic, session, instance = sys.argv[1:6]
conf = {"bootstrap.servers": boot, "group.id": group, "auto.offset.reset": "earliest",
        "session.timeout.ms": int(session), "heartbeat.interval.ms": 300,
        "enable.auto.commit": True, "auto.commit.interval.ms": 100}
if instance != "-":
    conf["group.instance.id"] = instance
c = ck.Consumer(conf)
def on_assign(consumer, parts):
    print("A " + ",".join(str(p.partition) for p in parts), flush=True)
c.subscribe([topic], on_assign=on_assign)
while True:
    out = []
    for m in c.consume(500, timeout=0.2):
        if not m.error():
            out.append("M %d %d" % (m.partition(), m.offset()))
    if out:
        print("\n".join(out), flush=True)
"""


class Member:
    """A consumer process whose output lines are collected by a thread."""

    def __init__(self, args):
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     stdin=subprocess.DEVNULL, text=True)
        self.lines = []
        self._records = []  # parsed as they come: tests poll records() often, on 100,000 lines
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            self.lines.append(line)
            if line.startswith("M "):
                self._records.append(tuple(map(int, line.split()[1:3])))

    def records(self):
        return list(self._records)

    def count(self):
        return len(self._records)

    def assignments(self):
        return [l[2:] for l in list(self.lines) if l.startswith("A ")]

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill9()


def python_member(b, group, topic, instance="-"):
    return Member([sys.executable, "-c", MEMBER, b.bootstrap, group, topic, str(SESSION_MS),
                   instance])


def kcat_member(b, group, topic):
    return Member(["kcat", "-b", b.bootstrap, "-G", group, topic, "-u", "-q",
                   "-f", "M %p %o\n", "-X", f"session.timeout.ms={SESSION_MS}",
                   "-X", "heartbeat.interval.ms=300", "-X", "auto.offset.reset=earliest",
                   "-X", "auto.commit.interval.ms=100"])


def group_state(ck, b, group):
    """(state, member count) of `group` from ListGroups/DescribeGroups (librdkafka)."""
    admin = ck.admin.AdminClient({"bootstrap.servers": b.bootstrap})
    try:
        groups = admin.list_groups(group, timeout=10 * SLOW)
    except ck.KafkaException:
        return (None, 0)
    return (groups[0].state, len(groups[0].members)) if groups else (None, 0)


def committed(ck, b, group, topic, partitions):
    return committed_offsets(b.bootstrap, group, topic, partitions)


def log_end(ck, b, topic, partitions):
    return log_end_offsets(b.bootstrap, topic, partitions)


def produce(kp, b, topic, start, n):
    """Records start..start+n-1, keyed so that they spread over every partition."""
    data = "".join(f"k{i}\t{i}\n" for i in range(start, start + n))
    subprocess.run(["kproduce", "-b", b.bootstrap, "-t", topic, "-k", "\t"], input=data,
                   text=True, check=True, timeout=60 * SLOW)


def test_members_share_partitions_and_take_over_after_kill9(broker, kp, topic):
    """Three members (two confluent-kafka consumers and kcat -G) share six partitions: 50,000
    records reach exactly one member each and the commits reach the log end; then the kcat
    member is killed with kill -9, and after its session timeout the other two take over its
    partitions and read the next 50,000 records (100,000 in all), every one of them, and
    nothing committed before again."""
    ck = pytest.importorskip("confluent_kafka")
    import confluent_kafka.admin  # noqa: F401
    b = broker(*GROUP_BROKER, partitions=6)
    group = "g-share"
    half = 50_000
    produce(kp, b, topic, 0, 6)  # creates the topic with its six partitions
    members = [python_member(b, group, topic), python_member(b, group, topic),
               kcat_member(b, group, topic)]
    try:
        assert wait_for(lambda: group_state(ck, b, group) == ("Stable", 3), 60 * SLOW), \
            f"group not stable with 3 members: {group_state(ck, b, group)}"
        # a member may have read some of the first six records alone, in a generation of
        # its own (the initial rebalance delay is 0): ownership counts from the stable group
        base = [m.count() for m in members]
        produce(kp, b, topic, 6, half - 6)
        total = lambda: sum(m.count() for m in members)  # noqa: E731
        assert wait_for(lambda: total() >= half, 60 * SLOW, interval=0.2), \
            f"consumed {total()} of {half}"
        time.sleep(1)
        seen = [r for m in members for r in m.records()]
        assert len(seen) == half and len(set(seen)) == half, "a record reached two members"
        owners = [{p for p, _ in m.records()[n:]} for m, n in zip(members, base)]
        assert all(owners) and not (owners[0] & owners[1] or owners[0] & owners[2]
                                    or owners[1] & owners[2]), owners
        ends = log_end(ck, b, topic, 6)
        assert sum(ends.values()) == half, ends
        assert wait_for(lambda: committed(ck, b, group, topic, 6) == ends, 10 * SLOW), \
            (committed(ck, b, group, topic, 6), ends)

        # kill -9 the kcat member: after its session timeout the others take its partitions
        victim = members[2]
        victim_parts = owners[2]
        victim.kill9()
        before = [m.count() for m in members[:2]]
        produce(kp, b, topic, half, half)
        later = lambda: sum(m.count() - n for m, n in zip(members[:2], before))  # noqa: E731
        assert wait_for(lambda: later() >= half, 90 * SLOW, interval=0.2), \
            f"consumed {later()} of {half}"
        time.sleep(1)
        new = [r for m, n in zip(members[:2], before) for r in m.records()[n:]]
        seen_set = set(seen)
        assert not [r for r in new if r in seen_set], "committed records were delivered again"
        assert len(set(new)) == half
        taken = {p for p, _ in new} & victim_parts
        assert taken == victim_parts, f"{victim_parts - taken} not taken over"
        ends = log_end(ck, b, topic, 6)
        assert sum(ends.values()) == 2 * half, ends
        assert seen_set | set(new) == {(p, o) for p, end in ends.items() for o in range(end)}, \
            "records missing"
        assert wait_for(lambda: committed(ck, b, group, topic, 6) == ends, 10 * SLOW)
    finally:
        for m in members:
            m.stop()
    assert b.running
    b.check_sanitizer()


def test_static_member_restarted_keeps_its_partitions_without_rebalance(broker, kp, topic):
    ck = pytest.importorskip("confluent_kafka")
    import confluent_kafka.admin  # noqa: F401
    b = broker(*GROUP_BROKER, partitions=4)
    group = "g-static"
    produce(kp, b, topic, 0, 8)
    a = python_member(b, group, topic, "inst-a")
    s = python_member(b, group, topic, "inst-b")
    try:
        assert wait_for(lambda: group_state(ck, b, group) == ("Stable", 2), 60 * SLOW)
        # a may first have been alone in a generation of its own (the initial rebalance
        # delay is 0): what counts is the last assignment once both share the partitions
        split = lambda: (a.assignments() and s.assignments() and  # noqa: E731
                         sorted(a.assignments()[-1].split(",") + s.assignments()[-1].split(","))
                         == ["0", "1", "2", "3"])
        assert wait_for(split, 10 * SLOW), (a.assignments(), s.assignments())
        time.sleep(1)
        first_a, first_s = a.assignments(), s.assignments()[-1]
        s.kill9()
        s = python_member(b, group, topic, "inst-b")
        assert wait_for(lambda: s.assignments(), 20 * SLOW), "restarted static member not assigned"
        assert s.assignments() == [first_s]
        time.sleep(SESSION_MS / 1000 + 1)
        assert a.assignments() == first_a, "the other member saw a rebalance"
        assert group_state(ck, b, group) == ("Stable", 2)
    finally:
        a.stop()
        s.stop()
    b.check_sanitizer()


@pytest.mark.parametrize("how", ["clean", "kill9"])
def test_offsets_and_generation_survive_broker_restart(broker, kp, topic, how):
    """A kbroker restart (SIGTERM, or kill -9) replays __consumer_offsets: committed offsets
    are the same, and a member that kept running goes on with its member id and generation
    (its heartbeats succeed, so it sees no new assignment) and consumes what comes next
    without re-reading what it had committed."""
    ck = pytest.importorskip("confluent_kafka")
    b = broker(*GROUP_BROKER, partitions=3)
    group = "g-restart"
    produce(kp, b, topic, 0, 300)
    m = python_member(b, group, topic)
    try:
        assert wait_for(lambda: len(m.records()) >= 300, 60 * SLOW), len(m.records())
        ends = log_end(ck, b, topic, 3)
        assert wait_for(lambda: committed(ck, b, group, topic, 3) == ends, 10 * SLOW)
        if how == "clean":
            b.stop()
            b.start()
        else:
            b.restart()
        assert committed(ck, b, group, topic, 3) == ends
        produce(kp, b, topic, 300, 300)
        assert wait_for(lambda: len(m.records()) >= 600, 60 * SLOW), len(m.records())
        time.sleep(1)
        assert len(m.records()) == 600 and len(set(m.records())) == 600, "records re-delivered"
        assert len(m.assignments()) == 1, f"the member was reassigned: {m.assignments()}"
        ends = log_end(ck, b, topic, 3)
        assert wait_for(lambda: committed(ck, b, group, topic, 3) == ends, 10 * SLOW)
    finally:
        m.stop()
    b.check_sanitizer()
