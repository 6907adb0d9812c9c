"""Double certificates (protocol 1.1, section 3.8): the reference service as
CA + KMC, its fault switches, and 1.0 clients and services.

The envelopes are opened independently of the service's code: with the
sm-crypto npm package (tests/service/jscheck, installed by
scripts/install-deps.sh test) and with the openssl command, from the
recipient's software key. Neither route uses tools/refservice.
"""

import base64
import hashlib
import json
import os
import subprocess
import tempfile
import types

import pytest

from conftest import HERE, SM2_ID, b64, openssl, tool

DOUBLE_SUBJECT = "CN=JSB0001@IST@30,OU=深证通CCNET证书测试,OU=CCNET,O=SSCCCA,C=CN"
JSCHECK = os.path.join(HERE, "jscheck")
NODE = "/usr/bin/node"
V10_ORDER_MEMBERS = {"update_code", "state", "next_step", "created_at", "expires_at",
                     "old_certificate_sha256", "subject", "csr_requirements", "rekey_allowed",
                     "certificate", "certificate_sha256", "chain", "not_after", "next_challenge"}
V10_LOOKUP_MEMBERS = {"found", "sha256", "serial", "subject", "issuer", "not_before", "not_after",
                      "gateway", "organization", "system", "status", "superseded_by", "renewal",
                      "open_order"}


# ---------------------------------------------------------------- helpers

def enroll_double(svc, key, subject=DOUBLE_SUBJECT, days_left=30):
    """enroll --double; return (signing DER, encryption DER, envelope object)."""
    svc.counter += 1
    stem = os.path.join(svc.dir, "double-%d" % svc.counter)
    tool("enroll", "--dir", svc.dir, "--pubkey", key.pub, "--subject", subject, "--gateway", "JSB0001",
         "--organization", "深证通CCNET证书测试", "--system", "CCNET", "--days-left", str(days_left),
         "--out", stem + ".pem", "--double", "--enc-out", stem + "-enc.pem",
         "--envelope-out", stem + "-env.json")
    with open(stem + "-env.json", encoding="utf-8") as handle:
        envelope = json.load(handle)
    return pem_file_der(stem + ".pem"), pem_file_der(stem + "-enc.pem"), envelope


def pem_file_der(path):
    """DER of a PEM certificate file, through openssl."""
    return openssl("x509", "-in", path, "-outform", "DER").stdout


def renew_double(svc, client, subject=DOUBLE_SUBJECT):
    """Enroll a double subject and renew it to issued: (old_key, old, new_key, order)."""
    old_key = svc.key()
    old, _, _ = enroll_double(svc, old_key, subject)
    started = client.start(old, old_key)
    assert started.status == 201, started
    new_key = svc.key()
    issued = client.csr(started.json["update_code"], new_key.csr(subject), old_key)
    assert issued.status == 200, issued
    return old_key, old, new_key, issued.json


def private_hex(key):
    """The 64 hex digits of a software key's private scalar, from openssl's text."""
    text = openssl("pkey", "-in", key.path, "-text", "-noout").stdout.decode()
    lines = text.split("priv:", 1)[1].split("pub:", 1)[0]
    digits = "".join(lines.split()).replace(":", "")
    return digits[-64:].rjust(64, "0")


def cert_public_point(cert_der):
    """The subjectPublicKey bits (04||X||Y) of a certificate, through openssl."""
    pem = openssl("x509", "-inform", "DER", "-noout", "-pubkey", data=cert_der).stdout
    spki = openssl("pkey", "-pubin", "-outform", "DER", data=pem).stdout
    assert spki[-66] == 0x00 and spki[-65] == 0x04, spki.hex()
    return spki[-65:]


def cert_text(cert_der):
    """openssl's text form of a certificate."""
    return openssl("x509", "-inform", "DER", "-noout", "-text", data=cert_der).stdout.decode()


def subject_der(cert_der):
    """The subject Name DER of a certificate (via openssl asn1parse offsets)."""
    out = openssl("asn1parse", "-inform", "DER", data=cert_der).stdout.decode().splitlines()
    # TBSCertificate children at depth 2: version, serial, sigalg, issuer, validity, subject
    depth2 = [l for l in out if "d=2" in l]
    offset, header, length = _asn1_position(depth2[5])
    return cert_der[offset:offset + header + length]


def _asn1_position(line):
    offset = int(line.split(":", 1)[0])
    header = int(line.split("hl=")[1].split()[0])
    length = int(line.split("l=")[2].split()[0])
    return offset, header, length


