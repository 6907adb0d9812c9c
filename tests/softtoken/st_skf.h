/* st_skf.h - the GM/T 0016-2012 (SKF) interface of the soft ePass3000GM,
 * with FEITIAN's x86-64 ABI (shared/reference/feitian-driver.md): ULONG is
 * 8 bytes (unsigned long), BOOL 4 bytes (int), every structure packed.
 * This header belongs to the fixture alone: it is declared from the
 * standard's names and FEITIAN's layouts, so that the soft token behaves
 * like the driver whatever the client under test declares. */
#ifndef GMSOFT_SKF_H
#define GMSOFT_SKF_H

#include <stddef.h>

typedef unsigned char BYTE;
typedef char CHAR;
typedef unsigned long ULONG;
typedef int BOOL;
typedef unsigned int DWORD;
typedef CHAR *LPSTR;
typedef void *HANDLE;
typedef HANDLE DEVHANDLE;
typedef HANDLE HAPPLICATION;
typedef HANDLE HCONTAINER;

#define SKF_TRUE 1
#define SKF_FALSE 0

/* Return values. */
#define SAR_OK 0x00000000UL
#define SAR_FAIL 0x0A000001UL
#define SAR_UNKNOWNERR 0x0A000002UL
#define SAR_NOTSUPPORTYETERR 0x0A000003UL
#define SAR_FILEERR 0x0A000004UL
#define SAR_INVALIDHANDLEERR 0x0A000005UL
#define SAR_INVALIDPARAMERR 0x0A000006UL
#define SAR_READFILEERR 0x0A000007UL
#define SAR_WRITEFILEERR 0x0A000008UL
#define SAR_NAMELENERR 0x0A000009UL
#define SAR_KEYUSAGEERR 0x0A00000AUL
#define SAR_MODULUSLENERR 0x0A00000BUL
#define SAR_NOTINITIALIZEERR 0x0A00000CUL
#define SAR_OBJERR 0x0A00000DUL
#define SAR_MEMORYERR 0x0A00000EUL
#define SAR_TIMEOUTERR 0x0A00000FUL
#define SAR_INDATALENERR 0x0A000010UL
#define SAR_INDATAERR 0x0A000011UL
#define SAR_GENRANDERR 0x0A000012UL
#define SAR_HASHOBJERR 0x0A000013UL
#define SAR_HASHERR 0x0A000014UL
#define SAR_GENRSAKEYERR 0x0A000015UL
#define SAR_RSAMODULUSLENERR 0x0A000016UL
#define SAR_CSPIMPRTPUBKEYERR 0x0A000017UL
#define SAR_RSAENCERR 0x0A000018UL
#define SAR_RSADECERR 0x0A000019UL
#define SAR_HASHNOTEQUALERR 0x0A00001AUL
#define SAR_KEYNOTFOUNTERR 0x0A00001BUL
#define SAR_CERTNOTFOUNTERR 0x0A00001CUL
#define SAR_NOTEXPORTERR 0x0A00001DUL
#define SAR_DECRYPTPADERR 0x0A00001EUL
#define SAR_MACLENERR 0x0A00001FUL
#define SAR_BUFFER_TOO_SMALL 0x0A000020UL
#define SAR_KEYINFOTYPEERR 0x0A000021UL
#define SAR_NOT_EVENTERR 0x0A000022UL
#define SAR_DEVICE_REMOVED 0x0A000023UL
#define SAR_PIN_INCORRECT 0x0A000024UL
#define SAR_PIN_LOCKED 0x0A000025UL
#define SAR_PIN_INVALID 0x0A000026UL
#define SAR_PIN_LEN_RANGE 0x0A000027UL
#define SAR_USER_ALREADY_LOGGED_IN 0x0A000028UL
#define SAR_USER_PIN_NOT_INITIALIZED 0x0A000029UL
#define SAR_USER_TYPE_INVALID 0x0A00002AUL
#define SAR_APPLICATION_NAME_INVALID 0x0A00002BUL
#define SAR_APPLICATION_EXISTS 0x0A00002CUL
#define SAR_USER_NOT_LOGGED_IN 0x0A00002DUL
#define SAR_APPLICATION_NOT_EXISTS 0x0A00002EUL
#define SAR_FILE_ALREADY_EXIST 0x0A00002FUL
#define SAR_NO_ROOM 0x0A000030UL
#define SAR_FILE_NOT_EXIST 0x0A000031UL
#define SAR_REACH_MAX_CONTAINER_COUNT 0x0A000032UL

