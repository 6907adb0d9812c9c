"""gmrenew check-env: the CA's environment check for a terminal.

Every check is shown passing and failing with the real thing: a module that
is missing or is not PKCS#11, a slot without a token, two tokens, a locked
PIN, a certificate the CA does not know, the service down or untrusted, a
skewed Date header, and USB devices presented by umockdev from hand-written
descriptions (tests/usb/checkenv_*.umockdev: checkenv_one - one ePass3000GM
096e:0309; checkenv_two - two of them; checkenv_other - a bus with only a
Longmai key 055c:e618). Run by ctest with the environment of
tests/CMakeLists.txt; a missing tool fails, it does not skip.
"""
import os
import pty
import re
import stat
import subprocess
import time
import unicodedata

import pytest

import gmtest

from checkenv_fixtures import (PIN, RefService, SoftToken, check_env,
                               closed_port, need_env, need_tool,
                               other_tls_ca, self_signed_sm2, umockdev,
                               umockdev_unopenable, write_config)

SERIAL_A = "2A0F96E8B1C40012"
SERIAL_B = "2A0F96E8B1C40099"
EXIT_ENV = 5


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    need_tool("openssl")
    svc = RefService(str(tmp_path_factory.mktemp("checkenv-service")))
    svc.start()
    yield svc
    svc.stop()


@pytest.fixture
def clean_service(service):
    service.clear_faults()
    yield service
    service.clear_faults()


@pytest.fixture
def token(tmp_path):
    tok = SoftToken(str(tmp_path))
    tok.init(0, "ekey-a", SERIAL_A)
    return tok


def config_for(tmp_path, service, module, **kw):
    args = dict(module=module, url=service.url, ca_bundle=service.tls_ca,
                chain_bundle=service.chain_ca,
                state_dir=str(tmp_path / "state"))
    args.update(kw)
    return write_config(str(tmp_path / "config.ini"), **args)


@pytest.fixture
def ready(tmp_path, clean_service, token):
    """One token holding a certificate the CA renews now, and a config."""
    token.enrolled(clean_service, days_left=30)
    return config_for(tmp_path, clean_service, token.module)


def only_failed(res, *ids):
    failed = {k for k, v in res.statuses().items() if v == "fail"}
    assert failed == set(ids), res
    assert res.rc == (EXIT_ENV if ids else 0), res
    assert res.doc["ok"] is (not ids)


def display_width(line):
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1
               for ch in line)


# ---- the whole command ------------------------------------------------------

def test_help_shows_the_options():
    p = gmtest.run([need_env("GMRENEW_BIN"), "check-env", "--help"])
    assert "--report FILE" in p.stdout and "--json" in p.stdout
    top = gmtest.run([need_env("GMRENEW_BIN"), "--help"])
    commands = [l.split()[0] for l in top.stdout.split("Commands:")[1]
                .split("Global options:")[0].splitlines() if l.strip()]
    assert commands[0] == "check-env", top.stdout


def test_everything_ready_passes_without_pin_or_changes(ready, token,
                                                        clean_service):
    before = token.state()
    orders_before = clean_service.show()
    requests_before = len(clean_service.requests())
    res = check_env(ready, token)
    only_failed(res)
    # no USB bus on test machines: a warning, not a failure
    assert res.status("usb") == "warn"
    assert "no USB bus" in res.check("usb")["summary"]
    for cid in ("config", "driver", "single_token", "pin", "matching_cert",
                "service", "clock"):
        assert res.status(cid) == "pass", res
        assert res.check(cid)["fix"] is None
    assert "Feitian Technologies Co., Ltd. EnterSafe PKCS#11 Library. " \
        "libgmsofttoken.so 1.20" in res.check("driver")["summary"]
    assert SERIAL_A in res.check("single_token")["summary"]
    assert "CN=JSB0000@IST@30" in res.check("matching_cert")["summary"]
    assert "renews it online now" in res.check("matching_cert")["summary"]
    assert "verified TLS" in res.check("service")["summary"]
    assert " ms" in res.check("service")["summary"]
    # the protocol and suite the handshake negotiated
    assert re.search(r"protocol TLSv1\.[23], cipher suite [A-Z0-9_-]+",
                     res.check("service")["detail"]), res.check("service")
    assert "offset +0 s" in res.check("clock")["summary"] or \
        "offset -1 s" in res.check("clock")["summary"] or \
        "offset +1 s" in res.check("clock")["summary"]
    # read-only: the token, the PIN counter and the CA's orders as before
    assert token.state() == before
    assert clean_service.show() == orders_before
    new = clean_service.requests()[requests_before:]
    assert new and all(" POST /v1/lookup 200 " in l for l in new), new


