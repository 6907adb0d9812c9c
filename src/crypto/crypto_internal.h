/*
 * crypto_internal.h - helpers shared by the files of src/crypto/ only.
 * Not part of the contract in include/gmrenew/crypto.h.
 */
#ifndef GMRENEW_CRYPTO_INTERNAL_H
#define GMRENEW_CRYPTO_INTERNAL_H

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "gmrenew/crypto.h"

/* gm_fail(err, GM_EXIT_FAILED, NULL, fmt, OpenSSL's queued errors): fmt
 * takes one %s, the errors (po/XGETTEXT_OPTIONS marks fmt). Returns -1. */
int gm_crypto_fail(gm_error *err, const char *fmt);

/* Hands the caller what an i2d_* function made in *made (len bytes, its
 * return value): *out = *made, *out_len = len when len > 0; else
 * gm_crypto_fail(err, fail_fmt). Takes &made, so that
 * gm_crypto_der_out(&p, i2d_X(x, &p), ...) reads p after i2d_X set it. */
int gm_crypto_der_out(unsigned char **made, int len, unsigned char **out,
		      size_t *out_len, const char *fail_fmt, gm_error *err);

/* The NID of an EC (or SM2) key's named curve, or NID_undef. */
int gm_crypto_curve_nid(EVP_PKEY *pub);

/* The group of sm2p256v1, P-256, P-384 or P-521, shared (never freed);
 * NULL for other curves. */
const EC_GROUP *gm_crypto_curve_group(int nid);

/* A public key ("SM2" on sm2p256v1, else "EC") from an encoded point on
 * the curve nid, checked on the curve, kept uncompressed. */
EVP_PKEY *gm_crypto_key_from_point(int nid, const unsigned char *pt,
				   size_t len, gm_error *err);

/* Whether pub is an SM2 key: key type "SM2", or EC on the SM2 curve. */
int gm_crypto_is_sm2_key(EVP_PKEY *pub);

/*
 * The same public key with key type "SM2", so that OpenSSL's SM2 signature
 * code handles it. Returns a new reference (EVP_PKEY_free it), or NULL.
 */
EVP_PKEY *gm_crypto_as_sm2(EVP_PKEY *pub, gm_error *err);

/* Verifies a DER signature over a finished 32-byte digest under scheme. */
int gm_crypto_verify_digest(gm_sig_scheme scheme, EVP_PKEY *pub,
			    const unsigned char digest[GM_DIGEST_LEN],
			    const unsigned char *sig, size_t sig_len,
			    gm_error *err);

/* A name as one RFC 4514 line with UTF-8 kept; caller frees. NULL on error. */
char *gm_crypto_name_line(const X509_NAME *name);

/* A certificate's parts, parsed without decoding its public key
 * (certparse.c). Pointers into cert; spki_der is the SubjectPublicKeyInfo
 * in DER (OPENSSL_malloc'd). */
typedef struct gm_cert_parts {
	void *cert;		/* owned */
	size_t consumed;	/* bytes of the input the certificate took */
	const X509_NAME *subject, *issuer;
	const ASN1_INTEGER *serial;
	const ASN1_TIME *not_before, *not_after;
	unsigned char *spki_der;	/* owned */
	int spki_len;
	const STACK_OF(X509_EXTENSION) *extensions;	/* may be NULL */
} gm_cert_parts;

int gm_crypto_cert_parts(const unsigned char *der, size_t len,
			 gm_cert_parts *out, gm_error *err);
void gm_crypto_cert_parts_free(gm_cert_parts *parts);
/* keyUsage, basicConstraints and the role from the extensions
 * (certrole.c); -1 when one of them cannot be decoded. */
int gm_crypto_usage_facts(gm_cert_facts *f,
			  const STACK_OF(X509_EXTENSION) *exts, gm_error *err);

/*
 * The certificate's key, which must be well formed (an EC point on its
 * curve, any other key decodable), in *decoded (caller frees), and its
 * algorithm's name ("SM2", "EC-P256", "RSA-2048", ...). An uncompressed
 * point on SM2 or a NIST curve is made into a key directly; other keys go
 * through OpenSSL's decoder, as d2i_X509 would. -1 when not well formed.
 */
int gm_crypto_spki_facts(const gm_cert_parts *parts, char *alg, size_t n,
			 EVP_PKEY **decoded);

/* The algorithm's name of a decoded key, as gm_crypto_spki_facts says. */
void gm_crypto_key_algorithm(EVP_PKEY *pk, char *out, size_t n);

/* The DER SubjectPublicKeyInfo of a key (i2d_PUBKEY's bytes); caller frees
 * with OPENSSL_free(). Returns the length, <= 0 on failure. */
int gm_crypto_spki_der(EVP_PKEY *pub, unsigned char **der);

/* Gives x the SM2 default ID (GM_SM2_DEFAULT_ID) when its signature is
 * SM3withSM2, for OpenSSL's verification of that signature (chain.c);
 * -1 when out of memory. */
int gm_crypto_x509_set_sm2_id(X509 *x);

#endif
