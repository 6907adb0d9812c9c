/*
 * module.c - finding and loading a PKCS#11 module. A library is trusted
 * only once it exports C_GetFunctionList and answers with a function list
 * of version 2.x or 3.x.
 *
 * A library is loaded once per process and never unloaded: FEITIAN's
 * driver starts a USB monitor thread in C_Initialize that outlives
 * C_Finalize, so dlclose cannot unload it safely. Every gm_module of the
 * same library shares one C_Initialize, finalised when the last one
 * closes.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "p11.h"

#define FIX_INSTALL \
	N_("install the FEITIAN ePass3000GM driver or pass --module PATH")

/* Where drivers usually are; /opt is searched shallowly below. */
static const char *const lib_dirs[] = {
	"/usr/lib",
	"/usr/local/lib",
	"/usr/lib/x86_64-linux-gnu",
	"/usr/lib64",
	"/lib",
	"/usr/lib/pkcs11",
	"/usr/lib/x86_64-linux-gnu/pkcs11",
	NULL
};

void gm_p11_trim(char *dst, const unsigned char *src, size_t n)
{
	while (n > 0 && (src[n - 1] == ' ' || src[n - 1] == '\0'))
		n--;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* name under dir, or under dir's subfolders down to depth levels; caller
 * frees. */
static char *find_below(const char *dir, const char *name, int depth)
{
	char *path = gm_xasprintf("%s/%s", dir, name);
	struct dirent *de;
	DIR *d;

	if (is_file(path))
		return path;
	free(path);
	if (depth <= 0 || !(d = opendir(dir)))
		return NULL;
	path = NULL;
	while (!path && (de = readdir(d))) {
		char *sub;
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		sub = gm_xasprintf("%s/%s", dir, de->d_name);
		if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			path = find_below(sub, name, depth - 1);
		free(sub);
	}
	closedir(d);
	return path;
}

static char *find_library(const char *lib)
{
	size_t i;
	char *found;

	if (strchr(lib, '/'))
		return is_file(lib) ? gm_xstrdup(lib) : NULL;
	for (i = 0; lib_dirs[i]; i++) {
		char *path = gm_xasprintf("%s/%s", lib_dirs[i], lib);

		if (is_file(path))
			return path;
		free(path);
	}
	/* /opt/VENDOR/lib/NAME, /opt/VENDOR/PRODUCT/lib/NAME and the like */
	found = find_below("/opt", lib, 3);
	return found;
}

char *gm_module_locate(const char *cli_path, const gm_config *cfg,
		       const gm_profile *profile, gm_error *err)
{
	const char *env = getenv("GMRENEW_PKCS11_MODULE");
	char tried[GM_ERR_MSG_MAX / 2] = "";
	size_t i;

	if (cli_path && *cli_path)
		return gm_xstrdup(cli_path);
	if (cfg && cfg->module && *cfg->module)
		return gm_xstrdup(cfg->module);
	if (env && *env)
		return gm_xstrdup(env);
	for (i = 0; profile && i < profile->n_libraries; i++) {
		char *path = find_library(profile->libraries[i]);
		size_t used = strlen(tried);

		if (path) {
			gm_debug("profile '%s': found driver '%s'",
				 profile->name, path);
			return path;
		}
		snprintf(tried + used, sizeof(tried) - used, "%s'%s'",
			 used ? ", " : "", profile->libraries[i]);
	}
	if (!profile || profile->n_libraries == 0) {
		gm_fail(err, GM_EXIT_ENV,
			"pass --module PATH, or set 'module' in the "
			"configuration file's [token] section",
			"no PKCS#11 module was given, and token profile '%s' "
			"names no driver to look for",
			profile ? profile->name : "(none)");
		gm_error_set_reason(err, GM_REASON_DRIVER_MISSING);
		return NULL;
	}
	gm_fail(err, GM_EXIT_ENV,
		profile->usb_vendor == 0x096E ? FIX_INSTALL :
		"install the token's PKCS#11 driver or pass --module PATH",
		"no PKCS#11 module found: looked for %s in /usr/lib, "
		"/usr/local/lib, /usr/lib/x86_64-linux-gnu and /opt", tried);
	gm_error_set_reason(err, GM_REASON_DRIVER_MISSING);
	return NULL;
}

static int check_version(gm_module *m, gm_error *err)
{
	CK_VERSION v = p11_mod(m)->f->version;

	if (v.major != 2 && v.major != 3)
		return gm_fail(err, GM_EXIT_ENV, FIX_INSTALL,
			       "'%s' speaks PKCS#11 version %u.%u; gmrenew "
			       "needs 2.x or 3.x", m->path, v.major, v.minor);
	return 0;
}

/* The libraries this process loaded: kept for the process's life. */
#define MAX_LOADED 4

static struct loaded {
	void *dl;
	unsigned users;		/* open gm_modules */
	int finalize;		/* we called C_Initialize */
} loaded[MAX_LOADED];

static struct loaded *loaded_for(void *dl)
{
	size_t i;

	for (i = 0; i < MAX_LOADED; i++)
		if (loaded[i].dl == dl)
			return &loaded[i];
	for (i = 0; i < MAX_LOADED; i++)
		if (!loaded[i].dl) {
			loaded[i].dl = dl;
			return &loaded[i];
		}
	return NULL;
}

static int initialize(gm_module *gm, gm_error *err)
{
	struct p11_module *m = p11_mod(gm);
	CK_C_INITIALIZE_ARGS args;
	struct loaded *l = loaded_for(m->dl);
	CK_RV rv;

	if (!l)
		return gm_fail(err, GM_EXIT_ENV, NULL,
			       "too many PKCS#11 modules loaded in one process");
	if (l->users > 0) {	/* initialised once for the whole process */
		l->users++;
		m->finalize = 1;
		return 0;
	}
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = m->f->C_Initialize(&args);
	gm_p11_log("C_Initialize", rv);
	if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		m->finalize = 0;	/* someone else in the process owns it */
		return 0;
	}
	if (rv == CKR_OK) {
		l->users = 1;
		l->finalize = 1;
	}
	if (rv != CKR_OK) {
		gm_ckr_fail(err, rv, "initialising the PKCS#11 module");
		if (err && err->code == GM_EXIT_FAILED)
			err->code = GM_EXIT_ENV;
		return gm_error_prefix(err, "'%s'", gm->path);
	}
	m->finalize = 1;
	return 0;
}

