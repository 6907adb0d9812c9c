/* test_softtoken_skf.c - the SKF side of the soft ePass3000GM, called
 * through dlsym() with FEITIAN's x86-64 ABI (8-byte ULONG, 4-byte BOOL,
 * packed structures), and checked against its PKCS#11 side (one store),
 * the openssl command (signatures, envelopes) and raw byte offsets.
 * Tests that change the process (fault switches, SIGKILL) run in a forked
 * child, which reports through its exit status. */
#include <dlfcn.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "st_admin.h"
#include "st_crypto.h"
#include "st_object.h"
#include "st_skf.h"

#define PIN "12345678"
#define SO_PIN "87654321"
#define SERIAL_A "3000A10000000001"
#define SERIAL_B "3000A10000000002"
#define DEV_A "ES3000GM VCR 1"
#define DEV_B "ES3000GM VCR 2"
#define APP "ENTERSAFE-ESPK"
#define SM2_ID "1234567812345678"

#define CHILD_CHECK(cond)                                                      \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "child check failed line %d: %s\n",    \
				__LINE__, #cond);                              \
			_exit(1);                                              \
		}                                                              \
	} while (0)

static char state_dir[] = "/tmp/gmsoft-skf-test.XXXXXX";
static void *module;
static CK_FUNCTION_LIST_PTR p11;

/* The SKF functions, typed from the fixture's own declarations. */
#define SKF_PTR(name) static __typeof__(&name) f_##name;
GMSOFT_SKF_FUNCTIONS(SKF_PTR)
#undef SKF_PTR

static const char *const skf_names[] = {
#define SKF_NAME(name) #name,
	GMSOFT_SKF_FUNCTIONS(SKF_NAME)
#undef SKF_NAME
};

/* ---- fixture -------------------------------------------------------- */

static void provision(void)
{
	struct gmsoft_token t;

	gmsoft_token_defaults(&t, 0);
	strcpy(t.label, "Ekey A");
	strcpy(t.serial, SERIAL_A);
	assert_int_equal(gmsoft_admin_init(state_dir, &t, PIN, SO_PIN), CKR_OK);
	gmsoft_token_defaults(&t, 1);
	strcpy(t.label, "Ekey B");
	strcpy(t.serial, SERIAL_B);
	assert_int_equal(gmsoft_admin_init(state_dir, &t, PIN, NULL), CKR_OK);
	assert_int_equal(gmsoft_admin_empty(state_dir, 2), CKR_OK);
}

