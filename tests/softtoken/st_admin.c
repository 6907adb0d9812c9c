/* st_admin.c - provisioning of soft ePass3000GM tokens, outside PKCS#11. */
#include "st_admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "st_crypto.h"
#include "st_object.h"

CK_RV gmsoft_admin_init(const char *dir, const struct gmsoft_token *spec,
			const char *pin, const char *so_pin)
{
	struct gmsoft_token t = *spec;
	int fd;
	CK_RV rv = gmsoft_lock(dir, 1, &fd);

	if (rv != CKR_OK)
		return rv;
	t.has_token = 1;
	t.present = 1;
	t.tries = t.so_tries = GMSOFT_PIN_TRIES;
	t.next_handle = 1;
	gmsoft_new_salt(t.salt);
	t.pin_hash[0] = t.so_pin_hash[0] = '\0';
	if (pin)
		gmsoft_pin_hash(t.salt, (const unsigned char *)pin, strlen(pin),
				t.pin_hash);
	if (so_pin)
		gmsoft_pin_hash(t.salt, (const unsigned char *)so_pin,
				strlen(so_pin), t.so_pin_hash);
	rv = gmsoft_token_save(dir, &t);
	if (rv == CKR_OK)
		rv = gmsoft_objects_clear(dir, t.slot);
	gmsoft_unlock(fd);
	return rv;
}

CK_RV gmsoft_admin_empty(const char *dir, CK_SLOT_ID slot)
{
	struct gmsoft_token t;
	int fd;
	CK_RV rv = gmsoft_lock(dir, 1, &fd);

	if (rv != CKR_OK)
		return rv;
	gmsoft_token_defaults(&t, slot);
	rv = gmsoft_token_save(dir, &t);
	if (rv == CKR_OK)
		rv = gmsoft_objects_clear(dir, slot);
	gmsoft_unlock(fd);
	return rv;
}

/* Load the token of slot under the exclusive lock, change it, save it. */
static CK_RV token_update(const char *dir, CK_SLOT_ID slot,
			  void (*change)(struct gmsoft_token *, int), int arg)
{
	struct gmsoft_token t;
	int fd;
	CK_RV rv = gmsoft_lock(dir, 1, &fd);

	if (rv != CKR_OK)
		return rv;
	rv = gmsoft_token_load(dir, slot, &t);
	if (rv == CKR_OK && !t.has_token)
		rv = CKR_TOKEN_NOT_PRESENT;
	if (rv == CKR_OK) {
		change(&t, arg);
		rv = gmsoft_token_save(dir, &t);
	}
	gmsoft_unlock(fd);
	return rv;
}

static void set_present(struct gmsoft_token *t, int present)
{
	t->present = present;
}

static void set_tries(struct gmsoft_token *t, int tries)
{
	t->tries = tries;
}

CK_RV gmsoft_admin_presence(const char *dir, CK_SLOT_ID slot, int present)
{
	return token_update(dir, slot, set_present, present);
}

CK_RV gmsoft_admin_set_tries(const char *dir, CK_SLOT_ID slot, int tries)
{
	if (tries < 0 || tries > GMSOFT_PIN_TRIES)
		return CKR_ARGUMENTS_BAD;
	return token_update(dir, slot, set_tries, tries);
}

static CK_RV name_object(struct gmsoft_object *o, struct gmsoft_bytes id,
			 const char *label)
{
	CK_RV rv = CKR_OK;

	if (id.data)
		rv = gmsoft_attr_set(o, CKA_ID, id.data, id.len);
	if (rv == CKR_OK && label)
		rv = gmsoft_attr_set(o, CKA_LABEL, label, strlen(label));
	return rv;
}

static CK_RV store_locked(const char *dir, CK_SLOT_ID slot,
			  struct gmsoft_object **objs, size_t n,
			  const char *container)
{
	int fd;
	CK_RV rv = gmsoft_lock(dir, 1, &fd);

	if (rv != CKR_OK)
		return rv;
	rv = container ? gmsoft_objects_store_contained(dir, slot, objs, n,
							container) :
			 gmsoft_objects_store(dir, slot, objs, n);
	gmsoft_unlock(fd);
	return rv;
}

