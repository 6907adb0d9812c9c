"""The service client (src/service) against the reference service over real TLS.

Runs tests/integration/service_driver/service_driver (software keys stand in
for the Ekey) against tools/refservice/refservice.py started in a temporary
directory. Environment (set by ctest): GMRENEW_BUILD_DIR, GMRENEW_SOURCE_DIR,
REFSERVICE. A missing tool is a failure, never a skip.
"""

import json
import os
import shutil
import socket
import subprocess
import time

import pytest

import gmtest

PYTHON = "/usr/bin/python3"
SUBJECT = "CN=JSB0000@IST@30,OU=深证通CCNET证书测试,OU=CCNET,O=SSCCCA,C=CN"
ORG = "深证通CCNET证书测试"
PROXY_VARS = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY",
              "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY")


def env_path(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail("%s is not set (run through ctest)" % name)
    return value


def driver_path():
    path = os.path.join(env_path("GMRENEW_BUILD_DIR"),
                        "tests/integration/service_driver/service_driver")
    if not os.access(path, os.X_OK):
        pytest.fail("service_driver is not built: %s" % path)
    return path


@pytest.fixture(scope="session", autouse=True)
def tools():
    """Everything the suite needs must be there: fail, do not skip."""
    for tool in ("openssl",):
        if shutil.which(tool) is None:
            pytest.fail("%s is not installed" % tool)
    if not os.path.exists(PYTHON):
        pytest.fail("%s is missing" % PYTHON)
    if not os.path.exists(env_path("REFSERVICE")):
        pytest.fail("reference service not found: %s" % env_path("REFSERVICE"))
    driver_path()


def run(args, **kw):
    return gmtest.run(args, **kw).stdout


class Service:
    """A running reference service in its own directory."""

    def __init__(self, root):
        self.root = root
        self.dir = os.path.join(root, "svc")
        self.keys = 0
        self.rs("init")
        self.proc = subprocess.Popen([PYTHON, env_path("REFSERVICE"), "serve", "--dir", self.dir,
                                      "--port", "0"], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            self.proc.kill()
            pytest.fail("the reference service did not start: %r" % line)
        self.url = line.split()[-1]
        self.ca = os.path.join(self.dir, "tls-ca.pem")

    def rs(self, *args):
        return run([PYTHON, env_path("REFSERVICE")] + [args[0], "--dir", self.dir] + list(args[1:]))

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def key(self, kind="sm2"):
        self.keys += 1
        path = os.path.join(self.root, "key%d.pem" % self.keys)
        if kind == "sm2":
            run(["openssl", "genpkey", "-algorithm", "SM2", "-out", path])
        else:
            run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-pkeyopt", "ec_param_enc:named_curve", "-out", path])
        return path

    def enroll(self, kind="sm2", days_left=30, subject=SUBJECT):
        """(key, certificate) of a newly enrolled certificate."""
        key = self.key(kind)
        pub = key + ".pub"
        run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub])
        cert = key.replace(".pem", ".crt")
        self.rs("enroll", "--pubkey", pub, "--subject", subject, "--gateway", "JSB0000",
                "--organization", ORG, "--system", "CCNET", "--days-left", str(days_left),
                "--out", cert)
        return key, cert

    def fault(self, kind, ftype, **kw):
        args = ["fault", "--kind", kind, "--type", ftype]
        for name, value in kw.items():
            args += ["--" + name.replace("_", "-"), str(value)]
        self.rs(*args)

    def log(self):
        if not os.path.exists(os.path.join(self.dir, "requests.log")):
            return []
        with open(os.path.join(self.dir, "requests.log"), encoding="utf-8") as handle:
            return handle.read().splitlines()


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    service = Service(str(tmp_path_factory.mktemp("refservice")))
    yield service
    service.stop()


@pytest.fixture(autouse=True)
def clean_faults(request):
    yield
    if "svc" in request.fixturenames:
        request.getfixturevalue("svc").rs("faults", "clear")


