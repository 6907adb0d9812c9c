/* st_crypto.c - SM2 and X.509 helpers of the soft ePass3000GM. */
#include "st_crypto.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static CK_RV bio_to_string(BIO *bio, char **out)
{
	char *data;
	long len = BIO_get_mem_data(bio, &data);
	char *copy;

	if (len < 0)
		return CKR_GENERAL_ERROR;
	copy = malloc((size_t)len + 1);
	if (!copy)
		return CKR_HOST_MEMORY;
	memcpy(copy, data, (size_t)len);
	copy[len] = '\0';
	*out = copy;
	return CKR_OK;
}

static CK_RV write_private_pem(EVP_PKEY *pkey, char **pem)
{
	BIO *bio = BIO_new(BIO_s_mem());
	CK_RV rv = CKR_GENERAL_ERROR;

	if (!bio)
		return CKR_HOST_MEMORY;
	if (PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL))
		rv = bio_to_string(bio, pem);
	BIO_free(bio);
	return rv;
}

static EVP_PKEY *read_private_pem(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *pkey;

	if (!bio)
		return NULL;
	pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return pkey;
}

CK_RV gmsoft_sm2_generate(char **pem)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
	EVP_PKEY *pkey = NULL;
	CK_RV rv = CKR_DEVICE_ERROR;

	if (!ctx)
		return CKR_HOST_MEMORY;
	if (EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_keygen(ctx, &pkey) <= 0)
		goto out;
	rv = write_private_pem(pkey, pem);
out:
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	return rv;
}

static int is_sm2_curve(EVP_PKEY *pkey)
{
	char group[64];

	if (EVP_PKEY_is_a(pkey, "SM2"))
		return 1;
	if (!EVP_PKEY_is_a(pkey, "EC"))
		return 0;
	if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
					    group, sizeof(group), NULL))
		return 0;
	return strcmp(group, "SM2") == 0;
}

static EVP_PKEY *sm2_from_data(const BIGNUM *priv, const unsigned char *point)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	int selection = priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY;

	if (!bld)
		return NULL;
	if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
					     "SM2", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
					      point, GMSOFT_SM2_POINT_LEN))
		goto out;
	if (priv && !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0)
		goto out;
	if (EVP_PKEY_fromdata(ctx, &pkey, selection, params) <= 0)
		pkey = NULL;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

static CK_RV pkey_point(EVP_PKEY *pkey, unsigned char *point)
{
	size_t len = 0;

	/* uncompressed on OpenSSL and Tongsuo alike (Tongsuo gives
	 * OSSL_PKEY_PARAM_PUB_KEY compressed) */
	if (!EVP_PKEY_get_octet_string_param(pkey,
					     OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
					     point, GMSOFT_SM2_POINT_LEN, &len) ||
	    len != GMSOFT_SM2_POINT_LEN || point[0] != 0x04)
		return CKR_KEY_TYPE_INCONSISTENT;
	return CKR_OK;
}

CK_RV gmsoft_sm2_normalise(const char *pem, char **out)
{
	EVP_PKEY *in = read_private_pem(pem);
	EVP_PKEY *sm2 = NULL;
	BIGNUM *priv = NULL;
	unsigned char point[GMSOFT_SM2_POINT_LEN];
	CK_RV rv = CKR_KEY_TYPE_INCONSISTENT;

	if (!in)
		return CKR_DATA_INVALID;
	if (!is_sm2_curve(in) || pkey_point(in, point) != CKR_OK ||
	    !EVP_PKEY_get_bn_param(in, OSSL_PKEY_PARAM_PRIV_KEY, &priv))
		goto out;
	sm2 = sm2_from_data(priv, point);
	rv = sm2 ? write_private_pem(sm2, out) : CKR_GENERAL_ERROR;
out:
	BN_clear_free(priv);
	EVP_PKEY_free(sm2);
	EVP_PKEY_free(in);
	return rv;
}

