/*
 * test_profile.c - the built-in vendor profiles and the configuration
 * file's [profile.NAME] overrides, good and bad.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <p11-kit/pkcs11.h>

#include "gmrenew/token.h"

static const unsigned char sm2_oid[] = {
	0x06, 0x08, 0x2A, 0x81, 0x1C, 0xCF, 0x55, 0x01, 0x82, 0x2D
};
static const unsigned char p256_oid[] = {
	0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07
};

static void load(gm_config *cfg, const char *text)
{
	gm_error err;

	gm_config_init(cfg);
	if (gm_config_load_string(cfg, text, &err) < 0)
		fail_msg("config: %s", err.msg);
}

static void builtin_names(void **state)
{
	const char *const *names = gm_profile_builtin_names();

	(void)state;
	assert_string_equal(names[0], "epass3000gm");
	assert_string_equal(names[1], "pkcs11-ec");
	assert_null(names[2]);
}

static void epass_defaults(void **state)
{
	gm_profile p;
	gm_error err;

	(void)state;
	assert_int_equal(gm_profile_get("epass3000gm", NULL, &p, &err), 0);
	assert_string_equal(p.name, "epass3000gm");
	assert_int_equal(p.key_type, 0x80000200UL);
	assert_int_equal(p.keygen_mechanism, 0x80000201UL);
	assert_int_equal(p.sign_mechanism, 0x80000202UL);
	assert_int_equal(p.scheme, GM_SIG_SM2_SM3);
	assert_int_equal(p.sign_input_max, 32);
	assert_int_equal(p.ec_params_len, sizeof(sm2_oid));
	assert_memory_equal(p.ec_params, sm2_oid, sizeof(sm2_oid));
	assert_int_equal(p.usb_vendor, 0x096E);
	assert_int_equal(p.usb_product, 0x0309);
	assert_int_equal(p.pin_max_tries, 6);
	assert_true(p.n_libraries >= 2);
	assert_string_equal(p.libraries[0], "libes_3000gm.so");
	assert_string_equal(p.libraries[1], "libes_3000gm.so.1.0.0");
	/* shared/reference/feitian-driver.md */
	assert_int_equal(p.public_key, GM_PUBKEY_MODULUS_XY);
	assert_int_equal(p.signature, GM_SIGFMT_SKF_BLOB);
	assert_int_equal(p.keygen_modulus_bits, 256);
	assert_false(p.keygen_ec_params);
	assert_int_equal(p.container_attr, 0x80455053UL);
	assert_string_equal(p.module_manufacturer,
			    "Feitian Technologies Co., Ltd.");
	assert_string_equal(p.token_manufacturer, "EnterSafe USB Key");
	assert_string_equal(p.token_model, "ePass3000GM");
}

/* The driver's quirks are configuration: each can be set back. */
static void format_overrides(void **state)
{
	gm_config cfg;
	gm_profile p;
	gm_error err;

	(void)state;
	load(&cfg, "[profile.epass3000gm]\npublic_key = ec_point\n"
		   "signature = raw\nkeygen_modulus_bits = 0\n"
		   "keygen_ec_params = yes\ncontainer_attribute = 0\n"
		   "module_manufacturer = Other Co.\ntoken_model = GM3000\n"
		   "token_manufacturer = \n");
	assert_int_equal(gm_profile_get("epass3000gm", &cfg, &p, &err), 0);
	assert_int_equal(p.public_key, GM_PUBKEY_EC_POINT);
	assert_int_equal(p.signature, GM_SIGFMT_RAW);
	assert_int_equal(p.keygen_modulus_bits, 0);
	assert_true(p.keygen_ec_params);
	assert_int_equal(p.container_attr, 0);
	assert_string_equal(p.module_manufacturer, "Other Co.");
	assert_string_equal(p.token_model, "GM3000");
	assert_string_equal(p.token_manufacturer, "");
	gm_config_release(&cfg);
	load(&cfg, "[profile.pkcs11-ec]\npublic_key = modulus\n"
		   "signature = der\n");
	assert_int_equal(gm_profile_get("pkcs11-ec", &cfg, &p, &err), 0);
	assert_int_equal(p.public_key, GM_PUBKEY_MODULUS_XY);
	assert_int_equal(p.signature, GM_SIGFMT_DER);
	gm_config_release(&cfg);
	load(&cfg, "[profile.pkcs11-ec]\nsignature = skf-blob\n");
	assert_int_equal(gm_profile_get("pkcs11-ec", &cfg, &p, &err), 0);
	assert_int_equal(p.signature, GM_SIGFMT_SKF_BLOB);
	gm_config_release(&cfg);
}

