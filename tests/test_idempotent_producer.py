"""The idempotent producer (KIP-98) beyond one broker's lifetime: the batches a producer wrote
are remembered per partition (producer id, epoch, last five sequence ranges) so that a retried
batch is answered with the offsets it was first written at instead of being written twice,
whatever happened in between:

  * a clean restart (the state comes back from the partition's producer snapshot, a file in
    Kafka's format that Kafka's own DumpLogSegments reads) and a kill -9 (replayed from the
    log after the last snapshot);
  * a leader change (the followers learned the producer from the batches they replicated);
  * producer ids come in blocks the active controller allocates (AllocateProducerIds, a
    ProducerIdsRecord in the metadata log): no two brokers, and no broker after a controller
    failover, hand out the same id.

Requests are written by hand with tests/tools/kpwire, so each retry is exactly the batch sent
before. Apache Kafka's answers to the same requests are compared field by field in
tests/differential/produce_idempotent.json.
"""
from pathlib import Path

import pytest

import clients
from conftest import SLOW, create_topic, wait_for
from test_controller_quorum import wait_leader
from test_kraft_cluster import BROKER_IDS, KraftCluster, brokers_seen, check_stopped, kpwire
from test_replication import create, partition_state, read_all, wait_isr

pytest.importorskip("confluent_kafka")

OUT_OF_ORDER_SEQUENCE_NUMBER = 45
TOPIC = "idem"


def init_producer_id(kp, bootstrap):
    """A new producer id from the broker at `bootstrap` (InitProducerId v4)."""
    r = kpwire(kp, bootstrap, [{"api": "InitProducerId", "version": 4, "request": {
        "TransactionalId": None, "TransactionTimeoutMs": 60000, "ProducerId": -1,
        "ProducerEpoch": -1}, "retry_while": {"ErrorCode": [14, 15]}}])[0]
    assert r["ErrorCode"] == 0 and r["ProducerEpoch"] == 0, r
    return r["ProducerId"]


def produce(kp, bootstrap, pid, seq, values, epoch=0):
    """One batch of `values` by producer `pid` from sequence `seq`, acks=all:
    (error code, base offset)."""
    batch = {"producer_id": pid, "producer_epoch": epoch, "base_sequence": seq,
             "records": [{"value": v} for v in values]}
    r = kpwire(kp, bootstrap, [{"api": "Produce", "version": 9, "request": {
        "Acks": -1, "TimeoutMs": 30000, "TopicData": [{"Name": TOPIC, "PartitionData": [
            {"Index": 0, "Records": batch}]}]}}])[0]
    p = r["Responses"][0]["PartitionResponses"][0]
    return p["ErrorCode"], p["BaseOffset"]


def values(kp, bootstrap):
    out = kp.consume(bootstrap, TOPIC, "-p", 0, "-o", "beginning", "-e").stdout
    return out.decode().splitlines()


def dump_snapshot(path):
    """Kafka's DumpLogSegments on a producer snapshot file: its output lines."""
    try:
        clients.kafka_peer.fetch()
    except clients.PeerError as e:
        pytest.fail(f"Apache Kafka jars: {e}")
    p = clients.run(clients.tool_cmd("org.apache.kafka.tools.DumpLogSegments", "--files", path),
                    "DumpLogSegments", timeout=120 * SLOW)
    assert p.returncode == 0, p.err[-3000:]
    return p.out.splitlines()


