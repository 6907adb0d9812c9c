"""`gmrenew list-certs`: the table (the CA page's columns in 80 columns,
Chinese text aligned by display width) and --json, on the soft
ePass3000GM and on SoftHSM2, with certificates made by certmaker.py and
facts checked against the openssl command."""
import datetime
import json
import os
import pathlib
import re
import unicodedata

import pytest

import gmtest
from certmaker import Maker, utcnow

DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)
CA_SUBJECT = "CN=JSB0000@IST@30,OU=深证通CCNET证书测试,OU=CCNET,O=SSCCCA,C=CN"

CERT_KEYS = {"index", "subject", "issuer", "serial", "sha256", "gateway",
             "organization", "system", "not_before", "not_after",
             "days_left", "status", "renewal", "key_algorithm",
             "has_private_key", "id", "label", "role", "partner_sha256"}
TOKEN_KEYS = {"serial", "label", "manufacturer", "model", "uri"}
RFC3339_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
HEX = re.compile(r"^[0-9a-f]+$")


def width(text):
    """Display columns of text on a terminal: East Asian wide = 2."""
    w = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        w += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return w


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------
# the soft token, filled once for the module

class Case:
    def __init__(self, cert, key_id, label, status, renewal, days, has_key,
                 algo):
        self.cert, self.id, self.label = cert, key_id, label
        self.status, self.renewal, self.days = status, renewal, days
        self.has_key, self.algo = has_key, algo


@pytest.fixture(scope="module")
def soft(tmp_path_factory):
    root = tmp_path_factory.mktemp("list")
    m = Maker(root / "certs")
    now = utcnow()
    token = gmtest.SoftToken(root)
    token.init(serial="3000A10000000001", label="JSB0000 Ekey")
    cases = []

    def put(cert, key_id, label, with_key, *expect):
        if with_key:
            token.import_key(0, key_id, label + " key", cert.key)
        token.import_cert(0, key_id, label, cert.pem)
        cases.append(Case(cert, key_id.lower(), label, *expect))

    # SM2, two levels, valid for a year: valid / not due
    _, _, two = m.chain("two", 2, CA_SUBJECT, not_after=now + 365 * DAY + HOUR)
    put(two, "01", "two levels", True, "valid", "not_due", 365, True, "SM2")
    # SM2, three levels, 30 days left: expiring / online
    _, (inter,), three = m.chain(
        "three", 3, "CN=JSB0001@IST@31,OU=测试机构甲,OU=CCNET,O=SSCCCA,C=CN",
        not_after=now + 30 * DAY + HOUR)
    put(three, "02", "three levels", True, "expiring", "online", 30, True,
        "SM2")
    # expired 10 days ago: still renewable online
    exp10 = m.issue(inter, "exp10", "CN=JSB0002@IST@32,OU=过期机构,OU=CCNET,"
                    "O=SSCCCA,C=CN", not_before=now - 400 * DAY,
                    not_after=now - 10 * DAY + HOUR)
    put(exp10, "03", "expired 10d", True, "expired", "online", -10, True,
        "SM2")
    # expired 100 days ago: offline only
    exp100 = m.issue(inter, "exp100", "CN=JSB0003@IST@33,OU=CCNET,O=SSCCCA,"
                     "C=CN", not_before=now - 500 * DAY,
                     not_after=now - 100 * DAY + HOUR)
    put(exp100, "04", "expired 100d", True, "expired", "offline_only", -100,
        True, "SM2")
    # not yet valid
    future = m.issue(inter, "future", "CN=JSB0004@IST@34,O=SSCCCA,C=CN",
                     not_before=now + 5 * DAY,
                     not_after=now + 400 * DAY + HOUR)
    put(future, "05", "not yet", True, "not_yet_valid", "not_due", 400, True,
        "SM2")
    # P-256 and RSA certificates (the soft token stores SM2 keys only)
    p256 = m.issue(inter, "p256", "CN=P256 User,O=Elsewhere,C=CN",
                   kind="p256", days=200)
    put(p256, "06", "p256", False, "valid", "not_due", None, False, "EC-P256")
    rsa = m.issue(inter, "rsa", "CN=RSA User,O=Elsewhere,C=CN", kind="rsa",
                  days=200)
    put(rsa, "07", "rsa", False, "valid", "not_due", None, False, "RSA-2048")
    # an SM2 certificate whose private key is not on the token
    nokey = m.issue(inter, "nokey", "CN=JSB0005@IST@35,OU=无私钥,OU=CCNET,"
                    "O=SSCCCA,C=CN", days=200)
    put(nokey, "C1D2", "no key", False, "valid", "not_due", None, False,
        "SM2")
    # a corrupt certificate object between good ones
    token.import_raw(0, "EE", "corrupt", m.garbage("garbage.der"))
    cases.append(None)
    # and one more good certificate after it
    last = m.issue(inter, "last", "CN=JSB0006@IST@36,OU=最后,OU=CCNET,"
                   "O=SSCCCA,C=CN", days=100)
    put(last, "0F", "after corrupt", True, "valid", "not_due", None, True,
        "SM2")

    config = root / "config.ini"
    config.write_text("[token]\nmodule = %s\napi = pkcs11\n\n"
                      "[renewal]\nstate_dir = %s\n"
                      % (token.module, root / "state"))
    # with the PIN, so that private keys are seen (has_private_key true or
    # false; test_local_hardening.py checks null without it)
    env = token.env(GMRENEW_CONFIG=config, TZ="UTC", GMRENEW_PIN=gmtest.PIN)
    env.pop("GMRENEW_PKCS11_MODULE", None)
    return {"token": token, "cases": cases, "env": env, "maker": m,
            "inter": inter, "root": root}