CK_RV gmsoft_sm2_point(const char *pem, unsigned char point[GMSOFT_SM2_POINT_LEN])
{
	EVP_PKEY *pkey = read_private_pem(pem);
	CK_RV rv;

	if (!pkey)
		return CKR_DEVICE_ERROR;
	rv = pkey_point(pkey, point);
	EVP_PKEY_free(pkey);
	return rv;
}

static CK_RV der_to_raw(const unsigned char *der, size_t len,
			unsigned char *sig)
{
	ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &der, (long)len);
	CK_RV rv = CKR_DEVICE_ERROR;

	if (!s)
		return rv;
	if (BN_bn2binpad(ECDSA_SIG_get0_r(s), sig, 32) == 32 &&
	    BN_bn2binpad(ECDSA_SIG_get0_s(s), sig + 32, 32) == 32)
		rv = CKR_OK;
	ECDSA_SIG_free(s);
	return rv;
}

CK_RV gmsoft_sm2_sign(const char *pem, const unsigned char *dgst, size_t len,
		      unsigned char sig[GMSOFT_SM2_SIG_LEN])
{
	EVP_PKEY *pkey = read_private_pem(pem);
	EVP_PKEY_CTX *ctx = NULL;
	unsigned char der[128];
	size_t derlen = sizeof(der);
	CK_RV rv = CKR_DEVICE_ERROR;

	if (!pkey)
		return rv;
	if (!EVP_PKEY_is_a(pkey, "SM2")) {
		rv = CKR_KEY_TYPE_INCONSISTENT;
		goto out;
	}
	/* The SM2 signature of OpenSSL 3 signs tbs as the finished digest e
	 * when no digest is set on the context: no Z, no hashing here. */
	ctx = EVP_PKEY_CTX_new(pkey, NULL);
	if (!ctx || EVP_PKEY_sign_init(ctx) <= 0 ||
	    EVP_PKEY_sign(ctx, der, &derlen, dgst, len) <= 0)
		goto out;
	rv = der_to_raw(der, derlen, sig);
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return rv;
}

CK_RV gmsoft_sig_to_der(const unsigned char sig[GMSOFT_SM2_SIG_LEN], unsigned char **der,
			size_t *len)
{
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, 32, NULL);
	BIGNUM *sv = BN_bin2bn(sig + 32, 32, NULL);
	unsigned char *buf = NULL;
	int n;
	CK_RV rv = CKR_HOST_MEMORY;

	if (!s || !r || !sv || !ECDSA_SIG_set0(s, r, sv))
		goto out;
	r = sv = NULL; /* owned by s now */
	n = i2d_ECDSA_SIG(s, &buf);
	if (n <= 0)
		goto out;
	*der = buf;
	*len = (size_t)n;
	rv = CKR_OK;
out:
	BN_free(r);
	BN_free(sv);
	ECDSA_SIG_free(s);
	return rv;
}

CK_RV gmsoft_sm2_verify(const unsigned char point[GMSOFT_SM2_POINT_LEN],
			const unsigned char *dgst, size_t len,
			const unsigned char sig[GMSOFT_SM2_SIG_LEN])
{
	EVP_PKEY *pkey = sm2_from_data(NULL, point);
	EVP_PKEY_CTX *ctx = NULL;
	unsigned char *der = NULL;
	size_t derlen = 0;
	CK_RV rv = CKR_KEY_TYPE_INCONSISTENT;

	if (!pkey)
		return rv;
	rv = gmsoft_sig_to_der(sig, &der, &derlen);
	if (rv != CKR_OK)
		goto out;
	ctx = EVP_PKEY_CTX_new(pkey, NULL);
	rv = CKR_DEVICE_ERROR;
	if (!ctx || EVP_PKEY_verify_init(ctx) <= 0)
		goto out;
	rv = EVP_PKEY_verify(ctx, der, derlen, dgst, len) == 1 ?
		     CKR_OK : CKR_SIGNATURE_INVALID;
out:
	OPENSSL_free(der);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return rv;
}

