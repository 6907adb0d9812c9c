/* st_mechops.c - mechanisms of the soft ePass3000GM: SM2 key generation,
 * signing, verification and random numbers. Called with the module mutex
 * held. */
#include "st_internal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "st_crypto.h"

/* FEITIAN's driver never fills its mechanism table: C_GetMechanismList
 * reports no mechanism at all, and so no mechanism has information. The
 * mechanisms still work when named. */
CK_RV gmsoft_op_get_mechanism_list(CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list,
				   CK_ULONG_PTR count)
{
	struct gmsoft_token t;
	CK_RV rv;

	(void)list;
	if (!count)
		return CKR_ARGUMENTS_BAD;
	rv = gmsoft_slot_token(slot, &t);
	if (rv != CKR_OK)
		return rv;
	*count = 0;
	return CKR_OK;
}

CK_RV gmsoft_op_get_mechanism_info(CK_SLOT_ID slot, CK_MECHANISM_TYPE type,
				   CK_MECHANISM_INFO_PTR info)
{
	struct gmsoft_token t;
	CK_RV rv;

	(void)type;
	if (!info)
		return CKR_ARGUMENTS_BAD;
	rv = gmsoft_slot_token(slot, &t);
	return rv != CKR_OK ? rv : CKR_MECHANISM_INVALID;
}

/* Load key h of session s for an operation: a private key needs the user
 * logged in. */
static CK_RV key_get(struct gmsoft_session *s, CK_OBJECT_HANDLE h,
		     CK_OBJECT_CLASS cls, CK_ATTRIBUTE_TYPE use,
		     struct gmsoft_object *key)
{
	CK_RV rv;

	if (cls == CKO_PRIVATE_KEY && gmsoft_login_user(s->slot) != CKU_USER)
		return CKR_USER_NOT_LOGGED_IN;
	rv = gmsoft_obj_get(s, h, key);
	if (rv == CKR_OBJECT_HANDLE_INVALID)
		return CKR_KEY_HANDLE_INVALID;
	if (rv != CKR_OK)
		return rv;
	if (gmsoft_attr_ulong(key, CKA_CLASS, CKO_DATA) != cls ||
	    gmsoft_attr_ulong(key, CKA_KEY_TYPE, 0) != GMSOFT_CKK_SM2)
		rv = CKR_KEY_TYPE_INCONSISTENT;
	else if (!gmsoft_attr_bool(key, use, 0))
		rv = CKR_KEY_FUNCTION_NOT_PERMITTED;
	else if (cls == CKO_PRIVATE_KEY && !key->key_pem)
		rv = CKR_DEVICE_ERROR;
	if (rv != CKR_OK)
		gmsoft_object_clear(key);
	return rv;
}

/* The checks every C_SignInit / C_VerifyInit makes; *s is the session. */
static CK_RV op_start(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech,
		      CK_MECHANISM_TYPE want, int verify,
		      struct gmsoft_session **s)
{
	CK_RV rv = gmsoft_session_get(h, s);

	if (rv != CKR_OK)
		return rv;
	if (!mech)
		return CKR_ARGUMENTS_BAD;
	if (verify ? (*s)->verifying : (*s)->signing)
		return CKR_OPERATION_ACTIVE;
	if (mech->mechanism != want)
		return CKR_MECHANISM_INVALID;
	return CKR_OK;
}

CK_RV gmsoft_op_sign_init(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech,
			  CK_OBJECT_HANDLE key)
{
	struct gmsoft_session *s = NULL;
	struct gmsoft_object obj;
	CK_RV rv = op_start(h, mech, GMSOFT_CKM_SM2_SIGN, 0, &s);

	if (rv == CKR_OK)
		rv = key_get(s, key, CKO_PRIVATE_KEY, CKA_SIGN, &obj);
	if (rv != CKR_OK)
		return rv;
	gmsoft_object_clear(&obj);
	s->signing = 1;
	s->sign_key = key;
	return CKR_OK;
}

