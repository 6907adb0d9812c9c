/*
 * detect.c - which profile fits a PKCS#11 token when none was named: the
 * module's and the token's identity, the mechanisms offered, USB ids.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "p11.h"

#define MAX_CANDIDATES 16

static int offers(const CK_MECHANISM_TYPE *list, CK_ULONG n,
		  CK_MECHANISM_TYPE mech)
{
	CK_ULONG i;

	for (i = 0; i < n; i++)
		if (list[i] == mech)
			return 1;
	return 0;
}

#define MECHS_GUESS 128
#define MECHS_MAX 4096

static CK_RV get_mechanism_list(gm_module *m, CK_ULONG slot, CK_ULONG *list,
				CK_ULONG *count)
{
	return p11_mod(m)->f->C_GetMechanismList(slot, list, count);
}

/* The mechanisms a slot offers: one call with a buffer that fits the usual
 * lists, again with the size the module said when it did not. Caller
 * frees *out. */
static int mechanism_list(gm_module *m, CK_SLOT_ID slot,
			  CK_MECHANISM_TYPE **out, CK_ULONG *n, gm_error *err)
{
	static const p11_list_bounds b = { MECHS_GUESS, MECHS_MAX, 4,
		"C_GetMechanismList", "listing the token's mechanisms" };

	return p11_list(get_mechanism_list, m, slot, &b, out, n, err);
}

/* What the module and the token say they are. */
struct identity {
	char module_manufacturer[33];
	char token_manufacturer[33];
	char token_model[17];
};

static int module_identity(gm_module *m, struct identity *id, gm_error *err)
{
	gm_module_info mi;

	if (p11_library_info(m, &mi, err) < 0)
		return -1;
	snprintf(id->module_manufacturer, sizeof(id->module_manufacturer), "%s",
		 mi.manufacturer);
	return 0;
}

/* The module's manufacturer equal to the profile's. */
static int module_fits(const gm_profile *p, const struct identity *id)
{
	return p->module_manufacturer[0] &&
	       !strcasecmp(p->module_manufacturer, id->module_manufacturer);
}

/* The token's model (and manufacturer, when the profile names one) equal
 * to the profile's. */
static int token_fits(const gm_profile *p, const struct identity *id)
{
	return p->token_model[0] && !strcasecmp(p->token_model, id->token_model) &&
	       (!p->token_manufacturer[0] ||
		!strcasecmp(p->token_manufacturer, id->token_manufacturer));
}

/* A device with the profile's USB ids is on the bus. */
static int usb_present(const gm_profile *p)
{
	gm_usb_device *devs = NULL;
	size_t n = 0;
	gm_error ignored;

	if (!p->usb_vendor || gm_usb_scan(p->usb_vendor, p->usb_product, &devs,
					  &n, &ignored) < 0)
		return 0;
	free(devs);
	return n > 0;
}

/* The candidate the module's identity fits (C_GetInfo), -1 for none. */
static int module_step(gm_module *m, const gm_profile *c, size_t n,
		       struct identity *id, int *found, gm_error *err)
{
	size_t i;

	*found = -1;
	if (module_identity(m, id, err) < 0)
		return -1;
	for (i = 0; i < n && *found < 0; i++)
		if (module_fits(&c[i], id))
			*found = (int)i;
	return 0;
}

/* What decided a detection, for the API choice's words. */
enum detect_by { BY_NONE, BY_MODULE, BY_TOKEN, BY_MECHANISM, BY_USB };

/* The candidate the token in slot fits when the module's identity did
 * not decide: the token's identity (id, filled), then the mechanism list
 * (a hint: FEITIAN's driver lists none), then USB ids when the module
 * lists no mechanisms; -1 for none. */
static int token_steps(gm_module *m, CK_SLOT_ID slot, const gm_profile *c,
		       size_t n, const struct identity *id, int *found,
		       enum detect_by *by, gm_error *err)
{
	CK_MECHANISM_TYPE *list = NULL;
	CK_ULONG nm = 0;
	size_t i;

