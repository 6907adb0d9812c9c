/* st_objops.c - object functions of the soft ePass3000GM. Called with the
 * module mutex held. */
#include "st_internal.h"

#include <stdlib.h>
#include <string.h>

#include "st_crypto.h"

/* ---- session objects ------------------------------------------------ */

static struct gmsoft_sobj *sobj_find(CK_SLOT_ID slot, CK_OBJECT_HANDLE h)
{
	for (size_t i = 0; i < gmsoft_g.nsobjs; i++)
		if (gmsoft_g.sobjs[i].obj.handle == h &&
		    gmsoft_g.sobjs[i].slot == slot)
			return &gmsoft_g.sobjs[i];
	return NULL;
}

/* Drop the session objects of owner; owner 0 drops them all. */
void gmsoft_sobjs_drop(CK_SESSION_HANDLE owner)
{
	size_t kept = 0;

	for (size_t i = 0; i < gmsoft_g.nsobjs; i++) {
		if (owner == 0 || gmsoft_g.sobjs[i].owner == owner)
			gmsoft_object_clear(&gmsoft_g.sobjs[i].obj);
		else
			gmsoft_g.sobjs[kept++] = gmsoft_g.sobjs[i];
	}
	gmsoft_g.nsobjs = kept;
}

static void sobj_remove(struct gmsoft_sobj *so)
{
	size_t i = (size_t)(so - gmsoft_g.sobjs);

	gmsoft_object_clear(&so->obj);
	memmove(so, so + 1, (gmsoft_g.nsobjs - i - 1) * sizeof(*so));
	gmsoft_g.nsobjs--;
}

static CK_RV sobj_add(struct gmsoft_session *s, struct gmsoft_object *obj)
{
	struct gmsoft_sobj *list = realloc(gmsoft_g.sobjs,
					   (gmsoft_g.nsobjs + 1) * sizeof(*list));

	if (!list)
		return CKR_HOST_MEMORY;
	gmsoft_g.sobjs = list;
	obj->handle = GMSOFT_SESSION_OBJECT_BIT | gmsoft_g.next_sobj++;
	list[gmsoft_g.nsobjs].owner = s->handle;
	list[gmsoft_g.nsobjs].slot = s->slot;
	/* The list takes over what obj owns. */
	list[gmsoft_g.nsobjs].obj = *obj;
	memset(obj, 0, sizeof(*obj));
	obj->handle = list[gmsoft_g.nsobjs].obj.handle;
	gmsoft_g.nsobjs++;
	return CKR_OK;
}

/* ---- access --------------------------------------------------------- */

static int visible(const struct gmsoft_session *s,
		   const struct gmsoft_object *obj)
{
	return !gmsoft_attr_bool(obj, CKA_PRIVATE, 0) ||
	       gmsoft_login_user(s->slot) == CKU_USER;
}

static CK_RV obj_load_any(struct gmsoft_session *s, CK_OBJECT_HANDLE h,
			  struct gmsoft_object *obj)
{
	struct gmsoft_sobj *so;
	int fd;
	CK_RV rv;

	if (h & GMSOFT_SESSION_OBJECT_BIT) {
		so = sobj_find(s->slot, h);
		return so ? gmsoft_object_copy(&so->obj, obj) :
			    CKR_OBJECT_HANDLE_INVALID;
	}
	rv = gmsoft_lock(gmsoft_g.dir, 0, &fd);
	if (rv != CKR_OK)
		return rv;
	rv = gmsoft_object_load(gmsoft_g.dir, s->slot, h, obj);
	gmsoft_unlock(fd);
	return rv;
}

CK_RV gmsoft_obj_get(struct gmsoft_session *s, CK_OBJECT_HANDLE h,
		     struct gmsoft_object *obj)
{
	CK_RV rv = obj_load_any(s, h, obj);

	if (rv == CKR_OK && !visible(s, obj)) {
		gmsoft_object_clear(obj);
		rv = CKR_OBJECT_HANDLE_INVALID;
	}
	return rv;
}

CK_RV gmsoft_obj_writable(struct gmsoft_session *s, int token, int priv)
{
	if (token && !(s->flags & CKF_RW_SESSION))
		return CKR_SESSION_READ_ONLY;
	/* Like the real token, writing to it needs the user PIN. */
	if ((token || priv) && gmsoft_login_user(s->slot) != CKU_USER)
		return CKR_USER_NOT_LOGGED_IN;
	return CKR_OK;
}

