"""TLCP (GB/T 38636, NTLS 1.1) to the renewal service, in a gmrenew built on
Tongsuo with NTLS: a whole renewal through the TLCP front, and the
handshakes gmrenew must refuse (a server certificate from another CA, an
encryption certificate from another CA, a wrong host name, a plain TLS
server), and that the TLCP front relays whatever the timing. Certificates
are made here with the system openssl command."""
import json
import os
import re
import select
import subprocess
import time

import gmtest
from conftest import Pki, use_tlcp

EXIT_USAGE = 2
EXIT_SERVICE = 7


def lookups(world):
    return [l for l in world.service.log_lines() if "/v1/lookup" in l]


def refused(world, what):
    """list-certs --online must fail on the handshake, before any request
    reaches the service."""
    before = len(world.service.log_lines())
    p = world.gmrenew("--json", "list-certs", "--online", check=EXIT_SERVICE)
    err = json.loads(p.stdout)["error"]
    assert what in err["message"], err
    assert world.service.log_lines()[before:] == []
    return err


def test_version_says_tlcp():
    p = gmtest.run([gmtest.need_env("GMRENEW_BIN"), "--version"])
    assert re.search(r"^crypto: Tongsuo \d+\.\d+\.\d+", p.stdout, re.M), \
        p.stdout
    assert "service protocols: TLS, TLCP (NTLS 1.1)" in p.stdout


def test_full_renewal_over_tlcp(tlcp_world):
    w = tlcp_world
    before = w.certs()
    logged = len(w.service.log_lines())
    p = w.gmrenew("renew", "--yes", "--pin-file", w.pin_file, check=0)
    assert "Validity extended by 1826 days" in p.stdout
    lines = w.service.log_lines()[logged:]
    assert [l.split()[3].split("/")[-1] for l in lines] == [
        "lookup", "renewals", "csr", "confirm"], lines
    # one TLCP connection, so one connection at the service
    assert len({l.split()[1] for l in lines}) == 1, lines
    (after,) = w.certs()
    assert after["sha256"] != before[0]["sha256"]
    assert after["has_private_key"] is True
    w.gmrenew("verify", check=0)
    assert [o["state"] for o in w.service.orders()] == ["confirmed"]


def test_check_env_reports_tlcp_and_the_suite(tlcp_world):
    w = tlcp_world
    doc = json.loads(w.gmrenew("--json", "check-env").stdout)
    (svc,) = [c for c in doc["checks"] if c["id"] == "service"]
    assert svc["status"] == "pass", svc
    assert "verified TLCP" in svc["summary"], svc
    assert "protocol NTLSv1.1, cipher suite ECC-SM2-SM4-GCM-SM3" in \
        svc["detail"], svc


def test_only_the_two_ecc_sm2_suites_are_offered(tlcp_world):
    w = tlcp_world
    w.gmrenew("list-certs", "--online", check=0)
    offered = w.front.offered()
    assert offered, "no TLCP handshake reached the front"
    for suites in offered:
        # the renegotiation SCSV is not a suite
        real = [x for x in suites if "SCSV" not in x]
        assert real == ["ECC-SM2-SM4-GCM-SM3", "ECC-SM2-SM4-CBC-SM3"], suites


def read_until(proc, marker, seconds):
    """What proc writes on stdout until marker appears, or seconds pass."""
    out, deadline = b"", time.monotonic() + seconds
    fd = proc.stdout.fileno()
    while marker not in out:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        out += chunk
    return out


