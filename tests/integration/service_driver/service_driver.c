/*
 * service_driver - exercises the service client (include/gmrenew/service.h)
 * from the command line, with software keys (PEM files) signing in-process
 * where the Ekey would sign. Prints one JSON object on stdout and exits
 * with the gm_error's exit code. For the integration tests only.
 *
 * service_driver [OPTIONS] COMMAND ARGS...
 *   --url URL --ca FILE [--connect-ms N] [--timeout-ms N] [--retries N]
 *   [--retry-wait-ms N] [-v ...]
 * COMMANDS
 *   normalize CODE
 *   lookup CERT...
 *   start CERT KEY
 *   status CODE
 *   csr CODE SIGNKEY NEWKEY [--subject DN] [--out CERT]
 *   confirm CODE SHA256 KEY
 *   cancel CODE KEY
 *   renew CERT OLDKEY NEWKEY [--out CERT]   lookup, start, csr, confirm
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "gmrenew/service.h"

static gm_service_options opts;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int usage(void)
{
	fprintf(stderr, "usage: service_driver --url URL --ca FILE "
		"[--connect-ms N] [--timeout-ms N] [--retries N] "
		"[--retry-wait-ms N] [-v] COMMAND ARGS...\n"
		"commands: normalize CODE | lookup CERT... | start CERT KEY |"
		" status CODE | csr CODE SIGNKEY NEWKEY [--subject DN] "
		"[--out CERT] | confirm CODE SHA256 KEY | cancel CODE KEY | "
		"renew CERT OLDKEY NEWKEY [--out CERT]\n");
	return 2;
}

/* ---------------------------------------------------------------- keys */

static int soft_sign(void *ctx, const unsigned char digest[GM_DIGEST_LEN],
		     unsigned char **sig, size_t *sig_len, gm_error *err)
{
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new((EVP_PKEY *)ctx, NULL);
	size_t n = 0;
	int rc = -1;

	*sig = NULL;
	if (!pc || EVP_PKEY_sign_init(pc) <= 0 ||
	    EVP_PKEY_sign(pc, NULL, &n, digest, GM_DIGEST_LEN) <= 0)
		goto out;
	*sig = OPENSSL_malloc(n);
	if (!*sig || EVP_PKEY_sign(pc, *sig, &n, digest, GM_DIGEST_LEN) <= 0)
		goto out;
	*sig_len = n;
	rc = 0;
out:
	EVP_PKEY_CTX_free(pc);
	if (rc < 0) {
		OPENSSL_free(*sig);
		*sig = NULL;
		gm_fail(err, GM_EXIT_FAILED, NULL, "software signing failed");
	}
	return rc;
}

static int load_key(const char *path, gm_pop_key *k, gm_error *err)
{
	FILE *f = fopen(path, "r");

	memset(k, 0, sizeof(*k));
	if (!f)
		return gm_fail(err, GM_EXIT_USAGE, NULL, "cannot open '%s'", path);
	k->pub = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!k->pub)
		return gm_fail(err, GM_EXIT_USAGE, NULL,
			       "'%s' is not a PEM private key", path);
	if (gm_sig_scheme_for_key(k->pub, &k->scheme, err) < 0)
		return -1;
	k->sign = soft_sign;
	k->sign_ctx = k->pub;
	return 0;
}

static void free_key(gm_pop_key *k)
{
	EVP_PKEY_free(k->pub);
	memset(k, 0, sizeof(*k));
}

static int load_cert(const char *path, unsigned char **der, size_t *len,
		     gm_error *err)
{
	FILE *f = fopen(path, "r");
	X509 *x;
	int n;

	*der = NULL;
	if (!f)
		return gm_fail(err, GM_EXIT_USAGE, NULL, "cannot open '%s'", path);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!x)
		return gm_fail(err, GM_EXIT_USAGE, NULL,
			       "'%s' is not a PEM certificate", path);
	n = i2d_X509(x, der);
	X509_free(x);
	if (n <= 0)
		return gm_fail(err, GM_EXIT_FAILED, NULL, "i2d_X509 failed");
	*len = (size_t)n;
	return 0;
}

static int write_cert(const char *path, const unsigned char *der, size_t len,
		      gm_error *err)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	FILE *f;
	int ok;

	if (!x)
		return gm_fail(err, GM_EXIT_VERIFY, NULL,
			       "the issued certificate does not parse");
	f = fopen(path, "w");
	ok = f && PEM_write_X509(f, x);
	if (f && fclose(f))
		ok = 0;
	X509_free(x);
	return ok ? 0 : gm_fail(err, GM_EXIT_FAILED, NULL,
				"cannot write '%s'", path);
}

