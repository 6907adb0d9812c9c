/* st_session.c - library, slots, tokens, sessions, login and PINs of the
 * soft ePass3000GM. Called with the module mutex held. */
#include "st_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

struct gmsoft_state gmsoft_g;

/* ---- slots ---------------------------------------------------------- */

static int removed_by_env(CK_SLOT_ID slot)
{
	return gmsoft_g.removed &&
	       (gmsoft_g.faults.remove_all || gmsoft_g.faults.remove_slot == slot);
}

static void logins_forget(CK_SLOT_ID slot)
{
	for (size_t i = 0; i < GMSOFT_MAX_SLOTS; i++)
		if (gmsoft_g.logins[i].used && gmsoft_g.logins[i].slot == slot)
			gmsoft_g.logins[i].used = 0;
}

static CK_RV token_load_locked(CK_SLOT_ID slot, struct gmsoft_token *t)
{
	int fd;
	CK_RV rv = gmsoft_lock(gmsoft_g.dir, 0, &fd);

	if (rv != CKR_OK)
		return rv;
	rv = gmsoft_token_load(gmsoft_g.dir, slot, t);
	gmsoft_unlock(fd);
	return rv;
}

/* The token in slot. FEITIAN's driver has no slot without a device:
 * CKR_SLOT_ID_INVALID when the slot is empty or the token is pulled out;
 * a pulled token forgets its login. */
CK_RV gmsoft_slot_token(CK_SLOT_ID slot, struct gmsoft_token *t)
{
	CK_RV rv = token_load_locked(slot, t);

	if (rv != CKR_OK)
		return rv;
	if (!t->has_token || !t->present || removed_by_env(slot)) {
		logins_forget(slot);
		return CKR_SLOT_ID_INVALID;
	}
	return CKR_OK;
}

CK_USER_TYPE gmsoft_login_user(CK_SLOT_ID slot)
{
	for (size_t i = 0; i < GMSOFT_MAX_SLOTS; i++)
		if (gmsoft_g.logins[i].used && gmsoft_g.logins[i].slot == slot)
			return gmsoft_g.logins[i].user;
	return GMSOFT_NOBODY;
}

static CK_RV login_set(CK_SLOT_ID slot, CK_USER_TYPE user)
{
	logins_forget(slot);
	for (size_t i = 0; i < GMSOFT_MAX_SLOTS; i++) {
		if (!gmsoft_g.logins[i].used) {
			gmsoft_g.logins[i].used = 1;
			gmsoft_g.logins[i].slot = slot;
			gmsoft_g.logins[i].user = user;
			return CKR_OK;
		}
	}
	return CKR_HOST_MEMORY;
}

/* ---- sessions ------------------------------------------------------- */

static struct gmsoft_session *session_find(CK_SESSION_HANDLE h)
{
	for (size_t i = 0; h && i < GMSOFT_MAX_SESSIONS; i++)
		if (gmsoft_g.sessions[i].handle == h)
			return &gmsoft_g.sessions[i];
	return NULL;
}

CK_RV gmsoft_session_get(CK_SESSION_HANDLE h, struct gmsoft_session **s)
{
	struct gmsoft_token t;
	CK_RV rv;

	*s = session_find(h);
	if (!*s)
		return CKR_SESSION_HANDLE_INVALID;
	rv = gmsoft_slot_token((*s)->slot, &t);
	if (rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_SLOT_ID_INVALID)
		return CKR_DEVICE_REMOVED;
	return rv;
}

static size_t session_count(CK_SLOT_ID slot, CK_FLAGS need)
{
	size_t n = 0;

	for (size_t i = 0; i < GMSOFT_MAX_SESSIONS; i++) {
		const struct gmsoft_session *s = &gmsoft_g.sessions[i];

		if (s->handle && s->slot == slot && (s->flags & need) == need)
			n++;
	}
	return n;
}

static void session_close(struct gmsoft_session *s)
{
	CK_SLOT_ID slot = s->slot;

	gmsoft_sobjs_drop(s->handle);
	free(s->found);
	memset(s, 0, sizeof(*s));
	if (session_count(slot, 0) == 0)
		logins_forget(slot);
}

void gmsoft_state_reset(void)
{
	for (size_t i = 0; i < GMSOFT_MAX_SESSIONS; i++)
		if (gmsoft_g.sessions[i].handle)
			session_close(&gmsoft_g.sessions[i]);
	gmsoft_sobjs_drop(0);
	free(gmsoft_g.sobjs);
	memset(&gmsoft_g, 0, sizeof(gmsoft_g));
}

