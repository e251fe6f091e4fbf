"""Crash recovery under load: kbroker is killed with SIGKILL at random moments while real
producers (confluent_kafka, in this process) write, and after every restart every acknowledged
record is in the log, in order, exactly once, and every batch read passes its CRC.

Two topics of one partition each, written at the same time by two producers:

  acks1    acks=1, idempotence off, retries off (message.send.max.retries=0): the client sends
           each record at most once, so the log holds each record at most once and in the
           order sent. A record whose request died with the broker is not acknowledged and may
           be there or not.
  acksall  acks=all with the idempotent producer (enable.idempotence=true, librdkafka's
           retries): an unacknowledged batch is retried after the restart and the broker's
           producer state (rebuilt from its snapshot and the batches after it) must answer a
           batch it already has with its first offsets instead of writing it twice, so again
           each record is there at most once, in order.

Records are "SEQ:" + padding with SEQ counting up per topic. Small segments
(log.segment.bytes) and a small log.index.interval.bytes make the kills land in rolls, index
writes and producer snapshots too; the flush policy changes from restart to restart (none,
log.flush.interval.messages=1, log.flush.interval.ms=20), so recovery starts from recovery
points anywhere in the log, with trusted index entries below them.

One cycle: the producers write for a random while (0.02 to 0.5 s), the broker is killed and
started again, the producers are paused and flushed (every record sent so far is acknowledged
or failed), and a consumer with check.crcs=true reads each topic from the beginning to its high
watermark: no consumer error (a CRC mismatch is one), sequence numbers strictly increasing, and
every acknowledged record at the offset its delivery report named. Then the producers resume.

The second test does the same with replication: 3 kcontrollers and 3 kbrokers (the fixtures of
tests/test_replication.py), a topic with replication factor 3 and min.insync.replicas=2 written
by the idempotent producer with acks=all, and a random broker (leader or follower) killed and
restarted; each check waits until it is back in the ISR.

KP_CRASH_KILLS (default 50) sets how many kills of the single broker, e.g. KP_CRASH_KILLS=500
tests/run tests/test_crash_recovery.py; the cluster gets KP_CRASH_KILLS / 6 (at least 3). With
the ASan build on 2 cores the default run takes about 70 s (35 s + 30 s). The seed is printed
(pytest -s shows it, and every failure message carries it); KP_CRASH_SEED=N replays the same
kill schedule and flush policies (the moments of the kills relative to the writes still depend
on timing).
"""
import os
import random
import signal
import threading
import time

import pytest

from conftest import PER_TEST_TIMEOUT, SLOW, create_topic, wait_for
from test_kraft_cluster import BROKER_IDS, check_stopped
from test_replication import create, partition_state, start, wait_isr

ck = pytest.importorskip("confluent_kafka")

