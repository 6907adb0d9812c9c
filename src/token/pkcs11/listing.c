/*
 * listing.c - the snapshot through PKCS#11 with as few calls as the
 * standard allows (a USB token answers each in milliseconds): one search
 * for every object, then one C_GetAttributeValue per object with buffers
 * guessed to fit, falling back to size-then-value only for an attribute
 * that did not fit or could not be read. Key objects are joined into pairs
 * by CKA_ID here; certificates are paired with key pairs by public key in
 * snapshot.c. On a token with container objects (FEITIAN's: one per key
 * pair), a second search names them when that costs fewer calls than
 * reading them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "p11.h"

#define FIND_BATCH 512		/* handles asked for first, */
#define FIND_BATCH_MAX 8192	/* doubled up to this */
#define OBJECTS_MAX 65536	/* more is not a token, it is an attack */

int p11_find(gm_session *s, CK_ATTRIBUTE *tmpl, CK_ULONG n_tmpl,
	     CK_OBJECT_HANDLE **out, size_t *n, const char *what,
	     gm_error *err)
{
	CK_FUNCTION_LIST *f = p11_fl(s);
	CK_OBJECT_HANDLE *h = NULL;
	size_t count = 0;
	CK_ULONG got, batch = FIND_BATCH;
	CK_RV rv, rv_final;

	*out = NULL;
	*n = 0;
	rv = f->C_FindObjectsInit(p11_h(s), tmpl, n_tmpl);
	gm_p11_log("C_FindObjectsInit", rv);
	if (rv != CKR_OK)
		return gm_ckr_fail(err, rv, what);
	for (;;) {
		h = gm_xrealloc(h, (count + batch) * sizeof(*h));
		got = 0;
		rv = f->C_FindObjects(p11_h(s), h + count, batch, &got);
		gm_debug("C_FindObjects: %s, %lu found", gm_ckr_name(rv),
			 (unsigned long)got);
		if (rv != CKR_OK)
			break;
		if (got > batch) {
			rv = CKR_GENERAL_ERROR;	/* wrote past the buffer */
			break;
		}
		count += got;
		/* a full batch: more are likely, ask for more at once */
		if (got == batch && batch < FIND_BATCH_MAX)
			batch *= 2;
		/* Only an answer of none ends the search: the standard lets a
		 * module hand out fewer handles than asked for while more are
		 * left, and an object missed here would be missing from the
		 * snapshot every decision is taken from. */
		if (got == 0 || count >= OBJECTS_MAX)
			break;
	}
	rv_final = f->C_FindObjectsFinal(p11_h(s));
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

/* The attributes read from every object, in one call, with the buffer
 * sizes guessed (real values fit; a larger one is fetched again). On a
 * token with containers, the container and what a key may do (a
 * container's encryption pair neither signs nor verifies) come too. */
enum { A_CLASS, A_CTYPE, A_ID, A_LABEL, A_VALUE, A_PARAMS, A_POINT,
       A_CONTAINER, A_SIGN, A_VERIFY, A_N };

static const CK_ULONG guess[A_N] = {
	sizeof(CK_OBJECT_CLASS), sizeof(CK_CERTIFICATE_TYPE), 64, 128, 2048,
	32, 160, 80, sizeof(CK_BBOOL), sizeof(CK_BBOOL),
};

struct obj {
	CK_OBJECT_HANDLE h;
	CK_OBJECT_CLASS cls;		/* (CK_ULONG)-1: not one of ours */
	CK_ATTRIBUTE a[A_N];
	long partner;			/* the other key object of its pair */
};

static void obj_release(struct obj *o)
{
	if (o->a[A_VALUE].pValue && o->cls != CKO_CERTIFICATE)
		OPENSSL_cleanse(o->a[A_VALUE].pValue, guess[A_VALUE]);
	p11_attrs_free(o->a, A_N);
}

static int have(const CK_ATTRIBUTE *a)
{
	return a->pValue && a->ulValueLen != CK_UNAVAILABLE_INFORMATION;
}

/* Which attributes the object's class needs; a needed one that was not
 * read in the first call is fetched alone (it may not have fitted). */
static int needed(const gm_session *s, CK_OBJECT_CLASS cls, int i)
{
	int in_modulus = p11_pub_in_modulus(s);

	if (i == A_ID || i == A_LABEL)
		return 1;
	if (i == A_CONTAINER)
		return s->profile && s->profile->container_attr &&
		       cls != CKO_CERTIFICATE;
	if (cls == CKO_CERTIFICATE)
		return i == A_VALUE;
	if (cls == CKO_PUBLIC_KEY)
		return i == A_POINT || (i == A_PARAMS && !in_modulus);
	return 0;	/* a private key's point: only when it has no pair */
}

static void set_types(const gm_session *s, CK_ATTRIBUTE *a)
{
	static const CK_ATTRIBUTE_TYPE types[A_N] = {
		CKA_CLASS, CKA_CERTIFICATE_TYPE, CKA_ID, CKA_LABEL, CKA_VALUE,
		CKA_EC_PARAMS, CKA_EC_POINT, 0, CKA_SIGN, CKA_VERIFY,
	};
	int i;

	for (i = 0; i < A_N; i++) {
		a[i].type = types[i];
		a[i].pValue = gm_xcalloc(1, guess[i] + 1);
		a[i].ulValueLen = guess[i];
	}
	/* no class is all ones: still so after the call, the module did not
	 * answer the template at all */
	memset(a[A_CLASS].pValue, 0xff, guess[A_CLASS]);
	if (p11_pub_in_modulus(s))
		a[A_POINT].type = CKA_MODULUS;
	if (s->profile)
		a[A_CONTAINER].type = s->profile->container_attr;
}

/* Marks what the module did not give as unavailable, with no buffer. */
static void drop_unread(CK_ATTRIBUTE *a, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (a[i].ulValueLen != CK_UNAVAILABLE_INFORMATION)
			continue;
		free(a[i].pValue);
		a[i].pValue = NULL;
	}
}

