/*
 * fuzz_journal.c - the journal reader (src/renewal/state.c): a journal file
 * as a planted or damaged file could hold it, read by gm_journal_load and
 * gm_journal_find_previous, and every fact the renewal takes from it
 * (gm_journal_get of each key; the old certificate's hex, decoded and
 * parsed as the engine does). No input may crash, leak or read out of
 * bounds.
 *
 * Each run writes the input as <state>/journal/K7QF-3MZP-W9CD-HX2N.json in
 * a private directory (on /dev/shm when there is one) and empties the
 * directory afterwards, whatever the reader made of it.
 *
 * Seeds: tests/fuzz/corpus/journal (journals of every step, as gmrenew
 * writes them and as version 1 wrote them; made by make_seeds.py). Built and run by scripts/fuzz.sh.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/renewal/renewal_internal.h"
#include "fuzz_util.h"

#define CODE "K7QF-3MZP-W9CD-HX2N"

static char state_dir[256];
static char journal_dir[300];

/* Every key the renewal reads from a journal. */
static const char *const keys[] = {
	"version", "update_code", "last_step", "token_serial", "old_sha256",
	"old_label", "old_id", "old_certificate", "subject", "pending_label",
	"new_id", "new_sha256", "steps", "finished", "abandoned", NULL
};

static void empty_dir(void)
{
	DIR *d = opendir(journal_dir);
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dirfd(d), e->d_name, 0);
	if (d)
		closedir(d);
}

static void cleanup(void)
{
	empty_dir();
	rmdir(journal_dir);
	rmdir(state_dir);
}

static void setup(void)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	snprintf(state_dir, sizeof(state_dir), "%s/gmrenew-fuzz-XXXXXX", base);
	if (!mkdtemp(state_dir))
		abort();
	snprintf(journal_dir, sizeof(journal_dir), "%s/journal", state_dir);
	if (mkdir(journal_dir, 0700) < 0)
		abort();
	atexit(cleanup);
}

static void write_journal(const uint8_t *data, size_t size)
{
	char path[400];
	int fd;

	snprintf(path, sizeof(path), "%s/%s.json", journal_dir, CODE);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		abort();
	close(fd);
}

static void old_certificate(const char *hex)
{
	unsigned char *der;
	size_t len;
	gm_cert_facts f;

	if (!hex || gm_unhex(hex, &der, &len))
		return;
	if (gm_cert_facts_parse(der, len, &f, NULL) == 0)
		gm_cert_facts_release(&f);
	free(der);
}

static void read_facts(void)
{
	gm_journal j;
	size_t i;
	const char *fresh = NULL;
	unsigned char *der = NULL;
	size_t der_len = 0;

	if (gm_journal_load(state_dir, CODE, &j) < 0)
		return;
	for (i = 0; keys[i]; i++) {
		const char *v = gm_journal_get(&j, keys[i]);

		if (v && strlen(v) > (1 << 20))
			abort();
	}
	old_certificate(gm_journal_get(&j, "old_certificate"));
	(void)gm_journal_finished(j.doc);
	fresh = gm_journal_get(&j, "new_sha256");
	if (fresh) {
		char sha[65];

		/* the copy is gone when the reader is done: keep the key */
		snprintf(sha, sizeof(sha), "%s", fresh);
		gm_journal_close(&j);
		if (gm_journal_find_previous(state_dir, sha, &der, &der_len) == 0)
			free(der);
		return;
	}
	gm_journal_close(&j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!state_dir[0])
		setup();
	write_journal(data, size);
	read_facts();
	empty_dir();
	return 0;
}
