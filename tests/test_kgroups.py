"""kgroups, the consumer group admin tool, against kbroker and Apache Kafka (the target
fixture runs each test on both), with real groups (kconsume -g with either group protocol,
confluent-kafka members), and what it reports compared with what Kafka's own
kafka-consumer-groups (ConsumerGroupCommand, from the Apache Kafka peer's cached jars) reports
for the same cluster at the same moment: the same groups, types, states, members and
assignments, committed offsets, log end offsets and lags; reset-offsets plans equal to its
--dry-run for the same options; both refuse to reset a group that has members."""
import json
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

import clients
from conftest import ASAN, BIN, SLOW, create_topic, sanitizer_report, wait_for

GROUPS_TOOL = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"
FAST = ["-X", "heartbeat.interval.ms=300", "-X", "session.timeout.ms=6000",
        "-X", "auto.commit.interval.ms=200"]
MEMBER_KINDS = {
    "kconsume-classic": ["-X", "partition.assignment.strategy=range", *FAST],
    "kconsume-consumer": ["-X", "group.protocol=consumer", "-X", "auto.commit.interval.ms=200"],
    "confluent": None,
}


def on_both(name, values, on_kafka):
    """Parametrize `target` and `name`: every value of `values` against kbroker, the subset
    `on_kafka` against Apache Kafka (there the program is what is checked, so a sample of the
    variants does; against kbroker the broker is checked too, so all of them run)."""
    return pytest.mark.parametrize(f"target,{name}", [("kbroker", v) for v in values] +
                                   [("kafka", v) for v in on_kafka], indirect=["target"])

# A confluent-kafka (librdkafka) group member in its own process: commits every 100 ms.
CONFLUENT_MEMBER = r"""
import sys, confluent_kafka as ck
boot, group, topic, client_id = sys.argv[1:5]
c = ck.Consumer({"bootstrap.servers": boot, "group.id": group, "client.id": client_id,
                 "auto.offset.reset": "earliest", "session.timeout.ms": 6000,
                 "heartbeat.interval.ms": 300, "enable.auto.commit": True,
                 "auto.commit.interval.ms": 100})
c.subscribe([topic])
while True:
    c.poll(0.2)
"""


@pytest.fixture(scope="module")
def tool():
    """tool(*args) -> stdout of kafka-consumer-groups ARGS (which must exit 0)."""
    try:
        clients.kafka_peer.fetch()
    except clients.PeerError as e:
        pytest.fail(f"Apache Kafka jars: {e}")

    def run(*args):
        p = clients.run(clients.tool_cmd(GROUPS_TOOL, *map(str, args)), "kafka-consumer-groups",
                        timeout=90 * SLOW)
        return clients.ok(p, f"kafka-consumer-groups {' '.join(map(str, args))}").out
    return run


def kgroups(kp, b, verb, *args, ok=True):
    """kgroups VERB -b BOOTSTRAP ARGS: the CompletedProcess with .out (text) and .err."""
    p = kp.run("kgroups", verb, "-b", b.bootstrap, *args, timeout=90)
    p.out = p.stdout.decode(errors="replace")
    if ok:
        assert p.returncode == 0, f"kgroups {verb} {args} exited {p.returncode}: {p.err}"
    return p


def kg_rows(p):
    """kgroups' tab-separated output (not a terminal: no header) as lists of fields."""
    return [line.split("\t") for line in p.out.splitlines() if line]


def tool_table(out):
    """A table of kafka-consumer-groups as dicts keyed by its header (the "COORDINATOR (ID)"
    column kept whole), skipping the notes it prints around it."""
    lines = [ln for ln in out.splitlines() if ln.strip()]
    heads = [i for i, ln in enumerate(lines) if ln.startswith("GROUP ")]
    if not heads:
        return []
    cols = lines[heads[0]].replace("COORDINATOR (ID)", "COORDINATOR").split()
    rows = []
    for ln in lines[heads[0] + 1:]:
        f = re.sub(r"\s+\((\d+)\)", r"(\1)", ln).split()
        if len(f) >= len(cols) - 2 and not ln.startswith(("Consumer group", "Error", "Warning")):
            rows.append(dict(zip(cols, f)))
    return rows


