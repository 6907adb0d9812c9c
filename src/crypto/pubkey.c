/*
 * pubkey.c - public keys: from PKCS#11 EC attributes, as SM2 keys, compared
 * and fingerprinted by their SubjectPublicKeyInfo.
 */
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/x509.h>

#include "crypto_internal.h"
#include "gmrenew/common.h"
#include "gmrenew/crypto.h"

/* Largest uncompressed point we handle: P-521, 1 + 2 * 66 bytes. */
#define POINT_MAX (1 + 2 * 66)

int gm_crypto_curve_nid(EVP_PKEY *pub)
{
	char name[80];
	size_t len = 0;
	int nid;

	if (!pub || !(EVP_PKEY_is_a(pub, "EC") || EVP_PKEY_is_a(pub, "SM2")))
		return NID_undef;
	if (!EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME,
					    name, sizeof(name), &len))
		return NID_undef;
	nid = OBJ_sn2nid(name);
	if (nid == NID_undef)
		nid = OBJ_ln2nid(name);
	if (nid == NID_undef)
		nid = EC_curve_nist2nid(name);
	return nid;
}

int gm_crypto_is_sm2_key(EVP_PKEY *pub)
{
	if (!pub)
		return 0;
	if (EVP_PKEY_is_a(pub, "SM2"))
		return 1;
	return EVP_PKEY_is_a(pub, "EC") && gm_crypto_curve_nid(pub) == NID_sm2;
}

/*
 * The curves gmrenew reads keys on, made once per process (making a group
 * costs more than checking a point on it): read-only after the first use.
 */
static const int curve_nids[] = { NID_sm2, NID_X9_62_prime256v1,
				  NID_secp384r1, NID_secp521r1 };
static EC_GROUP *curve_groups[sizeof(curve_nids) / sizeof(curve_nids[0])];
static CRYPTO_ONCE curves_once = CRYPTO_ONCE_STATIC_INIT;

static void curves_init(void)
{
	size_t i;

	for (i = 0; i < sizeof(curve_nids) / sizeof(curve_nids[0]); i++)
		curve_groups[i] = EC_GROUP_new_by_curve_name(curve_nids[i]);
}

const EC_GROUP *gm_crypto_curve_group(int nid)
{
	size_t i;

	if (!CRYPTO_THREAD_run_once(&curves_once, curves_init))
		return NULL;
	for (i = 0; i < sizeof(curve_nids) / sizeof(curve_nids[0]); i++)
		if (curve_nids[i] == nid)
			return curve_groups[i];
	return NULL;
}

/* A key of the curve from an uncompressed point, by EVP_PKEY_fromdata. */
static EVP_PKEY *key_from_data(int nid, const unsigned char *enc, size_t len)
{
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pkey = NULL;
	OSSL_PARAM params[3];

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
						     (char *)OBJ_nid2sn(nid), 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
						      (void *)enc, len);
	params[2] = OSSL_PARAM_construct_end();
	/* On the SM2 curve the key type must be "SM2" for SM2 signatures. */
	ctx = EVP_PKEY_CTX_new_from_name(NULL, nid == NID_sm2 ? "SM2" : "EC",
					 NULL);
	if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

/*
 * One key per curve (its generator as the point), made once: a new key is
 * a copy of it with the point set, which skips setting up the curve again
 * as EVP_PKEY_fromdata does for every key.
 */
static EVP_PKEY *templates[sizeof(curve_nids) / sizeof(curve_nids[0])];
static CRYPTO_ONCE templates_once = CRYPTO_ONCE_STATIC_INIT;

static void templates_init(void)
{
	unsigned char enc[POINT_MAX];
	size_t i, n;
	const EC_GROUP *g;

	for (i = 0; i < sizeof(curve_nids) / sizeof(curve_nids[0]); i++) {
		g = gm_crypto_curve_group(curve_nids[i]);
		n = g ? EC_POINT_point2oct(g, EC_GROUP_get0_generator(g),
					   POINT_CONVERSION_UNCOMPRESSED, enc,
					   sizeof(enc), NULL) : 0;
		templates[i] = n ? key_from_data(curve_nids[i], enc, n) : NULL;
	}
	ERR_clear_error();
}

