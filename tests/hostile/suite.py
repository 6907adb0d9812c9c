"""The machinery of the hostile-service suite.

One reference service (tools/refservice, its command line run in this
process: gmtest.InProcessService) and one hostile front (front.py)
serve every case. Each case starts from a clean soft Ekey (a copy of a
template holding the key pair, with a fresh certificate enrolled for it),
runs gmrenew against the front, and checks, with pkcs11-tool and openssl:
the exit code and message, that nothing was installed, that the old pair
is intact and usable, that no object is there that the journal does not
explain, and that gmrenew printed no control characters. Then a renewal
against the honest service must succeed and leave exactly one new pair.
"""
import json
import pathlib
import re
import shutil
import time

import gmtest
from front import Front
from gmtest import PIN, openssl

SECOND_SUBJECT = "CN=JSB0001@IST@30,OU=深证通CCNET证书测试,OU=CCNET,O=SSCCCA,C=CN"
# What gmrenew must never write to a terminal: C0 controls but tab and
# newline, DEL, C1 controls, bidi overrides and isolates, and bytes that are
# not UTF-8 (kept as surrogates by gmtest.run).
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f\u202a-\u202e"
                    "\u2066-\u2069\udc80-\udcff]")
PENDING_PREFIX = "gmrenew-pending-"


class Suite:
    def __init__(self, root):
        self.root = pathlib.Path(root)
        self.service = gmtest.InProcessService(self.root).start()
        ca = self.service.dir
        self.front = Front(self.service.port, ca / "tls-ca.pem",
                           ca / "tls-server.pem", ca / "tls-server.key")
        self.template = self.root / "template"
        token = gmtest.SoftToken(self.template)
        token.init()
        self.pub = self.root / "pub-01.pem"
        token.gen_key(0, "01", "JSB0000", self.pub)
        self.tls = TlsFiles(self.root / "tls", ca)
        self.count = 0

    def case(self, name, identities=1):
        self.count += 1
        return Case(self, self.root / ("%02d-%s" % (self.count, name)),
                    identities)

    def close(self):
        self.front.close()
        self.service.stop()


class TlsFiles:
    """Server certificates for the TLS cases, made with openssl: for another
    host name (trusted CA), from an untrusted CA, and an RSA one (trusted
    CA) for static-RSA suites."""

    def __init__(self, d, ca):
        d.mkdir()
        self.d, self.ca = d, ca
        self.other_host = self.issue("other-host", "ec", "DNS:renew.example.net")
        self.rsa = self.issue("rsa", "rsa", "IP:127.0.0.1,DNS:localhost")
        root_key, root = d / "untrusted-ca.key", d / "untrusted-ca.pem"
        openssl("req", "-x509", "-new", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", root_key,
                "-out", root, "-days", "30", "-subj", "/CN=Untrusted TLS CA")
        self.untrusted = self.issue("untrusted", "ec",
                                    "IP:127.0.0.1,DNS:localhost",
                                    ca_cert=root, ca_key=root_key)

    def issue(self, stem, kind, san, ca_cert=None, ca_key=None):
        key, csr = self.d / (stem + ".key"), self.d / (stem + ".csr")
        cert, ext = self.d / (stem + ".pem"), self.d / (stem + ".ext")
        newkey = ["rsa:2048"] if kind == "rsa" else [
            "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        openssl("req", "-new", "-newkey", *newkey, "-nodes", "-keyout", key,
                "-out", csr, "-subj", "/CN=%s" % stem)
        ext.write_text("subjectAltName=%s\nextendedKeyUsage=serverAuth\n" % san)
        openssl("x509", "-req", "-in", csr, "-CA", ca_cert or self.ca / "tls-ca.pem",
                "-CAkey", ca_key or self.ca / "tls-ca.key", "-CAcreateserial",
                "-out", cert, "-days", "30", "-extfile", ext)
        return cert, key


