/*
 * config.c - the INI configuration file (docs/configuration.md), parsed by
 * inih. Unknown sections and keys are errors: a mistyped key must not be
 * silently ignored in a tool that decides whether to touch a token.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include <ini.h>

#include "gmrenew/common.h"

#include "gmrenew/version.h"

#define KEY(sec, nm, ty, field, lo, hi, arg, def, help) \
	{ sec, nm, ty, offsetof(gm_config, field), lo, hi, arg, def, help }

const gm_config_key gm_config_keys[GM_CONFIG_N_KEYS + 1] = {
	KEY("token", "module", GM_CFG_STRING, module, 0, 0, "PATH",
	    N_("$GMRENEW_PKCS11_MODULE, then the profile's library names"),
	    N_("the PKCS#11 module: FEITIAN's Ekey driver")),
	KEY("token", "profile", GM_CFG_STRING, profile, 0, 0, "NAME",
	    N_("chosen by what the token offers"),
	    N_("the vendor profile: epass3000gm or pkcs11-ec, or a "
	       "[profile.NAME] section")),
	KEY("token", "api", GM_CFG_STRING, token_api, 0, 0, "API", "auto",
	    N_("the token library's interface: pkcs11, skf (GM/T 0016), or "
	       "auto: what it offers (both: SKF for the epass3000gm "
	       "profile)")),
	KEY("token", "uri", GM_CFG_STRING, token_uri, 0, 0, "URI",
	    N_("the only token inserted"),
	    N_("an RFC 7512 URI that selects one token, e.g. "
	       "pkcs11:serial=2000000012345678")),
	KEY("service", "url", GM_CFG_STRING, service_url, 0, 0, "URL",
	    N_("none"), N_("the CA's renewal service (https only)")),
	KEY("service", "ca_bundle", GM_CFG_STRING, ca_bundle, 0, 0, "FILE",
	    N_("none"),
	    N_("PEM file of the CA certificates that the service's TLS "
	       "certificate is verified against (TLS is always verified)")),
	KEY("service", "chain_bundle", GM_CFG_STRING, chain_bundle, 0, 0,
	    "FILE", N_("ca_bundle"),
	    N_("PEM file of the CA's SM2 root: every issued certificate is "
	       "verified against it before it is installed")),
	KEY("service", "tls", GM_CFG_TLS, service_tlcp, 0, 0, "tls|tlcp", "tls",
	    N_("tls (TLS 1.2 or newer) or tlcp (TLCP, NTLS 1.1; builds on "
	       "Tongsuo only)")),
	KEY("service", "connect_timeout_ms", GM_CFG_LONG, connect_timeout_ms,
	    100, 600000, "MS", "10000",
	    N_("time limit of the TCP and TLS connection, in milliseconds")),
	KEY("service", "total_timeout_ms", GM_CFG_LONG, total_timeout_ms, 100,
	    3600000, "MS", "60000",
	    N_("time limit of one request, in milliseconds")),
	KEY("service", "max_retry_wait_ms", GM_CFG_LONG, max_retry_wait_ms, 0,
	    600000, "MS", "30000",
	    N_("the longest wait before a retry, in milliseconds")),
	KEY("service", "tls_min_version", GM_CFG_TLS_VERSION, tls_min_version,
	    0, 0, "1.2|1.3", "1.2", N_("the oldest TLS version accepted")),
	KEY("service", "tls12_ciphers", GM_CFG_STRING, tls12_ciphers, 0, 0,
	    "LIST", N_("ECDHE with AEAD ciphers"),
	    N_("OpenSSL cipher list for TLS 1.2 (:!aNULL:!eNULL is always "
	       "added)")),
	KEY("service", "tls13_ciphers", GM_CFG_STRING, tls13_ciphers, 0, 0,
	    "LIST", N_("the three AEAD suites"), N_("TLS 1.3 cipher suites")),
	KEY("policy", "renew_before_days", GM_CFG_INT, renew_before_days, 0,
	    3650, "DAYS", "90",
	    N_("online renewal opens this many days before expiry")),
	KEY("policy", "renew_after_days", GM_CFG_INT, renew_after_days, 0,
	    3650, "DAYS", "90",
	    N_("online renewal closes this many days after expiry; later, "
	       "only offline renewal")),
	KEY("policy", "extension_days", GM_CFG_INT, extension_days, 1, 36500,
	    "DAYS", "1826",
	    N_("the validity a renewal is expected to add (about 5 years)")),
	KEY("policy", "extension_tolerance_days", GM_CFG_INT,
	    extension_tolerance_days, 0, 3650, "DAYS", "31",
	    N_("how far the added validity may differ, either way")),
	KEY("policy", "clock_skew_seconds", GM_CFG_INT, clock_skew_seconds, 0,
	    86400, "SECONDS", "300",
	    N_("how far in the future a new certificate may start")),
	KEY("renewal", "state_dir", GM_CFG_STRING, state_dir, 0, 0, "DIR",
	    N_("$XDG_STATE_HOME/gmrenew, else ~/.local/state/gmrenew"),
	    N_("where the journals of renewals and the locks of tokens are "
	       "kept")),
	KEY("hooks", "on_renewed", GM_CFG_STRING, hook_on_renewed, 0, 0,
	    "COMMAND", N_("none"),
	    N_("a shell command run after a renewal (renewed or resumed)")),
	KEY("hooks", "on_failure", GM_CFG_STRING, hook_on_failure, 0, 0,
	    "COMMAND", N_("none"),
	    N_("a shell command run after a failed renewal (failed or "
	       "offline_only)")),
	KEY("hooks", "timeout_seconds", GM_CFG_LONG, hook_timeout_seconds, 1,
	    3600, "SECONDS", "60",
	    N_("a hook still running then is stopped")),
	{ NULL, NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};

struct parse_ctx {
	gm_config *cfg;
	signed char file;	/* index in cfg->files, -1 for a string */
	char problem[256];
};

