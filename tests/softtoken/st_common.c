/* st_common.c - name tables and small helpers of the soft ePass3000GM. */
#include "st_common.h"
#include "st_skf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const unsigned char gmsoft_sm2_oid_der[10] = {
	0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d
};

struct name_entry {
	unsigned long value;
	const char *name;
};

#define N(x) { x, #x }

static const struct name_entry rv_names[] = {
	N(CKR_OK), N(CKR_CANCEL), N(CKR_HOST_MEMORY), N(CKR_SLOT_ID_INVALID),
	N(CKR_GENERAL_ERROR), N(CKR_FUNCTION_FAILED), N(CKR_ARGUMENTS_BAD),
	N(CKR_NO_EVENT), N(CKR_NEED_TO_CREATE_THREADS), N(CKR_CANT_LOCK),
	N(CKR_ATTRIBUTE_READ_ONLY), N(CKR_ATTRIBUTE_SENSITIVE),
	N(CKR_ATTRIBUTE_TYPE_INVALID), N(CKR_ATTRIBUTE_VALUE_INVALID),
	N(CKR_ACTION_PROHIBITED), N(CKR_DATA_INVALID), N(CKR_DATA_LEN_RANGE),
	N(CKR_DEVICE_ERROR), N(CKR_DEVICE_MEMORY), N(CKR_DEVICE_REMOVED),
	N(CKR_ENCRYPTED_DATA_INVALID), N(CKR_ENCRYPTED_DATA_LEN_RANGE),
	N(CKR_FUNCTION_CANCELED), N(CKR_FUNCTION_NOT_PARALLEL),
	N(CKR_FUNCTION_NOT_SUPPORTED), N(CKR_KEY_HANDLE_INVALID),
	N(CKR_KEY_SIZE_RANGE), N(CKR_KEY_TYPE_INCONSISTENT),
	N(CKR_KEY_NOT_NEEDED), N(CKR_KEY_CHANGED), N(CKR_KEY_NEEDED),
	N(CKR_KEY_INDIGESTIBLE), N(CKR_KEY_FUNCTION_NOT_PERMITTED),
	N(CKR_KEY_NOT_WRAPPABLE), N(CKR_KEY_UNEXTRACTABLE),
	N(CKR_MECHANISM_INVALID), N(CKR_MECHANISM_PARAM_INVALID),
	N(CKR_OBJECT_HANDLE_INVALID), N(CKR_OPERATION_ACTIVE),
	N(CKR_OPERATION_NOT_INITIALIZED), N(CKR_PIN_INCORRECT),
	N(CKR_PIN_INVALID), N(CKR_PIN_LEN_RANGE), N(CKR_PIN_EXPIRED),
	N(CKR_PIN_LOCKED), N(CKR_SESSION_CLOSED), N(CKR_SESSION_COUNT),
	N(CKR_SESSION_HANDLE_INVALID), N(CKR_SESSION_PARALLEL_NOT_SUPPORTED),
	N(CKR_SESSION_READ_ONLY), N(CKR_SESSION_EXISTS),
	N(CKR_SESSION_READ_ONLY_EXISTS), N(CKR_SESSION_READ_WRITE_SO_EXISTS),
	N(CKR_SIGNATURE_INVALID), N(CKR_SIGNATURE_LEN_RANGE),
	N(CKR_TEMPLATE_INCOMPLETE), N(CKR_TEMPLATE_INCONSISTENT),
	N(CKR_TOKEN_NOT_PRESENT), N(CKR_TOKEN_NOT_RECOGNIZED),
	N(CKR_TOKEN_WRITE_PROTECTED), N(CKR_UNWRAPPING_KEY_HANDLE_INVALID),
	N(CKR_UNWRAPPING_KEY_SIZE_RANGE),
	N(CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT), N(CKR_USER_ALREADY_LOGGED_IN),
	N(CKR_USER_NOT_LOGGED_IN), N(CKR_USER_PIN_NOT_INITIALIZED),
	N(CKR_USER_TYPE_INVALID), N(CKR_USER_ANOTHER_ALREADY_LOGGED_IN),
	N(CKR_USER_TOO_MANY_TYPES), N(CKR_WRAPPED_KEY_INVALID),
	N(CKR_WRAPPED_KEY_LEN_RANGE), N(CKR_WRAPPING_KEY_HANDLE_INVALID),
	N(CKR_WRAPPING_KEY_SIZE_RANGE), N(CKR_WRAPPING_KEY_TYPE_INCONSISTENT),
	N(CKR_RANDOM_SEED_NOT_SUPPORTED), N(CKR_RANDOM_NO_RNG),
	N(CKR_DOMAIN_PARAMS_INVALID), N(CKR_CURVE_NOT_SUPPORTED),
	N(CKR_BUFFER_TOO_SMALL), N(CKR_SAVED_STATE_INVALID),
	N(CKR_INFORMATION_SENSITIVE), N(CKR_STATE_UNSAVEABLE),
	N(CKR_CRYPTOKI_NOT_INITIALIZED), N(CKR_CRYPTOKI_ALREADY_INITIALIZED),
	N(CKR_MUTEX_BAD), N(CKR_MUTEX_NOT_LOCKED),
	N(CKR_FUNCTION_REJECTED), N(CKR_VENDOR_DEFINED),
};