CK_RV gmsoft_obj_add(struct gmsoft_session *s, struct gmsoft_object **objs,
		     size_t n)
{
	int fd;
	CK_RV rv = CKR_OK;

	for (size_t i = 0; rv == CKR_OK && i < n; i++)
		if (!gmsoft_attr_bool(objs[i], CKA_TOKEN, 0))
			rv = sobj_add(s, objs[i]);
	if (rv != CKR_OK)
		return rv;
	rv = gmsoft_lock(gmsoft_g.dir, 1, &fd);
	if (rv != CKR_OK)
		return rv;
	for (size_t i = 0; rv == CKR_OK && i < n; i++)
		if (gmsoft_attr_bool(objs[i], CKA_TOKEN, 0))
			rv = gmsoft_objects_store(gmsoft_g.dir, s->slot, &objs[i], 1);
	gmsoft_unlock(fd);
	return rv;
}

static CK_RV obj_put(struct gmsoft_session *s, const struct gmsoft_object *obj)
{
	struct gmsoft_sobj *so;
	int fd;
	CK_RV rv;

	if (obj->handle & GMSOFT_SESSION_OBJECT_BIT) {
		so = sobj_find(s->slot, obj->handle);
		if (!so)
			return CKR_OBJECT_HANDLE_INVALID;
		gmsoft_object_clear(&so->obj);
		return gmsoft_object_copy(obj, &so->obj);
	}
	rv = gmsoft_lock(gmsoft_g.dir, 1, &fd);
	if (rv != CKR_OK)
		return rv;
	rv = gmsoft_object_save(gmsoft_g.dir, s->slot, obj);
	gmsoft_unlock(fd);
	return rv;
}

/* ---- templates ------------------------------------------------------ */

static int is_ulong_attr(CK_ATTRIBUTE_TYPE t)
{
	return t == CKA_CLASS || t == CKA_KEY_TYPE || t == CKA_CERTIFICATE_TYPE ||
	       t == CKA_CERTIFICATE_CATEGORY || t == CKA_KEY_GEN_MECHANISM ||
	       t == CKA_MODULUS_BITS;
}

static int is_bool_attr(CK_ATTRIBUTE_TYPE t)
{
	switch (t) {
	case CKA_TOKEN: case CKA_PRIVATE: case CKA_MODIFIABLE:
	case CKA_SIGN: case CKA_VERIFY: case CKA_ENCRYPT: case CKA_DECRYPT:
	case CKA_SENSITIVE: case CKA_EXTRACTABLE: case CKA_DERIVE:
	case CKA_TRUSTED: case CKA_COPYABLE: case CKA_DESTROYABLE:
	case CKA_WRAP: case CKA_UNWRAP: case CKA_LOCAL:
		return 1;
	default:
		return 0;
	}
}

static CK_RV check_value(const CK_ATTRIBUTE *a)
{
	if (!a->pValue && a->ulValueLen)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if (is_ulong_attr(a->type) && a->ulValueLen != sizeof(CK_ULONG))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if (is_bool_attr(a->type) && a->ulValueLen != sizeof(CK_BBOOL))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	return CKR_OK;
}

CK_RV gmsoft_obj_apply(struct gmsoft_object *obj, const CK_ATTRIBUTE *tmpl,
		       CK_ULONG n)
{
	CK_RV rv = CKR_OK;

	if (n && !tmpl)
		return CKR_ARGUMENTS_BAD;
	for (CK_ULONG i = 0; rv == CKR_OK && i < n; i++)
		rv = check_value(&tmpl[i]);
	for (CK_ULONG i = 0; rv == CKR_OK && i < n; i++)
		rv = gmsoft_attr_set(obj, tmpl[i].type, tmpl[i].pValue,
				     tmpl[i].ulValueLen);
	return rv;
}

static const CK_ATTRIBUTE *tmpl_find(const CK_ATTRIBUTE *tmpl, CK_ULONG n,
				     CK_ATTRIBUTE_TYPE type)
{
	for (CK_ULONG i = 0; tmpl && i < n; i++)
		if (tmpl[i].type == type)
			return &tmpl[i];
	return NULL;
}

