/*
 * tokens.c - the tokens a module sees, their RFC 7512 URIs (made and matched
 * by p11-kit), and choosing exactly one of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/uri.h>

#include "p11.h"

#define FIX_ONE_TOKEN \
	N_("remove all but one, or pick one with --token 'pkcs11:serial=...'")

static void remember(struct p11_module *pm, CK_SLOT_ID slot,
		     const CK_TOKEN_INFO *ti)
{
	size_t i;

	for (i = 0; i < pm->n_seen && pm->seen_slot[i] != slot; i++)
		;
	if (i == P11_SEEN_MAX)
		return;		/* more tokens than kept: read again */
	pm->seen[i] = *ti;
	pm->seen_slot[i] = slot;
	if (i == pm->n_seen)
		pm->n_seen++;
}

CK_RV gm_p11_token_info(gm_module *m, CK_SLOT_ID slot, CK_TOKEN_INFO *ti)
{
	CK_RV rv = p11_mod(m)->f->C_GetTokenInfo(slot, ti);

	gm_debug("C_GetTokenInfo(slot %lu): %s", (unsigned long)slot,
		 gm_ckr_name(rv));
	if (rv == CKR_OK)
		remember(p11_mod(m), slot, ti);
	return rv;
}

CK_RV gm_p11_token_identity(gm_module *m, CK_SLOT_ID slot,
			    CK_TOKEN_INFO *ti)
{
	const struct p11_module *pm = p11_mod(m);
	size_t i;

	for (i = 0; i < pm->n_seen; i++)
		if (pm->seen_slot[i] == slot) {
			*ti = pm->seen[i];
			return CKR_OK;
		}
	return gm_p11_token_info(m, slot, ti);
}

#define SLOTS_GUESS 16
#define SLOTS_MAX 4096

int p11_list(p11_list_call call, gm_module *m, CK_ULONG arg,
	     const p11_list_bounds *b, CK_ULONG **out, CK_ULONG *n,
	     gm_error *err)
{
	CK_ULONG cap = b->guess, count = 0, *list = NULL;
	CK_RV rv = CKR_OK;
	int tries;

	for (tries = 0; tries < b->tries; tries++) {
		free(list);
		list = gm_xcalloc(cap, sizeof(*list));
		count = cap;
		rv = call(m, arg, list, &count);
		gm_p11_log(b->call_name, rv);
		if (rv != CKR_BUFFER_TOO_SMALL)
			break;
		if (count <= cap || count > b->max) {
			rv = CKR_GENERAL_ERROR;	/* a size that makes no sense */
			break;
		}
		cap = count;
	}
	if (rv == CKR_OK && count > cap)
		rv = CKR_GENERAL_ERROR;	/* more than the buffer held */
	if (rv != CKR_OK) {
		free(list);
		return gm_ckr_fail(err, rv, b->what);
	}
	*out = list;
	*n = count;
	return 0;
}

static CK_RV get_slot_list(gm_module *m, CK_ULONG unused, CK_ULONG *list,
			   CK_ULONG *count)
{
	(void)unused;
	return p11_mod(m)->f->C_GetSlotList(CK_TRUE, list, count);
}

/* The slots with a token: one C_GetSlotList with a buffer that fits the
 * usual few slots; when it does not, with the size the module said (again
 * if a token arrived in between). Caller frees *out. */
static int slot_list(gm_module *m, CK_SLOT_ID **out, CK_ULONG *n,
		     gm_error *err)
{
	static const p11_list_bounds b = { SLOTS_GUESS, SLOTS_MAX, 8,
		"C_GetSlotList", "listing the token slots" };

	return p11_list(get_slot_list, m, 0, &b, out, n, err);
}

static void fill_info(gm_token_info *info, CK_SLOT_ID slot,
		      CK_TOKEN_INFO *ti)
{
	memset(info, 0, sizeof(*info));
	info->slot = slot;
	gm_p11_trim(info->label, ti->label, sizeof(ti->label));
	gm_p11_trim(info->serial, ti->serialNumber, sizeof(ti->serialNumber));
	gm_p11_trim(info->manufacturer, ti->manufacturerID,
		    sizeof(ti->manufacturerID));
	gm_p11_trim(info->model, ti->model, sizeof(ti->model));
	info->flags = (ti->flags & CKF_TOKEN_INITIALIZED ? GM_TOKEN_INITIALIZED : 0) |
		(ti->flags & CKF_LOGIN_REQUIRED ? GM_TOKEN_LOGIN_REQUIRED : 0) |
		(ti->flags & CKF_PROTECTED_AUTHENTICATION_PATH ?
		 GM_TOKEN_PIN_PAD : 0) |
		(ti->flags & CKF_WRITE_PROTECTED ? GM_TOKEN_WRITE_PROTECTED : 0);
	info->uri = gm_token_info_uri(ti);
}

/* Every token present, with its raw CK_TOKEN_INFO (for URI matching) when
 * raw is not NULL. */
