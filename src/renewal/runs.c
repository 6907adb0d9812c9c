/*
 * runs.c - what a scheduler or a monitoring system asks about past runs:
 * how many renewals of a token are still pending (their journals), and when
 * gmrenew last ran for a token and last succeeded. Run records live in
 * <state_dir>/runs/<SERIAL>, two numbers written atomically; they hold no
 * secret.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "renewal_internal.h"

/* Whether the journal file at path is a renewal of serial that has not
 * reached its last step. */
static int journal_pending(const char *path, const char *serial)
{
	unsigned char *text = NULL;
	const cJSON *s;
	cJSON *doc;
	size_t len;
	gm_error err;
	int pending = 0;

	if (gm_read_file(path, 1 << 20, &text, &len, &err))
		return 0;
	doc = cJSON_ParseWithLength((const char *)text, len);
	free(text);
	s = cJSON_GetObjectItemCaseSensitive(doc, "token_serial");
	if (cJSON_IsString(s) && !strcmp(s->valuestring, serial))
		pending = !gm_journal_finished(doc);
	cJSON_Delete(doc);
	return pending;
}

static int is_journal_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && !strcmp(name + n - 5, ".json");
}

long gm_pending_renewals(const char *state_dir, const char *serial)
{
	char *dir = gm_xasprintf("%s/journal", state_dir);
	DIR *d = opendir(dir);
	struct dirent *e;
	long n = 0;

	while (d && (e = readdir(d))) {
		char *path;

		if (!is_journal_name(e->d_name))
			continue;
		path = gm_xasprintf("%s/%s", dir, e->d_name);
		n += journal_pending(path, serial);
		free(path);
	}
	if (d)
		closedir(d);
	free(dir);
	return n;
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
