/*
 * checkenv_output.c - the results of `gmrenew check-env` as data and as what
 * people see: one line per check on an 80-column terminal (colour only on a
 * terminal), the JSON document, and the report for a support ticket (the
 * JSON plus the versions of everything involved; no PIN, nothing private
 * beyond certificate subjects and serials), written with mode 0600.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "checkenv_internal.h"
#include "gmrenew/version.h"

#define ID_WIDTH 13		/* "matching_cert" */
#define SUMMARY_COL (7 + ID_WIDTH + 1)
#define DETAIL_COL 7

static const char *const check_ids[CE_N_CHECKS] = {
	"config", "driver", "usb", "single_token", "pin", "matching_cert",
	"service", "clock",
};

const char *ce_status_name(ce_status s)
{
	static const char *const names[] = { "pass", "warn", "fail", "skip" };

	return names[s];
}

/* ---- the data ---------------------------------------------------------- */

void ce_set(ce_check *c, ce_status s, const char *fix, const char *fmt, ...)
{
	va_list ap;
	char *text;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	text = gm_xmalloc((size_t)(n < 0 ? 0 : n) + 1);
	va_start(ap, fmt);
	vsnprintf(text, (size_t)(n < 0 ? 0 : n) + 1, fmt, ap);
	va_end(ap);
	free(c->summary);
	free(c->fix);
	c->summary = text;
	c->fix = s != CE_PASS && fix && *fix ? gm_xstrdup(fix) : NULL;
	c->status = s;
}

void ce_detail(ce_check *c, const char *fmt, ...)
{
	va_list ap;
	size_t old = c->detail ? strlen(c->detail) : 0;
	char *line, *safe;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	line = gm_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(line, (size_t)n + 1, fmt, ap);
	va_end(ap);
	/* the '\n' between lines is the only line break a detail holds */
	safe = gm_sanitize(line);
	n = (int)strlen(safe);
	c->detail = gm_xrealloc(c->detail, old + (size_t)n + 2);
	if (old)
		c->detail[old++] = '\n';
	memcpy(c->detail + old, safe, (size_t)n + 1);
	free(safe);
	free(line);
}

void ce_skip(ce_check *c, const char *because_id, const char *why)
{
	ce_set(c, CE_SKIP, NULL, _("skipped (needs %s): %s"), because_id, why);
	/* fix is null only when passed: a skip points at the check to fix */
	free(c->fix);
	c->fix = gm_xasprintf(_("fix '%s' first"), because_id);
}

void ce_run_init(ce_run *r, gm_cli *cli)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	r->cli = cli;
	for (i = 0; i < CE_N_CHECKS; i++)
		r->checks[i].id = check_ids[i];
}

void ce_run_release(ce_run *r)
{
	size_t i;

	for (i = 0; i < CE_N_CHECKS; i++) {
		free(r->checks[i].summary);
		free(r->checks[i].detail);
		free(r->checks[i].fix);
	}
	gm_ca_records_free(r->records, r->n_records);
	gm_service_close(r->service);
	if (r->certs_read)
		gm_cert_list_release(&r->certs);
	gm_token_infos_free(r->tokens, r->n_tokens);
	free(r->module_path);
	free(r->probe_der);
	/* the session and the module are the cli's: gm_cli_teardown() */
}

int ce_ok(const ce_run *r)
{
	size_t i;

	for (i = 0; i < CE_N_CHECKS; i++)
		if (r->checks[i].status == CE_FAIL)
			return 0;
	return 1;
}

/* ---- JSON -------------------------------------------------------------- */

cJSON *ce_json(const ce_run *r)
{
	cJSON *doc = cJSON_CreateObject(), *arr;
	size_t i;

	cJSON_AddBoolToObject(doc, "ok", ce_ok(r));
	arr = cJSON_AddArrayToObject(doc, "checks");
	for (i = 0; i < CE_N_CHECKS; i++) {
		const ce_check *c = &r->checks[i];
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "id", c->id);
		cJSON_AddStringToObject(o, "status", ce_status_name(c->status));
		gm_json_add_str(o, "summary", c->summary ? c->summary : "");
		gm_json_add_str(o, "detail", c->detail);
		gm_json_add_str(o, "fix", c->status == CE_PASS ? NULL : c->fix);
		cJSON_AddItemToArray(arr, o);
	}
	return doc;
}

/* PRETTY_NAME of os-release, unquoted; caller frees; NULL if none. */
static char *os_pretty_name(void)
{
	const char *files[] = { "/etc/os-release", "/usr/lib/os-release" };
	char line[512];
	size_t i;

	for (i = 0; i < 2; i++) {
		FILE *f = fopen(files[i], "r");
		char *v = NULL;

		if (!f)
			continue;
		while (!v && fgets(line, sizeof(line), f)) {
			size_t n;

			if (strncmp(line, "PRETTY_NAME=", 12))
				continue;
			v = line + 12;
			v[strcspn(v, "\r\n")] = '\0';
			n = strlen(v);
			if (n >= 2 && (v[0] == '"' || v[0] == '\'') &&
			    v[n - 1] == v[0]) {
				v[n - 1] = '\0';
				v++;
			}
		}
		fclose(f);
		if (v)
			return gm_xstrdup(v);
	}
	return NULL;
}