/* dlopen, C_GetFunctionList, the version check and C_Initialize; m->path
 * was checked by gm_module_open. */
int p11_open(gm_module *gm, gm_error *err)
{
	const char *path = gm->path;
	CK_C_GetFunctionList get_list;
	struct p11_module *m;
	CK_RV rv;

	if (!*path)
		return gm_fail(err, GM_EXIT_USAGE, FIX_INSTALL,
			       "no PKCS#11 module path was given");
	if (strchr(path, '/') && access(path, F_OK) < 0) {
		gm_fail(err, GM_EXIT_ENV, FIX_INSTALL,
			"PKCS#11 module '%s' does not exist: %s", path,
			strerror(errno));
		return gm_error_set_reason(err, GM_REASON_DRIVER_MISSING);
	}
	m = gm_xcalloc(1, sizeof(*m));
	gm->impl = m;
	/* RTLD_NODELETE: the library stays, whatever dlclose is called. */
	m->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (!m->dl) {
		gm_fail(err, GM_EXIT_ENV, FIX_INSTALL,
			"cannot load PKCS#11 module '%s': %s", path, dlerror());
		goto fail;
	}
	*(void **)&get_list = dlsym(m->dl, "C_GetFunctionList");
	if (!get_list) {
		gm_fail(err, GM_EXIT_ENV, FIX_INSTALL,
			"'%s' is not a PKCS#11 module (no C_GetFunctionList)",
			path);
		goto fail;
	}
	rv = get_list(&m->f);
	gm_p11_log("C_GetFunctionList", rv);
	if (rv != CKR_OK || !m->f) {
		gm_fail(err, GM_EXIT_ENV, FIX_INSTALL,
			"'%s' gave no PKCS#11 function list: %s (%s)", path,
			gm_ckr_meaning(rv), gm_ckr_name(rv));
		goto fail;
	}
	if (check_version(gm, err) < 0 || initialize(gm, err) < 0)
		goto fail;
	gm_debug("loaded PKCS#11 module '%s' (version %u.%u)", path,
		 m->f->version.major, m->f->version.minor);
	return 0;
fail:
	if (err && err->reason == GM_REASON_NONE)
		gm_error_set_reason(err, GM_REASON_DRIVER_INVALID);
	m->f = NULL;
	p11_close(gm);
	return -1;
}

/* The last user of a library finalises it; it is never unloaded. */
void p11_close(gm_module *gm)
{
	struct p11_module *m = gm ? p11_mod(gm) : NULL;
	struct loaded *l;

	if (!m)
		return;
	l = m->f && m->finalize && m->dl ? loaded_for(m->dl) : NULL;
	if (m->f && m->finalize && l && l->users > 0 && --l->users == 0 &&
	    l->finalize) {
		CK_RV rv = m->f->C_Finalize(NULL);

		gm_p11_log("C_Finalize", rv);
		l->finalize = 0;
	}
	free(m);
	gm->impl = NULL;
}

int p11_library_info(gm_module *m, gm_module_info *out, gm_error *err)
{
	CK_INFO info;
	CK_RV rv;

	rv = p11_mod(m)->f->C_GetInfo(&info);
	gm_p11_log("C_GetInfo", rv);
	if (rv != CKR_OK)
		return gm_ckr_fail(err, rv, "reading the PKCS#11 module's information");
	memset(out, 0, sizeof(*out));
	gm_p11_trim(out->manufacturer, info.manufacturerID,
		    sizeof(info.manufacturerID));
	gm_p11_trim(out->description, info.libraryDescription,
		    sizeof(info.libraryDescription));
	out->cryptoki_major = info.cryptokiVersion.major;
	out->cryptoki_minor = info.cryptokiVersion.minor;
	out->library_major = info.libraryVersion.major;
	out->library_minor = info.libraryVersion.minor;
	return 0;
}
