"""Apache Kafka's own command-line tools (kafka-tools 4.4.0, run from the Apache Kafka peer's
cached jars, as bin/kafka-*.sh would run them) against kbroker, and against Apache Kafka to
show the tests themselves hold.

Records go in and out with tests/peers/pypi/kpconfluent.py under this python (Debian's
confluent-kafka 1.7), which is quick to start; without null header values, which 1.7 cannot
read back (see clients.sample_records).

A tool that needs an API kbroker lacks can be marked clients.xfail_on_kbroker: an expected
failure of the kbroker run only, strict and only for that cause (clients.MissingApi, raised
when the tool reports "The node does not support API"); none is marked today.
"""
import json
import sys
import time

import pytest

import clients
from conftest import SLOW

NO_IDEMPOTENCE = "enable.idempotence=false"


@pytest.fixture(scope="session")
def tool():
    """tool(CLASS, *args, timeout=60) -> CompletedProcess (.out, .err) of a Kafka tool."""
    try:
        clients.kafka_peer.fetch()
    except clients.PeerError as e:
        pytest.fail(f"Apache Kafka jars: {e}")

    def run(main_class, *args, timeout=60):
        return clients.run(clients.tool_cmd(main_class, *args), main_class.rsplit(".", 1)[1],
                           timeout=timeout * SLOW)
    return run


def confluent(bootstrap, *args, input=b""):
    p = clients.run(clients.confluent_cmd(sys.executable, bootstrap, *args), "kpconfluent.py",
                    input=input, timeout=60 * SLOW)
    return clients.parse_lines(clients.ok(p, f"kpconfluent.py {' '.join(map(str, args))}").stdout)


def create_topic(bootstrap, topic, partitions):
    assert confluent(bootstrap, "create", topic, partitions) == [{"topic": topic, "error": None}]


def round_trip(bootstrap, topic, partitions, n=300, tag="tools"):
    """Write n records with keys and headers and read them back exactly; the delivery reports."""
    records = clients.sample_records(n, tag, null_headers=False)
    delivered = confluent(bootstrap, "produce", topic, input=clients.records_input(records))
    out = clients.run(clients.confluent_cmd(sys.executable, bootstrap, "consume", topic),
                      "kpconfluent.py consume", timeout=60 * SLOW)
    meta, got = clients.parse_records(clients.ok(out, "kpconfluent.py consume").stdout)
    clients.check_round_trip(records, delivered, meta, got, partitions)
    return delivered


TOPICS = "org.apache.kafka.tools.TopicCommand"


def test_topic_command_create_list(target, tool, topic):
    """kafka-topics --create makes a 3-partition topic that carries records with keys and
    headers; a second --create fails with TopicExistsException; --list names the topic."""
    b = target()
    p = clients.ok(tool(TOPICS, "--bootstrap-server", b.bootstrap, "--create", "--topic", topic,
                        "--partitions", 3, "--replication-factor", 1), "kafka-topics --create")
    assert p.out.splitlines()[-1] == f"Created topic {topic}.", p.out
    round_trip(b.bootstrap, topic, 3)
    p = tool(TOPICS, "--bootstrap-server", b.bootstrap, "--create", "--topic", topic,
             "--partitions", 3, "--replication-factor", 1)
    assert p.returncode == 1 and "TopicExistsException" in p.err, (p.returncode, p.out, p.err)
    p = clients.ok(tool(TOPICS, "--bootstrap-server", b.bootstrap, "--list"), "kafka-topics --list")
    assert topic in p.out.splitlines(), p.out


def test_topic_command_describe(target, tool, topic):
    """kafka-topics --describe shows the partition count and, for each partition, the
    one node as leader, replica and in-sync replica."""
    b = target()
    create_topic(b.bootstrap, topic, 3)
    p = clients.ok(tool(TOPICS, "--bootstrap-server", b.bootstrap, "--describe", "--topic", topic),
                   "kafka-topics --describe", "DESCRIBE_CONFIGS")
    lines = [ln.split() for ln in p.out.splitlines()]
    assert lines[0][:2] == ["Topic:", topic] and "PartitionCount:" in lines[0], p.out
    assert lines[0][lines[0].index("PartitionCount:") + 1] == "3", p.out
    parts = [dict(zip(ln[::2], ln[1::2])) for ln in lines[1:]]
    assert [(d["Partition:"], d["Replicas:"], d["Isr:"]) for d in parts] == \
        [(str(i), d["Leader:"], d["Leader:"]) for i, d in enumerate(parts)], p.out
    assert len(parts) == 3 and len({d["Leader:"] for d in parts}) == 1, p.out


