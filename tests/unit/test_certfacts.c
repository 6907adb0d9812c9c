/*
 * test_certfacts.c - certificate facts as the CA's page shows them, loading
 * certificate files, and chain verification with the SM2 default ID at
 * every depth. All certificates are made here with OpenSSL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "gmrenew/common.h"
#include "gmrenew/crypto.h"

#define ID GM_SM2_DEFAULT_ID
#define T_2025 ((time_t)1735689600)	/* 2025-01-01T00:00:00Z */
#define T_2026 ((time_t)1767225600)	/* 2026-01-01T00:00:00Z */
#define T_2030 ((time_t)1893456000)	/* 2030-01-01T00:00:00Z */
#define T_2035 ((time_t)2051222400)	/* 2035-01-01T00:00:00Z */
#define T_2060 ((time_t)2840140800)	/* 2060-01-01T00:00:00Z */

/* 深证通CCNET证书测试 */
#define OU_ORG "\xe6\xb7\xb1\xe8\xaf\x81\xe9\x80\x9a" "CCNET" \
	"\xe8\xaf\x81\xe4\xb9\xa6\xe6\xb5\x8b\xe8\xaf\x95"

static char tmpdir[64];

/* ---- making certificates ---- */

struct spec {
	const char *const *rdn;	/* "TYPE=value", DER order, NULL-ended */
	EVP_PKEY *pub;
	X509 *issuer;		/* NULL: self-signed with key */
	EVP_PKEY *key;		/* the signer's private key */
	time_t nb, na;
	int generalized;	/* force GeneralizedTime */
	int ca;
	const char *serial;	/* hex, may start with '-' */
	const char *sm2_id;	/* ID the SM2 signature uses: default ID */
};

static X509_NAME *name_of(const char *const *rdn)
{
	X509_NAME *n = X509_NAME_new();

	for (; *rdn; rdn++) {
		const char *eq = strchr(*rdn, '=');
		char type[16];

		assert_non_null(eq);
		snprintf(type, sizeof(type), "%.*s", (int)(eq - *rdn), *rdn);
		assert_int_equal(X509_NAME_add_entry_by_txt(n, type,
				 MBSTRING_UTF8, (const unsigned char *)eq + 1,
				 -1, -1, 0), 1);
	}
	return n;
}

static void set_time(X509 *x, time_t t, int generalized, int after)
{
	ASN1_TIME *at = generalized ? ASN1_GENERALIZEDTIME_set(NULL, t) :
			ASN1_TIME_set(NULL, t);

	assert_non_null(at);
	assert_int_equal(after ? X509_set1_notAfter(x, at) :
			 X509_set1_notBefore(x, at), 1);
	ASN1_TIME_free(at);
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

static void sign_cert(X509 *x, EVP_PKEY *key, const char *sm2_id)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int sm2 = EVP_PKEY_is_a(key, "SM2");
	const char *id = sm2_id ? sm2_id : ID;

	assert_int_equal(EVP_DigestSignInit_ex(md, NULL,
			 EVP_PKEY_is_a(key, "SM2") ? "SM3" : "SHA256", NULL,
			 NULL, key, NULL), 1);
	if (sm2)
		assert_int_equal(EVP_PKEY_CTX_set1_id(EVP_MD_CTX_get_pkey_ctx(md),
						      id, strlen(id)), 1);
	assert_true(X509_sign_ctx(x, md) > 0);
	EVP_MD_CTX_free(md);
}

static X509 *make_cert(const struct spec *s)
{
	X509 *x = X509_new();
	X509_NAME *subj = name_of(s->rdn);
	BIGNUM *bn = NULL;
	ASN1_INTEGER *serial;

	assert_int_equal(BN_hex2bn(&bn, s->serial ? s->serial : "1000") > 0, 1);
	serial = BN_to_ASN1_INTEGER(bn, NULL);
	BN_free(bn);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(X509_set_serialNumber(x, serial), 1);
	ASN1_INTEGER_free(serial);
	assert_int_equal(X509_set_subject_name(x, subj), 1);
	assert_int_equal(X509_set_issuer_name(x, s->issuer ?
			 X509_get_subject_name(s->issuer) : subj), 1);
	X509_NAME_free(subj);
	set_time(x, s->nb ? s->nb : T_2025, s->generalized, 0);
	set_time(x, s->na ? s->na : T_2030, s->generalized, 1);
	assert_int_equal(X509_set_pubkey(x, s->pub), 1);
	if (s->ca) {
		add_ext(x, s->issuer ? s->issuer : x, NID_basic_constraints,
			"critical,CA:TRUE");
		add_ext(x, s->issuer ? s->issuer : x, NID_key_usage,
			"critical,keyCertSign,cRLSign");
	} else {
		add_ext(x, s->issuer ? s->issuer : x, NID_key_usage,
			"critical,digitalSignature");
	}
	sign_cert(x, s->key, s->sm2_id);
	return x;
}

