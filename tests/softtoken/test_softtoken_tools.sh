#!/bin/sh
# test_softtoken_tools.sh MODULE TOOL - the soft ePass3000GM seen through
# independent programs: OpenSC's pkcs11-tool, GnuTLS's p11tool and the
# openssl command. A missing program is a failure, not a skip.
set -eu

MODULE=${1:?usage: test_softtoken_tools.sh MODULE TOOL}
TOOL=${2:?usage: test_softtoken_tools.sh MODULE TOOL}
PYTHON=/usr/bin/python3
TESTS=0

fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { TESTS=$((TESTS + 1)); echo "ok $TESTS - $*"; }
need() {
	command -v "$1" >/dev/null 2>&1 ||
		fail "'$1' is required by this test (Debian package $2)"
}
need pkcs11-tool opensc
need p11tool gnutls-bin
need openssl openssl
[ -x "$PYTHON" ] || fail "$PYTHON is required by this test (Debian package python3)"
[ -f "$MODULE" ] || fail "no module at '$MODULE'"
# p11tool loads modules by absolute path only.
MODULE=$(cd "$(dirname "$MODULE")" && pwd)/$(basename "$MODULE")

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export GMSOFT_DIR="$WORK/state"
mkdir "$GMSOFT_DIR"
unset GMSOFT_PIN GMSOFT_SO_PIN GMSOFT_FAIL GMSOFT_REMOVE_AT GMSOFT_KILL_AT \
      GMSOFT_KILL_AFTER GMSOFT_LATENCY GMSOFT_TRACE GMSOFT_KILL_IN_WRITE \
      GMSOFT_REMOVE_SLOT
printf '12345678\n' >"$WORK/pin"
PIN=$(cat "$WORK/pin")   # pkcs11-tool takes the PIN only on its command line

p11() { pkcs11-tool --module "$MODULE" "$@"; }
p11_user() { pkcs11-tool --module "$MODULE" --login --pin "$PIN" "$@"; }
contains() { grep -q -- "$2" "$1" || { cat "$1" >&2; fail "no '$2' in output"; }; }
lacks() { ! grep -q -- "$2" "$1" || { cat "$1" >&2; fail "unexpected '$2'"; }; }

# e = SM3(Z || M) with the default ID 1234567812345678, computed here
# independently of the module: sm2_digest PUB.pem MESSAGE -> hex.
sm2_digest() {
	openssl pkey -pubin -in "$1" -outform DER -out "$WORK/pub.der"
	"$PYTHON" - "$WORK/pub.der" "$2" <<'PY'
import hashlib, sys
def sm3(data):
    h = hashlib.new("sm3"); h.update(data); return h.digest()
curve = bytes.fromhex(
    "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC"
    "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93"
    "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7"
    "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0")
ident = b"1234567812345678"
xy = open(sys.argv[1], "rb").read()[-64:]
z = sm3((len(ident) * 8).to_bytes(2, "big") + ident + curve + xy)
print(sm3(z + open(sys.argv[2], "rb").read()).hex())
PY
}

verify_openssl() { # PUB.pem MESSAGE SIG.der
	openssl pkeyutl -verify -pubin -inkey "$1" -rawin -in "$2" \
		-sigfile "$3" -digest sm3 -pkeyopt distid:1234567812345678 \
		>"$WORK/verify.out" 2>&1 || { cat "$WORK/verify.out" >&2; return 1; }
	grep -q "Signature Verified Successfully" "$WORK/verify.out"
}

# ---- fixture ---------------------------------------------------------
"$TOOL" -h >"$WORK/help"
contains "$WORK/help" "import-key"
ok "gmsofttoken-tool -h lists the commands"

