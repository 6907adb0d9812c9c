"""A double-certificate subject (签名证书 + 加密证书) renewed on the soft
ePass3000GM through PKCS#11, with a token profile derived from epass3000gm
that names the two unwrap mechanisms and the soft token's unwrap switch
on (GMSOFT_UNWRAP=1: a driver whose PKCS#11 side offers SM2/SM4 unwrap):
the enveloped key opened on the token by C_UnwrapKey, never in the host;
every fault of the encryption part refused with nothing installed; an
interruption at each PKCS#11 call of the two encryption steps finished
with renew-with-code; the clear refusal of a profile that names no
unwrap mechanism; renew's summary naming the encryption certificate.
What the token holds is checked from outside gmrenew: the soft token's
own listing, pkcs11-tool, openssl, and SKF_ECCDecrypt of the same
library."""
import concurrent.futures
import datetime
import json
import os
import re

import pytest

import doublecert
import gmtest
import test_interruption

UNWRAP_SM2 = "0x80000206"	# the soft token's numbers (docs/softtoken.md)
UNWRAP_SM4 = "0x80000402"
PROFILE = ("\n[profile.epass-unwrap]\nbase = epass3000gm\n"
           "envelope_unwrap_sm2 = %s\nenvelope_unwrap_sm4 = %s\n"
           % (UNWRAP_SM2, UNWRAP_SM4))


def use_profile(world, profile=PROFILE, name="epass-unwrap"):
    world.write_config()
    text = world.config.read_text()
    text = text.replace("[token]\n", "[token]\nprofile = %s\n" % name, 1)
    world.config.write_text(text + profile)


@pytest.fixture
def pworld(tmp_path):
    w = gmtest.World(tmp_path, days_left=None)
    w.token.init()
    w.sign_pem, w.enc_pem, w.old_container = doublecert.enroll_double(
        w.service, w.token, tmp_path)
    w.old_sha = gmtest.sha256_of_cert(w.sign_pem)
    w.old_enc_sha = gmtest.sha256_of_cert(w.enc_pem)
    use_profile(w)
    yield w
    w.close()


def env_of(world, **extra):
    return world.env(GMSOFT_UNWRAP=1, **extra)


def gm(world, *args, check=None, **extra):
    return world.gmrenew(*args, check=check, env=env_of(world, **extra))


def gm_json(world, *args, check=0, **extra):
    p = gm(world, "--json", *args, check=check, **extra)
    return json.loads(p.stdout)


def renew(world, check=0, **extra):
    return gm(world, "renew", "--yes", "--pin-file", world.pin_file,
              check=check, **extra)


def code_of(p):
    m = re.search(r"UPDATE CODE \(更新码\):\s+(\S+)", p.stderr)
    return m.group(1) if m else None


def order_of(world, code):
    (o,) = [o for o in world.service.orders() if o["update_code"] == code]
    return o


def assert_old_intact(world):
    """The old container with both its pairs, as it was: its signing pair
    signs (pkcs11-tool, openssl), its encryption key decrypts (SKF,
    openssl), and no other container holds a certificate."""
    conts = doublecert.containers(world.token)
    assert world.old_container in conts, conts
    kinds = sorted(k for k, _ in conts[world.old_container])
    assert kinds == ["certificate", "certificate", "container",
                     "private-key", "private-key", "public-key",
                     "public-key"], kinds
    for name, objs in conts.items():
        if name != world.old_container:
            assert "certificate" not in [k for k, _ in objs], conts
    check = gmtest.Pkcs11Check(world.token, world.root / "check")
    assert check.usable("01")
    name, plain, got = doublecert.encryption_key_works(
        world.token, world.enc_pem, world.root / "old-enc")
    assert name == world.old_container and got == plain, (name, plain, got)


def new_encryption_cert(world):
    """The one container left and its encryption certificate (PEM),
    read through SKF from outside gmrenew."""
    conts = doublecert.containers(world.token)
    (name,) = conts
    assert name != world.old_container
    probe = doublecert.skf_probe(world.token)[name]
    der = world.root / "new-enc.der"
    pem = world.root / "new-enc.pem"
    der.write_bytes(bytes.fromhex(probe["encryption_cert"]))
    gmtest.openssl("x509", "-inform", "DER", "-in", der, "-out", pem)
    return name, probe, pem


