/*
 * cmd_verify.c - `gmrenew verify`: checks the certificates on the token (or
 * one given as a file): the chain up to the configured trust anchors with
 * SM2 verified on every link, validity now, the key pair on the token (by
 * public key, no PIN), and the post-renewal rules against the previous
 * certificate (--previous, or the journal of the renewal that installed it).
 * Exit 8 when a check fails.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "gmrenew/cli.h"
#include "gmrenew/renewal.h"

typedef struct verify_opts {
	const char *cert;
	const char *previous;
	const char *ca_bundle;
	gm_login_options login;	/* a PIN source: the private key is checked */
} verify_opts;

typedef struct verify_run {
	gm_cli *cli;
	const verify_opts *o;
	const char *ca;
	gm_policy policy;
	char *state_dir;
	cJSON *items;		/* JSON results */
	gm_chain_pool *chain;	/* token runs: anchors and the token's
				 * certificates as intermediates, loaded once */
	gm_chain_checked *checked;	/* token runs: each certificate's chain,
					 * verified in one parallel pass */
	const gm_token_snapshot *token;	/* the token, read once; NULL: none */
	gm_token_snapshot own;	/* file runs: the snapshot read here */
	int ok;
	char token_problem[GM_ERR_MSG_MAX];
	char failed[GM_ERR_MSG_MAX];	/* "#1 chain, #2 key", for the summary */
} verify_run;

/* Notes a failed check for the last line of the report. */
static void note_failure(verify_run *v, size_t index, const char *check)
{
	size_t used = strlen(v->failed);
	char where[32] = "";

	if (index)
		snprintf(where, sizeof(where), "#%zu ", index);
	if (used < sizeof(v->failed) - 1)
		snprintf(v->failed + used, sizeof(v->failed) - used, "%s%s%s",
			 used ? ", " : "", where, check);
}

/* TRANSLATORS: four columns at most */
static const char *const status_names[] = { N_("pass"), N_("fail"),
					    N_("skip") };

static void print_report(const gm_cert_facts *f, size_t index,
			 const gm_verify_report *r)
{
	size_t i;

	if (index)
		gm_printf("#%zu %s\n", index, f->subject);
	else
		gm_printf("%s\n", f->subject);
	gm_printf(_("   SHA-256 %s\n"), f->sha256_hex);
	for (i = 0; i < r->n; i++) {
		gm_fputs("   ", stdout);
		gm_print_cell(stdout, _(status_names[r->checks[i].status]), 4);
		gm_printf(" %-9s ", r->checks[i].id);
		gm_wrap_line(stdout, r->checks[i].detail, 18, 18,
			     gm_term_width(stdout));
	}
}

static cJSON *report_json(const gm_cert_facts *f, size_t index,
			  const gm_verify_report *r)
{
	cJSON *o = cJSON_CreateObject();

	if (index)
		cJSON_AddNumberToObject(o, "index", (double)index);
	else
		cJSON_AddNullToObject(o, "index");
	cJSON_AddStringToObject(o, "subject", f->subject);
	cJSON_AddStringToObject(o, "sha256", f->sha256_hex);
	cJSON_AddBoolToObject(o, "ok", r->ok);
	cJSON_AddItemToObject(o, "checks", gm_checks_json(r));
	return o;
}

/* The previous certificate: --previous, or the journal's copy. */
static int load_previous(verify_run *v, const gm_cert_facts *f,
			 gm_cert_facts *out, gm_error *err)
{
	STACK_OF(X509) *sk = NULL;
	unsigned char *der = NULL, *p;
	size_t len = 0;
	int r;

	if (v->o->previous) {
		if (gm_certs_load_file(v->o->previous, &sk, err))
			return -1;
		len = (size_t)i2d_X509(sk_X509_value(sk, 0), NULL);
		der = gm_xmalloc(len);
		p = der;
		i2d_X509(sk_X509_value(sk, 0), &p);
		sk_X509_pop_free(sk, X509_free);
	} else if (gm_journal_find_previous(v->state_dir, f->sha256_hex, &der,
					    &len)) {
		return 1;	/* none: the check is not run */
	}
	r = gm_cert_facts_parse(der, len, out, err);
	free(der);
	return r;
}

