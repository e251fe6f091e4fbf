"""kproduce keeps several Produce requests in flight to one broker without reordering.

A small TCP proxy sits between kproduce and the broker. The broker advertises the proxy's
address (advertised.listeners), so every connection kproduce makes goes through it. The
proxy reads the client's request frames (int32 size, then int16 api_key, int16
api_version, int32 correlation id), holds each Produce request (api key 0) for HOLD
seconds before forwarding it, forwards every other request at once, relays the responses,
and records how many Produce requests were outstanding at once: read from the client, their
response not yet relayed back. With every Produce held that long, a producer that waits for
each answer before sending the next shows 1; one that pipelines shows more.

Each test runs against kbroker and Apache Kafka (the target fixture)."""
import socket
import struct
import threading
import time
from collections import deque

import pytest

from conftest import SLOW, create_topic

HOLD = 0.2          # seconds each Produce request is held before the broker sees it
PRODUCE = 0


def recv_exact(sock, n):
    """n bytes from sock, or None at EOF (or when the socket was closed under us)."""
    buf = bytearray()
    while len(buf) < n:
        try:
            chunk = sock.recv(n - len(buf))
        except OSError:
            return None
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def read_frame(sock):
    """One Kafka frame (the int32 size included), or None at EOF."""
    head = recv_exact(sock, 4)
    if head is None:
        return None
    (size,) = struct.unpack(">i", head)
    body = recv_exact(sock, size)
    return None if body is None else head + body


class ProduceHoldingProxy:
    """127.0.0.1:port -> the broker at upstream (set once the broker is started: the broker
    needs the proxy's port for advertised.listeners first). Holds every Produce request for
    `hold` seconds, in order per connection; counts Produce requests outstanding."""

    def __init__(self, hold):
        self.hold = hold
        self.upstream = None
        self.ready = threading.Event()
        self.lock = threading.Lock()
        self.outstanding = 0
        self.max_outstanding = 0
        self.produce_requests = 0
        self.api_keys = set()
        self.errors = []
        self.socks = []
        self.threads = []
        self.closed = False
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self._spawn(self._accept)

    def start(self, upstream_port):
        self.upstream = ("127.0.0.1", upstream_port)
        self.ready.set()

    def reset(self):
        with self.lock:
            self.max_outstanding = self.outstanding
            self.produce_requests = 0

    def _spawn(self, fn, *args):
        t = threading.Thread(target=fn, args=args, daemon=True)
        self.threads.append(t)
        t.start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.ready.wait(60) or self.closed:
                client.close()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=10)
                server.settimeout(None)
            except OSError as e:
                self.errors.append(f"connect {self.upstream}: {e}")
                client.close()
                continue
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.socks += [client, server]
            conn = {"pending": set(), "queue": deque(), "cv": threading.Condition(),
                    "eof": False}
            self._spawn(self._requests_in, client, conn)
            self._spawn(self._requests_out, server, conn)
            self._spawn(self._responses, server, client, conn)

    def _requests_in(self, client, conn):
        """Read the client's requests as they come; queue each with its release time."""
        while True:
            frame = read_frame(client)
            if frame is None:
                break
            api_key, _, corr = struct.unpack(">hhi", frame[4:12])
            now = time.monotonic()
            with self.lock:
                self.api_keys.add(api_key)
                if api_key == PRODUCE:
                    conn["pending"].add(corr)
                    self.produce_requests += 1
                    self.outstanding += 1
                    self.max_outstanding = max(self.max_outstanding, self.outstanding)
            release = now + self.hold if api_key == PRODUCE else now
            with conn["cv"]:
                conn["queue"].append((release, frame))
                conn["cv"].notify()
        with conn["cv"]:
            conn["eof"] = True
            conn["cv"].notify()

    def _requests_out(self, server, conn):
        """Forward the queued requests in their order, each no earlier than its release time
        (a request behind a held Produce waits for it: a connection keeps its order)."""
        while True:
            with conn["cv"]:
                while not conn["queue"] and not conn["eof"]:
                    conn["cv"].wait()
                if not conn["queue"]:
                    break
                release, frame = conn["queue"].popleft()
            delay = release - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            try:
                server.sendall(frame)
            except OSError:
                break
        try:
            server.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _responses(self, server, client, conn):
        """Relay the broker's responses; a Produce response ends that request's wait."""
        while True:
            frame = read_frame(server)
            if frame is None:
                break
            (corr,) = struct.unpack(">i", frame[4:8])
            with self.lock:
                if corr in conn["pending"]:
                    conn["pending"].discard(corr)
                    self.outstanding -= 1
            try:
                client.sendall(frame)
            except OSError:
                break
        with self.lock:   # requests that never got an answer are no longer outstanding
            self.outstanding -= len(conn["pending"])
            conn["pending"].clear()
        for s in (client, server):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.closed = True
        self.ready.set()
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        with self.lock:
            socks = list(self.socks)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        for t in self.threads:
            t.join(10)


