/*
 * state.c - where gmrenew keeps state between runs: the XDG state directory,
 * one journal per renewal, and one lock per token.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "renewal_internal.h"

char *gm_state_dir_default(void)
{
	const char *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");

	if (xdg && *xdg == '/')
		return gm_xasprintf("%s/gmrenew", xdg);
	return gm_xasprintf("%s/.local/state/gmrenew",
			    home && *home ? home : ".");
}

/* mkdir -p with mode 0700 for the directories gmrenew creates. */
static int make_dirs(const char *path, gm_error *err)
{
	char *p = gm_xstrdup(path), *s;
	int r = 0;

	for (s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, 0700) && errno != EEXIST) {
				r = gm_fail(err, GM_EXIT_FAILED,
					    "check the permissions, or set "
					    "[renewal] state_dir",
					    "cannot create directory '%s': %s", p,
					    strerror(errno));
				break;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	free(p);
	return r;
}

/*
 * A directory gmrenew keeps state in must be the user's own, a real
 * directory (not a symlink) and writable by nobody else, as OpenSSH asks of
 * ~/.ssh: otherwise another user could plant journals, locks or symlinks.
 */
static int dir_is_safe(const char *path, gm_error *err)
{
	const char *fix = "make it your own and private (chmod 700), or set "
			  "[renewal] state_dir to such a directory";
	struct stat st;

	if (lstat(path, &st))
		return gm_fail(err, GM_EXIT_FAILED, "check the permissions, or "
			       "set [renewal] state_dir",
			       "cannot look at state directory '%s': %s", path,
			       strerror(errno));
	if (S_ISLNK(st.st_mode))
		return gm_fail(err, GM_EXIT_USAGE, fix, "state directory '%s' is "
			       "a symbolic link; gmrenew does not follow it",
			       path);
	if (!S_ISDIR(st.st_mode))
		return gm_fail(err, GM_EXIT_USAGE, fix, "state directory '%s' "
			       "is not a directory", path);
	if (st.st_uid != geteuid())
		return gm_fail(err, GM_EXIT_USAGE, fix, "state directory '%s' "
			       "belongs to another user (uid %ld)", path,
			       (long)st.st_uid);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return gm_fail(err, GM_EXIT_USAGE, fix, "state directory '%s' "
			       "can be written by other users (mode %03o)", path,
			       (unsigned)(st.st_mode & 0777));
	return 0;
}

/* state_dir and its subdirectory sub, created when missing, both safe. */
static char *safe_subdir(const char *state_dir, const char *sub,
			 gm_error *err)
{
	char *dir = gm_xasprintf("%s/%s", state_dir, sub);

	if (make_dirs(state_dir, err) || dir_is_safe(state_dir, err) ||
	    make_dirs(dir, err) || dir_is_safe(dir, err)) {
		free(dir);
		return NULL;
	}
	return dir;
}

struct gm_token_lock {
	int fd;
	char *path;
};

/* Serials and codes are printable, but keep the file name safe whatever
 * they hold: anything but [0-9A-Za-z-] becomes '_'. */
void gm_state_file_name(const char *in, char *out, size_t n)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < n; i++)
		out[i] = (in[i] >= '0' && in[i] <= '9') ||
			 (in[i] >= 'A' && in[i] <= 'Z') ||
			 (in[i] >= 'a' && in[i] <= 'z') || in[i] == '-' ?
			 in[i] : '_';
	out[i] = '\0';
}

static void lock_holder(int fd, char *buf, size_t n)
{
	ssize_t r = pread(fd, buf, n - 1, 0);

	buf[r > 0 ? r : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/* The lock file: never through a symlink, a regular file of ours with one
 * link (a planted hard link is not truncated either). */
static int open_lock(const char *path, gm_error *err)
{
	struct stat st;
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return gm_fail(err, errno == ELOOP ? GM_EXIT_USAGE :
			       GM_EXIT_FAILED, "remove it and run again",
			       "cannot open lock file '%s': %s", path,
			       errno == ELOOP ? "it is a symbolic link" :
			       strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    st.st_uid != geteuid()) {
		close(fd);
		return gm_fail(err, GM_EXIT_USAGE, "remove it and run again",
			       "lock file '%s' is not a plain file of yours",
			       path);
	}
	return fd;
}

int gm_token_lock_acquire(const char *state_dir, const char *serial,
			  gm_token_lock **out, gm_error *err)
{
	char name[64], *dir = safe_subdir(state_dir, "locks", err), pid[32];
	gm_token_lock *lock;
	int fd;

	if (!dir)
		return -1;
	gm_state_file_name(serial[0] ? serial : "no-serial", name, sizeof(name));
	lock = gm_xcalloc(1, sizeof(*lock));
	lock->path = gm_xasprintf("%s/%s.lock", dir, name);
	free(dir);
	fd = open_lock(lock->path, err);
	if (fd < 0)
		goto fail;
	lock->fd = fd;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		lock_holder(fd, pid, sizeof(pid));
		gm_fail(err, GM_EXIT_FAILED,
			"wait for the other gmrenew to finish; one renewal per "
			"Ekey at a time",
			"another gmrenew process (pid %s) is working on the token "
			"with serial '%s'", pid[0] ? pid : "unknown", serial);
		close(fd);
		goto fail;
	}
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) || pwrite(fd, pid, strlen(pid), 0) < 0)
		gm_debug("cannot record the pid in '%s'", lock->path);
	*out = lock;
	return 0;
