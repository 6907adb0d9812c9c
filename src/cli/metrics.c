/*
 * metrics.c - `list-certs --metrics FILE`: the token's certificates, PIN
 * state, pending renewals and run times in the Prometheus text format, for
 * node_exporter's textfile collector (docs/fleet.md lists the series). The
 * file is written to a hidden temporary file in the same directory and
 * renamed over FILE, so the collector never reads half of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gmrenew/renewal.h"
#include "fleet_internal.h"

char *gm_cli_state_dir(const gm_cli *cli)
{
	return cli->cfg.state_dir ? gm_xstrdup(cli->cfg.state_dir) :
		gm_state_dir_default();
}

/* A label value as the text format wants it: \\, \" and \n escaped. */
static void put_label(FILE *f, const char *name, const char *value, int first)
{
	const char *p;

	fprintf(f, "%s%s=\"", first ? "" : ",", name);
	for (p = value ? value : ""; *p; p++) {
		if (*p == '\\' || *p == '"')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void family(FILE *f, const char *name, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static void cert_labels(FILE *f, const char *name, const gm_cli *cli,
			const gm_cert_view *v)
{
	fprintf(f, "%s{", name);
	put_label(f, "token_serial", cli->token.serial, 1);
	put_label(f, "cert_serial", v->obj->facts.serial_hex, 0);
	put_label(f, "gateway", v->obj->facts.gateway, 0);
	put_label(f, "system", v->obj->facts.system, 0);
}

/* The certificates that count: readable, with their key pair on the token
 * (a CA certificate stored on the Ekey is not renewed). */
static int counted(const gm_cert_view *v)
{
	return v->obj->parsed && v->obj->key_state != GM_KEY_MISSING;
}

#define EXPIRY "gmrenew_certificate_expiry_timestamp_seconds"
#define DAYS "gmrenew_certificate_days_left"
#define WINDOW "gmrenew_certificate_renewal_window"

static void cert_series(FILE *f, const gm_cli *cli, const gm_cert_list *l)
{
	static const gm_renewal_kind kinds[] = { GM_RENEWAL_NOT_DUE,
		GM_RENEWAL_ONLINE, GM_RENEWAL_OFFLINE_ONLY };
	size_t i, k;

	family(f, EXPIRY, "End of the certificate's validity (notAfter), "
	       "Unix time.");
	for (i = 0; i < l->n; i++)
		if (counted(&l->views[i])) {
			cert_labels(f, EXPIRY, cli, &l->views[i]);
			fprintf(f, "} %lld\n",
				(long long)l->views[i].obj->facts.not_after);
		}
	family(f, DAYS, "Whole days until the certificate expires (negative: "
	       "expired).");
	for (i = 0; i < l->n; i++)
		if (counted(&l->views[i])) {
			cert_labels(f, DAYS, cli, &l->views[i]);
			fprintf(f, "} %ld\n", l->views[i].verdict.days_left);
		}
	family(f, WINDOW, "1 for the certificate's renewal window: not_due, online or "
	       "offline_only.");
	for (i = 0; i < l->n; i++)
		for (k = 0; counted(&l->views[i]) && k < 3; k++) {
			cert_labels(f, WINDOW, cli, &l->views[i]);
			put_label(f, "window", gm_renewal_name(kinds[k]), 0);
			fprintf(f, "} %d\n",
				l->views[i].verdict.renewal == kinds[k]);
		}
}

static const char *pin_word(const gm_pin_state *p)
{
	if (p->locked)
		return "locked";
	if (p->final_try)
		return "final_try";
	if (p->count_low)
		return "low";
	return "ok";
}

static void token_series(FILE *f, gm_cli *cli)
{
	static const char *const states[] = { "ok", "low", "final_try",
					      "locked" };
	gm_pin_state pin;
	gm_error err;
	size_t i;

	if (gm_session_pin_state(cli->session, &pin, &err)) {
		gm_debug("PIN state for the metrics: %s", err.msg);
		return;
	}
	family(f, "gmrenew_token_pin_state",
	       "1 for the user PIN's state: ok, low (a wrong PIN was given), "
	       "final_try or locked.");
	for (i = 0; i < 4; i++) {
		fputs("gmrenew_token_pin_state{", f);
		put_label(f, "token_serial", cli->token.serial, 1);
		put_label(f, "state", states[i], 0);
		fprintf(f, "} %d\n", !strcmp(pin_word(&pin), states[i]));
	}
}

static void token_value(FILE *f, const gm_cli *cli, const char *name,
			const char *help, long long value)
{
	family(f, name, help);
	fprintf(f, "%s{", name);
	put_label(f, "token_serial", cli->token.serial, 1);
	fprintf(f, "} %lld\n", value);
}

static void run_series(FILE *f, const gm_cli *cli)
{
	char *dir = gm_cli_state_dir(cli);
	gm_run_record r;

	gm_run_record_read(dir, cli->token.serial, &r);
	token_value(f, cli, "gmrenew_pending_renewals",
		    "Renewals started on this machine and not finished "
		    "(finish them with renew-with-code).",
		    gm_pending_renewals(dir, cli->token.serial));
	token_value(f, cli, "gmrenew_last_run_timestamp_seconds",
		    "When a renewal run last ended for the token, Unix time "
		    "(0: never).", (long long)r.last_run);
	token_value(f, cli, "gmrenew_last_success_timestamp_seconds",
		    "When a renewal run last ended well for the token (renewed "
		    "or not due), Unix time (0: never).",
		    (long long)r.last_success);
	free(dir);
}

static void write_all_series(FILE *f, gm_cli *cli, const gm_cert_list *l)
{
	cert_series(f, cli, l);
	token_series(f, cli);
	run_series(f, cli);
	family(f, "gmrenew_metrics_timestamp_seconds",
	       "When gmrenew wrote this file, Unix time.");
	fprintf(f, "gmrenew_metrics_timestamp_seconds %lld\n",
		(long long)cli->now);
}

typedef struct metrics_job {
	gm_cli *cli;
	const gm_cert_list *list;
} metrics_job;

static int fill_metrics(FILE *f, void *ctx)
{
	metrics_job *job = ctx;

	write_all_series(f, job->cli, job->list);
	return 0;	/* write errors show in ferror() */
}

/* Mode 0644: the collector may run as another user. The temporary file's
 * name starts with a dot: node_exporter reads only *.prom files. */
int gm_metrics_write(gm_cli *cli, const gm_cert_list *list, const char *path,
		     gm_error *err)
{
	metrics_job job = { cli, list };

	return gm_file_replace(path, N_("metrics file"), 0644, fill_metrics, &job,
			       err);
}
