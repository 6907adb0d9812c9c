/* st_object.c - the objects of the soft ePass3000GM and their defaults. */
#include "st_object.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "st_crypto.h"

static CK_RV key_common(struct gmsoft_object *o, CK_OBJECT_CLASS cls,
			const unsigned char *point, int local)
{
	unsigned char der[2 + GMSOFT_SM2_POINT_LEN] = { 0x04, GMSOFT_SM2_POINT_LEN };
	unsigned char id[SHA_DIGEST_LENGTH];
	CK_ULONG mech = local ? GMSOFT_CKM_SM2_KEY_PAIR_GEN :
				CK_UNAVAILABLE_INFORMATION;
	CK_RV rv;

	memcpy(der + 2, point, GMSOFT_SM2_POINT_LEN);
	SHA1(point, GMSOFT_SM2_POINT_LEN, id);
	rv = gmsoft_attr_set_ulong(o, CKA_CLASS, cls);
	rv = rv ? rv : gmsoft_attr_set_ulong(o, CKA_KEY_TYPE, GMSOFT_CKK_SM2);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_TOKEN, 1);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_PRIVATE, cls == CKO_PRIVATE_KEY);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_MODIFIABLE, 1);
	rv = rv ? rv : gmsoft_attr_set(o, CKA_LABEL, "", 0);
	rv = rv ? rv : gmsoft_attr_set(o, CKA_ID, id, sizeof(id));
	rv = rv ? rv : gmsoft_attr_set(o, CKA_SUBJECT, "", 0);
	rv = rv ? rv : gmsoft_attr_set(o, CKA_EC_PARAMS, gmsoft_sm2_oid_der,
				       sizeof(gmsoft_sm2_oid_der));
	rv = rv ? rv : gmsoft_attr_set(o, CKA_EC_POINT, der, sizeof(der));
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_LOCAL, local);
	rv = rv ? rv : gmsoft_attr_set_ulong(o, CKA_KEY_GEN_MECHANISM, mech);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_DERIVE, 0);
	return rv;
}

static CK_RV private_flags(struct gmsoft_object *o, int local)
{
	CK_RV rv = gmsoft_attr_set_bool(o, CKA_SIGN, 1);

	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_DECRYPT, 0);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_UNWRAP, 0);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_SIGN_RECOVER, 0);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_ALWAYS_AUTHENTICATE, 0);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_SENSITIVE, 1);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_EXTRACTABLE, 0);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_ALWAYS_SENSITIVE, local);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_NEVER_EXTRACTABLE, local);
	return rv;
}

CK_RV gmsoft_keypair_build(const char *pem, int local,
			   struct gmsoft_object *pub,
			   struct gmsoft_object *priv)
{
	unsigned char point[GMSOFT_SM2_POINT_LEN];
	CK_RV rv;

	memset(pub, 0, sizeof(*pub));
	memset(priv, 0, sizeof(*priv));
	rv = gmsoft_sm2_point(pem, point);
	rv = rv ? rv : key_common(pub, CKO_PUBLIC_KEY, point, local);
	rv = rv ? rv : gmsoft_attr_set_bool(pub, CKA_VERIFY, 1);
	rv = rv ? rv : gmsoft_attr_set_bool(pub, CKA_ENCRYPT, 0);
	rv = rv ? rv : gmsoft_attr_set_bool(pub, CKA_WRAP, 0);
	rv = rv ? rv : gmsoft_attr_set_bool(pub, CKA_VERIFY_RECOVER, 0);
	rv = rv ? rv : key_common(priv, CKO_PRIVATE_KEY, point, local);
	rv = rv ? rv : private_flags(priv, local);
	if (rv == CKR_OK) {
		priv->key_pem = strdup(pem);
		if (!priv->key_pem)
			rv = CKR_HOST_MEMORY;
	}
	if (rv != CKR_OK) {
		gmsoft_object_clear(pub);
		gmsoft_object_clear(priv);
	}
	return rv;
}

static CK_RV cert_names(struct gmsoft_object *o, const unsigned char *der,
			size_t len)
{
	struct gmsoft_blob subject, issuer, serial;
	CK_RV rv;

	if (gmsoft_cert_fields(der, len, &subject, &issuer, &serial) != CKR_OK) {
		rv = gmsoft_attr_set(o, CKA_SUBJECT, "", 0);
		rv = rv ? rv : gmsoft_attr_set(o, CKA_ISSUER, "", 0);
		return rv ? rv : gmsoft_attr_set(o, CKA_SERIAL_NUMBER, "", 0);
	}
	rv = gmsoft_attr_set(o, CKA_SUBJECT, subject.data, subject.len);
	rv = rv ? rv : gmsoft_attr_set(o, CKA_ISSUER, issuer.data, issuer.len);
	rv = rv ? rv : gmsoft_attr_set(o, CKA_SERIAL_NUMBER, serial.data,
				       serial.len);
	free(subject.data);
	free(issuer.data);
	free(serial.data);
	return rv;
}

CK_RV gmsoft_cert_build(const unsigned char *der, size_t len,
			struct gmsoft_object *o)
{
	CK_RV rv;

	memset(o, 0, sizeof(*o));
	rv = gmsoft_attr_set_ulong(o, CKA_CLASS, CKO_CERTIFICATE);
	rv = rv ? rv : gmsoft_attr_set_ulong(o, CKA_CERTIFICATE_TYPE, CKC_X_509);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_TOKEN, 1);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_PRIVATE, 0);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_MODIFIABLE, 1);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_TRUSTED, 0);
	rv = rv ? rv : gmsoft_attr_set_ulong(o, CKA_CERTIFICATE_CATEGORY, 0);
	rv = rv ? rv : gmsoft_attr_set(o, CKA_LABEL, "", 0);
	rv = rv ? rv : gmsoft_attr_set(o, CKA_ID, "", 0);
	rv = rv ? rv : gmsoft_attr_set(o, CKA_VALUE, der, len);
	rv = rv ? rv : cert_names(o, der, len);
	if (rv != CKR_OK)
		gmsoft_object_clear(o);
	return rv;
}

CK_RV gmsoft_objects_store(const char *dir, CK_SLOT_ID slot,
			   struct gmsoft_object **objs, size_t n)
{
	struct gmsoft_token tok;
	CK_RV rv = gmsoft_token_load(dir, slot, &tok);

	if (rv != CKR_OK)
		return rv;
	if (!tok.has_token)
		return CKR_TOKEN_NOT_PRESENT;
	for (size_t i = 0; i < n; i++)
		objs[i]->handle = tok.next_handle++;
	/* The handles are reserved first: a crash after this point loses
	 * handle numbers, never reuses one. */
	rv = gmsoft_token_save(dir, &tok);
	for (size_t i = 0; rv == CKR_OK && i < n; i++)
		rv = gmsoft_object_save(dir, slot, objs[i]);
	return rv;
}

CK_RV gmsoft_point_from_attr(const struct gmsoft_object *obj,
			     unsigned char point[GMSOFT_SM2_POINT_LEN])
{
	const struct gmsoft_attr *a = gmsoft_attr_find(obj, CKA_EC_POINT);

	if (!a || a->len != 2 + GMSOFT_SM2_POINT_LEN || a->value[0] != 0x04 ||
	    a->value[1] != GMSOFT_SM2_POINT_LEN)
		return CKR_KEY_TYPE_INCONSISTENT;
	memcpy(point, a->value + 2, GMSOFT_SM2_POINT_LEN);
	return CKR_OK;
}
