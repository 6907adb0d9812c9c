/* st_internal.h - state shared by the parts of the soft ePass3000GM module.
 * Every operation runs with the module mutex held (see st_module.c), so
 * the functions declared here do no locking of their own except the
 * flock(2) of the state directory. */
#ifndef GMSOFT_INTERNAL_H
#define GMSOFT_INTERNAL_H

#include <limits.h>

#include "st_fault.h"
#include "st_object.h"

#define GMSOFT_MAX_SESSIONS 64
#define GMSOFT_MAX_SLOTS 64
/* Handles of session objects (CKA_TOKEN false) have this bit set. */
#define GMSOFT_SESSION_OBJECT_BIT 0x40000000UL
#define GMSOFT_NOBODY ((CK_USER_TYPE)-1)

struct gmsoft_session {
	CK_SESSION_HANDLE handle; /* 0: free entry */
	CK_SLOT_ID slot;
	CK_FLAGS flags;
	int finding;
	CK_OBJECT_HANDLE *found; /* owned */
	size_t nfound, pos;
	int signing, verifying;
	unsigned char sign_buf[GMSOFT_SM2_DIGEST_MAX]; /* C_SignUpdate input */
	size_t sign_len;
	CK_OBJECT_HANDLE sign_key, verify_key;
};

struct gmsoft_login {
	int used;
	CK_SLOT_ID slot;
	CK_USER_TYPE user;
};

struct gmsoft_sobj {
	CK_SESSION_HANDLE owner;
	CK_SLOT_ID slot;
	struct gmsoft_object obj;
};

struct gmsoft_state {
	int initialized;
	int removed; /* GMSOFT_REMOVE_AT reached in this process */
	char dir[PATH_MAX];
	struct gmsoft_faults faults;
	struct gmsoft_session sessions[GMSOFT_MAX_SESSIONS];
	CK_SESSION_HANDLE next_session;
	struct gmsoft_login logins[GMSOFT_MAX_SLOTS];
	struct gmsoft_sobj *sobjs; /* owned */
	size_t nsobjs;
	CK_OBJECT_HANDLE next_sobj;
};

extern struct gmsoft_state gmsoft_g;

/* Call accounting and fault switches around every entry point, PKCS#11
 * and SKF (st_module.c): begin returns 1 when the call must not do its
 * work, *rv being its result; end traces, unlocks and returns rv. */
int gmsoft_call_begin(enum gmsoft_fn fn, CK_RV *rv);
CK_RV gmsoft_call_end(enum gmsoft_fn fn, CK_RV rv);
/* Forget the SKF handles (a forked child starts afresh; st_skf.c). */
void gmsoft_skf_reset(void);

/* Slots and sessions (st_session.c). */
CK_RV gmsoft_slot_token(CK_SLOT_ID slot, struct gmsoft_token *t);
CK_RV gmsoft_session_get(CK_SESSION_HANDLE h, struct gmsoft_session **s);
CK_USER_TYPE gmsoft_login_user(CK_SLOT_ID slot);
/* Set gmsoft_g.dir from GMSOFT_DIR (prints why on stderr when unusable). */
CK_RV gmsoft_state_dir(void);
/* Check pin against the user (CKU_USER) or SO (CKU_SO) PIN of t,
 * counting a wrong one, as the card does for both APIs; t is saved when
 * its counter changed. The caller holds the exclusive lock and has
 * checked the length its API allows. */
CK_RV gmsoft_pin_check(struct gmsoft_token *t, CK_USER_TYPE user,
		       const unsigned char *pin, size_t len);
void gmsoft_state_reset(void);

/* Objects (st_objops.c). */
/* A copy of object h as seen by session s: CKR_OBJECT_HANDLE_INVALID when
 * missing, or private while the user is not logged in. */
CK_RV gmsoft_obj_get(struct gmsoft_session *s, CK_OBJECT_HANDLE h,
		     struct gmsoft_object *obj);
/* Store new objects (token or session ones, by their CKA_TOKEN). */
CK_RV gmsoft_obj_add(struct gmsoft_session *s, struct gmsoft_object **objs,
		     size_t n);
/* Check that session s may write an object with the given CKA_TOKEN and
 * CKA_PRIVATE values. */
CK_RV gmsoft_obj_writable(struct gmsoft_session *s, int token, int priv);
/* Apply a creation template over defaults; checks value sizes. */
CK_RV gmsoft_obj_apply(struct gmsoft_object *obj, const CK_ATTRIBUTE *tmpl,
		       CK_ULONG n);
void gmsoft_sobjs_drop(CK_SESSION_HANDLE owner);

/* Entry points of each part; the names follow the C_ functions. */
CK_RV gmsoft_op_initialize(CK_VOID_PTR args);
CK_RV gmsoft_op_finalize(CK_VOID_PTR reserved);
CK_RV gmsoft_op_get_info(CK_INFO_PTR info);
CK_RV gmsoft_op_get_slot_list(CK_BBOOL present, CK_SLOT_ID_PTR list,
			      CK_ULONG_PTR count);
