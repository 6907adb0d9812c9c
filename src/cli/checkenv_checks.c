/*
 * checkenv_checks.c - the checks of `gmrenew check-env`, the CA's four-item
 * environment check made for a terminal: configuration, driver, USB device
 * and permission, exactly one token, PIN not locked, a certificate the CA
 * will renew, the service over verified TLS, and the clock. Every check
 * runs (one that needs a failed one is skipped, saying which); nothing asks
 * for a PIN and nothing changes the token or the service.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkenv_internal.h"
#include "gmrenew/version.h"

#define DEFAULT_PROFILE "epass3000gm"
#define UDEV_RULE_PATH GMRENEW_UDEV_RULES_DIR "/" GMRENEW_UDEV_RULE
#define FIX_ONE_EKEY \
	N_("remove all but one — the CA's rule: one Ekey at a time")
#define FIX_INSERT N_("insert the Ekey")
#define FIX_PIN_LOCKED \
	N_("do not try more PINs: unlock the user PIN with the SO PIN " \
	   "(FEITIAN's token manager), or ask the CA to reset the Ekey")
#define FIX_CONFIG_INIT \
	N_("write one with 'gmrenew config init --url URL --ca-bundle FILE " \
	   "--chain-bundle FILE' (the CA gives the three); 'man gmrenew' " \
	   "(CONFIGURATION) describes every key")

/* How this user gets access to the Ekey: the udev rule gmrenew installs,
 * or, when it is not there (a build not installed), how to write it. */
static const char *fix_udev(void)
{
	static char buf[GM_ERR_FIX_MAX];

	if (access(UDEV_RULE_PATH, R_OK) == 0)
		snprintf(buf, sizeof(buf), _("the udev rule '%s' is installed: "
			 "run 'sudo udevadm control --reload && sudo udevadm "
			 "trigger', re-insert the Ekey, and log in at the "
			 "machine's own screen (or join the group plugdev)"),
			 UDEV_RULE_PATH);
	else
		snprintf(buf, sizeof(buf), _("install the udev rule: 'gmrenew "
			 "--udev-rules | sudo tee /etc/udev/rules.d/%s', then "
			 "run 'sudo udevadm control --reload && sudo udevadm "
			 "trigger' and re-insert the Ekey"), GMRENEW_UDEV_RULE);
	return buf;
}

static int usable(const ce_run *r, int id)
{
	return r->checks[id].status == CE_PASS ||
	       r->checks[id].status == CE_WARN;
}

/* Records a problem: the worst one is the summary and the fix, the others
 * become lines of the detail. */
static void problem(ce_check *c, ce_status s, const char *fix,
		    const char *msg)
{
	if (!c->summary || s > c->status) {
		if (c->summary)
			ce_detail(c, "%s", c->summary);
		free(c->summary);
		free(c->fix);
		c->summary = gm_xstrdup(msg);
		c->fix = fix && *fix ? gm_xstrdup(fix) : NULL;
		c->status = s;
		return;
	}
	ce_detail(c, "%s", msg);
	if (fix && *fix && (!c->fix || !strstr(c->fix, fix))) {
		char *both = c->fix ? gm_xasprintf("%s; %s", c->fix, fix) :
			gm_xstrdup(fix);

		free(c->fix);
		c->fix = both;
	}
}

static void problem_err(ce_check *c, ce_status s, const gm_error *err)
{
	problem(c, s, err->fix, err->msg);
}

/* ---- config ---------------------------------------------------------- */

static void load_profile(ce_run *r, ce_check *c)
{
	const char *name = r->cli->cfg.profile ? r->cli->cfg.profile :
		DEFAULT_PROFILE;
	gm_config plain;
	gm_error err;

	if (gm_profile_get(name, &r->cli->cfg, &r->profile, &err) == 0)
		return;
	problem_err(c, CE_FAIL, &err);
	gm_config_init(&plain);
	(void)gm_profile_get(DEFAULT_PROFILE, &plain, &r->profile, NULL);
	gm_config_release(&plain);
}

/* A bundle of PEM certificates: how many; the first one's DER kept as the
 * probe when want_probe. */
