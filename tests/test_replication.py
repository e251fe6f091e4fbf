"""Partition replication on a cluster of 3 kcontrollers and 3 kbrokers on loopback.

Followers fetch from their leader and keep the same batches (the segment files of every
replica end up byte-identical); the high watermark follows the ISR; acks=all answers only
once the ISR has a write, and NOT_ENOUGH_REPLICAS below min.insync.replicas; a follower that
cannot fetch leaves the ISR through the controller (AlterPartition) and joins it again once
it has caught up; a leader killed with writes only it had loses them to the new leader's log
when it comes back (truncation at the diverging epoch), and no acknowledged write is lost.
"""
import os
import re
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import nemesis
from conftest import SLOW, log_end_offsets, wait_for
from test_controller_quorum import wait_leader
from test_kraft_cluster import (BROKER_IDS, KraftCluster, brokers_seen, check_stopped, kpwire,
                                metadata, topic_view)

confluent_kafka = pytest.importorskip("confluent_kafka")
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

NOT_ENOUGH_REPLICAS = 19


class ReplicatedCluster(KraftCluster):
    def __init__(self, root, broker_extra=(), only=None):
        self.broker_extra = list(broker_extra)
        self.only = only or {}
        super().__init__(root)

    def broker_overrides(self, nid):
        return super().broker_overrides(nid) + self.broker_extra + self.only.get(nid, [])


def start(tmp_path, kp, *broker_extra, only=None):
    """The cluster, every broker with `broker_extra`, broker N also with only[N]."""
    c = ReplicatedCluster(tmp_path, broker_extra, only)
    wait_leader(c.controllers)
    b = c.brokers[BROKER_IDS[0]]
    assert wait_for(lambda: brokers_seen(kp, b) == list(BROKER_IDS), 15 * SLOW, 0.2)
    return c


def create(cluster, name, partitions=1, rf=3, config=None, assignment=None):
    admin = AdminClient({"bootstrap.servers": cluster.brokers[BROKER_IDS[0]].bootstrap})
    if assignment:
        topic = NewTopic(name, num_partitions=len(assignment),
                         replica_assignment=assignment, config=config or {})
    else:
        topic = NewTopic(name, num_partitions=partitions, replication_factor=rf,
                         config=config or {})
    fs = admin.create_topics([topic])
    fs[name].result(30)


def partition_state(kp, cluster, name, partition=0):
    """(leader, replicas, isr) of the partition as a running broker's Metadata has it."""
    b = cluster.running_brokers()[0]
    view, _ = topic_view(metadata(kp, b, [name]), name)
    return view[partition] if view else None


def wait_isr(kp, cluster, name, isr, partition=0, timeout=30):
    def ok():
        st = partition_state(kp, cluster, name, partition)
        return st if st and sorted(st[2]) == sorted(isr) and st[0] >= 0 else None
    got = wait_for(ok, timeout * SLOW, 0.2)
    assert got, f"ISR of {name}-{partition} is not {isr}: {partition_state(kp, cluster, name)}"
    return got


def segments(broker, name, partition=0):
    """{segment file name: bytes} of the partition's .log files on `broker`."""
    d = Path(broker.logdir) / f"{name}-{partition}"
    return {p.name: p.read_bytes() for p in sorted(d.glob("*.log"))}


def wait_identical(cluster, name, nids, partition=0, timeout=30):
    def same():
        segs = [segments(cluster.brokers[n], name, partition) for n in nids]
        return all(s == segs[0] for s in segs) and any(segs[0].values())
    assert wait_for(same, timeout * SLOW, 0.2), \
        {n: {k: len(v) for k, v in segments(cluster.brokers[n], name, partition).items()}
         for n in nids}


def produce_acks_all(bootstrap, topic, values, **conf):
    """Produce `values` with acks=all; returns (acknowledged values, errors)."""
    p = confluent_kafka.Producer({"bootstrap.servers": bootstrap, "acks": "all",
                                  "linger.ms": 2, **conf})
    acked, errors = [], []

    def done(err, msg):
        if err:
            errors.append(err)
        else:
            acked.append(msg.value().decode())
    for v in values:
        p.produce(topic, key=v, value=v, on_delivery=done)
        p.poll(0)
    p.flush(60 * SLOW)
    return acked, errors


