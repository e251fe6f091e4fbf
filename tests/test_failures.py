"""Failure paths: corrupt segments, corrupt and oversized produce requests, missing topics,
acks, install, ApiVersions negotiation and clients that vanish mid-frame.

The raw-socket tests speak the wire protocol from Python: request header v1, the body, and
a record batch v2 whose CRC-32C is computed here (crc32c below)."""
import os
import re
import socket
import struct
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ASAN, BUILD, ROOT, SLOW, wait_for


def lines(a, b, tag=b"rec"):
    return b"".join(b"%s-%05d\n" % (tag, i) for i in range(a, b))


def kcat(kp, bootstrap, topic, fmt="%o\n"):
    p = kp.run("kcat", "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-q",
               "-f", fmt, timeout=60, check_sanitizer=False)
    assert p.returncode == 0, p.err
    return p.stdout


def kcat_offsets(kp, bootstrap, topic):
    return [int(x) for x in kcat(kp, bootstrap, topic).split()]


def error_lines(stderr):
    """The broker's log lines at level ERROR ("<timestamp> error  kbroker: ...")."""
    return [ln for ln in stderr.splitlines() if re.match(r"\S+ error ", ln)]


# ---------------------------------------------------------------- wire encoding


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC32C[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def varint(n):
    """Zigzag varint (the record format's ints and longs)."""
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        if z < 0x80:
            out.append(z)
            return bytes(out)
        out.append((z & 0x7F) | 0x80)
        z >>= 7


def kstr(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def record_batch(values, ts=None, attributes=0):
    """One RecordBatch v2 (base offset 0) holding `values` uncompressed, null keys, with the
    given attributes (codec bits, control bit: set them only to test rejections)."""
    ts = int(time.time() * 1000) if ts is None else ts
    recs = b""
    for i, v in enumerate(values):
        body = b"\0" + varint(0) + varint(i) + varint(-1) + varint(len(v)) + v + varint(0)
        recs += varint(len(body)) + body
    after_crc = struct.pack(">hiqqqhii", attributes, len(values) - 1, ts, ts, -1, -1, -1,
                            len(values)) + recs
    crc = crc32c(after_crc)
    return struct.pack(">qiibI", 0, 4 + 1 + 4 + len(after_crc), -1, 2, crc) + after_crc


def request(api_key, version, corr, body, client_id="test-failures", flexible=False):
    hdr = struct.pack(">hhi", api_key, version, corr) + kstr(client_id) + (b"\0" if flexible else b"")
    msg = hdr + body
    return struct.pack(">i", len(msg)) + msg


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"connection closed after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return v if len(v) > 1 else v[0]

    def string(self):
        n = self.take(">h")
        s = self.data[self.pos:self.pos + n].decode()
        self.pos += n
        return s


def call(sock, api_key, version, corr, body, flexible=False):
    """Send one request and return a Reader over the response body (after the v0 header)."""
    sock.sendall(request(api_key, version, corr, body, flexible=flexible))
    size = struct.unpack(">i", recv_exact(sock, 4))[0]
    r = Reader(recv_exact(sock, size))
    assert r.take(">i") == corr
    return r


def produce_v3(sock, corr, topic, records, partition=0):
    """Produce v3 (acks=-1); returns (error_code, base_offset) of the one partition."""
    body = (struct.pack(">hhi", -1, -1, 10000) + struct.pack(">i", 1) + kstr(topic) +
            struct.pack(">i", 1) + struct.pack(">ii", partition, len(records)) + records)
    r = call(sock, 0, 3, corr, body)
    assert r.take(">i") == 1
    assert r.string() == topic
    assert r.take(">i") == 1
    index, code, base, _append_time = r.take(">ihqq")
    assert index == partition
    return code, base


def list_offsets_latest(sock, corr, topic, partition=0):
    """ListOffsets v1 at timestamp -1: (error_code, log end offset)."""
    body = (struct.pack(">i", -1) + struct.pack(">i", 1) + kstr(topic) +
            struct.pack(">i", 1) + struct.pack(">iq", partition, -1))
    r = call(sock, 2, 1, corr, body)
    assert r.take(">i") == 1
    assert r.string() == topic
    assert r.take(">i") == 1
    index, code, _ts, offset = r.take(">ihqq")
    assert index == partition
    return code, offset


def api_versions_v0(r):
    """(error_code, {api_key: (min, max)}) from an ApiVersions v0 body."""
    code = r.take(">h")
    keys = {}
    for _ in range(r.take(">i")):
        k, lo, hi = r.take(">hhh")
        keys[k] = (lo, hi)
    return code, keys


# ---------------------------------------------------------------- 1. corrupt segments


def segment_batches(path):
    """[(position, total size)] of the batches in a .log file."""
    data = Path(path).read_bytes()
    out, pos = [], 0
    while pos + 12 <= len(data):
        total = 12 + struct.unpack_from(">i", data, pos + 8)[0]
        out.append((pos, total))
        pos += total
    assert pos == len(data), f"{path}: {len(data) - pos} trailing bytes before the test touched it"
    return out


def produce_batches(kp, b, topic, nbatches, per_batch):
    """One kproduce run per batch, so each run's lines are one batch on disk."""
    for k in range(nbatches):
        kp.produce(b.bootstrap, topic, "-p", "0",
                   input=lines(k * per_batch, (k + 1) * per_batch))


def assert_truncation_logged(b, topic):
    pat = re.compile(r"\S+ warn .*%s-0/0+\.log: truncating \d+ bytes at position \d+"
                     % re.escape(topic))
    ok = wait_for(lambda: pat.search(b.stderr), 5 * SLOW)
    assert ok, f"no WARN line about truncating {topic}-0:\n{b.stderr[-3000:]}"


def test_corrupt_last_batch_is_truncated_on_recovery(broker, kp, topic):
    """A flipped byte inside the last batch's records fails its CRC on restart: the broker
    logs the truncation at WARN, serves exactly the earlier batches, and new records
    continue at the truncated end offset."""
    b = broker(partitions=1)
    produce_batches(kp, b, topic, 4, 25)
    b.kill9()
    seg = Path(b.logdir) / f"{topic}-0" / ("0" * 20 + ".log")
    batches = segment_batches(seg)
    assert len(batches) == 4, batches
    pos, total = batches[-1]
    data = bytearray(seg.read_bytes())
    data[pos + 61 + (total - 61) // 2] ^= 0x20  # inside the records, covered by the CRC
    seg.write_bytes(bytes(data))

    b.restart()
    assert_truncation_logged(b, topic)
    assert "crc" in b.stderr.lower(), b.stderr[-2000:]
    assert kp.consume_all(b.bootstrap, topic) == lines(0, 75)
    assert seg.stat().st_size == pos
    kp.produce(b.bootstrap, topic, input=lines(1000, 1010, b"new"))
    assert kcat_offsets(kp, b.bootstrap, topic) == list(range(85))
    assert kp.consume(b.bootstrap, topic, "-o", "75", "-e").stdout == lines(1000, 1010, b"new")
    assert not error_lines(b.stderr), b.stderr[-3000:]


@pytest.mark.parametrize("tail", ["half-batch", "garbage"])
def test_torn_tail_is_truncated_on_recovery(broker, kp, topic, tail):
    """A torn write (the first half of another batch, or random bytes) after the last good
    batch is cut on restart and logged; no acknowledged record is lost and offsets go on."""
    b = broker(partitions=1)
    produce_batches(kp, b, topic, 3, 20)
    b.kill9()
    seg = Path(b.logdir) / f"{topic}-0" / ("0" * 20 + ".log")
    batches = segment_batches(seg)
    good = seg.stat().st_size
    if tail == "half-batch":
        pos, total = batches[-1]
        torn = bytearray(seg.read_bytes()[pos:pos + total])
        torn[0:8] = struct.pack(">q", 60)
        torn = bytes(torn[:total // 2])
    else:
        torn = bytes((i * 151 + 7) % 256 for i in range(300))
    with open(seg, "ab") as f:
        f.write(torn)

    b.restart()
    assert_truncation_logged(b, topic)
    assert seg.stat().st_size == good
    assert kp.consume_all(b.bootstrap, topic) == lines(0, 60)
    kp.produce(b.bootstrap, topic, input=lines(500, 505, b"new"))
    assert kcat_offsets(kp, b.bootstrap, topic) == list(range(65))
    assert kp.consume_all(b.bootstrap, topic) == lines(0, 60) + lines(500, 505, b"new")


def test_deleted_index_files_are_rebuilt(broker, kp, topic):
    """With every .index file deleted (several segments, recovery point at the end so the
    indexes would otherwise be trusted), all data is readable after a kill -9 and restart,
    reads from the middle find their offset, and appends continue."""
    b = broker("log.segment.bytes=65536", "log.index.interval.bytes=1024",
               "log.flush.interval.messages=1", partitions=1)
    data = b"".join(b"r%05d-" % i + b"i" * 90 + b"\n" for i in range(3000))
    kp.produce(b.bootstrap, topic, "-X", "batch.size=4096", input=data)
    b.kill9()
    pdir = Path(b.logdir) / f"{topic}-0"
    indexes = sorted(pdir.glob("*.index"))
    assert len(indexes) >= 3, indexes
    assert any(p.stat().st_size > 0 for p in indexes), "no index entries to lose"
    for p in indexes:
        p.unlink()

    b.restart()
    assert kp.consume_all(b.bootstrap, topic) == data
    want = data.splitlines(keepends=True)
    for off in (1234, 2999):
        got = kp.consume(b.bootstrap, topic, "-o", str(off), "-c", "1").stdout
        assert got == want[off], (off, got[:20])
    kp.produce(b.bootstrap, topic, input=lines(0, 5, b"new"))
    assert kcat_offsets(kp, b.bootstrap, topic)[-6:] == list(range(2999, 3005))
    assert not error_lines(b.stderr), b.stderr[-3000:]


# ---------------------------------------------------------------- 2. CORRUPT_MESSAGE


def test_produce_with_bad_crc_is_corrupt_message(broker, kp, topic):
    """A Produce v3 batch whose CRC-32C does not match gets CORRUPT_MESSAGE (2) and appends
    nothing; the same batch with its CRC intact is then accepted on the same connection."""
    b = broker(partitions=1)
    kp.produce(b.bootstrap, topic, input=b"seed\n")
    values = [b"value-%d" % i for i in range(5)]
    good = record_batch(values)
    bad = bytearray(good)
    bad[good.index(b"value-3") + 2] ^= 0x01  # "value-3" -> "vamue-3", CRC unchanged
    with socket.create_connection(("127.0.0.1", b.port), timeout=10 * SLOW) as s:
        assert list_offsets_latest(s, 1, topic) == (0, 1)
        assert produce_v3(s, 2, topic, bytes(bad)) == (2, -1)
        assert list_offsets_latest(s, 3, topic) == (0, 1)
        assert produce_v3(s, 4, topic, good) == (0, 1)
        assert list_offsets_latest(s, 5, topic) == (0, 6)
    assert kp.consume_all(b.bootstrap, topic) == b"seed\n" + b"".join(v + b"\n" for v in values)
    assert not error_lines(b.stderr), b.stderr[-3000:]


@pytest.mark.parametrize("attributes,code", [
    (7, 76),     # compression codec 7: UNSUPPORTED_COMPRESSION_TYPE
    (0x20, 2),   # a control batch from a client: CORRUPT_MESSAGE before Produce v8
])
def test_produce_refuses_batches_the_log_must_not_hold(broker, kp, topic, attributes, code):
    """A batch with a valid CRC but an unknown codec, or a control batch (only the transaction
    coordinator writes those), is refused before it reaches the log, so no consumer ever
    meets it; the connection stays usable and a plain batch is then accepted."""
    b = broker(partitions=1)
    kp.produce(b.bootstrap, topic, input=b"seed\n")
    values = [b"v-%d" % i for i in range(3)]
    with socket.create_connection(("127.0.0.1", b.port), timeout=10 * SLOW) as s:
        assert produce_v3(s, 1, topic, record_batch(values, attributes=attributes)) == (code, -1)
        assert list_offsets_latest(s, 2, topic) == (0, 1)
        assert produce_v3(s, 3, topic, record_batch(values)) == (0, 1)
    assert kp.consume_all(b.bootstrap, topic) == b"seed\n" + b"".join(v + b"\n" for v in values)


# ---------------------------------------------------------------- 3. MESSAGE_TOO_LARGE


def test_record_over_message_max_bytes(broker, kp, topic):
    """A line larger than message.max.bytes makes kproduce exit 1 naming MESSAGE_TOO_LARGE
    and that line, even when it shares a batch with smaller lines: the lines before it are
    written (kproduce(1)), it and the lines after it are not; smaller records still go."""
    b = broker("message.max.bytes=10000", partitions=1)
    data = lines(1, 4) + b"x" * 20000 + b"\n" + lines(5, 7)
    p = kp.produce(b.bootstrap, topic, input=data, ok=False)
    assert p.returncode == 1, p.err
    assert "MESSAGE_TOO_LARGE" in p.err, p.err
    assert re.search(r"\bline 4\b", p.err), p.err
    assert p.err.startswith("kproduce: "), p.err
    assert kp.consume_all(b.bootstrap, topic) == lines(1, 4)

    fits = b"y" * 9000 + b"\n"
    kp.produce(b.bootstrap, topic, input=lines(10, 20) + fits)
    assert kp.consume_all(b.bootstrap, topic) == lines(1, 4) + lines(10, 20) + fits
    assert b.running


# ---------------------------------------------------------------- 4. auto-create off


@pytest.mark.parametrize("prog", ["kproduce", "kconsume"])
def test_missing_topic_without_auto_create(broker, kp, topic, prog):
    """With auto.create.topics.enable=false, a missing topic fails fast with exit 1 and a
    message naming the topic and UNKNOWN_TOPIC_OR_PARTITION; nothing is created."""
    b = broker("auto.create.topics.enable=false")
    t0 = time.monotonic()
    if prog == "kproduce":
        p = kp.produce(b.bootstrap, topic, input=b"x\n", ok=False, timeout=30)
    else:
        p = kp.consume(b.bootstrap, topic, "-o", "beginning", "-e", ok=False, timeout=30)
    elapsed = time.monotonic() - t0
    assert p.returncode == 1, (p.returncode, p.err)
    assert elapsed < 10 * SLOW, f"took {elapsed:.1f} s"
    assert p.err.startswith(f"{prog}: "), p.err
    assert topic in p.err and "UNKNOWN_TOPIC_OR_PARTITION" in p.err, p.err
    assert p.stdout == b""
    assert not list(Path(b.logdir).glob(f"{topic}-*")), os.listdir(b.logdir)


# ---------------------------------------------------------------- 5. acks


@pytest.mark.parametrize("acks", ["0", "1", "all"])
def test_every_acks_setting_delivers(broker, kp, topic, acks):
    """--acks 0, 1 and all each deliver every record, across several requests."""
    b = broker(partitions=2)
    data = lines(0, 3000)
    kp.produce(b.bootstrap, topic, "--acks", acks, "-X", "batch.size=8192", input=data)
    if acks == "0":  # success only means written: wait until the broker has appended all
        wait_for(lambda: len(kcat_offsets(kp, b.bootstrap, topic)) >= 3000, 10 * SLOW, 0.2)
    got = kp.consume_all(b.bootstrap, topic)
    assert sorted(got.splitlines()) == data.splitlines()


def test_acks_2_is_usage_error(kp):
    p = kp.run("kproduce", "-t", "t", "--acks", "2", input=b"x\n", timeout=15)
    assert p.returncode == 2, (p.returncode, p.err)
    assert "usage: kproduce " in p.err, p.err
    assert p.stdout == b""


# ---------------------------------------------------------------- 6. install


PC_PROGRAM = r"""
#include <stdio.h>
#include <string.h>
#include <record/records.h>

int main(void)
{
	struct kp_record rec = { .key_len = -1, .value = (const unsigned char *)"hello", .value_len = 5 };
	kp_batch_builder *b = kp_batch_builder_new(KP_COMPRESSION_SNAPPY, -1, -1, NULL);
	kp_record_iter *it;
	kp_buf out;
	kp_error err;

	kp_buf_init(&out);
	if (!b || kp_batch_builder_add(b, &rec, &err) < 0 || kp_batch_builder_finish(b, -1, &out, &err) < 0)
		return 1;
	it = kp_record_iter_new(out.data, out.len, 0);
	if (!it || kp_record_iter_next(it, &rec, &err) != 1)
		return 1;
	printf("%.*s %08x\n", (int)rec.value_len, rec.value, kp_crc32c(0, "123456789", 9));
	kp_record_iter_free(it);
	kp_batch_builder_free(b);
	kp_buf_free(&out);
	return 0;
}
"""


def test_make_install(tmp_path, bin_dir):
    """make install PREFIX=/usr DESTDIR=... from the build under test (-o all: nothing is
    rebuilt) installs programs, libraries, headers, kpipe.pc and every man page; the .pc
    file gives -lkpipe, and a program linked statically with its flags works."""
    dest = tmp_path / "stage"
    cmd = ["make", "-s", "-C", str(ROOT), "install", "-o", "all", "PREFIX=/usr",
           f"DESTDIR={dest}", f"BUILD={BUILD}"] + (["SANITIZE=1"] if ASAN else [])
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    assert p.returncode == 0, p.stdout.decode(errors="replace")[-3000:]
    usr = dest / "usr"
    for prog in ("kbroker", "kproduce", "kconsume"):
        assert os.access(usr / "bin" / prog, os.X_OK), prog
    for lib in ("libkpipe.so", "libkpipe.so.0", "libkpipe.a"):
        assert (usr / "lib" / lib).exists(), lib
    assert (usr / "lib/libkpipe.so").resolve().name.startswith("libkpipe.so.0.")
    for h in ("record/batch.h", "record/records.h", "client/producer.h", "log/log.h",
              "util/error.h", "broker/broker.h"):
        assert (usr / "include/kpipe" / h).is_file(), h
    for src in sorted((ROOT / "man").glob("*.[0-9]")):
        inst = usr / "share/man" / f"man{src.suffix[1:]}" / src.name
        assert inst.is_file(), f"{src.name} not installed as {inst}"
        assert inst.read_bytes() == src.read_bytes()

    pc = usr / "lib/pkgconfig/kpipe.pc"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PKG_CONFIG_SYSROOT")}
    p = subprocess.run(["pkg-config", "--cflags", "--libs", str(pc)], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert p.returncode == 0, p.stderr
    flags = p.stdout.decode().split()
    assert "-lkpipe" in flags and "-I/usr/include/kpipe" in flags, flags

    # Static link: libkpipe.a plus the private dependencies the .pc file lists.
    p = subprocess.run(["pkg-config", "--static", "--libs", str(pc)], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert p.returncode == 0, p.stderr
    deps = [f for f in p.stdout.decode().split() if f not in ("-lkpipe",) and not f.startswith("-L/usr/lib")]
    src = tmp_path / "t.c"
    src.write_text(PC_PROGRAM)
    exe = tmp_path / "t"
    san = ["-fsanitize=address,undefined"] if ASAN else []
    cc = ["cc", "-std=c11", *san, f"-I{usr}/include/kpipe", str(src), "-o", str(exe),
          str(usr / "lib/libkpipe.a"), *deps]
    p = subprocess.run(cc, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    assert p.returncode == 0, p.stdout.decode(errors="replace")[-3000:]
    p = subprocess.run([str(exe)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert p.returncode == 0, p.stderr
    assert p.stdout == b"hello e3069283\n"


# ---------------------------------------------------------------- 7. ApiVersions


def test_api_versions_v0_and_unsupported_version(broker):
    """ApiVersions v0 lists every served API from version 0; v127 gets UNSUPPORTED_VERSION
    (35) with a v0 body naming ApiVersions' range, and the connection stays usable."""
    b = broker()
    with socket.create_connection(("127.0.0.1", b.port), timeout=10 * SLOW) as s:
        code, keys = api_versions_v0(call(s, 18, 0, 11, b""))
        assert code == 0
        for k in (0, 1, 2, 3, 18, 19):
            assert k in keys, (k, keys)
            assert keys[k][0] == 0 and keys[k][1] >= 0, (k, keys[k])
        assert keys[18][1] >= 3

        code, keys = api_versions_v0(call(s, 18, 127, 12, b"", flexible=True))
        assert code == 35
        assert 18 in keys and keys[18][0] == 0 and keys[18][1] >= 3, keys

        code, keys = api_versions_v0(call(s, 18, 0, 13, b""))
        assert code == 0 and {0, 1, 2, 3, 18, 19} <= set(keys)
    assert b.running


# ---------------------------------------------------------------- 8. vanishing clients


def test_clients_that_vanish_leave_the_broker_serving(broker, kp, topic):
    """Connecting and closing at once, or closing halfway through a frame (in its size
    prefix, header or body), leaves the broker serving, with no ERROR in its log."""
    b = broker()
    frame = request(18, 0, 1, b"")
    for payload in (b"", frame[:2], frame[:6], frame[:-3], struct.pack(">i", 1000) + b"x" * 10):
        with socket.create_connection(("127.0.0.1", b.port), timeout=5) as s:
            s.sendall(payload)
    with socket.create_connection(("127.0.0.1", b.port), timeout=5) as s:
        s.sendall(frame[:9])  # reset (RST) rather than FIN, mid-header
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    kp.produce(b.bootstrap, topic, input=lines(0, 50))
    assert kp.consume_all(b.bootstrap, topic) == lines(0, 50)
    assert b.running
    assert not error_lines(b.stderr), b.stderr[-3000:]