def assert_renewed(world):
    """One container, a new one, with both new pairs; the encryption
    certificate is the service's and its key, opened on the token,
    decrypts what openssl encrypted to the certificate."""
    name, probe, pem = new_encryption_cert(world)
    kinds = sorted(k for k, _ in doublecert.containers(world.token)[name])
    assert kinds == ["certificate", "certificate", "container",
                     "private-key", "private-key", "public-key",
                     "public-key"], kinds
    sha = gmtest.sha256_of_cert(pem)
    assert sha != world.old_enc_sha
    assert sha in json.dumps(world.service.show()), "not the CA's"
    assert probe["encryption_pub"] == doublecert.cert_pubkey_point(pem)
    cont, plain, got = doublecert.encryption_key_works(
        world.token, pem, world.root / "new-enc-check")
    assert cont == name and got == plain, (cont, plain, got)
    check = gmtest.Pkcs11Check(world.token, world.root / "check-new")
    ids = {i for k, i, _ in check.objects() if k == "Certificate"}
    assert any(check.usable(i) for i in ids)
    return name, sha, pem


def test_double_renewal_through_pkcs11(pworld):
    w = pworld
    p = renew(w)
    code = code_of(p)
    assert "[10/10]" in p.stderr and "[7/10] Importing the encryption key" \
        in p.stderr, p.stderr
    assert order_of(w, code)["state"] == "confirmed"
    name, enc_sha, enc_pem = assert_renewed(w)
    # the encryption key is a private key of the container that decrypts
    # and never signs, its CKA_ID SHA-1 of its point, like the SKF side's
    listing = w.token.listing()
    assert "container=%s" % name in listing
    # gmrenew's own view over PKCS#11: both certificates, paired, with
    # their roles and keys
    certs = gm_json(w, "list-certs", "--pin-file", w.pin_file)["certificates"]
    by_role = {c["role"]: c for c in certs}
    assert sorted(by_role) == ["encryption", "signing"], certs
    assert by_role["encryption"]["sha256"] == enc_sha
    assert by_role["signing"]["partner_sha256"] == enc_sha
    assert by_role["encryption"]["has_private_key"], certs
    v = gm_json(w, "verify", "--pin-file", w.pin_file)
    assert v["ok"] is True, v


def when(openssl_date):
    """An openssl date ("Dec 31 20:15:14 2031 GMT")."""
    return datetime.datetime.strptime(openssl_date, "%b %d %H:%M:%S %Y GMT")


def enc_facts(pem):
    """subject-free facts of a certificate by openssl: serial (hex),
    notBefore, notAfter."""
    out = gmtest.openssl("x509", "-in", pem, "-noout", "-serial",
                         "-startdate", "-enddate").stdout
    return dict(line.split("=", 1) for line in out.strip().splitlines())


def private_keys(token):
    """[(CKA_SIGN, CKA_UNWRAP)] of every private key, read from the soft
    token's object files (docs/softtoken.md, "State on disk")."""
    keys = []
    for f in sorted((token.dir / "slot0" / "objects").glob("*.obj")):
        attrs = dict(line.split(" ", 2)[0::2] for line in
                     f.read_text().splitlines() if line.startswith("CKA_"))
        if attrs.get("CKA_CLASS") == "0x3":
            keys.append((attrs.get("CKA_SIGN"), attrs.get("CKA_UNWRAP")))
    return keys


def test_signing_key_unwraps_only_with_the_mechanisms(pworld, tmp_path):
    """The new signing key is generated with CKA_UNWRAP when the profile
    names the unwrap mechanisms, and without it otherwise; the imported
    encryption key neither signs nor unwraps."""
    w = pworld
    renew(w)
    assert sorted(private_keys(w.token)) == [("0", "0"), ("1", "1")], \
        private_keys(w.token)
    # a single certificate on the built-in profile
    s = gmtest.World(tmp_path / "single")
    try:
        p = s.gmrenew("renew", "--yes", "--pin-file", s.pin_file, check=0)
        assert private_keys(s.token) == [("1", "0")], private_keys(s.token)
    finally:
        s.close()


