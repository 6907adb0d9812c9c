/*
 * test_skf.c - the SKF backend's own parts: the SAR_* table, values at the
 * library's ULONG/BOOL width, name lists bounded by their size, DEVINFO at
 * FEITIAN's offsets, ECC blobs, the skf_* profile keys, and loading a
 * library that lacks a function or speaks no SKF at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include "../../src/token/skf/skf_internal.h"

struct code {
	skf_rv rv;
	const char *name;
};

#define C(x) { x, #x }
static const struct code all_codes[] = {
	C(SAR_OK), C(SAR_FAIL), C(SAR_UNKNOWNERR), C(SAR_NOTSUPPORTYETERR),
	C(SAR_FILEERR), C(SAR_INVALIDHANDLEERR), C(SAR_INVALIDPARAMERR),
	C(SAR_READFILEERR), C(SAR_WRITEFILEERR), C(SAR_NAMELENERR),
	C(SAR_KEYUSAGEERR), C(SAR_MODULUSLENERR), C(SAR_NOTINITIALIZEERR),
	C(SAR_OBJERR), C(SAR_MEMORYERR), C(SAR_TIMEOUTERR),
	C(SAR_INDATALENERR), C(SAR_INDATAERR), C(SAR_GENRANDERR),
	C(SAR_HASHOBJERR), C(SAR_HASHERR), C(SAR_GENRSAKEYERR),
	C(SAR_RSAMODULUSLENERR), C(SAR_CSPIMPRTPUBKEYERR), C(SAR_RSAENCERR),
	C(SAR_RSADECERR), C(SAR_HASHNOTEQUALERR), C(SAR_KEYNOTFOUNTERR),
	C(SAR_CERTNOTFOUNTERR), C(SAR_NOTEXPORTERR), C(SAR_DECRYPTPADERR),
	C(SAR_MACLENERR), C(SAR_BUFFER_TOO_SMALL), C(SAR_KEYINFOTYPEERR),
	C(SAR_NOT_EVENTERR), C(SAR_DEVICE_REMOVED), C(SAR_PIN_INCORRECT),
	C(SAR_PIN_LOCKED), C(SAR_PIN_INVALID), C(SAR_PIN_LEN_RANGE),
	C(SAR_USER_ALREADY_LOGGED_IN), C(SAR_USER_PIN_NOT_INITIALIZED),
	C(SAR_USER_TYPE_INVALID), C(SAR_APPLICATION_NAME_INVALID),
	C(SAR_APPLICATION_EXISTS), C(SAR_USER_NOT_LOGGED_IN),
	C(SAR_APPLICATION_NOT_EXISTS), C(SAR_FILE_ALREADY_EXIST),
	C(SAR_NO_ROOM), C(SAR_FILE_NOT_EXIST), C(SAR_REACH_MAX_CONTAINER_COUNT),
	C(SAR_CONTAINER_ALREADY_EXIST), C(SAR_CONTAINER_NOT_EXIST),
};
#undef C

static void every_code_named(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(all_codes) / sizeof(all_codes[0]); i++) {
		assert_string_equal(gm_sar_name(all_codes[i].rv),
				    all_codes[i].name);
		assert_true(strlen(gm_sar_meaning(all_codes[i].rv)) > 5);
		assert_null(strstr(gm_sar_meaning(all_codes[i].rv), "unknown "
				   "error 0x"));
	}
}

static void exit_codes(void **state)
{
	(void)state;
	assert_int_equal(gm_sar_exit(SAR_PIN_INCORRECT), GM_EXIT_PIN);
	assert_int_equal(gm_sar_exit(SAR_PIN_LOCKED), GM_EXIT_PIN);
	assert_int_equal(gm_sar_exit(SAR_PIN_LEN_RANGE), GM_EXIT_PIN);
	assert_int_equal(gm_sar_exit(SAR_DEVICE_REMOVED), GM_EXIT_ENV);
	assert_int_equal(gm_sar_exit(SAR_INVALIDHANDLEERR), GM_EXIT_ENV);
	assert_int_equal(gm_sar_exit(SAR_FAIL), GM_EXIT_FAILED);
	assert_int_equal(gm_sar_exit(SAR_NO_ROOM), GM_EXIT_FAILED);
}

static void unknown_and_message(void **state)
{
	gm_error err;

	(void)state;
	assert_string_equal(gm_sar_name(0x0B000001UL), "0x0b000001");
	assert_string_equal(gm_sar_meaning(0x0B000001UL),
			    "unknown error 0x0b000001");
	assert_string_equal(gm_sar_fix(0x0B000001UL), "");
	assert_int_equal(gm_sar_fail(&err, SAR_NO_ROOM, "creating a container"),
			 -1);
	assert_string_equal(err.msg, "creating a container failed: the device "
			    "has no room left (SAR_NO_ROOM)");
	assert_non_null(strstr(err.fix, "nothing was removed"));
	assert_int_equal(err.code, GM_EXIT_FAILED);
	assert_int_equal(err.detail, (long)SAR_NO_ROOM);
	assert_int_equal(err.reason, GM_REASON_SKF);
	assert_string_equal(err.outside, "SAR_NO_ROOM");
}

/* An SKF failure has a reason of its own ("skf", the SAR_ name as the
 * code), never PKCS#11's; the events callers branch on (a wrong PIN, a
 * locked PIN, the Ekey pulled out) have the reasons PKCS#11's give. */
