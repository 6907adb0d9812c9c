/*
 * token_internal.h - what the files of src/token/ share and nobody else sees:
 * the module and session structures, and small PKCS#11 helpers.
 */
#ifndef GMRENEW_TOKEN_INTERNAL_H
#define GMRENEW_TOKEN_INTERNAL_H

#include "gmrenew/token.h"

struct gm_module {
	void *dl;			/* dlopen handle */
	CK_FUNCTION_LIST *f;		/* the module's function list */
	char *path;			/* owned */
	int finalize;			/* we initialised it, so we finalise */
};

struct gm_session {
	gm_module *m;			/* not owned */
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE h;
	int logged_in;
	unsigned pin_max_tries;		/* 0 = unknown */
	int pin_tries_left;		/* -1 = unknown */
	const gm_profile *profile;	/* not owned; NULL = EC defaults */
};

/* Logs one PKCS#11 call's result at -v: "C_Login: CKR_OK". */
#define gm_p11_log(call, rv) \
	gm_debug("%s: %s (0x%lx)", (call), gm_ckr_name(rv), (unsigned long)(rv))

/* Copies a blank-padded PKCS#11 string of n bytes into dst (size n + 1),
 * without the trailing blanks and NULs. */
void gm_p11_trim(char *dst, const unsigned char *src, size_t n);

/* Whether rv means the token or its session went away. */
int gm_ckr_is_gone(CK_RV rv);

/* The exit code that fits rv (GM_EXIT_PIN, GM_EXIT_ENV or GM_EXIT_FAILED). */
gm_exit gm_ckr_exit(CK_RV rv);

/* C_GetTokenInfo for a slot, logged. */
CK_RV gm_p11_token_info(gm_module *m, CK_SLOT_ID slot, CK_TOKEN_INFO *ti);

/* Applies one [profile.NAME] key to p; GM_EXIT_USAGE naming section, key
 * and value on a bad value. Unit tests reach it through gm_profile_get. */
int gm_profile_apply_kv(gm_profile *p, const char *section, const char *key,
			const char *value, gm_error *err);

/* The SKF ABI of a built-in profile, and one skf_* profile key
 * (src/token/skf/skf_profile.c); 1 when key is not an SKF key. */
void gm_skf_abi_builtin(const char *profile, gm_skf_abi *out);
int gm_skf_profile_kv(gm_skf_abi *abi, const char *section, const char *key,
		      const char *value, gm_error *err);

#endif
