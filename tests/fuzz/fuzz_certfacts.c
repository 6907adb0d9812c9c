/*
 * fuzz_certfacts.c - libFuzzer target for certificate parsing: DER bytes to
 * gm_cert_facts, and the same bytes as a certificate file. Must never crash,
 * leak or read out of bounds, whatever the input.
 *
 * Build (the code under test is compiled in, so it is instrumented):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined
 *     -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude
 *     tests/fuzz/fuzz_certfacts.c, every .c of src/crypto and src/common,
 *     -lcrypto -linih -o fuzz_certfacts
 *   ./fuzz_certfacts -max_total_time=60 CORPUS_DIR
 * A corpus: any DER certificates (e.g. `openssl x509 -outform DER`).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/err.h>

#include "gmrenew/common.h"
#include "gmrenew/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gm_cert_facts f;
	gm_error err;

	if (gm_cert_facts_parse(data, size, &f, &err) == 0) {
		/* touch every string the callers print */
		if (!f.subject || !f.issuer || !f.serial_hex || !f.pubkey)
			abort();
		(void)(f.gateway && f.gateway[0]);
		(void)(f.organization && f.organization[0]);
		(void)(f.system && f.system[0]);
		gm_cert_facts_release(&f);
	}
	ERR_clear_error();
	return 0;
}