/* ---- library -------------------------------------------------------- */

static CK_RV check_init_args(const CK_C_INITIALIZE_ARGS *a)
{
	int given;

	if (!a)
		return CKR_OK;
	if (a->pReserved)
		return CKR_ARGUMENTS_BAD;
	given = !!a->CreateMutex + !!a->DestroyMutex + !!a->LockMutex +
		!!a->UnlockMutex;
	/* All or none of the mutex functions; with or without them the
	 * module uses its own OS mutex. */
	return (given == 0 || given == 4) ? CKR_OK : CKR_ARGUMENTS_BAD;
}

CK_RV gmsoft_state_dir(void)
{
	const char *dir = getenv("GMSOFT_DIR");
	struct stat st;

	if (!dir || !*dir) {
		fprintf(stderr, "gmsofttoken: GMSOFT_DIR is not set; it must name "
				"the state directory of the soft tokens\n");
		return CKR_GENERAL_ERROR;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    strlen(dir) >= sizeof(gmsoft_g.dir) - 64) {
		fprintf(stderr, "gmsofttoken: GMSOFT_DIR '%s' is not a usable "
				"directory\n", dir);
		return CKR_GENERAL_ERROR;
	}
	memcpy(gmsoft_g.dir, dir, strlen(dir) + 1);
	return CKR_OK;
}

CK_RV gmsoft_op_initialize(CK_VOID_PTR args)
{
	CK_RV rv;

	if (gmsoft_g.initialized)
		return CKR_CRYPTOKI_ALREADY_INITIALIZED;
	rv = check_init_args(args);
	if (rv != CKR_OK)
		return rv;
	rv = gmsoft_state_dir();
	if (rv != CKR_OK)
		return rv;
	gmsoft_store_kill_in_write(gmsoft_g.faults.kill_in_write);
	gmsoft_g.next_session = 1;
	gmsoft_g.next_sobj = 1;
	gmsoft_g.initialized = 1;
	return CKR_OK;
}

CK_RV gmsoft_op_finalize(CK_VOID_PTR reserved)
{
	struct gmsoft_faults keep = gmsoft_g.faults;
	int removed = gmsoft_g.removed;

	if (reserved)
		return CKR_ARGUMENTS_BAD;
	gmsoft_state_reset();
	/* The switches and a removal stay for the life of the process. */
	gmsoft_g.faults = keep;
	gmsoft_g.removed = removed;
	return CKR_OK;
}

CK_RV gmsoft_op_get_info(CK_INFO_PTR info)
{
	if (!info)
		return CKR_ARGUMENTS_BAD;
	memset(info, 0, sizeof(*info));
	info->cryptokiVersion.major = 2;
	info->cryptokiVersion.minor = 20;
	gmsoft_pad(info->manufacturerID, sizeof(info->manufacturerID),
		   GMSOFT_LIB_MANUFACTURER);
	gmsoft_pad(info->libraryDescription, sizeof(info->libraryDescription),
		   GMSOFT_LIB_DESCRIPTION);
	info->libraryVersion.major = 1;
	info->libraryVersion.minor = 20;
	return CKR_OK;
}

/* FEITIAN's driver has a slot only while a device is plugged in: an
 * empty slot is not listed at all, present or not asked. */
static int slot_listed(CK_SLOT_ID slot, int want_present)
{
	struct gmsoft_token t;

	(void)want_present;
	return gmsoft_slot_token(slot, &t) == CKR_OK;
}

CK_RV gmsoft_op_get_slot_list(CK_BBOOL present, CK_SLOT_ID_PTR list,
			      CK_ULONG_PTR count)
{
	CK_SLOT_ID ids[GMSOFT_MAX_SLOTS];
	size_t n, kept = 0;
	CK_RV rv;

	if (!count)
		return CKR_ARGUMENTS_BAD;
	rv = gmsoft_slots(gmsoft_g.dir, ids, GMSOFT_MAX_SLOTS, &n);
	if (rv != CKR_OK)
		return rv;
	for (size_t i = 0; i < n; i++)
		if (slot_listed(ids[i], present))
			ids[kept++] = ids[i];
	if (list && *count < kept)
		rv = CKR_BUFFER_TOO_SMALL;
	else if (list)
		memcpy(list, ids, kept * sizeof(*ids));
	*count = kept;
	return rv;
}