CK_RV gmsoft_sm2_pub_pem(const unsigned char point[GMSOFT_SM2_POINT_LEN],
			 char **pem)
{
	EVP_PKEY *pkey = sm2_from_data(NULL, point);
	BIO *bio = BIO_new(BIO_s_mem());
	CK_RV rv = CKR_GENERAL_ERROR;

	if (pkey && bio && PEM_write_bio_PUBKEY(bio, pkey))
		rv = bio_to_string(bio, pem);
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	return rv;
}

static CK_RV blob_from_i2d(struct gmsoft_blob *b, unsigned char *der, int n)
{
	if (n <= 0)
		return CKR_DATA_INVALID;
	b->data = malloc((size_t)n);
	if (!b->data)
		return CKR_HOST_MEMORY;
	memcpy(b->data, der, (size_t)n);
	b->len = (size_t)n;
	return CKR_OK;
}

static CK_RV name_blob(const X509_NAME *name, struct gmsoft_blob *b)
{
	const unsigned char *der;
	size_t len;

	if (!X509_NAME_get0_der(name, &der, &len))
		return CKR_DATA_INVALID;
	return blob_from_i2d(b, (unsigned char *)der, (int)len);
}

static CK_RV serial_blob(const ASN1_INTEGER *serial, struct gmsoft_blob *b)
{
	unsigned char *der = NULL;
	int n = i2d_ASN1_INTEGER(serial, &der);
	CK_RV rv = blob_from_i2d(b, der, n);

	OPENSSL_free(der);
	return rv;
}

CK_RV gmsoft_cert_fields(const unsigned char *der, size_t len,
			 struct gmsoft_blob *subject, struct gmsoft_blob *issuer,
			 struct gmsoft_blob *serial)
{
	X509 *x = d2i_X509(NULL, &der, (long)len);
	CK_RV rv;

	memset(subject, 0, sizeof(*subject));
	memset(issuer, 0, sizeof(*issuer));
	memset(serial, 0, sizeof(*serial));
	if (!x)
		return CKR_DATA_INVALID;
	rv = name_blob(X509_get_subject_name(x), subject);
	if (rv == CKR_OK)
		rv = name_blob(X509_get_issuer_name(x), issuer);
	if (rv == CKR_OK)
		rv = serial_blob(X509_get0_serialNumber(x), serial);
	X509_free(x);
	if (rv != CKR_OK) {
		free(subject->data);
		free(issuer->data);
		free(serial->data);
		subject->data = issuer->data = serial->data = NULL;
	}
	return rv;
}

CK_RV gmsoft_cert_read_file(const char *path, struct gmsoft_blob *der)
{
	BIO *bio = BIO_new_file(path, "rb");
	X509 *x;
	unsigned char *buf = NULL;
	int n;
	CK_RV rv;

	if (!bio)
		return CKR_ARGUMENTS_BAD;
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	if (!x) {
		(void)BIO_reset(bio);
		x = d2i_X509_bio(bio, NULL);
	}
	BIO_free(bio);
	if (!x)
		return CKR_DATA_INVALID;
	n = i2d_X509(x, &buf);
	rv = blob_from_i2d(der, buf, n);
	OPENSSL_free(buf);
	X509_free(x);
	return rv;
}

void gmsoft_sig_to_blob(const unsigned char rs[GMSOFT_SM2_SIG_LEN],
			unsigned char blob[GMSOFT_SM2_BLOB_LEN])
{
	memset(blob, 0, GMSOFT_SM2_BLOB_LEN);
	memcpy(blob + 32, rs, 32);
	memcpy(blob + 96, rs + 32, 32);
}

