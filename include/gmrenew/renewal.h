/*
 * renewal.h - the renewal of one certificate as steps (one table,
 * engine.c), the journal written after each before the next begins, so
 * that any interruption (an error, a killed process, a pulled key, a dead
 * network) can be finished later with the update code alone. The invariant at every instant: the token holds a
 * usable certificate with its private key (the old pair until the new pair
 * is installed and read back, the new pair after).
 *
 * Also the certificate checks shared by `verify` and `renew`. Calls policy,
 * token, service, crypto and common. Never prints: it reports progress
 * through hooks.
 */
#ifndef GMRENEW_RENEWAL_H
#define GMRENEW_RENEWAL_H

#include <stddef.h>
#include <time.h>

#include "gmrenew/common.h"
#include "gmrenew/crypto.h"
#include "gmrenew/policy.h"
#include "gmrenew/service.h"
#include "gmrenew/token.h"

/* ---- Certificate checks (verify, and every certificate renew installs) */

enum { GM_CHECK_PASS, GM_CHECK_FAIL, GM_CHECK_SKIP };

typedef struct gm_check {
	const char *id;		/* "chain", "validity", "key", "renewal",
				 * "pair" */
	int status;		/* GM_CHECK_* */
	char detail[GM_ERR_MSG_MAX];
} gm_check;

#define GM_VERIFY_MAX_CHECKS 6

typedef struct gm_verify_report {
	gm_check checks[GM_VERIFY_MAX_CHECKS];
	size_t n;
	int ok;			/* no check failed */
} gm_verify_report;

/* A chain verified ahead of the other checks (gmrenew verify does all of
 * a token's chains at once, gm_parallel_for). */
typedef struct gm_chain_checked {
	int rc;			/* gm_chain_pool_verify's result */
	gm_error err;		/* why, when rc is -1 */
} gm_chain_checked;

typedef struct gm_verify_input {
	const gm_cert_facts *cert;
	STACK_OF(X509) *untrusted;	/* intermediates; may be NULL */
	const char *ca_bundle;		/* trust anchors; NULL: chain skipped */
	gm_chain_pool *chain;		/* anchors and intermediates already
					 * loaded (then untrusted is unused) */
	const gm_chain_checked *chain_checked;	/* the chain's outcome,
						 * already known; NULL:
						 * verified here */
	time_t now;
	const gm_policy *policy;
	const gm_token_snapshot *token;	/* where to look for the key pair
					 * (gm_snapshot_key_of); NULL:
					 * skipped */
	EVP_PKEY *expected_key;		/* must equal; NULL: not checked */
	const gm_cert_facts *previous;	/* post-renewal check; may be NULL */
	const gm_snapshot_cert *on_token;	/* the certificate as token
						 * holds it (role, partner);
						 * NULL: no "pair" check */
} gm_verify_input;

/* Runs every check (none stops the others) into out; returns 0 when all
 * passed, else -1 with err naming the first failed check (GM_EXIT_VERIFY). */
int gm_verify_certificate(const gm_verify_input *in, gm_verify_report *out,
			  gm_error *err);

/* ---- State: where journals and locks live ---- */

/* $XDG_STATE_HOME/gmrenew, else ~/.local/state/gmrenew. Caller frees. */
char *gm_state_dir_default(void);

typedef struct gm_token_lock gm_token_lock;
/* An exclusive lock per token serial, so that two gmrenew processes never
 * renew the same token at once (GM_EXIT_FAILED naming the holder's pid). */
int gm_token_lock_acquire(const char *state_dir, const char *serial,
			  gm_token_lock **out, gm_error *err);
void gm_token_lock_release(gm_token_lock *lock);	/* NULL-safe */

/* The certificate a renewal replaced, when this machine's journal knows the
 * renewal that installed the certificate with fingerprint sha256. Caller
 * frees *der. -1 when there is none. */
