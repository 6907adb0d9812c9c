/*
 * engine.c - the renewal as one table (steps[] below): each step names the
 * order state it acts in, its handler, its progress number and text, and
 * the fact it leaves in the journal. gm_run_drive() runs the steps of the
 * order's current state in order; each handler first looks at the token and
 * the order, so that it can be run again after any interruption: it does
 * only what is missing. After each step the journal is written and a stop
 * asked for by the user is honoured.
 *
 * The old pair is never touched before the order is confirmed, which happens
 * only after the new certificate was installed and read back.
 */
#include <string.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/random.h>

#include "engine.h"

static int step_key(gm_run *r, gm_error *err);
static int step_request(gm_run *r, gm_error *err);
static int step_verify(gm_run *r, gm_error *err);
static int step_install(gm_run *r, gm_error *err);
static int step_confirm(gm_run *r, gm_error *err);
static int step_retire(gm_run *r, gm_error *err);

#define IN(state) (1u << (state))
#define REQUESTING (IN(GM_ORDER_STARTED) | IN(GM_ORDER_CSR_RECEIVED))

/* The renewal. Rows without a state run before the service has an order
 * (renew.c); rows sharing a progress number are two wordings of one step. */
static const gm_step_row steps[GM_STEP_COUNT] = {
	[GM_STEP_CHECK] = { 0, NULL, 1,
		N_("Checking the certificate with the CA's service"), NULL },
	[GM_STEP_STATUS] = { 0, NULL, 1,
		N_("Asking the service for the state of the renewal"), NULL },
	[GM_STEP_START] = { 0, NULL, 2,
		N_("Starting the renewal with the service"), "update_code" },
	[GM_STEP_KEY] = { REQUESTING, step_key, 3,
		N_("Generating the new key pair on the token (this can take "
		"several seconds; do not unplug the Ekey)"), "new_id" },
	[GM_STEP_REQUEST] = { REQUESTING, step_request, 4,
		N_("Requesting the new certificate (CSR signed on the token)"),
		NULL },
	[GM_STEP_VERIFY] = { IN(GM_ORDER_ISSUED), step_verify, 5,
		N_("Verifying the new certificate (chain, validity, key, "
		"subject, about 5 years more)"), NULL },
	[GM_STEP_INSTALL] = { IN(GM_ORDER_ISSUED), step_install, 6,
		N_("Installing the new certificate next to its key"),
		"new_sha256" },
	[GM_STEP_ENC_KEY] = { IN(GM_ORDER_ISSUED), gm_step_enc_key, 7,
		N_("Importing the encryption key pair the CA's key management "
		"centre sent (opened by the token with the new key)"), NULL },
	[GM_STEP_ENC_CERT] = { IN(GM_ORDER_ISSUED), gm_step_enc_cert, 8,
		N_("Installing the encryption certificate next to it"), NULL },
	[GM_STEP_CONFIRM] = { IN(GM_ORDER_ISSUED), step_confirm, 9,
		N_("Confirming the installation with the service"), NULL },
	[GM_STEP_RETIRE] = { IN(GM_ORDER_CONFIRMED), step_retire, 10,
		N_("Removing the old certificate and key"), "finished" },
	[GM_STEP_KEEP_OLD] = { 0, NULL, 10,
		N_("Keeping the old certificate and key (relabelled)"),
		"finished" },
};

const gm_step_row *gm_step_of(gm_step s)
{
	return &steps[s < GM_STEP_COUNT ? s : GM_STEP_CHECK];
}

/* The encryption steps count only in a double-certificate renewal. */
#define ENC_STEPS 2

void gm_run_progress(gm_run *r, gm_step step)
{
	int total = 0, number = gm_step_of(step)->progress;
	int enc_first = steps[GM_STEP_ENC_KEY].progress;
	size_t i;

	for (i = 0; i < GM_STEP_COUNT; i++)
		if (steps[i].progress > total)
			total = steps[i].progress;
	if (!gm_run_is_double(r)) {
		total -= ENC_STEPS;
		if (number >= enc_first)
			number -= ENC_STEPS;
	}
	if (r->ctx->hooks.progress)
		r->ctx->hooks.progress(r->ctx->hooks.ctx, number, total,
				       gm_step_of(step)->text);
}

gm_token_snapshot *gm_run_view(gm_run *r, gm_error *err)
{
	if (!r->view) {
		if (gm_token_snapshot_read(r->ctx->session, &r->own_view, err))
			return NULL;
		r->view = &r->own_view;
	}
	return r->view;
}

void gm_run_view_drop(gm_run *r)
{
	if (r->view == &r->own_view)
		gm_token_snapshot_release(&r->own_view);
	r->view = NULL;
}

