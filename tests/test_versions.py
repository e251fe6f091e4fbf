"""Every version kbroker advertises, over the wire: tests/tools/version_sweep.

The sweep reads the ranges from ApiVersions and checks each version of ApiVersions,
Metadata, CreateTopics, Produce, Fetch and ListOffsets with real requests (records
round-trip between every Produce and every Fetch version), then ApiVersions past its
max (error 35, v0 body). It prints "advertised NAME (key K) vMIN-vMAX" per API and
"ok NAME vN" / "FAIL NAME vN: reason" per check.
"""
import re

from conftest import BUILD

SWEEP = BUILD / "tests" / "tools" / "version_sweep"
APIS = {"ApiVersions": 18, "Metadata": 3, "CreateTopics": 19, "Produce": 0, "Fetch": 1,
        "ListOffsets": 2}
ADVERTISED = re.compile(r"^advertised (\w+) \(key (\d+)\) v(\d+)-v(\d+)$", re.M)


def test_every_advertised_version(broker, kp):
    b = broker()
    assert SWEEP.exists(), f"{SWEEP} is not built"
    p = kp.run(SWEEP, b.bootstrap, "sweep", timeout=120)
    out = p.stdout.decode(errors="replace")
    lines = set(out.splitlines())
    failed = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert p.returncode == 0 and not failed, f"exit {p.returncode}:\n" + "\n".join(failed) + p.err

    ranges = {name: (int(key), int(lo), int(hi)) for name, key, lo, hi in ADVERTISED.findall(out)}
    assert set(ranges) == set(APIS), out
    for name, (key, lo, hi) in ranges.items():
        assert key == APIS[name] and lo == 0 and hi >= 0, f"{name}: key {key} v{lo}-v{hi}"
        missing = [v for v in range(lo, hi + 1) if f"ok {name} v{v}" not in lines]
        assert not missing, f"{name}: versions {missing} not checked:\n{out}"
    past = ranges["ApiVersions"][2] + 1
    assert f"ok ApiVersions v{past} (unsupported: error 35)" in lines, out
    checks = sum(hi - lo + 1 for _, lo, hi in ranges.values()) + 1
    assert out.splitlines()[-1] == f"version sweep: {checks} checks, 0 failed", out
    assert b.running, f"kbroker died during the sweep:\n{b.stderr[-4000:]}"
