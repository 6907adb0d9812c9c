"""gmrenew on the soft ePass3000GM as FEITIAN's driver behaves
(shared/reference/feitian-driver.md): the epass3000gm profile found by the
driver's identity although it lists no mechanisms, key generation with
CKA_MODULUS_BITS and a container name, public keys read from CKA_MODULUS,
the 128-byte signature blob, one C_Initialize per process.

Each of the four ways the profile could disagree with the driver is set
back in the configuration, one at a time, to show that the soft token
catches it: the renewal (or the listing) fails, and the token keeps its
certificate and key.
"""
import pytest

import gmtest


def listing(world):
    """[(kind, id, label, container)] from gmsofttoken-tool list."""
    rows = []
    for line in world.token.listing().splitlines():
        f = line.split("\t")
        rows.append((f[1], f[2][3:], f[3][6:], f[4][10:]))
    return rows


def kinds(world):
    return sorted(r[0] for r in listing(world))


def with_profile(world, text):
    """Changes the built-in profile; returns the configuration before."""
    plain = world.config.read_text()
    world.config.write_text(plain + "\n[profile.epass3000gm]\n" + text)
    return plain


def renew(world, **kw):
    return world.gmrenew("renew", "--yes", "--pin-file", world.pin_file, **kw)


def unchanged(world, before, plain_config):
    """The old certificate and its key are still there (seen with the
    built-in profile)."""
    world.config.write_text(plain_config)
    certs = world.certs()
    assert [c["sha256"] for c in certs] == [c["sha256"] for c in before]
    assert certs[0]["has_private_key"] is True
    assert [o for o in world.service.orders() if o["state"] == "confirmed"] \
        == []


def test_profile_found_by_identity_without_mechanisms(world):
    p = world.gmrenew("-v", "list-certs", check=0)
    assert "profile 'epass3000gm'" in p.stderr
    (cert,) = world.certs()
    assert cert["has_private_key"] is True


def test_mechanism_list_alone_would_not_find_the_profile(world):
    # no identity to go by: only the (empty) mechanism list is left, so
    # gmrenew falls back to pkcs11-ec, and nothing can be renewed
    before = world.certs()
    plain = with_profile(world, "module_manufacturer = Nobody\n"
                         "token_model = None\n")
    p = world.gmrenew("-v", "list-certs", check=0)
    assert "profile 'pkcs11-ec'" in p.stderr
    p = renew(world)
    assert p.returncode != 0
    unchanged(world, before, plain)


def test_plain_ec_key_generation_is_refused(world):
    # what the fallback would ask for: CKM_EC_KEY_PAIR_GEN
    before = world.certs()
    plain = with_profile(world, "keygen_mechanism = 0x1040\n")
    p = renew(world)
    assert p.returncode != 0
    assert "CKR_MECHANISM_INVALID" in p.stderr, p.stderr
    unchanged(world, before, plain)


def test_keygen_without_modulus_bits_is_refused(world):
    before = world.certs()
    plain = with_profile(world, "keygen_modulus_bits = 0\n")
    p = renew(world)
    assert p.returncode != 0
    assert "CKR_TEMPLATE_INCOMPLETE" in p.stderr, p.stderr
    unchanged(world, before, plain)
    assert kinds(world) == ["certificate", "container", "private-key",
                            "public-key"]


def test_ec_params_are_ignored(world):
    with_profile(world, "keygen_ec_params = yes\n")
    renew(world, check=0)


def test_public_key_in_ec_point_finds_no_key_pair(world):
    with_profile(world, "public_key = ec_point\n")
    (cert,) = world.certs()
    assert cert["has_private_key"] is False
    p = renew(world)
    assert p.returncode != 0
    assert world.service.orders() == []


def test_raw_signature_format_refuses_the_blob(world):
    before = world.certs()
    plain = with_profile(world, "signature = raw\n")
    p = renew(world)
    assert p.returncode != 0
    assert "128 bytes" in p.stderr, p.stderr
    unchanged(world, before, plain)


def test_renewed_pair_and_certificate_share_a_new_container(world):
    old = listing(world)
    old_container = {r[3] for r in old}
    assert len(old_container) == 1
    renew(world, check=0)
    rows = listing(world)
    containers = [r for r in rows if r[0] == "container"]
    assert len(containers) == 1, rows
    name = containers[0][3]
    # "{GUID}" of the new pair's 16-byte CKA_ID, upper-case hex
    (priv,) = [r for r in rows if r[0] == "private-key"]
    guid = priv[1].upper()
    assert name == "{%s-%s-%s-%s-%s}" % (guid[:8], guid[8:12], guid[12:16],
                                         guid[16:20], guid[20:]), rows
    assert {r[3] for r in rows} == {name}
    assert name not in old_container, "the old container went with the old pair"


@pytest.mark.parametrize("args", [("list-certs",), ("verify",),
                                  ("renew", "--yes")])
def test_one_initialize_and_finalize_per_process(world, args):
    trace = world.root / "trace"
    extra = ["--pin-file", world.pin_file] if args[0] == "renew" else []
    world.gmrenew(*args, *extra, env=world.env(GMSOFT_TRACE=trace), check=0)
    calls = [line.split()[1] for line in trace.read_text().splitlines()]
    assert calls.count("C_Initialize") == 1, calls
    assert calls.count("C_Finalize") == 1, calls
    assert calls[0] == "C_Initialize" and calls[-1] == "C_Finalize"
