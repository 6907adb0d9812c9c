"""gmrenew through the SKF (GM/T 0016) interface of the soft ePass3000GM,
which also speaks PKCS#11 over the same store (docs/skf.md): every
subcommand through SKF, a renewal through one interface seen through the
other, the PIN counter down to lock-out, the API choice, and the errors of
a library that lacks SKF functions or several Ekeys."""
import json
import re

import gmtest


def skf(world, *args, **kw):
    return world.gmrenew("--api", "skf", *args, **kw)


def certs_via(world, api):
    return world.json("--api", api, "list-certs", "--pin-file",
                      world.pin_file)["certificates"]


def containers(world):
    """{container: [kinds]} from the soft token's own listing."""
    out = {}
    for line in world.token.listing().splitlines():
        f = line.split("\t")
        out.setdefault(f[4][len("container="):], []).append(f[1])
    return out


def renew_via(world, api):
    p = world.gmrenew("--api", api, "renew", "--yes", "--pin-file",
                      world.pin_file, check=0)
    return re.search(r"UPDATE CODE \(更新码\):\s+(\S+)", p.stderr).group(1)


def test_renew_through_skf_seen_through_pkcs11(world):
    (before,) = certs_via(world, "pkcs11")
    old_containers = set(containers(world))
    code = renew_via(world, "skf")
    (order,) = [o for o in world.service.orders()
                if o["update_code"] == code]
    assert order["state"] == "confirmed"
    # PKCS#11 sees the new certificate with its key, and only it
    (after,) = certs_via(world, "pkcs11")
    assert after["sha256"] != before["sha256"]
    assert after["subject"] == before["subject"]
    assert after["has_private_key"] is True
    world.gmrenew("--api", "pkcs11", "verify", check=0)
    # one container: a new {GUID} one; the old container went last
    (name,) = containers(world)
    assert re.fullmatch(r"\{[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}\}",
                        name), name
    assert name not in old_containers
    assert sorted(containers(world)[name]) == [
        "certificate", "container", "private-key", "public-key"]
    # SKF lists the same certificate
    (seen,) = certs_via(world, "skf")
    assert seen["sha256"] == after["sha256"]
    assert seen["has_private_key"] is True


def test_cert_chosen_by_container_name(world):
    (old,) = containers(world)
    p = skf(world, "renew", "--yes", "--dry-run", "--cert", "no-such",
            "--pin-file", world.pin_file, check=2)
    assert "matches no certificate" in p.stderr
    skf(world, "renew", "--yes", "--cert", old, "--pin-file",
        world.pin_file, check=0)
    assert old not in containers(world)


def test_renew_through_pkcs11_seen_through_skf(world):
    (before,) = certs_via(world, "skf")
    renew_via(world, "pkcs11")
    (after,) = certs_via(world, "skf")
    assert after["sha256"] != before["sha256"]
    assert after["has_private_key"] is True
    skf(world, "verify", check=0)
    (name,) = containers(world)
    assert re.fullmatch(r"\{[0-9A-F-]{36}\}", name), name


def test_every_subcommand_through_skf(world):
    p = skf(world, "check-env", check=None)
    assert "using SKF: asked for" in p.stdout, p.stdout
    assert "the library offers PKCS#11 and SKF" in p.stdout
    assert "DevAuthAlgId 0x00000201" in p.stdout
    assert "serial %s" % gmtest.SERIAL in p.stdout
    assert "6 tries left, read from the token (SKF_GetPINInfo)" in p.stdout
    (cert,) = certs_via(world, "skf")
    assert cert["renewal"] == "online" and cert["has_private_key"] is True
    skf(world, "verify", check=0)
    # renew, interrupted by the service after issuance, then finished
    # with its code through SKF
    world.service.fault("confirm", "http_error", status=500, count=20)
    p = skf(world, "renew", "--yes", "--pin-file", world.pin_file)
    assert p.returncode != 0
    code = re.search(r"renew-with-code (\S+)", p.stderr).group(1)
    assert len(certs_via(world, "skf")) == 2   # old and new, both usable
    world.service.faults_clear()
    skf(world, "renew-with-code", code, "--pin-file", world.pin_file, check=0)
    (new,) = certs_via(world, "skf")
    assert new["sha256"] != cert["sha256"] and new["has_private_key"]
    skf(world, "verify", check=0)