fail:
	free(lock->path);
	free(lock);
	return -1;
}

void gm_token_lock_release(gm_token_lock *lock)
{
	if (!lock)
		return;
	if (ftruncate(lock->fd, 0))
		gm_debug("cannot clear '%s'", lock->path);
	close(lock->fd);	/* drops the flock */
	free(lock->path);
	free(lock);
}

/*
 * Journals live in two places. journal/ holds those of renewals that may
 * still go on; journal/done/ those that are closed: finished, or abandoned
 * because their order can never finish. Every renewal and every metrics
 * run reads journal/, so its cost does not grow with the history: a
 * closed journal is moved to done/ when it is written closed (or when a
 * scan finds it in journal/, written by an older version or left there by
 * a failed move). A journal is looked up by its code in both places, so a
 * closed journal in either one is a valid one: the move is a rename and
 * needs no other care.
 */
static void journal_path(const char *state_dir, const char *code,
			 const char *sub, char *buf, size_t n)
{
	char name[32];

	gm_state_file_name(code, name, sizeof(name));
	snprintf(buf, n, "%s/journal%s/%s.json", state_dir, sub, name);
}

/* Reads a journal file: no symlink, a regular file, at most 1 MiB; its
 * status into *st_out when st_out. 1 when there is none. */
static int read_journal(const char *path, char **text, size_t *len,
			struct stat *st_out)
{
	struct stat st;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	*text = NULL;
	if (fd < 0)
		return errno == ENOENT ? 1 : -1;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > (1 << 20)) {
		close(fd);
		return -1;
	}
	*text = gm_xmalloc((size_t)st.st_size + 1);
	*len = 0;
	while (*len < (size_t)st.st_size) {
		r = read(fd, *text + *len, (size_t)st.st_size - *len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		*len += (size_t)r;
	}
	close(fd);
	(*text)[*len] = '\0';
	if (st_out)
		*st_out = st;
	return 0;
}

/* A damaged journal is kept for the helpdesk as CODE.json.damaged-TIME. */
static void move_aside(gm_journal *j)
{
	char at[32], *to;
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(at, sizeof(at), "%Y%m%dT%H%M%SZ", &tm);
	to = gm_xasprintf("%s.damaged-%s", j->path, at);
	if (rename(j->path, to) == 0)
		snprintf(j->damaged, sizeof(j->damaged), "%s", to);
	else
		snprintf(j->damaged, sizeof(j->damaged), "%s (not moved: %s)",
			 j->path, strerror(errno));
	free(to);
}

/* Reads the journal of code; a damaged one is moved aside only when
 * move_damaged (by the writer, gm_journal_open, which warns). */
static int load(const char *state_dir, const char *code, gm_journal *out,
		int move_damaged)
{
	char *text;
	size_t len = 0;
	int r;

	memset(out, 0, sizeof(*out));
	journal_path(state_dir, code, "", out->path, sizeof(out->path));
	r = read_journal(out->path, &text, &len, NULL);
	if (r > 0) {
		/* not in journal/: closed (in done/), or none, created in
		 * journal/ by gm_journal_open. If both are there, the one in
		 * journal/ was written after the other was moved. */
		journal_path(state_dir, code, "/done", out->path,
			     sizeof(out->path));
		r = read_journal(out->path, &text, &len, NULL);
		if (r > 0)
			journal_path(state_dir, code, "", out->path,
				     sizeof(out->path));
	}
	if (r > 0)
		return -1;
	out->doc = r == 0 ? cJSON_ParseWithLength(text, len) : NULL;
	free(text);
	if (!cJSON_IsObject(out->doc)) {
		gm_debug("journal '%s' is damaged", out->path);
		cJSON_Delete(out->doc);
		out->doc = NULL;
		if (move_damaged)
			move_aside(out);
		return -1;
	}
	return 0;
}

