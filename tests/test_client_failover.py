"""Reference producers write with acks=all through a kill -9 of the partition leader and
lose no acknowledged record.

On 3 kcontrollers and 3 kbrokers, a topic with replication factor 3 and min.insync.replicas=2
has two partitions, both led by broker 11 at first (replicas [11, 12, 13] and [11, 13, 12], so
each fails over to a different broker). A producer writes records "CLIENT-SEQ" to partition
SEQ % 2, fed a few at a time while it runs: confluent-kafka (Debian's python3-confluent-kafka,
in this process), the Java client (tests/peers/java/KpProduce.java --stream) and franz-go
(tests/peers/franz, kpfranz -stream produce). Once some records are acknowledged, with more
being written, the leader is killed with SIGKILL; the producer must carry on to the new
leaders (the ISR shrinks to the two survivors, still min.insync.replicas) and have every record
acknowledged. Then every acknowledgement is checked against the new leaders' logs: the record
is at the partition and offset its delivery report named, with its value, and in each
partition the offsets grow in the order the producer acknowledged them. Last the killed broker
is started again and rejoins the ISR of both partitions, its copy byte-identical to the others'.

Each client runs twice:
  plain       idempotence off (librdkafka's default; Java enable.idempotence=false; franz-go
              kgo.DisableIdempotentWrite()): no acknowledged record may be lost. A batch the
              old leader had committed but not answered is sent again, so a record may be in
              the log twice, and a retried batch may overtake one sent after it: duplicates
              and reordering are allowed (their counts are in the failure message).
  idempotent  the client's defaults with idempotence on (librdkafka enable.idempotence=true;
              Java's default enable.idempotence=true; franz-go's default): also no duplicate
              and no reordering, so each partition holds exactly the records sent to it, in
              the order they were sent. This needs the idempotent producer in kbroker
              (InitProducerId, producer ids and sequence numbers).
"""
import json
import subprocess
import threading
import time

import pytest

import clients
from conftest import SLOW, wait_for
from test_kraft_cluster import BROKER_IDS, check_stopped
from test_replication import (create, partition_state, segments, start, wait_identical,
                              wait_isr)

confluent_kafka = pytest.importorskip("confluent_kafka")

TOPIC = "failover"
ASSIGNMENT = [[11, 12, 13], [11, 13, 12]]
PARTS = len(ASSIGNMENT)
BEFORE = 200          # records acknowledged before the kill
AFTER = 200           # acknowledgements of records written after the kill
CHUNK = 10            # records written at a time
TICK = 0.02           # seconds between chunks
BACKLOG = 1000        # at most this many written and not yet acknowledged
DELIVERY_MS = 60000 * SLOW


def value(client, seq):
    return f"{client}-{seq}"


def seq_of(client, v):
    if v is None:
        return None
    head, _, tail = v.rpartition("-")
    return int(tail) if head == client and tail.isdigit() else None


class Producer:
    """A producer being fed records: .send([(seq, partition, value)]), .finish(timeout).
    .acks lists (seq, partition, offset) in the order the client acknowledged them;
    .errors what it reported as failed (and how it ended, if badly)."""

    def __init__(self):
        self.acks = []
        self.errors = []
        self.sent = 0
        self.lock = threading.Lock()

    def acked(self, seq, partition, offset):
        with self.lock:
            self.acks.append((seq, partition, offset))

    def failed(self, what):
        with self.lock:
            self.errors.append(what)

    def n_acked(self):
        with self.lock:
            return len(self.acks)

    def broken(self):
        return bool(self.errors)

    def diagnostics(self):
        return ""