/* A DER Name from "CN=a,OU=b,O=c,C=CN" (most specific first). */
static int subject_der(const char *dn, unsigned char **der, size_t *len,
		       gm_error *err)
{
	X509_NAME *name = X509_NAME_new();
	char *copy = gm_xstrdup(dn), *parts[32];
	int n = 0, i, dlen;

	for (char *tok = strtok(copy, ","); tok && n < 32;
	     tok = strtok(NULL, ","))
		parts[n++] = tok;
	for (i = n - 1; i >= 0; i--) {
		char *eq = strchr(parts[i], '=');

		if (!eq)
			continue;
		*eq = '\0';
		X509_NAME_add_entry_by_txt(name, parts[i], MBSTRING_UTF8,
					   (unsigned char *)eq + 1, -1, -1, 0);
	}
	free(copy);
	*der = NULL;
	dlen = i2d_X509_NAME(name, der);
	X509_NAME_free(name);
	if (dlen <= 0)
		return gm_fail(err, GM_EXIT_USAGE, NULL, "bad subject '%s'", dn);
	*len = (size_t)dlen;
	return 0;
}

/* ---------------------------------------------------------------- output */

static cJSON *order_json(const gm_order *o)
{
	cJSON *j = cJSON_CreateObject();

	cJSON_AddStringToObject(j, "update_code", o->code);
	cJSON_AddStringToObject(j, "state", gm_order_state_name(o->state));
	cJSON_AddStringToObject(j, "next_step", o->next_step);
	cJSON_AddStringToObject(j, "old_sha256", o->old_sha256);
	cJSON_AddStringToObject(j, "key_type", o->key_type);
	cJSON_AddStringToObject(j, "subject", o->subject ? o->subject : "");
	cJSON_AddNumberToObject(j, "subject_der_len",
				(double)o->subject_der_len);
	cJSON_AddBoolToObject(j, "rekey_allowed", o->rekey_allowed);
	cJSON_AddNumberToObject(j, "cert_len", (double)o->cert_len);
	cJSON_AddStringToObject(j, "cert_sha256", o->cert_sha256);
	cJSON_AddNumberToObject(j, "n_chain", (double)o->n_chain);
	cJSON_AddNumberToObject(j, "expires_at", (double)o->expires_at);
	return j;
}

static cJSON *record_json(const gm_ca_record *r)
{
	cJSON *j = cJSON_CreateObject();

#define STR(name, v) ((v) ? (void)cJSON_AddStringToObject(j, name, v) \
			  : (void)cJSON_AddNullToObject(j, name))
	cJSON_AddBoolToObject(j, "found", r->found);
	STR("status", r->status);
	STR("gateway", r->gateway);
	STR("organization", r->organization);
	STR("system", r->system);
	STR("subject", r->subject);
	STR("sha256", r->sha256);
	cJSON_AddBoolToObject(j, "online", r->online);
	STR("reason", r->reason);
	STR("superseded_by", r->superseded_by);
	cJSON_AddNumberToObject(j, "window_start", (double)r->window_start);
	cJSON_AddNumberToObject(j, "window_end", (double)r->window_end);
	STR("open_code", r->open_code);
	STR("open_state", r->open_state);
#undef STR
	return j;
}

static int finish(cJSON *out, gm_service *s, double t0, int rc,
		  const gm_error *err)
{
	long req = 0, conn = 0;
	char *text;

	gm_service_counters(s, &req, &conn);
	cJSON_AddBoolToObject(out, "ok", rc == 0);
	cJSON_AddNumberToObject(out, "requests", (double)req);
	cJSON_AddNumberToObject(out, "connections", (double)conn);
	cJSON_AddNumberToObject(out, "last_ms", (double)gm_service_last_ms(s));
	cJSON_AddNumberToObject(out, "elapsed_ms", now_ms() - t0);
	cJSON_AddNumberToObject(out, "server_date",
				(double)gm_service_server_date(s));
	if (rc < 0) {
		cJSON *e = cJSON_AddObjectToObject(out, "error");

		cJSON_AddNumberToObject(e, "exit", err->code);
		cJSON_AddStringToObject(e, "reason", gm_error_reason_name(err));
		cJSON_AddStringToObject(e, "message", err->msg);
		cJSON_AddStringToObject(e, "fix", err->fix);
		cJSON_AddNumberToObject(e, "detail", (double)err->detail);
	}
	text = cJSON_Print(out);
	printf("%s\n", text);
	cJSON_free(text);
	cJSON_Delete(out);
	return rc < 0 ? (err->code ? (int)err->code : 1) : 0;
}

/* ---------------------------------------------------------------- commands */

