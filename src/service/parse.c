/*
 * parse.c - the service's JSON answers into C structs. Every member is
 * checked for presence and type; anything unexpected becomes "the service
 * sent a malformed answer: ..." (GM_EXIT_SERVICE, reason "malformed").
 * Unknown members are ignored (docs/protocol.md section 1).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "service_internal.h"

int gm_svc_malformed(gm_error *err, const char *what, const char *fmt, ...)
{
	char detail[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	gm_fail(err, GM_EXIT_SERVICE,
		"try again later; if it persists, report it to the CA "
		"(run with -vv for the request log)",
		"%s%sthe service sent a malformed answer: %s",
		what ? what : "", what ? ": " : "", detail);
	return gm_error_set_reason(err, GM_REASON_MALFORMED);
}

#define MALFORMED(...) gm_svc_malformed(err, NULL, __VA_ARGS__)

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* 1 when an object anywhere in j has two members of one name: parsers
 * differ in which one they take, so such an answer means two things.
 * Recursion is bounded by cJSON's nesting limit. */
static int has_duplicate_names(const cJSON *j)
{
	const cJSON *c;
	const char **names;
	size_t n = 0, i;
	int dup = 0;

	for (c = j->child; c; c = c->next)
		if (has_duplicate_names(c))
			return 1;
	if (!cJSON_IsObject(j))
		return 0;
	for (c = j->child; c; c = c->next)
		n++;
	if (n < 2)
		return 0;
	names = gm_xcalloc(n, sizeof(*names));
	for (i = 0, c = j->child; c; c = c->next)
		names[i++] = c->string ? c->string : "";
	qsort(names, n, sizeof(*names), cmp_names);
	for (i = 1; i < n && !dup; i++)
		dup = !strcmp(names[i - 1], names[i]);
	free(names);
	return dup;
}

static cJSON *parse_object(const char *body, size_t len, gm_error *err)
{
	cJSON *root;

	if (!body || !len)
		return MALFORMED("empty body"), NULL;
	root = cJSON_ParseWithLength(body, len);
	if (!root)
		return MALFORMED("not JSON"), NULL;
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return MALFORMED("not a JSON object"), NULL;
	}
	if (has_duplicate_names(root)) {
		cJSON_Delete(root);
		return MALFORMED("an object has two members of the same name"),
		       NULL;
	}
	return root;
}

/*
 * A string member. Missing or null gives *out = NULL, allowed unless
 * required; any other type is an error.
 */
static int get_str(const cJSON *obj, const char *name, int required,
		   const char **out, gm_error *err)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, name);

	*out = NULL;
	if (!m || cJSON_IsNull(m)) {
		if (required)
			return MALFORMED("'%s' is missing", name);
		return 0;
	}
	if (!cJSON_IsString(m) || !m->valuestring)
		return MALFORMED("'%s' is not a string", name);
	*out = m->valuestring;
	return 0;
}

static int get_bool(const cJSON *obj, const char *name, int *out,
		    gm_error *err)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!m)
		return MALFORMED("'%s' is missing", name);
	if (!cJSON_IsBool(m))
		return MALFORMED("'%s' is not true or false", name);
	*out = cJSON_IsTrue(m) ? 1 : 0;
	return 0;
}

/* A string member copied into a fixed buffer, checked against a set: its
 * index in allowed, or -1. */
static int get_word(const cJSON *obj, const char *name, const char *const *allowed,
		    char *out, size_t outsz, gm_error *err)
{
	const char *v;
	size_t i;

	if (get_str(obj, name, 1, &v, err) < 0)
		return -1;
	for (i = 0; allowed[i]; i++)
		if (!strcmp(v, allowed[i])) {
			snprintf(out, outsz, "%s", v);
			return (int)i;
		}
	return MALFORMED("'%s' has the unknown value '%.40s'", name, v);
}

static int is_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

static int get_hex64(const cJSON *obj, const char *name, int required,
		     char out[65], gm_error *err)
{
	const char *v;

	out[0] = '\0';
	if (get_str(obj, name, required, &v, err) < 0)
		return -1;
	if (!v)
		return 0;
	if (!is_hex64(v))
		return MALFORMED("'%s' is not 64 lower-case hex digits", name);
	memcpy(out, v, 65);
	return 0;
}

