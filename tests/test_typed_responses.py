"""A broker handler cannot answer with another API's response struct: KP_RESPOND
(lib/broker/internal.h) checks the struct against the generator's KP_API_<API>_RESPONSE
at compile time."""
import shutil
import subprocess

import pytest

from conftest import ROOT

SNIPPET = """
#include "broker/internal.h"
void answer(struct kp_request *rq, %s *resp);
void answer(struct kp_request *rq, %s *resp) { KP_RESPOND(rq, PRODUCE, resp); }
"""


def compile_snippet(tmp_path, struct):
    src = tmp_path / "snippet.c"
    src.write_text(SNIPPET % (struct, struct))
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.fail("no C compiler")
    return subprocess.run([cc, "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror",
                           f"-I{ROOT / 'lib'}", "-fsyntax-only", str(src)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)


def test_the_right_response_struct_compiles(tmp_path):
    p = compile_snippet(tmp_path, "struct kp_produce_response")
    assert p.returncode == 0, p.stdout.decode()


def test_another_apis_response_struct_does_not_compile(tmp_path):
    p = compile_snippet(tmp_path, "struct kp_fetch_response")
    assert p.returncode != 0
    assert b"incompatible pointer type" in p.stdout, p.stdout.decode()
