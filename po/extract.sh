#!/bin/sh
# extract.sh OUT.pot: the texts for people in src/ and include/, with the
# keywords of XGETTEXT_OPTIONS. gm_fail() has two texts (the fix, argument 3, and the
# message, argument 4), which xgettext cannot take from one call in one
# pass: a second pass takes the fixes, msgcat joins the two. The same for
# the table of PKCS#11 return values (src/token/pkcs11/ckr.c: E(code, meaning,
# fix)).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
out=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C.UTF-8
cd "$src"
files=$(find src include -name '*.c' -o -name '*.h' | LC_ALL=C sort)
# shellcheck disable=SC2046
xgettext $(cat "$here/XGETTEXT_OPTIONS") --add-comments=TRANSLATORS: \
  --package-name=gmrenew -o "$tmp/texts.pot" $files 2>"$tmp/err1" ||
  { cat "$tmp/err1" >&2; exit 1; }
xgettext --from-code=UTF-8 --language=C --keyword --keyword=gm_fail:3 \
  --keyword=gm_failv:3 --keyword=E:3 --package-name=gmrenew -o "$tmp/fixes.pot" $files \
  2>"$tmp/err2" || { cat "$tmp/err2" >&2; exit 1; }
if [ -f "$tmp/fixes.pot" ]; then
  msgcat --use-first -o "$out" "$tmp/texts.pot" "$tmp/fixes.pot"
else
  cp "$tmp/texts.pot" "$out"
fi