static void ec_defaults(void **state)
{
	gm_profile p;
	gm_error err;

	(void)state;
	assert_int_equal(gm_profile_get("pkcs11-ec", NULL, &p, &err), 0);
	assert_int_equal(p.key_type, CKK_EC);
	assert_int_equal(p.keygen_mechanism, CKM_EC_KEY_PAIR_GEN);
	assert_int_equal(p.sign_mechanism, CKM_ECDSA);
	assert_int_equal(p.scheme, GM_SIG_ECDSA_SHA256);
	assert_int_equal(p.sign_input_max, 32);
	assert_memory_equal(p.ec_params, p256_oid, sizeof(p256_oid));
	assert_int_equal(p.usb_vendor, 0);
	assert_int_equal(p.usb_product, 0);
	assert_int_equal(p.n_libraries, 0);
	assert_int_equal(p.public_key, GM_PUBKEY_EC_POINT);
	assert_int_equal(p.signature, GM_SIGFMT_RAW);
	assert_int_equal(p.keygen_modulus_bits, 0);
	assert_true(p.keygen_ec_params);
	assert_int_equal(p.container_attr, 0);
	assert_string_equal(p.module_manufacturer, "");
	assert_string_equal(p.token_model, "");
}

static void default_name(void **state)
{
	gm_config cfg;
	gm_profile p;
	gm_error err;

	(void)state;
	assert_int_equal(gm_profile_get(NULL, NULL, &p, &err), 0);
	assert_string_equal(p.name, "epass3000gm");
	load(&cfg, "[token]\nprofile = pkcs11-ec\n");
	assert_int_equal(gm_profile_get(NULL, &cfg, &p, &err), 0);
	assert_string_equal(p.name, "pkcs11-ec");
	gm_config_release(&cfg);
}

static void overrides(void **state)
{
	gm_config cfg;
	gm_profile p;
	gm_error err;

	(void)state;
	load(&cfg, "[profile.epass3000gm]\n"
		   "key_type = 0x80000300\n"
		   "keygen_mechanism = 2147484417\n"	/* 0x80000301 */
		   "sign_mechanism = 0X80000302\n"
		   "usb_product = 0x0303\n"
		   "ec_params = p256\n"
		   "pin_max_tries = 10\n"
		   "libraries = /opt/a/libx.so , liby.so,libz.so\n"
		   "[profile.pkcs11-ec]\n"
		   "scheme = sm2-sm3\n"
		   "ec_params = 06:08:2a:81:1c:cf:55:01:82:2d\n");
	assert_int_equal(gm_profile_get("epass3000gm", &cfg, &p, &err), 0);
	assert_int_equal(p.key_type, 0x80000300UL);
	assert_int_equal(p.keygen_mechanism, 0x80000301UL);
	assert_int_equal(p.sign_mechanism, 0x80000302UL);
	assert_int_equal(p.usb_vendor, 0x096E);
	assert_int_equal(p.usb_product, 0x0303);
	assert_int_equal(p.pin_max_tries, 10);
	assert_memory_equal(p.ec_params, p256_oid, sizeof(p256_oid));
	assert_int_equal(p.n_libraries, 3);
	assert_string_equal(p.libraries[0], "/opt/a/libx.so");
	assert_string_equal(p.libraries[1], "liby.so");
	assert_string_equal(p.libraries[2], "libz.so");
	assert_string_equal(p.libraries[3], "");

	assert_int_equal(gm_profile_get("pkcs11-ec", &cfg, &p, &err), 0);
	assert_int_equal(p.scheme, GM_SIG_SM2_SM3);
	assert_memory_equal(p.ec_params, sm2_oid, sizeof(sm2_oid));
	assert_int_equal(p.ec_params_len, sizeof(sm2_oid));
	gm_config_release(&cfg);
}

