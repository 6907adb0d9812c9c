/*
 * skf_peek.c - the PIN counter of a token used through PKCS#11, read
 * through the SKF side of the same library. FEITIAN's driver keeps one
 * store, and one counter, behind both interfaces, and PKCS#11 only has
 * flags for it; SKF_GetPINInfo gives the count and costs no try. Nothing
 * is sent or written: the device is connected, its application opened,
 * the counter read, and both closed again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skf_internal.h"

/* The device of that serial and label among those present; NULL (with
 * err) for none. */
static gm_skf_dev *find(gm_skf_lib *lib, const char *serial,
			const char *label, gm_error *err)
{
	char **names = NULL;
	size_t n = 0, i;
	gm_skf_dev *found = NULL;

	if (gm_skf_enum_devices(lib, &names, &n, err))
		return NULL;
	for (i = 0; i < n && !found; i++) {
		gm_skf_dev *d;
		gm_error ignored;

		if (gm_skf_dev_open(lib, names[i], &d, &ignored))
			continue;
		/* the serial as the SKF backend shows it: 16 characters */
		if (!strncmp(d->info.serial, serial, 16) &&
		    strlen(serial) == strnlen(d->info.serial, 16) &&
		    !strcmp(d->info.label, label))
			found = d;
		else
			gm_skf_dev_close(d);
	}
	gm_skf_names_free(names, n);
	if (!found)
		gm_fail(err, GM_EXIT_ENV, NULL, "no SKF device has serial '%s'",
			serial);
	return found;
}

int gm_skf_peek_pin(const char *path, const gm_skf_abi *abi,
		    const char *serial, const char *label,
		    unsigned long *left, unsigned long *max, gm_error *err)
{
	gm_skf_lib *lib = NULL;
	gm_skf_dev *d = NULL;
	gm_skf_pin pin;
	int ret = -1;

	if (gm_skf_lib_open_pin_reader(path, abi, &lib, err))
		return -1;
	d = find(lib, serial, label, err);
	if (!d || gm_skf_pin_info(d, &pin, err))
		goto out;
	/* a counter that makes no sense is no count */
	if (pin.max_tries == 0 || pin.max_tries > 255 ||
	    pin.remaining > pin.max_tries) {
		gm_fail(err, GM_EXIT_ENV, NULL, "the SKF PIN counter says %llu "
			"of %llu", (unsigned long long)pin.remaining,
			(unsigned long long)pin.max_tries);
		goto out;
	}
	*left = (unsigned long)pin.remaining;
	*max = (unsigned long)pin.max_tries;
	ret = 0;
out:
	gm_skf_dev_close(d);
	gm_skf_lib_close(lib);
	return ret;
}
