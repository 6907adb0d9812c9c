/* st_module.c - the PKCS#11 entry points of the soft ePass3000GM.
 *
 * Every C_ function goes through call_begin()/call_end(): they hold the
 * module mutex for the whole call (CKF_OS_LOCKING_OK), count the call
 * (one global index and one count per function, both per process), and
 * apply the fault switches of st_fault.h. The work itself is done by the
 * gmsoft_op_* functions of st_session.c, st_objops.c and st_mechops.c. */
#include "st_internal.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#define GMSOFT_EXPORT __attribute__((visibility("default")))

static pthread_mutex_t module_mutex = PTHREAD_MUTEX_INITIALIZER;
static pid_t owner_pid;
static unsigned long call_index;
static unsigned long fn_calls[FN_COUNT];
static CK_RV config_rv;
static int config_loaded; /* in this process */

/* A forked child is a new process: it starts afresh, as after a reload. */
static void process_check(void)
{
	if (owner_pid == getpid())
		return;
	if (owner_pid) {
		gmsoft_state_reset();
		gmsoft_skf_reset();
	}
	owner_pid = getpid();
	call_index = 0;
	config_loaded = 0;
	for (int i = 0; i < FN_COUNT; i++)
		fn_calls[i] = 0;
}

/* The switches are read by each C_Initialize that initialises, and by
 * the first call of a process, so that calls made before C_Initialize
 * are traced too. */
static void load_config(enum gmsoft_fn fn)
{
	int init = fn == FN_C_Initialize && !gmsoft_g.initialized;

	config_rv = CKR_OK;
	if (!init && config_loaded)
		return;
	config_rv = gmsoft_faults_load(&gmsoft_g.faults);
	config_loaded = 1;
}

/* Returns 1 when the call must not do its work; *rv is then its result.
 * SKF has no C_Initialize: its calls need none, and a malformed switch
 * makes every one of them SAR_FAIL. */
int gmsoft_call_begin(enum gmsoft_fn fn, CK_RV *rv)
{
	const struct gmsoft_faults *f = &gmsoft_g.faults;
	unsigned long nth;

	pthread_mutex_lock(&module_mutex);
	process_check();
	load_config(fn);
	call_index++;
	nth = ++fn_calls[fn];
	if (f->kill_at && call_index == f->kill_at) {
		gmsoft_trace(f, call_index, fn, "SIGKILL");
		raise(SIGKILL);
	}
	if (f->remove_at && call_index >= f->remove_at)
		gmsoft_g.removed = 1;
	gmsoft_latency_start(f->latency_call);
	*rv = gmsoft_faults_forced(f, fn, nth);
	if (*rv != CKR_OK)
		return 1;
	if (gmsoft_fn_is_skf(fn)) {
		*rv = config_rv == CKR_OK ? SAR_OK : SAR_FAIL;
		return config_rv != CKR_OK;
	}
	if (!gmsoft_g.initialized && fn != FN_C_Initialize) {
		*rv = CKR_CRYPTOKI_NOT_INITIALIZED;
		return 1;
	}
	return 0;
}

CK_RV gmsoft_call_end(enum gmsoft_fn fn, CK_RV rv)
{
	const struct gmsoft_faults *f = &gmsoft_g.faults;
	char buf[32];

	gmsoft_latency_finish();
	gmsoft_trace(f, call_index, fn,
		     gmsoft_fn_is_skf(fn) ? gmsoft_sar_name(rv, buf, sizeof(buf)) :
					    gmsoft_rv_name(rv, buf, sizeof(buf)));
	if (f->kill_after && call_index == f->kill_after)
		raise(SIGKILL);
	pthread_mutex_unlock(&module_mutex);
	return rv;
}

