/*
 * token_driver.c - drives the token layer (src/token/) from test scripts:
 * one command per run, results on stdout as "key=value" lines, and the
 * gm_error of a failure as "ERROR code=N: message" and "FIX: fix", with
 * the error's exit code as the program's.
 *
 *   token_driver [-v] [--module PATH] [--profile NAME] [--config FILE]
 *                [--token URI] COMMAND [ARGS...]
 *
 * The user PIN for commands that log in comes from $GM_PIN.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "gmrenew/token.h"

struct opts {
	const char *module;
	const char *profile;
	const char *config;
	const char *token;
	gm_config cfg;
};

struct ctx {
	struct opts *o;
	gm_module *m;
	gm_token_info tok;
	gm_session *s;
	gm_profile prof;
};

static int report(const gm_error *err)
{
	printf("ERROR code=%d: %s\n", (int)err->code, err->msg);
	if (err->fix[0])
		printf("FIX: %s\n", err->fix);
	fflush(stdout);
	return err->code ? (int)err->code : 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: token_driver [-v] [--module PATH] "
		"[--profile NAME] [--config FILE] [--token URI] COMMAND ...\n");
	return 2;
}

static void print_hex(const char *key, const unsigned char *p, size_t n)
{
	char *hex = gm_hex(p, n);

	printf("%s=%s", key, hex);
	free(hex);
}

static int write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		fprintf(stderr, "cannot write '%s': %s\n", path,
			strerror(errno));
		return -1;
	}
	return 0;
}

static int unhex_arg(const char *hex, unsigned char **out, size_t *len,
		     gm_error *err)
{
	*out = NULL;
	*len = 0;
	if (gm_unhex(hex, out, len) < 0)
		return gm_fail(err, GM_EXIT_USAGE, NULL, "bad hex '%s'", hex);
	return 0;
}

/* Module, token, profile; a session when want_session (1 = read-write),
 * logged in when login and $GM_PIN is set. */
static int setup(struct ctx *c, int want_session, int login, gm_error *err)
{
	const char *pin = getenv("GM_PIN");
	char *path;

	path = gm_module_locate(c->o->module, &c->o->cfg, NULL, err);
	if (!path)
		return -1;
	if (gm_module_open(path, &c->m, err) < 0) {
		free(path);
		return -1;
	}
	free(path);
	if (!want_session)
		return 0;
	if (gm_token_select(c->m, c->o->token ? c->o->token :
			    c->o->cfg.token_uri, &c->tok, err) < 0)
		return -1;
	if (c->o->profile) {
		if (gm_profile_get(c->o->profile, &c->o->cfg, &c->prof, err) < 0)
			return -1;
	} else if (gm_profile_detect(c->m, &c->tok, &c->o->cfg, &c->prof,
				     err) < 0) {
		return -1;
	}
	if (gm_session_open(c->m, &c->tok, 1, &c->s, err) < 0)
		return -1;
	gm_session_set_pin_tries(c->s, c->prof.pin_max_tries);
	gm_session_set_profile(c->s, &c->prof);
	if (login && pin && *pin)
		return gm_session_login(c->s, pin, strlen(pin), err);
	return 0;
}

static void teardown(struct ctx *c)
{
	gm_session_close(c->s);
	gm_token_info_release(&c->tok);
	gm_module_close(c->m);
}

/* The token, read once (the snapshot). */
static int read_token(struct ctx *c, gm_token_snapshot *snap, gm_error *err)
{
	return gm_token_snapshot_read(c->s, snap, err);
}

static int same_id(const unsigned char *a, size_t a_len,
		   const unsigned char *b, size_t b_len)
{
	return a_len == b_len && (!a_len || !memcmp(a, b, a_len));
}