def drive(svc, *args, url=None, ca=None, retries=3, wait_ms=200, timeout_ms=10000, env=None,
          verbose=False):
    """Run the driver; (exit code, JSON output)."""
    cmd = [driver_path(), "--url", url or svc.url, "--ca", ca or svc.ca,
           "--retries", str(retries), "--retry-wait-ms", str(wait_ms),
           "--timeout-ms", str(timeout_ms), "--connect-ms", "3000"]
    if verbose:
        cmd.append("-vv")
    full_env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
    full_env.update(env or {})
    proc = gmtest.run(cmd + list(args), check=False, env=full_env, timeout=120)
    try:
        out = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError("driver output is not JSON: %r %r" % (proc.stdout, proc.stderr))
    out["stderr"] = proc.stderr
    return proc.returncode, out


def assert_fails(rc, out, exit_code, reason):
    assert not out["ok"], out
    assert rc == exit_code, out
    assert out["error"]["exit"] == exit_code, out
    assert out["error"]["reason"] == reason, out
    assert out["error"]["fix"], out
    return out["error"]


def start(svc, cert, key):
    rc, out = drive(svc, "start", cert, key)
    assert rc == 0, out
    return out["order"]


# ---------------------------------------------------------------- renewals

@pytest.mark.parametrize("kind", ["sm2", "ec-p256"])
def test_full_renewal_one_connection_four_requests(svc, kind):
    key, cert = svc.enroll(kind)
    new_key = svc.key(kind)
    new_cert = os.path.join(svc.root, "renewed-%s.pem" % kind)
    before = len(svc.log())
    rc, out = drive(svc, "renew", cert, key, new_key, "--out", new_cert)
    assert rc == 0, out
    assert out["requests"] == 4 and out["connections"] == 1, out
    order = out["order"]
    assert order["state"] == "confirmed" and order["next_step"] == "none"
    assert order["key_type"] == kind and order["n_chain"] == 2
    lines = svc.log()[before:]
    assert [l.split()[2:4] for l in lines] == [
        ["POST", "/v1/lookup"], ["POST", "/v1/renewals"],
        ["POST", "/v1/renewals/%s/csr" % order["update_code"]],
        ["POST", "/v1/renewals/%s/confirm" % order["update_code"]]]
    assert len({l.split()[1] for l in lines}) == 1, lines  # one conn=N
    subj = run(["openssl", "x509", "-in", new_cert, "-noout", "-subject", "-nameopt", "RFC2253,-esc_msb"])
    old = run(["openssl", "x509", "-in", cert, "-noout", "-subject", "-nameopt", "RFC2253,-esc_msb"])
    assert subj == old
    print("renewal %s: %d requests, %d connection, %.0f ms" % (
        kind, out["requests"], out["connections"], out["elapsed_ms"]))


def test_lookup_records(svc):
    key, cert = svc.enroll(days_left=30)
    stranger = os.path.join(svc.root, "stranger.crt")
    run(["openssl", "req", "-x509", "-new", "-key", key, "-subj", "/CN=stranger", "-days", "10",
         "-out", stranger])
    rc, out = drive(svc, "lookup", cert, stranger)
    assert rc == 0, out
    known, unknown = out["records"]
    assert known["found"] and known["online"] and known["reason"] is None
    assert known["status"] == "valid" and known["organization"] == ORG
    assert known["gateway"] == "JSB0000" and known["system"] == "CCNET"
    assert known["subject"] == SUBJECT
    assert known["window_end"] - known["window_start"] == 180 * 86400
    assert not unknown["found"] and unknown["reason"] == "unknown" and not unknown["online"]
    assert unknown["status"] == "unknown"


def test_lookup_more_than_sixteen_certificates_is_batched(svc):
    _, cert = svc.enroll()
    rc, out = drive(svc, "lookup", *([cert] * 20))
    assert rc == 0, out
    assert len(out["records"]) == 20 and out["requests"] == 2


