/*
 * tlcp.c - the TLS context of the service's connection, through libcurl's
 * CURLOPT_SSL_CTX_FUNCTION: TLCP (GB/T 38636, Tongsuo's NTLS 1.1 with the
 * SM2 double certificates) when [service] tls = tlcp, and, for either
 * protocol, the record of what the handshake negotiated.
 *
 * libcurl has already set the verification (peer and host name) and the
 * trust store (the configured bundle only) when the callback runs; the NTLS
 * method keeps them. Tongsuo verifies both the server's signing and its
 * encryption certificate against that store; libcurl then checks the host
 * name on the signing certificate.
 */
/* Replacing the method of libcurl's context is the only way to make its
 * connection NTLS, and SSL_CTX_set_ssl_version() is marked deprecated
 * since OpenSSL 3.0 although Tongsuo documents it for NTLS. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/ssl.h>

#include "service_internal.h"

#if defined(TONGSUO_VERSION_NUMBER) && !defined(OPENSSL_NO_NTLS)
#define GM_HAVE_NTLS 1
#else
#define GM_HAVE_NTLS 0
#endif

/* The TLCP suites gmrenew offers, in order of preference. */
#define GM_TLCP_SUITES "ECC-SM2-SM4-GCM-SM3:ECC-SM2-SM4-CBC-SM3"

const char *gm_svc_fix_handshake(const gm_service *s, CURLcode cc)
{
	/* a TLS server may answer an NTLS hello with nothing at all */
	int handshake = cc == CURLE_SSL_CONNECT_ERROR ||
		(cc == CURLE_OPERATION_TIMEDOUT && strstr(s->errbuf, "SSL"));

	if (!s->tlcp || !handshake)
		return gm_svc_fix_later;
	return "check [service] url and tls: with tls = tlcp the service must "
	       "offer TLCP (NTLS 1.1, ECC-SM2-SM4-GCM-SM3 or "
	       "ECC-SM2-SM4-CBC-SM3); use tls = tls for a TLS endpoint; if it "
	       "does offer TLCP, try again later";
}

int gm_service_tlcp_available(void)
{
	return GM_HAVE_NTLS;
}

void gm_service_tls_info(const gm_service *s, const char **protocol,
			 const char **suite)
{
	*protocol = s ? s->tls_protocol : "";
	*suite = s ? s->tls_suite : "";
}

static pthread_once_t index_once = PTHREAD_ONCE_INIT;
static int service_index = -1;

static void make_index(void)
{
	service_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* Records the protocol and suite when a handshake completes. */
static void on_info(const SSL *ssl, int where, int ret)
{
	gm_service *s;
	const char *v, *c;

	(void)ret;
	if (!(where & SSL_CB_HANDSHAKE_DONE))
		return;
	s = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), service_index);
	if (!s)
		return;
	v = SSL_get_version(ssl);
	c = SSL_get_cipher_name(ssl);
	snprintf(s->tls_protocol, sizeof(s->tls_protocol), "%s", v ? v : "");
	snprintf(s->tls_suite, sizeof(s->tls_suite), "%s", c ? c : "");
}

#if GM_HAVE_NTLS
/* NTLS 1.1 only, with the SM2 suites. Setting the method resets the cipher
 * list, so the list is set after it. */
static int use_tlcp(SSL_CTX *ctx)
{
	if (SSL_CTX_set_ssl_version(ctx, NTLS_client_method()) != 1)
		return -1;
	SSL_CTX_enable_ntls(ctx);
	/* the TLS version bounds libcurl set do not apply to NTLS */
	if (SSL_CTX_set_min_proto_version(ctx, 0) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, 0) != 1)
		return -1;
	return SSL_CTX_set_cipher_list(ctx, GM_TLCP_SUITES) == 1 ? 0 : -1;
}
#endif

static CURLcode on_ssl_ctx(CURL *curl, void *sslctx, void *userp)
{
	SSL_CTX *ctx = sslctx;
	gm_service *s = userp;

	(void)curl;
	if (service_index < 0 || !SSL_CTX_set_ex_data(ctx, service_index, s))
		return CURLE_OUT_OF_MEMORY;
	SSL_CTX_set_info_callback(ctx, on_info);
#if GM_HAVE_NTLS
	if (s->tlcp && use_tlcp(ctx) < 0)
		return CURLE_SSL_CIPHER;
#endif
	return CURLE_OK;
}

int gm_svc_tls_setup(gm_service *s, gm_error *err)
{
	CURLcode cc;

	if (s->tlcp && !GM_HAVE_NTLS)
		return gm_fail(err, GM_EXIT_USAGE,
			       "set [service] tls = tls, or use a gmrenew built "
			       "on Tongsuo with NTLS (README: Tongsuo)",
			       "[service] tls = tlcp: this gmrenew is built on "
			       "%s, which has no TLCP (NTLS)",
			       OpenSSL_version(OPENSSL_VERSION));
	pthread_once(&index_once, make_index);
	cc = curl_easy_setopt(s->curl, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
	if (cc == CURLE_OK)
		cc = curl_easy_setopt(s->curl, CURLOPT_SSL_CTX_DATA, s);
	if (cc != CURLE_OK)
		return gm_fail(err, GM_EXIT_ENV,
			       "install a libcurl built with OpenSSL (or, for "
			       "TLCP, with Tongsuo)",
			       "this libcurl cannot hand over its TLS context: "
			       "%s", curl_easy_strerror(cc));
	return 0;
}
