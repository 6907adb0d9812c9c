/*
 * cmd_config.c - `gmrenew config show`: every configuration key with the
 * value in effect and where it came from (a file, an option, the default),
 * printed as INI that could be a configuration file itself; and `gmrenew
 * config init`: a first configuration file with the service's URL and the
 * CA's two PEM files, checked before it is written (mode 0644; an existing
 * file only with --force).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "gmrenew/cli.h"

typedef struct config_opts {
	const char *url;
	const char *ca_bundle;
	const char *chain_bundle;
	int force;
} config_opts;

/* ---- show ---------------------------------------------------------------- */

/* Where key i's value came from; an option given wins. */
static const char *source_of(const gm_cli *cli, size_t i)
{
	const gm_config_key *k = &gm_config_keys[i];

	if (!strcmp(k->section, "token") && !strcmp(k->name, "module") &&
	    cli->module_opt)
		return "--module";
	if (!strcmp(k->section, "token") && !strcmp(k->name, "uri") &&
	    cli->token_opt)
		return "--token";
	if (cli->cfg.origin[i] >= 0)
		return cli->cfg.files[(size_t)cli->cfg.origin[i]];
	return NULL;
}

/* The value in effect (an option's, else the configuration's); caller
 * frees; NULL when unset. */
static char *value_of(const gm_cli *cli, size_t i)
{
	const char *src = source_of(cli, i);

	if (src && !strcmp(src, "--module"))
		return gm_xstrdup(cli->module_opt);
	if (src && !strcmp(src, "--token"))
		return gm_xstrdup(cli->token_opt);
	return gm_config_value_text(&cli->cfg, i);
}

static void show_text(const gm_cli *cli)
{
	const char *section = "";
	size_t i;

	for (i = 0; i < cli->cfg.n_files; i++)
		gm_printf(_("# read: %s\n"), cli->cfg.files[i]);
	if (!cli->cfg.n_files)
		gm_printf("%s\n", _("# no configuration file was found: every "
				 "value is the default"));
	for (i = 0; gm_config_keys[i].name; i++) {
		const gm_config_key *k = &gm_config_keys[i];
		const char *src = source_of(cli, i);
		char *v = value_of(cli, i);

		if (strcmp(section, k->section)) {
			section = k->section;
			gm_printf("\n[%s]\n", section);
		}
		if (v)
			gm_printf("%s = %s", k->name, v);
		else
			gm_printf("# %s =", k->name);
		gm_printf("  # %s\n", src ? src : _("default"));
		free(v);
	}
	for (i = 0; i < cli->cfg.n_profile_kv; i++) {
		const gm_config_kv *kv = &cli->cfg.profile_kv[i];

		gm_printf("\n[profile.%s]\n%s = %s\n", kv->section, kv->key,
		       kv->value);
	}
}

static void show_json(const gm_cli *cli)
{
	cJSON *doc = cJSON_CreateObject(), *files, *keys;
	size_t i;

	cJSON_AddBoolToObject(doc, "ok", 1);
	files = cJSON_AddArrayToObject(doc, "files");
	for (i = 0; i < cli->cfg.n_files; i++)
		cJSON_AddItemToArray(files,
				     cJSON_CreateString(cli->cfg.files[i]));
	keys = cJSON_AddArrayToObject(doc, "keys");
	for (i = 0; gm_config_keys[i].name; i++) {
		cJSON *o = cJSON_CreateObject();
		const char *src = source_of(cli, i);
		char *v = value_of(cli, i);

		cJSON_AddStringToObject(o, "section", gm_config_keys[i].section);
		cJSON_AddStringToObject(o, "key", gm_config_keys[i].name);
		gm_json_add_str(o, "value", v);
		gm_json_add_str(o, "source", src ? src : "default");
		cJSON_AddItemToArray(keys, o);
		free(v);
	}
	gm_cli_print_json(doc);
}

static int config_show(gm_cli *cli)
{
	gm_error err;

	if (gm_cli_setup(cli, GM_CMD_CONFIG, &err))
		return gm_cli_report_error(cli, &err);
	if (cli->json)
		show_json(cli);
	else
		show_text(cli);
	return GM_EXIT_OK;
}

/* ---- init ---------------------------------------------------------------- */

/* An absolute path of a readable PEM file with at least one certificate;
 * caller frees. */
static char *checked_bundle(const char *path, const char *option,
			    gm_error *err)
{
	STACK_OF(X509) *sk = NULL;
	char *abs;
	int n;

	if (gm_certs_load_file(path, &sk, err) < 0) {
		gm_error_prefix(err, "%s", option);
		err->code = GM_EXIT_USAGE;	/* a bad argument */
		return NULL;
	}
	n = sk_X509_num(sk);
	sk_X509_pop_free(sk, X509_free);
	if (n < 1) {
		gm_fail(err, GM_EXIT_USAGE, "give the PEM file the CA supplied",
			"%s '%s' holds no certificate", option, path);
		return NULL;
	}
	abs = realpath(path, NULL);
	if (!abs)
		gm_fail(err, GM_EXIT_USAGE, NULL, "%s '%s': %s", option, path,
			strerror(errno));
	return abs;
}

/* The default of [section] name, from the keys' table. */
static const char *default_of(const char *section, const char *name)
{
	size_t i;

	for (i = 0; gm_config_keys[i].name; i++)
		if (!strcmp(gm_config_keys[i].section, section) &&
		    !strcmp(gm_config_keys[i].name, name))
			return gm_config_keys[i].default_text;
	return "";
}

