#!/usr/bin/python3
"""Storage figures: many partitions on one broker, and append speed against the disk.

  partitions  100 topics of 100 partitions (10,000) created with one CreateTopics through
              confluent-kafka's AdminClient on a fresh single-node kbroker and Apache Kafka:
              seconds until every partition has a leader (and, on a row of its own, until
              the CreateTopics answer; topic errors in it are counted and printed, not
              raised: the leaders decide whether the topics exist); then the broker's open file
              descriptors (/proc/PID/fd) and VmRSS; then a restart (SIGTERM, start again)
              timed from exec until Metadata shows every partition with a leader
  append      kproduce writing 1 KiB records (acks=1) into one partition, and over 100 (its
              sticky partitioner moves to the next partition with each batch),
              MB/s of payload, beside `dd` writing the same bytes in blocks of the
              producer's batch size (bs=BATCH) to the same filesystem (no sync on either
              side: kbroker leaves fsync to the flush policy, Kafka's default)

Nothing passes or fails: figures and ratios (above 1 favours kbroker: Kafka/kbroker for
time, descriptors and memory; kbroker/dd for MB/s).

Usage: tests/bench/storage.py [--topics N] [--partitions N] [--mib N] [--no-kafka] [--dir DIR]
Environment: KP_BUILD (default build/, the optimised build), KP_KAFKA_HEAP.
Also run by tests/bench/run (make bench) unless --no-storage.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import brokers  # noqa: E402

BATCH = 1 << 20  # kproduce --batch-size, and dd's block size


def open_fds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def leaders(bootstrap, topics, partitions, timeout):
    """Seconds until Metadata shows every partition of `topics` with a leader, or None."""
    from confluent_kafka.admin import AdminClient
    admin = AdminClient({"bootstrap.servers": bootstrap})
    t0 = time.monotonic()
    want = len(topics) * partitions
    while time.monotonic() - t0 < timeout:
        try:
            md = admin.list_topics(timeout=10)
            n = sum(1 for t in topics if t in md.topics
                    for p in md.topics[t].partitions.values() if p.leader >= 0)
            if n == want:
                return time.monotonic() - t0
        except Exception:  # noqa: BLE001 - not serving yet
            pass
        time.sleep(0.01)
    return None


def create_many(bootstrap, topics, partitions, timeout=300):
    """One CreateTopics of every topic: (seconds until it was answered and every leader is
    present or None, seconds until the answer, {error name: topics} of the answer). An
    error in the answer is counted, not raised: the topics may exist all the same (a broker
    that retried its forwarded request answers TOPIC_ALREADY_EXISTS), and the leaders tell."""
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap})
    t0 = time.monotonic()
    futs = admin.create_topics([NewTopic(t, partitions, 1) for t in topics],
                               operation_timeout=timeout, request_timeout=timeout)
    errors = {}
    for f in futs.values():
        try:
            f.result(timeout)
        except Exception as e:  # noqa: BLE001 - KafkaException(KafkaError), or a timeout
            err = e.args[0] if e.args else None
            name = err.name() if hasattr(err, "name") else type(e).__name__
            errors[name] = errors.get(name, 0) + 1
    answered = time.monotonic() - t0
    rest = leaders(bootstrap, topics, partitions, timeout)
    return (None if rest is None else time.monotonic() - t0), answered, errors


def restart_kbroker(b):
    """Stop (SIGTERM) and start the same kbroker; seconds from exec to all leaders."""
    b.stop()
    t0 = time.monotonic()
    with open(b.errpath, "ab") as err:
        b.proc = subprocess.Popen(b.args, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
    b.pid = b.proc.pid
    return t0


def partitions_case(build, work, n_topics, n_parts, kafka):
    topics = [f"many-{i:03d}" for i in range(n_topics)]
    out = {}
    kinds = [("kbroker", lambda d: brokers.KBroker(build, d, ["num.partitions=1"]))]
    if kafka:
        kinds.append(("kafka", lambda d: brokers.Kafka(d, heap=os.environ.get("KP_KAFKA_HEAP",
                                                                                "1g"))))
    for name, make in kinds:
        d = os.path.join(work, f"many-{name}")
        os.makedirs(d)
        b = make(d)
        r = out[name] = {}
        try:
            r["create_s"], r["create_answer_s"], r["create_errors"] = create_many(
                b.bootstrap, topics, n_parts)
            time.sleep(1)
            r["fds"] = open_fds(b.pid)
            r["rss_kib"] = brokers.proc_status(b.pid, "VmRSS")
            if name == "kbroker":
                t0 = restart_kbroker(b)
                while not brokers.accepts(b.port) and time.monotonic() - t0 < 300:
                    time.sleep(0.002)  # a client made now starts without reconnect backoff
                got = leaders(b.bootstrap, topics, n_parts, 300)
                r["restart_s"] = None if got is None else time.monotonic() - t0
                r["fds_after_restart"] = open_fds(b.pid)
            else:
                r["restart_s"] = kafka_restart(b, topics, n_parts)
        finally:
            b.stop()
    return out


def kafka_restart(k, topics, n_parts):
    """Apache Kafka stopped and started on its log dir; seconds from start to all leaders."""
    server = k.server
    server.stop()
    if server._log.exists():  # only the new run's READY line counts, as KafkaServer.restart
        server._log.rename(server._log.with_suffix(f".{int(time.time() * 1000)}.log"))
    t0 = time.monotonic()
    server.start()
    k.pid = server.proc.pid
    got = leaders(server.bootstrap, topics, n_parts, 300)
    return None if got is None else time.monotonic() - t0


def dd_mb_s(directory, total, block):
    path = os.path.join(directory, "dd.out")
    t0 = time.monotonic()
    subprocess.run(["dd", "if=/dev/zero", f"of={path}", f"bs={block}",
                    f"count={max(1, total // block)}"], check=True, capture_output=True)
    s = time.monotonic() - t0
    os.unlink(path)
    return total / s / 1e6


def append_case(build, work, mib):
    """{label: (kbroker MB/s, dd MB/s)} for 1 and 100 partitions."""
    d = os.path.join(work, "append")
    os.makedirs(d)
    b = brokers.KBroker(build, d, ["num.partitions=1"])
    kproduce = os.path.join(build, "bin", "kproduce")
    line = b"x" * 1023 + b"\n"
    n = mib * 1024
    data = os.path.join(work, "records.txt")
    with open(data, "wb") as f:
        for _ in range(n):
            f.write(line)
    out = {}
    try:
        from confluent_kafka.admin import AdminClient, NewTopic
        admin = AdminClient({"bootstrap.servers": b.bootstrap})
        for parts in (1, 100):
            topic = f"append-{parts}"
            admin.create_topics([NewTopic(topic, parts, 1)])[topic].result(60)
            leaders(b.bootstrap, [topic], parts, 60)
            args = [kproduce, "-b", b.bootstrap, "-t", topic, "-a", "1",
                    f"--batch-size={BATCH}", "--linger-ms=5"]
            with open(data, "rb") as f:
                t0 = time.monotonic()
                p = subprocess.run(args, stdin=f, capture_output=True)
                s = time.monotonic() - t0
            if p.returncode != 0:
                raise brokers.BenchError(f"kproduce: {p.stderr.decode()[-500:]}")
            out[f"{parts} partition(s)"] = (n * 1024 / s / 1e6, dd_mb_s(b.logdir, n * 1024, BATCH))
    finally:
        b.stop()
        os.unlink(data)
    return out


def fmt(v, unit=""):
    return "-" if v is None else (f"{v:,.2f}{unit}" if isinstance(v, float) else f"{v:,}{unit}")


def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "-"


def report(parts, append, n_topics, n_parts):
    print(f"\nmany partitions: {n_topics} topics x {n_parts} partitions, one CreateTopics "
          f"(confluent-kafka AdminClient), single node")
    k, a = parts.get("kbroker", {}), parts.get("kafka", {})
    print(f"  {'':24}{'kbroker':>14}{'kafka':>14}{'kafka/kbroker':>15}")
    for key, label in (("create_s", "create, s"), ("create_answer_s", "  CreateTopics answer, s"),
                       ("restart_s", "restart to serve, s"),
                       ("fds", "open fds"), ("rss_kib", "RSS, KiB")):
        print(f"  {label:24}{fmt(k.get(key)):>14}{fmt(a.get(key)):>14}"
              f"{ratio(a.get(key), k.get(key)):>15}")
    for name, r in (("kbroker", k), ("Kafka", a)):
        if r.get("create_errors"):
            errs = ", ".join(f"{e} x{n}" for e, n in sorted(r["create_errors"].items()))
            print(f"  {name}'s CreateTopics answer had topic errors: {errs} (the create row "
                  f"still counts until every leader was present)")
    if append:
        print(f"\nappend: kproduce 1 KiB records, acks=1, batches of {BATCH >> 10} KiB, "
              f"vs dd bs={BATCH >> 10}K to the same filesystem")
        for label, (kb, dd) in append.items():
            print(f"  {label:24}{kb:>10.1f} MB/s   dd {dd:>8.1f} MB/s   kbroker/dd {kb / dd:.2f}")


def main_with(build, workdir, kafka=True, topics=100, partitions=100, mib=256):
    """The storage case in a fresh directory under `workdir`, its report printed; returns
    its figures ({"partitions": {broker: {...}}, "append": {label: (kbroker, dd) MB/s}})."""
    work = tempfile.mkdtemp(prefix="storage-", dir=workdir)
    try:
        parts = partitions_case(build, work, topics, partitions, kafka)
        append = append_case(build, work, mib)
        report(parts, append, topics, partitions)
        sys.stdout.flush()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"partitions": parts, "append": append}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--topics", type=int, default=100)
    ap.add_argument("--partitions", type=int, default=100)
    ap.add_argument("--mib", type=int, default=256, help="MiB appended per append case")
    ap.add_argument("--no-kafka", action="store_true")
    ap.add_argument("--dir", default=None)
    args = ap.parse_args()
    build = os.environ.get("KP_BUILD", os.path.join(brokers.ROOT, "build"))
    main_with(build, args.dir or tempfile.gettempdir(), not args.no_kafka, args.topics,
              args.partitions, args.mib)


if __name__ == "__main__":
    main()