def none(v):
    """kgroups' and Kafka's "-" (nothing) as None."""
    return None if v in ("-", "", None) else v


def assignment_set(text):
    """"t1:0,1;t2:2" (both tools' ASSIGNMENT) as a set of (topic, partition)."""
    out = set()
    for part in (text or "").split(";"):
        if part and part != "-":
            topic, parts = part.rsplit(":", 1)
            out |= {(topic, int(p)) for p in parts.split(",")}
    return out


def produce(kp, b, topic, counts):
    """counts[p] records into partition p (values "p-i")."""
    for p, n in enumerate(counts):
        if n:
            kp.produce(b.bootstrap, topic, "-p", p,
                       input="".join(f"{p}-{i}\n" for i in range(n)).encode())


def produce_timed(b, topic, partitions, n, first_ts, step_ms):
    """n records into each partition, record i with create time first_ts + i * step_ms."""
    lines = "".join(json.dumps({"p": p, "k": None, "v": f"{p}-{i}", "h": [],
                                "ts": first_ts + i * step_ms}) + "\n"
                    for p in range(partitions) for i in range(n))
    out = clients.run(clients.confluent_cmd(sys.executable, b.bootstrap, "produce", topic),
                      "kpconfluent.py produce", input=lines.encode(), timeout=60 * SLOW)
    clients.ok(out, "kpconfluent.py produce")


def commit(b, group, topic, offsets):
    """Commit {partition: offset} for `group` as a consumer that joined no group (generation
    -1, librdkafka), leaving the group Empty with those offsets."""
    import confluent_kafka as ck
    c = ck.Consumer({"bootstrap.servers": b.bootstrap, "group.id": group,
                     "enable.auto.commit": False})
    try:
        c.commit(offsets=[ck.TopicPartition(topic, p, o) for p, o in offsets.items()],
                 asynchronous=False)
    finally:
        c.close()


class Member:
    """A group member process: kconsume -g (either protocol) or confluent-kafka."""

    def __init__(self, b, topic, group, kind, client_id):
        if MEMBER_KINDS[kind] is None:
            args = [sys.executable, "-c", CONFLUENT_MEMBER, b.bootstrap, group, topic, client_id]
        else:
            args = [str(BIN / "kconsume"), "-b", b.bootstrap, "-t", topic, "-g", group,
                    "-o", "beginning", "-X", f"client.id={client_id}", *MEMBER_KINDS[kind]]
        self.kind = kind
        self.p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  stdin=subprocess.DEVNULL)
        self.err = b""
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for chunk in iter(lambda: self.p.stderr.read1(65536), b""):
            self.err += chunk

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(30 * SLOW)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.t.join(10)
        err = self.err.decode(errors="replace")
        assert not (ASAN and sanitizer_report(err)), err[-6000:]


@pytest.fixture
def members():
    """Factory: members(b, topic, group, kind, n) starts n members; all stopped at teardown."""
    started = []

    def start(b, topic, group, kind, n=1):
        new = [Member(b, topic, group, kind, f"{group}-m{len(started) + i}") for i in range(n)]
        started.extend(new)
        return new
    yield start
    for m in started:
        m.stop()


def settled(kp, b, group, nmembers, partitions):
    """Wait until `group` is Stable with nmembers members that own every one of `partitions`
    partitions and have committed the log end offset of each (nothing moves after that)."""
    def ready():
        p = kgroups(kp, b, "describe", "--json", group, ok=False)
        if p.returncode != 0:
            return False
        g = json.loads(p.out)[0]
        owned = sum(len(m["assignment"]) for m in g["members"])
        return (g["state"] == "Stable" and len(g["members"]) == nmembers and
                owned == partitions and len(g["offsets"]) == partitions and
                all(o["lag"] == 0 and o["consumer_id"] for o in g["offsets"]))
    assert wait_for(ready, 60 * SLOW, interval=0.5), \
        kgroups(kp, b, "describe", "--json", group, ok=False).out


# ---------------------------------------------------------------- list and describe


