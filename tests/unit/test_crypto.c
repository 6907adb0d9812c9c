/*
 * test_crypto.c - the SM2 Z value and digests against OpenSSL's own SM2 code
 * and the openssl command, signature encoding, public keys from PKCS#11
 * attributes, and CSRs signed through a callback and checked by
 * `openssl req -verify`.
 *
 * Needs the openssl command on PATH: the tests fail (not skip) without it.
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
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "gmrenew/common.h"
#include "gmrenew/crypto.h"

#define ID GM_SM2_DEFAULT_ID
static const unsigned char OID_SM2[] = { 0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf,
					  0x55, 0x01, 0x82, 0x2d };
static const unsigned char OID_P256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
					   0x3d, 0x03, 0x01, 0x07 };
static const unsigned char OID_K256[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00,
					   0x0a };	/* secp256k1 */

static char tmpdir[64];

/* ---- helpers ---- */

static char *path_of(const char *name)
{
	return gm_xasprintf("%s/%s", tmpdir, name);
}

static void write_file(const char *name, const void *p, size_t n)
{
	char *path = path_of(name);
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	free(path);
}

static unsigned char *read_back(const char *name, size_t *n)
{
	char *path = path_of(name);
	unsigned char *data = NULL;

	assert_int_equal(gm_read_file(path, 1 << 20, &data, n, NULL), 0);
	free(path);
	return data;
}

static void write_key(const char *name, EVP_PKEY *k, int private)
{
	char *path = path_of(name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	if (private)
		assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL,
						      NULL), 1);
	else
		assert_int_equal(PEM_write_PUBKEY(f, k), 1);
	fclose(f);
	free(path);
}

/* Runs a shell command in the temp dir; returns its exit status. */
static int run(const char *fmt, ...)
{
	char cmd[1024], full[1200];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "cd '%s' && %s >out.txt 2>&1", tmpdir, cmd);
	st = system(full);
	return st == -1 ? -1 : WEXITSTATUS(st);
}

static EVP_PKEY *keygen(const char *type, const char *curve)
{
	EVP_PKEY *k = curve ? EVP_PKEY_Q_keygen(NULL, NULL, type, curve) :
		      EVP_PKEY_Q_keygen(NULL, NULL, type);

	assert_non_null(k);
	return k;
}

static EVP_PKEY *rsa_keygen(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);

	assert_non_null(k);
	return k;
}

/* The uncompressed public point of an EC/SM2 key. */
static size_t point_of(EVP_PKEY *k, unsigned char *buf, size_t n)
{
	size_t len = 0;

	/* the encoded form is uncompressed on OpenSSL and Tongsuo alike
	 * (Tongsuo gives OSSL_PKEY_PARAM_PUB_KEY compressed) */
	assert_int_equal(EVP_PKEY_get_octet_string_param(k,
			 OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, buf, n, &len), 1);
	return len;
}

/* A public key of OpenSSL key type `type` on `group` (OpenSSL 3.0 takes
 * the SM2 curve only with type "SM2" here). */
static EVP_PKEY *pub_as(EVP_PKEY *k, const char *type, const char *group)
{
	unsigned char pt[133];
	size_t len = point_of(k, pt, sizeof(pt));
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pub = NULL;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
						     (char *)group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
						      pt, len);
	params[2] = OSSL_PARAM_construct_end();
	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &pub, EVP_PKEY_PUBLIC_KEY,
					   params), 1);
	EVP_PKEY_CTX_free(ctx);
	return pub;
}

/* The software "token": signs the digest with OpenSSL (SM2 or ECDSA,
 * whichever the private key's type means). */
static int sw_sign(void *ctx, const unsigned char digest[GM_DIGEST_LEN],
		   unsigned char **sig, size_t *len, gm_error *err)
{
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(NULL, ctx, NULL);
	size_t n = 0;
	int ok;

	ok = pc && EVP_PKEY_sign_init(pc) == 1 &&
	     EVP_PKEY_sign(pc, NULL, &n, digest, GM_DIGEST_LEN) == 1;
	*sig = ok ? OPENSSL_malloc(n) : NULL;
	ok = ok && *sig && EVP_PKEY_sign(pc, *sig, &n, digest,
					 GM_DIGEST_LEN) == 1;
	EVP_PKEY_CTX_free(pc);
	if (!ok)
		return gm_fail(err, GM_EXIT_FAILED, NULL, "software signer failed");
	*len = n;
	return 0;
}

