/*
 * skf_dev.c - SKF devices, their application, the user PIN and the
 * containers: what the token holds, read through GM/T 0016.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skf_internal.h"

#define LIST_MAX	65536	/* bytes of a name list we accept */
#define CERT_MAX	65536	/* bytes of a certificate we accept */
/* Buffers that fit the usual answers, so that one call is enough; a
 * larger answer is asked for by size, then value (each call of a USB key
 * costs milliseconds). */
#define LIST_GUESS	1024
#define CERT_GUESS	4096
#define FIX_PIN_LOCKED \
	N_("have it unlocked by the security officer (SO PIN) or the CA")
#define FIX_GUESS \
	N_("do not guess: find the right PIN before trying again")

/* One of the three Enum functions, its first argument and its words. */
struct lister {
	gm_skf_lib *lib;
	skf_enum_fn dev;	/* SKF_EnumDev, or */
	skf_enum_in_fn in;	/* SKF_EnumApplication / SKF_EnumContainer */
	skf_handle h;
	const char *call, *what;
};

static skf_rv list_call(const struct lister *l, char *buf, skf_cell *size)
{
	skf_rv rv = l->dev ? l->dev(1, buf, size->b) : l->in(l->h, buf, size->b);

	rv = gm_skf_rv(&l->lib->abi, rv);
	gm_skf_log(l->call, rv);
	return rv;
}

/* One call with a buffer of LIST_GUESS bytes: 1 when the list fitted
 * (*names set), 0 when it must be asked for by size, -1 on an error. */
static int list_guessed(const struct lister *l, char ***names, size_t *n,
			gm_error *err)
{
	const gm_skf_abi *abi = &l->lib->abi;
	char *buf = gm_xcalloc(1, LIST_GUESS + 2);
	skf_cell size;
	uint64_t got;
	skf_rv rv;

	gm_skf_cell_set(abi, &size, LIST_GUESS);
	rv = list_call(l, buf, &size);
	got = gm_skf_cell_ulong(abi, &size);
	if (rv == SAR_OK && got <= LIST_GUESS) {
		if (got >= 2)	/* FEITIAN: below 2 means none */
			gm_skf_names_parse(buf, (size_t)got, names, n);
		free(buf);
		return 1;
	}
	free(buf);
	if (rv == SAR_OK)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "%s: the driver wrote %llu bytes into a buffer "
			       "of %d", gm_text(l->what),
			       (unsigned long long)got, LIST_GUESS);
	if (rv != SAR_BUFFER_TOO_SMALL)
		return gm_sar_fail(err, rv, l->what);
	return 0;
}

/* A guessed buffer first; else the size, then the list (a list that grew
 * in between is asked for again). */
static int list_names(const struct lister *l, char ***names, size_t *n,
		      gm_error *err)
{
	const gm_skf_abi *abi = &l->lib->abi;
	uint64_t len, got;
	skf_cell size;
	char *buf;
	skf_rv rv;
	int tries;

	*names = NULL;
	*n = 0;
	tries = list_guessed(l, names, n, err);
	if (tries)
		return tries < 0 ? -1 : 0;
	for (tries = 0; tries < 3; tries++) {
		gm_skf_cell_set(abi, &size, 0);
		rv = list_call(l, NULL, &size);
		if (rv != SAR_OK)
			return gm_sar_fail(err, rv, l->what);
		len = gm_skf_cell_ulong(abi, &size);
		if (len > LIST_MAX)
			return gm_fail(err, GM_EXIT_FAILED, NULL,
				       "%s: the driver announced a list of %llu "
				       "bytes", gm_text(l->what),
				       (unsigned long long)len);
		if (len < 2)	/* FEITIAN: below 2 means none */
			return 0;
		buf = gm_xcalloc(1, (size_t)len + 2);
		gm_skf_cell_set(abi, &size, len);
		rv = list_call(l, buf, &size);
		got = gm_skf_cell_ulong(abi, &size);
		if (rv == SAR_OK && got <= len) {
			gm_skf_names_parse(buf, (size_t)got, names, n);
			free(buf);
			return 0;
		}
		free(buf);
		if (rv == SAR_OK)
			return gm_fail(err, GM_EXIT_FAILED, NULL,
				       "%s: the driver wrote %llu bytes into a "
				       "buffer of %llu", gm_text(l->what),
				       (unsigned long long)got,
				       (unsigned long long)len);
		if (rv != SAR_BUFFER_TOO_SMALL)
			return gm_sar_fail(err, rv, l->what);
	}
	return gm_fail(err, GM_EXIT_FAILED, "try again",
		       "%s: the list kept growing", gm_text(l->what));
}

