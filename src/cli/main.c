/*
 * main.c - gmrenew's entry: make sure the standard descriptors exist, find
 * the subcommand, do the shared setup it asks for, run it, and turn its
 * result into the exit status. Subcommands live in cmd_*.c (cli.h says how
 * to add one).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "gmrenew/cli.h"
#include "gmrenew/crypto.h"
#include "gmrenew/service.h"
#include "gmrenew/version.h"
#include "fleet_internal.h"

const gm_command gm_commands[] = {
	{ "check-env", cmd_check_env, 0, "[--json] [--report FILE]",
	  N_("Check that renewal can work here: configuration, driver, USB, "
	     "one token, PIN, certificate, service, clock."),
	  N_("The CA's environment check for a terminal, and the first thing "
	     "the helpdesk asks for. Every check runs, also after one failed, "
	     "and shows PASS, WARN, FAIL or SKIP with what it found and, when "
	     "not passed, what to do. No PIN is asked and nothing is "
	     "changed.\n\n"
	     "Exit 0 when no check failed (warnings are fine), 5 when one "
	     "did, 1 when the report could not be written."),
	  &cmd_check_env_options, 0 },
	{ "list-certs", cmd_list_certs, GM_CMD_TOKEN, "[options]",
	  N_("List the certificates on the token, with their validity and "
	     "whether they can be renewed."),
	  N_("The table of the CA's renewal page: index, gateway number "
	     "(网关号), organisation (机构名称), system (所属系统), valid from "
	     "and to, days left, status (有效 valid, 过期 expired) and the "
	     "renewal window. With --online the CA's records are added, and "
	     "the update code of an unfinished renewal. No PIN is needed."),
	  &cmd_list_certs_options, 0 },
	{ "verify", cmd_verify, GM_CMD_CONFIG, "[options]",
	  N_("Verify the token's certificates: chain, validity, key, "
	     "renewal."),
	  N_("Checks the chain up to [service] chain_bundle with SM2 on every "
	     "link, the validity now, that the key pair is on the token, and "
	     "after a renewal that the validity moved about five years later "
	     "with the same subject and a new key. Exit 8 when a check "
	     "fails."),
	  &cmd_verify_options, 0 },
	{ "renew", cmd_renew, GM_CMD_TOKEN | GM_CMD_RW, "[options]",
	  N_("Renew a certificate on the token with the CA's renewal service."),
	  N_("Renews the certificate that is due (or the one --cert selects): "
	     "asks the service, shows the update code (更新码), generates the "
	     "new key pair on the token, has the CA sign it, checks the new "
	     "certificate and installs it, and only then retires the old one. "
	     "Do not pull the Ekey out meanwhile; if the renewal stops "
	     "part-way, renew-with-code finishes it.\n\n"
	     "Exit 3 when the certificate is not yet due, 4 when only offline "
	     "renewal is possible, 6 for a PIN problem, 7 when the service is "
	     "unavailable."),
	  &cmd_renew_options, 0 },
	{ "renew-with-code", cmd_renew_with_code, GM_CMD_TOKEN | GM_CMD_RW,
	  "[options] CODE",
	  N_("Finish an interrupted renewal with its update code (更新码)."),
	  N_("Continues a renewal from the step where it stopped, with the "
	     "journal kept on this machine and the service's record of the "
	     "code. It is safe to run again: a finished renewal is reported "
	     "as finished."),
	  &cmd_renew_with_code_options, 1 },
	{ "config", cmd_config, 0, "show | init [options]",
	  N_("Show the configuration in effect, or write a first one."),
	  N_("'config show' prints every key with its value and where the "
	     "value came from: a file, an option, or the default. 'config "
	     "init' writes a configuration file (mode 0644) with the "
	     "service's URL and the two PEM files the CA gives, after "
	     "checking them: the user's file, or the --config file (e.g. "
	     "/etc/gmrenew/gmrenew.conf as root). It does not overwrite a "
	     "file without --force."),
	  &cmd_config_options, 1 },
	{ "help", cmd_help, 0, "[COMMAND]",
	  N_("Show the manual's text of a command, or of everything."),
	  NULL, NULL, 1 },
	{ NULL, NULL, 0, NULL, NULL, NULL, NULL, 0 },
};

static void print_help(FILE *f)
{
	size_t i, width = gm_term_width(f);

	gm_fprintf(f, "%s\n\n", _("usage: gmrenew [global options] COMMAND "
				"[options]"));
	gm_wrap(f, _("Renews SM2 certificates on FEITIAN ePass3000GM USB keys "
		     "(Ekey) from a terminal."), 0, 0, width);
	gm_fprintf(f, "\n%s\n", _("Commands:"));
	for (i = 0; gm_commands[i].name; i++) {
		gm_fprintf(f, "  %-16s ", gm_commands[i].name);
		gm_wrap(f, _(gm_commands[i].summary), 19, 19, width);
	}
	gm_fprintf(f, "\n%s\n", _("Global options:"));
	gm_cli_print_options(f, gm_global_options);
	gm_cli_help_line(f, "-h, --help", _("show this help and exit"));
	gm_cli_help_line(f, "    --version",
			 _("show the versions of gmrenew and its libraries"));
	fputc('\n', f);
	gm_wrap(f, _("'gmrenew help COMMAND' describes a command, 'man "
		     "gmrenew' everything: the configuration, the exit codes, "
		     "examples."), 0, 0, width);
}

static void print_version(void)
{
	const char *curl = gm_service_curl_version();

	if (!strncmp(curl, "libcurl/", 8))
		curl += 8;
	gm_printf("gmrenew %s\n", GMRENEW_VERSION);
	gm_printf("crypto: %s\n", gm_crypto_library());
	gm_printf("libcurl: %s\n", curl);
	gm_printf("service protocols: TLS%s\n", gm_service_tlcp_available() ?
	       ", TLCP (NTLS 1.1)" : " (no TLCP: not built on Tongsuo with NTLS)");
}

/* Files the build makes from the tables (and the manual). */
static void gen_man(FILE *f)
{
	gm_doc d = { f, 1, 80 };

	gm_manual(&d);
}

