"""Fault switches for the encryption part of an answer (protocol 1.1,
section 3.8): a KMC that delivers the wrong thing. They apply to csr and
status answers whose order object carries an encryption part; the order
keeps the correct part, so only this answer is wrong.

    envelope_other_key   the SM4 key SM2-encrypted to another public key
                         ("pubkey" PEM file, else the service's spare key);
                         every other field, recipient_certificate_sha256
                         included, stays as it was
    envelope_corrupt     "part": cipher (default: one bit of C2 flipped, so
                         the SM2 decryption's C3 check fails), private_key
                         (one bit of encrypted_private_key flipped: the
                         envelope decrypts to another private key), length
                         (encrypted_private_key cut to 31 bytes),
                         algorithm (symmetric_algorithm "sm1-ecb")
    enc_cert_other_key   the encryption certificate re-issued (good issuer,
                         subject, key usage, validity) for another public
                         key, so it does not match the envelope's
    encryption_missing   "encryption": null although "double_certificate"
                         is true
"""

import base64
import hashlib
import os

import kmc
import pki

TYPES = ("envelope_other_key", "envelope_corrupt", "enc_cert_other_key", "encryption_missing")
PARTS = ("cipher", "private_key", "length", "algorithm")


def _flip(text, index):
    """base64 text with one bit of byte index flipped."""
    data = bytearray(base64.b64decode(text))
    data[index] ^= 0x01
    return kmc.b64(bytes(data))


def _other_spki(svc_dir, entry):
    """The public key the fault uses instead of the right one."""
    if entry.get("pubkey"):
        return pki.spki_of_public_key(entry["pubkey"])
    return pki.spki_of_private_key(os.path.join(svc_dir, "spare.key"))


def _corrupt(envelope, part):
    """The envelope with the named part broken."""
    if part == "private_key":
        return dict(envelope, encrypted_private_key=_flip(envelope["encrypted_private_key"], 5))
    if part == "length":
        data = base64.b64decode(envelope["encrypted_private_key"])
        return dict(envelope, encrypted_private_key=kmc.b64(data[:31]))
    if part == "algorithm":
        return dict(envelope, symmetric_algorithm="sm1-ecb")
    # C1 (65 bytes) || C3 (32) || C2: flip a bit of C2
    return dict(envelope, encrypted_symmetric_key=_flip(envelope["encrypted_symmetric_key"], 65 + 32 + 3))


def _other_key_envelope(svc, entry, envelope):
    """The envelope's SM4 key encrypted to another key (the private key part
    stays: it is encrypted with an SM4 key the recipient cannot recover)."""
    spki = _other_spki(svc.dir, entry)
    other_cipher = kmc.sm2_encrypt(spki, os.urandom(kmc.SM4_KEY_BYTES))
    return dict(envelope, encrypted_symmetric_key=kmc.b64(other_cipher))


def _other_key_cert(svc, entry, enc):
    good = pki.Cert(base64.b64decode(enc["certificate"]))
    spki = _other_spki(svc.dir, entry)
    bad = pki.Cert(kmc.issue_encryption_cert(svc.issuing, good.subject_der, spki,
                                             good.not_before, good.not_after))
    return dict(enc, certificate=kmc.b64(bad.der), certificate_sha256=hashlib.sha256(bad.der).hexdigest())


def apply_one(svc, entry, obj):
    """obj with one encryption fault applied."""
    kind, enc = entry["type"], obj.get("encryption")
    if kind == "encryption_missing":
        return dict(obj, encryption=None)
    if not enc:
        return obj
    if kind == "envelope_other_key":
        enc = dict(enc, enveloped_key=_other_key_envelope(svc, entry, enc["enveloped_key"]))
    elif kind == "envelope_corrupt":
        enc = dict(enc, enveloped_key=_corrupt(enc["enveloped_key"], entry.get("part", "cipher")))
    elif kind == "enc_cert_other_key":
        enc = _other_key_cert(svc, entry, enc)
    return dict(obj, encryption=enc)


def apply(svc, kind, entries, obj):
    """The answer with every encryption fault of this request applied."""
    if kind not in ("csr", "status") or "encryption" not in obj:
        return obj
    for entry in entries:
        if entry.get("type") in TYPES:
            obj = apply_one(svc, entry, obj)
    return obj