#define CALL(fn, expr)                                   \
	do {                                             \
		CK_RV rv_;                               \
		if (!gmsoft_call_begin(FN_##fn, &rv_))   \
			rv_ = (expr);                    \
		return gmsoft_call_end(FN_##fn, rv_);    \
	} while (0)

#define UNSUPPORTED(fn) CALL(fn, CKR_FUNCTION_NOT_SUPPORTED)

static CK_RV initialize(CK_VOID_PTR args)
{
	if (config_rv != CKR_OK)
		return CKR_GENERAL_ERROR;
	return gmsoft_op_initialize(args);
}

CK_RV C_Initialize(CK_VOID_PTR args)
{
	CALL(C_Initialize, initialize(args));
}

CK_RV C_Finalize(CK_VOID_PTR reserved)
{
	CALL(C_Finalize, gmsoft_op_finalize(reserved));
}

CK_RV C_GetInfo(CK_INFO_PTR info)
{
	CALL(C_GetInfo, gmsoft_op_get_info(info));
}

CK_RV C_GetSlotList(CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count)
{
	CALL(C_GetSlotList, gmsoft_op_get_slot_list(present, list, count));
}

CK_RV C_GetSlotInfo(CK_SLOT_ID slot, CK_SLOT_INFO_PTR info)
{
	CALL(C_GetSlotInfo, gmsoft_op_get_slot_info(slot, info));
}

CK_RV C_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
	CALL(C_GetTokenInfo, gmsoft_op_get_token_info(slot, info));
}

CK_RV C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR slot, CK_VOID_PTR res)
{
	(void)flags; (void)slot; (void)res;
	UNSUPPORTED(C_WaitForSlotEvent);
}

CK_RV C_GetMechanismList(CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list,
			 CK_ULONG_PTR count)
{
	CALL(C_GetMechanismList, gmsoft_op_get_mechanism_list(slot, list, count));
}

CK_RV C_GetMechanismInfo(CK_SLOT_ID slot, CK_MECHANISM_TYPE type,
			 CK_MECHANISM_INFO_PTR info)
{
	CALL(C_GetMechanismInfo, gmsoft_op_get_mechanism_info(slot, type, info));
}

CK_RV C_InitToken(CK_SLOT_ID slot, CK_UTF8CHAR_PTR pin, CK_ULONG len,
		  CK_UTF8CHAR_PTR label)
{
	(void)slot; (void)pin; (void)len; (void)label;
	UNSUPPORTED(C_InitToken);
}

CK_RV C_InitPIN(CK_SESSION_HANDLE h, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	CALL(C_InitPIN, gmsoft_op_init_pin(h, pin, len));
}

CK_RV C_SetPIN(CK_SESSION_HANDLE h, CK_UTF8CHAR_PTR old, CK_ULONG oldlen,
	       CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	CALL(C_SetPIN, gmsoft_op_set_pin(h, old, oldlen, pin, len));
}

CK_RV C_OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR app,
		    CK_NOTIFY notify, CK_SESSION_HANDLE_PTR h)
{
	(void)app; (void)notify;
	CALL(C_OpenSession, gmsoft_op_open_session(slot, flags, h));
}

CK_RV C_CloseSession(CK_SESSION_HANDLE h)
{
	CALL(C_CloseSession, gmsoft_op_close_session(h));
}

CK_RV C_CloseAllSessions(CK_SLOT_ID slot)
{
	CALL(C_CloseAllSessions, gmsoft_op_close_all_sessions(slot));
}

CK_RV C_GetSessionInfo(CK_SESSION_HANDLE h, CK_SESSION_INFO_PTR info)
{
	CALL(C_GetSessionInfo, gmsoft_op_get_session_info(h, info));
}

CK_RV C_GetOperationState(CK_SESSION_HANDLE h, CK_BYTE_PTR state,
			  CK_ULONG_PTR len)
{
	(void)h; (void)state; (void)len;
	UNSUPPORTED(C_GetOperationState);
}

CK_RV C_SetOperationState(CK_SESSION_HANDLE h, CK_BYTE_PTR state, CK_ULONG len,
			  CK_OBJECT_HANDLE enc, CK_OBJECT_HANDLE auth)
{
	(void)h; (void)state; (void)len; (void)enc; (void)auth;
	UNSUPPORTED(C_SetOperationState);
}

CK_RV C_Login(CK_SESSION_HANDLE h, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin,
	      CK_ULONG len)
{
	CALL(C_Login, gmsoft_op_login(h, user, pin, len));
}

CK_RV C_Logout(CK_SESSION_HANDLE h)
{
	CALL(C_Logout, gmsoft_op_logout(h));
}

CK_RV C_CreateObject(CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n,
		     CK_OBJECT_HANDLE_PTR obj)
{
	CALL(C_CreateObject, gmsoft_op_create_object(h, tmpl, n, obj));
}

