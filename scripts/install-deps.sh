#!/usr/bin/env bash
# Installs the Debian 12 packages gmrenew needs, when missing.
#   scripts/install-deps.sh build   - to build gmrenew and run the demo
#   scripts/install-deps.sh test    - also everything the test suite uses
#   scripts/install-deps.sh package - also what building the .deb needs
set -euo pipefail

build_pkgs=(gcc make cmake pkg-config openssl ca-certificates libssl-dev
  libcurl4-openssl-dev libcjson-dev libusb-1.0-0-dev libp11-kit-dev
  libinih-dev python3 gettext locales)
package_pkgs=(dpkg-dev lintian file fakeroot man-db)
test_pkgs=(libcmocka-dev softhsm2 opensc gnutls-bin umockdev libumockdev-dev
  gir1.2-umockdev-1.0 python3-gi
  python3-pytest python3-cryptography util-linux procps man-db groff-base
  strace perl binutils prometheus prometheus-node-exporter systemd
  python3-jsonschema ansible-core bash-completion zsh valgrind
  "${package_pkgs[@]}")

want=("${build_pkgs[@]}")
if [ "${1:-build}" = test ]; then
  want+=("${test_pkgs[@]}")
elif [ "${1:-build}" = package ]; then
  want+=("${package_pkgs[@]}")
fi

# "fuzz": clang with libFuzzer and llvm's coverage tools for scripts/fuzz.sh;
# the test list has what its smoke test (ctest fuzz_smoke) needs
fuzz_pkgs=(clang libclang-rt-14-dev llvm-14)
case ${1:-build} in
  test) want+=(clang libclang-rt-14-dev) ;;
  fuzz) want+=("${fuzz_pkgs[@]}") ;;
esac

# the service tests' independent SM2/SM4 check (tests/service/jscheck) runs
# on node with the sm-crypto package from the npm registry, pinned there
if [ "${1:-build}" = test ] && ! command -v npm >/dev/null; then
  want+=(nodejs npm)
fi
install_jscheck() {
  [ "${1:-build}" = test ] || return 0
  npm ci --prefix "$(dirname "$0")/../tests/service/jscheck" --no-audit --no-fund >/dev/null
}

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  install_jscheck "${1:-build}"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "gmrenew: these Debian packages are missing: ${missing[*]}" >&2
  echo "gmrenew: run this script as root, or install them with apt-get" >&2
  exit 2
fi
echo "gmrenew: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
install_jscheck "${1:-build}"
