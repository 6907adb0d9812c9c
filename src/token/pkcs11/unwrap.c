/*
 * unwrap.c - the encryption pair of a double certificate through PKCS#11,
 * for a driver whose profile names the two unwrap mechanisms
 * (envelope_unwrap_sm2, envelope_unwrap_sm4; docs/token-profiles.md):
 *
 * 1. C_UnwrapKey with the new signing private key (made with CKA_UNWRAP)
 *    of the envelope's SM2-encrypted symmetric key (C1 || C3 || C2, GM/T
 *    0003.4) into a session secret key;
 * 2. C_UnwrapKey with that secret key of the SM4-ECB-encrypted private key
 *    into a token private key of the profile's key type that decrypts and
 *    never signs, in the signing pair's container;
 * 3. the session secret key destroyed, whatever happened;
 * 4. C_CreateObject of the public key from the envelope's point, in the
 *    profile's public-key attribute, and the point read back.
 *
 * The encryption pair's CKA_ID is SHA-1 of its point 04 || X || Y (as the
 * SKF side of FEITIAN-like stores names pairs), so every step can find
 * what an interrupted run left, and the encryption certificate takes the
 * same CKA_ID. The host never holds the encryption private key: it passes
 * the wrapped key through, and only the token opens it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "p11.h"

#define ENC_ID_LEN 20		/* SHA-1 */
#define POINT_LEN 65
#define CIPHER_LEN 113		/* C1 (65) || C3 (32) || C2 (16) */
#define WRAPPED_PRIV_LEN 32
#define POINT_GUESS 160

static CK_BBOOL ck_true = CK_TRUE;
static CK_BBOOL ck_false = CK_FALSE;

int p11_can_import(const gm_session *s)
{
	return gm_profile_unwraps(s->profile) && s->profile->container_attr;
}

/* ---- names ---- */

static int enc_id(const unsigned char point[POINT_LEN],
		  unsigned char id[ENC_ID_LEN])
{
	unsigned int n = 0;

	return EVP_Digest(point, POINT_LEN, id, &n, EVP_sha1(), NULL) == 1 &&
	       n == ENC_ID_LEN ? 0 : -1;
}

static int id_of_key(EVP_PKEY *pub, unsigned char id[ENC_ID_LEN])
{
	unsigned char *pt = NULL;
	size_t n = pub ? EVP_PKEY_get1_encoded_public_key(pub, &pt) : 0;
	int ret = n == POINT_LEN ? enc_id(pt, id) : -1;

	OPENSSL_free(pt);
	return ret;
}

/* The signing pair's container: the one it shows, or the one its CKA_ID
 * names (gm_container_name). */
static void container_of(const gm_snapshot_key *key, char *buf, size_t size)
{
	if (key->container && key->container[0])
		snprintf(buf, size, "%s", key->container);
	else if (key->id_len)
		gm_container_name(key->id, key->id_len, buf, size);
	else
		buf[0] = '\0';
}

/* The first object of class cls with this CKA_ID (CK_INVALID_HANDLE when
 * none). */
static int find_by_id(gm_session *s, CK_OBJECT_CLASS cls,
		      const unsigned char *id, size_t id_len,
		      CK_OBJECT_HANDLE *out, gm_error *err)
{
	CK_ATTRIBUTE t[2] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, (void *)(uintptr_t)id, id_len },
	};
	CK_OBJECT_HANDLE *h = NULL;
	size_t n = 0;

	*out = CK_INVALID_HANDLE;
	if (p11_find(s, t, 2, &h, &n, "searching the encryption key pair",
		     err) < 0)
		return -1;
	if (n)
		*out = h[0];
	free(h);
	return 0;
}

static void destroy_quietly(gm_session *s, CK_OBJECT_HANDLE h)
{
	CK_RV rv;

	if (h == CK_INVALID_HANDLE)
		return;
	rv = p11_fl(s)->C_DestroyObject(p11_h(s), h);
	gm_p11_log("C_DestroyObject", rv);
}

/* ---- the import ---- */

