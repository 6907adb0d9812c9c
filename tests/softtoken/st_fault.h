/* st_fault.h - call accounting and fault switches of the soft ePass3000GM.
 * The switches come from environment variables read at C_Initialize; see
 * docs/softtoken.md for their syntax. */
#ifndef GMSOFT_FAULT_H
#define GMSOFT_FAULT_H

#include <limits.h>

#include "st_common.h"
#include "st_skf.h"

/* Every function of CK_FUNCTION_LIST except C_GetFunctionList, then
 * every SKF function (GMSOFT_SKF_FUNCTIONS of st_skf.h). */
#define GMSOFT_FUNCTIONS(X) \
	X(C_Initialize) X(C_Finalize) X(C_GetInfo) X(C_GetSlotList) \
	X(C_GetSlotInfo) X(C_GetTokenInfo) X(C_GetMechanismList) \
	X(C_GetMechanismInfo) X(C_InitToken) X(C_InitPIN) X(C_SetPIN) \
	X(C_OpenSession) X(C_CloseSession) X(C_CloseAllSessions) \
	X(C_GetSessionInfo) X(C_GetOperationState) X(C_SetOperationState) \
	X(C_Login) X(C_Logout) X(C_CreateObject) X(C_CopyObject) \
	X(C_DestroyObject) X(C_GetObjectSize) X(C_GetAttributeValue) \
	X(C_SetAttributeValue) X(C_FindObjectsInit) X(C_FindObjects) \
	X(C_FindObjectsFinal) X(C_EncryptInit) X(C_Encrypt) \
	X(C_EncryptUpdate) X(C_EncryptFinal) X(C_DecryptInit) X(C_Decrypt) \
	X(C_DecryptUpdate) X(C_DecryptFinal) X(C_DigestInit) X(C_Digest) \
	X(C_DigestUpdate) X(C_DigestKey) X(C_DigestFinal) X(C_SignInit) \
	X(C_Sign) X(C_SignUpdate) X(C_SignFinal) X(C_SignRecoverInit) \
	X(C_SignRecover) X(C_VerifyInit) X(C_Verify) X(C_VerifyUpdate) \
	X(C_VerifyFinal) X(C_VerifyRecoverInit) X(C_VerifyRecover) \
	X(C_DigestEncryptUpdate) X(C_DecryptDigestUpdate) \
	X(C_SignEncryptUpdate) X(C_DecryptVerifyUpdate) X(C_GenerateKey) \
	X(C_GenerateKeyPair) X(C_WrapKey) X(C_UnwrapKey) X(C_DeriveKey) \
	X(C_SeedRandom) X(C_GenerateRandom) X(C_GetFunctionStatus) \
	X(C_CancelFunction) X(C_WaitForSlotEvent)

#define GMSOFT_FN_ENUM(name) FN_##name,
enum gmsoft_fn {
	GMSOFT_FUNCTIONS(GMSOFT_FN_ENUM)
	GMSOFT_SKF_FUNCTIONS(GMSOFT_FN_ENUM)
	FN_COUNT
};
#undef GMSOFT_FN_ENUM

const char *gmsoft_fn_name(enum gmsoft_fn fn);
/* Whether fn is an SKF function (its results are SAR_ values). */
int gmsoft_fn_is_skf(enum gmsoft_fn fn);

#define GMSOFT_MAX_FAIL_RULES 32

struct gmsoft_fail_rule {
	enum gmsoft_fn fn;
	unsigned long nth; /* 1-based, per function */
	CK_RV rv; /* a SAR_ value for an SKF function */
};

struct gmsoft_faults {
	struct gmsoft_fail_rule fail[GMSOFT_MAX_FAIL_RULES];
	size_t nfail;
	unsigned long remove_at;   /* 0: never */
	int remove_all;            /* GMSOFT_REMOVE_SLOT unset */
	CK_SLOT_ID remove_slot;
	unsigned long kill_at;     /* 0: never */
	unsigned long kill_after;  /* 0: never */
	unsigned long kill_in_write;
	unsigned long latency_call, latency_keygen, latency_sign; /* ms */
	unsigned long lie_length;  /* added to every value length returned */
	unsigned long find_max;    /* C_FindObjects hands out at most this
				      many handles a call (0: all asked) */
	char trace[PATH_MAX];      /* "" when off */
	int unwrap;                /* GMSOFT_UNWRAP=1: C_UnwrapKey of the
				      enveloped key and public key objects
				      by C_CreateObject (st_unwrap.c) */
};

/* Read the GMSOFT_* switches. On a malformed value, prints why on stderr
 * and returns CKR_ARGUMENTS_BAD. */
CK_RV gmsoft_faults_load(struct gmsoft_faults *f);
/* The CK_RV forced on call number nth of fn, or CKR_OK. */
CK_RV gmsoft_faults_forced(const struct gmsoft_faults *f, enum gmsoft_fn fn,
			   unsigned long nth);
/* Append "<index> <function> <CKR or SAR name>\n" to the trace file, if
 * any. */
void gmsoft_trace(const struct gmsoft_faults *f, unsigned long index,
		  enum gmsoft_fn fn, const char *result);
/* GMSOFT_LATENCY: a call lasts at least its latency from its start, the
 * token's own work included, as a USB key's call does (the work of the
 * device is inside its latency). Started by gmsoft_call_begin with the
 * per-call latency; key generation and signing add theirs; the rest is
 * slept in gmsoft_call_end. */
void gmsoft_latency_start(unsigned long ms);
void gmsoft_latency_add(unsigned long ms);
void gmsoft_latency_finish(void);

#endif
