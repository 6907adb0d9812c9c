/*
 * token.c - the token layer's public functions: each checks its arguments
 * and calls the backend the library was opened with (backend.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "token_internal.h"

#define PIN_MAX 256		/* longer is not a PIN */

static int bad_call(gm_error *err, const char *what)
{
	return gm_fail(err, GM_EXIT_FAILED, NULL,
		       "internal error: %s called without its arguments", what);
}

/* ---- the library ---- */

int gm_module_open(const char *path, gm_module **out, gm_error *err)
{
	return gm_module_open_backend(&gm_pkcs11_backend, path, out, err);
}

int gm_module_open_backend(const gm_token_backend *be, const char *path,
			   gm_module **out, gm_error *err)
{
	gm_module *m;

	if (!be || !out)
		return bad_call(err, "gm_module_open");
	*out = NULL;
	m = gm_xcalloc(1, sizeof(*m));
	m->be = be;
	m->path = gm_xstrdup(path ? path : "");
	if (m->be->open(m, err) < 0) {
		free(m->path);
		free(m);
		return -1;
	}
	*out = m;		/* the caller owns m now */
	return 0;
}

void gm_module_close(gm_module *m)
{
	if (!m)
		return;
	m->be->close(m);
	free(m->path);
	free(m);
}

const char *gm_module_path(const gm_module *m)
{
	return m ? m->path : NULL;
}

const char *gm_module_api(const gm_module *m)
{
	return m ? m->be->name : NULL;
}

int gm_module_get_info(gm_module *m, gm_module_info *out, gm_error *err)
{
	if (!m || !out)
		return bad_call(err, "gm_module_get_info");
	return m->be->library_info(m, out, err);
}

/* ---- tokens ---- */

int gm_module_tokens(gm_module *m, gm_token_info **out, size_t *n,
		     gm_error *err)
{
	if (!m || !out || !n)
		return bad_call(err, "gm_module_tokens");
	*out = NULL;
	*n = 0;
	return m->be->tokens(m, out, n, err);
}

void gm_token_info_release(gm_token_info *info)
{
	if (!info)
		return;
	free(info->uri);
	info->uri = NULL;
}

void gm_token_infos_free(gm_token_info *infos, size_t n)
{
	size_t i;

	if (!infos)
		return;
	for (i = 0; i < n; i++)
		gm_token_info_release(&infos[i]);
	free(infos);
}

int gm_token_select(gm_module *m, const char *uri, gm_token_info *out,
		    gm_error *err)
{
	if (!m || !out)
		return bad_call(err, "gm_token_select");
	memset(out, 0, sizeof(*out));
	return m->be->select(m, uri, out, err);
}

int gm_profile_detect(gm_module *m, const gm_token_info *t,
		      const gm_config *cfg, gm_profile *out, gm_error *err)
{
	if (!m || !t || !out)
		return bad_call(err, "gm_profile_detect");
	if (cfg && cfg->profile)
		return gm_profile_get(cfg->profile, cfg, out, err);
	return m->be->detect_profile(m, t, cfg, out, err);
}

/* ---- sessions and PIN ---- */

int gm_session_open(gm_module *m, const gm_token_info *t, int read_write,
		    gm_session **out, gm_error *err)
{
	gm_session *s;

	if (!m || !t || !out)
		return bad_call(err, "gm_session_open");
	*out = NULL;
	s = gm_xcalloc(1, sizeof(*s));
	s->be = m->be;
	s->m = m;
	if (s->be->session_open(s, t, read_write, err) < 0) {
		free(s);
		return -1;
	}
	*out = s;
	return 0;
}

void gm_session_close(gm_session *s)
{
	if (!s)
		return;
	s->be->session_close(s);
	free(s);
}

int gm_session_pin_state(gm_session *s, gm_pin_state *out, gm_error *err)
{
	if (!s || !out)
		return bad_call(err, "gm_session_pin_state");
	memset(out, 0, sizeof(*out));
	out->tries_left = -1;
	return s->be->pin_state(s, out, err);
}

int gm_session_login(gm_session *s, const char *pin, size_t pin_len,
		     gm_error *err)
{
	if (!s)
		return bad_call(err, "gm_session_login");
	if (pin && pin_len > PIN_MAX)
		return gm_fail(err, GM_EXIT_PIN, "type the Ekey's user PIN again",
			       "the PIN's length is not accepted: more than %d "
			       "characters", PIN_MAX);
	return s->be->login(s, pin, pin_len, err);
}

int gm_session_logged_in(const gm_session *s)
{
	return s && s->logged_in;
}

void gm_session_set_profile(gm_session *s, const gm_profile *p)
{
	if (s)
		s->profile = p;
}

void gm_session_set_pin_tries(gm_session *s, unsigned tries)
{
	if (s)
		s->pin_max_tries = tries;
}

int gm_session_can_relabel(const gm_session *s)
{
	return s && s->be->relabel != NULL;
}

/* ---- the snapshot ---- */

int gm_token_ref_is_none(gm_token_ref r)
{
	return r.kind == GM_REF_NONE;
}