/*
 * intermediate: a CA certificate stored on the token next to the user's
 * certificate, whose key pair is not expected there; its key check is
 * skipped.
 */
static int verify_one(verify_run *v, const gm_cert_facts *f, size_t index,
		      STACK_OF(X509) *untrusted, int intermediate,
		      const gm_snapshot_cert *obj,
		      const gm_chain_checked *chain, gm_error *err)
{
	gm_cert_facts prev;
	gm_verify_report rep;
	gm_verify_input in = {
		.cert = f, .untrusted = untrusted, .ca_bundle = v->ca,
		.chain = v->chain, .chain_checked = chain, .now = v->cli->now,
		.policy = &v->policy,
		.token = intermediate ? NULL : v->token,
		.on_token = intermediate ? NULL : obj,
	};
	gm_error verr;
	size_t i;
	int hp = load_previous(v, f, &prev, err);

	if (hp < 0)
		return -1;
	in.previous = hp == 0 ? &prev : NULL;
	if (gm_verify_certificate(&in, &rep, &verr))
		v->ok = 0;
	for (i = 0; i < rep.n; i++) {
		if (!strcmp(rep.checks[i].id, "key") && intermediate)
			snprintf(rep.checks[i].detail,
				 sizeof(rep.checks[i].detail), _("a CA "
				 "certificate (an intermediate): its key pair "
				 "is not expected on the token"));
		else if (!strcmp(rep.checks[i].id, "renewal") &&
			 intermediate && hp)
			snprintf(rep.checks[i].detail,
				 sizeof(rep.checks[i].detail), _("a CA "
				 "certificate (an intermediate): not renewed "
				 "on the token"));
		else if (!strcmp(rep.checks[i].id, "key") &&
			 !v->token && v->token_problem[0])
			snprintf(rep.checks[i].detail,
				 sizeof(rep.checks[i].detail),
				 _("no token to look at: %.480s"),
				 v->token_problem);
		if (rep.checks[i].status == GM_CHECK_FAIL)
			note_failure(v, index, rep.checks[i].id);
	}
	if (v->cli->json)
		cJSON_AddItemToArray(v->items, report_json(f, index, &rep));
	else
		print_report(f, index, &rep);
	if (hp == 0)
		gm_cert_facts_release(&prev);
	return 0;
}

/* With a PIN source the private key objects are seen for real. */
static int login(verify_run *v, gm_error *err)
{
	if (!gm_pin_source_scripted(&v->o->login.pin))
		return 0;
	return gm_cli_login(v->cli, &v->o->login, err);
}

static int der_of(X509 *x, unsigned char **der, size_t *len)
{
	int n = i2d_X509(x, NULL);
	unsigned char *p;

	if (n <= 0)
		return -1;
	*der = gm_xmalloc((size_t)n);
	p = *der;
	i2d_X509(x, &p);
	*len = (size_t)n;
	return 0;
}

static int verify_file(verify_run *v, gm_error *err)
{
	STACK_OF(X509) *sk = NULL, *rest;
	unsigned char *der;
	size_t len;
	gm_cert_facts f;
	gm_error terr;
	int r;

	if (gm_certs_load_file(v->o->cert, &sk, err))
		return -1;
	/* the token, when there is one, for the key check */
	if (gm_cli_setup(v->cli, GM_CMD_TOKEN, &terr)) {
		snprintf(v->token_problem, sizeof(v->token_problem), "%s",
			 terr.msg);
	} else if (login(v, err) ||
		   gm_token_snapshot_read(v->cli->session, &v->own, err)) {
		sk_X509_pop_free(sk, X509_free);
		return -1;
	} else {
		v->token = &v->own;
	}
	if (der_of(sk_X509_value(sk, 0), &der, &len) ||
	    gm_cert_facts_parse(der, len, &f, err)) {
		gm_token_snapshot_release(&v->own);
		v->token = NULL;
		sk_X509_pop_free(sk, X509_free);
		return -1;
	}
	free(der);
	rest = sk_X509_dup(sk);
	(void)sk_X509_shift(rest);
	r = verify_one(v, &f, 0, rest, 0, NULL, NULL, err);
	gm_token_snapshot_release(&v->own);
	v->token = NULL;
	sk_X509_free(rest);
	sk_X509_pop_free(sk, X509_free);
	gm_cert_facts_release(&f);
	return r;
}