static int load_bundle(ce_run *r, const char *path, int want_probe,
		       gm_error *err)
{
	STACK_OF(X509) *sk = NULL;
	int n, len;

	if (gm_certs_load_file(path, &sk, err) < 0)
		return -1;
	n = sk_X509_num(sk);
	if (n > 0 && want_probe && !r->probe_der) {
		unsigned char *p;

		len = i2d_X509(sk_X509_value(sk, 0), NULL);
		if (len > 0) {
			r->probe_der = gm_xmalloc((size_t)len);
			p = r->probe_der;
			i2d_X509(sk_X509_value(sk, 0), &p);
			r->probe_len = (size_t)len;
		}
	}
	sk_X509_pop_free(sk, X509_free);
	return n;
}

static void check_service_settings(ce_run *r, ce_check *c)
{
	const gm_config *cfg = &r->cli->cfg;
	gm_service_options o;
	gm_error err;
	int n;

	if (!cfg->service_url || !cfg->ca_bundle) {
		const char *what = !cfg->service_url && !cfg->ca_bundle ?
			_("[service] url and ca_bundle are") : !cfg->service_url ?
			_("[service] url is") : _("[service] ca_bundle is");
		char *msg = r->config_file_read ?
			gm_xasprintf(_("%s not set in '%s'"), what, cfg->path) :
			gm_xasprintf(_("no configuration file: %s not set"),
				     what);

		problem(c, r->config_file_read ? CE_FAIL : CE_WARN,
			r->config_file_read ?
			_("set [service] url (https://...) and ca_bundle (the "
			  "PEM file of the CA that issued the service's TLS "
			  "certificate) in the configuration file; 'gmrenew "
			  "config show' shows what is read from where") :
			_(FIX_CONFIG_INIT), msg);
		free(msg);
		return;
	}
	n = load_bundle(r, cfg->ca_bundle, 1, &err);
	if (n < 0) {
		problem(c, CE_FAIL, _("set [service] ca_bundle to a readable PEM "
			"file of CA certificates"), err.msg);
		return;
	}
	ce_detail(c, ngettext("CA bundle '%s' (%d certificate)",
			      "CA bundle '%s' (%d certificates)", (unsigned long)n),
		  cfg->ca_bundle, n);
	gm_service_options_defaults(&o);
	gm_service_options_from_config(&o, cfg);
	o.max_retries = 0;	/* a diagnosis: say what the first try met */
	if (gm_service_open(&o, &r->service, &err) < 0) {
		problem_err(c, CE_FAIL, &err);
		return;
	}
	r->have_service = 1;
}

static void no_config_detail(ce_check *c)
{
	char *sys = gm_config_system_path(), *user = gm_config_user_path();

	ce_detail(c, _("no configuration file at '%s' or '%s': defaults are "
		       "used"), sys, user);
	free(sys);
	free(user);
}

static void check_config(ce_run *r)
{
	ce_check *c = &r->checks[CE_CONFIG];
	const gm_config *cfg = &r->cli->cfg;
	int failed, n;
	gm_error err;

	failed = gm_config_load_all(&r->cli->cfg, r->cli->config_opt, &err);
	if (failed)
		problem_err(c, CE_FAIL, &err);
	r->config_file_read = cfg->n_files > 0;
	for (n = 0; n < (int)cfg->n_files; n++)
		ce_detail(c, _("read '%s'"), cfg->files[n]);
	if (!r->config_file_read && !failed)
		no_config_detail(c);
	load_profile(r, c);
	/* a file that does not parse is the one problem to report */
	if (!failed)
		check_service_settings(r, c);
	if (cfg->chain_bundle) {
		n = load_bundle(r, cfg->chain_bundle, 0, &err);
		if (n < 0)
			problem(c, CE_FAIL, _("set [service] chain_bundle to a "
				"PEM file of the CA's SM2 root certificate"),
				err.msg);
		else
			ce_detail(c, ngettext("chain bundle '%s' (%d "
					      "certificate)", "chain bundle '%s' "
					      "(%d certificates)",
					      (unsigned long)n),
				  cfg->chain_bundle, n);
	}
	ce_detail(c, _("token profile '%s'"), r->profile.name);
	if (!c->summary)
		ce_set(c, CE_PASS, NULL, _("'%s' is valid; service %s"),
		       cfg->path ? cfg->path : _("(defaults)"),
		       cfg->service_url);
}