static const struct name_entry attr_names[] = {
	N(CKA_CLASS), N(CKA_TOKEN), N(CKA_PRIVATE), N(CKA_LABEL),
	N(CKA_APPLICATION), N(CKA_VALUE), N(CKA_OBJECT_ID),
	N(CKA_CERTIFICATE_TYPE), N(CKA_ISSUER), N(CKA_SERIAL_NUMBER),
	N(CKA_TRUSTED), N(CKA_CERTIFICATE_CATEGORY), N(CKA_CHECK_VALUE),
	N(CKA_KEY_TYPE), N(CKA_SUBJECT), N(CKA_ID), N(CKA_SENSITIVE),
	N(CKA_ENCRYPT), N(CKA_DECRYPT), N(CKA_WRAP), N(CKA_UNWRAP),
	N(CKA_SIGN), N(CKA_SIGN_RECOVER), N(CKA_VERIFY),
	N(CKA_VERIFY_RECOVER), N(CKA_DERIVE), N(CKA_START_DATE),
	N(CKA_END_DATE), N(CKA_MODULUS_BITS), N(CKA_EXTRACTABLE),
	N(CKA_LOCAL), N(CKA_NEVER_EXTRACTABLE), N(CKA_ALWAYS_SENSITIVE),
	N(CKA_KEY_GEN_MECHANISM), N(CKA_MODIFIABLE), N(CKA_COPYABLE),
	N(CKA_DESTROYABLE), N(CKA_EC_PARAMS), N(CKA_EC_POINT),
	N(CKA_ALWAYS_AUTHENTICATE), N(CKA_WRAP_WITH_TRUSTED),
	N(CKA_PUBLIC_KEY_INFO), N(CKA_MODULUS),
	{ GMSOFT_CKA_CONTAINER_NAME, "CKA_CONTAINER_NAME" },
};

static const struct name_entry sar_names[] = {
	N(SAR_OK), N(SAR_FAIL), N(SAR_UNKNOWNERR), N(SAR_NOTSUPPORTYETERR),
	N(SAR_FILEERR), N(SAR_INVALIDHANDLEERR), N(SAR_INVALIDPARAMERR),
	N(SAR_READFILEERR), N(SAR_WRITEFILEERR), N(SAR_NAMELENERR),
	N(SAR_KEYUSAGEERR), N(SAR_MODULUSLENERR), N(SAR_NOTINITIALIZEERR),
	N(SAR_OBJERR), N(SAR_MEMORYERR), N(SAR_TIMEOUTERR),
	N(SAR_INDATALENERR), N(SAR_INDATAERR), N(SAR_GENRANDERR),
	N(SAR_HASHOBJERR), N(SAR_HASHERR), N(SAR_GENRSAKEYERR),
	N(SAR_RSAMODULUSLENERR), N(SAR_CSPIMPRTPUBKEYERR), N(SAR_RSAENCERR),
	N(SAR_RSADECERR), N(SAR_HASHNOTEQUALERR), N(SAR_KEYNOTFOUNTERR),
	N(SAR_CERTNOTFOUNTERR), N(SAR_NOTEXPORTERR), N(SAR_DECRYPTPADERR),
	N(SAR_MACLENERR), N(SAR_BUFFER_TOO_SMALL), N(SAR_KEYINFOTYPEERR),
	N(SAR_NOT_EVENTERR), N(SAR_DEVICE_REMOVED), N(SAR_PIN_INCORRECT),
	N(SAR_PIN_LOCKED), N(SAR_PIN_INVALID), N(SAR_PIN_LEN_RANGE),
	N(SAR_USER_ALREADY_LOGGED_IN), N(SAR_USER_PIN_NOT_INITIALIZED),
	N(SAR_USER_TYPE_INVALID), N(SAR_APPLICATION_NAME_INVALID),
	N(SAR_APPLICATION_EXISTS), N(SAR_USER_NOT_LOGGED_IN),
	N(SAR_APPLICATION_NOT_EXISTS), N(SAR_FILE_ALREADY_EXIST),
	N(SAR_NO_ROOM), N(SAR_FILE_NOT_EXIST), N(SAR_REACH_MAX_CONTAINER_COUNT),
};

