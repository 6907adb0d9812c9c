/*
 * test_service.c - the service client's pure parts: update codes, the PoP
 * message of docs/protocol.md 5.2, base64, the answer parsers, the error
 * mapping, the option checks and the bounded answer buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "../../src/service/service_internal.h"

/* ---------------------------------------------------------------- codes */

static void code_normalised(void **state)
{
	char out[24];
	gm_error err;

	(void)state;
	assert_int_equal(gm_update_code_normalize("k7qf 3mzp-w9cd hx2n", out,
						  &err), 0);
	assert_string_equal(out, "K7QF-3MZP-W9CD-HX2N");
	assert_int_equal(gm_update_code_normalize("K7QF3MZPW9CDHX2N", out,
						  &err), 0);
	assert_string_equal(out, "K7QF-3MZP-W9CD-HX2N");
	assert_int_equal(gm_update_code_normalize(" -K7QF-3MZP-W9CD-HX2N- ",
						  out, &err), 0);
	assert_string_equal(out, "K7QF-3MZP-W9CD-HX2N");
}

static void code_refused(void **state)
{
	static const char *bad[] = {
		"K7QF-3MZP-W9CD-HX20",	/* 0 */
		"K7QF-3MZP-W9CD-HX21",	/* 1 */
		"K7QF-3MZP-W9CD-HX2I",	/* I */
		"K7QF-3MZP-W9CD-HX2O",	/* O */
		"K7QF-3MZP-W9CD-HX2",	/* 15 */
		"K7QF-3MZP-W9CD-HX2NN",	/* 17 */
		"", "K7QF-3MZP-W9CD-HX2\xc3\xa9", "K7QF/3MZP/W9CD/HX2N",
	};
	char out[24];
	gm_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		gm_error_clear(&err);
		assert_int_equal(gm_update_code_normalize(bad[i], out, &err), -1);
		assert_int_equal(err.code, GM_EXIT_USAGE);
		assert_true(err.fix[0] != '\0');
		assert_string_equal(out, "");
	}
	assert_int_equal(gm_update_code_normalize(NULL, out, &err), -1);
}

/* ---------------------------------------------------------------- PoP */

static void pop_message_example(void **state)
{
	/* docs/protocol.md section 5.2 */
	const char *expected =
		"gmrenew-pop-v1\nAAAA\n"
		"POST /v1/renewals/K7QF-3MZP-W9CD-HX2N/confirm\n"
		"vDZNffaY1bci1F8zGywHesWHjz7k8VO3uePbjnnrCIM=";
	char body[128], *m = NULL;
	size_t len = 0, i;
	gm_error err;

	(void)state;
	strcpy(body, "{\"certificate_sha256\":\"");
	for (i = 0; i < 32; i++)
		strcat(body, "ab");
	strcat(body, "\"}");
	assert_int_equal(gm_svc_pop_message("AAAA", "POST",
			 "/v1/renewals/K7QF-3MZP-W9CD-HX2N/confirm",
			 (unsigned char *)body, strlen(body), &m, &len, &err), 0);
	assert_int_equal(len, strlen(expected));
	assert_memory_equal(m, expected, len);
	free(m);
}

