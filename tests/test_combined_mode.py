"""kbroker in Kafka's combined mode (process.roles=broker,controller): the process runs a
voter of the metadata quorum and its controller (the same code as kcontroller) on its
controller listener, and registers with it over that listener as any broker would.

One combined node is a whole cluster; three of them are a cluster whose controller
survives the loss of any one.
"""
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import SLOW, Broker, free_port, wait_for
from test_controller_quorum import CLUSTER_ID, describe_quorum
from test_kraft_cluster import brokers_seen, metadata, wait_topic

confluent_kafka = pytest.importorskip("confluent_kafka")
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402


def combined(tmp_path, nid, port, cport, voters):
    d = tmp_path / f"n{nid}"
    d.mkdir()
    return Broker([f"node.id={nid}", "process.roles=broker,controller",
                   f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}",
                   "controller.listener.names=CONTROLLER", f"controller.quorum.voters={voters}",
                   f"cluster.id={CLUSTER_ID}", "broker.heartbeat.interval.ms=200",
                   "broker.session.timeout.ms=2000", "controller.quorum.election.timeout.ms=500",
                   "controller.quorum.fetch.timeout.ms=1000", "num.partitions=3"], d, port=port)


def test_one_combined_node_is_a_cluster(tmp_path, kp):
    port, cport = free_port(), free_port()
    b = combined(tmp_path, 1, port, cport, f"1@127.0.0.1:{cport}")
    try:
        assert wait_for(lambda: brokers_seen(kp, b) == [1], 15 * SLOW, 0.1)
        q = describe_quorum(cport)
        assert q and q["leader"] == 1 and list(q["voters"]) == [1], q
        kp.produce(b.bootstrap, "t", input=b"".join(b"%d\n" % i for i in range(100)))
        out = kp.consume(b.bootstrap, "t", "-o", "beginning", "-e").stdout
        assert sorted(out.split()) == sorted(b"%d" % i for i in range(100))
        t0 = time.monotonic()
        b.stop()  # SIGTERM: a controlled shutdown with nowhere to move leaders ends at once
        assert time.monotonic() - t0 < 5 * SLOW
        b.start()
        assert wait_for(lambda: brokers_seen(kp, b) == [1], 15 * SLOW, 0.1)
        assert describe_quorum(cport)["epoch"] >= q["epoch"]
        out = kp.consume(b.bootstrap, "t", "-o", "beginning", "-e").stdout
        assert sorted(out.split()) == sorted(b"%d" % i for i in range(100))
    finally:
        b.stop()
    b.check_sanitizer()


def quorum_leader(cports):
    for p in cports:
        q = describe_quorum(p)
        if q and q["error"] == 0 and q["leader"] >= 0:
            return q["leader"], q["epoch"]
    return None


