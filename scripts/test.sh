#!/usr/bin/env bash
# Builds gmrenew with AddressSanitizer and UndefinedBehaviorSanitizer and runs
# every test (unit, soft token, SoftHSM2, reference service, integration),
# then all of them again on Tongsuo with TLCP (scripts/test-tongsuo.sh).
# Usage: scripts/test.sh [ctest arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
scripts/install-deps.sh test
build=${GMRENEW_TEST_BUILD_DIR:-build-test}
# The product must also build warning-free when optimised (-O3 finds more).
cmake -S . -B "$build-release" -DCMAKE_BUILD_TYPE=Release -DGMRENEW_TESTS=OFF >/dev/null
cmake --build "$build-release" -j"$(nproc)" >/dev/null
cmake -S . -B "$build" -DGMRENEW_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$build" -j"$(nproc)"
cd "$build"
rm -f interruption-matrix.txt
status=0
ctest --output-on-failure -j2 --timeout 900 "$@" || status=$?
[ -f interruption-matrix.txt ] && cat interruption-matrix.txt
# The same suite once more on Tongsuo, with the TLCP tests (cached build).
cd "$root"
GMRENEW_TONGSUO_BUILD_DIR=${GMRENEW_TONGSUO_BUILD_DIR:-$build-tongsuo} \
  scripts/test-tongsuo.sh "$@" || status=$?
exit $status
