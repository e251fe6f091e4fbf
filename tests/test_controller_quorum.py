"""kcontroller quorums on loopback: elections, failover, rejoin and restarts.

Each controller is asked with DescribeQuorum (v0, spoken by the tiny client
below) who leads: the leader answers with every voter's log end offset, the
others with NOT_LEADER_OR_FOLLOWER and the leader and epoch they know.
"""
import json
import signal
import socket
import struct
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BIN, SLOW, free_port, port_accepts, sanitizer_report, wait_for

CLUSTER_ID = "kpipeQuorumTest0000000"
NOT_LEADER = 6


def _uvarint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def _read_uvarint(buf, pos):
    n = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, pos


def describe_quorum(port, timeout=2.0, host="127.0.0.1"):
    """DescribeQuorum v0 of __cluster_metadata-0: a dict, or None when unreachable."""
    topic = b"__cluster_metadata"
    body = (_uvarint(2) + _uvarint(len(topic) + 1) + topic + _uvarint(2) +
            struct.pack(">i", 0) + b"\0" + b"\0" + b"\0")
    header = struct.pack(">hhih", 55, 0, 7, 4) + b"test" + b"\0"
    frame = header + body
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(struct.pack(">i", len(frame)) + frame)
            data = b""
            while len(data) < 4 or len(data) < 4 + struct.unpack(">i", data[:4])[0]:
                chunk = s.recv(65536)
                if not chunk:
                    return None
                data += chunk
    except OSError:
        return None
    buf = data[4:]
    corr, = struct.unpack_from(">i", buf, 0)
    assert corr == 7
    _, pos = _read_uvarint(buf, 4)           # response header tags
    top_error, = struct.unpack_from(">h", buf, pos)
    pos += 2
    n_topics, pos = _read_uvarint(buf, pos)
    assert top_error == 0 and n_topics == 2, (top_error, n_topics)
    ln, pos = _read_uvarint(buf, pos)
    pos += ln - 1                             # topic name
    n_parts, pos = _read_uvarint(buf, pos)
    assert n_parts == 2
    _, error, leader, epoch, hw = struct.unpack_from(">ihiiq", buf, pos)
    pos += 22
    lists = []
    for _ in range(2):
        n, pos = _read_uvarint(buf, pos)
        states = {}
        for _ in range(n - 1):
            rid, leo = struct.unpack_from(">iq", buf, pos)
            pos += 12
            _, pos = _read_uvarint(buf, pos)
            states[rid] = leo
        lists.append(states)
    return {"error": error, "leader": leader, "epoch": epoch, "hw": hw,
            "voters": lists[0], "observers": lists[1]}


class Controller:
    """One kcontroller on loopback; `extra` settings (KEY=VALUE strings) after the usual.
    A subclass may listen elsewhere: `host`, command() and accepts()."""

    host = "127.0.0.1"

    def __init__(self, node_id, port, voters, datadir, extra=()):
        self.node_id, self.port, self.voters = node_id, port, voters
        self.extra = list(extra)
        self.datadir = Path(datadir)
        self.errpath = self.datadir.parent / f"kcontroller-{node_id}.stderr"
        self.proc = None
        self.start()

    def command(self):
        return [str(BIN / "kcontroller"), "-l", "debug", f"node.id={self.node_id}",
                f"controller.quorum.voters={self.voters}",
                f"listeners=CONTROLLER://{self.host}:{self.port}",
                f"metadata.log.dir={self.datadir}", f"cluster.id={CLUSTER_ID}",
                "controller.quorum.election.timeout.ms=500",
                "controller.quorum.fetch.timeout.ms=1000", *self.extra]

    def accepts(self):
        return port_accepts(self.port)

    def start(self, timeout=20):
        with open(self.errpath, "ab") as err:
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=err,
                                         stderr=err)
        wait_for(lambda: self.proc.poll() is not None or self.accepts(), timeout * SLOW)
        assert self.proc.poll() is None, f"kcontroller {self.node_id} exited:\n{self.stderr[-3000:]}"

    @property
    def stderr(self):
        try:
            return self.errpath.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(15 * SLOW)
        assert rc == 0, f"kcontroller {self.node_id} exited {rc}:\n{self.stderr[-3000:]}"

    def describe(self):
        return describe_quorum(self.port, host=self.host)

    def quorum_state(self):
        return json.loads((self.datadir / "quorum-state").read_text())


