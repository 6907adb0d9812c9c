#!/bin/bash
# test_token_softtoken.sh - the token layer against the soft ePass3000GM
# (tests/softtoken/, FEITIAN's vendor mechanisms), through token_driver:
# SM2 key generation with mechanism 0x80000201, signing e = SM3(Z || M)
# checked by openssl, certificates paired with keys, the PIN counter down to
# lock-out, one/two/no tokens and URI selection, faults (device error,
# removal, a slot whose token info fails) and module loading errors.
set -u
. "$(dirname "$0")/token_lib.sh"

need openssl
[ -n "${GMSOFT_MODULE:-}" ] || fatal "GMSOFT_MODULE is not set"
[ -n "${GMSOFT_TOOL:-}" ] || fatal "GMSOFT_TOOL is not set"
need_file "$GMSOFT_MODULE" "the soft token (tests/softtoken)"
need_file "$GMSOFT_TOOL" "the soft token's tool (tests/softtoken)"

export GMSOFT_DIR=$WORK/state
mkdir -p "$GMSOFT_DIR"
unset GMSOFT_FAIL GMSOFT_REMOVE_AT GMSOFT_REMOVE_SLOT GMSOFT_KILL_AT GMSOFT_TRACE
PIN=12345678
SERIAL_A=2A0F96E8B1C40012
SERIAL_B=2A0F96E8B1C40099
M=$GMSOFT_MODULE
drv() { run_driver --module "$M" "$@"; }
tool() {
	GMSOFT_PIN=$PIN "$GMSOFT_TOOL" "$@" >"$WORK/tool.txt" 2>&1 ||
		fatal "gmsofttoken-tool $* failed: $(cat "$WORK/tool.txt")"
}
# the index of a call in a trace of the module's calls
trace_index() {	# FUNCTION TRACEFILE
	awk -v fn="$1" '$2 == fn { print $1; exit }' "$2"
}

step "no token"
drv_fails 5 "no token is inserted" --module "$M" select
expect_out "FIX: insert the Ekey"
tool empty --slot 0
drv_fails 5 "no token is inserted" --module "$M" select

step "one token: detected as an ePass3000GM"
tool init --slot 0 --label ekey-a --serial $SERIAL_A
drv select
expect_out "selected serial=$SERIAL_A label=ekey-a"
expect_out "uri=pkcs11:.*manufacturer=EnterSafe%20USB%20Key;serial=$SERIAL_A;token=ekey-a"
drv detect
expect_out "profile=epass3000gm"
expect_out "keygen=0x80000201"
expect_out "sign=0x80000202"
drv info
expect_out "cryptoki=2\."

export GM_PIN=$PIN
step "SM2 key generation with FEITIAN's mechanism; SM2 signatures verified by openssl"
drv keygen 01 "renewal 2026" "$WORK/pub.pem"
expect_out "keygen .*label=renewal 2026 id=01"
openssl pkey -pubin -in "$WORK/pub.pem" -noout -text >"$WORK/pub.txt" 2>&1 ||
	fail "openssl cannot read the generated key"
grep -q "ASN1 OID: SM2" "$WORK/pub.txt" || fail "the key is not on the SM2 curve: $(cat "$WORK/pub.txt")"
for i in 1 2 3; do
	head -c $((i * 50)) /dev/urandom >"$WORK/msg$i"
	e=$("$DRIVER" sm2-e "$WORK/pub.pem" "$WORK/msg$i") || fail "sm2-e failed"
	drv sign 01 "$e" "$WORK/sig$i.der"
	openssl pkeyutl -verify -pubin -inkey "$WORK/pub.pem" -rawin -in "$WORK/msg$i" \
		-sigfile "$WORK/sig$i.der" -digest sm3 \
		-pkeyopt distid:1234567812345678 >"$WORK/v.txt" 2>&1 ||
		fail "SM2 signature $i does not verify: $(cat "$WORK/v.txt")"
