#!/usr/bin/env bash
# The test suite CI runs (.ci/run): builds gmrenew with AddressSanitizer and
# UndefinedBehaviorSanitizer and runs every test of the main suite (unit,
# soft token, SoftHSM2, reference service, integration, the interruption
# matrices, the hostile service, packaging, the fuzz and benchmark smoke
# runs), then the short Tongsuo suite (scripts/test-tongsuo.sh --short: the
# Tongsuo build and its checks, the TLCP, crypto, service client and unit
# tests, and renewals end to end on Tongsuo). docs/testing.md says what runs
# where. The long runs have their own scripts: scripts/test-tongsuo.sh (the
# whole suite on Tongsuo), scripts/fuzz.sh run, bench/run.
# Usage: scripts/test.sh [ctest arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
start=$SECONDS
scripts/install-deps.sh test
build=${GMRENEW_TEST_BUILD_DIR:-build-test}
# The product must also build warning-free when optimised (-O3 finds more).
cmake -S . -B "$build-release" -DCMAKE_BUILD_TYPE=Release -DGMRENEW_TESTS=OFF >/dev/null
cmake --build "$build-release" -j"$(nproc)" >/dev/null
cmake -S . -B "$build" -DGMRENEW_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$build" -j"$(nproc)"
echo "test.sh: built in $((SECONDS - start)) s"
cd "$build"
rm -f interruption-matrix*.txt
status=0
# The tests' COST properties (set beside each long test) start the longest
# first, so that none of them is left running alone at the end.
ctest --output-on-failure -j2 --timeout 900 "$@" || status=$?
cat interruption-matrix*.txt 2>/dev/null || true
echo "test.sh: main suite done at $((SECONDS - start)) s"
# Tongsuo: its build (cached) and the short suite on it.
cd "$root"
GMRENEW_TONGSUO_BUILD_DIR=${GMRENEW_TONGSUO_BUILD_DIR:-$build-tongsuo} \
  scripts/test-tongsuo.sh --short "$@" || status=$?
echo "test.sh: all done in $((SECONDS - start)) s, exit $status"
exit $status