/* Codes that say the token could not open the envelope: the data the
 * service sent, not the token. */
static int bad_envelope(CK_RV rv)
{
	return rv == CKR_WRAPPED_KEY_INVALID ||
	       rv == CKR_WRAPPED_KEY_LEN_RANGE ||
	       rv == CKR_ENCRYPTED_DATA_INVALID ||
	       rv == CKR_ENCRYPTED_DATA_LEN_RANGE ||
	       rv == CKR_DATA_INVALID || rv == CKR_DATA_LEN_RANGE;
}

static int envelope_refused(gm_error *err)
{
	err->code = GM_EXIT_SERVICE;
	gm_error_set_fix(err, "nothing of the renewal stays installed; the "
			 "old certificates stay usable; report this to the "
			 "CA with the update code");
	return gm_error_set_reason(err, GM_REASON_ENCRYPTION_PART);
}

/* The driver does not take the profile's mechanisms. */
static int mechanism_refused(CK_RV rv)
{
	return rv == CKR_FUNCTION_NOT_SUPPORTED ||
	       rv == CKR_MECHANISM_INVALID || rv == CKR_MECHANISM_PARAM_INVALID;
}

static int unwrap_failed(gm_error *err, CK_RV rv, const char *what)
{
	gm_ckr_fail(err, rv, what);
	if (bad_envelope(rv))
		envelope_refused(err);
	else if (mechanism_refused(rv))
		gm_error_set_fix(err, "the driver does not take the token "
				 "profile's envelope_unwrap_sm2 and "
				 "envelope_unwrap_sm4: correct them, or renew "
				 "through SKF ('--api skf'); then run 'gmrenew "
				 "renew-with-code CODE'");
	return -1;
}

/* The SM4 key into a session secret key that can only unwrap. */
static CK_RV unwrap_secret(gm_session *s, const gm_snapshot_key *key,
			   const gm_enveloped_key *env, CK_OBJECT_HANDLE *out)
{
	CK_MECHANISM m = { s->profile->envelope_unwrap_sm2, NULL, 0 };
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = s->profile->envelope_key_type;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_TOKEN, &ck_false, sizeof(ck_false) },
		{ CKA_SENSITIVE, &ck_true, sizeof(ck_true) },
		{ CKA_EXTRACTABLE, &ck_false, sizeof(ck_false) },
		{ CKA_UNWRAP, &ck_true, sizeof(ck_true) },
	};
	CK_RV rv;

	rv = p11_fl(s)->C_UnwrapKey(p11_h(s), &m, (CK_OBJECT_HANDLE)key->ref.a,
				    (CK_BYTE_PTR)(uintptr_t)env->cipher,
				    CIPHER_LEN, t, sizeof(t) / sizeof(t[0]),
				    out);
	gm_p11_log("C_UnwrapKey", rv);
	return rv;
}

/* The private key into a token object of the container that decrypts and
 * never signs. */
static CK_RV unwrap_private(gm_session *s, CK_OBJECT_HANDLE secret,
			    const gm_enveloped_key *env,
			    const unsigned char *id, const char *label,
			    const char *container, CK_OBJECT_HANDLE *out)
{
	CK_MECHANISM m = { s->profile->envelope_unwrap_sm4, NULL, 0 };
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_KEY_TYPE kt = s->profile->key_type;
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_TOKEN, &ck_true, sizeof(ck_true) },
		{ CKA_PRIVATE, &ck_true, sizeof(ck_true) },
		{ CKA_SENSITIVE, &ck_true, sizeof(ck_true) },
		{ CKA_EXTRACTABLE, &ck_false, sizeof(ck_false) },
		{ CKA_DECRYPT, &ck_true, sizeof(ck_true) },
		{ CKA_SIGN, &ck_false, sizeof(ck_false) },
		{ CKA_ID, (void *)(uintptr_t)id, ENC_ID_LEN },
		{ CKA_LABEL, (void *)(uintptr_t)label, strlen(label) },
		{ s->profile->container_attr, (void *)(uintptr_t)container,
		  strlen(container) + 1 },
	};
	CK_RV rv;

	rv = p11_fl(s)->C_UnwrapKey(p11_h(s), &m, secret,
				    (CK_BYTE_PTR)(uintptr_t)env->enc_priv,
				    WRAPPED_PRIV_LEN, t,
				    sizeof(t) / sizeof(t[0]), out);
	gm_p11_log("C_UnwrapKey", rv);
	return rv;
}