int gm_skf_enum_devices(gm_skf_lib *lib, char ***names, size_t *n,
			gm_error *err)
{
	struct lister l = { lib, lib->f.EnumDev, NULL, NULL, "SKF_EnumDev",
			    N_("listing the SKF devices") };

	return list_names(&l, names, n, err);
}

int gm_skf_dev_open(gm_skf_lib *lib, const char *name, gm_skf_dev **out,
		    gm_error *err)
{
	unsigned char info[SKF_DEVINFO_BUF];
	skf_handle h = NULL;
	skf_rv rv;

	*out = NULL;
	rv = gm_skf_rv(&lib->abi, lib->f.ConnectDev(name, &h));
	gm_skf_log("SKF_ConnectDev", rv);
	if (rv != SAR_OK)
		return gm_sar_fail(err, rv, "connecting to the SKF device");
	memset(info, 0, sizeof(info));
	rv = gm_skf_rv(&lib->abi, lib->f.GetDevInfo(h, info));
	gm_skf_log("SKF_GetDevInfo", rv);
	if (rv != SAR_OK) {
		gm_skf_log("SKF_DisConnectDev",
			   gm_skf_rv(&lib->abi, lib->f.DisConnectDev(h)));
		return gm_sar_fail(err, rv, "reading the SKF device's information");
	}
	*out = gm_xcalloc(1, sizeof(**out));
	(*out)->lib = lib;
	(*out)->h = h;
	(*out)->name = gm_xstrdup(name);
	gm_skf_devinfo_parse(&lib->abi, info, &(*out)->info);
	gm_debug("SKF device '%s': serial '%s', label '%s', manufacturer '%s', "
		 "firmware %u.%u, DevAuthAlgId 0x%llx", name,
		 (*out)->info.serial, (*out)->info.label,
		 (*out)->info.manufacturer, (*out)->info.fw_major,
		 (*out)->info.fw_minor,
		 (unsigned long long)(*out)->info.dev_auth_alg);
	return 0;
}

void gm_skf_dev_close(gm_skf_dev *d)
{
	const gm_skf_abi *abi;

	if (!d)
		return;
	abi = &d->lib->abi;
	gm_skf_con_release(d, NULL);
	if (d->app) {
		if (d->logged_in)
			gm_skf_log("SKF_ClearSecureState",
				   gm_skf_rv(abi, d->lib->f.ClearSecureState(d->app)));
		gm_skf_log("SKF_CloseApplication",
			   gm_skf_rv(abi, d->lib->f.CloseApplication(d->app)));
	}
	gm_skf_log("SKF_DisConnectDev",
		   gm_skf_rv(abi, d->lib->f.DisConnectDev(d->h)));
	free(d->app_name);
	free(d->name);
	free(d);
}

/* The application to open among names: the profile's, else the first. */
static const char *pick_app(gm_skf_dev *d, char **names, size_t n,
			    gm_error *err)
{
	const char *want = d->lib->abi.application;
	size_t i;

	if (!n) {
		gm_fail(err, GM_EXIT_ENV,
			"have the Ekey initialised by the CA",
			"the SKF device '%s' (serial %s) holds no application",
			d->name, d->info.serial);
		return NULL;
	}
	if (!want[0]) {
		if (n > 1)
			gm_debug("%zu applications; using the first, '%s'", n,
				 names[0]);
		return names[0];
	}
	for (i = 0; i < n; i++)
		if (!strcmp(names[i], want))
			return names[i];
	gm_fail(err, GM_EXIT_ENV,
		"correct skf_application in the profile, or remove it to use "
		"the device's application",
		"the SKF device '%s' has no application '%s' (it has '%s')",
		d->name, want, names[0]);
	return NULL;
}

