"""gmrenew against a hostile renewal service: every case from a clean soft
Ekey, each answered by a clear error with its documented exit code
(docs/exit-codes.md), nothing installed, the old pair intact and usable
(pkcs11-tool and openssl), no stray objects, no control characters on the
terminal, and then a renewal against the honest service that succeeds.
See suite.py for the checks and front.py for the hostile front."""
import base64
import json
import ssl

import pytest

import gmtest
from front import Answer
from suite import attack

CTRL = "\x1b[2J\x1b]52;c;aGVsbG8=\x07\u009b31m\u202eevil\x7f\x08"
BIG = 200 * 1024 * 1024
CODE = r"[2-9A-Z]{4}(-[2-9A-Z]{4}){3}"
NOT_INSTALLED = r"NOT installed"
# the reasons of docs/service-client.md, as the messages say them
TOO_LARGE = r"larger than .* bytes"
TIMEOUT = r"did not answer in time"
MALFORMED = r"malformed answer"
NOT_DER = r"not valid DER X.509"
CHANGES_NOTHING = r"confirm|fingerprint|certificate"


def fault(kind, ftype, **kw):
    return lambda case: case.suite.service.fault(kind, ftype, **kw)


def rule(kind, fn, count=None):
    """arrange(): the front answers kind with fn(req, case)."""
    return lambda case: case.suite.front.on(kind, lambda req: fn(req, case),
                                            count)


def mutate(kind, change):
    """The honest answer to kind, its JSON changed by change(obj, case)."""
    def fn(req, case):
        a = req.honest()
        obj = a.json()
        change(obj, case)
        return a.with_json(obj)
    return rule(kind, fn)


def raw(kind, body_of):
    """The honest answer to kind with its body replaced by body_of(text)."""
    def fn(req, case):
        a = req.honest()
        return a.with_body(body_of(a.body.decode("utf-8"), case).encode("utf-8"))
    return rule(kind, fn)


def answer(kind, status, body, headers=()):
    return rule(kind, lambda req, case: Answer(
        status, [("Content-Type", "application/json")] + list(headers),
        body.encode("utf-8") if isinstance(body, str) else body))


def error_body(code="busy", retryable=True, en="the service is busy",
               zh="服务繁忙"):
    return json.dumps({"error": {"code": code, "message_en": en,
                                 "message_zh": zh, "retryable": retryable}},
                      ensure_ascii=False)


def der_of(pem):
    text = pem.read_text()
    body = text.split("-----")[2]
    return base64.b64decode("".join(body.split()))


def confirmed(obj, case, cert_sha=None, old_sha=None, cert_b64=None):
    obj.update(state="confirmed", next_step="none")
    if cert_sha:
        obj["certificate_sha256"] = cert_sha
    if cert_b64:
        obj["certificate"] = cert_b64
    if old_sha:
        obj["old_certificate_sha256"] = old_sha


def names_old(obj, case):
    """A confirmed answer whose certificate is the old one."""
    chain = obj.get("chain") or [base64.b64encode(der_of(
        case.suite.service.dir / "issuing-ca.pem")).decode(),
        base64.b64encode(der_of(case.suite.service.dir / "chain-ca.pem")).decode()]
    confirmed(obj, case, cert_sha=case.old_sha,
              cert_b64=base64.b64encode(der_of(case.old_pem)).decode())
    obj["chain"] = chain


def old_names_new(obj, case):
    """A confirmed answer whose old certificate is the new one (or, before
    there is one, a certificate the token does not hold)."""
    confirmed(obj, case, old_sha=obj.get("certificate_sha256") or "ab" * 32)


def unknown_cert(obj, case):
    confirmed(obj, case, cert_sha="cd" * 32, old_sha="ab" * 32)


def set_fields(**fields):
    def change(obj, case):
        obj.update(fields)
    return change


def first_step_broken(case):
    """An honest start, then a csr the service refuses: an order, a journal
    and a pending pair for renew-with-code to finish."""
    case.suite.front.on("csr", lambda req: Answer(
        409, [("Content-Type", "application/json")],
        error_body("conflict", False, "not now").encode()), 1)
    p = case.renew()
    assert p.returncode == 1, p.stdout + p.stderr
    case.suite.front.reset()


def with_journal_code(case):
    (order,) = case.orders()
    return case.with_code(order["update_code"])


