/*
 * objects.c - certificate and key objects: listing with as few PKCS#11
 * calls as the standard allows (a USB token answers each in milliseconds),
 * key generation, signing, and writing certificates.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "token_internal.h"

#define FIND_BATCH 64
#define ID_GUESS 128		/* a CKA_ID buffer that fits real ones */
#define SIG_RAW_MAX 160	/* r||s of P-521, a 128-byte blob, DER */

static CK_BBOOL ck_true = CK_TRUE;
static CK_BBOOL ck_false = CK_FALSE;

/* An attribute-level failure: the other attributes were still answered. */
static int partial_rv(CK_RV rv)
{
	return rv == CKR_ATTRIBUTE_SENSITIVE ||
	       rv == CKR_ATTRIBUTE_TYPE_INVALID ||
	       rv == CKR_BUFFER_TOO_SMALL;
}

#define ATTRS_MAX 8		/* attributes asked for in one call */

/*
 * One C_GetAttributeValue. A module may not report a value longer than the
 * buffer it was given (the callers put a NUL at that length): with CKR_OK
 * that is a broken or malicious module and the call fails; with an
 * attribute-level error the length is taken as "unavailable".
 */
static CK_RV get_attr(gm_session *s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE *a,
		      CK_ULONG n)
{
	CK_ULONG cap[ATTRS_MAX], i;
	CK_RV rv;

	if (n > ATTRS_MAX)
		return CKR_ARGUMENTS_BAD;
	for (i = 0; i < n; i++)
		cap[i] = a[i].ulValueLen;
	rv = s->m->f->C_GetAttributeValue(s->h, obj, a, n);
	gm_debug("C_GetAttributeValue(object %lu, %lu attributes%s): %s",
		 (unsigned long)obj, (unsigned long)n,
		 a[0].pValue ? "" : ", sizes", gm_ckr_name(rv));
	for (i = 0; i < n; i++) {
		if (!a[i].pValue || a[i].ulValueLen == CK_UNAVAILABLE_INFORMATION ||
		    a[i].ulValueLen <= cap[i])
			continue;
		gm_debug("the module reported %lu bytes for attribute 0x%lx in "
			 "a buffer of %lu", (unsigned long)a[i].ulValueLen,
			 (unsigned long)a[i].type, (unsigned long)cap[i]);
		if (rv == CKR_OK)
			return CKR_GENERAL_ERROR;
		a[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
	}
	return rv;
}

static void attrs_free(CK_ATTRIBUTE *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(a[i].pValue);
		a[i].pValue = NULL;
	}
}

/* One attribute alone: size, then value. Unreadable: pValue NULL,
 * ulValueLen CK_UNAVAILABLE_INFORMATION, and 0 returned; a failure that is
 * not about the attribute returns its CK_RV. */
static CK_RV fetch_one(gm_session *s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE *a)
{
	CK_RV rv;

	a->pValue = NULL;
	rv = get_attr(s, obj, a, 1);
	if (rv == CKR_OK && a->ulValueLen != CK_UNAVAILABLE_INFORMATION) {
		a->pValue = gm_xmalloc(a->ulValueLen + 1);
		rv = get_attr(s, obj, a, 1);
	}
	if (rv == CKR_OK && a->ulValueLen != CK_UNAVAILABLE_INFORMATION)
		return CKR_OK;
	free(a->pValue);
	a->pValue = NULL;
	a->ulValueLen = CK_UNAVAILABLE_INFORMATION;
	return partial_rv(rv) || rv == CKR_OK ? CKR_OK : rv;
}

/*
 * Reads attributes a[0..n) (types set) into new buffers, one extra byte
 * each, for a NUL. One call for all the sizes and one for all the values;
 * when the token refuses some, those stay NULL with ulValueLen
 * CK_UNAVAILABLE_INFORMATION, and the rest are fetched one by one.
 */