int gm_skf_app_open(gm_skf_dev *d, gm_error *err)
{
	struct lister l = { d->lib, NULL, d->lib->f.EnumApplication, d->h,
			    "SKF_EnumApplication",
			    N_("listing the SKF applications") };
	char **names = NULL;
	const char *name;
	size_t n = 0;
	skf_rv rv;
	int ret = -1;

	if (d->app)
		return 0;
	if (list_names(&l, &names, &n, err))
		return -1;
	name = pick_app(d, names, n, err);
	if (!name)
		goto out;
	rv = gm_skf_rv(&d->lib->abi,
		       d->lib->f.OpenApplication(d->h, name, &d->app));
	gm_skf_log("SKF_OpenApplication", rv);
	if (rv != SAR_OK) {
		d->app = NULL;
		ret = gm_sar_fail(err, rv, "opening the SKF application");
		goto out;
	}
	d->app_name = gm_xstrdup(name);
	ret = 0;
out:
	gm_skf_names_free(names, n);
	return ret;
}

int gm_skf_pin_info(gm_skf_dev *d, gm_skf_pin *out, gm_error *err)
{
	const gm_skf_abi *abi = &d->lib->abi;
	skf_cell max, remain, dflt;
	skf_rv rv;

	if (gm_skf_app_open(d, err))
		return -1;
	memset(&max, 0, sizeof(max));
	memset(&remain, 0, sizeof(remain));
	memset(&dflt, 0, sizeof(dflt));
	rv = gm_skf_rv(abi, d->lib->f.GetPINInfo(d->app, SKF_USER_TYPE, max.b,
						 remain.b, dflt.b));
	gm_skf_log("SKF_GetPINInfo", rv);
	if (rv != SAR_OK)
		return gm_sar_fail(err, rv, "reading the Ekey's PIN state");
	out->max_tries = gm_skf_cell_ulong(abi, &max);
	out->remaining = gm_skf_cell_ulong(abi, &remain);
	out->is_default = gm_skf_cell_bool(abi, &dflt);
	d->pin_remaining = out->remaining;
	d->pin_known = 1;
	gm_debug("user PIN: %llu of %llu tries left%s",
		 (unsigned long long)out->remaining,
		 (unsigned long long)out->max_tries,
		 out->is_default ? ", factory default" : "");
	return 0;
}

int gm_skf_pin_state(gm_skf_dev *d, gm_pin_state *out, gm_error *err)
{
	gm_skf_pin p;

	if (gm_skf_pin_info(d, &p, err))
		return -1;
	memset(out, 0, sizeof(*out));
	out->locked = p.remaining == 0;
	out->final_try = p.remaining == 1;
	out->count_low = p.remaining < p.max_tries;
	out->min_len = 6;	/* feitian-driver.md: 6 to 16 */
	out->tries_left = (int)(p.remaining > 255 ? 255 : p.remaining);
	out->max_len = 16;
	return 0;
}

static int pin_incorrect(uint64_t left, gm_error *err)
{
	if (left == 0)
		gm_fail(err, GM_EXIT_PIN, FIX_PIN_LOCKED,
			"the PIN is incorrect, and the Ekey's user PIN is now "
			"locked");
	else if (left == 1)
		gm_fail(err, GM_EXIT_PIN,
			"do not guess: one more wrong PIN locks the Ekey",
			"the PIN is incorrect: one try is left before the Ekey "
			"locks");
	else
		gm_fail(err, GM_EXIT_PIN, FIX_GUESS,
			"the PIN is incorrect: the Ekey will lock after %llu "
			"more wrong PINs", (unsigned long long)left);
	if (err)
		err->detail = (long)SAR_PIN_INCORRECT;
	/* the reason the PKCS#11 side gives: the CLI treats both the same */
	return gm_error_set_outside(err, GM_REASON_PIN_INCORRECT,
				    "SAR_PIN_INCORRECT");
}

