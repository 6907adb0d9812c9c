/*
 * token_internal.h - what the files of src/token/ share and nobody else
 * sees: the backend table and the session/module structures (backend.h),
 * and the profile parser.
 */
#ifndef GMRENEW_TOKEN_INTERNAL_H
#define GMRENEW_TOKEN_INTERNAL_H

#include "gmrenew/token.h"
#include "backend.h"

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

/* The snapshot's certificates parsed (facts or problem) and paired; the
 * backend filled the rest (snapshot.c). */
void gm_snapshot_finish(gm_token_snapshot *snap);

#endif