static CK_RV tmpl_ulong(const CK_ATTRIBUTE *tmpl, CK_ULONG n,
			CK_ATTRIBUTE_TYPE type, CK_ULONG *value)
{
	const CK_ATTRIBUTE *a = tmpl_find(tmpl, n, type);

	if (!a)
		return CKR_TEMPLATE_INCOMPLETE;
	if (!a->pValue || a->ulValueLen != sizeof(CK_ULONG))
		return CKR_ATTRIBUTE_VALUE_INVALID;
	memcpy(value, a->pValue, sizeof(*value));
	return CKR_OK;
}

/* ---- creation ------------------------------------------------------- */

static CK_RV new_cert(const CK_ATTRIBUTE *tmpl, CK_ULONG n,
		      struct gmsoft_object *obj)
{
	const CK_ATTRIBUTE *value = tmpl_find(tmpl, n, CKA_VALUE);
	CK_ULONG type = CKC_X_509;
	CK_RV rv = tmpl_ulong(tmpl, n, CKA_CERTIFICATE_TYPE, &type);

	if (rv != CKR_OK && rv != CKR_TEMPLATE_INCOMPLETE)
		return rv;
	if (type != CKC_X_509)
		return CKR_ATTRIBUTE_VALUE_INVALID;
	if (!value || !value->pValue || !value->ulValueLen)
		return CKR_TEMPLATE_INCOMPLETE;
	rv = gmsoft_cert_build(value->pValue, value->ulValueLen, obj);
	if (rv == CKR_OK)
		rv = gmsoft_attr_set_bool(obj, CKA_TOKEN, 0);
	return rv;
}

static CK_RV new_data(struct gmsoft_object *obj)
{
	CK_RV rv;

	memset(obj, 0, sizeof(*obj));
	rv = gmsoft_attr_set_ulong(obj, CKA_CLASS, CKO_DATA);
	rv = rv ? rv : gmsoft_attr_set_bool(obj, CKA_TOKEN, 0);
	rv = rv ? rv : gmsoft_attr_set_bool(obj, CKA_PRIVATE, 0);
	rv = rv ? rv : gmsoft_attr_set_bool(obj, CKA_MODIFIABLE, 1);
	rv = rv ? rv : gmsoft_attr_set(obj, CKA_LABEL, "", 0);
	rv = rv ? rv : gmsoft_attr_set(obj, CKA_APPLICATION, "", 0);
	rv = rv ? rv : gmsoft_attr_set(obj, CKA_VALUE, "", 0);
	return rv;
}

/* A container name given to C_CreateObject: a string with its NUL. */
static CK_RV container_check(const struct gmsoft_object *obj)
{
	char name[GMSOFT_CONTAINER_NAME_MAX + 1];

	if (!gmsoft_attr_find(obj, GMSOFT_CKA_CONTAINER_NAME))
		return CKR_OK;
	return gmsoft_container_of(obj, name, sizeof(name)) ?
		       CKR_OK : CKR_ATTRIBUTE_VALUE_INVALID;
}

static int in_container(const struct gmsoft_object *obj)
{
	return gmsoft_attr_bool(obj, CKA_TOKEN, 0) &&
	       gmsoft_attr_find(obj, GMSOFT_CKA_CONTAINER_NAME);
}

/* A token object with a container name is listed by its container. */
static CK_RV add_contained(struct gmsoft_session *s, struct gmsoft_object *obj)
{
	char name[GMSOFT_CONTAINER_NAME_MAX + 1];
	struct gmsoft_object *list[1] = { obj };
	int fd;
	CK_RV rv = gmsoft_lock(gmsoft_g.dir, 1, &fd);

	if (rv != CKR_OK)
		return rv;
	rv = gmsoft_objects_store_contained(gmsoft_g.dir, s->slot, list, 1,
					    gmsoft_container_of(obj, name,
								sizeof(name)));
	gmsoft_unlock(fd);
	return rv;
}

