/*
 * profile.c - vendor profiles as data: the key type, mechanisms, curve, USB
 * identity and driver file names of a kind of token. The built-in values
 * can be changed, and new profiles defined, in the configuration file's
 * [profile.NAME] sections (docs/token-profiles.md).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <p11-kit/pkcs11.h>

#include "token_internal.h"

#define EPASS_CKK_SM2		0x80000200UL
#define EPASS_CKM_SM2_KEYGEN	0x80000201UL
#define EPASS_CKM_SM2_SIGN	0x80000202UL
#define EPASS_CKA_CONTAINER_NAME 0x80455053UL
#define EPASS_CKO_CONTAINER 0x8043544EUL	/* feitian-driver.md */

/* DER OBJECT IDENTIFIERs of the two curves. */
#define OID_SM2P256V1 { 0x06, 0x08, 0x2A, 0x81, 0x1C, 0xCF, 0x55, 0x01, 0x82, 0x2D }
#define OID_PRIME256V1 { 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07 }
#define OID_LEN 10
static const unsigned char oid_sm2p256v1[OID_LEN] = OID_SM2P256V1;
static const unsigned char oid_prime256v1[OID_LEN] = OID_PRIME256V1;

/* The built-in profiles, as the profile type itself (n_libraries and the
 * SKF side are filled in when one is taken). The driver's file names and
 * places are best guesses: FEITIAN ships no fixed install path
 * (docs/token-profiles.md). */
static const gm_profile builtins[] = {
	{
		.name = "epass3000gm",
		.key_type = EPASS_CKK_SM2,
		.keygen_mechanism = EPASS_CKM_SM2_KEYGEN,
		.sign_mechanism = EPASS_CKM_SM2_SIGN,
		.scheme = GM_SIG_SM2_SM3,
		.sign_input_max = GM_DIGEST_LEN,
		.ec_params = OID_SM2P256V1,
		.ec_params_len = OID_LEN,
		.usb_vendor = 0x096E,
		.usb_product = 0x0309,
		.pin_max_tries = 6,
		/* shared/reference/feitian-driver.md */
		.public_key = GM_PUBKEY_MODULUS_XY,
		.signature = GM_SIGFMT_SKF_BLOB,
		.keygen_modulus_bits = 256,
		.keygen_ec_params = 0,
		.container_attr = EPASS_CKA_CONTAINER_NAME,
		.container_class = EPASS_CKO_CONTAINER,
		.envelope_key_type = CKK_GENERIC_SECRET,
		.module_manufacturer = "Feitian Technologies Co., Ltd.",
		.token_manufacturer = "EnterSafe USB Key",
		.token_model = "ePass3000GM",
		.libraries = {
			"libes_3000gm.so",
			"libes_3000gm.so.1.0.0",
			"/opt/ePass3000GM/lib/libes_3000gm.so",
			"/opt/FEITIAN/ePass3000GM/lib/libes_3000gm.so",
			"/opt/ftsafe/lib/libes_3000gm.so",
		},
	},
	{
		.name = "pkcs11-ec",
		.key_type = CKK_EC,
		.keygen_mechanism = CKM_EC_KEY_PAIR_GEN,
		.sign_mechanism = CKM_ECDSA,
		.scheme = GM_SIG_ECDSA_SHA256,
		.sign_input_max = GM_DIGEST_LEN,
		.ec_params = OID_PRIME256V1,
		.ec_params_len = OID_LEN,
		.public_key = GM_PUBKEY_EC_POINT,
		.signature = GM_SIGFMT_RAW,
		.keygen_ec_params = 1,
		.envelope_key_type = CKK_GENERIC_SECRET,
	},
};

#define N_BUILTINS (sizeof(builtins) / sizeof(builtins[0]))

static const char *const builtin_names[] = { "epass3000gm", "pkcs11-ec", NULL };

const char *const *gm_profile_builtin_names(void)
{
	return builtin_names;
}

static void profile_from_builtin(const gm_profile *b, gm_profile *p)
{
	*p = *b;
	for (p->n_libraries = 0; p->n_libraries < GM_PROFILE_MAX_LIBS &&
	     p->libraries[p->n_libraries][0]; p->n_libraries++)
		;
	gm_skf_abi_builtin(b->name, &p->skf);
}

