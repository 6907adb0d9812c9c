/*
 * skf_stub.c - a small SKF library for the unit tests of the SKF backend's
 * loading and marshalling, built three ways: with every function gmrenew
 * needs (FEITIAN's ABI: 8-byte ULONG, packed DEVINFO), without
 * SKF_ECCSignData (STUB_NO_SIGN), and with no SKF function at all
 * (STUB_NONE). The soft ePass3000GM (tests/softtoken) is the fixture for
 * behaviour; this stub only answers what the unit tests ask.
 */
#include <string.h>

typedef unsigned long ULONG;	/* 8 bytes on x86-64, as FEITIAN's */

#define SAR_OK 0UL
#define SAR_NOTSUPPORTYETERR 0x0A000003UL
#define SAR_BUFFER_TOO_SMALL 0x0A000020UL

ULONG stub_version(void);
ULONG stub_version(void)
{
	return 1;
}

#ifndef STUB_NONE
#define NOT_YET(name) \
	ULONG name(void); \
	ULONG name(void) { return SAR_NOTSUPPORTYETERR; }

/* Two devices; the first fill says the list grew (it asks again). */
static const char devices[] = "ES3000GM VCR 1\0ES3000GM VCR 2\0";
static int grew;

ULONG SKF_EnumDev(int present, char *list, ULONG *size);
ULONG SKF_EnumDev(int present, char *list, ULONG *size)
{
	(void)present;
	if (!list) {
		*size = grew ? sizeof(devices) : 10;
		return SAR_OK;
	}
	if (!grew || *size < sizeof(devices)) {
		grew = 1;
		*size = sizeof(devices);
		return SAR_BUFFER_TOO_SMALL;
	}
	memcpy(list, devices, sizeof(devices));
	*size = sizeof(devices);
	return SAR_OK;
}

ULONG SKF_ConnectDev(const char *name, void **dev);
ULONG SKF_ConnectDev(const char *name, void **dev)
{
	*dev = (void *)(name[13] == '1' ? devices : devices + 15);
	return SAR_OK;
}

static void put8(unsigned char *p, ULONG v)
{
	memcpy(p, &v, 8);
}

/* DEVINFO as FEITIAN's driver writes it: 326 bytes, packed. */
ULONG SKF_GetDevInfo(void *dev, unsigned char *info);
ULONG SKF_GetDevInfo(void *dev, unsigned char *info)
{
	memset(info, 0, 326);
	info[0] = 1;
	memcpy(info + 2, "Feitian Technologies Co., Ltd.", 30);
	memcpy(info + 0x42, "Stub issuer", 11);
	memcpy(info + 0x82, "ePass3000GM", 11);
	memcpy(info + 0xA2, dev == devices ? "2A0F96E8B1C40012" :
	       "2A0F96E8B1C40013", 16);
	info[0xC4] = 2;
	info[0xC5] = 7;
	put8(info + 0xC6, 0x401);
	put8(info + 0xCE, 0x20100);
	put8(info + 0xD6, 1);
	put8(info + 0xDE, 0x201);
	put8(info + 0xE6, 65536);
	put8(info + 0xEE, 32768);
	return SAR_OK;
}

NOT_YET(SKF_DisConnectDev)
NOT_YET(SKF_EnumApplication)
NOT_YET(SKF_OpenApplication)
NOT_YET(SKF_CloseApplication)
NOT_YET(SKF_GetPINInfo)
NOT_YET(SKF_VerifyPIN)
NOT_YET(SKF_ClearSecureState)
NOT_YET(SKF_EnumContainer)
NOT_YET(SKF_OpenContainer)
NOT_YET(SKF_CloseContainer)
NOT_YET(SKF_CreateContainer)
NOT_YET(SKF_DeleteContainer)
NOT_YET(SKF_GetContainerType)
NOT_YET(SKF_ExportCertificate)
NOT_YET(SKF_ImportCertificate)
NOT_YET(SKF_ExportPublicKey)
NOT_YET(SKF_GenECCKeyPair)
#ifndef STUB_NO_SIGN
NOT_YET(SKF_ECCSignData)
#endif
#endif
