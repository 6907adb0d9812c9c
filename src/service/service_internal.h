/*
 * service_internal.h - what the files of src/service/ share; not part of
 * the contract in include/gmrenew/service.h. The unit tests and the fuzz
 * target call the pure functions declared here (PoP message, base64,
 * response parsers, the bounded body buffer).
 */
#ifndef GMRENEW_SERVICE_INTERNAL_H
#define GMRENEW_SERVICE_INTERNAL_H

#include <stddef.h>
#include <time.h>

#include <curl/curl.h>

#include "gmrenew/service.h"

/* docs/protocol.md section 1: a response body never exceeds 256 KiB. */
#define GM_SVC_MAX_BODY (256 * 1024)
/* A challenge is 43 characters; anything longer is refused. */
#define GM_SVC_CHALLENGE_MAX 128
/* Challenges live 300 s on the server; older ones are not even tried. */
#define GM_SVC_CHALLENGE_TTL_S 270
/* Lookup takes at most 16 certificates per request. */
#define GM_SVC_LOOKUP_BATCH 16
/* First backoff step of the retries. */
#define GM_SVC_BACKOFF_MS 500L

/* The response being received: body bounded by GM_SVC_MAX_BODY. */
typedef struct gm_svc_response {
	long status;
	char *body;			/* NUL-terminated; owned */
	size_t len;
	size_t cap;
	int too_large;			/* Content-Length or bytes past bound */
	long long content_length;	/* -1 when not given */
	long retry_after_s;		/* Retry-After seconds, -1 when none */
	time_t date;			/* Date header, 0 when none */
	char challenge[GM_SVC_CHALLENGE_MAX + 1];	/* header value */
	char location[256];		/* Location header of a redirect */
} gm_svc_response;

struct gm_service {
	CURL *curl;
	char *base;			/* https://host[:port], no final '/' */
	char *ca_bundle;
	long connect_timeout_ms;
	long total_timeout_ms;
	int max_retries;
	long max_retry_wait_ms;
	int tls_min_version;		/* 12 or 13 */
	char *tls12_ciphers;		/* with ":!aNULL:!eNULL" appended */
	char *tls13_ciphers;
	char user_agent[64];
	char errbuf[CURL_ERROR_SIZE];
	/* the last next_challenge and when it arrived (monotonic seconds) */
	char challenge[GM_SVC_CHALLENGE_MAX + 1];
	double challenge_at;
	time_t server_date;
	long last_ms;
	long requests;
	long connections;
	gm_svc_response resp;
	int tlcp;			/* [service] tls = tlcp */
	char tls_protocol[16];		/* of the last handshake */
	char tls_suite[64];
};

/* A protocol error object (docs/protocol.md section 7), parsed. */
typedef struct gm_svc_proto_error {
	char code[32];
	char message_en[256];		/* control characters removed */
	char message_zh[256];
	int retryable;
	long retry_after_s;		/* error.retry_after, -1 when none */
	char update_code[24];		/* for superseded; may be empty */
} gm_svc_proto_error;

/* --- http.c: one exchange with retries, PoP, challenge bookkeeping */

/* Sends METHOD path with body (NULL for GET); signs it with key when not
 * NULL. On success (2xx) s->resp holds the answer. what names the step for
 * messages ("look up certificates"). */
int gm_svc_exchange(gm_service *s, const char *what, const char *method,
		    const char *path, const char *body, const gm_pop_key *key,
		    gm_error *err);
/* The curl callbacks (exposed for the unit tests). */
size_t gm_svc_write_cb(char *data, size_t size, size_t n, void *userp);
size_t gm_svc_header_cb(char *data, size_t size, size_t n, void *userp);
void gm_svc_response_reset(gm_svc_response *r);
void gm_svc_response_release(gm_svc_response *r);
/* Whether text can be a challenge (base64url, 1..128 characters). */
int gm_svc_challenge_ok(const char *text);
/* Monotonic clock in seconds. */
double gm_svc_now(void);

/* --- tlcp.c: the TLS context (TLCP when asked), handshake facts */

/* Installs the SSL_CTX callback: NTLS 1.1 with the SM2 suites when s->tlcp,
 * and, for both protocols, the record of the negotiated protocol and
 * suite. Fails when TLCP is asked of a build without NTLS. */
int gm_svc_tls_setup(gm_service *s, gm_error *err);
/* What to do after transport failure cc: with TLCP, a failed or stalled
 * handshake points at [service] tls; otherwise "try later". */
const char *gm_svc_fix_handshake(const gm_service *s, CURLcode cc);

/* --- pop.c */

/* M of docs/protocol.md section 5.2; caller frees *out. */
int gm_svc_pop_message(const char *challenge, const char *method,
		       const char *path, const unsigned char *body,
		       size_t body_len, char **out, size_t *out_len,
		       gm_error *err);
/* Standard base64 with padding, no line breaks; caller frees. */
char *gm_svc_b64_encode(const unsigned char *p, size_t n);
/* Strict standard base64 (padding required); caller frees *out. */
int gm_svc_b64_decode(const char *text, unsigned char **out, size_t *len);
/* Lower-case hex SHA-256 of p into hex[65]. */
void gm_svc_sha256_hex(const unsigned char *p, size_t n, char hex[65]);

/* --- parse.c: defensive parsers of answers (any input is safe) */

int gm_svc_parse_order(const char *body, size_t len, gm_order *out,
		       gm_error *err);
int gm_svc_parse_records(const char *body, size_t len, size_t n,
			 gm_ca_record *out, gm_error *err);
/* The challenge member of any JSON answer into out (size
 * GM_SVC_CHALLENGE_MAX + 1); 0 when found and valid. */
int gm_svc_parse_challenge(const char *body, size_t len, char *out);
/* The error object of an answer; 0 when one was found. */
int gm_svc_parse_error(const char *body, size_t len, gm_svc_proto_error *out);
/* RFC 3339 UTC "YYYY-MM-DDTHH:MM:SSZ"; 0 on success. */
int gm_svc_parse_time(const char *text, time_t *out);
/* Fills err for a malformed answer; returns -1. */
int gm_svc_malformed(gm_error *err, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* --- errors.c: protocol error -> gm_error */

/* Fills err for a protocol error answered by the service; returns -1. */
int gm_svc_fail_protocol(gm_error *err, const char *what, long status,
			 const gm_svc_proto_error *pe);
/* The fix text for "try later" failures. */
extern const char gm_svc_fix_later[];

#endif