static int load_all(void)
{
	CK_RV (*get)(CK_FUNCTION_LIST_PTR_PTR);

#define SKF_LOAD(name)                                                         \
	*(void **)&f_##name = dlsym(module, #name);                            \
	if (!f_##name)                                                         \
		return -1;
	GMSOFT_SKF_FUNCTIONS(SKF_LOAD)
#undef SKF_LOAD
	*(void **)&get = dlsym(module, "C_GetFunctionList");
	return (get && get(&p11) == CKR_OK) ? 0 : -1;
}

static int group_setup(void **state)
{
	(void)state;
	if (!mkdtemp(state_dir))
		return -1;
	setenv("GMSOFT_DIR", state_dir, 1);
	module = dlopen(GMSOFT_MODULE_PATH, RTLD_NOW | RTLD_LOCAL);
	return module ? load_all() : -1;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int setup(void **state)
{
	(void)state;
	provision();
	return p11->C_Initialize(NULL) == CKR_OK ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return p11->C_Finalize(NULL) == CKR_OK ? 0 : -1;
}

static void path_in_state(char *buf, size_t size, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", state_dir, name);

	if (n < 0 || (size_t)n >= size)
		fail_msg("path too long: %s/%s", state_dir, name);
}

static void write_file(const char *name, const void *data, size_t len)
{
	char path[256];
	FILE *f;

	path_in_state(path, sizeof(path), name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static size_t read_file(const char *name, unsigned char *buf, size_t size)
{
	char path[256];
	FILE *f;
	size_t n;

	path_in_state(path, sizeof(path), name);
	f = fopen(path, "rb");
	assert_non_null(f);
	n = fread(buf, 1, size, f);
	fclose(f);
	return n;
}

/* Run the openssl command in the state directory; its exit status. */
static int openssl(const char *args)
{
	char cmd[1024];
	int st;

	snprintf(cmd, sizeof(cmd), "cd '%s' && openssl %s", state_dir, args);
	st = system(cmd);
	assert_true(st != -1 && WIFEXITED(st));
	assert_int_not_equal(WEXITSTATUS(st), 127); /* openssl missing */
	return WEXITSTATUS(st);
}

static DEVHANDLE connect_dev(const char *name)
{
	DEVHANDLE dev = NULL;

	assert_int_equal(f_SKF_ConnectDev((LPSTR)name, &dev), SAR_OK);
	return dev;
}

static HAPPLICATION open_app(DEVHANDLE dev)
{
	HAPPLICATION app = NULL;

	assert_int_equal(f_SKF_OpenApplication(dev, (LPSTR)APP, &app), SAR_OK);
	return app;
}

static void verify_user(HAPPLICATION app)
{
	ULONG retry = 99;

	assert_int_equal(
		f_SKF_VerifyPIN(app, SKF_USER_TYPE, (LPSTR)PIN, &retry),
		SAR_OK);
}

struct skf {
	DEVHANDLE dev;
	HAPPLICATION app;
	HCONTAINER con;
};

/* Device A, its application, the user PIN verified, container name
 * created. */
static void skf_open(struct skf *s, const char *name)
{
	s->dev = connect_dev(DEV_A);
	s->app = open_app(s->dev);
	verify_user(s->app);
	s->con = NULL;
	if (name)
		assert_int_equal(
			f_SKF_CreateContainer(s->app, (LPSTR)name, &s->con),
			SAR_OK);
}

static void skf_close(struct skf *s)
{
	if (s->con)
		assert_int_equal(f_SKF_CloseContainer(s->con), SAR_OK);
	assert_int_equal(f_SKF_CloseApplication(s->app), SAR_OK);
	assert_int_equal(f_SKF_DisConnectDev(s->dev), SAR_OK);
}

static CK_SESSION_HANDLE p11_session(CK_SLOT_ID slot, int login)
{
	CK_SESSION_HANDLE h = 0;

	assert_int_equal(p11->C_OpenSession(slot,
					    CKF_SERIAL_SESSION | CKF_RW_SESSION,
					    NULL, NULL, &h),
			 CKR_OK);
	if (login)
		assert_int_equal(p11->C_Login(h, CKU_USER, (CK_UTF8CHAR_PTR)PIN,
					      strlen(PIN)),
				 CKR_OK);
	return h;
}

/* The objects of class cls in container name, seen through PKCS#11. */
static CK_ULONG p11_find(CK_SESSION_HANDLE h, CK_OBJECT_CLASS cls,
			 const char *name, CK_OBJECT_HANDLE *out, CK_ULONG max)
{
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ GMSOFT_CKA_CONTAINER_NAME, (void *)name, strlen(name) + 1 },
	};
	CK_ULONG count = 0;

	assert_int_equal(p11->C_FindObjectsInit(h, t, 2), CKR_OK);
	assert_int_equal(p11->C_FindObjects(h, out, max, &count), CKR_OK);
	assert_int_equal(p11->C_FindObjectsFinal(h), CKR_OK);
	return count;
}

static CK_FLAGS token_flags(CK_SLOT_ID slot)
{
	CK_TOKEN_INFO ti;

	assert_int_equal(p11->C_GetTokenInfo(slot, &ti), CKR_OK);
	return ti.flags;
}

static ULONG pin_remaining(HAPPLICATION app)
{
	ULONG max = 0, remain = 0;
	BOOL dflt = 7;

	assert_int_equal(
		f_SKF_GetPINInfo(app, SKF_USER_TYPE, &max, &remain, &dflt),
		SAR_OK);
	assert_int_equal(max, 6);
	return remain;
}

static void point_of_blob(const ECCPUBLICKEYBLOB *b, unsigned char point[65])
{
	static const unsigned char zero[32];

	assert_int_equal(b->BitLen, 256);
	assert_memory_equal(b->XCoordinate, zero, 32);
	assert_memory_equal(b->YCoordinate, zero, 32);
	point[0] = 0x04;
	memcpy(point + 1, b->XCoordinate + 32, 32);
	memcpy(point + 33, b->YCoordinate + 32, 32);
}

static void blob_of_point(const unsigned char point[65], ECCPUBLICKEYBLOB *b)
{
	memset(b, 0, sizeof(*b));
	b->BitLen = 256;
	memcpy(b->XCoordinate + 32, point + 1, 32);
	memcpy(b->YCoordinate + 32, point + 33, 32);
}

/* e = SM3(Z || msg) through SKF_DigestInit with the key and the ID. */
static void skf_e(DEVHANDLE dev, ECCPUBLICKEYBLOB *pub, const char *msg,
		  unsigned char e[32])
{
	HANDLE hash = NULL;
	ULONG len = 32;

	assert_int_equal(
		f_SKF_DigestInit(dev, SGD_SM3, pub, (BYTE *)SM2_ID, 16, &hash),
		SAR_OK);
	assert_int_equal(f_SKF_Digest(hash, (BYTE *)msg, strlen(msg), e, &len),
			 SAR_OK);
	assert_int_equal(len, 32);
	assert_int_equal(f_SKF_CloseHandle(hash), SAR_OK);
}

/* A PEM file for an SM2 public point, written by OpenSSL. */
static void write_pub_pem(const unsigned char point[65], const char *name)
{
	char *pem = NULL;

	assert_int_equal(gmsoft_sm2_pub_pem(point, &pem), CKR_OK);
	write_file(name, pem, strlen(pem));
	free(pem);
}

/* The openssl command verifies sig (a 128-byte blob) over msg, Z with the
 * default ID computed by openssl itself. */
static int openssl_verifies(const unsigned char point[65], const char *msg,
			    const ECCSIGNATUREBLOB *sig)
{
	unsigned char rs[64], *der = NULL;
	size_t derlen = 0;

	memcpy(rs, sig->r + 32, 32);
	memcpy(rs + 32, sig->s + 32, 32);
	assert_int_equal(gmsoft_sig_to_der(rs, &der, &derlen), CKR_OK);
	write_file("sig.der", der, derlen);
	OPENSSL_free(der);
	write_file("msg.bin", msg, strlen(msg));
	write_pub_pem(point, "pub.pem");
	return openssl("pkeyutl -verify -pubin -inkey pub.pem -rawin -in "
		       "msg.bin "
		       "-sigfile sig.der -digest sm3 "
		       "-pkeyopt distid:" SM2_ID " >/dev/null 2>&1") == 0;
}

static int run_child(void (*fn)(void), const char *const *env)
{
	pid_t pid;
	int status = 0;

	assert_int_equal(p11->C_Finalize(NULL), CKR_OK);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		for (size_t i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		fn();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(p11->C_Initialize(NULL), CKR_OK);
	return status;
}

static void assert_exit_ok(int status)
{
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- ABI ------------------------------------------------------------ */

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* feitian-driver.md: ULONG 8 bytes in outputs, BOOL 4, DEVINFO 326 bytes
 * packed at the listed offsets. Raw buffers, not the header's struct. */
static void test_abi_bytes(void **state)
{
	unsigned char buf[512], size[16], pin[32];
	DEVHANDLE dev = connect_dev(DEV_A);
	HAPPLICATION app = open_app(dev);

	(void)state;
	memset(buf, 0xAA, sizeof(buf));
	assert_int_equal(f_SKF_GetDevInfo(dev, (DEVINFO *)buf), SAR_OK);
	assert_int_equal(buf[0], 1); /* Version 1.0 */
	assert_string_equal((char *)buf + 0x82, "Ekey A");
	assert_string_equal((char *)buf + 0xA2, SERIAL_A);
	assert_int_equal(le64(buf + 0xDE), 0x201); /* DevAuthAlgId */
	assert_int_equal(le64(buf + 0xCE) & SGD_SM2_1, SGD_SM2_1);
	assert_int_equal(buf[0x106 + 63], 0); /* end of Reserved */
	assert_int_equal(buf[326], 0xAA); /* nothing beyond */
	/* *pulSize is written as 64 bits */
	memset(size, 0xAA, sizeof(size));
	assert_int_equal(f_SKF_EnumDev(SKF_TRUE, NULL, (ULONG *)size), SAR_OK);
	assert_int_equal(le64(size), strlen(DEV_A) + strlen(DEV_B) + 3);
	assert_int_equal(size[8], 0xAA);
	/* max and remaining 8 bytes each, the default-PIN flag 4 */
	memset(pin, 0xAA, sizeof(pin));
	assert_int_equal(f_SKF_GetPINInfo(app, SKF_USER_TYPE, (ULONG *)pin,
					  (ULONG *)(pin + 8),
					  (BOOL *)(pin + 16)),
			 SAR_OK);
	assert_int_equal(le64(pin), 6);
	assert_int_equal(le64(pin + 8), 6);
	assert_int_equal(pin[16] | pin[17] | pin[18] | pin[19], 0);
	assert_int_equal(pin[20], 0xAA);
	assert_int_equal(sizeof(DEVINFO), 326);
	assert_int_equal(offsetof(DEVINFO, DevAuthAlgId), 0xDE);
	assert_int_equal(sizeof(ECCPUBLICKEYBLOB), 132);
	assert_int_equal(offsetof(ENVELOPEDKEYBLOB, ECCCipherBlob.Cipher),
			 0x184);
	assert_int_equal(f_SKF_CloseApplication(app), SAR_OK);
	assert_int_equal(f_SKF_DisConnectDev(dev), SAR_OK);
}

/* Every standard name (and SKF_ECCDecrypt) is exported. */
static void test_exports(void **state)
{
	(void)state;
	assert_int_equal(sizeof(skf_names) / sizeof(skf_names[0]), 79);
	for (size_t i = 0; i < sizeof(skf_names) / sizeof(skf_names[0]); i++)
		assert_non_null(dlsym(module, skf_names[i]));
}

/* ---- devices -------------------------------------------------------- */

static void test_enum_dev(void **state)
{
	static const char want[] = DEV_A "\0" DEV_B "\0";
	char list[64];
	ULONG size = 0, st = 9;

	(void)state;
	assert_int_equal(f_SKF_EnumDev(SKF_TRUE, NULL, &size), SAR_OK);
	assert_int_equal(size, sizeof(want));
	size = 5;
	assert_int_equal(f_SKF_EnumDev(SKF_TRUE, list, &size),
			 SAR_BUFFER_TOO_SMALL);
	assert_int_equal(size, sizeof(want));
	assert_int_equal(SAR_BUFFER_TOO_SMALL, 0x0A000020);
	size = sizeof(list);
	memset(list, 'x', sizeof(list));
	assert_int_equal(f_SKF_EnumDev(SKF_FALSE, list, &size), SAR_OK);
	assert_int_equal(size, sizeof(want));
	assert_memory_equal(list, want, sizeof(want));
	assert_int_equal(f_SKF_GetDevState((LPSTR)DEV_A, &st), SAR_OK);
	assert_int_equal(st, 1);
	assert_int_equal(f_SKF_GetDevState((LPSTR) "ES3000GM VCR 3", &st),
			 SAR_OK);
	assert_int_equal(st, 0);
	assert_int_equal(f_SKF_EnumDev(SKF_TRUE, list, NULL),
			 SAR_INVALIDPARAMERR);
}

static void test_no_device(void **state)
{
	char list[8] = "xxxxxxx";
	ULONG size = sizeof(list);
	DEVHANDLE dev = NULL;

	(void)state;
	assert_int_equal(gmsoft_admin_presence(state_dir, 0, 0), CKR_OK);
	assert_int_equal(gmsoft_admin_empty(state_dir, 1), CKR_OK);
	assert_int_equal(f_SKF_EnumDev(SKF_TRUE, list, &size), SAR_OK);
	assert_int_equal(size, 0);
	size = 99;
	assert_int_equal(f_SKF_EnumDev(SKF_TRUE, NULL, &size), SAR_OK);
	assert_int_equal(size, 0);
	assert_int_equal(f_SKF_ConnectDev((LPSTR)DEV_A, &dev),
			 SAR_DEVICE_REMOVED);
	assert_null(dev);
}

/* DEVINFO's serial is the PKCS#11 token serial: one token. */
static void test_dev_info(void **state)
{
	DEVINFO info;
	CK_TOKEN_INFO ti;
	DEVHANDLE a = connect_dev(DEV_A), b = connect_dev(DEV_B);

	(void)state;
	assert_int_equal(f_SKF_GetDevInfo(a, &info), SAR_OK);
	assert_int_equal(p11->C_GetTokenInfo(0, &ti), CKR_OK);
	assert_memory_equal(ti.serialNumber, info.SerialNumber, 16);
	assert_int_equal(strlen(info.SerialNumber), 16);
	assert_string_equal(info.Label, "Ekey A");
	assert_string_equal(info.Manufacturer, "EnterSafe USB Key");
	assert_int_equal(info.DevAuthAlgId, SGD_SSF33_ECB);
	assert_int_equal(f_SKF_GetDevInfo(b, &info), SAR_OK);
	assert_string_equal(info.SerialNumber, SERIAL_B);
	assert_int_equal(f_SKF_SetLabel(b, (LPSTR) "Renamed"), SAR_OK);
	assert_int_equal(p11->C_GetTokenInfo(1, &ti), CKR_OK);
	assert_memory_equal(ti.label, "Renamed ", 8);
	assert_int_equal(f_SKF_LockDev(a, 0xFFFFFFFFUL), SAR_OK);
	assert_int_equal(f_SKF_UnlockDev(a), SAR_OK);
	assert_int_equal(f_SKF_DisConnectDev(a), SAR_OK);
	assert_int_equal(f_SKF_DisConnectDev(b), SAR_OK);
	assert_int_equal(f_SKF_GetDevInfo(a, &info), SAR_INVALIDHANDLEERR);
	assert_int_equal(f_SKF_DisConnectDev(a), SAR_INVALIDHANDLEERR);
	assert_int_equal(f_SKF_GetDevInfo((DEVHANDLE)&info, &info),
			 SAR_INVALIDHANDLEERR);
	assert_int_equal(f_SKF_ConnectDev((LPSTR) "no such", &a),
			 SAR_DEVICE_REMOVED);
}

/* A device pulled out after connecting: SAR_DEVICE_REMOVED from then on. */
static void test_pulled_out(void **state)
{
	DEVINFO info;
	DEVHANDLE dev = connect_dev(DEV_A);
	HAPPLICATION app = open_app(dev);
	ULONG retry;

	(void)state;
	verify_user(app);
	assert_int_equal(gmsoft_admin_presence(state_dir, 0, 0), CKR_OK);
	assert_int_equal(f_SKF_GetDevInfo(dev, &info), SAR_DEVICE_REMOVED);
	assert_int_equal(
		f_SKF_VerifyPIN(app, SKF_USER_TYPE, (LPSTR)PIN, &retry),
		SAR_DEVICE_REMOVED);
	assert_int_equal(gmsoft_admin_presence(state_dir, 0, 1), CKR_OK);
	assert_int_equal(f_SKF_GetDevInfo(dev, &info), SAR_DEVICE_REMOVED);
	assert_int_equal(f_SKF_CloseApplication(app), SAR_OK);
	assert_int_equal(f_SKF_DisConnectDev(dev), SAR_OK);
}

static void test_applications(void **state)
{
	static const char want[] = APP "\0";
	char list[32];
	ULONG size = sizeof(list);
	DEVHANDLE dev = connect_dev(DEV_A);
	HAPPLICATION app = NULL;

	(void)state;
	assert_int_equal(f_SKF_EnumApplication(dev, list, &size), SAR_OK);
	assert_int_equal(size, sizeof(want));
	assert_memory_equal(list, want, sizeof(want));
	size = 3;
	assert_int_equal(f_SKF_EnumApplication(dev, list, &size),
			 SAR_BUFFER_TOO_SMALL);
	assert_int_equal(size, sizeof(want));
	assert_int_equal(f_SKF_OpenApplication(dev, (LPSTR) "OTHER", &app),
			 SAR_APPLICATION_NOT_EXISTS);
	app = open_app(dev);
	assert_int_equal(f_SKF_CloseApplication(app), SAR_OK);
	assert_int_equal(f_SKF_CloseApplication(app), SAR_INVALIDHANDLEERR);
	assert_int_equal(f_SKF_DisConnectDev(dev), SAR_OK);
}

/* ---- PIN ------------------------------------------------------------ */

static void wrong_skf(HAPPLICATION app, ULONG want_sar, ULONG want_retry)
{
	ULONG retry = 99;

	assert_int_equal(
		f_SKF_VerifyPIN(app, SKF_USER_TYPE, (LPSTR) "99999999", &retry),
		want_sar);
	assert_int_equal(retry, want_retry);
}

/* One counter for both APIs, 6 tries, the PKCS#11 flags from it. */
static void test_pin_counter(void **state)
{
	DEVHANDLE dev = connect_dev(DEV_A);
	HAPPLICATION app = open_app(dev);
	CK_SESSION_HANDLE h = p11_session(0, 0);
	ULONG retry = 99;

	(void)state;
	assert_int_equal(pin_remaining(app), 6);
	assert_int_equal(
		f_SKF_VerifyPIN(app, SKF_USER_TYPE, (LPSTR) "12345", &retry),
		SAR_PIN_LEN_RANGE);
	assert_int_equal(f_SKF_VerifyPIN(app, SKF_USER_TYPE,
					 (LPSTR) "12345678901234567", &retry),
			 SAR_PIN_LEN_RANGE);
	assert_int_equal(pin_remaining(app), 6); /* not counted */
	wrong_skf(app, SAR_PIN_INCORRECT, 5);
	assert_true(token_flags(0) & CKF_USER_PIN_COUNT_LOW);
	assert_int_equal(
		p11->C_Login(h, CKU_USER, (CK_UTF8CHAR_PTR) "99999999", 8),
		CKR_PIN_INCORRECT);
	assert_int_equal(pin_remaining(app), 4);
	/* the right PIN through PKCS#11 resets the SKF count */
	assert_int_equal(p11->C_Login(h, CKU_USER, (CK_UTF8CHAR_PTR)PIN, 8),
			 CKR_OK);
	assert_int_equal(p11->C_Logout(h), CKR_OK);
	assert_int_equal(pin_remaining(app), 6);
	for (ULONG left = 5; left >= 2; left--)
		wrong_skf(app, SAR_PIN_INCORRECT, left);
	assert_true(token_flags(0) & CKF_USER_PIN_COUNT_LOW);
	wrong_skf(app, SAR_PIN_INCORRECT, 1);
	assert_true(token_flags(0) & CKF_USER_PIN_FINAL_TRY);
	wrong_skf(app, SAR_PIN_INCORRECT, 0);
	assert_true(token_flags(0) & CKF_USER_PIN_LOCKED);
	assert_int_equal(pin_remaining(app), 0);
	/* locked: even the right PIN, through either API */
	retry = 99;
	assert_int_equal(
		f_SKF_VerifyPIN(app, SKF_USER_TYPE, (LPSTR)PIN, &retry),
		SAR_PIN_LOCKED);
	assert_int_equal(retry, 0);
	assert_int_equal(p11->C_Login(h, CKU_USER, (CK_UTF8CHAR_PTR)PIN, 8),
			 CKR_PIN_LOCKED);
	/* the admin PIN unblocks */
	assert_int_equal(
		f_SKF_UnblockPIN(app, (LPSTR) "00000000", (LPSTR)PIN, &retry),
		SAR_PIN_INCORRECT);
	assert_int_equal(retry, 5);
	assert_int_equal(
		f_SKF_UnblockPIN(app, (LPSTR)SO_PIN, (LPSTR)PIN, &retry),
		SAR_OK);
	assert_int_equal(pin_remaining(app), 6);
	assert_int_equal(token_flags(0) &
				 (CKF_USER_PIN_LOCKED | CKF_USER_PIN_COUNT_LOW),
			 0);
	verify_user(app);
	assert_int_equal(f_SKF_VerifyPIN(app, 7, (LPSTR)PIN, &retry),
			 SAR_USER_TYPE_INVALID);
	assert_int_equal(p11->C_CloseSession(h), CKR_OK);
	assert_int_equal(f_SKF_CloseApplication(app), SAR_OK);
	assert_int_equal(f_SKF_DisConnectDev(dev), SAR_OK);
}

static void test_change_pin(void **state)
{
	DEVHANDLE dev = connect_dev(DEV_A);
	HAPPLICATION app = open_app(dev);
	CK_SESSION_HANDLE h = p11_session(0, 0);
	ULONG retry = 99;

	(void)state;
	assert_int_equal(f_SKF_ChangePIN(app, SKF_USER_TYPE, (LPSTR) "00000000",
					 (LPSTR) "abcdefgh", &retry),
			 SAR_PIN_INCORRECT);
	assert_int_equal(retry, 5);
	assert_int_equal(f_SKF_ChangePIN(app, SKF_USER_TYPE, (LPSTR)PIN,
					 (LPSTR) "abc", &retry),
			 SAR_PIN_LEN_RANGE);
	assert_int_equal(f_SKF_ChangePIN(app, SKF_USER_TYPE, (LPSTR)PIN,
					 (LPSTR) "abcdefgh", &retry),
			 SAR_OK);
	assert_int_equal(pin_remaining(app), 6);
	assert_int_equal(
		p11->C_Login(h, CKU_USER, (CK_UTF8CHAR_PTR) "abcdefgh", 8),
		CKR_OK);
	assert_int_equal(p11->C_CloseSession(h), CKR_OK);
	assert_int_equal(f_SKF_ClearSecureState(app), SAR_OK);
	assert_int_equal(f_SKF_CloseApplication(app), SAR_OK);
	assert_int_equal(f_SKF_DisConnectDev(dev), SAR_OK);
}

/* ---- containers ----------------------------------------------------- */

static void test_containers(void **state)
{
	char name65[66], list[64];
	ULONG size = sizeof(list), type = 9;
	DEVHANDLE dev = connect_dev(DEV_A);
	HAPPLICATION app = open_app(dev);
	HCONTAINER con = NULL, con2 = NULL;
	CK_SESSION_HANDLE h = p11_session(0, 0);
	CK_OBJECT_HANDLE objs[4];

	(void)state;
	assert_int_equal(f_SKF_CreateContainer(app, (LPSTR) "c1", &con),
			 SAR_USER_NOT_LOGGED_IN);
	verify_user(app);
	assert_int_equal(f_SKF_CreateContainer(app, (LPSTR) "c1", &con),
			 SAR_OK);
	assert_int_equal(f_SKF_CreateContainer(app, (LPSTR) "c1", &con2),
			 SAR_FILE_ALREADY_EXIST);
	memset(name65, 'n', 65);
	name65[65] = '\0';
	assert_int_equal(f_SKF_CreateContainer(app, name65, &con2),
			 SAR_NAMELENERR);
	assert_int_equal(f_SKF_CreateContainer(app, (LPSTR) "c2", &con2),
			 SAR_OK);
	assert_int_equal(f_SKF_EnumContainer(app, list, &size), SAR_OK);
	assert_int_equal(size, 7);
	assert_memory_equal(list, "c1\0c2\0", 7);
	assert_int_equal(f_SKF_GetContainerType(con, &type), SAR_OK);
	assert_int_equal(type, SKF_CONTAINER_EMPTY);
	/* the same container through PKCS#11, before login */
	assert_int_equal(p11_find(h, GMSOFT_CKO_CONTAINER, "c1", objs, 4), 1);
	assert_int_equal(f_SKF_CloseContainer(con), SAR_OK);
	assert_int_equal(f_SKF_OpenContainer(app, (LPSTR) "nope", &con),
			 SAR_FILE_NOT_EXIST);
	assert_int_equal(f_SKF_OpenContainer(app, (LPSTR) "c1", &con), SAR_OK);
	assert_int_equal(f_SKF_DeleteContainer(app, (LPSTR) "c1"), SAR_OK);
	assert_int_equal(f_SKF_DeleteContainer(app, (LPSTR) "c1"),
			 SAR_FILE_NOT_EXIST);
	assert_int_equal(f_SKF_GetContainerType(con, &type),
			 SAR_INVALIDHANDLEERR);
	assert_int_equal(p11_find(h, GMSOFT_CKO_CONTAINER, "c1", objs, 4), 0);
	size = sizeof(list);
	assert_int_equal(f_SKF_EnumContainer(app, list, &size), SAR_OK);
	assert_int_equal(size, 4);
	assert_int_equal(f_SKF_CloseContainer(con), SAR_OK);
	assert_int_equal(f_SKF_CloseContainer(con2), SAR_OK);
	assert_int_equal(p11->C_CloseSession(h), CKR_OK);
	assert_int_equal(f_SKF_CloseApplication(app), SAR_OK);
	assert_int_equal(f_SKF_DisConnectDev(dev), SAR_OK);
}

/* ---- keys and signatures -------------------------------------------- */

static void test_keygen_rules(void **state)
{
	struct skf s;
	ECCPUBLICKEYBLOB blob;
	ULONG type = 0;

	(void)state;
	skf_open(&s, "k1");
	assert_int_equal(f_SKF_GenECCKeyPair(s.con, 0x00020200UL, &blob),
			 SAR_INVALIDPARAMERR);
	assert_int_equal(f_SKF_ClearSecureState(s.app), SAR_OK);
	assert_int_equal(f_SKF_GenECCKeyPair(s.con, SGD_SM2_1, &blob),
			 0x0A00002D);
	verify_user(s.app);
	assert_int_equal(f_SKF_GenECCKeyPair(s.con, SGD_SM2_1, &blob), SAR_OK);
	assert_int_equal(blob.BitLen, 256);
	assert_int_equal(f_SKF_GetContainerType(s.con, &type), SAR_OK);
	assert_int_equal(type, SKF_CONTAINER_SM2);
	skf_close(&s);
}

static void test_sign_openssl(void **state)
{
	static const char msg[] = "certification request info";
	struct skf s;
	ECCPUBLICKEYBLOB blob, exported;
	ECCSIGNATUREBLOB sig;
	unsigned char point[65], e[33];
	ULONG len = 0;

	(void)state;
	skf_open(&s, "sig");
	assert_int_equal(f_SKF_GenECCKeyPair(s.con, SGD_SM2_1, &blob), SAR_OK);
	point_of_blob(&blob, point);
	assert_int_equal(f_SKF_ExportPublicKey(s.con, SKF_TRUE, NULL, &len),
			 SAR_OK);
	assert_int_equal(len, 132);
	len = 100;
	assert_int_equal(
		f_SKF_ExportPublicKey(s.con, SKF_TRUE, (BYTE *)&exported, &len),
		SAR_BUFFER_TOO_SMALL);
	assert_int_equal(len, 132);
	assert_int_equal(
		f_SKF_ExportPublicKey(s.con, SKF_TRUE, (BYTE *)&exported, &len),
		SAR_OK);
	assert_memory_equal(&exported, &blob, sizeof(blob));
	assert_int_equal(f_SKF_ExportPublicKey(s.con, SKF_FALSE,
					       (BYTE *)&exported, &len),
			 SAR_KEYNOTFOUNTERR);
	skf_e(s.dev, &blob, msg, e);
	assert_int_equal(f_SKF_ECCSignData(s.con, e, 31, &sig),
			 SAR_INDATALENERR);
	assert_int_equal(f_SKF_ECCSignData(s.con, e, 33, &sig), 0x0A000010);
	assert_int_equal(f_SKF_ECCSignData(s.con, e, 32, &sig), SAR_OK);
	/* openssl computes Z itself: this checks SKF_DigestInit's e too */
	assert_true(openssl_verifies(point, msg, &sig));
	assert_int_equal(f_SKF_ECCVerify(s.dev, &blob, e, 32, &sig), SAR_OK);
	assert_int_equal(f_SKF_ExtECCVerify(s.dev, &blob, e, 32, &sig), SAR_OK);
	e[0] ^= 1;
	assert_int_equal(f_SKF_ECCVerify(s.dev, &blob, e, 32, &sig), SAR_FAIL);
	assert_false(openssl_verifies(point, "another message", &sig));
	skf_close(&s);
}

static void test_exchange_pair(void **state)
{
	struct skf s;
	ECCPUBLICKEYBLOB sign, xchg, out;
	ECCSIGNATUREBLOB sig;
	unsigned char e[32] = { 1 };
	ULONG len = sizeof(out);

	(void)state;
	skf_open(&s, "x");
	assert_int_equal(f_SKF_GenECCKeyPair(s.con, SGD_SM2_3, &xchg), SAR_OK);
	assert_int_equal(f_SKF_ECCSignData(s.con, e, 32, &sig),
			 SAR_KEYNOTFOUNTERR);
	assert_int_equal(f_SKF_GenECCKeyPair(s.con, SGD_SM2_1, &sign), SAR_OK);
	assert_int_equal(
		f_SKF_ExportPublicKey(s.con, SKF_FALSE, (BYTE *)&out, &len),
		SAR_OK);
	assert_memory_equal(&out, &xchg, sizeof(out));
	/* a second signing pair replaces the first */
	assert_int_equal(f_SKF_GenECCKeyPair(s.con, SGD_SM2_1, &out), SAR_OK);
	assert_memory_not_equal(&out, &sign, sizeof(out));
	assert_int_equal(f_SKF_ECCSignData(s.con, e, 32, &sig), SAR_OK);
	assert_int_equal(f_SKF_ECCVerify(s.dev, &out, e, 32, &sig), SAR_OK);
	assert_int_equal(f_SKF_ECCVerify(s.dev, &sign, e, 32, &sig), SAR_FAIL);
	skf_close(&s);
}

/* A pair made through SKF is the pair PKCS#11 shows, and the reverse. */
static void test_cross_api_keys(void **state)
{
	struct skf s;
	ECCPUBLICKEYBLOB blob, exported;
	ECCSIGNATUREBLOB sig;
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE objs[4], pub, priv;
	CK_MECHANISM sign_mech = { GMSOFT_CKM_SM2_SIGN, NULL, 0 };
	CK_MECHANISM gen_mech = { GMSOFT_CKM_SM2_KEY_PAIR_GEN, NULL, 0 };
	CK_BBOOL yes = CK_TRUE;
	CK_ULONG bits = 256, siglen = sizeof(sig);
	CK_ATTRIBUTE pt[] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_MODULUS_BITS, &bits, sizeof(bits) },
		{ GMSOFT_CKA_CONTAINER_NAME, "fromp11", 8 },
	};
	CK_ATTRIBUTE kt[] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_SIGN, &yes, sizeof(yes) },
	};
	unsigned char xy[64], e[32] = { 7 }, point[65];
	CK_ATTRIBUTE mod = { CKA_MODULUS, xy, sizeof(xy) };
	char list[64];
	ULONG size = sizeof(list), len = sizeof(exported);
	HCONTAINER con2 = NULL;

	(void)state;
	skf_open(&s, "fromskf");
	assert_int_equal(f_SKF_GenECCKeyPair(s.con, SGD_SM2_1, &blob), SAR_OK);
	h = p11_session(0, 1);
	assert_int_equal(p11_find(h, CKO_PRIVATE_KEY, "fromskf", objs, 4), 1);
	assert_int_equal(p11_find(h, CKO_PUBLIC_KEY, "fromskf", objs + 1, 3),
			 1);
	assert_int_equal(p11->C_GetAttributeValue(h, objs[1], &mod, 1), CKR_OK);
	assert_memory_equal(xy, blob.XCoordinate + 32, 32);
	assert_memory_equal(xy + 32, blob.YCoordinate + 32, 32);
	assert_int_equal(p11->C_SignInit(h, &sign_mech, objs[0]), CKR_OK);
	assert_int_equal(p11->C_Sign(h, e, 32, (CK_BYTE_PTR)&sig, &siglen),
			 CKR_OK);
	assert_int_equal(f_SKF_ECCVerify(s.dev, &blob, e, 32, &sig), SAR_OK);
	/* the reverse */
	assert_int_equal(
		p11->C_GenerateKeyPair(h, &gen_mech, pt, 3, kt, 2, &pub, &priv),
		CKR_OK);
	assert_int_equal(f_SKF_EnumContainer(s.app, list, &size), SAR_OK);
	assert_memory_equal(list, "fromskf\0fromp11\0", 17);
	assert_int_equal(f_SKF_OpenContainer(s.app, (LPSTR) "fromp11", &con2),
			 SAR_OK);
	assert_int_equal(
		f_SKF_ExportPublicKey(con2, SKF_TRUE, (BYTE *)&exported, &len),
		SAR_OK);
	assert_int_equal(p11->C_GetAttributeValue(h, pub, &mod, 1), CKR_OK);
	point[0] = 4;
	memcpy(point + 1, xy, 64);
	point_of_blob(&exported, point); /* padding and BitLen checked */
	assert_memory_equal(point + 1, xy, 64);
	assert_int_equal(f_SKF_ECCSignData(con2, e, 32, &sig), SAR_OK);
	assert_int_equal(
		p11->C_VerifyInit(
			h, &(CK_MECHANISM){ GMSOFT_CKM_SM2_VERIFY, NULL, 0 },
			pub),
		CKR_OK);
	assert_int_equal(
		p11->C_Verify(h, e, 32, (CK_BYTE_PTR)&sig, sizeof(sig)),
		CKR_OK);
	/* deleted through PKCS#11: SKF no longer finds it */
	assert_int_equal(p11->C_DestroyObject(h, pub), CKR_OK);
	assert_int_equal(p11->C_DestroyObject(h, priv), CKR_OK);
	assert_int_equal(
		f_SKF_ExportPublicKey(con2, SKF_TRUE, (BYTE *)&exported, &len),
		SAR_INVALIDHANDLEERR);
	assert_int_equal(f_SKF_CloseContainer(con2), SAR_OK);
	assert_int_equal(p11->C_CloseSession(h), CKR_OK);
	skf_close(&s);
}

