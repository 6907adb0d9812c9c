/* test_policy.c - the validity and renewal windows at every boundary, and
 * the post-renewal check rule by rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <stdlib.h>

#include <cmocka.h>

#include "gmrenew/policy.h"

#define DAY 86400L
#define T_2030 ((time_t)1893456000)	/* 2030-01-01T00:00:00Z */
#define T_2025 ((time_t)1735689600)	/* 2025-01-01T00:00:00Z */
#define LEAP_NA ((time_t)1835395200)	/* 2028-02-29T00:00:00Z */
#define LEAP_OPEN ((time_t)1827619200)	/* 2027-12-01T00:00:00Z */
#define LEAP_CLOSE ((time_t)1843171200)	/* 2028-05-29T00:00:00Z */

static gm_verdict at(const gm_policy *p, time_t nb, time_t na, time_t now)
{
	gm_verdict v;

	memset(&v, 0xa5, sizeof(v));
	gm_policy_classify(p, nb, na, now, &v);
	return v;
}

#define CHECK(v, st, rn, days) do { \
		assert_int_equal((v).status, (st)); \
		assert_int_equal((v).renewal, (rn)); \
		assert_int_equal((v).days_left, (days)); \
	} while (0)

static void defaults(void **state)
{
	gm_policy p;

	(void)state;
	gm_policy_defaults(&p);
	assert_int_equal(p.renew_before_days, 90);
	assert_int_equal(p.renew_after_days, 90);
	assert_int_equal(p.extension_days, 1826);
	assert_int_equal(p.extension_tolerance_days, 31);
	assert_int_equal(p.clock_skew_seconds, 300);
}

/* The configuration's defaults are its key table's, and the policy of a
 * configuration is what the file says. */
static void defaults_are_the_config_tables(void **state)
{
	gm_config cfg;
	gm_policy p;
	gm_error err;
	size_t i;

	(void)state;
	gm_config_init(&cfg);
	for (i = 0; gm_config_keys[i].name; i++) {
		char *v = gm_config_value_text(&cfg, i);

		if (gm_config_keys[i].type != GM_CFG_STRING)
			assert_string_equal(v, gm_config_keys[i].default_text);
		free(v);
	}
	assert_int_equal(gm_config_load_string(&cfg, "[policy]\n"
					       "renew_before_days = 60\n",
					       &err), 0);
	gm_policy_from_config(&cfg, &p);
	assert_int_equal(p.renew_before_days, 60);
	assert_int_equal(at(&p, T_2025, T_2030, T_2030 - 61 * DAY).renewal,
			 GM_RENEWAL_NOT_DUE);
	gm_config_release(&cfg);
}

static void window_opens(void **state)
{
	gm_policy p;
	gm_verdict v;

	(void)state;
	gm_policy_defaults(&p);
	v = at(&p, T_2025, T_2030, T_2030 - 90 * DAY - 1);
	CHECK(v, GM_STATUS_VALID, GM_RENEWAL_NOT_DUE, 90);
	v = at(&p, T_2025, T_2030, T_2030 - 90 * DAY);
	CHECK(v, GM_STATUS_EXPIRING, GM_RENEWAL_ONLINE, 90);
	v = at(&p, T_2025, T_2030, T_2030 - 90 * DAY + 1);
	CHECK(v, GM_STATUS_EXPIRING, GM_RENEWAL_ONLINE, 89);
	v = at(&p, T_2025, T_2030, T_2025);
	CHECK(v, GM_STATUS_VALID, GM_RENEWAL_NOT_DUE, 1826);
}

static void expiry_instant(void **state)
{
	gm_policy p;
	gm_verdict v;

	(void)state;
	gm_policy_defaults(&p);
	v = at(&p, T_2025, T_2030, T_2030 - 1);
	CHECK(v, GM_STATUS_EXPIRING, GM_RENEWAL_ONLINE, 0);
	v = at(&p, T_2025, T_2030, T_2030);
	CHECK(v, GM_STATUS_EXPIRING, GM_RENEWAL_ONLINE, 0);
	v = at(&p, T_2025, T_2030, T_2030 + 1);
	CHECK(v, GM_STATUS_EXPIRED, GM_RENEWAL_ONLINE, -1);
}

