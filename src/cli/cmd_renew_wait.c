/*
 * cmd_renew_wait.c - `gmrenew renew --wait`: renewing a pile of Ekeys one
 * after another. Waits for an Ekey to be inserted (the driver's slot list,
 * read every 0.3 s), renews its certificate when due, asks for it to be
 * removed, waits for the removal, and goes on until interrupted, --count N
 * keys are done or --timeout SECONDS pass without a change. Two Ekeys
 * inserted at once are refused (the CA's rule: one Ekey at a time) and the
 * batch waits. A failed key does not stop the batch. PINs: --pin-file for
 * every key, or --pin-map FILE ("SERIAL PIN" lines, mode 0600, owned by the
 * user), else the terminal.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fleet_internal.h"

#define POLL_MS 300	/* between looks at the driver without USB events */
#define WATCH_MS 1000	/* with them: the longest wait for one */
#define SETTLE_S 5	/* after an event: look often while the driver
			   catches up (FEITIAN's polls the bus every 0.5 s) */
#define MAP_MAX (64 * 1024)

static volatile sig_atomic_t stop_asked;

static void on_stop(int sig)
{
	(void)sig;
	stop_asked = 1;
}

typedef struct batch_row {
	char serial[17];
	char gateway[64];
	gm_action action;
	char reason[40];
	time_t new_not_after;	/* 0: none */
	char code[24];
} batch_row;

typedef struct batch {
	const gm_wait_options *o;
	batch_row *rows;
	size_t n;
	int exit_code;
	time_t deadline;	/* of the current wait; 0: none */
	gm_usb_watch *watch;	/* USB events; NULL: poll */
	time_t settle_until;	/* look often until then */
} batch;

/* ---- PINs ---- */

/* The PIN map's line for serial; caller frees with gm_free_secret. */
static int map_lookup(char *text, const char *serial, char **pin)
{
	char *line, *save = NULL;

	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *s = line + strspn(line, " \t"), *end;
		size_t len = strcspn(s, " \t");

		if (*s == '#' || !len || len != strlen(serial) ||
		    strncmp(s, serial, len))
			continue;
		s += len;
		s += strspn(s, " \t");
		end = s + strlen(s);
		while (end > s && (end[-1] == '\r' || end[-1] == ' ' ||
				   end[-1] == '\t'))
			end--;
		if (end == s)
			return -1;
		*pin = gm_xmemdup(s, (size_t)(end - s));
		return 0;
	}
	return -1;
}

int gm_pin_map_check(const char *path, gm_error *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return gm_fail(err, GM_EXIT_USAGE, "check the path",
			       "cannot open the PIN map '%s': %s", path,
			       strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077)) {
		close(fd);
		return gm_fail(err, GM_EXIT_USAGE,
			       "make it yours and private: chmod 600 FILE",
			       "the PIN map '%s' must be a file with mode 0600 "
			       "owned by you", path);
	}
	close(fd);
	return 0;
}

/* The PIN of serial from the map, as a pipe the login reads (so that the
 * PIN never goes to a file or the environment). */
static int map_pin_fd(const char *path, const char *serial, int *fd_out,
		      gm_error *err)
{
	unsigned char *text = NULL;
	size_t len = 0;
	char *pin = NULL;
	int p[2], r = -1;

	if (gm_pin_map_check(path, err) ||
	    gm_read_file(path, MAP_MAX, &text, &len, err))
		return -1;
	text = gm_xrealloc(text, len + 1);
	text[len] = '\0';
	if (map_lookup((char *)text, serial, &pin)) {
		gm_fail(err, GM_EXIT_PIN, "add a line 'SERIAL PIN' for it",
			"the PIN map '%s' has no PIN for Ekey %s", path, serial);
		goto out;
	}
	if (strlen(pin) + 1 > 4096 || pipe(p)) {
		gm_fail(err, GM_EXIT_FAILED, NULL, "cannot pass the PIN on");
		goto out;
	}
	fcntl(p[0], F_SETFD, FD_CLOEXEC);
	fcntl(p[1], F_SETFD, FD_CLOEXEC);
	if (write(p[1], pin, strlen(pin)) < 0 || write(p[1], "\n", 1) < 0)
		gm_debug("short write of the PIN pipe");
	close(p[1]);
	*fd_out = p[0];
	r = 0;
out:
	gm_free_secret(pin);
	gm_freezero(text, len + 1);
	return r;
}

