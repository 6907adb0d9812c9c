"""gmrenew verify's parallel pass under ThreadSanitizer (GMRENEW_BIN is the
TSan build of tests/tsan/run.sh): the token of test_verify.plant_many, whose
chains share an intermediate on the token and the root, verified many
times over; every run must give the same report with no ThreadSanitizer
report. Races show in some runs only, so one run is not enough: OpenSSL
decoding a shared certificate's extensions on first use under its lock
while another thread read them was seen in about one run in five."""
import json
import os

import gmtest
import test_verify

RUNS = 30


def test_parallel_verify_is_race_free(tmp_path):
    assert len(os.sched_getaffinity(0)) >= 2, \
        "this test needs a machine with 2 CPUs or more"
    bench = test_verify.Bench(tmp_path)
    test_verify.plant_many(bench)
    env = dict(bench.env(), TSAN_OPTIONS="halt_on_error=1:exitcode=66:"
               "report_signal_unsafe=0")
    first = None
    for i in range(RUNS):
        p = gmtest.gmrenew_run("--json", "verify", env=env)
        assert "ThreadSanitizer" not in p.stderr, "run %d:\n%s" % (
            i + 1, p.stderr[-6000:])
        assert p.returncode == 8, (p.returncode, p.stderr[-2000:])
        first = first or p.stdout
        assert p.stdout == first
    doc = json.loads(first)
    assert len(doc["certificates"]) == 25 and doc["ok"] is False
