/*
 * config.c - the INI configuration file (docs/configuration.md), parsed by
 * inih. Unknown sections and keys are errors: a mistyped key must not be
 * silently ignored in a tool that decides whether to touch a token.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "gmrenew/common.h"

struct parse_ctx {
	gm_config *cfg;
	char problem[256];
};

void gm_config_init(gm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->connect_timeout_ms = 10000;
	cfg->total_timeout_ms = 60000;
	cfg->max_retry_wait_ms = 30000;
	cfg->tls_min_version = 12;
	cfg->renew_before_days = 90;
	cfg->renew_after_days = 90;
	cfg->extension_days = 1826;
	cfg->extension_tolerance_days = 31;
	cfg->clock_skew_seconds = 300;
	cfg->hook_timeout_seconds = 60;
}

static void set_str(char **dst, const char *value)
{
	free(*dst);
	*dst = gm_xstrdup(value);
}

static int set_long(struct parse_ctx *ctx, long *dst, const char *name,
		    const char *value, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || end == value || *end || v < min || v > max) {
		snprintf(ctx->problem, sizeof(ctx->problem),
			 "'%s' must be a whole number from %ld to %ld, not '%s'",
			 name, min, max, value);
		return 0;
	}
	*dst = v;
	return 1;
}

static int set_int(struct parse_ctx *ctx, int *dst, const char *name,
		   const char *value, int min, int max)
{
	long v;

	if (!set_long(ctx, &v, name, value, min, max))
		return 0;
	*dst = (int)v;
	return 1;
}

/* [service] tls: "tls" (the default) or "tlcp". */
static int set_tls(struct parse_ctx *ctx, int *tlcp, const char *value)
{
	if (strcmp(value, "tls") && strcmp(value, "tlcp")) {
		snprintf(ctx->problem, sizeof(ctx->problem),
			 "'tls' must be 'tls' or 'tlcp', not '%.100s'", value);
		return 0;
	}
	*tlcp = !strcmp(value, "tlcp");
	return 1;
}

static int token_key(struct parse_ctx *ctx, const char *name, const char *value)
{
	gm_config *cfg = ctx->cfg;

	if (!strcmp(name, "module"))
		set_str(&cfg->module, value);
	else if (!strcmp(name, "profile"))
		set_str(&cfg->profile, value);
	else if (!strcmp(name, "uri"))
		set_str(&cfg->token_uri, value);
	else
		return -1;
	return 1;
}

static int tls_version(struct parse_ctx *ctx, gm_config *cfg,
		       const char *value)
{
	if (!strcmp(value, "1.2") || !strcmp(value, "1.3")) {
		cfg->tls_min_version = value[2] == '2' ? 12 : 13;
		return 1;
	}
	snprintf(ctx->problem, sizeof(ctx->problem),
		 "tls_min_version must be 1.2 or 1.3, not '%.40s'", value);
	return 0;
}

static int service_key(struct parse_ctx *ctx, const char *name,
		       const char *value)
{
	gm_config *cfg = ctx->cfg;

	if (!strcmp(name, "url"))
		set_str(&cfg->service_url, value);
	else if (!strcmp(name, "ca_bundle"))
		set_str(&cfg->ca_bundle, value);
	else if (!strcmp(name, "chain_bundle"))
		set_str(&cfg->chain_bundle, value);
	else if (!strcmp(name, "tls"))
		return set_tls(ctx, &cfg->service_tlcp, value);
	else if (!strcmp(name, "connect_timeout_ms"))
		return set_long(ctx, &cfg->connect_timeout_ms, name, value, 100,
				600000);
	else if (!strcmp(name, "total_timeout_ms"))
		return set_long(ctx, &cfg->total_timeout_ms, name, value, 100,
				3600000);
	else if (!strcmp(name, "max_retry_wait_ms"))
		return set_long(ctx, &cfg->max_retry_wait_ms, name, value, 0,
				600000);
	else if (!strcmp(name, "tls_min_version"))
		return tls_version(ctx, cfg, value);
	else if (!strcmp(name, "tls12_ciphers"))
		set_str(&cfg->tls12_ciphers, value);
	else if (!strcmp(name, "tls13_ciphers"))
		set_str(&cfg->tls13_ciphers, value);
	else
		return -1;
	return 1;
}

