"""A file write that fails (a full disk, EIO from a dying disk, a network
file system that reports the error only at fsync or close) stops the
renewal with an error that names the file and the cause, leaves no
temporary file behind, and never costs the token its usable certificate
and key; the next run, with the disk healthy again, finishes the renewal.

The faults come from tests/integration/failio (an LD_PRELOAD library): the
Nth fsync, fflush, fclose or rename on a file in the state directory fails.
A first run with GMFAILIO_NTH=trace counts the calls of a whole renewal,
so each case hits a real point of it."""
import json
import os
import pathlib
import re

import pytest

import gmtest

ENOSPC, EIO = 28, 5


def fault_env(world, op, nth, match, log, errno=EIO):
    return world.env(LD_PRELOAD=gmtest.need_env("GMFAILIO"), GMFAILIO_OP=op,
                     GMFAILIO_MATCH=match, GMFAILIO_NTH=nth,
                     GMFAILIO_LOG=log, GMFAILIO_ERRNO=errno,
                     ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") +
                     ":verify_asan_link_order=0")


def renew(world, env=None, check=None):
    return world.gmrenew("renew", "--yes", "--pin-file", world.pin_file,
                         env=env, check=check)


def traced(tmp_path, op):
    """The paths of every call of op a whole renewal makes in the state
    directory, in order."""
    w = gmtest.World(tmp_path / ("trace-" + op))
    log = w.root / "trace.log"
    try:
        renew(w, fault_env(w, op, "trace", str(w.state), log), check=0)
    finally:
        w.close()
    lines = log.read_text().splitlines() if log.exists() else []
    return [l.split(" ", 1)[1].replace(str(w.state), "") for l in lines]


def temp_files(state):
    return [p for p in state.rglob("*") if ".tmp-" in p.name]


def assert_usable_pair(world):
    certs = world.certs()
    assert any(c["has_private_key"] is True and c["days_left"] > 0
               for c in certs), certs


def assert_recovers(world, p):
    """With the disk healthy again, the renewal finishes: by a plain renew
    (which resumes from the journal), or by the renew-with-code line the
    failed run printed."""
    q = renew(world)
    if q.returncode != 0:
        m = re.search(r"gmrenew renew-with-code (\S+)", p.stderr + q.stderr)
        assert m, (p.stderr, q.stderr)
        q = world.gmrenew("renew-with-code", m.group(1),
                          "--pin-file", world.pin_file)
    assert q.returncode == 0, q.stderr
    (cert,) = world.certs()
    assert cert["has_private_key"] is True and cert["days_left"] > 1000
    world.gmrenew("verify", "--pin-file", world.pin_file, check=0)
    assert not temp_files(world.state)


def check_case(tmp_path, op, nth, errno, what, fatal):
    """A journal that cannot be written stops the renewal (exit 1); a run
    record that cannot be written is a warning on a finished renewal."""
    w = gmtest.World(tmp_path / ("%s-%s" % (op, nth)))
    log = w.root / "faults.log"
    try:
        p = renew(w, fault_env(w, op, nth, str(w.state), log, errno))
        assert log.exists(), "the fault was never hit"
        assert p.returncode == (1 if fatal else 0), p.stderr
        assert ("cannot write the %s" % what) in p.stderr or \
            ("cannot sync the directory of the %s" % what) in p.stderr, \
            p.stderr
        assert os.strerror(errno) in p.stderr, p.stderr
        assert not temp_files(w.state), temp_files(w.state)
        assert_usable_pair(w)
        assert_recovers(w, p)
    finally:
        w.close()



@pytest.fixture(scope="module")
def traces(tmp_path_factory):
    root = tmp_path_factory.mktemp("traces")
    return {op: traced(root, op) for op in ("fsync", "fflush", "fclose",
                                            "rename")}


