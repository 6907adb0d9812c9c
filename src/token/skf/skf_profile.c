/*
 * skf_profile.c - the SKF side of a token profile: the library's ULONG and
 * BOOL widths, its structure packing, the algorithm ids and the
 * application, as data (docs/skf.md, docs/token-profiles.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skf_internal.h"

#define SGD_SM3			0x00000001UL
#define FEITIAN_SGD_SM2_1	0x00020100UL	/* feitian-driver.md */
#define GMT0006_SGD_SM2_1	0x00020200UL	/* GmSSL's sgd.h */

void gm_skf_abi_builtin(const char *profile, gm_skf_abi *out)
{
	memset(out, 0, sizeof(*out));
	out->sm3_alg = SGD_SM3;
	out->packed = 1;
	out->bool_size = 4;
	if (profile && !strcmp(profile, "epass3000gm")) {
		/* FEITIAN's x86-64 driver: 8-byte unsigned long */
		out->ulong_size = 8;
		out->sm2_sign_alg = FEITIAN_SGD_SM2_1;
	} else {
		/* what most published headers declare */
		out->ulong_size = 4;
		out->sm2_sign_alg = GMT0006_SGD_SM2_1;
	}
}

static int bad(gm_error *err, const char *section, const char *key,
	       const char *value, const char *expected)
{
	return gm_fail(err, GM_EXIT_USAGE,
		       "correct the value; /usr/share/doc/gmrenew/skf.md lists "
		       "the skf_* keys",
		       "configuration section '[profile.%s]', key '%s': "
		       "'%s' is not %s", section, key, value, expected);
}

static int number(const char *value, unsigned long max, unsigned long *out)
{
	char *end;

	if (!value[0] || value[0] == '-')
		return -1;
	errno = 0;
	*out = strtoul(value, &end, 0);
	return errno || *end || *out > max ? -1 : 0;
}

int gm_skf_profile_kv(gm_skf_abi *abi, const char *section, const char *key,
		      const char *value, gm_error *err)
{
	unsigned long v;

	if (!strcmp(key, "skf_ulong") || !strcmp(key, "skf_bool")) {
		if (number(value, 8, &v) < 0 || (v != 4 && v != 8))
			return bad(err, section, key, value, "4 or 8 (bytes)");
		if (!strcmp(key, "skf_ulong"))
			abi->ulong_size = (unsigned)v;
		else
			abi->bool_size = (unsigned)v;
		return 0;
	}
	if (!strcmp(key, "skf_packing")) {
		if (strcmp(value, "packed") && strcmp(value, "aligned"))
			return bad(err, section, key, value,
				   "'packed' or 'aligned'");
		abi->packed = !strcmp(value, "packed");
		return 0;
	}
	if (!strcmp(key, "skf_sm2_sign_alg") || !strcmp(key, "skf_sm3_alg")) {
		if (number(value, 0xFFFFFFFFUL, &v) < 0)
			return bad(err, section, key, value,
				   "an algorithm id (0x.. hex or decimal)");
		if (!strcmp(key, "skf_sm2_sign_alg"))
			abi->sm2_sign_alg = v;
		else
			abi->sm3_alg = v;
		return 0;
	}
	if (!strcmp(key, "skf_application")) {
		if (strlen(value) >= sizeof(abi->application))
			return bad(err, section, key, value,
				   "an application name of at most 32 bytes");
		snprintf(abi->application, sizeof(abi->application), "%s",
			 value);
		return 0;
	}
	return 1;
}
