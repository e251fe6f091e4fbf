"""The Apache Kafka test peer (tests/peers/kafka_peer.py): fetched once, started on demand."""
import os
import subprocess
import sys

import kafka_peer

PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers", "kafka_peer.py")


def run_peer(*args, env=None):
    return subprocess.run([sys.executable, PEER, *args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env, timeout=900)


def test_second_fetch_uses_the_cache_without_maven(tmp_path):
    """Once the jars are in the cache, fetch answers from it: with no mvn on PATH it still
    prints the same libs directory, which holds the pinned broker, tools and client jars."""
    libs = kafka_peer.fetch()
    v = kafka_peer.kafka_version()
    names = os.listdir(libs)
    for jar in (f"kafka_2.13-{v}.jar", f"kafka-tools-{v}.jar", f"kafka-clients-{v}.jar"):
        assert jar in names, f"{jar} missing from {libs}"
    env = dict(os.environ, PATH=str(tmp_path))  # an empty directory: no mvn, no java
    p = run_peer("fetch", env=env)
    assert p.returncode == 0, p.stderr.decode()
    assert p.stdout.decode().strip() == str(libs)


def test_unknown_command_is_a_usage_error():
    """kafka_peer.py with an unknown command exits 2 and says so on stderr."""
    p = run_peer("frobnicate")
    assert p.returncode == 2
    assert b"unknown command" in p.stderr


def test_overrides_reach_the_kafka_node(kafka, kp, topic):
    """kafka("num.partitions=3") starts a node whose auto-created topics have 3 partitions."""
    k = kafka("num.partitions=3")
    kp.produce(k.bootstrap, topic, input=b"a\n")
    out = kp.run("kcat", "-L", "-b", k.bootstrap, "-t", topic, check_sanitizer=False)
    assert out.returncode == 0, out.err
    assert b"with 3 partitions" in out.stdout, out.stdout