CK_RV C_CopyObject(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj,
		   CK_ATTRIBUTE_PTR tmpl, CK_ULONG n, CK_OBJECT_HANDLE_PTR copy)
{
	(void)h; (void)obj; (void)tmpl; (void)n; (void)copy;
	UNSUPPORTED(C_CopyObject);
}

CK_RV C_DestroyObject(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj)
{
	CALL(C_DestroyObject, gmsoft_op_destroy_object(h, obj));
}

CK_RV C_GetObjectSize(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj,
		      CK_ULONG_PTR size)
{
	CALL(C_GetObjectSize, gmsoft_op_get_object_size(h, obj, size));
}

CK_RV C_GetAttributeValue(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj,
			  CK_ATTRIBUTE_PTR tmpl, CK_ULONG n)
{
	CALL(C_GetAttributeValue, gmsoft_op_get_attribute_value(h, obj, tmpl, n));
}

CK_RV C_SetAttributeValue(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj,
			  CK_ATTRIBUTE_PTR tmpl, CK_ULONG n)
{
	CALL(C_SetAttributeValue, gmsoft_op_set_attribute_value(h, obj, tmpl, n));
}

CK_RV C_FindObjectsInit(CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR tmpl, CK_ULONG n)
{
	CALL(C_FindObjectsInit, gmsoft_op_find_init(h, tmpl, n));
}

CK_RV C_FindObjects(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE_PTR obj,
		    CK_ULONG max, CK_ULONG_PTR count)
{
	CALL(C_FindObjects, gmsoft_op_find(h, obj, max, count));
}

CK_RV C_FindObjectsFinal(CK_SESSION_HANDLE h)
{
	CALL(C_FindObjectsFinal, gmsoft_op_find_final(h));
}

CK_RV C_EncryptInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
	(void)h; (void)m; (void)k;
	UNSUPPORTED(C_EncryptInit);
}

CK_RV C_Encrypt(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG inlen,
		CK_BYTE_PTR out, CK_ULONG_PTR outlen)
{
	(void)h; (void)in; (void)inlen; (void)out; (void)outlen;
	UNSUPPORTED(C_Encrypt);
}

CK_RV C_EncryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG inlen,
		      CK_BYTE_PTR out, CK_ULONG_PTR outlen)
{
	(void)h; (void)in; (void)inlen; (void)out; (void)outlen;
	UNSUPPORTED(C_EncryptUpdate);
}

CK_RV C_EncryptFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR out, CK_ULONG_PTR outlen)
{
	(void)h; (void)out; (void)outlen;
	UNSUPPORTED(C_EncryptFinal);
}

CK_RV C_DecryptInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
	(void)h; (void)m; (void)k;
	UNSUPPORTED(C_DecryptInit);
}

CK_RV C_Decrypt(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG inlen,
		CK_BYTE_PTR out, CK_ULONG_PTR outlen)
{
	(void)h; (void)in; (void)inlen; (void)out; (void)outlen;
	UNSUPPORTED(C_Decrypt);
}

CK_RV C_DecryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG inlen,
		      CK_BYTE_PTR out, CK_ULONG_PTR outlen)
{
	(void)h; (void)in; (void)inlen; (void)out; (void)outlen;
	UNSUPPORTED(C_DecryptUpdate);
}

CK_RV C_DecryptFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR out, CK_ULONG_PTR outlen)
{
	(void)h; (void)out; (void)outlen;
	UNSUPPORTED(C_DecryptFinal);
}

CK_RV C_DigestInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m)
{
	(void)h; (void)m;
	UNSUPPORTED(C_DigestInit);
}

CK_RV C_Digest(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG inlen,
	       CK_BYTE_PTR out, CK_ULONG_PTR outlen)
{
	(void)h; (void)in; (void)inlen; (void)out; (void)outlen;
	UNSUPPORTED(C_Digest);
}

CK_RV C_DigestUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG inlen)
{
	(void)h; (void)in; (void)inlen;
	UNSUPPORTED(C_DigestUpdate);
}

CK_RV C_DigestKey(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE k)
{
	(void)h; (void)k;
	UNSUPPORTED(C_DigestKey);
}

CK_RV C_DigestFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR out, CK_ULONG_PTR outlen)
{
	(void)h; (void)out; (void)outlen;
	UNSUPPORTED(C_DigestFinal);
}

