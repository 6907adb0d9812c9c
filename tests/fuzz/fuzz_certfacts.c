/*
 * fuzz_certfacts.c - certificates from outside: DER bytes to gm_cert_facts
 * (src/crypto/certfacts.c, every key type: SM2, P-256, RSA, others) and the
 * same bytes as a certificate file (gm_certs_load_file: PEM bundles and
 * single DER certificates), each certificate loaded then parsed again. No
 * input may crash, leak or read out of bounds.
 *
 * Seeds: tests/fuzz/corpus/certfacts (the reference service's SM2 CA and
 * issued certificates, P-256 and RSA certificates, PEM bundles; made by
 * make_seeds.py). Built and run by scripts/fuzz.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "gmrenew/common.h"
#include "gmrenew/crypto.h"
#include "fuzz_util.h"

/* The facts read without d2i_X509 are those of the full parse, and what
 * the full parse refuses is not read (no check is lost). */
static void read_as_parse(const unsigned char *der, size_t len, int parsed,
			  const gm_cert_facts *full)
{
	gm_cert_facts f;
	gm_error err;

	if (gm_cert_facts_read(der, len, &f, &err) < 0)
		return;
	if (!parsed || !f.pubkey || f.x509 ||
	    strcmp(f.subject, full->subject) ||
	    strcmp(f.serial_hex, full->serial_hex) ||
	    strcmp(f.sha256_hex, full->sha256_hex) ||
	    strcmp(f.key_algorithm, full->key_algorithm) ||
	    memcmp(f.spki_sha256, full->spki_sha256, 32) ||
	    gm_cert_facts_key_is(&f, full->pubkey) != 1)
		abort();
	gm_cert_facts_release(&f);
}

static void facts(const unsigned char *der, size_t len)
{
	gm_cert_facts f;
	gm_error err;
	int parsed = gm_cert_facts_parse(der, len, &f, &err) == 0;

	read_as_parse(der, len, parsed, &f);
	if (parsed) {
		/* every string the callers print is there */
		if (!f.subject || !f.issuer || !f.serial_hex || !f.pubkey ||
		    !f.subject_der || !f.key_algorithm[0] ||
		    strlen(f.sha256_hex) != 64)
			abort();
		if (f.system && !f.organization)
			abort();
		gm_cert_facts_release(&f);
	}
}

static void file_loader(const uint8_t *data, size_t size)
{
	STACK_OF(X509) *certs = NULL;
	gm_error err;
	int i;

	if (gm_certs_load_file(fuzz_file(0, data, size), &certs, &err) < 0)
		return;
	if (sk_X509_num(certs) < 1)
		abort();	/* success means at least one certificate */
	for (i = 0; i < sk_X509_num(certs); i++) {
		unsigned char *der = NULL;
		int len = i2d_X509(sk_X509_value(certs, i), &der);

		if (len > 0)
			facts(der, (size_t)len);
		OPENSSL_free(der);
	}
	sk_X509_pop_free(certs, X509_free);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	facts(data, size);
	file_loader(data, size);
	ERR_clear_error();
	return 0;
}