static CK_RV read_attrs(gm_session *s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE *a,
			CK_ULONG n)
{
	CK_ULONG i;
	CK_RV rv;
	int partial;

	for (i = 0; i < n; i++) {
		a[i].pValue = NULL;
		a[i].ulValueLen = 0;
	}
	rv = get_attr(s, obj, a, n);
	if (rv != CKR_OK && !partial_rv(rv))
		return rv;
	partial = rv != CKR_OK;
	for (i = 0; i < n; i++)
		if (a[i].ulValueLen != CK_UNAVAILABLE_INFORMATION)
			a[i].pValue = gm_xmalloc(a[i].ulValueLen + 1);
	if (!partial) {
		rv = get_attr(s, obj, a, n);
		if (rv == CKR_OK)
			return CKR_OK;
		if (!partial_rv(rv)) {
			attrs_free(a, n);
			return rv;
		}
		/* The values changed under us, or a module that answers sizes
		 * but not values: each one again, alone. */
		for (i = 0; i < n; i++) {
			free(a[i].pValue);
			rv = fetch_one(s, obj, &a[i]);
			if (rv != CKR_OK) {
				attrs_free(a, n);
				return rv;
			}
		}
		return CKR_OK;
	}
	/* Some attributes are unreadable: the others one at a time, with the
	 * sizes already known. */
	for (i = 0; i < n; i++) {
		if (!a[i].pValue)
			continue;
		rv = get_attr(s, obj, &a[i], 1);
		if (rv == CKR_OK && a[i].ulValueLen != CK_UNAVAILABLE_INFORMATION)
			continue;
		free(a[i].pValue);
		a[i].pValue = NULL;
		if (rv == CKR_BUFFER_TOO_SMALL)
			rv = fetch_one(s, obj, &a[i]);
		else
			a[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
		if (rv != CKR_OK && !partial_rv(rv)) {
			attrs_free(a, n);
			return rv;
		}
	}
	return CKR_OK;
}

/* Every object matching tmpl; FindObjectsFinal always. Caller frees. */
static int find_all(gm_session *s, CK_ATTRIBUTE *tmpl, CK_ULONG n_tmpl,
		    CK_OBJECT_HANDLE **out, size_t *n, const char *what,
		    gm_error *err)
{
	CK_FUNCTION_LIST *f = s->m->f;
	CK_OBJECT_HANDLE *h = NULL;
	size_t count = 0;
	CK_ULONG got;
	CK_RV rv, rv_final;

	*out = NULL;
	*n = 0;
	rv = f->C_FindObjectsInit(s->h, tmpl, n_tmpl);
	gm_p11_log("C_FindObjectsInit", rv);
	if (rv != CKR_OK)
		return gm_ckr_fail(err, rv, what);
	for (;;) {
		h = gm_xrealloc(h, (count + FIND_BATCH) * sizeof(*h));
		got = 0;
		rv = f->C_FindObjects(s->h, h + count, FIND_BATCH, &got);
		gm_debug("C_FindObjects: %s, %lu found", gm_ckr_name(rv),
			 (unsigned long)got);
		if (rv != CKR_OK || got == 0)
			break;
		count += got;
	}
	rv_final = f->C_FindObjectsFinal(s->h);
	gm_p11_log("C_FindObjectsFinal", rv_final);
	if (rv == CKR_OK)
		rv = rv_final;
	if (rv != CKR_OK) {
		free(h);
		return gm_ckr_fail(err, rv, what);
	}
	*out = h;
	*n = count;
	return 0;
}

static int find_class(gm_session *s, CK_OBJECT_CLASS cls,
		      CK_OBJECT_HANDLE **out, size_t *n, const char *what,
		      gm_error *err)
{
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
	};

	return find_all(s, tmpl, 1, out, n, what, err);
}

/* A key object's handle and CKA_ID. */
struct key_id {
	CK_OBJECT_HANDLE h;
	unsigned char *id;
	size_t id_len;
	char *label;		/* only when labels were asked for */
};

static void key_ids_free(struct key_id *k, size_t n)
{
	size_t i;

	for (i = 0; k && i < n; i++) {
		free(k[i].id);
		free(k[i].label);
	}
	free(k);
}

/* CKA_ID in one call with a buffer that fits real IDs; sizes first only
 * when it does not fit. */
static CK_RV read_id(gm_session *s, CK_OBJECT_HANDLE obj, struct key_id *k)
{
	CK_ATTRIBUTE a = { CKA_ID, NULL, ID_GUESS };
	CK_RV rv;

	a.pValue = gm_xmalloc(ID_GUESS);
	rv = get_attr(s, obj, &a, 1);
	if (rv == CKR_OK && a.ulValueLen != CK_UNAVAILABLE_INFORMATION) {
		k->id = a.pValue;
		k->id_len = a.ulValueLen;
		return CKR_OK;
	}
	free(a.pValue);
	if (!partial_rv(rv) && rv != CKR_OK)
		return rv;
	a.type = CKA_ID;
	rv = fetch_one(s, obj, &a);
	if (rv != CKR_OK)
		return rv;
	k->id = a.pValue;	/* NULL when unreadable */
	k->id_len = a.pValue ? a.ulValueLen : 0;
	return CKR_OK;
}