def test_front_relays_a_client_that_sends_after_the_service_spoke(
        tlcp_world, pki):
    """The front is the fixture the TLCP tests stand on: like a real TLCP
    gateway it must relay a request whatever the timing. The service (TLS
    1.3) sends its session tickets right after the handshake; a client that
    sends its request only after they arrived must still get its answer
    at once, not after the service's idle timeout (a gmrenew descheduled
    for a moment on a loaded machine is such a client)."""
    w = tlcp_world
    client = subprocess.Popen(
        [gmtest.need_env("GMRENEW_TONGSUO_BIN"), "s_client", "-connect",
         "127.0.0.1:%d" % w.front.port, "-enable_ntls", "-ntls", "-cipher",
         "ECC-SM2-SM4-GCM-SM3", "-CAfile", str(pki.ca), "-ign_eof"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT)
    try:
        shook = read_until(client, b"Verify return code", 30)
        assert b"Verify return code: 0" in shook, shook
        time.sleep(1)   # the front has long had the service's tickets
        client.stdin.write(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           b"Connection: close\r\n\r\n")
        client.stdin.flush()
        answer = read_until(client, b"\r\n\r\n", 10)
        assert re.search(rb"HTTP/1\.[01] \d{3} ", answer), \
            "no answer within 10 s: %r" % answer[-500:]
    finally:
        client.kill()
        client.wait()


def test_cbc_suite_when_the_server_offers_only_it(world, pki, fronts):
    front = fronts(world.service, pki.sign(), pki.enc(),
                   suites="ECC-SM2-SM4-CBC-SM3")
    use_tlcp(world, "https://127.0.0.1:%d" % front.port, pki.ca)
    doc = json.loads(world.gmrenew("--json", "check-env").stdout)
    (svc,) = [c for c in doc["checks"] if c["id"] == "service"]
    assert svc["status"] == "pass", svc
    assert "protocol NTLSv1.1, cipher suite ECC-SM2-SM4-CBC-SM3" in \
        svc["detail"], svc


def test_server_certificate_from_another_ca_is_refused(world, pki, fronts,
                                                       tmp_path):
    other = Pki(tmp_path, "other")
    front = fronts(world.service, other.sign(), other.enc())
    use_tlcp(world, "https://127.0.0.1:%d" % front.port, pki.ca)
    err = refused(world, "is not trusted by the configured CA bundle")
    assert "ca_bundle" in err["fix"]
    # the same front is accepted once its CA is the configured one
    use_tlcp(world, "https://127.0.0.1:%d" % front.port, other.ca)
    world.gmrenew("list-certs", "--online", check=0)


def test_encryption_certificate_from_another_ca_is_refused(world, pki, fronts,
                                                           tmp_path):
    other = Pki(tmp_path, "other")
    front = fronts(world.service, pki.sign(), other.enc())
    use_tlcp(world, "https://127.0.0.1:%d" % front.port, pki.ca)
    refused(world, "is not trusted by the configured CA bundle")


def test_wrong_host_name_is_refused(world, pki, fronts):
    front = fronts(world.service, pki.sign(hosts=("DNS:renew.example.cn",)),
                   pki.enc(hosts=("DNS:renew.example.cn",)))
    use_tlcp(world, "https://127.0.0.1:%d" % front.port, pki.ca)
    err = refused(world, "is not valid for that host name")
    assert "[service] url" in err["fix"]


def test_plain_tls_server_is_refused_when_tlcp_is_configured(world):
    # the reference service speaks TLS; its own CA is trusted, so only the
    # protocol is wrong
    url, ca = world.service.url, world.service.dir / "tls-ca.pem"
    use_tlcp(world, url, ca)
    err = refused(world, "the renewal service at '%s'" % url)
    assert "tls = tlcp the service must offer TLCP" in err["fix"], err
    # the same server with tls = tls works
    use_tlcp(world, url, ca, tls="tls")
    world.gmrenew("list-certs", "--online", check=0)


def test_tlcp_service_is_refused_when_tls_is_configured(world, pki, fronts):
    front = fronts(world.service, pki.sign(), pki.enc())
    use_tlcp(world, "https://127.0.0.1:%d" % front.port, pki.ca, tls="tls")
    # a TLS handshake with a TLCP-only server fails (at once or by timeout)
    refused(world, "the renewal service at 'https://127.0.0.1:%d'" % front.port)


def test_unknown_tls_value_is_a_usage_error(world):
    use_tlcp(world, world.service.url, world.service.dir / "tls-ca.pem",
             tls="gmtls")
    p = world.gmrenew("list-certs", "--online", check=EXIT_USAGE)
    assert "'tls' must be 'tls' or 'tlcp', not 'gmtls'" in p.stderr
