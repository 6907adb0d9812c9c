/*
 * manpage.c - the manual: `gmrenew --man` (roff, written to gmrenew.1 by
 * the build, in English and, with LANGUAGE=zh_CN, in Chinese) and `gmrenew
 * help [COMMAND]` (the same text wrapped to the terminal). Both walk the
 * command table, each command's option table (collected by running it with
 * --help), the configuration key table and the texts below, through one
 * gm_doc writer, so that the page, the help and the parser cannot disagree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gmrenew/cli.h"
#include "gmrenew/version.h"

#define TEXT_INDENT 7
#define ITEM_INDENT 14

/* ---- the writer ------------------------------------------------------- */

/* A wide (CJK) character at s, written with a break point after it: groff
 * finds no place to break a line of Chinese, which has no spaces. Returns
 * its length, 0 when s is not one. */
static size_t wide_char(FILE *f, const char *s)
{
	char ch[5] = "";
	size_t len = 1;

	if (((unsigned char)*s & 0xe0) != 0xe0)
		return 0;	/* CJK is three or four bytes */
	while (len < 4 && ((unsigned char)s[len] & 0xc0) == 0x80)
		len++;
	memcpy(ch, s, len);
	if (gm_display_width(ch) != 2)
		return 0;
	fputs(ch, f);
	fputs("\\:", f);
	return len;
}

/* Text with roff's special characters escaped. */
static void roff(FILE *f, const char *s)
{
	size_t wide;

	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s; s++) {
		if ((wide = wide_char(f, s)) > 0)
			s += wide - 1;
		else if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else if (*s == '\n' && (s[1] == '.' || s[1] == '\''))
			fputs("\n\\&", f);
		else
			fputc(*s, f);
	}
}

void gm_doc_section(gm_doc *d, const char *title)
{
	if (d->roff) {
		fputs(".SH \"", d->f);
		roff(d->f, title);
		fputs("\"\n", d->f);
	} else {
		fprintf(d->f, "\n%s\n", title);
	}
}

void gm_doc_subsection(gm_doc *d, const char *title)
{
	if (d->roff) {
		fputs(".SS \"", d->f);
		roff(d->f, title);
		fputs("\"\n", d->f);
	} else {
		fprintf(d->f, "   %s\n", title);
	}
}

/* One paragraph at a time: roff gets .PP, text an empty line between. */
void gm_doc_para(gm_doc *d, const char *text)
{
	const char *p = text;

	while (*p) {
		const char *end = strstr(p, "\n\n");
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char *one = gm_xmemdup(p, n + 1);

		one[n] = '\0';
		if (d->roff) {
			fputs(".PP\n", d->f);
			roff(d->f, one);
			fputc('\n', d->f);
		} else {
			fprintf(d->f, "%*s", TEXT_INDENT, "");
			gm_wrap(d->f, one, TEXT_INDENT, TEXT_INDENT, d->width);
			fputc('\n', d->f);
		}
		free(one);
		p += n;
		while (*p == '\n')
			p++;
	}
}

void gm_doc_item(gm_doc *d, const char *term, const char *arg,
		 const char *text)
{
	if (d->roff) {
		fputs(".TP\n\\fB", d->f);
		roff(d->f, term);
		fputs("\\fR", d->f);
		if (arg) {
			fputs(" \\fI", d->f);
			roff(d->f, arg);
			fputs("\\fR", d->f);
		}
		fputc('\n', d->f);
		roff(d->f, text);
		fputc('\n', d->f);
		return;
	}
	fprintf(d->f, "%*s%s%s%s\n%*s", TEXT_INDENT, "", term, arg ? " " : "",
		arg ? arg : "", ITEM_INDENT, "");
	gm_wrap(d->f, text, ITEM_INDENT, ITEM_INDENT, d->width);
}