/* A certificate object that cannot be parsed: a failed "read" check. */
static void report_unreadable(verify_run *v, const gm_cert_view *cv)
{
	char *id = gm_hex(cv->obj->id, cv->obj->id_len);

	v->ok = 0;
	note_failure(v, cv->index, "read");
	if (v->cli->json) {
		cJSON *o = cJSON_CreateObject(), *c;

		cJSON_AddNumberToObject(o, "index", (double)cv->index);
		cJSON_AddNullToObject(o, "subject");
		cJSON_AddNullToObject(o, "sha256");
		cJSON_AddBoolToObject(o, "ok", 0);
		c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "id", "read");
		cJSON_AddStringToObject(c, "status", "fail");
		cJSON_AddStringToObject(c, "detail", gm_cert_view_problem(cv));
		cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "checks"), c);
		cJSON_AddItemToArray(v->items, o);
	} else {
		gm_printf(_("#%zu unreadable certificate object (id %s)\n"
		       "   %-4s %-9s %s\n"), cv->index, id[0] ? id : "none",
		       "fail", "read", gm_cert_view_problem(cv));
	}
	free(id);
}

/* The work that grows with the certificates runs on every CPU once there
 * are this many (below it, one thread: a token holds a few). */
#define VERIFY_PARALLEL_FROM 16

/* One certificate's X.509 decoded (a parallel item: it touches only its
 * own certificate). */
static void decode_one(void *ctx, size_t i)
{
	gm_snapshot_cert *c = &((gm_cert_list *)ctx)->snap.certs[i];
	gm_error derr;

	if (c->parsed && gm_cert_facts_decode(&c->facts, &derr)) {
		gm_cert_facts_release(&c->facts);
		c->parsed = 0;
		snprintf(c->problem, sizeof(c->problem), "%s", derr.msg);
	}
}

struct chain_pass {
	verify_run *v;
	const gm_cert_list *l;
};

/* One certificate's chain (a parallel item: the pool is only read). */
static void chain_one(void *ctx, size_t i)
{
	const struct chain_pass *p = ctx;
	const gm_snapshot_cert *c = p->l->views[i].obj;
	gm_chain_checked *out = &p->v->checked[i];

	if (c->parsed)
		out->rc = gm_chain_pool_verify(p->v->chain, c->facts.x509,
					       p->v->cli->now, &out->err);
}

/* Once per run, not per certificate: the trust anchors and the token's
 * certificates (any may be an intermediate of another); the keys are the
 * snapshot's. The snapshot reads the certificates' facts; their X.509 is
 * decoded here, where it is used, and every chain is verified before the
 * checks are reported in order. */
static int load_once(verify_run *v, gm_cert_list *l, gm_error *err)
{
	struct chain_pass pass = { v, l };
	size_t i;

	if (gm_chain_pool_new(v->ca, &v->chain, err))
		return -1;
	gm_parallel_for(l->n, VERIFY_PARALLEL_FROM, decode_one, l);
	for (i = 0; i < l->n; i++) {
		gm_snapshot_cert *c = &l->snap.certs[i];

		if (c->parsed && gm_chain_pool_add(v->chain, c->facts.x509))
			return gm_fail(err, GM_EXIT_FAILED, NULL, "cannot copy "
				       "certificate #%zu", l->views[i].index);
	}
	v->token = &l->snap;
	v->checked = gm_xcalloc(l->n, sizeof(*v->checked));
	gm_parallel_for(l->n, VERIFY_PARALLEL_FROM, chain_one, &pass);
	return 0;
}