def start_quorum(root, n, extra=(), started=None):
    """n kcontrollers (ids 1..n, each a voter) on free ports, data in root/cN; appended
    to `started` as they start, so that a failed start leaves nothing unstopped."""
    ports = [free_port() for _ in range(n)]
    voters = ",".join(f"{i + 1}@127.0.0.1:{p}" for i, p in enumerate(ports))
    cs = []
    for i, p in enumerate(ports):
        cs.append(Controller(i + 1, p, voters, root / f"c{i + 1}", extra))
        if started is not None:
            started.append(cs[-1])
    return cs


def stop_quorum(started):
    """Stop every controller of `started` still running; none may have a sanitizer report."""
    for c in started:
        if c.running:
            c.stop()
        rep = sanitizer_report(c.stderr)
        assert not rep, f"sanitizer report from kcontroller {c.node_id}:\n{rep[:6000]}"


@pytest.fixture
def quorum(tmp_path):
    started = []
    yield lambda n: start_quorum(tmp_path, n, started=started)
    stop_quorum(started)


def agreed_leader(controllers):
    """(leader, epoch, leader's describe) when every running controller names the same
    leader in the same epoch and exactly one of them answers as that leader; else None."""
    views = {c.node_id: c.describe() for c in controllers if c.running}
    if any(v is None for v in views.values()):
        return None
    leaders = [i for i, v in views.items() if v["error"] == 0]
    if len(leaders) != 1:
        return None
    lead = views[leaders[0]]
    for i, v in views.items():
        if (v["leader"], v["epoch"]) != (leaders[0], lead["epoch"]):
            return None
        if i != leaders[0] and v["error"] != NOT_LEADER:
            return None
    return leaders[0], lead["epoch"], lead


def wait_leader(controllers, timeout=10, exclude=None):
    got = wait_for(lambda: agreed_leader(controllers), timeout * SLOW, interval=0.1)
    assert got, "no agreed leader: " + repr({c.node_id: c.describe() for c in controllers
                                              if c.running})
    assert got[0] != exclude
    return got


def wait_caught_up(controllers, timeout=10):
    """The leader's view of every voter's log end offset, once they are all equal (and == hw)."""
    def check():
        got = agreed_leader(controllers)
        if not got:
            return None
        d = got[2]
        leos = set(d["voters"].values())
        return d if len(leos) == 1 and leos.pop() == d["hw"] and d["hw"] > 0 else None
    d = wait_for(check, timeout * SLOW, interval=0.1)
    assert d, "voters did not catch up: " + repr(agreed_leader(controllers))
    return d


def test_single_voter_elects_itself_and_keeps_its_epoch(quorum):
    c, = quorum(1)
    leader, epoch, d = wait_leader([c])
    assert leader == 1 and epoch >= 1
    assert d["voters"] == {1: d["hw"]} and d["hw"] >= 1  # the LeaderChange control batch
    c.stop()
    st = c.quorum_state()
    assert st["data_version"] == 0 and st["leaderEpoch"] == epoch
    assert [v["voterId"] for v in st["currentVoters"]] == [1]
    c.start()
    leader2, epoch2, d2 = wait_leader([c])
    assert leader2 == 1 and epoch2 > epoch
    assert d2["hw"] > d["hw"]                            # the old log is kept, a new entry added


def test_three_voters_elect_exactly_one_leader(quorum):
    cs = quorum(3)
    leader, epoch, _ = wait_leader(cs)
    d = wait_caught_up(cs)
    assert set(d["voters"]) == {1, 2, 3} and d["observers"] == {}
    # the others persisted who leads
    for c in cs:
        st = c.quorum_state()
        assert st["leaderEpoch"] == epoch
        if c.node_id != leader:
            assert st["leaderId"] in (leader, -1)


