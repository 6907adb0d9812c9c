/* st_skf_con.c - SKF containers and certificates of the soft ePass3000GM,
 * over the PKCS#11 objects: a container is the object of class
 * GMSOFT_CKO_CONTAINER with its CKA_CONTAINER_NAME; its signing and
 * exchange key pairs and its two certificates are the objects carrying
 * that name. */
#include "st_skf_int.h"

#include <stdlib.h>
#include <string.h>

/* locked: the caller holds the lock already (flock(2) locks of one
 * process on two descriptors exclude each other). */
static ULONG objects_load(CK_SLOT_ID slot, struct gmsoft_object **objs,
			  size_t *n, int locked)
{
	int fd = -1;
	CK_RV rv = locked ? CKR_OK : gmsoft_lock(gmsoft_g.dir, 0, &fd);

	if (rv != CKR_OK)
		return SAR_FAIL;
	rv = gmsoft_objects_load(gmsoft_g.dir, slot, objs, n);
	gmsoft_unlock(fd);
	return gmsoft_skf_sar(rv);
}

static size_t container_at(const struct gmsoft_object *objs, size_t n,
			   const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (gmsoft_container_is(&objs[i], name))
			break;
	return i;
}

static int in_container(const struct gmsoft_object *o, const char *name)
{
	char have[GMSOFT_CONTAINER_NAME_MAX + 1];

	return !gmsoft_container_is(o, NULL) &&
	       gmsoft_container_of(o, have, sizeof(have)) &&
	       !strcmp(have, name);
}

ULONG gmsoft_skf_objects(struct gmsoft_skf_handle *con,
			 struct gmsoft_object **objs, size_t *n, int locked)
{
	ULONG sar = objects_load(con->slot, objs, n, locked);

	if (sar == SAR_OK && container_at(*objs, *n, con->name) == *n) {
		/* deleted meanwhile, through this API or the other */
		gmsoft_objects_free(*objs, *n);
		*objs = NULL;
		*n = 0;
		return SAR_INVALIDHANDLEERR;
	}
	return sar;
}

size_t gmsoft_skf_key_find(const struct gmsoft_object *objs, size_t n,
			   const char *name, CK_OBJECT_CLASS cls, int sign)
{
	CK_ATTRIBUTE_TYPE use = cls == CKO_PRIVATE_KEY ? CKA_SIGN : CKA_VERIFY;
	size_t i;

	for (i = 0; i < n; i++)
		if (gmsoft_attr_ulong(&objs[i], CKA_CLASS, CKO_DATA) == cls &&
		    in_container(&objs[i], name) &&
		    gmsoft_attr_bool(&objs[i], use, 0) == !!sign)
			break;
	return i;
}

int gmsoft_skf_container_rsa(const struct gmsoft_object *objs, size_t n,
			     const char *name)
{
	size_t at = container_at(objs, n, name);

	return at < n && gmsoft_attr_ulong(&objs[at], CKA_KEY_TYPE,
					   GMSOFT_CKK_SM2) == CKK_RSA;
}

/* The application handle p, its device present. */
static ULONG app_open(HAPPLICATION p, struct gmsoft_skf_handle **h)
{
	return gmsoft_skf_open(p, SKF_KIND_APP, h);
}

static ULONG name_check(const char *name)
{
	size_t n;

	if (!name)
		return SAR_INVALIDPARAMERR;
	n = strnlen(name, GMSOFT_CONTAINER_NAME_MAX + 1);
	return (n == 0 || n > GMSOFT_CONTAINER_NAME_MAX) ? SAR_NAMELENERR :
							   SAR_OK;
}