done
# the check is real: another message, or another ID, fails
openssl pkeyutl -verify -pubin -inkey "$WORK/pub.pem" -rawin -in "$WORK/msg2" \
	-sigfile "$WORK/sig1.der" -digest sm3 -pkeyopt distid:1234567812345678 \
	>/dev/null 2>&1 && fail "openssl accepted a signature over another message"
openssl pkeyutl -verify -pubin -inkey "$WORK/pub.pem" -rawin -in "$WORK/msg1" \
	-sigfile "$WORK/sig1.der" -digest sm3 -pkeyopt distid:1234567812345679 \
	>/dev/null 2>&1 && fail "openssl accepted a signature under another ID"
drv pubkey 01 "$WORK/pub2.pem"
expect_out "pubkey parts=3"
cmp -s "$WORK/pub.pem" "$WORK/pub2.pem" || fail "the public key read back differs"

step "certificates on the soft token, paired with their keys"
openssl genpkey -algorithm SM2 -out "$WORK/ca.key" 2>/dev/null || fatal "openssl cannot make SM2 keys"
openssl req -new -x509 -key "$WORK/ca.key" -sm3 -sigopt distid:1234567812345678 \
	-subj "/C=CN/O=Test CA/CN=Test SM2 CA" -days 30 -out "$WORK/ca.pem" 2>/dev/null ||
	fatal "openssl req (SM2 CA) failed"
openssl x509 -in "$WORK/ca.pem" -outform DER -out "$WORK/ca.der"
# the key pair's certificate (its public key is the pair's: that pairs it)
openssl req -new -key "$WORK/ca.key" -sm3 -subj "/CN=renewal 2026" -out "$WORK/tk.csr" 2>/dev/null ||
	fatal "openssl req (CSR) failed"
openssl x509 -req -in "$WORK/tk.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -force_pubkey "$WORK/pub.pem" \
	-days 30 -out "$WORK/tk.pem" 2>"$WORK/x509.err" || fatal "openssl x509: $(cat "$WORK/x509.err")"
openssl x509 -in "$WORK/tk.pem" -outform DER -out "$WORK/tk.der"
tool import-cert --slot 0 --id 01 --label "renewal 2026" --cert "$WORK/tk.pem"
drv putcert 02 "ca copy" "$WORK/ca.der"
mkdir -p "$WORK/dump"
drv certs "$WORK/dump"
expect_out "count=2"
expect_out "cert id=01 label=renewal 2026 len=$(stat -c %s "$WORK/tk.der") value=1 pub=1 priv=1"
expect_out "cert id=02 label=ca copy len=.* value=1 pub=0 priv=0"
cmp "$WORK/tk.der" "$WORK/dump/01.der" || fail "imported certificate read back differs"
cmp "$WORK/ca.der" "$WORK/dump/02.der" || fail "written certificate read back differs"
GMSOFT_TRACE=$WORK/trace.txt drv certs
gav=$(grep -c " C_GetAttributeValue " "$WORK/trace.txt")
echo "measured (soft token): C_GetAttributeValue calls listing 2 certificates and 1 key pair: $gav"
# one call per object: 2 certificates, 2 key objects, 2 container objects
[ "$gav" -eq 6 ] || fail "listing used $gav C_GetAttributeValue calls (want 6, one per object)"
# a module refusing the grouped calls: the layer falls back to one
# attribute at a time and still lists everything
for rule in "C_GetAttributeValue:1:CKR_ATTRIBUTE_SENSITIVE" \
	    "C_GetAttributeValue:2:CKR_ATTRIBUTE_TYPE_INVALID"; do
	rm -f "$WORK/dump/"*
	GMSOFT_FAIL=$rule drv certs "$WORK/dump"
	expect_out "count=2"
	expect_out "cert id=01 label=renewal 2026 len=$(stat -c %s "$WORK/tk.der") value=1 pub=1 priv=1"
	cmp "$WORK/tk.der" "$WORK/dump/01.der" || fail "fallback read other bytes ($rule)"
