/*
 * token_internal.h - what the files of src/token/ share and nobody else
 * sees: the backend table and the session/module structures (backend.h),
 * and the profile parser.
 */
#ifndef GMRENEW_TOKEN_INTERNAL_H
#define GMRENEW_TOKEN_INTERNAL_H

#include <p11-kit/pkcs11.h>

#include "gmrenew/token.h"
#include "backend.h"

/* A driver's return code as words: the code's name, what it means, what
 * the user can do (pkcs11/ckr.c, skf/skf_sar.c). */
typedef struct gm_rc_entry {
	unsigned long rv;
	const char *name;
	const char *meaning;
	const char *fix;
} gm_rc_entry;
#define GM_RC(code, meaning, fix) { code, #code, meaning, fix }
/* The fixes both tables give. */
#define GM_FIX_REINSERT \
	N_("re-insert the Ekey; if a renewal was running, finish it with " \
	   "'gmrenew renew-with-code CODE'")
#define GM_FIX_PIN_LOCKED \
	N_("have it unlocked by the security officer (SO PIN) or the CA")
#define GM_FIX_DRIVER \
	N_("update the token's driver; run with -v and report the log")
const gm_rc_entry *gm_rc_find(const gm_rc_entry *table, size_t n,
			      unsigned long rv);
/* "PREFIX0x%08lx" for a code no table knows, in a ring of four buffers. */
const char *gm_rc_unknown(unsigned long rv, const char *prefix);
/* A backend's table of codes. */
typedef struct gm_rc_table {
	const gm_rc_entry *entries;
	size_t n;
} gm_rc_table;
#define GM_RC_TABLE(a) { a, sizeof(a) / sizeof((a)[0]) }
/* A code's name, meaning and fix from its table: for a code the table
 * does not know, its number, the number after unknown (e.g. "unknown
 * error "), and no fix. */
const char *gm_rc_name(const gm_rc_table *t, unsigned long rv);
const char *gm_rc_meaning(const gm_rc_table *t, unsigned long rv,
			  const char *unknown);
const char *gm_rc_fix(const gm_rc_table *t, unsigned long rv);
/* A code's words, found or made up for an unknown one. */
typedef struct gm_rc_words {
	const char *name;
	const char *meaning;
	const char *fix;
} gm_rc_words;
/* err = "OPERATION failed: MEANING (NAME)" with the fix, exit code and
 * reason given, rv in err->detail and the name as the outside code;
 * returns -1. */
int gm_rc_fail(gm_error *err, gm_exit code, unsigned long rv,
	       const gm_rc_words *w, const char *operation, gm_reason reason);

/* err = no token is inserted (GM_EXIT_ENV, GM_REASON_NO_TOKEN); -1. */
int gm_token_none_inserted(gm_error *err);

/* The RFC 7512 URI of a token (its token attributes only); caller frees.
 * Both backends fill a CK_TOKEN_INFO, SKF from DEVINFO. */
char *gm_token_info_uri(const CK_TOKEN_INFO *ti);

/* gm_module_open through a given backend (gm_module_open: PKCS#11). */
int gm_module_open_backend(const gm_token_backend *be, const char *path,
			   gm_module **out, gm_error *err);

/* Applies one [profile.NAME] key to p; GM_EXIT_USAGE naming section, key
 * and value on a bad value. Unit tests reach it through gm_profile_get. */
int gm_profile_apply_kv(gm_profile *p, const char *section, const char *key,
			const char *value, gm_error *err);

/* The SKF ABI of a built-in profile, and one skf_* profile key
 * (src/token/skf/skf_profile.c); 1 when key is not an SKF key. */
void gm_skf_abi_builtin(const char *profile, gm_skf_abi *out);
int gm_skf_profile_kv(gm_skf_abi *abi, const char *section, const char *key,
		      const char *value, gm_error *err);

/* Candidate profiles for detection: those the configuration defines that
 * are not plain EC, then the built-in vendor one (at most max). */
int gm_profile_candidates(const gm_config *cfg, gm_profile *out, size_t *n,
			  size_t max, gm_error *err);

/* The profile a PKCS#11 library fits before a token is chosen (the API
 * choice, docs/skf.md): the module's identity, else each token present by
 * its identity, mechanisms and USB ids, as gm_profile_detect does; else
 * "pkcs11-ec". how gets what decided, in words. The result is kept in m
 * for the token's gm_profile_detect. */
int gm_p11_detect_library(gm_module *m, const gm_config *cfg,
			  gm_profile *out, char *how, size_t how_size,
			  gm_error *err);

/* The user PIN's tries left on the device with this serial and label,
 * read through the SKF side of the library at path (SKF_GetPINInfo: no
 * PIN sent, no try used), at the ABI given; max the counter's maximum.
 * -1 (err says why) when the library does not export what it takes or
 * no device matches (src/token/skf/skf_peek.c). */
int gm_skf_peek_pin(const char *path, const gm_skf_abi *abi,
		    const char *serial, const char *label,
		    unsigned long *left, unsigned long *max, gm_error *err);

/* The snapshot's certificates parsed (facts or problem) and paired; the
 * backend filled the rest (snapshot.c). */
void gm_snapshot_finish(gm_token_snapshot *snap);

#endif