/* The answer is the 128-byte ECCSIGNATUREBLOB, r and s right-aligned. */
static CK_RV sign_now(struct gmsoft_session *s, const unsigned char *data,
		      CK_ULONG len, unsigned char *blob)
{
	struct gmsoft_object key;
	unsigned char rs[GMSOFT_SM2_SIG_LEN];
	CK_RV rv = key_get(s, s->sign_key, CKO_PRIVATE_KEY, CKA_SIGN, &key);

	if (rv != CKR_OK)
		return rv;
	gmsoft_latency_add(gmsoft_g.faults.latency_sign);
	rv = gmsoft_sm2_sign(key.key_pem, data, len, rs);
	if (rv == CKR_OK)
		gmsoft_sig_to_blob(rs, blob);
	gmsoft_object_clear(&key);
	return rv;
}

/* The end of a signature, single or multi-part: a size query or a buffer
 * too small keep the operation active, anything else ends it. */
static CK_RV sign_finish(struct gmsoft_session *s, const unsigned char *data,
			 CK_ULONG len, CK_BYTE_PTR sig, CK_ULONG_PTR siglen)
{
	CK_RV rv;

	if (!siglen || (!data && len))
		rv = CKR_ARGUMENTS_BAD;
	else if (len > GMSOFT_SM2_DIGEST_MAX)
		rv = CKR_DATA_LEN_RANGE;
	else if (!sig) {
		*siglen = GMSOFT_SM2_BLOB_LEN;
		return CKR_OK;
	} else if (*siglen < GMSOFT_SM2_BLOB_LEN) {
		*siglen = GMSOFT_SM2_BLOB_LEN;
		return CKR_BUFFER_TOO_SMALL;
	} else {
		rv = sign_now(s, data, len, sig);
		if (rv == CKR_OK)
			*siglen = GMSOFT_SM2_BLOB_LEN;
	}
	s->signing = 0;
	s->sign_len = 0;
	return rv;
}

CK_RV gmsoft_op_sign(CK_SESSION_HANDLE h, CK_BYTE_PTR data, CK_ULONG len,
		     CK_BYTE_PTR sig, CK_ULONG_PTR siglen)
{
	struct gmsoft_session *s;
	CK_RV rv = gmsoft_session_get(h, &s);

	if (rv != CKR_OK)
		return rv;
	if (!s->signing)
		return CKR_OPERATION_NOT_INITIALIZED;
	return sign_finish(s, data, len, sig, siglen);
}

CK_RV gmsoft_op_sign_update(CK_SESSION_HANDLE h, CK_BYTE_PTR part,
			    CK_ULONG len)
{
	struct gmsoft_session *s;
	CK_RV rv = gmsoft_session_get(h, &s);

	if (rv != CKR_OK)
		return rv;
	if (!s->signing)
		return CKR_OPERATION_NOT_INITIALIZED;
	if ((!part && len) || len > GMSOFT_SM2_DIGEST_MAX - s->sign_len) {
		s->signing = 0;
		s->sign_len = 0;
		return part || !len ? CKR_DATA_LEN_RANGE : CKR_ARGUMENTS_BAD;
	}
	if (len)
		memcpy(s->sign_buf + s->sign_len, part, len);
	s->sign_len += len;
	return CKR_OK;
}

CK_RV gmsoft_op_sign_final(CK_SESSION_HANDLE h, CK_BYTE_PTR sig,
			   CK_ULONG_PTR siglen)
{
	struct gmsoft_session *s;
	CK_RV rv = gmsoft_session_get(h, &s);

	if (rv != CKR_OK)
		return rv;
	if (!s->signing)
		return CKR_OPERATION_NOT_INITIALIZED;
	return sign_finish(s, s->sign_buf, s->sign_len, sig, siglen);
}

CK_RV gmsoft_op_verify_init(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech,
			    CK_OBJECT_HANDLE key)
{
	struct gmsoft_session *s = NULL;
	struct gmsoft_object obj;
	CK_RV rv = op_start(h, mech, GMSOFT_CKM_SM2_VERIFY, 1, &s);

	if (rv == CKR_OK)
		rv = key_get(s, key, CKO_PUBLIC_KEY, CKA_VERIFY, &obj);
	if (rv != CKR_OK)
		return rv;
	gmsoft_object_clear(&obj);
	s->verifying = 1;
	s->verify_key = key;
	return CKR_OK;
}

