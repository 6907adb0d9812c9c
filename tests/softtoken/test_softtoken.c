/* test_softtoken.c - behaviour of the soft ePass3000GM module, loaded with
 * dlopen() as gmrenew loads a vendor library. Tests that change the
 * process (fault switches, SIGKILL) run in a forked child, which reports
 * through its exit status. */
#include <dlfcn.h>
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "st_admin.h"
#include "st_crypto.h"

#define PIN "12345678"
#define SO_PIN "87654321"

#define CHILD_CHECK(cond) \
	do { if (!(cond)) { fprintf(stderr, "child check failed line %d: %s\n", \
				    __LINE__, #cond); _exit(1); } } while (0)

static char state_dir[] = "/tmp/gmsoft-test.XXXXXX";
static void *module;
static CK_FUNCTION_LIST_PTR p11;

/* ---- fixture -------------------------------------------------------- */

static void provision(void)
{
	struct gmsoft_token t;

	gmsoft_token_defaults(&t, 0);
	strcpy(t.label, "Ekey A");
	strcpy(t.serial, "3000A10000000001");
	assert_int_equal(gmsoft_admin_init(state_dir, &t, PIN, SO_PIN), CKR_OK);
	gmsoft_token_defaults(&t, 1);
	strcpy(t.label, "Ekey B");
	strcpy(t.serial, "3000A10000000002");
	assert_int_equal(gmsoft_admin_init(state_dir, &t, PIN, NULL), CKR_OK);
	assert_int_equal(gmsoft_admin_empty(state_dir, 2), CKR_OK);
}

static int group_setup(void **state)
{
	CK_RV (*get)(CK_FUNCTION_LIST_PTR_PTR);

	(void)state;
	if (!mkdtemp(state_dir))
		return -1;
	setenv("GMSOFT_DIR", state_dir, 1);
	module = dlopen(GMSOFT_MODULE_PATH, RTLD_NOW | RTLD_LOCAL);
	if (!module)
		return -1;
	*(void **)&get = dlsym(module, "C_GetFunctionList");
	return (get && get(&p11) == CKR_OK) ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state_dir);
	if (system(cmd) != 0)
		return -1;
	return 0;
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

static CK_SESSION_HANDLE open_rw(CK_SLOT_ID slot)
{
	CK_SESSION_HANDLE h = 0;

	assert_int_equal(p11->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
					    NULL, NULL, &h), CKR_OK);
	return h;
}

static CK_RV login(CK_SESSION_HANDLE h, const char *pin)
{
	return p11->C_Login(h, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
}

static CK_FLAGS token_flags(CK_SLOT_ID slot)
{
	CK_TOKEN_INFO ti;

	assert_int_equal(p11->C_GetTokenInfo(slot, &ti), CKR_OK);
	return ti.flags;
}

static CK_ULONG find(CK_SESSION_HANDLE h, CK_ATTRIBUTE *t, CK_ULONG n,
		     CK_OBJECT_HANDLE *out, CK_ULONG max)
{
	CK_ULONG count = 0;

	assert_int_equal(p11->C_FindObjectsInit(h, t, n), CKR_OK);
	assert_int_equal(p11->C_FindObjects(h, out, max, &count), CKR_OK);
	assert_int_equal(p11->C_FindObjectsFinal(h), CKR_OK);
	return count;
}

/* A signing pair as FEITIAN's driver wants it asked for: token objects,
 * CKA_MODULUS_BITS 256, CKA_SIGN, a container name. */
static CK_RV gen_pair(CK_SESSION_HANDLE h, const char *id, CK_OBJECT_HANDLE *pub,
		      CK_OBJECT_HANDLE *priv)
{
	CK_MECHANISM mech = { GMSOFT_CKM_SM2_KEY_PAIR_GEN, NULL, 0 };
	CK_BBOOL yes = CK_TRUE;
	CK_ULONG bits = 256;
	CK_ATTRIBUTE pt[] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_MODULUS_BITS, &bits, sizeof(bits) },
		{ CKA_ID, (void *)id, strlen(id) },
		{ CKA_LABEL, "renewal key", 11 },
	};
	CK_ATTRIBUTE kt[] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_SIGN, &yes, sizeof(yes) },
		{ CKA_ID, (void *)id, strlen(id) },
		{ CKA_LABEL, "renewal key", 11 },
		{ GMSOFT_CKA_CONTAINER_NAME, (void *)id, strlen(id) + 1 },
	};

	return p11->C_GenerateKeyPair(h, &mech, pt, 4, kt, 5, pub, priv);
}

/* ---- SM2 helpers: e = SM3(Z || M), checked by OpenSSL's own SM2 ----- */

static const char sm2_curve_hex[] =
	"FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC"
	"28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93"
	"32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7"
	"BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0";

static void sm3(const void *a, size_t alen, const void *b, size_t blen,
		unsigned char out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n = 0;

	assert_non_null(ctx);
	assert_true(EVP_DigestInit_ex(ctx, EVP_sm3(), NULL));
	assert_true(EVP_DigestUpdate(ctx, a, alen));
	assert_true(EVP_DigestUpdate(ctx, b, blen));
	assert_true(EVP_DigestFinal_ex(ctx, out, &n));
	EVP_MD_CTX_free(ctx);
}

static void sm2_e(const unsigned char point[65], const char *msg,
		  unsigned char e[32])
{
	unsigned char zin[2 + 16 + 128 + 64], *curve, z[32];
	size_t len;

	zin[0] = 0;
	zin[1] = 128; /* ENTL: 16 bytes of ID in bits */
	memcpy(zin + 2, "1234567812345678", 16);
	assert_int_equal(gmsoft_hex_decode(sm2_curve_hex, &curve, &len), 0);
	memcpy(zin + 18, curve, 128);
	free(curve);
	memcpy(zin + 146, point + 1, 64);
	sm3(zin, sizeof(zin), "", 0, z);
	sm3(z, 32, msg, strlen(msg), e);
}

static int openssl_verifies(const unsigned char point[65], const char *msg,
			    const unsigned char sig[64])
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params;
	EVP_PKEY_CTX *kctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *der = NULL;
	size_t derlen = 0;
	int ok;

	OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "SM2", 0);
	OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 65);
	params = OSSL_PARAM_BLD_to_param(bld);
	assert_true(EVP_PKEY_fromdata_init(kctx) > 0);
	assert_true(EVP_PKEY_fromdata(kctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) > 0);
	assert_int_equal(gmsoft_sig_to_der(sig, &der, &derlen), CKR_OK);
	assert_true(EVP_DigestVerifyInit(md, &pctx, EVP_sm3(), NULL, pkey) > 0);
	/* OpenSSL 3 has no default SM2 ID: give the standard one. */
	assert_true(EVP_PKEY_CTX_set1_id(pctx, "1234567812345678", 16) > 0);
	ok = EVP_DigestVerify(md, der, derlen, (const unsigned char *)msg,
			      strlen(msg)) == 1;
	OPENSSL_free(der);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(kctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return ok;
}

/* feitian-driver.md: "CKA_MODULUS (0x120) holds X||Y, 64 bytes, no 0x04
 * prefix; CKA_EC_POINT/CKA_EC_PARAMS are never filled". */