/* ---- Waiting for the slot list to change ---- */

static void pause_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&t, NULL);
}

/* Initialised tokens present now; *serials gets them, ", "-separated. */
static size_t tokens_present(gm_cli *cli, char *serials, size_t size)
{
	gm_token_info *infos = NULL;
	size_t n = 0, i, k = 0, used = 0;
	gm_error err;

	serials[0] = '\0';
	if (gm_module_tokens(cli->module, &infos, &n, &err)) {
		gm_debug("listing the tokens: %s", err.msg);
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (!(infos[i].flags & GM_TOKEN_INITIALIZED))
			continue;
		snprintf(serials + used, size - used, "%s%s", k ? ", " : "",
			 infos[i].serial);
		used = strlen(serials);
		k++;
	}
	gm_token_infos_free(infos, n);
	return k;
}

/* Waits before the next look at the driver's slot list: for a USB event
 * when the bus gives them (then often for a while, as the driver catches
 * up), a short pause when it does not. */
static void tick(gm_cli *cli, batch *b)
{
	int arrived = 0, left = 0, settling = time(NULL) < b->settle_until;

	if (!b->watch) {
		pause_ms(POLL_MS);
		return;
	}
	if (!gm_usb_watch_wait(b->watch, settling ? POLL_MS : WATCH_MS,
			       &arrived, &left))
		return;
	if (arrived)
		gm_cli_note(cli, "an Ekey arrived on USB");
	if (left)
		gm_cli_note(cli, "an Ekey left USB");
	b->settle_until = time(NULL) + SETTLE_S;
}

static int timed_out(const batch *b)
{
	return b->deadline && time(NULL) >= b->deadline;
}

/* USB devices of the Ekey's profile, to say why the driver sees none. */
static size_t usb_ekeys(gm_cli *cli)
{
	gm_usb_device *devs = NULL;
	gm_profile p;
	size_t n = 0;
	gm_error err;

	if (gm_profile_get(cli->cfg.profile ? cli->cfg.profile : "epass3000gm",
			   &cli->cfg, &p, &err) || !p.usb_vendor ||
	    gm_usb_scan(p.usb_vendor, p.usb_product, &devs, &n, &err))
		return 0;
	free(devs);
	return n;
}

/* USB events for the Ekeys of the profile, or NULL (then polling). */
static gm_usb_watch *watch_ekeys(gm_cli *cli)
{
	gm_profile p;
	gm_error err;

	if (gm_profile_get(cli->cfg.profile ? cli->cfg.profile : "epass3000gm",
			   &cli->cfg, &p, &err) || !p.usb_vendor)
		return NULL;
	return gm_usb_watch_open(p.usb_vendor, p.usb_product);
}

/* Waits until exactly one Ekey is inserted: 0, or -1 when stopped or
 * timed out. */
static int wait_for_one(gm_cli *cli, batch *b)
{
	char serials[256], said[256] = "-";
	size_t n, usb;

	gm_cli_note(cli, "waiting for an Ekey: insert one (Ctrl-C ends the "
		    "batch)");
	usb = usb_ekeys(cli);
	if (usb)
		gm_cli_note(cli, "%zu Ekey(s) on USB, but the driver sees no "
			    "token yet", usb);
	while (!stop_asked && !timed_out(b)) {
		n = tokens_present(cli, serials, sizeof(serials));
		if (n == 1)
			return 0;
		if (n > 1 && strcmp(said, serials)) {
			gm_cli_note(cli, "%zu Ekeys are inserted (%s): the CA's "
				    "rule is one Ekey at a time; remove all but "
				    "one", n, serials);
			snprintf(said, sizeof(said), "%s", serials);
		}
		tick(cli, b);
	}
	return -1;
}

static int still_there(gm_cli *cli, const char *serial)
{
	char serials[256], *p;
	size_t len = strlen(serial);

	tokens_present(cli, serials, sizeof(serials));
	for (p = serials; (p = strstr(p, serial)); p += len)
		if ((p == serials || p[-1] == ' ') &&
		    (p[len] == '\0' || p[len] == ','))
			return 1;
	return 0;
}

