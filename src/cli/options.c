/*
 * options.c - options declared as data (gm_option tables), parsed with
 * getopt_long, the usage text made from the same tables, and finding a
 * command by its name.
 */
#include <errno.h>
#include <stddef.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "gmrenew/cli.h"

#define CLI(field) offsetof(gm_cli, field)

const gm_option gm_global_options[] = {
	{ "module", 0, GM_OPT_STRING, CLI(module_opt), "PATH",
	  N_("PKCS#11 module (the token driver) to load") },
	{ "token", 0, GM_OPT_STRING, CLI(token_opt), "URI",
	  N_("select the token by RFC 7512 URI, e.g. 'pkcs11:serial=...'") },
	{ "config", 0, GM_OPT_STRING, CLI(config_opt), "FILE",
	  N_("configuration file read after /etc/gmrenew/gmrenew.conf and "
	     "~/.config/gmrenew/gmrenew.conf") },
	{ "json", 0, GM_OPT_BOOL, CLI(json), NULL,
	  N_("print one JSON document on stdout") },
	{ "verbose", 'v', GM_OPT_COUNT, CLI(verbose), NULL,
	  N_("say more on stderr; twice for PKCS#11 and HTTP traces") },
	{ "syslog", 0, GM_OPT_BOOL, CLI(syslog), NULL,
	  N_("also log the outcome to syslog (identifier gmrenew)") },
	{ "log-file", 0, GM_OPT_STRING, CLI(log_file), "FILE",
	  N_("also append the outcome to FILE") },
	{ "not-due-exit", 0, GM_OPT_INT, CLI(not_due_exit), "CODE",
	  N_("exit with CODE instead of 3 when nothing is due") },
	{ "api", 0, GM_OPT_STRING, CLI(api_opt), "API",
	  N_("the token library's interface: pkcs11, skf (GM/T 0016), or "
	     "auto (what it offers)") },
	{ NULL, 0, 0, 0, NULL, NULL },
};

static const gm_option no_options[] = { { NULL, 0, 0, 0, NULL, NULL } };

const gm_option *gm_command_table(const gm_command *cmd)
{
	return cmd->options ? cmd->options->table : no_options;
}

static size_t table_len(const gm_option *t)
{
	size_t n = 0;

	while (t && t[n].name)
		n++;
	return n;
}

struct parse_table {
	const gm_option **opts;	/* command's then global */
	char **base;		/* where each one's value goes */
	struct option *longopts;
	char shortopts[64];
	size_t n;
};

