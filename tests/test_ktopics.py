"""ktopics, the topic admin program, against kbroker and Apache Kafka from the same test code
(the `target` fixture), its answers compared with Kafka's own TopicCommand and ConfigCommand
(kafka-topics.sh, kafka-configs.sh, run from the Apache Kafka peer's cached jars) and
GetOffsetShell on the same cluster; and on a cluster of three kbrokers (KraftCluster) for
replication factors, in-sync and offline replicas.

ktopics prints tab-separated lines when its output is not a terminal (as here) and one JSON
document with --json; the tests read both.
"""
import json
import re
import time

import pytest

import clients
from conftest import SLOW, wait_for
from test_kafka_tools import tool  # noqa: F401 - the Kafka tools fixture

TOPICS = "org.apache.kafka.tools.TopicCommand"
CONFIGS = "org.apache.kafka.tools.ConfigCommand"
OFFSETS = "org.apache.kafka.tools.GetOffsetShell"
SOURCES = {"DYNAMIC_TOPIC_CONFIG": "topic", "DYNAMIC_BROKER_CONFIG": "broker",
           "DYNAMIC_DEFAULT_BROKER_CONFIG": "broker-default",
           "STATIC_BROKER_CONFIG": "broker-static", "DEFAULT_CONFIG": "default"}


def kt(kp, b, verb, *args, rc=0, timeout=60):
    """ktopics VERB -b BOOTSTRAP ARGS; asserts the exit status (None: any)."""
    p = kp.run("ktopics", verb, "-b", b.bootstrap, *args, timeout=timeout)
    p.out = p.stdout.decode()
    if rc is not None:
        assert p.returncode == rc, f"ktopics {verb} {args}: exit {p.returncode}\n{p.err}"
    return p


def rows(p):
    """The tab-separated lines of ktopics' output, split."""
    return [line.split("\t") for line in p.out.splitlines()]


def described(kp, b, *topics):
    """{topic: its --json description} (partitions and configs)."""
    p = kt(kp, b, "describe", "--json", *topics, rc=None)
    assert p.out, f"ktopics describe --json: exit {p.returncode}\n{p.err}"
    doc = json.loads(p.out)
    return {t["topic"]: t for t in doc["topics"]}


def wait_partitions(kp, b, topic, n):
    """Wait until `topic` has n partitions, each with a leader (a new topic may take a moment)."""
    def ready():
        t = described(kp, b, topic).get(topic)
        ok = t and len(t["partitions"]) == n and all(p["leader"] is not None
                                                     for p in t["partitions"])
        return t if ok else None
    t = wait_for(ready, 20 * SLOW, 0.2)
    assert t, f"{topic} has no {n} partitions with leaders: {described(kp, b, topic)}"
    return t


def topic_command(tool, b, topic, *extra):
    """kafka-topics --describe [EXTRA]: (header fields or None, {partition: fields});
    Configs split."""
    p = clients.ok(tool(TOPICS, "--bootstrap-server", b.bootstrap, "--describe", "--topic", topic,
                        *extra), "kafka-topics --describe")
    head, parts = None, {}
    for line in p.out.splitlines():
        fields = {}
        for f in line.strip().split("\t"):
            k, _, v = f.partition(":")
            fields[k.strip()] = v.strip()
        if "Partition" in fields:
            parts[int(fields["Partition"])] = fields
        elif "PartitionCount" in fields:
            head = fields
    if not head:
        return None, parts
    configs = re.split(r",(?=[a-z0-9.]+=)", head.get("Configs", "")) if head.get("Configs") else []
    head["Configs"] = dict(c.split("=", 1) for c in configs)
    return head, parts


