/*
 * token.h - the token layer: a token library (PKCS#11 today, behind the
 * backend table of src/token/backend.h), its tokens, sessions, PIN login,
 * one snapshot of the certificates and key pairs, key generation and
 * signing, vendor profiles as data, and USB presence (libusb).
 *
 * Calls crypto/ and common/ only. Never prints; every failure is a gm_error
 * naming the token operation, what the API's code means, and what to do.
 * Nothing here is a PKCS#11 type: the layers above hold opaque references
 * (gm_token_ref) and gmrenew's own enums and flags.
 */
#ifndef GMRENEW_TOKEN_H
#define GMRENEW_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "gmrenew/common.h"
#include "gmrenew/crypto.h"

/* ---- Vendor profiles (docs/token-profiles.md) ---- */

#define GM_PROFILE_MAX_LIBS 8

/* Where a key object keeps its public point. */
typedef enum gm_pubkey_attr {
	GM_PUBKEY_EC_POINT = 1,	/* CKA_EC_POINT (DER OCTET STRING) + EC_PARAMS */
	GM_PUBKEY_MODULUS_XY,	/* CKA_MODULUS holding raw X||Y (FEITIAN) */
} gm_pubkey_attr;

/* How an SKF (GM/T 0016) library was built, and the ids it takes
 * (docs/skf.md): the ABI is the vendor's, so it is data. */
typedef struct gm_skf_abi {
	unsigned ulong_size;		/* bytes of ULONG: 8 FEITIAN x86-64, 4 */
	unsigned bool_size;		/* bytes of BOOL: 4, or 8 (long) */
	int packed;			/* structures #pragma pack(1) */
	unsigned long sm2_sign_alg;	/* SGD_SM2_1: 0x00020100 FEITIAN */
	unsigned long sm3_alg;		/* SGD_SM3: 0x00000001 */
	char application[33];		/* "" = the only one on the device */
} gm_skf_abi;

typedef struct gm_profile {
	char name[32];			/* "epass3000gm", "pkcs11-ec" */
	/* PKCS#11 numbers (CK_KEY_TYPE, CK_MECHANISM_TYPE) as data */
	unsigned long key_type;		/* CKK_SM2 0x80000200 / CKK_EC */
	unsigned long keygen_mechanism;	/* 0x80000201 / CKM_EC_KEY_PAIR_GEN */
	unsigned long sign_mechanism;	/* 0x80000202 / CKM_ECDSA */
	gm_sig_scheme scheme;		/* how the host prepares the digest */
	size_t sign_input_max;		/* 32: the token signs a digest */
	unsigned char ec_params[16];	/* DER curve OID for key generation */
	size_t ec_params_len;
	uint16_t usb_vendor;		/* 0x096E */
	uint16_t usb_product;		/* 0x0309; 0 = none */
	char libraries[GM_PROFILE_MAX_LIBS][256];	/* names or paths to try */
	size_t n_libraries;
	unsigned pin_max_tries;		/* 6 for FEITIAN; 0 = unknown */
	gm_pubkey_attr public_key;	/* where the public point is */
	gm_sig_format signature;	/* what C_Sign returns */
	unsigned long keygen_modulus_bits;	/* CKA_MODULUS_BITS sent; 0 = none */
	int keygen_ec_params;		/* send CKA_EC_PARAMS */
	unsigned long container_attr;	/* container name; 0 = none */
	unsigned long container_class;	/* class of container objects;
					 * 0 = the token has none */
	/* Identity (C_GetInfo / C_GetTokenInfo strings); "" = not used. */
	char module_manufacturer[33];
	char token_manufacturer[33];
	char token_model[17];
	gm_skf_abi skf;			/* the SKF side of the same driver */
	/* The double certificate's enveloped key through PKCS#11 (vendor
	 * mechanisms; 0 = this driver's PKCS#11 side cannot import it):
	 * C_UnwrapKey of the SM2-encrypted symmetric key with the new
	 * signing key, into a session secret key of envelope_key_type, then
	 * of the SM4-ECB-encrypted private key with that secret key. */
	unsigned long envelope_unwrap_sm2;
	unsigned long envelope_unwrap_sm4;
	unsigned long envelope_key_type;	/* CKK_GENERIC_SECRET default */
} gm_profile;

