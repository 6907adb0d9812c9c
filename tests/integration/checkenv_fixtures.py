"""Fixtures for tests/integration/test_check_env.py: the programs under test
(from the environment ctest sets), a reference renewal service shared by the
file, soft ePass3000GM tokens in their own state directories, configuration
files, and running `gmrenew check-env` (optionally under umockdev).

A program or file the tests need that is missing makes the test FAIL, never
skip: a diagnosis command that is not tested is worse than a red test.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

import gmtest

PIN = "12345678"
SUBJECT = "CN=JSB0000@IST@30,OU=深证通CCNET证书测试,OU=CCNET,O=SSCCCA,C=CN"
SOURCE_DIR = os.environ.get(
    "GMRENEW_SOURCE_DIR",
    os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
USB_DIR = os.path.join(SOURCE_DIR, "tests", "usb")
CHECK_IDS = ["config", "driver", "usb", "single_token", "pin",
             "matching_cert", "service", "clock"]


def need_env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run this file through ctest "
                    f"(tests/integration/CMakeLists.txt sets it)")
    if not os.path.exists(value):
        pytest.fail(f"{name}={value} does not exist: build the project first")
    return value


def need_tool(name):
    path = shutil.which(name)
    if not path:
        pytest.fail(f"'{name}' is not installed; these tests need it "
                    f"(Debian package: {'umockdev' if 'umockdev' in name else name})")
    return path


def run(cmd, env=None, check=True, timeout=60, **kw):
    """Runs a helper program (gmtest's runner); a failure of a helper fails
    the test."""
    return gmtest.run(cmd, check=check, env=env, timeout=timeout, **kw)


def closed_port():
    """A local TCP port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RefService:
    """tools/refservice/refservice.py serving from its own directory."""

    def __init__(self, workdir):
        self.script = need_env("REFSERVICE")
        self.dir = os.path.join(workdir, "refservice")
        self.proc = None
        self.port = None
        self.tool("init", "--dir", self.dir)

    def tool(self, *args):
        return run(["/usr/bin/python3", self.script, *args])

    def start(self):
        portfile = os.path.join(self.dir, "port")
        if os.path.exists(portfile):
            os.unlink(portfile)
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", self.script, "serve", "--dir", self.dir,
             "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail("the reference service exited: "
                            + self.proc.stdout.read())
            try:
                with open(portfile) as f:
                    text = f.read().strip()
                if text:
                    self.port = int(text)
                    return
            except FileNotFoundError:
                pass
            time.sleep(0.05)
        pytest.fail("the reference service did not start in 20 s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    @property
    def url(self):
        return f"https://127.0.0.1:{self.port}"

    @property
    def tls_ca(self):
        return os.path.join(self.dir, "tls-ca.pem")

    @property
    def chain_ca(self):
        return os.path.join(self.dir, "chain-ca.pem")

    def enroll(self, pubkey, out, days_left, gateway="JSB0000"):
        self.tool("enroll", "--dir", self.dir, "--pubkey", pubkey,
                  "--subject", SUBJECT.replace("JSB0000", gateway),
                  "--gateway", gateway, "--organization", "深证通CCNET证书测试",
                  "--system", "CCNET", "--days-left", str(days_left),
                  "--out", out)

    def fault(self, *args):
        self.tool("fault", "--dir", self.dir, *args)

    def clear_faults(self):
        self.tool("faults", "clear", "--dir", self.dir)
        self.tool("faults", "clock", "0", "--dir", self.dir)

    def show(self):
        return json.loads(self.tool("show", "--dir", self.dir).stdout)

    def requests(self):
        try:
            with open(os.path.join(self.dir, "requests.log")) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []


class SoftToken:
    """The soft ePass3000GM (tests/softtoken): one state directory, any
    number of slots, provisioned with gmsofttoken-tool."""

    def __init__(self, workdir, name="softtoken"):
        self.module = need_env("GMSOFT_MODULE")
        self.tool_path = need_env("GMSOFT_TOOL")
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.workdir = workdir

    def env(self):
        env = dict(os.environ)
        env["GMSOFT_DIR"] = self.dir
        env["GMSOFT_PIN"] = PIN
        for k in ("GMSOFT_FAIL", "GMSOFT_REMOVE_AT", "GMSOFT_REMOVE_SLOT",
                  "GMSOFT_KILL_AT", "GMSOFT_TRACE", "GMSOFT_LATENCY"):
            env.pop(k, None)
        return env

    def tool(self, *args):
        return run([self.tool_path, *args], env=self.env())

    def init(self, slot, label, serial):
        self.tool("init", "--slot", str(slot), "--label", label,
                  "--serial", serial)

    def empty(self, slot):
        self.tool("empty", "--slot", str(slot))

    def gen_key(self, slot, key_id):
        pub = os.path.join(self.workdir, f"pub-{slot}-{key_id}.pem")
        self.tool("gen-key", "--slot", str(slot), "--id", key_id,
                  "--label", f"key {key_id}", "--out-pub", pub)
        return pub

    def import_cert(self, slot, key_id, cert):
        self.tool("import-cert", "--slot", str(slot), "--id", key_id,
                  "--label", f"cert {key_id}", "--cert", cert)

    def set_tries(self, slot, tries):
        self.tool("set-tries", "--slot", str(slot), "--tries", str(tries))

    def state(self, slot=0):
        """What the token holds and its PIN state, to see it unchanged."""
        return (self.tool("list", "--slot", str(slot)).stdout,
                self.tool("pin-status", "--slot", str(slot)).stdout)

    def clone(self, name):
        """Another soft token with this one's state: an Ekey as it was."""
        twin = SoftToken(self.workdir, name)
        shutil.rmtree(twin.dir)
        shutil.copytree(self.dir, twin.dir)
        return twin

    def enrolled(self, service, slot=0, days_left=30, key_id="01"):
        """A key pair on the token with a certificate the service issued."""
        pub = self.gen_key(slot, key_id)
        cert = os.path.join(self.workdir, f"cert-{slot}-{key_id}.pem")
        service.enroll(pub, cert, days_left)
        self.import_cert(slot, key_id, cert)
        return cert


def self_signed_sm2(workdir, name="self-made"):
    """An SM2 certificate no CA knows."""
    key = os.path.join(workdir, f"{name}.key")
    cert = os.path.join(workdir, f"{name}.pem")
    run(["openssl", "genpkey", "-algorithm", "SM2", "-out", key])
    run(["openssl", "req", "-x509", "-new", "-key", key, "-sm3",
         "-sigopt", "distid:1234567812345678", "-days", "30",
         "-subj", f"/C=CN/O=Nobody/CN={name}", "-out", cert])
    return cert


def other_tls_ca(workdir):
    """A P-256 CA that did not issue the service's TLS certificate."""
    key = os.path.join(workdir, "other-tls.key")
    cert = os.path.join(workdir, "other-tls-ca.pem")
    run(["openssl", "req", "-x509", "-new", "-newkey", "ec",
         "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", key, "-days", "30", "-subj", "/CN=Some Other TLS CA",
         "-out", cert])
    return cert


def write_config(path, module=None, url=None, ca_bundle=None,
                 chain_bundle=None, state_dir=None, extra="", api="pkcs11"):
    """api: pkcs11 unless a test asks for auto (None) or skf: the soft
    ePass3000GM offers both, and auto would take SKF for it."""
    lines = []
    if module:
        lines += ["[token]", f"module = {module}"]
        if api:
            lines.append(f"api = {api}")
    if url or ca_bundle or chain_bundle:
        lines.append("[service]")
        if url:
            lines.append(f"url = {url}")
        if ca_bundle:
            lines.append(f"ca_bundle = {ca_bundle}")
        if chain_bundle:
            lines.append(f"chain_bundle = {chain_bundle}")
        lines.append("connect_timeout_ms = 3000")
        lines.append("total_timeout_ms = 10000")
    lines += ["[renewal]",
              f"state_dir = {state_dir or os.path.dirname(path) + '/state'}"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n" + extra)
    return path


class Result:
    def __init__(self, proc, json_out):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.doc = None
        if json_out:
            try:
                self.doc = json.loads(proc.stdout)
            except ValueError:
                pytest.fail(f"check-env --json printed no JSON (exit "
                            f"{self.rc}):\n{proc.stdout}\n{proc.stderr}")
            assert [c["id"] for c in self.doc["checks"]] == CHECK_IDS, \
                self.doc

    def check(self, cid):
        return next(c for c in self.doc["checks"] if c["id"] == cid)

    def status(self, cid):
        return self.check(cid)["status"]

    def statuses(self):
        return {c["id"]: c["status"] for c in self.doc["checks"]}

    def __repr__(self):
        return (f"exit {self.rc}\n--- stdout\n{self.stdout}\n--- stderr\n"
                f"{self.stderr}")


def sanitizer_env(env):
    # umockdev preloads its library before the sanitizer runtime
    asan = env.get("ASAN_OPTIONS", "")
    env["ASAN_OPTIONS"] = (asan + ":" if asan else "") + \
        "verify_asan_link_order=0"
    return env


def check_env(config=None, token=None, args=(), json_out=True, wrapper=(),
              env_extra=None, home=None, timeout=60):
    """Runs gmrenew check-env; wrapper is put in front (umockdev-run ...)."""
    gmrenew = need_env("GMRENEW_BIN")
    env = token.env() if token else dict(os.environ)
    env.pop("GMRENEW_CONFIG", None)
    env.pop("GMRENEW_PKCS11_MODULE", None)
    env.pop("GMRENEW_PIN", None)
    env.pop("NO_COLOR", None)
    if home:
        env["HOME"] = home
        env["XDG_CONFIG_HOME"] = os.path.join(home, ".config")
    env.update(env_extra or {})
    sanitizer_env(env)
    cmd = [*wrapper, gmrenew]
    if config:
        cmd += ["--config", config]
    cmd += ["check-env"] + (["--json"] if json_out else []) + list(args)
    p = gmtest.run(cmd, check=False, env=env, timeout=timeout)
    return Result(p, json_out)


def umockdev(description=None):
    """The wrapper that presents a hand-written USB device to gmrenew."""
    cmd = [need_tool("umockdev-run")]
    if description:
        path = os.path.join(USB_DIR, description)
        if not os.path.exists(path):
            pytest.fail(f"missing device description {path}")
        cmd += ["--device", path]
    return cmd + ["--"]


def umockdev_unopenable(description):
    """umockdev, with the device node made unreadable for the program: the
    description format has no permission field, so the node umockdev made is
    chmod'ed 000 inside the test bed, and the program runs without the
    capabilities that let root ignore file modes."""
    need_tool("setpriv")
    inner = ("for n in \"$UMOCKDEV_DIR\"/dev/bus/usb/*/*; do "
             "chmod 000 \"$n\" || exit 90; done; "
             "exec setpriv --bounding-set -dac_override,-dac_read_search "
             "--inh-caps -dac_override,-dac_read_search \"$@\"")
    return umockdev(description)[:-1] + ["--", "sh", "-c", inner, "sh"]
