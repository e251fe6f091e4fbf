"""The current confluent-kafka from PyPI (the exact version in tests/peers/pypi/requirements.txt,
with its bundled librdkafka) against kbroker, and against Apache Kafka to show the tests
themselves hold; besides Debian's python3-confluent-kafka 1.7 (test_confluent.py).

tests/peers/clients.py installs it into a virtualenv in the cache; the venv's python runs
tests/peers/pypi/kpconfluent.py (create a topic with AdminClient, produce, consume with assign()
from the low to the high watermark).
"""
import re
import sys
from pathlib import Path

import pytest

import clients
from conftest import SLOW

N = 2000
PINNED = re.search(r"^confluent-kafka==(\S+)$",
                   (Path(clients.PYPI_SRC) / "requirements.txt").read_text(), re.M).group(1)


@pytest.fixture(scope="session")
def pypi():
    """pypi(bootstrap, *args, input=b"") -> CompletedProcess of kpconfluent.py in the venv."""
    try:
        py = clients.pypi_python()
    except clients.PeerError as e:
        pytest.fail(f"cannot install tests/peers/pypi/requirements.txt: {e}")

    def run(bootstrap, *args, input=b"", python=py):
        return clients.run(clients.confluent_cmd(python, bootstrap, *args),
                           f"kpconfluent.py {args[0]}", input=input, timeout=60 * SLOW)
    return run


def test_pypi_confluent_round_trip(target, pypi, topic):
    """The pinned confluent-kafka creates a 3-partition topic (a second create fails with
    TOPIC_ALREADY_EXISTS), writes 2,000 records with keys and headers (null keys, values and
    header values, binary bytes), half uncompressed and half lz4, and reads exactly those back
    at the delivered offsets, 0..n-1 per partition."""
    b = target()
    v = clients.parse_lines(clients.ok(pypi(b.bootstrap, "version"), "version").stdout)[0]
    assert v["version"] == PINNED, v
    p = clients.ok(pypi(b.bootstrap, "create", topic, 3), "create")
    assert clients.parse_lines(p.stdout) == [{"topic": topic, "error": None}]
    p = clients.ok(pypi(b.bootstrap, "create", topic, 3), "create")
    assert clients.parse_lines(p.stdout) == [{"topic": topic, "error": "TOPIC_ALREADY_EXISTS"}]
    records = clients.sample_records(N, "pypi")
    delivered = []
    for codec, part in (("none", records[:N // 2]), ("lz4", records[N // 2:])):
        p = pypi(b.bootstrap, "produce", topic, codec, input=clients.records_input(part))
        delivered += clients.parse_lines(clients.ok(p, f"produce ({codec})").stdout)
    meta, got = clients.parse_records(clients.ok(pypi(b.bootstrap, "consume", topic),
                                                 "consume").stdout)
    clients.check_round_trip(records, delivered, meta, got, 3)


def test_pypi_and_debian_confluent_interoperate(broker, pypi, topic):
    """Records that the PyPI confluent-kafka writes (gzip) Debian's 1.7 reads exactly, and
    the other way round (snappy); null header values are left out, which 1.7 cannot read."""
    pytest.importorskip("confluent_kafka")
    b = broker()
    for t in (topic, topic + "-d"):
        clients.ok(pypi(b.bootstrap, "create", t, 3), "create")
    records = clients.sample_records(500, "pypi", null_headers=False)
    delivered = clients.parse_lines(clients.ok(
        pypi(b.bootstrap, "produce", topic, "gzip", input=clients.records_input(records)),
        "produce").stdout)
    meta, got = clients.parse_records(clients.ok(
        pypi(b.bootstrap, "consume", topic, python=sys.executable), "consume (Debian)").stdout)
    clients.check_round_trip(records, delivered, meta, got, 3)

    records = clients.sample_records(500, "debian", null_headers=False)
    delivered = clients.parse_lines(clients.ok(
        pypi(b.bootstrap, "produce", topic + "-d", "snappy", input=clients.records_input(records),
             python=sys.executable), "produce (Debian)").stdout)
    meta, got = clients.parse_records(clients.ok(pypi(b.bootstrap, "consume", topic + "-d"),
                                                 "consume").stdout)
    clients.check_round_trip(records, delivered, meta, got, 3)
