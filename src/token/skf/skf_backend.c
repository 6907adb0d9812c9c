/*
 * skf_backend.c - the SKF (GM/T 0016) implementation of the token backend
 * table (backend.h). A token is an SKF device, found by the serial number
 * and label of its DEVINFO; its certificates and key pairs are the
 * signing certificates and signing key pairs of the containers of its
 * application. A reference names a container by its number in the
 * session's table of container names (a = number + 1).
 *
 * Containers cannot be renamed: a new key pair gets its final name when it
 * is made, "{GUID}" from its id (gm_container_name), as the PKCS#11 side
 * names it (docs/skf.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>

#include "skf_internal.h"

typedef struct skf_session {
	gm_skf_dev *dev;
	char **names;			/* container names, by reference */
	size_t n_names;
} skf_session;

/* The library, and the device the selection connected to, kept for the
 * session that follows: a run enumerates and connects once. */
typedef struct skf_module {
	gm_skf_lib *lib;
	gm_skf_dev *kept;
	gm_skf_abi kept_abi;		/* the DEVINFO was read with this */
} skf_module;

static gm_skf_lib *lib_of(gm_module *m)
{
	return ((skf_module *)m->impl)->lib;
}

static void keep(gm_module *m, gm_skf_dev *d)
{
	skf_module *sm = m->impl;

	gm_skf_dev_close(sm->kept);
	sm->kept = d;
	if (d)
		sm->kept_abi = sm->lib->abi;
}

/* The kept device when it is the token t and its DEVINFO was read the way
 * the profile's ABI reads it; the caller owns it then. */
static gm_skf_dev *take_kept(gm_module *m, const gm_token_info *t)
{
	skf_module *sm = m->impl;
	const gm_skf_abi *a = &sm->kept_abi, *b = &sm->lib->abi;
	gm_skf_dev *d = sm->kept;

	if (!d || a->ulong_size != b->ulong_size ||
	    a->bool_size != b->bool_size || a->packed != b->packed ||
	    strncmp(d->info.serial, t->serial, sizeof(t->serial) - 1) ||
	    strcmp(d->info.label, t->label)) {
		keep(m, NULL);
		return NULL;
	}
	sm->kept = NULL;
	return d;
}

/* The profile's ABI, once the session has a profile. */
static skf_session *sess(gm_session *s)
{
	skf_session *ss = s->impl;

	if (s->profile)
		ss->dev->lib->abi = s->profile->skf;
	return ss;
}

/* ---- the library ---- */

static int skf_open(gm_module *m, gm_error *err)
{
	gm_skf_abi abi;
	gm_skf_lib *lib;

	skf_module *sm;

	gm_skf_abi_builtin("epass3000gm", &abi);
	if (gm_skf_lib_open(m->path, &abi, &lib, err))
		return -1;
	sm = gm_xcalloc(1, sizeof(*sm));
	sm->lib = lib;
	m->impl = sm;
	return 0;
}

static void skf_close(gm_module *m)
{
	skf_module *sm = m->impl;

	if (!sm)
		return;
	gm_skf_dev_close(sm->kept);
	gm_skf_lib_close(sm->lib);
	free(sm);
	m->impl = NULL;
}

static int skf_library_info(gm_module *m, gm_module_info *out, gm_error *err)
{
	(void)m;
	(void)err;
	memset(out, 0, sizeof(*out));
	/* SKF has no library information; the devices have theirs */
	snprintf(out->description, sizeof(out->description), "%s",
		 "GM/T 0016-2012 (SKF)");
	return 0;
}

/* ---- tokens ---- */

static void pad(unsigned char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);

	memset(dst, ' ', n);
	memcpy(dst, src, len < n ? len : n);
}

/* The device as PKCS#11 token information, so that --token URIs select
 * it the same way (p11-kit matches them). */