/* The profile names both unwrap mechanisms (docs/token-profiles.md). */
int gm_profile_unwraps(const gm_profile *p);

/* A built-in profile by name, with the config's [profile.NAME] keys applied;
 * a [profile.NAME] with "base = ..." defines a new one. */
int gm_profile_get(const char *name, const gm_config *cfg, gm_profile *out,
		   gm_error *err);
/* The names of the built-in profiles, NULL-terminated. */
const char *const *gm_profile_builtin_names(void);

/* ---- Modules ---- */

typedef struct gm_module gm_module;

typedef struct gm_module_info {
	char manufacturer[33];
	char description[33];
	unsigned cryptoki_major, cryptoki_minor;
	unsigned library_major, library_minor;
} gm_module_info;

/*
 * Which module to load: the command line's path, else the config file's,
 * else $GMRENEW_PKCS11_MODULE, else the first library of the profile's
 * list found in the usual places. Caller frees the result.
 */
char *gm_module_locate(const char *cli_path, const gm_config *cfg,
		       const gm_profile *profile, gm_error *err);
/* Loads the library through its backend (PKCS#11: dlopen, check
 * C_GetFunctionList, C_Initialize(CKF_OS_LOCKING_OK)). */
int gm_module_open(const char *path, gm_module **out, gm_error *err);
/* C_Finalize and dlclose; NULL-safe. */
void gm_module_close(gm_module *m);
const char *gm_module_path(const gm_module *m);
/* The backend's name: "pkcs11". */
const char *gm_module_api(const gm_module *m);
int gm_module_get_info(gm_module *m, gm_module_info *out, gm_error *err);

/* ---- Which interface of the library (docs/skf.md) ---- */

typedef enum gm_token_api {
	GM_API_AUTO = 0,	/* what the library exports */
	GM_API_PKCS11,
	GM_API_SKF,		/* GM/T 0016-2012 */
} gm_token_api;

/* "auto", "pkcs11" or "skf" (NULL: auto); where names the source in the
 * message (GM_EXIT_USAGE). */
int gm_token_api_parse(const char *text, const char *where,
		       gm_token_api *out, gm_error *err);
const char *gm_token_api_name(gm_token_api api);

typedef struct gm_api_choice {
	int pkcs11;		/* exports C_GetFunctionList */
	int skf;		/* 1: every SKF function gmrenew needs; -1 some;
				 * 0 none */
	char skf_missing[256];	/* the SKF functions missing (skf = -1) */
	gm_token_api used;	/* PKCS11 or SKF; AUTO until chosen */
	int detect;		/* both offered, auto, no profile named: the
				 * token's detected profile decides */
	char why[320];		/* why that one, in the user's words */
} gm_api_choice;

/* Looks at what the library at path exports and picks the interface:
 * want, if it offers it (else GM_EXIT_ENV naming what is missing); for
 * auto the one it offers, or, offering both, SKF for the epass3000gm
 * profile and PKCS#11 for any other. With both offered and no profile
 * named (profile NULL) it sets detect and, for now, PKCS#11:
 * gm_module_open_chosen decides by detection. Neither: GM_EXIT_ENV. */
int gm_token_api_choose(const char *path, gm_token_api want,
			const char *profile, gm_api_choice *out,
			gm_error *err);
/* Chooses the interface (gm_token_api_choose, cfg's profile) and opens
 * the library through it. When the library offers both, auto is asked
 * and no profile is named, the library is opened as PKCS#11 and its
 * profile detected as gm_profile_detect does (the module's identity,
 * else the tokens' identity, mechanisms, USB ids): epass3000gm takes
 * SKF (the PKCS#11 side is finalised again: C_Initialize, C_GetInfo,
 * C_Finalize), anything else keeps the PKCS#11 module opened, with the
 * detected profile kept for the token's detection. out->used stays AUTO
 * when no choice was made. */
