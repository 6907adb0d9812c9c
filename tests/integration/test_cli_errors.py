"""The CLI's error paths through the gmrenew binary: each gives a clear
message and the exit code of docs/exit-codes.md (2 usage, 5 environment,
6 PIN)."""
import json
import re

import pytest

import gmtest

LIBZ = "/lib/x86_64-linux-gnu/libz.so.1"


class Soft:
    """Soft token slots and a configuration naming the module."""

    def __init__(self, root):
        self.root = root
        self.token = gmtest.SoftToken(root)
        self.config = root / "config.ini"
        self.config.write_text("[token]\nmodule = %s\napi = pkcs11\n"
                               % self.token.module)

    def env(self, **extra):
        env = self.token.env(GMRENEW_CONFIG=self.config, **extra)
        for k in ("GMRENEW_PIN", "GMRENEW_PKCS11_MODULE"):
            env.pop(k, None)
        return env

    def run(self, *args, check, **extra):
        return gmtest.gmrenew_run(*args, env=self.env(**extra), check=check)


@pytest.fixture
def soft(tmp_path):
    return Soft(tmp_path)


def test_missing_module(soft):
    p = soft.run("--module", soft.root / "missing" / "libnothere.so",
                 "list-certs", check=5)
    assert "libnothere.so" in p.stderr and "does not exist" in p.stderr
    assert "--module" in p.stderr           # what to do
    doc = json.loads(soft.run("--json", "--module", soft.root / "nope.so",
                              "list-certs", check=5).stdout)
    assert doc["ok"] is False and doc["error"]["exit_code"] == 5
    assert doc["error"]["fix"]


def test_library_that_is_not_pkcs11(soft):
    p = soft.run("--module", LIBZ, "list-certs", check=5)
    assert "is not a PKCS#11 module" in p.stderr
    assert "libz" in p.stderr


def test_module_in_config_missing(soft):
    soft.config.write_text("[token]\nmodule = %s\n" % (soft.root / "x.so"))
    p = soft.run("list-certs", check=5)
    assert "x.so" in p.stderr


def test_no_token(soft):
    soft.token.tool_run("empty", "--slot", 0)
    p = soft.run("list-certs", check=5)
    assert "no token is inserted" in p.stderr
    assert "insert the Ekey" in p.stderr


def two_tokens(soft):
    soft.token.init(slot=0, label="Ekey A", serial="3000A1000000A001")
    soft.token.init(slot=1, label="Ekey B", serial="3000A1000000B002")


def test_two_tokens(soft):
    two_tokens(soft)
    p = soft.run("list-certs", check=5)
    assert "3000A1000000A001" in p.stderr and "3000A1000000B002" in p.stderr
    assert "--token" in p.stderr
    assert "one Ekey at a time" in p.stderr


def test_token_uri_selects_one_of_two(soft):
    two_tokens(soft)
    p = soft.run("--token", "pkcs11:serial=3000A1000000B002", "list-certs",
                 check=0)
    assert "serial 3000A1000000B002" in p.stdout
    doc = json.loads(soft.run("list-certs", "--json", "--token",
                              "pkcs11:token=Ekey%20A", check=0).stdout)
    assert doc["token"]["serial"] == "3000A1000000A001"
    # the URI list-certs prints selects the same token
    again = json.loads(soft.run("--json", "--token", doc["token"]["uri"],
                                "list-certs", check=0).stdout)
    assert again["token"]["serial"] == "3000A1000000A001"
    # a URI matching none: environment, naming what is inserted
    p = soft.run("--token", "pkcs11:serial=NOPE", "list-certs", check=5)
    assert "NOPE" in p.stderr and "3000A1000000A001" in p.stderr
    assert "gmrenew tokens" not in p.stderr     # no such command


def test_bad_token_uri(soft):
    two_tokens(soft)
    for bad in ("serial=3000A1000000A001", "http://example.com/"):
        p = soft.run("--token", bad, "list-certs", check=2)
        assert "bad token URI" in p.stderr
        assert "pkcs11:serial=" in p.stderr
        assert "gmrenew tokens" not in p.stderr


def tries(token):
    m = re.search(r"tries=(\d+)", token.pin_status())
    assert m, token.pin_status()
    return int(m.group(1))


def test_wrong_pin(world):
    assert tries(world.token) == 6
    wrong = world.root / "wrong-pin"
    wrong.write_text("00000000\n")
    p = gmtest.assert_no_sanitizer(
        world.gmrenew("renew", "--yes", "--pin-file", wrong, check=6))
    assert "PIN" in p.stderr, p.stderr
    assert "incorrect" in p.stderr.lower() or "wrong" in p.stderr.lower()
    assert "5 more wrong PINs" in p.stderr, p.stderr   # tries left
    # exactly one try was used: the wrong PIN is never sent again
    assert tries(world.token) == 5
    doc = json.loads(world.gmrenew("--json", "renew", "--yes", "--pin-file",
                                   wrong, check=6).stdout)
    assert doc["error"]["exit_code"] == 6
    assert tries(world.token) == 4
    # the right PIN is not affected
    assert "CN=JSB0000" in world.gmrenew("list-certs", check=0).stdout


def test_locked_pin_sends_no_pin(world):
    world.token.tool_run("set-tries", "--slot", 0, "--tries", 0)
    trace = world.root / "trace.log"
    p = gmtest.assert_no_sanitizer(world.gmrenew(
        "renew", "--yes", "--pin-file", world.pin_file, check=6,
        env=world.env(GMSOFT_TRACE=trace)))
    assert "locked" in p.stderr
    assert "unlock" in p.stderr and "SO PIN" in p.stderr
    calls = trace.read_text().splitlines()
    assert calls, "the trace is empty"
    assert not [c for c in calls if " C_Login " in c], calls
    assert tries(world.token) == 0