/* Like a PKCS#11 token: returns raw r||s, turned into DER by the library. */
static int raw_sign(void *ctx, const unsigned char digest[GM_DIGEST_LEN],
		    unsigned char **sig, size_t *len, gm_error *err)
{
	unsigned char *der = NULL, rs[64];
	const unsigned char *p;
	const BIGNUM *r, *s;
	ECDSA_SIG *es;
	size_t n = 0;
	int ret;

	if (sw_sign(ctx, digest, &der, &n, err) < 0)
		return -1;
	p = der;
	es = d2i_ECDSA_SIG(NULL, &p, (long)n);
	assert_non_null(es);
	ECDSA_SIG_get0(es, &r, &s);
	assert_int_equal(BN_bn2binpad(r, rs, 32), 32);
	assert_int_equal(BN_bn2binpad(s, rs + 32, 32), 32);
	ECDSA_SIG_free(es);
	OPENSSL_free(der);
	ret = gm_sig_raw_to_der(rs, sizeof(rs), sig, len, err);
	return ret;
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/gm-test-crypto-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	/* the openssl command is required: fail, do not skip */
	if (run("openssl version") != 0) {
		fprintf(stderr, "the openssl command is missing; install it\n");
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- Z and digests ---- */

/* GM/T 0003.5 example on the recommended curve: the public key, ID and Z. */
static void z_known_answer(void **state)
{
	static const char xy[] =
		"04"
		"09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
		"CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13";
	static const char z_hex[] =
		"b2e14c5c79c6df5b85f4fe7ed8db7a262b9da7e07ccb0ea9f4747b8ccda8a4f3";
	static const char e_hex[] =
		"f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640";
	unsigned char *pt = NULL, z[32], e[32];
	size_t pt_len = 0;
	EVP_PKEY *pub;
	char *hex;

	(void)state;
	assert_int_equal(gm_unhex(xy, &pt, &pt_len), 0);
	pub = gm_pubkey_from_ec_point(NULL, 0, pt, pt_len, NULL);
	assert_non_null(pub);
	assert_int_equal(gm_sm2_z(pub, ID, 16, z, NULL), 0);
	hex = gm_hex(z, 32);
	assert_string_equal(hex, z_hex);
	free(hex);
	assert_int_equal(gm_tbs_digest(GM_SIG_SM2_SM3, pub,
				       (const unsigned char *)"message digest",
				       14, e, NULL), 0);
	hex = gm_hex(e, 32);
	assert_string_equal(hex, e_hex);
	free(hex);
	free(pt);
	EVP_PKEY_free(pub);
}

/* openssl signs M with distid; gm_sig_verify recomputes e from our Z. */
static void z_matches_openssl_sign(void **state)
{
	static const char msg[] = "renew JSB0000 \xe5\x9b\xbd\xe5\xaf\x86";
	/* an "EC" key on the SM2 curve (OpenSSL reads its PEM back as SM2) */
	EVP_PKEY *k = keygen("EC", "SM2");
	EVP_PKEY *pub = pub_as(k, "SM2", "SM2");
	EVP_PKEY *ec_pub = k;
	gm_error err;
	unsigned char *sig;
	size_t sig_len;

	(void)state;
	write_key("k.pem", k, 1);
	write_file("m.bin", msg, strlen(msg));
	assert_int_equal(run("openssl pkeyutl -sign -rawin -digest sm3 "
			     "-inkey k.pem -pkeyopt distid:%s -in m.bin "
			     "-out s.bin", ID), 0);
	sig = read_back("s.bin", &sig_len);
	assert_int_equal(gm_sig_verify(GM_SIG_SM2_SM3, pub,
				       (const unsigned char *)msg, strlen(msg),
				       sig, sig_len, &err), 0);
	/* the same point loaded as an "EC" key on the SM2 curve */
	assert_int_equal(gm_sig_verify(GM_SIG_SM2_SM3, ec_pub,
				       (const unsigned char *)msg, strlen(msg),
				       sig, sig_len, &err), 0);
	/* another message, another ID: no */
	assert_int_equal(gm_sig_verify(GM_SIG_SM2_SM3, pub,
				       (const unsigned char *)msg,
				       strlen(msg) - 1, sig, sig_len, &err), -1);
	assert_int_equal(err.code, GM_EXIT_VERIFY);
	free(sig);
	assert_int_equal(run("openssl pkeyutl -sign -rawin -digest sm3 "
			     "-inkey k.pem -in m.bin -out s0.bin"), 0);
	sig = read_back("s0.bin", &sig_len);
	assert_int_equal(gm_sig_verify(GM_SIG_SM2_SM3, pub,
				       (const unsigned char *)msg, strlen(msg),
				       sig, sig_len, &err), -1);
	assert_int_equal(err.code, GM_EXIT_VERIFY);
	free(sig);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(k);
}

/* Z with an ID other than the default, against openssl's distid. */
static void z_custom_id(void **state)
{
	static const char id[] = "ALICE123@YAHOO.COM";
	static const char msg[] = "message digest";
	EVP_PKEY *k = keygen("SM2", NULL);
	EVP_PKEY_CTX *pc;
	EVP_MD_CTX *md;
	unsigned char z[32], e[32], *sig;
	unsigned int e_len = 0;
	size_t sig_len;

	(void)state;
	write_key("k2.pem", k, 1);
	write_file("m2.bin", msg, strlen(msg));
	assert_int_equal(run("openssl pkeyutl -sign -rawin -digest sm3 "
			     "-inkey k2.pem -pkeyopt distid:%s -in m2.bin "
			     "-out s2.bin", id), 0);
	sig = read_back("s2.bin", &sig_len);
	assert_int_equal(gm_sm2_z(k, id, strlen(id), z, NULL), 0);
	md = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestInit_ex(md, EVP_sm3(), NULL), 1);
	EVP_DigestUpdate(md, z, 32);
	EVP_DigestUpdate(md, msg, strlen(msg));
	assert_int_equal(EVP_DigestFinal_ex(md, e, &e_len), 1);
	EVP_MD_CTX_free(md);
	pc = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
	assert_int_equal(EVP_PKEY_verify_init(pc), 1);
	assert_int_equal(EVP_PKEY_verify(pc, sig, sig_len, e, 32), 1);
	EVP_PKEY_CTX_free(pc);
	/* an empty ID is allowed (ENTL 0); an absurd one is not */
	assert_int_equal(gm_sm2_z(k, NULL, 0, z, NULL), 0);
	assert_int_equal(gm_sm2_z(k, id, 8192, z, NULL), -1);
	free(sig);
	EVP_PKEY_free(k);
}

/* The reverse: we make e, OpenSSL signs it raw, the openssl command
 * verifies the message with distid. */
static void digest_verified_by_openssl(void **state)
{
	static const char msg[] = "certificate request body";
	EVP_PKEY *k = keygen("SM2", NULL);
	unsigned char e[32], *sig = NULL;
	size_t sig_len = 0;

	(void)state;
	assert_int_equal(gm_tbs_digest(GM_SIG_SM2_SM3, k,
				       (const unsigned char *)msg, strlen(msg),
				       e, NULL), 0);
	assert_int_equal(sw_sign(k, e, &sig, &sig_len, NULL), 0);
	write_key("pub3.pem", k, 0);
	write_file("m3.bin", msg, strlen(msg));
	write_file("s3.bin", sig, sig_len);
	assert_int_equal(run("openssl pkeyutl -verify -rawin -digest sm3 "
			     "-pubin -inkey pub3.pem -pkeyopt distid:%s "
			     "-in m3.bin -sigfile s3.bin", ID), 0);
	OPENSSL_free(sig);
	EVP_PKEY_free(k);
}

static void tbs_digest_sha256(void **state)
{
	static const char msg[] = "abc";
	static const char want[] =
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	EVP_PKEY *p256 = keygen("EC", "P-256");
	unsigned char e[32];
	gm_error err;
	char *hex;

	(void)state;
	assert_int_equal(gm_tbs_digest(GM_SIG_ECDSA_SHA256, p256,
				       (const unsigned char *)msg, 3, e, NULL), 0);
	hex = gm_hex(e, 32);
	assert_string_equal(hex, want);
	free(hex);
	/* SM2 digest needs an SM2 key */
	assert_int_equal(gm_tbs_digest(GM_SIG_SM2_SM3, p256,
				       (const unsigned char *)msg, 3, e, &err),
			 -1);
	assert_non_null(strstr(err.msg, "SM2"));
	assert_int_equal(gm_tbs_digest((gm_sig_scheme)42, p256,
				       (const unsigned char *)msg, 3, e, &err),
			 -1);
	EVP_PKEY_free(p256);
}

static void scheme_for_key(void **state)
{
	EVP_PKEY *sm2 = keygen("SM2", NULL);
	EVP_PKEY *ec_sm2 = keygen("EC", "SM2");
	EVP_PKEY *p256 = keygen("EC", "P-256");
	EVP_PKEY *p384 = keygen("EC", "P-384");
	EVP_PKEY *rsa = rsa_keygen();
	gm_sig_scheme s;
	gm_error err;

	(void)state;
	assert_int_equal(gm_sig_scheme_for_key(sm2, &s, &err), 0);
	assert_int_equal(s, GM_SIG_SM2_SM3);
	assert_int_equal(gm_sig_scheme_for_key(ec_sm2, &s, &err), 0);
	assert_int_equal(s, GM_SIG_SM2_SM3);
	assert_int_equal(gm_sig_scheme_for_key(p256, &s, &err), 0);
	assert_int_equal(s, GM_SIG_ECDSA_SHA256);
	assert_int_equal(gm_sig_scheme_for_key(p384, &s, &err), -1);
	assert_non_null(strstr(err.msg, "secp384r1"));
	assert_int_equal(gm_sig_scheme_for_key(rsa, &s, &err), -1);
	assert_non_null(strstr(err.msg, "RSA"));
	EVP_PKEY_free(sm2);
	EVP_PKEY_free(ec_sm2);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(rsa);
}

/* ---- signatures ---- */

static void raw_to_der(void **state)
{
	unsigned char rs[64], *der = NULL;
	const unsigned char *p;
	size_t der_len = 0;
	ECDSA_SIG *sig;
	const BIGNUM *r, *s;
	gm_error err;

	(void)state;
	memset(rs, 0, sizeof(rs));
	rs[0] = 0x80;	/* high bit: DER needs a leading zero */
	rs[31] = 0x01;
	rs[63] = 0x05;	/* s = 5: short */
	assert_int_equal(gm_sig_raw_to_der(rs, 64, &der, &der_len, &err), 0);
	/* SEQUENCE { INTEGER 33 bytes, INTEGER 1 byte } */
	assert_int_equal(der_len, 2 + 2 + 33 + 2 + 1);
	assert_int_equal(der[0], 0x30);
	assert_int_equal(der[3], 33);
	assert_int_equal(der[4], 0x00);
	assert_int_equal(der[5], 0x80);
	p = der;
	sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	assert_non_null(sig);
	ECDSA_SIG_get0(sig, &r, &s);
	assert_int_equal(BN_num_bytes(r), 32);
	assert_true(BN_is_word(s, 5));
	ECDSA_SIG_free(sig);
	OPENSSL_free(der);

	assert_int_equal(gm_sig_raw_to_der(rs, 63, &der, &der_len, &err), -1);
	assert_non_null(strstr(err.msg, "63 bytes"));
	assert_null(der);
	assert_int_equal(gm_sig_raw_to_der(rs, 0, &der, &der_len, &err), -1);
	assert_int_equal(gm_sig_raw_to_der(rs, 200, &der, &der_len, &err), -1);
	memset(rs, 0, 32);	/* r = 0 */
	assert_int_equal(gm_sig_raw_to_der(rs, 64, &der, &der_len, &err), -1);
}

/* FEITIAN's C_Sign answer: r right-aligned in bytes 0-63, s in 64-127. */
static void sig_formats(void **state)
{
	unsigned char rs[64], blob[128], *der = NULL, *der2 = NULL;
	size_t der_len = 0, der2_len = 0;
	gm_error err;

	(void)state;
	for (size_t i = 0; i < 64; i++)
		rs[i] = (unsigned char)(i + 1);
	memset(blob, 0, sizeof(blob));
	memcpy(blob + 32, rs, 32);
	memcpy(blob + 96, rs + 32, 32);
	assert_int_equal(gm_sig_to_der(GM_SIGFMT_RAW, rs, 64, &der, &der_len,
				       &err), 0);
	assert_int_equal(gm_sig_to_der(GM_SIGFMT_SKF_BLOB, blob, 128, &der2,
				       &der2_len, &err), 0);
	assert_int_equal(der_len, der2_len);
	assert_memory_equal(der, der2, der_len);
	OPENSSL_free(der2);
	/* DER passes as it is, once checked */
	assert_int_equal(gm_sig_to_der(GM_SIGFMT_DER, der, der_len, &der2,
				       &der2_len, &err), 0);
	assert_memory_equal(der, der2, der_len);
	OPENSSL_free(der2);
	assert_int_equal(gm_sig_to_der(GM_SIGFMT_DER, der, der_len - 1, &der2,
				       &der2_len, &err), -1);
	assert_int_equal(gm_sig_to_der(GM_SIGFMT_DER, rs, 64, &der2,
				       &der2_len, &err), -1);
	OPENSSL_free(der);
	/* a blob where r||s is expected is refused, and the other way */
	assert_int_equal(gm_sig_to_der(GM_SIGFMT_RAW, blob, 128, &der,
				       &der_len, &err), -1);
	assert_non_null(strstr(err.msg, "128 bytes"));
	assert_null(der);
	assert_int_equal(gm_sig_to_der(GM_SIGFMT_SKF_BLOB, rs, 64, &der,
				       &der_len, &err), -1);
	/* r wider than 32 bytes in the blob */
	blob[0] = 1;
	assert_int_equal(gm_sig_to_der(GM_SIGFMT_SKF_BLOB, blob, 128, &der,
				       &der_len, &err), -1);
}

/* FEITIAN keeps SM2 public keys as X||Y in CKA_MODULUS. */
static void pubkey_from_xy(void **state)
{
	EVP_PKEY *sm2 = keygen("SM2", NULL), *back;
	unsigned char pt[65];
	size_t len = 0;
	gm_error err;

	(void)state;
	len = point_of(sm2, pt, sizeof(pt));	/* uncompressed, on Tongsuo too */
	assert_int_equal(len, 65);
	back = gm_pubkey_from_xy(NULL, 0, pt + 1, 64, &err);
	assert_non_null(back);
	assert_true(gm_pubkey_equal(sm2, back));
	EVP_PKEY_free(back);
	assert_null(gm_pubkey_from_xy(NULL, 0, pt, 65, &err));
	pt[10] ^= 1;	/* off the curve */
	assert_null(gm_pubkey_from_xy(NULL, 0, pt + 1, 64, &err));
	EVP_PKEY_free(sm2);
}

/* The fingerprint is SHA-256 of exactly what i2d_PUBKEY gives, for every
 * kind of key (the named-curve keys take a path without the encoder). */
static void assert_spki_as_openssl(EVP_PKEY *k)
{
	unsigned char *der = NULL, md[32], fp[32];
	unsigned int md_len = 0;
	int n = i2d_PUBKEY(k, &der);
	gm_error err;

	assert_true(n > 0);
	assert_int_equal(EVP_Digest(der, (size_t)n, md, &md_len, EVP_sha256(),
				    NULL), 1);
	assert_int_equal(gm_pubkey_sha256(k, fp, &err), 0);
	assert_memory_equal(fp, md, 32);
	OPENSSL_free(der);
}

static void pubkey_fingerprint_is_spki(void **state)
{
	const char *curves[] = { "SM2", "P-256", "P-384", "P-521" };
	EVP_PKEY *k, *back, *other;
	unsigned char pt[65];
	size_t i, len;

	(void)state;
	k = keygen("SM2", NULL);
	assert_spki_as_openssl(k);
	len = point_of(k, pt, sizeof(pt));
	back = gm_pubkey_from_xy(NULL, 0, pt + 1, len - 1, NULL);
	assert_non_null(back);
	assert_spki_as_openssl(back);
	assert_int_equal(gm_pubkey_equal(k, back), 1);
	other = keygen("SM2", NULL);
	assert_int_equal(gm_pubkey_equal(k, other), 0);
	/* keys are made from one per curve: each keeps its own point */
	len = point_of(other, pt, sizeof(pt));
	{
		EVP_PKEY *back2 = gm_pubkey_from_xy(NULL, 0, pt + 1, len - 1,
						    NULL);

		assert_non_null(back2);
		assert_true(EVP_PKEY_is_a(back2, "SM2"));
		assert_int_equal(gm_pubkey_equal(back2, other), 1);
		assert_int_equal(gm_pubkey_equal(back, k), 1);
		assert_int_equal(gm_pubkey_equal(back, back2), 0);
		EVP_PKEY_free(back2);
	}
	EVP_PKEY_free(other);
	EVP_PKEY_free(back);
	EVP_PKEY_free(k);
	for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
		k = keygen("EC", curves[i]);
		assert_spki_as_openssl(k);
		/* a key kept in compressed form encodes compressed */
		assert_int_equal(EVP_PKEY_set_utf8_string_param(k,
				 OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
				 "compressed"), 1);
		assert_spki_as_openssl(k);
		EVP_PKEY_free(k);
	}
	k = rsa_keygen();
	assert_spki_as_openssl(k);
	EVP_PKEY_free(k);
}

