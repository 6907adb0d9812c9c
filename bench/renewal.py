"""Benchmark: one renewal end to end, as a user with a real Ekey would wait
for it. The soft ePass3000GM adds a per-call latency like a USB key's
(GMSOFT_LATENCY), the reference service runs over TLS on 127.0.0.1.
Prints, per run: PKCS#11 calls, HTTP requests and connections, and time.

Run through bench/renewal.sh (it builds first)."""
import os
import pathlib
import re
import statistics
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent /
                       "tests" / "integration"))
import gmtest  # noqa: E402

LATENCY = os.environ.get("BENCH_LATENCY", "call:3,keygen:1500,sign:60")
RUNS = int(os.environ.get("BENCH_RUNS", "5"))


def one(root):
    w = gmtest.World(root)
    try:
        trace = pathlib.Path(root) / "trace"
        before = len(w.service.log_lines())
        t = time.monotonic()
        w.gmrenew("renew", "--yes", "--pin-file", w.pin_file, check=0,
                  env=w.env(GMSOFT_TRACE=trace, GMSOFT_LATENCY=LATENCY))
        elapsed = time.monotonic() - t
        calls = len(trace.read_text().splitlines())
        lines = w.service.log_lines()[before:]
        conns = len({re.search(r"conn=(\d+)", l).group(1) for l in lines})
        return elapsed, calls, len(lines), conns
    finally:
        w.close()


def main():
    results = []
    for i in range(RUNS):
        with tempfile.TemporaryDirectory() as d:
            results.append(one(d))
            print("run %d: %.2f s, %d PKCS#11 calls, %d HTTP requests on "
                  "%d connection(s)" % ((i + 1,) + results[-1]))
    times = [r[0] for r in results]
    print("latency %s: median %.2f s, min %.2f s, max %.2f s over %d runs"
          % (LATENCY, statistics.median(times), min(times), max(times), RUNS))


if __name__ == "__main__":
    main()
