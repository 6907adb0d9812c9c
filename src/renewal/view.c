/*
 * view.c - what is on the token, as far as one renewal is concerned: the
 * certificate being renewed (by fingerprint), the new one, and the key pairs
 * that go with them (by public key, whatever their labels).
 */
#include <stdlib.h>
#include <string.h>

#include "renewal_view.h"

void gm_view_release(gm_view *v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < v->n_certs && v->parsed; i++)
		if (v->parsed[i])
			gm_cert_facts_release(&v->facts[i]);
	free(v->facts);
	free(v->parsed);
	gm_token_certs_free(v->certs, v->n_certs);
	gm_token_keys_free(v->keys, v->n_keys);
	memset(v, 0, sizeof(*v));
}

static void parse_all(gm_view *v)
{
	size_t i;
	gm_error err;

	v->facts = gm_xcalloc(v->n_certs, sizeof(*v->facts));
	v->parsed = gm_xcalloc(v->n_certs, sizeof(*v->parsed));
	for (i = 0; i < v->n_certs; i++) {
		if (!v->certs[i].der)
			continue;
		if (gm_cert_facts_parse(v->certs[i].der, v->certs[i].der_len,
					&v->facts[i], &err) == 0)
			v->parsed[i] = 1;
		else
			gm_debug("certificate object %zu: %s", i + 1, err.msg);
	}
}

int gm_view_find_cert(const gm_view *v, const char *sha256)
{
	size_t i;

	if (!sha256 || !sha256[0])
		return -1;
	for (i = 0; i < v->n_certs; i++)
		if (v->parsed[i] && !strcmp(v->facts[i].sha256_hex, sha256))
			return (int)i;
	return -1;
}

int gm_view_find_key(const gm_view *v, EVP_PKEY *pub, int need_priv)
{
	size_t i;

	if (!pub)
		return -1;
	for (i = 0; i < v->n_keys; i++) {
		if (need_priv && v->keys[i].priv == CK_INVALID_HANDLE)
			continue;
		if (v->keys[i].pubkey &&
		    gm_pubkey_equal(v->keys[i].pubkey, pub) == 1)
			return (int)i;
	}
	return -1;
}

int gm_view_load(gm_session *s, gm_view *v, gm_error *err)
{
	memset(v, 0, sizeof(*v));
	if (gm_token_certs(s, &v->certs, &v->n_certs, err))
		return -1;
	parse_all(v);
	if (gm_token_keys(s, &v->keys, &v->n_keys, err)) {
		gm_view_release(v);
		return -1;
	}
	return 0;
}

void gm_view_add_key(gm_view *v, const gm_token_key *k)
{
	gm_token_key *c;

	v->keys = gm_xrealloc(v->keys, (v->n_keys + 1) * sizeof(*v->keys));
	c = &v->keys[v->n_keys++];
	*c = *k;
	c->id = (unsigned char *)gm_xmemdup(k->id, k->id_len);
	c->label = gm_xstrdup(k->label);
	if (c->pubkey)
		EVP_PKEY_up_ref(c->pubkey);
}

int gm_view_add_cert(gm_view *v, CK_OBJECT_HANDLE h, const unsigned char *id,
		     size_t id_len, const char *label, const unsigned char *der,
		     size_t der_len, gm_error *err)
{
	size_t n = v->n_certs;
	gm_token_cert *c;

	v->certs = gm_xrealloc(v->certs, (n + 1) * sizeof(*v->certs));
	v->facts = gm_xrealloc(v->facts, (n + 1) * sizeof(*v->facts));
	v->parsed = gm_xrealloc(v->parsed, (n + 1) * sizeof(*v->parsed));
	c = &v->certs[n];
	memset(c, 0, sizeof(*c));
	c->handle = h;
	c->id = (unsigned char *)gm_xmemdup(id, id_len);
	c->id_len = id_len;
	c->label = gm_xstrdup(label);
	c->der = (unsigned char *)gm_xmemdup(der, der_len);
	c->der_len = der_len;
	c->pubkey = c->privkey = CK_INVALID_HANDLE;
	v->parsed[n] = gm_cert_facts_parse(der, der_len, &v->facts[n], err) == 0;
	v->n_certs = n + 1;
	return v->parsed[n] ? 0 : -1;
}