static CK_RV refetch(gm_session *s, struct obj *o)
{
	int i;
	CK_RV rv;

	for (i = A_ID; i < A_N; i++) {
		if (have(&o->a[i]) || !needed(s, o->cls, i) ||
		    (i == A_CONTAINER && !o->a[i].type))
			continue;
		rv = p11_fetch(s, o->h, &o->a[i], 0);
		if (rv != CKR_OK)
			return rv;
	}
	return CKR_OK;
}

static int untouched(const CK_ATTRIBUTE *a)
{
	const unsigned char *p = a->pValue;
	size_t i;

	if (a->ulValueLen != sizeof(CK_OBJECT_CLASS))
		return 0;
	for (i = 0; i < sizeof(CK_OBJECT_CLASS); i++)
		if (p[i] != 0xff)
			return 0;
	return 1;
}

/* The module failed the template as a whole (it is allowed to for some
 * errors): nothing in it counts; the class and certificate type alone,
 * the rest is fetched as needed. */
static CK_RV unanswered(gm_session *s, struct obj *o)
{
	CK_RV rv;
	int i;

	for (i = 0; i < A_N; i++) {
		if (i == A_VALUE && o->a[i].pValue)
			OPENSSL_cleanse(o->a[i].pValue, guess[i]);
		free(o->a[i].pValue);
		o->a[i].pValue = NULL;
		o->a[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
	}
	rv = p11_fetch(s, o->h, &o->a[A_CLASS], guess[A_CLASS]);
	if (rv == CKR_OK)
		rv = p11_fetch(s, o->h, &o->a[A_CTYPE], guess[A_CTYPE]);
	return rv;
}

/* One object: every attribute in one call, then what did not fit. */
static CK_RV read_object(gm_session *s, struct obj *o)
{
	int n = s->profile && s->profile->container_attr ? A_N : A_CONTAINER;
	CK_RV rv;
	int i;

	set_types(s, o->a);
	rv = p11_get_attrs(s, o->h, o->a, (CK_ULONG)n);
	if (rv != CKR_OK && !p11_partial_rv(rv))
		return rv;
	for (i = n; i < A_N; i++)
		o->a[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
	/* the class must come: not given in the template, it is asked alone
	 * (a module that lies about lengths fails there) */
	if (rv != CKR_OK && (untouched(&o->a[A_CLASS]) ||
			     o->a[A_CLASS].ulValueLen ==
			     CK_UNAVAILABLE_INFORMATION)) {
		rv = unanswered(s, o);
		if (rv != CKR_OK)
			return rv;
		rv = CKR_ATTRIBUTE_TYPE_INVALID;	/* fetch what is needed */
	}
	drop_unread(o->a, A_N);
	o->cls = (CK_OBJECT_CLASS)-1;
	if (have(&o->a[A_CLASS]) &&
	    o->a[A_CLASS].ulValueLen == sizeof(CK_OBJECT_CLASS))
		memcpy(&o->cls, o->a[A_CLASS].pValue, sizeof(o->cls));
	if (o->cls == CKO_CERTIFICATE) {
		CK_CERTIFICATE_TYPE t = (CK_CERTIFICATE_TYPE)-1;

		if (have(&o->a[A_CTYPE]) &&
		    o->a[A_CTYPE].ulValueLen == sizeof(t))
			memcpy(&t, o->a[A_CTYPE].pValue, sizeof(t));
		if (t != CKC_X_509)
			o->cls = (CK_OBJECT_CLASS)-1;
	}
	if (o->cls != CKO_CERTIFICATE && o->a[A_VALUE].pValue) {
		/* never keep a key's value (a secret when it is readable) */
		OPENSSL_cleanse(o->a[A_VALUE].pValue, guess[A_VALUE]);
		free(o->a[A_VALUE].pValue);
		o->a[A_VALUE].pValue = NULL;
	}
	if (o->cls != CKO_CERTIFICATE && o->cls != CKO_PUBLIC_KEY &&
	    o->cls != CKO_PRIVATE_KEY)
		return CKR_OK;
	return rv == CKR_OK ? CKR_OK : refetch(s, o);
}

/* The attribute's value as an owned copy (NUL-terminated), or NULL. */
static void *take(CK_ATTRIBUTE *a, size_t *len)
{
	void *v = a->pValue;

	if (!have(a)) {
		if (len)
			*len = 0;
		return NULL;
	}
	((char *)v)[a->ulValueLen] = '\0';
	if (len)
		*len = a->ulValueLen;
	a->pValue = NULL;
	return v;
}

static char *take_str(CK_ATTRIBUTE *a)
{
	char *v = take(a, NULL);

	return v ? v : gm_xstrdup("");
}

static void add_cert(gm_token_snapshot *snap, struct obj *o)
{
	gm_snapshot_cert *c;

	snap->certs = gm_xrealloc(snap->certs,
				  (snap->n_certs + 1) * sizeof(*snap->certs));
	c = &snap->certs[snap->n_certs++];
	memset(c, 0, sizeof(*c));
	c->ref = p11_cert_ref(o->h);
	c->id = take(&o->a[A_ID], &c->id_len);
	c->label = take_str(&o->a[A_LABEL]);
	c->container = take_str(&o->a[A_CONTAINER]);
	c->der = take(&o->a[A_VALUE], &c->der_len);
	c->key = -1;
	if (!c->der)
		gm_debug("certificate object %lu: value unreadable",
			 (unsigned long)o->h);
}

static int same_bytes(const CK_ATTRIBUTE *a, const CK_ATTRIBUTE *b)
{
	return have(a) && have(b) && a->ulValueLen == b->ulValueLen &&
	       !memcmp(a->pValue, b->pValue, a->ulValueLen);
}

/* The public key object a private key belongs to: the same CKA_ID and,
 * when the private key shows its point too, the same point; -1 if none. */
static long pub_of(const struct obj *objs, size_t n, const struct obj *priv)
{
	size_t i;

	if (!have(&priv->a[A_ID]) || priv->a[A_ID].ulValueLen == 0)
		return -1;
	for (i = 0; i < n; i++) {
		const struct obj *o = &objs[i];

		if (o->cls != CKO_PUBLIC_KEY || o->partner >= 0 ||
		    !same_bytes(&o->a[A_ID], &priv->a[A_ID]))
			continue;
		if (have(&priv->a[A_POINT]) &&
		    !same_bytes(&o->a[A_POINT], &priv->a[A_POINT]))
			continue;
		return (long)i;
	}
	return -1;
}

/* CK_FALSE read for a flag of the object. */
static int is_false(const CK_ATTRIBUTE *a)
{
	return have(a) && a->ulValueLen == sizeof(CK_BBOOL) &&
	       *(const CK_BBOOL *)a->pValue == CK_FALSE;
}

/* A container's encryption pair: its public key does not verify, or,
 * alone, its private key does not sign. */
static int pair_role(const struct obj *priv, const struct obj *pub)
{
	if (pub && have(&pub->a[A_VERIFY]))
		return is_false(&pub->a[A_VERIFY]) ? GM_ROLE_ENCRYPTION :
						     GM_ROLE_SIGNING;
	return priv && is_false(&priv->a[A_SIGN]) ? GM_ROLE_ENCRYPTION :
						    GM_ROLE_SIGNING;
}

/* The pair's public key from the object that shows the point. A point that
 * cannot be used leaves the pair without one (listed, never matched). */
static void pair_pubkey(gm_session *s, gm_snapshot_key *k, struct obj *pt)
{
	gm_error kerr;

	if (!pt || !have(&pt->a[A_POINT])) {
		gm_debug("key '%s': no readable public point", k->label);
		return;
	}
	k->pubkey = p11_point_to_key(s, &pt->a[A_PARAMS], &pt->a[A_POINT],
				     &kerr);
	if (!k->pubkey)
		gm_debug("key '%s': public key unreadable: %s", k->label,
			 kerr.msg);
}

static void add_pair(gm_session *s, gm_token_snapshot *snap,
		     struct obj *priv, struct obj *pub)
{
	struct obj *first = pub ? pub : priv;
	gm_snapshot_key *k;

	snap->keys = gm_xrealloc(snap->keys,
				 (snap->n_keys + 1) * sizeof(*snap->keys));
	k = &snap->keys[snap->n_keys++];
	memset(k, 0, sizeof(*k));
	k->ref = p11_pair_ref(priv ? priv->h : CK_INVALID_HANDLE,
			      pub ? pub->h : CK_INVALID_HANDLE);
	k->parts = (pub ? GM_KEYPAIR_PUBLIC : 0) |
		   (priv ? GM_KEYPAIR_PRIVATE : 0);
	k->role = pair_role(priv, pub);
	k->id = take(&first->a[A_ID], &k->id_len);
	k->label = have(&first->a[A_LABEL]) || !priv ?
		take_str(&first->a[A_LABEL]) : take_str(&priv->a[A_LABEL]);
	k->container = have(&first->a[A_CONTAINER]) || !priv ?
		take_str(&first->a[A_CONTAINER]) :
		take_str(&priv->a[A_CONTAINER]);
	pair_pubkey(s, k, pub && have(&pub->a[A_POINT]) ? pub : priv);
}

/* A private key with no public key object: its own point, fetched when
 * the first call did not give it. */
static CK_RV lone_point(gm_session *s, struct obj *o)
{
	CK_RV rv = CKR_OK;

	if (!have(&o->a[A_POINT]))
		rv = p11_fetch(s, o->h, &o->a[A_POINT], 0);
	if (rv == CKR_OK && !p11_pub_in_modulus(s) && have(&o->a[A_POINT]) &&
	    !have(&o->a[A_PARAMS]))
		rv = p11_fetch(s, o->h, &o->a[A_PARAMS], 0);
	return rv;
}

static int build(gm_session *s, struct obj *objs, size_t n,
		 gm_token_snapshot *snap, gm_error *err)
{
	size_t i;
	long p;
	CK_RV rv;

	for (i = 0; i < n; i++)
		objs[i].partner = -1;
	for (i = 0; i < n; i++)
		if (objs[i].cls == CKO_CERTIFICATE)
			add_cert(snap, &objs[i]);
	for (i = 0; i < n; i++) {
		if (objs[i].cls != CKO_PRIVATE_KEY)
			continue;
		snap->private_visible = 1;
		p = pub_of(objs, n, &objs[i]);
		if (p >= 0) {
			objs[p].partner = (long)i;
			objs[i].partner = p;
		}
	}
	for (i = 0; i < n; i++)
		if (objs[i].cls == CKO_PUBLIC_KEY)
			add_pair(s, snap, objs[i].partner >= 0 ?
				 &objs[objs[i].partner] : NULL, &objs[i]);
	for (i = 0; i < n; i++) {
		if (objs[i].cls != CKO_PRIVATE_KEY || objs[i].partner >= 0)
			continue;
		rv = lone_point(s, &objs[i]);
		if (rv != CKR_OK)
			return gm_ckr_fail(err, rv, "reading a key's public "
					   "point");
		add_pair(s, snap, &objs[i], NULL);
	}
	return 0;
}

static int handle_cmp(const void *a, const void *b)
{
	CK_OBJECT_HANDLE x = *(const CK_OBJECT_HANDLE *)a;
	CK_OBJECT_HANDLE y = *(const CK_OBJECT_HANDLE *)b;

	return x < y ? -1 : x > y;
}

/* A search costs 4 calls (C_FindObjectsInit, the handles, the empty
 * answer that ends it, C_FindObjectsFinal); reading an object costs 1. On
 * FEITIAN's layout at least one object in four is a container (a pair's
 * container, certificate, public and private key), so naming the
 * containers pays when more than 4 x 4 objects were found. */
#define CONTAINER_SEARCH_FROM 16

/* The container objects among the n found, sorted, or none: they are not
 * read (nothing in them is used). A module that refuses the search only
 * costs the calls it took. */
static void containers(gm_session *s, size_t n, CK_OBJECT_HANDLE **out,
		       size_t *n_out)
{
	CK_OBJECT_CLASS cls;
	CK_ATTRIBUTE t = { CKA_CLASS, &cls, sizeof(cls) };
	gm_error ignored;

	*out = NULL;
	*n_out = 0;
	if (!s->profile || !s->profile->container_class ||
	    n <= CONTAINER_SEARCH_FROM)
		return;
	cls = (CK_OBJECT_CLASS)s->profile->container_class;
	if (p11_find(s, &t, 1, out, n_out, "searching the container objects",
		     &ignored) < 0) {
		gm_debug("container search: %s", ignored.msg);
		return;
	}
	qsort(*out, *n_out, sizeof(**out), handle_cmp);
}

static int is_container(const CK_OBJECT_HANDLE *c, size_t n,
			CK_OBJECT_HANDLE h)
{
	return n && bsearch(&h, c, n, sizeof(*c), handle_cmp) != NULL;
}

int p11_snapshot(gm_session *s, gm_token_snapshot *out, gm_error *err)
{
	CK_OBJECT_HANDLE *h = NULL, *cont = NULL;
	struct obj *objs = NULL;
	size_t n = 0, n_cont = 0, i;
	int ret = -1;
	CK_RV rv;

	if (p11_find(s, NULL, 0, &h, &n, "searching the token's objects",
		     err) < 0)
		return -1;
	containers(s, n, &cont, &n_cont);
	objs = gm_xcalloc(n ? n : 1, sizeof(*objs));
	for (i = 0; i < n; i++) {
		objs[i].h = h[i];
		if (is_container(cont, n_cont, h[i])) {
			objs[i].cls = (CK_OBJECT_CLASS)-1;	/* not ours */
			continue;
		}
		rv = read_object(s, &objs[i]);
		if (rv != CKR_OK) {
			gm_ckr_fail(err, rv, "reading a token object");
			goto out;
		}
	}
	out->private_visible = s->logged_in;
	if (build(s, objs, n, out, err) < 0)
		goto out;
	ret = 0;
out:
	for (i = 0; i < n; i++)
		obj_release(&objs[i]);
	free(objs);
	free(cont);
	free(h);
	return ret;
}

/* The key pair of the snapshot a private key read after login belongs to:
 * public only, the same CKA_ID and, when the private key shows its point,
 * the same public key (the rule of pub_of); -1 if none. */
static long pair_of(gm_session *s, const gm_token_snapshot *snap,
		    const struct obj *priv)
{
	const CK_ATTRIBUTE *id = &priv->a[A_ID];
	EVP_PKEY *pt = NULL;
	gm_error ignored;
	size_t i;
	long hit = -1;

	if (!have(id) || id->ulValueLen == 0)
		return -1;
	if (have(&priv->a[A_POINT]))
		pt = p11_point_to_key(s, &priv->a[A_PARAMS], &priv->a[A_POINT],
				      &ignored);
	for (i = 0; i < snap->n_keys && hit < 0; i++) {
		const gm_snapshot_key *k = &snap->keys[i];

		if (k->parts != GM_KEYPAIR_PUBLIC ||
		    k->id_len != id->ulValueLen ||
		    memcmp(k->id, id->pValue, k->id_len))
			continue;
		if (pt && (!k->pubkey || EVP_PKEY_eq(k->pubkey, pt) != 1))
			continue;
		hit = (long)i;
	}
	EVP_PKEY_free(pt);
	return hit;
}

static void join(gm_snapshot_key *k, struct obj *priv)
{
	k->ref = p11_pair_ref(priv->h, (CK_OBJECT_HANDLE)k->ref.b);
	k->parts |= GM_KEYPAIR_PRIVATE;
	if (!k->label[0] && have(&priv->a[A_LABEL])) {
		free(k->label);
		k->label = take_str(&priv->a[A_LABEL]);
	}
	if (!k->container[0] && have(&priv->a[A_CONTAINER])) {
		free(k->container);
		k->container = take_str(&priv->a[A_CONTAINER]);
	}
}

static CK_RV add_private(gm_session *s, gm_token_snapshot *snap,
			 struct obj *o)
{
	long k = pair_of(s, snap, o);
	CK_RV rv;

	if (k >= 0) {
		join(&snap->keys[k], o);
		return CKR_OK;
	}
	rv = lone_point(s, o);
	if (rv == CKR_OK)
		add_pair(s, snap, o, NULL);
	return rv;
}

int p11_private_keys(gm_session *s, gm_token_snapshot *snap, gm_error *err)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t = { CKA_CLASS, &cls, sizeof(cls) };
	CK_OBJECT_HANDLE *h = NULL;
	struct obj o;
	size_t n = 0, i;
	CK_RV rv = CKR_OK;

	if (p11_find(s, &t, 1, &h, &n, "searching the token's private keys",
		     err) < 0)
		return -1;
	for (i = 0; i < n && rv == CKR_OK; i++) {
		memset(&o, 0, sizeof(o));
		o.h = h[i];
		rv = read_object(s, &o);
		if (rv == CKR_OK && o.cls == CKO_PRIVATE_KEY)
			rv = add_private(s, snap, &o);
		obj_release(&o);
	}
	free(h);
	if (rv != CKR_OK)
		return gm_ckr_fail(err, rv, "reading a private key");
	snap->private_visible = 1;
	return 0;
}