static EVP_PKEY *key_of_point(int nid, const unsigned char *enc, size_t len)
{
	EVP_PKEY *pkey = NULL;
	size_t i;

	if (CRYPTO_THREAD_run_once(&templates_once, templates_init))
		for (i = 0; i < sizeof(curve_nids) / sizeof(curve_nids[0]); i++)
			if (curve_nids[i] == nid && templates[i])
				pkey = EVP_PKEY_dup(templates[i]);
	if (pkey && EVP_PKEY_set_octet_string_param(pkey,
			OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, enc, len))
		return pkey;
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return key_from_data(nid, enc, len);
}

EVP_PKEY *gm_crypto_key_from_point(int nid, const unsigned char *pt,
				   size_t len, gm_error *err)
{
	char ossl[256];
	unsigned char enc[POINT_MAX];
	size_t enc_len = 0;
	const EC_GROUP *group = gm_crypto_curve_group(nid);
	EC_POINT *point = NULL;
	EVP_PKEY *pkey = NULL;

	if (!group) {
		gm_fail(err, GM_EXIT_FAILED, NULL, "cannot set up curve '%s': %s",
			OBJ_nid2sn(nid), gm_openssl_error(ossl, sizeof(ossl)));
		goto out;
	}
	point = EC_POINT_new(group);
	if (!point || !EC_POINT_oct2point(group, point, pt, len, NULL) ||
	    EC_POINT_is_at_infinity(group, point) ||
	    EC_POINT_is_on_curve(group, point, NULL) != 1) {
		ERR_clear_error();
		gm_fail(err, GM_EXIT_FAILED,
			"check the token's CKA_EC_POINT encoding",
			"the public point (%zu bytes) is not a point on curve "
			"'%s'", len, OBJ_nid2sn(nid));
		goto out;
	}
	enc_len = EC_POINT_point2oct(group, point, POINT_CONVERSION_UNCOMPRESSED,
				     enc, sizeof(enc), NULL);
	if (enc_len == 0) {
		gm_fail(err, GM_EXIT_FAILED, NULL, "cannot encode the point: %s",
			gm_openssl_error(ossl, sizeof(ossl)));
		goto out;
	}
	pkey = key_of_point(nid, enc, enc_len);
	if (!pkey)
		gm_fail(err, GM_EXIT_FAILED, NULL,
			"cannot build a '%s' public key: %s", OBJ_nid2sn(nid),
			gm_openssl_error(ossl, sizeof(ossl)));
out:
	EC_POINT_free(point);
	return pkey;
}

EVP_PKEY *gm_crypto_as_sm2(EVP_PKEY *pub, gm_error *err)
{
	char ossl[256];
	unsigned char buf[POINT_MAX];
	size_t len = 0;

	if (!gm_crypto_is_sm2_key(pub)) {
		gm_fail(err, GM_EXIT_FAILED, NULL, "not a key on the SM2 curve");
		return NULL;
	}
	if (EVP_PKEY_is_a(pub, "SM2")) {
		if (!EVP_PKEY_up_ref(pub)) {
			gm_fail(err, GM_EXIT_FAILED, NULL, "cannot reference the key");
			return NULL;
		}
		return pub;
	}
	if (!EVP_PKEY_get_octet_string_param(pub, OSSL_PKEY_PARAM_PUB_KEY, buf,
					     sizeof(buf), &len)) {
		gm_fail(err, GM_EXIT_FAILED, NULL,
			"cannot read the public point: %s",
			gm_openssl_error(ossl, sizeof(ossl)));
		return NULL;
	}
	return gm_crypto_key_from_point(NID_sm2, buf, len, err);
}