/* ---- certificates --------------------------------------------------- */

static size_t make_cert(const char *name, unsigned char *der, size_t size)
{
	char args[512];

	snprintf(args, sizeof(args),
		 "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:SM2 -nodes "
		 "-keyout %s.key -out %s.der -outform DER -subj /CN=%s -days 2 "
		 ">/dev/null 2>&1",
		 name, name, name);
	assert_int_equal(openssl(args), 0);
	snprintf(args, sizeof(args), "%s.der", name);
	return read_file(args, der, size);
}

static void test_certificates(void **state)
{
	struct skf s;
	unsigned char c1[2048], c2[2048], out[2048];
	size_t n1 = make_cert("sign", c1, sizeof(c1));
	size_t n2 = make_cert("enc", c2, sizeof(c2));
	ULONG len = 0;
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE objs[4];
	CK_ATTRIBUTE v = { CKA_VALUE, out, sizeof(out) };
	struct gmsoft_key_spec k = {
		{ (const unsigned char *)"\x01", 1 }, "p11 cert", "viatool", 0
	};
	CK_OBJECT_HANDLE ch;
	HCONTAINER con2 = NULL;

	(void)state;
	skf_open(&s, "certs");
	assert_int_equal(f_SKF_ExportCertificate(s.con, SKF_TRUE, NULL, &len),
			 SAR_CERTNOTFOUNTERR);
	assert_int_equal(f_SKF_ImportCertificate(s.con, SKF_TRUE, c1, n1),
			 SAR_OK);
	assert_int_equal(f_SKF_ImportCertificate(s.con, SKF_FALSE, c2, n2),
			 SAR_OK);
	assert_int_equal(f_SKF_ExportCertificate(s.con, SKF_TRUE, NULL, &len),
			 SAR_OK);
	assert_int_equal(len, n1);
	len = 10;
	assert_int_equal(f_SKF_ExportCertificate(s.con, SKF_TRUE, out, &len),
			 SAR_BUFFER_TOO_SMALL);
	len = sizeof(out);
	assert_int_equal(f_SKF_ExportCertificate(s.con, SKF_TRUE, out, &len),
			 SAR_OK);
	assert_memory_equal(out, c1, n1);
	len = sizeof(out);
	assert_int_equal(f_SKF_ExportCertificate(s.con, SKF_FALSE, out, &len),
			 SAR_OK);
	assert_int_equal(len, n2);
	assert_memory_equal(out, c2, n2);
	/* replaced, not added */
	assert_int_equal(f_SKF_ImportCertificate(s.con, SKF_TRUE, c2, n2),
			 SAR_OK);
	h = p11_session(0, 0);
	assert_int_equal(p11_find(h, CKO_CERTIFICATE, "certs", objs, 4), 2);
	assert_int_equal(p11->C_GetAttributeValue(h, objs[0], &v, 1), CKR_OK);
	assert_int_equal(v.ulValueLen, n2);
	/* a certificate stored through PKCS#11 (the tool) is the signing one */
	assert_int_equal(
		gmsoft_admin_import_cert(state_dir, 0, &k,
					 (struct gmsoft_bytes){ c1, n1 }, &ch),
		CKR_OK);
	assert_int_equal(f_SKF_OpenContainer(s.app, (LPSTR) "viatool", &con2),
			 SAR_OK);
	len = sizeof(out);
	assert_int_equal(f_SKF_ExportCertificate(con2, SKF_TRUE, out, &len),
			 SAR_OK);
	assert_memory_equal(out, c1, n1);
	assert_int_equal(f_SKF_ExportCertificate(con2, SKF_FALSE, out, &len),
			 SAR_CERTNOTFOUNTERR);
	assert_int_equal(f_SKF_CloseContainer(con2), SAR_OK);
	assert_int_equal(f_SKF_ClearSecureState(s.app), SAR_OK);
	assert_int_equal(f_SKF_ImportCertificate(s.con, SKF_TRUE, c1, n1),
			 SAR_USER_NOT_LOGGED_IN);
	assert_int_equal(p11->C_CloseSession(h), CKR_OK);
	skf_close(&s);
}

