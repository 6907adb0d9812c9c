/*
 * output.c - what the user sees: errors with their fix, notes and warnings on
 * stderr, JSON documents on stdout, and table cells measured by display
 * width so that Chinese text lines up.
 *
 * Every string printed comes through here and is made safe for a terminal
 * once, whatever its origin (token, certificate, service, file system): the
 * gm_printf family prints its format as it is and every %s argument
 * sanitised; JSON is escaped so that it is valid UTF-8 with no control or
 * bidi character left raw.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "gmrenew/cli.h"
#include "fleet_internal.h"

static size_t utf8_next(const unsigned char *s, unsigned long *cp);
static int unsafe_cp(unsigned long c);

/* ---- sanitising ---- */

/* C0, DEL, C1; bidi embeddings, overrides, isolates and marks; line and
 * paragraph separators. */
static int unsafe_cp(unsigned long c)
{
	return c < 0x20 || (c >= 0x7f && c < 0xa0) || c == 0x061c ||
	       c == 0x200e || c == 0x200f || (c >= 0x2028 && c <= 0x202e) ||
	       (c >= 0x2066 && c <= 0x2069);
}

/* How one character is written when it is not kept as it is: the escape
 * into buf (at least 16 bytes), or 0 to keep it. bad: a byte that is not
 * valid UTF-8 (cp is then U+FFFD). */
typedef int (*escape_fn)(const unsigned char *p, unsigned long cp, int bad,
			 char *buf, size_t n);

/* A copy of s with each character either kept or escaped by esc. */
static char *escape_text(const char *s, escape_fn esc)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t cap = strlen((const char *)p) * 6 + 1, n = 0;
	char *out = gm_xmalloc(cap);
	unsigned long cp;

	while (*p) {
		size_t len = utf8_next(p, &cp);
		int bad = cp == 0xfffd && len == 1 && p[0] >= 0x80;
		char buf[16];

		if (esc(p, cp, bad, buf, sizeof(buf))) {
			n += (size_t)snprintf(out + n, cap - n, "%s", buf);
		} else {
			memcpy(out + n, p, len);
			n += len;
		}
		p += len;
	}
	out[n] = '\0';
	return out;
}

/* For a terminal: bad bytes and C0 and DEL as \x and two hex digits, the
 * rest as \u and four hex digits. */
static int terminal_escape(const unsigned char *p, unsigned long cp, int bad,
			   char *buf, size_t n)
{
	if (bad)
		snprintf(buf, n, "\\x%02x", p[0]);
	else if (cp < 0x80 && unsafe_cp(cp))
		snprintf(buf, n, "\\x%02lx", cp);
	else if (unsafe_cp(cp))
		snprintf(buf, n, "\\u%04lx", cp);
	else
		return 0;
	return 1;
}

/* In JSON text (cJSON escapes C0 itself): bad bytes as \ufffd, DEL, C1,
 * bidi and separators as \u and four hex digits. */
static int json_escape(const unsigned char *p, unsigned long cp, int bad,
		       char *buf, size_t n)
{
	(void)p;
	if (bad)
		snprintf(buf, n, "\\ufffd");
	else if (cp >= 0x7f && unsafe_cp(cp))
		snprintf(buf, n, "\\u%04lx", cp);
	else
		return 0;
	return 1;
}

char *gm_sanitize(const char *s)
{
	return escape_text(s, terminal_escape);
}

/* One conversion spec (from '%' to its conversion character) with any '*'
 * already replaced by its number, printed with the next argument. */
static void print_one(FILE *f, const char *spec, char conv, const char *len,
		      va_list *ap)
{
	if (conv == 's') {
		char *safe = gm_sanitize(va_arg(*ap, const char *));

		fprintf(f, spec, safe);
		free(safe);
	} else if (strchr("diouxXc", conv)) {
		if (!strcmp(len, "l"))
			fprintf(f, spec, va_arg(*ap, long));
		else if (!strcmp(len, "ll"))
			fprintf(f, spec, va_arg(*ap, long long));
		else if (!strcmp(len, "z"))
			fprintf(f, spec, va_arg(*ap, size_t));
		else if (!strcmp(len, "j"))
			fprintf(f, spec, va_arg(*ap, intmax_t));
		else if (!strcmp(len, "t"))
			fprintf(f, spec, va_arg(*ap, ptrdiff_t));
		else
			fprintf(f, spec, va_arg(*ap, int));
	} else if (strchr("feEgGaA", conv)) {
		fprintf(f, spec, va_arg(*ap, double));
	} else if (conv == 'p') {
		fprintf(f, spec, va_arg(*ap, void *));
	}
}

