"""kconsume -g GROUP: consumer group members that split a topic between them, commit what
they wrote and continue from there after a restart, with the classic protocol (each of the
three assignors) and the consumer protocol (KIP-848), against Apache Kafka and kbroker."""
import signal
import subprocess
import threading
import time

import pytest

from conftest import ASAN, BIN, SLOW, create_topic, sanitizer_report, wait_for
import kafka_peer

TARGETS = ["kafka", "kbroker"]

PARTITIONS = 6
FAST = ["-X", "heartbeat.interval.ms=300", "-X", "session.timeout.ms=6000"]
PROTOCOLS = {
    "range": ["-X", "partition.assignment.strategy=range", *FAST],
    "roundrobin": ["-X", "partition.assignment.strategy=roundrobin", *FAST],
    "cooperative-sticky": ["-X", "partition.assignment.strategy=cooperative-sticky", *FAST],
    "consumer": ["-X", "group.protocol=consumer"],
}


@pytest.fixture(params=TARGETS)
def node(request, bin_dir):
    """A broker with 6 partitions per new topic: Apache Kafka, or kbroker."""
    if request.param == "kafka":
        return request.getfixturevalue("kafka")(partitions=PARTITIONS)
    return request.getfixturevalue("kbroker_factory")(partitions=PARTITIONS)


def keyed(lines):
    """Lines keyed by their number, so that kproduce -k spreads them over the partitions."""
    return b"".join(b"%d\t%s\n" % (i, line) for i, line in enumerate(lines))


def produce_lines(kp, b, topic, lines):
    kp.produce(b.bootstrap, topic, "-k", "\t", input=keyed(lines))