def config_command(tool, b, topic):
    """kafka-configs --describe --all: {name: (value, source)}, the source being the first
    synonym's (none: default), as ktopics names them."""
    p = clients.ok(tool(CONFIGS, "--bootstrap-server", b.bootstrap, "--describe", "--all",
                        "--entity-type", "topics", "--entity-name", topic),
                   "kafka-configs --describe --all")
    out = {}
    for line in p.out.splitlines():
        m = re.fullmatch(r"  ([^=]+)=(.*) sensitive=(true|false) synonyms=\{(.*)\}", line)
        if m:
            first = m.group(4).split(":", 1)[0] if m.group(4) else "DEFAULT_CONFIG"
            out[m.group(1)] = (m.group(2), SOURCES[first])
    assert out, p.out
    return out


def ids(s):
    return [int(x) for x in s.split(",") if x] if s and s != "-" else []


def check_like_topic_command(t, head, parts):
    """ktopics' description `t` (JSON) says what kafka-topics --describe says."""
    assert head["Topic"] == t["topic"] and head["TopicId"] == t["topic_id"]
    assert int(head["PartitionCount"]) == len(t["partitions"]) == len(parts)
    for p in t["partitions"]:
        tc = parts[p["partition"]]
        assert int(tc["Leader"]) == (p["leader"] if p["leader"] is not None else -1), (tc, p)
        assert ids(tc["Replicas"]) == p["replicas"], (tc, p)
        assert ids(tc["Isr"]) == p["isr"], (tc, p)
    own = {c["name"]: c["value"] for c in t["configs"] if c["source"] != "default"}
    assert own == head["Configs"], (own, head["Configs"])


# ---------------------------------------------------------------- create and describe


def test_create_describe_like_topic_command(target, tool, kp, topic):
    """create -p 3 -c makes the topic; describe (table and JSON) shows what kafka-topics
    --describe shows for it: partitions, leaders, replicas, ISR, the configs not at their
    default; new partitions start and end at offset 0, and after records their end moves."""
    b = target()
    assert kt(kp, b, "create", "-p", 3, "-c", "retention.ms=123456789", "-c",
              "cleanup.policy=compact, delete", topic).out == ""
    t = wait_partitions(kp, b, topic, 3)
    assert [(p["log_start_offset"], p["log_end_offset"]) for p in t["partitions"]] == [(0, 0)] * 3
    head, parts = topic_command(tool, b, topic)
    check_like_topic_command(t, head, parts)
    assert head["Configs"]["retention.ms"] == "123456789"
    assert head["Configs"]["cleanup.policy"] == "compact,delete"

    kp.produce(b.bootstrap, topic, "-p", 1, "-k", ":", input=b"1:a\n2:b\n3:c\n")  # compacted
    lines = rows(kt(kp, b, "describe", topic))
    assert [r[0] for r in lines] == [topic] * 3 and [r[1] for r in lines] == ["0", "1", "2"]
    leader = [str(p["leader"]) for p in t["partitions"]]
    assert [r[2] for r in lines] == leader
    assert [r[3:8] for r in lines] == [[leader[0], leader[0], "-", "0", "0"],
                                       [leader[1], leader[1], "-", "0", "3"],
                                       [leader[2], leader[2], "-", "0", "0"]]


def test_create_errors_and_options(target, kp, topic):
    """A topic that exists is an error (exit 1) unless --if-not-exists; with several named,
    the others are still created (exit 3); --validate-only creates nothing; the broker's
    refusals (an invalid config value, an invalid name) come back by name; defaults apply
    without -p and -r."""
    b = target()
    kt(kp, b, "create", topic)
    p = kt(kp, b, "create", topic, rc=1)
    assert f"ktopics: cannot create topic '{topic}': TOPIC_ALREADY_EXISTS" in p.err, p.err
    kt(kp, b, "create", "--if-not-exists", topic)
    p = kt(kp, b, "create", topic, f"{topic}-new", rc=3)
    assert "TOPIC_ALREADY_EXISTS" in p.err and f"{topic}-new'" not in p.err
    kt(kp, b, "create", "--validate-only", "-p", 2, f"{topic}-checked")
    p = kt(kp, b, "create", "-c", "retention.ms=soon", f"{topic}-bad", rc=1)
    assert "INVALID_CONFIG" in p.err, p.err
    p = kt(kp, b, "create", "bad name!", rc=1)
    assert "INVALID_TOPIC_EXCEPTION" in p.err, p.err
    listed = [r[0] for r in rows(kt(kp, b, "list", f"{topic}*"))]
    assert listed == [topic, f"{topic}-new"], listed
    t = wait_partitions(kp, b, topic, 1)
    assert [p["replicas"] for p in t["partitions"]] == [[t["partitions"][0]["leader"]]]
    p = kt(kp, b, "create", "--json", "--if-not-exists", topic, f"{topic}-j")
    assert json.loads(p.out) == [
        {"topic": topic, "error": "TOPIC_ALREADY_EXISTS",
         "message": json.loads(p.out)[0]["message"]},
        {"topic": f"{topic}-j", "error": None, "message": None}]