static const struct {
	const char *flag;
	void (*write)(FILE *f);
} generators[] = {
	{ "--man", gen_man },
	{ "--bash-completion", gm_completion_bash },
	{ "--zsh-completion", gm_completion_zsh },
	{ "--udev-rules", gm_udev_rules },
};

static int generate(const char *flag)
{
	size_t i;

	for (i = 0; i < sizeof(generators) / sizeof(generators[0]); i++)
		if (!strcmp(flag, generators[i].flag)) {
			generators[i].write(stdout);
			return 1;
		}
	return 0;
}

/* The global option arg is (by its long name, with or without "=value"),
 * or NULL. */
static const gm_option *global_option(const char *arg)
{
	size_t i, n;

	if (strncmp(arg, "--", 2))
		return NULL;
	arg += 2;
	n = strcspn(arg, "=");
	for (i = 0; gm_global_options[i].name; i++)
		if (strlen(gm_global_options[i].name) == n &&
		    !strncmp(arg, gm_global_options[i].name, n))
			return &gm_global_options[i];
	return NULL;
}

/* Whether the global option arg takes the next word as its value. */
static int takes_next(const char *arg)
{
	const gm_option *o = global_option(arg);

	return o && o->arg_name && !strchr(arg, '=');
}

static int find_command(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return i + 1 < argc ? i + 1 : -1;
		if (argv[i][0] != '-')
			return i;
		if (takes_next(argv[i]))
			i++;
	}
	return -1;
}

static int has_arg(int argc, char **argv, int upto, const char *a)
{
	int i;

	for (i = 1; i < upto && i < argc; i++)
		if (!strcmp(argv[i], a))
			return 1;
	return 0;
}

/* Without a command word: what is wrong with the words given (an unknown
 * option, a value missing), said on stderr; 0 when nothing is. */
static int bad_global(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help") ||
		    !strcmp(a, "--version") || !strcmp(a, "--") ||
		    strspn(a + 1, "v") == strlen(a + 1))
			continue;
		if (!global_option(a)) {
			gm_fprintf(stderr, _("gmrenew: unknown option '%s'\n"
					  "Try 'gmrenew --help'.\n"), a);
			return 1;
		}
		if (takes_next(a) && ++i == argc) {
			gm_fprintf(stderr, _("gmrenew: option '%s' needs a "
					  "value\nTry 'gmrenew --help'.\n"), a);
			return 1;
		}
	}
	return 0;
}

