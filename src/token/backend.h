/*
 * backend.h - the token API behind gmrenew's token layer, as a table of
 * operations. token.h's functions check their arguments and call the
 * backend of the library they were opened on; a backend is one folder under
 * src/token/ (pkcs11/ first; skf/ next) and exports one gm_token_backend.
 *
 * Nothing above src/token sees this file: the layers above hold a
 * gm_module, a gm_session and gm_token_ref values, and gmrenew's own enums
 * and flags (token.h).
 *
 * What a backend must do:
 * - Every failure is a gm_error saying what failed, what the API's code
 *   means and what to do (the PKCS#11 backend's CKR table, the SKF
 *   backend's SAR table), with the exit code that fits (docs/exit-codes.md).
 * - Everything the library returns is hostile: lengths are checked against
 *   the buffers given, strings are bounded, counts are bounded.
 * - A failed call while reading is an error, never "no such object": the
 *   snapshot fails as a whole rather than miss a key (exit 5 for a failed
 *   call, GM_EXIT_ENV when the token went away).
 * - References (gm_token_ref) are the backend's own: PKCS#11 keeps object
 *   handles in them, SKF a container number and which object of it. They
 *   stay valid while the session is open.
 *
 * Objects and what a reference names:
 * - a certificate: PKCS#11 a CKO_CERTIFICATE object; SKF the signing
 *   certificate of a container.
 * - a key pair: PKCS#11 the public and the private key object with the same
 *   CKA_ID (either may be missing); SKF the signing key pair of a container.
 *   destroy() of a key pair removes both objects; for SKF it deletes the
 *   container, and with it the container's certificates, so a caller that
 *   destroys a key pair first destroys (or no longer needs) its certificate.
 * - relabel() renames a certificate or a key pair (PKCS#11 CKA_LABEL). SKF
 *   cannot rename a container: its table leaves relabel NULL, and
 *   gm_token_relabel() then fails with GM_EXIT_FAILED; the renewal uses
 *   gm_session_can_relabel() to choose names that need no rename.
 */
#ifndef GMRENEW_TOKEN_BACKEND_H
#define GMRENEW_TOKEN_BACKEND_H

#include <stddef.h>

#include "gmrenew/token.h"

typedef struct gm_token_backend gm_token_backend;

/* A library opened through one backend. impl is the backend's own. */
struct gm_module {
	const gm_token_backend *be;
	char *path;			/* owned */
	void *impl;			/* owned by the backend */
};

/* A session with one token. The fields before impl are shared by every
 * backend; the public functions keep them. */
struct gm_session {
	const gm_token_backend *be;
	gm_module *m;			/* not owned */
	const gm_profile *profile;	/* not owned; NULL = backend defaults */
	unsigned pin_max_tries;		/* from the profile; 0 = unknown */
	int logged_in;
	void *impl;			/* owned by the backend */
};

struct gm_token_backend {
	const char *name;		/* "pkcs11", "skf": logs, check-env */

	/* ---- the library ---- */
	/* Loads and initialises the library at m->path; fills m->impl. */
	int (*open)(gm_module *m, gm_error *err);
	/* Finalises (when this process initialised it) and frees m->impl. */
	void (*close)(gm_module *m);
	int (*library_info)(gm_module *m, gm_module_info *out, gm_error *err);

	/* ---- tokens: open and select ---- */
	/* Every token present (PKCS#11: slots with a token; SKF: devices). */
	int (*tokens)(gm_module *m, gm_token_info **out, size_t *n,
		      gm_error *err);
	/* Exactly one token, matching uri (RFC 7512 for PKCS#11; SKF matches
	 * the same token=, serial= and manufacturer= attributes against
	 * DEVINFO), or the only one present. */
	int (*select)(gm_module *m, const char *uri, gm_token_info *out,
		      gm_error *err);
	/* The profile that fits the token (token.h, gm_profile_detect). */
	int (*detect_profile)(gm_module *m, const gm_token_info *t,
			      const gm_config *cfg, gm_profile *out,
			      gm_error *err);
	/* Opens a session with token t (SKF: connect, open the application);
	 * fills s->impl. */
	int (*session_open)(gm_session *s, const gm_token_info *t,
			    int read_write, gm_error *err);
	/* Logs out when logged in and closes; frees s->impl. */
	void (*session_close)(gm_session *s);

