"""The replication case's two clusters, started for the case and stopped after it.

KbrokerCluster(build, workdir, overrides): 3 kcontrollers (node ids 1-3, one KRaft quorum)
and 3 kbrokers (node ids 11-13, process.roles=broker) from BUILD/bin, as
tests/test_kraft_cluster.py starts them but with the brokers' and controllers' default
timings (the tests shorten the heartbeat and session timeouts; a benchmark that keeps both
CPUs busy should not risk a broker being fenced), logging at warn.
KafkaCluster(workdir, overrides): three Apache Kafka nodes, each a broker and a controller in
one JVM (tests/peers/kafka_peer.py's KafkaCluster), with the heap of the single-node Kafka.

Both have .name, .bootstrap (every broker, comma-separated), .pids (every process of the
cluster, controllers included: the CPU and memory figures cover them all), .alive(),
.stop(); wait_brokers, create_topic, wait_isr and isr_sizes ask a cluster through
confluent-kafka's AdminClient.
"""
import os
import subprocess
import time

import brokers
from brokers import BenchError, accepts, free_port, kafka_peer

BROKER_IDS = (11, 12, 13)
CONTROLLER_IDS = (1, 2, 3)


class KController(brokers.Process):
    """One kcontroller on loopback, a voter of `voters`."""

    def __init__(self, build, node_id, port, voters, cluster_id, workdir):
        self.exe = os.path.join(build, "bin", "kcontroller")
        if not os.access(self.exe, os.X_OK):
            raise BenchError(f"no {self.exe}; run make first")
        self.node_id, self.port = node_id, port
        self.errpath = os.path.join(workdir, f"kcontroller-{node_id}.stderr")
        args = [self.exe, "-l", "warn", f"node.id={node_id}",
                f"controller.quorum.voters={voters}",
                f"listeners=CONTROLLER://127.0.0.1:{port}",
                f"metadata.log.dir={os.path.join(workdir, f'c{node_id}')}",
                f"cluster.id={cluster_id}"]
        with open(self.errpath, "ab") as err:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        self.pid = self.proc.pid
        deadline = time.monotonic() + 20
        while not accepts(port):
            if self.proc.poll() is not None:
                raise BenchError(f"kcontroller {node_id} exited with {self.proc.returncode}: "
                                 f"{self.stderr()[-2000:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise BenchError(f"kcontroller {node_id} did not listen within 20 s")
            time.sleep(0.05)



class KbrokerCluster:
    name = "kbroker"

    def __init__(self, build, workdir, overrides=()):
        os.makedirs(workdir, exist_ok=True)
        ports = [free_port() for _ in CONTROLLER_IDS]
        voters = ",".join(f"{n}@127.0.0.1:{p}" for n, p in zip(CONTROLLER_IDS, ports))
        cluster_id = kafka_peer._cluster_id()
        self.controllers, self.brokers = [], []
        try:
            for n, p in zip(CONTROLLER_IDS, ports):
                self.controllers.append(KController(build, n, p, voters, cluster_id, workdir))
            for n in BROKER_IDS:
                d = os.path.join(workdir, f"b{n}")
                os.makedirs(d)
                self.brokers.append(brokers.KBroker(build, d, [
                    f"node.id={n}", f"controller.quorum.voters={voters}",
                    "controller.listener.names=CONTROLLER", f"cluster.id={cluster_id}",
                    *overrides]))
        except BaseException:
            self.stop()
            raise
        self.bootstrap = ",".join(b.bootstrap for b in self.brokers)
        self.nodes = [b.bootstrap for b in self.brokers]
        self.pids = [p.pid for p in self.brokers + self.controllers]
        self.what = "3 kcontrollers + 3 kbrokers"

    def alive(self):
        return all(p.alive() for p in self.brokers + self.controllers)

    def stop(self):
        for p in self.brokers + self.controllers:  # brokers first: they leave cleanly
            try:
                p.stop()
            except Exception:  # noqa: BLE001 - stop the others anyway
                pass


class KafkaCluster:
    name = "kafka"

    def __init__(self, workdir, overrides=(), heap=kafka_peer.HEAP):
        try:
            self.cluster = kafka_peer.KafkaCluster(workdir, 3, overrides, heap=heap)
        except kafka_peer.PeerError as e:
            raise BenchError(f"Apache Kafka cluster: {e}") from e
        self.bootstrap = self.cluster.bootstrap
        self.nodes = [k.bootstrap for k in self.cluster.nodes]
        self.pids = [k.proc.pid for k in self.cluster.nodes]
        self.heap = heap
        self.what = "3 Kafka nodes, each broker+controller"

    def alive(self):
        return self.cluster.running

    def stop(self):
        self.cluster.stop()


def _admin(bootstrap):
    from confluent_kafka.admin import AdminClient
    return AdminClient({"bootstrap.servers": bootstrap, "log_level": 3})


def wait_brokers(cluster, n=3, timeout=60):
    """Wait until every broker's Metadata names n brokers (registered and unfenced)."""
    deadline = time.monotonic() + timeout
    seen = {}
    while time.monotonic() < deadline:
        for node in cluster.nodes:
            try:
                seen[node] = len(_admin(node).list_topics(timeout=5).brokers)
            except Exception:  # noqa: BLE001 - not up yet
                seen[node] = 0
        if all(v >= n for v in seen.values()):
            return
        time.sleep(0.3)
    raise BenchError(f"{cluster.name} cluster: not every broker sees {n} brokers within "
                     f"{timeout} s: {seen}")


def create_topic(cluster, name, partitions, rf, config=None):
    from confluent_kafka.admin import NewTopic
    admin = _admin(cluster.bootstrap)  # kept until the answer: a dropped client cancels
    futs = admin.create_topics([NewTopic(name, partitions, rf, config=config or {})],
                               operation_timeout=30, request_timeout=30)
    try:
        futs[name].result(60)
    except Exception as e:  # noqa: BLE001
        raise BenchError(f"create {name} (RF {rf}) on the {cluster.name} cluster: {e}") from e


def isr_sizes(cluster, topic, node=None):
    """{partition: (leader, len(ISR))} from one broker's Metadata ({} if it lacks the topic)."""
    md = _admin(node or cluster.bootstrap).list_topics(topic, timeout=10)
    t = md.topics.get(topic)
    if t is None or t.error is not None:
        return {}
    return {p: (v.leader, len(v.isrs)) for p, v in t.partitions.items()}


def wait_isr(cluster, topic, partitions, rf, timeout=60):
    """Wait until every broker knows every partition with a leader and an ISR of rf."""
    deadline = time.monotonic() + timeout
    views = {}
    while time.monotonic() < deadline:
        try:
            views = {node: isr_sizes(cluster, topic, node) for node in cluster.nodes}
        except Exception as e:  # noqa: BLE001 - ask again
            views = {"error": str(e)}
        if "error" not in views and all(
                len(v) == partitions and all(ld >= 0 and n == rf for ld, n in v.values())
                for v in views.values()):
            return
        time.sleep(0.3)
    raise BenchError(f"{topic} on the {cluster.name} cluster: no full ISR ({rf}) on every "
                     f"broker within {timeout} s: {views}")


def peak_rss_kib(cluster):
    """The sum of VmHWM over every process of the cluster (KiB), or None."""
    vals = [brokers.proc_status(p, "VmHWM") for p in cluster.pids]
    return sum(vals) if all(v is not None for v in vals) else None


def no_admin():
    """Why the clusters cannot be asked (confluent-kafka missing), or None."""
    try:
        import confluent_kafka.admin  # noqa: F401
    except ImportError:
        return "confluent_kafka is not importable (apt install python3-confluent-kafka)"
    return None