ULONG gmsoft_skf_enum_container(HAPPLICATION p, LPSTR list, ULONG *size)
{
	struct gmsoft_skf_handle *h;
	struct gmsoft_object *objs = NULL;
	const char **names = NULL;
	char (*bufs)[GMSOFT_CONTAINER_NAME_MAX + 1] = NULL;
	size_t n = 0, k = 0;
	ULONG sar = app_open(p, &h);

	sar = sar ? sar : objects_load(h->slot, &objs, &n, 0);
	if (sar != SAR_OK)
		return sar;
	names = calloc(n + 1, sizeof(*names));
	bufs = calloc(n + 1, sizeof(*bufs));
	if (!names || !bufs) {
		sar = SAR_MEMORYERR;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (gmsoft_container_is(&objs[i], NULL) &&
		    gmsoft_container_of(&objs[i], bufs[k], sizeof(bufs[k])))
			names[k] = bufs[k], k++;
	sar = gmsoft_skf_names_out(names, k, list, size);
out:
	free(names);
	free(bufs);
	gmsoft_objects_free(objs, n);
	return sar;
}

static ULONG con_handle(struct gmsoft_skf_handle *app, const char *name,
			HCONTAINER *out)
{
	struct gmsoft_skf_handle *c = gmsoft_skf_new(SKF_KIND_CON, app);

	if (!c)
		return SAR_MEMORYERR;
	memcpy(c->name, name, strlen(name) + 1);
	*out = c;
	return SAR_OK;
}

ULONG gmsoft_skf_create_container(HAPPLICATION p, LPSTR name, HCONTAINER *out)
{
	struct gmsoft_skf_handle *h;
	struct gmsoft_object *objs = NULL, c = { 0 };
	struct gmsoft_object *list[1] = { &c };
	size_t n = 0;
	int fd;
	ULONG sar = app_open(p, &h);

	sar = sar ? sar : name_check(name);
	if (sar == SAR_OK && !out)
		sar = SAR_INVALIDPARAMERR;
	sar = sar ? sar : gmsoft_skf_need_user(h);
	if (sar != SAR_OK)
		return sar;
	if (gmsoft_lock(gmsoft_g.dir, 1, &fd) != CKR_OK)
		return SAR_FAIL;
	sar = gmsoft_skf_sar(
		gmsoft_objects_load(gmsoft_g.dir, h->slot, &objs, &n));
	if (sar == SAR_OK && container_at(objs, n, name) < n)
		sar = SAR_FILE_ALREADY_EXIST;
	sar = sar ? sar : gmsoft_skf_sar(gmsoft_container_build(name, &c));
	sar = sar ? sar :
		    gmsoft_skf_sar(gmsoft_objects_store(gmsoft_g.dir, h->slot,
							list, 1));
	gmsoft_unlock(fd);
	gmsoft_object_clear(&c);
	gmsoft_objects_free(objs, n);
	return sar ? sar : con_handle(h, name, out);
}

/* Remove every object of container name, then the container itself; a
 * crash in between leaves a container with fewer objects. */
static CK_RV container_remove(CK_SLOT_ID slot, const struct gmsoft_object *objs,
			      size_t n, const char *name)
{
	CK_RV rv = CKR_OK;

	for (size_t i = 0; rv == CKR_OK && i < n; i++)
		if (in_container(&objs[i], name))
			rv = gmsoft_object_remove(gmsoft_g.dir, slot,
						  objs[i].handle);
	for (size_t i = 0; rv == CKR_OK && i < n; i++)
		if (gmsoft_container_is(&objs[i], name))
			rv = gmsoft_object_remove(gmsoft_g.dir, slot,
						  objs[i].handle);
	return rv;
}

ULONG gmsoft_skf_delete_container(HAPPLICATION p, LPSTR name)
{
	struct gmsoft_skf_handle *h;
	struct gmsoft_object *objs = NULL;
	size_t n = 0;
	int fd;
	ULONG sar = app_open(p, &h);

	sar = sar ? sar : name_check(name);
	sar = sar ? sar : gmsoft_skf_need_user(h);
	if (sar != SAR_OK)
		return sar;
	if (gmsoft_lock(gmsoft_g.dir, 1, &fd) != CKR_OK)
		return SAR_FAIL;
	sar = gmsoft_skf_sar(
		gmsoft_objects_load(gmsoft_g.dir, h->slot, &objs, &n));
	if (sar == SAR_OK && container_at(objs, n, name) == n)
		sar = SAR_FILE_NOT_EXIST;
	sar = sar ? sar :
		    gmsoft_skf_sar(container_remove(h->slot, objs, n, name));
	gmsoft_unlock(fd);
	gmsoft_objects_free(objs, n);
	return sar;
}

ULONG gmsoft_skf_open_container(HAPPLICATION p, LPSTR name, HCONTAINER *out)
{
	struct gmsoft_skf_handle *h;
	struct gmsoft_object *objs = NULL;
	size_t n = 0;
	ULONG sar = app_open(p, &h);

	sar = sar ? sar : name_check(name);
	if (sar == SAR_OK && !out)
		sar = SAR_INVALIDPARAMERR;
	sar = sar ? sar : objects_load(h->slot, &objs, &n, 0);
	if (sar == SAR_OK && container_at(objs, n, name) == n)
		sar = SAR_FILE_NOT_EXIST;
	gmsoft_objects_free(objs, n);
	return sar ? sar : con_handle(h, name, out);
}

ULONG gmsoft_skf_close_container(HCONTAINER p)
{
	struct gmsoft_skf_handle *h = gmsoft_skf_get(p, SKF_KIND_CON);

	if (!h)
		return SAR_INVALIDHANDLEERR;
	gmsoft_skf_free(h);
	return SAR_OK;
}

static int has_key(const struct gmsoft_object *objs, size_t n,
		   const char *name)
{
	return gmsoft_skf_key_find(objs, n, name, CKO_PRIVATE_KEY, 1) < n ||
	       gmsoft_skf_key_find(objs, n, name, CKO_PRIVATE_KEY, 0) < n;
}

ULONG gmsoft_skf_get_container_type(HCONTAINER p, ULONG *type)
{
	struct gmsoft_skf_handle *h;
	struct gmsoft_object *objs = NULL;
	size_t n = 0;
	ULONG sar = gmsoft_skf_open(p, SKF_KIND_CON, &h);

	sar = sar ? sar : gmsoft_skf_objects(h, &objs, &n, 0);
	if (sar != SAR_OK)
		return sar;
	if (!type)
		sar = SAR_INVALIDPARAMERR;
	else if (gmsoft_skf_container_rsa(objs, n, h->name))
		*type = SKF_CONTAINER_RSA;
	else if (has_key(objs, n, h->name))
		*type = SKF_CONTAINER_SM2;
	else
		*type = SKF_CONTAINER_EMPTY;
	gmsoft_objects_free(objs, n);
	return sar;
}

/* ---- certificates --------------------------------------------------- */

static int same_id(const struct gmsoft_object *a, const struct gmsoft_object *b)
{
	const struct gmsoft_attr *x = gmsoft_attr_find(a, CKA_ID);
	const struct gmsoft_attr *y = gmsoft_attr_find(b, CKA_ID);

	return x && y && x->len == y->len &&
	       !memcmp(x->value, y->value, x->len);
}

/* Whether certificate o is the signing one of container name: as marked
 * when written through SKF; else (written through PKCS#11) it is the
 * encryption one only when its CKA_ID is the exchange key's. */
static int cert_is_sign(const struct gmsoft_object *objs, size_t n,
			const struct gmsoft_object *o, const char *name)
{
	size_t x = gmsoft_skf_key_find(objs, n, name, CKO_PRIVATE_KEY, 0);

	if (gmsoft_attr_find(o, GMSOFT_CKA_SKF_SIGN_CERT))
		return gmsoft_attr_bool(o, GMSOFT_CKA_SKF_SIGN_CERT, 1);
	return !(x < n && same_id(o, &objs[x]));
}

static size_t cert_find(const struct gmsoft_object *objs, size_t n,
			const char *name, int sign)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (gmsoft_attr_ulong(&objs[i], CKA_CLASS, CKO_DATA) ==
			    CKO_CERTIFICATE &&
		    in_container(&objs[i], name) &&
		    cert_is_sign(objs, n, &objs[i], name) == !!sign)
			break;
	return i;
}

