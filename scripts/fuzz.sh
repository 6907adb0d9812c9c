#!/usr/bin/env bash
# Builds the libFuzzer targets in tests/fuzz/ with clang (AddressSanitizer,
# UndefinedBehaviorSanitizer; the code under test is compiled in, so it is
# instrumented) and runs each for a while.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
scripts/install-deps.sh build
if ! command -v clang >/dev/null || ! dpkg-query -W libclang-rt-14-dev >/dev/null 2>&1; then
  [ "$(id -u)" -eq 0 ] || { echo "fuzz.sh: needs clang and libclang-rt-14-dev" >&2; exit 2; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libclang-rt-14-dev >/dev/null
fi
out=build-fuzz
mkdir -p "$out/generated/gmrenew" "$out/corpus"
sed 's/@PROJECT_VERSION@/fuzz/' include/gmrenew/version.h.in >"$out/generated/gmrenew/version.h"
cflags=(-g -O1 -fsanitize=fuzzer,address,undefined -D_POSIX_C_SOURCE=200809L
  -D_DEFAULT_SOURCE -Iinclude -I"$out/generated" $(pkg-config --cflags p11-kit-1))
libs=(-lcrypto -linih -lcurl -lcjson)
common=(src/common/*.c)
crypto=(src/crypto/*.c)
service=(src/service/*.c)

build() {
  local name=$1; shift
  clang "${cflags[@]}" "tests/fuzz/$name.c" "$@" "${libs[@]}" -o "$out/$name"
}
build fuzz_certfacts "${crypto[@]}" "${common[@]}"
build fuzz_service_response "${service[@]}" "${crypto[@]}" "${common[@]}"
build fuzz_config "${service[@]}" "${crypto[@]}" "${common[@]}"

# Seeds: a real SM2 certificate, and the configuration example.
mkdir -p "$out/corpus/certfacts" "$out/corpus/service_response" "$out/corpus/config"
if [ ! -f "$out/corpus/certfacts/seed.der" ]; then
  openssl req -x509 -newkey sm2 -nodes -keyout /dev/null -subj "/C=CN/O=SSCCCA/OU=CCNET/CN=JSB0000@IST@30" \
    -days 30 -outform DER -out "$out/corpus/certfacts/seed.der" -sm3 \
    -sigopt distid:1234567812345678 2>/dev/null || true
  sed -n '/^```ini/,/^```/p' docs/configuration.md | sed '1d;$d' >"$out/corpus/config/seed.ini"
fi
status=0
for t in certfacts service_response config; do
  echo "== fuzz_$t for ${seconds}s"
  "$out/fuzz_$t" -max_total_time="$seconds" -print_final_stats=1 \
    "$out/corpus/$t" 2>"$out/fuzz_$t.log" || { status=1; tail -40 "$out/fuzz_$t.log"; }
  grep -E "stat::number_of_executed_units|Done" "$out/fuzz_$t.log" | tail -2
done
exit $status
