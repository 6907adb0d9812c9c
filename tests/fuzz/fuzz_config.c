/*
 * fuzz_config.c - libFuzzer target for the configuration file parser
 * (src/common/config.c over inih) and the update-code normaliser: no input
 * may crash, leak or read out of bounds. Built by scripts/fuzz.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gmrenew/common.h"
#include "gmrenew/service.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = gm_xmemdup(data, size);
	char code[24];
	gm_config cfg;
	gm_error err;

	gm_config_init(&cfg);
	gm_config_load_string(&cfg, text, &err);
	gm_config_release(&cfg);
	gm_update_code_normalize(text, code, &err);
	free(text);
	return 0;
}
