/*
 * i18n.c - the user's language: the locale from the environment and the
 * gettext catalogue "gmrenew". Numbers stay in the C locale (JSON and the
 * configuration use '.'); messages, character classes and time follow the
 * user. The lower layers' texts go through the same catalogue
 * (gm_set_text_fn, common.h).
 */
#include <locale.h>
#include <stdlib.h>

#include "gmrenew/cli.h"
#include "gmrenew/version.h"

#define DOMAIN "gmrenew"

static const char *translate(const char *msgid)
{
	return dgettext(DOMAIN, msgid);
}

void gm_cli_i18n_init(void)
{
	const char *dir = getenv("GMRENEW_LOCALEDIR");

	setlocale(LC_ALL, "");
	setlocale(LC_NUMERIC, "C");
	bindtextdomain(DOMAIN, dir && *dir ? dir : GMRENEW_LOCALE_DIR);
	bind_textdomain_codeset(DOMAIN, "UTF-8");
	textdomain(DOMAIN);
	gm_set_text_fn(translate);
}