static int list_tokens(gm_module *m, gm_token_info **out, CK_TOKEN_INFO **raw,
		       size_t *n, gm_error *err)
{
	CK_SLOT_ID *slots = NULL;
	CK_ULONG count = 0, i;
	gm_token_info *infos;
	CK_TOKEN_INFO *tis;
	size_t got = 0;

	*out = NULL;
	*n = 0;
	if (slot_list(m, &slots, &count, err) < 0)
		return -1;
	infos = gm_xcalloc(count ? count : 1, sizeof(*infos));
	tis = gm_xcalloc(count ? count : 1, sizeof(*tis));
	for (i = 0; i < count; i++) {
		CK_RV rv = gm_p11_token_info(m, slots[i], &tis[got]);

		if (rv != CKR_OK) {
			/* gone since the slot list, or broken: not fatal */
			gm_debug("slot %lu skipped: %s", (unsigned long)slots[i],
				 gm_ckr_meaning(rv));
			continue;
		}
		fill_info(&infos[got], slots[i], &tis[got]);
		got++;
	}
	free(slots);
	*out = infos;
	*n = got;
	if (raw)
		*raw = tis;
	else
		free(tis);
	return 0;
}

int p11_tokens(gm_module *m, gm_token_info **out, size_t *n,
		     gm_error *err)
{
	return list_tokens(m, out, NULL, n, err);
}

/* "A, B and C" of the serials (or labels) of the tokens picked. */
static void describe(char *buf, size_t size, const gm_token_info *infos,
		     const int *picked, size_t n)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		const char *sep = used ? ", " : "";

		if (!picked[i])
			continue;
		if (infos[i].serial[0])
			snprintf(buf + used, size - used, "%s%s", sep,
				 infos[i].serial);
		else
			snprintf(buf + used, size - used, "%slabel '%s'", sep,
				 infos[i].label);
		used = strlen(buf);
	}
}

static int parse_uri(const char *text, P11KitUri **out, gm_error *err)
{
	P11KitUri *uri = p11_kit_uri_new();
	int r = p11_kit_uri_parse(text, P11_KIT_URI_FOR_TOKEN, uri);

	if (r != P11_KIT_URI_OK) {
		p11_kit_uri_free(uri);
		return gm_fail(err, GM_EXIT_USAGE,
			       "write it like 'pkcs11:serial=2A0F96E8B1C40012' "
			       "(the serial is the Ekey number; 'gmrenew --json "
			       "list-certs' prints the token's URI)",
			       "bad token URI '%s': %s", text,
			       p11_kit_uri_message(r));
	}
	*out = uri;
	return 0;
}

int p11_select(gm_module *m, const char *uri, gm_token_info *out,
		    gm_error *err)
{
	gm_token_info *infos = NULL;
	CK_TOKEN_INFO *raw = NULL;
	P11KitUri *puri = NULL;
	size_t n = 0, i, hits = 0, hit = 0, uninitialised = 0;
	int *picked = NULL;
	char list[GM_ERR_MSG_MAX / 2];
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (uri && !*uri)
		uri = NULL;
	if (uri && parse_uri(uri, &puri, err) < 0)
		return -1;
	if (list_tokens(m, &infos, &raw, &n, err) < 0)
		goto out;
	if (n == 0) {
		gm_token_none_inserted(err);
		goto out;
	}
	picked = gm_xcalloc(n, sizeof(*picked));
	for (i = 0; i < n; i++) {
		/* A token never initialised (SoftHSM's spare slot, a blank
		 * key) holds no certificate: it does not count. */
		if (!(infos[i].flags & GM_TOKEN_INITIALIZED)) {
			gm_debug("slot %lu: token not initialised, ignored",
				 (unsigned long)infos[i].slot);
			uninitialised++;
			continue;
		}
		picked[i] = !puri || p11_kit_uri_match_token_info(puri, &raw[i]);
		if (picked[i]) {
			hits++;
			hit = i;
		}
	}
	if (uninitialised == n) {
		gm_fail(err, GM_EXIT_ENV, "have the Ekey initialised by the CA",
			"the inserted token is not initialised");
		gm_error_set_reason(err, GM_REASON_TOKEN_NOT_INITIALISED);
		goto out;
	}
	if (hits == 1) {
		*out = infos[hit];	/* the caller owns out->uri now */
		infos[hit].uri = NULL;
		gm_debug("selected the token in slot %lu (serial '%s')",
			 (unsigned long)out->slot, out->serial);
		ret = 0;
		goto out;
	}
	if (hits == 0) {
		for (i = 0; i < n; i++)
			picked[i] = !!(infos[i].flags & GM_TOKEN_INITIALIZED);
		describe(list, sizeof(list), infos, picked, n);
		gm_fail(err, GM_EXIT_ENV,
			"check the URI against the inserted tokens listed",
			"no inserted token matches '%s' (inserted: %s)", uri,
			list);
		gm_error_set_reason(err, GM_REASON_NO_MATCHING_TOKEN);
		goto out;
	}
	describe(list, sizeof(list), infos, picked, n);
	if (puri)
		gm_fail(err, GM_EXIT_ENV,
			"pick one with --token 'pkcs11:serial=...'",
			"%zu inserted tokens match '%s' (serials %s): the CA's "
			"rule is one Ekey at a time", hits, uri, list);
	else
		gm_fail(err, GM_EXIT_ENV, FIX_ONE_TOKEN,
			"%zu tokens are inserted (serials %s): the CA's rule is "
			"one Ekey at a time", hits, list);
	gm_error_set_reason(err, GM_REASON_SEVERAL_TOKENS);
out:
	free(picked);
	free(raw);
	gm_token_infos_free(infos, n);
	if (puri)
		p11_kit_uri_free(puri);
	return ret;
}
