/* st_object.h - the objects of the soft ePass3000GM and their defaults. */
#ifndef GMSOFT_OBJECT_H
#define GMSOFT_OBJECT_H

#include "st_store.h"

/* Public and private key objects for an SM2 private key PEM, with the
 * attributes FEITIAN's library reports. local: generated on the token.
 * Both are token objects; CKA_ID defaults to SHA-1 of 04||x||y. */
CK_RV gmsoft_keypair_build(const char *pem, int local,
			   struct gmsoft_object *pub,
			   struct gmsoft_object *priv);
/* A token X.509 certificate object holding der as CKA_VALUE. Subject,
 * issuer and serial number come from der when it parses, else empty. */
CK_RV gmsoft_cert_build(const unsigned char *der, size_t len,
			struct gmsoft_object *cert);
/* Give each object the next handle of the token and write them.
 * The caller holds the exclusive lock. */
CK_RV gmsoft_objects_store(const char *dir, CK_SLOT_ID slot,
			   struct gmsoft_object **objs, size_t n);
/* The raw point 04||x||y from a CKA_EC_POINT value (DER OCTET STRING). */
CK_RV gmsoft_point_from_attr(const struct gmsoft_object *obj,
			     unsigned char point[GMSOFT_SM2_POINT_LEN]);

#endif
