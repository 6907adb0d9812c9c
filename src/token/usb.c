/*
 * usb.c - whether the token is on the USB bus and whether this user may
 * open it (libusb-1.0). Used to tell "not inserted" from "no permission"
 * from "driver missing".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libusb.h>

#include "token_internal.h"

static void probe_open(libusb_device *dev, gm_usb_device *d)
{
	libusb_device_handle *h = NULL;
	int r = libusb_open(dev, &h);

	gm_debug("libusb_open(%s): %s", d->node, libusb_error_name(r));
	if (r == 0) {
		d->can_open = 1;
		libusb_close(h);
		return;
	}
	d->can_open = 0;
	d->denied = r == LIBUSB_ERROR_ACCESS;
	if (d->denied)
		snprintf(d->problem, sizeof(d->problem), "%s",
			 gm_text(N_("permission denied")));
	else
		snprintf(d->problem, sizeof(d->problem),
			 gm_text(N_("cannot open: %s")), libusb_strerror(r));
}

int gm_usb_scan(uint16_t vendor, uint16_t product, gm_usb_device **out,
		size_t *n, gm_error *err)
{
	libusb_context *ctx = NULL;
	libusb_device **list = NULL;
	gm_usb_device *devs = NULL;
	ssize_t count, i;
	size_t got = 0;
	int r;

	*out = NULL;
	*n = 0;
	r = libusb_init(&ctx);
	gm_debug("libusb_init: %s", libusb_error_name(r));
	if (r == LIBUSB_ERROR_NO_MEM)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "cannot scan the USB bus: out of memory");
	if (r < 0)
		return 0;	/* no USB bus here: nothing is plugged in */
	count = libusb_get_device_list(ctx, &list);
	gm_debug("libusb_get_device_list: %zd", count);
	if (count < 0) {
		libusb_exit(ctx);
		return 0;
	}
	devs = gm_xcalloc((size_t)count + 1, sizeof(*devs));
	for (i = 0; i < count; i++) {
		struct libusb_device_descriptor desc;
		gm_usb_device *d = &devs[got];

		if (libusb_get_device_descriptor(list[i], &desc) < 0)
			continue;
		if (desc.idVendor != vendor ||
		    (product && desc.idProduct != product))
			continue;
		d->bus = libusb_get_bus_number(list[i]);
		d->address = libusb_get_device_address(list[i]);
		d->vendor = desc.idVendor;
		d->product = desc.idProduct;
		snprintf(d->node, sizeof(d->node), "/dev/bus/usb/%03u/%03u",
			 d->bus, d->address);
		probe_open(list[i], d);
		got++;
	}
	libusb_free_device_list(list, 1);
	libusb_exit(ctx);
	if (got == 0) {
		free(devs);
		devs = NULL;
	}
	*out = devs;		/* the caller frees it */
	*n = got;
	return 0;
}