"$TOOL" init --slot 0 --label "Ekey A" --serial 3000A10000000001 --pin-file "$WORK/pin"
"$TOOL" init --slot 1 --label "Ekey B" --serial 3000A10000000002 --pin-file "$WORK/pin"
"$TOOL" empty --slot 2
openssl genpkey -algorithm SM2 -out "$WORK/key.pem" 2>/dev/null
openssl pkey -in "$WORK/key.pem" -pubout -out "$WORK/key.pub.pem"
"$TOOL" import-key --slot 0 --id 01 --label "sign key" --key "$WORK/key.pem" >/dev/null
openssl req -x509 -new -key "$WORK/key.pem" -subj "/CN=Ekey A" -sm3 \
	-sigopt distid:1234567812345678 -days 30 -out "$WORK/cert.pem" 2>/dev/null
openssl x509 -in "$WORK/cert.pem" -outform DER -out "$WORK/cert.der"
"$TOOL" import-cert --slot 0 --id 01 --label "sign cert" --cert "$WORK/cert.pem" >/dev/null
"$TOOL" list --slot 0 >"$WORK/list"
contains "$WORK/list" "certificate	id=01	label=sign cert	container=ST-"
contains "$WORK/list" "private-key	id=01	label=sign key	container=ST-"
contains "$WORK/list" "container	id=	label=	container=ST-"
ok "tool provisions two tokens, an empty slot, a key and a certificate in one container"

"$TOOL" add-container --slot 1 --container "SKF one" >/dev/null
"$TOOL" add-container --slot 1 --container legacy --kind rsa >/dev/null
"$TOOL" list --slot 1 >"$WORK/list1"
contains "$WORK/list1" "container	id=	label=	container=SKF one"
contains "$WORK/list1" "container	id=	label=	container=legacy"
if "$TOOL" add-container --slot 1 --container legacy 2>/dev/null; then
	fail "a second container of the same name was accepted"
fi
ok "tool adds empty containers, one marked RSA, and refuses a duplicate name"

if "$TOOL" init --slot 3 --label bad --serial 3000GM0001 2>"$WORK/badserial"; then
	fail "a serial that is not 16 upper-case hex digits was accepted"
fi
contains "$WORK/badserial" "16 upper-case hex digits"
ok "the tool refuses an Ekey number that is not 16 upper-case hex digits"

# ---- pkcs11-tool -----------------------------------------------------
p11 -L >"$WORK/L" 2>&1
contains "$WORK/L" "token label        : Ekey A"
contains "$WORK/L" "token label        : Ekey B"
contains "$WORK/L" "serial num         : 3000A10000000001"
contains "$WORK/L" "token manufacturer : EnterSafe USB Key"
contains "$WORK/L" "token model        : ePass3000GM"
lacks "$WORK/L" "(empty)"
[ "$(grep -c '^Slot ' "$WORK/L")" -eq 2 ] || fail "-L should list 2 slots"
ok "pkcs11-tool -L shows two Ekeys and no slot without a device"

p11 -I >"$WORK/I" 2>&1
contains "$WORK/I" "Feitian Technologies Co., Ltd."
contains "$WORK/I" "EnterSafe PKCS#11 Library."
contains "$WORK/I" "1.20"
ok "pkcs11-tool -I shows FEITIAN's library identity"

p11 -M >"$WORK/M" 2>&1
lacks "$WORK/M" "mechtype-0x8000020"
ok "pkcs11-tool -M lists no mechanism, as FEITIAN's driver"

p11 -O >"$WORK/O" 2>&1
contains "$WORK/O" "Certificate Object"
contains "$WORK/O" "sign cert"
lacks "$WORK/O" "Private Key Object"
ok "pkcs11-tool -O without login hides the private key"

p11_user -O >"$WORK/O2" 2>&1
contains "$WORK/O2" "Private Key Object"
ok "pkcs11-tool -O with login shows the private key"

p11 --read-object --type cert --id 01 -o "$WORK/read.der" 2>/dev/null
cmp -s "$WORK/read.der" "$WORK/cert.der" || fail "certificate read back differs"
ok "pkcs11-tool reads the certificate back byte for byte"

