"""Shared fixtures for gmrenew's integration tests.

Everything a test needs is made in a temporary directory: a soft
ePass3000GM (tests/softtoken), a SoftHSM2 token, the reference renewal
service (tools/refservice) over real TLS on 127.0.0.1, certificates made
with the openssl command, and a configuration file for gmrenew. Paths come
from ctest's environment (tests/CMakeLists.txt); a missing tool is a
failure, never a skip.
"""
import contextlib
import hashlib
import importlib.util
import io
import json
import os
import pathlib
import re
import shutil
import signal
import sqlite3
import ssl
import subprocess
import threading
import time
import traceback

PIN = "Gmr3new-Pin"
SO_PIN = "So-Pin-4321"
SUBJECT = "CN=JSB0000@IST@30,OU=深证通CCNET证书测试,OU=CCNET,O=SSCCCA,C=CN"
SERIAL = "2000000012345678"
PY = "/usr/bin/python3"


def need_env(name):
    value = os.environ.get(name)
    if not value:
        raise RuntimeError("%s is not set: run the tests through ctest" % name)
    return value


def need_tool(name):
    path = shutil.which(name)
    if not path:
        raise RuntimeError("the test needs '%s', which is not installed "
                           "(scripts/install-deps.sh test)" % name)
    return path


# ---- the one subprocess runner of the Python tests ----

# What a sanitizer writes when it finds something. The test build makes
# ASan/LSan exit 99 and UBSan 98 (tests/CMakeLists.txt), but a report can
# also come from a process that exits otherwise (UBSan without
# halt_on_error, a child of a killed run), so stderr is always read.
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "AddressSanitizer:", "LeakSanitizer:",
                   "UndefinedBehaviorSanitizer", "runtime error:",
                   "SUMMARY: AddressSanitizer",
                   "SUMMARY: UndefinedBehaviorSanitizer")
SANITIZER_EXITS = (98, 99)


def sanitizer_report(p):
    """The sanitizer report in a finished process's stderr, or None."""
    err = p.stderr or ""
    if isinstance(err, bytes):
        err = err.decode("utf-8", "replace")
    for mark in SANITIZER_MARKS:
        if mark in err:
            return err
    if p.returncode in SANITIZER_EXITS:
        return "exit %d (the sanitizer exit code)\n%s" % (p.returncode, err)
    return None


def assert_no_sanitizer(p):
    """A run must not end with a sanitizer report."""
    report = sanitizer_report(p)
    assert report is None, "sanitizer report from %s:\n%s" % (
        " ".join(str(a) for a in p.args), report)
    return p


def finish(p, check=True, expect=None):
    """Checks a finished process: never a sanitizer report; its exit code
    is expect when given, else 0 when check."""
    assert_no_sanitizer(p)
    want = expect if expect is not None else (0 if check else None)
    if want is not None and p.returncode != want:
        raise AssertionError("%s exited %d, expected %d\nstdout:\n%s\n"
                             "stderr:\n%s" % (
                                 " ".join(str(a) for a in p.args),
                                 p.returncode, want, p.stdout, p.stderr))
    return p


def run(args, check=True, expect=None, **kw):
    """Runs a command, capturing its output as text (bytes that are not
    UTF-8 kept as surrogates, so tests can find them); see finish()."""
    kw.setdefault("errors", "surrogateescape")
    p = subprocess.run([str(a) for a in args], capture_output=True,
                       text=True, **kw)
    return finish(p, check, expect)


