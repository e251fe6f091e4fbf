"""The C unit tests: one pytest test per $KP_BUILD/tests/test_* binary, each must exit 0."""
import os
import subprocess

import pytest

from conftest import BUILD, ROOT, SLOW, sanitizer_report

UNIT = sorted(p for p in (BUILD / "tests").glob("test_*")
              if p.is_file() and os.access(p, os.X_OK))


@pytest.mark.parametrize("binary", UNIT, ids=[p.name for p in UNIT])
def test_unit_binary(binary):
    """The unit test binary exits 0 (and, under ASan, reports nothing)."""
    try:
        p = subprocess.run([str(binary)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=120 * SLOW, cwd=str(ROOT))
    except subprocess.TimeoutExpired:
        pytest.fail(f"{binary.name} did not finish in {120 * SLOW} s")
    out = p.stdout.decode(errors="replace")
    assert p.returncode == 0, f"{binary.name} exited {p.returncode}:\n{out[-6000:]}"
    assert not sanitizer_report(out), out[-6000:]