def test_wrong_pin_down_to_lockout_through_skf(world):
    bad = world.root / "bad-pin"
    bad.write_text("87654321\n")
    bad.chmod(0o600)
    for left in (5, 4, 3, 2):
        p = skf(world, "renew", "--yes", "--pin-file", bad, check=6)
        assert "will lock after %d more wrong PINs" % left in p.stderr, \
            p.stderr
    p = skf(world, "renew", "--yes", "--pin-file", bad, check=6)
    assert "one try is left" in p.stderr
    # the final try is not used without consent
    p = skf(world, "renew", "--yes", "--pin-file", bad, check=6)
    assert "will not use it without your consent" in p.stderr
    assert "tries=1" in world.token.pin_status()
    p = skf(world, "renew", "--yes", "--allow-final-try", "--pin-file", bad,
            check=6)
    assert "now locked" in p.stderr
    # locked: the right PIN is refused without being sent
    p = skf(world, "renew", "--yes", "--pin-file", world.pin_file, check=6)
    assert "locked" in p.stderr
    assert "tries=0" in world.token.pin_status()


def test_library_without_skf_functions(world):
    build = gmtest.need_env("GMRENEW_BUILD_DIR")
    nosign = "%s/tests/softtoken/libgmsofttoken-skf-nosign.so" % build
    none = "%s/tests/softtoken/libgmsofttoken-none.so" % build
    p = world.gmrenew("--module", nosign, "--api", "skf", "list-certs",
                      check=5)
    assert "does not export SKF_ECCSignData" in p.stderr, p.stderr
    p = world.gmrenew("--module", none, "--api", "auto", "list-certs",
                      check=5)
    assert "is not a PKCS#11 module (no C_GetFunctionList) and exports no GM/T 0016" in p.stderr, p.stderr
    # SKF only: auto uses it
    only = "%s/tests/softtoken/libgmsofttoken-skf.so" % build
    p = world.gmrenew("--module", only, "--api", "auto", "-v", "list-certs",
                      check=0)
    assert "offers only SKF" in p.stderr


def test_two_devices_through_skf(world):
    world.token.init(slot=1, label="Other Ekey", serial="3000A10000000009")
    p = skf(world, "list-certs", check=5)
    assert "2 tokens are inserted" in p.stderr, p.stderr
    p = skf(world, "--token", "pkcs11:serial=3000A10000000009",
            "list-certs", check=0)
    assert "Other Ekey" in p.stdout


def test_skf_errors_have_their_own_reason(world):
    """A failed SKF call is reason "skf" with its SAR_ name as the code;
    the same failure through PKCS#11 is the CKR_ name; a pulled-out Ekey
    and a wrong PIN have the reasons callers branch on, through either
    API."""
    fail = world.env(GMSOFT_FAIL="SKF_EnumContainer:1:SAR_FAIL")
    e = world.json("--api", "skf", "list-certs", check=1, env=fail)["error"]
    assert (e["reason"], e["code"], e["retryable"]) == \
        ("skf", "SAR_FAIL", False), e
    assert "(SAR_FAIL)" in e["message"]
    fail = world.env(GMSOFT_FAIL="C_FindObjectsInit:1:CKR_FUNCTION_FAILED")
    e = world.json("--api", "pkcs11", "list-certs", check=1,
                   env=fail)["error"]
    assert (e["reason"], e["code"]) == \
        ("CKR_FUNCTION_FAILED", "CKR_FUNCTION_FAILED"), e
    gone = world.env(GMSOFT_FAIL="SKF_EnumContainer:1:SAR_DEVICE_REMOVED")
    e = world.json("--api", "skf", "list-certs", check=5, env=gone)["error"]
    assert (e["reason"], e["code"], e["retryable"]) == \
        ("token_removed", "SAR_DEVICE_REMOVED", True), e
    bad = world.root / "bad-pin"
    bad.write_text("87654321\n")
    bad.chmod(0o600)
    e = world.json("--api", "skf", "list-certs", "--pin-file", bad,
                   check=6)["error"]
    assert (e["reason"], e["code"]) == \
        ("CKR_PIN_INCORRECT", "SAR_PIN_INCORRECT"), e
    world.token.tool_run("set-tries", "--slot", "0", "--tries", "0")
    e = world.json("--api", "skf", "list-certs", "--pin-file", bad,
                   check=6)["error"]
    assert e["reason"] == "pin_locked", e