/* ---- the enveloped key import --------------------------------------- */

static void pem_point_scalar(const char *file, unsigned char point[65],
			     unsigned char d[32])
{
	char path[256];
	FILE *f;
	EVP_PKEY *pkey;
	BIGNUM *bn = NULL;
	size_t len = 0;

	path_in_state(path, sizeof(path), file);
	f = fopen(path, "r");
	assert_non_null(f);
	pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(pkey);
	assert_true(EVP_PKEY_get_octet_string_param(
		pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, 65, &len));
	assert_int_equal(len, 65);
	assert_true(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &bn));
	assert_int_equal(BN_bn2binpad(bn, d, 32), 32);
	BN_clear_free(bn);
	EVP_PKEY_free(pkey);
}

/* The DER SM2 ciphertext of the openssl command into the blob. */
static void der_to_cipher_blob(const unsigned char *der, size_t len,
			       ECCCIPHERBLOB *b)
{
	const unsigned char *p = der;
	STACK_OF(ASN1_TYPE) *seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, (long)len);
	ASN1_TYPE *t;
	BIGNUM *bn;

	assert_non_null(seq);
	assert_int_equal(sk_ASN1_TYPE_num(seq), 4);
	for (int i = 0; i < 2; i++) {
		t = sk_ASN1_TYPE_value(seq, i);
		assert_int_equal(ASN1_TYPE_get(t), V_ASN1_INTEGER);
		bn = ASN1_INTEGER_to_BN(t->value.integer, NULL);
		assert_int_equal(
			BN_bn2binpad(bn,
				     (i ? b->YCoordinate : b->XCoordinate) + 32,
				     32),
			32);
		BN_free(bn);
	}
	t = sk_ASN1_TYPE_value(seq, 2);
	assert_int_equal(ASN1_STRING_length(t->value.octet_string), 32);
	memcpy(b->HASH, ASN1_STRING_get0_data(t->value.octet_string), 32);
	t = sk_ASN1_TYPE_value(seq, 3);
	b->CipherLen = (ULONG)ASN1_STRING_length(t->value.octet_string);
	memcpy(b->Cipher, ASN1_STRING_get0_data(t->value.octet_string),
	       b->CipherLen);
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
}

