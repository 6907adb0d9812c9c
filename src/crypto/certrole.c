/*
 * certrole.c - what a certificate is for: its keyUsage and
 * basicConstraints, the role they give in a double-certificate pair
 * (signing or encryption), and the profile an encryption certificate
 * must have (docs/protocol.md section 3.8).
 */
#include <string.h>

#include <openssl/x509v3.h>

#include "crypto_internal.h"
#include "gmrenew/common.h"
#include "gmrenew/crypto.h"

#define SIGNING_BITS (GM_KU_DIGITAL_SIGNATURE | GM_KU_NON_REPUDIATION | \
		      GM_KU_KEY_CERT_SIGN | GM_KU_CRL_SIGN)
#define ENCRYPTION_BITS (GM_KU_KEY_ENCIPHERMENT | GM_KU_DATA_ENCIPHERMENT | \
			 GM_KU_KEY_AGREEMENT | GM_KU_ENCIPHER_ONLY)

const char *gm_role_name(int role)
{
	return role == GM_ROLE_ENCRYPTION ? "encryption" : "signing";
}

static const X509_EXTENSION *find_ext(const STACK_OF(X509_EXTENSION) *exts,
				      int nid)
{
	int i;

	for (i = 0; exts && i < sk_X509_EXTENSION_num(exts); i++) {
		X509_EXTENSION *e = sk_X509_EXTENSION_value(exts, i);

		if (OBJ_obj2nid(X509_EXTENSION_get_object(e)) == nid)
			return e;
	}
	return NULL;
}

static int key_usage(gm_cert_facts *f, const X509_EXTENSION *e)
{
	ASN1_BIT_STRING *ku = X509V3_EXT_d2i((X509_EXTENSION *)e);
	int bit;

	if (!ku)
		return -1;
	for (bit = 0; bit < 8; bit++)
		if (ASN1_BIT_STRING_get_bit(ku, bit))
			f->key_usage |= 1u << bit;
	f->has_key_usage = 1;
	ASN1_BIT_STRING_free(ku);
	return 0;
}

static int basic_constraints(gm_cert_facts *f, const X509_EXTENSION *e)
{
	BASIC_CONSTRAINTS *bc = X509V3_EXT_d2i((X509_EXTENSION *)e);

	if (!bc)
		return -1;
	f->is_ca = bc->ca ? 1 : 0;
	BASIC_CONSTRAINTS_free(bc);
	return 0;
}

int gm_crypto_usage_facts(gm_cert_facts *f,
			  const STACK_OF(X509_EXTENSION) *exts, gm_error *err)
{
	const X509_EXTENSION *ku = find_ext(exts, NID_key_usage);
	const X509_EXTENSION *bc = find_ext(exts, NID_basic_constraints);

	f->key_usage = 0;
	f->has_key_usage = 0;
	f->is_ca = 0;
	if ((ku && key_usage(f, ku) < 0) || (bc && basic_constraints(f, bc) < 0))
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "the certificate's %s extension cannot be decoded",
			       ku && !f->has_key_usage ? "keyUsage" :
			       "basicConstraints");
	f->role = f->has_key_usage && (f->key_usage & ENCRYPTION_BITS) &&
			  !(f->key_usage & SIGNING_BITS) ?
		  GM_ROLE_ENCRYPTION : GM_ROLE_SIGNING;
	return 0;
}

int gm_cert_encryption_profile(const gm_cert_facts *f, gm_error *err)
{
	const char *why = NULL;

	if (strcmp(f->key_algorithm, "SM2"))
		why = "its key is not an SM2 key";
	else if (!f->has_key_usage)
		why = "it has no keyUsage";
	else if (!(f->key_usage & GM_KU_KEY_ENCIPHERMENT))
		why = "its keyUsage lacks keyEncipherment";
	else if (f->key_usage & SIGNING_BITS)
		why = "its keyUsage allows signing";
	else if (f->is_ca)
		why = "it is a CA certificate";
	if (!why)
		return 0;
	return gm_fail(err, GM_EXIT_VERIFY, NULL,
		       "the encryption certificate '%s' is not an encryption "
		       "certificate: %s", f->subject ? f->subject : "", why);
}