static char *file_text(const char *url, const char *ca, const char *chain)
{
	return gm_xasprintf(
		"# gmrenew configuration, written by 'gmrenew config init'.\n"
		"# 'man gmrenew' (CONFIGURATION) describes every key; "
		"'gmrenew config show'\n# shows the values in effect.\n\n"
		"[service]\nurl = %s\nca_bundle = %s\nchain_bundle = %s\n"
		"#connect_timeout_ms = %s\n#total_timeout_ms = %s\n\n"
		"[token]\n#module = /opt/ePass3000GM/lib/libes_3000gm.so\n"
		"#profile = epass3000gm\n\n[policy]\n#renew_before_days = %s\n"
		"#renew_after_days = %s\n", url, ca, chain,
		default_of("service", "connect_timeout_ms"),
		default_of("service", "total_timeout_ms"),
		default_of("policy", "renew_before_days"),
		default_of("policy", "renew_after_days"));
}

/* Makes the folders above path (0755), as mkdir -p. */
static void make_parents(const char *path)
{
	char *dir = gm_xstrdup(path), *p;

	for (p = dir + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		(void)mkdir(dir, 0755);
		*p = '/';
	}
	free(dir);
}

static int write_file(const char *path, const char *text, int force,
		      gm_error *err)
{
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW |
		    (force ? O_TRUNC : O_EXCL);
	size_t len = strlen(text);
	int fd;

	make_parents(path);
	fd = open(path, flags, 0644);
	if (fd < 0 && errno == EEXIST)
		return gm_fail(err, GM_EXIT_USAGE, "look at it with 'gmrenew "
			       "config show'; pass --force to replace it",
			       "'%s' exists already", path);
	if (fd < 0)
		return gm_fail(err, GM_EXIT_FAILED, "choose another file with "
			       "--config", "cannot create '%s': %s", path,
			       strerror(errno));
	if (fchmod(fd, 0644) < 0)
		goto fail;
	if (gm_write_all(fd, text, len) < 0)
		goto fail;
	if (close(fd) == 0)
		return 0;
	fd = -1;
fail:
	gm_fail(err, GM_EXIT_FAILED, NULL, "cannot write '%s': %s", path,
		strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* The file init writes: --config, $GMRENEW_CONFIG, else the user's. */
static char *init_target(const gm_cli *cli)
{
	const char *env = getenv("GMRENEW_CONFIG");

	if (cli->config_opt)
		return gm_xstrdup(cli->config_opt);
	if (env && *env)
		return gm_xstrdup(env);
	return gm_config_user_path();
}

/* The written file must read back as a valid configuration. */
static int read_back(const char *path, gm_error *err)
{
	gm_config check;
	int r;

	gm_config_init(&check);
	r = gm_config_load(&check, path, 1, err);
	gm_config_release(&check);
	return r;
}

static int config_init(gm_cli *cli, const config_opts *o)
{
	char *ca = NULL, *chain = NULL, *text = NULL, *path = NULL;
	gm_error err;
	int code = GM_EXIT_OK;

	if (!o->url || strncmp(o->url, "https://", 8) || !o->url[8]) {
		gm_fail(&err, GM_EXIT_USAGE, "give the service's address as "
			"the CA wrote it, e.g. --url https://renew.example.cn",
			"--url must be an https:// address");
		goto fail;
	}
	ca = checked_bundle(o->ca_bundle ? o->ca_bundle : "", "--ca-bundle",
			    &err);
	if (!ca)
		goto fail;
	chain = checked_bundle(o->chain_bundle ? o->chain_bundle : "",
			       "--chain-bundle", &err);
	if (!chain)
		goto fail;
	path = init_target(cli);
	text = file_text(o->url, ca, chain);
	if (write_file(path, text, o->force, &err) || read_back(path, &err))
		goto fail;
	if (cli->json) {
		cJSON *doc = cJSON_CreateObject();

		cJSON_AddBoolToObject(doc, "ok", 1);
		cJSON_AddStringToObject(doc, "file", path);
		gm_cli_print_json(doc);
	} else {
		gm_print_wrapped(stdout, "", 0, _("Wrote '%s'. Check it with "
				 "'gmrenew check-env'."), path);
	}
	goto out;
fail:
	code = gm_cli_report_error(cli, &err);
out:
	free(ca);
	free(chain);
	free(text);
	free(path);
	return code;
}

static const gm_option options[] = {
	{ "url", 0, GM_OPT_STRING, offsetof(config_opts, url), "URL",
	  N_("init: the CA's renewal service (https://...)") },
	{ "ca-bundle", 0, GM_OPT_STRING, offsetof(config_opts, ca_bundle),
	  "FILE", N_("init: PEM file of the CA of the service's TLS "
		     "certificate") },
	{ "chain-bundle", 0, GM_OPT_STRING, offsetof(config_opts, chain_bundle),
	  "FILE", N_("init: PEM file of the CA's SM2 root certificate") },
	{ "force", 0, GM_OPT_BOOL, offsetof(config_opts, force), NULL,
	  N_("init: replace an existing file") },
	{ NULL, 0, 0, 0, NULL, NULL },
};

const gm_command_options cmd_config_options = {
	options, sizeof(config_opts), NULL, NULL
};

int cmd_config(gm_cli *cli, int argc, char **argv)
{
	const config_opts *o = cli->opts;

	if (argc == 1 && !strcmp(argv[0], "show") && !o->url &&
	    !o->ca_bundle && !o->chain_bundle && !o->force)
		return config_show(cli);
	if (argc == 1 && !strcmp(argv[0], "init"))
		return config_init(cli, o);
	gm_fprintf(stderr, _("usage: gmrenew config show\n"
			     "       gmrenew config init --url URL "
			     "--ca-bundle FILE --chain-bundle FILE "
			     "[--force]\n"));
	return GM_EXIT_USAGE;
}