def test_create_with_assignment(target, kp, topic):
    """-a places each partition's replicas explicitly (here all on the one node there is)."""
    b = target()
    kt(kp, b, "create", "-p", 1, f"{topic}-probe")
    nid = wait_partitions(kp, b, f"{topic}-probe", 1)["partitions"][0]["leader"]
    kt(kp, b, "create", "-a", f"{nid},{nid},{nid}", topic)
    t = wait_partitions(kp, b, topic, 3)
    assert [p["replicas"] for p in t["partitions"]] == [[nid]] * 3, t
    p = kt(kp, b, "create", "-a", f"{nid}:{nid + 100}", f"{topic}-x", rc=1)
    assert "INVALID_REPLICA_ASSIGNMENT" in p.err or "BROKER_NOT_AVAILABLE" in p.err, p.err


# ---------------------------------------------------------------- list


def test_list_like_topic_command(target, tool, kp, topic):
    """list gives the names one a line, sorted, without internal topics unless --internal
    (which then lists what kafka-topics --list lists); patterns are shell globs."""
    b = target()
    for name in (f"{topic}-b", f"{topic}-a", f"{topic}-c"):
        kt(kp, b, "create", name)
    kp.consume(b.bootstrap, f"{topic}-a", "-g", f"{topic}-group", "-e", "-o", "beginning")
    assert kt(kp, b, "list", f"{topic}-*").out.split("\n")[:-1] == \
        [f"{topic}-a", f"{topic}-b", f"{topic}-c"]
    assert kt(kp, b, "list", f"{topic}-[ab]", f"{topic}-c").out.split() == \
        [f"{topic}-a", f"{topic}-b", f"{topic}-c"]
    names = kt(kp, b, "list").out.split()
    assert names == sorted(names) and "__consumer_offsets" not in names
    everything = kt(kp, b, "list", "--internal").out.split()
    assert "__consumer_offsets" in everything
    p = clients.ok(tool(TOPICS, "--bootstrap-server", b.bootstrap, "--list"), "kafka-topics --list")
    assert sorted(p.out.split()) == everything
    assert json.loads(kt(kp, b, "list", "--json", f"{topic}-a").out) == [{"topic": f"{topic}-a"}]


# ---------------------------------------------------------------- configs


