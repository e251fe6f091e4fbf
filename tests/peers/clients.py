"""Reference clients for the interoperability tests, built or installed once into the cache.

Everything lives under the same cache root as the Apache Kafka peer
(kafka_peer.CACHE: $KP_PEER_CACHE, default ~/.cache/kpipe-peers), outside the
repository, under a directory named by a hash of what it is built from, so a
second run neither downloads nor rebuilds anything and an edit rebuilds:

  java-clients/HASH/classes   tests/peers/java/*.java compiled with javac against the
                              cached Kafka jars (kafka-clients and Jackson come from there)
  franz/HASH/kpfranz          tests/peers/franz (franz-go, versions pinned by its go.mod
                              and go.sum) built with `go build`; the Go module and build
                              caches are go/mod and go/build beside it
  pypi/HASH/venv              a virtualenv with tests/peers/pypi/requirements.txt
                              (confluent-kafka from PyPI, exact version, wheels only;
                              kafka-python too, for tests/peers/pypi/kpgroup_kafka_python.py)

A directory is complete when its .complete file exists; concurrent builders
wait for one another on a lock file. Failures raise kafka_peer.PeerError with
the tool's output.

All three programs speak the same JSON-lines record format (tests/peers/java/Rec.java):
byte strings (keys, values, header values) are JSON strings of ISO-8859-1
characters, one a byte, or null; header keys are plain strings. `record_line`
and `parse_records` convert to and from Python.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import kafka_peer
from kafka_peer import CACHE, PeerError

HERE = Path(__file__).resolve().parent
JAVA_SRC = HERE / "java"
FRANZ_SRC = HERE / "franz"
PYPI_SRC = HERE / "pypi"

JAVA_HEAP = "256m"


def _hash(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def _files_hash(files, *extra):
    parts = []
    for f in sorted(files):
        parts += [f.name, f.read_bytes()]
    return _hash(*parts, *extra)


def _run(cmd, what, timeout, **kw):
    try:
        p = subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        raise PeerError(f"{what}: did not finish in {timeout} s") from None
    except OSError as e:
        raise PeerError(f"{what}: {e}") from None
    if p.returncode != 0:
        raise PeerError(f"{what} failed (exit {p.returncode}):\n"
                        f"{p.stdout.decode(errors='replace')[-4000:]}")
    return p


def _build_once(d, build):
    """Run build(tmpdir) unless d is complete; build writes into tmpdir, renamed to d."""
    done = d / ".complete"
    if done.exists():
        return d
    with kafka_peer._locked(d.parent / f".{d.name}.lock"):
        if done.exists():
            return d
        tmp = d.parent / f"{d.name}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        build(tmp)
        (tmp / ".complete").write_text("ok\n")
        shutil.rmtree(d, ignore_errors=True)
        tmp.rename(d)
    return d


# ---------------------------------------------------------------- Java


def java_classes():
    """The compiled tests/peers/java programs (a directory for the classpath)."""
    libs = kafka_peer.fetch()
    srcs = list(JAVA_SRC.glob("*.java"))
    d = CACHE / "java-clients" / _files_hash(srcs, kafka_peer.kafka_version())
    javac = shutil.which("javac")

    def build(tmp):
        if not javac:
            raise PeerError("javac is not installed (bash share/install-deps.sh installs a JDK)")
        _run([javac, "-nowarn", "-encoding", "UTF-8", "-d", tmp / "classes",
              "-cp", f"{libs}/*", *srcs], "javac tests/peers/java", 300)

    return _build_once(d, build) / "classes"


def java_cmd(main_class, *args):
    """argv running one of our Java programs with the Kafka jars, heap bounded."""
    cp = f"{java_classes()}{os.pathsep}{kafka_peer.libs_dir()}/*"
    return [kafka_peer.JAVA, f"-Xmx{JAVA_HEAP}", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", cp, main_class,
            *map(str, args)]


def tool_cmd(main_class, *args):
    """argv running one of Kafka's own command-line tools from the cached jars."""
    return kafka_peer.java_cmd(main_class, *args, heap=JAVA_HEAP)


# ---------------------------------------------------------------- franz-go


def _go_env():
    env = dict(os.environ)
    env.update(GOMODCACHE=str(CACHE / "go" / "mod"), GOCACHE=str(CACHE / "go" / "build"),
               GOFLAGS="-mod=readonly -modcacherw", GOTOOLCHAIN="local", CGO_ENABLED="0")
    return env


