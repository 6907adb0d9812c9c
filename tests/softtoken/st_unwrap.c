/* st_unwrap.c - the soft ePass3000GM as a driver whose PKCS#11 side
 * imports a double certificate's enveloped key (GMSOFT_UNWRAP=1; FEITIAN's
 * driver offers no unwrap, so by default C_UnwrapKey stays
 * CKR_FUNCTION_NOT_SUPPORTED and C_CreateObject makes no keys):
 *
 * - GMSOFT_CKM_SM2_UNWRAP: the SM4 key SM2-encrypted (GM/T 0003.4,
 *   C1 || C3 || C2) to the unwrapping private key, which must have
 *   CKA_UNWRAP, into a session secret key (CKO_SECRET_KEY,
 *   CKK_GENERIC_SECRET, 16 bytes);
 * - GMSOFT_CKM_SM4_ECB_UNWRAP: the 32-byte private scalar SM4-ECB
 *   encrypted with such a secret key (CKA_UNWRAP), into a token SM2
 *   private key of the exchange kind (CKA_DECRYPT, never CKA_SIGN) in the
 *   template's container;
 * - C_CreateObject of the pair's public key (CKA_MODULUS X||Y).
 *
 * Called with the module mutex held. */
#include "st_internal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "st_crypto.h"

#define SM4_KEY_LEN 16
#define C1_LEN GMSOFT_SM2_POINT_LEN
#define C3_LEN 32

static const CK_ATTRIBUTE *find(const CK_ATTRIBUTE *t, CK_ULONG n,
				CK_ATTRIBUTE_TYPE type)
{
	for (CK_ULONG i = 0; t && i < n; i++)
		if (t[i].type == type)
			return &t[i];
	return NULL;
}

/* A CK_ULONG the template must carry with the value want. */
static CK_RV need_ulong(const CK_ATTRIBUTE *t, CK_ULONG n,
			CK_ATTRIBUTE_TYPE type, CK_ULONG want)
{
	const CK_ATTRIBUTE *a = find(t, n, type);
	CK_ULONG v;

	if (!a)
		return CKR_TEMPLATE_INCOMPLETE;
	if (!a->pValue || a->ulValueLen != sizeof(v))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	memcpy(&v, a->pValue, sizeof(v));
	return v == want ? CKR_OK : CKR_TEMPLATE_INCONSISTENT;
}

static int tmpl_bool(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type,
		     int dflt)
{
	const CK_ATTRIBUTE *a = find(t, n, type);

	if (!a || !a->pValue || a->ulValueLen != sizeof(CK_BBOOL))
		return dflt;
	return *(const CK_BBOOL *)a->pValue != CK_FALSE;
}

/* What the token computes itself cannot be given. */
static CK_RV no_values(const CK_ATTRIBUTE *t, CK_ULONG n)
{
	for (CK_ULONG i = 0; i < n; i++)
		if (t[i].type == CKA_VALUE || t[i].type == CKA_MODULUS ||
		    t[i].type == CKA_EC_POINT)
			return CKR_ATTRIBUTE_READ_ONLY;
	return CKR_OK;
}

/* The template over the defaults, without what is set already. */
static CK_RV apply_rest(struct gmsoft_object *o, const CK_ATTRIBUTE *t,
			CK_ULONG n)
{
	CK_RV rv = CKR_OK;

	for (CK_ULONG i = 0; rv == CKR_OK && i < n; i++)
		if (t[i].type != GMSOFT_CKA_CONTAINER_NAME &&
		    t[i].type != CKA_MODULUS)
			rv = gmsoft_obj_apply(o, &t[i], 1);
	return rv;
}

/* The container name of a template: 1 to 64 characters and the NUL. */
static CK_RV container_of(const CK_ATTRIBUTE *t, CK_ULONG n,
			  char name[GMSOFT_CONTAINER_NAME_MAX + 1])
{
	const CK_ATTRIBUTE *a = find(t, n, GMSOFT_CKA_CONTAINER_NAME);
	const char *v = a ? a->pValue : NULL;

	if (!a)
		return CKR_TEMPLATE_INCOMPLETE;
	if (!v || a->ulValueLen < 2 ||
	    a->ulValueLen > GMSOFT_CONTAINER_NAME_MAX + 1 ||
	    v[a->ulValueLen - 1] != '\0' || memchr(v, 0, a->ulValueLen - 1))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	memcpy(name, v, a->ulValueLen);
	return CKR_OK;
}

