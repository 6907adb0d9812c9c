/*
 * fuzz_util.h - what the fuzz targets share: the input as a file (an
 * in-memory file, so that runs cost no disk writes) and as a C string.
 * Header-only: every target is one program.
 */
#ifndef GMRENEW_FUZZ_UTIL_H
#define GMRENEW_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes p into in-memory file number slot (0..3) and returns a path that
 * opens it ("/proc/self/fd/N"). The same files are reused by every run. */
static inline const char *fuzz_file(int slot, const void *p, size_t n)
{
	static int fds[4] = { -1, -1, -1, -1 };
	static char paths[4][32];

	if (fds[slot] < 0) {
		fds[slot] = memfd_create("gmrenew-fuzz", MFD_CLOEXEC);
		if (fds[slot] < 0 || fchmod(fds[slot], 0600) < 0)
			abort();
		snprintf(paths[slot], sizeof(paths[slot]), "/proc/self/fd/%d",
			 fds[slot]);
	}
	if (ftruncate(fds[slot], 0) < 0 ||
	    (n && pwrite(fds[slot], p, n, 0) != (ssize_t)n))
		abort();
	return paths[slot];
}

/* The input as a NUL-terminated string (cut at its first NUL); caller
 * frees. */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