def run(soft, *args, check=0, **kw):
    return gmtest.gmrenew_run(*args, env=kw.pop("env", soft["env"]),
                              check=check, **kw)


@pytest.fixture(scope="module")
def listing(soft):
    p = run(soft, "--json", "list-certs")
    return json.loads(p.stdout), p


def test_json_document_shape(soft, listing):
    doc, _ = listing
    assert set(doc) == {"schema_version", "token", "certificates"}
    assert doc["schema_version"] == 1
    assert set(doc["token"]) == TOKEN_KEYS
    assert doc["token"]["serial"] == "3000A10000000001"
    assert doc["token"]["label"] == "JSB0000 Ekey"
    assert doc["token"]["manufacturer"] == "EnterSafe USB Key"
    assert doc["token"]["model"] == "ePass3000GM"
    assert doc["token"]["uri"].startswith("pkcs11:")
    assert "serial=3000A10000000001" in doc["token"]["uri"]
    certs = doc["certificates"]
    assert len(certs) == len(soft["cases"])
    for c in certs:
        assert CERT_KEYS <= set(c), c
        assert set(c) - CERT_KEYS <= {"error"}


def test_index_follows_token_order(soft, listing):
    doc, _ = listing
    certs = doc["certificates"]
    assert [c["index"] for c in certs] == list(range(1, len(certs) + 1))
    # the tool lists objects by handle: certificates in the same order
    ids = re.findall(r"certificate.*?id=([0-9a-fA-F]+)",
                     soft["token"].listing())
    assert [i.lower() for i in ids] == [c["id"] for c in certs]


def test_facts_match_openssl(soft, listing):
    doc, _ = listing
    for case, c in zip(soft["cases"], doc["certificates"]):
        if case is None:
            continue
        cert = case.cert
        assert c["sha256"] == cert.sha256()
        assert c["serial"] == cert.serial()
        assert HEX.match(c["serial"]) and HEX.match(c["sha256"])
        assert c["subject"] == cert.subject_line() == cert.subject
        assert c["issuer"] == cert.issuer_line()
        nb, na = cert.dates()
        assert c["not_before"] == iso(nb) and c["not_after"] == iso(na)
        assert RFC3339_Z.match(c["not_before"])
        assert RFC3339_Z.match(c["not_after"])
        assert c["id"] == case.id and HEX.match(c["id"])
        assert c["label"] == case.label
        assert c["key_algorithm"] == case.algo
        assert c["has_private_key"] is case.has_key, c


def test_status_renewal_days(soft, listing):
    doc, _ = listing
    for case, c in zip(soft["cases"], doc["certificates"]):
        if case is None:
            continue
        assert (c["status"], c["renewal"]) == (case.status, case.renewal), c
        if case.days is not None:
            assert c["days_left"] == case.days, c
        assert isinstance(c["days_left"], int)