def sm_crypto_open(envelope, recipient_key_hex, check=True):
    """Open an envelope with sm-crypto (node); return its JSON or the process."""
    assert os.path.exists(NODE), "node is missing (scripts/install-deps.sh test)"
    assert os.path.isdir(os.path.join(JSCHECK, "node_modules", "sm-crypto")), \
        "sm-crypto is missing: run scripts/install-deps.sh test"
    proc = subprocess.run([NODE, os.path.join(JSCHECK, "open_envelope.js")],
                          input=json.dumps({"envelope": envelope, "recipient_private_key": recipient_key_hex}),
                          capture_output=True, text=True, check=False)
    if not check:
        return proc
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def der_len(n):
    """DER length octets."""
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def der_int(raw):
    """DER INTEGER of an unsigned big-endian value."""
    raw = raw.lstrip(b"\0") or b"\0"
    if raw[0] & 0x80:
        raw = b"\0" + raw
    return b"\x02" + der_len(len(raw)) + raw


def sm2cipher_der(c1c3c2):
    """GM/T 0009 SM2Cipher DER (what openssl pkeyutl -decrypt reads) from C1||C3||C2."""
    x, y, c3, c2 = c1c3c2[1:33], c1c3c2[33:65], c1c3c2[65:97], c1c3c2[97:]
    body = der_int(x) + der_int(y) + b"\x04" + der_len(32) + c3 + b"\x04" + der_len(len(c2)) + c2
    return b"\x30" + der_len(len(body)) + body


def openssl_open(envelope, key):
    """Open an envelope with the openssl command: (sm4 key, d, public point of d)."""
    with tempfile.TemporaryDirectory() as tmp:
        cipher = os.path.join(tmp, "c.der")
        with open(cipher, "wb") as handle:
            handle.write(sm2cipher_der(base64.b64decode(envelope["encrypted_symmetric_key"])))
        sm4_key = openssl("pkeyutl", "-decrypt", "-inkey", key.path, "-in", cipher).stdout
        d = openssl("enc", "-d", "-sm4-ecb", "-nopad", "-K", sm4_key.hex(),
                    data=base64.b64decode(envelope["encrypted_private_key"])).stdout
    # SEC1 ECPrivateKey without its public key: openssl computes d*G itself
    ec = b"\x02\x01\x01" + b"\x04\x20" + d + b"\xa0\x0a\x06\x08" + bytes.fromhex("2a811ccf5501822d")
    pub = openssl("pkey", "-inform", "DER", "-pubout", "-outform", "DER", data=b"\x30" + der_len(len(ec)) + ec).stdout
    return sm4_key, d, pub[-65:]


def verify_link(ca_der, cert_der, partial=True):
    """openssl verify of one link with the SM2 ID."""
    with tempfile.TemporaryDirectory() as tmp:
        ca, leaf = os.path.join(tmp, "ca.pem"), os.path.join(tmp, "leaf.pem")
        for path, data in ((ca, ca_der), (leaf, cert_der)):
            with open(path, "wb") as handle:
                handle.write(openssl("x509", "-inform", "DER", data=data).stdout)
        args = ["verify", "-CAfile", ca, "-vfyopt", "distid:" + SM2_ID] + (["-partial_chain"] if partial else [])
        proc = openssl(*(args + [leaf]), check=False)
        return proc.returncode == 0 and b": OK" in proc.stdout


def lookup(client, cert_der):
    resp = client.lookup([{"certificate": b64(cert_der)}])
    assert resp.status == 200, resp
    return resp.json


def check_envelope_shape(env, recipient_sha):
    """The fixed members and lengths of section 3.8."""
    assert env["version"] == 1 and env["symmetric_algorithm"] == "sm4-ecb" and env["bits"] == 256
    assert env["recipient_certificate_sha256"] == recipient_sha
    c = base64.b64decode(env["encrypted_symmetric_key"])
    assert len(c) == 113 and c[0] == 0x04
    assert len(base64.b64decode(env["encrypted_private_key"])) == 32
    point = base64.b64decode(env["public_key"])
    assert len(point) == 65 and point[0] == 0x04


# ---------------------------------------------------------------- lookup and enrollment