/* Parses the spec at fmt ('%' first) into spec; returns its length. */
static size_t take_spec(const char *fmt, char *spec, size_t n, char *len,
			va_list *ap)
{
	size_t i = 1, o = 1, l = 0;

	spec[0] = '%';
	while (fmt[i] && strchr("-+ #0'", fmt[i]) && o + 1 < n)
		spec[o++] = fmt[i++];
	while (fmt[i] && strchr("0123456789.*", fmt[i]) && o + 12 < n) {
		if (fmt[i] == '*')
			o += (size_t)snprintf(spec + o, n - o, "%d",
					      va_arg(*ap, int));
		else
			spec[o++] = fmt[i];
		i++;
	}
	while (fmt[i] && strchr("hlzjtL", fmt[i]) && l < 2 && o + 1 < n) {
		len[l++] = fmt[i];
		spec[o++] = fmt[i++];
	}
	len[l] = '\0';
	if (fmt[i] && o + 1 < n)
		spec[o++] = fmt[i++];
	spec[o] = '\0';
	return i;
}

void gm_vfprintf(FILE *f, const char *fmt, va_list ap)
{
	va_list args;

	va_copy(args, ap);
	while (*fmt) {
		size_t lit = strcspn(fmt, "%");
		char spec[64], len[3];
		size_t used;

		fwrite(fmt, 1, lit, f);
		fmt += lit;
		if (!*fmt)
			break;
		if (fmt[1] == '%') {
			fputc('%', f);
			fmt += 2;
			continue;
		}
		used = take_spec(fmt, spec, sizeof(spec), len, &args);
		print_one(f, spec, fmt[used - 1], len, &args);
		fmt += used;
	}
	va_end(args);
}

void gm_fprintf(FILE *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gm_vfprintf(f, fmt, ap);
	va_end(ap);
}

void gm_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gm_vfprintf(stdout, fmt, ap);
	va_end(ap);
}

void gm_fputs(const char *s, FILE *f)
{
	char *safe = gm_sanitize(s);

	fputs(safe, f);
	free(safe);
}

/* JSON text as cJSON printed it, with what cJSON leaves raw escaped: DEL,
 * C1, bidi and separators as \u and four hex digits, invalid UTF-8 as
 * \ufffd. Outside
 * strings JSON text is ASCII, so only string contents change. */
char *gm_json_text_safe(const char *text)
{
	return escape_text(text, json_escape);
}

static int exit_code_of(const gm_error *err)
{
	return err->code ? (int)err->code : GM_EXIT_FAILED;
}

cJSON *gm_cli_error_json(const gm_error *err)
{
	cJSON *e = cJSON_CreateObject();

	cJSON_AddNumberToObject(e, "exit_code", exit_code_of(err));
	cJSON_AddStringToObject(e, "message", err->msg);
	cJSON_AddStringToObject(e, "reason", gm_error_reason_name(err));
	gm_json_add_str(e, "code", gm_error_code(err));
	if (err->fix[0])
		cJSON_AddStringToObject(e, "fix", err->fix);
	else
		cJSON_AddNullToObject(e, "fix");
	return e;
}

void gm_cli_error_text(const gm_error *err)
{
	/* not due is an answer, not a failure */
	gm_print_wrapped(stderr, exit_code_of(err) == GM_EXIT_NOT_DUE ?
			 _("gmrenew: nothing to do: ") : _("gmrenew: error: "),
			 0, "%s", err->msg);
	if (err->fix[0])
		gm_print_wrapped(stderr, _("gmrenew: what to do: "), 0, "%s",
				 err->fix);
}

int gm_cli_report_error(gm_cli *cli, const gm_error *err)
{
	gm_outcome_error(err);
	if (cli && cli->json) {
		cJSON *doc = cJSON_CreateObject();

		cJSON_AddItemToObject(doc, "error", gm_cli_error_json(err));
		cJSON_AddBoolToObject(doc, "ok", 0);
		gm_cli_print_json(doc);
	}
	gm_cli_error_text(err);
	return exit_code_of(err);
}

void gm_json_add_str(cJSON *o, const char *key, const char *value)
{
	if (value)
		cJSON_AddStringToObject(o, key, value);
	else
		cJSON_AddNullToObject(o, key);
}