static void pop_message_empty_body(void **state)
{
	char *m = NULL;
	size_t len = 0;
	gm_error err;

	(void)state;
	assert_int_equal(gm_svc_pop_message("c", "POST", "/v1/x", NULL, 0, &m,
					    &len, &err), 0);
	assert_string_equal(m, "gmrenew-pop-v1\nc\nPOST /v1/x\n"
			    "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
	free(m);
	assert_int_equal(gm_svc_pop_message("", "POST", "/v1/x", NULL, 0, &m,
					    &len, &err), -1);
	assert_null(m);
}

static void base64_strict(void **state)
{
	static const char *bad[] = { "", "A", "AAA", "AA=A", "A===", "AB*=",
				     "QUJD\n", "QU JD", "=AAA" };
	unsigned char *out;
	size_t len, i;
	char *enc;

	(void)state;
	assert_int_equal(gm_svc_b64_decode("QUJDRA==", &out, &len), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(out, "ABCD", 4);
	free(out);
	assert_int_equal(gm_svc_b64_decode("QUJD", &out, &len), 0);
	assert_int_equal(len, 3);
	free(out);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(gm_svc_b64_decode(bad[i], &out, &len), -1);
		assert_null(out);
	}
	enc = gm_svc_b64_encode((const unsigned char *)"ABCDE", 5);
	assert_string_equal(enc, "QUJDREU=");
	free(enc);
}

/* ---------------------------------------------------------------- orders */

#define HEX64A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
/* SHA-256 of the bytes 01 02 03 ("AQID") */
#define SHA_AQID "039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81"

static const char good_order[] =
	"{\"update_code\":\"K7QF-3MZP-W9CD-HX2N\",\"state\":\"issued\","
	"\"next_step\":\"confirm\",\"created_at\":\"2026-01-27T08:15:00Z\","
	"\"expires_at\":\"2026-02-03T08:15:00Z\","
	"\"old_certificate_sha256\":\"" HEX64A "\","
	"\"subject\":\"CN=JSB0000@IST@30,OU=\xe6\xb7\xb1,O=SSCCCA,C=CN\","
	"\"csr_requirements\":{\"subject_der\":\"MAA=\",\"key_type\":\"sm2\"},"
	"\"rekey_allowed\":false,\"certificate\":\"AQID\","
	"\"certificate_sha256\":\"" SHA_AQID "\","
	"\"chain\":[\"AQID\",\"BAUG\"],\"not_after\":\"2031-01-28T08:15:00Z\","
	"\"future_member\":[1,2,3],\"next_challenge\":\"abc\"}";

static void order_good(void **state)
{
	gm_order o;
	gm_error err;

	(void)state;
	assert_int_equal(gm_svc_parse_order(good_order, strlen(good_order), &o,
					    &err), 0);
	assert_string_equal(o.code, "K7QF-3MZP-W9CD-HX2N");
	assert_int_equal(o.state, GM_ORDER_ISSUED);
	assert_string_equal(gm_order_state_name(o.state), "issued");
	assert_string_equal(o.next_step, "confirm");
	assert_string_equal(o.old_sha256, HEX64A);
	assert_string_equal(o.key_type, "sm2");
	assert_int_equal(o.rekey_allowed, 0);
	assert_int_equal(o.subject_der_len, 2);
	assert_int_equal(o.cert_len, 3);
	assert_string_equal(o.cert_sha256, SHA_AQID);
	assert_int_equal(o.n_chain, 2);
	assert_int_equal(o.chain_lens[1], 3);
	assert_int_equal(o.chain[1][0], 4);
	assert_int_equal(o.expires_at, 1770106500);	/* 2026-02-03T08:15:00Z */
	assert_non_null(strstr(o.subject, "JSB0000"));
	gm_order_release(&o);
	gm_order_release(&o);	/* released twice: harmless */
}

/* Protocol 1.1: the encryption part is read only from a 1.1 answer, with
 * its members as sent (the renewal checks them). */
#define ENC_PART \
	"\"encryption\":{\"certificate\":\"AQID\"," \
	"\"certificate_sha256\":\"" SHA_AQID "\"," \
	"\"not_after\":\"2031-01-28T08:15:00Z\",\"enveloped_key\":{" \
	"\"version\":1,\"symmetric_algorithm\":\"sm4-ecb\",\"bits\":256," \
	"\"recipient_certificate_sha256\":\"" SHA_AQID "\"," \
	"\"encrypted_symmetric_key\":\"AQID\"," \
	"\"encrypted_private_key\":\"BAUG\",\"public_key\":\"AQID\"}}"

static void order_v11(void **state)
{
	char *v11 = gm_xasprintf("%.*s,\"protocol\":\"1.1\","
				 "\"double_certificate\":true," ENC_PART "}",
				 (int)strlen(good_order) - 1, good_order);
	char *v10 = gm_xasprintf("%.*s,\"double_certificate\":true," ENC_PART
				 "}", (int)strlen(good_order) - 1, good_order);
	char *bad = gm_xasprintf("%.*s,\"protocol\":\"1.1\",\"encryption\":"
				 "{\"certificate\":\"AQID\","
				 "\"certificate_sha256\":\"" HEX64A "\"}}",
				 (int)strlen(good_order) - 1, good_order);
	gm_order o;
	gm_error err;

	(void)state;
	assert_int_equal(gm_svc_parse_order(v11, strlen(v11), &o, &err), 0);
	assert_int_equal(o.v11, 1);
	assert_int_equal(o.double_cert, 1);
	assert_non_null(o.enc);
	assert_int_equal(o.enc->cert_len, 3);
	assert_int_equal(o.enc->version, 1);
	assert_int_equal(o.enc->bits, 256);
	assert_string_equal(o.enc->sym_alg, "sm4-ecb");
	assert_string_equal(o.enc->recipient_sha256, SHA_AQID);
	assert_int_equal(o.enc->sym_key_len, 3);
	assert_int_equal(o.enc->priv_len, 3);
	assert_int_equal(o.enc->not_after, 1927354500);
	gm_order_release(&o);
	/* a 1.0 answer: no 1.1 member is read */
	assert_int_equal(gm_svc_parse_order(v10, strlen(v10), &o, &err), 0);
	assert_int_equal(o.v11, 0);
	assert_int_equal(o.double_cert, 0);
	assert_null(o.enc);
	gm_order_release(&o);
	assert_int_equal(gm_svc_parse_order(bad, strlen(bad), &o, &err), -1);
	assert_int_equal(err.code, GM_EXIT_SERVICE);
	free(v11);
	free(v10);
	free(bad);
}

/* good_order with one piece replaced */
static char *order_with(const char *from, const char *to)
{
	const char *at = strstr(good_order, from);
	size_t head;

	assert_non_null(at);
	head = (size_t)(at - good_order);
	return gm_xasprintf("%.*s%s%s", (int)head, good_order, to,
			    at + strlen(from));
}

static void order_bad(void **state)
{
	static const struct { const char *from, *to, *says; } cases[] = {
		{ "\"update_code\":\"K7QF-3MZP-W9CD-HX2N\"",
		  "\"update_code\":7", "'update_code' is not a string" },
		{ "\"update_code\":\"K7QF-3MZP-W9CD-HX2N\"",
		  "\"x\":1", "'update_code' is missing" },
		{ "K7QF-3MZP-W9CD-HX2N", "k7qf3mzpw9cdhx2n", "canonical" },
		{ "\"state\":\"issued\"", "\"state\":\"done\"", "unknown value" },
		/* gmrenew's own word for "no answer yet" is no state */
		{ "\"state\":\"issued\"", "\"state\":\"none\"", "unknown value" },
		{ "\"next_step\":\"confirm\"", "\"next_step\":null", "missing" },
		{ "\"expires_at\":\"2026-02-03T08:15:00Z\"",
		  "\"expires_at\":\"2026-02-03 08:15\"", "RFC 3339" },
		{ HEX64A, "AAAA", "hex" },
		{ "\"csr_requirements\":{", "\"csr_requirements\":[{", NULL },
		{ "\"subject_der\":\"MAA=\"", "\"subject_der\":\"M!A=\"",
		  "'subject_der' is not base64" },
		{ "\"key_type\":\"sm2\"", "\"key_type\":\"rsa\"", "unknown" },
		{ "\"rekey_allowed\":false", "\"rekey_allowed\":\"no\"",
		  "true or false" },
		{ "\"certificate\":\"AQID\"", "\"certificate\":\"AQIE\"",
		  "fingerprint" },
		{ "\"certificate\":\"AQID\"", "\"certificate\":null",
		  "without a certificate" },
		{ "\"chain\":[\"AQID\",\"BAUG\"]", "\"chain\":\"AQID\"",
		  "not a list" },
		{ "\"chain\":[\"AQID\",\"BAUG\"]", "\"chain\":[\"AQID\",5]",
		  "'chain' item 1" },
		{ "{\"update_code\"", "[{\"update_code\"", NULL },
		/* one member twice, even with one value: refused */
		{ "\"state\":\"issued\"",
		  "\"state\":\"issued\",\"state\":\"issued\"",
		  "two members of the same name" },
		{ "\"key_type\":\"sm2\"",
		  "\"key_type\":\"sm2\",\"x\":1,\"x\":2",
		  "two members of the same name" },
	};
	gm_order o;
	gm_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = order_with(cases[i].from, cases[i].to);

		gm_error_clear(&err);
		assert_int_equal(gm_svc_parse_order(text, strlen(text), &o,
						    &err), -1);
		assert_int_equal(err.code, GM_EXIT_SERVICE);
		assert_int_equal(err.reason, GM_REASON_MALFORMED);
		assert_non_null(strstr(err.msg, "the service sent a malformed "
				       "answer: "));
		if (cases[i].says && !strstr(err.msg, cases[i].says))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.msg,
				 cases[i].says);
		assert_null(o.cert);
		assert_null(o.chain);
		free(text);
	}
	assert_int_equal(gm_svc_parse_order("", 0, &o, &err), -1);
	assert_int_equal(gm_svc_parse_order("{\"a\":", 5, &o, &err), -1);
	assert_non_null(strstr(err.msg, "not JSON"));
	assert_int_equal(gm_svc_parse_order("null", 4, &o, &err), -1);
	/* truncated on purpose: the length counts, not the NUL */
	assert_int_equal(gm_svc_parse_order(good_order, 40, &o, &err), -1);
}

