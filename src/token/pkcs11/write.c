/*
 * write.c - writing through PKCS#11: certificate objects, deleting and
 * renaming objects, and reading a stored certificate back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "p11.h"

#define CERT_GUESS 4096	/* fits the certificates of a Ekey */

static CK_BBOOL ck_true = CK_TRUE;
static CK_BBOOL ck_false = CK_FALSE;

/* The DER of a name or integer; caller frees with OPENSSL_free. */
static int cert_fields(const unsigned char *der, size_t der_len,
		       unsigned char **subject, int *subject_len,
		       unsigned char **issuer, int *issuer_len,
		       unsigned char **serial, int *serial_len, gm_error *err)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)der_len);
	int ok;

	*subject = *issuer = *serial = NULL;
	*subject_len = *issuer_len = *serial_len = 0;
	if (!x || p != der + der_len) {
		X509_free(x);
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "the certificate to store is not one DER "
			       "X.509 certificate");
	}
	*subject_len = i2d_X509_NAME(X509_get_subject_name(x), subject);
	*issuer_len = i2d_X509_NAME(X509_get_issuer_name(x), issuer);
	*serial_len = i2d_ASN1_INTEGER(
		(ASN1_INTEGER *)(uintptr_t)X509_get0_serialNumber(x), serial);
	X509_free(x);
	ok = *subject_len > 0 && *issuer_len > 0 && *serial_len > 0;
	if (!ok) {
		OPENSSL_free(*subject);
		OPENSSL_free(*issuer);
		OPENSSL_free(*serial);
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "cannot encode the certificate's names");
	}
	return 0;
}

int p11_store_cert_as(gm_session *s, const unsigned char *id, size_t id_len,
		      const char *container, const char *label,
		      const unsigned char *der, size_t der_len,
		      gm_token_ref *out, gm_error *err)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE type = CKC_X_509;
	unsigned char *subject, *issuer, *serial;
	int subject_len = 0, issuer_len = 0, serial_len = 0;
	CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
	CK_RV rv;

	if (cert_fields(der, der_len, &subject, &subject_len, &issuer,
			&issuer_len, &serial, &serial_len, err) < 0)
		return -1;
	{
		CK_ATTRIBUTE tmpl[] = {
			{ CKA_CLASS, &cls, sizeof(cls) },
			{ CKA_CERTIFICATE_TYPE, &type, sizeof(type) },
			{ CKA_TOKEN, &ck_true, sizeof(ck_true) },
			{ CKA_PRIVATE, &ck_false, sizeof(ck_false) },
			{ CKA_ID, (void *)(uintptr_t)id, id_len },
			{ CKA_LABEL, (void *)(uintptr_t)label,
			  label ? strlen(label) : 0 },
			{ CKA_VALUE, (void *)(uintptr_t)der, der_len },
			{ CKA_SUBJECT, subject, (CK_ULONG)subject_len },
			{ CKA_ISSUER, issuer, (CK_ULONG)issuer_len },
			{ CKA_SERIAL_NUMBER, serial, (CK_ULONG)serial_len },
			{ 0, NULL, 0 },
		};
		CK_ULONG n = sizeof(tmpl) / sizeof(tmpl[0]) - 1;

		if (s->profile && s->profile->container_attr &&
		    container && container[0])
			tmpl[n++] = (CK_ATTRIBUTE){ s->profile->container_attr,
				(void *)(uintptr_t)container,
				strlen(container) + 1 };
		rv = p11_fl(s)->C_CreateObject(p11_h(s), tmpl, n, &h);
		gm_p11_log("C_CreateObject", rv);
	}
	OPENSSL_free(subject);
	OPENSSL_free(issuer);
	OPENSSL_free(serial);
	if (rv != CKR_OK)
		return gm_ckr_fail(err, rv, "storing the certificate on the token");
	*out = p11_cert_ref(h);
	return 0;
}

int p11_store_cert(gm_session *s, const gm_snapshot_key *key,
		   const char *label, const unsigned char *der,
		   size_t der_len, gm_token_ref *out, gm_error *err)
{
	char container[40] = "";

	/* The container of the key pair with this CKA_ID: its name follows
	 * from the id (gm_container_name), no search needed. */
	if (key->id_len > 0)
		gm_container_name(key->id, key->id_len, container,
				  sizeof(container));
	return p11_store_cert_as(s, key->id, key->id_len, container, label,
				 der, der_len, out, err);
}

int p11_read_cert(gm_session *s, gm_token_ref cert, unsigned char **der,
		  size_t *der_len, gm_error *err)
{
	CK_ATTRIBUTE a = { CKA_VALUE, NULL, 0 };
	CK_RV rv = p11_fetch(s, (CK_OBJECT_HANDLE)cert.a, &a, CERT_GUESS);

	if (rv != CKR_OK)
		return gm_ckr_fail(err, rv, "reading an object's value");
	if (!a.pValue)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "the certificate's value cannot be read back");
	*der = a.pValue;
	*der_len = a.ulValueLen;
	return 0;
}

static int destroy_one(gm_session *s, CK_OBJECT_HANDLE h, gm_error *err)
{
	CK_RV rv;

	if (h == CK_INVALID_HANDLE)
		return 0;
	rv = p11_fl(s)->C_DestroyObject(p11_h(s), h);
	gm_p11_log("C_DestroyObject", rv);
	if (rv != CKR_OK)
		return gm_ckr_fail(err, rv, "deleting an object from the token");
	return 0;
}

/* A key pair: the private key first, so that a pair cut in half leaves a
 * public key alone (harmless), never a private key without its public. */
int p11_destroy(gm_session *s, gm_token_ref obj, gm_error *err)
{
	if (destroy_one(s, (CK_OBJECT_HANDLE)obj.a, err) < 0)
		return -1;
	return obj.kind == GM_REF_KEYPAIR ?
		destroy_one(s, (CK_OBJECT_HANDLE)obj.b, err) : 0;
}

static int set_label(gm_session *s, CK_OBJECT_HANDLE h, const char *label,
		     gm_error *err)
{
	CK_ATTRIBUTE a = { CKA_LABEL, (void *)(uintptr_t)label,
			   label ? strlen(label) : 0 };
	CK_RV rv;

	if (h == CK_INVALID_HANDLE)
		return 0;
	rv = p11_fl(s)->C_SetAttributeValue(p11_h(s), h, &a, 1);
	gm_p11_log("C_SetAttributeValue", rv);
	if (rv != CKR_OK)
		return gm_ckr_fail(err, rv, "changing an object's label");
	return 0;
}

int p11_relabel(gm_session *s, gm_token_ref obj, const char *label,
		gm_error *err)
{
	if (set_label(s, (CK_OBJECT_HANDLE)obj.a, label, err) < 0)
		return -1;
	return obj.kind == GM_REF_KEYPAIR ?
		set_label(s, (CK_OBJECT_HANDLE)obj.b, label, err) : 0;
}