void gm_cli_write_json(FILE *f, cJSON *doc, int one_line)
{
	char *text;

	if (f == stdout)
		gm_outcome_json(doc);	/* the outcome contract's members */
	text = one_line ? cJSON_PrintUnformatted(doc) : cJSON_Print(doc);
	if (text) {
		char *safe = gm_json_text_safe(text);

		fputs(safe, f);
		fputc('\n', f);
		free(safe);
	}
	cJSON_free(text);
	cJSON_Delete(doc);
}

/* Messages wrap on a terminal; elsewhere (a log, a pipe) each stays one
 * line, for grep and for log readers. */
static size_t message_width(FILE *f)
{
	int fd = fileno(f);

	return fd >= 0 && isatty(fd) ? gm_term_width(f) : (size_t)-1;
}

static void vprint_wrapped(FILE *f, const char *prefix, size_t indent,
			   const char *fmt, va_list ap)
{
	char *text;
	va_list copy;
	int n;

	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		return;
	text = gm_xmalloc((size_t)n + 1);
	vsnprintf(text, (size_t)n + 1, fmt, ap);
	fputs(prefix, f);
	gm_wrap_line(f, text, gm_display_width(prefix), indent,
		     message_width(f));
	free(text);
}

void gm_print_wrapped(FILE *f, const char *prefix, size_t indent,
		      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_wrapped(f, prefix, indent, fmt, ap);
	va_end(ap);
}

void gm_cli_print_json(cJSON *doc)
{
	gm_cli_write_json(stdout, doc, 0);
}

void gm_cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_wrapped(stderr, _("gmrenew: warning: "), 0, _(fmt), ap);
	va_end(ap);
}

void gm_cli_note(gm_cli *cli, const char *fmt, ...)
{
	va_list ap;

	(void)cli;
	va_start(ap, fmt);
	vprint_wrapped(stderr, "gmrenew: ", 0, _(fmt), ap);
	va_end(ap);
}

/* Decodes one UTF-8 sequence strictly (no overlong forms, surrogates or
 * code points above U+10FFFF); returns its length, 1 with U+FFFD for a bad
 * byte. */
static size_t utf8_next(const unsigned char *s, unsigned long *cp)
{
	static const unsigned long min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t len, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, *cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, *cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, *cp = s[0] & 0x07;
	else
		return *cp = 0xfffd, 1;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return *cp = 0xfffd, 1;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	if (*cp < min[len] || *cp > 0x10ffff ||
	    (*cp >= 0xd800 && *cp <= 0xdfff))
		return *cp = 0xfffd, 1;
	return len;
}

/* East Asian wide and fullwidth ranges (Unicode UAX #11, the common part). */
static int wide(unsigned long c)
{
	static const unsigned long r[][2] = {
		{ 0x1100, 0x115f }, { 0x2e80, 0x303e }, { 0x3041, 0x33ff },
		{ 0x3400, 0x4dbf }, { 0x4e00, 0x9fff }, { 0xa000, 0xa4cf },
		{ 0xac00, 0xd7a3 }, { 0xf900, 0xfaff }, { 0xfe10, 0xfe19 },
		{ 0xfe30, 0xfe6f }, { 0xff00, 0xff60 }, { 0xffe0, 0xffe6 },
		{ 0x1f300, 0x1f64f }, { 0x1f900, 0x1f9ff },
		{ 0x20000, 0x3fffd },
	};
	size_t i;

	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		if (c >= r[i][0] && c <= r[i][1])
			return 1;
	return 0;
}

static size_t char_width(unsigned long c)
{
	if (c < 0x20 || (c >= 0x7f && c < 0xa0) || (c >= 0x300 && c < 0x370) ||
	    (c >= 0x200b && c <= 0x200f) || c == 0xfeff)
		return 0;
	return wide(c) ? 2 : 1;
}

size_t gm_display_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0;
	unsigned long cp;

	while (p && *p) {
		p += utf8_next(p, &cp);
		w += char_width(cp);
	}
	return w;
}

static int control(unsigned long c)
{
	return unsafe_cp(c) || c == 0xfffd;
}

/* In a cell a control character is shown as '?' (text from a certificate
 * or a token must not move the cursor). */
static size_t cell_char_width(unsigned long c)
{
	return control(c) ? 1 : char_width(c);
}

