/* st_skf_dev.c - SKF devices, applications and PINs of the soft
 * ePass3000GM. A device is a slot whose token is in; its name is
 * "ES3000GM VCR <slot + 1>" (the name seen on an ePass3000GM). The token
 * holds one application; its PINs are the PKCS#11 PINs, with the same
 * counter on disk: a wrong PIN through either API counts against both. */
#include "st_skf_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#define DEV_NAME_MAX 32

static void dev_name(CK_SLOT_ID slot, char *buf, size_t size)
{
	snprintf(buf, size, GMSOFT_SKF_DEV_PREFIX "%lu",
		 (unsigned long)slot + 1);
}

/* The slots with a token in, and their names. */
static ULONG devices(CK_SLOT_ID *ids, char names[][DEV_NAME_MAX], size_t *n)
{
	struct gmsoft_token t;
	size_t all, kept = 0;
	ULONG sar = gmsoft_skf_setup();

	if (sar != SAR_OK)
		return sar;
	if (gmsoft_slots(gmsoft_g.dir, ids, GMSOFT_MAX_SLOTS, &all) != CKR_OK)
		return SAR_FAIL;
	for (size_t i = 0; i < all; i++) {
		if (gmsoft_slot_token(ids[i], &t) != CKR_OK)
			continue;
		ids[kept] = ids[i];
		dev_name(ids[kept], names[kept], DEV_NAME_MAX);
		kept++;
	}
	*n = kept;
	return SAR_OK;
}

ULONG gmsoft_skf_enum_dev(BOOL present, LPSTR list, ULONG *size)
{
	CK_SLOT_ID ids[GMSOFT_MAX_SLOTS];
	char names[GMSOFT_MAX_SLOTS][DEV_NAME_MAX];
	const char *ptrs[GMSOFT_MAX_SLOTS];
	size_t n = 0;
	ULONG sar;

	/* The driver has a device only while it is plugged in, asked for
	 * present ones or not. */
	(void)present;
	if (!size)
		return SAR_INVALIDPARAMERR;
	sar = devices(ids, names, &n);
	for (size_t i = 0; i < n; i++)
		ptrs[i] = names[i];
	return sar == SAR_OK ? gmsoft_skf_names_out(ptrs, n, list, size) : sar;
}

/* The slot of device name, if plugged in. */
static ULONG device_find(const char *name, CK_SLOT_ID *slot)
{
	CK_SLOT_ID ids[GMSOFT_MAX_SLOTS];
	char names[GMSOFT_MAX_SLOTS][DEV_NAME_MAX];
	size_t n = 0;
	ULONG sar;

	if (!name)
		return SAR_INVALIDPARAMERR;
	sar = devices(ids, names, &n);
	for (size_t i = 0; sar == SAR_OK && i < n; i++) {
		if (strcmp(names[i], name) == 0) {
			*slot = ids[i];
			return SAR_OK;
		}
	}
	return sar == SAR_OK ? SAR_DEVICE_REMOVED : sar;
}

ULONG gmsoft_skf_connect_dev(LPSTR name, DEVHANDLE *out)
{
	struct gmsoft_skf_handle *h;
	CK_SLOT_ID slot = 0;
	ULONG sar;

	if (!out)
		return SAR_INVALIDPARAMERR;
	sar = device_find(name, &slot);
	if (sar != SAR_OK)
		return sar;
	h = gmsoft_skf_new(SKF_KIND_DEV, NULL);
	if (!h)
		return SAR_MEMORYERR;
	h->slot = slot;
	*out = h;
	return SAR_OK;
}

ULONG gmsoft_skf_disconnect_dev(DEVHANDLE p)
{
	struct gmsoft_skf_handle *h = gmsoft_skf_get(p, SKF_KIND_DEV);

	if (!h)
		return SAR_INVALIDHANDLEERR;
	gmsoft_skf_free(h);
	return SAR_OK;
}