def test_steps_start_status_csr_confirm_cancel(svc):
    key, cert = svc.enroll()
    order = start(svc, cert, key)
    assert order["state"] == "started" and order["next_step"] == "csr"
    assert order["subject"] == SUBJECT and order["subject_der_len"] > 0
    code = order["update_code"]
    again = start(svc, cert, key)        # an open order is returned again
    assert again["update_code"] == code
    rc, out = drive(svc, "status", code.lower().replace("-", " "))
    assert rc == 0 and out["order"]["state"] == "started", out
    new_key = svc.key()
    rc, out = drive(svc, "csr", code, key, new_key)
    assert rc == 0, out
    issued = out["order"]
    assert issued["state"] == "issued" and issued["cert_len"] > 0 and issued["n_chain"] == 2
    rc, out = drive(svc, "confirm", code, issued["cert_sha256"], new_key)
    assert rc == 0 and out["order"]["state"] == "confirmed", out
    rc, out = drive(svc, "cancel", code, new_key)
    assert_fails(rc, out, 1, "conflict")

    key2, cert2 = svc.enroll()
    code2 = start(svc, cert2, key2)["update_code"]
    rc, out = drive(svc, "cancel", code2, key2)
    assert rc == 0 and out["order"]["state"] == "cancelled", out


def test_trace_log_without_signatures(svc):
    key, cert = svc.enroll()
    svc.fault("start", "http_error", status=503, retry_after=0, count=1)
    rc, out = drive(svc, "start", cert, key, verbose=True)
    assert rc == 0, out
    log = out["stderr"]
    assert "GET /v1/challenge -> 200" in log and "POST /v1/renewals -> 503" in log
    assert "POST /v1/renewals -> 201" in log and " ms" in log
    assert "retry 1 of 3" in log
    assert "Gmrenew-Signature" not in log and "MEUCI" not in log and "MEQCI" not in log


# ---------------------------------------------------------------- protocol errors

def test_not_due(svc):
    key, cert = svc.enroll(days_left=200)
    rc, out = drive(svc, "start", cert, key)
    err = assert_fails(rc, out, 3, "not_due")
    assert "暂不能在线更新" in err["message"] and "not yet possible" in err["message"]


def test_offline_only(svc):
    key, cert = svc.enroll(days_left=-100)
    rc, out = drive(svc, "start", cert, key)
    err = assert_fails(rc, out, 4, "offline_only")
    assert "线下更新" in err["message"] and "offline renewal" in err["message"]
    assert "证书业务信息表" in err["fix"]


def test_subject_mismatch(svc):
    key, cert = svc.enroll()
    code = start(svc, cert, key)["update_code"]
    rc, out = drive(svc, "csr", code, key, svc.key(), "--subject", "CN=JSB9999@IST@30,O=SSCCCA,C=CN")
    err = assert_fails(rc, out, 8, "subject_mismatch")
    assert "更新的证书与您当前 Ekey 的证书主题不符，无法更新证书" in err["message"]
    assert "does not match the subject of the certificate on your Ekey" in err["message"]


def test_pop_invalid(svc):
    _, cert = svc.enroll()
    rc, out = drive(svc, "start", cert, svc.key())
    assert_fails(rc, out, 1, "pop_invalid")


def test_unknown_code(svc):
    rc, out = drive(svc, "status", "2345-6789-ABCD-EFGH")
    assert_fails(rc, out, 1, "unknown_code")


def test_malformed_code_refused_before_sending(svc):
    rc, out = drive(svc, "status", "0OI1-6789-ABCD-EFGH")
    assert rc == 2 and out["requests"] == 0, out


def test_unknown_certificate(svc):
    key = svc.key()
    stranger = os.path.join(svc.root, "stranger2.crt")
    run(["openssl", "req", "-x509", "-new", "-key", key, "-subj", "/CN=stranger", "-days", "10",
         "-out", stranger])
    rc, out = drive(svc, "start", stranger, key)
    assert_fails(rc, out, 1, "unknown_certificate")


def test_revoked(svc):
    key, cert = svc.enroll()
    svc.rs("revoke", "--cert", cert)
    rc, out = drive(svc, "start", cert, key)
    err = assert_fails(rc, out, 1, "revoked")
    assert "已吊销" in err["message"]


def test_superseded_names_the_code(svc):
    key, cert = svc.enroll()
    rc, out = drive(svc, "renew", cert, key, svc.key())
    assert rc == 0, out
    rc, out2 = drive(svc, "start", cert, key)
    err = assert_fails(rc, out2, 1, "superseded")
    assert out["order"]["update_code"] in err["fix"]


def test_csr_invalid_same_key(svc):
    key, cert = svc.enroll()
    code = start(svc, cert, key)["update_code"]
    rc, out = drive(svc, "csr", code, key, key)
    assert_fails(rc, out, 1, "csr_invalid")


