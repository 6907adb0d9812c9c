/* st_admin.h - provisioning of soft ePass3000GM tokens, outside PKCS#11.
 * Used by gmsofttoken-tool and by the tests. Each function takes the
 * exclusive lock of the state directory itself. */
#ifndef GMSOFT_ADMIN_H
#define GMSOFT_ADMIN_H

#include "st_store.h"

struct gmsoft_bytes {
	const unsigned char *data;
	size_t len;
};

/* What names a key pair or certificate: CKA_ID (data NULL: the default),
 * CKA_LABEL (NULL: empty), the container (NULL: keys get a name made by
 * the fixture; a certificate joins the container of the key with its
 * CKA_ID, if any), and for keys: an exchange pair rather than a signing
 * pair. */
struct gmsoft_key_spec {
	struct gmsoft_bytes id;
	const char *label;
	const char *container;
	int exchange;
};

/* Create or reset the token of t->slot (label, serial, manufacturer,
 * model taken from t). pin / so_pin may be NULL: no such PIN. */
CK_RV gmsoft_admin_init(const char *dir, const struct gmsoft_token *t,
			const char *pin, const char *so_pin);
/* Make the slot empty: no token, its objects gone. */
CK_RV gmsoft_admin_empty(const char *dir, CK_SLOT_ID slot);
/* Pull the token out (0) or put it back (1), persistently. */
CK_RV gmsoft_admin_presence(const char *dir, CK_SLOT_ID slot, int present);
CK_RV gmsoft_admin_set_tries(const char *dir, CK_SLOT_ID slot, int tries);
/* Store a key pair for an SM2 private key PEM; handles[0] public key,
 * handles[1] private key. */
CK_RV gmsoft_admin_import_key(const char *dir, CK_SLOT_ID slot,
			      const struct gmsoft_key_spec *k, const char *pem,
			      CK_OBJECT_HANDLE handles[2]);
/* Generate a key pair on the token; *pub_pem (caller frees) receives the
 * public key. */
CK_RV gmsoft_admin_gen_key(const char *dir, CK_SLOT_ID slot,
			   const struct gmsoft_key_spec *k, char **pub_pem,
			   CK_OBJECT_HANDLE handles[2]);
/* Store value as a certificate object, whether or not it parses. */
CK_RV gmsoft_admin_import_cert(const char *dir, CK_SLOT_ID slot,
			       const struct gmsoft_key_spec *k,
			       struct gmsoft_bytes value, CK_OBJECT_HANDLE *handle);
/* An empty container named name (1 to 64 characters); rsa: marked as an
 * RSA container (CKA_KEY_TYPE CKK_RSA), which the SKF side reports and
 * refuses to put SM2 keys in. CKR_ATTRIBUTE_VALUE_INVALID for a bad or
 * existing name. */
CK_RV gmsoft_admin_add_container(const char *dir, CK_SLOT_ID slot,
				 const char *name, int rsa);
/* Sign a digest with the private key whose CKA_ID is id. */
CK_RV gmsoft_admin_sign(const char *dir, CK_SLOT_ID slot,
			struct gmsoft_bytes id, struct gmsoft_bytes digest,
			unsigned char sig[GMSOFT_SM2_SIG_LEN]);

#endif
