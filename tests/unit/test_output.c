/* test_output.c - the output layer makes outside text safe for a terminal:
 * C0, DEL, C1, bidi controls, invalid and overlong UTF-8, in text and in
 * JSON; formats and their other conversions are printed as they are. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gmrenew/cli.h"

static void sane(const char *in, const char *want)
{
	char *got = gm_sanitize(in);

	assert_string_equal(got, want);
	free(got);
}

static void text_kept(void **state)
{
	(void)state;
	sane("JSB0000 Ekey", "JSB0000 Ekey");
	sane("OU=深证通CCNET证书测试", "OU=深证通CCNET证书测试");
	sane("caf\xc3\xa9 \xf0\x9f\x98\x80", "caf\xc3\xa9 \xf0\x9f\x98\x80");
	sane("", "");
	sane(NULL, "");
}

static void controls_escaped(void **state)
{
	(void)state;
	sane("a\x1b[2Jb", "a\\x1b[2Jb");			/* clear screen */
	sane("\x1b]52;c;SGk=\x07", "\\x1b]52;c;SGk=\\x07");	/* OSC 52 */
	sane("line\nfake\r\t", "line\\x0afake\\x0d\\x09");
	sane("del\x7f", "del\\x7f");
	sane("csi\xc2\x9b" "31m", "csi\\u009b31m");		/* C1 CSI */
	sane("\xc2\x80\xc2\x9f", "\\u0080\\u009f");
}

static void bidi_escaped(void **state)
{
	(void)state;
	sane("abc\xe2\x80\xae" "fdp.exe", "abc\\u202efdp.exe");	/* RLO */
	sane("\xe2\x81\xa6x\xe2\x81\xa9", "\\u2066x\\u2069");	/* isolates */
	sane("\xe2\x80\x8f\xd8\x9c", "\\u200f\\u061c");
	sane("\xe2\x80\xa8", "\\u2028");
}

static void invalid_utf8_escaped(void **state)
{
	(void)state;
	sane("\xff\xfe", "\\xff\\xfe");
	sane("\xc0\x9b", "\\xc0\\x9b");			/* overlong ESC */
	sane("\xc1\xbf", "\\xc1\\xbf");
	sane("\xe0\x80\x9b", "\\xe0\\x80\\x9b");		/* overlong, 3 bytes */
	sane("\xf0\x80\x80\x9b", "\\xf0\\x80\\x80\\x9b");	/* overlong, 4 bytes */
	sane("\xed\xa0\x80", "\\xed\\xa0\\x80");		/* a surrogate */
	sane("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");	/* above U+10FFFF */
	sane("cut\xe4\xb8", "cut\\xe4\\xb8");			/* truncated */
	sane("\xe4\xb8\xad", "\xe4\xb8\xad");			/* 中 */
}

static char *printed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *printed(const char *fmt, ...)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	va_list ap;

	assert_non_null(f);
	va_start(ap, fmt);
	gm_vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
	return buf;
}

static void printf_sanitises_strings_only(void **state)
{
	char *s;

	(void)state;
	s = printed("Token '%s', serial %s\n", "E\x1b[2J", "12\x07");
	assert_string_equal(s, "Token 'E\\x1b[2J', serial 12\\x07\n");
	free(s);
	s = printed("[\033[%sm%s\033[0m] %d%% %5.1f %-4s|%*s|%.3s %zu %ld %c %lu",
		    "32", "ok", 7, 2.5, "ab", 3, "x", "abcdef", (size_t)42,
		    -5L, 'Z', 9UL);
	assert_string_equal(s, "[\033[32mok\033[0m] 7%   2.5 ab  |  x|abc 42 -5 "
			    "Z 9");
	free(s);
}

static void json_escaped_and_valid(void **state)
{
	cJSON *o = cJSON_CreateObject();
	char *text, *safe;

	(void)state;
	cJSON_AddStringToObject(o, "label", "a\x1b\x07\x7f\xc2\x9b\xe2\x80\xae"
				"\xff\xc0\x9b中");
	text = cJSON_PrintUnformatted(o);
	safe = gm_json_text_safe(text);
	assert_string_equal(safe, "{\"label\":\"a\\u001b\\u0007\\u007f\\u009b"
			    "\\u202e\\ufffd\\ufffd\\ufffd中\"}");
	cJSON_free(text);
	free(safe);
	cJSON_Delete(o);
}

static void cell_hides_controls(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	gm_print_cell(f, "a\x1b[2J\xc2\x9b\xe2\x80\xae\xffz", 12);
	fclose(f);
	assert_string_equal(buf, "a?[2J???z   ");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_kept),
		cmocka_unit_test(controls_escaped),
		cmocka_unit_test(bidi_escaped),
		cmocka_unit_test(invalid_utf8_escaped),
		cmocka_unit_test(printf_sanitises_strings_only),
		cmocka_unit_test(json_escaped_and_valid),
		cmocka_unit_test(cell_hides_controls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