static int login_failed(skf_rv rv, uint64_t left, gm_error *err)
{
	switch (rv) {
	case SAR_PIN_INCORRECT:
		return pin_incorrect(left, err);
	case SAR_PIN_LOCKED:
		gm_fail(err, GM_EXIT_PIN, FIX_PIN_LOCKED,
			"the Ekey's user PIN is locked");
		gm_error_set_outside(err, GM_REASON_PIN_LOCKED,
				     "SAR_PIN_LOCKED");
		break;
	case SAR_PIN_LEN_RANGE:
		gm_fail(err, GM_EXIT_PIN, "type the Ekey's user PIN again",
			"the PIN's length is not accepted: the Ekey takes 6 to "
			"16 characters");
		gm_error_set_outside(err, GM_REASON_SKF,
				     "SAR_PIN_LEN_RANGE");
		break;
	default:
		return gm_sar_fail(err, rv, "logging in to the Ekey");
	}
	if (err)
		err->detail = (long)rv;
	return -1;
}

int gm_skf_login(gm_skf_dev *d, const char *pin, size_t pin_len,
		 gm_error *err)
{
	const gm_skf_abi *abi = &d->lib->abi;
	gm_skf_pin before;
	skf_cell retry;
	skf_rv rv;

	if (!pin || strlen(pin) != pin_len)
		return gm_fail(err, GM_EXIT_USAGE, "give the Ekey's user PIN",
			       "no PIN was given");
	/* the tries left as read for the PIN state, when they were (no PIN
	 * was sent since), else read now; a PIN locked in between is still
	 * refused by SKF_VerifyPIN (SAR_PIN_LOCKED) */
	if (d->pin_known)
		before.remaining = d->pin_remaining;
	else if (gm_skf_pin_info(d, &before, err))
		return -1;
	d->pin_known = 0;
	if (before.remaining == 0) {
		gm_fail(err, GM_EXIT_PIN, FIX_PIN_LOCKED,
			"the Ekey's user PIN is locked");
		return gm_error_set_reason(err, GM_REASON_PIN_LOCKED);
	}
	memset(&retry, 0, sizeof(retry));
	rv = gm_skf_rv(abi, d->lib->f.VerifyPIN(d->app, SKF_USER_TYPE, pin,
						retry.b));
	gm_skf_log("SKF_VerifyPIN", rv);
	if (rv == SAR_OK || rv == SAR_USER_ALREADY_LOGGED_IN) {
		d->logged_in = 1;
		return 0;
	}
	return login_failed(rv, gm_skf_cell_ulong(abi, &retry), err);
}

/* ---- containers ---- */

/* The codes that mean "there is none of that kind here". */
static int is_absent(skf_rv rv)
{
	return rv == SAR_CERTNOTFOUNTERR || rv == SAR_KEYNOTFOUNTERR ||
	       rv == SAR_FILE_NOT_EXIST;
}

/* A container's certificate (sign: the signing one, else the encryption
 * one) in one call with a buffer of CERT_GUESS bytes: 0 read (*der owned
 * by the caller), 1 none, 2 larger (ask by size), -1 an error. */
static int export_cert_guessed(gm_skf_dev *d, skf_handle h, int sign,
			       unsigned char **der, size_t *der_len,
			       gm_error *err)
{
	const gm_skf_abi *abi = &d->lib->abi;
	unsigned char *buf = gm_xcalloc(1, CERT_GUESS);
	skf_cell len;
	uint64_t got;
	skf_rv rv;

	*der = NULL;
	*der_len = 0;
	gm_skf_cell_set(abi, &len, CERT_GUESS);
	rv = gm_skf_rv(abi, d->lib->f.ExportCertificate(h, sign, buf, len.b));
	gm_skf_log("SKF_ExportCertificate", rv);
	got = gm_skf_cell_ulong(abi, &len);
	if (rv == SAR_OK && got > 0 && got <= CERT_GUESS) {
		*der = gm_xrealloc(buf, (size_t)got);
		*der_len = (size_t)got;
		return 0;
	}
	free(buf);
	if (is_absent(rv) || (rv == SAR_OK && got == 0))
		return 1;
	if (rv == SAR_BUFFER_TOO_SMALL)
		return 2;
	if (rv != SAR_OK)
		return gm_sar_fail(err, rv, "reading a container's certificate");
	return gm_fail(err, GM_EXIT_FAILED, NULL,
		       "the driver wrote %llu bytes of certificate into %d",
		       (unsigned long long)got, CERT_GUESS);
}

