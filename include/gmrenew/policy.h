/*
 * policy.h - pure decisions about certificate validity and renewal, as the
 * CA's guide states them. No I/O: the current time is a parameter.
 */
#ifndef GMRENEW_POLICY_H
#define GMRENEW_POLICY_H

#include <stddef.h>
#include <time.h>

#include "gmrenew/common.h"

/* The [policy] keys of the configuration; their defaults are in
 * gm_config_keys (src/common/config.c) only. */
typedef struct gm_policy {
	int renew_before_days;	/* online window opens before expiry */
	int renew_after_days;	/* online window closes after expiry */
	int extension_days;	/* expected extension */
	int extension_tolerance_days;	/* either way */
	int clock_skew_seconds;	/* new notBefore may be this far ahead */
} gm_policy;

typedef enum gm_cert_status {
	GM_STATUS_NOT_YET_VALID,
	GM_STATUS_VALID,	/* more than renew_before_days left */
	GM_STATUS_EXPIRING,	/* 0 to renew_before_days left */
	GM_STATUS_EXPIRED,
} gm_cert_status;

typedef enum gm_renewal_kind {
	GM_RENEWAL_NOT_DUE,
	GM_RENEWAL_ONLINE,	/* [notAfter - before, notAfter + after] */
	GM_RENEWAL_OFFLINE_ONLY,
} gm_renewal_kind;

typedef struct gm_verdict {
	gm_cert_status status;
	gm_renewal_kind renewal;
	long days_left;		/* floor((notAfter - now) / 86400) */
} gm_verdict;

/* The configuration's [policy] (gm_policy_defaults: of a configuration
 * without files). */
void gm_policy_from_config(const gm_config *cfg, gm_policy *p);
void gm_policy_defaults(gm_policy *p);
void gm_policy_classify(const gm_policy *p, time_t not_before,
			time_t not_after, time_t now, gm_verdict *out);
const char *gm_status_name(gm_cert_status s);	/* "valid", ... */
const char *gm_renewal_name(gm_renewal_kind r);	/* "online", ... */

/* What the post-renewal check looks at; the caller fills it from X.509. */
typedef struct gm_policy_cert {
	const char *subject;	/* canonical one-line subject */
	const unsigned char *spki_sha256;	/* 32 bytes */
	time_t not_before;
	time_t not_after;
} gm_policy_cert;

/* Each failed rule of the post-renewal check, as a bit. */
enum {
	GM_RENEW_SUBJECT_CHANGED = 1 << 0,
	GM_RENEW_SAME_KEY = 1 << 1,
	GM_RENEW_NOT_BEFORE_FUTURE = 1 << 2,
	GM_RENEW_EXTENSION_SHORT = 1 << 3,
	GM_RENEW_EXTENSION_LONG = 1 << 4,
};

/*
 * The post-renewal check: 0 when `fresh` is an acceptable renewal of `old`
 * at time now, else the GM_RENEW_* bits of the failed rules. When why is
 * not NULL it receives a sentence naming the first failed rule with figures.
 */
unsigned gm_policy_check_renewal(const gm_policy *p, const gm_policy_cert *old,
				 const gm_policy_cert *fresh, time_t now,
				 char *why, size_t why_len);

#endif
