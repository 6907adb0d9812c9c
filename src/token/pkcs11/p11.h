/*
 * p11.h - what the files of the PKCS#11 backend share: its module and
 * session data, the CKR table, and the attribute reader.
 */
#ifndef GMRENEW_TOKEN_P11_H
#define GMRENEW_TOKEN_P11_H

#include <p11-kit/pkcs11.h>

#include "../token_internal.h"

#define P11_SEEN_MAX 4

enum { P11_DETECTED_NONE, P11_DETECTED_ANY, P11_DETECTED_SLOT };

struct p11_module {
	void *dl;			/* dlopen handle */
	CK_FUNCTION_LIST *f;		/* the module's function list */
	int finalize;			/* we initialised it, so we finalise */
	/* the token information read last, for the first slots read */
	CK_TOKEN_INFO seen[P11_SEEN_MAX];
	CK_SLOT_ID seen_slot[P11_SEEN_MAX];
	size_t n_seen;
	/* the profile the API choice detected (gm_p11_detect_library), for
	 * every slot or for detected_slot's token: detection reads it */
	int detected;			/* P11_DETECTED_* */
	CK_SLOT_ID detected_slot;
	gm_profile detected_profile;
};

struct p11_session {
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE h;
	CK_FLAGS flags;			/* as opened */
	gm_pin_state last;		/* the PIN state read last, kept for */
	int have_last;			/* the login that follows it */
};

/* A list of CK_ULONGs (slots, mechanisms) read with one call into a
 * buffer of guess entries, again with the size the module said when it
 * did not fit, at most tries times and max entries; a size that makes no
 * sense is CKR_GENERAL_ERROR. Caller frees *out. */
typedef CK_RV (*p11_list_call)(gm_module *m, CK_ULONG arg, CK_ULONG *list,
			       CK_ULONG *count);
typedef struct p11_list_bounds {
	CK_ULONG guess, max;
	int tries;
	const char *call_name;	/* for the debug log */
	const char *what;	/* for the error: "listing ..." */
} p11_list_bounds;
int p11_list(p11_list_call call, gm_module *m, CK_ULONG arg,
	     const p11_list_bounds *b, CK_ULONG **out, CK_ULONG *n,
	     gm_error *err);

static inline struct p11_module *p11_mod(const gm_module *m)
{
	return m->impl;
}

static inline CK_FUNCTION_LIST *p11_fl(const gm_session *s)
{
	return p11_mod(s->m)->f;
}

static inline struct p11_session *p11_sess(const gm_session *s)
{
	return s->impl;
}

static inline CK_SESSION_HANDLE p11_h(const gm_session *s)
{
	return p11_sess(s)->h;
}

/* Logs one PKCS#11 call's result at -v: "C_Login: CKR_OK". */
#define gm_p11_log(call, rv) \
	gm_debug("%s: %s (0x%lx)", (call), gm_ckr_name(rv), (unsigned long)(rv))

/* ---- return codes (ckr.c) ---- */
const char *gm_ckr_name(CK_RV rv);	/* "CKR_PIN_INCORRECT", "0x..." */
const char *gm_ckr_meaning(CK_RV rv);	/* a sentence */
const char *gm_ckr_fix(CK_RV rv);	/* what to do, or "" */
/* Fills err: "<operation> failed: <meaning> (<name>)", the fix, and the
 * exit code that fits rv; err->detail = rv. Returns -1. */
int gm_ckr_fail(gm_error *err, CK_RV rv, const char *operation);
/* Whether rv means the token or its session went away. */
int gm_ckr_is_gone(CK_RV rv);
/* The reason of a PKCS#11 code (the CKR_ name kept as the outside code);
 * returns -1. */
int gm_ckr_set_reason(gm_error *err, CK_RV rv);
/* The exit code that fits rv (GM_EXIT_PIN, GM_EXIT_ENV or GM_EXIT_FAILED). */
gm_exit gm_ckr_exit(CK_RV rv);

/* ---- module and tokens (module.c, tokens.c) ---- */
/* Copies a blank-padded PKCS#11 string of n bytes into dst (size n + 1),
 * without the trailing blanks and NULs. */
void gm_p11_trim(char *dst, const unsigned char *src, size_t n);
/* C_GetTokenInfo for a slot, logged. */
CK_RV gm_p11_token_info(gm_module *m, CK_SLOT_ID slot, CK_TOKEN_INFO *ti);
/* The token's identity strings (label, manufacturer, model, serial) as
 * read last in this run, or read now: they do not change while the token
 * stays in; its flags (the PIN state) are always read afresh. */
CK_RV gm_p11_token_identity(gm_module *m, CK_SLOT_ID slot,
			    CK_TOKEN_INFO *ti);
int p11_open(gm_module *m, gm_error *err);
void p11_close(gm_module *m);
int p11_library_info(gm_module *m, gm_module_info *out, gm_error *err);
int p11_tokens(gm_module *m, gm_token_info **out, size_t *n, gm_error *err);
int p11_select(gm_module *m, const char *uri, gm_token_info *out,
	       gm_error *err);
int p11_detect_profile(gm_module *m, const gm_token_info *t,
		       const gm_config *cfg, gm_profile *out, gm_error *err);

