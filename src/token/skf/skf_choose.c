/*
 * skf_choose.c - which interface of a token library gmrenew uses: PKCS#11
 * or GM/T 0016 (SKF), asked for or chosen from what the library exports
 * (docs/skf.md, "Which API").
 */
#include <stdio.h>
#include <string.h>

#include "skf_internal.h"

static const char *const api_names[] = { "auto", "pkcs11", "skf" };

const char *gm_token_api_name(gm_token_api api)
{
	return (unsigned)api < 3 ? api_names[api] : "?";
}

int gm_token_api_parse(const char *text, const char *where,
		       gm_token_api *out, gm_error *err)
{
	unsigned i;

	*out = GM_API_AUTO;
	if (!text || !*text)
		return 0;
	for (i = 0; i < 3; i++)
		if (!strcmp(text, api_names[i])) {
			*out = (gm_token_api)i;
			return 0;
		}
	return gm_fail(err, GM_EXIT_USAGE, "use auto, pkcs11 or skf",
		       "%s: '%s' is not a token interface", where, text);
}

/* why is a msgid: the reason in the user's words. */
static void set_why(gm_api_choice *c, gm_token_api used, const char *why)
{
	c->used = used;
	snprintf(c->why, sizeof(c->why), "%s", gm_text(why));
}

static int refuse(const char *path, const gm_api_choice *c, gm_token_api want,
		  gm_error *err)
{
	if (want == GM_API_PKCS11)
		return gm_fail(err, GM_EXIT_ENV,
			       "use --api skf, or the vendor's PKCS#11 driver",
			       "the token library '%s' is not a PKCS#11 "
			       "module: it does not export C_GetFunctionList",
			       path);
	if (c->skf < 0)
		return gm_fail(err, GM_EXIT_ENV,
			       "use --api pkcs11, or a driver that implements "
			       "GM/T 0016 (SKF)",
			       "the token library '%s' does not export %s, "
			       "which gmrenew needs for SKF", path,
			       c->skf_missing);
	return gm_fail(err, GM_EXIT_ENV,
		       "use --api pkcs11, or a driver that implements GM/T "
		       "0016 (SKF)",
		       "the token library '%s' exports no SKF function", path);
}

/* Both offered, a profile named: SKF when it is epass3000gm or rests on
 * it through 'base' keys (cfg), else PKCS#11. */
static void choose_by_profile(gm_api_choice *c, const char *profile,
			      const gm_config *cfg)
{
	const char *base = gm_profile_builtin_base(profile, cfg);

	if (!strcmp(profile, "epass3000gm"))
		set_why(c, GM_API_SKF, N_("the library offers both; SKF for "
			"the epass3000gm profile"));
	else if (base && !strcmp(base, "epass3000gm")) {
		c->used = GM_API_SKF;
		snprintf(c->why, sizeof(c->why), gm_text(N_("the library offers "
			 "both; SKF for profile '%s', which is based on "
			 "epass3000gm")), profile);
	} else
		set_why(c, GM_API_PKCS11, N_("the library offers both; "
			"PKCS#11 for a profile other than epass3000gm"));
}

