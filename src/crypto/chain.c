/*
 * chain.c - certificate chain verification with the SM2 default ID on
 * every link.
 *
 * OpenSSL 3.0 verifies an SM2 signature on a certificate with the
 * distinguishing ID stored in that certificate (X509_set0_distinguishing_id)
 * and uses an empty ID when none is stored; `openssl verify -vfyopt distid:`
 * stores it on the leaf only, so links above depth 0 fail. Here every
 * certificate signed with SM3withSM2 -- the leaf, the untrusted
 * intermediates and every certificate of the trust store -- gets the default
 * ID before verification. A certificate without it is copied first, so
 * the caller's is left as it was; one that carries it already (those
 * gmrenew decodes itself, gm_cert_facts_decode) or needs none is shared
 * (a copy decodes the whole certificate again, key included).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "crypto_internal.h"
#include "gmrenew/common.h"
#include "gmrenew/crypto.h"

/* Gives x the SM2 default ID when its signature is SM3withSM2. */
int gm_crypto_x509_set_sm2_id(X509 *x)
{
	ASN1_OCTET_STRING *id;

	if (X509_get_signature_nid(x) != NID_SM2_with_SM3)
		return 0;
	id = ASN1_OCTET_STRING_new();
	if (!id || !ASN1_OCTET_STRING_set(id,
					  (const unsigned char *)GM_SM2_DEFAULT_ID,
					  (int)sizeof(GM_SM2_DEFAULT_ID) - 1)) {
		ASN1_OCTET_STRING_free(id);
		return -1;
	}
	X509_set0_distinguishing_id(x, id);	/* x owns id */
	return 0;
}

/* OpenSSL decodes a certificate's extensions (key identifiers, basic
 * constraints, key usage) into the X509 on their first use, under the
 * certificate's lock, while other readers of the same certificate look at
 * them without it: a data race when two chains that share a certificate
 * are verified at once (ThreadSanitizer saw one on an intermediate).
 * Decoded when the certificate joins the pool, they are only read later.
 * A certificate whose extensions do not decode fails every chain anyway,
 * with OpenSSL's own error; nothing is left in the error queue here. */
static void cache_extensions(X509 *x)
{
	if (X509_check_purpose(x, -1, 0) != 1)
		ERR_clear_error();
}

/* The default ID on every certificate of the store, its extensions
 * decoded; the anchor count. */
static int store_set_ids(X509_STORE *store)
{
	STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(store);
	int i, n = 0;

	for (i = 0; i < sk_X509_OBJECT_num(objs); i++) {
		X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));

		if (!x)
			continue;	/* a CRL */
		if (gm_crypto_x509_set_sm2_id(x) < 0)
			return -1;
		cache_extensions(x);
		n++;
	}
	return n;
}

/* x needs the default ID and does not carry exactly that one. */
static int lacks_id(X509 *x)
{
	const ASN1_OCTET_STRING *id;

	if (X509_get_signature_nid(x) != NID_SM2_with_SM3)
		return 0;
	id = X509_get0_distinguishing_id(x);
	return !id || ASN1_STRING_length(id) !=
		(int)sizeof(GM_SM2_DEFAULT_ID) - 1 ||
	       memcmp(ASN1_STRING_get0_data(id), GM_SM2_DEFAULT_ID,
		      sizeof(GM_SM2_DEFAULT_ID) - 1) != 0;
}

/* x carrying the default ID where it needs one: x itself (a reference)
 * when it does, else a copy with it. */
static X509 *dup_with_id(X509 *x)
{
	X509 *copy;

	if (!lacks_id(x))
		return X509_up_ref(x) ? x : NULL;
	copy = X509_dup(x);
	if (copy && gm_crypto_x509_set_sm2_id(copy) < 0) {
		X509_free(copy);
		copy = NULL;
	}
	return copy;
}

static const char *fix_for(int code)
{
	switch (code) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		return "check that the trust bundle holds the CA's root (and "
		       "that the service sent the intermediate certificates)";
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return "check the system clock; the certificate is outside its "
		       "validity period";
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
		return "the certificate was not signed by the certificate above "
		       "it; do not install it";
	}
	return NULL;
}

static int verify_failed(X509_STORE_CTX *ctx, gm_error *err)
{
	int code = X509_STORE_CTX_get_error(ctx);
	int depth = X509_STORE_CTX_get_error_depth(ctx);
	X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
	char *who = cur ? gm_crypto_name_line(X509_get_subject_name(cur)) : NULL;
	int ret;

	ERR_clear_error();
	ret = gm_fail(err, GM_EXIT_VERIFY, fix_for(code),
		      "certificate chain does not verify at depth %d ('%s'): %s",
		      depth, who ? who : "unknown",
		      X509_verify_cert_error_string(code));
	if (err)
		err->detail = code;
	free(who);
	return ret;
}

