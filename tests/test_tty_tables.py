"""The admin programs' two faces (cmd/common_out.h): with standard output a terminal (a pty
here) an aligned table under a header line, strings left-aligned and numbers right-aligned,
columns two spaces apart, no trailing blanks; with standard output a pipe the same rows as
tab-separated lines without a header, for cut and awk. Checked on ktopics describe and list,
kgroups describe and list, against kbroker and Apache Kafka."""
import os
import pty
import re
import subprocess

from conftest import BIN, SLOW, create_topic, sanitizer_report
from test_kgroups import commit

TOPIC_COLS = ["TOPIC", "PARTITION", "LEADER", "REPLICAS", "ISR", "OFFLINE", "LOG-START-OFFSET",
              "LOG-END-OFFSET"]
TOPIC_NUMERIC = {"PARTITION", "LEADER", "LOG-START-OFFSET", "LOG-END-OFFSET"}
OFFSET_COLS = ["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG",
               "CONSUMER-ID", "HOST", "CLIENT-ID"]
OFFSET_NUMERIC = {"PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG"}
LIST_COLS = ["GROUP", "TYPE", "STATE", "PROTOCOL-TYPE"]


def on_tty(prog, *args):
    """Run PROG ARGS with standard output on a pty: (exit status, output with \\r\\n as \\n)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([str(BIN / prog), *map(str, args)], stdin=subprocess.DEVNULL,
                         stdout=slave, stderr=subprocess.PIPE)
    os.close(slave)
    out = bytearray()
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the program exited and closed the pty
            break
        if not chunk:
            break
        out += chunk
    rc = p.wait(60 * SLOW)
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    os.close(master)
    assert not sanitizer_report(err), err
    return rc, out.decode().replace("\r\n", "\n"), err


def on_pipe(kp, prog, *args):
    p = kp.run(prog, *args)
    assert p.returncode == 0, p.err
    return p.stdout.decode()


def aligned(text, titles, numeric):
    """Check `text` is an aligned table with header `titles`: every string cell starts under
    its title, every number ends at its column's right edge (the wider of its title and its
    widest cell), columns two spaces apart or more, no trailing blanks. Returns the rows, split
    into cells (cells hold no blanks here)."""
    lines = text.split("\n")
    assert lines[-1] == "" and lines[0].split() == titles, text
    lines = lines[:-1]
    assert all(line == line.rstrip() for line in lines), f"trailing blanks:\n{text}"
    starts = [m.start() for m in re.finditer(r"\S+", lines[0])]
    rows = [line.split() for line in lines[1:]]
    assert rows and all(len(r) == len(titles) for r in rows), text
    for c, title in enumerate(titles):
        width = max([len(title)] + [len(r[c]) for r in rows])
        if c + 1 < len(titles):
            assert starts[c + 1] - starts[c] >= width + 2, f"column {title} too narrow:\n{text}"
        for line, r in zip(lines[1:], rows):
            spans = [(m.start(), m.end()) for m in re.finditer(r"\S+", line)]
            begin, end = spans[c]
            if title in numeric:
                assert end == starts[c] + width, f"{title} not right-aligned:\n{text}"
            else:
                assert begin == starts[c], f"{title} not under its title:\n{text}"
    return rows


def tab_separated(text, ncols):
    """The lines of `text` split at tabs, each with ncols cells (no header)."""
    rows = [line.split("\t") for line in text.splitlines()]
    assert all(len(r) == ncols for r in rows), text
    return rows


def test_ktopics_describe_and_list_on_a_terminal_and_a_pipe(target, kp, topic):
    """ktopics describe: a header and aligned partition rows on a terminal; on a pipe the same
    rows tab-separated, no header. ktopics list: its one column, with the header on a terminal
only."""
    b = target()
    create_topic(b.bootstrap, topic, 3)
    kp.produce(b.bootstrap, topic, "-p", "1", input=b"".join(b"r%d\n" % i for i in range(1234)))
    rc, text, err = on_tty("ktopics", "describe", "-b", b.bootstrap, topic)
    assert rc == 0, err
    rows = aligned(text, TOPIC_COLS, TOPIC_NUMERIC)
    assert [(r[0], r[1], r[7]) for r in rows] == [(topic, "0", "0"), (topic, "1", "1234"),
                                                  (topic, "2", "0")], text
    piped = tab_separated(on_pipe(kp, "ktopics", "describe", "-b", b.bootstrap, topic),
                          len(TOPIC_COLS))
    assert piped == rows  # the same cells ("-" for none), no header
    rc, text, err = on_tty("ktopics", "list", "-b", b.bootstrap, topic)
    assert rc == 0 and aligned(text, ["TOPIC"], set()) == [[topic]], (text, err)
    assert on_pipe(kp, "ktopics", "list", "-b", b.bootstrap, topic) == f"{topic}\n"


def test_kgroups_describe_and_list_on_a_terminal_and_a_pipe(target, kp, topic):
    """kgroups describe: on a terminal the offsets table with its header, aligned, then a
    blank line and a summary line per group; on a pipe the same rows tab-separated, nothing
    else. kgroups list: the same, with its own columns."""
    b = target()
    group = f"{topic}-readers"
    create_topic(b.bootstrap, topic, 2)
    kp.produce(b.bootstrap, topic, "-p", "0", input=b"".join(b"r%d\n" % i for i in range(150)))
    kp.produce(b.bootstrap, topic, "-p", "1", input=b"x\n" * 7)
    commit(b, group, topic, {0: 100, 1: 7})
    rc, text, err = on_tty("kgroups", "describe", "-b", b.bootstrap, group)
    assert rc == 0, err
    table, summary = text.split("\n\n")
    rows = aligned(table + "\n", OFFSET_COLS, OFFSET_NUMERIC)
    assert [r[:6] for r in rows] == [[group, topic, "0", "100", "150", "50"],
                                     [group, topic, "1", "7", "7", "0"]], text
    assert summary == f"group {group}: Empty, 0 members, total lag 50\n", text
    piped = on_pipe(kp, "kgroups", "describe", "-b", b.bootstrap, group)
    assert tab_separated(piped, len(OFFSET_COLS)) == rows, piped  # no header, no summary
    rc, text, err = on_tty("kgroups", "list", "-b", b.bootstrap)
    assert rc == 0, err
    rows = [r for r in aligned(text, LIST_COLS, set()) if r[0] == group]
    assert rows == [[group, "classic", "Empty", "-"]], text  # no protocol type: never joined
    piped = tab_separated(on_pipe(kp, "kgroups", "list", "-b", b.bootstrap), len(LIST_COLS))
    assert [r for r in piped if r[0] == group] == rows