static void typed_reasons(void **state)
{
	static const struct {
		skf_rv rv;
		gm_reason reason;
		const char *word;
	} cases[] = {
		{ SAR_FAIL, GM_REASON_SKF, "skf" },
		{ SAR_INVALIDPARAMERR, GM_REASON_SKF, "skf" },
		{ SAR_PIN_LEN_RANGE, GM_REASON_SKF, "skf" },
		{ SAR_PIN_INCORRECT, GM_REASON_PIN_INCORRECT, "CKR_PIN_INCORRECT" },
		{ SAR_PIN_LOCKED, GM_REASON_PIN_LOCKED, "pin_locked" },
		{ SAR_DEVICE_REMOVED, GM_REASON_TOKEN_REMOVED, "token_removed" },
		{ 0x0B000001UL, GM_REASON_SKF, "skf" },
	};
	gm_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gm_sar_fail(&err, cases[i].rv, "x");
		assert_int_equal(err.reason, cases[i].reason);
		assert_int_not_equal(err.reason, GM_REASON_PKCS11);
		assert_string_equal(gm_error_reason_name(&err), cases[i].word);
		assert_string_equal(gm_error_code(&err), gm_sar_name(cases[i].rv));
		assert_int_equal(err.detail, (long)cases[i].rv);
	}
	assert_string_equal(gm_reason_name(GM_REASON_SKF), "skf");
	gm_fail(&err, GM_EXIT_FAILED, NULL, "x");
	assert_null(gm_error_code(&err));
}

static void widths(void **state)
{
	gm_skf_abi a8, a4;
	skf_cell c;

	(void)state;
	gm_skf_abi_builtin("epass3000gm", &a8);
	gm_skf_abi_builtin("pkcs11-ec", &a4);
	/* a library with a 32-bit ULONG leaves the upper half undefined */
	assert_int_equal(gm_skf_rv(&a4, 0xDEADBEEF0A000024UL),
			 SAR_PIN_INCORRECT);
	assert_int_equal(gm_skf_rv(&a8, 0x0A000024UL), SAR_PIN_INCORRECT);
	assert_int_equal(gm_skf_rv(&a8, 0x100000000UL), 0x100000000UL);
	/* an 8-byte write read at both widths, little endian */
	gm_skf_cell_set(&a8, &c, 0x1122334455667788ULL);
	assert_int_equal(c.b[0], 0x88);
	assert_int_equal(c.b[7], 0x11);
	assert_true(gm_skf_cell_ulong(&a8, &c) == 0x1122334455667788ULL);
	assert_true(gm_skf_cell_ulong(&a4, &c) == 0x55667788ULL);
	gm_skf_cell_set(&a4, &c, 0x1122334455667788ULL);
	assert_int_equal(c.b[4], 0);	/* only the ABI's width is written */
	/* BOOL: 4 bytes; a non-zero byte beyond is not the BOOL's */
	memset(&c, 0, sizeof(c));
	c.b[5] = 1;
	assert_false(gm_skf_cell_bool(&a8, &c));
	c.b[2] = 1;
	assert_true(gm_skf_cell_bool(&a8, &c));
}

/* A list in a heap buffer of exactly size bytes, so that ASan sees any
 * read past it. */
