/*
 * options.c - options declared as data (gm_option tables), parsed with
 * getopt_long, and the usage text made from the same tables.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "gmrenew/cli.h"

const gm_option gm_global_options[] = {
	{ "module", 0, GM_OPT_STRING, NULL, "PATH",
	  N_("PKCS#11 module (the token driver) to load") },
	{ "token", 0, GM_OPT_STRING, NULL, "URI",
	  N_("select the token by RFC 7512 URI, e.g. 'pkcs11:serial=...'") },
	{ "config", 0, GM_OPT_STRING, NULL, "FILE",
	  N_("configuration file read after /etc/gmrenew/gmrenew.conf and "
	     "~/.config/gmrenew/gmrenew.conf") },
	{ "json", 0, GM_OPT_BOOL, NULL, NULL,
	  N_("print one JSON document on stdout") },
	{ "verbose", 'v', GM_OPT_COUNT, NULL, NULL,
	  N_("say more on stderr; twice for PKCS#11 and HTTP traces") },
	{ "syslog", 0, GM_OPT_BOOL, NULL, NULL,
	  N_("also log the outcome to syslog (identifier gmrenew)") },
	{ "log-file", 0, GM_OPT_STRING, NULL, "FILE",
	  N_("also append the outcome to FILE") },
	{ "not-due-exit", 0, GM_OPT_INT, NULL, "CODE",
	  N_("exit with CODE instead of 3 when nothing is due") },
	{ "api", 0, GM_OPT_STRING, NULL, "API",
	  N_("the token library's interface: pkcs11, skf (GM/T 0016), or "
	     "auto (what it offers)") },
	{ NULL, 0, 0, NULL, NULL, NULL },
};

/* The global table's value pointers live in the gm_cli; bind them. */
static void *global_value(gm_cli *cli, size_t i)
{
	void *v[] = { &cli->module_opt, &cli->token_opt, &cli->config_opt,
		      &cli->json, &cli->verbose, &cli->syslog, &cli->log_file,
		      &cli->not_due_exit, &cli->api_opt };

	return i < sizeof(v) / sizeof(v[0]) ? v[i] : NULL;
}

static size_t table_len(const gm_option *t)
{
	size_t n = 0;

	while (t && t[n].name)
		n++;
	return n;
}

struct parse_table {
	gm_option *opts;	/* command's then global, values bound */
	struct option *longopts;
	char shortopts[64];
	size_t n;
};

static void build_table(gm_cli *cli, const gm_option *cmd,
			struct parse_table *t)
{
	size_t nc = table_len(cmd), ng = table_len(gm_global_options), i, s = 0;

	t->n = nc + ng;
	t->opts = gm_xcalloc(t->n + 1, sizeof(*t->opts));
	t->longopts = gm_xcalloc(t->n + 2, sizeof(*t->longopts));
	for (i = 0; i < nc; i++)
		t->opts[i] = cmd[i];
	for (i = 0; i < ng; i++) {
		t->opts[nc + i] = gm_global_options[i];
		t->opts[nc + i].value = global_value(cli, i);
	}
	t->shortopts[s++] = ':';
	for (i = 0; i < t->n; i++) {
		int has_arg = t->opts[i].type == GM_OPT_STRING ||
			      t->opts[i].type == GM_OPT_INT;

		t->longopts[i] = (struct option){ t->opts[i].name,
			has_arg ? required_argument : no_argument, NULL,
			256 + (int)i };
		if (t->opts[i].short_name && s + 3 < sizeof(t->shortopts)) {
			t->shortopts[s++] = (char)t->opts[i].short_name;
			if (has_arg)
				t->shortopts[s++] = ':';
		}
	}
	t->longopts[t->n] = (struct option){ "help", no_argument, NULL, 'h' };
	t->shortopts[s++] = 'h';
	t->shortopts[s] = '\0';
}

static int find_short(const struct parse_table *t, int c)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->opts[i].short_name == c)
			return (int)i;
	return -1;
}

static int store(const gm_option *o, const char *arg, const char *cmd)
{
	char *end;
	long v;

	switch (o->type) {
	case GM_OPT_BOOL:
		*(int *)o->value = 1;
		return 0;
	case GM_OPT_COUNT:
		(*(int *)o->value)++;
		return 0;
	case GM_OPT_STRING:
		*(const char **)o->value = arg;
		return 0;
	case GM_OPT_INT:
		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno || end == arg || *end) {
			gm_fprintf(stderr, _("gmrenew %s: option '--%s' takes a "
					  "whole number, not '%s'\n"), cmd,
				o->name, arg);
			return -1;
		}
		*(long *)o->value = v;
		return 0;
	}
	return -1;
}

