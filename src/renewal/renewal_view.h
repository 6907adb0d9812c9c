/* renewal_view.h - the token as one renewal sees it (view.c). */
#ifndef GMRENEW_RENEWAL_VIEW_H
#define GMRENEW_RENEWAL_VIEW_H

#include "renewal_internal.h"

typedef struct gm_view {
	gm_token_cert *certs;
	size_t n_certs;
	gm_cert_facts *facts;	/* per certificate, valid where parsed[i] */
	int *parsed;
	gm_token_key *keys;
	size_t n_keys;
} gm_view;

int gm_view_load(gm_session *s, gm_view *v, gm_error *err);
void gm_view_release(gm_view *v);
/* What this process itself put on the token, added without reading the
 * token again (copies are made; the caller keeps its own). */
void gm_view_add_key(gm_view *v, const gm_token_key *k);
int gm_view_add_cert(gm_view *v, CK_OBJECT_HANDLE h, const unsigned char *id,
		     size_t id_len, const char *label, const unsigned char *der,
		     size_t der_len, gm_error *err);
/* Index of the certificate with this fingerprint, or -1. */
int gm_view_find_cert(const gm_view *v, const char *sha256);
/* Index of a key pair with public key pub (with a visible private key when
 * need_priv), or -1. */
int gm_view_find_key(const gm_view *v, EVP_PKEY *pub, int need_priv);

#endif
