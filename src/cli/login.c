/*
 * login.c - logging in to the token with the user PIN, the careful way:
 * read the token's retry flags first (locked stops, the final try needs
 * consent, low tries warn), never send a PIN that already failed, and wipe
 * every PIN right after use.
 */
#include <string.h>

#include <openssl/evp.h>

#include "gmrenew/cli.h"

#define MAX_FAILED 6

static int pin_locked(gm_error *err)
{
	gm_fail(err, GM_EXIT_PIN,
		"have it unlocked with the security officer PIN (SO PIN) in the "
		"vendor's tool, or take the Ekey to the CA; gmrenew never "
		"guesses PINs",
		"the Ekey's user PIN is locked (too many wrong PINs)");
	return gm_error_set_reason(err, GM_REASON_PIN_LOCKED);
}

static int final_try_refused(gm_error *err)
{
	gm_fail(err, GM_EXIT_PIN,
		"make sure of the PIN, then run again with --allow-final-try "
		"(or answer 'yes' at the terminal)",
		"one PIN try is left before the Ekey locks; gmrenew will not use "
		"it without your consent");
	return gm_error_set_reason(err, GM_REASON_PIN_FINAL_TRY);
}

/* Checks the retry flags; may ask at the terminal. */
static int check_flags(gm_cli *cli, const gm_login_options *o, int scripted,
		       gm_error *err)
{
	gm_pin_state st;

	if (gm_session_pin_state(cli->session, &st, err))
		return -1;
	if (st.locked)
		return pin_locked(err);
	if (st.final_try && !o->allow_final_try) {
		if (scripted || !gm_have_terminal() ||
		    !gm_prompt_yes(_("Only ONE PIN try is left before the Ekey "
				   "locks. Use it? [y/N] ")))
			return final_try_refused(err);
	} else if (st.count_low && !cli->json) {
		gm_cli_warn("the Ekey has counted wrong PINs: few tries are left "
			    "before it locks (6 wrong PINs lock it)");
	}
	return 0;
}

typedef struct failed_pins {
	unsigned char hash[MAX_FAILED][32];
	size_t n;
} failed_pins;

static void pin_hash(const char *pin, unsigned char out[32])
{
	unsigned int len = 32;

	EVP_Digest(pin, strlen(pin), out, &len, EVP_sha256(), NULL);
}

static int already_failed(const failed_pins *f, const unsigned char h[32])
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (!memcmp(f->hash[i], h, 32))
			return 1;
	return 0;
}

/* One attempt: 0 logged in, -1 with err. *again says a typed PIN may be
 * asked for once more. */
static int attempt(gm_cli *cli, const gm_login_options *o, failed_pins *f,
		   int *again, gm_error *err)
{
	char prompt[128], *pin = NULL;
	unsigned char h[32];
	int r;

	snprintf(prompt, sizeof(prompt), _("PIN of Ekey '%s' (serial %s): "),
		 cli->token.label, cli->token.serial);
	if (gm_prompt_pin(&o->pin, prompt, &pin, err))
		return -1;
	pin_hash(pin, h);
	if (already_failed(f, h)) {
		gm_free_secret(pin);
		gm_wipe(h, sizeof(h));
		gm_cli_warn("that PIN was already refused; it was not sent to "
			    "the Ekey (it would cost a try)");
		*again = 1;
		return gm_fail(err, GM_EXIT_PIN, NULL, "PIN already refused");
	}
	r = gm_session_login(cli->session, pin, strlen(pin), err);
	gm_free_secret(pin);
	if (r && err->reason == GM_REASON_PIN_INCORRECT && f->n < MAX_FAILED)
		memcpy(f->hash[f->n++], h, 32);
	gm_wipe(h, sizeof(h));
	*again = r && err->reason == GM_REASON_PIN_INCORRECT;
	return r;
}

int gm_cli_login(gm_cli *cli, const gm_login_options *o, gm_error *err)
{
	int scripted = gm_pin_source_scripted(&o->pin), again = 0, r;
	failed_pins failed;

	memset(&failed, 0, sizeof(failed));
	do {
		if (check_flags(cli, o, scripted, err))
			break;
		r = attempt(cli, o, &failed, &again, err);
		if (r == 0) {
			gm_wipe(&failed, sizeof(failed));
			return 0;
		}
		if (again && !scripted && gm_have_terminal())
			gm_cli_warn("%s", err->msg);
	} while (again && !scripted && gm_have_terminal());
	gm_wipe(&failed, sizeof(failed));
	return -1;
}
