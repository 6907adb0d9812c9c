"""`gmrenew verify`: chain up to the configured bundle with SM2 (default ID)
on every link, validity now, the key pair on the token (no PIN), and the
post-renewal check with --previous or the journal. Exit 8 naming the check
that failed."""
import datetime
import json
import os
import re

import pytest

import gmtest
from certmaker import Maker, bundle, utcnow

DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)
SUBJECT = "CN=JSB0000@IST@30,OU=深证通CCNET证书测试,OU=CCNET,O=SSCCCA,C=CN"


class Bench:
    """A soft token, a Maker and a configuration naming a chain bundle."""

    def __init__(self, root, token=True):
        self.root = root
        self.m = Maker(root / "certs")
        self.token = gmtest.SoftToken(root)
        if token:
            self.token.init(serial="3000A10000000007")
        else:
            self.token.tool_run("empty", "--slot", 0)
        self.config = root / "config.ini"
        self.bundle_file = root / "bundle.pem"

    def configure(self, *anchors, module=None):
        bundle(self.bundle_file, *anchors)
        self.config.write_text(
            "[token]\nmodule = %s\napi = pkcs11\n\n[service]\nchain_bundle = %s\n\n"
            "[renewal]\nstate_dir = %s\n" % (module or self.token.module,
                                            self.bundle_file,
                                            self.root / "state"))

    def put(self, cert, key_id="01", with_key=True):
        if with_key:
            self.token.import_key(0, key_id, "key " + key_id, cert.key)
        self.token.import_cert(0, key_id, "cert " + key_id, cert.pem)

    def env(self):
        """With the PIN (GMRENEW_PIN), so that the key check sees the
        private key objects; test_local_hardening.py checks without."""
        env = self.token.env(GMRENEW_CONFIG=self.config, TZ="UTC",
                             GMRENEW_PIN=gmtest.PIN)
        env.pop("GMRENEW_PKCS11_MODULE", None)
        return env

    def run(self, *args, check=0):
        return gmtest.gmrenew_run(*args, env=self.env(), check=check)

    def json(self, *args, check=0):
        return json.loads(self.run("--json", "verify", *args,
                                   check=check).stdout)


def checks(item):
    return {c["id"]: c["status"] for c in item["checks"]}


@pytest.fixture
def bench(tmp_path):
    return Bench(tmp_path)


def test_two_levels_pass(bench):
    root, _, leaf = bench.m.chain("v2", 2, SUBJECT, days=300)
    bench.put(leaf)
    bench.configure(root)
    doc = bench.json()
    assert doc["ok"] is True and "error" not in doc
    (item,) = doc["certificates"]
    assert item["index"] == 1 and item["subject"] == leaf.subject_line()
    assert item["sha256"] == leaf.sha256()
    assert checks(item) == {"chain": "pass", "validity": "pass",
                            "key": "pass", "renewal": "skip"}
    p = bench.run("verify")
    assert "pass chain" in p.stdout and "pass key" in p.stdout
    # no journal names it: the post-renewal check says it did not run
    assert re.search(r"skip renewal +not run: no journal", p.stdout), p.stdout
    assert "All checks passed." in p.stdout


def test_three_levels_intermediate_on_token(bench):
    root, (inter,), leaf = bench.m.chain("v3", 3, SUBJECT, days=300)
    bench.put(leaf)
    bench.put(inter, key_id="09", with_key=False)
    bench.configure(root)       # the intermediate is found on the token
    doc = bench.json()
    assert doc["ok"] is True
    leaf_item, inter_item = doc["certificates"]
    assert checks(leaf_item) == {"chain": "pass", "validity": "pass",
                                 "key": "pass", "renewal": "skip"}
    # a CA certificate on the token is checked too, its key is not expected
    assert checks(inter_item) == {"chain": "pass", "validity": "pass",
                                  "key": "skip", "renewal": "skip"}


def test_three_levels_intermediate_in_bundle(bench):
    root, (inter,), leaf = bench.m.chain("v3b", 3, SUBJECT, days=300)
    bench.put(leaf)
    bench.configure(root, inter)
    doc = bench.json()
    assert doc["ok"] is True
    assert checks(doc["certificates"][0])["chain"] == "pass"


