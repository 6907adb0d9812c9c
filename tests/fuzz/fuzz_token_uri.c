/*
 * fuzz_token_uri.c - PKCS#11 URIs (RFC 7512) that pick the token (--token,
 * [token] uri; src/token/tokens.c), matched against the tokens a module
 * lists, whose strings are hostile too: any bytes, unpadded. The module is
 * fake_p11.c, built next to this target (libfuzz_fake_p11.so). No input may
 * crash, leak or read out of bounds; a token picked is one the module has.
 *
 * Input: the URI, then optionally a NUL byte and the tokens' information
 * (fake_p11.c: 97 bytes a token). Seeds: tests/fuzz/corpus/token_uri
 * (docs/cli.md's and p11-kit's URI forms). Built and run by scripts/fuzz.sh.
 */
#include <dlfcn.h>
#include <libgen.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gmrenew/common.h"
#include "gmrenew/token.h"
#include "fuzz_util.h"

static gm_module *module;
static void (*set_tokens)(const unsigned char *data, size_t n);

static void open_module(void)
{
	char exe[4096], path[4200];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	gm_error err;
	void *dl;

	if (n <= 0)
		abort();
	exe[n] = '\0';
	snprintf(path, sizeof(path), "%s/libfuzz_fake_p11.so", dirname(exe));
	if (gm_module_open(path, &module, &err) < 0) {
		fprintf(stderr, "fuzz_token_uri: %s\n", err.msg);
		abort();
	}
	dl = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
	if (!dl)
		abort();
	*(void **)&set_tokens = dlsym(dl, "fuzz_fake_p11_set");
	if (!set_tokens)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *uri = fuzz_string(data, size);
	size_t ulen = strlen(uri);
	gm_token_info info;
	gm_error err;

	if (!module)
		open_module();
	if (ulen < size)
		set_tokens(data + ulen + 1, size - ulen - 1);
	else
		set_tokens(NULL, 0);
	if (gm_token_select(module, uri, &info, &err) == 0) {
		if (info.slot < 1 || info.slot > 4 || !info.uri)
			abort();
		gm_token_info_release(&info);
	}
	free(uri);
	return 0;
}