def test_get_offset_shell(target, tool, topic):
    """300 records with keys, headers and create times one second apart go in and come back
    exactly; kafka-get-offsets gives the latest offset of each partition (its record count)
    and, for a timestamp, each partition's first offset whose record is not older (ListOffsets
    by timestamp, through the Admin client: the record, not the start of its batch)."""
    b = target()
    create_topic(b.bootstrap, topic, 3)
    n = 300
    base = int(time.time() * 1000) - 3_600_000
    records = [(b"key-%d" % (i % 17), b"value-%d" % i, [("seq", b"%d" % i)]) for i in range(n)]
    lines = [json.loads(clients.record_line(*r)) for r in records]
    for i, d in enumerate(lines):
        d["ts"] = base + i * 1000
    delivered = confluent(b.bootstrap, "produce", topic,
                          input="".join(json.dumps(d) + "\n" for d in lines).encode())
    assert [d["t"] for d in delivered] == [base + i * 1000 for i in range(n)]
    out = clients.run(clients.confluent_cmd(sys.executable, b.bootstrap, "consume", topic),
                      "kpconfluent.py consume", timeout=60 * SLOW)
    meta, got = clients.parse_records(clients.ok(out, "kpconfluent.py consume").stdout)
    clients.check_round_trip(records, delivered, meta, got, 3)
    counts = [sum(1 for d in delivered if d["p"] == p) for p in range(3)]
    assert sum(counts) == n and all(counts)
    p = clients.ok(tool("org.apache.kafka.tools.GetOffsetShell", "--bootstrap-server", b.bootstrap,
                        "--topic", topic), "kafka-get-offsets")
    assert p.out.splitlines() == [f"{topic}:{i}:{counts[i]}" for i in range(3)], p.out
    cut = n // 2
    first = [min((d["o"] for i, d in enumerate(delivered) if d["p"] == p and i >= cut))
             for p in range(3)]
    p = clients.ok(tool("org.apache.kafka.tools.GetOffsetShell", "--bootstrap-server", b.bootstrap,
                        "--topic", topic, "--time", base + cut * 1000 - 500),
                   "kafka-get-offsets --time")
    assert p.out.splitlines() == [f"{topic}:{i}:{first[i]}" for i in range(3)], p.out


def test_log_dirs_command_describe(target, tool, topic):
    """kafka-log-dirs --describe (DescribeLogDirs) names the broker's one log dir, an absolute
    path, with the topic's partitions: the one that holds records has a size, the empty one
    0, neither an offset lag."""
    b = target()
    create_topic(b.bootstrap, topic, 2)
    confluent(b.bootstrap, "produce", topic, input=b"".join(
        json.dumps({"p": 0, "v": "x" * 100}).encode() + b"\n" for _ in range(10)))
    p = clients.ok(tool("org.apache.kafka.tools.LogDirsCommand", "--bootstrap-server",
                        b.bootstrap, "--describe", "--topic-list", topic),
                   "kafka-log-dirs --describe", "DESCRIBE_LOG_DIRS")
    doc = json.loads(p.out.splitlines()[-1])
    assert doc["version"] == 1 and len(doc["brokers"]) == 1, p.out
    dirs = doc["brokers"][0]["logDirs"]
    assert len(dirs) == 1 and dirs[0]["logDir"].startswith("/") and dirs[0]["error"] is None, dirs
    parts = {d["partition"]: d for d in dirs[0]["partitions"]}
    assert sorted(parts) == [f"{topic}-0", f"{topic}-1"], dirs
    assert parts[f"{topic}-0"]["size"] > 1000 and parts[f"{topic}-1"]["size"] == 0, parts
    assert all(d["offsetLag"] == 0 and d["isFuture"] is False for d in parts.values()), parts


PERF = "org.apache.kafka.tools.ProducerPerformance"


