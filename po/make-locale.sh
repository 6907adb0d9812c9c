#!/bin/sh
# make-locale.sh LOCALEDEF DIR: the zh_CN.UTF-8 locale compiled into DIR
# (used through LOCPATH), for writing the Chinese manual without root.
# localedef exits 1 for mere warnings; the compiled files decide.
"$1" -c -i zh_CN -f UTF-8 "$2" >/dev/null 2>&1
test -f "$2/LC_CTYPE" || { echo "localedef could not make $2" >&2; exit 1; }
