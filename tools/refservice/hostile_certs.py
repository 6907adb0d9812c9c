"""More deliberately wrong certificates for the fault switches (csr/status
answers): the hostile-service suite (tests/hostile) uses them.

Each type replaces the answer's certificate (and, for untrusted_chain, its
chain); certificate_sha256 always names the bytes sent, so a client has to
find the fault in the certificate itself, not in a fingerprint mismatch.
"""

import base64
import datetime
import hashlib

import pki

TYPES = ("old_key", "other_key", "not_yet_valid", "long_validity", "untrusted_chain",
         "der_truncated", "der_trailing", "pem_text")


def _b64(data):
    return base64.b64encode(data).decode("ascii")


def _with_bytes(obj, data):
    return dict(obj, certificate=_b64(data), certificate_sha256=hashlib.sha256(data).hexdigest())


def _old_spki(svc, obj):
    row = svc.cert_row(obj["old_certificate_sha256"])
    return pki.Cert(row["der"]).spki


def apply(bad, entry, obj):
    """obj with its certificate replaced as entry["type"] says; bad is the
    server's BadCerts (the service, the rogue CA)."""
    kind = entry["type"]
    svc = bad.svc
    good = pki.Cert(base64.b64decode(obj["certificate"]))
    if kind == "der_truncated":
        return _with_bytes(obj, good.der[:len(good.der) // 2])
    if kind == "der_trailing":
        return _with_bytes(obj, good.der + b"\x00\x00trailing junk")
    if kind == "pem_text":
        text = base64.encodebytes(good.der).decode("ascii")
        broken = "-----BEGIN CERTIFICATE-----\n" + text[:len(text) // 2] + "@@@\n"
        return _with_bytes(obj, broken.encode("ascii"))
    issuer, spki = svc.issuing, good.spki
    not_before, not_after = good.not_before, good.not_after
    chain = obj.get("chain")
    if kind == "old_key":
        spki = _old_spki(svc, obj)
    elif kind == "other_key":
        spki = pki.spki_of_public_key(entry["pubkey"])
    elif kind == "not_yet_valid":
        not_before = svc.now() + datetime.timedelta(days=2)
    elif kind == "long_validity":
        not_after = good.not_after + datetime.timedelta(days=200)
    elif kind == "untrusted_chain":
        issuer = bad.rogue
        chain = [_b64(bad.rogue.cert.der)]
    cert = pki.Cert(pki.issue(issuer, good.subject_der, spki, not_before, not_after))
    return dict(_with_bytes(obj, cert.der), chain=chain,
                not_after=cert.not_after.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
