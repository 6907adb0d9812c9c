/*
 * setup.c - the shared setup a subcommand asks for with its flags: the
 * configuration file, the PKCS#11 module, exactly one token and a session.
 * Command-line options win over the configuration files.
 */
#include <stdlib.h>
#include <string.h>

#include "gmrenew/cli.h"
#include "fleet_internal.h"

static int load_config(gm_cli *cli, gm_error *err)
{
	const char *env = getenv("GMRENEW_CONFIG");
	int r = gm_config_load_all(&cli->cfg, cli->config_opt, err);

	if (r && !cli->config_opt && env && *env && strstr(err->msg, env))
		gm_error_set_fix(err, "the environment variable GMRENEW_CONFIG "
				 "names this file: correct or unset "
				 "GMRENEW_CONFIG, or pass --config FILE");
	return r;
}

int gm_cli_open_api(gm_cli *cli, const char *path, gm_api_choice *out,
		    gm_error *err)
{
	gm_token_api want;

	memset(out, 0, sizeof(*out));
	if (cli->api_opt ? gm_token_api_parse(cli->api_opt, "--api", &want, err)
			 : gm_token_api_parse(cli->cfg.token_api,
					      "configuration [token] api", &want,
					      err))
		return -1;
	/* both APIs: SKF for the epass3000gm profile, named in the
	 * configuration or detected (docs/skf.md, "Which API") */
	return gm_module_open_chosen(path, want, &cli->cfg, out, &cli->module,
				     err);
}

static int open_module(gm_cli *cli, gm_error *err)
{
	gm_api_choice choice;
	gm_profile hint;
	char *path;
	int r;

	/* The profile named in the configuration (or FEITIAN's) tells which
	 * library names to look for when no path is given. */
	if (gm_profile_get(cli->cfg.profile ? cli->cfg.profile : "epass3000gm",
			   &cli->cfg, &hint, err))
		return -1;
	path = gm_module_locate(cli->module_opt, &cli->cfg, &hint, err);
	if (!path)
		return -1;
	gm_debug("loading token library '%s'", path);
	r = gm_cli_open_api(cli, path, &choice, err);
	free(path);
	return r;
}

static int open_token(gm_cli *cli, unsigned flags, gm_error *err)
{
	const char *uri = cli->token_opt ? cli->token_opt : cli->cfg.token_uri;

	if (gm_token_select(cli->module, uri, &cli->token, err))
		return -1;
	gm_outcome_token(&cli->token);
	if (gm_profile_detect(cli->module, &cli->token, &cli->cfg,
			      &cli->profile, err))
		return -1;
	gm_debug("token '%s' serial '%s', profile '%s'", cli->token.label,
		 cli->token.serial, cli->profile.name);
	if (gm_session_open(cli->module, &cli->token,
			    (flags & GM_CMD_RW) != 0, &cli->session, err))
		return -1;
	gm_session_set_pin_tries(cli->session, cli->profile.pin_max_tries);
	gm_session_set_profile(cli->session, &cli->profile);
	return 0;
}

/* Each part is done once, however often a command asks. */
int gm_cli_setup(gm_cli *cli, unsigned flags, gm_error *err)
{
	gm_verbosity = cli->verbose;
	if ((flags & (GM_CMD_CONFIG | GM_CMD_MODULE | GM_CMD_TOKEN)) &&
	    !(cli->setup_done & GM_CMD_CONFIG)) {
		if (load_config(cli, err))
			return -1;
		cli->setup_done |= GM_CMD_CONFIG;
	}
	if ((flags & (GM_CMD_MODULE | GM_CMD_TOKEN)) && !cli->module)
		if (open_module(cli, err))
			return -1;
	if ((flags & GM_CMD_TOKEN) && !cli->session)
		if (open_token(cli, flags, err))
			return -1;
	return 0;
}

void gm_cli_teardown(gm_cli *cli)
{
	gm_session_close(cli->session);
	cli->session = NULL;
	gm_token_info_release(&cli->token);
	gm_module_close(cli->module);
	cli->module = NULL;
	gm_config_release(&cli->cfg);
}
