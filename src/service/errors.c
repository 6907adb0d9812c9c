/*
 * errors.c - a protocol error answered by the service (docs/protocol.md
 * section 7) into a gm_error: the exit code, the reason (the protocol's
 * code), a message with the CA's English and Chinese text, and what to do.
 * docs/service-client.md lists the mapping.
 */
#include <stdio.h>
#include <string.h>

#include "service_internal.h"

const char gm_svc_fix_later[] =
	N_("try again later; an interrupted renewal can be finished with "
	"'gmrenew renew-with-code CODE'");

struct code_map {
	const char *code;
	gm_exit exit;
	const char *fix;
};

static const struct code_map code_map[] = {
	{ "bad_request", GM_EXIT_FAILED,
	  N_("the client and the service disagree on the protocol: report it "
	  "with the output of -vv") },
	{ "csr_invalid", GM_EXIT_FAILED,
	  N_("the certificate request was refused: report it with the output "
	  "of -vv") },
	{ "bad_challenge", GM_EXIT_SERVICE, gm_svc_fix_later },
	{ "pop_invalid", GM_EXIT_FAILED,
	  N_("the key on the Ekey did not prove possession for this "
	  "certificate: check that the certificate and its key belong "
	  "together (and, for confirm, that the new certificate is "
	  "installed)") },
	{ "not_due", GM_EXIT_NOT_DUE,
	  N_("nothing to do yet: renew once the CA's online renewal window "
	  "is open") },
	{ "offline_only", GM_EXIT_OFFLINE, gm_advice_offline },
	{ "revoked", GM_EXIT_FAILED,
	  N_("a revoked certificate cannot be renewed: contact the CA") },
	{ "unknown_certificate", GM_EXIT_FAILED,
	  N_("the CA has no record of this certificate: check that the right "
	  "Ekey and certificate were chosen, or contact the CA") },
	{ "unknown_code", GM_EXIT_FAILED,
	  N_("check the update code: 16 characters as shown when the renewal "
	  "started, e.g. K7QF-3MZP-W9CD-HX2N") },
	{ "superseded", GM_EXIT_FAILED,
	  N_("this certificate was already renewed: use the new certificate; "
	  "if it is not on the Ekey yet, finish with 'gmrenew "
	  "renew-with-code CODE'") },
	{ "conflict", GM_EXIT_FAILED,
	  N_("the renewal's state does not allow this step: look at its state "
	  "with the update code before going on") },
	{ "code_expired", GM_EXIT_FAILED,
	  N_("the renewal expired (7 days after it started): start a new "
	  "renewal") },
	{ "subject_mismatch", GM_EXIT_VERIFY,
	  N_("the request must carry the subject of the certificate on the "
	  "Ekey byte for byte: check that the right certificate was chosen; "
	  "the old certificate stays usable") },
	{ "busy", GM_EXIT_SERVICE, gm_svc_fix_later },
	{ "internal", GM_EXIT_SERVICE, gm_svc_fix_later },
};

/* Cuts s to at most max bytes without splitting a UTF-8 sequence. */
static void utf8_cut(char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	s[n] = '\0';
}

int gm_svc_fail_protocol(gm_error *err, const char *what, long status,
			 const gm_svc_proto_error *pe)
{
	const struct code_map *m = NULL;
	char text[2 * GM_ERR_MSG_MAX];
	char fix[GM_ERR_FIX_MAX];
	gm_exit code;
	size_t i;

	for (i = 0; i < sizeof(code_map) / sizeof(code_map[0]); i++)
		if (!strcmp(code_map[i].code, pe->code))
			m = &code_map[i];
	if (m)
		code = m->exit;
	else
		code = pe->retryable || status >= 500 ? GM_EXIT_SERVICE
						      : GM_EXIT_FAILED;
	snprintf(text, sizeof(text),
		 gm_text(N_("%s: the service refused (%s, HTTP %ld): %s / %s")), what,
		 pe->code, status,
		 pe->message_en[0] ? pe->message_en : gm_text(N_("(no English text)")),
		 pe->message_zh[0] ? pe->message_zh : gm_text(N_("(no Chinese text)")));
	utf8_cut(text, GM_ERR_MSG_MAX - 1);
	if (m && !strcmp(pe->code, "superseded") && pe->update_code[0])
		snprintf(fix, sizeof(fix),
			 gm_text(N_("this certificate was already renewed with update "
			 "code %s: use the new certificate; if it is not on "
			 "the Ekey yet, finish with 'gmrenew renew-with-code "
			 "%s'")), pe->update_code, pe->update_code);
	else
		snprintf(fix, sizeof(fix), "%s",
			 m ? m->fix : code == GM_EXIT_SERVICE ?
			 gm_svc_fix_later : gm_text(N_("report it with the output of -vv")));
	gm_fail(err, code, fix, "%s", text);
	if (err)
		err->detail = status;
	return gm_error_set_outside(err, gm_reason_of_protocol(pe->code),
				    pe->code);
}
