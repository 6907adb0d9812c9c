#!/usr/bin/env bash
# The Debian package as a user gets it: scripts/package.sh builds it and
# runs lintian (errors and warnings fail); dpkg installs it into a throwaway
# root whose package database is a copy of this machine's (so dpkg checks
# the Depends that dpkg-shlibdeps computed against what is installed); then
# the installed files are used: gmrenew --version, check-env --json, the
# manual through man in English and Chinese, help under zh_CN, the bash
# completion, the udev rule. Finally every installed path the binary
# mentions must exist, and no source-tree path may be mentioned.
set -euo pipefail
src=${GMRENEW_SOURCE_DIR:?run through ctest}
work=$(mktemp -d /tmp/gmrenew-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

deb=$("$src/scripts/package.sh" "$work/build" | tail -n 1)
[ -f "$deb" ] || fail "no package was built"
deps=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $deps"
for lib in libc6 libssl3 libcurl4 libcjson1 libusb-1.0-0 libinih1; do
  grep -q "$lib" <<<"$deps" || fail "Depends lacks $lib: $deps"
done

root=$work/root
admin=$root/var/lib/dpkg
mkdir -p "$admin/info" "$admin/updates"
cp /var/lib/dpkg/status "$admin/status"
: >"$admin/available"
dpkg --instdir="$root" --admindir="$admin" -i "$deb" >/dev/null ||
  fail "dpkg -i failed"
dpkg --admindir="$admin" -s gmrenew | grep -q '^Status: install ok installed' ||
  fail "dpkg does not list gmrenew as installed"

bin=$root/usr/bin/gmrenew
run() { env -u GMRENEW_CONFIG HOME="$work/home" XDG_CONFIG_HOME= \
  GMRENEW_LOCALEDIR="$root/usr/share/locale" "$bin" "$@"; }
mkdir -p "$work/home"

# --version
run --version | grep -q '^gmrenew [0-9]' || fail "--version"

# check-env --json: every check reported, a fix for each failure, none
# naming a path of the source tree
set +e
run check-env --json >"$work/check.json"
rc=$?
set -e
[ "$rc" -eq 0 ] || [ "$rc" -eq 5 ] || fail "check-env exit $rc"
/usr/bin/python3 - "$work/check.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
ids = [c["id"] for c in doc["checks"]]
assert ids == ["config", "driver", "usb", "single_token", "pin",
               "matching_cert", "service", "clock"], ids
for c in doc["checks"]:
    if c["status"] == "fail":
        assert c["fix"], c
    for field in ("summary", "detail", "fix"):
        text = c[field] or ""
        assert "packaging/" not in text and "docs/" not in text, c
PY

# the manual, found by man in the installed tree, without warnings
for lang in C.UTF-8 zh_CN.UTF-8; do
  out=$(LANG=$lang LC_ALL=$lang MANPATH="$root/usr/share/man" MANWIDTH=80 \
        man --warnings=all -P cat gmrenew 2>"$work/man.err") ||
    fail "man gmrenew ($lang)"
  [ ! -s "$work/man.err" ] || fail "man warns ($lang): $(cat "$work/man.err")"
  case $lang in
  zh_CN*) grep -q '更新码' <<<"$out" && grep -q '名称' <<<"$out" ||
            fail "the Chinese manual is not Chinese" ;;
  *) grep -q '^EXIT STATUS' <<<"$out" || fail "the English manual" ;;
  esac
  grep -q 'renew-with-code' <<<"$out" || fail "manual lacks a command ($lang)"
done

# help under zh_CN comes from the installed catalogue
LANG=zh_CN.UTF-8 LC_ALL=zh_CN.UTF-8 run help renew | grep -q '选项' ||
  fail "help renew is not Chinese with the installed catalogue"

# bash completion from the installed file
words=$(bash -c "source '$root/usr/share/bash-completion/completions/gmrenew'
  COMP_WORDS=(gmrenew renew --p); COMP_CWORD=2; _gmrenew
  echo \"\${COMPREPLY[*]}\"")
grep -q -- '--pin-file' <<<"$words" || fail "bash completion: $words"
words=$(bash -c "source '$root/usr/share/bash-completion/completions/gmrenew'
  COMP_WORDS=(gmrenew ''); COMP_CWORD=1; _gmrenew; echo \"\${COMPREPLY[*]}\"")
for c in check-env list-certs renew renew-with-code verify config help; do
  grep -qw -- "$c" <<<"$words" || fail "bash completion lacks $c: $words"
done
zsh -n "$root/usr/share/zsh/vendor-completions/_gmrenew" || fail "zsh syntax"

# the udev rule: the ePass3000GM ids, and the same ids as the AppStream
# metadata
rule=$root/lib/udev/rules.d/70-gmrenew-epass3000gm.rules
grep -q 'ATTR{idVendor}=="096e", ATTR{idProduct}=="0309"' "$rule" ||
  fail "udev rule lacks 096e:0309"
ids=$(sed -n 's/.*idVendor}=="\(....\)", ATTR{idProduct}=="\(....\)".*/\1:\2/p' "$rule" | sort)
meta=$(sed -n 's/.*<modalias>usb:v\(....\)p\(....\)d\*<\/modalias>.*/\1:\2/p' \
  "$root"/usr/share/metainfo/*.xml | tr 'A-F' 'a-f' | sort)
[ "$ids" = "$meta" ] || fail "udev ids '$ids' differ from AppStream '$meta'"
udevadm verify "$rule" 2>/dev/null || true   # not in Debian 12's udevadm

# paths: the ones the binary names exist once installed; no source paths
strings "$bin" | grep -oE '/(usr/share/doc/gmrenew|lib/udev/rules\.d)/[A-Za-z0-9._/-]*[A-Za-z0-9]' |
  sort -u >"$work/paths"
[ -s "$work/paths" ] || fail "the binary names no installed path"
while read -r p; do
  [ -e "$root$p" ] || fail "the binary names $p, which the package lacks"
done <"$work/paths"
if strings "$bin" | grep -E '(^|[ (])(docs|packaging)/[a-z-]+(\.md|/)'; then
  fail "the binary names source-tree paths (above)"
fi
[ -f "$root/usr/share/doc/gmrenew/examples/gmrenew.conf" ] ||
  fail "no example configuration"
[ ! -e "$root/etc/gmrenew/gmrenew.conf" ] ||
  fail "the package must not ship a live configuration"
echo "package $(basename "$deb") installs and runs; $(wc -l <"$work/paths") paths checked"
