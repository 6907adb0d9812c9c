/*
 * runs.c - what a scheduler or a monitoring system asks about past runs:
 * how many renewals of a token are still pending (their journals), and when
 * gmrenew last ran for a token and last succeeded. Run records live in
 * <state_dir>/runs/<SERIAL>, two numbers written atomically; they hold no
 * secret.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "renewal_internal.h"

struct pending {
	const char *serial;
	long n;
};

/* A renewal of the token with serial that may still go on. */
static int pending(const char *path, const struct stat *st, const cJSON *doc,
		   void *ctx)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(doc, "token_serial");
	struct pending *p = ctx;

	(void)path;
	(void)st;
	if (cJSON_IsString(s) && !strcmp(s->valuestring, p->serial) &&
	    !gm_journal_closed(doc))
		p->n++;
	return 0;
}

long gm_pending_renewals(const char *state_dir, const char *serial)
{
	struct pending p = { serial, 0 };

	gm_journal_each(state_dir, GM_JOURNALS_OPEN, pending, &p);
	return p.n;
}

static char *run_path(const char *state_dir, const char *serial)
{
	char name[40];

	gm_state_file_name(serial[0] ? serial : "-", name, sizeof(name));
	return gm_xasprintf("%s/runs/%s", state_dir, name);
}

void gm_run_record_read(const char *state_dir, const char *serial,
			gm_run_record *out)
{
	char *path = run_path(state_dir, serial);
	long long run = 0, ok = 0;
	FILE *f = fopen(path, "r");

	memset(out, 0, sizeof(*out));
	if (f && fscanf(f, "last_run %lld\nlast_success %lld", &run, &ok) == 2 &&
	    run >= 0 && ok >= 0) {
		out->last_run = (time_t)run;
		out->last_success = (time_t)ok;
	}
	if (f)
		fclose(f);
	free(path);
}

static int make_dir(const char *path, gm_error *err)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	return gm_fail(err, GM_EXIT_FAILED, "check the state directory's "
		       "permissions, or set [renewal] state_dir",
		       "cannot create directory '%s': %s", path,
		       strerror(errno));
}

static int write_record(const char *path, const gm_run_record *r,
			gm_error *err)
{
	char *text = gm_xasprintf("last_run %lld\nlast_success %lld\n",
				  (long long)r->last_run,
				  (long long)r->last_success);
	int ret = gm_file_replace_text(path, N_("run record"), 0600, text, err);

	free(text);
	return ret;
}

int gm_run_record_update(const char *state_dir, const char *serial,
			 time_t now, int success, gm_error *err)
{
	char *runs = gm_xasprintf("%s/runs", state_dir);
	char *path = run_path(state_dir, serial);
	gm_run_record r;
	int ret = -1;

	if (gm_state_dir_check(state_dir, err) || make_dir(runs, err))
		goto out;
	gm_run_record_read(state_dir, serial, &r);
	r.last_run = now;
	if (success)
		r.last_success = now;
	ret = write_record(path, &r, err);
out:
	free(runs);
	free(path);
	return ret;
}