def spawn(args, **kw):
    """Starts a command whose end a test waits for with collect()."""
    return subprocess.Popen([str(a) for a in args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            errors="surrogateescape", **kw)


def collect(proc, check=False, expect=None, timeout=None):
    """Waits for a spawn()ed command and checks it as finish() does."""
    out, err = proc.communicate(timeout=timeout)
    return finish(subprocess.CompletedProcess(proc.args, proc.returncode,
                                              out, err), check, expect)


def openssl(*args, **kw):
    return run([need_tool("openssl")] + list(args), **kw)


class SoftToken:
    """The soft ePass3000GM: a state directory and its helper tool."""

    def __init__(self, root):
        self.dir = pathlib.Path(root) / "softtoken"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.module = need_env("GMSOFT_MODULE")
        self.tool = need_env("GMSOFT_TOOL")

    def env(self, **extra):
        env = dict(os.environ, GMSOFT_DIR=str(self.dir), GMSOFT_PIN=PIN,
                   GMSOFT_SO_PIN=SO_PIN)
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def tool_run(self, *args, check=True):
        return run([self.tool] + list(args), check=check, env=self.env())

    def init(self, slot=0, label="JSB0000 Ekey", serial=SERIAL):
        self.tool_run("init", "--slot", slot, "--label", label,
                      "--serial", serial)

    def gen_key(self, slot, key_id, label, pub_out):
        self.tool_run("gen-key", "--slot", slot, "--id", key_id,
                      "--label", label, "--out-pub", pub_out)

    def import_key(self, slot, key_id, label, key_pem):
        self.tool_run("import-key", "--slot", slot, "--id", key_id,
                      "--label", label, "--key", key_pem)

    def import_cert(self, slot, key_id, label, cert):
        self.tool_run("import-cert", "--slot", slot, "--id", key_id,
                      "--label", label, "--cert", cert)

    def import_raw(self, slot, key_id, label, path):
        self.tool_run("import-raw-cert", "--slot", slot, "--id", key_id,
                      "--label", label, "--file", path)

    def listing(self, slot=0):
        return self.tool_run("list", "--slot", slot).stdout

    def pin_status(self, slot=0):
        return self.tool_run("pin-status", "--slot", slot).stdout


class SoftHSM:
    """A SoftHSM2 token in its own configuration."""

    def __init__(self, root, label="hsm-token"):
        self.module = need_env("SOFTHSM_MODULE")
        self.dir = pathlib.Path(root) / "softhsm"
        (self.dir / "tokens").mkdir(parents=True, exist_ok=True)
        self.conf = self.dir / "softhsm2.conf"
        self.conf.write_text("directories.tokendir = %s\nobjectstore.backend = file\n"
                             "log.level = ERROR\n" % (self.dir / "tokens"))
        run([need_tool("softhsm2-util"), "--init-token", "--free", "--label",
             label, "--pin", PIN, "--so-pin", SO_PIN], env=self.env())

    def env(self, **extra):
        env = dict(os.environ, SOFTHSM2_CONF=str(self.conf))
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def p11(self, *args, login=False, check=True):
        cmd = [need_tool("pkcs11-tool"), "--module", self.module]
        if login:
            cmd += ["--login", "--pin", PIN]
        return run(cmd + list(args), check=check, env=self.env())

    def gen_p256(self, key_id, label):
        self.p11("--keypairgen", "--key-type", "EC:prime256v1", "--id", key_id,
                 "--label", label, login=True)

    def pubkey_pem(self, key_id, out):
        der = pathlib.Path(str(out) + ".der")
        self.p11("--read-object", "--type", "pubkey", "--id", key_id,
                 "--output-file", der)
        openssl("pkey", "-pubin", "-inform", "DER", "-in", der, "-out", out)

    def import_cert(self, key_id, label, cert_pem):
        der = pathlib.Path(str(cert_pem) + ".der")
        openssl("x509", "-in", cert_pem, "-outform", "DER", "-out", der)
        self.p11("--write-object", der, "--type", "cert", "--id", key_id,
                 "--label", label, login=True)

    def import_key(self, key_id, label, key_pem):
        der = pathlib.Path(str(key_pem) + ".p8.der")
        openssl("pkcs8", "-topk8", "-nocrypt", "-in", key_pem, "-outform",
                "DER", "-out", der)
        self.p11("--write-object", der, "--type", "privkey", "--id", key_id,
                 "--label", label, login=True)


DIGEST = bytes(range(32))


class Pkcs11Check:
    """What a soft Ekey holds, seen only through pkcs11-tool and openssl
    (never through gmrenew's own code)."""

    def __init__(self, token, workdir):
        self.token = token
        self.dir = pathlib.Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)

    def p11(self, *args, login=False, check=True):
        cmd = [need_tool("pkcs11-tool"), "--module", self.token.module]
        if login:
            cmd += ["--login", "--pin", PIN]
        return run(cmd + list(args), check=check, env=self.token.env())

    def objects(self):
        """[(kind, id hex, label)] of every object, after login."""
        out = self.p11("--list-objects", login=True).stdout
        objs = []
        for line in out.splitlines():
            m = re.match(r"(Certificate|Public Key|Private Key) Object", line)
            if m:
                objs.append([m.group(1), None, None])
            elif objs and line.strip().startswith("ID:"):
                objs[-1][1] = line.split(":", 1)[1].strip()
            elif objs and line.strip().startswith("label:"):
                objs[-1][2] = line.split(":", 1)[1].strip()
        return [tuple(o) for o in objs]

    def cert_pem(self, key_id):
        """The certificate with this CKA_ID as a PEM file (via openssl)."""
        d = self.dir / ("cert-" + key_id)
        d.mkdir(exist_ok=True)
        der, pem = d / "c.der", d / "c.pem"
        self.p11("--read-object", "--type", "cert", "--id", key_id,
                 "--output-file", der)
        openssl("x509", "-inform", "DER", "-in", der, "-out", pem)
        return pem

    def cert_sha256(self, key_id):
        """The SHA-256 fingerprint (lower-case hex) of the DER certificate
        with this CKA_ID, as pkcs11-tool reads it."""
        d = self.dir / ("cert-" + key_id)
        d.mkdir(exist_ok=True)
        der = d / "c.der"
        self.p11("--read-object", "--type", "cert", "--id", key_id,
                 "--output-file", der)
        return hashlib.sha256(der.read_bytes()).hexdigest()

    def usable(self, key_id):
        """The certificate with this CKA_ID is valid now and its private key
        signs: verified by openssl with the certificate's public key."""
        d = self.dir / ("cert-" + key_id)
        d.mkdir(exist_ok=True)
        der, pub = d / "c.der", d / "pub.pem"
        e, raw, sig = d / "e.bin", d / "sig.raw", d / "sig.der"
        self.p11("--read-object", "--type", "cert", "--id", key_id,
                 "--output-file", der)
        # one openssl run: the certificate parses, its public key, and
        # whether it is valid now (-checkend 0 sets the exit code)
        x = openssl("x509", "-inform", "DER", "-in", der, "-noout",
                    "-pubkey", "-checkend", "0", check=False)
        key = re.search(r"-----BEGIN PUBLIC KEY-----.*?-----END PUBLIC "
                        r"KEY-----\n", x.stdout, re.S)
        if not key:     # not a certificate: as openssl x509 says
            raise AssertionError("openssl read no certificate from %s:\n%s"
                                 % (der, x.stderr))
        if x.returncode:
            return False
        pub.write_text(key.group(0))
        e.write_bytes(DIGEST)
        if self.p11("--sign", "-m", "0x80000202", "--id", key_id,
                    "--input-file", e, "--output-file", raw, login=True,
                    check=False).returncode:
            return False
        self.token.tool_run("sig-to-der", "--in", raw, "--out", sig)
        return openssl("pkeyutl", "-verify", "-pubin", "-inkey", pub, "-in",
                       e, "-sigfile", sig, check=False).returncode == 0


