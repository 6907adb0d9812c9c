/*
 * completion.c - files the build makes from the tables, so that they follow
 * the code: bash and zsh completion from the command and option tables
 * (each command's table is collected by running it with --help), and the
 * udev rule from the USB ids of the built-in token profiles.
 */
#include <stdlib.h>
#include <string.h>

#include "gmrenew/cli.h"
#include "gmrenew/token.h"
#include "gmrenew/version.h"

/* Whether an option's value is a file name. */
static int takes_file(const gm_option *o)
{
	return o->arg_name && (!strcmp(o->arg_name, "FILE") ||
			       !strcmp(o->arg_name, "PATH") ||
			       !strcmp(o->arg_name, "DIR"));
}

static void bash_words(FILE *f, const gm_option *t)
{
	size_t i;

	for (i = 0; t && t[i].name; i++) {
		gm_fprintf(f, " --%s", t[i].name);
		if (t[i].short_name)
			gm_fprintf(f, " -%c", t[i].short_name);
	}
}

/* Value options of a table, split into those taking a file and others. */
static void bash_value_opts(FILE *f, const gm_option *t, int files)
{
	size_t i;

	for (i = 0; t && t[i].name; i++)
		if (t[i].arg_name && takes_file(&t[i]) == files)
			gm_fprintf(f, "|--%s", t[i].name);
}

static void bash_command(FILE *f, const gm_command *cmd)
{
	const gm_option *opts = gm_command_table(cmd);

	gm_fprintf(f, "\t%s)\n\t\tcase $prev in\n\t\t--_none_", cmd->name);
	bash_value_opts(f, opts, 1);
	fputs(") COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
	      "\t\t--_none_", f);
	bash_value_opts(f, opts, 0);
	fputs(") COMPREPLY=(); return ;;\n\t\tesac\n\t\topts=\"", f);
	bash_words(f, opts);
	fputs("\" ;;\n", f);
}

void gm_completion_bash(FILE *f)
{
	size_t i;

	fputs("# bash completion for gmrenew; made by 'gmrenew "
	      "--bash-completion'\n_gmrenew()\n{\n"
	      "\tlocal cur=${COMP_WORDS[COMP_CWORD]} "
	      "prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	      "\tlocal cmd= i w skip=0 opts\n"
	      "\tfor ((i = 1; i < COMP_CWORD; i++)); do\n"
	      "\t\tw=${COMP_WORDS[i]}\n"
	      "\t\tif ((skip)); then skip=0; continue; fi\n"
	      "\t\tcase $w in\n\t\t--_none_", f);
	bash_value_opts(f, gm_global_options, 1);
	bash_value_opts(f, gm_global_options, 0);
	fputs(") skip=1 ;;\n\t\t-*) ;;\n\t\t*) cmd=$w; break ;;\n\t\tesac\n"
	      "\tdone\n\tcase $prev in\n\t--_none_", f);
	bash_value_opts(f, gm_global_options, 1);
	fputs(") COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n"
	      "\t--_none_", f);
	bash_value_opts(f, gm_global_options, 0);
	fputs(") COMPREPLY=(); return ;;\n\tesac\n\tcase $cmd in\n"
	      "\t\"\")\n\t\tif [[ $cur != -* ]]; then\n"
	      "\t\t\tCOMPREPLY=($(compgen -W \"", f);
	for (i = 0; gm_commands[i].name; i++)
		gm_fprintf(f, "%s%s", i ? " " : "", gm_commands[i].name);
	fputs("\" -- \"$cur\"))\n\t\t\treturn\n\t\tfi\n"
	      "\t\topts=\"--version\" ;;\n", f);
	for (i = 0; gm_commands[i].name; i++)
		bash_command(f, &gm_commands[i]);
	fputs("\tesac\n\topts+=\" --help -h", f);
	bash_words(f, gm_global_options);
	fputs("\"\n\tCOMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n}\n"
	      "complete -F _gmrenew gmrenew\n", f);
}