def read_all(bootstrap, topic, partitions=1, expect=None, timeout=30):
    c = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": "unused",
                                  "enable.auto.commit": False})
    c.assign([confluent_kafka.TopicPartition(topic, i, 0) for i in range(partitions)])
    got = []
    deadline = time.monotonic() + timeout * SLOW
    idle_until = time.monotonic() + 3 * SLOW
    while time.monotonic() < deadline:
        m = c.poll(0.3)
        if m is None:
            if (expect is None or len(got) >= expect) and time.monotonic() > idle_until:
                break
            continue
        if not m.error():
            got.append(m.value().decode())
            idle_until = time.monotonic() + 1.5 * SLOW
    c.close()
    return got


def produce_one(kp, broker, topic, value, acks, partition=0, timeout_ms=5000):
    resp = kpwire(kp, broker.bootstrap, [{"api": "Produce", "version": 9, "request": {
        "Acks": acks, "TimeoutMs": timeout_ms, "TopicData": [{"Name": topic, "PartitionData": [
            {"Index": partition, "Records": {"records": [{"key": None, "value": value}]}}]}]}}])
    return resp[0]["Responses"][0]["PartitionResponses"][0]


def written_then_leader_killed(kp, c, topic, n, write_while_paused):
    """`n` acks=all writes c0..c{n-1} replicated everywhere; then the followers are paused,
    `write_while_paused(leader broker)` runs and the leader is killed (-9), and the followers
    resume. Returns (old leader id, its return, the acknowledged first writes) once another
    broker leads `topic`-0."""
    wait_isr(kp, c, topic, list(BROKER_IDS))
    acked, errors = produce_acks_all(c.brokers[11].bootstrap, topic, [f"c{i}" for i in range(n)])
    assert len(acked) == n, errors
    old, replicas, _ = partition_state(kp, c, topic)
    followers = [c.brokers[r] for r in replicas if r != old]
    wait_identical(c, topic, BROKER_IDS)
    for f in followers:
        os.kill(f.proc.pid, signal.SIGSTOP)
    try:
        got = write_while_paused(c.brokers[old])
        c.brokers[old].kill9()
    finally:
        for f in followers:
            os.kill(f.proc.pid, signal.SIGCONT)
    assert wait_for(lambda: (partition_state(kp, c, topic) or (-1,))[0] not in (old, -1),
                    30 * SLOW, 0.2)
    return old, got, acked


def test_followers_copy_the_leaders_batches_and_acks_all_waits_for_them(tmp_path, kp):
    c = start(tmp_path, kp)
    try:
        create(c, "copied", partitions=3)
        values = [f"v{i}" for i in range(3000)]
        acked, errors = produce_acks_all(c.brokers[11].bootstrap, "copied", values)
        assert not errors and sorted(acked) == sorted(values), errors[:5]
        for part in range(3):
            wait_isr(kp, c, "copied", list(BROKER_IDS), part)
            wait_identical(c, "copied", BROKER_IDS, part)
        got = read_all(c.brokers[12].bootstrap, "copied", 3, expect=len(values))
        assert sorted(got) == sorted(values)
        ends = {p: int(o) for p, o in log_end_offsets(c.brokers[11].bootstrap, "copied",
                                                       3).items()}
        assert sum(ends.values()) == len(values)
        assert "fetching from leader" in "".join(b.stderr for b in c.brokers.values())
        # a clean stop leaves each replica's high watermark in Kafka's checkpoint file
        assert not c.stop()
        for b in c.brokers.values():
            lines = (Path(b.logdir) / "replication-offset-checkpoint").read_text().split("\n")
            assert lines[0] == "0" and int(lines[1]) == len(lines) - 3 and lines[-1] == ""
            hws = {int(p): int(o) for t, p, o in (ln.split() for ln in lines[2:-1])
                   if t == "copied"}
            assert hws == ends, (b.logdir, lines)
    finally:
        check_stopped(c)


