/*
 * test_ckr.c - the CKR_* table: every code of pkcs11.h has its name, a
 * meaning and a fitting exit code; unknown and vendor codes are readable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/token/pkcs11/p11.h"	/* the CKR table is internal */

struct code {
	CK_RV rv;
	const char *name;
};

#define C(x) { x, #x }
static const struct code all_codes[] = {
	C(CKR_OK),
	C(CKR_CANCEL),
	C(CKR_HOST_MEMORY),
	C(CKR_SLOT_ID_INVALID),
	C(CKR_GENERAL_ERROR),
	C(CKR_FUNCTION_FAILED),
	C(CKR_ARGUMENTS_BAD),
	C(CKR_NO_EVENT),
	C(CKR_NEED_TO_CREATE_THREADS),
	C(CKR_CANT_LOCK),
	C(CKR_ATTRIBUTE_READ_ONLY),
	C(CKR_ATTRIBUTE_SENSITIVE),
	C(CKR_ATTRIBUTE_TYPE_INVALID),
	C(CKR_ATTRIBUTE_VALUE_INVALID),
	C(CKR_ACTION_PROHIBITED),
	C(CKR_DATA_INVALID),
	C(CKR_DATA_LEN_RANGE),
	C(CKR_DEVICE_ERROR),
	C(CKR_DEVICE_MEMORY),
	C(CKR_DEVICE_REMOVED),
	C(CKR_ENCRYPTED_DATA_INVALID),
	C(CKR_ENCRYPTED_DATA_LEN_RANGE),
	C(CKR_FUNCTION_CANCELED),
	C(CKR_FUNCTION_NOT_PARALLEL),
	C(CKR_FUNCTION_NOT_SUPPORTED),
	C(CKR_KEY_HANDLE_INVALID),
	C(CKR_KEY_SIZE_RANGE),
	C(CKR_KEY_TYPE_INCONSISTENT),
	C(CKR_KEY_NOT_NEEDED),
	C(CKR_KEY_CHANGED),
	C(CKR_KEY_NEEDED),
	C(CKR_KEY_INDIGESTIBLE),
	C(CKR_KEY_FUNCTION_NOT_PERMITTED),
	C(CKR_KEY_NOT_WRAPPABLE),
	C(CKR_KEY_UNEXTRACTABLE),
	C(CKR_MECHANISM_INVALID),
	C(CKR_MECHANISM_PARAM_INVALID),
	C(CKR_OBJECT_HANDLE_INVALID),
	C(CKR_OPERATION_ACTIVE),
	C(CKR_OPERATION_NOT_INITIALIZED),
	C(CKR_PIN_INCORRECT),
	C(CKR_PIN_INVALID),
	C(CKR_PIN_LEN_RANGE),
	C(CKR_PIN_EXPIRED),
	C(CKR_PIN_LOCKED),
	C(CKR_SESSION_CLOSED),
	C(CKR_SESSION_COUNT),
	C(CKR_SESSION_HANDLE_INVALID),
	C(CKR_SESSION_PARALLEL_NOT_SUPPORTED),
	C(CKR_SESSION_READ_ONLY),
	C(CKR_SESSION_EXISTS),
	C(CKR_SESSION_READ_ONLY_EXISTS),
	C(CKR_SESSION_READ_WRITE_SO_EXISTS),
	C(CKR_SIGNATURE_INVALID),
	C(CKR_SIGNATURE_LEN_RANGE),
	C(CKR_TEMPLATE_INCOMPLETE),
	C(CKR_TEMPLATE_INCONSISTENT),
	C(CKR_TOKEN_NOT_PRESENT),
	C(CKR_TOKEN_NOT_RECOGNIZED),
	C(CKR_TOKEN_WRITE_PROTECTED),
	C(CKR_UNWRAPPING_KEY_SIZE_RANGE),
	C(CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT),
	C(CKR_USER_ALREADY_LOGGED_IN),
	C(CKR_USER_NOT_LOGGED_IN),
	C(CKR_USER_PIN_NOT_INITIALIZED),
	C(CKR_USER_TYPE_INVALID),
	C(CKR_USER_ANOTHER_ALREADY_LOGGED_IN),
	C(CKR_USER_TOO_MANY_TYPES),
	C(CKR_WRAPPED_KEY_INVALID),
	C(CKR_WRAPPED_KEY_LEN_RANGE),
	C(CKR_WRAPPING_KEY_HANDLE_INVALID),
	C(CKR_WRAPPING_KEY_SIZE_RANGE),
	C(CKR_WRAPPING_KEY_TYPE_INCONSISTENT),
	C(CKR_RANDOM_SEED_NOT_SUPPORTED),
	C(CKR_RANDOM_NO_RNG),
	C(CKR_DOMAIN_PARAMS_INVALID),
	C(CKR_CURVE_NOT_SUPPORTED),
	C(CKR_BUFFER_TOO_SMALL),
	C(CKR_SAVED_STATE_INVALID),
	C(CKR_INFORMATION_SENSITIVE),
	C(CKR_STATE_UNSAVEABLE),
	C(CKR_CRYPTOKI_NOT_INITIALIZED),
	C(CKR_CRYPTOKI_ALREADY_INITIALIZED),
	C(CKR_MUTEX_BAD),
	C(CKR_MUTEX_NOT_LOCKED),
	C(CKR_NEW_PIN_MODE),
	C(CKR_NEXT_OTP),
	C(CKR_EXCEEDED_MAX_ITERATIONS),
	C(CKR_FIPS_SELF_TEST_FAILED),
	C(CKR_LIBRARY_LOAD_FAILED),
	C(CKR_PIN_TOO_WEAK),
	C(CKR_PUBLIC_KEY_INVALID),
	C(CKR_FUNCTION_REJECTED),
};
#undef C

