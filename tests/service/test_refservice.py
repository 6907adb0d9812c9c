"""Tests of the reference renewal service (tools/refservice) against docs/protocol.md.

Chain verification note: `openssl verify -vfyopt distid:...` applies the SM2
ID only to the certificate at depth 0, so each link is verified on its own:
leaf against the issuing CA as a partial-chain trust anchor, and the issuing
CA against the root.
"""

import base64
import datetime
import email.utils
import hashlib
import json
import os
import re
import socket
import ssl
import subprocess
import tempfile
import time

import pytest

from conftest import (PYTHON, REFSERVICE, SM2_ID, SUBJECT, Client, Service, b64, openssl,
                      pop_message, tool, wait_for)

import der
import pki

CODE_RE = re.compile(r"^[2-9A-HJ-NP-Z]{4}(-[2-9A-HJ-NP-Z]{4}){3}$")
MSG_ZH = "更新的证书与您当前 Ekey 的证书主题不符，无法更新证书"
MSG_EN = "the renewed certificate does not match the subject of the certificate on your Ekey, cannot renew"


# ---------------------------------------------------------------- helpers

def renew_to_issued(svc, client, kind="sm2", days_left=30):
    """Enroll, start and submit a CSR; return (old_key, old_der, new_key, order)."""
    old_key = svc.key(kind)
    old = svc.enroll(old_key, days_left)
    started = client.start(old, old_key)
    assert started.status == 201, started
    new_key = svc.key(kind)
    issued = client.csr(started.json["update_code"], new_key.csr(), old_key)
    assert issued.status == 200, issued
    return old_key, old, new_key, issued.json


def write_pem(path, der_bytes):
    """Write a DER certificate as PEM."""
    with open(path, "w", encoding="ascii") as handle:
        handle.write(der.der_to_pem(der_bytes, "CERTIFICATE"))


def verify_link(ca_der, cert_der, partial=True):
    """openssl verify of one link with the SM2 ID; return True when OK."""
    with tempfile.TemporaryDirectory() as tmp:
        ca, leaf = os.path.join(tmp, "ca.pem"), os.path.join(tmp, "leaf.pem")
        write_pem(ca, ca_der)
        write_pem(leaf, cert_der)
        args = ["verify", "-CAfile", ca, "-vfyopt", "distid:" + SM2_ID]
        if partial:
            args.append("-partial_chain")
        proc = openssl(*(args + [leaf]), check=False)
        return proc.returncode == 0 and b": OK" in proc.stdout


def verify_chain(svc, cert_der, chain):
    """Leaf -> chain[0] -> chain[1] (root, must be the service's root)."""
    root = pki.Cert.from_file(os.path.join(svc.dir, "chain-ca.pem"))
    assert base64.b64decode(chain[-1]) == root.der
    return (verify_link(base64.b64decode(chain[0]), cert_der)
            and verify_link(root.der, base64.b64decode(chain[0]), partial=False))


def sm2_token_signature(key, message):
    """Sign like the token: e = SM3(Z || M) computed here, the key signs e raw."""
    p = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
    a = p - 3
    b = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
    gx = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
    gy = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0
    point = pki.public_key_bits(key.spki)
    assert point[0] == 4 and len(point) == 65
    ident = SM2_ID.encode()
    z_input = (len(ident) * 8).to_bytes(2, "big") + ident + b"".join(
        v.to_bytes(32, "big") for v in (a, b, gx, gy)) + point[1:]
    z = hashlib.new("sm3", z_input).digest()
    e = hashlib.new("sm3", z + message).digest()
    return raw_sign(key, e)


def raw_sign(key, digest):
    """openssl pkeyutl -sign of a 32-byte digest (what a token does)."""
    with tempfile.NamedTemporaryFile() as handle:
        handle.write(digest)
        handle.flush()
        return openssl("pkeyutl", "-sign", "-inkey", key.path, "-in", handle.name).stdout


def lookup_one(client, cert_der):
    """Lookup result for one certificate."""
    resp = client.lookup([{"certificate": b64(cert_der)}])
    assert resp.status == 200, resp
    return resp.json["results"][0]


def assert_error(resp, status, code, retryable=None):
    """Check an error response's status, code, shape and challenge."""
    assert resp.status == status, resp
    err = resp.json["error"]
    assert err["code"] == code, resp
    assert err["message_zh"] and err["message_en"]
    assert isinstance(err["retryable"], bool)
    if retryable is not None:
        assert err["retryable"] is retryable
    assert len(resp.json["next_challenge"]) == 43
    assert resp.headers["Gmrenew-Next-Challenge"] == resp.json["next_challenge"]


# ---------------------------------------------------------------- basics

def test_challenge_endpoint_headers(client):
    resp = client.get_challenge()
    assert resp.status == 200
    assert resp.json["expires_in"] == 300
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", resp.json["next_challenge"])
    assert resp.headers["Gmrenew-Next-Challenge"] == resp.json["next_challenge"]
    assert resp.headers["Content-Type"].startswith("application/json")
    assert int(resp.headers["Content-Length"]) == len(resp.raw)
    served = email.utils.parsedate_to_datetime(resp.headers["Date"]).timestamp()
    assert abs(served - time.time()) < 10
    assert client.get_challenge().json["next_challenge"] != resp.json["next_challenge"]


def test_unknown_path_and_method(client):
    resp = client.send("GET", "/v1/nothing")
    assert_error(resp, 404, "bad_request")
    assert "Date" in resp.headers
    assert_error(client.send("GET", "/v1/lookup"), 405, "bad_request")
    assert_error(client.send("DELETE", "/v1/challenge"), 405, "bad_request")