int gm_module_open_chosen(const char *path, gm_token_api want,
			  const gm_config *cfg, gm_api_choice *out,
			  gm_module **module, gm_error *err);
/* What each device tells beyond gm_token_info, one line each (SKF: the
 * DEVINFO's firmware, DevAuthAlgId, space); none for PKCS#11. Caller
 * frees each line and the array. */
int gm_module_device_details(gm_module *m, char ***lines, size_t *n,
			     gm_error *err);
/* gm_module_open through the interface api (PKCS11 or SKF). */
int gm_module_open_api(const char *path, gm_token_api api, gm_module **out,
		       gm_error *err);

/* ---- Tokens ---- */

/* What the token says about itself (gm_token_info.flags). */
enum {
	GM_TOKEN_INITIALIZED = 1u << 0,
	GM_TOKEN_LOGIN_REQUIRED = 1u << 1,
	GM_TOKEN_PIN_PAD = 1u << 2,	/* protected authentication path */
	GM_TOKEN_WRITE_PROTECTED = 1u << 3,
};

typedef struct gm_token_info {
	unsigned long slot;		/* the backend's number of the slot */
	char label[33];			/* blank padding removed */
	char serial[17];		/* the "Ekey number" */
	char manufacturer[33];
	char model[17];
	unsigned flags;			/* GM_TOKEN_* */
	char *uri;			/* RFC 7512, made by p11-kit; owned */
} gm_token_info;

/* Every slot with a token present; caller frees with gm_token_infos_free. */
int gm_module_tokens(gm_module *m, gm_token_info **out, size_t *n,
		     gm_error *err);
void gm_token_infos_free(gm_token_info *infos, size_t n);
void gm_token_info_release(gm_token_info *info);

/*
 * Exactly one token: the one matching uri (RFC 7512, parsed by p11-kit),
 * or the only one present. None, several, or a bad URI: GM_EXIT_ENV (bad URI:
 * GM_EXIT_USAGE), saying which tokens are there. Caller releases out.
 */
int gm_token_select(gm_module *m, const char *uri, gm_token_info *out,
		    gm_error *err);

/* The profile that fits the token when none was named: by the module's and
 * the token's identity (C_GetInfo, C_GetTokenInfo), then by the key
 * generation mechanism offered (a hint), then by a device of the
 * profile's USB ids on a module that lists no mechanisms; else
 * "pkcs11-ec". */
int gm_profile_detect(gm_module *m, const gm_token_info *t,
		      const gm_config *cfg, gm_profile *out, gm_error *err);

/* ---- Sessions and PIN ---- */

typedef struct gm_session gm_session;

int gm_session_open(gm_module *m, const gm_token_info *t, int read_write,
		    gm_session **out, gm_error *err);
/* Logs out when logged in, closes; NULL-safe. */
void gm_session_close(gm_session *s);

typedef struct gm_pin_state {
	int count_low;		/* CKF_USER_PIN_COUNT_LOW */
	int final_try;		/* CKF_USER_PIN_FINAL_TRY */
	int locked;		/* CKF_USER_PIN_LOCKED */
	int pin_pad;		/* CKF_PROTECTED_AUTHENTICATION_PATH */
	unsigned long min_len, max_len;
	int tries_left;		/* exact count where the API tells it
				 * (SKF_GetPINInfo); -1 = unknown (PKCS#11) */
} gm_pin_state;

/* Reads the token's PIN flags afresh (C_GetTokenInfo). */
int gm_session_pin_state(gm_session *s, gm_pin_state *out, gm_error *err);
/*
 * C_Login(CKU_USER). The caller wipes the PIN. Failures are GM_EXIT_PIN
 * (incorrect, locked, length) with the token's retry state in the message,
 * or GM_EXIT_ENV when the token went away.
 */
int gm_session_login(gm_session *s, const char *pin, size_t pin_len,
		     gm_error *err);
int gm_session_logged_in(const gm_session *s);
/* The profile whose data the session's object calls follow (where public
 * keys are, container names); not copied, it must outlive the session.
 * Without one: CKA_EC_POINT, no container names. */