static void sign_message_sm2_and_p256(void **state)
{
	static const unsigned char msg[] = "hello";
	EVP_PKEY *sm2 = keygen("SM2", NULL);
	EVP_PKEY *p256 = keygen("EC", "P-256");
	unsigned char *sig = NULL;
	size_t sig_len = 0;
	gm_error err;

	(void)state;
	assert_int_equal(gm_sign_message(GM_SIG_SM2_SM3, sm2, raw_sign, sm2, msg,
					 5, &sig, &sig_len, &err), 0);
	assert_int_equal(gm_sig_verify(GM_SIG_SM2_SM3, sm2, msg, 5, sig,
				       sig_len, &err), 0);
	/* an SM2 signature is not an ECDSA one */
	assert_int_equal(gm_sig_verify(GM_SIG_ECDSA_SHA256, sm2, msg, 5, sig,
				       sig_len, &err), -1);
	assert_int_equal(err.code, GM_EXIT_VERIFY);
	OPENSSL_free(sig);

	assert_int_equal(gm_sign_message(GM_SIG_ECDSA_SHA256, p256, sw_sign,
					 p256, msg, 5, &sig, &sig_len, &err), 0);
	assert_int_equal(gm_sig_verify(GM_SIG_ECDSA_SHA256, p256, msg, 5, sig,
				       sig_len, &err), 0);
	sig[sig_len - 1] ^= 1;
	assert_int_equal(gm_sig_verify(GM_SIG_ECDSA_SHA256, p256, msg, 5, sig,
				       sig_len, &err), -1);
	assert_int_equal(err.code, GM_EXIT_VERIFY);
	OPENSSL_free(sig);
	EVP_PKEY_free(sm2);
	EVP_PKEY_free(p256);
}