def tls(setup, files=None):
    def arrange(case):
        case.suite.front.tls = setup
        if files:
            case.suite.front.tls_files = files(case.suite.tls)
    return arrange


def tls10(ctx):
    ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1
    ctx.set_ciphers("ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0")


def null_cipher(ctx):
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("ECDHE-ECDSA-NULL-SHA:@SECLEVEL=0")


def silence_before_tls(case):
    case.suite.front.before_tls = "silence"


def deep(text, case):
    return '{"update_code": ' + "[" * 100000 + "]" * 100000 + "}"


def duplicate(text, case):
    """The honest answer with its state given twice, the same both times:
    parsers differ in which of two members they take, so it is refused."""
    return '{"state": "issued", ' + text.lstrip()[1:]


CASES = {
    # -- certificates the service issues (reference service fault switches)
    "cert_for_a_key_not_on_the_token": (fault("csr", "wrong_key"), 8, NOT_INSTALLED),
    "cert_for_another_identitys_key": (
        lambda case: case.suite.service.fault("csr", "other_key", pubkey=case.pub2),
        8, NOT_INSTALLED, {"identities": 2}),
    "cert_for_the_old_key": (fault("csr", "old_key"), 8, NOT_INSTALLED),
    "cert_with_another_subject": (fault("csr", "wrong_subject"), 8, NOT_INSTALLED),
    "cert_from_another_issuer": (fault("csr", "wrong_issuer"), 8, NOT_INSTALLED),
    "cert_with_an_untrusted_chain": (fault("csr", "untrusted_chain"), 8, NOT_INSTALLED),
    "cert_expired": (fault("csr", "expired"), 8, NOT_INSTALLED),
    "cert_not_yet_valid": (fault("csr", "not_yet_valid"), 8, NOT_INSTALLED),
    "cert_validity_too_short": (fault("csr", "short_validity"), 8, NOT_INSTALLED),
    "cert_validity_too_long": (fault("csr", "long_validity"), 8, NOT_INSTALLED),
    # not a certificate at all: an unexpected answer (exit 1)
    "cert_der_truncated": (fault("csr", "der_truncated"), 1, NOT_DER),
    "cert_der_trailing_junk": (fault("csr", "der_trailing"), 1, r"junk after the certificate"),
    "cert_malformed_pem": (fault("csr", "pem_text"), 1, NOT_DER),
    # -- JSON
    "json_truncated": (raw("csr", lambda t, c: t[:len(t) // 2]), 7, MALFORMED),
    "json_broken": (fault("start", "malformed"), 7, MALFORMED),
    "json_certificate_is_a_number": (mutate("csr", set_fields(certificate=12345)), 7, MALFORMED),
    "json_state_is_a_list": (mutate("start", set_fields(state=["issued"], update_code={"a": 1})),
                             7, MALFORMED),
    "json_duplicate_keys": (raw("csr", duplicate), 7, r"malformed answer: an object has two members"),
    "json_deeply_nested": (raw("csr", deep), 7, MALFORMED),
    # -- bodies and time
    "body_200mb_with_length": (rule("csr", lambda r, c: r.endless("length", BIG)), 7, TOO_LARGE),
    "body_200mb_without_length": (rule("start", lambda r, c: r.endless("close", BIG)), 7, TOO_LARGE),
    "body_200mb_chunked": (rule("confirm", lambda r, c: r.endless("chunked", BIG)), 7, TOO_LARGE,
                           {"installed_ok": True}),
    "slow_drip": (rule("lookup", lambda r, c: r.drip()), 7, TIMEOUT),
    "tcp_silence": (silence_before_tls, 7, TIMEOUT),
    "tls_silence": (rule("lookup", lambda r, c: r.silence()), 7, TIMEOUT),
    # -- redirects and Retry-After
    "redirect_to_http": (rule("lookup", lambda r, c: Answer(
        302, [("Location", "http://127.0.0.1:%d/v1/lookup" % c.suite.front.port)], b"")),
        7, r"redirect"),
    "redirect_to_another_host": (rule("csr", lambda r, c: Answer(
        307, [("Location", "https://renew.example.net/v1/renewals/x/csr")], b"")),
        7, r"redirect"),
    "retry_after_small": (answer("lookup", 503, error_body(), [("Retry-After", "1")]),
                          7, r"busy", {"max_s": 30}),
    "retry_after_huge": (answer("start", 503, error_body(), [("Retry-After", "31536000")]),
                         7, r"busy", {"max_s": 20}),
    "retry_after_overflowing": (answer("csr", 503, error_body(),
                                       [("Retry-After", "9" * 40)]),
                                7, r"busy", {"max_s": 20}),
    # -- TLS
    "tls_for_another_host_name": (tls(None, lambda t: t.other_host), 7, r"not valid for that host name"),
    "tls_untrusted_ca": (tls(None, lambda t: t.untrusted), 7, r"not trusted"),
    "tls_1_0": (tls(tls10), 7, r"TLS|SSL"),
    "tls_null_cipher": (tls(null_cipher), 7, r"TLS|SSL|cipher"),
    # -- confirmed answers naming the wrong certificates, at every step
    "confirmed_start_names_the_old_cert": (mutate("start", names_old), 7, CHANGES_NOTHING),
    "confirmed_start_names_unknown_certs": (mutate("start", unknown_cert), 7, CHANGES_NOTHING),
    "confirmed_status_names_the_old_cert": (mutate("status", names_old), 7, CHANGES_NOTHING,
                                            {"before": first_step_broken,
                                             "command": with_journal_code}),
    "confirmed_status_names_unknown_certs": (mutate("status", unknown_cert), 7, CHANGES_NOTHING,
                                             {"before": first_step_broken,
                                              "command": with_journal_code}),
    "confirmed_csr_names_the_old_cert": (mutate("csr", names_old), 7, CHANGES_NOTHING),
    "confirmed_csr_old_names_the_new": (mutate("csr", old_names_new), 7, CHANGES_NOTHING),
    "confirmed_confirm_names_the_old_cert": (mutate("confirm", names_old), 7, CHANGES_NOTHING,
                                             {"installed_ok": True}),
    "confirmed_confirm_old_names_the_new": (mutate("confirm", old_names_new), 7,
                                            CHANGES_NOTHING, {"installed_ok": True}),
    "old_fingerprint_changes_between_answers": (
        mutate("csr", set_fields(old_certificate_sha256="ef" * 32)), 7, CHANGES_NOTHING),
    # -- made-up update codes
    "made_up_code_at_start": (mutate("start", set_fields(update_code="ZZZZ-ZZZZ-ZZZZ-ZZZZ")),
                              7, r"ZZZZ"),
    "another_code_in_the_csr_answer": (mutate("csr", set_fields(update_code="ZZZZ-ZZZZ-ZZZZ-ZZZZ")),
                                       7, r"code"),
    "code_that_is_no_code": (mutate("start", set_fields(update_code="../../etc/passwd")),
                             7, MALFORMED),
    # -- control characters in every text field
    "control_chars_in_error_texts": (answer("lookup", 403, error_body(
        "nope", False, "refused" + CTRL, CTRL)), 1, r"nope.*refused"),
    "control_chars_in_lookup_record": (mutate("lookup", lambda o, c: o["results"][0].update(
        subject=CTRL, gateway=CTRL, organization=CTRL, system=CTRL, status=CTRL,
        renewal={"online": False, "reason": "closed" + CTRL, "window_start": None,
                 "window_end": None})), 1, r"closed"),
    "control_chars_in_order_fields": (mutate("start", set_fields(
        state="issued" + CTRL, next_step=CTRL, subject=CTRL)), 7, MALFORMED),
    "control_chars_in_redirect_location": (rule("lookup", lambda r, c: Answer(
        302, [("Location", "https://evil.example/" + CTRL)], b"")), 7, r"redirect"),
    "control_chars_in_list_certs_online": (mutate("lookup", lambda o, c: o["results"][0].update(
        status=CTRL, open_order={"update_code": "ZZZZ-ZZZZ-ZZZZ-ZZZZ", "state": "issued" + CTRL},
        renewal={"online": False, "reason": "closed" + CTRL, "window_start": None,
                 "window_end": None})), 0, r"JSB0000",
        {"command": lambda case: case.gmrenew("list-certs", "--online")}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile(suite, name):
    arrange, exit_code, message, *extra = CASES[name]
    attack(suite, name, arrange, exit_code, message, **(extra[0] if extra else {}))

