/*
 * skf_api.h - the GM/T 0016-2012 "SKF" interface as gmrenew calls it: the
 * standard's names for return codes, algorithm ids and PIN types, the
 * entry points it resolves with dlsym, and the byte layouts of the
 * structures it exchanges with a library.
 *
 * The library's ABI differs between vendors (ULONG 4 or 8 bytes, BOOL 4 or
 * 8, packed or aligned structures; shared/reference/skf.md section 5), so
 * nothing here relies on a C structure matching the library's:
 * - integers passed by value are declared as unsigned long, the width of an
 *   argument register on the 64-bit targets gmrenew supports, and carry a
 *   value of at most 32 bits: a callee built with a 32-bit ULONG reads the
 *   low half, one built with a 64-bit ULONG the whole register;
 * - a returned ULONG is masked to the profile's width (the upper half of
 *   the register is undefined when the library's ULONG is 32 bits);
 * - every ULONG * and BOOL * argument points at zeroed 8-byte storage that
 *   skf_abi.c reads and writes at the profile's width;
 * - structures are byte buffers with fields at explicit offsets.
 */
#ifndef GMRENEW_SKF_API_H
#define GMRENEW_SKF_API_H

#include <stddef.h>
#include <stdint.h>

typedef unsigned long skf_rv;	/* a SAR_* code (masked after the call) */
typedef unsigned long skf_arg;	/* ULONG or BOOL passed by value */
typedef void *skf_handle;	/* DEVHANDLE, HAPPLICATION, HCONTAINER */

/* Return codes (GM/T 0016-2012 annex; 0x33 and 0x34 are later additions
 * some vendors use). */
#define SAR_OK				0x00000000UL
#define SAR_FAIL			0x0A000001UL
#define SAR_UNKNOWNERR			0x0A000002UL
#define SAR_NOTSUPPORTYETERR		0x0A000003UL
#define SAR_FILEERR			0x0A000004UL
#define SAR_INVALIDHANDLEERR		0x0A000005UL
#define SAR_INVALIDPARAMERR		0x0A000006UL
#define SAR_READFILEERR			0x0A000007UL
#define SAR_WRITEFILEERR		0x0A000008UL
#define SAR_NAMELENERR			0x0A000009UL
#define SAR_KEYUSAGEERR			0x0A00000AUL
#define SAR_MODULUSLENERR		0x0A00000BUL
#define SAR_NOTINITIALIZEERR		0x0A00000CUL
#define SAR_OBJERR			0x0A00000DUL
#define SAR_MEMORYERR			0x0A00000EUL
#define SAR_TIMEOUTERR			0x0A00000FUL
#define SAR_INDATALENERR		0x0A000010UL
#define SAR_INDATAERR			0x0A000011UL
#define SAR_GENRANDERR			0x0A000012UL
#define SAR_HASHOBJERR			0x0A000013UL
#define SAR_HASHERR			0x0A000014UL
#define SAR_GENRSAKEYERR		0x0A000015UL
#define SAR_RSAMODULUSLENERR		0x0A000016UL
#define SAR_CSPIMPRTPUBKEYERR		0x0A000017UL
#define SAR_RSAENCERR			0x0A000018UL
#define SAR_RSADECERR			0x0A000019UL
#define SAR_HASHNOTEQUALERR		0x0A00001AUL
#define SAR_KEYNOTFOUNTERR		0x0A00001BUL
#define SAR_CERTNOTFOUNTERR		0x0A00001CUL
#define SAR_NOTEXPORTERR		0x0A00001DUL
#define SAR_DECRYPTPADERR		0x0A00001EUL
#define SAR_MACLENERR			0x0A00001FUL
#define SAR_BUFFER_TOO_SMALL		0x0A000020UL
#define SAR_KEYINFOTYPEERR		0x0A000021UL
#define SAR_NOT_EVENTERR		0x0A000022UL
#define SAR_DEVICE_REMOVED		0x0A000023UL
#define SAR_PIN_INCORRECT		0x0A000024UL
#define SAR_PIN_LOCKED			0x0A000025UL
#define SAR_PIN_INVALID			0x0A000026UL
#define SAR_PIN_LEN_RANGE		0x0A000027UL
#define SAR_USER_ALREADY_LOGGED_IN	0x0A000028UL
#define SAR_USER_PIN_NOT_INITIALIZED	0x0A000029UL
#define SAR_USER_TYPE_INVALID		0x0A00002AUL
#define SAR_APPLICATION_NAME_INVALID	0x0A00002BUL
#define SAR_APPLICATION_EXISTS		0x0A00002CUL
#define SAR_USER_NOT_LOGGED_IN		0x0A00002DUL
#define SAR_APPLICATION_NOT_EXISTS	0x0A00002EUL
#define SAR_FILE_ALREADY_EXIST		0x0A00002FUL
#define SAR_NO_ROOM			0x0A000030UL
#define SAR_FILE_NOT_EXIST		0x0A000031UL
#define SAR_REACH_MAX_CONTAINER_COUNT	0x0A000032UL
#define SAR_CONTAINER_ALREADY_EXIST	0x0A000033UL
#define SAR_CONTAINER_NOT_EXIST		0x0A000034UL

