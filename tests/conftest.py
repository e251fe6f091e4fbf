"""Shared fixtures for the kpipe test suite.

KP_BUILD names the build directory holding bin/ (the programs) and tests/
(the C unit test binaries); tests/run sets it. By default it is build-asan
when that exists, else build.

Fixtures:
  bin_dir  -- path of the programs (also put first on PATH)
  broker   -- factory: broker(*overrides, partitions=N) starts a kbroker on a
              free port in its own log directory and returns a Broker
              (with KP_TARGET=kafka: an Apache Kafka node instead, see below)
  kafka    -- factory: kafka(*overrides, partitions=N, fresh=False) returns a
              running Apache Kafka node (tests/peers/kafka_peer.py), shared by
              every test asking for the same overrides unless fresh=True
  target   -- factory like broker, parametrized: each test using it runs
              twice, as test[kbroker] and test[kafka]
  kp       -- helpers to run kproduce / kconsume / any program with timeouts

A Broker and a KafkaServer have the same interface: .kind ("kbroker" or
"kafka"), .bootstrap, .port, .logdir, .stderr, .running, .stop(), .kill9(),
.restart(), .check_sanitizer().

KP_TARGET=kafka runs any test against Apache Kafka instead of kbroker: the
broker fixture then hands out Kafka nodes (one per distinct set of
overrides, kept for the session, since a node takes seconds to start). Tests
that read kbroker's own files or log lines are kbroker-only and will fail.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "peers"))
import kafka_peer  # noqa: E402  (tests/peers, on the path just above)

TARGET = os.environ.get("KP_TARGET", "kbroker")
if TARGET not in ("kbroker", "kafka"):
    raise SystemExit(f"KP_TARGET must be kbroker or kafka, not {TARGET!r}")


def _default_build():
    if os.environ.get("KP_BUILD"):
        return Path(os.environ["KP_BUILD"]).resolve()
    for name in ("build-asan", "build"):
        if (ROOT / name).is_dir():
            return ROOT / name
    return ROOT / "build"


def _is_asan(build):
    """Whether the build's programs carry AddressSanitizer: its runtime's symbols in kbroker
    (gcc links libasan dynamically, clang statically; both leave __asan_init named), whatever
    the build directory is called."""
    try:
        with open(build / "bin" / "kbroker", "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return "asan" in build.name


BUILD = _default_build()
BIN = BUILD / "bin"
ASAN = _is_asan(BUILD)

# Every program is started with these in its environment.
if ASAN:
    os.environ["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0"
    os.environ["UBSAN_OPTIONS"] = "print_stacktrace=1"
os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"

SANITIZER_RE = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:")

# Generous under ASan, which is several times slower.
SLOW = 3 if ASAN else 1
PER_TEST_TIMEOUT = int(os.environ.get("KP_TEST_TIMEOUT", "240"))


def sanitizer_report(text):
    """Return the sanitizer report in a program's stderr, or None."""
    m = SANITIZER_RE.search(text or "")
    return text[max(0, m.start() - 200):] if m else None


def free_port():
    """A TCP port on 127.0.0.1 that nothing is bound to right now (kafka_peer.free_port: one
    block of ports per pytest-xdist worker)."""
    return kafka_peer.free_port()


