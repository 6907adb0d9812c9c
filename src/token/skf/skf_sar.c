/*
 * skf_sar.c - SKF return codes as words: the SAR_ name, what it means in a
 * sentence, what the user can do, and the exit code it maps to.
 */
#include <stdio.h>

#include "skf_internal.h"

#define FIX_REINSERT GM_FIX_REINSERT
#define FIX_PIN_LOCKED GM_FIX_PIN_LOCKED
#define FIX_DRIVER GM_FIX_DRIVER
#define FIX_PROFILE \
	N_("check the profile's skf_* values (/usr/share/doc/gmrenew/skf.md), " \
	   "or use --api pkcs11")
#define FIX_ROOM \
	N_("delete containers that are no longer needed from the Ekey with " \
	   "the vendor's tool; nothing was removed")

#define E GM_RC

static const gm_rc_entry sar_table[] = {
	E(SAR_OK, N_("success"), ""),
	E(SAR_FAIL, N_("the device or its driver reported a failure"), N_("try again; if it keeps failing, re-insert the Ekey")),
	E(SAR_UNKNOWNERR, N_("the driver reported an unknown error"), FIX_DRIVER),
	E(SAR_NOTSUPPORTYETERR, N_("the driver does not support this function or value"), FIX_PROFILE),
	E(SAR_FILEERR, N_("a file on the device could not be used"), FIX_REINSERT),
	E(SAR_INVALIDHANDLEERR, N_("the device, application or container handle is no longer valid"), FIX_REINSERT),
	E(SAR_INVALIDPARAMERR, N_("the driver refused a parameter (often an algorithm id of another vendor)"), FIX_PROFILE),
	E(SAR_READFILEERR, N_("reading a file on the device failed"), FIX_REINSERT),
	E(SAR_WRITEFILEERR, N_("writing a file on the device failed"), FIX_REINSERT),
	E(SAR_NAMELENERR, N_("a name is too long for the device (containers: 64 characters)"), FIX_DRIVER),
	E(SAR_KEYUSAGEERR, N_("the key may not be used this way"), ""),
	E(SAR_MODULUSLENERR, N_("the key length is not supported"), ""),
	E(SAR_NOTINITIALIZEERR, N_("the device or the driver is not initialised"), N_("have the Ekey initialised by the CA")),
	E(SAR_OBJERR, N_("an object on the device is in a wrong state"), FIX_REINSERT),
	E(SAR_MEMORYERR, N_("the computer or the device ran out of memory"), N_("close other programs and try again")),
	E(SAR_TIMEOUTERR, N_("the device did not answer in time"), FIX_REINSERT),
	E(SAR_INDATALENERR, N_("the data given has a length the device does not accept"), FIX_PROFILE),
	E(SAR_INDATAERR, N_("the data given was refused"), ""),
	E(SAR_GENRANDERR, N_("the device could not generate random numbers"), FIX_REINSERT),
	E(SAR_HASHOBJERR, N_("the hash object is invalid"), ""),
	E(SAR_HASHERR, N_("the hash operation failed"), ""),
	E(SAR_GENRSAKEYERR, N_("RSA key generation failed"), ""),
	E(SAR_RSAMODULUSLENERR, N_("the RSA modulus length is not supported"), ""),
	E(SAR_CSPIMPRTPUBKEYERR, N_("the public key could not be imported"), ""),
	E(SAR_RSAENCERR, N_("RSA encryption failed"), ""),
	E(SAR_RSADECERR, N_("RSA decryption failed"), ""),
	E(SAR_HASHNOTEQUALERR, N_("the hash values differ"), ""),
	E(SAR_KEYNOTFOUNTERR, N_("the container holds no key of that kind"), ""),
	E(SAR_CERTNOTFOUNTERR, N_("the container holds no certificate of that kind"), ""),
	E(SAR_NOTEXPORTERR, N_("the object cannot be exported"), ""),
	E(SAR_DECRYPTPADERR, N_("the padding of decrypted data is wrong"), ""),
	E(SAR_MACLENERR, N_("the MAC length is wrong"), ""),
	E(SAR_BUFFER_TOO_SMALL, N_("the output buffer was too small"), FIX_DRIVER),
	E(SAR_KEYINFOTYPEERR, N_("the key type is wrong"), ""),
	E(SAR_NOT_EVENTERR, N_("no device event"), ""),
	E(SAR_DEVICE_REMOVED, N_("the Ekey was removed"), FIX_REINSERT),
	E(SAR_PIN_INCORRECT, N_("the PIN is incorrect"), N_("type the Ekey's user PIN again, carefully")),
	E(SAR_PIN_LOCKED, N_("the Ekey's user PIN is locked"), FIX_PIN_LOCKED),
	E(SAR_PIN_INVALID, N_("the PIN contains characters the device does not accept"), N_("check the PIN's characters")),
	E(SAR_PIN_LEN_RANGE, N_("the PIN is too long or too short"), N_("check the PIN's length")),
	E(SAR_USER_ALREADY_LOGGED_IN, N_("the user is already logged in"), ""),
	E(SAR_USER_PIN_NOT_INITIALIZED, N_("the user PIN was never set"), N_("have the Ekey initialised by the CA")),
	E(SAR_USER_TYPE_INVALID, N_("the PIN type is not valid"), FIX_DRIVER),
	E(SAR_APPLICATION_NAME_INVALID, N_("the application name is not valid"), N_("check the profile's skf_application")),
	E(SAR_APPLICATION_EXISTS, N_("the application already exists"), ""),
	E(SAR_USER_NOT_LOGGED_IN, N_("the user is not logged in (or the login was cleared)"), N_("run the command again with the Ekey's user PIN")),
	E(SAR_APPLICATION_NOT_EXISTS, N_("the application does not exist on the device"), N_("check the profile's skf_application")),
	E(SAR_FILE_ALREADY_EXIST, N_("an object of that name already exists"), ""),
	E(SAR_NO_ROOM, N_("the device has no room left"), FIX_ROOM),
	E(SAR_FILE_NOT_EXIST, N_("the object does not exist (any more)"), ""),
	E(SAR_REACH_MAX_CONTAINER_COUNT, N_("the device holds as many containers as it can"), FIX_ROOM),
	E(SAR_CONTAINER_ALREADY_EXIST, N_("a container of that name already exists"), ""),
	E(SAR_CONTAINER_NOT_EXIST, N_("the container does not exist (any more)"), ""),
};