static CK_RV verify_now(struct gmsoft_session *s, const unsigned char *data,
			CK_ULONG len, const unsigned char *sig)
{
	struct gmsoft_object key;
	unsigned char point[GMSOFT_SM2_POINT_LEN], rs[GMSOFT_SM2_SIG_LEN];
	CK_RV rv = key_get(s, s->verify_key, CKO_PUBLIC_KEY, CKA_VERIFY, &key);

	if (rv != CKR_OK)
		return rv;
	rv = gmsoft_point_from_attr(&key, point);
	if (rv == CKR_OK && gmsoft_blob_to_sig(sig, rs) != CKR_OK)
		rv = CKR_SIGNATURE_INVALID;
	if (rv == CKR_OK)
		rv = gmsoft_sm2_verify(point, data, len, rs);
	gmsoft_object_clear(&key);
	return rv;
}

CK_RV gmsoft_op_verify(CK_SESSION_HANDLE h, CK_BYTE_PTR data, CK_ULONG len,
		       CK_BYTE_PTR sig, CK_ULONG siglen)
{
	struct gmsoft_session *s;
	CK_RV rv = gmsoft_session_get(h, &s);

	if (rv != CKR_OK)
		return rv;
	if (!s->verifying)
		return CKR_OPERATION_NOT_INITIALIZED;
	if (!sig || (!data && len))
		rv = CKR_ARGUMENTS_BAD;
	else if (len > GMSOFT_SM2_DIGEST_MAX)
		rv = CKR_DATA_LEN_RANGE;
	else if (siglen != GMSOFT_SM2_BLOB_LEN)
		rv = CKR_SIGNATURE_LEN_RANGE;
	else
		rv = verify_now(s, data, len, sig);
	s->verifying = 0;
	return rv;
}

/* Key pair templates may repeat what the token does, nothing else;
 * CKA_EC_PARAMS is accepted and not used, as by FEITIAN's driver. */
static CK_RV keygen_template_check(const CK_ATTRIBUTE *t, CK_ULONG n,
				   CK_OBJECT_CLASS cls)
{
	for (CK_ULONG i = 0; t && i < n; i++) {
		CK_ULONG v = 0;

		if (t[i].pValue && t[i].ulValueLen == sizeof(v))
			memcpy(&v, t[i].pValue, sizeof(v));
		if (t[i].type == CKA_CLASS && v != cls)
			return CKR_TEMPLATE_INCONSISTENT;
		if (t[i].type == CKA_KEY_TYPE && v != GMSOFT_CKK_SM2)
			return CKR_TEMPLATE_INCONSISTENT;
		if (t[i].type == CKA_EC_POINT || t[i].type == CKA_VALUE ||
		    t[i].type == CKA_MODULUS)
			return CKR_ATTRIBUTE_READ_ONLY;
	}
	return CKR_OK;
}

static const CK_ATTRIBUTE *tmpl_get(const CK_ATTRIBUTE *t, CK_ULONG n,
				    CK_ATTRIBUTE_TYPE type)
{
	for (CK_ULONG i = 0; t && i < n; i++)
		if (t[i].type == type)
			return &t[i];
	return NULL;
}

static int tmpl_bool(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type,
		     int dflt)
{
	const CK_ATTRIBUTE *a = tmpl_get(t, n, type);

	if (!a || !a->pValue || a->ulValueLen != sizeof(CK_BBOOL))
		return dflt;
	return *(const CK_BBOOL *)a->pValue != CK_FALSE;
}

/* Both keys token objects, CKA_MODULUS_BITS = 256 in the public template,
 * CKA_SIGN or CKA_DECRYPT saying which kind of pair. */
static CK_RV keygen_rules(const CK_ATTRIBUTE *pt, CK_ULONG npub,
			  const CK_ATTRIBUTE *kt, CK_ULONG npriv, int *sign)
{
	const CK_ATTRIBUTE *bits = tmpl_get(pt, npub, CKA_MODULUS_BITS);
	CK_ULONG v = 0;

	if (!tmpl_bool(pt, npub, CKA_TOKEN, 0) ||
	    !tmpl_bool(kt, npriv, CKA_TOKEN, 0))
		return CKR_FUNCTION_NOT_SUPPORTED;
	if (bits && bits->pValue && bits->ulValueLen == sizeof(v))
		memcpy(&v, bits->pValue, sizeof(v));
	if (v != 256)
		return CKR_TEMPLATE_INCOMPLETE;
	*sign = tmpl_bool(kt, npriv, CKA_SIGN, 1);
	if (!*sign && !tmpl_bool(kt, npriv, CKA_DECRYPT, 0))
		return CKR_TEMPLATE_INCONSISTENT;
	return CKR_OK;
}