/* PIN types. */
#define SKF_ADMIN_TYPE	0UL
#define SKF_USER_TYPE	1UL

/* SKF_GetContainerType answers. */
#define SKF_CONTAINER_EMPTY	0UL
#define SKF_CONTAINER_RSA	1UL
#define SKF_CONTAINER_ECC	2UL

/* Fixed structure sizes and offsets (every vendor agrees on these). */
#define SKF_ECC_COORD_LEN	64	/* a coordinate, right-aligned */
#define SKF_ECC_PUBBLOB_LEN	132	/* BitLen[4] X[64] Y[64] */
#define SKF_ECC_PUB_X		4
#define SKF_ECC_PUB_Y		68
#define SKF_ECC_SIGBLOB_LEN	128	/* r[64] s[64] */
#define SKF_DEVINFO_BUF		512	/* more than any DEVINFO variant */
#define SKF_NAME_MAX		64	/* container names */

/* DEVINFO: the strings sit at the same place in every variant. */
#define SKF_DEVINFO_MANUFACTURER	2
#define SKF_DEVINFO_ISSUER		66
#define SKF_DEVINFO_LABEL		130
#define SKF_DEVINFO_SERIAL		162
#define SKF_DEVINFO_HWVERSION		194
#define SKF_DEVINFO_FWVERSION		196
#define SKF_DEVINFO_ULONGS		198	/* packed; 200 when aligned */

/* The entry points, with the argument order of GM/T 0016. */
typedef skf_rv (*skf_enum_fn)(skf_arg present, char *list, void *size);
typedef skf_rv (*skf_connect_fn)(const char *name, skf_handle *dev);
typedef skf_rv (*skf_close_fn)(skf_handle h);
typedef skf_rv (*skf_devinfo_fn)(skf_handle dev, void *info);
typedef skf_rv (*skf_enum_in_fn)(skf_handle h, char *list, void *size);
typedef skf_rv (*skf_open_fn)(skf_handle parent, const char *name,
			      skf_handle *out);
typedef skf_rv (*skf_delete_fn)(skf_handle parent, const char *name);
typedef skf_rv (*skf_pininfo_fn)(skf_handle app, skf_arg type, void *max,
				 void *remain, void *is_default);
typedef skf_rv (*skf_verifypin_fn)(skf_handle app, skf_arg type,
				   const char *pin, void *retry);
typedef skf_rv (*skf_ulong_out_fn)(skf_handle h, void *out);
typedef skf_rv (*skf_export_fn)(skf_handle con, skf_arg sign, unsigned char *buf,
				void *len);
typedef skf_rv (*skf_import_cert_fn)(skf_handle con, skf_arg sign,
				     const unsigned char *der, skf_arg len);
typedef skf_rv (*skf_genecc_fn)(skf_handle con, skf_arg alg,
				unsigned char *pub);
typedef skf_rv (*skf_eccsign_fn)(skf_handle con, const unsigned char *data,
				 skf_arg len, unsigned char *sig);
typedef skf_rv (*skf_import_ecc_fn)(skf_handle con, const unsigned char *env);
typedef skf_rv (*skf_digestinit_fn)(skf_handle dev, skf_arg alg,
				    const unsigned char *pub,
				    const unsigned char *id, skf_arg id_len,
				    skf_handle *hash);
typedef skf_rv (*skf_digest_fn)(skf_handle hash, const unsigned char *data,
				skf_arg len, unsigned char *out, void *out_len);

/* The functions gmrenew uses, resolved by name (skf_lib.c). */
typedef struct skf_functions {
	skf_enum_fn EnumDev;
	skf_connect_fn ConnectDev;
	skf_close_fn DisConnectDev;
	skf_devinfo_fn GetDevInfo;
	skf_enum_in_fn EnumApplication;
	skf_open_fn OpenApplication;
	skf_close_fn CloseApplication;
	skf_pininfo_fn GetPINInfo;
	skf_verifypin_fn VerifyPIN;
	skf_close_fn ClearSecureState;
	skf_enum_in_fn EnumContainer;
	skf_open_fn OpenContainer;
	skf_close_fn CloseContainer;
	skf_open_fn CreateContainer;
	skf_delete_fn DeleteContainer;
	skf_ulong_out_fn GetContainerType;
	skf_export_fn ExportCertificate;
	skf_import_cert_fn ImportCertificate;
	skf_export_fn ExportPublicKey;
	skf_genecc_fn GenECCKeyPair;
	skf_eccsign_fn ECCSignData;
	/* optional: the token's own SM3(Z || M), a cross-check only */
	skf_digestinit_fn DigestInit;
	skf_digest_fn Digest;
	skf_close_fn CloseHandle;
	/* optional: double certificates (NULL: the library cannot) */
	skf_import_ecc_fn ImportECCKeyPair;
} skf_functions;

#endif