def port_accepts(port, timeout=0.2):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for(pred, timeout, interval=0.05):
    """Poll pred() until it returns a true value or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def create_topic(bootstrap, topic, partitions):
    """CreateTopics with librdkafka's AdminClient (Debian's python3-confluent-kafka), then
    wait until the metadata shows every partition with a leader. Works on any broker."""
    import confluent_kafka as ck
    import confluent_kafka.admin  # noqa: F401
    admin = ck.admin.AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([ck.admin.NewTopic(topic, partitions, 1)])[topic].result(
        timeout=30 * SLOW)

    def ready():
        t = admin.list_topics(topic, timeout=10 * SLOW).topics.get(topic)
        return (t is not None and t.error is None and len(t.partitions) == partitions
                and all(p.leader >= 0 for p in t.partitions.values()))

    assert wait_for(ready, 30 * SLOW, interval=0.2), f"topic {topic} not ready"


def committed_offsets(bootstrap, group, topic, partitions):
    """{partition: committed offset} of `group` for partitions 0..partitions-1 (OffsetFetch
    through librdkafka; -1001 where nothing is committed)."""
    import confluent_kafka as ck
    c = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                     "enable.auto.commit": False})
    try:
        tps = c.committed([ck.TopicPartition(topic, p) for p in range(partitions)],
                          timeout=10 * SLOW)
        return {tp.partition: tp.offset for tp in tps}
    finally:
        c.close()


def log_end_offsets(bootstrap, topic, partitions):
    """{partition: log end offset} of `topic` (ListOffsets through librdkafka)."""
    import confluent_kafka as ck
    c = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": "log-end-probe"})
    try:
        return {p: c.get_watermark_offsets(ck.TopicPartition(topic, p), timeout=10 * SLOW)[1]
                for p in range(partitions)}
    finally:
        c.close()


# ---------------------------------------------------------------- programs


class Runner:
    """Runs the programs with a timeout and checks for sanitizer reports."""

    def run(self, prog, *args, input=b"", timeout=60, check_sanitizer=True):
        path = BIN / prog if (BIN / prog).exists() else prog
        try:
            p = subprocess.run([str(path), *map(str, args)], input=input,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=timeout * SLOW)
        except subprocess.TimeoutExpired as e:
            pytest.fail(f"{prog} {' '.join(map(str, args))} did not finish in "
                        f"{timeout * SLOW} s; stderr: {e.stderr!r:.2000}")
        p.err = p.stderr.decode(errors="replace")
        if check_sanitizer and ASAN:
            rep = sanitizer_report(p.err)
            if rep:
                pytest.fail(f"sanitizer report from {prog}:\n{rep[:6000]}")
        return p

    def produce(self, bootstrap, topic, *args, input=b"", timeout=60, ok=True):
        """kproduce -b BOOTSTRAP -t TOPIC ARGS < input; asserts exit 0 if ok."""
        p = self.run("kproduce", "-b", bootstrap, "-t", topic, *args,
                     input=input, timeout=timeout)
        if ok:
            assert p.returncode == 0, f"kproduce exit {p.returncode}: {p.err}"
        return p

    def consume(self, bootstrap, topic, *args, timeout=60, ok=True):
        """kconsume -b BOOTSTRAP -t TOPIC ARGS; asserts exit 0 if ok."""
        p = self.run("kconsume", "-b", bootstrap, "-t", topic, *args, timeout=timeout)
        if ok:
            assert p.returncode == 0, f"kconsume exit {p.returncode}: {p.err}"
        return p

    def consume_all(self, bootstrap, topic, *args, timeout=60):
        """Everything in the topic from the beginning, as bytes."""
        return self.consume(bootstrap, topic, "-o", "beginning", "-e", *args,
                            timeout=timeout).stdout


@pytest.fixture(scope="session")
def bin_dir():
    if not (BIN / "kbroker").exists():
        pytest.fail(f"no programs in {BIN}: build first (make, or make SANITIZE=1)")
    return BIN


@pytest.fixture
def kp(bin_dir):
    return Runner()


# ---------------------------------------------------------------- broker


class Broker:
    """A kbroker process on 127.0.0.1:port with its own log directory."""

    kind = "kbroker"

    def __init__(self, overrides, logdir, port=None, config=None):
        self.port = port or free_port()
        self.config = config
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.logdir = str(logdir)
        self.overrides = list(overrides)
        self.proc = None
        self._errpath = Path(self.logdir).parent / f"kbroker-{self.port}.stderr"
        self.start()

    @property
    def args(self):
        args = [str(BIN / "kbroker")]
        if self.config:
            args += ["-c", str(self.config)]
        args += ["-o", f"listeners=PLAINTEXT://{self.bootstrap}",
                "-o", f"log.dirs={self.logdir}"]
        for o in self.overrides:
            args += ["-o", o]
        return args

    @property
    def stderr(self):
        """Everything every run of this broker wrote to stderr so far."""
        try:
            return self._errpath.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def start(self, timeout=20):
        assert self.proc is None or self.proc.poll() is not None, "already running"
        with open(self._errpath, "ab") as err:
            self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                         stdout=err, stderr=err)

        def ready():
            return self.proc.poll() is not None or port_accepts(self.port)

        wait_for(ready, timeout * SLOW)
        if self.proc.poll() is not None:
            pytest.fail(f"kbroker exited with {self.proc.returncode} before accepting "
                        f"on {self.bootstrap}; stderr:\n{self.stderr[-4000:]}")
        if not port_accepts(self.port):
            self.proc.kill()
            self.proc.wait(10)
            pytest.fail(f"kbroker did not accept on {self.bootstrap} within "
                        f"{timeout * SLOW} s; stderr:\n{self.stderr[-4000:]}")

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        """SIGKILL the broker and reap it."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def restart(self):
        """Start again on the same port and log.dirs (kill -9 first if running)."""
        if self.running:
            self.kill9()
        self.start()

    def stop(self, timeout=15):
        """SIGTERM; assert a clean exit (status 0) within timeout seconds."""
        if not self.running:
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout * SLOW)
        except subprocess.TimeoutExpired:
            self.kill9()
            pytest.fail(f"kbroker did not exit within {timeout * SLOW} s of SIGTERM; "
                        f"stderr:\n{self.stderr[-4000:]}")
        assert rc == 0, f"kbroker exited {rc} after SIGTERM; stderr:\n{self.stderr[-4000:]}"
        return rc

    def wait_stderr(self, text, timeout=5):
        """Poll the broker's stderr until it contains text; return whether it did."""
        return bool(wait_for(lambda: text in self.stderr, timeout * SLOW))

    def check_sanitizer(self):
        rep = sanitizer_report(self.stderr)
        if rep:
            pytest.fail(f"sanitizer report from kbroker:\n{rep[:6000]}")


