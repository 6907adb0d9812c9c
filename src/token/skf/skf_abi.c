/*
 * skf_abi.c - values and structures at the library's ABI: ULONG and BOOL
 * of the profile's width, DEVINFO at the offsets its packing gives, the
 * ECC blobs, and NUL-separated name lists bounded by their size.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>

#include "skf_internal.h"

uint64_t gm_skf_get(const unsigned char *p, unsigned size)
{
	uint64_t v = 0;
	unsigned i;

	for (i = size; i-- > 0;)	/* little endian */
		v = (v << 8) | p[i];
	return v;
}

void gm_skf_put(unsigned char *p, unsigned size, uint64_t v)
{
	unsigned i;

	for (i = 0; i < size; i++, v >>= 8)
		p[i] = (unsigned char)(v & 0xFF);
}

uint64_t gm_skf_cell_ulong(const gm_skf_abi *abi, const skf_cell *c)
{
	return gm_skf_get(c->b, abi->ulong_size);
}

int gm_skf_cell_bool(const gm_skf_abi *abi, const skf_cell *c)
{
	return gm_skf_get(c->b, abi->bool_size) != 0;
}

void gm_skf_cell_set(const gm_skf_abi *abi, skf_cell *c, uint64_t v)
{
	memset(c->b, 0, sizeof(c->b));
	gm_skf_put(c->b, abi->ulong_size, v);
}

skf_rv gm_skf_rv(const gm_skf_abi *abi, skf_rv rv)
{
	if (abi->ulong_size < sizeof(rv))
		rv &= (1UL << (8 * abi->ulong_size)) - 1;
	return rv;
}

void gm_skf_names_free(char **names, size_t n)
{
	size_t i;

	for (i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

int gm_skf_names_parse(const char *buf, size_t size, char ***names,
		       size_t *n)
{
	size_t off = 0, len;

	*names = NULL;
	*n = 0;
	while (buf && off < size) {
		len = strnlen(buf + off, size - off);
		if (len == 0)
			break;	/* the closing NUL */
		*names = gm_xrealloc(*names, (*n + 1) * sizeof(**names));
		(*names)[(*n)++] = gm_xmemdup(buf + off, len);	/* adds a NUL */
		off += len + 1;
	}
	return 0;
}

/* A NUL-terminated string field of n bytes, trailing blanks removed. */
static void field(char *dst, const unsigned char *src, size_t n)
{
	size_t len = strnlen((const char *)src, n);

	while (len > 0 && src[len - 1] == ' ')
		len--;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

void gm_skf_devinfo_parse(const gm_skf_abi *abi, const unsigned char *buf,
			  gm_skf_devinfo *out)
{
	/* aligned: 200 is a multiple of 4 and of 8 */
	size_t off = abi->packed ? SKF_DEVINFO_ULONGS : SKF_DEVINFO_ULONGS + 2;
	unsigned w = abi->ulong_size;

	memset(out, 0, sizeof(*out));
	out->version_major = buf[0];
	out->version_minor = buf[1];
	field(out->manufacturer, buf + SKF_DEVINFO_MANUFACTURER, 64);
	field(out->issuer, buf + SKF_DEVINFO_ISSUER, 64);
	field(out->label, buf + SKF_DEVINFO_LABEL, 32);
	field(out->serial, buf + SKF_DEVINFO_SERIAL, 32);
	out->hw_major = buf[SKF_DEVINFO_HWVERSION];
	out->hw_minor = buf[SKF_DEVINFO_HWVERSION + 1];
	out->fw_major = buf[SKF_DEVINFO_FWVERSION];
	out->fw_minor = buf[SKF_DEVINFO_FWVERSION + 1];
	out->alg_sym = gm_skf_get(buf + off, w);
	out->alg_asym = gm_skf_get(buf + off + w, w);
	out->alg_hash = gm_skf_get(buf + off + 2 * w, w);
	out->dev_auth_alg = gm_skf_get(buf + off + 3 * w, w);
	out->total_space = gm_skf_get(buf + off + 4 * w, w);
	out->free_space = gm_skf_get(buf + off + 5 * w, w);
	out->have_numbers = 1;
}

/* The high half of a 64-byte coordinate field must be zero. */
static int high_zero(const unsigned char *f)
{
	size_t i;

	for (i = 0; i < SKF_ECC_COORD_LEN / 2; i++)
		if (f[i])
			return 0;
	return 1;
}

EVP_PKEY *gm_skf_pubblob_key(const unsigned char *blob, size_t len,
			     gm_error *err)
{
	unsigned char xy[64];

	if (len != SKF_ECC_PUBBLOB_LEN ||
	    gm_skf_get(blob, 4) != 256 || !high_zero(blob + SKF_ECC_PUB_X) ||
	    !high_zero(blob + SKF_ECC_PUB_Y)) {
		gm_fail(err, GM_EXIT_FAILED, N_("check the profile's skf_* values (/usr/share/doc/gmrenew/skf.md)"),
			"the device gave a public key blob of %zu bytes that is "
			"not a 256-bit ECCPUBLICKEYBLOB", len);
		return NULL;
	}
	memcpy(xy, blob + SKF_ECC_PUB_X + 32, 32);
	memcpy(xy + 32, blob + SKF_ECC_PUB_Y + 32, 32);
	return gm_pubkey_from_xy(NULL, 0, xy, sizeof(xy), err);
}

int gm_skf_key_pubblob(EVP_PKEY *pub, unsigned char *blob, gm_error *err)
{
	BIGNUM *x = NULL, *y = NULL;
	int ok;

	/* the coordinates, not the encoded point: its form (compressed or
	 * not) differs between OpenSSL and Tongsuo */
	memset(blob, 0, SKF_ECC_PUBBLOB_LEN);
	ok = EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1 &&
	     EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1 &&
	     BN_bn2binpad(x, blob + SKF_ECC_PUB_X + 32, 32) == 32 &&
	     BN_bn2binpad(y, blob + SKF_ECC_PUB_Y + 32, 32) == 32;
	BN_free(x);
	BN_free(y);
	if (!ok)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "the public key is not a 256-bit point");
	gm_skf_put(blob, 4, 256);
	return 0;
}
