"""The one subprocess runner of the Python tests (gmtest.run, spawn and
collect) fails a test on every kind of sanitizer report, also when the
process exits 0 or is interrupted. Small programs built here with the
sanitizers make the reports."""
import signal

import pytest

import gmtest

PROGRAMS = {
    "heap_overflow": ("address", "#include <stdlib.h>\n"
                      "int main(void){char *p=malloc(8);volatile int i=8;"
                      "p[i]=1;free(p);return 0;}\n"),
    "leak": ("address", "#include <stdlib.h>\n#include <string.h>\n"
             "void *keep;int main(void){keep=malloc(64);memset(keep,1,64);"
             "keep=0;return 0;}\n"),
    "signed_overflow": ("undefined", "#include <limits.h>\n"
                        "int main(int c,char**v){(void)v;int x=INT_MAX-1+c;"
                        "x+=c;return x==0;}\n"),
    "clean": ("address,undefined", "int main(void){return 0;}\n"),
}


def build(tmp_path, name):
    flavour, source = PROGRAMS[name]
    src, exe = tmp_path / (name + ".c"), tmp_path / name
    src.write_text(source)
    gmtest.run([gmtest.need_tool("cc"), "-g", "-O0", "-fsanitize=" + flavour,
                "-o", exe, src])
    return exe


def env(**extra):
    # as ctest sets them, but UBSan not halting: its report alone must do
    e = {"ASAN_OPTIONS": "detect_leaks=1:exitcode=99",
         "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=0",
         "PATH": "/usr/bin:/bin"}
    e.update(extra)
    return e


@pytest.mark.parametrize("name", ["heap_overflow", "leak", "signed_overflow"])
def test_the_runner_catches_the_report(tmp_path, name):
    exe = build(tmp_path, name)
    with pytest.raises(AssertionError, match="sanitizer report"):
        gmtest.run([exe], check=False, env=env())


def test_a_report_with_exit_0_is_caught(tmp_path):
    exe = build(tmp_path, "signed_overflow")
    with pytest.raises(AssertionError, match="runtime error"):
        gmtest.run([exe], expect=0, env=env())


def test_a_report_with_another_exit_code_is_caught(tmp_path):
    exe = build(tmp_path, "heap_overflow")
    with pytest.raises(AssertionError, match="AddressSanitizer"):
        gmtest.run([exe], check=False, env=env(ASAN_OPTIONS="exitcode=3"))


def test_spawned_runs_are_checked_too(tmp_path):
    exe = build(tmp_path, "leak")
    with pytest.raises(AssertionError, match="LeakSanitizer"):
        gmtest.collect(gmtest.spawn([exe], env=env()))


def test_a_clean_run_passes_and_a_killed_one_is_allowed(tmp_path):
    exe = build(tmp_path, "clean")
    assert gmtest.run([exe], env=env()).returncode == 0
    proc = gmtest.spawn(["/bin/sleep", "30"], env=env())
    proc.send_signal(signal.SIGKILL)
    assert gmtest.collect(proc, expect=-signal.SIGKILL).returncode == -9