@pytest.fixture
def proxy():
    p = ProduceHoldingProxy(HOLD)
    yield p
    p.close()
    assert not p.errors, p.errors


def broker_behind(request, target, proxy):
    """A broker of the target kind advertising the proxy's address; the proxy forwards to it."""
    adv = f"advertised.listeners=PLAINTEXT://127.0.0.1:{proxy.port}"
    callspec = getattr(request.node, "callspec", None)
    if callspec and callspec.params.get("target") == "kafka":
        b = target(adv, partitions=1, fresh=True)   # stopped at this test's teardown
    else:
        b = target(adv, partitions=1)
    proxy.start(b.port)
    return b


# (what, kproduce arguments, whether several Produce requests may be outstanding)
MODES = [
    ("acks=all (idempotent by default)", ["-a", "all"], True),
    ("acks=all, -X enable.idempotence=true", ["-a", "all", "-X", "enable.idempotence=true",
                                              "-X", "max.in.flight.requests.per.connection=5"],
     True),
    ("acks=all, -X enable.idempotence=false", ["-a", "all", "-X", "enable.idempotence=false"],
     False),
]


def produce_through(request, target, proxy, kp, topic, what, args, pipelined):
    """Thousands of lines in small batches (--linger-ms=0 --batch-size=1000) to partition 0
    through the proxy. Pipelined (idempotent): more than one Produce request was outstanding
    at some moment, at most max.in.flight.requests.per.connection (5). Not: exactly one at a
    time, as documented. Either way kconsume reads back exactly the input lines, in order."""
    b = broker_behind(request, target, proxy)
    via = f"127.0.0.1:{proxy.port}"
    create_topic(via, topic, 1)
    n = 2000 if pipelined else 800
    data = b"".join(b"line %06d of the in-flight test\n" % i for i in range(n))
    proxy.reset()
    t0 = time.monotonic()
    kp.produce(via, topic, "-p", "0", "--linger-ms=0", "--batch-size=1000", *args,
               input=data, timeout=120)
    took = time.monotonic() - t0
    sent, most = proxy.produce_requests, proxy.max_outstanding
    info = (f"{what} on {b.kind}: {sent} Produce requests in {took:.1f} s, at most {most} "
            f"outstanding at once (api keys seen: {sorted(proxy.api_keys)})")
    print(info)
    assert sent >= 10, f"too few Produce requests to tell: {info}"
    if pipelined:
        assert 1 < most <= 5, info
        # Held HOLD s each, one at a time they would take sent * HOLD.
        assert took < sent * HOLD, info
    else:
        assert most == 1, info
    assert proxy.outstanding == 0, info
    # Every record once, in input order (kconsume, too, reaches the leader through the proxy).
    assert kp.consume_all(via, topic, "-p", "0") == data, info


def test_produce_requests_in_flight_keep_order(request, target, proxy, kp, topic):
    """acks=all, idempotent by default: several requests in flight, order kept; on kbroker
    and on Apache Kafka."""
    produce_through(request, target, proxy, kp, topic, *MODES[0])


@pytest.mark.parametrize("what,args,pipelined", MODES[1:], ids=["idempotent", "plain"])
def test_in_flight_follows_idempotence(request, broker, proxy, kp, topic, what, args, pipelined):
    """-X enable.idempotence=true keeps up to 5 in flight, =false one at a time: the client's
    setting, shown on one broker kind (each Kafka case needs a node of its own, advertising
    this proxy)."""
    produce_through(request, broker, proxy, kp, topic, what, args, pipelined)
