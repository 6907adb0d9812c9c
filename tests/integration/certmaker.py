"""Certificates for the integration tests, made with the openssl command.

A Maker owns a work directory. It makes keys (SM2, P-256, RSA), self-signed
roots with `openssl req -x509`, and issues intermediates and leaves with
`openssl ca`, which takes any notBefore/notAfter (expired and not yet valid
certificates too). SM2 signatures are SM3withSM2 with the default ID
1234567812345678 (`-sigopt distid:` to sign, `-vfyopt distid:` to check a
request), as the CA does.

Subjects are written the way the CA's page prints them, most specific RDN
first ("CN=JSB0000@IST@30,OU=...,O=SSCCCA,C=CN"); openssl's -subj takes the
DER order (/C=CN/O=.../CN=...), so they are reversed here. Values are
UTF-8 (-utf8): Chinese OUs are stored as UTF8String.
"""
import datetime
import os
import pathlib
import secrets
import shutil

import gmtest

SM2_ID = "1234567812345678"
KINDS = ("sm2", "p256", "rsa")


def _openssl():
    path = shutil.which("openssl")
    if not path:
        raise RuntimeError("the test needs the 'openssl' command, which is "
                           "not installed")
    return path


def openssl(*args):
    return gmtest.run([_openssl()] + list(args)).stdout


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def asn1_time(t):
    """datetime (aware, or naive UTC) -> YYYYMMDDHHMMSSZ for openssl ca."""
    if t.tzinfo is not None:
        t = t.astimezone(datetime.timezone.utc)
    return t.strftime("%Y%m%d%H%M%SZ")


def rfc3339(t):
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def split_dn(dn):
    """'CN=a,OU=b\\,c,C=CN' -> [('CN','a'), ('OU','b,c'), ('C','CN')]."""
    parts, cur, i = [], "", 0
    while i < len(dn):
        ch = dn[i]
        if ch == "\\" and i + 1 < len(dn):
            cur += dn[i + 1]
            i += 2
            continue
        if ch == ",":
            parts.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    parts.append(cur)
    out = []
    for p in parts:
        k, _, v = p.partition("=")
        out.append((k.strip(), v))
    return out


def subj_arg(dn):
    """RFC 4514 order (most specific first) -> openssl -subj (DER order)."""
    def esc(v):
        return v.replace("\\", "\\\\").replace("/", "\\/").replace("+", "\\+")
    return "".join("/%s=%s" % (k, esc(v)) for k, v in reversed(split_dn(dn)))


def sign_args(kind):
    """Digest and options for a signature made with a key of this kind."""
    if kind == "sm2":
        return ["-sm3", "-sigopt", "distid:" + SM2_ID]
    return ["-sha256"]


class Cert:
    """A certificate made here: files and what it was made with."""

    def __init__(self, maker, name, subject, kind, key, pem, issuer=None):
        self.maker = maker
        self.name = name
        self.subject = subject
        self.kind = kind
        self.key = key          # private key PEM
        self.pem = pem          # certificate PEM
        self.issuer = issuer    # the Cert that signed it (None: self-signed)
        self.db = None          # openssl ca state when it issues

    # facts read back with openssl, independently of gmrenew
    def der(self):
        out = pathlib.Path(str(self.pem) + ".der")
        if not out.exists():
            openssl("x509", "-in", self.pem, "-outform", "DER", "-out", out)
        return out

    def sha256(self):
        line = openssl("x509", "-in", self.pem, "-noout", "-fingerprint",
                       "-sha256").strip()
        return line.split("=", 1)[1].replace(":", "").lower()

    def serial(self):
        line = openssl("x509", "-in", self.pem, "-noout", "-serial").strip()
        return line.split("=", 1)[1].lower()

    def subject_line(self):
        line = openssl("x509", "-in", self.pem, "-noout", "-subject",
                       "-nameopt", "RFC2253,-esc_msb").strip()
        return line.split("=", 1)[1]

    def issuer_line(self):
        line = openssl("x509", "-in", self.pem, "-noout", "-issuer",
                       "-nameopt", "RFC2253,-esc_msb").strip()
        return line.split("=", 1)[1]

    def dates(self):
        """(notBefore, notAfter) as aware datetimes."""
        out = openssl("x509", "-in", self.pem, "-noout", "-startdate",
                      "-enddate", "-dateopt", "iso_8601")
        vals = {}
        for line in out.splitlines():
            k, _, v = line.partition("=")
            vals[k] = datetime.datetime.strptime(
                v.strip(), "%Y-%m-%d %H:%M:%SZ").replace(
                    tzinfo=datetime.timezone.utc)
        return vals["notBefore"], vals["notAfter"]

    def pubkey_pem(self):
        out = pathlib.Path(str(self.pem) + ".pub.pem")
        if not out.exists():
            openssl("x509", "-in", self.pem, "-noout", "-pubkey", "-out", out)
        return out

    def chain_pem(self, name=None):
        """This certificate followed by its issuers up to the root (not
        included)."""
        out = self.maker.dir / (name or (self.name + "-chain.pem"))
        text, c = "", self
        while c is not None and c.issuer is not None:
            text += pathlib.Path(c.pem).read_text()
            c = c.issuer
        out.write_text(text)
        return out