def test_request_limits(svc, client):
    assert_error(client.send("POST", "/v1/lookup", raw=b"x" * 70000), 413, "bad_request")
    c2 = svc.client()
    assert_error(c2.send("POST", "/v1/lookup", raw=b"{not json"), 400, "bad_request")
    c2.close()
    # POST without Content-Length, by hand.
    ctx = ssl.create_default_context(cafile=os.path.join(svc.dir, "tls-ca.pem"))
    with socket.create_connection(("127.0.0.1", svc.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(b"POST /v1/lookup HTTP/1.1\r\nHost: localhost\r\n\r\n")
            assert tls.recv(100).startswith(b"HTTP/1.1 411")


def test_tls_certificate_names(svc):
    ctx = ssl.create_default_context(cafile=os.path.join(svc.dir, "tls-ca.pem"))
    for host in ("localhost", "127.0.0.1"):
        with socket.create_connection(("127.0.0.1", svc.port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname=host) as tls:
                assert tls.version() in ("TLSv1.2", "TLSv1.3")


# ---------------------------------------------------------------- lookup

def test_lookup_three_forms(svc, client):
    key = svc.key()
    cert_der = svc.enroll(key, 30, gateway="JSB0001")
    cert = pki.Cert(cert_der)
    resp = client.lookup([{"certificate": b64(cert_der)}, {"sha256": cert.sha256},
                          {"issuer": b64(cert.issuer_der), "serial": "00" + cert.serial_hex.upper()}])
    assert resp.status == 200
    assert len(resp.json["results"]) == 3
    for result in resp.json["results"]:
        assert result["found"] is True
        assert result["sha256"] == cert.sha256
        assert result["gateway"] == "JSB0001"
        assert result["organization"] == "深证通CCNET证书测试"
        assert result["system"] == "CCNET"
        assert result["subject"] == SUBJECT
        assert result["status"] == "valid"
        assert result["renewal"]["online"] is True and result["renewal"]["reason"] is None
        assert result["open_order"] is None


def test_lookup_unknown_certificate(svc, client):
    stranger = svc.key()
    with tempfile.TemporaryDirectory() as tmp:
        openssl("req", "-x509", "-new", "-key", stranger.path, "-subj", "/CN=stranger", "-sigopt",
                "distid:" + SM2_ID, "-outform", "DER", "-out", os.path.join(tmp, "c.der"))
        with open(os.path.join(tmp, "c.der"), "rb") as handle:
            unknown = handle.read()
    resp = client.lookup([{"certificate": b64(unknown)}, {"sha256": "00" * 32}])
    first, second = resp.json["results"]
    assert first["found"] is False and first["status"] == "unknown"
    assert first["renewal"] == {"online": False, "reason": "unknown", "window_start": None, "window_end": None}
    assert first["subject"] == "CN=stranger" and first["gateway"] is None
    assert second["found"] is False and second["sha256"] is None


def test_lookup_bad_requests(client):
    assert_error(client.lookup([]), 400, "bad_request")
    assert_error(client.lookup([{"sha256": "00"}] * 17), 400, "bad_request")
    assert_error(client.lookup([{"certificate": "!!!"}]), 400, "bad_request")
    assert_error(client.lookup([{"certificate": b64(b"not der")}]), 400, "bad_request")
    assert_error(client.lookup([{"serial": "01"}]), 400, "bad_request")
    assert_error(client.send("POST", "/v1/lookup", [1, 2]), 400, "bad_request")


def iso_in(seconds):
    """ISO time now + seconds."""
    when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("offset,online,reason,status", [
    (90 * 86400 + 60, False, "not_due", "valid"),
    (90 * 86400 - 60, True, None, "valid"),
    (-90 * 86400 + 60, True, None, "expired"),
    (-90 * 86400 - 60, False, "offline_only", "expired"),
])
def test_windows(svc, client, offset, online, reason, status):
    key = svc.key()
    cert = svc.enroll(key, not_before=iso_in(-1800 * 86400), not_after=iso_in(offset))
    result = lookup_one(client, cert)
    assert (result["status"], result["renewal"]["online"], result["renewal"]["reason"]) == (status, online, reason)
    not_after = datetime.datetime.fromisoformat(result["not_after"].replace("Z", "+00:00"))
    start = datetime.datetime.fromisoformat(result["renewal"]["window_start"].replace("Z", "+00:00"))
    assert (not_after - start).days == 90
    resp = client.start(cert, key)
    if online:
        assert resp.status == 201
    else:
        assert_error(resp, 403, reason, retryable=False)
        if reason == "offline_only":
            assert "证书业务信息表" in resp.json["error"]["message_zh"]


def test_window_boundaries_inclusive(svc, client):
    """The window ends are included: shift the service clock onto them exactly."""
    key = svc.key()
    not_after = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1000)).replace(microsecond=0)
    cert = svc.enroll(key, not_before=iso_in(-800 * 86400),
                      not_after=not_after.strftime("%Y-%m-%dT%H:%M:%SZ"))
    now = time.time()
    for edge_days in (-90, 90):
        target = int(not_after.timestamp()) + edge_days * 86400
        # The service clock has whole seconds: start right after a second
        # boundary so that the lookup runs within the same second.
        while time.time() % 1 > 0.2:
            time.sleep(0.02)
        svc.faults({"clock_offset": target - int(time.time())})
        result = lookup_one(client, cert)
        assert result["renewal"]["online"] is True, (edge_days, result)
    svc.faults({"clock_offset": int(not_after.timestamp() + 91 * 86400 - now)})
    assert lookup_one(client, cert)["renewal"]["reason"] == "offline_only"
    svc.faults({"clock_offset": int(not_after.timestamp() - 91 * 86400 - now)})
    assert lookup_one(client, cert)["renewal"]["reason"] == "not_due"


# ---------------------------------------------------------------- full renewals

@pytest.mark.parametrize("kind", ["sm2", "ec-p256"])
def test_full_renewal_four_requests_one_connection(svc, kind):
    old_key, new_key = svc.key(kind), svc.key(kind)
    old_der = svc.enroll(old_key, 20)
    old = pki.Cert(old_der)
    before = len(svc.log_lines())
    client = svc.client()
    looked = client.lookup([{"certificate": b64(old_der)}])
    assert looked.json["results"][0]["renewal"]["online"]
    started = client.start(old_der, old_key)
    assert started.status == 201, started
    code = started.json["update_code"]
    assert CODE_RE.match(code)
    assert started.json["state"] == "started" and started.json["next_step"] == "csr"
    req = started.json["csr_requirements"]
    assert base64.b64decode(req["subject_der"]) == old.subject_der
    assert req["key_type"] == kind
    issued = client.csr(code, new_key.csr(), old_key)
    assert issued.status == 200, issued
    assert issued.json["state"] == "issued" and issued.json["next_step"] == "confirm"
    cert_der = base64.b64decode(issued.json["certificate"])
    confirmed = client.confirm(code, issued.json["certificate_sha256"], new_key)
    assert confirmed.status == 200 and confirmed.json["state"] == "confirmed"
    assert confirmed.json["next_step"] == "none"
    client.close()

    lines = svc.log_lines()[before:]
    assert len(lines) == 4, lines
    assert len({line.split()[1] for line in lines}) == 1, lines
    assert [line.split()[2:5] for line in lines] == [
        ["POST", "/v1/lookup", "200"], ["POST", "/v1/renewals", "201"],
        ["POST", "/v1/renewals/%s/csr" % code, "200"], ["POST", "/v1/renewals/%s/confirm" % code, "200"]]

    new = pki.Cert(cert_der)
    assert new.subject_der == old.subject_der
    assert new.spki == new_key.spki
    assert new.sha256 == issued.json["certificate_sha256"]
    # notAfter moves on by exactly 1826 days from the old certificate's end
    assert new.not_after - old.not_after == datetime.timedelta(days=1826)
    assert abs(new.not_before.timestamp() - (time.time() - 60)) < 120
    assert verify_chain(svc, cert_der, issued.json["chain"])
    assert len(issued.json["chain"]) == 2

    result = lookup_one(svc.client(), old_der)
    assert result["superseded_by"] == new.sha256
    assert result["renewal"] == dict(result["renewal"], online=False, reason="superseded")
    renewed = lookup_one(svc.client(), cert_der)
    assert renewed["found"] and renewed["gateway"] == "JSB0000" and renewed["status"] == "valid"


def test_issued_certificate_contents(svc, client):
    _, _, _, order = renew_to_issued(svc, client)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "c.pem")
        write_pem(path, base64.b64decode(order["certificate"]))
        text = openssl("x509", "-in", path, "-noout", "-text", "-nameopt", "RFC2253,-esc_msb").stdout.decode()
        subject = openssl("x509", "-in", path, "-noout", "-subject", "-nameopt", "RFC2253,-esc_msb").stdout.decode()
    assert subject.strip() == "subject=" + SUBJECT
    assert "SM2-with-SM3" in text
    assert "CA:FALSE" in text
    assert "Digital Signature, Non Repudiation" in text
    assert "X509v3 Subject Key Identifier" in text and "X509v3 Authority Key Identifier" in text
    # The chain does not verify without the SM2 ID (OpenSSL 3.0 has no default).
    with tempfile.TemporaryDirectory() as tmp:
        ca, leaf = os.path.join(tmp, "ca.pem"), os.path.join(tmp, "leaf.pem")
        write_pem(ca, base64.b64decode(order["chain"][0]))
        write_pem(leaf, base64.b64decode(order["certificate"]))
        assert openssl("verify", "-partial_chain", "-CAfile", ca, leaf, check=False).returncode != 0


