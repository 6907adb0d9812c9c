/*
 * cmd_list_certs.c - `gmrenew list-certs`: the certificates on the token
 * with their validity and renewal window; with --online, merged with the
 * CA's records (gateway, organisation, system, status, whether online
 * renewal is allowed). Exit 0 when the list was read, whatever state the
 * certificates are in.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "gmrenew/cli.h"
#include "gmrenew/service.h"
#include "fleet_internal.h"

typedef struct online {
	gm_ca_record *rec;	/* one per certificate view, or NULL */
	size_t n;
} online;

static int fetch_records(gm_cli *cli, const gm_cert_list *list, online *on,
			 gm_error *err)
{
	const unsigned char **ders = gm_xcalloc(list->n, sizeof(*ders));
	size_t *lens = gm_xcalloc(list->n, sizeof(*lens)), i, n = 0;
	gm_service *svc = NULL;
	int r;

	for (i = 0; i < list->n; i++)
		if (list->views[i].obj->parsed) {
			ders[n] = list->views[i].obj->der;
			lens[n++] = list->views[i].obj->der_len;
		}
	r = gm_cli_service_open(cli, &svc, err);
	if (r == 0 && n)
		r = gm_service_lookup(svc, ders, lens, n, &on->rec, err);
	on->n = r == 0 ? n : 0;
	gm_service_close(svc);
	free(ders);
	free(lens);
	return r;
}

/* The record of view i (records come only for parsed certificates). */
static const gm_ca_record *record_of(const gm_cert_list *l, const online *on,
				     size_t i)
{
	size_t k, j = 0;

	if (!on || !on->rec || !l->views[i].obj->parsed)
		return NULL;
	for (k = 0; k < i; k++)
		j += l->views[k].obj->parsed;
	return j < on->n ? &on->rec[j] : NULL;
}

static cJSON *record_json(const gm_ca_record *r)
{
	static const char *const keys[] = {
		"status", "gateway", "organization", "system",
	};
	const char *const values[] = {
		r->status, r->gateway, r->organization, r->system,
	};
	cJSON *o = cJSON_CreateObject();

	cJSON_AddBoolToObject(o, "found", r->found);
	gm_json_add_strs(o, keys, values, sizeof(keys) / sizeof(keys[0]));
	cJSON_AddBoolToObject(o, "online_renewal", r->online);
	gm_json_add_str(o, "reason", r->reason);
	gm_json_add_str(o, "open_update_code", r->open_code);
	return o;
}

static int print_json(gm_cli *cli, const gm_cert_list *list,
		      const online *on)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON *arr;
	size_t i;

	cJSON_AddItemToObject(doc, "token", gm_token_json(&cli->token));
	arr = cJSON_AddArrayToObject(doc, "certificates");
	for (i = 0; i < list->n; i++) {
		cJSON *c = gm_cert_view_json(&list->views[i]);
		const gm_ca_record *r = record_of(list, on, i);

		if (on)
			cJSON_AddItemToObject(c, "ca", r ? record_json(r) :
					      cJSON_CreateNull());
		cJSON_AddItemToArray(arr, c);
	}
	gm_cli_print_json(doc);
	return GM_EXIT_OK;
}

/* The columns of the CA's records (the CA page's terms): index, gateway,
 * organisation, system, CA status, online renewal. */
static const gm_column columns[] = {
	{ 2, 1 }, { 8, 0 }, { 16, 0 }, { 8, 0 }, { 9, 0 }, { 0, 0 },
};
enum { N_COLUMNS = sizeof(columns) / sizeof(columns[0]) };

/* The CA's words for a certificate's status, in the user's language. */
static const char *ca_status(const char *status)
{
	if (!status)
		return "-";
	if (!strcmp(status, "valid"))
		return _("valid");
	if (!strcmp(status, "expired"))
		return _("expired");
	if (!strcmp(status, "revoked"))
		return _("revoked");
	return status;
}

