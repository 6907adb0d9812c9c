/*
 * certview.c - the certificates on the token as the CA's renewal page shows
 * them (index, subject, gateway number, organisation, validity, system,
 * status) plus days left and the renewal decision: as a table that fits 80
 * columns, and as JSON (docs/cli.md describes both).
 */
#include <stdlib.h>
#include <string.h>

#include "gmrenew/cli.h"

void gm_cli_policy(const gm_cli *cli, gm_policy *out)
{
	gm_policy_from_config(&cli->cfg, out);
}

void gm_format_time(time_t t, char *buf, size_t n)
{
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%d %H:%M:%S %Z", &tm);
}

int gm_cert_list_load(gm_cli *cli, gm_cert_list *out, gm_error *err)
{
	gm_policy pol;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (gm_token_snapshot_read(cli->session, &out->snap, err))
		return -1;
	gm_cli_policy(cli, &pol);
	out->n = out->snap.n_certs;
	out->views = gm_xcalloc(out->n ? out->n : 1, sizeof(*out->views));
	for (i = 0; i < out->n; i++) {
		gm_cert_view *v = &out->views[i];

		v->index = i + 1;
		v->obj = &out->snap.certs[i];
		if (v->obj->parsed)
			gm_policy_classify(&pol, v->obj->facts.not_before,
					   v->obj->facts.not_after, cli->now,
					   &v->verdict);
	}
	return 0;
}

void gm_cert_list_release(gm_cert_list *list)
{
	if (!list)
		return;
	free(list->views);
	gm_token_snapshot_release(&list->snap);
	memset(list, 0, sizeof(*list));
}

void gm_cert_list_sync(gm_cert_list *list)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		list->views[i].obj = &list->snap.certs[i];
}

const char *gm_cert_view_problem(const gm_cert_view *v)
{
	if (v->obj->problem[0])
		return v->obj->problem;
	return _("the certificate object's value cannot be read");
}

/* Short words for the table (JSON has the full names). */
static const char *status_label(gm_cert_status s)
{
	static const char *const names[] = { N_("not yet"), N_("valid"),
					     N_("expiring"), N_("expired") };

	return (size_t)s < sizeof(names) / sizeof(names[0]) ? _(names[s]) :
		"?";
}

static const char *renewal_label(gm_renewal_kind r)
{
	static const char *const names[] = { N_("not due"), N_("online"),
					     N_("offline") };

	return (size_t)r < sizeof(names) / sizeof(names[0]) ? _(names[r]) :
		"?";
}

/*
 * The columns: the CA page's (index, gateway, organisation, system, valid
 * from, valid to, status) plus days left and renewal. With the separators a
 * row takes 79 columns; the subject follows on its own line (the only line
 * that may be longer), then a line about the key.
 */
enum { W_IDX = 2, W_LINE = 79 };

static const gm_column columns[] = {
	{ W_IDX, 1 }, { 8, 0 }, { 12, 0 }, { 8, 0 }, { 10, 0 }, { 10, 0 },
	{ 6, 1 }, { 8, 0 }, { 0, 0 },
};
enum { N_COLUMNS = sizeof(columns) / sizeof(columns[0]) };

static void print_header(FILE *f)
{
	const char *const titles[N_COLUMNS] = {
		"#", _("Gateway"), _("Organisation"), _("System"),
		_("Valid from"), _("Valid to"), _("Days"), _("Status"),
		_("Renewal"),
	};

	gm_print_titles(f, columns, N_COLUMNS, titles);
}

static void local_date(time_t t, char *buf, size_t n)
{
	struct tm tm;

	localtime_r(&t, &tm);
	if (!strftime(buf, n, "%Y-%m-%d", &tm))
		snprintf(buf, n, "?");
}