/* Algorithm ids as FEITIAN's driver takes them. */
#define SGD_SM4_ECB 0x00000401UL
#define SGD_SSF33_ECB 0x00000201UL
#define SGD_SM2_1 0x00020100UL /* signing pair */
#define SGD_SM2_2 0x00020200UL /* refused by the driver */
#define SGD_SM2_3 0x00020400UL /* exchange (encryption) pair */
#define SGD_SM3 0x00000001UL

#define SKF_ADMIN_TYPE 0
#define SKF_USER_TYPE 1

#define SKF_CONTAINER_EMPTY 0
#define SKF_CONTAINER_RSA 1
#define SKF_CONTAINER_SM2 2

#define SKF_MAX_RSA_MODULUS_LEN 256
#define SKF_MAX_RSA_EXPONENT_LEN 4
#define SKF_ECC_MAX_XCOORDINATE_BITS_LEN 512
#define SKF_ECC_MAX_YCOORDINATE_BITS_LEN 512
#define SKF_ECC_MAX_MODULUS_BITS_LEN 512
#define SKF_MAX_IV_LEN 32

#pragma pack(push, 1)

typedef struct {
	BYTE major;
	BYTE minor;
} VERSION;

typedef struct {
	VERSION Version;
	CHAR Manufacturer[64];
	CHAR Issuer[64];
	CHAR Label[32];
	CHAR SerialNumber[32];
	VERSION HWVersion;
	VERSION FirmwareVersion;
	ULONG AlgSymCap;
	ULONG AlgAsymCap;
	ULONG AlgHashCap;
	ULONG DevAuthAlgId;
	ULONG TotalSpace;
	ULONG FreeSpace;
	ULONG MaxECCBufferSize;
	ULONG MaxBufferSize;
	BYTE Reserved[64];
} DEVINFO, *PDEVINFO;

typedef struct {
	ULONG BitLen;
	BYTE Modulus[SKF_MAX_RSA_MODULUS_LEN];
	BYTE PublicExponent[SKF_MAX_RSA_EXPONENT_LEN];
} RSAPUBLICKEYBLOB, *PRSAPUBLICKEYBLOB;

typedef struct {
	ULONG AlgID;
	ULONG BitLen;
	BYTE Modulus[SKF_MAX_RSA_MODULUS_LEN];
	BYTE PublicExponent[SKF_MAX_RSA_EXPONENT_LEN];
	BYTE PrivateExponent[SKF_MAX_RSA_MODULUS_LEN];
	BYTE Prime1[SKF_MAX_RSA_MODULUS_LEN / 2];
	BYTE Prime2[SKF_MAX_RSA_MODULUS_LEN / 2];
	BYTE Prime1Exponent[SKF_MAX_RSA_MODULUS_LEN / 2];
	BYTE Prime2Exponent[SKF_MAX_RSA_MODULUS_LEN / 2];
	BYTE Coefficient[SKF_MAX_RSA_MODULUS_LEN / 2];
} RSAPRIVATEKEYBLOB, *PRSAPRIVATEKEYBLOB;

/* BitLen is 4 bytes in FEITIAN's driver although ULONG is 8. */
typedef struct {
	unsigned int BitLen;
	BYTE XCoordinate[SKF_ECC_MAX_XCOORDINATE_BITS_LEN / 8];
	BYTE YCoordinate[SKF_ECC_MAX_YCOORDINATE_BITS_LEN / 8];
} ECCPUBLICKEYBLOB, *PECCPUBLICKEYBLOB;

