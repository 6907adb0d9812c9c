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
