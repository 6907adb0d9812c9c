"""Configuration where admins look: /etc/gmrenew/gmrenew.conf, then
$XDG_CONFIG_HOME/gmrenew/gmrenew.conf, then --config or $GMRENEW_CONFIG,
then options, later ones overriding key by key; `config show` says where
each value came from; `config init` writes a valid file, 0644, and does not
overwrite one without --force. The system file is a real file at
/etc/gmrenew/gmrenew.conf, seen only by gmrenew in a private mount
namespace (unshare), so that the machine's own /etc is left alone."""
import json
import os
import stat
import subprocess

import pytest

import gmtest

ETC = "/etc/gmrenew"


def run_in_ns(etc_dir, args, env, umask=None):
    """gmrenew with etc_dir mounted over /etc/gmrenew, in its own mount
    namespace."""
    os.makedirs(ETC, exist_ok=True)     # the mount point
    script = 'mount --bind "$0" %s && %sexec "$@"' % (
        ETC, "umask %s && " % umask if umask else "")
    p = subprocess.run([gmtest.need_tool("unshare"), "-m", "--propagation",
                        "private", "sh", "-c", script, str(etc_dir),
                        gmtest.need_env("GMRENEW_BIN"), *map(str, args)],
                       env=env, capture_output=True, text=True, timeout=60)
    gmtest.assert_no_sanitizer(p)
    return p


@pytest.fixture
def layers(tmp_path):
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "gmrenew.conf").write_text(
        "[service]\nurl = https://system.example\nconnect_timeout_ms = 1111\n"
        "[policy]\nrenew_before_days = 60\n")
    home = tmp_path / "home"
    (home / ".config" / "gmrenew").mkdir(parents=True)
    (home / ".config" / "gmrenew" / "gmrenew.conf").write_text(
        "[service]\nurl = https://user.example\n")
    extra = tmp_path / "extra.conf"
    extra.write_text("[service]\ntotal_timeout_ms = 2222\n"
                     "[policy]\nrenew_before_days = 45\n")
    env = dict(os.environ, HOME=str(home))
    for k in ("GMRENEW_CONFIG", "XDG_CONFIG_HOME", "GMRENEW_PKCS11_MODULE"):
        env.pop(k, None)
    return etc, home, extra, env


def keys(p):
    assert p.returncode == 0, p.stdout + p.stderr
    doc = json.loads(p.stdout)
    return {(k["section"], k["key"]): (k["value"], k["source"])
            for k in doc["keys"]}, doc["files"]


def test_later_files_override_key_by_key(layers):
    etc, home, extra, env = layers
    user = str(home / ".config" / "gmrenew" / "gmrenew.conf")
    k, files = keys(run_in_ns(etc, ["--config", extra, "--json", "config",
                                    "show"], env))
    assert files == [ETC + "/gmrenew.conf", user, str(extra)]
    assert k[("service", "url")] == ("https://user.example", user)
    assert k[("service", "connect_timeout_ms")] == ("1111",
                                                    ETC + "/gmrenew.conf")
    assert k[("service", "total_timeout_ms")] == ("2222", str(extra))
    assert k[("policy", "renew_before_days")] == ("45", str(extra))
    assert k[("policy", "renew_after_days")] == ("90", "default")
    assert k[("service", "ca_bundle")] == (None, "default")


def test_gmrenew_config_and_xdg_config_home(layers, tmp_path):
    etc, home, extra, env = layers
    xdg = tmp_path / "xdg"
    (xdg / "gmrenew").mkdir(parents=True)
    (xdg / "gmrenew" / "gmrenew.conf").write_text(
        "[service]\nurl = https://xdg.example\n")
    env = dict(env, XDG_CONFIG_HOME=str(xdg), GMRENEW_CONFIG=str(extra))
    k, files = keys(run_in_ns(etc, ["--json", "config", "show"], env))
    assert files[1] == str(xdg / "gmrenew" / "gmrenew.conf")
    assert k[("service", "url")][0] == "https://xdg.example"
    assert k[("policy", "renew_before_days")] == ("45", str(extra))


