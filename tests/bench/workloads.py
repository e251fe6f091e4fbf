"""The client runs the benchmark times, each bounded in time, against one broker.

Producers: ProducerPerformance, kcat -P, Kafka's ConsoleProducer and kproduce (the last three
read the same file of records on stdin); consumers: kcat -C and kconsume.

Every function takes the broker (brokers.KBroker or brokers.Kafka) and returns a dict:
throughput runs {"records", "bytes", "seconds", "rate", "mbps"} or {"error": why};
latency runs {"p50_ms", "p99_ms", "p999_ms", ...} or {"error": why}.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time

from brokers import java_tool

HERE = os.path.dirname(os.path.abspath(__file__))
TIMEOUT = 300          # no single client run may take longer than this (seconds)
PYTHON = "/usr/bin/python3"   # Debian's python3-confluent-kafka lives there

KCAT = shutil.which("kcat")


def write_records(path, count, size):
    """count lines of size bytes each (plus the newline), each starting with its number."""
    body = b"x" * (size - 11)
    with open(path, "wb", buffering=1 << 20) as f:
        for i in range(0, count, 10000):
            f.write(b"".join(b"%010d " % j + body + b"\n" for j in range(i, min(count, i + 10000))))


def _run(cmd, stdin_path=None, count_lines=False, timeout=TIMEOUT):
    """Run cmd; return (returncode, seconds, lines printed, stdout tail, stderr)."""
    cmd = [str(c) for c in cmd]
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines = 0
    tail = b""
    deadline = t0 + timeout
    try:
        while True:
            chunk = p.stdout.read(1 << 20)
            if not chunk:
                break
            if count_lines:
                lines += chunk.count(b"\n")
            tail = (tail + chunk)[-65536:]
            if time.monotonic() > deadline:
                p.kill()
                break
        try:
            p.wait(max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    finally:
        if stdin_path:
            stdin.close()
    dt = time.monotonic() - t0
    err = p.stderr.read().decode(errors="replace")
    return p.returncode, dt, lines, tail.decode(errors="replace"), err


def _throughput(records, size, seconds):
    return {"records": records, "bytes": records * size, "seconds": seconds,
            "rate": records / seconds, "mbps": records * size / seconds / 1e6}


def _fail(what, rc, dt, err):
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    return {"error": f"{what} exit {rc} after {dt:.1f} s: {(lines[-1] if lines else '')[:200]}"}


# ---------------------------------------------------------------- producers

def producer_performance(broker, topic, count, size, acks):
    """Kafka's ProducerPerformance (Java client, its defaults: linger.ms=5, batch.size=16384,
    no compression) with acks and enable.idempotence=false (kbroker has no InitProducerId).
    The rate is the tool's own (sending start to last acknowledgement; JVM start-up excluded)."""
    cmd = java_tool("org.apache.kafka.tools.ProducerPerformance",
                    "--bootstrap-server", broker.bootstrap, "--topic", topic,
                    "--num-records", count, "--record-size", size, "--throughput", -1,
                    "--command-property", f"acks={acks}", "enable.idempotence=false")
    rc, dt, _, out, err = _run(cmd)
    m = re.search(r"(\d+) records sent, ([\d.]+) records/sec", out)
    if rc != 0 or not m:
        return _fail("ProducerPerformance", rc, dt, err or out)
    sent, rate = int(m.group(1)), float(m.group(2))
    return _throughput(sent, size, sent / rate)


def kcat_produce(broker, topic, path, count, size, acks):
    """kcat -P (librdkafka, its defaults: linger.ms=5, batches up to 10000 records or 1 MB),
    one record per line of path; timed from start to exit (kcat waits for every delivery)."""
    if not KCAT:
        return {"error": "kcat is not installed"}
    rc, dt, _, _, err = _run([KCAT, "-P", "-b", broker.bootstrap, "-t", topic,
                              "-X", f"acks={acks}"], stdin_path=path)
    if rc != 0:
        return _fail("kcat -P", rc, dt, err)
    return _throughput(count, size, dt)


def console_producer(broker, topic, path, count, size, acks):
    """Kafka's console producer (org.apache.kafka.tools.ConsoleProducer, the Java client), one
    record per line of path on its stdin, with its defaults (batch.size=16384, linger.ms=1000
    from its --timeout, idempotent with acks=all) but acks and --request-timeout-ms 30000 (its
    1500 ms default times requests out while both CPUs are busy); timed from start to exit
    (it flushes and waits for every acknowledgement on EOF), JVM start-up included, as for
    the other command-line producers."""
    cmd = java_tool("org.apache.kafka.tools.ConsoleProducer", "--bootstrap-server",
                    broker.bootstrap, "--topic", topic, "--request-required-acks", acks,
                    "--request-timeout-ms", 30000)
    rc, dt, _, out, err = _run(cmd, stdin_path=path)
    if rc != 0:
        return _fail("ConsoleProducer", rc, dt, err or out)
    return _throughput(count, size, dt)