static size_t parse_exact(const char *text, size_t size, char ***names)
{
	char *buf = malloc(size);
	size_t n = 0;

	memcpy(buf, text, size);
	assert_int_equal(gm_skf_names_parse(buf, size, names, &n), 0);
	free(buf);
	return n;
}

static void name_lists(void **state)
{
	char **names = NULL;
	size_t n;

	(void)state;
	n = parse_exact("ES3000GM VCR 1\0other\0\0", 23, &names);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "ES3000GM VCR 1");
	assert_string_equal(names[1], "other");
	gm_skf_names_free(names, n);
	/* no closing NUL at all: the last name ends at the size */
	n = parse_exact("a\0bcd", 5, &names);
	assert_int_equal(n, 2);
	assert_string_equal(names[1], "bcd");
	gm_skf_names_free(names, n);
	/* the size says less than the text holds */
	n = parse_exact("abc\0def\0\0", 3, &names);
	assert_int_equal(n, 1);
	assert_string_equal(names[0], "abc");
	gm_skf_names_free(names, n);
	/* empty lists of size 0, 1 and 2 */
	assert_int_equal(parse_exact("\0\0", 2, &names), 0);
	assert_int_equal(parse_exact("\0", 1, &names), 0);
	assert_int_equal(gm_skf_names_parse(NULL, 0, &names, &n), 0);
	assert_int_equal(n, 0);
}

static void devinfo_offsets(void **state)
{
	unsigned char buf[SKF_DEVINFO_BUF];
	gm_skf_abi abi;
	gm_skf_devinfo di;

	(void)state;
	memset(buf, 0, sizeof(buf));
	memcpy(buf + 0x82, "ePass3000GM", 11);
	memset(buf + 0xA2, 'F', 32);	/* no NUL in the field: bounded */
	buf[0xC4] = 3;
	gm_skf_put(buf + 0xDE, 8, 0x201);	/* FEITIAN: packed, 8 bytes */
	gm_skf_put(buf + 0xE6, 8, 65536);
	gm_skf_abi_builtin("epass3000gm", &abi);
	gm_skf_devinfo_parse(&abi, buf, &di);
	assert_string_equal(di.label, "ePass3000GM");
	assert_int_equal(strlen(di.serial), 32);
	assert_int_equal(di.fw_major, 3);
	assert_true(di.dev_auth_alg == 0x201);
	assert_true(di.total_space == 65536);
	/* the same bytes read as another ABI land elsewhere */
	memset(buf + 0xC6, 0, 64);
	gm_skf_put(buf + 212, 4, 0x201);	/* aligned 4-byte ULONG */
	abi.ulong_size = 4;
	abi.packed = 0;
	gm_skf_devinfo_parse(&abi, buf, &di);
	assert_true(di.dev_auth_alg == 0x201);
	abi.packed = 1;
	gm_skf_devinfo_parse(&abi, buf, &di);
	assert_true(di.dev_auth_alg != 0x201);
}

static EVP_PKEY *sm2_key(void)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
	EVP_PKEY *k = NULL;

	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
	assert_int_equal(EVP_PKEY_generate(ctx, &k), 1);
	EVP_PKEY_CTX_free(ctx);
	return k;
}

static void ecc_blobs(void **state)
{
	unsigned char blob[SKF_ECC_PUBBLOB_LEN];
	EVP_PKEY *k = sm2_key(), *back;
	gm_error err;

	(void)state;
	assert_int_equal(gm_skf_key_pubblob(k, blob, &err), 0);
	assert_int_equal(gm_skf_get(blob, 4), 256);
	back = gm_skf_pubblob_key(blob, sizeof(blob), &err);
	if (!back)
		fail_msg("%s", err.msg);
	assert_int_equal(gm_pubkey_equal(k, back), 1);
	EVP_PKEY_free(back);
	/* a short blob, a wrong BitLen, a value that is not right-aligned */
	assert_null(gm_skf_pubblob_key(blob, sizeof(blob) - 1, &err));
	blob[1] = 0;	/* BitLen 256 = 00 01 00 00 */
	assert_null(gm_skf_pubblob_key(blob, sizeof(blob), &err));
	gm_skf_put(blob, 4, 256);
	blob[SKF_ECC_PUB_X] = 1;
	assert_null(gm_skf_pubblob_key(blob, sizeof(blob), &err));
	assert_non_null(strstr(err.msg, "ECCPUBLICKEYBLOB"));
	EVP_PKEY_free(k);
}