/* Every key object of a class with its CKA_ID (and CKA_LABEL). */
static int key_ids(gm_session *s, CK_OBJECT_CLASS cls, int labels,
		   struct key_id **out, size_t *n, gm_error *err)
{
	CK_OBJECT_HANDLE *h = NULL;
	struct key_id *k;
	size_t count = 0, i;
	CK_RV rv;

	*out = NULL;
	*n = 0;
	if (find_class(s, cls, &h, &count, "searching the token's keys",
		       err) < 0)
		return -1;
	k = gm_xcalloc(count ? count : 1, sizeof(*k));
	for (i = 0; i < count; i++) {
		k[i].h = h[i];
		if (labels) {
			CK_ATTRIBUTE a[] = {
				{ CKA_ID, NULL, 0 }, { CKA_LABEL, NULL, 0 },
			};

			rv = read_attrs(s, h[i], a, 2);
			if (rv == CKR_OK) {
				k[i].id = a[0].pValue;
				k[i].id_len = a[0].pValue ? a[0].ulValueLen : 0;
				if (a[1].pValue)
					((char *)a[1].pValue)[a[1].ulValueLen] = 0;
				k[i].label = a[1].pValue;
			}
		} else {
			rv = read_id(s, h[i], &k[i]);
		}
		if (rv != CKR_OK) {
			free(h);
			key_ids_free(k, count);
			return gm_ckr_fail(err, rv, "reading a key's CKA_ID");
		}
	}
	free(h);
	*out = k;
	*n = count;
	return 0;
}

static int same_id(const unsigned char *a, size_t a_len,
		   const unsigned char *b, size_t b_len)
{
	return a_len > 0 && a_len == b_len && !memcmp(a, b, a_len);
}

static CK_OBJECT_HANDLE pair(const struct key_id *k, size_t n,
			     const unsigned char *id, size_t id_len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (same_id(k[i].id, k[i].id_len, id, id_len))
			return k[i].h;
	return CK_INVALID_HANDLE;
}

static void cert_release(gm_token_cert *c)
{
	free(c->id);
	free(c->label);
	free(c->der);
}

void gm_token_certs_free(gm_token_cert *certs, size_t n)
{
	size_t i;

	for (i = 0; certs && i < n; i++)
		cert_release(&certs[i]);
	free(certs);
}

static int read_cert(gm_session *s, CK_OBJECT_HANDLE h, gm_token_cert *c,
		     gm_error *err)
{
	CK_ATTRIBUTE a[] = {
		{ CKA_ID, NULL, 0 },
		{ CKA_LABEL, NULL, 0 },
		{ CKA_VALUE, NULL, 0 },
	};
	CK_RV rv = read_attrs(s, h, a, 3);

	if (rv != CKR_OK)
		return gm_ckr_fail(err, rv, "reading a certificate object");
	c->handle = h;
	c->id = a[0].pValue;
	c->id_len = a[0].pValue ? a[0].ulValueLen : 0;
	if (a[1].pValue) {
		((char *)a[1].pValue)[a[1].ulValueLen] = '\0';
		c->label = a[1].pValue;
	} else {
		c->label = gm_xstrdup("");
	}
	c->der = a[2].pValue;	/* NULL when unreadable: still listed */
	c->der_len = a[2].pValue ? a[2].ulValueLen : 0;
	if (!c->der)
		gm_debug("certificate object %lu: value unreadable",
			 (unsigned long)h);
	return 0;
}