def test_lookup_roles_and_partners(svc, client):
    key = svc.key()
    sign, enc, envelope = enroll_double(svc, key)
    single = svc.enroll(svc.key(), 30)
    resp = client.lookup([{"certificate": b64(sign)}, {"certificate": b64(enc)},
                          {"certificate": b64(single)}, {"sha256": "00" * 32}])
    assert resp.status == 200 and resp.json["protocol"] == "1.1"
    s, e, one, unknown = resp.json["results"]
    sign_sha, enc_sha = hashlib.sha256(sign).hexdigest(), hashlib.sha256(enc).hexdigest()
    assert (s["role"], s["double_certificate"], s["partner_sha256"]) == ("signing", True, enc_sha)
    assert s["renewal"]["online"] is True
    assert (e["role"], e["double_certificate"], e["partner_sha256"]) == ("encryption", True, sign_sha)
    assert e["renewal"] == {"online": False, "reason": "encryption_partner",
                            "window_start": None, "window_end": None}
    assert e["subject"] == DOUBLE_SUBJECT and e["open_order"] is None
    assert (one["role"], one["double_certificate"], one["partner_sha256"]) == ("signing", False, None)
    assert (unknown["role"], unknown["double_certificate"], unknown["partner_sha256"]) == (None, None, None)
    # the enrollment's envelope is for the enrolled signing key and opens to the certificate's key
    check_envelope_shape(envelope, sign_sha)
    opened = sm_crypto_open(envelope, private_hex(key))
    assert bytes.fromhex(opened["public_key"]) == cert_public_point(enc) == base64.b64decode(envelope["public_key"])


def test_start_with_encryption_certificate_is_conflict(svc, client):
    key = svc.key()
    _, enc, _ = enroll_double(svc, key)
    resp = client.start(enc, key)
    assert resp.status == 409 and resp.code == "conflict", resp


def test_config_file_makes_a_subject_double(svc, client):
    subject = "CN=JSB0002@IST@30,OU=深证通CCNET证书测试,OU=CCNET,O=SSCCCA,C=CN"
    old_key = svc.key()
    old = svc.enroll(old_key, 30, subject=subject, gateway="JSB0002")
    result = lookup(client, old)["results"][0]
    assert (result["double_certificate"], result["partner_sha256"]) == (False, None)
    path = os.path.join(svc.dir, "config.json")
    config = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            config = json.load(handle)
    config.setdefault("double_certificate_subjects", []).append(subject)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(config, handle, ensure_ascii=False)
    result = lookup(client, old)["results"][0]
    assert (result["double_certificate"], result["partner_sha256"]) == (True, None)
    started = client.start(old, old_key)
    assert started.json["double_certificate"] is True and started.json["encryption"] is None
    issued = client.csr(started.json["update_code"], svc.key().csr(subject), old_key)
    assert issued.status == 200 and issued.json["encryption"], issued


# ---------------------------------------------------------------- a double renewal

def test_double_renewal_carries_both_parts(svc, client):
    old_key, old, new_key, order = renew_double(svc, client)
    assert order["protocol"] == "1.1" and order["double_certificate"] is True
    enc = order["encryption"]
    enc_der = base64.b64decode(enc["certificate"])
    sign_der = base64.b64decode(order["certificate"])
    assert hashlib.sha256(enc_der).hexdigest() == enc["certificate_sha256"] != order["certificate_sha256"]
    check_envelope_shape(enc["enveloped_key"], order["certificate_sha256"])
    # the encryption certificate: chain with the SM2 ID, subject, key usage, its key
    chain = [base64.b64decode(c) for c in order["chain"]]
    assert verify_link(chain[0], enc_der) and verify_link(chain[1], chain[0], partial=False)
    assert subject_der(enc_der) == subject_der(sign_der) == subject_der(old)
    text = cert_text(enc_der)
    usage = text.split("X509v3 Key Usage: critical\n", 1)[1].splitlines()[0].strip()
    assert usage == "Key Encipherment, Data Encipherment, Key Agreement"
    assert "Digital Signature" not in text and "Non Repudiation" not in text
    assert "SM2-with-SM3" in text and "ASN1 OID: SM2" in text and "CA:FALSE" in text
    point = cert_public_point(enc_der)
    assert base64.b64decode(enc["enveloped_key"]["public_key"]) == point
    assert point not in (cert_public_point(sign_der), cert_public_point(old))
    not_after = openssl("x509", "-inform", "DER", "-noout", "-enddate", "-dateopt", "iso_8601",
                        data=enc_der).stdout.decode().strip()
    assert not_after == "notAfter=" + enc["not_after"].replace("T", " ")
    assert enc["not_after"] == order["not_after"]
    # the same part on every later answer for this certificate
    again = client.csr(order["update_code"], new_key.csr(DOUBLE_SUBJECT), old_key)
    assert again.json["encryption"] == enc
    assert client.status(order["update_code"]).json["encryption"] == enc
    # registry: lookup knows the new pair
    res = lookup(client, enc_der)["results"][0]
    assert (res["role"], res["partner_sha256"]) == ("encryption", order["certificate_sha256"])


