/* st_fault.c - call accounting and fault switches of the soft ePass3000GM. */
#include "st_fault.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define GMSOFT_FN_NAME(name) #name,
static const char *const fn_names[FN_COUNT] = {
	GMSOFT_FUNCTIONS(GMSOFT_FN_NAME)
	GMSOFT_SKF_FUNCTIONS(GMSOFT_FN_NAME)
};
#undef GMSOFT_FN_NAME

const char *gmsoft_fn_name(enum gmsoft_fn fn)
{
	return (unsigned)fn < FN_COUNT ? fn_names[fn] : "C_GetFunctionList";
}

int gmsoft_fn_is_skf(enum gmsoft_fn fn)
{
	return fn >= FN_SKF_WaitForDevEvent && fn < FN_COUNT;
}

static int fn_parse(const char *name, enum gmsoft_fn *fn)
{
	for (int i = 0; i < FN_COUNT; i++) {
		if (strcmp(fn_names[i], name) == 0) {
			*fn = (enum gmsoft_fn)i;
			return 0;
		}
	}
	return -1;
}

static int parse_ulong(const char *text, unsigned long *value)
{
	char *end;

	if (!text || text[0] < '0' || text[0] > '9')
		return -1;
	errno = 0;
	*value = strtoul(text, &end, 10);
	return (errno || *end) ? -1 : 0;
}

static CK_RV bad(const char *var, const char *value, const char *why)
{
	fprintf(stderr, "gmsofttoken: bad %s '%s': %s\n", var, value, why);
	return CKR_ARGUMENTS_BAD;
}

/* One "C_Sign:2:CKR_DEVICE_ERROR" item; item is modified. */
static CK_RV parse_fail_item(struct gmsoft_faults *f, char *item)
{
	char *nth = strchr(item, ':');
	char *rv = nth ? strchr(nth + 1, ':') : NULL;
	struct gmsoft_fail_rule *r;

	if (!rv)
		return bad("GMSOFT_FAIL", item, "want FUNCTION:N:CKR_NAME or SKF_FUNCTION:N:SAR_NAME");
	*nth++ = '\0';
	*rv++ = '\0';
	if (f->nfail == GMSOFT_MAX_FAIL_RULES)
		return bad("GMSOFT_FAIL", item, "too many rules");
	r = &f->fail[f->nfail];
	if (fn_parse(item, &r->fn))
		return bad("GMSOFT_FAIL", item, "unknown function");
	if (parse_ulong(nth, &r->nth) || r->nth == 0)
		return bad("GMSOFT_FAIL", nth, "call number must be 1 or more");
	if (gmsoft_fn_is_skf(r->fn) ? gmsoft_sar_parse(rv, &r->rv) :
				      gmsoft_rv_parse(rv, &r->rv))
		return bad("GMSOFT_FAIL", rv, "unknown return value");
	f->nfail++;
	return CKR_OK;
}

static CK_RV parse_fail(struct gmsoft_faults *f, const char *value)
{
	char *copy = strdup(value), *save = NULL, *item;
	CK_RV rv = CKR_OK;

	if (!copy)
		return CKR_HOST_MEMORY;
	for (item = strtok_r(copy, ",", &save); item && rv == CKR_OK;
	     item = strtok_r(NULL, ",", &save))
		rv = parse_fail_item(f, item);
	free(copy);
	return rv;
}

static CK_RV parse_latency_item(struct gmsoft_faults *f, char *item)
{
	char *colon = strchr(item, ':');
	unsigned long ms;

	if (!colon)
		return bad("GMSOFT_LATENCY", item, "want NAME:MS");
	*colon = '\0';
	if (parse_ulong(colon + 1, &ms))
		return bad("GMSOFT_LATENCY", colon + 1, "not a number");
	if (!strcmp(item, "call"))
		f->latency_call = ms;
	else if (!strcmp(item, "keygen"))
		f->latency_keygen = ms;
	else if (!strcmp(item, "sign"))
		f->latency_sign = ms;
	else
		return bad("GMSOFT_LATENCY", item, "want call, keygen or sign");
	return CKR_OK;
}

static CK_RV parse_latency(struct gmsoft_faults *f, const char *value)
{
	char *copy = strdup(value), *save = NULL, *item;
	CK_RV rv = CKR_OK;

	if (!copy)
		return CKR_HOST_MEMORY;
	for (item = strtok_r(copy, ",", &save); item && rv == CKR_OK;
	     item = strtok_r(NULL, ",", &save))
		rv = parse_latency_item(f, item);
	free(copy);
	return rv;
}

