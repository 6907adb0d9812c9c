/*
 * skf_internal.h - the SKF backend's parts, shared by the files of
 * src/token/skf/ (and the unit tests): the loaded library, a device, its
 * application, its containers, and the marshalling at the profile's ABI.
 */
#ifndef GMRENEW_SKF_INTERNAL_H
#define GMRENEW_SKF_INTERNAL_H

#include "../token_internal.h"
#include "skf_api.h"

/* Logs one SKF call's result at -v: "SKF_VerifyPIN: SAR_OK"; rv is
 * evaluated once (it is often the call itself). */
#define gm_skf_log(call, rv) gm_skf_log_rv((call), (rv))

/* ---- SAR_* codes as words (skf_sar.c) ---- */

const char *gm_sar_name(skf_rv rv);	/* "SAR_PIN_INCORRECT", "0x..." */
const char *gm_sar_meaning(skf_rv rv);	/* a sentence */
const char *gm_sar_fix(skf_rv rv);	/* what to do, or "" */
gm_exit gm_sar_exit(skf_rv rv);
int gm_sar_is_gone(skf_rv rv);
/* The typed reason of a SAR code: PIN_INCORRECT, PIN_LOCKED and
 * TOKEN_REMOVED as PKCS#11's equivalents, GM_REASON_SKF for the rest. */
gm_reason gm_sar_reason(skf_rv rv);
/* "<operation> failed: <meaning> (<name>)", the fix, the exit code;
 * err->detail = rv. Returns -1. */
int gm_sar_fail(gm_error *err, skf_rv rv, const char *operation);
void gm_skf_log_rv(const char *call, skf_rv rv);

/* ---- Values at the library's widths (skf_abi.c) ---- */

/* Storage for one ULONG or BOOL out-parameter: 8 zeroed bytes. */
typedef union skf_cell {
	unsigned char b[8];
	uint64_t align;
} skf_cell;

uint64_t gm_skf_get(const unsigned char *p, unsigned size);
void gm_skf_put(unsigned char *p, unsigned size, uint64_t v);
/* The ULONG in a cell, at the ABI's width. */
uint64_t gm_skf_cell_ulong(const gm_skf_abi *abi, const skf_cell *c);
/* A BOOL cell: any non-zero byte of its width. */
int gm_skf_cell_bool(const gm_skf_abi *abi, const skf_cell *c);
void gm_skf_cell_set(const gm_skf_abi *abi, skf_cell *c, uint64_t v);
/* A returned SAR code, masked to the ABI's ULONG width. */
skf_rv gm_skf_rv(const gm_skf_abi *abi, skf_rv rv);

/* The names of a NUL-separated list of size bytes (double NUL at the end,
 * or not): never read past size; an empty name ends the list. Caller
 * frees with gm_skf_names_free. */
int gm_skf_names_parse(const char *buf, size_t size, char ***names,
		       size_t *n);
void gm_skf_names_free(char **names, size_t n);

typedef struct gm_skf_devinfo {
	unsigned version_major, version_minor;
	char manufacturer[65];
	char issuer[65];
	char label[33];
	char serial[33];		/* the Ekey number */
	unsigned hw_major, hw_minor, fw_major, fw_minor;
	int have_numbers;		/* the ULONG fields were read */
	uint64_t alg_sym, alg_asym, alg_hash, dev_auth_alg;
	uint64_t total_space, free_space;
} gm_skf_devinfo;

/* DEVINFO from a buffer of SKF_DEVINFO_BUF bytes, strings bounded, the
 * ULONG fields where the ABI's width and packing put them. */
void gm_skf_devinfo_parse(const gm_skf_abi *abi, const unsigned char *buf,
			  gm_skf_devinfo *out);

/* An ECCPUBLICKEYBLOB (BitLen 256, coordinates right-aligned) as an SM2
 * public key; NULL with err when the blob is malformed. */
EVP_PKEY *gm_skf_pubblob_key(const unsigned char *blob, size_t len,
			     gm_error *err);
/* An SM2 public key as an ECCPUBLICKEYBLOB of SKF_ECC_PUBBLOB_LEN bytes. */
int gm_skf_key_pubblob(EVP_PKEY *pub, unsigned char *blob, gm_error *err);

/* ---- The library (skf_lib.c) ---- */