typedef struct {
	unsigned int BitLen;
	BYTE PrivateKey[SKF_ECC_MAX_MODULUS_BITS_LEN / 8];
} ECCPRIVATEKEYBLOB, *PECCPRIVATEKEYBLOB;

/* CipherLen is 8 bytes; Cipher holds CipherLen bytes (declared 1). */
typedef struct {
	BYTE XCoordinate[SKF_ECC_MAX_XCOORDINATE_BITS_LEN / 8];
	BYTE YCoordinate[SKF_ECC_MAX_YCOORDINATE_BITS_LEN / 8];
	BYTE HASH[32];
	ULONG CipherLen;
	BYTE Cipher[1];
} ECCCIPHERBLOB, *PECCCIPHERBLOB;

typedef struct {
	BYTE r[SKF_ECC_MAX_XCOORDINATE_BITS_LEN / 8];
	BYTE s[SKF_ECC_MAX_XCOORDINATE_BITS_LEN / 8];
} ECCSIGNATUREBLOB, *PECCSIGNATUREBLOB;

typedef struct {
	BYTE IV[SKF_MAX_IV_LEN];
	ULONG IVLen;
	ULONG PaddingType;
	ULONG FeedBitLen;
} BLOCKCIPHERPARAM, *PBLOCKCIPHERPARAM;

typedef struct {
	ULONG Version;
	ULONG ulSymmAlgID;
	ULONG ulBits;
	BYTE cbEncryptedPriKey[64];
	ECCPUBLICKEYBLOB PubKey;
	ECCCIPHERBLOB ECCCipherBlob;
} ENVELOPEDKEYBLOB, *PENVELOPEDKEYBLOB;

typedef struct {
	CHAR FileName[32];
	ULONG FileSize;
	ULONG ReadRights;
	ULONG WriteRights;
} FILEATTRIBUTE, *PFILEATTRIBUTE;

#pragma pack(pop)

/* FEITIAN's layout, checked at build time (and by test_softtoken_skf). */
_Static_assert(sizeof(ULONG) == 8, "ULONG is 8 bytes");
_Static_assert(sizeof(BOOL) == 4, "BOOL is 4 bytes");
_Static_assert(sizeof(DEVINFO) == 326, "DEVINFO is 326 bytes");
_Static_assert(offsetof(DEVINFO, Manufacturer) == 2, "DEVINFO.Manufacturer");
_Static_assert(offsetof(DEVINFO, Issuer) == 0x42, "DEVINFO.Issuer");
_Static_assert(offsetof(DEVINFO, Label) == 0x82, "DEVINFO.Label");
_Static_assert(offsetof(DEVINFO, SerialNumber) == 0xA2, "DEVINFO.SerialNumber");
_Static_assert(offsetof(DEVINFO, HWVersion) == 0xC2, "DEVINFO.HWVersion");
_Static_assert(offsetof(DEVINFO, FirmwareVersion) == 0xC4, "DEVINFO.FirmwareVersion");
_Static_assert(offsetof(DEVINFO, AlgSymCap) == 0xC6, "DEVINFO.AlgSymCap");
_Static_assert(offsetof(DEVINFO, AlgAsymCap) == 0xCE, "DEVINFO.AlgAsymCap");
_Static_assert(offsetof(DEVINFO, AlgHashCap) == 0xD6, "DEVINFO.AlgHashCap");
_Static_assert(offsetof(DEVINFO, DevAuthAlgId) == 0xDE, "DEVINFO.DevAuthAlgId");
_Static_assert(offsetof(DEVINFO, TotalSpace) == 0xE6, "DEVINFO.TotalSpace");
_Static_assert(offsetof(DEVINFO, FreeSpace) == 0xEE, "DEVINFO.FreeSpace");
_Static_assert(offsetof(DEVINFO, MaxECCBufferSize) == 0xF6, "DEVINFO.MaxECCBufferSize");
_Static_assert(offsetof(DEVINFO, MaxBufferSize) == 0xFE, "DEVINFO.MaxBufferSize");
_Static_assert(offsetof(DEVINFO, Reserved) == 0x106, "DEVINFO.Reserved");
_Static_assert(sizeof(ECCPUBLICKEYBLOB) == 132, "ECCPUBLICKEYBLOB is 132 bytes");
_Static_assert(offsetof(ECCPUBLICKEYBLOB, XCoordinate) == 4, "ECCPUBLICKEYBLOB.X");
_Static_assert(offsetof(ECCPUBLICKEYBLOB, YCoordinate) == 68, "ECCPUBLICKEYBLOB.Y");
_Static_assert(sizeof(ECCSIGNATUREBLOB) == 128, "ECCSIGNATUREBLOB is 128 bytes");
_Static_assert(offsetof(ECCCIPHERBLOB, HASH) == 0x80, "ECCCIPHERBLOB.HASH");
_Static_assert(offsetof(ECCCIPHERBLOB, CipherLen) == 0xA0, "ECCCIPHERBLOB.CipherLen");
_Static_assert(offsetof(ECCCIPHERBLOB, Cipher) == 0xA8, "ECCCIPHERBLOB.Cipher");
_Static_assert(offsetof(ENVELOPEDKEYBLOB, ulSymmAlgID) == 8, "ENVELOPEDKEYBLOB.ulSymmAlgID");
_Static_assert(offsetof(ENVELOPEDKEYBLOB, ulBits) == 0x10, "ENVELOPEDKEYBLOB.ulBits");
_Static_assert(offsetof(ENVELOPEDKEYBLOB, cbEncryptedPriKey) == 0x18,
	       "ENVELOPEDKEYBLOB.cbEncryptedPriKey");