/* The index of the certificate with CKA_ID id, -1 if none, -2 on error. */
static long cert_by_id(struct ctx *c, gm_token_snapshot *snap,
		       const char *idhex, gm_error *err)
{
	unsigned char *id = NULL;
	size_t id_len = 0, i;
	long found = -1;

	if (unhex_arg(idhex, &id, &id_len, err) < 0 ||
	    read_token(c, snap, err) < 0) {
		free(id);
		return -2;
	}
	for (i = 0; i < snap->n_certs; i++)
		if (same_id(snap->certs[i].id, snap->certs[i].id_len, id,
			    id_len))
			found = (long)i;
	free(id);
	return found;
}

/* The key pair with CKA_ID id, or -1 with err. */
static long key_by_id(struct ctx *c, gm_token_snapshot *snap,
		      const char *idhex, gm_error *err)
{
	unsigned char *id = NULL;
	size_t id_len = 0, i;

	if (unhex_arg(idhex, &id, &id_len, err) < 0)
		return -1;
	if (read_token(c, snap, err) < 0) {
		free(id);
		return -1;
	}
	for (i = 0; i < snap->n_keys; i++)
		if (same_id(snap->keys[i].id, snap->keys[i].id_len, id,
			    id_len)) {
			free(id);
			return (long)i;
		}
	free(id);
	return gm_fail(err, GM_EXIT_FAILED, NULL, "no key with id %s", idhex);
}

static int cmd_locate(struct ctx *c, int argc, char **argv, gm_error *err)
{
	gm_profile p;
	char *path;

	if (gm_profile_get(c->o->profile, &c->o->cfg, &p, err) < 0)
		return -1;
	path = gm_module_locate(argc > 0 ? argv[0] : c->o->module,
				&c->o->cfg, &p, err);
	if (!path)
		return -1;
	printf("module=%s\n", path);
	free(path);
	return 0;
}

static int cmd_info(struct ctx *c, gm_error *err)
{
	gm_module_info info;

	if (setup(c, 0, 0, err) < 0 || gm_module_get_info(c->m, &info, err) < 0)
		return -1;
	printf("path=%s\nmanufacturer=%s\ndescription=%s\ncryptoki=%u.%u\n",
	       gm_module_path(c->m), info.manufacturer, info.description,
	       info.cryptoki_major, info.cryptoki_minor);
	return 0;
}

static int cmd_tokens(struct ctx *c, gm_error *err)
{
	gm_token_info *infos = NULL;
	size_t n = 0, i;

	if (setup(c, 0, 0, err) < 0 ||
	    gm_module_tokens(c->m, &infos, &n, err) < 0)
		return -1;
	printf("count=%zu\n", n);
	for (i = 0; i < n; i++)
		printf("token slot=%lu serial=%s label=%s model=%s flags=0x%lx "
		       "uri=%s\n", (unsigned long)infos[i].slot,
		       infos[i].serial, infos[i].label, infos[i].model,
		       (unsigned long)infos[i].flags, infos[i].uri);
	gm_token_infos_free(infos, n);
	return 0;
}

static int cmd_select(struct ctx *c, gm_error *err)
{
	if (setup(c, 0, 0, err) < 0 ||
	    gm_token_select(c->m, c->o->token, &c->tok, err) < 0)
		return -1;
	printf("selected serial=%s label=%s slot=%lu\nuri=%s\n", c->tok.serial,
	       c->tok.label, (unsigned long)c->tok.slot, c->tok.uri);
	return 0;
}

static int cmd_detect(struct ctx *c, gm_error *err)
{
	if (setup(c, 1, 0, err) < 0)
		return -1;
	printf("profile=%s\nkeygen=0x%lx\nsign=0x%lx\n", c->prof.name,
	       (unsigned long)c->prof.keygen_mechanism,
	       (unsigned long)c->prof.sign_mechanism);
	return 0;
}

static void print_pin_state(const gm_pin_state *p)
{
	printf("pinstate count_low=%d final_try=%d locked=%d pin_pad=%d "
	       "min=%lu max=%lu\n", p->count_low, p->final_try, p->locked,
	       p->pin_pad, p->min_len, p->max_len);
}

static int cmd_pinstate(struct ctx *c, gm_error *err)
{
	gm_pin_state p;

	if (setup(c, 1, 0, err) < 0 || gm_session_pin_state(c->s, &p, err) < 0)
		return -1;
	print_pin_state(&p);
	return 0;
}