# ---- SM2 signatures checked by openssl ---------------------------------
printf 'renew me: gmrenew soft token test message\n' >"$WORK/msg"
E=$(sm2_digest "$WORK/key.pub.pem" "$WORK/msg")
printf '%s' "$E" | "$PYTHON" -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read()))' >"$WORK/e.bin"
p11_user --sign -m 0x80000202 --id 01 -i "$WORK/e.bin" -o "$WORK/sig.raw" 2>/dev/null
[ "$(wc -c <"$WORK/sig.raw")" -eq 128 ] || fail "signature is not the 128-byte blob"
"$TOOL" sig-to-der --in "$WORK/sig.raw" --out "$WORK/sig.der"
verify_openssl "$WORK/key.pub.pem" "$WORK/msg" "$WORK/sig.der" ||
	fail "openssl rejects the module's signature"
ok "C_Sign through pkcs11-tool verifies with openssl pkeyutl (SM3, distid)"

printf 'another message\n' >"$WORK/msg2"
verify_openssl "$WORK/key.pub.pem" "$WORK/msg2" "$WORK/sig.der" &&
	fail "openssl accepts a signature for another message"
ok "openssl rejects the signature for another message"

"$TOOL" sign-digest --slot 0 --id 01 --digest "$E" --out "$WORK/sig2.der"
verify_openssl "$WORK/key.pub.pem" "$WORK/msg" "$WORK/sig2.der" ||
	fail "openssl rejects the tool's signature"
ok "gmsofttoken-tool sign-digest verifies with openssl"

head -c 33 /dev/zero >"$WORK/e33.bin"
if p11_user --sign -m 0x80000202 --id 01 -i "$WORK/e33.bin" \
	-o "$WORK/sig33.raw" >"$WORK/s33" 2>&1; then
	fail "a 33-byte input was signed"
fi
contains "$WORK/s33" "CKR_DATA_LEN_RANGE"
ok "a 33-byte input is refused with CKR_DATA_LEN_RANGE"

"$TOOL" gen-key --slot 1 --id a1 --label "new key" --out-pub "$WORK/gen.pub.pem" >/dev/null
E=$(sm2_digest "$WORK/gen.pub.pem" "$WORK/msg")
printf '%s' "$E" | "$PYTHON" -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read()))' >"$WORK/e.bin"
p11_user --slot 1 --sign -m 0x80000202 --id a1 -i "$WORK/e.bin" -o "$WORK/sig3.raw" 2>/dev/null
"$TOOL" sig-to-der --in "$WORK/sig3.raw" --out "$WORK/sig3.der"
verify_openssl "$WORK/gen.pub.pem" "$WORK/msg" "$WORK/sig3.der" ||
	fail "openssl rejects a signature by a generated key"
ok "a key generated on the token (slot 1) signs verifiably"

# (pkcs11-tool --keypairgen knows no SM2 curve: C_GenerateKeyPair is
# covered by test_softtoken.c.)

# ---- writing objects ---------------------------------------------------
p11_user -w "$WORK/cert.der" -y cert --id 02 --label written >/dev/null 2>&1
"$TOOL" list --slot 0 >"$WORK/list"
contains "$WORK/list" "certificate	id=02	label=written"
ok "pkcs11-tool writes a certificate; the tool sees it"

p11_user -b -y cert --id 02 >/dev/null 2>&1
"$TOOL" list --slot 0 >"$WORK/list"
lacks "$WORK/list" "label=written"
ok "pkcs11-tool deletes the certificate"

if p11 -w "$WORK/cert.der" -y cert --id 03 >/dev/null 2>&1; then
	fail "a certificate was written without login"
fi
ok "writing without login is refused"

# ---- p11tool ------------------------------------------------------------
p11tool --provider "$MODULE" --list-tokens >"$WORK/tok" 2>&1
contains "$WORK/tok" "Ekey A"
contains "$WORK/tok" "EnterSafe USB Key"
p11tool --provider "$MODULE" --export "pkcs11:token=Ekey%20A;object=sign%20cert;type=cert" \
	>"$WORK/exp.pem" 2>"$WORK/exp.err" || { cat "$WORK/exp.err" >&2; fail "p11tool export"; }