_Static_assert(offsetof(ENVELOPEDKEYBLOB, PubKey) == 0x58, "ENVELOPEDKEYBLOB.PubKey");
_Static_assert(offsetof(ENVELOPEDKEYBLOB, ECCCipherBlob) == 0xDC,
	       "ENVELOPEDKEYBLOB.ECCCipherBlob");
_Static_assert(offsetof(ENVELOPEDKEYBLOB, ECCCipherBlob.CipherLen) == 0x17C,
	       "ENVELOPEDKEYBLOB.ECCCipherBlob.CipherLen");
_Static_assert(offsetof(ENVELOPEDKEYBLOB, ECCCipherBlob.Cipher) == 0x184,
	       "ENVELOPEDKEYBLOB.ECCCipherBlob.Cipher");
_Static_assert(sizeof(BLOCKCIPHERPARAM) == 56, "BLOCKCIPHERPARAM");

/* Every exported SKF function, in GM/T 0016 order, with SKF_ECCDecrypt
 * (a common vendor extension) after the ECC group. The ones the fixture
 * does not implement return SAR_NOTSUPPORTYETERR (docs/softtoken.md). */
#define GMSOFT_SKF_FUNCTIONS(X) \
	X(SKF_WaitForDevEvent) X(SKF_CancelWaitForDevEvent) X(SKF_EnumDev) \
	X(SKF_ConnectDev) X(SKF_DisConnectDev) X(SKF_GetDevState) \
	X(SKF_SetLabel) X(SKF_GetDevInfo) X(SKF_LockDev) X(SKF_UnlockDev) \
	X(SKF_Transmit) X(SKF_ChangeDevAuthKey) X(SKF_DevAuth) \
	X(SKF_ChangePIN) X(SKF_GetPINInfo) X(SKF_VerifyPIN) \
	X(SKF_UnblockPIN) X(SKF_ClearSecureState) X(SKF_CreateApplication) \
	X(SKF_EnumApplication) X(SKF_DeleteApplication) \
	X(SKF_OpenApplication) X(SKF_CloseApplication) X(SKF_CreateFile) \
	X(SKF_DeleteFile) X(SKF_EnumFiles) X(SKF_GetFileInfo) \
	X(SKF_ReadFile) X(SKF_WriteFile) X(SKF_CreateContainer) \
	X(SKF_DeleteContainer) X(SKF_OpenContainer) X(SKF_CloseContainer) \
	X(SKF_EnumContainer) X(SKF_GetContainerType) \
	X(SKF_ImportCertificate) X(SKF_ExportCertificate) X(SKF_GenRandom) \
	X(SKF_GenExtRSAKey) X(SKF_GenRSAKeyPair) X(SKF_ImportRSAKeyPair) \
	X(SKF_RSASignData) X(SKF_RSAVerify) X(SKF_RSAExportSessionKey) \
	X(SKF_ExtRSAPubKeyOperation) X(SKF_ExtRSAPriKeyOperation) \
	X(SKF_GenECCKeyPair) X(SKF_ImportECCKeyPair) X(SKF_ECCSignData) \
	X(SKF_ECCVerify) X(SKF_ECCExportSessionKey) X(SKF_ExtECCEncrypt) \
	X(SKF_ExtECCDecrypt) X(SKF_ExtECCSign) X(SKF_ExtECCVerify) \
	X(SKF_ECCDecrypt) X(SKF_GenerateAgreementDataWithECC) \
	X(SKF_GenerateAgreementDataAndKeyWithECC) X(SKF_GenerateKeyWithECC) \
	X(SKF_ExportPublicKey) X(SKF_ImportSessionKey) X(SKF_SetSymmKey) \
	X(SKF_EncryptInit) X(SKF_Encrypt) X(SKF_EncryptUpdate) \
	X(SKF_EncryptFinal) X(SKF_DecryptInit) X(SKF_Decrypt) \
	X(SKF_DecryptUpdate) X(SKF_DecryptFinal) X(SKF_DigestInit) \
	X(SKF_Digest) X(SKF_DigestUpdate) X(SKF_DigestFinal) X(SKF_MacInit) \
	X(SKF_Mac) X(SKF_MacUpdate) X(SKF_MacFinal) X(SKF_CloseHandle)

