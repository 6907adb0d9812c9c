/* engine.h - one renewal in progress (engine.c, renew.c). */
#ifndef GMRENEW_RENEWAL_ENGINE_H
#define GMRENEW_RENEWAL_ENGINE_H

#include "renewal_internal.h"

/* The renewal's steps: the rows of the table in engine.c. */
typedef enum gm_step {
	GM_STEP_CHECK,		/* renew: the CA's lookup */
	GM_STEP_STATUS,		/* renew-with-code: the order's state */
	GM_STEP_START,		/* the service gives the update code */
	GM_STEP_KEY,		/* the pending key pair on the token */
	GM_STEP_REQUEST,	/* the CSR submitted */
	GM_STEP_VERIFY,		/* the issued certificate checked */
	GM_STEP_INSTALL,	/* next to its key, read back */
	GM_STEP_ENC_KEY,	/* double certificates: the enveloped
				 * encryption key imported */
	GM_STEP_ENC_CERT,	/* the encryption certificate, read back */
	GM_STEP_CONFIRM,	/* the service told */
	GM_STEP_RETIRE,		/* the old pair removed; labels final */
	GM_STEP_KEEP_OLD,	/* the same, with --keep-old */
	GM_STEP_COUNT
} gm_step;

struct gm_run;

typedef struct gm_step_row {
	unsigned states;	/* 1 << gm_order_state it acts in; 0: run
				 * before there is an order (renew.c) */
	int (*run)(struct gm_run *r, gm_error *err);
	int progress;		/* the number the user sees, from 1 */
	const char *text;	/* what it does, for the progress line */
	const char *journal;	/* the journal member it leaves, or NULL */
} gm_step_row;

const gm_step_row *gm_step_of(gm_step s);

typedef struct gm_run {
	gm_renewal_ctx *ctx;
	gm_renewal_result *out;
	gm_order order;
	gm_journal journal;
	char pending[64];	/* label of the pending objects */
	char old_sha256[65];	/* the certificate being renewed: fixed
				 * when the renewal starts; an answer
				 * naming another is refused */
	int changed;		/* this run changed the token or the order */
	gm_cert_facts issued;	/* the order's certificate, parsed */
	int have_issued;
	gm_token_snapshot *view;	/* the token, read once per run (the
					 * caller's, or own_view) and kept up
					 * to date with what this run adds */
	gm_token_snapshot own_view;	/* read here when the caller gave none */
	int double_expected;	/* the CA's lookup said double_certificate */
} gm_run;

/* The run's snapshot of the token: the caller's, else read on first use. */
gm_token_snapshot *gm_run_view(gm_run *r, gm_error *err);
/* Forget the snapshot (releasing it when the run read it): the next use
 * reads the token again. */
void gm_run_view_drop(gm_run *r);

/* Shows the progress line of a step. */
void gm_run_progress(gm_run *r, gm_step step);
/* Takes a new order answer (releases the previous one); refuses
 * (GM_EXIT_SERVICE, nothing changed) an answer for another update code or
 * another certificate being renewed. fresh is released either way. */
int gm_run_set_order(gm_run *r, gm_order *fresh, gm_error *err);
/* After a step: writes the journal; then stops (GM_EXIT_INTERRUPTED) when
 * the user asked to. */
int gm_run_step_done(gm_run *r, gm_error *err);
/* Forgets the parsed issued certificate (a new answer came). */
void gm_run_issued_drop(gm_run *r);
/* The state whose steps run (an expired order holding its certificate is
 * finished as issued). */
gm_order_state gm_order_acting_state(const gm_order *o);
/* The label of an old pair kept with --keep-old ("LABEL (replaced)"). */
int gm_label_replaced(const char *label);
/* GM_EXIT_INTERRUPTED when the user asked to stop, else 0. */
int gm_run_interrupted(gm_run *r, gm_error *err);
/* Drives the order from its current state to the end. */
int gm_run_drive(gm_run *r, gm_error *err);
/* Records the facts of the certificate being renewed in the journal. */
void gm_run_journal_old(gm_run *r, const gm_snapshot_cert *obj,
			const gm_cert_facts *facts);

/* The index in v of this renewal's pending signing pair, or -1. */
int gm_run_find_pending(gm_run *r, const gm_token_snapshot *v);
/* The run's view of the token (v) and the index in it of the pending
 * signing pair (p); -1 with err when the view cannot be read or the pair
 * is not there. */
int gm_run_pending_pair(gm_run *r, gm_token_snapshot **v, int *p,
			gm_error *err);

/* ---- Double certificates (encryption.c) ---- */

/* The renewal carries an encryption part (the order's, or the journal's
 * record of one). */
int gm_run_is_double(const gm_run *r);
/* Before start: a double certificate on an API that cannot import the
 * encryption pair (GM_EXIT_ENV), or an old container with an encryption
 * pair and a 1.0 service (GM_EXIT_SERVICE), is refused before anything is
 * started. Notes what the lookup said for the journal. */
int gm_enc_before_start(gm_run *r, const gm_snapshot_cert *old,
			const gm_ca_record *rec, gm_error *err);
/* The encryption part of the issued order, checked before anything is
 * installed (docs/protocol.md 3.8, checks 2 to 7); none is fine only for a
 * single-certificate renewal whose old container holds no encryption
 * pair. */
int gm_enc_verify(gm_run *r, const gm_token_snapshot *v,
		  const gm_cert_facts *sign, EVP_PKEY *newkey, gm_error *err);
/* The steps GM_STEP_ENC_KEY and GM_STEP_ENC_CERT. */
int gm_step_enc_key(gm_run *r, gm_error *err);
int gm_step_enc_cert(gm_run *r, gm_error *err);
/* Confirm only once the encryption certificate is installed too. */
int gm_enc_ready(gm_run *r, gm_error *err);
/* Retire: 1 when the new container holds the encryption certificate
 * gmrenew installed with its key (or the renewal has none). */
int gm_enc_new_pair_there(gm_run *r, const gm_token_snapshot *v,
			  const gm_snapshot_key *newk);
/* Retire: the old container holds an encryption pair this renewal did
 * not replace: it is kept. */
/* The container of key pair k is container (a non-empty name). */
int gm_enc_same_container(const char *container, const gm_snapshot_key *k);
/* Where objects can be renamed: gives the new container's encryption key
 * pair and certificate label; with count, only says how many need it.
 * Returns that number, or -1. */
int gm_enc_relabel(gm_run *r, const gm_token_snapshot *v,
		   const gm_snapshot_key *newk, const char *label, int count,
		   gm_error *err);
/* Where the API removes each object alone (PKCS#11): the old container's
 * encryption certificate and key pair, before its signing pair goes. */
int gm_enc_retire_old(gm_run *r, const gm_token_snapshot *v,
		      const gm_snapshot_cert *old, const gm_snapshot_key *newk,
		      gm_error *err);
/* The installed encryption certificate into the run's result. */
void gm_enc_result(gm_run *r, const gm_token_snapshot *v);
int gm_enc_keep_old(gm_run *r, const gm_token_snapshot *v,
		    const gm_snapshot_cert *old);

#endif
