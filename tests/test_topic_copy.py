"""Copying topics between clusters with `kconsume -J | kproduce -J`: every record arrives with
its partition, offset (into an empty topic), timestamp, key, value and headers as they were,
including values that are not UTF-8, null keys and values, and null, empty and binary header
values; from kbroker to Apache Kafka and back, between two kbrokers, and within one cluster
under another name. kcat reads the copies exactly as it reads the originals."""
import subprocess

from conftest import ASAN, BIN, SLOW, create_topic, sanitizer_report
from kpjson import comparable, parse_output, records_input, sample_records

PARTITIONS = 3


def pipe(src, dst, topic, *produce_args):
    """kconsume -J -t topic -o beginning -e (from src) | kproduce -J (to dst), pipefail."""
    cmd = (f"set -o pipefail; {BIN / 'kconsume'} -b {src.bootstrap} -t {topic} -J "
           f"-o beginning -e | {BIN / 'kproduce'} -b {dst.bootstrap} -J "
           + " ".join(produce_args))
    p = subprocess.run(["bash", "-c", cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=180 * SLOW)
    err = p.stderr.decode(errors="replace")
    assert p.returncode == 0, f"{cmd} exited {p.returncode}: {err[-3000:]}"
    if ASAN:
        assert not sanitizer_report(err), err
    assert err == "", err


def read_json(kp, b, topic):
    return parse_output(kp.consume_all(b.bootstrap, topic, "-J"))


def kcat_dump(kp, b, topic, partition):
    """kcat's view of one partition: offset, timestamp, key and value lengths, key, headers,
    value."""
    p = kp.run("kcat", "-C", "-b", b.bootstrap, "-t", topic, "-p", str(partition), "-o",
               "beginning", "-e", "-q", "-f", "%o %T %K %S %k [%h] %s\\n", timeout=60,
               check_sanitizer=False)
    assert p.returncode == 0, p.err
    return p.stdout


def fill(kp, b, topic, n):
    create_topic(b.bootstrap, topic, PARTITIONS)
    recs = sample_records(n, PARTITIONS)
    kp.produce(b.bootstrap, topic, "-J", input=records_input(recs, topic))
    return recs


def same_records(got, recs):
    """got (kconsume -J of a copy) holds recs, each partition's in order from offset 0."""
    assert len(got) == len(recs)
    want = comparable([dict(r, offset=None) for r in recs])
    have = comparable([dict(r, offset=None) for r in got])
    assert have == want
    for p, rows in comparable(got).items():
        assert [r[0] for r in rows] == list(range(len(rows))), f"partition {p} offsets"


def test_kbroker_to_kafka_and_back(kbroker_factory, kafka, kp, topic):
    """A topic of 3 partitions goes kbroker -> Apache Kafka -> another kbroker through
    kconsume -J | kproduce -J: kconsume -J and kcat print the same on all three."""
    first, second, k = kbroker_factory(), kbroker_factory(), kafka()
    recs = fill(kp, first, topic, 600)
    for b in (k, second):
        create_topic(b.bootstrap, topic, PARTITIONS)
    pipe(first, k, topic)
    pipe(k, second, topic)
    original = read_json(kp, first, topic)
    same_records(original, recs)
    for b in (k, second):
        copy = read_json(kp, b, topic)
        same_records(copy, recs)
        assert comparable(copy) == comparable(original)
        for p in range(PARTITIONS):
            assert kcat_dump(kp, b, topic, p) == kcat_dump(kp, first, topic, p), \
                f"kcat sees partition {p} differently on {b.kind}"


def test_between_two_kbrokers_under_another_name(kbroker_factory, kp, topic):
    """kproduce -J -t NEW writes a copy under another name; partitions, timestamps, keys,
    values and headers stay."""
    src, dst = kbroker_factory(), kbroker_factory()
    recs = fill(kp, src, topic, 400)
    create_topic(dst.bootstrap, topic + "-copy", PARTITIONS)
    pipe(src, dst, topic, "-t", topic + "-copy")
    copy = read_json(kp, dst, topic + "-copy")
    assert {r["topic"] for r in copy} == {topic + "-copy"}
    same_records(copy, recs)


def test_within_one_cluster(target, kp, topic):
    """On kbroker and on Apache Kafka alike: a copy of a topic made through the pipe reads
    back (kconsume -J, kcat) like the original."""
    b = target()
    recs = fill(kp, b, topic, 300)
    create_topic(b.bootstrap, topic + "-copy", PARTITIONS)
    pipe(b, b, topic, "-t", topic + "-copy")
    same_records(read_json(kp, b, topic + "-copy"), recs)
    for p in range(PARTITIONS):
        assert kcat_dump(kp, b, topic + "-copy", p) == kcat_dump(kp, b, topic, p)