CK_RV gmsoft_blob_to_sig(const unsigned char blob[GMSOFT_SM2_BLOB_LEN],
			 unsigned char rs[GMSOFT_SM2_SIG_LEN])
{
	static const unsigned char zero[32];

	if (memcmp(blob, zero, 32) || memcmp(blob + 64, zero, 32))
		return CKR_SIGNATURE_INVALID;
	memcpy(rs, blob + 32, 32);
	memcpy(rs + 32, blob + 96, 32);
	return CKR_OK;
}

/* ---- SKF helpers ----------------------------------------------------- */

CK_RV gmsoft_sm2_from_scalar(const unsigned char d[32], char **pem)
{
	EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_sm2);
	EC_POINT *pt = group ? EC_POINT_new(group) : NULL;
	BIGNUM *priv = BN_bin2bn(d, 32, NULL);
	unsigned char point[GMSOFT_SM2_POINT_LEN];
	EVP_PKEY *pkey = NULL;
	CK_RV rv = CKR_HOST_MEMORY;

	if (!group || !pt || !priv)
		goto out;
	rv = CKR_DATA_INVALID;
	if (BN_is_zero(priv) || BN_cmp(priv, EC_GROUP_get0_order(group)) >= 0)
		goto out;
	if (!EC_POINT_mul(group, pt, priv, NULL, NULL, NULL) ||
	    EC_POINT_point2oct(group, pt, POINT_CONVERSION_UNCOMPRESSED, point,
			       sizeof(point), NULL) != sizeof(point))
		goto out;
	pkey = sm2_from_data(priv, point);
	rv = pkey ? write_private_pem(pkey, pem) : CKR_DATA_INVALID;
out:
	EVP_PKEY_free(pkey);
	BN_clear_free(priv);
	EC_POINT_free(pt);
	EC_GROUP_free(group);
	return rv;
}

static CK_RV sm2_crypt(EVP_PKEY *pkey, int enc, const unsigned char *in,
		       size_t inlen, unsigned char **out, size_t *outlen)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pkey, NULL);
	unsigned char *buf = NULL;
	size_t n = 0;
	CK_RV rv = CKR_DEVICE_ERROR;

	if (!ctx)
		return CKR_HOST_MEMORY;
	if ((enc ? EVP_PKEY_encrypt_init(ctx) : EVP_PKEY_decrypt_init(ctx)) <= 0)
		goto out;
	if ((enc ? EVP_PKEY_encrypt(ctx, NULL, &n, in, inlen) :
		   EVP_PKEY_decrypt(ctx, NULL, &n, in, inlen)) <= 0)
		goto out;
	buf = malloc(n ? n : 1);
	if (!buf) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	rv = CKR_ENCRYPTED_DATA_INVALID;
	if ((enc ? EVP_PKEY_encrypt(ctx, buf, &n, in, inlen) :
		   EVP_PKEY_decrypt(ctx, buf, &n, in, inlen)) <= 0)
		goto out;
	*out = buf;
	*outlen = n;
	buf = NULL;
	rv = CKR_OK;
out:
	free(buf);
	EVP_PKEY_CTX_free(ctx);
	return rv;
}

CK_RV gmsoft_sm2_decrypt(const char *pem, const unsigned char *der, size_t len,
			 unsigned char **out, size_t *outlen)
{
	EVP_PKEY *pkey = read_private_pem(pem);
	CK_RV rv;

	if (!pkey)
		return CKR_DEVICE_ERROR;
	rv = sm2_crypt(pkey, 0, der, len, out, outlen);
	EVP_PKEY_free(pkey);
	return rv;
}

CK_RV gmsoft_sm2_encrypt(const unsigned char point[GMSOFT_SM2_POINT_LEN],
			 const unsigned char *in, size_t len,
			 unsigned char **der, size_t *derlen)
{
	EVP_PKEY *pkey = sm2_from_data(NULL, point);
	CK_RV rv;

	if (!pkey)
		return CKR_KEY_TYPE_INCONSISTENT;
	rv = sm2_crypt(pkey, 1, in, len, der, derlen);
	EVP_PKEY_free(pkey);
	return rv;
}