def test_ca_page_fields(listing):
    doc, _ = listing
    first = doc["certificates"][0]
    assert (first["gateway"], first["organization"], first["system"]) == \
        ("JSB0000", "深证通CCNET证书测试", "CCNET")
    # one OU: organisation but no system; no OU, no '@': all null
    exp100 = doc["certificates"][3]
    assert (exp100["gateway"], exp100["organization"], exp100["system"]) == \
        ("JSB0003", "CCNET", None)
    p256 = doc["certificates"][5]
    assert (p256["gateway"], p256["organization"], p256["system"]) == \
        (None, None, None)


def test_utf8_not_escaped(listing):
    _, p = listing
    assert "深证通CCNET证书测试" in p.stdout
    assert "\\u" not in p.stdout and "\\E6" not in p.stdout


def test_corrupt_object_reported(soft, listing):
    doc, _ = listing
    i = soft["cases"].index(None)
    bad = doc["certificates"][i]
    assert bad["index"] == i + 1
    assert bad["id"] == "ee" and bad["label"] == "corrupt"
    assert bad["error"]
    for k in CERT_KEYS - {"index", "id", "label"}:
        assert bad[k] is None, k
    # the certificate after it is still listed
    assert doc["certificates"][i + 1]["subject"].startswith("CN=JSB0006")
    for c in doc["certificates"]:
        if c is not bad:
            assert c.get("error") is None


def table(soft, env=None):
    p = run(soft, "list-certs", env=env or soft["env"])
    return p.stdout.splitlines()


def test_table_columns_and_width(soft, listing):
    doc, _ = listing
    lines = table(soft)
    assert lines[0].startswith("Token 'JSB0000 Ekey', serial 3000A10000000001")
    header = next(l for l in lines if l.lstrip().startswith("#"))
    for col in ("#", "Gateway", "Organisation", "System", "Valid from",
                "Valid to", "Days", "Status", "Renewal"):
        assert col in header
    subjects = {c["subject"] for c in doc["certificates"] if c["subject"]}
    body = lines[lines.index(header):]
    for line in body:
        if line.strip() in subjects:
            continue        # the full subject may be longer
        assert width(line) <= 80, "too wide (%d): %r" % (width(line), line)
    # every subject has its own line, under its row
    for s in subjects:
        assert "   " + s in lines


def row_of(lines, index):
    for line in lines:
        if re.match(r"^\s*%d\s" % index, line):
            return line
    raise AssertionError("no row %d in\n%s" % (index, "\n".join(lines)))


def test_table_rows(soft, listing):
    doc, _ = listing
    lines = table(soft)
    header = next(l for l in lines if l.lstrip().startswith("#"))
    status_word = {"valid": "valid", "expiring": "expiring",
                   "expired": "expired", "not_yet_valid": "not yet"}
    renewal_word = {"not_due": "not due", "online": "online",
                    "offline_only": "offline"}
    col_from = width(header[:header.index("Valid from")])
    col_status = width(header[:header.index("Status")])
    for c in doc["certificates"]:
        row = row_of(lines, c["index"])
        if c["subject"] is None:
            assert "unreadable certificate object" in row
            continue
        # Chinese text aligned by display width: the dates and the status
        # start at the header's column in every row
        assert width(row[:row.index(c["not_before"][:10])]) == col_from, row
        rest = row[row.index(c["not_after"][:10]) + 10:].split()
        assert rest[0] == str(c["days_left"])
        assert " ".join(rest[1:]).startswith(status_word[c["status"]])
        assert " ".join(rest[1:]).endswith(renewal_word[c["renewal"]])
        assert width(row[:row.index(status_word[c["status"]], 40)]) == \
            col_status, row
        if c["gateway"]:
            assert c["gateway"] in row
    # a long Chinese organisation is cut with an ellipsis, at full width
    first = row_of(lines, 1)
    assert "深证通" in first and "\u2026" in first
    # no escapes in the table either
    assert not any("\\E6" in l or "\\u" in l for l in lines)


def test_table_key_and_problem_lines(soft):
    text = "\n".join(table(soft))
    assert "SM2 key on the token" in text
    assert "SM2 key NOT on the token" in text
    assert "EC-P256 key NOT on the token" in text
    assert "RSA-2048 key NOT on the token" in text
    assert "unreadable certificate object" in text
    assert "label 'corrupt', id ee" in text