static int set_key(struct parse_ctx *ctx, const gm_config_key *k, size_t i,
		   const char *value);

/* The defaults are the table's: every key that is not a text starts at its
 * default_text, parsed as a file's value would be. */
void gm_config_init(gm_config *cfg)
{
	struct parse_ctx ctx = { .cfg = cfg, .file = -1 };
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < GM_CONFIG_N_KEYS; i++) {
		if (gm_config_keys[i].type != GM_CFG_STRING)
			set_key(&ctx, &gm_config_keys[i], i,
				gm_config_keys[i].default_text);
		cfg->origin[i] = -1;
	}
}

static void set_str(char **dst, const char *value)
{
	free(*dst);
	*dst = gm_xstrdup(value);
}

static int set_long(struct parse_ctx *ctx, long *dst, const gm_config_key *k,
		    const char *value)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || end == value || *end || v < k->min || v > k->max) {
		snprintf(ctx->problem, sizeof(ctx->problem),
			 gm_text(N_("'%s' must be a whole number from %ld to "
				    "%ld, not '%s'")),
			 k->name, k->min, k->max, value);
		return 0;
	}
	*dst = v;
	return 1;
}

static const gm_config_key *find_key(const char *section, const char *name,
				     size_t *index)
{
	size_t i;

	for (i = 0; gm_config_keys[i].name; i++)
		if (!strcmp(gm_config_keys[i].section, section) &&
		    !strcmp(gm_config_keys[i].name, name)) {
			*index = i;
			return &gm_config_keys[i];
		}
	return NULL;
}

/* [service] tls: "tls" (the default) or "tlcp". */
static int set_tls(struct parse_ctx *ctx, int *tlcp, const char *value)
{
	if (strcmp(value, "tls") && strcmp(value, "tlcp")) {
		snprintf(ctx->problem, sizeof(ctx->problem),
			 gm_text(N_("'tls' must be 'tls' or 'tlcp', not "
				    "'%.100s'")), value);
		return 0;
	}
	*tlcp = !strcmp(value, "tlcp");
	return 1;
}

/* [service] tls_min_version: 1.2 or 1.3, kept as 12 or 13. */
static int set_tls_version(struct parse_ctx *ctx, int *dst, const char *value)
{
	if (!strcmp(value, "1.2") || !strcmp(value, "1.3")) {
		*dst = value[2] == '2' ? 12 : 13;
		return 1;
	}
	snprintf(ctx->problem, sizeof(ctx->problem),
		 gm_text(N_("tls_min_version must be 1.2 or 1.3, not "
			    "'%.40s'")), value);
	return 0;
}