static const gm_profile *builtin_find(const char *name)
{
	size_t i;

	for (i = 0; i < N_BUILTINS; i++)
		if (!strcmp(builtins[i].name, name))
			return &builtins[i];
	return NULL;
}

static int bad_value(gm_error *err, const char *section, const char *key,
		     const char *value, const char *expected)
{
	return gm_fail(err, GM_EXIT_USAGE,
		       "correct the value; /usr/share/doc/gmrenew/token-profiles.md lists the keys",
		       "configuration section '[profile.%s]', key '%s': "
		       "'%s' is not %s", section, key, value, expected);
}

/* 0x.. hex or decimal, at most max. */
static int parse_number(const char *value, unsigned long long max,
			unsigned long long *out)
{
	const char *s = value;
	char *end;
	int base = 10;

	while (isspace((unsigned char)*s))
		s++;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!isxdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*out = strtoull(s, &end, base);
	while (isspace((unsigned char)*end))
		end++;
	if (errno || *end || *out > max)
		return -1;
	return 0;
}

/* A DER OBJECT IDENTIFIER that fits in the profile. */
static int parse_ec_params(const char *value, gm_profile *p)
{
	unsigned char *der = NULL;
	size_t len = 0;

	if (!strcasecmp(value, "sm2") || !strcasecmp(value, "sm2p256v1")) {
		memcpy(p->ec_params, oid_sm2p256v1, sizeof(oid_sm2p256v1));
		p->ec_params_len = sizeof(oid_sm2p256v1);
		return 0;
	}
	if (!strcasecmp(value, "p256") || !strcasecmp(value, "p-256") ||
	    !strcasecmp(value, "prime256v1") ||
	    !strcasecmp(value, "secp256r1")) {
		memcpy(p->ec_params, oid_prime256v1, sizeof(oid_prime256v1));
		p->ec_params_len = sizeof(oid_prime256v1);
		return 0;
	}
	if (gm_unhex(value, &der, &len) < 0)
		return -1;
	if (len < 3 || len > sizeof(p->ec_params) || der[0] != 0x06 ||
	    der[1] != len - 2) {
		free(der);
		return -1;
	}
	memcpy(p->ec_params, der, len);
	p->ec_params_len = len;
	free(der);
	return 0;
}

static int parse_libraries(const char *value, gm_profile *p)
{
	char *copy = gm_xstrdup(value), *save = NULL, *tok;
	size_t n = 0;
	int ret = -1;

	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *end;

		while (isspace((unsigned char)*tok))
			tok++;
		end = tok + strlen(tok);
		while (end > tok && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (!*tok)
			continue;
		if (n == GM_PROFILE_MAX_LIBS || strlen(tok) >= sizeof(p->libraries[0]))
			goto out;
		snprintf(p->libraries[n++], sizeof(p->libraries[0]), "%s", tok);
	}
	for (size_t i = n; i < GM_PROFILE_MAX_LIBS; i++)
		p->libraries[i][0] = '\0';
	p->n_libraries = n;
	ret = 0;
out:
	free(copy);
	return ret;
}

/* One of names[] (NULL-terminated); its index, or -1. */
static int pick(const char *value, const char *const *names)
{
	int i;

	for (i = 0; names[i]; i++)
		if (!strcmp(value, names[i]))
			return i;
	return -1;
}

static int set_string(char *dst, size_t size, const char *section,
		      const char *key, const char *value, gm_error *err)
{
	if (strlen(value) >= size)
		return bad_value(err, section, key, value,
				 "a string that fits the PKCS#11 field");
	snprintf(dst, size, "%s", value);
	return 0;
}

/* The keys that say how the token keeps keys and signatures, and who it
 * is; 1 when key is not one of them. */
