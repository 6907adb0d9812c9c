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

int gm_csr_build(gm_sig_scheme scheme, const unsigned char *subject_der,
		 size_t subject_len, EVP_PKEY *pub, gm_sign_fn sign,
		 void *sign_ctx, unsigned char **csr_der, size_t *csr_len,
		 gm_error *err)
{
	char ossl[256];
	const unsigned char *p = subject_der;
	X509_NAME *name = NULL;
	X509_REQ *req = NULL;
	X509_ALGOR *alg = NULL;
	ASN1_BIT_STRING *bs = NULL;
	unsigned char *tbs = NULL, *sig = NULL, *out = NULL;
	size_t sig_len = 0;
	int tbs_len, out_len, ret = -1;

	*csr_der = NULL;
	*csr_len = 0;
	if (scheme != GM_SIG_SM2_SM3 && scheme != GM_SIG_ECDSA_SHA256)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "unknown signature scheme %d", (int)scheme);
	if (!pub)
		return gm_fail(err, GM_EXIT_FAILED, NULL, "no public key given");
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
		gm_fail(err, GM_EXIT_FAILED, NULL, "cannot fill the request: %s",
			gm_openssl_error(ossl, sizeof(ossl)));
		goto out;
	}
	tbs_len = i2d_re_X509_REQ_tbs(req, &tbs);
	if (tbs_len <= 0) {
		gm_fail(err, GM_EXIT_FAILED, NULL, "cannot encode the request: %s",
			gm_openssl_error(ossl, sizeof(ossl)));
		goto out;
	}
	if (gm_sign_message(scheme, pub, sign, sign_ctx, tbs, (size_t)tbs_len,
			    &sig, &sig_len, err) < 0) {
		gm_error_prefix(err, "cannot sign the certificate request");
		goto out;
	}
	alg = sig_algor(scheme);
	bs = bit_string(sig, sig_len);
	if (!alg || !bs || !X509_REQ_set1_signature_algo(req, alg)) {
		gm_fail(err, GM_EXIT_FAILED, NULL,
			"cannot set the request's signature: %s",
			gm_openssl_error(ossl, sizeof(ossl)));
		goto out;
	}
	X509_REQ_set0_signature(req, bs);
	bs = NULL;	/* owned by req */
	out_len = i2d_X509_REQ(req, &out);
	if (out_len <= 0) {
		gm_fail(err, GM_EXIT_FAILED, NULL, "cannot encode the request: %s",
			gm_openssl_error(ossl, sizeof(ossl)));
		goto out;
	}
	*csr_der = out;	/* caller frees */
	*csr_len = (size_t)out_len;
	ret = 0;
out:
	ASN1_BIT_STRING_free(bs);
	X509_ALGOR_free(alg);
	OPENSSL_free(sig);
	OPENSSL_free(tbs);
	X509_REQ_free(req);
	X509_NAME_free(name);
	return ret;
}
