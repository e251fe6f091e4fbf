"""A fault-injection harness in the spirit of Jepsen's Kafka tests, for tests/test_fault_injection.py.

Network: a Linux bridge in the test's namespace with address 10.77.K.1, and one network
namespace per broker and per controller (veth to the bridge, address 10.77.K.(10+i); brokers
on port 9092, kcontrollers on 9093): clients connect to the brokers' addresses through the
bridge, and taking a node's veth down cuts it off from everyone (the controllers, the clients
and the other brokers) until it comes up again. Needs root (CAP_NET_ADMIN) and iproute2.

History: the producer records every write it sent and, for each acknowledged one, the
partition and offset the broker gave; consumers record every (partition, offset, value) they
read, poll by poll. Checkers over it (after healing, against a final read of every partition):

  lost            acknowledged with acks=all, never read in the final log
  inconsistent    one (partition, offset) seen with two values (acknowledged or read)
  non-monotonic   a consumer reading a partition's offsets out of order
  phantom         a value read that no producer sent
  duplicates      a value at two offsets: what an idempotent producer's retries must never make

A schedule of faults comes from a seed (printed; KP_NEMESIS_SEED replays it).
"""
import os
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

from conftest import BIN, SLOW, sanitizer_report, wait_for

NS_PORT = 9092


def have_netns():
    """Whether this process may make network namespaces and bridges (root with iproute2)."""
    if os.geteuid() != 0 or subprocess.run(["which", "ip"], capture_output=True).returncode:
        return False
    probe = f"kpprobe{os.getpid() % 10000}"
    ok = subprocess.run(["ip", "link", "add", probe, "type", "bridge"],
                        capture_output=True).returncode == 0
    subprocess.run(["ip", "link", "del", probe], capture_output=True)
    return ok


def ip(*args):
    p = subprocess.run(["ip", *args], capture_output=True, text=True)
    if p.returncode:
        raise RuntimeError(f"ip {' '.join(args)}: {p.stderr.strip()}")


class Net:
    """The bridge and n namespaces (names carry `tag`, a short unique string)."""

    def __init__(self, n, tag=None):
        self.tag = tag or f"{os.getpid() % 1000:03d}{random.randrange(100)}"
        used = subprocess.run(["ip", "-4", "route"], capture_output=True, text=True).stdout
        self.k = next(k for k in random.sample(range(1, 250), 249)
                      if f"10.77.{k}." not in used and "10.77.0.0/16" not in used)
        self.bridge = f"kpbr{self.tag}"
        self.host = f"10.77.{self.k}.1"
        self.ns = [f"kp{self.tag}n{i}" for i in range(n)]
        self.veth = [f"kpv{self.tag}{i}" for i in range(n)]
        self.made = []
        try:
            ip("link", "add", self.bridge, "type", "bridge")
            self.made.append(("link", self.bridge))
            ip("addr", "add", f"{self.host}/24", "dev", self.bridge)
            ip("link", "set", self.bridge, "up")
            for i in range(n):
                self._add(i)
        except BaseException:
            self.close()
            raise

    def _add(self, i):
        ns, veth = self.ns[i], self.veth[i]
        ip("netns", "add", ns)
        self.made.append(("netns", ns))
        ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
        ip("link", "set", veth, "master", self.bridge, "up")
        ip("-n", ns, "addr", "add", f"{self.addr(i)}/24", "dev", "eth0")
        ip("-n", ns, "link", "set", "eth0", "up")
        ip("-n", ns, "link", "set", "lo", "up")

    def addr(self, i):
        return f"10.77.{self.k}.{10 + i}"

    def isolate(self, i):
        ip("link", "set", self.veth[i], "down")

    def heal(self, i):
        ip("link", "set", self.veth[i], "up")

    def close(self):
        for kind, name in reversed(self.made):
            subprocess.run(["ip", kind, "del", name], capture_output=True)
        self.made = []


class NsBroker:
    """A kbroker in namespace `ns` listening on ADDR:9092 (clients reach it through the bridge)."""

    def __init__(self, ns, addr, logdir, overrides):
        self.ns, self.addr = ns, addr
        self.bootstrap = f"{addr}:{NS_PORT}"
        self.logdir = Path(logdir)
        self.logdir.mkdir(parents=True, exist_ok=True)
        self.overrides = list(overrides)
        self.errpath = self.logdir.parent / f"{self.logdir.name}.stderr"
        self.proc = None
        self.start()

    def start(self):
        args = ["ip", "netns", "exec", self.ns, str(BIN / "kbroker"),
                "-o", f"listeners=PLAINTEXT://{self.bootstrap}", "-o", f"log.dirs={self.logdir}"]
        for o in self.overrides:
            args += ["-o", o]
        with open(self.errpath, "ab") as err:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=err, stderr=err)

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def stderr(self):
        try:
            return self.errpath.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def signal(self, sig):
        if self.running:
            self.proc.send_signal(sig)

    def kill9(self):
        if self.running:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(10)

    def stop(self):
        if not self.running:
            return None
        self.proc.send_signal(signal.SIGCONT)
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30 * SLOW)
        except subprocess.TimeoutExpired:
            self.kill9()
            return "timeout"


# ---------------------------------------------------------------- history and checkers


