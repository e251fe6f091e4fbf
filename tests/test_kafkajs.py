"""KafkaJS 2.2.4 (Node.js) against kbroker: tests/js/roundtrip.js creates a 3-partition topic,
sends 1000 keyed records with headers (one send gzip-compressed) and checks the offsets the
broker reports; the records are then read back with kconsume (keys and values) and kcat
(offsets and headers) and compared exactly.

KafkaJS's own consumer always joins a consumer group (FindCoordinator, JoinGroup, SyncGroup,
Heartbeat, OffsetCommit, ...), which kbroker's group coordinator serves: it is tested in
tests/test_group_clients.py, where three KafkaJS members (tests/js/group_member.js) share a
topic against kbroker and against Apache Kafka. Reading back here with kconsume and kcat
instead compares the bytes with independent clients.

Needs node on PATH and tests/js/node_modules (make deps: share/install-deps.sh runs npm ci
there); a missing one fails the test rather than skipping it.
"""
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import SLOW

JS = Path(__file__).resolve().parent / "js"


def run_roundtrip(bootstrap, topic):
    node = shutil.which("node")
    if not node or not (JS / "node_modules" / "kafkajs").is_dir():
        pytest.fail("node or tests/js/node_modules/kafkajs missing: run make deps")
    try:
        p = subprocess.run([node, str(JS / "roundtrip.js"), bootstrap, topic], cwd=JS,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60 * SLOW)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"roundtrip.js did not finish in {60 * SLOW} s; stderr: {e.stderr!r:.3000}")
    assert p.returncode == 0, f"roundtrip.js exited {p.returncode}: {p.stderr.decode()[-4000:]}"
    return [json.loads(line) for line in p.stdout.decode().splitlines()]


def test_kafkajs_create_produce_list_offsets(broker, kp, topic):
    """KafkaJS creates a topic, produces 1000 records (plain and gzip) at the offsets it
    expects, sees the right high watermarks, and kconsume/kcat read back exactly those records."""
    b = broker(partitions=1)   # the 3 partitions must come from createTopics
    sent = run_roundtrip(b.bootstrap, topic)
    assert len(sent) == 1000
    assert f"created topic {topic} with 3 partition(s)" in b.stderr
    for p in range(3):
        recs = sorted((r for r in sent if r["p"] == p), key=lambda r: r["o"])
        assert [r["o"] for r in recs] == list(range(len(recs)))
        want_kv = "".join(f"{r['k']}\t{r['v']}\n" for r in recs).encode()
        got = kp.consume(b.bootstrap, topic, "-p", p, "-o", "beginning", "-e", "-k", "\t").stdout
        assert got == want_kv, f"partition {p}: kconsume differs"
        out = kp.run("kcat", "-C", "-b", b.bootstrap, "-t", topic, "-p", p, "-o", "beginning",
                     "-e", "-q", "-f", "%o|%k|%s|%h\n", check_sanitizer=False)
        assert out.returncode == 0, out.err
        want = "".join(f"{r['o']}|{r['k']}|{r['v']}|"
                       + ",".join(f"{hk}={hv}" for hk, hv in r["h"].items()) + "\n"
                       for r in recs).encode()
        assert out.stdout == want, f"partition {p}: kcat differs"