def test_enroll_keeps_utf8_subject_and_order(svc):
    cert_der = svc.enroll(svc.key(), 100)
    cert = pki.Cert(cert_der)
    assert cert.subject == SUBJECT
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "c.pem")
        write_pem(path, cert_der)
        out = openssl("x509", "-in", path, "-noout", "-subject", "-nameopt", "RFC2253,-esc_msb").stdout.decode()
        assert out.strip() == "subject=" + SUBJECT
        asn1 = openssl("asn1parse", "-in", path).stdout.decode()
    assert asn1.count("UTF8STRING") >= 4 and "PRINTABLESTRING   :CN" in asn1
    assert verify_link(pki.Cert.from_file(os.path.join(svc.dir, "issuing-ca.pem")).der, cert_der)


def test_token_style_signatures_accepted(svc, client):
    """The client computes e = SM3(Z||M) (SM2) or SHA-256(M) (P-256); the key signs 32 bytes."""
    for kind in ("sm2", "ec-p256"):
        key = svc.key(kind)
        cert = svc.enroll(key, 30)
        challenge = client.get_challenge().json["next_challenge"]
        body = json.dumps({"certificate": b64(cert)}).encode()
        message = pop_message(challenge, "POST", "/v1/renewals", body)
        if kind == "sm2":
            signature = sm2_token_signature(key, message)
        else:
            signature = raw_sign(key, hashlib.sha256(message).digest())
        resp = client.send("POST", "/v1/renewals", raw=body,
                           headers={"Gmrenew-Challenge": challenge, "Gmrenew-Signature": b64(signature)})
        assert resp.status == 201, (kind, resp)


