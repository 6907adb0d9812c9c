/* gmsofttoken_tool.c - gmsofttoken-tool: provisions the soft ePass3000GM
 * tokens of the test suite (see docs/softtoken.md).
 *
 * To add a command: write cmd_<name>(const struct opts *), add it to
 * commands[] with its usage line. Exit status: 0 success, 1 failure,
 * 2 usage error. PINs come from files or GMSOFT_PIN / GMSOFT_SO_PIN, never
 * from the command line. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "st_admin.h"
#include "st_crypto.h"
#include "st_object.h"

struct opts {
	const char *dir, *slot, *label, *serial, *pin_file, *so_pin_file;
	const char *manufacturer, *model, *id, *key, *out_pub, *cert, *file;
	const char *tries, *digest, *out, *in, *container, *kind;
	CK_SLOT_ID slot_id;
};

static const struct {
	const char *name;
	size_t offset;
} options[] = {
	{ "--cert", offsetof(struct opts, cert) },
	{ "--container", offsetof(struct opts, container) },
	{ "--digest", offsetof(struct opts, digest) },
	{ "--dir", offsetof(struct opts, dir) },
	{ "--file", offsetof(struct opts, file) },
	{ "--id", offsetof(struct opts, id) },
	{ "--in", offsetof(struct opts, in) },
	{ "--key", offsetof(struct opts, key) },
	{ "--kind", offsetof(struct opts, kind) },
	{ "--label", offsetof(struct opts, label) },
	{ "--manufacturer", offsetof(struct opts, manufacturer) },
	{ "--model", offsetof(struct opts, model) },
	{ "--out", offsetof(struct opts, out) },
	{ "--out-pub", offsetof(struct opts, out_pub) },
	{ "--pin-file", offsetof(struct opts, pin_file) },
	{ "--serial", offsetof(struct opts, serial) },
	{ "--slot", offsetof(struct opts, slot) },
	{ "--so-pin-file", offsetof(struct opts, so_pin_file) },
	{ "--tries", offsetof(struct opts, tries) },
};

static int error_rv(const char *what, CK_RV rv)
{
	char buf[32];

	fprintf(stderr, "gmsofttoken-tool: %s: %s\n", what,
		gmsoft_rv_name(rv, buf, sizeof(buf)));
	return 1;
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "gmsofttoken-tool: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	return 2;
}

/* ---- small helpers -------------------------------------------------- */

