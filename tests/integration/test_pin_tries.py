"""A wrong PIN through PKCS#11 says how many tries are left, run after
run: exactly when the library's SKF side tells (the soft ePass3000GM, as
FEITIAN's driver, keeps one counter behind both interfaces and
SKF_GetPINInfo costs no try), else only what the PKCS#11 flags allow (the
soft token's PKCS#11-only build, SoftHSM2), never a count guessed."""
import gmtest


def bad_pin(world):
    path = world.root / "bad-pin"
    path.write_text("87654321\n")
    path.chmod(0o600)
    return path


def wrong(world, bad, env=None):
    """One gmrenew run with a wrong PIN: its message."""
    p = world.gmrenew("list-certs", "--pin-file", bad, check=6,
                      env=env or world.env())
    gmtest.assert_no_sanitizer(p)
    return p.stderr


def test_exact_tries_through_the_skf_side(world):
    bad = bad_pin(world)
    trace = world.root / "trace.log"
    env = world.env(GMSOFT_TRACE=trace)
    assert "will lock after 5 more wrong PINs" in wrong(world, bad, env)
    # the second run, another process: the count is the token's, not a
    # guess from this run's flags
    assert "will lock after 4 more wrong PINs" in wrong(world, bad, env)
    assert "tries=4" in world.token.pin_status()
    calls = [line.split()[1] for line in trace.read_text().splitlines()]
    assert calls.count("C_Login") == 2
    assert calls.count("SKF_GetPINInfo") == 2
    assert "SKF_VerifyPIN" not in calls
    # the right PIN works on the same token afterwards, and resets it
    world.gmrenew("list-certs", "--pin-file", world.pin_file, check=0)
    assert "tries=6" in world.token.pin_status()
    assert "will lock after 5 more" in wrong(world, bad)
    # the last try: the flags say it
    world.token.tool_run("set-tries", "--slot", "0", "--tries", "3")
    assert "will lock after 2 more" in wrong(world, bad)
    out = wrong(world, bad)
    assert "one try is left before the Ekey locks" in out, out


def test_flags_only_without_skf(world):
    """The soft token's PKCS#11-only build over the same store: what the
    flags say (count low: fewer than the profile's 6), never a number of
    tries left."""
    build = gmtest.need_env("GMRENEW_BUILD_DIR")
    world.module = "%s/tests/softtoken/libgmsofttoken-p11.so" % build
    world.write_config()
    bad = bad_pin(world)
    for _ in range(2):
        out = wrong(world, bad)
        assert "the PIN is incorrect: fewer than 6 tries are left before " \
            "the Ekey locks" in out, out
        assert "will lock after" not in out
    world.token.tool_run("set-tries", "--slot", "0", "--tries", "2")
    out = wrong(world, bad)
    assert "one try is left before the Ekey locks" in out, out


def test_flags_only_on_softhsm(tmp_path):
    hsm = gmtest.SoftHSM(tmp_path)
    w = gmtest.World(tmp_path, days_left=None, token=None)
    try:
        w.module = hsm.module
        w.write_config()
        env = hsm.env(GMRENEW_CONFIG=w.config)
        bad = bad_pin(w)
        # SoftHSM2 sets count low after a wrong PIN, and the pkcs11-ec
        # profile knows no maximum
        for _ in range(2):
            out = wrong(w, bad, env)
            assert "the PIN is incorrect: tries are running low before " \
                "the Ekey locks" in out, out
            assert "will lock after" not in out
        # the right PIN still works (SoftHSM2 does not lock)
        w.gmrenew("list-certs", "--pin-file", w.pin_file, env=env, check=0)
    finally:
        w.close()
