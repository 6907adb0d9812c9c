/*
 * codes.c - what the backends' code tables (CKR_ in pkcs11/ckr.c, SAR_ in
 * skf/skf_sar.c) share: finding a code, naming one no table knows; and
 * what both backends say of tokens: none inserted, and a token's RFC 7512
 * URI.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/uri.h>

#include "token_internal.h"

const gm_rc_entry *gm_rc_find(const gm_rc_entry *table, size_t n,
			      unsigned long rv)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (table[i].rv == rv)
			return &table[i];
	return NULL;
}

const char *gm_rc_name(const gm_rc_table *t, unsigned long rv)
{
	const gm_rc_entry *e = gm_rc_find(t->entries, t->n, rv);

	return e ? e->name : gm_rc_unknown(rv, "");
}

const char *gm_rc_meaning(const gm_rc_table *t, unsigned long rv,
			  const char *unknown)
{
	const gm_rc_entry *e = gm_rc_find(t->entries, t->n, rv);

	return e ? e->meaning : gm_rc_unknown(rv, unknown);
}

const char *gm_rc_fix(const gm_rc_table *t, unsigned long rv)
{
	const gm_rc_entry *e = gm_rc_find(t->entries, t->n, rv);

	return e ? e->fix : "";
}

/* Unknown codes are formatted into a small ring of buffers, so that a few
 * can be used in one message. Not thread-safe, like the CLI. */
const char *gm_rc_unknown(unsigned long rv, const char *prefix)
{
	static char ring[4][64];
	static unsigned next;
	char *buf = ring[next++ % 4];

	snprintf(buf, sizeof(ring[0]), "%s0x%08lx", prefix, rv);
	return buf;
}

int gm_rc_fail(gm_error *err, gm_exit code, unsigned long rv,
	       const gm_rc_words *w, const char *operation, gm_reason reason)
{
	/* the meaning (and an operation given in words) in the user's
	 * language; the code's name stays as it is */
	gm_fail(err, code, w->fix[0] ? w->fix : NULL, "%s failed: %s (%s)",
		gm_text(operation), gm_text(w->meaning), w->name);
	if (err)
		err->detail = (long)rv;
	return gm_error_set_outside(err, reason, w->name);
}

int gm_token_none_inserted(gm_error *err)
{
	gm_fail(err, GM_EXIT_ENV, "insert the Ekey", "no token is inserted");
	return gm_error_set_reason(err, GM_REASON_NO_TOKEN);
}

char *gm_token_info_uri(const CK_TOKEN_INFO *ti)
{
	P11KitUri *uri = p11_kit_uri_new();
	char *text = NULL, *ret;

	memcpy(p11_kit_uri_get_token_info(uri), ti, sizeof(*ti));
	if (p11_kit_uri_format(uri, P11_KIT_URI_FOR_TOKEN, &text) !=
	    P11_KIT_URI_OK)
		text = NULL;
	p11_kit_uri_free(uri);
	ret = gm_xstrdup(text ? text : "pkcs11:");
	free(text);
	return ret;
}
