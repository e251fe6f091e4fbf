"""Consumer groups, timed the same way against either broker: a group's throughput and
how long a member takes from its start to its first record.

Every function takes the broker (brokers.KBroker or brokers.Kafka) and a client:
"py", a confluent-kafka (librdkafka) consumer in a process of its own (this file run
as `groups.py member`, under /usr/bin/python3 like e2e.py), or "kconsume" (kconsume
-g). It returns a dict, or {"error": why}. Members are separate processes; one thread
each reads their standard output and notes when records arrive (time.monotonic: one
clock for every process). Every run has a time limit, and every member started is
stopped (SIGTERM: it commits and leaves; SIGKILL after 10 s) before the function
returns. Neither client is told to exit at the end of its partitions (a member that
leaves makes the others rebalance, which a group reading a topic does not do).

  group_throughput  3 members of a fresh group read a pre-filled topic of 6 partitions
                    from the beginning, committing as they go: the first member's
                    start to the moment every partition has been read to its end
  join_empty        1 member joins a fresh (empty) group: its start to its first record
  join_third        2 members consume a topic fed at a fixed rate; a third starts: its
                    start to its first record, and to all 3 consuming again

kconsume prints one line per record and flushes whenever it waits for the broker; the
pre-filled topic is written per partition (kcat -P -p N: even partitions) and the last
record of partition N starts with "LAST-N-", so a reader sees that a partition has
been read to its end without parsing every line. The librdkafka member reports its
own times and positions instead (kcat -G would do, but it holds its output in stdio
buffers until it exits, and with -e each member leaves the group as it finishes).
"""
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time

import workloads as wl

PARTITIONS = 6         # partitions of the group topics
MEMBERS = 3            # members of the throughput group
LIVE_RATE = 1200       # records/s into the live topic during join_third (all partitions)
MARK = b"LAST-"


# ---------------------------------------------------------------- records

