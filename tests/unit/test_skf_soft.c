/*
 * test_skf_soft.c - the SKF backend's device, PIN and container calls
 * against the soft ePass3000GM's SKF side (FEITIAN's ABI): devices and
 * DEVINFO, the PIN counter down to lock-out (never sent once locked), a
 * key pair in a new container, signatures over e = SM3(Z || M) computed
 * on the host and checked by OpenSSL, the device's own digest equal to
 * the host's, a certificate imported and read back, the container
 * deleted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "../../src/token/skf/skf_internal.h"

#define PIN "12345678"

static char dir[64];

static void tool(const char *args)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "%s %s --dir %s >/dev/null", GMSOFT_TOOL,
		 args, dir);
	if (system(cmd) != 0)
		fail_msg("gmsofttoken-tool %s failed", args);
}

/* A fresh store with `slots` tokens (PIN 12345678). */
static void fresh_store(int slots)
{
	char cmd[256];
	int i;

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(mkdir(dir, 0700), 0);
	for (i = 0; i < slots; i++) {
		snprintf(cmd, sizeof(cmd), "init --slot %d --label 'Ekey %c' "
			 "--serial 3000A1000000000%d", i, 'A' + i, i + 1);
		tool(cmd);
	}
	if (slots == 0)
		tool("empty --slot 0");
}

static gm_skf_lib *open_lib(void)
{
	gm_skf_lib *lib = NULL;
	gm_skf_abi abi;
	gm_error err;

	gm_skf_abi_builtin("epass3000gm", &abi);
	if (gm_skf_lib_open(GMSOFT_MODULE, &abi, &lib, &err))
		fail_msg("%s", err.msg);
	return lib;
}

static gm_skf_dev *first_device(gm_skf_lib *lib)
{
	char **names = NULL;
	size_t n = 0;
	gm_skf_dev *d = NULL;
	gm_error err;

	assert_int_equal(gm_skf_enum_devices(lib, &names, &n, &err), 0);
	assert_true(n >= 1);
	if (gm_skf_dev_open(lib, names[0], &d, &err))
		fail_msg("%s", err.msg);
	gm_skf_names_free(names, n);
	return d;
}

static void devices(void **state)
{
	gm_skf_lib *lib = *state;
	char **names = NULL;
	size_t n = 9;
	gm_skf_dev *d;
	gm_error err;

	fresh_store(0);
	assert_int_equal(gm_skf_enum_devices(lib, &names, &n, &err), 0);
	assert_int_equal(n, 0);
	fresh_store(2);
	assert_int_equal(gm_skf_enum_devices(lib, &names, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "ES3000GM VCR 1");
	gm_skf_names_free(names, n);
	d = first_device(lib);
	assert_string_equal(d->info.serial, "3000A10000000001");
	assert_string_equal(d->info.label, "Ekey A");
	assert_int_equal(gm_skf_app_open(d, &err), 0);
	assert_string_equal(d->app_name, "ENTERSAFE-ESPK");
	gm_skf_dev_close(d);
}

static void pin_down_to_lockout(void **state)
{
	gm_skf_lib *lib = *state;
	gm_skf_dev *d;
	gm_skf_pin p;
	gm_pin_state ps;
	gm_error err;
	int i;

	fresh_store(1);
	d = first_device(lib);
	assert_int_equal(gm_skf_pin_info(d, &p, &err), 0);
	assert_true(p.max_tries == 6 && p.remaining == 6);
	for (i = 5; i >= 2; i--) {
		char want[96];

		assert_int_equal(gm_skf_login(d, "87654321", 8, &err), -1);
		assert_int_equal(err.code, GM_EXIT_PIN);
		snprintf(want, sizeof(want), "will lock after %d more wrong "
			 "PINs", i);
		assert_non_null(strstr(err.msg, want));
		assert_int_equal(err.reason, GM_REASON_PIN_INCORRECT);
		assert_string_equal(err.outside, "SAR_PIN_INCORRECT");
	}
	assert_int_equal(gm_skf_login(d, "87654321", 8, &err), -1);
	assert_non_null(strstr(err.msg, "one try is left"));
	assert_int_equal(gm_skf_pin_state(d, &ps, &err), 0);
	assert_true(ps.final_try && ps.count_low && !ps.locked);
	assert_int_equal(gm_skf_login(d, "87654321", 8, &err), -1);
	assert_non_null(strstr(err.msg, "now locked"));
	/* locked: the right PIN is not even sent */
	assert_int_equal(gm_skf_login(d, PIN, strlen(PIN), &err), -1);
	assert_string_equal(err.msg, "the Ekey's user PIN is locked");
	assert_int_equal(gm_skf_pin_info(d, &p, &err), 0);
	assert_true(p.remaining == 0);
	gm_skf_dev_close(d);
}

static EVP_PKEY *self_signed(EVP_PKEY *pub, unsigned char **der, int *len)
{
	X509 *x = X509_new();
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
	EVP_PKEY *ca = NULL;

	assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
	assert_int_equal(EVP_PKEY_generate(ctx, &ca), 1);
	EVP_PKEY_CTX_free(ctx);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"gateway@test", -1,
				   -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, pub);
	assert_true(X509_sign(x, ca, EVP_sm3()) > 0);
	*der = NULL;
	*len = i2d_X509(x, der);
	X509_free(x);
	return ca;
}