def test_documented_openssl_verify_commands(svc):
    """The commands of protocol section 5.5 verify a signature over M."""
    key = svc.key()
    message = pop_message("AAAA", "POST", "/v1/renewals/K7QF-3MZP-W9CD-HX2N/confirm",
                          b'{"certificate_sha256":"' + b"ab" * 32 + b'"}')
    assert message.endswith(b"\nvDZNffaY1bci1F8zGywHesWHjz7k8VO3uePbjnnrCIM=")
    with tempfile.TemporaryDirectory() as tmp:
        m, s = os.path.join(tmp, "m.bin"), os.path.join(tmp, "sig.der")
        with open(m, "wb") as handle:
            handle.write(message)
        with open(s, "wb") as handle:
            handle.write(sm2_token_signature(key, message))
        openssl("pkeyutl", "-verify", "-pubin", "-inkey", key.pub, "-rawin", "-digest", "sm3",
                "-pkeyopt", "distid:" + SM2_ID, "-in", m, "-sigfile", s)
        openssl("dgst", "-sm3", "-verify", key.pub, "-sigopt", "distid:" + SM2_ID, "-signature", s, m)
        # Without the ID, OpenSSL 3.0 uses an empty one: verification fails.
        assert openssl("pkeyutl", "-verify", "-pubin", "-inkey", key.pub, "-rawin", "-digest", "sm3",
                       "-in", m, "-sigfile", s, check=False).returncode != 0


# ---------------------------------------------------------------- start

def test_start_is_idempotent(svc, client):
    key = svc.key()
    cert = svc.enroll(key, 30)
    first = client.start(cert, key)
    second = client.start(cert, key)
    assert (first.status, second.status) == (201, 200)
    assert first.json["update_code"] == second.json["update_code"]
    result = lookup_one(client, cert)
    assert result["open_order"] == {"update_code": first.json["update_code"], "state": "started"}


def test_start_unknown_and_revoked(svc, client):
    key = svc.key()
    cert = svc.enroll(key, 30)
    with tempfile.TemporaryDirectory() as tmp:
        openssl("req", "-x509", "-new", "-key", key.path, "-subj", "/CN=x", "-sigopt", "distid:" + SM2_ID,
                "-outform", "DER", "-out", os.path.join(tmp, "c.der"))
        with open(os.path.join(tmp, "c.der"), "rb") as handle:
            unknown = handle.read()
    assert_error(client.start(unknown, key), 404, "unknown_certificate", retryable=False)
    tool("revoke", "--dir", svc.dir, "--sha256", pki.Cert(cert).sha256)
    assert lookup_one(client, cert)["status"] == "revoked"
    assert lookup_one(client, cert)["renewal"]["reason"] == "revoked"
    assert_error(client.start(cert, key), 403, "revoked", retryable=False)
    assert_error(client.start(b"junk", key), 400, "bad_request")


def test_start_after_confirm_is_superseded(svc, client):
    old_key, old, new_key, order = renew_to_issued(svc, client)
    assert client.confirm(order["update_code"], order["certificate_sha256"], new_key).status == 200
    resp = client.start(old, old_key)
    assert_error(resp, 409, "superseded", retryable=False)
    assert resp.json["error"]["update_code"] == order["update_code"]


# ---------------------------------------------------------------- PoP and challenges

def test_pop_wrong_key(svc, client):
    key, other = svc.key(), svc.key()
    cert = svc.enroll(key, 30)
    assert_error(client.start(cert, other), 403, "pop_invalid", retryable=False)
    p256 = svc.key("ec-p256")
    assert_error(client.start(cert, p256), 403, "pop_invalid")
    assert client.start(cert, key).status == 201


def test_pop_binds_body_path_and_challenge(svc, client):
    key = svc.key()
    cert = svc.enroll(key, 30)
    assert_error(client.start(cert, key, sign_body=b"{}"), 403, "pop_invalid")
    assert_error(client.start(cert, key, sign_path="/v1/renewals/"), 403, "pop_invalid")
    # signature over another challenge than the one presented
    current = client.get_challenge().json["next_challenge"]
    other = client.get_challenge().json["next_challenge"]
    body = json.dumps({"certificate": b64(cert)}).encode()
    sig = key.sign(pop_message(other, "POST", "/v1/renewals", body))
    resp = client.send("POST", "/v1/renewals", raw=body,
                       headers={"Gmrenew-Challenge": current, "Gmrenew-Signature": b64(sig)})
    assert_error(resp, 403, "pop_invalid")
    resp = client.send("POST", "/v1/renewals", raw=body,
                       headers={"Gmrenew-Challenge": client.challenge, "Gmrenew-Signature": "%%%"})
    assert_error(resp, 403, "pop_invalid")


def test_bad_challenge_cases_and_retry(svc, client):
    key = svc.key()
    cert = svc.enroll(key, 30)
    body = {"certificate": b64(cert)}
    resp = client.send("POST", "/v1/renewals", body)  # no PoP headers at all
    assert_error(resp, 401, "bad_challenge", retryable=True)
    assert_error(client.start(cert, key, challenge="A" * 43), 401, "bad_challenge")
    used = client.get_challenge().json["next_challenge"]
    assert_error(client.start(cert, key, challenge=used, sign_body=b"x"), 403, "pop_invalid")
    resp = client.start(cert, key, challenge=used)  # already consumed
    assert_error(resp, 401, "bad_challenge")
    retry = client.start(cert, key, challenge=resp.json["next_challenge"])
    assert retry.status == 201