def test_configs_like_config_command(target, tool, kp, topic):
    """describe --configs gives every config of the topic with its value and source as
    kafka-configs --describe --all has them (configs Kafka 4 added, such as the compression
    levels, included); alter -c sets and -d deletes a config one by one, the others
    staying."""
    b = target()
    kt(kp, b, "create", "-c", "retention.ms=1000000", "-c", "min.cleanable.dirty.ratio=1",
       "-c", "preallocate=TRUE", "-c", "compression.zstd.level=5", topic)
    wait_partitions(kp, b, topic, 1)

    def ours():
        got = {r[1]: (r[2] if r[2] != "-" else "", r[3]) for r in
               rows(kt(kp, b, "describe", "--configs", topic))}
        assert all(r[0] == topic for r in rows(kt(kp, b, "describe", "--configs", topic)))
        return got

    mine, theirs = ours(), config_command(tool, b, topic)
    assert mine == theirs
    assert mine["retention.ms"] == ("1000000", "topic")
    assert mine["min.cleanable.dirty.ratio"] == ("1.0", "topic")
    assert mine["preallocate"] == ("true", "topic")
    assert mine["compression.zstd.level"] == ("5", "topic")  # a Kafka 4 config
    assert mine["segment.bytes"] == ("1073741824", "default")
    assert len(mine) > 30

    assert kt(kp, b, "alter", "-c", "segment.ms=7200000", "-d", "retention.ms", topic).out == ""
    mine = wait_for(lambda: (lambda c: c if c["segment.ms"][1] == "topic" else None)(ours()),
                    10 * SLOW, 0.2)
    assert mine == config_command(tool, b, topic)
    assert mine["segment.ms"] == ("7200000", "topic")
    assert mine["retention.ms"] == ("604800000", "default")
    assert mine["preallocate"] == ("true", "topic")
    t = described(kp, b, topic)[topic]
    seg = next(c for c in t["configs"] if c["name"] == "segment.ms")
    assert seg["synonyms"] == [{"name": "segment.ms", "value": "7200000", "source": "topic"}]


def config_synonyms(tool, b, topic, name):
    """kafka-configs --describe --all: the synonyms of config `name` of `topic`, each as
    {"name", "value", "source"} with the source as ktopics names it."""
    p = clients.ok(tool(CONFIGS, "--bootstrap-server", b.bootstrap, "--describe", "--all",
                        "--entity-type", "topics", "--entity-name", topic),
                   "kafka-configs --describe --all")
    for line in p.out.splitlines():
        m = re.fullmatch(r"  ([^=]+)=(.*) sensitive=(true|false) synonyms=\{(.*)\}", line)
        if m and m.group(1) == name:
            out = []
            for syn in re.split(r", (?=[A-Z_]+:)", m.group(4)) if m.group(4) else []:
                source, _, kv = syn.partition(":")
                k, _, v = kv.partition("=")
                out.append({"name": k, "value": v, "source": SOURCES[source]})
            return out
    pytest.fail(f"kafka-configs shows no {name} for {topic}:\n{p.out}")


def test_broker_config_source_like_config_command(target, tool, kp, topic):
    """On a broker started with log.retention.ms=12345678 (a static broker setting: Kafka's
    STATIC_BROKER_CONFIG, ktopics' broker-static), describe --configs shows a topic's
    retention.ms with that value and that source, and one with its own retention.ms as
    topic; every config's value and source, and retention.ms's synonyms in order, are what
    kafka-configs --describe --all shows."""
    b = target("log.retention.ms=12345678")
    own = f"{topic}-own"
    kt(kp, b, "create", topic)
    kt(kp, b, "create", "-c", "retention.ms=1000", own)
    wait_partitions(kp, b, topic, 1)
    wait_partitions(kp, b, own, 1)

    for name, want in ((topic, ("12345678", "broker-static")), (own, ("1000", "topic"))):
        mine = {r[1]: (r[2] if r[2] != "-" else "", r[3]) for r in
                rows(kt(kp, b, "describe", "--configs", name))}
        assert mine["retention.ms"] == want, mine["retention.ms"]
        assert mine == config_command(tool, b, name)
        t = described(kp, b, name)[name]
        ret = next(c for c in t["configs"] if c["name"] == "retention.ms")
        assert (ret["value"], ret["source"]) == want, ret
        theirs = config_synonyms(tool, b, name, "retention.ms")
        assert ret["synonyms"] == theirs, (ret["synonyms"], theirs)
        assert ret["synonyms"][-2:] == [
            {"name": "log.retention.ms", "value": "12345678", "source": "broker-static"},
            {"name": "log.retention.hours", "value": "168", "source": "default"}], ret


# ---------------------------------------------------------------- many partitions