class Case:
    """One clean soft Ekey: identity 01 (JSB0000, due) and, with
    identities=2, identity 02 (JSB0001, not due)."""

    def __init__(self, suite, root, identities):
        self.suite, self.root = suite, root
        self.root.mkdir()
        shutil.copytree(suite.template / "softtoken", self.root / "softtoken")
        self.token = gmtest.SoftToken(self.root)
        self.check = gmtest.Pkcs11Check(self.token, self.root / "check")
        svc = suite.service
        old = svc.enroll(suite.pub, self.root / "old-01.pem", days_left=30)
        self.token.import_cert(0, "01", "JSB0000", old)
        self.old_sha = gmtest.sha256_of_pem(old)
        self.old_pem = old
        self.identities = {"01": ("JSB0000", self.old_sha)}
        if identities == 2:
            self.pub2 = self.root / "pub-02.pem"
            self.token.gen_key(0, "02", "JSB0001", self.pub2)
            cert2 = svc.enroll(self.pub2, self.root / "old-02.pem",
                               days_left=1000, subject=SECOND_SUBJECT,
                               gateway="JSB0001")
            self.token.import_cert(0, "02", "JSB0001", cert2)
            self.identities["02"] = ("JSB0001", gmtest.sha256_of_pem(cert2))
        self.pin_file = self.root / "pin"
        self.pin_file.write_text(PIN + "\n")
        self.pin_file.chmod(0o600)
        self.config = self.root / "config.ini"
        self.state = self.root / "state"
        self.point_at(suite.front.url)

    def point_at(self, url):
        ca = self.suite.service.dir
        self.config.write_text(
            "[token]\nmodule = %s\napi = pkcs11\n\n[service]\nurl = %s\nca_bundle = %s\n"
            "chain_bundle = %s\nconnect_timeout_ms = 2000\n"
            "total_timeout_ms = 4000\nmax_retry_wait_ms = 2000\n\n[renewal]\nstate_dir = %s\n" % (
                self.token.module, url, ca / "tls-ca.pem",
                self.suite.service.bundle, self.state))

    def gmrenew(self, *args, expect=None):
        return gmtest.run([gmtest.need_env("GMRENEW_BIN")] + list(args),
                          check=False, expect=expect, timeout=300,
                          env=self.token.env(GMRENEW_CONFIG=self.config))

    def renew(self, expect=None):
        return self.gmrenew("renew", "--yes", "--pin-file", self.pin_file,
                            expect=expect)

    def with_code(self, code, expect=None):
        return self.gmrenew("renew-with-code", code, "--pin-file",
                            self.pin_file, expect=expect)

    def orders(self):
        return [o for o in self.suite.service.orders()
                if o["old_sha256"] == self.old_sha]

    def pending_labels(self):
        """The pending labels the journals name (the objects a broken-off
        renewal may leave, for renew-with-code to finish)."""
        labels = set()
        jdir = self.state / "journal"
        for f in sorted(jdir.glob("*.json")) + \
                sorted((jdir / "done").glob("*.json")):
            try:
                doc = json.loads(f.read_text())
            except ValueError:
                continue
            label = doc.get("pending_label") if isinstance(doc, dict) else None
            labels.add(label or PENDING_PREFIX + f.stem.replace("-", ""))
        return labels


def assert_clean_text(p, what):
    for name, text in (("stdout", p.stdout), ("stderr", p.stderr)):
        m = UNSAFE.search(text or "")
        assert not m, "%s: gmrenew wrote the control character U+%04X to %s:" \
            "\n%r" % (what, ord(m.group(0)), name, text)