ULONG gmsoft_skf_get_dev_state(LPSTR name, ULONG *state)
{
	CK_SLOT_ID slot;
	ULONG sar;

	if (!state || !name)
		return SAR_INVALIDPARAMERR;
	sar = device_find(name, &slot);
	if (sar != SAR_OK && sar != SAR_DEVICE_REMOVED)
		return sar;
	*state = sar == SAR_OK ? 1 : 0;
	return SAR_OK;
}

ULONG gmsoft_skf_set_label(DEVHANDLE p, LPSTR label)
{
	struct gmsoft_skf_handle *h;
	struct gmsoft_token t;
	int fd;
	ULONG sar = gmsoft_skf_open(p, SKF_KIND_DEV, &h);

	if (sar != SAR_OK)
		return sar;
	if (!label)
		return SAR_INVALIDPARAMERR;
	if (strlen(label) >= sizeof(t.label))
		return SAR_NAMELENERR;
	if (gmsoft_lock(gmsoft_g.dir, 1, &fd) != CKR_OK)
		return SAR_FAIL;
	sar = gmsoft_skf_sar(gmsoft_token_load(gmsoft_g.dir, h->slot, &t));
	if (sar == SAR_OK) {
		memcpy(t.label, label, strlen(label) + 1);
		sar = gmsoft_skf_sar(gmsoft_token_save(gmsoft_g.dir, &t));
	}
	gmsoft_unlock(fd);
	return sar;
}

static void text_field(CHAR *field, size_t size, const char *text)
{
	size_t n = strlen(text);

	memset(field, 0, size);
	memcpy(field, text, n < size ? n : size - 1);
}

ULONG gmsoft_skf_get_dev_info(DEVHANDLE p, DEVINFO *info)
{
	struct gmsoft_skf_handle *h = gmsoft_skf_get(p, SKF_KIND_DEV);
	struct gmsoft_token t;
	ULONG sar;

	if (!h)
		return SAR_INVALIDHANDLEERR;
	sar = gmsoft_skf_present(h, &t);
	if (sar != SAR_OK)
		return sar;
	if (!info)
		return SAR_INVALIDPARAMERR;
	memset(info, 0, sizeof(*info));
	info->Version.major = 1;
	text_field(info->Manufacturer, sizeof(info->Manufacturer),
		   t.manufacturer);
	text_field(info->Issuer, sizeof(info->Issuer),
		   GMSOFT_SLOT_MANUFACTURER);
	text_field(info->Label, sizeof(info->Label), t.label);
	text_field(info->SerialNumber, sizeof(info->SerialNumber), t.serial);
	info->HWVersion.major = 1;
	info->FirmwareVersion.major = 1;
	info->AlgSymCap = 0x00000703UL; /* SM1, SSF33, SM4: ECB and CBC */
	info->AlgAsymCap = 0x00030500UL; /* RSA, SM2 signing and exchange */
	info->AlgHashCap = 0x00000007UL; /* SM3, SHA-1, SHA-256 */
	info->DevAuthAlgId = SGD_SSF33_ECB;
	info->TotalSpace = 65536;
	info->FreeSpace = 32768;
	info->MaxECCBufferSize = 256;
	info->MaxBufferSize = 1024;
	return SAR_OK;
}

ULONG gmsoft_skf_lock_dev(DEVHANDLE p)
{
	struct gmsoft_skf_handle *h;

	return gmsoft_skf_open(p, SKF_KIND_DEV, &h);
}

ULONG gmsoft_skf_enum_application(DEVHANDLE p, LPSTR list, ULONG *size)
{
	static const char *const names[] = { GMSOFT_SKF_APP_NAME };
	struct gmsoft_skf_handle *h;
	ULONG sar = gmsoft_skf_open(p, SKF_KIND_DEV, &h);

	return sar == SAR_OK ? gmsoft_skf_names_out(names, 1, list, size) : sar;
}