static void ec_point_of(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj,
			unsigned char point[65])
{
	unsigned char xy[80], buf[80];
	CK_ATTRIBUTE a = { CKA_MODULUS, xy, sizeof(xy) };
	CK_ATTRIBUTE ec[] = {
		{ CKA_EC_POINT, buf, sizeof(buf) },
		{ CKA_EC_PARAMS, buf, sizeof(buf) },
	};

	assert_int_equal(p11->C_GetAttributeValue(h, obj, &a, 1), CKR_OK);
	assert_int_equal(a.ulValueLen, 64);
	assert_int_equal(p11->C_GetAttributeValue(h, obj, ec, 2),
			 CKR_ATTRIBUTE_TYPE_INVALID);
	assert_int_equal(ec[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(ec[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	point[0] = 0x04;
	memcpy(point + 1, xy, 64);
}

/* The 128-byte blob back to r||s: the high 32 bytes of each half zero. */
static void blob_rs(const unsigned char blob[128], unsigned char rs[64])
{
	static const unsigned char zero[32];

	assert_memory_equal(blob, zero, 32);
	assert_memory_equal(blob + 64, zero, 32);
	memcpy(rs, blob + 32, 32);
	memcpy(rs + 32, blob + 96, 32);
}

/* ---- tests ---------------------------------------------------------- */

/* feitian-driver.md: C_GetInfo works; "slot manufacturer \"Feitian
 * Technologies Co., Ltd.\"; the library holds \"EnterSafe USB Key\" and
 * \"ePass3000GM\""; serial 16 upper-case hex digits; "no device:
 * C_GetSlotList -> 0 slots; slot calls -> CKR_SLOT_ID_INVALID". */
static void test_library_and_slots(void **state)
{
	CK_INFO info;
	CK_SLOT_ID slots[8];
	CK_ULONG n = 0;
	CK_SLOT_INFO si;
	CK_TOKEN_INFO ti;

	(void)state;
	assert_int_equal(p11->C_GetInfo(&info), CKR_OK);
	assert_memory_equal(info.manufacturerID, "Feitian Technologies Co., Ltd. ",
			    31);
	assert_memory_equal(info.libraryDescription,
			    "EnterSafe PKCS#11 Library.      ", 32);
	assert_int_equal(info.libraryVersion.major, 1);
	assert_int_equal(info.libraryVersion.minor, 20);
	assert_int_equal(info.cryptokiVersion.major, 2);
	assert_int_equal(info.cryptokiVersion.minor, 20);
	/* slot 2 has no device: it is not a slot at all */
	assert_int_equal(p11->C_GetSlotList(CK_FALSE, NULL, &n), CKR_OK);
	assert_int_equal(n, 2);
	n = 1;
	assert_int_equal(p11->C_GetSlotList(CK_FALSE, slots, &n), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(n, 2);
	n = 8;
	assert_int_equal(p11->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	assert_int_equal(n, 2);
	assert_int_equal(slots[0], 0);
	assert_int_equal(slots[1], 1);
	assert_int_equal(p11->C_GetSlotInfo(2, &si), CKR_SLOT_ID_INVALID);
	assert_int_equal(p11->C_GetTokenInfo(2, &ti), CKR_SLOT_ID_INVALID);
	assert_int_equal(p11->C_GetSlotInfo(7, &si), CKR_SLOT_ID_INVALID);
	assert_int_equal(p11->C_GetSlotInfo(1, &si), CKR_OK);
	assert_memory_equal(si.manufacturerID, "Feitian Technologies Co., Ltd. ", 31);
	assert_true(si.flags & CKF_TOKEN_PRESENT);
	assert_int_equal(p11->C_GetTokenInfo(1, &ti), CKR_OK);
	assert_memory_equal(ti.label, "Ekey B  ", 8);
	assert_memory_equal(ti.manufacturerID, "EnterSafe USB Key ", 18);
	assert_memory_equal(ti.model, "ePass3000GM ", 12);
	assert_memory_equal(ti.serialNumber, "3000A10000000002", 16);
	assert_int_equal(ti.flags, CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED |
				   CKF_TOKEN_INITIALIZED | CKF_RNG);
}

static void child_no_device(void)
{
	CK_ULONG n = 5;
	CK_INFO info;
	CK_TOKEN_INFO ti;
	CK_SESSION_HANDLE h;

	CHILD_CHECK(p11->C_Initialize(NULL) == CKR_OK);
	CHILD_CHECK(p11->C_GetInfo(&info) == CKR_OK);
	CHILD_CHECK(p11->C_GetSlotList(CK_FALSE, NULL, &n) == CKR_OK && n == 0);
	CHILD_CHECK(p11->C_GetTokenInfo(1, &ti) == CKR_SLOT_ID_INVALID);
	CHILD_CHECK(p11->C_OpenSession(1, CKF_SERIAL_SESSION, NULL, NULL, &h) ==
		    CKR_SLOT_ID_INVALID);
	CHILD_CHECK(p11->C_Finalize(NULL) == CKR_OK);
}

static int run_child(void (*fn)(void), const char *const *env);
static void assert_exit_ok(int status);

/* Every device pulled out: no slot at all. */
static void test_no_device(void **state)
{
	static const char *const env[] = { "GMSOFT_REMOVE_AT=1", NULL };

	(void)state;
	assert_exit_ok(run_child(child_no_device, env));
}

/* feitian-driver.md: "C_GetMechanismList reports 0 mechanisms (its table
 * is never filled)"; the mechanisms work when named. */
static void test_mechanisms(void **state)
{
	CK_MECHANISM_TYPE list[8];
	CK_ULONG n = 8;
	CK_MECHANISM_INFO mi;

	(void)state;
	assert_int_equal(p11->C_GetMechanismList(0, list, &n), CKR_OK);
	assert_int_equal(n, 0);
	n = 8;
	assert_int_equal(p11->C_GetMechanismList(0, NULL, &n), CKR_OK);
	assert_int_equal(n, 0);
	assert_int_equal(p11->C_GetMechanismInfo(0, 0x80000202, &mi),
			 CKR_MECHANISM_INVALID);
	assert_int_equal(p11->C_GetMechanismInfo(0, CKM_ECDSA, &mi),
			 CKR_MECHANISM_INVALID);
}

static void test_pin_counter(void **state)
{
	CK_SESSION_HANDLE h = open_rw(0);
	struct gmsoft_token t;

	(void)state;
	assert_int_equal(login(h, "123"), CKR_PIN_LEN_RANGE);
	assert_int_equal(login(h, "12345678901234567"), CKR_PIN_LEN_RANGE);
	assert_false(token_flags(0) & CKF_USER_PIN_COUNT_LOW);
	assert_int_equal(login(h, "00000000"), CKR_PIN_INCORRECT);
	assert_true(token_flags(0) & CKF_USER_PIN_COUNT_LOW);
	assert_false(token_flags(0) & CKF_USER_PIN_FINAL_TRY);
	assert_int_equal(login(h, PIN), CKR_OK);
	assert_false(token_flags(0) & CKF_USER_PIN_COUNT_LOW);
	assert_int_equal(p11->C_Logout(h), CKR_OK);
	for (int i = 0; i < 5; i++)
		assert_int_equal(login(h, "00000000"), CKR_PIN_INCORRECT);
	assert_true(token_flags(0) & CKF_USER_PIN_FINAL_TRY);
	assert_int_equal(gmsoft_token_load(state_dir, 0, &t), CKR_OK);
	assert_int_equal(t.tries, 1); /* on disk: other processes see it */
	assert_int_equal(login(h, "00000000"), CKR_PIN_INCORRECT);
	assert_true(token_flags(0) & CKF_USER_PIN_LOCKED);
	assert_int_equal(login(h, PIN), CKR_PIN_LOCKED);
	/* The SO unlocks it with C_InitPIN. */
	assert_int_equal(p11->C_Login(h, CKU_SO, (CK_UTF8CHAR_PTR)SO_PIN, 8), CKR_OK);
	assert_int_equal(p11->C_InitPIN(h, (CK_UTF8CHAR_PTR)"4321abcd", 8), CKR_OK);
	assert_int_equal(p11->C_Logout(h), CKR_OK);
	assert_false(token_flags(0) & CKF_USER_PIN_LOCKED);
	assert_int_equal(login(h, "4321abcd"), CKR_OK);
	assert_int_equal(p11->C_SetPIN(h, (CK_UTF8CHAR_PTR)"4321abcd", 8,
				       (CK_UTF8CHAR_PTR)PIN, 8), CKR_OK);
	assert_int_equal(login(h, PIN), CKR_USER_ALREADY_LOGGED_IN);
}

static void test_keygen_sign_verify(void **state)
{
	CK_SESSION_HANDLE h = open_rw(0);
	CK_OBJECT_HANDLE pub, priv;
	CK_MECHANISM sign = { GMSOFT_CKM_SM2_SIGN, NULL, 0 };
	CK_MECHANISM verify = { GMSOFT_CKM_SM2_VERIFY, NULL, 0 };
	unsigned char point[65], ppoint[65], e[33] = { 0 }, sig[128], rs[64];
	CK_ULONG siglen = 0;
	const char *msg = "certificate request to renew";

	(void)state;
	assert_int_equal(gen_pair(h, "k1", &pub, &priv), CKR_USER_NOT_LOGGED_IN);
	assert_int_equal(login(h, PIN), CKR_OK);
	assert_int_equal(gen_pair(h, "k1", &pub, &priv), CKR_OK);
	ec_point_of(h, pub, point);
	ec_point_of(h, priv, ppoint);
	assert_memory_equal(point, ppoint, 65);
	sm2_e(point, msg, e);

	assert_int_equal(p11->C_SignInit(h, &verify, priv), CKR_MECHANISM_INVALID);
	assert_int_equal(p11->C_SignInit(h, &sign, pub), CKR_KEY_TYPE_INCONSISTENT);
	assert_int_equal(p11->C_SignInit(h, &sign, priv), CKR_OK);
	assert_int_equal(p11->C_SignInit(h, &sign, priv), CKR_OPERATION_ACTIVE);
	/* feitian-driver.md: "128 bytes, an SKF ECCSIGNATUREBLOB ... a NULL
	 * output buffer returns length 128" */
	assert_int_equal(p11->C_Sign(h, e, 32, NULL, &siglen), CKR_OK);
	assert_int_equal(siglen, 128);
	siglen = 64;
	assert_int_equal(p11->C_Sign(h, e, 32, sig, &siglen), CKR_BUFFER_TOO_SMALL);
	assert_int_equal(siglen, 128);
	siglen = sizeof(sig);
	assert_int_equal(p11->C_Sign(h, e, 32, sig, &siglen), CKR_OK);
	assert_int_equal(siglen, 128);
	blob_rs(sig, rs);
	assert_true(openssl_verifies(point, msg, rs));
	assert_false(openssl_verifies(point, "another message", rs));
	assert_int_equal(p11->C_Sign(h, e, 32, sig, &siglen),
			 CKR_OPERATION_NOT_INITIALIZED);

	assert_int_equal(p11->C_SignInit(h, &sign, priv), CKR_OK);
	siglen = sizeof(sig);
	assert_int_equal(p11->C_Sign(h, e, 33, sig, &siglen), CKR_DATA_LEN_RANGE);

	assert_int_equal(p11->C_VerifyInit(h, &verify, pub), CKR_OK);
	assert_int_equal(p11->C_Verify(h, e, 32, sig, 128), CKR_OK);
	sig[40] ^= 1;
	assert_int_equal(p11->C_VerifyInit(h, &verify, pub), CKR_OK);
	assert_int_equal(p11->C_Verify(h, e, 32, sig, 128), CKR_SIGNATURE_INVALID);
	assert_int_equal(p11->C_VerifyInit(h, &verify, pub), CKR_OK);
	assert_int_equal(p11->C_Verify(h, e, 32, rs, 64), CKR_SIGNATURE_LEN_RANGE);
}

static void test_private_objects(void **state)
{
	CK_SESSION_HANDLE h = open_rw(0), ro;
	CK_OBJECT_HANDLE pub, priv, found[8];
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t = { CKA_CLASS, &cls, sizeof(cls) };
	CK_BBOOL b = CK_FALSE;
	CK_KEY_TYPE kt = 0;
	unsigned char params[16], value[64];
	CK_ATTRIBUTE a[] = {
		{ CKA_SENSITIVE, &b, sizeof(b) },
		{ CKA_VALUE, value, sizeof(value) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_EC_PARAMS, params, sizeof(params) },
	};

	(void)state;
	assert_int_equal(login(h, PIN), CKR_OK);
	assert_int_equal(gen_pair(h, "k2", &pub, &priv), CKR_OK);
	assert_int_equal(find(h, &t, 1, found, 8), 1);
	assert_int_equal(found[0], priv);
	assert_int_not_equal(p11->C_GetAttributeValue(h, priv, a, 4), CKR_OK);
	assert_true(b);
	assert_int_equal(a[1].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(kt, GMSOFT_CKK_SM2);
	assert_int_equal(a[3].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(p11->C_Logout(h), CKR_OK);
	assert_int_equal(find(h, &t, 1, found, 8), 0);
	assert_int_equal(p11->C_GetAttributeValue(h, priv, a, 1),
			 CKR_OBJECT_HANDLE_INVALID);
	/* Login is per application: a second session shares it. */
	assert_int_equal(p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &ro),
			 CKR_OK);
	assert_int_equal(login(ro, PIN), CKR_OK);
	assert_int_equal(find(h, &t, 1, found, 8), 1);
	assert_int_equal(p11->C_CloseSession(ro), CKR_OK);
}

static CK_RV create_cert(CK_SESSION_HANDLE h, const unsigned char *der, size_t len,
			 CK_BBOOL token, CK_OBJECT_HANDLE *obj)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_CERTIFICATE_TYPE, &ct, sizeof(ct) },
		{ CKA_TOKEN, &token, sizeof(token) },
		{ CKA_ID, "k1", 2 },
		{ CKA_LABEL, "renewed", 7 },
		{ CKA_VALUE, (void *)der, len },
	};

	return p11->C_CreateObject(h, t, 6, obj);
}

/* A self-signed SM2 certificate, DER; caller frees. */
static unsigned char *make_cert(size_t *len)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "SM2");
	X509 *x = X509_new();
	unsigned char *der = NULL;
	int n;

	assert_non_null(key);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 4660);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"Ekey A", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	assert_true(X509_sign(x, key, EVP_sm3()) > 0);
	n = i2d_X509(x, &der);
	assert_true(n > 0);
	*len = (size_t)n;
	X509_free(x);
	EVP_PKEY_free(key);
	return der;
}

/* ---- key generation rules, containers, PIN flags ------------------- */

struct keygen_ask {
	CK_MECHANISM_TYPE mech;
	CK_BBOOL pub_token, priv_token, sign, decrypt;
	CK_ULONG bits;			/* 0: no CKA_MODULUS_BITS */
	const char *container;		/* NULL: none */
	CK_ULONG container_len;		/* with its NUL, as the driver wants */
	int ec_params;			/* send the P-256 OID, to be ignored */
};

static CK_RV keygen(CK_SESSION_HANDLE h, const struct keygen_ask *k,
		    CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
	static const unsigned char p256[] = {
		0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07
	};
	CK_MECHANISM mech = { k->mech, NULL, 0 };
	CK_ULONG bits = k->bits;
	CK_BBOOL pt_tok = k->pub_token, kt_tok = k->priv_token;
	CK_BBOOL sign = k->sign, decrypt = k->decrypt;
	CK_ATTRIBUTE pt[4], kt[4];
	CK_ULONG np = 0, nk = 0;

	pt[np++] = (CK_ATTRIBUTE){ CKA_TOKEN, &pt_tok, sizeof(pt_tok) };
	if (bits)
		pt[np++] = (CK_ATTRIBUTE){ CKA_MODULUS_BITS, &bits, sizeof(bits) };
	if (k->ec_params)
		pt[np++] = (CK_ATTRIBUTE){ CKA_EC_PARAMS, (void *)p256, sizeof(p256) };
	kt[nk++] = (CK_ATTRIBUTE){ CKA_TOKEN, &kt_tok, sizeof(kt_tok) };
	kt[nk++] = (CK_ATTRIBUTE){ CKA_SIGN, &sign, sizeof(sign) };
	kt[nk++] = (CK_ATTRIBUTE){ CKA_DECRYPT, &decrypt, sizeof(decrypt) };
	if (k->container)
		kt[nk++] = (CK_ATTRIBUTE){ GMSOFT_CKA_CONTAINER_NAME,
					   (void *)k->container, k->container_len };
	return p11->C_GenerateKeyPair(h, &mech, pt, np, kt, nk, pub, priv);
}

static CK_ULONG ulong_attr(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o,
			   CK_ATTRIBUTE_TYPE type)
{
	CK_ULONG v = 0;
	CK_ATTRIBUTE a = { type, &v, sizeof(v) };

	assert_int_equal(p11->C_GetAttributeValue(h, o, &a, 1), CKR_OK);
	return v;
}

static CK_BBOOL bool_attr(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o,
			  CK_ATTRIBUTE_TYPE type)
{
	CK_BBOOL v = 0;
	CK_ATTRIBUTE a = { type, &v, sizeof(v) };

	assert_int_equal(p11->C_GetAttributeValue(h, o, &a, 1), CKR_OK);
	return v;
}

/* feitian-driver.md, keygen template: "both keys must be token objects
 * (else CKR_FUNCTION_NOT_SUPPORTED); the public template must carry
 * CKA_MODULUS_BITS = 256 (else CKR_TEMPLATE_INCOMPLETE); CKA_EC_PARAMS is
 * not used; CKA_SIGN = TRUE makes a signing key, CKA_SIGN = FALSE with
 * CKA_DECRYPT = TRUE an encryption (exchange) key"; key pair generation
 * "mechanism 0x80000201 only". */
static void test_keygen_rules(void **state)
{
	CK_SESSION_HANDLE h = open_rw(0);
	CK_OBJECT_HANDLE pub, priv;
	CK_MECHANISM sign = { GMSOFT_CKM_SM2_SIGN, NULL, 0 };
	struct keygen_ask ok = { GMSOFT_CKM_SM2_KEY_PAIR_GEN, CK_TRUE, CK_TRUE,
				 CK_TRUE, CK_FALSE, 256, NULL, 0, 0 };
	struct keygen_ask k;
	unsigned char point[65], buf[16];
	CK_ATTRIBUTE params = { CKA_EC_PARAMS, buf, sizeof(buf) };

	(void)state;
	assert_int_equal(login(h, PIN), CKR_OK);
	k = ok;
	k.mech = CKM_EC_KEY_PAIR_GEN;
	assert_int_equal(keygen(h, &k, &pub, &priv), CKR_MECHANISM_INVALID);
	k = ok;
	k.pub_token = CK_FALSE;
	assert_int_equal(keygen(h, &k, &pub, &priv), CKR_FUNCTION_NOT_SUPPORTED);
	k = ok;
	k.priv_token = CK_FALSE;
	assert_int_equal(keygen(h, &k, &pub, &priv), CKR_FUNCTION_NOT_SUPPORTED);
	k = ok;
	k.bits = 0;
	assert_int_equal(keygen(h, &k, &pub, &priv), CKR_TEMPLATE_INCOMPLETE);
	k.bits = 512;
	assert_int_equal(keygen(h, &k, &pub, &priv), CKR_TEMPLATE_INCOMPLETE);
	/* CKA_EC_PARAMS of another curve: not used, still an SM2 key */
	k = ok;
	k.ec_params = 1;
	assert_int_equal(keygen(h, &k, &pub, &priv), CKR_OK);
	assert_int_equal(p11->C_GetAttributeValue(h, pub, &params, 1),
			 CKR_ATTRIBUTE_TYPE_INVALID);
	assert_int_equal(ulong_attr(h, pub, CKA_KEY_TYPE), GMSOFT_CKK_SM2);
	assert_int_equal(ulong_attr(h, pub, CKA_MODULUS_BITS), 256);
	ec_point_of(h, pub, point);
	assert_true(bool_attr(h, priv, CKA_SIGN));
	assert_false(bool_attr(h, priv, CKA_DECRYPT));
	/* an exchange pair */
	k = ok;
	k.sign = CK_FALSE;
	k.decrypt = CK_TRUE;
	assert_int_equal(keygen(h, &k, &pub, &priv), CKR_OK);
	assert_false(bool_attr(h, priv, CKA_SIGN));
	assert_true(bool_attr(h, priv, CKA_DECRYPT));
	assert_true(bool_attr(h, pub, CKA_ENCRYPT));
	assert_int_equal(p11->C_SignInit(h, &sign, priv),
			 CKR_KEY_FUNCTION_NOT_PERMITTED);
	/* neither kind */
	k.decrypt = CK_FALSE;
	assert_int_equal(keygen(h, &k, &pub, &priv), CKR_TEMPLATE_INCONSISTENT);
}

/* The container named name, or CK_INVALID_HANDLE. */
static CK_OBJECT_HANDLE container(CK_SESSION_HANDLE h, const char *name)
{
	CK_OBJECT_CLASS cls = GMSOFT_CKO_CONTAINER;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ GMSOFT_CKA_CONTAINER_NAME, (void *)name, strlen(name) + 1 },
	};
	CK_OBJECT_HANDLE found[4];
	CK_ULONG n = find(h, t, 2, found, 4);

	assert_true(n <= 1);
	return n ? found[0] : CK_INVALID_HANDLE;
}

