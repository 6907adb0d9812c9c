/*
 * ckr.c - PKCS#11 return codes as words: the CKR_ name, what it means in a
 * sentence, what the user can do, and the exit code it maps to.
 */
#include <stdio.h>
#include <string.h>

#include "p11.h"

#define FIX_REINSERT GM_FIX_REINSERT
#define FIX_PIN_LOCKED GM_FIX_PIN_LOCKED
#define FIX_DRIVER GM_FIX_DRIVER

#define E GM_RC

static const gm_rc_entry ckr_table[] = {
	E(CKR_OK, "success", ""),
	E(CKR_CANCEL, "the operation was cancelled", ""),
	E(CKR_HOST_MEMORY, "the computer ran out of memory", "close other programs and try again"),
	E(CKR_SLOT_ID_INVALID, "the slot does not exist (any more)", FIX_REINSERT),
	E(CKR_GENERAL_ERROR, "the token or its driver reported an unrecoverable error", FIX_REINSERT),
	E(CKR_FUNCTION_FAILED, "the token could not carry out the function", "try again; if it keeps failing, re-insert the Ekey"),
	E(CKR_ARGUMENTS_BAD, "the driver rejected the arguments", FIX_DRIVER),
	E(CKR_NO_EVENT, "no new slot event", ""),
	E(CKR_NEED_TO_CREATE_THREADS, "the driver needs to create threads, which was not allowed", FIX_DRIVER),
	E(CKR_CANT_LOCK, "the driver cannot do the locking asked for", FIX_DRIVER),
	E(CKR_ATTRIBUTE_READ_ONLY, "the attribute cannot be changed", ""),
	E(CKR_ATTRIBUTE_SENSITIVE, "the attribute is sensitive and cannot be read", ""),
	E(CKR_ATTRIBUTE_TYPE_INVALID, "the object has no such attribute", ""),
	E(CKR_ATTRIBUTE_VALUE_INVALID, "an attribute value was refused", ""),
	E(CKR_ACTION_PROHIBITED, "the token's policy forbids the action", ""),
	E(CKR_DATA_INVALID, "the data given was refused", ""),
	E(CKR_DATA_LEN_RANGE, "the data given has a length the token does not accept", ""),
	E(CKR_DEVICE_ERROR, "the token reported a device error", FIX_REINSERT),
	E(CKR_DEVICE_MEMORY, "the token's memory is full", "delete objects that are no longer needed from the Ekey"),
	E(CKR_DEVICE_REMOVED, "the token was removed", FIX_REINSERT),
	E(CKR_ENCRYPTED_DATA_INVALID, "the encrypted data is invalid", ""),
	E(CKR_ENCRYPTED_DATA_LEN_RANGE, "the encrypted data has a wrong length", ""),
	E(CKR_FUNCTION_CANCELED, "the function was cancelled", ""),
	E(CKR_FUNCTION_NOT_PARALLEL, "no function is running in parallel", ""),
	E(CKR_FUNCTION_NOT_SUPPORTED, "the driver does not support this function", FIX_DRIVER),
	E(CKR_KEY_HANDLE_INVALID, "the key handle is not valid", ""),
	E(CKR_KEY_SIZE_RANGE, "the key size is outside what the token supports", ""),
	E(CKR_KEY_TYPE_INCONSISTENT, "the key type does not fit the mechanism", "check the token profile's key type and mechanisms"),
	E(CKR_KEY_NOT_NEEDED, "a key was given that is not needed", ""),
	E(CKR_KEY_CHANGED, "the key changed since the state was saved", ""),
	E(CKR_KEY_NEEDED, "a key is needed to restore the state", ""),
	E(CKR_KEY_INDIGESTIBLE, "the key cannot be digested", ""),
	E(CKR_KEY_FUNCTION_NOT_PERMITTED, "the key's attributes do not allow this use", ""),
	E(CKR_KEY_NOT_WRAPPABLE, "the key cannot be wrapped", ""),
	E(CKR_KEY_UNEXTRACTABLE, "the key cannot be extracted", ""),
	E(CKR_MECHANISM_INVALID, "the token does not offer the mechanism", "check the token profile's mechanisms (/usr/share/doc/gmrenew/token-profiles.md)"),
	E(CKR_MECHANISM_PARAM_INVALID, "the mechanism's parameters were refused", "check the token profile (/usr/share/doc/gmrenew/token-profiles.md)"),
	E(CKR_OBJECT_HANDLE_INVALID, "the object does not exist (any more)", ""),
	E(CKR_OPERATION_ACTIVE, "another operation is still active in the session", ""),
	E(CKR_OPERATION_NOT_INITIALIZED, "no operation of that kind was started", ""),
	E(CKR_PIN_INCORRECT, "the PIN is incorrect", "type the Ekey's user PIN again, carefully"),
	E(CKR_PIN_INVALID, "the PIN contains characters the token does not accept", "check the PIN's characters"),
	E(CKR_PIN_LEN_RANGE, "the PIN is too long or too short", "check the PIN's length"),
	E(CKR_PIN_EXPIRED, "the PIN has expired", "change the PIN with the vendor's tool first"),
	E(CKR_PIN_LOCKED, "the Ekey's user PIN is locked", FIX_PIN_LOCKED),
	E(CKR_SESSION_CLOSED, "the session was closed", FIX_REINSERT),
	E(CKR_SESSION_COUNT, "the token has too many open sessions", "close other programs that use the Ekey"),
	E(CKR_SESSION_HANDLE_INVALID, "the session is no longer valid", FIX_REINSERT),
	E(CKR_SESSION_PARALLEL_NOT_SUPPORTED, "the token does not support parallel sessions", ""),
	E(CKR_SESSION_READ_ONLY, "the session is read-only", ""),
	E(CKR_SESSION_EXISTS, "a session is open with the token", "close other programs that use the Ekey"),
	E(CKR_SESSION_READ_ONLY_EXISTS, "a read-only session exists, so the security officer cannot log in", "close other programs that use the Ekey"),
	E(CKR_SESSION_READ_WRITE_SO_EXISTS, "a security officer session exists", "close other programs that use the Ekey"),
	E(CKR_SIGNATURE_INVALID, "the signature is invalid", ""),
	E(CKR_SIGNATURE_LEN_RANGE, "the signature has a wrong length", ""),
	E(CKR_TEMPLATE_INCOMPLETE, "the object template is incomplete", "check the token profile (/usr/share/doc/gmrenew/token-profiles.md)"),
	E(CKR_TEMPLATE_INCONSISTENT, "the object template is inconsistent", "check the token profile (/usr/share/doc/gmrenew/token-profiles.md)"),
	E(CKR_TOKEN_NOT_PRESENT, "the token is not present", FIX_REINSERT),
	E(CKR_TOKEN_NOT_RECOGNIZED, "the driver does not recognise the token", "check that the driver fits this Ekey"),
	E(CKR_TOKEN_WRITE_PROTECTED, "the token is write-protected", ""),
	E(CKR_UNWRAPPING_KEY_SIZE_RANGE, "the unwrapping key has a wrong size", ""),
	E(CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT, "the unwrapping key type does not fit", ""),
	E(CKR_USER_ALREADY_LOGGED_IN, "the user is already logged in", ""),
	E(CKR_USER_NOT_LOGGED_IN, "the user is not logged in", "log in with the Ekey's user PIN"),
	E(CKR_USER_PIN_NOT_INITIALIZED, "the user PIN was never set", "have the Ekey initialised by the CA"),
	E(CKR_USER_TYPE_INVALID, "the user type is not valid", ""),
	E(CKR_USER_ANOTHER_ALREADY_LOGGED_IN, "another user is already logged in", "close other programs that use the Ekey"),
	E(CKR_USER_TOO_MANY_TYPES, "too many user types are logged in", "close other programs that use the Ekey"),
	E(CKR_WRAPPED_KEY_INVALID, "the wrapped key is invalid", ""),
	E(CKR_WRAPPED_KEY_LEN_RANGE, "the wrapped key has a wrong length", ""),
	E(CKR_WRAPPING_KEY_HANDLE_INVALID, "the wrapping key handle is invalid", ""),
	E(CKR_WRAPPING_KEY_SIZE_RANGE, "the wrapping key has a wrong size", ""),
	E(CKR_WRAPPING_KEY_TYPE_INCONSISTENT, "the wrapping key type does not fit", ""),
	E(CKR_RANDOM_SEED_NOT_SUPPORTED, "the token does not accept a random seed", ""),
	E(CKR_RANDOM_NO_RNG, "the token has no random number generator", ""),
	E(CKR_DOMAIN_PARAMS_INVALID, "the domain parameters (curve) are invalid", "check the token profile's ec_params"),
	E(CKR_CURVE_NOT_SUPPORTED, "the token does not support the curve", "check the token profile's ec_params"),
	E(CKR_BUFFER_TOO_SMALL, "the output buffer was too small", ""),
	E(CKR_SAVED_STATE_INVALID, "the saved state is invalid", ""),
	E(CKR_INFORMATION_SENSITIVE, "the information is sensitive", ""),
	E(CKR_STATE_UNSAVEABLE, "the state cannot be saved", ""),
	E(CKR_CRYPTOKI_NOT_INITIALIZED, "the driver was not initialised", FIX_DRIVER),
	E(CKR_CRYPTOKI_ALREADY_INITIALIZED, "the driver was already initialised", ""),
	E(CKR_MUTEX_BAD, "a bad mutex was given to the driver", FIX_DRIVER),
	E(CKR_MUTEX_NOT_LOCKED, "a mutex was not locked", FIX_DRIVER),
	E(CKR_NEW_PIN_MODE, "the token is in new-PIN mode", ""),
	E(CKR_NEXT_OTP, "the next one-time password is needed", ""),
	E(CKR_EXCEEDED_MAX_ITERATIONS, "the token exceeded its maximum iterations", ""),
	E(CKR_FIPS_SELF_TEST_FAILED, "the token's self test failed", FIX_REINSERT),
	E(CKR_LIBRARY_LOAD_FAILED, "the driver could not load a library it needs", "reinstall the token's driver"),
	E(CKR_PIN_TOO_WEAK, "the PIN is too weak", "choose a stronger PIN"),
	E(CKR_PUBLIC_KEY_INVALID, "the public key is invalid", ""),
	E(CKR_FUNCTION_REJECTED, "the function was rejected", ""),
};

