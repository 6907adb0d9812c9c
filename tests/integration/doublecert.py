"""Double certificates (签名证书 + 加密证书) on the soft ePass3000GM: a
subject enrolled for double certificates at the reference service (its
KMC makes the encryption pair), its old container holding both pairs, and
checks of what the token holds that use only the soft token's own tool,
pkcs11-tool, openssl and the token's SKF functions called from outside
gmrenew (ctypes in a child process)."""
import json
import os
import pathlib
import subprocess

import gmtest
from gmtest import PY, openssl, run


def containers(token):
    """{container: [(kind, id)]} from the soft token's own listing."""
    out = {}
    for line in token.listing().splitlines():
        f = line.split("\t")
        name = f[4][len("container="):]
        out.setdefault(name, []).append((f[1], f[2][len("id="):]))
    return out


def enroll_double(service, token, root, key_id="01", days_left=30):
    """The signing pair generated on the token, the certificate and the
    KMC's encryption pair from the service, all in one container. Returns
    (signing certificate PEM, encryption certificate PEM, container)."""
    root = pathlib.Path(root)
    pub, cert = root / "pub.pem", root / "cert.pem"
    enc, enc_key = root / "enc.pem", root / "enc.key"
    token.gen_key(0, key_id, "JSB0000", pub)
    service.cli("enroll", "--pubkey", pub, "--subject", gmtest.SUBJECT,
                "--gateway", "JSB0000", "--organization", "深证通CCNET证书测试",
                "--system", "CCNET", "--days-left", days_left, "--out", cert,
                "--double", "--enc-out", enc, "--enc-key-out", enc_key)
    token.import_cert(0, key_id, "JSB0000", cert)
    (name,) = [c for c, objs in containers(token).items()
               if any(i == key_id for _, i in objs)]
    token.tool_run("import-key", "--slot", 0, "--id", "02", "--label",
                   "JSB0000 enc", "--container", name, "--kind", "exchange",
                   "--key", enc_key)
    token.tool_run("import-cert", "--slot", 0, "--id", "02", "--label",
                   "JSB0000 enc", "--container", name, "--cert", enc)
    return cert, enc, name


# SKF through ctypes, in a child process with the token's environment: the
# container's certificates, public keys, and SKF_ECCDecrypt with the
# encryption key of a message openssl encrypted (FEITIAN's 8-byte ULONG).
SKF_PROBE = r'''
import ctypes, json, sys
lib = ctypes.CDLL(sys.argv[1])
U = ctypes.c_ulong
def ok(rv, what):
    if rv:
        raise SystemExit("%s: 0x%08x" % (what, rv))
size = U(4096); buf = ctypes.create_string_buffer(4096)
ok(lib.SKF_EnumDev(1, buf, ctypes.byref(size)), "EnumDev")
dev = ctypes.c_void_p()
ok(lib.SKF_ConnectDev(buf.value, ctypes.byref(dev)), "ConnectDev")
size = U(4096)
ok(lib.SKF_EnumApplication(dev, buf, ctypes.byref(size)), "EnumApplication")
app = ctypes.c_void_p()
ok(lib.SKF_OpenApplication(dev, buf.value, ctypes.byref(app)), "OpenApplication")
retry = U(0)
ok(lib.SKF_VerifyPIN(app, 1, sys.argv[2].encode(), ctypes.byref(retry)), "VerifyPIN")
size = U(4096)
ok(lib.SKF_EnumContainer(app, buf, ctypes.byref(size)), "EnumContainer")
names = [n.decode() for n in buf.raw[:size.value].split(b"\0") if n]
out = {}
for name in names:
    con = ctypes.c_void_p()
    ok(lib.SKF_OpenContainer(app, name.encode(), ctypes.byref(con)), "OpenContainer")
    entry = {}
    for flag, role in ((1, "signing"), (0, "encryption")):
        n = U(8192); der = ctypes.create_string_buffer(8192)
        if lib.SKF_ExportCertificate(con, flag, der, ctypes.byref(n)) == 0:
            entry[role + "_cert"] = der.raw[:n.value].hex()
        n = U(132); blob = ctypes.create_string_buffer(132)
        if lib.SKF_ExportPublicKey(con, flag, blob, ctypes.byref(n)) == 0:
            entry[role + "_pub"] = "04" + blob.raw[36:68].hex() + blob.raw[100:132].hex()
    ciphers = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    cipher = ciphers.get(name, ciphers.get("*"))
    if len(sys.argv) > 5 and "encryption_cert" in entry:
        # openssl encrypts to the certificate just read (doublecert.py)
        sys.path.insert(0, sys.argv[5])
        import doublecert, os
        d = os.path.join(sys.argv[4], "enc-%d" % len(out))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "c.der"), "wb") as f:
            f.write(bytes.fromhex(entry["encryption_cert"]))
        entry["plain"], cipher = doublecert.encrypt_to(
            os.path.join(d, "c.der"), d, "DER")
    if cipher:
        # ECCCIPHERBLOB: X[64] Y[64] HASH[32] CipherLen (8) Cipher
        x, y, c3, c2 = (bytes.fromhex(p) for p in cipher.split(":"))
        raw = (bytes(32) + x + bytes(32) + y + c3 +
               len(c2).to_bytes(8, "little") + c2 + bytes(256))
        cblob = ctypes.create_string_buffer(raw, len(raw))
        n = U(256); plain = ctypes.create_string_buffer(256)
        rv = lib.SKF_ECCDecrypt(con, cblob, plain, ctypes.byref(n))
        entry["decrypted"] = plain.raw[:n.value].hex() if rv == 0 else "0x%08x" % rv
    out[name] = entry
    lib.SKF_CloseContainer(con)
print(json.dumps(out))
'''


