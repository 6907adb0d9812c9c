/*
 * fuzz_service_url.c - the service URL of the configuration ([service] url,
 * src/service/service.c): only https://host[:port], no user, path, query,
 * fragment, space or control character. No input may crash, leak or read
 * out of bounds, and an accepted URL gives an https:// base without those.
 *
 * Input: the URL (up to its first NUL). Seeds: tests/fuzz/corpus/service_url
 * (docs/configuration.md's URL and the forms it refuses). Built and run by
 * scripts/fuzz.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "gmrenew/service.h"
#include "fuzz_util.h"
#include "fuzz_self_signed.h"

static const char *bundle;

static void setup(void)
{
	size_t len;
	X509 *ca = fuzz_self_signed();
	char *pem = fuzz_pem(ca, &len);

	bundle = fuzz_file(1, pem, len);
	free(pem);
	X509_free(ca);
	/* one global init for the whole run, so that closing a service does
	 * not tear libcurl down every time */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *url = fuzz_string(data, size);
	gm_service_options o;
	gm_service *s = NULL;
	gm_error err;

	if (!bundle)
		setup();
	gm_service_options_defaults(&o);
	o.url = url;
	o.ca_bundle = bundle;
	if (gm_service_open(&o, &s, &err) == 0) {
		size_t i;

		if (strncasecmp(url, "https://", 8))
			abort();
		for (i = 0; url[i]; i++)
			if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f ||
			    url[i] == '?' || url[i] == '#')
				abort();	/* refused characters got through */
		gm_service_close(s);
	}
	free(url);
	return 0;
}