class ConfluentProducer(Producer):
    """confluent-kafka's Producer in this process; a thread serves its delivery reports."""

    name = "confluent"

    def __init__(self, bootstrap, idempotent):
        super().__init__()
        conf = {"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5,
                "message.timeout.ms": DELIVERY_MS, "error_cb": self.on_error}
        if idempotent:
            conf["enable.idempotence"] = True
        self.notes = []  # transient errors (a broker down): no failure by themselves
        self.p = confluent_kafka.Producer(conf)
        self.stop = threading.Event()
        self.poller = threading.Thread(target=self.poll, daemon=True)
        self.poller.start()

    def on_error(self, err):
        if err.fatal():
            self.failed(f"fatal: {err}")
        else:
            self.notes.append(str(err))

    def diagnostics(self):
        return "\n".join(self.notes[-20:])

    def poll(self):
        while not self.stop.is_set():
            try:
                self.p.poll(0.05)
            except confluent_kafka.KafkaException as e:  # a fatal error is raised here
                self.failed(f"poll: {e}")
                return

    def send(self, records):
        for seq, part, v in records:
            def done(err, msg, seq=seq):
                if err is not None:
                    self.failed(f"record {seq}: {err}")
                else:
                    self.acked(seq, msg.partition(), msg.offset())
            try:
                self.p.produce(TOPIC, value=v.encode(), partition=part, on_delivery=done)
            except (BufferError, confluent_kafka.KafkaException) as e:
                self.failed(f"record {seq}: produce: {e}")
                return False
            self.sent += 1
        return True

    def finish(self, timeout):
        self.stop.set()
        self.poller.join(30)
        try:
            left = self.p.flush(timeout)
        except confluent_kafka.KafkaException as e:
            self.failed(f"flush: {e}")
        else:
            if left:
                self.failed(f"{left} records still undelivered after {timeout} s")

    def abort(self):
        self.stop.set()
        self.poller.join(30)
        self.p = None  # librdkafka's threads end with the last reference (error_cb holds self)


class ProcessProducer(Producer):
    """A producer program reading Rec lines on stdin and printing one {"i", "p", "o"} or
    {"i", "error"} line a delivery report as it comes."""

    def __init__(self, name, cmd, tmp_path):
        super().__init__()
        self.name = name
        self.errpath = tmp_path / f"{name}.stderr"
        self.err = open(self.errpath, "wb")
        self.proc = subprocess.Popen([str(c) for c in cmd], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.err)
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self):
        for line in self.proc.stdout:
            if not line.strip():
                continue
            try:
                d = json.loads(line)
            except ValueError:
                self.failed(f"bad output line {line!r:.200}")
                continue
            if "error" in d:
                self.failed(f"record {d.get('i')}: {d['error']}")
            else:
                self.acked(d["i"], d["p"], d["o"])

    def send(self, records):
        data = "".join(clients.record_line(None, v.encode(), (), part) + "\n"
                       for _, part, v in records).encode()
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            self.failed(f"{self.name} exited early ({self.proc.poll()})")
            return False
        self.sent += len(records)
        return True

    def broken(self):
        return bool(self.errors) or self.proc.poll() is not None

    def diagnostics(self):
        return self.errpath.read_text(errors="replace")[-3000:]

    def finish(self, timeout):
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait(30)
            self.failed(f"{self.name} did not finish within {timeout} s of end of input")
        self.reader.join(30)
        if rc != 0:
            self.failed(f"{self.name} exited {rc}")

    def abort(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        self.err.close()


def make_producer(client, idempotent, bootstrap, tmp_path):
    if client == "confluent":
        return ConfluentProducer(bootstrap, idempotent)
    if client == "java":
        # KpProduce's own default is enable.idempotence=false; the client's is true
        idem = ["-X", f"enable.idempotence={'true' if idempotent else 'false'}"]
        cmd = clients.java_cmd("KpProduce", bootstrap, TOPIC, "--stream", "true", *idem,
                               "-X", f"delivery.timeout.ms={DELIVERY_MS}")
        return ProcessProducer("java", cmd, tmp_path)
    idem = [] if idempotent else ["-no-idempotence"]
    cmd = [clients.franz_binary(), "-b", bootstrap, "-timeout", f"{300 * SLOW}s",
           "-delivery-timeout", f"{DELIVERY_MS}ms", *idem, "-stream", "produce", TOPIC]
    return ProcessProducer("franz", cmd, tmp_path)


class Feeder(threading.Thread):
    """Writes CHUNK records to the producer every TICK seconds, keeping at most BACKLOG of
    them unacknowledged, until stopped or the producer breaks."""

    def __init__(self, prod):
        super().__init__(daemon=True)
        self.prod = prod
        self.halt = threading.Event()

    def run(self):
        seq = 0
        while not self.halt.is_set() and not self.prod.broken():
            if self.prod.sent - self.prod.n_acked() < BACKLOG:
                recs = [(s, s % PARTS, value(self.prod.name, s)) for s in range(seq, seq + CHUNK)]
                if not self.prod.send(recs):
                    break
                seq += CHUNK
            self.halt.wait(TICK)

    def stop(self):
        self.halt.set()
        self.join(60)


def read_log(bootstrap, timeout=60):
    """{partition: [(offset, value)]} of every record below each partition's high watermark."""
    c = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": "failover-check",
                                  "enable.auto.commit": False})
    try:
        ends = {p: c.get_watermark_offsets(confluent_kafka.TopicPartition(TOPIC, p),
                                           timeout=10 * SLOW)[1] for p in range(PARTS)}
        c.assign([confluent_kafka.TopicPartition(TOPIC, p, 0) for p in range(PARTS)])
        log = {p: [] for p in range(PARTS)}
        nxt = {p: 0 for p in range(PARTS)}
        deadline = time.monotonic() + timeout * SLOW
        while any(nxt[p] < ends[p] for p in range(PARTS)) and time.monotonic() < deadline:
            m = c.poll(0.3)
            if m is None or m.error():
                continue
            p, o = m.partition(), m.offset()
            if o < ends[p]:
                log[p].append((o, m.value().decode() if m.value() is not None else None))
            nxt[p] = max(nxt[p], o + 1)
        assert all(nxt[p] >= ends[p] for p in range(PARTS)), \
            f"read up to {nxt}, high watermarks {ends}"
        return log
    finally:
        c.close()