CK_RV gmsoft_op_get_slot_info(CK_SLOT_ID slot, CK_SLOT_INFO_PTR info)
{
	struct gmsoft_token t;
	char text[64];
	CK_RV rv;

	if (!info)
		return CKR_ARGUMENTS_BAD;
	rv = gmsoft_slot_token(slot, &t);
	if (rv != CKR_OK)
		return rv;
	memset(info, 0, sizeof(*info));
	snprintf(text, sizeof(text), "%s %lu", GMSOFT_DEFAULT_MANUFACTURER,
		 (unsigned long)slot);
	gmsoft_pad(info->slotDescription, sizeof(info->slotDescription), text);
	gmsoft_pad(info->manufacturerID, sizeof(info->manufacturerID),
		   GMSOFT_SLOT_MANUFACTURER);
	info->flags = CKF_REMOVABLE_DEVICE | CKF_HW_SLOT | CKF_TOKEN_PRESENT;
	info->hardwareVersion.major = 1;
	info->firmwareVersion.major = 1;
	return CKR_OK;
}

CK_RV gmsoft_op_get_token_info(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
	struct gmsoft_token t;
	CK_RV rv;

	if (!info)
		return CKR_ARGUMENTS_BAD;
	rv = gmsoft_slot_token(slot, &t);
	if (rv != CKR_OK)
		return rv;
	memset(info, 0, sizeof(*info));
	gmsoft_pad(info->label, sizeof(info->label), t.label);
	gmsoft_pad(info->manufacturerID, sizeof(info->manufacturerID),
		   t.manufacturer);
	gmsoft_pad(info->model, sizeof(info->model), t.model);
	gmsoft_pad(info->serialNumber, sizeof(info->serialNumber), t.serial);
	info->flags = gmsoft_token_flags(&t);
	info->ulMaxSessionCount = GMSOFT_MAX_SESSIONS;
	info->ulSessionCount = session_count(slot, 0);
	info->ulMaxRwSessionCount = GMSOFT_MAX_SESSIONS;
	info->ulRwSessionCount = session_count(slot, CKF_RW_SESSION);
	info->ulMaxPinLen = GMSOFT_PIN_MAX;
	info->ulMinPinLen = GMSOFT_PIN_MIN;
	info->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
	info->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
	info->hardwareVersion.major = 1;
	info->firmwareVersion.major = 1;
	gmsoft_pad(info->utcTime, sizeof(info->utcTime), "");
	return CKR_OK;
}

CK_RV gmsoft_op_open_session(CK_SLOT_ID slot, CK_FLAGS flags,
			     CK_SESSION_HANDLE_PTR h)
{
	struct gmsoft_token t;
	CK_RV rv;

	if (!h)
		return CKR_ARGUMENTS_BAD;
	if (!(flags & CKF_SERIAL_SESSION))
		return CKR_SESSION_PARALLEL_NOT_SUPPORTED;
	rv = gmsoft_slot_token(slot, &t);
	if (rv != CKR_OK)
		return rv;
	if (gmsoft_login_user(slot) == CKU_SO && !(flags & CKF_RW_SESSION))
		return CKR_SESSION_READ_WRITE_SO_EXISTS;
	for (size_t i = 0; i < GMSOFT_MAX_SESSIONS; i++) {
		struct gmsoft_session *s = &gmsoft_g.sessions[i];

		if (s->handle)
			continue;
		s->handle = gmsoft_g.next_session++;
		s->slot = slot;
		s->flags = flags & (CKF_SERIAL_SESSION | CKF_RW_SESSION);
		*h = s->handle;
		return CKR_OK;
	}
	return CKR_SESSION_COUNT;
}

CK_RV gmsoft_op_close_session(CK_SESSION_HANDLE h)
{
	struct gmsoft_session *s = session_find(h);

	if (!s)
		return CKR_SESSION_HANDLE_INVALID;
	session_close(s);
	return CKR_OK;
}

CK_RV gmsoft_op_close_all_sessions(CK_SLOT_ID slot)
{
	struct gmsoft_token t;
	CK_RV rv = gmsoft_slot_token(slot, &t);

	if (rv == CKR_SLOT_ID_INVALID)
		return rv;
	for (size_t i = 0; i < GMSOFT_MAX_SESSIONS; i++)
		if (gmsoft_g.sessions[i].handle && gmsoft_g.sessions[i].slot == slot)
			session_close(&gmsoft_g.sessions[i]);
	return rv;
}