def test_acknowledged_writes_survive_the_leader_kill(tmp_path, kp):
    c = start(tmp_path, kp)
    try:
        create(c, "durable", config={"min.insync.replicas": "2"})
        wait_isr(kp, c, "durable", list(BROKER_IDS))
        leader = partition_state(kp, c, "durable")[0]
        acked, errors, stop = [], [], threading.Event()
        others = [c.brokers[n].bootstrap for n in BROKER_IDS if n != leader]

        def produce():
            p = confluent_kafka.Producer({"bootstrap.servers": ",".join(others), "acks": "all",
                                          "linger.ms": 1, "message.timeout.ms": 60000})
            i = 0
            while not stop.is_set():
                v = f"w{i}"
                p.produce("durable", value=v,
                          on_delivery=lambda err, msg: (errors if err else acked).append(
                              err or msg.value().decode()))
                p.poll(0.002)
                i += 1
            p.flush(60 * SLOW)
        th = threading.Thread(target=produce)
        th.start()
        try:
            assert wait_for(lambda: len(acked) >= 300, 30 * SLOW, 0.05), (len(acked), errors)
            c.brokers[leader].kill9()
            n = len(acked)
            assert wait_for(lambda: len(acked) >= n + 300, 60 * SLOW, 0.1), (len(acked), errors)
        finally:
            stop.set()
            th.join(120)
        new_leader = partition_state(kp, c, "durable")[0]
        assert new_leader not in (leader, -1)
        got = set(read_all(c.brokers[new_leader].bootstrap, "durable", expect=len(acked)))
        lost = [v for v in acked if v not in got]
        assert not lost, f"{len(lost)} acknowledged writes lost, e.g. {lost[:10]}"
        c.brokers[leader].start()
        wait_isr(kp, c, "durable", list(BROKER_IDS))
        wait_identical(c, "durable", BROKER_IDS)
    finally:
        check_stopped(c)


def test_follower_that_cannot_fetch_leaves_the_isr_and_returns(tmp_path, kp):
    """Broker 13 names an inter-broker listener nobody has: it heartbeats (stays unfenced)
    but cannot fetch, so leader 11 removes it from the ISR after replica.lag.time.max.ms
    through AlterPartition; acks=all to a topic with min.insync.replicas=3 is then refused
    with NOT_ENOUGH_REPLICAS. Restarted with the right listener it catches up and the
    leader adds it back; acks=all is accepted again."""
    nowhere = "inter.broker.listener.name=NOWHERE"
    c = start(tmp_path, kp, "replica.lag.time.max.ms=1500", only={13: [nowhere]})
    try:
        create(c, "strict", config={"min.insync.replicas": "3"}, assignment=[[11, 12, 13]])
        leader, b13 = c.brokers[11], c.brokers[13]
        assert produce_one(kp, leader, "strict", "lagging", 1)["ErrorCode"] == 0
        wait_isr(kp, c, "strict", [11, 12])
        assert "follower 13 is out of sync" in leader.stderr
        assert "removing it from the ISR" in leader.stderr
        assert brokers_seen(kp, leader) == list(BROKER_IDS)  # not fenced: the lag did it
        assert produce_one(kp, leader, "strict", "refused", -1)["ErrorCode"] == NOT_ENOUGH_REPLICAS
        b13.stop()
        b13.overrides.remove(nowhere)
        b13.start()
        wait_isr(kp, c, "strict", list(BROKER_IDS))
        assert "follower 13 caught up" in leader.stderr
        assert produce_one(kp, leader, "strict", "after", -1)["ErrorCode"] == 0
        wait_identical(c, "strict", BROKER_IDS)
        assert read_all(leader.bootstrap, "strict", expect=2) == ["lagging", "after"]
    finally:
        check_stopped(c)