/* How many objects container c lists, and whether obj is one of them. */
static size_t container_lists(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE c,
			      CK_OBJECT_HANDLE obj, int *has)
{
	CK_ULONG list[16];
	CK_ATTRIBUTE a = { CKA_VALUE, list, sizeof(list) };
	size_t n;

	assert_int_equal(p11->C_GetAttributeValue(h, c, &a, 1), CKR_OK);
	n = a.ulValueLen / sizeof(CK_ULONG);
	*has = 0;
	for (size_t i = 0; i < n; i++)
		*has |= list[i] == obj;
	return n;
}

/* feitian-driver.md, vendor attributes: "CKA_CONTAINER_NAME = 0x80455053
 * (NUL-terminated string, NUL included in the length) ... container
 * objects have class 0x8043544E with the container name and CKA_VALUE
 * listing its objects"; "sign pair and exchange pair tagged with the
 * container name". */
static void test_containers(void **state)
{
	CK_SESSION_HANDLE h = open_rw(0), ro;
	CK_OBJECT_HANDLE pub, priv, xpub, xpriv, c, cert;
	struct keygen_ask k = { GMSOFT_CKM_SM2_KEY_PAIR_GEN, CK_TRUE, CK_TRUE,
				CK_TRUE, CK_FALSE, 256, "gmrenew-c1", 11, 0 };
	char name[80];
	CK_ATTRIBUTE na = { GMSOFT_CKA_CONTAINER_NAME, name, sizeof(name) };
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	CK_BBOOL yes = CK_TRUE;
	size_t len;
	unsigned char *der = make_cert(&len);
	CK_ATTRIBUTE ctmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_CERTIFICATE_TYPE, &ct, sizeof(ct) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_VALUE, der, len },
		{ GMSOFT_CKA_CONTAINER_NAME, "gmrenew-c1", 11 },
	};
	int has = 0;

	(void)state;
	assert_int_equal(login(h, PIN), CKR_OK);
	/* the name must carry its NUL */
	k.container_len = 10;
	assert_int_equal(keygen(h, &k, &pub, &priv), CKR_ATTRIBUTE_VALUE_INVALID);
	k.container_len = 11;
	assert_int_equal(keygen(h, &k, &pub, &priv), CKR_OK);
	assert_int_equal(p11->C_GetAttributeValue(h, priv, &na, 1), CKR_OK);
	assert_int_equal(na.ulValueLen, 11);
	assert_memory_equal(name, "gmrenew-c1", 11);
	na.ulValueLen = sizeof(name);
	assert_int_equal(p11->C_GetAttributeValue(h, pub, &na, 1), CKR_OK);
	assert_int_equal(na.ulValueLen, 11);
	/* the container is seen before login too */
	assert_int_equal(p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &ro),
			 CKR_OK);
	assert_int_equal(p11->C_Logout(h), CKR_OK);
	c = container(ro, "gmrenew-c1");
	assert_int_not_equal(c, CK_INVALID_HANDLE);
	assert_int_equal(login(h, PIN), CKR_OK);
	assert_int_equal(container_lists(h, c, pub, &has), 2);
	assert_true(has);
	container_lists(h, c, priv, &has);
	assert_true(has);
	/* one signing pair and one exchange pair per container */
	assert_int_equal(keygen(h, &k, &xpub, &xpriv), CKR_TEMPLATE_INCONSISTENT);
	k.sign = CK_FALSE;
	k.decrypt = CK_TRUE;
	assert_int_equal(keygen(h, &k, &xpub, &xpriv), CKR_OK);
	assert_int_equal(container_lists(h, c, xpriv, &has), 4);
	assert_true(has);
	/* a certificate joins the container it names */
	assert_int_equal(p11->C_CreateObject(h, ctmpl, 5, &cert), CKR_OK);
	assert_int_equal(container_lists(h, c, cert, &has), 5);
	assert_true(has);
	/* the name cannot change: SKF cannot rename a container */
	na.ulValueLen = 11;
	memcpy(name, "gmrenew-c2", 11);
	assert_int_equal(p11->C_SetAttributeValue(h, priv, &na, 1),
			 CKR_ATTRIBUTE_READ_ONLY);
	/* objects leave it as they go; the empty container goes */
	assert_int_equal(p11->C_DestroyObject(h, cert), CKR_OK);
	assert_int_equal(container_lists(h, c, cert, &has), 4);
	assert_false(has);
	assert_int_equal(p11->C_DestroyObject(h, xpub), CKR_OK);
	assert_int_equal(p11->C_DestroyObject(h, xpriv), CKR_OK);
	assert_int_equal(p11->C_DestroyObject(h, pub), CKR_OK);
	assert_int_not_equal(container(h, "gmrenew-c1"), CK_INVALID_HANDLE);
	assert_int_equal(p11->C_DestroyObject(h, priv), CKR_OK);
	assert_int_equal(container(h, "gmrenew-c1"), CK_INVALID_HANDLE);
	/* a pair asked for without a name still gets a container */
	k.container = NULL;
	k.sign = CK_TRUE;
	k.decrypt = CK_FALSE;
	assert_int_equal(keygen(h, &k, &pub, &priv), CKR_OK);
	na.ulValueLen = sizeof(name);
	assert_int_equal(p11->C_GetAttributeValue(h, priv, &na, 1), CKR_OK);
	assert_int_not_equal(container(h, name), CK_INVALID_HANDLE);
	assert_int_equal(p11->C_CloseSession(ro), CKR_OK);
	OPENSSL_free(der);
}

