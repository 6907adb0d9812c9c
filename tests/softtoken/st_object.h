/* st_object.h - the objects of the soft ePass3000GM and their defaults. */
#ifndef GMSOFT_OBJECT_H
#define GMSOFT_OBJECT_H

#include "st_store.h"

/* A public key object alone (C_CreateObject with GMSOFT_UNWRAP): the
 * point's defaults as a pair made by gmsoft_keypair_build has them. */
CK_RV gmsoft_pubkey_build(const unsigned char point[GMSOFT_SM2_POINT_LEN],
			  const char *container, int sign,
			  struct gmsoft_object *pub);
/* Public and private key objects for an SM2 private key PEM, with the
 * attributes FEITIAN's library reports: X||Y in CKA_MODULUS, the container
 * name. local: generated on the token; sign: a signing pair, else an
 * exchange (encryption) pair. Both are token objects; CKA_ID defaults to
 * SHA-1 of 04||x||y. */
CK_RV gmsoft_keypair_build(const char *pem, int local, const char *container,
			   int sign, struct gmsoft_object *pub,
			   struct gmsoft_object *priv);
/* A container object (class GMSOFT_CKO_CONTAINER) named name, listing no
 * object yet. */
CK_RV gmsoft_container_build(const char *name, struct gmsoft_object *c);
/* Whether o is a container, named name (any name when NULL). */
int gmsoft_container_is(const struct gmsoft_object *o, const char *name);
/* The container name o carries (a NUL-terminated string that fits in
 * size bytes with its NUL) in buf, or NULL. */
const char *gmsoft_container_of(const struct gmsoft_object *o, char *buf,
				size_t size);
/* Adds object h to (or removes it from) container c's CKA_VALUE, an array
 * of CK_ULONG handles. */
CK_RV gmsoft_container_link(struct gmsoft_object *c, CK_OBJECT_HANDLE h,
			    int add);
size_t gmsoft_container_count(const struct gmsoft_object *c);
/* The name the fixture gives a key pair generated without one. */
void gmsoft_container_auto_name(const unsigned char *point, char *buf,
				size_t size);
/* A token X.509 certificate object holding der as CKA_VALUE. Subject,
 * issuer and serial number come from der when it parses, else empty. */
CK_RV gmsoft_cert_build(const unsigned char *der, size_t len,
			struct gmsoft_object *cert);
/* Give each object the next handle of the token and write them.
 * The caller holds the exclusive lock. */
CK_RV gmsoft_objects_store(const char *dir, CK_SLOT_ID slot,
			   struct gmsoft_object **objs, size_t n);
/* The point 04||x||y of a key object (from its CKA_MODULUS X||Y). */
CK_RV gmsoft_point_from_attr(const struct gmsoft_object *obj,
			     unsigned char point[GMSOFT_SM2_POINT_LEN]);
/* Like gmsoft_objects_store, and the objects join the container name
 * (made when missing; a second pair of a kind: CKR_TEMPLATE_INCONSISTENT).
 * The caller holds the exclusive lock. */
CK_RV gmsoft_objects_store_contained(const char *dir, CK_SLOT_ID slot,
				     struct gmsoft_object **objs, size_t n,
				     const char *name);
/* obj (about to be destroyed) leaves its container; an empty container
 * goes. The caller holds the exclusive lock. */
CK_RV gmsoft_container_forget(const char *dir, CK_SLOT_ID slot,
			      const struct gmsoft_object *obj);

#endif