/* ---------------------------------------------------------------- records */

static const char good_records[] =
	"{\"results\":[{\"found\":true,\"sha256\":\"" HEX64A "\","
	"\"serial\":\"1a\",\"subject\":\"CN=x\",\"issuer\":\"CN=y\","
	"\"not_before\":\"2021-03-01T00:00:00Z\","
	"\"not_after\":\"2026-03-01T00:00:00Z\",\"gateway\":\"JSB0000\","
	"\"organization\":\"\xe6\xb7\xb1\",\"system\":\"CCNET\","
	"\"status\":\"valid\",\"superseded_by\":null,"
	"\"renewal\":{\"online\":true,\"reason\":null,"
	"\"window_start\":\"2025-12-01T00:00:00Z\","
	"\"window_end\":\"2026-05-30T00:00:00Z\"},"
	"\"open_order\":{\"update_code\":\"K7QF-3MZP-W9CD-HX2N\","
	"\"state\":\"started\"}},"
	"{\"found\":false,\"sha256\":null,\"serial\":null,\"subject\":null,"
	"\"issuer\":null,\"not_before\":null,\"not_after\":null,"
	"\"gateway\":null,\"organization\":null,\"system\":null,"
	"\"status\":\"unknown\",\"superseded_by\":null,"
	"\"renewal\":{\"online\":false,\"reason\":\"unknown\","
	"\"window_start\":null,\"window_end\":null},\"open_order\":null}],"
	"\"next_challenge\":\"q2V\"}";

