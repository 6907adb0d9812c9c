/*
 * fake_p11.c - a PKCS#11 module for the token URI fuzz target: slots and
 * token information only, set by the target through fuzz_fake_p11_set().
 * What the strings hold (any bytes, no blank padding) is the fuzzer's
 * choice, as a hostile driver's would be.
 */
#include <string.h>

#include <p11-kit/pkcs11.h>

#define MAX_TOKENS 4

/* Bytes of one token in the input: label, manufacturer, model, serial,
 * flags (one byte: bit 0 initialised, bit 1 login required). */
#define TOKEN_BYTES (32 + 32 + 16 + 16 + 1)

static CK_TOKEN_INFO tokens[MAX_TOKENS];
static CK_ULONG n_tokens;

static void blank(CK_UTF8CHAR *dst, size_t n, const char *src)
{
	size_t len = strlen(src);

	memset(dst, ' ', n);
	memcpy(dst, src, len < n ? len : n);
}

static void defaults(void)
{
	static const char *const serials[] = { "2A0F96E8B1C40012",
					       "2A0F96E8B1C40013" };
	CK_ULONG i;

	memset(tokens, 0, sizeof(tokens));
	for (i = 0; i < 2; i++) {
		blank(tokens[i].label, sizeof(tokens[i].label), "ePass3000GM");
		blank(tokens[i].manufacturerID, sizeof(tokens[i].manufacturerID),
		      "FEITIAN Technologies");
		blank(tokens[i].model, sizeof(tokens[i].model), "ePass3000GM");
		blank(tokens[i].serialNumber, sizeof(tokens[i].serialNumber),
		      serials[i]);
		tokens[i].flags = CKF_TOKEN_INITIALIZED | CKF_LOGIN_REQUIRED |
				  CKF_USER_PIN_INITIALIZED;
	}
	n_tokens = 2;
}

/* The tokens from data (TOKEN_BYTES each); no data: two FEITIAN tokens. */
void fuzz_fake_p11_set(const unsigned char *data, size_t n);
void fuzz_fake_p11_set(const unsigned char *data, size_t n)
{
	CK_ULONG i;

	if (!data || n < TOKEN_BYTES) {
		defaults();
		return;
	}
	memset(tokens, 0, sizeof(tokens));
	for (i = 0; i < MAX_TOKENS && n >= TOKEN_BYTES; i++) {
		CK_TOKEN_INFO *t = &tokens[i];

		memcpy(t->label, data, 32);
		memcpy(t->manufacturerID, data + 32, 32);
		memcpy(t->model, data + 64, 16);
		memcpy(t->serialNumber, data + 80, 16);
		t->flags = (data[96] & 1 ? CKF_TOKEN_INITIALIZED : 0) |
			   (data[96] & 2 ? CKF_LOGIN_REQUIRED : 0);
		data += TOKEN_BYTES;
		n -= TOKEN_BYTES;
	}
	n_tokens = i;
}

static CK_RV fake_initialize(CK_VOID_PTR args)
{
	(void)args;
	if (!n_tokens)
		defaults();
	return CKR_OK;
}

static CK_RV fake_finalize(CK_VOID_PTR reserved)
{
	(void)reserved;
	return CKR_OK;
}

static CK_RV fake_get_info(CK_INFO_PTR info)
{
	memset(info, 0, sizeof(*info));
	info->cryptokiVersion.major = 2;
	info->cryptokiVersion.minor = 40;
	blank(info->manufacturerID, sizeof(info->manufacturerID), "gmrenew fuzz");
	blank(info->libraryDescription, sizeof(info->libraryDescription),
	      "fake module");
	return CKR_OK;
}

static CK_RV fake_get_slot_list(CK_BBOOL present, CK_SLOT_ID_PTR list,
				CK_ULONG_PTR count)
{
	CK_ULONG i;

	(void)present;
	if (!list) {
		*count = n_tokens;
		return CKR_OK;
	}
	if (*count < n_tokens) {
		*count = n_tokens;
		return CKR_BUFFER_TOO_SMALL;
	}
	for (i = 0; i < n_tokens; i++)
		list[i] = i + 1;
	*count = n_tokens;
	return CKR_OK;
}

static CK_RV fake_get_token_info(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
	if (slot < 1 || slot > n_tokens)
		return CKR_SLOT_ID_INVALID;
	*info = tokens[slot - 1];
	return CKR_OK;
}

static CK_FUNCTION_LIST functions = {
	.version = { 2, 40 },
	.C_Initialize = fake_initialize,
	.C_Finalize = fake_finalize,
	.C_GetInfo = fake_get_info,
	.C_GetSlotList = fake_get_slot_list,
	.C_GetTokenInfo = fake_get_token_info,
};

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list);
CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
	if (!list)
		return CKR_ARGUMENTS_BAD;
	*list = &functions;
	return CKR_OK;
}
