/*
 * encryption.c - the encryption half of a double certificate (签名证书 +
 * 加密证书, docs/protocol.md section 3.8): before anything changes, the
 * checks of the encryption part the service sent (its certificate and the
 * enveloped key made by the CA's key management centre); then, after the
 * signing certificate is installed, two steps of their own: the envelope
 * imported into the new container (the token opens it with the new
 * signing key; the host only passes it through) and the encryption
 * certificate stored next to it. Each looks at the token first and does
 * only what is missing, so renew-with-code resumes from any point.
 *
 * Faults of the service (a missing part, an envelope for another key or
 * broken, a certificate that does not match the envelope) are refused
 * with nothing of the renewal left installed and the old container, both
 * pairs, as it was.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "engine.h"

#define SM2_CIPHER_LEN 113	/* C1 (65) || C3 (32) || C2 (16) */

/* ---- what the token shows ---- */

/* The certificate's container holds an encryption pair (a certificate or
 * a key of the encryption role). */
static int holds_encryption(const gm_token_snapshot *v,
			    const gm_snapshot_cert *c)
{
	size_t i;

	if (!c->container || !c->container[0])
		return 0;
	if (c->partner >= 0)
		return 1;
	for (i = 0; i < v->n_keys; i++)
		if (v->keys[i].role == GM_ROLE_ENCRYPTION &&
		    v->keys[i].container &&
		    !strcmp(v->keys[i].container, c->container))
			return 1;
	return 0;
}

int gm_run_is_double(const gm_run *r)
{
	const char *j = gm_journal_get(&r->journal, "double_certificate");

	return r->order.enc || (j && !strcmp(j, "true")) ||
	       gm_journal_get(&r->journal, "enc_sha256");
}

static int needs_skf(const gm_run *r, const char *subject, gm_error *err)
{
	const gm_profile *p = r->ctx->profile;

	gm_fail(err, GM_EXIT_ENV,
		"renew through the token's SKF interface: add '--api skf' (or "
		"set '[token] api = skf'); nothing was installed and the old "
		"certificates stay usable",
		"'%s' is a double certificate: its encryption key pair comes "
		"from the CA's key management centre as an enveloped key; "
		"token profile '%s' names no unwrap mechanism "
		"(envelope_unwrap_sm2, envelope_unwrap_sm4), so this driver's "
		"PKCS#11 interface cannot import it", subject,
		p ? p->name : "");
	return gm_error_set_reason(err, GM_REASON_NEEDS_SKF);
}

/* ---- before start (renew) ---- */

int gm_enc_before_start(gm_run *r, const gm_snapshot_cert *old,
			const gm_ca_record *rec, gm_error *err)
{
	gm_token_snapshot *v = gm_run_view(r, err);
	int holds, dbl;

	if (!v)
		return -1;
	holds = holds_encryption(v, old);
	dbl = holds || (rec->v11 && rec->double_cert);
	r->double_expected = rec->v11 && rec->double_cert;
	if (dbl && !gm_session_can_import_envelope(r->ctx->session))
		return needs_skf(r, old->parsed ? old->facts.subject : "",
				 err);
	if (holds && !rec->v11) {
		gm_fail(err, GM_EXIT_SERVICE,
			"nothing was started; the token was not changed; ask "
			"the CA for a service that renews double certificates "
			"(protocol 1.1)",
			"the CA's service speaks protocol 1.0 and cannot renew "
			"encryption certificates, and the container of '%s' "
			"holds an encryption key pair that renewing the signing "
			"certificate alone would delete",
			old->parsed ? old->facts.subject : "");
		return gm_error_set_reason(err, GM_REASON_ENCRYPTION_PART);
	}
	return 0;
}

/* ---- checks of the encryption part (before anything is installed) ---- */

static int part_fault(gm_run *r, gm_exit code, const char *why, gm_error *err)
{
	gm_fail(err, code,
		"nothing was installed; the old certificates stay usable; "
		"report this to the CA with the update code",
		"the encryption part of renewal %s is refused: %s",
		r->order.code, gm_text(why));
	return gm_error_set_reason(err, GM_REASON_ENCRYPTION_PART);
}