def franz_binary():
    """The built tests/peers/franz program (kpfranz)."""
    go = shutil.which("go")
    srcs = [FRANZ_SRC / "main.go", FRANZ_SRC / "go.mod", FRANZ_SRC / "go.sum"]
    if not go:
        raise PeerError("go is not installed (bash share/install-deps.sh installs golang-go)")
    # The Go version is part of the key: a new toolchain rebuilds.
    ver = _run([go, "env", "GOVERSION"], "go env", 60, env=_go_env()).stdout.decode().strip()
    d = CACHE / "franz" / _files_hash(srcs, ver)

    def build(tmp):
        _run([go, "build", "-trimpath", "-o", tmp / "kpfranz", "."], "go build tests/peers/franz",
             600, cwd=FRANZ_SRC, env=_go_env())

    return _build_once(d, build) / "kpfranz"


# ---------------------------------------------------------------- PyPI confluent-kafka


def pypi_python():
    """The python of a virtualenv holding tests/peers/pypi/requirements.txt."""
    req = PYPI_SRC / "requirements.txt"
    py = sys.executable or "python3"
    ver = f"{sys.version_info.major}.{sys.version_info.minor}"
    d = CACHE / "pypi" / _files_hash([req], ver)

    def build(tmp):
        _run([py, "-m", "venv", tmp / "venv"], "python3 -m venv (bash share/install-deps.sh "
             "installs python3-venv)", 300)
        # Renamed into place afterwards: fine for venv/bin/python (all that is used here),
        # not for the #! lines of the venv's scripts (pip etc.), which keep the .tmp path.
        _run([tmp / "venv" / "bin" / "python", "-m", "pip", "install", "--no-input",
              "--disable-pip-version-check", "--only-binary", ":all:", "-r", req],
             "pip install tests/peers/pypi/requirements.txt", 600)

    return _build_once(d, build) / "venv" / "bin" / "python"


# ---------------------------------------------------------------- records


def _latin1(b):
    return None if b is None else bytes(b).decode("latin-1")


def _bytes(s):
    return None if s is None else s.encode("latin-1")


def record_line(key, value, headers=(), partition=None):
    """One input line for the producers: bytes (or None) key and value, headers
    [(str, bytes or None)], optional partition."""
    d = {"k": _latin1(key), "v": _latin1(value), "h": [[k, _latin1(v)] for k, v in headers]}
    if partition is not None:
        d["p"] = partition
    return json.dumps(d)


def records_input(records):
    """stdin for the producers from records [(key, value, headers)] or with a 4th partition."""
    return ("".join(record_line(*r) + "\n" for r in records)).encode()


def parse_lines(out):
    """JSON lines (bytes) -> list. Split on \\n only: str.splitlines would also split at
    U+0085, U+001C..U+001E, which a byte string written as ISO-8859-1 characters may hold."""
    return [json.loads(line) for line in out.decode().split("\n") if line.strip()]


def parse_records(out):
    """Consumer output -> (meta or None, [(partition, offset, key, value, headers)])."""
    rows = parse_lines(out)
    meta = rows.pop(0) if rows and "ends" in rows[0] else None
    recs = [(r["p"], r["o"], _bytes(r["k"]), _bytes(r["v"]),
             [(k, _bytes(v)) for k, v in r["h"]]) for r in rows]
    return meta, recs


def sample_records(n, tag, null_headers=True):
    """n records [(key, value, headers)] covering the edge cases: null keys, null and empty
    values, every byte value, null and empty header values, non-ASCII header keys. Header
    "seq" is the record's index; tag (str) is in each value and in header "client".
    null_headers=False leaves out the null header values, which Debian's confluent-kafka 1.7
    cannot read (a reference-count bug: "Fatal Python error: none_dealloc" at exit)."""
    out = []
    t = tag.encode()
    for i in range(n):
        key = None if i % 10 == 0 else b"key-%d" % (i % 37)
        if i % 50 == 7:
            value = None
        elif i % 41 == 5:
            value = b""
        elif i % 97 == 3:
            value = bytes(range(256)) * 4
        else:
            value = b"%s-%d-" % (t, i) + b"x" * (i % 100)
        headers = [("seq", str(i).encode()), ("client", t)]
        if i % 7 == 0 and null_headers:
            headers.append(("null", None))
        if i % 11 == 0:
            headers.append(("\u043a\u043b\u044e\u0447", "\u0437\u043d\u0430\u0447".encode()))
        if i % 13 == 0:
            headers.append(("empty", b""))
        out.append((key, value, headers))
    return out


