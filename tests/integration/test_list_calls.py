"""list-certs reads the token in few calls, and the shortcuts that save
calls lose nothing: FEITIAN's container objects named by one search
instead of read one by one (and everything read when the module refuses
that search), values larger than the guessed buffers fetched by size
through PKCS#11 and SKF, an SKF name list larger than its guessed buffer.
Calls are counted with the soft ePass3000GM's GMSOFT_TRACE."""
import collections
import json

import pytest

import gmtest
from certmaker import Maker, openssl, sign_args

PAIRS = 30      # 90 objects without the PIN
CONTAINERS = 60  # the soft token's names of 20 bytes: more than 1 KiB


def counts(trace):
    c = collections.Counter()
    for line in trace.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2:
            c[parts[1]] += 1
    return c


def listing(token, root, *args, after=(), env_extra=None):
    """list-certs --json through the soft token (args before the command,
    after behind it); (JSON, calls by function). PKCS#11 unless args name
    an API: auto takes SKF for the soft ePass3000GM, which offers both."""
    if "--api" not in args:
        args = ("--api", "pkcs11") + args
    cfg = root / "empty.ini"
    cfg.write_text("")
    trace = root / "trace"
    trace.unlink(missing_ok=True)
    env = token.env(GMRENEW_CONFIG=cfg, GMSOFT_TRACE=trace,
                    **(env_extra or {}))
    env.pop("GMRENEW_PIN", None)
    p = gmtest.run([gmtest.need_env("GMRENEW_BIN"), "--module", token.module]
                   + list(args) + ["--json", "list-certs"] + list(after),
                   env=env,
                   expect=0)
    return json.loads(p.stdout), counts(trace)


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    """A soft Ekey with PAIRS certificates, each with its key pair."""
    root = tmp_path_factory.mktemp("many")
    m = Maker(root / "certs")
    ca = m.root("calls-root", "CN=Calls Root CA,O=SSCCCA,C=CN")
    token = gmtest.SoftToken(root)
    token.init()
    shas = set()
    for i in range(PAIRS):
        leaf = m.issue(ca, "leaf%d" % i, "CN=JSB%04d@IST@30,O=SSCCCA,C=CN" % i)
        kid = "%04x" % (i + 1)
        token.import_key(0, kid, "key %d" % i, leaf.key)
        token.import_cert(0, kid, "cert %d" % i, leaf.pem)
        shas.add(leaf.sha256())
    pin = root / "pin"
    pin.write_text(gmtest.PIN + "\n")
    pin.chmod(0o600)
    return root, token, shas, pin


def test_containers_named_by_a_search_not_read(many):
    root, token, shas, pin = many
    out, c = listing(token, root)
    assert {x["sha256"] for x in out["certificates"]} == shas
    assert all(x["error"] is None for x in out["certificates"])
    # a certificate and a public key read per pair, no container object;
    # the second search is the containers'
    assert c["C_GetAttributeValue"] == 2 * PAIRS, c
    assert c["C_FindObjectsInit"] == 2, c
    # the token's strings (read when it was chosen) name the profile: the
    # library is not asked
    assert c["C_GetInfo"] == 0 and c["C_GetTokenInfo"] == 1, c
    # with the PIN the private keys are seen, and each pairs exactly
    out, c = listing(token, root, after=("--pin-file", pin))
    assert {x["sha256"] for x in out["certificates"]} == shas
    assert all(x["has_private_key"] is True for x in out["certificates"])
    assert c["C_GetAttributeValue"] == 3 * PAIRS, c


def test_container_search_refused_reads_everything(many):
    root, token, shas, pin = many
    out, c = listing(token, root, after=("--pin-file", pin), env_extra={
        "GMSOFT_FAIL": "C_FindObjectsInit:2:CKR_DEVICE_ERROR"})
    assert {x["sha256"] for x in out["certificates"]} == shas
    assert all(x["has_private_key"] is True for x in out["certificates"])
    # every object read, the containers too
    assert c["C_GetAttributeValue"] == 4 * PAIRS, c