static int verify_token(verify_run *v, gm_error *err)
{
	gm_cert_list l;
	size_t i;
	int r = 0;

	if (gm_cli_setup(v->cli, GM_CMD_TOKEN, err) || login(v, err) ||
	    gm_cert_list_load(v->cli, &l, err))
		return -1;
	if (!l.n) {
		gm_cert_list_release(&l);
		return gm_fail(err, GM_EXIT_VERIFY, "check that this is the "
			       "right Ekey", "the token holds no certificate");
	}
	r = load_once(v, &l, err);
	for (i = 0; i < l.n && !r; i++) {
		if (!l.views[i].obj->parsed) {
			report_unreadable(v, &l.views[i]);
			continue;
		}
		r = verify_one(v, &l.views[i].obj->facts, l.views[i].index, NULL,
			       l.views[i].obj->key_state == GM_KEY_MISSING &&
			       X509_check_ca(l.views[i].obj->facts.x509) != 0,
			       l.views[i].obj, &v->checked[i], err);
	}
	free(v->checked);
	v->checked = NULL;
	gm_chain_pool_free(v->chain);
	v->chain = NULL;
	v->token = NULL;
	gm_cert_list_release(&l);
	return r;
}

static const gm_option options[] = {
	{ "cert", 0, GM_OPT_STRING, offsetof(verify_opts, cert), "FILE",
	  N_("verify this certificate (PEM or DER; more PEM certificates "
	  "after it are intermediates) instead of the token's") },
	{ "previous", 0, GM_OPT_STRING, offsetof(verify_opts, previous), "FILE",
	  N_("the certificate it renewed: run the post-renewal check") },
	{ "ca-bundle", 0, GM_OPT_STRING, offsetof(verify_opts, ca_bundle),
	  "FILE", N_("trust anchors (default: [service] chain_bundle)") },
	{ "pin-file", 0, GM_OPT_STRING, offsetof(verify_opts, login.pin.file),
	  "FILE", N_("log in with the PIN from FILE to check the private "
		     "key") },
	{ "pin-fd", 0, GM_OPT_INT, offsetof(verify_opts, login.pin.fd), "N",
	  N_("log in with the PIN from file descriptor N") },
	{ NULL, 0, 0, 0, NULL, NULL },
};

static void defaults(void *values)
{
	((verify_opts *)values)->login.pin.fd = -1;
}

const gm_command_options cmd_verify_options = {
	options, sizeof(verify_opts), defaults, NULL
};

int cmd_verify(gm_cli *cli, int argc, char **argv)
{
	const verify_opts o = *(const verify_opts *)cli->opts;
	verify_run v = { .cli = cli, .o = &o, .ok = 1 };
	gm_error err;
	int r;

	(void)argc;
	(void)argv;
	v.ca = o.ca_bundle ? o.ca_bundle : cli->cfg.chain_bundle;
	if (!v.ca) {
		gm_fail(&err, GM_EXIT_USAGE, "set [service] chain_bundle in the "
			"configuration, or pass --ca-bundle FILE",
			"no trust anchors to verify certificates against");
		return gm_cli_report_error(cli, &err);
	}
	gm_cli_policy(cli, &v.policy);
	v.state_dir = cli->cfg.state_dir ? gm_xstrdup(cli->cfg.state_dir) :
		gm_state_dir_default();
	v.items = cJSON_CreateArray();
	r = o.cert ? verify_file(&v, &err) : verify_token(&v, &err);
	if (r) {
		cJSON_Delete(v.items);
		free(v.state_dir);
		return gm_cli_report_error(cli, &err);
	}
	if (!v.ok)
		gm_fail(&err, GM_EXIT_VERIFY, "do not rely on the certificates "
			"that failed; report it to the CA",
			"verification failed: %s", v.failed);
	if (cli->json) {
		cJSON *doc = cJSON_CreateObject();

		cJSON_AddBoolToObject(doc, "ok", v.ok);
		cJSON_AddItemToObject(doc, "certificates", v.items);
		if (!v.ok)
			cJSON_AddItemToObject(doc, "error",
					      gm_cli_error_json(&err));
		gm_cli_print_json(doc);
	} else {
		cJSON_Delete(v.items);
		if (v.ok)
			gm_printf(_("All checks passed.\n"));
		else
			gm_printf(_("Verification FAILED: %s.\n"), v.failed);
	}
	if (!v.ok)
		gm_cli_error_text(&err);
	free(v.state_dir);
	return v.ok ? GM_EXIT_OK : GM_EXIT_VERIFY;
}