/* A key pair joins the container named (or one the fixture names). */
static CK_RV store_pair(const char *dir, CK_SLOT_ID slot, const char *pem,
			int local, const struct gmsoft_key_spec *k,
			CK_OBJECT_HANDLE handles[2])
{
	struct gmsoft_object pub, priv;
	struct gmsoft_object *list[2] = { &pub, &priv };
	unsigned char point[GMSOFT_SM2_POINT_LEN];
	char name[GMSOFT_CONTAINER_NAME_MAX + 1];
	CK_RV rv = gmsoft_sm2_point(pem, point);

	if (rv != CKR_OK)
		return rv;
	if (k->container && (!*k->container ||
			     strlen(k->container) > GMSOFT_CONTAINER_NAME_MAX))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if (k->container)
		snprintf(name, sizeof(name), "%s", k->container);
	else
		gmsoft_container_auto_name(point, name, sizeof(name));
	rv = gmsoft_keypair_build(pem, local, name, !k->exchange, &pub, &priv);
	if (rv != CKR_OK)
		return rv;
	rv = name_object(&pub, k->id, k->label);
	rv = rv ? rv : name_object(&priv, k->id, k->label);
	rv = rv ? rv : store_locked(dir, slot, list, 2, name);
	if (rv == CKR_OK) {
		handles[0] = pub.handle;
		handles[1] = priv.handle;
	}
	gmsoft_object_clear(&pub);
	gmsoft_object_clear(&priv);
	return rv;
}

static void pem_free(char *pem)
{
	if (pem) {
		OPENSSL_cleanse(pem, strlen(pem));
		free(pem);
	}
}

CK_RV gmsoft_admin_import_key(const char *dir, CK_SLOT_ID slot,
			      const struct gmsoft_key_spec *k, const char *pem,
			      CK_OBJECT_HANDLE handles[2])
{
	char *norm = NULL;
	CK_RV rv = gmsoft_sm2_normalise(pem, &norm);

	if (rv == CKR_OK)
		rv = store_pair(dir, slot, norm, 0, k, handles);
	pem_free(norm);
	return rv;
}

CK_RV gmsoft_admin_gen_key(const char *dir, CK_SLOT_ID slot,
			   const struct gmsoft_key_spec *k, char **pub_pem,
			   CK_OBJECT_HANDLE handles[2])
{
	unsigned char point[GMSOFT_SM2_POINT_LEN];
	char *pem = NULL;
	CK_RV rv = gmsoft_sm2_generate(&pem);

	rv = rv ? rv : gmsoft_sm2_point(pem, point);
	rv = rv ? rv : store_pair(dir, slot, pem, 1, k, handles);
	rv = rv ? rv : gmsoft_sm2_pub_pem(point, pub_pem);
	pem_free(pem);
	return rv;
}

static int is_key_with_id(const struct gmsoft_object *o, struct gmsoft_bytes id);

/* The container of the private key with CKA_ID id, in buf; NULL if none. */
static const char *key_container(const char *dir, CK_SLOT_ID slot,
				 struct gmsoft_bytes id, char *buf, size_t size)
{
	struct gmsoft_object *objs;
	const char *found = NULL;
	size_t n;

	if (gmsoft_objects_load(dir, slot, &objs, &n) != CKR_OK)
		return NULL;
	for (size_t i = 0; !found && i < n; i++)
		if (is_key_with_id(&objs[i], id))
			found = gmsoft_container_of(&objs[i], buf, size);
	gmsoft_objects_free(objs, n);
	return found;
}