typedef struct gm_skf_lib {
	void *dl;
	char *path;			/* owned */
	gm_skf_abi abi;
	skf_functions f;
	int has_digest;			/* DigestInit, Digest, CloseHandle */
} gm_skf_lib;

/* Which APIs a library exports: C_GetFunctionList (*pkcs11) and the SKF
 * functions gmrenew needs (*skf: 1 all, 0 none; -1 some, with the first
 * missing name in missing). Loads it (never unloaded). */
int gm_skf_exports(const char *path, int *pkcs11, int *skf, char *missing,
		   size_t missing_size, gm_error *err);
/* dlopen, and resolve every function needed: a missing one is GM_EXIT_ENV
 * naming it. */
int gm_skf_lib_open(const char *path, const gm_skf_abi *abi,
		    gm_skf_lib **out, gm_error *err);
/* dlopen, and resolve what reading the PIN counter needs (devices, their
 * application, SKF_GetPINInfo); the other functions may be NULL: only
 * for gm_skf_peek_pin. */
int gm_skf_lib_open_pin_reader(const char *path, const gm_skf_abi *abi,
			       gm_skf_lib **out, gm_error *err);
void gm_skf_lib_close(gm_skf_lib *lib);	/* NULL-safe; never dlclose */

/* ---- Devices, applications, containers (skf_dev.c) ---- */

#define SKF_CONTAINERS_KEPT 2

typedef struct gm_skf_dev {
	gm_skf_lib *lib;		/* not owned */
	skf_handle h;
	char *name;			/* as SKF_EnumDev gave it; owned */
	gm_skf_devinfo info;
	skf_handle app;			/* NULL until opened */
	char *app_name;			/* owned */
	int logged_in;
	/* the two containers last opened (a renewal's old and new ones),
	 * kept open until a third is opened, one is deleted or the device
	 * is closed: each open and close is a call on the Ekey */
	skf_handle con[SKF_CONTAINERS_KEPT];	/* NULL: none */
	char con_name[SKF_CONTAINERS_KEPT][SKF_NAME_MAX + 1];
	unsigned con_last;		/* the slot used last */
	/* the container deleted last (a certificate and its key live in one
	 * container: removing the second finds it gone, with no call) */
	char deleted[SKF_NAME_MAX + 1];
	/* the user PIN's tries left as SKF_GetPINInfo gave them, until the
	 * next SKF_VerifyPIN */
	uint64_t pin_remaining;
	int pin_known;
} gm_skf_dev;

/* The names of the devices present (SKF_EnumDev(TRUE)). */
int gm_skf_enum_devices(gm_skf_lib *lib, char ***names, size_t *n,
			gm_error *err);
/* SKF_ConnectDev and SKF_GetDevInfo. */
int gm_skf_dev_open(gm_skf_lib *lib, const char *name, gm_skf_dev **out,
		    gm_error *err);
/* Clears the PIN state, closes the application, disconnects; NULL-safe. */
void gm_skf_dev_close(gm_skf_dev *d);
/* Opens the profile's application, else the only one (several: the first,
 * named in the log). */
int gm_skf_app_open(gm_skf_dev *d, gm_error *err);
/* The named container of the open application (opened first if needed);
 * SAR_OK, else the code with err set. Closed by gm_skf_con_close. */
skf_rv gm_skf_con_open(gm_skf_dev *d, const char *name, skf_handle *h,
		       gm_error *err);
/* Done with h: a container kept open stays open (see con above). */
void gm_skf_con_close(gm_skf_dev *d, skf_handle h);
/* Closes the containers kept open; name: only that one (NULL: all). */
void gm_skf_con_release(gm_skf_dev *d, const char *name);

typedef struct gm_skf_pin {
	uint64_t max_tries, remaining;
	int is_default;
} gm_skf_pin;

int gm_skf_pin_info(gm_skf_dev *d, gm_skf_pin *out, gm_error *err);
/* The PIN state as the PKCS#11 side words it (locked, final try, count
 * low), from SKF_GetPINInfo. */
int gm_skf_pin_state(gm_skf_dev *d, gm_pin_state *out, gm_error *err);
/* SKF_GetPINInfo first, unless gm_skf_pin_info read it since the last PIN
 * sent (a locked PIN is refused without sending it), then
 * SKF_VerifyPIN with the user PIN; a wrong PIN's message says how many
 * tries are left (pulRetryCount). The caller wipes the PIN. */