/* Whether private key h shows the point of the envelope: 1 yes, 0 another,
 * -1 it shows none (a token that keeps no point on private keys), -2 the
 * call failed (err). */
static int priv_point_is(gm_session *s, CK_OBJECT_HANDLE h,
			 const unsigned char point[POINT_LEN], gm_error *err)
{
	CK_ATTRIBUTE params = { CKA_EC_PARAMS, NULL,
				CK_UNAVAILABLE_INFORMATION };
	CK_ATTRIBUTE a = { CKA_MODULUS, NULL, 0 };
	EVP_PKEY *got, *want;
	gm_error ignored;
	int same = -1;
	CK_RV rv;

	if (!p11_pub_in_modulus(s))
		return -1;	/* CKA_EC_POINT is a public key's */
	rv = p11_fetch(s, h, &a, POINT_GUESS);
	if (rv != CKR_OK) {
		gm_ckr_fail(err, rv, "reading the encryption key's point");
		return -2;
	}
	if (!a.pValue)
		return -1;
	got = p11_point_to_key(s, &params, &a, &ignored);
	want = gm_pubkey_from_ec_point(NULL, 0, point, POINT_LEN, NULL);
	if (got && want)
		same = gm_pubkey_equal(got, want) == 1;
	EVP_PKEY_free(got);
	EVP_PKEY_free(want);
	free(a.pValue);
	return same;
}

static int unwrap(gm_session *s, const gm_snapshot_key *key,
		  const gm_enveloped_key *env, const unsigned char *id,
		  const char *container, CK_OBJECT_HANDLE *priv,
		  gm_error *err)
{
	CK_OBJECT_HANDLE secret = CK_INVALID_HANDLE;
	CK_RV rv;
	int same;

	if ((CK_OBJECT_HANDLE)key->ref.a == CK_INVALID_HANDLE)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "the new key pair has no private key on the "
			       "token to open the enveloped key with");
	rv = unwrap_secret(s, key, env, &secret);
	if (rv != CKR_OK)
		return unwrap_failed(err, rv, "opening the enveloped key's "
				     "symmetric key on the token");
	rv = unwrap_private(s, secret, env, id, key->label ? key->label : "",
			    container, priv);
	destroy_quietly(s, secret);	/* it goes on every path */
	if (rv != CKR_OK)
		return unwrap_failed(err, rv, "opening the enveloped "
				     "encryption key on the token");
	same = priv_point_is(s, *priv, env->pub, err);
	if (same == -2)
		return -1;	/* the next run finds it and checks again */
	if (same == 0) {
		destroy_quietly(s, *priv);
		*priv = CK_INVALID_HANDLE;
		gm_fail(err, GM_EXIT_SERVICE, NULL,
			"the key the token opened from the envelope is not the "
			"envelope's public key");
		return envelope_refused(err);
	}
	return 0;
}

