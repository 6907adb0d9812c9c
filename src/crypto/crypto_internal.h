/*
 * crypto_internal.h - helpers shared by the files of src/crypto/ only.
 * Not part of the contract in include/gmrenew/crypto.h.
 */
#ifndef GMRENEW_CRYPTO_INTERNAL_H
#define GMRENEW_CRYPTO_INTERNAL_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "gmrenew/crypto.h"

/* The NID of an EC (or SM2) key's named curve, or NID_undef. */
int gm_crypto_curve_nid(EVP_PKEY *pub);

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

#endif
