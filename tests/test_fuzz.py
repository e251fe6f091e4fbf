"""The libFuzzer targets: each tests/fuzz/NAME.c, built by `make fuzz` into
$KP_FUZZ_BUILD/fuzz/NAME, runs for a bounded time (KP_FUZZ_SECONDS, default
8 s, and at most FUZZ_RUNS inputs) starting from its committed seed corpus
tests/fuzz/corpus/NAME and must exit 0. A crash, sanitizer report, leak,
timeout or failed invariant fails the test with the fuzzer's output; the
input that did it is saved in the test's tmp_path.

KP_FUZZ_BUILD is the fuzz build directory (`make check` sets it); without it
build-fuzz in the repository is used and the tests are skipped when that was
not built. New inputs the fuzzer finds go to tmp_path, never into the seeds.
"""
import os
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

FUZZ_BUILD = Path(os.environ.get("KP_FUZZ_BUILD") or ROOT / "build-fuzz").resolve()
SECONDS = int(os.environ.get("KP_FUZZ_SECONDS", "8"))
FUZZ_RUNS = 2000000
TARGETS = sorted(p.stem for p in (ROOT / "tests" / "fuzz").glob("fuzz_*.c"))


@pytest.mark.parametrize("name", TARGETS)
def test_fuzz_target(name, tmp_path):
    """NAME runs over its seeds and whatever it derives from them for SECONDS without a finding."""
    binary = FUZZ_BUILD / "fuzz" / name
    if not binary.exists():
        if os.environ.get("KP_FUZZ_BUILD"):
            pytest.fail(f"{binary} missing: run make fuzz")
        pytest.skip(f"{binary} not built (make fuzz)")
    seeds = ROOT / "tests" / "fuzz" / "corpus" / name
    assert seeds.is_dir() and any(seeds.iterdir()), f"no seed corpus in {seeds}"
    found = tmp_path / "corpus"
    found.mkdir()
    cmd = [str(binary), f"-max_total_time={SECONDS}", f"-runs={FUZZ_RUNS}", "-rss_limit_mb=1024",
           "-timeout=20", "-print_final_stats=1", f"-artifact_prefix={tmp_path}/",
           str(found), str(seeds)]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=SECONDS * 4 + 60, cwd=str(tmp_path))
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{name} did not stop within {SECONDS * 4 + 60} s:\n"
                    f"{(e.stdout or b'').decode(errors='replace')[-6000:]}")
    out = p.stdout.decode(errors="replace")
    artifacts = sorted(x.name for x in tmp_path.iterdir() if x.is_file())
    assert p.returncode == 0, (f"{name} exited {p.returncode}; inputs saved in {tmp_path}: "
                               f"{artifacts}\n{out[-8000:]}")
    assert "Done " in out, out[-4000:]