def test_describe_pages_past_2000_partitions(target, tool, kp, topic):
    """A topic of 2,100 partitions, more than the 2,000 ktopics asks DescribeTopicPartitions
    for a page, followed by a topic of 3: describe (table and JSON) lists every partition
    once and in order, the second topic's after the first's, as kafka-topics --describe has
    them."""
    b = target()
    big, small = f"{topic}-a", f"{topic}-b"
    kt(kp, b, "create", "-p", 2100, big, timeout=120)
    kt(kp, b, "create", "-p", 3, small)

    def led():
        t = described(kp, b, big)[big]
        return len(t["partitions"]) == 2100 and all(p["leader"] is not None
                                                    for p in t["partitions"])
    assert wait_for(led, 120 * SLOW, 1), "2100 partitions with leaders"
    wait_partitions(kp, b, small, 3)
    want = [(big, i) for i in range(2100)] + [(small, i) for i in range(3)]
    lines = rows(kt(kp, b, "describe", big, small))
    assert [(r[0], int(r[1])) for r in lines] == want
    assert all(r[2] != "-" and r[6:8] == ["0", "0"] for r in lines), \
        [r for r in lines if r[2] == "-" or r[6:8] != ["0", "0"]][:5]
    d = described(kp, b, big, small)
    assert [(n, p["partition"]) for n in (big, small) for p in d[n]["partitions"]] == want
    head, parts = topic_command(tool, b, big)
    check_like_topic_command(d[big], head, parts)


# ---------------------------------------------------------------- alter partitions


def test_alter_partitions(target, tool, kp, topic):
    """alter -p grows a topic (kafka-topics agrees); a count that is no increase is
    INVALID_PARTITIONS; --validate-only changes nothing; with two topics one of which fails,
    the other is changed (exit 3)."""
    b = target()
    kt(kp, b, "create", "-p", 2, topic)
    kt(kp, b, "create", "-p", 5, f"{topic}-big")
    wait_partitions(kp, b, topic, 2)
    kt(kp, b, "alter", "-p", 4, "--validate-only", topic)
    assert len(described(kp, b, topic)[topic]["partitions"]) == 2
    kt(kp, b, "alter", "-p", 4, topic)
    t = wait_partitions(kp, b, topic, 4)
    head, parts = topic_command(tool, b, topic)
    check_like_topic_command(t, head, parts)
    p = kt(kp, b, "alter", "-p", 3, topic, rc=1)
    assert f"cannot alter topic '{topic}': INVALID_PARTITIONS" in p.err, p.err
    p = kt(kp, b, "alter", "-p", 4, f"{topic}-big", f"{topic}-more", rc=None)
    assert p.returncode == 1, p.err  # neither: 5 > 4 and the other does not exist
    p = kt(kp, b, "alter", "-p", 6, f"{topic}-big", f"{topic}-none", rc=3)
    assert "UNKNOWN_TOPIC_OR_PARTITION" in p.err, p.err
    wait_partitions(kp, b, f"{topic}-big", 6)


# ---------------------------------------------------------------- delete


