/*
 * fuzz_csr_subject.c - the subject the service sends for the request
 * (csr_requirements.subject_der, src/crypto/csr.c): any DER bytes as the
 * subject of a PKCS#10 request for an SM2 and a P-256 key, signed through
 * the callback as the token would sign. No input may crash, leak or read
 * out of bounds, and an accepted subject gives a request that OpenSSL
 * reads back with the same subject.
 *
 * Seeds: tests/fuzz/corpus/csr_subject (the reference service's subjects:
 * UTF-8 names in Chinese, several OUs; made by make_seeds.py). Built and
 * run by scripts/fuzz.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "gmrenew/common.h"
#include "gmrenew/crypto.h"
#include "fuzz_util.h"

static EVP_PKEY *sm2_key, *p256_key;

/* The token's part: the private key signs the 32-byte digest as the token
 * does (no hashing); ctx is the key. */
static int soft_sign(void *ctx, const unsigned char digest[GM_DIGEST_LEN],
		     unsigned char **sig, size_t *sig_len, gm_error *err)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(ctx, NULL);
	size_t n = 0;
	int ret = -1;

	(void)err;
	*sig = NULL;
	if (c && EVP_PKEY_sign_init(c) > 0 &&
	    EVP_PKEY_sign(c, NULL, &n, digest, GM_DIGEST_LEN) > 0) {
		*sig = OPENSSL_malloc(n);
		if (*sig && EVP_PKEY_sign(c, *sig, &n, digest, GM_DIGEST_LEN) > 0) {
			*sig_len = n;
			ret = 0;
		}
	}
	EVP_PKEY_CTX_free(c);
	if (ret < 0)
		abort();	/* the fixture itself failed */
	return ret;
}

static EVP_PKEY *make_key(const char *type, const char *curve)
{
	EVP_PKEY *k = NULL;
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);

	if (!c || EVP_PKEY_keygen_init(c) <= 0 ||
	    (curve && EVP_PKEY_CTX_set_group_name(c, curve) <= 0) ||
	    EVP_PKEY_keygen(c, &k) <= 0)
		abort();
	EVP_PKEY_CTX_free(c);
	return k;
}

static void request(gm_sig_scheme scheme, EVP_PKEY *key, const uint8_t *data,
		    size_t size)
{
	unsigned char *csr = NULL;
	const unsigned char *p;
	size_t len = 0;
	gm_error err;
	X509_REQ *req;
	X509_NAME *want = NULL;

	if (gm_csr_build(scheme, data, size, key, soft_sign, key, &csr, &len,
			 &err) < 0)
		return;
	p = csr;
	req = d2i_X509_REQ(NULL, &p, (long)len);
	p = data;
	if (!req || !d2i_X509_NAME(&want, &p, (long)size) ||
	    X509_NAME_cmp(X509_REQ_get_subject_name(req), want) != 0)
		abort();	/* the request carries the subject it was given */
	X509_NAME_free(want);
	X509_REQ_free(req);
	OPENSSL_free(csr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!sm2_key) {
		sm2_key = make_key("SM2", NULL);
		p256_key = make_key("EC", "P-256");
	}
	request(GM_SIG_SM2_SM3, sm2_key, data, size);
	request(GM_SIG_ECDSA_SHA256, p256_key, data, size);
	ERR_clear_error();
	return 0;
}