/* ---- driver ---------------------------------------------------------- */

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Which interfaces the library offers, which one is used and why; opens
 * the library through it. */
static int driver_api(ce_run *r, ce_check *c, gm_api_choice *api)
{
	gm_error err;
	int ret = gm_cli_open_api(r->cli, r->module_path, api, &err);

	if (api->used != GM_API_AUTO) {
		ce_detail(c, _("the library offers %s"),
			  api->pkcs11 && api->skf == 1 ?
			  _("PKCS#11 and SKF (GM/T 0016)") :
			  api->pkcs11 ? "PKCS#11" : _("SKF (GM/T 0016)"));
		if (api->pkcs11 && api->skf < 0)
			ce_detail(c, _("SKF is incomplete: no %s"),
				  api->skf_missing);
		ce_detail(c, _("using %s: %s"), api->used == GM_API_SKF ?
			  "SKF" : "PKCS#11", api->why);
	}
	if (ret < 0)
		problem_err(c, CE_FAIL, &err);
	return ret;
}

/* SKF: what each device says about itself (DEVINFO). */
static void skf_devices(ce_run *r, ce_check *c)
{
	char **lines = NULL;
	size_t n = 0, i;
	gm_error err;

	if (gm_module_device_details(r->cli->module, &lines, &n, &err) < 0) {
		ce_detail(c, "%s", err.msg);
		return;
	}
	for (i = 0; i < n; i++) {
		ce_detail(c, "%s", lines[i]);
		free(lines[i]);
	}
	free(lines);
}

static void check_driver(ce_run *r)
{
	ce_check *c = &r->checks[CE_DRIVER];
	gm_cli *cli = r->cli;
	gm_api_choice api;
	gm_error err;

	r->module_path = gm_module_locate(cli->module_opt, &cli->cfg,
					  &r->profile, &err);
	if (!r->module_path) {
		problem_err(c, CE_FAIL, &err);
		return;
	}
	ce_detail(c, _("module '%s'"), r->module_path);
	if (driver_api(r, c, &api) < 0)
		return;
	if (gm_module_get_info(cli->module, &r->info, &err) < 0) {
		problem_err(c, CE_FAIL, &err);
		return;
	}
	r->have_info = 1;
	if (api.used == GM_API_SKF) {
		skf_devices(r, c);
		ce_set(c, CE_PASS, NULL, _("SKF (GM/T 0016) library %s"),
		       base_name(r->module_path));
		return;
	}
	ce_detail(c, _("PKCS#11 %u.%u, library version %u.%u"),
		  r->info.cryptoki_major, r->info.cryptoki_minor,
		  r->info.library_major, r->info.library_minor);
	/* "FEITIAN ... libes_3000gm.so 1.0", the maker said once */
	ce_set(c, CE_PASS, NULL, "%s%s%s %s %u.%u",
	       strstr(r->info.description, r->info.manufacturer) ? "" :
	       r->info.manufacturer,
	       strstr(r->info.description, r->info.manufacturer) ? "" : " ",
	       r->info.description, base_name(r->module_path),
	       r->info.library_major, r->info.library_minor);
}

/* ---- usb ------------------------------------------------------------- */

static int have_usb_bus(void)
{
	struct stat st;

	return stat("/dev/bus/usb", &st) == 0 && S_ISDIR(st.st_mode);
}

