#!/bin/bash
# test_token_softhsm.sh - the token layer against SoftHSM2, a real and
# independent PKCS#11 module (profile pkcs11-ec), through token_driver:
# tokens and URIs, PIN errors, P-256 keys and signatures checked by openssl,
# certificates (an SM2 one among them) written, read back byte for byte and
# seen by pkcs11-tool, labels, ids, deletion, module loading errors, and the
# number of C_GetAttributeValue calls per certificate, counted by
# pkcs11-spy.
set -u
. "$(dirname "$0")/token_lib.sh"

need softhsm2-util pkcs11-tool openssl
SOFTHSM_MODULE=${SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
SPY=${PKCS11_SPY:-/usr/lib/x86_64-linux-gnu/pkcs11/pkcs11-spy.so}
need_file "$SOFTHSM_MODULE" "softhsm2"
need_file "$SPY" "opensc-pkcs11 (pkcs11-spy.so)"

mkdir -p "$WORK/tokens"
cat > "$WORK/softhsm2.conf" <<CONF
directories.tokendir = $WORK/tokens
objectstore.backend = file
log.level = ERROR
CONF
export SOFTHSM2_CONF=$WORK/softhsm2.conf
PIN=123456
softhsm2-util --init-token --free --label gmrenew-test --pin $PIN \
	--so-pin 87654321 >"$WORK/init.log" 2>&1 || fatal "softhsm2-util --init-token failed: $(cat "$WORK/init.log")"
M=$SOFTHSM_MODULE
drv() { run_driver --module "$M" "$@"; }
p11tool_list() {
	pkcs11-tool --module "$M" --token-label gmrenew-test --login \
		--pin $PIN -O 2>/dev/null
}

step "tokens: SoftHSM's spare blank slot is listed, the initialised token selected"
drv tokens
expect_out "token slot=.* label=gmrenew-test model=SoftHSM v2"
SERIAL=$(sed -n 's/^token slot=.* serial=\([0-9a-f]*\) label=gmrenew-test.*/\1/p' "$OUT")
[ -n "$SERIAL" ] || fail "no serial in: $(cat "$OUT")"
expect_out "uri=pkcs11:.*serial=$SERIAL;token=gmrenew-test"
drv select
expect_out "selected serial=$SERIAL label=gmrenew-test"
drv --token "pkcs11:serial=$SERIAL" select
expect_out "selected serial=$SERIAL"
drv --token "pkcs11:token=gmrenew-test;manufacturer=SoftHSM%20project" select
expect_out "selected serial=$SERIAL"
drv_fails 5 "no inserted token matches 'pkcs11:serial=0000'" \
	--module "$M" --token "pkcs11:serial=0000" select
drv_fails 2 "bad token URI 'http://x'" --module "$M" --token "http://x" select
drv detect
expect_out "profile=pkcs11-ec"
expect_out "keygen=0x1040"

step "PIN: wrong PIN is GM_EXIT_PIN with its own message, right PIN logs in"
drv_fails 6 "the PIN is incorrect" --module "$M" login 000000
GM_PIN= drv login 000000 $PIN
expect_out "login ERROR code=6: the PIN is incorrect"
expect_out "login ok logged_in=1"
drv pinstate
expect_out "pinstate .*locked=0"

export GM_PIN=$PIN
step "P-256 key pair on the token; signatures verified by openssl"
drv keygen 0a01 "renewal key" "$WORK/pub.pem"
expect_out "keygen .*label=renewal key id=0a01"
openssl pkey -pubin -in "$WORK/pub.pem" -noout -text 2>/dev/null | grep -q "NIST CURVE: P-256" ||
	fail "generated key is not P-256: $(openssl pkey -pubin -in "$WORK/pub.pem" -noout -text)"
for i in 1 2 3 4 5; do
	head -c $((i * 37)) /dev/urandom >"$WORK/msg$i"
	dg=$(openssl dgst -sha256 -r "$WORK/msg$i" | cut -d' ' -f1)
	drv sign 0a01 "$dg" "$WORK/sig$i.der"
	openssl dgst -sha256 -verify "$WORK/pub.pem" -signature "$WORK/sig$i.der" \
		"$WORK/msg$i" >/dev/null || fail "signature $i does not verify"
	openssl asn1parse -inform DER -in "$WORK/sig$i.der" >/dev/null ||
		fail "signature $i is not DER"
done
# a signature over another message must not verify (the check is real)
openssl dgst -sha256 -verify "$WORK/pub.pem" -signature "$WORK/sig1.der" \
	"$WORK/msg2" >/dev/null 2>&1 && fail "openssl accepted a wrong signature"
drv pubkey 0a01 "$WORK/pub2.pem"
expect_out "pubkey parts=3"
cmp -s "$WORK/pub.pem" "$WORK/pub2.pem" || fail "public key read from the token differs"
drv keys
expect_out "key id=0a01 label=renewal key pub=1 priv=1 pubkey=1"

step "certificates: SM2 and P-256, written and read back byte for byte"
# SM2 self-signed certificate made by openssl alone
openssl genpkey -algorithm SM2 -out "$WORK/sm2.key" 2>/dev/null || fatal "openssl cannot make SM2 keys"
openssl req -new -x509 -key "$WORK/sm2.key" -sm3 -sigopt distid:1234567812345678 \
	-subj "/C=CN/O=Test CA/OU=Org/OU=System/CN=gw01@example" -days 30 \
	-outform DER -out "$WORK/sm2.der" 2>"$WORK/req.err" || fatal "openssl req (SM2): $(cat "$WORK/req.err")"
# P-256 certificate for the token's key (signed by another key)
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/ca.key" 2>/dev/null
openssl req -new -key "$WORK/ca.key" -subj "/CN=token key" -out "$WORK/tk.csr" 2>/dev/null
openssl x509 -req -in "$WORK/tk.csr" -signkey "$WORK/ca.key" -force_pubkey "$WORK/pub.pem" \
	-days 30 -outform DER -out "$WORK/tk.der" 2>"$WORK/x509.err" || fatal "openssl x509: $(cat "$WORK/x509.err")"
drv putcert c0 "sm2 cert" "$WORK/sm2.der"
expect_out "created ref=1"
drv putcert 0a01 "token cert" "$WORK/tk.der"
drv_fails 1 "not one DER X.509 certificate" --module "$M" putcert c1 bad "$WORK/msg1"
mkdir -p "$WORK/dump"
drv certs "$WORK/dump"
expect_out "count=2"
expect_out "cert id=c0 label=sm2 cert len=$(stat -c %s "$WORK/sm2.der") value=1 pub=0 priv=0"
expect_out "cert id=0a01 label=token cert len=$(stat -c %s "$WORK/tk.der") value=1 pub=1 priv=1"
cmp "$WORK/sm2.der" "$WORK/dump/c0.der" || fail "SM2 certificate changed on the token"
cmp "$WORK/tk.der" "$WORK/dump/0a01.der" || fail "P-256 certificate changed on the token"
drv readcert c0 "$WORK/back.der"
cmp "$WORK/sm2.der" "$WORK/back.der" || fail "gm_token_read_value gave other bytes"

step "pkcs11-tool sees what the layer wrote"
p11tool_list >"$WORK/p11.txt" || fail "pkcs11-tool -O failed"
grep -q "label:      sm2 cert" "$WORK/p11.txt" || fail "pkcs11-tool does not list 'sm2 cert': $(cat "$WORK/p11.txt")"
grep -q "label:      token cert" "$WORK/p11.txt" || fail "pkcs11-tool does not list 'token cert'"
grep -q "subject:    DN: C=CN, O=Test CA, OU=Org, OU=System, CN=gw01@example" "$WORK/p11.txt" ||
	fail "CKA_SUBJECT not as pkcs11-tool expects: $(cat "$WORK/p11.txt")"
pkcs11-tool --module "$M" --token-label gmrenew-test -r --type cert --id c0 \
	-o "$WORK/p11back.der" >/dev/null 2>&1 || fail "pkcs11-tool cannot read the SM2 certificate"
cmp "$WORK/sm2.der" "$WORK/p11back.der" || fail "pkcs11-tool reads other bytes"

step "label changes"
drv setlabel-cert c0 "renamed sm2"
drv certs
expect_out "cert id=c0 label=renamed sm2 len="
p11tool_list | grep -q "label:      renamed sm2" || fail "pkcs11-tool does not see the new label"

step "attribute calls per certificate (pkcs11-spy)"
# count_calls VAR: C_GetAttributeValue calls of one 'certs' run into VAR.
# pkcs11-spy leaks a little when unloaded: not ours, so no leak check here.
count_calls() {
	rm -f "$WORK/spy.log"
	PKCS11SPY=$M PKCS11SPY_OUTPUT=$WORK/spy.log \
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		run_driver --module "$SPY" certs >/dev/null
	printf -v "$1" %d "$(grep -c "C_GetAttributeValue" "$WORK/spy.log")"
}
for i in 1 2 3 4; do
	openssl req -new -x509 -key "$WORK/ca.key" -subj "/CN=extra $i" -days 1 \
		-outform DER -out "$WORK/extra$i.der" 2>/dev/null
	drv putcert e$i "extra $i" "$WORK/extra$i.der"
done
count_calls c6
expect_out "count=6"
for i in 1 2 3; do drv destroy-cert e$i; done
count_calls c3
expect_out "count=3"
per=$(( (c6 - c3) / 3 ))
echo "measured: C_GetAttributeValue calls: 3 certificates: $c3, 6 certificates: $c6, per certificate: $per"
[ $(( (c6 - c3) % 3 )) -eq 0 ] && [ "$per" -eq 1 ] ||
	fail "listing costs $per C_GetAttributeValue calls per certificate (want 1)"
# the rest: one call per key object (1 public + 1 private)
[ $((c3 - 3)) -eq 2 ] || fail "unexpected fixed calls: $((c3 - 3))"

step "deletion"
drv destroy-cert c0
drv certs
expect_out "count=2"
p11tool_list | grep -q "renamed sm2" && fail "pkcs11-tool still lists the deleted certificate"
drv destroy-key 0a01
drv keys
expect_out "count=0"

step "module errors"
drv_fails 5 "is not a PKCS#11 module (no C_GetFunctionList)" \
	--module /lib/x86_64-linux-gnu/libz.so.1 tokens
expect_out "FIX: install the FEITIAN ePass3000GM driver or pass --module PATH"
drv_fails 5 "PKCS#11 module '$WORK/nope.so' does not exist" --module "$WORK/nope.so" tokens
GMRENEW_PKCS11_MODULE=$M run_driver --profile pkcs11-ec locate
expect_out "module=$M"
GMRENEW_PKCS11_MODULE= drv_fails 5 "names no driver" --profile pkcs11-ec locate
finish