ULONG SKF_WaitForDevEvent(LPSTR szDevName, ULONG *pulDevNameLen, ULONG *pulEvent);
ULONG SKF_CancelWaitForDevEvent(void);
ULONG SKF_EnumDev(BOOL bPresent, LPSTR szNameList, ULONG *pulSize);
ULONG SKF_ConnectDev(LPSTR szName, DEVHANDLE *phDev);
ULONG SKF_DisConnectDev(DEVHANDLE hDev);
ULONG SKF_GetDevState(LPSTR szDevName, ULONG *pulDevState);
ULONG SKF_SetLabel(DEVHANDLE hDev, LPSTR szLabel);
ULONG SKF_GetDevInfo(DEVHANDLE hDev, DEVINFO *pDevInfo);
ULONG SKF_LockDev(DEVHANDLE hDev, ULONG ulTimeOut);
ULONG SKF_UnlockDev(DEVHANDLE hDev);
ULONG SKF_Transmit(DEVHANDLE hDev, BYTE *pbCommand, ULONG ulCommandLen,
		   BYTE *pbData, ULONG *pulDataLen);
ULONG SKF_ChangeDevAuthKey(DEVHANDLE hDev, BYTE *pbKeyValue, ULONG ulKeyLen);
ULONG SKF_DevAuth(DEVHANDLE hDev, BYTE *pbAuthData, ULONG ulLen);
ULONG SKF_ChangePIN(HAPPLICATION hApplication, ULONG ulPINType, LPSTR szOldPin,
		    LPSTR szNewPin, ULONG *pulRetryCount);
ULONG SKF_GetPINInfo(HAPPLICATION hApplication, ULONG ulPINType,
		     ULONG *pulMaxRetryCount, ULONG *pulRemainRetryCount,
		     BOOL *pbDefaultPin);
ULONG SKF_VerifyPIN(HAPPLICATION hApplication, ULONG ulPINType, LPSTR szPIN,
		    ULONG *pulRetryCount);