/* An envelope for the key in enc.pem, built with the openssl command:
 * the SM4 key SM2-encrypted to signpub.pem (GM/T 0003 DER), then the
 * private key SM4-ECB-encrypted. whole: 0^32 || d encrypted (64 bytes);
 * else d alone into the field's last 32 bytes. */
static void build_envelope(ENVELOPEDKEYBLOB *env, int whole)
{
	static const char key_hex[] = "0123456789abcdeffedcba9876543210";
	unsigned char key[16], point[65], d[32], plain[64] = { 0 }, der[512];
	unsigned char enc[64];
	size_t n;
	char args[256];

	for (int i = 0; i < 16; i++)
		sscanf(key_hex + 2 * i, "%2hhx", &key[i]);
	assert_int_equal(openssl("genpkey -algorithm SM2 -out enc.pem"), 0);
	pem_point_scalar("enc.pem", point, d);
	write_file("sm4.key", key, 16);
	assert_int_equal(openssl("pkeyutl -encrypt -pubin -inkey signpub.pem "
				 "-in sm4.key -out sm4.der"),
			 0);
	n = read_file("sm4.der", der, sizeof(der));
	memcpy(plain + 32, d, 32);
	write_file("priv.bin", whole ? plain : plain + 32, whole ? 64 : 32);
	snprintf(args, sizeof(args),
		 "enc -sm4-ecb -K %s -nopad -in priv.bin -out priv.enc",
		 key_hex);
	assert_int_equal(openssl(args), 0);
	assert_int_equal(read_file("priv.enc", enc, sizeof(enc)),
			 whole ? 64 : 32);
	memset(env, 0, sizeof(*env));
	env->Version = 1;
	env->ulSymmAlgID = SGD_SM4_ECB;
	env->ulBits = 256;
	memcpy(env->cbEncryptedPriKey + (whole ? 0 : 32), enc, whole ? 64 : 32);
	blob_of_point(point, &env->PubKey);
	der_to_cipher_blob(der, n, &env->ECCCipherBlob);
}