/* Tries each PIN in turn in one session; reports each result. */
static int cmd_login(struct ctx *c, int argc, char **argv, gm_error *err)
{
	int i, last = 0;

	if (setup(c, 1, 0, err) < 0)
		return -1;
	for (i = 0; i < argc; i++) {
		gm_error e;

		if (gm_session_login(c->s, argv[i], strlen(argv[i]), &e) == 0) {
			printf("login ok logged_in=%d\n",
			       gm_session_logged_in(c->s));
			last = 0;
			continue;
		}
		printf("login ");
		last = report(&e);
	}
	return last;
}

static int write_pub_pem(EVP_PKEY *pub, const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f || !PEM_write_PUBKEY(f, pub)) {
		if (f)
			fclose(f);
		fprintf(stderr, "cannot write '%s'\n", path);
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}

static int cmd_keygen(struct ctx *c, int argc, char **argv, gm_error *err)
{
	unsigned char *id = NULL;
	size_t id_len = 0;
	gm_snapshot_key key;
	int ret = -1;

	memset(&key, 0, sizeof(key));
	if (argc != 3)
		return usage();
	if (unhex_arg(argv[0], &id, &id_len, err) < 0)
		return 2;
	if (setup(c, 1, 1, err) < 0 ||
	    gm_token_new_keypair(c->s, id, id_len, argv[1], &key, err) < 0)
		goto out;
	printf("keygen parts=%u label=%s ", key.parts, key.label);
	print_hex("id", key.id, key.id_len);
	printf("\n");
	ret = write_pub_pem(key.pubkey, argv[2]) < 0 ? 1 : 0;
out:
	gm_snapshot_key_release(&key);
	free(id);
	return ret;
}

static int cmd_sign(struct ctx *c, int argc, char **argv, gm_error *err)
{
	unsigned char *digest = NULL, *sig = NULL;
	size_t digest_len = 0, sig_len = 0;
	gm_token_snapshot snap;
	gm_key_signer signer;
	long k;
	int ret = -1;

	memset(&snap, 0, sizeof(snap));
	if (argc != 3)
		return usage();
	if (unhex_arg(argv[1], &digest, &digest_len, err) < 0 ||
	    digest_len != GM_DIGEST_LEN) {
		fprintf(stderr, "the digest must be 32 bytes of hex\n");
		free(digest);
		return 2;
	}
	if (setup(c, 1, 1, err) < 0 ||
	    (k = key_by_id(c, &snap, argv[0], err)) < 0)
		goto out;
	signer.session = c->s;
	signer.key = snap.keys[k].ref;
	if (gm_key_sign_cb(&signer, digest, &sig, &sig_len, err) < 0)
		goto out;
	printf("signed len=%zu\n", sig_len);
	ret = write_file(argv[2], sig, sig_len) < 0 ? 1 : 0;
out:
	OPENSSL_free(sig);
	free(digest);
	gm_token_snapshot_release(&snap);
	return ret;
}

/* The public key the token shows for the key pair (from the public key
 * object, or the private key's own point when it stands alone). */
static int cmd_pubkey(struct ctx *c, int argc, char **argv, gm_error *err)
{
	gm_token_snapshot snap;
	long k;
	int ret = -1;

	memset(&snap, 0, sizeof(snap));
	if (argc != 2)
		return usage();
	if (setup(c, 1, 1, err) < 0 ||
	    (k = key_by_id(c, &snap, argv[0], err)) < 0)
		goto out;
	if (!snap.keys[k].pubkey) {
		ret = gm_fail(err, GM_EXIT_FAILED, NULL,
			      "the key pair shows no public key");
		goto out;
	}
	printf("pubkey parts=%u\n", snap.keys[k].parts);
	ret = write_pub_pem(snap.keys[k].pubkey, argv[1]) < 0 ? 1 : 0;
out:
	gm_token_snapshot_release(&snap);
	return ret;
}

/* Every certificate: pub/priv say whether its key pair (by public key)
 * shows a public and a private key object. */
