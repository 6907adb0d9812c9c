/* engine.h - one renewal in progress (engine.c, renew.c). */
#ifndef GMRENEW_RENEWAL_ENGINE_H
#define GMRENEW_RENEWAL_ENGINE_H

#include "renewal_internal.h"

enum {
	GM_PROGRESS_CHECK = 1,
	GM_PROGRESS_START,
	GM_PROGRESS_KEYGEN,
	GM_PROGRESS_REQUEST,
	GM_PROGRESS_VERIFY,
	GM_PROGRESS_INSTALL,
	GM_PROGRESS_CONFIRM,
	GM_PROGRESS_RETIRE,
	GM_PROGRESS_TOTAL = GM_PROGRESS_RETIRE
};

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
	gm_token_snapshot *view;	/* the token, read once per run (the
					 * caller's, or own_view) and kept up
					 * to date with what this run adds */
	gm_token_snapshot own_view;	/* read here when the caller gave none */
} gm_run;

/* The run's snapshot of the token: the caller's, else read on first use. */
gm_token_snapshot *gm_run_view(gm_run *r, gm_error *err);
/* Forget the snapshot (releasing it when the run read it): the next use
 * reads the token again. */
void gm_run_view_drop(gm_run *r);

void gm_run_progress(gm_run *r, int number, const char *what);
/* Takes a new order answer (releases the previous one); refuses
 * (GM_EXIT_SERVICE, nothing changed) an answer for another update code or
 * another certificate being renewed. fresh is released either way. */
int gm_run_set_order(gm_run *r, gm_order *fresh, gm_error *err);
/* Records a completed step; then stops (GM_EXIT_INTERRUPTED) when the user
 * asked to. */
int gm_run_step(gm_run *r, gm_step step, gm_error *err);
/* The label of an old pair kept with --keep-old ("LABEL (replaced)"). */
int gm_label_replaced(const char *label);
/* GM_EXIT_INTERRUPTED when the user asked to stop, else 0. */
int gm_run_interrupted(gm_run *r, gm_error *err);
/* Drives the order from its current state to the end. */
int gm_run_drive(gm_run *r, gm_error *err);
/* Records the facts of the certificate being renewed in the journal. */
void gm_run_journal_old(gm_run *r, const gm_snapshot_cert *obj,
			const gm_cert_facts *facts);

#endif