def test_challenge_expires_after_five_minutes(svc, client):
    key = svc.key()
    cert = svc.enroll(key, 30)
    challenge = client.get_challenge().json["next_challenge"]
    svc.faults({"clock_offset": 301})
    resp = client.start(cert, key, challenge=challenge)
    assert_error(resp, 401, "bad_challenge")
    assert client.start(cert, key, challenge=resp.json["next_challenge"]).status == 201
    # a 299-second-old challenge still works
    svc.faults({})
    fresh = client.get_challenge().json["next_challenge"]
    svc.faults({"clock_offset": 299})
    assert client.start(cert, key, challenge=fresh).status == 200


def test_challenge_from_every_response_is_usable(svc, client):
    key = svc.key()
    cert = svc.enroll(key, 30)
    error = client.send("GET", "/v1/renewals/NOPE")
    assert_error(error, 404, "unknown_code")
    assert client.start(cert, key, challenge=error.json["next_challenge"]).status == 201


# ---------------------------------------------------------------- CSR rules

def test_csr_subject_mismatch(svc, client):
    key = svc.key()
    cert = svc.enroll(key, 30)
    code = client.start(cert, key).json["update_code"]
    other_subject = SUBJECT.replace("JSB0000", "JSB9999")
    resp = client.csr(code, svc.key().csr(subject=other_subject), key)
    assert_error(resp, 422, "subject_mismatch", retryable=False)
    assert resp.json["error"]["message_zh"] == MSG_ZH
    assert resp.json["error"]["message_en"] == MSG_EN
    reordered = ",".join(reversed(SUBJECT.split(",")))
    assert_error(client.csr(code, svc.key().csr(subject=reordered), key), 422, "subject_mismatch")


def test_csr_invalid_cases(svc, client):
    key = svc.key()
    cert = svc.enroll(key, 30)
    code = client.start(cert, key).json["update_code"]
    assert_error(client.csr(code, b"\x30\x03\x02\x01\x00", key), 400, "csr_invalid", retryable=False)
    assert_error(client.csr(code, svc.key("ec-p256").csr(), key), 400, "csr_invalid")
    assert_error(client.csr(code, svc.key().csr(distid=False), key), 400, "csr_invalid")
    assert_error(client.csr(code, key.csr(), key), 400, "csr_invalid")
    csr = bytearray(svc.key().csr())
    csr[-5] ^= 0x01
    assert_error(client.csr(code, bytes(csr), key), 400, "csr_invalid")
    assert_error(client.signed("/v1/renewals/%s/csr" % code, {"csr": "***"}, key), 400, "bad_request")
    assert client.status(code).json["state"] == "started"


def test_second_csr_before_issuance_replaces_first(svc, client):
    key = svc.key()
    cert = svc.enroll(key, 30)
    code = client.start(cert, key).json["update_code"]
    svc.faults({"faults": {"csr": [{"type": "issue_error", "count": 1}]}})
    first = svc.key()
    assert_error(client.csr(code, first.csr(), key), 500, "internal", retryable=True)
    state = client.status(code).json
    assert state["state"] == "csr_received" and state["next_step"] == "csr" and state["certificate"] is None
    second = svc.key()
    resp = client.csr(code, second.csr(), key)
    assert resp.status == 200
    assert pki.Cert(base64.b64decode(resp.json["certificate"])).spki == second.spki


def test_csr_same_key_after_issuance_returns_same_certificate(svc, client):
    old_key, _, new_key, order = renew_to_issued(svc, client)
    again = client.csr(order["update_code"], new_key.csr(), old_key)
    assert again.json["certificate"] == order["certificate"]
    by_new_key = client.csr(order["update_code"], new_key.csr(), new_key)
    assert by_new_key.json["certificate"] == order["certificate"]
    assert_error(client.csr(order["update_code"], new_key.csr(), svc.key()), 403, "pop_invalid")


def test_rekey_after_issuance_revokes_earlier_certificate(svc, client):
    old_key, _, _, order = renew_to_issued(svc, client)
    first = base64.b64decode(order["certificate"])
    third_key = svc.key()
    resp = client.csr(order["update_code"], third_key.csr(), old_key)
    assert resp.status == 200 and resp.json["update_code"] == order["update_code"]
    second = base64.b64decode(resp.json["certificate"])
    assert second != first and pki.Cert(second).spki == third_key.spki
    assert lookup_one(client, first)["status"] == "revoked"
    assert lookup_one(client, second)["status"] == "valid"
    assert_error(client.confirm(order["update_code"], order["certificate_sha256"], third_key), 409, "conflict")
    assert client.confirm(order["update_code"], resp.json["certificate_sha256"], third_key).status == 200


def test_rekey_refused_when_switched_off(svc, client):
    old_key, _, _, order = renew_to_issued(svc, client)
    tool("faults", "rekey", "off", "--dir", svc.dir)
    assert client.status(order["update_code"]).json["rekey_allowed"] is False
    resp = client.csr(order["update_code"], svc.key().csr(), old_key)
    assert_error(resp, 409, "conflict", retryable=False)
    tool("faults", "rekey", "on", "--dir", svc.dir)
    assert client.csr(order["update_code"], svc.key().csr(), old_key).status == 200