def test_envelope_opens_to_the_encryption_key_independently(svc, client):
    """sm-crypto and the openssl command, each from the new signing key alone,
    recover a private key whose public key is the encryption certificate's."""
    _, _, new_key, order = renew_double(svc, client)
    enc = order["encryption"]
    point = cert_public_point(base64.b64decode(enc["certificate"]))
    js = sm_crypto_open(enc["enveloped_key"], private_hex(new_key))
    assert bytes.fromhex(js["public_key"]) == point
    sm4_key, d, d_point = openssl_open(enc["enveloped_key"], new_key)
    assert d_point == point
    assert (sm4_key.hex(), d.hex()) == (js["sm4_key"], js["private_key"])
    assert len(sm4_key) == 16 and len(d) == 32


def test_envelope_is_not_for_the_old_key(svc, client):
    old_key, _, _, order = renew_double(svc, client)
    proc = sm_crypto_open(order["encryption"]["enveloped_key"], private_hex(old_key), check=False)
    assert proc.returncode == 1 and "C3 does not match" in proc.stderr, proc.stdout


def test_confirm_supersedes_both_old_certificates(svc, client):
    old_key = svc.key()
    old, old_enc, _ = enroll_double(svc, old_key)
    code = client.start(old, old_key).json["update_code"]
    new_key = svc.key()
    order = client.csr(code, new_key.csr(DOUBLE_SUBJECT), old_key).json
    done = client.confirm(code, order["certificate_sha256"], new_key)
    assert done.status == 200 and done.json["state"] == "confirmed"
    assert done.json["encryption"] == order["encryption"]
    res = client.lookup([{"certificate": b64(old)}, {"certificate": b64(old_enc)}]).json["results"]
    assert res[0]["superseded_by"] == order["certificate_sha256"]
    assert res[1]["superseded_by"] == order["encryption"]["certificate_sha256"]


def test_rekey_makes_a_new_encryption_pair_and_revokes_the_earlier(svc, client):
    old_key, _, _, first = renew_double(svc, client)
    other_key = svc.key()
    second = client.csr(first["update_code"], other_key.csr(DOUBLE_SUBJECT), old_key)
    assert second.status == 200, second
    enc1, enc2 = first["encryption"], second.json["encryption"]
    assert enc2["certificate_sha256"] != enc1["certificate_sha256"]
    assert enc2["enveloped_key"]["public_key"] != enc1["enveloped_key"]["public_key"]
    assert enc2["enveloped_key"]["recipient_certificate_sha256"] == second.json["certificate_sha256"]
    js = sm_crypto_open(enc2["enveloped_key"], private_hex(other_key))
    assert bytes.fromhex(js["public_key"]) == cert_public_point(base64.b64decode(enc2["certificate"]))
    earlier = client.lookup([{"sha256": enc1["certificate_sha256"]}]).json["results"][0]
    assert earlier["status"] == "revoked"


def test_cancel_revokes_the_encryption_certificate(svc, client):
    old_key, _, _, order = renew_double(svc, client)
    assert client.cancel(order["update_code"], old_key).json["state"] == "cancelled"
    res = client.lookup([{"sha256": order["encryption"]["certificate_sha256"]}]).json["results"][0]
    assert res["status"] == "revoked"


def test_single_subject_has_no_encryption_part(svc, client):
    old_key = svc.key()
    old = svc.enroll(old_key, 30)
    started = client.start(old, old_key).json
    issued = client.csr(started["update_code"], svc.key().csr(), old_key).json
    assert (issued["protocol"], issued["double_certificate"], issued["encryption"]) == ("1.1", False, None)


# ---------------------------------------------------------------- versions

def test_v1_0_client_renews_a_double_subject(svc, client):
    """A 1.0 client reads only 1.0 members: they are all there, with their 1.0
    meaning, and the renewal completes without the encryption part."""
    old_key = svc.key()
    old, _, _ = enroll_double(svc, old_key)
    res = lookup(client, old)["results"][0]
    assert V10_LOOKUP_MEMBERS <= set(res) and res["renewal"]["online"] is True
    started = client.start(old, old_key)
    assert started.status == 201 and V10_ORDER_MEMBERS <= set(started.json)
    new_key = svc.key()
    issued = client.csr(started.json["update_code"], new_key.csr(DOUBLE_SUBJECT), old_key).json
    assert V10_ORDER_MEMBERS <= set(issued) and issued["state"] == "issued"
    assert cert_public_point(base64.b64decode(issued["certificate"])) == new_key.spki[-65:]
    done = client.confirm(issued["update_code"], issued["certificate_sha256"], new_key)
    assert done.status == 200 and done.json["state"] == "confirmed"
    assert lookup(client, old)["results"][0]["renewal"]["reason"] == "superseded"


