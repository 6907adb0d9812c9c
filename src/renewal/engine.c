/*
 * engine.c - the renewal's steps after the service gave the update code.
 * Each step first looks at the token and the order, so that it can be run
 * again after any interruption: it does only what is missing.
 *
 *   started/csr_received: a pending key pair (label gmrenew-pending-CODE) on
 *       the token, a CSR signed by it, submitted with proof by the old key
 *   issued: verify the certificate, install it next to its key, read it
 *       back, confirm with proof by the new key
 *   confirmed: remove (or relabel) the old pair, give the new pair its final
 *       label, remove stale pending objects
 *
 * The old pair is never touched before the order is confirmed, which happens
 * only after the new certificate was installed and read back.
 */
#include <string.h>
#include <stdlib.h>
#include <sys/random.h>

#include "engine.h"

void gm_run_progress(gm_run *r, int number, const char *what)
{
	if (r->ctx->hooks.progress)
		r->ctx->hooks.progress(r->ctx->hooks.ctx, number,
				       GM_PROGRESS_TOTAL, what);
}

gm_view *gm_run_view(gm_run *r, gm_error *err)
{
	if (!r->have_view) {
		if (gm_view_load(r->ctx->session, &r->view, err))
			return NULL;
		r->have_view = 1;
	}
	return &r->view;
}

void gm_run_view_drop(gm_run *r)
{
	if (r->have_view)
		gm_view_release(&r->view);
	r->have_view = 0;
}

void gm_run_set_order(gm_run *r, gm_order *fresh)
{
	gm_order_release(&r->order);
	r->order = *fresh;
	memset(fresh, 0, sizeof(*fresh));
	snprintf(r->out->state, sizeof(r->out->state), "%s", r->order.state);
}

static int journal_step(gm_run *r, gm_step step, gm_error *err)
{
	return gm_journal_step(&r->journal, step, err);
}

void gm_run_journal_old(gm_run *r, const gm_token_cert *obj,
			const gm_cert_facts *facts)
{
	char *id = gm_hex(obj->id, obj->id_len);
	char *der = gm_hex(obj->der, obj->der_len);

	gm_journal_set(&r->journal, "token_serial", r->ctx->token->serial);
	gm_journal_set(&r->journal, "old_sha256", facts->sha256_hex);
	gm_journal_set(&r->journal, "old_label", obj->label ? obj->label : "");
	gm_journal_set(&r->journal, "old_id", id);
	gm_journal_set(&r->journal, "old_certificate", der);
	gm_journal_set(&r->journal, "subject", facts->subject);
	gm_journal_set(&r->journal, "pending_label", r->pending);
	free(id);
	free(der);
}

/* The proof-of-possession key made of a key pair on the token. */
static void pop_key(gm_run *r, const gm_token_key *k, gm_token_signer *signer,
		    gm_pop_key *pop)
{
	*signer = (gm_token_signer){ r->ctx->session, r->ctx->profile, k->priv };
	pop->pub = k->pubkey;
	pop->sign = gm_token_sign_cb;
	pop->sign_ctx = signer;
	if (gm_sig_scheme_for_key(k->pubkey, &pop->scheme, NULL))
		pop->scheme = r->ctx->profile->scheme;
}

/* The old certificate's key pair, needed to prove possession. */
static int old_key(gm_run *r, gm_view *v, int *key_index, gm_error *err)
{
	int c = gm_view_find_cert(v, r->order.old_sha256);

	if (c < 0)
		return gm_fail(err, GM_EXIT_ENV,
			       "check which Ekey is inserted: it must be the one "
			       "the renewal was started with",
			       "the certificate being renewed (SHA-256 %s) is "
			       "not on this token", r->order.old_sha256);
	*key_index = gm_view_find_key(v, v->facts[c].pubkey, 1);
	if (*key_index < 0)
		return gm_fail(err, GM_EXIT_FAILED,
			       "the certificate cannot be renewed online without "
			       "its key; contact the CA",
			       "the token holds no private key for the "
			       "certificate being renewed ('%s')",
			       v->facts[c].subject);
	return 0;
}

