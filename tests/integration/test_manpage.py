"""The manual page (`gmrenew --man`, written to gmrenew.1 by the build) is
made from the same option tables as --help: every command and option that
--help shows is in it, and man renders it without warnings."""
import os
import re

import gmtest
from gmtest import need_env, need_tool, run


def options_of(text):
    return set(re.findall(r"--[a-z][a-z0-9-]*", text))


def test_manpage_matches_help(tmp_path):
    binary = need_env("GMRENEW_BIN")
    page = run([binary, "--man"]).stdout
    man_file = tmp_path / "gmrenew.1"
    man_file.write_text(page)
    rendered = run([need_tool("man"), "-l", "--warnings=all", "-P", "cat",
                    man_file], env=dict(os.environ, MANWIDTH="80"))
    assert rendered.stderr == "", rendered.stderr
    text = rendered.stdout.replace("\u2010", "-")
    listing = run([binary, "--help"]).stdout
    listing = listing.split("Commands:", 1)[1].split("Global options:", 1)[0]
    commands = re.findall(r"^  (\S+)\s", listing, re.M)
    assert "renew" in commands and "check-env" in commands
    for cmd in commands:
        assert re.search(r"^   %s$" % re.escape(cmd), text, re.M), cmd
        helped = options_of(run([binary, cmd, "--help"]).stdout)
        section = re.split(r"^   %s$" % re.escape(cmd), text,
                           flags=re.M)[1]
        section = re.split(r"^   \S", section, flags=re.M)[0]
        missing = helped - options_of(section) - options_of(
            text.split("GLOBAL OPTIONS", 1)[1].split("COMMANDS", 1)[0])
        assert not missing, (cmd, missing)
    for code in range(9):
        assert re.search(r"^       %d\s" % code, text, re.M), code


def test_build_wrote_gmrenew_1():
    built = os.path.join(need_env("GMRENEW_BUILD_DIR"), "gmrenew.1")
    assert open(built).read() == gmtest.run(
        [need_env("GMRENEW_BIN"), "--man"]).stdout


def words(text):
    return " ".join(text.replace("\u2010", "-").replace("\u2010\n", "")
                    .split())


def test_help_command_is_the_manual_section(tmp_path):
    """`gmrenew help COMMAND` prints the text of the command's section of
    the manual: the same synopsis, description and options."""
    binary = need_env("GMRENEW_BIN")
    page = tmp_path / "gmrenew.1"
    page.write_text(run([binary, "--man"]).stdout)
    # no hyphenation and a wide page, so that words are whole
    rendered = run([need_tool("man"), "-l", "-P", "cat", page],
                   env=dict(os.environ, MANWIDTH="200",
                            MAN_KEEP_FORMATTING="")).stdout
    rendered = re.sub(r"(\w)\u2010\n\s*", r"\1", rendered)
    for cmd in ("check-env", "renew", "config", "renew-with-code"):
        helped = run([binary, "help", cmd]).stdout
        section = re.split(r"^   %s$" % re.escape(cmd), rendered,
                           flags=re.M)[1]
        section = re.split(r"^   \S", section, flags=re.M)[0]
        assert words(helped.split("\n", 1)[1]) == words(section), cmd


def complete(script, *words):
    """The bash completion function's answer for the words typed so far."""
    typed = " ".join("'%s'" % w for w in words)
    p = run([need_tool("bash"), "-c",
             "source '%s'; COMP_WORDS=(gmrenew %s); COMP_CWORD=%d; _gmrenew;"
             " printf '%%s\\n' \"${COMPREPLY[@]}\"" % (script, typed,
                                                      len(words))])
    return set(p.stdout.split())


def test_completion_offers_every_option_of_every_command(tmp_path):
    """The bash completion (gmrenew --bash-completion) comes from the same
    option tables: every option --help shows is offered after the command,
    files are completed after options taking FILE, and zsh's script
    parses and names every option too."""
    binary = need_env("GMRENEW_BIN")
    script = tmp_path / "gmrenew.bash"
    script.write_text(run([binary, "--bash-completion"]).stdout)
    listing = run([binary, "--help"]).stdout
    listing = listing.split("Commands:", 1)[1].split("Global options:", 1)[0]
    commands = re.findall(r"^  (\S+)\s", listing, re.M)
    assert complete(script, "") >= set(commands)
    zsh = tmp_path / "_gmrenew"
    zsh.write_text(run([binary, "--zsh-completion"]).stdout)
    run([need_tool("zsh"), "-n", zsh])
    for cmd in commands:
        helped = options_of(run([binary, cmd, "--help"]).stdout)
        offered = complete(script, cmd, "--")
        assert helped - {"--help"} <= offered, (cmd, helped - offered)
        for opt in helped - {"--help"}:
            assert opt in zsh.read_text(), (cmd, opt)
    (tmp_path / "pin-file.txt").write_text("x")
    files = complete(script, "renew", "--pin-file", str(tmp_path / "pin-"))
    assert str(tmp_path / "pin-file.txt") in files