#define N_CODES (sizeof(all_codes) / sizeof(all_codes[0]))

static void every_code_is_named(void **state)
{
	size_t i;

	(void)state;
	assert_true(N_CODES >= 90);
	for (i = 0; i < N_CODES; i++) {
		const char *meaning = gm_ckr_meaning(all_codes[i].rv);

		assert_string_equal(gm_ckr_name(all_codes[i].rv),
				    all_codes[i].name);
		assert_non_null(meaning);
		assert_true(strlen(meaning) > 3);
		assert_null(strstr(meaning, "unknown"));
		assert_null(strstr(meaning, "vendor-defined"));
		assert_non_null(gm_ckr_fix(all_codes[i].rv));
	}
}

static void vendor_and_unknown_codes(void **state)
{
	(void)state;
	assert_string_equal(gm_ckr_name(0x80000123UL), "0x80000123");
	assert_string_equal(gm_ckr_meaning(0x80000123UL),
			    "vendor-defined error 0x80000123");
	assert_string_equal(gm_ckr_meaning(0x0000ffffUL),
			    "unknown error 0x0000ffff");
	assert_string_equal(gm_ckr_fix(0x80000123UL), "");
}

static void fail_message_and_detail(void **state)
{
	gm_error err;

	(void)state;
	memset(&err, 0, sizeof(err));
	assert_int_equal(gm_ckr_fail(&err, CKR_MECHANISM_INVALID,
				     "signing on the token"), -1);
	assert_string_equal(err.msg, "signing on the token failed: the token "
			    "does not offer the mechanism (CKR_MECHANISM_INVALID)");
	assert_int_equal(err.code, GM_EXIT_FAILED);
	assert_int_equal(err.detail, (long)CKR_MECHANISM_INVALID);
	assert_non_null(strstr(err.fix, "profile"));
	/* NULL error is allowed */
	assert_int_equal(gm_ckr_fail(NULL, CKR_DEVICE_ERROR, "x"), -1);
}

/* The reason of a PKCS#11 failure is typed; the CKR_ name is kept as the
 * outside code and is what JSON shows for codes without a reason of their
 * own. */
static void typed_reasons(void **state)
{
	gm_error err;

	(void)state;
	gm_ckr_fail(&err, CKR_MECHANISM_INVALID, "x");
	assert_int_equal(err.reason, GM_REASON_PKCS11);
	assert_string_equal(err.outside, "CKR_MECHANISM_INVALID");
	assert_string_equal(gm_error_reason_name(&err), "CKR_MECHANISM_INVALID");
	assert_string_equal(gm_error_code(&err), "CKR_MECHANISM_INVALID");
	gm_ckr_fail(&err, CKR_PIN_INCORRECT, "x");
	assert_int_equal(err.reason, GM_REASON_PIN_INCORRECT);
	assert_string_equal(gm_error_reason_name(&err), "CKR_PIN_INCORRECT");
	gm_ckr_fail(&err, CKR_DEVICE_REMOVED, "x");
	assert_int_equal(err.reason, GM_REASON_TOKEN_REMOVED);
	assert_string_equal(err.outside, "CKR_DEVICE_REMOVED");
	assert_string_equal(gm_error_reason_name(&err), "token_removed");
}