static int generate_pending(gm_run *r, gm_token_key *out, gm_error *err)
{
	unsigned char id[16];
	char *hex;

	if (getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id))
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "cannot get random bytes for the key id");
	gm_run_progress(r, GM_PROGRESS_KEYGEN,
			N_("Generating the new key pair on the token (this can "
			"take several seconds; do not unplug the Ekey)"));
	if (gm_token_generate_keypair(r->ctx->session, r->ctx->profile, id,
				      sizeof(id), r->pending, out, err))
		return gm_error_prefix(err, "generating the new key pair");
	r->changed = 1;
	if (r->have_view)
		gm_view_add_key(&r->view, out);
	hex = gm_hex(id, sizeof(id));
	gm_journal_set(&r->journal, "new_id", hex);
	free(hex);
	return journal_step(r, GM_STEP_KEY_GENERATED, err);
}

/* A complete pending pair (both objects, public key readable), or -1. */
static int find_pending(gm_run *r, const gm_view *v)
{
	size_t i;

	for (i = v->n_keys; i-- > 0;)
		if (v->keys[i].label && !strcmp(v->keys[i].label, r->pending) &&
		    v->keys[i].priv != CK_INVALID_HANDLE &&
		    v->keys[i].pub != CK_INVALID_HANDLE && v->keys[i].pubkey)
			return (int)i;
	return -1;
}

static int submit_csr(gm_run *r, const gm_token_key *newkey,
		      const gm_token_key *oldkey, gm_error *err)
{
	gm_token_signer nsigner, osigner;
	gm_pop_key npop, opop;
	unsigned char *csr = NULL;
	size_t csr_len = 0;
	gm_order fresh;
	int ret;

	gm_run_progress(r, GM_PROGRESS_REQUEST,
			N_("Requesting the new certificate (CSR signed on the "
			"token)"));
	pop_key(r, newkey, &nsigner, &npop);
	pop_key(r, oldkey, &osigner, &opop);
	if (gm_csr_build(npop.scheme, r->order.subject_der,
			 r->order.subject_der_len, newkey->pubkey,
			 gm_token_sign_cb, &nsigner, &csr, &csr_len, err))
		return gm_error_prefix(err, "building the CSR");
	memset(&fresh, 0, sizeof(fresh));
	ret = gm_service_submit_csr(r->ctx->service, r->order.code, csr,
				    csr_len, &opop, &fresh, err);
	OPENSSL_free(csr);
	if (ret)
		return -1;
	r->changed = 1;
	gm_run_set_order(r, &fresh);
	return journal_step(r, GM_STEP_ISSUED, err);
}

/* The subject the service asks for must be the old certificate's. */
static int check_subject(gm_run *r, const gm_cert_facts *old, gm_error *err)
{
	if (r->order.subject_der_len == old->subject_der_len &&
	    !memcmp(r->order.subject_der, old->subject_der,
		    old->subject_der_len))
		return 0;
	gm_fail(err, GM_EXIT_VERIFY,
		"check which Ekey is inserted; if it is the right one, run the "
		"command again",
		"更新的证书与您当前 Ekey 的证书主题不符，无法更新证书 - the "
		"renewed certificate does not match the subject of the "
		"certificate on your Ekey ('%s'), cannot renew", old->subject);
	return gm_error_set_reason(err, "subject_mismatch");
}

/* started / csr_received: make sure a pending key exists and submit a CSR. */
static int request_certificate(gm_run *r, gm_error *err)
{
	gm_view *v = gm_run_view(r, err);
	gm_token_key fresh;
	int ok = -1, p, ret;

	if (!v || old_key(r, v, &ok, err) ||
	    check_subject(r, &v->facts[gm_view_find_cert(v, r->order.old_sha256)],
			  err))
		return -1;
	p = find_pending(r, v);
	if (p >= 0)
		return submit_csr(r, &v->keys[p], &v->keys[ok], err);
	memset(&fresh, 0, sizeof(fresh));
	ret = generate_pending(r, &fresh, err);
	if (!ret)	/* the view's key array may have moved: by index */
		ret = submit_csr(r, &fresh, &v->keys[ok], err);
	gm_token_key_release(&fresh);
	return ret;
}

static STACK_OF(X509) *order_chain(const gm_order *o)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	size_t i;

	for (i = 0; i < o->n_chain; i++) {
		const unsigned char *p = o->chain[i];
		X509 *x = d2i_X509(NULL, &p, (long)o->chain_lens[i]);

		if (x)
			sk_X509_push(sk, x);
	}
	return sk;
}

/* The facts of the certificate being renewed: from the token, else from
 * the journal's copy (the old pair may be gone after confirmation). */