CK_RV gmsoft_sm4_ecb_decrypt(const unsigned char key[16],
			     const unsigned char *in, size_t len,
			     unsigned char *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, fin = 0;
	CK_RV rv = CKR_DEVICE_ERROR;

	if (!ctx)
		return CKR_HOST_MEMORY;
	if (len % 16 || len > INT_MAX)
		goto out;
	if (EVP_DecryptInit_ex(ctx, EVP_sm4_ecb(), NULL, key, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_DecryptUpdate(ctx, out, &n, in, (int)len) != 1 ||
	    EVP_DecryptFinal_ex(ctx, out + n, &fin) != 1)
		goto out;
	rv = (size_t)(n + fin) == len ? CKR_OK : CKR_DEVICE_ERROR;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rv;
}

static int bn_out(const BIGNUM *bn, unsigned char out[32])
{
	return BN_bn2binpad(bn, out, 32) == 32;
}

/* The curve's a, b, xG, yG as 32-byte big-endian values. */
static CK_RV curve_params(unsigned char abxy[128])
{
	EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_sm2);
	BIGNUM *p = BN_new(), *a = BN_new(), *b = BN_new();
	BIGNUM *x = BN_new(), *y = BN_new();
	CK_RV rv = CKR_DEVICE_ERROR;

	if (!group || !p || !a || !b || !x || !y)
		goto out;
	if (EC_GROUP_get_curve(group, p, a, b, NULL) &&
	    EC_POINT_get_affine_coordinates(group, EC_GROUP_get0_generator(group),
					    x, y, NULL) &&
	    bn_out(a, abxy) && bn_out(b, abxy + 32) && bn_out(x, abxy + 64) &&
	    bn_out(y, abxy + 96))
		rv = CKR_OK;
out:
	BN_free(p);
	BN_free(a);
	BN_free(b);
	BN_free(x);
	BN_free(y);
	EC_GROUP_free(group);
	return rv;
}

CK_RV gmsoft_sm2_z(const unsigned char point[GMSOFT_SM2_POINT_LEN],
		   const unsigned char *id, size_t idlen, unsigned char z[32])
{
	unsigned char abxy[128], entl[2];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int n = 0;
	CK_RV rv = CKR_DEVICE_ERROR;

	if (!md)
		return CKR_HOST_MEMORY;
	if (idlen > 8191) /* ENTL is the bit length in two bytes */
		goto out;
	entl[0] = (unsigned char)((idlen * 8) >> 8);
	entl[1] = (unsigned char)(idlen * 8);
	if (curve_params(abxy) != CKR_OK)
		goto out;
	if (EVP_DigestInit_ex(md, EVP_sm3(), NULL) == 1 &&
	    EVP_DigestUpdate(md, entl, 2) == 1 &&
	    EVP_DigestUpdate(md, id, idlen) == 1 &&
	    EVP_DigestUpdate(md, abxy, sizeof(abxy)) == 1 &&
	    EVP_DigestUpdate(md, point + 1, 64) == 1 &&
	    EVP_DigestFinal_ex(md, z, &n) == 1 && n == 32)
		rv = CKR_OK;
out:
	EVP_MD_CTX_free(md);
	return rv;
}

static ASN1_TYPE *asn1_integer(const unsigned char v[32])
{
	BIGNUM *bn = BN_bin2bn(v, 32, NULL);
	ASN1_INTEGER *i = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	ASN1_TYPE *t = i ? ASN1_TYPE_new() : NULL;

	BN_free(bn);
	if (!t) {
		ASN1_INTEGER_free(i);
		return NULL;
	}
	ASN1_TYPE_set(t, V_ASN1_INTEGER, i);
	return t;
}

