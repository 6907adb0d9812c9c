/*
 * library.c - which OpenSSL 3 compatible library gmrenew runs on, as the
 * version reports name it: Tongsuo names itself and the OpenSSL release it
 * follows.
 */
#include <stdio.h>

#include <openssl/crypto.h>

#include "gmrenew/crypto.h"

const char *gm_crypto_library(void)
{
#ifdef TONGSUO_VERSION
	static char text[160];

	if (!text[0])
		snprintf(text, sizeof(text), "%s (compatible with %s)",
			 OpenSSL_version(TONGSUO_VERSION),
			 OpenSSL_version(OPENSSL_VERSION));
	return text;
#else
	return OpenSSL_version(OPENSSL_VERSION);
#endif
}