static void records_good(void **state)
{
	gm_ca_record *r = gm_xcalloc(2, sizeof(*r));
	gm_error err;

	(void)state;
	assert_int_equal(gm_svc_parse_records(good_records,
					      strlen(good_records), 2, r,
					      &err), 0);
	assert_true(r[0].found);
	assert_true(r[0].online);
	assert_null(r[0].reason);
	assert_string_equal(r[0].gateway, "JSB0000");
	assert_string_equal(r[0].organization, "\xe6\xb7\xb1");
	assert_string_equal(r[0].open_code, "K7QF-3MZP-W9CD-HX2N");
	assert_string_equal(r[0].open_state, "started");
	assert_int_equal(r[0].window_start, 1764547200);
	assert_false(r[1].found);
	assert_false(r[1].online);
	assert_string_equal(r[1].reason, "unknown");
	assert_int_equal(r[1].why, GM_REASON_UNKNOWN);
	assert_int_equal(r[0].why, GM_REASON_NONE);
	assert_string_equal(r[1].status, "unknown");
	assert_null(r[1].gateway);
	assert_null(r[1].sha256);
	assert_int_equal(r[1].window_end, 0);
	gm_ca_records_free(r, 2);
}

static void records_bad(void **state)
{
	static const struct { const char *from, *to; } cases[] = {
		{ "\"found\":true", "\"found\":1" },
		{ "\"online\":true", "\"online\":\"yes\"" },
		{ "\"status\":\"valid\"", "\"status\":null" },
		{ "\"renewal\":{\"online\":true", "\"renewal\":[{\"online\":true" },
		{ "\"gateway\":\"JSB0000\"", "\"gateway\":{}" },
		{ "\"window_start\":\"2025-12-01T00:00:00Z\"",
		  "\"window_start\":\"yesterday\"" },
		{ "\"update_code\":\"K7QF-3MZP-W9CD-HX2N\"",
		  "\"update_code\":\"nope\"" },
		{ "\"found\":true,\"sha256\":\"" HEX64A "\"",
		  "\"found\":true,\"sha256\":null" },
		{ "\"results\":[", "\"results\":{\"x\":[" },
	};
	gm_ca_record r[3];
	gm_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *at = strstr(good_records, cases[i].from);
		char *text;

		assert_non_null(at);
		text = gm_xasprintf("%.*s%s%s", (int)(at - good_records),
				    good_records, cases[i].to,
				    at + strlen(cases[i].from));
		gm_error_clear(&err);
		if (gm_svc_parse_records(text, strlen(text), 2, r, &err) != -1)
			fail_msg("case %zu parsed", i);
		assert_int_equal(err.reason, GM_REASON_MALFORMED);
		assert_null(r[0].status);
		free(text);
	}
	/* one result for two certificates */
	assert_int_equal(gm_svc_parse_records(good_records,
					      strlen(good_records), 3, r, &err),
			 -1);
	assert_non_null(strstr(err.msg, "2 results for 3 certificates"));
}