CK_RV gmsoft_op_get_slot_info(CK_SLOT_ID slot, CK_SLOT_INFO_PTR info);
CK_RV gmsoft_op_get_token_info(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info);
CK_RV gmsoft_op_init_pin(CK_SESSION_HANDLE h, CK_UTF8CHAR_PTR pin,
			 CK_ULONG len);
CK_RV gmsoft_op_set_pin(CK_SESSION_HANDLE h, CK_UTF8CHAR_PTR old,
			CK_ULONG oldlen, CK_UTF8CHAR_PTR pin, CK_ULONG len);
CK_RV gmsoft_op_open_session(CK_SLOT_ID slot, CK_FLAGS flags,
			     CK_SESSION_HANDLE_PTR h);
CK_RV gmsoft_op_close_session(CK_SESSION_HANDLE h);
CK_RV gmsoft_op_close_all_sessions(CK_SLOT_ID slot);
CK_RV gmsoft_op_get_session_info(CK_SESSION_HANDLE h,
				 CK_SESSION_INFO_PTR info);
CK_RV gmsoft_op_login(CK_SESSION_HANDLE h, CK_USER_TYPE user,
		      CK_UTF8CHAR_PTR pin, CK_ULONG len);
CK_RV gmsoft_op_logout(CK_SESSION_HANDLE h);

/* GMSOFT_UNWRAP (st_unwrap.c): a public key object from a template with
 * the SM2 key type, CKA_MODULUS X||Y and a container name; and
 * C_UnwrapKey of the two mechanisms below. */
CK_RV gmsoft_unwrap_new_pubkey(const CK_ATTRIBUTE *tmpl, CK_ULONG n,
			       struct gmsoft_object *obj);
CK_RV gmsoft_op_unwrap_key(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech,
			   CK_OBJECT_HANDLE key, CK_BYTE_PTR in, CK_ULONG len,
			   CK_ATTRIBUTE_PTR tmpl, CK_ULONG n,
			   CK_OBJECT_HANDLE_PTR out);

CK_RV gmsoft_op_create_object(CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR tmpl,
			      CK_ULONG n, CK_OBJECT_HANDLE_PTR obj);
CK_RV gmsoft_op_destroy_object(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj);
CK_RV gmsoft_op_get_object_size(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj,
				CK_ULONG_PTR size);
CK_RV gmsoft_op_get_attribute_value(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj,
				    CK_ATTRIBUTE_PTR tmpl, CK_ULONG n);
CK_RV gmsoft_op_set_attribute_value(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj,
				    CK_ATTRIBUTE_PTR tmpl, CK_ULONG n);
CK_RV gmsoft_op_find_init(CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR tmpl,
			  CK_ULONG n);
CK_RV gmsoft_op_find(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE_PTR out,
		     CK_ULONG max, CK_ULONG_PTR count);
CK_RV gmsoft_op_find_final(CK_SESSION_HANDLE h);

CK_RV gmsoft_op_get_mechanism_list(CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list,
				   CK_ULONG_PTR count);
CK_RV gmsoft_op_get_mechanism_info(CK_SLOT_ID slot, CK_MECHANISM_TYPE type,
				   CK_MECHANISM_INFO_PTR info);
CK_RV gmsoft_op_sign_init(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech,
			  CK_OBJECT_HANDLE key);
CK_RV gmsoft_op_sign(CK_SESSION_HANDLE h, CK_BYTE_PTR data, CK_ULONG len,
		     CK_BYTE_PTR sig, CK_ULONG_PTR siglen);
CK_RV gmsoft_op_sign_update(CK_SESSION_HANDLE h, CK_BYTE_PTR part,
			    CK_ULONG len);
CK_RV gmsoft_op_sign_final(CK_SESSION_HANDLE h, CK_BYTE_PTR sig,
			   CK_ULONG_PTR siglen);
CK_RV gmsoft_op_verify_init(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech,
			    CK_OBJECT_HANDLE key);
CK_RV gmsoft_op_verify(CK_SESSION_HANDLE h, CK_BYTE_PTR data, CK_ULONG len,
		       CK_BYTE_PTR sig, CK_ULONG siglen);
CK_RV gmsoft_op_generate_key_pair(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech,
				  CK_ATTRIBUTE_PTR pub_tmpl, CK_ULONG npub,
				  CK_ATTRIBUTE_PTR priv_tmpl, CK_ULONG npriv,
				  CK_OBJECT_HANDLE_PTR pub,
				  CK_OBJECT_HANDLE_PTR priv);
CK_RV gmsoft_op_generate_random(CK_SESSION_HANDLE h, CK_BYTE_PTR buf,
				CK_ULONG len);
CK_RV gmsoft_op_seed_random(CK_SESSION_HANDLE h);

#endif