class Maker:
    def __init__(self, workdir):
        self.dir = pathlib.Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)

    def key(self, name, kind="sm2"):
        path = self.dir / (name + ".key")
        if kind == "sm2":
            openssl("genpkey", "-algorithm", "SM2", "-out", path)
        elif kind == "p256":
            openssl("genpkey", "-algorithm", "EC", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-pkeyopt",
                    "ec_param_enc:named_curve", "-out", path)
        elif kind == "rsa":
            openssl("genpkey", "-algorithm", "RSA", "-pkeyopt",
                    "rsa_keygen_bits:2048", "-out", path)
        else:
            raise ValueError("unknown key kind %r" % kind)
        return path

    def root(self, name, subject, kind="sm2", days=3650):
        key = self.key(name, kind)
        pem = self.dir / (name + ".pem")
        openssl("req", "-x509", "-new", "-key", key, *sign_args(kind),
                "-utf8", "-subj", subj_arg(subject), "-days", days,
                "-set_serial", "0x" + secrets.token_hex(8),
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                "-addext", "subjectKeyIdentifier=hash",
                "-out", pem)
        return Cert(self, name, subject, kind, key, pem)

    def _ca_config(self, issuer):
        if issuer.db is None:
            db = self.dir / (issuer.name + ".db")
            (db / "new").mkdir(parents=True, exist_ok=True)
            (db / "index.txt").write_text("")
            conf = db / "ca.cnf"
            conf.write_text(
                "[ca]\ndefault_ca = here\n\n[here]\n"
                "dir = %s\ndatabase = $dir/index.txt\n"
                "new_certs_dir = $dir/new\nserial = $dir/serial\n"
                "policy = anything\nunique_subject = no\n"
                "email_in_dn = no\ncopy_extensions = none\n\n"
                "[anything]\ncommonName = optional\n\n"
                "[ext_ca]\nbasicConstraints = critical,CA:TRUE\n"
                "keyUsage = critical,keyCertSign,cRLSign\n"
                "subjectKeyIdentifier = hash\n"
                "authorityKeyIdentifier = keyid\n\n"
                "[ext_leaf]\nbasicConstraints = critical,CA:FALSE\n"
                "keyUsage = critical,digitalSignature,nonRepudiation\n"
                "subjectKeyIdentifier = hash\n"
                "authorityKeyIdentifier = keyid\n" % db)
            issuer.db = db
        return issuer.db

    def issue(self, issuer, name, subject, kind="sm2", key=None, ca=False,
              not_before=None, not_after=None, days=365, serial=None,
              distid=SM2_ID):
        """Issues a certificate signed by issuer. Validity: not_before /
        not_after (datetimes), else now - 1 hour to now + days + 1 hour
        (so that days_left reads `days` for an hour). serial:
        hex digits (default: 8 random bytes, first byte below 0x80).
        distid: the SM2 ID the issuer signs with (tests of a wrong ID)."""
        key = pathlib.Path(key) if key else self.key(name, kind)
        csr = self.dir / (name + ".csr")
        pem = self.dir / (name + ".pem")
        openssl("req", "-new", "-key", key, *sign_args(kind), "-utf8",
                "-subj", subj_arg(subject), "-out", csr)
        db = self._ca_config(issuer)
        if serial is None:
            serial = "%02x" % (secrets.randbelow(0x7f) + 1) + \
                secrets.token_hex(7)
        (db / "serial").write_text(serial + "\n")
        now = utcnow()
        nb = not_before or now - datetime.timedelta(hours=1)
        na = not_after or now + datetime.timedelta(days=days, hours=1)
        args = ["ca", "-batch", "-config", db / "ca.cnf", "-in", csr,
                "-cert", issuer.pem, "-keyfile", issuer.key,
                "-startdate", asn1_time(nb), "-enddate", asn1_time(na),
                "-preserveDN", "-utf8", "-notext",
                "-extensions", "ext_ca" if ca else "ext_leaf", "-out", pem]
        if issuer.kind == "sm2":
            args += ["-md", "sm3", "-sigopt", "distid:" + distid]
        else:
            args += ["-md", "sha256"]
        if kind == "sm2":
            args += ["-vfyopt", "distid:" + SM2_ID]
        openssl(*args)
        return Cert(self, name, subject, kind, key, pem, issuer=issuer)

    def chain(self, prefix, levels, leaf_subject, leaf_kind="sm2",
              **leaf_kw):
        """An SM2 root, levels-2 intermediates, and a leaf. Returns
        (root, [intermediates], leaf)."""
        if levels < 2:
            raise ValueError("a chain has at least a root and a leaf")
        root = self.root(prefix + "-root",
                         "CN=%s Test Root CA,O=SSCCCA,C=CN" % prefix)
        inters, parent = [], root
        for i in range(levels - 2):
            parent = self.issue(parent, "%s-int%d" % (prefix, i + 1),
                                "CN=%s Test Issuing CA %d,O=SSCCCA,C=CN" %
                                (prefix, i + 1), ca=True, days=3000)
            inters.append(parent)
        leaf = self.issue(parent, prefix + "-leaf", leaf_subject,
                          kind=leaf_kind, **leaf_kw)
        return root, inters, leaf

    def garbage(self, name, data=b"\x30\x82\x01\x00not a certificate"):
        path = self.dir / name
        path.write_bytes(data)
        return path


def bundle(path, *certs):
    """Concatenates certificates into one PEM file."""
    path = pathlib.Path(path)
    path.write_text("".join(pathlib.Path(c.pem).read_text() for c in certs))
    return path


if __name__ == "__main__":      # a quick look: python3 certmaker.py DIR
    import sys
    m = Maker(sys.argv[1] if len(sys.argv) > 1 else os.getcwd())
    r, i, leaf = m.chain("demo", 3,
                         "CN=JSB0000@IST@30,OU=深证通CCNET证书测试,OU=CCNET,"
                         "O=SSCCCA,C=CN")
    print(leaf.pem, leaf.subject_line(), leaf.sha256(), leaf.serial())