static int old_facts(gm_run *r, const gm_view *v, gm_cert_facts *out)
{
	int c = gm_view_find_cert(v, r->order.old_sha256);
	const char *hex = gm_journal_get(&r->journal, "old_certificate");
	unsigned char *der;
	size_t len;
	int ret;

	if (c >= 0)
		return gm_cert_facts_parse(v->certs[c].der, v->certs[c].der_len,
					   out, NULL);
	if (!hex || gm_unhex(hex, &der, &len))
		return -1;
	ret = gm_cert_facts_parse(der, len, out, NULL);
	free(der);
	return ret;
}

static int verify_new(gm_run *r, const gm_view *v, const gm_cert_facts *cert,
		      EVP_PKEY *newkey, gm_error *err)
{
	gm_cert_facts prev;
	int have_prev = old_facts(r, v, &prev) == 0, ret;
	STACK_OF(X509) *chain = order_chain(&r->order);
	gm_verify_input in = {
		.cert = cert, .untrusted = chain,
		.ca_bundle = r->ctx->chain_bundle, .now = r->ctx->now,
		.policy = r->ctx->policy, .session = r->ctx->session,
		.keys = v->keys, .n_keys = v->n_keys,
		.expected_key = newkey, .previous = have_prev ? &prev : NULL,
	};

	gm_run_progress(r, GM_PROGRESS_VERIFY,
			N_("Verifying the new certificate (chain, validity, key, "
			"subject, about 5 years more)"));
	if (!r->ctx->chain_bundle) {
		ret = gm_fail(err, GM_EXIT_USAGE,
			      "set [service] chain_bundle in the configuration",
			      "no trust anchors for issued certificates: a "
			      "certificate is never installed unverified");
		goto out;
	}
	ret = gm_verify_certificate(&in, &r->out->report, err);
	if (ret)
		gm_error_set_fix(err, "the new certificate was NOT installed; "
				 "the old certificate stays usable; report this "
				 "to the CA");
	else
		ret = journal_step(r, GM_STEP_VERIFIED, err);
out:
	sk_X509_pop_free(chain, X509_free);
	if (have_prev)
		gm_cert_facts_release(&prev);
	return ret;
}

/* Creates the certificate object next to its key (unless it is already
 * there) and reads it back. */
static int install(gm_run *r, gm_view *v, const gm_token_key *key,
		   gm_error *err)
{
	CK_OBJECT_HANDLE h;
	unsigned char *back = NULL;
	size_t back_len = 0;
	int c = gm_view_find_cert(v, r->order.cert_sha256), same;

	gm_run_progress(r, GM_PROGRESS_INSTALL,
			N_("Installing the new certificate next to its key"));
	if (c >= 0) {
		h = v->certs[c].handle;
	} else {
		if (gm_token_create_cert(r->ctx->session, key->id, key->id_len,
					 key->label ? key->label : r->pending,
					 r->order.cert, r->order.cert_len, &h,
					 err))
			return gm_error_prefix(err, "installing the certificate");
		r->changed = 1;
		if (gm_view_add_cert(v, h, key->id, key->id_len,
				     key->label ? key->label : r->pending,
				     r->order.cert, r->order.cert_len, err))
			return -1;
	}
	if (gm_token_read_value(r->ctx->session, h, &back, &back_len, err))
		return gm_error_prefix(err, "reading the certificate back");
	same = back_len == r->order.cert_len &&
	       !memcmp(back, r->order.cert, back_len);
	free(back);
	gm_journal_set(&r->journal, "new_sha256", r->order.cert_sha256);
	if (!same)
		return gm_fail(err, GM_EXIT_FAILED,
			       "run 'gmrenew renew-with-code' again; the old "
			       "certificate stays usable",
			       "the certificate read back from the token differs "
			       "from the one written");
	return journal_step(r, GM_STEP_INSTALLED, err);
}

static int confirm(gm_run *r, const gm_token_key *key, gm_error *err)
{
	gm_token_signer signer;
	gm_pop_key pop;
	gm_order fresh;

	gm_run_progress(r, GM_PROGRESS_CONFIRM,
			N_("Confirming the installation with the service"));
	pop_key(r, key, &signer, &pop);
	memset(&fresh, 0, sizeof(fresh));
	if (gm_service_confirm(r->ctx->service, r->order.code,
			       r->order.cert_sha256, &pop, &fresh, err))
		return -1;
	r->changed = 1;
	gm_run_set_order(r, &fresh);
	return journal_step(r, GM_STEP_CONFIRMED, err);
}