int gm_journal_load(const char *state_dir, const char *code, gm_journal *out)
{
	return load(state_dir, code, out, 0);
}

int gm_state_dir_check(const char *state_dir, gm_error *err)
{
	return make_dirs(state_dir, err) || dir_is_safe(state_dir, err) ? -1 : 0;
}

/* The time of the last entry of a version 1 journal's step list. */
static const char *last_step_time(const cJSON *doc)
{
	const cJSON *steps = cJSON_GetObjectItemCaseSensitive(doc, "steps");
	const cJSON *at = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetArrayItem(steps, cJSON_GetArraySize(steps) - 1), "at");

	return cJSON_IsString(at) ? at->valuestring : NULL;
}

/* A journal of version 1 (a list of steps and the last one) in today's
 * form: the facts stay, a finished renewal is marked "finished", the step
 * list goes. */
static void upgrade(gm_journal *j)
{
	const cJSON *last = cJSON_GetObjectItemCaseSensitive(j->doc,
							     "last_step");
	char now[32];

	if (!last && !cJSON_GetObjectItemCaseSensitive(j->doc, "steps"))
		return;
	if (cJSON_IsString(last) && !strcmp(last->valuestring, "retired") &&
	    !gm_journal_get(j, "finished")) {
		const char *at = last_step_time(j->doc);

		gm_time_rfc3339(time(NULL), now, sizeof(now));
		gm_journal_set(j, "finished", at ? at : now);
	}
	cJSON_DeleteItemFromObjectCaseSensitive(j->doc, "steps");
	cJSON_DeleteItemFromObjectCaseSensitive(j->doc, "last_step");
	cJSON_DeleteItemFromObjectCaseSensitive(j->doc, "version");
	cJSON_AddNumberToObject(j->doc, "version", 2);
}

int gm_journal_open(const char *state_dir, const char *code, gm_journal *out,
		    gm_error *err)
{
	char *dir = safe_subdir(state_dir, "journal", err), damaged[600];

	if (!dir)
		return -1;
	free(dir);
	if (load(state_dir, code, out, 1) == 0) {
		upgrade(out);
		return 0;
	}
	/* a new journal: the renewal's state comes from the service and the
	 * token, as after a journal that was never written */
	snprintf(damaged, sizeof(damaged), "%s", out->damaged);
	out->doc = cJSON_CreateObject();
	snprintf(out->damaged, sizeof(out->damaged), "%s", damaged);
	cJSON_AddNumberToObject(out->doc, "version", 2);
	cJSON_AddStringToObject(out->doc, "update_code", code);
	if (damaged[0])
		cJSON_AddStringToObject(out->doc, "damaged_journal", damaged);
	return gm_journal_write(out, err);
}

void gm_journal_close(gm_journal *j)
{
	if (!j)
		return;
	cJSON_Delete(j->doc);
	j->doc = NULL;
	free(j->written);
	j->written = NULL;
}

void gm_journal_set(gm_journal *j, const char *key, const char *value)
{
	cJSON_DeleteItemFromObjectCaseSensitive(j->doc, key);
	if (value)
		cJSON_AddStringToObject(j->doc, key, value);
}