def sha256_of_pem(pem):
    """The SHA-256 fingerprint (lower-case hex) of a PEM certificate's DER."""
    der = ssl.PEM_cert_to_DER_cert(pathlib.Path(pem).read_text())
    return hashlib.sha256(der).hexdigest()


def sha256_of_cert(pem):
    """The certificate's SHA-256 fingerprint (lower-case hex) by openssl."""
    out = openssl("x509", "-in", pem, "-noout", "-fingerprint",
                  "-sha256").stdout
    return out.split("=")[1].strip().replace(":", "").lower()


class Service:
    """The reference renewal service, over real TLS on 127.0.0.1."""

    def __init__(self, root):
        self.script = need_env("REFSERVICE")
        self.dir = pathlib.Path(root) / "ca"
        self.proc = None
        self.port = None
        self.cli("init")
        self.bundle = pathlib.Path(root) / "sm2-ca-bundle.pem"
        self.bundle.write_text((self.dir / "chain-ca.pem").read_text() +
                               (self.dir / "issuing-ca.pem").read_text())

    def cli(self, *args, check=True):
        return run([PY, self.script] + list(args[:1]) + ["--dir", self.dir] +
                   list(args[1:]), check=check)

    def start(self):
        port_file = self.dir / "port"
        if port_file.exists():
            port_file.unlink()
        self.proc = subprocess.Popen(
            [PY, self.script, "serve", "--dir", str(self.dir), "--port",
             str(self.port or 0)], stdout=subprocess.DEVNULL,
            stderr=open(self.dir / "serve.err", "a"))
        for _ in range(200):
            if port_file.exists() and port_file.read_text().strip():
                self.port = int(port_file.read_text())
                return self
            if self.proc.poll() is not None:
                raise RuntimeError("the reference service did not start: " +
                                   (self.dir / "serve.err").read_text())
            time.sleep(0.05)
        raise RuntimeError("the reference service did not start in time")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
        self.proc = None

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.port

    def enroll(self, pub, out, days_left=30, subject=SUBJECT, gateway="JSB0000",
               organization="深证通CCNET证书测试", system="CCNET"):
        self.cli("enroll", "--pubkey", pub, "--subject", subject, "--gateway",
                 gateway, "--organization", organization, "--system", system,
                 "--days-left", days_left, "--out", out)
        return out

    def fault(self, kind, ftype, **kw):
        args = ["fault", "--kind", kind, "--type", ftype]
        for k, v in kw.items():
            args += ["--" + k.replace("_", "-"), v]
        self.cli(*args)

    def faults_clear(self):
        self.cli("faults", "clear")

    def show(self):
        return json.loads(self.cli("show").stdout)

    def orders(self):
        return self.show().get("orders", [])

    def log_lines(self):
        log = self.dir / "requests.log"
        return log.read_text().splitlines() if log.exists() else []