def test_csr_after_confirmation(svc, client):
    old_key, _, new_key, order = renew_to_issued(svc, client)
    code = order["update_code"]
    assert client.confirm(code, order["certificate_sha256"], new_key).status == 200
    same = client.csr(code, new_key.csr(), new_key)
    assert same.status == 200 and same.json["certificate"] == order["certificate"]
    assert same.json["state"] == "confirmed"
    assert_error(client.csr(code, svc.key().csr(), old_key), 409, "conflict")


# ---------------------------------------------------------------- confirm, cancel, status

def test_confirm_rules(svc, client):
    key = svc.key()
    cert = svc.enroll(key, 30)
    code = client.start(cert, key).json["update_code"]
    assert_error(client.confirm(code, "00" * 32, key), 409, "conflict")
    new_key = svc.key()
    order = client.csr(code, new_key.csr(), key).json
    assert_error(client.confirm(code, "11" * 32, new_key), 409, "conflict")
    assert_error(client.confirm(code, order["certificate_sha256"], svc.key()), 403, "pop_invalid")
    assert_error(client.confirm(code, "short", new_key), 400, "bad_request")
    first = client.confirm(code, order["certificate_sha256"], new_key)
    second = client.confirm(code, order["certificate_sha256"], key)  # old key is accepted too
    assert first.status == second.status == 200
    assert first.json["state"] == second.json["state"] == "confirmed"
    assert first.json["certificate"] == second.json["certificate"]


def test_cancel_rules(svc, client):
    old_key, _, new_key, order = renew_to_issued(svc, client)
    code = order["update_code"]
    cancelled = client.cancel(code, new_key)
    assert cancelled.status == 200 and cancelled.json["state"] == "cancelled"
    assert client.cancel(code, old_key).json["state"] == "cancelled"
    assert lookup_one(client, base64.b64decode(order["certificate"]))["status"] == "revoked"
    assert_error(client.csr(code, new_key.csr(), old_key), 409, "conflict")
    assert_error(client.confirm(code, order["certificate_sha256"], new_key), 409, "conflict")
    # cancel after confirm is a conflict
    _, _, key2, order2 = renew_to_issued(svc, client)
    client.confirm(order2["update_code"], order2["certificate_sha256"], key2)
    assert_error(client.cancel(order2["update_code"], key2), 409, "conflict")


def test_start_after_cancel_gives_new_code(svc, client):
    key = svc.key()
    cert = svc.enroll(key, 30)
    code = client.start(cert, key).json["update_code"]
    assert client.cancel(code, key).status == 200
    again = client.start(cert, key)
    assert again.status == 201 and again.json["update_code"] != code


def test_status_resume_with_code_only(svc, client):
    key = svc.key()
    cert = svc.enroll(key, 30)
    code = client.start(cert, key).json["update_code"]
    other = svc.client()
    assert other.status(code).json["state"] == "started"
    loose = code.replace("-", "").lower()
    assert other.status(loose).json["update_code"] == code
    new_key = svc.key()
    client.csr(code, new_key.csr(), key)
    state = other.status(code).json
    assert state["state"] == "issued" and state["certificate"] and len(state["chain"]) == 2
    assert verify_chain(svc, base64.b64decode(state["certificate"]), state["chain"])
    other.close()


def test_unknown_code(svc, client):
    key = svc.key()
    assert_error(client.status("2222-2222-2222-2222"), 404, "unknown_code", retryable=False)
    assert_error(client.status("0000-0000-0000-0000"), 404, "unknown_code")
    assert_error(client.csr("2222-2222-2222-2222", key.csr(), key), 404, "unknown_code")
    assert_error(client.confirm("2222-2222-2222-2222", "00" * 32, key), 404, "unknown_code")
    assert_error(client.cancel("2222-2222-2222-2222", key), 404, "unknown_code")


def test_order_expiry(svc, client):
    key = svc.key()
    cert = svc.enroll(key, 30)
    waiting = client.start(cert, key).json
    key2 = svc.key()
    cert2 = svc.enroll(key2, 30)
    code2 = client.start(cert2, key2).json["update_code"]
    new2 = svc.key()
    issued2 = client.csr(code2, new2.csr(), key2).json
    created = datetime.datetime.fromisoformat(waiting["created_at"].replace("Z", "+00:00"))
    expires = datetime.datetime.fromisoformat(waiting["expires_at"].replace("Z", "+00:00"))
    assert expires - created == datetime.timedelta(days=7)
    svc.faults({"clock_offset": 7 * 86400 + 10})
    assert client.status(waiting["update_code"]).json["state"] == "expired"
    assert_error(client.csr(waiting["update_code"], svc.key().csr(), key), 410, "code_expired", retryable=False)
    assert_error(client.cancel(waiting["update_code"], key), 410, "code_expired")
    assert_error(client.confirm(waiting["update_code"], "00" * 32, key), 410, "code_expired")
    again = client.start(cert, key)
    assert again.status == 201 and again.json["update_code"] != waiting["update_code"]
    # an expired order with an issued certificate can still be confirmed
    state = client.status(code2).json
    assert state["state"] == "expired" and state["certificate"] == issued2["certificate"]
    assert client.confirm(code2, issued2["certificate_sha256"], new2).json["state"] == "confirmed"


# ---------------------------------------------------------------- fault switches