int gm_journal_find_previous(const char *state_dir, const char *sha256,
			     unsigned char **der, size_t *der_len);

/* ---- The renewal ---- */

typedef struct gm_renewal_hooks {
	void *ctx;
	/* a step begins: number (from 1), total, what it does */
	void (*progress)(void *ctx, int number, int total, const char *what);
	/* the update code, as soon as the service gives it */
	void (*update_code)(void *ctx, const char *code, const char *journal);
	/* something the user should know (a damaged journal moved aside) */
	void (*warn)(void *ctx, const char *what);
	/* `renew` found this machine's journal of an unfinished renewal of
	 * the certificate and goes on with it; may be NULL */
	void (*resumed)(void *ctx, const char *code, const char *journal);
	/* nonzero once the user asked to stop (SIGINT, SIGTERM): the
	 * renewal stops after the step in progress; may be NULL */
	int (*interrupted)(void *ctx);
	/* logs in to the token; renew-with-code calls it only once it needs
	 * the private keys (NULL: the session is already logged in) */
	int (*login)(void *ctx, gm_error *err);
} gm_renewal_hooks;

typedef struct gm_renewal_ctx {
	gm_session *session;		/* logged in */
	const gm_profile *profile;
	const gm_token_info *token;
	gm_service *service;
	const gm_policy *policy;
	const char *chain_bundle;	/* trust anchors of issued certificates */
	const char *state_dir;
	int keep_old;			/* keep the old pair (relabelled) */
	int dry_run;			/* change neither token nor service */
	gm_token_lock *lock;		/* the token's lock, when the caller
					 * already holds it (taken before the
					 * token was read); NULL: taken here */
	time_t now;
	gm_renewal_hooks hooks;
} gm_renewal_ctx;

typedef struct gm_renewal_result {
	char code[24];
	char state[16];			/* the order's state at the end */
	int nothing_to_do;		/* already complete: nothing changed */
	unsigned char *new_der;		/* the installed certificate */
	size_t new_der_len;
	unsigned char *enc_der;		/* its encryption certificate (double
					 * certificates), else NULL */
	size_t enc_der_len;
	char journal[512];		/* path of the journal */
	gm_verify_report report;	/* checks of the new certificate */
} gm_renewal_result;

void gm_renewal_result_release(gm_renewal_result *r);

/* Label of the pending key pair and certificate of an order. */
void gm_pending_label(const char *code, char *buf, size_t n);

/* The update code of this machine's journal of an unfinished renewal of a
 * certificate (by SHA-256) on the token with this serial; -1 when none. */
int gm_journal_find_unfinished(const char *state_dir, const char *serial,
			       const char *old_sha256, char code[24]);

/* Renews certificate `old` of snapshot `token` (read once by the caller,
 * after login: the renewal reads the token only where it checks its own
 * writes). The snapshot is updated with what the renewal adds. */
int gm_renew(gm_renewal_ctx *ctx, gm_token_snapshot *token, size_t old,
	     gm_renewal_result *out, gm_error *err);
/* Finishes the renewal of an update code from whatever point it reached. */
int gm_renew_with_code(gm_renewal_ctx *ctx, const char *code,
		       gm_renewal_result *out, gm_error *err);

/* ---- Past runs, for schedulers and monitoring (runs.c) ---- */

/* Renewals of the token with this serial whose journal is not finished
 * (to be finished with the update code). */
long gm_pending_renewals(const char *state_dir, const char *serial);

typedef struct gm_run_record {
	time_t last_run;	/* 0: never */
	time_t last_success;	/* 0: never */
} gm_run_record;

/* The token's run record; zeros when there is none. */
void gm_run_record_read(const char *state_dir, const char *serial,
			gm_run_record *out);
/* Records a run at now (and a success when success is not 0). */
int gm_run_record_update(const char *state_dir, const char *serial,
			 time_t now, int success, gm_error *err);

#endif