def test_every_link_uses_the_default_id(bench):
    """An intermediate signed by the root with another SM2 ID does not
    verify: the ID is checked above depth 0 too."""
    m = bench.m
    root = m.root("oddid-root", "CN=Odd Root,O=SSCCCA,C=CN")
    inter = m.issue(root, "oddid-int", "CN=Odd Issuing,O=SSCCCA,C=CN",
                    ca=True, days=1000, distid="ALICE123@YAHOO.COM")
    leaf = m.issue(inter, "oddid-leaf", SUBJECT, days=300)
    bench.put(leaf)
    bench.configure(root, inter)
    doc = bench.json(check=8)
    assert doc["ok"] is False
    assert checks(doc["certificates"][0])["chain"] == "fail"
    detail = doc["certificates"][0]["checks"][0]["detail"]
    assert "depth 1" in detail, detail
    assert doc["error"]["exit_code"] == 8
    assert "chain" in doc["error"]["message"]
    # every JSON error object carries the typed reason
    assert doc["error"]["reason"] == "verification_failed"


def test_untrusted_chain_fails(bench):
    _, _, leaf = bench.m.chain("mine", 2, SUBJECT, days=300)
    other_root, _, _ = bench.m.chain("other", 2, "CN=Other,O=X,C=CN")
    bench.put(leaf)
    bench.configure(other_root)
    p = bench.run("verify", check=8)
    assert "fail chain" in p.stdout
    assert "Verification FAILED: #1 chain" in p.stdout
    assert "chain" in p.stderr and "error" in p.stderr
    doc = bench.json(check=8)
    assert checks(doc["certificates"][0]) == {"chain": "fail",
                                              "validity": "pass",
                                              "key": "pass", "renewal": "skip"}


def test_wrong_key_fails(bench):
    root, _, leaf = bench.m.chain("wk", 2, SUBJECT, days=300)
    other = bench.m.key("unrelated")
    # the certificate's id holds another key pair: no key for this one
    bench.token.import_key(0, "01", "some key", other)
    bench.put(leaf, with_key=False)
    bench.configure(root)
    doc = bench.json(check=8)
    assert checks(doc["certificates"][0]) == {"chain": "pass",
                                              "validity": "pass",
                                              "key": "fail", "renewal": "skip"}
    p = bench.run("verify", check=8)
    assert "fail key" in p.stdout and "#1 key" in p.stdout


def test_expired_fails_validity(bench):
    now = utcnow()
    root, _, leaf = bench.m.chain("old", 2, SUBJECT,
                                  not_before=now - 400 * DAY,
                                  not_after=now - 3 * DAY)
    bench.put(leaf)
    bench.configure(root)
    doc = bench.json(check=8)
    c = checks(doc["certificates"][0])
    assert c["validity"] == "fail" and c["key"] == "pass"
    detail = [x for x in doc["certificates"][0]["checks"]
              if x["id"] == "validity"][0]["detail"]
    assert "expired" in detail


def test_not_yet_valid_fails_validity(bench):
    now = utcnow()
    root, _, leaf = bench.m.chain("early", 2, SUBJECT,
                                  not_before=now + 2 * DAY,
                                  not_after=now + 300 * DAY)
    bench.put(leaf)
    bench.configure(root)
    doc = bench.json(check=8)
    assert checks(doc["certificates"][0])["validity"] == "fail"


def renewal_pair(bench, kind):
    """An old certificate and its replacement; kind says what is wrong."""
    m = bench.m
    now = utcnow()
    root = m.root("ren-root", "CN=Renew Root,O=SSCCCA,C=CN")
    old_na = now + 30 * DAY
    old = m.issue(root, "old", SUBJECT, not_before=old_na - 1826 * DAY,
                  not_after=old_na)
    subject = SUBJECT if kind != "subject" else SUBJECT.replace("JSB0000",
                                                                "JSB9999")
    extension = 1826 if kind != "short" else 365
    key = old.key if kind == "same_key" else None
    new = m.issue(root, "new-" + kind, subject, key=key,
                  not_before=now - HOUR,
                  not_after=old_na + extension * DAY)
    bench.put(new)
    bench.configure(root)
    return old, new


