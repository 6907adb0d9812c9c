/*
 * renew_common.c - what `renew` and `renew-with-code` share: the renewal
 * context (service, policy, state directory), progress on the terminal, the
 * update code shown prominently, and the result (text or JSON).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gmrenew/cli.h"
#include "gmrenew/renewal.h"
#include "fleet_internal.h"

static void on_progress(void *ctx, int number, int total, const char *what)
{
	gm_renew_session *rs = ctx;

	if (!rs->cli->json)
		gm_fprintf(stderr, "[%d/%d] %s\n", number, total, _(what));
}

static void on_warn(void *ctx, const char *what)
{
	(void)ctx;
	gm_cli_warn("%s", what);
}

/* One line of the update code's box, padded by display width. */
static void box_line(const char *text, size_t width)
{
	fputs("  | ", stderr);
	gm_print_cell(stderr, text, width);
	fputs(" |\n", stderr);
}

/* With --json: one line on stderr the moment the code is known, so that a
 * script learns it even when the renewal is interrupted. */
static void code_json_line(const char *event, const char *code,
			   const char *journal)
{
	cJSON *doc = cJSON_CreateObject();

	cJSON_AddStringToObject(doc, "event", event);
	cJSON_AddStringToObject(doc, "update_code", code);
	cJSON_AddStringToObject(doc, "journal", journal);
	gm_cli_write_json(stderr, doc, 1);	/* takes doc */
	fflush(stderr);
}

static void on_resumed(void *ctx, const char *code, const char *journal)
{
	gm_renew_session *rs = ctx;

	snprintf(rs->code, sizeof(rs->code), "%s", code);
	if (rs->cli->json)
		code_json_line("resumed", code, journal);
	else
		gm_fprintf(stderr, _("Resuming the interrupted renewal %s found in "
			"this machine's journal (%s)\n"), code, journal);
}

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

void gm_renew_signals(int on)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on ? on_signal : SIG_DFL;
	/* calls in progress finish; the second signal ends the process */
	sa.sa_flags = on ? SA_RESTART | SA_RESETHAND : 0;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int on_interrupted(void *ctx)
{
	(void)ctx;
	return stop_signal != 0;
}

/* At the PIN prompt Ctrl-C ends the process as usual: nothing on the
 * token has changed yet. */
static int on_login(void *ctx, gm_error *err)
{
	gm_renew_session *rs = ctx;
	int r;

	if (!rs->login)
		return 0;
	gm_renew_signals(0);
	r = gm_cli_login(rs->cli, rs->login, err);
	gm_renew_signals(1);
	return r;
}

static void on_code(void *ctx, const char *code, const char *journal)
{
	gm_renew_session *rs = ctx;
	char line[3][96];
	size_t i, width = 0;

	snprintf(rs->code, sizeof(rs->code), "%s", code);
	if (rs->cli->json) {
		code_json_line("update_code", code, journal);
		return;
	}
	snprintf(line[0], sizeof(line[0]), _("UPDATE CODE (更新码):  %s"), code);
	snprintf(line[1], sizeof(line[1]), _("Write it down. If the renewal stops "
		 "part-way, finish it with:"));
	snprintf(line[2], sizeof(line[2]), _("    gmrenew renew-with-code %s"), code);
	for (i = 0; i < 3; i++)
		if (gm_display_width(line[i]) > width)
			width = gm_display_width(line[i]);
	fputs("\n  +", stderr);
	for (i = 0; i < width + 2; i++)
		fputc('-', stderr);
	fputs("+\n", stderr);
	for (i = 0; i < 3; i++)
		box_line(line[i], width);
	fputs("  +", stderr);
	for (i = 0; i < width + 2; i++)
		fputc('-', stderr);
	gm_fprintf(stderr, _("+\n  (journal: %s)\n\n"), journal);
}

int gm_cli_service_open(gm_cli *cli, gm_service **out, gm_error *err)
{
	gm_service_options o;

	gm_service_options_defaults(&o);
	gm_service_options_from_config(&o, &cli->cfg);
	if (!o.url)
		return gm_fail(err, GM_EXIT_USAGE,
			       "set [service] url in the configuration file, "
			       "e.g. with 'gmrenew config init'",
			       "the renewal service's URL is not configured");
	if (!o.ca_bundle)
		return gm_fail(err, GM_EXIT_USAGE,
			       "set [service] ca_bundle in the configuration file",
			       "no CA bundle to verify the renewal service's TLS "
			       "certificate");
	return gm_service_open(&o, out, err);
}