/* 0 once the Ekey is out; -1 when stopped or timed out first (the batch
 * ends: the same Ekey must not be renewed twice). */
static int wait_for_removal(gm_cli *cli, batch *b, const char *serial)
{
	gm_cli_note(cli, "Ekey %s is done: remove it", serial);
	while (!stop_asked && !timed_out(b))
		if (still_there(cli, serial))
			tick(cli, b);
		else
			return 0;
	return -1;
}

/* ---- One key ---- */

static int renewable(const gm_cert_view *v)
{
	return v->obj->parsed && v->obj->key_state != GM_KEY_MISSING &&
	       v->obj->role == GM_ROLE_SIGNING &&
	       v->verdict.renewal == GM_RENEWAL_ONLINE;
}

static int choose(const gm_cli *cli, const gm_cert_list *l,
		  const gm_cert_view **out, gm_error *err)
{
	size_t i, n = 0, offline = 0;
	gm_policy p;

	for (i = 0; i < l->n; i++) {
		if (renewable(&l->views[i])) {
			*out = &l->views[i];
			n++;
		}
		offline += l->views[i].obj->parsed &&
			   l->views[i].obj->key_state != GM_KEY_MISSING &&
			   l->views[i].verdict.renewal == GM_RENEWAL_OFFLINE_ONLY;
	}
	if (n == 1)
		return 0;
	if (n > 1) {
		gm_fail(err, GM_EXIT_FAILED, "renew this Ekey on its own with "
			"'gmrenew renew --cert'", "%zu certificates on the Ekey "
			"can be renewed", n);
		return gm_error_set_reason(err, GM_REASON_SEVERAL_CERTIFICATES);
	}
	gm_cli_policy(cli, &p);
	if (offline)
		return gm_fail(err, GM_EXIT_OFFLINE, gm_advice_offline,
			       "the certificate expired more than %d days ago; "
			       "online renewal is no longer possible",
			       p.renew_after_days);
	return gm_fail(err, GM_EXIT_NOT_DUE, NULL,
		       "no certificate on the Ekey is due for renewal");
}

static int login(gm_cli *cli, const gm_wait_options *o, gm_error *err)
{
	gm_login_options lo = { { o->pin_file, -1 }, o->allow_final_try };
	int fd = -1, r;

	if (o->pin_map && map_pin_fd(o->pin_map, cli->token.serial, &fd, err))
		return -1;
	lo.pin.fd = fd;
	r = gm_cli_login(cli, &lo, err);
	if (fd >= 0)
		close(fd);
	return r;
}

/* The login failed: the certificate it was for still goes in the outcome
 * (read without the PIN). */
static void outcome_without_login(gm_cli *cli, gm_cert_list *list)
{
	const gm_cert_view *chosen = NULL;
	gm_error ignored;

	if (!gm_cert_list_load(cli, list, &ignored) &&
	    !choose(cli, list, &chosen, &ignored))
		gm_outcome_old_cert(chosen);
}

/* Selects the inserted Ekey, renews what is due; the outcome is filled. */
static void renew_one(gm_cli *cli, const gm_wait_options *o, gm_error *err,
		      int *failed)
{
	const gm_cert_view *chosen = NULL;
	gm_renew_session rs;
	gm_cert_list list;
	int r;

	memset(&rs, 0, sizeof(rs));
	memset(&list, 0, sizeof(list));
	cli->now = time(NULL);
	*failed = 1;
	/* logged in first: the token is read once, private keys seen */
	if (gm_cli_setup(cli, GM_CMD_TOKEN | GM_CMD_RW, err))
		goto out;
	if (login(cli, o, err)) {
		outcome_without_login(cli, &list);
		goto out;
	}
	if (gm_cert_list_load(cli, &list, err) ||
	    choose(cli, &list, &chosen, err))
		goto out;
	gm_outcome_old_cert(chosen);
	if (gm_renew_session_open(cli, &rs, err))
		goto out;
	rs.ctx.keep_old = o->keep_old;
	rs.ctx.dry_run = o->dry_run;
	r = gm_renew(&rs.ctx, &list.snap, chosen->index - 1, &rs.result, err);
	gm_cert_list_sync(&list);
	if (r) {
		if (rs.code[0])
			gm_outcome_update_code(rs.code);
		goto out;
	}
	gm_outcome_renew_ok(&rs);
	*failed = 0;
out:
	if (*failed)
		gm_outcome_error(err);	/* before the close records success */
	gm_renew_session_close(&rs);
	gm_cert_list_release(&list);
}