def test_producer_performance(target, tool, topic):
    """kafka-producer-perf-test sends 20,000 monotonic payloads with round-robin keys to a
    3-partition topic; reading the topic back gives each payload once, each key in one
    partition."""
    b = target()
    create_topic(b.bootstrap, topic, 3)
    n = 20_000
    p = clients.ok(tool(PERF, "--bootstrap-server", b.bootstrap, "--topic", topic,
                        "--num-records", n, "--throughput", -1, "--payload-monotonic",
                        "--key-distribution", "range", "--record-key-range", 50,
                        "--command-property", NO_IDEMPOTENCE, "acks=all", "linger.ms=5",
                        timeout=120), "kafka-producer-perf-test")
    assert f"{n} records sent" in p.out, p.out
    out = clients.run(clients.confluent_cmd(sys.executable, b.bootstrap, "consume", topic),
                      "kpconfluent.py consume", timeout=60 * SLOW)
    meta, got = clients.parse_records(clients.ok(out, "kpconfluent.py consume").stdout)
    assert sum(meta["ends"].values()) == n
    assert sorted(int(v) for *_, v, _ in got) == list(range(n))
    where = {}
    for part, _, k, v, h in got:
        assert h == [] and k is not None
        assert where.setdefault(k, part) == part, f"key {k!r} in two partitions"
    assert len(where) == 50


def test_producer_performance_defaults(target, tool, topic):
    """kafka-producer-perf-test with the producer's default configuration (idempotent)."""
    b = target()
    p = clients.ok(tool(PERF, "--bootstrap-server", b.bootstrap, "--topic", topic,
                        "--num-records", 500, "--throughput", -1, "--record-size", 100,
                        "--command-property", "max.block.ms=10000", "delivery.timeout.ms=15000",
                        "request.timeout.ms=10000"),
                   "kafka-producer-perf-test", "INIT_PRODUCER_ID")
    assert "500 records sent" in p.out, p.out


def test_end_to_end_latency(target, tool, topic, tmp_path):
    """kafka-e2e-latency sends 200 records with keys and headers one at a time and reads each
    back (checking value, key and headers) before the next, then exits 0."""
    b = target()
    props = tmp_path / "e2e.properties"
    props.write_text(NO_IDEMPOTENCE + "\n")
    p = tool("org.apache.kafka.tools.EndToEndLatency", "--bootstrap-server", b.bootstrap,
             "--topic", topic, "--num-records", 200, "--producer-acks", "all",
             "--record-size", 100, "--record-key-size", 8, "--num-headers", 2,
             "--record-header-key-size", 5, "--record-header-size", 20,
             "--command-config", props)
    # Every record made the round trip, kbroker included; only the final commit needs a group.
    assert "Avg latency:" in p.out and "Percentiles:" in p.out, (p.out, p.err[-3000:])
    clients.ok(p, "kafka-e2e-latency", "FIND_COORDINATOR")


def test_consumer_group_command_list(target, tool):
    """kafka-consumer-groups --list runs without an error (it exits 0 even on one, so the
    output is checked)."""
    b = target()
    p = clients.ok(tool("org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
                        "--bootstrap-server", b.bootstrap, "--list"),
                   "kafka-consumer-groups --list", "LIST_GROUPS")
    assert "Error" not in p.out + p.err, p.out + p.err


def test_config_command_describe_topic(target, tool, topic):
    """kafka-configs --describe shows a config the topic was created with."""
    b = target()
    assert confluent(b.bootstrap, "create", topic, 1, "retention.ms=123456789") == \
        [{"topic": topic, "error": None}]
    p = clients.ok(tool("org.apache.kafka.tools.ConfigCommand", "--bootstrap-server", b.bootstrap,
                        "--describe", "--entity-type", "topics", "--entity-name", topic),
                   "kafka-configs --describe", "DESCRIBE_CONFIGS")
    assert f"Dynamic configs for topic {topic} are:" in p.out, p.out
    assert "retention.ms=123456789" in p.out, p.out


def test_metadata_quorum_command(target, tool):
    """kafka-metadata-quorum describe --status names a leader and the cluster id."""
    b = target()
    p = clients.ok(tool("org.apache.kafka.tools.MetadataQuorumCommand", "--bootstrap-server",
                        b.bootstrap, "describe", "--status"),
                   "kafka-metadata-quorum describe", "DESCRIBE_QUORUM")
    assert "ClusterId:" in p.out and "LeaderId:" in p.out, p.out
