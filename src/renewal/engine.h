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
} gm_run;

void gm_run_progress(gm_run *r, int number, const char *what);
/* Takes a new order answer (releases the previous one). */
void gm_run_set_order(gm_run *r, gm_order *fresh);
/* Drives the order from its current state to the end. */
int gm_run_drive(gm_run *r, gm_error *err);
/* Records the facts of the certificate being renewed in the journal. */
void gm_run_journal_old(gm_run *r, const gm_token_cert *obj,
			const gm_cert_facts *facts);

#endif