/* Worst first: what a script must look at before the others. */
static int severity(int code)
{
	static const int order[] = { GM_EXIT_PIN, GM_EXIT_VERIFY,
		GM_EXIT_FAILED, GM_EXIT_ENV, GM_EXIT_OFFLINE, GM_EXIT_SERVICE,
		GM_EXIT_USAGE };
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (order[i] == code)
			return (int)(sizeof(order) / sizeof(order[0]) - i);
	return 0;		/* 0 and 3 (not due) */
}

static void add_row(batch *b, const gm_outcome *oc)
{
	batch_row *r;
	gm_cert_facts f;

	b->rows = gm_xrealloc(b->rows, (b->n + 1) * sizeof(*b->rows));
	r = &b->rows[b->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->serial, sizeof(r->serial), "%s", oc->token_serial);
	r->action = oc->action;
	snprintf(r->reason, sizeof(r->reason), "%s", oc->reason);
	snprintf(r->code, sizeof(r->code), "%s", oc->update_code);
	if (oc->new_der && !gm_cert_facts_parse(oc->new_der, oc->new_len, &f,
						NULL)) {
		r->new_not_after = f.not_after;
		gm_cert_facts_release(&f);
	}
	if ((oc->new_der || oc->old_der) &&
	    !gm_cert_facts_parse(oc->new_der ? oc->new_der : oc->old_der,
				 oc->new_der ? oc->new_len : oc->old_len, &f,
				 NULL)) {
		snprintf(r->gateway, sizeof(r->gateway), "%s",
			 f.gateway ? f.gateway : "");
		gm_cert_facts_release(&f);
	}
}

static void print_line(cJSON *doc)
{
	gm_cli_write_json(stdout, doc, 1);	/* takes doc */
	fflush(stdout);
}

static void add_time_or_null(cJSON *o, const char *key, time_t t)
{
	char at[32];

	if (!t) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	gm_time_rfc3339(t, at, sizeof(at));
	cJSON_AddStringToObject(o, key, at);
}

static void key_json(const batch *b, const gm_outcome *oc,
		     const gm_error *err)
{
	const batch_row *r = &b->rows[b->n - 1];
	int ok = oc->action == GM_ACTION_RENEWED ||
		 oc->action == GM_ACTION_RESUMED ||
		 oc->action == GM_ACTION_DRY_RUN;
	cJSON *doc = cJSON_CreateObject();

	cJSON_AddBoolToObject(doc, "ok", ok);
	cJSON_AddNumberToObject(doc, "batch_index", (double)b->n);
	gm_json_add_str(doc, "update_code", r->code[0] ? r->code : NULL);
	add_time_or_null(doc, "new_not_after", r->new_not_after);
	if (!ok)
		cJSON_AddItemToObject(doc, "error", gm_cli_error_json(err));
	print_line(doc);
}

static void finish_key(gm_cli *cli, batch *b, const gm_error *err,
		       int failed)
{
	gm_outcome *oc = gm_outcome_current();
	int code;

	if (failed) {
		gm_fprintf(stderr, _("gmrenew: Ekey %s: %s\n"), oc->token_serial[0] ?
			oc->token_serial : "?", err->msg);
		if (err->fix[0])
			gm_fprintf(stderr, _("gmrenew: what to do: %s\n"), err->fix);
	}
	add_row(b, oc);
	if (cli->json)
		key_json(b, oc, err);
	code = failed ? oc->exit_code : GM_EXIT_OK;
	if (severity(code) > severity(b->exit_code))
		b->exit_code = code;
	gm_outcome_conclude(cli, code);
}

/* Closes the key's session; the module stays loaded. */
static void release_key(gm_cli *cli)
{
	gm_session_close(cli->session);
	cli->session = NULL;
	gm_token_info_release(&cli->token);
	gm_outcome_reset();
}

/* ---- The summary ---- */