#undef E

static const gm_rc_table sar_codes = GM_RC_TABLE(sar_table);

const char *gm_sar_name(skf_rv rv)
{
	return gm_rc_name(&sar_codes, rv);
}

const char *gm_sar_meaning(skf_rv rv)
{
	return gm_rc_meaning(&sar_codes, rv, "unknown error ");
}

const char *gm_sar_fix(skf_rv rv)
{
	return gm_rc_fix(&sar_codes, rv);
}

int gm_sar_is_gone(skf_rv rv)
{
	return rv == SAR_DEVICE_REMOVED || rv == SAR_INVALIDHANDLEERR ||
	       rv == SAR_TIMEOUTERR;
}

gm_exit gm_sar_exit(skf_rv rv)
{
	switch (rv) {
	case SAR_PIN_INCORRECT:
	case SAR_PIN_LOCKED:
	case SAR_PIN_INVALID:
	case SAR_PIN_LEN_RANGE:
	case SAR_USER_PIN_NOT_INITIALIZED:
		return GM_EXIT_PIN;
	case SAR_NOTINITIALIZEERR:
	case SAR_APPLICATION_NOT_EXISTS:
	case SAR_APPLICATION_NAME_INVALID:
		return GM_EXIT_ENV;
	default:
		return gm_sar_is_gone(rv) ? GM_EXIT_ENV : GM_EXIT_FAILED;
	}
}

/* What a SAR code means for a caller that branches on reasons: the
 * API-independent reasons the PKCS#11 side gives for the same event
 * (a wrong PIN, a locked PIN, the Ekey pulled out), else "an SKF code". */
gm_reason gm_sar_reason(skf_rv rv)
{
	switch (rv) {
	case SAR_PIN_INCORRECT:
		return GM_REASON_PIN_INCORRECT;
	case SAR_PIN_LOCKED:
		return GM_REASON_PIN_LOCKED;
	case SAR_DEVICE_REMOVED:
		return GM_REASON_TOKEN_REMOVED;
	default:
		return GM_REASON_SKF;
	}
}

int gm_sar_fail(gm_error *err, skf_rv rv, const char *operation)
{
	gm_rc_words w = { gm_sar_name(rv), gm_sar_meaning(rv), gm_sar_fix(rv) };

	/* the SAR_ name is the outside code, the value the detail */
	return gm_rc_fail(err, gm_sar_exit(rv), rv, &w, operation,
			  gm_sar_reason(rv));
}

void gm_skf_log_rv(const char *call, skf_rv rv)
{
	gm_debug("%s: %s (0x%lx)", call, gm_sar_name(rv), (unsigned long)rv);
}