/* Text from the token, made safe to print: control characters become '?'. */
static char *printable(const char *s)
{
	char *out = gm_xstrdup(s ? s : ""), *p;

	for (p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return out;
}

/* Prints text wrapped at spaces to W_LINE columns, each line indented. */
static void print_wrapped(FILE *f, const char *text, size_t indent)
{
	char *copy = printable(text), *word, *save = NULL;
	size_t used = 0;

	for (word = strtok_r(copy, " ", &save); word;
	     word = strtok_r(NULL, " ", &save)) {
		size_t w = gm_display_width(word);

		if (used && used + 1 + w > W_LINE) {
			fputc('\n', f);
			used = 0;
		}
		if (!used) {
			gm_fprintf(f, "%*s", (int)indent, "");
			used = indent;
		} else {
			fputc(' ', f);
			used++;
		}
		if (used + w > W_LINE) {	/* a word longer than a line */
			gm_print_cell(f, word, W_LINE - used);
			used = W_LINE;
			continue;
		}
		gm_fputs(word, f);
		used += w;
	}
	if (used)
		fputc('\n', f);
	free(copy);
}

static void print_row(FILE *f, const gm_cert_view *v)
{
	const gm_cert_facts *facts = &v->obj->facts;
	char idx[24], from[16], to[16], days[24], until[48];
	const char *const cells[N_COLUMNS] = {
		idx, facts->gateway, facts->organization, facts->system, from,
		to, days, status_label(v->verdict.status),
		renewal_label(v->verdict.renewal),
	};

	snprintf(idx, sizeof(idx), "%zu", v->index);
	local_date(facts->not_before, from, sizeof(from));
	local_date(facts->not_after, to, sizeof(to));
	if (v->verdict.days_left > 999999)	/* e.g. 9999-12-31 */
		snprintf(days, sizeof(days), "%s", _("never"));
	else if (v->verdict.days_left < -99999)
		snprintf(days, sizeof(days), "-");
	else
		snprintf(days, sizeof(days), "%ld", v->verdict.days_left);
	gm_print_row(f, columns, N_COLUMNS, cells);
	gm_fprintf(f, "%*s %s\n", W_IDX, "", facts->subject);
	gm_format_time(facts->not_after, until, sizeof(until));
	gm_fprintf(f, _("%*s expires %s; %s key %s\n"), W_IDX, "", until,
		   facts->key_algorithm,
		   v->obj->key_state == GM_KEY_FOUND ? _("on the token") :
		   v->obj->key_state == GM_KEY_MISSING ? _("NOT on the token") :
		   _("not checked (the private key is seen only with the "
		     "PIN)"));
}

static void print_problem(FILE *f, const gm_cert_view *v)
{
	char *id = gm_hex(v->obj->id, v->obj->id_len);
	char *label = printable(v->obj->label);
	char *text = gm_xasprintf(_("label '%s', id %s: %s"), label,
				  id[0] ? id : "none", gm_cert_view_problem(v));

	gm_fprintf(f, _("%*zu unreadable certificate object\n"), W_IDX, v->index);
	print_wrapped(f, text, W_IDX + 1);
	free(text);
	free(label);
	free(id);
}

void gm_cert_list_print(const gm_cli *cli, const gm_cert_list *list, FILE *f)
{
	size_t i;

	gm_fprintf(f, _("Token '%s', serial %s (%s %s)\n"), cli->token.label,
		cli->token.serial, cli->token.manufacturer, cli->token.model);
	if (!list->n) {
		gm_fprintf(f, _("No certificates on this token.\n"));
		return;
	}
	fputc('\n', f);
	print_header(f);
	for (i = 0; i < list->n; i++) {
		if (list->views[i].obj->parsed)
			print_row(f, &list->views[i]);
		else
			print_problem(f, &list->views[i]);
	}
}

static void add_time(cJSON *o, const char *key, time_t t)
{
	char buf[32];

	gm_time_rfc3339(t, buf, sizeof(buf));
	cJSON_AddStringToObject(o, key, buf);
}

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

cJSON *gm_token_json(const gm_token_info *t)
{
	static const char *const keys[] = {
		"serial", "label", "manufacturer", "model", "uri",
	};
	const char *const values[N_OF(keys)] = {
		t->serial, t->label, t->manufacturer, t->model, t->uri,
	};
	cJSON *o = cJSON_CreateObject();

	gm_json_add_strs(o, keys, values, N_OF(keys));
	return o;
}

static void add_facts(cJSON *o, const gm_cert_view *v)
{
	static const char *const keys[] = {
		"subject", "issuer", "serial", "sha256", "gateway",
		"organization", "system",
	};
	const gm_cert_facts *f = &v->obj->facts;
	const char *const values[N_OF(keys)] = {
		f->subject, f->issuer, f->serial_hex, f->sha256_hex,
		f->gateway, f->organization, f->system,
	};

	gm_json_add_strs(o, keys, values, N_OF(keys));
	add_time(o, "not_before", f->not_before);
	add_time(o, "not_after", f->not_after);
	cJSON_AddNumberToObject(o, "days_left", (double)v->verdict.days_left);
	gm_json_add_str(o, "status", gm_status_name(v->verdict.status));
	gm_json_add_str(o, "renewal", gm_renewal_name(v->verdict.renewal));
	gm_json_add_str(o, "key_algorithm", f->key_algorithm);
	if (v->obj->key_state == GM_KEY_UNKNOWN)
		cJSON_AddNullToObject(o, "has_private_key");
	else
		cJSON_AddBoolToObject(o, "has_private_key",
				      v->obj->key_state == GM_KEY_FOUND);
}

static const char *const fact_keys[] = {
	"subject", "issuer", "serial", "sha256", "gateway", "organization",
	"system", "not_before", "not_after", "days_left", "status", "renewal",
	"key_algorithm", "has_private_key", NULL,
};

cJSON *gm_cert_view_json(const gm_cert_view *v)
{
	cJSON *o = cJSON_CreateObject();
	char *id = v->obj->id_len ? gm_hex(v->obj->id, v->obj->id_len) : NULL;
	size_t i;

	cJSON_AddNumberToObject(o, "index", (double)v->index);
	if (v->obj->parsed) {
		add_facts(o, v);
	} else {
		for (i = 0; fact_keys[i]; i++)
			cJSON_AddNullToObject(o, fact_keys[i]);
	}
	gm_json_add_str(o, "id", id);
	gm_json_add_str(o, "label", v->obj->label && v->obj->label[0] ? v->obj->label :
		NULL);
	gm_json_add_str(o, "error", v->obj->parsed ? NULL :
			gm_cert_view_problem(v));
	free(id);
	return o;
}
