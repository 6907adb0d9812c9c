/*
 * fuzz_ca_bundle.c - CA bundle files: the trust anchors of the service's
 * TLS ([service] ca_bundle, checked by gm_service_open in
 * src/service/service.c) and of issued certificates ([service]
 * chain_bundle, verify --ca-bundle: read by gm_chain_verify in
 * src/crypto/chain.c). Any bytes as the file. No input may crash, leak or
 * read out of bounds.
 *
 * Seeds: tests/fuzz/corpus/ca_bundle (the reference service's SM2 and TLS
 * CA bundles, several certificates, text around them; made by
 * make_seeds.py). Built and run by scripts/fuzz.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/err.h>

#include "gmrenew/crypto.h"
#include "gmrenew/service.h"
#include "fuzz_util.h"
#include "fuzz_self_signed.h"

static X509 *leaf;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(0, data, size);
	gm_service_options o;
	gm_service *s = NULL;
	gm_error err;

	if (!leaf) {
		leaf = fuzz_self_signed();
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			abort();
	}
	gm_service_options_defaults(&o);
	o.url = "https://renew.example.cn:8443";
	o.ca_bundle = path;
	if (gm_service_open(&o, &s, &err) == 0)
		gm_service_close(s);
	gm_chain_verify(leaf, NULL, path, time(NULL), &err);
	ERR_clear_error();
	return 0;
}
