"""Two replication rules broken on purpose, each shown caught by the history checkers of
tests/nemesis.py (the third, the high watermark over the ISR, is in tests/test_replication.py).
Each test runs twice: correct, where the checker finds nothing, and broken (a
kpipe.test.* setting, never for use), where it reports the damage.

  ISR expansion (Kafka's Partition.maybeExpandIsr): a follower joins the ISR only once it has
  caught up with the high watermark. Broken, a lagging follower joins at its first fetch; when
  the leader and the other follower die, it is elected from the ISR without the acknowledged
  writes it never copied: the lost-write checker reports them.

  Truncation (KIP-101, KIP-595's diverging epochs): a returning leader truncates what only it
  had before following the new leader. Broken, it ignores the diverging epoch (and sends no
  last fetched epoch), appends the new leader's records after its own and rejoins the ISR;
  led by it, offsets that consumers read with one value now hold another: the inconsistent-
  offset checker reports them.
"""
import time

import pytest

import nemesis
from conftest import SLOW, wait_for
from test_kraft_cluster import BROKER_IDS, check_stopped
from test_replication import (create, partition_state, produce_acks_all, produce_one, start,
                              wait_isr, written_then_leader_killed)

confluent_kafka = pytest.importorskip("confluent_kafka")


def read_offsets(bootstrap, topic, expect, timeout=30):
    """[(offset, value)] of partition 0 from its start, once `expect` records are read or a
    little after the end of the partition (its high watermark) is reached."""
    c = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": "unused",
                                  "enable.auto.commit": False, "enable.partition.eof": True})
    c.assign([confluent_kafka.TopicPartition(topic, 0, confluent_kafka.OFFSET_BEGINNING)])
    got, deadline = [], time.monotonic() + timeout * SLOW
    while len(got) < expect and time.monotonic() < deadline:
        m = c.poll(0.3)
        if m is not None and not m.error():
            got.append((m.offset(), m.value().decode()))
        elif m is not None and m.error().code() == confluent_kafka.KafkaError._PARTITION_EOF:
            # a new leader's high watermark may still rise: a short grace, not the timeout
            deadline = min(deadline, time.monotonic() + 2 * SLOW)
    c.close()
    return got


def leader_of(kp, c, topic, among):
    got = wait_for(lambda: (lambda s: s[0] if s and s[0] in among else None)(
        partition_state(kp, c, topic)), 30 * SLOW, 0.2)
    assert got, partition_state(kp, c, topic)
    return got


@pytest.mark.parametrize("broken", [False, True], ids=["correct", "isr-admits-lagging"])
def test_lost_write_checker_catches_an_isr_that_admits_a_lagging_follower(tmp_path, kp, broken):
    """Follower 13 is down while 300 acks=all writes of 10 KB go to 11 and 12; it comes back
    throttled to 2 KB/s (one 1 MB fetch, then none for the quota's window), so it lags.
    11 stops, 12 leads, then 12 stops. Correct: 13 is not in the ISR, nobody may lead
    until 12 is back, and 12 has every acknowledged write. Broken: 13 is in the ISR at once,
    is elected, and the writes it lacks are lost."""
    only = {13: ["follower.replication.throttled.rate=2048"]}
    if broken:
        only[11] = only[12] = ["kpipe.test.isr.admits.lagging.followers=true"]
    c = start(tmp_path, kp, only=only)
    try:
        create(c, "lagging", assignment=[[11, 12, 13]],
               config={"min.insync.replicas": "2", "follower.replication.throttled.replicas": "*"})
        wait_isr(kp, c, "lagging", list(BROKER_IDS))
        c.brokers[13].stop()  # killed, its restart would wait for its old session to expire
        wait_isr(kp, c, "lagging", [11, 12])
        values = [f"w{i:03d}-" + "x" * 10000 for i in range(300)]
        acked, errors = produce_acks_all(c.brokers[11].bootstrap, "lagging", values)
        assert len(acked) == 300, errors
        joined = c.brokers[11].stderr.count("caught up")
        c.brokers[13].start()
        if broken:
            wait_isr(kp, c, "lagging", list(BROKER_IDS))
        else:  # it fetches, and stays out of the ISR while it lags
            time.sleep(3)
            assert c.brokers[11].stderr.count("caught up") == joined
            assert sorted(partition_state(kp, c, "lagging")[2]) == [11, 12]
        # One at a time: stopped together, the controller may fence 12 first and keep 11,
        # the last ISR member, alone in the ISR (no ELR here), so nobody could lead. A
        # controlled shutdown (SIGTERM) hands leadership on at once, without waiting for a
        # session to expire: the rule tested is the ISR's, not failure detection.
        c.brokers[11].stop()
        assert leader_of(kp, c, "lagging", (12, 13)) == 12
        c.brokers[12].stop()
        if not broken:
            c.brokers[12].start()
        new = leader_of(kp, c, "lagging", (13,) if broken else (12, 13))
        got = [v for _, v in read_offsets(c.brokers[new].bootstrap, "lagging", 300, 10)]
        lost = nemesis.lost(acked, got)
        if broken:
            assert new == 13 and len(lost) > 100, (new, len(lost))
        else:
            assert new == 12 and not lost, (new, len(lost))
    finally:
        check_stopped(c)


@pytest.mark.parametrize("broken", [False, True], ids=["correct", "ignores-diverging-epochs"])
def test_inconsistency_checker_catches_a_follower_that_never_truncates(tmp_path, kp, broken):
    """Leader 11 takes 5 acks=1 writes only it has and is killed; 12 or 13 leads and takes 10
    acks=all writes; 11 returns. Then the new leader and the other follower stop, so 11 leads.
    The offsets read before (from the new leader) and after (from 11) must hold the same
    values. Broken, 11 kept its own writes under the new leader's: the checker reports every
    offset read with two values."""
    extra = {11: ["kpipe.test.follower.ignores.diverging.epochs=true"]} if broken else {}
    c = start(tmp_path, kp, only=extra)
    try:
        create(c, "diverge", assignment=[[11, 12, 13]])

        def lonely(leader):
            for i in range(5):
                assert produce_one(kp, leader, "diverge", f"lonely{i}", 1)["ErrorCode"] == 0
        old, _, _ = written_then_leader_killed(kp, c, "diverge", 20, lonely)
        assert old == 11
        new = leader_of(kp, c, "diverge", (12, 13))
        for i in range(10):  # one batch each: the broken follower's appends line up
            assert produce_one(kp, c.brokers[new], "diverge", f"n{i}", -1)["ErrorCode"] == 0
        before = read_offsets(c.brokers[new].bootstrap, "diverge", 30)
        c.brokers[11].start()
        wait_isr(kp, c, "diverge", list(BROKER_IDS))
        for b in (12, 13):
            c.brokers[b].stop()
        assert leader_of(kp, c, "diverge", (11,)) == 11
        after = read_offsets(c.brokers[11].bootstrap, "diverge", len(before))
        hist = nemesis.History()
        for source, reads in (("new leader", before), ("old leader", after)):
            for offset, value in reads:
                hist.read(source, 0, offset, value)
        found = nemesis.check(hist, {0: after})
        if broken:
            assert len(found["inconsistent"]) >= 4, found["inconsistent"]
        else:
            assert not found["inconsistent"], found["inconsistent"]
    finally:
        check_stopped(c)