static void as_token_info(const gm_skf_devinfo *di, CK_TOKEN_INFO *ti)
{
	memset(ti, 0, sizeof(*ti));
	pad(ti->label, sizeof(ti->label), di->label);
	pad(ti->manufacturerID, sizeof(ti->manufacturerID), di->manufacturer);
	pad(ti->model, sizeof(ti->model), "");
	pad(ti->serialNumber, sizeof(ti->serialNumber), di->serial);
	ti->flags = CKF_TOKEN_INITIALIZED | CKF_LOGIN_REQUIRED |
		    CKF_USER_PIN_INITIALIZED;
}

static void fill_info(gm_token_info *info, unsigned long index,
		      const gm_skf_devinfo *di, CK_TOKEN_INFO *ti)
{
	memset(info, 0, sizeof(*info));
	info->slot = index;
	snprintf(info->label, sizeof(info->label), "%s", di->label);
	snprintf(info->serial, sizeof(info->serial), "%.*s",
		 (int)sizeof(info->serial) - 1, di->serial);
	snprintf(info->manufacturer, sizeof(info->manufacturer), "%.*s",
		 (int)sizeof(info->manufacturer) - 1, di->manufacturer);
	info->flags = GM_TOKEN_INITIALIZED | GM_TOKEN_LOGIN_REQUIRED;
	as_token_info(di, ti);
	info->uri = gm_token_info_uri(ti);
}

/* Every device present, with its token information (raw, for matching)
 * and, when devs is not NULL, still connected (the caller closes them). */
static int list_devices(gm_skf_lib *lib, gm_token_info **out,
			CK_TOKEN_INFO **raw, gm_skf_dev ***devs, size_t *n,
			gm_error *err)
{
	char **names = NULL;
	size_t count = 0, i, got = 0;
	CK_TOKEN_INFO *tis;

	*out = NULL;
	*n = 0;
	if (gm_skf_enum_devices(lib, &names, &count, err))
		return -1;
	*out = gm_xcalloc(count ? count : 1, sizeof(**out));
	tis = gm_xcalloc(count ? count : 1, sizeof(*tis));
	if (devs)
		*devs = gm_xcalloc(count ? count : 1, sizeof(**devs));
	for (i = 0; i < count; i++) {
		gm_skf_dev *d;
		gm_error e;

		if (gm_skf_dev_open(lib, names[i], &d, &e)) {
			/* gone since the list, or broken: not fatal */
			gm_debug("SKF device '%s' skipped: %s", names[i], e.msg);
			continue;
		}
		fill_info(&(*out)[got], (unsigned long)i, &d->info, &tis[got]);
		if (devs)
			(*devs)[got] = d;
		else
			gm_skf_dev_close(d);
		got++;
	}
	gm_skf_names_free(names, count);
	*n = got;
	if (raw)
		*raw = tis;
	else
		free(tis);
	return 0;
}

static int skf_tokens(gm_module *m, gm_token_info **out, size_t *n,
		      gm_error *err)
{
	return list_devices(lib_of(m), out, NULL, NULL, n, err);
}

static void serials(char *buf, size_t size, const gm_token_info *t,
		    const int *picked, size_t n)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < n && used < size; i++)
		if (!picked || picked[i])
			used += (size_t)snprintf(buf + used, size - used,
						 "%s%s", used ? ", " : "",
						 t[i].serial[0] ? t[i].serial :
						 t[i].label);
}