/* No command word: the help, --version, or a usage error. */
static int no_command(int argc, char **argv)
{
	int help = has_arg(argc, argv, argc, "--help") ||
		   has_arg(argc, argv, argc, "-h");

	if (has_arg(argc, argv, argc, "--version")) {
		print_version();
		return GM_EXIT_OK;
	}
	if (help) {
		print_help(stdout);
		return GM_EXIT_OK;
	}
	if (bad_global(argc, argv))
		return GM_EXIT_USAGE;
	if (argc > 1)
		gm_fprintf(stderr, "%s\n", _("gmrenew: no command given"));
	print_help(stderr);
	return GM_EXIT_USAGE;
}

static void values_alloc(gm_cli *cli, const gm_command *cmd)
{
	const gm_command_options *o = cmd->options;

	cli->opts = gm_xcalloc(1, o && o->size ? o->size : 1);
	if (o && o->init)
		o->init(cli->opts);
}

/* Parses, checks and sets up what cmd asks for; -1 go on, else the exit
 * code (after --help, or a usage or setup error). */
static int prepare(gm_cli *cli, int argc, char **argv, int *pos)
{
	const gm_command_options *o = cli->command->options;
	gm_error err;
	int r = gm_cli_parse(cli, argc, argv, pos);

	if (r)
		return r > 0 ? GM_EXIT_OK : GM_EXIT_USAGE;
	gm_verbosity = cli->verbose;
	cli->setup_flags = cli->command->flags;
	if ((o && o->check &&
	     o->check(cli, argc - *pos, argv + *pos, &err)) ||
	    gm_cli_setup(cli, cli->setup_flags, &err))
		return gm_cli_report_error(cli, &err);
	return -1;
}

/* Runs a command with argv reordered as: NAME, options before it, rest. */
static int run(const gm_command *cmd, int argc, char **argv, int at)
{
	char **args = gm_xcalloc((size_t)argc + 1, sizeof(*args));
	gm_cli cli;
	int i, n = 0, code, pos;

	memset(&cli, 0, sizeof(cli));
	gm_config_init(&cli.cfg);
	cli.command = cmd;
	cli.now = time(NULL);
	cli.not_due_exit = -1;
	values_alloc(&cli, cmd);
	gm_outcome_begin(&cli);
	args[n++] = argv[at];
	for (i = 1; i < argc; i++)
		if (i != at)
			args[n++] = argv[i];
	code = prepare(&cli, n, args, &pos);
	if (code < 0)
		code = cmd->run(&cli, n - pos, args + pos);
	code = gm_cli_finish(&cli, code);
	gm_cli_teardown(&cli);
	free(cli.opts);
	free(args);
	return code;
}

static void ensure_std_fds(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0 && fd <= 2)
		fcntl(fd, F_SETFD, 0);	/* keep 0-2 open across exec */
	if (fd > 2)
		close(fd);
}

int main(int argc, char **argv)
{
	const gm_command *cmd;
	int at, code;

	gm_pin_env_take();
	atexit(gm_pin_env_release);
	ensure_std_fds();
	signal(SIGPIPE, SIG_IGN);
	gm_cli_i18n_init();
	if (argc == 2 && generate(argv[1]))
		return fflush(stdout) || ferror(stdout) ? GM_EXIT_FAILED :
			GM_EXIT_OK;
	at = find_command(argc, argv);
	if (at < 0)
		return no_command(argc, argv);
	if (has_arg(argc, argv, at, "--help") ||
	    has_arg(argc, argv, at, "-h")) {
		print_help(stdout);
		return GM_EXIT_OK;
	}
	cmd = gm_cli_command(argv[at]);
	if (!cmd)
		return GM_EXIT_USAGE;
	code = run(cmd, argc, argv, at);
	if (fflush(stdout) || ferror(stdout)) {
		gm_fprintf(stderr, "%s\n", _("gmrenew: error: cannot write the "
					    "output"));
		return code ? code : GM_EXIT_FAILED;
	}
	return code;
}
