"""Keys, certificates, CSRs and signatures for the reference service.

All cryptographic operations run the `openssl` command (OpenSSL 3.0); this
module only assembles and reads DER structures.
"""

import datetime
import hashlib
import os
import secrets
import subprocess
import tempfile

import der

SM2_ID = "1234567812345678"
OPENSSL = os.environ.get("GMRENEW_OPENSSL", "openssl")

KEY_SM2 = "sm2"
KEY_P256 = "ec-p256"


class PKIError(Exception):
    """An openssl command failed or its input was unusable."""


def run_openssl(args, data=None):
    """Run openssl with args; return stdout bytes or raise PKIError."""
    proc = subprocess.run([OPENSSL] + args, input=data, capture_output=True, check=False)
    if proc.returncode != 0:
        raise PKIError("openssl %s: %s" % (args[0], proc.stderr.decode(errors="replace").strip()))
    return proc.stdout


# ---------------------------------------------------------------- keys

def generate_key(kind, path):
    """Write a new private key of the given kind (sm2 / ec-p256) to path."""
    if kind == KEY_SM2:
        run_openssl(["genpkey", "-algorithm", "SM2", "-out", path])
    elif kind == KEY_P256:
        run_openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                     "-pkeyopt", "ec_param_enc:named_curve", "-out", path])
    else:
        raise PKIError("unsupported key kind %r" % kind)
    os.chmod(path, 0o600)


def spki_of_private_key(path):
    """SubjectPublicKeyInfo DER of a private key file."""
    return run_openssl(["pkey", "-in", path, "-pubout", "-outform", "DER"])


def spki_of_public_key(path):
    """SubjectPublicKeyInfo DER of a public key file (PEM or DER)."""
    with open(path, "rb") as handle:
        data = handle.read()
    form = "PEM" if b"-----BEGIN" in data else "DER"
    return run_openssl(["pkey", "-pubin", "-inform", form, "-pubout", "-outform", "DER"], data)


def key_type(spki):
    """sm2 / ec-p256 for a SubjectPublicKeyInfo, None for anything else."""
    try:
        alg = der.children(der.children(spki)[0])
        if der.decode_oid(alg[0]) != der.OID_EC_PUBLIC_KEY or len(alg) < 2:
            return None
        curve = der.decode_oid(alg[1])
    except (der.DERError, ValueError, IndexError):
        return None
    return {der.OID_CURVE_SM2: KEY_SM2, der.OID_CURVE_P256: KEY_P256}.get(curve)


def public_key_bits(spki):
    """The subjectPublicKey bits (the EC point) of a SubjectPublicKeyInfo."""
    _, content = der.read_tlv(der.children(spki)[1])
    return content[1:]


def key_id(spki):
    """Key identifier: SHA-1 of the subjectPublicKey bits (RFC 5280 method 1)."""
    return hashlib.sha1(public_key_bits(spki)).digest()


# ---------------------------------------------------------------- signatures

def sign(key_path, kind, message):
    """Signature (DER) of message: SM2-with-SM3 + ID, or ECDSA-SHA256."""
    with tempfile.TemporaryDirectory() as tmp:
        msg = os.path.join(tmp, "m.bin")
        with open(msg, "wb") as handle:
            handle.write(message)
        if kind == KEY_SM2:
            return run_openssl(["pkeyutl", "-sign", "-inkey", key_path, "-rawin", "-digest", "sm3",
                                "-pkeyopt", "distid:" + SM2_ID, "-in", msg])
        return run_openssl(["dgst", "-sha256", "-sign", key_path, msg])


def verify(spki, message, signature):
    """True when signature (DER) over message verifies with the key in spki."""
    kind = key_type(spki)
    if kind is None:
        return False
    with tempfile.TemporaryDirectory() as tmp:
        pub, msg, sig = (os.path.join(tmp, n) for n in ("pub.pem", "m.bin", "s.der"))
        for path, data in ((pub, der.der_to_pem(spki, "PUBLIC KEY").encode()),
                           (msg, message), (sig, signature)):
            with open(path, "wb") as handle:
                handle.write(data)
        if kind == KEY_SM2:
            args = ["pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-digest", "sm3",
                    "-pkeyopt", "distid:" + SM2_ID, "-in", msg, "-sigfile", sig]
        else:
            args = ["dgst", "-sha256", "-verify", pub, "-signature", sig, msg]
        try:
            run_openssl(args)
        except PKIError:
            return False
        return True


# ---------------------------------------------------------------- certificates

class Cert:
    """The fields of an X.509 certificate the service uses."""

    def __init__(self, data):
        try:
            top = der.children(data)
            self.tbs = top[0]
            fields = der.children(self.tbs)
            if fields[0][0] == 0xA0:
                fields = fields[1:]
            self.serial = der.decode_integer(fields[0])
            self.issuer_der = fields[2]
            not_before, not_after = der.children(fields[3])
            self.not_before = der.decode_time(not_before)
            self.not_after = der.decode_time(not_after)
            self.subject_der = fields[4]
            self.spki = fields[5]
            der.children(self.spki)
            self.subject = der.name_to_text(self.subject_der)
            self.issuer = der.name_to_text(self.issuer_der)
        except (der.DERError, ValueError, IndexError, UnicodeDecodeError) as exc:
            raise PKIError("not a certificate: %s" % exc) from exc
        self.der = bytes(data)
        self.sha256 = hashlib.sha256(self.der).hexdigest()

    @property
    def serial_hex(self):
        """Serial in the protocol's form: lowercase hex, no leading zeros."""
        return format(self.serial, "x")

    @classmethod
    def from_file(cls, path):
        """Load a PEM or DER certificate file."""
        with open(path, "rb") as handle:
            data = handle.read()
        if b"-----BEGIN" in data:
            data = der.pem_to_der(data.decode("ascii"))
        return cls(data)


