/* st_skf_int.h - the SKF side of the soft ePass3000GM: handles and the
 * operations behind the SKF_ entry points (st_skf.c). Every operation
 * runs with the module mutex held, as the PKCS#11 ones do, and works on
 * the same store (st_store.h): a device is a slot with its token in, its
 * one application the token, a container the object of class
 * GMSOFT_CKO_CONTAINER, and its keys and certificates the objects that
 * carry its CKA_CONTAINER_NAME. */
#ifndef GMSOFT_SKF_INT_H
#define GMSOFT_SKF_INT_H

#include "st_internal.h"
#include "st_skf.h"

/* What the fixture answers where the driver's value is unknown. */
#define GMSOFT_SKF_DEV_PREFIX "ES3000GM VCR "
#define GMSOFT_SKF_APP_NAME "ENTERSAFE-ESPK"
#define GMSOFT_SKF_PIN_MIN 6
#define GMSOFT_SKF_PIN_MAX 16
#define GMSOFT_SKF_CERT_MAX 8192
/* Fixture attribute on certificates written through SKF: 1 = the
 * container's signing certificate, 0 = its encryption certificate. */
#define GMSOFT_CKA_SKF_SIGN_CERT 0x80534B46UL

enum gmsoft_skf_kind {
	SKF_KIND_FREE,
	SKF_KIND_DEV,
	SKF_KIND_APP,
	SKF_KIND_CON,
	SKF_KIND_HASH
};

struct gmsoft_skf_handle {
	enum gmsoft_skf_kind kind;
	struct gmsoft_skf_handle *parent; /* app: its device; con: its app */
	CK_SLOT_ID slot;
	int gone;                /* device: removed since connected */
	char name[GMSOFT_CONTAINER_NAME_MAX + 1]; /* container */
	void *md;                /* hash: an EVP_MD_CTX, owned */
};

/* A new handle of that kind (NULL: table full). */
struct gmsoft_skf_handle *gmsoft_skf_new(enum gmsoft_skf_kind kind,
					 struct gmsoft_skf_handle *parent);
/* Release h and every handle below it. */
void gmsoft_skf_free(struct gmsoft_skf_handle *h);
/* The handle behind p if it is a live handle of that kind, else NULL. */
struct gmsoft_skf_handle *gmsoft_skf_get(const void *p,
					 enum gmsoft_skf_kind kind);
/* Check the device under h is still there: SAR_DEVICE_REMOVED once it
 * was pulled out (then for good for this handle); the state directory is
 * set up first. t (may be NULL) receives the token. */
ULONG gmsoft_skf_present(struct gmsoft_skf_handle *h, struct gmsoft_token *t);
/* Resolve a handle of kind k and check its device: *out, or the error. */
ULONG gmsoft_skf_open(const void *p, enum gmsoft_skf_kind k,
		      struct gmsoft_skf_handle **out);
/* Set up the state directory for SKF calls (no C_Initialize). */
ULONG gmsoft_skf_setup(void);

/* The security state of the application on slot: SKF_USER_TYPE,
 * SKF_ADMIN_TYPE or -1. */
int gmsoft_skf_login(CK_SLOT_ID slot);
void gmsoft_skf_login_set(CK_SLOT_ID slot, int user);

/* Multi-string answer (names NUL-separated, a second NUL at the end; no
 * name: size 0) with the size query and SAR_BUFFER_TOO_SMALL. */
ULONG gmsoft_skf_names_out(const char *const *names, size_t n, LPSTR out,
			   ULONG *size);
/* Byte answer with the size query and SAR_BUFFER_TOO_SMALL. */
ULONG gmsoft_skf_bytes_out(const void *data, size_t len, BYTE *out,
			   ULONG *size);
/* A CK_RV of the store as a SAR_ value. */
ULONG gmsoft_skf_sar(CK_RV rv);

/* Operations (st_skf_dev.c, st_skf_con.c, st_skf_key.c); the names
 * follow the SKF_ functions. */
ULONG gmsoft_skf_enum_dev(BOOL present, LPSTR list, ULONG *size);
ULONG gmsoft_skf_connect_dev(LPSTR name, DEVHANDLE *h);
ULONG gmsoft_skf_disconnect_dev(DEVHANDLE h);
ULONG gmsoft_skf_get_dev_state(LPSTR name, ULONG *state);
ULONG gmsoft_skf_set_label(DEVHANDLE h, LPSTR label);
ULONG gmsoft_skf_get_dev_info(DEVHANDLE h, DEVINFO *info);
ULONG gmsoft_skf_lock_dev(DEVHANDLE h);
ULONG gmsoft_skf_enum_application(DEVHANDLE h, LPSTR list, ULONG *size);
ULONG gmsoft_skf_open_application(DEVHANDLE h, LPSTR name, HAPPLICATION *app);
ULONG gmsoft_skf_close_application(HAPPLICATION h);
ULONG gmsoft_skf_get_pin_info(HAPPLICATION h, ULONG type, ULONG *max,
			      ULONG *remain, BOOL *dflt);