static int get_b64(const cJSON *obj, const char *name, int required,
		   unsigned char **out, size_t *len, gm_error *err)
{
	const char *v;

	*out = NULL;
	*len = 0;
	if (get_str(obj, name, required, &v, err) < 0)
		return -1;
	if (!v)
		return 0;
	if (gm_svc_b64_decode(v, out, len) < 0)
		return MALFORMED("'%s' is not base64", name);
	return 0;
}

static int get_time(const cJSON *obj, const char *name, int required,
		    time_t *out, gm_error *err)
{
	const char *v;

	*out = 0;
	if (get_str(obj, name, required, &v, err) < 0)
		return -1;
	if (v && gm_svc_parse_time(v, out) < 0)
		return MALFORMED("'%s' is not an RFC 3339 UTC time: '%.40s'",
				 name, v);
	return 0;
}

static char *dup_or_null(const char *s)
{
	return s ? gm_xstrdup(s) : NULL;
}

int gm_svc_parse_time(const char *t, time_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, s;
	char z = 0, extra = 0;

	if (!t || strlen(t) != 20 || t[4] != '-' || t[7] != '-' ||
	    t[10] != 'T' || t[13] != ':' || t[16] != ':')
		return -1;
	if (sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d%c%c", &y, &mo, &d, &h, &mi, &s,
		   &z, &extra) != 7 || z != 'Z')
		return -1;
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h > 23 || mi > 59 || s > 60 || h < 0 || mi < 0 || s < 0)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	*out = timegm(&tm);
	return 0;
}

/* ---------------------------------------------------------------- orders */

static const char *const order_states[GM_ORDER_STATE_COUNT + 1] = {
	[GM_ORDER_NONE] = "none",
	[GM_ORDER_STARTED] = "started",
	[GM_ORDER_CSR_RECEIVED] = "csr_received",
	[GM_ORDER_ISSUED] = "issued",
	[GM_ORDER_CONFIRMED] = "confirmed",
	[GM_ORDER_CANCELLED] = "cancelled",
	[GM_ORDER_EXPIRED] = "expired",
};

const char *gm_order_state_name(gm_order_state s)
{
	return s < GM_ORDER_STATE_COUNT ? order_states[s] : "none";
}

/* The order's state word into its value; any other word, "none" included,
 * is malformed. */
static int get_state(const cJSON *obj, gm_order_state *out, gm_error *err)
{
	char word[16];
	int i = get_word(obj, "state", order_states + GM_ORDER_STARTED, word,
			 sizeof(word), err);

	if (i < 0)
		return -1;
	*out = (gm_order_state)(GM_ORDER_STARTED + i);
	return 0;
}
static const char *const next_steps[] = { "csr", "confirm", "none", NULL };
static const char *const key_types[] = { "sm2", "ec-p256", NULL };

#define MAX_CHAIN 8

static int parse_chain(const cJSON *obj, gm_order *o, gm_error *err)
{
	const cJSON *chain = cJSON_GetObjectItemCaseSensitive(obj, "chain");
	const cJSON *item;
	int n;

	if (!chain || cJSON_IsNull(chain))
		return 0;
	if (!cJSON_IsArray(chain))
		return MALFORMED("'chain' is not a list");
	n = cJSON_GetArraySize(chain);
	if (n > MAX_CHAIN)
		return MALFORMED("'chain' has %d certificates", n);
	if (n == 0)
		return 0;
	o->chain = gm_xcalloc((size_t)n, sizeof(*o->chain));
	o->chain_lens = gm_xcalloc((size_t)n, sizeof(*o->chain_lens));
	cJSON_ArrayForEach(item, chain) {
		size_t i = o->n_chain;

		if (!cJSON_IsString(item) || !item->valuestring ||
		    gm_svc_b64_decode(item->valuestring, &o->chain[i],
				      &o->chain_lens[i]) < 0)
			return MALFORMED("'chain' item %zu is not base64", i);
		o->n_chain++;
	}
	return 0;
}