ULONG SKF_UnblockPIN(HAPPLICATION hApplication, LPSTR szAdminPIN,
		     LPSTR szNewUserPIN, ULONG *pulRetryCount);
ULONG SKF_ClearSecureState(HAPPLICATION hApplication);
ULONG SKF_CreateApplication(DEVHANDLE hDev, LPSTR szAppName, LPSTR szAdminPin,
			    DWORD dwAdminPinRetryCount, LPSTR szUserPin,
			    DWORD dwUserPinRetryCount, DWORD dwCreateFileRights,
			    HAPPLICATION *phApplication);
ULONG SKF_EnumApplication(DEVHANDLE hDev, LPSTR szAppName, ULONG *pulSize);
ULONG SKF_DeleteApplication(DEVHANDLE hDev, LPSTR szAppName);
ULONG SKF_OpenApplication(DEVHANDLE hDev, LPSTR szAppName,
			  HAPPLICATION *phApplication);
ULONG SKF_CloseApplication(HAPPLICATION hApplication);
ULONG SKF_CreateFile(HAPPLICATION hApplication, LPSTR szFileName,
		     ULONG ulFileSize, ULONG ulReadRights, ULONG ulWriteRights);
ULONG SKF_DeleteFile(HAPPLICATION hApplication, LPSTR szFileName);
ULONG SKF_EnumFiles(HAPPLICATION hApplication, LPSTR szFileList, ULONG *pulSize);
ULONG SKF_GetFileInfo(HAPPLICATION hApplication, LPSTR szFileName,
		      FILEATTRIBUTE *pFileInfo);
ULONG SKF_ReadFile(HAPPLICATION hApplication, LPSTR szFileName, ULONG ulOffset,
		   ULONG ulSize, BYTE *pbOutData, ULONG *pulOutLen);
ULONG SKF_WriteFile(HAPPLICATION hApplication, LPSTR szFileName, ULONG ulOffset,
		    BYTE *pbData, ULONG ulSize);
ULONG SKF_CreateContainer(HAPPLICATION hApplication, LPSTR szContainerName,
			  HCONTAINER *phContainer);
ULONG SKF_DeleteContainer(HAPPLICATION hApplication, LPSTR szContainerName);
ULONG SKF_OpenContainer(HAPPLICATION hApplication, LPSTR szContainerName,
			HCONTAINER *phContainer);
ULONG SKF_CloseContainer(HCONTAINER hContainer);
ULONG SKF_EnumContainer(HAPPLICATION hApplication, LPSTR szContainerName,
			ULONG *pulSize);
ULONG SKF_GetContainerType(HCONTAINER hContainer, ULONG *pulContainerType);
ULONG SKF_ImportCertificate(HCONTAINER hContainer, BOOL bSignFlag, BYTE *pbCert,
			    ULONG ulCertLen);
ULONG SKF_ExportCertificate(HCONTAINER hContainer, BOOL bSignFlag, BYTE *pbCert,
			    ULONG *pulCertLen);
ULONG SKF_GenRandom(DEVHANDLE hDev, BYTE *pbRandom, ULONG ulRandomLen);
ULONG SKF_GenExtRSAKey(DEVHANDLE hDev, ULONG ulBitsLen, RSAPRIVATEKEYBLOB *pBlob);
ULONG SKF_GenRSAKeyPair(HCONTAINER hContainer, ULONG ulBitsLen,
			RSAPUBLICKEYBLOB *pBlob);
ULONG SKF_ImportRSAKeyPair(HCONTAINER hContainer, ULONG ulSymAlgId,
			   BYTE *pbWrappedKey, ULONG ulWrappedKeyLen,
			   BYTE *pbEncryptedData, ULONG ulEncryptedDataLen);
ULONG SKF_RSASignData(HCONTAINER hContainer, BYTE *pbData, ULONG ulDataLen,
		      BYTE *pbSignature, ULONG *pulSignLen);