CK_RV gmsoft_op_create_object(CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR tmpl,
			      CK_ULONG n, CK_OBJECT_HANDLE_PTR out)
{
	struct gmsoft_session *s;
	struct gmsoft_object obj = { 0 }, *list[1] = { &obj };
	CK_ULONG cls;
	CK_RV rv = gmsoft_session_get(h, &s);

	if (rv != CKR_OK)
		return rv;
	if (!out || (n && !tmpl))
		return CKR_ARGUMENTS_BAD;
	rv = tmpl_ulong(tmpl, n, CKA_CLASS, &cls);
	if (rv != CKR_OK)
		return rv;
	if (cls == CKO_CERTIFICATE)
		rv = new_cert(tmpl, n, &obj);
	else if (cls == CKO_DATA)
		rv = new_data(&obj);
	else if (cls == CKO_PUBLIC_KEY && gmsoft_g.faults.unwrap)
		rv = gmsoft_unwrap_new_pubkey(tmpl, n, &obj);
	else
		return CKR_ATTRIBUTE_VALUE_INVALID; /* keys: generate them */
	rv = rv ? rv : gmsoft_obj_apply(&obj, tmpl, n);
	rv = rv ? rv : gmsoft_obj_writable(s, gmsoft_attr_bool(&obj, CKA_TOKEN, 0),
					   gmsoft_attr_bool(&obj, CKA_PRIVATE, 0));
	rv = rv ? rv : container_check(&obj);
	if (rv == CKR_OK && in_container(&obj))
		rv = add_contained(s, &obj);
	else if (rv == CKR_OK)
		rv = gmsoft_obj_add(s, list, 1);
	if (rv == CKR_OK)
		*out = obj.handle;
	gmsoft_object_clear(&obj);
	return rv;
}

static CK_RV obj_for_change(struct gmsoft_session *s, CK_OBJECT_HANDLE h,
			    struct gmsoft_object *obj)
{
	CK_RV rv = gmsoft_obj_get(s, h, obj);

	if (rv != CKR_OK)
		return rv;
	rv = gmsoft_obj_writable(s, gmsoft_attr_bool(obj, CKA_TOKEN, 0),
				 gmsoft_attr_bool(obj, CKA_PRIVATE, 0));
	if (rv != CKR_OK)
		gmsoft_object_clear(obj);
	return rv;
}

CK_RV gmsoft_op_destroy_object(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE handle)
{
	struct gmsoft_session *s;
	struct gmsoft_object obj;
	int fd;
	CK_RV rv = gmsoft_session_get(h, &s);

	if (rv != CKR_OK)
		return rv;
	rv = obj_for_change(s, handle, &obj);
	if (rv != CKR_OK)
		return rv;
	if (!gmsoft_attr_bool(&obj, CKA_DESTROYABLE, 1)) {
		rv = CKR_ACTION_PROHIBITED;
	} else if (handle & GMSOFT_SESSION_OBJECT_BIT) {
		sobj_remove(sobj_find(s->slot, handle));
	} else if ((rv = gmsoft_lock(gmsoft_g.dir, 1, &fd)) == CKR_OK) {
		rv = gmsoft_object_remove(gmsoft_g.dir, s->slot, handle);
		if (rv == CKR_OK)
			rv = gmsoft_container_forget(gmsoft_g.dir, s->slot, &obj);
		gmsoft_unlock(fd);
	}
	gmsoft_object_clear(&obj);
	return rv;
}

/* ---- attributes ----------------------------------------------------- */

static int is_secret(const struct gmsoft_object *obj, CK_ATTRIBUTE_TYPE type)
{
	CK_ULONG cls = gmsoft_attr_ulong(obj, CKA_CLASS, CKO_DATA);

	return (cls == CKO_PRIVATE_KEY || cls == CKO_SECRET_KEY) &&
	       type == CKA_VALUE;
}

static CK_RV get_one(const struct gmsoft_object *obj, CK_ATTRIBUTE *a)
{
	const struct gmsoft_attr *have = gmsoft_attr_find(obj, a->type);

	if (is_secret(obj, a->type)) {
		a->ulValueLen = CK_UNAVAILABLE_INFORMATION;
		return CKR_ATTRIBUTE_SENSITIVE;
	}
	if (!have) {
		a->ulValueLen = CK_UNAVAILABLE_INFORMATION;
		return CKR_ATTRIBUTE_TYPE_INVALID;
	}
	if (a->pValue && a->ulValueLen < have->len) {
		a->ulValueLen = CK_UNAVAILABLE_INFORMATION;
		return CKR_BUFFER_TOO_SMALL;
	}
	if (a->pValue && have->len)
		memcpy(a->pValue, have->value, have->len);
	a->ulValueLen = have->len;
	return CKR_OK;
}

