#!/usr/bin/env bash
# Builds gmrenew on Tongsuo (with NTLS, for TLCP) and a libcurl built against
# it, proves that no system TLS library is loaded, and runs the whole test
# suite on that build, TLCP tests included.
#
# Usage: scripts/test-tongsuo.sh [--short] [ctest arguments...]
#
# Without --short: every test of the main suite but packaging_deb and the
# double-certificate interruption matrix (see below), by hand. --short is
# what CI runs (scripts/test.sh): the build and every check of it below,
# then only what depends on the crypto and TLS libraries: the unit tests
# (crypto, certificate facts, CSR, service client parsing, SKF), the soft
# token's own tests, the TLCP tests, the C service client over real TLS
# (test_service_client.py), verify's chains (test_verify.py), and end to
# end on Tongsuo: a renewal on the soft Ekey through PKCS#11 and through
# SKF, a P-256 renewal on SoftHSM2, a double-certificate renewal, and
# `gmrenew --version` against Tongsuo's own command (the tests named in
# short_e2e below). docs/testing.md lists what runs where.
#
# The sources are the vendored tarballs in ../shared/vendor (the folder beside
# the repository; GMRENEW_VENDOR_DIR overrides), checked against SHA256SUMS.
# Tongsuo and libcurl are built once into a prefix keyed by the tarballs'
# sha256 and reused while they are unchanged: under GMRENEW_TONGSUO_CACHE,
# else /var/cache/gmrenew-tongsuo when writable, else the build directory.
# GMRENEW_TONGSUO_BUILD_DIR is the build directory (default build-tongsuo).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

tongsuo_tar=tongsuo-8.4.0.tar.gz
curl_tar=curl-7.88.1.tar.gz
# Bump when the recipe below changes, so that old caches are not reused.
recipe=1

