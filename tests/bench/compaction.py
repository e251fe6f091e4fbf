#!/usr/bin/python3
"""Log compaction throughput: how fast kbroker's log cleaner rewrites a dirty compacted log,
against `cp` of the same segment bytes in the same run (the page cache warm for both).

    KP_BUILD=build tests/bench/compaction.py [--records N] [--keys K] [--value-bytes B]
                                         [--segment-bytes S]

A topic is filled while it is not compacted (so that the cleaner does not start early), then
altered to cleanup.policy=compact; kbroker logs each cleaning at INFO ("cleaned T-0 up to
offset O: ... of B bytes into ..., in MS ms"), which gives the bytes read and the time from
submitting the job to swapping its segments in. Prints figures only; nothing passes or fails.
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import confluent_kafka as ck
import confluent_kafka.admin as cka

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOPIC = "bench-compacted"
CLEANED = re.compile(r"cleaned \S+ up to offset \d+: (\d+) segment\(s\) of (\d+) bytes into "
                     r"(\d+) of (\d+), (\d+) of (\d+) records kept, in (\d+) ms")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(build, workdir):
    port = free_port()
    err = open(os.path.join(workdir, "kbroker.stderr"), "wb")
    proc = subprocess.Popen([os.path.join(build, "bin", "kbroker"), "-l", "info",
                             "-o", f"listeners=PLAINTEXT://127.0.0.1:{port}",
                             "-o", f"log.dirs={workdir}/logs", "-o", "log.cleaner.backoff.ms=200"],
                            stdin=subprocess.DEVNULL, stdout=err, stderr=err)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc, f"127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("kbroker did not start")


def fill(bootstrap, records, keys, value_bytes):
    p = ck.Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "compression.type": "none",
                     "queue.buffering.max.messages": 1000000})
    pad = b"x" * value_bytes
    for i in range(records):
        while True:
            try:
                p.produce(TOPIC, pad, b"key-%d" % (i % keys))
                break
            except BufferError:
                p.poll(0.05)
    assert p.flush(120) == 0


def cleanings(workdir):
    with open(os.path.join(workdir, "kbroker.stderr"), errors="replace") as f:
        return [tuple(int(x) for x in m.groups()) for m in CLEANED.finditer(f.read())]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=400000)
    ap.add_argument("--keys", type=int, default=10000)
    ap.add_argument("--value-bytes", type=int, default=200)
    ap.add_argument("--segment-bytes", type=int, default=16 << 20)
    args = ap.parse_args()
    build = os.environ.get("KP_BUILD", os.path.join(ROOT, "build"))
    workdir = tempfile.mkdtemp(prefix="kpbench-compact-")
    proc, bootstrap = start(build, workdir)
    try:
        admin = cka.AdminClient({"bootstrap.servers": bootstrap})
        admin.create_topics([cka.NewTopic(TOPIC, 1, 1, config={
            "segment.bytes": str(args.segment_bytes), "min.cleanable.dirty.ratio": "0.01"})])[TOPIC].result(30)
        fill(bootstrap, args.records, args.keys, args.value_bytes)
        part = os.path.join(workdir, "logs", f"{TOPIC}-0")
        segs = sorted(f for f in os.listdir(part) if f.endswith(".log"))[:-1]  # closed ones
        if not segs:
            sys.exit("no closed segment: more --records or smaller --segment-bytes")
        copy = os.path.join(workdir, "copy")
        os.mkdir(copy)
        t = time.monotonic()
        subprocess.run(["cp", *[os.path.join(part, s) for s in segs], copy], check=True)
        cp_s = time.monotonic() - t
        cp_bytes = sum(os.path.getsize(os.path.join(part, s)) for s in segs)
        shutil.rmtree(copy)
        res = cka.ConfigResource("topic", TOPIC, set_config={
            "cleanup.policy": "compact", "segment.bytes": str(args.segment_bytes),
            "min.cleanable.dirty.ratio": "0.01"})
        admin.alter_configs([res])[res].result(30)
        deadline = time.monotonic() + 300
        while not cleanings(workdir) and time.monotonic() < deadline:
            time.sleep(0.2)
        done = cleanings(workdir)
        if not done:
            sys.exit("no cleaning was logged within 300 s")
        segs_in, read, segs_out, written, kept, seen, ms = done[0]
        mbs = read / 1e6 / max(ms, 1) * 1000
        cp_mbs = cp_bytes / 1e6 / max(cp_s, 1e-6)
        print(f"records {args.records}, keys {args.keys}, value {args.value_bytes} B")
        print(f"cleaner: {segs_in} segment(s), {read / 1e6:.1f} MB -> {written / 1e6:.1f} MB, "
              f"{kept} of {seen} records kept, {ms} ms: {mbs:.0f} MB/s")
        print(f"cp of the same {cp_bytes / 1e6:.1f} MB: {cp_s * 1000:.0f} ms: {cp_mbs:.0f} MB/s")
        print(f"ratio cleaner/cp: {mbs / cp_mbs:.2f}")
    finally:
        proc.terminate()
        proc.wait(30)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
