/* error.c - the gm_error value: what failed, why, and what to do. */
#include <stdio.h>
#include <string.h>

#include "gmrenew/common.h"

static const char *(*text_fn)(const char *);

void gm_set_text_fn(const char *(*fn)(const char *msgid))
{
	text_fn = fn;
}

/* "" stays "" (gettext would give the catalogue's header). */
const char *gm_text(const char *msgid)
{
	if (!msgid || !*msgid || !text_fn)
		return msgid;
	return text_fn(msgid);
}

int gm_failv(gm_error *err, gm_exit code, const char *fix, const char *fmt,
	     va_list ap)
{
	if (!err)
		return -1;
	err->code = code;
	err->detail = 0;
	err->reason = GM_REASON_NONE;
	err->outside[0] = '\0';
	vsnprintf(err->msg, sizeof(err->msg), gm_text(fmt), ap);
	snprintf(err->fix, sizeof(err->fix), "%s", fix ? gm_text(fix) : "");
	return -1;
}

int gm_fail(gm_error *err, gm_exit code, const char *fix, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gm_failv(err, code, fix, fmt, ap);
	va_end(ap);
	return -1;
}

int gm_error_prefix(gm_error *err, const char *fmt, ...)
{
	char joined[2 * GM_ERR_MSG_MAX + 2];
	va_list ap;
	int n;

	if (!err)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(joined, GM_ERR_MSG_MAX, gm_text(fmt), ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if (n >= GM_ERR_MSG_MAX)
		n = GM_ERR_MSG_MAX - 1;
	memcpy(joined + n, ": ", 2);
	memcpy(joined + n + 2, err->msg, GM_ERR_MSG_MAX);
	joined[sizeof(joined) - 1] = '\0';
	memcpy(err->msg, joined, GM_ERR_MSG_MAX - 1);
	err->msg[GM_ERR_MSG_MAX - 1] = '\0';
	return -1;
}

/* The names are an interface: docs/fleet.md lists them. */
static const char *const reason_names[GM_REASON_COUNT] = {
	[GM_REASON_NO_TOKEN] = "no_token",
	[GM_REASON_SEVERAL_TOKENS] = "several_tokens",
	[GM_REASON_NO_MATCHING_TOKEN] = "no_matching_token",
	[GM_REASON_TOKEN_NOT_INITIALISED] = "token_not_initialised",
	[GM_REASON_TOKEN_REMOVED] = "token_removed",
	[GM_REASON_DRIVER_MISSING] = "driver_missing",
	[GM_REASON_DRIVER_INVALID] = "driver_invalid",
	[GM_REASON_PIN_INCORRECT] = "CKR_PIN_INCORRECT",
	[GM_REASON_PIN_LOCKED] = "pin_locked",
	[GM_REASON_PIN_FINAL_TRY] = "pin_final_try",
	[GM_REASON_PKCS11] = "pkcs11",
	[GM_REASON_SEVERAL_CERTIFICATES] = "several_certificates",
	[GM_REASON_BAD_REQUEST] = "bad_request",
	[GM_REASON_CSR_INVALID] = "csr_invalid",
	[GM_REASON_BAD_CHALLENGE] = "bad_challenge",
	[GM_REASON_POP_INVALID] = "pop_invalid",
	[GM_REASON_NOT_DUE] = "not_due",
	[GM_REASON_OFFLINE_ONLY] = "offline_only",
	[GM_REASON_REVOKED] = "revoked",
	[GM_REASON_UNKNOWN_CERTIFICATE] = "unknown_certificate",
	[GM_REASON_UNKNOWN_CODE] = "unknown_code",
	[GM_REASON_SUPERSEDED] = "superseded",
	[GM_REASON_CONFLICT] = "conflict",
	[GM_REASON_CODE_EXPIRED] = "code_expired",
	[GM_REASON_SUBJECT_MISMATCH] = "subject_mismatch",
	[GM_REASON_BUSY] = "busy",
	[GM_REASON_INTERNAL] = "internal",
	[GM_REASON_UNKNOWN] = "unknown",
	[GM_REASON_SERVICE_CODE] = "service_error",
	[GM_REASON_NETWORK] = "network",
	[GM_REASON_TIMEOUT] = "timeout",
	[GM_REASON_TLS] = "tls",
	[GM_REASON_TLS_UNTRUSTED] = "tls_untrusted",
	[GM_REASON_TLS_POLICY] = "tls_policy",
	[GM_REASON_CA_BUNDLE] = "ca_bundle",
	[GM_REASON_HTTP_ERROR] = "http_error",
	[GM_REASON_MALFORMED] = "malformed",
	[GM_REASON_TOO_LARGE] = "too_large",
	[GM_REASON_REDIRECT] = "redirect",
	[GM_REASON_WRONG_ORDER] = "wrong_order",
	[GM_REASON_OLD_CERTIFICATE_CHANGED] = "old_certificate_changed",
	[GM_REASON_CONFIRMED_UNKNOWN_CERTIFICATE] =
		"confirmed_unknown_certificate",
	[GM_REASON_OTHER_EKEY] = "other_ekey",
	[GM_REASON_INTERRUPTED] = "interrupted",
	[GM_REASON_SKF] = "skf",
	[GM_REASON_ENCRYPTION_PART] = "encryption_part",
	[GM_REASON_NEEDS_SKF] = "needs_skf",
};

const char *gm_reason_name(gm_reason r)
{
	return r > GM_REASON_NONE && r < GM_REASON_COUNT ? reason_names[r]
							 : NULL;
}

gm_reason gm_reason_of_protocol(const char *code)
{
	gm_reason r;

	for (r = GM_REASON_BAD_REQUEST; code && r <= GM_REASON_UNKNOWN; r++)
		if (!strcmp(reason_names[r], code))
			return r;
	return GM_REASON_SERVICE_CODE;
}

int gm_error_set_reason(gm_error *err, gm_reason reason)
{
	if (err)
		err->reason = reason;
	return -1;
}

int gm_error_set_outside(gm_error *err, gm_reason reason, const char *code)
{
	if (err) {
		err->reason = reason;
		snprintf(err->outside, sizeof(err->outside), "%s",
			 code ? code : "");
	}
	return -1;
}

/* Without a reason, the word of the exit code. */
static const char *reason_of_exit(gm_exit code)
{
	static const char *const by_code[] = {
		"failed", "failed", "usage", "not_due", "offline_only",
		"environment", "pin", "service_unavailable",
		"verification_failed",
	};

	return (int)code >= 0 && code <= GM_EXIT_VERIFY ? by_code[code]
							 : "failed";
}

/* A code the service made up may not pass for one of gmrenew's words. */
static int is_a_name(const char *word)
{
	size_t r;

	for (r = GM_REASON_NONE + 1; r < GM_REASON_COUNT; r++)
		if (!strcmp(reason_names[r], word))
			return 1;
	return 0;
}

const char *gm_error_reason_name(const gm_error *err)
{
	if (err->reason == GM_REASON_PKCS11 && err->outside[0])
		return err->outside;
	if (err->reason == GM_REASON_SERVICE_CODE && err->outside[0] &&
	    !is_a_name(err->outside))
		return err->outside;
	if (gm_reason_name(err->reason))
		return gm_reason_name(err->reason);
	return reason_of_exit(err->code);
}

const char *gm_error_code(const gm_error *err)
{
	return err->outside[0] ? err->outside : NULL;
}

int gm_error_set_fix(gm_error *err, const char *fix)
{
	if (err)
		snprintf(err->fix, sizeof(err->fix), "%s",
			 fix ? gm_text(fix) : "");
	return -1;
}

void gm_error_clear(gm_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}
