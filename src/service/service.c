/*
 * service.c - the gm_service handle (options, the one curl handle) and the
 * protocol operations of include/gmrenew/service.h.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <openssl/x509.h>

#include "gmrenew/version.h"
#include "service_internal.h"

#define CONFIG_FIX_URL "set [service] url to the renewal service's " \
	"https:// address, e.g. https://renew.example.cn:8443"
#define CONFIG_FIX_BUNDLE "set [service] ca_bundle to a PEM file holding " \
	"the CA certificate that issued the service's TLS certificate"

/* The TLS policy: TLS 1.3, or TLS 1.2 with ECDHE and an AEAD cipher only
 * (no static RSA, no CBC). */
#define TLS12_DEFAULT "ECDHE-ECDSA-AES256-GCM-SHA384:" \
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:" \
	"ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:" \
	"ECDHE-RSA-AES128-GCM-SHA256"
#define TLS13_DEFAULT "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:" \
	"TLS_AES_128_GCM_SHA256"
/* whatever a configuration says: never unauthenticated or unencrypted */
#define TLS12_NEVER ":!aNULL:!eNULL"

/* The timeouts and the TLS version are the configuration's defaults
 * (gm_config_keys). */
void gm_service_options_defaults(gm_service_options *o)
{
	gm_config cfg;

	memset(o, 0, sizeof(*o));
	gm_config_init(&cfg);
	gm_service_options_from_config(o, &cfg);
	gm_config_release(&cfg);
	o->max_retries = 3;
}

void gm_service_options_from_config(gm_service_options *o,
				    const gm_config *cfg)
{
	o->url = cfg->service_url;
	o->ca_bundle = cfg->ca_bundle;
	o->connect_timeout_ms = cfg->connect_timeout_ms;
	o->total_timeout_ms = cfg->total_timeout_ms;
	o->max_retry_wait_ms = cfg->max_retry_wait_ms;
	o->tls_min_version = cfg->tls_min_version;
	o->tls12_ciphers = cfg->tls12_ciphers;
	o->tls13_ciphers = cfg->tls13_ciphers;
	o->tlcp = cfg->service_tlcp;
}

const char *gm_service_curl_version(void)
{
	return curl_version();
}

/* "https://host[:port]" from the configured URL; only https, no user,
 * path, query or fragment. Caller frees *base. */
static int check_url(const char *url, char **base, gm_error *err)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	char *part = NULL;
	const char *p;
	int rc = -1;

	*base = NULL;
	if (!url || !*url)
		return gm_fail(err, GM_EXIT_USAGE, CONFIG_FIX_URL,
			       "no renewal service URL is configured");
	for (p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return gm_fail(err, GM_EXIT_USAGE, CONFIG_FIX_URL,
				       "the service URL '%.200s' contains "
				       "spaces or control characters", url);
	/* libcurl reports an empty query or fragment ("?", "#") as none */
	if (strpbrk(url, "?#"))
		return gm_fail(err, GM_EXIT_USAGE, CONFIG_FIX_URL,
			       "the service URL '%.200s' must not carry a "
			       "query or a fragment", url);
	if (strncasecmp(url, "https://", 8))
		return gm_fail(err, GM_EXIT_USAGE, CONFIG_FIX_URL,
			       "the service URL '%.200s' is not https://: "
			       "gmrenew talks to the renewal service only "
			       "over verified TLS", url);
	u = curl_url();
	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		gm_fail(err, GM_EXIT_USAGE, CONFIG_FIX_URL,
			"the service URL '%.200s' cannot be parsed", url);
		goto out;
	}
	if (strcmp(scheme, "https")) {
		gm_fail(err, GM_EXIT_USAGE, CONFIG_FIX_URL,
			"the service URL '%.200s' is not https://", url);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_QUERY, &part, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK) {
		gm_fail(err, GM_EXIT_USAGE, CONFIG_FIX_URL,
			"the service URL '%.200s' must not carry a user, a "
			"query or a fragment", url);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK &&
	    strcmp(path, "/") && strcmp(path, "")) {
		gm_fail(err, GM_EXIT_USAGE, CONFIG_FIX_URL,
			"the service URL '%.200s' must not carry a path "
			"(give https://host[:port]; gmrenew adds /v1/...)", url);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK)
		*base = gm_xasprintf("https://%s:%s", host, port);
	else
		*base = gm_xasprintf("https://%s", host);
	rc = 0;
out:
	curl_free(part);
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return rc;
}

