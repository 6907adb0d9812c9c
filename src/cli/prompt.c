/*
 * prompt.c - asking the user: the PIN (never from the command line), yes/no
 * questions and choices on the terminal. Secrets live in heap buffers that
 * are wiped before they are freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "gmrenew/cli.h"

#define PIN_MAX 256

int gm_have_terminal(void)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	close(fd);
	return isatty(STDIN_FILENO);
}

/* Reads one line (without its newline) from fd into a new wiped-on-free
 * buffer. */
static int read_secret_line(int fd, char **out)
{
	char *buf = gm_xmalloc(PIN_MAX);
	size_t n = 0;

	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n')
			break;
		if (n + 1 >= PIN_MAX) {
			gm_freezero(buf, PIN_MAX);
			return -1;
		}
		buf[n++] = c;
	}
	if (n && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*out = buf;
	return 0;
}

static int pin_from_fd(int fd, const char *what, char **pin, gm_error *err)
{
	if (read_secret_line(fd, pin))
		return gm_fail(err, GM_EXIT_USAGE, "put the PIN alone on the first line",
			       "the PIN from %s is longer than %d bytes", what,
			       PIN_MAX - 1);
	if (!**pin) {
		gm_free_secret(*pin);
		*pin = NULL;
		return gm_fail(err, GM_EXIT_USAGE, "put the PIN on the first line",
			       "no PIN in %s", what);
	}
	return 0;
}

static int pin_from_file(const char *path, char **pin, gm_error *err)
{
	struct stat st;
	char what[300];
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return gm_fail(err, GM_EXIT_USAGE, "check --pin-file",
			       "cannot open PIN file '%s': %s", path,
			       strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077))
		gm_cli_warn("PIN file '%s' can be read by other users; "
			    "chmod 600 it", path);
	snprintf(what, sizeof(what), _("PIN file '%s'"), path);
	r = pin_from_fd(fd, what, pin, err);
	close(fd);
	return r;
}

static int pin_from_env(char *value, char **pin, gm_error *err)
{
	size_t len = strlen(value);

	if (!len)
		return gm_fail(err, GM_EXIT_USAGE, "set it to the PIN or unset it",
			       "GMRENEW_PIN is empty");
	if (len >= PIN_MAX)
		return gm_fail(err, GM_EXIT_USAGE, NULL,
			       "GMRENEW_PIN is longer than %d bytes", PIN_MAX - 1);
	*pin = gm_xmemdup(value, len);
	gm_wipe(value, len);	/* our copy of the environment */
	unsetenv("GMRENEW_PIN");
	return 0;
}

static struct termios saved_tty;
static volatile sig_atomic_t tty_fd = -1;

static void restore_tty_on_signal(int sig)
{
	if (tty_fd >= 0)
		tcsetattr(tty_fd, TCSANOW, &saved_tty);
	signal(sig, SIG_DFL);
	raise(sig);
}

static int pin_from_tty(const char *prompt, char **pin, gm_error *err)
{
	struct termios noecho;
	struct sigaction sa = { .sa_handler = restore_tty_on_signal }, old_int,
			 old_term;
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC), r;

	if (fd < 0 || tcgetattr(fd, &saved_tty)) {
		if (fd >= 0)
			close(fd);
		return gm_fail(err, GM_EXIT_USAGE,
			       "give the PIN with --pin-file FILE, --pin-fd N or "
			       "the GMRENEW_PIN environment variable",
			       "the PIN is needed and there is no terminal to ask");
	}
	noecho = saved_tty;
	noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	noecho.c_lflag |= ICANON;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	tty_fd = fd;
	/* Echo goes off before the prompt shows, so that nothing typed after
	 * the prompt can be echoed or thrown away. */
	tcsetattr(fd, TCSANOW, &noecho);
	if (write(fd, prompt, strlen(prompt)) < 0)
		gm_debug("cannot write the prompt");
	r = read_secret_line(fd, pin);
	tcsetattr(fd, TCSANOW, &saved_tty);
	tty_fd = -1;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (write(fd, "\n", 1) < 0)
		gm_debug("cannot end the prompt line");
	close(fd);
	if (r)
		return gm_fail(err, GM_EXIT_USAGE, NULL, "the PIN typed is too long");
	return 0;
}

int gm_pin_source_scripted(const gm_pin_source *src)
{
	return src->fd >= 0 || src->file || getenv("GMRENEW_PIN");
}

int gm_prompt_pin(const gm_pin_source *src, const char *prompt, char **pin,
		  gm_error *err)
{
	char *env = getenv("GMRENEW_PIN");

	*pin = NULL;
	if (src->fd >= 0) {
		char what[48];

		snprintf(what, sizeof(what), _("file descriptor %ld"), src->fd);
		return pin_from_fd((int)src->fd, what, pin, err);
	}
	if (src->file)
		return pin_from_file(src->file, pin, err);
	if (env)
		return pin_from_env(env, pin, err);
	if (!gm_have_terminal())
		return gm_fail(err, GM_EXIT_USAGE,
			       "give the PIN with --pin-file FILE, --pin-fd N or "
			       "the GMRENEW_PIN environment variable",
			       "the PIN is needed and there is no terminal to ask");
	return pin_from_tty(prompt, pin, err);
}

char *gm_prompt_line(const char *question)
{
	FILE *tty;
	char line[256];

	if (!gm_have_terminal())
		return NULL;
	tty = fopen("/dev/tty", "r+");
	if (!tty)
		return NULL;
	fputs(question, tty);
	fflush(tty);
	if (!fgets(line, sizeof(line), tty)) {
		fclose(tty);
		return NULL;
	}
	fclose(tty);
	line[strcspn(line, "\r\n")] = '\0';
	return gm_xstrdup(line);
}

int gm_prompt_yes(const char *question)
{
	char *answer = gm_prompt_line(question);
	int yes = answer && (!strcasecmp(answer, "y") ||
			     !strcasecmp(answer, "yes"));

	free(answer);
	return yes;
}