static int select_one(const gm_token_info *infos, const CK_TOKEN_INFO *raw,
		      size_t n, P11KitUri *puri, const char *uri,
		      size_t *hit, gm_error *err)
{
	char list[GM_ERR_MSG_MAX / 2];
	int *picked = gm_xcalloc(n ? n : 1, sizeof(*picked));
	size_t i, hits = 0;

	for (i = 0; i < n; i++) {
		picked[i] = !puri || p11_kit_uri_match_token_info(
			puri, (CK_TOKEN_INFO *)(uintptr_t)&raw[i]);
		if (picked[i]) {
			hits++;
			*hit = i;
		}
	}
	if (hits != 1)
		serials(list, sizeof(list), infos, hits ? picked : NULL, n);
	free(picked);
	if (hits == 1)
		return 0;
	if (hits == 0) {
		gm_fail(err, GM_EXIT_ENV,
			"check the URI against the inserted tokens listed",
			"no inserted token matches '%s' (inserted: %s)", uri,
			list);
		return gm_error_set_reason(err, GM_REASON_NO_MATCHING_TOKEN);
	}
	gm_fail(err, GM_EXIT_ENV,
		"remove all but one, or pick one with --token "
		"'pkcs11:serial=...'",
		"%zu tokens are inserted (serials %s): the CA's rule is one "
		"Ekey at a time", hits, list);
	return gm_error_set_reason(err, GM_REASON_SEVERAL_TOKENS);
}

static int skf_select(gm_module *m, const char *uri, gm_token_info *out,
		      gm_error *err)
{
	gm_token_info *infos = NULL;
	CK_TOKEN_INFO *raw = NULL;
	gm_skf_dev **devs = NULL;
	P11KitUri *puri = NULL;
	size_t n = 0, hit = 0, i;
	int ret = -1, r;

	memset(out, 0, sizeof(*out));
	if (uri && *uri) {
		puri = p11_kit_uri_new();
		r = p11_kit_uri_parse(uri, P11_KIT_URI_FOR_TOKEN, puri);
		if (r != P11_KIT_URI_OK) {
			gm_fail(err, GM_EXIT_USAGE,
				"write it like 'pkcs11:serial=2A0F96E8B1C40012' "
				"(the serial is the Ekey number)",
				"bad token URI '%s': %s", uri,
				p11_kit_uri_message(r));
			goto out;
		}
	}
	if (list_devices(lib_of(m), &infos, &raw, &devs, &n, err))
		goto out;
	if (n == 0) {
		gm_token_none_inserted(err);
		goto out;
	}
	if (select_one(infos, raw, n, puri, uri, &hit, err))
		goto out;
	*out = infos[hit];	/* the caller owns out->uri now */
	infos[hit].uri = NULL;
	keep(m, devs[hit]);	/* for the session that follows */
	devs[hit] = NULL;
	gm_debug("selected the SKF device with serial '%s'", out->serial);
	ret = 0;
out:
	for (i = 0; devs && i < n; i++)
		gm_skf_dev_close(devs[i]);
	free(devs);
	free(raw);
	gm_token_infos_free(infos, n);
	if (puri)
		p11_kit_uri_free(puri);
	return ret;
}

static int same_text(const char *a, const char *b)
{
	return a[0] && b[0] && !strcasecmp(a, b);
}

/* SKF: a configured profile that names the device (manufacturer or
 * model as label), else epass3000gm, the SM2 key SKF speaks for. */
static int skf_detect_profile(gm_module *m, const gm_token_info *t,
			      const gm_config *cfg, gm_profile *out,
			      gm_error *err)
{
	size_t i;

	(void)m;
	for (i = 0; cfg && i < cfg->n_profile_kv; i++) {
		gm_profile p;

		if (gm_profile_get(cfg->profile_kv[i].section, cfg, &p, NULL))
			continue;
		if (same_text(p.token_manufacturer, t->manufacturer) ||
		    same_text(p.module_manufacturer, t->manufacturer) ||
		    same_text(p.token_model, t->label)) {
			*out = p;
			gm_debug("profile '%s' fits the SKF device", p.name);
			return 0;
		}
	}
	return gm_profile_get("epass3000gm", cfg, out, err);
}

/* ---- sessions ---- */