_REFSERVICE = {}
_REFSERVICE_LOCK = threading.Lock()


def refservice_main():
    """main() of tools/refservice/refservice.py, loaded once into this
    process."""
    if "main" not in _REFSERVICE:
        path = need_env("REFSERVICE")
        spec = importlib.util.spec_from_file_location("refservice_cli", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _REFSERVICE["main"] = module.main
    return _REFSERVICE["main"]


class InProcessService(Service):
    """The reference service, its command line (init, enroll, fault,
    faults, show) running the same code as `refservice.py CMD` but inside
    the test's process, one command at a time (World's, the interruption
    matrices', the hostile suite's): a new interpreter for each costs more
    CPU than most commands themselves. Its orders
    are read from its registry (registry.db, SQLite) without parsing every
    certificate as `show` does. The server is the same separate process as
    Service's."""

    def cli(self, *args, check=True):
        argv = [str(a) for a in args[:1]] + ["--dir", str(self.dir)] + [
            str(a) for a in args[1:]]
        out, code, err = io.StringIO(), 0, ""
        errout = io.StringIO()
        with _REFSERVICE_LOCK, contextlib.redirect_stdout(out), \
                contextlib.redirect_stderr(errout):
            try:
                refservice_main()(argv)
            except SystemExit as e:
                if isinstance(e.code, str):
                    code, err = 1, e.code + "\n"
                else:
                    code = e.code or 0
            except Exception:       # as the interpreter would: exit 1
                code, err = 1, traceback.format_exc()
        p = subprocess.CompletedProcess([PY, self.script] + argv, code,
                                        out.getvalue(),
                                        errout.getvalue() + err)
        if check and code:
            raise AssertionError("refservice %s exited %d:\n%s" % (
                " ".join(argv), code, p.stderr))
        return p

    def orders(self):
        db = sqlite3.connect("file:%s?mode=ro" % (self.dir / "registry.db"),
                             uri=True, timeout=30)
        with contextlib.closing(db):
            rows = db.execute("SELECT code, old_sha256, state, cert_sha256 "
                              "FROM orders ORDER BY created").fetchall()
        return [{"update_code": c, "old_sha256": o, "state": s,
                 "cert_sha256": x} for c, o, s, x in rows]

    def fault_entries(self, kind):
        """The fault entries of kind not yet taken by a request (D/faults.json,
        tools/refservice/README.md)."""
        try:
            data = json.loads((self.dir / "faults.json").read_text())
        except (OSError, ValueError):
            return []
        return data.get("faults", {}).get(kind) or []


class World:
    """A soft Ekey holding one SM2 certificate issued by the running
    reference service (its command line run in this process:
    InProcessService), and a gmrenew configuration that points at both."""

    def __init__(self, root, days_left=30, token=None, start=True):
        self.root = pathlib.Path(root)
        self.service = InProcessService(root)
        if start:
            self.service.start()
        self.token = token or SoftToken(root)
        self.state = self.root / "state"
        self.pin_file = self.root / "pin"
        self.pin_file.write_text(PIN + "\n")
        self.pin_file.chmod(0o600)
        self.config = self.root / "config.ini"
        self.module = self.token.module
        self.write_config()
        if days_left is not None:
            self.token.init()
            self.add_cert(days_left=days_left)

    def write_config(self, **override):
        """The configuration; api = pkcs11 unless override says otherwise
        (api=None: auto): the soft ePass3000GM offers both APIs, and auto
        would take SKF for it."""
        values = {
            "api": "pkcs11",
            "module": self.module,
            "url": self.service.url if self.service.port else "https://127.0.0.1:9",
            "ca_bundle": self.service.dir / "tls-ca.pem",
            "chain_bundle": self.service.bundle,
            "state_dir": self.state,
        }
        values.update(override)
        values["api_line"] = ("api = %s\n" % values["api"]
                              if values["api"] else "")
        self.config.write_text(
            "[token]\nmodule = {module}\n{api_line}\n[service]\nurl = {url}\n"
            "ca_bundle = {ca_bundle}\nchain_bundle = {chain_bundle}\n"
            "connect_timeout_ms = 3000\ntotal_timeout_ms = 8000\n\n"
            "[renewal]\nstate_dir = {state_dir}\n".format(**values))

    def add_cert(self, slot=0, key_id="01", label="JSB0000", days_left=30,
                 subject=SUBJECT, gateway="JSB0000"):
        pub = self.root / ("pub-%s-%s.pem" % (slot, key_id))
        cert = self.root / ("cert-%s-%s.pem" % (slot, key_id))
        self.token.gen_key(slot, key_id, label, pub)
        self.service.enroll(pub, cert, days_left=days_left, subject=subject,
                            gateway=gateway)
        self.token.import_cert(slot, key_id, label, cert)
        return cert

    def env(self, **extra):
        env = self.token.env(GMRENEW_CONFIG=self.config)
        env.pop("GMRENEW_PIN", None)
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def gmrenew(self, *args, check=None, env=None, input=None, timeout=120):
        """Runs gmrenew; check=N asserts the exit code N."""
        return run([need_env("GMRENEW_BIN")] + list(args), check=False,
                   expect=check, input=input, env=env or self.env(),
                   timeout=timeout)

    def json(self, *args, check=0, **kw):
        p = self.gmrenew("--json", *args, check=check, **kw)
        return json.loads(p.stdout)

    def journal(self, code):
        """The journal of a renewal: journal/CODE.json while the renewal
        may go on, journal/done/CODE.json once it is closed (finished or
        abandoned)."""
        live = self.state / "journal" / (code + ".json")
        done = self.state / "journal" / "done" / (code + ".json")
        return done if done.exists() and not live.exists() else live

    def journals(self):
        """Every journal file, open ones then closed ones."""
        return journal_files(self.state)

    def certs(self):
        return self.json("list-certs", "--pin-file",
                         self.pin_file)["certificates"]

    def close(self):
        self.service.stop()


def journal_files(state):
    """The journal files of a state directory: journal/*.json, then
    journal/done/*.json."""
    d = pathlib.Path(state) / "journal"
    return sorted(d.glob("*.json")) + sorted((d / "done").glob("*.json"))


def make_sm2_key(path):
    openssl("genpkey", "-algorithm", "SM2", "-out", path)
    return path


def pubkey_of(key, out):
    openssl("pkey", "-in", key, "-pubout", "-out", out)
    return out


# ---- small helpers for the CLI tests (list-certs, verify, errors, help) ----

def gmrenew_run(*args, env, check=None, input=None, timeout=60):
    """Runs the gmrenew binary with exactly env; check=N asserts exit N."""
    return run([need_env("GMRENEW_BIN")] + list(args), check=False,
               expect=check, input=input, env=env, timeout=timeout)


def softhsm_import_pubkey(hsm, key_id, label, pub_pem):
    """Writes a public key object (from a PEM public key) to a SoftHSM
    token, next to a private key written with SoftHSM.import_key."""
    der = pathlib.Path(str(pub_pem) + ".der")
    openssl("pkey", "-pubin", "-in", pub_pem, "-outform", "DER", "-out", der)
    hsm.p11("--write-object", der, "--type", "pubkey", "--id", key_id,
            "--label", label, login=True)
