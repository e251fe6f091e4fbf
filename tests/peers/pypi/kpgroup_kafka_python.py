"""kafka-python (the pure-Python client) as one member of a consumer group, for kpipe's tests.

Run with the python of the virtualenv that tests/peers/clients.py makes from requirements.txt
beside this file (kafka-python, exact version):

    kpgroup_kafka_python.py version
    kpgroup_kafka_python.py BOOTSTRAP TOPIC GROUP

version: prints kafka-python's version.
Otherwise: a KafkaConsumer subscribes to TOPIC in GROUP (classic protocol, its default
assignors; auto.offset.reset earliest; auto-commit every 200 ms; heartbeats every 500 ms)
and polls until its standard input reaches end of file (kafka-python's coordinator logs at
INFO on stderr: joins, syncs, assignments, for a test that fails to show); then it closes the consumer, which
commits what it consumed and leaves the group, and exits 0. It prints "A P,P,..." with its
whole assignment each time that changes, and "M PARTITION OFFSET" a record. Exit status 1
on a failure (the exception on stderr), 2 on bad usage. Two races of the client's coordinator
are worked around first (work_around_join_races).
"""
import inspect
import logging
import sys
import textwrap
import threading

import kafka
import kafka.coordinator.base
import kafka.coordinator.consumer


def work_around_join_races():
    """Two races in kafka-python 3.0.12's coordinator, seen against Apache Kafka 4.4 and kbroker
    alike (a group of three under CPU load, about 1 run in 30), fixed here before any consumer
    exists, when the installed version still has them:

    1. BaseCoordinator.join_group_async replaces a join task that finished while no poll()
       waited for it (`self._join_task is None or self._join_task.is_done`): the finished
       JoinGroup+SyncGroup is thrown away and a new JoinGroup sent; a leader's starts another
       rebalance, so generations follow one another with nobody assigned.
    2. A leader's ConsumerCoordinator.need_rejoin() turns False as soon as its assignment
       snapshot is taken inside the join task, before the task's result is used: when the poll
       timer ran out in between, ensure_active_group is never called again, the finished join
       is never applied (no heartbeats, no rejoin) and the session expires.

    The fix: await the task that exists, finished or not; and still need a rejoin while a join
    task is there or a rejoin is under way."""
    base, consumer = kafka.coordinator.base, kafka.coordinator.consumer
    src = textwrap.dedent(inspect.getsource(base.BaseCoordinator.join_group_async))
    racy = "if self._join_task is None or self._join_task.is_done:"
    if racy not in src:
        return
    ns = {}
    exec(compile(src.replace(racy, "if self._join_task is None:"), base.__file__, "exec"),
         base.__dict__, ns)
    base.BaseCoordinator.join_group_async = ns["join_group_async"]
    need = consumer.ConsumerCoordinator.need_rejoin
    consumer.ConsumerCoordinator.need_rejoin = \
        lambda self: self.rejoining or self._join_task is not None or need(self)



def main(argv):
    if argv[1:] == ["version"]:
        print(kafka.__version__)
        return 0
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    boot, topic, group = argv[1:]
    work_around_join_races()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("kafka.coordinator").setLevel(logging.INFO)
    consumer = kafka.KafkaConsumer(
        bootstrap_servers=boot, group_id=group, client_id="kpipe-kafka-python",
        auto_offset_reset="earliest", enable_auto_commit=True, auto_commit_interval_ms=200,
        session_timeout_ms=10000, heartbeat_interval_ms=500, fetch_max_wait_ms=200)
    current = set()

    def report():
        print("A " + ",".join(map(str, sorted(current))), flush=True)

    class Listener(kafka.ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            current.difference_update(tp.partition for tp in revoked)
            report()

        def on_partitions_assigned(self, assigned):
            current.update(tp.partition for tp in assigned)
            report()

    consumer.subscribe([topic], listener=Listener())
    stop = threading.Event()

    def wait_eof():
        sys.stdin.buffer.read()
        stop.set()

    threading.Thread(target=wait_eof, daemon=True).start()
    while not stop.is_set():
        polled = consumer.poll(timeout_ms=200)
        lines = [f"M {tp.partition} {r.offset}" for tp, recs in polled.items() for r in recs]
        if lines:
            print("\n".join(lines), flush=True)
    consumer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