int gm_token_snapshot_read(gm_session *s, gm_token_snapshot *out,
			   gm_error *err)
{
	if (!s || !out)
		return bad_call(err, "gm_token_snapshot_read");
	memset(out, 0, sizeof(*out));
	if (s->be->snapshot(s, out, err) < 0) {
		gm_token_snapshot_release(out);
		return -1;
	}
	out->private_visible |= s->logged_in;
	gm_snapshot_finish(out);
	return 0;
}

int gm_token_snapshot_complete(gm_session *s, gm_token_snapshot *snap,
			       gm_error *err)
{
	if (!s || !snap)
		return bad_call(err, "gm_token_snapshot_complete");
	if (snap->private_visible || !s->logged_in || !s->be->private_keys)
		return 0;
	if (s->be->private_keys(s, snap, err) < 0)
		return -1;
	gm_token_snapshot_pair(snap);
	return 0;
}

/* ---- keys, signing and writing ---- */

static int need_session(const gm_session *s, gm_error *err, const char *what)
{
	if (!s)
		return bad_call(err, what);
	return 0;
}

static int need_ref(gm_token_ref r, unsigned kind, gm_error *err,
		    const char *what)
{
	if (r.kind != kind)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "internal error: %s was given a reference to "
			       "the wrong kind of object", what);
	return 0;
}

int gm_token_new_keypair(gm_session *s, const unsigned char *id,
			 size_t id_len, const char *label,
			 gm_snapshot_key *out, gm_error *err)
{
	if (need_session(s, err, "gm_token_new_keypair") < 0 || !out ||
	    (!id && id_len))
		return bad_call(err, "gm_token_new_keypair");
	memset(out, 0, sizeof(*out));
	return s->be->generate_keypair(s, id, id_len, label, out, err);
}

int gm_token_sign(gm_session *s, gm_token_ref key,
		  const unsigned char digest[GM_DIGEST_LEN],
		  unsigned char **sig, size_t *sig_len, gm_error *err)
{
	if (need_session(s, err, "gm_token_sign") < 0 || !digest || !sig ||
	    !sig_len)
		return bad_call(err, "gm_token_sign");
	*sig = NULL;
	*sig_len = 0;
	if (need_ref(key, GM_REF_KEYPAIR, err, "gm_token_sign") < 0)
		return -1;
	return s->be->sign_digest(s, key, digest, sig, sig_len, err);
}

int gm_key_sign_cb(void *signer, const unsigned char digest[GM_DIGEST_LEN],
		   unsigned char **sig, size_t *sig_len, gm_error *err)
{
	gm_key_signer *t = signer;

	if (!t)
		return bad_call(err, "gm_key_sign_cb");
	return gm_token_sign(t->session, t->key, digest, sig, sig_len, err);
}

int gm_token_store_cert(gm_session *s, const gm_snapshot_key *key,
			const char *label, const unsigned char *der,
			size_t der_len, gm_token_ref *out, gm_error *err)
{
	if (need_session(s, err, "gm_token_store_cert") < 0 || !key || !der ||
	    !der_len || !out)
		return bad_call(err, "gm_token_store_cert");
	memset(out, 0, sizeof(*out));
	return s->be->store_cert(s, key, label, der, der_len, out, err);
}

int gm_token_read_cert(gm_session *s, gm_token_ref cert, unsigned char **der,
		       size_t *der_len, gm_error *err)
{
	if (need_session(s, err, "gm_token_read_cert") < 0 || !der || !der_len)
		return bad_call(err, "gm_token_read_cert");
	*der = NULL;
	*der_len = 0;
	if (need_ref(cert, GM_REF_CERT, err, "gm_token_read_cert") < 0)
		return -1;
	return s->be->read_cert(s, cert, der, der_len, err);
}

int gm_token_remove(gm_session *s, gm_token_ref obj, gm_error *err)
{
	if (need_session(s, err, "gm_token_remove") < 0)
		return -1;
	if (gm_token_ref_is_none(obj))
		return bad_call(err, "gm_token_remove");
	return s->be->destroy(s, obj, err);
}

int gm_token_relabel(gm_session *s, gm_token_ref obj, const char *label,
		     gm_error *err)
{
	if (need_session(s, err, "gm_token_relabel") < 0)
		return -1;
	if (gm_token_ref_is_none(obj) || !label)
		return bad_call(err, "gm_token_relabel");
	if (!s->be->relabel)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "the token's %s interface cannot rename objects",
			       s->be->name);
	return s->be->relabel(s, obj, label, err);
}

void gm_container_name(const unsigned char *id, size_t id_len, char *buf,
		       size_t size)
{
	unsigned char h[32];
	const unsigned char *g = id;

	if (!buf || !size)
		return;
	if (!id || id_len != 16) {
		SHA256(id ? id : (const unsigned char *)"", id ? id_len : 0, h);
		g = h;
	}
	snprintf(buf, size, "{%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-"
		 "%02X%02X%02X%02X%02X%02X}", g[0], g[1], g[2], g[3], g[4],
		 g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12], g[13],
		 g[14], g[15]);
}