def test_previous_proper_renewal_passes(bench):
    old, new = renewal_pair(bench, "good")
    doc = bench.json("--previous", old.pem)
    assert doc["ok"] is True
    assert checks(doc["certificates"][0]) == {
        "chain": "pass", "validity": "pass", "key": "pass",
        "renewal": "pass"}
    # the same through --cert, with the token for the key check
    doc = bench.json("--cert", new.pem, "--previous", old.pem)
    assert doc["ok"] is True and doc["certificates"][0]["index"] is None
    assert checks(doc["certificates"][0])["renewal"] == "pass"


@pytest.mark.parametrize("kind,words", [
    ("same_key", "old public key"),
    ("subject", "subject"),
    ("short", "days"),
])
def test_previous_bad_renewal_fails(bench, kind, words):
    old, _ = renewal_pair(bench, kind)
    doc = bench.json("--previous", old.pem, check=8)
    item = doc["certificates"][0]
    assert checks(item)["renewal"] == "fail"
    detail = [c for c in item["checks"] if c["id"] == "renewal"][0]["detail"]
    assert words in detail
    p = bench.run("verify", "--previous", old.pem, check=8)
    assert "fail renewal" in p.stdout and "#1 renewal" in p.stdout


def test_cert_file_with_token(bench):
    root, (inter,), leaf = bench.m.chain("file", 3, SUBJECT, days=300)
    stranger = bench.m.issue(inter, "stranger", SUBJECT, days=300)
    bench.put(leaf)
    bench.configure(root)
    # leaf followed by its intermediate in one PEM file
    doc = bench.json("--cert", leaf.chain_pem())
    assert doc["ok"] is True
    assert checks(doc["certificates"][0]) == {"chain": "pass",
                                              "validity": "pass",
                                              "key": "pass", "renewal": "skip"}
    # a certificate whose key the token does not hold
    doc = bench.json("--cert", stranger.chain_pem(), check=8)
    assert checks(doc["certificates"][0])["key"] == "fail"
    # without the intermediate the chain cannot be built
    doc = bench.json("--cert", leaf.pem, check=8)
    assert checks(doc["certificates"][0])["chain"] == "fail"


def test_cert_file_without_token(tmp_path):
    bench = Bench(tmp_path, token=False)        # an empty slot
    root, _, leaf = bench.m.chain("notoken", 2, SUBJECT, days=300)
    bench.configure(root)
    doc = bench.json("--cert", leaf.pem)
    assert doc["ok"] is True
    c = doc["certificates"][0]
    assert checks(c) == {"chain": "pass", "validity": "pass", "key": "skip", "renewal": "skip"}
    assert "no token" in [x for x in c["checks"]
                          if x["id"] == "key"][0]["detail"]
    # --ca-bundle wins over the configuration
    other, _, _ = bench.m.chain("elsewhere", 2, "CN=Else,O=X,C=CN")
    doc = bench.json("--cert", leaf.pem, "--ca-bundle", other.pem, check=8)
    assert checks(doc["certificates"][0])["chain"] == "fail"
    # no module at all: the key check is skipped as well
    bench.configure(root, module=tmp_path / "no-such-module.so")
    doc = bench.json("--cert", leaf.pem)
    assert checks(doc["certificates"][0])["key"] == "skip"


def test_corrupt_object_fails_read(bench):
    root, _, leaf = bench.m.chain("cor", 2, SUBJECT, days=300)
    bench.put(leaf)
    bench.token.import_raw(0, "02", "broken", bench.m.garbage("bad.der"))
    bench.configure(root)
    doc = bench.json(check=8)
    good, bad = doc["certificates"]
    assert good["ok"] is True
    assert bad["ok"] is False and checks(bad) == {"read": "fail"}
    assert "#2 read" in doc["error"]["message"]


def test_no_bundle_is_a_usage_error(bench):
    root, _, leaf = bench.m.chain("nb", 2, SUBJECT, days=300)
    bench.put(leaf)
    bench.config.write_text("[token]\nmodule = %s\napi = pkcs11\n"
                            % bench.token.module)
    p = bench.run("verify", check=2)
    assert "chain_bundle" in p.stderr and "--ca-bundle" in p.stderr
    bench.run("verify", "--ca-bundle", root.pem, check=0)


def test_journal_after_renewal(world):
    """After a renewal the journal gives the previous certificate: verify
    runs the post-renewal check without --previous."""
    world.gmrenew("renew", "--yes", "--pin-file", world.pin_file, check=0)
    p = gmtest.assert_no_sanitizer(world.gmrenew("--json", "verify",
                                                 "--pin-file", world.pin_file,
                                                 check=0))
    doc = json.loads(p.stdout)
    assert doc["ok"] is True
    assert checks(doc["certificates"][0]) == {
        "chain": "pass", "validity": "pass", "key": "pass",
        "renewal": "pass"}