def test_dates_in_local_time(soft, listing):
    """The table shows dates in the local time zone (JSON stays UTC)."""
    doc, _ = listing
    env = dict(soft["env"], TZ="Asia/Shanghai")
    if not pathlib.Path("/usr/share/zoneinfo/Asia/Shanghai").exists():
        env["TZ"] = "CST-8"
    lines = table(soft, env)
    c = doc["certificates"][0]
    na = datetime.datetime.strptime(c["not_after"], "%Y-%m-%dT%H:%M:%SZ")
    local = (na + datetime.timedelta(hours=8)).strftime("%Y-%m-%d")
    assert local in row_of(lines, 1)


def test_exit_zero_whatever_the_state(soft):
    """Expired, not-yet-valid and corrupt certificates are on the token:
    the list was read, so exit 0 (also with --json)."""
    run(soft, "list-certs", check=0)
    run(soft, "list-certs", "--json", check=0)


def test_empty_token(tmp_path):
    token = gmtest.SoftToken(tmp_path)
    token.init(serial="3000A10000E00001")
    env = token.env(TZ="UTC")
    env.pop("GMRENEW_CONFIG", None)
    p = gmtest.gmrenew_run("--module", token.module, "--api", "pkcs11",
                           "list-certs", env=env,
                           check=0)
    assert "No certificates on this token" in p.stdout
    doc = json.loads(gmtest.gmrenew_run("--module", token.module,
                                        "--api", "pkcs11", "--json",
                                        "list-certs", env=env,
                                        check=0).stdout)
    assert doc["certificates"] == []
    assert doc["token"]["serial"] == "3000A10000E00001"


# --------------------------------------------------------------------------
# SoftHSM2: a plain PKCS#11 EC token, module given with --module

def test_softhsm(tmp_path):
    hsm = gmtest.SoftHSM(tmp_path, label="hsm-token")
    m = Maker(tmp_path / "certs")
    now = utcnow()
    root, (inter,), sm2 = m.chain("hsm", 3, CA_SUBJECT,
                                  not_after=now + 60 * DAY + HOUR)
    p256 = m.issue(inter, "hsm-p256", "CN=JSB0100@IST@40,OU=软件令牌,"
                   "OU=CCNET,O=SSCCCA,C=CN", kind="p256",
                   not_after=now + 500 * DAY + HOUR)
    rsa = m.issue(inter, "hsm-rsa", "CN=RSA On HSM,O=Elsewhere,C=CN",
                  kind="rsa", not_before=now - 800 * DAY,
                  not_after=now - 5 * DAY + HOUR)
    # P-256 key pair on the token (private and public objects)
    hsm.import_key("a1", "p256 key", p256.key)
    gmtest.softhsm_import_pubkey(hsm, "a1", "p256 key", p256.pubkey_pem())
    hsm.import_cert("a1", "p256 cert", p256.pem)
    hsm.import_cert("b2", "sm2 cert", sm2.pem)     # no key: SM2 not on HSM
    hsm.import_cert("c3", "rsa cert", rsa.pem)
    env = hsm.env(TZ="UTC")
    for k in ("GMRENEW_CONFIG", "GMRENEW_PIN", "GMRENEW_PKCS11_MODULE"):
        env.pop(k, None)
    env["GMRENEW_CONFIG"] = str(tmp_path / "none.ini")
    env["GMRENEW_PIN"] = gmtest.PIN     # private keys seen after login
    (tmp_path / "none.ini").write_text("")
    p = gmtest.gmrenew_run("--module", hsm.module, "--json", "list-certs",
                           env=env, check=0)
    doc = json.loads(p.stdout)
    assert doc["token"]["label"] == "hsm-token"
    assert doc["token"]["manufacturer"] == "SoftHSM project"
    by_label = {c["label"]: c for c in doc["certificates"]}
    assert set(by_label) == {"p256 cert", "sm2 cert", "rsa cert"}
    assert sorted(c["index"] for c in doc["certificates"]) == [1, 2, 3]
    for cert, label in ((p256, "p256 cert"), (sm2, "sm2 cert"),
                        (rsa, "rsa cert")):
        c = by_label[label]
        assert c["sha256"] == cert.sha256()
        assert c["serial"] == cert.serial()
        assert c["subject"] == cert.subject_line()
        nb, na = cert.dates()
        assert (c["not_before"], c["not_after"]) == (iso(nb), iso(na))
    a = by_label["p256 cert"]
    assert (a["key_algorithm"], a["has_private_key"], a["id"]) == \
        ("EC-P256", True, "a1")
    assert (a["status"], a["renewal"], a["days_left"]) == \
        ("valid", "not_due", 500)
    assert (a["gateway"], a["organization"], a["system"]) == \
        ("JSB0100", "软件令牌", "CCNET")
    b = by_label["sm2 cert"]
    assert (b["key_algorithm"], b["has_private_key"]) == ("SM2", False)
    assert (b["status"], b["renewal"], b["days_left"]) == \
        ("expiring", "online", 60)
    c = by_label["rsa cert"]
    assert (c["key_algorithm"], c["has_private_key"]) == ("RSA-2048", False)
    assert (c["status"], c["renewal"], c["days_left"]) == \
        ("expired", "online", -5)
    # the table on SoftHSM, 80 columns
    p = gmtest.gmrenew_run("--module", hsm.module, "list-certs", env=env,
                           check=0)
    assert "软件令牌" in p.stdout
    for line in p.stdout.splitlines():
        if line.strip() not in {x["subject"] for x in doc["certificates"]}:
            assert width(line) <= 80, line


