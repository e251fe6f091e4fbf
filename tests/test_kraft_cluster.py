"""kbroker as a member of a KRaft cluster: 3 kcontrollers and 3 kbrokers on loopback.

Each broker (node ids 11, 12, 13; process.roles=broker) replicates the metadata log as a
Raft observer, registers and heartbeats with the active controller, answers Metadata and
DescribeCluster from its image, forwards admin requests (KIP-590) and hosts the
partitions the controller assigned to it.
"""
import json
import time
from pathlib import Path

import pytest

from conftest import BUILD, SLOW, Broker, free_port, sanitizer_report, wait_for
from test_controller_quorum import CLUSTER_ID, Controller, wait_leader

confluent_kafka = pytest.importorskip("confluent_kafka")
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

KPWIRE = BUILD / "tests" / "tools" / "kpwire"
BROKER_IDS = (11, 12, 13)
SESSION_MS = 2000
CONTROLLER_OPTS = [f"broker.session.timeout.ms={SESSION_MS}", "broker.heartbeat.interval.ms=200"]


class KraftCluster:
    def __init__(self, root, controller_extra=()):
        self.root = root
        ports = [free_port() for _ in range(3)]
        self.voters = ",".join(f"{i + 1}@127.0.0.1:{p}" for i, p in enumerate(ports))
        self.controllers = [Controller(i + 1, p, self.voters, root / f"c{i + 1}",
                                       CONTROLLER_OPTS + list(controller_extra))
                            for i, p in enumerate(ports)]
        self.brokers = {}
        try:
            for nid in BROKER_IDS:
                d = root / f"b{nid}"
                d.mkdir()
                self.brokers[nid] = Broker(self.broker_overrides(nid), d)
        except BaseException:
            self.stop()  # no process outlives a failed start
            raise

    def broker_overrides(self, nid):
        return [f"node.id={nid}", f"controller.quorum.voters={self.voters}",
                "controller.listener.names=CONTROLLER", f"cluster.id={CLUSTER_ID}",
                "broker.heartbeat.interval.ms=200", f"broker.session.timeout.ms={SESSION_MS}",
                "controller.quorum.fetch.timeout.ms=1000", "num.partitions=3"]

    def running_brokers(self):
        return [b for b in self.brokers.values() if b.running]

    def stop(self):
        errors = []
        for proc in list(self.brokers.values()) + self.controllers:
            if proc.running:
                try:
                    proc.stop()
                except BaseException as e:  # noqa: BLE001 - stop the others first
                    errors.append(str(e))
                    if proc.running:
                        proc.kill9()
        return errors


@pytest.fixture
def cluster(tmp_path):
    c = KraftCluster(tmp_path)
    yield c
    check_stopped(c)


def check_stopped(c):
    errors = c.stop()
    for proc in list(c.brokers.values()) + c.controllers:
        rep = sanitizer_report(proc.stderr)
        if rep:
            errors.append(f"sanitizer report:\n{rep[:6000]}")
    if errors:
        pytest.fail("\n".join(errors))


def kpwire(kp, bootstrap, steps):
    p = kp.run(KPWIRE, bootstrap, "-", input=json.dumps(steps).encode(), timeout=60)
    lines = [json.loads(x) for x in p.stdout.decode().splitlines()]
    assert len(lines) == len(steps), f"kpwire {bootstrap}: {p.stdout!r} {p.err}"
    return [line["response"] for line in lines]


def metadata(kp, broker, topics=None):
    req = {"Topics": None if topics is None else [{"Name": t} for t in topics],
           "AllowAutoTopicCreation": False}
    return kpwire(kp, broker.bootstrap, [{"api": "Metadata", "version": 12, "request": req}])[0]


def brokers_seen(kp, broker):
    return sorted(b["NodeId"] for b in metadata(kp, broker, [])["Brokers"])


def topic_view(md, name):
    """{partition: (leader, replicas, isr)} and the topic id of `name` in a Metadata answer."""
    t = next((t for t in md["Topics"] if t["Name"] == name and t["ErrorCode"] == 0), None)
    if t is None:
        return None, None
    return {p["PartitionIndex"]: (p["LeaderId"], p["ReplicaNodes"], p["IsrNodes"])
            for p in t["Partitions"]}, t["TopicId"]


def wait_topic(kp, broker, name, partitions, timeout=15):
    def ready():
        view, tid = topic_view(metadata(kp, broker, [name]), name)
        if view and len(view) == partitions and all(v[0] >= 0 for v in view.values()):
            return view, tid
        return None
    got = wait_for(ready, timeout * SLOW, interval=0.2)
    assert got, f"{name} not in {broker.bootstrap}'s metadata: {metadata(kp, broker, [name])}"
    return got