def test_renew_summary_names_the_encryption_certificate(pworld):
    """The text summary and the JSON name the new encryption certificate:
    subject, serial, validity, SHA-256, as openssl reads the certificate
    the token holds."""
    w = pworld
    p = renew(w)
    name, enc_sha, enc_pem = assert_renewed(w)
    facts = enc_facts(enc_pem)
    out = p.stdout
    assert "Encryption certificate (加密证书): " + gmtest.SUBJECT \
        in out, out
    assert "serial %s," % facts["serial"].lower() in out, out
    assert "SHA-256 %s" % enc_sha in out, out
    assert "to %s" % when(facts["notAfter"]).strftime("%Y-%m-%d %H:%M:%S UTC") in out, out


def test_renew_json_names_the_encryption_certificate(pworld):
    w = pworld
    j = gm_json(w, "renew", "--yes", "--pin-file", w.pin_file)
    name, enc_sha, enc_pem = assert_renewed(w)
    facts = enc_facts(enc_pem)
    e = j["new_encryption"]
    assert e["sha256"] == enc_sha, e
    assert e["serial"] == facts["serial"].lower(), e
    assert e["subject"] == gmtest.SUBJECT, e
    assert e["not_after"] == when(facts["notAfter"]).strftime("%Y-%m-%dT%H:%M:%SZ")


FAULTS = doublecert.KMC_FAULTS


@pytest.mark.parametrize("ftype,params,exit_code", FAULTS,
                         ids=["%s-%s" % (f, p.get("part", "")) for f, p, _
                              in FAULTS])
def test_kmc_fault_refused_nothing_installed(pworld, ftype, params,
                                             exit_code):
    """Every fault switch of the reference KMC: refused with nothing of the
    renewal left on the token and both old pairs usable; once the service
    is fixed, renew-with-code finishes the renewal."""
    w = pworld
    w.service.fault("csr", ftype, **params)
    w.service.fault("status", ftype, **params)
    p = renew(w, check=exit_code)
    assert "encryption" in p.stderr, p.stderr
    assert_old_intact(w)
    j = gm_json(w, "renew", "--yes", "--pin-file", w.pin_file,
                check=exit_code)
    assert j["error"]["reason"] == "encryption_part", j
    assert_old_intact(w)
    w.service.faults_clear()
    gm(w, "renew-with-code", code_of(p), "--pin-file", w.pin_file, check=0)
    assert_renewed(w)


NO_UNWRAP = "\n[profile.epass-plain]\nbase = epass3000gm\n"


@pytest.mark.parametrize("profile,name", [(NO_UNWRAP, "epass-plain"),
                                          ("", "epass3000gm")],
                         ids=["derived", "builtin"])
def test_refused_without_unwrap_mechanisms(pworld, profile, name):
    """A profile that names no unwrap mechanism: the clear refusal before
    anything changes, even with the soft token's unwrap switch on."""
    w = pworld
    use_profile(w, profile, name)
    before = w.token.listing()
    p = renew(w, check=5)
    assert "token profile '%s' names no unwrap mechanism" % name \
        in p.stderr, p.stderr
    assert "PKCS#11 interface cannot import it" in p.stderr, p.stderr
    assert "--api skf" in p.stderr, p.stderr
    assert code_of(p) is None and not w.service.orders()
    assert w.token.listing() == before
    j = gm_json(w, "renew", "--yes", "--pin-file", w.pin_file, check=5)
    assert j["error"]["reason"] == "needs_skf", j
    assert_old_intact(w)


def test_profile_naming_one_mechanism_is_a_usage_error(pworld):
    w = pworld
    use_profile(w, "\n[profile.half]\nbase = epass3000gm\n"
                "envelope_unwrap_sm2 = %s\n" % UNWRAP_SM2, "half")
    p = renew(w, check=2)
    assert "names one of the two unwrap mechanisms" in p.stderr, p.stderr
    use_profile(w, PROFILE.replace(UNWRAP_SM4, "0x1ffffffff"))
    p = renew(w, check=2)
    assert "envelope_unwrap_sm4" in p.stderr, p.stderr


