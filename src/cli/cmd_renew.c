/*
 * cmd_renew.c - `gmrenew renew`: the main job. Picks the certificate (the
 * only one due, or --cert), applies the CA's windows, logs in with the PIN,
 * and runs the renewal (src/renewal/), showing the update code before the
 * token changes and the certificate before and after.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gmrenew/cli.h"
#include "fleet_internal.h"

typedef struct renew_opts {
	const char *cert;
	int yes, dry_run, force, keep_old, wait;
	gm_login_options login;
	gm_wait_options batch;
} renew_opts;

/* A certificate the user can renew now: readable, in the online window,
 * with its key pair on the token (a CA certificate stored on the token is
 * not one). */
static int renewable(const gm_cert_view *v)
{
	return v->obj->parsed && v->obj->key_state != GM_KEY_MISSING &&
	       v->obj->role == GM_ROLE_SIGNING &&
	       v->verdict.renewal == GM_RENEWAL_ONLINE;
}

static int matches(const gm_cert_view *v, const char *sel)
{
	char *end;
	unsigned long idx = strtoul(sel, &end, 10);
	size_t len = strlen(sel);

	if (*sel && !*end && len < 4)
		return idx == v->index;
	if (v->obj->container && v->obj->container[0] &&
	    !strcmp(v->obj->container, sel))
		return 1;	/* SKF software names a certificate so */
	if (!v->obj->parsed)
		return 0;
	if (len >= 8 && !strncasecmp(v->obj->facts.sha256_hex, sel, len) && len <= 64)
		return 1;
	return !strcasecmp(v->obj->facts.serial_hex, sel);
}

static int select_by_option(const gm_cert_list *l, const char *sel,
			    const gm_cert_view **out, gm_error *err)
{
	size_t i, hits = 0, enc = 0;

	for (i = 0; i < l->n; i++) {
		if (!matches(&l->views[i], sel))
			continue;
		/* an encryption certificate goes with its signing one */
		if (l->views[i].obj->role == GM_ROLE_ENCRYPTION) {
			enc++;
			continue;
		}
		*out = &l->views[i];
		hits++;
	}
	if (hits == 1)
		return 0;
	if (!hits && enc)
		return gm_fail(err, GM_EXIT_USAGE,
			       "pick its signing certificate (run 'gmrenew "
			       "list-certs')",
			       "--cert '%s' is an encryption certificate: it "
			       "is renewed together with its signing "
			       "certificate", sel);
	return gm_fail(err, GM_EXIT_USAGE,
		       "run 'gmrenew list-certs' and give an index, a serial "
		       "or a SHA-256 fingerprint (at least 8 hex digits)",
		       hits ? "--cert '%s' matches %zu certificates" :
		       "--cert '%s' matches no certificate on the token%.0zu",
		       sel, hits);
}

/* When online renewal of a certificate opens, as the user reads it. */
static void window_opens(const gm_cli *cli, const gm_cert_view *v, char *buf,
			 size_t n)
{
	gm_policy p;

	gm_cli_policy(cli, &p);
	gm_format_time(v->obj->facts.not_after - (time_t)p.renew_before_days * 86400,
		       buf, n);
}

/* The not-due certificate whose window opens first, or NULL. */
static const gm_cert_view *first_due(const gm_cert_list *l)
{
	const gm_cert_view *best = NULL;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->views[i].obj->parsed &&
		    l->views[i].obj->key_state != GM_KEY_MISSING &&
		    l->views[i].verdict.renewal == GM_RENEWAL_NOT_DUE &&
		    (!best || l->views[i].obj->facts.not_after <
			      best->obj->facts.not_after))
			best = &l->views[i];
	return best;
}