/* ---- the public key (C_CreateObject) -------------------------------- */

CK_RV gmsoft_unwrap_new_pubkey(const CK_ATTRIBUTE *tmpl, CK_ULONG n,
			       struct gmsoft_object *obj)
{
	const CK_ATTRIBUTE *xy = find(tmpl, n, CKA_MODULUS);
	unsigned char point[GMSOFT_SM2_POINT_LEN];
	char name[GMSOFT_CONTAINER_NAME_MAX + 1], *pem = NULL;
	CK_RV rv = need_ulong(tmpl, n, CKA_KEY_TYPE, GMSOFT_CKK_SM2);

	rv = rv ? rv : container_of(tmpl, n, name);
	if (rv == CKR_OK && !xy)
		rv = CKR_TEMPLATE_INCOMPLETE;
	if (rv == CKR_OK && (!xy->pValue || xy->ulValueLen != GMSOFT_SM2_XY_LEN))
		rv = CKR_ATTRIBUTE_VALUE_INVALID;
	if (rv != CKR_OK)
		return rv;
	point[0] = 0x04;
	memcpy(point + 1, xy->pValue, GMSOFT_SM2_XY_LEN);
	if (gmsoft_sm2_pub_pem(point, &pem) != CKR_OK)
		return CKR_ATTRIBUTE_VALUE_INVALID;	/* not on the curve */
	free(pem);
	rv = gmsoft_pubkey_build(point, name,
				 tmpl_bool(tmpl, n, CKA_VERIFY, 1), obj);
	rv = rv ? rv : apply_rest(obj, tmpl, n);
	return rv;
}

/* ---- C_UnwrapKey ---------------------------------------------------- */

/* The unwrapping key: of class cls (and the SM2 key type for a private
 * key), with CKA_UNWRAP. */
static CK_RV unwrapping_key(struct gmsoft_session *s, CK_OBJECT_HANDLE h,
			    CK_OBJECT_CLASS cls, struct gmsoft_object *key)
{
	CK_RV rv = gmsoft_obj_get(s, h, key);

	if (rv == CKR_OBJECT_HANDLE_INVALID)
		return CKR_UNWRAPPING_KEY_HANDLE_INVALID;
	if (rv != CKR_OK)
		return rv;
	if (gmsoft_attr_ulong(key, CKA_CLASS, CKO_DATA) != cls ||
	    (cls == CKO_PRIVATE_KEY &&
	     gmsoft_attr_ulong(key, CKA_KEY_TYPE, 0) != GMSOFT_CKK_SM2) ||
	    (cls == CKO_PRIVATE_KEY && !key->key_pem))
		rv = CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT;
	else if (!gmsoft_attr_bool(key, CKA_UNWRAP, 0))
		rv = CKR_KEY_FUNCTION_NOT_PERMITTED;
	if (rv != CKR_OK)
		gmsoft_object_clear(key);
	return rv;
}

/* C1 || C3 || C2 decrypted with the private key PEM; a ciphertext that
 * does not open is CKR_WRAPPED_KEY_INVALID. */
static CK_RV sm2_open(const char *pem, const unsigned char *in, CK_ULONG len,
		      unsigned char key[SM4_KEY_LEN])
{
	struct gmsoft_sm2_cipher c;
	unsigned char *der = NULL, *plain = NULL;
	size_t der_len = 0, plain_len = 0;
	CK_RV rv;

	if (len != C1_LEN + C3_LEN + SM4_KEY_LEN)
		return CKR_WRAPPED_KEY_LEN_RANGE;
	if (in[0] != 0x04)
		return CKR_WRAPPED_KEY_INVALID;
	memcpy(c.x, in + 1, 32);
	memcpy(c.y, in + 33, 32);
	memcpy(c.hash, in + C1_LEN, C3_LEN);
	c.c2 = (unsigned char *)(in + C1_LEN + C3_LEN);
	c.c2len = SM4_KEY_LEN;
	rv = gmsoft_sm2_cipher_to_der(&c, &der, &der_len);
	if (rv != CKR_OK)
		return CKR_WRAPPED_KEY_INVALID;
	rv = gmsoft_sm2_decrypt(pem, der, der_len, &plain, &plain_len);
	free(der);
	if (rv == CKR_OK && plain_len == SM4_KEY_LEN)
		memcpy(key, plain, SM4_KEY_LEN);
	else if (rv == CKR_OK || rv == CKR_ENCRYPTED_DATA_INVALID)
		rv = CKR_WRAPPED_KEY_INVALID;
	if (plain)
		OPENSSL_cleanse(plain, plain_len);
	free(plain);
	return rv;
}

