/*
 * verify.c - the checks a certificate must pass, shared by `gmrenew verify`
 * and by every certificate `renew` is about to install: the chain up to the
 * configured trust anchors (SM2 with the default ID on every link), validity
 * now, the key pair on the token, the expected key, and the post-renewal
 * rules against the previous certificate. Every check runs; none stops the
 * others.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "renewal_internal.h"

static gm_check *add(gm_verify_report *r, const char *id, int status,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static gm_check *add(gm_verify_report *r, const char *id, int status,
		     const char *fmt, ...)
{
	gm_check *c;
	va_list ap;

	if (r->n >= GM_VERIFY_MAX_CHECKS) {	/* never silently passed */
		r->ok = 0;
		return NULL;
	}
	c = &r->checks[r->n++];

	c->id = id;
	c->status = status;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), gm_text(fmt), ap);
	va_end(ap);
	if (status == GM_CHECK_FAIL)
		r->ok = 0;
	return c;
}

static void check_chain(const gm_verify_input *in, gm_verify_report *r)
{
	gm_error own;
	const gm_error *err = &own;
	int rc;

	if (!in->ca_bundle) {
		add(r, "chain", GM_CHECK_SKIP, N_("no CA bundle is configured "
		    "([service] chain_bundle)"));
		return;
	}
	if (in->chain_checked) {
		rc = in->chain_checked->rc;
		err = &in->chain_checked->err;
	} else if (in->chain) {
		rc = gm_chain_pool_verify(in->chain, in->cert->x509, in->now,
					  &own);
	} else {
		rc = gm_chain_verify(in->cert->x509, in->untrusted,
				     in->ca_bundle, in->now, &own);
	}
	if (rc)
		add(r, "chain", GM_CHECK_FAIL, "%s", err->msg);
	else
		add(r, "chain", GM_CHECK_PASS, N_("issued by '%s', trusted by '%s'"),
		    in->cert->issuer, in->ca_bundle);
}

static void check_validity(const gm_verify_input *in, gm_verify_report *r)
{
	char nb[32], na[32];

	gm_time_rfc3339(in->cert->not_before, nb, sizeof(nb));
	gm_time_rfc3339(in->cert->not_after, na, sizeof(na));
	if (in->now < in->cert->not_before)
		add(r, "validity", GM_CHECK_FAIL, N_("not valid before %s"), nb);
	else if (in->now > in->cert->not_after)
		add(r, "validity", GM_CHECK_FAIL, N_("expired on %s"), na);
	else
		add(r, "validity", GM_CHECK_PASS, N_("valid from %s to %s"), nb, na);
}

/* The certificate's private key on the token: a pass only when a private
 * key object was seen; without the PIN (private objects hidden) the check
 * is incomplete, never a pass from the public key alone. */
static void check_key_on_token(const gm_verify_input *in,
			       gm_verify_report *r)
{
	gm_key_state st;
	long k;

	if (!in->token) {
		add(r, "key", GM_CHECK_SKIP, N_("no token to look at"));
		return;
	}
	st = gm_snapshot_key_of(in->token, in->cert->pubkey, &k);
	if (st == GM_KEY_FOUND)
		add(r, "key", GM_CHECK_PASS, N_("the token holds the private key "
		    "of this certificate"));
	else if (in->token->private_visible)
		add(r, "key", GM_CHECK_FAIL, N_("the token holds no private key "
		    "for this certificate's public key%s"), k >= 0 ?
		    gm_text(N_(" (only its public key object)")) : "");
	else if (st == GM_KEY_UNKNOWN)
		add(r, "key", GM_CHECK_SKIP, N_("incomplete: the public key object "
		    "is on the token, but its private key can be seen only "
		    "after login (give the PIN with --pin-file, --pin-fd or "
		    "GMRENEW_PIN to check it)"));
	else
		add(r, "key", GM_CHECK_FAIL, N_("the token holds no key pair for "
		    "this certificate's public key"));
}

