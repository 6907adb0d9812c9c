/*
 * outcome.c - the end of a run, the same for every command: the run record
 * that the metrics read (last run, last success).
 */
#include <stdlib.h>
#include <string.h>

#include "gmrenew/renewal.h"
#include "fleet_internal.h"

/* Commands whose runs count as renewal runs for the metrics. */
static int renewal_command(const gm_cli *cli)
{
	return cli->command && !strncmp(cli->command->name, "renew", 5);
}

static void record_run(gm_cli *cli, int code)
{
	char *dir;
	gm_error err;

	if (!renewal_command(cli) || !cli->token.serial[0])
		return;
	dir = gm_cli_state_dir(cli);
	if (gm_run_record_update(dir, cli->token.serial, time(NULL),
				 code == GM_EXIT_OK || code == GM_EXIT_NOT_DUE,
				 &err))
		gm_cli_warn("%s", err.msg);
	free(dir);
}

int gm_cli_finish(gm_cli *cli, int code)
{
	record_run(cli, code);
	return code;
}
