#!/usr/bin/python3
"""Coverage of one fuzz target's parser code (clang source-based coverage).

Usage: coverage.py TARGET BINARY PROFDATA PARSERS.txt
For each source file tests/fuzz/parsers.txt names for TARGET, sums
`llvm-cov-14 report -show-functions` over the named functions (the whole
file when none is named): regions, lines and branches executed by the
target's corpus, and the functions never entered.
"""

import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def wanted(parsers, target):
    """[(file, set of functions or None)] for target."""
    out = []
    with open(parsers, encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if parts and not parts[0].startswith("#") and parts[0] == target:
                out.append((parts[1], set(parts[2:]) or None))
    return out


def functions(binary, profdata, path):
    """{function: (regions, missed, lines, missed, branches, missed)}."""
    text = subprocess.run(["llvm-cov-14", "report", "-show-functions",
                           "-instr-profile=" + profdata, binary, os.path.join(REPO, path)],
                          check=True, capture_output=True, text=True).stdout
    rows = {}
    for line in text.splitlines():
        cols = line.split()
        if len(cols) != 10 or cols[0] in ("Name", "TOTAL") or not cols[1].isdigit():
            continue
        n = [int(cols[i]) for i in (1, 2, 4, 5, 7, 8)]
        rows[cols[0].rsplit(":", 1)[-1]] = n
    return rows


def pct(done, total):
    return 100.0 * done / total if total else 100.0


def main():
    target, binary, profdata, parsers = sys.argv[1:5]
    grand = [0] * 6
    for path, funcs in wanted(parsers, target):
        rows = functions(binary, profdata, path)
        names = sorted(rows) if funcs is None else sorted(funcs)
        sums = [0] * 6
        missing, never = [], []
        for name in names:
            if name not in rows:
                missing.append(name)
                continue
            sums = [a + b for a, b in zip(sums, rows[name])]
            if rows[name][0] == rows[name][1]:
                never.append(name)
        grand = [a + b for a, b in zip(grand, sums)]
        r, rm, l, lm, b, bm = sums
        note = ""
        if never:
            note += "  never entered: " + ", ".join(never)
        if missing:
            note += "  not found: " + ", ".join(missing)
        print("%-22s %-24s %-13s regions %5.1f%% (%d/%d)  lines %5.1f%% (%d/%d)  branches %5.1f%% (%d/%d)%s" % (
            target, path, "whole file" if funcs is None else "%d functions" % len(funcs),
            pct(r - rm, r), r - rm, r, pct(l - lm, l), l - lm, l, pct(b - bm, b), b - bm, b, note))
    r, rm, l, lm, b, bm = grand
    print("%-22s %-38s regions %5.1f%% (%d/%d)  lines %5.1f%% (%d/%d)  branches %5.1f%% (%d/%d)" % (
        target, "TOTAL", pct(r - rm, r), r - rm, r, pct(l - lm, l), l - lm, l, pct(b - bm, b), b - bm, b))


if __name__ == "__main__":
    main()
