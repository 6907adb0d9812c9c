/* st_skf.c - the SKF (GM/T 0016) entry points of the soft ePass3000GM,
 * with FEITIAN's ABI (st_skf.h), and the SKF handles.
 *
 * Every SKF_ function goes through gmsoft_call_begin()/gmsoft_call_end()
 * as the C_ functions do: one module mutex, one call index shared by both
 * APIs, a count per function, the same fault switches and trace. SKF has
 * no initialisation call: the first SKF call of a process reads
 * GMSOFT_DIR. Functions the fixture does not implement return
 * SAR_NOTSUPPORTYETERR, as the driver does for what it lacks. */
#include "st_skf_int.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define GMSOFT_SKF_MAX_HANDLES 256

static struct gmsoft_skf_handle handles[GMSOFT_SKF_MAX_HANDLES];
static struct {
	int used;
	CK_SLOT_ID slot;
	int user;
} logins[GMSOFT_MAX_SLOTS];
static int skf_ready; /* store set up for SKF in this process */

/* ---- handles -------------------------------------------------------- */

struct gmsoft_skf_handle *gmsoft_skf_new(enum gmsoft_skf_kind kind,
					 struct gmsoft_skf_handle *parent)
{
	for (size_t i = 0; i < GMSOFT_SKF_MAX_HANDLES; i++) {
		struct gmsoft_skf_handle *h = &handles[i];

		if (h->kind != SKF_KIND_FREE)
			continue;
		memset(h, 0, sizeof(*h));
		h->kind = kind;
		h->parent = parent;
		h->slot = parent ? parent->slot : 0;
		return h;
	}
	return NULL;
}

static void handle_clear(struct gmsoft_skf_handle *h)
{
	EVP_MD_CTX_free(h->md);
	memset(h, 0, sizeof(*h));
}

static int apps_open(CK_SLOT_ID slot)
{
	for (size_t i = 0; i < GMSOFT_SKF_MAX_HANDLES; i++)
		if (handles[i].kind == SKF_KIND_APP && handles[i].slot == slot)
			return 1;
	return 0;
}

void gmsoft_skf_free(struct gmsoft_skf_handle *h)
{
	CK_SLOT_ID slot = h->slot;
	int app = h->kind == SKF_KIND_APP || h->kind == SKF_KIND_DEV;

	for (size_t i = 0; i < GMSOFT_SKF_MAX_HANDLES; i++)
		if (handles[i].kind != SKF_KIND_FREE && handles[i].parent == h)
			gmsoft_skf_free(&handles[i]);
	handle_clear(h);
	/* The security state lasts while the application is open. */
	if (app && !apps_open(slot))
		gmsoft_skf_login_set(slot, -1);
}

struct gmsoft_skf_handle *gmsoft_skf_get(const void *p,
					 enum gmsoft_skf_kind kind)
{
	const struct gmsoft_skf_handle *base = handles;
	uintptr_t off = (uintptr_t)p - (uintptr_t)base;

	if (!p || (uintptr_t)p < (uintptr_t)base || off % sizeof(*base) ||
	    off / sizeof(*base) >= GMSOFT_SKF_MAX_HANDLES)
		return NULL;
	return handles[off / sizeof(*base)].kind == kind ?
		       &handles[off / sizeof(*base)] :
		       NULL;
}

void gmsoft_skf_reset(void)
{
	for (size_t i = 0; i < GMSOFT_SKF_MAX_HANDLES; i++)
		handle_clear(&handles[i]);
	memset(logins, 0, sizeof(logins));
	skf_ready = 0;
}

/* ---- security state ------------------------------------------------- */

int gmsoft_skf_login(CK_SLOT_ID slot)
{
	for (size_t i = 0; i < GMSOFT_MAX_SLOTS; i++)
		if (logins[i].used && logins[i].slot == slot)
			return logins[i].user;
	return -1;
}

void gmsoft_skf_login_set(CK_SLOT_ID slot, int user)
{
	size_t free_at = GMSOFT_MAX_SLOTS;

	for (size_t i = 0; i < GMSOFT_MAX_SLOTS; i++) {
		if (logins[i].used && logins[i].slot == slot)
			logins[i].used = 0;
		if (!logins[i].used && free_at == GMSOFT_MAX_SLOTS)
			free_at = i;
	}
	if (user >= 0 && free_at < GMSOFT_MAX_SLOTS) {
		logins[free_at].used = 1;
		logins[free_at].slot = slot;
		logins[free_at].user = user;
	}
}

/* ---- the store and the device --------------------------------------- */

