/* st_common.h - shared definitions of the soft ePass3000GM test fixture.
 *
 * The soft token is a PKCS#11 module used only by the tests. It emulates
 * what gmrenew sees of a FEITIAN ePass3000GM through PKCS#11; see
 * docs/softtoken.md. Functions return CK_RV values throughout, so that the
 * module can pass them on and the tool can print them by name.
 */
#ifndef GMSOFT_COMMON_H
#define GMSOFT_COMMON_H

#include <stddef.h>
#include <p11-kit/pkcs11.h>

/* FEITIAN's vendor constants (shared/reference/feitian-driver.md). */
#define GMSOFT_CKK_SM2 0x80000200UL
#define GMSOFT_CKM_SM2_KEY_PAIR_GEN 0x80000201UL
#define GMSOFT_CKM_SM2_SIGN 0x80000202UL
#define GMSOFT_CKM_SM2_VERIFY 0x80000203UL
/* GMSOFT_UNWRAP's mechanisms (st_unwrap.c); the fixture's numbers, as a
 * driver with unwrap would define its own. */
#define GMSOFT_CKM_SM2_UNWRAP 0x80000206UL
#define GMSOFT_CKM_SM4_ECB_UNWRAP 0x80000402UL
/* The container name on keys, certificates and containers: a string with
 * its NUL, the NUL counted in the length. */
#define GMSOFT_CKA_CONTAINER_NAME 0x80455053UL
/* The class of container objects; their CKA_VALUE lists their objects. */
#define GMSOFT_CKO_CONTAINER 0x8043544EUL
#define GMSOFT_CONTAINER_NAME_MAX 64

#define GMSOFT_PIN_TRIES 6
#define GMSOFT_PIN_MIN 4
#define GMSOFT_PIN_MAX 16
#define GMSOFT_SM2_DIGEST_MAX 32
/* r||s as OpenSSL gives it, and the driver's answer: an SKF
 * ECCSIGNATUREBLOB, r and s each right-aligned in 64 bytes. */
#define GMSOFT_SM2_SIG_LEN 64
#define GMSOFT_SM2_BLOB_LEN 128
#define GMSOFT_SM2_POINT_LEN 65
/* CKA_MODULUS of an SM2 key: X||Y, no 04 prefix. */
#define GMSOFT_SM2_XY_LEN 64

/* What FEITIAN's library reports (C_GetInfo, C_GetSlotInfo,
 * C_GetTokenInfo). */
#define GMSOFT_LIB_MANUFACTURER "Feitian Technologies Co., Ltd."
#define GMSOFT_LIB_DESCRIPTION "EnterSafe PKCS#11 Library."
#define GMSOFT_SLOT_MANUFACTURER "Feitian Technologies Co., Ltd."
#define GMSOFT_DEFAULT_MANUFACTURER "EnterSafe USB Key"
#define GMSOFT_DEFAULT_MODEL "ePass3000GM"
/* The Ekey number: 16 upper-case hex digits. */
#define GMSOFT_SERIAL_LEN 16

/* DER of the sm2p256v1 OID 1.2.156.10197.1.301. */
extern const unsigned char gmsoft_sm2_oid_der[10];

/* Names of return values: "CKR_OK", or "0x%08lx" for unknown ones. The
 * string lives in a static table or in buf (at least 24 bytes). */
const char *gmsoft_rv_name(CK_RV rv, char *buf, size_t buflen);
/* Parse "CKR_DEVICE_ERROR", "0x30" or "48". Returns 0 on success. */
int gmsoft_rv_parse(const char *text, CK_RV *rv);

/* Attribute names, for the on-disk format and the tool. */
const char *gmsoft_attr_name(CK_ATTRIBUTE_TYPE type);
int gmsoft_attr_parse(const char *text, CK_ATTRIBUTE_TYPE *type);

/* Lower-case hex of len bytes into out (2 * len + 1 bytes). */
void gmsoft_hex_encode(const unsigned char *in, size_t len, char *out);
/* Decode hex; caller frees *out. Returns 0, or -1 on bad input. */
int gmsoft_hex_decode(const char *hex, unsigned char **out, size_t *len);

/* Copy a string into a blank-padded PKCS#11 text field. */
void gmsoft_pad(unsigned char *field, size_t size, const char *text);

#endif
