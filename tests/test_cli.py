"""Command-line surface: -h, --list-options, man pages and shell completion agree."""
import os
import re
import subprocess

import pytest

from conftest import BIN, ROOT

PROGRAMS = ["kbroker", "kcontroller", "kproduce", "kconsume"]


def list_options(kp, prog):
    """Parse PROG --list-options: [(short or None, long or None, arg or None, complete or None)]."""
    p = kp.run(prog, "--list-options", timeout=15)
    assert p.returncode == 0, p.err
    opts = []
    for line in p.stdout.decode().splitlines():
        parts = line.split(None, 3)
        assert len(parts) == 4, f"bad --list-options line {line!r}"
        short, long_, arg, complete = (None if x == "-" else x for x in parts)
        assert short is None or re.fullmatch(r"-[A-Za-z0-9]", short), line
        assert long_ is None or re.fullmatch(r"--[a-z0-9][a-z0-9-]*", long_), line
        assert short or long_, line
        opts.append((short, long_, arg, complete))
    return opts


def roff_section(text, name):
    """The source lines of section `.SH NAME` of a man page."""
    out, inside = [], False
    for line in text.splitlines():
        if line.startswith(".SH"):
            inside = line[3:].strip().strip('"').upper() == name
            continue
        if inside:
            out.append(line)
    return out


def synopsis_options(page):
    """Options written in bold in the man page SYNOPSIS (\\fB\\-x\\fR, .B \\-x, .OP \\-x ...)."""
    bold = []
    for line in roff_section(page, "SYNOPSIS"):
        if line.startswith((".B ", ".OP ")):
            bold.append(line.split(None, 1)[1])
        elif line.startswith((".BR ", ".BI ")):
            bold.extend(line.split()[1::2])  # alternating fonts, bold first
        elif line.startswith((".RB ", ".IB ")):
            bold.extend(line.split()[2::2])
        bold += re.findall(r"\\fB(.*?)\\f[RIP]", line)
    found = set()
    for span in bold:
        span = span.replace("\\-", "-").replace('"', "")
        for tok in re.split(r"[\s\[\]|=]+", span):
            if re.fullmatch(r"--?[A-Za-z0-9][A-Za-z0-9-]*", tok):
                found.add(tok)
    return found


@pytest.mark.parametrize("prog", PROGRAMS)
def test_help_prints_usage_and_exits_0(kp, prog):
    """PROG -h exits 0 and prints "usage: PROG ..." as its first line on stdout."""
    p = kp.run(prog, "-h", timeout=15)
    assert p.returncode == 0, p.err
    out = p.stdout.decode()
    assert out.splitlines()[0].startswith(f"usage: {prog} "), out
    for short, long_, _, _ in list_options(kp, prog):
        assert (short or long_) in out, f"{short or long_} missing from -h"


@pytest.mark.parametrize("prog", PROGRAMS)
def test_man_synopsis_matches_option_table(kp, prog):
    """Every option of PROG --list-options is in man/PROG.1's SYNOPSIS and vice versa."""
    page = (ROOT / "man" / f"{prog}.1").read_text()
    assert page.count(".SH") >= 7, "man page sections missing"
    for sec in ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "EXAMPLES",
                "SEE ALSO"]:
        assert roff_section(page, sec), f"no {sec} section"
    in_man = synopsis_options(page)
    opts = list_options(kp, prog)
    for short, long_, _, _ in opts:
        assert short in in_man or long_ in in_man, \
            f"{short or long_} of {prog} missing from man SYNOPSIS"
    known = {x for o in opts for x in o[:2] if x}
    extra = in_man - known
    assert not extra, f"man SYNOPSIS of {prog} has options {prog} does not have: {extra}"


@pytest.mark.parametrize("prog", PROGRAMS)
def test_man_synopsis_reads_like_help_usage(kp, prog):
    """The rendered man SYNOPSIS is word for word PROG -h's usage line (plus [-h]): the same
    argument names, brackets and "..." for repeatable options."""
    env = dict(os.environ, MANWIDTH="2000")
    page = subprocess.run(["man", "-l", str(ROOT / "man" / f"{prog}.1")], env=env,
                          capture_output=True, timeout=30, check=True).stdout.decode()
    lines = page.splitlines()
    start = lines.index("SYNOPSIS") + 1
    end = next(i for i in range(start, len(lines)) if lines[i] and not lines[i][0].isspace())
    synopsis = " ".join(" ".join(lines[start:end]).split())
    usage = kp.run(prog, "-h").stdout.decode().splitlines()[0]
    assert synopsis == usage.removeprefix("usage: ") + " [-h]"