static int envelope_form(gm_run *r, const gm_enc_part *e, gm_error *err)
{
	const char *why = NULL;

	if (e->version != 1)
		why = N_("enveloped_key.version is not 1");
	else if (strcmp(e->sym_alg, "sm4-ecb"))
		why = N_("enveloped_key.symmetric_algorithm is not "
			 "\"sm4-ecb\"");
	else if (e->bits != 256)
		why = N_("enveloped_key.bits is not 256");
	else if (strcmp(e->recipient_sha256, r->order.cert_sha256))
		why = N_("the enveloped key is addressed to another "
			 "certificate than the new signing certificate");
	else if (e->sym_key_len != SM2_CIPHER_LEN || e->sym_key[0] != 0x04)
		why = N_("encrypted_symmetric_key is not 113 bytes "
			 "C1 || C3 || C2");
	else if (e->priv_len != 32)
		why = N_("encrypted_private_key is not 32 bytes");
	else if (e->pub_len != 65 || e->pub[0] != 0x04)
		why = N_("public_key is not a 65-byte uncompressed point");
	return why ? part_fault(r, GM_EXIT_SERVICE, why, err) : 0;
}

/* A point of the envelope on the SM2 curve, as a key (caller frees). */
static EVP_PKEY *sm2_point(gm_run *r, const unsigned char *p, const char *what,
			   gm_error *err)
{
	EVP_PKEY *k = gm_pubkey_from_ec_point(NULL, 0, p, 65, NULL);
	char why[96];

	if (!k) {
		snprintf(why, sizeof(why), gm_text(N_("%s is not a point on "
			 "the SM2 curve")), what);
		part_fault(r, GM_EXIT_SERVICE, why, err);
	}
	return k;
}

static STACK_OF(X509) *chain_of(const gm_order *o)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	size_t i;

	for (i = 0; sk && i < o->n_chain; i++) {
		const unsigned char *p = o->chain[i];
		X509 *x = d2i_X509(NULL, &p, (long)o->chain_lens[i]);

		if (x)
			sk_X509_push(sk, x);
	}
	return sk;
}

/* The encryption certificate: chain with the SM2 ID on every link,
 * validity, its not_after, the signing certificate's subject, the
 * profile of an encryption certificate. */
static int enc_cert_checks(gm_run *r, const gm_cert_facts *ec,
			   const gm_cert_facts *sign, gm_error *err)
{
	STACK_OF(X509) *chain;
	gm_error e;
	int ret;

	if (gm_cert_encryption_profile(ec, &e))
		return part_fault(r, GM_EXIT_VERIFY, e.msg, err);
	if (ec->subject_der_len != sign->subject_der_len ||
	    memcmp(ec->subject_der, sign->subject_der, sign->subject_der_len))
		return part_fault(r, GM_EXIT_VERIFY, N_("the encryption "
				  "certificate's subject is not the signing "
				  "certificate's"), err);
	if (ec->not_after != r->order.enc->not_after)
		return part_fault(r, GM_EXIT_SERVICE,
				  N_("encryption.not_after is not the "
				     "certificate's notAfter"), err);
	if (r->ctx->now < ec->not_before || r->ctx->now > ec->not_after)
		return part_fault(r, GM_EXIT_VERIFY, N_("the encryption "
				  "certificate is not valid now"), err);
	chain = chain_of(&r->order);
	ret = gm_chain_verify(ec->x509, chain, r->ctx->chain_bundle,
			      r->ctx->now, &e);
	sk_X509_pop_free(chain, X509_free);
	if (ret)
		return part_fault(r, GM_EXIT_VERIFY, e.msg, err);
	return 0;
}