static int find_device(gm_skf_lib *lib, const gm_token_info *t,
		       gm_skf_dev **out, gm_error *err)
{
	char **names = NULL;
	size_t n = 0, i;
	int ret = -1;

	*out = NULL;
	if (gm_skf_enum_devices(lib, &names, &n, err))
		return -1;
	for (i = 0; i < n && ret; i++) {
		gm_skf_dev *d;
		gm_error e;

		if (gm_skf_dev_open(lib, names[i], &d, &e))
			continue;
		if (!strncmp(d->info.serial, t->serial, sizeof(t->serial) - 1) &&
		    !strcmp(d->info.label, t->label)) {
			*out = d;
			ret = 0;
		} else {
			gm_skf_dev_close(d);
		}
	}
	gm_skf_names_free(names, n);
	if (ret)
		gm_fail(err, GM_EXIT_ENV, "insert the Ekey again",
			"the Ekey with serial %s is no longer there", t->serial);
	return ret;
}

static int skf_session_open(gm_session *s, const gm_token_info *t,
			    int read_write, gm_error *err)
{
	gm_skf_lib *lib = lib_of(s->m);
	skf_session *ss;
	gm_skf_dev *d;

	(void)read_write;
	if (s->profile)
		lib->abi = s->profile->skf;
	d = take_kept(s->m, t);
	if (!d && find_device(lib, t, &d, err))
		return -1;
	if (gm_skf_app_open(d, err)) {
		gm_skf_dev_close(d);
		return -1;
	}
	ss = gm_xcalloc(1, sizeof(*ss));
	ss->dev = d;
	s->impl = ss;
	return 0;
}

static void skf_session_close(gm_session *s)
{
	skf_session *ss = s->impl;

	if (!ss)
		return;
	gm_skf_dev_close(ss->dev);
	gm_skf_names_free(ss->names, ss->n_names);
	free(ss);
	s->impl = NULL;
}

static int skf_pin_state(gm_session *s, gm_pin_state *out, gm_error *err)
{
	return gm_skf_pin_state(sess(s)->dev, out, err);
}

static int skf_login(gm_session *s, const char *pin, size_t pin_len,
		     gm_error *err)
{
	if (gm_skf_login(sess(s)->dev, pin, pin_len, err))
		return -1;
	s->logged_in = 1;
	return 0;
}

/* ---- references ---- */

/* The number of name in the session's table, added if new. */
static uint64_t name_ref(skf_session *ss, const char *name)
{
	size_t i;

	for (i = 0; i < ss->n_names; i++)
		if (!strcmp(ss->names[i], name))
			return i + 1;
	ss->names = gm_xrealloc(ss->names,
				(ss->n_names + 1) * sizeof(*ss->names));
	ss->names[ss->n_names++] = gm_xstrdup(name);
	return ss->n_names;
}

static const char *ref_name(skf_session *ss, gm_token_ref r, gm_error *err)
{
	if (r.a == 0 || r.a > ss->n_names) {
		gm_fail(err, GM_EXIT_FAILED, NULL,
			"no such container on the Ekey (reference %llu)",
			(unsigned long long)r.a);
		return NULL;
	}
	return ss->names[r.a - 1];
}

static gm_token_ref make_ref(unsigned kind, uint64_t a)
{
	gm_token_ref r;

	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.a = a;
	return r;
}

/* The id of a container named "{GUID}" (as gm_container_name makes it):
 * its 16 bytes; other names have none. */
static int guid_id(const char *name, unsigned char *id, size_t *id_len)
{
	char want[48];
	unsigned char *raw = NULL;
	char hex[33];
	size_t i, j = 0, len = 0;

	*id_len = 0;
	if (strlen(name) != 38 || name[0] != '{')
		return 0;
	for (i = 1; i < 37 && j < 32; i++)
		if (name[i] != '-')
			hex[j++] = name[i];
	hex[j] = '\0';
	if (j != 32 || gm_unhex(hex, &raw, &len) || len != 16) {
		free(raw);
		return 0;
	}
	gm_container_name(raw, len, want, sizeof(want));
	if (strcmp(want, name)) {
		free(raw);
		return 0;
	}
	memcpy(id, raw, 16);
	*id_len = 16;
	free(raw);
	return 1;
}