static int apply_format_kv(gm_profile *p, const char *section,
			   const char *key, const char *value, gm_error *err)
{
	static const char *const pubs[] = { "ec_point", "modulus", NULL };
	static const char *const sigs[] = { "raw", "skf-blob", "der", NULL };
	static const char *const yesno[] = { "no", "yes", NULL };
	unsigned long long v;
	int i;

	if (!strcmp(key, "public_key")) {
		if ((i = pick(value, pubs)) < 0)
			return bad_value(err, section, key, value,
					 "'ec_point' or 'modulus'");
		p->public_key = i ? GM_PUBKEY_MODULUS_XY : GM_PUBKEY_EC_POINT;
		return 0;
	}
	if (!strcmp(key, "signature")) {
		if ((i = pick(value, sigs)) < 0)
			return bad_value(err, section, key, value,
					 "'raw', 'skf-blob' or 'der'");
		p->signature = i == 0 ? GM_SIGFMT_RAW :
			       i == 1 ? GM_SIGFMT_SKF_BLOB : GM_SIGFMT_DER;
		return 0;
	}
	if (!strcmp(key, "keygen_ec_params")) {
		if ((i = pick(value, yesno)) < 0)
			return bad_value(err, section, key, value,
					 "'yes' or 'no'");
		p->keygen_ec_params = i;
		return 0;
	}
	if (!strcmp(key, "keygen_modulus_bits")) {
		if (parse_number(value, 16384, &v) < 0)
			return bad_value(err, section, key, value,
					 "a number from 0 (not sent) to 16384");
		p->keygen_modulus_bits = (CK_ULONG)v;
		return 0;
	}
	if (!strcmp(key, "container_attribute")) {
		if (parse_number(value, 0xFFFFFFFFULL, &v) < 0)
			return bad_value(err, section, key, value,
					 "an attribute number (0 = none)");
		p->container_attr = (CK_ATTRIBUTE_TYPE)v;
		return 0;
	}
	if (!strcmp(key, "module_manufacturer"))
		return set_string(p->module_manufacturer,
				  sizeof(p->module_manufacturer), section, key,
				  value, err);
	if (!strcmp(key, "token_manufacturer"))
		return set_string(p->token_manufacturer,
				  sizeof(p->token_manufacturer), section, key,
				  value, err);
	if (!strcmp(key, "token_model"))
		return set_string(p->token_model, sizeof(p->token_model),
				  section, key, value, err);
	return 1;
}

int gm_profile_unwraps(const gm_profile *p)
{
	return p && p->envelope_unwrap_sm2 && p->envelope_unwrap_sm4;
}

/* The numbers of the enveloped key's import through PKCS#11; 1 when key
 * is not one of them. */
static int apply_envelope_kv(gm_profile *p, const char *section,
			     const char *key, const char *value, gm_error *err)
{
	unsigned long *dst;
	unsigned long long v;

	if (!strcmp(key, "envelope_unwrap_sm2"))
		dst = &p->envelope_unwrap_sm2;
	else if (!strcmp(key, "envelope_unwrap_sm4"))
		dst = &p->envelope_unwrap_sm4;
	else if (!strcmp(key, "envelope_key_type"))
		dst = &p->envelope_key_type;
	else
		return 1;
	if (parse_number(value, 0xFFFFFFFFULL, &v) < 0)
		return bad_value(err, section, key, value,
				 "a number (0x.. hex or decimal; 0 = none)");
	*dst = (unsigned long)v;
	return 0;
}

