/*
 * session.c - sessions and the user PIN. Each PIN failure gets its own
 * message, with the token's retry state read afresh after the failure:
 * the exact tries left where the library's SKF side tells them
 * (skf_peek.c), else what the PKCS#11 flags allow, never more.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p11.h"

#define FIX_PIN_LOCKED \
	N_("have it unlocked by the security officer (SO PIN) or the CA")
#define FIX_GUESS \
	N_("do not guess: find the right PIN before trying again")

int p11_session_open(gm_session *s, const gm_token_info *t, int read_write,
		     gm_error *err)
{
	CK_FLAGS flags = CKF_SERIAL_SESSION;
	CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
	struct p11_session *ps;
	CK_RV rv;

	if (read_write)
		flags |= CKF_RW_SESSION;
	rv = p11_mod(s->m)->f->C_OpenSession((CK_SLOT_ID)t->slot, flags, NULL,
					     NULL, &h);
	gm_p11_log("C_OpenSession", rv);
	if (rv != CKR_OK)
		return gm_ckr_fail(err, rv, "opening a session with the token");
	ps = gm_xcalloc(1, sizeof(*ps));
	ps->slot = (CK_SLOT_ID)t->slot;
	ps->h = h;
	ps->flags = flags;
	s->impl = ps;
	return 0;
}

void p11_session_close(gm_session *s)
{
	CK_RV rv;

	if (!s->impl)
		return;
	if (s->logged_in) {
		rv = p11_fl(s)->C_Logout(p11_h(s));
		gm_p11_log("C_Logout", rv);
	}
	rv = p11_fl(s)->C_CloseSession(p11_h(s));
	gm_p11_log("C_CloseSession", rv);
	free(s->impl);
	s->impl = NULL;
}

static int read_flags(gm_session *s, CK_TOKEN_INFO *ti, gm_error *err)
{
	CK_RV rv = gm_p11_token_info(s->m, p11_sess(s)->slot, ti);

	if (rv != CKR_OK)
		return gm_ckr_fail(err, rv, "reading the token's PIN state");
	return 0;
}

static void pin_state_of(const CK_TOKEN_INFO *ti, gm_pin_state *out)
{
	memset(out, 0, sizeof(*out));
	out->count_low = !!(ti->flags & CKF_USER_PIN_COUNT_LOW);
	out->final_try = !!(ti->flags & CKF_USER_PIN_FINAL_TRY);
	out->locked = !!(ti->flags & CKF_USER_PIN_LOCKED);
	out->pin_pad = !!(ti->flags & CKF_PROTECTED_AUTHENTICATION_PATH);
	out->min_len = ti->ulMinPinLen;
	out->max_len = ti->ulMaxPinLen;
	out->tries_left = -1;	/* PKCS#11 does not tell */
}

int p11_pin_state(gm_session *s, gm_pin_state *out, gm_error *err)
{
	CK_TOKEN_INFO ti;

	if (read_flags(s, &ti, err) < 0)
		return -1;
	pin_state_of(&ti, out);
	p11_sess(s)->last = *out;
	p11_sess(s)->have_last = 1;
	return 0;
}

/* The PKCS#11 session after the SKF side was used: still open, else (a
 * driver whose SKF side closed it) opened again, as it was. */
static void keep_session(gm_session *s)
{
	struct p11_session *ps = p11_sess(s);
	CK_SESSION_INFO si;
	CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
	CK_RV rv = p11_fl(s)->C_GetSessionInfo(ps->h, &si);

	gm_p11_log("C_GetSessionInfo", rv);
	if (rv != CKR_SESSION_HANDLE_INVALID && rv != CKR_SESSION_CLOSED)
		return;
	rv = p11_fl(s)->C_OpenSession(ps->slot, ps->flags, NULL, NULL, &h);
	gm_p11_log("C_OpenSession", rv);
	if (rv == CKR_OK)
		ps->h = h;
}

/* The tries left as the library's SKF side counts them (SKF_GetPINInfo:
 * read-only, no try used), when it exports it and knows this token and
 * its count agrees with the flags (FEITIAN's: count low below the
 * maximum); -1 otherwise. */
static long skf_tries_left(gm_session *s, const CK_TOKEN_INFO *ti,
			   const gm_pin_state *after)
{
	char serial[sizeof(ti->serialNumber) + 1], label[sizeof(ti->label) + 1];
	unsigned long left, max;
	gm_skf_abi abi;
	gm_error e;
	int r;

	if (s->profile)
		abi = s->profile->skf;
	else
		gm_skf_abi_builtin("epass3000gm", &abi);
	gm_p11_trim(serial, ti->serialNumber, sizeof(ti->serialNumber));
	gm_p11_trim(label, ti->label, sizeof(ti->label));
	r = gm_skf_peek_pin(s->m->path, &abi, serial, label, &left, &max, &e);
	keep_session(s);
	if (r < 0) {
		gm_debug("tries left not read through SKF: %s", e.msg);
		return -1;
	}
	if (left < 2 || after->count_low != (left < max)) {
		gm_debug("SKF says %lu of %lu tries left, the PKCS#11 flags "
			 "disagree: not used", left, max);
		return -1;
	}
	return (long)left;
}

