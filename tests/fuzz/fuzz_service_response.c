/*
 * fuzz_service_response.c - libFuzzer target for the parsers of the
 * renewal service's answers (src/service/parse.c) and its header callback:
 * no input may crash, leak or read out of bounds.
 *
 * Build (from the source tree, after building gm_service gm_crypto
 * gm_common with clang):
 *   clang -g -fsanitize=fuzzer,address,undefined -Iinclude -Ibuild/generated \
 *     -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
 *     tests/fuzz/fuzz_service_response.c src/service/[a-z]*.c \
 *     src/crypto/[a-z]*.c src/common/[a-z]*.c \
 *     -lcurl -lcjson -lcrypto -linih -o fuzz_service_response
 *   ./fuzz_service_response -max_total_time=60
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../src/service/service_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	char challenge[GM_SVC_CHALLENGE_MAX + 1];
	gm_svc_proto_error pe;
	gm_svc_response r;
	gm_ca_record recs[3];
	gm_order o;
	gm_error err;
	size_t n;

	if (gm_svc_parse_order(text, size, &o, &err) == 0)
		gm_order_release(&o);
	for (n = 1; n <= 3; n++)
		if (gm_svc_parse_records(text, size, n, recs, &err) == 0) {
			size_t i;

			/* the parser fills a caller array; free members */
			gm_ca_record *copy = gm_xcalloc(n, sizeof(*copy));

			for (i = 0; i < n; i++)
				copy[i] = recs[i];
			gm_ca_records_free(copy, n);
		}
	gm_svc_parse_challenge(text, size, challenge);
	if (gm_svc_parse_error(text, size, &pe) == 0)
		gm_svc_fail_protocol(&err, "fuzz", 400, &pe);

	/* the same bytes as header lines and as body chunks */
	memset(&r, 0, sizeof(r));
	gm_svc_response_reset(&r);
	{
		size_t start = 0, i;
		char *copy = gm_xmemdup(data, size);

		for (i = 0; i < size; i++)
			if (copy[i] == '\n') {
				gm_svc_header_cb(copy + start, 1, i + 1 - start,
						 &r);
				start = i + 1;
			}
		if (start < size)
			gm_svc_header_cb(copy + start, 1, size - start, &r);
		gm_svc_write_cb(copy, 1, size, &r);
		free(copy);
	}
	gm_svc_response_release(&r);
	return 0;
}