int gm_skf_login(gm_skf_dev *d, const char *pin, size_t pin_len,
		 gm_error *err);

typedef struct gm_skf_container {
	char name[SKF_NAME_MAX + 1];
	uint64_t type;			/* SKF_CONTAINER_* */
	unsigned char *cert;		/* signing certificate; owned, NULL */
	size_t cert_len;
	EVP_PKEY *pub;			/* signing public key; owned, NULL */
	unsigned char *enc_cert;	/* encryption certificate; owned, NULL */
	size_t enc_cert_len;
	EVP_PKEY *enc_pub;		/* encryption public key (read when
					 * there is an encryption
					 * certificate); owned, NULL */
} gm_skf_container;

/* Every container of the application, with its signing certificate and
 * public key (when there are). Caller frees with gm_skf_containers_free. */
int gm_skf_containers(gm_skf_dev *d, gm_skf_container **out, size_t *n,
		      gm_error *err);
void gm_skf_containers_free(gm_skf_container *c, size_t n);
/* Frees what one container read holds. */
/* One certificate of the named container (sign: the signing one, else
 * the encryption one); 1 when there is none. */
int gm_skf_cert_read(gm_skf_dev *d, const char *name, int sign,
		     unsigned char **der, size_t *der_len, gm_error *err);
void gm_skf_container_clear(gm_skf_container *c);
/* A container's certificate or public key (sign 1: the signing pair's,
 * 0: the encryption pair's), on an open container handle; 1 when there
 * is none (the caller frees what it gets). */
int gm_skf_export_cert(gm_skf_dev *d, skf_handle h, int sign,
		       unsigned char **der, size_t *der_len, gm_error *err);
int gm_skf_export_pub(gm_skf_dev *d, skf_handle h, int sign, EVP_PKEY **pub,
		      gm_error *err);

/* ---- What a renewal changes (skf_ops.c) ---- */

/* A new container with a new SM2 signing pair (needs login). */
int gm_skf_create_keypair(gm_skf_dev *d, const char *name, EVP_PKEY **pub,
			  gm_error *err);
/* SKF_ECCSignData over a 32-byte digest; the signature as DER (caller
 * frees with OPENSSL_free). */
int gm_skf_sign(gm_skf_dev *d, const char *container,
		const unsigned char digest[GM_DIGEST_LEN], unsigned char **der,
		size_t *der_len, gm_error *err);
int gm_skf_import_cert(gm_skf_dev *d, const char *container,
		       const unsigned char *der, size_t der_len, gm_error *err);
int gm_skf_delete_container(gm_skf_dev *d, const char *container,
			    gm_error *err);

/* ---- Double certificates (skf_envelope.c) ---- */

/* The ENVELOPEDKEYBLOB of env at the ABI's widths and packing, in buf
 * (zeroed, SKF_ENVELOPE_BUF bytes); its length in *len. */
#define SKF_ENVELOPE_BUF 1024
void gm_skf_envelope_blob(const gm_skf_abi *abi, const gm_enveloped_key *env,
			  unsigned char *buf, size_t *len);
/* SKF_ImportECCKeyPair into the container, then its encryption public key
 * as the token reports it (SKF_ExportPublicKey(FALSE)). */
int gm_skf_import_envelope(gm_skf_dev *d, const char *container,
			   const gm_enveloped_key *env, EVP_PKEY **pub,
			   gm_error *err);
/* SKF_ImportCertificate(FALSE). */
int gm_skf_import_enc_cert(gm_skf_dev *d, const char *container,
			   const unsigned char *der, size_t der_len,
			   gm_error *err);
/* The container's encryption certificate and public key (NULL: none). */
int gm_skf_read_encryption(gm_skf_dev *d, const char *container,
			   unsigned char **der, size_t *der_len,
			   EVP_PKEY **pub, gm_error *err);
/* e = SM3(Z || msg) as the device computes it (SKF_DigestInit with the
 * public key and the default ID); for cross-checks. */
int gm_skf_device_digest(gm_skf_dev *d, EVP_PKEY *pub,
			 const unsigned char *msg, size_t msg_len,
			 unsigned char out[GM_DIGEST_LEN], gm_error *err);

#endif