static void make_sign_pub(struct skf *s)
{
	ECCPUBLICKEYBLOB blob;
	unsigned char point[65];

	assert_int_equal(f_SKF_GenECCKeyPair(s->con, SGD_SM2_1, &blob), SAR_OK);
	point_of_blob(&blob, point);
	write_pub_pem(point, "signpub.pem");
}

/* The imported key decrypts what the openssl command encrypted to it. */
static void check_exchange_key(struct skf *s)
{
	unsigned char *buf = calloc(1, 1024), der[512], out[64];
	ULONG len = sizeof(out);

	assert_non_null(buf);
	assert_int_equal(openssl("pkey -in enc.pem -pubout -out encpub.pem"),
			 0);
	write_file("secret", "kmc escrow check", 16);
	assert_int_equal(openssl("pkeyutl -encrypt -pubin -inkey encpub.pem "
				 "-in secret -out secret.der"),
			 0);
	der_to_cipher_blob(der, read_file("secret.der", der, sizeof(der)),
			   (ECCCIPHERBLOB *)buf);
	assert_int_equal(
		f_SKF_ECCDecrypt(s->con, (ECCCIPHERBLOB *)buf, out, &len),
		SAR_OK);
	assert_int_equal(len, 16);
	assert_memory_equal(out, "kmc escrow check", 16);
	free(buf);
}

/* SKF_ExtECCSign and SKF_ExtECCDecrypt with the key in enc.pem given as a
 * blob: the openssl command verifies and encrypts. */
static void check_ext_private(DEVHANDLE dev, ECCPUBLICKEYBLOB *pub)
{
	static const char msg[] = "external key";
	unsigned char point[65], d[32], e[32], der[512], out[64];
	unsigned char *buf = calloc(1, 1024);
	ECCPRIVATEKEYBLOB priv;
	ECCSIGNATUREBLOB sig;
	ULONG len = sizeof(out);

	assert_non_null(buf);
	pem_point_scalar("enc.pem", point, d);
	memset(&priv, 0, sizeof(priv));
	priv.BitLen = 256;
	memcpy(priv.PrivateKey + 32, d, 32);
	skf_e(dev, pub, msg, e);
	assert_int_equal(f_SKF_ExtECCSign(dev, &priv, e, 32, &sig), SAR_OK);
	assert_true(openssl_verifies(point, msg, &sig));
	assert_int_equal(f_SKF_ExtECCSign(dev, &priv, e, 31, &sig),
			 SAR_INDATALENERR);
	write_file("secret", "external decrypt", 16);
	assert_int_equal(openssl("pkeyutl -encrypt -pubin -inkey encpub.pem "
				 "-in secret -out secret.der"),
			 0);
	der_to_cipher_blob(der, read_file("secret.der", der, sizeof(der)),
			   (ECCCIPHERBLOB *)buf);
	assert_int_equal(f_SKF_ExtECCDecrypt(dev, &priv, (ECCCIPHERBLOB *)buf,
					     out, &len),
			 SAR_OK);
	assert_int_equal(len, 16);
	assert_memory_equal(out, "external decrypt", 16);
	priv.PrivateKey[0] = 1; /* padding not zero */
	assert_int_equal(f_SKF_ExtECCSign(dev, &priv, e, 32, &sig),
			 SAR_INVALIDPARAMERR);
	free(buf);
}

/* SKF_ExtECCEncrypt to the key in enc.pem; the openssl command decrypts. */
static void check_ext_encrypt(DEVHANDLE dev, ECCPUBLICKEYBLOB *pub)
{
	unsigned char *buf = calloc(1, 1024), *der = NULL, out[64];
	ECCCIPHERBLOB *b = (ECCCIPHERBLOB *)buf;
	struct gmsoft_sm2_cipher c;
	size_t derlen = 0;

	assert_non_null(buf);
	assert_int_equal(
		f_SKF_ExtECCEncrypt(dev, pub, (BYTE *)"to the token", 12, b),
		SAR_OK);
	assert_int_equal(b->CipherLen, 12);
	memcpy(c.x, b->XCoordinate + 32, 32);
	memcpy(c.y, b->YCoordinate + 32, 32);
	memcpy(c.hash, b->HASH, 32);
	c.c2 = b->Cipher;
	c.c2len = b->CipherLen;
	assert_int_equal(gmsoft_sm2_cipher_to_der(&c, &der, &derlen), CKR_OK);
	write_file("ext.der", der, derlen);
	OPENSSL_free(der);
	assert_int_equal(openssl("pkeyutl -decrypt -inkey enc.pem -in ext.der "
				 "-out ext.txt"),
			 0);
	assert_int_equal(read_file("ext.txt", out, sizeof(out)), 12);
	assert_memory_equal(out, "to the token", 12);
	free(buf);
}

static void test_envelope_import(void **state)
{
	struct skf s;
	ENVELOPEDKEYBLOB *env = calloc(1, 1024);
	ECCPUBLICKEYBLOB out;
	ULONG len = sizeof(out);
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE objs[4];
	CK_BBOOL dec = CK_FALSE;
	CK_ATTRIBUTE a = { CKA_DECRYPT, &dec, sizeof(dec) };

	(void)state;
	assert_non_null(env);
	skf_open(&s, "env");
	make_sign_pub(&s);
	build_envelope(env, 1);
	assert_int_equal(f_SKF_ImportECCKeyPair(s.con, env), SAR_OK);
	assert_int_equal(
		f_SKF_ExportPublicKey(s.con, SKF_FALSE, (BYTE *)&out, &len),
		SAR_OK);
	assert_memory_equal(&out, &env->PubKey, sizeof(out));
	check_exchange_key(&s);
	check_ext_encrypt(s.dev, &env->PubKey);
	check_ext_private(s.dev, &env->PubKey);
	h = p11_session(0, 1);
	assert_int_equal(p11_find(h, CKO_PRIVATE_KEY, "env", objs, 4), 2);
	assert_int_equal(p11->C_GetAttributeValue(h, objs[1], &a, 1), CKR_OK);
	assert_true(dec); /* the exchange key */
	assert_int_equal(p11->C_CloseSession(h), CKR_OK);
	/* d alone, in the field's last 32 bytes */
	build_envelope(env, 0);
	assert_int_equal(f_SKF_ImportECCKeyPair(s.con, env), SAR_OK);
	check_exchange_key(&s);
	skf_close(&s);
	free(env);
}