def producer_ids(broker, partition):
    """The producer ids of the record batches (magic 2) in the partition's segments on
    `broker`: -1 for a batch written without idempotence."""
    ids = set()
    for data in segments(broker, TOPIC, partition).values():
        pos = 0
        while pos + 61 <= len(data):  # a batch header is 61 bytes
            end = pos + 12 + int.from_bytes(data[pos + 8:pos + 12], "big")
            if end > len(data) or data[pos + 16] != 2:
                break
            ids.add(int.from_bytes(data[pos + 43:pos + 51], "big", signed=True))
            pos = end
    return ids


def judge(client, sent, acks, log, idempotent, pids):
    """The failures ([str]) of acknowledgements `acks` [(seq, partition, offset)] against the
    partitions' logs {partition: [(offset, value)]}; `sent` records were written; `pids`
    {partition: the producer ids of its batches}."""
    problems = []
    at = {(p, o): v for p, recs in log.items() for o, v in recs}
    where = {}
    for p, recs in log.items():
        for o, v in recs:
            where.setdefault(v, []).append((p, o))
    seqs = [s for s, _, _ in acks]
    if len(set(seqs)) != len(seqs):
        problems.append(f"{len(seqs) - len(set(seqs))} records acknowledged twice")
    unacked = sorted(set(range(sent)) - set(seqs))
    if unacked:
        problems.append(f"{len(unacked)} of {sent} records never acknowledged, "
                        f"e.g. {unacked[:10]}")
    lost, misplaced, wrong_part = [], [], []
    for s, p, o in acks:
        v = value(client, s)
        if p != s % PARTS:
            wrong_part.append((s, p))
        if at.get((p, o)) == v:
            continue
        (misplaced if v in where else lost).append((s, p, o, at.get((p, o)), where.get(v)))
    if lost:
        problems.append(f"{len(lost)} acknowledged records LOST (seq, partition, offset, "
                        f"found there, found anywhere): {lost[:10]}")
    if misplaced:
        problems.append(f"{len(misplaced)} acknowledged records not at the offset acknowledged "
                        f"(seq, partition, offset, found there, found at): {misplaced[:10]}")
    if wrong_part:
        problems.append(f"records acknowledged in the wrong partition: {wrong_part[:10]}")
    for p in range(PARTS):
        offs = [o for _, q, o in acks if q == p]
        bad = [(a, b) for a, b in zip(offs, offs[1:]) if b <= a]
        if bad:
            problems.append(f"partition {p}: acknowledged out of offset order, e.g. {bad[:5]}")
    foreign = [(p, o, v) for p, recs in log.items() for o, v in recs if seq_of(client, v) is None]
    if foreign:
        problems.append(f"records nobody sent in the log: {foreign[:10]}")
    dups = {v: w for v, w in where.items() if len(w) > 1}
    reordered = []
    for p, recs in log.items():
        high = -1
        for o, v in recs:
            s = seq_of(client, v)
            if s is None or len(where[v]) > 1 and where[v][0] != (p, o):
                continue  # a foreign record, or a later copy of a duplicate
            if s < high:
                reordered.append((p, o, s, high))
            high = max(high, s)
    counts = (f"{len(dups)} records written more than once (e.g. "
              f"{sorted(dups.items(), key=lambda kv: seq_of(client, kv[0]))[:5]}), "
              f"{len(reordered)} behind a later-sent record in their partition "
              f"(partition, offset, seq, highest seq before): {reordered[:5]}")
    if idempotent:
        plain = [p for p in range(PARTS) if -1 in pids[p]]
        if plain:
            # kgo, for one, falls back to plain produce requests without InitProducerId
            problems.append(f"partitions {plain} have batches without a producer id: the "
                            f"client did not produce idempotently (producer ids {pids})")
        if dups or reordered:
            problems.append(f"not exactly once and in order: {counts}")
        for p in range(PARTS):
            want = [value(client, s) for s in range(sent) if s % PARTS == p]
            got = [v for _, v in log[p]]
            if got != want and not dups and not reordered:
                problems.append(f"partition {p} is not exactly the records sent to it, in "
                                f"order: {len(got)} records, {len(want)} sent")
    elif problems:
        problems.append(f"(allowed without idempotence: {counts})")
    return problems


