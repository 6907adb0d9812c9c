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
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "gmrenew/cli.h"

#define PIN_MAX 256

/* GMRENEW_PIN, taken out of the environment first thing in main. */
static char *env_pin;
static int env_pin_given;

void gm_secrets_protect(void)
{
	struct rlimit none = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		gm_debug("cannot turn core dumps off");
	if (setrlimit(RLIMIT_CORE, &none))
		gm_debug("cannot set the core size limit to 0");
}

void gm_pin_env_take(void)
{
	char *value = getenv("GMRENEW_PIN");

	if (!value)
		return;
	gm_secrets_protect();
	env_pin = gm_xstrdup(value);
	env_pin_given = 1;
	/* the process's copy of the environment, which /proc/PID/environ
	 * shows: wiped in place, then the variable removed */
	gm_wipe(value, strlen(value));
	unsetenv("GMRENEW_PIN");
}

void gm_pin_env_release(void)
{
	gm_free_secret(env_pin);
	env_pin = NULL;
}

int gm_have_terminal(void)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	close(fd);
	return isatty(STDIN_FILENO);
}

/* Why a secret line was refused. */
enum { LINE_TOO_LONG = -1, LINE_NUL = -2, LINE_READ_ERROR = -3 };

/* Reads one line (without its newline) from fd into a new wiped-on-free
 * buffer. A NUL byte would cut the PIN short where it is used, and a read
 * error would leave half a PIN: both are refused. */
static int read_secret_line(int fd, char **out)
{
	char *buf = gm_xmalloc(PIN_MAX);
	size_t n = 0;

	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);
		int bad = 0;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			bad = LINE_READ_ERROR;
		else if (r == 0 || c == '\n')
			break;
		else if (c == '\0')
			bad = LINE_NUL;
		else if (n + 1 >= PIN_MAX)
			bad = LINE_TOO_LONG;
		if (bad) {
			gm_freezero(buf, PIN_MAX);
			return bad;
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
	int r = read_secret_line(fd, pin);

	if (r == LINE_NUL)
		return gm_fail(err, GM_EXIT_USAGE, "put the PIN alone on the first line",
			       "the PIN from %s holds a NUL byte", what);
	if (r == LINE_READ_ERROR)
		return gm_fail(err, GM_EXIT_USAGE, "check the PIN source",
			       "cannot read the PIN from %s: %s", what,
			       strerror(errno));
	if (r)
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

/* The PIN from GMRENEW_PIN: handed over once, then forgotten here. */
static int pin_from_env(char **pin, gm_error *err)
{
	size_t len = env_pin ? strlen(env_pin) : 0;

	if (!len) {
		gm_pin_env_release();
		return gm_fail(err, GM_EXIT_USAGE, "set it to the PIN or unset it",
			       "GMRENEW_PIN is empty");
	}
	if (len >= PIN_MAX) {
		gm_pin_env_release();
		return gm_fail(err, GM_EXIT_USAGE, NULL,
			       "GMRENEW_PIN is longer than %d bytes", PIN_MAX - 1);
	}
	*pin = env_pin;		/* the caller owns it now */
	env_pin = NULL;
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
	char *safe;

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
	safe = gm_sanitize(prompt);	/* it names the token's label */
	if (write(fd, safe, strlen(safe)) < 0)
		gm_debug("cannot write the prompt");
	free(safe);
	r = read_secret_line(fd, pin);
	tcsetattr(fd, TCSANOW, &saved_tty);
	tty_fd = -1;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (write(fd, "\n", 1) < 0)
		gm_debug("cannot end the prompt line");
	close(fd);
	if (r == LINE_NUL)
		return gm_fail(err, GM_EXIT_USAGE, NULL,
			       "the PIN typed holds a NUL byte (Ctrl-@)");
	if (r == LINE_READ_ERROR)
		return gm_fail(err, GM_EXIT_USAGE, NULL,
			       "cannot read the PIN from the terminal");
	if (r)
		return gm_fail(err, GM_EXIT_USAGE, NULL, "the PIN typed is too long");
	return 0;
}

int gm_pin_source_scripted(const gm_pin_source *src)
{
	return src->fd >= 0 || src->file || env_pin_given;
}

int gm_prompt_pin(const gm_pin_source *src, const char *prompt, char **pin,
		  gm_error *err)
{
	*pin = NULL;
	gm_secrets_protect();
	if (src->fd >= 0) {
		char what[48];

		snprintf(what, sizeof(what), _("file descriptor %ld"), src->fd);
		return pin_from_fd((int)src->fd, what, pin, err);
	}
	if (src->file)
		return pin_from_file(src->file, pin, err);
	if (env_pin_given)
		return pin_from_env(pin, err);
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
	gm_fputs(question, tty);
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
