/*
 * common.h - what every layer of gmrenew shares: the error value that carries
 * what failed, why and what to do; the exit codes it maps to; the debug log;
 * wiping secrets; the configuration file.
 *
 * Lower layers never print to stdout and never exit. A function that can fail
 * returns 0 on success or -1 after filling the caller's gm_error; only the CLI
 * layer turns an error into a message and an exit code.
 */
#ifndef GMRENEW_COMMON_H
#define GMRENEW_COMMON_H

#include <stdio.h>
#include <sys/types.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Exit codes of every subcommand (docs/exit-codes.md). */
typedef enum gm_exit {
	GM_EXIT_OK = 0,
	GM_EXIT_FAILED = 1,
	GM_EXIT_USAGE = 2,	/* usage or configuration error */
	GM_EXIT_NOT_DUE = 3,	/* nothing to do */
	GM_EXIT_OFFLINE = 4,	/* offline renewal required */
	GM_EXIT_ENV = 5,	/* driver, no token, several tokens */
	GM_EXIT_PIN = 6,	/* wrong, locked, refused at the final try */
	GM_EXIT_SERVICE = 7,	/* service unavailable, try later */
	GM_EXIT_VERIFY = 8,	/* verification failed */
	GM_EXIT_INTERRUPTED = 130,	/* SIGINT or SIGTERM: stopped at a
					 * safe point, resumable */
} gm_exit;

/*
 * Texts a person reads are written in English and marked for translation:
 * N_("...") marks a text kept in a table, and the format and fix given to
 * gm_fail(), gm_error_prefix() and gm_error_set_fix() are marked by their
 * position (po/CMakeLists.txt lists these keywords for xgettext). Only the
 * CLI layer knows the user's language: it installs the translating function
 * with gm_set_text_fn(); gm_text() applies it (identity until then).
 */
#ifndef N_
#define N_(s) (s)
#endif
const char *gm_text(const char *msgid);
void gm_set_text_fn(const char *(*fn)(const char *msgid));

#define GM_ERR_MSG_MAX 512
#define GM_ERR_FIX_MAX 512

/*
 * Why something failed, for programs: callers branch on the value, JSON and
 * hooks show its name (gm_error_reason_name). The names are an interface
 * (docs/fleet.md, docs/schema/common.json): a value is added, never renamed.
 */
typedef enum gm_reason {
	GM_REASON_NONE = 0,	/* none given: named after the exit code */
	/* the token and its driver */
	GM_REASON_NO_TOKEN,
	GM_REASON_SEVERAL_TOKENS,
	GM_REASON_NO_MATCHING_TOKEN,
	GM_REASON_TOKEN_NOT_INITIALISED,
	GM_REASON_TOKEN_REMOVED,
	GM_REASON_DRIVER_MISSING,
	GM_REASON_DRIVER_INVALID,
	GM_REASON_PIN_INCORRECT,	/* "CKR_PIN_INCORRECT" */
	GM_REASON_PIN_LOCKED,
	GM_REASON_PIN_FINAL_TRY,
	GM_REASON_PKCS11,	/* another PKCS#11 code: named by gm_error.code */
	GM_REASON_SEVERAL_CERTIFICATES,
	/* the service: its protocol's codes (docs/protocol.md) */
	GM_REASON_BAD_REQUEST,
	GM_REASON_CSR_INVALID,
	GM_REASON_BAD_CHALLENGE,
	GM_REASON_POP_INVALID,
	GM_REASON_NOT_DUE,
	GM_REASON_OFFLINE_ONLY,
	GM_REASON_REVOKED,
	GM_REASON_UNKNOWN_CERTIFICATE,
	GM_REASON_UNKNOWN_CODE,
	GM_REASON_SUPERSEDED,
	GM_REASON_CONFLICT,
	GM_REASON_CODE_EXPIRED,
	GM_REASON_SUBJECT_MISMATCH,
	GM_REASON_BUSY,
	GM_REASON_INTERNAL,
	GM_REASON_UNKNOWN,	/* a lookup's renewal.reason: not the CA's */
	GM_REASON_SERVICE_CODE,	/* another protocol code: gm_error.code */
	/* the service client */
	GM_REASON_NETWORK,
	GM_REASON_TIMEOUT,
	GM_REASON_TLS,
	GM_REASON_TLS_UNTRUSTED,
	GM_REASON_TLS_POLICY,
	GM_REASON_CA_BUNDLE,
	GM_REASON_HTTP_ERROR,
	GM_REASON_MALFORMED,
	GM_REASON_TOO_LARGE,
	GM_REASON_REDIRECT,
	/* the renewal */
	GM_REASON_WRONG_ORDER,
	GM_REASON_OLD_CERTIFICATE_CHANGED,
	GM_REASON_CONFIRMED_UNKNOWN_CERTIFICATE,
	GM_REASON_OTHER_EKEY,
	GM_REASON_INTERRUPTED,
	/* the token through GM/T 0016 (added last: the values stay) */
	GM_REASON_SKF,		/* another SKF code: its SAR_ name in
				 * gm_error.outside, the value in detail */
	/* double certificates */
	GM_REASON_ENCRYPTION_PART,	/* the service's encryption part
					 * refused (docs/protocol.md 3.8) */
	GM_REASON_NEEDS_SKF,		/* this API cannot import the
					 * encryption key pair */
	GM_REASON_COUNT
} gm_reason;

