# token_lib.sh - helpers of the test_token_*.sh scripts (sourced).
# A missing tool or fixture FAILS the test: it never skips.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gmrenew-token.XXXXXX")
OUT=$WORK/out.txt
STEP="setup"
trap 'rm -rf "$WORK"' EXIT

fatal() { echo "FAIL [$STEP]: $*" >&2; exit 1; }
fail() { fatal "$@"; }
step() { STEP=$1; echo "--- $1"; }
finish() { echo "PASS"; exit 0; }

need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || fatal "required tool '$t' is not installed"
	done
}
need_file() {
	[ -e "$1" ] || fatal "required file '$1' is missing (install $2)"
}

DRIVER=${TOKEN_DRIVER:-}
if [ -z "$DRIVER" ]; then
	[ -n "${GMRENEW_BUILD_DIR:-}" ] || fatal "GMRENEW_BUILD_DIR is not set"
	DRIVER=$(find "$GMRENEW_BUILD_DIR" -type f -name token_driver -perm -u+x | head -n 1)
fi
[ -n "$DRIVER" ] && [ -x "$DRIVER" ] || fatal "token_driver is not built (tests/integration/token_helper)"

# run_driver ARGS: must succeed; output in $OUT (and shown)
run_driver() {
	"$DRIVER" "$@" >"$OUT" 2>"$WORK/err.txt"
	local rc=$?
	cat "$OUT"
	[ $rc -eq 0 ] || fatal "token_driver $* exited $rc: $(cat "$WORK/err.txt")"
}
# drv_fails CODE TEXT ARGS: must exit CODE and print TEXT
drv_fails() {
	local code=$1 text=$2 rc
	shift 2
	"$DRIVER" "$@" >"$OUT" 2>"$WORK/err.txt"
	rc=$?
	cat "$OUT"
	[ $rc -eq "$code" ] || fatal "token_driver $* exited $rc, want $code: $(cat "$OUT" "$WORK/err.txt")"
	grep -qF -- "$text" "$OUT" || fatal "token_driver $* did not say '$text'"
}
expect_out() {
	grep -q -- "$1" "$OUT" || fatal "output lacks '$1'"
}