void gm_session_set_profile(gm_session *s, const gm_profile *p);
/* How many wrong PINs lock the token (the profile's pin_max_tries), so that
 * a failed login can say how many tries are left; 0 = unknown (default). */
void gm_session_set_pin_tries(gm_session *s, unsigned tries);

/* The container name of the key pair with id: "{GUID}" (38 characters),
 * the GUID being the 16-byte id (other lengths: the first 16 bytes of
 * SHA-256(id)), upper-case hex. buf holds at least 39 bytes. */
void gm_container_name(const unsigned char *id, size_t id_len, char *buf,
		       size_t size);

/* ---- The snapshot: what is on the token, read once per run ---- */

/*
 * A backend's name for a certificate or a key pair on the token (PKCS#11
 * object handles, an SKF container), meaningful to the token layer only and
 * valid while the session that read it is open. All zeros: none.
 */
typedef struct gm_token_ref {
	unsigned kind;			/* GM_REF_*; 0 = none */
	uint64_t a, b;			/* the backend's */
} gm_token_ref;

enum { GM_REF_NONE = 0, GM_REF_CERT = 1, GM_REF_KEYPAIR = 2 };

int gm_token_ref_is_none(gm_token_ref r);

/* Which objects of a key pair the token showed. */
enum {
	GM_KEYPAIR_PUBLIC = 1u << 0,	/* a public key object */
	GM_KEYPAIR_PRIVATE = 1u << 1,	/* a private key (seen after login,
					 * or listed without it) */
};

/* A certificate's private key as seen on the token: a private key with the
 * certificate's public key; none (while private keys are visible: logged
 * in, or the token lists them without login); or unknown (only a public key
 * object with that public key can be seen without the PIN). */
typedef enum gm_key_state {
	GM_KEY_MISSING = 0,
	GM_KEY_FOUND = 1,
	GM_KEY_UNKNOWN = 2,
} gm_key_state;

typedef struct gm_snapshot_key {
	gm_token_ref ref;		/* the pair, for sign/destroy/relabel */
	unsigned parts;			/* GM_KEYPAIR_* */
	unsigned char *id;		/* CKA_ID (SKF: none); owned */
	size_t id_len;
	char *label;			/* owned, may be "" */
	char *container;		/* container name; owned, may be "" */
	EVP_PKEY *pubkey;		/* owned; NULL if unreadable */
	int role;			/* GM_ROLE_*: SKF's signing or
					 * encryption pair of a container;
					 * an encryption pair cannot sign */
} gm_snapshot_key;

typedef struct gm_snapshot_cert {
	gm_token_ref ref;
	unsigned char *id;		/* CKA_ID; owned */
	size_t id_len;
	char *label;			/* owned, may be "" */
	char *container;		/* owned, may be "" */
	unsigned char *der;		/* owned; NULL if unreadable */
	size_t der_len;
	int parsed;			/* facts are valid */
	gm_cert_facts facts;
	char problem[GM_ERR_MSG_MAX];	/* why not parsed ("" if der NULL) */
	long key;			/* index in keys of its key pair
					 * (same public key), -1 if none */
	gm_key_state key_state;
	int role;			/* GM_ROLE_*: SKF's flag, else the
					 * certificate's keyUsage */
	long partner;			/* index of the other certificate of
					 * its double-certificate pair (same
					 * container, same subject), -1 */
} gm_snapshot_cert;

typedef struct gm_token_snapshot {
	gm_snapshot_cert *certs;	/* in the token's order */
	size_t n_certs;
	gm_snapshot_key *keys;
	size_t n_keys;
	int private_visible;		/* private keys could be seen */
} gm_token_snapshot;

/*
 * Reads every certificate and key pair of the session (after login when a
 * PIN is available, so that the private keys are seen), parses the
 * certificates and pairs them with their keys (gm_token_snapshot_pair).
 * A certificate that cannot be read or parsed is kept with its problem; a
 * failed token call is an error (never taken for a missing key).
 */