static void check_expected_key(const gm_verify_input *in, gm_verify_report *r)
{
	if (!in->expected_key)
		return;
	if (gm_pubkey_equal(in->expected_key, in->cert->pubkey) == 1)
		add(r, "new_key", GM_CHECK_PASS, N_("the certificate is for the new "
		    "key generated on the token"));
	else
		add(r, "new_key", GM_CHECK_FAIL, N_("the certificate is for another "
		    "public key than the new key generated on the token"));
}

static void check_renewal(const gm_verify_input *in, gm_verify_report *r)
{
	gm_policy_cert old, fresh;
	char why[GM_ERR_MSG_MAX];

	if (!in->previous) {
		add(r, "renewal", GM_CHECK_SKIP, N_("not run: no journal of a "
		    "renewal names this certificate, so there is no previous "
		    "certificate to compare it with (give one with --previous "
		    "FILE)"));
		return;
	}
	old = (gm_policy_cert){ in->previous->subject,
				in->previous->spki_sha256,
				in->previous->not_before,
				in->previous->not_after };
	fresh = (gm_policy_cert){ in->cert->subject, in->cert->spki_sha256,
				  in->cert->not_before, in->cert->not_after };
	if (gm_policy_check_renewal(in->policy, &old, &fresh, in->now, why,
				    sizeof(why)))
		add(r, "renewal", GM_CHECK_FAIL, "%s", why);
	else
		add(r, "renewal", GM_CHECK_PASS, N_("same subject, new key, valid "
		    "%ld days longer than the previous certificate"),
		    (long)((in->cert->not_after - in->previous->not_after) /
			   86400));
}

/* A double-certificate pair (签名证书 + 加密证书): an encryption
 * certificate has the profile of one and its signing certificate in the
 * same container; a signing certificate with a partner says so. A
 * certificate of neither kind gets no "pair" check. */
static void check_pair(const gm_verify_input *in, gm_verify_report *r)
{
	const gm_snapshot_cert *c = in->on_token, *p;
	gm_error e;

	if (!c || !in->token || (c->role != GM_ROLE_ENCRYPTION &&
				 c->partner < 0))
		return;
	p = c->partner >= 0 && (size_t)c->partner < in->token->n_certs ?
	    &in->token->certs[c->partner] : NULL;
	if (c->role == GM_ROLE_ENCRYPTION &&
	    gm_cert_encryption_profile(in->cert, &e))
		add(r, "pair", GM_CHECK_FAIL, "%s", e.msg);
	else if (c->role == GM_ROLE_ENCRYPTION && !p)
		add(r, "pair", GM_CHECK_FAIL, N_("an encryption certificate "
		    "without its signing certificate in container '%s'"),
		    c->container ? c->container : "");
	else if (c->role == GM_ROLE_ENCRYPTION)
		add(r, "pair", GM_CHECK_PASS, N_("the encryption certificate "
		    "(加密证书) of signing certificate %.16s... in container "
		    "'%s'"), p->facts.sha256_hex, c->container);
	else
		add(r, "pair", GM_CHECK_PASS, N_("the signing certificate "
		    "(签名证书) of encryption certificate %.16s... in "
		    "container '%s'"), p->facts.sha256_hex, c->container);
}

int gm_verify_certificate(const gm_verify_input *in, gm_verify_report *out,
			  gm_error *err)
{
	size_t i;

	if (!in || !out || !in->cert || (in->previous && !in->policy))
		return gm_fail(err, GM_EXIT_FAILED, NULL, "internal error: %s "
			       "called without its arguments",
			       "gm_verify_certificate");
	memset(out, 0, sizeof(*out));
	out->ok = 1;
	check_chain(in, out);
	check_validity(in, out);
	check_key_on_token(in, out);
	check_expected_key(in, out);
	check_renewal(in, out);
	check_pair(in, out);
	if (out->ok)
		return 0;
	for (i = 0; i + 1 < out->n && out->checks[i].status != GM_CHECK_FAIL;
	     i++)
		;
	return gm_fail(err, GM_EXIT_VERIFY,
		       "do not use this certificate; report it to the CA",
		       "verification of '%s' failed: %s check: %s",
		       in->cert->subject, out->checks[i].id,
		       out->checks[i].detail);
}
