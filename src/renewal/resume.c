/*
 * resume.c - finding this machine's journal of a renewal that did not
 * finish, so that a plain `renew` goes on with it instead of asking the
 * service for a new one.
 */
#include <string.h>
#include <sys/stat.h>

#include "renewal_internal.h"

static int str_is(const cJSON *doc, const char *key, const char *want)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);

	return cJSON_IsString(v) && !strcmp(v->valuestring, want);
}

struct unfinished {
	const char *serial, *old_sha256;
	char code[24];
	time_t newest;
};

/* A journal of an unfinished renewal of old_sha256 on the token with
 * serial: the newest one's code is kept. */
static int unfinished(const char *path, const struct stat *st,
		      const cJSON *doc, void *ctx)
{
	struct unfinished *u = ctx;
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(doc, "update_code");
	char code[24];

	(void)path;
	if (str_is(doc, "token_serial", u->serial) &&
	    str_is(doc, "old_sha256", u->old_sha256) &&
	    !gm_journal_closed(doc) && cJSON_IsString(c) &&
	    gm_update_code_normalize(c->valuestring, code, NULL) == 0 &&
	    (!u->code[0] || st->st_mtime > u->newest)) {
		memcpy(u->code, code, sizeof(u->code));
		u->newest = st->st_mtime;
	}
	return 0;
}

int gm_journal_find_unfinished(const char *state_dir, const char *serial,
			       const char *old_sha256, char code[24])
{
	struct unfinished u = { serial, old_sha256, "", 0 };

	gm_journal_each(state_dir, GM_JOURNALS_OPEN, unfinished, &u);
	memcpy(code, u.code, sizeof(u.code));
	return u.code[0] ? 0 : -1;
}
