/*
 * keys.c - public points, key generation and signing through PKCS#11.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "p11.h"

#define SIG_RAW_MAX 160	/* r||s of P-521, a 128-byte blob, DER */
#define POINT_GUESS 160
#define PARAMS_GUESS 32

static CK_BBOOL ck_true = CK_TRUE;

int p11_pub_in_modulus(const gm_session *s)
{
	return s->profile && s->profile->public_key == GM_PUBKEY_MODULUS_XY;
}

EVP_PKEY *p11_point_to_key(const gm_session *s, const CK_ATTRIBUTE *params,
			   const CK_ATTRIBUTE *point, gm_error *err)
{
	const gm_profile *p = s->profile;
	int has_params = params->pValue &&
			 params->ulValueLen != CK_UNAVAILABLE_INFORMATION;

	if (!point->pValue || point->ulValueLen == CK_UNAVAILABLE_INFORMATION) {
		gm_fail(err, GM_EXIT_FAILED,
			"check the token profile's public_key setting",
			"the key object has no readable %s",
			p11_pub_in_modulus(s) ? "CKA_MODULUS" : "CKA_EC_POINT");
		return NULL;
	}
	if (p11_pub_in_modulus(s))
		return gm_pubkey_from_xy(p->ec_params, p->ec_params_len,
					 point->pValue, point->ulValueLen, err);
	return gm_pubkey_from_ec_point(has_params ? params->pValue : NULL,
				       has_params ? params->ulValueLen : 0,
				       point->pValue, point->ulValueLen, err);
}

/* The new public key object's point: one call with guessed buffers, each
 * alone again when it did not fit. */
int p11_read_pubkey(gm_session *s, CK_OBJECT_HANDLE pub, EVP_PKEY **out,
		      gm_error *err)
{
	CK_ATTRIBUTE a[2] = {
		{ CKA_EC_PARAMS, NULL, PARAMS_GUESS },
		{ p11_pub_in_modulus(s) ? CKA_MODULUS : CKA_EC_POINT, NULL,
		  POINT_GUESS },
	};
	CK_ULONG i, first = p11_pub_in_modulus(s) ? 1 : 0;
	CK_RV rv;

	*out = NULL;
	for (i = first; i < 2; i++)
		a[i].pValue = gm_xcalloc(1, a[i].ulValueLen + 1);
	rv = p11_get_attrs(s, pub, &a[first], 2 - first);
	for (i = first; rv != CKR_OK && p11_partial_rv(rv) && i < 2; i++) {
		if (a[i].ulValueLen != CK_UNAVAILABLE_INFORMATION)
			continue;
		free(a[i].pValue);
		if (p11_fetch(s, pub, &a[i], 0) != CKR_OK)
			break;
	}
	if (rv == CKR_OK || p11_partial_rv(rv))
		*out = p11_point_to_key(s, &a[0], &a[1], err);
	else
		gm_ckr_fail(err, rv, "reading a key's public point");
	p11_attrs_free(a, 2);
	return *out ? 0 : -1;
}

#define KEYGEN_ATTRS 8

/* The key generation templates: the common part, then what the profile
 * adds (CKA_EC_PARAMS, CKA_MODULUS_BITS, the container name). */
struct keygen_tmpl {
	CK_ATTRIBUTE pub[KEYGEN_ATTRS], priv[KEYGEN_ATTRS];
	CK_ULONG n_pub, n_priv;
	CK_ULONG bits;
	char container[40];
};

static void keygen_tmpl_fill(struct keygen_tmpl *t, const gm_profile *p,
			     const unsigned char *id, size_t id_len,
			     const char *label)
{
	void *id_p = (void *)(uintptr_t)id;
	void *label_p = (void *)(uintptr_t)label;
	CK_ULONG label_len = label ? strlen(label) : 0;
	CK_ULONG n = 0, k = 0;

	t->pub[n++] = (CK_ATTRIBUTE){ CKA_TOKEN, &ck_true, sizeof(ck_true) };
	t->pub[n++] = (CK_ATTRIBUTE){ CKA_VERIFY, &ck_true, sizeof(ck_true) };
	t->pub[n++] = (CK_ATTRIBUTE){ CKA_ID, id_p, id_len };
	t->pub[n++] = (CK_ATTRIBUTE){ CKA_LABEL, label_p, label_len };
	t->priv[k++] = (CK_ATTRIBUTE){ CKA_TOKEN, &ck_true, sizeof(ck_true) };
	t->priv[k++] = (CK_ATTRIBUTE){ CKA_PRIVATE, &ck_true, sizeof(ck_true) };
	t->priv[k++] = (CK_ATTRIBUTE){ CKA_SENSITIVE, &ck_true, sizeof(ck_true) };
	t->priv[k++] = (CK_ATTRIBUTE){ CKA_SIGN, &ck_true, sizeof(ck_true) };
	t->priv[k++] = (CK_ATTRIBUTE){ CKA_ID, id_p, id_len };
	t->priv[k++] = (CK_ATTRIBUTE){ CKA_LABEL, label_p, label_len };
	/* it opens the enveloped key of a double certificate (envelope.c) */
	if (gm_profile_unwraps(p))
		t->priv[k++] = (CK_ATTRIBUTE){ CKA_UNWRAP, &ck_true,
					       sizeof(ck_true) };
	if (p->keygen_ec_params)
		t->pub[n++] = (CK_ATTRIBUTE){ CKA_EC_PARAMS,
			(void *)(uintptr_t)p->ec_params, p->ec_params_len };
	t->bits = p->keygen_modulus_bits;
	if (t->bits)
		t->pub[n++] = (CK_ATTRIBUTE){ CKA_MODULUS_BITS, &t->bits,
					      sizeof(t->bits) };
	t->container[0] = '\0';
	if (p->container_attr) {
		/* a string with its NUL, the NUL counted (FEITIAN) */
		gm_container_name(id, id_len, t->container, sizeof(t->container));
		t->pub[n++] = (CK_ATTRIBUTE){ p->container_attr, t->container,
					      strlen(t->container) + 1 };
		t->priv[k++] = (CK_ATTRIBUTE){ p->container_attr, t->container,
					       strlen(t->container) + 1 };
	}
	t->n_pub = n;
	t->n_priv = k;
}