	/* ---- PIN ---- */
	int (*pin_state)(gm_session *s, gm_pin_state *out, gm_error *err);
	/* Sends the user PIN once. Failures are GM_EXIT_PIN with the tries
	 * left in the message when the API tells them. */
	int (*login)(gm_session *s, const char *pin, size_t pin_len,
		     gm_error *err);

	/* ---- reading ---- */
	/* Every certificate and key pair the session can see, read once,
	 * with the fewest calls the API allows. The backend fills certs
	 * (ref, id, label, container, der) and keys (ref, parts, id, label,
	 * container, pubkey) and private_visible; gm_token_snapshot_read()
	 * parses and pairs them (snapshot.c). */
	int (*snapshot)(gm_session *s, gm_token_snapshot *out, gm_error *err);
	/* After login, for a snapshot read before it that could not see the
	 * private keys: adds them to its key pairs (ref, parts) or as pairs
	 * of their own, without reading the certificates again, and sets
	 * private_visible. NULL when the snapshot always sees them (SKF
	 * lists its containers' key pairs without login). */
	int (*private_keys)(gm_session *s, gm_token_snapshot *snap,
			    gm_error *err);
	/* The DER of one certificate, read again (the read-back after
	 * storing it). */
	int (*read_cert)(gm_session *s, gm_token_ref cert, unsigned char **der,
			 size_t *der_len, gm_error *err);

	/* ---- writing and keys ---- */
	/* A new signing key pair (PKCS#11: token objects with CKA_ID id and
	 * label; SKF: in a new container named from id, gm_container_name).
	 * out gets ref, parts, id, label, container and the public key. */
	int (*generate_keypair)(gm_session *s, const unsigned char *id,
				size_t id_len, const char *label,
				gm_snapshot_key *out, gm_error *err);
	/* Signs the 32-byte digest crypto computed with key pair key; the
	 * answer becomes DER (caller frees *sig with OPENSSL_free). */
	int (*sign_digest)(gm_session *s, gm_token_ref key,
			   const unsigned char digest[GM_DIGEST_LEN],
			   unsigned char **sig, size_t *sig_len, gm_error *err);
	/* Stores certificate der next to key pair key (PKCS#11: a certificate
	 * object with the key's CKA_ID and, for profiles with containers, its
	 * container; SKF: the signing certificate of the key's container). */
	int (*store_cert)(gm_session *s, const gm_snapshot_key *key,
			  const char *label, const unsigned char *der,
			  size_t der_len, gm_token_ref *out, gm_error *err);
	/* Removes a certificate or a key pair (see above). */
	int (*destroy)(gm_session *s, gm_token_ref obj, gm_error *err);
	/* Renames a certificate or a key pair; NULL when the API cannot. */
	int (*relabel)(gm_session *s, gm_token_ref obj, const char *label,
		       gm_error *err);

	/* ---- double certificates (token.h); NULL when the API cannot ---- */
	int (*import_envelope)(gm_session *s, const gm_snapshot_key *key,
			       const gm_enveloped_key *env,
			       EVP_PKEY **token_pub, gm_error *err);
	int (*store_enc_cert)(gm_session *s, const gm_snapshot_key *key,
			      const unsigned char *der, size_t der_len,
			      gm_token_ref *out, gm_error *err);
	int (*read_encryption)(gm_session *s, const gm_snapshot_key *key,
			       unsigned char **der, size_t *der_len,
			       EVP_PKEY **pub, gm_error *err);
	/* Whether this session can use the three above (PKCS#11: only with
	 * a profile naming unwrap mechanisms); NULL: always. */
	int (*can_import)(const gm_session *s);
	/* The encryption pair with public key pub in the container of
	 * signing pair key, as the snapshot lists it (ref, parts, id, label,
	 * container, a reference to pub, role). */
	int (*enc_pair)(gm_session *s, const gm_snapshot_key *key,
			EVP_PKEY *pub, gm_snapshot_key *out, gm_error *err);
	/* destroy() of a key pair removes its whole container, both pairs
	 * and their certificates (SKF); 0: each object goes by itself. */
	int removes_container;
};

/* The backends built in. */
extern const gm_token_backend gm_pkcs11_backend;
extern const gm_token_backend gm_skf_backend;

#endif
