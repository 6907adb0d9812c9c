/* util.c - hex, files and time helpers shared by every layer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gmrenew/common.h"

char *gm_hex(const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *s = gm_xmalloc(2 * n + 1);
	size_t i;

	for (i = 0; i < n; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 0xf];
	}
	s[2 * n] = '\0';
	return s;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int gm_unhex(const char *hex, unsigned char **out, size_t *out_len)
{
	size_t len = strlen(hex), n = 0;
	unsigned char *buf = gm_xmalloc(len / 2 + 1);
	int hi = -1;

	for (; *hex; hex++) {
		int v;

		if (*hex == ':' && hi < 0)
			continue;
		v = hexval(*hex);
		if (v < 0)
			goto bad;
		if (hi < 0) {
			hi = v;
		} else {
			buf[n++] = (unsigned char)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0)
		goto bad;
	*out = buf;
	*out_len = n;
	return 0;
bad:
	free(buf);
	return -1;
}

int gm_read_file(const char *path, size_t max, unsigned char **out,
		 size_t *out_len, gm_error *err)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f)
		return gm_fail(err, GM_EXIT_FAILED, "check the path and permissions",
			       "cannot open '%s': %s", path, strerror(errno));
	for (;;) {
		size_t got;

		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			buf = gm_xrealloc(buf, cap + 1);
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n > max) {
			fclose(f);
			free(buf);
			return gm_fail(err, GM_EXIT_FAILED, NULL,
				       "'%s' is larger than %zu bytes", path, max);
		}
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return gm_fail(err, GM_EXIT_FAILED, NULL, "cannot read '%s'",
			       path);
	}
	fclose(f);
	buf[n] = '\0';
	*out = buf;
	*out_len = n;
	return 0;
}

void gm_time_rfc3339(time_t t, char *buf, size_t n)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
