"""Durability: acknowledged records survive a kill -9 or a clean stop, and offsets continue."""
from pathlib import Path



def lines(a, b, tag=b"line"):
    return b"".join(b"%s-%06d\n" % (tag, i) for i in range(a, b))


def kcat_offsets(kp, bootstrap, topic):
    p = kp.run("kcat", "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-q",
               "-f", "%o\n", timeout=60, check_sanitizer=False)
    assert p.returncode == 0, p.err
    return [int(x) for x in p.stdout.split()]


def test_kill9_keeps_acknowledged_records_and_offsets_continue(broker, kp, topic):
    """Records acknowledged before SIGKILL are all there after restart; new ones follow at N."""
    n, m = 3000, 500
    b = broker(partitions=1)
    kp.produce(b.bootstrap, topic, input=lines(0, n))
    b.kill9()
    b.restart()
    assert kp.consume_all(b.bootstrap, topic) == lines(0, n)

    kp.produce(b.bootstrap, topic, input=lines(n, n + m))
    assert kcat_offsets(kp, b.bootstrap, topic) == list(range(n + m))
    assert kp.consume(b.bootstrap, topic, "-o", str(n), "-e").stdout == lines(n, n + m)
    assert kp.consume_all(b.bootstrap, topic) == lines(0, n + m)


def test_repeated_kill9_across_partitions(broker, kp, topic):
    """Three kill -9 / restart cycles with keyed records in 3 partitions and small segments
    lose nothing, and the log really rolled segments."""
    b = broker("log.segment.bytes=8192", partitions=3)  # many segments per partition
    want = []
    for round_ in range(3):
        data = b"".join(b"k%d:r%d-%d-" % (i % 11, round_, i) + b"p" * 100 + b"\n"
                        for i in range(600))
        kp.produce(b.bootstrap, topic, "-k", ":", input=data)
        want += data.splitlines()
        b.kill9()
        b.restart()
    got = kp.consume_all(b.bootstrap, topic, "-k", ":").splitlines()
    assert sorted(got) == sorted(want)
    segments = list(Path(b.logdir).glob(f"{topic}-*/*.log"))
    assert len(segments) > 3, segments


def test_clean_stop_and_restart(broker, kp, topic):
    """SIGTERM exits 0; after restart the data is there and offsets continue."""
    b = broker()
    kp.produce(b.bootstrap, topic, input=lines(0, 100))
    b.stop()
    b.start()
    kp.produce(b.bootstrap, topic, input=lines(100, 150))
    assert kcat_offsets(kp, b.bootstrap, topic) == list(range(150))
    assert kp.consume_all(b.bootstrap, topic) == lines(0, 150)
