"""kconsume's output and start options: -f FORMAT compared byte for byte with kcat -f for the
same format string, -k/-D/-0 compared with kcat -K/-D, -J JSON records; several topics and
^REGEX patterns; -o @TIME (ListOffsets by time) and -o stored (a group's committed offsets,
with or without joining); --isolation-level read_committed. Each test that talks to a broker
runs against kbroker and Apache Kafka (the target fixture) unless it needs transactions,
which kbroker does not have yet."""
import json
import time

import pytest

from conftest import SLOW, create_topic
from kpjson import parse_output, records_input, sample_records

FORMATS = [
    "%t %p %o %k %s\\n",
    "key=%k klen=%K vlen=%S ts=%T headers=%h\\n",
    "%%literal\\ttab \\x41\\x42 back\\\\slash %s\\r\\n",
    "%R%s",
    "[%h]",
]


def kcat(kp, *args, input=b""):
    p = kp.run("kcat", *args, input=input, timeout=60, check_sanitizer=False)
    assert p.returncode == 0, f"kcat {' '.join(args)} exited {p.returncode}: {p.err[-3000:]}"
    return p.stdout


def fill(kp, b, topic, n=200, partitions=1, nul_in_headers=True):
    """Write sample records (null keys and values, binary values, headers) with kproduce -J."""
    create_topic(b.bootstrap, topic, partitions)
    recs = sample_records(n, partitions, nul_in_headers=nul_in_headers)
    kp.produce(b.bootstrap, topic, "-J", input=records_input(recs, topic))
    return recs


def test_format_strings_print_what_kcat_prints(target, kp, topic):
    """kconsume -f FORMAT prints exactly what kcat -f FORMAT prints for the same records:
    topic, partition, offset, key, value, their lengths (-1 for null), the binary length
    %R, the timestamp, the headers (NULL for a null value) and the escapes. (kcat's %h
    stops a header value at a NUL byte, kconsume's does not: the records have none there.)"""
    b = target()
    fill(kp, b, topic, nul_in_headers=False)
    for fmt in FORMATS:
        want = kcat(kp, "-C", "-b", b.bootstrap, "-t", topic, "-o", "beginning", "-e", "-q",
                    "-f", fmt)
        got = kp.consume_all(b.bootstrap, topic, "-f", fmt)
        assert got == want, f"format {fmt!r}"


@pytest.mark.parametrize("ours,kcats", [
    (["-k", ":"], ["-K", ":"]),
    (["-D", "\\t"], ["-D", "\\t"]),
    (["-k", "=", "-D", "||"], ["-K", "=", "-D", "||"]),
])
def test_delimiters_print_what_kcat_prints(target, kp, topic, ours, kcats):
    """-k DELIM and -D DELIM write what kcat -K and -D write (kcat's escapes in -D)."""
    b = target()
    kp.produce(b.bootstrap, topic, "-k", "/",
               input=b"".join(b"k%d/v%d\n" % (i, i) if i % 3 else b"plain %d\n" % i
                              for i in range(50)))
    want = kcat(kp, "-C", "-b", b.bootstrap, "-t", topic, "-o", "beginning", "-e", "-q", *kcats)
    assert kp.consume_all(b.bootstrap, topic, *ours) == want


def test_nul_delimited_output(target, kp, topic):
    """-0 ends each record with a NUL byte, so values with newlines survive."""
    b = target()
    kp.produce(b.bootstrap, topic, "-0", input=b"one\ntwo\0three\0")
    assert kp.consume_all(b.bootstrap, topic, "-0") == b"one\ntwo\0three\0"