/* ---- reading ---- */

/* A reference's b: which pair of the container (GM_ROLE_*). */
static void add_key(gm_token_snapshot *out, uint64_t a, int role,
		    const unsigned char *id, size_t id_len, const char *name,
		    EVP_PKEY **pub)
{
	gm_snapshot_key *k;

	out->keys = gm_xrealloc(out->keys,
				(out->n_keys + 1) * sizeof(*out->keys));
	k = &out->keys[out->n_keys++];
	memset(k, 0, sizeof(*k));
	k->ref = make_ref(GM_REF_KEYPAIR, a);
	k->ref.b = (uint64_t)role;
	k->role = role;
	/* SKF: a container's pair is one object */
	k->parts = GM_KEYPAIR_PUBLIC | GM_KEYPAIR_PRIVATE;
	k->id = id_len ? (unsigned char *)gm_xmemdup(id, id_len) : NULL;
	k->id_len = id_len;
	k->label = gm_xstrdup(name);
	k->container = gm_xstrdup(name);
	k->pubkey = *pub;
	*pub = NULL;
}

static void add_cert(gm_token_snapshot *out, uint64_t a, int role,
		     const unsigned char *id, size_t id_len, const char *name,
		     unsigned char **der, size_t der_len)
{
	gm_snapshot_cert *x;

	out->certs = gm_xrealloc(out->certs,
				 (out->n_certs + 1) * sizeof(*out->certs));
	x = &out->certs[out->n_certs++];
	memset(x, 0, sizeof(*x));
	x->ref = make_ref(GM_REF_CERT, a);
	x->ref.b = (uint64_t)role;
	x->role = role;
	x->id = id_len ? (unsigned char *)gm_xmemdup(id, id_len) : NULL;
	x->id_len = id_len;
	x->label = gm_xstrdup(name);
	x->container = gm_xstrdup(name);
	x->der = *der;
	x->der_len = der_len;
	x->key = -1;
	x->partner = -1;
	*der = NULL;
}

static void add_container(skf_session *ss, gm_token_snapshot *out,
			  gm_skf_container *c)
{
	unsigned char id[16];
	size_t id_len;
	uint64_t a = name_ref(ss, c->name);

	guid_id(c->name, id, &id_len);
	if (c->pub)
		add_key(out, a, GM_ROLE_SIGNING, id, id_len, c->name, &c->pub);
	if (c->cert)
		add_cert(out, a, GM_ROLE_SIGNING, id, id_len, c->name,
			 &c->cert, c->cert_len);
	if (c->enc_pub)
		add_key(out, a, GM_ROLE_ENCRYPTION, id, id_len, c->name,
			&c->enc_pub);
	if (c->enc_cert)
		add_cert(out, a, GM_ROLE_ENCRYPTION, id, id_len, c->name,
			 &c->enc_cert, c->enc_cert_len);
}

static int skf_snapshot(gm_session *s, gm_token_snapshot *out, gm_error *err)
{
	skf_session *ss = sess(s);
	gm_skf_container *c = NULL;
	size_t n = 0, i;

	memset(out, 0, sizeof(*out));
	if (gm_skf_containers(ss->dev, &c, &n, err))
		return -1;
	for (i = 0; i < n; i++)
		add_container(ss, out, &c[i]);
	/* no separate private objects: a container's pair is seen whole */
	out->private_visible = 1;
	gm_skf_containers_free(c, n);
	return 0;
}

/* The certificate alone (one call with a guessed buffer), not the whole
 * container. */
