/*
 * fuzz_self_signed.h - a self-signed P-256 certificate made in memory, for
 * the targets that need one good certificate next to the fuzzed input.
 */
#ifndef GMRENEW_FUZZ_SELF_SIGNED_H
#define GMRENEW_FUZZ_SELF_SIGNED_H

#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static inline X509 *fuzz_self_signed(void)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();

	if (!key || !x || !name ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
					(const unsigned char *)"fuzz CA", -1,
					-1, 0) ||
	    !X509_set_version(x, X509_VERSION_3) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), 1) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365) ||
	    !X509_set_subject_name(x, name) || !X509_set_issuer_name(x, name) ||
	    !X509_set_pubkey(x, key) || !X509_sign(x, key, EVP_sha256()))
		abort();
	X509_NAME_free(name);
	EVP_PKEY_free(key);
	return x;
}

/* The certificate as PEM text; caller frees. */
static inline char *fuzz_pem(X509 *x, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL, *out;
	long n;

	if (!b || !PEM_write_bio_X509(b, x))
		abort();
	n = BIO_get_mem_data(b, &p);
	out = malloc((size_t)n + 1);
	if (!out)
		abort();
	memcpy(out, p, (size_t)n);
	out[n] = '\0';
	*len = (size_t)n;
	BIO_free(b);
	return out;
}

#endif