def test_fault_http_error_busy_with_count(svc, client):
    tool("fault", "--dir", svc.dir, "--kind", "challenge", "--type", "http_error", "--status", "503",
         "--retry-after", "7", "--count", "2")
    for _ in range(2):
        resp = client.get_challenge()
        assert_error(resp, 503, "busy", retryable=True)
        assert resp.headers["Retry-After"] == "7"
        assert resp.json["error"]["retry_after"] == 7
    assert client.get_challenge().status == 200
    tool("fault", "--dir", svc.dir, "--kind", "lookup", "--type", "http_error", "--status", "500", "--count", "1")
    assert_error(client.lookup([{"sha256": "00" * 32}]), 500, "internal", retryable=True)
    assert client.lookup([{"sha256": "00" * 32}]).status == 200


def test_fault_http_error_leaves_state_unchanged(svc, client):
    key = svc.key()
    cert = svc.enroll(key, 30)
    svc.faults({"faults": {"start": [{"type": "http_error", "status": 503, "count": 1}]}})
    assert_error(client.start(cert, key), 503, "busy")
    assert lookup_one(client, cert)["open_order"] is None
    assert client.start(cert, key).status == 201


def test_fault_delay(svc, client):
    svc.faults({"faults": {"status": [{"type": "delay", "ms": 400, "count": 1}]}})
    began = time.monotonic()
    assert_error(client.status("2222-2222-2222-2222"), 404, "unknown_code")
    assert time.monotonic() - began >= 0.4
    began = time.monotonic()
    client.status("2222-2222-2222-2222")
    assert time.monotonic() - began < 0.4


def test_fault_drop_before_and_after(svc):
    key = svc.key()
    cert = svc.enroll(key, 30)
    client = svc.client()
    client.get_challenge()
    svc.faults({"faults": {"start": [{"type": "drop", "when": "before", "count": 1}]}})
    with pytest.raises((ConnectionError, http_client_errors())):
        client.start(cert, key)
    client.close()
    client = svc.client()
    assert lookup_one(client, cert)["open_order"] is None
    svc.faults({"faults": {"start": [{"type": "drop", "count": 1}]}})  # after processing
    with pytest.raises((ConnectionError, http_client_errors())):
        client.start(cert, key)
    client.close()
    client = svc.client()
    order = lookup_one(client, cert)["open_order"]
    assert order and order["state"] == "started"
    retry = client.start(cert, key)
    assert retry.status == 200 and retry.json["update_code"] == order["update_code"]
    assert any(" POST /v1/renewals drop " in line for line in svc.log_lines())
    client.close()


def http_client_errors():
    """Exceptions http.client raises for a connection closed without an answer."""
    import http.client
    return http.client.RemoteDisconnected


def test_fault_malformed_json(svc, client):
    tool("fault", "--dir", svc.dir, "--kind", "challenge", "--type", "malformed", "--count", "1")
    resp = client.get_challenge()
    assert resp.status == 200 and resp.json is None
    assert resp.headers["Gmrenew-Next-Challenge"]
    assert client.get_challenge().json is not None


def test_fault_oversized_body(svc):
    tool("fault", "--dir", svc.dir, "--kind", "lookup", "--type", "oversized", "--count", "1")
    client = svc.client()
    client.conn.request("POST", "/v1/lookup", body=json.dumps({"certificates": [{"sha256": "00" * 32}]}),
                        headers={"Content-Type": "application/json"})
    resp = client.conn.getresponse()
    assert int(resp.headers["Content-Length"]) == 10 * 1024 * 1024
    assert len(resp.read(300000)) == 300000  # more than the 256 KiB limit arrives
    client.close()
    fresh = svc.client()
    resp = fresh.lookup([{"sha256": "00" * 32}])
    assert resp.status == 200 and len(resp.raw) < 262144
    fresh.close()


def test_fault_skewed_date(svc, client):
    tool("fault", "--dir", svc.dir, "--kind", "challenge", "--type", "skew", "--seconds", "-7200", "--count", "1")
    resp = client.get_challenge()
    served = email.utils.parsedate_to_datetime(resp.headers["Date"]).timestamp()
    assert abs(served - (time.time() - 7200)) < 10
    served = email.utils.parsedate_to_datetime(client.get_challenge().headers["Date"]).timestamp()
    assert abs(served - time.time()) < 10


@pytest.mark.parametrize("fault", ["wrong_key", "wrong_subject", "wrong_issuer", "short_validity",
                                   "expired", "broken_chain"])
def test_fault_wrong_certificates(svc, client, fault):
    key = svc.key()
    cert = svc.enroll(key, 30)
    old = pki.Cert(cert)
    code = client.start(cert, key).json["update_code"]
    new_key = svc.key()
    svc.faults({"faults": {"csr": [{"type": fault, "count": 1}], "status": [{"type": fault, "count": 1}]}})
    for resp in (client.csr(code, new_key.csr(), key), client.status(code)):
        assert resp.status == 200
        got = pki.Cert(base64.b64decode(resp.json["certificate"]))
        assert got.sha256 == resp.json["certificate_sha256"]
        chain_ok = verify_chain(svc, got.der, resp.json["chain"]) if fault != "broken_chain" else False
        lifetime = got.not_after - got.not_before
        if fault == "wrong_key":
            assert got.spki != new_key.spki and chain_ok
        elif fault == "wrong_subject":
            assert got.subject_der != old.subject_der and got.spki == new_key.spki and chain_ok
        elif fault == "wrong_issuer":
            assert got.issuer_der == old.issuer_der and not chain_ok
        elif fault == "short_validity":
            assert lifetime < datetime.timedelta(days=5 * 365) and got.not_after.timestamp() < time.time() + 31 * 86400
        elif fault == "expired":
            assert got.not_after.timestamp() < time.time()
        else:
            assert base64.b64decode(resp.json["chain"][0]) != pki.Cert.from_file(
                os.path.join(svc.dir, "issuing-ca.pem")).der
            assert not verify_link(base64.b64decode(resp.json["chain"][0]), got.der)
    good = client.status(code).json
    good_cert = pki.Cert(base64.b64decode(good["certificate"]))
    assert good_cert.spki == new_key.spki and verify_chain(svc, good_cert.der, good["chain"])


