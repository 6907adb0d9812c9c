/* st_store.h - on-disk state of the soft ePass3000GM.
 *
 * Layout under the state directory (GMSOFT_DIR):
 *   .lock                      flock(2) target: shared to read, exclusive
 *                              to change anything
 *   slot<N>/token.ini          the slot and its token (key=value lines)
 *   slot<N>/objects/<H>.obj    one token object, H its object handle
 * Files are replaced atomically (temporary file, fsync, rename); names
 * starting with '.' are temporary and ignored. */
#ifndef GMSOFT_STORE_H
#define GMSOFT_STORE_H

#include "st_common.h"

struct gmsoft_attr {
	CK_ATTRIBUTE_TYPE type;
	unsigned char *value; /* owned */
	size_t len;
};

struct gmsoft_object {
	CK_OBJECT_HANDLE handle;
	struct gmsoft_attr *attrs; /* owned */
	size_t nattrs;
	char *key_pem; /* private key objects: the PKCS#8 PEM, owned */
};

#define GMSOFT_HASH_HEX 65

struct gmsoft_token {
	CK_SLOT_ID slot;
	int has_token; /* 0: empty slot */
	int present;   /* 0: token pulled out (persistently) */
	char label[33];
	char serial[17];
	char manufacturer[33];
	char model[17];
	char salt[33];
	char pin_hash[GMSOFT_HASH_HEX];    /* "" when no user PIN */
	char so_pin_hash[GMSOFT_HASH_HEX]; /* "" when no SO PIN */
	int tries;
	int so_tries;
	unsigned long next_handle;
};

/* Locking: *fd receives the lock descriptor for gmsoft_unlock(). */
CK_RV gmsoft_lock(const char *dir, int exclusive, int *fd);
void gmsoft_unlock(int fd);

/* Replace path with data atomically. */
CK_RV gmsoft_write_atomic(const char *path, const void *data, size_t len);
/* Test hook: SIGKILL in the middle of the nth atomic write (0: never),
 * after half the bytes reached the temporary file. */
void gmsoft_store_kill_in_write(unsigned long nth);

/* The slot ids present under dir, sorted; at most max. */
CK_RV gmsoft_slots(const char *dir, CK_SLOT_ID *ids, size_t max, size_t *n);

void gmsoft_token_defaults(struct gmsoft_token *t, CK_SLOT_ID slot);
/* CKR_SLOT_ID_INVALID when the slot does not exist. */
CK_RV gmsoft_token_load(const char *dir, CK_SLOT_ID slot,
			struct gmsoft_token *t);
CK_RV gmsoft_token_save(const char *dir, const struct gmsoft_token *t);

/* CK_TOKEN_INFO flags of t, PIN state flags included. */
CK_FLAGS gmsoft_token_flags(const struct gmsoft_token *t);

/* PIN handling; the PIN is kept as SHA-256(salt || pin) only. */
void gmsoft_pin_hash(const char *salt, const unsigned char *pin, size_t len,
		     char out[GMSOFT_HASH_HEX]);
int gmsoft_pin_matches(const char *salt, const char *hash,
		       const unsigned char *pin, size_t len);
void gmsoft_new_salt(char salt[33]);

/* Objects. Loading sorts by handle. Caller frees with
 * gmsoft_objects_free / gmsoft_object_clear. */
CK_RV gmsoft_objects_load(const char *dir, CK_SLOT_ID slot,
			  struct gmsoft_object **objs, size_t *n);
/* CKR_OBJECT_HANDLE_INVALID when there is no such object. */
CK_RV gmsoft_object_load(const char *dir, CK_SLOT_ID slot,
			 CK_OBJECT_HANDLE handle, struct gmsoft_object *obj);
CK_RV gmsoft_object_save(const char *dir, CK_SLOT_ID slot,
			 const struct gmsoft_object *obj);
CK_RV gmsoft_object_remove(const char *dir, CK_SLOT_ID slot,
			   CK_OBJECT_HANDLE handle);
CK_RV gmsoft_objects_clear(const char *dir, CK_SLOT_ID slot);
void gmsoft_object_clear(struct gmsoft_object *obj);
void gmsoft_objects_free(struct gmsoft_object *objs, size_t n);
CK_RV gmsoft_object_copy(const struct gmsoft_object *from,
			 struct gmsoft_object *to);

/* Attribute access on an object in memory. */
struct gmsoft_attr *gmsoft_attr_find(const struct gmsoft_object *obj,
				     CK_ATTRIBUTE_TYPE type);
CK_RV gmsoft_attr_set(struct gmsoft_object *obj, CK_ATTRIBUTE_TYPE type,
		      const void *value, size_t len);
CK_RV gmsoft_attr_set_ulong(struct gmsoft_object *obj, CK_ATTRIBUTE_TYPE type,
			    CK_ULONG value);
CK_RV gmsoft_attr_set_bool(struct gmsoft_object *obj, CK_ATTRIBUTE_TYPE type,
			   int value);
/* Value of a CK_ULONG attribute, or dflt when missing or malformed. */
CK_ULONG gmsoft_attr_ulong(const struct gmsoft_object *obj,
			   CK_ATTRIBUTE_TYPE type, CK_ULONG dflt);
int gmsoft_attr_bool(const struct gmsoft_object *obj, CK_ATTRIBUTE_TYPE type,
		     int dflt);

#endif
