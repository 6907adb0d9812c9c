/*
 * fuzz_pin.c - the PIN from a file (--pin-file) and from a file descriptor
 * (--pin-fd), src/cli/prompt.c: any bytes as the file's content. No input
 * may crash, leak or read out of bounds, and a PIN that is accepted is the
 * first line of the input exactly (no NUL byte in it, no line end, not
 * empty, at most 255 bytes): nothing is silently cut short.
 *
 * Seeds: tests/fuzz/corpus/pin. Built and run by scripts/fuzz.sh.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gmrenew/cli.h"
#include "fuzz_util.h"

/* The PIN the input holds, as docs/cli.md says: its first line, without
 * "\n" or "\r\n"; -1 when there is none. */
static long expected_len(const uint8_t *data, size_t size)
{
	size_t n = 0;

	while (n < size && data[n] != '\n')
		n++;
	if (n && data[n - 1] == '\r')
		n--;
	return n ? (long)n : -1;
}

static void check(const uint8_t *data, size_t size, int r, const char *pin)
{
	long want = expected_len(data, size);

	if (r < 0)
		return;
	if (!pin || want < 0 || strlen(pin) != (size_t)want ||
	    memcmp(pin, data, (size_t)want))
		abort();	/* accepted, but not the PIN the input holds */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(0, data, size);
	gm_pin_source src = { .file = path, .fd = -1 };
	char *pin = NULL;
	gm_error err;
	int fd, r;

	unsetenv("GMRENEW_PIN");
	r = gm_prompt_pin(&src, "PIN: ", &pin, &err);
	check(data, size, r, pin);
	gm_free_secret(pin);

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		abort();
	src.file = NULL;
	src.fd = fd;
	pin = NULL;
	r = gm_prompt_pin(&src, "PIN: ", &pin, &err);
	check(data, size, r, pin);
	gm_free_secret(pin);
	close(fd);
	return 0;
}
