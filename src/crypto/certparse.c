/*
 * certparse.c - a certificate's parts (RFC 5280) without decoding its
 * public key. OpenSSL 3.0's d2i_X509 sets up a decoder for every
 * certificate's key; the facts a listing shows need the names, serial,
 * dates and the SubjectPublicKeyInfo's bytes, and the key itself only
 * where it is used (certfacts.c decodes it then).
 */
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "crypto_internal.h"
#include "gmrenew/common.h"
#include "gmrenew/crypto.h"

typedef struct {
	X509_ALGOR *algorithm;
	ASN1_BIT_STRING *key;
} GM_SPKI;

ASN1_SEQUENCE(GM_SPKI) = {
	ASN1_SIMPLE(GM_SPKI, algorithm, X509_ALGOR),
	ASN1_SIMPLE(GM_SPKI, key, ASN1_BIT_STRING)
} static_ASN1_SEQUENCE_END(GM_SPKI)

typedef struct {
	ASN1_INTEGER *version;
	ASN1_INTEGER *serial;
	X509_ALGOR *signature;
	X509_NAME *issuer;
	X509_VAL *validity;
	X509_NAME *subject;
	GM_SPKI *spki;
	ASN1_BIT_STRING *issuer_uid;
	ASN1_BIT_STRING *subject_uid;
	STACK_OF(X509_EXTENSION) *extensions;
} GM_TBS;

ASN1_SEQUENCE(GM_TBS) = {
	ASN1_EXP_OPT(GM_TBS, version, ASN1_INTEGER, 0),
	ASN1_SIMPLE(GM_TBS, serial, ASN1_INTEGER),
	ASN1_SIMPLE(GM_TBS, signature, X509_ALGOR),
	ASN1_SIMPLE(GM_TBS, issuer, X509_NAME),
	ASN1_SIMPLE(GM_TBS, validity, X509_VAL),
	ASN1_SIMPLE(GM_TBS, subject, X509_NAME),
	ASN1_SIMPLE(GM_TBS, spki, GM_SPKI),
	ASN1_IMP_OPT(GM_TBS, issuer_uid, ASN1_BIT_STRING, 1),
	ASN1_IMP_OPT(GM_TBS, subject_uid, ASN1_BIT_STRING, 2),
	ASN1_EXP_SEQUENCE_OF_OPT(GM_TBS, extensions, X509_EXTENSION, 3)
} static_ASN1_SEQUENCE_END(GM_TBS)

typedef struct {
	GM_TBS *tbs;
	X509_ALGOR *algorithm;
	ASN1_BIT_STRING *signature;
} GM_CERT;

ASN1_SEQUENCE(GM_CERT) = {
	ASN1_SIMPLE(GM_CERT, tbs, GM_TBS),
	ASN1_SIMPLE(GM_CERT, algorithm, X509_ALGOR),
	ASN1_SIMPLE(GM_CERT, signature, ASN1_BIT_STRING)
} static_ASN1_SEQUENCE_END(GM_CERT)

void gm_crypto_cert_parts_free(gm_cert_parts *p)
{
	if (!p)
		return;
	ASN1_item_free((ASN1_VALUE *)p->cert, ASN1_ITEM_rptr(GM_CERT));
	OPENSSL_free(p->spki_der);
	memset(p, 0, sizeof(*p));
}

/* Version 1, 2 or 3 (0, 1, 2 in DER); unique IDs from version 2 on,
 * extensions in version 3 only (RFC 5280 4.1). */
static int version_ok(const GM_TBS *t)
{
	long v = t->version ? ASN1_INTEGER_get(t->version) : 0;

	if (v < 0 || v > 2)
		return 0;
	if ((t->issuer_uid || t->subject_uid) && v < 1)
		return 0;
	return !t->extensions || v == 2;
}

int gm_crypto_cert_parts(const unsigned char *der, size_t len,
			 gm_cert_parts *out, gm_error *err)
{
	char ossl[256];
	const unsigned char *p = der;
	GM_CERT *c;

	memset(out, 0, sizeof(*out));
	c = (GM_CERT *)ASN1_item_d2i(NULL, &p, (long)len,
				     ASN1_ITEM_rptr(GM_CERT));
	if (!c || !version_ok(c->tbs)) {
		ASN1_item_free((ASN1_VALUE *)c, ASN1_ITEM_rptr(GM_CERT));
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "the certificate (%zu bytes) is not valid DER "
			       "X.509: %s", len,
			       c ? "wrong version" :
			       gm_openssl_error(ossl, sizeof(ossl)));
	}
	out->cert = c;
	out->consumed = (size_t)(p - der);
	out->subject = c->tbs->subject;
	out->issuer = c->tbs->issuer;
	out->serial = c->tbs->serial;
	out->not_before = c->tbs->validity->notBefore;
	out->not_after = c->tbs->validity->notAfter;
	out->extensions = c->tbs->extensions;
	out->spki_len = ASN1_item_i2d((ASN1_VALUE *)c->tbs->spki,
				      &out->spki_der, ASN1_ITEM_rptr(GM_SPKI));
	if (out->spki_len <= 0) {
		gm_crypto_cert_parts_free(out);
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "cannot read the certificate's public key: %s",
			       gm_openssl_error(ossl, sizeof(ossl)));
	}
	return 0;
}

/* A key on sm2p256v1 or a NIST curve, given as an uncompressed point. */
static int ec_named(int curve, const ASN1_BIT_STRING *key, char *out,
		    size_t n, EVP_PKEY **decoded)
{
	if ((key->flags & 0x07) != 0)	/* unused bits in the BIT STRING */
		return -1;
	*decoded = gm_crypto_key_from_point(curve, key->data,
					    (size_t)key->length, NULL);
	ERR_clear_error();
	if (!*decoded)
		return -1;
	if (curve == NID_sm2)
		snprintf(out, n, "SM2");
	else
		snprintf(out, n, "EC-%s", curve == NID_X9_62_prime256v1 ? "P256" :
			 curve == NID_secp384r1 ? "P384" : "P521");
	return 0;
}

/* The curve of an id-ecPublicKey's parameters, when named and one of
 * those ec_named knows; NID_undef otherwise. */
static int named_curve(const X509_ALGOR *alg)
{
	const ASN1_OBJECT *oid;
	const void *param;
	int type, nid;

	X509_ALGOR_get0(&oid, &type, &param, alg);
	if (OBJ_obj2nid(oid) != NID_X9_62_id_ecPublicKey ||
	    type != V_ASN1_OBJECT)
		return NID_undef;
	nid = OBJ_obj2nid((const ASN1_OBJECT *)param);
	switch (nid) {
	case NID_sm2:
	case NID_X9_62_prime256v1:
	case NID_secp384r1:
	case NID_secp521r1:
		return nid;
	}
	return NID_undef;
}

int gm_crypto_spki_facts(const gm_cert_parts *parts, char *alg, size_t n,
			 EVP_PKEY **decoded)
{
	const GM_SPKI *s = ((const GM_CERT *)parts->cert)->tbs->spki;
	const unsigned char *p = parts->spki_der;
	int curve = named_curve(s->algorithm);
	EVP_PKEY *pk;

	*decoded = NULL;
	if (curve != NID_undef && s->key->length > 0 && s->key->data[0] == 0x04)
		return ec_named(curve, s->key, alg, n, decoded);
	/* any other key (a compressed point keeps its form): decoded, as
	 * d2i_X509 would */
	pk = d2i_PUBKEY(NULL, &p, parts->spki_len);
	if (!pk)
		return -1;
	gm_crypto_key_algorithm(pk, alg, n);
	*decoded = pk;
	return 0;
}