def test_list_shows_types_and_states_like_kafka(target, tool, kp, topic, members):
    """kgroups list names every group with the type and state kafka-consumer-groups --list
    --state --type gives it: an Empty classic group (offsets only), a Stable classic group
    and a Stable consumer-protocol (KIP-848) group; all three of protocol type consumer."""
    b = target()
    create_topic(b.bootstrap, topic, 2)
    produce(kp, b, topic, [5, 5])
    empty, classic, consumer = f"{topic}-e", f"{topic}-c", f"{topic}-k"
    kp.consume(b.bootstrap, topic, "-g", empty, "-o", "beginning", "-e", *FAST)
    members(b, topic, classic, "kconsume-classic")
    members(b, topic, consumer, "kconsume-consumer")
    settled(kp, b, classic, 1, 2)
    settled(kp, b, consumer, 1, 2)
    ours = {r[0]: r[1:] for r in kg_rows(kgroups(kp, b, "list"))}
    theirs = {r["GROUP"]: r for r in tool_table(tool("--bootstrap-server", b.bootstrap, "--list",
                                                     "--state", "--type"))}
    for g in (empty, classic, consumer):
        assert g in ours and g in theirs, (ours, theirs)
        assert ours[g][0] == theirs[g]["TYPE"].lower(), (g, ours[g], theirs[g])
        assert ours[g][1] == theirs[g]["STATE"], (g, ours[g], theirs[g])
        assert ours[g][2] == "consumer", ours[g]
    assert [ours[g][:2] for g in (empty, classic, consumer)] == \
        [["classic", "Empty"], ["classic", "Stable"], ["consumer", "Stable"]]
    stable = [r[0] for r in kg_rows(kgroups(kp, b, "list", "-s", "stable"))]
    assert classic in stable and consumer in stable and empty not in stable


@on_both("kind", list(MEMBER_KINDS), ["kconsume-consumer", "confluent"])
def test_describe_agrees_with_kafka_on_a_live_group(target, tool, kp, topic, members, kind):
    """Two live members (kconsume -g with the classic or the consumer protocol, or
    confluent-kafka) read a 4-partition topic: kgroups describe shows per partition the
    committed offset, log end offset, lag and owning member (id, host, client id) exactly as
    kafka-consumer-groups --describe does; --members the same members and assignments as its
    --members --verbose; --state the same state, member count and assignor, and total lag 0."""
    b = target()
    create_topic(b.bootstrap, topic, 4)
    produce(kp, b, topic, [7, 3, 1, 11])
    group = f"{topic}-g"
    members(b, topic, group, kind, 2)
    settled(kp, b, group, 2, 4)

    ours = {(r[1], int(r[2])): [none(x) for x in r[3:]] for r in kg_rows(
        kgroups(kp, b, "describe", group))}
    theirs = {(r["TOPIC"], int(r["PARTITION"])):
              [none(r[c]) for c in ("CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID",
                                    "HOST", "CLIENT-ID")]
              for r in tool_table(tool("--bootstrap-server", b.bootstrap, "--describe",
                                       "--group", group))}
    assert ours == theirs
    assert [ours[(topic, p)][:3] for p in range(4)] == \
        [["7", "7", "0"], ["3", "3", "0"], ["1", "1", "0"], ["11", "11", "0"]]

    ours = {r[1]: (r[2], r[3], int(r[5]), assignment_set(none(r[6])))
            for r in kg_rows(kgroups(kp, b, "describe", "--members", group))}
    theirs = {r["CONSUMER-ID"]: (r["HOST"], r["CLIENT-ID"], int(r["#PARTITIONS"]),
                                 assignment_set(none(r["CURRENT-ASSIGNMENT"])))
              for r in tool_table(tool("--bootstrap-server", b.bootstrap, "--describe",
                                       "--group", group, "--members", "--verbose"))}
    assert ours == theirs
    assert sorted(n for _, _, n, _ in ours.values()) == [2, 2]

    (state,) = kg_rows(kgroups(kp, b, "describe", "--state", group))
    (their,) = tool_table(tool("--bootstrap-server", b.bootstrap, "--describe", "--group",
                               group, "--state"))
    assert (state[3], state[6], state[5]) == \
        (their["STATE"], their["#MEMBERS"], their["ASSIGNMENT-STRATEGY"])
    assert state[2] == ("consumer" if kind == "kconsume-consumer" else "classic")
    assert state[7] == "0"