class Member:
    """A kconsume -g process whose stdout a thread collects (so the pipe never fills)."""

    def __init__(self, b, topic, group, *args):
        self.p = subprocess.Popen([str(BIN / "kconsume"), "-b", b.bootstrap, "-t", topic,
                                   "-g", group, *args], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.out = bytearray()
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for chunk in iter(lambda: self.p.stdout.read1(65536), b""):
            self.out += chunk

    def stop(self, timeout=30):
        """SIGTERM (unless it exited); return (exit status, stderr text)."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(timeout * SLOW)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            pytest.fail("kconsume -g did not exit after SIGTERM")
        self.t.join(10)
        err = self.p.stderr.read().decode(errors="replace")
        assert not (ASAN and sanitizer_report(err)), err[-6000:]
        return rc, err


def group_consume(kp, b, topic, group, *args, timeout=60):
    """kconsume -g GROUP -e ARGS: its lines."""
    p = kp.consume(b.bootstrap, topic, "-g", group, "-e", *FAST, *args, timeout=timeout)
    return p.stdout.splitlines()


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
def test_three_members_split_a_file_exactly(node, kp, topic, dpkg_log, protocol):
    """Three members of one group, started before the data arrives, print together exactly
    the lines of dpkg.log (nothing lost, nothing twice) while the group rebalances as they
    join; each exits 0 on SIGTERM after leaving the group."""
    lines = dpkg_log.splitlines()
    create_topic(node.bootstrap, topic, PARTITIONS)
    members = [Member(node, topic, "split", "-o", "beginning", *PROTOCOLS[protocol])
               for _ in range(3)]
    try:
        time.sleep(1 * SLOW)
        produce_lines(kp, node, topic, lines)
        done = wait_for(lambda: sum(m.out.count(b"\n") for m in members) >= len(lines)
                        or any(m.p.poll() is not None for m in members), 60 * SLOW)
        time.sleep(0.5)  # anything printed twice would show up now
    finally:
        results = [m.stop() for m in members]
    for rc, err in results:
        assert rc == 0, err
    count = sum(m.out.count(b"\n") for m in members)
    assert done, f"got {count} of {len(lines)} lines"
    got = sorted(line for m in members for line in bytes(m.out).splitlines())
    assert got == sorted(lines)


def test_restart_continues_after_last_written_line(node, kp, topic):
    """-c 30 then a restart with -e: together every line exactly once; the group's committed
    offsets are where the first run stopped writing."""
    lines = [b"line %03d" % i for i in range(100)]
    produce_lines(kp, node, topic, lines)
    first = group_consume(kp, node, topic, "g", "-o", "beginning", "-c", "30")
    assert len(first) == 30
    rest = group_consume(kp, node, topic, "g")
    assert sorted(first + rest) == lines
    assert group_consume(kp, node, topic, "g", "-o", "beginning") == []


def test_offset_option_only_without_committed_offset(node, kp, topic):
    """-o applies only to partitions where the group has no committed offset: a group that
    has read everything gets only new lines even with -o beginning; a new group starts at
    the end by default (auto.offset.reset=latest, like kafka-console-consumer), and once it
    has committed that end, -o beginning no longer takes it back."""
    old = [b"old %d" % i for i in range(60)]
    new = [b"new %d" % i for i in range(12)]
    produce_lines(kp, node, topic, old)
    assert sorted(group_consume(kp, node, topic, "a", "-o", "beginning")) == sorted(old)
    assert group_consume(kp, node, topic, "b") == []  # default: end
    produce_lines(kp, node, topic, new)
    assert sorted(group_consume(kp, node, topic, "a", "-o", "beginning")) == sorted(new)
    assert sorted(group_consume(kp, node, topic, "b", "-o", "beginning")) == sorted(new)
    assert sorted(group_consume(kp, node, topic, "c", "-o", "beginning")) == sorted(old + new)


def describe_group(b, group):
    """kafka-consumer-groups --describe: {partition: (current offset, log end offset)}."""
    cmd = kafka_peer.java_cmd("org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
                              "--bootstrap-server", b.bootstrap, "--describe", "--group", group)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    assert p.returncode == 0, p.stderr.decode(errors="replace")[-3000:]
    rows = {}
    for line in p.stdout.decode().splitlines():
        f = line.split()
        if len(f) >= 6 and f[0] == group and f[2].isdigit():
            rows[int(f[2])] = (f[3], f[4])
    return rows


@pytest.mark.parametrize("protocol", ["range", "consumer"])
def test_kafka_tools_see_committed_offsets_at_log_end(node, kp, topic, dpkg_log, protocol):
    """After a full read (-e) Kafka's own kafka-consumer-groups shows, for every partition,
    the group's committed offset equal to the log end offset."""
    produce_lines(kp, node, topic, dpkg_log.splitlines()[:2000])
    got = group_consume(kp, node, topic, "seen", "-o", "beginning", *PROTOCOLS[protocol])
    assert len(got) == 2000
    rows = describe_group(node, "seen")
    assert sorted(rows) == list(range(PARTITIONS)), rows
    for part, (current, end) in rows.items():
        assert current == end, f"partition {part}: committed {current}, log end {end}"


def test_heartbeats_continue_while_stdout_is_blocked(node, kp, topic):
    """A member whose reader stops reading for longer than session.timeout.ms keeps its
    membership (heartbeats go on while it waits to write): after the stall it writes
    everything, commits without complaint, and the group has nothing left to read."""
    lines = [b"%05d " % i + b"x" * 200 for i in range(3000)]  # ~600 kB: more than a pipe holds
    produce_lines(kp, node, topic, lines)
    p = subprocess.Popen([str(BIN / "kconsume"), "-b", node.bootstrap, "-t", topic, "-g", "slow",
                          "-o", "beginning", "-e", *FAST], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    time.sleep(8)  # session.timeout.ms is 6000
    out, err = p.communicate(timeout=60 * SLOW)
    err = err.decode(errors="replace")
    assert p.returncode == 0, err
    assert not (ASAN and sanitizer_report(err)), err[-6000:]
    assert "commit" not in err, err
    assert sorted(out.splitlines()) == lines
    assert group_consume(kp, node, topic, "slow", "-o", "beginning") == []


def group_members(b, group):
    """kafka-consumer-groups --describe --members: the rows after the header, split."""
    cmd = kafka_peer.java_cmd("org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
                              "--bootstrap-server", b.bootstrap, "--describe", "--members",
                              "--group", group)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    assert p.returncode == 0, p.stderr.decode(errors="replace")[-3000:]
    return [line.split() for line in p.stdout.decode().splitlines()
            if line.split()[:1] == [group]]


@pytest.mark.parametrize("protocol", ["range", "consumer"])
def test_static_member_stays_dynamic_member_leaves(node, kp, topic, protocol):
    """With group.instance.id (KIP-345) kconsume exits without leaving: the group still lists
    the member, holding its partitions for its return; a dynamic member leaves on exit (the
    group has no members left). A returning static member continues after its commit."""
    produce_lines(kp, node, topic, [b"s %d" % i for i in range(20)])
    static = ["-X", "group.instance.id=reader-1"]
    assert len(group_consume(kp, node, topic, "st", "-o", "beginning", *static,
                             *PROTOCOLS[protocol])) == 20
    rows = group_members(node, "st")
    assert len(rows) == 1 and "reader-1" in rows[0], rows
    assert group_consume(kp, node, topic, "st", "-o", "beginning", *static,
                         *PROTOCOLS[protocol]) == []
    assert len(group_consume(kp, node, topic, "dyn", "-o", "beginning",
                             *PROTOCOLS[protocol])) == 20
    assert group_members(node, "dyn") == []


def test_heartbeats_continue_during_long_fetch_waits(node, kp, topic):
    """With fetch.max.wait.ms (60 s) far beyond session.timeout.ms (6 s), an idle member cuts
    each Fetch wait to its next heartbeat: it is the same member 8 s later, and still reads
    what arrives then."""
    kp.produce(node.bootstrap, topic, input=b"before\n")
    m = Member(node, topic, "idle", "-X", "fetch.max.wait.ms=60000", *FAST)
    try:
        first = wait_for(lambda: group_members(node, "idle"), 30 * SLOW)
        time.sleep(8)
        later = group_members(node, "idle")
        produce_lines(kp, node, topic, [b"after %d" % i for i in range(5)])
        wait_for(lambda: m.out.count(b"\n") >= 5, 30 * SLOW)
    finally:
        rc, err = m.stop()
    assert rc == 0, err
    assert first and later and first[0][1] == later[0][1], (first, later)
    assert sorted(bytes(m.out).splitlines()) == [b"after %d" % i for i in range(5)]


@pytest.mark.parametrize("prop", ["group.protocol=bogus", "partition.assignment.strategy=sticky",
                                  "session.timeout.ms=abc", "heartbeat.interval.ms=60000",
                                  "max.poll.interval.ms=-1"])
def test_bad_group_property_is_usage_error(kp, prop):
    """A malformed group property prints the usage and exits 2, before any connection."""
    p = kp.run("kconsume", "-b", "127.0.0.1:1", "-t", "t", "-g", "g", "-X", prop, timeout=15)
    assert p.returncode == 2, p.err
    assert prop.split("=")[0] in p.err and "usage: kconsume" in p.err, p.err


def test_group_and_partition_exclude_each_other(kp):
    """-g with -p is a usage error: the group assigns the partitions."""
    p = kp.run("kconsume", "-t", "t", "-g", "g", "-p", "0", timeout=15)
    assert p.returncode == 2, p.err
    assert "usage: kconsume" in p.err