def test_code_expired(svc):
    key, cert = svc.enroll()
    code = start(svc, cert, key)["update_code"]
    svc.rs("faults", "clock", str(8 * 86400))
    rc, out = drive(svc, "cancel", code, key)
    assert_fails(rc, out, 1, "code_expired")


def test_bad_challenge_retried_once(svc):
    key, cert = svc.enroll()
    svc.fault("start", "http_error", status=401, code="bad_challenge", count=1)
    rc, out = drive(svc, "start", cert, key)
    assert rc == 0, out
    # GET /v1/challenge (a new client has none), start refused, start re-signed
    assert out["requests"] == 3, out
    svc.fault("start", "http_error", status=401, code="bad_challenge", count=2)
    rc, out = drive(svc, "start", cert, key)
    assert_fails(rc, out, 7, "bad_challenge")
    assert out["requests"] == 3, out      # retried only once


# ---------------------------------------------------------------- faults

def test_busy_retry_after_honoured(svc):
    _, cert = svc.enroll()
    svc.fault("lookup", "http_error", status=503, retry_after=1, count=2)
    rc, out = drive(svc, "lookup", cert, wait_ms=5000)
    assert rc == 0, out
    assert out["requests"] == 3, out
    assert out["elapsed_ms"] >= 1900, out   # two waits of Retry-After: 1


def test_busy_retry_after_capped(svc):
    _, cert = svc.enroll()
    svc.fault("lookup", "http_error", status=503, retry_after=30, count=1)
    rc, out = drive(svc, "lookup", cert, wait_ms=300)
    assert rc == 0 and out["requests"] == 2, out
    assert out["elapsed_ms"] < 5000, out


def test_busy_outlasting_retries_gives_up(svc):
    key, cert = svc.enroll()
    svc.fault("start", "http_error", status=503, retry_after=1)
    rc, out = drive(svc, "start", cert, key, retries=2, wait_ms=100)
    err = assert_fails(rc, out, 7, "busy")
    assert out["requests"] == 4, out      # challenge, then start 1 + 2 retries
    assert "服务繁忙" in err["message"] and "busy" in err["message"]
    assert "renew-with-code" in err["fix"]


def test_internal_error_retried(svc):
    key, cert = svc.enroll()
    svc.fault("start", "http_error", status=500, count=1)
    rc, out = drive(svc, "start", cert, key)
    assert rc == 0 and out["requests"] == 3, out   # challenge, start, start


def test_delay_beyond_total_timeout(svc):
    _, cert = svc.enroll()
    svc.fault("lookup", "delay", ms=2000)
    rc, out = drive(svc, "lookup", cert, timeout_ms=600, retries=1, wait_ms=50)
    err = assert_fails(rc, out, 7, "timeout")
    assert out["requests"] == 2 and out["elapsed_ms"] < 4000, out
    assert "did not answer in time" in err["message"]


def test_delay_once_is_retried(svc):
    _, cert = svc.enroll()
    svc.fault("lookup", "delay", ms=1500, count=1)
    rc, out = drive(svc, "lookup", cert, timeout_ms=600, retries=1, wait_ms=50)
    assert rc == 0 and out["requests"] == 2, out


@pytest.mark.parametrize("when", ["before", "after"])
def test_dropped_connection_retried(svc, when):
    key, cert = svc.enroll()
    svc.fault("csr", "drop", when=when, count=1)
    before = len(svc.log())
    rc, out = drive(svc, "renew", cert, key, svc.key())
    assert rc == 0, out
    assert out["connections"] == 2, out
    assert out["order"]["state"] == "confirmed"
    csr = [l.split() for l in svc.log()[before:] if l.split()[3].endswith("/csr")]
    assert csr[0][4] == "drop" and csr[-1][4] == "200", csr
    # libcurl resends once by itself on a reused connection closed without
    # an answer; after a drop "after", that resend meets a used challenge
    # (401), and the client re-signs with the new one
    assert [c[4] for c in csr] == (["drop", "200"] if when == "before"
                                   else ["drop", "401", "200"]), csr