def test_describe_shows_lag_of_a_group_without_members(target, tool, kp, topic):
    """A group with committed offsets and no members: the committed offsets, log end offsets
    and lags are Kafka's, partitions the group never committed are not listed, and the total
    lag (--state, --json) is their sum."""
    b = target()
    create_topic(b.bootstrap, topic, 3)
    produce(kp, b, topic, [10, 20, 30])
    group = f"{topic}-g"
    commit(b, group, topic, {0: 4, 1: 20})
    ours = {(r[1], int(r[2])): [none(x) for x in r[3:]] for r in kg_rows(
        kgroups(kp, b, "describe", group))}
    theirs = {(r["TOPIC"], int(r["PARTITION"])):
              [none(r[c]) for c in ("CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID",
                                    "HOST", "CLIENT-ID")]
              for r in tool_table(tool("--bootstrap-server", b.bootstrap, "--describe",
                                       "--group", group))}
    assert ours == theirs == {(topic, 0): ["4", "10", "6", None, None, None],
                              (topic, 1): ["20", "20", "0", None, None, None]}
    (state,) = kg_rows(kgroups(kp, b, "describe", "--state", group))
    assert state[3] == "Empty" and state[6] == "0" and state[7] == "6", state
    (doc,) = json.loads(kgroups(kp, b, "describe", "--json", group).out)
    assert doc["total_lag"] == 6 and doc["members"] == [] and doc["state"] == "Empty"
    assert [(o["partition"], o["current_offset"], o["log_end_offset"], o["lag"])
            for o in doc["offsets"]] == [(0, 4, 10, 6), (1, 20, 20, 0)]


def test_describe_of_several_groups_reports_the_missing_one(target, kp, topic):
    """describe GROUP... prints the groups that exist and names the one that does not on
    stderr, exiting 3 (partial); a missing group alone exits 1."""
    b = target()
    create_topic(b.bootstrap, topic, 1)
    produce(kp, b, topic, [5])
    commit(b, f"{topic}-a", topic, {0: 2})
    p = kgroups(kp, b, "describe", f"{topic}-a", f"{topic}-none", ok=False)
    assert p.returncode == 3, p.err
    assert f"kgroups: group '{topic}-none' does not exist" in p.err
    assert [r[0] for r in kg_rows(p)] == [f"{topic}-a"]
    p = kgroups(kp, b, "describe", f"{topic}-none", ok=False)
    assert p.returncode == 1 and "does not exist" in p.err, (p.returncode, p.err)


# ---------------------------------------------------------------- reset-offsets

MINUTE = 60_000
# Records are 10 minutes apart, the first 125 minutes ago, so that "an hour ago" and the
# midpoint below fall 5 minutes from any record whichever tool computes "now" a moment later.
RESETS = {
    "to-earliest": ["--to-earliest"],
    "to-latest": ["--to-latest"],
    "to-offset": ["--to-offset", "4"],
    "to-offset-past-end": ["--to-offset", "1000"],
    "shift-back": ["--shift-by", "-3"],
    "shift-past-end": ["--shift-by", "4"],
    "to-datetime": ["--to-datetime", "MIDPOINT"],
    "to-datetime-after-all": ["--to-datetime", "2999-01-01T00:00:00.000Z"],
    "by-duration": ["--by-duration", "PT1H"],
    "from-file": ["--from-file", "PLAN"],
}
SCOPES = {
    "topic": lambda t: ["--topic", t],
    "partitions": lambda t: ["--topic", f"{t}:0,2"],
    "all-topics": lambda t: ["--all-topics"],
}


def reset_case(b, kp, topic, tmp_path, offsets=None):
    """A 3-partition topic of 10 timed records a partition and a group without members that
    has committed `offsets` ({partition: offset}; 5, 2 and 8 by default); returns (group,
    {name: spec args with MIDPOINT and PLAN filled in})."""
    create_topic(b.bootstrap, topic, 3)
    now = int(time.time() * 1000)
    first = now - 125 * MINUTE
    produce_timed(b, topic, 3, 10, first, 10 * MINUTE)
    group = f"{topic}-g"
    commit(b, group, topic, offsets or {0: 5, 1: 2, 2: 8})
    mid = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime((first + 45 * MINUTE) / 1000))
    plan = tmp_path / "plan.csv"
    plan.write_text(f"{topic},0,1\n{topic},1,7\n{topic},2,99\n")
    fill = {"MIDPOINT": f"{mid}.000Z", "PLAN": str(plan)}
    return group, {k: [fill.get(a, a) for a in v] for k, v in RESETS.items()}