def test_fault_count_and_cli_clear(svc, client):
    tool("fault", "--dir", svc.dir, "--kind", "status", "--type", "http_error", "--status", "503")
    for _ in range(3):
        assert client.status("2222-2222-2222-2222").status == 503
    shown = json.loads(tool("faults", "show", "--dir", svc.dir).stdout)
    assert shown["faults"]["status"][0]["type"] == "http_error"
    tool("faults", "clear", "--dir", svc.dir)
    assert client.status("2222-2222-2222-2222").status == 404
    bad = tool("fault", "--dir", svc.dir, "--kind", "nope", "--type", "drop", check=False)
    assert bad.returncode != 0


# ---------------------------------------------------------------- CLI and lifecycle

def test_show_lists_registry_and_orders(svc, client):
    key = svc.key()
    cert = svc.enroll(key, 30)
    code = client.start(cert, key).json["update_code"]
    shown = json.loads(tool("show", "--dir", svc.dir).stdout)
    assert any(c["sha256"] == pki.Cert(cert).sha256 and c["subject"] == SUBJECT for c in shown["certificates"])
    assert any(o["update_code"] == code and o["state"] == "started" for o in shown["orders"])


def test_requests_log_format(svc, client):
    client.get_challenge()
    last = svc.log_lines()[-1]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ conn=\d+ GET /v1/challenge 200 \d+ms", last), last


def test_serve_writes_port_and_stops_on_sigterm(svc):
    second = Service(svc.dir)
    second.start()
    with open(os.path.join(svc.dir, "port"), encoding="ascii") as handle:
        assert int(handle.read()) == second.port
    client = second.client()
    assert client.get_challenge().status == 200
    assert second.stop() == 0
    client.close()
    with open(os.path.join(svc.dir, "port"), "w", encoding="ascii") as handle:
        handle.write("%d\n" % svc.port)


def test_init_refuses_existing_directory(svc):
    assert tool("init", "--dir", svc.dir, check=False).returncode != 0
    for name in ("chain-ca.pem", "issuing-ca.pem", "tls-ca.pem", "registry.db"):
        assert os.path.exists(os.path.join(svc.dir, name))


def test_zz_no_unexpected_internal_errors(svc):
    """Runs last: the service never hit an unexpected exception."""
    assert "internal error" not in svc.stderr(), svc.stderr()
    assert "Traceback" not in svc.stderr(), svc.stderr()


def test_malformed_request_line_gets_json_error(svc):
    ctx = ssl.create_default_context(cafile=os.path.join(svc.dir, "tls-ca.pem"))
    with socket.create_connection(("127.0.0.1", svc.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(b"GARBAGE\r\n\r\n")
            data = b""
            while True:
                chunk = tls.recv(4096)
                if not chunk:
                    break
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.") and b" 400 " in head.split(b"\r\n")[0]
    assert b"Date:" in head
    assert json.loads(body)["error"]["code"] == "bad_request"


@pytest.mark.parametrize("fault", ["old_key", "other_key", "not_yet_valid", "long_validity",
                                   "untrusted_chain", "der_truncated", "der_trailing", "pem_text"])
def test_fault_hostile_certificates(svc, client, fault):
    key = svc.key()
    cert = svc.enroll(key, 30)
    old = pki.Cert(cert)
    code = client.start(cert, key).json["update_code"]
    new_key, other = svc.key(), svc.key()
    entry = {"type": fault, "count": 1}
    if fault == "other_key":
        entry["pubkey"] = other.pub
    svc.faults({"faults": {"csr": [entry]}})
    resp = client.csr(code, new_key.csr(), key)
    assert resp.status == 200
    data = base64.b64decode(resp.json["certificate"])
    assert hashlib.sha256(data).hexdigest() == resp.json["certificate_sha256"]
    if fault in ("der_truncated", "der_trailing", "pem_text"):
        with pytest.raises(pki.PKIError):
            pki.Cert(data)
        if fault == "der_trailing":
            assert pki.Cert(data[:len(data) - 15]).spki == new_key.spki
        return
    got = pki.Cert(data)
    chain = resp.json["chain"]
    if fault == "untrusted_chain":
        rogue = base64.b64decode(chain[0])
        assert len(chain) == 1 and verify_link(rogue, got.der)
        assert rogue != pki.Cert.from_file(os.path.join(svc.dir, "issuing-ca.pem")).der
        return
    # openssl verify checks the time too: not for the not-yet-valid one
    assert fault == "not_yet_valid" or verify_link(base64.b64decode(chain[0]), got.der)
    assert got.issuer_der == pki.Cert(base64.b64decode(chain[0])).subject_der
    if fault == "old_key":
        assert got.spki == old.spki
    elif fault == "other_key":
        assert got.spki == other.spki
    elif fault == "not_yet_valid":
        assert got.not_before.timestamp() > time.time() + 86400
    else:
        assert (got.not_after - old.not_after).days > 1826 + 100
    good = client.status(code).json
    assert pki.Cert(base64.b64decode(good["certificate"])).spki == new_key.spki
