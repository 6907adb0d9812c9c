/*
 * snapshot.c - the one model of what is on the token: the certificates
 * with their parsed facts and the key pairs with their public keys, read
 * once per run by the backend, and the one rule that pairs a certificate
 * with its key (by public key, exact comparison).
 */
#include <stdlib.h>
#include <string.h>

#include "token_internal.h"

void gm_snapshot_key_release(gm_snapshot_key *k)
{
	if (!k)
		return;
	free(k->id);
	free(k->label);
	free(k->container);
	EVP_PKEY_free(k->pubkey);
	memset(k, 0, sizeof(*k));
}

static void cert_release(gm_snapshot_cert *c)
{
	free(c->id);
	free(c->label);
	free(c->container);
	free(c->der);
	if (c->parsed)
		gm_cert_facts_release(&c->facts);
	memset(c, 0, sizeof(*c));
}

void gm_token_snapshot_release(gm_token_snapshot *snap)
{
	size_t i;

	if (!snap)
		return;
	for (i = 0; snap->certs && i < snap->n_certs; i++)
		cert_release(&snap->certs[i]);
	for (i = 0; snap->keys && i < snap->n_keys; i++)
		gm_snapshot_key_release(&snap->keys[i]);
	free(snap->certs);
	free(snap->keys);
	memset(snap, 0, sizeof(*snap));
}

static void parse(gm_snapshot_cert *c)
{
	gm_error err;

	c->problem[0] = '\0';
	c->parsed = 0;
	if (!c->der)
		return;
	if (gm_cert_facts_read(c->der, c->der_len, &c->facts, &err) == 0) {
		c->parsed = 1;
		if (c->facts.role == GM_ROLE_ENCRYPTION)
			c->role = GM_ROLE_ENCRYPTION;
		return;
	}
	snprintf(c->problem, sizeof(c->problem), "%s", err.msg);
	gm_debug("certificate '%s': %s", c->label ? c->label : "", err.msg);
}

/* Index of a key pair with public key pub (with a private key when
 * need_priv), or -1. */
static long find_key(const gm_token_snapshot *snap, const EVP_PKEY *pub,
		     int need_priv)
{
	size_t i;

	if (!snap || !pub)
		return -1;
	for (i = 0; i < snap->n_keys; i++) {
		const gm_snapshot_key *k = &snap->keys[i];

		if (need_priv && !(k->parts & GM_KEYPAIR_PRIVATE))
			continue;
		if (k->pubkey && gm_pubkey_equal(k->pubkey,
						 (EVP_PKEY *)pub) == 1)
			return (long)i;
	}
	return -1;
}

/* A private key with the public key: found. Without one, while private
 * keys can be seen: missing. Without the PIN, a public key object with
 * that public key says only "unknown": a public key alone proves nothing
 * about the private key. */
gm_key_state gm_snapshot_key_of(const gm_token_snapshot *snap,
				const EVP_PKEY *pub, long *key)
{
	long k = find_key(snap, pub, 1);
	gm_key_state st = GM_KEY_FOUND;

	if (k < 0) {
		k = find_key(snap, pub, 0);
		st = k >= 0 && snap && !snap->private_visible ?
			GM_KEY_UNKNOWN : GM_KEY_MISSING;
	}
	if (key)
		*key = k;
	return st;
}

static void pair_one(const gm_token_snapshot *snap, gm_snapshot_cert *c)
{
	c->key = -1;
	c->key_state = GM_KEY_MISSING;
	if (c->parsed)
		c->key_state = gm_snapshot_key_of(snap, c->facts.pubkey,
						  &c->key);
}

/* The two certificates of a double-certificate pair: an encryption and a
 * signing certificate in one container, with the same subject. */