def test_brokers_register_and_are_unfenced(cluster, kp):
    leader, _, _ = wait_leader(cluster.controllers)
    for b in cluster.brokers.values():
        assert wait_for(lambda: brokers_seen(kp, b) == list(BROKER_IDS), 15 * SLOW, 0.2), \
            f"{b.bootstrap} sees brokers {brokers_seen(kp, b)}"
        md = AdminClient({"bootstrap.servers": b.bootstrap}).list_topics(timeout=10)
        assert sorted(md.brokers) == list(BROKER_IDS)
        assert md.controller_id in BROKER_IDS  # as Kafka's brokers: a live broker forwards
        assert md.cluster_id == CLUSTER_ID
        dc = kpwire(kp, b.bootstrap, [{"api": "DescribeCluster", "version": 1,
                                       "request": {"EndpointType": 1}}])[0]
        assert dc["ErrorCode"] == 0 and dc["ClusterId"] == CLUSTER_ID
        assert sorted(x["BrokerId"] for x in dc["Brokers"]) == list(BROKER_IDS)
        assert {x["Port"] for x in dc["Brokers"]} == {x.port for x in cluster.brokers.values()}
    # the controllers know them: the active one is a voter
    assert leader in (1, 2, 3)


def test_create_produce_consume_through_leaders(cluster, kp):
    wait_leader(cluster.controllers)
    b1, b2, b3 = cluster.brokers.values()
    wait_for(lambda: brokers_seen(kp, b1) == list(BROKER_IDS), 15 * SLOW, 0.2)
    admin = AdminClient({"bootstrap.servers": b1.bootstrap})
    fs = admin.create_topics([NewTopic("spread", num_partitions=6, replication_factor=1)])
    fs["spread"].result(30)
    views = [wait_topic(kp, b, "spread", 6) for b in (b1, b2, b3)]
    assert all(v == views[0] for v in views), views       # same partitions, leaders, topic id
    view, tid = views[0]
    assert {r[0] for r in view.values()} == set(BROKER_IDS)  # spread over the three
    assert all(r[1] == [r[0]] and r[2] == [r[0]] for r in view.values())
    # a second create of the same name is refused by the controller, through broker 2
    admin2 = AdminClient({"bootstrap.servers": b2.bootstrap})
    fs = admin2.create_topics([NewTopic("spread", num_partitions=1, replication_factor=1)])
    with pytest.raises(confluent_kafka.KafkaException, match="TOPIC_ALREADY_EXISTS"):
        fs["spread"].result(30)

    p = confluent_kafka.Producer({"bootstrap.servers": b2.bootstrap, "linger.ms": 5})
    errors = []
    for i in range(600):
        p.produce("spread", key=f"k{i}", value=f"v{i}",
                  on_delivery=lambda err, msg: err and errors.append(err))
    assert p.flush(30) == 0 and not errors, errors
    c = confluent_kafka.Consumer({"bootstrap.servers": b3.bootstrap, "group.id": "unused",
                                  "enable.auto.commit": False})
    c.assign([confluent_kafka.TopicPartition("spread", i, 0) for i in range(6)])
    got = set()
    deadline = time.monotonic() + 30 * SLOW
    while len(got) < 600 and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is not None and not m.error():
            got.add(m.value().decode())
    c.close()
    assert got == {f"v{i}" for i in range(600)}

    # Produce to a broker that does not lead the partition: NOT_LEADER_OR_FOLLOWER (6)
    part, (leader, _, _) = next(iter(view.items()))
    other = next(b for nid, b in cluster.brokers.items() if nid != leader)
    resp = kpwire(kp, other.bootstrap, [{"api": "Produce", "version": 9, "request": {
        "Acks": 1, "TimeoutMs": 5000, "TopicData": [{"Name": "spread", "PartitionData": [
            {"Index": part, "Records": {"records": [{"key": "x", "value": "y"}]}}]}]}}])[0]
    assert resp["Responses"][0]["PartitionResponses"][0]["ErrorCode"] == 6

    # kproduce auto-creates through a broker (forwarded CreateTopics)
    kp.produce(b3.bootstrap, "auto-made", input=b"a\nb\nc\n")
    auto, _ = wait_topic(kp, b1, "auto-made", 3)
    out = kp.consume_all(b1.bootstrap, "auto-made")
    assert sorted(out.split()) == [b"a", b"b", b"c"]


def test_killed_broker_is_fenced(cluster, kp):
    wait_leader(cluster.controllers)
    b1 = cluster.brokers[11]
    assert wait_for(lambda: brokers_seen(kp, b1) == list(BROKER_IDS), 15 * SLOW, 0.2)
    cluster.brokers[13].kill9()
    t0 = time.monotonic()
    assert wait_for(lambda: brokers_seen(kp, b1) == [11, 12], (SESSION_MS / 1000 + 10) * SLOW,
                    0.2), brokers_seen(kp, b1)
    assert time.monotonic() - t0 >= SESSION_MS / 1000 * 0.5  # fenced by the session timeout
    cluster.brokers[13].start()
    assert wait_for(lambda: brokers_seen(kp, b1) == list(BROKER_IDS), 15 * SLOW, 0.2)