/* The pending key was lost after issuance: a new key, a new CSR. */
static int rekey(gm_run *r, gm_view *v, gm_error *err)
{
	gm_token_key fresh;
	int ok = -1, ret;

	if (!r->order.rekey_allowed)
		return gm_fail(err, GM_EXIT_FAILED,
			       "contact the CA with the update code",
			       "the key of the issued certificate is not on the "
			       "token and the service does not allow a new key "
			       "for renewal %s", r->order.code);
	if (old_key(r, v, &ok, err))
		return -1;
	memset(&fresh, 0, sizeof(fresh));
	ret = generate_pending(r, &fresh, err);
	if (!ret)
		ret = submit_csr(r, &fresh, &v->keys[ok], err);
	gm_token_key_release(&fresh);
	return ret;
}

/* issued: verify, install, read back, confirm. */
static int finish_issued(gm_run *r, gm_error *err)
{
	gm_cert_facts cert;
	gm_view *v;
	int k, ret = -1;

	if (!r->order.cert)
		return gm_fail(err, GM_EXIT_SERVICE, "try again later",
			       "the service reports renewal %s as issued but "
			       "sent no certificate", r->order.code);
	if (gm_cert_facts_parse(r->order.cert, r->order.cert_len, &cert, err))
		return gm_error_prefix(err, "the certificate from the service");
	v = gm_run_view(r, err);
	if (!v)
		goto out;
	k = gm_view_find_key(v, cert.pubkey, 1);
	if (k < 0) {
		int p = find_pending(r, v);

		if (p < 0)	/* the pending key is gone */
			ret = rekey(r, v, err);
		else		/* it is there: the certificate is not for it */
			verify_new(r, v, &cert, v->keys[p].pubkey, err);
		goto out;
	}
	if (verify_new(r, v, &cert, v->keys[k].pubkey, err) ||
	    install(r, v, &v->keys[k], err) ||
	    confirm(r, &v->keys[k], err))
		goto out;
	ret = 0;
out:
	gm_cert_facts_release(&cert);
	return ret;
}

static int destroy_pair(gm_run *r, const gm_view *v, EVP_PKEY *pub,
			gm_error *err)
{
	size_t i;

	/* private keys first: a certificate left alone is harmless */
	for (i = 0; i < v->n_keys; i++)
		if (v->keys[i].pubkey && v->keys[i].priv != CK_INVALID_HANDLE &&
		    gm_pubkey_equal(v->keys[i].pubkey, pub) == 1 &&
		    gm_token_destroy(r->ctx->session, v->keys[i].priv, err))
			return -1;
	for (i = 0; i < v->n_keys; i++)
		if (v->keys[i].pubkey && v->keys[i].pub != CK_INVALID_HANDLE &&
		    gm_pubkey_equal(v->keys[i].pubkey, pub) == 1 &&
		    gm_token_destroy(r->ctx->session, v->keys[i].pub, err))
			return -1;
	return 0;
}

static int relabel_key(gm_run *r, const gm_token_key *k, const char *label,
		       gm_error *err)
{
	if (k->label && !strcmp(k->label, label))
		return 0;
	r->changed = 1;
	if (k->priv != CK_INVALID_HANDLE &&
	    gm_token_set_label(r->ctx->session, k->priv, label, err))
		return -1;
	if (k->pub != CK_INVALID_HANDLE &&
	    gm_token_set_label(r->ctx->session, k->pub, label, err))
		return -1;
	return 0;
}

static int retire_old(gm_run *r, const gm_view *v, gm_error *err)
{
	int c = gm_view_find_cert(v, r->order.old_sha256), k;
	char label[160];

	if (c < 0)
		return 0;
	r->changed = 1;
	if (!r->ctx->keep_old) {
		if (destroy_pair(r, v, v->facts[c].pubkey, err))
			return -1;
		return gm_token_destroy(r->ctx->session, v->certs[c].handle,
					err);
	}
	snprintf(label, sizeof(label), "%s (replaced)",
		 v->certs[c].label ? v->certs[c].label : "");
	if (v->certs[c].label && strstr(v->certs[c].label, " (replaced)"))
		return 0;
	k = gm_view_find_key(v, v->facts[c].pubkey, 0);
	if (k >= 0 && relabel_key(r, &v->keys[k], label, err))
		return -1;
	return gm_token_set_label(r->ctx->session, v->certs[c].handle, label,
				  err);
}