static int cmd_lookup(gm_service *s, int argc, char **argv, cJSON *out,
		      gm_error *err)
{
	unsigned char **ders = calloc((size_t)argc, sizeof(*ders));
	size_t *lens = calloc((size_t)argc, sizeof(*lens));
	gm_ca_record *recs = NULL;
	cJSON *arr;
	int i, rc = -1;

	for (i = 0; i < argc; i++)
		if (load_cert(argv[i], &ders[i], &lens[i], err) < 0)
			goto out;
	if (gm_service_lookup(s, (const unsigned char *const *)ders, lens,
			      (size_t)argc, &recs, err) < 0)
		goto out;
	arr = cJSON_AddArrayToObject(out, "records");
	for (i = 0; i < argc; i++)
		cJSON_AddItemToArray(arr, record_json(&recs[i]));
	gm_ca_records_free(recs, (size_t)argc);
	rc = 0;
out:
	for (i = 0; i < argc; i++)
		OPENSSL_free(ders[i]);
	free(ders);
	free(lens);
	return rc;
}

static int cmd_start(gm_service *s, const char *cert, const char *key,
		     cJSON *out, gm_error *err)
{
	unsigned char *der = NULL;
	size_t len = 0;
	gm_pop_key k = { 0 };
	gm_order o;
	int rc = -1;

	memset(&o, 0, sizeof(o));
	if (load_cert(cert, &der, &len, err) < 0 || load_key(key, &k, err) < 0)
		goto out;
	if (gm_service_start(s, der, len, &k, &o, err) < 0)
		goto out;
	cJSON_AddItemToObject(out, "order", order_json(&o));
	rc = 0;
out:
	gm_order_release(&o);
	free_key(&k);
	OPENSSL_free(der);
	return rc;
}

/* CSR for newkey with subject (DER), submitted signed by signkey. */
static int submit_csr(gm_service *s, const char *code,
		      const unsigned char *subj, size_t subj_len,
		      gm_pop_key *sign, gm_pop_key *new_key, gm_order *o,
		      gm_error *err)
{
	unsigned char *csr = NULL;
	size_t csr_len = 0;
	int rc;

	if (gm_csr_build(new_key->scheme, subj, subj_len, new_key->pub,
			 new_key->sign, new_key->sign_ctx, &csr, &csr_len,
			 err) < 0)
		return -1;
	rc = gm_service_submit_csr(s, code, csr, csr_len, sign, o, err);
	OPENSSL_free(csr);
	return rc;
}

static int cmd_csr(gm_service *s, int argc, char **argv, cJSON *out,
		   gm_error *err)
{
	const char *subject = NULL, *outfile = NULL;
	unsigned char *subj = NULL;
	size_t subj_len = 0;
	gm_pop_key sk = { 0 }, nk = { 0 };
	gm_order o;
	int i, rc = -1;

	memset(&o, 0, sizeof(o));
	for (i = 3; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--subject"))
			subject = argv[i + 1];
		else if (!strcmp(argv[i], "--out"))
			outfile = argv[i + 1];
	}
	if (load_key(argv[1], &sk, err) < 0 || load_key(argv[2], &nk, err) < 0)
		goto out;
	if (subject) {
		if (subject_der(subject, &subj, &subj_len, err) < 0)
			goto out;
	} else {
		if (gm_service_status(s, argv[0], &o, err) < 0)
			goto out;
		subj = (unsigned char *)gm_xmemdup(o.subject_der,
						   o.subject_der_len);
		subj_len = o.subject_der_len;
		gm_order_release(&o);
	}
	if (submit_csr(s, argv[0], subj, subj_len, &sk, &nk, &o, err) < 0)
		goto out;
	if (outfile && o.cert && write_cert(outfile, o.cert, o.cert_len,
					    err) < 0)
		goto out;
	cJSON_AddItemToObject(out, "order", order_json(&o));
	rc = 0;
out:
	gm_order_release(&o);
	free_key(&sk);
	free_key(&nk);
	if (subject)
		OPENSSL_free(subj);
	else
		free(subj);
	return rc;
}

