#!/usr/bin/python3
"""Apache Kafka as a test peer: fetch it, start a single-node KRaft cluster, stop it.

The pinned version is kafka.version in tests/peers/kafka-jars/pom.xml (the one
place it is written). `fetch()` resolves that pom's dependencies (the broker,
kafka-tools and the Java client) from Maven Central with
`mvn dependency:copy-dependencies` into

    $KP_PEER_CACHE/kafka-VERSION/libs        (default ~/.cache/kpipe-peers)

outside the repository; a later run finds the directory complete and does not
download again. `KafkaServer` formats a log directory with
`kafka-storage format --standalone` and runs `kafka.Kafka` as a combined
broker and controller (process.roles=broker,controller) on two free loopback
ports with a bounded heap, waits until it answers, and stops it with SIGTERM.
`KafkaCluster` starts three such nodes (or n) as one cluster with a static
quorum of three voters (tests/bench's replication case uses it).

Command line (for a person at a shell):
    tests/peers/kafka_peer.py fetch           download if needed; print the libs dir
    tests/peers/kafka_peer.py classpath       print the classpath (libs/*)
    tests/peers/kafka_peer.py run [KEY=VALUE...]
                                              start one, print its bootstrap, stop on ^C
    tests/peers/kafka_peer.py java CLASS ARGS run a main class from the jars
                                              (e.g. org.apache.kafka.tools.TopicCommand)
"""
import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
POM = HERE / "kafka-jars" / "pom.xml"
CACHE = Path(os.environ.get("KP_PEER_CACHE") or Path.home() / ".cache" / "kpipe-peers")
JAVA = os.environ.get("KP_JAVA") or shutil.which("java") or "java"
HEAP = os.environ.get("KP_KAFKA_HEAP", "512m")


class PeerError(Exception):
    """A peer could not be fetched or started; the message says why."""


def kafka_version():
    """The pinned Apache Kafka version, read from kafka-jars/pom.xml."""
    m = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", POM.read_text())
    if not m:
        raise PeerError(f"no <kafka.version> in {POM}")
    return m.group(1).strip()


def libs_dir():
    return CACHE / f"kafka-{kafka_version()}" / "libs"


def _locked(path):
    """An exclusive lock file, so that concurrent fetches wait for one another."""
    path.parent.mkdir(parents=True, exist_ok=True)
    f = open(path, "w")
    fcntl.flock(f, fcntl.LOCK_EX)
    return f


def fetch(quiet=True):
    """Resolve the pinned Kafka jars into the cache (once) and return the libs dir."""
    libs = libs_dir()
    done = libs / ".complete"
    if done.exists():
        return libs
    with _locked(libs.parent / ".lock"):
        if done.exists():
            return libs
        tmp = libs.parent / "libs.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        mvn = shutil.which("mvn")
        if not mvn:
            raise PeerError("mvn is not installed (bash share/install-deps.sh installs maven)")
        cmd = [mvn, "-B", "-f", str(POM), *(["-q"] if quiet else []),
               "dependency:copy-dependencies", f"-DoutputDirectory={tmp}"]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)
        if p.returncode != 0:
            raise PeerError(f"mvn could not resolve Kafka {kafka_version()}:\n"
                            f"{p.stdout.decode(errors='replace')[-3000:]}")
        shutil.rmtree(libs, ignore_errors=True)
        tmp.rename(libs)
        done.write_text(kafka_version() + "\n")
    return libs


def classpath():
    return str(fetch() / "*")


def java_cmd(main_class, *args, heap="256m", props=()):
    """argv running main_class from the Kafka jars with a bounded heap."""
    return [JAVA, f"-Xmx{heap}", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", *props,
            "-cp", classpath(), main_class, *map(str, args)]


_next_port = None


def free_port():
    """A TCP port on 127.0.0.1 that nothing is bound to right now. Under pytest-xdist each
    worker takes ports from its own block below Linux's ephemeral range (32768 on), in turn,
    so two workers never race for the same port between this check and a server's bind, and
    no client connection's ephemeral port can take it meanwhile; without xdist, one block."""
    global _next_port
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    k = int(worker[2:]) if worker[2:].isdigit() else 0
    lo, span = 10000 + 4000 * (k % 5), 4000
    for _ in range(span):
        _next_port = lo if _next_port is None or not lo <= _next_port + 1 < lo + span \
            else _next_port + 1
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", _next_port))
            except OSError:
                continue
            return _next_port
    raise PeerError(f"no free port in {lo}..{lo + span - 1}")


