/* st_object.c - the objects of the soft ePass3000GM and their defaults. */
#include "st_object.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "st_crypto.h"

/* FEITIAN's driver keeps an SM2 public key as X||Y in CKA_MODULUS and
 * never fills CKA_EC_POINT or CKA_EC_PARAMS. */
static CK_RV key_common(struct gmsoft_object *o, CK_OBJECT_CLASS cls,
			const unsigned char *point, int local,
			const char *container)
{
	unsigned char id[SHA_DIGEST_LENGTH];
	CK_ULONG mech = local ? GMSOFT_CKM_SM2_KEY_PAIR_GEN :
				CK_UNAVAILABLE_INFORMATION;
	CK_RV rv;

	SHA1(point, GMSOFT_SM2_POINT_LEN, id);
	rv = gmsoft_attr_set_ulong(o, CKA_CLASS, cls);
	rv = rv ? rv : gmsoft_attr_set_ulong(o, CKA_KEY_TYPE, GMSOFT_CKK_SM2);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_TOKEN, 1);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_PRIVATE, cls == CKO_PRIVATE_KEY);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_MODIFIABLE, 1);
	rv = rv ? rv : gmsoft_attr_set(o, CKA_LABEL, "", 0);
	rv = rv ? rv : gmsoft_attr_set(o, CKA_ID, id, sizeof(id));
	rv = rv ? rv : gmsoft_attr_set(o, CKA_SUBJECT, "", 0);
	rv = rv ? rv : gmsoft_attr_set(o, CKA_MODULUS, point + 1,
				       GMSOFT_SM2_XY_LEN);
	rv = rv ? rv : gmsoft_attr_set_ulong(o, CKA_MODULUS_BITS, 256);
	rv = rv ? rv : gmsoft_attr_set(o, GMSOFT_CKA_CONTAINER_NAME, container,
				       strlen(container) + 1);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_LOCAL, local);
	rv = rv ? rv : gmsoft_attr_set_ulong(o, CKA_KEY_GEN_MECHANISM, mech);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_DERIVE, 0);
	return rv;
}

/* A signing key signs; an exchange (encryption) key decrypts. */
static CK_RV private_flags(struct gmsoft_object *o, int local, int sign)
{
	CK_RV rv = gmsoft_attr_set_bool(o, CKA_SIGN, sign);

	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_DECRYPT, !sign);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_UNWRAP, 0);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_SIGN_RECOVER, 0);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_ALWAYS_AUTHENTICATE, 0);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_SENSITIVE, 1);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_EXTRACTABLE, 0);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_ALWAYS_SENSITIVE, local);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_NEVER_EXTRACTABLE, local);
	return rv;
}

CK_RV gmsoft_keypair_build(const char *pem, int local, const char *container,
			   int sign, struct gmsoft_object *pub,
			   struct gmsoft_object *priv)
{
	unsigned char point[GMSOFT_SM2_POINT_LEN];
	CK_RV rv;

	memset(pub, 0, sizeof(*pub));
	memset(priv, 0, sizeof(*priv));
	rv = gmsoft_sm2_point(pem, point);
	rv = rv ? rv : key_common(pub, CKO_PUBLIC_KEY, point, local, container);
	rv = rv ? rv : gmsoft_attr_set_bool(pub, CKA_VERIFY, sign);
	rv = rv ? rv : gmsoft_attr_set_bool(pub, CKA_ENCRYPT, !sign);
	rv = rv ? rv : gmsoft_attr_set_bool(pub, CKA_WRAP, 0);
	rv = rv ? rv : gmsoft_attr_set_bool(pub, CKA_VERIFY_RECOVER, 0);
	rv = rv ? rv : key_common(priv, CKO_PRIVATE_KEY, point, local, container);
	rv = rv ? rv : private_flags(priv, local, sign);
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

CK_RV gmsoft_pubkey_build(const unsigned char point[GMSOFT_SM2_POINT_LEN],
			   const char *container, int sign,
			   struct gmsoft_object *pub)
{
	CK_RV rv;