/* ---------------------------------------------------------------- errors */

static void error_mapping(void **state)
{
	static const struct { const char *code; long status; gm_exit exit; }
	cases[] = {
		{ "not_due", 403, GM_EXIT_NOT_DUE },
		{ "offline_only", 403, GM_EXIT_OFFLINE },
		{ "subject_mismatch", 422, GM_EXIT_VERIFY },
		{ "pop_invalid", 403, GM_EXIT_FAILED },
		{ "unknown_certificate", 404, GM_EXIT_FAILED },
		{ "unknown_code", 404, GM_EXIT_FAILED },
		{ "code_expired", 410, GM_EXIT_FAILED },
		{ "revoked", 403, GM_EXIT_FAILED },
		{ "superseded", 409, GM_EXIT_FAILED },
		{ "conflict", 409, GM_EXIT_FAILED },
		{ "busy", 503, GM_EXIT_SERVICE },
		{ "internal", 500, GM_EXIT_SERVICE },
		{ "bad_challenge", 401, GM_EXIT_SERVICE },
		{ "something_new", 400, GM_EXIT_FAILED },
		{ "something_new", 502, GM_EXIT_SERVICE },
	};
	gm_svc_proto_error pe;
	gm_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *body = gm_xasprintf(
			"{\"error\":{\"code\":\"%s\",\"message_zh\":"
			"\"\xe6\x97\xa0\xe6\xb3\x95\",\"message_en\":"
			"\"cannot\",\"retryable\":false},"
			"\"next_challenge\":\"x\"}", cases[i].code);

		assert_int_equal(gm_svc_parse_error(body, strlen(body), &pe), 0);
		assert_int_equal(gm_svc_fail_protocol(&err, "step",
						      cases[i].status, &pe), -1);
		assert_int_equal(err.code, cases[i].exit);
		/* typed, and named in JSON by the code as sent */
		assert_string_equal(err.outside, cases[i].code);
		assert_string_equal(gm_error_reason_name(&err), cases[i].code);
		assert_int_equal(err.reason == GM_REASON_SERVICE_CODE,
				 !strcmp(cases[i].code, "something_new"));
		assert_int_equal(err.detail, cases[i].status);
		assert_non_null(strstr(err.msg, "cannot"));
		assert_non_null(strstr(err.msg, "\xe6\x97\xa0\xe6\xb3\x95"));
		assert_true(err.fix[0] != '\0');
		free(body);
	}
}