def accepts(port):
    """Whether something accepts TCP connections on 127.0.0.1:port right now."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class KafkaServer:
    """One Apache Kafka node (broker and controller in one process) on loopback.

    KafkaServer(workdir, overrides=("num.partitions=3", ...)) formats
    workdir/data and starts; .bootstrap is "127.0.0.1:PORT"; .stderr the log;
    .stop() sends SIGTERM; .kill9() / .restart() as for kbroker.
    """

    kind = "kafka"
    READY = "Kafka Server started"

    def __init__(self, workdir, overrides=(), heap=HEAP, start=True, port=None,
                 controller_port=None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.controller_port = controller_port or free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.logdir = str(self.workdir / "data")
        self.heap = heap
        self.overrides = list(overrides)
        self.proc = None
        self._log = self.workdir / "kafka.log"
        self._props = self.workdir / "server.properties"
        self._write_properties()
        self._format()
        if start:
            self.start()

    def _properties(self):
        p = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "listeners": f"PLAINTEXT://{self.bootstrap},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{self.bootstrap}",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "controller.quorum.bootstrap.servers": f"127.0.0.1:{self.controller_port}",
            "log.dirs": self.logdir,
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
        }
        for o in self.overrides:
            k, _, v = o.partition("=")
            p[k.strip()] = v.strip()
        return p

    def _write_properties(self):
        self._props.write_text("".join(f"{k}={v}\n" for k, v in self._properties().items()))

    def _format(self):
        cmd = java_cmd("kafka.tools.StorageTool", "format", "--standalone",
                       "-t", _cluster_id(), "-c", self._props)
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        if p.returncode != 0:
            raise PeerError(f"kafka-storage format failed:\n{p.stdout.decode(errors='replace')[-3000:]}")

    @property
    def stderr(self):
        """Everything this node has logged so far."""
        try:
            return self._log.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout=180):
        assert not self.running, "already running"
        cmd = [JAVA, f"-Xmx{self.heap}", f"-Xms{self.heap}", "-XX:+UseG1GC",
               "-Djava.awt.headless=true", "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
               "-Dorg.slf4j.simpleLogger.showDateTime=true",
               "-cp", classpath(), "kafka.Kafka", str(self._props)]
        with open(self._log, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise PeerError(f"Kafka exited with {self.proc.returncode} while starting; "
                                f"log:\n{self.stderr[-4000:]}")
            if self.READY in self.stderr and accepts(self.port):
                return self
            time.sleep(0.2)
        self.kill9()
        raise PeerError(f"Kafka did not start within {timeout} s; log:\n{self.stderr[-4000:]}")

    def kill9(self):
        if self.running:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)

    def restart(self):
        self.kill9()
        # Only the new run's READY line counts: move the old log aside.
        if self._log.exists():
            self._log.rename(self._log.with_suffix(f".{int(time.time() * 1000)}.log"))
        self.start()

    def stop(self, timeout=60):
        """SIGTERM and wait for a controlled shutdown; SIGKILL after timeout s."""
        if not self.running:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            return self.proc.returncode

    def check_sanitizer(self):
        """Nothing to check: Kafka is not built with sanitizers (same interface as kbroker)."""


class KafkaClusterNode(KafkaServer):
    """One node of a KafkaCluster: broker and controller in one process, one voter of a
    static quorum (controller.quorum.voters), on ports the cluster chose; formatted with
    `kafka-storage format -t CLUSTER_ID` (no --standalone: the voters are in the config).
    Not started by the constructor: KafkaCluster starts every node at once (a node alone
    cannot elect a controller, so it never reports itself started)."""

    def __init__(self, workdir, node_id, port, controller_port, voters, cluster_id,
                 overrides=(), heap=HEAP):
        self.node_id = node_id
        self.voters = voters
        self.cluster_id = cluster_id
        super().__init__(workdir, overrides, heap, start=False, port=port,
                         controller_port=controller_port)

    def _properties(self):
        p = super()._properties()
        p.pop("controller.quorum.bootstrap.servers", None)
        p["node.id"] = str(self.node_id)
        p["controller.quorum.voters"] = self.voters
        for o in self.overrides:  # the caller's settings win, as for KafkaServer
            k, _, v = o.partition("=")
            p[k.strip()] = v.strip()
        return p

    def _format(self):
        cmd = java_cmd("kafka.tools.StorageTool", "format", "-t", self.cluster_id,
                       "-c", self._props)
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        if p.returncode != 0:
            raise PeerError(f"kafka-storage format (node {self.node_id}) failed:\n"
                            f"{p.stdout.decode(errors='replace')[-3000:]}")


class KafkaCluster:
    """n Apache Kafka nodes on loopback (default 3), each a broker and a controller in one
    JVM (process.roles=broker,controller, node ids 1..n), one static KRaft quorum of n
    voters: the smallest multi-broker cluster with a fault-tolerant quorum that needs no
    more JVMs than brokers.

    KafkaCluster(workdir, overrides=(...), heap="512m") formats workdir/nodeN for every
    node, starts them all at once and returns when each has logged that it started;
    .nodes are KafkaClusterNode (KafkaServer) objects; .bootstrap lists every node
    ("127.0.0.1:P1,127.0.0.1:P2,..."); .stop() stops them all. A failed start stops every
    node it started before raising PeerError.
    """

    def __init__(self, workdir, n=3, overrides=(), heap=HEAP, timeout=240):
        from concurrent.futures import ThreadPoolExecutor
        self.workdir = Path(workdir)
        self.nodes = []
        ports = [free_port() for _ in range(2 * n)]
        if len(set(ports)) != len(ports):
            raise PeerError("free_port() gave the same port twice; try again")
        voters = ",".join(f"{i + 1}@127.0.0.1:{ports[n + i]}" for i in range(n))
        cid = _cluster_id()
        try:
            with ThreadPoolExecutor(n) as ex:  # formatting is a JVM run per node
                futs = [ex.submit(KafkaClusterNode, self.workdir / f"node{i + 1}", i + 1,
                                  ports[i], ports[n + i], voters, cid, overrides, heap)
                        for i in range(n)]
                errors = []
                for f in futs:
                    try:
                        self.nodes.append(f.result())
                    except PeerError as e:
                        errors.append(e)
                if errors:
                    raise errors[0]
                for f in [ex.submit(k.start, timeout) for k in self.nodes]:
                    errors.append(f.exception())
                errors = [e for e in errors if e is not None]
                if errors:
                    raise errors[0] if isinstance(errors[0], PeerError) else PeerError(
                        f"{type(errors[0]).__name__}: {errors[0]}")
        except BaseException:
            self.stop()
            raise
        self.bootstrap = ",".join(k.bootstrap for k in self.nodes)

    @property
    def running(self):
        return bool(self.nodes) and all(k.running for k in self.nodes)

    def stop(self, timeout=60):
        """SIGTERM to every node at once, then wait for each; SIGKILL what is left after
        timeout s (stopping them one by one would leave the last without a quorum)."""
        for k in self.nodes:
            if k.running:
                k.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for k in self.nodes:
            if k.proc is None:
                continue
            try:
                k.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                k.kill9()


def _cluster_id():
    """A random cluster id as Kafka writes them: 16 bytes, URL-safe base64, no padding;
    never one starting with "-", which kafka-storage's argument parser takes for an option."""
    import base64
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.split("Command line", 1)[1].split("\n", 1)[1], end="")
        return 0 if len(argv) >= 2 else 2
    try:
        if argv[1] == "fetch":
            print(fetch(quiet=False))
        elif argv[1] == "classpath":
            print(classpath())
        elif argv[1] == "java" and len(argv) > 2:
            return subprocess.call(java_cmd(argv[2], *argv[3:]))
        elif argv[1] == "run":
            d = tempfile.mkdtemp(prefix="kpipe-kafka-")
            k = KafkaServer(d, argv[2:])
            print(k.bootstrap, flush=True)
            print(f"kafka {kafka_version()} on {k.bootstrap}, data in {d}; ^C stops it",
                  file=sys.stderr)
            try:
                k.proc.wait()
            except KeyboardInterrupt:
                k.stop()
        else:
            print(f"kafka_peer.py: unknown command {argv[1]!r}; see --help", file=sys.stderr)
            return 2
    except PeerError as e:
        print(f"kafka_peer.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