def test_restart_everything_keeps_topics_and_ids(cluster, kp):
    wait_leader(cluster.controllers)
    b1 = cluster.brokers[11]
    wait_for(lambda: brokers_seen(kp, b1) == list(BROKER_IDS), 15 * SLOW, 0.2)
    admin = AdminClient({"bootstrap.servers": b1.bootstrap})
    fs = admin.create_topics([NewTopic("kept", num_partitions=3, replication_factor=1)])
    fs["kept"].result(30)
    before = wait_topic(kp, b1, "kept", 3)
    kp.produce(b1.bootstrap, "kept", input=b"1\n2\n3\n4\n")
    assert not cluster.stop()
    for c in cluster.controllers:
        c.start()
    for b in cluster.brokers.values():
        b.start()
    wait_leader(cluster.controllers)
    for b in cluster.brokers.values():
        view, tid = wait_topic(kp, b, "kept", 3)
        assert tid == before[1]
        assert {p: v[0] for p, v in view.items()} == {p: v[0] for p, v in before[0].items()}
    assert sorted(kp.consume_all(b1.bootstrap, "kept").split()) == [b"1", b"2", b"3", b"4"]


def test_admin_requests_are_forwarded(cluster, kp):
    """DeleteTopics, CreatePartitions and AlterConfigs sent to a broker reach the controller;
    every broker then sees the change in its image (DescribeConfigs answers from it)."""
    from confluent_kafka.admin import ConfigResource, NewPartitions
    wait_leader(cluster.controllers)
    b1, b2, b3 = cluster.brokers.values()
    wait_for(lambda: brokers_seen(kp, b1) == list(BROKER_IDS), 15 * SLOW, 0.2)
    admin = AdminClient({"bootstrap.servers": b2.bootstrap})
    fs = admin.create_topics([NewTopic(t, num_partitions=3, replication_factor=1)
                              for t in ("grows", "doomed")])
    for f in fs.values():
        f.result(30)
    for b in (b1, b2, b3):
        wait_topic(kp, b, "doomed", 3)
    doomed_dirs = [d for b in (b1, b2, b3) for d in Path(b.logdir).glob("doomed-*")]
    assert len(doomed_dirs) == 3  # one partition on each broker

    admin.create_partitions([NewPartitions("grows", 5)])["grows"].result(30)
    admin.delete_topics(["doomed"])["doomed"].result(30)
    res = ConfigResource(ConfigResource.Type.TOPIC, "grows", set_config={"retention.ms": "12345"})
    admin.alter_configs([res])[res].result(30)
    for b in (b1, b2, b3):
        wait_topic(kp, b, "grows", 5)
        assert wait_for(lambda: topic_view(metadata(kp, b, None), "doomed")[0] is None,
                        10 * SLOW, 0.2)

        client = AdminClient({"bootstrap.servers": b.bootstrap})

        def retention():
            got = client.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, "grows")])
            cfg = list(got.values())[0].result(10)
            return cfg.get("retention.ms") and cfg["retention.ms"].value == "12345"
        assert wait_for(retention, 10 * SLOW, 0.2)
    assert wait_for(lambda: not any(d.exists() for d in doomed_dirs), 10 * SLOW, 0.2)


def test_consumer_group_on_the_partition_leader(cluster, kp):
    """FindCoordinator names the leader of the group's __consumer_offsets partition (the
    controller creates the topic on first use); a group consumer commits there and a
    second run through another broker continues after the committed offsets."""
    wait_leader(cluster.controllers)
    b1, b2, b3 = cluster.brokers.values()
    wait_for(lambda: brokers_seen(kp, b1) == list(BROKER_IDS), 15 * SLOW, 0.2)
    kp.produce(b1.bootstrap, "grouped", input=b"".join(b"%d\n" % i for i in range(10)))
    first = kp.consume(b2.bootstrap, "grouped", "-g", "g1", "-o", "beginning", "-e").stdout
    assert sorted(first.split(), key=int) == [b"%d" % i for i in range(10)]
    kp.produce(b1.bootstrap, "grouped", input=b"10\n11\n")
    second = kp.consume(b3.bootstrap, "grouped", "-g", "g1", "-e").stdout
    assert sorted(second.split(), key=int) == [b"10", b"11"]
    view, _ = topic_view(metadata(kp, b1, ["__consumer_offsets"]), "__consumer_offsets")
    assert view and {v[0] for v in view.values()} <= set(BROKER_IDS)


