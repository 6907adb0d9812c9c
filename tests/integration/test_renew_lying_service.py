"""A renewal service that lies, a second gmrenew arriving late, and
interruptions: what is removed from the token is decided by gmrenew's own
journal and a fresh read of the token, never by the service's answers.

After every attack the token is checked with pkcs11-tool and openssl (not
with gmrenew): the old certificate and its key are there and sign, nothing
was installed that should not be, and a later renewal against the honest
service ends with exactly one new pair."""
import json
import os
import re
import signal
import subprocess
import time

import pytest

import gmtest
from gmtest import PIN, need_env, need_tool, openssl, run

DIGEST = bytes(range(32))


# ---- the token, seen through pkcs11-tool and openssl ----

def p11(world, *args, login=False, check=True):
    cmd = [need_tool("pkcs11-tool"), "--module", world.token.module]
    if login:
        cmd += ["--login", "--pin", PIN]
    return run(cmd + list(args), check=check, env=world.env())


def objects(world):
    """[(kind, id hex, label)] of every object, after login."""
    out = p11(world, "--list-objects", login=True).stdout
    objs = []
    for line in out.splitlines():
        m = re.match(r"(Certificate|Public Key|Private Key) Object", line)
        if m:
            objs.append([m.group(1), None, None])
        elif objs and line.strip().startswith("ID:"):
            objs[-1][1] = line.split(":", 1)[1].strip()
        elif objs and line.strip().startswith("label:"):
            objs[-1][2] = line.split(":", 1)[1].strip()
    return sorted(tuple(o) for o in objs)


def cert_sha(world, key_id):
    der = world.root / ("read-%s.der" % key_id)
    p11(world, "--read-object", "--type", "cert", "--id", key_id,
        "--output-file", der)
    return openssl("x509", "-inform", "DER", "-in", der, "-noout",
                   "-fingerprint", "-sha256").stdout.split("=")[1].strip() \
        .replace(":", "").lower()


def usable(world, key_id):
    """The certificate with this CKA_ID is valid now and its private key
    signs a digest that openssl verifies with the certificate's key."""
    d = world.root / ("check-%s-%d" % (key_id, time.monotonic_ns()))
    d.mkdir()
    der, pem, pub = d / "c.der", d / "c.pem", d / "pub.pem"
    e, raw, sig = d / "e.bin", d / "sig.raw", d / "sig.der"
    p11(world, "--read-object", "--type", "cert", "--id", key_id,
        "--output-file", der)
    openssl("x509", "-inform", "DER", "-in", der, "-out", pem)
    if openssl("x509", "-in", pem, "-noout", "-checkend", "0",
               check=False).returncode:
        return False
    openssl("x509", "-in", pem, "-noout", "-pubkey", "-out", pub)
    e.write_bytes(DIGEST)
    if p11(world, "--sign", "-m", "0x80000202", "--id", key_id,
           "--input-file", e, "--output-file", raw, login=True,
           check=False).returncode:
        return False
    world.token.tool_run("sig-to-der", "--in", raw, "--out", sig)
    return openssl("pkeyutl", "-verify", "-pubin", "-inkey", pub, "-in", e,
                   "-sigfile", sig, check=False).returncode == 0


def old_pair_intact(world, old_sha, what):
    objs = objects(world)
    assert ("Certificate", "01", "JSB0000") in objs, (what, objs)
    assert ("Private Key", "01", "JSB0000") in objs, (what, objs)
    assert ("Public Key", "01", "JSB0000") in objs, (what, objs)
    assert cert_sha(world, "01") == old_sha, what
    assert usable(world, "01"), "%s: the old pair does not sign" % what


def no_new_certificate(world, what):
    certs = [o for o in objects(world) if o[0] == "Certificate"]
    assert [c[1] for c in certs] == ["01"], (what, certs)