def test_v1_0_switch_answers_as_a_1_0_service(svc, client):
    """faults protocol 1.0: no 1.1 member anywhere, no encryption part made;
    what a 1.1 client meets at a 1.0 service."""
    old_key = svc.key()
    old, enc, _ = enroll_double(svc, old_key)
    tool("faults", "protocol", "1.0", "--dir", svc.dir)
    resp = client.lookup([{"certificate": b64(old)}, {"certificate": b64(enc)}])
    assert "protocol" not in resp.json
    for res in resp.json["results"]:
        assert set(res) == V10_LOOKUP_MEMBERS, res
    started = client.start(old, old_key)
    assert set(started.json) == V10_ORDER_MEMBERS
    issued = client.csr(started.json["update_code"], svc.key().csr(DOUBLE_SUBJECT), old_key).json
    assert set(issued) == V10_ORDER_MEMBERS and issued["state"] == "issued"
    tool("faults", "protocol", "1.1", "--dir", svc.dir)
    after = client.status(issued["update_code"]).json
    assert (after["double_certificate"], after["encryption"]) == (False, None)


# ---------------------------------------------------------------- fault switches

def fault_answer(svc, client, entry):
    """Renew a double subject to issued, then GET it with the fault on status."""
    old_key, old, new_key, order = renew_double(svc, client)
    svc.faults({"faults": {"status": [entry]}})
    faulty = client.status(order["update_code"])
    assert faulty.status == 200, faulty
    svc.faults({})
    return old_key, new_key, order, faulty.json


def test_fault_envelope_other_key_default_spare(svc, client):
    _, new_key, order, faulty = fault_answer(svc, client, {"type": "envelope_other_key"})
    good, bad = order["encryption"]["enveloped_key"], faulty["encryption"]["enveloped_key"]
    assert bad["encrypted_symmetric_key"] != good["encrypted_symmetric_key"]
    assert {k: v for k, v in bad.items() if k != "encrypted_symmetric_key"} == \
        {k: v for k, v in good.items() if k != "encrypted_symmetric_key"}
    check_envelope_shape(bad, order["certificate_sha256"])
    proc = sm_crypto_open(bad, private_hex(new_key), check=False)
    assert proc.returncode == 1 and "C3 does not match" in proc.stderr
    # the service's spare key opens it: it was encrypted to that key
    spare = types.SimpleNamespace(path=os.path.join(svc.dir, "spare.key"))
    assert len(sm_crypto_open(bad, private_hex(spare))["sm4_key"]) == 32
    # the order keeps the right part
    assert client.status(order["update_code"]).json["encryption"] == order["encryption"]


def test_fault_envelope_other_key_given_pubkey(svc, client):
    other = svc.key()
    _, new_key, order, faulty = fault_answer(svc, client, {"type": "envelope_other_key", "pubkey": other.pub})
    bad = faulty["encryption"]["enveloped_key"]
    assert sm_crypto_open(bad, private_hex(new_key), check=False).returncode == 1
    sm4_key = openssl("pkeyutl", "-decrypt", "-inkey", other.path,
                      data=sm2cipher_der(base64.b64decode(bad["encrypted_symmetric_key"]))).stdout
    assert len(sm4_key) == 16


def test_fault_envelope_corrupt_cipher(svc, client):
    _, new_key, order, faulty = fault_answer(svc, client, {"type": "envelope_corrupt"})
    bad = faulty["encryption"]["enveloped_key"]
    check_envelope_shape(bad, order["certificate_sha256"])
    assert bad != order["encryption"]["enveloped_key"]
    proc = sm_crypto_open(bad, private_hex(new_key), check=False)
    assert proc.returncode == 1 and "C3 does not match" in proc.stderr
    with tempfile.NamedTemporaryFile() as cipher:
        cipher.write(sm2cipher_der(base64.b64decode(bad["encrypted_symmetric_key"])))
        cipher.flush()
        assert openssl("pkeyutl", "-decrypt", "-inkey", new_key.path, "-in", cipher.name,
                       check=False).returncode != 0