/* The curve named by CKA_EC_PARAMS: a DER OBJECT IDENTIFIER. */
static int curve_from_params(const unsigned char *params, size_t params_len,
			     int *nid, gm_error *err)
{
	const unsigned char *p = params;
	ASN1_OBJECT *oid = NULL;
	char txt[80];

	if (!params || params_len == 0) {
		*nid = NID_sm2;	/* tokens that give no parameters: SM2 */
		return 0;
	}
	if (params[0] == 0x30)
		return gm_fail(err, GM_EXIT_FAILED,
			       "generate the key on a named curve",
			       "explicit EC curve parameters are not supported");
	if (params_len > 64 ||
	    !d2i_ASN1_OBJECT(&oid, &p, (long)params_len) ||
	    p != params + params_len) {
		ASN1_OBJECT_free(oid);
		ERR_clear_error();
		return gm_fail(err, GM_EXIT_FAILED,
			       "check the token's CKA_EC_PARAMS",
			       "the key's EC parameters (%zu bytes) are not a DER "
			       "curve OID", params_len);
	}
	*nid = OBJ_obj2nid(oid);
	OBJ_obj2txt(txt, sizeof(txt), oid, 1);
	ASN1_OBJECT_free(oid);
	switch (*nid) {
	case NID_sm2:
	case NID_X9_62_prime256v1:
	case NID_secp384r1:
	case NID_secp521r1:
		return 0;
	}
	return gm_fail(err, GM_EXIT_FAILED,
		       "use a key on sm2p256v1 or prime256v1",
		       "unsupported EC curve '%s'", txt);
}

EVP_PKEY *gm_pubkey_from_ec_point(const unsigned char *params, size_t params_len,
				  const unsigned char *point, size_t point_len,
				  gm_error *err)
{
	const unsigned char *p = point;
	ASN1_OCTET_STRING *os = NULL;
	const unsigned char *pt = point;
	size_t pt_len = point_len;
	EVP_PKEY *pkey;
	int nid = NID_undef;

	if (curve_from_params(params, params_len, &nid, err) < 0)
		return NULL;
	if (!point || point_len == 0 || point_len > 2 * POINT_MAX) {
		gm_fail(err, GM_EXIT_FAILED, "check the token's CKA_EC_POINT",
			"the key's EC point is missing or %zu bytes long",
			point_len);
		return NULL;
	}
	/*
	 * PKCS#11 says DER OCTET STRING around 04||x||y; some tokens give the
	 * bare point. The two cannot be confused: a DER form that consumes
	 * all bytes is one byte-pair longer than the bare point it wraps.
	 */
	if (point[0] == V_ASN1_OCTET_STRING &&
	    d2i_ASN1_OCTET_STRING(&os, &p, (long)point_len) &&
	    p == point + point_len && ASN1_STRING_length(os) > 0) {
		pt = ASN1_STRING_get0_data(os);
		pt_len = (size_t)ASN1_STRING_length(os);
	}
	ERR_clear_error();
	pkey = gm_crypto_key_from_point(nid, pt, pt_len, err);
	if (!pkey && os) {
		/* the DER reading was wrong: try the bytes as a bare point */
		pkey = gm_crypto_key_from_point(nid, point, point_len, NULL);
		if (pkey)
			gm_error_clear(err);
	}
	ASN1_OCTET_STRING_free(os);
	return pkey;
}

EVP_PKEY *gm_pubkey_from_xy(const unsigned char *params, size_t params_len,
			    const unsigned char *xy, size_t xy_len,
			    gm_error *err)
{
	unsigned char pt[POINT_MAX];
	int nid = NID_undef;

	if (curve_from_params(params, params_len, &nid, err) < 0)
		return NULL;
	if (!xy || xy_len < 2 || xy_len % 2 || xy_len + 1 > sizeof(pt)) {
		gm_fail(err, GM_EXIT_FAILED,
			"check the profile's public_key setting",
			"the key's X||Y is missing or %zu bytes long", xy_len);
		return NULL;
	}
	pt[0] = 0x04;
	memcpy(pt + 1, xy, xy_len);
	return gm_crypto_key_from_point(nid, pt, xy_len + 1, err);
}

/* The curve and the uncompressed point of a key on a named curve kept in
 * uncompressed form: what its SubjectPublicKeyInfo is made of. 0 when the
 * key is not of that kind. */
static int ec_named_point(EVP_PKEY *pub, int *nid, unsigned char *pt,
			  size_t *len)
{
	char form[32];

	*nid = gm_crypto_curve_nid(pub);
	/* The encoded point is uncompressed whatever the key's form; a key
	 * kept in another form takes OpenSSL's own encoder. */
	if (*nid == NID_undef ||
	    !EVP_PKEY_get_utf8_string_param(pub,
			OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, form,
			sizeof(form), NULL) ||
	    strcmp(form, "uncompressed") != 0 ||
	    !EVP_PKEY_get_octet_string_param(pub,
					     OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
					     pt, POINT_MAX, len) ||
	    *len < 3 || pt[0] != 0x04) {
		ERR_clear_error();
		return 0;
	}
	return 1;
}