/* feitian-driver.md, PIN flags "from the card's counter: remaining 0 ->
 * CKF_USER_PIN_LOCKED; 1 -> CKF_USER_PIN_FINAL_TRY; below the maximum ->
 * CKF_USER_PIN_COUNT_LOW". */
static void test_pin_flags_from_counter(void **state)
{
	const CK_FLAGS pin = CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY |
			     CKF_USER_PIN_LOCKED;

	(void)state;
	assert_int_equal(token_flags(0) & pin, 0);
	assert_int_equal(gmsoft_admin_set_tries(state_dir, 0, 5), CKR_OK);
	assert_int_equal(token_flags(0) & pin, CKF_USER_PIN_COUNT_LOW);
	assert_int_equal(gmsoft_admin_set_tries(state_dir, 0, 2), CKR_OK);
	assert_int_equal(token_flags(0) & pin, CKF_USER_PIN_COUNT_LOW);
	assert_int_equal(gmsoft_admin_set_tries(state_dir, 0, 1), CKR_OK);
	assert_int_equal(token_flags(0) & pin,
			 CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY);
	assert_int_equal(gmsoft_admin_set_tries(state_dir, 0, 0), CKR_OK);
	assert_true(token_flags(0) & CKF_USER_PIN_LOCKED);
}

