/*
 * skf_ops.c - what a renewal does through SKF: a new container with a new
 * SM2 signing pair, signatures over the 32-byte e the host computed, the
 * certificate imported, the old container deleted (last, by the caller);
 * and the container handles, the two used last kept open for the calls
 * that follow on them.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "skf_internal.h"

static void release_slot(gm_skf_dev *d, unsigned i)
{
	if (!d->con[i])
		return;
	gm_skf_log("SKF_CloseContainer", gm_skf_rv(&d->lib->abi,
		   d->lib->f.CloseContainer(d->con[i])));
	d->con[i] = NULL;
	d->con_name[i][0] = '\0';
}

void gm_skf_con_release(gm_skf_dev *d, const char *name)
{
	unsigned i;

	for (i = 0; i < SKF_CONTAINERS_KEPT; i++)
		if (!name || (d->con[i] && !strcmp(d->con_name[i], name)))
			release_slot(d, i);
}

/* The slot holding the container named, or SKF_CONTAINERS_KEPT. */
static unsigned slot_of(const gm_skf_dev *d, const char *name)
{
	unsigned i;

	for (i = 0; i < SKF_CONTAINERS_KEPT; i++)
		if (d->con[i] && !strcmp(d->con_name[i], name))
			return i;
	return SKF_CONTAINERS_KEPT;
}

/* h, just opened or created, is kept in a free slot, else in the one
 * used longest ago (closed first). */
static void con_keep(gm_skf_dev *d, const char *name, skf_handle h)
{
	unsigned i = slot_of(d, name);

	if (i == SKF_CONTAINERS_KEPT)
		for (i = 0; i < SKF_CONTAINERS_KEPT && d->con[i]; i++)
			;
	if (i == SKF_CONTAINERS_KEPT)
		i = (d->con_last + 1) % SKF_CONTAINERS_KEPT;
	if (d->con[i] != h)
		release_slot(d, i);
	d->con[i] = h;
	snprintf(d->con_name[i], sizeof(d->con_name[i]), "%s", name);
	d->con_last = i;
}

skf_rv gm_skf_con_open(gm_skf_dev *d, const char *name, skf_handle *h,
			gm_error *err)
{
	unsigned i = slot_of(d, name);
	skf_rv rv;

	if (i < SKF_CONTAINERS_KEPT) {
		*h = d->con[i];
		d->con_last = i;
		return SAR_OK;
	}
	if (gm_skf_app_open(d, err))
		return SAR_FAIL;
	rv = gm_skf_rv(&d->lib->abi, d->lib->f.OpenContainer(d->app, name, h));
	gm_skf_log("SKF_OpenContainer", rv);
	if (rv != SAR_OK) {
		gm_sar_fail(err, rv, "opening a container");
		return rv;
	}
	con_keep(d, name, *h);
	return rv;
}

void gm_skf_con_close(gm_skf_dev *d, skf_handle h)
{
	unsigned i;

	for (i = 0; i < SKF_CONTAINERS_KEPT; i++)
		if (h && h == d->con[i])
			return;		/* kept open for the next call on it */
	gm_skf_log("SKF_CloseContainer",
		   gm_skf_rv(&d->lib->abi, d->lib->f.CloseContainer(h)));
}

int gm_skf_create_keypair(gm_skf_dev *d, const char *name, EVP_PKEY **pub,
			  gm_error *err)
{
	const gm_skf_abi *abi = &d->lib->abi;
	unsigned char blob[SKF_ECC_PUBBLOB_LEN];
	skf_handle h = NULL;
	skf_rv rv;

	*pub = NULL;
	if (strlen(name) > SKF_NAME_MAX)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "container name '%s' is longer than %d bytes",
			       name, SKF_NAME_MAX);
	if (gm_skf_app_open(d, err))
		return -1;
	rv = gm_skf_rv(abi, d->lib->f.CreateContainer(d->app, name, &h));
	gm_skf_log("SKF_CreateContainer", rv);
	if (rv == SAR_CONTAINER_ALREADY_EXIST || rv == SAR_FILE_ALREADY_EXIST)
		rv = gm_skf_con_open(d, name, &h, err);
	else if (rv != SAR_OK)
		gm_sar_fail(err, rv, "creating a container");
	else
		con_keep(d, name, h);
	if (rv == SAR_OK && !strcmp(d->deleted, name))
		d->deleted[0] = '\0';	/* there again */
	if (rv != SAR_OK)
		return -1;
	memset(blob, 0, sizeof(blob));
	rv = gm_skf_rv(abi, d->lib->f.GenECCKeyPair(h, abi->sm2_sign_alg, blob));
	gm_skf_log("SKF_GenECCKeyPair", rv);
	gm_skf_con_close(d, h);
	if (rv != SAR_OK)
		return gm_sar_fail(err, rv, "generating an SM2 key pair");
	*pub = gm_skf_pubblob_key(blob, sizeof(blob), err);
	return *pub ? 0 : -1;
}