/* ENVELOPEDKEYBLOB at FEITIAN's offsets (feitian-driver.md: Version 0,
 * ulSymmAlgID 8, ulBits 0x10, cbEncryptedPriKey 0x18, PubKey 0x58,
 * ECCCipherBlob 0xDC, CipherLen 0x17C, Cipher 0x184) and at a 4-byte
 * ULONG (GM/T 0016's packed layout: 0, 4, 8, 12, 76, 208). */
static void envelope_offsets(void **state)
{
	gm_enveloped_key env;
	gm_skf_abi abi;
	unsigned char buf[SKF_ENVELOPE_BUF];
	size_t len, i;

	(void)state;
	memset(&env, 0, sizeof(env));
	env.version = 1;
	env.sym_alg_id = GM_SGD_SM4_ECB;
	env.bits = 256;
	for (i = 0; i < 32; i++)
		env.enc_priv[i] = (unsigned char)(0xA0 + i);
	env.pub[0] = 0x04;
	for (i = 1; i < 65; i++)
		env.pub[i] = (unsigned char)i;
	env.cipher[0] = 0x04;
	for (i = 1; i < 113; i++)
		env.cipher[i] = (unsigned char)(0x80 + i);
	gm_skf_abi_builtin("epass3000gm", &abi);
	gm_skf_envelope_blob(&abi, &env, buf, &len);
	assert_int_equal(gm_skf_get(buf, 8), 1);
	assert_int_equal(gm_skf_get(buf + 0x08, 8), 0x401);
	assert_int_equal(gm_skf_get(buf + 0x10, 8), 256);
	for (i = 0; i < 32; i++)	/* right-aligned: zeros, then the 32 */
		assert_int_equal(buf[0x18 + i], 0);
	assert_memory_equal(buf + 0x18 + 32, env.enc_priv, 32);
	assert_int_equal(gm_skf_get(buf + 0x58, 4), 256);
	assert_memory_equal(buf + 0x58 + 4 + 32, env.pub + 1, 32);
	assert_memory_equal(buf + 0x58 + 68 + 32, env.pub + 33, 32);
	assert_memory_equal(buf + 0xDC + 32, env.cipher + 1, 32);
	assert_memory_equal(buf + 0xDC + 64 + 32, env.cipher + 33, 32);
	assert_memory_equal(buf + 0xDC + 128, env.cipher + 65, 32);	/* C3 */
	assert_int_equal(gm_skf_get(buf + 0x17C, 8), 16);
	assert_memory_equal(buf + 0x184, env.cipher + 97, 16);	/* C2 */
	assert_int_equal(len, 0x184 + 16);
	gm_skf_abi_builtin("other", &abi);
	gm_skf_envelope_blob(&abi, &env, buf, &len);
	assert_int_equal(gm_skf_get(buf + 4, 4), 0x401);
	assert_memory_equal(buf + 12 + 32, env.enc_priv, 32);
	assert_int_equal(gm_skf_get(buf + 76, 4), 256);
	assert_memory_equal(buf + 208 + 128, env.cipher + 65, 32);
	assert_int_equal(gm_skf_get(buf + 208 + 160, 4), 16);
	assert_int_equal(len, 208 + 164 + 16);
}

static void load_config(gm_config *cfg, const char *text)
{
	gm_error err;

	gm_config_init(cfg);
	if (gm_config_load_string(cfg, text, &err) < 0)
		fail_msg("config: %s", err.msg);
}

static void profile_keys(void **state)
{
	gm_config cfg;
	gm_profile p;
	gm_error err;

	(void)state;
	gm_config_init(&cfg);
	assert_int_equal(gm_profile_get("epass3000gm", &cfg, &p, &err), 0);
	assert_int_equal(p.skf.ulong_size, 8);
	assert_int_equal(p.skf.bool_size, 4);
	assert_true(p.skf.packed);
	assert_true(p.skf.sm2_sign_alg == 0x00020100UL);
	assert_true(p.skf.sm3_alg == 1);
	assert_string_equal(p.skf.application, "");
	gm_config_release(&cfg);
	load_config(&cfg, "[profile.epass3000gm]\nskf_ulong = 4\n"
		    "skf_packing = aligned\nskf_sm2_sign_alg = 0x00020200\n"
		    "skf_application = ENTERSAFE-ESPK\n");
	assert_int_equal(gm_profile_get("epass3000gm", &cfg, &p, &err), 0);
	assert_int_equal(p.skf.ulong_size, 4);
	assert_false(p.skf.packed);
	assert_true(p.skf.sm2_sign_alg == 0x00020200UL);
	assert_string_equal(p.skf.application, "ENTERSAFE-ESPK");
	gm_config_release(&cfg);
	load_config(&cfg, "[profile.epass3000gm]\nskf_ulong = 5\n");
	assert_int_equal(gm_profile_get("epass3000gm", &cfg, &p, &err), -1);
	assert_int_equal(err.code, GM_EXIT_USAGE);
	assert_non_null(strstr(err.msg, "'skf_ulong': '5' is not 4 or 8"));
	gm_config_release(&cfg);
}