/* CKA_CONTAINER_NAME of either template: a string of 1 to 64 characters
 * with its NUL counted in the length. */
static CK_RV keygen_container(const CK_ATTRIBUTE *pt, CK_ULONG npub,
			      const CK_ATTRIBUTE *kt, CK_ULONG npriv,
			      char name[GMSOFT_CONTAINER_NAME_MAX + 1])
{
	const CK_ATTRIBUTE *a = tmpl_get(kt, npriv, GMSOFT_CKA_CONTAINER_NAME);
	const CK_ATTRIBUTE *b = tmpl_get(pt, npub, GMSOFT_CKA_CONTAINER_NAME);
	const char *v;

	name[0] = '\0';
	a = a ? a : b;
	if (!a)
		return CKR_OK;
	v = a->pValue;
	if (!v || a->ulValueLen < 2 ||
	    a->ulValueLen > GMSOFT_CONTAINER_NAME_MAX + 1 ||
	    v[a->ulValueLen - 1] != '\0' || memchr(v, 0, a->ulValueLen - 1))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if (b && (b->ulValueLen != a->ulValueLen || !b->pValue ||
		  memcmp(b->pValue, v, a->ulValueLen)))
		return CKR_TEMPLATE_INCONSISTENT;
	memcpy(name, v, a->ulValueLen);
	return CKR_OK;
}

static int keygen_skipped(CK_ATTRIBUTE_TYPE type)
{
	return type == CKA_EC_PARAMS || type == CKA_MODULUS_BITS ||
	       type == GMSOFT_CKA_CONTAINER_NAME;
}

/* The template without what the token does itself. */
static CK_RV apply_kept(struct gmsoft_object *o, const CK_ATTRIBUTE *t,
			CK_ULONG n)
{
	CK_RV rv = CKR_OK;

	for (CK_ULONG i = 0; rv == CKR_OK && i < n; i++)
		if (!keygen_skipped(t[i].type))
			rv = gmsoft_obj_apply(o, &t[i], 1);
	return rv;
}

static int tmpl_has(const CK_ATTRIBUTE *t, CK_ULONG n, CK_ATTRIBUTE_TYPE type)
{
	return tmpl_get(t, n, type) != NULL;
}

static CK_RV id_copy(struct gmsoft_object *to, const struct gmsoft_object *from)
{
	const struct gmsoft_attr *id = gmsoft_attr_find(from, CKA_ID);

	return id ? gmsoft_attr_set(to, CKA_ID, id->value, id->len) : CKR_OK;
}

/* Templates over the defaults. A CKA_ID given for one half of the pair
 * applies to both. */
static CK_RV keygen_apply(struct gmsoft_object *pub, struct gmsoft_object *priv,
			  const CK_ATTRIBUTE *pt, CK_ULONG npub,
			  const CK_ATTRIBUTE *kt, CK_ULONG npriv)
{
	int pub_id = tmpl_has(pt, npub, CKA_ID);
	int priv_id = tmpl_has(kt, npriv, CKA_ID);
	CK_RV rv = apply_kept(pub, pt, npub);

	rv = rv ? rv : apply_kept(priv, kt, npriv);
	if (rv == CKR_OK && pub_id && !priv_id)
		rv = id_copy(priv, pub);
	if (rv == CKR_OK && priv_id && !pub_id)
		rv = id_copy(pub, priv);
	/* The token never lets a private key out, whatever is asked. */
	rv = rv ? rv : gmsoft_attr_set_bool(priv, CKA_SENSITIVE, 1);
	rv = rv ? rv : gmsoft_attr_set_bool(priv, CKA_EXTRACTABLE, 0);
	return rv;
}

