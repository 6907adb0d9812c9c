/* test_mem.c - wiping secrets: gm_free_secret wipes the whole buffer, not
 * only the bytes before the first NUL. free() is wrapped (-Wl,--wrap=free)
 * so that the buffer can be looked at the moment it is given back. */
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gmrenew/common.h"

void __real_free(void *p);
void __wrap_free(void *p);

static void *watched;
static size_t nonzero_seen, size_seen;

void __wrap_free(void *p)
{
	if (p && p == watched) {
		const unsigned char *b = p;
		size_t i;

		size_seen = malloc_usable_size(p);
		for (i = 0; i < size_seen; i++)
			nonzero_seen += b[i] != 0;
		watched = NULL;
	}
	__real_free(p);
}

static void whole_buffer_wiped(void **state)
{
	char *pin = gm_xmalloc(256);

	(void)state;
	memset(pin, 'X', 256);		/* a longer PIN read before */
	memcpy(pin, "1234\0\r\n", 7);	/* the PIN, cut at its line end */
	watched = pin;
	nonzero_seen = 0;
	gm_free_secret(pin);
	assert_null(watched);
	assert_true(size_seen >= 256);
	assert_int_equal(nonzero_seen, 0);
}

static void null_is_fine(void **state)
{
	(void)state;
	gm_free_secret(NULL);
}

static void freezero_wipes_n(void **state)
{
	unsigned char *key = gm_xmalloc(32);

	(void)state;
	memset(key, 0x5a, 32);
	watched = key;
	nonzero_seen = 0;
	gm_freezero(key, malloc_usable_size(key));
	assert_int_equal(nonzero_seen, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(whole_buffer_wiped),
		cmocka_unit_test(null_is_fine),
		cmocka_unit_test(freezero_wipes_n),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
