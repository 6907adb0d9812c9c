"""`gmrenew renew` and `renew-with-code` end to end: a soft ePass3000GM (SM2)
and SoftHSM2 (P-256) against the reference renewal service over TLS."""
import fcntl
import json
import os
import pty
import re
import select
import stat
import time

import pytest

import gmtest
from gmtest import PIN


def journal_files(world):
    return world.journals()


def kinds(world, slot=0):
    """The object kinds on the soft token, sorted."""
    return sorted(line.split("\t")[1] for line in
                  world.token.listing(slot).splitlines() if "\t" in line)


def orders(world):
    return world.service.orders()


def test_full_renewal_on_the_soft_ekey(world):
    before = world.certs()
    assert len(before) == 1 and before[0]["renewal"] == "online"
    logged = len(world.service.log_lines())
    p = world.gmrenew("renew", "--yes", "--pin-file", world.pin_file, check=0)
    # the whole renewal: four requests on one TLS connection
    lines = world.service.log_lines()[logged:]
    assert [l.split()[3].split("/")[-1] for l in lines] == [
        "lookup", "renewals", "csr", "confirm"], lines
    assert len({l.split()[1] for l in lines}) == 1, lines
    code = re.search(r"UPDATE CODE \(更新码\):\s+(\S+)", p.stderr).group(1)
    assert "[8/8]" in p.stderr
    after = world.certs()
    assert len(after) == 1
    new = after[0]
    assert new["sha256"] != before[0]["sha256"]
    assert new["subject"] == before[0]["subject"]
    assert new["has_private_key"] is True
    assert new["label"] == "JSB0000"
    # about five years more: exactly 1826 days after the old end
    assert new["days_left"] - before[0]["days_left"] in range(1825, 1828)
    assert "Validity extended by 1826 days" in p.stdout
    world.gmrenew("verify", check=0)
    # the order is confirmed at the service
    (order,) = [o for o in orders(world) if o["update_code"] == code]
    assert order["state"] == "confirmed"
    # the journal: 0600, the facts of the renewal, finished, no PIN
    (journal,) = journal_files(world)
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600
    doc = json.loads(journal.read_text())
    assert doc["version"] == 2 and doc["update_code"] == code
    assert doc["old_sha256"] == before[0]["sha256"]
    assert doc["new_sha256"] == new["sha256"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", doc["finished"])
    assert "steps" not in doc and "last_step" not in doc
    assert PIN not in journal.read_text()
    # the token holds exactly one certificate and one key pair, in one
    # container (the old one went with the old pair)
    assert kinds(world) == ["certificate", "container", "private-key",
                            "public-key"]
    # running renew-with-code on a finished renewal changes nothing
    p = world.gmrenew("renew-with-code", code, "--pin-file", world.pin_file, check=0)
    assert "already complete" in p.stdout
    again = world.certs()
    assert len(again) == 1
    # days_left may tick over between the two listings
    assert {k: (v, after[0][k]) for k, v in again[0].items()
            if v != after[0][k] and k != "days_left"} == {}


def test_json_result(world):
    doc = world.json("renew", "--pin-file", world.pin_file)
    assert doc["ok"] is True
    assert doc["state"] == "confirmed"
    assert re.fullmatch(r"[2-9A-Z]{4}(-[2-9A-Z]{4}){3}", doc["update_code"])
    assert doc["days_added"] == 1826
    assert {c["id"]: c["status"] for c in doc["checks"]} == {
        "chain": "pass", "validity": "pass", "key": "pass", "new_key": "pass",
        "renewal": "pass"}


def test_not_due_exits_3(tmp_path):
    w = gmtest.World(tmp_path, days_left=200)
    try:
        p = w.gmrenew("renew", "--pin-file", w.pin_file, check=3)
        # an answer, not an error, with the date the window opens
        assert "gmrenew: nothing to do:" in p.stderr and "error:" not in p.stderr
        assert re.search(r"opens on 20\d\d-\d\d-\d\d", p.stderr), p.stderr
        assert w.service.orders() == []
    finally:
        w.close()


def test_offline_only_exits_4_and_explains(tmp_path):
    w = gmtest.World(tmp_path, days_left=-100)
    try:
        p = w.gmrenew("renew", "--pin-file", w.pin_file, check=4)
        assert "证书业务信息表" in p.stderr and "mail the Ekey" in p.stderr
    finally:
        w.close()


# ---- the PIN ----

def tries(world):
    return int(re.search(r"tries=(\d+)", world.token.pin_status()).group(1))


def set_tries(world, n):
    world.token.tool_run("set-tries", "--slot", 0, "--tries", n)


def wrong_pin_file(world, text="Wrong-Pin-0"):
    f = world.root / ("wrong-%s" % text)
    f.write_text(text + "\n")
    return f


def test_wrong_pin_exits_6_uses_one_try_and_changes_nothing(world):
    p = world.gmrenew("renew", "--yes", "--pin-file", wrong_pin_file(world),
                      check=6)
    assert "PIN is incorrect" in p.stderr
    assert tries(world) == 5
    assert orders(world) == [], "nothing may reach the service before login"
    assert kinds(world) == ["certificate", "container", "private-key",
                            "public-key"]


def test_locked_pin_stops_before_login(world):
    set_tries(world, 0)
    trace = world.root / "trace"
    p = world.gmrenew("renew", "--yes", "--pin-file", world.pin_file, check=6,
                      env=world.env(GMSOFT_TRACE=trace))
    assert "locked" in p.stderr and "SO PIN" in p.stderr
    assert " C_Login " not in trace.read_text()


def test_final_try_needs_consent(world):
    set_tries(world, 1)
    p = world.gmrenew("renew", "--yes", "--pin-file", world.pin_file, check=6)
    assert "one PIN try is left" in p.stderr and "--allow-final-try" in p.stderr
    assert tries(world) == 1
    world.gmrenew("renew", "--yes", "--pin-file", world.pin_file,
                  "--allow-final-try", check=0)
    assert tries(world) == 6


def test_low_tries_warn(world):
    set_tries(world, 4)
    p = world.gmrenew("renew", "--yes", "--pin-file", world.pin_file, check=0)
    assert "warning" in p.stderr and "tries" in p.stderr


def test_pin_from_environment_and_fd(world, tmp_path):
    p = world.gmrenew("renew", "--dry-run", check=0,
                      env=world.env(GMRENEW_PIN=PIN))
    assert "Dry run" in p.stdout
    r, w = os.pipe()
    os.write(w, (PIN + "\n").encode())
    os.close(w)
    gmtest.run([gmtest.need_env("GMRENEW_BIN"), "renew", "--dry-run",
                "--pin-fd", r], env=world.env(), pass_fds=(r,))
    os.close(r)


def test_no_pin_source_and_no_terminal_is_a_usage_error(world):
    p = world.gmrenew("renew", "--yes", check=2)
    assert "no terminal" in p.stderr and "--pin-file" in p.stderr
    assert tries(world) == 6


def test_pin_is_never_taken_from_the_command_line(world):
    p = world.gmrenew("renew", "--pin", PIN, check=2)
    assert "unknown option" in p.stderr


# ---- at a terminal ----

def run_tty(argv, env, dialogue, timeout=60):
    """Runs argv on a new pseudo-terminal; dialogue is [(expect, answer)].
    Returns (exit code, everything the terminal showed)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(argv[0], argv, env)
    shown, deadline, since = b"", time.time() + timeout, 0
    steps = list(dialogue)
    while True:
        if steps and steps[0][0].encode() in shown[since:]:
            os.write(fd, steps.pop(0)[1].encode())
            since = len(shown)
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
        if time.time() > deadline:
            os.kill(pid, 9)
            raise AssertionError("timed out; terminal showed:\n" +
                                 shown.decode(errors="replace"))
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


def test_terminal_retypes_after_a_wrong_pin_and_never_resends_it(world):
    argv = [gmtest.need_env("GMRENEW_BIN"), "renew"]
    code, shown = run_tty(argv, world.env(), [
        ("[y/N]", "y\n"),
        ("PIN of Ekey", "Wrong-Pin-1\n"),
        ("PIN of Ekey", "Wrong-Pin-1\n"),     # the same again: not sent
        ("PIN of Ekey", PIN + "\n"),
    ])
    assert code == 0, shown
    assert "already refused" in shown
    assert PIN not in shown and "Wrong-Pin-1" not in shown, "no echo"
    assert tries(world) == 6
    assert "Renewed." in shown


def token_calls(trace, name):
    """How many times the soft token's trace shows the function name."""
    return sum(1 for line in trace.read_text().splitlines()
               if line.split()[1:2] == [name])


def test_terminal_reads_each_object_once(world, tmp_path):
    # the certificates are shown and confirmed before the PIN; once logged
    # in only the private keys are searched for and read: no object is
    # read twice, as with a PIN from a file (which logs in first)
    scripted = gmtest.World(tmp_path / "scripted")
    try:
        s_trace = tmp_path / "scripted.trace"
        scripted.gmrenew("renew", "--yes", "--pin-file", scripted.pin_file,
                         check=0, env=scripted.env(GMSOFT_TRACE=s_trace))
    finally:
        scripted.close()
    trace = tmp_path / "tty.trace"
    code, shown = run_tty([gmtest.need_env("GMRENEW_BIN"), "renew"],
                          world.env(GMSOFT_TRACE=trace),
                          [("[y/N]", "y\n"), ("PIN of Ekey", PIN + "\n")])
    assert code == 0 and "Renewed." in shown, shown
    assert shown.index("[y/N]") < shown.index("PIN of Ekey")
    assert token_calls(trace, "C_GetAttributeValue") == \
        token_calls(s_trace, "C_GetAttributeValue")
    # one search more: the private keys, after the PIN
    assert token_calls(trace, "C_FindObjectsInit") == \
        token_calls(s_trace, "C_FindObjectsInit") + 1


def test_renew_with_code_reads_each_object_once(world):
    # a finished renewal whose old certificate is back on the token: the
    # token is looked at before the PIN (a finished one needs none), then
    # only the private keys are read after it
    world.gmrenew("renew", "--yes", "--pin-file", world.pin_file, check=0)
    code = world.service.orders()[0]["update_code"]
    world.token.import_cert(0, "01", "JSB0000", world.root / "cert-0-01.pem")
    objects = len(kinds(world))
    trace = world.root / "trace"
    world.gmrenew("renew-with-code", code, "--pin-file", world.pin_file,
                  check=0, env=world.env(GMSOFT_TRACE=trace))
    assert token_calls(trace, "C_Login") == 1
    assert token_calls(trace, "C_GetAttributeValue") <= objects
    assert [c["label"] for c in world.certs()] == ["JSB0000"]


def test_several_renewable_certificates(world):
    world.add_cert(key_id="02", label="JSB0001", gateway="JSB0001",
                   subject="CN=JSB0001@IST@30,OU=深证通CCNET证书测试,OU=CCNET,"
                           "O=SSCCCA,C=CN")
    # without a terminal: fail, listing them
    p = world.gmrenew("renew", "--yes", "--pin-file", world.pin_file, check=2)
    assert "#1" in p.stderr and "#2" in p.stderr and "--cert" in p.stderr
    # at a terminal: ask which one
    argv = [gmtest.need_env("GMRENEW_BIN"), "renew", "--pin-file",
            str(world.pin_file)]
    code, shown = run_tty(argv, world.env(), [("Which one", "2\n"),
                                              ("[y/N]", "y\n")])
    assert code == 0, shown
    certs = world.certs()
    renewed = [c for c in certs if c["gateway"] == "JSB0001"]
    assert renewed[0]["days_left"] > 1800
    assert [c for c in certs if c["gateway"] == "JSB0000"][0]["days_left"] < 31
    # by option
    world.gmrenew("renew", "--cert", "1", "--pin-file", world.pin_file, check=0)


# ---- options ----

def test_dry_run_changes_nothing(world):
    before = world.token.listing()
    p = world.gmrenew("renew", "--dry-run", "--pin-file", world.pin_file, check=0)
    assert "Nothing was changed" in p.stdout
    assert world.token.listing() == before
    assert orders(world) == []


def test_keep_old(world):
    world.gmrenew("renew", "--yes", "--keep-old", "--pin-file", world.pin_file,
                  check=0)
    certs = world.certs()
    assert len(certs) == 2
    labels = sorted(c["label"] for c in certs)
    assert labels == ["JSB0000", "JSB0000 (replaced)"]
    assert all(c["has_private_key"] for c in certs)


def test_two_processes_never_renew_one_token(world):
    lockdir = world.state / "locks"
    lockdir.mkdir(parents=True)
    with open(lockdir / (gmtest.SERIAL + ".lock"), "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.write("4242\n")
        f.flush()
        p = world.gmrenew("renew", "--yes", "--pin-file", world.pin_file,
                          check=1)
    assert "another gmrenew process (pid 4242)" in p.stderr
    assert orders(world) == []


# ---- what the service sends back is checked before it is installed ----

@pytest.mark.parametrize("fault", ["wrong_key", "wrong_subject", "wrong_issuer",
                                   "short_validity", "expired", "broken_chain"])
def test_bad_certificates_are_never_installed(world, fault):
    old = world.certs()[0]
    if fault == "broken_chain":
        # trust only the root: the chain the service sends must lead to it
        world.write_config(chain_bundle=world.service.dir / "chain-ca.pem")
    world.service.fault("csr", fault)
    world.service.fault("status", fault)
    p = world.gmrenew("renew", "--yes", "--pin-file", world.pin_file, check=8)
    assert "NOT installed" in p.stderr
    code = re.search(r"UPDATE CODE \(更新码\):\s+(\S+)", p.stderr).group(1)
    certs = world.certs()
    assert [c["sha256"] for c in certs] == [old["sha256"]]
    assert certs[0]["has_private_key"]
    # once the service sends the right certificate, the code finishes it
    world.service.faults_clear()
    world.gmrenew("renew-with-code", code, "--pin-file", world.pin_file, check=0)
    (new,) = world.certs()
    assert new["sha256"] != old["sha256"] and new["days_left"] > 1800


# ---- recovery ----

def code_of(p):
    return re.search(r"UPDATE CODE \(更新码\):\s+(\S+)", p.stderr).group(1)


def test_lost_pending_key_gets_a_new_one_under_the_same_order(world):
    world.service.fault("csr", "drop", when="after")
    p = world.gmrenew("renew", "--yes", "--pin-file", world.pin_file, check=7)
    code = code_of(p)
    assert "renew-with-code " + code in p.stderr
    world.service.faults_clear()
    # the pending key pair disappears (say, removed by another tool)
    label = "gmrenew-pending-" + code.replace("-", "")
    for kind in ("privkey", "pubkey"):
        gmtest.run([gmtest.need_tool("pkcs11-tool"), "--module",
                    world.token.module, "--login", "--pin", PIN,
                    "--delete-object", "--type", kind, "--label", label],
                   env=world.env())
    issued_before = [o for o in orders(world) if o["update_code"] == code][0]
    world.gmrenew("renew-with-code", code, "--pin-file", world.pin_file, check=0)
    order = [o for o in orders(world) if o["update_code"] == code][0]
    assert order["state"] == "confirmed"
    assert order["cert_sha256"] != issued_before["cert_sha256"]
    (new,) = world.certs()
    assert new["sha256"] == order["cert_sha256"]


def test_lost_pending_key_without_rekey_fails_clearly(world):
    world.service.fault("csr", "drop", when="after")
    code = code_of(world.gmrenew("renew", "--yes", "--pin-file",
                                 world.pin_file, check=7))
    world.service.faults_clear()
    world.service.cli("faults", "rekey", "off")
    label = "gmrenew-pending-" + code.replace("-", "")
    gmtest.run([gmtest.need_tool("pkcs11-tool"), "--module", world.token.module,
                "--login", "--pin", PIN, "--delete-object", "--type",
                "privkey", "--label", label], env=world.env())
    p = world.gmrenew("renew-with-code", code, "--pin-file", world.pin_file,
                      check=1)
    assert "does not allow a new key" in p.stderr
    (cert,) = world.certs()
    assert cert["has_private_key"] and cert["days_left"] < 31


def test_renew_again_picks_up_the_open_order(world):
    world.service.fault("confirm", "http_error", status=500)
    code = code_of(world.gmrenew("renew", "--yes", "--pin-file",
                                 world.pin_file, check=7))
    world.service.faults_clear()
    p = world.gmrenew("renew", "--yes", "--pin-file", world.pin_file, check=0)
    assert code_of(p) == code
    assert [o["state"] for o in orders(world)] == ["confirmed"]


def test_renew_with_code_on_another_ekey_is_refused(world, tmp_path):
    world.service.fault("csr", "http_error", status=500)
    code = code_of(world.gmrenew("renew", "--yes", "--pin-file",
                                 world.pin_file, check=7))
    world.service.faults_clear()
    other = gmtest.SoftToken(tmp_path / "other")
    other.init(serial="2000000099999999")
    pub = tmp_path / "other-pub.pem"
    other.gen_key(0, "01", "OTHER", pub)
    world.service.enroll(pub, tmp_path / "other.pem", days_left=20)
    other.import_cert(0, "01", "OTHER", tmp_path / "other.pem")
    env = other.env(GMRENEW_CONFIG=world.config)
    p = world.gmrenew("renew-with-code", code, "--pin-file", world.pin_file,
                      env=env, check=5)
    # the journal knows the Ekey: one message, one next step
    assert "belongs to the Ekey with serial " + gmtest.SERIAL in p.stderr
    assert "contact the CA" not in p.stderr
    assert "To finish this renewal later" not in p.stderr


def test_unknown_code(world):
    # a code the service does not know: the service's answer, not a usage
    # error (exit 2 is only for what was typed wrong)
    p = world.gmrenew("renew-with-code", "2222-3333-4444-5555", "--pin-file",
                      world.pin_file)
    assert p.returncode == 1, p.stderr
    assert "no renewal with this update code" in p.stderr
    p = world.gmrenew("renew-with-code", "not-a-code", "--pin-file",
                      world.pin_file, check=2)


# ---- SoftHSM2: a standard PKCS#11 token with P-256 keys ----

def test_full_renewal_on_softhsm_p256(tmp_path):
    hsm = gmtest.SoftHSM(tmp_path)
    w = gmtest.World(tmp_path, days_left=None, token=None)
    try:
        hsm.gen_p256("01", "JSB0000")
        pub = tmp_path / "p256-pub.pem"
        hsm.pubkey_pem("01", pub)
        cert = w.service.enroll(pub, tmp_path / "p256.pem", days_left=45)
        hsm.import_cert("01", "JSB0000", cert)
        w.module = hsm.module
        w.write_config()
        env = hsm.env(GMRENEW_CONFIG=w.config)
        before = json.loads(w.gmrenew("--json", "list-certs", env=env,
                                      check=0).stdout)["certificates"]
        assert before[0]["key_algorithm"] == "EC-P256"
        p = w.gmrenew("renew", "--yes", "--pin-file", w.pin_file, env=env,
                      check=0)
        assert "1826 days" in p.stdout
        after = json.loads(w.gmrenew("--json", "list-certs", env=env,
                                     check=0).stdout)["certificates"]
        assert len(after) == 1 and after[0]["sha256"] != before[0]["sha256"]
        assert after[0]["key_algorithm"] == "EC-P256"
        w.gmrenew("verify", env=env, check=0)
        objs = hsm.p11("--list-objects", login=True).stdout
        assert objs.count("Private Key Object") == 1, objs
    finally:
        w.close()


def test_terminal_renewal_on_softhsm_p256(tmp_path):
    # at a terminal the private key (SoftHSM shows no point on it) is added
    # after the PIN to the key pair read before it, by CKA_ID
    hsm = gmtest.SoftHSM(tmp_path)
    w = gmtest.World(tmp_path, days_left=None, token=None)
    try:
        hsm.gen_p256("01", "JSB0000")
        pub = tmp_path / "p256-pub.pem"
        hsm.pubkey_pem("01", pub)
        cert = w.service.enroll(pub, tmp_path / "p256.pem", days_left=45)
        hsm.import_cert("01", "JSB0000", cert)
        w.module = hsm.module
        w.write_config()
        env = hsm.env(GMRENEW_CONFIG=w.config)
        env.pop("GMRENEW_PIN", None)
        code, shown = run_tty([gmtest.need_env("GMRENEW_BIN"), "renew"], env,
                              [("[y/N]", "y\n"),
                               ("PIN of Ekey", PIN + "\n")])
        assert code == 0 and "1826 days" in shown, shown
        objs = hsm.p11("--list-objects", login=True).stdout
        assert objs.count("Private Key Object") == 1, objs
    finally:
        w.close()


def test_a_certificate_without_its_key_is_not_a_candidate(world, tmp_path):
    # an expiring certificate whose key is elsewhere (say, a CA certificate
    # kept on the token): only the one with its key can be renewed
    key = gmtest.make_sm2_key(tmp_path / "elsewhere.key")
    pub = gmtest.pubkey_of(key, tmp_path / "elsewhere.pub")
    cert = world.service.enroll(pub, tmp_path / "elsewhere.pem", days_left=20,
                                gateway="JSB0002",
                                subject="CN=JSB0002@IST@30,OU=深证通CCNET证书测试,"
                                        "OU=CCNET,O=SSCCCA,C=CN")
    world.token.import_cert(0, "09", "elsewhere", cert)
    world.gmrenew("renew", "--yes", "--pin-file", world.pin_file, check=0)
    by_gw = {c["gateway"]: c for c in world.certs()}
    assert by_gw["JSB0000"]["days_left"] > 1800
    assert by_gw["JSB0002"]["days_left"] < 21


def test_expired_within_90_days_renews_online(tmp_path):
    w = gmtest.World(tmp_path, days_left=-30)
    try:
        (old,) = w.certs()
        assert old["status"] == "expired" and old["renewal"] == "online"
        w.gmrenew("renew", "--yes", "--pin-file", w.pin_file, check=0)
        (new,) = w.certs()
        assert new["status"] == "valid"
        # five years on from the old end: 1826 - 30 days from now
        assert new["days_left"] in (1795, 1796)
    finally:
        w.close()


def test_configured_window_shows_in_the_messages(tmp_path):
    """[policy] renew_after_days = 60: a certificate expired 70 days ago is
    offline only, and the message gives the configured 60 days."""
    w = gmtest.World(tmp_path, days_left=-70)
    try:
        w.config.write_text(w.config.read_text() +
                            "\n[policy]\nrenew_after_days = 60\n")
        p = w.gmrenew("renew", "--pin-file", w.pin_file, check=4)
        assert "more than 60 days ago" in p.stderr, p.stderr
        assert "90" not in p.stderr, p.stderr
        p = w.gmrenew("renew", "--cert", "1", "--pin-file", w.pin_file,
                      check=4)
        assert "ends 60 days after expiry" in p.stderr, p.stderr
    finally:
        w.close()