static int cmd_certs(struct ctx *c, int argc, char **argv, gm_error *err)
{
	gm_token_snapshot snap;
	size_t i;

	if (setup(c, 1, 1, err) < 0 || read_token(c, &snap, err) < 0)
		return -1;
	printf("count=%zu\n", snap.n_certs);
	for (i = 0; i < snap.n_certs; i++) {
		const gm_snapshot_cert *cert = &snap.certs[i];
		unsigned parts = cert->key >= 0 ? snap.keys[cert->key].parts : 0;

		printf("cert ");
		print_hex("id", cert->id, cert->id_len);
		printf(" label=%s len=%zu value=%d pub=%d priv=%d\n",
		       cert->label, cert->der_len, cert->der != NULL,
		       !!(parts & GM_KEYPAIR_PUBLIC),
		       !!(parts & GM_KEYPAIR_PRIVATE));
		if (argc > 0 && cert->der) {
			char *hex = gm_hex(cert->id, cert->id_len);
			char *path = gm_xasprintf("%s/%s.der", argv[0], hex);

			write_file(path, cert->der, cert->der_len);
			free(path);
			free(hex);
		}
	}
	gm_token_snapshot_release(&snap);
	return 0;
}

static int cmd_keys(struct ctx *c, gm_error *err)
{
	gm_token_snapshot snap;
	size_t i;

	if (setup(c, 1, 1, err) < 0 || read_token(c, &snap, err) < 0)
		return -1;
	printf("count=%zu\n", snap.n_keys);
	for (i = 0; i < snap.n_keys; i++) {
		const gm_snapshot_key *k = &snap.keys[i];

		printf("key ");
		print_hex("id", k->id, k->id_len);
		printf(" label=%s pub=%d priv=%d pubkey=%d\n", k->label,
		       !!(k->parts & GM_KEYPAIR_PUBLIC),
		       !!(k->parts & GM_KEYPAIR_PRIVATE), k->pubkey != NULL);
	}
	gm_token_snapshot_release(&snap);
	return 0;
}

static int cmd_putcert(struct ctx *c, int argc, char **argv, gm_error *err)
{
	unsigned char *id = NULL, *der = NULL;
	size_t id_len = 0, der_len = 0;
	gm_snapshot_key key;
	gm_token_ref ref;
	int ret = -1;

	if (argc != 3)
		return usage();
	if (unhex_arg(argv[0], &id, &id_len, err) < 0)
		return 2;
	memset(&key, 0, sizeof(key));
	key.id = id;		/* the certificate goes next to this CKA_ID */
	key.id_len = id_len;
	if (gm_read_file(argv[2], 1 << 20, &der, &der_len, err) < 0 ||
	    setup(c, 1, 1, err) < 0 ||
	    gm_token_store_cert(c->s, &key, argv[1], der, der_len, &ref,
				err) < 0)
		goto out;
	printf("created ref=%d\n", !gm_token_ref_is_none(ref));
	ret = 0;
out:
	free(id);
	free(der);
	return ret;
}

static int cmd_readcert(struct ctx *c, int argc, char **argv, gm_error *err)
{
	unsigned char *der = NULL;
	size_t der_len = 0;
	gm_token_snapshot snap;
	long i;
	int ret = -1;

	memset(&snap, 0, sizeof(snap));
	if (argc != 2)
		return usage();
	if (setup(c, 1, 1, err) < 0)
		return -1;
	i = cert_by_id(c, &snap, argv[0], err);
	if (i == -2)
		goto out;
	if (i < 0) {
		printf("NOTFOUND id=%s\n", argv[0]);
		ret = 1;
		goto out;
	}
	if (gm_token_read_cert(c->s, snap.certs[i].ref, &der, &der_len,
			       err) < 0)
		goto out;
	printf("read len=%zu\n", der_len);
	ret = write_file(argv[1], der, der_len) < 0 ? 1 : 0;
	free(der);
out:
	gm_token_snapshot_release(&snap);
	return ret;
}