def test_human_output_fits_80_columns_without_colour(ready, token):
    res = check_env(ready, token, json_out=False)
    assert res.rc == 0, res
    lines = res.stdout.splitlines()
    tagged = [l for l in lines if l.startswith("[")]
    assert [l.split()[1] for l in tagged] == \
        ["config", "driver", "usb", "single_token", "pin", "matching_cert",
         "service", "clock"], res
    assert [l[:6] for l in tagged] == ["[PASS]", "[PASS]", "[WARN]",
                                       "[PASS]", "[PASS]", "[PASS]",
                                       "[PASS]", "[PASS]"]
    assert all(display_width(l) <= 80 for l in lines), res
    assert "\033[" not in res.stdout
    assert "fix: " in res.stdout        # the usb warning's fix
    assert lines[-1].startswith("All checks passed"), res


def test_colour_only_on_a_terminal(ready, token):
    env = token.env()
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + \
        ":verify_asan_link_order=0"
    env.pop("NO_COLOR", None)
    env["TERM"] = "xterm"
    master, slave = pty.openpty()
    p = subprocess.Popen([need_env("GMRENEW_BIN"), "--config", ready,
                          "check-env"], stdout=slave, stderr=subprocess.PIPE,
                         env=env)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    done = subprocess.CompletedProcess(p.args, p.wait(timeout=30), "",
                                       p.stderr.read().decode("utf-8",
                                                              "replace"))
    gmtest.finish(done)
    assert b"\033[32mPASS\033[0m" in out, out


def test_report_file_is_private_and_has_the_versions(ready, token, tmp_path):
    report = tmp_path / "report.json"
    report.write_text("old")
    os.chmod(report, 0o644)
    res = check_env(ready, token, args=["--report", str(report)],
                    env_extra={"GMRENEW_PIN": PIN})
    assert res.rc == 0, res
    assert stat.S_IMODE(os.stat(report).st_mode) == 0o600
    import json
    doc = json.loads(report.read_text())
    assert [c["id"] for c in doc["checks"]] == \
        [c["id"] for c in res.doc["checks"]]
    v = doc["versions"]
    # the crypto library: OpenSSL, or Tongsuo naming its OpenSSL release
    assert v["gmrenew"] and re.match(r"(OpenSSL|Tongsuo) \d+\.\d+\.\d+ ",
                                     v["openssl"]), v
    assert v["libcurl"].startswith("libcurl/")
    assert v["pkcs11_module"]["path"] == token.module
    assert v["pkcs11_module"]["library_version"] == "1.20"
    assert v["os"]["uname"].startswith("Linux")
    assert "pretty_name" in v["os"]
    assert PIN not in report.read_text()
    # a fresh file too, and the human form says where it is
    fresh = tmp_path / "fresh.json"
    res = check_env(ready, token, args=["--report", str(fresh)],
                    json_out=False)
    assert stat.S_IMODE(os.stat(fresh).st_mode) == 0o600
    assert f"Report for a support ticket: {fresh}" in res.stdout


# ---- config -----------------------------------------------------------------

def test_config_absent_is_a_warning_and_skips_the_service(tmp_path, token):
    home = tmp_path / "home"
    home.mkdir()
    token.import_cert(0, "05", self_signed_sm2(str(tmp_path)))
    # PKCS#11: a certificate alone, in no container, is not seen by SKF
    res = check_env(None, token, home=str(home), args=("--api", "pkcs11"),
                    env_extra={"GMRENEW_PKCS11_MODULE": token.module})
    assert res.status("config") == "warn", res
    assert "no configuration file" in res.check("config")["summary"]
    assert "gmrenew config init --url URL" in res.check("config")["fix"]
    assert res.status("driver") == "pass"
    assert res.status("service") == "skip"
    assert "config" in res.check("service")["summary"]
    assert res.status("clock") == "skip"
    assert "service" in res.check("clock")["summary"]
    # what the token holds, read locally
    assert res.status("matching_cert") == "warn"
    assert "could not be asked" in res.check("matching_cert")["summary"]
    assert res.rc == 0, res


def test_config_typo_is_reported_once(tmp_path, token):
    """A key that does not parse is the problem; the keys the file would
    have set are not reported missing as if there were no file."""
    cfg = tmp_path / "typo.conf"
    cfg.write_text("[service]\nurll = https://typo.example\n")
    res = check_env(str(cfg), token)
    c = res.check("config")
    text = c["summary"] + "\n" + (c["detail"] or "") + "\n" + c["fix"]
    assert c["status"] == "fail", res
    assert "urll" in c["summary"]
    assert "no configuration file" not in text, res
    assert "not set" not in text, res
    assert text.count("urll") == 1, res