/* Every reason has one name of its own, a word JSON can carry; without a
 * reason the exit code names it. */
static void reason_names(void **state)
{
	gm_error err;
	int r, q;

	(void)state;
	assert_null(gm_reason_name(GM_REASON_NONE));
	assert_null(gm_reason_name(GM_REASON_COUNT));
	for (r = GM_REASON_NONE + 1; r < GM_REASON_COUNT; r++) {
		const char *n = gm_reason_name((gm_reason)r);

		assert_non_null(n);
		assert_int_equal(strspn(n, "abcdefghijklmnopqrstuvwxyz"
					"ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789"),
				 strlen(n));
		for (q = GM_REASON_NONE + 1; q < r; q++)
			assert_string_not_equal(n, gm_reason_name((gm_reason)q));
	}
	assert_int_equal(gm_reason_of_protocol("unknown_code"),
			 GM_REASON_UNKNOWN_CODE);
	assert_int_equal(gm_reason_of_protocol("not_due"), GM_REASON_NOT_DUE);
	/* only the protocol's codes: a service cannot claim a token reason */
	assert_int_equal(gm_reason_of_protocol("no_token"),
			 GM_REASON_SERVICE_CODE);
	assert_int_equal(gm_reason_of_protocol("something_new"),
			 GM_REASON_SERVICE_CODE);
	gm_fail(&err, GM_EXIT_SERVICE, NULL, "x");
	gm_error_set_outside(&err, GM_REASON_SERVICE_CODE, "something_new");
	assert_string_equal(gm_error_reason_name(&err), "something_new");
	gm_error_set_outside(&err, GM_REASON_SERVICE_CODE, "token_removed");
	assert_string_equal(gm_error_reason_name(&err), "service_error");
	gm_fail(&err, GM_EXIT_ENV, NULL, "x");
	assert_string_equal(gm_error_reason_name(&err), "environment");
	gm_fail(&err, GM_EXIT_SERVICE, NULL, "x");
	assert_string_equal(gm_error_reason_name(&err), "service_unavailable");
}

static void exit_codes(void **state)
{
	static const CK_RV pin[] = {
		CKR_PIN_INCORRECT, CKR_PIN_LOCKED, CKR_PIN_LEN_RANGE,
		CKR_PIN_EXPIRED, CKR_PIN_INVALID,
	};
	static const CK_RV gone[] = {
		CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_PRESENT, CKR_DEVICE_ERROR,
		CKR_SESSION_HANDLE_INVALID, CKR_SESSION_CLOSED,
	};
	static const CK_RV failed[] = {
		CKR_MECHANISM_INVALID, CKR_TEMPLATE_INCONSISTENT,
		CKR_FUNCTION_FAILED, CKR_KEY_TYPE_INCONSISTENT, 0x80000001UL,
	};
	gm_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(pin) / sizeof(pin[0]); i++) {
		gm_ckr_fail(&err, pin[i], "logging in");
		assert_int_equal(err.code, GM_EXIT_PIN);
	}
	for (i = 0; i < sizeof(gone) / sizeof(gone[0]); i++) {
		gm_ckr_fail(&err, gone[i], "signing");
		assert_int_equal(err.code, GM_EXIT_ENV);
		assert_non_null(strstr(err.fix, "re-insert the Ekey"));
		assert_non_null(strstr(err.fix,
				       "gmrenew renew-with-code CODE"));
	}
	for (i = 0; i < sizeof(failed) / sizeof(failed[0]); i++) {
		gm_ckr_fail(&err, failed[i], "signing");
		assert_int_equal(err.code, GM_EXIT_FAILED);
	}
	gm_ckr_fail(&err, CKR_PIN_LOCKED, "logging in");
	assert_non_null(strstr(err.fix, "security officer"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_code_is_named),
		cmocka_unit_test(vendor_and_unknown_codes),
		cmocka_unit_test(fail_message_and_detail),
		cmocka_unit_test(exit_codes),
		cmocka_unit_test(typed_reasons),
		cmocka_unit_test(reason_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