def test_delete(target, tool, kp, topic):
    """delete removes topics (quietly, exit 0); a missing one is an error unless
    --if-exists (which still deletes the ones that exist); a missing one beside an existing
    one is exit 3; describe then says it is unknown. After each delete kafka-topics --list
    lists what ktopics list --internal lists: the deleted topics gone, the others there."""
    b = target()
    mine = [f"{topic}-{i}" for i in range(1, 5)]
    for name in mine:
        kt(kp, b, "create", name)

    def left(*names):
        """Wait until ktopics lists exactly `names` of ours; then kafka-topics --list must
        list what ktopics list --internal lists, ours included."""
        assert wait_for(lambda: kt(kp, b, "list", f"{topic}-*").out.split() == list(names),
                        20 * SLOW, 0.2), kt(kp, b, "list", f"{topic}-*").out
        everything = kt(kp, b, "list", "--internal").out.split()
        p = clients.ok(tool(TOPICS, "--bootstrap-server", b.bootstrap, "--list"),
                       "kafka-topics --list")
        assert sorted(p.out.split()) == everything, (p.out, everything)
        assert [n for n in everything if n in mine] == list(names), everything

    left(*mine)
    assert kt(kp, b, "delete", f"{topic}-1", f"{topic}-2").out == ""
    left(f"{topic}-3", f"{topic}-4")
    p = kt(kp, b, "delete", f"{topic}-1", rc=1)
    assert f"cannot delete topic '{topic}-1': UNKNOWN_TOPIC_OR_PARTITION" in p.err, p.err
    assert kt(kp, b, "delete", "--if-exists", f"{topic}-1").out == ""
    left(f"{topic}-3", f"{topic}-4")
    assert kt(kp, b, "delete", "--if-exists", f"{topic}-2", f"{topic}-4").out == ""
    left(f"{topic}-3")
    kt(kp, b, "delete", f"{topic}-3", f"{topic}-1", rc=3)
    left()
    p = kt(kp, b, "describe", f"{topic}-3", rc=1)
    assert "UNKNOWN_TOPIC_OR_PARTITION" in p.err, p.err


# ---------------------------------------------------------------- delete-records


def test_delete_records(target, tool, kp, topic):
    """delete-records --before moves a partition's log start offset (kafka-get-offsets
    --time -2 and a consumer from the beginning agree); --before=end empties it; an offset
    past the end is OFFSET_OUT_OF_RANGE; without -p every partition is cut."""
    b = target()
    kt(kp, b, "create", "-p", 2, topic)
    wait_partitions(kp, b, topic, 2)
    kp.produce(b.bootstrap, topic, "-p", 0, input=b"".join(b"%d\n" % i for i in range(10)))
    kp.produce(b.bootstrap, topic, "-p", 1, input=b"x\ny\n")
    assert rows(kt(kp, b, "delete-records", "--before=4", "-p", 0, topic)) == [[topic, "0", "4"]]
    t = described(kp, b, topic)[topic]
    assert [(p["log_start_offset"], p["log_end_offset"]) for p in t["partitions"]] == \
        [(4, 10), (0, 2)]
    p = clients.ok(tool(OFFSETS, "--bootstrap-server", b.bootstrap, "--topic", topic,
                        "--time", -2), "kafka-get-offsets --time -2")
    assert p.out.split() == [f"{topic}:0:4", f"{topic}:1:0"], p.out
    assert kp.consume_all(b.bootstrap, topic, "-p", 0) == b"4\n5\n6\n7\n8\n9\n"
    p = kt(kp, b, "delete-records", "--before=11", "-p", 0, topic, rc=1)
    assert f"topic '{topic}' partition 0: OFFSET_OUT_OF_RANGE" in p.err, p.err
    p = kt(kp, b, "delete-records", "--before=6", topic, rc=3)  # partition 1 has 2 records
    assert rows(p) == [[topic, "0", "6"]] and "partition 1: OFFSET_OUT_OF_RANGE" in p.err
    assert rows(kt(kp, b, "delete-records", "--before=end", topic)) == \
        [[topic, "0", "10"], [topic, "1", "2"]]
    assert kp.consume_all(b.bootstrap, topic) == b""
    p = kt(kp, b, "delete-records", "--before=0", f"{topic}-none", rc=1)
    assert "UNKNOWN_TOPIC_OR_PARTITION" in p.err, p.err


# ---------------------------------------------------------------- output and usage