def kproduce(broker, topic, path, count, size, acks, bindir):
    """kproduce (kpipe's producer: linger.ms=5, batch.size=1000000; with acks=all idempotent,
    up to 5 requests in flight), one record per line of path; start to exit."""
    rc, dt, _, _, err = _run([os.path.join(bindir, "kproduce"), "-b", broker.bootstrap,
                              "-t", topic, "-a", acks], stdin_path=path)
    if rc != 0:
        return _fail("kproduce", rc, dt, err)
    return _throughput(count, size, dt)


# ---------------------------------------------------------------- consumers

def kcat_consume(broker, topic, count, size):
    """kcat -C -o beginning -e (assigns every partition, no group); start to exit."""
    if not KCAT:
        return {"error": "kcat is not installed"}
    rc, dt, lines, _, err = _run([KCAT, "-C", "-b", broker.bootstrap, "-t", topic,
                                  "-o", "beginning", "-e", "-q"], count_lines=True)
    if rc != 0:
        return _fail("kcat -C", rc, dt, err)
    if lines != count:
        return {"error": f"kcat -C read {lines} records, expected {count}"}
    return _throughput(count, size, dt)


def kconsume(broker, topic, count, size, bindir):
    """kconsume -o beginning -e (kpipe's consumer, no group); start to exit."""
    rc, dt, lines, _, err = _run([os.path.join(bindir, "kconsume"), "-b", broker.bootstrap,
                                  "-t", topic, "-o", "beginning", "-e"], count_lines=True)
    if rc != 0:
        return _fail("kconsume", rc, dt, err)
    if lines != count:
        return {"error": f"kconsume read {lines} records, expected {count}"}
    return _throughput(count, size, dt)


# ---------------------------------------------------------------- latency

def end_to_end_latency_tool(broker, topic, count, size, acks, workdir):
    """Kafka's EndToEndLatency: one record at a time, send().get() then poll until it
    arrives, then consumer.commitSync() (so it needs a group coordinator); it prints
    whole-millisecond percentiles. API timeouts are cut to 10 s so a broker without
    FindCoordinator fails fast; enable.idempotence=false as for ProducerPerformance."""
    cfg = os.path.join(workdir, "e2e-tool.properties")
    with open(cfg, "w") as f:
        f.write("default.api.timeout.ms=10000\nrequest.timeout.ms=10000\n"
                "enable.idempotence=false\n")
    cmd = java_tool("org.apache.kafka.tools.EndToEndLatency", "--bootstrap-server",
                    broker.bootstrap, "--topic", topic, "--num-records", count,
                    "--producer-acks", acks, "--record-size", size, "--command-config", cfg,
                    heap="256m")
    rc, dt, _, out, err = _run(cmd, timeout=min(TIMEOUT, 60 + count // 50))
    m = re.search(r"Percentiles: 50th = (\d+), 99th = (\d+), 99.9th = (\d+)", out)
    avg = re.search(r"Avg latency: ([\d.]+) ms", out)
    if rc != 0 or not m:
        why = re.search(r"(UnsupportedVersionException|[A-Za-z]+Exception): ([^\n]+)", err + out)
        if why:
            return {"error": f"{why.group(1)}: {why.group(2).strip()[:160]}"}
        return _fail("EndToEndLatency", rc, dt, err or out)
    return {"p50_ms": float(m.group(1)), "p99_ms": float(m.group(2)),
            "p999_ms": float(m.group(3)), "mean_ms": float(avg.group(1)) if avg else None,
            "count": count, "seconds": dt}


def fixed_rate_latency(broker, topic, count, size, acks, rate, warmup):
    """tests/bench/e2e.py: librdkafka producer and consumer in one process, a record every
    1/rate s, latency = receive time - send time (see e2e.py)."""
    limit = (count + warmup) / rate + 90
    rc, dt, _, out, err = _run([PYTHON, os.path.join(HERE, "e2e.py"), broker.bootstrap, topic,
                                "--rate", rate, "--count", count, "--size", size, "--acks", acks,
                                "--warmup", warmup], timeout=limit)
    try:
        res = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return _fail("e2e.py", rc, dt, err or out)
    if rc != 0 or res.get("count", 0) == 0:
        return {"error": f"e2e.py: no record arrived ({res.get('errors')})"}
    if res.get("lost"):
        res["note"] = f"{res['lost']} of {count} records did not arrive in time"
    return res


def python_ok():
    """Why e2e.py cannot run here, or None."""
    p = subprocess.run([PYTHON, "-c", "import confluent_kafka"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    if p.returncode != 0:
        return f"{PYTHON} cannot import confluent_kafka (apt install python3-confluent-kafka)"
    return None


if __name__ == "__main__":
    sys.exit("workloads.py is a module of tests/bench/run")