def test_three_combined_nodes_survive_the_loss_of_the_active_controller(tmp_path, kp):
    ports, cports = [free_port() for _ in range(3)], [free_port() for _ in range(3)]
    voters = ",".join(f"{i + 1}@127.0.0.1:{cp}" for i, cp in enumerate(cports))
    nodes = []
    try:
        # started together: a node listens for clients only once a quorum elected a leader
        with ThreadPoolExecutor(3) as pool:
            nodes = list(pool.map(lambda i: combined(tmp_path, i + 1, ports[i], cports[i],
                                                      voters), range(3)))
        assert wait_for(lambda: all(brokers_seen(kp, n) == [1, 2, 3] for n in nodes),
                        20 * SLOW, 0.2), [brokers_seen(kp, n) for n in nodes]
        leader, epoch = wait_for(lambda: quorum_leader(cports), 10 * SLOW, 0.1)
        admin = AdminClient({"bootstrap.servers": nodes[0].bootstrap})
        admin.create_topics([NewTopic("before", 3, 1)])["before"].result(30 * SLOW)
        view, _ = wait_topic(kp, nodes[0], "before", 3)
        assert {v[0] for v in view.values()} == {1, 2, 3}  # spread over the three brokers

        nodes[leader - 1].kill9()
        alive = [n for i, n in enumerate(nodes) if i != leader - 1]
        alive_cports = [cp for i, cp in enumerate(cports) if i != leader - 1]
        new = wait_for(lambda: (lambda q: q if q and q[0] != leader else None)(
            quorum_leader(alive_cports)), 15 * SLOW, 0.1)
        assert new and new[1] > epoch, new
        admin = AdminClient({"bootstrap.servers": alive[0].bootstrap})
        t0 = time.monotonic()
        admin.create_topics([NewTopic("after", 2, 1)])["after"].result(30 * SLOW)
        wait_topic(kp, alive[1], "after", 2)
        assert time.monotonic() - t0 < 15 * SLOW
        # the killed node's broker is fenced: gone from the live brokers' Metadata
        assert wait_for(lambda: all(leader not in brokers_seen(kp, n) for n in alive),
                        15 * SLOW, 0.2)
        nodes[leader - 1].start()
        assert wait_for(lambda: brokers_seen(kp, nodes[leader - 1]) == [1, 2, 3],
                        20 * SLOW, 0.2)
        md = metadata(kp, nodes[leader - 1], ["after"])
        assert md["Topics"][0]["ErrorCode"] == 0, md
    finally:
        for n in nodes:
            if n.running:
                n.stop()
    for n in nodes:
        n.check_sanitizer()


def test_no_settings_is_a_cluster_of_one_that_keeps_a_single_nodes_data(tmp_path, kp):
    """kbroker with no quorum settings is a cluster of one (combined mode, its own only
    voter on a loopback port of its own). Started on a log dir written by a kbroker from
    before it had a metadata log (here: one whose metadata log and quorum-state are gone,
    which is what such a dir looks like), its new metadata log adopts the topics found
    there with their topic ids, so every record is still served; restarted, they come
    from the metadata log."""
    d = tmp_path / "logs"
    d.mkdir()
    b = Broker(["num.partitions=2"], d)
    try:
        kp.produce(b.bootstrap, "kept", "-k", "\t",
                   input=b"".join(b"k%d\t%d\n" % (i, i) for i in range(100)))
        before = sorted(kp.consume_all(b.bootstrap, "kept").split())
        ids = {p.name: (p / "partition.metadata").read_text() for p in d.glob("kept-*")}
        assert len(before) == 100 and len(ids) == 2, (before, ids)
        b.stop()
        shutil.rmtree(d / "__cluster_metadata-0")
        (d / "quorum-state").unlink()
        b.start()
        assert wait_for(lambda: brokers_seen(kp, b) == [1], 15 * SLOW, 0.1)
        assert "controller: adopted topic kept (2 partition(s)) from the log dirs" in b.stderr
        assert (d / "__cluster_metadata-0").is_dir()
        assert sorted(kp.consume_all(b.bootstrap, "kept").split()) == before
        assert {p.name: (p / "partition.metadata").read_text() for p in d.glob("kept-*")} == ids
        kp.produce(b.bootstrap, "kept", "-p", "1", input=b"more\n")
        b.stop()
        b.start()
        assert wait_for(lambda: brokers_seen(kp, b) == [1], 15 * SLOW, 0.1)
        assert b.stderr.count("adopted topic kept") == 1
        assert sorted(kp.consume_all(b.bootstrap, "kept").split()) == sorted(before + [b"more"])
    finally:
        b.stop()
    b.check_sanitizer()


def test_a_broker_role_without_a_quorum_is_refused(tmp_path, bin_dir):
    """process.roles=broker names a broker of some quorum: without controller.quorum.voters
    kbroker says so and exits 1 (leaving process.roles unset gives a cluster of one)."""
    p = subprocess.run([str(bin_dir / "kbroker"), "-o", "process.roles=broker",
                        "-o", f"log.dirs={tmp_path}", "-o", "listeners=PLAINTEXT://127.0.0.1:0"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "process.roles=broker needs controller.quorum.voters" in p.stderr, p.stderr