static void build_table(gm_cli *cli, struct parse_table *t)
{
	const gm_option *cmd = gm_command_table(cli->command);
	size_t nc = table_len(cmd), ng = table_len(gm_global_options), i, s = 0;

	t->n = nc + ng;
	t->opts = gm_xcalloc(t->n + 1, sizeof(*t->opts));
	t->base = gm_xcalloc(t->n + 1, sizeof(*t->base));
	t->longopts = gm_xcalloc(t->n + 2, sizeof(*t->longopts));
	for (i = 0; i < t->n; i++) {
		t->opts[i] = i < nc ? &cmd[i] : &gm_global_options[i - nc];
		t->base[i] = i < nc ? cli->opts : (char *)cli;
	}
	t->shortopts[s++] = ':';
	for (i = 0; i < t->n; i++) {
		int has_arg = t->opts[i]->type == GM_OPT_STRING ||
			      t->opts[i]->type == GM_OPT_INT;

		t->longopts[i] = (struct option){ t->opts[i]->name,
			has_arg ? required_argument : no_argument, NULL,
			256 + (int)i };
		if (t->opts[i]->short_name && s + 3 < sizeof(t->shortopts)) {
			t->shortopts[s++] = (char)t->opts[i]->short_name;
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
		if (t->opts[i]->short_name == c)
			return (int)i;
	return -1;
}

static int bad_usage(gm_cli *cli, const char *fmt, const char *what)
{
	gm_fprintf(stderr, "gmrenew %s: ", cli->command->name);
	gm_fprintf(stderr, fmt, what);
	gm_fprintf(stderr, _("\nTry 'gmrenew %s --help'.\n"),
		   cli->command->name);
	return -1;
}

static int store(gm_cli *cli, const gm_option *o, char *base, const char *arg)
{
	void *value = base + o->offset;
	char *end;
	long v;

	switch (o->type) {
	case GM_OPT_BOOL:
		*(int *)value = 1;
		return 0;
	case GM_OPT_COUNT:
		(*(int *)value)++;
		return 0;
	case GM_OPT_STRING:
		*(const char **)value = arg;
		return 0;
	case GM_OPT_INT:
		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno || end == arg || *end) {
			gm_fprintf(stderr, _("gmrenew %s: option '--%s' takes a "
					  "whole number, not '%s'\n"),
				   cli->command->name, o->name, arg);
			return -1;
		}
		*(long *)value = v;
		return 0;
	}
	return -1;
}

static void free_table(struct parse_table *t)
{
	free(t->opts);
	free(t->base);
	free(t->longopts);
}

/* The option getopt_long stopped at: "-c", or "--pin-file" by its name
 * (optopt is then the table's code, not a character). */
static void option_name(const struct parse_table *t, char **argv, char *buf,
			size_t n)
{
	if (optopt >= 256 && (size_t)(optopt - 256) < t->n)
		snprintf(buf, n, "--%s", t->opts[optopt - 256]->name);
	else if (optopt > 0 && optopt < 128)
		snprintf(buf, n, "-%c", optopt);
	else
		snprintf(buf, n, "%s", argv[optind - 1]);
}

/* 0 go on, 1 --help shown, -1 usage error shown. */
static int parse_options(gm_cli *cli, struct parse_table *t, int argc,
			 char **argv)
{
	char name[128];
	int c, idx;

	while ((c = getopt_long(argc, argv, t->shortopts, t->longopts,
				NULL)) != -1) {
		if (c == 'h') {
			gm_cli_usage(stdout, cli->command);
			return 1;
		}
		if (c == '?' || c == ':') {
			option_name(t, argv, name, sizeof(name));
			return bad_usage(cli, c == '?' ?
					 _("unknown option '%s'") :
					 _("option '%s' needs a value"), name);
		}
		idx = c >= 256 ? c - 256 : find_short(t, c);
		if (idx < 0 || store(cli, t->opts[idx], t->base[idx], optarg))
			return -1;
	}
	return 0;
}

int gm_cli_parse(gm_cli *cli, int argc, char **argv, int *first_pos)
{
	struct parse_table t;
	int ret;

	build_table(cli, &t);
	optind = 0;		/* GNU: full reinitialisation */
	opterr = 0;
	ret = parse_options(cli, &t, argc, argv);
	*first_pos = optind;
	free_table(&t);
	if (ret == 0 && argc - optind > cli->command->max_args)
		ret = bad_usage(cli, _("unexpected argument '%s'"),
				argv[optind + cli->command->max_args]);
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

void gm_cli_usage(FILE *f, const gm_command *cmd)
{
	const gm_option *opts = gm_command_table(cmd);
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

/* Edits (insert, delete, replace) from a to b, at most 32 characters. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, row[33], diag, up;

	if (la > 32 || lb > 32)
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			row[j] = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < row[j])
				row[j] = up + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			diag = up;
		}
	}
	return row[lb];
}

/* The command name nearest to name: two edits at most, or a prefix. */
static const char *nearest(const char *name)
{
	const char *best = NULL;
	size_t i, d, best_d = 3;

	for (i = 0; gm_commands[i].name; i++) {
		d = distance(name, gm_commands[i].name);
		if (*name && !strncmp(gm_commands[i].name, name, strlen(name)))
			d = d < 2 ? d : 2;
		if (d < best_d) {
			best = gm_commands[i].name;
			best_d = d;
		}
	}
	return best;
}

const gm_command *gm_cli_command(const char *name)
{
	const char *near;
	size_t i;

	for (i = 0; gm_commands[i].name; i++)
		if (!strcmp(gm_commands[i].name, name))
			return &gm_commands[i];
	near = nearest(name);
	if (near)
		gm_fprintf(stderr, _("gmrenew: '%s' is not a gmrenew command; "
				     "did you mean '%s'? See 'gmrenew "
				     "--help'\n"), name, near);
	else
		gm_fprintf(stderr, _("gmrenew: '%s' is not a gmrenew command; "
				     "see 'gmrenew --help'\n"), name);
	return NULL;
}