def test_fault_envelope_corrupt_private_key(svc, client):
    _, new_key, order, faulty = fault_answer(svc, client, {"type": "envelope_corrupt", "part": "private_key"})
    bad = faulty["encryption"]["enveloped_key"]
    check_envelope_shape(bad, order["certificate_sha256"])
    opened = sm_crypto_open(bad, private_hex(new_key))
    point = cert_public_point(base64.b64decode(order["encryption"]["certificate"]))
    assert bytes.fromhex(opened["public_key"]) != point
    assert base64.b64decode(bad["public_key"]) == point


@pytest.mark.parametrize("part, check", [
    ("length", lambda e: len(base64.b64decode(e["encrypted_private_key"])) == 31),
    ("algorithm", lambda e: e["symmetric_algorithm"] == "sm1-ecb"),
])
def test_fault_envelope_corrupt_fields(svc, client, part, check):
    # set through the command line, as a test of a client would
    old_key, _, _, order = renew_double(svc, client)
    tool("fault", "--dir", svc.dir, "--kind", "csr", "--type", "envelope_corrupt", "--part", part, "--count", "1")
    new_key = svc.key()
    faulty = client.csr(order["update_code"], new_key.csr(DOUBLE_SUBJECT), old_key)
    assert faulty.status == 200, faulty
    bad = faulty.json["encryption"]["enveloped_key"]
    assert check(bad)
    good = client.status(order["update_code"]).json["encryption"]["enveloped_key"]
    check_envelope_shape(good, faulty.json["certificate_sha256"])


def test_fault_enc_cert_other_key(svc, client):
    _, new_key, order, faulty = fault_answer(svc, client, {"type": "enc_cert_other_key"})
    enc = faulty["encryption"]
    cert = base64.b64decode(enc["certificate"])
    assert hashlib.sha256(cert).hexdigest() == enc["certificate_sha256"] != order["encryption"]["certificate_sha256"]
    chain = [base64.b64decode(c) for c in faulty["chain"]]
    assert verify_link(chain[0], cert)
    assert subject_der(cert) == subject_der(base64.b64decode(order["certificate"]))
    assert "Key Encipherment, Data Encipherment, Key Agreement" in cert_text(cert)
    assert enc["enveloped_key"] == order["encryption"]["enveloped_key"]
    assert cert_public_point(cert) != base64.b64decode(enc["enveloped_key"]["public_key"])
    js = sm_crypto_open(enc["enveloped_key"], private_hex(new_key))
    assert bytes.fromhex(js["public_key"]) == base64.b64decode(enc["enveloped_key"]["public_key"])


def test_fault_encryption_missing(svc, client):
    _, _, order, faulty = fault_answer(svc, client, {"type": "encryption_missing"})
    assert faulty["double_certificate"] is True and faulty["encryption"] is None
    assert faulty["certificate"] == order["certificate"]


def test_encryption_faults_leave_single_subjects_alone(svc, client):
    old_key = svc.key()
    old = svc.enroll(old_key, 30)
    code = client.start(old, old_key).json["update_code"]
    svc.faults({"faults": {"csr": [{"type": t} for t in
                                   ("envelope_other_key", "envelope_corrupt", "enc_cert_other_key")]}})
    issued = client.csr(code, svc.key().csr(), old_key)
    assert issued.status == 200 and issued.json["encryption"] is None, issued


def test_enroll_double_needs_an_sm2_key(svc):
    key = svc.key("ec-p256")
    proc = tool("enroll", "--dir", svc.dir, "--pubkey", key.pub, "--subject", DOUBLE_SUBJECT,
                "--gateway", "JSB0001", "--organization", "o", "--system", "s", "--days-left", "30",
                "--out", os.path.join(svc.dir, "p256-double.pem"), "--double", check=False)
    assert proc.returncode != 0 and "SM2" in proc.stderr, proc
    assert not os.path.exists(os.path.join(svc.dir, "p256-double.pem"))


def test_show_lists_pairs(svc):
    key = svc.key()
    sign, enc, _ = enroll_double(svc, key)
    shown = json.loads(tool("show", "--dir", svc.dir).stdout)
    assert {"signing_sha256": hashlib.sha256(sign).hexdigest(),
            "encryption_sha256": hashlib.sha256(enc).hexdigest()} in shown["pairs"]


def test_no_internal_errors_from_kmc(svc):
    assert "internal error" not in svc.stderr(), svc.stderr()