int gm_token_snapshot_read(gm_session *s, gm_token_snapshot *out,
			   gm_error *err);
void gm_token_snapshot_release(gm_token_snapshot *snap);	/* NULL-safe */
/* After login, a snapshot read before it (to show the certificates before
 * asking for the PIN) made whole: the private keys it could not see are
 * added and every certificate paired again; the certificates are not read
 * again. Nothing to do when it saw them already. */
int gm_token_snapshot_complete(gm_session *s, gm_token_snapshot *snap,
			       gm_error *err);
/* The one pairing rule: a certificate's key pair is the key whose public
 * key equals the certificate's (exact comparison), one with a private key
 * first; sets key and key_state of every certificate. */
void gm_token_snapshot_pair(gm_token_snapshot *snap);
/* Index of the certificate with this SHA-256 fingerprint (hex), or -1. */
long gm_snapshot_find_cert(const gm_token_snapshot *snap, const char *sha256);
/* The one pairing rule for any public key (a certificate on the token or
 * one the CA just issued): GM_KEY_FOUND with a private key, GM_KEY_UNKNOWN
 * when only a public key object has it and private keys cannot be seen,
 * else GM_KEY_MISSING; *key (may be NULL) gets the key pair's index or -1. */
gm_key_state gm_snapshot_key_of(const gm_token_snapshot *snap,
				const EVP_PKEY *pub, long *key);
/* What this process itself put on the token, added without reading it
 * again (copies are made) and paired. */
void gm_snapshot_add_key(gm_token_snapshot *snap, const gm_snapshot_key *k);
int gm_snapshot_add_cert(gm_token_snapshot *snap, gm_token_ref ref,
			 const gm_snapshot_key *key, const char *label,
			 const unsigned char *der, size_t der_len,
			 gm_error *err);
void gm_snapshot_key_release(gm_snapshot_key *k);	/* NULL-safe */

/* ---- Keys, signing and writing, through the session's backend ---- */

/* A new signing key pair with id and label (needs login), plus what the
 * profile adds (container name from gm_container_name). */
int gm_token_new_keypair(gm_session *s, const unsigned char *id,
			 size_t id_len, const char *label,
			 gm_snapshot_key *out, gm_error *err);
/* Signs a 32-byte digest with key pair key; DER, OPENSSL_free. */
int gm_token_sign(gm_session *s, gm_token_ref key,
		  const unsigned char digest[GM_DIGEST_LEN],
		  unsigned char **sig, size_t *sig_len, gm_error *err);
/* gm_sign_fn adaptor: pass a gm_key_signer as the callback's context. */
typedef struct gm_key_signer {
	gm_session *session;
	gm_token_ref key;
} gm_key_signer;
int gm_key_sign_cb(void *signer, const unsigned char digest[GM_DIGEST_LEN],
		   unsigned char **sig, size_t *sig_len, gm_error *err);
/* Stores a certificate next to its key pair; *out names it. */
int gm_token_store_cert(gm_session *s, const gm_snapshot_key *key,
			const char *label, const unsigned char *der,
			size_t der_len, gm_token_ref *out, gm_error *err);
/* The stored certificate's DER, read again; caller frees *der. */
int gm_token_read_cert(gm_session *s, gm_token_ref cert, unsigned char **der,
		       size_t *der_len, gm_error *err);
/* Removes a certificate or a key pair (SKF: a key pair's container goes
 * as a whole, its certificates with it). */
int gm_token_remove(gm_session *s, gm_token_ref obj, gm_error *err);
/* Renames a certificate or a key pair; GM_EXIT_FAILED where the API cannot
 * rename (gm_session_can_relabel). */
int gm_token_relabel(gm_session *s, gm_token_ref obj, const char *label,
		     gm_error *err);
int gm_session_can_relabel(const gm_session *s);

/* ---- Double certificates: the encryption pair a CA's KMC delivers ----
 *
 * The enveloped key of GM/T 0016 (SKF ENVELOPEDKEYBLOB) in the wire form
 * of docs/protocol.md section 3.8: the private key SM4-encrypted, the SM4
 * key SM2-encrypted to the signing public key of the container it goes
 * into. The host passes it through: only the token can open it. */