def test_driver_without_unwrap_fails_safely(pworld):
    """The profile names the mechanisms but the driver refuses C_UnwrapKey
    (the soft token's default, FEITIAN's driver): the renewal stops with
    the old pairs usable and the update code to finish it once fixed."""
    w = pworld
    p = w.gmrenew("renew", "--yes", "--pin-file", w.pin_file, check=1)
    assert "CKR_FUNCTION_NOT_SUPPORTED" in p.stderr, p.stderr
    assert "envelope_unwrap_sm2" in p.stderr and "--api skf" in p.stderr
    code = code_of(p)
    assert code
    check = gmtest.Pkcs11Check(w.token, w.root / "check-nounwrap")
    assert check.usable("01")
    gm(w, "renew-with-code", code, "--pin-file", w.pin_file, check=0)
    assert_renewed(w)


# ---- interruptions of the two encryption steps ----

class UnwrapCase(test_interruption.Case):
    """The interruption matrix's case (a soft Ekey with a double
    certificate, its own configuration and state) on the unwrapping
    profile, with the soft token's unwrap switch on."""

    def __init__(self, root, service):
        super().__init__(root, service, "pkcs11", double=True)
        text = self.config.read_text().replace(
            "[token]\n", "[token]\nprofile = epass-unwrap\n", 1)
        self.config.write_text(text + PROFILE)
        (self.old_container,) = doublecert.containers(self.token)

    def env(self, **extra):
        return super().env(GMSOFT_UNWRAP=1, **extra)


def encryption_calls(trace):
    """The PKCS#11 calls of the two encryption steps in a recorded
    renewal: after the signing certificate's C_CreateObject and its read
    back, up to the encryption certificate's C_CreateObject (the third)
    and its read back. [(index, function, nth call of the function)]."""
    calls = [line.split()[:2] for line in trace.read_text().splitlines()]
    calls = [(int(i), f) for i, f in calls]
    creates = [i for i, f in calls if f == "C_CreateObject"]
    assert len(creates) == 3, calls
    seen, out = {}, []
    for index, func in calls:
        seen[func] = seen.get(func, 0) + 1
        if creates[0] + 2 <= index <= creates[2] + 1:
            out.append((index, func, seen[func]))
    assert [f for _, f, _ in out].count("C_UnwrapKey") == 2, out
    return out


def encryption_case(tmp_path, service, index, func, nth, mode):
    what = "PKCS#11 call %d (%s) %s" % (index, func, mode)
    case = UnwrapCase(tmp_path / ("%s-%d" % (mode, index)), service)
    env = {"fail": {"GMSOFT_FAIL": "%s:%d:CKR_DEVICE_ERROR" % (func, nth)},
           "kill": {"GMSOFT_KILL_AFTER": index}}[mode]
    first = case.renew(**env)
    assert first.returncode in test_interruption.FIRST_EXITS[mode], \
        "%s: the interrupted run exited %d\n%s" % (what, first.returncode,
                                                   first.stderr)
    # stopped (a failure the renewal cannot pass over): the old pairs,
    # both, still there and usable
    if first.returncode:
        assert "01" in case.usable_pairs(), "%s: %s" % (what,
                                                       case.objects())
        assert case.old_container in case.encryption_pairs(), \
            "%s: %s" % (what, doublecert.containers(case.token))
    test_interruption.recover_and_check(case, first, what)
    return what


def test_interrupted_at_each_encryption_call(tmp_path):
    """Killed after, or failed at, each PKCS#11 call of the encryption
    key and encryption certificate steps: the old pairs stay usable and
    renew-with-code ends with one container holding both new pairs."""
    gmtest.need_tool("pkcs11-tool")
    service = gmtest.Service(tmp_path).start()
    try:
        rec = UnwrapCase(tmp_path / "record", service)
        p = rec.renew(GMSOFT_TRACE=rec.root / "trace")
        assert p.returncode == 0, p.stderr
        points = encryption_calls(rec.root / "trace")
        assert len(points) > 10, points
        jobs = [(i, f, n, m) for i, f, n in points for m in ("fail", "kill")]
        workers = int(os.environ.get("GMRENEW_MATRIX_JOBS", "2"))
        failures = []
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            futures = [pool.submit(encryption_case, tmp_path, service, *j)
                       for j in jobs]
            for fut in futures:
                try:
                    fut.result()
                except AssertionError as e:
                    failures.append(str(e))
        print("\nencryption steps over PKCS#11: %d calls x 2 ways, %d "
              "failed" % (len(points), len(failures)))
        assert not failures, "\n".join(
            [f.split(":", 1)[0] for f in failures] + failures[:3])
    finally:
        service.stop()