static void error_body_defensive(void **state)
{
	const char *esc = "{\"error\":{\"code\":\"busy\",\"message_en\":"
		"\"a\\u001b[31mb\\nc\",\"retryable\":true,\"retry_after\":7,"
		"\"update_code\":\"k7qf3mzpw9cdhx2n\"}}";
	gm_svc_proto_error pe;

	(void)state;
	assert_int_equal(gm_svc_parse_error(esc, strlen(esc), &pe), 0);
	assert_string_equal(pe.message_en, "a [31mb c");	/* no ESC, no LF */
	assert_true(pe.retryable);
	assert_int_equal(pe.retry_after_s, 7);
	assert_string_equal(pe.update_code, "K7QF-3MZP-W9CD-HX2N");
	assert_int_equal(gm_svc_parse_error("{}", 2, &pe), -1);
	assert_int_equal(gm_svc_parse_error("{\"error\":{\"code\":3}}", 20,
					    &pe), -1);
	assert_int_equal(gm_svc_parse_error("{\"error\":{\"code\":\"A B\"}}",
					    24, &pe), -1);
	assert_int_equal(gm_svc_parse_error("<html>", 6, &pe), -1);
}

static void long_messages_cut_cleanly(void **state)
{
	gm_svc_proto_error pe;
	gm_error err;
	size_t i, n;

	(void)state;
	memset(&pe, 0, sizeof(pe));
	strcpy(pe.code, "offline_only");
	memset(pe.message_en, 'e', sizeof(pe.message_en) - 1);
	for (i = 0; i + 3 < sizeof(pe.message_zh); i += 3)
		memcpy(pe.message_zh + i, "\xe7\xba\xbf", 3);
	gm_svc_fail_protocol(&err, "step", 403, &pe);
	n = strlen(err.msg);
	assert_true(n < GM_ERR_MSG_MAX);
	/* ends on a whole UTF-8 sequence */
	assert_true(((unsigned char)err.msg[n - 1] & 0xc0) == 0x80 ||
		    (unsigned char)err.msg[n - 1] < 0x80);
	assert_int_equal(err.code, GM_EXIT_OFFLINE);
}

static void times(void **state)
{
	time_t t;

	(void)state;
	assert_int_equal(gm_svc_parse_time("2026-01-27T08:15:00Z", &t), 0);
	assert_int_equal(t, 1769501700);
	assert_int_equal(gm_svc_parse_time("2026-01-27T08:15:00", &t), -1);
	assert_int_equal(gm_svc_parse_time("2026-01-27T08:15:00+08:00", &t),
			 -1);
	assert_int_equal(gm_svc_parse_time("2026-13-27T08:15:00Z", &t), -1);
	assert_int_equal(gm_svc_parse_time("2026-01-27t08:15:00Z", &t), -1);
	assert_int_equal(gm_svc_parse_time("+026-01-27T08:15:00Z", &t), -1);
	assert_int_equal(gm_svc_parse_time(NULL, &t), -1);
}

/* ---------------------------------------------------------------- answer */

