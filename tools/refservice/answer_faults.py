"""Fault switches that rewrite a protocol answer's order object.

They let a test play a service that lies about the renewal: a made-up
update code, a `confirmed` state naming the wrong certificate, an
`old_certificate_sha256` that names another certificate, a certificate for
a key the caller chooses. Each type applies to answers of the kinds it is
set for (start, status, csr, confirm) that carry an order object.

    fake_code       update_code replaced by a code the service never issued
    confirmed_old   state "confirmed", certificate = the old certificate
    old_fp_new      old_certificate_sha256 = the issued certificate (or,
                    before issuance, another registered certificate)
    old_fp_other    old_certificate_sha256 = 64 random hex digits
    cert_for_key    the certificate re-issued (good issuer, subject and
                    validity) for the public key in the PEM file "pubkey"
"""

import secrets

import pki
import service

TYPES = ("fake_code", "confirmed_old", "old_fp_new", "old_fp_other", "cert_for_key")


def _old_cert(svc, obj):
    row = svc.cert_row(obj["old_certificate_sha256"])
    return pki.Cert(row["der"]) if row else None


def _other_registered(svc, sha):
    row = svc.db.execute("SELECT sha256 FROM certs WHERE sha256<>? LIMIT 1", (sha,)).fetchone()
    return row["sha256"] if row else secrets.token_hex(32)


def _with_cert(svc, obj, cert):
    return dict(obj, certificate=service.b64(cert.der), certificate_sha256=cert.sha256,
                chain=[service.b64(svc.issuing.cert.der), service.b64(svc.root.der)],
                not_after=service.iso(cert.not_after))


def apply_one(svc, ftype, entry, obj):
    """obj with one rewrite applied."""
    if ftype == "fake_code":
        return dict(obj, update_code=service.new_update_code())
    if ftype == "confirmed_old":
        old = _old_cert(svc, obj)
        return dict(_with_cert(svc, obj, old), state="confirmed", next_step="none") if old else obj
    if ftype == "old_fp_new":
        fake = obj.get("certificate_sha256") or _other_registered(svc, obj["old_certificate_sha256"])
        return dict(obj, old_certificate_sha256=fake)
    if ftype == "old_fp_other":
        return dict(obj, old_certificate_sha256=secrets.token_hex(32))
    if ftype == "cert_for_key" and obj.get("certificate"):
        good = pki.Cert(service.unb64(obj["certificate"], "certificate"))
        spki = pki.spki_of_public_key(entry["pubkey"])
        bad = pki.Cert(pki.issue(svc.issuing, good.subject_der, spki, good.not_before, good.not_after))
        return _with_cert(svc, obj, bad)
    return obj


def apply(svc, kind, entries, obj):
    """The answer with every answer fault of this request applied."""
    if kind not in ("start", "status", "csr", "confirm") or "update_code" not in obj:
        return obj
    for entry in entries:
        if entry.get("type") in TYPES:
            obj = apply_one(svc, entry["type"], entry, obj)
    return obj