def test_config_invalid_fails(tmp_path, clean_service, token):
    cfg = config_for(tmp_path, clean_service, token.module,
                     extra="[service]\nurll = https://typo.example\n")
    res = check_env(cfg, token)
    assert res.status("config") == "fail", res
    assert "urll" in res.check("config")["summary"] + \
        (res.check("config")["detail"] or "")
    assert res.rc == EXIT_ENV


def test_config_without_service_settings_fails(tmp_path, token):
    cfg = write_config(str(tmp_path / "config.ini"), module=token.module)
    res = check_env(cfg, token)
    assert res.status("config") == "fail", res
    assert res.status("service") == "skip"
    assert res.rc == EXIT_ENV


def test_config_ca_bundle_that_does_not_parse_fails(tmp_path, clean_service,
                                                    token):
    bad = tmp_path / "bad-ca.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n"
                   "-----END CERTIFICATE-----\n")
    res = check_env(config_for(tmp_path, clean_service, token.module,
                               ca_bundle=str(bad)), token)
    assert res.status("config") == "fail", res
    assert str(bad) in res.check("config")["summary"]
    assert res.check("config")["fix"]
    assert res.status("service") == "skip"
    assert res.rc == EXIT_ENV


def test_config_plain_http_url_fails(tmp_path, clean_service, token):
    res = check_env(config_for(tmp_path, clean_service, token.module,
                               url="http://127.0.0.1:1"), token)
    assert res.status("config") == "fail", res
    assert "https" in res.check("config")["summary"]


# ---- driver -----------------------------------------------------------------

def test_driver_missing_fails_and_skips_the_token_checks(tmp_path,
                                                         clean_service,
                                                         token):
    missing = str(tmp_path / "opt" / "libes_3000gm.so")
    res = check_env(config_for(tmp_path, clean_service, missing), token)
    only_failed(res, "driver")
    assert missing in res.check("driver")["summary"]
    assert "driver" in res.check("driver")["fix"]
    for cid in ("single_token", "pin", "matching_cert"):
        assert res.status(cid) == "skip", res
    assert "driver" in res.check("single_token")["summary"]
    assert "single_token" in res.check("pin")["summary"]
    # the service is still checked on its own
    assert res.status("service") == "pass"
    assert res.status("clock") == "pass"


def test_driver_that_is_not_pkcs11_fails(tmp_path, clean_service, token):
    libz = next((p for p in ("/lib/x86_64-linux-gnu/libz.so.1",
                             "/usr/lib/x86_64-linux-gnu/libz.so.1",
                             "/lib64/libz.so.1") if os.path.exists(p)), None)
    if not libz:
        pytest.fail("no libz.so.1 to load as a non-PKCS#11 library")
    res = check_env(config_for(tmp_path, clean_service, libz), token)
    only_failed(res, "driver")
    assert "not a PKCS#11 module" in res.check("driver")["summary"], res


# ---- single_token and pin ---------------------------------------------------

def test_no_token_fails(tmp_path, clean_service, token):
    token.empty(0)
    res = check_env(config_for(tmp_path, clean_service, token.module), token)
    only_failed(res, "single_token")
    assert "insert the Ekey" in res.check("single_token")["fix"]
    assert res.status("pin") == "skip"
    assert res.status("matching_cert") == "skip"
    assert res.status("service") == "pass"


def test_two_tokens_fail_listing_both(tmp_path, clean_service, token):
    token.enrolled(clean_service)
    token.init(1, "ekey-b", SERIAL_B)
    res = check_env(config_for(tmp_path, clean_service, token.module), token)
    only_failed(res, "single_token")
    c = res.check("single_token")
    assert "2 tokens" in c["summary"]
    assert SERIAL_A in c["detail"] and SERIAL_B in c["detail"]
    assert "ekey-a" in c["detail"] and "ekey-b" in c["detail"]
    assert "one Ekey at a time" in c["fix"]
    assert res.status("matching_cert") == "skip"


def test_locked_pin_fails_with_how_to_unlock(ready, token):
    token.set_tries(0, 0)
    res = check_env(ready, token)
    only_failed(res, "pin")
    assert "locked" in res.check("pin")["summary"]
    assert "SO PIN" in res.check("pin")["fix"]
    assert "CA" in res.check("pin")["fix"]


@pytest.mark.parametrize("tries,words", [(1, "one PIN try is left"),
                                         (4, "wrong PIN was entered")])