def plan_rows(rows):
    return {(r[1], int(r[2])): int(r[4]) for r in rows}


def tool_plan(out):
    return {(r["TOPIC"], int(r["PARTITION"])): int(r["NEW-OFFSET"]) for r in tool_table(out)}


@on_both("reset", list(RESETS), ["to-earliest", "to-latest", "to-offset", "shift-back",
                                  "to-datetime", "by-duration", "from-file"])
def test_reset_offsets_plan_equals_kafka_dry_run(target, tool, kp, topic, tmp_path, reset):
    """For each way to say where to (and -t TOPIC), kgroups reset-offsets prints the same new
    offsets as kafka-consumer-groups --reset-offsets --dry-run with the same options, changes
    nothing without --execute, and with --execute commits exactly its plan (as Kafka's
    --describe then shows)."""
    b = target()
    group, specs = reset_case(b, kp, topic, tmp_path)
    spec = specs[reset]
    scope = [] if reset == "from-file" else ["--topic", topic]
    ours = plan_rows(kg_rows(kgroups(kp, b, "reset-offsets", *scope, *spec, group)))
    theirs = tool_plan(tool("--bootstrap-server", b.bootstrap, "--reset-offsets", "--group",
                            group, *scope, *spec, "--dry-run"))
    assert ours == theirs and len(ours) == 3, (ours, theirs)
    expected = {"to-earliest": [0, 0, 0], "to-latest": [10, 10, 10], "to-offset": [4, 4, 4],
                "to-offset-past-end": [10, 10, 10], "shift-back": [2, 0, 5],
                "shift-past-end": [9, 6, 10], "to-datetime": [5, 5, 5],
                "to-datetime-after-all": [10, 10, 10], "by-duration": [7, 7, 7],
                "from-file": [1, 7, 10]}[reset]
    assert [ours[(topic, p)] for p in range(3)] == expected

    def committed():
        return {(r["TOPIC"], int(r["PARTITION"])): int(r["CURRENT-OFFSET"]) for r in tool_table(
            tool("--bootstrap-server", b.bootstrap, "--describe", "--group", group))}
    assert committed() == {(topic, 0): 5, (topic, 1): 2, (topic, 2): 8}
    done = plan_rows(kg_rows(kgroups(kp, b, "reset-offsets", *scope, *spec, "--execute", group)))
    assert done == ours
    assert committed() == ours


@on_both("scope", list(SCOPES), list(SCOPES))
def test_reset_offsets_scopes_equal_kafka_dry_run(target, tool, kp, topic, tmp_path, scope):
    """-t TOPIC, -t TOPIC:0,2 and --all-topics select the partitions Kafka's --topic and
    --all-topics select (--all-topics: the ones the group has committed offsets for, here
    two of the three)."""
    b = target()
    group, _ = reset_case(b, kp, topic, tmp_path,
                          {0: 5, 2: 8} if scope == "all-topics" else None)
    args = [*SCOPES[scope](topic), "--shift-by", "1"]
    ours = plan_rows(kg_rows(kgroups(kp, b, "reset-offsets", *args, group)))
    theirs = tool_plan(tool("--bootstrap-server", b.bootstrap, "--reset-offsets", "--group",
                            group, *args, "--dry-run"))
    assert ours == theirs, (ours, theirs)
    want = {"topic": {0: 6, 1: 3, 2: 9}, "partitions": {0: 6, 2: 9},
            "all-topics": {0: 6, 2: 9}}[scope]
    assert ours == {(topic, p): o for p, o in want.items()}


