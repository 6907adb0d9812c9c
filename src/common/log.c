/* log.c - the debug log: stderr, function name first, off by default. */
#include <stdio.h>

#include "gmrenew/common.h"

int gm_verbosity;

void gm_log(int level, const char *func, const char *fmt, ...)
{
	va_list ap;

	if (level > gm_verbosity)
		return;
	fprintf(stderr, "gmrenew: debug: %s: ", func);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
