/*
 * test_fuzz_findings.c - regression tests for what the fuzz targets of
 * tests/fuzz/ found; each input is also kept in the target's corpus.
 *   - fuzz_pin: a NUL byte in a PIN file or on a PIN file descriptor cut
 *     the PIN short silently (tests/fuzz/corpus/pin/nul-*).
 *   - fuzz_service_url: an empty query or fragment ("https://host#") was
 *     taken as a service URL (tests/fuzz/corpus/service_url/empty-*).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "gmrenew/cli.h"
#include "gmrenew/service.h"
#include "../fuzz/fuzz_self_signed.h"

/* A file holding n bytes of p; returns its path (caller unlinks, frees). */
static char *temp_file(const void *p, size_t n)
{
	char *path = strdup("/tmp/gmrenew-test-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	close(fd);
	return path;
}

/* gm_prompt_pin from a file, then from a descriptor on the same bytes. */
static void pin_both_ways(const void *p, size_t n, int *rc, char **pins,
			  gm_error *errs)
{
	char *path = temp_file(p, n);
	gm_pin_source src = { .file = path, .fd = -1 };
	int fd;

	unsetenv("GMRENEW_PIN");
	rc[0] = gm_prompt_pin(&src, "PIN: ", &pins[0], &errs[0]);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	src.file = NULL;
	src.fd = fd;
	rc[1] = gm_prompt_pin(&src, "PIN: ", &pins[1], &errs[1]);
	close(fd);
	unlink(path);
	free(path);
}

static void test_pin_with_nul_refused(void **state)
{
	static const char pin[] = "1234\0" "5678\n";
	char *pins[2] = { NULL, NULL };
	gm_error errs[2];
	int rc[2], i;

	(void)state;
	pin_both_ways(pin, sizeof(pin) - 1, rc, pins, errs);
	for (i = 0; i < 2; i++) {
		assert_int_equal(rc[i], -1);
		assert_null(pins[i]);
		assert_int_equal(errs[i].code, GM_EXIT_USAGE);
		assert_non_null(strstr(errs[i].msg, "NUL byte"));
	}
}

static void test_pin_lines_read_whole(void **state)
{
	static const char pin[] = "12345678\r\nsecond line\n";
	char *pins[2] = { NULL, NULL };
	gm_error errs[2];
	int rc[2], i;

	(void)state;
	pin_both_ways(pin, sizeof(pin) - 1, rc, pins, errs);
	for (i = 0; i < 2; i++) {
		assert_int_equal(rc[i], 0);
		assert_string_equal(pins[i], "12345678");
		gm_free_secret(pins[i]);
	}
}

static int open_url(const char *url, const char *bundle, gm_error *err)
{
	gm_service_options o;
	gm_service *s = NULL;

	gm_service_options_defaults(&o);
	o.url = url;
	o.ca_bundle = bundle;
	if (gm_service_open(&o, &s, err) < 0)
		return -1;
	gm_service_close(s);
	return 0;
}

static void test_url_empty_query_or_fragment_refused(void **state)
{
	static const char *const bad[] = {
		"https://renew.example.cn#", "https://renew.example.cn?",
		"https://renew.example.cn:8443/#", "https://renew.example.cn/?#",
	};
	X509 *ca = fuzz_self_signed();
	size_t len, i;
	char *pem = fuzz_pem(ca, &len);
	char *bundle = temp_file(pem, len);
	gm_error err;

	(void)state;
	assert_int_equal(open_url("https://renew.example.cn:8443", bundle, &err), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (open_url(bad[i], bundle, &err) != -1)
			fail_msg("'%s' was accepted", bad[i]);
		assert_int_equal(err.code, GM_EXIT_USAGE);
		assert_non_null(strstr(err.msg, "query or a fragment"));
	}
	unlink(bundle);
	free(bundle);
	free(pem);
	X509_free(ca);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pin_with_nul_refused),
		cmocka_unit_test(test_pin_lines_read_whole),
		cmocka_unit_test(test_url_empty_query_or_fragment_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