int gm_renew_session_open(gm_cli *cli, gm_renew_session *rs, gm_error *err)
{
	memset(rs, 0, sizeof(*rs));
	rs->cli = cli;
	gm_cli_policy(cli, &rs->policy);
	rs->state_dir = cli->cfg.state_dir ? gm_xstrdup(cli->cfg.state_dir) :
		gm_state_dir_default();
	if (gm_cli_service_open(cli, &rs->service, err))
		return -1;
	rs->ctx = (gm_renewal_ctx){
		.session = cli->session, .profile = &cli->profile,
		.token = &cli->token, .service = rs->service,
		.policy = &rs->policy,
		.chain_bundle = cli->cfg.chain_bundle,
		.state_dir = rs->state_dir, .now = cli->now,
		.hooks = { rs, on_progress, on_code, on_warn, on_resumed,
			   on_interrupted, on_login },
	};
	return 0;
}

int gm_renew_session_lock(gm_renew_session *rs, gm_error *err)
{
	if (gm_token_lock_acquire(rs->state_dir, rs->cli->token.serial,
				  &rs->lock, err))
		return -1;
	rs->ctx.lock = rs->lock;
	return 0;
}

void gm_renew_session_close(gm_renew_session *rs)
{
	gm_token_lock_release(rs->lock);
	if (rs->cli && rs->service)
		gm_outcome_renew_ok(rs);	/* no error was reported */
	gm_renewal_result_release(&rs->result);
	gm_service_close(rs->service);
	free(rs->state_dir);
	memset(rs, 0, sizeof(*rs));
}

cJSON *gm_checks_json(const gm_verify_report *r)
{
	static const char *const names[] = { "pass", "fail", "skip" };
	cJSON *arr = cJSON_CreateArray();
	size_t i;

	for (i = 0; i < r->n; i++) {
		cJSON *c = cJSON_CreateObject();

		cJSON_AddStringToObject(c, "id", r->checks[i].id);
		cJSON_AddStringToObject(c, "status",
					names[r->checks[i].status]);
		cJSON_AddStringToObject(c, "detail", r->checks[i].detail);
		cJSON_AddItemToArray(arr, c);
	}
	return arr;
}

cJSON *gm_renew_result_json(gm_renew_session *rs, int ok)
{
	cJSON *doc = cJSON_CreateObject();

	if (ok)
		gm_outcome_renew_ok(rs);
	cJSON_AddBoolToObject(doc, "ok", ok);
	if (rs->code[0])
		cJSON_AddStringToObject(doc, "update_code", rs->code);
	else
		cJSON_AddNullToObject(doc, "update_code");
	cJSON_AddStringToObject(doc, "state", rs->result.state[0] ?
				rs->result.state : "none");
	cJSON_AddBoolToObject(doc, "nothing_to_do", rs->result.nothing_to_do);
	cJSON_AddItemToObject(doc, "token", gm_token_json(&rs->cli->token));
	cJSON_AddItemToObject(doc, "checks", gm_checks_json(&rs->result.report));
	if (rs->result.journal[0])
		cJSON_AddStringToObject(doc, "journal", rs->result.journal);
	return doc;
}

/* The fix with the word CODE replaced by the update code once known.
 * Caller frees. */
static char *fix_with_code(const char *fix, const char *code)
{
	static const char word[] = N_("renew-with-code CODE");
	const char *p = code[0] ? strstr(fix, word) : NULL;

	if (!p)
		return gm_xstrdup(fix);
	return gm_xasprintf(_("%.*srenew-with-code %s%s"), (int)(p - fix), fix,
			    code, p + strlen(word));
}