/* ---- sessions and PIN (session.c) ---- */
int p11_session_open(gm_session *s, const gm_token_info *t, int read_write,
		     gm_error *err);
void p11_session_close(gm_session *s);
int p11_pin_state(gm_session *s, gm_pin_state *out, gm_error *err);
int p11_login(gm_session *s, const char *pin, size_t pin_len, gm_error *err);

/* ---- attributes (attrs.c): the one reader ---- */
#define P11_ATTRS_MAX 10	/* attributes asked for in one call */
/* An attribute-level failure: the other attributes were still answered. */
int p11_partial_rv(CK_RV rv);
/* One C_GetAttributeValue with the buffers given, lengths checked against
 * them (a module that reports more than it was given fails the call). */
CK_RV p11_get_attrs(gm_session *s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE *a,
		    CK_ULONG n);
/* The one fetch of a single attribute (a->type set) into a new buffer
 * with one extra byte for a NUL: with a buffer of guess bytes first when
 * guess is not 0, size then value when it did not fit (or guess is 0).
 * Unreadable (sensitive, invalid, unavailable): pValue NULL, ulValueLen
 * CK_UNAVAILABLE_INFORMATION and CKR_OK; a failed call returns its CK_RV. */
CK_RV p11_fetch(gm_session *s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE *a,
		CK_ULONG guess);
/* Frees and clears the values of a[0..n). */
void p11_attrs_free(CK_ATTRIBUTE *a, size_t n);

/* ---- listing (listing.c) ---- */
int p11_snapshot(gm_session *s, gm_token_snapshot *out, gm_error *err);
/* After login: the private keys, one search for them, joined to the
 * snapshot's key pairs (backend.h, private_keys). */
int p11_private_keys(gm_session *s, gm_token_snapshot *snap, gm_error *err);
/* Every object matching tmpl; FindObjectsFinal always. Caller frees. */
int p11_find(gm_session *s, CK_ATTRIBUTE *tmpl, CK_ULONG n_tmpl,
	     CK_OBJECT_HANDLE **out, size_t *n, const char *what,
	     gm_error *err);

/* ---- keys and signing (keys.c) ---- */
/* Where the session's profile keeps public points. */
int p11_pub_in_modulus(const gm_session *s);
/* The public key from the point attributes read (CKA_EC_PARAMS and
 * CKA_EC_POINT, or CKA_MODULUS X||Y), NULL with err when unusable. */
EVP_PKEY *p11_point_to_key(const gm_session *s, const CK_ATTRIBUTE *params,
			   const CK_ATTRIBUTE *point, gm_error *err);
/* The point of a public key object (the profile's attribute), as a key. */
int p11_read_pubkey(gm_session *s, CK_OBJECT_HANDLE pub, EVP_PKEY **out,
		    gm_error *err);
int p11_generate_keypair(gm_session *s, const unsigned char *id,
			 size_t id_len, const char *label,
			 gm_snapshot_key *out, gm_error *err);
int p11_sign_digest(gm_session *s, gm_token_ref key,
		    const unsigned char digest[GM_DIGEST_LEN],
		    unsigned char **sig, size_t *sig_len, gm_error *err);

/* ---- writing (write.c) ---- */
int p11_store_cert(gm_session *s, const gm_snapshot_key *key,
		   const char *label, const unsigned char *der,
		   size_t der_len, gm_token_ref *out, gm_error *err);
int p11_read_cert(gm_session *s, gm_token_ref cert, unsigned char **der,
		  size_t *der_len, gm_error *err);
int p11_destroy(gm_session *s, gm_token_ref obj, gm_error *err);
int p11_relabel(gm_session *s, gm_token_ref obj, const char *label,
		gm_error *err);

/* A certificate object with this CKA_ID, label and container name ("" =
 * none). */
int p11_store_cert_as(gm_session *s, const unsigned char *id, size_t id_len,
		      const char *container, const char *label,
		      const unsigned char *der, size_t der_len,
		      gm_token_ref *out, gm_error *err);

/* ---- double certificates (envelope.c) ---- */
int p11_can_import(const gm_session *s);
int p11_import_envelope(gm_session *s, const gm_snapshot_key *key,
			const gm_enveloped_key *env, EVP_PKEY **token_pub,
			gm_error *err);
int p11_store_enc_cert(gm_session *s, const gm_snapshot_key *key,
		       const unsigned char *der, size_t der_len,
		       gm_token_ref *out, gm_error *err);
int p11_read_encryption(gm_session *s, const gm_snapshot_key *key,
			unsigned char **der, size_t *der_len, EVP_PKEY **pub,
			gm_error *err);
int p11_enc_pair(gm_session *s, const gm_snapshot_key *key, EVP_PKEY *pub,
		 gm_snapshot_key *out, gm_error *err);

/* References: a certificate is one object (a); a key pair its private (a)
 * and public (b) key objects, either CK_INVALID_HANDLE. */
static inline gm_token_ref p11_cert_ref(CK_OBJECT_HANDLE h)
{
	return (gm_token_ref){ GM_REF_CERT, h, CK_INVALID_HANDLE };
}

static inline gm_token_ref p11_pair_ref(CK_OBJECT_HANDLE priv,
					CK_OBJECT_HANDLE pub)
{
	return (gm_token_ref){ GM_REF_KEYPAIR, priv, pub };
}

#endif
