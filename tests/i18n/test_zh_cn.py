"""The Chinese interface. The catalogue po/zh_CN.po is well-formed (msgfmt
--check: a translation that drops or changes a format directive fails) and
complete: every text xgettext finds in the sources with the project's
keywords (po/extract.sh) has a translation, and no text printed by
the CLI escapes marking. Then every subcommand runs under zh_CN.UTF-8 (the
locale the fixture i18n_locale made) and speaks Chinese, English stays the
default, and the certificate table lines up by display width."""
import datetime
import os
import pathlib
import re
import subprocess
import unicodedata

import pytest

import gmtest
from certmaker import Maker

SRC = pathlib.Path(gmtest.need_env("GMRENEW_SOURCE_DIR"))
PO = SRC / "po" / "zh_CN.po"
ZH = {"LANG": "zh_CN.UTF-8", "LC_ALL": "zh_CN.UTF-8", "LANGUAGE": ""}
CJK = re.compile(r"[\u4e00-\u9fff]")
# four English words in a row: a sentence nobody translated
ENGLISH = re.compile(r"\b[A-Za-z]{2,}(?: [a-z]{2,}){3,}\b")


def sources(under="src"):
    return sorted(str(p.relative_to(SRC)) for p in (SRC / under).rglob("*")
                  if p.suffix in (".c", ".h"))


def xgettext(options, files, out):
    gmtest.run([gmtest.need_tool("xgettext"), *options, "--omit-header",
                "-o", out, *files], cwd=SRC)
    return pathlib.Path(out).read_text() if os.path.exists(out) else ""


def msgids(pot):
    """msgids of a .pot text, joined from their lines."""
    ids, cur, inside = [], None, False
    for line in pot.splitlines() + [""]:
        if line.startswith("msgid "):
            cur, inside = [line[6:]], True
        elif inside and line.startswith('"'):
            cur.append(line)
        else:
            if inside and cur is not None:
                ids.append("".join(s[1:-1] for s in cur))
            inside = False
    return [i for i in ids if i]


def test_catalogue_is_well_formed():
    gmtest.run([gmtest.need_tool("msgfmt"), "--check", "--statistics",
                "-o", "/dev/null", PO])


def test_every_marked_text_is_translated(tmp_path):
    pot = tmp_path / "gmrenew.pot"
    gmtest.run(["sh", SRC / "po" / "extract.sh", pot])
    assert len(msgids(pot.read_text())) > 300
    p = subprocess.run([gmtest.need_tool("msgcmp"), PO, pot],
                       capture_output=True, text=True)
    assert p.returncode == 0, "texts without a translation:\n" + p.stderr
    fuzzy = [line for line in PO.read_text().splitlines()
             if line.startswith("#,") and "fuzzy" in line]
    assert not fuzzy, fuzzy


def visible(text):
    """Whether a literal printed as it is would be read by a person: it has
    a word once format directives and roff requests are taken out."""
    text = re.sub(r"%[-+ #0-9.*]*(?:z|l|ll|h)?[a-zA-Z]", " ", text)
    text = re.sub(r"\\f[BIRP]|\\[-e&]|^\.[A-Z]{2}\b|\\n\.[A-Za-z]{2}\b",
                  " ", text)
    return re.search(r"[A-Za-z]{3,}", text) is not None


# Printed as they are on purpose: program names, and files in machine
# formats: the completion scripts (completion.c), PEM for hooks (hooks.c),
# Prometheus metrics (metrics.c), the outcome log lines (eventlog.c).
MACHINE = ("completion.c", "hooks.c", "metrics.c", "eventlog.c")
NOT_TEXT = {"gmrenew %s\\n", "crypto: %s\\n", "libcurl: %s\\n", "gmrenew: ",
            "gmrenew %s: ", "gmrenew \\\\- ", "%*sgmrenew - ",
            "\\n[profile.%s]\\n%s = %s\\n",
            "%*spkcs11-tool(1), p11tool(1), udev(7)\\n"}
# roff markup: the page header and SEE ALSO
ROFF = re.compile(r"^'\\\\\\\"|\\\\fB")


