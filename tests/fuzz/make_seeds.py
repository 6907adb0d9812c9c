#!/usr/bin/python3
"""Makes the seed corpora of tests/fuzz/corpus/ (committed; run again only
to refresh them): every JSON example of docs/protocol.md and the reference
service's real answers to a whole renewal and to its errors, certificates
and bundles from the reference service's PKI, subjects, key points, journals
as gmrenew writes them, URIs, PIN files, URLs, configuration and profile
examples. Findings are not made here: their inputs are kept by hand
(named finding-*).

Usage: /usr/bin/python3 tests/fuzz/make_seeds.py
"""

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")
sys.path.insert(0, os.path.join(REPO, "tests", "service"))

import conftest  # noqa: E402  (the service tests' client and service)

CODE_RE = re.compile(r"^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$")


def put(target, name, data):
    """Writes one seed."""
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as handle:
        handle.write(data)


def code_blocks(path, lang):
    """The fenced blocks of one language in a Markdown file."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    return re.findall(r"```%s\n(.*?)```" % lang, text, re.S)


def pem_to_der(pem):
    """The first certificate of a PEM text as DER."""
    body = pem.split("-----BEGIN CERTIFICATE-----")[1].split("-----END")[0]
    return base64.b64decode("".join(body.split()))


def read(path, mode="r"):
    with open(path, mode) as handle:
        return handle.read()


def protocol_examples():
    for i, block in enumerate(code_blocks(os.path.join(REPO, "docs", "protocol.md"), "json")):
        put("service_response", "doc-%02d.json" % i, block)


def answer(name, resp):
    """One real answer: its body, and its head and body as header lines."""
    put("service_response", "ref-%s.json" % name, resp.raw)
    head = "HTTP/1.1 %d X\r\n" % resp.status + "".join(
        "%s: %s\r\n" % (k, v) for k, v in resp.headers.items())
    put("service_response", "ref-%s.http" % name, head.encode() + b"\r\n" + resp.raw)


def renewal(svc):
    """A whole renewal and its errors against the reference service; returns
    the material the other corpora need."""
    c = svc.client()
    key = svc.key("sm2")
    other = svc.key("sm2")
    p256 = svc.key("ec")
    cert = svc.enroll(key, days_left=30)
    p256_cert = svc.enroll(p256, days_left=30)
    answer("challenge", c.get_challenge())
    answer("lookup-one", c.lookup([{"certificate": conftest.b64(cert)}]))
    answer("lookup-three", c.lookup([
        {"certificate": conftest.b64(p256_cert)},
        {"sha256": hashlib.sha256(cert).hexdigest()},
        {"sha256": "00" * 32}]))
    answer("lookup-bad", c.lookup([]))
    svc.faults({"faults": {"lookup": [{"type": "http_error", "status": 503,
                                       "retry_after": 2, "count": 1}]}})
    answer("lookup-503", c.lookup([{"certificate": conftest.b64(cert)}]))
    svc.faults({})
    put("service_response", "head-redirect.http",
        "HTTP/1.1 302 Found\r\nLocation: http://evil.example/v1/lookup\r\n"
        "Retry-After: Wed, 21 Oct 2026 07:28:00 GMT\r\nContent-Length: 999999999\r\n"
        "Date: Tue, 01 Dec 2026 10:00:00 GMT\r\n\r\n")
    start = c.start(cert, key)
    answer("start", start)
    code = start.json["update_code"]
    assert CODE_RE.match(code), start
    answer("status-started", c.status(code))
    answer("lookup-open-order", c.lookup([{"certificate": conftest.b64(cert)}]))
    answer("csr-bad-pop", c.csr(code, other.csr(), other))
    answer("csr-same-key", c.csr(code, key.csr(), key))
    issued = c.csr(code, other.csr(), key)
    answer("csr", issued)
    answer("status-issued", c.status(code))
    new_der = base64.b64decode(issued.json["certificate"])
    answer("confirm", c.confirm(code, hashlib.sha256(new_der).hexdigest(), key))
    answer("status-confirmed", c.status(code))
    answer("lookup-superseded", c.lookup([{"certificate": conftest.b64(cert)}]))
    answer("status-unknown", c.status("2345-6789-ABCD-EFGH"))
    answer("start-superseded", c.start(cert, key))
    start2 = c.start(p256_cert, p256)
    answer("start-p256", start2)
    answer("cancel", c.cancel(start2.json["update_code"], p256))
    answer("bad-pop", c.signed("/v1/renewals", {"certificate": conftest.b64(p256_cert)},
                               other))
    c.close()
    return {"cert": cert, "p256_cert": p256_cert, "new": new_der, "code": code,
            "subject_der": base64.b64decode(start.json["csr_requirements"]["subject_der"]),
            "keys": [key, p256], "chain": issued.json.get("chain") or []}


def certificates(svc, m):
    put("certfacts", "sm2-old.der", m["cert"])
    put("certfacts", "sm2-new.der", m["new"])
    put("certfacts", "p256.der", m["p256_cert"])
    for i, c in enumerate(m["chain"]):
        put("certfacts", "chain-%d.der" % i, base64.b64decode(c))
    for name in ("chain-ca.pem", "issuing-ca.pem", "tls-ca.pem", "tls-server.pem"):
        pem = read(os.path.join(svc.dir, name))
        put("certfacts", name, pem)
        put("certfacts", name.replace(".pem", ".der"), pem_to_der(pem))
    bundle = read(os.path.join(svc.dir, "issuing-ca.pem")) + read(os.path.join(svc.dir, "chain-ca.pem"))
    put("certfacts", "bundle.pem", "# the SM2 chain\n" + bundle)
    others = {"rsa": ["-newkey", "rsa:2048"], "rsa-pss": ["-newkey", "rsa-pss", "-pkeyopt", "rsa_keygen_bits:2048"],
              "p384": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
              "p521": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521"],
              "secp256k1": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp256k1"],
              "ed25519": ["-newkey", "ed25519"]}
    with tempfile.TemporaryDirectory() as tmp:
        for name, args in others.items():
            out = os.path.join(tmp, name + ".der")
            subprocess.run(["openssl", "req", "-x509"] + args + ["-nodes",
                            "-keyout", os.devnull, "-subj", "/CN=%s/O=SSCCCA/C=CN" % name,
                            "-days", "30", "-outform", "DER", "-out", out],
                           check=True, capture_output=True)
            put("certfacts", name + ".der", read(out, "rb"))
    for name in ("tls-ca.pem", "chain-ca.pem"):
        put("ca_bundle", name, read(os.path.join(svc.dir, name)))
    put("ca_bundle", "both.pem", "Subject: the TLS and SM2 roots\n" +
        read(os.path.join(svc.dir, "tls-ca.pem")) + "\n" + read(os.path.join(svc.dir, "chain-ca.pem")))
    put("ca_bundle", "der.der", pem_to_der(read(os.path.join(svc.dir, "tls-ca.pem"))))


OIDS = {
    "sm2": bytes.fromhex("06082a811ccf5501822d"),
    "p256": bytes.fromhex("06082a8648ce3d030107"),
    "p384": bytes.fromhex("06052b81040022"),
    "p521": bytes.fromhex("06052b81040023"),
}
FIELD = {"sm2": 32, "p256": 32, "p384": 48, "p521": 66}


def points(m):
    """Key points in every encoding the token may give."""
    spkis = {"sm2": m["keys"][0].spki, "p256": m["keys"][1].spki}
    for curve, name in (("p384", "secp384r1"), ("p521", "secp521r1")):
        key = subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                              "ec_paramgen_curve:" + name], check=True, capture_output=True).stdout
        spkis[curve] = subprocess.run(["openssl", "pkey", "-pubout", "-outform", "DER"],
                                      input=key, check=True, capture_output=True).stdout
    for curve, spki in spkis.items():
        pt = spki[-(1 + 2 * FIELD[curve]):]
        assert pt[0] == 4
        oid = OIDS[curve]
        der_pt = bytes([0x04, len(pt)]) if len(pt) < 128 else bytes([0x04, 0x81, len(pt)])
        der_pt += pt
        put("pubkey", "%s-der.bin" % curve, bytes([0, len(oid)]) + oid + der_pt)
        put("pubkey", "%s-bare.bin" % curve, bytes([0, len(oid)]) + oid + pt)
        put("pubkey", "%s-modulus.bin" % curve, bytes([1, len(oid)]) + oid + pt[1:])
        if curve == "sm2":
            put("pubkey", "sm2-noparams.bin", bytes([0, 0]) + der_pt)
            put("pubkey", "sm2-modulus-noparams.bin", bytes([1, 0]) + pt[1:])
    put("pubkey", "explicit-params.bin", bytes([0, 4, 0x30, 0x02, 0x05, 0x00]) + bytes(65))


def subjects(m):
    put("csr_subject", "reference.der", m["subject_der"])
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization  # noqa: F401
    for name in ("cert", "p256_cert"):
        c = x509.load_der_x509_certificate(m[name])
        put("csr_subject", name + ".der", c.subject.public_bytes())
        put("csr_subject", name + "-issuer.der", c.issuer.public_bytes())


STEPS = ["started", "key_generated", "issued", "verified", "installed", "confirmed", "retired"]


def journals(m):
    """Journals of every step, with the members src/renewal writes."""
    old_sha = hashlib.sha256(m["cert"]).hexdigest()
    new_sha = hashlib.sha256(m["new"]).hexdigest()
    for n, step in enumerate(STEPS):
        doc = {"version": 1, "update_code": m["code"], "steps": [],
               "token_serial": "2A0F96E8B1C40012", "old_sha256": old_sha,
               "old_label": "JSB0000", "old_id": "a1b2c3d4",
               "old_certificate": m["cert"].hex(),
               "subject": "CN=JSB0000@IST@30,OU=深证通CCNET证书测试,OU=CCNET,O=SSCCCA,C=CN",
               "pending_label": "gmrenew pending " + m["code"]}
        for s in STEPS[:n + 1]:
            doc["steps"].append({"step": s, "at": "2026-11-24T06:31:%02dZ" % n})
        doc["last_step"] = step
        if n >= 1:
            doc["new_id"] = "e5f60718"
        if n >= 2:
            doc["new_sha256"] = new_sha
        put("journal", "%d-%s.json" % (n, step), json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        # version 2: the same facts, no step list, "finished" at the end
        doc2 = {k: v for k, v in doc.items() if k not in ("steps", "last_step")}
        doc2["version"] = 2
        if step == "retired":
            doc2["finished"] = doc["steps"][-1]["at"]
        put("journal", "v2-%d-%s.json" % (n, step), json.dumps(doc2, ensure_ascii=False, indent=2) + "\n")
    put("journal", "empty.json", "")
    put("journal", "not-object.json", "[1, 2, 3]\n")


def token_side():
    def token(label, manuf, model, serial, flags):
        def pad(s, n):
            b = s.encode()
            return (b + b" " * n)[:n]
        return pad(label, 32) + pad(manuf, 32) + pad(model, 16) + pad(serial, 16) + bytes([flags])
    uris = ["pkcs11:serial=2A0F96E8B1C40012",
            "pkcs11:token=ePass3000GM;serial=2A0F96E8B1C40013",
            "pkcs11:manufacturer=FEITIAN%20Technologies",
            "pkcs11:model=ePass3000GM;manufacturer=FEITIAN%20Technologies",
            "pkcs11:", "pkcs11:serial=2A0F96E8B1C40012?pin-value=1234",
            "pkcs11:library-manufacturer=OpenSC", "pkcs11:object=key;type=private",
            "pkcs11:token=%E6%B7%B1%E8%AF%81%E9%80%9A", "serial=2A0F96E8B1C40012"]
    for i, u in enumerate(uris):
        put("token_uri", "uri-%02d.txt" % i, u)
    two = (token("ePass3000GM", "FEITIAN Technologies", "ePass3000GM", "2A0F96E8B1C40012", 3) +
           token("\x1b]52;c;AAAA\x07", "FEITIAN", "ePass3000GM", "2A0F96E8B1C40013", 1))
    put("token_uri", "tokens-two.bin", b"pkcs11:serial=2A0F96E8B1C40013\0" + two)
    put("token_uri", "tokens-blank.bin", b"pkcs11:token=%20\0" +
        token("", "", "", "", 0) + token("ePass3000GM", "FEITIAN", "m", "1", 1))


def local_inputs():
    for i, pin in enumerate([b"1234\n", b"12345678\r\n", b"", b"\n", b"a" * 300 + b"\n",
                             b"\xe4\xb8\xad\xe6\x96\x87PIN\nsecond\n", b"123456"]):
        put("pin", "pin-%02d" % i, pin)
    for i, url in enumerate(["https://renew.example.cn", "https://renew.example.cn:8443",
                             "https://127.0.0.1:8443/", "https://[::1]:8443",
                             "HTTPS://Renew.Example.CN", "http://renew.example.cn",
                             "https://user@renew.example.cn", "https://renew.example.cn/v1",
                             "https://renew.example.cn?x=1", "https://renew.example.cn#top",
                             "https://renew.example.cn:99999", "https://xn--fiq228c.cn",
                             "https:///", "ftp://renew.example.cn"]):
        put("service_url", "url-%02d" % i, url)
    conf = code_blocks(os.path.join(REPO, "docs", "configuration.md"), "ini")
    for i, block in enumerate(conf):
        put("config", "doc-%02d.ini" % i, block)
    sections = {
        "token": "module = /usr/lib/libes_3000gm.so\nprofile = epass3000gm\nuri = pkcs11:serial=2A0F96E8B1C40012\n",
        "service": "url = https://renew.example.cn\nca_bundle = /etc/gmrenew/tls-ca.pem\n"
                   "chain_bundle = /etc/gmrenew/chain.pem\nconnect_timeout_ms = 10000\ntotal_timeout_ms = 60000\n",
        "policy": "renew_before_days = 90\nrenew_after_days = 90\nextension_days = 1826\n"
                  "extension_tolerance_days = 31\nclock_skew_seconds = 300\n",
        "renewal": "state_dir = /var/lib/gmrenew\n",
    }
    for name, body in sections.items():
        put("config", "section-%s.ini" % name, "[%s]\n%s" % (name, body))
    put("config", "bad.ini", "[policy]\nrenew_before_days = -1\n[nowhere]\nkey\n")
    prof = code_blocks(os.path.join(REPO, "docs", "token-profiles.md"), "ini")
    for i, block in enumerate(prof):
        put("profile", "doc-%02d.ini" % i, block)
    keys = {"key_type": "0x80000200", "keygen_mechanism": "0x80000201",
            "sign_mechanism": "2147484162", "scheme": "sm2-sm3", "sign_input_max": "32",
            "pin_max_tries": "6", "ec_params": "06082a811ccf5501822d",
            "usb_vendor": "0x096e", "usb_product": "0x0309",
            "libraries": "libes_3000gm.so, /opt/FEITIAN/libes_3000gm.so",
            "envelope_unwrap_sm2": "0x80000206", "envelope_unwrap_sm4": "0x80000402",
            "envelope_key_type": "0x10"}
    for k, v in keys.items():
        put("profile", "key-%s.ini" % k, "[profile.epass3000gm]\n%s = %s\n" % (k, v))
    put("profile", "base.ini", "[token]\nprofile = mine\n[profile.mine]\nbase = pkcs11-ec\n"
        "scheme = ecdsa-sha256\nec_params = p256\n[profile.loop]\nbase = loop\n")


def main():
    conftest.require_tools()
    protocol_examples()
    local_inputs()
    token_side()
    with tempfile.TemporaryDirectory(prefix="gmrenew-seeds-") as d:
        conftest.tool("init", "--dir", d)
        svc = conftest.Service(d)
        svc.start()
        try:
            m = renewal(svc)
            certificates(svc, m)
            points(m)
            subjects(m)
            journals(m)
        finally:
            svc.stop()


if __name__ == "__main__":
    main()
