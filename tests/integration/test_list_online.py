"""`gmrenew list-certs --online`: the token's certificates merged with the
CA's records (gateway, organisation, system, status, online renewal), read
from the reference renewal service over TLS."""
import gmtest


def test_records_merged(world, tmp_path):
    # a second certificate the CA does not know (self-made, same token)
    key = gmtest.make_sm2_key(tmp_path / "own.key")
    cert = tmp_path / "own.pem"
    gmtest.openssl("req", "-x509", "-key", key, "-sm3", "-sigopt",
                   "distid:1234567812345678", "-subj", "/C=CN/O=Self/CN=own",
                   "-days", "20", "-out", cert)
    world.token.import_key(0, "02", "own", key)
    world.token.import_cert(0, "02", "own", cert)
    doc = world.json("list-certs", "--online")
    known, unknown = doc["certificates"]
    assert known["ca"] == {
        "found": True, "status": "valid", "gateway": "JSB0000",
        "organization": "深证通CCNET证书测试", "system": "CCNET",
        "online_renewal": True, "reason": None, "open_update_code": None}
    assert unknown["ca"]["found"] is False
    assert unknown["ca"]["online_renewal"] is False
    assert unknown["ca"]["reason"] == "unknown"
    text = world.gmrenew("list-certs", "--online", check=0).stdout
    assert "The CA's records" in text
    assert "allowed" in text and "no (unknown)" in text
    # without --online the service is not asked
    before = len(world.service.log_lines())
    assert "ca" not in world.json("list-certs")["certificates"][0]
    assert len(world.service.log_lines()) == before


def test_open_order_and_revoked(world):
    world.service.fault("csr", "http_error", status=500)
    world.gmrenew("renew", "--yes", "--pin-file", world.pin_file, check=7)
    world.service.faults_clear()
    (c,) = world.json("list-certs", "--online")["certificates"]
    assert c["ca"]["open_update_code"] == world.service.orders()[0]["update_code"]
    assert "renew-with-code" in world.gmrenew("list-certs", "--online",
                                              check=0).stdout
    world.service.cli("revoke", "--sha256", c["sha256"])
    (c,) = world.json("list-certs", "--online")["certificates"]
    assert c["ca"]["status"] == "revoked" and c["ca"]["online_renewal"] is False


def test_not_due_and_offline(tmp_path):
    for days, reason in ((200, "not_due"), (-120, "offline_only")):
        w = gmtest.World(tmp_path / str(days), days_left=days)
        try:
            (c,) = w.json("list-certs", "--online")["certificates"]
            assert c["ca"]["reason"] == reason, c
        finally:
            w.close()


def test_service_down_is_exit_7(world):
    world.service.stop()
    p = world.gmrenew("list-certs", "--online", check=7)
    assert "try again later" in p.stderr or "later" in p.stderr


def test_untrusted_service_is_refused(world):
    world.write_config(ca_bundle=world.service.dir / "chain-ca.pem")
    p = world.gmrenew("list-certs", "--online")
    assert p.returncode == 7, p.stderr
    assert "not trusted" in p.stderr