const char *gm_journal_get(const gm_journal *j, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j->doc, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Moves the closed journal at path from journal/ to journal/done/ (the new
 * path into out, n bytes, when out). Only debug output on failure: the
 * journal is valid where it is, and the next scan moves it. */
static void move_closed(const char *path, char *out, size_t n)
{
	const char *slash = strrchr(path, '/'), *parent;
	char *dir, *done, *to;
	gm_error err;

	if (!slash)
		return;
	dir = gm_xasprintf("%.*s", (int)(slash - path), path);
	parent = strrchr(dir, '/');
	done = gm_xasprintf("%s/done", dir);
	to = gm_xasprintf("%s%s", done, slash);
	if (!parent || strcmp(parent, "/journal"))
		;	/* not in journal/: moved already */
	else if ((out && strlen(to) >= n) || dir_is_safe(dir, &err) ||
	    (mkdir(done, 0700) && errno != EEXIST) || dir_is_safe(done, &err))
		gm_debug("closed journal '%s' stays where it is", path);
	else if (rename(path, to))
		gm_debug("cannot move '%s' to '%s': %s", path, to,
			 strerror(errno));
	else {
		if (gm_sync_dir(done))
			gm_debug("cannot sync '%s': %s", done, strerror(errno));
		if (out)
			snprintf(out, n, "%s", to);
	}
	free(to);
	free(done);
	free(dir);
}

/* The journal is replaced whole (gm_file_replace), so that a crash leaves
 * either the old or the new journal, and a journal written is one that
 * stays. A step that changed no fact writes nothing: the text on disk is
 * already the one it would write (two fsyncs and a rename saved). */
int gm_journal_write(gm_journal *j, gm_error *err)
{
	char *text = cJSON_Print(j->doc), *line;
	int r;

	line = gm_xasprintf("%s\n", text ? text : "{}");
	cJSON_free(text);
	if (j->written && !strcmp(j->written, line)) {
		free(line);
		return 0;
	}
	r = gm_file_replace_text(j->path, N_("journal"), 0600, line, err);
	free(j->written);
	j->written = r == 0 ? line : NULL;
	if (r)
		free(line);
	if (r == 0 && gm_journal_closed(j->doc))
		move_closed(j->path, j->path, sizeof(j->path));
	return r;
}

void gm_journal_finish(gm_journal *j)
{
	char at[32];

	if (gm_journal_get(j, "finished"))
		return;
	gm_time_rfc3339(time(NULL), at, sizeof(at));
	gm_journal_set(j, "finished", at);
}

int gm_journal_finished(const cJSON *doc)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(doc, "finished");
	const cJSON *last = cJSON_GetObjectItemCaseSensitive(doc, "last_step");

	return cJSON_IsString(f) ||
	       (cJSON_IsString(last) && !strcmp(last->valuestring, "retired"));
}

int gm_journal_closed(const cJSON *doc)
{
	return gm_journal_finished(doc) ||
	       cJSON_GetObjectItemCaseSensitive(doc, "abandoned");
}

static int is_journal_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && !strcmp(name + n - 5, ".json");
}

/* The journals of one directory, the closed ones moved to done/ when tidy;
 * what visit stopped the walk with, else 0. */
static int each_in(const char *dir, int tidy, gm_journal_visit visit,
		   void *ctx)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int r = 0;

	while (d && !r && (e = readdir(d))) {
		char *path, *text;
		size_t len = 0;
		struct stat st;
		cJSON *doc;

		if (!is_journal_name(e->d_name))
			continue;
		path = gm_xasprintf("%s/%s", dir, e->d_name);
		doc = NULL;
		if (!read_journal(path, &text, &len, &st)) {
			doc = cJSON_ParseWithLength(text, len);
			free(text);
		}
		if (cJSON_IsObject(doc))
			r = visit(path, &st, doc, ctx);
		if (!r && tidy && cJSON_IsObject(doc) &&
		    gm_journal_closed(doc))
			move_closed(path, NULL, 0);
		cJSON_Delete(doc);
		free(path);
	}
	if (d)
		closedir(d);
	return r;
}

int gm_journal_each(const char *state_dir, int which, gm_journal_visit visit,
		    void *ctx)
{
	char *dir = gm_xasprintf("%s/journal", state_dir), *done;
	int r = 0;

	if (which == GM_JOURNALS_ALL) {
		gm_error err;

		done = gm_xasprintf("%s/done", dir);
		if (!dir_is_safe(done, &err))	/* no link, ours, private */
			r = each_in(done, 0, visit, ctx);
		free(done);
	}
	if (!r)
		r = each_in(dir, 1, visit, ctx);
	free(dir);
	return r;
}

struct previous {
	const char *sha256;
	unsigned char **der;
	size_t *der_len;
};

/* The journal of the renewal that installed the certificate: any journal,
 * closed or not (an interrupted renewal may have installed it). */
static int previous_from(const char *path, const struct stat *st,
			 const cJSON *doc, void *ctx)
{
	struct previous *p = ctx;
	const cJSON *fresh = cJSON_GetObjectItemCaseSensitive(doc, "new_sha256");
	const cJSON *old = cJSON_GetObjectItemCaseSensitive(doc,
							    "old_certificate");

	(void)path;
	(void)st;
	return cJSON_IsString(fresh) && cJSON_IsString(old) &&
	       !strcmp(fresh->valuestring, p->sha256) &&
	       gm_unhex(old->valuestring, p->der, p->der_len) == 0;
}

int gm_journal_find_previous(const char *state_dir, const char *sha256,
			     unsigned char **der, size_t *der_len)
{
	struct previous p = { sha256, der, der_len };

	return gm_journal_each(state_dir, GM_JOURNALS_ALL, previous_from, &p) ?
	       0 : -1;
}