static void missing_function(void **state)
{
	gm_skf_lib *lib = NULL;
	gm_skf_abi abi;
	gm_error err;
	char missing[256];
	int p11 = -1, skf = -1;

	(void)state;
	gm_skf_abi_builtin("epass3000gm", &abi);
	assert_int_equal(gm_skf_lib_open(SKF_STUB_NOSIGN, &abi, &lib, &err), -1);
	assert_null(lib);
	assert_int_equal(err.code, GM_EXIT_ENV);
	assert_non_null(strstr(err.msg, "does not export SKF_ECCSignData, "
			       "which gmrenew needs"));
	assert_int_equal(gm_skf_exports(SKF_STUB_NOSIGN, &p11, &skf, missing,
					sizeof(missing), &err), 0);
	assert_int_equal(p11, 0);
	assert_int_equal(skf, -1);
	assert_string_equal(missing, "SKF_ECCSignData");
	assert_int_equal(gm_skf_exports(SKF_STUB_NONE, &p11, &skf, missing,
					sizeof(missing), &err), 0);
	assert_int_equal(p11, 0);
	assert_int_equal(skf, 0);
	assert_int_equal(gm_skf_exports(SKF_STUB_FULL, &p11, &skf, missing,
					sizeof(missing), &err), 0);
	assert_int_equal(skf, 1);
	assert_int_equal(gm_skf_exports("/nonexistent/libskf.so", &p11, &skf,
					missing, sizeof(missing), &err), -1);
	assert_int_equal(err.code, GM_EXIT_ENV);
}

static void devices_of_stub(void **state)
{
	gm_skf_lib *lib = NULL;
	gm_skf_dev *d = NULL;
	gm_skf_abi abi;
	gm_error err;
	char **names = NULL;
	size_t n = 0;

	(void)state;
	gm_skf_abi_builtin("epass3000gm", &abi);
	assert_int_equal(gm_skf_lib_open(SKF_STUB_FULL, &abi, &lib, &err), 0);
	assert_false(lib->has_digest);
	/* the stub's list grows between the size and the fill */
	assert_int_equal(gm_skf_enum_devices(lib, &names, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[1], "ES3000GM VCR 2");
	assert_int_equal(gm_skf_dev_open(lib, names[1], &d, &err), 0);
	assert_string_equal(d->info.serial, "2A0F96E8B1C40013");
	assert_string_equal(d->info.manufacturer,
			    "Feitian Technologies Co., Ltd.");
	assert_int_equal(d->info.fw_major, 2);
	assert_int_equal(d->info.fw_minor, 7);
	assert_true(d->info.dev_auth_alg == 0x201);
	assert_true(d->info.alg_asym == 0x20100);
	/* a function the stub does not do: the SAR code in words */
	assert_int_equal(gm_skf_app_open(d, &err), -1);
	assert_non_null(strstr(err.msg, "listing the SKF applications failed: "
			       "the driver does not support this function or "
			       "value (SAR_NOTSUPPORTYETERR)"));
	gm_skf_dev_close(d);
	gm_skf_names_free(names, n);
	gm_skf_lib_close(lib);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_code_named),
		cmocka_unit_test(exit_codes),
		cmocka_unit_test(unknown_and_message),
		cmocka_unit_test(typed_reasons),
		cmocka_unit_test(widths),
		cmocka_unit_test(name_lists),
		cmocka_unit_test(devinfo_offsets),
		cmocka_unit_test(ecc_blobs),
		cmocka_unit_test(envelope_offsets),
		cmocka_unit_test(profile_keys),
		cmocka_unit_test(missing_function),
		cmocka_unit_test(devices_of_stub),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