static unsigned char *der_of(X509 *x, size_t *len)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);

	assert_true(n > 0);
	*len = (size_t)n;
	return der;
}

/* A copy of x with the last byte of its signature changed. */
static X509 *tampered(X509 *x)
{
	size_t len;
	unsigned char *der = der_of(x, &len);
	const unsigned char *p = der;
	X509 *t;

	der[len - 1] ^= 0x01;
	t = d2i_X509(NULL, &p, (long)len);
	assert_non_null(t);
	OPENSSL_free(der);
	return t;
}

static EVP_PKEY *keygen(const char *type, const char *curve)
{
	EVP_PKEY *k = curve ? EVP_PKEY_Q_keygen(NULL, NULL, type, curve) :
		      EVP_PKEY_Q_keygen(NULL, NULL, type);

	assert_non_null(k);
	return k;
}

static char *path_of(const char *name)
{
	return gm_xasprintf("%s/%s", tmpdir, name);
}

/* Writes certificates as a PEM bundle; returns the path (caller frees). */
static char *write_pem(const char *name, X509 *a, X509 *b)
{
	char *path = path_of(name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	if (a)
		assert_int_equal(PEM_write_X509(f, a), 1);
	if (b) {
		fputs("some text between the certificates\n", f);
		assert_int_equal(PEM_write_X509(f, b), 1);
	}
	fclose(f);
	return path;
}

static char *write_bytes(const char *name, const void *p, size_t n)
{
	char *path = path_of(name);
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	if (n)
		assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
	return path;
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/gm-test-certfacts-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- facts ---- */

static const char *const ca_rdn[] = { "C=CN", "O=SSCCCA",
				      "CN=SSCCCA SM2 Test CA", NULL };
static const char *const sample_rdn[] = { "C=CN", "O=SSCCCA", "OU=CCNET",
					  "OU=" OU_ORG, "CN=JSB0000@IST@30",
					  NULL };

static void parse(X509 *x, gm_cert_facts *f)
{
	size_t len;
	unsigned char *der = der_of(x, &len);
	gm_error err;

	if (gm_cert_facts_parse(der, len, f, &err) < 0)
		fail_msg("parse: %s", err.msg);
	OPENSSL_free(der);
}

static void facts_sm2_sample(void **state)
{
	EVP_PKEY *ca_key = keygen("SM2", NULL);
	EVP_PKEY *key = keygen("SM2", NULL);
	struct spec cs = { ca_rdn, ca_key, NULL, ca_key, 0, 0, 0, 1, "01", NULL };
	X509 *ca = make_cert(&cs);
	struct spec ls = { sample_rdn, key, ca, ca_key, T_2025, T_2030, 0, 0,
			   "0A1B2C3D4E5F60718293A4B5C6D7E8F9", NULL };
	X509 *leaf = make_cert(&ls);
	gm_cert_facts f;
	unsigned char *der, *sd = NULL, md[32], spki[32];
	unsigned int md_len;
	size_t len;
	char *hex;
	int sd_len;

	(void)state;
	parse(leaf, &f);
	assert_string_equal(f.subject, "CN=JSB0000@IST@30,OU=" OU_ORG
			    ",OU=CCNET,O=SSCCCA,C=CN");
	assert_string_equal(f.issuer, "CN=SSCCCA SM2 Test CA,O=SSCCCA,C=CN");
	assert_string_equal(f.gateway, "JSB0000");
	assert_string_equal(f.organization, OU_ORG);
	assert_string_equal(f.system, "CCNET");
	assert_string_equal(f.serial_hex, "0a1b2c3d4e5f60718293a4b5c6d7e8f9");
	assert_string_equal(f.key_algorithm, "SM2");
	assert_int_equal(f.not_before, T_2025);
	assert_int_equal(f.not_after, T_2030);
	assert_int_equal(gm_pubkey_equal(f.pubkey, key), 1);
	assert_int_equal(gm_pubkey_sha256(key, spki, NULL), 0);
	assert_memory_equal(f.spki_sha256, spki, 32);
	der = der_of(leaf, &len);
	EVP_Digest(der, len, md, &md_len, EVP_sha256(), NULL);
	hex = gm_hex(md, 32);
	assert_string_equal(f.sha256_hex, hex);
	free(hex);
	sd_len = i2d_X509_NAME(X509_get_subject_name(leaf), &sd);
	assert_int_equal(f.subject_der_len, (size_t)sd_len);
	assert_memory_equal(f.subject_der, sd, f.subject_der_len);
	assert_non_null(f.x509);
	OPENSSL_free(sd);
	OPENSSL_free(der);
	gm_cert_facts_release(&f);
	gm_cert_facts_release(&f);	/* twice is harmless */
	gm_cert_facts_release(NULL);
	X509_free(leaf);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
}

static void facts_key_algorithms(void **state)
{
	static const char *const rdn[] = { "CN=host", NULL };
	struct {
		const char *type, *curve;
		const char *want;
	} k[] = {
		{ "EC", "P-256", "EC-P256" },
		{ "EC", "P-384", "EC-P384" },
		{ "EC", "SM2", "SM2" },	/* an "EC" key on the SM2 curve */
		{ "RSA", NULL, "RSA-2048" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		EVP_PKEY *key = strcmp(k[i].type, "RSA") ?
				keygen(k[i].type, k[i].curve) :
				EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		EVP_PKEY *signer = strcmp(k[i].curve ? k[i].curve : "", "SM2") ?
				   key : keygen("EC", "P-256");
		struct spec s = { rdn, key, NULL, signer, 0, 0, 0, 0, "01",
				  NULL };
		X509 *x;
		gm_cert_facts f;

		if (signer != key) {	/* signed by another CA, same name */
			X509 *ca;
			struct spec cs = { rdn, signer, NULL, signer, 0, 0, 0, 1,
					   "02", NULL };

			ca = make_cert(&cs);
			s.issuer = ca;
			x = make_cert(&s);
			X509_free(ca);
			EVP_PKEY_free(signer);
		} else {
			x = make_cert(&s);
		}
		parse(x, &f);
		assert_string_equal(f.key_algorithm, k[i].want);
		assert_int_equal(gm_pubkey_equal(f.pubkey, key), 1);
		assert_null(f.gateway);
		assert_null(f.organization);
		assert_null(f.system);
		gm_cert_facts_release(&f);
		X509_free(x);
		EVP_PKEY_free(key);
	}
}

static void facts_names(void **state)
{
	static const char *const one_ou[] = { "C=CN", "OU=CCNET",
					      "CN=JSB0001", NULL };
	static const char *const escaped[] = { "O=A+B", "CN=a\\,b=c, d@x",
					       NULL };
	EVP_PKEY *key = keygen("SM2", NULL);
	struct spec s = { one_ou, key, NULL, key, 0, 0, 0, 0, "01", NULL };
	X509 *x = make_cert(&s);
	gm_cert_facts f;

	(void)state;
	parse(x, &f);
	assert_string_equal(f.subject, "CN=JSB0001,OU=CCNET,C=CN");
	assert_null(f.gateway);	/* no '@' */
	assert_string_equal(f.organization, "CCNET");
	assert_null(f.system);	/* a single OU */
	gm_cert_facts_release(&f);
	X509_free(x);

	s.rdn = escaped;
	x = make_cert(&s);
	parse(x, &f);
	/* RFC 4514 escaping of ',', '+' (the backslash is part of the value) */
	assert_string_equal(f.subject, "CN=a\\\\\\,b=c\\, d@x,O=A\\+B");
	assert_string_equal(f.gateway, "a\\,b=c, d");
	gm_cert_facts_release(&f);
	X509_free(x);
	EVP_PKEY_free(key);
}

/* A NUL inside a name value is refused, after a good value of the same
 * attribute was already read (found by the fuzz target: once leaked). */
static void facts_nul_in_name(void **state)
{
	static const char *const rdn[] = { "CN=ok@1", NULL };
	EVP_PKEY *key = keygen("SM2", NULL);
	struct spec s = { rdn, key, NULL, key, 0, 0, 0, 0, "01", NULL };
	X509 *x = make_cert(&s);
	X509_NAME *n = X509_NAME_dup(X509_get_subject_name(x));
	unsigned char *der;
	size_t len;
	gm_cert_facts f;
	gm_error err;

	(void)state;
	/* a first CN (in DER order) holding "a\0b" */
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
			 (const unsigned char *)"a\0b", 3, 0, 0), 1);
	assert_int_equal(X509_set_subject_name(x, n), 1);
	sign_cert(x, key, NULL);
	der = der_of(x, &len);
	assert_int_equal(gm_cert_facts_parse(der, len, &f, &err), -1);
	assert_non_null(strstr(err.msg, "common name"));
	assert_null(f.subject);
	OPENSSL_free(der);
	X509_NAME_free(n);
	X509_free(x);
	EVP_PKEY_free(key);
}

static void facts_serials(void **state)
{
	static const char *const rdn[] = { "CN=s", NULL };
	static const char *const serial[][2] = {
		{ "0", "0" }, { "-5", "-05" }, { "FF", "ff" },
		{ "00123", "0123" }, { "-8000000000000000", "-8000000000000000" },
	};
	EVP_PKEY *key = keygen("EC", "P-256");
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(serial) / sizeof(serial[0]); i++) {
		struct spec s = { rdn, key, NULL, key, 0, 0, 0, 0, serial[i][0],
				  NULL };
		X509 *x = make_cert(&s);
		gm_cert_facts f;

		parse(x, &f);
		assert_string_equal(f.serial_hex, serial[i][1]);
		gm_cert_facts_release(&f);
		X509_free(x);
	}
	EVP_PKEY_free(key);
}