int gm_token_certs(gm_session *s, gm_token_cert **out, size_t *n,
		   gm_error *err)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE type = CKC_X_509;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_CERTIFICATE_TYPE, &type, sizeof(type) },
	};
	CK_OBJECT_HANDLE *h = NULL;
	struct key_id *pubs = NULL, *privs = NULL;
	size_t count = 0, n_pub = 0, n_priv = 0, i;
	gm_token_cert *certs = NULL;
	int ret = -1;

	*out = NULL;
	*n = 0;
	if (find_all(s, tmpl, 2, &h, &count, "searching the token's "
		     "certificates", err) < 0)
		return -1;
	certs = gm_xcalloc(count ? count : 1, sizeof(*certs));
	for (i = 0; i < count; i++)
		if (read_cert(s, h[i], &certs[i], err) < 0)
			goto out;
	if (count > 0 &&
	    (key_ids(s, CKO_PUBLIC_KEY, 0, &pubs, &n_pub, err) < 0 ||
	     key_ids(s, CKO_PRIVATE_KEY, 0, &privs, &n_priv, err) < 0))
		goto out;
	for (i = 0; i < count; i++) {
		certs[i].pubkey = pair(pubs, n_pub, certs[i].id,
				       certs[i].id_len);
		certs[i].privkey = pair(privs, n_priv, certs[i].id,
					certs[i].id_len);
	}
	*out = certs;		/* the caller owns the list now */
	*n = count;
	certs = NULL;
	ret = 0;
out:
	gm_token_certs_free(certs, count);
	key_ids_free(pubs, n_pub);
	key_ids_free(privs, n_priv);
	free(h);
	return ret;
}

void gm_token_key_release(gm_token_key *key)
{
	if (!key)
		return;
	free(key->id);
	free(key->label);
	EVP_PKEY_free(key->pubkey);
	memset(key, 0, sizeof(*key));
	key->pub = key->priv = CK_INVALID_HANDLE;
}

void gm_token_keys_free(gm_token_key *keys, size_t n)
{
	size_t i;

	for (i = 0; keys && i < n; i++)
		gm_token_key_release(&keys[i]);
	free(keys);
}

static void key_take(gm_token_key *k, struct key_id *src)
{
	if (!k->id && src->id) {
		k->id = src->id;
		k->id_len = src->id_len;
		src->id = NULL;
	}
	if (!k->label && src->label) {
		k->label = src->label;
		src->label = NULL;
	}
}

static int public_of(gm_session *s, CK_OBJECT_HANDLE obj,
		     const unsigned char *id, size_t id_len, EVP_PKEY **out,
		     gm_error *err);

int gm_token_keys(gm_session *s, gm_token_key **out, size_t *n, gm_error *err)
{
	struct key_id *pubs = NULL, *privs = NULL;
	size_t n_pub = 0, n_priv = 0, count = 0, i, j;
	gm_token_key *keys = NULL;
	int ret = -1;

	*out = NULL;
	*n = 0;
	if (key_ids(s, CKO_PUBLIC_KEY, 1, &pubs, &n_pub, err) < 0 ||
	    key_ids(s, CKO_PRIVATE_KEY, 1, &privs, &n_priv, err) < 0)
		goto out;
	keys = gm_xcalloc(n_pub + n_priv + 1, sizeof(*keys));
	for (i = 0; i < n_pub; i++) {
		keys[count].pub = pubs[i].h;
		keys[count].priv = CK_INVALID_HANDLE;
		key_take(&keys[count++], &pubs[i]);
	}
	for (i = 0; i < n_priv; i++) {
		for (j = 0; j < count; j++)
			if (keys[j].priv == CK_INVALID_HANDLE &&
			    same_id(keys[j].id, keys[j].id_len, privs[i].id,
				    privs[i].id_len))
				break;
		if (j == count) {
			keys[count].pub = CK_INVALID_HANDLE;
			count++;
		}
		keys[j].priv = privs[i].h;
		key_take(&keys[j], &privs[i]);
	}
	for (i = 0; i < count; i++) {
		gm_error kerr;

		if (!keys[i].label)
			keys[i].label = gm_xstrdup("");
		if (public_of(s, keys[i].pub != CK_INVALID_HANDLE ?
			      keys[i].pub : keys[i].priv, keys[i].id,
			      keys[i].id_len, &keys[i].pubkey, &kerr) == 0)
			continue;
		if (kerr.code == GM_EXIT_ENV) {
			*err = kerr;
			goto out;
		}
		gm_debug("key '%s': public key unreadable: %s", keys[i].label,
			 kerr.msg);
	}
	*out = keys;		/* the caller owns the list now */
	*n = count;
	keys = NULL;
	ret = 0;
out:
	gm_token_keys_free(keys, count);
	key_ids_free(pubs, n_pub);
	key_ids_free(privs, n_priv);
	return ret;
}

