"""Hostile local things: a PKCS#11 module that lies about lengths, token
and certificate strings holding terminal controls, planted files in the
state directory, damaged journals, the PIN in the environment, a missing
private key, and verify's time on many certificates."""
import datetime
import json
import os
import re
import pathlib
import subprocess
import time

import pytest

import gmtest
from certmaker import Maker, bundle

SUBJECT = "CN=JSB0000@IST@30,OU=深证通CCNET证书测试,OU=CCNET,O=SSCCCA,C=CN"


class Bench:
    """A soft token with certificates made by certmaker, and a
    configuration naming a chain bundle and a state directory."""

    def __init__(self, root, label="JSB0000 Ekey", serial="3000000000000009"):
        self.root = root
        self.m = Maker(root / "certs")
        self.token = gmtest.SoftToken(root)
        self.token.init(label=label, serial=serial)
        self.config = root / "config.ini"
        self.state = root / "state"
        self.bundle_file = root / "bundle.pem"
        self.pin_file = root / "pin"
        self.pin_file.write_text(gmtest.PIN + "\n")
        self.pin_file.chmod(0o600)

    def configure(self, *anchors):
        bundle(self.bundle_file, *anchors)
        self.config.write_text(
            "[token]\nmodule = %s\napi = pkcs11\n\n[service]\nchain_bundle = %s\n\n"
            "[renewal]\nstate_dir = %s\n" % (self.token.module,
                                            self.bundle_file, self.state))

    def put(self, cert, key_id="01", with_key=True, label=None):
        if with_key:
            self.token.import_key(0, key_id, "key " + key_id, cert.key)
        self.token.import_cert(0, key_id, label or ("cert " + key_id),
                               cert.pem)

    def env(self, **extra):
        env = self.token.env(GMRENEW_CONFIG=self.config, TZ="UTC")
        for k in ("GMRENEW_PIN", "GMRENEW_PKCS11_MODULE"):
            env.pop(k, None)
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def run(self, *args, check=0, **extra):
        return gmtest.gmrenew_run(*args, env=self.env(**extra), check=check)


@pytest.fixture
def bench(tmp_path):
    b = Bench(tmp_path)
    root, _, leaf = b.m.chain("h", 2, SUBJECT, days=300)
    b.put(leaf)
    b.configure(root)
    b.leaf = leaf
    return b


# ---- a module that reports longer values than it wrote ------------------

@pytest.mark.parametrize("lie", [1, 64, 100000])
def test_module_lying_about_lengths_is_refused(bench, lie):
    for cmd in (["list-certs"], ["--json", "list-certs"], ["verify"]):
        p = bench.run(*cmd, check=None, GMSOFT_LIE_LENGTH=lie)
        assert p.returncode not in (0, 98, 99), p.stderr
        assert "unrecoverable error" in p.stderr + p.stdout, p.stderr


def test_module_lying_about_lengths_off_is_honest(bench):
    p = bench.run("list-certs", GMSOFT_LIE_LENGTH=0)
    assert "JSB0000" in p.stdout


# ---- GMRENEW_PIN leaves the environment as gmrenew starts ---------------

def wait_module_loaded(proc, module):
    """Waits until the PKCS#11 module is mapped: main() has run by then."""
    name = os.path.basename(module)
    for _ in range(400):
        try:
            if name in pathlib.Path("/proc/%d/maps" % proc.pid).read_text():
                return
        except FileNotFoundError:
            break
        if proc.poll() is not None:
            break
        time.sleep(0.025)
    raise AssertionError("gmrenew ended before its state could be read")