static ASN1_TYPE *asn1_octets(const unsigned char *v, size_t len)
{
	ASN1_OCTET_STRING *o = ASN1_OCTET_STRING_new();
	ASN1_TYPE *t = o ? ASN1_TYPE_new() : NULL;

	if (!t || len > INT_MAX || !ASN1_OCTET_STRING_set(o, v, (int)len)) {
		ASN1_OCTET_STRING_free(o);
		ASN1_TYPE_free(t);
		return NULL;
	}
	ASN1_TYPE_set(t, V_ASN1_OCTET_STRING, o);
	return t;
}

CK_RV gmsoft_sm2_cipher_to_der(const struct gmsoft_sm2_cipher *c,
			       unsigned char **der, size_t *len)
{
	STACK_OF(ASN1_TYPE) *seq = sk_ASN1_TYPE_new_null();
	ASN1_TYPE *items[4] = {
		asn1_integer(c->x), asn1_integer(c->y),
		asn1_octets(c->hash, 32), asn1_octets(c->c2, c->c2len),
	};
	unsigned char *buf = NULL;
	int n, i;
	CK_RV rv = CKR_HOST_MEMORY;

	for (i = 0; i < 4; i++)
		if (!seq || !items[i] || !sk_ASN1_TYPE_push(seq, items[i]))
			break;
	if (i == 4) {
		for (int j = 0; j < 4; j++)
			items[j] = NULL; /* owned by seq */
		n = i2d_ASN1_SEQUENCE_ANY(seq, &buf);
		if (n > 0) {
			*der = buf;
			*len = (size_t)n;
			rv = CKR_OK;
		}
	}
	for (i = 0; i < 4; i++)
		ASN1_TYPE_free(items[i]);
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	return rv;
}

static int integer_out(const ASN1_TYPE *t, unsigned char out[32])
{
	BIGNUM *bn;
	int ok;

	if (ASN1_TYPE_get(t) != V_ASN1_INTEGER)
		return 0;
	bn = ASN1_INTEGER_to_BN(t->value.integer, NULL);
	ok = bn && !BN_is_negative(bn) && BN_bn2binpad(bn, out, 32) == 32;
	BN_free(bn);
	return ok;
}

CK_RV gmsoft_sm2_cipher_from_der(const unsigned char *der, size_t len,
				 struct gmsoft_sm2_cipher *c)
{
	const unsigned char *p = der;
	STACK_OF(ASN1_TYPE) *seq = len <= LONG_MAX ?
		d2i_ASN1_SEQUENCE_ANY(NULL, &p, (long)len) : NULL;
	const ASN1_TYPE *h, *c2;
	CK_RV rv = CKR_ENCRYPTED_DATA_INVALID;

	memset(c, 0, sizeof(*c));
	if (!seq || sk_ASN1_TYPE_num(seq) != 4)
		goto out;
	h = sk_ASN1_TYPE_value(seq, 2);
	c2 = sk_ASN1_TYPE_value(seq, 3);
	if (!integer_out(sk_ASN1_TYPE_value(seq, 0), c->x) ||
	    !integer_out(sk_ASN1_TYPE_value(seq, 1), c->y) ||
	    ASN1_TYPE_get(h) != V_ASN1_OCTET_STRING ||
	    ASN1_TYPE_get(c2) != V_ASN1_OCTET_STRING ||
	    ASN1_STRING_length(h->value.octet_string) != 32)
		goto out;
	memcpy(c->hash, ASN1_STRING_get0_data(h->value.octet_string), 32);
	c->c2len = (size_t)ASN1_STRING_length(c2->value.octet_string);
	c->c2 = malloc(c->c2len ? c->c2len : 1);
	if (!c->c2) {
		rv = CKR_HOST_MEMORY;
		goto out;
	}
	memcpy(c->c2, ASN1_STRING_get0_data(c2->value.octet_string), c->c2len);
	rv = CKR_OK;
out:
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	return rv;
}