CK_RV gmsoft_op_get_attribute_value(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE handle,
				    CK_ATTRIBUTE_PTR tmpl, CK_ULONG n)
{
	struct gmsoft_session *s;
	struct gmsoft_object obj;
	CK_RV rv = gmsoft_session_get(h, &s);

	if (rv != CKR_OK)
		return rv;
	if (n && !tmpl)
		return CKR_ARGUMENTS_BAD;
	rv = gmsoft_obj_get(s, handle, &obj);
	if (rv != CKR_OK)
		return rv;
	/* Every attribute is processed; the first problem is reported. */
	for (CK_ULONG i = 0; i < n; i++) {
		CK_RV one = get_one(&obj, &tmpl[i]);

		/* GMSOFT_LIE_LENGTH: a driver that reports more than it wrote */
		if (one == CKR_OK && tmpl[i].pValue)
			tmpl[i].ulValueLen += gmsoft_g.faults.lie_length;
		if (rv == CKR_OK)
			rv = one;
	}
	gmsoft_object_clear(&obj);
	return rv;
}

static CK_RV settable(const CK_ATTRIBUTE *a)
{
	switch (a->type) {
	case CKA_LABEL: case CKA_ID: case CKA_SUBJECT: case CKA_APPLICATION:
	case CKA_START_DATE: case CKA_END_DATE:
		return (!a->pValue && a->ulValueLen) ? CKR_ATTRIBUTE_VALUE_INVALID :
						       CKR_OK;
	case CKA_CLASS: case CKA_TOKEN: case CKA_PRIVATE: case CKA_KEY_TYPE:
	case CKA_VALUE: case CKA_EC_PARAMS: case CKA_EC_POINT:
	case CKA_CERTIFICATE_TYPE: case CKA_SENSITIVE: case CKA_EXTRACTABLE:
	case CKA_MODIFIABLE: case CKA_LOCAL: case CKA_MODULUS:
	case CKA_MODULUS_BITS: case GMSOFT_CKA_CONTAINER_NAME:
		return CKR_ATTRIBUTE_READ_ONLY;
	default:
		return CKR_ATTRIBUTE_TYPE_INVALID;
	}
}

CK_RV gmsoft_op_set_attribute_value(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE handle,
				    CK_ATTRIBUTE_PTR tmpl, CK_ULONG n)
{
	struct gmsoft_session *s;
	struct gmsoft_object obj;
	CK_RV rv = gmsoft_session_get(h, &s);

	if (rv != CKR_OK)
		return rv;
	if (n && !tmpl)
		return CKR_ARGUMENTS_BAD;
	rv = obj_for_change(s, handle, &obj);
	if (rv != CKR_OK)
		return rv;
	if (!gmsoft_attr_bool(&obj, CKA_MODIFIABLE, 1))
		rv = CKR_ACTION_PROHIBITED;
	for (CK_ULONG i = 0; rv == CKR_OK && i < n; i++)
		rv = settable(&tmpl[i]);
	/* All or nothing: the object is written once, after every check. */
	for (CK_ULONG i = 0; rv == CKR_OK && i < n; i++)
		rv = gmsoft_attr_set(&obj, tmpl[i].type, tmpl[i].pValue,
				     tmpl[i].ulValueLen);
	if (rv == CKR_OK)
		rv = obj_put(s, &obj);
	gmsoft_object_clear(&obj);
	return rv;
}

CK_RV gmsoft_op_get_object_size(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE handle,
				CK_ULONG_PTR size)
{
	struct gmsoft_session *s;
	struct gmsoft_object obj;
	CK_ULONG total = 0;
	CK_RV rv = gmsoft_session_get(h, &s);

	if (rv != CKR_OK)
		return rv;
	if (!size)
		return CKR_ARGUMENTS_BAD;
	rv = gmsoft_obj_get(s, handle, &obj);
	if (rv != CKR_OK)
		return rv;
	for (size_t i = 0; i < obj.nattrs; i++)
		total += obj.attrs[i].len;
	*size = total + (obj.key_pem ? strlen(obj.key_pem) : 0);
	gmsoft_object_clear(&obj);
	return CKR_OK;
}