CK_RV gmsoft_op_get_session_info(CK_SESSION_HANDLE h,
				 CK_SESSION_INFO_PTR info)
{
	struct gmsoft_session *s;
	CK_USER_TYPE user;
	int rw;
	CK_RV rv;

	if (!info)
		return CKR_ARGUMENTS_BAD;
	rv = gmsoft_session_get(h, &s);
	if (rv != CKR_OK)
		return rv;
	user = gmsoft_login_user(s->slot);
	rw = !!(s->flags & CKF_RW_SESSION);
	memset(info, 0, sizeof(*info));
	info->slotID = s->slot;
	info->flags = s->flags;
	if (user == CKU_SO)
		info->state = CKS_RW_SO_FUNCTIONS;
	else if (user == CKU_USER)
		info->state = rw ? CKS_RW_USER_FUNCTIONS : CKS_RO_USER_FUNCTIONS;
	else
		info->state = rw ? CKS_RW_PUBLIC_SESSION : CKS_RO_PUBLIC_SESSION;
	return CKR_OK;
}

/* ---- login and PINs ------------------------------------------------- */

static int pin_len_ok(CK_ULONG len)
{
	return len >= GMSOFT_PIN_MIN && len <= GMSOFT_PIN_MAX;
}

/* Check pin against the user or SO PIN of t, counting a wrong one.
 * t is saved when its counter changed. The caller holds the lock. */
static CK_RV pin_verify(struct gmsoft_token *t, CK_USER_TYPE user,
			const unsigned char *pin, CK_ULONG len)
{
	int *tries = user == CKU_SO ? &t->so_tries : &t->tries;
	const char *hash = user == CKU_SO ? t->so_pin_hash : t->pin_hash;

	if (!hash[0])
		return user == CKU_SO ? CKR_USER_TYPE_INVALID :
					CKR_USER_PIN_NOT_INITIALIZED;
	if (*tries <= 0)
		return CKR_PIN_LOCKED;
	if (!pin_len_ok(len))
		return CKR_PIN_LEN_RANGE;
	return gmsoft_pin_check(t, user, pin, len);
}

CK_RV gmsoft_pin_check(struct gmsoft_token *t, CK_USER_TYPE user,
		       const unsigned char *pin, size_t len)
{
	int *tries = user == CKU_SO ? &t->so_tries : &t->tries;
	const char *hash = user == CKU_SO ? t->so_pin_hash : t->pin_hash;

	if (!hash[0])
		return user == CKU_SO ? CKR_USER_TYPE_INVALID :
					CKR_USER_PIN_NOT_INITIALIZED;
	if (*tries <= 0)
		return CKR_PIN_LOCKED;
	if (!gmsoft_pin_matches(t->salt, hash, pin, len)) {
		(*tries)--;
		return gmsoft_token_save(gmsoft_g.dir, t) == CKR_OK ?
			       CKR_PIN_INCORRECT : CKR_DEVICE_ERROR;
	}
	if (*tries == GMSOFT_PIN_TRIES)
		return CKR_OK;
	*tries = GMSOFT_PIN_TRIES;
	return gmsoft_token_save(gmsoft_g.dir, t);
}

static CK_RV login_checks(struct gmsoft_session *s, CK_USER_TYPE user)
{
	CK_USER_TYPE now = gmsoft_login_user(s->slot);

	if (user != CKU_USER && user != CKU_SO)
		return user == CKU_CONTEXT_SPECIFIC ? CKR_OPERATION_NOT_INITIALIZED :
						      CKR_USER_TYPE_INVALID;
	if (now == user)
		return CKR_USER_ALREADY_LOGGED_IN;
	if (now != GMSOFT_NOBODY)
		return CKR_USER_ANOTHER_ALREADY_LOGGED_IN;
	if (user == CKU_SO && session_count(s->slot, 0) !=
			      session_count(s->slot, CKF_RW_SESSION))
		return CKR_SESSION_READ_ONLY_EXISTS;
	return CKR_OK;
}

