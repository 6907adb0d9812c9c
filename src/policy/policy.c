/*
 * policy.c - when a certificate is valid, expiring or expired, when it may be
 * renewed online, and whether a renewed certificate is acceptable.
 *
 * Pure: no I/O, no clock, no OpenSSL; the defaults are the
 * configuration's. All arithmetic is done in long long seconds so that
 * windows near the limits of time_t cannot overflow.
 */
#include <stdio.h>
#include <string.h>

#include "gmrenew/common.h"
#include "gmrenew/policy.h"

#define DAY 86400LL

void gm_policy_from_config(const gm_config *cfg, gm_policy *p)
{
	p->renew_before_days = cfg->renew_before_days;
	p->renew_after_days = cfg->renew_after_days;
	p->extension_days = cfg->extension_days;
	p->extension_tolerance_days = cfg->extension_tolerance_days;
	p->clock_skew_seconds = cfg->clock_skew_seconds;
}

/* The defaults are the configuration's (gm_config_keys). */
void gm_policy_defaults(gm_policy *p)
{
	gm_config cfg;

	gm_config_init(&cfg);
	gm_policy_from_config(&cfg, p);
	gm_config_release(&cfg);
}

/* floor(a / b) for b > 0, rounding toward minus infinity. */
static long long floor_div(long long a, long long b)
{
	long long q = a / b;

	if (a % b != 0 && a < 0)
		q--;
	return q;
}

void gm_policy_classify(const gm_policy *p, time_t not_before,
			time_t not_after, time_t now, gm_verdict *out)
{
	long long na = (long long)not_after;
	long long t = (long long)now;
	long long opens = na - (long long)p->renew_before_days * DAY;
	long long closes = na + (long long)p->renew_after_days * DAY;

	if (t < (long long)not_before)
		out->status = GM_STATUS_NOT_YET_VALID;
	else if (t > na)
		out->status = GM_STATUS_EXPIRED;
	else if (t >= opens)
		out->status = GM_STATUS_EXPIRING;
	else
		out->status = GM_STATUS_VALID;

	if (t < opens)
		out->renewal = GM_RENEWAL_NOT_DUE;
	else if (t <= closes)
		out->renewal = GM_RENEWAL_ONLINE;
	else
		out->renewal = GM_RENEWAL_OFFLINE_ONLY;

	out->days_left = (long)floor_div(na - t, DAY);
}

const char *gm_status_name(gm_cert_status s)
{
	switch (s) {
	case GM_STATUS_NOT_YET_VALID:
		return "not_yet_valid";
	case GM_STATUS_VALID:
		return "valid";
	case GM_STATUS_EXPIRING:
		return "expiring";
	case GM_STATUS_EXPIRED:
		return "expired";
	}
	return "unknown";
}

const char *gm_renewal_name(gm_renewal_kind r)
{
	switch (r) {
	case GM_RENEWAL_NOT_DUE:
		return "not_due";
	case GM_RENEWAL_ONLINE:
		return "online";
	case GM_RENEWAL_OFFLINE_ONLY:
		return "offline_only";
	}
	return "unknown";
}

/* Writes the sentence for the first failed rule only. */
static void explain(char *why, size_t why_len, unsigned *written,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void explain(char *why, size_t why_len, unsigned *written,
		    const char *fmt, ...)
{
	va_list ap;

	if (!why || why_len == 0 || *written)
		return;
	va_start(ap, fmt);
	vsnprintf(why, why_len, fmt, ap);
	va_end(ap);
	*written = 1;
}

/* Seconds as days with one decimal, for messages. */
static double as_days(long long seconds)
{
	return (double)seconds / (double)DAY;
}

unsigned gm_policy_check_renewal(const gm_policy *p, const gm_policy_cert *old,
				 const gm_policy_cert *fresh, time_t now,
				 char *why, size_t why_len)
{
	unsigned bad = 0;
	unsigned written = 0;
	long long ext, lo, hi, latest_nb;

	if (why && why_len)
		why[0] = '\0';

	if (!old->subject || !fresh->subject ||
	    strcmp(old->subject, fresh->subject) != 0) {
		bad |= GM_RENEW_SUBJECT_CHANGED;
		explain(why, why_len, &written,
			"the renewed certificate's subject '%s' does not match "
			"the current subject '%s'",
			fresh->subject ? fresh->subject : "(none)",
			old->subject ? old->subject : "(none)");
	}

	if (old->spki_sha256 && fresh->spki_sha256 &&
	    memcmp(old->spki_sha256, fresh->spki_sha256, 32) == 0) {
		bad |= GM_RENEW_SAME_KEY;
		explain(why, why_len, &written,
			"the renewed certificate carries the old public key; "
			"a renewal must certify the new key pair");
	}

	latest_nb = (long long)now + p->clock_skew_seconds;
	if ((long long)fresh->not_before > latest_nb) {
		bad |= GM_RENEW_NOT_BEFORE_FUTURE;
		explain(why, why_len, &written,
			"the renewed certificate becomes valid only in %lld "
			"seconds (more than the allowed clock skew of %d seconds)",
			(long long)fresh->not_before - (long long)now,
			p->clock_skew_seconds);
	}

	ext = (long long)fresh->not_after - (long long)old->not_after;
	lo = ((long long)p->extension_days - p->extension_tolerance_days) * DAY;
	hi = ((long long)p->extension_days + p->extension_tolerance_days) * DAY;
	if (ext < lo) {
		bad |= GM_RENEW_EXTENSION_SHORT;
		explain(why, why_len, &written,
			"the validity was extended by %.1f days, expected %d "
			"days (at least %d)", as_days(ext), p->extension_days,
			p->extension_days - p->extension_tolerance_days);
	} else if (ext > hi) {
		bad |= GM_RENEW_EXTENSION_LONG;
		explain(why, why_len, &written,
			"the validity was extended by %.1f days, expected %d "
			"days (at most %d)", as_days(ext), p->extension_days,
			p->extension_days + p->extension_tolerance_days);
	}
	return bad;
}