/* "protocol": "1.1"; absent: a 1.0 service, whose answers are read
 * without any 1.1 member (docs/protocol.md section 0). */
static int get_v11(const cJSON *obj, int *out, gm_error *err)
{
	const char *v;

	*out = 0;
	if (get_str(obj, "protocol", 0, &v, err) < 0)
		return -1;
	*out = v && !strcmp(v, "1.1");
	return 0;
}

static int get_double(const cJSON *obj, int *out, gm_error *err)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj,
							  "double_certificate");

	*out = 0;
	if (!m || cJSON_IsNull(m))
		return 0;
	return get_bool(obj, "double_certificate", out, err);
}

/* An integer member; -1 when missing or not an integer (the renewal
 * refuses it by name). */
static long get_int(const cJSON *obj, const char *name)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!cJSON_IsNumber(m) || m->valuedouble < 0 ||
	    m->valuedouble > 1e6 || m->valuedouble != (double)(long)m->valuedouble)
		return -1;
	return (long)m->valuedouble;
}

static int parse_envelope(const cJSON *ek, gm_enc_part *e, gm_error *err)
{
	const char *alg;

	if (!cJSON_IsObject(ek))
		return MALFORMED("'encryption.enveloped_key' is missing");
	e->version = get_int(ek, "version");
	e->bits = get_int(ek, "bits");
	if (get_str(ek, "symmetric_algorithm", 1, &alg, err) < 0 ||
	    get_hex64(ek, "recipient_certificate_sha256", 1,
		      e->recipient_sha256, err) < 0 ||
	    get_b64(ek, "encrypted_symmetric_key", 1, &e->sym_key,
		    &e->sym_key_len, err) < 0 ||
	    get_b64(ek, "encrypted_private_key", 1, &e->priv, &e->priv_len,
		    err) < 0 ||
	    get_b64(ek, "public_key", 1, &e->pub, &e->pub_len, err) < 0)
		return -1;
	snprintf(e->sym_alg, sizeof(e->sym_alg), "%.15s", alg);
	return 0;
}

static int parse_encryption(const cJSON *obj, gm_order *o, gm_error *err)
{
	const cJSON *enc = cJSON_GetObjectItemCaseSensitive(obj, "encryption");
	gm_enc_part *e;
	char hex[65];

	if (!enc || cJSON_IsNull(enc))
		return 0;
	if (!cJSON_IsObject(enc))
		return MALFORMED("'encryption' is not an object");
	e = o->enc = gm_xcalloc(1, sizeof(*e));
	if (get_b64(enc, "certificate", 1, &e->cert, &e->cert_len, err) < 0 ||
	    get_hex64(enc, "certificate_sha256", 1, e->cert_sha256, err) < 0 ||
	    get_time(enc, "not_after", 1, &e->not_after, err) < 0 ||
	    parse_envelope(cJSON_GetObjectItemCaseSensitive(enc,
							    "enveloped_key"),
			   e, err) < 0)
		return -1;
	gm_svc_sha256_hex(e->cert, e->cert_len, hex);
	if (strcmp(hex, e->cert_sha256))
		return MALFORMED("'encryption.certificate_sha256' is not the "
				 "encryption certificate's fingerprint");
	return 0;
}

static void enc_release(gm_enc_part *e)
{
	if (!e)
		return;
	free(e->cert);
	free(e->sym_key);
	free(e->priv);
	free(e->pub);
	free(e);
}

static int parse_order_v11(const cJSON *obj, gm_order *o, gm_error *err)
{
	if (get_v11(obj, &o->v11, err) < 0)
		return -1;
	if (!o->v11)
		return 0;	/* 1.0: no 1.1 member is read */
	return get_double(obj, &o->double_cert, err) < 0 ||
	       parse_encryption(obj, o, err) < 0 ? -1 : 0;
}

