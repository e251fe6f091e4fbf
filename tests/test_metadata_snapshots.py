"""KRaft snapshots (KIP-630) and voter changes (KIP-853) in kcontroller.

With small snapshot and segment sizes, three kcontrollers write snapshot files of their
metadata image (Kafka's format: Kafka's own DumpLogSegments decodes them), delete the log
segments below them, a voter wiped of its data catches up from the leader's snapshot
(FetchSnapshot), and `kcontroller --dump-metadata` prints the same image everywhere and
across restarts. AddRaftVoter / RemoveRaftVoter change the voter set.
"""
import shutil
import subprocess
import time

import pytest

from conftest import BIN, SLOW, free_port, sanitizer_report, wait_for
from test_controller_quorum import (Controller, describe_quorum, start_quorum, stop_quorum,
                                    wait_caught_up, wait_leader)
from test_quorum_controller import create, topic_error, wire

SMALL = ["metadata.log.max.record.bytes.between.snapshots=3000",
         "metadata.log.segment.bytes=4096",
         "broker.session.timeout.ms=600000"]
META = "__cluster_metadata-0"


@pytest.fixture
def cluster(tmp_path):
    started = []

    def make(n=3, extra=SMALL):
        return start_quorum(tmp_path, n, extra, started)

    make.started = started
    yield make
    stop_quorum(started)


def register_broker(port, broker_id=1):
    req = {"api": "BrokerRegistration", "version": 4, "request": {
        "BrokerId": broker_id, "ClusterId": "kpipeQuorumTest0000000",
        "IncarnationId": "AAAAAAAAAAAAAAAAAAAAAQ",
        "Listeners": [{"Name": "PLAINTEXT", "Host": "127.0.0.1", "Port": 9001,
                       "SecurityProtocol": 0}],
        "Features": [{"Name": "metadata.version", "MinSupportedVersion": 7,
                      "MaxSupportedVersion": 33}]}}
    r, = wire(port, req)
    assert r["ErrorCode"] == 0, r
    hb = {"api": "BrokerHeartbeat", "version": 1, "request": {
        "BrokerId": broker_id, "BrokerEpoch": r["BrokerEpoch"], "CurrentMetadataOffset": 1 << 40,
        "WantFence": False, "WantShutDown": False}}
    r, = wire(port, hb)
    assert r["ErrorCode"] == 0 and not r["IsFenced"], r


def create_topics(port, names):
    for r in wire(port, *[create(n) for n in names]):
        assert topic_error(r) == 0, r


def snapshots(c):
    return sorted(p.name for p in (c.datadir / META).glob("*.checkpoint"))


def segments(c):
    return sorted(p.name for p in (c.datadir / META).glob("*.log"))


def dump(c):
    """kcontroller --dump-metadata of c's (stopped) dir, without the image's last offset line
    (records loaded from a snapshot all carry its end offset - 1)."""
    out = subprocess.run([str(BIN / "kcontroller"), "--dump-metadata", str(c.datadir)],
                         capture_output=True, text=True, timeout=60 * SLOW)
    assert out.returncode == 0, out.stderr
    assert not sanitizer_report(out.stderr), out.stderr
    return "\n".join(line for line in out.stdout.splitlines()
                     if not line.startswith("image last_offset="))


def busy_cluster(make, topics=80):
    """Three voters with a broker and `topics` topics: (controllers, leader id)."""
    cs = make(3)
    leader, _, _ = wait_leader(cs)
    port = cs[leader - 1].port
    register_broker(port)
    create_topics(port, [f"t{i:03d}" for i in range(topics)])
    wait_caught_up(cs)
    return cs, leader


def test_snapshots_are_taken_and_old_segments_deleted(cluster):
    cs, leader = busy_cluster(cluster)
    for c in cs:
        assert wait_for(lambda: snapshots(c) and "00000000000000000000.log" not in segments(c),
                        10 * SLOW), (c.node_id, snapshots(c), segments(c))
        # its own snapshot deleted the segments below it, or (a voter that fell behind) the
        # leader's snapshot, installed, replaced its log
        assert "snapshot" in c.stderr and ("deleted" in c.stderr or
                                           "installed snapshot" in c.stderr), c.stderr[-3000:]
        # the log starts at a snapshot: its first segment does not start after the snapshot
        first = int(segments(c)[0][:20])
        assert any(int(s[:20]) >= first for s in snapshots(c))
    # still a working quorum: more topics, then everyone caught up
    create_topics(cs[leader - 1].port, ["after-snapshot"])
    wait_caught_up(cs)
    for c in cs:
        c.stop()
    dumps = {c.node_id: dump(c) for c in cs}
    assert 'topic "t079"' in dumps[1] or "t079" in dumps[1], dumps[1][:2000]
    assert "after-snapshot" in dumps[1]
    assert dumps[1] == dumps[2] == dumps[3]