/* Where the session's profile keeps public points (without a profile:
 * PKCS#11's CKA_EC_POINT). */
static int pub_in_modulus(const gm_session *s)
{
	return s->profile && s->profile->public_key == GM_PUBKEY_MODULUS_XY;
}

/* The public point's attributes of obj: CKA_EC_PARAMS and CKA_EC_POINT,
 * or CKA_MODULUS (X||Y) alone; a[1] is the point either way. */
static CK_RV read_point(gm_session *s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE a[2])
{
	CK_RV rv;

	a[0].type = CKA_EC_PARAMS;
	a[1].type = CKA_EC_POINT;
	a[0].pValue = a[1].pValue = NULL;
	a[0].ulValueLen = a[1].ulValueLen = CK_UNAVAILABLE_INFORMATION;
	if (!pub_in_modulus(s))
		return read_attrs(s, obj, a, 2);
	a[1].type = CKA_MODULUS;
	rv = read_attrs(s, obj, &a[1], 1);
	a[0].pValue = NULL;
	a[0].ulValueLen = CK_UNAVAILABLE_INFORMATION;
	return rv;
}

static EVP_PKEY *point_to_key(gm_session *s, const CK_ATTRIBUTE a[2],
			      gm_error *err)
{
	const gm_profile *p = s->profile;

	if (pub_in_modulus(s))
		return gm_pubkey_from_xy(p->ec_params, p->ec_params_len,
					 a[1].pValue, a[1].ulValueLen, err);
	return gm_pubkey_from_ec_point(a[0].pValue,
				       a[0].pValue ? a[0].ulValueLen : 0,
				       a[1].pValue, a[1].ulValueLen, err);
}

/* The public key where the profile says it is; a private key without it
 * borrows it from the public key with the same id. */
static int public_of(gm_session *s, CK_OBJECT_HANDLE obj,
		     const unsigned char *id, size_t id_len, EVP_PKEY **out,
		     gm_error *err)
{
	CK_ATTRIBUTE a[2];
	CK_RV rv;
	int ret = -1;

	*out = NULL;
	rv = read_point(s, obj, a);
	if (rv != CKR_OK)
		return gm_ckr_fail(err, rv, "reading a key's public point");
	if (!a[1].pValue && id_len > 0) {
		CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
		CK_ATTRIBUTE tmpl[] = {
			{ CKA_CLASS, &cls, sizeof(cls) },
			{ CKA_ID, (void *)(uintptr_t)id, id_len },
		};
		CK_OBJECT_HANDLE *h = NULL;
		size_t nh = 0;

		if (find_all(s, tmpl, 2, &h, &nh, "searching the public key",
			     err) < 0)
			goto out;
		if (nh > 0 && h[0] != obj) {
			attrs_free(a, 2);
			rv = read_point(s, h[0], a);
		}
		free(h);
		if (rv != CKR_OK) {
			gm_ckr_fail(err, rv, "reading a key's public point");
			goto out;
		}
	}
	if (!a[1].pValue) {
		gm_fail(err, GM_EXIT_FAILED,
			"check the token profile's public_key setting",
			"the key object has no readable %s",
			pub_in_modulus(s) ? "CKA_MODULUS" : "CKA_EC_POINT");
		goto out;
	}
	*out = point_to_key(s, a, err);
	if (*out)
		ret = 0;
out:
	attrs_free(a, 2);
	return ret;
}

int gm_token_object_pubkey(gm_session *s, CK_OBJECT_HANDLE obj,
			   EVP_PKEY **out, gm_error *err)
{
	CK_ATTRIBUTE a = { CKA_ID, NULL, 0 };
	CK_RV rv = fetch_one(s, obj, &a);
	int ret;

	if (rv != CKR_OK)
		return gm_ckr_fail(err, rv, "reading a key's CKA_ID");
	ret = public_of(s, obj, a.pValue, a.pValue ? a.ulValueLen : 0, out,
			err);
	free(a.pValue);
	return ret;
}

void gm_container_name(const unsigned char *id, size_t id_len, char *buf,
		       size_t size)
{
	unsigned char h[32];
	const unsigned char *g = id;

	if (id_len != 16) {
		SHA256(id, id_len, h);
		g = h;
	}
	snprintf(buf, size, "{%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-"
		 "%02X%02X%02X%02X%02X%02X}", g[0], g[1], g[2], g[3], g[4],
		 g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12], g[13],
		 g[14], g[15]);
}

