/*
 * cli.h - the command-line layer: the subcommand table, options declared as
 * data, shared setup (configuration, module, token, session), prompts and
 * output. Only this layer prints and picks exit codes.
 *
 * Adding a subcommand:
 *   1. write src/cli/cmd_NAME.c with `int cmd_NAME(gm_cli *cli, int argc,
 *      char **argv)` returning a gm_exit code; argv holds the positional
 *      arguments only. Declare its options at file scope as a gm_option
 *      table whose values go into a struct of the command's (cli->opts),
 *      and export them as a gm_command_options;
 *   2. declare both below and add a row to the table in main.c with the
 *      setup flags it needs, how many arguments it takes, and one line of
 *      summary. main parses the options, rejects extra arguments and does
 *      the setup before calling the command;
 *   3. document it in docs/cli.md (tests/integration/test_cli_help.py checks
 *      that the documented options and their meanings agree with --help).
 */
#ifndef GMRENEW_CLI_H
#define GMRENEW_CLI_H

#include <stdarg.h>
#include <stdio.h>

#include <cjson/cJSON.h>
#include <libintl.h>

#include "gmrenew/common.h"
#include "gmrenew/crypto.h"
#include "gmrenew/policy.h"
#include "gmrenew/token.h"

/*
 * Translation (gettext, domain "gmrenew"): _() translates a text the CLI
 * prints, N_() (common.h) marks one kept in a table, translated with _()
 * where it is printed. po/zh_CN.po holds the Chinese texts.
 */
#define _(s) gettext(s)
/* Sets the locale from LC_ALL / LC_MESSAGES / LANG (and LANGUAGE), binds
 * the catalogue ($GMRENEW_LOCALEDIR, else the installed locale folder) and
 * makes the lower layers' texts go through it. */
void gm_cli_i18n_init(void);

typedef enum gm_opt_type {
	GM_OPT_BOOL,		/* int *: set to 1 */
	GM_OPT_COUNT,		/* int *: incremented */
	GM_OPT_STRING,		/* const char **: the argument */
	GM_OPT_INT,		/* long *: a whole number */
} gm_opt_type;

typedef struct gm_option {
	const char *name;	/* long name without "--"; NULL ends a table */
	int short_name;		/* 0 for none */
	gm_opt_type type;
	size_t offset;		/* of the value: in gm_cli for the global
				 * options, in the command's struct else */
	const char *arg_name;	/* for STRING and INT: "FILE", "N", ... */
	const char *help;
} gm_option;

/* Setup a command asks for (main.c does it before calling the command). */
enum {
	GM_CMD_CONFIG = 1 << 0,	/* read the configuration file */
	GM_CMD_MODULE = 1 << 1,	/* load the PKCS#11 module */
	GM_CMD_TOKEN = 1 << 2,	/* select exactly one token, open a session */
	GM_CMD_RW = 1 << 3,	/* ... a read-write one */
};

struct gm_cli;

/* A command's options: the table, the struct their values go into, and
 * what is checked of them before the setup. */
typedef struct gm_command_options {
	const gm_option *table;		/* ends with a NULL name */
	size_t size;			/* of the values' struct */
	void (*init)(void *values);	/* its defaults; NULL: all zero */
	/* Checks the options and the arguments before any setup (may be
	 * NULL); may narrow cli->setup_flags. 0, or -1 with err set. */
	int (*check)(struct gm_cli *cli, int argc, char **argv,
		     gm_error *err);
} gm_command_options;

typedef struct gm_command {
	const char *name;
	int (*run)(struct gm_cli *cli, int argc, char **argv);
	unsigned flags;		/* GM_CMD_*: the setup main does */
	const char *synopsis;	/* after "gmrenew NAME " */
	const char *summary;	/* one line for gmrenew --help */
	const char *description;	/* the manual's text; paragraphs
					 * separated by an empty line */
	const gm_command_options *options;	/* NULL: none */
	int max_args;		/* positional arguments it takes */
} gm_command;

/*
 * The manual and `gmrenew help` come from the same calls: a gm_doc writes
 * either roff (the manual page) or text wrapped to the terminal (help).
 */
typedef struct gm_doc {
	FILE *f;
	int roff;
	size_t width;
} gm_doc;
void gm_doc_section(gm_doc *d, const char *title);
void gm_doc_subsection(gm_doc *d, const char *title);
/* Paragraphs separated by "\n\n". */
void gm_doc_para(gm_doc *d, const char *text);
/* A tagged paragraph: bold term, italic arg (may be NULL), the text. */
void gm_doc_item(gm_doc *d, const char *term, const char *arg,
		 const char *text);