def test_json_output(target, kp, topic):
    """-J writes one JSON object a line: topic, partition, offset, timestamp, key, value,
    headers; null stays null, text is a string, other bytes are base64 with an encoding
    field beside them, in header objects too."""
    b = target()
    create_topic(b.bootstrap, topic, 1)
    now = int(time.time() * 1000) - 1000
    lines = [
        {"key": "k", "value": "v", "headers": [{"key": "h", "value": "x"}], "timestamp": now},
        {"key": None, "value": None, "headers": [{"key": "n", "value": None}],
         "timestamp": now + 1},
        {"key": "AP8=", "key_encoding": "base64", "value": "\u2603",
         "headers": [{"key": "b", "value": "/w==", "value_encoding": "base64"}],
         "timestamp": now + 2},
    ]
    kp.produce(b.bootstrap, topic, "-J", input="".join(json.dumps(x) + "\n" for x in lines).encode())
    out = kp.consume_all(b.bootstrap, topic, "-J").decode().splitlines()
    assert [json.loads(x) for x in out] == [
        {"topic": topic, "partition": 0, "offset": 0, "timestamp": now, "key": "k", "value": "v",
         "headers": [{"key": "h", "value": "x"}]},
        {"topic": topic, "partition": 0, "offset": 1, "timestamp": now + 1, "key": None,
         "value": None, "headers": [{"key": "n", "value": None}]},
        {"topic": topic, "partition": 0, "offset": 2, "timestamp": now + 2, "key": "AP8=",
         "key_encoding": "base64", "value": "\u2603",
         "headers": [{"key": "b", "value": "/w==", "value_encoding": "base64"}]},
    ]
    # kcat -J reads the same offsets, keys and timestamps
    kj = [json.loads(x) for x in kcat(kp, "-C", "-b", b.bootstrap, "-t", topic, "-o", "beginning",
                                      "-e", "-q", "-J").decode(errors="replace").splitlines()[:2]]
    assert [(x["offset"], x["ts"], x["key"]) for x in kj][:2] == [(0, now, "k"), (1, now + 1, None)]


def test_several_topics_and_patterns(target, kp, topic):
    """-t takes topics comma separated; an entry starting with ^ is a regular expression
    matched against the cluster's topics; a pattern that matches nothing is an error (1), a
    malformed one bad usage (2). With -g the group subscribes to what they name."""
    b = target()
    for suffix in ("-a", "-b", "-other"):
        kp.produce(b.bootstrap, topic + suffix, input=f"in{suffix}\n".encode())
    rows = kp.consume_all(b.bootstrap, f"^{topic}-[ab]$", "-f", "%t %s\\n")
    assert sorted(rows.splitlines()) == [f"{topic}-a in-a".encode(), f"{topic}-b in-b".encode()]
    rows = kp.consume_all(b.bootstrap, f"{topic}-other,^{topic}-a", "-f", "%s\\n")
    assert sorted(rows.splitlines()) == [b"in-a", b"in-other"]
    p = kp.consume(b.bootstrap, f"^{topic}-nothing", "-e", ok=False)
    assert p.returncode == 1 and "no topic matches" in p.err, p.err
    p = kp.consume(b.bootstrap, "^(", "-e", ok=False)
    assert p.returncode == 2 and "bad topic pattern" in p.err, p.err
    rows = kp.consume(b.bootstrap, f"^{topic}-", "-g", topic + "-group", "-o", "beginning",
                      "-e", timeout=90).stdout
    assert sorted(rows.splitlines()) == [b"in-a", b"in-b", b"in-other"]