openssl x509 -in "$WORK/exp.pem" -outform DER | cmp -s - "$WORK/cert.der" ||
	fail "p11tool exported another certificate"
ok "p11tool lists the token and exports the certificate"

# ---- PIN counter ----------------------------------------------------------
if pkcs11-tool --module "$MODULE" --login --pin 00000000 -O >"$WORK/bad" 2>&1; then
	fail "a wrong PIN logged in"
fi
contains "$WORK/bad" "CKR_PIN_INCORRECT"
"$TOOL" pin-status --slot 0 >"$WORK/ps"
contains "$WORK/ps" "tries=5"
contains "$WORK/ps" "CKF_USER_PIN_COUNT_LOW"
p11 -L >"$WORK/L" 2>&1
contains "$WORK/L" "user PIN count low"
p11_user -O >/dev/null 2>&1
"$TOOL" pin-status --slot 0 >"$WORK/ps"
contains "$WORK/ps" "tries=6"
ok "a wrong PIN counts down (seen by pkcs11-tool and the tool); the right one resets"

"$TOOL" set-tries --slot 0 --tries 0
if p11_user -O >"$WORK/locked" 2>&1; then fail "locked token logged in"; fi
contains "$WORK/locked" "CKR_PIN_LOCKED"
"$TOOL" set-tries --slot 0 --tries 6
ok "a locked token refuses the right PIN with CKR_PIN_LOCKED"

# ---- presence -----------------------------------------------------------
"$TOOL" remove --slot 1
p11 -T >"$WORK/T" 2>&1
lacks "$WORK/T" "Ekey B"
"$TOOL" insert --slot 1
p11 -T >"$WORK/T" 2>&1
contains "$WORK/T" "Ekey B"
ok "remove/insert pull a token out and put it back"

GMSOFT_REMOVE_AT=3 p11 -L >"$WORK/L" 2>&1 || true
lacks "$WORK/L" "Ekey A"
p11 -L >"$WORK/L" 2>&1
contains "$WORK/L" "Ekey A"
ok "GMSOFT_REMOVE_AT unplugs for one process only"

# ---- corrupt objects, trace, missing GMSOFT_DIR ---------------------------
head -c 100 /dev/urandom >"$WORK/junk"
"$TOOL" import-raw-cert --slot 0 --id 09 --label junk --file "$WORK/junk" >/dev/null
p11 --read-object --type cert --label junk -o "$WORK/junk.out" 2>/dev/null
cmp -s "$WORK/junk" "$WORK/junk.out" || fail "raw certificate value changed"
ok "import-raw-cert stores arbitrary bytes as a certificate value"

GMSOFT_TRACE="$WORK/trace" p11 -L >/dev/null 2>&1
head -n 1 "$WORK/trace" | grep -q '^1 C_Initialize CKR_OK$' || fail "trace: $(head -n 1 "$WORK/trace")"
tail -n 1 "$WORK/trace" | grep -q ' C_Finalize CKR_OK$' || fail "trace does not end with C_Finalize"
ok "GMSOFT_TRACE records every call"

GMSOFT_FAIL="C_GetTokenInfo:1:CKR_DEVICE_ERROR" p11 -L >"$WORK/L" 2>&1 || true
contains "$WORK/L" "CKR_DEVICE_ERROR"
ok "GMSOFT_FAIL injects a return value"

if env -u GMSOFT_DIR pkcs11-tool --module "$MODULE" -L >"$WORK/nodir" 2>&1; then
	fail "module initialised without GMSOFT_DIR"
fi
contains "$WORK/nodir" "GMSOFT_DIR is not set"
ok "without GMSOFT_DIR C_Initialize fails with a message"

echo "all $TESTS tool tests passed"
