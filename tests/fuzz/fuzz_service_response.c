/*
 * fuzz_service_response.c - the parsers of the renewal service's answers
 * (src/service/parse.c: orders, lookup records, errors, challenges, times,
 * hex and base64 members and the fingerprint check; src/service/errors.c;
 * the header and body callbacks of src/service/http.c). No input may
 * crash, leak or read out of bounds, and what a parser accepts must obey
 * the protocol's rules.
 *
 * Seeds: tests/fuzz/corpus/service_response (every answer of
 * docs/protocol.md and of the reference service, made by make_seeds.py);
 * dictionary: service_response.dict. Built and run by scripts/fuzz.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/service/service_internal.h"
#include "fuzz_util.h"

static void check_order(const gm_order *o)
{
	char hex[65];

	if (strlen(o->code) != 19 || o->n_chain > 8)
		abort();
	if (o->cert) {
		gm_svc_sha256_hex(o->cert, o->cert_len, hex);
		if (strcmp(hex, o->cert_sha256))
			abort();	/* the fingerprint check let it pass */
	}
	if (o->state <= GM_ORDER_NONE || o->state >= GM_ORDER_STATE_COUNT)
		abort();	/* every answer has a state gmrenew knows */
	if ((o->state == GM_ORDER_ISSUED || o->state == GM_ORDER_CONFIRMED) &&
	    !o->cert)
		abort();
}

static void orders_and_records(const char *text, size_t size)
{
	gm_ca_record recs[3];
	gm_order o;
	gm_error err;
	size_t n, i;

	if (gm_svc_parse_order(text, size, &o, &err) == 0) {
		check_order(&o);
		gm_order_release(&o);
	}
	for (n = 1; n <= 3; n++) {
		gm_ca_record *copy;

		if (gm_svc_parse_records(text, size, n, recs, &err) < 0)
			continue;
		/* the parser fills a caller array; free its members */
		copy = gm_xcalloc(n, sizeof(*copy));
		for (i = 0; i < n; i++) {
			if (!recs[i].status || (recs[i].found && !recs[i].sha256))
				abort();
			copy[i] = recs[i];
		}
		gm_ca_records_free(copy, n);
	}
}

static void errors_and_challenges(const char *text, size_t size)
{
	char challenge[GM_SVC_CHALLENGE_MAX + 1];
	gm_svc_proto_error pe;
	gm_error err;
	size_t i;

	if (gm_svc_parse_challenge(text, size, challenge) == 0 &&
	    !gm_svc_challenge_ok(challenge))
		abort();
	if (gm_svc_parse_error(text, size, &pe) == 0) {
		for (i = 0; pe.message_en[i]; i++)
			if ((unsigned char)pe.message_en[i] < 0x20)
				abort();	/* control characters are dropped */
		gm_svc_fail_protocol(&err, "fuzz", 400, &pe);
	}
}

/* The same bytes as header lines and as body chunks. */
static void callbacks(const uint8_t *data, size_t size)
{
	gm_svc_response r;
	char *copy = gm_xmemdup(data, size);
	size_t start = 0, i;

	memset(&r, 0, sizeof(r));
	gm_svc_response_reset(&r);
	for (i = 0; i < size; i++)
		if (copy[i] == '\n') {
			gm_svc_header_cb(copy + start, 1, i + 1 - start, &r);
			start = i + 1;
		}
	if (start < size)
		gm_svc_header_cb(copy + start, 1, size - start, &r);
	gm_svc_write_cb(copy, 1, size, &r);
	if (r.len > GM_SVC_MAX_BODY)
		abort();
	gm_svc_response_release(&r);
	free(copy);
}

/* The input as one member value: time and base64 readers. */
static void values(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size);
	unsigned char *bin = NULL;
	size_t len = 0;
	time_t t;

	gm_svc_parse_time(s, &t);
	if (gm_svc_b64_decode(s, &bin, &len) == 0) {
		size_t n = strlen(s), pad = s[n - 1] == '=' ?
			   (s[n - 2] == '=' ? 2 : 1) : 0;
		char *again = gm_svc_b64_encode(bin, len);

		/* every 4 characters are 3 bytes, less the padding */
		if (len != n / 4 * 3 - pad || strlen(again) != n)
			abort();
		free(again);
		free(bin);
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;

	orders_and_records(text, size);
	errors_and_challenges(text, size);
	callbacks(data, size);
	values(data, size);
	return 0;
}