/* An answer about another renewal than the one this run drives. */
static int foreign_answer(gm_run *r, const gm_order *fresh, gm_error *err)
{
	if (r->order.code[0] && strcmp(fresh->code, r->order.code)) {
		gm_fail(err, GM_EXIT_SERVICE,
			"nothing was changed; report this to the CA",
			"the service answered for renewal %s instead of %s",
			fresh->code, r->order.code);
		return gm_error_set_reason(err, GM_REASON_WRONG_ORDER);
	}
	if (r->old_sha256[0] && strcmp(fresh->old_sha256, r->old_sha256)) {
		gm_fail(err, GM_EXIT_SERVICE,
			"nothing was changed; the old certificate stays in use; "
			"report this to the CA",
			"the service's answer names another certificate being "
			"renewed (SHA-256 %s) than the one this renewal started "
			"with (%s)", fresh->old_sha256, r->old_sha256);
		return gm_error_set_reason(err, GM_REASON_OLD_CERTIFICATE_CHANGED);
	}
	return 0;
}

int gm_run_set_order(gm_run *r, gm_order *fresh, gm_error *err)
{
	if (foreign_answer(r, fresh, err)) {
		gm_order_release(fresh);
		return -1;
	}
	gm_order_release(&r->order);
	r->order = *fresh;
	memset(fresh, 0, sizeof(*fresh));
	if (!r->old_sha256[0])
		snprintf(r->old_sha256, sizeof(r->old_sha256), "%s",
			 r->order.old_sha256);
	snprintf(r->out->state, sizeof(r->out->state), "%s",
		 gm_order_state_name(r->order.state));
	gm_run_issued_drop(r);	/* the facts were of the previous answer */
	return 0;
}

int gm_run_interrupted(gm_run *r, gm_error *err)
{
	const gm_renewal_hooks *h = &r->ctx->hooks;

	if (!h->interrupted || !h->interrupted(h->ctx))
		return 0;
	gm_fail(err, GM_EXIT_INTERRUPTED, NULL,
		"interrupted: the renewal stopped at a safe point");
	return gm_error_set_reason(err, GM_REASON_INTERRUPTED);
}

int gm_run_step_done(gm_run *r, gm_error *err)
{
	if (gm_journal_write(&r->journal, err))
		return -1;
	return gm_run_interrupted(r, err);
}

/* One row of the table: its handler, the fact it must have left in the
 * journal, then the journal written and a stop. */
static int run_step(gm_run *r, gm_step step, gm_error *err)
{
	const char *fact = steps[step].journal;

	if (steps[step].run(r, err))
		return -1;
	if (fact && !gm_journal_get(&r->journal, fact))
		return gm_fail(err, GM_EXIT_FAILED, "report this with the output "
			       "of -vv; the old certificate stays usable",
			       "step %d of renewal %s left no '%s' in the "
			       "journal", steps[step].progress, r->order.code,
			       fact);
	return gm_run_step_done(r, err);
}

void gm_run_issued_drop(gm_run *r)
{
	if (r->have_issued)
		gm_cert_facts_release(&r->issued);
	r->have_issued = 0;
}

/* The facts of the certificate the service issued, parsed once per
 * answer. */
static const gm_cert_facts *issued_cert(gm_run *r, gm_error *err)
{
	if (r->have_issued)
		return &r->issued;
	if (!r->order.cert) {
		gm_fail(err, GM_EXIT_SERVICE, "try again later",
			"the service reports renewal %s as issued but sent no "
			"certificate", r->order.code);
		return NULL;
	}
	if (gm_cert_facts_parse(r->order.cert, r->order.cert_len, &r->issued,
				err)) {
		gm_error_prefix(err, "the certificate from the service");
		return NULL;
	}
	r->have_issued = 1;
	return &r->issued;
}

