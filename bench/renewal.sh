#!/usr/bin/env bash
# Times a full renewal against the soft ePass3000GM with USB-like latency and
# the reference service. Usage: bench/renewal.sh   (BENCH_RUNS, BENCH_LATENCY)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh test
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j"$(nproc)" --target gmrenew gmsofttoken gmsofttoken-tool >/dev/null
export GMRENEW_BIN=$PWD/build-bench/src/cli/gmrenew
export GMSOFT_MODULE=$PWD/build-bench/tests/softtoken/libgmsofttoken.so
export GMSOFT_TOOL=$PWD/build-bench/tests/softtoken/gmsofttoken-tool
export REFSERVICE=$PWD/tools/refservice/refservice.py
export SOFTHSM_MODULE=/usr/lib/softhsm/libsofthsm2.so
exec /usr/bin/python3 bench/renewal.py