static void print_record(size_t index, const gm_ca_record *r)
{
	char idx[24], renewal[64];
	const char *const cells[N_COLUMNS] = {
		idx, r->gateway, r->organization, r->system,
		r->found ? ca_status(r->status) : _("unknown"), renewal,
	};

	snprintf(idx, sizeof(idx), "%zu", index);
	if (r->online)
		snprintf(renewal, sizeof(renewal), "%s", _("allowed"));
	else
		snprintf(renewal, sizeof(renewal), _("no (%s)"),
			 r->reason ? r->reason : "-");
	gm_print_row(stdout, columns, N_COLUMNS, cells);
	if (r->open_code)
		gm_printf(_("   an unfinished renewal (%s) can be finished with "
			    "'gmrenew renew-with-code %s'\n"), r->open_state ?
			  r->open_state : _("open"), r->open_code);
}

static void print_records(const gm_cert_list *list, const online *on)
{
	const char *const titles[N_COLUMNS] = {
		"#", _("Gateway"), _("Organisation"), _("System"),
		_("CA status"), _("Online renewal"),
	};
	size_t i;

	gm_printf("\n%s\n", _("The CA's records:"));
	gm_print_titles(stdout, columns, N_COLUMNS, titles);
	for (i = 0; i < list->n; i++) {
		const gm_ca_record *r = record_of(list, on, i);

		if (r)
			print_record(list->views[i].index, r);
	}
}

typedef struct list_opts {
	int online;
	const char *metrics;
	gm_login_options login;
} list_opts;

static const gm_option options[] = {
	{ "online", 0, GM_OPT_BOOL, offsetof(list_opts, online), NULL,
	  N_("also show the CA's records (asks the renewal service)") },
	{ "metrics", 0, GM_OPT_STRING, offsetof(list_opts, metrics), "FILE",
	  N_("also write Prometheus metrics to FILE (node_exporter "
	     "textfile)") },
	{ "pin-file", 0, GM_OPT_STRING, offsetof(list_opts, login.pin.file),
	  "FILE", N_("log in with the PIN from FILE, to see the private "
		     "keys") },
	{ "pin-fd", 0, GM_OPT_INT, offsetof(list_opts, login.pin.fd), "N",
	  N_("log in with the PIN from file descriptor N") },
	{ NULL, 0, 0, 0, NULL, NULL },
};

static void defaults(void *values)
{
	((list_opts *)values)->login.pin.fd = -1;
}

const gm_command_options cmd_list_certs_options = {
	options, sizeof(list_opts), defaults, NULL
};

int cmd_list_certs(gm_cli *cli, int argc, char **argv)
{
	const list_opts *o = cli->opts;
	const int online_opt = o->online;
	const char *metrics = o->metrics;
	const gm_login_options login = o->login;
	online on = { NULL, 0 };
	gm_cert_list list;
	gm_error err;
	int r;

	(void)argc;
	(void)argv;
	if ((gm_pin_source_scripted(&login.pin) &&
	     gm_cli_login(cli, &login, &err)) ||
	    gm_cert_list_load(cli, &list, &err))
		return gm_cli_report_error(cli, &err);
	if (metrics && gm_metrics_write(cli, &list, metrics, &err)) {
		gm_cert_list_release(&list);
		return gm_cli_report_error(cli, &err);
	}
	if (online_opt && fetch_records(cli, &list, &on, &err)) {
		gm_cert_list_release(&list);
		return gm_cli_report_error(cli, &err);
	}
	if (cli->json) {
		r = print_json(cli, &list, online_opt ? &on : NULL);
	} else {
		gm_cert_list_print(cli, &list, stdout);
		if (online_opt)
			print_records(&list, &on);
		r = GM_EXIT_OK;
	}
	gm_ca_records_free(on.rec, on.n);
	gm_cert_list_release(&list);
	return r;
}
