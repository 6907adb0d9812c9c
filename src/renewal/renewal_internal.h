/* renewal_internal.h - shared between the files of src/renewal/. */
#ifndef GMRENEW_RENEWAL_INTERNAL_H
#define GMRENEW_RENEWAL_INTERNAL_H

#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "gmrenew/renewal.h"

/*
 * The journal of one renewal: <state_dir>/journal/<CODE>.json, mode 0600,
 * rewritten atomically after every step, and moved to
 * <state_dir>/journal/done/ once closed. It holds what gmrenew must not
 * learn from the service: the certificate being renewed (its fingerprint,
 * label, CKA_ID and a copy), the token's serial, the pending label, the new
 * key's CKA_ID and the fingerprint of the certificate gmrenew installed;
 * "finished" once the old pair is retired, "abandoned" when the order can
 * never finish. Resuming goes by the service's state and a fresh read of
 * the token, checked against these facts; no step list (version 1
 * journals had one: read, and rewritten without it). Never the PIN.
 */
typedef struct gm_journal {
	char path[512];
	cJSON *doc;
	char damaged[600];	/* a damaged journal found and moved here */
	char *written;		/* the text this process last wrote to path
				 * (owned): the same text is not written
				 * again, the file holds it already */
} gm_journal;

/* Opens the journal of code, creating it (and the directories) if new. The
 * state directory must be the user's own and private (GM_EXIT_USAGE). A
 * damaged journal is moved aside (damaged names where) and a new one
 * started. Writes: unique temporary file, fsync, rename, fsync of the
 * directory. */
int gm_journal_open(const char *state_dir, const char *code,
		    gm_journal *out, gm_error *err);
/* Creates the state directory if missing and refuses it (GM_EXIT_USAGE)
 * when it is a symlink, another user's, or writable by others. */
int gm_state_dir_check(const char *state_dir, gm_error *err);
/* in as a safe file name in out (n bytes). */
void gm_state_file_name(const char *in, char *out, size_t n);
/* Reads an existing journal; -1 without error text when there is none or it
 * is damaged (left where it is: gm_journal_open moves it aside). */
int gm_journal_load(const char *state_dir, const char *code, gm_journal *out);
void gm_journal_close(gm_journal *j);
/* Records a string fact ("old_sha256", ...). */
void gm_journal_set(gm_journal *j, const char *key, const char *value);
const char *gm_journal_get(const gm_journal *j, const char *key);
/* Marks the renewal finished (written with the next gm_journal_write). */
void gm_journal_finish(gm_journal *j);
/* Whether a journal document says its renewal is finished ("finished", or
 * a version 1 journal's last step "retired"). */
int gm_journal_finished(const cJSON *doc);
/* Finished, or abandoned: the renewal will not go on. */
int gm_journal_closed(const cJSON *doc);
/* Writes the journal, unless its text is what this process wrote last
 * (the file holds it, synced); a closed one is then moved to
 * journal/done/ (path follows). */
int gm_journal_write(gm_journal *j, gm_error *err);

/* Walking the journals (state.c): each one that is a plain file of at most
 * 1 MiB holding a JSON object (damaged ones and links are passed over) is
 * given to visit, which returns nonzero to stop the walk. */
typedef int (*gm_journal_visit)(const char *path, const struct stat *st,
				const cJSON *doc, void *ctx);
enum {
	GM_JOURNALS_OPEN = 0,	/* journal/: renewals that may go on; a closed
				 * one seen there is moved to journal/done/ */
	GM_JOURNALS_ALL = 1	/* journal/done/ first, then journal/ */
};
/* What visit stopped with; 0 when it saw them all. */
int gm_journal_each(const char *state_dir, int which, gm_journal_visit visit,
		    void *ctx);

#endif
