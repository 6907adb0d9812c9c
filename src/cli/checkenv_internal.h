/*
 * checkenv_internal.h - what the parts of `gmrenew check-env` share: the
 * checks as data (id, status, summary, detail, fix) and the state one run
 * collects on its way (configuration, module, tokens, certificates, the
 * service's answer). checkenv_checks.c fills it, checkenv_output.c shows it,
 * cmd_check_env.c drives both.
 */
#ifndef GMRENEW_CHECKENV_INTERNAL_H
#define GMRENEW_CHECKENV_INTERNAL_H

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include <openssl/x509.h>

#include "gmrenew/cli.h"
#include "gmrenew/service.h"

typedef enum ce_status {
	CE_PASS,
	CE_WARN,
	CE_FAIL,
	CE_SKIP,
} ce_status;

/* The checks, in the order they are shown. */
enum {
	CE_CONFIG,
	CE_DRIVER,
	CE_USB,
	CE_SINGLE_TOKEN,
	CE_PIN,
	CE_MATCHING_CERT,
	CE_SERVICE,
	CE_CLOCK,
	CE_N_CHECKS,
};

typedef struct ce_check {
	const char *id;		/* "config", "driver", ... */
	ce_status status;
	char *summary;		/* one sentence; owned */
	char *detail;		/* lines separated by '\n', or NULL; owned */
	char *fix;		/* what to do; NULL when passed; owned */
} ce_check;

typedef struct ce_run {
	gm_cli *cli;		/* cli->module and cli->session are ours */
	ce_check checks[CE_N_CHECKS];
	/* config */
	int config_file_read;		/* a file was found and parsed */
	int have_service;		/* url and ca_bundle usable */
	gm_profile profile;		/* configured one, else FEITIAN's */
	unsigned char *probe_der;	/* a certificate of the CA bundle, for
					 * a lookup when the token has none */
	size_t probe_len;
	/* driver */
	char *module_path;		/* located, or NULL */
	int have_info;
	gm_module_info info;
	/* single_token */
	int tokens_read;
	gm_token_info *tokens;
	size_t n_tokens;
	/* matching_cert */
	int certs_read;
	gm_cert_list certs;
	/* service */
	gm_service *service;
	gm_ca_record *records;		/* one per parsed certificate */
	size_t n_records;
	time_t answered_at;		/* local time of the answer */
} ce_run;

/* Status names as --json shows them: "pass", "warn", "fail", "skip". */
const char *ce_status_name(ce_status s);

/* Sets a check's status, fix (NULL for none) and summary. */
void ce_set(ce_check *c, ce_status s, const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Appends one line to a check's detail. */
void ce_detail(ce_check *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A skipped check, naming the check it depends on. */
void ce_skip(ce_check *c, const char *because_id, const char *why);

void ce_run_init(ce_run *r, gm_cli *cli);
void ce_run_release(ce_run *r);

/* Runs every check, in dependency order; never stops early. */
void ce_run_all(ce_run *r);

/* Whether no check failed. */
int ce_ok(const ce_run *r);

/* {"ok", "checks": [...]} (caller frees). */
cJSON *ce_json(const ce_run *r);
/* The same plus versions and the system, for a support ticket. */
cJSON *ce_report_json(const ce_run *r);
/* One line per check and a verdict, 80 columns. */
void ce_print(const ce_run *r, FILE *f, int colour);
/* Writes text to path with mode 0600; -1 with err on failure. */
int ce_write_private(const char *path, const char *text, gm_error *err);

#endif