@pytest.mark.parametrize("prog", PROGRAMS)
def test_man_options_section_documents_every_option(kp, prog):
    """man/PROG.1's OPTIONS section describes every option of the table."""
    page = (ROOT / "man" / f"{prog}.1").read_text()
    text = "\n".join(roff_section(page, "OPTIONS")).replace("\\-", "-")
    for short, long_, _, _ in list_options(kp, prog):
        for name in (short, long_):
            if name:
                assert re.search(re.escape(name) + r"(?![A-Za-z0-9-])", text), \
                    f"{name} not described in OPTIONS of {prog}.1"


@pytest.mark.parametrize("page", ["kbroker.1", "kcontroller.1", "kproduce.1", "kconsume.1",
                                  "kbroker.properties.5"])
def test_man_page_renders_cleanly(page):
    """man -l renders the page without groff warnings."""
    p = subprocess.run(["man", "--warnings", "-l", str(ROOT / "man" / page)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30,
                       env={"MANWIDTH": "80", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    assert p.returncode == 0, p.stderr
    assert not p.stderr.strip(), p.stderr.decode()
    assert b"NAME" in p.stdout and b"SYNOPSIS" in p.stdout


def bash_complete(words, cword):
    script = (f"source {ROOT / 'completions' / 'kpipe.bash'}; "
              f"COMP_WORDS=({' '.join(words)}); COMP_CWORD={cword}; "
              "COMP_LINE=\"${COMP_WORDS[*]}\"; COMP_POINT=${#COMP_LINE}; "
              "_kpipe_complete; printf '%s\\n' \"${COMPREPLY[@]}\"")
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", script],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30, cwd=str(ROOT),
                       env={"PATH": f"{BIN}:/usr/bin:/bin", "HOME": "/nonexistent"})
    assert p.returncode == 0, p.stderr
    return p.stdout.decode().split()


def test_bash_completion_long_option(bin_dir):
    """`kproduce --to<TAB>` completes to --topic."""
    assert bash_complete(["kproduce", "--to"], 1) == ["--topic"]


def test_bash_completion_all_options(kp):
    """`kconsume -<TAB>` offers every option of the table."""
    got = set(bash_complete(["kconsume", "-"], 1))
    want = {x for o in list_options(kp, "kconsume") for x in o[:2] if x}
    assert want <= got, want - got


def test_bash_completion_argument_words(kp):
    """Arguments complete from the table's word list (kproduce --compression z -> zstd)."""
    opts = list_options(kp, "kproduce")
    comp = [o for o in opts if o[1] == "--compression"]
    assert comp and comp[0][3] and "zstd" in comp[0][3].split(), comp
    assert bash_complete(["kproduce", "--compression", "z"], 2) == ["zstd"]
    assert bash_complete(["kproduce", "-z", "z"], 2) == ["zstd"]


def test_zsh_completion_specs():
    """zsh runs completions/_kpipe: kproduce's table becomes _arguments specs, -t and --topic
    exclusive, --compression with its words."""
    specs = zsh_verb_words(["kproduce", "--to"])
    assert "(-t --topic)--topic[topic]:TOPIC: " in specs, specs
    assert "(-z --compression)-z[compression]:CODEC:(none gzip snappy lz4 zstd)" in specs, specs


def fish_complete(line):
    p = subprocess.run(["fish", "--no-config", "-c",
                        f"source {ROOT / 'completions' / 'kpipe.fish'}; complete -C '{line}'"],
                       capture_output=True, timeout=30,
                       env={"PATH": f"{BIN}:/usr/bin:/bin", "HOME": "/nonexistent"})
    assert p.returncode == 0, p.stderr
    return [ln.split("\t")[0] for ln in p.stdout.decode().splitlines()]


def test_fish_completion():
    """fish loads completions/kpipe.fish: `kproduce --to` completes to --topic and
    `kproduce --compression z` to zstd."""
    assert fish_complete("kproduce --to") == ["--topic"]
    assert fish_complete("kproduce --compression z") == ["zstd"]


def test_version(kp):
    """Every program prints "PROG (kpipe) VERSION" for --version and exits 0."""
    for prog in PROGRAMS:
        p = kp.run(prog, "--version", timeout=15)
        assert p.returncode == 0, p.err
        assert re.fullmatch(rf"{prog} \(kpipe\) \d+\.\d+\.\d+\n", p.stdout.decode()), p.stdout


def test_completions_registered_for_all_programs():
    """bash registers _kpipe_complete for all programs; zsh and fish files exist and name them."""
    p = subprocess.run(["bash", "--norc", "-c",
                        f"source {ROOT / 'completions' / 'kpipe.bash'}; complete -p"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    out = p.stdout.decode()
    for prog in PROGRAMS:
        assert re.search(rf"-F _kpipe_complete .*\b{prog}\b|-F _kpipe_complete {prog}$",
                         out, re.M), out
        assert prog in (ROOT / "completions" / "_kpipe").read_text()
        assert prog in (ROOT / "completions" / "kpipe.fish").read_text()


def test_kbroker_config_file_and_overrides(broker, kp, topic, tmp_path):
    """kbroker -c FILE reads Kafka keys from a properties file; -o KEY=VALUE overrides it."""
    conf = tmp_path / "server.properties"
    conf.write_text("# test\n! also a comment\nnum.partitions=2\nauto.create.topics.enable=true\n")
    b = broker(config=conf)
    kp.produce(b.bootstrap, topic, input=b"x\n")
    b2 = broker("num.partitions=4", config=conf)
    kp.produce(b2.bootstrap, topic, input=b"x\n")
    for br, want in ((b, 2), (b2, 4)):
        p = kp.run("kcat", "-L", "-b", br.bootstrap, "-t", topic, timeout=30,
                   check_sanitizer=False)
        assert p.returncode == 0, p.err
        m = re.search(rf'topic "{re.escape(topic)}" with (\d+) partitions', p.stdout.decode())
        assert m and int(m.group(1)) == want, p.stdout.decode()


def test_example_server_properties_is_accepted(broker, kp, topic):
    """share/server.properties starts a broker without warnings about unknown keys."""
    b = broker(config=ROOT / "share" / "server.properties")
    kp.produce(b.bootstrap, topic, input=b"x\n")
    assert "unknown configuration key" not in b.stderr, b.stderr


# ---------------------------------------------------------------- programs with verbs: kgroups
# A program with verbs ("kgroups describe ...") has one option table per verb: `PROG -h`
# lists the verbs, `PROG --list-verbs` names them for the completion scripts, and
# `PROG VERB -h` / `PROG VERB --list-options` are a verb's help and options.

KGROUPS_VERBS = ["list", "describe", "reset-offsets", "delete", "delete-offsets", "lag"]
KTOPICS_VERBS = ["create", "list", "describe", "alter", "delete", "delete-records"]
VERB_PROGRAMS = ["kgroups", "ktopics"]


def list_verbs(kp, prog):
    p = kp.run(prog, "--list-verbs", timeout=15)
    assert p.returncode == 0, p.err
    return p.stdout.decode().split()


def verb_usage(kp, prog, verb):
    """The first line of `PROG VERB -h` without "usage: "."""
    p = kp.run(prog, verb, "-h", timeout=15)
    assert p.returncode == 0, p.err
    first = p.stdout.decode().splitlines()[0]
    assert first.startswith(f"usage: {prog} {verb} "), first
    return first.removeprefix("usage: ")


def verb_options(kp, prog, verb):
    """PROG VERB --list-options parsed like list_options."""
    p = kp.run(prog, verb, "--list-options", timeout=15)
    assert p.returncode == 0, p.err
    opts = []
    for line in p.stdout.decode().splitlines():
        short, long_, arg, complete = (None if x == "-" else x for x in line.split(None, 3))
        assert short or long_, line
        opts.append((short, long_, arg, complete))
    return opts


@pytest.mark.parametrize("prog,verbs", [("kgroups", KGROUPS_VERBS), ("ktopics", KTOPICS_VERBS)])
def test_verbs_help_lists_verbs_and_each_verbs_options(kp, prog, verbs):
    """PROG --list-verbs names the verbs; PROG -h shows each with its summary and exits 0;
    PROG VERB -h prints "usage: PROG VERB ..." and every option of the verb's table."""
    assert list_verbs(kp, prog) == verbs
    p = kp.run(prog, "-h", timeout=15)
    out = p.stdout.decode()
    assert p.returncode == 0 and out.startswith(f"usage: {prog} VERB "), (p.returncode, out)
    for verb in verbs:
        assert re.search(rf"^  {re.escape(verb)} +\S", out, re.M), f"{verb} missing from -h"
        verb_usage(kp, prog, verb)
        help_text = kp.run(prog, verb, "-h", timeout=15).stdout.decode()
        for short, long_, _, _ in verb_options(kp, prog, verb):
            assert (short or long_) in help_text, f"{short or long_} missing from {verb} -h"


@pytest.mark.parametrize("prog", VERB_PROGRAMS)
def test_verbs_without_or_unknown_verb_exit_2(kp, prog):
    """No verb, or an unknown one, prints the usage with the verbs to stderr and exits 2."""
    for args in ([], ["frobnicate"]):
        p = kp.run(prog, *args, timeout=15)
        err = p.stderr.decode()
        assert p.returncode == 2 and f"usage: {prog} VERB" in err, (args, p.returncode, err)
        assert err.startswith(f"{prog}: "), err


@pytest.mark.parametrize("prog", VERB_PROGRAMS)
def test_verbs_version(kp, prog):
    """PROG --version and PROG VERB --version print "PROG (kpipe) VERSION" and exit 0."""
    for args in (["--version"], [list_verbs(kp, prog)[0], "--version"]):
        p = kp.run(prog, *args, timeout=15)
        assert p.returncode == 0, p.err
        assert re.fullmatch(rf"{prog} \(kpipe\) \d+\.\d+\.\d+\n", p.stdout.decode()), p.stdout


@pytest.mark.parametrize("prog", VERB_PROGRAMS)
def test_verbs_man_synopsis_reads_like_each_verbs_usage(kp, prog):
    """The rendered man SYNOPSIS has one line per verb, in the order of PROG -h, each word
    for word that verb's `PROG VERB -h` usage line (plus [-h])."""
    env = dict(os.environ, MANWIDTH="2000")
    page = subprocess.run(["man", "-l", str(ROOT / "man" / f"{prog}.1")], env=env,
                          capture_output=True, timeout=30, check=True).stdout.decode()
    lines = page.splitlines()
    start = lines.index("SYNOPSIS") + 1
    end = next(i for i in range(start, len(lines)) if lines[i] and not lines[i][0].isspace())
    got = [" ".join(ln.split()) for ln in lines[start:end] if ln.strip()]
    assert got == [verb_usage(kp, prog, v) + " [-h]" for v in list_verbs(kp, prog)]


@pytest.mark.parametrize("prog", VERB_PROGRAMS)
def test_verbs_man_synopsis_matches_option_tables(kp, prog):
    """The man page has every section; its SYNOPSIS names exactly the options of the verbs'
    tables (and -h)."""
    page = (ROOT / "man" / f"{prog}.1").read_text()
    for sec in ["NAME", "SYNOPSIS", "DESCRIPTION", "VERBS", "OPTIONS", "EXIT STATUS",
                "EXAMPLES", "SEE ALSO"]:
        assert roff_section(page, sec), f"no {sec} section"
    in_man = synopsis_options(page)
    known = {"-h"}
    for verb in list_verbs(kp, prog):
        for short, long_, _, _ in verb_options(kp, prog, verb):
            assert short in in_man or long_ in in_man, \
                f"{short or long_} of {prog} {verb} missing from man SYNOPSIS"
            known |= {x for x in (short, long_) if x}
    assert not in_man - known, f"man SYNOPSIS of {prog} has unknown options {in_man - known}"


@pytest.mark.parametrize("prog", VERB_PROGRAMS)
def test_verbs_man_documents_every_verb_and_option(kp, prog):
    """VERBS has a subsection for every verb, and VERBS and OPTIONS together describe every
    option of every verb."""
    page = (ROOT / "man" / f"{prog}.1").read_text()
    verbs = roff_section(page, "VERBS")
    text = "\n".join(verbs + roff_section(page, "OPTIONS")).replace("\\-", "-")
    for verb in list_verbs(kp, prog):
        assert f".SS {verb}" in "\n".join(verbs).replace("\\-", "-"), f"no .SS {verb}"
        for short, long_, _, _ in verb_options(kp, prog, verb):
            for name in (short, long_):
                if name:
                    assert re.search(re.escape(name) + r"(?![A-Za-z0-9-])", text), \
                        f"{name} ({verb}) not described in {prog}.1"


@pytest.mark.parametrize("page", [f"{p}.1" for p in VERB_PROGRAMS])
def test_verbs_man_page_renders_cleanly(page):
    """man -l renders the page without groff warnings."""
    p = subprocess.run(["man", "--warnings", "-l", str(ROOT / "man" / page)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30,
                       env={"MANWIDTH": "80", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    assert p.returncode == 0, p.stderr
    assert not p.stderr.strip(), p.stderr.decode()
    assert b"NAME" in p.stdout and b"SYNOPSIS" in p.stdout


def test_bash_completion_kgroups_verbs_and_their_options(bin_dir):
    """bash: `kgroups de` completes to the verbs delete, delete-offsets and describe; after
    a verb, its own options (reset-offsets --to- -> the --to-... options; --from-file takes a
    file name)."""
    assert sorted(bash_complete(["kgroups", "de"], 1)) == ["delete", "delete-offsets", "describe"]
    assert sorted(bash_complete(["kgroups", "reset-offsets", "--to-"], 2)) == \
        ["--to-datetime", "--to-earliest", "--to-latest", "--to-offset"]
    assert bash_complete(["kgroups", "describe", "--mem"], 2) == ["--members"]
    assert bash_complete(["kgroups", "lag", "--wa"], 2) == ["--watch"]
    assert "--members" not in bash_complete(["kgroups", "lag", "--"], 2)
    assert "Makefile" in bash_complete(["kgroups", "reset-offsets", "--from-file", "Make"], 3)


def zsh_verb_words(words):
    """What completions/_kpipe offers in zsh for `words`: compadd's words (-a ARRAY expanded)
    or _arguments' specs."""
    script = ("_arguments() { print -rl -- \"$@\" }; "
              "compadd() { if [[ $1 == -a ]]; then print -rl -- ${(P)2}; "
              "else print -rl -- \"$@\"; fi }; "
              "_call_program() { shift; \"$@\" }; "
              f"source {ROOT / 'completions' / '_kpipe'} 2>/dev/null; "
              f"words=({' '.join(words)}); CURRENT={len(words)}; _kpipe")
    p = subprocess.run(["zsh", "-f", "-c", script], capture_output=True, timeout=30,
                       env={"PATH": f"{BIN}:/usr/bin:/bin", "HOME": "/nonexistent"})
    assert p.returncode == 0, p.stderr
    return p.stdout.decode().splitlines()


def test_zsh_completion_kgroups_verbs_and_their_options():
    """zsh: the second word completes from the verbs (de -> delete, delete-offsets,
    describe); after a verb the specs are that verb's options."""
    assert sorted(w for w in zsh_verb_words(["kgroups", "de"]) if w.startswith("de")) == \
        ["delete", "delete-offsets", "describe"]
    specs = zsh_verb_words(["kgroups", "reset-offsets", "--to-"])
    assert "--to-earliest[to-earliest]" in specs, specs
    assert "--to-offset=[to-offset]:OFFSET: " in specs, specs
    assert "--from-file=[from-file]:FILE:_files" in specs, specs
    assert not any("--members" in s for s in specs), specs


def test_fish_completion_kgroups_verbs_and_their_options():
    """fish: `kgroups de` completes to the three verbs; `kgroups reset-offsets --to-` to the
    --to-... options of that verb only."""
    assert sorted(fish_complete("kgroups de")) == ["delete", "delete-offsets", "describe"]
    assert sorted(fish_complete("kgroups reset-offsets --to-")) == \
        ["--to-datetime", "--to-earliest", "--to-latest", "--to-offset"]
    assert fish_complete("kgroups describe --mem") == ["--members"]


# ktopics's completion (the generic verb checks above cover its help, man page and options)
def test_ktopics_completion_bash_zsh_fish(bin_dir):
    """`ktopics de` completes to delete, delete-records and describe in bash, zsh and fish;
    after a verb, its own options (describe --int -> --internal; delete-records --be ->
    --before)."""
    want = ["delete", "delete-records", "describe"]
    assert sorted(bash_complete(["ktopics", "de"], 1)) == want
    assert sorted(w for w in zsh_verb_words(["ktopics", "de"]) if w.startswith("de")) == want
    assert sorted(fish_complete("ktopics de")) == want
    assert bash_complete(["ktopics", "describe", "--configs"], 2) == ["--configs"]
    assert bash_complete(["ktopics", "describe", "--int"], 2) == ["--internal"]
    assert bash_complete(["ktopics", "delete-records", "--be"], 2) == ["--before"]
    assert "--if-not-exists" not in bash_complete(["ktopics", "delete", "--"], 2)
    assert fish_complete("ktopics create --if") == ["--if-not-exists"]
