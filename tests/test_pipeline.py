"""kproduce -> broker -> kconsume pipelines with real files, each run against kbroker and
against Apache Kafka (the target fixture): our tools work against any Kafka cluster."""
from collections import defaultdict

from kafka.partitioner.default import murmur2

from conftest import as_lines_output


def java_partition(key: bytes, partitions: int) -> int:
    """The Java client's default partitioner for a keyed record."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def dpkg_key(line: bytes) -> bytes:
    """The package a dpkg.log line is about ("pkg:arch"), else its action word."""
    fields = line.split()
    for f in fields[2:]:
        if b":" in f:
            return f
    return fields[2] if len(fields) > 2 else b"-"


def test_dpkg_log_round_trip_is_byte_identical(target, kp, topic, dpkg_log):
    """/var/log/dpkg.log through a 1-partition topic comes back byte for byte."""
    b = target(partitions=1)
    kp.produce(b.bootstrap, topic, input=dpkg_log)
    assert kp.consume_all(b.bootstrap, topic) == as_lines_output(dpkg_log)


def test_dpkg_status_with_empty_lines_round_trip(target, kp, topic, dpkg_status):
    """/var/lib/dpkg/status (empty lines become empty records) comes back byte for byte."""
    b = target(partitions=1)
    kp.produce(b.bootstrap, topic, input=dpkg_status)
    out = kp.consume_all(b.bootstrap, topic)
    assert out.count(b"\n") == as_lines_output(dpkg_status).count(b"\n")
    assert out == as_lines_output(dpkg_status)


def test_empty_lines_are_empty_records(target, kp, topic):
    """Empty input lines are produced as empty records and consumed as empty lines."""
    b = target()
    data = b"a\n\n\nb\n\n"
    kp.produce(b.bootstrap, topic, input=data)
    assert kp.consume_all(b.bootstrap, topic) == data


def test_keyed_three_partitions_keep_per_key_order(target, kp, topic, dpkg_log):
    """Keyed dpkg.log lines in 3 partitions: same multiset back, each key's lines in order,
    each key in exactly the partition the Java murmur2 partitioner picks."""
    b = target(partitions=3)
    lines = dpkg_log.rstrip(b"\n").split(b"\n")
    keyed = [dpkg_key(l) + b"\t" + l for l in lines]
    kp.produce(b.bootstrap, topic, "-k", "\t", input=b"\n".join(keyed) + b"\n")

    out = kp.consume_all(b.bootstrap, topic, "-k", "\t").rstrip(b"\n").split(b"\n")
    assert sorted(out) == sorted(keyed)

    want = defaultdict(list)
    got = defaultdict(list)
    for l in keyed:
        k, v = l.split(b"\t", 1)
        want[k].append(v)
    for l in out:
        k, v = l.split(b"\t", 1)
        got[k].append(v)
    for k in want:
        assert got[k] == want[k], f"lines of key {k!r} out of order"

    used = set()
    total = 0
    for p in range(3):
        part = kp.consume_all(b.bootstrap, topic, "-p", str(p), "-k", "\t")
        rows = part.rstrip(b"\n").split(b"\n") if part else []
        total += len(rows)
        for row in rows:
            k = row.split(b"\t", 1)[0]
            assert java_partition(k, 3) == p, f"key {k!r} in partition {p}"
            used.add(p)
    assert total == len(keyed)
    assert used == {0, 1, 2}, "keys should spread over all 3 partitions"


def test_count_stops_after_count(target, kp, topic):
    """kconsume -c 10 prints exactly 10 records and exits 0 without -e."""
    b = target()
    kp.produce(b.bootstrap, topic, input=b"".join(b"r%d\n" % i for i in range(100)))
    out = kp.consume(b.bootstrap, topic, "-o", "beginning", "-c", "10", timeout=30).stdout
    assert out == b"".join(b"r%d\n" % i for i in range(10))


def test_offset_options(target, kp, topic):
    """-o OFFSET starts at that offset, -o -N prints the last N, -o end -e prints nothing."""
    b = target()
    kp.produce(b.bootstrap, topic, input=b"".join(b"r%d\n" % i for i in range(100)))
    out = kp.consume(b.bootstrap, topic, "-o", "40", "-e").stdout
    assert out == b"".join(b"r%d\n" % i for i in range(40, 100))
    out = kp.consume(b.bootstrap, topic, "-o", "-5", "-e").stdout
    assert out == b"".join(b"r%d\n" % i for i in range(95, 100))
    out = kp.consume(b.bootstrap, topic, "-o", "end", "-e").stdout
    assert out == b""


def test_empty_input_produces_nothing(target, kp, topic):
    """kproduce with empty stdin exits 0 and adds no record."""
    b = target()
    kp.produce(b.bootstrap, topic, input=b"one\ntwo\nthree\n")
    p = kp.produce(b.bootstrap, topic, input=b"")
    assert p.stdout == b""
    assert kp.consume_all(b.bootstrap, topic) == b"one\ntwo\nthree\n"


def test_last_line_without_newline(target, kp, topic):
    """A final line without a trailing newline is still a record."""
    b = target()
    kp.produce(b.bootstrap, topic, input=b"x\ny")
    assert kp.consume_all(b.bootstrap, topic) == b"x\ny\n"