def assert_old_pairs_intact(case, what, installed_ok=False):
    """Every identity's old certificate and key are there, unchanged and
    usable; anything else is a pending pair a journal names (and, when
    installed_ok, the honest new certificate on it)."""
    objs = case.check.objects()
    pending = case.pending_labels()
    rest = list(objs)
    for key_id, (label, sha) in case.identities.items():
        for kind in ("Certificate", "Private Key", "Public Key"):
            mine = [o for o in rest if o == (kind, key_id, label)]
            assert len(mine) == 1, "%s: identity %s: expected one %s " \
                "labelled %r, found %s" % (what, key_id, kind, label, objs)
            rest.remove(mine[0])
        got = case.check.cert_sha256(key_id)
        assert got == sha, "%s: the certificate of %s was replaced" % (
            what, label)
        assert case.check.usable(key_id), \
            "%s: the old pair %s is no longer usable" % (what, label)
    honest = {o["cert_sha256"] for o in case.orders() if o["cert_sha256"]}
    for kind, key_id, label in rest:
        assert label in pending, "%s: a stray %s (id %s, label %r) that no " \
            "journal names; journals name %s; objects: %s" % (
                what, kind, key_id, label, pending, objs)
        if kind == "Certificate":
            assert installed_ok, "%s: a certificate was installed: %s" % (
                what, objs)
            sha = case.check.cert_sha256(key_id)
            assert sha in honest, "%s: an installed certificate is not the " \
                "one the honest service issued" % what
    kinds = [k for k, _, _ in rest]
    assert kinds.count("Private Key") <= 1 and kinds.count("Public Key") <= 1, \
        "%s: more than one pending pair: %s" % (what, objs)


def honest_renewal(case, what):
    """Against the honest service: renew-with-code with the order the
    service knows for the old certificate, else renew; then exactly one new
    usable pair for identity 01, the others as they were."""
    case.point_at(case.suite.service.url)
    known = case.orders()
    if known:
        code = known[-1]["update_code"]
        p = case.with_code(code)
    else:
        p = case.renew()
    assert p.returncode == 0, "%s: the honest renewal afterwards exited " \
        "%d\n%s\n%s" % (what, p.returncode, p.stdout, p.stderr)
    objs = case.check.objects()
    want = sorted((k, label) for label, _ in case.identities.values()
                  for k in ("Certificate", "Private Key", "Public Key"))
    assert sorted((k, l) for k, _, l in objs) == want, \
        "%s: after the honest renewal expected exactly %s, found %s" % (
            what, want, objs)
    for label, _ in case.identities.values():
        assert len({i for _, i, l in objs if l == label}) == 1, \
            "%s: the objects of %s have different IDs: %s" % (what, label, objs)
    for key_id, (label, sha) in case.identities.items():
        (cid,) = [i for k, i, l in objs if k == "Certificate" and l == label]
        now = case.check.cert_sha256(cid)
        assert (now != sha) == (key_id == "01"), \
            "%s: identity %s renewed=%s" % (what, label, now != sha)
        assert case.check.usable(cid), "%s: %s is not usable" % (what, label)
    confirmed = [o for o in case.orders() if o["state"] == "confirmed"]
    assert len(confirmed) == 1, "%s: orders %s" % (what, case.orders())


def attack(suite, name, arrange, exit_code, message, identities=1,
           installed_ok=False, before=None, command=None, max_s=None):
    """One hostile case: arrange(case) sets the front's rules and the
    service's faults; before(case) may run a first, honest step; command
    (case) runs the attacked command (default: renew)."""
    case = suite.case(name, identities)
    try:
        if before:
            before(case)
        arrange(case)
        started = time.time()
        p = command(case) if command else case.renew()
        took = time.time() - started
        (case.root / "attack.out").write_text(
            "exit %d\n%s\n%s" % (p.returncode, p.stdout, p.stderr),
            errors="surrogateescape")
    finally:
        suite.front.reset()
        suite.service.faults_clear()
    out = p.stdout + p.stderr
    assert p.returncode == exit_code, "%s: exit %d, expected %d\n%s" % (
        name, p.returncode, exit_code, out)
    assert re.search(message, out, re.I | re.S), \
        "%s: the message does not say /%s/:\n%s" % (name, message, out)
    assert_clean_text(p, name)
    if max_s is not None:
        assert took <= max_s, "%s: took %.1f s, more than %d s" % (
            name, took, max_s)
    assert_old_pairs_intact(case, name, installed_ok)
    honest_renewal(case, name)
    return p
