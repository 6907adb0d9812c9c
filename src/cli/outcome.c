/*
 * outcome.c - the outcome of a run, the same for every command
 * (docs/schema/): what was done (the action), why it failed (a typed
 * reason), whether trying again later may help, the token and the
 * certificate. The end of a run turns it into the JSON fields of the
 * contract, a line in the event log (--syslog, --log-file), the hooks of
 * [hooks], the run record the metrics read, and the exit code
 * (--not-due-exit).
 */
#include <stdlib.h>
#include <string.h>

#include "gmrenew/renewal.h"
#include "fleet_internal.h"

static gm_outcome current;
static const gm_cli *current_cli;

static const char *const action_names[] = {
	[GM_ACTION_NONE] = NULL, [GM_ACTION_RENEWED] = "renewed",
	[GM_ACTION_RESUMED] = "resumed", [GM_ACTION_NOT_DUE] = "not_due",
	[GM_ACTION_OFFLINE_ONLY] = "offline_only",
	[GM_ACTION_FAILED] = "failed", [GM_ACTION_DRY_RUN] = "dry_run",
};

const char *gm_action_name(gm_action a)
{
	return (size_t)a < sizeof(action_names) / sizeof(action_names[0]) ?
	       action_names[a] : NULL;
}

gm_outcome *gm_outcome_current(void)
{
	return &current;
}

void gm_outcome_reset(void)
{
	free(current.old_der);
	free(current.new_der);
	memset(&current, 0, sizeof(current));
}

void gm_outcome_begin(const gm_cli *cli)
{
	gm_outcome_reset();
	current_cli = cli;
}

/* Whether the same run later, with nothing changed by hand, may succeed:
 * the service was unavailable, or the Ekey was out. Never a PIN. */
static int retryable(const gm_error *err)
{
	return err->code == GM_EXIT_SERVICE ||
	       err->reason == GM_REASON_TOKEN_REMOVED ||
	       err->reason == GM_REASON_NO_TOKEN;
}

void gm_outcome_error(const gm_error *err)
{
	int code = err->code ? (int)err->code : GM_EXIT_FAILED;

	current.exit_code = code;
	current.action = code == GM_EXIT_NOT_DUE ? GM_ACTION_NOT_DUE :
			 code == GM_EXIT_OFFLINE ? GM_ACTION_OFFLINE_ONLY :
			 GM_ACTION_FAILED;
	snprintf(current.reason, sizeof(current.reason), "%s",
		 gm_error_reason_name(err));
	current.retryable = retryable(err);
	snprintf(current.message, sizeof(current.message), "%s", err->msg);
}

void gm_outcome_token(const gm_token_info *t)
{
	snprintf(current.token_serial, sizeof(current.token_serial), "%s",
		 t->serial);
}

void gm_outcome_old_cert(const gm_cert_view *v)
{
	free(current.old_der);
	current.old_der = NULL;
	if (!v || !v->obj->der)
		return;
	current.old_der = (unsigned char *)gm_xmemdup(v->obj->der, v->obj->der_len);
	current.old_len = v->obj->der_len;
}

void gm_outcome_success(gm_action action, const char *code,
			const unsigned char *new_der, size_t new_len)
{
	current.action = action;
	current.exit_code = GM_EXIT_OK;
	current.reason[0] = '\0';
	current.retryable = 0;
	snprintf(current.update_code, sizeof(current.update_code), "%s",
		 code ? code : "");
	free(current.new_der);
	current.new_der = new_der ? (unsigned char *)gm_xmemdup(new_der, new_len) : NULL;
	current.new_len = new_der ? new_len : 0;
}

int gm_outcome_exit(const gm_cli *cli, int code)
{
	if (code == GM_EXIT_NOT_DUE && cli && cli->not_due_exit >= 0)
		return (int)cli->not_due_exit;
	return code;
}

