"""Bad input: garbage and oversized frames, unreachable brokers, bad options, busy ports."""
import socket
import struct
import threading
import time

import pytest

from conftest import SLOW, free_port


def disconnected(sock, timeout=5):
    """True if the peer closes the connection (EOF or reset) within timeout seconds."""
    sock.settimeout(timeout * SLOW)
    try:
        while True:
            data = sock.recv(65536)
            if data == b"":
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


class ProducerLoop(threading.Thread):
    """Runs kproduce over and over in the background, recording every exit status."""

    def __init__(self, kp, bootstrap, topic):
        super().__init__(daemon=True)
        self.kp, self.bootstrap, self.topic = kp, bootstrap, topic
        self.results = []  # (batch number, returncode, stderr)
        self.stopping = threading.Event()
        self.error = None

    def run(self):
        try:
            n = 0
            while not self.stopping.is_set():
                data = b"".join(b"batch%d-%d\n" % (n, i) for i in range(20))
                p = self.kp.run("kproduce", "-b", self.bootstrap, "-t", self.topic,
                                input=data, timeout=30)
                self.results.append((n, p.returncode, p.err))
                n += 1
        except BaseException as e:  # noqa: BLE001 - reported by the test
            self.error = e

    def wait_batches(self, k, timeout=30):
        deadline = time.monotonic() + timeout * SLOW
        start = len(self.results)
        while len(self.results) < start + k and time.monotonic() < deadline and self.is_alive():
            time.sleep(0.05)
        assert len(self.results) >= start + k, f"producer loop stalled: {self.error}"


def bad_clients_while_producing(b, kp, topic, payloads):
    """Send each payload on its own connection while kproduce keeps producing."""
    loop = ProducerLoop(kp, b.bootstrap, topic)
    loop.start()
    try:
        loop.wait_batches(2)  # before
        for payload in payloads:
            with socket.create_connection(("127.0.0.1", b.port), timeout=5) as s:
                s.sendall(payload)
                assert disconnected(s), f"broker kept the connection open after {payload[:40]!r}"
            loop.wait_batches(1)  # during
        assert b.wait_stderr("closing connection"), b.stderr[-3000:]
        loop.wait_batches(2)  # after
    finally:
        loop.stopping.set()
        loop.join(60 * SLOW)
    assert loop.error is None, loop.error
    bad = [(n, rc, err) for n, rc, err in loop.results if rc != 0]
    assert not bad, f"kproduce failed while bad clients were connected: {bad[:3]}"
    out = kp.consume_all(b.bootstrap, topic).splitlines()
    assert len(out) == 20 * len(loop.results)
    assert b.running


def test_http_garbage_is_disconnected(broker, kp, topic):
    """An HTTP request is not a Kafka frame: that connection is closed, others keep working."""
    b = broker()
    bad_clients_while_producing(b, kp, topic, [b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"])


def test_oversized_frames_are_disconnected(broker, kp, topic):
    """Frames larger than socket.request.max.bytes (2 GB and 2 MiB) close the connection
    at once, without waiting for the body; producers are unaffected."""
    b = broker("socket.request.max.bytes=1048576")
    bad_clients_while_producing(b, kp, topic, [
        struct.pack(">i", 2_000_000_000) + b"\0" * 16,
        struct.pack(">i", 2 * 1024 * 1024) + b"\0" * 16,
    ])


def test_truncated_header_is_disconnected(broker, kp, topic):
    """A frame too short to hold a request header closes the connection."""
    b = broker()
    bad_clients_while_producing(b, kp, topic, [struct.pack(">i", 3) + b"\x00\x12\x00"])


def test_negative_frame_size_is_disconnected(broker, kp, topic):
    """A negative frame size closes the connection."""
    b = broker()
    bad_clients_while_producing(b, kp, topic, [struct.pack(">i", -5) + b"\0" * 8])


def test_produce_to_unreachable_broker_fails_fast(kp):
    """kproduce against a port where nothing listens exits 1 within 10 s naming the address."""
    port = free_port()
    t0 = time.monotonic()
    p = kp.run("kproduce", "-b", f"127.0.0.1:{port}", "-t", "t", input=b"x\n", timeout=30)
    elapsed = time.monotonic() - t0
    assert p.returncode == 1, (p.returncode, p.err)
    assert elapsed < 10 * SLOW, f"took {elapsed:.1f} s"
    assert p.err.startswith("kproduce: ") or "\nkproduce: " in p.err, p.err
    assert f"127.0.0.1:{port}" in p.err, p.err


def test_consume_from_unreachable_broker_fails(kp):
    """kconsume -e against a port where nothing listens exits 1 naming the address."""
    port = free_port()
    p = kp.run("kconsume", "-b", f"127.0.0.1:{port}", "-t", "t", "-e", timeout=30)
    assert p.returncode == 1, (p.returncode, p.err)
    assert f"127.0.0.1:{port}" in p.err, p.err


@pytest.mark.parametrize("prog,args", [
    ("kbroker", ["--no-such-option"]),
    ("kbroker", ["-l", "verbose"]),
    ("kbroker", ["-o"]),
    ("kproduce", ["--no-such-option", "-t", "t"]),
    ("kproduce", []),  # -t is required
    ("kproduce", ["-t", "t", "-a", "7"]),
    ("kproduce", ["-t", "t", "-z", "brotli"]),
    ("kproduce", ["-t", "t", "-p", "x"]),
    ("kconsume", ["--no-such-option", "-t", "t"]),
    ("kconsume", []),
    ("kconsume", ["-t", "t", "-c", "abc"]),
    ("kconsume", ["-t", "t", "-o", "sideways"]),
])
def test_bad_usage_exits_2_with_usage(kp, prog, args):
    """Usage errors exit 2 with "PROG: ..." and the usage line on stderr, nothing on stdout."""
    p = kp.run(prog, *args, timeout=15)
    assert p.returncode == 2, (p.returncode, p.err)
    assert f"usage: {prog} " in p.err, p.err
    assert p.err.startswith(f"{prog}: "), p.err
    assert p.stdout == b""


def test_kbroker_port_in_use_exits_1(bin_dir, tmp_path, kp):
    """kbroker exits 1 with a message when its listener port is taken."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        p = kp.run("kbroker", "-o", f"listeners=PLAINTEXT://127.0.0.1:{port}",
                   "-o", f"log.dirs={tmp_path / 'logs'}", timeout=15)
    assert p.returncode == 1, (p.returncode, p.err)
    assert str(port) in p.err, p.err