def test_options_win_and_show_says_so(layers, tmp_path):
    etc, home, extra, env = layers
    (etc / "gmrenew.conf").write_text("[token]\nmodule = /etc/lib.so\n")
    k, _ = keys(run_in_ns(etc, ["--module", "/opt/x.so", "--json", "config",
                                "show"], env))
    assert k[("token", "module")] == ("/opt/x.so", "--module")
    p = run_in_ns(etc, ["--module", "/opt/x.so", "config", "show"], env)
    assert "module = /opt/x.so  # --module" in p.stdout
    assert "url = https://user.example  # " + str(
        home / ".config" / "gmrenew" / "gmrenew.conf") in p.stdout


def test_a_typo_in_the_system_file_names_it(layers):
    etc, home, extra, env = layers
    (etc / "gmrenew.conf").write_text("[service]\nulr = https://x\n")
    p = run_in_ns(etc, ["config", "show"], env)
    assert p.returncode == 2
    assert ETC + "/gmrenew.conf" in p.stderr and "ulr" in p.stderr


def init_args(world, target, *more):
    return ["--config", target, "config", "init", "--url", world.service.url,
            "--ca-bundle", world.service.dir / "tls-ca.pem",
            "--chain-bundle", world.service.bundle, *more]


def test_config_init_writes_a_valid_file(bare_world, tmp_path):
    w = bare_world
    target = tmp_path / "sub" / "dir" / "gmrenew.conf"
    env = w.env()
    env.pop("GMRENEW_CONFIG")
    p = subprocess.run(["sh", "-c", 'umask 077 && exec "$@"', "sh",
                        gmtest.need_env("GMRENEW_BIN"),
                        *map(str, init_args(w, target))], env=env,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o644
    text = target.read_text()
    assert "url = " + w.service.url in text
    # the file works: check-env reaches the service with it
    p = gmtest.gmrenew_run("--config", target, "--module", w.module,
                           "--json", "check-env", env=env)
    checks = {c["id"]: c for c in json.loads(p.stdout)["checks"]}
    assert checks["config"]["status"] == "pass", checks["config"]
    assert checks["service"]["status"] == "pass", checks["service"]


def test_config_init_refuses_to_overwrite(bare_world, tmp_path):
    w = bare_world
    target = tmp_path / "gmrenew.conf"
    target.write_text("# mine\n")
    env = w.env()
    p = gmtest.gmrenew_run(*init_args(w, target), env=env, check=2)
    assert "exists" in p.stderr and "--force" in p.stderr
    assert target.read_text() == "# mine\n"
    gmtest.gmrenew_run(*init_args(w, target, "--force"), env=env, check=0)
    assert "[service]" in target.read_text()


def test_config_init_checks_what_it_is_given(bare_world, tmp_path):
    w = bare_world
    env = w.env()
    target = tmp_path / "gmrenew.conf"
    args = init_args(w, target)
    bad_url = list(args)
    bad_url[bad_url.index("--url") + 1] = "http://plain.example"
    p = gmtest.gmrenew_run(*bad_url, env=env, check=2)
    assert "https://" in p.stderr
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello\n")
    bad_ca = list(args)
    bad_ca[bad_ca.index("--ca-bundle") + 1] = not_pem
    gmtest.gmrenew_run(*bad_ca, env=env, check=2)
    assert not target.exists()


def test_every_key_is_in_the_manual():
    page = gmtest.run([gmtest.need_env("GMRENEW_BIN"), "--man"]).stdout
    env = dict(os.environ)
    env.pop("GMRENEW_CONFIG", None)
    p = gmtest.gmrenew_run("--json", "config", "show", env=env, check=0)
    for k in json.loads(p.stdout)["keys"]:
        assert "\\fB%s =\\fR" % k["key"].replace("-", "\\-") in page, k
        assert '.SS "[%s]"' % k["section"] in page, k


def test_the_example_names_every_key_and_reads():
    """packaging/gmrenew.conf.example (installed as
    /usr/share/doc/gmrenew/examples/gmrenew.conf) shows every key, and is a
    valid configuration as it is."""
    src = gmtest.need_env("GMRENEW_SOURCE_DIR")
    example = os.path.join(src, "packaging", "gmrenew.conf.example")
    text = open(example).read()
    env = dict(os.environ)
    env.pop("GMRENEW_CONFIG", None)
    p = gmtest.gmrenew_run("--config", example, "--json", "config", "show",
                           env=env, check=0)
    for k in json.loads(p.stdout)["keys"]:
        assert "[%s]" % k["section"] in text, k
        assert "\n%s = " % k["key"] in text or \
            "\n#%s = " % k["key"] in text, k