static int parse_order_obj(const cJSON *obj, gm_order *o, gm_error *err)
{
	const cJSON *req, *rekey;
	const char *code, *subject;
	char canon[24];

	if (get_str(obj, "update_code", 1, &code, err) < 0)
		return -1;
	if (gm_update_code_normalize(code, canon, NULL) < 0 ||
	    strcmp(canon, code))
		return MALFORMED("'update_code' is not a canonical update code");
	memcpy(o->code, canon, sizeof(o->code));
	if (get_state(obj, &o->state, err) < 0 ||
	    get_word(obj, "next_step", next_steps, o->next_step,
		     sizeof(o->next_step), err) < 0 ||
	    get_hex64(obj, "old_certificate_sha256", 1, o->old_sha256, err) < 0 ||
	    get_str(obj, "subject", 0, &subject, err) < 0 ||
	    get_time(obj, "expires_at", 1, &o->expires_at, err) < 0)
		return -1;
	o->subject = dup_or_null(subject);
	req = cJSON_GetObjectItemCaseSensitive(obj, "csr_requirements");
	if (!cJSON_IsObject(req))
		return MALFORMED("'csr_requirements' is missing");
	if (get_b64(req, "subject_der", 1, &o->subject_der,
		    &o->subject_der_len, err) < 0 ||
	    get_word(req, "key_type", key_types, o->key_type,
		     sizeof(o->key_type), err) < 0)
		return -1;
	rekey = cJSON_GetObjectItemCaseSensitive(obj, "rekey_allowed");
	o->rekey_allowed = 1;
	if (rekey && get_bool(obj, "rekey_allowed", &o->rekey_allowed, err) < 0)
		return -1;
	if (get_b64(obj, "certificate", 0, &o->cert, &o->cert_len, err) < 0 ||
	    get_hex64(obj, "certificate_sha256", 0, o->cert_sha256, err) < 0 ||
	    parse_chain(obj, o, err) < 0)
		return -1;
	if (o->cert) {
		char hex[65];

		gm_svc_sha256_hex(o->cert, o->cert_len, hex);
		if (strcmp(hex, o->cert_sha256))
			return MALFORMED("'certificate_sha256' is not the "
					 "certificate's fingerprint");
	} else if (o->cert_sha256[0]) {
		return MALFORMED("'certificate_sha256' without a certificate");
	}
	if ((o->state == GM_ORDER_ISSUED || o->state == GM_ORDER_CONFIRMED) &&
	    !o->cert)
		return MALFORMED("state '%s' without a certificate",
				 gm_order_state_name(o->state));
	return parse_order_v11(obj, o, err);
}

int gm_svc_parse_order(const char *body, size_t len, gm_order *out,
		       gm_error *err)
{
	cJSON *root;
	int rc;

	memset(out, 0, sizeof(*out));
	root = parse_object(body, len, err);
	if (!root)
		return -1;
	rc = parse_order_obj(root, out, err);
	cJSON_Delete(root);
	if (rc < 0)
		gm_order_release(out);
	return rc;
}

void gm_order_release(gm_order *o)
{
	size_t i;

	if (!o)
		return;
	free(o->subject);
	free(o->subject_der);
	free(o->cert);
	for (i = 0; i < o->n_chain; i++)
		free(o->chain[i]);
	free(o->chain);
	free(o->chain_lens);
	enc_release(o->enc);
	memset(o, 0, sizeof(*o));
}

/* ---------------------------------------------------------------- records */

static int parse_renewal(const cJSON *r, gm_ca_record *rec, gm_error *err)
{
	const cJSON *ren = cJSON_GetObjectItemCaseSensitive(r, "renewal");
	const char *reason;

	if (!cJSON_IsObject(ren))
		return MALFORMED("'renewal' is missing");
	if (get_bool(ren, "online", &rec->online, err) < 0 ||
	    get_str(ren, "reason", 0, &reason, err) < 0 ||
	    get_time(ren, "window_start", 0, &rec->window_start, err) < 0 ||
	    get_time(ren, "window_end", 0, &rec->window_end, err) < 0)
		return -1;
	rec->reason = dup_or_null(reason);
	rec->why = reason ? gm_reason_of_protocol(reason) : GM_REASON_NONE;
	return 0;
}