def _overrides(overrides, partitions):
    extra = list(overrides)
    if partitions is not None:
        extra.append(f"num.partitions={partitions}")
    return extra


class KafkaPool:
    """Apache Kafka nodes for the session, one per distinct set of overrides."""

    def __init__(self, root):
        self.root = Path(root)
        self.shared = {}
        self.all = []

    def get(self, overrides, fresh=False):
        key = tuple(sorted(overrides))
        if not fresh and key in self.shared and self.shared[key].running:
            return self.shared[key]
        d = tempfile.mkdtemp(prefix="kafka-", dir=self.root)
        try:
            k = kafka_peer.KafkaServer(d, overrides)
        except kafka_peer.PeerError as e:
            pytest.fail(f"Apache Kafka peer: {e}")
        self.all.append(k)
        if not fresh:
            self.shared[key] = k
        return k

    def stop_all(self):
        for k in self.all:
            k.stop()


@pytest.fixture(scope="session")
def kafka_pool(tmp_path_factory):
    pool = KafkaPool(tmp_path_factory.mktemp("kafka"))
    yield pool
    pool.stop_all()


@pytest.fixture
def kafka(kafka_pool):
    """Factory: kafka("num.partitions=3", ..., partitions=N, fresh=False) -> running KafkaServer.
    Shared nodes live for the session; a fresh one is stopped at this test's teardown."""
    mine = []

    def make(*overrides, partitions=None, fresh=False):
        k = kafka_pool.get(_overrides(overrides, partitions), fresh=fresh)
        if fresh:
            mine.append(k)
        return k

    yield make
    for k in mine:
        k.stop()


@pytest.fixture(params=["kbroker", "kafka"])
def target(request, bin_dir, tmp_path):
    """Factory like broker, run once against kbroker and once against Apache Kafka."""
    if request.param == "kafka":
        return request.getfixturevalue("kafka")
    return request.getfixturevalue("kbroker_factory")