static void test_certificates(void **state)
{
	CK_SESSION_HANDLE h = open_rw(0), ro;
	CK_OBJECT_HANDLE cert, found[4];
	size_t len;
	unsigned char *der = make_cert(&len);
	unsigned char buf[2048], serial[8];
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_ATTRIBUTE find_t[] = { { CKA_CLASS, &cls, sizeof(cls) }, { CKA_ID, "k1", 2 } };
	CK_ATTRIBUTE a[] = {
		{ CKA_VALUE, NULL, 0 }, { CKA_SERIAL_NUMBER, serial, sizeof(serial) },
		{ CKA_MODULUS_BITS, buf, 8 },
	};
	CK_ATTRIBUTE label = { CKA_LABEL, "new label", 9 };
	CK_ATTRIBUTE cls_a = { CKA_CLASS, &cls, sizeof(cls) };
	CK_ATTRIBUTE small = { CKA_VALUE, buf, 4 };

	(void)state;
	assert_int_equal(create_cert(h, der, len, CK_TRUE, &cert), CKR_USER_NOT_LOGGED_IN);
	assert_int_equal(p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &ro),
			 CKR_OK);
	assert_int_equal(login(h, PIN), CKR_OK);
	assert_int_equal(create_cert(ro, der, len, CK_TRUE, &cert), CKR_SESSION_READ_ONLY);
	assert_int_equal(create_cert(h, der, len, CK_TRUE, &cert), CKR_OK);
	assert_int_equal(find(ro, find_t, 2, found, 4), 1);
	assert_int_equal(found[0], cert);
	/* Sizes first, unknown attributes reported, the rest still filled. */
	assert_int_equal(p11->C_GetAttributeValue(h, cert, a, 3),
			 CKR_ATTRIBUTE_TYPE_INVALID);
	assert_int_equal(a[0].ulValueLen, len);
	assert_int_equal(a[1].ulValueLen, 4); /* DER INTEGER 4660 = 02 02 12 34 */
	assert_memory_equal(serial, "\x02\x02\x12\x34", 4);
	assert_int_equal(a[2].ulValueLen, CK_UNAVAILABLE_INFORMATION);
	assert_int_equal(p11->C_GetAttributeValue(h, cert, &small, 1),
			 CKR_BUFFER_TOO_SMALL);
	assert_int_equal(small.ulValueLen, CK_UNAVAILABLE_INFORMATION);
	a[0].pValue = buf;
	a[0].ulValueLen = sizeof(buf);
	assert_int_equal(p11->C_GetAttributeValue(h, cert, a, 1), CKR_OK);
	assert_memory_equal(buf, der, len);
	assert_int_equal(p11->C_SetAttributeValue(h, cert, &label, 1), CKR_OK);
	assert_int_equal(p11->C_SetAttributeValue(h, cert, &cls_a, 1),
			 CKR_ATTRIBUTE_READ_ONLY);
	assert_int_equal(p11->C_DestroyObject(h, cert), CKR_OK);
	assert_int_equal(find(h, find_t, 2, found, 4), 0);
	/* Session objects go with their session. */
	assert_int_equal(create_cert(ro, der, len, CK_FALSE, &cert), CKR_OK);
	assert_int_equal(find(h, find_t, 2, found, 4), 1);
	assert_int_equal(p11->C_CloseSession(ro), CKR_OK);
	assert_int_equal(find(h, find_t, 2, found, 4), 0);
	OPENSSL_free(der);
}