static void window_closes(void **state)
{
	gm_policy p;
	gm_verdict v;

	(void)state;
	gm_policy_defaults(&p);
	v = at(&p, T_2025, T_2030, T_2030 + 90 * DAY - 1);
	CHECK(v, GM_STATUS_EXPIRED, GM_RENEWAL_ONLINE, -90);
	v = at(&p, T_2025, T_2030, T_2030 + 90 * DAY);
	CHECK(v, GM_STATUS_EXPIRED, GM_RENEWAL_ONLINE, -90);
	v = at(&p, T_2025, T_2030, T_2030 + 90 * DAY + 1);
	CHECK(v, GM_STATUS_EXPIRED, GM_RENEWAL_OFFLINE_ONLY, -91);
	v = at(&p, T_2025, T_2030, T_2030 + 3650 * DAY);
	CHECK(v, GM_STATUS_EXPIRED, GM_RENEWAL_OFFLINE_ONLY, -3650);
}

static void not_yet_valid(void **state)
{
	gm_policy p;
	gm_verdict v;

	(void)state;
	gm_policy_defaults(&p);
	v = at(&p, T_2025, T_2030, T_2025 - 1);
	CHECK(v, GM_STATUS_NOT_YET_VALID, GM_RENEWAL_NOT_DUE, 1826);
	v = at(&p, T_2025, T_2030, T_2025);
	CHECK(v, GM_STATUS_VALID, GM_RENEWAL_NOT_DUE, 1826);
	/* a short certificate not yet valid but already inside the window */
	v = at(&p, T_2030 - 10 * DAY, T_2030, T_2030 - 20 * DAY);
	CHECK(v, GM_STATUS_NOT_YET_VALID, GM_RENEWAL_ONLINE, 20);
}

static void leap_day(void **state)
{
	gm_policy p;
	gm_verdict v;

	(void)state;
	gm_policy_defaults(&p);
	/* 90 days before 2028-02-29 is 2027-12-01 (Feb 2028 has 29 days) */
	v = at(&p, T_2025, LEAP_NA, LEAP_OPEN - 1);
	CHECK(v, GM_STATUS_VALID, GM_RENEWAL_NOT_DUE, 90);
	v = at(&p, T_2025, LEAP_NA, LEAP_OPEN);
	CHECK(v, GM_STATUS_EXPIRING, GM_RENEWAL_ONLINE, 90);
	v = at(&p, T_2025, LEAP_NA, LEAP_NA - DAY / 2);
	CHECK(v, GM_STATUS_EXPIRING, GM_RENEWAL_ONLINE, 0);
	/* 90 days after 2028-02-29 is 2028-05-29 */
	v = at(&p, T_2025, LEAP_NA, LEAP_CLOSE);
	CHECK(v, GM_STATUS_EXPIRED, GM_RENEWAL_ONLINE, -90);
	v = at(&p, T_2025, LEAP_NA, LEAP_CLOSE + 1);
	CHECK(v, GM_STATUS_EXPIRED, GM_RENEWAL_OFFLINE_ONLY, -91);
}

static void days_left_rounding(void **state)
{
	gm_policy p;

	(void)state;
	gm_policy_defaults(&p);
	assert_int_equal(at(&p, T_2025, T_2030, T_2030 - DAY - 1).days_left, 1);
	assert_int_equal(at(&p, T_2025, T_2030, T_2030 - DAY).days_left, 1);
	assert_int_equal(at(&p, T_2025, T_2030, T_2030 - DAY + 1).days_left, 0);
	assert_int_equal(at(&p, T_2025, T_2030, T_2030 + DAY - 1).days_left, -1);
	assert_int_equal(at(&p, T_2025, T_2030, T_2030 + DAY).days_left, -1);
	assert_int_equal(at(&p, T_2025, T_2030, T_2030 + DAY + 1).days_left, -2);
}

