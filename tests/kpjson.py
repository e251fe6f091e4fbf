"""Helpers for the tests of kproduce -J / kconsume -J (lib/client/record_json.h): records as
Python values, the JSON lines the tools read and write, and reading record batches straight
out of a partition's log segments (kbroker and Apache Kafka store the same format).

A record here is a dict {"partition", "key", "value", "headers", "timestamp"}: key and value
bytes or None, headers [(str, bytes or None)], timestamp in ms."""
import base64
import glob
import json
import os
import struct
import time

from kafka.partitioner.default import murmur2


def _field(d, name, data):
    """Set d[name] to bytes `data` as record_json.h writes it: a string when UTF-8, null when
    None, base64 with a NAME_encoding field otherwise."""
    if data is None:
        d[name] = None
        return
    try:
        d[name] = data.decode("utf-8")
    except UnicodeDecodeError:
        d[name] = base64.b64encode(data).decode()
        d[name + "_encoding"] = "base64"


def _bytes(d, name):
    v = d.get(name)
    if v is None:
        return None
    if d.get(name + "_encoding") == "base64":
        return base64.b64decode(v)
    return v.encode("utf-8")


def record_line(rec, topic=None):
    """One kproduce -J input line (str, no newline) for record dict `rec`."""
    d = {}
    if topic:
        d["topic"] = topic
    if rec.get("partition") is not None:
        d["partition"] = rec["partition"]
    if rec.get("timestamp") is not None:
        d["timestamp"] = rec["timestamp"]
    _field(d, "key", rec.get("key"))
    _field(d, "value", rec.get("value"))
    hs = []
    for k, v in rec.get("headers", []):
        h = {}
        _field(h, "key", k.encode() if isinstance(k, str) else k)
        _field(h, "value", v)
        hs.append(h)
    d["headers"] = hs
    return json.dumps(d, ensure_ascii=False)


def records_input(recs, topic=None):
    return "".join(record_line(r, topic) + "\n" for r in recs).encode()


def parse_output(out):
    """kconsume -J output (bytes) -> [record dicts with "topic" and "offset" too]. Lines are
    split at \\n only (JSON never has a raw newline inside)."""
    recs = []
    for line in out.decode("utf-8").split("\n"):
        if not line:
            continue
        d = json.loads(line)
        recs.append({
            "topic": d.get("topic"), "partition": d.get("partition"), "offset": d.get("offset"),
            "timestamp": d.get("timestamp"), "key": _bytes(d, "key"), "value": _bytes(d, "value"),
            "headers": [(h["key"] if h.get("key_encoding") != "base64"
                         else base64.b64decode(h["key"]).decode("latin-1"), _bytes(h, "value"))
                        for h in d.get("headers", [])],
        })
    return recs


def sample_records(n, partitions, now_ms=None, nul_in_headers=True):
    """n records covering the edge cases (null keys, null and empty values, values that are
    not UTF-8 -- every byte value --, NUL bytes in text, non-ASCII text, header values that
    are null, empty or binary, repeated header names), spread over `partitions` partitions
    (keyed ones where the Java partitioner puts them), with distinct timestamps in the last
    hour (brokers refuse timestamps far in the future and may delete old ones).
    nul_in_headers=False leaves NUL bytes out of header values (kcat's %h stops at one)."""
    now_ms = now_ms or int(time.time() * 1000)
    recs = []
    for i in range(n):
        key = None if i % 10 == 0 else b"key-%d" % (i % 37)
        if i % 50 == 7:
            value = None
        elif i % 41 == 5:
            value = b""
        elif i % 23 == 3:
            value = bytes(range(256)) * 2
        elif i % 17 == 4:
            value = "zn\u00e4\u010dka \u2603 \U0001f600 nul:\0 end".encode()
        else:
            value = b"value-%d-" % i + b"x" * (i % 90)
        headers = [("seq", str(i).encode())]
        if i % 7 == 0:
            headers.append(("null", None))
        if i % 11 == 0:
            headers += [("dup", b"1"), ("dup", b"2")]
        if i % 13 == 0:
            headers.append(("bin", b"\xff\xfe\x00" if nul_in_headers else b"\xff\xfe"))
        if i % 5 == 0:
            headers.append(("\u043a\u043b\u044e\u0447", b""))
        part = (murmur2(key) & 0x7FFFFFFF) % partitions if key is not None else i % partitions
        recs.append({"partition": part, "key": key, "value": value, "headers": headers,
                     "timestamp": now_ms - 3_600_000 + i * 7})
    return recs


def comparable(recs):
    """Records as tuples, per partition in order: what a faithful copy keeps."""
    by_part = {}
    for r in recs:
        by_part.setdefault(r["partition"], []).append(
            (r.get("offset"), r["timestamp"], r["key"], r["value"], list(map(tuple, r["headers"]))))
    return by_part


def batches(logdir, topic, partition):
    """[(base offset, producer id, producer epoch, base sequence, record count, attributes)]
    of every record batch in the log segments of topic/partition under logdir."""
    out = []
    for seg in sorted(glob.glob(os.path.join(logdir, f"{topic}-{partition}", "*.log"))):
        data = open(seg, "rb").read()
        pos = 0
        while pos + 61 <= len(data):
            base, length = struct.unpack(">qi", data[pos:pos + 12])
            if length <= 0 or pos + 12 + length > len(data):
                break
            attrs, = struct.unpack(">h", data[pos + 21:pos + 23])
            pid, epoch, seq, count = struct.unpack(">qhii", data[pos + 43:pos + 61])
            out.append((base, pid, epoch, seq, count, attrs))
            pos += 12 + length
    return out
