/*
 * sm2.c - the digests a token signs (SM3 over Z || M for SM2, SHA-256 for
 * ECDSA), signature encoding and verification, signing through a callback.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include "crypto_internal.h"
#include "gmrenew/common.h"
#include "gmrenew/crypto.h"

#define SM2_DEFAULT_ID_LEN (sizeof(GM_SM2_DEFAULT_ID) - 1)
/* ENTL is two bytes of bits: an ID of at most 8191 bytes. */
#define SM2_ID_MAX 8191

const char *gm_openssl_error(char *buf, size_t n)
{
	const char *data = NULL;
	unsigned long e;
	size_t used = 0;
	int flags = 0;

	if (!buf || n == 0) {
		ERR_clear_error();
		return "";
	}
	buf[0] = '\0';
	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		const char *reason = ERR_reason_error_string(e);
		char one[256];
		int k;

		if (reason && (flags & ERR_TXT_STRING) && data && *data)
			snprintf(one, sizeof(one), "%s (%s)", reason, data);
		else if (reason)
			snprintf(one, sizeof(one), "%s", reason);
		else
			snprintf(one, sizeof(one), "error %08lx", e);
		if (used + 1 >= n)
			continue;	/* keep draining */
		k = snprintf(buf + used, n - used, "%s%s", used ? "; " : "", one);
		if (k > 0)
			used += (size_t)k < n - used ? (size_t)k : n - used - 1;
	}
	if (!buf[0])
		snprintf(buf, n, "no details from OpenSSL");
	return buf;
}

int gm_crypto_fail(gm_error *err, const char *fmt)
{
	char ossl[256];

	return gm_fail(err, GM_EXIT_FAILED, NULL, fmt,
		       gm_openssl_error(ossl, sizeof(ossl)));
}

int gm_crypto_der_out(unsigned char **made, int len, unsigned char **out,
		      size_t *out_len, const char *fail_fmt, gm_error *err)
{
	if (len <= 0 || !*made)
		return gm_crypto_fail(err, fail_fmt);
	*out = *made;	/* the caller's caller frees */
	*out_len = (size_t)len;
	*made = NULL;
	return 0;
}

int gm_sig_scheme_for_key(EVP_PKEY *pub, gm_sig_scheme *out, gm_error *err)
{
	int nid;

	if (!pub)
		return gm_fail(err, GM_EXIT_FAILED, NULL, "no public key given");
	if (gm_crypto_is_sm2_key(pub)) {
		*out = GM_SIG_SM2_SM3;
		return 0;
	}
	nid = gm_crypto_curve_nid(pub);
	if (nid == NID_X9_62_prime256v1) {
		*out = GM_SIG_ECDSA_SHA256;
		return 0;
	}
	return gm_fail(err, GM_EXIT_FAILED,
		       "use a token key on the SM2 curve (sm2p256v1) or P-256",
		       "no signature scheme for a '%s' key%s%s",
		       EVP_PKEY_get0_type_name(pub) ?
		       EVP_PKEY_get0_type_name(pub) : "unknown",
		       nid != NID_undef ? " on curve " : "",
		       nid != NID_undef ? OBJ_nid2sn(nid) : "");
}

/* The affine coordinates of the key's public point. */
static int pub_point_xy(EVP_PKEY *pub, const EC_GROUP *group, BIGNUM *x,
			BIGNUM *y, BN_CTX *bn)
{
	unsigned char buf[256];
	size_t len = 0;
	EC_POINT *pt = NULL;
	int ok = 0;

	if (!EVP_PKEY_get_octet_string_param(pub, OSSL_PKEY_PARAM_PUB_KEY, buf,
					     sizeof(buf), &len))
		return 0;
	pt = EC_POINT_new(group);
	if (pt && EC_POINT_oct2point(group, pt, buf, len, bn) &&
	    EC_POINT_get_affine_coordinates(group, pt, x, y, bn))
		ok = 1;
	EC_POINT_free(pt);
	return ok;
}

