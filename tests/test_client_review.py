"""kproduce and kconsume edge cases: streaming memory, delivery when the broker goes away,
slow and binary input, -e while records keep arriving, out-of-range offsets, readers that
go away, and large records. The client-side ones run against kbroker and Apache Kafka."""
import os
import re
import signal
import socket
import struct
import subprocess
import threading
import time

import pytest

from conftest import ASAN, BIN, BUILD, SLOW, sanitizer_report


def popen(prog, *args, env=None, **kw):
    return subprocess.Popen([str(BIN / prog), *map(str, args)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, **kw)


def finish(p, timeout):
    """Wait for p (stdin already closed); return (returncode, stdout, stderr text)."""
    if p.stdin and p.stdin.closed:
        p.stdin = None
    try:
        out, err = p.communicate(timeout=timeout * SLOW)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        pytest.fail(f"{p.args[0]} still running after {timeout * SLOW} s; stderr: {err[-2000:]!r}")
    err = err.decode(errors="replace")
    assert not (ASAN and sanitizer_report(err)), err[-6000:]
    return p.returncode, out, err


def vm_hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^VmHWM:\s+(\d+) kB", f.read(), re.M).group(1))


# ---------------------------------------------------------------- kproduce


def test_kproduce_streams_input_in_bounded_memory(target, kp, topic):
    """200 MB through a pipe: kproduce keeps sending while it reads (it used to hold every
    batch after the first until EOF), so its peak RSS stays far below the input size."""
    b = target(partitions=1)
    env = dict(os.environ)
    if ASAN:  # freed batches would otherwise sit in ASan's 256 MB quarantine
        env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=8"
    p = popen("kproduce", "-b", b.bootstrap, "-t", topic, env=env)
    block = b"".join(b"%08d-" % i + b"m" * 1014 + b"\n" for i in range(1024))  # 1 MiB
    nblocks = 200
    for _ in range(nblocks):
        p.stdin.write(block)
    p.stdin.flush()
    peak = vm_hwm_kb(p.pid)
    p.stdin.close()
    rc, _, err = finish(p, 120)
    assert rc == 0, err
    assert peak < (120 if ASAN else 40) * 1024, f"kproduce peak RSS {peak} kB for 200 MB of input"
    last = kp.run("kcat", "-C", "-b", b.bootstrap, "-t", topic, "-o", "-1", "-e", "-q",
                  "-f", "%o %s\n", timeout=60, check_sanitizer=False)
    assert last.stdout == b"%d " % (nblocks * 1024 - 1) + block.splitlines(keepends=True)[-1]


def test_kproduce_slow_pipe_delivers_each_line(target, kp, topic):
    """Lines that trickle in are sent after linger.ms, while kproduce still waits for more."""
    b = target(partitions=1)
    p = popen("kproduce", "-b", b.bootstrap, "-t", topic)
    try:
        for i in range(3):
            p.stdin.write(b"line %d\n" % i)
            p.stdin.flush()
            got = kp.consume(b.bootstrap, topic, "-o", "beginning", "-c", str(i + 1),
                             timeout=20).stdout
            assert got == b"".join(b"line %d\n" % k for k in range(i + 1))
            assert p.poll() is None
    finally:
        p.stdin.close()
    rc, _, err = finish(p, 30)
    assert rc == 0, err


def test_kproduce_broker_gone_mid_stream(broker, kp, topic):
    """When the broker dies mid-stream kproduce exits 1 within delivery.timeout.ms, naming
    the first undelivered line, the setting and the connection error."""
    b = broker(partitions=1)
    p = popen("kproduce", "-b", b.bootstrap, "-t", topic, "-X", "delivery.timeout.ms=2000")
    p.stdin.write(b"one\ntwo\n")
    p.stdin.flush()
    assert kp.consume(b.bootstrap, topic, "-o", "beginning", "-c", "2", timeout=20).stdout == \
        b"one\ntwo\n"
    b.kill9()
    t0 = time.monotonic()
    p.stdin.write(b"three\nfour\n")
    p.stdin.close()
    rc, _, err = finish(p, 30)
    elapsed = time.monotonic() - t0
    assert rc == 1, err
    assert elapsed < 2 + 5 * SLOW, f"took {elapsed:.1f} s"
    assert err.startswith("kproduce: record at line 3 not delivered"), err
    assert "delivery.timeout.ms (2000 ms)" in err and b.bootstrap in err, err


def test_kproduce_binary_long_lines_and_key_edges(target, kp, topic):
    """NUL, 0xff and CR bytes pass through; a 3 MB line is one record (message.max.bytes
    raised) that kconsume reads even with a 1 KiB max.partition.fetch.bytes; -k with a
    multi-byte delimiter at the start, at the end, missing and repeated; a line larger than
    max.request.size fails at once (after the lines before it are delivered)."""
    b = target("message.max.bytes=5000000", partitions=1)
    big = bytes(range(256)).replace(b"\n", b"").replace(b"=", b"") * (3_000_000 // 254)
    data = (b"k1=>v1\n" b"=>empty key\n" b"no key\n" b"k2=>\n" b"=>=>x\n" b"a\0b=>\xff\r\n"
            + big + b"\n" b"last")
    kp.produce(b.bootstrap, topic, "-k", "=>", input=data)
    want = data + b"\n"
    for args in ([], ["-X", "max.partition.fetch.bytes=1024", "-X", "fetch.max.bytes=1024"]):
        assert kp.consume_all(b.bootstrap, topic, "-k", "=>", *args) == \
            want.replace(b"no key\n", b"=>no key\n").replace(big + b"\n", b"=>" + big + b"\n") \
            .replace(b"\nlast\n", b"\n=>last\n")
    p = kp.produce(b.bootstrap, topic + "-small", "-X", "max.request.size=1024",
                   input=b"ok\n" + b"y" * 2000 + b"\nnot sent\n", ok=False, timeout=30)
    assert p.returncode == 1 and p.err == "kproduce: record at line 2 has 2000 bytes of key and " \
        "value, more than max.request.size (1024)\n", p.err
    assert kp.consume_all(b.bootstrap, topic + "-small") == b"ok\n"
    keys = kp.run("kcat", "-C", "-b", b.bootstrap, "-t", topic, "-o", "beginning", "-e", "-q",
                  "-f", "%K|%S\n", timeout=60, check_sanitizer=False).stdout
    assert keys.split(b"\n")[:8] == [b"2|2", b"0|9", b"-1|6", b"2|0", b"0|3", b"3|2",
                                     b"-1|%d" % len(big), b"-1|4"]


# ---------------------------------------------------------------- kconsume


def test_kconsume_exit_at_end_while_records_keep_arriving(target, kp, topic):
    """-e stops at the end each partition had when kconsume started, even though a
    producer keeps appending faster than the (slowly read) output drains."""
    b = target(partitions=1)
    line = b"x" * 200 + b"\n"
    kp.produce(b.bootstrap, topic, input=line * 10000)  # 2 MB before kconsume starts
    prod = popen("kproduce", "-b", b.bootstrap, "-t", topic)
    stop = threading.Event()

    def feed():  # about 4 MB/s, for as long as the test runs
        try:
            while not stop.is_set():
                prod.stdin.write(line * 200)
                prod.stdin.flush()
                time.sleep(0.01)
        except (BrokenPipeError, ValueError):
            pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        time.sleep(0.5)
        cons = popen("kconsume", "-b", b.bootstrap, "-t", topic, "-o", "beginning", "-e")
        cons.stdin.close()
        got, deadline = 0, time.monotonic() + 30 * SLOW
        while time.monotonic() < deadline:  # read about 1.3 MB/s
            chunk = os.read(cons.stdout.fileno(), 65536)
            if not chunk:
                break
            got += len(chunk)
            time.sleep(0.05)
        else:
            cons.kill()
            pytest.fail(f"kconsume -e still reading after {got} bytes")
        rc, _, err = finish(cons, 10)
        assert rc == 0, err
        assert got >= len(line) * 10000 and got % len(line) == 0, got
    finally:
        stop.set()
        feeder.join(10)
        prod.stdin.close()
        finish(prod, 60)


def test_kconsume_exits_without_waiting_when_at_end(target, kp, topic):
    """With -e, an empty topic and -o end exit at once, not after a long-poll Fetch."""
    b = target(partitions=2)
    slow_fetch = ["-X", "fetch.max.wait.ms=10000"]
    for args in (["-o", "beginning"], ["-o", "end"], ["-o", "-5"]):
        t0 = time.monotonic()
        out = kp.consume(b.bootstrap, topic, "-e", *args, *slow_fetch, timeout=30).stdout
        assert out == b"" and time.monotonic() - t0 < 5, args
    kp.produce(b.bootstrap, topic, "-p", "1", input=b"a\nb\n")
    t0 = time.monotonic()
    assert kp.consume(b.bootstrap, topic, "-e", "-o", "end", *slow_fetch, timeout=30).stdout == b""
    assert kp.consume(b.bootstrap, topic, "-e", "-o", "-1", *slow_fetch, timeout=30).stdout == b"b\n"
    assert time.monotonic() - t0 < 8


def test_kconsume_offsets_out_of_range_and_counts(target, kp, topic):
    """-o OFFSET past the end starts at the end with a warning naming the range (it used to
    reset to the beginning and print everything); -o -N past the start is the start; -c
    stops across partitions; -k '' is a usage error."""
    b = target(partitions=3)
    data = b"".join(b"r%02d\n" % i for i in range(30))
    kp.produce(b.bootstrap, topic, "-p", "0", input=data)
    p = kp.consume(b.bootstrap, topic, "-p", "0", "-o", "1000", "-e")
    assert p.stdout == b""
    assert re.search(r"offset 1000 is out of range for topic \S+ partition 0 \(log start offset 0, "
                     r"log end offset 30\); reading from offset 30", p.err), p.err
    assert kp.consume(b.bootstrap, topic, "-o", "-1000", "-e").stdout == data
    kp.produce(b.bootstrap, topic, "-p", "2", input=data)
    out = kp.consume(b.bootstrap, topic, "-o", "beginning", "-c", "45", timeout=30).stdout
    assert len(out.splitlines()) == 45
    p = kp.run("kconsume", "-b", b.bootstrap, "-t", topic, "-k", "", timeout=15)
    assert p.returncode == 2 and "key delimiter" in p.err, p.err


def test_kconsume_reader_gone_while_idle(target, kp, topic):
    """`kconsume | head -1` ends quietly soon after head exits, even with no new records."""
    b = target(partitions=1)
    kp.produce(b.bootstrap, topic, input=b"a\nb\n")
    p = popen("kconsume", "-b", b.bootstrap, "-t", topic, "-o", "beginning")
    p.stdin.close()
    assert p.stdout.readline() == b"a\n"
    p.stdout.close()  # what head does after its first line
    try:
        rc = p.wait(10 * SLOW)
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGKILL)
        p.wait()
        pytest.fail("kconsume kept running after its reader went away")
    err = p.stderr.read().decode(errors="replace")
    assert rc == 0 and not err.strip(), (rc, err)


# ---------------------------------------------------------------- another broker

class FakeBroker(threading.Thread):
    """A minimal Kafka broker of an older kind, in Python: it answers ApiVersions v3 with
    UNSUPPORTED_VERSION and serves only ApiVersions v0, Metadata v1, Produce v3,
    ListOffsets v1 and Fetch v4 for one topic on node 7. It keeps batches as sent, cuts
    fetched data at partition_max_bytes without the KIP-74 first-batch exception, and
    can answer the first Produce of each partition with an error (`produce_errors`) and
    every Fetch of a partition with one (`fetch_errors`), or go away (stop listening and
    close the connection) when a request with API key `die_on` comes."""

    VERSIONS = {18: (0, 0), 3: (0, 1), 0: (3, 3), 2: (0, 1), 1: (4, 4)}

    def __init__(self, topic, partitions, produce_errors=None, fetch_errors=None, die_on=None):
        super().__init__(daemon=True)
        self.die_on = die_on
        self.topic, self.partitions = topic.encode(), partitions
        self.produce_errors = dict(produce_errors or {})
        self.fetch_errors = dict(fetch_errors or {})
        self.logs = {p: [] for p in range(partitions)}  # [(base offset, batch bytes)]
        self.requests = []  # (api key, version)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.start()

    def run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        with conn:
            while True:
                head = recv_exact(conn, 4)
                if not head:
                    return
                req = recv_exact(conn, struct.unpack(">i", head)[0])
                key, ver, corr = struct.unpack_from(">hhi", req)
                self.requests.append((key, ver))
                if key == self.die_on:
                    self.sock.close()
                    return
                body = Reader(req, 8)
                body.string()  # client id
                lo, hi = self.VERSIONS.get(key, (0, -1))
                if key == 18 and ver > hi:
                    resp = struct.pack(">hi", 35, 1) + struct.pack(">hhh", 18, 0, 0)
                elif not lo <= ver <= hi:
                    return  # what a real broker does with a version it does not serve
                else:
                    resp = getattr(self, f"api_{key}")(body)
                if resp is not None:
                    conn.sendall(struct.pack(">ii", len(resp) + 4, corr) + resp)

    def api_18(self, r):
        return struct.pack(">hi", 0, len(self.VERSIONS)) + b"".join(
            struct.pack(">hhh", k, lo, hi) for k, (lo, hi) in self.VERSIONS.items())

    def api_3(self, r):
        parts = b"".join(struct.pack(">hii", 0, p, 7) + struct.pack(">ii", 1, 7) +
                         struct.pack(">ii", 1, 7) for p in range(self.partitions))
        return (struct.pack(">i", 1) + struct.pack(">i", 7) + kstr(b"127.0.0.1") +
                struct.pack(">ih", self.port, -1) + struct.pack(">i", 7) +
                struct.pack(">i", 1) + struct.pack(">h", 0) + kstr(self.topic) + b"\0" +
                struct.pack(">i", self.partitions) + parts)

    def end(self, p):
        log = self.logs[p]
        return log[-1][0] + struct.unpack_from(">i", log[-1][1], 23)[0] + 1 if log else 0

    def api_0(self, r):
        r.string()
        acks, _ = r.take(">hi")
        out = []
        for _ in range(r.take(">i")[0]):
            name, parts = r.string(), []
            for _ in range(r.take(">i")[0]):
                p, n = r.take(">ii")
                data = r.raw(n)
                code = self.produce_errors.pop(p, 0)
                base = self.end(p)
                if not code:
                    self.logs[p].append((base, struct.pack(">q", base) + data[8:]))
                parts.append(struct.pack(">ihqq", p, code, base if not code else -1, -1))
            out.append(kstr(name) + struct.pack(">i", len(parts)) + b"".join(parts))
        if acks == 0:
            return None
        return struct.pack(">i", len(out)) + b"".join(out) + struct.pack(">i", 0)

    def api_2(self, r):
        r.take(">i")
        out = []
        for _ in range(r.take(">i")[0]):
            name, parts = r.string(), []
            for _ in range(r.take(">i")[0]):
                p, ts = r.take(">iq")
                off = 0 if ts == -2 else self.end(p)
                parts.append(struct.pack(">ihqq", p, 0, -1, off))
            out.append(kstr(name) + struct.pack(">i", len(parts)) + b"".join(parts))
        return struct.pack(">i", len(out)) + b"".join(out)

    def api_1(self, r):
        r.take(">iiiib")
        out = []
        for _ in range(r.take(">i")[0]):
            name, parts = r.string(), []
            for _ in range(r.take(">i")[0]):
                p, off, maxb = r.take(">iqi")
                data = b"".join(b for base, b in self.logs[p]
                                if base + struct.unpack_from(">i", b, 23)[0] >= off)[:maxb]
                hw = self.end(p)
                parts.append(struct.pack(">ihqqi", p, self.fetch_errors.get(p, 0), hw, hw, -1) + struct.pack(">i", len(data))
                             + data)
            out.append(kstr(name) + struct.pack(">i", len(parts)) + b"".join(parts))
        return struct.pack(">ii", 0, len(out)) + b"".join(out)

    def close(self):
        self.sock.close()


class Reader:
    def __init__(self, data, pos=0):
        self.data, self.pos = data, pos

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return v

    def raw(self, n):
        self.pos += n
        return self.data[self.pos - n:self.pos]

    def string(self):
        n = self.take(">h")[0]
        return b"" if n < 0 else self.raw(n)


def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return b""
        buf += chunk
    return buf


def kstr(b):
    return struct.pack(">h", len(b)) + b


def test_tools_against_an_older_broker(kp, topic):
    """Against a broker that only serves old versions (ApiVersions v0, Metadata v1, Produce
    v3, ListOffsets v1, Fetch v4), answers the first Produce with NOT_LEADER_OR_FOLLOWER
    and returns partial batches cut at partition_max_bytes, kproduce retries after a
    metadata refresh and kconsume grows its fetch size until a 3 MB record fits; a Fetch
    error is reported with Kafka's name for it."""
    fb = FakeBroker(topic, 2, produce_errors={0: 6}, fetch_errors={1: 29})
    try:
        big = b"z" * 3_000_000
        data = b"".join(b"r%d\n" % i for i in range(100)) + big + b"\nend\n"
        kp.produce(fb.bootstrap, topic, "-p", "0", "-X", "batch.size=500", input=data)
        assert fb.produce_errors == {}, "the NOT_LEADER_OR_FOLLOWER answer was not sent"
        assert (3, 1) in fb.requests and fb.requests.count((3, 1)) >= 2, fb.requests
        assert kp.consume(fb.bootstrap, topic, "-p", "0", "-o", "beginning", "-e",
                          timeout=60).stdout == data
        p = kp.consume(fb.bootstrap, topic, "-o", "beginning", "-e", ok=False)
        assert p.returncode == 1 and p.err == \
            f"kconsume: cannot fetch topic {topic} partition 1: TOPIC_AUTHORIZATION_FAILED\n", p.err
        assert kp.consume(fb.bootstrap, topic, "-p", "0", "-o", "-2", "-e").stdout == big + b"\nend\n"
        used = set(fb.requests)
        assert {(18, 3), (18, 0), (3, 1), (0, 3), (2, 1), (1, 4)} <= used, used
        assert {k for k, _ in used} == {18, 3, 0, 2, 1}, used
    finally:
        fb.close()


def test_producer_second_topic_while_request_in_flight(target, kp, topic):
    """A producer that meets a new topic while a Produce request is in flight reads that
    response before asking for the topic's metadata on the same connection (it used to
    read the Produce response as the Metadata one and fail, and could then touch request
    entries the topic list's realloc had moved)."""
    b = target(partitions=1)
    tool = BUILD / "tests" / "tools" / "produce_topics"
    p = kp.run(tool, b.bootstrap, topic + "-a", topic + "-b", timeout=60)
    assert p.returncode == 0, p.err
    assert kp.consume_all(b.bootstrap, topic + "-a") == b"".join(b"a-%d\n" % i for i in range(100))
    assert kp.consume_all(b.bootstrap, topic + "-b") == b"".join(b"b-%d\n" % i for i in range(10))


def test_kconsume_broker_gone_while_resolving_offsets(kp, topic):
    """A broker that goes away when asked for offsets (ListOffsets) makes kconsume exit 1
    after request.timeout.ms naming it, instead of retrying for ever."""
    fb = FakeBroker(topic, 1, die_on=2)
    try:
        t0 = time.monotonic()
        p = kp.consume(fb.bootstrap, topic, "-o", "beginning", "-e", "-X", "request.timeout.ms=1000",
                       ok=False, timeout=30)
        assert p.returncode == 1, p.err
        assert p.err.startswith("kconsume: ") and fb.bootstrap in p.err, p.err
        assert time.monotonic() - t0 < 1 + 5 * SLOW
    finally:
        fb.close()