void gm_run_journal_old(gm_run *r, const gm_snapshot_cert *obj,
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
static void pop_key(gm_run *r, const gm_snapshot_key *k, gm_key_signer *signer,
		    gm_pop_key *pop)
{
	*signer = (gm_key_signer){ r->ctx->session, k->ref };
	pop->pub = k->pubkey;
	pop->sign = gm_key_sign_cb;
	pop->sign_ctx = signer;
	if (gm_sig_scheme_for_key(k->pubkey, &pop->scheme, NULL))
		pop->scheme = r->ctx->profile->scheme;
}

/* The old certificate's key pair, needed to prove possession. */
static int old_key(gm_run *r, gm_token_snapshot *v, int *key_index,
		   gm_error *err)
{
	int c = (int)gm_snapshot_find_cert(v, r->old_sha256);
	long k;

	if (c < 0)
		return gm_fail(err, GM_EXIT_ENV,
			       "check which Ekey is inserted: it must be the one "
			       "the renewal was started with",
			       "the certificate being renewed (SHA-256 %s) is "
			       "not on this token", r->old_sha256);
	*key_index = -1;
	if (gm_snapshot_key_of(v, v->certs[c].facts.pubkey, &k) == GM_KEY_FOUND)
		*key_index = (int)k;
	if (*key_index < 0)
		return gm_fail(err, GM_EXIT_FAILED,
			       "the certificate cannot be renewed online without "
			       "its key; contact the CA",
			       "the token holds no private key for the "
			       "certificate being renewed ('%s')",
			       v->certs[c].facts.subject);
	return 0;
}

/* The token cannot rename (SKF: a container's name is fixed when it is
 * made): the pending pair is known by its id alone, never by a label. */
static int names_fixed(const gm_run *r)
{
	return !gm_session_can_relabel(r->ctx->session);
}

/* The id of the pending pair: where names are fixed, the journal's when
 * it has one (a container made under it before an interruption, still
 * without its key, is then used, not left behind); else a new one. */
static int pending_id(gm_run *r, unsigned char id[16])
{
	const char *hex = gm_journal_get(&r->journal, "new_id");
	unsigned char *raw = NULL;
	size_t len = 0;
	int reuse = names_fixed(r) && hex && !gm_unhex(hex, &raw, &len) &&
		    len == 16;

	if (reuse)
		memcpy(id, raw, 16);
	free(raw);
	if (reuse)
		return 0;
	return getrandom(id, 16, 0) == 16 ? 0 : -1;
}

static int generate_pending(gm_run *r, gm_snapshot_key *out, gm_error *err)
{
	unsigned char id[16];
	char *hex;

	if (pending_id(r, id))
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "cannot get random bytes for the key id");
	hex = gm_hex(id, sizeof(id));
	/* no label to find it by: the journal names it before it exists */
	if (names_fixed(r)) {
		gm_journal_set(&r->journal, "new_id", hex);
		if (gm_journal_write(&r->journal, err)) {
			free(hex);
			return -1;
		}
	}
	gm_run_progress(r, GM_STEP_KEY);
	if (gm_token_new_keypair(r->ctx->session, id, sizeof(id), r->pending,
				 out, err)) {
		free(hex);
		return gm_error_prefix(err, "generating the new key pair");
	}
	r->changed = 1;
	if (r->view)
		gm_snapshot_add_key(r->view, out);
	gm_journal_set(&r->journal, "new_id", hex);
	free(hex);
	return 0;
}

/* The CKA_ID of an object, as the journal writes it. */
static int same_id(const unsigned char *id, size_t len, const char *hex)
{
	char *mine;
	int same;

	if (!hex || !id || !len)
		return 0;
	mine = gm_hex(id, len);
	same = !strcasecmp(mine, hex);
	free(mine);
	return same;
}

/* Both objects of a key pair are on the token. */
static int has_both(const gm_snapshot_key *k)
{
	return (k->parts & GM_KEYPAIR_PUBLIC) && (k->parts & GM_KEYPAIR_PRIVATE);
}

/* The pending key pair this renewal generated: its label and, once the
 * journal knows it, its CKA_ID (both objects, public key readable); -1 when
 * it is not on the token. A pair found by its label alone (the journal was
 * not written after the key generation) is adopted into the journal. */
static int find_pending(gm_run *r, const gm_token_snapshot *v)
{
	const char *want = gm_journal_get(&r->journal, "new_id");
	size_t i;

	for (i = v->n_keys; i-- > 0;) {
		const gm_snapshot_key *k = &v->keys[i];

		if (k->role != GM_ROLE_SIGNING)
			continue;	/* an encryption pair never signs */
		if ((!names_fixed(r) &&
		     (!k->label || strcmp(k->label, r->pending))) ||
		    (names_fixed(r) && !want) || !has_both(k) || !k->pubkey)
			continue;
		if (want && !same_id(k->id, k->id_len, want))
			continue;
		if (!want) {
			char *hex = gm_hex(k->id, k->id_len);

			gm_journal_set(&r->journal, "new_id", hex);
			free(hex);
		}
		return (int)i;
	}
	return -1;
}

int gm_run_find_pending(gm_run *r, const gm_token_snapshot *v)
{
	return find_pending(r, v);
}

int gm_run_pending_pair(gm_run *r, gm_token_snapshot **v, int *p,
			gm_error *err)
{
	const char *fix = gm_run_is_double(r) ?
		N_("run 'gmrenew renew-with-code CODE' again; the old "
		   "certificates stay usable") :
		N_("run 'gmrenew renew-with-code CODE' again; the old "
		   "certificate stays usable");

	*v = gm_run_view(r, err);
	if (!*v)
		return -1;
	*p = find_pending(r, *v);
	if (*p >= 0)
		return 0;
	return gm_fail(err, GM_EXIT_FAILED, fix,
		       "the new key pair of renewal %s is not on the token",
		       r->order.code);
}

static int submit_csr(gm_run *r, const gm_snapshot_key *newkey,
		      const gm_snapshot_key *oldkey, gm_error *err)
{
	gm_key_signer nsigner, osigner;
	gm_pop_key npop, opop;
	unsigned char *csr = NULL;
	size_t csr_len = 0;
	gm_order fresh;
	int ret;

	gm_run_progress(r, GM_STEP_REQUEST);
	pop_key(r, newkey, &nsigner, &npop);
	pop_key(r, oldkey, &osigner, &opop);
	if (gm_csr_build(npop.scheme, r->order.subject_der,
			 r->order.subject_der_len, newkey->pubkey,
			 gm_key_sign_cb, &nsigner, &csr, &csr_len, err))
		return gm_error_prefix(err, "building the CSR");
	memset(&fresh, 0, sizeof(fresh));
	ret = gm_service_submit_csr(r->ctx->service, r->order.code, csr,
				    csr_len, &opop, &fresh, err);
	OPENSSL_free(csr);
	if (ret)
		return -1;
	r->changed = 1;
	return gm_run_set_order(r, &fresh, err);
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
	return gm_error_set_reason(err, GM_REASON_SUBJECT_MISMATCH);
}