static void facts_generalized_time(void **state)
{
	static const char *const rdn[] = { "CN=g@1", NULL };
	EVP_PKEY *key = keygen("SM2", NULL);
	struct spec s = { rdn, key, NULL, key, T_2026, T_2030, 1, 0, "01",
			  NULL };
	X509 *x = make_cert(&s);
	gm_cert_facts f;

	(void)state;
	assert_int_equal(ASN1_STRING_type(X509_get0_notAfter(x)),
			 V_ASN1_GENERALIZEDTIME);
	parse(x, &f);
	assert_int_equal(f.not_before, T_2026);
	assert_int_equal(f.not_after, T_2030);
	gm_cert_facts_release(&f);
	X509_free(x);

	/* past 2049: GeneralizedTime by necessity */
	s.generalized = 0;
	s.na = T_2060;
	x = make_cert(&s);
	assert_int_equal(ASN1_STRING_type(X509_get0_notAfter(x)),
			 V_ASN1_GENERALIZEDTIME);
	parse(x, &f);
	assert_int_equal(f.not_after, T_2060);
	gm_cert_facts_release(&f);
	X509_free(x);
	EVP_PKEY_free(key);
}

static void facts_corrupt(void **state)
{
	static const char *const rdn[] = { "CN=c@1", NULL };
	EVP_PKEY *key = keygen("SM2", NULL);
	struct spec s = { rdn, key, NULL, key, 0, 0, 0, 0, "01", NULL };
	X509 *x = make_cert(&s);
	size_t len, i;
	unsigned char *der = der_of(x, &len);
	unsigned char *buf = gm_xmalloc(len + 1);
	gm_cert_facts f;
	gm_error err;

	(void)state;
	/* every truncation */
	for (i = 0; i < len; i++) {
		assert_int_equal(gm_cert_facts_parse(der, i, &f, &err), -1);
		assert_null(f.x509);
		assert_null(f.subject);
	}
	assert_non_null(strstr(err.msg, "not valid DER X.509"));
	/* trailing junk */
	memcpy(buf, der, len);
	buf[len] = 0;
	assert_int_equal(gm_cert_facts_parse(buf, len + 1, &f, &err), -1);
	assert_non_null(strstr(err.msg, "junk"));
	/* every single-byte change parses or fails cleanly */
	for (i = 0; i < len; i++) {
		memcpy(buf, der, len);
		buf[i] ^= 0xff;
		if (gm_cert_facts_parse(buf, len, &f, &err) == 0)
			gm_cert_facts_release(&f);
	}
	assert_int_equal(gm_cert_facts_parse(NULL, 0, &f, &err), -1);
	assert_int_equal(err.code, GM_EXIT_FAILED);
	assert_int_equal(ERR_peek_error(), 0);
	free(buf);
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(key);
}