def test_no_printed_text_escapes_marking(tmp_path):
    """A literal given straight to printf, fprintf, fputs or puts in the
    CLI is not translated; only markup and program names may be."""
    options = ["--from-code=UTF-8", "--language=C", "--keyword",
               "--keyword=printf:1", "--keyword=fprintf:2",
               "--keyword=fputs:1", "--keyword=puts:1"]
    files = [f for f in sources("src/cli") if not f.endswith(MACHINE)]
    pot = xgettext(options, files, tmp_path / "raw.pot")
    raw = [m for m in msgids(pot) if visible(m) and m not in NOT_TEXT
           and not ROFF.search(m)]
    assert not raw, "printed without _():\n" + "\n".join(raw)


@pytest.fixture
def zh_world(tmp_path):
    w = gmtest.World(tmp_path, days_left=30)
    yield w
    w.close()


def zh_env(world, **extra):
    env = world.env(GMRENEW_LOCALEDIR=gmtest.need_env(
        "GMRENEW_TEST_LOCALEDIR"), TZ="UTC", **ZH)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def untranslated(text, allowed=()):
    """Lines with an English sentence in them (paths, subjects, commands
    and the allowed words are not sentences)."""
    bad = []
    for line in text.splitlines():
        probe = re.sub(r"'[^']*'|\S*/\S*|\S*=\S*|gmrenew [a-z-]+(?: [-A-Z]+)*",
                       " ", line)
        for a in allowed:
            probe = probe.replace(a, " ")
        if ENGLISH.search(probe):
            bad.append(line)
    return bad


def speaks_chinese(p, allowed=()):
    gmtest.assert_no_sanitizer(p)
    out = p.stdout + p.stderr
    assert CJK.search(out), out
    bad = untranslated(out, allowed)
    assert not bad, "English left:\n" + "\n".join(bad)


def test_every_subcommand_under_zh_cn(zh_world, tmp_path):
    w = zh_world
    env = zh_env(w)
    runs = [
        ("--help",), ("check-env",), ("check-env", "--help"),
        ("list-certs",), ("list-certs", "--online"), ("verify",),
        ("renew", "--dry-run", "--yes", "--pin-file", w.pin_file),
        ("renew-with-code", "AAAA-BBBB-CCCC-DDDD", "--pin-file", w.pin_file),
        ("config", "show"), ("help", "renew"), ("help",),
        ("renew", "--no-such-option"),
    ]
    for cmd in ("check-env", "list-certs", "verify", "renew",
                "renew-with-code", "config", "help"):
        runs.append((cmd, "--help"))
    for args in runs:
        p = w.gmrenew(*args, env=env)
        # the service's own message comes in both its languages
        speaks_chinese(p, allowed=("FEITIAN ePass3000GM",
                                   "no renewal with this update code"))
    # the real renewal, start to end, in Chinese
    p = w.gmrenew("renew", "--yes", "--pin-file", w.pin_file, env=env,
                  check=0)
    speaks_chinese(p)
    assert "更新码" in p.stderr


def test_config_init_under_zh_cn(zh_world, tmp_path):
    w = zh_world
    target = tmp_path / "new.conf"
    p = w.gmrenew("--config", target, "config", "init", "--url",
                  w.service.url, "--ca-bundle", w.service.dir / "tls-ca.pem",
                  "--chain-bundle", w.service.bundle, env=zh_env(w), check=0)
    speaks_chinese(p)
    p = w.gmrenew("--config", target, "config", "init", "--url",
                  w.service.url, "--ca-bundle", w.service.dir / "tls-ca.pem",
                  "--chain-bundle", w.service.bundle, env=zh_env(w), check=2)
    speaks_chinese(p)