static CK_RV secret_build(const unsigned char key[SM4_KEY_LEN],
			  const CK_ATTRIBUTE *t, CK_ULONG n,
			  struct gmsoft_object *o)
{
	CK_RV rv;

	memset(o, 0, sizeof(*o));
	rv = gmsoft_attr_set_ulong(o, CKA_CLASS, CKO_SECRET_KEY);
	rv = rv ? rv : gmsoft_attr_set_ulong(o, CKA_KEY_TYPE,
					     CKK_GENERIC_SECRET);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_TOKEN, 0);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_PRIVATE, 1);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_UNWRAP, 0);
	rv = rv ? rv : gmsoft_attr_set(o, CKA_LABEL, "", 0);
	rv = rv ? rv : apply_rest(o, t, n);
	/* never readable, whatever is asked */
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_SENSITIVE, 1);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_EXTRACTABLE, 0);
	rv = rv ? rv : gmsoft_attr_set(o, CKA_VALUE, key, SM4_KEY_LEN);
	rv = rv ? rv : gmsoft_attr_set_ulong(o, CKA_VALUE_LEN, SM4_KEY_LEN);
	return rv;
}

/* The SM4 key into a session secret key: the soft token keeps no token
 * secret keys (fixture). */
static CK_RV unwrap_sm2(struct gmsoft_session *s, CK_OBJECT_HANDLE uk,
			const unsigned char *in, CK_ULONG len,
			const CK_ATTRIBUTE *t, CK_ULONG n,
			CK_OBJECT_HANDLE *out)
{
	struct gmsoft_object key, secret = { 0 }, *list[1] = { &secret };
	unsigned char sym[SM4_KEY_LEN];
	CK_RV rv = need_ulong(t, n, CKA_CLASS, CKO_SECRET_KEY);

	rv = rv ? rv : need_ulong(t, n, CKA_KEY_TYPE, CKK_GENERIC_SECRET);
	rv = rv ? rv : no_values(t, n);
	if (rv == CKR_OK && find(t, n, CKA_VALUE_LEN))
		rv = need_ulong(t, n, CKA_VALUE_LEN, SM4_KEY_LEN);
	if (rv == CKR_OK && tmpl_bool(t, n, CKA_TOKEN, 0))
		rv = CKR_TEMPLATE_INCONSISTENT;
	rv = rv ? rv : gmsoft_obj_writable(s, 0, 1);
	rv = rv ? rv : unwrapping_key(s, uk, CKO_PRIVATE_KEY, &key);
	if (rv != CKR_OK)
		return rv;
	rv = sm2_open(key.key_pem, in, len, sym);
	gmsoft_object_clear(&key);
	rv = rv ? rv : secret_build(sym, t, n, &secret);
	rv = rv ? rv : gmsoft_obj_add(s, list, 1);
	if (rv == CKR_OK)
		*out = secret.handle;
	OPENSSL_cleanse(sym, sizeof(sym));
	gmsoft_object_clear(&secret);
	return rv;
}

/* SM4-ECB(key, d) into the private key PEM of d. */
static CK_RV sm4_open(const struct gmsoft_object *secret,
		      const unsigned char *in, CK_ULONG len, char **pem)
{
	const struct gmsoft_attr *v = gmsoft_attr_find(secret, CKA_VALUE);
	unsigned char d[32];
	CK_RV rv;

	if (!v || v->len != SM4_KEY_LEN)
		return CKR_UNWRAPPING_KEY_SIZE_RANGE;
	if (len != sizeof(d))
		return CKR_WRAPPED_KEY_LEN_RANGE;
	rv = gmsoft_sm4_ecb_decrypt(v->value, in, len, d);
	if (rv == CKR_OK && gmsoft_sm2_from_scalar(d, pem) != CKR_OK)
		rv = CKR_WRAPPED_KEY_INVALID;	/* d not in [1, n-1] */
	OPENSSL_cleanse(d, sizeof(d));
	return rv;
}