/* The facts read without decoding the key are those of the full parse,
 * and no certificate the full parse refuses is read: for every key kind
 * and every single-byte change of a certificate. */
static void assert_same_facts(const gm_cert_facts *a, const gm_cert_facts *b)
{
	assert_string_equal(a->subject, b->subject);
	assert_string_equal(a->issuer, b->issuer);
	assert_string_equal(a->serial_hex, b->serial_hex);
	assert_string_equal(a->sha256_hex, b->sha256_hex);
	assert_string_equal(a->key_algorithm, b->key_algorithm);
	assert_memory_equal(a->spki_sha256, b->spki_sha256, 32);
	assert_int_equal(a->not_before, b->not_before);
	assert_int_equal(a->not_after, b->not_after);
	assert_int_equal(a->subject_der_len, b->subject_der_len);
}

static void facts_read_as_parse(void **state)
{
	static const char *const rdn[] = { "CN=r@1", "OU=a", "OU=b", NULL };
	const char *kinds[][2] = { { "SM2", NULL }, { "EC", "SM2" },
				   { "EC", "P-256" }, { "EC", "P-521" },
				   { "RSA", NULL } };
	size_t k, i, len;

	(void)state;
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		EVP_PKEY *key = strcmp(kinds[k][0], "RSA") ?
				keygen(kinds[k][0], kinds[k][1]) :
				EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
						  (size_t)2048);
		EVP_PKEY *signer = keygen("EC", "P-256");
		struct spec s = { rdn, key, NULL, signer, 0, 0, 0, 0, "0a",
				  NULL };
		X509 *x = make_cert(&s);
		unsigned char *der = der_of(x, &len), *buf = gm_xmalloc(len);
		gm_cert_facts full, light;
		gm_error err;
		int rp, rr;

		assert_int_equal(gm_cert_facts_read(der, len, &light, &err), 0);
		assert_null(light.x509);
		assert_non_null(light.pubkey);
		parse(x, &full);
		assert_same_facts(&light, &full);
		assert_int_equal(gm_pubkey_equal(light.pubkey, full.pubkey), 1);
		assert_int_equal(EVP_PKEY_is_a(light.pubkey, "SM2"),
				 EVP_PKEY_is_a(full.pubkey, "SM2"));
		assert_int_equal(gm_cert_facts_key_is(&light, key), 1);
		assert_int_equal(gm_cert_facts_key_is(&light, signer), 0);
		assert_int_equal(gm_cert_facts_decode(&light, &err), 0);
		assert_int_equal(gm_pubkey_equal(light.pubkey, key), 1);
		assert_int_equal(X509_cmp(light.x509, full.x509), 0);
		gm_cert_facts_release(&light);
		gm_cert_facts_release(&full);
		for (i = 0; i < len; i++) {
			memcpy(buf, der, len);
			buf[i] ^= 0x5a;
			rp = gm_cert_facts_parse(buf, len, &full, &err);
			rr = gm_cert_facts_read(buf, len, &light, &err);
			if (rp < 0 && rr == 0)
				fail_msg("%s: byte %zu changed: read, not parsed",
					 kinds[k][0], i);
			if (rp == 0 && rr == 0)
				assert_same_facts(&light, &full);
			if (rp == 0)
				gm_cert_facts_release(&full);
			if (rr == 0)
				gm_cert_facts_release(&light);
		}
		ERR_clear_error();
		free(buf);
		OPENSSL_free(der);
		X509_free(x);
		EVP_PKEY_free(signer);
		EVP_PKEY_free(key);
	}
}

