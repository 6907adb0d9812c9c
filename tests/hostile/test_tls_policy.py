"""The TLS policy of the service client against real TLS servers (the
hostile front with the server settings of each case): TLS 1.3, or TLS 1.2
with ECDHE and AEAD suites only; static RSA and CBC suites refused; the
policy set in [service] (docs/configuration.md), never NULL suites."""
import ssl

import pytest

ECDSA_GCM = "ECDHE-ECDSA-AES128-GCM-SHA256"


def server(maximum=None, minimum=None, ciphers=None, rsa=False):
    def setup(ctx):
        if minimum:
            ctx.minimum_version = minimum
        if maximum:
            ctx.maximum_version = maximum
        if ciphers:
            ctx.set_ciphers(ciphers)
    return setup, rsa


TLS12 = ssl.TLSVersion.TLSv1_2
TLS13 = ssl.TLSVersion.TLSv1_3
# name: (server, extra [service] lines, exit code, what the front saw)
CASES = {
    "tls13_accepted": (server(minimum=TLS13), "", 0, "TLSv1.3"),
    "tls12_ecdhe_gcm_accepted": (server(maximum=TLS12, ciphers=ECDSA_GCM), "", 0,
                                 "TLSv1.2 " + ECDSA_GCM),
    "tls12_ecdhe_chacha_accepted": (server(maximum=TLS12, ciphers="ECDHE-ECDSA-CHACHA20-POLY1305"),
                                    "", 0, "TLSv1.2 ECDHE-ECDSA-CHACHA20-POLY1305"),
    "tls12_ecdhe_rsa_gcm_accepted": (server(maximum=TLS12, ciphers="ECDHE-RSA-AES256-GCM-SHA384",
                                            rsa=True), "", 0, "TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384"),
    "tls12_cbc_sha1_refused": (server(maximum=TLS12, ciphers="ECDHE-ECDSA-AES128-SHA"), "", 7,
                               "tls refused"),
    "tls12_cbc_sha256_refused": (server(maximum=TLS12, ciphers="ECDHE-ECDSA-AES128-SHA256"), "", 7,
                                 "tls refused"),
    "tls12_static_rsa_gcm_refused": (server(maximum=TLS12, ciphers="AES128-GCM-SHA256", rsa=True),
                                     "", 7, "tls refused"),
    "tls12_static_rsa_cbc_refused": (server(maximum=TLS12, ciphers="AES128-SHA", rsa=True), "", 7,
                                     "tls refused"),
    "override_allows_cbc": (server(maximum=TLS12, ciphers="ECDHE-ECDSA-AES128-SHA"),
                            "tls12_ciphers = ECDHE-ECDSA-AES128-SHA\n", 0,
                            "TLSv1.2 ECDHE-ECDSA-AES128-SHA"),
    "override_tls13_only_refuses_tls12": (server(maximum=TLS12, ciphers=ECDSA_GCM),
                                          "tls_min_version = 1.3\n", 7, "tls refused"),
    "override_tls13_only_accepts_tls13": (server(minimum=TLS13), "tls_min_version = 1.3\n", 0,
                                          "TLSv1.3"),
    "override_tls13_suite": (server(minimum=TLS13), "tls13_ciphers = TLS_CHACHA20_POLY1305_SHA256\n",
                             0, "TLSv1.3 TLS_CHACHA20_POLY1305_SHA256"),
    "override_cannot_allow_null": (server(maximum=TLS12, ciphers="ECDHE-ECDSA-NULL-SHA:@SECLEVEL=0"),
                                   "tls12_ciphers = ECDHE-ECDSA-NULL-SHA\n", 2, None),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_tls_policy(suite, name):
    (setup, rsa), extra, exit_code, seen = CASES[name]
    case = suite.case(name)
    case.config.write_text(case.config.read_text().replace(
        "[renewal]", extra + "\n[renewal]"))
    front = suite.front
    front.tls = setup
    if rsa:
        front.tls_files = suite.tls.rsa
    try:
        p = case.gmrenew("list-certs", "--online", expect=exit_code)
        log = list(front.log)
    finally:
        front.reset()
    if seen:
        assert any(line.startswith("tls") and seen in line for line in log), (seen, log)
    if exit_code == 0:
        assert "JSB0000" in p.stdout
        assert not any(line.startswith("tls refused") for line in log), log
    elif exit_code == 7:
        assert "TLS" in p.stderr or "SSL" in p.stderr, p.stderr
    else:
        assert "tls12_ciphers" in p.stderr, p.stderr


def test_tls_min_version_must_be_known(suite):
    case = suite.case("tls-min-version")
    case.config.write_text(case.config.read_text().replace(
        "[renewal]", "tls_min_version = 1.1\n\n[renewal]"))
    p = case.gmrenew("list-certs", "--online", expect=2)
    assert "tls_min_version must be 1.2 or 1.3" in p.stderr, p.stderr