def test_old_leader_truncates_what_only_it_had(tmp_path, kp):
    """The followers are paused; the leader takes writes with acks=1 that only it has, and
    is killed; the followers resume and one of them leads (the ISR still names them). It
    takes new writes. The old leader comes back as a follower: its fetch names its last
    epoch, the new leader answers with the diverging epoch, and it truncates to the new
    leader's log: every replica's segment is then byte-identical and the writes only the
    old leader had are gone everywhere."""
    c = start(tmp_path, kp)
    try:
        create(c, "diverge")

        def lonely(leader):
            for i in range(5):
                assert produce_one(kp, leader, "diverge", f"lonely{i}", 1)["ErrorCode"] == 0
        old, _, _ = written_then_leader_killed(kp, c, "diverge", 20, lonely)
        replicas = partition_state(kp, c, "diverge")[1]
        survivor = c.brokers[next(r for r in replicas if r != old)]
        new = partition_state(kp, c, "diverge")[0]
        acked, errors = produce_acks_all(survivor.bootstrap, "diverge",
                                         [f"n{i}" for i in range(10)])
        assert len(acked) == 10, errors
        c.brokers[old].start()
        wait_isr(kp, c, "diverge", list(BROKER_IDS))
        wait_identical(c, "diverge", BROKER_IDS)
        got = read_all(c.brokers[new].bootstrap, "diverge", expect=30)
        # a follower's fetch parked at the old leader before the pause may have been
        # answered with the first lonely write: then the new leader has it too
        kept = [v for v in got if v.startswith("lonely")]
        assert kept == [f"lonely{i}" for i in range(len(kept))] and len(kept) <= 1, got
        assert got == [f"c{i}" for i in range(20)] + kept + [f"n{i}" for i in range(10)]
        m = re.search(r"diverge-0: truncating to offset (\d+) \(log end 25\)",
                      c.brokers[old].stderr)
        assert m and int(m.group(1)) == 20 + len(kept), c.brokers[old].stderr[-3000:]
        raw = b"".join(segments(c.brokers[old], "diverge").values())
        assert all(f"lonely{i}".encode() not in raw for i in range(len(kept), 5))
    finally:
        check_stopped(c)


def test_offset_for_leader_epoch_answers_from_the_epoch_cache(tmp_path, kp):
    """After a leader change, OffsetForLeaderEpoch on the new leader gives the end of the
    old epoch (where the new one starts) and the log end offset for the current epoch."""
    c = start(tmp_path, kp)
    try:
        create(c, "epochs")
        wait_isr(kp, c, "epochs", list(BROKER_IDS))
        acked, _ = produce_acks_all(c.brokers[11].bootstrap, "epochs", ["a", "b", "c"])
        assert len(acked) == 3
        old = partition_state(kp, c, "epochs")[0]
        c.brokers[old].stop()
        assert wait_for(lambda: (partition_state(kp, c, "epochs") or (-1,))[0]
                        not in (old, -1), 30 * SLOW, 0.2)
        new = c.brokers[partition_state(kp, c, "epochs")[0]]
        acked, _ = produce_acks_all(new.bootstrap, "epochs", ["d", "e"])
        assert len(acked) == 2
        md = metadata(kp, new, ["epochs"])
        epoch = md["Topics"][0]["Partitions"][0]["LeaderEpoch"]
        ask = [{"Topic": "epochs", "Partitions": [
            {"Partition": 0, "CurrentLeaderEpoch": epoch, "LeaderEpoch": e}]}
            for e in (0, epoch, epoch + 1)]
        got = [kpwire(kp, new.bootstrap, [{"api": "OffsetForLeaderEpoch", "version": 4,
                                           "request": {"ReplicaId": -1, "Topics": [a]}}])[0]
               ["Topics"][0]["Partitions"][0] for a in ask]
        assert (got[0]["ErrorCode"], got[0]["LeaderEpoch"], got[0]["EndOffset"]) == (0, 0, 3)
        assert (got[1]["ErrorCode"], got[1]["LeaderEpoch"], got[1]["EndOffset"]) == (0, epoch, 5)
        # above every epoch kept: undefined, no error (LeaderEpochFileCache.endOffsetFor)
        assert (got[2]["ErrorCode"], got[2]["LeaderEpoch"], got[2]["EndOffset"]) == (0, -1, -1)
        stale = kpwire(kp, new.bootstrap, [{"api": "OffsetForLeaderEpoch", "version": 4,
                                            "request": {"ReplicaId": -1, "Topics": [{
                                                "Topic": "epochs", "Partitions": [{
                                                    "Partition": 0,
                                                    "CurrentLeaderEpoch": epoch - 1,
                                                    "LeaderEpoch": 0}]}]}}])[0]
        assert stale["Topics"][0]["Partitions"][0]["ErrorCode"] == 74  # FENCED_LEADER_EPOCH
        c.brokers[old].start()
    finally:
        check_stopped(c)