static int parse_open_order(const cJSON *r, gm_ca_record *rec, gm_error *err)
{
	const cJSON *oo = cJSON_GetObjectItemCaseSensitive(r, "open_order");
	const char *code, *state;
	char canon[24];

	if (!oo || cJSON_IsNull(oo))
		return 0;
	if (!cJSON_IsObject(oo))
		return MALFORMED("'open_order' is not an object");
	if (get_str(oo, "update_code", 1, &code, err) < 0 ||
	    get_str(oo, "state", 1, &state, err) < 0)
		return -1;
	if (gm_update_code_normalize(code, canon, NULL) < 0)
		return MALFORMED("'open_order' has no valid update code");
	rec->open_code = gm_xstrdup(canon);
	rec->open_state = gm_xstrdup(state);
	return 0;
}

static const char *const roles[] = { "signing", "encryption", NULL };

/* The 1.1 members of a lookup result (rec->v11 set from the answer). */
static int parse_record_v11(const cJSON *r, gm_ca_record *rec, gm_error *err)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(r, "role");
	char role[16], partner[65];

	if (!rec->v11 || !rec->found)
		return 0;
	if (m && !cJSON_IsNull(m)) {
		if (get_word(r, "role", roles, role, sizeof(role), err) < 0)
			return -1;
		rec->role = gm_xstrdup(role);
	}
	if (get_double(r, &rec->double_cert, err) < 0 ||
	    get_hex64(r, "partner_sha256", 0, partner, err) < 0)
		return -1;
	rec->partner_sha256 = partner[0] ? gm_xstrdup(partner) : NULL;
	return 0;
}

static int parse_record(const cJSON *r, gm_ca_record *rec, gm_error *err)
{
	const char *status, *gw, *org, *sys, *subject, *sup;
	char sha[65];

	if (!cJSON_IsObject(r))
		return MALFORMED("a lookup result is not an object");
	if (get_bool(r, "found", &rec->found, err) < 0 ||
	    get_str(r, "status", 1, &status, err) < 0 ||
	    get_str(r, "gateway", 0, &gw, err) < 0 ||
	    get_str(r, "organization", 0, &org, err) < 0 ||
	    get_str(r, "system", 0, &sys, err) < 0 ||
	    get_str(r, "subject", 0, &subject, err) < 0 ||
	    get_hex64(r, "sha256", rec->found, sha, err) < 0 ||
	    get_str(r, "superseded_by", 0, &sup, err) < 0)
		return -1;
	rec->status = gm_xstrdup(status);
	rec->gateway = dup_or_null(gw);
	rec->organization = dup_or_null(org);
	rec->system = dup_or_null(sys);
	rec->subject = dup_or_null(subject);
	rec->sha256 = sha[0] ? gm_xstrdup(sha) : NULL;
	rec->superseded_by = dup_or_null(sup);
	if (parse_renewal(r, rec, err) < 0 || parse_open_order(r, rec, err) < 0)
		return -1;
	return parse_record_v11(r, rec, err);
}

static void record_release(gm_ca_record *r)
{
	free(r->status);
	free(r->gateway);
	free(r->organization);
	free(r->system);
	free(r->subject);
	free(r->sha256);
	free(r->reason);
	free(r->superseded_by);
	free(r->open_code);
	free(r->open_state);
	free(r->role);
	free(r->partner_sha256);
	memset(r, 0, sizeof(*r));
}

void gm_ca_records_free(gm_ca_record *r, size_t n)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < n; i++)
		record_release(&r[i]);
	free(r);
}

int gm_svc_parse_records(const char *body, size_t len, size_t n,
			 gm_ca_record *out, gm_error *err)
{
	const cJSON *results, *item;
	cJSON *root;
	size_t i = 0;
	int rc = -1, v11 = 0;

	memset(out, 0, n * sizeof(*out));
	root = parse_object(body, len, err);
	if (!root)
		return -1;
	results = cJSON_GetObjectItemCaseSensitive(root, "results");
	if (!cJSON_IsArray(results)) {
		MALFORMED("'results' is missing or not a list");
		goto out;
	}
	if ((size_t)cJSON_GetArraySize(results) != n) {
		MALFORMED("%d results for %zu certificates",
			  cJSON_GetArraySize(results), n);
		goto out;
	}
	if (get_v11(root, &v11, err) < 0)
		goto out;
	cJSON_ArrayForEach(item, results) {
		out[i].v11 = v11;
		if (parse_record(item, &out[i], err) < 0)
			goto out;
		i++;
	}
	rc = 0;
out:
	cJSON_Delete(root);
	if (rc < 0) {
		for (i = 0; i < n; i++)
			record_release(&out[i]);
	}
	return rc;
}