def finished_honestly(world, old_sha, what, other=()):
    """One renewed pair labelled JSB0000 (plus the untouched objects
    `other`), usable, and verify passes."""
    objs = [o for o in objects(world) if o not in other]
    kinds = sorted(o[0] for o in objs)
    assert kinds == ["Certificate", "Private Key", "Public Key"], (what, objs)
    assert len({o[1] for o in objs}) == 1 and objs[0][1] != "01", (what, objs)
    assert {o[2] for o in objs} == {"JSB0000"}, (what, objs)
    assert cert_sha(world, objs[0][1]) != old_sha
    assert usable(world, objs[0][1]), what
    world.gmrenew("verify", check=0)


def renew(world, *extra, check=None, env=None):
    p = world.gmrenew("renew", "--yes", "--pin-file", world.pin_file, *extra,
                      env=env)
    gmtest.assert_no_sanitizer(p)
    if check is not None:
        assert p.returncode == check, "exit %d, want %d\n%s\n%s" % (
            p.returncode, check, p.stdout, p.stderr)
    return p


def with_code(world, code, check=None):
    p = world.gmrenew("renew-with-code", code, "--pin-file", world.pin_file)
    gmtest.assert_no_sanitizer(p)
    if check is not None:
        assert p.returncode == check, "exit %d, want %d\n%s\n%s" % (
            p.returncode, check, p.stdout, p.stderr)
    return p


def code_of(text):
    m = re.search(r"UPDATE CODE \(更新码\):\s+(\S+)", text)
    return m.group(1) if m else None


def old_sha_of(world):
    return cert_sha(world, "01")


# ---- 1: confirmed answers with wrong fingerprints, at every step ----

LIES = ("confirmed_old", "old_fp_new", "old_fp_other")


@pytest.mark.parametrize("lie", LIES)
@pytest.mark.parametrize("kind", ["start", "csr", "status", "confirm"])
def test_lying_answers_never_remove_anything(world, kind, lie):
    old_sha = old_sha_of(world)
    what = "%s answer %s" % (kind, lie)
    code = None
    if kind == "status":
        # the renewal broke after the code was given; the service lies when
        # asked for its state
        world.service.fault("csr", "http_error", status=500)
        code = code_of(renew(world, check=7).stderr)
        world.service.faults_clear()
    world.service.fault(kind, lie)
    p = with_code(world, code) if code else renew(world)
    code = code or code_of(p.stderr)
    world.service.faults_clear()
    assert p.returncode == 7, "%s: exit %d\n%s" % (what, p.returncode,
                                                    p.stderr)
    assert "Renewed" not in p.stdout
    # the old pair is on the token, unchanged and usable
    old_pair_intact(world, old_sha, what)
    if kind != "confirm":
        no_new_certificate(world, what)
    # the honest service finishes the renewal
    p = with_code(world, code) if code else renew(world)
    assert p.returncode == 0, "%s: recovery exit %d\n%s" % (
        what, p.returncode, p.stderr)
    finished_honestly(world, old_sha, what)


# ---- 2: a certificate for another identity's key already on the token ----

OTHER_SUBJECT = "CN=JSB0009@IST@30,OU=深证通CCNET证书测试,OU=CCNET,O=SSCCCA,C=CN"


def test_certificate_for_another_key_on_the_token_is_refused(world):
    old_sha = old_sha_of(world)
    world.add_cert(key_id="09", label="OTHER", days_left=400,
                   subject=OTHER_SUBJECT, gateway="JSB0009")
    other_pub = world.root / "pub-0-09.pem"
    other = [o for o in objects(world) if o[1] == "09"]
    assert len(other) == 3
    world.service.fault("csr", "cert_for_key", pubkey=other_pub)
    world.service.fault("status", "cert_for_key", pubkey=other_pub)
    p = renew(world, "--cert", "1", check=8)
    code = code_of(p.stderr)
    assert "new_key" in p.stderr or "new key" in p.stderr, p.stderr
    assert "NOT installed" in p.stderr
    world.service.faults_clear()
    objs = objects(world)
    # the other identity's pair is exactly as it was, and still signs
    assert [o for o in objs if o[1] == "09"] == other
    assert usable(world, "09")
    old_pair_intact(world, old_sha, "cert_for_key")
    # nothing was installed; the pending key pair is still there
    assert sorted(o[0] for o in objs if o[1] not in ("01", "09")) == [
        "Private Key", "Public Key"], objs
    with_code(world, code, check=0)
    finished_honestly(world, old_sha, "cert_for_key", other=other)
    assert usable(world, "09")


