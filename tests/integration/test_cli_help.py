"""docs/cli.md and `gmrenew --help` agree: every command the help lists has
a section in docs/cli.md; every option `gmrenew CMD --help` prints is in
that section's options table and every option documented there is in
--help, with the same meaning (the table's second column is the help text
of the option tables in src/cli, word for word); the global options
likewise. The command list comes from `gmrenew --help`, so a new command
must be documented to pass."""
import os
import pathlib
import re

import pytest

import gmtest

OPTION_CELL = re.compile(r"^\|\s*`((?:-[A-Za-z], )?--[a-z][a-z0-9-]*"
                         r"(?: [A-Z]+)?)`\s*\|")
HELP_LINE = re.compile(r"^\s+((?:-[A-Za-z], )?--[a-z][a-z0-9-]*)"
                       r"(?: [A-Z]+)?\s{2,}\S")


def env():
    e = dict(os.environ)
    for k in ("GMRENEW_CONFIG", "GMRENEW_PIN", "GMRENEW_PKCS11_MODULE"):
        e.pop(k, None)
    return e


def gm(*args, check=0):
    return gmtest.gmrenew_run(*args, env=env(), check=check)


def doc_text():
    root = pathlib.Path(gmtest.need_env("GMRENEW_SOURCE_DIR"))
    return (root / "docs" / "cli.md").read_text()


def sections(text):
    """'## heading' -> the text under it, up to the next '## '."""
    out, name, buf = {}, None, []
    for line in text.splitlines():
        if line.startswith("## "):
            if name:
                out[name] = buf
            name, buf = line[3:].strip(), []
        elif name:
            buf.append(line)
    if name:
        out[name] = buf
    return out


def documented_options(lines):
    """Options in the section's tables, with their argument name."""
    return set(documented_meanings(lines))


def documented_meanings(lines):
    """Option -> the table's meaning column (the --help text)."""
    out = {}
    for line in lines:
        m = OPTION_CELL.match(line)
        if m:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            out[m.group(1)] = cells[1] if len(cells) > 1 else ""
    return out


def help_texts(text, title):
    """Option -> its help text in a --help block, unwrapped."""
    out, inside, cur = {}, False, None
    for line in text.splitlines():
        if line.strip() == title:
            inside = True
            continue
        if inside:
            if not line.strip():
                break
            if line.startswith(" " * 29):
                out[cur] += " " + line.strip()
                continue
            m = HELP_LINE.match(line)
            assert m, "cannot read the help line %r" % line
            left, help_ = line.strip().split("  ", 1)
            cur = left.strip()
            out[cur] = help_.strip()
    return out


def help_block(text, title):
    """Option lines of a --help block ('Options:' or 'Global options:')."""
    return set(help_texts(text, title))


def meanings_differ(in_help, in_doc):
    return ["'%s': --help says %r, docs/cli.md %r" % (o, in_help[o], in_doc[o])
            for o in sorted(set(in_help) & set(in_doc))
            if in_help[o] != in_doc[o]]


def commands():
    out = gm("--help").stdout
    block = out.split("Commands:", 1)[1].split("\n\n", 1)[0]
    names = re.findall(r"^  ([a-z][a-z-]*)\s{2,}", block, re.M)
    assert names, out
    return names


def test_help_exits_zero_and_lists_commands():
    names = commands()
    assert {"list-certs", "verify", "renew", "renew-with-code"} <= set(names)
    assert gm("-h").stdout == gm("--help").stdout


def test_every_command_documented_with_its_options():
    text = doc_text()
    secs = sections(text)
    problems = []
    for name in commands():
        h = gm(name, "--help", check=0).stdout
        assert h.startswith("usage: gmrenew %s" % name), h
        key = "gmrenew " + name
        if key not in secs:
            problems.append("docs/cli.md has no section '## %s'" % key)
            continue
        in_help = help_block(h, "Options:")
        in_doc = documented_options(secs[key])
        for o in sorted(in_help - in_doc):
            problems.append("%s: '%s' is in --help, not in docs/cli.md"
                            % (name, o))
        for o in sorted(in_doc - in_help):
            problems.append("%s: '%s' is in docs/cli.md, not in --help"
                            % (name, o))
        problems += ["%s: %s" % (name, d) for d in meanings_differ(
            help_texts(h, "Options:"), documented_meanings(secs[key]))]
        # the section gives the exit codes
        assert any("Exit codes" in l for l in secs[key]), key
    assert not problems, "\n".join(problems)


def test_global_options_documented():
    secs = sections(doc_text())
    assert "Global options" in secs
    in_doc = documented_options(secs["Global options"])
    in_help = help_block(gm("--help").stdout, "Global options:")
    assert in_help == in_doc, (sorted(in_help ^ in_doc))
    differ = meanings_differ(help_texts(gm("--help").stdout, "Global options:"),
                             documented_meanings(secs["Global options"]))
    assert not differ, "\n".join(differ)
    # a command's help lists the same global options (plus -h, --help)
    cmd_help = help_block(gm("list-certs", "--help").stdout,
                          "Global options:")
    assert cmd_help | {"--version"} == in_help


def test_help_on_unknown_command_fails():
    p = gm("no-such-command", "--help", check=None)
    # `--help` after an unknown word still names the problem or helps
    assert p.returncode in (0, 2)
    p = gm("no-such-command", check=2)
    assert "not a gmrenew command" in p.stderr


@pytest.mark.parametrize("column", ["网关号", "机构名称", "所属系统", "有效期起",
                                    "有效期止", "状态", "序号", "证书主题"])
def test_table_columns_mapped_to_ca_page(column):
    secs = sections(doc_text())
    assert column in "\n".join(secs["gmrenew list-certs"])
