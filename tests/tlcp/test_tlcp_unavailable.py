"""A gmrenew built without NTLS (on OpenSSL, or Tongsuo without
enable-ntls) refuses [service] tls = tlcp with a clear message, before any
connection, and says so in --version."""
import json

import gmtest
from conftest import use_tlcp

EXIT_USAGE = 2


def test_version_says_no_tlcp():
    p = gmtest.run([gmtest.need_env("GMRENEW_BIN"), "--version"])
    assert "service protocols: TLS (no TLCP" in p.stdout, p.stdout


def test_tls_tlcp_is_refused(world):
    before = len(world.service.log_lines())
    use_tlcp(world, world.service.url, world.service.dir / "tls-ca.pem")
    p = world.gmrenew("--json", "list-certs", "--online", check=EXIT_USAGE)
    err = json.loads(p.stdout)["error"]
    assert "[service] tls = tlcp: this gmrenew is built on" in \
        err["message"], err
    assert "which has no TLCP (NTLS)" in err["message"], err
    assert "tls = tls" in err["fix"] and "Tongsuo" in err["fix"], err
    assert world.service.log_lines()[before:] == []


def test_unknown_tls_value_is_a_usage_error(world):
    use_tlcp(world, world.service.url, world.service.dir / "tls-ca.pem",
             tls="gmtls")
    p = world.gmrenew("list-certs", "--online", check=EXIT_USAGE)
    assert "'tls' must be 'tls' or 'tlcp', not 'gmtls'" in p.stderr