/* The key in another encoding is still the certificate's key; an "SM2"
 * and an "EC" key with the same point are the same key. */
static void facts_key_is_exact(void **state)
{
	static const char *const rdn[] = { "CN=k", NULL };
	EVP_PKEY *key = keygen("SM2", NULL), *ec = NULL, *other;
	struct spec s = { rdn, key, NULL, key, 0, 0, 0, 0, "0b", NULL };
	X509 *x = make_cert(&s);
	unsigned char pt[65];
	size_t len = 0, dlen;
	unsigned char *der = der_of(x, &dlen);
	gm_cert_facts f;
	gm_error err;

	(void)state;
	assert_int_equal(EVP_PKEY_get_octet_string_param(key,
			 OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof(pt),
			 &len), 1);
	ec = gm_pubkey_from_xy(NULL, 0, pt + 1, len - 1, &err);
	assert_non_null(ec);
	assert_int_equal(gm_cert_facts_read(der, dlen, &f, &err), 0);
	assert_int_equal(gm_cert_facts_key_is(&f, ec), 1);
	assert_int_equal(gm_cert_facts_key_is(&f, NULL), 0);
	other = keygen("SM2", NULL);
	assert_int_equal(gm_cert_facts_key_is(&f, other), 0);
	gm_cert_facts_release(&f);
	EVP_PKEY_free(other);
	EVP_PKEY_free(ec);
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(key);
}

/* ---- loading files ---- */