ULONG gmsoft_skf_setup(void)
{
	if (skf_ready && gmsoft_g.dir[0])
		return SAR_OK;
	if (!gmsoft_g.dir[0] && gmsoft_state_dir() != CKR_OK)
		return SAR_FAIL;
	if (!skf_ready)
		gmsoft_store_kill_in_write(gmsoft_g.faults.kill_in_write);
	skf_ready = 1;
	return SAR_OK;
}

static struct gmsoft_skf_handle *device_of(struct gmsoft_skf_handle *h)
{
	while (h && h->kind != SKF_KIND_DEV)
		h = h->parent;
	return h;
}

ULONG gmsoft_skf_present(struct gmsoft_skf_handle *h, struct gmsoft_token *t)
{
	struct gmsoft_skf_handle *dev = device_of(h);
	struct gmsoft_token local;
	ULONG sar = gmsoft_skf_setup();

	if (sar != SAR_OK)
		return sar;
	if (!dev)
		return SAR_INVALIDHANDLEERR;
	if (!dev->gone &&
	    gmsoft_slot_token(dev->slot, t ? t : &local) != CKR_OK)
		dev->gone = 1;
	if (dev->gone) {
		/* A pulled key forgets its security state. */
		gmsoft_skf_login_set(dev->slot, -1);
		return SAR_DEVICE_REMOVED;
	}
	return SAR_OK;
}

ULONG gmsoft_skf_open(const void *p, enum gmsoft_skf_kind k,
		      struct gmsoft_skf_handle **out)
{
	*out = gmsoft_skf_get(p, k);
	if (!*out)
		return SAR_INVALIDHANDLEERR;
	return gmsoft_skf_present(*out, NULL);
}

ULONG gmsoft_skf_need_user(const struct gmsoft_skf_handle *h)
{
	return gmsoft_skf_login(h->slot) == SKF_USER_TYPE ?
		       SAR_OK :
		       SAR_USER_NOT_LOGGED_IN;
}

/* ---- answers -------------------------------------------------------- */

ULONG gmsoft_skf_names_out(const char *const *names, size_t n, LPSTR out,
			   ULONG *size)
{
	size_t need = 0, at = 0;

	if (!size)
		return SAR_INVALIDPARAMERR;
	for (size_t i = 0; i < n; i++)
		need += strlen(names[i]) + 1;
	if (need)
		need++; /* the list's final NUL */
	if (out && *size < need) {
		*size = need;
		return SAR_BUFFER_TOO_SMALL;
	}
	for (size_t i = 0; out && i < n; i++) {
		memcpy(out + at, names[i], strlen(names[i]) + 1);
		at += strlen(names[i]) + 1;
	}
	if (out && need)
		out[at] = '\0';
	*size = need;
	return SAR_OK;
}

ULONG gmsoft_skf_bytes_out(const void *data, size_t len, BYTE *out, ULONG *size)
{
	if (!size)
		return SAR_INVALIDPARAMERR;
	if (out && *size < len) {
		*size = len;
		return SAR_BUFFER_TOO_SMALL;
	}
	if (out)
		memcpy(out, data, len);
	*size = len;
	return SAR_OK;
}

ULONG gmsoft_skf_sar(CK_RV rv)
{
	switch (rv) {
	case CKR_OK: return SAR_OK;
	case CKR_HOST_MEMORY: return SAR_MEMORYERR;
	case CKR_SLOT_ID_INVALID:
	case CKR_TOKEN_NOT_PRESENT:
	case CKR_DEVICE_REMOVED: return SAR_DEVICE_REMOVED;
	case CKR_PIN_INCORRECT: return SAR_PIN_INCORRECT;
	case CKR_PIN_LOCKED: return SAR_PIN_LOCKED;
	case CKR_PIN_LEN_RANGE: return SAR_PIN_LEN_RANGE;
	case CKR_USER_PIN_NOT_INITIALIZED: return SAR_USER_PIN_NOT_INITIALIZED;
	case CKR_USER_TYPE_INVALID: return SAR_USER_TYPE_INVALID;
	case CKR_DATA_INVALID:
	case CKR_ENCRYPTED_DATA_INVALID: return SAR_INDATAERR;
	case CKR_DATA_LEN_RANGE: return SAR_INDATALENERR;
	case CKR_ARGUMENTS_BAD: return SAR_INVALIDPARAMERR;
	default: return SAR_FAIL;
	}
}

/* ---- entry points --------------------------------------------------- */