static int partners(const gm_snapshot_cert *e, const gm_snapshot_cert *s)
{
	return e->role == GM_ROLE_ENCRYPTION && s->role == GM_ROLE_SIGNING &&
	       e->parsed && s->parsed && e->container && e->container[0] &&
	       s->container && !strcmp(e->container, s->container) &&
	       e->facts.subject_der_len == s->facts.subject_der_len &&
	       !memcmp(e->facts.subject_der, s->facts.subject_der,
		       s->facts.subject_der_len);
}

static void pair_partners(gm_token_snapshot *snap)
{
	size_t i, j;

	for (i = 0; i < snap->n_certs; i++)
		snap->certs[i].partner = -1;
	for (i = 0; i < snap->n_certs; i++)
		for (j = 0; j < snap->n_certs; j++)
			if (snap->certs[j].partner < 0 &&
			    partners(&snap->certs[i], &snap->certs[j])) {
				snap->certs[i].partner = (long)j;
				snap->certs[j].partner = (long)i;
				break;
			}
}

void gm_token_snapshot_pair(gm_token_snapshot *snap)
{
	size_t i;

	for (i = 0; snap && i < snap->n_certs; i++)
		pair_one(snap, &snap->certs[i]);
	if (snap)
		pair_partners(snap);
}

void gm_snapshot_finish(gm_token_snapshot *snap)
{
	size_t i;

	for (i = 0; i < snap->n_certs; i++)
		parse(&snap->certs[i]);
	gm_token_snapshot_pair(snap);
}

long gm_snapshot_find_cert(const gm_token_snapshot *snap, const char *sha256)
{
	size_t i;

	if (!snap || !sha256 || !sha256[0])
		return -1;
	for (i = 0; i < snap->n_certs; i++)
		if (snap->certs[i].parsed &&
		    !strcmp(snap->certs[i].facts.sha256_hex, sha256))
			return (long)i;
	return -1;
}

static void key_copy(gm_snapshot_key *dst, const gm_snapshot_key *src)
{
	*dst = *src;
	dst->id = src->id_len ?
		(unsigned char *)gm_xmemdup(src->id, src->id_len) : NULL;
	dst->label = gm_xstrdup(src->label ? src->label : "");
	dst->container = gm_xstrdup(src->container ? src->container : "");
	if (dst->pubkey)
		EVP_PKEY_up_ref(dst->pubkey);
}

void gm_snapshot_add_key(gm_token_snapshot *snap, const gm_snapshot_key *k)
{
	if (!snap || !k)
		return;
	snap->keys = gm_xrealloc(snap->keys,
				 (snap->n_keys + 1) * sizeof(*snap->keys));
	key_copy(&snap->keys[snap->n_keys++], k);
	gm_token_snapshot_pair(snap);
}

int gm_snapshot_add_cert(gm_token_snapshot *snap, gm_token_ref ref,
			 const gm_snapshot_key *key, const char *label,
			 const unsigned char *der, size_t der_len,
			 gm_error *err)
{
	gm_snapshot_cert *c;

	if (!snap || !key || !der || !der_len)
		return gm_fail(err, GM_EXIT_FAILED, NULL, "internal error: %s "
			       "called without its arguments",
			       "gm_snapshot_add_cert");
	snap->certs = gm_xrealloc(snap->certs,
				  (snap->n_certs + 1) * sizeof(*snap->certs));
	c = &snap->certs[snap->n_certs++];
	memset(c, 0, sizeof(*c));
	c->ref = ref;
	c->id = key->id_len ?
		(unsigned char *)gm_xmemdup(key->id, key->id_len) : NULL;
	c->id_len = key->id_len;
	c->label = gm_xstrdup(label ? label : "");
	c->container = gm_xstrdup(key->container ? key->container : "");
	c->der = (unsigned char *)gm_xmemdup(der, der_len);
	c->der_len = der_len;
	if (gm_cert_facts_parse(der, der_len, &c->facts, err) == 0) {
		c->parsed = 1;
		c->role = c->facts.role;
	}
	gm_token_snapshot_pair(snap);
	return c->parsed ? 0 : -1;
}