#undef N

static const char *table_name(const struct name_entry *t, size_t n,
			      unsigned long value)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].value == value)
			return t[i].name;
	return NULL;
}

static int table_value(const struct name_entry *t, size_t n,
		       const char *name, unsigned long *value)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(t[i].name, name) == 0) {
			*value = t[i].value;
			return 0;
		}
	}
	return -1;
}

static int parse_number(const char *text, unsigned long *value)
{
	char *end;

	if (!isdigit((unsigned char)text[0]))
		return -1;
	errno = 0;
	*value = strtoul(text, &end, 0);
	return (errno || *end) ? -1 : 0;
}

const char *gmsoft_rv_name(CK_RV rv, char *buf, size_t buflen)
{
	const char *name = table_name(rv_names,
				      sizeof(rv_names) / sizeof(rv_names[0]),
				      rv);

	if (name)
		return name;
	snprintf(buf, buflen, "0x%08lx", (unsigned long)rv);
	return buf;
}

int gmsoft_rv_parse(const char *text, CK_RV *rv)
{
	unsigned long v;

	if (table_value(rv_names, sizeof(rv_names) / sizeof(rv_names[0]),
			text, &v) && parse_number(text, &v))
		return -1;
	*rv = v;
	return 0;
}

const char *gmsoft_attr_name(CK_ATTRIBUTE_TYPE type)
{
	return table_name(attr_names,
			  sizeof(attr_names) / sizeof(attr_names[0]), type);
}

int gmsoft_attr_parse(const char *text, CK_ATTRIBUTE_TYPE *type)
{
	unsigned long v;

	if (table_value(attr_names,
			sizeof(attr_names) / sizeof(attr_names[0]), text, &v) &&
	    parse_number(text, &v))
		return -1;
	*type = v;
	return 0;
}

void gmsoft_hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

static int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int gmsoft_hex_decode(const char *hex, unsigned char **out, size_t *len)
{
	size_t n = strlen(hex);
	unsigned char *buf;

	if (n % 2)
		return -1;
	buf = malloc(n / 2 + 1);
	if (!buf)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hex_digit(hex[2 * i]);
		int lo = hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(buf);
			return -1;
		}
		buf[i] = (unsigned char)(hi << 4 | lo);
	}
	*out = buf;
	*len = n / 2;
	return 0;
}

void gmsoft_pad(unsigned char *field, size_t size, const char *text)
{
	size_t n = strlen(text);

	memset(field, ' ', size);
	memcpy(field, text, n < size ? n : size);
}

const char *gmsoft_sar_name(ULONG sar, char *buf, size_t buflen)
{
	const char *name = table_name(sar_names,
				      sizeof(sar_names) / sizeof(sar_names[0]),
				      sar);

	if (name)
		return name;
	snprintf(buf, buflen, "0x%08lx", sar);
	return buf;
}

int gmsoft_sar_parse(const char *text, ULONG *sar)
{
	unsigned long v;

	if (table_value(sar_names, sizeof(sar_names) / sizeof(sar_names[0]),
			text, &v) && parse_number(text, &v))
		return -1;
	*sar = v;
	return 0;
}