static int skf_read_cert(gm_session *s, gm_token_ref cert, unsigned char **der,
			 size_t *der_len, gm_error *err)
{
	skf_session *ss = sess(s);
	const char *name = ref_name(ss, cert, err);
	int enc = cert.b == GM_ROLE_ENCRYPTION;
	int r;

	*der = NULL;
	*der_len = 0;
	if (!name)
		return -1;
	r = gm_skf_cert_read(ss->dev, name, !enc, der, der_len, err);
	if (r == 1)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "container '%s' holds no %s certificate", name,
			       enc ? "encryption" : "signing");
	return r;
}

/* ---- writing and keys ---- */

static int skf_generate_keypair(gm_session *s, const unsigned char *id,
				size_t id_len, const char *label,
				gm_snapshot_key *out, gm_error *err)
{
	skf_session *ss = sess(s);
	char name[48];
	EVP_PKEY *pub = NULL;

	(void)label;	/* SKF has no labels: the container name is final */
	memset(out, 0, sizeof(*out));
	gm_container_name(id, id_len, name, sizeof(name));
	if (gm_skf_create_keypair(ss->dev, name, &pub, err))
		return -1;
	out->ref = make_ref(GM_REF_KEYPAIR, name_ref(ss, name));
	out->parts = GM_KEYPAIR_PUBLIC | GM_KEYPAIR_PRIVATE;
	out->id = (unsigned char *)gm_xmemdup(id, id_len);
	out->id_len = id_len;
	out->label = gm_xstrdup(name);
	out->container = gm_xstrdup(name);
	out->pubkey = pub;
	return 0;
}

static int skf_sign_digest(gm_session *s, gm_token_ref key,
			   const unsigned char digest[GM_DIGEST_LEN],
			   unsigned char **sig, size_t *sig_len, gm_error *err)
{
	skf_session *ss = sess(s);
	const char *name = ref_name(ss, key, err);

	if (!name)
		return -1;
	if (key.b != GM_ROLE_SIGNING)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "internal error: container '%s': only its "
			       "signing pair signs", name);
	return gm_skf_sign(ss->dev, name, digest, sig, sig_len, err);
}

static int skf_store_cert(gm_session *s, const gm_snapshot_key *key,
			  const char *label, const unsigned char *der,
			  size_t der_len, gm_token_ref *out, gm_error *err)
{
	skf_session *ss = sess(s);
	const char *name = ref_name(ss, key->ref, err);

	(void)label;
	if (!name || gm_skf_import_cert(ss->dev, name, der, der_len, err))
		return -1;
	*out = make_ref(GM_REF_CERT, key->ref.a);
	return 0;
}

/* A certificate lives in its container: removing either removes the
 * container (backend.h). */
static int skf_destroy(gm_session *s, gm_token_ref obj, gm_error *err)
{
	skf_session *ss = sess(s);
	const char *name = ref_name(ss, obj, err);

	if (!name)
		return -1;
	return gm_skf_delete_container(ss->dev, name, err);
}

/* ---- double certificates ---- */

static int skf_import_envelope(gm_session *s, const gm_snapshot_key *key,
			       const gm_enveloped_key *env,
			       EVP_PKEY **token_pub, gm_error *err)
{
	skf_session *ss = sess(s);
	const char *name = ref_name(ss, key->ref, err);

	if (!name)
		return -1;
	return gm_skf_import_envelope(ss->dev, name, env, token_pub, err);
}

static int skf_store_enc_cert(gm_session *s, const gm_snapshot_key *key,
			      const unsigned char *der, size_t der_len,
			      gm_token_ref *out, gm_error *err)
{
	skf_session *ss = sess(s);
	const char *name = ref_name(ss, key->ref, err);

	if (!name || gm_skf_import_enc_cert(ss->dev, name, der, der_len, err))
		return -1;
	*out = make_ref(GM_REF_CERT, key->ref.a);
	out->b = GM_ROLE_ENCRYPTION;
	return 0;
}

/* The container's encryption pair: the signing pair's reference with the
 * other role (add_key). */