def test_several_topics_with_a_missing_one_is_partial(target, kp, topic):
    """Of several -t topics, one that cannot be read (it does not exist; with -p, it has no
    such partition) gets a message "kconsume: topic 'NAME' ..." and the others are read;
    kconsume then exits 3 (partial) where it would have exited 0: at -e, with -g, when its
    reader goes away. When no topic named can be read it exits 1, a message for each."""
    import subprocess
    from conftest import BIN
    b = target()
    a, two, missing = f"{topic}-a", f"{topic}-two", f"{topic}-missing"
    create_topic(b.bootstrap, a, 1)
    create_topic(b.bootstrap, two, 2)
    kp.produce(b.bootstrap, a, input=b"in-a\n")
    kp.produce(b.bootstrap, two, "-p", "1", input=b"in-two\n")
    no_auto = ["-X", "allow.auto.create.topics=false"]  # Metadata must not create `missing`
    p = kp.consume(b.bootstrap, f"{a},{missing},{two}", "-o", "beginning", "-e", "-f", "%t %s\\n",
                   *no_auto, ok=False)
    assert p.returncode == 3, (p.returncode, p.err)
    assert sorted(p.stdout.splitlines()) == [f"{a} in-a".encode(), f"{two} in-two".encode()]
    (msg,) = p.err.splitlines()
    assert msg.startswith(f"kconsume: topic '{missing}' ") and "does not exist" in msg, p.err
    # with -g the group subscribes to the topics that exist
    p = kp.consume(b.bootstrap, f"{missing},{a}", "-g", f"{topic}-group", "-o", "beginning", "-e",
                   *no_auto, ok=False, timeout=90)
    assert p.returncode == 3 and p.stdout == b"in-a\n", (p.returncode, p.err)
    assert f"kconsume: topic '{missing}' " in p.err
    # -p 1: `a` has partition 0 only
    p = kp.consume(b.bootstrap, f"{a},{two}", "-p", "1", "-o", "beginning", "-e", ok=False)
    assert p.returncode == 3 and p.stdout == b"in-two\n", (p.returncode, p.err)
    assert p.err.splitlines() == [f"kconsume: topic '{a}' has no partition 1 (it has 1)"]
    # the reader goes away (as head -1): still partial
    r = subprocess.Popen([str(BIN / "kconsume"), "-b", b.bootstrap, "-t", f"{missing},{a}", "-o",
                          "beginning", "-X", "fetch.max.wait.ms=200", *no_auto],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert r.stdout.readline() == b"in-a\n"
    r.stdout.close()
    assert r.wait(60 * SLOW) == 3, r.stderr.read()
    assert f"topic '{missing}'" in r.stderr.read().decode()
    # none can be read: failure, each named
    p = kp.consume(b.bootstrap, f"{missing},{missing}2", "-o", "beginning", "-e", *no_auto,
                   ok=False)
    assert p.returncode == 1 and p.stdout == b"", (p.returncode, p.err)
    assert [m.split("'")[1] for m in p.err.splitlines()] == [missing, missing + "2"], p.err
    # all there: 0 as ever
    p = kp.consume(b.bootstrap, f"{a},{two}", "-o", "beginning", "-e", *no_auto)
    assert sorted(p.stdout.splitlines()) == [b"in-a", b"in-two"] and p.err == ""


def test_start_at_a_time(target, kp, topic):
    """-o @TIME starts each partition at its first record with a timestamp at or after TIME
    (milliseconds or ISO 8601), as kcat -o s@TIME does; after the last record: nothing."""
    b = target()
    create_topic(b.bootstrap, topic, 2)
    base = int(time.time() * 1000) - 600_000
    for i in range(3):
        kp.produce(b.bootstrap, topic, "--timestamp", str(base + i * 1000), "-k", "\t",
                   input=b"".join(b"%d\tchunk%d-%d\n" % (k, i, k) for k in range(20)))
    got = kp.consume_all(b.bootstrap, topic, "-o", f"@{base + 1000}", "-f", "%p %o %s\\n")
    want = kcat(kp, "-C", "-b", b.bootstrap, "-t", topic, "-o", f"s@{base + 1000}", "-e", "-q",
                "-f", "%p %o %s\\n")
    assert sorted(got.splitlines()) == sorted(want.splitlines())
    assert sorted(x.split()[2] for x in got.splitlines()) == sorted(
        b"chunk%d-%d" % (i, k) for i in (1, 2) for k in range(20))
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime((base + 1500) // 1000)) + \
        ".%03dZ" % ((base + 1500) % 1000)
    got = kp.consume_all(b.bootstrap, topic, "-o", f"@{iso}", "-f", "%s\\n")
    assert sorted(got.split()) == sorted(b"chunk2-%d" % k for k in range(20))
    assert kp.consume_all(b.bootstrap, topic, "-o", f"@{base + 5000}") == b""


def test_start_at_the_stored_offsets(target, kp, topic):
    """-o stored starts at the group's committed offsets: -X group.id reads them without
    joining (and commits nothing), -g joins. Where the group has none auto.offset.reset
    applies (latest by default; none is an error)."""
    b = target()
    kp.produce(b.bootstrap, topic, input=b"".join(b"r%d\n" % i for i in range(20)))
    group = topic + "-g"
    kp.consume(b.bootstrap, topic, "-g", group, "-o", "beginning", "-c", "5", timeout=90)
    want = b"".join(b"r%d\n" % i for i in range(5, 20))
    assert kp.consume(b.bootstrap, topic, "-o", "stored", "-X", f"group.id={group}",
                      "-e").stdout == want
    assert kp.consume(b.bootstrap, topic, "-o", "stored", "-X", f"group.id={group}",
                      "-e").stdout == want, "reading without joining committed something"
    assert kp.consume(b.bootstrap, topic, "-g", group, "-o", "stored", "-e",
                      timeout=90).stdout == want
    fresh = ["-o", "stored", "-X", f"group.id={topic}-new"]
    assert kp.consume(b.bootstrap, topic, *fresh, "-e").stdout == b""
    assert kp.consume(b.bootstrap, topic, *fresh, "-X", "auto.offset.reset=earliest",
                      "-c", "2").stdout == b"r0\nr1\n"
    p = kp.consume(b.bootstrap, topic, *fresh, "-X", "auto.offset.reset=none", "-e", ok=False)
    assert p.returncode == 1 and "has no committed offset" in p.err, p.err
    p = kp.consume(b.bootstrap, topic, "-o", "stored", "-e", ok=False)
    assert p.returncode == 2 and "-o stored needs a group" in p.err, p.err


def test_read_committed_reads_plain_records(target, kp, topic):
    """--isolation-level read_committed reads records written outside transactions as
    read_uncommitted does, and -e ends at the same place."""
    b = target()
    data = b"".join(b"plain %d\n" % i for i in range(100))
    kp.produce(b.bootstrap, topic, input=data)
    for level in ("read_committed", "read_uncommitted"):
        assert kp.consume_all(b.bootstrap, topic, "--isolation-level", level) == data
    p = kp.consume(b.bootstrap, topic, "--isolation-level", "serializable", ok=False)
    assert p.returncode == 2, p.err


def transactions(bootstrap, topic, steps):
    """Run `steps` [("commit"|"abort"|"open", [values])] with one transactional librdkafka
    producer; an "open" transaction is flushed and left open. Returns the producer (close
    it with .abort_transaction())."""
    import confluent_kafka as ck
    p = ck.Producer({"bootstrap.servers": bootstrap, "transactional.id": topic + "-txn",
                     "linger.ms": 0})
    p.init_transactions(30 * SLOW)
    for what, values in steps:
        p.begin_transaction()
        for v in values:
            p.produce(topic, v.encode(), partition=0)
        p.flush(30 * SLOW)
        if what == "commit":
            p.commit_transaction(30 * SLOW)
        elif what == "abort":
            p.abort_transaction(30 * SLOW)
    return p


def test_read_committed_leaves_out_aborted_transactions(kafka, kp, topic):
    """Against Apache Kafka (kbroker has no transactions yet): read_committed leaves out the
    records of aborted transactions and stops (-e) before an open one; read_uncommitted
    reads them all."""
    k = kafka()
    create_topic(k.bootstrap, topic, 1)
    kp.produce(k.bootstrap, topic, "-p", "0", input=b"plain\n")
    prod = transactions(k.bootstrap, topic, [("commit", ["c1", "c2"]), ("abort", ["a1", "a2"]),
                                             ("commit", ["c3"]), ("open", ["o1"])])
    try:
        committed = kp.consume_all(k.bootstrap, topic, "--isolation-level", "read_committed")
        assert committed == b"plain\nc1\nc2\nc3\n"
        everything = kp.consume_all(k.bootstrap, topic)
        assert everything == b"plain\nc1\nc2\na1\na2\nc3\no1\n"
        fmt = kp.consume_all(k.bootstrap, topic, "-X", "isolation.level=read_committed",
                             "-f", "%o %s\\n")
        assert fmt.splitlines()[-1].endswith(b" c3")
    finally:
        prod.abort_transaction(30 * SLOW)
    committed = kp.consume_all(k.bootstrap, topic, "--isolation-level", "read_committed")
    assert committed == b"plain\nc1\nc2\nc3\n"


@pytest.mark.parametrize("args", [
    ["-J", "-f", "%s"], ["-J", "-k", ":"], ["-f", "%s", "-D", "|"], ["-f", "%z"], ["-f", "%"],
    ["-o", "@yesterday"], ["-o", "sometime"], ["-D", ""],
])
def test_bad_usage_exits_2(kp, args):
    """Output options that exclude each other, bad formats and offsets print usage, exit 2."""
    p = kp.run("kconsume", "-b", "127.0.0.1:1", "-t", "t", *args)
    assert p.returncode == 2, p.err
    assert "usage: kconsume" in p.err


def test_json_lines_of_every_partition(target, kp, topic):
    """kconsume -J of a 3-partition topic has every record once, each partition's in offset
    order, as written by kproduce -J."""
    b = target()
    recs = fill(kp, b, topic, n=150, partitions=3)
    got = parse_output(kp.consume_all(b.bootstrap, topic, "-J"))
    for p in range(3):
        want = [(r["key"], r["value"], r["headers"], r["timestamp"]) for r in recs
                if r["partition"] == p]
        have = [(r["key"], r["value"], r["headers"], r["timestamp"]) for r in got
                if r["partition"] == p]
        assert have == want