done
# without login the private key is not visible: the certificate has no privkey
GM_PIN= drv certs
expect_out "cert id=01 label=renewal 2026 .* pub=1 priv=0"
drv setlabel-cert 02 "renamed"
drv certs
expect_out "cert id=02 label=renamed len="
drv destroy-cert 02
drv certs
expect_out "count=1"

step "faults: device error while signing, token removed, a bad slot skipped"
e=$("$DRIVER" sm2-e "$WORK/pub.pem" "$WORK/msg1")
GMSOFT_FAIL="C_Sign:1:CKR_DEVICE_ERROR" drv_fails 5 \
	"signing on the token failed: the token reported a device error (CKR_DEVICE_ERROR)" \
	--module "$M" sign 01 "$e" "$WORK/x.der"
expect_out "FIX: re-insert the Ekey; if a renewal was running, finish it with 'gmrenew renew-with-code CODE'"
GMSOFT_TRACE=$WORK/trace2.txt drv sign 01 "$e" "$WORK/x.der"
at=$(trace_index C_SignInit "$WORK/trace2.txt")
[ -n "$at" ] || fail "no C_SignInit in the trace: $(cat "$WORK/trace2.txt")"
GMSOFT_REMOVE_AT=$at "$DRIVER" --module "$M" sign 01 "$e" "$WORK/x.der" >"$OUT" 2>&1
rc=$?; cat "$OUT"
[ $rc -eq 5 ] || fail "removal while signing exited $rc, want 5"
grep -q "re-insert the Ekey" "$OUT" || fail "removal message lacks the fix"
GMSOFT_FAIL="C_Login:1:CKR_DEVICE_REMOVED" GM_PIN= drv_fails 5 \
	"logging in to the token failed: the token was removed (CKR_DEVICE_REMOVED)" \
	--module "$M" login $PIN
GMSOFT_FAIL="C_Login:1:CKR_PIN_LOCKED" GM_PIN= drv_fails 6 "the Ekey's user PIN is locked" \
	--module "$M" login $PIN
expect_out "FIX: have it unlocked by the security officer (SO PIN) or the CA"

step "two tokens: the several-tokens error, URI selection of one"
tool init --slot 1 --label ekey-b --serial $SERIAL_B
drv tokens
expect_out "count=2"
drv_fails 5 "2 tokens are inserted (serials $SERIAL_A, $SERIAL_B): the CA's rule is one Ekey at a time" \
	--module "$M" select
expect_out "FIX: remove all but one, or pick one with --token 'pkcs11:serial=...'"
drv --token "pkcs11:serial=$SERIAL_B" select
expect_out "selected serial=$SERIAL_B label=ekey-b slot=1"
drv --token "pkcs11:token=ekey-a" select
expect_out "selected serial=$SERIAL_A"
drv_fails 5 "2 inserted tokens match 'pkcs11:manufacturer=EnterSafe%20USB%20Key'" \
	--module "$M" --token "pkcs11:manufacturer=EnterSafe%20USB%20Key" select
drv_fails 2 "bad token URI" --module "$M" --token "pkcs11:serial=%zz" select
# a slot whose token info fails is skipped, not fatal
GMSOFT_FAIL="C_GetTokenInfo:1:CKR_DEVICE_ERROR" drv tokens
expect_out "count=1"
GMSOFT_FAIL="C_GetTokenInfo:1:CKR_DEVICE_ERROR" drv select
tool empty --slot 1