def test_reset_offsets_export_feeds_from_file(target, kp, topic, tmp_path):
    """--export prints the plan as TOPIC,PARTITION,OFFSET lines (GROUP first for several
    groups) that --from-file takes back; --json gives the plan as objects."""
    b = target()
    group, _ = reset_case(b, kp, topic, tmp_path)
    out = kgroups(kp, b, "reset-offsets", "-t", topic, "--to-offset", "3", "--export", group).out
    assert out.splitlines() == [f"{topic},{p},3" for p in range(3)]
    (tmp_path / "exported.csv").write_text(out)
    kgroups(kp, b, "reset-offsets", "--from-file", tmp_path / "exported.csv", "--execute", group)
    (doc,) = json.loads(kgroups(kp, b, "describe", "--json", group).out)
    assert [o["current_offset"] for o in doc["offsets"]] == [3, 3, 3]
    commit(b, f"{group}2", topic, {0: 1})
    out = kgroups(kp, b, "reset-offsets", "-t", f"{topic}:0", "--to-latest", "--export", group,
                  f"{group}2").out
    assert out.splitlines() == [f"{group},{topic},0,10", f"{group}2,{topic},0,10"]
    plan = json.loads(kgroups(kp, b, "reset-offsets", "-t", f"{topic}:1", "--to-earliest",
                              "--json", group).out)
    assert plan == [{"group": group, "topic": topic, "partition": 1, "current_offset": 3,
                     "new_offset": 0}]


@on_both("kind", ["kconsume-classic", "kconsume-consumer", "confluent"], ["confluent"])
def test_reset_offsets_refused_while_group_has_members(target, tool, kp, topic, members, kind):
    """While the group has a live member, reset-offsets (dry run or --execute) exits 1 with a
    message naming the members and what to do, and commits nothing; Kafka's tool refuses the
    same group. Once the member has left, the reset goes through."""
    b = target()
    create_topic(b.bootstrap, topic, 2)
    produce(kp, b, topic, [4, 6])
    group = f"{topic}-g"
    (m,) = members(b, topic, group, kind)
    settled(kp, b, group, 1, 2)
    for extra in ([], ["--execute"]):
        p = kgroups(kp, b, "reset-offsets", "-t", topic, "--to-earliest", *extra, group, ok=False)
        assert p.returncode == 1, (p.returncode, p.out, p.err)
        assert f"kgroups: group '{group}' has 1 active member (state Stable)" in p.err, p.err
        assert "stop its consumers first" in p.err and p.out == "", p.err
    out = tool("--bootstrap-server", b.bootstrap, "--reset-offsets", "--group", group, "--topic",
               topic, "--to-earliest", "--execute")
    assert "can only be reset if the group" in out and "inactive" in out, out
    (doc,) = json.loads(kgroups(kp, b, "describe", "--json", group).out)
    assert [o["current_offset"] for o in doc["offsets"]] == [4, 6]
    m.stop()
    assert wait_for(lambda: kgroups(kp, b, "reset-offsets", "-t", topic, "--to-earliest",
                                    "--execute", group, ok=False).returncode == 0, 30 * SLOW)
    (doc,) = json.loads(kgroups(kp, b, "describe", "--json", group).out)
    assert [o["current_offset"] for o in doc["offsets"]] == [0, 0]


# ---------------------------------------------------------------- delete, delete-offsets


def test_delete_offsets_then_delete_group(target, tool, kp, topic, members):
    """delete-offsets -t removes one topic's committed offsets (Kafka's --describe no longer
    lists them, the other topic's stay); delete removes the group (gone from Kafka's --list).
    With a live member, delete is refused (NON_EMPTY_GROUP) and so is deleting the offsets
    of a topic it subscribes to (GROUP_SUBSCRIBED_TO_TOPIC), each exiting 1."""
    b = target()
    other = f"{topic}-2"
    create_topic(b.bootstrap, topic, 2)
    create_topic(b.bootstrap, other, 1)
    produce(kp, b, topic, [3, 3])
    produce(kp, b, other, [5])
    group = f"{topic}-g"
    (m,) = members(b, topic, group, "kconsume-classic")
    settled(kp, b, group, 1, 2)
    p = kgroups(kp, b, "delete", group, ok=False)
    assert p.returncode == 1 and kg_rows(p) == [[group, "NON_EMPTY_GROUP"]], (p.out, p.err)
    assert "has active members" in p.err, p.err
    p = kgroups(kp, b, "delete-offsets", "-t", topic, group, ok=False)
    assert p.returncode == 1, (p.out, p.err)
    assert kg_rows(p) == [[group, topic, str(i), "GROUP_SUBSCRIBED_TO_TOPIC"] for i in range(2)]
    m.stop()
    assert wait_for(lambda: kg_rows(kgroups(kp, b, "list"))
                    and any(r[0] == group and r[2] == "Empty"
                            for r in kg_rows(kgroups(kp, b, "list"))), 30 * SLOW)
    commit(b, group, other, {0: 2})

    p = kgroups(kp, b, "delete-offsets", "-t", topic, group)
    assert kg_rows(p) == [[group, topic, str(i), "deleted"] for i in range(2)]
    rows = tool_table(tool("--bootstrap-server", b.bootstrap, "--describe", "--group", group))
    assert [(r["TOPIC"], r["PARTITION"], r["CURRENT-OFFSET"]) for r in rows] == [(other, "0", "2")]
    p = kgroups(kp, b, "delete", group, f"{topic}-none", ok=False)
    assert p.returncode == 3, (p.out, p.err)
    assert kg_rows(p) == [[group, "deleted"], [f"{topic}-none", "GROUP_ID_NOT_FOUND"]]
    assert f"kgroups: group '{topic}-none' does not exist" in p.err
    assert group not in tool("--bootstrap-server", b.bootstrap, "--list").split()
    assert group not in [r[0] for r in kg_rows(kgroups(kp, b, "list"))]


