/* st_skf_key.c - SKF key pairs, signatures, the enveloped key import and
 * digests of the soft ePass3000GM. Keys are the PKCS#11 key objects of
 * the container (st_object.h), so a pair made here is the pair PKCS#11
 * shows, and the reverse. */
#include "st_skf_int.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "st_crypto.h"

static void pem_free(char *pem)
{
	if (pem) {
		OPENSSL_cleanse(pem, strlen(pem));
		free(pem);
	}
}

/* ---- blobs ---------------------------------------------------------- */

static void blob_from_point(const unsigned char point[GMSOFT_SM2_POINT_LEN],
			    ECCPUBLICKEYBLOB *b)
{
	memset(b, 0, sizeof(*b));
	b->BitLen = 256;
	memcpy(b->XCoordinate + 32, point + 1, 32);
	memcpy(b->YCoordinate + 32, point + 33, 32);
}

static int zero(const BYTE *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* A 256-bit key with zero padding, as the driver and GmSSL accept. */
static ULONG point_from_blob(const ECCPUBLICKEYBLOB *b,
			     unsigned char point[GMSOFT_SM2_POINT_LEN])
{
	if (!b)
		return SAR_INVALIDPARAMERR;
	if (b->BitLen != 256 || !zero(b->XCoordinate, 32) ||
	    !zero(b->YCoordinate, 32))
		return SAR_INVALIDPARAMERR;
	point[0] = 0x04;
	memcpy(point + 1, b->XCoordinate + 32, 32);
	memcpy(point + 33, b->YCoordinate + 32, 32);
	return SAR_OK;
}

/* ---- key pairs ------------------------------------------------------ */

static ULONG con_objects(HCONTAINER p, struct gmsoft_skf_handle **h,
			 struct gmsoft_object **objs, size_t *n)
{
	ULONG sar = gmsoft_skf_open(p, SKF_KIND_CON, h);

	*objs = NULL;
	*n = 0;
	return sar ? sar : gmsoft_skf_objects(*h, objs, n, 0);
}

/* Store pem as the container's signing or exchange pair, replacing the
 * pair of that kind. The caller holds the exclusive lock. */
static ULONG pair_store(struct gmsoft_skf_handle *h, const char *pem, int local,
			int sign)
{
	struct gmsoft_object *objs = NULL, pub, priv;
	struct gmsoft_object *list[2] = { &pub, &priv };
	size_t n = 0, old[2];
	ULONG sar = gmsoft_skf_objects(h, &objs, &n, 1);

	if (sar != SAR_OK)
		return sar;
	if (gmsoft_skf_container_rsa(objs, n, h->name)) {
		gmsoft_objects_free(objs, n);
		return SAR_NOTSUPPORTYETERR;
	}
	old[0] = gmsoft_skf_key_find(objs, n, h->name, CKO_PUBLIC_KEY, sign);
	old[1] = gmsoft_skf_key_find(objs, n, h->name, CKO_PRIVATE_KEY, sign);
	sar = gmsoft_skf_sar(
		gmsoft_keypair_build(pem, local, h->name, sign, &pub, &priv));
	if (sar == SAR_OK) {
		sar = gmsoft_skf_sar(
			gmsoft_skf_replace(h, objs, n, old, 2, list, 2));
		gmsoft_object_clear(&pub);
		gmsoft_object_clear(&priv);
	}
	gmsoft_objects_free(objs, n);
	return sar;
}

static ULONG pair_store_locked(struct gmsoft_skf_handle *h, const char *pem,
			       int local, int sign)
{
	int fd;
	ULONG sar;

	if (gmsoft_lock(gmsoft_g.dir, 1, &fd) != CKR_OK)
		return SAR_FAIL;
	sar = pair_store(h, pem, local, sign);
	gmsoft_unlock(fd);
	return sar;
}

ULONG gmsoft_skf_gen_ecc_key_pair(HCONTAINER p, ULONG alg,
				  ECCPUBLICKEYBLOB *blob)
{
	struct gmsoft_skf_handle *h;
	unsigned char point[GMSOFT_SM2_POINT_LEN];
	char *pem = NULL;
	ULONG sar = gmsoft_skf_open(p, SKF_KIND_CON, &h);

	if (sar != SAR_OK)
		return sar;
	/* FEITIAN's ids: SGD_SM2_1 a signing pair, SGD_SM2_3 an exchange
	 * pair; GM/T 0006's SGD_SM2_1 (0x00020200) is refused. */
	if ((alg != SGD_SM2_1 && alg != SGD_SM2_3) || !blob)
		return SAR_INVALIDPARAMERR;
	sar = gmsoft_skf_need_user(h);
	if (sar != SAR_OK)
		return sar;
	gmsoft_latency_add(gmsoft_g.faults.latency_keygen);
	sar = gmsoft_skf_sar(gmsoft_sm2_generate(&pem));
	sar = sar ? sar : gmsoft_skf_sar(gmsoft_sm2_point(pem, point));
	sar = sar ? sar : pair_store_locked(h, pem, 1, alg == SGD_SM2_1);
	if (sar == SAR_OK)
		blob_from_point(point, blob);
	pem_free(pem);
	return sar;
}

ULONG gmsoft_skf_export_public_key(HCONTAINER p, BOOL sign, BYTE *out,
				   ULONG *len)
{
	struct gmsoft_skf_handle *h;
	struct gmsoft_object *objs;
	unsigned char point[GMSOFT_SM2_POINT_LEN];
	ECCPUBLICKEYBLOB blob;
	size_t n, at;
	ULONG sar = con_objects(p, &h, &objs, &n);

	if (sar == SAR_OK && !len)
		sar = SAR_INVALIDPARAMERR;
	if (sar != SAR_OK)
		goto out;
	at = gmsoft_skf_key_find(objs, n, h->name, CKO_PUBLIC_KEY, sign);
	if (at == n || gmsoft_point_from_attr(&objs[at], point) != CKR_OK) {
		sar = SAR_KEYNOTFOUNTERR;
		goto out;
	}
	blob_from_point(point, &blob);
	sar = gmsoft_skf_bytes_out(&blob, sizeof(blob), out, len);
out:
	gmsoft_objects_free(objs, n);
	return sar;
}

/* The PEM of the container's private key of that kind; caller frees. */
static ULONG private_pem(HCONTAINER p, int sign, char **pem)
{
	struct gmsoft_skf_handle *h;
	struct gmsoft_object *objs;
	size_t n, at;
	ULONG sar = con_objects(p, &h, &objs, &n);

	if (sar == SAR_OK)
		sar = gmsoft_skf_need_user(h);
	if (sar != SAR_OK)
		goto out;
	at = gmsoft_skf_key_find(objs, n, h->name, CKO_PRIVATE_KEY, sign);
	if (at == n || !objs[at].key_pem) {
		sar = SAR_KEYNOTFOUNTERR;
		goto out;
	}
	*pem = strdup(objs[at].key_pem);
	sar = *pem ? SAR_OK : SAR_MEMORYERR;
out:
	gmsoft_objects_free(objs, n);
	return sar;
}

ULONG gmsoft_skf_ecc_sign_data(HCONTAINER p, BYTE *data, ULONG len,
			       ECCSIGNATUREBLOB *sig)
{
	struct gmsoft_skf_handle *h;
	unsigned char rs[GMSOFT_SM2_SIG_LEN];
	char *pem = NULL;
	ULONG sar = gmsoft_skf_open(p, SKF_KIND_CON, &h);

	if (sar != SAR_OK)
		return sar;
	if (!data || !sig)
		return SAR_INVALIDPARAMERR;
	/* The driver signs the finished e = SM3(Z || M) only. */
	if (len != GMSOFT_SM2_DIGEST_MAX)
		return SAR_INDATALENERR;
	sar = private_pem(p, 1, &pem);
	if (sar != SAR_OK)
		return sar;
	gmsoft_latency_add(gmsoft_g.faults.latency_sign);
	sar = gmsoft_skf_sar(gmsoft_sm2_sign(pem, data, len, rs));
	if (sar == SAR_OK)
		gmsoft_sig_to_blob(rs, (unsigned char *)sig);
	pem_free(pem);
	return sar;
}

ULONG gmsoft_skf_ecc_verify(DEVHANDLE p, ECCPUBLICKEYBLOB *pub, BYTE *data,
			    ULONG len, ECCSIGNATUREBLOB *sig)
{
	struct gmsoft_skf_handle *h;
	unsigned char point[GMSOFT_SM2_POINT_LEN], rs[GMSOFT_SM2_SIG_LEN];
	ULONG sar = gmsoft_skf_open(p, SKF_KIND_DEV, &h);

	sar = sar ? sar : point_from_blob(pub, point);
	if (sar != SAR_OK)
		return sar;
	if (!data || !sig)
		return SAR_INVALIDPARAMERR;
	if (len != GMSOFT_SM2_DIGEST_MAX)
		return SAR_INDATALENERR;
	if (gmsoft_blob_to_sig((const unsigned char *)sig, rs) != CKR_OK)
		return SAR_FAIL;
	return gmsoft_sm2_verify(point, data, len, rs) == CKR_OK ? SAR_OK :
								   SAR_FAIL;
}

/* ---- SM2 encryption ------------------------------------------------- */

static ULONG cipher_to_der(const ECCCIPHERBLOB *b, size_t cap,
			   unsigned char **der, size_t *len)
{
	struct gmsoft_sm2_cipher c;

	if (!b || b->CipherLen == 0 || b->CipherLen > cap ||
	    !zero(b->XCoordinate, 32) || !zero(b->YCoordinate, 32))
		return SAR_INDATAERR;
	memcpy(c.x, b->XCoordinate + 32, 32);
	memcpy(c.y, b->YCoordinate + 32, 32);
	memcpy(c.hash, b->HASH, 32);
	c.c2 = (unsigned char *)b->Cipher;
	c.c2len = b->CipherLen;
	return gmsoft_skf_sar(gmsoft_sm2_cipher_to_der(&c, der, len));
}

ULONG gmsoft_skf_ext_ecc_encrypt(DEVHANDLE p, ECCPUBLICKEYBLOB *pub, BYTE *in,
				 ULONG len, ECCCIPHERBLOB *out)
{
	struct gmsoft_skf_handle *h;
	struct gmsoft_sm2_cipher c = { 0 };
	unsigned char point[GMSOFT_SM2_POINT_LEN], *der = NULL;
	size_t derlen = 0;
	ULONG sar = gmsoft_skf_open(p, SKF_KIND_DEV, &h);

	sar = sar ? sar : point_from_blob(pub, point);
	if (sar != SAR_OK)
		return sar;
	if (!in || !out || len == 0 || len > 256)
		return in && out ? SAR_INDATALENERR : SAR_INVALIDPARAMERR;
	sar = gmsoft_skf_sar(gmsoft_sm2_encrypt(point, in, len, &der, &derlen));
	sar = sar ? sar :
		    gmsoft_skf_sar(gmsoft_sm2_cipher_from_der(der, derlen, &c));
	if (sar == SAR_OK) {
		memset(out, 0, offsetof(ECCCIPHERBLOB, Cipher));
		memcpy(out->XCoordinate + 32, c.x, 32);
		memcpy(out->YCoordinate + 32, c.y, 32);
		memcpy(out->HASH, c.hash, 32);
		out->CipherLen = c.c2len;
		memcpy(out->Cipher, c.c2, c.c2len);
	}
	free(c.c2);
	OPENSSL_free(der);
	return sar;
}

/* Decrypt blob (at most cap cipher bytes) with the private key pem;
 * *plain (caller frees) receives the plaintext. */
static ULONG pem_decrypt(const char *pem, const ECCCIPHERBLOB *blob, size_t cap,
			 unsigned char **plain, size_t *len)
{
	unsigned char *der = NULL;
	size_t derlen = 0;
	ULONG sar = cipher_to_der(blob, cap, &der, &derlen);

	sar = sar ? sar :
		    gmsoft_skf_sar(
			    gmsoft_sm2_decrypt(pem, der, derlen, plain, len));
	OPENSSL_free(der);
	return sar;
}

/* The same with the container's private key of that kind. */
static ULONG con_decrypt(HCONTAINER p, int sign, const ECCCIPHERBLOB *blob,
			 size_t cap, unsigned char **plain, size_t *len)
{
	char *pem = NULL;
	ULONG sar = private_pem(p, sign, &pem);

	sar = sar ? sar : pem_decrypt(pem, blob, cap, plain, len);
	pem_free(pem);
	return sar;
}

static ULONG plain_out(unsigned char *plain, size_t n, BYTE *out, ULONG *len)
{
	ULONG sar = gmsoft_skf_bytes_out(plain, n, out, len);

	if (plain)
		OPENSSL_cleanse(plain, n);
	free(plain);
	return sar;
}

ULONG gmsoft_skf_ecc_decrypt(HCONTAINER p, ECCCIPHERBLOB *in, BYTE *out,
			     ULONG *len)
{
	unsigned char *plain = NULL;
	size_t n = 0;
	ULONG sar;

	if (!in || !len)
		return SAR_INVALIDPARAMERR;
	sar = con_decrypt(p, 0, in, 256, &plain, &n);
	return sar == SAR_OK ? plain_out(plain, n, out, len) : sar;
}

/* ---- external private keys ------------------------------------------ */

/* The PEM of an ECCPRIVATEKEYBLOB (BitLen 256, d right-aligned). */
static ULONG pem_from_blob(const ECCPRIVATEKEYBLOB *b, char **pem)
{
	if (!b)
		return SAR_INVALIDPARAMERR;
	if (b->BitLen != 256 || !zero(b->PrivateKey, 32))
		return SAR_INVALIDPARAMERR;
	return gmsoft_sm2_from_scalar(b->PrivateKey + 32, pem) == CKR_OK ?
		       SAR_OK :
		       SAR_INVALIDPARAMERR;
}

ULONG gmsoft_skf_ext_ecc_sign(DEVHANDLE p, ECCPRIVATEKEYBLOB *priv, BYTE *data,
			      ULONG len, ECCSIGNATUREBLOB *sig)
{
	struct gmsoft_skf_handle *h;
	unsigned char rs[GMSOFT_SM2_SIG_LEN];
	char *pem = NULL;
	ULONG sar = gmsoft_skf_open(p, SKF_KIND_DEV, &h);

	if (sar == SAR_OK && (!data || !sig))
		sar = SAR_INVALIDPARAMERR;
	if (sar == SAR_OK && len != GMSOFT_SM2_DIGEST_MAX)
		sar = SAR_INDATALENERR;
	sar = sar ? sar : pem_from_blob(priv, &pem);
	sar = sar ? sar : gmsoft_skf_sar(gmsoft_sm2_sign(pem, data, len, rs));
	if (sar == SAR_OK)
		gmsoft_sig_to_blob(rs, (unsigned char *)sig);
	pem_free(pem);
	return sar;
}

ULONG gmsoft_skf_ext_ecc_decrypt(DEVHANDLE p, ECCPRIVATEKEYBLOB *priv,
				 ECCCIPHERBLOB *in, BYTE *out, ULONG *len)
{
	struct gmsoft_skf_handle *h;
	unsigned char *plain = NULL;
	size_t n = 0;
	char *pem = NULL;
	ULONG sar = gmsoft_skf_open(p, SKF_KIND_DEV, &h);

	if (sar == SAR_OK && (!in || !len))
		sar = SAR_INVALIDPARAMERR;
	sar = sar ? sar : pem_from_blob(priv, &pem);
	sar = sar ? sar : pem_decrypt(pem, in, 256, &plain, &n);
	pem_free(pem);
	return sar == SAR_OK ? plain_out(plain, n, out, len) : sar;
}

/* ---- the enveloped key import --------------------------------------- */

/* The 32-byte d from the 64-byte cbEncryptedPriKey. Two forms: the whole
 * field encrypted (32 zero bytes then d, as GmSSL builds it), or d alone
 * encrypted into the field's last 32 bytes, the first 32 being zero. */
static ULONG envelope_scalar(const unsigned char key[16], const BYTE field[64],
			     unsigned char d[32])
{
	unsigned char plain[64];
	ULONG sar = SAR_OK;

	if (zero(field, 32)) {
		if (gmsoft_sm4_ecb_decrypt(key, field + 32, 32, d) != CKR_OK)
			sar = SAR_INDATAERR;
	} else if (gmsoft_sm4_ecb_decrypt(key, field, 64, plain) != CKR_OK ||
		   !zero(plain, 32)) {
		sar = SAR_INDATAERR;
	} else {
		memcpy(d, plain + 32, 32);
	}
	OPENSSL_cleanse(plain, sizeof(plain));
	return sar;
}

/* The private key PEM the envelope carries, checked against PubKey. */
static ULONG envelope_key(HCONTAINER p, const ENVELOPEDKEYBLOB *env, char **pem)
{
	unsigned char *key = NULL, d[32];
	unsigned char want[GMSOFT_SM2_POINT_LEN], got[GMSOFT_SM2_POINT_LEN];
	size_t keylen = 0;
	ULONG sar = point_from_blob(&env->PubKey, want);

	/* the symmetric key, SM2-encrypted to the signing public key */
	sar = sar ? SAR_INDATAERR :
		    con_decrypt(p, 1, &env->ECCCipherBlob, 16, &key, &keylen);
	if (sar == SAR_OK && keylen != 16)
		sar = SAR_INDATAERR;
	sar = sar ? sar : envelope_scalar(key, env->cbEncryptedPriKey, d);
	sar = sar ? sar : gmsoft_skf_sar(gmsoft_sm2_from_scalar(d, pem));
	if (sar == SAR_OK && (gmsoft_sm2_point(*pem, got) != CKR_OK ||
			      memcmp(got, want, sizeof(got)) != 0)) {
		pem_free(*pem);
		*pem = NULL;
		sar = SAR_INDATAERR; /* not the key of PubKey */
	}
	OPENSSL_cleanse(d, sizeof(d));
	if (key)
		OPENSSL_cleanse(key, keylen);
	free(key);
	return sar;
}

static ULONG envelope_check(const ENVELOPEDKEYBLOB *env)
{
	if (!env)
		return SAR_INVALIDPARAMERR;
	if (env->ulSymmAlgID != SGD_SM4_ECB)
		return SAR_NOTSUPPORTYETERR; /* SM1 and SSF33 are the card's */
	if (env->ulBits != 256)
		return SAR_INVALIDPARAMERR;
	if (env->ECCCipherBlob.CipherLen != 16)
		return SAR_INDATALENERR;
	return SAR_OK;
}

ULONG gmsoft_skf_import_ecc_key_pair(HCONTAINER p, ENVELOPEDKEYBLOB *env)
{
	struct gmsoft_skf_handle *h;
	struct gmsoft_object *objs;
	char *pem = NULL;
	size_t n;
	int rsa;
	ULONG sar = con_objects(p, &h, &objs, &n);

	if (sar != SAR_OK)
		return sar;
	rsa = gmsoft_skf_container_rsa(objs, n, h->name);
	gmsoft_objects_free(objs, n);
	if (rsa)
		return SAR_NOTSUPPORTYETERR;
	sar = envelope_check(env);
	sar = sar ? sar : gmsoft_skf_need_user(h);
	sar = sar ? sar : envelope_key(p, env, &pem);
	sar = sar ? sar : pair_store_locked(h, pem, 0, 0);
	pem_free(pem);
	return sar;
}

/* ---- digests -------------------------------------------------------- */

static const EVP_MD *digest_md(ULONG alg)
{
	switch (alg) {
	case SGD_SM3: return EVP_sm3();
	case 0x00000002UL: return EVP_sha1();
	case 0x00000004UL: return EVP_sha256();
	default: return NULL;
	}
}

/* With SM3, a public key and an ID, the hash starts with Z (computed in
 * software, as the driver does). */
static ULONG digest_z(EVP_MD_CTX *md, ULONG alg, const ECCPUBLICKEYBLOB *pub,
		      const BYTE *id, ULONG idlen)
{
	unsigned char point[GMSOFT_SM2_POINT_LEN], z[32];
	ULONG sar;

	if (!pub)
		return SAR_OK;
	if (alg != SGD_SM3 || !id || idlen == 0)
		return SAR_INVALIDPARAMERR;
	sar = point_from_blob(pub, point);
	sar = sar ? sar : gmsoft_skf_sar(gmsoft_sm2_z(point, id, idlen, z));
	if (sar == SAR_OK && EVP_DigestUpdate(md, z, sizeof(z)) != 1)
		sar = SAR_HASHERR;
	return sar;
}

ULONG gmsoft_skf_digest_init(DEVHANDLE p, ULONG alg, ECCPUBLICKEYBLOB *pub,
			     BYTE *id, ULONG idlen, HANDLE *out)
{
	struct gmsoft_skf_handle *h, *hash;
	const EVP_MD *type = digest_md(alg);
	EVP_MD_CTX *md;
	ULONG sar = gmsoft_skf_open(p, SKF_KIND_DEV, &h);

	if (sar != SAR_OK)
		return sar;
	if (!type || !out)
		return SAR_INVALIDPARAMERR;
	md = EVP_MD_CTX_new();
	if (!md)
		return SAR_MEMORYERR;
	sar = EVP_DigestInit_ex(md, type, NULL) == 1 ? SAR_OK : SAR_HASHERR;
	sar = sar ? sar : digest_z(md, alg, pub, id, idlen);
	hash = sar ? NULL : gmsoft_skf_new(SKF_KIND_HASH, h);
	if (!hash) {
		EVP_MD_CTX_free(md);
		return sar ? sar : SAR_MEMORYERR;
	}
	hash->md = md;
	*out = hash;
	return SAR_OK;
}

static ULONG hash_get(HANDLE p, EVP_MD_CTX **md)
{
	struct gmsoft_skf_handle *h = gmsoft_skf_get(p, SKF_KIND_HASH);

	if (!h)
		return SAR_INVALIDHANDLEERR;
	if (!h->md)
		return SAR_NOTINITIALIZEERR; /* finished */
	*md = h->md;
	return SAR_OK;
}

static void hash_done(HANDLE p)
{
	struct gmsoft_skf_handle *h = gmsoft_skf_get(p, SKF_KIND_HASH);

	EVP_MD_CTX_free(h->md);
	h->md = NULL;
}

ULONG gmsoft_skf_digest_update(HANDLE p, BYTE *data, ULONG len)
{
	EVP_MD_CTX *md;
	ULONG sar = hash_get(p, &md);

	if (sar != SAR_OK)
		return sar;
	if (!data && len)
		return SAR_INVALIDPARAMERR;
	return EVP_DigestUpdate(md, data, len) == 1 ? SAR_OK : SAR_HASHERR;
}

ULONG gmsoft_skf_digest_final(HANDLE p, BYTE *out, ULONG *outlen)
{
	EVP_MD_CTX *md;
	unsigned int n = 0;
	size_t size;
	ULONG sar = hash_get(p, &md);

	if (sar != SAR_OK)
		return sar;
	if (!outlen)
		return SAR_INVALIDPARAMERR;
	size = (size_t)EVP_MD_CTX_get_size(md);
	if (!out || *outlen < size) {
		sar = out ? SAR_BUFFER_TOO_SMALL : SAR_OK;
		*outlen = size;
		return sar;
	}
	sar = EVP_DigestFinal_ex(md, out, &n) == 1 ? SAR_OK : SAR_HASHERR;
	*outlen = n;
	hash_done(p);
	return sar;
}

ULONG gmsoft_skf_digest(HANDLE p, BYTE *data, ULONG len, BYTE *out,
			ULONG *outlen)
{
	EVP_MD_CTX *md;
	ULONG sar = hash_get(p, &md);

	if (sar != SAR_OK)
		return sar;
	if (!outlen || (!data && len))
		return SAR_INVALIDPARAMERR;
	if (!out || *outlen < (size_t)EVP_MD_CTX_get_size(md))
		return gmsoft_skf_digest_final(p, out, outlen);
	sar = gmsoft_skf_digest_update(p, data, len);
	return sar ? sar : gmsoft_skf_digest_final(p, out, outlen);
}

ULONG gmsoft_skf_close_handle(HANDLE p)
{
	struct gmsoft_skf_handle *h = gmsoft_skf_get(p, SKF_KIND_HASH);

	if (!h)
		return SAR_INVALIDHANDLEERR;
	gmsoft_skf_free(h);
	return SAR_OK;
}
