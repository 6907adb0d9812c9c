#!/bin/sh
# Makes the zh_CN.UTF-8 locale when the machine lacks it: without it
# setlocale falls back to C and gettext to English, and every Chinese test
# would test English. Run once, before the tests that need it (a ctest
# fixture), as root.
set -eu
if locale -a 2>/dev/null | grep -qix 'zh_CN.utf8'; then
  echo "zh_CN.UTF-8 is installed"
  exit 0
fi
command -v localedef >/dev/null || { echo "localedef is missing (package locales)" >&2; exit 1; }
localedef -i zh_CN -f UTF-8 zh_CN.UTF-8 || true
locale -a | grep -qix 'zh_CN.utf8' || { echo "localedef did not make zh_CN.UTF-8" >&2; exit 1; }
echo "made zh_CN.UTF-8"