ULONG gmsoft_skf_verify_pin(HAPPLICATION h, ULONG type, LPSTR pin,
			    ULONG *retry);
ULONG gmsoft_skf_change_pin(HAPPLICATION h, ULONG type, LPSTR old, LPSTR pin,
			    ULONG *retry);
ULONG gmsoft_skf_unblock_pin(HAPPLICATION h, LPSTR admin, LPSTR pin,
			     ULONG *retry);
ULONG gmsoft_skf_clear_secure_state(HAPPLICATION h);
ULONG gmsoft_skf_gen_random(DEVHANDLE h, BYTE *buf, ULONG len);

ULONG gmsoft_skf_enum_container(HAPPLICATION h, LPSTR list, ULONG *size);
ULONG gmsoft_skf_create_container(HAPPLICATION h, LPSTR name, HCONTAINER *con);
ULONG gmsoft_skf_delete_container(HAPPLICATION h, LPSTR name);
ULONG gmsoft_skf_open_container(HAPPLICATION h, LPSTR name, HCONTAINER *con);
ULONG gmsoft_skf_close_container(HCONTAINER h);
ULONG gmsoft_skf_get_container_type(HCONTAINER h, ULONG *type);
ULONG gmsoft_skf_import_certificate(HCONTAINER h, BOOL sign, BYTE *cert,
				    ULONG len);
ULONG gmsoft_skf_export_certificate(HCONTAINER h, BOOL sign, BYTE *cert,
				    ULONG *len);

ULONG gmsoft_skf_gen_ecc_key_pair(HCONTAINER h, ULONG alg,
				  ECCPUBLICKEYBLOB *blob);
ULONG gmsoft_skf_export_public_key(HCONTAINER h, BOOL sign, BYTE *blob,
				   ULONG *len);
ULONG gmsoft_skf_ecc_sign_data(HCONTAINER h, BYTE *data, ULONG len,
			       ECCSIGNATUREBLOB *sig);
ULONG gmsoft_skf_ecc_verify(DEVHANDLE h, ECCPUBLICKEYBLOB *pub, BYTE *data,
			    ULONG len, ECCSIGNATUREBLOB *sig);
ULONG gmsoft_skf_ext_ecc_encrypt(DEVHANDLE h, ECCPUBLICKEYBLOB *pub,
				 BYTE *in, ULONG len, ECCCIPHERBLOB *out);
ULONG gmsoft_skf_ecc_decrypt(HCONTAINER h, ECCCIPHERBLOB *in, BYTE *out,
			     ULONG *len);
ULONG gmsoft_skf_ext_ecc_sign(DEVHANDLE h, ECCPRIVATEKEYBLOB *priv, BYTE *data,
			      ULONG len, ECCSIGNATUREBLOB *sig);
ULONG gmsoft_skf_ext_ecc_decrypt(DEVHANDLE h, ECCPRIVATEKEYBLOB *priv,
				 ECCCIPHERBLOB *in, BYTE *out, ULONG *len);
ULONG gmsoft_skf_import_ecc_key_pair(HCONTAINER h, ENVELOPEDKEYBLOB *env);
ULONG gmsoft_skf_digest_init(DEVHANDLE h, ULONG alg, ECCPUBLICKEYBLOB *pub,
			     BYTE *id, ULONG idlen, HANDLE *hash);
ULONG gmsoft_skf_digest(HANDLE h, BYTE *data, ULONG len, BYTE *out,
			ULONG *outlen);
ULONG gmsoft_skf_digest_update(HANDLE h, BYTE *data, ULONG len);
ULONG gmsoft_skf_digest_final(HANDLE h, BYTE *out, ULONG *outlen);
ULONG gmsoft_skf_close_handle(HANDLE h);

/* Key objects (st_skf_con.c). All objects of the token of container
 * con (SAR_INVALIDHANDLEERR when the container is gone); caller frees
 * *objs. locked: the caller holds the lock of the store. */
ULONG gmsoft_skf_objects(struct gmsoft_skf_handle *con,
			 struct gmsoft_object **objs, size_t *n, int locked);
/* The index in objs of the key of that class and kind (signing or
 * exchange) in container name, or n. */
size_t gmsoft_skf_key_find(const struct gmsoft_object *objs, size_t n,
			   const char *name, CK_OBJECT_CLASS cls, int sign);
/* Whether container name is an RSA one (fixture: CKA_KEY_TYPE CKK_RSA on
 * the container object). */
int gmsoft_skf_container_rsa(const struct gmsoft_object *objs, size_t n,
			     const char *name);
/* Replace the object of objs[at] (at == n: none) by add, in container
 * name; the caller holds the exclusive lock. */
CK_RV gmsoft_skf_replace(struct gmsoft_skf_handle *con,
			 const struct gmsoft_object *objs, size_t n,
			 size_t *old, size_t nold, struct gmsoft_object **add,
			 size_t nadd);
/* The user's rights on the application of con (SAR_USER_NOT_LOGGED_IN). */
ULONG gmsoft_skf_need_user(const struct gmsoft_skf_handle *con);

#endif