int gm_profile_apply_kv(gm_profile *p, const char *section, const char *key,
			const char *value, gm_error *err)
{
	unsigned long long v;
	int r;

	if (!strcmp(key, "base"))
		return 0;	/* used when the profile is made */
	r = apply_format_kv(p, section, key, value, err);
	if (r <= 0)
		return r;
	r = gm_skf_profile_kv(&p->skf, section, key, value, err);
	if (r <= 0)
		return r;
	r = apply_envelope_kv(p, section, key, value, err);
	if (r <= 0)
		return r;
	if (!strcmp(key, "key_type") || !strcmp(key, "keygen_mechanism") ||
	    !strcmp(key, "sign_mechanism")) {
		if (parse_number(value, 0xFFFFFFFFULL, &v) < 0)
			return bad_value(err, section, key, value,
					 "a number (0x.. hex or decimal)");
		if (!strcmp(key, "key_type"))
			p->key_type = (CK_KEY_TYPE)v;
		else if (!strcmp(key, "keygen_mechanism"))
			p->keygen_mechanism = (CK_MECHANISM_TYPE)v;
		else
			p->sign_mechanism = (CK_MECHANISM_TYPE)v;
		return 0;
	}
	if (!strcmp(key, "sign_input_max")) {
		if (parse_number(value, 4096, &v) < 0 || v < 1)
			return bad_value(err, section, key, value,
					 "a number from 1 to 4096");
		p->sign_input_max = (size_t)v;
		return 0;
	}
	if (!strcmp(key, "pin_max_tries")) {
		if (parse_number(value, 255, &v) < 0)
			return bad_value(err, section, key, value,
					 "a number from 0 (unknown) to 255");
		p->pin_max_tries = (unsigned)v;
		return 0;
	}
	if (!strcmp(key, "usb_vendor") || !strcmp(key, "usb_product")) {
		if (parse_number(value, 0xFFFF, &v) < 0)
			return bad_value(err, section, key, value,
					 "a USB id from 0 to 0xffff");
		if (!strcmp(key, "usb_vendor"))
			p->usb_vendor = (uint16_t)v;
		else
			p->usb_product = (uint16_t)v;
		return 0;
	}
	if (!strcmp(key, "scheme")) {
		if (!strcmp(value, "sm2-sm3"))
			p->scheme = GM_SIG_SM2_SM3;
		else if (!strcmp(value, "ecdsa-sha256"))
			p->scheme = GM_SIG_ECDSA_SHA256;
		else
			return bad_value(err, section, key, value,
					 "'sm2-sm3' or 'ecdsa-sha256'");
		return 0;
	}
	if (!strcmp(key, "ec_params")) {
		if (parse_ec_params(value, p) < 0)
			return bad_value(err, section, key, value,
					 "'sm2', 'p256' or the hex of a DER "
					 "OBJECT IDENTIFIER of at most 16 bytes");
		return 0;
	}
	if (!strcmp(key, "libraries")) {
		if (parse_libraries(value, p) < 0)
			return bad_value(err, section, key, value,
					 "a comma-separated list of at most 8 "
					 "library names or paths");
		return 0;
	}
	return gm_fail(err, GM_EXIT_USAGE,
		       "use key_type, keygen_mechanism, sign_mechanism, "
		       "scheme, sign_input_max, pin_max_tries, ec_params, "
		       "public_key, signature, keygen_modulus_bits, "
		       "keygen_ec_params, container_attribute, "
		       "module_manufacturer, token_manufacturer, token_model, "
		       "usb_vendor, usb_product, libraries, skf_ulong, "
		       "skf_bool, skf_packing, skf_sm2_sign_alg, "
		       "skf_sm3_alg, skf_application, envelope_unwrap_sm2, "
		       "envelope_unwrap_sm4, envelope_key_type or base",
		       "configuration section '[profile.%s]': unknown key '%s'",
		       section, key);
}

static const char *config_base(const gm_config *cfg, const char *name)
{
	const char *base = NULL;
	size_t i;

	for (i = 0; cfg && i < cfg->n_profile_kv; i++)
		if (!strcmp(cfg->profile_kv[i].section, name) &&
		    !strcmp(cfg->profile_kv[i].key, "base"))
			base = cfg->profile_kv[i].value;
	return base;
}

static int config_defines(const gm_config *cfg, const char *name)
{
	size_t i;

	for (i = 0; cfg && i < cfg->n_profile_kv; i++)
		if (!strcmp(cfg->profile_kv[i].section, name))
			return 1;
	return 0;
}