#undef E

static const gm_rc_table ckr_codes = GM_RC_TABLE(ckr_table);

const char *gm_ckr_name(CK_RV rv)
{
	return gm_rc_name(&ckr_codes, rv);
}

const char *gm_ckr_meaning(CK_RV rv)
{
	return gm_rc_meaning(&ckr_codes, rv, rv >= CKR_VENDOR_DEFINED ?
			     "vendor-defined error " : "unknown error ");
}

const char *gm_ckr_fix(CK_RV rv)
{
	return gm_rc_fix(&ckr_codes, rv);
}

int gm_ckr_is_gone(CK_RV rv)
{
	switch (rv) {
	case CKR_DEVICE_REMOVED:
	case CKR_TOKEN_NOT_PRESENT:
	case CKR_DEVICE_ERROR:
	case CKR_SESSION_HANDLE_INVALID:
	case CKR_SESSION_CLOSED:
	case CKR_SLOT_ID_INVALID:
	case CKR_GENERAL_ERROR:
	case CKR_FIPS_SELF_TEST_FAILED:
		return 1;
	default:
		return 0;
	}
}

gm_exit gm_ckr_exit(CK_RV rv)
{
	switch (rv) {
	case CKR_PIN_INCORRECT:
	case CKR_PIN_INVALID:
	case CKR_PIN_LEN_RANGE:
	case CKR_PIN_EXPIRED:
	case CKR_PIN_LOCKED:
	case CKR_PIN_TOO_WEAK:
	case CKR_USER_PIN_NOT_INITIALIZED:
		return GM_EXIT_PIN;
	case CKR_LIBRARY_LOAD_FAILED:
	case CKR_TOKEN_NOT_RECOGNIZED:
	case CKR_CRYPTOKI_NOT_INITIALIZED:
	case CKR_SESSION_COUNT:
	case CKR_SESSION_EXISTS:
	case CKR_USER_ANOTHER_ALREADY_LOGGED_IN:
		return GM_EXIT_ENV;
	default:
		return gm_ckr_is_gone(rv) ? GM_EXIT_ENV : GM_EXIT_FAILED;
	}
}

static gm_reason ckr_reason(CK_RV rv);

int gm_ckr_fail(gm_error *err, CK_RV rv, const char *operation)
{
	gm_rc_words w = { gm_ckr_name(rv), gm_ckr_meaning(rv), gm_ckr_fix(rv) };

	return gm_rc_fail(err, gm_ckr_exit(rv), rv, &w, operation,
			  ckr_reason(rv));
}

/* PKCS#11 codes that mean the Ekey went away during the run. */
static int token_removed(CK_RV rv)
{
	return rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT ||
	       rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED ||
	       rv == CKR_SLOT_ID_INVALID;
}

static gm_reason ckr_reason(CK_RV rv)
{
	return rv == CKR_PIN_INCORRECT ? GM_REASON_PIN_INCORRECT :
	       token_removed(rv) ? GM_REASON_TOKEN_REMOVED : GM_REASON_PKCS11;
}

int gm_ckr_set_reason(gm_error *err, CK_RV rv)
{
	return gm_error_set_outside(err, ckr_reason(rv), gm_ckr_name(rv));
}