#define SKF_CALL(fn, expr)                                                     \
	do {                                                                   \
		CK_RV rv_;                                                     \
		if (!gmsoft_call_begin(FN_##fn, &rv_))                         \
			rv_ = (expr);                                          \
		return gmsoft_call_end(FN_##fn, rv_);                          \
	} while (0)

#define SKF_UNSUPPORTED(fn) SKF_CALL(fn, SAR_NOTSUPPORTYETERR)

ULONG SKF_WaitForDevEvent(LPSTR szDevName, ULONG *pulDevNameLen,
			  ULONG *pulEvent)
{
	(void)szDevName;
	(void)pulDevNameLen;
	(void)pulEvent;
	SKF_UNSUPPORTED(SKF_WaitForDevEvent);
}

ULONG SKF_CancelWaitForDevEvent(void)
{
	SKF_UNSUPPORTED(SKF_CancelWaitForDevEvent);
}

ULONG SKF_EnumDev(BOOL bPresent, LPSTR szNameList, ULONG *pulSize)
{
	SKF_CALL(SKF_EnumDev,
		 gmsoft_skf_enum_dev(bPresent, szNameList, pulSize));
}

ULONG SKF_ConnectDev(LPSTR szName, DEVHANDLE *phDev)
{
	SKF_CALL(SKF_ConnectDev, gmsoft_skf_connect_dev(szName, phDev));
}

ULONG SKF_DisConnectDev(DEVHANDLE hDev)
{
	SKF_CALL(SKF_DisConnectDev, gmsoft_skf_disconnect_dev(hDev));
}

ULONG SKF_GetDevState(LPSTR szDevName, ULONG *pulDevState)
{
	SKF_CALL(SKF_GetDevState,
		 gmsoft_skf_get_dev_state(szDevName, pulDevState));
}

ULONG SKF_SetLabel(DEVHANDLE hDev, LPSTR szLabel)
{
	SKF_CALL(SKF_SetLabel, gmsoft_skf_set_label(hDev, szLabel));
}

ULONG SKF_GetDevInfo(DEVHANDLE hDev, DEVINFO *pDevInfo)
{
	SKF_CALL(SKF_GetDevInfo, gmsoft_skf_get_dev_info(hDev, pDevInfo));
}

ULONG SKF_LockDev(DEVHANDLE hDev, ULONG ulTimeOut)
{
	(void)ulTimeOut;
	SKF_CALL(SKF_LockDev, gmsoft_skf_lock_dev(hDev));
}

ULONG SKF_UnlockDev(DEVHANDLE hDev)
{
	SKF_CALL(SKF_UnlockDev, gmsoft_skf_lock_dev(hDev));
}

ULONG SKF_Transmit(DEVHANDLE hDev, BYTE *pbCommand, ULONG ulCommandLen,
		   BYTE *pbData, ULONG *pulDataLen)
{
	(void)hDev;
	(void)pbCommand;
	(void)ulCommandLen;
	(void)pbData;
	(void)pulDataLen;
	SKF_UNSUPPORTED(SKF_Transmit);
}

ULONG SKF_ChangeDevAuthKey(DEVHANDLE hDev, BYTE *pbKeyValue, ULONG ulKeyLen)
{
	(void)hDev;
	(void)pbKeyValue;
	(void)ulKeyLen;
	SKF_UNSUPPORTED(SKF_ChangeDevAuthKey);
}

ULONG SKF_DevAuth(DEVHANDLE hDev, BYTE *pbAuthData, ULONG ulLen)
{
	(void)hDev;
	(void)pbAuthData;
	(void)ulLen;
	SKF_UNSUPPORTED(SKF_DevAuth);
}

ULONG SKF_ChangePIN(HAPPLICATION hApplication, ULONG ulPINType, LPSTR szOldPin,
		    LPSTR szNewPin, ULONG *pulRetryCount)
{
	SKF_CALL(SKF_ChangePIN,
		 gmsoft_skf_change_pin(hApplication, ulPINType, szOldPin,
				       szNewPin, pulRetryCount));
}

ULONG SKF_GetPINInfo(HAPPLICATION hApplication, ULONG ulPINType,
		     ULONG *pulMaxRetryCount, ULONG *pulRemainRetryCount,
		     BOOL *pbDefaultPin)
{
	SKF_CALL(SKF_GetPINInfo,
		 gmsoft_skf_get_pin_info(hApplication, ulPINType,
					 pulMaxRetryCount, pulRemainRetryCount,
					 pbDefaultPin));
}

ULONG SKF_VerifyPIN(HAPPLICATION hApplication, ULONG ulPINType, LPSTR szPIN,
		    ULONG *pulRetryCount)
{
	SKF_CALL(SKF_VerifyPIN, gmsoft_skf_verify_pin(hApplication, ulPINType,
						      szPIN, pulRetryCount));
}

ULONG SKF_UnblockPIN(HAPPLICATION hApplication, LPSTR szAdminPIN,
		     LPSTR szNewUserPIN, ULONG *pulRetryCount)
{
	SKF_CALL(SKF_UnblockPIN,
		 gmsoft_skf_unblock_pin(hApplication, szAdminPIN, szNewUserPIN,
					pulRetryCount));
}

ULONG SKF_ClearSecureState(HAPPLICATION hApplication)
{
	SKF_CALL(SKF_ClearSecureState,
		 gmsoft_skf_clear_secure_state(hApplication));
}

ULONG SKF_CreateApplication(DEVHANDLE hDev, LPSTR szAppName, LPSTR szAdminPin,
			    DWORD dwAdminPinRetryCount, LPSTR szUserPin,
			    DWORD dwUserPinRetryCount, DWORD dwCreateFileRights,
			    HAPPLICATION *phApplication)
{
	(void)hDev;
	(void)szAppName;
	(void)szAdminPin;
	(void)dwAdminPinRetryCount;
	(void)szUserPin;
	(void)dwUserPinRetryCount;
	(void)dwCreateFileRights;
	(void)phApplication;
	SKF_UNSUPPORTED(SKF_CreateApplication);
}

ULONG SKF_EnumApplication(DEVHANDLE hDev, LPSTR szAppName, ULONG *pulSize)
{
	SKF_CALL(SKF_EnumApplication,
		 gmsoft_skf_enum_application(hDev, szAppName, pulSize));
}

ULONG SKF_DeleteApplication(DEVHANDLE hDev, LPSTR szAppName)
{
	(void)hDev;
	(void)szAppName;
	SKF_UNSUPPORTED(SKF_DeleteApplication);
}

ULONG SKF_OpenApplication(DEVHANDLE hDev, LPSTR szAppName,
			  HAPPLICATION *phApplication)
{
	SKF_CALL(SKF_OpenApplication,
		 gmsoft_skf_open_application(hDev, szAppName, phApplication));
}

ULONG SKF_CloseApplication(HAPPLICATION hApplication)
{
	SKF_CALL(SKF_CloseApplication,
		 gmsoft_skf_close_application(hApplication));
}

ULONG SKF_CreateFile(HAPPLICATION hApplication, LPSTR szFileName,
		     ULONG ulFileSize, ULONG ulReadRights, ULONG ulWriteRights)
{
	(void)hApplication;
	(void)szFileName;
	(void)ulFileSize;
	(void)ulReadRights;
	(void)ulWriteRights;
	SKF_UNSUPPORTED(SKF_CreateFile);
}

ULONG SKF_DeleteFile(HAPPLICATION hApplication, LPSTR szFileName)
{
	(void)hApplication;
	(void)szFileName;
	SKF_UNSUPPORTED(SKF_DeleteFile);
}

ULONG SKF_EnumFiles(HAPPLICATION hApplication, LPSTR szFileList, ULONG *pulSize)
{
	(void)hApplication;
	(void)szFileList;
	(void)pulSize;
	SKF_UNSUPPORTED(SKF_EnumFiles);
}

ULONG SKF_GetFileInfo(HAPPLICATION hApplication, LPSTR szFileName,
		      FILEATTRIBUTE *pFileInfo)
{
	(void)hApplication;
	(void)szFileName;
	(void)pFileInfo;
	SKF_UNSUPPORTED(SKF_GetFileInfo);
}

ULONG SKF_ReadFile(HAPPLICATION hApplication, LPSTR szFileName, ULONG ulOffset,
		   ULONG ulSize, BYTE *pbOutData, ULONG *pulOutLen)
{
	(void)hApplication;
	(void)szFileName;
	(void)ulOffset;
	(void)ulSize;
	(void)pbOutData;
	(void)pulOutLen;
	SKF_UNSUPPORTED(SKF_ReadFile);
}

ULONG SKF_WriteFile(HAPPLICATION hApplication, LPSTR szFileName, ULONG ulOffset,
		    BYTE *pbData, ULONG ulSize)
{
	(void)hApplication;
	(void)szFileName;
	(void)ulOffset;
	(void)pbData;
	(void)ulSize;
	SKF_UNSUPPORTED(SKF_WriteFile);
}

ULONG SKF_CreateContainer(HAPPLICATION hApplication, LPSTR szContainerName,
			  HCONTAINER *phContainer)
{
	SKF_CALL(SKF_CreateContainer,
		 gmsoft_skf_create_container(hApplication, szContainerName,
					     phContainer));
}

ULONG SKF_DeleteContainer(HAPPLICATION hApplication, LPSTR szContainerName)
{
	SKF_CALL(SKF_DeleteContainer,
		 gmsoft_skf_delete_container(hApplication, szContainerName));
}

ULONG SKF_OpenContainer(HAPPLICATION hApplication, LPSTR szContainerName,
			HCONTAINER *phContainer)
{
	SKF_CALL(SKF_OpenContainer,
		 gmsoft_skf_open_container(hApplication, szContainerName,
					   phContainer));
}

ULONG SKF_CloseContainer(HCONTAINER hContainer)
{
	SKF_CALL(SKF_CloseContainer, gmsoft_skf_close_container(hContainer));
}

ULONG SKF_EnumContainer(HAPPLICATION hApplication, LPSTR szContainerName,
			ULONG *pulSize)
{
	SKF_CALL(SKF_EnumContainer,
		 gmsoft_skf_enum_container(hApplication, szContainerName,
					   pulSize));
}

ULONG SKF_GetContainerType(HCONTAINER hContainer, ULONG *pulContainerType)
{
	SKF_CALL(SKF_GetContainerType,
		 gmsoft_skf_get_container_type(hContainer, pulContainerType));
}

ULONG SKF_ImportCertificate(HCONTAINER hContainer, BOOL bSignFlag, BYTE *pbCert,
			    ULONG ulCertLen)
{
	SKF_CALL(SKF_ImportCertificate,
		 gmsoft_skf_import_certificate(hContainer, bSignFlag, pbCert,
					       ulCertLen));
}

ULONG SKF_ExportCertificate(HCONTAINER hContainer, BOOL bSignFlag, BYTE *pbCert,
			    ULONG *pulCertLen)
{
	SKF_CALL(SKF_ExportCertificate,
		 gmsoft_skf_export_certificate(hContainer, bSignFlag, pbCert,
					       pulCertLen));
}

ULONG SKF_GenRandom(DEVHANDLE hDev, BYTE *pbRandom, ULONG ulRandomLen)
{
	SKF_CALL(SKF_GenRandom,
		 gmsoft_skf_gen_random(hDev, pbRandom, ulRandomLen));
}

ULONG SKF_GenExtRSAKey(DEVHANDLE hDev, ULONG ulBitsLen,
		       RSAPRIVATEKEYBLOB *pBlob)
{
	(void)hDev;
	(void)ulBitsLen;
	(void)pBlob;
	SKF_UNSUPPORTED(SKF_GenExtRSAKey);
}

ULONG SKF_GenRSAKeyPair(HCONTAINER hContainer, ULONG ulBitsLen,
			RSAPUBLICKEYBLOB *pBlob)
{
	(void)hContainer;
	(void)ulBitsLen;
	(void)pBlob;
	SKF_UNSUPPORTED(SKF_GenRSAKeyPair);
}

ULONG SKF_ImportRSAKeyPair(HCONTAINER hContainer, ULONG ulSymAlgId,
			   BYTE *pbWrappedKey, ULONG ulWrappedKeyLen,
			   BYTE *pbEncryptedData, ULONG ulEncryptedDataLen)
{
	(void)hContainer;
	(void)ulSymAlgId;
	(void)pbWrappedKey;
	(void)ulWrappedKeyLen;
	(void)pbEncryptedData;
	(void)ulEncryptedDataLen;
	SKF_UNSUPPORTED(SKF_ImportRSAKeyPair);
}

ULONG SKF_RSASignData(HCONTAINER hContainer, BYTE *pbData, ULONG ulDataLen,
		      BYTE *pbSignature, ULONG *pulSignLen)
{
	(void)hContainer;
	(void)pbData;
	(void)ulDataLen;
	(void)pbSignature;
	(void)pulSignLen;
	SKF_UNSUPPORTED(SKF_RSASignData);
}

ULONG SKF_RSAVerify(DEVHANDLE hDev, RSAPUBLICKEYBLOB *pRSAPubKeyBlob,
		    BYTE *pbData, ULONG ulDataLen, BYTE *pbSignature,
		    ULONG ulSignLen)
{
	(void)hDev;
	(void)pRSAPubKeyBlob;
	(void)pbData;
	(void)ulDataLen;
	(void)pbSignature;
	(void)ulSignLen;
	SKF_UNSUPPORTED(SKF_RSAVerify);
}

ULONG SKF_RSAExportSessionKey(HCONTAINER hContainer, ULONG ulAlgId,
			      RSAPUBLICKEYBLOB *pPubKey, BYTE *pbData,
			      ULONG *pulDataLen, HANDLE *phSessionKey)
{
	(void)hContainer;
	(void)ulAlgId;
	(void)pPubKey;
	(void)pbData;
	(void)pulDataLen;
	(void)phSessionKey;
	SKF_UNSUPPORTED(SKF_RSAExportSessionKey);
}

ULONG SKF_ExtRSAPubKeyOperation(DEVHANDLE hDev,
				RSAPUBLICKEYBLOB *pRSAPubKeyBlob, BYTE *pbInput,
				ULONG ulInputLen, BYTE *pbOutput,
				ULONG *pulOutputLen)
{
	(void)hDev;
	(void)pRSAPubKeyBlob;
	(void)pbInput;
	(void)ulInputLen;
	(void)pbOutput;
	(void)pulOutputLen;
	SKF_UNSUPPORTED(SKF_ExtRSAPubKeyOperation);
}

ULONG SKF_ExtRSAPriKeyOperation(DEVHANDLE hDev,
				RSAPRIVATEKEYBLOB *pRSAPriKeyBlob,
				BYTE *pbInput, ULONG ulInputLen, BYTE *pbOutput,
				ULONG *pulOutputLen)
{
	(void)hDev;
	(void)pRSAPriKeyBlob;
	(void)pbInput;
	(void)ulInputLen;
	(void)pbOutput;
	(void)pulOutputLen;
	SKF_UNSUPPORTED(SKF_ExtRSAPriKeyOperation);
}

ULONG SKF_GenECCKeyPair(HCONTAINER hContainer, ULONG ulAlgId,
			ECCPUBLICKEYBLOB *pBlob)
{
	SKF_CALL(SKF_GenECCKeyPair,
		 gmsoft_skf_gen_ecc_key_pair(hContainer, ulAlgId, pBlob));
}

ULONG SKF_ImportECCKeyPair(HCONTAINER hContainer,
			   ENVELOPEDKEYBLOB *pEnvelopedKeyBlob)
{
	SKF_CALL(SKF_ImportECCKeyPair,
		 gmsoft_skf_import_ecc_key_pair(hContainer, pEnvelopedKeyBlob));
}

ULONG SKF_ECCSignData(HCONTAINER hContainer, BYTE *pbData, ULONG ulDataLen,
		      ECCSIGNATUREBLOB *pSignature)
{
	SKF_CALL(SKF_ECCSignData,
		 gmsoft_skf_ecc_sign_data(hContainer, pbData, ulDataLen,
					  pSignature));
}

ULONG SKF_ECCVerify(DEVHANDLE hDev, ECCPUBLICKEYBLOB *pECCPubKeyBlob,
		    BYTE *pbData, ULONG ulDataLen, ECCSIGNATUREBLOB *pSignature)
{
	SKF_CALL(SKF_ECCVerify,
		 gmsoft_skf_ecc_verify(hDev, pECCPubKeyBlob, pbData, ulDataLen,
				       pSignature));
}

ULONG SKF_ECCExportSessionKey(HCONTAINER hContainer, ULONG ulAlgId,
			      ECCPUBLICKEYBLOB *pPubKey, ECCCIPHERBLOB *pData,
			      HANDLE *phSessionKey)
{
	(void)hContainer;
	(void)ulAlgId;
	(void)pPubKey;
	(void)pData;
	(void)phSessionKey;
	SKF_UNSUPPORTED(SKF_ECCExportSessionKey);
}

ULONG SKF_ExtECCEncrypt(DEVHANDLE hDev, ECCPUBLICKEYBLOB *pECCPubKeyBlob,
			BYTE *pbPlainText, ULONG ulPlainTextLen,
			ECCCIPHERBLOB *pCipherText)
{
	SKF_CALL(SKF_ExtECCEncrypt,
		 gmsoft_skf_ext_ecc_encrypt(hDev, pECCPubKeyBlob, pbPlainText,
					    ulPlainTextLen, pCipherText));
}

ULONG SKF_ExtECCDecrypt(DEVHANDLE hDev, ECCPRIVATEKEYBLOB *pECCPriKeyBlob,
			ECCCIPHERBLOB *pCipherText, BYTE *pbPlainText,
			ULONG *pulPlainTextLen)
{
	SKF_CALL(SKF_ExtECCDecrypt,
		 gmsoft_skf_ext_ecc_decrypt(hDev, pECCPriKeyBlob, pCipherText,
					    pbPlainText, pulPlainTextLen));
}

ULONG SKF_ExtECCSign(DEVHANDLE hDev, ECCPRIVATEKEYBLOB *pECCPriKeyBlob,
		     BYTE *pbData, ULONG ulDataLen,
		     ECCSIGNATUREBLOB *pSignature)
{
	SKF_CALL(SKF_ExtECCSign,
		 gmsoft_skf_ext_ecc_sign(hDev, pECCPriKeyBlob, pbData,
					 ulDataLen, pSignature));
}

ULONG SKF_ExtECCVerify(DEVHANDLE hDev, ECCPUBLICKEYBLOB *pECCPubKeyBlob,
		       BYTE *pbData, ULONG ulDataLen,
		       ECCSIGNATUREBLOB *pSignature)
{
	SKF_CALL(SKF_ExtECCVerify,
		 gmsoft_skf_ecc_verify(hDev, pECCPubKeyBlob, pbData, ulDataLen,
				       pSignature));
}

ULONG SKF_ECCDecrypt(HCONTAINER hContainer, ECCCIPHERBLOB *pCipherText,
		     BYTE *pbPlainText, ULONG *pulPlainTextLen)
{
	SKF_CALL(SKF_ECCDecrypt,
		 gmsoft_skf_ecc_decrypt(hContainer, pCipherText, pbPlainText,
					pulPlainTextLen));
}

ULONG SKF_GenerateAgreementDataWithECC(HCONTAINER hContainer, ULONG ulAlgId,
				       ECCPUBLICKEYBLOB *pTempECCPubKeyBlob,
				       BYTE *pbID, ULONG ulIDLen,
				       HANDLE *phAgreementHandle)
{
	(void)hContainer;
	(void)ulAlgId;
	(void)pTempECCPubKeyBlob;
	(void)pbID;
	(void)ulIDLen;
	(void)phAgreementHandle;
	SKF_UNSUPPORTED(SKF_GenerateAgreementDataWithECC);
}

ULONG SKF_GenerateAgreementDataAndKeyWithECC(
	HANDLE hContainer, ULONG ulAlgId,
	ECCPUBLICKEYBLOB *pSponsorECCPubKeyBlob,
	ECCPUBLICKEYBLOB *pSponsorTempECCPubKeyBlob,
	ECCPUBLICKEYBLOB *pTempECCPubKeyBlob, BYTE *pbID, ULONG ulIDLen,
	BYTE *pbSponsorID, ULONG ulSponsorIDLen, HANDLE *phKeyHandle)
{
	(void)hContainer;
	(void)ulAlgId;
	(void)pSponsorECCPubKeyBlob;
	(void)pSponsorTempECCPubKeyBlob;
	(void)pTempECCPubKeyBlob;
	(void)pbID;
	(void)ulIDLen;
	(void)pbSponsorID;
	(void)ulSponsorIDLen;
	(void)phKeyHandle;
	SKF_UNSUPPORTED(SKF_GenerateAgreementDataAndKeyWithECC);
}

ULONG SKF_GenerateKeyWithECC(HANDLE hAgreementHandle,
			     ECCPUBLICKEYBLOB *pECCPubKeyBlob,
			     ECCPUBLICKEYBLOB *pTempECCPubKeyBlob, BYTE *pbID,
			     ULONG ulIDLen, HANDLE *phKeyHandle)
{
	(void)hAgreementHandle;
	(void)pECCPubKeyBlob;
	(void)pTempECCPubKeyBlob;
	(void)pbID;
	(void)ulIDLen;
	(void)phKeyHandle;
	SKF_UNSUPPORTED(SKF_GenerateKeyWithECC);
}

ULONG SKF_ExportPublicKey(HCONTAINER hContainer, BOOL bSignFlag, BYTE *pbBlob,
			  ULONG *pulBlobLen)
{
	SKF_CALL(SKF_ExportPublicKey,
		 gmsoft_skf_export_public_key(hContainer, bSignFlag, pbBlob,
					      pulBlobLen));
}

ULONG SKF_ImportSessionKey(HCONTAINER hContainer, ULONG ulAlgId,
			   BYTE *pbWrapedData, ULONG ulWrapedLen, HANDLE *phKey)
{
	(void)hContainer;
	(void)ulAlgId;
	(void)pbWrapedData;
	(void)ulWrapedLen;
	(void)phKey;
	SKF_UNSUPPORTED(SKF_ImportSessionKey);
}

ULONG SKF_SetSymmKey(DEVHANDLE hDev, BYTE *pbKey, ULONG ulAlgID, HANDLE *phKey)
{
	(void)hDev;
	(void)pbKey;
	(void)ulAlgID;
	(void)phKey;
	SKF_UNSUPPORTED(SKF_SetSymmKey);
}

ULONG SKF_EncryptInit(HANDLE hKey, BLOCKCIPHERPARAM EncryptParam)
{
	(void)hKey;
	(void)EncryptParam;
	SKF_UNSUPPORTED(SKF_EncryptInit);
}

ULONG SKF_Encrypt(HANDLE hKey, BYTE *pbData, ULONG ulDataLen,
		  BYTE *pbEncryptedData, ULONG *pulEncryptedLen)
{
	(void)hKey;
	(void)pbData;
	(void)ulDataLen;
	(void)pbEncryptedData;
	(void)pulEncryptedLen;
	SKF_UNSUPPORTED(SKF_Encrypt);
}

ULONG SKF_EncryptUpdate(HANDLE hKey, BYTE *pbData, ULONG ulDataLen,
			BYTE *pbEncryptedData, ULONG *pulEncryptedLen)
{
	(void)hKey;
	(void)pbData;
	(void)ulDataLen;
	(void)pbEncryptedData;
	(void)pulEncryptedLen;
	SKF_UNSUPPORTED(SKF_EncryptUpdate);
}

ULONG SKF_EncryptFinal(HANDLE hKey, BYTE *pbEncryptedData,
		       ULONG *pulEncryptedDataLen)
{
	(void)hKey;
	(void)pbEncryptedData;
	(void)pulEncryptedDataLen;
	SKF_UNSUPPORTED(SKF_EncryptFinal);
}

ULONG SKF_DecryptInit(HANDLE hKey, BLOCKCIPHERPARAM DecryptParam)
{
	(void)hKey;
	(void)DecryptParam;
	SKF_UNSUPPORTED(SKF_DecryptInit);
}

ULONG SKF_Decrypt(HANDLE hKey, BYTE *pbEncryptedData, ULONG ulEncryptedLen,
		  BYTE *pbData, ULONG *pulDataLen)
{
	(void)hKey;
	(void)pbEncryptedData;
	(void)ulEncryptedLen;
	(void)pbData;
	(void)pulDataLen;
	SKF_UNSUPPORTED(SKF_Decrypt);
}

ULONG SKF_DecryptUpdate(HANDLE hKey, BYTE *pbEncryptedData,
			ULONG ulEncryptedLen, BYTE *pbData, ULONG *pulDataLen)
{
	(void)hKey;
	(void)pbEncryptedData;
	(void)ulEncryptedLen;
	(void)pbData;
	(void)pulDataLen;
	SKF_UNSUPPORTED(SKF_DecryptUpdate);
}

ULONG SKF_DecryptFinal(HANDLE hKey, BYTE *pbDecryptedData,
		       ULONG *pulDecryptedDataLen)
{
	(void)hKey;
	(void)pbDecryptedData;
	(void)pulDecryptedDataLen;
	SKF_UNSUPPORTED(SKF_DecryptFinal);
}

ULONG SKF_DigestInit(DEVHANDLE hDev, ULONG ulAlgID, ECCPUBLICKEYBLOB *pPubKey,
		     BYTE *pbID, ULONG ulIDLen, HANDLE *phHash)
{
	SKF_CALL(SKF_DigestInit, gmsoft_skf_digest_init(hDev, ulAlgID, pPubKey,
							pbID, ulIDLen, phHash));
}

ULONG SKF_Digest(HANDLE hHash, BYTE *pbData, ULONG ulDataLen, BYTE *pbHashData,
		 ULONG *pulHashLen)
{
	SKF_CALL(SKF_Digest, gmsoft_skf_digest(hHash, pbData, ulDataLen,
					       pbHashData, pulHashLen));
}

ULONG SKF_DigestUpdate(HANDLE hHash, BYTE *pbData, ULONG ulDataLen)
{
	SKF_CALL(SKF_DigestUpdate,
		 gmsoft_skf_digest_update(hHash, pbData, ulDataLen));
}

ULONG SKF_DigestFinal(HANDLE hHash, BYTE *pHashData, ULONG *pulHashLen)
{
	SKF_CALL(SKF_DigestFinal,
		 gmsoft_skf_digest_final(hHash, pHashData, pulHashLen));
}

ULONG SKF_MacInit(HANDLE hKey, BLOCKCIPHERPARAM *pMacParam, HANDLE *phMac)
{
	(void)hKey;
	(void)pMacParam;
	(void)phMac;
	SKF_UNSUPPORTED(SKF_MacInit);
}

ULONG SKF_Mac(HANDLE hMac, BYTE *pbData, ULONG ulDataLen, BYTE *pbMacData,
	      ULONG *pulMacLen)
{
	(void)hMac;
	(void)pbData;
	(void)ulDataLen;
	(void)pbMacData;
	(void)pulMacLen;
	SKF_UNSUPPORTED(SKF_Mac);
}

ULONG SKF_MacUpdate(HANDLE hMac, BYTE *pbData, ULONG ulDataLen)
{
	(void)hMac;
	(void)pbData;
	(void)ulDataLen;
	SKF_UNSUPPORTED(SKF_MacUpdate);
}

ULONG SKF_MacFinal(HANDLE hMac, BYTE *pbMacData, ULONG *pulMacDataLen)
{
	(void)hMac;
	(void)pbMacData;
	(void)pulMacDataLen;
	SKF_UNSUPPORTED(SKF_MacFinal);
}

ULONG SKF_CloseHandle(HANDLE hHandle)
{
	SKF_CALL(SKF_CloseHandle, gmsoft_skf_close_handle(hHandle));
}
