/*
 * failio.c - an LD_PRELOAD library that makes one file operation fail, the
 * way a full disk, a dying USB stick or a network file system fails: the
 * Nth call of GMFAILIO_OP (fsync, fflush, fclose, rename) on a path that
 * contains GMFAILIO_MATCH returns an error (GMFAILIO_ERRNO, default EIO).
 * fclose and fsync still do their work before failing, as the kernel's do:
 * the error is reported, not the data dropped. GMFAILIO_NTH=0 fails every
 * matching call; GMFAILIO_NTH=trace fails none and logs every matching
 * call, so a test learns how many there are. Each failure (or traced call)
 * is written to GMFAILIO_LOG if set, so a test knows the fault was hit.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned long calls;

static int wanted(const char *op)
{
	const char *want = getenv("GMFAILIO_OP");

	return want && !strcmp(want, op);
}

static int fd_path(int fd, char *buf, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, len - 1);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static void note(const char *op, const char *path)
{
	const char *log = getenv("GMFAILIO_LOG");
	int fd;

	if (!log)
		return;
	fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0) {
		dprintf(fd, "%s %s\n", op, path);
		close(fd);
	}
}

/* 1 when this call of op on path is the one to fail. */
static int hit(const char *op, const char *path)
{
	const char *match = getenv("GMFAILIO_MATCH");
	const char *nth = getenv("GMFAILIO_NTH");
	unsigned long n = nth ? strtoul(nth, NULL, 10) : 1;

	if (!wanted(op) || !path || !match || !strstr(path, match))
		return 0;
	calls++;
	if (nth && !strcmp(nth, "trace")) {
		note(op, path);
		return 0;
	}
	if (n && calls != n)
		return 0;
	note(op, path);
	return 1;
}

static int fail(void)
{
	const char *e = getenv("GMFAILIO_ERRNO");

	errno = e ? atoi(e) : EIO;
	return -1;
}

static int fd_hit(const char *op, int fd)
{
	char path[PATH_MAX];

	return wanted(op) && !fd_path(fd, path, sizeof(path)) && hit(op, path);
}

int fsync(int fd)
{
	static int (*real)(int);
	int r;

	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	r = real(fd);
	return fd_hit("fsync", fd) ? fail() : r;
}

int fflush(FILE *f)
{
	static int (*real)(FILE *);

	if (!real)
		real = (int (*)(FILE *))dlsym(RTLD_NEXT, "fflush");
	if (f && fd_hit("fflush", fileno(f))) {
		fail();
		return EOF;
	}
	return real(f);
}

int fclose(FILE *f)
{
	static int (*real)(FILE *);
	int failed, r, saved;

	if (!real)
		real = (int (*)(FILE *))dlsym(RTLD_NEXT, "fclose");
	failed = f && fd_hit("fclose", fileno(f));
	r = real(f);
	if (!failed)
		return r;
	saved = fail();
	(void)saved;
	return EOF;	/* the stream is closed all the same */
}

int rename(const char *from, const char *to)
{
	static int (*real)(const char *, const char *);

	if (!real)
		real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT,
								 "rename");
	if (hit("rename", to))
		return fail();
	return real(from, to);
}