typedef struct gm_enveloped_key {
	unsigned long version;		/* 1 */
	unsigned long sym_alg_id;	/* SGD_SM4_ECB 0x00000401 */
	unsigned long bits;		/* 256 */
	unsigned char enc_priv[32];	/* SM4-ECB(key, d) */
	unsigned char pub[65];		/* 04 || X || Y */
	unsigned char cipher[113];	/* C1 || C3 || C2 */
} gm_enveloped_key;

#define GM_SGD_SM4_ECB 0x00000401UL

/* Whether the session's API can import an enveloped key (SKF can;
 * PKCS#11 when the profile names the unwrap mechanisms, gm_profile_unwraps,
 * and has containers). */
int gm_session_can_import_envelope(const gm_session *s);
/* Whether removing a key pair removes its whole container, the other pair
 * and both certificates with it (SKF); else each object goes alone. */
int gm_session_removes_containers(const gm_session *s);
/* The encryption pair with public key pub in the container of signing
 * pair key, as a snapshot lists it (role GM_ROLE_ENCRYPTION; pub is
 * referenced, not copied); caller releases out. */
int gm_token_enc_pair(gm_session *s, const gm_snapshot_key *key,
		      EVP_PKEY *pub, gm_snapshot_key *out, gm_error *err);
/* Imports env into the container of signing pair key (SKF_ImportECCKeyPair;
 * PKCS#11: two C_UnwrapKey and the public key object; needs login) and
 * gives the encryption public key the token reports for it afterwards
 * (SKF_ExportPublicKey(FALSE); PKCS#11: read back) in *token_pub. A
 * refused envelope is GM_EXIT_SERVICE with GM_REASON_ENCRYPTION_PART: the
 * token could not open it with the key it was addressed to, and nothing
 * of the encryption pair stays. */
int gm_token_import_envelope(gm_session *s, const gm_snapshot_key *key,
			     const gm_enveloped_key *env, EVP_PKEY **token_pub,
			     gm_error *err);
/* Stores the encryption certificate in the container of signing pair key
 * (SKF_ImportCertificate(FALSE)); *out names it. */
int gm_token_store_enc_cert(gm_session *s, const gm_snapshot_key *key,
			    const unsigned char *der, size_t der_len,
			    gm_token_ref *out, gm_error *err);
/* What the container of signing pair key holds of an encryption pair:
 * the certificate (*der NULL when none; caller frees) and the public key
 * (*pub NULL when none; caller frees). */
int gm_token_read_encryption(gm_session *s, const gm_snapshot_key *key,
			     unsigned char **der, size_t *der_len,
			     EVP_PKEY **pub, gm_error *err);

/* ---- USB presence ---- */

typedef struct gm_usb_device {
	uint8_t bus;
	uint8_t address;
	uint16_t vendor;
	uint16_t product;
	int can_open;			/* 1 when this user may open it */
	int denied;			/* 1: permission denied */
	char node[64];			/* /dev/bus/usb/BBB/DDD */
	char problem[128];		/* why it cannot be opened */
} gm_usb_device;

/* Devices matching vendor:product on the USB bus. No USB bus at all is not
 * an error (n = 0). Caller frees *out. */
int gm_usb_scan(uint16_t vendor, uint16_t product, gm_usb_device **out,
		size_t *n, gm_error *err);

/* libusb's hotplug events for vendor:product (product 0: any). NULL when
 * this machine gives none (no USB bus, no hotplug support): then the
 * caller polls. */
typedef struct gm_usb_watch gm_usb_watch;
gm_usb_watch *gm_usb_watch_open(uint16_t vendor, uint16_t product);
/* Waits up to ms for devices to arrive or leave; returns how many events
 * came (0 on timeout or a signal), counted in *arrived and *left. */
int gm_usb_watch_wait(gm_usb_watch *w, long ms, int *arrived, int *left);
void gm_usb_watch_close(gm_usb_watch *w);

#endif