/* The bundle must be a readable PEM file with at least one certificate. */
static int check_bundle(const char *path, gm_error *err)
{
	STACK_OF(X509) *certs = NULL;
	unsigned char *data = NULL;
	size_t len = 0;
	struct stat st;
	int n;

	if (!path || !*path)
		return gm_fail(err, GM_EXIT_USAGE, CONFIG_FIX_BUNDLE,
			       "no CA bundle for the renewal service is "
			       "configured");
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) ||
	    gm_read_file(path, 16 << 20, &data, &len, NULL) < 0)
		return gm_fail(err, GM_EXIT_USAGE, CONFIG_FIX_BUNDLE,
			       "cannot read the CA bundle '%s'", path);
	n = strstr((char *)data, "-----BEGIN CERTIFICATE-----") != NULL;
	free(data);
	if (!n || gm_certs_load_file(path, &certs, NULL) < 0 || !certs ||
	    sk_X509_num(certs) < 1) {
		sk_X509_pop_free(certs, X509_free);
		return gm_fail(err, GM_EXIT_USAGE, CONFIG_FIX_BUNDLE,
			       "the CA bundle '%s' holds no PEM certificate",
			       path);
	}
	sk_X509_pop_free(certs, X509_free);
	return 0;
}

static int check_numbers(const gm_service_options *o, gm_error *err)
{
	if (o->connect_timeout_ms <= 0 || o->total_timeout_ms <= 0)
		return gm_fail(err, GM_EXIT_USAGE,
			       "set [service] connect_timeout_ms and "
			       "total_timeout_ms to positive values",
			       "the service timeouts must be positive "
			       "(connect %ld ms, total %ld ms)",
			       o->connect_timeout_ms, o->total_timeout_ms);
	if (o->tls_min_version != 12 && o->tls_min_version != 13)
		return gm_fail(err, GM_EXIT_USAGE,
			       "set [service] tls_min_version to 1.2 or 1.3",
			       "unknown lowest TLS version %d",
			       o->tls_min_version);
	if (o->max_retries < 0 || o->max_retries > 20 ||
	    o->max_retry_wait_ms < 0)
		return gm_fail(err, GM_EXIT_USAGE, NULL,
			       "retries must be 0 to 20 and the retry wait not "
			       "negative (%d, %ld ms)", o->max_retries,
			       o->max_retry_wait_ms);
	return 0;
}

static int setup_curl(gm_service *s, gm_error *err)
{
	CURL *c = s->curl;
	CURLcode cc = CURLE_OK;

	snprintf(s->user_agent, sizeof(s->user_agent), "gmrenew/%s",
		 GMRENEW_VERSION);
#define SET(opt, val) do { if (cc == CURLE_OK) \
		cc = curl_easy_setopt(c, opt, val); } while (0)
	SET(CURLOPT_ERRORBUFFER, s->errbuf);
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	/* TLS: always verified, only against the configured bundle */
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_CAINFO, s->ca_bundle);
	SET(CURLOPT_CAPATH, NULL);
	SET(CURLOPT_SSLVERSION, s->tls_min_version == 13 ?
	    (long)CURL_SSLVERSION_TLSv1_3 : (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_SSL_CIPHER_LIST, s->tls12_ciphers);
	SET(CURLOPT_TLS13_CIPHERS, s->tls13_ciphers);
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_CONNECTTIMEOUT_MS, s->connect_timeout_ms);
	SET(CURLOPT_TIMEOUT_MS, s->total_timeout_ms);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_USERAGENT, s->user_agent);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)GM_SVC_MAX_BODY);
	SET(CURLOPT_WRITEFUNCTION, gm_svc_write_cb);
	SET(CURLOPT_WRITEDATA, &s->resp);
	SET(CURLOPT_HEADERFUNCTION, gm_svc_header_cb);
	SET(CURLOPT_HEADERDATA, &s->resp);
	/* no CURLOPT_PROXY / CURLOPT_NOPROXY: libcurl takes https_proxy and
	 * no_proxy from the environment */
#undef SET
	if (cc != CURLE_OK)
		return gm_fail(err, GM_EXIT_ENV,
			       "install a libcurl of version 7.85 or newer "
			       "built with TLS",
			       "this libcurl refuses a needed option: %s",
			       curl_easy_strerror(cc));
	return 0;
}

