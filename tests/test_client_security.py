"""TLS and SASL are not built yet: every client program (kproduce, kconsume, ktopics, kgroups)
refuses a security.protocol other than PLAINTEXT, and any ssl.* or sasl.* property, with a
message on stderr: exit 1 when it comes from a -F file, 2 when it comes as -X (a bad
argument), instead of ignoring it and connecting in plaintext. PLAINTEXT itself (any case)
works. A broker is running, so a program that ignored the setting would exit 0."""
import pytest

# Each program's command line around -b BOOTSTRAP: (words before, words after; {t} the topic),
# one that succeeds against a live broker.
COMMANDS = {
    "kproduce": ([], ["-t", "{t}"]),
    "kconsume": ([], ["-t", "{t}", "-o", "beginning", "-e"]),
    "ktopics": (["describe"], ["{t}"]),
    "kgroups": (["list"], []),
}

REFUSED = {
    "security.protocol=SSL": "security.protocol=SSL is not supported yet",
    "security.protocol=SASL_PLAINTEXT": "security.protocol=SASL_PLAINTEXT is not supported yet",
    "security.protocol=SASL_SSL": "security.protocol=SASL_SSL is not supported yet",
    "security.protocol=sasl_ssl": "security.protocol=sasl_ssl is not supported yet",
    "ssl.truststore.location=/etc/ssl/truststore.jks": "ssl.truststore.location is not supported",
    "sasl.mechanism=PLAIN": "sasl.mechanism is not supported yet",
    "security.protocol=BOGUS": "bad security.protocol 'BOGUS'",
}


def run(kp, b, prog, topic, *extra):
    """PROG [VERB] -b BOOTSTRAP ARGS EXTRA, one record on standard input."""
    before, after = COMMANDS[prog]
    return kp.run(prog, *before, "-b", b.bootstrap, *(w.format(t=topic) for w in after), *extra,
                  input=b"x\n", timeout=60)


@pytest.fixture(scope="module")
def live(tmp_path_factory, bin_dir):
    """One kbroker for the module (the refusals happen before any connection)."""
    from conftest import Broker
    d = tmp_path_factory.mktemp("security") / "logs"
    d.mkdir()
    b = Broker([], d)
    yield b
    b.stop()
    b.check_sanitizer()


@pytest.fixture
def ready_topic(live, kp, topic):
    kp.produce(live.bootstrap, topic, input=b"x\n")
    return topic


@pytest.mark.parametrize("prog", sorted(COMMANDS))
@pytest.mark.parametrize("setting", sorted(REFUSED))
def test_refused_from_a_config_file_exits_1(live, kp, ready_topic, tmp_path, prog, setting):
    """-F FILE asking for TLS or SASL: exit 1, "PROG: FILE: SETTING is not supported yet",
    nothing written to standard output."""
    props = tmp_path / "client.properties"
    props.write_text(f"client.id=test\n{setting}\n")
    p = run(kp, live, prog, ready_topic, "-F", props)
    assert p.returncode == 1, (p.returncode, p.err)
    first = p.err.splitlines()[0]
    assert first.startswith(f"{prog}: {props}: ") and REFUSED[setting] in first, p.err
    assert p.stdout == b""


@pytest.mark.parametrize("prog", sorted(COMMANDS))
@pytest.mark.parametrize("setting", sorted(REFUSED))
def test_refused_as_a_property_exits_2(live, kp, ready_topic, prog, setting):
    """-X asking for TLS or SASL is a bad argument: exit 2 with the message and the usage."""
    p = run(kp, live, prog, ready_topic, "-X", setting)
    assert p.returncode == 2, (p.returncode, p.err)
    assert p.err.startswith(f"{prog}: ") and REFUSED[setting] in p.err.splitlines()[0], p.err
    assert "usage:" in p.err
    assert p.stdout == b""


@pytest.mark.parametrize("prog", sorted(COMMANDS))
def test_plaintext_is_accepted(live, kp, ready_topic, tmp_path, prog):
    """security.protocol=PLAINTEXT (any case), from -F or -X, is what is built: it works."""
    props = tmp_path / "client.properties"
    props.write_text("security.protocol=PLAINTEXT\n")
    p = run(kp, live, prog, ready_topic, "-F", props)
    assert p.returncode == 0, p.err
    p = run(kp, live, prog, ready_topic, "-X", "security.protocol=plaintext")
    assert p.returncode == 0, p.err


def test_a_later_refused_property_after_a_good_file(live, kp, ready_topic, tmp_path):
    """The check is on every setting in command-line order: a clean -F file then a -X asking
    for SASL is still refused (2), and a refused file is refused whatever follows (1)."""
    good, bad = tmp_path / "good.properties", tmp_path / "bad.properties"
    good.write_text("client.id=x\n")
    bad.write_text("sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule "
                   "required username=\"u\" password=\"p\";\n")
    p = run(kp, live, "kconsume", ready_topic, "-F", good, "-X", "sasl.mechanism=SCRAM-SHA-256")
    assert p.returncode == 2 and "sasl.mechanism is not supported yet" in p.err, p.err
    p = run(kp, live, "kconsume", ready_topic, "-F", bad, "-X", "security.protocol=PLAINTEXT")
    assert p.returncode == 1 and "sasl.jaas.config is not supported yet" in p.err, p.err
    assert "password" not in p.err, "the message must not show the value of a secret"
