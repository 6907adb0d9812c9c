/*
 * renew.c - the two ways into a renewal: `renew` (a certificate on the
 * token; asks the service for a new order, or picks up the open one) and
 * `renew-with-code` (only the update code). Both end in gm_run_drive().
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

void gm_pending_label(const char *code, char *buf, size_t n)
{
	size_t o = (size_t)snprintf(buf, n, "gmrenew-pending-");

	for (; *code && o + 1 < n; code++)
		if (*code != '-')
			buf[o++] = *code;
	buf[o < n ? o : n - 1] = '\0';
}

void gm_renewal_result_release(gm_renewal_result *r)
{
	if (!r)
		return;
	free(r->new_der);
	r->new_der = NULL;
	free(r->enc_der);
	r->enc_der = NULL;
	r->enc_der_len = 0;
}

/* The token's lock: the caller's, when it took it before reading the
 * token, else taken here (and released by end()). */
static int begin(gm_renewal_ctx *ctx, gm_renewal_result *out, gm_run *r,
		 gm_token_lock **lock, gm_error *err)
{
	memset(out, 0, sizeof(*out));
	memset(r, 0, sizeof(*r));
	r->ctx = ctx;
	r->out = out;
	*lock = NULL;
	if (ctx->lock)
		return 0;
	return gm_token_lock_acquire(ctx->state_dir, ctx->token->serial, lock,
				     err);
}

static void end(gm_run *r, gm_token_lock *lock)
{
	gm_run_view_drop(r);
	gm_run_issued_drop(r);
	gm_journal_close(&r->journal);
	gm_order_release(&r->order);
	gm_token_lock_release(lock);
}

/* The journal exists from the moment the code is known, before anything on
 * the token changes. */
static int open_journal(gm_run *r, gm_error *err)
{
	snprintf(r->out->code, sizeof(r->out->code), "%s", r->order.code);
	gm_pending_label(r->order.code, r->pending, sizeof(r->pending));
	if (gm_journal_open(r->ctx->state_dir, r->order.code, &r->journal, err))
		return -1;
	if (r->journal.damaged[0] && r->ctx->hooks.warn) {
		char *what = gm_xasprintf("the journal of renewal %s was damaged "
					  "and was moved to '%s'; the renewal "
					  "goes on from what the service and "
					  "the token say", r->order.code,
					  r->journal.damaged);

		r->ctx->hooks.warn(r->ctx->hooks.ctx, what);
		free(what);
	}
	snprintf(r->out->journal, sizeof(r->out->journal), "%s",
		 r->journal.path);
	return 0;
}

static void announce_code(gm_run *r)
{
	if (r->ctx->hooks.update_code)
		r->ctx->hooks.update_code(r->ctx->hooks.ctx, r->order.code,
					  r->journal.path);
}

static int refusal(const gm_ca_record *rec, const char *subject,
		   gm_error *err)
{
	const char *why = rec->reason ? rec->reason : "unknown";
	char opens[32] = "";

	if (rec->why == GM_REASON_NOT_DUE && rec->window_start)
		gm_time_rfc3339(rec->window_start, opens, sizeof(opens));
	if (rec->why == GM_REASON_NOT_DUE)
		return gm_fail(err, GM_EXIT_NOT_DUE,
			       "nothing was started; run 'gmrenew renew' again "
			       "once the CA's window is open",
			       "the CA's service does not allow renewing '%s' "
			       "yet (not due)%s%s", subject,
			       opens[0] ? "; its online renewal opens on " : "",
			       opens);
	if (rec->why == GM_REASON_OFFLINE_ONLY)
		return gm_fail(err, GM_EXIT_OFFLINE,
			       gm_advice_offline, "'%s' is past the CA's "
			       "online renewal window: only offline renewal "
			       "is possible", subject);
	return gm_fail(err, GM_EXIT_FAILED, "contact the CA",
		       "the CA does not allow renewing '%s' online (%s)",
		       subject, why);
}

/* Before the service gave an update code there is nothing to finish. */
static int nothing_started(gm_error *err)
{
	if (err->code == GM_EXIT_SERVICE)
		gm_error_set_fix(err, "try 'gmrenew renew' again later; nothing "
				 "was started and the token was not changed");
	return -1;
}