/* public_key: on the curve, the certificate's key, neither signing key. */
static int envelope_key_checks(gm_run *r, const gm_cert_facts *ec,
			       EVP_PKEY *newkey, gm_error *err)
{
	const gm_enc_part *e = r->order.enc;
	EVP_PKEY *pub = sm2_point(r, e->pub, "public_key", err);
	EVP_PKEY *c1 = pub ? sm2_point(r, e->sym_key, "C1", err) : NULL;
	const char *oldsha = r->old_sha256;
	gm_token_snapshot *v = r->view;
	long oc = v ? gm_snapshot_find_cert(v, oldsha) : -1;
	int ret = -1;

	if (!pub || !c1)
		goto out;
	if (gm_pubkey_equal(pub, ec->pubkey) != 1)
		part_fault(r, GM_EXIT_SERVICE,
			   N_("the encryption certificate is not for the "
			      "enveloped key's public key"), err);
	else if (gm_pubkey_equal(pub, newkey) == 1 ||
		 (oc >= 0 && v->certs[oc].parsed &&
		  gm_pubkey_equal(pub, v->certs[oc].facts.pubkey) == 1))
		part_fault(r, GM_EXIT_SERVICE,
			   N_("the enveloped key's public key is a signing "
			      "key"), err);
	else
		ret = 0;
out:
	EVP_PKEY_free(pub);
	EVP_PKEY_free(c1);
	return ret;
}

static int missing_part(gm_run *r, const gm_token_snapshot *v, gm_error *err)
{
	long oc = gm_snapshot_find_cert(v, r->old_sha256);

	if ((r->order.v11 && r->order.double_cert) || gm_run_is_double(r))
		return part_fault(r, GM_EXIT_SERVICE, N_("the certificate is a "
				  "double certificate but the answer carries "
				  "no encryption part"), err);
	if (oc >= 0 && holds_encryption(v, &v->certs[oc]))
		return part_fault(r, GM_EXIT_SERVICE, N_("the answer carries no "
				  "encryption part, and the old container "
				  "holds an encryption key pair that retiring "
				  "it would delete"), err);
	return 0;
}

int gm_enc_verify(gm_run *r, const gm_token_snapshot *v,
		  const gm_cert_facts *sign, EVP_PKEY *newkey, gm_error *err)
{
	const gm_enc_part *e = r->order.enc;
	gm_cert_facts ec;
	gm_error pe;
	int ret;

	if (!e)
		return missing_part(r, v, err);
	if (!r->order.double_cert)
		return part_fault(r, GM_EXIT_SERVICE, N_("an encryption part in "
				  "an answer that says double_certificate "
				  "false"), err);
	if (!gm_session_can_import_envelope(r->ctx->session))
		return needs_skf(r, sign->subject, err);
	if (envelope_form(r, e, err))
		return -1;
	if (gm_cert_facts_parse(e->cert, e->cert_len, &ec, &pe))
		return part_fault(r, GM_EXIT_SERVICE, pe.msg, err);
	ret = enc_cert_checks(r, &ec, sign, err) ||
	      envelope_key_checks(r, &ec, newkey, err) ? -1 : 0;
	gm_cert_facts_release(&ec);
	if (!ret)
		gm_journal_set(&r->journal, "double_certificate", "true");
	return ret;
}

/* ---- the steps ---- */

static void envelope_of(const gm_enc_part *e, gm_enveloped_key *out)
{
	memset(out, 0, sizeof(*out));
	out->version = 1;
	out->sym_alg_id = GM_SGD_SM4_ECB;
	out->bits = 256;
	memcpy(out->enc_priv, e->priv, sizeof(out->enc_priv));
	memcpy(out->pub, e->pub, sizeof(out->pub));
	memcpy(out->cipher, e->sym_key, sizeof(out->cipher));
}

static int same_point(EVP_PKEY *k, const unsigned char *p)
{
	EVP_PKEY *want = gm_pubkey_from_ec_point(NULL, 0, p, 65, NULL);
	int same = want && k && gm_pubkey_equal(k, want) == 1;

	EVP_PKEY_free(want);
	return same;
}

/* A refused envelope leaves nothing of the renewal: the new container
 * (the pending pair and its unconfirmed signing certificate) goes, the
 * old one stays as it was. Where objects go one by one (PKCS#11), the
 * certificate first. */