def test_key_pair_found_by_public_key_whatever_its_id(world):
    """A certificate belongs to the key pair with its public key, even
    when the two objects were given different CKA_IDs; a key with the
    certificate's CKA_ID but another public key is not its key."""
    pub = world.root / "pub-other.pem"
    cert = world.root / "cert-other.pem"
    world.token.gen_key(0, "0a", "other key", pub)
    world.service.enroll(pub, cert, days_left=30)
    world.token.import_cert(0, "0b", "other cert", cert)
    # a certificate with the CKA_ID of the first pair, for another key
    pub2 = world.root / "pub-lone.pem"
    lone = world.root / "cert-lone.pem"
    key2 = world.root / "lone.key"
    gmtest.make_sm2_key(key2)
    gmtest.pubkey_of(key2, pub2)
    world.service.enroll(pub2, lone, days_left=30)
    world.token.import_cert(0, "01", "lone cert", lone)
    by_label = {c["label"]: c for c in world.certs()}
    assert by_label["other cert"]["has_private_key"] is True
    assert by_label["other cert"]["id"] == "0b"
    assert by_label["lone cert"]["has_private_key"] is False
    assert by_label["JSB0000"]["has_private_key"] is True
    # without the PIN: the public key object alone says "unknown"
    doc = world.json("list-certs")
    by_label = {c["label"]: c for c in doc["certificates"]}
    assert by_label["other cert"]["has_private_key"] is None
    assert by_label["lone cert"]["has_private_key"] is False


def test_module_handing_out_a_few_handles_a_call(world):
    """A module may answer C_FindObjects with fewer handles than asked for
    while more are left (GMSOFT_FIND_MAX=1: one a call); only an answer of
    none ends the search, so every object is in the snapshot and a
    renewal on such a module still finds, checks and retires the right
    objects."""
    for key_id in ("0a", "0b"):
        pub = world.root / ("pub-%s.pem" % key_id)
        cert = world.root / ("cert-%s.pem" % key_id)
        world.token.gen_key(0, key_id, "key " + key_id, pub)
        world.service.enroll(pub, cert, days_left=300)
        world.token.import_cert(0, key_id, "cert " + key_id, cert)
    whole = world.certs()
    assert len(whole) == 3
    few = world.json("list-certs", "--pin-file", world.pin_file,
                     env=world.env(GMSOFT_FIND_MAX=1))["certificates"]
    assert [(c["sha256"], c["has_private_key"]) for c in few] == \
        [(c["sha256"], c["has_private_key"]) for c in whole]
    world.gmrenew("renew", "--yes", "--cert", "1", "--pin-file",
                  world.pin_file, env=world.env(GMSOFT_FIND_MAX=1), check=0)
    after = world.certs()
    assert len(after) == 3 and all(c["has_private_key"] for c in after)
    assert sorted(c["days_left"] > 1000 for c in after) == [False, False,
                                                             True]