static int choose(const char *path, gm_token_api want, const char *profile,
		  const gm_config *cfg, gm_api_choice *out, gm_error *err)
{
	memset(out, 0, sizeof(*out));
	if (gm_skf_exports(path, &out->pkcs11, &out->skf, out->skf_missing,
			   sizeof(out->skf_missing),
			   want == GM_API_SKF ? err : NULL)) {
		if (want == GM_API_SKF)
			return -1;
		/* not loadable: opening it as PKCS#11 says why, as ever */
		set_why(out, GM_API_PKCS11, N_("the library could not be "
			"loaded to look at it"));
		return 0;
	}
	if (want == GM_API_PKCS11 || want == GM_API_SKF) {
		if ((want == GM_API_PKCS11 && !out->pkcs11) ||
		    (want == GM_API_SKF && out->skf != 1))
			return refuse(path, out, want, err);
		set_why(out, want, N_("asked for (--api or [token] api)"));
		return 0;
	}
	if (out->pkcs11 && out->skf == 1 && !profile) {
		out->detect = 1;
		set_why(out, GM_API_PKCS11, N_("the library offers both; the "
			"token's detected profile decides"));
	} else if (out->pkcs11 && out->skf == 1) {
		choose_by_profile(out, profile, cfg);
	} else if (out->skf == 1) {
		set_why(out, GM_API_SKF, N_("the library offers only SKF"));
	} else if (out->pkcs11) {
		set_why(out, GM_API_PKCS11,
			N_("the library offers only PKCS#11"));
	} else if (out->skf < 0) {
		return gm_fail(err, GM_EXIT_ENV,
			       "use the vendor's own driver library",
			       "the token library '%s' is not a PKCS#11 module "
			       "and lacks %s for SKF", path, out->skf_missing);
	} else {
		return gm_fail(err, GM_EXIT_ENV,
			       "pass the vendor's driver with --module PATH",
			       "the token library '%s' is not a PKCS#11 module "
			       "(no C_GetFunctionList) and exports no GM/T 0016 "
			       "(SKF) function", path);
	}
	return 0;
}

int gm_token_api_choose(const char *path, gm_token_api want,
			const char *profile, gm_api_choice *out,
			gm_error *err)
{
	return choose(path, want, profile, NULL, out, err);
}

int gm_module_open_api(const char *path, gm_token_api api, gm_module **out,
		       gm_error *err)
{
	return gm_module_open_backend(api == GM_API_SKF ? &gm_skf_backend :
				      &gm_pkcs11_backend, path, out, err);
}

/* Both offered, no profile named: the library opened as PKCS#11 tells
 * which profile fits; SKF for epass3000gm or a configured profile based
 * on it (the PKCS#11 side closed again), else the PKCS#11 module as it
 * is. */
static int open_detected(const char *path, const gm_config *cfg,
			 gm_api_choice *c, gm_module **module, gm_error *err)
{
	char how[200];
	const char *base;
	gm_profile p;
	gm_module *m = NULL;

	if (gm_module_open_backend(&gm_pkcs11_backend, path, &m, err) < 0)
		return -1;
	if (gm_p11_detect_library(m, cfg, &p, how, sizeof(how), err) < 0) {
		gm_module_close(m);
		return -1;
	}
	base = gm_profile_builtin_base(p.name, cfg);
	if (!base || strcmp(base, "epass3000gm")) {
		snprintf(c->why, sizeof(c->why), gm_text(N_("the library "
			 "offers both; PKCS#11 for profile '%s' (detected "
			 "from %s)")), p.name, how);
		*module = m;
		return 0;
	}
	gm_module_close(m);
	c->used = GM_API_SKF;
	if (!strcmp(p.name, "epass3000gm"))
		snprintf(c->why, sizeof(c->why), gm_text(N_("the library "
			 "offers both; SKF for the epass3000gm profile, "
			 "detected from %s")), how);
	else
		snprintf(c->why, sizeof(c->why), gm_text(N_("the library "
			 "offers both; SKF for profile '%s', which is based "
			 "on epass3000gm, detected from %s")), p.name, how);
	return gm_module_open_api(path, GM_API_SKF, module, err);
}

int gm_module_open_chosen(const char *path, gm_token_api want,
			  const gm_config *cfg, gm_api_choice *out,
			  gm_module **module, gm_error *err)
{
	int r;

	*module = NULL;
	if (choose(path, want, cfg ? cfg->profile : NULL, cfg, out, err) < 0) {
		out->used = GM_API_AUTO;
		return -1;
	}
	r = out->detect ? open_detected(path, cfg, out, module, err) :
	    gm_module_open_api(path, out->used, module, err);
	if (r == 0)
		gm_debug("token library '%s': %s API (%s)", path,
			 gm_token_api_name(out->used), out->why);
	return r;
}