def test_ca_bundle_is_the_default_chain_bundle(bench):
    """Without [service] chain_bundle, verify (like renew) checks the chain
    against [service] ca_bundle."""
    root, _, leaf = bench.m.chain("v2", 2, SUBJECT, days=300)
    bench.put(leaf)
    bundle(bench.bundle_file, root)
    bench.config.write_text(
        "[token]\nmodule = %s\napi = pkcs11\n\n[service]\nca_bundle = %s\n\n"
        "[renewal]\nstate_dir = %s\n" % (bench.token.module,
                                        bench.bundle_file,
                                        bench.root / "state"))
    doc = bench.json()
    assert doc["ok"] is True, doc
    (item,) = doc["certificates"]
    assert checks(item)["chain"] == "pass"


def plant_many(bench):
    """24 certificates on the token, more than verify checks on one CPU:
    chains of another root, an expired one, an unreadable object, and an
    intermediate on the token that the others' chains go through. Returns
    {sha256: "good" | "untrusted" | "expired"}."""
    m = bench.m
    root, (inter,), first = m.chain("par", 3, SUBJECT, days=300)
    other = m.root("par-other", "CN=Other Root,O=X,C=CN")
    bench.put(first)
    bench.put(inter, key_id="ca", with_key=False)
    kinds = {first.sha256(): "good", inter.sha256(): "good"}
    now = utcnow()
    for i in range(22):
        kind = ("untrusted" if i % 5 == 2 else
                "expired" if i == 7 else "good")
        cert = m.issue(other if kind == "untrusted" else inter, "par%d" % i,
                       "CN=PAR%02d,O=SSCCCA,C=CN" % i, key=first.key,
                       not_before=now - 400 * DAY if kind == "expired"
                       else None,
                       not_after=now - DAY if kind == "expired" else None)
        bench.put(cert, key_id="%02x" % (i + 2), with_key=False)
        kinds[cert.sha256()] = kind
    bench.token.import_raw(0, "ee", "broken", m.garbage("par-bad.der"))
    bench.configure(root)
    return kinds


def test_many_certificates_same_report_on_one_cpu_and_on_all(bench):
    """From 16 certificates on, verify decodes them and checks their chains
    on every CPU at once; the report is still each certificate's own, in
    the token's order, as one CPU gives it (tests/tsan runs the same token
    under ThreadSanitizer)."""
    assert len(os.sched_getaffinity(0)) >= 2, \
        "this test needs a machine with 2 CPUs or more"
    kinds = plant_many(bench)
    env = bench.env()
    gmrenew = gmtest.need_env("GMRENEW_BIN")
    one_cpu = gmtest.run([gmtest.need_tool("taskset"), "-c", "0", gmrenew,
                          "--json", "verify"], env=env, check=False,
                         expect=8)
    trace = bench.root / "clone.trace"
    all_cpus = gmtest.run([gmtest.need_tool("strace"), "-f", "-qq", "-o",
                           trace, "-e", "trace=clone,clone3", gmrenew,
                           "--json", "verify"], check=False, expect=8,
                          env=dict(env, ASAN_OPTIONS="detect_leaks=0"))
    # the work ran on more than one thread (the trace's thread starts)
    assert "clone" in trace.read_text(), trace.read_text()
    assert all_cpus.stdout == one_cpu.stdout
    doc = json.loads(all_cpus.stdout)
    items = doc["certificates"]
    assert [i["index"] for i in items] == list(range(1, 26))
    (bad,) = [i for i in items if i["sha256"] is None]
    assert checks(bad) == {"read": "fail"}
    got = {i["sha256"]: checks(i)["chain"] for i in items if i["sha256"]}
    assert got == {h: "pass" if k == "good" else "fail"
                   for h, k in kinds.items()}
    why = {"untrusted": "unable to get local issuer", "expired": "expired"}
    for i in items:
        kind = kinds.get(i["sha256"])
        if kind in why:
            assert why[kind] in i["checks"][0]["detail"], i
        if kind == "expired":
            assert checks(i)["validity"] == "fail"
    assert doc["ok"] is False
