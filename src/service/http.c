/*
 * http.c - one exchange with the renewal service: the request on the
 * gm_service's single curl handle (so the TLS connection is reused), the
 * bounded answer, the challenge bookkeeping and proof of possession, and
 * the retries that docs/protocol.md section 6.3 makes safe.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "service_internal.h"

double gm_svc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int gm_svc_challenge_ok(const char *t)
{
	size_t n;

	if (!t)
		return 0;
	n = strlen(t);
	if (n == 0 || n > GM_SVC_CHALLENGE_MAX)
		return 0;
	/* base64url (and '=' in case of padding): nothing that could break
	 * a header line */
	return strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		      "0123456789-_=") == n;
}

/* ---------------------------------------------------------------- answer */

void gm_svc_response_reset(gm_svc_response *r)
{
	r->status = 0;
	r->len = 0;
	if (r->body)
		r->body[0] = '\0';
	r->too_large = 0;
	r->content_length = -1;
	r->retry_after_s = -1;
	r->date = 0;
	r->challenge[0] = '\0';
	r->location[0] = '\0';
}

void gm_svc_response_release(gm_svc_response *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

size_t gm_svc_write_cb(char *data, size_t size, size_t n, void *userp)
{
	gm_svc_response *r = userp;
	size_t got = size * n;

	if (got > GM_SVC_MAX_BODY || r->len + got > GM_SVC_MAX_BODY) {
		r->too_large = 1;
		return 0;	/* libcurl aborts with CURLE_WRITE_ERROR */
	}
	if (r->len + got + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;

		while (cap < r->len + got + 1)
			cap *= 2;
		if (cap > GM_SVC_MAX_BODY + 1)
			cap = GM_SVC_MAX_BODY + 1;
		r->body = gm_xrealloc(r->body, cap);
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, got);
	r->len += got;
	r->body[r->len] = '\0';
	return got;
}

/* The value of header line "Name: value\r\n" when its name is name. */
static int header_value(const char *line, size_t len, const char *name,
			char *out, size_t outsz)
{
	size_t nl = strlen(name), i, j;

	if (len <= nl || strncasecmp(line, name, nl) || line[nl] != ':')
		return 0;
	for (i = nl + 1; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	for (j = len; j > i && (line[j - 1] == '\r' || line[j - 1] == '\n' ||
				 line[j - 1] == ' ' || line[j - 1] == '\t'); j--)
		;
	if (j - i >= outsz)
		j = i + outsz - 1;
	memcpy(out, line + i, j - i);
	out[j - i] = '\0';
	return 1;
}

static long parse_retry_after(const char *v)
{
	char *end;
	long n;
	time_t when;

	errno = 0;
	n = strtol(v, &end, 10);
	if (end != v && !*end && n >= 0)	/* ERANGE: more than a day too */
		return errno || n > 86400 ? 86400 : n;
	when = curl_getdate(v, NULL);	/* HTTP-date form */
	if (when > 0) {
		time_t now = time(NULL);

		return when > now ? (long)(when - now) : 0;
	}
	return -1;
}

size_t gm_svc_header_cb(char *data, size_t size, size_t n, void *userp)
{
	gm_svc_response *r = userp;
	size_t len = size * n;
	char v[GM_SVC_CHALLENGE_MAX + 130];

	if (len >= 5 && !strncmp(data, "HTTP/", 5)) {
		/* a new response (after a 1xx): forget the previous headers */
		r->content_length = -1;
		r->retry_after_s = -1;
		r->challenge[0] = '\0';
		r->location[0] = '\0';
		return len;
	}
	if (header_value(data, len, "Content-Length", v, sizeof(v))) {
		char *end;
		long long cl;

		errno = 0;
		cl = strtoll(v, &end, 10);
		if (!errno && end != v && !*end && cl >= 0) {
			r->content_length = cl;
			if (cl > GM_SVC_MAX_BODY) {
				r->too_large = 1;
				return 0;	/* abort the transfer */
			}
		}
	} else if (header_value(data, len, "Date", v, sizeof(v))) {
		time_t t = curl_getdate(v, NULL);

		r->date = t > 0 ? t : 0;
	} else if (header_value(data, len, "Retry-After", v, sizeof(v))) {
		r->retry_after_s = parse_retry_after(v);
	} else if (header_value(data, len, "Gmrenew-Next-Challenge", v,
				sizeof(v))) {
		if (gm_svc_challenge_ok(v))	/* at most 128 characters */
			memcpy(r->challenge, v, strlen(v) + 1);
	} else if (header_value(data, len, "Location", r->location,
				sizeof(r->location))) {
		/* kept for the message about the redirect */
	}
	return len;
}

/* ---------------------------------------------------------------- errors */

enum verdict { DONE, RETRY, RETRY_CHALLENGE, FAIL };

static int transport_retryable(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_PARTIAL_FILE:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

static enum verdict fail_transport(gm_service *s, const char *what,
				   CURLcode cc, int attempts, gm_error *err)
{
	const char *why = s->errbuf[0] ? s->errbuf : curl_easy_strerror(cc);

	if (s->resp.too_large || cc == CURLE_FILESIZE_EXCEEDED) {
		gm_fail(err, GM_EXIT_SERVICE, gm_svc_fix_later,
			"%s: the service's answer is larger than %d bytes "
			"(256 KiB) and was refused", what, GM_SVC_MAX_BODY);
		gm_error_set_reason(err, GM_REASON_TOO_LARGE);
		return FAIL;
	}
	if (cc == CURLE_PEER_FAILED_VERIFICATION && strstr(why, "host name")) {
		gm_fail(err, GM_EXIT_SERVICE,
			"check [service] url: use the host name the service's "
			"TLS certificate is issued for (verification cannot be "
			"turned off)",
			"%s: the TLS certificate of '%s' is not valid for that "
			"host name: %s", what, s->base, why);
		gm_error_set_reason(err, GM_REASON_TLS_UNTRUSTED);
		return FAIL;
	}
	if (cc == CURLE_PEER_FAILED_VERIFICATION) {
		gm_fail(err, GM_EXIT_SERVICE,
			"check [service] ca_bundle in the configuration: it "
			"must hold the CA that issued the renewal service's "
			"TLS certificate (verification cannot be turned off)",
			"%s: the TLS certificate of '%s' is not trusted by the "
			"configured CA bundle '%s': %s", what, s->base,
			s->ca_bundle, why);
		gm_error_set_reason(err, GM_REASON_TLS_UNTRUSTED);
		return FAIL;
	}
	if (cc == CURLE_SSL_CIPHER) {
		gm_fail(err, GM_EXIT_USAGE,
			"check [service] tls12_ciphers and tls13_ciphers: "
			"OpenSSL cipher names (man gmrenew, CONFIGURATION)",
			"%s: the configured TLS ciphers cannot be used: %s",
			what, why);
		gm_error_set_reason(err, GM_REASON_TLS_POLICY);
		return FAIL;
	}
	if (cc == CURLE_SSL_CACERT_BADFILE) {
		gm_fail(err, GM_EXIT_USAGE,
			"check [service] ca_bundle: a PEM file of CA "
			"certificates",
			"%s: cannot use the CA bundle '%s': %s", what,
			s->ca_bundle, why);
		gm_error_set_reason(err, GM_REASON_CA_BUNDLE);
		return FAIL;
	}
	if (cc == CURLE_OPERATION_TIMEDOUT) {
		gm_fail(err, GM_EXIT_SERVICE, gm_svc_fix_handshake(s, cc),
			"%s: the renewal service at '%s' did not answer in "
			"time (%d attempts): %s", what, s->base, attempts, why);
		gm_error_set_reason(err, GM_REASON_TIMEOUT);
		return RETRY;
	}
	gm_fail(err, GM_EXIT_SERVICE, gm_svc_fix_handshake(s, cc),
		"%s: cannot reach the renewal service at '%s' (%d %s): %s",
		what, s->base, attempts, attempts == 1 ? "attempt" : "attempts",
		why);
	gm_error_set_reason(err, cc == CURLE_SSL_CONNECT_ERROR ?
			    GM_REASON_TLS : GM_REASON_NETWORK);
	return transport_retryable(cc) ? RETRY : FAIL;
}

static enum verdict judge_http(gm_service *s, const char *what,
			       int signed_req, int attempts, long *wait_s,
			       gm_error *err)
{
	gm_svc_response *r = &s->resp;
	gm_svc_proto_error pe;
	int have;

	if (r->status >= 200 && r->status < 300)
		return DONE;
	if (r->status >= 300 && r->status < 400) {
		gm_fail(err, GM_EXIT_SERVICE,
			"check [service] url: redirects are not followed",
			"%s: the service answered with a redirect (HTTP %ld) "
			"to '%.200s'", what, r->status, r->location);
		gm_error_set_reason(err, GM_REASON_REDIRECT);
		if (err)
			err->detail = r->status;
		return FAIL;
	}
	have = gm_svc_parse_error(r->body, r->len, &pe) == 0;
	if (have && pe.retry_after_s >= 0 && r->retry_after_s < 0)
		r->retry_after_s = pe.retry_after_s;
	*wait_s = r->retry_after_s;
	if (have) {
		gm_svc_fail_protocol(err, what, r->status, &pe);
		if (!strcmp(pe.code, "bad_challenge") && signed_req)
			return RETRY_CHALLENGE;
		if (r->status >= 500 || (pe.retryable &&
		    (!strcmp(pe.code, "busy") || !strcmp(pe.code, "internal"))))
			return RETRY;
		return FAIL;
	}
	if (r->status >= 500) {
		gm_fail(err, GM_EXIT_SERVICE, gm_svc_fix_later,
			"%s: the renewal service failed with HTTP %ld "
			"(%d %s)", what, r->status, attempts,
			attempts == 1 ? "attempt" : "attempts");
		gm_error_set_reason(err, GM_REASON_HTTP_ERROR);
		if (err)
			err->detail = r->status;
		return RETRY;
	}
	gm_svc_malformed(err, what, "HTTP %ld without an error object",
			 r->status);
	if (err)
		err->detail = r->status;
	return FAIL;
}

/* ---------------------------------------------------------------- request */

static long backoff_ms(const gm_service *s, int retry, long retry_after_s)
{
	long ms;

	if (retry_after_s >= 0)
		ms = retry_after_s > 86400 ? 86400000L : retry_after_s * 1000;
	else {
		ms = GM_SVC_BACKOFF_MS;
		while (retry-- > 0 && ms < s->max_retry_wait_ms)
			ms *= 2;
	}
	return ms > s->max_retry_wait_ms ? s->max_retry_wait_ms : ms;
}

/* Takes the challenge of the answer just received (header, else body). */
static void keep_challenge(gm_service *s)
{
	gm_svc_response *r = &s->resp;
	char c[GM_SVC_CHALLENGE_MAX + 1];

	if (r->challenge[0]) {
		memcpy(s->challenge, r->challenge, sizeof(s->challenge));
		s->challenge_at = gm_svc_now();
	} else if (r->status && !r->too_large &&
		   gm_svc_parse_challenge(r->body, r->len, c) == 0) {
		memcpy(s->challenge, c, sizeof(s->challenge));
		s->challenge_at = gm_svc_now();
	}
}

/* A usable challenge in s->challenge, from GET /v1/challenge if needed. */
static int ensure_challenge(gm_service *s, const char *what, gm_error *err)
{
	if (s->challenge[0] &&
	    gm_svc_now() - s->challenge_at < GM_SVC_CHALLENGE_TTL_S)
		return 0;
	s->challenge[0] = '\0';
	gm_debug("no fresh challenge: asking for one");
	if (gm_svc_exchange(s, what, "GET", "/v1/challenge", NULL, NULL,
			    err) < 0)
		return -1;
	if (!s->challenge[0])
		return gm_svc_malformed(err, what, "no 'next_challenge'");
	return 0;
}

/* The PoP headers over the challenge in s->challenge (which is used up). */
static int add_pop(gm_service *s, const char *what, const char *method,
		   const char *path, const char *body, const gm_pop_key *key,
		   struct curl_slist **hdrs, gm_error *err)
{
	unsigned char *sig = NULL;
	size_t msg_len = 0, sig_len = 0;
	char *msg = NULL, *b64, *h;
	int rc = -1;

	if (!key || !key->pub || !key->sign)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "%s: no key to prove possession with", what);
	if (ensure_challenge(s, what, err) < 0)
		return -1;
	if (gm_svc_pop_message(s->challenge, method, path,
			       (const unsigned char *)body,
			       body ? strlen(body) : 0, &msg, &msg_len,
			       err) < 0)
		return -1;
	if (gm_sign_message(key->scheme, key->pub, key->sign, key->sign_ctx,
			    (const unsigned char *)msg, msg_len, &sig, &sig_len,
			    err) < 0) {
		gm_error_prefix(err, "%s: cannot sign the proof of possession",
				what);
		goto out;
	}
	h = gm_xasprintf("Gmrenew-Challenge: %s", s->challenge);
	*hdrs = curl_slist_append(*hdrs, h);
	free(h);
	b64 = gm_svc_b64_encode(sig, sig_len);
	h = gm_xasprintf("Gmrenew-Signature: %s", b64);
	*hdrs = curl_slist_append(*hdrs, h);
	free(h);
	free(b64);
	s->challenge[0] = '\0';	/* single use */
	rc = 0;
out:
	OPENSSL_free(sig);
	free(msg);
	return rc;
}

static CURLcode perform(gm_service *s, const char *method, const char *path,
			const char *body, struct curl_slist *hdrs)
{
	char *url = gm_xasprintf("%s%s", s->base, path);
	curl_off_t us = 0;
	long conns = 0;
	CURLcode cc;

	gm_svc_response_reset(&s->resp);
	s->errbuf[0] = '\0';
	curl_easy_setopt(s->curl, CURLOPT_URL, url);
	if (body) {
		curl_easy_setopt(s->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)strlen(body));
	} else {
		curl_easy_setopt(s->curl, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, hdrs);
	cc = curl_easy_perform(s->curl);
	s->requests++;
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &s->resp.status);
	if (curl_easy_getinfo(s->curl, CURLINFO_NUM_CONNECTS, &conns) ==
	    CURLE_OK)
		s->connections += conns;
	if (curl_easy_getinfo(s->curl, CURLINFO_TOTAL_TIME_T, &us) ==
	    CURLE_OK)
		s->last_ms = (long)(us / 1000);
	s->server_date = s->resp.date;
	curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, NULL);
	if (cc == CURLE_OK)
		gm_trace("%s %s -> %ld, %ld ms%s", method, path,
			 s->resp.status, s->last_ms,
			 conns ? ", new connection" : "");
	else
		gm_trace("%s %s -> failed after %ld ms: %s", method, path,
			 s->last_ms, s->errbuf[0] ? s->errbuf
						  : curl_easy_strerror(cc));
	free(url);
	return cc;
}