CK_RV gmsoft_admin_import_cert(const char *dir, CK_SLOT_ID slot,
			       const struct gmsoft_key_spec *k,
			       struct gmsoft_bytes value, CK_OBJECT_HANDLE *handle)
{
	char buf[GMSOFT_CONTAINER_NAME_MAX + 1];
	const char *container = k->container;
	struct gmsoft_object cert;
	struct gmsoft_object *list[1] = { &cert };
	CK_RV rv = gmsoft_cert_build(value.data, value.len, &cert);

	if (rv != CKR_OK)
		return rv;
	if (!container && k->id.data)
		container = key_container(dir, slot, k->id, buf, sizeof(buf));
	if (container && (!*container ||
			  strlen(container) > GMSOFT_CONTAINER_NAME_MAX))
		rv = CKR_ATTRIBUTE_VALUE_INVALID;
	rv = rv ? rv : name_object(&cert, k->id, k->label);
	if (rv == CKR_OK && container)
		rv = gmsoft_attr_set(&cert, GMSOFT_CKA_CONTAINER_NAME, container,
				     strlen(container) + 1);
	rv = rv ? rv : store_locked(dir, slot, list, 1, container);
	if (rv == CKR_OK)
		*handle = cert.handle;
	gmsoft_object_clear(&cert);
	return rv;
}

static int is_key_with_id(const struct gmsoft_object *o, struct gmsoft_bytes id)
{
	const struct gmsoft_attr *a = gmsoft_attr_find(o, CKA_ID);

	return o->key_pem && a && a->len == id.len &&
	       (id.len == 0 || memcmp(a->value, id.data, id.len) == 0);
}

CK_RV gmsoft_admin_sign(const char *dir, CK_SLOT_ID slot,
			struct gmsoft_bytes id, struct gmsoft_bytes digest,
			unsigned char sig[GMSOFT_SM2_SIG_LEN])
{
	struct gmsoft_object *objs;
	size_t n;
	int fd;
	CK_RV rv;

	if (digest.len > GMSOFT_SM2_DIGEST_MAX)
		return CKR_DATA_LEN_RANGE;
	rv = gmsoft_lock(dir, 0, &fd);
	if (rv != CKR_OK)
		return rv;
	rv = gmsoft_objects_load(dir, slot, &objs, &n);
	gmsoft_unlock(fd);
	if (rv != CKR_OK)
		return rv;
	rv = CKR_KEY_HANDLE_INVALID;
	for (size_t i = 0; i < n; i++) {
		if (is_key_with_id(&objs[i], id)) {
			rv = gmsoft_sm2_sign(objs[i].key_pem, digest.data,
					     digest.len, sig);
			break;
		}
	}
	gmsoft_objects_free(objs, n);
	return rv;
}

static int container_exists(const char *dir, CK_SLOT_ID slot, const char *name)
{
	struct gmsoft_object *objs;
	size_t n;
	int found = 0;

	if (gmsoft_objects_load(dir, slot, &objs, &n) != CKR_OK)
		return 0;
	for (size_t i = 0; !found && i < n; i++)
		found = gmsoft_container_is(&objs[i], name);
	gmsoft_objects_free(objs, n);
	return found;
}

CK_RV gmsoft_admin_add_container(const char *dir, CK_SLOT_ID slot,
				 const char *name, int rsa)
{
	struct gmsoft_object c;
	struct gmsoft_object *list[1] = { &c };
	int fd;
	CK_RV rv;

	if (!*name || strlen(name) > GMSOFT_CONTAINER_NAME_MAX)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	rv = gmsoft_container_build(name, &c);
	if (rv == CKR_OK && rsa)
		rv = gmsoft_attr_set_ulong(&c, CKA_KEY_TYPE, CKK_RSA);
	if (rv != CKR_OK)
		return rv;
	rv = gmsoft_lock(dir, 1, &fd);
	if (rv == CKR_OK) {
		rv = container_exists(dir, slot, name) ?
			     CKR_ATTRIBUTE_VALUE_INVALID :
			     gmsoft_objects_store(dir, slot, list, 1);
		gmsoft_unlock(fd);
	}
	gmsoft_object_clear(&c);
	return rv;
}
