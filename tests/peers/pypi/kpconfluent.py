"""confluent-kafka (librdkafka) as a reference client for kpipe's tests.

Run with the python of the virtualenv that tests/peers/clients.py makes from
requirements.txt beside this file (or with any python that has confluent_kafka):

    kpconfluent.py BOOTSTRAP version
    kpconfluent.py BOOTSTRAP create TOPIC PARTITIONS [CONFIG=VALUE...]
    kpconfluent.py BOOTSTRAP produce TOPIC [CODEC]     < records
    kpconfluent.py BOOTSTRAP consume TOPIC
    kpconfluent.py BOOTSTRAP follow TOPIC PARTITIONS

Records are JSON lines in the format of tests/peers/java/Rec.java (byte strings
as ISO-8859-1 characters, one a byte, or null).

version: {"version", "libversion"} of confluent_kafka and librdkafka.
create: AdminClient.create_topics (replication factor 1, topic configs); {"topic", "error"}.
produce: {"k", "v", "h", "p"?, "ts"?} lines produced (ts: a create time, ms) (acks=all, compression CODEC, default none);
  one {"p", "o", "t"} line a record from its delivery report, in input order.
consume: a Consumer (with the group.id confluent-kafka requires, but joining no group and
  committing nothing) assign()ing every partition from its low watermark; polls until
  each reaches its high watermark; prints {"starts": {...}, "ends": {...}} and one
  record line a record.
follow: like consume, from the beginning of partitions 0..PARTITIONS-1, but without end:
  one {"p", "o", "v"} line a record (flushed at once), until SIGTERM or SIGINT; warnings
  (offset resets, truncation detected, KIP-320) logged on stderr. A live reader for
  tests/test_fault_injection.py.
Exit status 0 on success, 1 on a failure (message on stderr), 2 on bad usage.
"""
import json
import signal
import sys
import time

import confluent_kafka as ck
from confluent_kafka.admin import AdminClient, NewTopic

TIMEOUT = 60.0


def die(msg):
    sys.stdout.flush()
    print(f"kpconfluent: {msg}", file=sys.stderr)
    sys.exit(1)


def latin1(b):
    return None if b is None else bytes(b).decode("latin-1")


def from_latin1(s):
    return None if s is None else s.encode("latin-1")


def create(bootstrap, topic, partitions, *configs):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    conf = dict(c.split("=", 1) for c in configs)
    fut = admin.create_topics([NewTopic(topic, int(partitions), 1, config=conf)],
                              request_timeout=30)[topic]
    err = None
    try:
        fut.result(timeout=TIMEOUT)
    except ck.KafkaException as e:
        err = e.args[0].name() if e.args and isinstance(e.args[0], ck.KafkaError) else str(e)
    print(json.dumps({"topic": topic, "error": err}))


def produce(bootstrap, topic, codec="none"):
    prod = ck.Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5,
                        "compression.type": codec, "message.timeout.ms": int(TIMEOUT * 1000)})
    results = {}
    errors = []

    def report(i):
        def cb(err, msg):
            if err is not None:
                errors.append(f"record {i}: {err}")
            else:
                results[i] = {"p": msg.partition(), "o": msg.offset(), "t": msg.timestamp()[1]}
        return cb

    n = 0
    for line in sys.stdin:
        if not line.strip():
            continue
        r = json.loads(line)
        kw = {"key": from_latin1(r.get("k")), "value": from_latin1(r.get("v")),
              "headers": [(k, from_latin1(v)) for k, v in r.get("h", [])],
              "on_delivery": report(n)}
        if r.get("p") is not None:
            kw["partition"] = r["p"]
        if r.get("ts") is not None:
            kw["timestamp"] = r["ts"]
        while True:
            try:
                prod.produce(topic, **kw)
                break
            except BufferError:
                prod.poll(0.1)
        prod.poll(0)
        n += 1
    left = prod.flush(TIMEOUT)
    if left or errors:
        die(f"{left} record(s) not delivered; {errors[:5]}")
    for i in range(n):
        print(json.dumps(results[i]))


def consume(bootstrap, topic):
    c = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": "kpipe-tests", "enable.auto.commit": False,
                     "enable.partition.eof": True})
    try:
        md = c.list_topics(topic, timeout=30)
        t = md.topics.get(topic)
        if t is None or t.error is not None or not t.partitions:
            die(f"no partitions for topic {topic}: {t.error if t else 'missing'}")
        parts = sorted(t.partitions)
        starts, ends = {}, {}
        for p in parts:
            starts[p], ends[p] = c.get_watermark_offsets(ck.TopicPartition(topic, p), timeout=30)
        print(json.dumps({"starts": {str(p): starts[p] for p in parts},
                          "ends": {str(p): ends[p] for p in parts}}))
        nxt = dict(starts)
        c.assign([ck.TopicPartition(topic, p, starts[p]) for p in parts])
        deadline = time.monotonic() + TIMEOUT
        while any(nxt[p] < ends[p] for p in parts):
            if time.monotonic() > deadline:
                die(f"end not reached: next offsets {nxt}, ends {ends}")
            for m in c.consume(1000, timeout=0.5):
                if m.error():
                    if m.error().code() == ck.KafkaError._PARTITION_EOF:
                        continue
                    die(f"consume: {m.error()}")
                print(json.dumps({"p": m.partition(), "o": m.offset(), "t": m.timestamp()[1],
                                  "k": latin1(m.key()), "v": latin1(m.value()),
                                  "h": [[k, latin1(v)] for k, v in (m.headers() or [])]}))
                nxt[m.partition()] = m.offset() + 1
    finally:
        c.close()


def follow(bootstrap, topic, partitions):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    c = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": "kpipe-tests", "enable.auto.commit": False,
                     "auto.offset.reset": "earliest", "log_level": 4})
    c.assign([ck.TopicPartition(topic, p, ck.OFFSET_BEGINNING) for p in range(int(partitions))])
    try:
        while not stop:
            m = c.poll(0.2)
            if m is not None and not m.error():
                print(json.dumps({"p": m.partition(), "o": m.offset(), "v": latin1(m.value())}),
                      flush=True)
    finally:
        c.close()


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    bootstrap, cmd, args = argv[1], argv[2], argv[3:]
    if cmd == "version" and not args:
        print(json.dumps({"version": ck.__version__, "libversion": ck.libversion()[0]}))
    elif cmd == "create" and len(args) >= 2:
        create(bootstrap, *args)
    elif cmd == "produce" and len(args) in (1, 2):
        produce(bootstrap, *args)
    elif cmd == "consume" and len(args) == 1:
        consume(bootstrap, *args)
    elif cmd == "follow" and len(args) == 2:
        follow(bootstrap, *args)
    else:
        print(f"kpconfluent: bad command {argv[2:]}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