static int undo_new(gm_run *r, const gm_snapshot_key *k)
{
	gm_token_snapshot *v = r->view;
	long c = v ? gm_snapshot_find_cert(v, r->order.cert_sha256) : -1;
	gm_error e;

	if (c >= 0 && !gm_session_removes_containers(r->ctx->session) &&
	    gm_token_remove(r->ctx->session, v->certs[c].ref, &e))
		gm_debug("removing the new certificate after a refused "
			 "envelope: %s", e.msg);
	if (gm_token_remove(r->ctx->session, k->ref, &e))
		gm_debug("removing the new container after a refused "
			 "envelope: %s", e.msg);
	gm_run_view_drop(r);
	r->changed = 1;
	return -1;
}

/* The index of the encryption pair pub in the container of signing
 * pair k in the snapshot, or -1. */
static long enc_key_of(const gm_token_snapshot *v, const gm_snapshot_key *k,
		       EVP_PKEY *pub)
{
	size_t i;

	for (i = 0; i < v->n_keys; i++)
		if (v->keys[i].role == GM_ROLE_ENCRYPTION && v->keys[i].pubkey &&
		    v->keys[i].container && k->container &&
		    !strcmp(v->keys[i].container, k->container) &&
		    gm_pubkey_equal(v->keys[i].pubkey, pub) == 1)
			return (long)i;
	return -1;
}

static int has_enc_key(const gm_token_snapshot *v, const gm_snapshot_key *k,
		       EVP_PKEY *pub)
{
	return enc_key_of(v, k, pub) >= 0;
}

/* The imported pair, added to the run's snapshot (the token's
 * encryption pair of the container of signing pair p). */
static int add_enc_key(gm_run *r, gm_token_snapshot *v, int p, EVP_PKEY *pub,
		       gm_error *err)
{
	gm_snapshot_key k;

	if (gm_token_enc_pair(r->ctx->session, &v->keys[p], pub, &k, err))
		return -1;
	gm_snapshot_add_key(v, &k);	/* copies */
	gm_snapshot_key_release(&k);
	return 0;
}

static int record_enc_key(gm_run *r, EVP_PKEY *pub)
{
	unsigned char *pt = NULL;
	size_t n = EVP_PKEY_get1_encoded_public_key(pub, &pt);
	char *hex = n ? gm_hex(pt, n) : NULL;

	if (hex)
		gm_journal_set(&r->journal, "enc_public_key", hex);
	free(hex);
	OPENSSL_free(pt);
	return hex ? 0 : -1;
}

/* The envelope imported into the container of pending pair p; *pub gets
 * the encryption public key the token then reports, which must be the
 * envelope's. A refused envelope undoes the new container. */
static int import_envelope(gm_run *r, gm_token_snapshot *v, int p,
			   EVP_PKEY **pub, gm_error *err)
{
	const gm_enc_part *e = r->order.enc;
	gm_enveloped_key env;
	int ret;

	gm_run_progress(r, GM_STEP_ENC_KEY);
	envelope_of(e, &env);
	ret = gm_token_import_envelope(r->ctx->session, &v->keys[p], &env, pub,
				       err);
	memset(&env, 0, sizeof(env));
	r->changed = 1;
	if (ret && err->reason == GM_REASON_ENCRYPTION_PART)
		return undo_new(r, &v->keys[p]);
	if (ret)	/* the token failed: the next run imports it */
		return -1;
	if (!same_point(*pub, e->pub)) {
		EVP_PKEY_free(*pub);
		*pub = NULL;
		part_fault(r, GM_EXIT_SERVICE,
			   N_("after the import the token's encryption public "
			      "key is not the enveloped key's"), err);
		return undo_new(r, &v->keys[p]);
	}
	return add_enc_key(r, v, p, *pub, err);
}

int gm_step_enc_key(gm_run *r, gm_error *err)
{
	const gm_enc_part *e = r->order.enc;
	gm_token_snapshot *v;
	unsigned char *der = NULL;
	size_t len = 0;
	EVP_PKEY *pub = NULL;
	int p, ret;

	if (!e)
		return 0;
	if (gm_run_pending_pair(r, &v, &p, err) ||
	    gm_token_read_encryption(r->ctx->session, &v->keys[p], &der, &len,
				     &pub, err))
		return -1;
	free(der);
	if (!same_point(pub, e->pub)) {	/* not imported yet */
		EVP_PKEY_free(pub);
		pub = NULL;
		if (import_envelope(r, v, p, &pub, err)) {
			EVP_PKEY_free(pub);
			return -1;
		}
	} else if (!has_enc_key(v, &v->keys[p], pub) &&
		   add_enc_key(r, v, p, pub, err)) {
		/* imported by an interrupted run: the snapshot, read without
		 * an encryption certificate there, does not show it */
		EVP_PKEY_free(pub);
		return -1;
	}
	ret = record_enc_key(r, pub);
	EVP_PKEY_free(pub);
	if (ret)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "cannot encode the encryption public key");
	return 0;
}

