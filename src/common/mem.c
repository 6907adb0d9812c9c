/* mem.c - allocation that cannot return NULL, and wiping secrets. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gmrenew/common.h"

static void oom(size_t n)
{
	fprintf(stderr, "gmrenew: out of memory allocating %zu bytes\n", n);
	abort();
}

void *gm_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *gm_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom(n * size);
	return p;
}

void *gm_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

char *gm_xstrdup(const char *s)
{
	return s ? gm_xmemdup(s, strlen(s)) : NULL;
}

/* Copies n bytes and adds a NUL, so the copy is also a C string. */
char *gm_xmemdup(const void *p, size_t n)
{
	char *q = gm_xmalloc(n + 1);

	if (n)
		memcpy(q, p, n);
	q[n] = '\0';
	return q;
}

char *gm_xasprintf(const char *fmt, ...)
{
	va_list ap;
	int n;
	char *s;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom(0);
	s = gm_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

void gm_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	if (!p)
		return;
	while (n--)
		*v++ = 0;
	__asm__ __volatile__("" : : "r"(p) : "memory");
}

void gm_freezero(void *p, size_t n)
{
	if (!p)
		return;
	gm_wipe(p, n);
	free(p);
}

/* The whole allocation is wiped, not only up to the first NUL: a secret cut
 * short (a line end removed, a longer PIN typed before) leaves bytes past
 * it. */
void gm_free_secret(char *s)
{
	if (s)
		gm_freezero(s, malloc_usable_size(s));
}