/* Asks the CA about the certificate: known, renewable, an open order? */
static int check_with_ca(gm_run *r, const gm_snapshot_cert *old,
			 const gm_cert_facts *facts, char *open_code,
			 gm_error *err)
{
	const unsigned char *der = old->der;
	gm_ca_record *rec = NULL;
	int ret = 0;

	gm_run_progress(r, GM_STEP_CHECK);
	if (gm_service_lookup(r->ctx->service, &der, &old->der_len, 1, &rec,
			      err))
		return nothing_started(err);
	if (rec->open_code && rec->open_state)
		snprintf(open_code, 24, "%s", rec->open_code);
	else if (!rec->found)
		ret = gm_fail(err, GM_EXIT_FAILED,
			      "check that this is the CA's certificate; contact "
			      "the CA",
			      "the CA has no record of '%s'", facts->subject);
	else if (!rec->online)
		ret = refusal(rec, facts->subject, err);
	if (!ret && gm_enc_before_start(r, old, rec, err))
		ret = nothing_started(err);
	gm_ca_records_free(rec, 1);
	return ret;
}

/* The private key of the certificate being renewed, on the token. */
static const gm_snapshot_key *old_pair(gm_run *r, const gm_cert_facts *facts,
				       gm_error *err)
{
	gm_token_snapshot *v = gm_run_view(r, err);
	long k;

	if (!v)
		return NULL;
	if (gm_snapshot_key_of(v, facts->pubkey, &k) == GM_KEY_FOUND)
		return &v->keys[k];
	gm_fail(err, GM_EXIT_FAILED, "contact the CA",
		"the token holds no private key for '%s'", facts->subject);
	return NULL;
}

static int dry_run(gm_run *r, const gm_cert_facts *facts, gm_error *err)
{
	const gm_snapshot_key *k = old_pair(r, facts, err);
	unsigned char digest[GM_DIGEST_LEN] = { 0 }, *sig = NULL;
	size_t sig_len = 0;

	/* The old key must be able to prove possession. */
	if (!k || gm_token_sign(r->ctx->session, k->ref, digest, &sig, &sig_len,
				err))
		return -1;
	OPENSSL_free(sig);
	snprintf(r->out->state, sizeof(r->out->state), "dry-run");
	return 0;
}

static int start_order(gm_run *r, const gm_snapshot_cert *old,
		       const gm_cert_facts *facts, gm_error *err)
{
	const gm_snapshot_key *k = old_pair(r, facts, err);
	gm_key_signer signer;
	gm_pop_key pop;
	gm_order fresh;

	if (!k)
		return -1;
	gm_run_progress(r, GM_STEP_START);
	signer = (gm_key_signer){ r->ctx->session, k->ref };
	pop = (gm_pop_key){ r->ctx->profile->scheme, k->pubkey,
			    gm_key_sign_cb, &signer };
	gm_sig_scheme_for_key(k->pubkey, &pop.scheme, NULL);
	memset(&fresh, 0, sizeof(fresh));
	if (gm_service_start(r->ctx->service, old->der, old->der_len, &pop,
			     &fresh, err))
		return nothing_started(err);
	return gm_run_set_order(r, &fresh, err);
}

static int record_start(gm_run *r, const gm_snapshot_cert *old,
			const gm_cert_facts *facts, gm_error *err)
{
	if (open_journal(r, err))
		return -1;
	if (!gm_journal_get(&r->journal, "old_sha256"))
		gm_run_journal_old(r, old, facts);
	if (r->double_expected)
		gm_journal_set(&r->journal, "double_certificate", "true");
	if (gm_journal_write(&r->journal, err))
		return -1;
	announce_code(r);
	return 0;
}

/* A service error about an update code the service itself gave is the
 * service's fault, never a usage error. */
static int service_fault(gm_error *err)
{
	if (err->reason == GM_REASON_UNKNOWN_CODE)
		err->code = GM_EXIT_SERVICE;
	return -1;
}

/* The certificate chosen from an earlier read must still be on the token
 * now that the lock is held (another process may have renewed it). */
static int still_there(gm_run *r, const gm_cert_facts *facts, gm_error *err)
{
	gm_token_snapshot *v = gm_run_view(r, err);

	if (!v)
		return -1;
	if (gm_snapshot_find_cert(v, facts->sha256_hex) >= 0)
		return 0;
	return gm_fail(err, GM_EXIT_FAILED,
		       "run 'gmrenew list-certs' to see the token now, then "
		       "'gmrenew renew' again",
		       "the certificate '%s' is no longer on the token: it was "
		       "changed while gmrenew waited", facts->subject);
}

/* An order that will never finish: its journal is closed so that `renew`
 * does not try it again. */