/* A token that signs plain ECDSA with its SM2-curve key (as SoftHSM2 does)
 * is caught before its signature goes anywhere. */
static void sign_message_wrong_mechanism(void **state)
{
	static const unsigned char msg[] = "hello";
	EVP_PKEY *ec_sm2 = keygen("EC", "SM2");
	unsigned char *sig = NULL;
	size_t sig_len = 0;
	gm_error err;

	(void)state;
	assert_int_equal(gm_sign_message(GM_SIG_SM2_SM3, ec_sm2, sw_sign, ec_sm2,
					 msg, 5, &sig, &sig_len, &err), -1);
	assert_null(sig);
	assert_int_equal(err.code, GM_EXIT_VERIFY);
	assert_non_null(strstr(err.msg, "does not verify"));
	assert_non_null(strstr(err.fix, "mechanism"));
	EVP_PKEY_free(ec_sm2);
}

/* ---- public keys from PKCS#11 attributes ---- */

static void pubkey_from_point_forms(void **state)
{
	EVP_PKEY *sm2 = keygen("SM2", NULL);
	EVP_PKEY *p256 = keygen("EC", "P-256");
	unsigned char pt[65], der[67];
	unsigned char h1[32], h2[32];
	EVP_PKEY *k;
	gm_error err;

	(void)state;
	assert_int_equal(point_of(sm2, pt, sizeof(pt)), 65);
	der[0] = 0x04;
	der[1] = 65;
	memcpy(der + 2, pt, 65);

	/* raw point, NULL params: SM2 */
	k = gm_pubkey_from_ec_point(NULL, 0, pt, 65, &err);
	assert_non_null(k);
	assert_true(EVP_PKEY_is_a(k, "SM2"));
	assert_int_equal(gm_pubkey_equal(k, sm2), 1);
	assert_int_equal(gm_pubkey_sha256(k, h1, &err), 0);
	assert_int_equal(gm_pubkey_sha256(sm2, h2, &err), 0);
	assert_memory_equal(h1, h2, 32);
	EVP_PKEY_free(k);
	/* DER OCTET STRING, SM2 OID */
	k = gm_pubkey_from_ec_point(OID_SM2, sizeof(OID_SM2), der, 67, &err);
	assert_non_null(k);
	assert_true(EVP_PKEY_is_a(k, "SM2"));
	assert_int_equal(gm_pubkey_equal(k, sm2), 1);
	assert_int_equal(gm_pubkey_equal(k, p256), 0);
	assert_int_equal(gm_pubkey_equal(k, NULL), 0);
	EVP_PKEY_free(k);

	/* P-256, both forms */
	assert_int_equal(point_of(p256, pt, sizeof(pt)), 65);
	memcpy(der + 2, pt, 65);
	k = gm_pubkey_from_ec_point(OID_P256, sizeof(OID_P256), pt, 65, &err);
	assert_non_null(k);
	assert_true(EVP_PKEY_is_a(k, "EC"));
	assert_int_equal(gm_pubkey_equal(k, p256), 1);
	EVP_PKEY_free(k);
	k = gm_pubkey_from_ec_point(OID_P256, sizeof(OID_P256), der, 67, &err);
	assert_non_null(k);
	assert_int_equal(gm_pubkey_equal(k, p256), 1);
	EVP_PKEY_free(k);

	/* the SHA-256 is that of the DER SubjectPublicKeyInfo */
	{
		unsigned char *spki = NULL, want[32];
		unsigned int n = 0;
		int len = i2d_PUBKEY(p256, &spki);

		assert_true(len > 0);
		EVP_Digest(spki, (size_t)len, want, &n, EVP_sha256(), NULL);
		assert_int_equal(gm_pubkey_sha256(p256, h1, &err), 0);
		assert_memory_equal(h1, want, 32);
		OPENSSL_free(spki);
	}
	EVP_PKEY_free(sm2);
	EVP_PKEY_free(p256);
}