def skf_probe(token, ciphers=None, encrypt_in=None):
    """{container: {signing_cert, signing_pub, encryption_cert,
    encryption_pub[, decrypted]}} read through the token's SKF functions;
    ciphers: {container or "*": "x:y:C3:C2" hex} to decrypt there with
    the container's encryption key (SKF_ECCDecrypt); encrypt_in: a folder
    where openssl encrypts 32 random bytes to each encryption certificate
    read (encrypt_to), for the token to decrypt in the same run (the
    bytes as "plain")."""
    args = [PY, "-c", SKF_PROBE, token.module, gmtest.PIN]
    if ciphers or encrypt_in:
        args.append(json.dumps(ciphers or {}))
    if encrypt_in:
        args += [str(encrypt_in), os.path.dirname(os.path.abspath(__file__))]
    p = run(args, env=token.env())
    return json.loads(p.stdout)


def der_ints(der):
    """SM2Cipher DER (SEQUENCE { INTEGER x, INTEGER y, OCTET STRING C3,
    OCTET STRING C2 }) into x, y (32 bytes each), C3, C2."""
    def item(b, at):
        tag, n = b[at], b[at + 1]
        at += 2
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(b[at:at + k], "big")
            at += k
        return tag, b[at:at + n], at + n
    tag, body, _ = item(der, 0)
    assert tag == 0x30
    parts, at = [], 0
    while at < len(body):
        _, v, at = item(body, at)
        parts.append(v)
    x, y, c3, c2 = parts
    return (x[-32:].rjust(32, b"\0"), y[-32:].rjust(32, b"\0"), c3, c2)


def encrypt_to(cert, workdir, inform="PEM"):
    """32 random bytes, and openssl's SM2 encryption of them to the
    certificate's public key as "x:y:C3:C2" hex."""
    d = pathlib.Path(workdir)
    d.mkdir(parents=True, exist_ok=True)
    msg, ct = d / "msg.bin", d / "ct.der"
    msg.write_bytes(os.urandom(32))
    openssl("pkeyutl", "-encrypt", "-certin", "-inkey", cert, "-keyform",
            inform, "-in", msg, "-out", ct)
    x, y, c3, c2 = der_ints(ct.read_bytes())
    return msg.read_bytes().hex(), ":".join(
        v.hex() for v in (x, y, c3, c2))


def encryption_key_works(token, enc_cert_pem, workdir):
    """openssl encrypts 32 random bytes to the encryption certificate's
    public key; the token's container whose encryption certificate it is
    decrypts them with the key it imported (SKF_ECCDecrypt). Returns
    (container, plain hex, decrypted hex)."""
    plain, cipher = encrypt_to(enc_cert_pem, workdir)
    enc_der = der_of(enc_cert_pem)
    probe = skf_probe(token, {"*": cipher})
    for name, e in probe.items():
        if e.get("encryption_cert") == enc_der.hex():
            return name, plain, e.get("decrypted")
    return None, plain, None


def working_encryption_pairs(token, workdir):
    """The containers whose encryption key decrypts what openssl encrypted
    to their encryption certificate: one SKF session reads the
    certificates, has openssl encrypt to each and decrypts."""
    probe = skf_probe(token, encrypt_in=workdir)
    return sorted(n for n, e in probe.items()
                  if "plain" in e and e.get("decrypted") == e["plain"])


def der_of(cert_pem):
    """The certificate's DER, by openssl."""
    return subprocess.run([gmtest.need_tool("openssl"), "x509", "-in",
                           str(cert_pem), "-outform", "DER"],
                          capture_output=True, check=True).stdout


def cert_pubkey_point(cert_pem):
    """04 || X || Y of a certificate's SM2 key, by openssl."""
    out = openssl("x509", "-in", cert_pem, "-noout", "-pubkey").stdout
    der = subprocess.run([gmtest.need_tool("openssl"), "pkey", "-pubin",
                          "-outform", "DER"], input=out.encode(),
                         capture_output=True, check=True).stdout
    return der[-65:].hex()


# The reference KMC's fault switches (tools/refservice/README.md), each with its
# parameters and the exit code gmrenew must give: the service's fault.
KMC_FAULTS = [
    ("envelope_other_key", {}, 7),
    ("envelope_corrupt", {"part": "cipher"}, 7),
    ("envelope_corrupt", {"part": "private_key"}, 7),
    ("envelope_corrupt", {"part": "length"}, 7),
    ("envelope_corrupt", {"part": "algorithm"}, 7),
    ("enc_cert_other_key", {}, 7),
    ("encryption_missing", {}, 7),
]
