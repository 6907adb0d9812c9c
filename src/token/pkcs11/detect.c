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

	memset(id, 0, sizeof(*id));
	if (p11_library_info(m, &mi, err) < 0)
		return -1;
	snprintf(id->module_manufacturer, sizeof(id->module_manufacturer), "%s",
		 mi.manufacturer);
	return 0;
}

static int token_identity(gm_module *m, CK_SLOT_ID slot, struct identity *id,
			  gm_error *err)
{
	CK_TOKEN_INFO ti;
	CK_RV rv;

	rv = gm_p11_token_identity(m, slot, &ti);
	if (rv != CKR_OK)
		return gm_ckr_fail(err, rv, "reading the token's information");
	gm_p11_trim(id->token_manufacturer, ti.manufacturerID,
		    sizeof(ti.manufacturerID));
	gm_p11_trim(id->token_model, ti.model, sizeof(ti.model));
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

/* The candidate the token fits: identity first, then the mechanism list
 * (a hint: FEITIAN's driver lists none), then USB ids when the module
 * lists no mechanisms; -1 for none. */
static int choose(gm_module *m, CK_SLOT_ID slot, const gm_profile *c,
		  size_t n, int *found, gm_error *err)
{
	CK_MECHANISM_TYPE *list = NULL;
	CK_ULONG nm = 0;
	struct identity id;
	size_t i;

	*found = -1;
	if (module_identity(m, &id, err) < 0)
		return -1;
	for (i = 0; i < n && *found < 0; i++)
		if (module_fits(&c[i], &id))
			*found = (int)i;
	if (*found >= 0)
		return 0;
	/* the token's strings only when the module's did not decide */
	if (token_identity(m, slot, &id, err) < 0)
		return -1;
	for (i = 0; i < n && *found < 0; i++)
		if (token_fits(&c[i], &id))
			*found = (int)i;
	if (*found >= 0)
		return 0;
	if (mechanism_list(m, slot, &list, &nm, err) < 0)
		return -1;
	for (i = 0; i < n && *found < 0; i++)
		if (offers(list, nm, c[i].keygen_mechanism))
			*found = (int)i;
	for (i = 0; i < n && *found < 0 && nm == 0; i++)
		if (usb_present(&c[i]))
			*found = (int)i;
	free(list);
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
