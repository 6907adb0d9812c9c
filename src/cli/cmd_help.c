/*
 * cmd_help.c - `gmrenew help [COMMAND]`: the manual's text (manpage.c) of
 * one command, or the whole manual, wrapped to the terminal.
 */
#include <string.h>

#include "gmrenew/cli.h"

int cmd_help(gm_cli *cli, int argc, char **argv)
{
	const gm_option opts[] = { { NULL, 0, 0, NULL, NULL, NULL } };
	gm_doc d = { stdout, 0, gm_term_width(stdout) };
	int pos, r;
	size_t i;

	r = gm_cli_parse(cli, opts, argc, argv, &pos);
	if (r)
		return r > 0 ? GM_EXIT_OK : GM_EXIT_USAGE;
	if (pos + 1 < argc) {
		gm_fprintf(stderr, _("gmrenew help: unexpected argument '%s'\n"),
			argv[pos + 1]);
		return GM_EXIT_USAGE;
	}
	if (pos == argc) {
		gm_manual(&d);
		return GM_EXIT_OK;
	}
	for (i = 0; gm_commands[i].name; i++)
		if (!strcmp(gm_commands[i].name, argv[pos])) {
			gm_manual_command(&d, &gm_commands[i]);
			return GM_EXIT_OK;
		}
	gm_fprintf(stderr, _("gmrenew: '%s' is not a gmrenew command; see "
			  "'gmrenew --help'\n"), argv[pos]);
	return GM_EXIT_USAGE;
}