static int skf_enc_pair(gm_session *s, const gm_snapshot_key *key,
			EVP_PKEY *pub, gm_snapshot_key *out, gm_error *err)
{
	(void)s;
	(void)err;
	memset(out, 0, sizeof(*out));
	out->ref = key->ref;
	out->ref.b = GM_ROLE_ENCRYPTION;
	out->role = GM_ROLE_ENCRYPTION;
	out->parts = GM_KEYPAIR_PUBLIC | GM_KEYPAIR_PRIVATE;
	out->id = key->id_len ?
		(unsigned char *)gm_xmemdup(key->id, key->id_len) : NULL;
	out->id_len = key->id_len;
	out->label = gm_xstrdup(key->label ? key->label : "");
	out->container = gm_xstrdup(key->container ? key->container : "");
	if (pub)
		EVP_PKEY_up_ref(pub);
	out->pubkey = pub;
	return 0;
}

static int skf_read_encryption(gm_session *s, const gm_snapshot_key *key,
			       unsigned char **der, size_t *der_len,
			       EVP_PKEY **pub, gm_error *err)
{
	skf_session *ss = sess(s);
	const char *name = ref_name(ss, key->ref, err);

	if (!name)
		return -1;
	return gm_skf_read_encryption(ss->dev, name, der, der_len, pub, err);
}

static char *detail_line(const gm_skf_dev *d)
{
	const gm_skf_devinfo *i = &d->info;

	return gm_xasprintf("SKF device '%s': serial %s, label '%s', "
			    "manufacturer '%s', issuer '%s', hardware %u.%u, "
			    "firmware %u.%u, DevAuthAlgId 0x%08llx, space %llu "
			    "of %llu bytes free", d->name, i->serial, i->label,
			    i->manufacturer, i->issuer, i->hw_major,
			    i->hw_minor, i->fw_major, i->fw_minor,
			    (unsigned long long)i->dev_auth_alg,
			    (unsigned long long)i->free_space,
			    (unsigned long long)i->total_space);
}

int gm_module_device_details(gm_module *m, char ***lines, size_t *n,
			     gm_error *err)
{
	char **names = NULL;
	size_t count = 0, i;

	*lines = NULL;
	*n = 0;
	if (!m || m->be != &gm_skf_backend)
		return 0;
	if (gm_skf_enum_devices(lib_of(m), &names, &count, err))
		return -1;
	*lines = gm_xcalloc(count ? count : 1, sizeof(**lines));
	for (i = 0; i < count; i++) {
		gm_skf_dev *d;
		gm_error e;

		if (gm_skf_dev_open(lib_of(m), names[i], &d, &e)) {
			(*lines)[(*n)++] = gm_xasprintf("SKF device '%s': %s",
							names[i], e.msg);
			continue;
		}
		(*lines)[(*n)++] = detail_line(d);
		gm_skf_dev_close(d);
	}
	gm_skf_names_free(names, count);
	return 0;
}

const gm_token_backend gm_skf_backend = {
	.name = "skf",
	.open = skf_open,
	.close = skf_close,
	.library_info = skf_library_info,
	.tokens = skf_tokens,
	.select = skf_select,
	.detect_profile = skf_detect_profile,
	.session_open = skf_session_open,
	.session_close = skf_session_close,
	.pin_state = skf_pin_state,
	.login = skf_login,
	.snapshot = skf_snapshot,
	.read_cert = skf_read_cert,
	.generate_keypair = skf_generate_keypair,
	.sign_digest = skf_sign_digest,
	.store_cert = skf_store_cert,
	.destroy = skf_destroy,
	.relabel = NULL,	/* containers cannot be renamed */
	.import_envelope = skf_import_envelope,
	.store_enc_cert = skf_store_enc_cert,
	.read_encryption = skf_read_encryption,
	.enc_pair = skf_enc_pair,
	.removes_container = 1,
};