@pytest.mark.parametrize("broken", [False, True], ids=["correct", "hw-ignores-isr"])
def test_lost_write_checker_catches_a_high_watermark_that_ignores_the_isr(tmp_path, kp, broken):
    """With the followers paused, acks=all writes to the leader must wait (and time out) and
    a killed leader loses nothing acknowledged. Broken on purpose (the leader's high watermark
    ignores the ISR), the same writes are acknowledged at once and lost with the leader: the
    checker reports them."""
    extra = ["kpipe.test.high.watermark.ignores.isr=true"] if broken else []
    c = start(tmp_path, kp, *extra)
    try:
        create(c, "checked", config={"min.insync.replicas": "2"})

        def unreplicated(leader):
            # a follower's fetch parked at the leader is answered with the first write after
            # the pause (into its socket buffer): an acks=1 primer takes that
            assert produce_one(kp, leader, "checked", "primer", 1)["ErrorCode"] == 0
            # then at once, and done well within the session timeout (paused followers are
            # fenced after it)
            with ThreadPoolExecutor(5) as pool:
                return list(pool.map(lambda i: produce_one(kp, leader, "checked", f"p{i}", -1,
                                                           timeout_ms=800), range(5)))
        old, answers, acked = written_then_leader_killed(kp, c, "checked", 10, unreplicated)
        acked += [f"p{i}" for i, a in enumerate(answers) if a["ErrorCode"] == 0]
        new = c.brokers[partition_state(kp, c, "checked")[0]]
        lost = nemesis.lost(acked, read_all(new.bootstrap, "checked", expect=10))
        if broken:
            assert [a["ErrorCode"] for a in answers] == [0] * 5
            assert len(lost) >= 4, lost
        else:
            assert [a["ErrorCode"] for a in answers] == [7] * 5  # REQUEST_TIMED_OUT
            assert not lost, lost
        c.brokers[old].start()
    finally:
        check_stopped(c)


def test_topic_command_lists_under_replicated_partitions(tmp_path, kp):
    """A follower is killed: Kafka's TopicCommand lists the topic's partitions with
    --under-replicated-partitions and --at-min-isr-partitions (replicas 11,12,13, ISR of the
    two others) and the Metadata answer names the dead broker an offline replica; once it is
    back in the ISR neither option lists anything."""
    import clients
    try:
        clients.kafka_peer.fetch()
    except clients.PeerError as e:
        pytest.fail(f"Apache Kafka jars: {e}")
    c = start(tmp_path, kp)
    try:
        create(c, "under", assignment=[[11, 12, 13], [12, 11, 13]],
               config={"min.insync.replicas": "2"})
        for p in range(2):
            wait_isr(kp, c, "under", list(BROKER_IDS), partition=p)
        c.brokers[13].kill9()

        def describe(option):
            p = clients.run(clients.tool_cmd("org.apache.kafka.tools.TopicCommand",
                                             "--bootstrap-server", c.brokers[11].bootstrap,
                                             "--describe", "--topic", "under", option),
                            "TopicCommand", timeout=60 * SLOW)
            lines = [ln.split() for ln in clients.ok(p, "kafka-topics --describe").out
                     .splitlines() if "Partition:" in ln]
            return sorted((int(d["Partition:"]), int(d["Leader:"]), d["Replicas:"], d["Isr:"])
                          for d in (dict(zip(ln[::2], ln[1::2])) for ln in lines))
        want = [(0, 11, "11,12,13", "11,12"), (1, 12, "12,11,13", "12,11")]
        got = wait_for(lambda: (lambda d: d if d == want else None)(
            describe("--under-replicated-partitions")), 30 * SLOW, 0.5)
        assert got == want, describe("--under-replicated-partitions")
        assert describe("--at-min-isr-partitions") == want
        md = metadata(kp, c.brokers[11], ["under"])
        parts = next(t for t in md["Topics"] if t["Name"] == "under")["Partitions"]
        assert all(p["OfflineReplicas"] == [13] for p in parts), parts
        c.brokers[13].start()
        for p in range(2):
            wait_isr(kp, c, "under", list(BROKER_IDS), partition=p)
        assert describe("--under-replicated-partitions") == []
        assert describe("--at-min-isr-partitions") == []
    finally:
        check_stopped(c)