void gm_print_cell(FILE *f, const char *s, size_t width)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	const unsigned char *q;
	size_t used = 0, total = 0;
	unsigned long cp;

	for (q = p; *q;) {
		q += utf8_next(q, &cp);
		total += cell_char_width(cp);
	}
	while (*p) {
		size_t len = utf8_next(p, &cp), cw = cell_char_width(cp);

		if (total > width && used + cw + 1 > width) {
			if (used < width) {
				fputs("\u2026", f);	/* one column */
				used++;
			}
			break;
		}
		if (used + cw > width)
			break;
		if (control(cp))
			fputc('?', f);
		else
			fwrite(p, 1, len, f);
		used += cw;
		p += len;
	}
	for (; used < width; used++)
		fputc(' ', f);
}

size_t gm_term_width(FILE *f)
{
	struct winsize ws;
	int fd = fileno(f);

	if (fd >= 0 && isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col >= 20)
		return ws.ws_col;
	return 80;
}

/* Prints a word too long for any line (a path) in pieces. */
static void hard_break(FILE *f, const char *word, size_t *col, size_t indent,
		       size_t width)
{
	const unsigned char *p = (const unsigned char *)word;
	unsigned long cp;

	while (*p) {
		size_t len = utf8_next(p, &cp), w = char_width(cp);

		if (*col + w > width && *col > indent) {
			fprintf(f, "\n%*s", (int)indent, "");
			*col = indent;
		}
		fwrite(p, 1, len, f);
		*col += w;
		p += len;
	}
}

/* The end of the next piece that may not be split: a run of non-space
 * characters, or one wide (CJK) character, which may break anywhere. */
static size_t piece_len(const char *p, size_t *w)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t n = 0;
	unsigned long cp;

	*w = 0;
	while (s[n] && s[n] != ' ' && s[n] != '\n') {
		size_t len = utf8_next(s + n, &cp);

		if (wide(cp)) {
			if (n == 0) {
				*w = 2;
				n = len;
			}
			break;
		}
		*w += char_width(cp);
		n += len;
	}
	return n;
}

/* text with each line made safe for a terminal (gm_sanitize), the line
 * breaks kept. Caller frees. */
static char *sanitize_lines(const char *text)
{
	char *out = gm_xstrdup(""), *line, *safe, *joined;
	const char *p = text;

	for (;;) {
		size_t n = strcspn(p, "\n");

		line = gm_xmemdup(p, n + 1);
		line[n] = '\0';
		safe = gm_sanitize(line);
		joined = gm_xasprintf("%s%s%s", out, safe, p[n] ? "\n" : "");
		free(out);
		free(safe);
		free(line);
		out = joined;
		if (!p[n])
			return out;
		p += n + 1;
	}
}

/* Wraps safe, text already made safe for a terminal. */
static void wrap_safe(FILE *f, const char *safe, size_t col, size_t indent,
		      size_t width)
{
	const char *p = safe;
	int line_start = 1, space = 0;

	while (*p) {
		size_t w, n;

		if (*p == '\n' || *p == ' ') {
			if (*p == '\n') {
				fprintf(f, "\n%*s", (int)indent, "");
				col = indent;
				line_start = 1;
			}
			space = !line_start && *p == ' ';
			p++;
			continue;
		}
		n = piece_len(p, &w);
		if (!line_start && col + (size_t)space + w > width) {
			fprintf(f, "\n%*s", (int)indent, "");
			col = indent;
		} else if (space) {
			fputc(' ', f);
			col++;
		}
		if (col + w > width) {
			char *word = gm_xmemdup(p, n + 1);

			word[n] = '\0';
			hard_break(f, word, &col, indent, width);
			free(word);
		} else {
			fwrite(p, 1, n, f);
			col += w;
		}
		line_start = 0;
		space = 0;
		p += n;
	}
	fputc('\n', f);
}

void gm_wrap(FILE *f, const char *text, size_t col, size_t indent,
	     size_t width)
{
	char *safe = sanitize_lines(text ? text : "");

	wrap_safe(f, safe, col, indent, width);
	free(safe);
}

void gm_wrap_line(FILE *f, const char *text, size_t col, size_t indent,
		  size_t width)
{
	char *safe = gm_sanitize(text ? text : "");

	wrap_safe(f, safe, col, indent, width);
	free(safe);
}

void gm_print_cell_right(FILE *f, const char *s, size_t width)
{
	size_t w = gm_display_width(s ? s : "");

	for (; w < width; w++)
		fputc(' ', f);
	gm_print_cell(f, s, width < gm_display_width(s ? s : "") ? width :
		      gm_display_width(s ? s : ""));
}