/* Help text inside a zsh '...[text]' spec. */
static void zsh_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else if (*s == '[')
			fputc('(', f);
		else if (*s == ']')
			fputc(')', f);
		else if (*s == ':')
			fputs("\\:", f);
		else
			fputc(*s, f);
	}
}

static void zsh_spec(FILE *f, const gm_option *o, int short_form)
{
	fputs("\t\t'", f);
	if (o->type == GM_OPT_COUNT)
		fputc('*', f);
	if (short_form)
		gm_fprintf(f, "-%c", o->short_name);
	else
		gm_fprintf(f, "--%s", o->name);
	fputc('[', f);
	zsh_text(f, o->help);
	fputc(']', f);
	if (o->arg_name)
		gm_fprintf(f, ":%s:%s", o->arg_name, takes_file(o) ? "_files" : " ");
	fputs("'\n", f);
}

static void zsh_specs(FILE *f, const gm_option *t)
{
	size_t i;

	for (i = 0; t && t[i].name; i++) {
		zsh_spec(f, &t[i], 0);
		if (t[i].short_name)
			zsh_spec(f, &t[i], 1);
	}
}

static void zsh_command(FILE *f, const gm_command *cmd)
{
	gm_fprintf(f, "\t%s)\n\t\t_arguments -s \"${global[@]}\" \\\n",
		cmd->name);
	zsh_specs(f, gm_command_table(cmd));
	fputs("\t\t'*:argument: '\n\t\t;;\n", f);
}

void gm_completion_zsh(FILE *f)
{
	size_t i;

	fputs("#compdef gmrenew\n# zsh completion for gmrenew; made by "
	      "'gmrenew --zsh-completion'\n\nlocal -a global commands\n"
	      "global=(\n", f);
	zsh_specs(f, gm_global_options);
	fputs("\t\t'(- *)'{-h,--help}'[show the help and exit]'\n)\n"
	      "commands=(\n", f);
	for (i = 0; gm_commands[i].name; i++) {
		gm_fprintf(f, "\t'%s:", gm_commands[i].name);
		zsh_text(f, gm_commands[i].summary);
		fputs("'\n", f);
	}
	fputs(")\n\nlocal curcontext=$curcontext state line\n"
	      "_arguments -C \"${global[@]}\" '(- *)--version[show the "
	      "versions]' \\\n\t'1:command:->command' '*::argument:->argument'"
	      "\ncase $state in\ncommand)\n\t_describe -t commands command "
	      "commands\n\t;;\nargument)\n\tcase $line[1] in\n", f);
	for (i = 0; gm_commands[i].name; i++)
		zsh_command(f, &gm_commands[i]);
	fputs("\tesac\n\t;;\nesac\n", f);
}

void gm_udev_rules(FILE *f)
{
	const char *const *names = gm_profile_builtin_names();
	gm_config plain;
	size_t i;

	gm_fprintf(f, "# gmrenew: lets the user at the machine's seat (and the "
		"group plugdev) open\n# the USB keys of gmrenew's token "
		"profiles, so that the vendor's PKCS#11\n# driver reaches them "
		"through libusb without root. Made by 'gmrenew\n"
		"# --udev-rules'; installed as %s/%s.\n",
		GMRENEW_UDEV_RULES_DIR, GMRENEW_UDEV_RULE);
	gm_config_init(&plain);
	for (i = 0; names[i]; i++) {
		gm_profile p;

		if (gm_profile_get(names[i], &plain, &p, NULL) < 0 ||
		    !p.usb_vendor || !p.usb_product)
			continue;
		gm_fprintf(f, "# profile %s\nSUBSYSTEM==\"usb\", "
			"ATTR{idVendor}==\"%04x\", ATTR{idProduct}==\"%04x\", "
			"MODE=\"0660\", GROUP=\"plugdev\", TAG+=\"uaccess\"\n",
			names[i], p.usb_vendor, p.usb_product);
	}
	gm_config_release(&plain);
}