/* ---- search --------------------------------------------------------- */

static int matches(const struct gmsoft_object *obj, const CK_ATTRIBUTE *tmpl,
		   CK_ULONG n)
{
	for (CK_ULONG i = 0; i < n; i++) {
		const struct gmsoft_attr *a = gmsoft_attr_find(obj, tmpl[i].type);

		if (!a || a->len != tmpl[i].ulValueLen ||
		    (a->len && memcmp(a->value, tmpl[i].pValue, a->len)))
			return 0;
	}
	return 1;
}

static CK_RV found_add(struct gmsoft_session *s, CK_OBJECT_HANDLE h)
{
	CK_OBJECT_HANDLE *p = realloc(s->found, (s->nfound + 1) * sizeof(*p));

	if (!p)
		return CKR_HOST_MEMORY;
	s->found = p;
	s->found[s->nfound++] = h;
	return CKR_OK;
}

static CK_RV find_token_objects(struct gmsoft_session *s,
				const CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
	struct gmsoft_object *objs;
	size_t count;
	int fd;
	CK_RV rv = gmsoft_lock(gmsoft_g.dir, 0, &fd);

	if (rv != CKR_OK)
		return rv;
	rv = gmsoft_objects_load(gmsoft_g.dir, s->slot, &objs, &count);
	gmsoft_unlock(fd);
	for (size_t i = 0; rv == CKR_OK && i < count; i++)
		if (visible(s, &objs[i]) && matches(&objs[i], tmpl, n))
			rv = found_add(s, objs[i].handle);
	gmsoft_objects_free(objs, count);
	return rv;
}

CK_RV gmsoft_op_find_init(CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR tmpl,
			  CK_ULONG n)
{
	struct gmsoft_session *s;
	CK_RV rv = gmsoft_session_get(h, &s);

	if (rv != CKR_OK)
		return rv;
	if (n && !tmpl)
		return CKR_ARGUMENTS_BAD;
	if (s->finding)
		return CKR_OPERATION_ACTIVE;
	rv = find_token_objects(s, tmpl, n);
	for (size_t i = 0; rv == CKR_OK && i < gmsoft_g.nsobjs; i++) {
		const struct gmsoft_sobj *so = &gmsoft_g.sobjs[i];

		if (so->slot == s->slot && visible(s, &so->obj) &&
		    matches(&so->obj, tmpl, n))
			rv = found_add(s, so->obj.handle);
	}
	if (rv != CKR_OK) {
		free(s->found);
		s->found = NULL;
		s->nfound = 0;
		return rv;
	}
	s->finding = 1;
	s->pos = 0;
	return CKR_OK;
}

CK_RV gmsoft_op_find(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE_PTR out,
		     CK_ULONG max, CK_ULONG_PTR count)
{
	struct gmsoft_session *s;
	CK_ULONG n = 0;
	CK_RV rv = gmsoft_session_get(h, &s);

	if (rv != CKR_OK)
		return rv;
	if (!count || (max && !out))
		return CKR_ARGUMENTS_BAD;
	if (!s->finding)
		return CKR_OPERATION_NOT_INITIALIZED;
	/* GMSOFT_FIND_MAX: fewer handles a call than asked for, while more
	 * are left, as the standard allows */
	if (gmsoft_g.faults.find_max && max > gmsoft_g.faults.find_max)
		max = gmsoft_g.faults.find_max;
	while (n < max && s->pos < s->nfound)
		out[n++] = s->found[s->pos++];
	*count = n;
	return CKR_OK;
}

CK_RV gmsoft_op_find_final(CK_SESSION_HANDLE h)
{
	struct gmsoft_session *s;
	CK_RV rv = gmsoft_session_get(h, &s);

	if (rv != CKR_OK)
		return rv;
	if (!s->finding)
		return CKR_OPERATION_NOT_INITIALIZED;
	free(s->found);
	s->found = NULL;
	s->nfound = s->pos = 0;
	s->finding = 0;
	return CKR_OK;
}