static int order_dead(const gm_order *o)
{
	return o->state == GM_ORDER_CANCELLED ||
	       (o->state == GM_ORDER_EXPIRED && !o->cert);
}

static void close_journal_of(gm_run *r, const char *code, const char *why)
{
	gm_journal j;
	gm_error e;

	if (gm_journal_load(r->ctx->state_dir, code, &j))
		return;
	gm_journal_set(&j, "abandoned", why);
	if (gm_journal_write(&j, &e))
		gm_debug("%s", e.msg);
	gm_journal_close(&j);
}

/* This machine's journal of an unfinished renewal of the certificate:
 * go on with it. 1 resumed (the result in *ret), 0 none to resume. */
static int resume(gm_run *r, int *ret, gm_error *err)
{
	const gm_renewal_hooks *h = &r->ctx->hooks;
	char code[24], path[512];
	gm_order fresh;
	gm_journal j;

	if (gm_journal_find_unfinished(r->ctx->state_dir,
				       r->ctx->token->serial, r->old_sha256,
				       code))
		return 0;
	snprintf(path, sizeof(path), "%s", code);
	if (!gm_journal_load(r->ctx->state_dir, code, &j)) {
		snprintf(path, sizeof(path), "%s", j.path);
		gm_journal_close(&j);
	}
	memset(&fresh, 0, sizeof(fresh));
	if (gm_service_status(r->ctx->service, code, &fresh, err)) {
		if (err->reason != GM_REASON_UNKNOWN_CODE &&
		    err->reason != GM_REASON_CODE_EXPIRED) {
			if (h->resumed)	/* the code to finish with later */
				h->resumed(h->ctx, code, path);
			*ret = service_fault(err);
			return 1;
		}
		close_journal_of(r, code, gm_error_reason_name(err));
		return 0;
	}
	if (order_dead(&fresh)) {
		close_journal_of(r, code, gm_order_state_name(fresh.state));
		gm_order_release(&fresh);
		return 0;
	}
	if (h->resumed)
		h->resumed(h->ctx, code, path);
	*ret = gm_run_set_order(r, &fresh, err) || open_journal(r, err) ? -1 : 0;
	if (!*ret) {
		announce_code(r);
		*ret = gm_run_drive(r, err);
	}
	return 1;
}

int gm_renew(gm_renewal_ctx *ctx, gm_token_snapshot *token, size_t index,
	     gm_renewal_result *out, gm_error *err)
{
	const gm_snapshot_cert *old;
	gm_token_lock *lock = NULL;
	gm_cert_facts facts;
	char open_code[24] = "";
	gm_run r;
	int ret = -1;

	if (!ctx || !token || !out || index >= token->n_certs)
		return gm_fail(err, GM_EXIT_FAILED, NULL, "internal error: %s "
			       "called without its arguments", "gm_renew");
	old = &token->certs[index];
	if (!old->der)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "the certificate object cannot be read");
	if (gm_cert_facts_parse(old->der, old->der_len, &facts, err))
		return -1;
	if (begin(ctx, out, &r, &lock, err))
		goto out_facts;
	r.view = token;		/* read once by the caller */
	snprintf(r.old_sha256, sizeof(r.old_sha256), "%s", facts.sha256_hex);
	if (still_there(&r, &facts, err))
		goto out;
	if (!ctx->dry_run && resume(&r, &ret, err))
		goto out;
	if (check_with_ca(&r, old, &facts, open_code, err))
		goto out;
	if (ctx->dry_run) {
		ret = dry_run(&r, &facts, err);
		goto out;
	}
	if (gm_run_interrupted(&r, err))
		goto out;
	if (open_code[0]) {
		gm_order fresh;

		gm_debug("the CA has an open renewal %s for this certificate",
			 open_code);
		memset(&fresh, 0, sizeof(fresh));
		if (gm_service_status(ctx->service, open_code, &fresh, err) ||
		    gm_run_set_order(&r, &fresh, err))
			goto out;
	} else if (start_order(&r, old, &facts, err)) {
		goto out;
	}
	if (record_start(&r, old, &facts, err))
		goto out;
	ret = gm_run_drive(&r, err);
	if (ret)
		service_fault(err);
out:
	end(&r, lock);
out_facts:
	gm_cert_facts_release(&facts);
	return ret;
}

/* The journal of this code (when this machine has it) knows the old
 * certificate's label and a copy of it. */