static void pubkey_from_point_garbage(void **state)
{
	EVP_PKEY *sm2 = keygen("SM2", NULL);
	unsigned char pt[65], bad[65];
	static const unsigned char explicit_params[] = { 0x30, 0x03, 0x02, 0x01,
							 0x01 };
	static const unsigned char junk_oid[] = { 0x06, 0x08, 0x2a, 0x81 };
	gm_error err;

	(void)state;
	point_of(sm2, pt, sizeof(pt));
	/* wrong length */
	assert_null(gm_pubkey_from_ec_point(NULL, 0, pt, 64, &err));
	assert_non_null(strstr(err.msg, "not a point"));
	assert_null(gm_pubkey_from_ec_point(NULL, 0, pt, 0, &err));
	assert_null(gm_pubkey_from_ec_point(NULL, 0, NULL, 65, &err));
	/* not on the curve */
	memcpy(bad, pt, 65);
	bad[64] ^= 0x01;
	assert_null(gm_pubkey_from_ec_point(NULL, 0, bad, 65, &err));
	assert_non_null(strstr(err.msg, "not a point on curve 'SM2'"));
	/* an SM2 point is not a P-256 point */
	assert_null(gm_pubkey_from_ec_point(OID_P256, sizeof(OID_P256), pt, 65,
					    &err));
	/* params */
	assert_null(gm_pubkey_from_ec_point(OID_K256, sizeof(OID_K256), pt, 65,
					    &err));
	assert_non_null(strstr(err.msg, "unsupported EC curve '1.3.132.0.10'"));
	assert_null(gm_pubkey_from_ec_point(explicit_params,
					    sizeof(explicit_params), pt, 65,
					    &err));
	assert_non_null(strstr(err.msg, "explicit"));
	assert_null(gm_pubkey_from_ec_point(junk_oid, sizeof(junk_oid), pt, 65,
					    &err));
	assert_non_null(strstr(err.msg, "not a DER curve OID"));
	/* the OpenSSL error queue is left clean */
	assert_int_equal(ERR_peek_error(), 0);
	EVP_PKEY_free(sm2);
}