/* The encryption certificate in the container of key k, or -1. */
static int find_enc_cert(const gm_token_snapshot *v, const gm_snapshot_key *k,
			 const char *sha256)
{
	size_t i;

	for (i = 0; i < v->n_certs; i++)
		if (v->certs[i].parsed &&
		    v->certs[i].role == GM_ROLE_ENCRYPTION &&
		    !strcmp(v->certs[i].facts.sha256_hex, sha256) &&
		    v->certs[i].container && k->container &&
		    !strcmp(v->certs[i].container, k->container))
			return (int)i;
	return -1;
}

static int read_back(gm_run *r, gm_token_ref h, gm_error *err)
{
	const gm_enc_part *e = r->order.enc;
	unsigned char *back = NULL;
	size_t back_len = 0;
	int same;

	if (gm_token_read_cert(r->ctx->session, h, &back, &back_len, err))
		return gm_error_prefix(err, "reading the encryption certificate "
				       "back");
	same = back_len == e->cert_len && !memcmp(back, e->cert, back_len);
	free(back);
	if (!same)
		return gm_fail(err, GM_EXIT_FAILED,
			       "run 'gmrenew renew-with-code CODE' again; the "
			       "old certificates stay usable",
			       "the encryption certificate read back from the "
			       "token differs from the one written");
	return 0;
}

int gm_step_enc_cert(gm_run *r, gm_error *err)
{
	const gm_enc_part *e = r->order.enc;
	const char *imported = gm_journal_get(&r->journal, "enc_public_key");
	gm_token_snapshot *v;
	gm_token_ref h;
	EVP_PKEY *ep;
	int p, c;
	long ek;

	if (!e)
		return 0;
	if (!imported)
		return gm_fail(err, GM_EXIT_FAILED, "report this with the "
			       "output of -vv; the old certificates stay usable",
			       "the encryption certificate of renewal %s comes "
			       "before its key was imported", r->order.code);
	if (gm_run_pending_pair(r, &v, &p, err))
		return -1;
	c = find_enc_cert(v, &v->keys[p], e->cert_sha256);
	if (c >= 0) {
		h = v->certs[c].ref;
	} else {
		gm_run_progress(r, GM_STEP_ENC_CERT);
		if (gm_token_store_enc_cert(r->ctx->session, &v->keys[p],
					    e->cert, e->cert_len, &h, err))
			return gm_error_prefix(err, "installing the encryption "
					       "certificate");
		r->changed = 1;
		ep = gm_pubkey_from_ec_point(NULL, 0, e->pub, 65, NULL);
		ek = ep ? enc_key_of(v, &v->keys[p], ep) : -1;
		EVP_PKEY_free(ep);
		if (gm_snapshot_add_cert(v, h, &v->keys[ek >= 0 ? ek : p],
					 v->keys[p].label, e->cert,
					 e->cert_len, err))
			return -1;
	}
	if (read_back(r, h, err))
		return -1;
	gm_journal_set(&r->journal, "enc_sha256", e->cert_sha256);
	return 0;
}

/* ---- confirm and retire ---- */

int gm_enc_ready(gm_run *r, gm_error *err)
{
	const char *mine = gm_journal_get(&r->journal, "enc_sha256");

	if (!r->order.enc || (mine && !strcmp(mine, r->order.enc->cert_sha256)))
		return 0;
	return gm_fail(err, GM_EXIT_FAILED,
		       "run 'gmrenew renew-with-code CODE' again; the old "
		       "certificates stay usable",
		       "the encryption certificate of renewal %s is not "
		       "installed yet", r->order.code);
}