#define KEYGEN_ATTRS 8

/* The key generation templates: the common part, then what the profile
 * adds (CKA_EC_PARAMS, CKA_MODULUS_BITS, the container name). */
struct keygen_tmpl {
	CK_ATTRIBUTE pub[KEYGEN_ATTRS], priv[KEYGEN_ATTRS];
	CK_ULONG n_pub, n_priv;
	CK_ULONG bits;
	char container[40];
};

static void keygen_tmpl_fill(struct keygen_tmpl *t, const gm_profile *p,
			     const unsigned char *id, size_t id_len,
			     const char *label)
{
	void *id_p = (void *)(uintptr_t)id;
	void *label_p = (void *)(uintptr_t)label;
	CK_ULONG label_len = label ? strlen(label) : 0;
	CK_ULONG n = 0, k = 0;

	t->pub[n++] = (CK_ATTRIBUTE){ CKA_TOKEN, &ck_true, sizeof(ck_true) };
	t->pub[n++] = (CK_ATTRIBUTE){ CKA_VERIFY, &ck_true, sizeof(ck_true) };
	t->pub[n++] = (CK_ATTRIBUTE){ CKA_ID, id_p, id_len };
	t->pub[n++] = (CK_ATTRIBUTE){ CKA_LABEL, label_p, label_len };
	t->priv[k++] = (CK_ATTRIBUTE){ CKA_TOKEN, &ck_true, sizeof(ck_true) };
	t->priv[k++] = (CK_ATTRIBUTE){ CKA_PRIVATE, &ck_true, sizeof(ck_true) };
	t->priv[k++] = (CK_ATTRIBUTE){ CKA_SENSITIVE, &ck_true, sizeof(ck_true) };
	t->priv[k++] = (CK_ATTRIBUTE){ CKA_SIGN, &ck_true, sizeof(ck_true) };
	t->priv[k++] = (CK_ATTRIBUTE){ CKA_ID, id_p, id_len };
	t->priv[k++] = (CK_ATTRIBUTE){ CKA_LABEL, label_p, label_len };
	if (p->keygen_ec_params)
		t->pub[n++] = (CK_ATTRIBUTE){ CKA_EC_PARAMS,
			(void *)(uintptr_t)p->ec_params, p->ec_params_len };
	t->bits = p->keygen_modulus_bits;
	if (t->bits)
		t->pub[n++] = (CK_ATTRIBUTE){ CKA_MODULUS_BITS, &t->bits,
					      sizeof(t->bits) };
	if (p->container_attr) {
		/* a string with its NUL, the NUL counted (FEITIAN) */
		gm_container_name(id, id_len, t->container, sizeof(t->container));
		t->pub[n++] = (CK_ATTRIBUTE){ p->container_attr, t->container,
					      strlen(t->container) + 1 };
		t->priv[k++] = (CK_ATTRIBUTE){ p->container_attr, t->container,
					       strlen(t->container) + 1 };
	}
	t->n_pub = n;
	t->n_priv = k;
}

int gm_token_generate_keypair(gm_session *s, const gm_profile *p,
			      const unsigned char *id, size_t id_len,
			      const char *label, gm_token_key *out,
			      gm_error *err)
{
	CK_MECHANISM mech = { p->keygen_mechanism, NULL, 0 };
	CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
	struct keygen_tmpl t;
	EVP_PKEY *pkey = NULL;
	CK_RV rv;

	memset(out, 0, sizeof(*out));
	out->pub = out->priv = CK_INVALID_HANDLE;
	keygen_tmpl_fill(&t, p, id, id_len, label);
	if (t.container[0])
		gm_debug("new key pair: container '%s'", t.container);
	rv = s->m->f->C_GenerateKeyPair(s->h, &mech, t.pub, t.n_pub, t.priv,
					t.n_priv, &pub, &priv);
	gm_p11_log("C_GenerateKeyPair", rv);
	if (rv != CKR_OK)
		return gm_ckr_fail(err, rv, "generating a key pair on the token");
	if (public_of(s, pub, id, id_len, &pkey, err) < 0) {
		/* a key pair we cannot use must not stay behind */
		gm_error ignored;

		gm_token_destroy(s, priv, &ignored);
		gm_token_destroy(s, pub, &ignored);
		return gm_error_prefix(err, "reading the new public key");
	}
	out->pub = pub;
	out->priv = priv;
	out->id = id_len ? (unsigned char *)gm_xmemdup(id, id_len) : NULL;
	out->id_len = id_len;
	out->label = gm_xstrdup(label ? label : "");
	out->pubkey = pkey;	/* the caller owns it with out */
	return 0;
}

