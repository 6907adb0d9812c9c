/*
 * skf_lib.c - loading an SKF library. Every function gmrenew needs is
 * resolved by its GM/T 0016 name before the library is used at all; a
 * library that lacks one is refused with its name. Like a PKCS#11 module
 * it is never unloaded (FEITIAN's driver keeps a USB monitor thread).
 */
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skf_internal.h"

struct skf_sym {
	const char *name;
	size_t offset;		/* in skf_functions */
	int optional;
	int pin_reader;		/* needed to read the PIN counter only */
};

#define SYM(fn, opt) { "SKF_" #fn, offsetof(skf_functions, fn), opt, 0 }
#define PIN_SYM(fn) { "SKF_" #fn, offsetof(skf_functions, fn), 0, 1 }

static const struct skf_sym syms[] = {
	PIN_SYM(EnumDev), PIN_SYM(ConnectDev), PIN_SYM(DisConnectDev),
	PIN_SYM(GetDevInfo), PIN_SYM(EnumApplication),
	PIN_SYM(OpenApplication), PIN_SYM(CloseApplication),
	PIN_SYM(GetPINInfo), SYM(VerifyPIN, 0),
	SYM(ClearSecureState, 0), SYM(EnumContainer, 0),
	SYM(OpenContainer, 0), SYM(CloseContainer, 0),
	SYM(CreateContainer, 0), SYM(DeleteContainer, 0),
	SYM(GetContainerType, 0), SYM(ExportCertificate, 0),
	SYM(ImportCertificate, 0), SYM(ExportPublicKey, 0),
	SYM(GenECCKeyPair, 0), SYM(ECCSignData, 0),
	SYM(DigestInit, 1), SYM(Digest, 1), SYM(CloseHandle, 1),
	SYM(ImportECCKeyPair, 2),	/* double certificates */
};

#undef SYM
#undef PIN_SYM

#define N_SYMS (sizeof(syms) / sizeof(syms[0]))

static void *load(const char *path, gm_error *err)
{
	void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);

	if (!dl)
		gm_fail(err, GM_EXIT_ENV,
			"install the token's driver or pass --module PATH",
			"cannot load the token library '%s': %s", path,
			dlerror());
	return dl;
}

/* Resolves syms into f; the required ones missing, as a list of names in
 * missing; returns how many are missing. */
static size_t resolve(void *dl, skf_functions *f, char *missing,
		      size_t size, int *has_digest)
{
	size_t i, n = 0, used = 0;

	*has_digest = 1;
	if (size)
		missing[0] = '\0';
	for (i = 0; i < N_SYMS; i++) {
		void *p = dlsym(dl, syms[i].name);

		if (f)
			memcpy((char *)f + syms[i].offset, &p, sizeof(p));
		if (p)
			continue;
		if (syms[i].optional) {
			if (syms[i].optional == 1)
				*has_digest = 0;
			continue;
		}
		if (size > used)
			used += (size_t)snprintf(missing + used, size - used,
						 "%s%s", n ? ", " : "",
						 syms[i].name);
		n++;
	}
	return n;
}

static size_t required_syms(void)
{
	size_t i, n = 0;

	for (i = 0; i < N_SYMS; i++)
		n += !syms[i].optional;
	return n;
}

int gm_skf_exports(const char *path, int *pkcs11, int *skf, char *missing,
		   size_t missing_size, gm_error *err)
{
	void *dl = load(path, err);
	size_t n;
	int digest;

	if (!dl)
		return -1;
	*pkcs11 = dlsym(dl, "C_GetFunctionList") != NULL;
	n = resolve(dl, NULL, missing, missing_size, &digest);
	*skf = n == 0 ? 1 : n == required_syms() ? 0 : -1;
	if (*skf == 0 && missing_size)
		missing[0] = '\0';
	return 0;
}

int gm_skf_lib_open(const char *path, const gm_skf_abi *abi,
		    gm_skf_lib **out, gm_error *err)
{
	char missing[GM_ERR_MSG_MAX / 2];
	gm_skf_lib *lib;
	size_t n;

	*out = NULL;
	lib = gm_xcalloc(1, sizeof(*lib));
	lib->dl = load(path, err);
	if (!lib->dl)
		goto fail;
	n = resolve(lib->dl, &lib->f, missing, sizeof(missing),
		    &lib->has_digest);
	if (n) {
		gm_fail(err, GM_EXIT_ENV,
			"use a driver that implements GM/T 0016 (SKF), or use "
			"--api pkcs11",
			"the token library '%s' does not export %s, which "
			"gmrenew needs for SKF", path, missing);
		goto fail;
	}
	lib->path = gm_xstrdup(path);
	lib->abi = *abi;
	gm_debug("SKF library '%s': ULONG %u bytes, BOOL %u, %s; digest on "
		 "the device: %s", path, abi->ulong_size, abi->bool_size,
		 abi->packed ? "packed" : "aligned",
		 lib->has_digest ? "yes" : "no");
	*out = lib;
	return 0;
fail:
	free(lib);
	return -1;
}

int gm_skf_lib_open_pin_reader(const char *path, const gm_skf_abi *abi,
			       gm_skf_lib **out, gm_error *err)
{
	char missing[GM_ERR_MSG_MAX / 2];
	gm_skf_lib *lib;
	size_t i;
	int digest;

	*out = NULL;
	lib = gm_xcalloc(1, sizeof(*lib));
	lib->dl = load(path, err);
	if (!lib->dl) {
		free(lib);
		return -1;
	}
	resolve(lib->dl, &lib->f, missing, sizeof(missing), &digest);
	for (i = 0; i < N_SYMS; i++) {
		void *p;

		memcpy(&p, (char *)&lib->f + syms[i].offset, sizeof(p));
		if (syms[i].pin_reader && !p) {
			gm_fail(err, GM_EXIT_ENV, NULL,
				"the token library '%s' does not export %s",
				path, syms[i].name);
			free(lib);
			return -1;
		}
	}
	lib->path = gm_xstrdup(path);
	lib->abi = *abi;
	*out = lib;
	return 0;
}

void gm_skf_lib_close(gm_skf_lib *lib)
{
	if (!lib)
		return;
	free(lib->path);
	free(lib);
}