static void destroy_quietly(gm_session *s, CK_OBJECT_HANDLE h)
{
	CK_RV rv = p11_fl(s)->C_DestroyObject(p11_h(s), h);

	gm_p11_log("C_DestroyObject", rv);
}

int p11_generate_keypair(gm_session *s, const unsigned char *id,
			 size_t id_len, const char *label,
			 gm_snapshot_key *out, gm_error *err)
{
	const gm_profile *p = s->profile;
	CK_MECHANISM mech = { 0, NULL, 0 };
	CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
	struct keygen_tmpl t;
	EVP_PKEY *pkey = NULL;
	CK_RV rv;

	if (!p)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "no token profile: cannot generate a key pair");
	mech.mechanism = p->keygen_mechanism;
	keygen_tmpl_fill(&t, p, id, id_len, label);
	if (t.container[0])
		gm_debug("new key pair: container '%s'", t.container);
	rv = p11_fl(s)->C_GenerateKeyPair(p11_h(s), &mech, t.pub, t.n_pub,
					  t.priv, t.n_priv, &pub, &priv);
	gm_p11_log("C_GenerateKeyPair", rv);
	if (rv != CKR_OK)
		return gm_ckr_fail(err, rv, "generating a key pair on the token");
	if (p11_read_pubkey(s, pub, &pkey, err) < 0) {
		/* a key pair we cannot use must not stay behind */
		destroy_quietly(s, priv);
		destroy_quietly(s, pub);
		return gm_error_prefix(err, "reading the new public key");
	}
	out->ref = p11_pair_ref(priv, pub);
	out->parts = GM_KEYPAIR_PUBLIC | GM_KEYPAIR_PRIVATE;
	out->id = id_len ? (unsigned char *)gm_xmemdup(id, id_len) : NULL;
	out->id_len = id_len;
	out->label = gm_xstrdup(label ? label : "");
	out->container = gm_xstrdup(t.container);
	out->pubkey = pkey;	/* the caller owns it with out */
	return 0;
}

int p11_sign_digest(gm_session *s, gm_token_ref key,
		    const unsigned char digest[GM_DIGEST_LEN],
		    unsigned char **sig, size_t *sig_len, gm_error *err)
{
	const gm_profile *p = s->profile;
	CK_MECHANISM mech = { 0, NULL, 0 };
	CK_OBJECT_HANDLE priv = (CK_OBJECT_HANDLE)key.a;
	unsigned char *raw;
	CK_ULONG raw_len = SIG_RAW_MAX;
	CK_RV rv;
	int ret;

	if (!p)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "no token profile: cannot sign");
	if (priv == CK_INVALID_HANDLE)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "the key pair has no private key on the token");
	if (GM_DIGEST_LEN > p->sign_input_max)
		return gm_fail(err, GM_EXIT_FAILED,
			       "check the profile's sign_input_max",
			       "token profile '%s' signs at most %zu bytes; the "
			       "digest has %d", p->name, p->sign_input_max,
			       GM_DIGEST_LEN);
	mech.mechanism = p->sign_mechanism;
	rv = p11_fl(s)->C_SignInit(p11_h(s), &mech, priv);
	gm_p11_log("C_SignInit", rv);
	if (rv != CKR_OK)
		return gm_ckr_fail(err, rv, "starting to sign on the token");
	/* A buffer that fits every format: one call, not two. */
	raw = gm_xmalloc(raw_len);
	rv = p11_fl(s)->C_Sign(p11_h(s), (CK_BYTE_PTR)(uintptr_t)digest,
			       GM_DIGEST_LEN, raw, &raw_len);
	gm_p11_log("C_Sign", rv);
	if (rv == CKR_BUFFER_TOO_SMALL && raw_len > SIG_RAW_MAX &&
	    raw_len < 4096) {
		raw = gm_xrealloc(raw, raw_len);
		rv = p11_fl(s)->C_Sign(p11_h(s), (CK_BYTE_PTR)(uintptr_t)digest,
				       GM_DIGEST_LEN, raw, &raw_len);
		gm_p11_log("C_Sign", rv);
	}
	if (rv != CKR_OK) {
		free(raw);
		return gm_ckr_fail(err, rv, "signing on the token");
	}
	ret = gm_sig_to_der(p->signature, raw, raw_len, sig, sig_len, err);
	free(raw);
	return ret;
}