int gm_token_sign_digest(gm_session *s, const gm_profile *p,
			 CK_OBJECT_HANDLE priv,
			 const unsigned char digest[GM_DIGEST_LEN],
			 unsigned char **sig, size_t *sig_len, gm_error *err)
{
	CK_MECHANISM mech = { p->sign_mechanism, NULL, 0 };
	unsigned char *raw;
	CK_ULONG raw_len = SIG_RAW_MAX;
	CK_RV rv;
	int ret;

	*sig = NULL;
	*sig_len = 0;
	if (GM_DIGEST_LEN > p->sign_input_max)
		return gm_fail(err, GM_EXIT_FAILED,
			       "check the profile's sign_input_max",
			       "token profile '%s' signs at most %zu bytes; the "
			       "digest has %d", p->name, p->sign_input_max,
			       GM_DIGEST_LEN);
	rv = s->m->f->C_SignInit(s->h, &mech, priv);
	gm_p11_log("C_SignInit", rv);
	if (rv != CKR_OK)
		return gm_ckr_fail(err, rv, "starting to sign on the token");
	/* A buffer that fits every format: one call, not two. */
	raw = gm_xmalloc(raw_len);
	rv = s->m->f->C_Sign(s->h, (CK_BYTE_PTR)(uintptr_t)digest,
			     GM_DIGEST_LEN, raw, &raw_len);
	gm_p11_log("C_Sign", rv);
	if (rv == CKR_BUFFER_TOO_SMALL && raw_len > SIG_RAW_MAX &&
	    raw_len < 4096) {
		raw = gm_xrealloc(raw, raw_len);
		rv = s->m->f->C_Sign(s->h, (CK_BYTE_PTR)(uintptr_t)digest,
				     GM_DIGEST_LEN, raw, &raw_len);
		gm_p11_log("C_Sign", rv);
	}
	if (rv != CKR_OK) {
		free(raw);
		return gm_ckr_fail(err, rv, "signing on the token");
	}
	ret = gm_sig_to_der(p->signature, raw, raw_len, sig, sig_len, err);
	free(raw);
	return ret;
}

int gm_token_sign_cb(void *signer, const unsigned char digest[GM_DIGEST_LEN],
		     unsigned char **sig, size_t *sig_len, gm_error *err)
{
	gm_token_signer *t = signer;

	return gm_token_sign_digest(t->session, t->profile, t->priv, digest,
				    sig, sig_len, err);
}

/* The DER of a name or integer; caller frees with OPENSSL_free. */
static int cert_fields(const unsigned char *der, size_t der_len,
		       unsigned char **subject, int *subject_len,
		       unsigned char **issuer, int *issuer_len,
		       unsigned char **serial, int *serial_len, gm_error *err)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)der_len);
	int ok;

	*subject = *issuer = *serial = NULL;
	*subject_len = *issuer_len = *serial_len = 0;
	if (!x || p != der + der_len) {
		X509_free(x);
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "the certificate to store is not one DER "
			       "X.509 certificate");
	}
	*subject_len = i2d_X509_NAME(X509_get_subject_name(x), subject);
	*issuer_len = i2d_X509_NAME(X509_get_issuer_name(x), issuer);
	*serial_len = i2d_ASN1_INTEGER(
		(ASN1_INTEGER *)(uintptr_t)X509_get0_serialNumber(x), serial);
	X509_free(x);
	ok = *subject_len > 0 && *issuer_len > 0 && *serial_len > 0;
	if (!ok) {
		OPENSSL_free(*subject);
		OPENSSL_free(*issuer);
		OPENSSL_free(*serial);
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "cannot encode the certificate's names");
	}
	return 0;
}

