"""Consumer groups with more real clients, against kbroker and against Apache Kafka (the
`target` fixture): kafka-python (PyPI, the exact version in tests/peers/pypi/requirements.txt),
KafkaJS 2.2.4 (tests/js/group_member.js), the Java client with group.protocol=classic and with
group.protocol=consumer (KIP-848; tests/peers/java/KpGroupConsume.java) and franz-go
(tests/peers/franz, kpfranz group-consume).

For each client, three members of one group run as processes on a 6-partition topic; once
their assignments are complete and disjoint, 20,000 keyed records (kproduce -k, spread over
every partition) are produced. Every record must reach exactly one member (none twice, none
missing), each member consumes only and all of its own partitions (it has some), nobody is
reassigned meanwhile, the group's committed offsets (read with confluent-kafka) reach the log
end offsets, and each member exits 0 after closing (commit, LeaveGroup), leaving the classic
groups empty.

The members print "A P,P,..." with their whole assignment when it changes and
"M PARTITION OFFSET" a record; they stop when their standard input is closed.
"""
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

import clients
from clients import MissingApi
from conftest import SLOW, committed_offsets, create_topic, log_end_offsets, wait_for

PARTITIONS = 6
N = 20_000
MEMBERS = 3
# No 3 s wait for more members on an empty group (kbroker's and Kafka's default); KIP-848
# members learn of a new target assignment on their next heartbeat (5 s by default; Kafka
# also wants its minimum lowered). kbroker ignores keys it does not know, with a warning.
OVERRIDES = ("group.initial.rebalance.delay.ms=0",
             "group.consumer.min.heartbeat.interval.ms=500",
             "group.consumer.heartbeat.interval.ms=1000")
# Classic-protocol members of the Java client heartbeat often, so that they see a rebalance
# that a joining member starts soon (the Java default is every 3 s).
JAVA_CLASSIC = ("-X", "group.protocol=classic", "-X", "session.timeout.ms=10000",
                "-X", "heartbeat.interval.ms=500")
JS = Path(__file__).resolve().parent / "js"
PINNED_KAFKA_PYTHON = next(
    line.split("==", 1)[1].strip()
    for line in (Path(clients.PYPI_SRC) / "requirements.txt").read_text().splitlines()
    if line.startswith("kafka-python=="))


# ---------------------------------------------------------------- the members


def _peer(build, what):
    try:
        return build()
    except clients.PeerError as e:
        pytest.fail(f"cannot build or install {what}: {e}")


def kafka_python_cmd(b, topic, group):
    py = _peer(clients.pypi_python, "tests/peers/pypi/requirements.txt")
    script = clients.PYPI_SRC / "kpgroup_kafka_python.py"
    v = clients.ok(clients.run([py, script, "version"], "kafka-python version", timeout=60),
                   "kafka-python version")
    assert v.out.strip() == PINNED_KAFKA_PYTHON, v.out
    return [py, script, b.bootstrap, topic, group]


def kafkajs_cmd(b, topic, group):
    node = shutil.which("node")
    if not node or not (JS / "node_modules" / "kafkajs").is_dir():
        pytest.fail("node or tests/js/node_modules/kafkajs missing: run make deps")
    return [node, JS / "group_member.js", b.bootstrap, topic, group]


def java_classic_cmd(b, topic, group):
    _peer(clients.java_classes, "tests/peers/java")
    return clients.java_cmd("KpGroupConsume", b.bootstrap, topic, group, *JAVA_CLASSIC)


def java_consumer_cmd(b, topic, group):
    _peer(clients.java_classes, "tests/peers/java")
    return clients.java_cmd("KpGroupConsume", b.bootstrap, topic, group,
                            "-X", "group.protocol=consumer")


def franz_cmd(b, topic, group):
    exe = _peer(clients.franz_binary, "tests/peers/franz")
    return [exe, "-b", b.bootstrap, "-timeout", f"{300 * SLOW}s", "group-consume", topic, group]


# client id -> (argv builder, whether the group is a classic one)
CLIENTS = {
    "kafka-python": (kafka_python_cmd, True),
    "kafkajs": (kafkajs_cmd, True),
    "java-classic": (java_classic_cmd, True),
    "java-consumer": (java_consumer_cmd, False),
    "franz-go": (franz_cmd, True),
}

# What the Java client says when the broker does not serve ConsumerGroupHeartbeat (API 68):
# "ConsumerGroupHeartbeatRequest failed due to unsupported version while sending request:
# The node does not support CONSUMER_GROUP_HEARTBEAT", then it exits with an
# UnsupportedVersionException.
NO_CONSUMER_PROTOCOL = "does not support CONSUMER_GROUP_HEARTBEAT"