static const char *row_result(const batch_row *r)
{
	return gm_action_name(r->action) ? gm_action_name(r->action) : "-";
}

static void summary_text(const batch *b)
{
	char when[48];
	size_t i;

	fputc('\n', stdout);
	gm_print_cell(stdout, _("Serial"), 16);
	fputc(' ', stdout);
	gm_print_cell(stdout, _("Gateway"), 10);
	fputc(' ', stdout);
	gm_print_cell(stdout, _("Result"), 14);
	fputc(' ', stdout);
	gm_print_cell(stdout, _("New expiry"), 24);
	gm_printf(" %s\n", _("Update code"));
	for (i = 0; i < b->n; i++) {
		const batch_row *r = &b->rows[i];

		if (r->new_not_after)
			gm_format_time(r->new_not_after, when, sizeof(when));
		else
			snprintf(when, sizeof(when), "-");
		gm_print_cell(stdout, r->serial[0] ? r->serial : "?", 16);
		fputc(' ', stdout);
		gm_print_cell(stdout, r->gateway[0] ? r->gateway : "-", 10);
		fputc(' ', stdout);
		gm_print_cell(stdout, row_result(r), 14);
		gm_printf(" %-24s %s\n", when, r->code[0] ? r->code : "-");
	}
	gm_printf(_("%zu Ekey(s): exit code %d\n"), b->n, b->exit_code);
}

static void summary_json(const gm_cli *cli, const batch *b)
{
	cJSON *doc = cJSON_CreateObject(), *arr;
	size_t i;

	cJSON_AddBoolToObject(doc, "ok", b->exit_code == GM_EXIT_OK);
	cJSON_AddNumberToObject(doc, "exit_code",
				gm_outcome_exit(cli, b->exit_code));
	arr = cJSON_AddArrayToObject(doc, "summary");
	for (i = 0; i < b->n; i++) {
		const batch_row *r = &b->rows[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "token_serial", r->serial);
		gm_json_add_str(o, "gateway", r->gateway[0] ? r->gateway : NULL);
		cJSON_AddStringToObject(o, "action", row_result(r));
		gm_json_add_str(o, "reason", r->reason[0] ? r->reason : NULL);
		add_time_or_null(o, "new_not_after", r->new_not_after);
		gm_json_add_str(o, "update_code", r->code[0] ? r->code : NULL);
		cJSON_AddItemToArray(arr, o);
	}
	print_line(doc);
}

static void set_deadline(batch *b)
{
	b->deadline = b->o->timeout > 0 ? time(NULL) + b->o->timeout : 0;
}

static int run_batch(gm_cli *cli, batch *b)
{
	char serial[17];
	gm_error err;
	int failed;

	while (!stop_asked && (!b->o->count || (long)b->n < b->o->count)) {
		set_deadline(b);
		if (wait_for_one(cli, b))
			break;
		gm_outcome_begin(cli);
		gm_error_clear(&err);
		renew_one(cli, b->o, &err, &failed);
		finish_key(cli, b, &err, failed);
		snprintf(serial, sizeof(serial), "%s", b->rows[b->n - 1].serial);
		release_key(cli);
		if (b->o->count && (long)b->n >= b->o->count)
			break;
		set_deadline(b);
		if (wait_for_removal(cli, b, serial))
			break;
	}
	if (!b->n) {
		gm_fail(&err, GM_EXIT_ENV, "insert an Ekey, or give a longer "
			"--timeout", "no Ekey was inserted");
		gm_error_set_reason(&err, GM_REASON_NO_TOKEN);
		return gm_cli_report_error(cli, &err);
	}
	if (cli->json)
		summary_json(cli, b);
	else
		summary_text(b);
	return b->exit_code;
}

int cmd_renew_wait(gm_cli *cli, const gm_wait_options *o)
{
	struct sigaction sa = { .sa_handler = on_stop }, old_int, old_term;
	batch b = { o, NULL, 0, GM_EXIT_OK, 0, NULL, 0 };
	int r;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	stop_asked = 0;
	b.watch = watch_ekeys(cli);
	gm_debug("waiting by %s", b.watch ? "USB events" : "polling");
	r = run_batch(cli, &b);
	gm_usb_watch_close(b.watch);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	free(b.rows);
	gm_outcome_reset();
	return r;
}