	memset(pub, 0, sizeof(*pub));
	rv = key_common(pub, CKO_PUBLIC_KEY, point, 0, container);
	rv = rv ? rv : gmsoft_attr_set_bool(pub, CKA_VERIFY, sign);
	rv = rv ? rv : gmsoft_attr_set_bool(pub, CKA_ENCRYPT, !sign);
	rv = rv ? rv : gmsoft_attr_set_bool(pub, CKA_WRAP, 0);
	rv = rv ? rv : gmsoft_attr_set_bool(pub, CKA_VERIFY_RECOVER, 0);
	if (rv != CKR_OK)
		gmsoft_object_clear(pub);
	return rv;
}

CK_RV gmsoft_container_build(const char *name, struct gmsoft_object *o)
{
	CK_RV rv;

	memset(o, 0, sizeof(*o));
	rv = gmsoft_attr_set_ulong(o, CKA_CLASS, GMSOFT_CKO_CONTAINER);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_TOKEN, 1);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_PRIVATE, 0);
	rv = rv ? rv : gmsoft_attr_set_bool(o, CKA_MODIFIABLE, 1);
	rv = rv ? rv : gmsoft_attr_set(o, GMSOFT_CKA_CONTAINER_NAME, name,
				       strlen(name) + 1);
	rv = rv ? rv : gmsoft_attr_set(o, CKA_VALUE, "", 0);
	if (rv != CKR_OK)
		gmsoft_object_clear(o);
	return rv;
}

int gmsoft_container_is(const struct gmsoft_object *o, const char *name)
{
	const struct gmsoft_attr *a = gmsoft_attr_find(o, GMSOFT_CKA_CONTAINER_NAME);

	if (gmsoft_attr_ulong(o, CKA_CLASS, CKO_DATA) != GMSOFT_CKO_CONTAINER)
		return 0;
	return !name || (a && a->len == strlen(name) + 1 &&
			 !memcmp(a->value, name, a->len));
}

const char *gmsoft_container_of(const struct gmsoft_object *o, char *buf,
				size_t size)
{
	const struct gmsoft_attr *a = gmsoft_attr_find(o, GMSOFT_CKA_CONTAINER_NAME);

	if (!a || a->len < 2 || a->len > size || a->value[a->len - 1] != 0 ||
	    memchr(a->value, 0, a->len - 1))
		return NULL;
	memcpy(buf, a->value, a->len);
	return buf;
}

CK_RV gmsoft_container_link(struct gmsoft_object *c, CK_OBJECT_HANDLE h,
			    int add)
{
	const struct gmsoft_attr *a = gmsoft_attr_find(c, CKA_VALUE);
	size_t n = a ? a->len / sizeof(CK_ULONG) : 0, kept = 0;
	CK_ULONG *list = calloc(n + 1, sizeof(*list));
	CK_RV rv;

	if (!list)
		return CKR_HOST_MEMORY;
	if (n)
		memcpy(list, a->value, n * sizeof(*list));
	for (size_t i = 0; i < n; i++)
		if (list[i] != h)
			list[kept++] = list[i];
	if (add)
		list[kept++] = h;
	rv = gmsoft_attr_set(c, CKA_VALUE, list, kept * sizeof(*list));
	free(list);
	return rv;
}

size_t gmsoft_container_count(const struct gmsoft_object *c)
{
	const struct gmsoft_attr *a = gmsoft_attr_find(c, CKA_VALUE);

	return a ? a->len / sizeof(CK_ULONG) : 0;
}

void gmsoft_container_auto_name(const unsigned char *point, char *buf,
				size_t size)
{
	unsigned char h[SHA_DIGEST_LENGTH];
	char hex[2 * SHA_DIGEST_LENGTH + 1];

	SHA1(point, GMSOFT_SM2_POINT_LEN, h);
	gmsoft_hex_encode(h, 8, hex);
	snprintf(buf, size, "ST-%s", hex);
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
	const struct gmsoft_attr *a = gmsoft_attr_find(obj, CKA_MODULUS);

	if (!a || a->len != GMSOFT_SM2_XY_LEN)
		return CKR_KEY_TYPE_INCONSISTENT;
	point[0] = 0x04;
	memcpy(point + 1, a->value, GMSOFT_SM2_XY_LEN);
	return CKR_OK;
}