int gm_svc_exchange(gm_service *s, const char *what, const char *method,
		    const char *path, const char *body, const gm_pop_key *key,
		    gm_error *err)
{
	int retries = 0, challenge_retried = 0;

	for (;;) {
		struct curl_slist *hdrs = NULL;
		enum verdict v;
		long wait_s = -1, ms;
		CURLcode cc;

		hdrs = curl_slist_append(hdrs, "Accept: application/json");
		hdrs = curl_slist_append(hdrs, "Expect:");
		if (body)
			hdrs = curl_slist_append(hdrs, "Content-Type: "
						 "application/json");
		if (key && add_pop(s, what, method, path, body, key, &hdrs,
				   err) < 0) {
			curl_slist_free_all(hdrs);
			return -1;
		}
		cc = perform(s, method, path, body, hdrs);
		curl_slist_free_all(hdrs);
		keep_challenge(s);
		if (cc != CURLE_OK)
			v = fail_transport(s, what, cc, retries + 1, err);
		else
			v = judge_http(s, what, key != NULL, retries + 1,
				       &wait_s, err);
		if (v == DONE)
			return 0;
		if (v == FAIL)
			return -1;
		if (v == RETRY_CHALLENGE) {
			if (challenge_retried)
				return -1;
			challenge_retried = 1;
			gm_debug("%s: challenge refused, retrying once with "
				 "the new one", what);
			continue;
		}
		if (retries >= s->max_retries)
			return -1;
		ms = backoff_ms(s, retries, wait_s);
		retries++;
		gm_debug("%s: %s; retry %d of %d in %ld ms", what,
			 err ? err->msg : "failed", retries, s->max_retries,
			 ms);
		sleep_ms(ms);
	}
}
