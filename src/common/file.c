/*
 * file.c - replacing a file whole: the new content goes to a fresh file with
 * a unique name in the same directory (mkstemp: O_CREAT | O_EXCL, so nothing
 * planted there is followed or reused), is synced and closed, renamed over
 * the old file, and the directory is synced. A crash leaves the old file or
 * the new one, never half of either, and no temporary file is left behind
 * on failure. The temporary name starts with a dot, so readers that look
 * for NAME.prom or NAME.json never see it.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gmrenew/common.h"

int gm_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The mkstemp template for path "DIR/NAME": "DIR/.NAME.tmp-" and the six
 * X that mkstemp replaces with a unique suffix. Caller frees. */
static char *temp_template(const char *path)
{
	char *d = gm_xstrdup(path), *b = gm_xstrdup(path), *t;

	t = gm_xasprintf("%s/.%s.tmp-XXXXXX", dirname(d), basename(b));
	free(d);
	free(b);
	return t;
}

int gm_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = -1;

	if (fd >= 0) {
		r = fsync(fd);
		if (close(fd))
			r = -1;
	}
	return r;
}

static int sync_parent(const char *path)
{
	char *d = gm_xstrdup(path);
	int r = gm_sync_dir(dirname(d));

	free(d);
	return r;
}

/* Writes through fill into the open temporary file; 0 when all of it is on
 * the disk and the file is closed (a failed close is a failed write). */
static int fill_and_close(int fd, mode_t mode, gm_file_fill fill, void *ctx)
{
	FILE *f = fdopen(fd, "w");
	int r;

	if (!f) {
		close(fd);
		return -1;
	}
	r = fchmod(fd, mode) || fill(f, ctx) || fflush(f) || ferror(f) ||
	    fsync(fd) ? -1 : 0;
	if (fclose(f))
		r = -1;
	return r;
}

int gm_file_replace(const char *path, const char *what, mode_t mode,
		    gm_file_fill fill, void *ctx, gm_error *err)
{
	char *tmp = temp_template(path);
	int fd, saved, r = -1;

	fd = mkstemp(tmp);
	if (fd < 0) {
		gm_fail(err, GM_EXIT_FAILED, "check that the directory exists "
			"and is writable", "cannot create the %s next to '%s': %s",
			gm_text(what), path, strerror(errno));
		goto out;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	if (fill_and_close(fd, mode, fill, ctx) || rename(tmp, path)) {
		saved = errno;
		unlink(tmp);
		gm_fail(err, GM_EXIT_FAILED, "check the free disk space and the "
			"directory's permissions", "cannot write the %s '%s': %s",
			gm_text(what), path, strerror(saved));
		goto out;
	}
	if (sync_parent(path)) {
		gm_fail(err, GM_EXIT_FAILED, "check the file system",
			"cannot sync the directory of the %s '%s': %s", gm_text(what),
			path, strerror(errno));
		goto out;
	}
	r = 0;
out:
	free(tmp);
	return r;
}

static int fill_text(FILE *f, void *ctx)
{
	return fputs(ctx, f) < 0 ? -1 : 0;
}

int gm_file_replace_text(const char *path, const char *what, mode_t mode,
			 const char *text, gm_error *err)
{
	return gm_file_replace(path, what, mode, fill_text, (void *)text, err);
}