/* After CKR_PIN_INCORRECT: what is left, from the token's flags and, when
 * the library's SKF side tells, the exact count. */
static int pin_incorrect(gm_session *s, gm_error *err)
{
	gm_pin_state after;
	CK_TOKEN_INFO ti;
	gm_error ignored;
	long left;

	if (read_flags(s, &ti, &ignored) < 0) {
		gm_fail(err, GM_EXIT_PIN, FIX_GUESS, "the PIN is incorrect");
		goto out;
	}
	pin_state_of(&ti, &after);
	/* kept for a login that follows (the PIN typed again) */
	p11_sess(s)->last = after;
	p11_sess(s)->have_last = 1;
	if (after.locked) {
		gm_fail(err, GM_EXIT_PIN, FIX_PIN_LOCKED,
			"the PIN is incorrect, and the Ekey's user PIN is now "
			"locked");
		goto out;
	}
	if (after.final_try) {
		gm_fail(err, GM_EXIT_PIN,
			"do not guess: one more wrong PIN locks the Ekey",
			"the PIN is incorrect: one try is left before the Ekey "
			"locks");
		goto out;
	}
	left = skf_tries_left(s, &ti, &after);
	if (left > 1)
		gm_fail(err, GM_EXIT_PIN, FIX_GUESS,
			"the PIN is incorrect: the Ekey will lock after %d more "
			"wrong PINs", (int)left);
	else if (after.count_low && s->pin_max_tries > 1)
		gm_fail(err, GM_EXIT_PIN, FIX_GUESS,
			"the PIN is incorrect: fewer than %u tries are left "
			"before the Ekey locks", s->pin_max_tries);
	else if (after.count_low)
		gm_fail(err, GM_EXIT_PIN, FIX_GUESS,
			"the PIN is incorrect: tries are running low before the "
			"Ekey locks");
	else
		gm_fail(err, GM_EXIT_PIN, "type the Ekey's user PIN again",
			"the PIN is incorrect");
out:
	if (err)
		err->detail = (long)CKR_PIN_INCORRECT;
	return gm_error_set_outside(err, GM_REASON_PIN_INCORRECT,
				    "CKR_PIN_INCORRECT");
}

static int login_failed(gm_session *s, CK_RV rv, const gm_pin_state *before,
			gm_error *err)
{
	switch (rv) {
	case CKR_PIN_INCORRECT:
		return pin_incorrect(s, err);
	case CKR_PIN_LOCKED:
		gm_fail(err, GM_EXIT_PIN, FIX_PIN_LOCKED,
			"the Ekey's user PIN is locked");
		break;
	case CKR_PIN_LEN_RANGE:
		gm_fail(err, GM_EXIT_PIN, "type the Ekey's user PIN again",
			"the PIN's length is not accepted: the Ekey takes %lu "
			"to %lu characters", before->min_len, before->max_len);
		break;
	case CKR_PIN_EXPIRED:
		gm_fail(err, GM_EXIT_PIN,
			"change the PIN with FEITIAN's tool, then try again",
			"the Ekey's user PIN has expired");
		break;
	case CKR_PIN_INVALID:
		gm_fail(err, GM_EXIT_PIN, "type the Ekey's user PIN again",
			"the PIN contains characters the Ekey does not accept");
		break;
	default:
		return gm_ckr_fail(err, rv, "logging in to the token");
	}
	if (err)
		err->detail = (long)rv;
	return gm_ckr_set_reason(err, rv);
}

int p11_login(gm_session *s, const char *pin, size_t pin_len, gm_error *err)
{
	gm_pin_state before;
	CK_RV rv;

	/* the state the caller just read before asking for the PIN (one
	 * C_GetTokenInfo less), else read now */
	if (p11_sess(s)->have_last)
		before = p11_sess(s)->last;
	else if (p11_pin_state(s, &before, err) < 0)
		return -1;
	p11_sess(s)->have_last = 0;
	if (before.locked) {
		gm_fail(err, GM_EXIT_PIN, FIX_PIN_LOCKED,
			"the Ekey's user PIN is locked");
		return gm_ckr_set_reason(err, CKR_PIN_LOCKED);
	}
	/* With a PIN pad (CKF_PROTECTED_AUTHENTICATION_PATH) and no PIN, the
	 * user types it on the device. */
	if (!pin && !before.pin_pad)
		return gm_fail(err, GM_EXIT_USAGE, "give the Ekey's user PIN",
			       "no PIN was given");
	rv = p11_fl(s)->C_Login(p11_h(s), CKU_USER,
			      pin ? (CK_UTF8CHAR_PTR)(uintptr_t)pin : NULL,
			      pin ? (CK_ULONG)pin_len : 0);
	gm_p11_log("C_Login", rv);
	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) {
		s->logged_in = 1;
		return 0;
	}
	return login_failed(s, rv, &before, err);
}