/* ---- CSRs ---- */

static unsigned char *subject_der(size_t *len)
{
	X509_NAME *n = X509_NAME_new();
	unsigned char *der = NULL;
	int l;

	assert_non_null(n);
	X509_NAME_add_entry_by_txt(n, "C", MBSTRING_UTF8,
				   (const unsigned char *)"CN", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
				   (const unsigned char *)"SSCCCA", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_UTF8,
				   (const unsigned char *)"CCNET", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_UTF8, (const unsigned char *)
				   "\xe6\xb7\xb1\xe8\xaf\x81\xe9\x80\x9a"
				   "CCNET\xe8\xaf\x81\xe4\xb9\xa6\xe6\xb5\x8b"
				   "\xe8\xaf\x95", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
				   (const unsigned char *)"JSB0000@IST@30", -1,
				   -1, 0);
	l = i2d_X509_NAME(n, &der);
	assert_true(l > 0);
	X509_NAME_free(n);
	*len = (size_t)l;
	return der;
}

static X509_REQ *parse_req(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)len);

	assert_non_null(req);
	assert_ptr_equal(p, der + len);
	return req;
}

static void csr_sm2_verified_by_openssl(void **state)
{
	EVP_PKEY *k = keygen("SM2", NULL);
	unsigned char *subj, *csr = NULL, *sd = NULL;
	size_t subj_len, csr_len = 0;
	ASN1_OCTET_STRING *id;
	X509_REQ *req;
	EVP_PKEY *got;
	gm_error err;
	int sd_len;

	(void)state;
	subj = subject_der(&subj_len);
	assert_int_equal(gm_csr_build(GM_SIG_SM2_SM3, subj, subj_len, k,
				      raw_sign, k, &csr, &csr_len, &err), 0);
	write_file("sm2.csr", csr, csr_len);
	assert_int_equal(run("openssl req -in sm2.csr -inform DER -verify "
			     "-noout -vfyopt distid:%s", ID), 0);
	/* the SM3withSM2 OID, 1.2.156.10197.1.501 */
	assert_int_equal(run("openssl asn1parse -inform DER -in sm2.csr | "
			     "grep -q SM2-with-SM3"), 0);

	req = parse_req(csr, csr_len);
	assert_int_equal(X509_REQ_get_signature_nid(req), NID_SM2_with_SM3);
	sd_len = i2d_X509_NAME(X509_REQ_get_subject_name(req), &sd);
	assert_int_equal((size_t)sd_len, subj_len);
	assert_memory_equal(sd, subj, subj_len);
	got = X509_REQ_get_pubkey(req);
	assert_int_equal(gm_pubkey_equal(got, k), 1);
	/* and in process, with the ID set on the request */
	id = ASN1_OCTET_STRING_new();
	ASN1_OCTET_STRING_set(id, (const unsigned char *)ID, 16);
	X509_REQ_set0_distinguishing_id(req, id);
	assert_int_equal(X509_REQ_verify(req, got), 1);
	EVP_PKEY_free(got);
	X509_REQ_free(req);
	OPENSSL_free(sd);
	OPENSSL_free(csr);
	OPENSSL_free(subj);
	EVP_PKEY_free(k);
}

