/*
 * cmd_renew_with_code.c - `gmrenew renew-with-code CODE`: finishes a renewal
 * from whatever point it reached, with only the token and the update code
 * (更新码). Running it again on a finished renewal changes nothing.
 */
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
	}
	if (have)
		gm_cert_facts_release(&fresh);
	return GM_EXIT_OK;
}

int cmd_renew_with_code(gm_cli *cli, int argc, char **argv)
{
	gm_login_options login = { .pin = { .fd = -1 } };
	const gm_option opts[] = {
		{ "pin-file", 0, GM_OPT_STRING, &login.pin.file, "FILE",
		  N_("read the PIN from the first line of FILE") },
		{ "pin-fd", 0, GM_OPT_INT, &login.pin.fd, "N",
		  N_("read the PIN from file descriptor N") },
		{ "allow-final-try", 0, GM_OPT_BOOL, &login.allow_final_try, NULL,
		  N_("use the PIN even when one try is left before locking") },
		{ NULL, 0, 0, NULL, NULL, NULL },
	};
	gm_renew_session rs;
	char canon[24];
	gm_error err;
	int pos, r;

	r = gm_cli_parse(cli, opts, argc, argv, &pos);
	if (r)
		return r > 0 ? GM_EXIT_OK : GM_EXIT_USAGE;
	if (argc - pos != 1) {
		gm_fprintf(stderr, _("gmrenew renew-with-code: give the update code "
			"(更新码), e.g. 'gmrenew renew-with-code K7QF-3MZP-W9CD-HX2N'\n"));
		return GM_EXIT_USAGE;
	}
	memset(&rs, 0, sizeof(rs));
	/* The code's syntax first, before anything is asked; the PIN only
	 * once the renewal needs the keys (never for a finished one). */
	if (gm_update_code_normalize(argv[pos], canon, &err) ||
	    gm_cli_setup(cli, cli->command->flags, &err) ||
	    gm_renew_session_open(cli, &rs, &err) ||
	    gm_renew_session_lock(&rs, &err)) {
		r = gm_cli_report_error(cli, &err);
		goto out;
	}
	rs.login = &login;
	gm_renew_signals(1);
	r = gm_renew_with_code(&rs.ctx, canon, &rs.result, &err);
	gm_renew_signals(0);
	if (r)
		r = gm_renew_report_failure(&rs, &err);
	else
		r = print_result(&rs);
out:
	gm_renew_session_close(&rs);
	return r;
}