@pytest.mark.parametrize("cmd", [["list-certs"], ["verify"]])
def test_pin_taken_out_of_environment(bench, cmd):
    secret = gmtest.PIN             # list-certs and verify log in with it
    env = bench.env(GMRENEW_PIN=secret, GMSOFT_LATENCY="call:150")
    for k in ("GMSOFT_PIN", "GMSOFT_SO_PIN"):    # only gmrenew's copy
        env.pop(k, None)
    proc = subprocess.Popen([gmtest.need_env("GMRENEW_BIN")] + cmd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_module_loaded(proc, bench.token.module)
        environ = pathlib.Path("/proc/%d/environ" % proc.pid).read_bytes()
        limits = pathlib.Path("/proc/%d/limits" % proc.pid).read_text()
    finally:
        out, err = proc.communicate(timeout=120)
    assert secret.encode() not in environ
    assert b"GMSOFT_DIR=" in environ        # the rest is still there
    core = [l for l in limits.splitlines() if l.startswith("Max core")]
    assert core and core[0].split()[4:6] == ["0", "0"], limits
    assert proc.returncode == 0, err.decode()
    assert b"Sanitizer" not in err



# ---- planted files in the state directory -------------------------------

@pytest.fixture
def world(tmp_path):
    w = gmtest.World(tmp_path)
    yield w
    w.close()


def renew(world, check):
    return gmtest.gmrenew_run("renew", "--yes", "--pin-file", world.pin_file,
                              env=world.env(), check=check)


def code_of(p):
    import re
    return re.search(r"UPDATE CODE \(更新码\):\s+(\S+)", p.stderr).group(1)


def victim(world):
    v = world.root / "victim.txt"
    v.write_text("precious\n")
    return v


def assert_old_pair_kept(world):
    (cert,) = world.certs()
    assert cert["has_private_key"] is True and cert["days_left"] < 31


def test_lock_symlink_is_not_followed(world):
    v = victim(world)
    (world.state / "locks").mkdir(parents=True)
    (world.state / "locks" / (gmtest.SERIAL + ".lock")).symlink_to(v)
    p = renew(world, check=2)
    assert "symbolic link" in p.stderr
    assert v.read_text() == "precious\n"
    assert_old_pair_kept(world)


def test_lock_hard_link_is_not_truncated(world):
    v = victim(world)
    (world.state / "locks").mkdir(parents=True)
    os.link(v, world.state / "locks" / (gmtest.SERIAL + ".lock"))
    p = renew(world, check=2)
    assert "not a plain file" in p.stderr
    assert v.read_text() == "precious\n"


def test_journal_temp_symlink_is_not_followed(world):
    world.service.fault("csr", "http_error", status=500)
    code = code_of(renew(world, check=7))
    world.service.faults_clear()
    v = victim(world)
    jdir = world.state / "journal"
    # the names a fixed-name writer would use
    (jdir / (code + ".json.tmp")).symlink_to(v)
    gmtest.gmrenew_run("renew-with-code", code, "--pin-file", world.pin_file,
                       env=world.env(), check=0)
    assert v.read_text() == "precious\n"
    path = jdir / "done" / (code + ".json")
    doc = json.loads(path.read_text())
    assert doc.get("finished")
    assert not path.is_symlink()
    assert not (jdir / (code + ".json")).exists()


def test_no_temporary_files_left(world):
    renew(world, check=0)
    jdir = world.state / "journal"
    names = sorted(str(p.relative_to(jdir)) for p in jdir.rglob("*"))
    assert len(names) == 2 and names[0] == "done" and \
        re.fullmatch(r"done/[0-9A-Z-]+\.json", names[1]), names


def test_every_file_created_in_the_state_directory_is_exclusive(world):
    """Journal, run record, lock: every open that may create a file in the
    state directory either makes a new one (O_EXCL: a planted link is
    never followed nor truncated) or refuses links (O_NOFOLLOW)."""
    trace = world.root / "strace-state.out"
    env = world.env()
    env["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=0:exitcode=99"
    p = subprocess.run([gmtest.need_tool("strace"), "-f", "-qq", "-e",
                        "trace=open,openat,creat", "-o", str(trace),
                        gmtest.need_env("GMRENEW_BIN"), "renew", "--yes",
                        "--pin-file", str(world.pin_file)],
                       env=env, capture_output=True, text=True, timeout=600)
    gmtest.assert_no_sanitizer(p)
    assert p.returncode == 0, p.stderr
    creating = [l for l in trace.read_text().splitlines()
                if str(world.state) in l and "O_CREAT" in l]
    assert len(creating) >= 3, creating     # lock, journal, run record
    unsafe = [l for l in creating
              if "O_EXCL" not in l and "O_NOFOLLOW" not in l]
    assert not unsafe, unsafe


@pytest.mark.parametrize("how", ["symlink", "world-writable", "group-writable",
                                 "other-owner"])
def test_unsafe_state_directory_is_refused(world, how):
    real = world.root / "real-state"
    real.mkdir(mode=0o700)
    if how == "symlink":
        world.state.symlink_to(real)
    else:
        world.state.mkdir(mode=0o700)
        if how == "world-writable":
            world.state.chmod(0o777)
        elif how == "group-writable":
            world.state.chmod(0o770)
        else:
            os.chown(world.state, 65534, 65534)
    p = renew(world, check=2)
    assert "state directory '%s'" % world.state in p.stderr, p.stderr
    assert "what to do:" in p.stderr
    assert not list(real.iterdir())
    assert_old_pair_kept(world)


def test_state_directory_created_private(world):
    renew(world, check=0)
    for d in (world.state, world.state / "journal", world.state / "locks"):
        assert (d.stat().st_mode & 0o777) == 0o700, d


# ---- a damaged journal --------------------------------------------------

@pytest.mark.parametrize("damage", [b"", b"{\"version\": 1, \"steps\": [",
                                    b"\x00\xff garbage", b"[1, 2]"])
def test_damaged_journal_moved_aside_and_renewal_finishes(world, damage):
    world.service.fault("confirm", "http_error", status=500)
    code = code_of(renew(world, check=7))
    world.service.faults_clear()
    jdir = world.state / "journal"
    (jdir / (code + ".json")).write_bytes(damage)
    p = gmtest.gmrenew_run("renew-with-code", code, "--pin-file",
                           world.pin_file, env=world.env(), check=0)
    assert "warning: the journal of renewal %s was damaged" % code in p.stderr
    aside = [x for x in jdir.iterdir()
             if x.name.startswith(code + ".json.damaged-")]
    assert len(aside) == 1 and aside[0].read_bytes() == damage
    doc = json.loads(world.journal(code).read_text())
    assert doc["damaged_journal"] == str(aside[0])
    (order,) = [o for o in world.service.orders() if o["update_code"] == code]
    assert order["state"] == "confirmed"
    (cert,) = world.certs()
    assert cert["sha256"] == order["cert_sha256"]
    assert cert["has_private_key"] is True


# ---- a journal written by the previous version ---------------------------

V1_STEPS = ["started", "key_generated", "issued", "verified", "installed",
            "confirmed", "retired"]


def as_version_1(path, last_step):
    """The journal as version 1 wrote it: the same facts, a list of the
    steps done and the last one, no "finished"."""
    doc = json.loads(path.read_text())
    doc.pop("finished", None)
    doc["version"] = 1
    done = V1_STEPS[:V1_STEPS.index(last_step) + 1]
    doc["steps"] = [{"step": s, "at": "2026-11-24T06:31:%02dZ" % n}
                    for n, s in enumerate(done)]
    doc["last_step"] = last_step
    path.write_text(json.dumps(doc, indent=2) + "\n")


def test_version_1_journal_is_resumed_and_rewritten(world):
    world.service.fault("confirm", "http_error", status=500)
    code = code_of(renew(world, check=7))
    world.service.faults_clear()
    path = world.state / "journal" / (code + ".json")
    as_version_1(path, "installed")
    # a plain renew finds the unfinished renewal in the old journal
    p = renew(world, check=0)
    assert "Resuming the interrupted renewal %s" % code in p.stderr
    doc = json.loads(world.journal(code).read_text())
    assert doc["version"] == 2 and doc.get("finished")
    assert "steps" not in doc and "last_step" not in doc
    (order,) = [o for o in world.service.orders() if o["update_code"] == code]
    (cert,) = world.certs()
    assert cert["sha256"] == order["cert_sha256"] == doc["new_sha256"]
    assert cert["has_private_key"] is True


def test_version_1_finished_journal_is_complete(world):
    code = code_of(renew(world, check=0))
    # where version 1 kept it: journal/, not journal/done/
    path = world.state / "journal" / (code + ".json")
    (world.state / "journal" / "done" / (code + ".json")).rename(path)
    as_version_1(path, "retired")
    # no PIN source: a finished renewal needs none
    p = gmtest.gmrenew_run("renew-with-code", code, env=world.env(), check=0)
    assert "already complete" in p.stdout
    assert not path.exists()
    doc = json.loads(world.journal(code).read_text())
    assert doc["version"] == 2
    assert doc["finished"] == "2026-11-24T06:31:06Z"
    assert "steps" not in doc and "last_step" not in doc


# ---- terminal controls in token and certificate strings ----------------

EVIL_TOKEN = b"Ek\x1b[2J\x07\x1b]52;c;SGk=\x07\xc2\x9b\xe2\x80\xae\xff"
EVIL_LABEL = b"cert\x1b[31m\xc2\x9b" b"2J\xe2\x80\xae\xc0\x9b\x7f"
RAW = [b"\x1b", b"\x07", b"\x7f", b"\xc2\x9b", b"\xe2\x80\xae", b"\xff",
       b"\xc0\x9b"]


def run_bytes(bench, args, **extra):
    p = subprocess.run([gmtest.need_env("GMRENEW_BIN")] + args,
                       capture_output=True, env=bench.env(**extra),
                       timeout=120)
    for mark in gmtest.SANITIZER_MARKS:
        assert mark.encode() not in p.stderr, p.stderr.decode("utf-8", "replace")
    return p


def assert_no_raw(data):
    for raw in RAW:
        assert raw not in data, (raw, data)
    data.decode("utf-8")        # and valid UTF-8


@pytest.fixture
def evil(tmp_path):
    b = Bench(tmp_path)
    subprocess.run([b.token.tool, "init", "--slot", "0", "--label",
                    EVIL_TOKEN, "--serial", b"300000000000E711"],
                   env=b.token.env(), check=True, capture_output=True)
    root, _, leaf = b.m.chain("e", 2, SUBJECT, days=300)
    b.token.import_key(0, "01", "key 01", leaf.key)
    subprocess.run([b.token.tool, "import-cert", "--slot", "0", "--id", "01",
                    "--label", EVIL_LABEL, "--cert", str(leaf.pem)],
                   env=b.token.env(), check=True, capture_output=True)
    b.configure(root)
    with open(b.config, "a") as f:     # a service for renew to open
        f.write("\n[service]\nurl = https://127.0.0.1:9\nca_bundle = %s\n"
                % b.bundle_file)
    return b


def test_token_strings_sanitised_in_text(evil):
    for args in (["list-certs"], ["verify"], ["check-env"]):
        p = run_bytes(evil, args)
        assert_no_raw(p.stdout)
        assert_no_raw(p.stderr)
    p = run_bytes(evil, ["list-certs"])
    assert b"Ek\\x1b[2J\\x07\\x1b]52;c;SGk=\\x07" in p.stdout, p.stdout


def test_token_strings_escaped_in_json(evil):
    for args in (["--json", "list-certs"], ["--json", "verify"],
                 ["--json", "check-env"]):
        p = run_bytes(evil, args)
        assert_no_raw(p.stdout)
        assert_no_raw(p.stderr)
        json.loads(p.stdout)
    doc = json.loads(run_bytes(evil, ["--json", "list-certs"]).stdout)
    label = doc["certificates"][0]["label"]
    # the value survives, only escaped; bytes that are not UTF-8 become U+FFFD
    assert label == "cert\x1b[31m\x9b2J\u202e\ufffd\ufffd\x7f"
    assert doc["token"]["label"].startswith("Ek\x1b[2J\x07\x1b]52;")


FORGED = b"[ ok ] forged"


@pytest.fixture
def newlines(tmp_path):
    """Configuration, bundle, token store and PIN file in a
    directory whose name holds line breaks: a name from the file system is
    text from outside."""
    root = tmp_path / ("d\r\n" + FORGED.decode())
    root.mkdir()
    b = Bench(root)
    b.m = Maker(tmp_path / "certs")     # openssl ca cannot take such paths
    anchor, _, leaf = b.m.chain("n", 2, SUBJECT, days=300)
    b.put(leaf)
    b.configure(anchor)
    return b


def test_line_breaks_from_outside_start_no_line(newlines):
    """A line break in a string from outside is shown escaped wherever it
    is printed, wrapped text included (check-env's details, verify's
    checks, error messages), so it can never make a line of its own."""
    seen = b""
    missing = str(newlines.root / "no-pin")
    for args in (["list-certs"], ["verify"], ["check-env"],
                 ["verify", "--pin-file", missing]):
        p = run_bytes(newlines, args)
        for out in (p.stdout, p.stderr):
            assert b"\r" not in out, (args, out)
            for line in out.split(b"\n"):
                assert not line.startswith(FORGED), (args, out)
            seen += out
    assert b"d\\x0d\\x0a[ ok ] forged" in seen, seen


def test_pin_prompt_sanitised(evil):
    import pty
    pid, fd = pty.fork()
    if pid == 0:
        env = evil.env()
        os.execve(gmtest.need_env("GMRENEW_BIN"),
                  [gmtest.need_env("GMRENEW_BIN"), "renew", "--yes",
                   "--force"], env)
    seen = b""
    deadline = time.time() + 60
    while b"PIN of Ekey" not in seen or not seen.rstrip().endswith(b":"):
        if time.time() > deadline:
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    os.close(fd)
    assert b"PIN of Ekey" in seen, seen
    prompt = seen[seen.index(b"PIN of Ekey"):]
    assert_no_raw(prompt)
    assert b"\\x1b[2J" in prompt


# ---- the private key, really seen ---------------------------------------

def delete_private_key(bench):
    gmtest.run([gmtest.need_tool("pkcs11-tool"), "--module", bench.token.module,
                "--login", "--pin", gmtest.PIN, "--delete-object", "--type",
                "privkey", "--id", "01"], env=bench.env())


def key_check(doc):
    (item,) = doc["certificates"]
    (c,) = [c for c in item["checks"] if c["id"] == "key"]
    return c


def test_verify_with_pin_fails_without_private_key(bench):
    delete_private_key(bench)
    for pin in (["--pin-file", str(bench.pin_file)], []):
        args = ["--json", "verify"] + pin
        extra = {} if pin else {"GMRENEW_PIN": gmtest.PIN}
        p = bench.run(*args, check=8, **extra)
        c = key_check(json.loads(p.stdout))
        assert c["status"] == "fail" and "no private key" in c["detail"]


def test_verify_without_pin_is_incomplete_not_passed(bench):
    delete_private_key(bench)
    p = bench.run("--json", "verify", check=0)
    c = key_check(json.loads(p.stdout))
    assert c["status"] == "skip" and c["detail"].startswith("incomplete")
    p = bench.run("verify", check=0)
    assert "skip key" in p.stdout and "incomplete" in p.stdout


def test_verify_with_pin_passes_with_private_key(bench):
    p = bench.run("--json", "verify", "--pin-file", bench.pin_file, check=0)
    c = key_check(json.loads(p.stdout))
    assert c["status"] == "pass" and "private key" in c["detail"]


def test_list_certs_private_key_found_missing_unknown(bench):
    def state(*args, **extra):
        p = bench.run("--json", "list-certs", *args, **extra)
        return json.loads(p.stdout)["certificates"][0]["has_private_key"]

    pin = ["--pin-file", str(bench.pin_file)]
    assert state(*pin) is True
    assert state(GMRENEW_PIN=gmtest.PIN) is True
    assert state() is None              # private objects hidden, no PIN
    assert "not checked" in bench.run("list-certs").stdout
    delete_private_key(bench)
    assert state(*pin) is False         # the public key alone is not enough
    assert state() is None
    assert "NOT on the token" in bench.run("list-certs", *pin).stdout


# ---- verify builds its stores once --------------------------------------

def test_verify_loads_trust_anchors_once(bench):
    """30 certificates: the CA bundle is read once, not once per
    certificate (bench/verify.py times 200 and 1,000)."""
    m = bench.m
    root = m.root("many-root", "CN=Many Root CA,O=SSCCCA,C=CN")
    csr = m.dir / "many.csr"
    gmtest.openssl("req", "-new", "-key", bench.leaf.key, "-sm3", "-sigopt",
                   "distid:1234567812345678", "-subj", "/CN=JSB0000@IST@30",
                   "-out", csr)
    for i in range(30):
        pem = m.dir / ("many%d.pem" % i)
        gmtest.openssl("x509", "-req", "-in", csr, "-CA", root.pem, "-CAkey",
                       root.key, "-sm3", "-sigopt", "distid:1234567812345678",
                       "-vfyopt", "distid:1234567812345678", "-days", "200",
                       "-set_serial", str(i + 100), "-out", pem)
        bench.token.import_cert(0, "01", "many %d" % i, pem)
    bench.configure(root)
    trace = bench.root / "strace.out"
    p = subprocess.run([gmtest.need_tool("strace"), "-f", "-qq", "-e",
                        "trace=open,openat", "-o", str(trace),
                        gmtest.need_env("GMRENEW_BIN"), "--json", "verify"],
                       # LeakSanitizer cannot run under ptrace
                       env=bench.env(ASAN_OPTIONS="detect_leaks=0:"
                                     "abort_on_error=0:exitcode=99"),
                       capture_output=True, text=True, timeout=300)
    gmtest.assert_no_sanitizer(p)
    doc = json.loads(p.stdout)
    # the first certificate's root is not in this bundle; the 30 pass
    assert sum(c["ok"] for c in doc["certificates"]) == 30, p.stdout
    opens = [l for l in trace.read_text().splitlines()
             if str(bench.bundle_file) in l]
    assert len(opens) == 1, opens


def test_planted_done_directory_link_is_not_used(world):
    """journal/done/ as a symbolic link to another directory: the finished
    journal is not moved through it (it stays valid in journal/), nothing
    is written or read there, and the renewal ends well."""
    elsewhere = world.root / "elsewhere"
    elsewhere.mkdir()
    jdir = world.state / "journal"
    jdir.mkdir(parents=True, mode=0o700)
    world.state.chmod(0o700)
    (jdir / "done").symlink_to(elsewhere)
    code = code_of(renew(world, check=0))
    assert not list(elsewhere.iterdir())
    doc = json.loads((jdir / (code + ".json")).read_text())
    assert doc.get("finished")
    # verify's search for the previous certificate reads journal/ only
    p = gmtest.gmrenew_run("verify", env=world.env(), check=0)
    assert "no journal of a renewal names this certificate" not in p.stdout
