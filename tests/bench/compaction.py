#!/usr/bin/python3
"""Log compaction throughput: how fast kbroker's log cleaner rewrites a dirty compacted log,
against `cp` of the same segment bytes on the same filesystem in the same run.

A fresh single-node kbroker (-l info, log.cleaner.backoff.ms=200) gets one topic of one
partition with --segment-bytes segments and min.cleanable.dirty.ratio=0.01, filled while it
is not compacted (cleanup.policy=delete, so that the cleaner does not start early) with
--records records of --value-bytes bytes over --keys keys (librdkafka producer, no
compression). Then `cp` copies the closed segments' .log files to a directory beside the
log directory, 3 times (the median time; the page cache warm from the fill), and the topic
is altered to cleanup.policy=compact. kbroker logs each cleaning at INFO ("cleaned T-0 up to offset O:
N segment(s) of B bytes into ..., in MS ms"): the first one gives the bytes read and the
time from submitting the job to swapping its segments in. Cleaner MB/s = B / MS, cp MB/s =
the same closed segments' bytes / cp's time; the ratio cleaner/cp (above 1 favours kbroker).
The cleaner reads the closed segments twice (its offset map of the dirty section, then the
rewrite), writes the kept records and fsyncs them and the directory; cp reads and writes each
byte once and syncs nothing: the ratio says how close the cleaner comes to merely copying
the bytes, not that the two do the same work. Prints figures only; nothing passes or fails.

Usage: KP_BUILD=build tests/bench/compaction.py [--records N] [--keys K] [--value-bytes B]
                                               [--segment-bytes S] [--dir DIR]
Also run by tests/bench/run (make bench) after the storage case unless --no-compaction.
"""
import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOPIC = "bench-compacted"
CLEANED = re.compile(r"cleaned \S+ up to offset \d+: (\d+) segment\(s\) of (\d+) bytes into "
                     r"(\d+) of (\d+), (\d+) of (\d+) records kept, in (\d+) ms")
CP_RUNS = 3  # cp's figure is the median of this many copies (each into a fresh directory)
DEFAULTS = {"records": 400000, "keys": 10000, "value_bytes": 200, "segment_bytes": 16 << 20}


