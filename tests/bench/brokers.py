"""The two brokers under test, started the same way, and what /proc says about them.

KBroker(build, workdir, overrides) starts BUILD/bin/kbroker on a free loopback port
with its log directory in workdir (as tests/conftest.py's Broker does);
kafka(workdir, overrides) starts Apache Kafka with tests/peers/kafka_peer.py.
Both have .name, .bootstrap, .pid, .logdir, .stop(); cpu_seconds(pid) and
peak_rss_kib(pid) read /proc.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "peers"))
import kafka_peer  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    pass


free_port = kafka_peer.free_port
accepts = kafka_peer.accepts


def cpu_seconds(pid):
    """utime + stime of process pid (all its threads) in seconds, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is state (field 3); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_status(pid, key):
    """A kB figure from /proc/PID/status (VmHWM, VmRSS), or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class Process:
    """What a started program (self.proc, its stderr in self.errpath) answers: its stderr so
    far, whether it runs, and a stop (SIGTERM, SIGKILL after 30 s)."""

    def stderr(self):
        try:
            return Path(self.errpath).read_text(errors="replace")
        except OSError:
            return ""

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class KBroker(Process):
    name = "kbroker"

    def __init__(self, build, workdir, overrides=()):
        self.exe = os.path.join(build, "bin", "kbroker")
        if not os.access(self.exe, os.X_OK):
            raise BenchError(f"no {self.exe}; run make first")
        self.port = free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.logdir = os.path.join(workdir, "logs")
        self.errpath = os.path.join(workdir, "kbroker.stderr")
        args = [self.exe, "-o", f"listeners=PLAINTEXT://{self.bootstrap}",
                "-o", f"log.dirs={self.logdir}", "-l", "warn"]
        for o in overrides:
            args += ["-o", o]
        self.args = args
        with open(self.errpath, "ab") as err:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        self.pid = self.proc.pid
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"kbroker exited with {self.proc.returncode}: {self.stderr()[-2000:]}")
            if accepts(self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise BenchError("kbroker did not start listening within 20 s")



class Kafka:
    name = "kafka"

    def __init__(self, workdir, overrides=(), heap=kafka_peer.HEAP):
        try:
            self.server = kafka_peer.KafkaServer(workdir, overrides, heap=heap)
        except kafka_peer.PeerError as e:
            raise BenchError(f"Apache Kafka: {e}") from e
        self.bootstrap = self.server.bootstrap
        self.pid = self.server.proc.pid
        self.logdir = self.server.logdir
        self.heap = heap

    def alive(self):
        return self.server.running

    def stderr(self):
        return self.server.stderr

    def stop(self):
        self.server.stop()


def kafka_version():
    return kafka_peer.kafka_version()


def java_tool(main_class, *args, heap="512m"):
    """argv running a Kafka tool class with the JVM's default JIT (kafka_peer.java_cmd
    limits the JIT to C1, which suits short test runs but not throughput)."""
    return [kafka_peer.JAVA, f"-Xmx{heap}", "-cp", kafka_peer.classpath(), main_class,
            *map(str, args)]


def metadata_ready(port, timeout=0.5):
    """Whether a Metadata v1 request (no topics) to 127.0.0.1:port is answered with at
    least one broker and a controller id: the broker serves, its cluster view included."""
    import socket
    import struct
    client = b"kpipe-bench"
    body = struct.pack(">i", 0)  # topics: an empty array (v1: none, not all)
    req = struct.pack(">hhih", 3, 1, 1, len(client)) + client + body
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(struct.pack(">i", len(req)) + req)
            data = b""
            while len(data) < 4 or len(data) < 4 + struct.unpack(">i", data[:4])[0]:
                chunk = s.recv(65536)
                if not chunk:
                    return False
                data += chunk
    except OSError:
        return False
    pos = 8  # size, correlation id
    n, = struct.unpack_from(">i", data, pos)
    pos += 4
    for _ in range(n):
        pos += 4
        hl, = struct.unpack_from(">h", data, pos)
        pos += 2 + hl + 4
        rl, = struct.unpack_from(">h", data, pos)
        pos += 2 + max(rl, 0)
    controller, = struct.unpack_from(">i", data, pos)
    return n >= 1 and controller >= 0


def kbroker_startup(build, workdir, runs=5):
    """(median ms from exec to the first Metadata answer naming a broker and a controller,
    median VmRSS in KiB one second later with nothing to do) over `runs` kbrokers started
    with no settings but a port and a fresh log directory each."""
    exe = os.path.join(build, "bin", "kbroker")
    times, rss = [], []
    for i in range(runs):
        port = free_port()
        logdir = os.path.join(workdir, f"startup-{i}")
        t0 = time.monotonic()
        proc = subprocess.Popen([exe, "-o", f"listeners=PLAINTEXT://127.0.0.1:{port}",
                                 "-o", f"log.dirs={logdir}", "-l", "warn"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            while not metadata_ready(port):
                if proc.poll() is not None or time.monotonic() - t0 > 20:
                    raise BenchError(f"kbroker did not answer Metadata (exit {proc.poll()})")
                time.sleep(0.002)
            times.append((time.monotonic() - t0) * 1000)
            time.sleep(1)
            rss.append(proc_status(proc.pid, "VmRSS"))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    times.sort()
    rss.sort()
    return times[len(times) // 2], rss[len(rss) // 2]