/* ---- forked children ----------------------------------------------- */


/* Run fn in a child with the given environment (NAME=VALUE strings, NULL
 * terminated); returns the raw wait status. The parent's module is
 * finalized around the fork. */
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

static void assert_killed(int status)
{
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
}

static void child_fail(void)
{
	CK_TOKEN_INFO ti;
	CK_SESSION_HANDLE h;

	CHILD_CHECK(p11->C_Initialize(NULL) == CKR_OK);
	CHILD_CHECK(p11->C_GetTokenInfo(0, &ti) == CKR_OK);
	CHILD_CHECK(p11->C_GetTokenInfo(0, &ti) == CKR_DEVICE_ERROR);
	CHILD_CHECK(p11->C_GetTokenInfo(0, &ti) == CKR_OK);
	CHILD_CHECK(p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &h) == CKR_OK);
	CHILD_CHECK(login(h, PIN) == CKR_PIN_INCORRECT); /* forced, 0xa0 */
	CHILD_CHECK(login(h, PIN) == CKR_OK);
	CHILD_CHECK(p11->C_Finalize(NULL) == CKR_OK);
}

static void test_fault_fail(void **state)
{
	static const char *const env[] = {
		"GMSOFT_FAIL=C_GetTokenInfo:2:CKR_DEVICE_ERROR,C_Login:1:0xa0", NULL
	};
	struct gmsoft_token t;

	(void)state;
	assert_exit_ok(run_child(child_fail, env));
	/* A forced result does nothing: no try was counted. */
	assert_int_equal(gmsoft_token_load(state_dir, 0, &t), CKR_OK);
	assert_int_equal(t.tries, GMSOFT_PIN_TRIES);
}

static void child_bad_fail(void)
{
	CHILD_CHECK(p11->C_Initialize(NULL) == CKR_GENERAL_ERROR);
}

static void test_fault_fail_malformed(void **state)
{
	static const char *const env[] = { "GMSOFT_FAIL=C_Nothing:1:CKR_OK", NULL };

	(void)state;
	assert_exit_ok(run_child(child_bad_fail, env));
}

static void child_remove(void)
{
	CK_SESSION_HANDLE h;
	CK_SLOT_ID slots[4];
	CK_ULONG n = 4;
	CK_TOKEN_INFO ti;
	CK_SESSION_INFO si;

	CHILD_CHECK(p11->C_Initialize(NULL) == CKR_OK);                    /* 1 */
	CHILD_CHECK(p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &h)
		    == CKR_OK);                                           /* 2 */
	CHILD_CHECK(p11->C_GetSessionInfo(h, &si) == CKR_OK);              /* 3 */
	CHILD_CHECK(p11->C_GetSessionInfo(h, &si) == CKR_DEVICE_REMOVED);  /* 4 */
	CHILD_CHECK(p11->C_GetTokenInfo(0, &ti) == CKR_SLOT_ID_INVALID);
	CHILD_CHECK(p11->C_GetTokenInfo(1, &ti) == CKR_OK); /* REMOVE_SLOT=0 */
	CHILD_CHECK(p11->C_GetSlotList(CK_TRUE, slots, &n) == CKR_OK);
	CHILD_CHECK(n == 1 && slots[0] == 1);
	CHILD_CHECK(p11->C_CloseSession(h) == CKR_OK);
	CHILD_CHECK(p11->C_Finalize(NULL) == CKR_OK);
	/* Still out after a re-initialisation in the same process. */
	CHILD_CHECK(p11->C_Initialize(NULL) == CKR_OK);
	CHILD_CHECK(p11->C_GetTokenInfo(0, &ti) == CKR_SLOT_ID_INVALID);
	CHILD_CHECK(p11->C_Finalize(NULL) == CKR_OK);
}

static void test_fault_remove(void **state)
{
	static const char *const env[] = { "GMSOFT_REMOVE_AT=4",
					   "GMSOFT_REMOVE_SLOT=0", NULL };
	CK_TOKEN_INFO ti;

	(void)state;
	assert_exit_ok(run_child(child_remove, env));
	assert_int_equal(p11->C_GetTokenInfo(0, &ti), CKR_OK); /* re-inserted */
}

static void child_create_cert(void)
{
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE obj;
	size_t len;
	unsigned char *der = make_cert(&len);

	CHILD_CHECK(p11->C_Initialize(NULL) == CKR_OK);
	CHILD_CHECK(p11->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION,
				       NULL, NULL, &h) == CKR_OK);
	CHILD_CHECK(login(h, PIN) == CKR_OK);
	CHILD_CHECK(create_cert(h, der, len, CK_TRUE, &obj) == CKR_OK);
	CHILD_CHECK(p11->C_Finalize(NULL) == CKR_OK);
	OPENSSL_free(der);
}

static size_t token_objects(void)
{
	struct gmsoft_object *objs;
	size_t n;

	assert_int_equal(gmsoft_objects_load(state_dir, 0, &objs, &n), CKR_OK);
	gmsoft_objects_free(objs, n);
	return n;
}

static void test_fault_kill(void **state)
{
	/* Calls: 1 C_Initialize, 2 C_OpenSession, 3 C_Login, 4 C_CreateObject */
	static const char *const at[] = { "GMSOFT_KILL_AT=4", NULL };
	static const char *const after[] = { "GMSOFT_KILL_AFTER=4", NULL };

	(void)state;
	assert_int_equal(token_objects(), 0);
	assert_killed(run_child(child_create_cert, at));
	assert_int_equal(token_objects(), 0);
	assert_killed(run_child(child_create_cert, after));
	assert_int_equal(token_objects(), 1);
}

static int has_temp_file(void)
{
	char path[256];
	DIR *d;
	struct dirent *e;
	int found = 0;

	snprintf(path, sizeof(path), "%s/slot0/objects", state_dir);
	d = opendir(path);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		found |= strncmp(e->d_name, ".tmp.", 5) == 0;
	closedir(d);
	return found;
}

static void test_atomic_write(void **state)
{
	/* Write 1 reserves the handle in token.ini, write 2 is the object. */
	static const char *const env[] = { "GMSOFT_KILL_IN_WRITE=2", NULL };
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE found[4];

	(void)state;
	assert_killed(run_child(child_create_cert, env));
	assert_true(has_temp_file()); /* the half-written file is there... */
	assert_int_equal(token_objects(), 0); /* ...and ignored */
	h = open_rw(0);
	assert_int_equal(login(h, PIN), CKR_OK);
	assert_int_equal(find(h, NULL, 0, found, 4), 0);
	assert_exit_ok(run_child(child_create_cert, NULL));
	assert_int_equal(token_objects(), 1);
}

static void child_trace_run(void)
{
	CK_SLOT_ID slots[4];
	CK_ULONG n = 4;
	CK_TOKEN_INFO ti;

	CHILD_CHECK(p11->C_GetSlotList(CK_TRUE, slots, &n) ==
		    CKR_CRYPTOKI_NOT_INITIALIZED);
	CHILD_CHECK(p11->C_Initialize(NULL) == CKR_OK);
	CHILD_CHECK(p11->C_GetSlotList(CK_TRUE, slots, &n) == CKR_OK);
	CHILD_CHECK(p11->C_GetTokenInfo(2, &ti) == CKR_SLOT_ID_INVALID);
	CHILD_CHECK(p11->C_Finalize(NULL) == CKR_OK);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 4096);

	assert_non_null(f);
	assert_non_null(buf);
	assert_true(fread(buf, 1, 4095, f) > 0);
	fclose(f);
	return buf;
}