def test_pin_running_low_warns(ready, token, tries, words):
    token.set_tries(0, tries)
    before = token.state()
    res = check_env(ready, token)
    only_failed(res)
    assert res.status("pin") == "warn", res
    assert words in res.check("pin")["summary"]
    assert res.check("pin")["fix"]
    # the flags were only read: the counter is where it was
    assert token.state() == before


# ---- matching_cert ----------------------------------------------------------

def test_certificate_unknown_to_the_ca_fails(tmp_path, clean_service, token):
    token.import_cert(0, "05", self_signed_sm2(str(tmp_path)))
    res = check_env(config_for(tmp_path, clean_service, token.module), token)
    only_failed(res, "matching_cert")
    c = res.check("matching_cert")
    assert "CN=self-made" in c["summary"]
    assert "unknown to the CA" in c["summary"]
    assert "right Ekey" in c["fix"]


def test_token_without_certificate_fails(tmp_path, clean_service, token):
    res = check_env(config_for(tmp_path, clean_service, token.module), token)
    only_failed(res, "matching_cert")
    assert "no certificate" in res.check("matching_cert")["summary"]
    assert res.status("service") == "pass"


def test_not_yet_due_passes_with_days_left(tmp_path, clean_service, token):
    token.enrolled(clean_service, days_left=400)
    res = check_env(config_for(tmp_path, clean_service, token.module), token)
    only_failed(res)
    c = res.check("matching_cert")
    assert c["status"] == "pass", res
    assert "not yet due" in c["summary"]
    assert "399 days left" in c["summary"] or "400 days left" in c["summary"]


def test_offline_only_fails_with_the_offline_procedure(tmp_path,
                                                       clean_service, token):
    token.enrolled(clean_service, days_left=-120)
    res = check_env(config_for(tmp_path, clean_service, token.module), token)
    only_failed(res, "matching_cert")
    c = res.check("matching_cert")
    assert "offline renewal only" in c["summary"]
    assert "证书业务信息表" in c["fix"] and "mail the Ekey" in c["fix"]


def test_revoked_certificate_fails(tmp_path, clean_service, token):
    cert = token.enrolled(clean_service, days_left=30)
    clean_service.tool("revoke", "--dir", clean_service.dir, "--cert", cert)
    res = check_env(config_for(tmp_path, clean_service, token.module), token)
    only_failed(res, "matching_cert")
    assert "revoked" in res.check("matching_cert")["summary"]


def test_superseded_certificate_fails(tmp_path, clean_service, token):
    token.enrolled(clean_service, days_left=30)
    as_it_was = token.clone("before-renewal")
    cfg = config_for(tmp_path, clean_service, token.module)
    pin_file = tmp_path / "pin.txt"
    pin_file.write_text(PIN + "\n")
    env = token.env()
    gmtest.run([need_env("GMRENEW_BIN"), "--config", cfg, "renew",
                "--yes", "--pin-file", pin_file], env=env, timeout=60)
    # the Ekey as it was before the renewal: its certificate is superseded
    res = check_env(cfg, as_it_was)
    only_failed(res, "matching_cert")
    c = res.check("matching_cert")
    assert "superseded" in c["summary"], res
    assert "new certificate" in c["fix"]
    # the renewed one: known, and not due for years
    res = check_env(cfg, token)
    only_failed(res)
    assert res.status("matching_cert") == "pass"
    assert "not yet due" in res.check("matching_cert")["summary"]


def test_one_renewable_among_others_passes(tmp_path, clean_service, token):
    token.import_cert(0, "05", self_signed_sm2(str(tmp_path)))
    token.enrolled(clean_service, days_left=30, key_id="02")
    res = check_env(config_for(tmp_path, clean_service, token.module), token)
    only_failed(res)
    c = res.check("matching_cert")
    assert c["status"] == "pass"
    assert "CN=JSB0000" in c["summary"]
    assert "unknown to the CA" in c["detail"]


# ---- service and clock ------------------------------------------------------

def test_service_down_fails_quickly(tmp_path, ready, token, clean_service):
    cfg = config_for(tmp_path, clean_service, token.module,
                     url=f"https://127.0.0.1:{closed_port()}")
    t0 = time.monotonic()
    res = check_env(cfg, token)
    assert time.monotonic() - t0 < 20
    only_failed(res, "service")
    assert "cannot reach" in res.check("service")["summary"], res
    assert res.check("service")["fix"]
    # the token is still read: certificate, days left, window
    c = res.check("matching_cert")
    assert c["status"] == "warn", res
    assert "CN=JSB0000@IST@30" in c["summary"]
    assert "days left" in c["summary"]
    assert "online renewal window is open" in c["summary"]
    assert "service" in c["fix"]
    assert res.status("clock") == "skip"


