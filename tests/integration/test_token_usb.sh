#!/bin/bash
# test_token_usb.sh - gm_usb_scan through libusb, with an ePass3000GM
# (096e:0309) presented by umockdev (tests/usb/epass3000gm.umockdev), and
# with no device at all (this machine has no USB bus: not an error).
set -u
. "$(dirname "$0")/token_lib.sh"

need umockdev-run
DEV=${GMRENEW_SOURCE_DIR:-$(dirname "$0")/../..}/tests/usb/epass3000gm.umockdev
need_file "$DEV" "the gmrenew source tree"
# umockdev preloads its library: a sanitized build must accept that
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

step "no USB bus or no device: zero devices, success"
run_driver usb 096e 0309
expect_out "count=0"

step "an ePass3000GM on the (emulated) bus"
umockdev-run --device "$DEV" -- "$DRIVER" usb 096e 0309 >"$OUT" 2>"$WORK/err.txt" ||
	fail "umockdev-run failed: $(cat "$OUT" "$WORK/err.txt")"
cat "$OUT"
expect_out "count=1"
expect_out "usb bus=1 address=5 id=096e:0309 node=/dev/bus/usb/001/005 can_open=1 problem=$"

step "product 0 matches any product of the vendor; other ids match nothing"
umockdev-run --device "$DEV" -- "$DRIVER" usb 096e 0 >"$OUT" 2>&1 || fail "umockdev-run failed"
expect_out "count=1"
umockdev-run --device "$DEV" -- "$DRIVER" usb 096e 0303 >"$OUT" 2>&1 || fail "umockdev-run failed"
expect_out "count=0"
umockdev-run --device "$DEV" -- "$DRIVER" usb 055c e618 >"$OUT" 2>&1 || fail "umockdev-run failed"
expect_out "count=0"
finish
