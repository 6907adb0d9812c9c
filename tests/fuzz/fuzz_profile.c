/*
 * fuzz_profile.c - the [profile.*] values of the configuration file
 * (src/token/profile.c: numbers, schemes, curve OIDs in hex, library lists,
 * profiles built on others with 'base', loops), read through the
 * configuration parser as gmrenew reads them. Every profile the text names
 * is built. No input may crash, leak or read out of bounds, and a profile
 * that is accepted holds only values within the documented ranges.
 *
 * Seeds: tests/fuzz/corpus/profile (docs/token-profiles.md's examples and
 * one file per key). Built and run by scripts/fuzz.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gmrenew/common.h"
#include "gmrenew/token.h"
#include "fuzz_util.h"

static void build(const char *name, const gm_config *cfg)
{
	gm_profile p;
	gm_error err;

	if (gm_profile_get(name, cfg, &p, &err) < 0)
		return;
	if (p.n_libraries > GM_PROFILE_MAX_LIBS || p.sign_input_max < 1 ||
	    p.sign_input_max > 4096 || p.pin_max_tries > 255 ||
	    p.ec_params_len > sizeof(p.ec_params) ||
	    memchr(p.name, '\0', sizeof(p.name)) == NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *const *b = gm_profile_builtin_names();
	char *text = fuzz_string(data, size);
	gm_config cfg;
	gm_error err;
	size_t i;

	gm_config_init(&cfg);
	gm_config_load_string(&cfg, text, &err);
	build(NULL, &cfg);	/* [token] profile, else the default */
	for (i = 0; i < cfg.n_profile_kv; i++)
		if (i == 0 || strcmp(cfg.profile_kv[i].section,
				     cfg.profile_kv[i - 1].section))
			build(cfg.profile_kv[i].section, &cfg);
	for (; *b; b++)
		build(*b, &cfg);
	gm_config_release(&cfg);
	free(text);
	return 0;
}