# ---- 3: an update code the CA never issued ----

def test_made_up_update_code_is_a_service_error_and_cleaned_up(world):
    old_sha = old_sha_of(world)
    world.service.fault("start", "fake_code", count=1)
    p = renew(world)
    assert p.returncode == 7, "exit %d\n%s" % (p.returncode, p.stderr)
    fake = code_of(p.stderr)
    assert fake and fake not in [o["update_code"]
                                 for o in world.service.orders()]
    world.service.faults_clear()
    old_pair_intact(world, old_sha, "fake code")
    stale = "gmrenew-pending-" + fake.replace("-", "")
    assert stale in [o[2] for o in objects(world)]
    # the next renewal succeeds and removes what the made-up one left
    p = renew(world, check=0)
    assert code_of(p.stderr) != fake
    assert stale not in [o[2] for o in objects(world)], objects(world)
    finished_honestly(world, old_sha, "after a fake code")


# ---- 9: a second gmrenew that arrives late ----

def test_a_late_second_process_reads_the_token_under_the_lock(world):
    old_sha = old_sha_of(world)
    lock = world.state / "locks" / (gmtest.SERIAL + ".lock")
    r, w = os.pipe()
    first = subprocess.Popen(
        [need_env("GMRENEW_BIN"), "renew", "--yes", "--pin-fd", str(r)],
        env=world.env(), pass_fds=(r,), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    os.close(r)
    try:
        # the first one has read the token and waits for its PIN
        deadline = time.time() + 15
        while time.time() < deadline:
            if lock.exists() and lock.read_text().strip() == str(first.pid):
                break
            time.sleep(0.1)
        # a second one comes and goes while the first waits
        second = renew(world)
        os.write(w, (PIN + "\n").encode())
        os.close(w)
        w = None
        out, err = first.communicate(timeout=120)
    finally:
        if w is not None:
            os.close(w)
        if first.poll() is None:
            first.kill()
    assert second.returncode == 1, second.stderr
    assert "another gmrenew process (pid %d)" % first.pid in second.stderr
    assert first.returncode == 0, err
    assert "superseded" not in err and "contact the CA" not in err
    finished_honestly(world, old_sha, "late second process")


# ---- 10: interruptions ----

def wait_for_log(world, count, timeout=30):
    deadline = time.time() + timeout
    while len(world.service.log_lines()) < count:
        assert time.time() < deadline, "no request %d" % count
        time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_renewal_says_how_to_finish_and_resumes(world, sig):
    old_sha = old_sha_of(world)
    world.service.fault("csr", "delay", ms=3000)
    before = len(world.service.log_lines())
    proc = subprocess.Popen(
        [need_env("GMRENEW_BIN"), "--json", "renew", "--yes", "--pin-file",
         str(world.pin_file)], env=world.env(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    wait_for_log(world, before + 2)       # lookup, start: the csr is next
    time.sleep(1.0)                       # inside the csr's delay
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    world.service.faults_clear()
    assert proc.returncode == 130, (proc.returncode, err)
    # the code was on stderr as one JSON line the moment it was issued
    first = json.loads(err.splitlines()[0])
    code = first["update_code"]
    assert first["event"] == "update_code" and re.fullmatch(
        r"[2-9A-Z]{4}(-[2-9A-Z]{4}){3}", code)
    assert "interrupted" in err and "still holds a usable certificate" in err
    assert "gmrenew renew-with-code " + code in err
    doc = json.loads(out)
    assert doc["ok"] is False and doc["error"]["exit_code"] == 130
    assert doc["update_code"] == code
    journal = json.loads(world.journal(code)
                         .read_text())
    # stopped after the CSR: the new key is known, nothing installed yet
    assert journal.get("new_id") and "new_sha256" not in journal, journal
    assert "finished" not in journal, journal
    old_pair_intact(world, old_sha, "interrupted")
    no_new_certificate(world, "interrupted")
    # list-certs --online names the code it knows
    online = world.gmrenew("list-certs", "--online", check=0).stdout
    assert "renew-with-code " + code in online and "CODE" not in online
    # and so does check-env
    env_check = world.gmrenew("check-env", env=world.env(GMRENEW_PIN=PIN))
    gmtest.assert_no_sanitizer(env_check)
    assert "renew-with-code " + code in env_check.stdout, env_check.stdout
    assert "renew-with-code CODE" not in env_check.stdout
    # a plain renew finds the journal and goes on with it
    p = renew(world, check=0)
    assert "Resuming the interrupted renewal " + code in p.stderr
    assert [o["state"] for o in world.service.orders()] == ["confirmed"]
    finished_honestly(world, old_sha, "resumed")


# ---- 13: long and multi-byte labels ----

def test_keep_old_with_a_long_multibyte_label(tmp_path):
    label = "深证通" * 20 + "JSB0000"          # 187 bytes in UTF-8
    w = gmtest.World(tmp_path, days_left=None)
    try:
        w.token.init()
        w.add_cert(label=label)
        old_sha = cert_sha(w, "01")
        renew(w, "--keep-old", check=0)
        labels = sorted(o[2] for o in objects(w) if o[0] == "Certificate")
        assert labels == sorted([label, label + " (replaced)"]), labels
        # a second run of the code finds it finished: nothing relabelled
        code = json.loads(w.journals()[0].read_text())["update_code"]
        p = with_code(w, code, check=0)
        assert "already complete" in p.stdout, p.stdout
        labels = sorted(o[2] for o in objects(w) if o[0] == "Certificate")
        assert labels == sorted([label, label + " (replaced)"]), labels
        assert cert_sha(w, "01") == old_sha
    finally:
        w.close()


# ---- 15: messages that say what happened and the one next step ----

def test_renew_with_code_checks_the_code_before_the_pin(world):
    trace = world.root / "trace"
    p = world.gmrenew("renew-with-code", "not-a-code", "--pin-file",
                      world.pin_file, env=world.env(GMSOFT_TRACE=trace))
    assert p.returncode == 2, p.stderr
    assert "not an update code" in p.stderr
    assert not trace.exists() or " C_Login " not in trace.read_text()


def test_finished_renewal_needs_no_pin_and_removes_nothing(world):
    code = code_of(renew(world, check=0).stderr)
    # no PIN source at all, no terminal: a finished renewal needs none
    p = world.gmrenew("renew-with-code", code)
    assert p.returncode == 0, p.stderr
    assert "already complete" in p.stdout
    assert "[8/8]" not in p.stderr and "Removing" not in p.stderr


def test_ca_refusing_force_does_not_advise_force(tmp_path):
    w = gmtest.World(tmp_path, days_left=200)
    try:
        p = renew(w, "--force", check=3)
        assert "--force" not in p.stderr, p.stderr
        assert re.search(r"opens on 20\d\d-\d\d-\d\d", p.stderr), p.stderr
        assert w.service.orders() == []
    finally:
        w.close()


def test_service_down_at_step_one_suggests_no_code(world):
    world.write_config(url="https://127.0.0.1:9")
    p = renew(world, check=7)
    assert "renew-with-code" not in p.stderr, p.stderr
    assert "nothing was started" in p.stderr


def test_missing_config_from_the_environment_names_the_variable(world):
    p = world.gmrenew("list-certs", env=world.env(
        GMRENEW_CONFIG=world.root / "missing.ini"))
    assert p.returncode == 2, p.stderr
    assert "GMRENEW_CONFIG" in p.stderr