def test_json_documents(target, kp, topic):
    """--json prints one document: describe's has the topic id, partitions and configs with
    their synonyms; a failed topic is left out of it, and said on stderr."""
    b = target()
    kt(kp, b, "create", "-p", 2, "-c", "retention.ms=1000", topic)
    t = wait_partitions(kp, b, topic, 2)
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", t["topic_id"]) and t["internal"] is False
    assert set(t["partitions"][0]) == {"partition", "leader", "leader_epoch", "replicas", "isr",
                                       "offline", "log_start_offset", "log_end_offset", "error"}
    ret = next(c for c in t["configs"] if c["name"] == "retention.ms")
    assert ret["value"] == "1000" and ret["source"] == "topic" and ret["synonyms"][0] == \
        {"name": "retention.ms", "value": "1000", "source": "topic"}
    p = kt(kp, b, "describe", "--json", topic, f"{topic}-none", rc=3)
    assert [x["topic"] for x in json.loads(p.out)["topics"]] == [topic]
    assert f"topic '{topic}-none': UNKNOWN_TOPIC_OR_PARTITION" in p.err


@pytest.mark.parametrize("args, message", [
    (["create"], "name at least one topic"),
    (["create", "-p", "0", "t"], "bad partition count"),
    (["create", "-a", "1:2,3", "t"], "same number of replicas"),
    (["create", "-a", "1", "-r", "1", "t"], "-a cannot go with -p or -r"),
    (["create", "-p", "2", "-a", "1", "t"], "-a cannot go with -p or -r"),
    (["create", "-c", "retention.ms", "t"], "want KEY=VALUE"),
    (["alter", "t"], "nothing to change"),
    (["delete"], "name at least one topic"),
    (["delete-records", "t"], "--before"),
    (["delete-records", "--before=soon", "t"], "bad offset"),
    (["rename", "t"], "unknown verb"),
])
def test_usage_errors(kp, bin_dir, args, message):
    """Bad usage exits 2 with a message before any broker is asked."""
    p = kp.run("ktopics", *args, "-b", "127.0.0.1:1") if args[0] != "rename" else \
        kp.run("ktopics", *args)
    assert p.returncode == 2 and message in p.err, (p.returncode, p.err)


def bootstrap_args(prog, topic, group):
    """A command line of `prog` without -b that reads (or, kproduce, writes) `topic` (kgroups:
    describes `group`), for test_bootstrap_from_environment_and_file."""
    return {"ktopics": ["list", topic],
            "kproduce": ["-t", topic],
            "kconsume": ["-t", topic, "-o", "beginning", "-e"],
            "kgroups": ["describe", group]}[prog]


def check_bootstrap_output(prog, p, topic, group):
    """What bootstrap_args' command prints when it found the broker."""
    out = p.stdout.decode()
    assert p.returncode == 0, f"{prog}: exit {p.returncode}\n{p.stderr.decode()}"
    if prog == "ktopics":
        assert out.split() == [topic], out
    elif prog == "kconsume":
        assert out.splitlines()[0] == "first", out
    elif prog == "kgroups":
        assert [r.split("\t")[:2] for r in out.splitlines()] == [[group, topic]], out


@pytest.mark.parametrize("prog", ["ktopics", "kproduce", "kconsume", "kgroups"])
def test_bootstrap_from_environment_and_file(target, kp, topic, tmp_path, prog):
    """Without -b every client program takes the bootstrap brokers from bootstrap.servers in a
    -F file (before the environment), else from KAFKA_BOOTSTRAP_SERVERS."""
    import os
    import subprocess
    import confluent_kafka as ck
    from conftest import BIN, sanitizer_report
    b = target()
    group = f"{topic}-group"
    kt(kp, b, "create", topic)
    kp.produce(b.bootstrap, topic, input=b"first\n")
    if prog == "kgroups":
        c = ck.Consumer({"bootstrap.servers": b.bootstrap, "group.id": group,
                         "enable.auto.commit": False})
        try:
            c.commit(offsets=[ck.TopicPartition(topic, 0, 1)], asynchronous=False)
        finally:
            c.close()

    def run(env_servers, *extra):
        env = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=env_servers)
        p = subprocess.run([str(BIN / prog), *bootstrap_args(prog, topic, group), *map(str, extra)],
                           env=env, input=b"more\n", capture_output=True, timeout=60 * SLOW)
        assert not sanitizer_report(p.stderr.decode(errors="replace")), p.stderr
        return p

    check_bootstrap_output(prog, run(b.bootstrap), topic, group)
    props = tmp_path / "client.properties"
    props.write_text(f"bootstrap.servers={b.bootstrap}\nclient.id={prog}-test\n")
    # nothing listens on port 1: only the file's bootstrap.servers reaches the broker
    check_bootstrap_output(prog, run("127.0.0.1:1", "-F", props), topic, group)
    if prog == "kproduce":
        assert kp.consume_all(b.bootstrap, topic) == b"first\nmore\nmore\n"