static void test_envelope_refused(void **state)
{
	struct skf s;
	ENVELOPEDKEYBLOB *env = calloc(1, 1024);
	HCONTAINER rsa = NULL;
	ECCPUBLICKEYBLOB blob;
	ULONG type = 0;

	(void)state;
	assert_non_null(env);
	skf_open(&s, "bad");
	make_sign_pub(&s);
	build_envelope(env, 1);
	env->PubKey.XCoordinate[40] ^= 1; /* not the key inside */
	assert_int_equal(f_SKF_ImportECCKeyPair(s.con, env), SAR_INDATAERR);
	env->PubKey.XCoordinate[40] ^= 1;
	env->cbEncryptedPriKey[3] ^= 1; /* corrupt ciphertext */
	assert_int_equal(f_SKF_ImportECCKeyPair(s.con, env), SAR_INDATAERR);
	env->cbEncryptedPriKey[3] ^= 1;
	env->ECCCipherBlob.HASH[0] ^= 1; /* C3 does not match */
	assert_int_equal(f_SKF_ImportECCKeyPair(s.con, env), SAR_INDATAERR);
	env->ECCCipherBlob.HASH[0] ^= 1;
	env->ulSymmAlgID = 0x101; /* SM1-ECB: the card's own cipher */
	assert_int_equal(f_SKF_ImportECCKeyPair(s.con, env),
			 SAR_NOTSUPPORTYETERR);
	env->ulSymmAlgID = SGD_SM4_ECB;
	assert_int_equal(f_SKF_ClearSecureState(s.app), SAR_OK);
	assert_int_equal(f_SKF_ImportECCKeyPair(s.con, env),
			 SAR_USER_NOT_LOGGED_IN);
	verify_user(s.app);
	/* an RSA container (marked by the tool: the fixture has no RSA) */
	assert_int_equal(gmsoft_admin_add_container(state_dir, 0, "rsa", 1),
			 CKR_OK);
	assert_int_equal(gmsoft_admin_add_container(state_dir, 0, "rsa", 0),
			 CKR_ATTRIBUTE_VALUE_INVALID);
	assert_int_equal(f_SKF_OpenContainer(s.app, (LPSTR) "rsa", &rsa),
			 SAR_OK);
	assert_int_equal(f_SKF_GetContainerType(rsa, &type), SAR_OK);
	assert_int_equal(type, SKF_CONTAINER_RSA);
	assert_int_equal(f_SKF_ImportECCKeyPair(rsa, env),
			 SAR_NOTSUPPORTYETERR);
	assert_int_equal(f_SKF_GenECCKeyPair(rsa, SGD_SM2_1, &blob),
			 SAR_NOTSUPPORTYETERR);
	assert_int_equal(f_SKF_CloseContainer(rsa), SAR_OK);
	/* nothing was imported */
	assert_int_equal(f_SKF_ImportECCKeyPair(s.con, env), SAR_OK);
	skf_close(&s);
	free(env);
}

/* ---- digests, random, unsupported ----------------------------------- */

static void test_digest(void **state)
{
	/* GM/T 0004 example 1: SM3("abc") */
	static const unsigned char abc[32] = {
		0x66, 0xc7, 0xf0, 0xf4, 0x62, 0xee, 0xed, 0xd9,
		0xd1, 0xf2, 0xd4, 0x6b, 0xdc, 0x10, 0xe4, 0xe2,
		0x41, 0x67, 0xc4, 0x87, 0x5c, 0xf2, 0xf7, 0xa2,
		0x29, 0x7d, 0xa0, 0x2b, 0x8f, 0x4b, 0xa8, 0xe0,
	};
	DEVHANDLE dev = connect_dev(DEV_A);
	HANDLE hash = NULL;
	unsigned char out[32];
	ULONG len = 0;

	(void)state;
	assert_int_equal(f_SKF_DigestInit(dev, SGD_SM3, NULL, NULL, 0, &hash),
			 SAR_OK);
	assert_int_equal(f_SKF_Digest(hash, (BYTE *)"abc", 3, NULL, &len),
			 SAR_OK);
	assert_int_equal(len, 32);
	len = 31;
	assert_int_equal(f_SKF_Digest(hash, (BYTE *)"abc", 3, out, &len),
			 SAR_BUFFER_TOO_SMALL);
	len = 32;
	assert_int_equal(f_SKF_Digest(hash, (BYTE *)"abc", 3, out, &len),
			 SAR_OK);
	assert_memory_equal(out, abc, 32);
	assert_int_equal(f_SKF_CloseHandle(hash), SAR_OK);
	assert_int_equal(f_SKF_CloseHandle(hash), SAR_INVALIDHANDLEERR);
	assert_int_equal(f_SKF_DigestInit(dev, SGD_SM3, NULL, NULL, 0, &hash),
			 SAR_OK);
	assert_int_equal(f_SKF_DigestUpdate(hash, (BYTE *)"a", 1), SAR_OK);
	assert_int_equal(f_SKF_DigestUpdate(hash, (BYTE *)"bc", 2), SAR_OK);
	len = 32;
	assert_int_equal(f_SKF_DigestFinal(hash, out, &len), SAR_OK);
	assert_memory_equal(out, abc, 32);
	assert_int_equal(f_SKF_DigestUpdate(hash, (BYTE *)"a", 1),
			 SAR_NOTINITIALIZEERR);
	assert_int_equal(f_SKF_CloseHandle(hash), SAR_OK);
	assert_int_equal(f_SKF_DigestInit(dev, 0x80, NULL, NULL, 0, &hash),
			 SAR_INVALIDPARAMERR);
	assert_int_equal(f_SKF_DisConnectDev(dev), SAR_OK);
}

static void test_random_and_unsupported(void **state)
{
	DEVHANDLE dev = connect_dev(DEV_A);
	unsigned char a[32] = { 0 }, b[32] = { 0 };
	BLOCKCIPHERPARAM bp = { { 0 }, 0, 0, 0 };
	HAPPLICATION app = NULL;
	ULONG ev = 0, n = 0;

	(void)state;
	assert_int_equal(f_SKF_GenRandom(dev, a, 32), SAR_OK);
	assert_int_equal(f_SKF_GenRandom(dev, b, 32), SAR_OK);
	assert_memory_not_equal(a, b, 32);
	assert_int_equal(f_SKF_DevAuth(dev, a, 16), SAR_NOTSUPPORTYETERR);
	assert_int_equal(f_SKF_CreateApplication(dev, (LPSTR) "A",
						 (LPSTR)SO_PIN, 6, (LPSTR)PIN,
						 6, 0xFF, &app),
			 SAR_NOTSUPPORTYETERR);
	assert_int_equal(f_SKF_EncryptInit(NULL, bp), SAR_NOTSUPPORTYETERR);
	assert_int_equal(f_SKF_RSASignData(NULL, a, 32, b, &n),
			 SAR_NOTSUPPORTYETERR);
	assert_int_equal(f_SKF_ExtECCSign(NULL, NULL, a, 32, NULL),
			 SAR_INVALIDHANDLEERR);
	assert_int_equal(f_SKF_WaitForDevEvent((LPSTR)a, &n, &ev),
			 SAR_NOTSUPPORTYETERR);
	assert_int_equal(f_SKF_EnumFiles(NULL, NULL, &n), SAR_NOTSUPPORTYETERR);
	assert_int_equal(f_SKF_DisConnectDev(dev), SAR_OK);
}

/* Two Ekeys: separate stores behind separate devices. */
static void test_two_devices(void **state)
{
	struct skf s;
	DEVHANDLE b = connect_dev(DEV_B);
	HAPPLICATION app_b = open_app(b);
	HCONTAINER con = NULL;
	ECCPUBLICKEYBLOB blob;
	char list[64];
	ULONG size = sizeof(list), retry = 0;

	(void)state;
	skf_open(&s, "onA");
	assert_int_equal(f_SKF_GenECCKeyPair(s.con, SGD_SM2_1, &blob), SAR_OK);
	assert_int_equal(f_SKF_EnumContainer(app_b, list, &size), SAR_OK);
	assert_int_equal(size, 0);
	assert_int_equal(f_SKF_OpenContainer(app_b, (LPSTR) "onA", &con),
			 SAR_FILE_NOT_EXIST);
	/* A's PIN state is A's */
	assert_int_equal(f_SKF_CreateContainer(app_b, (LPSTR) "onB", &con),
			 SAR_USER_NOT_LOGGED_IN);
	assert_int_equal(f_SKF_VerifyPIN(app_b, SKF_USER_TYPE,
					 (LPSTR) "00000000", &retry),
			 SAR_PIN_INCORRECT);
	assert_int_equal(retry, 5);
	assert_int_equal(pin_remaining(s.app), 6);
	assert_int_equal(f_SKF_CloseApplication(app_b), SAR_OK);
	assert_int_equal(f_SKF_DisConnectDev(b), SAR_OK);
	skf_close(&s);
}

