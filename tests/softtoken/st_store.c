/* st_store.c - on-disk state of the soft ePass3000GM (see st_store.h). */
#include "st_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

static unsigned long kill_in_write_nth;
static unsigned long write_count;

/* ---- files ---------------------------------------------------------- */

CK_RV gmsoft_lock(const char *dir, int exclusive, int *fd)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/.lock", dir);
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0)
		return CKR_DEVICE_ERROR;
	while (flock(*fd, exclusive ? LOCK_EX : LOCK_SH) != 0) {
		if (errno != EINTR) {
			close(*fd);
			*fd = -1;
			return CKR_DEVICE_ERROR;
		}
	}
	return CKR_OK;
}

void gmsoft_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the flock */
}

void gmsoft_store_kill_in_write(unsigned long nth)
{
	kill_in_write_nth = nth;
	write_count = 0;
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void fsync_parent(const char *path)
{
	char parent[PATH_MAX];
	char *slash;
	int fd;

	snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	if (!slash)
		return;
	*slash = '\0';
	fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

static void temp_name(const char *path, char *tmp, size_t size)
{
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path) : 0;

	snprintf(tmp, size, "%.*s/.tmp.%s.%ld", dirlen, path,
		 slash ? slash + 1 : path, (long)getpid());
}

CK_RV gmsoft_write_atomic(const char *path, const void *data, size_t len)
{
	char tmp[PATH_MAX];
	int fd;
	int failed;

	temp_name(path, tmp, sizeof(tmp));
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return CKR_DEVICE_ERROR;
	if (kill_in_write_nth && ++write_count == kill_in_write_nth) {
		(void)write_all(fd, data, len / 2);
		(void)fsync(fd);
		raise(SIGKILL);
	}
	failed = write_all(fd, data, len) || fsync(fd);
	failed |= close(fd);
	if (failed || rename(tmp, path) != 0) {
		unlink(tmp);
		return CKR_DEVICE_ERROR;
	}
	fsync_parent(path);
	return CKR_OK;
}

static CK_RV read_file(const char *path, char **out, size_t *outlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	CK_RV rv = CKR_HOST_MEMORY;

	if (!f)
		return errno == ENOENT ? CKR_OBJECT_HANDLE_INVALID : CKR_DEVICE_ERROR;
	do {
		if (cap - len < 4096) {
			char *p = realloc(buf, cap + 8192);

			if (!p)
				goto out;
			buf = p;
			cap += 8192;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	rv = ferror(f) ? CKR_DEVICE_ERROR : CKR_OK;
	buf[len] = '\0';
out:
	fclose(f);
	if (rv != CKR_OK) {
		free(buf);
		return rv;
	}
	*out = buf;
	if (outlen)
		*outlen = len;
	return CKR_OK;
}

static void slot_path(char *out, size_t size, const char *dir, CK_SLOT_ID slot,
		      const char *rest)
{
	snprintf(out, size, "%s/slot%lu%s", dir, (unsigned long)slot, rest);
}

static void object_path(char *out, size_t size, const char *dir,
			CK_SLOT_ID slot, CK_OBJECT_HANDLE handle)
{
	char rest[64];

	snprintf(rest, sizeof(rest), "/objects/%lu.obj", (unsigned long)handle);
	slot_path(out, size, dir, slot, rest);
}

/* Parse a decimal number that is the whole of text up to suffix. */
static int parse_id(const char *text, const char *prefix, const char *suffix,
		    unsigned long *id)
{
	size_t plen = strlen(prefix), slen = strlen(suffix);
	size_t len = strlen(text);
	char *end;

	if (len <= plen + slen || strncmp(text, prefix, plen) ||
	    strcmp(text + len - slen, suffix) ||
	    text[plen] < '0' || text[plen] > '9')
		return -1;
	errno = 0;
	*id = strtoul(text + plen, &end, 10);
	return (errno || end != text + len - slen) ? -1 : 0;
}

static int cmp_ulong(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a;
	unsigned long y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/* Numbers named prefix<N>suffix in dirpath, sorted. Caller frees *ids. */
static CK_RV list_ids(const char *dirpath, const char *prefix,
		      const char *suffix, unsigned long **ids, size_t *n)
{
	DIR *d = opendir(dirpath);
	struct dirent *e;
	unsigned long *list = NULL, id;
	size_t count = 0;

	*ids = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT ? CKR_OK : CKR_DEVICE_ERROR;
	while ((e = readdir(d)) != NULL) {
		unsigned long *p;

		if (parse_id(e->d_name, prefix, suffix, &id))
			continue;
		p = realloc(list, (count + 1) * sizeof(*list));
		if (!p) {
			free(list);
			closedir(d);
			return CKR_HOST_MEMORY;
		}
		list = p;
		list[count++] = id;
	}
	closedir(d);
	if (count)
		qsort(list, count, sizeof(*list), cmp_ulong);
	*ids = list;
	*n = count;
	return CKR_OK;
}

CK_RV gmsoft_slots(const char *dir, CK_SLOT_ID *ids, size_t max, size_t *n)
{
	unsigned long *list;
	size_t count;
	CK_RV rv = list_ids(dir, "slot", "", &list, &count);

	if (rv != CKR_OK)
		return rv;
	*n = count < max ? count : max;
	for (size_t i = 0; i < *n; i++)
		ids[i] = list[i];
	free(list);
	return CKR_OK;
}

/* ---- tokens --------------------------------------------------------- */

void gmsoft_token_defaults(struct gmsoft_token *t, CK_SLOT_ID slot)
{
	memset(t, 0, sizeof(*t));
	t->slot = slot;
	snprintf(t->manufacturer, sizeof(t->manufacturer), "%s",
		 GMSOFT_DEFAULT_MANUFACTURER);
	snprintf(t->model, sizeof(t->model), "%s", GMSOFT_DEFAULT_MODEL);
	t->tries = GMSOFT_PIN_TRIES;
	t->so_tries = GMSOFT_PIN_TRIES;
	t->next_handle = 1;
}

static void copy_field(char *dst, size_t size, const char *value)
{
	snprintf(dst, size, "%s", value);
}

static void token_set(struct gmsoft_token *t, const char *key,
		      const char *value)
{
	if (!strcmp(key, "token"))
		t->has_token = atoi(value);
	else if (!strcmp(key, "present"))
		t->present = atoi(value);
	else if (!strcmp(key, "label"))
		copy_field(t->label, sizeof(t->label), value);
	else if (!strcmp(key, "serial"))
		copy_field(t->serial, sizeof(t->serial), value);
	else if (!strcmp(key, "manufacturer"))
		copy_field(t->manufacturer, sizeof(t->manufacturer), value);
	else if (!strcmp(key, "model"))
		copy_field(t->model, sizeof(t->model), value);
	else if (!strcmp(key, "salt"))
		copy_field(t->salt, sizeof(t->salt), value);
	else if (!strcmp(key, "pin"))
		copy_field(t->pin_hash, sizeof(t->pin_hash), value);
	else if (!strcmp(key, "so_pin"))
		copy_field(t->so_pin_hash, sizeof(t->so_pin_hash), value);
	else if (!strcmp(key, "tries"))
		t->tries = atoi(value);
	else if (!strcmp(key, "so_tries"))
		t->so_tries = atoi(value);
	else if (!strcmp(key, "next_handle"))
		t->next_handle = strtoul(value, NULL, 10);
}

CK_RV gmsoft_token_load(const char *dir, CK_SLOT_ID slot,
			struct gmsoft_token *t)
{
	char path[PATH_MAX];
	char *text, *line, *save = NULL;
	CK_RV rv;

	slot_path(path, sizeof(path), dir, slot, "/token.ini");
	rv = read_file(path, &text, NULL);
	if (rv == CKR_OBJECT_HANDLE_INVALID)
		return CKR_SLOT_ID_INVALID;
	if (rv != CKR_OK)
		return rv;
	gmsoft_token_defaults(t, slot);
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		if (line[0] == '#' || !eq)
			continue;
		*eq = '\0';
		token_set(t, line, eq + 1);
	}
	free(text);
	return CKR_OK;
}

CK_RV gmsoft_token_save(const char *dir, const struct gmsoft_token *t)
{
	char path[PATH_MAX];
	char text[1024];
	int n;

	slot_path(path, sizeof(path), dir, t->slot, "");
	if (mkdir(path, 0700) && errno != EEXIST)
		return CKR_DEVICE_ERROR;
	slot_path(path, sizeof(path), dir, t->slot, "/objects");
	if (mkdir(path, 0700) && errno != EEXIST)
		return CKR_DEVICE_ERROR;
	n = snprintf(text, sizeof(text),
		     "# gmsofttoken slot %lu\ntoken=%d\npresent=%d\nlabel=%s\n"
		     "serial=%s\nmanufacturer=%s\nmodel=%s\nsalt=%s\npin=%s\n"
		     "so_pin=%s\ntries=%d\nso_tries=%d\nnext_handle=%lu\n",
		     (unsigned long)t->slot, t->has_token, t->present, t->label,
		     t->serial, t->manufacturer, t->model, t->salt, t->pin_hash,
		     t->so_pin_hash, t->tries, t->so_tries, t->next_handle);
	if (n < 0 || (size_t)n >= sizeof(text))
		return CKR_GENERAL_ERROR;
	slot_path(path, sizeof(path), dir, t->slot, "/token.ini");
	return gmsoft_write_atomic(path, text, (size_t)n);
}

void gmsoft_pin_hash(const char *salt, const unsigned char *pin, size_t len,
		     char out[GMSOFT_HASH_HEX])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	out[0] = '\0';
	if (!ctx)
		return;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(ctx, salt, strlen(salt)) &&
	    EVP_DigestUpdate(ctx, pin, len) &&
	    EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen == sizeof(md))
		gmsoft_hex_encode(md, sizeof(md), out);
	EVP_MD_CTX_free(ctx);
}

int gmsoft_pin_matches(const char *salt, const char *hash,
		       const unsigned char *pin, size_t len)
{
	char got[GMSOFT_HASH_HEX];

	if (!hash[0])
		return 0;
	gmsoft_pin_hash(salt, pin, len, got);
	return got[0] && strcmp(got, hash) == 0;
}

void gmsoft_new_salt(char salt[33])
{
	unsigned char raw[16] = { 0 };

	(void)RAND_bytes(raw, sizeof(raw));
	gmsoft_hex_encode(raw, sizeof(raw), salt);
}

static CK_FLAGS pin_flags(int tries, CK_FLAGS low, CK_FLAGS final,
			  CK_FLAGS locked)
{
	CK_FLAGS f = 0;

	if (tries < GMSOFT_PIN_TRIES)
		f |= low;
	if (tries == 1)
		f |= final;
	if (tries <= 0)
		f |= locked;
	return f;
}

CK_FLAGS gmsoft_token_flags(const struct gmsoft_token *t)
{
	CK_FLAGS f = CKF_RNG | CKF_LOGIN_REQUIRED | CKF_TOKEN_INITIALIZED;

	if (t->pin_hash[0])
		f |= CKF_USER_PIN_INITIALIZED;
	f |= pin_flags(t->tries, CKF_USER_PIN_COUNT_LOW, CKF_USER_PIN_FINAL_TRY,
		       CKF_USER_PIN_LOCKED);
	if (t->so_pin_hash[0])
		f |= pin_flags(t->so_tries, CKF_SO_PIN_COUNT_LOW,
			       CKF_SO_PIN_FINAL_TRY, CKF_SO_PIN_LOCKED);
	return f;
}

/* ---- attributes ----------------------------------------------------- */

struct gmsoft_attr *gmsoft_attr_find(const struct gmsoft_object *obj,
				     CK_ATTRIBUTE_TYPE type)
{
	for (size_t i = 0; i < obj->nattrs; i++)
		if (obj->attrs[i].type == type)
			return &obj->attrs[i];
	return NULL;
}

CK_RV gmsoft_attr_set(struct gmsoft_object *obj, CK_ATTRIBUTE_TYPE type,
		      const void *value, size_t len)
{
	struct gmsoft_attr *a = gmsoft_attr_find(obj, type);
	unsigned char *copy = malloc(len ? len : 1);

	if (!copy)
		return CKR_HOST_MEMORY;
	if (len)
		memcpy(copy, value, len);
	if (!a) {
		a = realloc(obj->attrs, (obj->nattrs + 1) * sizeof(*a));
		if (!a) {
			free(copy);
			return CKR_HOST_MEMORY;
		}
		obj->attrs = a;
		a = &obj->attrs[obj->nattrs++];
		a->type = type;
		a->value = NULL;
	}
	free(a->value);
	a->value = copy;
	a->len = len;
	return CKR_OK;
}

CK_RV gmsoft_attr_set_ulong(struct gmsoft_object *obj, CK_ATTRIBUTE_TYPE type,
			    CK_ULONG value)
{
	return gmsoft_attr_set(obj, type, &value, sizeof(value));
}

CK_RV gmsoft_attr_set_bool(struct gmsoft_object *obj, CK_ATTRIBUTE_TYPE type,
			   int value)
{
	CK_BBOOL b = value ? CK_TRUE : CK_FALSE;

	return gmsoft_attr_set(obj, type, &b, sizeof(b));
}

CK_ULONG gmsoft_attr_ulong(const struct gmsoft_object *obj,
			   CK_ATTRIBUTE_TYPE type, CK_ULONG dflt)
{
	const struct gmsoft_attr *a = gmsoft_attr_find(obj, type);
	CK_ULONG v;

	if (!a || a->len != sizeof(v))
		return dflt;
	memcpy(&v, a->value, sizeof(v));
	return v;
}

int gmsoft_attr_bool(const struct gmsoft_object *obj, CK_ATTRIBUTE_TYPE type,
		     int dflt)
{
	const struct gmsoft_attr *a = gmsoft_attr_find(obj, type);

	if (!a || a->len != 1)
		return dflt;
	return a->value[0] != 0;
}

void gmsoft_object_clear(struct gmsoft_object *obj)
{
	if (!obj)
		return;
	for (size_t i = 0; i < obj->nattrs; i++)
		free(obj->attrs[i].value);
	free(obj->attrs);
	if (obj->key_pem) {
		OPENSSL_cleanse(obj->key_pem, strlen(obj->key_pem));
		free(obj->key_pem);
	}
	memset(obj, 0, sizeof(*obj));
}

void gmsoft_objects_free(struct gmsoft_object *objs, size_t n)
{
	for (size_t i = 0; objs && i < n; i++)
		gmsoft_object_clear(&objs[i]);
	free(objs);
}

CK_RV gmsoft_object_copy(const struct gmsoft_object *from,
			 struct gmsoft_object *to)
{
	CK_RV rv = CKR_OK;

	memset(to, 0, sizeof(*to));
	to->handle = from->handle;
	for (size_t i = 0; rv == CKR_OK && i < from->nattrs; i++)
		rv = gmsoft_attr_set(to, from->attrs[i].type,
				     from->attrs[i].value, from->attrs[i].len);
	if (rv == CKR_OK && from->key_pem) {
		to->key_pem = strdup(from->key_pem);
		if (!to->key_pem)
			rv = CKR_HOST_MEMORY;
	}
	if (rv != CKR_OK)
		gmsoft_object_clear(to);
	return rv;
}

/* ---- object files ---------------------------------------------------- */

enum attr_kind { KIND_BYTES, KIND_ULONG, KIND_BOOL };

static enum attr_kind attr_kind(CK_ATTRIBUTE_TYPE type)
{
	switch (type) {
	case CKA_CLASS: case CKA_CERTIFICATE_TYPE:
	case CKA_CERTIFICATE_CATEGORY: case CKA_KEY_TYPE:
	case CKA_MODULUS_BITS: case CKA_KEY_GEN_MECHANISM:
		return KIND_ULONG;
	case CKA_TOKEN: case CKA_PRIVATE: case CKA_TRUSTED:
	case CKA_SENSITIVE: case CKA_ENCRYPT: case CKA_DECRYPT:
	case CKA_WRAP: case CKA_UNWRAP: case CKA_SIGN: case CKA_SIGN_RECOVER:
	case CKA_VERIFY: case CKA_VERIFY_RECOVER: case CKA_DERIVE:
	case CKA_EXTRACTABLE: case CKA_LOCAL: case CKA_NEVER_EXTRACTABLE:
	case CKA_ALWAYS_SENSITIVE: case CKA_MODIFIABLE: case CKA_COPYABLE:
	case CKA_DESTROYABLE: case CKA_ALWAYS_AUTHENTICATE:
	case CKA_WRAP_WITH_TRUSTED:
		return KIND_BOOL;
	default:
		return KIND_BYTES;
	}
}

/* Append printf output to a growing buffer. */
struct strbuf {
	char *data;
	size_t len, cap;
	int failed;
};

static void sb_grow(struct strbuf *sb, size_t need)
{
	char *p;
	size_t cap = sb->cap ? sb->cap : 1024;

	if (sb->failed || sb->len + need + 1 <= sb->cap)
		return;
	while (cap < sb->len + need + 1)
		cap *= 2;
	p = realloc(sb->data, cap);
	if (!p) {
		sb->failed = 1;
		return;
	}
	sb->data = p;
	sb->cap = cap;
}

static void sb_add(struct strbuf *sb, const char *s)
{
	size_t n = strlen(s);

	sb_grow(sb, n);
	if (sb->failed)
		return;
	memcpy(sb->data + sb->len, s, n + 1);
	sb->len += n;
}

static void sb_attr(struct strbuf *sb, const struct gmsoft_attr *a)
{
	const char *name = gmsoft_attr_name(a->type);
	enum attr_kind kind = attr_kind(a->type);
	char head[96];
	char *hex;

	if (name)
		snprintf(head, sizeof(head), "%s", name);
	else
		snprintf(head, sizeof(head), "0x%08lx", (unsigned long)a->type);
	sb_add(sb, head);
	if (kind == KIND_ULONG && a->len == sizeof(CK_ULONG)) {
		CK_ULONG v;

		memcpy(&v, a->value, sizeof(v));
		snprintf(head, sizeof(head), " ulong 0x%lx\n", (unsigned long)v);
		sb_add(sb, head);
		return;
	}
	if (kind == KIND_BOOL && a->len == 1) {
		sb_add(sb, a->value[0] ? " bool 1\n" : " bool 0\n");
		return;
	}
	hex = malloc(2 * a->len + 1);
	if (!hex) {
		sb->failed = 1;
		return;
	}
	gmsoft_hex_encode(a->value, a->len, hex);
	sb_add(sb, " bytes ");
	sb_add(sb, hex);
	sb_add(sb, "\n");
	free(hex);
}

CK_RV gmsoft_object_save(const char *dir, CK_SLOT_ID slot,
			 const struct gmsoft_object *obj)
{
	struct strbuf sb = { 0 };
	char path[PATH_MAX];
	char head[64];
	CK_RV rv;

	snprintf(head, sizeof(head), "# gmsofttoken object %lu\n",
		 (unsigned long)obj->handle);
	sb_add(&sb, head);
	for (size_t i = 0; i < obj->nattrs; i++)
		sb_attr(&sb, &obj->attrs[i]);
	if (obj->key_pem)
		sb_add(&sb, obj->key_pem);
	if (sb.failed) {
		free(sb.data);
		return CKR_HOST_MEMORY;
	}
	object_path(path, sizeof(path), dir, slot, obj->handle);
	rv = gmsoft_write_atomic(path, sb.data, sb.len);
	OPENSSL_cleanse(sb.data, sb.len);
	free(sb.data);
	return rv;
}

static CK_RV parse_attr_line(struct gmsoft_object *obj, char *line)
{
	char *type_s = line, *kind_s, *value_s;
	CK_ATTRIBUTE_TYPE type;
	unsigned char *bytes = NULL;
	size_t len = 0;
	CK_RV rv;

	kind_s = strchr(type_s, ' ');
	if (!kind_s)
		return CKR_DEVICE_ERROR;
	*kind_s++ = '\0';
	value_s = strchr(kind_s, ' ');
	value_s = value_s ? (*value_s = '\0', value_s + 1) : kind_s + strlen(kind_s);
	if (gmsoft_attr_parse(type_s, &type))
		return CKR_DEVICE_ERROR;
	if (!strcmp(kind_s, "ulong"))
		return gmsoft_attr_set_ulong(obj, type, strtoul(value_s, NULL, 0));
	if (!strcmp(kind_s, "bool"))
		return gmsoft_attr_set_bool(obj, type, atoi(value_s));
	if (strcmp(kind_s, "bytes") || gmsoft_hex_decode(value_s, &bytes, &len))
		return CKR_DEVICE_ERROR;
	rv = gmsoft_attr_set(obj, type, bytes, len);
	free(bytes);
	return rv;
}

static CK_RV parse_object(char *text, struct gmsoft_object *obj)
{
	char *line = text;
	CK_RV rv = CKR_OK;

	while (rv == CKR_OK && line && *line) {
		char *next = strchr(line, '\n');

		if (!strncmp(line, "-----BEGIN", 10)) {
			obj->key_pem = strdup(line);
			return obj->key_pem ? CKR_OK : CKR_HOST_MEMORY;
		}
		if (next)
			*next++ = '\0';
		if (line[0] && line[0] != '#')
			rv = parse_attr_line(obj, line);
		line = next;
	}
	return rv;
}

CK_RV gmsoft_object_load(const char *dir, CK_SLOT_ID slot,
			 CK_OBJECT_HANDLE handle, struct gmsoft_object *obj)
{
	char path[PATH_MAX];
	char *text;
	size_t len;
	CK_RV rv;

	memset(obj, 0, sizeof(*obj));
	object_path(path, sizeof(path), dir, slot, handle);
	rv = read_file(path, &text, &len);
	if (rv != CKR_OK)
		return rv;
	obj->handle = handle;
	rv = parse_object(text, obj);
	OPENSSL_cleanse(text, len);
	free(text);
	if (rv != CKR_OK)
		gmsoft_object_clear(obj);
	return rv;
}

CK_RV gmsoft_objects_load(const char *dir, CK_SLOT_ID slot,
			  struct gmsoft_object **objs, size_t *n)
{
	char path[PATH_MAX];
	unsigned long *ids;
	size_t count, loaded = 0;
	struct gmsoft_object *list = NULL;
	CK_RV rv;

	*objs = NULL;
	*n = 0;
	slot_path(path, sizeof(path), dir, slot, "/objects");
	rv = list_ids(path, "", ".obj", &ids, &count);
	if (rv != CKR_OK || count == 0)
		return rv;
	list = calloc(count, sizeof(*list));
	if (!list) {
		free(ids);
		return CKR_HOST_MEMORY;
	}
	for (size_t i = 0; i < count; i++) {
		/* An object removed meanwhile, or unreadable, is skipped. */
		if (gmsoft_object_load(dir, slot, ids[i], &list[loaded]) == CKR_OK)
			loaded++;
	}
	free(ids);
	*objs = list;
	*n = loaded;
	return CKR_OK;
}

CK_RV gmsoft_object_remove(const char *dir, CK_SLOT_ID slot,
			   CK_OBJECT_HANDLE handle)
{
	char path[PATH_MAX];

	object_path(path, sizeof(path), dir, slot, handle);
	if (unlink(path) != 0)
		return errno == ENOENT ? CKR_OBJECT_HANDLE_INVALID : CKR_DEVICE_ERROR;
	fsync_parent(path);
	return CKR_OK;
}

CK_RV gmsoft_objects_clear(const char *dir, CK_SLOT_ID slot)
{
	char path[PATH_MAX];
	unsigned long *ids;
	size_t count;
	CK_RV rv;

	slot_path(path, sizeof(path), dir, slot, "/objects");
	rv = list_ids(path, "", ".obj", &ids, &count);
	for (size_t i = 0; rv == CKR_OK && i < count; i++)
		rv = gmsoft_object_remove(dir, slot, ids[i]);
	free(ids);
	return rv;
}
