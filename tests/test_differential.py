"""Differential testing: the same scripted requests to kbroker and to Apache Kafka,
responses compared field by field (tests/tools/kpwire, tests/differential/).

Each script tests/differential/NAME.json names the API it is about and a list of
kpwire steps (see the comment at the top of tests/tools/kpwire.c). A step whose
"version" is "v" runs once per tested version of that API, with "{v}" in its strings
replaced by the version and "{p}" by a prefix unique to the run (the Kafka node is
shared by the whole session); "min_version"/"max_version" limit a step to some
versions. The tested versions of an API are, from the ranges both brokers advertise
in ApiVersions: the lowest both serve, the highest both serve and one in between;
plus kbroker's lowest when Kafka 4 removed it (KIP-896), where Kafka's answer (a
closed connection) is an accepted difference.

Fields that legitimately differ are normalised by rule (NORMALISE below, by field
name wherever it occurs). Every other difference must be listed in
tests/differential/accepted.json with its reason, or the test fails with a
field-by-field report. An accepted entry no run used fails the test too, so the
file stays true.
"""
import json
import re
import subprocess
import uuid
from pathlib import Path

import pytest

from conftest import BUILD, SLOW

DIFF_DIR = Path(__file__).resolve().parent / "differential"
KPWIRE = BUILD / "tests" / "tools" / "kpwire"
ACCEPTED_FILE = DIFF_DIR / "accepted.json"
SCRIPTS = sorted(p.name for p in DIFF_DIR.glob("*.json") if p.name != "accepted.json")
ZERO_UUID = "AAAAAAAAAAAAAAAAAAAAAA"
MISSING = "<absent>"


# ---------------------------------------------------------------- normalisation

def _node(value, ctx):
    """Node ids: the n-th distinct id seen in a response becomes <node-n>."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        return value
    return ctx["nodes"].setdefault(value, f"<node-{len(ctx['nodes'])}>")


def _topic_id(value, ctx):
    """Topic ids: the topic's name when the run learned it, else a placeholder
    consistent within the response; the zero uuid ("no id") stays."""
    if value == ZERO_UUID or not isinstance(value, str):
        return value
    if value in ctx["names"]:
        return f"<id of {ctx['names'][value]}>"
    return ctx["ids"].setdefault(value, f"<topic-id-{len(ctx['ids'])}>")


def _present(placeholder):
    """Anything but null / -1 becomes the placeholder (the value is the broker's own)."""
    return lambda value, ctx: value if value in (None, -1) else placeholder


# Field name -> rule. Each is a value that is the broker's own, not behaviour.
NORMALISE = {
    "ClusterId": _present("<cluster-id>"),           # random per cluster
    "NodeId": _node, "LeaderId": _node, "ControllerId": _node,
    "ReplicaNodes": _node, "IsrNodes": _node, "OfflineReplicas": _node,
    "EligibleLeaderReplicas": _node, "LastKnownElr": _node,
    "Host": _present("<host>"), "Port": _present("<port>"),
    "TopicId": _topic_id,                            # random per topic
    "ThrottleTimeMs": _present("<throttle-time>"),   # quota state of the moment
    "LogAppendTimeMs": _present("<time>"),           # the broker's clock
    "ErrorMessage": _present("<message>"),           # free text; null vs text still compared
    "SessionId": _present("<session>"),              # fetch session ids are random
}


def normalise(value, ctx, rule=None):
    """A copy of a decoded response with NORMALISE applied by field name (inside
    arrays too), and ApiKeys arrays turned into objects keyed by API name."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == "ApiKeys" and isinstance(v, list):
                out[k] = {ctx["api_names"].get(e["ApiKey"], str(e["ApiKey"])):
                          normalise({f: x for f, x in e.items() if f != "ApiKey"}, ctx)
                          for e in v}
            else:
                out[k] = normalise(v, ctx, NORMALISE.get(k))
        return out
    if isinstance(value, list):
        return [normalise(v, ctx, rule) for v in value]
    return rule(value, ctx) if rule else value


def learn_names(lines):
    """TopicId -> topic name, from every response object with Name/Topic and TopicId."""
    names = {}

    def walk(v):
        if isinstance(v, dict):
            name = v.get("Name", v.get("Topic"))
            if isinstance(name, str) and isinstance(v.get("TopicId"), str) and \
                    v["TopicId"] != ZERO_UUID:
                names[v["TopicId"]] = name
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    for line in lines:
        walk(line.get("response"))
    return names


# ---------------------------------------------------------------- comparison

def diff(a, b, path="$"):
    """[(path, a_value, b_value)] for every leaf where a and b differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in list(a) + [k for k in b if k not in a]:
            sub = f"{path}.{k}" if path != "$" else k
            out += diff(a.get(k, MISSING), b.get(k, MISSING), sub)
        return out
    if isinstance(a, list) and isinstance(b, list):
        out = []
        for i in range(max(len(a), len(b))):
            out += diff(a[i] if i < len(a) else MISSING, b[i] if i < len(b) else MISSING,
                        f"{path}[{i}]")
        return out
    if type(a) is not type(b) or a != b:
        return [(path, a, b)]
    return []


def outcome(line):
    for k in ("error", "closed", "no_response"):
        if k in line:
            return k
    return "answered"


def compare_step(kb, kf, ctx_kb, ctx_kf):
    """[(path, kbroker, kafka)] for one step's two output lines."""
    if outcome(kb) != "answered" or outcome(kf) != "answered":
        if outcome(kb) == outcome(kf) and "error" not in kb:
            return []
        return [("$", kb.get("error", outcome(kb)), kf.get("error", outcome(kf)))]
    return diff(normalise(kb["response"], ctx_kb), normalise(kf["response"], ctx_kf))


def _in_range(spec, v):
    lo, _, hi = str(spec).partition("-")
    return int(lo) <= v <= (int(hi) if hi else int(lo))


def _glob(pattern, text):
    return re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), text) is not None