/* The index of the container named name in objs, or n. */
static size_t container_find(const struct gmsoft_object *objs, size_t n,
			     const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (gmsoft_container_is(&objs[i], name))
			break;
	return i;
}

/* A container holds one signing pair and one exchange pair: a second one
 * of a kind is refused. */
static CK_RV kind_free(const struct gmsoft_object *objs, size_t n,
		       const char *name, struct gmsoft_object **add, size_t nadd)
{
	char have[GMSOFT_CONTAINER_NAME_MAX + 1];

	for (size_t j = 0; j < nadd; j++) {
		if (gmsoft_attr_ulong(add[j], CKA_CLASS, 0) != CKO_PRIVATE_KEY)
			continue;
		for (size_t i = 0; i < n; i++)
			if (gmsoft_attr_ulong(&objs[i], CKA_CLASS, 0) ==
				    CKO_PRIVATE_KEY &&
			    gmsoft_container_of(&objs[i], have, sizeof(have)) &&
			    !strcmp(have, name) &&
			    gmsoft_attr_bool(&objs[i], CKA_SIGN, 0) ==
				    gmsoft_attr_bool(add[j], CKA_SIGN, 0))
				return CKR_TEMPLATE_INCONSISTENT;
	}
	return CKR_OK;
}

CK_RV gmsoft_objects_store_contained(const char *dir, CK_SLOT_ID slot,
				     struct gmsoft_object **objs, size_t n,
				     const char *name)
{
	struct gmsoft_object *all = NULL, fresh = { 0 }, *c;
	struct gmsoft_object *list[8];
	struct gmsoft_token tok;
	size_t count = 0, at;
	CK_RV rv;

	if (n + 1 > sizeof(list) / sizeof(list[0]))
		return CKR_ARGUMENTS_BAD;
	rv = gmsoft_token_load(dir, slot, &tok);
	if (rv == CKR_OK && !tok.has_token)
		rv = CKR_TOKEN_NOT_PRESENT;
	rv = rv ? rv : gmsoft_objects_load(dir, slot, &all, &count);
	if (rv != CKR_OK)
		return rv;
	rv = kind_free(all, count, name, objs, n);
	at = container_find(all, count, name);
	c = at < count ? &all[at] : &fresh;
	if (rv == CKR_OK && at == count)
		rv = gmsoft_container_build(name, &fresh);
	for (size_t i = 0; rv == CKR_OK && i < n; i++) {
		objs[i]->handle = tok.next_handle++;
		list[i] = objs[i];
		rv = gmsoft_container_link(c, objs[i]->handle, 1);
	}
	if (rv == CKR_OK && at == count)
		fresh.handle = tok.next_handle++;
	list[n] = c;
	/* Handles first (a crash loses numbers, never reuses one), then the
	 * objects, then the container that lists them. */
	rv = rv ? rv : gmsoft_token_save(dir, &tok);
	for (size_t i = 0; rv == CKR_OK && i <= n; i++)
		rv = gmsoft_object_save(dir, slot, list[i]);
	gmsoft_object_clear(&fresh);
	gmsoft_objects_free(all, count);
	return rv;
}

CK_RV gmsoft_container_forget(const char *dir, CK_SLOT_ID slot,
			      const struct gmsoft_object *obj)
{
	char name[GMSOFT_CONTAINER_NAME_MAX + 1];
	struct gmsoft_object *all = NULL;
	size_t count = 0, at;
	CK_RV rv;

	if (gmsoft_container_is(obj, NULL) ||
	    !gmsoft_container_of(obj, name, sizeof(name)))
		return CKR_OK;
	rv = gmsoft_objects_load(dir, slot, &all, &count);
	if (rv != CKR_OK)
		return rv;
	at = container_find(all, count, name);
	if (at < count) {
		rv = gmsoft_container_link(&all[at], obj->handle, 0);
		if (rv == CKR_OK && gmsoft_container_count(&all[at]) == 0)
			rv = gmsoft_object_remove(dir, slot, all[at].handle);
		else if (rv == CKR_OK)
			rv = gmsoft_object_save(dir, slot, &all[at]);
	}
	gmsoft_objects_free(all, count);
	return rv;
}