static void test_trace(void **state)
{
	char path1[300], path2[300], env1[320], env2[320];
	const char *e1[] = { env1, NULL }, *e2[] = { env2, NULL };
	char *t1, *t2;

	(void)state;
	snprintf(path1, sizeof(path1), "%s/trace1", state_dir);
	snprintf(path2, sizeof(path2), "%s/trace2", state_dir);
	snprintf(env1, sizeof(env1), "GMSOFT_TRACE=%s", path1);
	snprintf(env2, sizeof(env2), "GMSOFT_TRACE=%s", path2);
	assert_exit_ok(run_child(child_trace_run, e1));
	assert_exit_ok(run_child(child_trace_run, e2));
	t1 = slurp(path1);
	t2 = slurp(path2);
	assert_string_equal(t1, "1 C_GetSlotList CKR_CRYPTOKI_NOT_INITIALIZED\n"
				"2 C_Initialize CKR_OK\n"
				"3 C_GetSlotList CKR_OK\n"
				"4 C_GetTokenInfo CKR_SLOT_ID_INVALID\n"
				"5 C_Finalize CKR_OK\n");
	assert_string_equal(t1, t2);
	free(t1);
	free(t2);
}

static long ms_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1000 +
	       (b->tv_nsec - a->tv_nsec) / 1000000;
}

/* Each call lasts at least its latency (the work inside it), a key
 * generation its own on top. */
static void child_latency(void)
{
	struct timespec a, b, c, d;
	CK_SESSION_HANDLE h;
	CK_OBJECT_HANDLE pub, priv;

	clock_gettime(CLOCK_MONOTONIC, &a);
	CHILD_CHECK(p11->C_Initialize(NULL) == CKR_OK);
	clock_gettime(CLOCK_MONOTONIC, &b);
	CHILD_CHECK(ms_between(&a, &b) >= 20);
	CHILD_CHECK(p11->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION,
				       NULL, NULL, &h) == CKR_OK);
	CHILD_CHECK(login(h, PIN) == CKR_OK);
	clock_gettime(CLOCK_MONOTONIC, &c);
	CHILD_CHECK(gen_pair(h, "lat", &pub, &priv) == CKR_OK);
	clock_gettime(CLOCK_MONOTONIC, &d);
	CHILD_CHECK(ms_between(&c, &d) >= 20 + 200);
	CHILD_CHECK(ms_between(&a, &d) >= 4 * 20 + 200);
	CHILD_CHECK(p11->C_Finalize(NULL) == CKR_OK);
}

static void test_latency(void **state)
{
	static const char *const env[] = { "GMSOFT_LATENCY=call:20,keygen:200,sign:5",
					   NULL };

	(void)state;
	assert_exit_ok(run_child(child_latency, env));
}

static void child_no_dir(void)
{
	unsetenv("GMSOFT_DIR");
	CHILD_CHECK(p11->C_Initialize(NULL) == CKR_GENERAL_ERROR);
}

static void test_no_state_dir(void **state)
{
	(void)state;
	assert_exit_ok(run_child(child_no_dir, NULL));
}

static void test_removed_by_tool(void **state)
{
	CK_SESSION_HANDLE h = open_rw(1);
	CK_SESSION_INFO si;
	CK_SLOT_ID slots[4];
	CK_ULONG n = 4;

	(void)state;
	assert_int_equal(gmsoft_admin_presence(state_dir, 1, 0), CKR_OK);
	assert_int_equal(p11->C_GetSessionInfo(h, &si), CKR_DEVICE_REMOVED);
	assert_int_equal(p11->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(gmsoft_admin_presence(state_dir, 1, 1), CKR_OK);
	n = 4;
	assert_int_equal(p11->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	assert_int_equal(n, 2);
	assert_int_equal(p11->C_CloseSession(h), CKR_OK);
}

static void test_imported_key_and_random(void **state)
{
	CK_SESSION_HANDLE h = open_rw(1);
	CK_OBJECT_HANDLE handles[2];
	CK_MECHANISM sign = { GMSOFT_CKM_SM2_SIGN, NULL, 0 };
	struct gmsoft_bytes id = { (const unsigned char *)"\x01", 1 };
	struct gmsoft_key_spec k = { id, "imported", NULL, 0 };
	unsigned char e[32] = { 1, 2, 3 }, sig[128], rs[64], point[65];
	unsigned char rnd[16] = { 0 }, zero[16] = { 0 };
	CK_ULONG siglen = sizeof(sig);
	char *pem = NULL;

	(void)state;
	assert_int_equal(gmsoft_sm2_generate(&pem), CKR_OK);
	assert_int_equal(gmsoft_admin_import_key(state_dir, 1, &k, pem, handles),
			 CKR_OK);
	assert_int_equal(gmsoft_sm2_point(pem, point), CKR_OK);
	assert_int_equal(login(h, PIN), CKR_OK);
	assert_int_equal(p11->C_SignInit(h, &sign, handles[1]), CKR_OK);
	assert_int_equal(p11->C_Sign(h, e, 32, sig, &siglen), CKR_OK);
	blob_rs(sig, rs);
	assert_int_equal(gmsoft_sm2_verify(point, e, 32, rs), CKR_OK);
	assert_int_equal(p11->C_GenerateRandom(h, rnd, sizeof(rnd)), CKR_OK);
	assert_memory_not_equal(rnd, zero, sizeof(rnd));
	free(pem);
}

/* ---- GMSOFT_UNWRAP: the enveloped key through C_UnwrapKey ------------ */

static void reinit_with(const char *unwrap)
{
	if (unwrap)
		setenv("GMSOFT_UNWRAP", unwrap, 1);
	else
		unsetenv("GMSOFT_UNWRAP");
	assert_int_equal(p11->C_Finalize(NULL), CKR_OK);
	assert_int_equal(p11->C_Initialize(NULL), CKR_OK);
}

/* The scalar d of an SM2 private key PEM, 32 bytes. */
static void scalar_of(const char *pem, unsigned char d[32])
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIGNUM *bn = NULL;

	assert_non_null(k);
	assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PRIV_KEY,
					       &bn), 1);
	assert_int_equal(BN_bn2binpad(bn, d, 32), 32);
	BN_clear_free(bn);
	EVP_PKEY_free(k);
	BIO_free(b);
}

static void sm4_ecb(const unsigned char key[16], const unsigned char *in,
		    int len, unsigned char *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, m = 0;

	assert_int_equal(EVP_EncryptInit_ex(c, EVP_sm4_ecb(), NULL, key, NULL),
			 1);
	EVP_CIPHER_CTX_set_padding(c, 0);
	assert_int_equal(EVP_EncryptUpdate(c, out, &n, in, len), 1);
	assert_int_equal(EVP_EncryptFinal_ex(c, out + n, &m), 1);
	assert_int_equal(n + m, len);
	EVP_CIPHER_CTX_free(c);
}

/* C1 || C3 || C2 of key (16 bytes) encrypted to point by OpenSSL. */
static void sm2_wrap(const unsigned char point[GMSOFT_SM2_POINT_LEN],
		     const unsigned char key[16], unsigned char out[113])
{
	struct gmsoft_sm2_cipher c;
	unsigned char *der = NULL;
	size_t len = 0;

	assert_int_equal(gmsoft_sm2_encrypt(point, key, 16, &der, &len), CKR_OK);
	assert_int_equal(gmsoft_sm2_cipher_from_der(der, len, &c), CKR_OK);
	assert_int_equal(c.c2len, 16);
	out[0] = 0x04;
	memcpy(out + 1, c.x, 32);
	memcpy(out + 33, c.y, 32);
	memcpy(out + 65, c.hash, 32);
	memcpy(out + 97, c.c2, 16);
	free(c.c2);
	free(der);
}