int gm_service_open(const gm_service_options *o, gm_service **out,
		    gm_error *err)
{
	gm_service *s;
	char *base = NULL;

	*out = NULL;
	if (!o)
		return gm_fail(err, GM_EXIT_USAGE, NULL, "no service options");
	if (check_url(o->url, &base, err) < 0)
		return -1;
	if (check_bundle(o->ca_bundle, err) < 0 || check_numbers(o, err) < 0) {
		free(base);
		return -1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(base);
		return gm_fail(err, GM_EXIT_ENV, NULL,
			       "cannot initialise libcurl");
	}
	s = gm_xcalloc(1, sizeof(*s));
	s->base = base;
	s->ca_bundle = gm_xstrdup(o->ca_bundle);
	s->connect_timeout_ms = o->connect_timeout_ms;
	s->total_timeout_ms = o->total_timeout_ms;
	s->max_retries = o->max_retries;
	s->max_retry_wait_ms = o->max_retry_wait_ms;
	s->tls_min_version = o->tls_min_version;
	s->tls12_ciphers = gm_xasprintf("%s" TLS12_NEVER, o->tls12_ciphers ?
					o->tls12_ciphers : TLS12_DEFAULT);
	s->tls13_ciphers = gm_xstrdup(o->tls13_ciphers ? o->tls13_ciphers :
				      TLS13_DEFAULT);
	s->tlcp = o->tlcp;
	s->curl = curl_easy_init();
	if (!s->curl) {
		gm_service_close(s);
		return gm_fail(err, GM_EXIT_ENV, NULL,
			       "cannot create a libcurl handle");
	}
	if (setup_curl(s, err) < 0 || gm_svc_tls_setup(s, err) < 0) {
		gm_service_close(s);
		return -1;
	}
	gm_debug("renewal service %s over %s, CA bundle '%s'", s->base,
		 s->tlcp ? "TLCP" : "TLS", s->ca_bundle);
	*out = s;	/* caller closes with gm_service_close() */
	return 0;
}

void gm_service_close(gm_service *s)
{
	if (!s)
		return;
	if (s->curl) {
		curl_easy_cleanup(s->curl);
		curl_global_cleanup();
	}
	gm_svc_response_release(&s->resp);
	free(s->base);
	free(s->ca_bundle);
	free(s->tls12_ciphers);
	free(s->tls13_ciphers);
	free(s);
}

time_t gm_service_server_date(const gm_service *s)
{
	return s ? s->server_date : 0;
}

long gm_service_last_ms(const gm_service *s)
{
	return s ? s->last_ms : 0;
}

void gm_service_counters(const gm_service *s, long *requests,
			 long *connections)
{
	if (requests)
		*requests = s ? s->requests : 0;
	if (connections)
		*connections = s ? s->connections : 0;
}

/* ---------------------------------------------------------------- calls */

static char *print_json(cJSON *obj)
{
	char *text = cJSON_PrintUnformatted(obj);
	char *copy;

	if (!text)
		abort();	/* out of memory */
	copy = gm_xstrdup(text);
	cJSON_free(text);
	cJSON_Delete(obj);
	return copy;	/* caller frees */
}

static cJSON *new_object(void)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		abort();
	return o;
}

static void add_string(cJSON *o, const char *name, const char *value)
{
	if (!cJSON_AddStringToObject(o, name, value))
		abort();
}

static void add_b64(cJSON *o, const char *name, const unsigned char *p,
		    size_t n)
{
	char *b = gm_svc_b64_encode(p, n);

	add_string(o, name, b);
	free(b);
}

/* An order answer into out; checks that it is the expected order. */
static int take_order(gm_service *s, const char *what, const char *code,
		      const char *old_sha256, gm_order *out, gm_error *err)
{
	if (gm_svc_parse_order(s->resp.body, s->resp.len, out, err) < 0)
		return gm_error_prefix(err, "%s", what);
	if (code && strcmp(out->code, code)) {
		gm_order_release(out);
		return gm_svc_malformed(err, what, "the answer is about update "
					"code '%s', not '%s'", out->code, code);
	}
	if (old_sha256 && strcmp(out->old_sha256, old_sha256)) {
		gm_order_release(out);
		return gm_svc_malformed(err, what, "the answer is about another "
					"certificate (%s)", out->old_sha256);
	}
	gm_debug("%s: order %s is %s, next step %s", what, out->code,
		 gm_order_state_name(out->state), out->next_step);
	return 0;
}

static int lookup_batch(gm_service *s, const unsigned char *const *certs,
			const size_t *lens, size_t n, gm_ca_record *out,
			gm_error *err)
{
	const char *what = gm_text(N_("look up the certificates"));
	cJSON *req = new_object();
	cJSON *arr = cJSON_AddArrayToObject(req, "certificates");
	char *body;
	size_t i;
	int rc;

	if (!arr)
		abort();
	for (i = 0; i < n; i++) {
		cJSON *item = new_object();

		add_b64(item, "certificate", certs[i], lens[i]);
		cJSON_AddItemToArray(arr, item);
	}
	body = print_json(req);
	rc = gm_svc_exchange(s, what, "POST", "/v1/lookup", body, NULL, err);
	free(body);
	if (rc < 0)
		return -1;
	if (gm_svc_parse_records(s->resp.body, s->resp.len, n, out, err) < 0)
		return gm_error_prefix(err, "%s", what);
	return 0;
}

