#!/usr/bin/env bash
# Builds the Debian package of gmrenew and checks it with lintian.
#   scripts/package.sh [BUILD_DIR]     (default: build-deb)
# Prints the path of the .deb on the last line. A release build installed
# under /usr, with Debian's hardening flags (dpkg-buildflags); the
# dependencies come from dpkg-shlibdeps (CPACK_DEBIAN_PACKAGE_SHLIBDEPS).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-deb}
"$root/scripts/install-deps.sh" package

export CFLAGS="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
export LDFLAGS="$(dpkg-buildflags --get LDFLAGS)"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_INSTALL_PREFIX=/usr -DGMRENEW_TESTS=OFF >/dev/null
cmake --build "$build" -j2 >/dev/null
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls "$build"/gmrenew_*.deb)
# Errors and warnings fail; packaging/debian/lintian-overrides says why
# each overridden tag is fine.
lintian --fail-on error,warning --suppress-tags-from-file /dev/null \
  "$deb" >&2
echo "$deb"