int gm_skf_sign(gm_skf_dev *d, const char *container,
		const unsigned char digest[GM_DIGEST_LEN], unsigned char **der,
		size_t *der_len, gm_error *err)
{
	unsigned char sig[SKF_ECC_SIGBLOB_LEN];
	skf_handle h = NULL;
	skf_rv rv;
	int ret;

	*der = NULL;
	if (gm_skf_con_open(d, container, &h, err) != SAR_OK)
		return -1;
	memset(sig, 0, sizeof(sig));
	rv = gm_skf_rv(&d->lib->abi,
		       d->lib->f.ECCSignData(h, digest, GM_DIGEST_LEN, sig));
	gm_skf_log("SKF_ECCSignData", rv);
	gm_skf_con_close(d, h);
	if (rv != SAR_OK)
		return gm_sar_fail(err, rv, "signing on the Ekey");
	ret = gm_sig_to_der(GM_SIGFMT_SKF_BLOB, sig, sizeof(sig), der, der_len,
			    err);
	OPENSSL_cleanse(sig, sizeof(sig));
	return ret;
}

int gm_skf_import_cert(gm_skf_dev *d, const char *container,
		       const unsigned char *der, size_t der_len, gm_error *err)
{
	skf_handle h = NULL;
	skf_rv rv;

	if (gm_skf_con_open(d, container, &h, err) != SAR_OK)
		return -1;
	rv = gm_skf_rv(&d->lib->abi,
		       d->lib->f.ImportCertificate(h, 1, der, der_len));
	gm_skf_log("SKF_ImportCertificate", rv);
	gm_skf_con_close(d, h);
	if (rv != SAR_OK)
		return gm_sar_fail(err, rv, "importing the certificate");
	return 0;
}

int gm_skf_delete_container(gm_skf_dev *d, const char *container,
			    gm_error *err)
{
	skf_rv rv;

	if (gm_skf_app_open(d, err))
		return -1;
	if (!strcmp(d->deleted, container))
		return 0;	/* this session deleted it */
	gm_skf_con_release(d, container);
	rv = gm_skf_rv(&d->lib->abi,
		       d->lib->f.DeleteContainer(d->app, container));
	gm_skf_log("SKF_DeleteContainer", rv);
	if (rv != SAR_OK && rv != SAR_CONTAINER_NOT_EXIST &&
	    rv != SAR_FILE_NOT_EXIST)
		return gm_sar_fail(err, rv, "deleting a container");
	/* gone (or already gone: what was wanted) */
	snprintf(d->deleted, sizeof(d->deleted), "%s", container);
	return 0;
}

int gm_skf_device_digest(gm_skf_dev *d, EVP_PKEY *pub,
			 const unsigned char *msg, size_t msg_len,
			 unsigned char out[GM_DIGEST_LEN], gm_error *err)
{
	const gm_skf_abi *abi = &d->lib->abi;
	unsigned char blob[SKF_ECC_PUBBLOB_LEN];
	skf_handle hash = NULL;
	skf_cell len;
	skf_rv rv;

	if (!d->lib->has_digest)
		return gm_fail(err, GM_EXIT_ENV, NULL,
			       "the SKF library does not export SKF_DigestInit, "
			       "SKF_Digest and SKF_CloseHandle");
	if (gm_skf_key_pubblob(pub, blob, err))
		return -1;
	rv = gm_skf_rv(abi, d->lib->f.DigestInit(d->h, abi->sm3_alg, blob,
		(const unsigned char *)GM_SM2_DEFAULT_ID,
		strlen(GM_SM2_DEFAULT_ID), &hash));
	gm_skf_log("SKF_DigestInit", rv);
	if (rv != SAR_OK)
		return gm_sar_fail(err, rv, "starting an SM3 digest on the Ekey");
	gm_skf_cell_set(abi, &len, GM_DIGEST_LEN);
	rv = gm_skf_rv(abi, d->lib->f.Digest(hash, msg, msg_len, out, len.b));
	gm_skf_log("SKF_Digest", rv);
	gm_skf_log("SKF_CloseHandle",
		   gm_skf_rv(abi, d->lib->f.CloseHandle(hash)));
	if (rv != SAR_OK)
		return gm_sar_fail(err, rv, "computing SM3 on the Ekey");
	if (gm_skf_cell_ulong(abi, &len) != GM_DIGEST_LEN)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "the Ekey's SM3 digest is %llu bytes, not 32",
			       (unsigned long long)gm_skf_cell_ulong(abi, &len));
	return 0;
}
