/*
 * cmd_check_env.c - `gmrenew check-env`: the helpdesk's diagnosis, the CA's
 * environment check for a terminal. Runs every check (checkenv_checks.c)
 * and shows each as pass, warn, fail or skip with what it found and the fix
 * (checkenv_output.c); --report FILE keeps the result and the versions for
 * a support ticket. Asks for no PIN and changes neither the token nor the
 * service. The module and token are handled here, not by the shared setup,
 * so that a missing driver is a failed check rather than an early error.
 * Exit 0 when no check fails (warnings are fine), 5 otherwise.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkenv_internal.h"

static int want_colour(void)
{
	const char *term = getenv("TERM");

	return isatty(STDOUT_FILENO) && !getenv("NO_COLOR") &&
	       !(term && !strcmp(term, "dumb"));
}

static int write_report(const ce_run *r, const char *path)
{
	cJSON *doc = ce_report_json(r);
	char *text = cJSON_Print(doc);
	char *with_newline, *safe;
	gm_error err;
	int rc;

	cJSON_Delete(doc);
	if (!text)
		abort();	/* cJSON fails only when out of memory */
	safe = gm_json_text_safe(text);
	with_newline = gm_xasprintf("%s\n", safe);
	free(safe);
	cJSON_free(text);
	rc = ce_write_private(path, with_newline, &err);
	free(with_newline);
	if (rc < 0)
		gm_cli_error_text(&err);
	return rc;
}

typedef struct check_env_opts {
	const char *report;
} check_env_opts;

static const gm_option options[] = {
	{ "report", 0, GM_OPT_STRING, offsetof(check_env_opts, report), "FILE",
	  N_("also write the result and the versions of gmrenew, its "
	  "libraries, the driver and the system to FILE (mode 0600), "
	  "for a support ticket") },
	{ NULL, 0, 0, 0, NULL, NULL },
};

const gm_command_options cmd_check_env_options = {
	options, sizeof(check_env_opts), NULL, NULL
};

int cmd_check_env(gm_cli *cli, int argc, char **argv)
{
	const char *report = ((const check_env_opts *)cli->opts)->report;
	ce_run r;
	int code;

	(void)argc;
	(void)argv;
	ce_run_init(&r, cli);
	ce_run_all(&r);
	code = ce_ok(&r) ? GM_EXIT_OK : GM_EXIT_ENV;
	if (cli->json)
		gm_cli_print_json(ce_json(&r));
	else
		ce_print(&r, stdout, want_colour());
	if (report) {
		if (write_report(&r, report) < 0)
			code = code ? code : GM_EXIT_FAILED;
		else if (!cli->json)
			gm_printf(_("Report for a support ticket: %s\n"), report);
	}
	ce_run_release(&r);
	return code;
}
