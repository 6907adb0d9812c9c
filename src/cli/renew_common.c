/*
 * renew_common.c - what `renew` and `renew-with-code` share: the renewal
 * context (service, policy, state directory), progress on the terminal, the
 * update code shown prominently, and the result (text or JSON).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gmrenew/cli.h"
#include "gmrenew/renewal.h"

static void on_progress(void *ctx, int number, int total, const char *what)
{
	gm_renew_session *rs = ctx;

	if (!rs->cli->json)
		fprintf(stderr, "[%d/%d] %s\n", number, total, _(what));
}

/* One line of the update code's box, padded by display width. */
static void box_line(const char *text, size_t width)
{
	fputs("  | ", stderr);
	gm_print_cell(stderr, text, width);
	fputs(" |\n", stderr);
}

static void on_code(void *ctx, const char *code, const char *journal)
{
	gm_renew_session *rs = ctx;
	char line[3][96];
	size_t i, width = 0;

	snprintf(rs->code, sizeof(rs->code), "%s", code);
	if (rs->cli->json)
		return;
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
	fprintf(stderr, _("+\n  (journal: %s)\n\n"), journal);
}

int gm_cli_service_open(gm_cli *cli, gm_service **out, gm_error *err)
{
	gm_service_options o;

	gm_service_options_defaults(&o);
	o.url = cli->cfg.service_url;
	o.ca_bundle = cli->cfg.ca_bundle;
	o.connect_timeout_ms = cli->cfg.connect_timeout_ms;
	o.total_timeout_ms = cli->cfg.total_timeout_ms;
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
		.chain_bundle = cli->cfg.chain_bundle ? cli->cfg.chain_bundle :
			cli->cfg.ca_bundle,
		.state_dir = rs->state_dir, .now = cli->now,
		.hooks = { rs, on_progress, on_code },
	};
	return 0;
}

void gm_renew_session_close(gm_renew_session *rs)
{
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

/* The error, and how to finish once the code is known. */
int gm_renew_report_failure(gm_renew_session *rs, gm_error *err)
{
	gm_cli *cli = rs->cli;
	int code = err->code ? (int)err->code : GM_EXIT_FAILED;

	if (cli->json) {
		cJSON *doc = gm_renew_result_json(rs, 0);
		cJSON *e = cJSON_AddObjectToObject(doc, "error");

		cJSON_AddNumberToObject(e, "exit_code", code);
		cJSON_AddStringToObject(e, "message", err->msg);
		cJSON_AddStringToObject(e, "fix", err->fix);
		if (err->reason[0])
			cJSON_AddStringToObject(e, "reason", err->reason);
		gm_cli_print_json(doc);
	}
	fprintf(stderr, _("gmrenew: error: %s\n"), err->msg);
	if (err->fix[0])
		fprintf(stderr, _("gmrenew: what to do: %s\n"), err->fix);
	if (rs->code[0] && code != GM_EXIT_VERIFY)
		fprintf(stderr, _("gmrenew: the token still holds a usable "
			"certificate. To finish this renewal later run:\n"
			"    gmrenew renew-with-code %s\n"), rs->code);
	else if (rs->code[0])
		fprintf(stderr, _("gmrenew: the new certificate was not installed; "
			"the old one stays in use. Update code: %s\n"), rs->code);
	return code;
}

/* One line before/after: "valid to X" with the days gained. */
void gm_renew_print_change(FILE *f, const gm_cert_facts *old,
			   const gm_cert_facts *fresh)
{
	char a[48], b[48];

	gm_format_time(old->not_after, a, sizeof(a));
	gm_format_time(fresh->not_after, b, sizeof(b));
	fprintf(f, _("Before: %s\n        serial %s, valid to %s\n"), old->subject,
		old->serial_hex, a);
	fprintf(f, _("After:  %s\n        serial %s, valid to %s\n"), fresh->subject,
		fresh->serial_hex, b);
	fprintf(f, _("Validity extended by %ld days (about %.1f years).\n"),
		(long)((fresh->not_after - old->not_after) / 86400),
		(double)(fresh->not_after - old->not_after) / (365.25 * 86400));
}