ULONG SKF_RSAVerify(DEVHANDLE hDev, RSAPUBLICKEYBLOB *pRSAPubKeyBlob,
		    BYTE *pbData, ULONG ulDataLen, BYTE *pbSignature,
		    ULONG ulSignLen);
ULONG SKF_RSAExportSessionKey(HCONTAINER hContainer, ULONG ulAlgId,
			      RSAPUBLICKEYBLOB *pPubKey, BYTE *pbData,
			      ULONG *pulDataLen, HANDLE *phSessionKey);
ULONG SKF_ExtRSAPubKeyOperation(DEVHANDLE hDev, RSAPUBLICKEYBLOB *pRSAPubKeyBlob,
				BYTE *pbInput, ULONG ulInputLen, BYTE *pbOutput,
				ULONG *pulOutputLen);
ULONG SKF_ExtRSAPriKeyOperation(DEVHANDLE hDev, RSAPRIVATEKEYBLOB *pRSAPriKeyBlob,
				BYTE *pbInput, ULONG ulInputLen, BYTE *pbOutput,
				ULONG *pulOutputLen);
ULONG SKF_GenECCKeyPair(HCONTAINER hContainer, ULONG ulAlgId,
			ECCPUBLICKEYBLOB *pBlob);
ULONG SKF_ImportECCKeyPair(HCONTAINER hContainer,
			   ENVELOPEDKEYBLOB *pEnvelopedKeyBlob);
ULONG SKF_ECCSignData(HCONTAINER hContainer, BYTE *pbData, ULONG ulDataLen,
		      ECCSIGNATUREBLOB *pSignature);
ULONG SKF_ECCVerify(DEVHANDLE hDev, ECCPUBLICKEYBLOB *pECCPubKeyBlob,
		    BYTE *pbData, ULONG ulDataLen, ECCSIGNATUREBLOB *pSignature);
ULONG SKF_ECCExportSessionKey(HCONTAINER hContainer, ULONG ulAlgId,
			      ECCPUBLICKEYBLOB *pPubKey, ECCCIPHERBLOB *pData,
			      HANDLE *phSessionKey);
ULONG SKF_ExtECCEncrypt(DEVHANDLE hDev, ECCPUBLICKEYBLOB *pECCPubKeyBlob,
			BYTE *pbPlainText, ULONG ulPlainTextLen,
			ECCCIPHERBLOB *pCipherText);
ULONG SKF_ExtECCDecrypt(DEVHANDLE hDev, ECCPRIVATEKEYBLOB *pECCPriKeyBlob,
			ECCCIPHERBLOB *pCipherText, BYTE *pbPlainText,
			ULONG *pulPlainTextLen);
ULONG SKF_ExtECCSign(DEVHANDLE hDev, ECCPRIVATEKEYBLOB *pECCPriKeyBlob,
		     BYTE *pbData, ULONG ulDataLen, ECCSIGNATUREBLOB *pSignature);
ULONG SKF_ExtECCVerify(DEVHANDLE hDev, ECCPUBLICKEYBLOB *pECCPubKeyBlob,
		       BYTE *pbData, ULONG ulDataLen,
		       ECCSIGNATUREBLOB *pSignature);
ULONG SKF_ECCDecrypt(HCONTAINER hContainer, ECCCIPHERBLOB *pCipherText,
		     BYTE *pbPlainText, ULONG *pulPlainTextLen);
ULONG SKF_GenerateAgreementDataWithECC(HCONTAINER hContainer, ULONG ulAlgId,
				       ECCPUBLICKEYBLOB *pTempECCPubKeyBlob,
				       BYTE *pbID, ULONG ulIDLen,
				       HANDLE *phAgreementHandle);
ULONG SKF_GenerateAgreementDataAndKeyWithECC(
	HANDLE hContainer, ULONG ulAlgId, ECCPUBLICKEYBLOB *pSponsorECCPubKeyBlob,
	ECCPUBLICKEYBLOB *pSponsorTempECCPubKeyBlob,
	ECCPUBLICKEYBLOB *pTempECCPubKeyBlob, BYTE *pbID, ULONG ulIDLen,
	BYTE *pbSponsorID, ULONG ulSponsorIDLen, HANDLE *phKeyHandle);