static void custom_windows(void **state)
{
	gm_policy p;
	gm_verdict v;

	(void)state;
	gm_policy_defaults(&p);
	p.renew_before_days = 30;
	p.renew_after_days = 0;
	v = at(&p, T_2025, T_2030, T_2030 - 31 * DAY);
	CHECK(v, GM_STATUS_VALID, GM_RENEWAL_NOT_DUE, 31);
	v = at(&p, T_2025, T_2030, T_2030 - 30 * DAY);
	CHECK(v, GM_STATUS_EXPIRING, GM_RENEWAL_ONLINE, 30);
	v = at(&p, T_2025, T_2030, T_2030);
	CHECK(v, GM_STATUS_EXPIRING, GM_RENEWAL_ONLINE, 0);
	v = at(&p, T_2025, T_2030, T_2030 + 1);
	CHECK(v, GM_STATUS_EXPIRED, GM_RENEWAL_OFFLINE_ONLY, -1);

	p.renew_before_days = 0;
	p.renew_after_days = 3650;
	v = at(&p, T_2025, T_2030, T_2030 - 1);
	CHECK(v, GM_STATUS_VALID, GM_RENEWAL_NOT_DUE, 0);
	v = at(&p, T_2025, T_2030, T_2030);
	CHECK(v, GM_STATUS_EXPIRING, GM_RENEWAL_ONLINE, 0);
	v = at(&p, T_2025, T_2030, T_2030 + 3650 * DAY);
	CHECK(v, GM_STATUS_EXPIRED, GM_RENEWAL_ONLINE, -3650);
}

static void names(void **state)
{
	(void)state;
	assert_string_equal(gm_status_name(GM_STATUS_NOT_YET_VALID),
			    "not_yet_valid");
	assert_string_equal(gm_status_name(GM_STATUS_VALID), "valid");
	assert_string_equal(gm_status_name(GM_STATUS_EXPIRING), "expiring");
	assert_string_equal(gm_status_name(GM_STATUS_EXPIRED), "expired");
	assert_string_equal(gm_status_name((gm_cert_status)99), "unknown");
	assert_string_equal(gm_renewal_name(GM_RENEWAL_NOT_DUE), "not_due");
	assert_string_equal(gm_renewal_name(GM_RENEWAL_ONLINE), "online");
	assert_string_equal(gm_renewal_name(GM_RENEWAL_OFFLINE_ONLY),
			    "offline_only");
	assert_string_equal(gm_renewal_name((gm_renewal_kind)99), "unknown");
}

/* ---- the post-renewal check ---- */

static const unsigned char key_old[32] = { 1, 2, 3 };
static const unsigned char key_new[32] = { 9, 8, 7 };
#define SUBJ "CN=JSB0000@IST@30,OU=\xe6\xb7\xb1\xe8\xaf\x81\xe9\x80\x9a,OU=CCNET,O=SSCCCA,C=CN"
#define NOW (T_2030 - 10 * DAY)

struct pair {
	gm_policy p;
	gm_policy_cert old, fresh;
	char why[256];
};

/* A good renewal: new key, same subject, valid now, 1826 days later. */
static void good_pair(struct pair *c)
{
	memset(c, 0, sizeof(*c));
	gm_policy_defaults(&c->p);
	c->old.subject = SUBJ;
	c->old.spki_sha256 = key_old;
	c->old.not_before = T_2025;
	c->old.not_after = T_2030;
	c->fresh.subject = SUBJ;
	c->fresh.spki_sha256 = key_new;
	c->fresh.not_before = NOW - 60;
	c->fresh.not_after = T_2030 + 1826 * DAY;
}

static unsigned check(struct pair *c)
{
	strcpy(c->why, "stale");
	return gm_policy_check_renewal(&c->p, &c->old, &c->fresh, NOW, c->why,
				       sizeof(c->why));
}

static void renewal_good(void **state)
{
	struct pair c;

	(void)state;
	good_pair(&c);
	assert_int_equal(check(&c), 0);
	assert_string_equal(c.why, "");
	/* why may be NULL */
	assert_int_equal(gm_policy_check_renewal(&c.p, &c.old, &c.fresh, NOW,
						 NULL, 0), 0);
}

static void renewal_subject(void **state)
{
	struct pair c;

	(void)state;
	good_pair(&c);
	c.fresh.subject = "CN=JSB0001@IST@30,OU=CCNET,O=SSCCCA,C=CN";
	assert_int_equal(check(&c), GM_RENEW_SUBJECT_CHANGED);
	assert_non_null(strstr(c.why, "subject"));
	assert_non_null(strstr(c.why, "JSB0001"));
	c.fresh.subject = NULL;
	assert_int_equal(check(&c), GM_RENEW_SUBJECT_CHANGED);
}