void gm_doc_example(gm_doc *d, const char *lines)
{
	const char *p = lines;

	if (d->roff) {
		fputs(".PP\n.RS 4\n.nf\n", d->f);
		roff(d->f, lines);
		fputs("\n.fi\n.RE\n", d->f);
		return;
	}
	fputc('\n', d->f);
	while (*p) {
		size_t n = strcspn(p, "\n");

		fprintf(d->f, "%*s%.*s\n", TEXT_INDENT + 2, "", (int)n, p);
		p += n;
		if (*p)
			p++;
	}
	fputc('\n', d->f);
}

/* ---- the texts ---------------------------------------------------------- */

static const char *const description = N_(
	"gmrenew renews the SM2 certificates that a CA issued on FEITIAN "
	"ePass3000GM USB keys (Ekey) from a terminal, with the CA's renewal "
	"service, following its rules: online renewal from 90 days before "
	"expiry to 90 days after it (later only offline renewal, by mailing "
	"the Ekey and the 证书业务信息表 to the CA), one Ekey at a time, six "
	"wrong PINs in a row lock the Ekey, and an update code (更新码) that "
	"finishes a renewal which stopped part-way. At no instant does the "
	"token lack a usable certificate with its key.\n\n"
	"The PIN is never taken from the command line: it is typed at the "
	"terminal without echo, or read from --pin-file, --pin-fd or "
	"$GMRENEW_PIN. TLS to the service is always verified.");

static const char *const config_text = N_(
	"gmrenew reads up to three INI files, each later one overriding the "
	"earlier ones key by key: the system's file, the user's file, and the "
	"file of --config or $GMRENEW_CONFIG (which must exist). Command-line "
	"options win over all of them: --module over [token] module, --token "
	"over [token] uri. 'gmrenew config show' prints the values in effect "
	"and where each came from; 'gmrenew config init' writes a first "
	"file.\n\n"
	"An unknown section or key is an error (exit 2) naming the file and "
	"line: a mistyped key is never silently ignored. Sections "
	"[profile.NAME] change or define vendor profiles (the keys of "
	"token-profiles.md in the documentation folder).");

struct code_text {
	int code;
	const char *text;
};

static const struct code_text exit_codes[] = {
	{ 0, N_("success") },
	{ 1, N_("failed") },
	{ 2, N_("usage or configuration error") },
	{ 3, N_("nothing to do: the certificate is not yet due") },
	{ 4, N_("offline renewal required: mail the Ekey and the 证书业务信息表 "
		"to the CA") },
	{ 5, N_("environment: no driver, no Ekey, or more than one Ekey") },
	{ 6, N_("PIN: wrong, locked, or refused at the final try") },
	{ 7, N_("the service is unavailable: try again later") },
	{ 8, N_("verification failed") },
};

struct pair {
	const char *term, *text;
};

static const struct pair environment[] = {
	{ "GMRENEW_CONFIG", N_("a configuration file read after the system's "
			       "and the user's (when --config is not given)") },
	{ "GMRENEW_PKCS11_MODULE", N_("the PKCS#11 module, when neither "
				      "--module nor [token] module is set") },
	{ "GMRENEW_PIN", N_("the user PIN, for scripts: read once and wiped "
			    "from the environment") },
	{ "LANGUAGE, LC_ALL, LC_MESSAGES, LANG",
	  N_("the language of messages: zh_CN.UTF-8 for Chinese; English "
	     "otherwise") },
	{ "GMRENEW_LOCALEDIR", N_("where the translations are, instead of "
				  "the installed folder") },
	{ "XDG_CONFIG_HOME", N_("the folder of the user's configuration "
				"(default ~/.config)") },
	{ "XDG_STATE_HOME", N_("the folder of journals and locks (default "
			       "~/.local/state)") },
	{ "NO_COLOR", N_("when set, check-env does not colour its output") },
	{ "https_proxy, no_proxy", N_("libcurl's proxy settings") },
};

struct example {
	const char *title, *text, *lines;
};