def check_round_trip(records, delivered, meta, got, partitions):
    """Assert that consumer output (meta, got) from parse_records is exactly records
    [(key, value, headers)] at the positions delivered ({"p", "o"} a record, from a producer),
    with offsets 0..n-1 in order in each of range(partitions) and input order kept per
    partition."""
    assert len(delivered) == len(records), f"{len(delivered)} delivery reports for {len(records)}"
    assert meta is not None, "no starts/ends line"
    assert sorted(meta["ends"]) == sorted(str(p) for p in range(partitions))
    by_pos = {}
    per_part = {p: [] for p in range(partitions)}
    for p, o, k, v, h in got:
        assert (p, o) not in by_pos, f"offset {p}/{o} read twice"
        by_pos[(p, o)] = (k, v, h)
        per_part[p].append(o)
    for p, offs in per_part.items():
        assert offs == list(range(len(offs))), f"partition {p}: offsets {offs[:20]}... not 0..n-1"
        assert meta["starts"][str(p)] == 0 and meta["ends"][str(p)] == len(offs), \
            f"partition {p}: start/end {meta['starts'][str(p)]}/{meta['ends'][str(p)]}, read {len(offs)}"
    assert len(got) == len(records), f"read {len(got)} records, wrote {len(records)}"
    last = {}
    for i, (rec, d) in enumerate(zip(records, delivered)):
        pos = (d["p"], d["o"])
        assert pos in by_pos, f"record {i} delivered at {pos} but not read there"
        assert by_pos[pos] == tuple(rec), f"record {i} at {pos}: read {by_pos[pos]!r:.300}, " \
                                          f"wrote {tuple(rec)!r:.300}"
        assert d["o"] > last.get(d["p"], -1), f"record {i}: partition {d['p']} out of input order"
        last[d["p"]] = d["o"]
    keyed = {}
    for rec, d in zip(records, delivered):
        if rec[0] is not None:
            assert keyed.setdefault(rec[0], d["p"]) == d["p"], f"key {rec[0]!r} in two partitions"


class MissingApi(Exception):
    """A tool failed because the broker lacks an API (the xfail(raises=MissingApi) cause)."""


def run(cmd, what, input=b"", timeout=60):
    """Run cmd; a CompletedProcess with .out and .err as text. Fails the test on timeout."""
    import pytest
    try:
        p = subprocess.run([str(c) for c in cmd], input=input, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{what} did not finish in {timeout} s; stderr: {e.stderr!r:.3000}")
    p.out = p.stdout.decode(errors="replace")
    p.err = p.stderr.decode(errors="replace")
    return p


def ok(p, what, missing_api=None):
    """Assert p exited 0. If not and its output names missing_api (e.g. "DESCRIBE_CONFIGS",
    as the Java client words "The node does not support DESCRIBE_CONFIGS"), raise MissingApi."""
    text = p.out + p.err
    if missing_api and f"does not support {missing_api}" in text:
        raise MissingApi(f"{what}: the broker does not support {missing_api}:\n{text[-2000:]}")
    assert p.returncode == 0, f"{what} exited {p.returncode}:\n{text[-4000:]}"
    return p


def xfail_on_kbroker(reason):
    """Parametrize the target fixture so that the kbroker run is an expected failure, strict and
    only by MissingApi (any other failure is a real one), and the Apache Kafka run must pass."""
    import pytest
    return pytest.mark.parametrize("target", [
        pytest.param("kbroker", marks=pytest.mark.xfail(strict=True, raises=MissingApi,
                                                        reason=reason)),
        "kafka"], indirect=True)


def confluent_cmd(python, bootstrap, *args):
    """argv running tests/peers/pypi/kpconfluent.py with python (the PyPI venv's, or the
    system's, which has Debian's python3-confluent-kafka)."""
    return [python, PYPI_SRC / "kpconfluent.py", bootstrap, *map(str, args)]
