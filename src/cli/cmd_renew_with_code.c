/*
 * cmd_renew_with_code.c - `gmrenew renew-with-code CODE`: finishes a renewal
 * from whatever point it reached, with only the token and the update code
 * (更新码). Running it again on a finished renewal changes nothing.
 */
#include <stddef.h>
#include <string.h>

#include "gmrenew/cli.h"

static int print_result(gm_renew_session *rs)
{
	gm_cert_facts fresh;
	int have = rs->result.new_der &&
		   !gm_cert_facts_parse(rs->result.new_der,
					rs->result.new_der_len, &fresh, NULL);
	cJSON *doc;

	if (rs->cli->json) {
		doc = gm_renew_result_json(rs, 1);
		if (have)
			cJSON_AddStringToObject(doc, "new_sha256",
						fresh.sha256_hex);
		gm_renew_encryption_json(doc, &rs->result);
		gm_cli_print_json(doc);
	} else if (rs->result.nothing_to_do) {
		gm_printf(_("Renewal %s is already complete; nothing was changed.\n"),
		       rs->code);
	} else {
		char until[48] = "";

		if (have)
			gm_format_time(fresh.not_after, until, sizeof(until));
		gm_printf(_("Renewal %s is complete.\n"), rs->code);
		if (have)
			gm_printf(_("Certificate: %s\n  serial %s, valid to %s\n"),
			       fresh.subject, fresh.serial_hex, until);
		gm_renew_print_encryption(stdout, &rs->result);
	}
	if (have)
		gm_cert_facts_release(&fresh);
	return GM_EXIT_OK;
}

typedef struct code_opts {
	gm_login_options login;
	char code[24];		/* the update code, canonical */
} code_opts;

static const gm_option options[] = {
	GM_RENEW_LOGIN_OPTIONS(code_opts, login),
	{ NULL, 0, 0, 0, NULL, NULL },
};

static void defaults(void *values)
{
	((code_opts *)values)->login.pin.fd = -1;
}

/* The code's syntax first, before anything is asked. */
static int check(gm_cli *cli, int argc, char **argv, gm_error *err)
{
	code_opts *o = cli->opts;

	if (argc != 1)
		return gm_fail(err, GM_EXIT_USAGE,
			       "e.g. 'gmrenew renew-with-code "
			       "K7QF-3MZP-W9CD-HX2N'",
			       "give the update code (更新码)");
	return gm_update_code_normalize(argv[0], o->code, err);
}

const gm_command_options cmd_renew_with_code_options = {
	options, sizeof(code_opts), defaults, check
};

int cmd_renew_with_code(gm_cli *cli, int argc, char **argv)
{
	const code_opts *o = cli->opts;
	gm_renew_session rs;
	gm_error err;
	int r;

	(void)argc;
	(void)argv;
	memset(&rs, 0, sizeof(rs));
	/* The PIN only once the renewal needs the keys (never for a finished
	 * one). */
	if (gm_renew_session_open(cli, &rs, &err) ||
	    gm_renew_session_lock(&rs, &err)) {
		r = gm_cli_report_error(cli, &err);
		goto out;
	}
	rs.login = &o->login;
	gm_renew_signals(1);
	r = gm_renew_with_code(&rs.ctx, o->code, &rs.result, &err);
	gm_renew_signals(0);
	if (r)
		r = gm_renew_report_failure(&rs, &err);
	else
		r = print_result(&rs);
out:
	gm_renew_session_close(&rs);
	return r;
}