static void write_file(const char *name, const void *p, size_t n)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

/* The signature checked by the openssl command, not by gmrenew's code. */
static void openssl_verifies(EVP_PKEY *pub, const unsigned char *msg,
			     size_t msg_len, const unsigned char *sig,
			     size_t sig_len)
{
	unsigned char *der = NULL;
	int len = i2d_PUBKEY(pub, &der);
	char cmd[1024];

	assert_true(len > 0);
	write_file("pub.der", der, (size_t)len);
	OPENSSL_free(der);
	write_file("msg", msg, msg_len);
	write_file("sig.der", sig, sig_len);
	snprintf(cmd, sizeof(cmd), "openssl pkeyutl -verify -pubin -keyform DER "
		 "-inkey %s/pub.der -rawin -in %s/msg -sigfile %s/sig.der "
		 "-digest sm3 -pkeyopt distid:1234567812345678 >/dev/null",
		 dir, dir, dir);
	assert_int_equal(system(cmd), 0);
	/* and a changed message does not verify */
	write_file("msg", "other", 5);
	assert_int_not_equal(system(cmd), 0);
}

static void container_life(void **state)
{
	static const unsigned char msg[] = "the CSR's CertificationRequestInfo";
	gm_skf_lib *lib = *state;
	unsigned char e[GM_DIGEST_LEN], dev_e[GM_DIGEST_LEN], id[16];
	unsigned char *sig = NULL, *cert = NULL;
	char name[48];
	size_t sig_len = 0, n = 0, i;
	int cert_len = 0, found = 0;
	gm_skf_container *c = NULL;
	EVP_PKEY *pub = NULL, *ca;
	gm_skf_dev *d;
	gm_error err;

	fresh_store(1);
	d = first_device(lib);
	memset(id, 0x5A, sizeof(id));
	gm_container_name(id, sizeof(id), name, sizeof(name));
	/* not logged in: the driver refuses key generation */
	assert_int_equal(gm_skf_create_keypair(d, name, &pub, &err), -1);
	assert_non_null(strstr(err.msg, "SAR_USER_NOT_LOGGED_IN"));
	assert_int_equal(gm_skf_login(d, PIN, strlen(PIN), &err), 0);
	if (gm_skf_delete_container(d, name, &err))
		fail_msg("%s", err.msg);
	if (gm_skf_create_keypair(d, name, &pub, &err))
		fail_msg("%s", err.msg);
	/* e computed on the host equals the device's SM3(Z || M) */
	assert_int_equal(gm_tbs_digest(GM_SIG_SM2_SM3, pub, msg, sizeof(msg),
				       e, &err), 0);
	if (gm_skf_device_digest(d, pub, msg, sizeof(msg), dev_e, &err))
		fail_msg("%s", err.msg);
	assert_memory_equal(e, dev_e, sizeof(e));
	if (gm_skf_sign(d, name, e, &sig, &sig_len, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(gm_sig_verify(GM_SIG_SM2_SM3, pub, msg, sizeof(msg),
				       sig, sig_len, &err), 0);
	openssl_verifies(pub, msg, sizeof(msg), sig, sig_len);
	OPENSSL_free(sig);
	/* the certificate goes into the container, and is listed there */
	ca = self_signed(pub, &cert, &cert_len);
	assert_int_equal(gm_skf_import_cert(d, name, cert, (size_t)cert_len,
					    &err), 0);
	assert_int_equal(gm_skf_containers(d, &c, &n, &err), 0);
	for (i = 0; i < n; i++) {
		if (strcmp(c[i].name, name))
			continue;
		found = 1;
		assert_true(c[i].type == SKF_CONTAINER_ECC);
		assert_int_equal(c[i].cert_len, cert_len);
		assert_memory_equal(c[i].cert, cert, c[i].cert_len);
		assert_int_equal(gm_pubkey_equal(c[i].pub, pub), 1);
	}
	assert_true(found);
	gm_skf_containers_free(c, n);
	/* deleted: gone, and deleting again is no error */
	assert_int_equal(gm_skf_delete_container(d, name, &err), 0);
	assert_int_equal(gm_skf_containers(d, &c, &n, &err), 0);
	for (i = 0; i < n; i++)
		assert_string_not_equal(c[i].name, name);
	gm_skf_containers_free(c, n);
	assert_int_equal(gm_skf_delete_container(d, name, &err), 0);
	OPENSSL_free(cert);
	EVP_PKEY_free(ca);
	EVP_PKEY_free(pub);
	gm_skf_dev_close(d);
}

static void api_choice(void **state)
{
	gm_api_choice c;
	gm_token_api a;
	gm_error err;

	(void)state;
	/* both: SKF for epass3000gm, PKCS#11 otherwise */
	assert_int_equal(gm_token_api_choose(GMSOFT_MODULE, GM_API_AUTO,
					     "epass3000gm", &c, &err), 0);
	assert_true(c.pkcs11 && c.skf == 1 && c.used == GM_API_SKF);
	assert_non_null(strstr(c.why, "offers both"));
	assert_int_equal(gm_token_api_choose(GMSOFT_MODULE, GM_API_AUTO,
					     "pkcs11-ec", &c, &err), 0);
	assert_int_equal(c.used, GM_API_PKCS11);
	assert_int_equal(gm_token_api_choose(GMSOFT_MODULE, GM_API_PKCS11,
					     "epass3000gm", &c, &err), 0);
	assert_int_equal(c.used, GM_API_PKCS11);
	/* one API only */
	assert_int_equal(gm_token_api_choose(GMSOFT_SKF_ONLY, GM_API_AUTO,
					     "pkcs11-ec", &c, &err), 0);
	assert_true(!c.pkcs11 && c.used == GM_API_SKF);
	assert_int_equal(gm_token_api_choose(GMSOFT_P11_ONLY, GM_API_AUTO,
					     "epass3000gm", &c, &err), 0);
	assert_true(c.skf == 0 && c.used == GM_API_PKCS11);
	assert_int_equal(gm_token_api_choose(GMSOFT_P11_ONLY, GM_API_SKF,
					     "epass3000gm", &c, &err), -1);
	assert_int_equal(err.code, GM_EXIT_ENV);
	assert_non_null(strstr(err.msg, "exports no SKF function"));
	assert_int_equal(gm_token_api_choose(GMSOFT_SKF_ONLY, GM_API_PKCS11,
					     "epass3000gm", &c, &err), -1);
	assert_non_null(strstr(err.msg, "does not export C_GetFunctionList"));
	/* neither; SKF without SKF_ECCSignData */
	assert_int_equal(gm_token_api_choose(GMSOFT_NONE, GM_API_AUTO,
					     "epass3000gm", &c, &err), -1);
	assert_non_null(strstr(err.msg, "is not a PKCS#11 module (no C_GetFunctionList) and exports no GM/T 0016"));
	assert_int_equal(gm_token_api_choose(GMSOFT_SKF_NOSIGN, GM_API_SKF,
					     "epass3000gm", &c, &err), -1);
	assert_non_null(strstr(err.msg, "does not export SKF_ECCSignData"));
	/* the words */
	assert_int_equal(gm_token_api_parse("skf", "--api", &a, &err), 0);
	assert_int_equal(a, GM_API_SKF);
	assert_int_equal(gm_token_api_parse(NULL, "--api", &a, &err), 0);
	assert_int_equal(a, GM_API_AUTO);
	assert_int_equal(gm_token_api_parse("SKF", "--api", &a, &err), -1);
	assert_int_equal(err.code, GM_EXIT_USAGE);
	assert_string_equal(err.msg, "--api: 'SKF' is not a token interface");
}

/* The calls of the soft token's trace as one string of names,
 * "C_Initialize C_GetInfo ...". */
static void trace_names(const char *trace, char *out, size_t size)
{
	char line[256];
	FILE *f = fopen(trace, "r");
	size_t used = 0;

	out[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char name[64];

		if (sscanf(line, "%*d %63s", name) == 1)
			used += (size_t)snprintf(out + used, size - used,
						 "%s%s", used ? " " : "",
						 name);
	}
	fclose(f);
}

/* gm_module_open_chosen on path with config text; the API used, the
 * words why, the backend opened and the calls it made. */
static int open_chosen(const char *path, gm_token_api want, const char *ini,
		       gm_api_choice *c, char *calls, size_t calls_size)
{
	char trace[96];
	gm_config cfg;
	gm_module *m = NULL;
	gm_error err;
	int r;

	snprintf(trace, sizeof(trace), "%s.trace", dir);
	unlink(trace);
	setenv("GMSOFT_TRACE", trace, 1);
	gm_config_init(&cfg);
	if (ini && gm_config_load_string(&cfg, ini, &err))
		fail_msg("%s", err.msg);
	r = gm_module_open_chosen(path, want, &cfg, c, &m, &err);
	if (r == 0) {
		assert_non_null(m);
		assert_string_equal(gm_module_api(m),
				    c->used == GM_API_SKF ? "skf" : "pkcs11");
	}
	gm_module_close(m);
	gm_config_release(&cfg);
	unsetenv("GMSOFT_TRACE");
	trace_names(trace, calls, calls_size);
	unlink(trace);
	return r;
}

/* auto with both exported and no profile named: the profile detected as
 * PKCS#11 detects it decides, at the cost of the library-level calls
 * only when the library's identity tells. */
static void api_detected(void **state)
{
	gm_api_choice c;
	char calls[2048];

	(void)state;
	/* FEITIAN's library: SKF, from C_GetInfo alone */
	assert_int_equal(open_chosen(GMSOFT_MODULE, GM_API_AUTO, NULL, &c,
				     calls, sizeof(calls)), 0);
	assert_true(c.pkcs11 && c.skf == 1);
	assert_int_equal(c.used, GM_API_SKF);
	assert_non_null(strstr(c.why, "detected from the library's "
			       "manufacturer 'Feitian Technologies Co., Ltd.'"));
	assert_string_equal(calls, "C_Initialize C_GetInfo C_Finalize");
	/* another library name, FEITIAN's token: SKF from C_GetTokenInfo */
	assert_int_equal(open_chosen(GMSOFT_MODULE, GM_API_AUTO,
				     "[profile.epass3000gm]\n"
				     "module_manufacturer = Other Vendor\n",
				     &c, calls, sizeof(calls)), 0);
	assert_int_equal(c.used, GM_API_SKF);
	assert_non_null(strstr(c.why, "the token's manufacturer 'EnterSafe "
			       "USB Key' and model 'ePass3000GM'"));
	assert_string_equal(calls, "C_Initialize C_GetInfo C_GetSlotList "
			    "C_GetTokenInfo C_Finalize");
	/* another vendor's library and token: PKCS#11, the module kept */
	assert_int_equal(open_chosen(GMSOFT_MODULE, GM_API_AUTO,
				     "[profile.epass3000gm]\n"
				     "module_manufacturer = Other Vendor\n"
				     "token_manufacturer = Other\n"
				     "token_model = Other Key\n",
				     &c, calls, sizeof(calls)), 0);
	assert_int_equal(c.used, GM_API_PKCS11);
	assert_non_null(strstr(c.why, "PKCS#11 for profile 'pkcs11-ec'"));
	assert_string_equal(calls, "C_Initialize C_GetInfo C_GetSlotList "
			    "C_GetTokenInfo C_GetMechanismList C_Finalize");
	/* a profile named decides without a call */
	assert_int_equal(open_chosen(GMSOFT_MODULE, GM_API_AUTO,
				     "[token]\nprofile = pkcs11-ec\n", &c,
				     calls, sizeof(calls)), 0);
	assert_int_equal(c.used, GM_API_PKCS11);
	assert_non_null(strstr(c.why, "other than epass3000gm"));
	/* a configured profile based on epass3000gm, directly or through
	 * another one, is an ePass3000GM too: SKF, without a call */
	assert_int_equal(open_chosen(GMSOFT_MODULE, GM_API_AUTO,
				     "[token]\nprofile = bank-key\n"
				     "[profile.bank-key]\n"
				     "base = epass3000gm\n"
				     "pin_max_tries = 10\n", &c,
				     calls, sizeof(calls)), 0);
	assert_int_equal(c.used, GM_API_SKF);
	assert_string_equal(c.why, "the library offers both; SKF for "
			    "profile 'bank-key', which is based on "
			    "epass3000gm");
	assert_string_equal(calls, "");
	assert_int_equal(open_chosen(GMSOFT_MODULE, GM_API_AUTO,
				     "[token]\nprofile = branch\n"
				     "[profile.branch]\nbase = bank-key\n"
				     "[profile.bank-key]\n"
				     "base = epass3000gm\n", &c,
				     calls, sizeof(calls)), 0);
	assert_int_equal(c.used, GM_API_SKF);
	assert_non_null(strstr(c.why, "profile 'branch', which is based on "
			       "epass3000gm"));
	/* ... but not one based on pkcs11-ec */
	assert_int_equal(open_chosen(GMSOFT_MODULE, GM_API_AUTO,
				     "[token]\nprofile = other-ec\n"
				     "[profile.other-ec]\n"
				     "base = pkcs11-ec\n", &c,
				     calls, sizeof(calls)), 0);
	assert_int_equal(c.used, GM_API_PKCS11);
	assert_non_null(strstr(c.why, "other than epass3000gm"));
	/* detected: a configured profile based on epass3000gm that the
	 * library's manufacturer fits takes SKF as well */
	assert_int_equal(open_chosen(GMSOFT_MODULE, GM_API_AUTO,
				     "[profile.bank-key]\n"
				     "base = epass3000gm\n"
				     "module_manufacturer = Feitian "
				     "Technologies Co., Ltd.\n", &c,
				     calls, sizeof(calls)), 0);
	assert_int_equal(c.used, GM_API_SKF);
	assert_string_equal(c.why, "the library offers both; SKF for "
			    "profile 'bank-key', which is based on "
			    "epass3000gm, detected from the library's "
			    "manufacturer 'Feitian Technologies Co., Ltd.'");
	assert_string_equal(calls, "C_Initialize C_GetInfo C_Finalize");
	/* asked for: wins over what is detected */
	assert_int_equal(open_chosen(GMSOFT_MODULE, GM_API_PKCS11, NULL, &c,
				     calls, sizeof(calls)), 0);
	assert_int_equal(c.used, GM_API_PKCS11);
	assert_non_null(strstr(c.why, "asked for"));
	assert_string_equal(calls, "C_Initialize C_Finalize");
	assert_int_equal(open_chosen(GMSOFT_MODULE, GM_API_SKF,
				     "[token]\nprofile = pkcs11-ec\n", &c,
				     calls, sizeof(calls)), 0);
	assert_int_equal(c.used, GM_API_SKF);
	assert_string_equal(calls, "");
	/* one API: that one, nothing detected */
	assert_int_equal(open_chosen(GMSOFT_SKF_ONLY, GM_API_AUTO, NULL, &c,
				     calls, sizeof(calls)), 0);
	assert_int_equal(c.used, GM_API_SKF);
	assert_non_null(strstr(c.why, "offers only SKF"));
	assert_int_equal(open_chosen(GMSOFT_P11_ONLY, GM_API_AUTO, NULL, &c,
				     calls, sizeof(calls)), 0);
	assert_int_equal(c.used, GM_API_PKCS11);
	assert_non_null(strstr(c.why, "offers only PKCS#11"));
	assert_string_equal(calls, "C_Initialize C_Finalize");
	/* no choice: used stays auto */
	assert_int_equal(open_chosen(GMSOFT_NONE, GM_API_AUTO, NULL, &c,
				     calls, sizeof(calls)), -1);
	assert_int_equal(c.used, GM_API_AUTO);
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/gm-skf-soft-%ld", (long)getpid());
	setenv("GMSOFT_DIR", dir, 1);
	setenv("GMSOFT_PIN", PIN, 1);
	fresh_store(1);
	*state = open_lib();
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	gm_skf_lib_close(*state);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(devices),
		cmocka_unit_test(pin_down_to_lockout),
		cmocka_unit_test(container_life),
		cmocka_unit_test(api_choice),
		cmocka_unit_test(api_detected),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