static int none_due(const gm_cli *cli, const gm_cert_list *l, int force,
		    gm_error *err)
{
	size_t i, offline = 0, parsed = 0;
	const gm_cert_view *next = first_due(l);
	char opens[48] = "";

	for (i = 0; i < l->n; i++) {
		parsed += l->views[i].obj->parsed;
		offline += l->views[i].obj->parsed &&
			   l->views[i].verdict.renewal == GM_RENEWAL_OFFLINE_ONLY;
	}
	if (!parsed)
		return gm_fail(err, GM_EXIT_FAILED, "check that this is the right "
			       "Ekey", "the token holds no readable certificate");
	if (offline) {
		gm_policy p;

		gm_cli_policy(cli, &p);
		return gm_fail(err, GM_EXIT_OFFLINE, gm_advice_offline,
			       "the certificate expired more than %d days ago; "
			       "online renewal is no longer possible",
			       p.renew_after_days);
	}
	if (next)
		window_opens(cli, next, opens, sizeof(opens));
	return gm_fail(err, GM_EXIT_NOT_DUE,
		       force ? "choose one with --cert" :
		       "run 'gmrenew renew' again once the window is open",
		       "no certificate on the token is due for renewal%s%s%s%s",
		       next ? "; online renewal of '" : "",
		       next ? next->obj->facts.subject : "",
		       next ? "' opens on " : "", opens);
}

static int ask_choice(const gm_cli *cli, const gm_cert_list *l,
		      const gm_cert_view **out, gm_error *err)
{
	char *answer;
	size_t i;

	gm_cert_list_print(cli, l, stderr);
	answer = gm_prompt_line(_("Several certificates can be renewed. "
				"Which one (#)? "));
	if (answer) {
		for (i = 0; i < l->n; i++)
			if (l->views[i].obj->parsed && matches(&l->views[i], answer))
				*out = &l->views[i];
		free(answer);
		if (*out)
			return 0;
	}
	return gm_fail(err, GM_EXIT_USAGE, "answer with a number from the "
		       "list, or use --cert", "no certificate chosen");
}

static int several(const gm_cert_list *l, gm_error *err)
{
	char list[GM_ERR_MSG_MAX] = "";
	size_t i, o = 0;

	for (i = 0; i < l->n && o < sizeof(list) - 1; i++)
		if (renewable(&l->views[i]))
			o += (size_t)snprintf(list + o, sizeof(list) - o,
					      "%s#%zu %s", o ? "; " : "",
					      l->views[i].index,
					      l->views[i].obj->facts.subject);
	return gm_fail(err, GM_EXIT_USAGE,
		       "pick one with --cert INDEX|SHA256|SERIAL",
		       "several certificates can be renewed: %s", list);
}

static int choose(const gm_cli *cli, const renew_opts *o,
		  const gm_cert_list *l, const gm_cert_view **out,
		  gm_error *err)
{
	size_t i, n = 0;

	*out = NULL;
	if (o->cert)
		return select_by_option(l, o->cert, out, err);
	for (i = 0; i < l->n; i++)
		if (renewable(&l->views[i])) {
			*out = &l->views[i];
			n++;
		}
	if (n == 1)
		return 0;
	*out = NULL;
	if (n == 0) {
		if (o->force && l->n == 1 && l->views[0].obj->parsed &&
		    l->views[0].verdict.renewal == GM_RENEWAL_NOT_DUE) {
			*out = &l->views[0];
			return 0;
		}
		return none_due(cli, l, o->force, err);
	}
	if (gm_have_terminal() && !cli->json)
		return ask_choice(cli, l, out, err);
	return several(l, err);
}

/* The CA's windows, applied to the chosen certificate. */
static int apply_policy(const gm_cli *cli, const renew_opts *o,
			const gm_cert_view *v, gm_error *err)
{
	char opens[48];

	if (!v->obj->parsed)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "certificate #%zu cannot be read: %s", v->index,
			       gm_cert_view_problem(v));
	if (v->verdict.renewal == GM_RENEWAL_OFFLINE_ONLY) {
		gm_policy p;

		gm_cli_policy(cli, &p);
		return gm_fail(err, GM_EXIT_OFFLINE, gm_advice_offline,
			       "'%s' expired %ld days ago; online renewal "
			       "ends %d days after expiry", v->obj->facts.subject,
			       -v->verdict.days_left, p.renew_after_days);
	}
	window_opens(cli, v, opens, sizeof(opens));
	if (v->verdict.renewal == GM_RENEWAL_NOT_DUE && !o->force)
		return gm_fail(err, GM_EXIT_NOT_DUE,
			       "run 'gmrenew renew' again once the window is "
			       "open (--force only if the CA asked you to renew "
			       "early)",
			       "'%s' is valid for %ld more days; its online "
			       "renewal opens on %s", v->obj->facts.subject,
			       v->verdict.days_left, opens);
	if (v->obj->key_state == GM_KEY_MISSING)
		return gm_fail(err, GM_EXIT_FAILED, "contact the CA",
			       "the token holds no key pair for '%s'",
			       v->obj->facts.subject);
	return 0;
}