CK_RV gmsoft_skf_replace(struct gmsoft_skf_handle *con,
			 const struct gmsoft_object *objs, size_t n,
			 size_t *old, size_t nold, struct gmsoft_object **add,
			 size_t nadd)
{
	CK_RV rv = CKR_OK;

	for (size_t i = 0; rv == CKR_OK && i < nold; i++) {
		if (old[i] >= n)
			continue;
		rv = gmsoft_container_forget(gmsoft_g.dir, con->slot,
					     &objs[old[i]]);
		if (rv == CKR_OK)
			rv = gmsoft_object_remove(gmsoft_g.dir, con->slot,
						  objs[old[i]].handle);
	}
	if (rv == CKR_OK)
		rv = gmsoft_objects_store_contained(gmsoft_g.dir, con->slot,
						    add, nadd, con->name);
	return rv;
}

static CK_RV cert_object(const struct gmsoft_object *objs, size_t n,
			 const char *name, int sign, const BYTE *der, ULONG len,
			 struct gmsoft_object *cert)
{
	size_t key = gmsoft_skf_key_find(objs, n, name, CKO_PRIVATE_KEY, sign);
	const struct gmsoft_attr *id =
		key < n ? gmsoft_attr_find(&objs[key], CKA_ID) : NULL;
	CK_BBOOL flag = sign ? CK_TRUE : CK_FALSE;
	CK_RV rv = gmsoft_cert_build(der, len, cert);

