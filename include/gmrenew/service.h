/*
 * service.h - the client of the CA's renewal service (docs/protocol.md):
 * HTTPS with libcurl, TLS always verified against the configured CA bundle,
 * one connection reused through a renewal, bounded responses, retries only
 * where the protocol makes them safe, proof of possession signed through a
 * callback (the token).
 *
 * Calls crypto/ and common/ only. Never prints. Failures: GM_EXIT_SERVICE
 * when trying later may help (network, TLS handshake, 5xx, busy), else the
 * code that fits the protocol error (not_due -> GM_EXIT_NOT_DUE,
 * offline_only -> GM_EXIT_OFFLINE, subject_mismatch -> GM_EXIT_VERIFY, ...);
 * err->reason is the protocol's error code typed (GM_REASON_SUBJECT_MISMATCH;
 * GM_REASON_SERVICE_CODE for a code gmrenew does not know), err->outside the
 * code as sent, and the message carries the service's Chinese and English
 * text.
 */
#ifndef GMRENEW_SERVICE_H
#define GMRENEW_SERVICE_H

#include <stddef.h>
#include <time.h>

#include "gmrenew/common.h"
#include "gmrenew/crypto.h"

typedef struct gm_service gm_service;

typedef struct gm_service_options {
	const char *url;		/* https://host:port (no /v1) */
	const char *ca_bundle;		/* PEM trust anchors for TLS */
	long connect_timeout_ms;
	long total_timeout_ms;		/* per request */
	int max_retries;		/* for retryable failures; 3 */
	long max_retry_wait_ms;		/* cap on Retry-After and backoff */
	/* TLS policy (docs/service-client.md): the lowest version (12 or 13)
	 * and the suites; NULL = the defaults. NULL and anonymous suites are
	 * refused whatever the list says. */
	int tls_min_version;
	const char *tls12_ciphers;	/* OpenSSL cipher list, TLS 1.2 */
	const char *tls13_ciphers;	/* TLS 1.3 suites */
	int tlcp;			/* TLCP (GB/T 38636, NTLS 1.1), not TLS */
} gm_service_options;

void gm_service_options_defaults(gm_service_options *o);
/* The [service] settings of the configuration file into o (after
 * gm_service_options_defaults); the strings stay cfg's. */
void gm_service_options_from_config(gm_service_options *o,
				    const gm_config *cfg);
/* Checks the options (https only, readable bundle); no network yet. */
int gm_service_open(const gm_service_options *o, gm_service **out,
		    gm_error *err);
void gm_service_close(gm_service *s);	/* NULL-safe */

/* What the last exchange told: the server's Date header (0 if none) and
 * how long the last request took. */
time_t gm_service_server_date(const gm_service *s);
long gm_service_last_ms(const gm_service *s);
/* Requests sent and new connections opened so far (for tests and -v). */
void gm_service_counters(const gm_service *s, long *requests,
			 long *connections);
/* The libcurl version line, for --version and check-env reports. */
const char *gm_service_curl_version(void);
/* Whether this build can speak TLCP (Tongsuo with NTLS). */
int gm_service_tlcp_available(void);
/* The protocol ("TLSv1.3", "NTLSv1.1") and cipher suite of the last
 * handshake; empty strings before the first one. */
void gm_service_tls_info(const gm_service *s, const char **protocol,
			 const char **suite);

/* The CA's record of one certificate (POST /v1/lookup). */
typedef struct gm_ca_record {
	int found;
	char *status;			/* valid, expired, revoked, unknown */
	char *gateway, *organization, *system;	/* NULL when unknown */
	char *subject;
	char *sha256;
	int online;			/* renewal.online */
	char *reason;			/* renewal.reason or NULL */
	gm_reason why;			/* renewal.reason typed: NOT_DUE,
					 * OFFLINE_ONLY, REVOKED, SUPERSEDED,
					 * UNKNOWN, SERVICE_CODE; NONE */
	char *superseded_by;
	time_t window_start, window_end;	/* 0 when null */
	char *open_code;		/* open_order.update_code or NULL */
	char *open_state;
	/* protocol 1.1 (all zero from a 1.0 service) */
	int v11;			/* "protocol": "1.1" */
	char *role;			/* "signing", "encryption" or NULL */
	int double_cert;		/* double_certificate */
	char *partner_sha256;		/* NULL when none */
} gm_ca_record;