static CK_RV keygen_checks(struct gmsoft_session *s, CK_MECHANISM_PTR mech,
			   const CK_ATTRIBUTE *pt, CK_ULONG npub,
			   const CK_ATTRIBUTE *kt, CK_ULONG npriv, int *sign)
{
	CK_RV rv;

	if (!mech || (npub && !pt) || (npriv && !kt))
		return CKR_ARGUMENTS_BAD;
	if (mech->mechanism != GMSOFT_CKM_SM2_KEY_PAIR_GEN)
		return CKR_MECHANISM_INVALID;
	rv = keygen_rules(pt, npub, kt, npriv, sign);
	if (rv != CKR_OK)
		return rv;
	if (!(s->flags & CKF_RW_SESSION))
		return CKR_SESSION_READ_ONLY;
	if (gmsoft_login_user(s->slot) != CKU_USER)
		return CKR_USER_NOT_LOGGED_IN;
	rv = keygen_template_check(pt, npub, CKO_PUBLIC_KEY);
	return rv ? rv : keygen_template_check(kt, npriv, CKO_PRIVATE_KEY);
}

static CK_RV keygen_store(struct gmsoft_session *s, struct gmsoft_object *pub,
			  struct gmsoft_object *priv, const char *container)
{
	struct gmsoft_object *list[2] = { pub, priv };
	int fd;
	CK_RV rv = gmsoft_lock(gmsoft_g.dir, 1, &fd);

	if (rv != CKR_OK)
		return rv;
	rv = gmsoft_objects_store_contained(gmsoft_g.dir, s->slot, list, 2,
					    container);
	gmsoft_unlock(fd);
	return rv;
}

CK_RV gmsoft_op_generate_key_pair(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech,
				  CK_ATTRIBUTE_PTR pt, CK_ULONG npub,
				  CK_ATTRIBUTE_PTR kt, CK_ULONG npriv,
				  CK_OBJECT_HANDLE_PTR hpub,
				  CK_OBJECT_HANDLE_PTR hpriv)
{
	struct gmsoft_session *s;
	struct gmsoft_object pub = { 0 }, priv = { 0 };
	unsigned char point[GMSOFT_SM2_POINT_LEN];
	char name[GMSOFT_CONTAINER_NAME_MAX + 1];
	char *pem = NULL;
	int sign = 1;
	CK_RV rv = gmsoft_session_get(h, &s);

	if (rv != CKR_OK)
		return rv;
	if (!hpub || !hpriv)
		return CKR_ARGUMENTS_BAD;
	rv = keygen_checks(s, mech, pt, npub, kt, npriv, &sign);
	rv = rv ? rv : keygen_container(pt, npub, kt, npriv, name);
	if (rv != CKR_OK)
		return rv;
	gmsoft_latency_add(gmsoft_g.faults.latency_keygen);
	rv = gmsoft_sm2_generate(&pem);
	rv = rv ? rv : gmsoft_sm2_point(pem, point);
	if (rv == CKR_OK && !name[0])
		gmsoft_container_auto_name(point, name, sizeof(name));
	rv = rv ? rv : gmsoft_keypair_build(pem, 1, name, sign, &pub, &priv);
	rv = rv ? rv : keygen_apply(&pub, &priv, pt, npub, kt, npriv);
	rv = rv ? rv : keygen_store(s, &pub, &priv, name);
	if (rv == CKR_OK) {
		*hpub = pub.handle;
		*hpriv = priv.handle;
	}
	gmsoft_object_clear(&pub);
	gmsoft_object_clear(&priv);
	if (pem) {
		OPENSSL_cleanse(pem, strlen(pem));
		free(pem);
	}
	return rv;
}

CK_RV gmsoft_op_generate_random(CK_SESSION_HANDLE h, CK_BYTE_PTR buf,
				CK_ULONG len)
{
	struct gmsoft_session *s;
	CK_RV rv = gmsoft_session_get(h, &s);

	if (rv != CKR_OK)
		return rv;
	if (!buf && len)
		return CKR_ARGUMENTS_BAD;
	if (len > INT_MAX)
		return CKR_DATA_LEN_RANGE;
	return (len == 0 || RAND_bytes(buf, (int)len) == 1) ? CKR_OK :
							     CKR_DEVICE_ERROR;
}

CK_RV gmsoft_op_seed_random(CK_SESSION_HANDLE h)
{
	struct gmsoft_session *s;
	CK_RV rv = gmsoft_session_get(h, &s);

	return rv != CKR_OK ? rv : CKR_RANDOM_SEED_NOT_SUPPORTED;
}