static void usb_found(ce_run *r, ce_check *c, const gm_usb_device *d,
		      size_t n)
{
	size_t i, closed = 0;
	int denied;

	for (i = 0; i < n; i++) {
		ce_detail(c, "%s %04x:%04x: %s", d[i].node, d[i].vendor,
			  d[i].product, d[i].can_open ? _("this user may open it") :
			  d[i].problem);
		closed += !d[i].can_open;
	}
	if (n >= 2) {
		char *msg = gm_xasprintf(_("%zu Ekeys (%04x:%04x) are on the "
					 "USB bus"), n, r->profile.usb_vendor,
					 r->profile.usb_product);

		problem(c, CE_FAIL, _(FIX_ONE_EKEY), msg);
		free(msg);
		if (closed)
			problem(c, CE_FAIL, fix_udev(), _("this user may not open "
				"some of them"));
		return;
	}
	if (d[0].can_open) {
		ce_set(c, CE_PASS, NULL, _("one Ekey at %s; this user may open it"),
		       d[0].node);
		return;
	}
	denied = d[0].denied;
	if (!denied) {
		char *fix = gm_xasprintf(_("re-insert the Ekey; if that does "
					   "not help, %s"), fix_udev());

		ce_set(c, CE_FAIL, fix, _("the Ekey at %s cannot be opened by "
		       "this user (uid %lu): %s"), d[0].node,
		       (unsigned long)getuid(), d[0].problem);
		free(fix);
		return;
	}
	ce_set(c, CE_FAIL, fix_udev(),
	       _("the Ekey at %s cannot be opened by this user (uid %lu): %s"),
	       d[0].node, (unsigned long)getuid(), d[0].problem);
}

static void check_usb(ce_run *r)
{
	ce_check *c = &r->checks[CE_USB];
	unsigned vendor = r->profile.usb_vendor, product = r->profile.usb_product;
	int token_seen = r->tokens_read && r->n_tokens > 0;
	gm_usb_device *devs = NULL;
	gm_error err;
	size_t n = 0;

	if (!vendor) {
		ce_set(c, CE_SKIP, NULL, _("skipped: token profile '%s' names no "
		       "USB device"), r->profile.name);
		return;
	}
	if (gm_usb_scan((uint16_t)vendor, (uint16_t)product, &devs, &n,
			&err) < 0) {
		problem_err(c, CE_FAIL, &err);
		return;
	}
	if (n > 0)
		usb_found(r, c, devs, n);
	else if (!have_usb_bus())
		ce_set(c, CE_WARN, _("attach the Ekey to a machine with a USB "
		       "port (or pass the USB device through to this "
		       "container or virtual machine)"),
		       _("no USB bus on this machine (/dev/bus/usb is absent); "
		       "a soft or network token may still work"));
	else if (token_seen)
		ce_set(c, CE_WARN, _("if the token should be an Ekey, insert it"),
		       _("no %04x:%04x device on the USB bus, but the module "
		       "sees a token (a soft or network token?)"), vendor,
		       product);
	else
		ce_set(c, CE_FAIL, _(FIX_INSERT), _("no Ekey (%04x:%04x) is on the "
		       "USB bus"), vendor, product);
	free(devs);
}

/* ---- single_token ---------------------------------------------------- */

static void read_tokens(ce_run *r, gm_error *err)
{
	if (!usable(r, CE_DRIVER))
		return;
	if (gm_module_tokens(r->cli->module, &r->tokens, &r->n_tokens,
			     err) == 0)
		r->tokens_read = 1;
}

static void check_single_token(ce_run *r, const gm_error *tokens_err)
{
	ce_check *c = &r->checks[CE_SINGLE_TOKEN];
	const gm_token_info *t = r->tokens;
	gm_error err;
	size_t i;

	if (!usable(r, CE_DRIVER)) {
		ce_skip(c, "driver", _("no PKCS#11 module to ask"));
		return;
	}
	if (!r->tokens_read) {
		problem_err(c, CE_FAIL, tokens_err);
		return;
	}
	for (i = 0; i < r->n_tokens; i++)
		ce_detail(c, _("slot %lu: label '%s', serial %s (%s %s)"),
			  (unsigned long)t[i].slot, t[i].label, t[i].serial,
			  t[i].manufacturer, t[i].model);
	if (r->n_tokens == 0) {
		ce_set(c, CE_FAIL, _(FIX_INSERT), _("no token is present in the "
		       "module's slots"));
		return;
	}
	if (r->n_tokens > 1) {
		ce_set(c, CE_FAIL, _(FIX_ONE_EKEY), _("%zu tokens are present"),
		       r->n_tokens);
		return;
	}
	if (gm_session_open(r->cli->module, &t[0], 0, &r->cli->session,
			    &err) < 0) {
		problem_err(c, CE_FAIL, &err);
		return;
	}
	gm_session_set_profile(r->cli->session, &r->profile);
	ce_set(c, CE_PASS, NULL, _("one token: label '%s', serial %s"),
	       t[0].label, t[0].serial);
}