def test_unknown_command(soft):
    p = soft.run("frobnicate", check=2)
    assert "'frobnicate' is not a gmrenew command" in p.stderr
    assert "--help" in p.stderr


def test_unknown_option(soft):
    p = soft.run("list-certs", "--frobnicate", check=2)
    assert "unknown option" in p.stderr and "--frobnicate" in p.stderr
    assert "gmrenew list-certs --help" in p.stderr
    p = soft.run("verify", "--cert", check=2)
    assert "needs a value" in p.stderr
    p = soft.run("list-certs", "extra-argument", check=2)
    assert "extra-argument" in p.stderr


def test_no_command(soft):
    p = soft.run(check=2)
    assert "usage" in p.stderr.lower()
    p = soft.run("--json", check=2)
    assert "no command" in p.stderr


def test_bad_config_file(soft):
    soft.token.init()
    soft.config.write_text("[token]\nmodule = %s\n\n[service]\n"
                           "colour = blue\n" % soft.token.module)
    p = soft.run("list-certs", check=2)
    assert str(soft.config) in p.stderr
    assert re.search(r"\b5\b", p.stderr), p.stderr      # the line
    assert "colour" in p.stderr
    # --config names the file too
    other = soft.root / "other.ini"
    other.write_text("[token]\nmodule = %s\nnonsense\n" % soft.token.module)
    p = soft.run("--config", other, "list-certs", check=2)
    assert str(other) in p.stderr and re.search(r"\b3\b", p.stderr)
    # a --config that does not exist is a usage error as well
    p = soft.run("--config", soft.root / "absent.ini", "list-certs", check=2)
    assert "absent.ini" in p.stderr


def test_version(soft):
    p = soft.run("--version", check=0)
    assert re.search(r"^gmrenew \S+", p.stdout, re.M)
    tongsuo = re.search(r"^crypto: Tongsuo (\d+\.\d+\.\d+) \(compatible "
                        r"with OpenSSL (\d+\.\d+\.\d+)", p.stdout, re.M)
    if tongsuo:
        # the system openssl stays on PATH for the other tests: compare
        # with the command of the Tongsuo that gmrenew was built on
        tool = gmtest.run([gmtest.need_env("GMRENEW_TONGSUO_BIN"),
                           "version"]).stdout
        assert "Library: Tongsuo %s)" % tongsuo.group(1) in tool, tool
        assert "Library: OpenSSL %s " % tongsuo.group(2) in tool, tool
    else:
        m = re.search(r"^crypto: OpenSSL (\d+\.\d+\.\d+)", p.stdout, re.M)
        assert m, p.stdout
        tool = gmtest.openssl("version").stdout
        assert "Library: OpenSSL " + m.group(1) in tool or \
            tool.startswith("OpenSSL " + m.group(1))
    assert re.search(r"libcurl: \d+\.\d+\.\d+", p.stdout), p.stdout


def test_help_lists_only_working_commands(soft):
    p = soft.run("--help", check=0)
    names = re.findall(r"^  ([a-z][a-z-]+)\s{2,}", p.stdout, re.M)
    assert {"list-certs", "verify", "renew", "renew-with-code"} <= set(names)
    for name in names:
        h = soft.run(name, "--help", check=0)
        assert h.stdout.startswith("usage: gmrenew " + name), h.stdout
    # nothing in the help points at a command that does not exist
    for word in re.findall(r"'gmrenew ([a-z][a-z-]+)", p.stdout):
        assert word in names, word


def test_unknown_option_without_a_command(soft):
    p = soft.run("--bogus", check=2)
    assert "unknown option '--bogus'" in p.stderr, p.stderr
    assert "no command given" not in p.stderr
    p = soft.run("--config", check=2)
    assert "'--config' needs a value" in p.stderr, p.stderr


def test_missing_value_names_the_long_option(soft):
    for cmd in ("renew", "list-certs", "verify"):
        p = soft.run(cmd, "--pin-file", check=2)
        assert "'--pin-file' needs a value" in p.stderr, p.stderr
        assert "\\x" not in p.stderr, p.stderr
    p = soft.run("renew", "-c", check=2)
    assert "'-c' needs a value" in p.stderr, p.stderr


def test_help_command(soft):
    p = soft.run("help", "renew", check=0)
    assert "gmrenew renew [options]" in p.stdout
    assert "--pin-file" in p.stdout and "--keep-old" in p.stdout
    assert "gmrenew renew-with-code [options]" not in p.stdout
    p = soft.run("help", "renew", "verify", check=2)
    assert "unexpected argument 'verify'" in p.stderr


def test_unknown_command_suggests_the_nearest(soft):
    p = soft.run("renw", check=2)
    assert "did you mean 'renew'?" in p.stderr, p.stderr
    p = soft.run("list-cert", check=2)
    assert "did you mean 'list-certs'?" in p.stderr, p.stderr
    p = soft.run("help", "verfy", check=2)
    assert "did you mean 'verify'?" in p.stderr, p.stderr
    p = soft.run("frobnicate", check=2)
    assert "did you mean" not in p.stderr


def test_extra_arguments_one_message(soft):
    for args in (("check-env", "x"), ("list-certs", "x"), ("verify", "x"),
                 ("renew", "x"), ("renew-with-code", "K7QF-3MZP-W9CD-HX2N",
                                  "x")):
        p = soft.run(*args, check=2)
        assert "gmrenew %s: unexpected argument 'x'" % args[0] in p.stderr, \
            p.stderr
        assert "Try 'gmrenew %s --help'" % args[0] in p.stderr