class CompactionError(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start(build, workdir):
    exe = os.path.join(build, "bin", "kbroker")
    if not os.access(exe, os.X_OK):
        raise CompactionError(f"no {exe}; run make first")
    port = free_port()
    with open(os.path.join(workdir, "kbroker.stderr"), "wb") as err:
        proc = subprocess.Popen([exe, "-l", "info",
                                 "-o", f"listeners=PLAINTEXT://127.0.0.1:{port}",
                                 "-o", f"log.dirs={workdir}/logs",
                                 "-o", "log.cleaner.backoff.ms=200"],
                                stdin=subprocess.DEVNULL, stdout=err, stderr=err)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc, f"127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    stop(proc)
    raise CompactionError("kbroker did not start listening within 20 s")


def fill(bootstrap, records, keys, value_bytes):
    import confluent_kafka as ck
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
    if p.flush(120) != 0:
        raise CompactionError("the producer did not deliver every record within 120 s")


def cleanings(workdir):
    with open(os.path.join(workdir, "kbroker.stderr"), errors="replace") as f:
        return [tuple(int(x) for x in m.groups()) for m in CLEANED.finditer(f.read())]


def measure(build, workdir, records, keys, value_bytes, segment_bytes, timeout=300):
    """One cleaning in a fresh kbroker under workdir; a dict of its figures and cp's."""
    import confluent_kafka.admin as cka
    proc, bootstrap = start(build, workdir)
    admin = None
    try:
        admin = cka.AdminClient({"bootstrap.servers": bootstrap})
        admin.create_topics([cka.NewTopic(TOPIC, 1, 1, config={
            "segment.bytes": str(segment_bytes),
            "min.cleanable.dirty.ratio": "0.01"})])[TOPIC].result(30)
        t = time.monotonic()
        fill(bootstrap, records, keys, value_bytes)
        fill_s = time.monotonic() - t
        part = os.path.join(workdir, "logs", f"{TOPIC}-0")
        segs = sorted(f for f in os.listdir(part) if f.endswith(".log"))[:-1]  # closed ones
        if not segs:
            raise CompactionError("no closed segment: more --records or smaller --segment-bytes")
        copy = os.path.join(workdir, "copy")
        cp_runs = []
        for _ in range(CP_RUNS):
            os.mkdir(copy)
            t = time.monotonic()
            subprocess.run(["cp", *[os.path.join(part, s) for s in segs], copy], check=True)
            cp_runs.append(time.monotonic() - t)
            shutil.rmtree(copy)
        cp_s = statistics.median(cp_runs)
        cp_bytes = sum(os.path.getsize(os.path.join(part, s)) for s in segs)
        res = cka.ConfigResource("topic", TOPIC, set_config={
            "cleanup.policy": "compact", "segment.bytes": str(segment_bytes),
            "min.cleanable.dirty.ratio": "0.01"})
        admin.alter_configs([res])[res].result(30)
        deadline = time.monotonic() + timeout
        while not cleanings(workdir) and time.monotonic() < deadline:
            if proc.poll() is not None:
                raise CompactionError(f"kbroker exited with {proc.returncode}")
            time.sleep(0.05)
        done = cleanings(workdir)
        if not done:
            raise CompactionError(f"no cleaning was logged within {timeout} s")
    finally:
        admin = None  # destroyed before its broker goes, so that librdkafka logs no disconnect
        stop(proc)
    segs_in, read, segs_out, written, kept, seen, ms = done[0]
    return {"records": records, "keys": keys, "value_bytes": value_bytes,
            "segment_bytes": segment_bytes, "fill_s": fill_s,
            "segments_in": segs_in, "bytes_read": read, "segments_out": segs_out,
            "bytes_written": written, "records_kept": kept, "records_read": seen,
            "clean_ms": ms, "clean_MBps": read / 1e6 / max(ms, 1) * 1000,
            "cp_segments": len(segs), "cp_bytes": cp_bytes, "cp_s": cp_s, "cp_runs_s": cp_runs,
            "cp_MBps": cp_bytes / 1e6 / max(cp_s, 1e-6)}


def report(r):
    if "error" in r:
        print(f"\ncompaction: n/a ({r['error']})")
        return
    print(f"\ncompaction: kbroker's log cleaner, one partition of {r['records']:,} records x "
          f"{r['value_bytes']} B over {r['keys']:,} keys, {r['segment_bytes'] >> 20} MiB "
          f"segments; its first cleaning (INFO log) beside cp of the same closed segments "
          f"on the same filesystem")
    print(f"  {'cleaner':10}{r['segments_in']:>4} segment(s) {r['bytes_read'] / 1e6:>8.1f} MB"
          f" -> {r['bytes_written'] / 1e6:.1f} MB, {r['records_kept']:,} of "
          f"{r['records_read']:,} records kept, {r['clean_ms']:,} ms: "
          f"{r['clean_MBps']:,.1f} MB/s")
    print(f"  {'cp':10}{r['cp_segments']:>4} segment(s) {r['cp_bytes'] / 1e6:>8.1f} MB, "
          f"{r['cp_s'] * 1000:,.0f} ms (median of {CP_RUNS}): {r['cp_MBps']:,.1f} MB/s")
    print(f"  {'ratio':10}cleaner/cp {r['clean_MBps'] / r['cp_MBps']:.2f}")


def main_with(build, workdir, records=DEFAULTS["records"], keys=DEFAULTS["keys"],
              value_bytes=DEFAULTS["value_bytes"], segment_bytes=DEFAULTS["segment_bytes"]):
    """The compaction case in a fresh directory under `workdir`, its report printed; returns
    its figures (or {"error": why} when it could not run: the caller's table still prints)."""
    work = tempfile.mkdtemp(prefix="compaction-", dir=workdir)
    try:
        r = measure(build, work, records, keys, value_bytes, segment_bytes)
    except (CompactionError, subprocess.CalledProcessError, OSError) as e:
        r = {"error": str(e).splitlines()[0][:300] if str(e) else type(e).__name__}
    except Exception as e:  # noqa: BLE001 - a client error (KafkaException) is a figure lost
        r = {"error": f"{type(e).__name__}: {str(e).splitlines()[0][:300] if str(e) else ''}"}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(r)
    sys.stdout.flush()
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=DEFAULTS["records"])
    ap.add_argument("--keys", type=int, default=DEFAULTS["keys"])
    ap.add_argument("--value-bytes", type=int, default=DEFAULTS["value_bytes"])
    ap.add_argument("--segment-bytes", type=int, default=DEFAULTS["segment_bytes"])
    ap.add_argument("--dir", default=None, help="where the temporary log directory goes")
    args = ap.parse_args()
    build = os.environ.get("KP_BUILD", os.path.join(ROOT, "build"))
    r = main_with(build, args.dir or tempfile.gettempdir(), args.records, args.keys,
                  args.value_bytes, args.segment_bytes)
    if "error" in r:
        sys.exit(1)


if __name__ == "__main__":
    main()