def test_skf_one_call_per_list_and_certificate(many):
    root, token, shas, _ = many
    out, c = listing(token, root, "--api", "skf")
    assert {x["sha256"] for x in out["certificates"]} == shas
    # one enumeration and connection of the device, each list and each
    # certificate in one call (the guessed buffers fit)
    assert c["SKF_EnumDev"] == 1 and c["SKF_ConnectDev"] == 1, c
    assert c["SKF_GetDevInfo"] == 1 and c["SKF_EnumApplication"] == 1, c
    assert c["SKF_EnumContainer"] == 1, c
    # each container's signing and (absent) encryption certificate
    assert c["SKF_ExportCertificate"] == 2 * PAIRS, c
    # its signing key's SM2 blob says the container's type: not asked
    assert c["SKF_ExportPublicKey"] == PAIRS, c
    assert c["SKF_GetContainerType"] == 0, c
    # each container opened and closed once
    assert c["SKF_OpenContainer"] == PAIRS, c
    assert c["SKF_CloseContainer"] == PAIRS, c


def test_skf_type_asked_without_an_sm2_signing_key(tmp_path):
    """An RSA container and an empty one are still told by their type
    (asked for them alone) and left out; the SM2 pair is listed."""
    m = Maker(tmp_path / "certs")
    ca = m.root("type-root", "CN=Type Root CA,O=SSCCCA,C=CN")
    token = gmtest.SoftToken(tmp_path)
    token.init()
    leaf = m.issue(ca, "leaf", "CN=JSB0001@IST@30,O=SSCCCA,C=CN")
    token.import_key(0, "01", "key", leaf.key)
    token.import_cert(0, "01", "cert", leaf.pem)
    token.tool_run("add-container", "--slot", "0", "--container", "rsa",
                   "--kind", "rsa")
    token.tool_run("add-container", "--slot", "0", "--container", "empty")
    out, c = listing(token, tmp_path, "--api", "skf")
    assert [x["sha256"] for x in out["certificates"]] == [leaf.sha256()]
    assert c["SKF_GetContainerType"] == 2, c
    assert c["SKF_ExportCertificate"] == 2, c


def test_skf_container_list_past_its_guessed_buffer(tmp_path):
    m = Maker(tmp_path / "certs")
    ca = m.root("skf-root", "CN=SKF Root CA,O=SSCCCA,C=CN")
    leaf = m.issue(ca, "leaf", "CN=JSB0000@IST@30,O=SSCCCA,C=CN")
    token = gmtest.SoftToken(tmp_path)
    token.init()
    for i in range(CONTAINERS):
        kid = "%04x" % (i + 1)
        token.gen_key(0, kid, "key %d" % i, tmp_path / ("pub%d.pem" % i))
        token.import_cert(0, kid, "cert %d" % i, leaf.pem)
    out, c = listing(token, tmp_path, "--api", "skf")
    assert len(out["certificates"]) == CONTAINERS
    assert {x["sha256"] for x in out["certificates"]} == {leaf.sha256()}
    # the guessed buffer, then the size, then the names
    assert c["SKF_EnumContainer"] == 3, c


def big_certificate(root):
    """A self-signed SM2 certificate of more than 6,000 bytes (a long
    subjectAltName) and its key."""
    m = Maker(root / "big")
    key = m.key("big")
    pem = root / "big.pem"
    san = ",".join("DNS:host%03d.gateway.example.cn" % i for i in range(220))
    openssl("req", "-new", "-x509", "-key", key, *sign_args("sm2"), "-utf8",
            "-subj", "/CN=JSB0000@IST@30/O=SSCCCA/C=CN", "-days", "300",
            "-addext", "subjectAltName=" + san, "-out", pem)
    der = root / "big.der"
    openssl("x509", "-in", pem, "-outform", "DER", "-out", der)
    assert der.stat().st_size > 6000
    sha = openssl("x509", "-in", pem, "-noout", "-fingerprint",
                  "-sha256").strip().split("=", 1)[1].replace(":", "").lower()
    return key, pem, sha


def test_certificate_larger_than_the_guessed_buffers(tmp_path):
    key, pem, sha = big_certificate(tmp_path)
    token = gmtest.SoftToken(tmp_path)
    token.init()
    token.import_key(0, "01", "big", key)
    token.import_cert(0, "01", "big", pem)
    out, c = listing(token, tmp_path)
    assert [x["sha256"] for x in out["certificates"]] == [sha]
    assert out["certificates"][0]["error"] is None
    # the certificate, its public key and container (each in one call),
    # then the value alone: its size, its bytes
    assert c["C_GetAttributeValue"] == 3 + 2, c
    out, c = listing(token, tmp_path, "--api", "skf")
    assert [x["sha256"] for x in out["certificates"]] == [sha]
    # the guessed buffer, then the size, then the certificate; then the
    # container's (absent) encryption certificate
    assert c["SKF_ExportCertificate"] == 3 + 1, c
