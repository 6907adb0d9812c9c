/*
 * certfacts.c - what the CA's renewal page shows about a certificate, read
 * from X.509, and loading certificates from files.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crypto_internal.h"
#include "gmrenew/common.h"
#include "gmrenew/crypto.h"

/* Certificate files larger than this are not certificates we expect. */
#define CERT_FILE_MAX (8 * 1024 * 1024)

char *gm_crypto_name_line(const X509_NAME *name)
{
	/* RFC 2253/4514 escaping and order (most specific first), UTF-8 kept. */
	const unsigned long flags = XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB;
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *line = NULL;
	long len;

	if (!bio)
		return NULL;
	if (X509_NAME_print_ex(bio, name, 0, flags) >= 0) {
		len = BIO_get_mem_data(bio, &data);
		if (len >= 0)
			line = gm_xmemdup(data ? data : "", (size_t)len);
	}
	BIO_free(bio);
	return line;
}

/*
 * The values of attribute nid in RFC 4514 order (most specific first, the
 * reverse of the DER order), as UTF-8. first/last may be NULL. Returns the
 * number of values, or -1 when a value cannot be converted or holds a NUL.
 */
static int name_values(const X509_NAME *name, int nid, char **first,
		       char **last)
{
	int i, n = 0;

	if (first)
		*first = NULL;
	if (last)
		*last = NULL;
	for (i = X509_NAME_entry_count(name) - 1; i >= 0; i--) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
		unsigned char *utf8 = NULL;
		int len;

		if (OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)) != nid)
			continue;
		len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
		if (len < 0 || memchr(utf8, 0, (size_t)len)) {
			OPENSSL_free(utf8);
			goto bad;
		}
		if (n == 0 && first)
			*first = gm_xmemdup(utf8, (size_t)len);
		if (last) {
			free(*last);
			*last = gm_xmemdup(utf8, (size_t)len);
		}
		OPENSSL_free(utf8);
		n++;
	}
	return n;
bad:
	ERR_clear_error();
	if (first) {
		free(*first);
		*first = NULL;
	}
	if (last) {
		free(*last);
		*last = NULL;
	}
	return -1;
}

static char *serial_hex(const ASN1_INTEGER *serial)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
	char *hex = NULL, *s, *out;

	if (!bn)
		return NULL;
	hex = BN_bn2hex(bn);	/* "0", "-1A", "0102..." */
	BN_free(bn);
	if (!hex)
		return NULL;
	for (s = hex; *s; s++)
		*s = (char)tolower((unsigned char)*s);
	out = gm_xstrdup(hex);
	OPENSSL_free(hex);
	return out;
}

static int asn1_time_to_time_t(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return -1;
	*out = timegm(&tm);
	return 0;
}

void gm_crypto_key_algorithm(EVP_PKEY *pk, char *out, size_t n)
{
	int nid;

	if (gm_crypto_is_sm2_key(pk)) {
		snprintf(out, n, "SM2");
	} else if (EVP_PKEY_is_a(pk, "EC")) {
		nid = gm_crypto_curve_nid(pk);
		if (nid == NID_X9_62_prime256v1)
			snprintf(out, n, "EC-P256");
		else if (nid == NID_secp384r1)
			snprintf(out, n, "EC-P384");
		else if (nid == NID_secp521r1)
			snprintf(out, n, "EC-P521");
		else
			snprintf(out, n, "EC-%s", nid == NID_undef ? "explicit" :
				 OBJ_nid2sn(nid));
	} else if (EVP_PKEY_is_a(pk, "RSA") || EVP_PKEY_is_a(pk, "RSA-PSS")) {
		snprintf(out, n, "%s-%d", EVP_PKEY_is_a(pk, "RSA") ? "RSA" :
			 "RSA-PSS", EVP_PKEY_get_bits(pk));
	} else {
		snprintf(out, n, "%s", EVP_PKEY_get0_type_name(pk) ?
			 EVP_PKEY_get0_type_name(pk) : "unknown");
	}
}

void gm_cert_facts_release(gm_cert_facts *f)
{
	if (!f)
		return;
	X509_free(f->x509);
	free(f->subject);
	free(f->issuer);
	free(f->subject_der);
	free(f->serial_hex);
	free(f->gateway);
	free(f->organization);
	free(f->system);
	EVP_PKEY_free(f->pubkey);
	free(f->der);
	free(f->spki_der);
	memset(f, 0, sizeof(*f));
}

/* Fills the name-derived facts: gateway from the CN, OUs. */
static int name_facts(gm_cert_facts *f, const X509_NAME *subj, gm_error *err)
{
	char *cn = NULL, *at;
	int n_ou;

	if (name_values(subj, NID_commonName, &cn, NULL) < 0)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "the certificate's common name is not valid text");
	if (cn && (at = strchr(cn, '@')) != NULL) {
		*at = '\0';
		f->gateway = cn;
	} else {
		free(cn);
	}
	n_ou = name_values(subj, NID_organizationalUnitName, &f->organization,
			   &f->system);
	if (n_ou < 0)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "an organisational unit of the certificate is "
			       "not valid text");
	if (n_ou < 2) {
		free(f->system);
		f->system = NULL;
	}
	return 0;
}