/* 1 stored, 0 bad value (ctx->problem says why). */
static int set_key(struct parse_ctx *ctx, const gm_config_key *k, size_t i,
		   const char *value)
{
	char *field = (char *)ctx->cfg + k->offset;
	long v;

	switch (k->type) {
	case GM_CFG_STRING:
		set_str((char **)(void *)field, value);
		break;
	case GM_CFG_LONG:
		if (!set_long(ctx, (long *)(void *)field, k, value))
			return 0;
		break;
	case GM_CFG_INT:
		if (!set_long(ctx, &v, k, value))
			return 0;
		*(int *)(void *)field = (int)v;
		break;
	case GM_CFG_TLS:
		if (!set_tls(ctx, (int *)(void *)field, value))
			return 0;
		break;
	case GM_CFG_TLS_VERSION:
		if (!set_tls_version(ctx, (int *)(void *)field, value))
			return 0;
		break;
	}
	ctx->cfg->origin[i] = ctx->file;
	return 1;
}

static void add_profile_kv(gm_config *cfg, const char *section,
			   const char *name, const char *value)
{
	gm_config_kv *kv;

	cfg->profile_kv = gm_xrealloc(cfg->profile_kv,
				      (cfg->n_profile_kv + 1) * sizeof(*kv));
	kv = &cfg->profile_kv[cfg->n_profile_kv++];
	kv->section = gm_xstrdup(section + strlen("profile."));
	kv->key = gm_xstrdup(name);
	kv->value = gm_xstrdup(value);
}

static int known_section(const char *section)
{
	size_t i;

	for (i = 0; gm_config_keys[i].name; i++)
		if (!strcmp(gm_config_keys[i].section, section))
			return 1;
	return 0;
}

static int on_entry(void *user, const char *section, const char *name,
		    const char *value)
{
	struct parse_ctx *ctx = user;
	const gm_config_key *k;
	size_t i;

	if (!name)		/* a section header alone */
		return 1;
	if (!strncmp(section, "profile.", 8) && section[8]) {
		add_profile_kv(ctx->cfg, section, name, value);
		return 1;
	}
	if (!known_section(section)) {
		snprintf(ctx->problem, sizeof(ctx->problem),
			 gm_text(N_("unknown section '[%s]'")), section);
		return 0;
	}
	k = find_key(section, name, &i);
	if (!k) {
		snprintf(ctx->problem, sizeof(ctx->problem),
			 gm_text(N_("unknown key '%s' in section '[%s]'")),
			 name, section);
		return 0;
	}
	return set_key(ctx, k, i, value);
}

static int parse_result(struct parse_ctx *ctx, const char *where, int line,
			gm_error *err)
{
	if (line == 0)
		return 0;
	if (line < 0)
		return gm_fail(err, GM_EXIT_USAGE, "check the file's permissions",
			       "cannot read configuration file '%s'", where);
	return gm_fail(err, GM_EXIT_USAGE,
		       "correct the file; 'man gmrenew' (CONFIGURATION) lists "
		       "the keys and 'gmrenew config show' shows what is read",
		       "configuration file '%s', line %d: %s", where, line,
		       ctx->problem[0] ? ctx->problem :
		       gm_text(N_("syntax error")));
}

/* The file's index in cfg->files (added when new). */
static signed char file_index(gm_config *cfg, const char *path)
{
	size_t i;

	for (i = 0; i < cfg->n_files; i++)
		if (!strcmp(cfg->files[i], path))
			return (signed char)i;
	if (cfg->n_files == GM_CONFIG_MAX_FILES)
		return (signed char)(GM_CONFIG_MAX_FILES - 1);
	cfg->files[cfg->n_files] = gm_xstrdup(path);
	return (signed char)cfg->n_files++;
}