CK_RV C_SignInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
	CALL(C_SignInit, gmsoft_op_sign_init(h, m, k));
}

CK_RV C_Sign(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG inlen,
	     CK_BYTE_PTR sig, CK_ULONG_PTR siglen)
{
	CALL(C_Sign, gmsoft_op_sign(h, in, inlen, sig, siglen));
}

CK_RV C_SignUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG inlen)
{
	CALL(C_SignUpdate, gmsoft_op_sign_update(h, in, inlen));
}

CK_RV C_SignFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR sig, CK_ULONG_PTR siglen)
{
	CALL(C_SignFinal, gmsoft_op_sign_final(h, sig, siglen));
}

CK_RV C_SignRecoverInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m,
			CK_OBJECT_HANDLE k)
{
	(void)h; (void)m; (void)k;
	UNSUPPORTED(C_SignRecoverInit);
}

CK_RV C_SignRecover(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG inlen,
		    CK_BYTE_PTR sig, CK_ULONG_PTR siglen)
{
	(void)h; (void)in; (void)inlen; (void)sig; (void)siglen;
	UNSUPPORTED(C_SignRecover);
}

CK_RV C_VerifyInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
	CALL(C_VerifyInit, gmsoft_op_verify_init(h, m, k));
}

CK_RV C_Verify(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG inlen,
	       CK_BYTE_PTR sig, CK_ULONG siglen)
{
	CALL(C_Verify, gmsoft_op_verify(h, in, inlen, sig, siglen));
}

CK_RV C_VerifyUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG inlen)
{
	(void)h; (void)in; (void)inlen;
	UNSUPPORTED(C_VerifyUpdate);
}

CK_RV C_VerifyFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR sig, CK_ULONG siglen)
{
	(void)h; (void)sig; (void)siglen;
	UNSUPPORTED(C_VerifyFinal);
}

CK_RV C_VerifyRecoverInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m,
			  CK_OBJECT_HANDLE k)
{
	(void)h; (void)m; (void)k;
	UNSUPPORTED(C_VerifyRecoverInit);
}

CK_RV C_VerifyRecover(CK_SESSION_HANDLE h, CK_BYTE_PTR sig, CK_ULONG siglen,
		      CK_BYTE_PTR out, CK_ULONG_PTR outlen)
{
	(void)h; (void)sig; (void)siglen; (void)out; (void)outlen;
	UNSUPPORTED(C_VerifyRecover);
}

CK_RV C_DigestEncryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG inlen,
			    CK_BYTE_PTR out, CK_ULONG_PTR outlen)
{
	(void)h; (void)in; (void)inlen; (void)out; (void)outlen;
	UNSUPPORTED(C_DigestEncryptUpdate);
}

CK_RV C_DecryptDigestUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG inlen,
			    CK_BYTE_PTR out, CK_ULONG_PTR outlen)
{
	(void)h; (void)in; (void)inlen; (void)out; (void)outlen;
	UNSUPPORTED(C_DecryptDigestUpdate);
}

CK_RV C_SignEncryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG inlen,
			  CK_BYTE_PTR out, CK_ULONG_PTR outlen)
{
	(void)h; (void)in; (void)inlen; (void)out; (void)outlen;
	UNSUPPORTED(C_SignEncryptUpdate);
}

CK_RV C_DecryptVerifyUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG inlen,
			    CK_BYTE_PTR out, CK_ULONG_PTR outlen)
{
	(void)h; (void)in; (void)inlen; (void)out; (void)outlen;
	UNSUPPORTED(C_DecryptVerifyUpdate);
}

CK_RV C_GenerateKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m,
		    CK_ATTRIBUTE_PTR tmpl, CK_ULONG n, CK_OBJECT_HANDLE_PTR k)
{
	(void)h; (void)m; (void)tmpl; (void)n; (void)k;
	UNSUPPORTED(C_GenerateKey);
}

CK_RV C_GenerateKeyPair(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m,
			CK_ATTRIBUTE_PTR pub_tmpl, CK_ULONG npub,
			CK_ATTRIBUTE_PTR priv_tmpl, CK_ULONG npriv,
			CK_OBJECT_HANDLE_PTR pub, CK_OBJECT_HANDLE_PTR priv)
{
	CALL(C_GenerateKeyPair,
	     gmsoft_op_generate_key_pair(h, m, pub_tmpl, npub, priv_tmpl, npriv,
					 pub, priv));
}