/* A container's certificate (sign: the signing one, else the encryption
 * one): a guessed buffer, else size first, then the DER. 1 when there is
 * none. */
int gm_skf_export_cert(gm_skf_dev *d, skf_handle h, int sign,
		       unsigned char **der, size_t *der_len, gm_error *err)
{
	const gm_skf_abi *abi = &d->lib->abi;
	skf_cell len;
	uint64_t n, got;
	skf_rv rv;
	int r = export_cert_guessed(d, h, sign, der, der_len, err);

	if (r != 2)
		return r;
	gm_skf_cell_set(abi, &len, 0);
	rv = gm_skf_rv(abi, d->lib->f.ExportCertificate(h, sign, NULL, len.b));
	gm_skf_log("SKF_ExportCertificate", rv);
	n = gm_skf_cell_ulong(abi, &len);
	if (is_absent(rv) || (rv == SAR_OK && n == 0))
		return 1;
	if (rv != SAR_OK)
		return gm_sar_fail(err, rv, "reading a container's certificate");
	if (n > CERT_MAX)
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "the driver announced a certificate of %llu "
			       "bytes", (unsigned long long)n);
	*der = gm_xcalloc(1, (size_t)n);
	gm_skf_cell_set(abi, &len, n);
	rv = gm_skf_rv(abi, d->lib->f.ExportCertificate(h, sign, *der, len.b));
	gm_skf_log("SKF_ExportCertificate", rv);
	got = gm_skf_cell_ulong(abi, &len);
	if (rv != SAR_OK || got > n) {
		free(*der);
		*der = NULL;
		if (rv != SAR_OK)
			return gm_sar_fail(err, rv,
					   "reading a container's certificate");
		return gm_fail(err, GM_EXIT_FAILED, NULL,
			       "the driver wrote %llu bytes of certificate "
			       "into %llu", (unsigned long long)got,
			       (unsigned long long)n);
	}
	*der_len = (size_t)got;
	return 0;
}

/* A container's public key (sign: the signing pair's, else the
 * encryption pair's). 1 when there is none. */
int gm_skf_export_pub(gm_skf_dev *d, skf_handle h, int sign, EVP_PKEY **pub,
		      gm_error *err)
{
	const gm_skf_abi *abi = &d->lib->abi;
	/* room for an RSAPUBLICKEYBLOB too (276 bytes with 8-byte ULONGs),
	 * should a driver write one past the length it was given */
	unsigned char blob[512];
	skf_cell len;
	uint64_t got;
	skf_rv rv;

	*pub = NULL;
	memset(blob, 0, sizeof(blob));
	gm_skf_cell_set(abi, &len, SKF_ECC_PUBBLOB_LEN);
	rv = gm_skf_rv(abi, d->lib->f.ExportPublicKey(h, sign, blob, len.b));
	gm_skf_log("SKF_ExportPublicKey", rv);
	if (is_absent(rv))
		return 1;
	if (rv != SAR_OK)
		return gm_sar_fail(err, rv, "reading a container's public key");
	got = gm_skf_cell_ulong(abi, &len);
	*pub = gm_skf_pubblob_key(blob, got > sizeof(blob) ? sizeof(blob) + 1 :
				  (size_t)got, err);
	return *pub ? 0 : -1;
}

/* The certificates, then the encryption public key when there is an
 * encryption certificate (the signing public key is read already). */
static int read_certs(gm_skf_dev *d, skf_handle h, gm_skf_container *c,
		      gm_error *err)
{
	if (gm_skf_export_cert(d, h, 1, &c->cert, &c->cert_len, err) < 0 ||
	    gm_skf_export_cert(d, h, 0, &c->enc_cert, &c->enc_cert_len,
			       err) < 0)
		return -1;
	if (c->enc_cert && gm_skf_export_pub(d, h, 0, &c->enc_pub, err) < 0)
		return -1;
	return 0;
}

/* The container's type, asked only when its signing public key was not an
 * SM2 key blob (an SM2 blob says the type: one call less per container). */
