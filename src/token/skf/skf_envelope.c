/*
 * skf_envelope.c - the encryption pair of a double certificate through
 * SKF: the ENVELOPEDKEYBLOB built at the library's ABI from the wire form
 * (docs/protocol.md section 3.8), SKF_ImportECCKeyPair into the container
 * of the new signing pair, the encryption certificate imported with
 * bSignFlag FALSE, and both read back. The host never holds the
 * encryption private key: it passes the envelope through, and only the
 * token, with the container's signing key, can open it.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "skf_internal.h"

static size_t round_up(size_t off, size_t align)
{
	return (off + align - 1) / align * align;
}

/*
 * ENVELOPEDKEYBLOB { ULONG Version, ulSymmAlgID, ulBits;
 * BYTE cbEncryptedPriKey[64]; ECCPUBLICKEYBLOB PubKey;
 * ECCCIPHERBLOB ECCCipherBlob { X[64], Y[64], HASH[32], ULONG CipherLen,
 * BYTE Cipher[] } }. FEITIAN's x86-64 driver (8-byte ULONG, packed):
 * 0, 8, 0x10, 0x18, 0x58, 0xDC, CipherLen 0x17C, Cipher 0x184. The 32
 * bytes of the encrypted private key are right-aligned in their 64-byte
 * field (bytes 32..63), as ECCPRIVATEKEYBLOB carries a key.
 */
void gm_skf_envelope_blob(const gm_skf_abi *abi, const gm_enveloped_key *env,
			  unsigned char *buf, size_t *len)
{
	size_t w = abi->ulong_size, pri = 3 * w, pub = pri + 64, ecc, clen;

	memset(buf, 0, SKF_ENVELOPE_BUF);
	ecc = pub + SKF_ECC_PUBBLOB_LEN;
	if (!abi->packed)
		ecc = round_up(ecc, w);		/* the blob holds a ULONG */
	clen = ecc + 2 * SKF_ECC_COORD_LEN + 32;
	gm_skf_put(buf, (unsigned)w, env->version);
	gm_skf_put(buf + w, (unsigned)w, env->sym_alg_id);
	gm_skf_put(buf + 2 * w, (unsigned)w, env->bits);
	memcpy(buf + pri + 32, env->enc_priv, 32);
	gm_skf_put(buf + pub, 4, 256);
	memcpy(buf + pub + SKF_ECC_PUB_X + 32, env->pub + 1, 32);
	memcpy(buf + pub + SKF_ECC_PUB_Y + 32, env->pub + 33, 32);
	/* C1 = 04 || x1 || y1, C3, C2 */
	memcpy(buf + ecc + 32, env->cipher + 1, 32);
	memcpy(buf + ecc + SKF_ECC_COORD_LEN + 32, env->cipher + 33, 32);
	memcpy(buf + ecc + 2 * SKF_ECC_COORD_LEN, env->cipher + 65, 32);
	gm_skf_put(buf + clen, (unsigned)w, 16);
	memcpy(buf + clen + w, env->cipher + 97, 16);
	*len = clen + w + 16;
}

/* The codes of an envelope the token could not open or take: the data
 * the service sent, not the token. */
static int bad_envelope(skf_rv rv)
{
	return rv == SAR_INDATAERR || rv == SAR_INDATALENERR ||
	       rv == SAR_HASHNOTEQUALERR || rv == SAR_DECRYPTPADERR ||
	       rv == SAR_INVALIDPARAMERR || rv == SAR_NOTSUPPORTYETERR ||
	       rv == SAR_KEYINFOTYPEERR || rv == SAR_KEYUSAGEERR;
}

/* The token could not open or take the envelope: the service's fault
 * (GM_REASON_ENCRYPTION_PART); any other failure keeps its own code. */
static int import_refused(gm_error *err, skf_rv rv)
{
	gm_sar_fail(err, rv, "importing the enveloped encryption key");
	if (err && bad_envelope(rv)) {
		err->code = GM_EXIT_SERVICE;
		gm_error_set_fix(err, "nothing of the renewal stays installed; "
				 "the old certificates stay usable; report "
				 "this to the CA with the update code");
		gm_error_set_reason(err, GM_REASON_ENCRYPTION_PART);
	}
	return -1;
}

int gm_skf_import_envelope(gm_skf_dev *d, const char *container,
			   const gm_enveloped_key *env, EVP_PKEY **pub,
			   gm_error *err)
{
	unsigned char blob[SKF_ENVELOPE_BUF];
	skf_handle h = NULL;
	size_t len;
	skf_rv rv;
	int ret;

	*pub = NULL;
	if (!d->lib->f.ImportECCKeyPair)
		return gm_fail(err, GM_EXIT_ENV, NULL,
			       "the SKF library does not export "
			       "SKF_ImportECCKeyPair: it cannot take the "
			       "encryption key pair of a double certificate");
	gm_skf_envelope_blob(&d->lib->abi, env, blob, &len);
	if (gm_skf_con_open(d, container, &h, err) != SAR_OK)
		return -1;
	rv = gm_skf_rv(&d->lib->abi, d->lib->f.ImportECCKeyPair(h, blob));
	gm_skf_log("SKF_ImportECCKeyPair", rv);
	OPENSSL_cleanse(blob, sizeof(blob));
	if (rv != SAR_OK) {
		gm_skf_con_close(d, h);
		return import_refused(err, rv);
	}
	ret = gm_skf_export_pub(d, h, 0, pub, err);
	gm_skf_con_close(d, h);
	if (ret == 1)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "the Ekey took the enveloped key but shows no "
			       "encryption public key for container '%s'",
			       container);
	return ret;
}

int gm_skf_import_enc_cert(gm_skf_dev *d, const char *container,
			   const unsigned char *der, size_t der_len,
			   gm_error *err)
{
	skf_handle h = NULL;
	skf_rv rv;

	if (gm_skf_con_open(d, container, &h, err) != SAR_OK)
		return -1;
	rv = gm_skf_rv(&d->lib->abi,
		       d->lib->f.ImportCertificate(h, 0, der, der_len));
	gm_skf_log("SKF_ImportCertificate", rv);
	gm_skf_con_close(d, h);
	if (rv != SAR_OK)
		return gm_sar_fail(err, rv,
				   "importing the encryption certificate");
	return 0;
}

int gm_skf_read_encryption(gm_skf_dev *d, const char *container,
			   unsigned char **der, size_t *der_len,
			   EVP_PKEY **pub, gm_error *err)
{
	skf_handle h = NULL;
	int ret;

	*der = NULL;
	*der_len = 0;
	*pub = NULL;
	if (gm_skf_con_open(d, container, &h, err) != SAR_OK)
		return -1;
	ret = gm_skf_export_cert(d, h, 0, der, der_len, err);
	if (ret >= 0 && gm_skf_export_pub(d, h, 0, pub, err) < 0)
		ret = -1;
	gm_skf_con_close(d, h);
	if (ret < 0) {
		free(*der);
		*der = NULL;
		*der_len = 0;
		return gm_error_prefix(err, "container '%s'", container);
	}
	return 0;
}
