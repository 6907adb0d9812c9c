/*
 * usb.c - whether the token is on the USB bus and whether this user may
 * open it (libusb-1.0). Used to tell "not inserted" from "no permission"
 * from "driver missing", and to wait for an Ekey to arrive or leave
 * (libusb's hotplug events) instead of asking the driver over and over.
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

/* ---- Waiting for the bus to change ---- */

struct gm_usb_watch {
	libusb_context *ctx;
	libusb_hotplug_callback_handle handle;
	int arrived, left;	/* events seen by the current wait */
};

static int LIBUSB_CALL on_hotplug(libusb_context *ctx, libusb_device *dev,
				  libusb_hotplug_event event, void *data)
{
	gm_usb_watch *w = data;

	(void)ctx;
	(void)dev;
	if (event == LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED)
		w->arrived++;
	else
		w->left++;
	return 0;		/* stay registered */
}

gm_usb_watch *gm_usb_watch_open(uint16_t vendor, uint16_t product)
{
	gm_usb_watch *w = gm_xcalloc(1, sizeof(*w));
	int r = libusb_init(&w->ctx);

	if (r < 0) {
		gm_debug("libusb_init: %s: no USB events", libusb_error_name(r));
		free(w);
		return NULL;
	}
	if (!libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG)) {
		gm_debug("libusb has no hotplug events here");
		goto fail;
	}
	r = libusb_hotplug_register_callback(w->ctx,
		LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED |
		LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT, 0, vendor,
		product ? product : LIBUSB_HOTPLUG_MATCH_ANY,
		LIBUSB_HOTPLUG_MATCH_ANY, on_hotplug, w, &w->handle);
	gm_debug("libusb_hotplug_register_callback: %s", libusb_error_name(r));
	if (r == LIBUSB_SUCCESS)
		return w;
fail:
	libusb_exit(w->ctx);
	free(w);
	return NULL;
}

int gm_usb_watch_wait(gm_usb_watch *w, long ms, int *arrived, int *left)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	int r;

	w->arrived = w->left = 0;
	r = libusb_handle_events_timeout_completed(w->ctx, &tv, NULL);
	if (r < 0 && r != LIBUSB_ERROR_INTERRUPTED)
		gm_debug("libusb_handle_events: %s", libusb_error_name(r));
	*arrived = w->arrived;
	*left = w->left;
	return w->arrived + w->left;
}

void gm_usb_watch_close(gm_usb_watch *w)
{
	if (!w)
		return;
	libusb_hotplug_deregister_callback(w->ctx, w->handle);
	libusb_exit(w->ctx);
	free(w);
}
