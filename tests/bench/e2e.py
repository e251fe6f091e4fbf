#!/usr/bin/python3
"""Fixed-rate end-to-end latency with librdkafka (confluent-kafka) on both sides.

    e2e.py BOOTSTRAP TOPIC --rate R --count N [--size B] [--acks 1|all] [--warmup W]
           [--fetch-wait MS]

One process, two librdkafka clients: a consumer assigned to TOPIC partition 0 at
its end (no consumer group is joined and nothing is committed, so kbroker can
serve it), and a producer sending W + N records of B bytes to partition 0 on a
fixed schedule of R records/s (the i-th at t0 + i/R whatever happened before:
a slow broker shows up as latency, not as a lower rate). Each record carries its
send time (CLOCK_MONOTONIC, ns); the consumer subtracts it from the time it
receives the record. The first W records are a warm-up and not counted.

Clients: producer linger.ms=0 (send at once, as Kafka's EndToEndLatency does),
acks as given; consumer fetch.wait.max.ms=100 or --fetch-wait (a long poll: the broker holds
the fetch until data arrives or 100 ms pass), other settings librdkafka's
defaults. Prints one JSON line: {"count", "lost", "p50_ms", "p99_ms",
"p999_ms", "max_ms", "mean_ms", "rate", "ack_p50_ms", "ack_p99_ms"} (ack: send to
delivery report, the producer's side alone). Stops by itself: the run is bounded by
(W + N) / R + 30 s.
"""
import argparse
import json
import struct
import sys
import threading
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

HDR = struct.Struct(">QQ")  # sequence number, send time in ns


def percentile(sorted_vals, q):
    """The q-quantile (0..1) of sorted values, nearest rank."""
    if not sorted_vals:
        return None
    i = min(len(sorted_vals) - 1, max(0, int(round(q * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[i]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bootstrap")
    ap.add_argument("topic")
    ap.add_argument("--rate", type=float, default=1000)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--acks", default="1")
    ap.add_argument("--warmup", type=int, default=500)
    ap.add_argument("--fetch-wait", type=int, default=100, help="consumer fetch.wait.max.ms")
    a = ap.parse_args()

    total = a.warmup + a.count
    pad = b"x" * max(0, a.size - HDR.size)
    cons = Consumer({"bootstrap.servers": a.bootstrap, "group.id": "kpipe-bench-e2e",
                     "enable.auto.commit": False, "enable.auto.offset.store": False,
                     "fetch.wait.max.ms": a.fetch_wait, "auto.offset.reset": "latest"})
    prod = Producer({"bootstrap.servers": a.bootstrap, "acks": a.acks, "linger.ms": 0,
                     "enable.idempotence": False})
    # Start at the partition's current end, looked up with ListOffsets, and give the
    # fetcher time to connect and park its first long poll before timing anything.
    prod.list_topics(a.topic, timeout=20)   # a producer's metadata request may auto-create it
    for _ in range(100):
        try:
            _, high = cons.get_watermark_offsets(TopicPartition(a.topic, 0), timeout=5)
            break
        except KafkaException:
            time.sleep(0.2)   # the topic's leader is not known yet
    else:
        sys.exit(f"e2e.py: no offsets for {a.topic} partition 0")
    cons.assign([TopicPartition(a.topic, 0, high)])
    cons.poll(0.5)

    errors = []
    stop = threading.Event()

    acked = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(str(err))
        else:
            seq, sent = HDR.unpack_from(msg.value())
            if seq >= a.warmup:
                acked.append((time.monotonic_ns() - sent) / 1e6)

    def producer():
        t0 = time.monotonic_ns()
        period = 1e9 / a.rate
        for i in range(total):
            due = t0 + int(i * period)
            while True:
                now = time.monotonic_ns()
                if now >= due or stop.is_set():
                    break
                prod.poll(min(0.01, (due - now) / 1e9))
            if stop.is_set():
                break
            prod.produce(a.topic, HDR.pack(i, time.monotonic_ns()) + pad, partition=0,
                         on_delivery=on_delivery)
            prod.poll(0)
        prod.flush(20)

    th = threading.Thread(target=producer, daemon=True)
    th.start()
    lat = []
    seen = 0
    hard_stop = time.monotonic() + total / a.rate + 30
    while seen < total and time.monotonic() < hard_stop:
        m = cons.poll(0.05)
        now = time.monotonic_ns()
        if m is None:
            continue
        if m.error():
            if m.error().code() != KafkaError._PARTITION_EOF:
                errors.append(str(m.error()))
            continue
        seq, sent = HDR.unpack_from(m.value())
        seen += 1
        if seq >= a.warmup:
            lat.append((now - sent) / 1e6)
    stop.set()
    th.join(25)
    cons.close()
    lat.sort()
    acked.sort()
    out = {"count": len(lat), "lost": a.count - len(lat), "rate": a.rate,
           "p50_ms": percentile(lat, 0.50), "p99_ms": percentile(lat, 0.99),
           "p999_ms": percentile(lat, 0.999), "max_ms": lat[-1] if lat else None,
           "mean_ms": sum(lat) / len(lat) if lat else None,
           "ack_p50_ms": percentile(acked, 0.50), "ack_p99_ms": percentile(acked, 0.99),
           "errors": errors[:3]}
    print(json.dumps(out), flush=True)
    return 0 if lat else 1


if __name__ == "__main__":
    sys.exit(main())