int gm_service_lookup(gm_service *s, const unsigned char *const *certs,
		      const size_t *cert_lens, size_t n, gm_ca_record **out,
		      gm_error *err);
void gm_ca_records_free(gm_ca_record *r, size_t n);

/* The states of an order (docs/protocol.md section 3.7), parsed once: an
 * answer with any other state is a malformed answer (GM_EXIT_SERVICE). */
typedef enum gm_order_state {
	GM_ORDER_NONE = 0,		/* no answer yet */
	GM_ORDER_STARTED,
	GM_ORDER_CSR_RECEIVED,
	GM_ORDER_ISSUED,
	GM_ORDER_CONFIRMED,
	GM_ORDER_CANCELLED,
	GM_ORDER_EXPIRED,
	GM_ORDER_STATE_COUNT
} gm_order_state;

/* The protocol's word for a state ("csr_received"); "none" for
 * GM_ORDER_NONE. */
const char *gm_order_state_name(gm_order_state s);

/* The encryption part of an issued order (docs/protocol.md section 3.8),
 * as sent: the lengths and values are checked by the renewal, which says
 * what is wrong with them. */
typedef struct gm_enc_part {
	unsigned char *cert;		/* DER */
	size_t cert_len;
	char cert_sha256[65];
	time_t not_after;
	long version;			/* enveloped_key.version; -1 missing */
	long bits;			/* enveloped_key.bits; -1 missing */
	char sym_alg[16];		/* symmetric_algorithm */
	char recipient_sha256[65];
	unsigned char *sym_key;		/* C1 || C3 || C2 */
	size_t sym_key_len;
	unsigned char *priv;		/* SM4-ECB of d */
	size_t priv_len;
	unsigned char *pub;		/* 04 || X || Y */
	size_t pub_len;
} gm_enc_part;

/* The order object of docs/protocol.md section 3.7. */
typedef struct gm_order {
	char code[24];			/* canonical, e.g. K7QF-3MZP-W9CD-HX2N */
	gm_order_state state;
	char next_step[12];		/* csr, confirm, none */
	char old_sha256[65];
	char *subject;
	unsigned char *subject_der;	/* csr_requirements.subject_der */
	size_t subject_der_len;
	char key_type[16];		/* "sm2", "ec-p256" */
	int rekey_allowed;
	unsigned char *cert;		/* NULL until issued */
	size_t cert_len;
	char cert_sha256[65];
	unsigned char **chain;		/* issuing CA first, root last */
	size_t *chain_lens;
	size_t n_chain;
	time_t expires_at;
	/* protocol 1.1 (all zero from a 1.0 service) */
	int v11;			/* "protocol": "1.1" */
	int double_cert;		/* double_certificate */
	gm_enc_part *enc;		/* encryption; NULL when null */
} gm_order;

void gm_order_release(gm_order *o);

/* The key that proves possession, and how it signs (through the token). */
typedef struct gm_pop_key {
	gm_sig_scheme scheme;
	EVP_PKEY *pub;
	gm_sign_fn sign;
	void *sign_ctx;
} gm_pop_key;

/* Normalises a user-typed update code; -1 (GM_EXIT_USAGE) when malformed. */
int gm_update_code_normalize(const char *in, char out[24], gm_error *err);

int gm_service_start(gm_service *s, const unsigned char *cert, size_t cert_len,
		     const gm_pop_key *old_key, gm_order *out, gm_error *err);
int gm_service_submit_csr(gm_service *s, const char *code,
			  const unsigned char *csr, size_t csr_len,
			  const gm_pop_key *key, gm_order *out, gm_error *err);
int gm_service_status(gm_service *s, const char *code, gm_order *out,
		      gm_error *err);
int gm_service_confirm(gm_service *s, const char *code,
		       const char *cert_sha256, const gm_pop_key *key,
		       gm_order *out, gm_error *err);
int gm_service_cancel(gm_service *s, const char *code, const gm_pop_key *key,
		      gm_order *out, gm_error *err);

#endif