/* Objects with the pending label that are not the new pair. */
static int remove_stale(gm_run *r, const gm_view *v, EVP_PKEY *newpub,
			gm_error *err)
{
	size_t i;

	for (i = 0; i < v->n_keys; i++) {
		const gm_token_key *k = &v->keys[i];

		if (!k->label || strcmp(k->label, r->pending))
			continue;
		if (k->pubkey && gm_pubkey_equal(k->pubkey, newpub) == 1)
			continue;
		r->changed = 1;
		if ((k->priv != CK_INVALID_HANDLE &&
		     gm_token_destroy(r->ctx->session, k->priv, err)) ||
		    (k->pub != CK_INVALID_HANDLE &&
		     gm_token_destroy(r->ctx->session, k->pub, err)))
			return -1;
	}
	for (i = 0; i < v->n_certs; i++) {
		const gm_token_cert *c = &v->certs[i];

		if (!c->label || strcmp(c->label, r->pending) ||
		    (v->parsed[i] &&
		     !strcmp(v->facts[i].sha256_hex, r->order.cert_sha256)))
			continue;
		r->changed = 1;
		if (gm_token_destroy(r->ctx->session, c->handle, err))
			return -1;
	}
	return 0;
}

static const char *final_label(gm_run *r, const gm_view *v)
{
	const char *l = gm_journal_get(&r->journal, "old_label");
	int c = gm_view_find_cert(v, r->order.old_sha256);

	if (c >= 0 && v->certs[c].label && v->certs[c].label[0] &&
	    !strstr(v->certs[c].label, " (replaced)"))
		return v->certs[c].label;
	return l && l[0] ? l : "gmrenew";
}

static int give_final_labels(gm_run *r, const gm_view *v, int c, int k,
			     const char *label, gm_error *err)
{
	if (relabel_key(r, &v->keys[k], label, err))
		return -1;
	if (v->certs[c].label && !strcmp(v->certs[c].label, label))
		return 0;
	r->changed = 1;
	return gm_token_set_label(r->ctx->session, v->certs[c].handle, label,
				  err);
}

/* confirmed: the old pair goes, the new pair gets its final label. */
static int retire(gm_run *r, gm_error *err)
{
	char label[160];
	gm_view *v = gm_run_view(r, err);
	int c, k, ret = -1;

	if (!v)
		return -1;
	c = gm_view_find_cert(v, r->order.cert_sha256);
	k = c >= 0 ? gm_view_find_key(v, v->facts[c].pubkey, 1) : -1;
	if (c < 0 || k < 0)
		return gm_fail(err, GM_EXIT_FAILED,
			       "contact the CA with the update code",
			       "renewal %s is confirmed but its certificate and "
			       "key are not on this token", r->order.code);
	snprintf(label, sizeof(label), "%s", final_label(r, v));
	gm_run_progress(r, GM_PROGRESS_RETIRE, r->ctx->keep_old ?
			N_("Keeping the old certificate and key (relabelled)") :
			N_("Removing the old certificate and key"));
	/* The new pair takes its final label while the old certificate still
	 * shows it, so an interruption never loses the label. */
	if (give_final_labels(r, v, c, k, label, err) ||
	    retire_old(r, v, err) ||
	    remove_stale(r, v, v->facts[c].pubkey, err))
		goto out;
	r->out->new_der = (unsigned char *)gm_xmemdup(v->certs[c].der,
						     v->certs[c].der_len);
	r->out->new_der_len = v->certs[c].der_len;
	ret = r->changed ? journal_step(r, GM_STEP_RETIRED, err) : 0;
out:
	gm_run_view_drop(r);	/* objects were removed and relabelled */
	return ret;
}

int gm_run_drive(gm_run *r, gm_error *err)
{
	int guard;

	for (guard = 0; guard < 6; guard++) {
		const char *s = r->order.state;

		if (!strcmp(s, "started") || !strcmp(s, "csr_received")) {
			if (request_certificate(r, err))
				return -1;
		} else if (!strcmp(s, "issued") ||
			   (!strcmp(s, "expired") && r->order.cert)) {
			if (finish_issued(r, err))
				return -1;
		} else if (!strcmp(s, "confirmed")) {
			return retire(r, err);
		} else {
			return gm_fail(err, GM_EXIT_FAILED,
				       "start a new renewal with 'gmrenew renew'",
				       "renewal %s is %s and cannot be finished",
				       r->order.code, s);
		}
	}
	return gm_fail(err, GM_EXIT_FAILED, "contact the CA with the update code",
		       "renewal %s did not reach an end (state '%s')",
		       r->order.code, r->order.state);
}