def picks(paths, want, thin):
    """1-based indexes of the calls on paths that want() accepts; all of
    them, or the first, a middle and the last when thin."""
    idx = [i + 1 for i, p in enumerate(paths) if want(p)]
    if thin and len(idx) > 3:
        idx = [idx[0], idx[len(idx) // 2], idx[-1]]
    return idx


def is_journal_temp(p):
    return p.startswith("/journal/.") and ".tmp-" in p


def is_journal_dir(p):
    return p == "/journal"


def is_journal(p):
    """A journal renamed into place in journal/ (not a move to done/)."""
    return re.fullmatch(r"/journal/[^/]+\.json", p) is not None


def is_closed_move(p):
    return p.startswith("/journal/done/")


def is_run_record(p):
    return p.startswith("/runs/")


def test_trace_sees_every_journal_write(traces):
    """The trace is the matrix's base: a renewal writes its journal several
    times (each a temporary file synced, renamed and its directory synced)
    and its run record once."""
    fs = traces["fsync"]
    assert len([p for p in fs if is_journal_temp(p)]) >= 5, fs
    assert len([p for p in fs if is_journal_dir(p)]) >= 5, fs
    assert any(is_run_record(p) for p in fs), fs
    assert len(traces["rename"]) >= 5, traces["rename"]


MATRIX = [
    ("fsync", is_journal_temp, False, EIO, "journal", True),
    ("fsync", is_journal_dir, True, EIO, "journal", True),
    ("rename", is_journal, False, ENOSPC, "journal", True),
    ("fflush", is_journal_temp, True, ENOSPC, "journal", True),
    ("fclose", is_journal_temp, True, EIO, "journal", True),
    ("fsync", is_run_record, False, EIO, "run record", False),
]


@pytest.mark.parametrize("op,want,thin,errno,what,fatal", MATRIX,
                         ids=["fsync-journal", "fsync-journal-dir",
                              "rename-journal", "fflush-journal",
                              "fclose-journal", "fsync-run-record"])
def test_failed_write_loses_nothing(tmp_path, traces, op, want, thin, errno,
                                    what, fatal):
    points = picks(traces[op], want, thin)
    assert points, traces[op]
    failures = []
    for nth in points:
        try:
            check_case(tmp_path, op, nth, errno, what, fatal)
        except AssertionError as e:
            failures.append("%s #%d (%s): %s" % (op, nth,
                                                 traces[op][nth - 1], e))
    assert not failures, "\n\n".join(failures)


def test_failed_move_of_a_closed_journal_costs_nothing(tmp_path, traces):
    """The move of a finished journal to journal/done/ is housekeeping: if
    its rename fails, the renewal still ends well and the journal stays
    where it is, finished; the next run that reads journal/ (here the
    metrics) counts it as not pending and moves it."""
    (nth,) = picks(traces["rename"], is_closed_move, False)
    w = gmtest.World(tmp_path / "move")
    log = w.root / "faults.log"
    try:
        p = renew(w, fault_env(w, "rename", nth, str(w.state), log, EIO))
        assert log.exists(), "the fault was never hit"
        assert p.returncode == 0, p.stderr
        (journal,) = w.journals()
        assert journal.parent == w.state / "journal", journal
        assert json.loads(journal.read_text()).get("finished")
        out = w.root / "m.prom"
        w.gmrenew("list-certs", "--metrics", str(out), check=0)
        assert re.search(r"^gmrenew_pending_renewals\{[^}]*\} 0$",
                         out.read_text(), re.M), out.read_text()
        (moved,) = w.journals()
        assert moved == w.state / "journal" / "done" / journal.name, moved
        assert not temp_files(w.state)
    finally:
        w.close()


def test_journal_is_written_only_when_it_changes(tmp_path):
    """Each journal write costs a temporary file, two fsyncs and a rename;
    a step that changed no fact writes nothing, since the file holds that
    text already. Seen with strace: every text written to the journal
    differs from the one before it, and the renewal still ends with the
    journal closed."""
    w = gmtest.World(tmp_path)
    trace = w.root / "writes.trace"
    try:
        cmd = [gmtest.need_tool("strace"), "-f", "-qq", "-y", "-s", "1000000",
               "-e", "trace=write", "-o", trace,
               gmtest.need_env("GMRENEW_BIN"), "renew", "--yes",
               "--pin-file", w.pin_file]
        env = w.env(ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") +
                    ":detect_leaks=0")      # LeakSanitizer cannot run traced
        p = gmtest.run(cmd, check=False, expect=0, env=env)
        texts = {}
        for line in trace.read_text(errors="surrogateescape").splitlines():
            m = re.search(r'write\(\d+<([^>]*/journal/\.[^>]*\.tmp-[^>]*)>, '
                          r'"(.*)", \d+\) = \d+$', line)
            if m:
                texts[m.group(1)] = texts.get(m.group(1), "") + m.group(2)
        written = list(texts.values())      # in the order of first write
        assert len(written) >= 4, (written, p.stderr)
        repeats = [i for i in range(1, len(written))
                   if written[i] == written[i - 1]]
        assert not repeats, "journal text written again unchanged: %s" % [
            written[i][:200] for i in repeats]
        (path,) = w.journals()
        assert json.loads(path.read_text()).get("finished"), path
    finally:
        w.close()
