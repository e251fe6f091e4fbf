"""kproduce's options beyond lines and keys: headers (-H), another record delimiter (-D, -0),
explicit timestamps (--timestamp), JSON records (-J), linger.ms / batch.size / acks /
compression as options and -X properties, the idempotent producer with several requests in
flight (batches numbered in order, nothing written twice through a broker restart), and the
progress line on a terminal. Each test that talks to a broker runs against kbroker and
Apache Kafka (the target fixture); kcat (librdkafka) reads what kproduce wrote."""
import os
import pty
import re
import subprocess
import threading
import time

import pytest

from conftest import BIN, SLOW, create_topic
from kpjson import batches, parse_output, records_input, sample_records


def kcat(kp, *args, input=b""):
    p = kp.run("kcat", *args, input=input, timeout=60, check_sanitizer=False)
    assert p.returncode == 0, f"kcat {' '.join(args)} exited {p.returncode}: {p.err[-3000:]}"
    return p.stdout


def kcat_read(kp, b, topic, fmt):
    return kcat(kp, "-C", "-b", b.bootstrap, "-t", topic, "-o", "beginning", "-e", "-q",
                "-f", fmt)


def test_headers_are_read_by_kcat(target, kp, topic):
    """-H NAME=VALUE adds headers to every record in order, repeated names kept, NAME alone a
    null value, NAME= an empty one; kcat's %h sees them, and kconsume's %h prints the same."""
    b = target()
    kp.produce(b.bootstrap, topic, "-H", "source=test", "-H", "dup=1", "-H", "dup=2",
               "-H", "nothing", "-H", "empty=", "-H", "eq=a=b", input=b"one\ntwo\n")
    want = b"one source=test,dup=1,dup=2,nothing=NULL,empty=,eq=a=b\n" \
           b"two source=test,dup=1,dup=2,nothing=NULL,empty=,eq=a=b\n"
    assert kcat_read(kp, b, topic, "%s %h\\n") == want
    assert kp.consume_all(b.bootstrap, topic, "-f", "%s %h\\n") == want


def test_timestamps_are_read_by_kcat(target, kp, topic):
    """--timestamp gives every record that timestamp, in milliseconds or ISO 8601 (UTC
    unless a zone is given); without it records get the current time."""
    b = target()
    now = int(time.time() * 1000)
    kp.produce(b.bootstrap, topic, "--timestamp", str(now - 5000), input=b"ms\n")
    kp.produce(b.bootstrap, topic, "--timestamp", "2024-05-01T12:30:00.250Z", input=b"iso\n")
    kp.produce(b.bootstrap, topic, "--timestamp", "2024-05-01T14:30:00+02:00", input=b"zone\n")
    kp.produce(b.bootstrap, topic, input=b"now\n")
    rows = kcat_read(kp, b, topic, "%s %T\\n").decode().split()
    got = dict(zip(rows[::2], map(int, rows[1::2])))
    assert got["ms"] == now - 5000
    assert got["iso"] == 1714566600250
    assert got["zone"] == 1714566600000
    assert abs(got["now"] - now) < 120_000 * SLOW


@pytest.mark.parametrize("args,data,want", [
    (["-D", "|"], b"a|b||c", [b"a", b"b", b"", b"c"]),
    (["-D", "|"], b"a|bb|c", [b"a", b"bb", b"c"]),
    (["-D", "\\t\\t"], b"x\t\ty\tz\t\t", [b"x", b"y\tz"]),
    (["-D", "\\x1e"], b"r1\x1er2\x1e", [b"r1", b"r2"]),
    (["-0"], b"/etc/a b\0/etc/c\nd\0", [b"/etc/a b", b"/etc/c\nd"]),
])
def test_record_delimiters(target, kp, topic, args, data, want):
    """-D DELIM (kcat's escapes, several bytes allowed) and -0 cut records where they say, a
    newline then being data, an empty record kept; what kcat -P -D cuts the same way reads
    back the same (kcat skips empty records, so only where there are none)."""
    b = target()
    kp.produce(b.bootstrap, topic, *args, input=data)
    got = kp.consume_all(b.bootstrap, topic, "-0")
    assert got == b"".join(w + b"\0" for w in want)
    if args[0] == "-D" and b"" not in want:
        kcat(kp, "-P", "-b", b.bootstrap, "-t", topic + "-kcat", "-D", args[1], input=data)
        assert kp.consume_all(b.bootstrap, topic + "-kcat", "-0") == got


