/*
 * fleet_internal.h - what the CLI files for unattended use share: the
 * Prometheus metrics file, the outcome of a run (JSON contract, event log,
 * hooks, exit code mapping) and the batch renewal with --wait.
 */
#ifndef GMRENEW_FLEET_INTERNAL_H
#define GMRENEW_FLEET_INTERNAL_H

#include "gmrenew/cli.h"

/* ---- metrics.c ---- */

/* Writes the node_exporter textfile metrics of the token open in cli and of
 * its certificates to path, atomically (a hidden temporary file in the same
 * directory, renamed over path). */
int gm_metrics_write(gm_cli *cli, const gm_cert_list *list, const char *path,
		     gm_error *err);

/* The state directory of the configuration; caller frees. */
char *gm_cli_state_dir(const gm_cli *cli);

/* ---- outcome.c ---- */

/* The version of the JSON documents (docs/schema/). */
#define GM_SCHEMA_VERSION 1

typedef enum gm_action {
	GM_ACTION_NONE = 0,	/* a command that renews nothing */
	GM_ACTION_RENEWED,
	GM_ACTION_RESUMED,	/* renew-with-code finished a renewal */
	GM_ACTION_NOT_DUE,
	GM_ACTION_OFFLINE_ONLY,
	GM_ACTION_FAILED,
	GM_ACTION_DRY_RUN,	/* --dry-run: it could be renewed now */
} gm_action;

typedef struct gm_outcome {
	gm_action action;
	int exit_code;			/* before --not-due-exit */
	char reason[40];		/* typed; "" on success */
	int retryable;
	char message[GM_ERR_MSG_MAX];
	char token_serial[17];
	char update_code[24];
	unsigned char *old_der;		/* the certificate renewed; owned */
	size_t old_len;
	unsigned char *new_der;		/* the new one; owned */
	size_t new_len;
} gm_outcome;

const char *gm_action_name(gm_action a);	/* NULL for NONE */
gm_outcome *gm_outcome_current(void);
/* A run (or, in a batch, one key) starts. */
void gm_outcome_begin(const gm_cli *cli);
void gm_outcome_reset(void);
void gm_outcome_token(const gm_token_info *t);
void gm_outcome_old_cert(const gm_cert_view *v);
void gm_outcome_error(const gm_error *err);
void gm_outcome_success(gm_action action, const char *code,
			const unsigned char *new_der, size_t new_len);
/* A renewal that ended without error (renew_common.c calls it). */
void gm_outcome_renew_ok(const gm_renew_session *rs);
void gm_outcome_update_code(const char *code);
/* Adds the contract's fields to a JSON document about to be printed. */
void gm_outcome_json(cJSON *doc);
/* --not-due-exit applied to an exit code. */
int gm_outcome_exit(const gm_cli *cli, int code);
/* The end of one key's run: event log, hooks, run record; returns the
 * exit code to use. */
int gm_outcome_conclude(gm_cli *cli, int code);
/* The end of a command's run: concludes and releases; the exit code. */
int gm_cli_finish(gm_cli *cli, int code);

/* ---- eventlog.c ---- */

/* One line per outcome to syslog (--syslog, identifier "gmrenew") and/or
 * to the --log-file; never a secret. */
void gm_eventlog_outcome(const gm_cli *cli, const gm_outcome *o);
void gm_eventlog_close(void);

/* ---- hooks.c ---- */

/* Runs [hooks] on_renewed or on_failure for the outcome. */
void gm_hooks_run(gm_cli *cli, const gm_outcome *o);

/* ---- cmd_renew_wait.c ---- */

typedef struct gm_wait_options {
	long count;		/* --count: 0 = until interrupted */
	long timeout;		/* --timeout: seconds per wait; 0 = none */
	const char *pin_file;	/* --pin-file: the PIN of every key */
	const char *pin_map;	/* --pin-map: "SERIAL PIN" lines */
	int dry_run, keep_old, allow_final_try;
} gm_wait_options;

/* The PIN map must be a regular file, mode 0600 (no group or other bits),
 * owned by the user. */
int gm_pin_map_check(const char *path, gm_error *err);
int cmd_renew_wait(gm_cli *cli, const gm_wait_options *o);
/* "gmrenew: ..." on stderr, a note for the user while waiting. */
void gm_cli_note(gm_cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