static int confirm_start(const gm_cli *cli, const renew_opts *o,
			 const gm_cert_view *v, gm_error *err)
{
	char q[GM_ERR_MSG_MAX + 64];

	if (o->yes || o->dry_run || cli->json || !gm_have_terminal())
		return 0;
	if (v->verdict.days_left >= 0)
		snprintf(q, sizeof(q), _("Renew '%s' (expires in %ld days)? [y/N] "),
			 v->obj->facts.subject, v->verdict.days_left);
	else
		snprintf(q, sizeof(q), _("Renew '%s' (expired %ld days ago)? [y/N] "),
			 v->obj->facts.subject, -v->verdict.days_left);
	if (gm_prompt_yes(q))
		return 0;
	return gm_fail(err, GM_EXIT_FAILED, NULL, "renewal not confirmed");
}

static int print_result(gm_renew_session *rs, const gm_cert_view *old,
			const renew_opts *o)
{
	gm_cert_facts fresh;
	cJSON *doc;

	if (o->dry_run) {
		if (rs->cli->json) {
			doc = gm_renew_result_json(rs, 1);
			cJSON_AddBoolToObject(doc, "dry_run", 1);
			cJSON_AddItemToObject(doc, "old", gm_cert_view_json(old));
			gm_cli_print_json(doc);
		} else {
			gm_printf(_("Dry run: '%s' can be renewed now; the PIN, the key "
			       "and the CA's records were checked. Nothing was "
			       "changed.\n"), old->obj->facts.subject);
		}
		return GM_EXIT_OK;
	}
	if (gm_cert_facts_parse(rs->result.new_der, rs->result.new_der_len,
				&fresh, NULL))
		return GM_EXIT_FAILED;
	if (rs->cli->json) {
		doc = gm_renew_result_json(rs, 1);
		cJSON_AddItemToObject(doc, "old", gm_cert_view_json(old));
		cJSON_AddStringToObject(doc, "new_sha256", fresh.sha256_hex);
		cJSON_AddNumberToObject(doc, "days_added",
					(double)((fresh.not_after -
						  old->obj->facts.not_after) / 86400));
		gm_renew_encryption_json(doc, &rs->result);
		gm_cli_print_json(doc);
	} else {
		gm_printf(_("Renewed. Update code %s.\n"), rs->code);
		gm_renew_print_change(stdout, &old->obj->facts, &fresh);
		gm_renew_print_encryption(stdout, &rs->result);
	}
	gm_cert_facts_release(&fresh);
	return GM_EXIT_OK;
}

#define OPT(field) offsetof(renew_opts, field)

static const gm_option options[] = {
	{ "cert", 'c', GM_OPT_STRING, OPT(cert), "SEL",
	  N_("certificate to renew: index, serial, SHA-256 or container") },
	{ "yes", 'y', GM_OPT_BOOL, OPT(yes), NULL,
	  N_("do not ask for confirmation") },
	{ "dry-run", 'n', GM_OPT_BOOL, OPT(dry_run), NULL,
	  N_("check everything, change nothing on the token or the service") },
	{ "force", 0, GM_OPT_BOOL, OPT(force), NULL,
	  N_("renew although the certificate is not yet due") },
	GM_RENEW_LOGIN_OPTIONS(renew_opts, login),
	{ "keep-old", 0, GM_OPT_BOOL, OPT(keep_old), NULL,
	  N_("keep the old certificate and key (relabelled)") },
	{ "wait", 0, GM_OPT_BOOL, OPT(wait), NULL,
	  N_("renew Ekeys one after another as they are inserted") },
	{ "count", 0, GM_OPT_INT, OPT(batch.count), "N",
	  N_("with --wait: stop after N Ekeys") },
	{ "timeout", 0, GM_OPT_INT, OPT(batch.timeout), "SECONDS",
	  N_("with --wait: stop when nothing changes for SECONDS") },
	{ "pin-map", 0, GM_OPT_STRING, OPT(batch.pin_map), "FILE",
	  N_("with --wait: 'SERIAL PIN' lines (mode 0600)") },
	{ NULL, 0, 0, 0, NULL, NULL },
};