/* A signing pair that may unwrap (or not), its point. */
static void unwrap_pair(CK_SESSION_HANDLE h, const char *id, CK_BBOOL unwrap,
			CK_OBJECT_HANDLE *priv, unsigned char point[65])
{
	CK_MECHANISM mech = { GMSOFT_CKM_SM2_KEY_PAIR_GEN, NULL, 0 };
	CK_BBOOL yes = CK_TRUE;
	CK_ULONG bits = 256;
	CK_ATTRIBUTE pt[] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_MODULUS_BITS, &bits, sizeof(bits) },
		{ CKA_ID, (void *)id, strlen(id) },
	};
	CK_ATTRIBUTE kt[] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_SIGN, &yes, sizeof(yes) },
		{ CKA_UNWRAP, &unwrap, sizeof(unwrap) },
		{ CKA_ID, (void *)id, strlen(id) },
		{ GMSOFT_CKA_CONTAINER_NAME, (void *)id, strlen(id) + 1 },
	};
	CK_OBJECT_HANDLE pub;
	CK_ATTRIBUTE m = { CKA_MODULUS, point + 1, 64 };

	assert_int_equal(p11->C_GenerateKeyPair(h, &mech, pt, 3, kt, 5, &pub,
						priv), CKR_OK);
	assert_int_equal(p11->C_GetAttributeValue(h, pub, &m, 1), CKR_OK);
	point[0] = 0x04;
}

static void test_unwrap(void **state)
{
	CK_MECHANISM m2 = { GMSOFT_CKM_SM2_UNWRAP, NULL, 0 };
	CK_MECHANISM m4 = { GMSOFT_CKM_SM4_ECB_UNWRAP, NULL, 0 };
	CK_OBJECT_CLASS sec = CKO_SECRET_KEY, prv = CKO_PRIVATE_KEY;
	CK_KEY_TYPE gen = CKK_GENERIC_SECRET, sm2 = GMSOFT_CKK_SM2;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE st[] = {
		{ CKA_CLASS, &sec, sizeof(sec) },
		{ CKA_KEY_TYPE, &gen, sizeof(gen) },
		{ CKA_UNWRAP, &yes, sizeof(yes) },
		{ CKA_TOKEN, &no, sizeof(no) },
	};
	CK_ATTRIBUTE pt[] = {
		{ CKA_CLASS, &prv, sizeof(prv) },
		{ CKA_KEY_TYPE, &sm2, sizeof(sm2) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_DECRYPT, &yes, sizeof(yes) },
		{ CKA_SIGN, &no, sizeof(no) },
		{ CKA_ID, "enc", 3 },
		{ GMSOFT_CKA_CONTAINER_NAME, "c2", 3 },
	};
	CK_MECHANISM sign = { GMSOFT_CKM_SM2_SIGN, NULL, 0 };
	unsigned char sym[16] = "0123456789abcdef", d[32], wd[32];
	unsigned char sp[65], ep[65], got[64], wrapped[113], bad[113];
	CK_ATTRIBUTE v = { CKA_VALUE, NULL, 0 }, mod = { CKA_MODULUS, got, 64 };
	CK_OBJECT_HANDLE noun, signer, secret, key;
	CK_SESSION_HANDLE h;
	char *pem = NULL;

	(void)state;
	/* FEITIAN's driver, the default: no unwrap at all */
	h = open_rw(0);
	assert_int_equal(login(h, PIN), CKR_OK);
	assert_int_equal(p11->C_UnwrapKey(h, &m2, 1, sym, 16, st, 4, &secret),
			 CKR_FUNCTION_NOT_SUPPORTED);
	reinit_with("1");
	h = open_rw(0);
	assert_int_equal(login(h, PIN), CKR_OK);
	unwrap_pair(h, "c1", CK_FALSE, &noun, sp);
	unwrap_pair(h, "c2", CK_TRUE, &signer, sp);
	sm2_wrap(sp, sym, wrapped);
	/* the unwrapping key must have CKA_UNWRAP */
	assert_int_equal(p11->C_UnwrapKey(h, &m2, noun, wrapped, 113, st, 4,
					  &secret), CKR_KEY_FUNCTION_NOT_PERMITTED);
	assert_int_equal(p11->C_UnwrapKey(h, &m2, 0x7777, wrapped, 113, st, 4,
					  &secret),
			 CKR_UNWRAPPING_KEY_HANDLE_INVALID);
	/* ciphertexts: length, C3 */
	assert_int_equal(p11->C_UnwrapKey(h, &m2, signer, wrapped, 112, st, 4,
					  &secret), CKR_WRAPPED_KEY_LEN_RANGE);
	memcpy(bad, wrapped, sizeof(bad));
	bad[70] ^= 1;
	assert_int_equal(p11->C_UnwrapKey(h, &m2, signer, bad, 113, st, 4,
					  &secret), CKR_WRAPPED_KEY_INVALID);
	/* templates: no class, a token secret key */
	assert_int_equal(p11->C_UnwrapKey(h, &m2, signer, wrapped, 113, st + 1,
					  3, &secret), CKR_TEMPLATE_INCOMPLETE);
	st[3].pValue = &yes;
	assert_int_equal(p11->C_UnwrapKey(h, &m2, signer, wrapped, 113, st, 4,
					  &secret), CKR_TEMPLATE_INCONSISTENT);
	st[3].pValue = &no;
	assert_int_equal(p11->C_UnwrapKey(h, &m2, signer, wrapped, 113, st, 4,
					  &secret), CKR_OK);
	assert_int_equal(p11->C_GetAttributeValue(h, secret, &v, 1),
			 CKR_ATTRIBUTE_SENSITIVE);
	/* the private key: SM4-ECB of d with the secret key */
	assert_int_equal(gmsoft_sm2_generate(&pem), CKR_OK);
	assert_int_equal(gmsoft_sm2_point(pem, ep), CKR_OK);
	scalar_of(pem, d);
	sm4_ecb(sym, d, 32, wd);
	assert_int_equal(p11->C_UnwrapKey(h, &m4, signer, wd, 32, pt, 7, &key),
			 CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT);
	assert_int_equal(p11->C_UnwrapKey(h, &m4, secret, wd, 16, pt, 7, &key),
			 CKR_WRAPPED_KEY_LEN_RANGE);
	pt[4].pValue = &yes;	/* an encryption key never signs */
	assert_int_equal(p11->C_UnwrapKey(h, &m4, secret, wd, 32, pt, 7, &key),
			 CKR_TEMPLATE_INCONSISTENT);
	pt[4].pValue = &no;
	assert_int_equal(p11->C_UnwrapKey(h, &m4, secret, wd, 32, pt, 7, &key),
			 CKR_OK);
	/* the token's key is d's: its point, and it does not sign */
	assert_int_equal(p11->C_GetAttributeValue(h, key, &mod, 1), CKR_OK);
	assert_memory_equal(got, ep + 1, 64);
	assert_false(bool_attr(h, key, CKA_SIGN));
	assert_true(bool_attr(h, key, CKA_DECRYPT));
	assert_int_equal(p11->C_SignInit(h, &sign, key),
			 CKR_KEY_FUNCTION_NOT_PERMITTED);
	/* a second exchange key in the container is refused */
	assert_int_equal(p11->C_UnwrapKey(h, &m4, secret, wd, 32, pt, 7, &key),
			 CKR_TEMPLATE_INCONSISTENT);
	assert_int_equal(p11->C_DestroyObject(h, secret), CKR_OK);
	OPENSSL_cleanse(pem, strlen(pem));
	free(pem);
	reinit_with(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_library_and_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_device, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mechanisms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keygen_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_containers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_flags_from_counter, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pin_counter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keygen_sign_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_private_objects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_certificates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_imported_key_and_random, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_removed_by_tool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_fail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_fail_malformed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fault_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_kill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_atomic_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_latency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_state_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwrap, setup, teardown),
	};

	return cmocka_run_group_tests_name("softtoken", tests, group_setup,
					   group_teardown);
}