def test_wiped_voter_catches_up_from_a_snapshot(cluster):
    cs, leader = busy_cluster(cluster)
    lead = cs[leader - 1]
    assert wait_for(lambda: "00000000000000000000.log" not in segments(lead), 10 * SLOW)
    wiped = next(c for c in cs if c.node_id != leader)
    wiped.stop()
    shutil.rmtree(wiped.datadir)
    create_topics(lead.port, ["while-away"])
    wiped.start()
    wait_caught_up(cs, timeout=20)
    assert "installed snapshot" in wiped.stderr, wiped.stderr[-3000:]
    assert "fetching snapshot" in wiped.stderr
    assert snapshots(wiped)
    for c in cs:
        c.stop()
    d = {c.node_id: dump(c) for c in cs}
    assert "while-away" in d[wiped.node_id]
    assert d[wiped.node_id] == d[leader]


def test_restart_everything_keeps_the_image(cluster):
    cs, leader = busy_cluster(cluster, topics=40)
    for c in cs:
        c.stop()
    before = {c.node_id: dump(c) for c in cs}
    assert before[1] == before[2] == before[3]
    for c in cs:
        c.start()
    wait_leader(cs)
    wait_caught_up(cs)
    for c in cs:
        assert "loaded snapshot" in c.stderr
        c.stop()
    after = {c.node_id: dump(c) for c in cs}
    assert after == before


def test_kafka_dump_log_decodes_our_snapshot(cluster):
    import clients
    try:
        clients.kafka_peer.fetch()
    except clients.PeerError as e:
        pytest.fail(f"Apache Kafka jars: {e}")
    cs, leader = busy_cluster(cluster, topics=30)
    c = cs[leader - 1]
    assert wait_for(lambda: snapshots(c), 10 * SLOW)
    snap = c.datadir / META / snapshots(c)[-1]
    cls = "org.apache.kafka.tools.DumpLogSegments"
    out = clients.ok(clients.run(clients.tool_cmd(cls, "--cluster-metadata-decoder", "--files",
                                                  str(snap)),
                                 "DumpLogSegments", timeout=90 * SLOW),
                     "kafka-dump-log --cluster-metadata-decoder").out
    assert "SnapshotHeader" in out, out[:3000]
    assert "SnapshotFooter" in out, out[-3000:]
    assert '"type":"TOPIC_RECORD"' in out.replace(" ", ""), out[:3000]
    assert "t000" in out and "Exception" not in out, out[:3000]


def voters_of(port):
    d = describe_quorum(port)
    return sorted(d["voters"]) if d and d["error"] == 0 else None


def test_add_and_remove_a_voter(cluster, tmp_path):
    cs = cluster(3, extra=["broker.session.timeout.ms=600000"])
    leader, _, _ = wait_leader(cs)
    lead = cs[leader - 1]
    port4 = free_port()
    c4 = Controller(4, port4, cs[0].voters, tmp_path / "c4",
                     ["broker.session.timeout.ms=600000"])
    cluster.started.append(c4)
    assert wait_for(lambda: 4 in (describe_quorum(lead.port) or {}).get("observers", {}),
                    10 * SLOW)
    add = {"api": "AddRaftVoter", "version": 0, "request": {
        "ClusterId": "kpipeQuorumTest0000000", "TimeoutMs": 5000, "VoterId": 4,
        "VoterDirectoryId": "AAAAAAAAAAAAAAAAAAAAAA",
        "Listeners": [{"Name": "CONTROLLER", "Host": "127.0.0.1", "Port": port4}]}}

    def added():
        r, = wire(lead.port, add)
        return r if r["ErrorCode"] == 0 else None
    assert wait_for(added, 15 * SLOW, interval=0.3)
    assert wait_for(lambda: voters_of(lead.port) == [1, 2, 3, 4], 10 * SLOW)
    assert "VotersRecord" in lead.stderr
    # a second add of the same voter: DUPLICATE_VOTER (126)
    r, = wire(lead.port, add)
    assert r["ErrorCode"] == 126, r
    # the new voter took part: every voter caught up, it included
    d = wait_caught_up(cs + [c4])
    assert set(d["voters"]) == {1, 2, 3, 4}
    remove = {"api": "RemoveRaftVoter", "version": 0, "request": {
        "ClusterId": "kpipeQuorumTest0000000", "VoterId": 4,
        "VoterDirectoryId": "AAAAAAAAAAAAAAAAAAAAAA"}}
    r, = wire(lead.port, remove)
    assert r["ErrorCode"] == 0, r
    assert wait_for(lambda: voters_of(lead.port) == [1, 2, 3], 10 * SLOW)
    r, = wire(lead.port, remove)
    assert r["ErrorCode"] == 127, r          # VOTER_NOT_FOUND
    # a follower is not the leader: NOT_LEADER_OR_FOLLOWER (6)
    follower = next(c for c in cs if c.node_id != leader)
    r, = wire(follower.port, remove)
    assert r["ErrorCode"] == 6, r
    # the voter set survives a restart of the whole quorum (VotersRecord in the log)
    for c in cs + [c4]:
        c.stop()
    for c in cs + [c4]:
        c.start()
    leader2, _, _ = wait_leader(cs)
    assert wait_for(lambda: voters_of(cs[leader2 - 1].port) == [1, 2, 3], 10 * SLOW)
    time.sleep(0.1)