static cJSON *module_json(const ce_run *r)
{
	cJSON *m;
	char v[32];

	if (!r->module_path)
		return cJSON_CreateNull();
	m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "path", r->module_path);
	if (!r->have_info) {
		cJSON_AddNullToObject(m, "manufacturer");
		cJSON_AddNullToObject(m, "description");
		cJSON_AddNullToObject(m, "cryptoki_version");
		cJSON_AddNullToObject(m, "library_version");
		return m;
	}
	cJSON_AddStringToObject(m, "manufacturer", r->info.manufacturer);
	cJSON_AddStringToObject(m, "description", r->info.description);
	snprintf(v, sizeof(v), "%u.%u", r->info.cryptoki_major,
		 r->info.cryptoki_minor);
	cJSON_AddStringToObject(m, "cryptoki_version", v);
	snprintf(v, sizeof(v), "%u.%u", r->info.library_major,
		 r->info.library_minor);
	cJSON_AddStringToObject(m, "library_version", v);
	return m;
}

static cJSON *os_json(void)
{
	cJSON *o = cJSON_CreateObject();
	struct utsname u;
	char *pretty = os_pretty_name();

	if (uname(&u) == 0) {
		char *line = gm_xasprintf("%s %s %s %s", u.sysname, u.release,
					  u.version, u.machine);

		cJSON_AddStringToObject(o, "uname", line);
		free(line);
	} else {
		cJSON_AddNullToObject(o, "uname");
	}
	gm_json_add_str(o, "pretty_name", pretty);
	free(pretty);
	return o;
}

cJSON *ce_report_json(const ce_run *r)
{
	cJSON *doc = ce_json(r), *v;
	char when[32];

	gm_time_rfc3339(time(NULL), when, sizeof(when));
	cJSON_AddStringToObject(doc, "generated_at", when);
	v = cJSON_AddObjectToObject(doc, "versions");
	cJSON_AddStringToObject(v, "gmrenew", GMRENEW_VERSION);
	cJSON_AddStringToObject(v, "openssl", gm_crypto_library());
	cJSON_AddStringToObject(v, "libcurl", gm_service_curl_version());
	cJSON_AddItemToObject(v, "pkcs11_module", module_json(r));
	cJSON_AddItemToObject(v, "os", os_json());
	return doc;
}

int ce_write_private(const char *path, const char *text, gm_error *err)
{
	size_t len = strlen(text);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
		      O_NOFOLLOW, 0600);

	if (fd < 0)
		return gm_fail(err, GM_EXIT_FAILED, "give --report a file in "
			       "a folder you may write to", "cannot create "
			       "the report '%s': %s", path, strerror(errno));
	/* an existing file keeps its mode through O_TRUNC: narrow it */
	if (fchmod(fd, 0600) < 0)
		goto fail;
	if (gm_write_all(fd, text, len) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	gm_fail(err, GM_EXIT_FAILED, NULL, "cannot write the report '%s': %s",
		path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* ---- text -------------------------------------------------------------- */

static void print_tag(FILE *f, ce_status s, int colour)
{
	/* TRANSLATORS: four columns each, the check's verdict */
	static const char *const tags[] = { N_("PASS"), N_("WARN"),
					    N_("FAIL"), N_("SKIP") };
	static const char *const colours[] = { "32", "33", "1;31", "2" };

	if (colour)
		gm_fprintf(f, "[\033[%sm%s\033[0m]", colours[s], _(tags[s]));
	else
		gm_fprintf(f, "[%s]", _(tags[s]));
}

void ce_print(const ce_run *r, FILE *f, int colour)
{
	size_t i, failed = 0, warned = 0, skipped = 0, width = gm_term_width(f);
	const char *fix_tag = _("fix: ");
	size_t fix_col = DETAIL_COL + gm_display_width(fix_tag);

	for (i = 0; i < CE_N_CHECKS; i++) {
		const ce_check *c = &r->checks[i];

		print_tag(f, c->status, colour);
		gm_fprintf(f, " %-*s ", ID_WIDTH, c->id);
		gm_wrap_line(f, c->summary ? c->summary : "", SUMMARY_COL,
			     SUMMARY_COL, width);
		if (c->detail && c->status != CE_SKIP) {
			gm_fprintf(f, "%*s", DETAIL_COL, "");
			gm_wrap(f, c->detail, DETAIL_COL, DETAIL_COL, width);
		}
		if (c->fix && c->status != CE_PASS && c->status != CE_SKIP) {
			gm_fprintf(f, "%*s%s", DETAIL_COL, "", fix_tag);
			gm_wrap_line(f, c->fix, fix_col, fix_col, width);
		}
		failed += c->status == CE_FAIL;
		warned += c->status == CE_WARN;
		skipped += c->status == CE_SKIP;
	}
	if (!failed && !warned)
		gm_fprintf(f, _("All checks passed.\n"));
	else if (!failed)
		gm_fprintf(f, ngettext("All checks passed, %zu with a warning.\n",
				    "All checks passed, %zu with a warning.\n",
				    warned), warned);
	else if (skipped)
		gm_fprintf(f, ngettext("%zu check failed (others skipped): fix it "
				    "and run 'gmrenew check-env' again.\n",
				    "%zu checks failed (others skipped): fix "
				    "them and run 'gmrenew check-env' again.\n",
				    failed), failed);
	else
		gm_fprintf(f, ngettext("%zu check failed: fix it and run 'gmrenew "
				    "check-env' again.\n", "%zu checks failed: "
				    "fix them and run 'gmrenew check-env' "
				    "again.\n", failed), failed);
}
