/*
 * manpage.c - `gmrenew --man`: the manual page in roff, made from the same
 * command and option tables as --help (each command prints its section when
 * asked for --help with cli->help_roff set), so the two cannot disagree.
 * The build writes it to gmrenew.1.
 */
#include <stdio.h>
#include <string.h>

#include "gmrenew/cli.h"
#include "gmrenew/version.h"

/* Text with roff's special characters escaped. */
static void roff(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

static void options(FILE *f, const gm_option *t)
{
	size_t i;

	for (i = 0; t && t[i].name; i++) {
		fputs(".TP\n", f);
		if (t[i].short_name)
			fprintf(f, "\\fB\\-%c\\fR, ", t[i].short_name);
		fputs("\\fB\\-\\-", f);
		roff(f, t[i].name);
		fputs("\\fR", f);
		if (t[i].arg_name) {
			fputs(" \\fI", f);
			roff(f, t[i].arg_name);
			fputs("\\fR", f);
		}
		fputc('\n', f);
		roff(f, t[i].help);
		fputc('\n', f);
	}
}

void gm_man_header(FILE *f, const gm_command *commands)
{
	size_t i;

	fprintf(f, ".TH GMRENEW 1 \"\" \"gmrenew %s\" \"User Commands\"\n",
		GMRENEW_VERSION);
	fputs(".SH NAME\ngmrenew \\- renew SM2 certificates on FEITIAN "
	      "ePass3000GM USB keys\n.SH SYNOPSIS\n\\fBgmrenew\\fR [\\fIglobal "
	      "options\\fR] \\fICOMMAND\\fR [\\fIoptions\\fR]\n"
	      ".SH DESCRIPTION\ngmrenew renews the SM2 certificates that a CA "
	      "issued on ePass3000GM keys (Ekey) from a terminal, with the "
	      "CA's renewal service, following its rules: online renewal from "
	      "90 days before expiry to 90 days after it, one Ekey at a time, "
	      "the update code to finish an interrupted renewal. At no instant "
	      "does the token lack a usable certificate with its key.\n"
	      ".PP\nCommands:\n", f);
	for (i = 0; commands[i].name; i++) {
		fprintf(f, ".TP\n\\fB");
		roff(f, commands[i].name);
		fputs("\\fR\n", f);
		roff(f, commands[i].summary);
		fputc('\n', f);
	}
	fputs(".SH GLOBAL OPTIONS\n", f);
	options(f, gm_global_options);
	fputs(".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nshow the help and exit\n"
	      ".TP\n\\fB\\-\\-version\\fR\nshow the versions of gmrenew and its "
	      "libraries\n.SH COMMANDS\n", f);
}

void gm_man_command(FILE *f, const gm_command *cmd, const gm_option *opts)
{
	fputs(".SS \"", f);
	roff(f, cmd->name);
	fputs("\"\n\\fBgmrenew ", f);
	roff(f, cmd->name);
	fputs("\\fR ", f);
	roff(f, cmd->synopsis);
	fputs("\n.PP\n", f);
	roff(f, cmd->summary);
	fputc('\n', f);
	options(f, opts);
}

void gm_man_footer(FILE *f)
{
	static const char *const codes[][2] = {
		{ "0", "ok" }, { "1", "failed" },
		{ "2", "usage or configuration error" },
		{ "3", "nothing to do (not due)" },
		{ "4", "offline renewal required" },
		{ "5", "environment check failed (driver, token, several tokens)" },
		{ "6", "PIN problem (wrong, locked, refused at the final try)" },
		{ "7", "service unavailable, try later" },
		{ "8", "verification failed" },
	};
	size_t i;

	fputs(".SH EXIT STATUS\n", f);
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		fprintf(f, ".TP\n\\fB%s\\fR\n%s\n", codes[i][0], codes[i][1]);
	fputs(".SH ENVIRONMENT\n.TP\n\\fBGMRENEW_CONFIG\\fR\nthe configuration "
	      "file\n.TP\n\\fBGMRENEW_PKCS11_MODULE\\fR\nthe PKCS#11 module\n"
	      ".TP\n\\fBGMRENEW_PIN\\fR\nthe user PIN, for scripts (read once, "
	      "then wiped from the environment); the PIN is never taken from "
	      "the command line\n.SH FILES\n.TP\n"
	      "\\fI~/.config/gmrenew/config.ini\\fR\nthe configuration file\n"
	      ".TP\n\\fI~/.local/state/gmrenew/\\fR\njournals of renewals and "
	      "locks of tokens\n.SH SEE ALSO\n\\fBpkcs11\\-tool\\fR(1), "
	      "\\fBp11tool\\fR(1)\n", f);
}
