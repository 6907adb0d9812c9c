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
}

static int begin(gm_renewal_ctx *ctx, gm_renewal_result *out, gm_run *r,
		 gm_token_lock **lock, gm_error *err)
{
	memset(out, 0, sizeof(*out));
	memset(r, 0, sizeof(*r));
	r->ctx = ctx;
	r->out = out;
	return gm_token_lock_acquire(ctx->state_dir, ctx->token->serial, lock,
				     err);
}

static void end(gm_run *r, gm_token_lock *lock)
{
	gm_run_view_drop(r);
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

	if (!strcmp(why, "not_due"))
		return gm_fail(err, GM_EXIT_NOT_DUE,
			       "renew within 90 days of expiry, or use --force "
			       "only if the CA asked you to",
			       "the CA does not allow renewing '%s' yet (not due)",
			       subject);
	if (!strcmp(why, "offline_only"))
		return gm_fail(err, GM_EXIT_OFFLINE,
			       "mail the Ekey with the filled-in certificate "
			       "business form (证书业务信息表) to the CA",
			       "'%s' expired more than 90 days ago: only offline "
			       "renewal is possible", subject);
	return gm_fail(err, GM_EXIT_FAILED, "contact the CA",
		       "the CA does not allow renewing '%s' online (%s)",
		       subject, why);
}

/* Asks the CA about the certificate: known, renewable, an open order? */
static int check_with_ca(gm_run *r, const gm_token_cert *old,
			 const gm_cert_facts *facts, char *open_code,
			 gm_error *err)
{
	const unsigned char *der = old->der;
	gm_ca_record *rec = NULL;
	int ret = 0;

	gm_run_progress(r, GM_PROGRESS_CHECK,
			N_("Checking the certificate with the CA's service"));
	if (gm_service_lookup(r->ctx->service, &der, &old->der_len, 1, &rec,
			      err))
		return -1;
	if (rec->open_code && rec->open_state)
		snprintf(open_code, 24, "%s", rec->open_code);
	else if (!rec->found)
		ret = gm_fail(err, GM_EXIT_FAILED,
			      "check that this is the CA's certificate; contact "
			      "the CA",
			      "the CA has no record of '%s'", facts->subject);
	else if (!rec->online)
		ret = refusal(rec, facts->subject, err);
	gm_ca_records_free(rec, 1);
	return ret;
}

/* The private key of the certificate being renewed, on the token. */
static const gm_token_key *old_pair(gm_run *r, const gm_cert_facts *facts,
				    gm_error *err)
{
	gm_view *v = gm_run_view(r, err);
	int k;

	if (!v)
		return NULL;
	k = gm_view_find_key(v, facts->pubkey, 1);
	if (k >= 0)
		return &v->keys[k];
	gm_fail(err, GM_EXIT_FAILED, "contact the CA",
		"the token holds no private key for '%s'", facts->subject);
	return NULL;
}

static int dry_run(gm_run *r, const gm_cert_facts *facts, gm_error *err)
{
	const gm_token_key *k = old_pair(r, facts, err);
	unsigned char digest[GM_DIGEST_LEN] = { 0 }, *sig = NULL;
	size_t sig_len = 0;

	/* The old key must be able to prove possession. */
	if (!k || gm_token_sign_digest(r->ctx->session, r->ctx->profile, k->priv,
				       digest, &sig, &sig_len, err))
		return -1;
	OPENSSL_free(sig);
	snprintf(r->out->state, sizeof(r->out->state), "dry-run");
	return 0;
}

static int start_order(gm_run *r, const gm_token_cert *old,
		       const gm_cert_facts *facts, gm_error *err)
{
	const gm_token_key *k = old_pair(r, facts, err);
	gm_token_signer signer;
	gm_pop_key pop;
	gm_order fresh;

	if (!k)
		return -1;
	gm_run_progress(r, GM_PROGRESS_START,
			N_("Starting the renewal with the service"));
	signer = (gm_token_signer){ r->ctx->session, r->ctx->profile, k->priv };
	pop = (gm_pop_key){ r->ctx->profile->scheme, k->pubkey,
			    gm_token_sign_cb, &signer };
	gm_sig_scheme_for_key(k->pubkey, &pop.scheme, NULL);
	memset(&fresh, 0, sizeof(fresh));
	if (gm_service_start(r->ctx->service, old->der, old->der_len, &pop,
			     &fresh, err))
		return -1;
	gm_run_set_order(r, &fresh);
	return 0;
}

static int record_start(gm_run *r, const gm_token_cert *old,
			const gm_cert_facts *facts, gm_error *err)
{
	if (open_journal(r, err))
		return -1;
	if (!gm_journal_get(&r->journal, "old_sha256"))
		gm_run_journal_old(r, old, facts);
	if (gm_journal_step(&r->journal, GM_STEP_STARTED, err))
		return -1;
	announce_code(r);
	return 0;
}

int gm_renew(gm_renewal_ctx *ctx, const gm_token_cert *old,
	     gm_renewal_result *out, gm_error *err)
{
	gm_token_lock *lock = NULL;
	gm_cert_facts facts;
	char open_code[24] = "";
	gm_run r;
	int ret = -1;

	if (!old->der)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "the certificate object cannot be read");
	if (gm_cert_facts_parse(old->der, old->der_len, &facts, err))
		return -1;
	if (begin(ctx, out, &r, &lock, err))
		goto out_facts;
	if (check_with_ca(&r, old, &facts, open_code, err))
		goto out;
	if (ctx->dry_run) {
		ret = dry_run(&r, &facts, err);
		goto out;
	}
	if (open_code[0]) {
		gm_order fresh;

		gm_debug("the CA has an open renewal %s for this certificate",
			 open_code);
		memset(&fresh, 0, sizeof(fresh));
		if (gm_service_status(ctx->service, open_code, &fresh, err))
			goto out;
		gm_run_set_order(&r, &fresh);
	} else if (start_order(&r, old, &facts, err)) {
		goto out;
	}
	if (record_start(&r, old, &facts, err))
		goto out;
	ret = gm_run_drive(&r, err);
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
	return gm_journal_write(&r->journal, err);
}

static void journal_old_from_token(gm_run *r, gm_error *err)
{
	gm_view *v;
	int c;

	if (gm_journal_get(&r->journal, "old_sha256"))
		return;
	v = gm_run_view(r, err);
	c = v ? gm_view_find_cert(v, r->order.old_sha256) : -1;
	if (c >= 0)
		gm_run_journal_old(r, &v->certs[c], &v->facts[c]);
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
	gm_run_progress(&r, GM_PROGRESS_CHECK,
			N_("Asking the service for the state of the renewal"));
	memset(&fresh, 0, sizeof(fresh));
	if (gm_service_status(ctx->service, canon, &fresh, err))
		goto out;
	gm_run_set_order(&r, &fresh);
	if (open_journal_for(&r, err))
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