step "PIN counter: messages at each step, right PIN resets, six wrong lock"
unset GM_PIN
drv_fails 6 "the PIN is incorrect: the Ekey will lock after 5 more wrong PINs" --module "$M" login 0000
# another run: the exact count again, read through the library's SKF side
drv_fails 6 "the PIN is incorrect: the Ekey will lock after 4 more wrong PINs" --module "$M" login 1111
drv pinstate
expect_out "count_low=1 final_try=0 locked=0"
drv login $PIN
expect_out "login ok"
drv pinstate
expect_out "count_low=0 final_try=0 locked=0"
# one wrong PIN per run, as a user would type them
drv_fails 6 "the Ekey will lock after 5 more wrong PINs" --module "$M" login 0001
for i in 2 3 4; do
	drv_fails 6 "the PIN is incorrect: the Ekey will lock after $((6 - i)) more wrong PINs" --module "$M" login 000$i
done
drv_fails 6 "the PIN is incorrect: one try is left before the Ekey locks" --module "$M" login 0005
drv_fails 6 "the PIN is incorrect, and the Ekey's user PIN is now locked" --module "$M" login 0006
expect_out "FIX: have it unlocked by the security officer (SO PIN) or the CA"
drv_fails 6 "the Ekey's user PIN is locked" --module "$M" login $PIN
drv pinstate
expect_out "locked=1"
# in one session the layer counts down itself
tool init --slot 2 --label ekey-c --serial 2A0F96E8B1C40077
tool empty --slot 0
drv_fails 6 "the PIN's length is not accepted: the Ekey takes 4 to 16 characters" \
	--module "$M" login 12
"$DRIVER" --module "$M" login 1000 1001 1002 1003 1004 1005 >"$OUT" 2>&1
rc=$?; cat "$OUT"
[ $rc -eq 6 ] || fail "six wrong PINs exited $rc, want 6"
expect_out "lock after 5 more"
expect_out "lock after 4 more"
expect_out "lock after 3 more"
expect_out "lock after 2 more"
expect_out "one try is left before the Ekey locks"
expect_out "is now locked"

step "PIN counter without SKF: only what the flags allow"
# the PKCS#11-only build over the same store: count low says fewer than
# the profile's 6, never a number guessed; final try and lock from flags
P11_ONLY=$GMRENEW_BUILD_DIR/tests/softtoken/libgmsofttoken-p11.so
tool init --slot 2 --label ekey-c --serial 2A0F96E8B1C40077
for i in 1 2; do
	drv_fails 6 "the PIN is incorrect: fewer than 6 tries are left before the Ekey locks" \
		--module "$P11_ONLY" login 100$i
	grep -q "will lock after" "$OUT" && fail "a count without SKF"
done
tool set-tries --slot 2 --tries 2
drv_fails 6 "the PIN is incorrect: one try is left before the Ekey locks" \
	--module "$P11_ONLY" login 1003
drv_fails 6 "the PIN is incorrect, and the Ekey's user PIN is now locked" \
	--module "$P11_ONLY" login 1004

step "module errors"
drv_fails 5 "is not a PKCS#11 module (no C_GetFunctionList)" \
	--module /lib/x86_64-linux-gnu/libz.so.1 tokens
expect_out "FIX: install the FEITIAN ePass3000GM driver or pass --module PATH"
drv_fails 5 "PKCS#11 module '$WORK/missing/libes_3000gm.so' does not exist" \
	--module "$WORK/missing/libes_3000gm.so" tokens
cat >"$WORK/cfg.ini" <<CFG
[profile.epass3000gm]
libraries = $WORK/opt/libes_3000gm.so, libes_3000gm_nowhere.so
CFG
GMRENEW_PKCS11_MODULE= drv_fails 5 "no PKCS#11 module found: looked for '$WORK/opt/libes_3000gm.so', 'libes_3000gm_nowhere.so'" \
	--config "$WORK/cfg.ini" locate
mkdir -p "$WORK/opt"
cp "$M" "$WORK/opt/libes_3000gm.so"
GMRENEW_PKCS11_MODULE= run_driver --config "$WORK/cfg.ini" locate
expect_out "module=$WORK/opt/libes_3000gm.so"
finish
