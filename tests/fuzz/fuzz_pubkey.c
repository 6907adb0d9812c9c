/*
 * fuzz_pubkey.c - public keys as the token gives them (src/crypto/pubkey.c):
 * CKA_EC_PARAMS with CKA_EC_POINT (DER OCTET STRING around 04||x||y, or the
 * bare point), and CKA_MODULUS as FEITIAN's driver keeps SM2 keys (64 bytes
 * X||Y, no prefix), to an EVP_PKEY; then what the renewal does with a key:
 * its fingerprint, comparison, signature scheme and SM2 Z value. No input
 * may crash, leak or read out of bounds, and an accepted key is a point on
 * its curve.
 *
 * Input: byte 0 chooses the attribute (even: CKA_EC_POINT, odd:
 * CKA_MODULUS, gm_pubkey_from_xy). Byte 1 is the length of CKA_EC_PARAMS
 * (0: the token gave none) and the point follows the parameters.
 * Seeds: tests/fuzz/corpus/pubkey (SM2, P-256, P-384 and P-521 keys in
 * each encoding; made by make_seeds.py). Built and run by scripts/fuzz.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "gmrenew/common.h"
#include "gmrenew/crypto.h"
#include "fuzz_util.h"

static void use_key(EVP_PKEY *key)
{
	unsigned char fp[32], z[GM_DIGEST_LEN];
	gm_sig_scheme scheme;
	gm_error err;

	if (gm_pubkey_sha256(key, fp, &err) < 0 || !gm_pubkey_equal(key, key))
		abort();	/* a key we accepted can be encoded */
	if (gm_sig_scheme_for_key(key, &scheme, &err) == 0 &&
	    scheme == GM_SIG_SM2_SM3 &&
	    gm_sm2_z(key, GM_SM2_DEFAULT_ID, strlen(GM_SM2_DEFAULT_ID), z,
		     &err) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	EVP_PKEY *key = NULL;
	gm_error err;
	size_t plen;

	if (size < 2)
		return 0;
	plen = data[1];
	if (plen > size - 2)
		return 0;
	if (data[0] & 1)
		key = gm_pubkey_from_xy(plen ? data + 2 : NULL, plen,
					data + 2 + plen, size - 2 - plen, &err);
	else
		key = gm_pubkey_from_ec_point(plen ? data + 2 : NULL, plen,
					      data + 2 + plen, size - 2 - plen,
					      &err);
	if (key)
		use_key(key);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return 0;
}