int gm_token_create_cert(gm_session *s, const unsigned char *id, size_t id_len,
			 const char *label, const unsigned char *der,
			 size_t der_len, CK_OBJECT_HANDLE *out, gm_error *err)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE type = CKC_X_509;
	unsigned char *subject, *issuer, *serial;
	int subject_len = 0, issuer_len = 0, serial_len = 0;
	char container[40];
	CK_RV rv;

	*out = CK_INVALID_HANDLE;
	if (cert_fields(der, der_len, &subject, &subject_len, &issuer,
			&issuer_len, &serial, &serial_len, err) < 0)
		return -1;
	{
		CK_ATTRIBUTE tmpl[] = {
			{ CKA_CLASS, &cls, sizeof(cls) },
			{ CKA_CERTIFICATE_TYPE, &type, sizeof(type) },
			{ CKA_TOKEN, &ck_true, sizeof(ck_true) },
			{ CKA_PRIVATE, &ck_false, sizeof(ck_false) },
			{ CKA_ID, (void *)(uintptr_t)id, id_len },
			{ CKA_LABEL, (void *)(uintptr_t)label,
			  label ? strlen(label) : 0 },
			{ CKA_VALUE, (void *)(uintptr_t)der, der_len },
			{ CKA_SUBJECT, subject, (CK_ULONG)subject_len },
			{ CKA_ISSUER, issuer, (CK_ULONG)issuer_len },
			{ CKA_SERIAL_NUMBER, serial, (CK_ULONG)serial_len },
			{ 0, NULL, 0 },
		};
		CK_ULONG n = sizeof(tmpl) / sizeof(tmpl[0]) - 1;

		/* The container of the key pair with this CKA_ID: its name
		 * follows from the id (gm_container_name), no search needed. */
		if (s->profile && s->profile->container_attr && id_len > 0) {
			gm_container_name(id, id_len, container,
					  sizeof(container));
			tmpl[n++] = (CK_ATTRIBUTE){ s->profile->container_attr,
						    container,
						    strlen(container) + 1 };
		}
		rv = s->m->f->C_CreateObject(s->h, tmpl, n, out);
		gm_p11_log("C_CreateObject", rv);
	}
	OPENSSL_free(subject);
	OPENSSL_free(issuer);
	OPENSSL_free(serial);
	if (rv != CKR_OK)
		return gm_ckr_fail(err, rv, "storing the certificate on the token");
	return 0;
}

int gm_token_read_value(gm_session *s, CK_OBJECT_HANDLE obj,
			unsigned char **der, size_t *der_len, gm_error *err)
{
	CK_ATTRIBUTE a = { CKA_VALUE, NULL, 0 };
	CK_RV rv;

	*der = NULL;
	*der_len = 0;
	rv = get_attr(s, obj, &a, 1);
	if (rv == CKR_OK && a.ulValueLen != CK_UNAVAILABLE_INFORMATION) {
		a.pValue = gm_xmalloc(a.ulValueLen + 1);
		rv = get_attr(s, obj, &a, 1);
	}
	if (rv != CKR_OK) {
		free(a.pValue);
		return gm_ckr_fail(err, rv, "reading an object's value");
	}
	*der = a.pValue;
	*der_len = a.ulValueLen;
	return 0;
}

int gm_token_destroy(gm_session *s, CK_OBJECT_HANDLE obj, gm_error *err)
{
	CK_RV rv = s->m->f->C_DestroyObject(s->h, obj);

	gm_p11_log("C_DestroyObject", rv);
	if (rv != CKR_OK)
		return gm_ckr_fail(err, rv, "deleting an object from the token");
	return 0;
}

static int set_attr(gm_session *s, CK_OBJECT_HANDLE obj,
		    CK_ATTRIBUTE_TYPE type, const void *value, size_t len,
		    const char *what, gm_error *err)
{
	CK_ATTRIBUTE a = { type, (void *)(uintptr_t)value, len };
	CK_RV rv = s->m->f->C_SetAttributeValue(s->h, obj, &a, 1);

	gm_p11_log("C_SetAttributeValue", rv);
	if (rv != CKR_OK)
		return gm_ckr_fail(err, rv, what);
	return 0;
}

int gm_token_set_label(gm_session *s, CK_OBJECT_HANDLE obj, const char *label,
		       gm_error *err)
{
	return set_attr(s, obj, CKA_LABEL, label, label ? strlen(label) : 0,
			"changing an object's label", err);
}

int gm_token_set_id(gm_session *s, CK_OBJECT_HANDLE obj,
		    const unsigned char *id, size_t id_len, gm_error *err)
{
	return set_attr(s, obj, CKA_ID, id, id_len, "changing an object's id",
			err);
}