say() { printf 'test-tongsuo: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

short=0
if [ "${1:-}" = --short ]; then
  short=1
  shift
fi
# --short: whole ctest tests, and tests that run only the pytest tests
# short_e2e names (each of those files must have at least one, or pytest
# fails with "no tests ran")
short_tests='^(unit_.*|softtoken_.*|tlcp_service|integration_test_service_client|integration_test_verify)$'
short_e2e_tests='^integration_test_(renew|skf|double_cert|cli_errors)$'
short_e2e='test_full_renewal_on_the_soft_ekey or test_full_renewal_on_softhsm_p256 or test_renew_through_skf_seen_through_pkcs11 or test_double_renewal_through_skf or test_version'

scripts/install-deps.sh test
build=${GMRENEW_TONGSUO_BUILD_DIR:-build-tongsuo}
mkdir -p "$build"
build=$(cd "$build" && pwd)
vendor=${GMRENEW_VENDOR_DIR:-$root/../shared/vendor}
[ -d "$vendor" ] || die "no vendor folder at $vendor (the shared folder beside the repository)"
vendor=$(cd "$vendor" && pwd)

# --- the tarballs, checked ---------------------------------------------------
check_sums() {
  local f line
  for f in "$tongsuo_tar" "$curl_tar"; do
    line=$(grep -E "^[0-9a-f]{64}  $f\$" "$vendor/SHA256SUMS") ||
      die "$vendor/SHA256SUMS has no line for $f"
    (cd "$vendor" && printf '%s\n' "$line" | sha256sum --quiet -c -) ||
      die "$vendor/$f does not match its sha256 in SHA256SUMS"
  done
}
check_sums
key=$( (cd "$vendor" && sha256sum "$tongsuo_tar" "$curl_tar"; echo "recipe $recipe") |
  sha256sum | cut -c1-16)

if [ -n "${GMRENEW_TONGSUO_CACHE:-}" ]; then
  cache=$GMRENEW_TONGSUO_CACHE
elif mkdir -p /var/cache/gmrenew-tongsuo 2>/dev/null && [ -w /var/cache/gmrenew-tongsuo ]; then
  cache=/var/cache/gmrenew-tongsuo
else
  cache=$build/deps
fi
mkdir -p "$cache"
prefix=$cache/$key
jobs=${GMRENEW_TONGSUO_JOBS:-2}

# --- Tongsuo and libcurl, built once per key ----------------------------------
build_tongsuo() {
  local src=$1/tongsuo-8.4.0
  say "building Tongsuo 8.4.0 (enable-ntls) into $prefix"
  (cd "$src" &&
    ./config --prefix="$prefix" --libdir=lib --openssldir="$prefix/ssl" \
      enable-ntls no-tests shared "-Wl,-rpath,$prefix/lib" >"$1/tongsuo-config.log" &&
    nice make -j"$jobs" >"$1/tongsuo-build.log" 2>&1 &&
    make install_sw >"$1/tongsuo-install.log" 2>&1) ||
    die "building Tongsuo failed; see the logs in $1"
}

build_curl() {
  local src=$1/curl-7.88.1
  say "building libcurl 7.88.1 on Tongsuo into $prefix"
  (nice cmake -S "$src" -B "$1/curl-build" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib \
      -DCMAKE_INSTALL_RPATH="$prefix/lib" -DOPENSSL_ROOT_DIR="$prefix" \
      -DCMAKE_PREFIX_PATH="$prefix" -DCURL_USE_OPENSSL=ON -DHTTP_ONLY=ON \
      -DCURL_USE_LIBSSH2=OFF -DCURL_USE_LIBSSH=OFF -DCURL_DISABLE_LDAP=ON \
      -DCURL_DISABLE_LDAPS=ON -DUSE_NGHTTP2=OFF -DUSE_LIBIDN2=OFF \
      -DCURL_USE_LIBPSL=OFF -DCURL_BROTLI=OFF -DCURL_ZSTD=OFF \
      -DCURL_USE_GSSAPI=OFF -DENABLE_MANUAL=OFF -DBUILD_TESTING=OFF \
      >"$1/curl-config.log" 2>&1 &&
    nice cmake --build "$1/curl-build" -j"$jobs" >"$1/curl-build.log" 2>&1 &&
    cmake --install "$1/curl-build" >"$1/curl-install.log" 2>&1) ||
    die "building libcurl failed; see the logs in $1"
}

build_deps() {
  local work=$cache/$key.work
  rm -rf "$prefix" "$work"
  mkdir -p "$work"
  tar -xzf "$vendor/$tongsuo_tar" -C "$work"
  tar -xzf "$vendor/$curl_tar" -C "$work"
  build_tongsuo "$work"
  build_curl "$work"
  rm -rf "$work"
  touch "$prefix/.complete"
}

exec 9>"$cache/$key.lock"
flock 9
if [ -f "$prefix/.complete" ]; then
  say "reusing Tongsuo and libcurl from $prefix"
else
  start=$SECONDS
  build_deps
  say "Tongsuo and libcurl built in $((SECONDS - start)) s"
fi
flock -u 9

# --- gmrenew on them -------------------------------------------------------
# The system `openssl` command stays on PATH: the tests use it as an
# independent implementation. Tongsuo's own command is GMRENEW_TONGSUO_BIN.
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
cmake -S . -B "$build/gmrenew" -DGMRENEW_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
  -DGMRENEW_OPENSSL_ROOT="$prefix" >/dev/null
cmake --build "$build/gmrenew" -j"$jobs"

bin=$build/gmrenew/src/cli/gmrenew
# ldd lists every library loaded; any from outside the prefix that is TLS or
# HTTP would mean two libcrypto in one process.
check_ldd() {
  local file=$1 libs bad
  libs=$(ldd "$file") || die "ldd $file failed"
  bad=$(printf '%s\n' "$libs" | grep -E 'lib(ssl|crypto|curl|ssh2)\.so' |
    grep -vF "=> $prefix/lib/" || true)
  [ -z "$bad" ] || die "$file loads a system TLS library:
$bad"
  printf '%s\n' "$libs" | grep -qF "libcrypto.so.3 => $prefix/lib/" ||
    die "$file does not load Tongsuo's libcrypto"
  # libcurl is loaded when the service is first used (--version names its
  # version): what that run initialises must be the prefix's too
  libs=$(LD_DEBUG=libs "$file" --version 2>&1 >/dev/null |
    sed -n 's/.*calling init: //p')
  bad=$(printf '%s\n' "$libs" | grep -E 'lib(ssl|crypto|curl|ssh2)\.so' |
    grep -vF "$prefix/lib/" || true)
  [ -z "$bad" ] || die "$file loads a system TLS library with libcurl:
$bad"
  printf '%s\n' "$libs" | grep -qF "$prefix/lib/libcurl.so.4" ||
    die "$file does not load the Tongsuo libcurl"
}
check_ldd "$bin"
say "ldd: gmrenew loads only Tongsuo's libssl/libcrypto and its libcurl"
version=$("$bin" --version)
printf '%s\n' "$version" | grep -q "^crypto: Tongsuo 8\.4\.0 " ||
  die "gmrenew --version does not name Tongsuo 8.4.0: $version"
printf '%s\n' "$version" | grep -q "TLCP (NTLS 1.1)" ||
  die "gmrenew on Tongsuo does not offer TLCP: $version"
ctest --test-dir "$build/gmrenew" -N -R '^tlcp_service$' | grep -q "Total Tests: 1" ||
  die "the TLCP tests are not part of the Tongsuo build"

# An installed gmrenew must find Tongsuo through its RUNPATH, not by luck.
# Staged under DESTDIR: files with absolute destinations (the udev rule)
# must not land on this machine, where check-env's tests would see them.
rm -rf "$build/install"
DESTDIR="$build/install" cmake --install "$build/gmrenew" --prefix /usr/local >/dev/null
installed=$build/install/usr/local/bin/gmrenew
readelf -d "$installed" | grep -F "(RUNPATH)" | grep -qF "[$prefix/lib]" ||
  die "the installed gmrenew has no RUNPATH to $prefix/lib"
check_ldd "$installed"
say "installed gmrenew: RUNPATH $prefix/lib, no system TLS library"

cd "$build/gmrenew"
rm -f interruption-matrix*.txt
status=0
export GMRENEW_TONGSUO_BIN=$prefix/bin/tongsuo GMRENEW_TONGSUO_PREFIX=$prefix
if [ $short = 1 ]; then
  say "short run (--short): the unit, soft token, TLCP, service client and verify tests, and end to end: $short_e2e"
  say "scripts/test-tongsuo.sh without --short runs the whole suite on Tongsuo"
  ctest --output-on-failure --no-tests=error -j2 --timeout 900 \
    -R "$short_tests" "$@" || status=$?
  PYTEST_ADDOPTS="-k '$short_e2e'" \
    ctest --output-on-failure --no-tests=error -j2 --timeout 900 \
    -R "$short_e2e_tests" "$@" || status=$?
  exit $status
fi
# Every test but the Debian package: a .deb is built from the build on
# Debian's own libraries (the main suite tests it); this build carries a
# RUNPATH to a private prefix, which Debian's policy (lintian's
# custom-library-search-path) rightly refuses in a package.
# Nor the double-certificate interruption matrix (201 renewals): its steps
# are the SKF matrix's, which runs here, and the double-certificate flow
# runs here end to end (test_double_cert); the main suite runs it whole.
say "not run on Tongsuo: packaging_deb (the .deb is made from the build on Debian's libraries)"
say "not run on Tongsuo: integration_test_interruption_double (the main suite runs it; the SKF matrix and test_double_cert run here)"
ctest --output-on-failure --no-tests=error -j2 --timeout 900 \
  -E '^(packaging_deb|integration_test_interruption_double)$' "$@" ||
  status=$?
cat interruption-matrix*.txt 2>/dev/null || true
exit $status