	if (rv == CKR_OK && id)
		rv = gmsoft_attr_set(cert, CKA_ID, id->value, id->len);
	if (rv == CKR_OK)
		rv = gmsoft_attr_set(cert, GMSOFT_CKA_CONTAINER_NAME, name,
				     strlen(name) + 1);
	if (rv == CKR_OK)
		rv = gmsoft_attr_set(cert, GMSOFT_CKA_SKF_SIGN_CERT, &flag, 1);
	return rv;
}

ULONG gmsoft_skf_import_certificate(HCONTAINER p, BOOL sign, BYTE *der,
				    ULONG len)
{
	struct gmsoft_skf_handle *h;
	struct gmsoft_object *objs = NULL, cert = { 0 };
	struct gmsoft_object *list[1] = { &cert };
	size_t n = 0, old;
	int fd;
	ULONG sar = gmsoft_skf_open(p, SKF_KIND_CON, &h);

	if (sar != SAR_OK)
		return sar;
	if (!der || len == 0 || len > GMSOFT_SKF_CERT_MAX)
		return der ? SAR_INDATALENERR : SAR_INVALIDPARAMERR;
	sar = gmsoft_skf_need_user(h);
	if (sar != SAR_OK)
		return sar;
	if (gmsoft_lock(gmsoft_g.dir, 1, &fd) != CKR_OK)
		return SAR_FAIL;
	sar = gmsoft_skf_objects(h, &objs, &n, 1);
	sar = sar ? sar :
		    gmsoft_skf_sar(cert_object(objs, n, h->name, sign, der, len,
					       &cert));
	old = cert_find(objs, n, h->name, sign);
	sar = sar ? sar :
		    gmsoft_skf_sar(
			    gmsoft_skf_replace(h, objs, n, &old, 1, list, 1));
	gmsoft_unlock(fd);
	gmsoft_object_clear(&cert);
	gmsoft_objects_free(objs, n);
	return sar;
}

ULONG gmsoft_skf_export_certificate(HCONTAINER p, BOOL sign, BYTE *der,
				    ULONG *len)
{
	struct gmsoft_skf_handle *h;
	struct gmsoft_object *objs = NULL;
	const struct gmsoft_attr *v = NULL;
	size_t n = 0, at;
	ULONG sar = gmsoft_skf_open(p, SKF_KIND_CON, &h);

	if (sar == SAR_OK && !len)
		sar = SAR_INVALIDPARAMERR;
	sar = sar ? sar : gmsoft_skf_objects(h, &objs, &n, 0);
	if (sar != SAR_OK)
		return sar;
	at = cert_find(objs, n, h->name, sign);
	if (at < n)
		v = gmsoft_attr_find(&objs[at], CKA_VALUE);
	sar = v ? gmsoft_skf_bytes_out(v->value, v->len, der, len) :
		  SAR_CERTNOTFOUNTERR;
	gmsoft_objects_free(objs, n);
	return sar;
}