/* What is true of the token now, and the one next step. */
static void print_next(const gm_renew_session *rs, int code)
{
	if (code == GM_EXIT_INTERRUPTED && !rs->code[0])
		gm_fprintf(stderr, _("gmrenew: nothing was started; the token was "
			"not changed\n"));
	else if (code == GM_EXIT_ENV && rs->code[0])
		;	/* another Ekey: the fix names the one next step */
	else if (rs->code[0] && code != GM_EXIT_VERIFY)
		gm_fprintf(stderr, _("gmrenew: the token still holds a usable "
			"certificate. To finish this renewal later run:\n"
			"    gmrenew renew-with-code %s\n"), rs->code);
	else if (rs->code[0])
		gm_fprintf(stderr, _("gmrenew: the new certificate was not installed; "
			"the old one stays in use. Update code: %s\n"), rs->code);
}

/* The error, and how to finish once the code is known. */
int gm_renew_report_failure(gm_renew_session *rs, gm_error *err)
{
	gm_cli *cli = rs->cli;
	char *fix = fix_with_code(err->fix, rs->code);
	gm_error shown = *err;
	int code;

	snprintf(shown.fix, sizeof(shown.fix), "%s", fix);
	free(fix);
	code = shown.code ? (int)shown.code : GM_EXIT_FAILED;
	gm_outcome_error(err);
	if (rs->code[0])
		gm_outcome_update_code(rs->code);
	if (cli->json) {
		cJSON *doc = gm_renew_result_json(rs, 0);

		cJSON_AddItemToObject(doc, "error", gm_cli_error_json(&shown));
		gm_cli_print_json(doc);
	}
	if (code == GM_EXIT_INTERRUPTED) {
		gm_fprintf(stderr, _("gmrenew: interrupted (signal %d): the renewal "
			"stopped at a safe point\n"), (int)stop_signal);
		if (shown.fix[0])
			gm_print_wrapped(stderr, _("gmrenew: what to do: "), 0,
					 "%s", shown.fix);
	} else {
		gm_cli_error_text(&shown);
	}
	print_next(rs, code);
	return code;
}

/* One line before/after: "valid to X" with the days gained. */
void gm_renew_print_change(FILE *f, const gm_cert_facts *old,
			   const gm_cert_facts *fresh)
{
	char a[48], b[48];

	gm_format_time(old->not_after, a, sizeof(a));
	gm_format_time(fresh->not_after, b, sizeof(b));
	gm_fprintf(f, _("Before: %s\n        serial %s, valid to %s\n"), old->subject,
		old->serial_hex, a);
	gm_fprintf(f, _("After:  %s\n        serial %s, valid to %s\n"), fresh->subject,
		fresh->serial_hex, b);
	gm_fprintf(f, _("Validity extended by %ld days (about %.1f years).\n"),
		(long)((fresh->not_after - old->not_after) / 86400),
		(double)(fresh->not_after - old->not_after) / (365.25 * 86400));
}

static int enc_facts(const gm_renewal_result *res, gm_cert_facts *f)
{
	return res->enc_der &&
	       !gm_cert_facts_parse(res->enc_der, res->enc_der_len, f, NULL);
}

void gm_renew_print_encryption(FILE *f, const gm_renewal_result *res)
{
	gm_cert_facts e;
	char a[48], b[48];

	if (!enc_facts(res, &e))
		return;
	gm_format_time(e.not_before, a, sizeof(a));
	gm_format_time(e.not_after, b, sizeof(b));
	gm_fprintf(f, _("Encryption certificate (加密证书): %s\n"
		"        serial %s, valid from %s to %s\n"
		"        SHA-256 %s\n"), e.subject, e.serial_hex, a, b,
		e.sha256_hex);
	gm_cert_facts_release(&e);
}

void gm_renew_encryption_json(cJSON *doc, const gm_renewal_result *res)
{
	gm_cert_facts e;
	cJSON *o;
	char t[32];

	if (!enc_facts(res, &e))
		return;
	o = cJSON_AddObjectToObject(doc, "new_encryption");
	cJSON_AddStringToObject(o, "subject", e.subject);
	cJSON_AddStringToObject(o, "serial", e.serial_hex);
	cJSON_AddStringToObject(o, "sha256", e.sha256_hex);
	gm_time_rfc3339(e.not_before, t, sizeof(t));
	cJSON_AddStringToObject(o, "not_before", t);
	gm_time_rfc3339(e.not_after, t, sizeof(t));
	cJSON_AddStringToObject(o, "not_after", t);
	gm_cert_facts_release(&e);
}