/*
 * The SubjectPublicKeyInfo of a key on a named curve, built from its
 * curve OID and encoded point: the bytes i2d_PUBKEY gives (RFC 5480:
 * id-ecPublicKey, the curve's OID, the point), for an SM2 key too, without
 * the encoder OpenSSL 3.0's i2d_PUBKEY sets up for every call. Returns the
 * length, or 0 when the key is not of that kind.
 */
static int ec_spki_der(EVP_PKEY *pub, unsigned char **der)
{
	unsigned char pt[POINT_MAX], *copy;
	size_t len = 0;
	X509_PUBKEY *xp;
	int nid, n = 0;

	if (!ec_named_point(pub, &nid, pt, &len))
		return 0;
	xp = X509_PUBKEY_new();
	copy = OPENSSL_memdup(pt, len);
	if (xp && copy &&
	    X509_PUBKEY_set0_param(xp, OBJ_nid2obj(NID_X9_62_id_ecPublicKey),
				   V_ASN1_OBJECT, OBJ_nid2obj(nid), copy,
				   (int)len)) {
		copy = NULL;	/* xp owns it */
		n = i2d_X509_PUBKEY(xp, der);
	}
	OPENSSL_free(copy);
	X509_PUBKEY_free(xp);
	return n > 0 ? n : 0;
}

int gm_crypto_spki_der(EVP_PKEY *pub, unsigned char **der)
{
	int n;

	*der = NULL;
	if (!pub)
		return -1;
	n = ec_spki_der(pub, der);
	return n > 0 ? n : i2d_PUBKEY(pub, der);
}

int gm_pubkey_equal(EVP_PKEY *a, EVP_PKEY *b)
{
	unsigned char *da = NULL, *db = NULL;
	int la, lb, same;

	unsigned char pa[POINT_MAX], pb[POINT_MAX];
	size_t na = 0, nb = 0;
	int ca, cb;

	/* SPKI, not EVP_PKEY_eq: an "SM2" and an "EC" key on the SM2 curve
	 * with the same point are the same key. But two keys of one type that
	 * EVP_PKEY_eq finds different (another point or curve) are different:
	 * a cheap first look when many pairs are compared. Two keys whose SPKI
	 * is made of a curve and an uncompressed point are compared by those. */
	if (a && b && EVP_PKEY_get0_type_name(a) && EVP_PKEY_get0_type_name(b) &&
	    strcmp(EVP_PKEY_get0_type_name(a), EVP_PKEY_get0_type_name(b)) == 0 &&
	    EVP_PKEY_eq(a, b) == 0) {
		ERR_clear_error();
		return 0;
	}
	if (a && b && ec_named_point(a, &ca, pa, &na) &&
	    ec_named_point(b, &cb, pb, &nb))
		return ca == cb && na == nb && memcmp(pa, pb, na) == 0;
	la = gm_crypto_spki_der(a, &da);
	lb = gm_crypto_spki_der(b, &db);
	same = la > 0 && la == lb && memcmp(da, db, (size_t)la) == 0;
	OPENSSL_free(da);
	OPENSSL_free(db);
	ERR_clear_error();
	return same;
}

int gm_pubkey_sha256(EVP_PKEY *pub, unsigned char out[32], gm_error *err)
{
	char ossl[256];
	unsigned char *der = NULL;
	unsigned int len = 0;
	int n = gm_crypto_spki_der(pub, &der);
	int ret = -1;

	if (n <= 0)
		gm_fail(err, GM_EXIT_FAILED, NULL,
			"cannot encode the public key: %s",
			gm_openssl_error(ossl, sizeof(ossl)));
	else if (!EVP_Digest(der, (size_t)n, out, &len, EVP_sha256(), NULL) ||
		 len != 32)
		gm_fail(err, GM_EXIT_FAILED, NULL, "cannot compute SHA-256: %s",
			gm_openssl_error(ossl, sizeof(ossl)));
	else
		ret = 0;
	OPENSSL_free(der);
	return ret;
}