/* Lines shown as they are (commands, a file). */
void gm_doc_example(gm_doc *d, const char *lines);

typedef struct gm_cli {
	/* global options */
	const char *module_opt;
	const char *api_opt;		/* --api: auto, pkcs11, skf */
	const char *token_opt;
	const char *config_opt;
	int json;
	int verbose;
	int syslog;		/* --syslog: outcomes to syslog */
	const char *log_file;	/* --log-file: outcomes appended to it */
	long not_due_exit;	/* --not-due-exit: exit code for "not due"; -1 */
	/* the command and its options' values (command->options->size) */
	const gm_command *command;
	void *opts;
	/* shared setup */
	unsigned setup_flags;	/* GM_CMD_* main sets up: command->flags,
				 * unless its check narrowed them */
	unsigned setup_done;	/* GM_CMD_* parts already set up */
	gm_config cfg;
	gm_profile profile;
	gm_module *module;
	gm_token_info token;
	gm_session *session;
	time_t now;		/* the time decisions are made at */
} gm_cli;

/* Global options, accepted before or after the subcommand. */
extern const gm_option gm_global_options[];

/*
 * Parses argv (argv[0] is the command name) with the command's options and
 * the global ones into cli and cli->opts; positional arguments are moved to
 * argv[*first_pos .. argc-1]. "--help" prints the command's usage and
 * returns 1 (caller exits 0). Errors print a usage message and return -1
 * (exit 2): an unknown option, a missing value (naming the option), more
 * arguments than the command takes.
 */
int gm_cli_parse(gm_cli *cli, int argc, char **argv, int *first_pos);
void gm_cli_usage(FILE *f, const gm_command *cmd);
/* A command's option table (an empty one when it has none). */
const gm_option *gm_command_table(const gm_command *cmd);
/* The subcommands (main.c), ending with a NULL name. */
extern const gm_command gm_commands[];
/* The command called name; NULL after saying on stderr that there is
 * none, with the nearest name when one is close. */
const gm_command *gm_cli_command(const char *name);
/* The manual: every section, as roff or text. */
void gm_manual(gm_doc *d);
/* One command's part of it (`gmrenew help COMMAND`). */
void gm_manual_command(gm_doc *d, const gm_command *cmd);
/* Completion scripts for bash and zsh and the udev rule, generated from
 * the option tables and the token profiles. */
void gm_completion_bash(FILE *f);
void gm_completion_zsh(FILE *f);
void gm_udev_rules(FILE *f);
/* One line per option: "  -v, --verbose   help". */
void gm_cli_print_options(FILE *f, const gm_option *table);
/* One such line for an option not in a table ("-h, --help"). */
void gm_cli_help_line(FILE *f, const char *left, const char *help);

/* Shared setup by flags; fills cli. */
/* Opens the token library at path as cli->module through its interface:
 * --api, else [token] api, chosen by what the library exports and, when
 * it offers both, the profile named or detected (gm_module_open_chosen).
 * out->used stays GM_API_AUTO when no choice was made. */
int gm_cli_open_api(gm_cli *cli, const char *path, gm_api_choice *out,
		    gm_error *err);
int gm_cli_setup(gm_cli *cli, unsigned flags, gm_error *err);
void gm_cli_teardown(gm_cli *cli);

/*
 * Printing: the format is printed as it is, every %s argument made safe for a
 * terminal (gm_sanitize). Code in src/cli prints only through these, the
 * cell and the JSON functions (tests/integration/test_output_layer.sh checks).
 */