/* ---- pin ------------------------------------------------------------- */

static void check_pin(ce_run *r)
{
	ce_check *c = &r->checks[CE_PIN];
	unsigned tries = r->profile.pin_max_tries;
	gm_pin_state ps;
	gm_error err;

	if (!usable(r, CE_SINGLE_TOKEN)) {
		ce_skip(c, "single_token", _("no single token to look at"));
		return;
	}
	if (gm_session_pin_state(r->cli->session, &ps, &err) < 0) {
		problem_err(c, CE_FAIL, &err);
		return;
	}
	if (ps.tries_left >= 0)
		ce_detail(c, _("%d tries left, read from the token "
			       "(SKF_GetPINInfo); no PIN was asked"),
			  ps.tries_left);
	else
		ce_detail(c, _("read from the token's flags; no PIN was asked"));
	if (ps.pin_pad)
		ce_detail(c, _("the PIN is typed on the token's PIN pad"));
	if (ps.locked)
		ce_set(c, CE_FAIL, _(FIX_PIN_LOCKED), _("the user PIN is locked "
		       "(too many wrong PINs)"));
	else if (ps.final_try)
		ce_set(c, CE_WARN, _("be sure of the PIN before renewing; ask "
		       "the CA rather than guess"), _("one PIN try is left: the "
		       "next wrong PIN locks the Ekey"));
	else if (ps.count_low)
		ce_set(c, CE_WARN, _("type the PIN carefully: wrong PINs in a "
		       "row lock the Ekey"), _("a wrong PIN was entered since the "
		       "last correct one: fewer tries are left"));
	else if (tries)
		ce_set(c, CE_PASS, NULL, _("not locked; %u wrong PINs in a row "
		       "would lock it"), tries);
	else
		ce_set(c, CE_PASS, NULL, _("not locked"));
}

/* ---- service ----------------------------------------------------------- */

static int read_certs(ce_run *r, gm_error *err)
{
	if (!usable(r, CE_SINGLE_TOKEN))
		return 0;
	if (gm_cert_list_load(r->cli, &r->certs, err) < 0)
		return -1;
	r->certs_read = 1;
	return 0;
}

static void check_service(ce_run *r)
{
	ce_check *c = &r->checks[CE_SERVICE];
	const unsigned char **ders;
	const char *proto, *suite;
	gm_ca_record *recs = NULL;
	size_t *lens, i, n = 0;
	gm_error err;

	if (!r->have_service || !r->probe_der) {
		ce_skip(c, "config", _("no usable service URL and CA bundle"));
		return;
	}
	ders = gm_xcalloc(r->certs.n + 1, sizeof(*ders));
	lens = gm_xcalloc(r->certs.n + 1, sizeof(*lens));
	for (i = 0; r->certs_read && i < r->certs.n; i++)
		if (r->certs.views[i].obj->parsed) {
			ders[n] = r->certs.views[i].obj->der;
			lens[n++] = r->certs.views[i].obj->der_len;
		}
	if (n == 0 && r->probe_der) {
		/* nothing from the token: ask about the CA bundle's own
		 * certificate, which only shows that the service answers */
		ders[0] = r->probe_der;
		lens[0] = r->probe_len;
	}
	if (gm_service_lookup(r->service, ders, lens, n ? n : 1, &recs,
			      &err) < 0) {
		if (err.reason == GM_REASON_NETWORK ||
		    err.reason == GM_REASON_TIMEOUT)
			gm_error_set_fix(&err, "check [service] url and that "
					 "this machine reaches it (network, "
					 "proxy: https_proxy and no_proxy, "
					 "firewall); if it does, the service "
					 "is down: try again later");
		problem_err(c, CE_FAIL, &err);
		ce_detail(c, _("%s (lookup, one try)"), r->cli->cfg.service_url);
	} else {
		r->answered_at = time(NULL);
		if (n) {
			r->records = recs;
			r->n_records = n;
		} else {
			gm_ca_records_free(recs, 1);
		}
		gm_service_tls_info(r->service, &proto, &suite);
		ce_set(c, CE_PASS, NULL, _("%s answered over verified %s in "
		       "%ld ms"), r->cli->cfg.service_url,
		       r->cli->cfg.service_tlcp ? "TLCP" : "TLS",
		       gm_service_last_ms(r->service));
		ce_detail(c, ngettext("looked up %zu certificate; %s verified "
				      "against '%s'", "looked up %zu "
				      "certificates; %s verified against '%s'",
				      n ? n : 1), n ? n : 1,
			  r->cli->cfg.service_tlcp ? "TLCP" : "TLS",
			  r->cli->cfg.ca_bundle);
		ce_detail(c, _("protocol %s, cipher suite %s"),
			  *proto ? proto : "?", *suite ? suite : "?");
	}
	free(ders);
	free(lens);
}

