"""Broker and network-layer behaviour found in review: flow control (bounded output for
clients that pipeline and never read), half-closed clients and parked fetches, idle
timeouts, accept(2) failing with EMFILE, Kafka semantics of Fetch max_bytes (KIP-74),
CreateTopics duplicates and assignments, ListOffsets leader epochs and MAX_TIMESTAMP,
Produce acks=0 errors, Metadata authorized operations, crash-safe topic creation.

Requests go over raw sockets: kafka-python's protocol classes where their schemas are
right, hand-encoded bytes (test_failures helpers) elsewhere."""
import io
import os
import socket
import struct
import time
from pathlib import Path

import pytest
from kafka.protocol.admin import ApiVersionRequest, CreateTopicsRequest
from kafka.protocol.api import RequestHeader
from kafka.protocol.fetch import FetchRequest
from kafka.protocol.metadata import MetadataRequest
from kafka.protocol.produce import ProduceRequest

from conftest import SLOW, Broker, wait_for
from test_failures import (Reader, call, kstr, lines, produce_v3, recv_exact, record_batch,
                           request)

UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_REQUEST = 42
INVALID_REPLICA_ASSIGNMENT = 39
KAFKA_STORAGE_ERROR = 56
NOT_LEADER_OR_FOLLOWER = 6


# ---------------------------------------------------------------- helpers


def frame(req, corr):
    hdr = RequestHeader(req, correlation_id=corr, client_id="review")
    msg = hdr.encode() + req.encode()
    return struct.pack(">i", len(msg)) + msg


def read_response(sock, req):
    """(correlation id, decoded response) of the next response frame."""
    size = struct.unpack(">i", recv_exact(sock, 4))[0]
    body = recv_exact(sock, size)
    return struct.unpack(">i", body[:4])[0], req.RESPONSE_TYPE.decode(io.BytesIO(body[4:]))


def read_frame(sock):
    """The next response frame's bytes (after the size), read without quadratic copying."""
    size = struct.unpack(">i", recv_exact(sock, 4))[0]
    buf = bytearray(size)
    view, got = memoryview(buf), 0
    while got < size:
        n = sock.recv_into(view[got:])
        if n == 0:
            raise ConnectionError(f"connection closed after {got} of {size} bytes")
        got += n
    return bytes(buf)


def kcall(sock, req, corr=1):
    sock.sendall(frame(req, corr))
    got, resp = read_response(sock, req)
    assert got == corr
    return resp


def connect(b, timeout=10):
    return socket.create_connection(("127.0.0.1", b.port), timeout=timeout * SLOW)


def closed_by_peer(sock, timeout):
    """True if the peer closes (EOF or reset) within timeout seconds, reading whatever comes."""
    sock.settimeout(timeout)
    try:
        while sock.recv(1 << 20):
            pass
        return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def create_topic(b, name, partitions):
    with connect(b) as s:
        r = kcall(s, CreateTopicsRequest[1]([(name, partitions, 1, [], [])], 10000, False))
    assert r.topic_errors[0][1] == 0, r


def fetch_v4(topic, parts, max_wait=0, min_bytes=0, max_bytes=1 << 30, part_max=1 << 20):
    return FetchRequest[4](-1, max_wait, min_bytes, max_bytes, 0,
                           [(topic, [(p, off, part_max) for p, off in parts])])


def fetched(resp):
    """{partition: (error_code, high watermark, record bytes)} of a Fetch v4 response."""
    return {p[0]: (p[1], p[2], p[-1]) for t in resp.topics for p in t[1]}


def proc_fds(b):
    return len(os.listdir(f"/proc/{b.proc.pid}/fd"))


def proc_rss_mb(b):
    for ln in Path(f"/proc/{b.proc.pid}/status").read_text().splitlines():
        if ln.startswith("VmRSS:"):
            return int(ln.split()[1]) // 1024
    return 0