@pytest.fixture(scope="session")
def java():
    """java(MAIN, *args, input=b"", timeout=60) -> CompletedProcess (.out, .err) of a class of
    tests/peers/java (built once into the peer cache)."""
    import clients
    try:
        clients.java_classes()
    except clients.PeerError as e:
        pytest.fail(f"cannot build tests/peers/java: {e}")

    def run(main, *args, input=b"", timeout=60):
        return clients.run(clients.java_cmd(main, *args), main, input=input, timeout=timeout * SLOW)
    return run


@pytest.fixture
def broker(request, bin_dir, tmp_path):
    """Factory: broker("num.partitions=3", ..., partitions=N, config=FILE) -> running Broker
    (kbroker [-c FILE] -o listeners=... -o log.dirs=... -o OVERRIDE...); stopped at teardown.
    With KP_TARGET=kafka, an Apache Kafka node with the same overrides (config is ignored)."""
    if TARGET == "kafka":
        k = request.getfixturevalue("kafka")
        return lambda *overrides, partitions=None, config=None: k(*overrides, partitions=partitions)
    return request.getfixturevalue("kbroker_factory")


@pytest.fixture
def kbroker_factory(bin_dir, tmp_path):
    """The kbroker factory behind broker and target."""
    started = []

    def make(*overrides, partitions=None, config=None):
        extra = _overrides(overrides, partitions)
        d = tmp_path / f"logs{len(started)}"
        d.mkdir()
        b = Broker(extra, d, config=config)
        started.append(b)
        return b

    yield make
    errors = []
    for b in started:
        try:
            if b.running:
                b.stop()
        except BaseException as e:  # noqa: BLE001 - report after stopping all
            errors.append(str(e))
            if b.running:
                b.kill9()
        rep = sanitizer_report(b.stderr)
        if rep:
            errors.append(f"sanitizer report from kbroker:\n{rep[:6000]}")
    if errors:
        pytest.fail("\n".join(errors))


# ---------------------------------------------------------------- data


@pytest.fixture(scope="session")
def dpkg_log(tmp_path_factory):
    """Bytes of /var/log/dpkg.log, or a generated log-like file if it is missing or tiny."""
    p = Path("/var/log/dpkg.log")
    if p.exists() and p.stat().st_size > 10000:
        return p.read_bytes()
    lines = []
    actions = ["install", "configure", "status installed", "status unpacked", "upgrade"]
    for i in range(3000):
        act = actions[i % len(actions)]
        lines.append(f"2024-01-{1 + i % 28:02d} 12:{i % 60:02d}:{i * 7 % 60:02d} "
                     f"{act} pkg{i % 97}:amd64 1.{i % 13}-{i % 5}")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="session")
def dpkg_status():
    """Bytes of /var/lib/dpkg/status (paragraphs separated by empty lines)."""
    p = Path("/var/lib/dpkg/status")
    if not p.exists():
        pytest.skip("no /var/lib/dpkg/status")
    return p.read_bytes()


def as_lines_output(data):
    """What a line-per-record round trip prints for input data."""
    return data if not data or data.endswith(b"\n") else data + b"\n"


_topic_seq = [0]


@pytest.fixture
def topic(request):
    """A topic name unique to this test."""
    _topic_seq[0] += 1
    name = re.sub(r"[^A-Za-z0-9._-]", "-", request.node.name)[:150]
    return f"{name}-{_topic_seq[0]}"


# ---------------------------------------------------------------- per-test limit


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """Fail (instead of hanging the suite) a test running longer than KP_TEST_TIMEOUT."""
    def on_alarm(signum, frame):
        raise TimeoutError(f"test exceeded {PER_TEST_TIMEOUT} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(PER_TEST_TIMEOUT)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def have(prog):
    return shutil.which(prog) is not None


def tmpfile(data, suffix=""):
    f = tempfile.NamedTemporaryFile(prefix="kt-", suffix=suffix, delete=False)
    f.write(data)
    f.close()
    return f.name
