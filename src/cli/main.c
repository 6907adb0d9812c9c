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

static const gm_command commands[] = {
	{ "check-env", cmd_check_env, GM_CMD_CONFIG, "[--json] [--report FILE]",
	  "Check that renewal can work here: configuration, driver, USB, "
	  "one token, PIN, certificate, service, clock." },
	{ "list-certs", cmd_list_certs, GM_CMD_TOKEN, "[options]",
	  "List the certificates on the token, with their validity and "
	  "whether they can be renewed." },
	{ "verify", cmd_verify, GM_CMD_CONFIG, "[options]",
	  "Verify the token's certificates: chain, validity, key, renewal." },
	{ "renew", cmd_renew, GM_CMD_TOKEN | GM_CMD_RW, "[options]",
	  "Renew a certificate on the token with the CA's renewal service." },
	{ "renew-with-code", cmd_renew_with_code, GM_CMD_TOKEN | GM_CMD_RW,
	  "[options] CODE",
	  "Finish an interrupted renewal with its update code (更新码)." },
	{ NULL, NULL, 0, NULL, NULL },
};

static void print_help(FILE *f)
{
	size_t i;

	gm_fprintf(f, "usage: gmrenew [global options] COMMAND [options]\n\n"
		"Renews SM2 certificates on FEITIAN ePass3000GM USB keys "
		"(Ekey) from a terminal.\n\nCommands:\n");
	for (i = 0; commands[i].name; i++)
		gm_fprintf(f, "  %-16s %s\n", commands[i].name, commands[i].summary);
	gm_fprintf(f, "\nGlobal options:\n");
	gm_cli_print_options(f, gm_global_options);
	gm_fprintf(f, "  %-26s %s\n  %-26s %s\n\n"
		"'gmrenew COMMAND --help' describes a command. Exit codes: "
		"docs/exit-codes.md.\n", "-h, --help", "show this help and exit",
		"    --version", "show the versions of gmrenew and its libraries");
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

/* The manual page: each command prints its own section from its option
 * table, as for --help. */
static int print_man(void)
{
	size_t i;

	gm_man_header(stdout, commands);
	for (i = 0; commands[i].name; i++) {
		char *args[] = { (char *)commands[i].name, (char *)"--help", NULL };
		gm_cli cli;

		memset(&cli, 0, sizeof(cli));
		gm_config_init(&cli.cfg);
		cli.command = &commands[i];
		cli.help_roff = 1;
		commands[i].run(&cli, 2, args);
		gm_cli_teardown(&cli);
	}
	gm_man_footer(stdout);
	return GM_EXIT_OK;
}

/* Global options that take a value, to step over it when finding the
 * command word. */
static int takes_value(const char *arg)
{
	size_t i;

	for (i = 0; gm_global_options[i].name; i++) {
		const gm_option *o = &gm_global_options[i];

		if (o->arg_name && !strncmp(arg, "--", 2) &&
		    !strcmp(arg + 2, o->name))
			return 1;
	}
	return 0;
}

static int find_command(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return i + 1 < argc ? i + 1 : -1;
		if (argv[i][0] != '-')
			return i;
		if (takes_value(argv[i]))
			i++;
	}
	return -1;
}

static const gm_command *lookup(const char *name)
{
	size_t i;

	for (i = 0; commands[i].name; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static int has_arg(int argc, char **argv, int upto, const char *a)
{
	int i;

	for (i = 1; i < upto && i < argc; i++)
		if (!strcmp(argv[i], a))
			return 1;
	return 0;
}

/* Runs a command with argv reordered as: NAME, options before it, rest. */
static int run(const gm_command *cmd, int argc, char **argv, int at)
{
	char **args = gm_xcalloc((size_t)argc + 1, sizeof(*args));
	gm_cli cli;
	int i, n = 0, code;

	memset(&cli, 0, sizeof(cli));
	gm_config_init(&cli.cfg);
	cli.command = cmd;
	cli.now = time(NULL);
	cli.not_due_exit = -1;
	gm_outcome_begin(&cli);
	args[n++] = argv[at];
	for (i = 1; i < argc; i++)
		if (i != at)
			args[n++] = argv[i];
	code = gm_cli_finish(&cli, cmd->run(&cli, n, args));
	gm_cli_teardown(&cli);
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
	if (argc == 2 && !strcmp(argv[1], "--man"))
		return print_man();
	at = find_command(argc, argv);
	if (at < 0 || has_arg(argc, argv, at, "--help") ||
	    has_arg(argc, argv, at, "-h")) {
		if (has_arg(argc, argv, argc, "--version")) {
			print_version();
			return GM_EXIT_OK;
		}
		if (at < 0 && argc > 1 && !has_arg(argc, argv, argc, "--help") &&
		    !has_arg(argc, argv, argc, "-h")) {
			gm_fprintf(stderr, "gmrenew: no command given\n");
			print_help(stderr);
			return GM_EXIT_USAGE;
		}
		print_help(at < 0 && argc == 1 ? stderr : stdout);
		return at < 0 && argc == 1 ? GM_EXIT_USAGE : GM_EXIT_OK;
	}
	cmd = lookup(argv[at]);
	if (!cmd) {
		gm_fprintf(stderr, "gmrenew: '%s' is not a gmrenew command; see "
			"'gmrenew --help'\n", argv[at]);
		return GM_EXIT_USAGE;
	}
	code = run(cmd, argc, argv, at);
	if (fflush(stdout) || ferror(stdout)) {
		gm_fprintf(stderr, "gmrenew: error: cannot write the output\n");
		return code ? code : GM_EXIT_FAILED;
	}
	return code;
}