ULONG SKF_GenerateKeyWithECC(HANDLE hAgreementHandle,
			     ECCPUBLICKEYBLOB *pECCPubKeyBlob,
			     ECCPUBLICKEYBLOB *pTempECCPubKeyBlob, BYTE *pbID,
			     ULONG ulIDLen, HANDLE *phKeyHandle);
ULONG SKF_ExportPublicKey(HCONTAINER hContainer, BOOL bSignFlag, BYTE *pbBlob,
			  ULONG *pulBlobLen);
ULONG SKF_ImportSessionKey(HCONTAINER hContainer, ULONG ulAlgId,
			   BYTE *pbWrapedData, ULONG ulWrapedLen, HANDLE *phKey);
ULONG SKF_SetSymmKey(DEVHANDLE hDev, BYTE *pbKey, ULONG ulAlgID, HANDLE *phKey);
ULONG SKF_EncryptInit(HANDLE hKey, BLOCKCIPHERPARAM EncryptParam);
ULONG SKF_Encrypt(HANDLE hKey, BYTE *pbData, ULONG ulDataLen,
		  BYTE *pbEncryptedData, ULONG *pulEncryptedLen);
ULONG SKF_EncryptUpdate(HANDLE hKey, BYTE *pbData, ULONG ulDataLen,
			BYTE *pbEncryptedData, ULONG *pulEncryptedLen);
ULONG SKF_EncryptFinal(HANDLE hKey, BYTE *pbEncryptedData,
		       ULONG *pulEncryptedDataLen);
ULONG SKF_DecryptInit(HANDLE hKey, BLOCKCIPHERPARAM DecryptParam);
ULONG SKF_Decrypt(HANDLE hKey, BYTE *pbEncryptedData, ULONG ulEncryptedLen,
		  BYTE *pbData, ULONG *pulDataLen);
ULONG SKF_DecryptUpdate(HANDLE hKey, BYTE *pbEncryptedData,
			ULONG ulEncryptedLen, BYTE *pbData, ULONG *pulDataLen);
ULONG SKF_DecryptFinal(HANDLE hKey, BYTE *pbDecryptedData,
		       ULONG *pulDecryptedDataLen);
ULONG SKF_DigestInit(DEVHANDLE hDev, ULONG ulAlgID, ECCPUBLICKEYBLOB *pPubKey,
		     BYTE *pbID, ULONG ulIDLen, HANDLE *phHash);
ULONG SKF_Digest(HANDLE hHash, BYTE *pbData, ULONG ulDataLen, BYTE *pbHashData,
		 ULONG *pulHashLen);
ULONG SKF_DigestUpdate(HANDLE hHash, BYTE *pbData, ULONG ulDataLen);
ULONG SKF_DigestFinal(HANDLE hHash, BYTE *pHashData, ULONG *pulHashLen);
ULONG SKF_MacInit(HANDLE hKey, BLOCKCIPHERPARAM *pMacParam, HANDLE *phMac);
ULONG SKF_Mac(HANDLE hMac, BYTE *pbData, ULONG ulDataLen, BYTE *pbMacData,
	      ULONG *pulMacLen);
ULONG SKF_MacUpdate(HANDLE hMac, BYTE *pbData, ULONG ulDataLen);
ULONG SKF_MacFinal(HANDLE hMac, BYTE *pbMacData, ULONG *pulMacDataLen);
ULONG SKF_CloseHandle(HANDLE hHandle);

/* Names of SAR_ values ("SAR_OK", or "0x%08lx" in buf, at least 24 bytes),
 * and the reverse (a SAR_ name or a number). */
const char *gmsoft_sar_name(ULONG sar, char *buf, size_t buflen);
int gmsoft_sar_parse(const char *text, ULONG *sar);

#endif