static void csr_p256_verified_by_openssl(void **state)
{
	EVP_PKEY *k = keygen("EC", "P-256");
	unsigned char *subj, *csr = NULL;
	size_t subj_len, csr_len = 0;
	X509_REQ *req;
	gm_error err;

	(void)state;
	subj = subject_der(&subj_len);
	assert_int_equal(gm_csr_build(GM_SIG_ECDSA_SHA256, subj, subj_len, k,
				      sw_sign, k, &csr, &csr_len, &err), 0);
	write_file("p256.csr", csr, csr_len);
	assert_int_equal(run("openssl req -in p256.csr -inform DER -verify "
			     "-noout"), 0);
	req = parse_req(csr, csr_len);
	assert_int_equal(X509_REQ_get_signature_nid(req), NID_ecdsa_with_SHA256);
	assert_int_equal(X509_REQ_verify(req, k), 1);
	X509_REQ_free(req);
	OPENSSL_free(csr);
	OPENSSL_free(subj);
	EVP_PKEY_free(k);
}

static int failing_sign(void *ctx, const unsigned char digest[GM_DIGEST_LEN],
			unsigned char **sig, size_t *len, gm_error *err)
{
	(void)ctx;
	(void)digest;
	(void)sig;
	(void)len;
	return gm_fail(err, GM_EXIT_PIN, "log in first", "token refused");
}