void gm_vfprintf(FILE *f, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
void gm_fprintf(FILE *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void gm_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void gm_fputs(const char *s, FILE *f);	/* s sanitised */
/* A copy of s safe for a terminal: C0 and DEL as \xHH, C1, bidi controls
 * and line/paragraph separators as \u and four hex digits, bytes that are not valid UTF-8
 * (overlong forms and surrogates included) as \xHH. Caller frees. */
char *gm_sanitize(const char *s);
/* JSON text from cJSON with DEL, C1, bidi controls and separators escaped
 * as \u and four hex digits, invalid UTF-8 replaced by \ufffd. Caller frees. */
char *gm_json_text_safe(const char *text);
/* Writes doc (then frees it) on f, escaped as above; one line or pretty. */
void gm_cli_write_json(FILE *f, cJSON *doc, int one_line);

/* Reports an error (text on stderr, or JSON on stdout with --json) and
 * returns its exit code. */
int gm_cli_report_error(gm_cli *cli, const gm_error *err);
/* Its two halves, for a command that puts the error into its own JSON
 * document: the "error" object, and the text on stderr. */
cJSON *gm_cli_error_json(const gm_error *err);
void gm_cli_error_text(const gm_error *err);
/* Adds key: value, or key: null when value is NULL. */
void gm_json_add_str(cJSON *o, const char *key, const char *value);
/* The same for n fields: keys[i]: values[i], in order. */
void gm_json_add_strs(cJSON *o, const char *const *keys,
		      const char *const *values, size_t n);
/* Prints a JSON document on stdout and frees it. */
void gm_cli_print_json(cJSON *doc);
/* "gmrenew: warning: ..." on stderr. */
void gm_cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Width of UTF-8 text on a terminal (CJK characters take two columns). */
size_t gm_display_width(const char *s);
/* Columns of the terminal f writes to; 80 when it is not a terminal. */
size_t gm_term_width(FILE *f);
/* Prints text from column col, wrapped at word boundaries by display width
 * to width columns; continuation lines (and those after a '\n') start at
 * column indent. A word longer than a line is cut. Ends with a newline.
 * For texts whose line breaks are gmrenew's own. */
void gm_wrap(FILE *f, const char *text, size_t col, size_t indent,
	     size_t width);
/* gm_wrap of a text that is one line: a line break in it (from a string
 * from outside: a path, a token's or the service's text) is escaped like
 * any other control, so it cannot start a line of its own. */
void gm_wrap_line(FILE *f, const char *text, size_t col, size_t indent,
		  size_t width);
/* gm_wrap of a formatted text after prefix: to f's width on a terminal;
 * elsewhere (a log, a pipe) one line. */
void gm_print_wrapped(FILE *f, const char *prefix, size_t indent,
		      const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Prints s padded (or cut with "…") to exactly width columns. */
void gm_print_cell(FILE *f, const char *s, size_t width);
/* The same, aligned right. */
void gm_print_cell_right(FILE *f, const char *s, size_t width);
/* A column of a text table: its width, 0 for the last column (printed as
 * it is), and whether its cells are aligned right (numbers). */
typedef struct gm_column {
	size_t width;
	int right;
} gm_column;
/* Prints one row: cells[i] (NULL shows "-") in cols[i], one space between
 * cells, then a newline. Text is cut to its column (gm_print_cell), a
 * number (a right-aligned cell) never is. */
void gm_print_row(FILE *f, const gm_column *cols, size_t n,
		  const char *const *cells);
/* The header of the table: its titles, each cut to its column. */
void gm_print_titles(FILE *f, const gm_column *cols, size_t n,
		     const char *const *titles);

/* Reads the user PIN: --pin-fd, --pin-file, $GMRENEW_PIN, or the terminal
 * without echo. Caller frees with gm_free_secret(). */
typedef struct gm_pin_source {
	const char *file;	/* --pin-file */
	long fd;		/* --pin-fd, -1 for none */
} gm_pin_source;
int gm_prompt_pin(const gm_pin_source *src, const char *prompt, char **pin,
		  gm_error *err);
/* Takes GMRENEW_PIN out of the environment (wiping the environment's copy)
 * and turns core dumps off when it was set; first thing in main. */
void gm_pin_env_take(void);
void gm_pin_env_release(void);	/* wipes it, if still held */
/* No core dumps and no ptrace by the same user from now on: a PIN is or
 * will be in memory. */
void gm_secrets_protect(void);
/* Whether the PIN comes from a script (not the terminal). */
int gm_pin_source_scripted(const gm_pin_source *src);
/* Logging in: the token's PIN flags are read first (locked stops, the final
 * try needs --allow-final-try or a "yes" at the terminal, low warns); a PIN
 * that failed is never sent again; at a terminal another may be typed. */
typedef struct gm_login_options {
	gm_pin_source pin;
	int allow_final_try;
} gm_login_options;
int gm_cli_login(gm_cli *cli, const gm_login_options *o, gm_error *err);
/* The option table rows of a command that renews (renew,
 * renew-with-code): the PIN from a file or a descriptor, and consent to the
 * final try, into the gm_login_options member login of the struct type. */
#define GM_RENEW_LOGIN_OPTIONS(type, login)				\
	{ "pin-file", 0, GM_OPT_STRING, offsetof(type, login.pin.file),	\
	  "FILE", N_("read the PIN from the first line of FILE") },	\
	{ "pin-fd", 0, GM_OPT_INT, offsetof(type, login.pin.fd), "N",	\
	  N_("read the PIN from file descriptor N") },			\
	{ "allow-final-try", 0, GM_OPT_BOOL,				\
	  offsetof(type, login.allow_final_try), NULL,			\
	  N_("use the PIN even when one try is left before locking") }

/* A yes/no question on the terminal; 0 without a terminal. */
int gm_prompt_yes(const char *question);
/* A line from the terminal (for choosing); NULL without a terminal. */
char *gm_prompt_line(const char *question);
int gm_have_terminal(void);

/* ---- Certificates on the token, as list-certs shows them ---- */

/* One certificate of the run's snapshot as list-certs shows it: its place
 * and its renewal verdict at cli->now (the facts and the key are the
 * snapshot's, gm_snapshot_cert). */
typedef struct gm_cert_view {
	size_t index;			/* from 1, in the token's order */
	const gm_snapshot_cert *obj;	/* in list->snap */
	gm_verdict verdict;		/* valid where obj->parsed */
} gm_cert_view;

typedef struct gm_cert_list {
	gm_token_snapshot snap;		/* the token, read once per run */
	gm_cert_view *views;
	size_t n;
} gm_cert_list;

/* Why a certificate could not be used (obj->parsed is 0). */
const char *gm_cert_view_problem(const gm_cert_view *v);

/* The configuration's [policy] as a gm_policy. */
void gm_cli_policy(const gm_cli *cli, gm_policy *out);
/* Reads the token once (gm_token_snapshot_read, after login when the
 * command logged in) and classifies every certificate at cli->now. A
 * certificate that cannot be parsed is kept with its problem. */
int gm_cert_list_load(gm_cli *cli, gm_cert_list *out, gm_error *err);
void gm_cert_list_release(gm_cert_list *list);
/* Points the views at the snapshot again after something added to it
 * (gm_renew adds what it installs; the arrays may have moved). */
void gm_cert_list_sync(gm_cert_list *list);
/* The table (80 columns), token line first. */
void gm_cert_list_print(const gm_cli *cli, const gm_cert_list *list, FILE *f);
cJSON *gm_cert_view_json(const gm_cert_view *v);
cJSON *gm_token_json(const gm_token_info *t);
/* "2023-11-22 16:08:20 UTC" style, local time zone. */
void gm_format_time(time_t t, char *buf, size_t n);

/* ---- What renew and renew-with-code share (renew_common.c) ---- */

#include "gmrenew/renewal.h"

typedef struct gm_renew_session {
	gm_cli *cli;
	gm_policy policy;
	char *state_dir;
	gm_service *service;
	gm_renewal_ctx ctx;
	gm_renewal_result result;
	char code[24];		/* known once the service gave it */
	const gm_login_options *login;	/* renew-with-code logs in when the
					 * renewal needs the keys */
	gm_token_lock *lock;	/* the token's lock, held from before the
				 * token is read to the end */
} gm_renew_session;

int gm_renew_session_open(gm_cli *cli, gm_renew_session *rs, gm_error *err);
/* The renewal service client from the configuration ([service]). */
int gm_cli_service_open(gm_cli *cli, gm_service **out, gm_error *err);
/* The checks of a verification as a JSON array. */
cJSON *gm_checks_json(const gm_verify_report *r);
void gm_renew_session_close(gm_renew_session *rs);
cJSON *gm_renew_result_json(gm_renew_session *rs, int ok);
int gm_renew_report_failure(gm_renew_session *rs, gm_error *err);
/* Takes the token's lock for the whole command (before the token is read). */
int gm_renew_session_lock(gm_renew_session *rs, gm_error *err);
/* SIGINT and SIGTERM stop the renewal at its next safe point (on) or end
 * the process as usual (off); a second signal ends it at once. */
void gm_renew_signals(int on);
void gm_renew_print_change(FILE *f, const gm_cert_facts *old,
			   const gm_cert_facts *fresh);
/* The new encryption certificate of a double certificate, when the
 * renewal installed one: its lines in the summary, its member
 * "new_encryption" in the JSON. */
void gm_renew_print_encryption(FILE *f, const gm_renewal_result *res);
void gm_renew_encryption_json(cJSON *doc, const gm_renewal_result *res);

/* Subcommands and their options. */
extern const gm_command_options cmd_check_env_options;
extern const gm_command_options cmd_list_certs_options;
extern const gm_command_options cmd_verify_options;
extern const gm_command_options cmd_renew_options;
extern const gm_command_options cmd_renew_with_code_options;
extern const gm_command_options cmd_config_options;
int cmd_check_env(gm_cli *cli, int argc, char **argv);
int cmd_list_certs(gm_cli *cli, int argc, char **argv);
int cmd_renew(gm_cli *cli, int argc, char **argv);
int cmd_verify(gm_cli *cli, int argc, char **argv);
int cmd_renew_with_code(gm_cli *cli, int argc, char **argv);
int cmd_config(gm_cli *cli, int argc, char **argv);
int cmd_help(gm_cli *cli, int argc, char **argv);

#endif