int gm_sm2_z(EVP_PKEY *pub, const char *id, size_t id_len,
	     unsigned char z[GM_DIGEST_LEN], gm_error *err)
{
	char ossl[256];
	EC_GROUP *group = NULL;
	BN_CTX *bn = NULL;
	BIGNUM *v[6] = { NULL };	/* a, b, xG, yG, xA, yA */
	BIGNUM *p = NULL;
	EVP_MD *sm3 = NULL;
	EVP_MD_CTX *md = NULL;
	unsigned char *buf = NULL;
	unsigned char entl[2];
	unsigned int zlen = 0;
	size_t flen;
	int nid, i, ret = -1;

	if (!pub || (!id && id_len))
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "no key or identifier for the SM2 Z value");
	if (id_len > SM2_ID_MAX)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "SM2 identifier of %zu bytes is too long (at most "
			       "%d)", id_len, SM2_ID_MAX);
	nid = gm_crypto_curve_nid(pub);
	if (nid == NID_undef)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "the SM2 Z value needs an EC key on a named curve");

	group = EC_GROUP_new_by_curve_name(nid);
	bn = BN_CTX_new();
	p = BN_new();
	for (i = 0; i < 6; i++)
		v[i] = BN_new();
	if (!group || !bn || !p || !v[5]) {
		gm_fail(err, GM_EXIT_FAILED, NULL, "cannot set up curve '%s': %s",
			OBJ_nid2sn(nid), gm_openssl_error(ossl, sizeof(ossl)));
		goto out;
	}
	if (!EC_GROUP_get_curve(group, p, v[0], v[1], bn) ||
	    !EC_POINT_get_affine_coordinates(group,
					     EC_GROUP_get0_generator(group),
					     v[2], v[3], bn) ||
	    !pub_point_xy(pub, group, v[4], v[5], bn)) {
		gm_crypto_fail(err,
			       "cannot read the curve or the public point: %s");
		goto out;
	}

	flen = ((size_t)EC_GROUP_get_degree(group) + 7) / 8;
	buf = gm_xmalloc(6 * flen);
	for (i = 0; i < 6; i++) {
		if (BN_bn2binpad(v[i], buf + (size_t)i * flen, (int)flen) < 0) {
			gm_fail(err, GM_EXIT_FAILED, NULL,
				"curve value larger than the field");
			goto out;
		}
	}
	entl[0] = (unsigned char)((id_len * 8) >> 8);
	entl[1] = (unsigned char)(id_len * 8);

	sm3 = EVP_MD_fetch(NULL, "SM3", NULL);
	md = EVP_MD_CTX_new();
	if (!sm3 || !md || !EVP_DigestInit_ex(md, sm3, NULL) ||
	    !EVP_DigestUpdate(md, entl, sizeof(entl)) ||
	    (id_len && !EVP_DigestUpdate(md, id, id_len)) ||
	    !EVP_DigestUpdate(md, buf, 6 * flen) ||
	    !EVP_DigestFinal_ex(md, z, &zlen) || zlen != GM_DIGEST_LEN) {
		gm_fail(err, GM_EXIT_FAILED, "check that OpenSSL provides SM3",
			"cannot compute SM3: %s",
			gm_openssl_error(ossl, sizeof(ossl)));
		goto out;
	}
	ret = 0;
out:
	EVP_MD_CTX_free(md);
	EVP_MD_free(sm3);
	OPENSSL_free(buf);
	for (i = 0; i < 6; i++)
		BN_free(v[i]);
	BN_free(p);
	BN_CTX_free(bn);
	EC_GROUP_free(group);
	return ret;
}

/* dst = digest_name(part1 || part2) */
static int hash2(const char *digest_name, const unsigned char *a, size_t a_len,
		 const unsigned char *b, size_t b_len,
		 unsigned char out[GM_DIGEST_LEN], gm_error *err)
{
	char ossl[256];
	EVP_MD *md = EVP_MD_fetch(NULL, digest_name, NULL);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 0;
	int ret = -1;

	if (md && ctx && EVP_DigestInit_ex(ctx, md, NULL) &&
	    (!a_len || EVP_DigestUpdate(ctx, a, a_len)) &&
	    (!b_len || EVP_DigestUpdate(ctx, b, b_len)) &&
	    EVP_DigestFinal_ex(ctx, out, &len) && len == GM_DIGEST_LEN)
		ret = 0;
	else
		gm_fail(err, GM_EXIT_FAILED, NULL, "cannot compute %s: %s",
			digest_name, gm_openssl_error(ossl, sizeof(ossl)));
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(md);
	return ret;
}

int gm_tbs_digest(gm_sig_scheme scheme, EVP_PKEY *pub, const unsigned char *msg,
		  size_t msg_len, unsigned char out[GM_DIGEST_LEN],
		  gm_error *err)
{
	unsigned char z[GM_DIGEST_LEN];

	if (!msg && msg_len)
		return gm_fail(err, GM_EXIT_FAILED, NULL, "no message to digest");
	switch (scheme) {
	case GM_SIG_SM2_SM3:
		if (!pub || !gm_crypto_is_sm2_key(pub))
			return gm_fail(err, GM_EXIT_FAILED, NULL,
				       "SM3withSM2 needs a key on the SM2 curve");
		if (gm_sm2_z(pub, GM_SM2_DEFAULT_ID, SM2_DEFAULT_ID_LEN, z,
			     err) < 0)
			return -1;
		return hash2("SM3", z, sizeof(z), msg, msg_len, out, err);
	case GM_SIG_ECDSA_SHA256:
		return hash2("SHA256", NULL, 0, msg, msg_len, out, err);
	}
	return gm_fail(err, GM_EXIT_FAILED, NULL, "unknown signature scheme %d",
		       (int)scheme);
}