def accepted_by(entry, m):
    """Whether accepted entry `entry` covers mismatch `m`: same api, version in range,
    path (and the step's label, when the entry names one) matching its pattern, and
    the kbroker and kafka values equal to the entry's where it gives them."""
    if "rule" in entry or entry["api"] != m["api"] or not _in_range(entry["versions"], m["version"]):
        return False
    if not _glob(entry["path"], m["path"]) or not _glob(entry.get("label", "*"), m.get("label", "")):
        return False
    return all(k not in entry or entry[k] == m[k] for k in ("kbroker", "kafka"))


def schema_rule(m, ctx):
    """Rule "newer-than-schema": ApiKeys[X].MaxVersion where kbroker serves the
    newest version of the schemas its codec is generated from and Kafka a newer one."""
    hit = re.fullmatch(r"ApiKeys\.(\w+)\.MaxVersion", m["path"])
    top = ctx["schema"].get(hit.group(1), {}).get("MaxVersion") if hit else None
    return top is not None and m["kbroker"] == top and isinstance(m["kafka"], int) and \
        m["kafka"] > top


RULES = {"newer-than-schema": schema_rule,
         "not-served-yet": lambda m, ctx: False}  # applied before comparing (drop_unserved)


def sift(mismatches, accepted, ctx, used):
    """The mismatches no accepted entry or rule covers; marks used entries."""
    left = []
    for m in mismatches:
        hits = [i for i, e in enumerate(accepted)
                if ("rule" in e and RULES[e["rule"]](m, ctx)) or accepted_by(e, m)]
        used.update(hits)
        if not hits:
            left.append(m)
    return left


def report(mismatches):
    return "\n".join(f"  {m['script']} {m['api']} v{m['version']} step {m['step']} "
                     f"({m['label']}): {m['path']}: kbroker {json.dumps(m['kbroker'])}, "
                     f"kafka {json.dumps(m['kafka'])}" for m in mismatches)


# ---------------------------------------------------------------- running

def load_accepted():
    entries = json.loads(ACCEPTED_FILE.read_text())["accepted"]
    for e in entries:
        assert e.get("reason"), f"accepted entry without a reason: {e}"
        assert ("rule" in e and e["rule"] in RULES) or {"api", "versions", "path"} <= set(e), e
    return entries