static void body_bounded(void **state)
{
	gm_svc_response r;
	char *chunk = gm_xcalloc(1, 100 * 1024);

	(void)state;
	memset(&r, 0, sizeof(r));
	gm_svc_response_reset(&r);
	assert_int_equal(gm_svc_write_cb(chunk, 1, 100 * 1024, &r), 100 * 1024);
	assert_int_equal(gm_svc_write_cb(chunk, 100, 1024, &r), 100 * 1024);
	assert_int_equal(gm_svc_write_cb(chunk, 1, 56 * 1024, &r), 56 * 1024);
	assert_int_equal(r.len, GM_SVC_MAX_BODY);
	assert_false(r.too_large);
	assert_int_equal(gm_svc_write_cb(chunk, 1, 1, &r), 0);
	assert_true(r.too_large);
	gm_svc_response_release(&r);
	free(chunk);
}

static size_t header(gm_svc_response *r, const char *line)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s", line);
	return gm_svc_header_cb(buf, 1, strlen(buf), r);
}

static void headers(void **state)
{
	gm_svc_response r;
	const char *cl_big = "Content-Length: 262145\r\n";

	(void)state;
	memset(&r, 0, sizeof(r));
	gm_svc_response_reset(&r);
	assert_int_equal(header(&r, "HTTP/1.1 200 OK\r\n"), 17);
	header(&r, "date: Tue, 24 Nov 2026 06:43:41 GMT\r\n");
	assert_int_equal(r.date, 1795502621);
	header(&r, "Gmrenew-Next-Challenge: 9qmCYiN3ZClGoglNKJrCIJ0mFspqqirf"
		   "JAAL-lImOeg\r\n");
	assert_string_equal(r.challenge,
			    "9qmCYiN3ZClGoglNKJrCIJ0mFspqqirfJAAL-lImOeg");
	header(&r, "Retry-After: 3\r\n");
	assert_int_equal(r.retry_after_s, 3);
	header(&r, "Content-Length: 262144\r\n");
	assert_false(r.too_large);
	assert_int_equal(header(&r, cl_big), 0);	/* aborts */
	assert_true(r.too_large);
	/* a new response forgets the old challenge; junk is not kept */
	header(&r, "HTTP/1.1 503 Busy\r\n");
	assert_string_equal(r.challenge, "");
	header(&r, "Gmrenew-Next-Challenge: a\rb\r\n");
	header(&r, "Gmrenew-Next-Challenge: a:b\r\n");
	assert_string_equal(r.challenge, "");
	gm_svc_response_release(&r);
}

/* ---------------------------------------------------------------- options */

static char bundle[64] = "";

static void make_bundle(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	FILE *f;
	int fd;

	strcpy(bundle, "/tmp/test_service_bundle_XXXXXX");
	fd = mkstemp(bundle);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"t", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	PEM_write_X509(f, x);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(k);
}

static int open_with(const char *url, const char *ca, gm_error *err)
{
	gm_service_options o;
	gm_service *s = NULL;
	int rc;

	gm_service_options_defaults(&o);
	o.url = url;
	o.ca_bundle = ca;
	gm_error_clear(err);
	rc = gm_service_open(&o, &s, err);
	if (rc == 0) {
		long req = -1, conn = -1;

		gm_service_counters(s, &req, &conn);
		assert_int_equal(req, 0);
		assert_int_equal(conn, 0);
		assert_int_equal(gm_service_server_date(s), 0);
	} else {
		assert_null(s);
	}
	gm_service_close(s);
	return rc;
}

