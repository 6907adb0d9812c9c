/* code.c - the update code (更新码): normalising what the user typed. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "service_internal.h"

static const char code_alphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

#define CODE_FIX N_("type the 16-character update code shown when the " \
	"renewal started, e.g. K7QF-3MZP-W9CD-HX2N (no 0, 1, I or O)")

int gm_update_code_normalize(const char *in, char out[24], gm_error *err)
{
	char raw[17];
	size_t n = 0;
	const char *p;

	out[0] = '\0';
	if (!in)
		return gm_fail(err, GM_EXIT_USAGE, CODE_FIX,
			       "no update code given");
	for (p = in; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == ' ' || c == '-' || c == '\t')
			continue;
		c = (unsigned char)toupper(c);
		if (c >= 0x80 || !strchr(code_alphabet, c) || c == '\0')
			return gm_fail(err, GM_EXIT_USAGE, CODE_FIX,
				       "'%.64s' is not an update code: "
				       "character '%c' is not allowed",
				       in, c >= 0x20 && c < 0x7f ? c : '?');
		if (n == 16)
			return gm_fail(err, GM_EXIT_USAGE, CODE_FIX,
				       "'%.64s' is not an update code: more "
				       "than 16 characters", in);
		raw[n++] = (char)c;
	}
	if (n != 16)
		return gm_fail(err, GM_EXIT_USAGE, CODE_FIX,
			       "'%.64s' is not an update code: %zu characters "
			       "instead of 16", in, n);
	snprintf(out, 24, "%.4s-%.4s-%.4s-%.4s", raw, raw + 4, raw + 8,
		 raw + 12);
	return 0;
}