static CK_RV store_private(struct gmsoft_session *s, const char *pem,
			   const char *name, const CK_ATTRIBUTE *t, CK_ULONG n,
			   CK_OBJECT_HANDLE *out)
{
	struct gmsoft_object pub, priv, *list[1] = { &priv };
	int fd;
	CK_RV rv = gmsoft_keypair_build(pem, 0, name, 0, &pub, &priv);

	if (rv != CKR_OK)
		return rv;
	gmsoft_object_clear(&pub);
	rv = apply_rest(&priv, t, n);
	rv = rv ? rv : gmsoft_attr_set_bool(&priv, CKA_SENSITIVE, 1);
	rv = rv ? rv : gmsoft_attr_set_bool(&priv, CKA_EXTRACTABLE, 0);
	rv = rv ? rv : gmsoft_lock(gmsoft_g.dir, 1, &fd);
	if (rv == CKR_OK) {
		rv = gmsoft_objects_store_contained(gmsoft_g.dir, s->slot, list,
						    1, name);
		gmsoft_unlock(fd);
	}
	if (rv == CKR_OK)
		*out = priv.handle;
	gmsoft_object_clear(&priv);
	return rv;
}

/* The private key into a token object of the exchange kind. */
static CK_RV unwrap_sm4(struct gmsoft_session *s, CK_OBJECT_HANDLE uk,
			const unsigned char *in, CK_ULONG len,
			const CK_ATTRIBUTE *t, CK_ULONG n,
			CK_OBJECT_HANDLE *out)
{
	char name[GMSOFT_CONTAINER_NAME_MAX + 1], *pem = NULL;
	struct gmsoft_object secret;
	CK_RV rv = need_ulong(t, n, CKA_CLASS, CKO_PRIVATE_KEY);

	rv = rv ? rv : need_ulong(t, n, CKA_KEY_TYPE, GMSOFT_CKK_SM2);
	rv = rv ? rv : no_values(t, n);
	if (rv == CKR_OK && (!tmpl_bool(t, n, CKA_TOKEN, 0) ||
			     tmpl_bool(t, n, CKA_SIGN, 0) ||
			     !tmpl_bool(t, n, CKA_DECRYPT, 1)))
		rv = CKR_TEMPLATE_INCONSISTENT;
	rv = rv ? rv : container_of(t, n, name);
	rv = rv ? rv : gmsoft_obj_writable(s, 1, 1);
	rv = rv ? rv : unwrapping_key(s, uk, CKO_SECRET_KEY, &secret);
	if (rv != CKR_OK)
		return rv;
	rv = sm4_open(&secret, in, len, &pem);
	gmsoft_object_clear(&secret);
	rv = rv ? rv : store_private(s, pem, name, t, n, out);
	if (pem) {
		OPENSSL_cleanse(pem, strlen(pem));
		free(pem);
	}
	return rv;
}

CK_RV gmsoft_op_unwrap_key(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech,
			   CK_OBJECT_HANDLE key, CK_BYTE_PTR in, CK_ULONG len,
			   CK_ATTRIBUTE_PTR tmpl, CK_ULONG n,
			   CK_OBJECT_HANDLE_PTR out)
{
	struct gmsoft_session *s;
	CK_RV rv = gmsoft_session_get(h, &s);

	if (rv != CKR_OK)
		return rv;
	if (!mech || !out || !in || (n && !tmpl))
		return CKR_ARGUMENTS_BAD;
	if (mech->pParameter || mech->ulParameterLen)
		return CKR_MECHANISM_PARAM_INVALID;
	if (mech->mechanism == GMSOFT_CKM_SM2_UNWRAP)
		return unwrap_sm2(s, key, in, len, tmpl, n, out);
	if (mech->mechanism == GMSOFT_CKM_SM4_ECB_UNWRAP)
		return unwrap_sm4(s, key, in, len, tmpl, n, out);
	return CKR_MECHANISM_INVALID;
}
