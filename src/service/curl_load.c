/*
 * curl_load.c - libcurl, loaded when the service is first used.
 *
 * Linking libcurl into the binary makes every command load it and the ~20
 * libraries it needs (Kerberos, LDAP, GnuTLS, SSH, ...) at start-up, which
 * cost a command that never talks to the service (list-certs, verify) more
 * than its own work. gmrenew is therefore not linked with libcurl: the
 * libcurl functions the service layer calls are defined here and load
 * libcurl's soname on the first call (through the binary's RUNPATH, as
 * the linker would have: a Tongsuo build finds its own libcurl), then go to
 * the real ones. The Debian package names libcurl in its Depends
 * (packaging/CMakeLists.txt), since dpkg-shlibdeps cannot see it.
 */
#define CURL_DISABLE_TYPECHECK 1	/* plain prototypes, defined here */

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "service_internal.h"

#ifdef GMRENEW_CURL_PATH
#define CURL_SONAME GMRENEW_CURL_PATH	/* the prefix's (Tongsuo) build */
#else
#define CURL_SONAME "libcurl.so.4"
#endif

static struct {
	char *(*version)(void);
	CURLU *(*url)(void);
	CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
	CURLUcode (*url_get)(CURLU *, CURLUPart, char **, unsigned int);
	void (*url_cleanup)(CURLU *);
	void (*free)(void *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	const char *(*easy_strerror)(CURLcode);
	CURLcode (*global_init)(long);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	time_t (*getdate)(const char *, const time_t *);
} lib;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int loaded;
static char why[256] = "libcurl was not loaded";

/* dlsym's object pointer as the function pointer it is (POSIX). */
#define SYM(h, field, name) do { \
	void *p_ = dlsym(h, name); \
	if (!p_) \
		goto missing; \
	memcpy(&lib.field, &p_, sizeof(p_)); \
} while (0)

static void load(void)
{
	void *h = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	const char *e;

	if (!h)
		goto missing;
	SYM(h, version, "curl_version");
	SYM(h, url, "curl_url");
	SYM(h, url_set, "curl_url_set");
	SYM(h, url_get, "curl_url_get");
	SYM(h, url_cleanup, "curl_url_cleanup");
	SYM(h, free, "curl_free");
	SYM(h, easy_setopt, "curl_easy_setopt");
	SYM(h, easy_strerror, "curl_easy_strerror");
	SYM(h, global_init, "curl_global_init");
	SYM(h, global_cleanup, "curl_global_cleanup");
	SYM(h, easy_init, "curl_easy_init");
	SYM(h, easy_cleanup, "curl_easy_cleanup");
	SYM(h, easy_perform, "curl_easy_perform");
	SYM(h, easy_getinfo, "curl_easy_getinfo");
	SYM(h, slist_append, "curl_slist_append");
	SYM(h, slist_free_all, "curl_slist_free_all");
	SYM(h, getdate, "curl_getdate");
	loaded = 1;	/* never unloaded: libcurl keeps global state */
	return;
missing:
	e = dlerror();
	snprintf(why, sizeof(why), "cannot load %s (install libcurl4): %s",
		 CURL_SONAME, e ? e : "unknown error");
}

static int ready(void)
{
	return pthread_once(&once, load) == 0 && loaded;
}

char *curl_version(void)
{
	static char none[] = "libcurl (not loaded)";

	return ready() ? lib.version() : none;
}

CURLU *curl_url(void)
{
	return ready() ? lib.url() : NULL;
}

CURLUcode curl_url_set(CURLU *u, CURLUPart what, const char *part,
		       unsigned int flags)
{
	return lib.url_set(u, what, part, flags);	/* u came from curl_url */
}

CURLUcode curl_url_get(CURLU *u, CURLUPart what, char **part,
		       unsigned int flags)
{
	return lib.url_get(u, what, part, flags);
}

void curl_url_cleanup(CURLU *u)
{
	if (u)
		lib.url_cleanup(u);
}

void curl_free(void *p)
{
	if (p)
		lib.free(p);
}

CURLcode curl_global_init(long flags)
{
	return ready() ? lib.global_init(flags) : CURLE_FAILED_INIT;
}

void curl_global_cleanup(void)
{
	if (loaded)
		lib.global_cleanup();
}

CURL *curl_easy_init(void)
{
	return ready() ? lib.easy_init() : NULL;
}

void curl_easy_cleanup(CURL *c)
{
	if (c)
		lib.easy_cleanup(c);
}

CURLcode curl_easy_perform(CURL *c)
{
	return lib.easy_perform(c);
}

const char *curl_easy_strerror(CURLcode code)
{
	return ready() ? lib.easy_strerror(code) : why;
}

/* The one argument, passed on as the type its option number says. */
CURLcode curl_easy_setopt(CURL *c, CURLoption opt, ...)
{
	va_list ap;
	CURLcode r;

	va_start(ap, opt);
	if (opt < CURLOPTTYPE_OBJECTPOINT) {
		r = lib.easy_setopt(c, opt, va_arg(ap, long));
	} else if (opt < CURLOPTTYPE_FUNCTIONPOINT ||
		   opt >= CURLOPTTYPE_BLOB) {
		r = lib.easy_setopt(c, opt, va_arg(ap, void *));
	} else if (opt < CURLOPTTYPE_OFF_T) {
		void (*fn)(void) = va_arg(ap, void (*)(void));

		r = lib.easy_setopt(c, opt, fn);
	} else {
		r = lib.easy_setopt(c, opt, va_arg(ap, curl_off_t));
	}
	va_end(ap);
	return r;
}

/* Every CURLINFO takes a pointer to the result. */
CURLcode curl_easy_getinfo(CURL *c, CURLINFO info, ...)
{
	va_list ap;
	void *out;

	va_start(ap, info);
	out = va_arg(ap, void *);
	va_end(ap);
	return lib.easy_getinfo(c, info, out);
}

struct curl_slist *curl_slist_append(struct curl_slist *l, const char *s)
{
	return ready() ? lib.slist_append(l, s) : NULL;
}

void curl_slist_free_all(struct curl_slist *l)
{
	if (l)
		lib.slist_free_all(l);
}

time_t curl_getdate(const char *s, const time_t *unused)
{
	return ready() ? lib.getdate(s, unused) : -1;
}