static int container_type(gm_skf_dev *d, skf_handle h, uint64_t *type,
			  gm_error *err)
{
	const gm_skf_abi *abi = &d->lib->abi;
	skf_cell cell;
	skf_rv rv;

	memset(&cell, 0, sizeof(cell));
	rv = gm_skf_rv(abi, d->lib->f.GetContainerType(h, cell.b));
	gm_skf_log("SKF_GetContainerType", rv);
	if (rv != SAR_OK)
		return gm_sar_fail(err, rv, "reading a container's type");
	*type = gm_skf_cell_ulong(abi, &cell);
	return 0;
}

/* The signing public key first: an SM2 blob makes the container an SM2
 * one. Without one (none, or not an SM2 blob), the type decides: RSA or
 * empty is skipped, as before; an SM2 container whose key blob is bad is
 * an error, as before. */
static int read_parts(gm_skf_dev *d, skf_handle h, gm_skf_container *c,
		      gm_error *err)
{
	gm_error perr;
	int r = gm_skf_export_pub(d, h, 1, &c->pub, &perr);

	if (r == 0) {
		c->type = SKF_CONTAINER_ECC;
		return read_certs(d, h, c, err);
	}
	if (container_type(d, h, &c->type, err) < 0)
		return -1;
	if (c->type != SKF_CONTAINER_ECC)
		return 0;	/* RSA or empty: nothing gmrenew renews */
	if (r < 0) {
		if (err)
			*err = perr;
		return -1;
	}
	return read_certs(d, h, c, err);
}

static int read_container(gm_skf_dev *d, const char *name,
			  gm_skf_container *c, gm_error *err)
{
	skf_handle h = NULL;
	int ret;

	snprintf(c->name, sizeof(c->name), "%s", name);
	if (gm_skf_con_open(d, name, &h, err) != SAR_OK)
		return gm_error_prefix(err, "container '%s'", name);
	ret = read_parts(d, h, c, err);
	gm_skf_con_close(d, h);
	if (ret)
		gm_error_prefix(err, "container '%s'", name);
	return ret;
}

int gm_skf_cert_read(gm_skf_dev *d, const char *name, int sign,
		     unsigned char **der, size_t *der_len, gm_error *err)
{
	skf_handle h = NULL;
	int r;

	*der = NULL;
	*der_len = 0;
	if (gm_skf_con_open(d, name, &h, err) != SAR_OK)
		return gm_error_prefix(err, "container '%s'", name);
	r = gm_skf_export_cert(d, h, sign, der, der_len, err);
	gm_skf_con_close(d, h);
	if (r < 0)
		gm_error_prefix(err, "container '%s'", name);
	return r;
}

void gm_skf_container_clear(gm_skf_container *c)
{
	free(c->cert);
	EVP_PKEY_free(c->pub);
	free(c->enc_cert);
	EVP_PKEY_free(c->enc_pub);
	memset(c, 0, sizeof(*c));
}

void gm_skf_containers_free(gm_skf_container *c, size_t n)
{
	size_t i;

	for (i = 0; c && i < n; i++)
		gm_skf_container_clear(&c[i]);
	free(c);
}

int gm_skf_containers(gm_skf_dev *d, gm_skf_container **out, size_t *n,
		      gm_error *err)
{
	struct lister l = { d->lib, NULL, d->lib->f.EnumContainer, NULL,
			    "SKF_EnumContainer",
			    N_("listing the SKF containers") };
	char **names = NULL;
	size_t count = 0, i;

	*out = NULL;
	*n = 0;
	if (gm_skf_app_open(d, err))
		return -1;
	l.h = d->app;
	if (list_names(&l, &names, &count, err))
		return -1;
	*out = gm_xcalloc(count ? count : 1, sizeof(**out));
	for (i = 0; i < count; i++) {
		if (strlen(names[i]) > SKF_NAME_MAX) {
			gm_debug("skipping a container name of %zu bytes",
				 strlen(names[i]));
			continue;
		}
		if (read_container(d, names[i], &(*out)[*n], err)) {
			gm_skf_containers_free(*out, *n + 1);
			*out = NULL;
			*n = 0;
			gm_skf_names_free(names, count);
			return -1;
		}
		(*n)++;
	}
	gm_skf_names_free(names, count);
	return 0;
}