def test_service_with_untrusted_tls_certificate_fails(tmp_path, ready, token,
                                                      clean_service):
    cfg = config_for(tmp_path, clean_service, token.module,
                     ca_bundle=other_tls_ca(str(tmp_path)))
    res = check_env(cfg, token)
    only_failed(res, "service")
    assert "not trusted" in res.check("service")["summary"], res
    assert "ca_bundle" in res.check("service")["fix"]
    assert res.status("clock") == "skip"


def test_clock_skew_fails_with_the_offset(ready, token, clean_service):
    clean_service.fault("--kind", "lookup", "--type", "skew",
                        "--seconds", "3600")
    res = check_env(ready, token)
    only_failed(res, "clock")
    c = res.check("clock")
    assert "behind" in c["summary"] and "5 minutes" in c["summary"], res
    assert "3599 s" in c["summary"] or "3600 s" in c["summary"] or \
        "3601 s" in c["summary"]
    assert "timedatectl" in c["fix"]
    clean_service.clear_faults()
    clean_service.fault("--kind", "lookup", "--type", "skew",
                        "--seconds", "-120")
    res = check_env(ready, token)
    only_failed(res)
    assert "within 5 minutes" in res.check("clock")["summary"]


# ---- usb, with devices presented by umockdev -------------------------------

def test_usb_one_ekey_passes(ready, token):
    res = check_env(ready, token, wrapper=umockdev("checkenv_one.umockdev"))
    only_failed(res)
    c = res.check("usb")
    assert c["status"] == "pass", res
    assert "/dev/bus/usb/001/005" in c["summary"]
    assert c["fix"] is None


def test_usb_two_ekeys_fail(ready, token):
    res = check_env(ready, token, wrapper=umockdev("checkenv_two.umockdev"))
    only_failed(res, "usb")
    c = res.check("usb")
    assert "2 Ekeys" in c["summary"]
    assert "001/005" in c["detail"] and "001/006" in c["detail"]
    assert "one Ekey at a time" in c["fix"]


def test_usb_no_ekey_with_a_token_in_the_module_warns(ready, token):
    res = check_env(ready, token, wrapper=umockdev("checkenv_other.umockdev"))
    only_failed(res)
    assert res.status("usb") == "warn", res
    assert "096e:0309" in res.check("usb")["summary"]


def test_usb_no_ekey_and_no_token_fails(tmp_path, clean_service, token):
    token.empty(0)
    res = check_env(config_for(tmp_path, clean_service, token.module), token,
                    wrapper=umockdev("checkenv_other.umockdev"))
    only_failed(res, "usb", "single_token")
    assert "no Ekey" in res.check("usb")["summary"]
    assert "insert the Ekey" in res.check("usb")["fix"]


def test_usb_no_bus_under_umockdev_warns(ready, token):
    res = check_env(ready, token, wrapper=umockdev())
    only_failed(res)
    assert res.status("usb") == "warn"
    assert "no USB bus" in res.check("usb")["summary"]


def test_usb_ekey_this_user_cannot_open_fails_with_the_udev_rule(ready,
                                                                 token):
    res = check_env(ready, token,
                    wrapper=umockdev_unopenable("checkenv_one.umockdev"))
    assert res.rc != 90, "cannot chmod the umockdev device node"
    only_failed(res, "usb")
    c = res.check("usb")
    assert "cannot be opened" in c["summary"] and "permission" in c["summary"]
    assert "/etc/udev/rules.d/70-gmrenew-epass3000gm.rules" in c["fix"]
    assert "udevadm control --reload" in c["fix"]
    assert "udevadm trigger" in c["fix"]


def test_clock_limit_is_the_configured_skew(tmp_path, token, clean_service):
    """[policy] clock_skew_seconds is the clock check's limit too."""
    token.enrolled(clean_service, days_left=30)
    cfg = config_for(tmp_path, clean_service, token.module,
                     extra="[policy]\nclock_skew_seconds = 7200\n")
    clean_service.fault("--kind", "lookup", "--type", "skew",
                        "--seconds", "3600")
    res = check_env(cfg, token)
    only_failed(res)
    assert "within 120 minutes" in res.check("clock")["summary"], res
    cfg = config_for(tmp_path, clean_service, token.module,
                     extra="[policy]\nclock_skew_seconds = 90\n")
    clean_service.clear_faults()
    clean_service.fault("--kind", "lookup", "--type", "skew",
                        "--seconds", "-120")
    res = check_env(cfg, token)
    only_failed(res, "clock")
    assert "more than 90 seconds" in res.check("clock")["summary"], res