def test_json_records(target, kp, topic):
    """-J reads a record a line with its key, value (base64 for bytes that are not UTF-8),
    headers (objects, pairs or a map), timestamp and partition; -t and -p override the
    line's; a JSON value that is not a string is written as its text; blank lines are
    skipped. kcat reads what was written."""
    b = target()
    create_topic(b.bootstrap, topic, 2)
    lines = [
        '{"key":"k1","value":"v1","headers":[{"key":"h","value":"x"}],"timestamp":1714566600000,'
        '"partition":0}',
        '',
        '{"key":null,"value":"AP8A","value_encoding":"base64","headers":[["p","q"]],"partition":1}',
        '{"value":{"n":[1,2]},"headers":{"m":"n"},"timestamp":"2024-05-01T12:30:00Z","partition":1}',
        '{"topic":"ignored-by-t","value":"last","offset":99,"partition":0,"unknown":true}',
    ]
    kp.produce(b.bootstrap, topic, "-J", input="\n".join(lines).encode() + b"\n")
    out = kcat_read(kp, b, topic, "%p %k|%S|%s|%h|%T\\n")
    rows = sorted(out.split(b"\n")[:-1], key=lambda r: r[:1])  # by partition, in order
    assert rows[0] == b"0 k1|2|v1|h=x|1714566600000"
    assert rows[1].startswith(b"0 |4|last||")
    assert rows[2].startswith(b"1 |3|\x00\xff\x00|p=q|")
    assert rows[3] == b'1 |11|{"n":[1,2]}|m=n|1714566600000'
    p = kp.run("kproduce", "-b", b.bootstrap, "-J", "-t", topic + "-y", "-p", "0",
               input=b'{"topic":"nope","partition":5,"value":"moved"}\n')
    assert p.returncode == 0, p.err
    assert kp.consume_all(b.bootstrap, topic + "-y") == b"moved\n"


def test_json_round_trip_of_edge_cases(target, kp, topic):
    """Records with null keys and values, binary values, NUL bytes, non-ASCII text and null,
    empty and binary header values go in with kproduce -J and come out of kconsume -J the
    same, at the partitions and with the timestamps given."""
    b = target()
    create_topic(b.bootstrap, topic, 3)
    recs = sample_records(300, 3)
    kp.produce(b.bootstrap, topic, "-J", input=records_input(recs, topic))
    got = parse_output(kp.consume_all(b.bootstrap, topic, "-J"))
    assert len(got) == len(recs)
    for p in range(3):
        want = [(r["timestamp"], r["key"], r["value"], r["headers"]) for r in recs
                if r["partition"] == p]
        have = [(r["timestamp"], r["key"], r["value"], r["headers"]) for r in got
                if r["partition"] == p]
        assert have == want, f"partition {p}"
        assert [r["offset"] for r in got if r["partition"] == p] == list(range(len(want)))


def test_bad_json_line_stops_after_delivering_the_lines_before(target, kp, topic):
    """A -J line that is not a JSON record exits 1 naming the line; the records before it are
    delivered. A line naming no topic without -t is an error too."""
    b = target()
    p = kp.produce(b.bootstrap, topic, "-J", ok=False,
                   input=b'{"value":"a"}\n{"value":"b"}\n{"value":\n{"value":"c"}\n')
    assert p.returncode == 1 and p.err.startswith("kproduce: line 3: bad JSON"), p.err
    assert kp.consume_all(b.bootstrap, topic) == b"a\nb\n"
    p = kp.run("kproduce", "-b", b.bootstrap, "-J", input=b'{"value":"x"}\n')
    assert p.returncode == 1 and "line 1: the record names no topic" in p.err, p.err
    p = kp.produce(b.bootstrap, topic, "-J", ok=False,
                   input=b'{"value":"A$8=","value_encoding":"base64"}\n')
    assert p.returncode == 1 and "base64" in p.err, p.err


@pytest.mark.parametrize("args", [
    ["-J", "-k", ":"], ["-J", "-D", "|"], ["-D", ""], ["--timestamp", "yesterday"],
    ["--linger-ms", "soon"], ["--batch-size", "-1"], ["-H", "=v"],
    ["-a", "1", "-X", "enable.idempotence=true"],
    ["-X", "max.in.flight.requests.per.connection=6", "-X", "enable.idempotence=true"],
    ["-X", "linger.ms=x"],
])
def test_bad_usage_exits_2(kp, args):
    """Options that exclude each other and malformed values print usage and exit 2 (no
    broker needed: they are checked first)."""
    p = kp.run("kproduce", "-b", "127.0.0.1:1", "-t", "t", *args, input=b"x\n")
    assert p.returncode == 2, p.err
    assert "usage: kproduce" in p.err


def test_options_and_properties_are_the_same(target, kp, topic):
    """--linger-ms, --batch-size, -a and -z set linger.ms, batch.size, acks and
    compression.type: the batches in the log are alike either way (kbroker and Kafka store
    them as sent: small batches, gzip, not idempotent with acks=1)."""
    b = target()
    create_topic(b.bootstrap, topic + "-opt", 1)
    create_topic(b.bootstrap, topic + "-prop", 1)
    data = b"".join(b"record %05d\n" % i for i in range(3000))
    kp.produce(b.bootstrap, topic + "-opt", "--linger-ms", "0", "--batch-size", "2000",
               "-a", "1", "-z", "gzip", input=data)
    kp.produce(b.bootstrap, topic + "-prop", "-X", "linger.ms=0", "-X", "batch.size=2000",
               "-X", "acks=1", "-X", "compression.type=gzip", input=data)
    for t in (topic + "-opt", topic + "-prop"):
        assert kp.consume_all(b.bootstrap, t) == data
        got = wait_batches(b, t, 3000)
        assert len(got) >= 3000 * 13 // 2000, f"{len(got)} batches: batch.size not applied"
        assert all(attrs & 7 == 1 for *_, attrs in got), "not gzip"
        assert all(pid == -1 for _, pid, *_ in got), "acks=1 should not be idempotent"