	*found = -1;
	*by = BY_TOKEN;
	for (i = 0; i < n && *found < 0; i++)
		if (token_fits(&c[i], id))
			*found = (int)i;
	if (*found >= 0)
		return 0;
	if (mechanism_list(m, slot, &list, &nm, err) < 0)
		return -1;
	for (i = 0; i < n && *found < 0; i++)
		if (offers(list, nm, c[i].keygen_mechanism))
			*found = (int)i;
	*by = *found >= 0 ? BY_MECHANISM : BY_USB;
	for (i = 0; i < n && *found < 0 && nm == 0; i++)
		if (usb_present(&c[i]))
			*found = (int)i;
	if (*found < 0)
		*by = BY_NONE;
	free(list);
	return 0;
}

/* The first candidate the token's identity fits, when the module's
 * identity could not decide otherwise: no other candidate names a module
 * manufacturer (the module step finds that one, or none and then the
 * token step finds it). -1 when the module's identity is needed. */
static int token_decides(const gm_profile *c, size_t n,
			 const struct identity *id)
{
	size_t i;
	int t = -1;

	for (i = 0; i < n && t < 0; i++)
		if (token_fits(&c[i], id))
			t = (int)i;
	for (i = 0; t >= 0 && i < n; i++)
		if ((int)i != t && c[i].module_manufacturer[0])
			return -1;
	return t;
}

/* The candidate the token fits: the module's identity first, then the
 * token's steps; -1 for none. The token's identity, read when the token
 * was chosen, is looked at first: when it decides whatever the module
 * says, the module is not asked (C_GetInfo is a call on the Ekey). */
static int choose(gm_module *m, CK_SLOT_ID slot, const gm_profile *c,
		  size_t n, int *found, gm_error *err)
{
	struct identity id;
	enum detect_by by;
	CK_TOKEN_INFO ti;
	CK_RV rv;

	memset(&id, 0, sizeof(id));
	rv = gm_p11_token_identity(m, slot, &ti);
	if (rv != CKR_OK)
		return gm_ckr_fail(err, rv, "reading the token's information");
	gm_p11_trim(id.token_manufacturer, ti.manufacturerID,
		    sizeof(ti.manufacturerID));
	gm_p11_trim(id.token_model, ti.model, sizeof(ti.model));
	*found = token_decides(c, n, &id);
	if (*found >= 0)
		return 0;
	if (module_step(m, c, n, &id, found, err) < 0)
		return -1;
	if (*found >= 0)
		return 0;
	return token_steps(m, slot, c, n, &id, found, &by, err);
}

/* Remembers what the API choice detected, so that the token's own
 * detection needs no call again: for every slot when the module's
 * identity decided, else for the slot whose token decided. */
static void remember(gm_module *m, const gm_profile *p, int any_slot,
		     CK_SLOT_ID slot)
{
	struct p11_module *pm = p11_mod(m);

	pm->detected = any_slot ? P11_DETECTED_ANY : P11_DETECTED_SLOT;
	pm->detected_slot = slot;
	pm->detected_profile = *p;
}

static void say_how(char *how, size_t size, enum detect_by by,
		    const struct identity *id, const gm_profile *p)
{
	switch (by) {
	case BY_MODULE:
		snprintf(how, size, gm_text(N_("the library's manufacturer "
			 "'%s'")), id->module_manufacturer);
		break;
	case BY_TOKEN:
		snprintf(how, size, gm_text(N_("the token's manufacturer '%s' "
			 "and model '%s'")), id->token_manufacturer,
			 id->token_model);
		break;
	case BY_MECHANISM:
		snprintf(how, size, "%s", gm_text(N_("the token's key "
			 "generation mechanism")));
		break;
	case BY_USB:
		snprintf(how, size, gm_text(N_("a device with USB id "
			 "%04x:%04x")), p->usb_vendor, p->usb_product);
		break;
	default:
		snprintf(how, size, "%s", gm_text(N_("nothing that identifies "
			 "a known token")));
	}
}