OTHER_VENDOR = ("[profile.epass3000gm]\nmodule_manufacturer = Other Vendor\n"
                "token_manufacturer = Other\ntoken_model = Other Key\n")


def auto_world(world, extra=""):
    """The configuration without [token] api (auto), plus extra."""
    world.write_config(api=None)
    if extra:
        world.config.write_text(world.config.read_text() + extra)


def traced(world, *args, check=0):
    """gmrenew's run and the soft token's calls in it, by name."""
    trace = world.root / "trace.log"
    if trace.exists():
        trace.unlink()
    p = world.gmrenew(*args, check=check, env=world.env(GMSOFT_TRACE=trace))
    return p, [line.split()[1] for line in trace.read_text().splitlines()]


def driver_check(world):
    """check-env's driver check, as text (its lines) and JSON."""
    text = world.gmrenew("check-env").stdout
    doc = json.loads(world.gmrenew("--json", "check-env").stdout)
    (check,) = [c for c in doc["checks"] if c["id"] == "driver"]
    return text, check


def test_auto_takes_skf_for_a_detected_epass3000gm(world):
    """Both APIs, auto, no profile named: the library says it is
    FEITIAN's (C_GetInfo), so SKF, at the cost of C_Initialize, C_GetInfo
    and C_Finalize; check-env says so in text and JSON."""
    auto_world(world)
    p, calls = traced(world, "-v", "list-certs")
    assert "skf API (the library offers both; SKF for the epass3000gm " \
        "profile, detected from the library's manufacturer 'Feitian " \
        "Technologies Co., Ltd.')" in p.stderr, p.stderr
    assert "JSB0000" in p.stdout
    _, direct = traced(world, "--api", "skf", "list-certs")
    assert [c for c in calls if c.startswith("C_")] == \
        ["C_Initialize", "C_GetInfo", "C_Finalize"]
    assert [c for c in calls if c.startswith("SKF_")] == direct
    text, check = driver_check(world)
    why = ("using SKF: the library offers both; SKF for the epass3000gm "
           "profile, detected from the library's manufacturer 'Feitian "
           "Technologies Co., Ltd.'")
    assert "the library offers PKCS#11 and SKF (GM/T 0016)" in check["detail"]
    assert why in check["detail"], check
    assert check["status"] == "pass"
    assert "the library offers PKCS#11 and SKF" in text
    assert "using SKF: the library offers both" in text, text


def test_auto_takes_skf_for_a_profile_based_on_epass3000gm(world):
    """A configured profile based on epass3000gm is an ePass3000GM: both
    APIs, auto, that profile named: SKF, decided without a PKCS#11 call;
    check-env says why."""
    auto_world(world, "[profile.bank-key]\nbase = epass3000gm\n")
    world.config.write_text(world.config.read_text().replace(
        "[token]\n", "[token]\nprofile = bank-key\n", 1))
    why = ("the library offers both; SKF for profile 'bank-key', which is "
           "based on epass3000gm")
    p, calls = traced(world, "-v", "list-certs")
    assert "skf API (%s)" % why in p.stderr, p.stderr
    assert "JSB0000" in p.stdout
    assert not [c for c in calls if c.startswith("C_")], calls
    text, check = driver_check(world)
    assert "using SKF: " + why in check["detail"], check
    assert check["status"] == "pass"
    assert "using SKF: " + why in " ".join(text.split()), text   # wrapped