KILLS = int(os.environ.get("KP_CRASH_KILLS", "50"))
CLUSTER_KILLS = max(3, KILLS // 6)
SEED = int(os.environ.get("KP_CRASH_SEED", str(random.SystemRandom().randrange(1 << 32))))
PAD = b"x" * 180          # record value: b"%08d:" % seq + PAD (about 190 bytes)
CHUNK = 5                 # records produced at a time
TICK = 0.01               # seconds between chunks
DELIVERY_MS = 120000 * SLOW
BROKER = ["log.segment.bytes=16384", "log.index.interval.bytes=1024"]
FLUSH_POLICIES = [[], ["log.flush.interval.messages=1"], ["log.flush.interval.ms=20"]]


def allow(seconds):
    """Stretch conftest's per-test limit (KP_TEST_TIMEOUT) to `seconds` for a long
    KP_CRASH_KILLS run."""
    if seconds > PER_TEST_TIMEOUT:
        signal.alarm(int(seconds))


def value(seq):
    return b"%08d:" % seq + PAD


class Writer(threading.Thread):
    """One producer writing value(0), value(1), ... to partition 0 of `topic` until stopped;
    pause() makes it flush and wait. Delivery reports: acked {seq: offset}, failed {seq}."""

    def __init__(self, bootstrap, topic, conf):
        super().__init__(daemon=True)
        self.topic = topic
        self.acked, self.failed, self.fatal = {}, set(), []
        self.sent = 0
        self.lock = threading.Lock()
        self.pausing, self.paused, self.stopping = (threading.Event(), threading.Event(),
                                                     threading.Event())
        self.p = ck.Producer({"bootstrap.servers": bootstrap, "linger.ms": 5,
                              "message.timeout.ms": DELIVERY_MS,
                              "reconnect.backoff.ms": 20, "reconnect.backoff.max.ms": 200,
                              "retry.backoff.ms": 20, "log_level": 2, "error_cb": self.on_error,
                              **conf})

    def on_error(self, err):
        if err.fatal():
            self.fatal.append(str(err))

    def done(self, err, msg, seq):
        with self.lock:
            if err is None:
                self.acked[seq] = msg.offset()
            else:
                self.failed.add(seq)

    def run(self):
        try:
            self.write()
        except Exception as e:  # noqa: BLE001 - reported by check(), which pause() lets run
            self.fatal.append(f"producer thread: {e!r}")
            self.paused.set()

    def write(self):
        while not self.stopping.is_set():
            if self.pausing.is_set():
                self.p.flush(DELIVERY_MS / 1000)
                self.paused.set()
                while self.pausing.is_set() and not self.stopping.is_set():
                    time.sleep(0.005)
                self.paused.clear()
                continue
            for _ in range(CHUNK):
                seq = self.sent
                try:
                    self.p.produce(self.topic, value=value(seq), partition=0,
                                   on_delivery=lambda err, msg, seq=seq: self.done(err, msg, seq))
                except BufferError:
                    break
                self.sent += 1
            self.p.poll(TICK)
        self.p.flush(DELIVERY_MS / 1000)

    def pause(self):
        self.pausing.set()
        assert self.paused.wait(DELIVERY_MS / 1000 + 10), f"{self.topic}: flush did not end"

    def resume(self):
        self.pausing.clear()

    def stop(self):
        self.stopping.set()
        self.pausing.clear()
        self.join(DELIVERY_MS / 1000 + 10)


class Reader:
    """One consumer for the whole test (it reconnects after each restart) with
    check.crcs=true: read() returns {topic: [(offset, value)]} of partition 0 of each topic
    from the start to its high watermark, failing on any consumer error (a CRC mismatch is
    one)."""

    def __init__(self, bootstrap, topics):
        self.topics = topics
        self.c = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": "crash-check",
                              "enable.auto.commit": False, "check.crcs": True,
                              "enable.partition.eof": True, "fetch.wait.max.ms": 10,
                              "reconnect.backoff.ms": 20, "reconnect.backoff.max.ms": 200,
                              "log_level": 2})

    def high_watermark(self, topic):
        got = []

        def ask():
            try:
                got.append(self.c.get_watermark_offsets(ck.TopicPartition(topic, 0),
                                                        timeout=5 * SLOW)[1])
            except ck.KafkaException:
                return False
            return True
        assert wait_for(ask, 30 * SLOW, 0.05), f"{topic}: no watermarks (seed {SEED})"
        return got[-1]

    def read(self):
        hi = {t: self.high_watermark(t) for t in self.topics}
        got = {t: [] for t in self.topics}

        def short():
            return [t for t in self.topics
                    if hi[t] > 0 and not (got[t] and got[t][-1][0] + 1 >= hi[t])]
        self.c.assign([ck.TopicPartition(t, 0, ck.OFFSET_BEGINNING) for t in self.topics])
        deadline = time.monotonic() + 60 * SLOW
        while short() and time.monotonic() < deadline:
            for m in self.c.consume(1000, 0.1):
                e = m.error()
                if e is None:
                    got[m.topic()].append((m.offset(), m.value()))
                elif e.code() != ck.KafkaError._PARTITION_EOF:
                    pytest.fail(f"{m.topic()}: consumer error {e} (seed {SEED})")
        self.c.unassign()
        for t in short():
            pytest.fail(f"{t}: read up to {got[t][-1][0] if got[t] else None} of high "
                        f"watermark {hi[t]} (seed {SEED})")
        return got

    def close(self):
        self.c.close()


def check(w, got, kill):
    """Everything `w` had acknowledged is in `got` (its topic's [(offset, value)]) at its
    offset; no record twice, in order."""
    where = f"{w.topic} after kill {kill} (seed {SEED})"
    seqs = []
    for off, v in got:
        assert v is not None and v.endswith(PAD) and v[8:9] == b":", f"{where}: bad value {v!r:.60}"
        seqs.append(int(v[:8]))
    for a, b in zip(seqs, seqs[1:]):
        assert a < b, f"{where}: record {b} follows {a} (duplicate or out of order)"
    at = {off: s for (off, _), s in zip(got, seqs)}
    with w.lock:
        acked = dict(w.acked)
    wrong = {s: (o, at.get(o)) for s, o in acked.items() if at.get(o) != s}
    assert not wrong, (f"{where}: {len(wrong)} acknowledged records missing or moved "
                       f"(seq: (acked offset, seq there)), e.g. {sorted(wrong.items())[:10]}")
    assert not w.fatal, f"{where}: producer fatal error {w.fatal}"
    return len(acked), len(seqs)