static int create_public(gm_session *s, const unsigned char point[POINT_LEN],
			 const unsigned char *id, const char *label,
			 const char *container, CK_OBJECT_HANDLE *out,
			 gm_error *err)
{
	const gm_profile *p = s->profile;
	CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	CK_KEY_TYPE kt = p->key_type;
	unsigned char octets[2 + POINT_LEN] = { 0x04, POINT_LEN };
	CK_ATTRIBUTE t[11] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_TOKEN, &ck_true, sizeof(ck_true) },
		{ CKA_PRIVATE, &ck_false, sizeof(ck_false) },
		{ CKA_ENCRYPT, &ck_true, sizeof(ck_true) },
		{ CKA_VERIFY, &ck_false, sizeof(ck_false) },
		{ CKA_ID, (void *)(uintptr_t)id, ENC_ID_LEN },
		{ CKA_LABEL, (void *)(uintptr_t)label, strlen(label) },
		{ p->container_attr, (void *)(uintptr_t)container,
		  strlen(container) + 1 },
	};
	CK_ULONG n = 9;
	CK_RV rv;

	if (p11_pub_in_modulus(s)) {
		t[n++] = (CK_ATTRIBUTE){ CKA_MODULUS,
			(void *)(uintptr_t)(point + 1), POINT_LEN - 1 };
	} else {
		memcpy(octets + 2, point, POINT_LEN);
		t[n++] = (CK_ATTRIBUTE){ CKA_EC_PARAMS,
			(void *)(uintptr_t)p->ec_params, p->ec_params_len };
		t[n++] = (CK_ATTRIBUTE){ CKA_EC_POINT, octets, sizeof(octets) };
	}
	rv = p11_fl(s)->C_CreateObject(p11_h(s), t, n, out);
	gm_p11_log("C_CreateObject", rv);
	if (rv != CKR_OK)
		return gm_ckr_fail(err, rv, "storing the encryption public key "
				   "on the token");
	return 0;
}

/* What an interrupted run left is used: a private key with the
 * envelope's point (another one, from an envelope that was not the right
 * one, goes), a public key already there. */
int p11_import_envelope(gm_session *s, const gm_snapshot_key *key,
			const gm_enveloped_key *env, EVP_PKEY **token_pub,
			gm_error *err)
{
	CK_OBJECT_HANDLE priv, pub;
	unsigned char id[ENC_ID_LEN];
	char container[80];
	const char *label = key->label ? key->label : "";
	int same = 1;

	*token_pub = NULL;
	if (enc_id(env->pub, id))
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "cannot compute the encryption key's CKA_ID");
	container_of(key, container, sizeof(container));
	if (find_by_id(s, CKO_PRIVATE_KEY, id, ENC_ID_LEN, &priv, err))
		return -1;
	if (priv != CK_INVALID_HANDLE)
		same = priv_point_is(s, priv, env->pub, err);
	if (same == -2)
		return -1;
	if (same == 0) {
		gm_debug("an encryption key of another point is in the "
			 "container: removed before the import");
		if (p11_destroy(s, p11_pair_ref(priv, CK_INVALID_HANDLE), err))
			return -1;
		priv = CK_INVALID_HANDLE;
	}
	if (priv == CK_INVALID_HANDLE &&
	    unwrap(s, key, env, id, container, &priv, err))
		return -1;
	if (find_by_id(s, CKO_PUBLIC_KEY, id, ENC_ID_LEN, &pub, err))
		return -1;
	if (pub == CK_INVALID_HANDLE &&
	    create_public(s, env->pub, id, label, container, &pub, err))
		return -1;
	if (p11_read_pubkey(s, pub, token_pub, err))
		return gm_error_prefix(err, "reading the encryption public key "
				       "back");
	return 0;
}

/* ---- the certificate and reading ---- */

static int cert_pubkey(const unsigned char *der, size_t der_len,
		       unsigned char id[ENC_ID_LEN], gm_error *err)
{
	gm_cert_facts f;
	int ret;

	if (gm_cert_facts_parse(der, der_len, &f, err))
		return -1;
	ret = id_of_key(f.pubkey, id);
	gm_cert_facts_release(&f);
	if (ret)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "the encryption certificate's public key is "
			       "not an uncompressed point");
	return 0;
}

int p11_store_enc_cert(gm_session *s, const gm_snapshot_key *key,
		       const unsigned char *der, size_t der_len,
		       gm_token_ref *out, gm_error *err)
{
	unsigned char id[ENC_ID_LEN];
	char container[80];

	if (cert_pubkey(der, der_len, id, err))
		return -1;
	container_of(key, container, sizeof(container));
	return p11_store_cert_as(s, id, ENC_ID_LEN, container,
				 key->label ? key->label : "", der, der_len,
				 out, err);
}

