"""Fixtures of the TLCP tests: SM2 signing and encryption certificates made
with the system `openssl` command, the TLCP front (tlcp_front.c, on
Tongsuo's libssl) in front of the reference service, and a gmrenew
configuration with [service] tls = tlcp. The integration helpers
(tests/integration/gmtest.py) make the soft Ekey and run the service."""
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))

import gmtest  # noqa: E402

# Tongsuo verifies SM2 certificate signatures with the default
# distinguishing identifier of GM/T 0009; OpenSSL 3.0 must be told it.
SM2_ID = "distid:1234567812345678"


class Pki:
    """An SM2 CA and, per server, a signing and an encryption certificate."""

    def __init__(self, root, name):
        self.dir = pathlib.Path(root) / name
        self.dir.mkdir(parents=True)
        self.key = self.dir / "ca.key"
        self.ca = self.dir / "ca.pem"
        gmtest.make_sm2_key(self.key)
        gmtest.openssl("req", "-x509", "-new", "-key", self.key, "-sm3",
                       "-sigopt", SM2_ID, "-subj",
                       "/CN=%s TLCP Test CA/O=gmrenew tests" % name,
                       "-days", "30", "-addext",
                       "basicConstraints=critical,CA:TRUE", "-addext",
                       "keyUsage=critical,keyCertSign,cRLSign",
                       "-out", self.ca)
        self.serial = 0x1000

    def issue(self, name, usage, hosts):
        key = self.dir / (name + ".key")
        csr = self.dir / (name + ".csr")
        ext = self.dir / (name + ".ext")
        cert = self.dir / (name + ".pem")
        gmtest.make_sm2_key(key)
        gmtest.openssl("req", "-new", "-key", key, "-sm3", "-sigopt", SM2_ID,
                       "-subj", "/CN=%s %s" % (hosts[0].split(":")[1], name),
                       "-out", csr)
        ext.write_text("basicConstraints=critical,CA:FALSE\n"
                       "keyUsage=critical,%s\nsubjectAltName=%s\n" %
                       (usage, ",".join(hosts)))
        self.serial += 1
        gmtest.openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey",
                       self.key, "-sm3", "-sigopt", SM2_ID, "-vfyopt", SM2_ID,
                       "-days", "30", "-set_serial", str(self.serial),
                       "-extfile", ext, "-out", cert)
        return cert, key

    def sign(self, hosts=("DNS:localhost", "IP:127.0.0.1")):
        return self.issue("sign", "digitalSignature", list(hosts))

    def enc(self, hosts=("DNS:localhost", "IP:127.0.0.1")):
        return self.issue("enc", "keyEncipherment,dataEncipherment,"
                          "keyAgreement", list(hosts))


class Front:
    """tlcp_front listening on 127.0.0.1, relaying to the service."""

    def __init__(self, root, service, sign, enc, suites=None):
        self.root = pathlib.Path(root)
        self.port_file = self.root / "front.port"
        self.offered_file = self.root / "offered"
        self.err = self.root / "front.err"
        if self.port_file.exists():
            self.port_file.unlink()
        self.proc = subprocess.Popen(
            [gmtest.need_env("GMRENEW_TLCP_FRONT"), "--sign-cert", sign[0],
             "--sign-key", sign[1], "--enc-cert", enc[0], "--enc-key", enc[1],
             "--backend-port", str(service.port), "--backend-ca",
             service.dir / "tls-ca.pem", "--port-file", self.port_file,
             "--offered-file", self.offered_file] +
            (["--suites", suites] if suites else []),
            stdout=subprocess.DEVNULL, stderr=open(self.err, "w"))
        for _ in range(200):
            if self.port_file.exists():
                self.port = int(self.port_file.read_text())
                return
            if self.proc.poll() is not None:
                raise RuntimeError("tlcp_front did not start: " +
                                   self.err.read_text())
            time.sleep(0.05)
        raise RuntimeError("tlcp_front did not start in time")

    def offered(self):
        """The suites offered by each client hello, one list per handshake."""
        if not self.offered_file.exists():
            return []
        return [l.split(":") for l in
                self.offered_file.read_text().splitlines()]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)


def use_tlcp(world, url, ca_bundle, tls="tlcp"):
    """Points the world's configuration at url over TLCP."""
    world.write_config(url=url, ca_bundle=ca_bundle)
    text = world.config.read_text()
    world.config.write_text(text.replace("[service]\n",
                                         "[service]\ntls = %s\n" % tls, 1))


@pytest.fixture
def world(tmp_path):
    w = gmtest.World(tmp_path)
    yield w
    w.close()


@pytest.fixture
def pki(tmp_path):
    return Pki(tmp_path, "tlcp")


@pytest.fixture
def fronts(tmp_path):
    """Starts fronts on demand; stops them all at the end."""
    started = []

    def start(service, sign, enc, suites=None):
        d = tmp_path / ("front-%d" % len(started))
        d.mkdir()
        f = Front(d, service, sign, enc, suites)
        started.append(f)
        return f
    yield start
    for f in started:
        f.stop()


@pytest.fixture
def tlcp_world(world, pki, fronts):
    """A soft Ekey and a configuration reaching the service over TLCP."""
    front = fronts(world.service, pki.sign(), pki.enc())
    use_tlcp(world, "https://127.0.0.1:%d" % front.port, pki.ca)
    world.front = front
    return world
