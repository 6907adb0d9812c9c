"""A double-certificate subject (签名证书 + 加密证书) renewed on the soft
ePass3000GM through SKF: the new signing pair generated on the token, the
encryption pair made by the reference service's KMC and delivered as an
enveloped key that only the token opens; every fault of the encryption
part refused with nothing installed; PKCS#11's clear refusal. What the
token holds is checked with the soft token's own listing, pkcs11-tool,
openssl and the token's SKF functions called from outside gmrenew."""
import json
import re

import pytest

import doublecert
import gmtest
from gmtest import PIN


@pytest.fixture
def dworld(tmp_path):
    w = gmtest.World(tmp_path, days_left=None)
    w.token.init()
    w.sign_pem, w.enc_pem, w.old_container = doublecert.enroll_double(
        w.service, w.token, tmp_path)
    w.old_sha = gmtest.sha256_of_cert(w.sign_pem)
    w.old_enc_sha = gmtest.sha256_of_cert(w.enc_pem)
    yield w
    w.close()


def skf(world, *args, **kw):
    return world.gmrenew("--api", "skf", *args, **kw)


def renew_skf(world, check=0):
    return skf(world, "renew", "--yes", "--pin-file", world.pin_file,
               check=check)


def code_of(p):
    m = re.search(r"UPDATE CODE \(更新码\):\s+(\S+)", p.stderr)
    return m.group(1) if m else None


def order_of(world, code):
    (o,) = [o for o in world.service.orders() if o["update_code"] == code]
    return o


def assert_old_intact(world):
    """The old container with both its pairs, as it was: its signing pair
    signs (pkcs11-tool, openssl), its encryption key decrypts (SKF, openssl)
    and no other container is left."""
    conts = doublecert.containers(world.token)
    assert world.old_container in conts, conts
    # nothing of the renewal installed: another container holds at most
    # the pending signing key pair, never a certificate
    for name, objs in conts.items():
        if name != world.old_container:
            assert "certificate" not in [k for k, _ in objs], conts
    check = gmtest.Pkcs11Check(world.token, world.root / "check")
    assert check.usable("01")
    name, plain, got = doublecert.encryption_key_works(
        world.token, world.enc_pem, world.root / "old-enc")
    assert name == world.old_container and got == plain, (name, plain, got)


def test_double_renewal_through_skf(dworld):
    w = dworld
    p = renew_skf(w)
    code = code_of(p)
    assert "[10/10]" in p.stderr and "[7/10] Importing the encryption key" \
        in p.stderr, p.stderr
    o = order_of(w, code)
    assert o["state"] == "confirmed"
    # one container, a new one, with both new pairs; the old one went last
    conts = doublecert.containers(w.token)
    (name,) = conts
    assert name != w.old_container
    kinds = sorted(k for k, _ in conts[name])
    assert kinds == ["certificate", "certificate", "container",
                     "private-key", "private-key", "public-key",
                     "public-key"], kinds
    # SKF, from outside gmrenew: the encryption certificate is the one the
    # service issued, its public key the token's encryption key
    (probe,) = doublecert.skf_probe(w.token).values()
    svc = w.service.show()
    enc_pem = w.root / "new-enc.pem"
    (w.root / "new-enc.der").write_bytes(
        bytes.fromhex(probe["encryption_cert"]))
    gmtest.openssl("x509", "-inform", "DER", "-in", w.root / "new-enc.der",
                   "-out", enc_pem)
    new_enc_sha = gmtest.sha256_of_cert(enc_pem)
    assert new_enc_sha != w.old_enc_sha
    assert new_enc_sha in json.dumps(svc), "not the service's certificate"
    assert probe["encryption_pub"] == doublecert.cert_pubkey_point(enc_pem)
    # the imported key decrypts what openssl encrypted to the certificate
    cont, plain, got = doublecert.encryption_key_works(
        w.token, enc_pem, w.root / "new-enc")
    assert cont == name and got == plain, (cont, plain, got)
    # the signing pair through PKCS#11 (pkcs11-tool, openssl)
    check = gmtest.Pkcs11Check(w.token, w.root / "check")
    ids = {i for k, i, _ in check.objects() if k == "Certificate"}
    assert any(check.usable(i) for i in ids)
    # gmrenew's own view: two certificates, paired, with their roles
    certs = w.json("--api", "skf", "list-certs", "--pin-file",
                   w.pin_file)["certificates"]
    roles = sorted(c["role"] for c in certs)
    assert roles == ["encryption", "signing"], certs
    sign = [c for c in certs if c["role"] == "signing"][0]
    enc = [c for c in certs if c["role"] == "encryption"][0]
    assert enc["sha256"] == new_enc_sha
    assert sign["partner_sha256"] == enc["sha256"]
    assert enc["partner_sha256"] == sign["sha256"]
    assert sign["has_private_key"] and enc["has_private_key"]
    v = w.json("--api", "skf", "verify", "--pin-file", w.pin_file)
    assert v["ok"] is True, v


