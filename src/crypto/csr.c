/*
 * csr.c - a PKCS#10 request whose signature the token makes: the host
 * encodes the CertificationRequestInfo, digests it (SM3 over Z || TBS, or
 * SHA-256), the callback signs, and the host puts the signature in.
 */
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "crypto_internal.h"
#include "gmrenew/common.h"
#include "gmrenew/crypto.h"

/* The signatureAlgorithm of the request: no parameters for either. */
static X509_ALGOR *sig_algor(gm_sig_scheme scheme)
{
	X509_ALGOR *alg = X509_ALGOR_new();
	int nid = scheme == GM_SIG_SM2_SM3 ? NID_SM2_with_SM3 :
		  NID_ecdsa_with_SHA256;

	if (alg && !X509_ALGOR_set0(alg, OBJ_nid2obj(nid), V_ASN1_UNDEF, NULL)) {
		X509_ALGOR_free(alg);
		alg = NULL;
	}
	return alg;
}

/* A BIT STRING holding exactly these bytes (no unused bits). */
static ASN1_BIT_STRING *bit_string(const unsigned char *p, size_t n)
{
	ASN1_BIT_STRING *bs = ASN1_BIT_STRING_new();

	if (!bs)
		return NULL;
	if (!ASN1_BIT_STRING_set(bs, (unsigned char *)p, (int)n)) {
		ASN1_BIT_STRING_free(bs);
		return NULL;
	}
	/* Otherwise OpenSSL would drop trailing zero bits when encoding. */
	bs->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07L);
	bs->flags |= ASN1_STRING_FLAG_BITS_LEFT;
	return bs;
}

/* A version 1 request for pub with the subject subject_der (a DER name). */
static X509_REQ *new_request(const unsigned char *subject_der,
			     size_t subject_len, EVP_PKEY *pub, gm_error *err)
{
	const unsigned char *p = subject_der;
	X509_NAME *name = NULL;
	X509_REQ *req = NULL;

	if (!subject_der || !subject_len ||
	    !d2i_X509_NAME(&name, &p, (long)subject_len) ||
	    p != subject_der + subject_len) {
		ERR_clear_error();
		gm_fail(err, GM_EXIT_FAILED, NULL,
			"the subject for the request (%zu bytes) is not a DER name",
			subject_len);
		goto out;
	}
	req = X509_REQ_new();
	if (!req || !X509_REQ_set_version(req, X509_REQ_VERSION_1) ||
	    !X509_REQ_set_subject_name(req, name) ||
	    !X509_REQ_set_pubkey(req, pub)) {
		gm_crypto_fail(err, "cannot fill the request: %s");
		X509_REQ_free(req);
		req = NULL;
	}
out:
	X509_NAME_free(name);
	return req;
}

/* Puts the DER signature sig and its algorithm into req. */
static int set_signature(X509_REQ *req, gm_sig_scheme scheme,
			 const unsigned char *sig, size_t sig_len,
			 gm_error *err)
{
	X509_ALGOR *alg = sig_algor(scheme);
	ASN1_BIT_STRING *bs = bit_string(sig, sig_len);
	int ret = 0;

	if (alg && bs && X509_REQ_set1_signature_algo(req, alg))
		X509_REQ_set0_signature(req, bs);	/* req owns bs */
	else
		ret = gm_crypto_fail(err,
				     "cannot set the request's signature: %s");
	if (ret)
		ASN1_BIT_STRING_free(bs);
	X509_ALGOR_free(alg);
	return ret;
}

int gm_csr_build(gm_sig_scheme scheme, const unsigned char *subject_der,
		 size_t subject_len, EVP_PKEY *pub, gm_sign_fn sign,
		 void *sign_ctx, unsigned char **csr_der, size_t *csr_len,
		 gm_error *err)
{
	X509_REQ *req = NULL;
	unsigned char *tbs = NULL, *sig = NULL, *out = NULL;
	size_t sig_len = 0;
	int tbs_len, ret = -1;

	*csr_der = NULL;
	*csr_len = 0;
	if (scheme != GM_SIG_SM2_SM3 && scheme != GM_SIG_ECDSA_SHA256)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "unknown signature scheme %d", (int)scheme);
	if (!pub)
		return gm_fail(err, GM_EXIT_FAILED, NULL, "no public key given");
	req = new_request(subject_der, subject_len, pub, err);
	if (!req)
		return -1;
	tbs_len = i2d_re_X509_REQ_tbs(req, &tbs);
	if (tbs_len <= 0) {
		gm_crypto_fail(err, "cannot encode the request: %s");
		goto out;
	}
	if (gm_sign_message(scheme, pub, sign, sign_ctx, tbs, (size_t)tbs_len,
			    &sig, &sig_len, err) < 0) {
		gm_error_prefix(err, "cannot sign the certificate request");
		goto out;
	}
	if (set_signature(req, scheme, sig, sig_len, err) == 0)
		ret = gm_crypto_der_out(&out, i2d_X509_REQ(req, &out), csr_der,
					csr_len, "cannot encode the request: %s",
					err);
out:
	OPENSSL_free(sig);
	OPENSSL_free(tbs);
	X509_REQ_free(req);
	return ret;
}