ULONG gmsoft_skf_open_application(DEVHANDLE p, LPSTR name, HAPPLICATION *out)
{
	struct gmsoft_skf_handle *h, *app;
	ULONG sar = gmsoft_skf_open(p, SKF_KIND_DEV, &h);

	if (sar != SAR_OK)
		return sar;
	if (!name || !out)
		return SAR_INVALIDPARAMERR;
	if (strcmp(name, GMSOFT_SKF_APP_NAME) != 0)
		return SAR_APPLICATION_NOT_EXISTS;
	app = gmsoft_skf_new(SKF_KIND_APP, h);
	if (!app)
		return SAR_MEMORYERR;
	*out = app;
	return SAR_OK;
}

ULONG gmsoft_skf_close_application(HAPPLICATION p)
{
	struct gmsoft_skf_handle *h = gmsoft_skf_get(p, SKF_KIND_APP);

	if (!h)
		return SAR_INVALIDHANDLEERR;
	gmsoft_skf_free(h);
	return SAR_OK;
}

/* ---- PINs ----------------------------------------------------------- */

static ULONG pin_type(ULONG type, CK_USER_TYPE *user)
{
	if (type == SKF_USER_TYPE)
		*user = CKU_USER;
	else if (type == SKF_ADMIN_TYPE)
		*user = CKU_SO;
	else
		return SAR_USER_TYPE_INVALID;
	return SAR_OK;
}

static int pin_len_ok(const char *pin)
{
	size_t n = strnlen(pin, GMSOFT_SKF_PIN_MAX + 1);

	return n >= GMSOFT_SKF_PIN_MIN && n <= GMSOFT_SKF_PIN_MAX;
}

static ULONG token_of(HAPPLICATION p, struct gmsoft_skf_handle **h,
		      struct gmsoft_token *t)
{
	*h = gmsoft_skf_get(p, SKF_KIND_APP);
	if (!*h)
		return SAR_INVALIDHANDLEERR;
	return gmsoft_skf_present(*h, t);
}

ULONG gmsoft_skf_get_pin_info(HAPPLICATION p, ULONG type, ULONG *max,
			      ULONG *remain, BOOL *dflt)
{
	struct gmsoft_skf_handle *h;
	struct gmsoft_token t;
	CK_USER_TYPE user;
	int tries;
	ULONG sar = token_of(p, &h, &t);

	sar = sar ? sar : pin_type(type, &user);
	if (sar != SAR_OK)
		return sar;
	if (!max || !remain || !dflt)
		return SAR_INVALIDPARAMERR;
	tries = user == CKU_SO ? t.so_tries : t.tries;
	*max = GMSOFT_PIN_TRIES;
	*remain = tries > 0 ? (ULONG)tries : 0;
	*dflt = SKF_FALSE; /* fixture: the PINs are never the factory ones */
	return SAR_OK;
}

/* Check pin (NUL-terminated) as user; *retry gets the tries left. The
 * caller holds the exclusive lock and t was loaded under it. */
static ULONG pin_try(struct gmsoft_token *t, CK_USER_TYPE user, const char *pin,
		     ULONG *retry)
{
	CK_RV rv = gmsoft_pin_check(t, user, (const unsigned char *)pin,
				    strlen(pin));
	int tries = user == CKU_SO ? t->so_tries : t->tries;

	if (retry && (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED))
		*retry = tries > 0 ? (ULONG)tries : 0;
	return gmsoft_skf_sar(rv);
}

/* Run pin_try on the application's token under the exclusive lock, then
 * change (when given) the token before it is saved. */
static ULONG pin_locked(struct gmsoft_skf_handle *h, CK_USER_TYPE user,
			const char *pin, ULONG *retry,
			ULONG (*change)(struct gmsoft_token *, const char *),
			const char *arg)
{
	struct gmsoft_token t;
	int fd;
	ULONG sar;

	if (gmsoft_lock(gmsoft_g.dir, 1, &fd) != CKR_OK)
		return SAR_FAIL;
	sar = gmsoft_skf_sar(gmsoft_token_load(gmsoft_g.dir, h->slot, &t));
	sar = sar ? sar : pin_try(&t, user, pin, retry);
	if (sar == SAR_OK && change)
		sar = change(&t, arg);
	gmsoft_unlock(fd);
	return sar;
}

