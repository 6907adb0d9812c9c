#!/usr/bin/env bash
# Builds gmrenew with ThreadSanitizer (gcc) into GMRENEW_TSAN_BUILD and runs
# tests/tsan/test_threads.py with it as GMRENEW_BIN. The soft token and the
# other fixtures are the main build's (GMRENEW_TEST_ENV).
set -euo pipefail
src=${GMRENEW_SOURCE_DIR:?run through ctest}
out=${GMRENEW_TSAN_BUILD:?run through ctest}
cmake -S "$src" -B "$out" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGMRENEW_TESTS=OFF \
  -DCMAKE_C_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" >"$out.configure.log" 2>&1 ||
  { cat "$out.configure.log" >&2; exit 1; }
cmake --build "$out" -j2 --target gmrenew >"$out.build.log" 2>&1 ||
  { tail -40 "$out.build.log" >&2; exit 1; }
export GMRENEW_BIN=$out/src/cli/gmrenew
export PYTHONPATH=$src/tests/integration${PYTHONPATH:+:$PYTHONPATH}
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider "$src/tests/tsan/test_threads.py"