/* ---------------------------------------------------------------- others */

int gm_svc_parse_challenge(const char *body, size_t len, char *out)
{
	const cJSON *m;
	cJSON *root;
	int rc = -1;

	out[0] = '\0';
	if (!body || !len)
		return -1;
	root = cJSON_ParseWithLength(body, len);
	m = cJSON_GetObjectItemCaseSensitive(root, "next_challenge");
	if (cJSON_IsString(m) && gm_svc_challenge_ok(m->valuestring)) {
		snprintf(out, GM_SVC_CHALLENGE_MAX + 1, "%s", m->valuestring);
		rc = 0;
	}
	cJSON_Delete(root);
	return rc;
}

/*
 * Copies text the service wrote for people, dropping control characters
 * (no terminal escapes reach the user) and never cutting a UTF-8 sequence.
 */
static void copy_text(char *dst, size_t dstsz, const char *src)
{
	size_t o = 0;
	const unsigned char *p = (const unsigned char *)src;

	while (*p) {
		size_t clen = 1;

		if (*p >= 0xf0)
			clen = 4;
		else if (*p >= 0xe0)
			clen = 3;
		else if (*p >= 0xc0)
			clen = 2;
		if (o + clen >= dstsz)
			break;
		if (clen == 1) {
			if (*p >= 0x20 && *p != 0x7f && *p < 0x80)
				dst[o++] = (char)*p;
			else if (*p < 0x80)
				dst[o++] = ' ';
			p++;
			continue;
		}
		{
			size_t k;

			for (k = 1; k < clen; k++)
				if ((p[k] & 0xc0) != 0x80)
					break;
			if (k < clen) {	/* broken sequence: skip its lead */
				p++;
				continue;
			}
			memcpy(dst + o, p, clen);
			o += clen;
			p += clen;
		}
	}
	dst[o] = '\0';
}

int gm_svc_parse_error(const char *body, size_t len, gm_svc_proto_error *out)
{
	const cJSON *e, *m;
	cJSON *root;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	out->retry_after_s = -1;
	if (!body || !len)
		return -1;
	root = cJSON_ParseWithLength(body, len);
	e = cJSON_GetObjectItemCaseSensitive(root, "error");
	if (!cJSON_IsObject(e))
		goto out;
	m = cJSON_GetObjectItemCaseSensitive(e, "code");
	if (!cJSON_IsString(m) || !m->valuestring[0] ||
	    strlen(m->valuestring) >= sizeof(out->code) ||
	    strspn(m->valuestring, "abcdefghijklmnopqrstuvwxyz_0123456789") !=
	    strlen(m->valuestring))
		goto out;
	memcpy(out->code, m->valuestring, strlen(m->valuestring) + 1);
	m = cJSON_GetObjectItemCaseSensitive(e, "message_en");
	if (cJSON_IsString(m))
		copy_text(out->message_en, sizeof(out->message_en),
			  m->valuestring);
	m = cJSON_GetObjectItemCaseSensitive(e, "message_zh");
	if (cJSON_IsString(m))
		copy_text(out->message_zh, sizeof(out->message_zh),
			  m->valuestring);
	out->retryable = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e,
								"retryable"));
	m = cJSON_GetObjectItemCaseSensitive(e, "retry_after");
	if (cJSON_IsNumber(m) && m->valuedouble >= 0 && m->valuedouble < 1e6)
		out->retry_after_s = (long)m->valuedouble;
	m = cJSON_GetObjectItemCaseSensitive(e, "update_code");
	if (cJSON_IsString(m))
		gm_update_code_normalize(m->valuestring, out->update_code, NULL);
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}