/* The fingerprints: SHA-256 of the certificate and of its own
 * SubjectPublicKeyInfo bytes (not of the key encoded again). */
static int fingerprints(gm_cert_facts *f, gm_error *err)
{
	char ossl[256];
	unsigned char md[32];
	unsigned int md_len = 0, spki_len = 0;
	char *hex;

	if (!EVP_Digest(f->der, f->der_len, md, &md_len, EVP_sha256(), NULL) ||
	    !EVP_Digest(f->spki_der, f->spki_der_len, f->spki_sha256,
			&spki_len, EVP_sha256(), NULL))
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "cannot compute SHA-256: %s",
			       gm_openssl_error(ossl, sizeof(ossl)));
	hex = gm_hex(md, sizeof(md));
	snprintf(f->sha256_hex, sizeof(f->sha256_hex), "%s", hex);
	free(hex);
	return 0;
}

/* Names, serial and dates from the parsed parts. */
static int part_facts(gm_cert_facts *f, const gm_cert_parts *parts,
		      gm_error *err)
{
	char ossl[256];
	unsigned char *sd = NULL;
	int sd_len;

	f->subject = gm_crypto_name_line(parts->subject);
	f->issuer = gm_crypto_name_line(parts->issuer);
	sd_len = i2d_X509_NAME(parts->subject, &sd);
	f->serial_hex = serial_hex(parts->serial);
	if (!f->subject || !f->issuer || sd_len <= 0 || !f->serial_hex) {
		OPENSSL_free(sd);
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "cannot read the certificate's names or serial: "
			       "%s", gm_openssl_error(ossl, sizeof(ossl)));
	}
	f->subject_der = (unsigned char *)gm_xmemdup(sd, (size_t)sd_len);
	f->subject_der_len = (size_t)sd_len;
	OPENSSL_free(sd);
	if (name_facts(f, parts->subject, err) < 0)
		return -1;
	if (asn1_time_to_time_t(parts->not_before, &f->not_before) < 0 ||
	    asn1_time_to_time_t(parts->not_after, &f->not_after) < 0) {
		ERR_clear_error();
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "the certificate's validity dates are not valid "
			       "times");
	}
	return 0;
}

int gm_cert_facts_read(const unsigned char *der, size_t der_len,
		       gm_cert_facts *out, gm_error *err)
{
	char ossl[256];
	gm_cert_parts parts;

	memset(out, 0, sizeof(*out));
	if (!der || der_len == 0 || der_len > CERT_FILE_MAX)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "certificate data of %zu bytes is empty or too "
			       "large", der_len);
	if (gm_crypto_cert_parts(der, der_len, &parts, err) < 0)
		return -1;
	if (parts.consumed != der_len) {
		gm_fail(err, GM_EXIT_FAILED, NULL,
			"%zu bytes of junk after the certificate",
			der_len - parts.consumed);
		goto fail;
	}
	out->der = (unsigned char *)gm_xmemdup(der, der_len);
	out->der_len = der_len;
	out->spki_der = (unsigned char *)gm_xmemdup(parts.spki_der,
						    (size_t)parts.spki_len);
	out->spki_der_len = (size_t)parts.spki_len;
	if (part_facts(out, &parts, err) < 0 || fingerprints(out, err) < 0 ||
	    gm_crypto_usage_facts(out, parts.extensions, err) < 0)
		goto fail;
	if (gm_crypto_spki_facts(&parts, out->key_algorithm,
				 sizeof(out->key_algorithm), &out->pubkey) < 0) {
		gm_fail(err, GM_EXIT_FAILED, NULL,
			"cannot read the certificate's public key: %s",
			gm_openssl_error(ossl, sizeof(ossl)));
		goto fail;
	}
	gm_crypto_cert_parts_free(&parts);
	return 0;
fail:
	gm_crypto_cert_parts_free(&parts);
	gm_cert_facts_release(out);
	return -1;
}

int gm_cert_facts_decode(gm_cert_facts *f, gm_error *err)
{
	char ossl[256];
	const unsigned char *p = f->der;

	if (!f->x509) {
		f->x509 = d2i_X509(NULL, &p, (long)f->der_len);
		/* with the ID its SM2 signature is checked with: verified
		 * as it is, not copied (chain.c) */
		if (!f->x509 || p != f->der + f->der_len ||
		    gm_crypto_x509_set_sm2_id(f->x509) < 0) {
			X509_free(f->x509);
			f->x509 = NULL;
			return gm_fail(err, GM_EXIT_FAILED, NULL,
				       "the certificate (%zu bytes) is not "
				       "valid DER X.509: %s", f->der_len,
				       gm_openssl_error(ossl, sizeof(ossl)));
		}
	}
	if (!f->pubkey) {
		f->pubkey = X509_get_pubkey(f->x509);
		if (!f->pubkey)
			return gm_fail(err, GM_EXIT_FAILED, NULL,
				       "cannot read the certificate's public "
				       "key: %s",
				       gm_openssl_error(ossl, sizeof(ossl)));
	}
	return 0;
}