int gm_sig_raw_to_der(const unsigned char *rs, size_t rs_len,
		      unsigned char **der, size_t *der_len, gm_error *err)
{
	ECDSA_SIG *sig = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *out = NULL;
	size_t half = rs_len / 2;
	int ret = -1;

	*der = NULL;
	*der_len = 0;
	/* r||s of a 256-, 384- or 521-bit curve; anything else (a 128-byte
	 * blob among them) is another format. */
	if (!rs || (rs_len != 64 && rs_len != 96 && rs_len != 132))
		return gm_fail(err, GM_EXIT_FAILED,
			       "check the vendor profile's signature format",
			       "the token returned a signature of %zu bytes; "
			       "expected r||s of two equal halves (64 bytes "
			       "for SM2 and P-256)", rs_len);
	r = BN_bin2bn(rs, (int)half, NULL);
	s = BN_bin2bn(rs + half, (int)half, NULL);
	if (!r || !s) {
		gm_fail(err, GM_EXIT_FAILED, NULL, "out of memory in OpenSSL");
		goto out;
	}
	if (BN_is_zero(r) || BN_is_zero(s)) {
		gm_fail(err, GM_EXIT_FAILED,
			"check the vendor profile's signature format",
			"the token returned a signature with r or s equal to 0");
		goto out;
	}
	sig = ECDSA_SIG_new();
	if (!sig || !ECDSA_SIG_set0(sig, r, s)) {
		gm_crypto_fail(err, "cannot build the signature: %s");
		goto out;
	}
	r = s = NULL;	/* owned by sig now */
	ret = gm_crypto_der_out(&out, i2d_ECDSA_SIG(sig, &out), der, der_len,
				"cannot encode the signature: %s", err);
out:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(sig);
	return ret;
}

int gm_crypto_verify_digest(gm_sig_scheme scheme, EVP_PKEY *pub,
			    const unsigned char digest[GM_DIGEST_LEN],
			    const unsigned char *sig, size_t sig_len,
			    gm_error *err)
{
	EVP_PKEY *key = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	int sm2 = gm_crypto_is_sm2_key(pub);
	int ret = -1, r;

	if (scheme == GM_SIG_SM2_SM3 && !sm2)
		return gm_fail(err, GM_EXIT_VERIFY, NULL,
			       "an SM3withSM2 signature needs an SM2 key");
	if (scheme == GM_SIG_ECDSA_SHA256 &&
	    (sm2 || gm_crypto_curve_nid(pub) == NID_undef))
		return gm_fail(err, GM_EXIT_VERIFY, NULL,
			       "an ECDSA signature needs a non-SM2 EC key");
	if (!sig || !sig_len)
		return gm_fail(err, GM_EXIT_VERIFY, NULL, "empty signature");

	if (sm2) {
		key = gm_crypto_as_sm2(pub, err);
		if (!key)
			return -1;
	} else {
		if (!EVP_PKEY_up_ref(pub))
			return gm_fail(err, GM_EXIT_FAILED, NULL,
				       "cannot reference the key");
		key = pub;
	}
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	if (!ctx || EVP_PKEY_verify_init(ctx) <= 0) {
		gm_crypto_fail(err, "cannot set up signature verification: %s");
		goto out;
	}
	r = EVP_PKEY_verify(ctx, sig, sig_len, digest, GM_DIGEST_LEN);
	if (r != 1) {
		ERR_clear_error();
		gm_fail(err, GM_EXIT_VERIFY, NULL, "the %s signature is not valid",
			scheme == GM_SIG_SM2_SM3 ? "SM3withSM2" :
			"ecdsa-with-SHA256");
		goto out;
	}
	ret = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(key);
	return ret;
}

int gm_sig_verify(gm_sig_scheme scheme, EVP_PKEY *pub, const unsigned char *msg,
		  size_t msg_len, const unsigned char *sig, size_t sig_len,
		  gm_error *err)
{
	unsigned char e[GM_DIGEST_LEN];

	if (!pub)
		return gm_fail(err, GM_EXIT_VERIFY, NULL, "no public key given");
	if (gm_tbs_digest(scheme, pub, msg, msg_len, e, err) < 0) {
		if (err)
			err->code = GM_EXIT_VERIFY;
		return -1;
	}
	return gm_crypto_verify_digest(scheme, pub, e, sig, sig_len, err);
}