int gm_service_lookup(gm_service *s, const unsigned char *const *certs,
		      const size_t *cert_lens, size_t n, gm_ca_record **out,
		      gm_error *err)
{
	gm_ca_record *recs;
	size_t done;

	*out = NULL;
	if (!s || n == 0 || !certs || !cert_lens)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "no certificates to look up");
	recs = gm_xcalloc(n, sizeof(*recs));
	for (done = 0; done < n; done += GM_SVC_LOOKUP_BATCH) {
		size_t k = n - done < GM_SVC_LOOKUP_BATCH ?
			   n - done : GM_SVC_LOOKUP_BATCH;

		if (lookup_batch(s, certs + done, cert_lens + done, k,
				 recs + done, err) < 0) {
			gm_ca_records_free(recs, done);
			return -1;
		}
	}
	*out = recs;	/* caller frees with gm_ca_records_free(r, n) */
	return 0;
}

int gm_service_start(gm_service *s, const unsigned char *cert, size_t cert_len,
		     const gm_pop_key *old_key, gm_order *out, gm_error *err)
{
	const char *what = gm_text(N_("start the renewal"));
	cJSON *req;
	char *body, sha[65];
	int rc;

	memset(out, 0, sizeof(*out));
	if (!s || !cert || !cert_len)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "%s: no certificate given", what);
	req = new_object();
	add_b64(req, "certificate", cert, cert_len);
	body = print_json(req);
	rc = gm_svc_exchange(s, what, "POST", "/v1/renewals", body, old_key,
			     err);
	free(body);
	if (rc < 0)
		return -1;
	gm_svc_sha256_hex(cert, cert_len, sha);
	return take_order(s, what, NULL, sha, out, err);
}

/* The canonical code and "/v1/renewals/CODE[suffix]". */
static int order_path(const char *code, const char *suffix, char canon[24],
		      char path[64], gm_error *err)
{
	if (gm_update_code_normalize(code, canon, err) < 0)
		return -1;
	snprintf(path, 64, "/v1/renewals/%s%s", canon, suffix);
	return 0;
}

static int order_call(gm_service *s, const char *what, const char *code,
		      const char *suffix, cJSON *req, const gm_pop_key *key,
		      gm_order *out, gm_error *err)
{
	char canon[24], path[64];
	char *body = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (order_path(code, suffix, canon, path, err) < 0) {
		cJSON_Delete(req);
		return -1;
	}
	if (req)
		body = print_json(req);
	rc = gm_svc_exchange(s, what, req ? "POST" : "GET", path, body, key,
			     err);
	free(body);
	if (rc < 0)
		return -1;
	return take_order(s, what, canon, NULL, out, err);
}

int gm_service_submit_csr(gm_service *s, const char *code,
			  const unsigned char *csr, size_t csr_len,
			  const gm_pop_key *key, gm_order *out, gm_error *err)
{
	cJSON *req;

	if (!s || !csr || !csr_len) {
		memset(out, 0, sizeof(*out));
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "submit the certificate request: none given");
	}
	req = new_object();
	add_b64(req, "csr", csr, csr_len);
	return order_call(s, gm_text(N_("submit the certificate request")), code, "/csr",
			  req, key, out, err);
}

int gm_service_status(gm_service *s, const char *code, gm_order *out,
		      gm_error *err)
{
	if (!s) {
		memset(out, 0, sizeof(*out));
		return gm_fail(err, GM_EXIT_FAILED, NULL, "no service");
	}
	return order_call(s, gm_text(N_("get the renewal's state")), code, "", NULL, NULL,
			  out, err);
}

int gm_service_confirm(gm_service *s, const char *code,
		       const char *cert_sha256, const gm_pop_key *key,
		       gm_order *out, gm_error *err)
{
	cJSON *req;

	if (!s || !cert_sha256 || strlen(cert_sha256) != 64) {
		memset(out, 0, sizeof(*out));
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "confirm the renewal: no certificate "
			       "fingerprint given");
	}
	req = new_object();
	add_string(req, "certificate_sha256", cert_sha256);
	return order_call(s, gm_text(N_("confirm the renewal")), code, "/confirm", req,
			  key, out, err);
}

int gm_service_cancel(gm_service *s, const char *code, const gm_pop_key *key,
		      gm_order *out, gm_error *err)
{
	if (!s) {
		memset(out, 0, sizeof(*out));
		return gm_fail(err, GM_EXIT_FAILED, NULL, "no service");
	}
	return order_call(s, gm_text(N_("cancel the renewal")), code, "/cancel",
			  new_object(), key, out, err);
}