ULONG gmsoft_skf_verify_pin(HAPPLICATION p, ULONG type, LPSTR pin, ULONG *retry)
{
	struct gmsoft_skf_handle *h;
	CK_USER_TYPE user;
	ULONG sar = token_of(p, &h, NULL);

	sar = sar ? sar : pin_type(type, &user);
	if (sar != SAR_OK)
		return sar;
	if (!pin)
		return SAR_INVALIDPARAMERR;
	if (!pin_len_ok(pin))
		return SAR_PIN_LEN_RANGE;
	sar = pin_locked(h, user, pin, retry, NULL, NULL);
	if (sar == SAR_OK)
		gmsoft_skf_login_set(h->slot, (int)type);
	return sar;
}

static ULONG store_user_pin(struct gmsoft_token *t, const char *pin)
{
	gmsoft_pin_hash(t->salt, (const unsigned char *)pin, strlen(pin),
			t->pin_hash);
	t->tries = GMSOFT_PIN_TRIES;
	return gmsoft_skf_sar(gmsoft_token_save(gmsoft_g.dir, t));
}

static ULONG store_so_pin(struct gmsoft_token *t, const char *pin)
{
	gmsoft_pin_hash(t->salt, (const unsigned char *)pin, strlen(pin),
			t->so_pin_hash);
	t->so_tries = GMSOFT_PIN_TRIES;
	return gmsoft_skf_sar(gmsoft_token_save(gmsoft_g.dir, t));
}

ULONG gmsoft_skf_change_pin(HAPPLICATION p, ULONG type, LPSTR old, LPSTR pin,
			    ULONG *retry)
{
	struct gmsoft_skf_handle *h;
	CK_USER_TYPE user;
	ULONG sar = token_of(p, &h, NULL);

	sar = sar ? sar : pin_type(type, &user);
	if (sar != SAR_OK)
		return sar;
	if (!old || !pin)
		return SAR_INVALIDPARAMERR;
	if (!pin_len_ok(old) || !pin_len_ok(pin))
		return SAR_PIN_LEN_RANGE;
	return pin_locked(h, user, old, retry,
			  user == CKU_SO ? store_so_pin : store_user_pin, pin);
}

ULONG gmsoft_skf_unblock_pin(HAPPLICATION p, LPSTR admin, LPSTR pin,
			     ULONG *retry)
{
	struct gmsoft_skf_handle *h;
	ULONG sar = token_of(p, &h, NULL);

	if (sar != SAR_OK)
		return sar;
	if (!admin || !pin)
		return SAR_INVALIDPARAMERR;
	if (!pin_len_ok(admin) || !pin_len_ok(pin))
		return SAR_PIN_LEN_RANGE;
	return pin_locked(h, CKU_SO, admin, retry, store_user_pin, pin);
}

ULONG gmsoft_skf_clear_secure_state(HAPPLICATION p)
{
	struct gmsoft_skf_handle *h;
	ULONG sar = token_of(p, &h, NULL);

	if (sar == SAR_OK)
		gmsoft_skf_login_set(h->slot, -1);
	return sar;
}

ULONG gmsoft_skf_gen_random(DEVHANDLE p, BYTE *buf, ULONG len)
{
	struct gmsoft_skf_handle *h;
	ULONG sar = gmsoft_skf_open(p, SKF_KIND_DEV, &h);

	if (sar != SAR_OK)
		return sar;
	if ((!buf && len) || len > 4096)
		return SAR_INVALIDPARAMERR;
	return (len == 0 || RAND_bytes(buf, (int)len) == 1) ? SAR_OK :
							      SAR_GENRANDERR;
}