/* ---- matching_cert ----------------------------------------------------- */

/* How good a certificate's standing is: online renewal is best. */
enum standing { ST_ONLINE, ST_NOT_DUE, ST_PARTNER, ST_REFUSED,
		ST_UNREADABLE };

static const gm_ca_record *record_for(const ce_run *r, size_t view)
{
	size_t k, j = 0;

	if (!r->certs.views[view].obj->parsed)
		return NULL;
	for (k = 0; k < view; k++)
		j += r->certs.views[k].obj->parsed;
	return j < r->n_records ? &r->records[j] : NULL;
}

static void day_text(time_t t, char *buf, size_t n)
{
	struct tm tm;

	if (!t || !gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%d", &tm))
		snprintf(buf, n, "?");
}

/* What the CA says of a refused certificate, and what to do; NULL (and the
 * generic fix) for a reason without words of its own. */
static const char *refusal(gm_reason why, const char **fix)
{
	static const struct {
		gm_reason why;
		const char *text, *fix;
	} known[] = {
		{ GM_REASON_UNKNOWN, N_("unknown to the CA"), N_("check that this is "
		  "the right Ekey: the CA knows only the certificates it "
		  "issued") },
		{ GM_REASON_OFFLINE_ONLY, N_("offline renewal only (past the "
		  "CA's online renewal window)"), gm_advice_offline },
		{ GM_REASON_REVOKED, N_("revoked by the CA"), N_("a revoked certificate "
		  "cannot be renewed: apply to the CA for a new one") },
		{ GM_REASON_SUPERSEDED, N_("superseded (already renewed)"), N_("check "
		  "that this is the Ekey holding the new certificate ('gmrenew "
		  "list-certs --online')") },
	};
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (why == known[i].why) {
			*fix = _(known[i].fix);
			return _(known[i].text);
		}
	*fix = "ask the CA why it refuses online renewal";
	return NULL;
}

/* What can be said of certificate i: its standing, a sentence (caller
 * frees) and, when it cannot be renewed now, the fix. */
static enum standing judge_cert(const ce_run *r, size_t i, char **what,
				const char **fix)
{
	const gm_cert_view *v = &r->certs.views[i];
	const gm_ca_record *rec = record_for(r, i);
	const char *reason, *text;
	gm_reason why;
	char day[16];
	int generic;

	*fix = NULL;
	if (!v->obj->parsed) {
		*what = gm_xasprintf(_("certificate #%zu cannot be read: %s"),
				     v->index, gm_cert_view_problem(v));
		*fix = _("check that this is the right Ekey");
		return ST_UNREADABLE;
	}
	if (v->obj->role == GM_ROLE_ENCRYPTION) {
		/* renewed with its signing certificate, never alone */
		*what = v->obj->partner >= 0 ?
			gm_xasprintf(_("%s (serial %s), %ld days left: the "
				       "encryption certificate (加密证书) of "
				       "#%ld, renewed together with it"),
				     v->obj->facts.subject,
				     v->obj->facts.serial_hex,
				     v->verdict.days_left, v->obj->partner + 1) :
			gm_xasprintf(_("%s (serial %s), %ld days left: an "
				       "encryption certificate (加密证书) "
				       "without its signing certificate on the "
				       "token"), v->obj->facts.subject,
				     v->obj->facts.serial_hex,
				     v->verdict.days_left);
		*fix = _("insert the Ekey that holds the signing certificate "
			 "(签名证书) of this pair");
		return ST_PARTNER;
	}
	if (rec && rec->online) {
		*what = gm_xasprintf(_("%s (serial %s), %ld days left: the CA "
				       "renews it online now"), v->obj->facts.subject,
				     v->obj->facts.serial_hex, v->verdict.days_left);
		return ST_ONLINE;
	}
	reason = rec && rec->found ? (rec->reason ? rec->reason : "") :
		"unknown";
	why = rec && rec->found ? rec->why : GM_REASON_UNKNOWN;
	if (why == GM_REASON_NOT_DUE) {
		day_text(rec->window_start, day, sizeof(day));
		*what = gm_xasprintf(_("%s (serial %s) is not yet due: %ld "
				       "days left; online renewal opens %s (in "
				       "%ld days)"), v->obj->facts.subject,
				     v->obj->facts.serial_hex, v->verdict.days_left,
				     day, rec->window_start ?
				     (long)((rec->window_start - r->cli->now) /
					    86400) : 0L);
		*fix = _("nothing to do yet: renew once the online window "
			 "opens");
		return ST_NOT_DUE;
	}
	text = refusal(why, fix);
	generic = *reason && !text;
	if (!text)
		text = _("not renewable online");
	*what = gm_xasprintf(_("%s (serial %s), %ld days left: %s%s%s"),
			     v->obj->facts.subject, v->obj->facts.serial_hex,
			     v->verdict.days_left, text, generic ? ": " : "",
			     generic ? reason : "");
	return ST_REFUSED;
}

/* A signing certificate with its encryption partner (double
 * certificates): the two are renewed together. */
static void note_pair(ce_check *c, const ce_run *r, size_t i)
{
	const gm_snapshot_cert *o = r->certs.views[i].obj;

	if (o->role == GM_ROLE_SIGNING && o->partner >= 0)
		ce_detail(c, _("#%zu is a double certificate: signing "
			  "(签名证书) with encryption (加密证书) #%ld, renewed "
			  "together (through SKF)"), r->certs.views[i].index,
			  o->partner + 1);
}

static void note_open_order(ce_check *c, const ce_run *r, size_t i)
{
	const gm_ca_record *rec = record_for(r, i);

	if (rec && rec->open_code)
		ce_detail(c, _("#%zu has an unfinished renewal (%s): finish it "
			  "with 'gmrenew renew-with-code %s'"),
			  r->certs.views[i].index,
			  rec->open_state ? rec->open_state : "open",
			  rec->open_code);
}

/* Without the CA's records: what the token holds, from the local read. */
static const char *local_window(const gm_cert_view *v)
{
	switch (v->verdict.renewal) {
	case GM_RENEWAL_ONLINE:
		return _("the online renewal window is open");
	case GM_RENEWAL_OFFLINE_ONLY:
		return _("past the online renewal window: offline renewal only");
	case GM_RENEWAL_NOT_DUE:
		break;
	}
	return _("not yet due for renewal");
}

static void local_standing(ce_run *r, ce_check *c)
{
	const gm_cert_view *best = NULL;
	size_t i;

	for (i = 0; i < r->certs.n; i++) {
		const gm_cert_view *v = &r->certs.views[i];

		if (!v->obj->parsed) {
			ce_detail(c, _("#%zu cannot be read: %s"), v->index,
				  gm_cert_view_problem(v));
			continue;
		}
		ce_detail(c, _("#%zu %s (serial %s), %ld days left: %s"),
			  v->index, v->obj->facts.subject, v->obj->facts.serial_hex,
			  v->verdict.days_left, local_window(v));
		if (!best || v->verdict.renewal == GM_RENEWAL_ONLINE)
			best = v;
	}
	ce_detail(c, _("read from the token only: the CA's records could not "
		       "be asked"));
	if (!best) {
		ce_set(c, CE_FAIL, _("check that this is the right Ekey"),
		       _("no certificate on the token can be read"));
		return;
	}
	ce_set(c, CE_WARN, _("fix 'service' to compare with the CA's records"),
	       _("%s, %ld days left: %s (the CA's records could not be "
		 "asked)"), best->obj->facts.subject, best->verdict.days_left,
	       local_window(best));
}

static void check_matching_cert(ce_run *r, const gm_error *certs_err)
{
	ce_check *c = &r->checks[CE_MATCHING_CERT];
	enum standing best = ST_UNREADABLE;
	char *best_what = NULL;
	const char *best_fix = NULL;
	size_t i;

	if (!usable(r, CE_SINGLE_TOKEN)) {
		ce_skip(c, "single_token", _("no single token to look at"));
		return;
	}
	if (!r->certs_read) {
		problem_err(c, CE_FAIL, certs_err);
		return;
	}
	if (r->certs.n == 0) {
		ce_set(c, CE_FAIL, _("insert the Ekey that holds your "
		       "certificate (one Ekey at a time)"), _("the token holds "
		       "no certificate"));
		return;
	}
	if (!usable(r, CE_SERVICE)) {
		local_standing(r, c);
		return;
	}
	for (i = 0; i < r->certs.n; i++) {
		const char *fix;
		char *what;
		enum standing s = judge_cert(r, i, &what, &fix);

		if (r->certs.n > 1)
			ce_detail(c, "#%zu %s", r->certs.views[i].index, what);
		note_pair(c, r, i);
		note_open_order(c, r, i);
		if (!best_what || s < best) {
			free(best_what);
			best_what = what;
			best_fix = fix;
			best = s;
		} else {
			free(what);
		}
	}
	/* not yet due is the normal state of a certificate renewed lately */
	ce_set(c, best == ST_ONLINE || best == ST_NOT_DUE ? CE_PASS : CE_FAIL,
	       best_fix, "%s", best_what);
	free(best_what);
}

/* ---- clock ------------------------------------------------------------- */

/* [policy] clock_skew_seconds in words: "5 minutes", "90 seconds". */
static void span_text(long s, char *buf, size_t n)
{
	if (s >= 60 && s % 60 == 0)
		snprintf(buf, n, ngettext("%ld minute", "%ld minutes",
					  (unsigned long)(s / 60)), s / 60);
	else
		snprintf(buf, n, ngettext("%ld second", "%ld seconds",
					  (unsigned long)s), s);
}

/* The clock may be off by as much as the post-renewal check allows a new
 * certificate to start in the future ([policy] clock_skew_seconds). */
static void check_clock(ce_run *r)
{
	ce_check *c = &r->checks[CE_CLOCK];
	char span[48];
	time_t date;
	long off;
	int limit;

	if (!usable(r, CE_SERVICE)) {
		ce_skip(c, "service", _("no answer to take the time from"));
		return;
	}
	date = gm_service_server_date(r->service);
	if (!date) {
		ce_set(c, CE_WARN, _("check the clock by hand (e.g. "
		       "'timedatectl')"), _("the service's answer carried no "
		       "Date header: the clock cannot be compared"));
		return;
	}
	off = (long)(r->answered_at - date);
	limit = r->cli->cfg.clock_skew_seconds;
	span_text(limit, span, sizeof(span));
	ce_detail(c, _("offset %+ld s (local minus the service's Date header); "
		  "allowed: %d s either way"), off, limit);
	if (labs(off) <= limit)
		ce_set(c, CE_PASS, NULL, _("within %s of the service (offset "
		       "%+ld s)"), span, off);
	else
		ce_set(c, CE_FAIL, _("set the clock right: turn on time "
		       "synchronisation ('sudo timedatectl set-ntp true') or "
		       "set the date"), off > 0 ?
		       _("the local clock is %ld s ahead of the service's "
			 "(more than %s)") :
		       _("the local clock is %ld s behind the service's (more "
			 "than %s)"), labs(off), span);
}

/* ---- the run ------------------------------------------------------------ */

void ce_run_all(ce_run *r)
{
	gm_error tokens_err, certs_err;

	gm_error_clear(&tokens_err);
	gm_error_clear(&certs_err);
	check_config(r);
	check_driver(r);
	read_tokens(r, &tokens_err);
	check_usb(r);
	check_single_token(r, &tokens_err);
	check_pin(r);
	(void)read_certs(r, &certs_err);
	check_service(r);
	check_matching_cert(r, &certs_err);
	check_clock(r);
}
