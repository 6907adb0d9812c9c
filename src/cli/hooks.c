/*
 * hooks.c - [hooks] on_renewed and on_failure: a shell command run after a
 * renewal run, with a timeout, in a clean environment that names the token,
 * the certificates (fingerprints and PEM files), the result and the update
 * code (docs/fleet.md lists the variables). The PIN is never in it: the
 * environment is built from nothing, not copied. The hook's output goes to
 * stderr, so that --json output stays one document.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fleet_internal.h"

#define HOOK_ENV_MAX 24

typedef struct hook_env {
	char *vars[HOOK_ENV_MAX + 1];
	size_t n;
} hook_env;

static void env_add(hook_env *e, const char *name, const char *value)
{
	if (e->n < HOOK_ENV_MAX && value)
		e->vars[e->n++] = gm_xasprintf("%s=%s", name, value);
}

static void env_free(hook_env *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		free(e->vars[i]);
	e->n = 0;
}

/* DER as PEM in dir/name; returns the path (caller frees) or NULL. */
static char *write_pem(const char *dir, const char *name,
		       const unsigned char *der, size_t len)
{
	char *path = gm_xasprintf("%s/%s", dir, name);
	unsigned char line[65];
	size_t off;
	FILE *f = fopen(path, "wx");

	if (!f) {
		free(path);
		return NULL;
	}
	fputs("-----BEGIN CERTIFICATE-----\n", f);
	for (off = 0; off < len; off += 48) {
		EVP_EncodeBlock(line, der + off, (int)(len - off < 48 ?
						       len - off : 48));
		fprintf(f, "%s\n", line);
	}
	fputs("-----END CERTIFICATE-----\n", f);
	fclose(f);
	return path;
}

static void add_cert(hook_env *e, const char *dir, const char *which,
		     const unsigned char *der, size_t len)
{
	char name[64], file[32];
	gm_cert_facts f;
	char *path;

	if (!der || gm_cert_facts_parse(der, len, &f, NULL))
		return;
	snprintf(file, sizeof(file), "%s.pem", which);
	path = write_pem(dir, file, der, len);
	snprintf(name, sizeof(name), "GMRENEW_%s_CERT_FILE", which);
	env_add(e, name, path);
	snprintf(name, sizeof(name), "GMRENEW_%s_SHA256", which);
	env_add(e, name, f.sha256_hex);
	snprintf(name, sizeof(name), "GMRENEW_%s_SERIAL", which);
	env_add(e, name, f.serial_hex);
	snprintf(name, sizeof(name), "GMRENEW_%s_NOT_AFTER", which);
	gm_time_rfc3339(f.not_after, file, sizeof(file));
	env_add(e, name, file);
	if (f.gateway)
		env_add(e, "GMRENEW_GATEWAY", f.gateway);
	free(path);
	gm_cert_facts_release(&f);
}

static void build_env(hook_env *e, const char *hook, const gm_cli *cli,
		      const gm_outcome *o, const char *dir)
{
	const char *path = getenv("PATH");
	char code[16];

	env_add(e, "PATH", path && *path ? path :
		"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	env_add(e, "HOME", getenv("HOME"));
	env_add(e, "LANG", getenv("LANG"));
	env_add(e, "TZ", getenv("TZ"));
	env_add(e, "GMRENEW_HOOK", hook);
	env_add(e, "GMRENEW_COMMAND", cli->command->name);
	env_add(e, "GMRENEW_RESULT", gm_action_name(o->action));
	snprintf(code, sizeof(code), "%d", gm_outcome_exit(cli, o->exit_code));
	env_add(e, "GMRENEW_EXIT_CODE", code);
	env_add(e, "GMRENEW_REASON", o->reason);
	env_add(e, "GMRENEW_RETRYABLE", o->retryable ? "1" : "0");
	env_add(e, "GMRENEW_TOKEN_SERIAL", o->token_serial);
	env_add(e, "GMRENEW_UPDATE_CODE", o->update_code);
	add_cert(e, dir, "OLD", o->old_der, o->old_len);
	add_cert(e, dir, "NEW", o->new_der, o->new_len);
}

static void child(const char *command, char **envp)
{
	char *argv[] = { (char *)"sh", (char *)"-c", (char *)command, NULL };
	int null = open("/dev/null", O_RDONLY);

	setpgid(0, 0);
	if (null >= 0)
		dup2(null, 0);
	dup2(2, 1);
	closefrom(3);
	signal(SIGPIPE, SIG_DFL);
	execve("/bin/sh", argv, envp);
	_exit(127);
}

static void pause_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&t, NULL);
}

/* Waits for the hook; past the timeout its process group is stopped
 * (SIGTERM, then SIGKILL). Returns the wait status, or -1 on timeout. */
static int wait_hook(pid_t pid, long timeout_s)
{
	long waited = 0, limit = timeout_s * 1000;
	int status = 0;

	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (waited >= limit) {
			kill(-pid, SIGTERM);
			pause_ms(2000);
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		pause_ms(50);
		waited += 50;
	}
	return status;
}

static void report(const char *hook, int status, long timeout_s)
{
	if (status < 0)
		gm_cli_warn("hook %s was stopped after %ld seconds "
			    "([hooks] timeout_seconds)", hook, timeout_s);
	else if (WIFEXITED(status) && WEXITSTATUS(status))
		gm_cli_warn("hook %s exited %d", hook, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		gm_cli_warn("hook %s was killed by signal %d", hook,
			    WTERMSIG(status));
}

static void remove_dir(const char *dir)
{
	char *p;

	p = gm_xasprintf("%s/OLD.pem", dir);
	unlink(p);
	free(p);
	p = gm_xasprintf("%s/NEW.pem", dir);
	unlink(p);
	free(p);
	rmdir(dir);
}

void gm_hooks_run(gm_cli *cli, const gm_outcome *o)
{
	int renewed = o->action == GM_ACTION_RENEWED ||
		      o->action == GM_ACTION_RESUMED;
	int failed = o->action == GM_ACTION_FAILED ||
		     o->action == GM_ACTION_OFFLINE_ONLY;
	const char *hook = renewed ? "on_renewed" : "on_failure";
	const char *command = renewed ? cli->cfg.hook_on_renewed :
			      failed ? cli->cfg.hook_on_failure : NULL;
	const char *tmp = getenv("TMPDIR");
	char *dir;
	hook_env env = { { NULL }, 0 };
	pid_t pid;

	if (!command || !*command)
		return;
	/* mkdtemp's template: it replaces the six X with a unique suffix */
	dir = gm_xasprintf("%s/gmrenew-hook.XXXXXX", tmp && *tmp == '/' ?
			   tmp : "/tmp");
	if (!mkdtemp(dir)) {
		gm_cli_warn("hook %s not run: cannot create a directory in "
			    "'%s': %s", hook, tmp ? tmp : "/tmp", strerror(errno));
		free(dir);
		return;
	}
	build_env(&env, hook, cli, o, dir);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0)
		child(command, env.vars);
	if (pid < 0)
		gm_cli_warn("hook %s not run: %s", hook, strerror(errno));
	else
		report(hook, wait_hook(pid, cli->cfg.hook_timeout_seconds),
		       cli->cfg.hook_timeout_seconds);
	env_free(&env);
	remove_dir(dir);
	free(dir);
}