static void options(void **state)
{
	static const char *bad_urls[] = {
		"http://127.0.0.1:8443", "ftp://x", "127.0.0.1:8443", "",
		"https://x/v1", "https://x/?a=b", "https://x/#f",
		"https://user:pw@x", "https://x y", "https://\x01x",
		"file:///etc/passwd",
	};
	gm_service_options o;
	gm_error err;
	size_t i;

	(void)state;
	make_bundle();
	assert_int_equal(open_with("https://127.0.0.1:8443", bundle, &err), 0);
	assert_int_equal(open_with("HTTPS://renew.example.cn/", bundle, &err), 0);
	for (i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++) {
		if (open_with(bad_urls[i], bundle, &err) != -1)
			fail_msg("'%s' was accepted", bad_urls[i]);
		assert_int_equal(err.code, GM_EXIT_USAGE);
		assert_non_null(strstr(err.fix, "[service] url"));
	}
	assert_int_equal(open_with(NULL, bundle, &err), -1);
	assert_int_equal(open_with("https://x", NULL, &err), -1);
	assert_int_equal(err.code, GM_EXIT_USAGE);
	assert_int_equal(open_with("https://x", "/nonexistent/ca.pem", &err), -1);
	assert_non_null(strstr(err.msg, "cannot read the CA bundle"));
	assert_int_equal(open_with("https://x", "/tmp", &err), -1);
	assert_int_equal(open_with("https://x", "/dev/null", &err), -1);
	assert_int_equal(err.code, GM_EXIT_USAGE);

	gm_service_options_defaults(&o);
	assert_int_equal(o.max_retries, 3);
	assert_true(o.connect_timeout_ms > 0 && o.total_timeout_ms > 0);
	o.url = "https://x";
	o.ca_bundle = bundle;
	o.total_timeout_ms = 0;
	{
		gm_service *s = NULL;

		assert_int_equal(gm_service_open(&o, &s, &err), -1);
		assert_int_equal(err.code, GM_EXIT_USAGE);
		o.total_timeout_ms = 1000;
		o.max_retries = -1;
		assert_int_equal(gm_service_open(&o, &s, &err), -1);
	}
	assert_non_null(strstr(gm_service_curl_version(), "libcurl"));
	unlink(bundle);
}

/* [service] TLS and retry keys reach the options; bad versions refused. */
static void tls_settings_from_config(void **state)
{
	gm_service_options o;
	gm_config cfg;
	gm_error err;

	(void)state;
	gm_config_init(&cfg);
	assert_int_equal(gm_config_load_string(&cfg,
		"[service]\ntls_min_version = 1.3\n"
		"tls12_ciphers = ECDHE-ECDSA-AES128-SHA\n"
		"tls13_ciphers = TLS_AES_128_GCM_SHA256\n"
		"max_retry_wait_ms = 1500\n", &err), 0);
	gm_service_options_defaults(&o);
	assert_int_equal(o.tls_min_version, 12);
	assert_null(o.tls12_ciphers);
	gm_service_options_from_config(&o, &cfg);
	assert_int_equal(o.tls_min_version, 13);
	assert_string_equal(o.tls12_ciphers, "ECDHE-ECDSA-AES128-SHA");
	assert_string_equal(o.tls13_ciphers, "TLS_AES_128_GCM_SHA256");
	assert_int_equal(o.max_retry_wait_ms, 1500);
	gm_config_release(&cfg);

	gm_config_init(&cfg);
	assert_int_equal(gm_config_load_string(&cfg,
		"[service]\ntls_min_version = 1.1\n", &err), -1);
	assert_int_equal(err.code, GM_EXIT_USAGE);
	assert_non_null(strstr(err.msg, "tls_min_version must be 1.2 or 1.3"));
	gm_config_release(&cfg);

	gm_service_options_defaults(&o);
	o.url = "https://x";
	o.ca_bundle = bundle;
	o.tls_min_version = 11;
	{
		gm_service *s = NULL;

		make_bundle();
		assert_int_equal(gm_service_open(&o, &s, &err), -1);
		assert_null(s);
		assert_non_null(strstr(err.fix, "tls_min_version"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(code_normalised),
		cmocka_unit_test(code_refused),
		cmocka_unit_test(pop_message_example),
		cmocka_unit_test(pop_message_empty_body),
		cmocka_unit_test(base64_strict),
		cmocka_unit_test(order_good),
		cmocka_unit_test(order_v11),
		cmocka_unit_test(order_bad),
		cmocka_unit_test(records_good),
		cmocka_unit_test(records_bad),
		cmocka_unit_test(error_mapping),
		cmocka_unit_test(error_body_defensive),
		cmocka_unit_test(long_messages_cut_cleanly),
		cmocka_unit_test(times),
		cmocka_unit_test(body_bounded),
		cmocka_unit_test(headers),
		cmocka_unit_test(options),
		cmocka_unit_test(tls_settings_from_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