int gm_enc_new_pair_there(gm_run *r, const gm_token_snapshot *v,
			  const gm_snapshot_key *newk)
{
	const char *sha = gm_journal_get(&r->journal, "enc_sha256");
	int c;
	size_t i;

	if (!sha)
		return 1;
	c = find_enc_cert(v, newk, sha);
	if (c < 0)
		return 0;
	for (i = 0; i < v->n_keys; i++)
		if (v->keys[i].role == GM_ROLE_ENCRYPTION && v->keys[i].pubkey &&
		    v->keys[i].container && newk->container &&
		    !strcmp(v->keys[i].container, newk->container) &&
		    gm_pubkey_equal(v->keys[i].pubkey,
				    v->certs[c].facts.pubkey) == 1)
			return 1;
	return 0;
}

int gm_enc_keep_old(gm_run *r, const gm_token_snapshot *v,
		    const gm_snapshot_cert *old)
{
	return !gm_journal_get(&r->journal, "enc_sha256") &&
	       holds_encryption(v, old);
}

/* ---- what goes one by one where the API removes objects alone ---- */

int gm_enc_same_container(const char *container, const gm_snapshot_key *k)
{
	return container && container[0] && k->container &&
	       !strcmp(container, k->container);
}

/* one encryption object of newk's container: counted, and renamed to label
 * unless count is set or it has that label already; 1 counted, 0 not */
static int relabel_object(gm_run *r, int role, const char *container,
			  const char *cur, gm_token_ref ref,
			  const gm_snapshot_key *newk, const char *label,
			  int count, gm_error *err)
{
	if (role != GM_ROLE_ENCRYPTION ||
	    !gm_enc_same_container(container, newk) ||
	    (cur && !strcmp(cur, label)))
		return 0;
	r->changed |= !count;
	if (!count && gm_token_relabel(r->ctx->session, ref, label, err))
		return -1;
	return 1;
}

int gm_enc_relabel(gm_run *r, const gm_token_snapshot *v,
		   const gm_snapshot_key *newk, const char *label, int count,
		   gm_error *err)
{
	size_t i;
	int n = 0, one;

	if (!gm_session_can_relabel(r->ctx->session))
		return 0;
	for (i = 0; i < v->n_keys; i++) {
		const gm_snapshot_key *k = &v->keys[i];

		one = relabel_object(r, k->role, k->container, k->label, k->ref,
				     newk, label, count, err);
		if (one < 0)
			return -1;
		n += one;
	}
	for (i = 0; i < v->n_certs; i++) {
		const gm_snapshot_cert *c = &v->certs[i];

		one = relabel_object(r, c->role, c->container, c->label, c->ref,
				     newk, label, count, err);
		if (one < 0)
			return -1;
		n += one;
	}
	return n;
}

int gm_enc_retire_old(gm_run *r, const gm_token_snapshot *v,
		      const gm_snapshot_cert *old, const gm_snapshot_key *newk,
		      gm_error *err)
{
	size_t i;

	if (gm_session_removes_containers(r->ctx->session) ||
	    !old->container || !old->container[0] ||
	    gm_enc_same_container(old->container, newk))
		return 0;
	/* the certificate first: a key left alone is harmless */
	if (old->partner >= 0) {
		r->changed = 1;
		if (gm_token_remove(r->ctx->session, v->certs[old->partner].ref,
				    err))
			return -1;
	}
	for (i = 0; i < v->n_keys; i++) {
		if (v->keys[i].role != GM_ROLE_ENCRYPTION ||
		    !v->keys[i].container ||
		    strcmp(v->keys[i].container, old->container))
			continue;
		r->changed = 1;
		if (gm_token_remove(r->ctx->session, v->keys[i].ref, err))
			return -1;
	}
	return 0;
}

void gm_enc_result(gm_run *r, const gm_token_snapshot *v)
{
	long c = gm_snapshot_find_cert(v, gm_journal_get(&r->journal,
							 "enc_sha256"));

	if (c < 0 || r->out->enc_der)
		return;
	r->out->enc_der = (unsigned char *)gm_xmemdup(v->certs[c].der,
						      v->certs[c].der_len);
	r->out->enc_der_len = v->certs[c].der_len;
}