static int policy_key(struct parse_ctx *ctx, const char *name,
		      const char *value)
{
	gm_config *cfg = ctx->cfg;

	if (!strcmp(name, "renew_before_days"))
		return set_int(ctx, &cfg->renew_before_days, name, value, 0, 3650);
	if (!strcmp(name, "renew_after_days"))
		return set_int(ctx, &cfg->renew_after_days, name, value, 0, 3650);
	if (!strcmp(name, "extension_days"))
		return set_int(ctx, &cfg->extension_days, name, value, 1, 36500);
	if (!strcmp(name, "extension_tolerance_days"))
		return set_int(ctx, &cfg->extension_tolerance_days, name, value,
			       0, 3650);
	if (!strcmp(name, "clock_skew_seconds"))
		return set_int(ctx, &cfg->clock_skew_seconds, name, value, 0,
			       86400);
	return -1;
}

static int renewal_key(struct parse_ctx *ctx, const char *name,
		       const char *value)
{
	if (strcmp(name, "state_dir"))
		return -1;
	set_str(&ctx->cfg->state_dir, value);
	return 1;
}

static int hooks_key(struct parse_ctx *ctx, const char *name,
		     const char *value)
{
	gm_config *cfg = ctx->cfg;

	if (!strcmp(name, "on_renewed"))
		set_str(&cfg->hook_on_renewed, value);
	else if (!strcmp(name, "on_failure"))
		set_str(&cfg->hook_on_failure, value);
	else if (!strcmp(name, "timeout_seconds"))
		return set_long(ctx, &cfg->hook_timeout_seconds, name, value, 1,
				3600);
	else
		return -1;
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

static int on_entry(void *user, const char *section, const char *name,
		    const char *value)
{
	struct parse_ctx *ctx = user;
	int r;

	if (!name)		/* a section header alone */
		return 1;
	if (!strcmp(section, "token"))
		r = token_key(ctx, name, value);
	else if (!strcmp(section, "service"))
		r = service_key(ctx, name, value);
	else if (!strcmp(section, "policy"))
		r = policy_key(ctx, name, value);
	else if (!strcmp(section, "renewal"))
		r = renewal_key(ctx, name, value);
	else if (!strcmp(section, "hooks"))
		r = hooks_key(ctx, name, value);
	else if (!strncmp(section, "profile.", 8) && section[8]) {
		add_profile_kv(ctx->cfg, section, name, value);
		r = 1;
	} else {
		snprintf(ctx->problem, sizeof(ctx->problem),
			 "unknown section '[%s]'", section);
		return 0;
	}
	if (r < 0) {
		snprintf(ctx->problem, sizeof(ctx->problem),
			 "unknown key '%s' in section '[%s]'", name, section);
		return 0;
	}
	return r;
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
		       "correct the file; docs/configuration.md lists the keys",
		       "configuration file '%s', line %d: %s", where, line,
		       ctx->problem[0] ? ctx->problem : "syntax error");
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
	line = ini_parse_file(f, on_entry, &ctx);
	fclose(f);
	set_str(&cfg->path, path);
	return parse_result(&ctx, path, line, err);
}

int gm_config_load_string(gm_config *cfg, const char *text, gm_error *err)
{
	struct parse_ctx ctx = { .cfg = cfg };

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
	gm_config_init(cfg);
}

char *gm_config_default_path(void)
{
	const char *env = getenv("GMRENEW_CONFIG");
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");

	if (env && *env)
		return gm_xstrdup(env);
	if (xdg && *xdg)
		return gm_xasprintf("%s/gmrenew/config.ini", xdg);
	return gm_xasprintf("%s/.config/gmrenew/config.ini",
			    home && *home ? home : ".");
}
