/* engine.h - one renewal in progress (engine.c, renew.c). */
#ifndef GMRENEW_RENEWAL_ENGINE_H
#define GMRENEW_RENEWAL_ENGINE_H

#include "renewal_view.h"

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
	int changed;		/* this run changed the token or the order */
	gm_view view;		/* the token, read once per run and kept up
				 * to date with what this run changes */
	int have_view;
} gm_run;

/* The run's view of the token, read on first use. */
gm_view *gm_run_view(gm_run *r, gm_error *err);
/* Forget the view: the next use reads the token again. */
void gm_run_view_drop(gm_run *r);

void gm_run_progress(gm_run *r, int number, const char *what);
/* Takes a new order answer (releases the previous one). */
void gm_run_set_order(gm_run *r, gm_order *fresh);
/* Drives the order from its current state to the end. */
int gm_run_drive(gm_run *r, gm_error *err);
/* Records the facts of the certificate being renewed in the journal. */
void gm_run_journal_old(gm_run *r, const gm_token_cert *obj,
			const gm_cert_facts *facts);

#endif