static void load_files(void **state)
{
	static const char *const rdn[] = { "CN=f", NULL };
	EVP_PKEY *key = keygen("EC", "P-256");
	struct spec s = { rdn, key, NULL, key, 0, 0, 0, 0, "01", NULL };
	X509 *a = make_cert(&s), *b;
	STACK_OF(X509) *sk = NULL;
	unsigned char *der;
	size_t len;
	char *path;
	gm_error err;

	(void)state;
	s.serial = "02";
	b = make_cert(&s);
	path = write_pem("two.pem", a, b);
	assert_int_equal(gm_certs_load_file(path, &sk, &err), 0);
	assert_int_equal(sk_X509_num(sk), 2);
	assert_int_equal(X509_cmp(sk_X509_value(sk, 1), b), 0);
	sk_X509_pop_free(sk, X509_free);
	free(path);

	der = der_of(a, &len);
	path = write_bytes("one.der", der, len);
	assert_int_equal(gm_certs_load_file(path, &sk, &err), 0);
	assert_int_equal(sk_X509_num(sk), 1);
	assert_int_equal(X509_cmp(sk_X509_value(sk, 0), a), 0);
	sk_X509_pop_free(sk, X509_free);
	free(path);

	path = write_bytes("cut.der", der, len - 3);
	assert_int_equal(gm_certs_load_file(path, &sk, &err), -1);
	assert_null(sk);
	assert_non_null(strstr(err.msg, "neither PEM nor"));
	free(path);
	path = write_bytes("empty.pem", "", 0);
	assert_int_equal(gm_certs_load_file(path, &sk, &err), -1);
	free(path);
	path = write_bytes("bad.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n"
			   "-----END CERTIFICATE-----\n", 60);
	assert_int_equal(gm_certs_load_file(path, &sk, &err), -1);
	assert_non_null(strstr(err.msg, "certificate 1"));
	free(path);
	path = path_of("missing.pem");
	assert_int_equal(gm_certs_load_file(path, &sk, &err), -1);
	free(path);
	assert_int_equal(ERR_peek_error(), 0);
	OPENSSL_free(der);
	X509_free(a);
	X509_free(b);
	EVP_PKEY_free(key);
}

/* ---- chains ---- */

static const char *const root_rdn[] = { "C=CN", "O=SSCCCA", "CN=Root", NULL };
static const char *const inter_rdn[] = { "C=CN", "O=SSCCCA", "CN=Sub", NULL };

struct chain {
	EVP_PKEY *root_key, *inter_key, *leaf_key;
	X509 *root, *inter, *leaf;
	char *bundle;
};

/* root -> inter -> leaf; key types "SM2", "P-256" or "RSA". */
static EVP_PKEY *key_of(const char *kind)
{
	if (!strcmp(kind, "SM2"))
		return keygen("SM2", NULL);
	if (!strcmp(kind, "RSA"))
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	return keygen("EC", kind);
}

static void chain_make(struct chain *c, const char *root, const char *inter,
		       const char *leaf, const char *inter_id)
{
	struct spec rs = { root_rdn, NULL, NULL, NULL, T_2025, T_2035, 0, 1,
			   "01", NULL };
	struct spec is = { inter_rdn, NULL, NULL, NULL, T_2025, T_2035, 0, 1,
			   "02", inter_id };
	struct spec ls = { sample_rdn, NULL, NULL, NULL, T_2025, T_2030, 0, 0,
			   "03", NULL };

	memset(c, 0, sizeof(*c));
	c->root_key = key_of(root);
	rs.pub = rs.key = c->root_key;
	c->root = make_cert(&rs);
	if (inter) {
		c->inter_key = key_of(inter);
		is.pub = c->inter_key;
		is.issuer = c->root;
		is.key = c->root_key;
		c->inter = make_cert(&is);
	}
	c->leaf_key = key_of(leaf);
	ls.pub = c->leaf_key;
	ls.issuer = inter ? c->inter : c->root;
	ls.key = inter ? c->inter_key : c->root_key;
	c->leaf = make_cert(&ls);
	c->bundle = write_pem("root.pem", c->root, NULL);
}

static void chain_free(struct chain *c)
{
	X509_free(c->leaf);
	X509_free(c->inter);
	X509_free(c->root);
	EVP_PKEY_free(c->leaf_key);
	EVP_PKEY_free(c->inter_key);
	EVP_PKEY_free(c->root_key);
	free(c->bundle);
}

static STACK_OF(X509) *stack_of(X509 *x)
{
	STACK_OF(X509) *sk = sk_X509_new_null();

	if (x) {
		X509_up_ref(x);
		sk_X509_push(sk, x);
	}
	return sk;
}

static int verify(struct chain *c, X509 *leaf, X509 *inter, time_t at,
		  gm_error *err)
{
	STACK_OF(X509) *sk = stack_of(inter);
	int r;

	gm_error_clear(err);
	r = gm_chain_verify(leaf, sk, c->bundle, at, err);
	sk_X509_pop_free(sk, X509_free);
	assert_int_equal(ERR_peek_error(), 0);
	return r;
}

#define EXPECT_OK(c, leaf, inter) do { \
		gm_error e_; \
		if (verify((c), (leaf), (inter), T_2026, &e_) != 0) \
			fail_msg("chain: %s", e_.msg); \
	} while (0)