static void free_table(struct parse_table *t)
{
	free(t->opts);
	free(t->longopts);
}

static int bad_usage(gm_cli *cli, const char *fmt, const char *what)
{
	gm_fprintf(stderr, "gmrenew %s: ", cli->command->name);
	gm_fprintf(stderr, fmt, what);
	gm_fprintf(stderr, _("\nTry 'gmrenew %s --help'.\n"), cli->command->name);
	return -1;
}

int gm_cli_parse(gm_cli *cli, const gm_option *opts, int argc, char **argv,
		 int *first_pos)
{
	struct parse_table t;
	char optname[3] = "-?";
	int c, idx, ret = 0;

	build_table(cli, opts, &t);
	optind = 0;		/* GNU: full reinitialisation */
	opterr = 0;
	while ((c = getopt_long(argc, argv, t.shortopts, t.longopts, NULL)) != -1) {
		if (c == 'h') {
			if (cli->help)
				cli->help(cli, opts);
			else
				gm_cli_usage(stdout, cli->command, opts);
			ret = 1;
			break;
		}
		if (c == '?' || c == ':') {
			optname[1] = (char)optopt;
			ret = bad_usage(cli, c == '?' ? _("unknown option '%s'") :
					_("option '%s' needs a value"),
					optopt ? optname : argv[optind - 1]);
			break;
		}
		idx = c >= 256 ? c - 256 : find_short(&t, c);
		if (idx < 0 || store(&t.opts[idx], optarg, cli->command->name)) {
			ret = -1;
			break;
		}
	}
	*first_pos = optind;
	free_table(&t);
	return ret;
}

#define OPT_COL 29	/* where an option's help starts */

void gm_cli_print_options(FILE *f, const gm_option *t)
{
	size_t i, width = gm_term_width(f);

	for (i = 0; t && t[i].name; i++) {
		char left[64], flag[8] = "    ";

		if (t[i].short_name)
			snprintf(flag, sizeof(flag), "-%c, ", t[i].short_name);
		snprintf(left, sizeof(left), "%s--%s%s%s", flag, t[i].name,
			 t[i].arg_name ? " " : "",
			 t[i].arg_name ? t[i].arg_name : "");
		gm_fprintf(f, "  %-26s ", left);
		gm_wrap(f, _(t[i].help), strlen(left) > 26 ? 3 + strlen(left) :
			OPT_COL, OPT_COL, width);
	}
}

static void print_help_line(FILE *f, const char *left, const char *help)
{
	gm_fprintf(f, "  %-26s ", left);
	gm_wrap(f, help, OPT_COL, OPT_COL, gm_term_width(f));
}

void gm_cli_usage(FILE *f, const gm_command *cmd, const gm_option *opts)
{
	size_t width = gm_term_width(f);

	gm_fprintf(f, _("usage: gmrenew %s %s\n\n"), cmd->name, cmd->synopsis);
	gm_wrap(f, _(cmd->summary), 0, 0, width);
	if (table_len(opts)) {
		gm_fprintf(f, "\n%s\n", _("Options:"));
		gm_cli_print_options(f, opts);
	}
	gm_fprintf(f, "\n%s\n", _("Global options:"));
	gm_cli_print_options(f, gm_global_options);
	print_help_line(f, "-h, --help", _("show this help and exit"));
	fputc('\n', f);
	gm_wrap(f, _("Exit codes: 0 ok, 1 failed, 2 usage, 3 not due, 4 "
		     "offline, 5 environment, 6 PIN, 7 service, 8 "
		     "verification. 'gmrenew help COMMAND' shows the manual's "
		     "text of a command."), 0, 0, width);
}

void gm_cli_help_line(FILE *f, const char *left, const char *help)
{
	print_help_line(f, left, help);
}

void gm_cli_each_help(const gm_command *cmd,
		      void (*fn)(gm_cli *cli, const gm_option *opts),
		      void *data)
{
	char *args[] = { (char *)cmd->name, (char *)"--help", NULL };
	gm_cli cli;

	memset(&cli, 0, sizeof(cli));
	gm_config_init(&cli.cfg);
	cli.command = cmd;
	cli.not_due_exit = -1;
	cli.help = fn;
	cli.help_data = data;
	cmd->run(&cli, 2, args);
	gm_cli_teardown(&cli);
}

int gm_cli_parse_noargs(gm_cli *cli, const gm_option *opts, int argc,
			char **argv)
{
	int pos, r = gm_cli_parse(cli, opts, argc, argv, &pos);

	if (r || pos >= argc)
		return r;
	return bad_usage(cli, _("unexpected argument '%s'"), argv[pos]);
}
