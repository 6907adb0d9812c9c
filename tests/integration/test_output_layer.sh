#!/bin/bash
# Everything src/cli prints goes through output.c, which makes every outside
# string safe for a terminal (docs/cli.md, "Text from outside"). A direct
# stdio call elsewhere would print token, certificate or service text raw.
# manpage.c writes the manual from gmrenew's own tables only; metrics.c and
# hooks.c write files (the Prometheus text format with its own escaping, PEM).
set -u
src=${GMRENEW_SOURCE_DIR:?run through ctest}/src/cli
[ -d "$src" ] || { echo "no $src"; exit 1; }
bad=$(grep -nE '(^|[^A-Za-z0-9_])(printf|fprintf|vprintf|vfprintf|puts|putchar|fwrite)\(|(^|[^A-Za-z0-9_])fputs\([^"]' \
	$(ls "$src"/*.c | grep -v -e '/output\.c$' -e '/manpage\.c$' -e '/metrics\.c$' -e '/hooks\.c$'))
if [ -n "$bad" ]; then
	echo "direct output in src/cli (use gm_printf, gm_fprintf, gm_fputs):"
	echo "$bad"
	exit 1
fi
n=$(grep -c 'gm_printf\|gm_fprintf\|gm_fputs' "$src"/*.c | awk -F: '{s+=$2} END {print s}')
[ "$n" -gt 50 ] || { echo "only $n calls of the output layer found"; exit 1; }
echo "ok: $n calls through the output layer, none around it"
