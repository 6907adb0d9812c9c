"""Fixtures for the reference service tests: a running service and a client.

The service runs once per test session in a temporary directory; every test
starts with an empty faults file. Tools the tests need (openssl, the
refservice script) are checked up front: a missing tool FAILS the tests.
"""

import base64
import hashlib
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
REFSERVICE = os.path.join(REPO, "tools", "refservice", "refservice.py")
PYTHON = "/usr/bin/python3"
SM2_ID = "1234567812345678"
SUBJECT = "CN=JSB0000@IST@30,OU=深证通CCNET证书测试,OU=CCNET,O=SSCCCA,C=CN"

sys.path.insert(0, os.path.join(REPO, "tools", "refservice"))


def require_tools():
    """Fail (never skip) when a needed tool is missing."""
    for tool in ("openssl",):
        assert shutil.which(tool), "required tool %s not found on PATH" % tool
    assert os.path.exists(REFSERVICE), "missing %s" % REFSERVICE
    assert os.path.exists(PYTHON), "missing %s" % PYTHON


def openssl(*args, data=None, check=True):
    """Run openssl; return CompletedProcess."""
    proc = subprocess.run(["openssl"] + list(args), input=data, capture_output=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError("openssl %s failed: %s" % (" ".join(args), proc.stderr.decode(errors="replace")))
    return proc


def tool(*args, check=True):
    """Run refservice.py with args; return CompletedProcess (text)."""
    proc = subprocess.run([PYTHON, REFSERVICE] + list(args), capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError("refservice %s failed: %s" % (" ".join(args), proc.stderr))
    return proc


class Key:
    """A software key made with openssl genpkey; signs like the token would."""

    def __init__(self, directory, kind, name):
        self.kind = kind
        self.path = os.path.join(directory, name + ".key")
        self.pub = os.path.join(directory, name + ".pub.pem")
        if kind == "sm2":
            openssl("genpkey", "-algorithm", "SM2", "-out", self.path)
        else:
            openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-pkeyopt", "ec_param_enc:named_curve", "-out", self.path)
        openssl("pkey", "-in", self.path, "-pubout", "-out", self.pub)
        self.spki = openssl("pkey", "-in", self.path, "-pubout", "-outform", "DER").stdout

    def sign(self, message):
        """Standard signature (DER) of message: SM2-SM3 with ID, or ECDSA-SHA256."""
        with tempfile.NamedTemporaryFile() as msg:
            msg.write(message)
            msg.flush()
            if self.kind == "sm2":
                return openssl("pkeyutl", "-sign", "-inkey", self.path, "-rawin", "-digest", "sm3",
                               "-pkeyopt", "distid:" + SM2_ID, "-in", msg.name).stdout
            return openssl("dgst", "-sha256", "-sign", self.path, msg.name).stdout

    def csr(self, subject=SUBJECT, distid=True):
        """PKCS#10 DER for this key (UTF-8 subject in the given RFC 2253 order)."""
        parts = [p for p in subject.split(",")]
        subj = "/" + "/".join(reversed(parts))
        args = ["req", "-new", "-key", self.path, "-utf8", "-subj", subj, "-outform", "DER"]
        if self.kind == "sm2" and distid:
            args += ["-sigopt", "distid:" + SM2_ID]
        return openssl(*args).stdout


class Response:
    """Status, headers and decoded JSON body of one exchange."""

    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers
        self.raw = raw
        try:
            self.json = json.loads(raw.decode("utf-8"))
        except ValueError:
            self.json = None

    @property
    def code(self):
        """Error code of an error response."""
        return self.json["error"]["code"]

    def __repr__(self):
        return "<Response %s %s>" % (self.status, self.raw[:300])


class Client:
    """HTTPS client on one persistent connection; tracks the next challenge."""

    def __init__(self, svc):
        self.svc = svc
        ctx = ssl.create_default_context(cafile=os.path.join(svc.dir, "tls-ca.pem"))
        self.conn = http.client.HTTPSConnection("127.0.0.1", svc.port, context=ctx, timeout=20)
        self.challenge = None

    def close(self):
        """Close the connection."""
        self.conn.close()

    def send(self, method, path, obj=None, raw=None, headers=None):
        """Send a request; return Response and remember next_challenge."""
        body = raw if raw is not None else (json.dumps(obj, ensure_ascii=False).encode() if obj is not None else None)
        hdrs = {"Content-Type": "application/json"}
        hdrs.update(headers or {})
        self.conn.request(method, path, body=body, headers=hdrs)
        resp = self.conn.getresponse()
        result = Response(resp.status, resp.headers, resp.read())
        if result.json and "next_challenge" in result.json:
            self.challenge = result.json["next_challenge"]
        return result

    def get_challenge(self):
        """GET /v1/challenge."""
        return self.send("GET", "/v1/challenge")

    def signed(self, path, obj, key, challenge=None, sign_body=None, sign_path=None):
        """POST with PoP headers signed by key over the current challenge."""
        if challenge is None:
            if self.challenge is None:
                self.get_challenge()
            challenge = self.challenge
        body = json.dumps(obj, ensure_ascii=False).encode()
        message = pop_message(challenge, "POST", sign_path or path, sign_body if sign_body is not None else body)
        signature = base64.b64encode(key.sign(message)).decode()
        return self.send("POST", path, raw=body,
                         headers={"Gmrenew-Challenge": challenge, "Gmrenew-Signature": signature})

    # protocol operations
    def lookup(self, items):
        return self.send("POST", "/v1/lookup", {"certificates": items})

    def start(self, cert_der, key, **kw):
        return self.signed("/v1/renewals", {"certificate": b64(cert_der)}, key, **kw)

    def csr(self, code, csr_der, key, **kw):
        return self.signed("/v1/renewals/%s/csr" % code, {"csr": b64(csr_der)}, key, **kw)

    def confirm(self, code, sha256, key, **kw):
        return self.signed("/v1/renewals/%s/confirm" % code, {"certificate_sha256": sha256}, key, **kw)

    def cancel(self, code, key, **kw):
        return self.signed("/v1/renewals/%s/cancel" % code, {}, key, **kw)

    def status(self, code):
        return self.send("GET", "/v1/renewals/%s" % code)


def pop_message(challenge, method, path, body):
    """The signed bytes of protocol section 5.2, built independently."""
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    return ("gmrenew-pop-v1\n%s\n%s %s\n%s" % (challenge, method, path, digest)).encode("utf-8")


def b64(data):
    """Standard base64 text."""
    return base64.b64encode(data).decode()


class Service:
    """A running reference service in a temporary directory."""

    def __init__(self, directory):
        self.dir = directory
        self.proc = None
        self.port = None
        self.counter = 0

    def start(self):
        """Start `serve` and wait for its listening line."""
        self.stderr_path = os.path.join(self.dir, "serve-%d.stderr" % id(self))
        with open(self.stderr_path, "w", encoding="utf-8") as err:
            self.proc = subprocess.Popen([PYTHON, REFSERVICE, "serve", "--dir", self.dir, "--port", "0"],
                                         stdout=subprocess.PIPE, stderr=err, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("listening on https://127.0.0.1:"), line + self.stderr()
        self.port = int(line.rsplit(":", 1)[1])

    def stop(self):
        """SIGTERM; return the exit status."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()

    def stderr(self):
        """What the service wrote on stderr so far."""
        with open(self.stderr_path, encoding="utf-8") as handle:
            return handle.read()

    def client(self):
        """A new client connection."""
        return Client(self)

    def key(self, kind="sm2"):
        """A new software key."""
        self.counter += 1
        return Key(self.dir, kind, "test-%s-%d" % (kind, self.counter))

    def enroll(self, key, days_left=30, subject=SUBJECT, gateway="JSB0000", not_before=None, not_after=None):
        """Enroll a certificate for key; return its DER."""
        self.counter += 1
        out = os.path.join(self.dir, "enrolled-%d.pem" % self.counter)
        args = ["enroll", "--dir", self.dir, "--pubkey", key.pub, "--subject", subject,
                "--gateway", gateway, "--organization", "深证通CCNET证书测试", "--system", "CCNET", "--out", out]
        if not_after:
            args += ["--not-before", not_before, "--not-after", not_after]
        else:
            args += ["--days-left", str(days_left)]
        tool(*args)
        with open(out, encoding="ascii") as handle:
            return base64.b64decode("".join(l for l in handle.read().splitlines() if "-----" not in l))

    def faults(self, data):
        """Replace faults.json."""
        with open(os.path.join(self.dir, "faults.json"), "w", encoding="utf-8") as handle:
            json.dump(data, handle)

    def log_lines(self):
        """Lines of requests.log."""
        path = os.path.join(self.dir, "requests.log")
        if not os.path.exists(path):
            return []
        with open(path, encoding="utf-8") as handle:
            return handle.read().splitlines()


@pytest.fixture(scope="session")
def svc():
    """The session's running service."""
    require_tools()
    directory = tempfile.mkdtemp(prefix="refservice-test-")
    tool("init", "--dir", directory)
    service = Service(directory)
    service.start()
    yield service
    service.stop()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(autouse=True)
def clean_faults(request):
    """Every test starts and ends with no faults."""
    if "svc" in request.fixturenames:
        svc = request.getfixturevalue("svc")
        svc.faults({})
        yield
        svc.faults({})
    else:
        yield


@pytest.fixture
def client(svc):
    """A fresh client connection."""
    c = svc.client()
    yield c
    c.close()


def wait_for(predicate, timeout=5.0):
    """Poll predicate until true or timeout; return its last value."""
    end = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < end:
        time.sleep(0.05)
        value = predicate()
    return value