static int open_journal_for(gm_run *r, gm_error *err)
{
	if (open_journal(r, err))
		return -1;
	if (!gm_journal_get(&r->journal, "token_serial"))
		gm_journal_set(&r->journal, "token_serial", r->ctx->token->serial);
	if (!gm_journal_get(&r->journal, "pending_label"))
		gm_journal_set(&r->journal, "pending_label", r->pending);
	if (!gm_journal_get(&r->journal, "old_sha256"))
		gm_journal_set(&r->journal, "old_sha256", r->old_sha256);
	return gm_journal_write(&r->journal, err);
}

static void journal_old_from_token(gm_run *r, gm_error *err)
{
	gm_token_snapshot *v;
	long c;

	if (gm_journal_get(&r->journal, "old_certificate"))
		return;
	v = gm_run_view(r, err);
	c = v ? gm_snapshot_find_cert(v, r->old_sha256) : -1;
	if (c >= 0)
		gm_run_journal_old(r, &v->certs[c], &v->certs[c].facts);
}

/* What this machine's journal of the code says before the service is
 * asked: the certificate being renewed (fixed from then on) and the Ekey
 * it is on. */
static int journal_before(gm_run *r, const char *code, gm_error *err)
{
	const char *serial, *sha;
	gm_journal j;

	if (gm_journal_load(r->ctx->state_dir, code, &j))
		return 0;
	serial = gm_journal_get(&j, "token_serial");
	sha = gm_journal_get(&j, "old_sha256");
	if (sha && strlen(sha) == 64)
		snprintf(r->old_sha256, sizeof(r->old_sha256), "%s", sha);
	if (serial && strcmp(serial, r->ctx->token->serial)) {
		char fix[GM_ERR_FIX_MAX];

		snprintf(fix, sizeof(fix), "insert the Ekey with serial %.64s "
			 "and run 'gmrenew renew-with-code %s' again; nothing "
			 "was changed", serial, code);
		gm_fail(err, GM_EXIT_ENV, fix,
			"update code %s belongs to the Ekey with serial %s, not "
			"to the one inserted (serial %s)", code, serial,
			r->ctx->token->serial);
		gm_journal_close(&j);
		return gm_error_set_reason(err, GM_REASON_OTHER_EKEY);
	}
	gm_journal_close(&j);
	return 0;
}

/* Finished: confirmed, the journal says finished, the token shows the new
 * certificate and not the old one. Seen without logging in. */
static int already_complete(gm_run *r, gm_error *err)
{
	const char *mine = gm_journal_get(&r->journal, "new_sha256");
	gm_token_snapshot *v;
	long c;

	if (r->order.state != GM_ORDER_CONFIRMED ||
	    !gm_journal_finished(r->journal.doc) || !mine ||
	    strcmp(mine, r->order.cert_sha256))
		return 0;
	v = gm_run_view(r, err);
	if (!v || gm_snapshot_find_cert(v, mine) < 0)
		return 0;
	c = gm_snapshot_find_cert(v, r->old_sha256);
	return c < 0 || gm_label_replaced(v->certs[c].label);
}

static int login(gm_run *r, gm_error *err)
{
	const gm_renewal_hooks *h = &r->ctx->hooks;

	if (!h->login)
		return 0;
	if (h->login(h->ctx, err))
		return -1;
	/* the private keys are visible now: added to what was read before */
	return r->view ? gm_token_snapshot_complete(r->ctx->session, r->view,
						    err) : 0;
}

int gm_renew_with_code(gm_renewal_ctx *ctx, const char *code,
		       gm_renewal_result *out, gm_error *err)
{
	gm_token_lock *lock = NULL;
	char canon[24];
	gm_order fresh;
	gm_run r;
	int ret = -1;

	if (gm_update_code_normalize(code, canon, err))
		return -1;
	if (begin(ctx, out, &r, &lock, err))
		return -1;
	if (journal_before(&r, canon, err))
		goto out;
	gm_run_progress(&r, GM_STEP_STATUS);
	memset(&fresh, 0, sizeof(fresh));
	if (gm_service_status(ctx->service, canon, &fresh, err) ||
	    gm_run_set_order(&r, &fresh, err))
		goto out;
	if (open_journal_for(&r, err))
		goto out;
	if (already_complete(&r, err)) {
		out->nothing_to_do = 1;
		ret = 0;
		goto out;
	}
	if (login(&r, err))
		goto out;
	journal_old_from_token(&r, err);
	announce_code(&r);
	ret = gm_run_drive(&r, err);
	if (!ret && !r.changed)
		out->nothing_to_do = 1;
out:
	end(&r, lock);
	return ret;
}