CK_RV gmsoft_op_login(CK_SESSION_HANDLE h, CK_USER_TYPE user,
		      CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	struct gmsoft_session *s;
	struct gmsoft_token t;
	int fd;
	CK_RV rv = gmsoft_session_get(h, &s);

	if (rv != CKR_OK)
		return rv;
	rv = login_checks(s, user);
	if (rv != CKR_OK)
		return rv;
	if (!pin)
		return CKR_ARGUMENTS_BAD;
	rv = gmsoft_lock(gmsoft_g.dir, 1, &fd);
	if (rv != CKR_OK)
		return rv;
	rv = gmsoft_token_load(gmsoft_g.dir, s->slot, &t);
	if (rv == CKR_OK)
		rv = pin_verify(&t, user, pin, len);
	gmsoft_unlock(fd);
	return rv == CKR_OK ? login_set(s->slot, user) : rv;
}

CK_RV gmsoft_op_logout(CK_SESSION_HANDLE h)
{
	struct gmsoft_session *s;
	CK_RV rv = gmsoft_session_get(h, &s);

	if (rv != CKR_OK)
		return rv;
	if (gmsoft_login_user(s->slot) == GMSOFT_NOBODY)
		return CKR_USER_NOT_LOGGED_IN;
	logins_forget(s->slot);
	return CKR_OK;
}

static CK_RV pin_store(struct gmsoft_token *t, CK_USER_TYPE user,
		       const unsigned char *pin, CK_ULONG len)
{
	if (!pin_len_ok(len))
		return CKR_PIN_LEN_RANGE;
	if (!t->salt[0])
		gmsoft_new_salt(t->salt);
	if (user == CKU_SO) {
		/* Both hashes use the salt: keep the user PIN valid. */
		gmsoft_pin_hash(t->salt, pin, len, t->so_pin_hash);
		t->so_tries = GMSOFT_PIN_TRIES;
	} else {
		gmsoft_pin_hash(t->salt, pin, len, t->pin_hash);
		t->tries = GMSOFT_PIN_TRIES;
	}
	return gmsoft_token_save(gmsoft_g.dir, t);
}

/* Load the token of s under the exclusive lock held in *fd. */
static CK_RV token_for_change(struct gmsoft_session *s, struct gmsoft_token *t,
			      int *fd)
{
	CK_RV rv;

	if (!(s->flags & CKF_RW_SESSION))
		return CKR_SESSION_READ_ONLY;
	rv = gmsoft_lock(gmsoft_g.dir, 1, fd);
	if (rv != CKR_OK)
		return rv;
	rv = gmsoft_token_load(gmsoft_g.dir, s->slot, t);
	if (rv != CKR_OK) {
		gmsoft_unlock(*fd);
		*fd = -1;
	}
	return rv;
}

CK_RV gmsoft_op_init_pin(CK_SESSION_HANDLE h, CK_UTF8CHAR_PTR pin,
			 CK_ULONG len)
{
	struct gmsoft_session *s;
	struct gmsoft_token t;
	int fd = -1;
	CK_RV rv = gmsoft_session_get(h, &s);

	if (rv != CKR_OK)
		return rv;
	if (gmsoft_login_user(s->slot) != CKU_SO)
		return CKR_USER_NOT_LOGGED_IN;
	if (!pin)
		return CKR_ARGUMENTS_BAD;
	rv = token_for_change(s, &t, &fd);
	if (rv == CKR_OK)
		rv = pin_store(&t, CKU_USER, pin, len);
	gmsoft_unlock(fd);
	return rv;
}

CK_RV gmsoft_op_set_pin(CK_SESSION_HANDLE h, CK_UTF8CHAR_PTR old,
			CK_ULONG oldlen, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	struct gmsoft_session *s;
	struct gmsoft_token t;
	CK_USER_TYPE user;
	int fd = -1;
	CK_RV rv = gmsoft_session_get(h, &s);

	if (rv != CKR_OK)
		return rv;
	if (!old || !pin)
		return CKR_ARGUMENTS_BAD;
	user = gmsoft_login_user(s->slot) == CKU_SO ? CKU_SO : CKU_USER;
	rv = token_for_change(s, &t, &fd);
	if (rv == CKR_OK && !pin_len_ok(len))
		rv = CKR_PIN_LEN_RANGE;
	if (rv == CKR_OK)
		rv = pin_verify(&t, user, old, oldlen);
	if (rv == CKR_OK)
		rv = pin_store(&t, user, pin, len);
	gmsoft_unlock(fd);
	return rv;
}