static int profile_make(const char *name, const gm_config *cfg, int depth,
			gm_profile *out, gm_error *err)
{
	const gm_profile *b = builtin_find(name);
	const char *base;
	size_t i;

	if (strlen(name) >= sizeof(out->name))
		return gm_fail(err, GM_EXIT_USAGE, NULL,
			       "token profile name '%s' is too long", name);
	base = b ? NULL : config_base(cfg, name);
	if (b) {
		profile_from_builtin(b, out);
	} else if (base) {
		if (depth > 8 || !strcmp(base, name))
			return gm_fail(err, GM_EXIT_USAGE,
				       "make the 'base' keys form no loop",
				       "configuration section '[profile.%s]', "
				       "key 'base': '%s' leads to a loop",
				       name, base);
		if (profile_make(base, cfg, depth + 1, out, err) < 0)
			return -1;
		snprintf(out->name, sizeof(out->name), "%s", name);
		/* the identity is the base product's, not the new one's */
		out->module_manufacturer[0] = '\0';
		out->token_manufacturer[0] = '\0';
		out->token_model[0] = '\0';
	} else if (config_defines(cfg, name)) {
		return gm_fail(err, GM_EXIT_USAGE,
			       "add 'base = epass3000gm' or 'base = pkcs11-ec'",
			       "configuration section '[profile.%s]' defines a "
			       "new profile but has no 'base' key", name);
	} else {
		return gm_fail(err, GM_EXIT_USAGE,
			       "use 'epass3000gm' or 'pkcs11-ec', or define "
			       "[profile.NAME] with 'base = ...' in the "
			       "configuration file",
			       "unknown token profile '%s'", name);
	}
	for (i = 0; cfg && i < cfg->n_profile_kv; i++) {
		const gm_config_kv *kv = &cfg->profile_kv[i];

		if (strcmp(kv->section, name))
			continue;
		if (gm_profile_apply_kv(out, kv->section, kv->key, kv->value,
					err) < 0)
			return -1;
	}
	if (depth == 0 &&
	    !out->envelope_unwrap_sm2 != !out->envelope_unwrap_sm4)
		return gm_fail(err, GM_EXIT_USAGE,
			       "name both envelope_unwrap_sm2 and "
			       "envelope_unwrap_sm4, or neither",
			       "configuration section '[profile.%s]' names one "
			       "of the two unwrap mechanisms of the enveloped "
			       "key only", name);
	/* the opened key joins the signing pair's container by its name */
	if (depth == 0 && gm_profile_unwraps(out) && !out->container_attr)
		return gm_fail(err, GM_EXIT_USAGE,
			       "name the token's container attribute "
			       "(container_attribute) too, or remove the "
			       "unwrap mechanisms",
			       "configuration section '[profile.%s]' names "
			       "unwrap mechanisms for the enveloped key but no "
			       "container attribute: the encryption key pair "
			       "could not join its signing pair's container",
			       name);
	return 0;
}

const char *gm_profile_builtin_base(const char *name, const gm_config *cfg)
{
	int depth;

	/* as profile_make: a built-in name is that profile (a 'base' key in
	 * its section is not followed), and as many 'base' steps */
	for (depth = 0; name && depth <= 9; depth++) {
		const gm_profile *b = builtin_find(name);

		if (b)
			return b->name;
		name = config_base(cfg, name);
	}
	return NULL;
}

int gm_profile_get(const char *name, const gm_config *cfg, gm_profile *out,
		   gm_error *err)
{
	if (!name)
		name = cfg && cfg->profile ? cfg->profile : "epass3000gm";
	return profile_make(name, cfg, 0, out, err);
}

/* The profiles the configuration defines, then the built-in vendor one. */
int gm_profile_candidates(const gm_config *cfg, gm_profile *out, size_t *n,
			  size_t max, gm_error *err)
{
	size_t i;

	*n = 0;
	for (i = 0; cfg && i < cfg->n_profile_kv && *n + 1 < max; i++) {
		const char *name = cfg->profile_kv[i].section;

		if (builtin_find(name) || (i > 0 && !strcmp(name,
				cfg->profile_kv[i - 1].section)))
			continue;
		if (gm_profile_get(name, cfg, &out[*n], err) < 0)
			return -1;
		if (out[*n].keygen_mechanism != CKM_EC_KEY_PAIR_GEN)
			(*n)++;
	}
	return gm_profile_get("epass3000gm", cfg, &out[(*n)++], err);
}