class Issuer:
    """A CA able to sign certificates: its key file, key kind and certificate."""

    def __init__(self, key_path, cert):
        self.key_path = key_path
        self.cert = cert
        self.kind = key_type(cert.spki)


def _extension(dotted, value, critical=False):
    """Extension DER."""
    parts = [der.oid(dotted)]
    if critical:
        parts.append(der.boolean(True))
    parts.append(der.octet_string(value))
    return der.seq(*parts)


def _key_usage(bits):
    """keyUsage BIT STRING value from bit numbers (0 = digitalSignature)."""
    value = 0
    for bit in bits:
        value |= 1 << (15 - bit)
    raw = value.to_bytes(2, "big")
    if raw[1] == 0:
        raw = raw[:1]
    last = raw[-1]
    unused = (last & -last).bit_length() - 1
    return der.bit_string(raw, unused)


KU_DIGITAL_SIGNATURE, KU_NON_REPUDIATION, KU_KEY_ENCIPHERMENT = 0, 1, 2
KU_KEY_CERT_SIGN, KU_CRL_SIGN = 5, 6


def build_extensions(spki, issuer_spki, ca=False, pathlen=None, key_usage=None,
                     dns_names=(), ip_addresses=(), server_auth=False):
    """The [3] extensions block for a certificate."""
    if ca:
        bc = [der.boolean(True)] + ([der.integer(pathlen)] if pathlen is not None else [])
        usage = key_usage or (KU_KEY_CERT_SIGN, KU_CRL_SIGN)
    else:
        bc = []
        usage = key_usage or (KU_DIGITAL_SIGNATURE, KU_NON_REPUDIATION)
    exts = [
        _extension("2.5.29.19", der.seq(*bc), critical=True),
        _extension("2.5.29.15", _key_usage(usage), critical=True),
        _extension("2.5.29.14", der.octet_string(key_id(spki))),
        _extension("2.5.29.35", der.seq(der.tlv(0x80, key_id(issuer_spki)))),
    ]
    if dns_names or ip_addresses:
        names = [der.tlv(0x82, n.encode()) for n in dns_names]
        names += [der.tlv(0x87, bytes(int(p) for p in ip.split("."))) for ip in ip_addresses]
        exts.append(_extension("2.5.29.17", der.seq(*names)))
    if server_auth:
        exts.append(_extension("2.5.29.37", der.seq(der.oid("1.3.6.1.5.5.7.3.1"))))
    return der.explicit(3, der.seq(*exts))


def random_serial():
    """A positive 16-byte serial number."""
    return int.from_bytes(secrets.token_bytes(16), "big") >> 1 | (1 << 120)


def issue(issuer, subject_der, spki, not_before, not_after, serial=None, issuer_name_der=None,
          **ext_options):
    """Build and sign a certificate; return its DER.

    issuer: an Issuer, or None for a self-signed certificate (then ext_options
    must hold 'self_key' = (key_path, kind))."""
    self_key = ext_options.pop("self_key", None)
    if issuer is None:
        key_path, kind = self_key
        issuer_spki, name = spki, subject_der
    else:
        key_path, kind = issuer.key_path, issuer.kind
        issuer_spki, name = issuer.cert.spki, issuer.cert.subject_der
    if issuer_name_der is not None:
        name = issuer_name_der
    sig_oid = der.OID_SM2_WITH_SM3 if kind == KEY_SM2 else der.OID_ECDSA_SHA256
    tbs = der.seq(
        der.explicit(0, der.integer(2)),
        der.integer(serial if serial is not None else random_serial()),
        der.algorithm(sig_oid),
        name,
        der.seq(der.time_value(not_before), der.time_value(not_after)),
        subject_der,
        spki,
        build_extensions(spki, issuer_spki, **ext_options),
    )
    signature = sign(key_path, kind, tbs)
    return der.seq(tbs, der.algorithm(sig_oid), der.bit_string(signature))


# ---------------------------------------------------------------- CSRs

class CSR:
    """A parsed PKCS#10 request: subject Name DER and SubjectPublicKeyInfo."""

    def __init__(self, data):
        try:
            info = der.children(der.children(data)[0])
            self.subject_der = info[1]
            self.spki = info[2]
            der.children(self.spki)
        except (der.DERError, ValueError, IndexError) as exc:
            raise PKIError("not a PKCS#10 request: %s" % exc) from exc
        self.der = bytes(data)
        self.kind = key_type(self.spki)

    def self_signature_ok(self):
        """True when the CSR's self-signature verifies (SM2 with the default ID)."""
        args = [OPENSSL, "req", "-inform", "DER", "-verify", "-noout"]
        if self.kind == KEY_SM2:
            args += ["-vfyopt", "distid:" + SM2_ID]
        # OpenSSL 3.0 `req -verify` exits 0 even when the signature is bad:
        # the verdict is only in its message.
        proc = subprocess.run(args, input=self.der, capture_output=True, check=False)
        verdict = proc.stderr + proc.stdout
        return proc.returncode == 0 and b"verify OK" in verdict and b"failure" not in verdict


def utcnow():
    """Current time, UTC, whole seconds."""
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