int gm_cert_facts_parse(const unsigned char *der, size_t der_len,
			gm_cert_facts *out, gm_error *err)
{
	if (gm_cert_facts_read(der, der_len, out, err) < 0)
		return -1;
	if (gm_cert_facts_decode(out, err) < 0) {
		gm_cert_facts_release(out);
		return -1;
	}
	return 0;
}

int gm_cert_facts_key_is(const gm_cert_facts *f, EVP_PKEY *pub)
{
	const unsigned char *p = f->spki_der;
	unsigned char *der = NULL;
	int n = pub ? gm_crypto_spki_der(pub, &der) : -1;
	int same = n > 0 && (size_t)n == f->spki_der_len &&
		   memcmp(der, f->spki_der, f->spki_der_len) == 0;
	EVP_PKEY *mine;

	OPENSSL_free(der);
	ERR_clear_error();
	if (same || n <= 0)
		return same;
	/* other bytes may still be the same key (another encoding of it):
	 * compare it decoded, as a full parse would */
	mine = f->pubkey;
	if (!mine)
		mine = d2i_PUBKEY(NULL, &p, (long)f->spki_der_len);
	same = mine && gm_pubkey_equal(pub, mine) == 1;
	if (mine != f->pubkey)
		EVP_PKEY_free(mine);
	ERR_clear_error();
	return same;
}

static int load_pem(const unsigned char *data, size_t len, const char *path,
		    STACK_OF(X509) *certs, gm_error *err)
{
	char ossl[256];
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	X509 *x;
	unsigned long e;

	if (!bio)
		return gm_fail(err, GM_EXIT_FAILED, NULL, "out of memory in OpenSSL");
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(certs, x)) {
			X509_free(x);
			BIO_free(bio);
			return gm_fail(err, GM_EXIT_FAILED, NULL,
				       "out of memory in OpenSSL");
		}
	}
	BIO_free(bio);
	/* The loop ends with "no start line" at the end of the data. */
	e = ERR_peek_last_error();
	if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE && sk_X509_num(certs) > 0) {
		ERR_clear_error();
		return 0;
	}
	return gm_fail(err, GM_EXIT_FAILED, "check the file holds PEM certificates",
		       "cannot read certificate %d of '%s': %s",
		       sk_X509_num(certs) + 1, path,
		       gm_openssl_error(ossl, sizeof(ossl)));
}

/* Whether the data holds a PEM boundary (memmem is not standard C). */
static int has_pem(const unsigned char *data, size_t len)
{
	static const char tag[] = "-----BEGIN";
	size_t i, k = sizeof(tag) - 1;

	for (i = 0; i + k <= len; i++)
		if (data[i] == '-' && memcmp(data + i, tag, k) == 0)
			return 1;
	return 0;
}

int gm_certs_load_file(const char *path, STACK_OF(X509) **out, gm_error *err)
{
	char ossl[256];
	unsigned char *data = NULL;
	size_t len = 0;
	STACK_OF(X509) *certs = NULL;
	const unsigned char *p;
	X509 *x;
	int ret = -1;

	*out = NULL;
	if (gm_read_file(path, CERT_FILE_MAX, &data, &len, err) < 0)
		return -1;
	certs = sk_X509_new_null();
	if (!certs) {
		gm_fail(err, GM_EXIT_FAILED, NULL, "out of memory in OpenSSL");
		goto out;
	}
	if (has_pem(data, len)) {
		if (load_pem(data, len, path, certs, err) < 0)
			goto out;
	} else {
		p = data;
		x = len ? d2i_X509(NULL, &p, (long)len) : NULL;
		if (!x || p != data + len) {
			X509_free(x);
			gm_fail(err, GM_EXIT_FAILED,
				"give a PEM bundle or one DER certificate",
				"'%s' is neither PEM nor one DER certificate%s%s",
				path, x ? "" : ": ",
				x ? "" : gm_openssl_error(ossl, sizeof(ossl)));
			goto out;
		}
		if (!sk_X509_push(certs, x)) {
			X509_free(x);
			gm_fail(err, GM_EXIT_FAILED, NULL, "out of memory in OpenSSL");
			goto out;
		}
	}
	*out = certs;	/* caller frees with sk_X509_pop_free(.., X509_free) */
	certs = NULL;
	ret = 0;
out:
	sk_X509_pop_free(certs, X509_free);
	free(data);
	return ret;
}