def test_english_is_the_default(zh_world):
    w = zh_world
    for lang in ({"LANG": "C"}, {"LANG": "en_US.UTF-8"},
                 {"LANG": "de_DE.UTF-8"}):
        env = w.env(GMRENEW_LOCALEDIR=gmtest.need_env(
            "GMRENEW_TEST_LOCALEDIR"))
        for k in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
            env.pop(k, None)
        env.update(lang)
        p = w.gmrenew("list-certs", env=env, check=0)
        # the certificate's own names are Chinese; nothing else may be
        text = re.sub(r"\S*深证通\S*", "", p.stdout)
        assert not CJK.search(text), p.stdout
    # LANGUAGE chooses among the languages when the locale is not C
    env = zh_env(w, LANG="en_US.UTF-8", LC_ALL="en_US.UTF-8",
                 LANGUAGE="zh_CN")
    p = w.gmrenew("--help", env=env, check=0)
    if "en_US.utf8" in subprocess.run(["locale", "-a"], capture_output=True,
                                      text=True).stdout.lower():
        assert CJK.search(p.stdout)


def width(s):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1
               for c in s)


def at_col(line, col):
    """The character at display column col, and the one before it."""
    w, prev = 0, " "
    for ch in line:
        if w == col:
            return prev, ch
        if w > col:
            return prev, None       # col falls inside a wide character
        prev = ch
        w += width(ch)
    return prev, None


# where the table's columns start (src/cli/certview.c): gateway,
# organisation, system, valid from, valid to, status, renewal
COLUMNS = (3, 12, 25, 34, 45, 63, 72)


def test_table_lines_up_by_display_width(zh_world):
    w = zh_world
    p = w.gmrenew("list-certs", env=zh_env(w), check=0)
    lines = p.stdout.splitlines()
    header = next(line for line in lines if "网关号" in line)
    row = next(line for line in lines if re.match(r"\s*1 ", line))
    assert "所属系统" in header and "机构名称" in header, header
    for line in (header, row):
        for col in COLUMNS:
            before, ch = at_col(line, col)
            assert before == " " and ch not in (None, " "), (col, line)
        assert width(line) <= 80, line


def test_days_column_lines_up_for_a_certificate_that_never_ends(zh_world,
                                                                tmp_path):
    # "never" in the days column is Chinese too: padded by display width
    w = zh_world
    _, _, far = Maker(tmp_path / "certs").chain(
        "far", 2, "CN=JSB0009@IST@39,OU=Far,OU=CCNET,O=SSCCCA,C=CN",
        not_after=datetime.datetime(9999, 12, 31,
                                    tzinfo=datetime.timezone.utc))
    w.token.import_cert(0, "06", "far", far.pem)
    p = w.gmrenew("list-certs", env=zh_env(w), check=0)
    row = next(line for line in p.stdout.splitlines()
               if re.match(r"\s*2 ", line))
    assert "永不" in row, row
    for col in COLUMNS:
        before, ch = at_col(row, col)
        assert before == " " and ch not in (None, " "), (col, row)


def test_messages_wrap_by_display_width_on_80_columns(zh_world):
    w = zh_world
    p = w.gmrenew("help", "renew", env=zh_env(w), check=0)
    for line in p.stdout.splitlines():
        assert width(line) <= 80, line
    p = w.gmrenew("check-env", env=zh_env(w))
    for line in p.stdout.splitlines():
        assert width(line) <= 80, line
    p = w.gmrenew("verify", env=zh_env(w))
    assert "通过" in p.stdout, p.stdout
    for line in p.stdout.splitlines():
        if gmtest.SUBJECT not in line:     # a subject is not cut
            assert width(line) <= 80, line


def test_chinese_manual_renders_without_warnings():
    page = os.path.join(gmtest.need_env("GMRENEW_BUILD_DIR"), "man", "zh_CN",
                        "gmrenew.1")
    env = dict(os.environ, MANWIDTH="80", **ZH)
    p = gmtest.run([gmtest.need_tool("man"), "-l", "--warnings=all", "-P",
                    "cat", page], env=env)
    assert p.stderr == "", p.stderr
    for word in ("更新码", "网关号", "机构名称", "所属系统", "证书业务信息表",
                 "配置", "退出状态", "示例"):
        assert word in p.stdout, word
    for line in p.stdout.splitlines():
        assert width(line) <= 80, line