CK_RV C_WrapKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE wk,
		CK_OBJECT_HANDLE k, CK_BYTE_PTR out, CK_ULONG_PTR outlen)
{
	(void)h; (void)m; (void)wk; (void)k; (void)out; (void)outlen;
	UNSUPPORTED(C_WrapKey);
}

CK_RV C_UnwrapKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE uk,
		  CK_BYTE_PTR in, CK_ULONG inlen, CK_ATTRIBUTE_PTR tmpl,
		  CK_ULONG n, CK_OBJECT_HANDLE_PTR k)
{
	CALL(C_UnwrapKey, !gmsoft_g.faults.unwrap ? CKR_FUNCTION_NOT_SUPPORTED :
	     gmsoft_op_unwrap_key(h, m, uk, in, inlen, tmpl, n, k));
}

CK_RV C_DeriveKey(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE base,
		  CK_ATTRIBUTE_PTR tmpl, CK_ULONG n, CK_OBJECT_HANDLE_PTR k)
{
	(void)h; (void)m; (void)base; (void)tmpl; (void)n; (void)k;
	UNSUPPORTED(C_DeriveKey);
}

CK_RV C_SeedRandom(CK_SESSION_HANDLE h, CK_BYTE_PTR seed, CK_ULONG len)
{
	(void)seed; (void)len;
	CALL(C_SeedRandom, gmsoft_op_seed_random(h));
}

CK_RV C_GenerateRandom(CK_SESSION_HANDLE h, CK_BYTE_PTR buf, CK_ULONG len)
{
	CALL(C_GenerateRandom, gmsoft_op_generate_random(h, buf, len));
}

CK_RV C_GetFunctionStatus(CK_SESSION_HANDLE h)
{
	(void)h;
	CALL(C_GetFunctionStatus, CKR_FUNCTION_NOT_PARALLEL);
}

CK_RV C_CancelFunction(CK_SESSION_HANDLE h)
{
	(void)h;
	CALL(C_CancelFunction, CKR_FUNCTION_NOT_PARALLEL);
}

static CK_FUNCTION_LIST function_list = {
	{ CRYPTOKI_VERSION_MAJOR, CRYPTOKI_VERSION_MINOR },
	C_Initialize, C_Finalize, C_GetInfo, C_GetFunctionList,
	C_GetSlotList, C_GetSlotInfo, C_GetTokenInfo, C_GetMechanismList,
	C_GetMechanismInfo, C_InitToken, C_InitPIN, C_SetPIN, C_OpenSession,
	C_CloseSession, C_CloseAllSessions, C_GetSessionInfo,
	C_GetOperationState, C_SetOperationState, C_Login, C_Logout,
	C_CreateObject, C_CopyObject, C_DestroyObject, C_GetObjectSize,
	C_GetAttributeValue, C_SetAttributeValue, C_FindObjectsInit,
	C_FindObjects, C_FindObjectsFinal, C_EncryptInit, C_Encrypt,
	C_EncryptUpdate, C_EncryptFinal, C_DecryptInit, C_Decrypt,
	C_DecryptUpdate, C_DecryptFinal, C_DigestInit, C_Digest,
	C_DigestUpdate, C_DigestKey, C_DigestFinal, C_SignInit, C_Sign,
	C_SignUpdate, C_SignFinal, C_SignRecoverInit, C_SignRecover,
	C_VerifyInit, C_Verify, C_VerifyUpdate, C_VerifyFinal,
	C_VerifyRecoverInit, C_VerifyRecover, C_DigestEncryptUpdate,
	C_DecryptDigestUpdate, C_SignEncryptUpdate, C_DecryptVerifyUpdate,
	C_GenerateKey, C_GenerateKeyPair, C_WrapKey, C_UnwrapKey, C_DeriveKey,
	C_SeedRandom, C_GenerateRandom, C_GetFunctionStatus, C_CancelFunction,
	C_WaitForSlotEvent,
};

/* Not counted: it is how a caller finds the counted functions. */
GMSOFT_EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
	if (!list)
		return CKR_ARGUMENTS_BAD;
	*list = &function_list;
	return CKR_OK;
}