def wait_batches(b, topic, records, partition=0):
    """The batches of topic/partition in b's log once they hold `records` records."""
    got = []
    deadline = time.monotonic() + 20 * SLOW
    while time.monotonic() < deadline:
        got = batches(b.logdir, topic, partition)
        if sum(c for *_, c, _ in got) >= records:
            return got
        time.sleep(0.2)
    return got


def test_idempotent_batches_are_numbered_in_order(target, kp, topic):
    """With acks=all (the default) kproduce gets a producer id and numbers its batches: in
    the log every batch of a partition has that id, epoch 0 and the sequence after the
    previous one's; -X enable.idempotence=false and -a 1 write plain batches."""
    b = target()
    create_topic(b.bootstrap, topic, 2)
    data = b"".join(b"%d\tvalue %d\n" % (i % 97, i) for i in range(20000))
    kp.produce(b.bootstrap, topic, "-k", "\t", "--batch-size", "4000", input=data)
    pids = set()
    for p in range(2):
        got = batches(b.logdir, topic, p)
        assert len(got) > 10
        pids |= {(pid, epoch) for _, pid, epoch, *_ in got}
        seq = 0
        for base, pid, epoch, s, count, _ in got:
            assert s == seq, f"partition {p} offset {base}: sequence {s}, expected {seq}"
            seq += count
    assert len(pids) == 1 and next(iter(pids))[0] >= 0 and next(iter(pids))[1] == 0, pids
    for args in (["-X", "enable.idempotence=false"], ["-a", "1"]):
        t = f"{topic}-{args[-1].split('=')[0].replace('.', '')}"
        kp.produce(b.bootstrap, t, *args, input=b"x\ny\n")
        assert [pid for _, pid, *_ in wait_batches(b, t, 2)] == [-1], args


def test_several_requests_in_flight_keep_order_through_restarts(broker, kp, topic):
    """Many small batches with up to 5 requests in flight to one kbroker that is killed (-9)
    and restarted twice while kproduce runs: every record arrives exactly once and in input
    order (idempotence: the retried batches the broker already had are recognised)."""
    b = broker()
    n = 200_000
    data = b"".join(b"%06d\n" % i for i in range(n))
    proc = subprocess.Popen([str(BIN / "kproduce"), "-b", b.bootstrap, "-t", topic,
                             "--batch-size", "1500", "-X", "delivery.timeout.ms=120000",
                             "-X", "retry.backoff.ms=50"],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)

    def feed():  # about 3 s of input (more under ASan), so the restarts happen while it flows
        step = len(data) // 20
        for i in range(0, len(data), step):
            proc.stdin.write(data[i:i + step])
            proc.stdin.flush()
            time.sleep(0.15 * SLOW)
        proc.stdin.close()

    feeder = threading.Thread(target=feed)
    feeder.start()
    kills = 0
    for _ in range(2):
        time.sleep(1.0 * SLOW)
        if not feeder.is_alive():
            break
        b.kill9()
        kills += 1
        time.sleep(0.3)
        b.start()
    feeder.join(120 * SLOW)
    assert kills == 2, "the input ended before the restarts"
    err = proc.stderr.read()
    assert proc.wait(180 * SLOW) == 0, err.decode(errors="replace")[-3000:]
    assert kp.consume_all(b.bootstrap, topic) == data
    got = batches(b.logdir, topic, 0)
    assert len({pid for _, pid, *_ in got}) == 1, "one producer id"


def test_progress_line_on_a_terminal(target, kp, topic):
    """With standard error on a terminal (and standard input not), kproduce keeps a progress
    line there: records, bytes and rates, ending with the totals; not on a pipe."""
    b = target()
    data = b"".join(b"line %d\n" % i for i in range(50000))
    master, slave = pty.openpty()
    p = subprocess.Popen([str(BIN / "kproduce"), "-b", b.bootstrap, "-t", topic],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    p.stdin.write(data)
    p.stdin.close()
    out = bytearray()
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    assert p.wait(120 * SLOW) == 0, out
    os.close(master)
    text = out.decode(errors="replace")
    final = text.replace("\r\n", "\n").split("\r")[-1]
    assert re.search(r"kproduce: 50000 records, [\d.]+ kB, \d+ records/s, [\d.]+ [kMG]?B/s", final), text
    assert kp.produce(b.bootstrap, topic, input=b"quiet\n").stderr == b""