# ---------------------------------------------------------------- lag


def test_lag_per_topic_and_watch(target, kp, topic):
    """lag prints each group's lag per topic; --watch INTERVAL -c N prints N rounds, each row
    with the time of its round, following new records; --json one document a round; an
    interrupted watch exits 0."""
    b = target()
    create_topic(b.bootstrap, topic, 3)
    produce(kp, b, topic, [10, 20, 30])
    group = f"{topic}-g"
    commit(b, group, topic, {0: 4, 1: 20, 2: 25})
    assert kg_rows(kgroups(kp, b, "lag", group)) == [[group, topic, "3", "11"]]
    rows = kg_rows(kgroups(kp, b, "lag", "--watch", "0.2", "-c", "3", group))
    assert len(rows) == 3 and all(r[1:] == [group, topic, "3", "11"] for r in rows), rows
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r[0]) for r in rows), rows
    docs = [json.loads(x) for x in kgroups(kp, b, "lag", "-w", "200ms", "-c", "2", "--json",
                                           group).out.splitlines()]
    assert len(docs) == 2 and docs[0][0]["lag"] == 11 and docs[0][0]["group"] == group, docs

    p = subprocess.Popen([str(BIN / "kgroups"), "lag", "-b", b.bootstrap, "-w", "0.2", group],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().split("\t")[4] == "11\n"
        produce(kp, b, topic, [5, 0, 0])
        deadline = time.monotonic() + 30 * SLOW
        while time.monotonic() < deadline:
            if p.stdout.readline().split("\t")[4] == "16\n":
                break
        else:
            pytest.fail("lag --watch did not show the new records")
    finally:
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30 * SLOW)
    assert p.returncode == 0, err


def test_lag_equals_kafka_lag_column(target, tool, kp, topic):
    """A group without members whose committed offsets are behind the log end on several
    partitions of two topics (one partition caught up, one never committed): kgroups
    describe's LAG of each partition is the LAG kafka-consumer-groups --describe shows, and
    kgroups lag's row of each topic (also when asked for every group, and in --json) counts
    the partitions Kafka lists for it and sums their LAG."""
    b = target()
    other = f"{topic}-2"
    create_topic(b.bootstrap, topic, 4)
    create_topic(b.bootstrap, other, 2)
    produce(kp, b, topic, [10, 20, 30, 5])
    produce(kp, b, other, [5, 7])
    group = f"{topic}-g"
    commit(b, group, topic, {0: 4, 1: 20, 2: 25})  # partition 3 never committed
    commit(b, group, other, {0: 1, 1: 3})

    theirs = {(r["TOPIC"], int(r["PARTITION"])): none(r["LAG"]) for r in tool_table(
        tool("--bootstrap-server", b.bootstrap, "--describe", "--group", group))}
    assert theirs == {(topic, 0): "6", (topic, 1): "0", (topic, 2): "5",
                      (other, 0): "4", (other, 1): "4"}, theirs
    ours = {(r[1], int(r[2])): none(r[5]) for r in kg_rows(kgroups(kp, b, "describe", group))}
    assert ours == theirs

    want = [[group, t, str(sum(1 for (tt, _) in theirs if tt == t)),
             str(sum(int(lag) for (tt, _), lag in theirs.items() if tt == t))]
            for t in sorted({t for t, _ in theirs})]
    assert want == [[group, topic, "3", "11"], [group, other, "2", "8"]]
    assert kg_rows(kgroups(kp, b, "lag", group)) == want
    assert [r for r in kg_rows(kgroups(kp, b, "lag")) if r[0] == group] == want
    assert [[d["group"], d["topic"], str(d["partitions"]), str(d["lag"])] for d in
            json.loads(kgroups(kp, b, "lag", "--json", group).out)] == want
    (state,) = kg_rows(kgroups(kp, b, "describe", "--state", group))
    assert state[7] == "19", state