/* destroy-cert, setlabel-cert, destroy-key */
static int cmd_object(struct ctx *c, const char *cmd, int argc, char **argv,
		      gm_error *err)
{
	gm_token_snapshot snap;
	long i;
	int ret = -1;

	memset(&snap, 0, sizeof(snap));
	if (argc < 1 || setup(c, 1, 1, err) < 0)
		return argc < 1 ? usage() : -1;
	if (!strcmp(cmd, "destroy-key")) {
		i = key_by_id(c, &snap, argv[0], err);
		if (i >= 0)
			ret = gm_token_remove(c->s, snap.keys[i].ref, err);
		goto out;
	}
	i = cert_by_id(c, &snap, argv[0], err);
	if (i == -2)
		goto out;
	if (i < 0) {
		printf("NOTFOUND id=%s\n", argv[0]);
		ret = 1;
		goto out;
	}
	if (!strcmp(cmd, "destroy-cert"))
		ret = gm_token_remove(c->s, snap.certs[i].ref, err);
	else if (argc != 2)
		ret = usage();
	else
		ret = gm_token_relabel(c->s, snap.certs[i].ref, argv[1], err);
out:
	if (ret == 0)
		printf("done\n");
	gm_token_snapshot_release(&snap);
	return ret;
}

static int cmd_usb(int argc, char **argv, gm_error *err)
{
	gm_usb_device *devs = NULL;
	size_t n = 0, i;

	if (argc != 2)
		return usage();
	if (gm_usb_scan((uint16_t)strtoul(argv[0], NULL, 16),
			(uint16_t)strtoul(argv[1], NULL, 16), &devs, &n,
			err) < 0)
		return -1;
	printf("count=%zu\n", n);
	for (i = 0; i < n; i++)
		printf("usb bus=%u address=%u id=%04x:%04x node=%s can_open=%d "
		       "problem=%s\n", devs[i].bus, devs[i].address,
		       devs[i].vendor, devs[i].product, devs[i].node,
		       devs[i].can_open, devs[i].problem);
	free(devs);
	return 0;
}

/* e = SM3(Z || M) with the default ID, computed here with OpenSSL's EC
 * arithmetic only, so that tests do not depend on src/crypto/. */
static int cmd_sm2_e(int argc, char **argv)
{
	unsigned char buf[32], md[32], *msg = NULL;
	size_t msg_len = 0;
	const char *id = GM_SM2_DEFAULT_ID;
	unsigned int md_len;
	unsigned char entl[2];
	BIGNUM *p = BN_new(), *a = BN_new(), *b = BN_new(), *gx = BN_new(),
	       *gy = BN_new(), *px = NULL, *py = NULL;
	BIGNUM *const order[] = { a, b, gx, gy, NULL, NULL };
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	EVP_PKEY *pub = NULL;
	EC_GROUP *group = NULL;
	FILE *f = NULL;
	gm_error err;
	int ret = 1, i;
	char *hex;

	if (argc != 2)
		return usage();
	f = fopen(argv[0], "r");
	if (f)
		pub = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	if (f)
		fclose(f);
	group = EC_GROUP_new_by_curve_name(NID_sm2);
	if (!pub || !group ||
	    gm_read_file(argv[1], 1 << 24, &msg, &msg_len, &err) < 0 ||
	    !EC_GROUP_get_curve(group, p, a, b, NULL) ||
	    !EC_POINT_get_affine_coordinates(group,
		    EC_GROUP_get0_generator(group), gx, gy, NULL) ||
	    !EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_EC_PUB_X, &px) ||
	    !EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_EC_PUB_Y, &py)) {
		fprintf(stderr, "sm2-e: cannot read the key or message\n");
		goto out;
	}
	entl[0] = (unsigned char)((strlen(id) * 8) >> 8);
	entl[1] = (unsigned char)(strlen(id) * 8);
	EVP_DigestInit_ex(h, EVP_sm3(), NULL);
	EVP_DigestUpdate(h, entl, 2);
	EVP_DigestUpdate(h, id, strlen(id));
	for (i = 0; i < 6; i++) {
		BIGNUM *bn = i < 4 ? order[i] : (i == 4 ? px : py);

		BN_bn2binpad(bn, buf, 32);
		EVP_DigestUpdate(h, buf, 32);
	}
	EVP_DigestFinal_ex(h, md, &md_len);
	EVP_DigestInit_ex(h, EVP_sm3(), NULL);
	EVP_DigestUpdate(h, md, 32);
	EVP_DigestUpdate(h, msg, msg_len);
	EVP_DigestFinal_ex(h, md, &md_len);
	hex = gm_hex(md, 32);
	printf("%s\n", hex);
	free(hex);
	ret = 0;
