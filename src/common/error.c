/* error.c - the gm_error value: what failed, why, and what to do. */
#include <stdio.h>
#include <string.h>

#include "gmrenew/common.h"

static const char *(*text_fn)(const char *);

void gm_set_text_fn(const char *(*fn)(const char *msgid))
{
	text_fn = fn;
}

/* "" stays "" (gettext would give the catalogue's header). */
const char *gm_text(const char *msgid)
{
	if (!msgid || !*msgid || !text_fn)
		return msgid;
	return text_fn(msgid);
}

int gm_failv(gm_error *err, gm_exit code, const char *fix, const char *fmt,
	     va_list ap)
{
	if (!err)
		return -1;
	err->code = code;
	err->detail = 0;
	err->reason[0] = '\0';
	vsnprintf(err->msg, sizeof(err->msg), gm_text(fmt), ap);
	snprintf(err->fix, sizeof(err->fix), "%s", fix ? gm_text(fix) : "");
	return -1;
}

int gm_fail(gm_error *err, gm_exit code, const char *fix, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gm_failv(err, code, fix, fmt, ap);
	va_end(ap);
	return -1;
}

int gm_error_prefix(gm_error *err, const char *fmt, ...)
{
	char joined[2 * GM_ERR_MSG_MAX + 2];
	va_list ap;
	int n;

	if (!err)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(joined, GM_ERR_MSG_MAX, gm_text(fmt), ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if (n >= GM_ERR_MSG_MAX)
		n = GM_ERR_MSG_MAX - 1;
	memcpy(joined + n, ": ", 2);
	memcpy(joined + n + 2, err->msg, GM_ERR_MSG_MAX);
	joined[sizeof(joined) - 1] = '\0';
	memcpy(err->msg, joined, GM_ERR_MSG_MAX - 1);
	err->msg[GM_ERR_MSG_MAX - 1] = '\0';
	return -1;
}

int gm_error_set_reason(gm_error *err, const char *reason)
{
	if (err)
		snprintf(err->reason, sizeof(err->reason), "%s",
			 reason ? reason : "");
	return -1;
}

int gm_error_set_fix(gm_error *err, const char *fix)
{
	if (err)
		snprintf(err->fix, sizeof(err->fix), "%s",
			 fix ? gm_text(fix) : "");
	return -1;
}

void gm_error_clear(gm_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}