struct gm_chain_pool {
	X509_STORE *store;		/* the anchors, with the default ID */
	STACK_OF(X509) *untrusted;	/* copies, with the default ID */
	char ca_file[512];
};

void gm_chain_pool_free(gm_chain_pool *pool)
{
	if (!pool)
		return;
	X509_STORE_free(pool->store);
	sk_X509_pop_free(pool->untrusted, X509_free);
	free(pool);
}

int gm_chain_pool_new(const char *ca_file, gm_chain_pool **out,
		      gm_error *err)
{
	char ossl[256];
	gm_chain_pool *pool = gm_xcalloc(1, sizeof(*pool));
	int r;

	*out = NULL;
	snprintf(pool->ca_file, sizeof(pool->ca_file), "%s", ca_file);
	pool->store = X509_STORE_new();
	pool->untrusted = sk_X509_new_null();
	if (!pool->store || !pool->untrusted ||
	    !X509_STORE_load_file(pool->store, ca_file)) {
		gm_fail(err, GM_EXIT_USAGE,
			"set chain_bundle in [service] to a PEM file of the "
			"CA's root certificates",
			"cannot read trust anchors from '%s': %s", ca_file,
			gm_openssl_error(ossl, sizeof(ossl)));
		goto fail;
	}
	r = store_set_ids(pool->store);
	if (r <= 0) {
		gm_fail(err, r < 0 ? GM_EXIT_FAILED : GM_EXIT_USAGE, NULL,
			"no trust anchors in '%s'", ca_file);
		goto fail;
	}
	*out = pool;		/* the caller owns it now */
	return 0;
fail:
	gm_chain_pool_free(pool);
	return -1;
}

int gm_chain_pool_add(gm_chain_pool *pool, X509 *untrusted)
{
	X509 *x = dup_with_id(untrusted);

	if (!x || !sk_X509_push(pool->untrusted, x)) {
		X509_free(x);
		return -1;
	}
	cache_extensions(x);
	return 0;
}

int gm_chain_pool_verify(gm_chain_pool *pool, X509 *leaf, time_t at,
			 gm_error *err)
{
	char ossl[256];
	X509_STORE_CTX *ctx = NULL;
	X509 *subject = NULL;
	int r, ret = -1;

	if (!leaf)
		return gm_fail(err, GM_EXIT_VERIFY, NULL,
			       "no certificate to verify");
	subject = dup_with_id(leaf);
	ctx = X509_STORE_CTX_new();
	if (!subject || !ctx ||
	    !X509_STORE_CTX_init(ctx, pool->store, subject, pool->untrusted)) {
		gm_fail(err, GM_EXIT_FAILED, NULL,
			"cannot set up chain verification: %s",
			gm_openssl_error(ossl, sizeof(ossl)));
		goto out;
	}
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), at);
	r = X509_verify_cert(ctx);
	if (r == 1)
		ret = 0;
	else if (r == 0 || X509_STORE_CTX_get_error(ctx) != X509_V_OK)
		verify_failed(ctx, err);
	else
		gm_fail(err, GM_EXIT_VERIFY, NULL,
			"cannot verify the certificate chain: %s",
			gm_openssl_error(ossl, sizeof(ossl)));
out:
	X509_STORE_CTX_free(ctx);
	X509_free(subject);
	return ret;
}

int gm_chain_verify(X509 *leaf, STACK_OF(X509) *untrusted, const char *ca_file,
		    time_t at, gm_error *err)
{
	gm_chain_pool *pool = NULL;
	int i, ret = -1;

	if (!leaf || !ca_file)
		return gm_fail(err, GM_EXIT_VERIFY, NULL,
			       "no certificate or trust bundle to verify with");
	if (gm_chain_pool_new(ca_file, &pool, err))
		return -1;
	for (i = 0; untrusted && i < sk_X509_num(untrusted); i++)
		if (gm_chain_pool_add(pool, sk_X509_value(untrusted, i))) {
			gm_fail(err, GM_EXIT_FAILED, NULL,
				"cannot set up chain verification");
			goto out;
		}
	ret = gm_chain_pool_verify(pool, leaf, at, err);
out:
	gm_chain_pool_free(pool);
	return ret;
}