static CK_RV env_ulong(const char *var, unsigned long *value)
{
	const char *text = getenv(var);

	*value = 0;
	if (!text || !*text)
		return CKR_OK;
	if (parse_ulong(text, value))
		return bad(var, text, "not a number");
	return CKR_OK;
}

static CK_RV load_numbers(struct gmsoft_faults *f)
{
	unsigned long slot = 0;
	CK_RV rv = env_ulong("GMSOFT_REMOVE_AT", &f->remove_at);

	rv = rv ? rv : env_ulong("GMSOFT_KILL_AT", &f->kill_at);
	rv = rv ? rv : env_ulong("GMSOFT_KILL_AFTER", &f->kill_after);
	rv = rv ? rv : env_ulong("GMSOFT_KILL_IN_WRITE", &f->kill_in_write);
	rv = rv ? rv : env_ulong("GMSOFT_LIE_LENGTH", &f->lie_length);
	rv = rv ? rv : env_ulong("GMSOFT_FIND_MAX", &f->find_max);
	f->remove_all = !getenv("GMSOFT_REMOVE_SLOT");
	rv = rv ? rv : env_ulong("GMSOFT_REMOVE_SLOT", &slot);
	f->remove_slot = slot;
	rv = rv ? rv : env_ulong("GMSOFT_UNWRAP", &slot);
	if (rv == CKR_OK && slot > 1)
		return bad("GMSOFT_UNWRAP", getenv("GMSOFT_UNWRAP"),
			   "not 0 or 1");
	f->unwrap = slot == 1;
	return rv;
}

CK_RV gmsoft_faults_load(struct gmsoft_faults *f)
{
	const char *fail = getenv("GMSOFT_FAIL");
	const char *latency = getenv("GMSOFT_LATENCY");
	const char *trace = getenv("GMSOFT_TRACE");
	CK_RV rv;

	memset(f, 0, sizeof(*f));
	rv = load_numbers(f);
	if (rv == CKR_OK && fail && *fail)
		rv = parse_fail(f, fail);
	if (rv == CKR_OK && latency && *latency)
		rv = parse_latency(f, latency);
	if (rv == CKR_OK && trace && *trace) {
		if (strlen(trace) >= sizeof(f->trace))
			return bad("GMSOFT_TRACE", trace, "path too long");
		memcpy(f->trace, trace, strlen(trace) + 1);
	}
	return rv;
}

CK_RV gmsoft_faults_forced(const struct gmsoft_faults *f, enum gmsoft_fn fn,
			   unsigned long nth)
{
	for (size_t i = 0; i < f->nfail; i++)
		if (f->fail[i].fn == fn && f->fail[i].nth == nth)
			return f->fail[i].rv;
	return CKR_OK;
}

void gmsoft_trace(const struct gmsoft_faults *f, unsigned long index,
		  enum gmsoft_fn fn, const char *result)
{
	char line[128];
	int n, fd;

	if (!f->trace[0])
		return;
	n = snprintf(line, sizeof(line), "%lu %s %s\n", index,
		     gmsoft_fn_name(fn), result);
	if (n <= 0 || (size_t)n >= sizeof(line))
		return;
	/* One write(2) per line on an O_APPEND descriptor: nothing is left
	 * in a buffer if the process dies next. */
	fd = open(f->trace, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (write(fd, line, (size_t)n) != n)
		(void)0;
	close(fd);
}

/* The call in progress (the module's mutex is held): when it began and how
 * long it lasts at least. */
static struct timespec call_start;
static unsigned long call_budget_ms;

void gmsoft_latency_start(unsigned long ms)
{
	clock_gettime(CLOCK_MONOTONIC, &call_start);
	call_budget_ms = ms;
}

void gmsoft_latency_add(unsigned long ms)
{
	call_budget_ms += ms;
}

/* Sleeps until the call's start plus its budget; at once when its work
 * took longer already (the time asked for is in the past). */
void gmsoft_latency_finish(void)
{
	struct timespec end = call_start;

	if (!call_budget_ms)
		return;
	end.tv_sec += (time_t)(call_budget_ms / 1000);
	end.tv_nsec += (long)(call_budget_ms % 1000) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &end, NULL) ==
	       EINTR)
		;
}