/* The JSON name of a reason ("no_token", "CKR_PIN_INCORRECT", ...); NULL
 * for GM_REASON_NONE and values out of range. */
const char *gm_reason_name(gm_reason r);
/* The reason a protocol code of the service stands for
 * (GM_REASON_BAD_REQUEST ... GM_REASON_UNKNOWN), GM_REASON_SERVICE_CODE
 * for any other code. */
gm_reason gm_reason_of_protocol(const char *code);

typedef struct gm_error {
	gm_exit code;		/* the exit code this error maps to */
	long detail;		/* layer-specific: CK_RV, HTTP status, ... */
	gm_reason reason;	/* machine-readable; may be GM_REASON_NONE */
	char outside[40];	/* the outside code behind it, as sent: the
				 * service's protocol code or the CKR_ name;
				 * may be empty */
	char msg[GM_ERR_MSG_MAX];	/* what failed and why */
	char fix[GM_ERR_FIX_MAX];	/* what the user can do; may be empty */
} gm_error;

/*
 * gm_fail(err, code, fix, fmt, ...): fills err (when not NULL) with a
 * message made from fmt, the exit code and the fix (may be NULL), and returns
 * -1, so that "return gm_fail(...)" ends a failing function. Messages are
 * lower-case, without a final full stop, and quote the thing in question:
 *   gm_fail(err, GM_EXIT_ENV, "pass --module PATH",
 *           "cannot load PKCS#11 module '%s': %s", path, dlerror());
 */
