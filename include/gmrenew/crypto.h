/*
 * crypto.h - SM2/SM3 (and P-256/RSA) on OpenSSL 3: the SM2 Z value, the
 * digests a token signs, CSRs signed through a callback (the token), X.509
 * facts as the CA's page shows them, and chain verification with the SM2
 * default ID on every link.
 *
 * The lowest layer but common/: it calls only OpenSSL. It never prints.
 */
#ifndef GMRENEW_CRYPTO_H
#define GMRENEW_CRYPTO_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "gmrenew/common.h"

/* The crypto library and its version, e.g. "OpenSSL 3.0.11 19 Sep 2023" or
 * "Tongsuo 8.4.0 (compatible with OpenSSL 3.0.3 ...)". */
const char *gm_crypto_library(void);

/* The SM2 default distinguishing identifier (GM/T 0009). */
#define GM_SM2_DEFAULT_ID "1234567812345678"
#define GM_DIGEST_LEN 32

/* How a signature is made: the host hashes, the token signs 32 bytes. */
typedef enum gm_sig_scheme {
	GM_SIG_SM2_SM3 = 1,	/* e = SM3(Z || M); SM3withSM2 */
	GM_SIG_ECDSA_SHA256,	/* e = SHA-256(M); ecdsa-with-SHA256 */
} gm_sig_scheme;

/* The scheme that fits a public key (SM2 curve or P-256), or -1. */
int gm_sig_scheme_for_key(EVP_PKEY *pub, gm_sig_scheme *out, gm_error *err);

/* Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA) for an SM2 key. */
int gm_sm2_z(EVP_PKEY *pub, const char *id, size_t id_len,
	     unsigned char z[GM_DIGEST_LEN], gm_error *err);

/* The 32-byte digest the token must sign for message msg under scheme:
 * SM3(Z(default ID) || msg) or SHA-256(msg). */
int gm_tbs_digest(gm_sig_scheme scheme, EVP_PKEY *pub, const unsigned char *msg,
		  size_t msg_len, unsigned char out[GM_DIGEST_LEN],
		  gm_error *err);

/* Raw r||s (2 * field size bytes) to a DER ECDSA-Sig-Value; caller frees
 * *der with OPENSSL_free(). */
int gm_sig_raw_to_der(const unsigned char *rs, size_t rs_len,
		      unsigned char **der, size_t *der_len, gm_error *err);

/* The forms a token gives a signature in. */
typedef enum gm_sig_format {
	GM_SIGFMT_RAW = 1,	/* r||s, 64 bytes for a 256-bit curve */
	GM_SIGFMT_SKF_BLOB,	/* 128 bytes: r and s right-aligned in 64 each */
	GM_SIGFMT_DER,		/* ECDSA-Sig-Value */
} gm_sig_format;

/* A token's signature in format fmt to DER; a signature in another form
 * (e.g. a 128-byte blob where r||s is expected) is refused. Caller frees
 * *der with OPENSSL_free(). */
int gm_sig_to_der(gm_sig_format fmt, const unsigned char *sig, size_t sig_len,
		  unsigned char **der, size_t *der_len, gm_error *err);

/* Verifies a DER signature over msg with pub under scheme (SM2 with the
 * default ID). Returns 0 when valid, -1 with err (GM_EXIT_VERIFY) when not. */
int gm_sig_verify(gm_sig_scheme scheme, EVP_PKEY *pub, const unsigned char *msg,
		  size_t msg_len, const unsigned char *sig, size_t sig_len,
		  gm_error *err);

/*
 * A public key from PKCS#11 attributes: CKA_EC_PARAMS (DER OID of the curve)
 * and CKA_EC_POINT (DER OCTET STRING of 04||x||y, or the raw point, as some
 * tokens give it). A NULL params means the SM2 curve. Caller frees with
 * EVP_PKEY_free().
 */
EVP_PKEY *gm_pubkey_from_ec_point(const unsigned char *params, size_t params_len,
				  const unsigned char *point, size_t point_len,
				  gm_error *err);

/* A public key from a raw X||Y (two equal halves, no 04 prefix, as
 * FEITIAN's driver keeps SM2 keys in CKA_MODULUS) on the curve of params
 * (NULL: SM2). Caller frees with EVP_PKEY_free(). */
EVP_PKEY *gm_pubkey_from_xy(const unsigned char *params, size_t params_len,
			    const unsigned char *xy, size_t xy_len,
			    gm_error *err);

/* Whether two public keys are the same key: 1 yes, 0 no. */
int gm_pubkey_equal(EVP_PKEY *a, EVP_PKEY *b);
/* SHA-256 of the DER SubjectPublicKeyInfo. */
int gm_pubkey_sha256(EVP_PKEY *pub, unsigned char out[32], gm_error *err);

/*
 * Signs a 32-byte digest; the token does it. Writes a DER ECDSA-Sig-Value
 * that the caller frees with OPENSSL_free().
 */
typedef int (*gm_sign_fn)(void *ctx, const unsigned char digest[GM_DIGEST_LEN],
			  unsigned char **sig_der, size_t *sig_len,
			  gm_error *err);

/* A DER message signed through sign: digest under scheme, then sign. */
int gm_sign_message(gm_sig_scheme scheme, EVP_PKEY *pub, gm_sign_fn sign,
		    void *sign_ctx, const unsigned char *msg, size_t msg_len,
		    unsigned char **sig_der, size_t *sig_len, gm_error *err);

/*
 * A PKCS#10 CSR for pub with the given subject (DER X509_NAME), signed
 * through sign (SM3withSM2 with Z over the default ID, or
 * ecdsa-with-SHA256). The result verifies with
 * `openssl req -verify -vfyopt distid:1234567812345678`.
 * Caller frees *csr_der with OPENSSL_free().
 */