static void new_profile_with_base(void **state)
{
	gm_config cfg;
	gm_profile p;
	gm_error err;

	(void)state;
	load(&cfg, "[profile.mtoken]\n"
		   "base = epass3000gm\n"
		   "usb_vendor = 0x055C\n"
		   "usb_product = 0xE618\n"
		   "libraries = libgm3000.1.0.so\n"
		   "[profile.mtoken2]\n"
		   "base = mtoken\n"
		   "sign_mechanism = 0x8000a002\n");
	assert_int_equal(gm_profile_get("mtoken", &cfg, &p, &err), 0);
	assert_string_equal(p.name, "mtoken");
	assert_int_equal(p.key_type, 0x80000200UL);
	assert_int_equal(p.usb_vendor, 0x055C);
	assert_int_equal(p.usb_product, 0xE618);
	assert_int_equal(p.n_libraries, 1);
	/* FEITIAN's formats come along, FEITIAN's identity does not */
	assert_int_equal(p.public_key, GM_PUBKEY_MODULUS_XY);
	assert_string_equal(p.module_manufacturer, "");
	assert_string_equal(p.token_model, "");
	assert_int_equal(gm_profile_get("mtoken2", &cfg, &p, &err), 0);
	assert_string_equal(p.name, "mtoken2");
	assert_int_equal(p.usb_vendor, 0x055C);
	assert_int_equal(p.sign_mechanism, 0x8000a002UL);
	gm_config_release(&cfg);
}

/* A bad value: GM_EXIT_USAGE naming section, key and value. */
static void expect_bad(const char *section, const char *key,
		       const char *value)
{
	char *text = gm_xasprintf("[profile.%s]\n%s = %s\n", section, key,
				  value);
	char *want_section = gm_xasprintf("'[profile.%s]'", section);
	char *want_key = gm_xasprintf("'%s'", key);
	char *want_value = gm_xasprintf("'%s'", value);
	gm_config cfg;
	gm_profile p;
	gm_error err;

	load(&cfg, text);
	memset(&err, 0, sizeof(err));
	assert_int_equal(gm_profile_get(section, &cfg, &p, &err), -1);
	assert_int_equal(err.code, GM_EXIT_USAGE);
	if (!strstr(err.msg, want_section) || !strstr(err.msg, want_key) ||
	    !strstr(err.msg, want_value))
		fail_msg("message lacks section, key or value: %s", err.msg);
	assert_true(err.fix[0] != '\0');
	gm_config_release(&cfg);
	free(text);
	free(want_section);
	free(want_key);
	free(want_value);
}

static void bad_values(void **state)
{
	(void)state;
	expect_bad("epass3000gm", "key_type", "sm2");
	expect_bad("epass3000gm", "keygen_mechanism", "0x");
	expect_bad("epass3000gm", "sign_mechanism", "0x1FFFFFFFF");
	expect_bad("epass3000gm", "sign_mechanism", "12abc");
	expect_bad("epass3000gm", "sign_mechanism", "-1");
	expect_bad("epass3000gm", "usb_vendor", "0x10000");
	expect_bad("epass3000gm", "usb_product", "feitian");
	expect_bad("epass3000gm", "scheme", "sm2");
	expect_bad("pkcs11-ec", "ec_params", "secp384");
	expect_bad("pkcs11-ec", "ec_params", "0608");
	expect_bad("pkcs11-ec", "ec_params",
		   "06122a811ccf550182202a811ccf550182202a81");
	expect_bad("pkcs11-ec", "libraries", "a,b,c,d,e,f,g,h,i");
	expect_bad("pkcs11-ec", "sign_input_max", "0");
	expect_bad("pkcs11-ec", "pin_max_tries", "1000");
	expect_bad("epass3000gm", "public_key", "CKA_EC_POINT");
	expect_bad("epass3000gm", "signature", "blob");
	expect_bad("epass3000gm", "keygen_modulus_bits", "many");
	expect_bad("epass3000gm", "keygen_ec_params", "true");
	expect_bad("epass3000gm", "container_attribute", "0x1FFFFFFFF");
	expect_bad("epass3000gm", "token_model", "a model name longer than 16");
	expect_bad("epass3000gm", "envelope_unwrap_sm2", "0x1FFFFFFFF");
	expect_bad("epass3000gm", "envelope_unwrap_sm4", "sm4-ecb");
	expect_bad("epass3000gm", "envelope_key_type", "-1");
}

/* The enveloped key's mechanisms through PKCS#11: none built in, both
 * named by a derived profile, never one alone. */
