/*
 * envelope.c - the encryption pair of a double certificate through the
 * session's backend: the enveloped key imported into the container of the
 * signing pair, the encryption certificate stored next to it, and both
 * read back. An API that cannot (PKCS#11 with a profile that names no
 * unwrap mechanism) refuses them saying so.
 */
#include <string.h>

#include "token_internal.h"

static int cannot(const gm_session *s, gm_error *err)
{
	if (s->be->import_envelope)	/* PKCS#11: the profile decides */
		return gm_fail(err, GM_EXIT_ENV,
			       N_("use the token's SKF interface ('--api skf', "
				  "or '[token] api = skf')"),
			       "token profile '%s' names no unwrap mechanism "
			       "(envelope_unwrap_sm2, envelope_unwrap_sm4): "
			       "this driver's PKCS#11 interface cannot import "
			       "the encryption key pair of a double "
			       "certificate",
			       s->profile ? s->profile->name : "");
	return gm_fail(err, GM_EXIT_ENV,
		       N_("use the token's SKF interface ('--api skf', or "
			  "'[token] api = skf')"),
		       "the token's %s interface cannot import the encryption "
		       "key pair of a double certificate", s->be->name);
}

static int args_ok(const gm_session *s, const gm_snapshot_key *key,
		   const void *p, gm_error *err)
{
	if (!s || !key || !p || key->ref.kind != GM_REF_KEYPAIR ||
	    key->role != GM_ROLE_SIGNING)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "internal error: an encryption pair operation "
			       "was called without a signing pair");
	return 0;
}

int gm_session_can_import_envelope(const gm_session *s)
{
	return s && s->be->import_envelope && s->be->store_enc_cert &&
	       s->be->read_encryption && s->be->enc_pair &&
	       (!s->be->can_import || s->be->can_import(s));
}

int gm_session_removes_containers(const gm_session *s)
{
	return s && s->be->removes_container;
}

int gm_token_enc_pair(gm_session *s, const gm_snapshot_key *key,
		      EVP_PKEY *pub, gm_snapshot_key *out, gm_error *err)
{
	if (args_ok(s, key, out, err))
		return -1;
	memset(out, 0, sizeof(*out));
	if (!gm_session_can_import_envelope(s))
		return cannot(s, err);
	return s->be->enc_pair(s, key, pub, out, err);
}

int gm_token_import_envelope(gm_session *s, const gm_snapshot_key *key,
			     const gm_enveloped_key *env, EVP_PKEY **token_pub,
			     gm_error *err)
{
	if (args_ok(s, key, env, err) || !token_pub)
		return -1;
	*token_pub = NULL;
	if (!gm_session_can_import_envelope(s))
		return cannot(s, err);
	return s->be->import_envelope(s, key, env, token_pub, err);
}

int gm_token_store_enc_cert(gm_session *s, const gm_snapshot_key *key,
			    const unsigned char *der, size_t der_len,
			    gm_token_ref *out, gm_error *err)
{
	if (args_ok(s, key, der, err) || !der_len || !out)
		return -1;
	if (!gm_session_can_import_envelope(s))
		return cannot(s, err);
	return s->be->store_enc_cert(s, key, der, der_len, out, err);
}

int gm_token_read_encryption(gm_session *s, const gm_snapshot_key *key,
			     unsigned char **der, size_t *der_len,
			     EVP_PKEY **pub, gm_error *err)
{
	if (args_ok(s, key, der, err) || !der_len || !pub)
		return -1;
	*der = NULL;
	*der_len = 0;
	*pub = NULL;
	if (!gm_session_can_import_envelope(s))
		return cannot(s, err);
	return s->be->read_encryption(s, key, der, der_len, pub, err);
}