def proc_cpu_s(b):
    fields = Path(f"/proc/{b.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def uvarint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def cstr(s):
    b = s.encode()
    return uvarint(len(b) + 1) + b


def list_offsets(sock, version, topic, queries, corr=1):
    """ListOffsets v4 or v7 (flexible) for [(partition, timestamp)]; returns
    [(partition, error, timestamp, offset, leader_epoch)]."""
    flexible = version >= 6
    parts = b"".join(struct.pack(">iiq", p, -1, ts) + (b"\0" if flexible else b"")
                     for p, ts in queries)
    if flexible:
        body = (struct.pack(">ib", -1, 0) + uvarint(2) + cstr(topic) +
                uvarint(len(queries) + 1) + parts + b"\0" + b"\0")
    else:
        body = (struct.pack(">ib", -1, 0) + struct.pack(">i", 1) + kstr(topic) +
                struct.pack(">i", len(queries)) + parts)
    r = call(sock, 2, version, corr, body, flexible=flexible)
    if flexible:
        assert r.take(">b") == 0  # response header tagged fields
    r.take(">i")  # throttle
    out = []
    if flexible:
        assert r.take(">B") == 2
        n = r.take(">B")
        r.pos += n - 1  # topic name
        for _ in range(r.take(">B") - 1):
            out.append(r.take(">ihqqi"))
            assert r.take(">b") == 0
    else:
        assert r.take(">i") == 1
        assert r.string() == topic
        for _ in range(r.take(">i")):
            out.append(r.take(">ihqqi"))
    return out


# ---------------------------------------------------------------- flow control


def test_pipelining_client_that_never_reads_has_bounded_output(broker, kp, topic):
    """300 pipelined 1 MB Fetch requests whose responses are never read: the broker stops
    taking requests from that connection while its output is backed up (RSS grows by a
    few MB, not 300 MB); once the client reads, every response arrives, in order."""
    b = broker(partitions=1)
    kp.produce(b.bootstrap, topic, "-X", "batch.size=65536",
               input=b"".join(b"%07d" % i + b"x" * 93 + b"\n" for i in range(12000)))
    n = 300
    req = fetch_v4(topic, [(0, 0)], max_bytes=1 << 20)
    with connect(b, timeout=30) as s:
        before = proc_rss_mb(b)
        s.sendall(b"".join(frame(req, corr) for corr in range(n)))
        time.sleep(2 * SLOW)
        grown = proc_rss_mb(b) - before
        assert grown < 64, f"broker RSS grew by {grown} MB for a client that does not read"
        for corr in range(n):
            body = read_frame(s)
            assert struct.unpack(">i", body[:4])[0] == corr
            assert len(body) > 900000, len(body)
    assert b.running


def test_client_not_reading_is_closed_after_idle_time(broker, kp, topic):
    """A client whose responses back up and who reads none of them for
    connections.max.idle.ms is disconnected (the broker no longer reads from it, so the
    read-side idle timer alone would never fire)."""
    b = broker("connections.max.idle.ms=1500", partitions=1)
    kp.produce(b.bootstrap, topic, input=b"y" * 200000 + b"\n")
    req = fetch_v4(topic, [(0, 0)])
    with connect(b) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(b"".join(frame(req, corr) for corr in range(100)))
        assert b.wait_stderr("pending response bytes", timeout=10), b.stderr[-3000:]
        assert closed_by_peer(s, 10 * SLOW)
    assert b.running


def test_parked_fetch_is_not_an_idle_connection(broker, topic):
    """A Fetch waiting longer than connections.max.idle.ms is answered, not cut off."""
    b = broker("connections.max.idle.ms=1000", partitions=1)
    create_topic(b, topic, 1)
    with connect(b) as s:
        t0 = time.monotonic()
        resp = kcall(s, fetch_v4(topic, [(0, 0)], max_wait=2500, min_bytes=1))
        assert time.monotonic() - t0 >= 2.4
        assert fetched(resp)[0][0] == 0


def test_fetch_without_partitions_is_answered_at_once(broker, topic):
    """A Fetch that names no partition (the Java consumer sends one when it closes) is not
    parked for its max_wait (30 s here): Kafka answers it at once, and so does kbroker."""
    b = broker(partitions=1)
    with connect(b) as s:
        s.settimeout(10 * SLOW)
        resp = kcall(s, FetchRequest[4](-1, 30000, 1, 1048576, 0, []))
        assert resp.topics == [], resp


def test_parked_fetch_wakes_only_for_its_partitions(broker, topic):
    """A Fetch parked on partition 0 (max_wait 30 s) stays parked while records arrive on
    partition 1 and on another topic, and is answered with the record as soon as one
    arrives on partition 0."""
    b = broker(partitions=2)
    create_topic(b, topic, 2)
    create_topic(b, topic + "-other", 1)
    fetch = fetch_v4(topic, [(0, 0)], max_wait=30000, min_bytes=1)
    with connect(b) as s, connect(b) as p:
        s.sendall(frame(fetch, 5))
        time.sleep(0.3)
        kcall(p, ProduceRequest[3](None, 1, 10000, [(topic, [(1, record_batch([b"p1"]))])]))
        kcall(p, ProduceRequest[3](None, 1, 10000, [(topic + "-other",
                                                      [(0, record_batch([b"o"]))])]), corr=2)
        s.settimeout(1.0)
        with pytest.raises(socket.timeout):
            s.recv(1, socket.MSG_PEEK)  # still parked: nothing it asked for arrived
        s.settimeout(10 * SLOW)
        kcall(p, ProduceRequest[3](None, 1, 10000, [(topic, [(0, record_batch([b"p0"]))])]),
              corr=3)
        got, resp = read_response(s, fetch)
        assert got == 5
        err, hw, records = fetched(resp)[0]
        assert (err, hw) == (0, 1) and b"p0" in records, resp


# ---------------------------------------------------------------- hang-ups


def test_half_closed_client_gets_every_response(broker, topic):
    """A client that sends its requests and shuts down its sending side (printf | nc -N)
    gets all the answers, then EOF; a parked Fetch is answered at once, not after
    max_wait_ms, and not dropped."""
    b = broker(partitions=1)
    create_topic(b, topic, 1)
    req = ApiVersionRequest[0]()
    with connect(b) as s:
        s.sendall(b"".join(frame(req, corr) for corr in range(50)))
        s.shutdown(socket.SHUT_WR)
        assert [read_response(s, req)[0] for _ in range(50)] == list(range(50))
        assert s.recv(10) == b""

    fetch = fetch_v4(topic, [(0, 0)], max_wait=30000, min_bytes=1)
    with connect(b) as s:
        s.sendall(frame(fetch, 7) + frame(req, 8))
        time.sleep(0.3)
        t0 = time.monotonic()
        s.shutdown(socket.SHUT_WR)
        got, resp = read_response(s, fetch)
        assert (got, fetched(resp)[0][0]) == (7, 0)
        assert time.monotonic() - t0 < 5 * SLOW
        assert read_response(s, req)[0] == 8
        assert s.recv(10) == b""
    assert b.running


def test_parked_fetch_of_closed_connection_is_released(broker, topic):
    """Clients that close while their Fetch waits (max_wait 60 s) do not keep sockets and
    requests in the broker until the deadline."""
    b = broker(partitions=1)
    create_topic(b, topic, 1)
    time.sleep(0.2)
    base = proc_fds(b)
    socks = [connect(b) for _ in range(20)]
    for s in socks:
        s.sendall(frame(fetch_v4(topic, [(0, 0)], max_wait=60000, min_bytes=1), 1))
    assert wait_for(lambda: proc_fds(b) >= base + 20, 5 * SLOW)
    for s in socks:
        s.close()
    assert wait_for(lambda: proc_fds(b) <= base, 5 * SLOW), (base, proc_fds(b))
    with connect(b) as s:  # and the topic still wakes fetches
        kcall(s, ProduceRequest[3](None, 1, 10000, [(topic, [(0, record_batch([b"v"]))])]))
        resp = kcall(s, fetch_v4(topic, [(0, 0)], max_wait=5000, min_bytes=1), corr=2)
        assert fetched(resp)[0][1] == 1


def test_sigterm_answers_parked_fetch_and_exits(broker, topic):
    """SIGTERM with a parked Fetch and a half-received request: the Fetch is answered,
    the broker exits 0 promptly. The controlled shutdown first takes the partition's
    leadership away (no other replica can have it, so it has none, as Kafka's controller
    does), which answers the Fetch NOT_LEADER_OR_FOLLOWER; nothing was read either way."""
    b = broker(partitions=1)
    create_topic(b, topic, 1)
    with connect(b) as s, connect(b) as s2:
        s.sendall(frame(fetch_v4(topic, [(0, 0)], max_wait=60000, min_bytes=1), 3))
        s2.sendall(frame(ApiVersionRequest[0](), 1)[:7])
        time.sleep(0.3)
        t0 = time.monotonic()
        b.proc.terminate()
        got, resp = read_response(s, fetch_v4(topic, [(0, 0)]))
        assert got == 3 and fetched(resp)[0][0] in (0, NOT_LEADER_OR_FOLLOWER), fetched(resp)
        assert b.proc.wait(10 * SLOW) == 0
        assert time.monotonic() - t0 < 8 * SLOW


# ---------------------------------------------------------------- accept and EMFILE


class LimitedBroker(Broker):
    """A kbroker started with RLIMIT_NOFILE = nofile."""

    nofile = 64

    @property
    def args(self):
        return ["sh", "-c", f'ulimit -n {self.nofile} && exec "$@"', "sh", *super().args]


def test_accept_at_fd_limit_backs_off_and_recovers(bin_dir, tmp_path):
    """At the fd limit accept(2) fails with EMFILE: the broker must not spin on the
    readable listener (nor flood its log), and must accept again once fds are free."""
    (tmp_path / "logs").mkdir()
    b = LimitedBroker([], tmp_path / "logs")
    try:
        socks = []
        for _ in range(100):
            try:
                socks.append(socket.create_connection(("127.0.0.1", b.port), timeout=2))
            except OSError:
                break
        time.sleep(0.5)
        cpu0 = proc_cpu_s(b)
        time.sleep(1.5)
        used = proc_cpu_s(b) - cpu0
        assert used < 0.4, f"broker used {used:.2f} s of CPU in 1.5 s at the fd limit"
        assert b.wait_stderr("Too many open files"), b.stderr[-2000:]
        for s in socks:
            s.close()
        with socket.create_connection(("127.0.0.1", b.port), timeout=5 * SLOW) as s:
            s.settimeout(10 * SLOW)
            assert kcall(s, ApiVersionRequest[0]()).error_code == 0
        assert len(b.stderr.splitlines()) < 40, b.stderr[-3000:]
        assert "[warn]" not in b.stderr, b.stderr[-2000:]
        b.stop()
    finally:
        if b.running:
            b.kill9()
    b.check_sanitizer()


# ---------------------------------------------------------------- Fetch max_bytes (KIP-74)


def test_fetch_max_bytes_bounds_the_whole_response(broker, kp, topic):
    """max_bytes limits the response across partitions and batches; only the first batch
    of the first partition with data may exceed it (KIP-74)."""
    b = broker(partitions=2)
    for p in (0, 1):
        kp.produce(b.bootstrap, topic, "-p", str(p), input=b"z" * 1000 + b"\n")
    with connect(b) as s:
        got = fetched(kcall(s, fetch_v4(topic, [(0, 0), (1, 0)], max_bytes=1500)))
        size0 = len(got[0][2])
        assert 1000 < size0 < 1500 and got[1][2] == b"", (size0, len(got[1][2]))
        got = fetched(kcall(s, fetch_v4(topic, [(0, 0), (1, 0)], max_bytes=10), corr=2))
        assert len(got[0][2]) == size0 and got[1][2] == b""  # KIP-74: first batch whole
        got = fetched(kcall(s, fetch_v4(topic, [(0, 0), (1, 0)], max_bytes=3000), corr=3))
        assert len(got[0][2]) == size0 and len(got[1][2]) == size0
    for _ in range(4):
        kp.produce(b.bootstrap, topic, "-p", "0", input=b"w" * 1000 + b"\n")
    with connect(b) as s:
        got = fetched(kcall(s, fetch_v4(topic, [(0, 0)], max_bytes=2500)))
        assert len(got[0][2]) == 2 * size0, len(got[0][2])
        got = fetched(kcall(s, fetch_v4(topic, [(0, 0)], part_max=1500), corr=2))
        assert len(got[0][2]) == size0, len(got[0][2])


# ---------------------------------------------------------------- CreateTopics


def test_create_topics_duplicate_names_are_invalid_request(broker, topic):
    """Two entries for one topic in a CreateTopics request: the topic is not created and is
    answered once, INVALID_REQUEST, after the other topics' results (as Apache Kafka does);
    other topics in the request are created."""
    b = broker("auto.create.topics.enable=false")
    other = topic + "-other"
    with connect(b) as s:
        r = kcall(s, CreateTopicsRequest[1]([(topic, 1, 1, [], []), (other, 1, 1, [], []),
                                             (topic, 2, 1, [], [])], 10000, False))
        assert [(t[0], t[1]) for t in r.topic_errors] == [(other, 0), (topic, INVALID_REQUEST)], r
        md = kcall(s, MetadataRequest[4]([topic, other], False), corr=2)
        assert {t[1]: t[0] for t in md.topics} == {topic: UNKNOWN_TOPIC_OR_PARTITION, other: 0}


def test_create_topics_assignment_must_name_each_partition_once(broker, topic):
    """A manual assignment listing partition 0 twice is INVALID_REPLICA_ASSIGNMENT."""
    b = broker()
    with connect(b) as s:
        r = kcall(s, CreateTopicsRequest[0]([(topic, -1, -1, [(0, [1]), (0, [1])], [])], 10000))
        assert r.topic_errors[0][1] == INVALID_REPLICA_ASSIGNMENT, r
        r = kcall(s, CreateTopicsRequest[0]([(topic, -1, -1, [(1, [1]), (0, [1])], [])], 10000),
                  corr=2)
        assert r.topic_errors[0][1] == 0, r
        md = kcall(s, MetadataRequest[1]([topic]), corr=3)
        assert len(md.topics[0][3]) == 2


# ---------------------------------------------------------------- topic creation on disk


def test_file_in_the_way_of_a_new_partition_is_moved_aside(broker, topic):
    """A topic is created by the controller, in the metadata log; the broker then makes
    its replicas' directories. A file in the way of partition 2 is moved aside (kept, as
    NAME.<ms>-stray, like any stray log) and the partition made: every partition is
    served, nothing is left staged, and the topic is whole after a restart."""
    b = broker("auto.create.topics.enable=false")
    blocker = Path(b.logdir) / f"{topic}-2"
    blocker.write_bytes(b"not a directory")
    with connect(b) as s:
        r = kcall(s, CreateTopicsRequest[0]([(topic, 3, 1, [], [])], 10000))
        assert r.topic_errors[0][1] == 0, r

        def partitions(corr):
            md = kcall(s, MetadataRequest[1]([topic]), corr=corr)
            return sorted((p[1], p[0], p[2]) for p in md.topics[0][3])

        assert wait_for(lambda: partitions(2) == [(0, 0, 1), (1, 0, 1), (2, 0, 1)], 10 * SLOW)
        assert produce_v3(s, 3, topic, record_batch([b"a"]), partition=2) == (0, 0)
    assert blocker.is_dir()
    strays = list(Path(b.logdir).glob(f"{topic}-2.*-stray"))
    assert len(strays) == 1 and strays[0].read_bytes() == b"not a directory", os.listdir(b.logdir)
    assert not list(Path(b.logdir).glob(".*.creating")), os.listdir(b.logdir)
    b.restart()
    with connect(b) as s:
        assert produce_v3(s, 1, topic, record_batch([b"b"]), partition=2) == (0, 1)
        md = kcall(s, MetadataRequest[1]([topic]), corr=2)
        assert sorted((p[1], p[0]) for p in md.topics[0][3]) == [(0, 0), (1, 0), (2, 0)], md


def test_interrupted_topic_creation_does_not_wedge_restart(broker, kp, topic):
    """Leftovers of a creation killed half way (staging directories, partitions renamed
    but no partition 0) are cleaned or set aside: the broker starts, the topic is absent,
    and creating it works."""
    b = broker("auto.create.topics.enable=false")
    b.kill9()
    d = Path(b.logdir)
    meta = "version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAQ\n"
    for name in (f".{topic}-0.creating", f"{topic}-1", f"{topic}-2"):
        (d / name).mkdir()
        (d / name / "partition.metadata").write_text(meta)
    (d / f".{topic}-0.creating" / "partition.metadata.tmp").write_text("version")
    b.restart()
    assert not list(d.glob(".*.creating")), os.listdir(d)
    with connect(b) as s:
        md = kcall(s, MetadataRequest[4]([topic], False))
        assert md.topics[0][0] == UNKNOWN_TOPIC_OR_PARTITION, md
        r = kcall(s, CreateTopicsRequest[0]([(topic, 3, 1, [], [])], 10000), corr=2)
        assert r.topic_errors[0][1] == 0, r
    kp.produce(b.bootstrap, topic, "-p", "2", input=lines(0, 3))
    assert kp.consume(b.bootstrap, topic, "-p", "2", "-o", "beginning", "-e").stdout == lines(0, 3)
    assert len(list(d.glob(f"{topic}-*-stray"))) == 2, os.listdir(d)
    b.restart()
    assert kp.consume(b.bootstrap, topic, "-p", "2", "-o", "beginning", "-e").stdout == lines(0, 3)


# ---------------------------------------------------------------- ListOffsets


def test_list_offsets_leader_epoch_and_max_timestamp(broker, topic):
    """A timestamp past every record finds nothing: offset -1, timestamp -1 and leader
    epoch -1 (not the partition's epoch). MAX_TIMESTAMP (-3, v7+) gives the largest
    timestamp and the offset of the first record carrying it (as Apache Kafka 4 answers)."""
    b = broker(partitions=1)
    create_topic(b, topic, 1)
    with connect(b) as s:
        assert list_offsets(s, 7, topic, [(0, -3)]) == [(0, 0, -1, -1, -1)]
        for i, ts in enumerate((1000, 5000, 3000)):
            body = (struct.pack(">hhi", -1, -1, 10000) + struct.pack(">i", 1) + kstr(topic) +
                    struct.pack(">i", 1) + struct.pack(">i", 0))
            batch = record_batch([b"a%d" % i, b"b%d" % i], ts=ts)
            r = call(s, 0, 3, 10 + i, body + struct.pack(">i", len(batch)) + batch)
            r.pos += 4 + 2 + len(topic) + 4 + 4
            assert r.take(">h") == 0
        got = list_offsets(s, 4, topic, [(0, 10**13), (0, 2000), (0, -1), (0, -2)], corr=2)
        assert got == [(0, 0, -1, -1, -1), (0, 0, 5000, 2, 0), (0, 0, -1, 6, 0),
                       (0, 0, -1, 0, 0)], got
        assert list_offsets(s, 7, topic, [(0, -3)], corr=3) == [(0, 0, 5000, 2, 0)]


# ---------------------------------------------------------------- Produce acks=0


def test_produce_acks0_error_closes_the_connection(broker, topic):
    """acks=0 gets no response, so a failed partition closes the connection instead (as
    Kafka does) for the producer to notice; a successful acks=0 produce keeps it open."""
    b = broker("auto.create.topics.enable=false", partitions=1)
    create_topic(b, topic, 1)
    ok = ProduceRequest[3](None, 0, 10000, [(topic, [(0, record_batch([b"v"]))])])
    bad = ProduceRequest[3](None, 0, 10000, [(topic, [(0, record_batch([b"w"]))]),
                                             ("no-such-topic", [(0, record_batch([b"x"]))])])
    with connect(b) as s:
        s.sendall(frame(ok, 1))
        assert kcall(s, ApiVersionRequest[0](), corr=2).error_code == 0
        s.sendall(frame(bad, 3))
        assert closed_by_peer(s, 5 * SLOW)
    assert b.wait_stderr("UNKNOWN_TOPIC_OR_PARTITION"), b.stderr[-2000:]
    with connect(b) as s:
        assert list_offsets(s, 4, topic, [(0, -1)]) == [(0, 0, -1, 2, 0)]


# ---------------------------------------------------------------- Metadata


def metadata_v8(sock, topics, topic_ops, cluster_ops, corr=1):
    """Metadata v8: ({topic: (error, is_internal, topic_authorized_operations)}, cluster ops)."""
    body = (struct.pack(">i", len(topics)) + b"".join(kstr(t) for t in topics) +
            struct.pack(">???", True, cluster_ops, topic_ops))
    r = call(sock, 3, 8, corr, body)
    r.take(">i")
    for _ in range(r.take(">i")):
        r.take(">i")
        r.string()
        r.take(">i")
        assert r.take(">h") == -1  # null rack
    n = r.take(">h")
    r.pos += max(n, 0)
    r.take(">i")
    out = {}
    for _ in range(r.take(">i")):
        err = r.take(">h")
        name = r.string()
        internal = r.take(">?")
        for _ in range(r.take(">i")):
            r.take(">hiii")
            for _ in range(3):  # replicas, isr, offline replicas
                count = r.take(">i")
                r.pos += 4 * count
        out[name] = (err, internal, r.take(">i"))
    return out, r.take(">i")


def test_metadata_authorized_operations_and_internal_topics(broker, topic):
    """Authorized operations are -2147483648 unless asked for; asked for (no authorizer),
    every operation Kafka supports on a topic / the cluster. Only Kafka's own internal
    topics are is_internal, not any "__" name."""
    b = broker()
    user = "__" + topic
    with connect(b) as s:
        topics, cluster = metadata_v8(s, [topic, user], False, False)
        assert topics[topic] == (0, False, -2147483648) and cluster == -2147483648
        assert topics[user] == (0, False, -2147483648)
        topics, cluster = metadata_v8(s, [topic], True, True, corr=2)
        assert topics[topic] == (0, False, 0x0DF8) and cluster == 0x1FA0