static void chain_sm2_two_levels(void **state)
{
	struct chain c;
	gm_error err;

	(void)state;
	chain_make(&c, "SM2", NULL, "SM2", NULL);
	EXPECT_OK(&c, c.leaf, NULL);
	/* the leaf given twice (as untrusted too) is fine */
	EXPECT_OK(&c, c.leaf, c.leaf);
	/* the caller's certificate is not changed */
	assert_null(X509_get0_distinguishing_id(c.leaf));
	assert_int_equal(gm_chain_verify(NULL, NULL, c.bundle, T_2026, &err), -1);
	chain_free(&c);
}

/* A certificate that carries another ID is verified with the default one
 * all the same (on a copy) and keeps its own; one decoded by gmrenew
 * carries the default ID from its decoding and is verified as it is. */
static void chain_sm2_ids_of_the_caller(void **state)
{
	static const unsigned char other[] = "another-id";
	ASN1_OCTET_STRING *id = ASN1_OCTET_STRING_new();
	const ASN1_OCTET_STRING *kept;
	unsigned char *der = NULL;
	gm_cert_facts f;
	struct chain c;
	gm_error err;
	int len;

	(void)state;
	chain_make(&c, "SM2", NULL, "SM2", NULL);
	assert_non_null(id);
	assert_int_equal(ASN1_OCTET_STRING_set(id, other, sizeof(other) - 1), 1);
	X509_set0_distinguishing_id(c.leaf, id);
	EXPECT_OK(&c, c.leaf, c.leaf);
	kept = X509_get0_distinguishing_id(c.leaf);
	assert_non_null(kept);
	assert_int_equal(ASN1_STRING_length(kept), sizeof(other) - 1);
	assert_memory_equal(ASN1_STRING_get0_data(kept), other,
			    sizeof(other) - 1);
	len = i2d_X509(c.leaf, &der);
	assert_true(len > 0);
	assert_int_equal(gm_cert_facts_parse(der, (size_t)len, &f, &err), 0);
	kept = X509_get0_distinguishing_id(f.x509);
	assert_non_null(kept);
	assert_int_equal(ASN1_STRING_length(kept), 16);
	assert_memory_equal(ASN1_STRING_get0_data(kept), "1234567812345678",
			    16);
	EXPECT_OK(&c, f.x509, NULL);
	gm_cert_facts_release(&f);
	OPENSSL_free(der);
	chain_free(&c);
}

static void chain_sm2_three_levels(void **state)
{
	struct chain c;
	gm_error err;
	char *both;

	(void)state;
	chain_make(&c, "SM2", "SM2", "SM2", NULL);
	EXPECT_OK(&c, c.leaf, c.inter);
	/* the intermediate in the trust bundle instead */
	both = write_pem("both.pem", c.root, c.inter);
	assert_int_equal(gm_chain_verify(c.leaf, NULL, both, T_2026, &err), 0);
	free(both);
	/* without the intermediate */
	assert_int_equal(verify(&c, c.leaf, NULL, T_2026, &err), -1);
	assert_int_equal(err.code, GM_EXIT_VERIFY);
	assert_non_null(strstr(err.msg, "depth 0"));
	assert_non_null(strstr(err.msg, "CN=JSB0000@IST@30"));
	assert_non_null(strstr(err.msg, "issuer"));
	assert_true(strlen(err.fix) > 0);
	chain_free(&c);
}

/* The intermediate signed with an ID other than the default: the depth-1
 * link must fail (so the default ID is really in use there). */
static void chain_sm2_wrong_id_at_depth_1(void **state)
{
	struct chain c;
	gm_error err;

	(void)state;
	chain_make(&c, "SM2", "SM2", "SM2", "ALICE123@YAHOO.COM");
	assert_int_equal(verify(&c, c.leaf, c.inter, T_2026, &err), -1);
	assert_non_null(strstr(err.msg, "depth 1"));
	assert_non_null(strstr(err.msg, "CN=Sub"));
	assert_non_null(strstr(err.msg, "signature failure"));
	chain_free(&c);
}

static void chain_mixed_and_classic(void **state)
{
	struct chain c;

	(void)state;
	chain_make(&c, "SM2", "SM2", "P-256", NULL);	/* P-256 leaf, SM2 CA */
	EXPECT_OK(&c, c.leaf, c.inter);
	chain_free(&c);
	chain_make(&c, "RSA", NULL, "RSA", NULL);
	EXPECT_OK(&c, c.leaf, NULL);
	chain_free(&c);
	chain_make(&c, "RSA", "P-256", "SM2", NULL);	/* SM2 leaf, other CA */
	EXPECT_OK(&c, c.leaf, c.inter);
	chain_free(&c);
}