/* key (started, csr_received): the old pair is there and the service asks
 * for its subject; the pending key pair is on the token (made unless this
 * renewal's is already there). */
static int step_key(gm_run *r, gm_error *err)
{
	gm_token_snapshot *v = gm_run_view(r, err);
	gm_snapshot_key fresh;
	int ok = -1, ret;

	if (!v || old_key(r, v, &ok, err) ||
	    check_subject(r, &v->certs[gm_snapshot_find_cert(v,
				r->old_sha256)].facts, err))
		return -1;
	if (find_pending(r, v) >= 0)
		return 0;
	memset(&fresh, 0, sizeof(fresh));
	ret = generate_pending(r, &fresh, err);	/* added to the view */
	gm_snapshot_key_release(&fresh);
	return ret;
}

/* request (started, csr_received): a CSR signed by the pending key,
 * submitted with proof by the old key. */
static int step_request(gm_run *r, gm_error *err)
{
	gm_token_snapshot *v = gm_run_view(r, err);
	int ok = -1, p = v ? find_pending(r, v) : -1;

	if (!v || old_key(r, v, &ok, err))
		return -1;
	if (p < 0)
		return gm_fail(err, GM_EXIT_FAILED,
			       "run 'gmrenew renew-with-code CODE' again; the "
			       "old certificate stays usable",
			       "the new key pair of renewal %s is not on the "
			       "token", r->order.code);
	return submit_csr(r, &v->keys[p], &v->keys[ok], err);
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
static int old_facts(gm_run *r, const gm_token_snapshot *v, gm_cert_facts *out)
{
	long c = gm_snapshot_find_cert(v, r->old_sha256);
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

static int verify_new(gm_run *r, const gm_token_snapshot *v,
		      const gm_cert_facts *cert,
		      EVP_PKEY *newkey, gm_error *err)
{
	gm_cert_facts prev;
	int have_prev = old_facts(r, v, &prev) == 0, ret;
	STACK_OF(X509) *chain = order_chain(&r->order);
	gm_verify_input in = {
		.cert = cert, .untrusted = chain,
		.ca_bundle = r->ctx->chain_bundle, .now = r->ctx->now,
		.policy = r->ctx->policy, .token = v,
		.expected_key = newkey, .previous = have_prev ? &prev : NULL,
	};

	gm_run_progress(r, GM_STEP_VERIFY);
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
out:
	sk_X509_pop_free(chain, X509_free);
	if (have_prev)
		gm_cert_facts_release(&prev);
	return ret;
}

/* The certificate object with this fingerprint next to the key with this
 * CKA_ID, or -1. */
static int find_cert_on(const gm_token_snapshot *v, const char *sha256,
			const unsigned char *id, size_t id_len)
{
	size_t i;

	for (i = 0; i < v->n_certs; i++)
		if (v->certs[i].parsed &&
		    !strcmp(v->certs[i].facts.sha256_hex, sha256) &&
		    v->certs[i].id_len == id_len &&
		    !memcmp(v->certs[i].id, id, id_len))
			return (int)i;
	return -1;
}

/* Creates the certificate object next to the pending key (unless it is
 * already there) and reads it back. */
static int install(gm_run *r, gm_token_snapshot *v, int k,
		   const gm_cert_facts *cert, gm_error *err)
{
	const gm_snapshot_key *key = &v->keys[k];
	gm_token_ref h;
	unsigned char *back = NULL;
	size_t back_len = 0;
	int c = find_cert_on(v, cert->sha256_hex, key->id, key->id_len), same;

	gm_run_progress(r, GM_STEP_INSTALL);
	if (c >= 0) {
		h = v->certs[c].ref;
	} else {
		if (gm_token_store_cert(r->ctx->session, key, r->pending,
					r->order.cert, r->order.cert_len, &h,
					err))
			return gm_error_prefix(err, "installing the certificate");
		r->changed = 1;
		if (gm_snapshot_add_cert(v, h, key, r->pending, r->order.cert,
					 r->order.cert_len, err))
			return -1;
	}
	/* the read-back of what was written: a targeted read, not a new
	 * snapshot */
	if (gm_token_read_cert(r->ctx->session, h, &back, &back_len, err))
		return gm_error_prefix(err, "reading the certificate back");
	same = back_len == r->order.cert_len &&
	       !memcmp(back, r->order.cert, back_len);
	free(back);
	if (!same)
		return gm_fail(err, GM_EXIT_FAILED,
			       "run 'gmrenew renew-with-code CODE' again; the old "
			       "certificate stays usable",
			       "the certificate read back from the token differs "
			       "from the one written");
	/* Only now does the journal say which certificate gmrenew installed:
	 * the one thing a confirmation may name. */
	gm_journal_set(&r->journal, "new_sha256", cert->sha256_hex);
	return 0;
}

/* A confirmation must be for the certificate gmrenew installed. */
static int check_confirmed(gm_run *r, gm_error *err)
{
	const char *mine = gm_journal_get(&r->journal, "new_sha256");

	if (mine && r->order.state == GM_ORDER_CONFIRMED &&
	    !strcmp(r->order.cert_sha256, mine))
		return 0;
	gm_fail(err, GM_EXIT_SERVICE,
		"nothing was changed; the old certificate stays in use; report "
		"this to the CA with the update code",
		"the service reports renewal %s as %s for a certificate "
		"(SHA-256 %.16s...) that gmrenew did not install on this token",
		r->order.code, gm_order_state_name(r->order.state),
		r->order.cert_sha256[0] ? r->order.cert_sha256 : "none");
	return gm_error_set_reason(err, GM_REASON_CONFIRMED_UNKNOWN_CERTIFICATE);
}

static int confirm(gm_run *r, const gm_snapshot_key *key, gm_error *err)
{
	gm_key_signer signer;
	gm_pop_key pop;
	gm_order fresh;

	gm_run_progress(r, GM_STEP_CONFIRM);
	pop_key(r, key, &signer, &pop);
	memset(&fresh, 0, sizeof(fresh));
	if (gm_service_confirm(r->ctx->service, r->order.code,
			       gm_journal_get(&r->journal, "new_sha256"), &pop,
			       &fresh, err))
		return -1;
	r->changed = 1;
	if (gm_run_set_order(r, &fresh, err) || check_confirmed(r, err))
		return -1;
	return 0;
}

/* The pending key was lost after issuance: a new key, a new CSR, under the
 * same order when the service allows it. */
static int rekey(gm_run *r, gm_error *err)
{
	if (!r->order.rekey_allowed)
		return gm_fail(err, GM_EXIT_FAILED,
			       "contact the CA with the update code",
			       "the key of the issued certificate is not on the "
			       "token and the service does not allow a new key "
			       "for renewal %s", r->order.code);
	return run_step(r, GM_STEP_KEY, err) ||
	       run_step(r, GM_STEP_REQUEST, err) ? -1 : 0;
}

/* The issued certificate and the pending key this renewal made (by its
 * CKA_ID and label), never any other key on the token; -1 with err when
 * either is missing. */
static int issued_pair(gm_run *r, const gm_cert_facts **cert, gm_token_snapshot **v,
		       int *p, gm_error *err)
{
	*cert = issued_cert(r, err);
	if (!*cert)
		return -1;
	return gm_run_pending_pair(r, v, p, err);
}

/* verify (issued): the certificate must be for the pending key; a lost
 * pending key is made again first. */
static int step_verify(gm_run *r, gm_error *err)
{
	const gm_cert_facts *cert = issued_cert(r, err);
	gm_token_snapshot *v = cert ? gm_run_view(r, err) : NULL;
	int p;

	if (!v)
		return -1;
	if (find_pending(r, v) < 0) {
		if (rekey(r, err))
			return -1;
		/* not issued again yet: the driver goes by the new state */
		if (gm_order_acting_state(&r->order) != GM_ORDER_ISSUED)
			return 0;
	}
	if (issued_pair(r, &cert, &v, &p, err) ||
	    verify_new(r, v, cert, v->keys[p].pubkey, err))
		return -1;
	return gm_enc_verify(r, v, cert, v->keys[p].pubkey, err);
}

/* install (issued): next to the pending key, read back. */
static int step_install(gm_run *r, gm_error *err)
{
	const gm_cert_facts *cert;
	gm_token_snapshot *v;
	int p;

	if (issued_pair(r, &cert, &v, &p, err))
		return -1;
	return install(r, v, p, cert, err);
}

/* confirm (issued): proved by the new key. */
static int step_confirm(gm_run *r, gm_error *err)
{
	const gm_cert_facts *cert;
	gm_token_snapshot *v;
	int p;

	if (issued_pair(r, &cert, &v, &p, err) || gm_enc_ready(r, err))
		return -1;
	return confirm(r, &v->keys[p], err);
}

/* ---- confirmed: retire the old pair ----
 *
 * What is removed is decided from this machine's journal and the run's
 * snapshot of the token only (read once, with what this run wrote added):
 * the new pair is the certificate gmrenew installed (journal new_sha256)
 * next to the key it generated (journal new_id); the old pair is the certificate the renewal started with (r->old_sha256) and
 * its key, which must not be the new key. Fingerprints in the service's
 * answers select nothing. */

#define REPLACED " (replaced)"

static int ends_with(const char *s, const char *tail)
{
	size_t n = s ? strlen(s) : 0, t = strlen(tail);

	return n >= t && !strcmp(s + n - t, tail);
}

int gm_label_replaced(const char *label)
{
	return ends_with(label, REPLACED);
}

typedef struct retire_plan {
	int c, k;		/* the new certificate and key in the view */
	int oc;			/* the old certificate, -1 when gone */
	char *label;		/* the final label (owned) */
} retire_plan;

/* The pair gmrenew installed, as the token shows it now. */
static int find_new_pair(gm_run *r, const gm_token_snapshot *v,
			 retire_plan *p)
{
	const char *sha = gm_journal_get(&r->journal, "new_sha256");
	const char *id = gm_journal_get(&r->journal, "new_id");
	size_t i;

	p->c = p->k = -1;
	for (i = 0; sha && id && i < v->n_certs && p->c < 0; i++)
		if (v->certs[i].parsed &&
		    !strcmp(v->certs[i].facts.sha256_hex, sha) &&
		    same_id(v->certs[i].id, v->certs[i].id_len, id))
			p->c = (int)i;
	for (i = 0; p->c >= 0 && i < v->n_keys && p->k < 0; i++)
		if (v->keys[i].role == GM_ROLE_SIGNING &&
		    same_id(v->keys[i].id, v->keys[i].id_len, id) &&
		    has_both(&v->keys[i]) && v->keys[i].pubkey &&
		    gm_pubkey_equal(v->keys[i].pubkey,
				    v->certs[p->c].facts.pubkey) == 1)
			p->k = (int)i;
	return p->c >= 0 && p->k >= 0 &&
	       gm_enc_new_pair_there(r, v, &v->keys[p->k]) ? 0 : -1;
}

static int new_pair_missing(gm_run *r, gm_error *err)
{
	const char *serial = gm_journal_get(&r->journal, "token_serial");

	return gm_fail(err, GM_EXIT_ENV,
		       "nothing was changed; insert the Ekey the renewal was "
		       "started with and run 'gmrenew renew-with-code CODE' "
		       "again",
		       "renewal %s is confirmed but the certificate and key "
		       "gmrenew installed are not on this token (serial %s; "
		       "the renewal was started on serial %s)", r->order.code,
		       r->ctx->token->serial, serial ? serial : "unknown");
}

static const char *final_label(gm_run *r, const gm_token_snapshot *v, int oc)
{
	const char *l = gm_journal_get(&r->journal, "old_label");

	if (oc >= 0 && v->certs[oc].label && v->certs[oc].label[0] &&
	    !ends_with(v->certs[oc].label, REPLACED))
		return v->certs[oc].label;
	return l && l[0] ? l : "gmrenew";
}

/* A key the old certificate's public key names, that is not the new key. */
static int is_old_key(const gm_token_snapshot *v, size_t i, EVP_PKEY *oldpub,
		      const gm_snapshot_key *newk)
{
	const gm_snapshot_key *k = &v->keys[i];

	return k->role == GM_ROLE_SIGNING && k->pubkey &&
	       gm_pubkey_equal(k->pubkey, oldpub) == 1 &&
	       gm_pubkey_equal(k->pubkey, newk->pubkey) != 1 &&
	       !(k->id_len == newk->id_len &&
		 !memcmp(k->id, newk->id, k->id_len));
}

/* Each old key pair as a whole: its private key first (backend.h). */
static int destroy_old_keys(gm_run *r, const gm_token_snapshot *v,
			    EVP_PKEY *oldpub, const gm_snapshot_key *newk,
			    gm_error *err)
{
	size_t i;

	for (i = 0; i < v->n_keys; i++)
		if (is_old_key(v, i, oldpub, newk) &&
		    gm_token_remove(r->ctx->session, v->keys[i].ref, err))
			return -1;
	return 0;
}

static int relabel_key(gm_run *r, const gm_snapshot_key *k, const char *label,
		       gm_error *err)
{
	if (names_fixed(r) || (k->label && !strcmp(k->label, label)))
		return 0;
	r->changed = 1;
	return gm_token_relabel(r->ctx->session, k->ref, label, err);
}

static int retire_old(gm_run *r, const gm_token_snapshot *v,
		      const retire_plan *p, gm_error *err)
{
	const gm_snapshot_cert *old;
	const gm_snapshot_key *newk = &v->keys[p->k];
	char *label;
	size_t i;
	int ret = 0;

	if (p->oc < 0)
		return 0;
	old = &v->certs[p->oc];
	if (gm_enc_keep_old(r, v, old)) {
		gm_debug("the old container holds an encryption pair that "
			 "this renewal did not replace: it stays");
		return 0;
	}
	/* kept by an earlier run with --keep-old: stays */
	if (!r->ctx->keep_old && !ends_with(old->label, REPLACED)) {
		r->changed = 1;
		if (gm_enc_retire_old(r, v, old, newk, err) ||
		    destroy_old_keys(r, v, old->facts.pubkey, newk, err))
			return -1;
		return gm_token_remove(r->ctx->session, old->ref, err);
	}
	if (names_fixed(r) || ends_with(old->label, REPLACED))
		return 0;	/* kept as it is */
	label = gm_xasprintf("%s%s", old->label ? old->label : "", REPLACED);
	for (i = 0; i < v->n_keys && !ret; i++)
		if (is_old_key(v, i, old->facts.pubkey, newk))
			ret = relabel_key(r, &v->keys[i], label, err);
	if (!ret) {
		r->changed = 1;
		ret = gm_token_relabel(r->ctx->session, old->ref, label, err);
	}
	free(label);
	return ret;
}

/* Objects with this renewal's pending label that are not the new pair. */
static int is_stale_key(gm_run *r, const gm_token_snapshot *v, size_t i,
			const retire_plan *p)
{
	const gm_snapshot_key *k = &v->keys[i], *newk = &v->keys[p->k];

	return k->role == GM_ROLE_SIGNING && k->label &&
	       !strcmp(k->label, r->pending) && (int)i != p->k &&
	       !(k->id_len == newk->id_len &&
		 !memcmp(k->id, newk->id, k->id_len)) &&
	       !(k->pubkey && gm_pubkey_equal(k->pubkey, newk->pubkey) == 1);
}

static int is_stale_cert(gm_run *r, const gm_token_snapshot *v, size_t i,
			 const retire_plan *p)
{
	const gm_snapshot_cert *c = &v->certs[i];

	return c->label && !strcmp(c->label, r->pending) && (int)i != p->c &&
	       (int)i != p->oc &&
	       !(c->role == GM_ROLE_ENCRYPTION &&
		 gm_enc_same_container(c->container, &v->keys[p->k]));
}

static int destroy_key(gm_run *r, const gm_snapshot_key *k, gm_error *err)
{
	r->changed = 1;
	return gm_token_remove(r->ctx->session, k->ref, err);
}

static int remove_stale(gm_run *r, const gm_token_snapshot *v,
			const retire_plan *p, gm_error *err)
{
	size_t i;

	for (i = 0; i < v->n_keys; i++)
		if (is_stale_key(r, v, i, p) && destroy_key(r, &v->keys[i], err))
			return -1;
	for (i = 0; i < v->n_certs; i++) {
		if (!is_stale_cert(r, v, i, p))
			continue;
		r->changed = 1;
		if (gm_token_remove(r->ctx->session, v->certs[i].ref, err))
			return -1;
	}
	return 0;
}

/* A key some certificate on the token belongs to (by CKA_ID or public
 * key): never a leftover. */
static int key_has_cert(const gm_token_snapshot *v, const gm_snapshot_key *k)
{
	size_t i;

	for (i = 0; i < v->n_certs; i++) {
		if (v->certs[i].id_len == k->id_len && k->id_len &&
		    !memcmp(v->certs[i].id, k->id, k->id_len))
			return 1;
		if (v->certs[i].parsed && k->pubkey &&
		    gm_pubkey_equal(k->pubkey, v->certs[i].facts.pubkey) == 1)
			return 1;
	}
	return 0;
}

/* The order behind another renewal's pending label is not live: the
 * service does not know it, or it expired or was cancelled. */
static int order_is_dead(gm_run *r, const char *label)
{
	size_t n = strlen("gmrenew-pending-");
	char code[24];
	gm_order o;
	gm_error e;
	int dead;

	if (gm_update_code_normalize(label + n, code, NULL))
		return 0;
	memset(&o, 0, sizeof(o));
	if (gm_service_status(r->ctx->service, code, &o, &e)) {
		gm_debug("renewal %s: %s", code, e.msg);
		return e.reason == GM_REASON_UNKNOWN_CODE ||
		       e.reason == GM_REASON_CODE_EXPIRED;
	}
	dead = !strcmp(o.code, code) &&
	       (o.state == GM_ORDER_CANCELLED || o.state == GM_ORDER_EXPIRED);
	gm_order_release(&o);
	return dead;
}

/* Key pairs left by renewals that will never finish (an update code the
 * CA does not know, an expired or cancelled order), which hold no
 * certificate: removed once the service says their order is not live. */
static int remove_dead_pending(gm_run *r, const gm_token_snapshot *v,
			       gm_error *err)
{
	static const char prefix[] = "gmrenew-pending-";
	size_t i;

	for (i = 0; i < v->n_keys; i++) {
		const gm_snapshot_key *k = &v->keys[i];

		if (k->role != GM_ROLE_SIGNING || !k->label ||
		    strncmp(k->label, prefix, strlen(prefix)) ||
		    !strcmp(k->label, r->pending) || key_has_cert(v, k) ||
		    !order_is_dead(r, k->label))
			continue;
		gm_debug("removing the key pair '%s' of a dead renewal",
			 k->label);
		if (destroy_key(r, k, err))
			return -1;
	}
	return 0;
}

/* Whether retiring has anything left to do on the token. */
static int retire_pending_work(gm_run *r, const gm_token_snapshot *v,
			       const retire_plan *p)
{
	const gm_snapshot_key *k = &v->keys[p->k];
	const gm_snapshot_cert *c = &v->certs[p->c];
	size_t i;

	if (names_fixed(r))	/* only the old pair can go */
		return p->oc >= 0 && !r->ctx->keep_old;
	if (!k->label || strcmp(k->label, p->label) || !c->label ||
	    strcmp(c->label, p->label))
		return 1;
	if (p->oc >= 0 && !ends_with(v->certs[p->oc].label, REPLACED))
		return 1;
	if (gm_enc_relabel(r, v, k, p->label, 1, NULL) > 0)
		return 1;
	for (i = 0; i < v->n_keys; i++)
		if (is_stale_key(r, v, i, p))
			return 1;
	for (i = 0; i < v->n_certs; i++)
		if (is_stale_cert(r, v, i, p))
			return 1;
	return 0;
}

static int give_final_labels(gm_run *r, const gm_token_snapshot *v,
			     const retire_plan *p, gm_error *err)
{
	const gm_snapshot_cert *c = &v->certs[p->c];

	if (relabel_key(r, &v->keys[p->k], p->label, err) ||
	    gm_enc_relabel(r, v, &v->keys[p->k], p->label, 0, err) < 0)
		return -1;
	if (names_fixed(r) || (c->label && !strcmp(c->label, p->label)))
		return 0;
	r->changed = 1;
	return gm_token_relabel(r->ctx->session, c->ref, p->label, err);
}

/* No journal of the installation, the old certificate gone and the
 * confirmed certificate on the token with its key: finished elsewhere,
 * nothing to do. */
static int finished_without_journal(gm_run *r, const gm_token_snapshot *v)
{
	long c;

	if (gm_journal_get(&r->journal, "new_sha256") ||
	    gm_snapshot_find_cert(v, r->old_sha256) >= 0)
		return 0;
	c = gm_snapshot_find_cert(v, r->order.cert_sha256);
	return c >= 0 && v->certs[c].key_state == GM_KEY_FOUND;
}

/* retire (confirmed): the old pair goes, the new pair gets its final label;
 * the journal records that the renewal is finished. */
static int step_retire(gm_run *r, gm_error *err)
{
	retire_plan p = { -1, -1, -1, NULL };
	gm_token_snapshot *v;
	int ret = -1;

	v = gm_run_view(r, err);
	if (!v)
		return -1;
	if (finished_without_journal(r, v)) {
		gm_journal_finish(&r->journal);
		ret = 0;
		goto out;
	}
	if (check_confirmed(r, err))
		goto out;
	if (find_new_pair(r, v, &p)) {
		new_pair_missing(r, err);
		goto out;
	}
	p.oc = (int)gm_snapshot_find_cert(v, r->old_sha256);
	if (p.oc == p.c)
		p.oc = -1;
	p.label = gm_xstrdup(final_label(r, v, p.oc));
	if (retire_pending_work(r, v, &p))
		gm_run_progress(r, r->ctx->keep_old ? GM_STEP_KEEP_OLD :
				GM_STEP_RETIRE);
	/* The new pair takes its final label while the old certificate still
	 * shows it, so an interruption never loses the label. */
	if (give_final_labels(r, v, &p, err) || retire_old(r, v, &p, err) ||
	    remove_stale(r, v, &p, err) || remove_dead_pending(r, v, err))
		goto out;
	r->out->new_der = (unsigned char *)gm_xmemdup(v->certs[p.c].der,
						     v->certs[p.c].der_len);
	r->out->new_der_len = v->certs[p.c].der_len;
	gm_enc_result(r, v);
	gm_journal_finish(&r->journal);
	ret = 0;
out:
	free(p.label);
	gm_run_view_drop(r);	/* objects were removed and relabelled */
	return ret;
}

/* The state whose steps run: an expired order that holds its certificate
 * is finished as an issued one. */
gm_order_state gm_order_acting_state(const gm_order *o)
{
	return o->state == GM_ORDER_EXPIRED && o->cert ? GM_ORDER_ISSUED
							: o->state;
}

/* The steps of one state, in the table's order, until the order moves on
 * (then the next state's steps run). */
static int run_state(gm_run *r, gm_order_state st, gm_error *err)
{
	size_t i;

	for (i = 0; i < GM_STEP_COUNT; i++) {
		if (!(steps[i].states & IN(st)))
			continue;
		if (run_step(r, (gm_step)i, err))
			return -1;
		if (gm_order_acting_state(&r->order) != st)
			return 0;
	}
	return 0;
}

static int has_steps(gm_order_state st)
{
	size_t i;

	for (i = 0; i < GM_STEP_COUNT; i++)
		if (steps[i].states & IN(st))
			return 1;
	return 0;
}

int gm_run_drive(gm_run *r, gm_error *err)
{
	int guard;

	for (guard = 0; guard < 6; guard++) {
		gm_order_state st = gm_order_acting_state(&r->order);

		if (gm_run_interrupted(r, err))
			return -1;
		if (!has_steps(st))
			return gm_fail(err, GM_EXIT_FAILED,
				       "start a new renewal with 'gmrenew renew'",
				       "renewal %s is %s and cannot be finished",
				       r->order.code,
				       gm_order_state_name(r->order.state));
		if (run_state(r, st, err))
			return -1;
		if (st == GM_ORDER_CONFIRMED)
			return 0;	/* the last state: retired */
	}
	return gm_fail(err, GM_EXIT_FAILED, "contact the CA with the update code",
		       "renewal %s did not reach an end (state '%s')",
		       r->order.code, gm_order_state_name(r->order.state));
}
