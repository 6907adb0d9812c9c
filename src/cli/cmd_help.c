/*
 * cmd_help.c - `gmrenew help [COMMAND]`: the manual's text (manpage.c) of
 * one command, or the whole manual, wrapped to the terminal.
 */
#include "gmrenew/cli.h"

int cmd_help(gm_cli *cli, int argc, char **argv)
{
	gm_doc d = { stdout, 0, gm_term_width(stdout) };
	const gm_command *cmd;

	(void)cli;
	if (argc == 0) {
		gm_manual(&d);
		return GM_EXIT_OK;
	}
	cmd = gm_cli_command(argv[0]);
	if (!cmd)
		return GM_EXIT_USAGE;
	gm_manual_command(&d, cmd);
	return GM_EXIT_OK;
}
