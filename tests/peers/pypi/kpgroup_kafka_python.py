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
on a failure (the exception on stderr), 2 on bad usage.
"""
import logging
import sys
import threading

import kafka


def main(argv):
    if argv[1:] == ["version"]:
        print(kafka.__version__)
        return 0
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    boot, topic, group = argv[1:]
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