def write_partition_files(workdir, count, size, partitions=PARTITIONS):
    """count records of size bytes (one a line) split evenly over partitions files;
    returns [(partition, path, records)]. Partition p's records are "p NNNNNNNNN xxx";
    its last one is "LAST-p-xxx"."""
    out = []
    per = [count // partitions + (1 if p < count % partitions else 0) for p in range(partitions)]
    for p in range(partitions):
        path = os.path.join(workdir, f"group-records-{size}-p{p}.txt")
        n = per[p]
        with open(path, "wb", buffering=1 << 20) as f:
            for i in range(0, n, 10000):
                f.write(b"".join((b"%d %09d " % (p, j)).ljust(size, b"x") + b"\n"
                                 for j in range(i, min(n - 1, i + 10000))))
            if n:
                f.write((MARK + b"%d-" % p).ljust(size, b"x") + b"\n")
        out.append((p, path, n))
    return out


def fill(broker, topic, files):
    """Produce each partition's file into that partition with kcat -P -p (untimed)."""
    for p, path, n in files:
        if n == 0:
            continue
        if not wl.KCAT:
            return {"error": "kcat is not installed"}
        rc, dt, _, _, err = wl._run([wl.KCAT, "-P", "-b", broker.bootstrap, "-t", topic,
                                     "-p", p, "-X", "acks=1"], stdin_path=path)
        if rc != 0:
            return wl._fail("kcat -P -p", rc, dt, err)
    return {}


# ---------------------------------------------------------------- members

def member_cmd(client, broker, topic, group, reset, hb_ms, bindir, ends=None):
    """argv of one group member. reset: earliest|latest (where a partition without a
    committed offset starts). Commits: both clients' defaults (auto commit every 5 s, and
    on revocation and close). client "py" is this file run as a librdkafka member (see
    member_main); "kconsume" prints one line per record and flushes whenever it waits for
    the broker."""
    if client == "py":
        cmd = [wl.PYTHON, os.path.abspath(__file__), "member", broker.bootstrap, group, topic,
               "--reset", reset, "--heartbeat", hb_ms]
        return cmd + (["--positions"] if ends else [])
    return [os.path.join(bindir, "kconsume"), "-b", broker.bootstrap, "-t", topic, "-g", group,
            "-o", "beginning" if reset == "earliest" else "end",
            "-X", f"heartbeat.interval.ms={hb_ms}"]


class Member:
    """One member process and a thread reading its standard output: the time of its first
    record, every read (time, records so far) and when each partition was read to its end.
    kconsume's output is its records, one a line (a partition's end: its "LAST-" record
    passed); a "py" member's is its own reports (member_main), with its own times and,
    given ends ({partition: end offset}), its positions."""

    def __init__(self, client, cmd, errpath, on_mark=None, ends=None):
        self.py = client == "py"
        self.cmd = cmd
        self.errpath = errpath
        self.on_mark = on_mark
        self.ends = ends or {}
        self.first = None
        self.lines = 0
        self.reads = []             # (monotonic time, records so far)
        self.marks = {}             # partition -> time it was read to its end
        with open(errpath, "wb") as err:
            self.t0 = time.monotonic()
            self.proc = subprocess.Popen([str(c) for c in cmd], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=err)
        self.thread = threading.Thread(target=self._read_py if self.py else self._read,
                                       daemon=True)
        self.thread.start()

    def _mark(self, p, t):
        if p not in self.marks:
            self.marks[p] = t
            if self.on_mark:
                self.on_mark(p, t)

    def _read(self):
        fd = self.proc.stdout.fileno()
        tail = b""
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            t = time.monotonic()
            n = chunk.count(b"\n")
            if n and self.first is None:
                self.first = t
            self.lines += n
            self.reads.append((t, self.lines))
            if self.on_mark:
                buf = tail + chunk
                i = buf.find(MARK)
                while i >= 0 and i + len(MARK) < len(buf):
                    self._mark(buf[i + len(MARK)] - ord("0"), t)
                    i = buf.find(MARK, i + 1)
                tail = buf[-(len(MARK) + 2):]

    def _read_py(self):
        for line in self.proc.stdout:
            f = line.split()
            if not f:
                continue
            if f[0] == b"S":            # S TIME: about to create its consumer
                self.t0 = float(f[1])
            elif f[0] == b"R":          # R TIME RECORDS [PARTITION:POSITION ...]
                t = float(f[1])
                if self.first is None:
                    self.first = t
                self.lines += int(f[2])
                self.reads.append((t, self.lines))
                for pp in f[3:]:
                    p, pos = map(int, pp.split(b":"))
                    if p in self.ends and pos >= self.ends[p]:
                        self._mark(p, t)

    def running(self):
        return self.proc.poll() is None

    def stop(self):
        """SIGTERM (both clients then commit and leave the group), SIGKILL after 10 s."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.thread.join(5)
        self.proc.stdout.close()

    def err_tail(self):
        try:
            with open(self.errpath, errors="replace") as f:
                lines = [ln for ln in f.read().splitlines() if ln.strip()]
        except OSError:
            return ""
        return lines[-1][:200] if lines else ""


def _stop_all(members):
    for m in members:
        m.stop()


def _errors(members, what):
    why = "; ".join(f"member {i + 1} exit {m.proc.returncode}: {m.err_tail()}"
                    for i, m in enumerate(members)
                    if m.proc.returncode not in (0, None, -signal.SIGTERM) or m.err_tail())
    return {"error": f"{what}{': ' + why if why else ''}"[:300]}


_seq = [0]


def _group_name(tag):
    _seq[0] += 1
    return f"bench-{tag}-{os.getpid()}-{_seq[0]}"


def _wait(cond, deadline, step=0.002):
    while not cond() and time.monotonic() < deadline:
        time.sleep(step)
    return cond()


# ---------------------------------------------------------------- throughput

def group_throughput(broker, client, topic, count, size, bindir, hb_ms, workdir, ends,
                     members=MEMBERS):
    """members processes of client join one fresh group at once and read topic (count
    records of size bytes, pre-filled; ends = {partition: end offset}) from the
    beginning, committing as they go (auto commit), and keep running as a group does.
    Timed from the first member's start until every partition has been read to its end
    (by whichever member): records/s and MB/s of the topic's records; then the members
    are stopped. Records read more than once before that (a partition read again from
    its last commit after a rebalance) are counted in "again", not in the rate."""
    group = _group_name("tput")
    done = threading.Event()
    lock = threading.Lock()
    seen = {}

    def on_mark(p, t):
        with lock:
            seen.setdefault(p, t)
            if len(seen) == len(ends):
                done.set()

    limit = min(wl.TIMEOUT, 60 + count / 10000)
    ms = []
    try:
        for i in range(members):
            ms.append(Member(client, member_cmd(client, broker, topic, group, "earliest", hb_ms,
                                                bindir, ends),
                             os.path.join(workdir, f"member-{i}.stderr"), on_mark, ends))
        deadline = ms[0].t0 + limit
        while not done.is_set() and time.monotonic() < deadline:
            if not any(m.running() for m in ms):
                break
            done.wait(0.05)
        lines = sum(m.lines for m in ms)
    finally:
        _stop_all(ms)
    t0 = min(m.t0 for m in ms)
    if not done.is_set():
        return _errors(ms, f"{client} group: {len(seen)} of {len(ends)} partitions read to "
                       f"the end ({lines} records) after {time.monotonic() - t0:.0f} s")
    r = wl._throughput(count, size, max(seen.values()) - t0)
    r["again"] = max(0, lines - count)
    r["members"] = members
    return r


# ---------------------------------------------------------------- rebalance

def join_empty(broker, client, topic, bindir, hb_ms, workdir, samples=3, timeout=60):
    """One member joins a fresh (empty) group subscribed to topic (pre-filled, read from
    the beginning): its start to its first record, samples times (a fresh group each);
    first_ms is their median, first_ms_all the single values."""
    vals = []
    for _ in range(samples):
        m = Member(client, member_cmd(client, broker, topic, _group_name("join1"), "earliest",
                                      hb_ms, bindir),
                   os.path.join(workdir, "join1.stderr"))
        try:
            _wait(lambda: m.first is not None or not m.running(), m.t0 + timeout)
        finally:
            m.stop()
        if m.first is None:
            return _errors([m], f"{client}: no record within {timeout} s")
        vals.append((m.first - m.t0) * 1e3)
    return {"first_ms": statistics.median(vals), "first_ms_all": vals}


class LiveProducer:
    """A thread producing rate records/s to topic, round robin over the partitions, in
    ticks of 5 ms (librdkafka producer, linger.ms=0, acks=1)."""

    def __init__(self, broker, topic, rate=LIVE_RATE, partitions=PARTITIONS):
        from confluent_kafka import Producer   # Debian's python3-confluent-kafka
        self.prod = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0,
                              "acks": "1", "enable.idempotence": False})
        self.topic, self.rate, self.partitions = topic, rate, partitions
        self.stop_ev = threading.Event()
        self.errors = []
        self.sent = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _dr(self, err, _msg):
        if err is not None and len(self.errors) < 3:
            self.errors.append(str(err))

    def _run(self):
        tick = 0.005
        t0 = time.monotonic()
        k = 0
        while not self.stop_ev.is_set():
            due = int((time.monotonic() - t0) * self.rate)
            while self.sent < due:
                p = self.sent % self.partitions
                self.prod.produce(self.topic, b"%d %d" % (p, self.sent), partition=p,
                                  on_delivery=self._dr)
                self.sent += 1
            self.prod.poll(0)
            k += 1
            time.sleep(max(0, t0 + k * tick - time.monotonic()))
        self.prod.flush(10)

    def stop(self):
        self.stop_ev.set()
        self.thread.join(15)


def _first_read_after(member, t):
    """Time of member's first read of a record after time t, or None."""
    for rt, _ in list(member.reads):
        if rt > t:
            return rt
    return None


def join_third(broker, client, topic, bindir, hb_ms, workdir, samples=3, settle=0.5,
               timeout=30):
    """Two members of a fresh group consume topic (6 partitions, fed at LIVE_RATE records/s
    while this runs; new records only); once both have records, plus settle s and a random
    part of a heartbeat interval, a third member starts. newcomer_ms: its start to its
    first record. again_ms: its start to the moment all three are consuming: each of the
    two others has a record after the newcomer's first one (the classic protocol's eager
    rebalance revokes every partition and hands all out in one go, so the newcomer's first
    record comes after the others rejoined; a member still waiting after it shows up
    here). samples times, a fresh group each; the figures are medians, *_all the single
    values."""
    try:
        prod = LiveProducer(broker, topic)
    except ImportError:
        return {"error": "confluent_kafka is not importable (apt install python3-confluent-kafka)"}
    out = {"newcomer_ms_all": [], "again_ms_all": []}
    try:
        for _ in range(samples):
            r = _join_third_once(broker, client, topic, bindir, hb_ms, workdir, settle, timeout,
                                 prod)
            if "error" in r:
                return r
            out["newcomer_ms_all"].append(r["newcomer_ms"])
            out["again_ms_all"].append(r["again_ms"])
    finally:
        prod.stop()
    for k in ("newcomer_ms", "again_ms"):
        out[k] = statistics.median(out[k + "_all"])
    return out


def _join_third_once(broker, client, topic, bindir, hb_ms, workdir, settle, timeout, prod):
    group = _group_name("join3")
    ms = []
    new = None
    others = [None]
    try:
        for i in range(2):
            ms.append(Member(client, member_cmd(client, broker, topic, group, "latest", hb_ms,
                                                bindir),
                             os.path.join(workdir, f"join3-{i}.stderr")))
        if not _wait(lambda: all(m.first is not None for m in ms)
                     or not all(m.running() for m in ms), time.monotonic() + timeout, 0.01) \
                or any(m.first is None for m in ms):
            return _errors(ms, f"{client}: the first two members had no record within "
                           f"{timeout} s (producer sent {prod.sent}, {prod.errors})")
        # Members heartbeat every hb_ms from their join on: a fixed settle time would start
        # the newcomer at the same phase of their heartbeats every time, and the old members
        # only hear of the rebalance at their next heartbeat.
        time.sleep(settle + random.uniform(0, hb_ms / 1000))
        new = Member(client, member_cmd(client, broker, topic, group, "latest", hb_ms, bindir),
                     os.path.join(workdir, "join3-2.stderr"))
        ms.append(new)
        deadline = time.monotonic() + timeout
        _wait(lambda: new.first is not None or not new.running(), deadline)
        if new.first is not None:
            _wait(lambda: all(_first_read_after(m, new.first) for m in ms[:2]), deadline, 0.005)
            others = [_first_read_after(m, new.first) for m in ms[:2]]
    finally:
        _stop_all(ms)
    if new.first is None:
        return _errors(ms, f"{client}: the third member had no record within {timeout} s")
    if None in others:
        return {"error": f"{client}: a member had no record after the newcomer's first one "
                f"within {timeout} s"}
    return {"newcomer_ms": (new.first - new.t0) * 1e3,
            "again_ms": (max([new.first] + others) - new.t0) * 1e3}


# ---------------------------------------------------------------- warm-up

def warm_up(broker, topic, bindir, workdir, hb_ms):
    """One untimed group read with each client, so that __consumer_offsets exists and the
    coordinator is loaded before anything is timed (Kafka creates that topic on the first
    FindCoordinator)."""
    for client in ("kconsume", "py"):
        m = Member(client, member_cmd(client, broker, topic, _group_name("warm"), "earliest",
                                      hb_ms, bindir), os.path.join(workdir, "warm.stderr"))
        _wait(lambda: m.first is not None or not m.running(), m.t0 + 60, 0.01)
        m.stop()
        if m.first is None:
            return _errors([m], f"group warm-up ({client})")
    return {}


# ---------------------------------------------------------------- the librdkafka member

def member_main(argv):
    """groups.py member BOOTSTRAP GROUP TOPIC [--reset earliest|latest] [--heartbeat MS]
    [--positions]: a confluent-kafka (librdkafka) consumer in group GROUP subscribed to
    TOPIC, auto commit on (librdkafka's defaults otherwise), until SIGTERM (then close:
    commit and leave). Prints "S TIME" just before it creates the consumer, then after
    every non-empty batch "R TIME RECORDS" (TIME: time.monotonic() when the batch was
    returned), with --positions followed by PARTITION:POSITION of every owned partition."""
    import argparse
    from confluent_kafka import Consumer
    ap = argparse.ArgumentParser(prog="groups.py member")
    ap.add_argument("bootstrap")
    ap.add_argument("group")
    ap.add_argument("topic")
    ap.add_argument("--reset", default="earliest")
    ap.add_argument("--heartbeat", type=int, default=3000)
    ap.add_argument("--positions", action="store_true")
    a = ap.parse_args(argv)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    out = sys.stdout
    out.write(f"S {time.monotonic():.6f}\n")
    out.flush()
    c = Consumer({"bootstrap.servers": a.bootstrap, "group.id": a.group,
                  "auto.offset.reset": a.reset, "heartbeat.interval.ms": a.heartbeat})
    c.subscribe([a.topic])
    errors = 0
    while not stop:
        msgs = c.consume(num_messages=10000, timeout=0.002)
        if not msgs:
            continue
        t = time.monotonic()
        bad = [m for m in msgs if m.error()]
        if bad:
            errors += len(bad)
            print(f"groups.py member: {bad[0].error()}", file=sys.stderr)
        line = f"R {t:.6f} {len(msgs) - len(bad)}"
        if a.positions:
            line += "".join(f" {tp.partition}:{tp.offset}" for tp in c.position(c.assignment()))
        out.write(line + "\n")
        out.flush()
    c.close()
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] != ["member"]:
        sys.exit("groups.py is a module of tests/bench/run (or: groups.py member ...)")
    sys.exit(member_main(sys.argv[2:]))
