/*
 * session.c - sessions and the user PIN. Each PIN failure gets its own
 * message, with the token's retry state read afresh after the failure.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "token_internal.h"

#define FIX_PIN_LOCKED \
	N_("have it unlocked by the security officer (SO PIN) or the CA")
#define FIX_GUESS \
	N_("do not guess: find the right PIN before trying again")

int gm_session_open(gm_module *m, CK_SLOT_ID slot, int read_write,
		    gm_session **out, gm_error *err)
{
	CK_FLAGS flags = CKF_SERIAL_SESSION;
	CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
	CK_RV rv;

	*out = NULL;
	if (read_write)
		flags |= CKF_RW_SESSION;
	rv = m->f->C_OpenSession(slot, flags, NULL, NULL, &h);
	gm_p11_log("C_OpenSession", rv);
	if (rv != CKR_OK)
		return gm_ckr_fail(err, rv, "opening a session with the token");
	*out = gm_xcalloc(1, sizeof(**out));
	(*out)->m = m;
	(*out)->slot = slot;
	(*out)->h = h;
	(*out)->pin_tries_left = -1;
	return 0;
}

void gm_session_close(gm_session *s)
{
	CK_RV rv;

	if (!s)
		return;
	if (s->logged_in) {
		rv = s->m->f->C_Logout(s->h);
		gm_p11_log("C_Logout", rv);
	}
	rv = s->m->f->C_CloseSession(s->h);
	gm_p11_log("C_CloseSession", rv);
	free(s);
}

static int read_flags(gm_session *s, CK_TOKEN_INFO *ti, gm_error *err)
{
	CK_RV rv = gm_p11_token_info(s->m, s->slot, ti);

	if (rv != CKR_OK)
		return gm_ckr_fail(err, rv, "reading the token's PIN state");
	return 0;
}

int gm_session_pin_state(gm_session *s, gm_pin_state *out, gm_error *err)
{
	CK_TOKEN_INFO ti;

	if (read_flags(s, &ti, err) < 0)
		return -1;
	memset(out, 0, sizeof(*out));
	out->count_low = !!(ti.flags & CKF_USER_PIN_COUNT_LOW);
	out->final_try = !!(ti.flags & CKF_USER_PIN_FINAL_TRY);
	out->locked = !!(ti.flags & CKF_USER_PIN_LOCKED);
	out->pin_pad = !!(ti.flags & CKF_PROTECTED_AUTHENTICATION_PATH);
	out->min_len = ti.ulMinPinLen;
	out->max_len = ti.ulMaxPinLen;
	return 0;
}

void gm_session_set_pin_tries(gm_session *s, unsigned tries)
{
	if (s)
		s->pin_max_tries = tries;
}

void gm_session_set_profile(gm_session *s, const gm_profile *p)
{
	if (s)
		s->profile = p;
}

int gm_session_logged_in(const gm_session *s)
{
	return s && s->logged_in;
}

/* After CKR_PIN_INCORRECT: what the token's flags say is left. */
static int pin_incorrect(gm_session *s, const gm_pin_state *before,
			 gm_error *err)
{
	gm_pin_state after;
	gm_error ignored;

	if (gm_session_pin_state(s, &after, &ignored) < 0) {
		gm_fail(err, GM_EXIT_PIN, FIX_GUESS, "the PIN is incorrect");
		goto out;
	}
	if (after.locked) {
		s->pin_tries_left = 0;
		gm_fail(err, GM_EXIT_PIN, FIX_PIN_LOCKED,
			"the PIN is incorrect, and the Ekey's user PIN is now "
			"locked");
		goto out;
	}
	if (after.final_try) {
		s->pin_tries_left = 1;
		gm_fail(err, GM_EXIT_PIN,
			"do not guess: one more wrong PIN locks the Ekey",
			"the PIN is incorrect: one try is left before the Ekey "
			"locks");
		goto out;
	}
	/* The counter is not readable through PKCS#11; it is known when the
	 * token just went from a full counter to "count low" (FEITIAN sets it
	 * after the first wrong PIN) and the number of tries is known, or
	 * from an earlier failure in this session. */
	if (s->pin_tries_left > 1)
		s->pin_tries_left--;
	else if (after.count_low && !before->count_low && s->pin_max_tries > 1)
		s->pin_tries_left = (int)s->pin_max_tries - 1;
	else
		s->pin_tries_left = -1;
	if (s->pin_tries_left > 1)
		gm_fail(err, GM_EXIT_PIN, FIX_GUESS,
			"the PIN is incorrect: the Ekey will lock after %d more "
			"wrong PINs", s->pin_tries_left);
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
		return pin_incorrect(s, before, err);
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

int gm_session_login(gm_session *s, const char *pin, size_t pin_len,
		     gm_error *err)
{
	gm_pin_state before;
	CK_RV rv;

	if (gm_session_pin_state(s, &before, err) < 0)
		return -1;
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
	rv = s->m->f->C_Login(s->h, CKU_USER,
			      pin ? (CK_UTF8CHAR_PTR)(uintptr_t)pin : NULL,
			      pin ? (CK_ULONG)pin_len : 0);
	gm_p11_log("C_Login", rv);
	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) {
		s->logged_in = 1;
		s->pin_tries_left = -1;
		return 0;
	}
	return login_failed(s, rv, &before, err);
}
