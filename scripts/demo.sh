#!/usr/bin/env bash
# The whole job on a fresh machine, with no real Ekey and no real CA:
# builds gmrenew, starts the reference renewal service (tools/refservice),
# sets up a soft ePass3000GM holding an SM2 certificate issued by the
# service's CA that expires in 30 days, then runs check-env, list-certs,
# renew and verify, and shows the certificates before and after.
#
# Usage: scripts/demo.sh            (as root on Debian 12: installs packages)
# Everything it makes lives in a temporary directory, removed at the end
# (GMRENEW_DEMO_KEEP=1 keeps it).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

scripts/install-deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target gmrenew gmsofttoken gmsofttoken-tool >/dev/null

work=$(mktemp -d /tmp/gmrenew-demo.XXXXXX)
service_pid=
cleanup() {
  [ -n "$service_pid" ] && kill "$service_pid" 2>/dev/null && wait "$service_pid" 2>/dev/null
  if [ "${GMRENEW_DEMO_KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '\n$ %s\n' "$*"; "$@"; }

gmrenew=$top/build/src/cli/gmrenew
tool=$top/build/tests/softtoken/gmsofttoken-tool
module=$top/build/tests/softtoken/libgmsofttoken.so
export GMSOFT_DIR=$work/token

say "Starting the reference renewal service (SM2 CA, TLS on 127.0.0.1)"
/usr/bin/python3 tools/refservice/refservice.py init --dir "$work/ca" >/dev/null
/usr/bin/python3 tools/refservice/refservice.py serve --dir "$work/ca" --port 0 \
  >"$work/service.out" 2>"$work/service.err" &
service_pid=$!
for _ in $(seq 100); do [ -s "$work/ca/port" ] && break; sleep 0.1; done
port=$(cat "$work/ca/port")
echo "listening on https://127.0.0.1:$port"

say "Setting up a soft ePass3000GM with an SM2 certificate that expires in 30 days"
umask 077
printf '12345678\n' >"$work/pin"
mkdir -p "$GMSOFT_DIR"
GMSOFT_PIN=12345678 "$tool" init --slot 0 --label "JSB0000 Ekey" --serial 2000000012345678 >/dev/null
GMSOFT_PIN=12345678 "$tool" gen-key --slot 0 --id 01 --label JSB0000 --out-pub "$work/pub.pem" >/dev/null
/usr/bin/python3 tools/refservice/refservice.py enroll --dir "$work/ca" \
  --pubkey "$work/pub.pem" \
  --subject "CN=JSB0000@IST@30,OU=深证通CCNET证书测试,OU=CCNET,O=SSCCCA,C=CN" \
  --gateway JSB0000 --organization 深证通CCNET证书测试 --system CCNET \
  --days-left 30 --out "$work/cert.pem" >/dev/null
"$tool" import-cert --slot 0 --id 01 --label JSB0000 --cert "$work/cert.pem" >/dev/null

# The CA's bundle for issued certificates: its SM2 root and issuing CA.
cat "$work/ca/chain-ca.pem" "$work/ca/issuing-ca.pem" >"$work/sm2-ca-bundle.pem"

cat >"$work/config.ini" <<INI
[token]
module = $module

[service]
url = https://127.0.0.1:$port
ca_bundle = $work/ca/tls-ca.pem
chain_bundle = $work/sm2-ca-bundle.pem

[renewal]
state_dir = $work/state
INI
export GMRENEW_CONFIG=$work/config.ini

if "$gmrenew" --help | grep -q check-env; then
  say "Checking the environment"
  run "$gmrenew" check-env
fi

say "Before"
run "$gmrenew" list-certs --online

say "Renewing (the PIN comes from a file here; at a terminal gmrenew asks for it)"
run "$gmrenew" renew --yes --pin-file "$work/pin"

say "Verifying the new certificate on the token"
run "$gmrenew" verify

say "After"
run "$gmrenew" list-certs