static const struct example examples[] = {
	{ N_("An operator renewing"),
	  N_("Insert the one Ekey, check the machine, look at the "
	     "certificates and renew the one that is due. gmrenew asks for "
	     "the PIN and shows the update code before it changes the Ekey: "
	     "write the code down. Afterwards the validity is about five "
	     "years later."),
	  "gmrenew check-env\ngmrenew list-certs\ngmrenew renew\n"
	  "gmrenew verify" },
	{ N_("A batch script"),
	  N_("Without a terminal nothing is asked: --yes confirms, the PIN "
	     "comes from a file only its owner may read, and the exit code "
	     "says what happened (3: not yet due)."),
	  "gmrenew --json renew --yes --pin-file /root/ekey.pin > result.json\n"
	  "case $? in\n0) echo renewed ;;\n3) echo \"not due yet\" ;;\n"
	  "*) echo \"failed: see result.json\" >&2; exit 1 ;;\nesac" },
	{ N_("A helpdesk session"),
	  N_("Ask the user for the report of check-env: it holds every check, "
	     "its fix and the versions of everything involved, and never the "
	     "PIN. The CA's records and the configuration in effect tell the "
	     "rest."),
	  "gmrenew check-env --report /tmp/gmrenew-report.json\n"
	  "gmrenew list-certs --online\ngmrenew config show" },
	{ N_("Finishing an interrupted renewal"),
	  N_("When a renewal stopped part-way (the Ekey was pulled, the "
	     "network went down), finish it with the update code it showed; "
	     "list-certs --online shows the code of an unfinished renewal "
	     "too."),
	  "gmrenew list-certs --online\n"
	  "gmrenew renew-with-code K7QF-3MZP-W9CD-HX2N\ngmrenew verify" },
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the parts ---------------------------------------------------------- */

static void option_items(gm_doc *d, const gm_option *t)
{
	size_t i;

	for (i = 0; t && t[i].name; i++) {
		char term[64];

		if (t[i].short_name)
			snprintf(term, sizeof(term), "-%c, --%s",
				 t[i].short_name, t[i].name);
		else
			snprintf(term, sizeof(term), "--%s", t[i].name);
		gm_doc_item(d, term, t[i].arg_name, _(t[i].help));
	}
}


void gm_manual_command(gm_doc *d, const gm_command *cmd)
{
	char *synopsis = gm_xasprintf("gmrenew %s %s", cmd->name,
				      cmd->synopsis);

	gm_doc_subsection(d, cmd->name);
	gm_doc_example(d, synopsis);
	free(synopsis);
	gm_doc_para(d, _(cmd->summary));
	if (cmd->description)
		gm_doc_para(d, _(cmd->description));
	if (gm_command_table(cmd)[0].name) {
		gm_doc_para(d, _("Options:"));
		option_items(d, gm_command_table(cmd));
	}
}

static void header(gm_doc *d)
{
	size_t i;

	if (d->roff)
		fprintf(d->f, "'\\\" -*- coding: UTF-8 -*-\n"
			".TH GMRENEW 1 \"\" \"gmrenew %s\" \"%s\"\n"
			".ad l\n",
			GMRENEW_VERSION, _("User Commands"));
	gm_doc_section(d, _("NAME"));
	if (d->roff)
		fputs("gmrenew \\- ", d->f);
	else
		fprintf(d->f, "%*sgmrenew - ", TEXT_INDENT, "");
	fprintf(d->f, "%s\n", _("renew SM2 certificates on FEITIAN "
				 "ePass3000GM USB keys"));
	gm_doc_section(d, _("SYNOPSIS"));
	gm_doc_example(d, _("gmrenew [global options] COMMAND [options]"));
	gm_doc_section(d, _("DESCRIPTION"));
	gm_doc_para(d, _(description));
	gm_doc_para(d, _("Commands:"));
	for (i = 0; gm_commands[i].name; i++)
		gm_doc_item(d, gm_commands[i].name, NULL,
			    _(gm_commands[i].summary));
}

static void global_options(gm_doc *d)
{
	gm_doc_section(d, _("GLOBAL OPTIONS"));
	gm_doc_para(d, _("Accepted before or after the command name."));
	option_items(d, gm_global_options);
	gm_doc_item(d, "-h, --help", NULL, _("show the help and exit"));
	gm_doc_item(d, "--version", NULL, _("show the versions of gmrenew and "
					     "its libraries and exit"));
}

static void text_path(gm_doc *d, const char *fmt, const char *path)
{
	char *text = gm_xasprintf(fmt, path);

	gm_doc_para(d, text);
	free(text);
}

static void configuration(gm_doc *d)
{
	char *sys = gm_config_system_path();
	const char *section = "";
	size_t i;

	gm_doc_section(d, _("CONFIGURATION"));
	gm_doc_para(d, _(config_text));
	gm_doc_item(d, sys, NULL, _("the system's file, for every user"));
	gm_doc_item(d, "$XDG_CONFIG_HOME/gmrenew/gmrenew.conf", NULL,
		    _("the user's file (default "
		      "~/.config/gmrenew/gmrenew.conf)"));
	free(sys);
	for (i = 0; gm_config_keys[i].name; i++) {
		const gm_config_key *k = &gm_config_keys[i];
		char *term, *text;

		if (strcmp(section, k->section)) {
			section = k->section;
			term = gm_xasprintf("[%s]", section);
			gm_doc_subsection(d, term);
			free(term);
		}
		term = gm_xasprintf("%s =", k->name);
		text = gm_xasprintf(_("%s (default: %s)"), _(k->help),
				    _(k->default_text));
		gm_doc_item(d, term, k->arg, text);
		free(term);
		free(text);
	}
	text_path(d, _("An example with every key is installed as %s."),
		  GMRENEW_DOC_DIR "/examples/gmrenew.conf");
}

static void footer(gm_doc *d)
{
	char code[8];
	size_t i;

	gm_doc_section(d, _("EXIT STATUS"));
	for (i = 0; i < N_OF(exit_codes); i++) {
		snprintf(code, sizeof(code), "%d", exit_codes[i].code);
		gm_doc_item(d, code, NULL, _(exit_codes[i].text));
	}
	gm_doc_section(d, _("ENVIRONMENT"));
	for (i = 0; i < N_OF(environment); i++)
		gm_doc_item(d, environment[i].term, NULL,
			    _(environment[i].text));
	gm_doc_section(d, _("FILES"));
	gm_doc_item(d, GMRENEW_SYSCONF_DIR "/gmrenew.conf", NULL,
		    _("the system's configuration"));
	gm_doc_item(d, "~/.config/gmrenew/gmrenew.conf", NULL,
		    _("the user's configuration"));
	gm_doc_item(d, "~/.local/state/gmrenew/", NULL,
		    _("journals of renewals (journal/CODE.json) and locks of "
		      "tokens (locks/SERIAL.lock)"));
	gm_doc_item(d, GMRENEW_UDEV_RULES_DIR "/" GMRENEW_UDEV_RULE, NULL,
		    _("lets the user at the machine open the Ekey"));
	gm_doc_item(d, GMRENEW_DOC_DIR "/", NULL,
		    _("the documentation: the protocol, the checks, the "
		      "renewal's steps, the example configuration"));
	gm_doc_section(d, _("EXAMPLES"));
	for (i = 0; i < N_OF(examples); i++) {
		gm_doc_subsection(d, _(examples[i].title));
		gm_doc_para(d, _(examples[i].text));
		gm_doc_example(d, examples[i].lines);
	}
	gm_doc_section(d, _("SEE ALSO"));
	if (d->roff)
		fputs("\\fBpkcs11\\-tool\\fR(1), \\fBp11tool\\fR(1), "
		      "\\fBudev\\fR(7)\n", d->f);
	else
		fprintf(d->f, "%*spkcs11-tool(1), p11tool(1), udev(7)\n",
			TEXT_INDENT, "");
}

void gm_manual(gm_doc *d)
{
	size_t i;

	header(d);
	global_options(d);
	gm_doc_section(d, _("COMMANDS"));
	for (i = 0; gm_commands[i].name; i++)
		gm_manual_command(d, &gm_commands[i]);
	configuration(d);
	footer(d);
}