class History:
    """What the clients did; appended to from their threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sent = set()
        self.acked = {}   # value -> (partition, offset); offset None: acknowledged, offset unknown
        self.failed = {}  # value -> error
        self.polls = []   # [(reader, partition, offset, value)]

    def ack(self, value, partition, offset):
        with self.lock:
            self.acked[value] = (partition, offset)

    def fail(self, value, err):
        with self.lock:
            self.failed[value] = str(err)

    def read(self, reader, partition, offset, value):
        with self.lock:
            self.polls.append((reader, partition, offset, value))


def lost(acked, read):
    """The acknowledged writes (values) that no read returned: what acks=all promises never
    happens."""
    got = set(read)
    return sorted(v for v in acked if v not in got)


def check(history, final):
    """Anomalies of `history` against `final` ({partition: [(offset, value)]}): a dict of
    lost, inconsistent, non_monotonic, phantom and duplicates (lists, empty when none)."""
    at = {}
    for p, recs in final.items():
        for o, v in recs:
            at[(p, o)] = v
    in_final = {v for recs in final.values() for _, v in recs}
    out = {"lost": lost(history.acked, in_final)}
    seen = {}
    inconsistent = []
    for v, (p, o) in history.acked.items():
        if o is not None:  # acknowledged without an offset: written, place unknown
            seen.setdefault((p, o), set()).add(v)
    for _, p, o, v in history.polls:
        seen.setdefault((p, o), set()).add(v)
    for (p, o), vs in sorted(seen.items()):
        if (p, o) in at:
            vs = vs | {at[(p, o)]}
        if len(vs) > 1:
            inconsistent.append(((p, o), sorted(vs)))
    out["inconsistent"] = inconsistent
    last, nonmono = {}, []
    for reader, p, o, v in history.polls:
        key = (reader, p)
        if key in last and o <= last[key]:
            nonmono.append((reader, p, last[key], o))
        last[key] = o
    out["non_monotonic"] = nonmono
    read_values = {v for _, _, _, v in history.polls} | in_final
    out["phantom"] = sorted(read_values - history.sent)
    counts = {}
    for recs in final.values():
        for _, v in recs:
            counts[v] = counts.get(v, 0) + 1
    out["duplicates"] = sorted(v for v, n in counts.items() if n > 1)
    return out


# ---------------------------------------------------------------- faults


def schedule(seed, seconds, n_brokers):
    """[(start s, kind, target broker index or None, duration s)] from `seed`."""
    rnd = random.Random(seed)
    kinds = ["kill-leader", "kill-follower", "pause", "isolate-leader", "isolate", "kill-controller",
             "pause-controller", "isolate-controller"]
    ops, t = [], 2.0
    while t < seconds:
        kind = rnd.choice(kinds)
        dur = round(rnd.uniform(1.0, 4.0), 1)
        ops.append((round(t, 1), kind, rnd.randrange(n_brokers), dur))
        t += dur + rnd.uniform(1.5, 3.0)
    return ops


class Nemesis(threading.Thread):
    """Runs a schedule against `cluster` (brokers, controllers, net, leader_of()), healing each
    fault when its duration ends; log lines in self.log."""

    def __init__(self, cluster, ops):
        super().__init__(daemon=True)
        self.c, self.ops, self.log = cluster, ops, []
        self.errors = []

    def run(self):
        t0 = time.monotonic()
        for at, kind, target, dur in self.ops:
            delay = t0 + at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            try:
                self.apply(kind, target, dur)
            except Exception as e:  # noqa: BLE001 - reported by the test
                self.errors.append(f"{kind}: {e!r}")

    def apply(self, kind, target, dur):
        c = self.c
        if kind in ("kill-leader", "isolate-leader"):
            leader = c.leader_of(0)
            target = leader if leader is not None else target
        elif kind == "kill-follower":
            leader = c.leader_of(0)
            target = next((i for i in range(len(c.brokers)) if i != leader), target)
        self.log.append(f"{time.strftime('%H:%M:%S')} {kind} {target} for {dur} s")
        if kind.startswith("kill") and kind != "kill-controller":
            c.brokers[target].kill9()
            time.sleep(dur)
            c.brokers[target].start()
        elif kind == "pause":
            c.brokers[target].signal(signal.SIGSTOP)
            time.sleep(dur)
            c.brokers[target].signal(signal.SIGCONT)
        elif kind.startswith("isolate"):
            c.net.isolate(target)
            time.sleep(dur)
            c.net.heal(target)
        elif kind in ("kill-controller", "pause-controller", "isolate-controller"):
            ctl = c.active_controller()
            if ctl is None:
                return
            if kind == "isolate-controller":  # cut off from brokers and the other voters
                c.net.isolate(ctl.link)
                time.sleep(dur)
                c.net.heal(ctl.link)
            elif kind == "kill-controller":
                ctl.kill9()
                time.sleep(dur)
                ctl.start()
            else:  # a stalled active controller: the others elect a new one, it must step down
                ctl.proc.send_signal(signal.SIGSTOP)
                time.sleep(dur)
                ctl.proc.send_signal(signal.SIGCONT)


def reports(procs):
    """Sanitizer reports in the processes' stderr."""
    return [f"{getattr(p, 'errpath', '?')}:\n{r[:4000]}" for p in procs
            if (r := sanitizer_report(p.stderr))]


def wait(pred, timeout):
    return wait_for(pred, timeout * SLOW, 0.2)