out:
	free(msg);
	EVP_MD_CTX_free(h);
	EVP_PKEY_free(pub);
	EC_GROUP_free(group);
	BN_free(p);
	BN_free(a);
	BN_free(b);
	BN_free(gx);
	BN_free(gy);
	BN_free(px);
	BN_free(py);
	return ret;
}

static int run(struct ctx *c, const char *cmd, int argc, char **argv,
	       gm_error *err)
{
	if (!strcmp(cmd, "locate"))
		return cmd_locate(c, argc, argv, err);
	if (!strcmp(cmd, "info"))
		return cmd_info(c, err);
	if (!strcmp(cmd, "tokens"))
		return cmd_tokens(c, err);
	if (!strcmp(cmd, "select"))
		return cmd_select(c, err);
	if (!strcmp(cmd, "detect"))
		return cmd_detect(c, err);
	if (!strcmp(cmd, "pinstate"))
		return cmd_pinstate(c, err);
	if (!strcmp(cmd, "login"))
		return cmd_login(c, argc, argv, err);
	if (!strcmp(cmd, "keygen"))
		return cmd_keygen(c, argc, argv, err);
	if (!strcmp(cmd, "sign"))
		return cmd_sign(c, argc, argv, err);
	if (!strcmp(cmd, "pubkey"))
		return cmd_pubkey(c, argc, argv, err);
	if (!strcmp(cmd, "certs"))
		return cmd_certs(c, argc, argv, err);
	if (!strcmp(cmd, "keys"))
		return cmd_keys(c, err);
	if (!strcmp(cmd, "putcert"))
		return cmd_putcert(c, argc, argv, err);
	if (!strcmp(cmd, "readcert"))
		return cmd_readcert(c, argc, argv, err);
	if (!strcmp(cmd, "destroy-cert") || !strcmp(cmd, "setlabel-cert") ||
	    !strcmp(cmd, "destroy-key"))
		return cmd_object(c, cmd, argc, argv, err);
	if (!strcmp(cmd, "usb"))
		return cmd_usb(argc, argv, err);
	if (!strcmp(cmd, "sm2-e"))
		return cmd_sm2_e(argc, argv);
	fprintf(stderr, "unknown command '%s'\n", cmd);
	return 2;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct ctx c;
	gm_error err;
	int i = 1, ret;

	memset(&o, 0, sizeof(o));
	memset(&c, 0, sizeof(c));
	memset(&err, 0, sizeof(err));
	gm_config_init(&o.cfg);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v"))
			gm_verbosity++;
		else if (i + 1 >= argc)
			return usage();
		else if (!strcmp(argv[i], "--module"))
			o.module = argv[++i];
		else if (!strcmp(argv[i], "--profile"))
			o.profile = argv[++i];
		else if (!strcmp(argv[i], "--config"))
			o.config = argv[++i];
		else if (!strcmp(argv[i], "--token"))
			o.token = argv[++i];
		else
			return usage();
	}
	if (i >= argc)
		return usage();
	if (o.config && gm_config_load(&o.cfg, o.config, 1, &err) < 0) {
		ret = report(&err);
		goto out;
	}
	c.o = &o;
	ret = run(&c, argv[i], argc - i - 1, argv + i + 1, &err);
	if (ret < 0)
		ret = report(&err);
	teardown(&c);
out:
	gm_config_release(&o.cfg);
	return ret;
}