@pytest.fixture(scope="module")
def peers():
    """Builds the Java and franz-go programs once, before any cluster starts."""
    try:
        clients.java_classes()
        clients.franz_binary()
    except clients.PeerError as e:
        pytest.fail(f"reference clients: {e}")


@pytest.mark.parametrize("idempotent", [False, True], ids=["plain", "idempotent"])
@pytest.mark.parametrize("client", ["confluent", "java", "franz"])
def test_acks_all_producer_through_a_leader_kill(tmp_path, kp, peers, client, idempotent):
    c = start(tmp_path, kp)
    prod = feeder = None
    try:
        create(c, TOPIC, config={"min.insync.replicas": "2"}, assignment=ASSIGNMENT)
        states = [wait_isr(kp, c, TOPIC, list(BROKER_IDS), p) for p in range(PARTS)]
        old = states[0][0]
        assert [s[0] for s in states] == [old] * PARTS, f"leaders {states}"
        bootstrap = ",".join(c.brokers[n].bootstrap for n in BROKER_IDS)
        prod = make_producer(client, idempotent, bootstrap, tmp_path)
        feeder = Feeder(prod)
        feeder.start()

        def why(what):
            return (f"{client}: {what}: {prod.n_acked()} acknowledged of {prod.sent} written; "
                    f"errors {prod.errors[:10]}\n{prod.diagnostics()}")

        def wait(what, pred, timeout):
            wait_for(lambda: prod.broken() or pred(), timeout, 0.01)
            if prod.broken() or not pred():
                pytest.fail(why(what))

        # some acknowledged, more written and not yet acknowledged: kill the leader
        wait(f"{BEFORE} acknowledged and more written",
             lambda: prod.n_acked() >= BEFORE and prod.sent > prod.n_acked(), 60 * SLOW)
        c.brokers[old].kill9()
        at_kill, acked_at_kill = prod.sent, prod.n_acked()
        # the producer carries on to the new leaders: records written after the kill are
        # acknowledged
        wait(f"{AFTER} more acknowledged than written when broker {old} was killed "
             f"({at_kill})", lambda: prod.n_acked() >= at_kill + AFTER, 60 * SLOW)
        feeder.stop()
        prod.finish(90 * SLOW)
        if prod.errors:
            pytest.fail(why("at the end of input"))
        leaders = {p: partition_state(kp, c, TOPIC, p)[0] for p in range(PARTS)}
        assert all(n not in (old, -1) for n in leaders.values()), f"leaders {leaders}"
        survivors = ",".join(c.brokers[n].bootstrap for n in BROKER_IDS if n != old)
        log = read_log(survivors)
        pids = {p: producer_ids(c.brokers[n], p) for p, n in leaders.items()}
        problems = judge(client, prod.sent, prod.acks, log, idempotent, pids)
        assert not problems, (f"{client} ({'idempotent' if idempotent else 'plain'}): "
                              f"{prod.sent} records written, {acked_at_kill} acknowledged and "
                              f"{at_kill} written when broker {old} was killed; "
                              f"log sizes {[len(log[p]) for p in range(PARTS)]}:\n"
                              + "\n".join(problems))
        # the killed broker comes back and rejoins the ISR with the same log
        c.brokers[old].start()
        for p in range(PARTS):
            wait_isr(kp, c, TOPIC, list(BROKER_IDS), p, timeout=60)
            wait_identical(c, TOPIC, BROKER_IDS, p, timeout=60)
    finally:
        if feeder is not None:
            feeder.stop()
        if prod is not None:
            prod.abort()
        check_stopped(c)