def test_list_certs_shows_roles_and_pairs(dworld):
    w = dworld
    p = skf(w, "list-certs", "--pin-file", w.pin_file, check=0)
    assert "signing" in p.stdout and "encryption" in p.stdout, p.stdout
    certs = w.json("--api", "skf", "list-certs", "--pin-file",
                   w.pin_file)["certificates"]
    by_role = {c["role"]: c for c in certs}
    assert by_role["signing"]["sha256"] == w.old_sha
    assert by_role["encryption"]["sha256"] == w.old_enc_sha
    assert by_role["signing"]["partner_sha256"] == w.old_enc_sha
    # verify checks both, and says which is which
    v = w.json("--api", "skf", "verify", "--pin-file", w.pin_file)
    assert v["ok"] is True, v
    pairs = [c for item in v["certificates"] for c in item["checks"]
             if c["id"] == "pair"]
    assert len(pairs) == 2 and all(c["status"] == "pass" for c in pairs), v
    # check-env's matching certificate check names both halves
    env = w.json("--api", "skf", "check-env", check=None)
    (m,) = [c for c in env["checks"] if c["id"] == "matching_cert"]
    assert m["status"] == "pass", m
    assert "double certificate" in m["detail"], m
    assert "encryption certificate (加密证书) of #1" in m["detail"], m


FAULTS = doublecert.KMC_FAULTS


@pytest.mark.parametrize("ftype,params,exit_code", FAULTS,
                         ids=["%s-%s" % (f, p.get("part", "")) for f, p, _
                              in FAULTS])
def test_kmc_fault_refused_nothing_installed(dworld, ftype, params,
                                             exit_code):
    w = dworld
    w.service.fault("csr", ftype, **params)
    w.service.fault("status", ftype, **params)
    p = renew_skf(w, check=exit_code)
    assert "encryption" in p.stderr, p.stderr
    assert_old_intact(w)
    j = w.json("--api", "skf", "renew", "--yes", "--pin-file", w.pin_file,
               check=exit_code)
    assert j["error"]["reason"] == "encryption_part", j
    assert_old_intact(w)
    # the service fixed: renew-with-code finishes it
    w.service.faults_clear()
    skf(w, "renew-with-code", code_of(p), "--pin-file", w.pin_file, check=0)
    conts = doublecert.containers(w.token)
    (name,) = conts
    assert name != w.old_container


def test_pkcs11_refuses_before_anything_changes(dworld):
    w = dworld
    before = w.token.listing()
    p = w.gmrenew("--api", "pkcs11", "renew", "--yes", "--pin-file",
                  w.pin_file, check=5)
    assert "PKCS#11 interface cannot import it" in p.stderr, p.stderr
    assert "--api skf" in p.stderr
    assert code_of(p) is None and not w.service.orders()
    assert w.token.listing() == before
    j = w.json("--api", "pkcs11", "renew", "--yes", "--pin-file",
               w.pin_file, check=5)
    assert j["error"]["reason"] == "needs_skf"
    assert_old_intact(w)


def test_interrupted_between_parts_resumes(dworld):
    """Killed after the signing certificate is in, before the envelope:
    both old pairs stay; renew-with-code imports the rest."""
    w = dworld
    w.service.fault("confirm", "http_error", status=500, count=20)
    p = renew_skf(w, check=7)
    code = code_of(p)
    assert len(doublecert.containers(w.token)) == 2
    w.service.faults_clear()
    skf(w, "renew-with-code", code, "--pin-file", w.pin_file, check=0)
    (name,) = doublecert.containers(w.token)
    assert order_of(w, code)["state"] == "confirmed"