static void unwrap_mechanisms(void **state)
{
	gm_config cfg;
	gm_profile p;
	gm_error err;

	(void)state;
	assert_int_equal(gm_profile_get("epass3000gm", NULL, &p, &err), 0);
	assert_false(gm_profile_unwraps(&p));
	assert_int_equal(p.envelope_key_type, 0x10);	/* CKK_GENERIC_SECRET */
	load(&cfg, "[profile.unwrap]\nbase = epass3000gm\n"
		   "envelope_unwrap_sm2 = 0x80000206\n"
		   "envelope_unwrap_sm4 = 2147484674\n"
		   "envelope_key_type = 0x80000100\n"
		   "[profile.half]\nbase = epass3000gm\n"
		   "envelope_unwrap_sm4 = 0x80000402\n"
		   "[profile.child]\nbase = half\n"
		   "envelope_unwrap_sm2 = 0x80000206\n"
		   "[profile.nocon]\nbase = pkcs11-ec\n"
		   "envelope_unwrap_sm2 = 0x80000206\n"
		   "envelope_unwrap_sm4 = 0x80000402\n"
		   "[profile.nocon2]\nbase = unwrap\n"
		   "container_attribute = 0\n");
	assert_int_equal(gm_profile_get("unwrap", &cfg, &p, &err), 0);
	assert_true(gm_profile_unwraps(&p));
	assert_int_equal(p.envelope_unwrap_sm2, 0x80000206UL);
	assert_int_equal(p.envelope_unwrap_sm4, 0x80000402UL);
	assert_int_equal(p.envelope_key_type, 0x80000100UL);
	assert_int_equal(gm_profile_get("half", &cfg, &p, &err), -1);
	assert_int_equal(err.code, GM_EXIT_USAGE);
	assert_non_null(strstr(err.msg, "one of the two unwrap mechanisms"));
	/* a profile built on it that names the other one is whole */
	assert_int_equal(gm_profile_get("child", &cfg, &p, &err), 0);
	assert_true(gm_profile_unwraps(&p));
	/* unwrapping needs the container attribute the pair joins by */
	assert_int_equal(gm_profile_get("nocon", &cfg, &p, &err), -1);
	assert_int_equal(err.code, GM_EXIT_USAGE);
	assert_non_null(strstr(err.msg, "no container attribute"));
	assert_int_equal(gm_profile_get("nocon2", &cfg, &p, &err), -1);
	assert_non_null(strstr(err.msg, "no container attribute"));
	gm_config_release(&cfg);
}

static void unknown_names(void **state)
{
	gm_config cfg;
	gm_profile p;
	gm_error err;

	(void)state;
	assert_int_equal(gm_profile_get("nosuch", NULL, &p, &err), -1);
	assert_int_equal(err.code, GM_EXIT_USAGE);
	assert_non_null(strstr(err.msg, "'nosuch'"));

	load(&cfg, "[profile.epass3000gm]\ncolour = red\n");
	assert_int_equal(gm_profile_get("epass3000gm", &cfg, &p, &err), -1);
	assert_int_equal(err.code, GM_EXIT_USAGE);
	assert_non_null(strstr(err.msg, "'colour'"));
	assert_non_null(strstr(err.msg, "[profile.epass3000gm]"));
	gm_config_release(&cfg);

	load(&cfg, "[profile.orphan]\nusb_vendor = 1\n");
	assert_int_equal(gm_profile_get("orphan", &cfg, &p, &err), -1);
	assert_int_equal(err.code, GM_EXIT_USAGE);
	assert_non_null(strstr(err.msg, "'base'"));
	gm_config_release(&cfg);

	load(&cfg, "[profile.a]\nbase = b\n[profile.b]\nbase = a\n");
	assert_int_equal(gm_profile_get("a", &cfg, &p, &err), -1);
	assert_int_equal(err.code, GM_EXIT_USAGE);
	assert_non_null(strstr(err.msg, "loop"));
	gm_config_release(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(builtin_names),
		cmocka_unit_test(epass_defaults),
		cmocka_unit_test(ec_defaults),
		cmocka_unit_test(default_name),
		cmocka_unit_test(overrides),
		cmocka_unit_test(format_overrides),
		cmocka_unit_test(new_profile_with_base),
		cmocka_unit_test(bad_values),
		cmocka_unit_test(unwrap_mechanisms),
		cmocka_unit_test(unknown_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