int gm_config_load(gm_config *cfg, const char *path, int required,
		   gm_error *err)
{
	struct parse_ctx ctx = { .cfg = cfg };
	FILE *f = fopen(path, "r");
	int line;

	if (!f) {
		if (!required && errno == ENOENT)
			return 0;
		return gm_fail(err, GM_EXIT_USAGE,
			       "create it or pass --config with another file",
			       "cannot open configuration file '%s': %s", path,
			       strerror(errno));
	}
	ctx.file = file_index(cfg, path);
	line = ini_parse_file(f, on_entry, &ctx);
	fclose(f);
	set_str(&cfg->path, path);
	return parse_result(&ctx, path, line, err);
}

int gm_config_load_string(gm_config *cfg, const char *text, gm_error *err)
{
	struct parse_ctx ctx = { .cfg = cfg, .file = -1 };

	return parse_result(&ctx, "<string>", ini_parse_string(text, on_entry,
							       &ctx), err);
}

void gm_config_release(gm_config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->module);
	free(cfg->profile);
	free(cfg->token_uri);
	free(cfg->token_api);
	free(cfg->service_url);
	free(cfg->tls12_ciphers);
	free(cfg->tls13_ciphers);
	free(cfg->ca_bundle);
	free(cfg->chain_bundle);
	free(cfg->state_dir);
	free(cfg->hook_on_renewed);
	free(cfg->hook_on_failure);
	for (i = 0; i < cfg->n_profile_kv; i++) {
		free(cfg->profile_kv[i].section);
		free(cfg->profile_kv[i].key);
		free(cfg->profile_kv[i].value);
	}
	free(cfg->profile_kv);
	for (i = 0; i < cfg->n_files; i++)
		free(cfg->files[i]);
	gm_config_init(cfg);
}

char *gm_config_system_path(void)
{
	return gm_xstrdup(GMRENEW_SYSCONF_DIR "/gmrenew.conf");
}

char *gm_config_user_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");

	if (xdg && *xdg)
		return gm_xasprintf("%s/gmrenew/gmrenew.conf", xdg);
	return gm_xasprintf("%s/.config/gmrenew/gmrenew.conf",
			    home && *home ? home : ".");
}

int gm_config_load_all(gm_config *cfg, const char *explicit_path,
		       gm_error *err)
{
	const char *env = getenv("GMRENEW_CONFIG");
	char *path = gm_config_system_path();
	int r = gm_config_load(cfg, path, 0, err);

	free(path);
	if (r == 0) {
		path = gm_config_user_path();
		r = gm_config_load(cfg, path, 0, err);
		free(path);
	}
	if (r == 0 && !explicit_path && env && *env)
		explicit_path = env;
	if (r == 0 && explicit_path)
		r = gm_config_load(cfg, explicit_path, 1, err);
	if (r == 0)
		gm_config_resolve(cfg);
	return r;
}

/* The index of [section] name in gm_config_keys. */
static size_t key_index(const char *section, const char *name)
{
	size_t i = 0;

	find_key(section, name, &i);
	return i;
}

void gm_config_resolve(gm_config *cfg)
{
	size_t chain = key_index("service", "chain_bundle");

	if (cfg->chain_bundle || !cfg->ca_bundle)
		return;
	cfg->chain_bundle = gm_xstrdup(cfg->ca_bundle);
	cfg->origin[chain] = cfg->origin[key_index("service", "ca_bundle")];
}

char *gm_config_value_text(const gm_config *cfg, size_t i)
{
	const gm_config_key *k = &gm_config_keys[i];
	const char *field = (const char *)cfg + k->offset;
	const char *str;

	switch (k->type) {
	case GM_CFG_STRING:
		str = *(char *const *)(const void *)field;
		return str ? gm_xstrdup(str) : NULL;
	case GM_CFG_LONG:
		return gm_xasprintf("%ld", *(const long *)(const void *)field);
	case GM_CFG_INT:
		return gm_xasprintf("%d", *(const int *)(const void *)field);
	case GM_CFG_TLS:
		return gm_xstrdup(*(const int *)(const void *)field ? "tlcp" :
				  "tls");
	case GM_CFG_TLS_VERSION:
		return gm_xstrdup(*(const int *)(const void *)field == 13 ?
				  "1.3" : "1.2");
	}
	return NULL;
}