def test_auto_detects_the_token_when_the_library_does_not_tell(world):
    """The library's name another vendor's, the token FEITIAN's model
    (C_GetTokenInfo): SKF still."""
    auto_world(world, "[profile.epass3000gm]\n"
                      "module_manufacturer = Other Vendor\n")
    p, calls = traced(world, "-v", "list-certs")
    assert "detected from the token's manufacturer 'EnterSafe USB Key' " \
        "and model 'ePass3000GM'" in p.stderr, p.stderr
    assert [c for c in calls if c.startswith("C_")] == \
        ["C_Initialize", "C_GetInfo", "C_GetSlotList", "C_GetTokenInfo",
         "C_Finalize"]


def test_auto_takes_pkcs11_for_another_vendor(world):
    """Both APIs, nothing identifies an ePass3000GM: PKCS#11, the module
    opened for the detection kept (one C_GetSlotList and one
    C_GetTokenInfo more than asking for PKCS#11: the slot listing reads the
    token again rather than trust what detection read); check-env says
    why."""
    auto_world(world, OTHER_VENDOR)
    p, calls = traced(world, "-v", "list-certs")
    assert "pkcs11 API (the library offers both; PKCS#11 for profile " \
        "'pkcs11-ec' (detected from nothing that identifies a known " \
        "token))" in p.stderr, p.stderr
    assert not [c for c in calls if c.startswith("SKF_")]
    _, direct = traced(world, "--api", "pkcs11", "list-certs")
    extra = list(calls)
    for c in direct:
        extra.remove(c)
    assert sorted(extra) == ["C_GetSlotList", "C_GetTokenInfo"], \
        (calls, direct)
    _, check = driver_check(world)
    assert "using PKCS#11: the library offers both; PKCS#11 for profile " \
        "'pkcs11-ec'" in check["detail"], check


def test_asked_for_api_wins_over_detection(world):
    auto_world(world)
    p = world.gmrenew("-v", "--api", "pkcs11", "list-certs", check=0)
    assert "pkcs11 API (asked for (--api or [token] api))" in p.stderr
    auto_world(world, OTHER_VENDOR)
    p = world.gmrenew("-v", "--api", "skf", "list-certs", check=0)
    assert "skf API (asked for (--api or [token] api))" in p.stderr
    world.write_config(api="skf")
    p = world.gmrenew("-v", "list-certs", check=0)
    assert "skf API (asked for" in p.stderr


def test_auto_with_one_api_takes_it(world):
    build = gmtest.need_env("GMRENEW_BUILD_DIR")
    auto_world(world)
    p11 = "%s/tests/softtoken/libgmsofttoken-p11.so" % build
    p = world.gmrenew("--module", p11, "-v", "list-certs", check=0)
    assert "pkcs11 API (the library offers only PKCS#11)" in p.stderr
    skf_only = "%s/tests/softtoken/libgmsofttoken-skf.so" % build
    p = world.gmrenew("--module", skf_only, "-v", "list-certs", check=0)
    assert "skf API (the library offers only SKF)" in p.stderr


def test_renewal_keeps_its_two_containers_open(world):
    """A renewal through SKF opens the old container once and keeps the
    new one from its creation: no open and close around each signature
    and read; the tries left are read once; the certificate installed is
    read back alone; the old container is closed, then deleted once."""
    p, calls = traced(world, "--api", "skf", "renew", "--yes", "--pin-file",
                      world.pin_file)
    c = {k: calls.count(k) for k in set(calls)}
    assert c["SKF_ECCSignData"] == 4, c
    assert c["SKF_OpenContainer"] == 1, c
    assert c["SKF_CreateContainer"] == 1, c
    assert c["SKF_CloseContainer"] == 2, c
    assert c["SKF_GetPINInfo"] == 1, c
    assert c.get("SKF_GetContainerType", 0) == 0, c
    # the old container's two certificates, the new one read back
    assert c["SKF_ExportCertificate"] == 3, c
    assert c["SKF_DeleteContainer"] == 1, c
    at = calls.index("SKF_DeleteContainer")
    assert calls[at - 1] == "SKF_CloseContainer", calls
    assert len(calls) == 26, c
    # the token holds the new certificate with its key, and only it
    (after,) = certs_via(world, "skf")
    assert after["has_private_key"] is True
