"""Many partitions created at once: once it serves, kbroker opens at most 1,000 new logs per
pass over the metadata image and leaves the rest to the passes that follow from its event
loop (lib/broker/image_sync.c), so that a burst of creations does not hold every request
for seconds. Shown here: every partition of a burst of 2,500 ends up hosted, each in its
directory, the first and last of each pass accept records and read them back, and requests
sent meanwhile are answered without error. (How long the loop is held is a timing, left to
tests/bench/storage.py.)"""
import threading
import time

import pytest

from conftest import create_topic
from test_kraft_cluster import kpwire

confluent_kafka = pytest.importorskip("confluent_kafka")

PARTITIONS = 2500


def test_a_burst_of_partitions_is_opened_over_several_passes(broker, kp, tmp_path):
    b = broker()
    answered = []
    stop = threading.Event()

    def ask_api_versions():  # requests meanwhile: each must be answered
        while not stop.is_set():
            r = kpwire(kp, b.bootstrap, [{"api": "ApiVersions", "version": 3, "request": {
                "ClientSoftwareName": "t", "ClientSoftwareVersion": "1"}}])[0]
            answered.append(r["ErrorCode"])
            time.sleep(0.05)

    t = threading.Thread(target=ask_api_versions)
    t.start()
    try:
        create_topic(b.bootstrap, "burst", PARTITIONS)
    finally:
        stop.set()
        t.join(60)
    assert answered and set(answered) == {0}
    dirs = [p for p in (tmp_path / "logs0").iterdir() if p.name.startswith("burst-")]
    assert len(dirs) == PARTITIONS

    for part in (0, 999, 1000, 1999, PARTITIONS - 1):  # first and last of each pass
        kp.produce(b.bootstrap, "burst", "-p", str(part), input=f"r{part}\n".encode())
    for part in (0, 1000, PARTITIONS - 1):
        out = kp.consume(b.bootstrap, "burst", "-p", str(part), "-o", "beginning", "-e").stdout
        assert out.decode().splitlines() == [f"r{part}"]