/* {"serial", "sha256", "not_after"} of a DER certificate, or null. */
static cJSON *cert_json(const unsigned char *der, size_t len)
{
	gm_cert_facts f;
	cJSON *o;
	char at[32];

	if (!der || gm_cert_facts_parse(der, len, &f, NULL))
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	gm_json_add_str(o, "serial", f.serial_hex);
	gm_json_add_str(o, "sha256", f.sha256_hex);
	gm_json_add_str(o, "subject", f.subject);
	gm_json_add_str(o, "gateway", f.gateway);
	gm_time_rfc3339(f.not_after, at, sizeof(at));
	cJSON_AddStringToObject(o, "not_after", at);
	gm_cert_facts_release(&f);
	return o;
}

static void set_item(cJSON *o, const char *key, cJSON *value)
{
	if (cJSON_GetObjectItemCaseSensitive(o, key))
		cJSON_ReplaceItemInObjectCaseSensitive(o, key, value);
	else
		cJSON_AddItemToObject(o, key, value);
}

static void decorate_error(cJSON *e)
{
	set_item(e, "exit_code", cJSON_CreateNumber(
			 gm_outcome_exit(current_cli, current.exit_code)));
	set_item(e, "reason", cJSON_CreateString(current.reason));
	set_item(e, "retryable", cJSON_CreateBool(current.retryable));
}

void gm_outcome_json(cJSON *doc)
{
	cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
	const char *action = gm_action_name(current.action);

	set_item(doc, "schema_version", cJSON_CreateNumber(GM_SCHEMA_VERSION));
	if (cJSON_IsObject(e) && current.action)
		decorate_error(e);
	if (!action)
		return;
	set_item(doc, "action", cJSON_CreateString(action));
	set_item(doc, "token_serial", current.token_serial[0] ?
		 cJSON_CreateString(current.token_serial) : cJSON_CreateNull());
	set_item(doc, "certificate", current.new_der ?
		 cert_json(current.new_der, current.new_len) :
		 cert_json(current.old_der, current.old_len));
}

/* Commands whose runs count as renewal runs (metrics, hooks). */
static int renewal_command(const gm_cli *cli)
{
	return cli->command && !strncmp(cli->command->name, "renew", 5);
}

static void record_run(gm_cli *cli)
{
	char *dir;
	gm_error err;

	if (!current.token_serial[0])
		return;
	dir = gm_cli_state_dir(cli);
	if (gm_run_record_update(dir, current.token_serial, time(NULL),
				 current.action != GM_ACTION_FAILED &&
				 current.action != GM_ACTION_OFFLINE_ONLY, &err))
		gm_cli_warn("%s", err.msg);
	free(dir);
}

int gm_outcome_conclude(gm_cli *cli, int code)
{
	if (code != GM_EXIT_OK && !current.action && renewal_command(cli)) {
		/* an exit without a reported error (usage, --help) */
		current.exit_code = code;
	}
	if (current.action) {
		gm_eventlog_outcome(cli, &current);
		if (renewal_command(cli) && current.action != GM_ACTION_DRY_RUN) {
			gm_hooks_run(cli, &current);
			record_run(cli);
		}
	}
	return gm_outcome_exit(cli, code);
}

int gm_cli_finish(gm_cli *cli, int code)
{
	code = gm_outcome_conclude(cli, code);
	gm_outcome_reset();
	gm_eventlog_close();
	return code;
}

void gm_outcome_update_code(const char *code)
{
	snprintf(current.update_code, sizeof(current.update_code), "%s", code);
}

void gm_outcome_renew_ok(const gm_renew_session *rs)
{
	gm_action a = GM_ACTION_RENEWED;

	if (current.action)
		return;		/* already decided (an error was reported) */
	if (rs->ctx.dry_run)
		a = GM_ACTION_DRY_RUN;
	else if (!strcmp(rs->cli->command->name, "renew-with-code"))
		a = GM_ACTION_RESUMED;
	gm_outcome_success(a, rs->code, rs->result.new_der,
			   rs->result.new_der_len);
}