/* The tokens' steps, token by token, until one fits a candidate. */
static int tokens_step(gm_module *m, const gm_profile *c, size_t n,
		       struct identity *id, int *found, enum detect_by *by,
		       CK_SLOT_ID *slot, size_t *seen, gm_error *err)
{
	gm_token_info *infos = NULL;
	size_t nt = 0, i;
	int ret = 0;

	*found = -1;
	*by = BY_NONE;
	if (p11_tokens(m, &infos, &nt, err) < 0)
		return -1;
	*seen = nt;
	for (i = 0; i < nt && *found < 0 && !ret; i++) {
		snprintf(id->token_manufacturer, sizeof(id->token_manufacturer),
			 "%s", infos[i].manufacturer);
		snprintf(id->token_model, sizeof(id->token_model), "%s",
			 infos[i].model);
		*slot = (CK_SLOT_ID)infos[i].slot;
		ret = token_steps(m, *slot, c, n, id, found, by, err);
	}
	gm_token_infos_free(infos, nt);
	return ret;
}

int gm_p11_detect_library(gm_module *m, const gm_config *cfg,
			  gm_profile *out, char *how, size_t how_size,
			  gm_error *err)
{
	struct identity id;
	enum detect_by by = BY_MODULE;
	CK_SLOT_ID slot = 0;
	gm_profile *c;
	size_t n = 0, seen = 0;
	int found = -1, ret = -1;

	memset(&id, 0, sizeof(id));
	c = gm_xcalloc(MAX_CANDIDATES, sizeof(*c));
	if (gm_profile_candidates(cfg, c, &n, MAX_CANDIDATES, err) < 0 ||
	    module_step(m, c, n, &id, &found, err) < 0)
		goto out;
	if (found < 0 &&
	    tokens_step(m, c, n, &id, &found, &by, &slot, &seen, err) < 0)
		goto out;
	if (found >= 0)
		*out = c[found];
	else if (gm_profile_get("pkcs11-ec", cfg, out, err) < 0)
		goto out;
	say_how(how, how_size, by, &id, out);
	/* what fits for the token's detection: the module's identity for
	 * every slot, a token's for its own; none fitting, every token
	 * present was looked at */
	if (found >= 0 || seen > 0)
		remember(m, out, found < 0 || by == BY_MODULE, slot);
	gm_debug("the library fits profile '%s' (%s)", out->name, how);
	ret = 0;
out:
	free(c);
	return ret;
}

/* What the API choice detected for this token, if anything. */
static int remembered(gm_module *m, CK_SLOT_ID slot, gm_profile *out)
{
	struct p11_module *pm = p11_mod(m);

	if (pm->detected == P11_DETECTED_ANY ||
	    (pm->detected == P11_DETECTED_SLOT && pm->detected_slot == slot)) {
		*out = pm->detected_profile;
		return 1;
	}
	return 0;
}

int p11_detect_profile(gm_module *m, const gm_token_info *t,
		       const gm_config *cfg, gm_profile *out, gm_error *err)
{
	CK_SLOT_ID slot = (CK_SLOT_ID)t->slot;
	gm_profile *c;
	size_t n = 0;
	int found = -1, ret = -1;

	if (cfg && cfg->profile)
		return gm_profile_get(cfg->profile, cfg, out, err);
	if (remembered(m, slot, out)) {
		gm_debug("token in slot %lu: profile '%s', as detected for the "
			 "API choice", (unsigned long)slot, out->name);
		return 0;
	}
	c = gm_xcalloc(MAX_CANDIDATES, sizeof(*c));
	if (gm_profile_candidates(cfg, c, &n, MAX_CANDIDATES, err) < 0 ||
	    choose(m, slot, c, n, &found, err) < 0)
		goto out;
	if (found >= 0)
		*out = c[found];
	else if (gm_profile_get("pkcs11-ec", cfg, out, err) < 0)
		goto out;
	gm_debug("token in slot %lu: profile '%s'", (unsigned long)slot,
		 out->name);
	ret = 0;
out:
	free(c);
	return ret;
}