def kpwire(kp, bootstrap, steps):
    p = kp.run(KPWIRE, bootstrap, "-", input=json.dumps(steps).encode(), timeout=90)
    lines = [json.loads(x) for x in p.stdout.decode().splitlines()]
    assert p.returncode in (0, 1) and len(lines) == len(steps), \
        f"kpwire {bootstrap}: exit {p.returncode}, {len(lines)} of {len(steps)} lines\n{p.err}"
    return lines


def advertised(line):
    return {k["ApiKey"]: (k["MinVersion"], k["MaxVersion"]) for k in line["response"]["ApiKeys"]}


def kafka_removed(api, v, accepted):
    """Whether accepted.json says Kafka closes the connection at api version v."""
    return any(e.get("api") == api and e.get("path") == "$" and e.get("kafka") == "closed"
               and _in_range(e["versions"], v) for e in accepted)


def versions_to_test(api, key, kb, kf, accepted):
    """Lowest, middle and highest version both serve, plus kbroker's lowest if Kafka removed it."""
    lo, hi = max(kb[key][0], kf[key][0]), min(kb[key][1], kf[key][1])
    while lo < hi and kafka_removed(api, lo, accepted):
        lo += 1
    return sorted({kb[key][0], lo, (lo + hi) // 2, hi})


def expand(script, versions, prefix, removed=()):
    """The concrete kpwire steps of a script for the given versions. At a version in
    `removed` (one Kafka closes the connection for) the steps at other versions run
    but are not compared ("compare": false): they read what the removed version
    could only write into kbroker."""
    steps = []
    for v in versions:
        for s in script["steps"]:
            if not (s.get("min_version", 0) <= v <= s.get("max_version", 1 << 15)):
                continue
            text = json.dumps({k: x for k, x in s.items() if not k.endswith("_version")})
            step = json.loads(text.replace("{p}", prefix).replace("{v}", str(v)))
            if step["version"] == "v":
                step["version"] = v
            elif v in removed:
                step["compare"] = False
                step.pop("retry_while", None)  # Kafka may never create what it was not sent
            steps.append(step)
    return steps


@pytest.fixture(scope="module")
def schema():
    p = subprocess.run([str(KPWIRE), "--apis"], capture_output=True, timeout=30 * SLOW)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


@pytest.mark.parametrize("name", SCRIPTS)
def test_differential(name, broker, kafka, kp, schema):
    assert KPWIRE.exists(), f"{KPWIRE} is not built"
    accepted = load_accepted()
    script = json.loads((DIFF_DIR / name).read_text())
    b, k = broker(), kafka()
    probe = [{"api": "ApiVersions", "version": 3,
              "request": {"ClientSoftwareName": "kpwire", "ClientSoftwareVersion": "1.0"}}]
    kb, kf = advertised(kpwire(kp, b.bootstrap, probe)[0]), \
        advertised(kpwire(kp, k.bootstrap, probe)[0])
    api, key = script["api"], schema[script["api"]]["ApiKey"]
    versions = versions_to_test(api, key, kb, kf, accepted)
    removed = [v for v in versions if kafka_removed(api, v, accepted)]
    steps = expand(script, versions, f"diff-{uuid.uuid4().hex[:10]}", removed)

    out_kb, out_kf = kpwire(kp, b.bootstrap, steps), kpwire(kp, k.bootstrap, steps)
    api_names = {v["ApiKey"]: n for n, v in schema.items()}
    names_kb, names_kf = learn_names(out_kb), learn_names(out_kf)
    mismatches = []
    for i, step in enumerate(steps):
        if step.get("compare") is False:
            continue
        ctx_kb = {"nodes": {}, "ids": {}, "names": names_kb, "api_names": api_names}
        ctx_kf = {"nodes": {}, "ids": {}, "names": names_kf, "api_names": api_names}
        if "response" in out_kf[i] and "response" in out_kb[i]:
            drop_unserved(out_kf[i]["response"], out_kb[i]["response"])
        for path, x, y in compare_step(out_kb[i], out_kf[i], ctx_kb, ctx_kf):
            mismatches.append({"script": name, "step": i, "label": step.get("label", ""),
                               "api": step["api"], "version": step["version"], "path": path,
                               "kbroker": x, "kafka": y})
    used = _used_entries.setdefault(name, set())
    left = sift(mismatches, accepted, {"schema": schema}, used)
    assert b.running, f"kbroker died:\n{b.stderr[-4000:]}"
    assert not left, (f"{len(left)} difference(s) between kbroker and Apache Kafka at "
                      f"{api} versions {versions}, neither normalised nor in "
                      f"{ACCEPTED_FILE.name}:\n{report(left)}")


def drop_unserved(kafka_resp, kbroker_resp):
    """Rule "not-served-yet": the APIs Kafka lists in ApiVersions that kbroker does not
    serve yet are left out of Kafka's list before comparing."""
    if isinstance(kafka_resp.get("ApiKeys"), list) and isinstance(kbroker_resp.get("ApiKeys"), list):
        served = {e["ApiKey"] for e in kbroker_resp["ApiKeys"]}
        kafka_resp["ApiKeys"] = [e for e in kafka_resp["ApiKeys"] if e["ApiKey"] in served]


_used_entries = {}


def test_accepted_entries_all_used():
    """Every entry of accepted.json covered a difference in this session's runs (run last:
    only meaningful when every script ran)."""
    if set(_used_entries) != set(SCRIPTS):
        pytest.skip("not every differential script ran in this session")
    accepted = load_accepted()
    used = set().union(*_used_entries.values())
    stale = [e for i, e in enumerate(accepted) if i not in used and "rule" not in e]
    assert not stale, "accepted differences no run showed (remove them):\n" + \
        "\n".join(json.dumps(e) for e in stale)


# ---------------------------------------------------------------- the comparison can fail

def test_comparison_reports_differences():
    """compare_step, normalise and sift on hand-made outputs: a real difference is
    reported with its path, normalised fields are not, an accepted entry covers only
    what it names, and a closed connection against an answer is a difference."""
    ctx = lambda: {"nodes": {}, "ids": {}, "names": {"id-A": "t"}, "api_names": {18: "ApiVersions"}}
    kb = {"response": {"ClusterId": "abc", "Topics": [{"Name": "t", "TopicId": "id-A", "ErrorCode": 0,
                                                       "Partitions": [{"LeaderId": 1}]}]}}
    kf = {"response": {"ClusterId": "xyz", "Topics": [{"Name": "t", "TopicId": "id-B", "ErrorCode": 3,
                                                       "Partitions": [{"LeaderId": 7}, {"LeaderId": 7}]}]}}
    ctx_kf = ctx()
    ctx_kf["names"] = {"id-B": "t"}
    found = compare_step(kb, kf, ctx(), ctx_kf)
    assert ("Topics[0].ErrorCode", 0, 3) in found
    assert ("Topics[0].Partitions[1]", MISSING, {"LeaderId": "<node-0>"}) in found
    assert not any(p in ("ClusterId", "Topics[0].TopicId", "Topics[0].Partitions[0].LeaderId")
                   for p, _, _ in found), found
    assert compare_step({"closed": True}, kb, ctx(), ctx()) == [("$", "closed", "answered")]
    assert compare_step({"closed": True}, {"closed": True}, ctx(), ctx()) == []
    assert diff({"A": True}, {"A": 1}) == [("A", True, 1)]

    ms = [{"api": "Metadata", "version": 5, "path": p, "kbroker": x, "kafka": y}
          for p, x, y in found]
    entry = {"api": "Metadata", "versions": "4-6", "path": "Topics[*].ErrorCode", "kafka": 3,
             "reason": "test"}
    used = set()
    left = sift(ms, [entry], {"schema": {}}, used)
    assert used == {0} and len(left) == len(ms) - 1
    assert sift(ms, [dict(entry, versions="6-9")], {"schema": {}}, set()) == ms
    assert sift(ms, [dict(entry, kafka=5)], {"schema": {}}, set()) == ms
    assert "Topics[0].ErrorCode: kbroker 0, kafka 3" in report(
        [dict(m, script="s.json", step=1, label="l") for m in ms])
