#!/usr/bin/env bash
# contrib/prometheus/gmrenew.rules.yml: promtool checks the rules and runs
# their unit tests (gmrenew.rules.test.yml). A missing promtool fails.
set -euo pipefail
command -v promtool >/dev/null || {
  echo "promtool is missing (scripts/install-deps.sh test)" >&2; exit 1; }
cd "$GMRENEW_SOURCE_DIR/contrib/prometheus"
promtool check rules gmrenew.rules.yml
promtool test rules gmrenew.rules.test.yml
# the rules name only series that gmrenew writes (docs/fleet.md lists them)
for s in $(grep -o 'gmrenew_[a-z_]*' gmrenew.rules.yml | sort -u); do
  grep -q "\"$s\"\|$s\b" "$GMRENEW_SOURCE_DIR/src/cli/metrics.c" || {
    echo "rules use '$s', which src/cli/metrics.c does not write" >&2; exit 1; }
done
echo "rules: ok"
