#!/usr/bin/env bash
# Times `gmrenew verify` on a soft ePass3000GM holding many certificates.
# Usage: bench/verify.sh [N ...]   (default: 200 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh test
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j2 --target gmrenew gmsofttoken gmsofttoken-tool >/dev/null
export GMRENEW_BIN=$PWD/build-bench/src/cli/gmrenew
export GMSOFT_MODULE=$PWD/build-bench/tests/softtoken/libgmsofttoken.so
export GMSOFT_TOOL=$PWD/build-bench/tests/softtoken/gmsofttoken-tool
export SOFTHSM_MODULE=/usr/lib/softhsm/libsofthsm2.so
[ $# -gt 0 ] || set -- 200 1000
exec /usr/bin/python3 bench/verify.py "$@"