def test_leader_kill9_then_rejoin(quorum):
    cs = quorum(3)
    leader, epoch, _ = wait_leader(cs)
    wait_caught_up(cs)
    old = cs[leader - 1]
    old.kill9()
    t0 = time.monotonic()
    rest = [c for c in cs if c is not old]
    leader2, epoch2, _ = wait_leader(rest, timeout=10, exclude=leader)
    assert time.monotonic() - t0 < 10 * SLOW
    assert epoch2 > epoch
    old.start()
    leader3, epoch3, _ = wait_leader(cs)
    assert leader3 != leader or epoch3 > epoch2  # it rejoined; nobody went back to the old epoch
    d = wait_caught_up(cs)
    assert set(d["voters"]) == {1, 2, 3}
    view = old.describe()
    assert view["error"] == NOT_LEADER or leader3 == old.node_id


def test_stop_all_and_restart_keeps_log_and_epoch(quorum):
    cs = quorum(3)
    leader, epoch, _ = wait_leader(cs)
    before = wait_caught_up(cs)["hw"]
    for c in cs:
        c.stop()
    epochs = [c.quorum_state()["leaderEpoch"] for c in cs]
    assert min(epochs) >= epoch
    for c in cs:
        c.start()
    leader2, epoch2, _ = wait_leader(cs)
    assert epoch2 > max(epochs) - 1 and epoch2 >= epoch
    after = wait_caught_up(cs)["hw"]
    assert after > before  # the old entries plus the new leader's LeaderChange


def test_sigterm_leader_resigns_and_others_take_over_fast(quorum):
    cs = quorum(3)
    leader, epoch, _ = wait_leader(cs)
    wait_caught_up(cs)
    old = cs[leader - 1]
    t0 = time.monotonic()
    old.stop()
    assert "resigning leadership" in old.stderr
    rest = [c for c in cs if c is not old]
    leader2, epoch2, _ = wait_leader(rest, timeout=10, exclude=leader)
    assert epoch2 > epoch
    # EndQuorumEpoch lets a follower stand at once instead of after fetch.timeout.ms
    assert time.monotonic() - t0 < 5 * SLOW


def test_kafka_metadata_quorum_tool_describes_our_quorum(quorum):
    """Kafka's own kafka-metadata-quorum (MetadataQuorumCommand, --bootstrap-controller:
    ApiVersions, DescribeCluster, DescribeQuorum) reports our leader, epoch and voters."""
    import clients
    try:
        clients.kafka_peer.fetch()
    except clients.PeerError as e:
        pytest.fail(f"Apache Kafka jars: {e}")
    cs = quorum(3)
    leader, epoch, _ = wait_leader(cs)
    hw = wait_caught_up(cs)["hw"]
    follower = next(c for c in cs if c.node_id != leader)
    cls = "org.apache.kafka.tools.MetadataQuorumCommand"
    boot = ["--bootstrap-controller", f"127.0.0.1:{follower.port}"]
    out = clients.ok(clients.run(clients.tool_cmd(cls, *boot, "describe", "--status"),
                                 "MetadataQuorumCommand", timeout=90 * SLOW),
                     "kafka-metadata-quorum describe --status").out
    assert f"ClusterId:              {CLUSTER_ID}" in out, out
    assert f"LeaderId:               {leader}\n" in out, out
    assert f"LeaderEpoch:            {epoch}\n" in out, out
    for c in cs:
        assert f'"id": {c.node_id}, "endpoints": ["CONTROLLER://127.0.0.1:{c.port}"]' in out, out
    out = clients.ok(clients.run(clients.tool_cmd(cls, *boot, "describe", "--replication"),
                                 "MetadataQuorumCommand", timeout=90 * SLOW),
                     "kafka-metadata-quorum describe --replication").out
    rows = [line.split() for line in out.splitlines()[1:] if line.strip()]
    assert sorted(int(r[0]) for r in rows) == [1, 2, 3], out
    for r in rows:
        assert int(r[2]) == hw, out          # LogEndOffset
        assert r[-1] == ("Leader" if int(r[0]) == leader else "Follower"), out
