#!/usr/bin/env bash
# The libFuzzer targets of tests/fuzz/ (one per parser of outside input),
# built with clang in their own build directory.
#
#   scripts/fuzz.sh build               targets with ASan+UBSan (fuzzer build)
#   scripts/fuzz.sh smoke [SECONDS]     build; run each target SECONDS (3) over
#                                       its committed corpus (CI: ctest fuzz_smoke)
#   scripts/fuzz.sh run TARGET [RUNS] [MAX_SECONDS]
#                                       the long run of one target, nice -n 19:
#                                       RUNS executions (10000000) or MAX_SECONDS
#                                       (36000), whichever comes first
#   scripts/fuzz.sh coverage [TARGET...]
#                                       coverage build (clang source-based); each
#                                       target over its corpus; coverage of its
#                                       parser's functions (tests/fuzz/parsers.txt)
#   scripts/fuzz.sh list                the targets
#
# GMRENEW_FUZZ_BUILD picks the build directory (default build-fuzz). New
# inputs a long run finds go to BUILD/corpus/TARGET; inputs that crash go to
# BUILD/findings/ and must be added to tests/fuzz/corpus/TARGET with the fix.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
out=${GMRENEW_FUZZ_BUILD:-$src/build-fuzz}
cmd=${1:-smoke}
shift || true

# the tools: clang (and libFuzzer) always, llvm's for coverage
need_tools() {
  local t     # not the caller's: run_one's target is also $t
  scripts/install-deps.sh fuzz
  for t in clang "$@"; do
    command -v "$t" >/dev/null || { echo "fuzz.sh: $t is missing" >&2; exit 2; }
  done
}

# configure and build one flavour (asan or coverage) into $out/$1
build_flavour() {
  local flavour=$1 flags
  case $flavour in
    asan) flags="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined" ;;
    coverage) flags="-g -O0 -fsanitize=fuzzer-no-link -fprofile-instr-generate -fcoverage-mapping" ;;
  esac
  local linkflags=""
  [ "$flavour" = asan ] && linkflags="-fsanitize=address,undefined"
  [ "$flavour" = coverage ] && linkflags="-fprofile-instr-generate"
  cmake -S "$src" -B "$out/$flavour" -DCMAKE_C_COMPILER=clang \
    -DCMAKE_BUILD_TYPE=None -DCMAKE_C_FLAGS="$flags" \
    -DCMAKE_EXE_LINKER_FLAGS="$linkflags" -DCMAKE_MODULE_LINKER_FLAGS= \
    -DGMRENEW_TESTS=OFF -DGMRENEW_FUZZ=ON >"$out/$flavour.configure.log" 2>&1 ||
    { cat "$out/$flavour.configure.log" >&2; exit 1; }
  cmake --build "$out/$flavour" -j2 >"$out/$flavour.build.log" 2>&1 ||
    { tail -50 "$out/$flavour.build.log" >&2; exit 1; }
}

targets() {
  local f
  for f in tests/fuzz/fuzz_*.c; do f=${f##*/}; echo "${f%.c}"; done
}

# libFuzzer options of a target: its dictionary, when it has one
options() {
  local t=${1#fuzz_}
  [ -f "tests/fuzz/$t.dict" ] && echo "-dict=$src/tests/fuzz/$t.dict"
  echo "-print_final_stats=1"
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:allocator_may_return_null=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

smoke() {
  local seconds=${1:-3} t status=0 scratch p
  # the test list of install-deps.sh has what this needs; missing is a failure
  for p in clang libclang-rt-14-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      { echo "fuzz.sh: package $p is missing (scripts/install-deps.sh test)" >&2; exit 2; }
  done
  mkdir -p "$out"
  build_flavour asan
  mkdir -p "$out/findings"
  for t in $(targets); do
    scratch=$(mktemp -d "$out/smoke-XXXXXX")
    # new inputs go to the scratch directory, never into the repository
    if ! "$out/asan/fuzz/$t" $(options "$t") -max_total_time="$seconds" \
        -artifact_prefix="$out/findings/$t-" "$scratch" \
        "tests/fuzz/corpus/${t#fuzz_}" >"$out/$t.smoke.log" 2>&1; then
      echo "FAIL $t: see $out/$t.smoke.log" >&2
      tail -30 "$out/$t.smoke.log" >&2
      status=1
    else
      echo "ok   $t: $(grep -o 'stat::number_of_executed_units: [0-9]*' "$out/$t.smoke.log" | grep -o '[0-9]*$') executions, $(ls "tests/fuzz/corpus/${t#fuzz_}" | wc -l) seeds"
    fi
    rm -rf "$scratch"
  done
  return $status
}

run_one() {
  local t=${1:?target} runs=${2:-10000000} max=${3:-36000}
  [ -x "$out/asan/fuzz/$t" ] || { need_tools; build_flavour asan; }
  mkdir -p "$out/corpus/${t#fuzz_}" "$out/findings"
  echo "== $t: $runs runs or $max s"
  nice -n 19 "$out/asan/fuzz/$t" $(options "$t") -runs="$runs" \
    -max_total_time="$max" -artifact_prefix="$out/findings/$t-" \
    "$out/corpus/${t#fuzz_}" "tests/fuzz/corpus/${t#fuzz_}" \
    >"$out/$t.run.log" 2>&1 || { tail -40 "$out/$t.run.log"; return 1; }
  grep -E "^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|^Done" "$out/$t.run.log"
}

coverage() {
  local t list
  need_tools llvm-profdata-14 llvm-cov-14
  mkdir -p "$out/profiles"
  [ -n "${GMRENEW_FUZZ_NO_BUILD:-}" ] || build_flavour coverage
  list=("$@")
  [ ${#list[@]} -eq 0 ] && mapfile -t list < <(targets)
  for t in "${list[@]}"; do
    local dirs=("tests/fuzz/corpus/${t#fuzz_}")
    [ -d "$out/corpus/${t#fuzz_}" ] && dirs+=("$out/corpus/${t#fuzz_}")
    rm -f "$out/profiles/$t".*.profraw
    LLVM_PROFILE_FILE="$out/profiles/$t.%p.profraw" ASAN_OPTIONS= \
      "$out/coverage/fuzz/$t" -runs=0 "${dirs[@]}" >"$out/$t.cov.log" 2>&1 ||
      { echo "coverage run of $t failed: $out/$t.cov.log" >&2; return 1; }
    llvm-profdata-14 merge -sparse "$out/profiles/$t".*.profraw -o "$out/profiles/$t.profdata"
    /usr/bin/python3 tests/fuzz/coverage.py "$t" "$out/coverage/fuzz/$t" \
      "$out/profiles/$t.profdata" tests/fuzz/parsers.txt
  done
}

case $cmd in
  build) need_tools; mkdir -p "$out"; build_flavour asan ;;
  smoke) smoke "$@" ;;
  run) run_one "$@" ;;
  coverage) coverage "$@" ;;
  list) targets ;;
  *) sed -n '2,20p' "$0" >&2; exit 2 ;;
esac