/* ---- build variants ------------------------------------------------- */

static void *variant(const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	assert_non_null(h);
	return h;
}

static void test_variants(void **state)
{
	void *skf = variant(GMSOFT_SKF_ONLY_PATH);
	void *p11only = variant(GMSOFT_P11_ONLY_PATH);
	void *none = variant(GMSOFT_NONE_PATH);
	void *nosign = variant(GMSOFT_SKF_NOSIGN_PATH);
	__typeof__(&SKF_EnumDev) enum_dev;
	ULONG size = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(skf_names) / sizeof(skf_names[0]); i++) {
		assert_non_null(dlsym(skf, skf_names[i]));
		assert_null(dlsym(p11only, skf_names[i]));
		assert_null(dlsym(none, skf_names[i]));
		if (strcmp(skf_names[i], "SKF_ECCSignData") != 0)
			assert_non_null(dlsym(nosign, skf_names[i]));
	}
	assert_null(dlsym(nosign, "SKF_ECCSignData"));
	assert_null(dlsym(skf, "C_GetFunctionList"));
	assert_null(dlsym(skf, "C_Initialize"));
	assert_non_null(dlsym(p11only, "C_GetFunctionList"));
	assert_null(dlsym(none, "C_GetFunctionList"));
	assert_null(dlsym(nosign, "C_GetFunctionList"));
	assert_null(dlsym(skf, "gmsoft_slot_token")); /* internals hidden */
	*(void **)&enum_dev = dlsym(skf, "SKF_EnumDev");
	assert_int_equal(enum_dev(SKF_TRUE, NULL, &size), SAR_OK);
	assert_int_equal(size, strlen(DEV_A) + strlen(DEV_B) + 3);
}

/* ---- fault switches ------------------------------------------------- */

static void child_fail(void)
{
	struct skf s;
	unsigned char e[32] = { 3 };
	ECCSIGNATUREBLOB sig;
	ECCPUBLICKEYBLOB blob;
	ULONG retry = 0, max, remain;
	BOOL dflt;

	s.dev = NULL;
	CHILD_CHECK(f_SKF_ConnectDev((LPSTR)DEV_A, &s.dev) == SAR_OK);
	CHILD_CHECK(f_SKF_OpenApplication(s.dev, (LPSTR)APP, &s.app) == SAR_OK);
	/* forced: no try counted */
	CHILD_CHECK(f_SKF_VerifyPIN(s.app, 1, (LPSTR)PIN, &retry) ==
		    SAR_PIN_INCORRECT);
	CHILD_CHECK(f_SKF_GetPINInfo(s.app, 1, &max, &remain, &dflt) == SAR_OK);
	CHILD_CHECK(remain == 6);
	CHILD_CHECK(f_SKF_VerifyPIN(s.app, 1, (LPSTR)PIN, &retry) == SAR_OK);
	CHILD_CHECK(f_SKF_CreateContainer(s.app, (LPSTR) "f", &s.con) ==
		    SAR_OK);
	CHILD_CHECK(f_SKF_GenECCKeyPair(s.con, SGD_SM2_1, &blob) == SAR_OK);
	CHILD_CHECK(f_SKF_ECCSignData(s.con, e, 32, &sig) ==
		    SAR_DEVICE_REMOVED);
	CHILD_CHECK(f_SKF_ECCSignData(s.con, e, 32, &sig) == SAR_OK);
	CHILD_CHECK(f_SKF_ECCSignData(s.con, e, 32, &sig) == 0x0A000001);
}

static void test_fault_fail(void **state)
{
	static const char *const env[] = {
		"GMSOFT_FAIL=SKF_VerifyPIN:1:SAR_PIN_INCORRECT,"
		"SKF_ECCSignData:1:SAR_DEVICE_REMOVED,SKF_ECCSignData:3:"
		"0x0A000001",
		NULL
	};

	(void)state;
	assert_exit_ok(run_child(child_fail, env));
}

static void child_malformed(void)
{
	ULONG size = 0;

	CHILD_CHECK(f_SKF_EnumDev(SKF_TRUE, NULL, &size) == SAR_FAIL);
}

static void test_fault_malformed(void **state)
{
	static const char *const env[] = { "GMSOFT_FAIL=SKF_EnumDev:1:SAR_NOPE",
					   NULL };

	(void)state;
	assert_exit_ok(run_child(child_malformed, env));
}

/* Calls 1 (C_Initialize), 2 (SKF_EnumDev), 3 (SKF_ConnectDev) before the
 * removal at call 4. */
static void child_remove(void)
{
	DEVHANDLE dev = NULL;
	DEVINFO info;
	ULONG size = 0;

	CHILD_CHECK(p11->C_Initialize(NULL) == CKR_OK);
	CHILD_CHECK(f_SKF_EnumDev(SKF_TRUE, NULL, &size) == SAR_OK && size > 0);
	CHILD_CHECK(f_SKF_ConnectDev((LPSTR)DEV_A, &dev) == SAR_OK);
	CHILD_CHECK(f_SKF_GetDevInfo(dev, &info) == SAR_DEVICE_REMOVED);
	CHILD_CHECK(f_SKF_EnumDev(SKF_TRUE, NULL, &size) == SAR_OK);
	CHILD_CHECK(size == strlen(DEV_B) + 2); /* only slot 0 pulled */
}

static void test_fault_remove(void **state)
{
	static const char *const env[] = { "GMSOFT_REMOVE_AT=4",
					   "GMSOFT_REMOVE_SLOT=0", NULL };

	(void)state;
	assert_exit_ok(run_child(child_remove, env));
}

static void child_kill(void)
{
	DEVHANDLE dev = NULL;
	ULONG size = 0;

	CHILD_CHECK(p11->C_Initialize(NULL) == CKR_OK);
	CHILD_CHECK(f_SKF_EnumDev(SKF_TRUE, NULL, &size) == SAR_OK);
	(void)f_SKF_ConnectDev((LPSTR)DEV_A, &dev);
	_exit(3); /* not reached */
}

/* One call index for both APIs, in the trace too. */
static void test_fault_kill_and_trace(void **state)
{
	char trace[256], env_trace[300];
	const char *env[] = { "GMSOFT_KILL_AT=3", env_trace, NULL };
	unsigned char buf[256] = { 0 };
	int status;

	(void)state;
	path_in_state(trace, sizeof(trace), "trace.log");
	snprintf(env_trace, sizeof(env_trace), "GMSOFT_TRACE=%s", trace);
	status = run_child(child_kill, env);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	read_file("trace.log", buf, sizeof(buf) - 1);
	assert_string_equal((char *)buf, "1 C_Initialize CKR_OK\n"
					 "2 SKF_EnumDev SAR_OK\n"
					 "3 SKF_ConnectDev SIGKILL\n");
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void child_latency(void)
{
	struct skf s;
	ECCPUBLICKEYBLOB blob;
	ECCSIGNATUREBLOB sig;
	unsigned char e[32] = { 0 };
	ULONG retry;
	double t0;

	t0 = now_ms();
	CHILD_CHECK(f_SKF_ConnectDev((LPSTR)DEV_A, &s.dev) == SAR_OK);
	CHILD_CHECK(now_ms() - t0 >= 50);
	CHILD_CHECK(f_SKF_OpenApplication(s.dev, (LPSTR)APP, &s.app) == SAR_OK);
	CHILD_CHECK(f_SKF_VerifyPIN(s.app, 1, (LPSTR)PIN, &retry) == SAR_OK);
	CHILD_CHECK(f_SKF_CreateContainer(s.app, (LPSTR) "l", &s.con) ==
		    SAR_OK);
	t0 = now_ms();
	CHILD_CHECK(f_SKF_GenECCKeyPair(s.con, SGD_SM2_1, &blob) == SAR_OK);
	CHILD_CHECK(now_ms() - t0 >= 350);
	t0 = now_ms();
	CHILD_CHECK(f_SKF_ECCSignData(s.con, e, 32, &sig) == SAR_OK);
	CHILD_CHECK(now_ms() - t0 >= 250);
}

static void test_fault_latency(void **state)
{
	static const char *const env[] = {
		"GMSOFT_LATENCY=call:50,keygen:300,sign:200", NULL
	};

	(void)state;
	assert_exit_ok(run_child(child_latency, env));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_abi_bytes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_exports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enum_dev, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_device, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dev_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pulled_out, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_applications, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pin_counter, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_change_pin, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_containers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_keygen_rules, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sign_openssl, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_exchange_pair, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cross_api_keys, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_certificates, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_envelope_import, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_envelope_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_digest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_and_unsupported,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_devices, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_variants, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_fail, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fault_malformed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fault_remove, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fault_kill_and_trace,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_latency, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
