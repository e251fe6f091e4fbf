"""The flush policy (log.flush.interval.messages, log.flush.interval.ms): fsyncs run on the
flusher thread, never on the event loop; the recovery-point file follows the log end offset;
data survives kill -9."""
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import SLOW, wait_for


def lines(a, b):
    return b"".join(b"rec-%06d\n" % i for i in range(a, b))


def recovery_point(b, topic):
    try:
        return int((Path(b.logdir) / f"{topic}-0" / "recovery-point").read_text())
    except (FileNotFoundError, ValueError):
        return -1


class Strace:
    """strace -f -e trace=fdatasync,fsync -p PID, writing "TID syscall(...)" lines to a file."""

    def __init__(self, pid, tmp_path):
        self.out = tmp_path / f"strace-{pid}.out"
        self.err = tmp_path / f"strace-{pid}.err"
        with open(self.err, "wb") as err:
            self.proc = subprocess.Popen(["strace", "-f", "-e", "trace=fdatasync,fsync",
                                          "-o", str(self.out), "-p", str(pid)],
                                         stdout=subprocess.DEVNULL, stderr=err)
        assert wait_for(lambda: "attached" in self.err.read_text(), 10 * SLOW), \
            self.err.read_text()

    def stop(self):
        """Detach; the TIDs of the traced fsync calls."""
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(10 * SLOW)
        calls = [ln for ln in self.out.read_text().splitlines()
                 if re.match(r"\d+ +f(data)?sync\(", ln)]
        return [int(ln.split()[0]) for ln in calls]


def produce_and_check(b, kp, topic, tmp_path):
    """First record creates the topic; then trace the fsyncs of n more, produced record by
    record-batch, and wait for the recovery point to reach the end offset."""
    n = 300
    kp.produce(b.bootstrap, topic, input=lines(0, 1))
    tr = Strace(b.proc.pid, tmp_path)
    try:
        kp.produce(b.bootstrap, topic, input=lines(1, n))
        assert wait_for(lambda: recovery_point(b, topic) == n, 20 * SLOW), recovery_point(b, topic)
    finally:
        tids = tr.stop()
    assert tids, "no fsync at all while producing"
    assert b.proc.pid not in tids, f"fsync on the event loop thread: {tids}"
    b.kill9()
    b.restart()
    assert kp.consume_all(b.bootstrap, topic) == lines(0, n)
    kp.produce(b.bootstrap, topic, input=lines(n, n + 10))
    assert wait_for(lambda: recovery_point(b, topic) == n + 10, 20 * SLOW)
    assert kp.consume_all(b.bootstrap, topic) == lines(0, n + 10)


@pytest.mark.skipif(not shutil.which("strace"), reason="needs strace")
def test_flush_interval_messages_off_the_loop(broker, kp, topic, tmp_path):
    """log.flush.interval.messages=1: every append asks for a flush; the flusher thread
    fsyncs, the recovery point reaches the end, and kill -9 loses nothing."""
    b = broker("log.flush.interval.messages=1", partitions=1)
    produce_and_check(b, kp, topic, tmp_path)


@pytest.mark.skipif(not shutil.which("strace"), reason="needs strace")
def test_flush_interval_ms_off_the_loop(broker, kp, topic, tmp_path):
    """log.flush.interval.ms=100: the timer asks for flushes; same guarantees."""
    b = broker("log.flush.interval.ms=100", partitions=1)
    produce_and_check(b, kp, topic, tmp_path)


def test_default_policy_does_not_fsync_while_running(broker, kp, topic):
    """Without a policy nothing is flushed before shutdown (Kafka's default): no
    recovery-point file while running; a clean stop writes it."""
    b = broker(partitions=1)
    kp.produce(b.bootstrap, topic, input=lines(0, 50))
    time.sleep(0.3)
    assert recovery_point(b, topic) == -1
    b.stop()
    assert recovery_point(b, topic) == 50