static int cmd_renew(gm_service *s, int argc, char **argv, cJSON *out,
		     gm_error *err)
{
	unsigned char *der = NULL;
	size_t len = 0;
	gm_pop_key ok = { 0 }, nk = { 0 };
	gm_ca_record *rec = NULL;
	gm_cert_facts facts;
	gm_order o, o2, o3;
	const unsigned char *certs[1];
	int rc = -1;

	memset(&o, 0, sizeof(o));
	memset(&o2, 0, sizeof(o2));
	memset(&o3, 0, sizeof(o3));
	memset(&facts, 0, sizeof(facts));
	if (load_cert(argv[0], &der, &len, err) < 0 ||
	    load_key(argv[1], &ok, err) < 0 || load_key(argv[2], &nk, err) < 0)
		goto out;
	certs[0] = der;
	if (gm_service_lookup(s, certs, &len, 1, &rec, err) < 0)
		goto out;
	cJSON_AddItemToObject(out, "record", record_json(rec));
	if (!rec->online) {
		rc = gm_fail(err, GM_EXIT_FAILED, NULL, "not online: %s",
			     rec->reason ? rec->reason : "?");
		goto out;
	}
	if (gm_service_start(s, der, len, &ok, &o, err) < 0)
		goto out;
	if (submit_csr(s, o.code, o.subject_der, o.subject_der_len, &ok, &nk,
		       &o2, err) < 0)
		goto out;
	if (!o2.cert) {
		rc = gm_fail(err, GM_EXIT_FAILED, NULL, "no certificate issued");
		goto out;
	}
	if (gm_cert_facts_parse(o2.cert, o2.cert_len, &facts, err) < 0)
		goto out;
	if (!gm_pubkey_equal(facts.pubkey, nk.pub)) {
		rc = gm_fail(err, GM_EXIT_VERIFY, NULL,
			     "the issued certificate is not for the new key");
		goto out;
	}
	if (argc > 4 && !strcmp(argv[3], "--out") &&
	    write_cert(argv[4], o2.cert, o2.cert_len, err) < 0)
		goto out;
	if (gm_service_confirm(s, o.code, o2.cert_sha256, &nk, &o3, err) < 0)
		goto out;
	cJSON_AddItemToObject(out, "order", order_json(&o3));
	rc = 0;
out:
	gm_cert_facts_release(&facts);
	gm_ca_records_free(rec, 1);
	gm_order_release(&o);
	gm_order_release(&o2);
	gm_order_release(&o3);
	free_key(&ok);
	free_key(&nk);
	OPENSSL_free(der);
	return rc;
}

static int run(gm_service *s, int argc, char **argv, cJSON *out,
	       gm_error *err)
{
	const char *cmd = argv[0];
	gm_pop_key k = { 0 };
	gm_order o;
	int rc = -1;

	memset(&o, 0, sizeof(o));
	argc--;
	argv++;
	if (!strcmp(cmd, "lookup") && argc >= 1)
		return cmd_lookup(s, argc, argv, out, err);
	if (!strcmp(cmd, "start") && argc == 2)
		return cmd_start(s, argv[0], argv[1], out, err);
	if (!strcmp(cmd, "csr") && argc >= 3)
		return cmd_csr(s, argc, argv, out, err);
	if (!strcmp(cmd, "renew") && argc >= 3)
		return cmd_renew(s, argc, argv, out, err);
	if (!strcmp(cmd, "status") && argc == 1) {
		rc = gm_service_status(s, argv[0], &o, err);
	} else if (!strcmp(cmd, "confirm") && argc == 3) {
		if (load_key(argv[2], &k, err) == 0)
			rc = gm_service_confirm(s, argv[0], argv[1], &k, &o, err);
	} else if (!strcmp(cmd, "cancel") && argc == 2) {
		if (load_key(argv[1], &k, err) == 0)
			rc = gm_service_cancel(s, argv[0], &k, &o, err);
	} else {
		return gm_fail(err, GM_EXIT_USAGE, NULL, "bad command '%s'",
			       cmd);
	}
	if (rc == 0)
		cJSON_AddItemToObject(out, "order", order_json(&o));
	gm_order_release(&o);
	free_key(&k);
	return rc;
}

int main(int argc, char **argv)
{
	gm_service *s = NULL;
	gm_error err;
	cJSON *out;
	double t0 = now_ms();
	int i, rc;

	gm_error_clear(&err);
	gm_service_options_defaults(&opts);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strncmp(o, "-v", 2)) {
			gm_verbosity += (int)strlen(o) - 1;
			continue;
		}
		if (!v)
			return usage();
		i++;
		if (!strcmp(o, "--url"))
			opts.url = v;
		else if (!strcmp(o, "--ca"))
			opts.ca_bundle = v;
		else if (!strcmp(o, "--connect-ms"))
			opts.connect_timeout_ms = atol(v);
		else if (!strcmp(o, "--timeout-ms"))
			opts.total_timeout_ms = atol(v);
		else if (!strcmp(o, "--retries"))
			opts.max_retries = atoi(v);
		else if (!strcmp(o, "--retry-wait-ms"))
			opts.max_retry_wait_ms = atol(v);
		else
			return usage();
	}
	if (i >= argc)
		return usage();
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "command", argv[i]);
	if (!strcmp(argv[i], "normalize") && i + 1 < argc) {
		char code[24];

		rc = gm_update_code_normalize(argv[i + 1], code, &err);
		if (rc == 0)
			cJSON_AddStringToObject(out, "code", code);
		return finish(out, NULL, t0, rc, &err);
	}
	rc = gm_service_open(&opts, &s, &err);
	if (rc == 0)
		rc = run(s, argc - i, argv + i, out, &err);
	rc = finish(out, s, t0, rc, &err);
	gm_service_close(s);
	return rc;
}