static void defaults(void *values)
{
	((renew_opts *)values)->login.pin.fd = -1;
}

/* --wait renews Ekeys as they come: main loads only the module. */
static int check(gm_cli *cli, int argc, char **argv, gm_error *err)
{
	renew_opts *o = cli->opts;

	(void)argc;
	(void)argv;
	if (!o->wait)
		return 0;
	if (o->cert || o->force || o->login.pin.fd >= 0)
		return gm_fail(err, GM_EXIT_USAGE, "each Ekey is renewed when "
			       "due", "--wait takes no --cert, --force or "
			       "--pin-fd");
	if (o->batch.pin_map && gm_pin_map_check(o->batch.pin_map, err))
		return -1;
	if (o->batch.count < 0 || o->batch.timeout < 0)
		return gm_fail(err, GM_EXIT_USAGE, NULL, "--count and "
			       "--timeout take a number of 0 or more");
	cli->setup_flags = GM_CMD_MODULE;
	return 0;
}

const gm_command_options cmd_renew_options = {
	options, sizeof(renew_opts), defaults, check
};

/* --wait: the batch (cmd_renew_wait.c). */
static int renew_wait(gm_cli *cli, renew_opts *o)
{
	o->batch.pin_file = o->login.pin.file;
	o->batch.dry_run = o->dry_run;
	o->batch.keep_old = o->keep_old;
	o->batch.allow_final_try = o->login.allow_final_try;
	return cmd_renew_wait(cli, &o->batch);
}

/* At a terminal: the PIN after the choice, then the private keys added to
 * the snapshot read before it (the certificates are not read again: the
 * lock has been held since), and the chosen certificate checked again with
 * its key now seen. */
static int login_and_complete(gm_cli *cli, const renew_opts *o,
			      gm_cert_list *l, const gm_cert_view *chosen,
			      gm_error *err)
{
	if (gm_cli_login(cli, &o->login, err) ||
	    gm_token_snapshot_complete(cli->session, &l->snap, err))
		return -1;
	return apply_policy(cli, o, chosen, err);
}

int cmd_renew(gm_cli *cli, int argc, char **argv)
{
	const gm_cert_view *chosen;
	gm_renew_session rs;
	gm_cert_list list;
	renew_opts o = *(renew_opts *)cli->opts;
	gm_error err;
	int r, scripted;

	(void)argc;
	(void)argv;
	if (o.wait)
		return renew_wait(cli, &o);
	memset(&rs, 0, sizeof(rs));
	memset(&list, 0, sizeof(list));
	/* The lock is taken before the token is read, so that what is read
	 * stays true until the end (another gmrenew may have just renewed).
	 * With a PIN from a file, a descriptor or the environment the login
	 * comes first, so that the token is read once, its private keys seen,
	 * and the renewal works on that snapshot; at a terminal the user
	 * chooses and confirms before typing the PIN, and once logged in the
	 * private keys are added to the same snapshot. */
	scripted = gm_pin_source_scripted(&o.login.pin);
	if (gm_renew_session_open(cli, &rs, &err) ||
	    gm_renew_session_lock(&rs, &err) ||
	    (scripted && gm_cli_login(cli, &o.login, &err)) ||
	    gm_cert_list_load(cli, &list, &err) ||
	    choose(cli, &o, &list, &chosen, &err) ||
	    apply_policy(cli, &o, chosen, &err) ||
	    confirm_start(cli, &o, chosen, &err) ||
	    (!scripted && login_and_complete(cli, &o, &list, chosen, &err))) {
		r = gm_cli_report_error(cli, &err);
		goto out;
	}
	gm_outcome_old_cert(chosen);
	rs.ctx.keep_old = o.keep_old;
	rs.ctx.dry_run = o.dry_run;
	gm_renew_signals(1);
	r = gm_renew(&rs.ctx, &list.snap, chosen->index - 1, &rs.result, &err);
	gm_cert_list_sync(&list);
	gm_renew_signals(0);
	if (r)
		r = gm_renew_report_failure(&rs, &err);
	else
		r = print_result(&rs, chosen, &o);
out:
	gm_renew_session_close(&rs);
	gm_cert_list_release(&list);
	return r;
}
