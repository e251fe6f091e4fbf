"""Interoperability with kcat (librdkafka 2.0.2) in both directions, each test run against
kbroker and against Apache Kafka (the target fixture)."""
import re

import pytest

from conftest import as_lines_output

CODECS = ["gzip", "snappy", "lz4", "zstd"]


def kcat(kp, *args, input=b"", timeout=60):
    p = kp.run("kcat", *args, input=input, timeout=timeout, check_sanitizer=False)
    assert p.returncode == 0, f"kcat {' '.join(args)} exited {p.returncode}: {p.err[-3000:]}"
    return p.stdout


def kcat_consume(kp, bootstrap, topic, *args):
    return kcat(kp, "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-q", *args)


def kcat_produce(kp, bootstrap, topic, data, *args):
    kcat(kp, "-P", "-b", bootstrap, "-t", topic, *args, input=data)


def test_kcat_consumes_what_kproduce_wrote(target, kp, topic, dpkg_log):
    """kcat -C prints exactly the lines kproduce wrote."""
    b = target()
    kp.produce(b.bootstrap, topic, input=dpkg_log)
    assert kcat_consume(kp, b.bootstrap, topic) == as_lines_output(dpkg_log)


def test_kconsume_reads_what_kcat_wrote(target, kp, topic, dpkg_log):
    """kconsume prints exactly the lines kcat -P wrote."""
    b = target()
    kcat_produce(kp, b.bootstrap, topic, dpkg_log)
    assert kp.consume_all(b.bootstrap, topic) == as_lines_output(dpkg_log)


def test_kcat_keys_and_offsets(target, kp, topic):
    """kcat sees kproduce's keys and offsets 0..N-1."""
    b = target()
    data = b"".join(b"k%d=v%d\n" % (i, i) for i in range(50))
    kp.produce(b.bootstrap, topic, "-k", "=", input=data)
    out = kcat_consume(kp, b.bootstrap, topic, "-f", "%o %k %s\n")
    assert out == b"".join(b"%d k%d v%d\n" % (i, i, i) for i in range(50))


def test_kcat_metadata_lists_topics(target, kp, topic):
    """kcat -L shows this broker and every topic with its partition count."""
    b = target(partitions=2)
    kp.produce(b.bootstrap, topic + "-a", input=b"x\n")
    kp.produce(b.bootstrap, topic + "-b", input=b"y\n")
    out = kcat(kp, "-L", "-b", b.bootstrap).decode()
    topics = dict(re.findall(r'topic "([^"]+)" with (\d+) partitions', out))
    assert topics.get(topic + "-a") == "2", out
    assert topics.get(topic + "-b") == "2", out
    assert re.search(r"broker \d+ at 127\.0\.0\.1:%d" % b.port, out), out


@pytest.mark.parametrize("codec", CODECS)
def test_kcat_compressed_produce(target, kp, topic, codec, dpkg_log):
    """kcat -P -z CODEC batches are stored and served so kconsume reads them back."""
    b = target()
    data = b"".join(dpkg_log.splitlines(keepends=True)[:2000])
    kcat_produce(kp, b.bootstrap, topic, data, "-z", codec)
    assert kp.consume_all(b.bootstrap, topic) == as_lines_output(data)


@pytest.mark.parametrize("codec", CODECS)
def test_kproduce_compressed_read_by_kcat(target, kp, topic, codec, dpkg_log):
    """kproduce -z CODEC batches decompress in kcat (librdkafka) to the same lines."""
    b = target()
    data = b"".join(dpkg_log.splitlines(keepends=True)[:2000])
    kp.produce(b.bootstrap, topic, "-z", codec, input=data)
    assert kcat_consume(kp, b.bootstrap, topic) == as_lines_output(data)
    assert kp.consume_all(b.bootstrap, topic) == as_lines_output(data)
