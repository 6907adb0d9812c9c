"""Key management centre of the reference service: encryption key pairs,
encryption certificates and enveloped keys (protocol section 3.8).

The KMC makes the encryption key pair itself (it escrows the private key in
the registry) and delivers it as an enveloped key per GM/T 0016: a random
SM4 key encrypts the 32-byte private key in ECB mode; the SM4 key is
SM2-encrypted (GM/T 0003.4) to the new signing public key. Every SM2 and
SM4 operation runs the `openssl` command.

Which subjects get double certificates is configured in D/config.json:

    {"double_certificate_subjects": ["CN=...,OU=...,O=SSCCCA,C=CN"]}

(subjects as display strings, most specific RDN first, as `enroll --subject`
takes them).
"""

import base64
import json
import os
import secrets
import tempfile

import der
import pki

ENVELOPE_VERSION = 1
SYMMETRIC_ALGORITHM = "sm4-ecb"
KEY_BITS = 256
SM4_KEY_BYTES = 16
PRIVATE_KEY_BYTES = 32
# keyEncipherment, dataEncipherment, keyAgreement (RFC 5280 bit numbers)
ENCRYPTION_KEY_USAGE = (2, 3, 4)
CONFIG_FILE = "config.json"
CONFIG_SUBJECTS = "double_certificate_subjects"


def b64(data):
    """Standard base64 text."""
    return base64.b64encode(data).decode("ascii")


# ---------------------------------------------------------------- configuration

def read_config(directory):
    """D/config.json content ({} when absent or unreadable)."""
    try:
        with open(os.path.join(directory, CONFIG_FILE), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def is_double(directory, subject):
    """True when the subject (display string) is enrolled for double certificates."""
    subjects = read_config(directory).get(CONFIG_SUBJECTS) or []
    return isinstance(subjects, list) and subject in subjects


def add_double_subject(directory, subject):
    """Add a subject to D/config.json's double-certificate list."""
    data = read_config(directory)
    subjects = data.get(CONFIG_SUBJECTS)
    if not isinstance(subjects, list):
        subjects = []
    if subject not in subjects:
        subjects.append(subject)
    data[CONFIG_SUBJECTS] = subjects
    path = os.path.join(directory, CONFIG_FILE)
    tmp = path + ".tmp.%d" % os.getpid()
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1, ensure_ascii=False)
    os.replace(tmp, path)


# ---------------------------------------------------------------- primitives

def new_key_pair():
    """A new SM2 key pair: (private key PEM bytes, SubjectPublicKeyInfo DER)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "enc.key")
        pki.generate_key(pki.KEY_SM2, path)
        with open(path, "rb") as handle:
            pem = handle.read()
        return pem, pki.spki_of_private_key(path)


def private_scalar(key_pem):
    """The 32-byte private key d of an SM2 private key PEM."""
    data = pki.run_openssl(["pkey", "-outform", "DER"], key_pem)
    top = der.children(data)
    if top[1][0] != 0x04:  # PKCS#8 PrivateKeyInfo around the ECPrivateKey
        top = der.children(der.read_tlv(top[2])[1])
    _, d = der.read_tlv(top[1])  # ECPrivateKey: version 1, privateKey OCTET STRING
    if len(d) > PRIVATE_KEY_BYTES:
        raise pki.PKIError("SM2 private key longer than 32 bytes")
    return d.rjust(PRIVATE_KEY_BYTES, b"\0")


def sm2_encrypt(spki, data):
    """SM2 encryption (GM/T 0003.4) of data to the key in spki: C1 || C3 || C2."""
    with tempfile.TemporaryDirectory() as tmp:
        pub, msg = os.path.join(tmp, "pub.pem"), os.path.join(tmp, "m.bin")
        with open(pub, "w", encoding="ascii") as handle:
            handle.write(der.der_to_pem(spki, "PUBLIC KEY"))
        with open(msg, "wb") as handle:
            handle.write(data)
        cipher = pki.run_openssl(["pkeyutl", "-encrypt", "-pubin", "-inkey", pub, "-in", msg])
    # OpenSSL writes GM/T 0009's SM2Cipher: SEQUENCE { x, y, C3, C2 }
    x, y, c3, c2 = der.children(cipher)
    c1 = b"\x04" + _coordinate(x) + _coordinate(y)
    return c1 + der.read_tlv(c3)[1] + der.read_tlv(c2)[1]


def _coordinate(element):
    """A DER INTEGER coordinate as 32 big-endian bytes."""
    return der.decode_integer(element).to_bytes(32, "big")


def sm4_ecb_encrypt(key, data):
    """SM4-ECB without padding (len(data) a multiple of 16)."""
    return pki.run_openssl(["enc", "-sm4-ecb", "-nopad", "-K", key.hex()], data)


# ---------------------------------------------------------------- envelopes

def envelope(enc_key_pem, enc_spki, recipient_spki, recipient_sha256):
    """The protocol's enveloped_key object: enc_key_pem's private key for
    the holder of recipient_spki (the new signing key)."""
    sm4_key = secrets.token_bytes(SM4_KEY_BYTES)
    return {
        "version": ENVELOPE_VERSION,
        "symmetric_algorithm": SYMMETRIC_ALGORITHM,
        "bits": KEY_BITS,
        "recipient_certificate_sha256": recipient_sha256,
        "encrypted_symmetric_key": b64(sm2_encrypt(recipient_spki, sm4_key)),
        "encrypted_private_key": b64(sm4_ecb_encrypt(sm4_key, private_scalar(enc_key_pem))),
        "public_key": b64(pki.public_key_bits(enc_spki)),
    }


def issue_encryption_cert(issuer, subject_der, spki, not_before, not_after):
    """Encryption certificate DER: keyUsage for encipherment and key agreement."""
    return pki.issue(issuer, subject_der, spki, not_before, not_after,
                     key_usage=ENCRYPTION_KEY_USAGE)