static void chain_untrusted_root(void **state)
{
	struct chain c, other;
	gm_error err;

	(void)state;
	chain_make(&other, "SM2", NULL, "SM2", NULL);
	chain_make(&c, "SM2", "SM2", "SM2", NULL);
	free(c.bundle);
	c.bundle = write_pem("other.pem", other.leaf, NULL);	/* another name */
	assert_int_equal(verify(&c, c.leaf, c.inter, T_2026, &err), -1);
	assert_int_equal(err.code, GM_EXIT_VERIFY);
	assert_non_null(strstr(err.msg, "depth 1"));
	assert_non_null(strstr(err.msg, "unable to get local issuer"));
	chain_free(&c);
	chain_free(&other);

	/* a root with the same name but another key */
	chain_make(&other, "SM2", NULL, "SM2", NULL);
	chain_make(&c, "SM2", "SM2", "SM2", NULL);
	free(c.bundle);
	c.bundle = write_pem("other.pem", other.root, NULL);
	assert_int_equal(verify(&c, c.leaf, c.inter, T_2026, &err), -1);
	assert_int_equal(err.code, GM_EXIT_VERIFY);
	assert_non_null(strstr(err.msg, "depth 1"));
	chain_free(&c);
	chain_free(&other);
}

static void chain_expired(void **state)
{
	struct chain c;
	gm_error err;

	(void)state;
	chain_make(&c, "SM2", "SM2", "SM2", NULL);
	/* OpenSSL counts notAfter itself as expired (RFC 5280 would not) */
	assert_int_equal(verify(&c, c.leaf, c.inter, T_2030 - 1, &err), 0);
	assert_int_equal(verify(&c, c.leaf, c.inter, T_2030 + 1, &err), -1);
	assert_non_null(strstr(err.msg, "depth 0"));
	assert_non_null(strstr(err.msg, "expired"));
	assert_int_equal(verify(&c, c.leaf, c.inter, T_2025 - 1, &err), -1);
	assert_non_null(strstr(err.msg, "not yet valid"));
	assert_int_equal(verify(&c, c.leaf, c.inter, T_2035 + 1, &err), -1);
	chain_free(&c);
}

static void chain_tampered(void **state)
{
	struct chain c;
	gm_error err;
	X509 *bad;

	(void)state;
	chain_make(&c, "SM2", "SM2", "SM2", NULL);
	bad = tampered(c.leaf);
	assert_int_equal(verify(&c, bad, c.inter, T_2026, &err), -1);
	assert_non_null(strstr(err.msg, "depth 0"));
	assert_non_null(strstr(err.msg, "signature failure"));
	assert_non_null(strstr(err.fix, "do not install"));
	X509_free(bad);
	bad = tampered(c.inter);
	assert_int_equal(verify(&c, c.leaf, bad, T_2026, &err), -1);
	assert_non_null(strstr(err.msg, "depth 1"));
	X509_free(bad);
	chain_free(&c);
}

static void chain_bad_bundle(void **state)
{
	struct chain c;
	gm_error err;
	char *path;

	(void)state;
	chain_make(&c, "SM2", NULL, "SM2", NULL);
	free(c.bundle);
	c.bundle = path_of("no-such-bundle.pem");
	assert_int_equal(verify(&c, c.leaf, NULL, T_2026, &err), -1);
	assert_int_equal(err.code, GM_EXIT_USAGE);
	assert_non_null(strstr(err.msg, "no-such-bundle.pem"));
	path = write_bytes("junk.pem", "junk\n", 5);
	free(c.bundle);
	c.bundle = path;
	assert_int_equal(verify(&c, c.leaf, NULL, T_2026, &err), -1);
	assert_int_equal(err.code, GM_EXIT_USAGE);
	chain_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(facts_sm2_sample),
		cmocka_unit_test(facts_key_algorithms),
		cmocka_unit_test(facts_names),
		cmocka_unit_test(facts_nul_in_name),
		cmocka_unit_test(facts_serials),
		cmocka_unit_test(facts_generalized_time),
		cmocka_unit_test(facts_corrupt),
		cmocka_unit_test(facts_read_as_parse),
		cmocka_unit_test(facts_key_is_exact),
		cmocka_unit_test(load_files),
		cmocka_unit_test(chain_sm2_two_levels),
		cmocka_unit_test(chain_sm2_ids_of_the_caller),
		cmocka_unit_test(chain_sm2_three_levels),
		cmocka_unit_test(chain_sm2_wrong_id_at_depth_1),
		cmocka_unit_test(chain_mixed_and_classic),
		cmocka_unit_test(chain_untrusted_root),
		cmocka_unit_test(chain_expired),
		cmocka_unit_test(chain_tampered),
		cmocka_unit_test(chain_bad_bundle),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