SNAPSHOTTING = ("metadata.log.max.record.bytes.between.snapshots=3000",
                "metadata.log.segment.bytes=4096")


def test_broker_behind_the_log_start_catches_up_from_a_snapshot(tmp_path, kp):
    """A broker down while the controllers snapshot the metadata log and delete the segments
    it had not fetched gets the snapshot with FetchSnapshot (KIP-630), loads its image from
    it, then the log after it: it knows every topic made meanwhile and serves them."""
    c = KraftCluster(tmp_path, SNAPSHOTTING)
    try:
        wait_leader(c.controllers)
        b11, b13 = c.brokers[11], c.brokers[13]
        assert wait_for(lambda: brokers_seen(kp, b11) == list(BROKER_IDS), 15 * SLOW, 0.2)
        b13.stop()
        admin = AdminClient({"bootstrap.servers": b11.bootstrap})
        names = [f"snap-{i:03d}" for i in range(60)]
        for f in admin.create_topics([NewTopic(n, 1, 1) for n in names]).values():
            f.result(30 * SLOW)
        meta = [ctl.datadir / "__cluster_metadata-0" for ctl in c.controllers]
        assert wait_for(lambda: all(list(d.glob("*.checkpoint")) and
                                    not (d / "00000000000000000000.log").exists() for d in meta),
                        30 * SLOW, 0.2), "the controllers took no snapshot or kept segment 0"
        b13.start()
        view, _ = wait_topic(kp, b13, names[-1], 1, timeout=30)
        assert view
        md = metadata(kp, b13)
        assert {n for n in names} <= {t["Name"] for t in md["Topics"] if t["ErrorCode"] == 0}
        assert "loading metadata snapshot" in b13.stderr
        assert list((Path(b13.logdir) / "__cluster_metadata-0").glob("*.checkpoint"))
    finally:
        check_stopped(c)


def test_java_admin_and_topic_command_create_through_any_broker(cluster, kp):
    """The Java AdminClient creates a topic through broker 12 and Kafka's TopicCommand another
    through broker 13: each is on every broker with the same id, its leaders spread over the
    three brokers; a second create is TopicExistsException; TopicCommand --describe through
    broker 11 lists each partition's leader, replicas and ISR as the Metadata answer has them;
    the Java Admin's describeCluster names the three brokers."""
    import clients
    try:
        clients.java_classes()
        clients.kafka_peer.fetch()
    except clients.PeerError as e:
        pytest.fail(f"Java peers: {e}")
    wait_leader(cluster.controllers)
    b11, b12, b13 = (cluster.brokers[i] for i in BROKER_IDS)
    assert wait_for(lambda: brokers_seen(kp, b11) == list(BROKER_IDS), 15 * SLOW, 0.2)

    p = clients.run(clients.java_cmd("KpAdmin", b12.bootstrap, "create", "by-java", 3,
                                     "create", "by-java", 3, "cluster"), "KpAdmin",
                    timeout=60 * SLOW)
    create, again, desc = clients.parse_lines(clients.ok(p, "KpAdmin").stdout)
    assert "error" not in create, create
    assert "TopicExistsException" in again.get("error", ""), again
    assert sorted(n["id"] for n in desc["nodes"]) == list(BROKER_IDS), desc

    topics = "org.apache.kafka.tools.TopicCommand"
    p = clients.run(clients.tool_cmd(topics, "--bootstrap-server", b13.bootstrap, "--create",
                                     "--topic", "by-tool", "--partitions", 3,
                                     "--replication-factor", 1), "TopicCommand",
                    timeout=60 * SLOW)
    assert clients.ok(p, "kafka-topics --create").out.splitlines()[-1] == \
        "Created topic by-tool.", p.out
    for name in ("by-java", "by-tool"):
        views = [wait_topic(kp, b, name, 3) for b in (b11, b12, b13)]
        assert all(v == views[0] for v in views), views  # same partitions, leaders and id
        assert {leader for leader, _, _ in views[0][0].values()} == set(BROKER_IDS), views[0]
        p = clients.run(clients.tool_cmd(topics, "--bootstrap-server", b11.bootstrap,
                                         "--describe", "--topic", name), "TopicCommand",
                        timeout=60 * SLOW)
        lines = [ln.split() for ln in clients.ok(p, "kafka-topics --describe").out.splitlines()]
        parts = {int(d["Partition:"]): (int(d["Leader:"]), d["Replicas:"], d["Isr:"])
                 for d in (dict(zip(ln[::2], ln[1::2])) for ln in lines[1:])}
        assert parts == {i: (leader, ",".join(map(str, reps)), ",".join(map(str, isr)))
                         for i, (leader, reps, isr) in views[0][0].items()}, p.out