static void csr_errors(void **state)
{
	EVP_PKEY *k = keygen("SM2", NULL);
	static const unsigned char junk[] = { 0x30, 0x05, 0x01 };
	unsigned char *subj, *csr = NULL;
	size_t subj_len, csr_len = 0;
	gm_error err;

	(void)state;
	subj = subject_der(&subj_len);
	assert_int_equal(gm_csr_build(GM_SIG_SM2_SM3, junk, sizeof(junk), k,
				      sw_sign, k, &csr, &csr_len, &err), -1);
	assert_non_null(strstr(err.msg, "not a DER name"));
	assert_null(csr);
	/* trailing bytes after the name */
	assert_int_equal(gm_csr_build(GM_SIG_SM2_SM3, subj, subj_len - 1, k,
				      sw_sign, k, &csr, &csr_len, &err), -1);
	/* the signer's error comes through, with its code */
	assert_int_equal(gm_csr_build(GM_SIG_SM2_SM3, subj, subj_len, k,
				      failing_sign, NULL, &csr, &csr_len, &err),
			 -1);
	assert_int_equal(err.code, GM_EXIT_PIN);
	assert_non_null(strstr(err.msg, "token refused"));
	assert_null(csr);
	/* scheme and key do not fit */
	assert_int_equal(gm_csr_build(GM_SIG_ECDSA_SHA256, subj, subj_len, k,
				      sw_sign, k, &csr, &csr_len, &err), -1);
	assert_null(csr);
	assert_int_equal(ERR_peek_error(), 0);
	OPENSSL_free(subj);
	EVP_PKEY_free(k);
}

static void openssl_error_text(void **state)
{
	static const unsigned char junk[] = { 0x30, 0x80, 0x00 };
	const unsigned char *p = junk;
	char buf[256];

	(void)state;
	assert_null(d2i_X509(NULL, &p, sizeof(junk)));
	assert_int_not_equal(ERR_peek_error(), 0);
	gm_openssl_error(buf, sizeof(buf));
	assert_true(strlen(buf) > 0);
	assert_int_equal(ERR_peek_error(), 0);
	assert_string_equal(gm_openssl_error(buf, sizeof(buf)),
			    "no details from OpenSSL");
	/* a tiny buffer is terminated */
	p = junk;
	d2i_X509(NULL, &p, sizeof(junk));
	gm_openssl_error(buf, 5);
	assert_true(strlen(buf) <= 4);
	assert_int_equal(ERR_peek_error(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(z_known_answer),
		cmocka_unit_test(z_matches_openssl_sign),
		cmocka_unit_test(z_custom_id),
		cmocka_unit_test(digest_verified_by_openssl),
		cmocka_unit_test(tbs_digest_sha256),
		cmocka_unit_test(scheme_for_key),
		cmocka_unit_test(raw_to_der),
		cmocka_unit_test(sig_formats),
		cmocka_unit_test(pubkey_from_xy),
		cmocka_unit_test(pubkey_fingerprint_is_spki),
		cmocka_unit_test(sign_message_sm2_and_p256),
		cmocka_unit_test(sign_message_wrong_mechanism),
		cmocka_unit_test(pubkey_from_point_forms),
		cmocka_unit_test(pubkey_from_point_garbage),
		cmocka_unit_test(csr_sm2_verified_by_openssl),
		cmocka_unit_test(csr_p256_verified_by_openssl),
		cmocka_unit_test(csr_errors),
		cmocka_unit_test(openssl_error_text),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
