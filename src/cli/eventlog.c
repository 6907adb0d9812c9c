/*
 * eventlog.c - one line per outcome for unattended runs: to syslog with
 * --syslog (identifier "gmrenew", so `journalctl -t gmrenew` finds it) and
 * appended to --log-file FILE (mode 0600). A line holds the command, the
 * action, the token and certificate serials, the update code, the exit
 * code and the reason; never the PIN. Text from the token or the service
 * is cleaned of control characters.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "fleet_internal.h"

static int syslog_open;

/* Control characters (a hostile message could forge log lines) become
 * '?'. */
static void clean(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static void cert_serial(const gm_outcome *o, char *buf, size_t n)
{
	const unsigned char *der = o->new_der ? o->new_der : o->old_der;
	size_t len = o->new_der ? o->new_len : o->old_len;
	gm_cert_facts f;

	snprintf(buf, n, "-");
	if (der && gm_cert_facts_parse(der, len, &f, NULL) == 0) {
		snprintf(buf, n, "%s", f.serial_hex);
		gm_cert_facts_release(&f);
	}
}

static void format_line(const gm_cli *cli, const gm_outcome *o, char *buf,
			size_t n)
{
	char serial[80];
	int used;

	cert_serial(o, serial, sizeof(serial));
	used = snprintf(buf, n, "%s: action=%s token=%s cert_serial=%s "
			"update_code=%s exit=%d", cli->command->name,
			gm_action_name(o->action),
			o->token_serial[0] ? o->token_serial : "-", serial,
			o->update_code[0] ? o->update_code : "-",
			gm_outcome_exit(cli, o->exit_code));
	if (o->reason[0] && used > 0 && (size_t)used < n)
		snprintf(buf + used, n - (size_t)used, " reason=%s "
			 "retryable=%s message=\"%s\"", o->reason,
			 o->retryable ? "yes" : "no", o->message);
	clean(buf);
}

static void to_file(const char *path, const char *line)
{
	char at[32], *text;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
		      O_NOFOLLOW, 0600);

	if (fd < 0) {
		gm_cli_warn("cannot open the log file '%s'", path);
		return;
	}
	gm_time_rfc3339(time(NULL), at, sizeof(at));
	text = gm_xasprintf("%s gmrenew[%ld]: %s\n", at, (long)getpid(), line);
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		gm_cli_warn("cannot write the log file '%s'", path);
	free(text);
	close(fd);
}

void gm_eventlog_outcome(const gm_cli *cli, const gm_outcome *o)
{
	char line[GM_ERR_MSG_MAX + 256];
	int failed = o->action == GM_ACTION_FAILED ||
		     o->action == GM_ACTION_OFFLINE_ONLY;

	if (!cli->syslog && !cli->log_file)
		return;
	format_line(cli, o, line, sizeof(line));
	if (cli->syslog) {
		if (!syslog_open)
			openlog("gmrenew", LOG_PID, LOG_USER);
		syslog_open = 1;
		syslog(failed ? LOG_ERR : LOG_NOTICE, "%s", line);
	}
	if (cli->log_file)
		to_file(cli->log_file, line);
}

void gm_eventlog_close(void)
{
	if (syslog_open)
		closelog();
	syslog_open = 0;
}
