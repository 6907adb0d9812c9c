"""Hostile local things: a PKCS#11 module that lies about lengths, token
and certificate strings holding terminal controls, planted files in the
state directory, damaged journals, the PIN in the environment, a missing
private key, and verify's time on many certificates."""
import datetime
import json
import os
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

    def __init__(self, root, label="JSB0000 Ekey", serial="3000GM0009"):
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
            "[token]\nmodule = %s\n\n[service]\nchain_bundle = %s\n\n"
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
    secret = "Env-Pin-7777"
    env = bench.env(GMRENEW_PIN=secret, GMSOFT_LATENCY="call:150")
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