int gm_sign_message(gm_sig_scheme scheme, EVP_PKEY *pub, gm_sign_fn sign,
		    void *sign_ctx, const unsigned char *msg, size_t msg_len,
		    unsigned char **sig_der, size_t *sig_len, gm_error *err)
{
	unsigned char e[GM_DIGEST_LEN];
	unsigned char *sig = NULL;
	size_t len = 0;

	*sig_der = NULL;
	*sig_len = 0;
	if (!sign)
		return gm_fail(err, GM_EXIT_FAILED, NULL, "no signer given");
	if (gm_tbs_digest(scheme, pub, msg, msg_len, e, err) < 0)
		return -1;
	if (sign(sign_ctx, e, &sig, &len, err) < 0) {
		OPENSSL_free(sig);
		return -1;
	}
	if (!sig || !len) {
		OPENSSL_free(sig);
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "the signer returned no signature");
	}
	/*
	 * A token that signs plain ECDSA with a key on the SM2 curve (or the
	 * wrong digest) gives a signature the CA would reject: check it here.
	 */
	if (gm_crypto_verify_digest(scheme, pub, e, sig, len, err) < 0) {
		OPENSSL_free(sig);
		gm_error_prefix(err, "the token's signature does not verify with "
				"its own public key");
		return gm_error_set_fix(err, "check the vendor profile's sign "
					"mechanism: the token must sign the "
					"finished digest e");
	}
	*sig_der = sig;	/* caller frees */
	*sig_len = len;
	return 0;
}

/* The 128-byte SKF ECCSIGNATUREBLOB: r in bytes 0-63 and s in 64-127,
 * each right-aligned, so the high 32 bytes of each half are zero. */
static int blob_to_der(const unsigned char *blob, size_t len,
		       unsigned char **der, size_t *der_len, gm_error *err)
{
	unsigned char rs[64];
	size_t i;

	if (!blob || len != 128)
		return gm_fail(err, GM_EXIT_FAILED,
			       "check the vendor profile's signature format",
			       "the token returned a signature of %zu bytes; "
			       "expected a 128-byte SM2 signature blob", len);
	for (i = 0; i < 32; i++)
		if (blob[i] || blob[64 + i])
			return gm_fail(err, GM_EXIT_FAILED,
				       "check the vendor profile's signature "
				       "format",
				       "the token's 128-byte signature blob has "
				       "r or s wider than 32 bytes");
	memcpy(rs, blob + 32, 32);
	memcpy(rs + 32, blob + 96, 32);
	return gm_sig_raw_to_der(rs, sizeof(rs), der, der_len, err);
}

/* A DER signature is parsed and encoded again: nothing but one
 * ECDSA-Sig-Value passes. */
static int der_to_der(const unsigned char *sig, size_t len,
		      unsigned char **der, size_t *der_len, gm_error *err)
{
	const unsigned char *p = sig;
	ECDSA_SIG *s = NULL;
	unsigned char *out = NULL;
	int n = -1;

	if (sig && len > 0 && len < 256)
		s = d2i_ECDSA_SIG(NULL, &p, (long)len);
	if (s && p == sig + len)
		n = i2d_ECDSA_SIG(s, &out);
	ECDSA_SIG_free(s);
	ERR_clear_error();
	if (n <= 0 || (size_t)n != len || memcmp(out, sig, len)) {
		OPENSSL_free(out);
		return gm_fail(err, GM_EXIT_FAILED,
			       "check the vendor profile's signature format",
			       "the token's signature (%zu bytes) is not one "
			       "DER ECDSA-Sig-Value", len);
	}
	*der = out;	/* caller frees */
	*der_len = (size_t)n;
	return 0;
}

int gm_sig_to_der(gm_sig_format fmt, const unsigned char *sig, size_t sig_len,
		  unsigned char **der, size_t *der_len, gm_error *err)
{
	*der = NULL;
	*der_len = 0;
	switch (fmt) {
	case GM_SIGFMT_RAW:
		return gm_sig_raw_to_der(sig, sig_len, der, der_len, err);
	case GM_SIGFMT_SKF_BLOB:
		return blob_to_der(sig, sig_len, der, der_len, err);
	case GM_SIGFMT_DER:
		return der_to_der(sig, sig_len, der, der_len, err);
	}
	return gm_fail(err, GM_EXIT_FAILED, NULL, "unknown signature format %d",
		       (int)fmt);
}