static char *read_text(const char *path, size_t max)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(max + 1);
	size_t n;

	if (!f || !buf) {
		if (f)
			fclose(f);
		free(buf);
		return NULL;
	}
	n = fread(buf, 1, max, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* A PIN from file, or from the environment variable var; NULL if none. */
static char *pin_get(const char *file, const char *var, int *bad)
{
	const char *env = getenv(var);
	char *pin = file ? read_text(file, 64) : (env ? strdup(env) : NULL);

	*bad = file && !pin;
	if (pin)
		pin[strcspn(pin, "\r\n")] = '\0';
	if (pin && (strlen(pin) < GMSOFT_PIN_MIN || strlen(pin) > GMSOFT_PIN_MAX)) {
		fprintf(stderr, "gmsofttoken-tool: a PIN has %d to %d characters\n",
			GMSOFT_PIN_MIN, GMSOFT_PIN_MAX);
		*bad = 1;
	}
	return pin;
}

static void pin_free(char *pin)
{
	if (pin) {
		OPENSSL_cleanse(pin, strlen(pin));
		free(pin);
	}
}

static int write_bytes(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ok = f && fwrite(data, 1, len, f) == len;

	if (f && fclose(f) != 0)
		ok = 0;
	if (!ok)
		fprintf(stderr, "gmsofttoken-tool: cannot write '%s'\n", path);
	return ok ? 0 : 1;
}

static int read_bytes(const char *path, unsigned char **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f) {
		fprintf(stderr, "gmsofttoken-tool: cannot read '%s'\n", path);
		return 1;
	}
	for (;;) {
		if (n == cap) {
			unsigned char *p = realloc(buf, cap + 65536);

			if (!p)
				break;
			buf = p;
			cap += 65536;
		}
		size_t got = fread(buf + n, 1, cap - n, f);

		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	*data = buf;
	*len = n;
	return buf ? 0 : 1;
}

static int id_get(const struct opts *o, unsigned char **id, struct gmsoft_bytes *b)
{
	size_t len = 0;

	*id = NULL;
	b->data = NULL;
	b->len = 0;
	if (!o->id)
		return usage_error("%s needs --id HEX", "this command");
	if (gmsoft_hex_decode(o->id, id, &len))
		return usage_error("bad --id '%s': want hex digits", o->id);
	b->data = *id;
	b->len = len;
	return 0;
}

/* ---- commands ------------------------------------------------------- */

static void copy_opt(char *dst, size_t size, const char *value)
{
	if (value)
		snprintf(dst, size, "%s", value);
}

static int serial_ok(const char *serial)
{
	size_t n = strlen(serial);

	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789ABCDEF", serial[i]))
			return 0;
	return n == GMSOFT_SERIAL_LEN;
}

/* CKA_ID, label, container and kind of a key pair or certificate. */
static int key_spec(const struct opts *o, unsigned char **idbuf,
		    struct gmsoft_key_spec *k)
{
	int ret = id_get(o, idbuf, &k->id);

	k->label = o->label;
	k->container = o->container;
	k->exchange = 0;
	if (!ret && o->kind && strcmp(o->kind, "sign")) {
		if (strcmp(o->kind, "exchange")) {
			free(*idbuf);
			return usage_error("--kind '%s' is not 'sign' or "
					   "'exchange'", o->kind);
		}
		k->exchange = 1;
	}
	return ret;
}

static int cmd_init(const struct opts *o)
{
	struct gmsoft_token t;
	char *pin, *so_pin = NULL;
	int bad, bad_so = 0, ret = 1;
	CK_RV rv;

	if (!o->label || !o->serial)
		return usage_error("%s needs --label and --serial", "init");
	if (!serial_ok(o->serial))
		return usage_error("--serial '%s' is not 16 upper-case hex digits, "
				   "as FEITIAN's Ekey numbers are", o->serial);
	gmsoft_token_defaults(&t, o->slot_id);
	copy_opt(t.label, sizeof(t.label), o->label);
	copy_opt(t.serial, sizeof(t.serial), o->serial);
	copy_opt(t.manufacturer, sizeof(t.manufacturer), o->manufacturer);
	copy_opt(t.model, sizeof(t.model), o->model);
	pin = pin_get(o->pin_file, "GMSOFT_PIN", &bad);
	if (!bad)
		so_pin = pin_get(o->so_pin_file, "GMSOFT_SO_PIN", &bad_so);
	if (bad || bad_so)
		goto out;
	rv = gmsoft_admin_init(o->dir, &t, pin, so_pin);
	ret = rv == CKR_OK ? 0 : error_rv("init", rv);
out:
	pin_free(pin);
	pin_free(so_pin);
	return ret;
}

static int cmd_empty(const struct opts *o)
{
	CK_RV rv = gmsoft_admin_empty(o->dir, o->slot_id);

	return rv == CKR_OK ? 0 : error_rv("empty", rv);
}

static int cmd_remove(const struct opts *o)
{
	CK_RV rv = gmsoft_admin_presence(o->dir, o->slot_id, 0);

	return rv == CKR_OK ? 0 : error_rv("remove", rv);
}

static int cmd_insert(const struct opts *o)
{
	CK_RV rv = gmsoft_admin_presence(o->dir, o->slot_id, 1);

	return rv == CKR_OK ? 0 : error_rv("insert", rv);
}

static int cmd_set_tries(const struct opts *o)
{
	CK_RV rv;

	if (!o->tries)
		return usage_error("%s needs --tries K", "set-tries");
	rv = gmsoft_admin_set_tries(o->dir, o->slot_id, atoi(o->tries));
	return rv == CKR_OK ? 0 : error_rv("set-tries", rv);
}

static int cmd_import_key(const struct opts *o)
{
	struct gmsoft_key_spec k;
	unsigned char *idbuf;
	CK_OBJECT_HANDLE h[2];
	char *pem;
	int ret = key_spec(o, &idbuf, &k);
	CK_RV rv;

	if (ret)
		return ret;
	if (!o->key) {
		free(idbuf);
		return usage_error("%s needs --key FILE.pem", "import-key");
	}
	pem = read_text(o->key, 65536);
	if (!pem) {
		free(idbuf);
		return usage_error("cannot read '%s'", o->key);
	}
	rv = gmsoft_admin_import_key(o->dir, o->slot_id, &k, pem, h);
	ret = rv == CKR_OK ? 0 : error_rv("import-key", rv);
	if (!ret)
		printf("public key %lu, private key %lu\n", h[0], h[1]);
	pin_free(pem);
	free(idbuf);
	return ret;
}

static int cmd_gen_key(const struct opts *o)
{
	struct gmsoft_key_spec k;
	unsigned char *idbuf;
	CK_OBJECT_HANDLE h[2];
	char *pub = NULL;
	int ret = key_spec(o, &idbuf, &k);
	CK_RV rv;

	if (ret)
		return ret;
	rv = gmsoft_admin_gen_key(o->dir, o->slot_id, &k, &pub, h);
	ret = rv == CKR_OK ? 0 : error_rv("gen-key", rv);
	if (!ret && o->out_pub)
		ret = write_bytes(o->out_pub, pub, strlen(pub));
	if (!ret)
		printf("public key %lu, private key %lu\n", h[0], h[1]);
	free(pub);
	free(idbuf);
	return ret;
}

static int import_cert(const struct opts *o, int raw)
{
	struct gmsoft_blob der = { 0 };
	struct gmsoft_key_spec k;
	struct gmsoft_bytes value;
	unsigned char *idbuf;
	CK_OBJECT_HANDLE h;
	const char *path = raw ? o->file : o->cert;
	int ret = key_spec(o, &idbuf, &k);
	CK_RV rv = CKR_OK;

	if (ret)
		return ret;
	if (!path) {
		free(idbuf);
		return usage_error("%s needs its input file", raw ? "import-raw-cert" :
								     "import-cert");
	}
	if (raw)
		ret = read_bytes(path, &der.data, &der.len);
	else
		rv = gmsoft_cert_read_file(path, &der);
	if (rv != CKR_OK)
		ret = error_rv(path, rv);
	if (!ret) {
		value.data = der.data;
		value.len = der.len;
		rv = gmsoft_admin_import_cert(o->dir, o->slot_id, &k, value, &h);
		ret = rv == CKR_OK ? 0 : error_rv("import-cert", rv);
	}
	if (!ret)
		printf("certificate %lu\n", h);
	free(der.data);
	free(idbuf);
	return ret;
}

static int cmd_import_cert(const struct opts *o)
{
	return import_cert(o, 0);
}

static int cmd_import_raw_cert(const struct opts *o)
{
	return import_cert(o, 1);
}

static const char *class_name(CK_ULONG cls)
{
	switch (cls) {
	case CKO_DATA: return "data";
	case CKO_CERTIFICATE: return "certificate";
	case CKO_PUBLIC_KEY: return "public-key";
	case CKO_PRIVATE_KEY: return "private-key";
	case GMSOFT_CKO_CONTAINER: return "container";
	default: return "other";
	}
}

static void list_one(const struct gmsoft_object *obj)
{
	const struct gmsoft_attr *id = gmsoft_attr_find(obj, CKA_ID);
	const struct gmsoft_attr *label = gmsoft_attr_find(obj, CKA_LABEL);
	char hex[2 * 64 + 1] = "", name[GMSOFT_CONTAINER_NAME_MAX + 1];
	const char *c = gmsoft_container_of(obj, name, sizeof(name));

	if (id && id->len <= 64)
		gmsoft_hex_encode(id->value, id->len, hex);
	printf("%lu\t%s\tid=%s\tlabel=%.*s\tcontainer=%s\n",
	       (unsigned long)obj->handle,
	       class_name(gmsoft_attr_ulong(obj, CKA_CLASS, CKO_DATA)), hex,
	       label ? (int)label->len : 0, label ? (char *)label->value : "",
	       c ? c : "");
}

static int cmd_add_container(const struct opts *o)
{
	int rsa = o->kind && !strcmp(o->kind, "rsa");
	CK_RV rv;

	if (!o->container)
		return usage_error("%s needs --container C", "add-container");
	if (o->kind && !rsa && strcmp(o->kind, "sm2"))
		return usage_error("--kind '%s' is not 'sm2' or 'rsa'", o->kind);
	rv = gmsoft_admin_add_container(o->dir, o->slot_id, o->container, rsa);
	return rv == CKR_OK ? 0 : error_rv("add-container", rv);
}

static int cmd_list(const struct opts *o)
{
	struct gmsoft_object *objs;
	size_t n;
	int fd;
	CK_RV rv = gmsoft_lock(o->dir, 0, &fd);

	if (rv != CKR_OK)
		return error_rv("list", rv);
	rv = gmsoft_objects_load(o->dir, o->slot_id, &objs, &n);
	gmsoft_unlock(fd);
	if (rv != CKR_OK)
		return error_rv("list", rv);
	for (size_t i = 0; i < n; i++)
		list_one(&objs[i]);
	gmsoft_objects_free(objs, n);
	return 0;
}

static int cmd_pin_status(const struct opts *o)
{
	struct gmsoft_token t;
	CK_FLAGS f;
	CK_RV rv = gmsoft_token_load(o->dir, o->slot_id, &t);

	if (rv != CKR_OK)
		return error_rv("pin-status", rv);
	f = gmsoft_token_flags(&t);
	printf("tries=%d so_tries=%d%s%s%s%s\n", t.tries, t.so_tries,
	       t.pin_hash[0] ? "" : " no-user-pin",
	       (f & CKF_USER_PIN_COUNT_LOW) ? " CKF_USER_PIN_COUNT_LOW" : "",
	       (f & CKF_USER_PIN_FINAL_TRY) ? " CKF_USER_PIN_FINAL_TRY" : "",
	       (f & CKF_USER_PIN_LOCKED) ? " CKF_USER_PIN_LOCKED" : "");
	return 0;
}

static int cmd_sign_digest(const struct opts *o)
{
	struct gmsoft_bytes id, digest;
	unsigned char *idbuf, *dbuf = NULL, sig[GMSOFT_SM2_SIG_LEN], *der = NULL;
	size_t dlen = 0, derlen = 0;
	int ret = id_get(o, &idbuf, &id);
	CK_RV rv;

	if (ret)
		return ret;
	if (!o->digest || !o->out || gmsoft_hex_decode(o->digest, &dbuf, &dlen)) {
		free(idbuf);
		return usage_error("%s needs --digest HEX and --out FILE",
				   "sign-digest");
	}
	digest.data = dbuf;
	digest.len = dlen;
	rv = gmsoft_admin_sign(o->dir, o->slot_id, id, digest, sig);
	rv = rv ? rv : gmsoft_sig_to_der(sig, &der, &derlen);
	ret = rv == CKR_OK ? write_bytes(o->out, der, derlen) :
			     error_rv("sign-digest", rv);
	OPENSSL_free(der);
	free(dbuf);
	free(idbuf);
	return ret;
}

static int cmd_sig_to_der(const struct opts *o)
{
	unsigned char *raw = NULL, *der = NULL;
	size_t len = 0, derlen = 0;
	int ret;
	CK_RV rv;

	if (!o->in || !o->out)
		return usage_error("%s needs --in FILE and --out FILE", "sig-to-der");
	ret = read_bytes(o->in, &raw, &len);
	if (!ret && len != GMSOFT_SM2_BLOB_LEN)
		ret = usage_error("'%s' is not a 128-byte SM2 signature blob "
				  "(what C_Sign returns)", o->in);
	if (!ret) {
		unsigned char rs[GMSOFT_SM2_SIG_LEN];

		rv = gmsoft_blob_to_sig(raw, rs);
		rv = rv ? rv : gmsoft_sig_to_der(rs, &der, &derlen);
		ret = rv == CKR_OK ? write_bytes(o->out, der, derlen) :
				     error_rv("sig-to-der", rv);
	}
	OPENSSL_free(der);
	free(raw);
	return ret;
}

static const struct {
	const char *name;
	int (*fn)(const struct opts *);
	int needs_slot;
	const char *usage;
} commands[] = {
	{ "init", cmd_init, 1, "--slot N --label L --serial S [--pin-file F] "
	  "[--so-pin-file F] [--manufacturer M] [--model M]" },
	{ "empty", cmd_empty, 1, "--slot N" },
	{ "remove", cmd_remove, 1, "--slot N" },
	{ "insert", cmd_insert, 1, "--slot N" },
	{ "import-key", cmd_import_key, 1, "--slot N --id HEX [--label L] "
	  "[--container C] [--kind sign|exchange] --key FILE.pem" },
	{ "gen-key", cmd_gen_key, 1, "--slot N --id HEX [--label L] "
	  "[--container C] [--kind sign|exchange] [--out-pub FILE.pem]" },
	{ "import-cert", cmd_import_cert, 1, "--slot N --id HEX [--label L] "
	  "[--container C] --cert FILE(.pem|.der)" },
	{ "import-raw-cert", cmd_import_raw_cert, 1, "--slot N --id HEX "
	  "[--label L] [--container C] --file FILE" },
	{ "add-container", cmd_add_container, 1, "--slot N --container C "
	  "[--kind sm2|rsa]" },
	{ "list", cmd_list, 1, "--slot N" },
	{ "pin-status", cmd_pin_status, 1, "--slot N" },
	{ "set-tries", cmd_set_tries, 1, "--slot N --tries K" },
	{ "sign-digest", cmd_sign_digest, 1, "--slot N --id HEX --digest HEX "
	  "--out SIG.der" },
	{ "sig-to-der", cmd_sig_to_der, 0, "--in SIG.blob --out SIG.der" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: gmsofttoken-tool COMMAND [--dir DIR] OPTIONS\n"
		     "The state directory is --dir or $GMSOFT_DIR. PINs come "
		     "from --pin-file/--so-pin-file or $GMSOFT_PIN/$GMSOFT_SO_PIN.\n"
		     "commands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %s %s\n", commands[i].name, commands[i].usage);
}

static int parse_options(int argc, char **argv, struct opts *o)
{
	for (int i = 0; i < argc; i += 2) {
		size_t k;

		for (k = 0; k < sizeof(options) / sizeof(options[0]); k++)
			if (!strcmp(argv[i], options[k].name))
				break;
		if (k == sizeof(options) / sizeof(options[0]))
			return usage_error("unknown option '%s'", argv[i]);
		if (i + 1 >= argc)
			return usage_error("option '%s' needs a value", argv[i]);
		*(const char **)((char *)o + options[k].offset) = argv[i + 1];
	}
	return 0;
}

static int parse_slot(struct opts *o)
{
	char *end;

	if (!o->dir)
		o->dir = getenv("GMSOFT_DIR");
	if (!o->dir || !*o->dir)
		return usage_error("%s", "no state directory: give --dir or set GMSOFT_DIR");
	if (!o->slot)
		return usage_error("%s", "missing --slot N");
	o->slot_id = strtoul(o->slot, &end, 10);
	if (*end || end == o->slot)
		return usage_error("bad --slot '%s'", o->slot);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	int ret;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		ret = parse_options(argc - 2, argv + 2, &o);
		if (!ret && commands[i].needs_slot)
			ret = parse_slot(&o);
		if (!ret)
			ret = commands[i].fn(&o);
		if (fflush(stdout) != 0 && !ret)
			ret = 1;
		return ret;
	}
	usage(stderr);
	return usage_error("unknown command '%s'", argv[1]);
}