class Member:
    """A group member process. A thread parses its stdout as it comes: .records [(p, o)],
    .assignments [set of partitions]; stderr goes to a file."""

    def __init__(self, argv, errpath, cwd=None):
        self.errpath = errpath
        with open(errpath, "wb") as err:
            self.proc = subprocess.Popen([str(a) for a in argv], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=err, cwd=cwd,
                                         text=True)
        self.records = []
        self.assignments = []
        self.other = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            if line.startswith("M "):
                _, p, o = line.split()
                self.records.append((int(p), int(o)))
            elif line.startswith("A "):
                self.assignments.append({int(p) for p in line[2:].split(",") if p.strip()})
            else:
                self.other.append(line)

    @property
    def stderr(self):
        return Path(self.errpath).read_text(errors="replace")

    def assignment(self):
        return self.assignments[-1] if self.assignments else set()

    def stop(self, timeout=60):
        """Close its standard input (the member commits, leaves and exits); its exit status."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        try:
            rc = self.proc.wait(timeout * SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            rc = None
        self.thread.join(10)
        return rc


def check_running(members, consumer_protocol):
    """Fail if a member exited; MissingApi if it did because the broker lacks KIP-848."""
    for i, m in enumerate(members):
        if m.proc.poll() is not None:
            err = m.stderr
            if consumer_protocol and NO_CONSUMER_PROTOCOL in err:
                raise MissingApi(f"member {i}: the broker lacks ConsumerGroupHeartbeat:\n"
                                 f"{err[-2000:]}")
            pytest.fail(f"member {i} exited {m.proc.returncode}:\n{err[-4000:]}")


def complete(members):
    """The members' current assignments when they are disjoint, each non-empty and together
    every partition; else None."""
    parts = [m.assignment() for m in members]
    if not all(parts) or sum(map(len, parts)) != PARTITIONS:
        return None
    if set().union(*parts) != set(range(PARTITIONS)):
        return None
    return parts


# ---------------------------------------------------------------- offsets


def _ck():
    try:
        import confluent_kafka
    except ImportError:
        pytest.fail("confluent_kafka missing (python3-confluent-kafka; make deps)")
    return confluent_kafka


def committed(b, group, topic):
    return committed_offsets(b.bootstrap, group, topic, PARTITIONS)


def log_end(b, topic):
    return log_end_offsets(b.bootstrap, topic, PARTITIONS)


def group_state(b, group):
    """(state, member count) from ListGroups/DescribeGroups (librdkafka)."""
    ck = _ck()
    import confluent_kafka.admin  # noqa: F401
    admin = ck.admin.AdminClient({"bootstrap.servers": b.bootstrap})
    try:
        groups = admin.list_groups(group, timeout=10 * SLOW)
    except ck.KafkaException:
        return (None, 0)
    return (groups[0].state, len(groups[0].members)) if groups else (None, 0)


def produce_keyed(b, topic, n):
    """Records 0..n-1 keyed k0..k{n-1}, so that they spread over every partition."""
    data = "".join(f"k{i}\t{i}\n" for i in range(n))
    subprocess.run(["kproduce", "-b", b.bootstrap, "-t", topic, "-k", "\t"], input=data,
                   text=True, check=True, timeout=60 * SLOW)


# ---------------------------------------------------------------- the test


def _cases():
    """(target, client) pairs: every client against both brokers."""
    return [pytest.param(kind, client, id=f"{client}-{kind}")
            for client in CLIENTS for kind in ("kbroker", "kafka")]


@pytest.mark.parametrize("target,client", _cases(), indirect=["target"])
def test_three_members_share_a_topic_exactly(target, client, bin_dir, topic, tmp_path):
    """Three members of one group (one client, one protocol) split a 6-partition topic:
    20,000 records each reach exactly one member, every member reads all and only its own
    partitions with none reassigned, the group commits up to the log end offsets, and the
    members close cleanly (exit 0) and leave the group."""
    b = target(*OVERRIDES)
    build, classic = CLIENTS[client]
    group = f"g-{client}"
    create_topic(b.bootstrap, topic, PARTITIONS)
    argv = build(b, topic, group)
    members = [Member(argv, tmp_path / f"member{i}.stderr", cwd=JS if client == "kafkajs" else None)
               for i in range(MEMBERS)]
    try:
        def stable():
            check_running(members, not classic)
            return complete(members)

        parts = wait_for(stable, 90 * SLOW, interval=0.2)
        assert parts, ("the members' assignments did not become complete and disjoint: "
                       f"{[m.assignments for m in members]}\n" +
                       "\n".join(m.stderr[-1500:] for m in members))
        assert sum(len(m.records) for m in members) == 0, "records before any were produced"

        produce_keyed(b, topic, N)
        total = lambda: sum(len(m.records) for m in members)  # noqa: E731

        def consumed():
            check_running(members, not classic)
            return total() >= N

        assert wait_for(consumed, 90 * SLOW, interval=0.2), f"consumed {total()} of {N}"
        time.sleep(1)  # anything delivered twice would show up now

        ends = log_end(b, topic)
        assert sum(ends.values()) == N, ends
        assert all(ends.values()), f"some partition has no records: {ends}"
        seen = [r for m in members for r in m.records]
        assert len(seen) == len(set(seen)), \
            f"{len(seen) - len(set(seen))} records delivered more than once"
        want = {(p, o) for p, end in ends.items() for o in range(end)}
        assert set(seen) == want, f"missing {sorted(want - set(seen))[:20]}, " \
                                  f"unexpected {sorted(set(seen) - want)[:20]}"
        for i, (m, mine) in enumerate(zip(members, parts)):
            assert {p for p, _ in m.records} == mine, \
                f"member {i} assigned {mine} read {sorted({p for p, _ in m.records})}"
            assert m.assignment() == mine, \
                f"member {i} was reassigned after the group was complete: {m.assignments}"
        assert wait_for(lambda: committed(b, group, topic) == ends, 20 * SLOW), \
            f"committed {committed(b, group, topic)}, log end {ends}"
    finally:
        codes = [m.stop() for m in members]
    for i, (m, rc) in enumerate(zip(members, codes)):
        assert rc == 0, f"member {i} exit status {rc}:\n{m.stderr[-4000:]}"
        assert not m.other, f"member {i} printed {m.other[:5]}"
    assert committed(b, group, topic) == ends, "the commits at close moved the offsets"
    if classic:
        assert wait_for(lambda: group_state(b, group) == ("Empty", 0), 10 * SLOW), \
            f"group after all members left: {group_state(b, group)}"
    b.check_sanitizer()