int gm_csr_build(gm_sig_scheme scheme, const unsigned char *subject_der,
		 size_t subject_len, EVP_PKEY *pub, gm_sign_fn sign,
		 void *sign_ctx, unsigned char **csr_der, size_t *csr_len,
		 gm_error *err);

/* Certificate facts, as the CA's renewal page shows them. */
typedef struct gm_cert_facts {
	X509 *x509;		/* owned */
	char *subject;		/* RFC 4514 one line, UTF-8 kept */
	char *issuer;		/* same form */
	unsigned char *subject_der;	/* DER of the subject name */
	size_t subject_der_len;
	char *serial_hex;	/* lower-case hex, no leading zero bytes */
	char sha256_hex[65];	/* fingerprint of the DER certificate */
	char *gateway;		/* CN up to the first '@'; NULL if none */
	char *organization;	/* first OU; NULL if none */
	char *system;		/* last OU when there are two or more */
	time_t not_before;
	time_t not_after;
	char key_algorithm[24];	/* "SM2", "EC-P256", "RSA-2048", ... */
	EVP_PKEY *pubkey;	/* owned */
	unsigned char spki_sha256[32];
	unsigned char *der;	/* owned: the certificate */
	size_t der_len;
	unsigned char *spki_der;	/* owned: its SubjectPublicKeyInfo */
	size_t spki_der_len;
	/* (certrole.c) keyUsage as GM_KU_* bits, when present; whether
	 * basicConstraints says CA; the role the key usage gives */
	unsigned key_usage;
	int has_key_usage;
	int is_ca;
	int role;		/* GM_ROLE_* */
} gm_cert_facts;

/* keyUsage bits (RFC 5280 4.2.1.3). */
enum {
	GM_KU_DIGITAL_SIGNATURE = 1u << 0,
	GM_KU_NON_REPUDIATION = 1u << 1,
	GM_KU_KEY_ENCIPHERMENT = 1u << 2,
	GM_KU_DATA_ENCIPHERMENT = 1u << 3,
	GM_KU_KEY_AGREEMENT = 1u << 4,
	GM_KU_KEY_CERT_SIGN = 1u << 5,
	GM_KU_CRL_SIGN = 1u << 6,
	GM_KU_ENCIPHER_ONLY = 1u << 7,
};

/* A certificate's role in a double-certificate pair (签名 / 加密): an
 * encryption certificate has keyUsage with an encipherment or key
 * agreement bit and no signing bit; every other is a signing one. */
enum { GM_ROLE_SIGNING = 0, GM_ROLE_ENCRYPTION = 1 };
/* "signing" or "encryption". */
const char *gm_role_name(int role);
/* The checks of an encryption certificate's profile (docs/protocol.md
 * section 3.8, check 3): an SM2 key; keyUsage present with
 * keyEncipherment and none of digitalSignature, nonRepudiation,
 * keyCertSign, cRLSign; not a CA. -1 with GM_EXIT_VERIFY saying which. */
int gm_cert_encryption_profile(const gm_cert_facts *f, gm_error *err);

/* Parses a DER certificate, x509 and pubkey included; on failure err says
 * why (GM_EXIT_FAILED). */
int gm_cert_facts_parse(const unsigned char *der, size_t der_len,
			gm_cert_facts *out, gm_error *err);
/*
 * The same facts, pubkey included, and the same checks, without d2i_X509,
 * which in OpenSSL 3.0 sets up a decoder for every certificate's key (an
 * uncompressed point on SM2 or a NIST curve is made into the key directly):
 * x509 is NULL until gm_cert_facts_decode() fills it.
 */
int gm_cert_facts_read(const unsigned char *der, size_t der_len,
		       gm_cert_facts *out, gm_error *err);
int gm_cert_facts_decode(gm_cert_facts *facts, gm_error *err);
/* Whether pub is the certificate's public key (exact, as gm_pubkey_equal):
 * 1 yes, 0 no. Decodes the certificate's key only when the bytes differ. */
int gm_cert_facts_key_is(const gm_cert_facts *facts, EVP_PKEY *pub);
void gm_cert_facts_release(gm_cert_facts *facts);

/* Reads certificates (PEM, any number; or one DER) from a file. */
int gm_certs_load_file(const char *path, STACK_OF(X509) **out, gm_error *err);

/*
 * Verifies leaf up to a trust anchor in ca_file (PEM bundle), using
 * `untrusted` intermediates, at time `at`. Every SM2 link is verified with
 * the default ID (OpenSSL 3.0 sets distid only at depth 0 by itself).
 * Fails with GM_EXIT_VERIFY and a message naming the depth and the reason.
 */
int gm_chain_verify(X509 *leaf, STACK_OF(X509) *untrusted, const char *ca_file,
		    time_t at, gm_error *err);
/* The same for many certificates: the trust anchors loaded, and the pool of
 * intermediates copied with their ID, once (gm_chain_pool_add); each
 * gm_chain_pool_verify then costs one verification. Once the pool is
 * filled, gm_chain_pool_verify may run on several threads at once: the
 * pool's certificates are only read then (their extensions are decoded
 * when they join it, not on first use). */
typedef struct gm_chain_pool gm_chain_pool;
int gm_chain_pool_new(const char *ca_file, gm_chain_pool **out,
		      gm_error *err);
int gm_chain_pool_add(gm_chain_pool *pool, X509 *untrusted);
int gm_chain_pool_verify(gm_chain_pool *pool, X509 *leaf, time_t at,
			 gm_error *err);
void gm_chain_pool_free(gm_chain_pool *pool);	/* NULL-safe */

/* Drains OpenSSL's error queue into a short text (for messages). */
const char *gm_openssl_error(char *buf, size_t n);

#endif