int gm_fail(gm_error *err, gm_exit code, const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int gm_failv(gm_error *err, gm_exit code, const char *fix, const char *fmt,
	     va_list ap) __attribute__((format(printf, 4, 0)));
/* Puts "context: " before the message already in err; returns -1. */
int gm_error_prefix(gm_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Sets the machine-readable reason of an error already set; returns -1. */
int gm_error_set_reason(gm_error *err, gm_reason reason);
/* Sets the reason and the outside code behind it (a protocol code, a CKR_
 * name); returns -1. */
int gm_error_set_outside(gm_error *err, gm_reason reason, const char *code);
/* The word JSON, hooks and logs show for err: the reason's name; for
 * GM_REASON_PKCS11 and GM_REASON_SERVICE_CODE the outside code (a service's
 * code that is one of gmrenew's own words: "service_error"); without a
 * reason, the exit code's ("usage", "environment", ...). Never NULL.
 * GM_REASON_SKF is "skf" (its SAR_ name is gm_error_code's). */
const char *gm_error_reason_name(const gm_error *err);
/* The outside code behind err as JSON's error "code" shows it: the CKR_
 * or SAR_ name, or the service's protocol code; NULL when there is none. */
const char *gm_error_code(const gm_error *err);
/* Replaces the fix of an error already set; returns -1. */
int gm_error_set_fix(gm_error *err, const char *fix);
void gm_error_clear(gm_error *err);

/* Debug log on stderr, shown from verbosity 1 (-v) or 2 (-vv). */
extern int gm_verbosity;
void gm_log(int level, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define gm_debug(...) gm_log(1, __func__, __VA_ARGS__)
#define gm_trace(...) gm_log(2, __func__, __VA_ARGS__)

/* Wiping secrets: the compiler may not drop these. NULL-safe. */
void gm_wipe(void *p, size_t n);
void gm_freezero(void *p, size_t n);
/* Wipes the whole heap buffer of a secret (malloc_usable_size, not strlen)
 * and frees it. */
void gm_free_secret(char *s);

/* Allocation that aborts on out-of-memory (the only sane reaction in a CLI). */
void *gm_xmalloc(size_t n);
void *gm_xcalloc(size_t n, size_t size);
void *gm_xrealloc(void *p, size_t n);
char *gm_xstrdup(const char *s);
char *gm_xmemdup(const void *p, size_t n);
char *gm_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Lower-case hex of n bytes; caller frees. */
char *gm_hex(const unsigned char *p, size_t n);
/* Parses hex (upper or lower case, optional ':' separators) into a new buffer;
 * returns -1 on bad input. Caller frees *out. */
int gm_unhex(const char *hex, unsigned char **out, size_t *out_len);

/* Reads a whole file (at most max bytes); caller frees *out. */
int gm_read_file(const char *path, size_t max, unsigned char **out,
		 size_t *out_len, gm_error *err);

/* Time: RFC 3339 UTC ("2026-11-24T06:31:00Z") into buf (at least 21 bytes). */
void gm_time_rfc3339(time_t t, char *buf, size_t n);

/*
 * The configuration (INI, docs/configuration.md), read from up to three
 * files, later ones overriding earlier ones key by key:
 *   1. GMRENEW_SYSCONF_DIR/gmrenew.conf (/etc/gmrenew/gmrenew.conf),
 *   2. $XDG_CONFIG_HOME/gmrenew/gmrenew.conf (~/.config/...),
 *   3. --config FILE, else $GMRENEW_CONFIG (must exist).
 * Values not given keep their defaults. Profile overrides are kept as raw
 * key/value pairs for the token layer to apply ([profile.NAME] sections).
 */
typedef struct gm_config_kv {
	char *section;
	char *key;
	char *value;
} gm_config_kv;

/* The keys, as data: gm_config_keys[] (ends with a NULL name) is what the
 * parser accepts and what the manual and `gmrenew config show` list. */
typedef enum gm_config_type {
	GM_CFG_STRING,		/* char * */
	GM_CFG_LONG,		/* long */
	GM_CFG_INT,		/* int */
	GM_CFG_TLS,		/* int: "tls" 0, "tlcp" 1 */
	GM_CFG_TLS_VERSION,	/* int: "1.2" 12, "1.3" 13 */
} gm_config_type;

typedef struct gm_config_key {
	const char *section;
	const char *name;
	gm_config_type type;
	size_t offset;		/* in gm_config */
	long min, max;		/* for numbers */
	const char *arg;	/* URL, FILE, N, ... */
	const char *default_text;	/* N_(): the default in words */
	const char *help;		/* N_(): what it means */
} gm_config_key;

#define GM_CONFIG_N_KEYS 23
#define GM_CONFIG_MAX_FILES 3
extern const gm_config_key gm_config_keys[GM_CONFIG_N_KEYS + 1];

typedef struct gm_config {
	char *path;		/* last file read, or NULL */
	/* [token] */
	char *module;		/* PKCS#11 module path */
	char *profile;		/* vendor profile name, NULL = by module */
	char *token_uri;	/* RFC 7512 URI selecting the token */
	char *token_api;	/* "auto", "pkcs11", "skf"; NULL = auto */
	/* [service] */
	char *service_url;
	char *ca_bundle;	/* trust anchors for the service's TLS */
	char *chain_bundle;	/* trust anchors for issued certificates */
	int service_tlcp;	/* tls = tlcp: TLCP (NTLS 1.1), else TLS */
	long connect_timeout_ms;
	long total_timeout_ms;
	long max_retry_wait_ms;	/* cap on Retry-After and backoff */
	int tls_min_version;	/* 12 or 13 */
	char *tls12_ciphers;	/* NULL = the client's default policy */
	char *tls13_ciphers;
	/* [policy] */
	int renew_before_days;	/* online window opens: 90 */
	int renew_after_days;	/* online window closes after expiry: 90 */
	int extension_days;	/* expected validity extension: 1826 */
	int extension_tolerance_days;	/* either way: 31 */
	int clock_skew_seconds;	/* allowed notBefore in the future: 300 */
	/* [renewal] */
	char *state_dir;	/* journals and locks; NULL = XDG default */
	/* [hooks] */
	char *hook_on_renewed;	/* shell command after a renewal */
	char *hook_on_failure;	/* shell command after a failed one */
	long hook_timeout_seconds;	/* killed after: 60 */
	/* every [profile.*] key, in file order */
	gm_config_kv *profile_kv;
	size_t n_profile_kv;
	/* where each value came from: files[origin[i]] for gm_config_keys[i],
	 * -1 for the default */
	char *files[GM_CONFIG_MAX_FILES];
	size_t n_files;
	signed char origin[GM_CONFIG_N_KEYS];
} gm_config;

void gm_config_init(gm_config *cfg);	/* defaults */
/* Reads path into cfg, over what is there; a missing file is an error only
 * when required. */
int gm_config_load(gm_config *cfg, const char *path, int required,
		   gm_error *err);
/* Reads the system file, the user's file, then explicit (--config; NULL:
 * $GMRENEW_CONFIG when set), in that order, then gm_config_resolve(). */
int gm_config_load_all(gm_config *cfg, const char *explicit_path,
		       gm_error *err);
/* Fills the values that default to another key's, once all files are
 * read: chain_bundle to ca_bundle. */
void gm_config_resolve(gm_config *cfg);
/* Parses INI text (for tests and fuzzing). */
int gm_config_load_string(gm_config *cfg, const char *text, gm_error *err);
void gm_config_release(gm_config *cfg);
/* The files gm_config_load_all() looks for: system, user. Caller frees. */
char *gm_config_system_path(void);
char *gm_config_user_path(void);
/* The value of gm_config_keys[i] as text, NULL when unset. Caller frees. */
char *gm_config_value_text(const gm_config *cfg, size_t i);

/* What to do when only offline renewal is possible, as the CA's guide
 * says (N_(): translate with gm_text() or _()). */
extern const char gm_advice_offline[];

/* Replacing a file whole (file.c): a unique temporary file next to path,
 * filled, synced, closed, renamed over path, the directory synced; what
 * names the file in messages ("journal", "metrics file"). fill returns 0,
 * or -1 on a write error. */
typedef int (*gm_file_fill)(FILE *f, void *ctx);
/* All of buf to fd, across short writes and EINTR; -1 with errno. */
int gm_write_all(int fd, const void *buf, size_t len);
int gm_file_replace(const char *path, const char *what, mode_t mode,
		    gm_file_fill fill, void *ctx, gm_error *err);
/* fsync of a directory (a rename or a new file in it made durable); -1 with
 * errno. */
int gm_sync_dir(const char *dir);
int gm_file_replace_text(const char *path, const char *what, mode_t mode,
			 const char *text, gm_error *err);

/* fn(ctx, i) for every i below n, each once, on up to one thread per CPU
 * this process may run on (at most GM_PARALLEL_MAX), when n is at least
 * serial_below; else, or when no thread can be started, in the caller's
 * thread. fn must touch only what belongs to item i and what is safe to
 * share; it runs with every signal blocked on the other threads. Returns
 * when all are done. */
#define GM_PARALLEL_MAX 8
void gm_parallel_for(size_t n, size_t serial_below,
		     void (*fn)(void *ctx, size_t i), void *ctx);
/* The threads gm_parallel_for would use for n items. */
unsigned gm_parallel_threads(size_t n, size_t serial_below);

#endif