def test_sigkill_while_producing_loses_no_acknowledged_record(broker):
    rng = random.Random(SEED)
    print(f"KP_CRASH_SEED={SEED} KP_CRASH_KILLS={KILLS}")
    allow(60 + 5 * KILLS)
    b = broker(*BROKER, partitions=1)
    base = list(b.overrides)
    writers = [Writer(b.bootstrap, "acks1", {"acks": 1, "enable.idempotence": False,
                                             "message.send.max.retries": 0}),
               Writer(b.bootstrap, "acksall", {"acks": "all", "enable.idempotence": True})]
    for w in writers:
        create_topic(b.bootstrap, w.topic, 1)
        w.start()
    reader = Reader(b.bootstrap, [w.topic for w in writers])
    t0 = time.monotonic()
    try:
        for kill in range(1, KILLS + 1):
            time.sleep(rng.uniform(0.02, 0.5))
            b.overrides = base + rng.choice(FLUSH_POLICIES)
            b.kill9()
            b.start()
            for w in writers:
                w.pause()
            got = reader.read()
            for w in writers:
                check(w, got[w.topic], kill)
            for w in writers:
                w.resume()
        for w in writers:
            w.stop()
        got = reader.read()
        for w in writers:
            acked, kept = check(w, got[w.topic], KILLS)
            print(f"{w.topic}: {w.sent} sent, {acked} acknowledged, {len(w.failed)} failed, "
                  f"{kept} in the log")
            assert acked > KILLS, f"{w.topic}: only {acked} acknowledged (seed {SEED})"
    finally:
        for w in writers:
            w.stopping.set()
        reader.close()
    cuts = b.stderr.count("truncating")
    print(f"{KILLS} kills in {time.monotonic() - t0:.1f} s; recovery cut {cuts} torn tails")
    b.check_sanitizer()


def test_sigkill_in_a_cluster_loses_no_acknowledged_record(tmp_path, kp):
    """The same with replication: 3 kcontrollers and 3 kbrokers, a topic with replication
    factor 3 and min.insync.replicas=2 written by the idempotent producer with acks=all, and a
    random broker (the leader or a follower) killed KP_CRASH_KILLS / 6 times (at least 3). After
    each restart, once the broker is back in the ISR, the same checks."""
    rng = random.Random(SEED + 1)
    topic = "acksall3"
    allow(120 + 10 * CLUSTER_KILLS)
    c = start(tmp_path, kp, *BROKER)
    w = reader = None
    try:
        create(c, topic, config={"min.insync.replicas": "2"})
        wait_isr(kp, c, topic, list(BROKER_IDS))
        boot = ",".join(c.brokers[n].bootstrap for n in BROKER_IDS)
        w = Writer(boot, topic, {"acks": "all", "enable.idempotence": True})
        w.start()
        reader = Reader(boot, [topic])
        t0 = time.monotonic()
        for kill in range(1, CLUSTER_KILLS + 1):
            time.sleep(rng.uniform(0.02, 0.5))
            victim = rng.choice(BROKER_IDS)
            leader = partition_state(kp, c, topic)[0]
            c.brokers[victim].kill9()
            c.brokers[victim].start()
            wait_isr(kp, c, topic, list(BROKER_IDS), timeout=60)
            w.pause()
            check(w, reader.read()[topic], f"{kill} (broker {victim}, leader {leader})")
            w.resume()
        w.stop()
        acked, kept = check(w, reader.read()[topic], CLUSTER_KILLS)
        # Not compared file by file: a follower catching up appends a whole fetch to one
        # segment (as Kafka's appendAsFollower rolls once per append), so its segments may be
        # cut elsewhere than the leader's; the records are checked above.
        print(f"{topic}: {w.sent} sent, {acked} acknowledged, {len(w.failed)} failed, {kept} in "
              f"the log; {CLUSTER_KILLS} kills in {time.monotonic() - t0:.1f} s")
        assert acked > CLUSTER_KILLS, f"{topic}: only {acked} acknowledged (seed {SEED})"
    finally:
        if w:
            w.stopping.set()
        if reader:
            reader.close()
        check_stopped(c)
