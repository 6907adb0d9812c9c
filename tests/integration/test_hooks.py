"""[hooks] on_renewed and on_failure: run after a renewal with the
environment docs/fleet.md lists (checked against the token and the openssl
command), never the PIN even when it came from $GMRENEW_PIN, their
certificate files removed afterwards, stopped at the timeout, and not run
when nothing was due."""
import re
import time

import gmtest

DUMP = """#!/bin/sh
out="$1"
env > "$out/env-$GMRENEW_HOOK"
cp "$GMRENEW_OLD_CERT_FILE" "$out/old.pem"
if [ -n "$GMRENEW_NEW_CERT_FILE" ]; then cp "$GMRENEW_NEW_CERT_FILE" "$out/new.pem"; fi
echo "$GMRENEW_OLD_CERT_FILE" > "$out/path"
"""


def dump_hook(out):
    script = out / "dump.sh"
    script.write_text(DUMP)
    script.chmod(0o755)
    return "%s %s" % (script, out)


def add_hooks(world, **keys):
    text = world.config.read_text() + "\n[hooks]\n"
    for k, v in keys.items():
        text += "%s = %s\n" % (k, v)
    world.config.write_text(text)


def env_of(path):
    return dict(l.split("=", 1) for l in path.read_text().splitlines()
                if "=" in l)


def sha256_of(pem):
    out = gmtest.openssl("x509", "-in", pem, "-noout", "-fingerprint",
                         "-sha256").stdout
    return out.strip().split("=", 1)[1].replace(":", "").lower()


def test_on_renewed_environment(world, tmp_path):
    out = tmp_path / "hook"
    out.mkdir()
    add_hooks(world, on_renewed=dump_hook(out),
              on_failure="touch %s/failure" % out)
    old = world.certs()[0]
    p = world.gmrenew("--json", "renew", "--yes", check=0,
                      env=world.env(GMRENEW_PIN=gmtest.PIN))
    doc = __import__("json").loads(p.stdout)
    env = env_of(out / "env-on_renewed")
    assert not (out / "failure").exists()
    assert env["GMRENEW_RESULT"] == "renewed"
    assert env["GMRENEW_COMMAND"] == "renew"
    assert env["GMRENEW_EXIT_CODE"] == "0"
    assert env["GMRENEW_TOKEN_SERIAL"] == gmtest.SERIAL
    assert env["GMRENEW_UPDATE_CODE"] == doc["update_code"]
    assert env["GMRENEW_GATEWAY"] == "JSB0000"
    assert env["GMRENEW_OLD_SHA256"] == old["sha256"] == \
        sha256_of(out / "old.pem")
    (new,) = world.certs()
    assert env["GMRENEW_NEW_SHA256"] == new["sha256"] == \
        sha256_of(out / "new.pem")
    assert env["GMRENEW_NEW_NOT_AFTER"] == new["not_after"]
    assert env["GMRENEW_NEW_SERIAL"] == new["serial"]
    # no PIN, nothing of the caller's environment but the basics
    assert "GMRENEW_PIN" not in env and "GMSOFT_PIN" not in env
    assert gmtest.PIN not in (out / "env-on_renewed").read_text()
    assert "GMRENEW_CONFIG" not in env
    # the certificate files were the hook's only
    assert not __import__("os").path.exists((out / "path").read_text().strip())


def test_on_failure_environment(world, tmp_path):
    out = tmp_path / "hook"
    out.mkdir()
    add_hooks(world, on_failure=dump_hook(out),
              on_renewed="touch %s/renewed" % out)
    world.service.fault("csr", "http_error", status=500)
    p = world.gmrenew("renew", "--yes", "--pin-file", world.pin_file, check=7)
    env = env_of(out / "env-on_failure")
    assert not (out / "renewed").exists()
    assert env["GMRENEW_RESULT"] == "failed"
    assert env["GMRENEW_EXIT_CODE"] == "7"
    assert env["GMRENEW_RETRYABLE"] == "1"
    assert env["GMRENEW_REASON"]
    assert env["GMRENEW_UPDATE_CODE"] in p.stderr
    assert "GMRENEW_NEW_SHA256" not in env
    assert env["GMRENEW_OLD_SHA256"] == world.certs()[0]["sha256"]


def test_hook_timeout_and_exit_status(world, tmp_path):
    add_hooks(world, on_renewed="sleep 60", timeout_seconds=1)
    t0 = time.monotonic()
    p = world.gmrenew("renew", "--yes", "--pin-file", world.pin_file, check=0)
    assert time.monotonic() - t0 < 30
    assert "hook on_renewed was stopped after 1 seconds" in p.stderr


def test_failing_hook_is_a_warning(world, tmp_path):
    add_hooks(world, on_renewed="exit 4")
    p = world.gmrenew("renew", "--yes", "--pin-file", world.pin_file, check=0)
    assert "hook on_renewed exited 4" in p.stderr


def test_no_hook_when_not_due(tmp_path):
    w = gmtest.World(tmp_path, days_left=400)
    try:
        add_hooks(w, on_renewed="touch %s/ran" % tmp_path,
                  on_failure="touch %s/ran" % tmp_path)
        w.gmrenew("renew", "--yes", "--pin-file", w.pin_file, check=3)
        assert not (tmp_path / "ran").exists()
    finally:
        w.close()


def test_hooks_section_is_checked(world):
    add_hooks(world, on_renewd="true")
    p = world.gmrenew("list-certs", check=2)
    assert re.search(r"unknown key 'on_renewd' in section '\[hooks\]'",
                     p.stderr)
