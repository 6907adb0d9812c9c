"""Renewal logic of the reference service: registry, orders, challenges, PoP.

The HTTP layer (refservice.py) turns requests into calls of RenewalService
methods; each returns (http_status, json_object) or raises ApiError.
"""

import base64
import binascii
import datetime
import hashlib
import json
import os
import secrets
import sqlite3
import threading

import der
import kmc
import pki

WINDOW = datetime.timedelta(days=90)
NEW_VALIDITY = datetime.timedelta(days=1826)
ORDER_LIFETIME = datetime.timedelta(days=7)
CHALLENGE_LIFETIME = 300
MAX_LOOKUP_ITEMS = 16
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
OPEN_STATES = ("started", "csr_received", "issued")
POP_PREFIX = b"gmrenew-pop-v1\n"
PROTOCOL = "1.1"
V11_LOOKUP_MEMBERS = ("role", "double_certificate", "partner_sha256")

# code -> (http status, retryable, message_zh, message_en)
ERRORS = {
    "bad_request": (400, False, "请求格式错误", "malformed request"),
    "csr_invalid": (400, False, "证书请求无效", "the certificate request is invalid"),
    "bad_challenge": (401, True, "挑战值无效、已使用或已过期，请重试",
                      "the challenge is unknown, used or expired; retry with the new one"),
    "pop_invalid": (403, False, "签名验证失败", "the proof-of-possession signature does not verify"),
    "not_due": (403, False, "证书距到期超过 90 天，暂不能在线更新",
                "the certificate expires in more than 90 days; online renewal is not yet possible"),
    "offline_only": (403, False,
                     "证书已过期超过 90 天，只能线下更新：请将 Ekey 和填写好的《证书业务信息表》寄回 CA",
                     "the certificate expired more than 90 days ago; only offline renewal is "
                     "possible: mail the Ekey and the completed certificate business form "
                     "(证书业务信息表) to the CA"),
    "revoked": (403, False, "证书已吊销，无法更新", "the certificate is revoked and cannot be renewed"),
    "unknown_certificate": (404, False, "CA 没有该证书的记录", "the CA has no record of this certificate"),
    "unknown_code": (404, False, "更新码不存在", "no renewal with this update code"),
    "superseded": (409, False, "该证书已经更新过", "this certificate has already been renewed"),
    "conflict": (409, False, "当前状态下不允许该操作", "not allowed in the renewal's current state"),
    "code_expired": (410, False, "更新码已过期", "the update code has expired"),
    "subject_mismatch": (422, False, "更新的证书与您当前 Ekey 的证书主题不符，无法更新证书",
                         "the renewed certificate does not match the subject of the certificate "
                         "on your Ekey, cannot renew"),
    "internal": (500, True, "服务内部错误，请稍后重试", "internal error; retry later"),
    "busy": (503, True, "服务繁忙，请稍后重试", "the service is busy; retry later"),
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS certs (
    sha256 TEXT PRIMARY KEY, der BLOB NOT NULL, serial TEXT NOT NULL,
    issuer_der BLOB NOT NULL, gateway TEXT, organization TEXT, system TEXT,
    revoked INTEGER NOT NULL DEFAULT 0, superseded_by TEXT, enrolled INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
    code TEXT PRIMARY KEY, old_sha256 TEXT NOT NULL, state TEXT NOT NULL,
    created INTEGER NOT NULL, expires INTEGER NOT NULL, csr BLOB, cert_sha256 TEXT);
CREATE TABLE IF NOT EXISTS pairs (
    sign_sha256 TEXT PRIMARY KEY, enc_sha256 TEXT NOT NULL UNIQUE, enc_key BLOB NOT NULL,
    envelope TEXT NOT NULL);
"""


class ApiError(Exception):
    """A protocol error: code from ERRORS, optional extra members and status."""

    def __init__(self, code, detail=None, status=None, **extra):
        super().__init__(code)
        self.code = code
        self.detail = detail
        self.status = status or ERRORS[code][0]
        self.extra = extra

    def body(self):
        """The JSON error object (without next_challenge)."""
        _, retryable, zh, en = ERRORS[self.code]
        if self.detail:
            en = "%s: %s" % (en, self.detail)
        err = {"code": self.code, "message_zh": zh, "message_en": en, "retryable": retryable}
        err.update(self.extra)
        return {"error": err}


# ---------------------------------------------------------------- helpers

def b64(data):
    """Standard base64 text."""
    return base64.b64encode(data).decode("ascii")


def unb64(text, what):
    """Decode standard base64 or raise bad_request."""
    if not isinstance(text, str) or not text:
        raise ApiError("bad_request", "%s missing" % what)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApiError("bad_request", "%s is not base64" % what) from exc


def iso(when):
    """RFC 3339 UTC text of a datetime or epoch seconds."""
    if when is None:
        return None
    if isinstance(when, (int, float)):
        when = datetime.datetime.fromtimestamp(when, datetime.timezone.utc)
    return when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_update_code():
    """16 characters of the unambiguous alphabet, grouped 4-4-4-4."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(16))
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


def normalise_code(text):
    """Canonical update code, or None when text cannot be one."""
    raw = text.replace("-", "").replace(" ", "").upper()
    if len(raw) != 16 or any(c not in CODE_ALPHABET for c in raw):
        return None
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


def pop_message(challenge, method, path, body):
    """The signed bytes M of protocol section 5.2."""
    digest = base64.b64encode(hashlib.sha256(body).digest())
    return (POP_PREFIX + challenge.encode("ascii") + b"\n" + method.encode("ascii") + b" "
            + path.encode("utf-8") + b"\n" + digest)


def parse_json(body):
    """JSON object of a request body, or bad_request."""
    try:
        obj = json.loads(body.decode("utf-8")) if body else {}
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError("bad_request", "body is not JSON") from exc
    if not isinstance(obj, dict):
        raise ApiError("bad_request", "body is not a JSON object")
    return obj


class Challenges:
    """Fresh, single-use, short-lived challenges kept in memory."""

    def __init__(self, lifetime=CHALLENGE_LIFETIME):
        self.lifetime = lifetime
        self.lock = threading.Lock()
        self.live = {}

    def issue(self, now):
        """A new challenge valid for lifetime seconds from now (epoch)."""
        value = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
        with self.lock:
            for key in [k for k, exp in self.live.items() if exp < now]:
                del self.live[key]
            self.live[value] = now + self.lifetime
        return value

    def consume(self, value, now):
        """True (and the challenge is gone) when value is live."""
        with self.lock:
            expires = self.live.pop(value, None)
        return expires is not None and now <= expires


# ---------------------------------------------------------------- the service

class RenewalService:
    """Registry, orders and the protocol operations."""

    def __init__(self, directory, settings):
        """settings: callable returning the current faults.json content."""
        self.dir = directory
        self.settings = settings
        self.lock = threading.RLock()
        self.db = open_db(directory, check_same_thread=False)
        self.challenges = Challenges()
        self.issuing = load_issuer(directory, "issuing")
        self.root = pki.Cert.from_file(os.path.join(directory, "chain-ca.pem"))

    # -- time and switches

    def now(self):
        """Service time: wall clock plus the test clock offset."""
        offset = int(self.settings().get("clock_offset", 0))
        return pki.utcnow() + datetime.timedelta(seconds=offset)

    def rekey_allowed(self):
        """Server-wide re-key switch (default on)."""
        return bool(self.settings().get("rekey_allowed", True))

    def speaks_1_0(self):
        """Test switch "protocol": "1.0": act as a 1.0 service (no double
        certificates, no 1.1 members), for 1.1 clients' tests."""
        return self.settings().get("protocol") == "1.0"

    def next_challenge(self):
        """A new challenge for the response being built."""
        return self.challenges.issue(self.now().timestamp())

    # -- registry

    def cert_row(self, sha256):
        """Registry row of a certificate, or None."""
        return self.db.execute("SELECT * FROM certs WHERE sha256=?", (sha256,)).fetchone()

    def cert_by_issuer_serial(self, issuer_der, serial):
        """Registry row for issuer Name DER + serial text, or None."""
        serial = serial.lower().lstrip("0") or "0"
        return self.db.execute("SELECT * FROM certs WHERE issuer_der=? AND serial=?",
                               (issuer_der, serial)).fetchone()

    def renewal_status(self, row, cert, now):
        """(status, online, reason, window_start, window_end) of a registry row."""
        start, end = cert.not_after - WINDOW, cert.not_after + WINDOW
        status = "revoked" if row["revoked"] else ("expired" if now > cert.not_after else "valid")
        if row["revoked"]:
            reason = "revoked"
        elif row["superseded_by"]:
            reason = "superseded"
        elif now < start:
            reason = "not_due"
        elif now > end:
            reason = "offline_only"
        else:
            reason = None
        return status, reason is None, reason, start, end

    # -- orders

    def order_row(self, code_text):
        """Order row for an update code (expiring it lazily) or unknown_code."""
        code = normalise_code(code_text)
        row = code and self.db.execute("SELECT * FROM orders WHERE code=?", (code,)).fetchone()
        if not row:
            raise ApiError("unknown_code")
        if row["state"] in OPEN_STATES and self.now().timestamp() > row["expires"]:
            self.set_state(code, "expired")
            row = self.db.execute("SELECT * FROM orders WHERE code=?", (code,)).fetchone()
        return row

    def set_state(self, code, state, **fields):
        """Update an order's state and other columns."""
        cols = ["state=?"] + ["%s=?" % k for k in fields]
        self.db.execute("UPDATE orders SET %s WHERE code=?" % ", ".join(cols),
                        [state] + list(fields.values()) + [code])
        self.db.commit()

    def open_order(self, old_sha256):
        """The open order of a certificate, or None."""
        for row in self.db.execute("SELECT code FROM orders WHERE old_sha256=? AND state IN (?,?,?)",
                                   (old_sha256,) + OPEN_STATES).fetchall():
            order = self.order_row(row["code"])
            if order["state"] in OPEN_STATES:
                return order
        return None

    def order_object(self, row):
        """The protocol's order object."""
        old = pki.Cert(self.cert_row(row["old_sha256"])["der"])
        issued = self.issued_cert(row)
        step = {"started": "csr", "csr_received": "csr", "issued": "confirm"}.get(row["state"], "none")
        return {
            "update_code": row["code"], "state": row["state"], "next_step": step,
            "created_at": iso(row["created"]), "expires_at": iso(row["expires"]),
            "old_certificate_sha256": old.sha256, "subject": old.subject,
            "csr_requirements": {"subject_der": b64(old.subject_der), "key_type": pki.key_type(old.spki)},
            "rekey_allowed": self.rekey_allowed(),
            "certificate": b64(issued.der) if issued else None,
            "certificate_sha256": issued.sha256 if issued else None,
            "chain": [b64(self.issuing.cert.der), b64(self.root.der)] if issued else None,
            "not_after": iso(issued.not_after) if issued else None,
            **self.encryption_members(old, issued),
        }

    def encryption_members(self, old, issued):
        """The order object's members of protocol 1.1 (section 3.8)."""
        if self.speaks_1_0():
            return {}
        pair = self.pair_of(issued.sha256) if issued else None
        double = pair is not None if issued else self.double_subject(old)
        return {"protocol": PROTOCOL, "double_certificate": double,
                "encryption": self.encryption_object(pair) if pair else None}

    def encryption_object(self, pair):
        """The order object's encryption part for a pairs row."""
        cert = pki.Cert(self.cert_row(pair["enc_sha256"])["der"])
        return {"certificate": b64(cert.der), "certificate_sha256": cert.sha256,
                "not_after": iso(cert.not_after), "enveloped_key": json.loads(pair["envelope"])}

    # -- double certificates

    def pair_of(self, sign_sha256):
        """The pairs row of a signing certificate, or None."""
        return self.db.execute("SELECT * FROM pairs WHERE sign_sha256=?", (sign_sha256,)).fetchone()

    def signing_partner(self, enc_sha256):
        """The signing certificate's fingerprint when enc_sha256 is an encryption certificate."""
        if self.speaks_1_0():
            return None
        row = self.db.execute("SELECT sign_sha256 FROM pairs WHERE enc_sha256=?", (enc_sha256,)).fetchone()
        return row["sign_sha256"] if row else None

    def double_subject(self, cert):
        """True when a signing certificate's subject gets double certificates."""
        if self.speaks_1_0():
            return False
        return kmc.is_double(self.dir, cert.subject) or self.pair_of(cert.sha256) is not None

    def revoke_with_partner(self, sign_sha256):
        """Revoke a signing certificate and its encryption partner."""
        pair = self.pair_of(sign_sha256)
        for sha in [sign_sha256] + ([pair["enc_sha256"]] if pair else []):
            self.db.execute("UPDATE certs SET revoked=1 WHERE sha256=?", (sha,))
        self.db.commit()

    def issued_cert(self, row):
        """The order's current certificate (pki.Cert) or None."""
        if not row["cert_sha256"]:
            return None
        return pki.Cert(self.cert_row(row["cert_sha256"])["der"])

    # -- PoP

    def check_pop(self, headers, method, path, body, keys):
        """Steps 3 and 4 of the checks: challenge, then signature by one of keys."""
        challenge = headers.get("Gmrenew-Challenge", "")
        if not challenge or not self.challenges.consume(challenge, self.now().timestamp()):
            raise ApiError("bad_challenge")
        try:
            signature = base64.b64decode(headers.get("Gmrenew-Signature", ""), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ApiError("pop_invalid", "signature is not base64") from exc
        message = pop_message(challenge, method, path, body)
        if not signature or not any(pki.verify(k, message, signature) for k in keys):
            raise ApiError("pop_invalid")

    # -- operations

    def challenge(self):
        """GET /v1/challenge."""
        return 200, {"expires_in": self.challenges.lifetime}

    def lookup(self, body):
        """POST /v1/lookup."""
        items = parse_json(body).get("certificates")
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_LOOKUP_ITEMS:
            raise ApiError("bad_request", "certificates must be a list of 1 to %d items" % MAX_LOOKUP_ITEMS)
        with self.lock:
            results = [self.lookup_one(item) for item in items]
        if self.speaks_1_0():
            return 200, {"results": [{k: v for k, v in r.items() if k not in V11_LOOKUP_MEMBERS}
                                     for r in results]}
        return 200, {"protocol": PROTOCOL, "results": results}

    def lookup_one(self, item):
        """One lookup result."""
        if not isinstance(item, dict):
            raise ApiError("bad_request", "lookup item is not an object")
        given = None
        if "certificate" in item:
            given = parse_cert(unb64(item["certificate"], "certificate"))
            row = self.cert_row(given.sha256)
        elif "sha256" in item:
            if not isinstance(item["sha256"], str):
                raise ApiError("bad_request", "sha256 must be text")
            row = self.cert_row(item["sha256"].lower())
        elif "issuer" in item and "serial" in item:
            serial = item["serial"]
            if not isinstance(serial, str) or not serial or any(c not in "0123456789abcdefABCDEF" for c in serial):
                raise ApiError("bad_request", "serial must be hex")
            row = self.cert_by_issuer_serial(unb64(item["issuer"], "issuer"), serial)
        else:
            raise ApiError("bad_request", "lookup item needs certificate, sha256 or issuer+serial")
        if row is None:
            return not_found_result(given)
        return self.found_result(row)

    def found_result(self, row):
        """Lookup result for a registry row."""
        cert = pki.Cert(row["der"])
        status, online, reason, start, end = self.renewal_status(row, cert, self.now())
        order = self.open_order(row["sha256"])
        signing = self.signing_partner(cert.sha256)
        if signing:
            online, reason, start, end = False, "encryption_partner", None, None
            roles = {"role": "encryption", "double_certificate": True, "partner_sha256": signing}
        else:
            pair = self.pair_of(cert.sha256)
            roles = {"role": "signing", "double_certificate": self.double_subject(cert),
                     "partner_sha256": pair["enc_sha256"] if pair else None}
        return {
            "found": True, "sha256": cert.sha256, "serial": cert.serial_hex,
            "subject": cert.subject, "issuer": cert.issuer,
            "not_before": iso(cert.not_before), "not_after": iso(cert.not_after),
            "gateway": row["gateway"], "organization": row["organization"], "system": row["system"],
            "status": status, "superseded_by": row["superseded_by"],
            "renewal": {"online": online, "reason": reason,
                        "window_start": iso(start), "window_end": iso(end)},
            "open_order": {"update_code": order["code"], "state": order["state"]} if order else None,
            **roles,
        }

    def start(self, headers, path, body):
        """POST /v1/renewals."""
        old = parse_cert(unb64(parse_json(body).get("certificate"), "certificate"))
        with self.lock:
            row = self.cert_row(old.sha256)
            if row is None:
                raise ApiError("unknown_certificate")
            if self.signing_partner(old.sha256):
                raise ApiError("conflict", "an encryption certificate is renewed with its signing "
                               "certificate (partner_sha256 in lookup)")
            self.check_pop(headers, "POST", path, body, [old.spki])
            order = self.open_order(old.sha256)
            if order:
                return 200, self.order_object(order)
            _, online, reason, _, _ = self.renewal_status(row, old, self.now())
            if reason == "superseded":
                done = self.db.execute("SELECT code FROM orders WHERE old_sha256=? AND state='confirmed'",
                                       (old.sha256,)).fetchone()
                raise ApiError("superseded", update_code=done["code"] if done else None)
            if not online:
                raise ApiError(reason)
            return 201, self.order_object(self.create_order(old.sha256))

    def create_order(self, old_sha256):
        """Insert a new order; return its row."""
        now = int(self.now().timestamp())
        code = new_update_code()
        self.db.execute("INSERT INTO orders (code, old_sha256, state, created, expires) VALUES (?,?,?,?,?)",
                        (code, old_sha256, "started", now, now + int(ORDER_LIFETIME.total_seconds())))
        self.db.commit()
        return self.order_row(code)

    def status(self, code):
        """GET /v1/renewals/{code}."""
        with self.lock:
            return 200, self.order_object(self.order_row(code))

    def csr(self, code, headers, path, body, fail_issuance=False):
        """POST /v1/renewals/{code}/csr."""
        csr_der = unb64(parse_json(body).get("csr"), "csr")
        with self.lock:
            row = self.live_order(code)
            old = pki.Cert(self.cert_row(row["old_sha256"])["der"])
            issued = self.issued_cert(row)
            self.check_pop(headers, "POST", path, body, [old.spki] + ([issued.spki] if issued else []))
            if row["state"] == "cancelled":
                raise ApiError("conflict", "the renewal was cancelled")
            csr = self.checked_csr(csr_der, old)
            if issued and csr.spki == issued.spki:
                return 200, self.order_object(row)
            if row["state"] == "confirmed":
                raise ApiError("conflict", "the renewal is already confirmed")
            if issued and not self.rekey_allowed():
                raise ApiError("conflict", "re-keying is not allowed for this renewal")
            self.set_state(row["code"], "csr_received", csr=csr.der)
            if fail_issuance:
                raise ApiError("internal", "issuance failed (fault switch)")
            if issued:
                self.revoke_with_partner(issued.sha256)
            new = self.issue_for(row, old, csr.spki)
            self.set_state(row["code"], "issued", cert_sha256=new.sha256)
            return 200, self.order_object(self.order_row(row["code"]))

    def live_order(self, code):
        """Order row usable for csr/cancel: unknown_code / code_expired otherwise."""
        row = self.order_row(code)
        if row["state"] == "expired":
            raise ApiError("code_expired")
        return row

    def checked_csr(self, csr_der, old):
        """Parse and check a CSR against the old certificate (step 5)."""
        try:
            csr = pki.CSR(csr_der)
        except pki.PKIError as exc:
            raise ApiError("csr_invalid", "not a PKCS#10 request") from exc
        if csr.kind is None or csr.kind != pki.key_type(old.spki):
            raise ApiError("csr_invalid", "the new key must be of type %s" % pki.key_type(old.spki))
        if not csr.self_signature_ok():
            raise ApiError("csr_invalid", "the request's self-signature does not verify")
        if csr.spki == old.spki:
            raise ApiError("csr_invalid", "the new key must differ from the old one")
        if csr.subject_der != old.subject_der:
            raise ApiError("subject_mismatch")
        return csr

    def issue_for(self, row, old, spki):
        """Issue and register the renewed certificate for an order."""
        now = self.now()
        # The validity moves on by 5 years from the old certificate's end
        # ("有效期往后延长约5年"), so renewing early loses no time.
        data = pki.issue(self.issuing, old.subject_der, spki, now - datetime.timedelta(seconds=60),
                         old.not_after + NEW_VALIDITY)
        cert = pki.Cert(data)
        old_row = self.cert_row(old.sha256)
        labels = (old_row["gateway"], old_row["organization"], old_row["system"])
        register(self.db, cert, *labels)
        if self.double_subject(old) and pki.key_type(spki) == pki.KEY_SM2:
            add_encryption_part(self.db, self.issuing, cert, labels)
        return cert

    def confirm(self, code, headers, path, body):
        """POST /v1/renewals/{code}/confirm."""
        wanted = parse_json(body).get("certificate_sha256")
        if not isinstance(wanted, str) or len(wanted) != 64:
            raise ApiError("bad_request", "certificate_sha256 must be 64 hex characters")
        with self.lock:
            row = self.order_row(code)
            issued = self.issued_cert(row)
            if row["state"] == "expired" and not issued:
                raise ApiError("code_expired")
            old = pki.Cert(self.cert_row(row["old_sha256"])["der"])
            self.check_pop(headers, "POST", path, body, ([issued.spki] if issued else []) + [old.spki])
            if not issued or row["state"] == "cancelled":
                raise ApiError("conflict", "there is no issued certificate to confirm")
            if wanted.lower() != issued.sha256:
                raise ApiError("conflict", "this is not the renewal's current certificate")
            if row["state"] != "confirmed":
                self.set_state(row["code"], "confirmed")
                self.db.execute("UPDATE certs SET superseded_by=? WHERE sha256=?", (issued.sha256, old.sha256))
                old_pair, new_pair = self.pair_of(old.sha256), self.pair_of(issued.sha256)
                if old_pair and new_pair:
                    self.db.execute("UPDATE certs SET superseded_by=? WHERE sha256=?",
                                    (new_pair["enc_sha256"], old_pair["enc_sha256"]))
                self.db.commit()
            return 200, self.order_object(self.order_row(row["code"]))

    def cancel(self, code, headers, path, body):
        """POST /v1/renewals/{code}/cancel."""
        parse_json(body)
        with self.lock:
            row = self.live_order(code)
            old = pki.Cert(self.cert_row(row["old_sha256"])["der"])
            issued = self.issued_cert(row)
            self.check_pop(headers, "POST", path, body, [old.spki] + ([issued.spki] if issued else []))
            if row["state"] == "confirmed":
                raise ApiError("conflict", "the renewal is already confirmed")
            if row["state"] != "cancelled":
                if issued:
                    self.revoke_with_partner(issued.sha256)
                self.set_state(row["code"], "cancelled")
            return 200, self.order_object(self.order_row(row["code"]))


def parse_cert(data):
    """pki.Cert or bad_request."""
    try:
        return pki.Cert(data)
    except pki.PKIError as exc:
        raise ApiError("bad_request", "not a DER certificate") from exc


def not_found_result(given):
    """Lookup result for a certificate the CA does not know."""
    result = {k: None for k in ("sha256", "serial", "subject", "issuer", "not_before", "not_after",
                                "gateway", "organization", "system", "superseded_by", "open_order",
                                "role", "double_certificate", "partner_sha256")}
    if given is not None:
        result.update(sha256=given.sha256, serial=given.serial_hex, subject=given.subject,
                      issuer=given.issuer, not_before=iso(given.not_before),
                      not_after=iso(given.not_after))
    result.update(found=False, status="unknown",
                  renewal={"online": False, "reason": "unknown", "window_start": None, "window_end": None})
    return result


# ---------------------------------------------------------------- storage

def open_db(directory, check_same_thread=True):
    """Open (creating if needed) the registry database of a service directory."""
    db = sqlite3.connect(os.path.join(directory, "registry.db"), check_same_thread=check_same_thread,
                         timeout=10)
    db.row_factory = sqlite3.Row
    db.executescript(SCHEMA)
    return db


def register(db, cert, gateway, organization, system):
    """Add a certificate to the registry."""
    db.execute("INSERT OR REPLACE INTO certs (sha256, der, serial, issuer_der, gateway, organization, "
               "system, enrolled) VALUES (?,?,?,?,?,?,?,?)",
               (cert.sha256, cert.der, cert.serial_hex, cert.issuer_der, gateway, organization, system,
                int(pki.utcnow().timestamp())))
    db.commit()


def add_encryption_part(db, issuer, sign_cert, labels):
    """KMC: a new encryption key pair (escrowed in pairs), its certificate
    (subject and validity of sign_cert) and the envelope to sign_cert's key.
    Return (encryption pki.Cert, enveloped_key object)."""
    key_pem, spki = kmc.new_key_pair()
    enc = pki.Cert(kmc.issue_encryption_cert(issuer, sign_cert.subject_der, spki,
                                             sign_cert.not_before, sign_cert.not_after))
    register(db, enc, *labels)
    envelope = kmc.envelope(key_pem, spki, sign_cert.spki, sign_cert.sha256)
    db.execute("INSERT OR REPLACE INTO pairs (sign_sha256, enc_sha256, enc_key, envelope) VALUES (?,?,?,?)",
               (sign_cert.sha256, enc.sha256, key_pem, json.dumps(envelope)))
    db.commit()
    return enc, envelope


def load_issuer(directory, name):
    """pki.Issuer for D/<name>.key + D/<name>-ca.pem."""
    return pki.Issuer(os.path.join(directory, name + ".key"),
                      pki.Cert.from_file(os.path.join(directory, name + "-ca.pem")))
