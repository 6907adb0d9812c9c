/*
 * resume.c - finding this machine's journal of a renewal that did not
 * finish, so that a plain `renew` goes on with it instead of asking the
 * service for a new one.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "renewal_internal.h"

static int str_is(const cJSON *doc, const char *key, const char *want)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);

	return cJSON_IsString(v) && !strcmp(v->valuestring, want);
}

/* The journal at path is of an unfinished renewal of old_sha256 on the
 * token with serial: its code into code. */
static int unfinished(const char *path, const char *serial,
		      const char *old_sha256, char code[24])
{
	unsigned char *text;
	size_t len;
	cJSON *doc;
	const cJSON *c;
	int r = -1;

	if (gm_read_file(path, 1 << 20, &text, &len, NULL))
		return -1;
	doc = cJSON_ParseWithLength((const char *)text, len);
	free(text);
	c = cJSON_GetObjectItemCaseSensitive(doc, "update_code");
	if (cJSON_IsObject(doc) && str_is(doc, "token_serial", serial) &&
	    str_is(doc, "old_sha256", old_sha256) &&
	    !gm_journal_finished(doc) &&
	    !cJSON_GetObjectItemCaseSensitive(doc, "abandoned") &&
	    cJSON_IsString(c) &&
	    gm_update_code_normalize(c->valuestring, code, NULL) == 0)
		r = 0;
	cJSON_Delete(doc);
	return r;
}

int gm_journal_find_unfinished(const char *state_dir, const char *serial,
			       const char *old_sha256, char code[24])
{
	char *dir = gm_xasprintf("%s/journal", state_dir), found[24] = "";
	DIR *d = opendir(dir);
	struct dirent *e;
	time_t newest = 0;

	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		struct stat st;
		char *path;

		if (n < 6 || strcmp(e->d_name + n - 5, ".json"))
			continue;
		path = gm_xasprintf("%s/%s", dir, e->d_name);
		if (!lstat(path, &st) && S_ISREG(st.st_mode) &&
		    (!found[0] || st.st_mtime > newest) &&
		    !unfinished(path, serial, old_sha256, code)) {
			memcpy(found, code, sizeof(found));
			newest = st.st_mtime;
		}
		free(path);
	}
	if (d)
		closedir(d);
	free(dir);
	memcpy(code, found, sizeof(found));
	return found[0] ? 0 : -1;
}