# ---------------------------------------------------------------- usage


@pytest.mark.parametrize("args,message", [
    (["reset-offsets", "-t", "t", "g"], "say where to"),
    (["reset-offsets", "-t", "t", "--to-earliest", "--to-latest", "g"], "give one of"),
    (["reset-offsets", "--to-earliest", "g"], "name the partitions to reset"),
    (["reset-offsets", "-t", "t", "--all-topics", "--to-earliest", "g"], "name the partitions"),
    (["reset-offsets", "-t", "t", "--to-earliest"], "name a group"),
    (["reset-offsets", "-t", "t:x", "--to-earliest", "g"], "bad partition 'x'"),
    (["reset-offsets", "-t", "t", "--to-datetime", "yesterday", "g"], "bad date and time"),
    (["reset-offsets", "-t", "t", "--by-duration", "1h", "g"], "bad duration"),
    (["reset-offsets", "-t", "t", "--to-offset", "-1", "g"], "bad offset"),
    (["reset-offsets", "-t", "t", "--to-earliest", "--export", "--json", "g"], "exclude"),
    (["describe"], "name a group"),
    (["describe", "-a", "g"], "exclude each other"),
    (["describe", "--members", "--state", "g"], "exclude each other"),
    (["delete"], "name a group"),
    (["delete-offsets", "g"], "-t"),
    (["lag", "-c", "2"], "--watch"),
    (["lag", "-w", "soon"], "bad interval"),
    (["frobnicate"], "unknown verb"),
])
def test_usage_errors_exit_2(kp, args, message):
    """Malformed or contradictory options exit 2 with a message naming the problem, before
    any broker is asked (none listens on the -b address)."""
    p = kp.run("kgroups", *args[:1], "-b", "127.0.0.1:1", *args[1:], timeout=15) \
        if args[0] != "frobnicate" else kp.run("kgroups", *args, timeout=15)
    err = p.stderr.decode()
    assert p.returncode == 2, (p.returncode, err)
    assert err.startswith("kgroups: ") and message in err, err


def test_time_values_are_read_like_kafkas(kp, tmp_path):
    """--to-datetime takes Kafka's YYYY-MM-DDTHH:mm:SS.sss with an optional zone (none: UTC),
    --by-duration ISO-8601 durations: each accepted form gets as far as connecting."""
    for spec in (["--to-datetime", "2024-02-29T12:00:00.000"],
                 ["--to-datetime", "2024-02-29T12:00:00Z"],
                 ["--to-datetime", "2024-02-29T12:00:00.5+01:00"],
                 ["--to-datetime", "2024-02-29T12:00:00-0530"],
                 ["--by-duration", "P1DT2H3M4.5S"], ["--by-duration", "PT15M"]):
        p = kp.run("kgroups", "reset-offsets", "-b", "127.0.0.1:1", "-X",
                   "socket.connection.setup.timeout.ms=100", "-t", "t", *spec, "g", timeout=15)
        assert p.returncode == 1 and "cannot connect" in p.stderr.decode(), (spec, p.stderr)
    for bad in ("2023-02-29T12:00:00", "2024-13-01T00:00:00", "2024-01-01 00:00:00",
                "2024-01-01T25:00:00", "2024-01-01T00:00:00+1"):
        p = kp.run("kgroups", "reset-offsets", "-b", "127.0.0.1:1", "-t", "t", "--to-datetime",
                   bad, "g", timeout=15)
        assert p.returncode == 2, (bad, p.stderr)