/* The container's encryption private key: one that does not sign. */
static int find_enc_private(gm_session *s, const char *container,
			    CK_OBJECT_HANDLE *out, gm_error *err)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t[3] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ s->profile->container_attr, (void *)(uintptr_t)container,
		  strlen(container) + 1 },
		{ CKA_SIGN, &ck_false, sizeof(ck_false) },
	};
	CK_OBJECT_HANDLE *h = NULL;
	size_t n = 0;

	*out = CK_INVALID_HANDLE;
	if (p11_find(s, t, 3, &h, &n, "searching the container's encryption "
		     "key", err) < 0)
		return -1;
	if (n)
		*out = h[0];
	free(h);
	return 0;
}

static int read_id(gm_session *s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE *id,
		   gm_error *err)
{
	CK_RV rv;

	id->type = CKA_ID;
	rv = p11_fetch(s, h, id, ENC_ID_LEN);
	if (rv != CKR_OK)
		return gm_ckr_fail(err, rv, "reading the encryption key's "
				   "CKA_ID");
	return 0;
}

/* The certificate (none: NULL) and public key (none, or only the private
 * key there: NULL) of the container's encryption pair. */
int p11_read_encryption(gm_session *s, const gm_snapshot_key *key,
			unsigned char **der, size_t *der_len, EVP_PKEY **pub,
			gm_error *err)
{
	CK_ATTRIBUTE id = { CKA_ID, NULL, 0 };
	CK_OBJECT_HANDLE priv, ph, ch;
	char container[80];
	int ret = -1;

	container_of(key, container, sizeof(container));
	if (find_enc_private(s, container, &priv, err))
		return -1;
	if (priv == CK_INVALID_HANDLE)
		return 0;
	if (read_id(s, priv, &id, err))
		return -1;
	if (!id.pValue || !id.ulValueLen) {
		ret = 0;	/* not one gmrenew made: nothing to resume */
		goto out;
	}
	if (find_by_id(s, CKO_PUBLIC_KEY, id.pValue, id.ulValueLen, &ph, err) ||
	    (ph != CK_INVALID_HANDLE && p11_read_pubkey(s, ph, pub, err)) ||
	    find_by_id(s, CKO_CERTIFICATE, id.pValue, id.ulValueLen, &ch, err))
		goto out;
	if (ch != CK_INVALID_HANDLE &&
	    p11_read_cert(s, p11_cert_ref(ch), der, der_len, err))
		goto out;
	ret = 0;
out:
	if (ret) {
		EVP_PKEY_free(*pub);
		*pub = NULL;
	}
	free(id.pValue);
	return ret;
}

int p11_enc_pair(gm_session *s, const gm_snapshot_key *key, EVP_PKEY *pub,
		 gm_snapshot_key *out, gm_error *err)
{
	CK_OBJECT_HANDLE priv, ph;
	unsigned char id[ENC_ID_LEN];
	char container[80];

	if (id_of_key(pub, id))
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "cannot compute the encryption key's CKA_ID");
	if (find_by_id(s, CKO_PRIVATE_KEY, id, ENC_ID_LEN, &priv, err) ||
	    find_by_id(s, CKO_PUBLIC_KEY, id, ENC_ID_LEN, &ph, err))
		return -1;
	if (priv == CK_INVALID_HANDLE && ph == CK_INVALID_HANDLE)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "the encryption key pair is not on the token");
	container_of(key, container, sizeof(container));
	out->ref = p11_pair_ref(priv, ph);
	out->parts = (priv != CK_INVALID_HANDLE ? GM_KEYPAIR_PRIVATE : 0) |
		     (ph != CK_INVALID_HANDLE ? GM_KEYPAIR_PUBLIC : 0);
	out->id = (unsigned char *)gm_xmemdup(id, ENC_ID_LEN);
	out->id_len = ENC_ID_LEN;
	out->label = gm_xstrdup(key->label ? key->label : "");
	out->container = gm_xstrdup(container);
	EVP_PKEY_up_ref(pub);
	out->pubkey = pub;
	out->role = GM_ROLE_ENCRYPTION;
	return 0;
}