def test_malformed_body(svc):
    _, cert = svc.enroll()
    svc.fault("lookup", "malformed", count=1)
    rc, out = drive(svc, "lookup", cert)
    err = assert_fails(rc, out, 7, "malformed")
    assert "the service sent a malformed answer: not JSON" in err["message"]
    assert out["requests"] == 1


@pytest.mark.parametrize("size", [300000, 10 * 1024 * 1024])
def test_oversized_body_refused(svc, size):
    key, cert = svc.enroll()
    code = start(svc, cert, key)["update_code"]
    svc.fault("status", "oversized", bytes=size, count=1)
    rc, out = drive(svc, "status", code)
    err = assert_fails(rc, out, 7, "too_large")
    assert "262144" in err["message"]
    assert out["requests"] == 1


def test_skewed_date_reported(svc):
    _, cert = svc.enroll()
    svc.fault("lookup", "skew", seconds=7200, count=1)
    rc, out = drive(svc, "lookup", cert)
    assert rc == 0, out
    assert abs(out["server_date"] - (time.time() + 7200)) < 30, out


# ---------------------------------------------------------------- transport

def test_untrusted_server_certificate(svc):
    key, cert = svc.enroll()
    other_ca = os.path.join(svc.dir, "chain-ca.pem")   # a valid bundle, the wrong CA
    env = {"SSL_CERT_FILE": svc.ca, "CURL_CA_BUNDLE": svc.ca, "SSL_CERT_DIR": svc.dir}
    rc, out = drive(svc, "start", cert, key, ca=other_ca, env=env)
    err = assert_fails(rc, out, 7, "tls_untrusted")
    assert "is not trusted by the configured CA bundle" in err["message"]
    assert "ca_bundle" in err["fix"]
    assert out["requests"] == 1, out   # never retried


def test_no_option_turns_verification_off():
    src = os.path.join(env_path("GMRENEW_SOURCE_DIR"), "src/service")
    text = "".join(open(os.path.join(src, f), encoding="utf-8").read()
                   for f in os.listdir(src) if f.endswith((".c", ".h")))
    assert "CURLOPT_SSL_VERIFYPEER, 1L" in text and "CURLOPT_SSL_VERIFYHOST, 2L" in text
    for bad in ("VERIFYPEER, 0", "VERIFYHOST, 0", "CURLOPT_PROXY,", "CURLOPT_NOPROXY,"):
        assert bad not in text
    header = open(os.path.join(env_path("GMRENEW_SOURCE_DIR"), "include/gmrenew/service.h"),
                  encoding="utf-8").read()
    assert "insecure" not in header.lower() and "verify_peer" not in header.lower()


def test_http_url_refused(svc):
    _, cert = svc.enroll()
    rc, out = drive(svc, "lookup", cert, url=svc.url.replace("https://", "http://"))
    assert rc == 2 and out["requests"] == 0, out
    assert "not https://" in out["error"]["message"]
    rc, out = drive(svc, "lookup", cert, url=svc.url + "/v1")
    assert rc == 2 and out["requests"] == 0, out


def test_missing_bundle_refused(svc):
    _, cert = svc.enroll()
    rc, out = drive(svc, "lookup", cert, ca=os.path.join(svc.root, "no-such.pem"))
    assert rc == 2 and "cannot read the CA bundle" in out["error"]["message"], out
    rc, out = drive(svc, "lookup", cert, ca=cert.replace(".crt", ".pem.pub"))   # PEM, but no certificate
    assert rc == 2 and "holds no PEM certificate" in out["error"]["message"], out


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_service_down(svc):
    _, cert = svc.enroll()
    rc, out = drive(svc, "lookup", cert, url="https://127.0.0.1:%d" % free_port(),
                    retries=2, wait_ms=100)
    err = assert_fails(rc, out, 7, "network")
    assert out["requests"] == 3 and out["elapsed_ms"] < 5000, out
    assert "cannot reach the renewal service" in err["message"]


def test_proxy_taken_from_environment(svc):
    _, cert = svc.enroll()
    dead = "http://127.0.0.1:%d" % free_port()
    rc, out = drive(svc, "lookup", cert, retries=0, env={"https_proxy": dead})
    assert_fails(rc, out, 7, "network")
    rc, out = drive(svc, "lookup", cert, retries=0,
                    env={"https_proxy": dead, "no_proxy": "127.0.0.1"})
    assert rc == 0, out