def test_retries_after_a_restart_and_a_kill_are_not_written_twice(broker, kp):
    """A clean restart keeps the producer in a snapshot (read by Kafka's DumpLogSegments); a
    kill -9 after more writes replays them from the log."""
    b = broker()
    create_topic(b.bootstrap, TOPIC, 1)
    pid = init_producer_id(kp, b.bootstrap)
    assert produce(kp, b.bootstrap, pid, 0, ["a", "b"]) == (0, 0)
    assert produce(kp, b.bootstrap, pid, 2, ["c"]) == (0, 2)
    b.stop()
    snaps = sorted(Path(b.logdir, f"{TOPIC}-0").glob("*.snapshot"))
    assert [s.name for s in snaps] == ["00000000000000000003.snapshot"]
    dump = [line for line in dump_snapshot(snaps[0]) if line.startswith("producerId:")]
    assert len(dump) == 1 and f"producerId: {pid} producerEpoch: 0" in dump[0], dump
    assert "lastSequence: 2 lastOffset: 2" in dump[0], dump
    b.start()
    assert produce(kp, b.bootstrap, pid, 2, ["c"]) == (0, 2)       # the retry, answered
    assert produce(kp, b.bootstrap, pid, 4, ["x"])[0] == OUT_OF_ORDER_SEQUENCE_NUMBER
    assert produce(kp, b.bootstrap, pid, 3, ["d", "e"]) == (0, 3)
    b.kill9()
    b.start()
    assert produce(kp, b.bootstrap, pid, 3, ["d", "e"]) == (0, 3)  # replayed after the kill
    assert produce(kp, b.bootstrap, pid, 5, ["f"]) == (0, 5)
    assert values(kp, b.bootstrap) == ["a", "b", "c", "d", "e", "f"]


@pytest.fixture
def cluster(tmp_path, kp):
    c = KraftCluster(tmp_path)
    try:
        wait_leader(c.controllers)
        assert wait_for(lambda: brokers_seen(kp, c.brokers[11]) == list(BROKER_IDS),
                        15 * SLOW, 0.2)
        yield c
    finally:
        check_stopped(c)


def test_a_retry_to_the_new_leader_is_not_written_twice(cluster, kp):
    """The leader dies after its followers have a batch; the producer's retry of that batch to
    the new leader is answered with the batch's offset, and the next one follows it."""
    c = cluster
    create(c, TOPIC, assignment=[[11, 12, 13]], config={"min.insync.replicas": "2"})
    wait_isr(kp, c, TOPIC, list(BROKER_IDS))
    pid = init_producer_id(kp, c.brokers[12].bootstrap)
    assert produce(kp, c.brokers[11].bootstrap, pid, 0, ["a", "b"]) == (0, 0)
    assert produce(kp, c.brokers[11].bootstrap, pid, 2, ["c"]) == (0, 2)
    c.brokers[11].kill9()
    leader = wait_for(lambda: (lambda s: s[0] if s and s[0] in (12, 13) else None)(
        partition_state(kp, c, TOPIC)), 30 * SLOW, 0.2)
    assert leader, partition_state(kp, c, TOPIC)
    new = c.brokers[leader].bootstrap
    assert produce(kp, new, pid, 2, ["c"]) == (0, 2)
    assert produce(kp, new, pid, 0, ["a", "b"]) == (0, 0)
    assert produce(kp, new, pid, 3, ["d"]) == (0, 3)
    c.brokers[11].start()
    wait_isr(kp, c, TOPIC, list(BROKER_IDS))
    assert read_all(new, TOPIC, expect=4) == ["a", "b", "c", "d"]


def test_producer_ids_are_never_handed_out_twice(cluster, kp):
    """Each broker hands out ids from its own block; after the active controller is killed,
    a restarted broker's new block comes after every block handed out before."""
    c = cluster
    ids = {nid: [init_producer_id(kp, b.bootstrap) for _ in range(3)]
           for nid, b in c.brokers.items()}
    flat = [i for got in ids.values() for i in got]
    assert len(set(flat)) == len(flat), ids
    for got in ids.values():
        assert got == list(range(got[0], got[0] + 3)), ids        # in order within a block
    assert len({got[0] // 1000 for got in ids.values()}) == 3, ids  # three blocks
    leader, _, _ = wait_leader(c.controllers)
    next(x for x in c.controllers if x.node_id == leader).kill9()
    wait_leader([x for x in c.controllers if x.running], exclude=leader)
    c.brokers[11].stop()
    c.brokers[11].start()
    assert wait_for(lambda: brokers_seen(kp, c.brokers[12]) == list(BROKER_IDS), 15 * SLOW, 0.2)
    again = init_producer_id(kp, c.brokers[11].bootstrap)
    assert again > max(flat) and again // 1000 not in {i // 1000 for i in flat}, (again, ids)