static void renewal_same_key(void **state)
{
	struct pair c;

	(void)state;
	good_pair(&c);
	c.fresh.spki_sha256 = key_old;
	assert_int_equal(check(&c), GM_RENEW_SAME_KEY);
	assert_non_null(strstr(c.why, "key"));
}

static void renewal_not_before(void **state)
{
	struct pair c;

	(void)state;
	good_pair(&c);
	c.fresh.not_before = NOW + 300;
	assert_int_equal(check(&c), 0);
	c.fresh.not_before = NOW + 301;
	assert_int_equal(check(&c), GM_RENEW_NOT_BEFORE_FUTURE);
	assert_non_null(strstr(c.why, "301 seconds"));
	c.p.clock_skew_seconds = 0;
	c.fresh.not_before = NOW;
	assert_int_equal(check(&c), 0);
	c.fresh.not_before = NOW + 1;
	assert_int_equal(check(&c), GM_RENEW_NOT_BEFORE_FUTURE);
}

static void renewal_extension_edges(void **state)
{
	struct pair c;

	(void)state;
	good_pair(&c);
	c.fresh.not_after = T_2030 + (1826 - 31) * DAY;
	assert_int_equal(check(&c), 0);
	c.fresh.not_after = T_2030 + (1826 - 31) * DAY - 1;
	assert_int_equal(check(&c), GM_RENEW_EXTENSION_SHORT);
	assert_non_null(strstr(c.why, "1826"));
	assert_non_null(strstr(c.why, "1795"));
	c.fresh.not_after = T_2030 + (1826 + 31) * DAY;
	assert_int_equal(check(&c), 0);
	c.fresh.not_after = T_2030 + (1826 + 31) * DAY + 1;
	assert_int_equal(check(&c), GM_RENEW_EXTENSION_LONG);
	assert_non_null(strstr(c.why, "1857"));
	/* the same notAfter: no extension at all */
	c.fresh.not_after = T_2030;
	assert_int_equal(check(&c), GM_RENEW_EXTENSION_SHORT);
	assert_non_null(strstr(c.why, "0.0 days"));
	/* custom: one year, no tolerance */
	c.p.extension_days = 365;
	c.p.extension_tolerance_days = 0;
	c.fresh.not_after = T_2030 + 365 * DAY;
	assert_int_equal(check(&c), 0);
	c.fresh.not_after = T_2030 + 365 * DAY + 1;
	assert_int_equal(check(&c), GM_RENEW_EXTENSION_LONG);
}

static void renewal_several(void **state)
{
	struct pair c;

	(void)state;
	good_pair(&c);
	c.fresh.subject = "CN=other";
	c.fresh.spki_sha256 = key_old;
	c.fresh.not_before = NOW + DAY;
	c.fresh.not_after = T_2030;
	assert_int_equal(check(&c), GM_RENEW_SUBJECT_CHANGED | GM_RENEW_SAME_KEY |
			 GM_RENEW_NOT_BEFORE_FUTURE | GM_RENEW_EXTENSION_SHORT);
	/* the sentence names the first failed rule */
	assert_non_null(strstr(c.why, "subject"));
	/* a tiny buffer is still terminated */
	assert_int_not_equal(gm_policy_check_renewal(&c.p, &c.old, &c.fresh,
						     NOW, c.why, 8), 0);
	assert_int_equal(strlen(c.why), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(window_opens),
		cmocka_unit_test(expiry_instant),
		cmocka_unit_test(window_closes),
		cmocka_unit_test(not_yet_valid),
		cmocka_unit_test(leap_day),
		cmocka_unit_test(days_left_rounding),
		cmocka_unit_test(custom_windows),
		cmocka_unit_test(names),
		cmocka_unit_test(renewal_good),
		cmocka_unit_test(renewal_subject),
		cmocka_unit_test(renewal_same_key),
		cmocka_unit_test(renewal_not_before),
		cmocka_unit_test(renewal_extension_edges),
		cmocka_unit_test(renewal_several),
		cmocka_unit_test(defaults_are_the_config_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