def test_no_broker(kp, bin_dir):
    """No broker at the address: exit 1 with a message naming it."""
    p = kp.run("ktopics", "list", "-b", "127.0.0.1:1", "-X", "socket.connection.setup.timeout.ms=500")
    assert p.returncode == 1 and "127.0.0.1:1" in p.err, p.err


# ---------------------------------------------------------------- a cluster of three kbrokers


def test_cluster_replicas_isr_and_offline(tmp_path, kp, tool):
    """On three kbrokers: create -r 3 and -a place replicas on all of them; describe shows
    the ISR; after a broker is killed and fenced it shows that broker offline and out of the
    ISR, and the leaders moved, as kafka-topics --describe (and its
    --under-replicated-partitions) has them on the same cluster; a replication factor above
    the brokers alive is INVALID_REPLICATION_FACTOR."""
    from test_kraft_cluster import BROKER_IDS, SESSION_MS, KraftCluster, check_stopped, \
        wait_leader
    c = KraftCluster(tmp_path)
    try:
        wait_leader(c.controllers)
        b = c.brokers[11]
        assert wait_for(lambda: kt(kp, b, "list", rc=None).returncode == 0, 20 * SLOW, 0.5)
        kt(kp, b, "create", "-p", 3, "-r", 3, "rf3")
        kt(kp, b, "create", "-a", "13:11,12:13", "placed")
        t = wait_partitions(kp, b, "rf3", 3)
        assert all(sorted(p["replicas"]) == list(BROKER_IDS) and sorted(p["isr"]) ==
                   list(BROKER_IDS) and p["offline"] == [] for p in t["partitions"]), t
        placed = wait_partitions(kp, b, "placed", 2)
        assert [p["replicas"] for p in placed["partitions"]] == [[13, 11], [12, 13]]
        assert [p["leader"] for p in placed["partitions"]] == [13, 12]
        head, parts = topic_command(tool, b, "rf3")
        check_like_topic_command(t, head, parts)

        c.brokers[13].kill9()

        def fenced():
            d = described(kp, b, "rf3", "placed")
            ok = all(p["offline"] == [13] and 13 not in p["isr"] and p["leader"] != 13
                     for t in d.values() for p in t["partitions"])
            return d if ok else None
        d = wait_for(fenced, (SESSION_MS / 1000 + 20) * SLOW, 0.5)
        assert d, described(kp, b, "rf3", "placed")
        assert [p["leader"] for p in d["placed"]["partitions"]] == [11, 12]
        lines = rows(kt(kp, b, "describe", "placed"))
        assert [r[5] for r in lines] == ["13", "13"]
        for name in ("rf3", "placed"):
            head, parts = topic_command(tool, b, name)
            check_like_topic_command(d[name], head, parts)
            _, under = topic_command(tool, b, name, "--under-replicated-partitions")
            assert sorted(under) == [p["partition"] for p in d[name]["partitions"]
                                     if len(p["isr"]) < len(p["replicas"])] == \
                [p["partition"] for p in d[name]["partitions"] if p["offline"]], under
        p = kt(kp, b, "create", "-r", 3, "--validate-only", "rf3-again", rc=1)
        assert "INVALID_REPLICATION_FACTOR" in p.err, p.err
    finally:
        check_stopped(c)
